//! What the demo's people do once their accounts exist, each step through its door, so every
//! customer's log holds the entries real use leaves:
//!
//! 1. Anke de Vries (customer administrator of Bakkerij de Vries) defines the collection
//!    `klanten`, the bakery's loyalty card holders; Sem Jansen (shop) imports 16 fictional
//!    customers, looks one up by e-mail and reads a record; a list for `marketing`, a purpose
//!    the agreement does not list, is refused.
//! 2. Daan Mulder (service desk) asks for access to the bakery for a support ticket, granted at
//!    once by its agreement, and lists the collection under that grant. Lieke Bakker
//!    (consultant) gets a grant too, which Anke ends. Daan asks Scheldepoort, whose agreement
//!    wants its approval: that request waits for Lotte Peeters.
//! 3. Sanne Visser (security officer) registers that Daan's session was misused, finds it a
//!    breach, scopes it from the access log and queues the first notices to the bakery's
//!    breach contacts. Without an SMTP relay they wait in the outbox (pending); with one,
//!    the outbox sends them.

use super::people::{BAKKERIJ, Doors, SCHELDEPOORT, as_person, failed};
use art28_core::auth::{AccessReason, Principal};
use art28_core::ids::CustomerId;
use art28_core::incident::{BreachAction, Details, Impact, IncidentKind, Step};
use art28_core::vault::{CollectionDef, FieldDef, IdentifierKind, Values};
use art28_core::{Error, ErrorCode, ErrorKind, Result};
use art28_store::AccountRecord;
use jiff::SignedDuration;
use std::collections::BTreeMap;

/// The demo's collection at the bakery.
pub const COLLECTION: &str = "klanten";
/// The summary of the demo's incident, by which a later start knows the demo is whole.
pub const INCIDENT_SUMMARY: &str =
    "Sessie van een servicedeskmedewerker misbruikt (a service desk engineer's session was misused)";

/// Fictional loyalty card holders: name, e-mail, mobile number, place.
const CUSTOMERS: &[(&str, &str, &str, &str)] = &[
    ("Jan Wierenga", "jan.wierenga@example.nl", "06 1234 5601", "Appingedam"),
    ("Grietje Smit", "grietje.smit@example.nl", "06 1234 5602", "Appingedam"),
    ("Klaas Bosma", "klaas.bosma@example.nl", "06 1234 5603", "Delfzijl"),
    (
        "Aaltje Hoekstra",
        "aaltje.hoekstra@example.nl",
        "06 1234 5604",
        "Loppersum",
    ),
    (
        "Pieter de Boer",
        "pieter.deboer@example.nl",
        "06 1234 5605",
        "Appingedam",
    ),
    ("Fenna Mulder", "fenna.mulder@example.nl", "06 1234 5606", "Farmsum"),
    (
        "Hendrik Kuipers",
        "hendrik.kuipers@example.nl",
        "06 1234 5607",
        "Delfzijl",
    ),
    (
        "Roelie Dijkstra",
        "roelie.dijkstra@example.nl",
        "06 1234 5608",
        "Wagenborgen",
    ),
    (
        "Sjoerd Huizinga",
        "sjoerd.huizinga@example.nl",
        "06 1234 5609",
        "Appingedam",
    ),
    ("Marije Venema", "marije.venema@example.nl", "06 1234 5610", "Tjamsweer"),
    (
        "Wietse Zijlstra",
        "wietse.zijlstra@example.nl",
        "06 1234 5611",
        "Garrelsweer",
    ),
    ("Hilje Postma", "hilje.postma@example.nl", "06 1234 5612", "Appingedam"),
    ("Derk Meijer", "derk.meijer@example.nl", "06 1234 5613", "Siddeburen"),
    ("Trijntje Kok", "trijntje.kok@example.nl", "06 1234 5614", "Delfzijl"),
    ("Anne Brouwer", "anne.brouwer@example.nl", "06 1234 5615", "Ten Post"),
    (
        "Willemijn Oosterhof",
        "willemijn.oosterhof@example.nl",
        "06 1234 5616",
        "Appingedam",
    ),
];

fn field(name: &str, category: &str, identifier: Option<IdentifierKind>, required: bool) -> FieldDef {
    FieldDef {
        name: name.into(),
        category: category.into(),
        identifier,
        required,
    }
}

/// Loyalty card holders; every category is one the bakery's agreement lists.
fn collection() -> CollectionDef {
    CollectionDef {
        name: COLLECTION.into(),
        fields: vec![
            field("naam", "identification", None, true),
            field("klantnummer", "identification", Some(IdentifierKind::Id), true),
            field("email", "contact", Some(IdentifierKind::Email), false),
            field("telefoon", "contact", Some(IdentifierKind::Phone), false),
            field("woonplaats", "contact", None, false),
        ],
    }
}

fn records() -> Vec<(String, Values)> {
    CUSTOMERS
        .iter()
        .zip(1001..)
        .map(|((name, email, phone, place), n)| {
            let number = format!("SK-{n}");
            let values: Values = [
                ("naam", *name),
                ("klantnummer", number.as_str()),
                ("email", *email),
                ("telefoon", *phone),
                ("woonplaats", *place),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            (format!("klant-{n}"), values)
        })
        .collect()
}

/// Whether the demo's incident is in the register (a staff read: no customer's log).
pub(crate) async fn is_told(doors: Doors<'_>, staff: &Principal) -> Result<bool> {
    let ctx = crate::access::RequestContext::of(art28_core::access::Actor::job("demo"));
    Ok(doors
        .incidents
        .list(&ctx, staff, None)
        .await?
        .iter()
        .any(|i| i.details.summary == INCIDENT_SUMMARY))
}

/// An expected refusal: the door logged it; only a failure of art28 itself stops the demo.
fn refused<T>(result: Result<T>) -> Result<()> {
    match result {
        Err(e) if matches!(e.kind(), ErrorKind::Internal | ErrorKind::Unavailable) => Err(e),
        _ => Ok(()),
    }
}

/// One of the demo's people, with the roles the register gives them.
struct Actor<'a> {
    account: &'a AccountRecord,
    who: Principal,
}

/// Everything after the accounts, in order (see the module's documentation).
pub(crate) async fn tell(doors: Doors<'_>, accounts: &BTreeMap<&'static str, AccountRecord>) -> Result<()> {
    let started = doors.clock.now();
    let person = |username: &'static str| async move {
        let account = accounts
            .get(username)
            .ok_or_else(|| Error::new(ErrorCode::Internal, format!("the demo has no account `{username}`")))?;
        let who = doors.accounts.principal(account).await?;
        Ok::<_, Error>(Actor { account, who })
    };
    let anke = person("beheer@bakkerij-de-vries.example").await?;
    let sem = person("winkel@bakkerij-de-vries.example").await?;
    let daan = person("support@noordlicht.example").await?;
    let lieke = person("consultant@noordlicht.example").await?;
    let sanne = person("security@noordlicht.example").await?;
    let bakkerij: CustomerId = BAKKERIJ.parse()?;
    let schelde: CustomerId = SCHELDEPOORT.parse()?;
    let purpose = Some("service_provision");

    // 1. The bakery's own use of its vault.
    let vault = doors.vault;
    vault
        .define_collection(&as_person(anke.account, None), &anke.who, &bakkerij, &collection())
        .await
        .map_err(|e| failed("collection", COLLECTION, e))?;
    let (ids, _) = vault
        .import(
            &as_person(sem.account, purpose),
            &sem.who,
            &bakkerij,
            COLLECTION,
            &records(),
        )
        .await
        .map_err(|e| failed("records of", COLLECTION, e))?;
    vault
        .query(
            &as_person(sem.account, purpose),
            &sem.who,
            &bakkerij,
            &crate::vault::Lookup::Identifier(IdentifierKind::Email, "Grietje.Smit@example.nl".into()),
        )
        .await?;
    if let Some(first) = ids.first() {
        vault
            .read(
                &as_person(anke.account, purpose),
                &anke.who,
                &bakkerij,
                COLLECTION,
                first,
            )
            .await?;
    }
    refused(
        vault
            .list(
                &as_person(sem.account, Some("marketing")),
                &sem.who,
                &bakkerij,
                COLLECTION,
                "",
                100,
            )
            .await,
    )?;

    // 2. Staff access: granted by the bakery's agreement, ended by the bakery, waiting at
    // Scheldepoort.
    let staff = doors.staff_access;
    let now = doors.clock.now();
    let in_days = |d: i64| now.checked_add(SignedDuration::from_hours(24 * d)).unwrap_or(now);
    staff
        .request(
            &as_person(daan.account, None),
            &daan.who,
            &bakkerij,
            AccessReason::SupportTicket,
            "SD-2417",
            in_days(2),
        )
        .await
        .map_err(|e| failed("access grant for", BAKKERIJ, e))?;
    vault
        .list(
            &as_person(daan.account, Some("customer_support")),
            &daan.who,
            &bakkerij,
            COLLECTION,
            "",
            100,
        )
        .await?;
    let ended = staff
        .request(
            &as_person(lieke.account, None),
            &lieke.who,
            &bakkerij,
            AccessReason::Migration,
            "PRJ-88",
            in_days(5),
        )
        .await
        .map_err(|e| failed("access grant for", BAKKERIJ, e))?;
    staff
        .revoke(&as_person(anke.account, None), &anke.who, &bakkerij, ended.id)
        .await?;
    staff
        .request(
            &as_person(daan.account, None),
            &daan.who,
            &schelde,
            AccessReason::InvestigateFault,
            "SD-2431",
            in_days(2),
        )
        .await
        .map_err(|e| failed("access grant for", SCHELDEPOORT, e))?;

    // 3. The breach.
    report_breach(doors, &sanne, &daan, started).await?;

    // 4. Sub-processors: the register, one new sub-processor announced to every customer, the
    // bakery's objection, and Scheldepoort's request for the list.
    let admin = person("admin@noordlicht.example").await?;
    subprocessors(doors, &admin, &anke, accounts).await
}

fn both(nl: &str, en: &str) -> art28_core::lang::Text {
    art28_core::lang::Text {
        nl: nl.into(),
        en: en.into(),
    }
}

/// The register as the example agreements list it, one more sub-processor announced.
async fn subprocessors(
    doors: Doors<'_>,
    admin: &Actor<'_>,
    anke: &Actor<'_>,
    accounts: &BTreeMap<&'static str, AccountRecord>,
) -> Result<()> {
    use art28_core::agreement::Safeguard;
    use art28_core::subprocessor::{ChangeKind, Entry};
    let sp = doors.subprocessors;
    let entry = |name: &str, service: (&str, &str), location: &str, region: Option<&str>| Entry {
        name: name.into(),
        service: both(service.0, service.1),
        purpose: both(
            "Het leveren van de dienst aan klanten",
            "Providing the service to customers",
        ),
        location: location.into(),
        region: region.map(str::to_string),
        access_locations: Vec::new(),
        categories: vec!["contact".into()],
        systems: Vec::new(),
        safeguard: None,
        safeguard_reference: None,
    };
    let mut entries = vec![
        Entry {
            systems: vec!["database".into(), "backups".into()],
            ..entry(
                "Wolkenveld Cloud GmbH",
                (
                    "Hosting van de applicatie en de back-ups",
                    "Hosting of the application and its backups",
                ),
                "DE",
                Some("Frankfurt am Main (eu-central-fra)"),
            )
        },
        Entry {
            systems: vec!["e-mail".into()],
            ..entry(
                "Briefduif Mailservices B.V.",
                ("Verzenden van facturen per e-mail", "Sending invoices by e-mail"),
                "NL",
                None,
            )
        },
        entry(
            "Rekencentrum Dollard B.V.",
            (
                "Colocatie en beheer van servers",
                "Colocation and management of servers",
            ),
            "NL",
            Some("Datacentrum Eemshaven"),
        ),
        Entry {
            safeguard: Some(Safeguard::StandardContractualClauses),
            safeguard_reference: Some("SCC 2021/914 module 3".into()),
            ..entry(
                "Sahyadri Support Services Pvt. Ltd.",
                (
                    "Tweedelijnsondersteuning buiten kantooruren",
                    "Second-line support outside office hours",
                ),
                "IN",
                Some("Pune"),
            )
        },
    ];
    entries.push(Entry {
        systems: vec!["monitoring".into()],
        categories: vec!["ip_address".into()],
        ..entry(
            "Helderlijn Monitoring B.V.",
            (
                "Bewaking van beschikbaarheid en prestaties",
                "Monitoring of availability and performance",
            ),
            "NL",
            Some("Groningen"),
        )
    });
    let mut ids = Vec::new();
    for e in entries {
        ids.push(
            sp.register(&admin.who, e)
                .await
                .map_err(|e| failed("sub-processor", "register", e))?
                .id,
        );
    }
    let today = sp.today();
    let signed = art28_core::date::Date(today.0.saturating_sub(jiff::Span::new().days(400)));
    if let Some(first) = ids.first() {
        let document = b"Verwerkersovereenkomst tussen Noordlicht Systemen B.V. en Wolkenveld Cloud GmbH (demo).\n";
        sp.put_contract(&admin.who, *first, signed, "wolkenveld-dpa.pdf", document)
            .await
            .map_err(|e| failed("contract of", "Wolkenveld Cloud GmbH", e))?;
    }
    let new = ids.last().copied().unwrap_or_default();
    let effective = art28_core::date::Date(today.0.saturating_add(jiff::Span::new().days(42)));
    let change = sp
        .announce(
            &as_person(admin.account, None),
            &admin.who,
            crate::subprocessors::Announce {
                kind: ChangeKind::Add,
                subprocessor: new,
                replaces: None,
                effective,
                note: both(
                    "Helderlijn bewaakt de beschikbaarheid van de dienst van buitenaf en ziet daarbij alleen IP-adressen en tijdstippen.",
                    "Helderlijn monitors the service's availability from outside and sees only IP addresses and times.",
                ),
                customers: Vec::new(),
            },
        )
        .await
        .map_err(|e| failed("announcement of", "Helderlijn Monitoring B.V.", e))?;
    let bakkerij: CustomerId = BAKKERIJ.parse()?;
    sp.object(
        &as_person(anke.account, None),
        &anke.who,
        &bakkerij,
        change.id,
        "Wij willen eerst weten of de monitoring ook klantgegevens van onze winkel kan zien.",
    )
    .await?;
    let schelde: CustomerId = SCHELDEPOORT.parse()?;
    if let Some(account) = accounts.get("beheer@scheldepoort.example") {
        let who = doors.accounts.principal(account).await?;
        sp.request_list(
            &as_person(account, None),
            &who,
            &schelde,
            "Graag de actuele lijst voor ons jaarlijkse privacyoverzicht.",
        )
        .await?;
    }
    Ok(())
}

async fn report_breach(doors: Doors<'_>, sanne: &Actor<'_>, daan: &Actor<'_>, started: jiff::Timestamp) -> Result<()> {
    let incidents = doors.incidents;
    let ctx = as_person(sanne.account, None);
    let who = &sanne.who;
    let details = Details {
        summary: INCIDENT_SUMMARY.into(),
        description: "Een sessiesleutel van een servicedeskmedewerker is via een phishingmail buitgemaakt en \
                      gebruikt om de spaarkaartklanten van een klant in te zien."
            .into(),
        systems: vec![COLLECTION.into()],
        impact: vec![Impact::Confidentiality],
        actions: vec![BreachAction::Reading],
        cause: "Phishing: de medewerker vulde zijn gegevens in op een nagemaakte inlogpagina.".into(),
        failed_measure: "De sessie was niet aan het apparaat van de medewerker gebonden.".into(),
        consequences: "Namen, e-mailadressen en telefoonnummers van klanten zijn mogelijk ingezien.".into(),
        measures_taken: "De sessies van de medewerker zijn beëindigd en zijn toegang is ingetrokken.".into(),
        ..Details::default()
    };
    let inc = incidents
        .report(
            &ctx,
            who,
            None,
            crate::incidents::Report {
                kind: IncidentKind::AccountMisuse,
                source: None,
                aware_at: None,
                reporter: None,
                reported_to: None,
                details,
            },
        )
        .await
        .map_err(|e| failed("incident", "report", e))?;
    let mut version = inc.version;
    for step in [Step::Triage, Step::Breach] {
        version = incidents.step(who, inc.id, version, step, None).await?.version;
    }
    let bakkerij: CustomerId = BAKKERIJ.parse()?;
    let now = doors.clock.now();
    let scopes = incidents
        .scope(
            who,
            &crate::incidents::ScopeQuery {
                from: started.checked_sub(SignedDuration::from_secs(1)).unwrap_or(started),
                to: now.checked_add(SignedDuration::from_secs(1)).unwrap_or(now),
                actors: vec![daan.account.username.clone()],
                systems: Vec::new(),
            },
        )
        .await?;
    let scope = scopes.into_iter().find(|s| s.customer == bakkerij);
    version = incidents
        .set_customers(&ctx, who, inc.id, version, vec![(bakkerij, scope)], Vec::new())
        .await?
        .version;
    incidents
        .send(&ctx, who, inc.id, version, None)
        .await
        .map_err(|e| failed("notices of incident", &inc.id.to_string(), e))?;
    Ok(())
}
