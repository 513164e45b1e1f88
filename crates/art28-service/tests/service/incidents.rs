//! The incident register through its door, [`Incidents`], with an injected clock: deadlines
//! raised once each; every call a customer makes leaves exactly one entry in its access log;
//! a send leaves one entry per customer told; and another customer's incident or notice is
//! answered as one that does not exist, leaving nothing in that customer's log.

use art28_core::ErrorCode;
use art28_core::access::{AccessEntry, Actor, ActorKind, Decision};
use art28_core::auth::{Grant, Principal, Role};
use art28_core::ids::CustomerId;
use art28_core::incident::{BreachAction, DeadlineState, Details, IncidentKind, Step};
use art28_crypto::{Key, Keyring, MasterKey};
use art28_service::access::RequestContext;
use art28_service::clock::{Clock, ManualClock};
use art28_service::incidents::{Incidents, Raised, Report};
use art28_service::vault::{ErasureJournal, Vault};
use art28_store::prelude::*;
use art28_store::{DeliveryOutcome, IncidentRecord};
use jiff::SignedDuration;
use std::sync::Arc;

const BAKKERIJ: &str = "bakkerij-de-vries";
const HANZEVELD: &str = "hanzeveld-installatietechniek";

/// The store under test, as the service sees it.
fn open_store(dir: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(art28_store::sqlite::SqliteStore::open(&dir.join("db.sqlite")).expect("open"))
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    incidents: Incidents,
}

/// The demo customers, and the register over them at `now`.
async fn world(now: &str) -> World {
    let dir = tempfile::tempdir().expect("tmp");
    let store = open_store(dir.path());
    let clock = Arc::new(ManualClock::new(now.parse().expect("ts")));
    art28_service::demo::load_demo(store.as_ref(), clock.as_ref())
        .await
        .expect("demo");
    let vault = Arc::new(Vault::new(
        store.clone(),
        clock.clone(),
        Keyring::new(MasterKey::new(Key::generate()), Vec::new()),
        ErasureJournal::new(dir.path().join("erasures.journal")),
    ));
    let incidents = Incidents::new(store.clone(), clock.clone(), vault);
    World {
        _dir: dir,
        store,
        clock,
        incidents,
    }
}

fn id(s: &str) -> CustomerId {
    s.parse().expect("id")
}

fn officer() -> Principal {
    Principal {
        account_id: 7,
        username: "sanne.security".into(),
        grants: vec![Grant::staff(Role::SecurityOfficer).expect("grant")],
        token_limit: None,
    }
}

fn representative(role: Role, tenant: &str) -> Principal {
    Principal {
        account_id: 0, // no account row: its security events name the user only
        username: format!("{}-{tenant}", role.as_str()),
        grants: vec![Grant::customer(role, id(tenant)).expect("grant")],
        token_limit: None,
    }
}

fn ctx(who: &Principal) -> RequestContext {
    RequestContext::of(Actor {
        kind: ActorKind::User,
        id: who.username.clone(),
    })
}

fn details() -> Details {
    Details {
        summary: "Laptop with an unencrypted export stolen".into(),
        actions: vec![BreachAction::Theft],
        cause: "Stolen from a car".into(),
        failed_measure: "Disk encryption was off".into(),
        ..Details::default()
    }
}

fn report(details: Details) -> Report {
    Report {
        kind: IncidentKind::SecurityIncident,
        source: None,
        aware_at: None,
        reporter: None,
        reported_to: None,
        details,
    }
}

/// A customer's access log, decoded.
async fn log_of(store: &dyn Store, tenant: &str) -> Vec<AccessEntry> {
    let size = store.log_size().await.expect("size");
    store
        .tenant_log(&id(tenant), 0, size, 10_000)
        .await
        .expect("log")
        .iter()
        .map(|e| AccessEntry::from_bytes(&e.bytes).expect("entry"))
        .collect()
}

/// A staff report found to be a breach that touches `customers`.
async fn breach(w: &World, customers: &[&str]) -> IncidentRecord {
    let who = officer();
    let i = &w.incidents;
    let inc = i
        .report(&ctx(&who), &who, None, report(details()))
        .await
        .expect("report");
    let inc = i
        .step(&who, inc.id, inc.version, Step::Triage, None)
        .await
        .expect("triage");
    let inc = i
        .step(&who, inc.id, inc.version, Step::Breach, None)
        .await
        .expect("breach");
    let add = customers.iter().map(|c| (id(c), None)).collect();
    i.set_customers(&ctx(&who), &who, inc.id, inc.version, add, vec![])
        .await
        .expect("customers")
}

#[tokio::test]
async fn due_soon_and_overdue_first_notices_are_raised_once_each_and_stop_when_delivered() {
    let w = world("2026-11-22T10:00:00Z").await;
    let (store, clock, i) = (w.store.as_ref(), w.clock.as_ref(), &w.incidents);
    let who = officer();
    let inc = breach(&w, &[HANZEVELD]).await;
    let mut raised = Raised::new();
    let events = || async {
        store
            .security_events(0, 1000)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| e.kind.starts_with("breach_notice_"))
            .map(|e| e.kind)
            .collect::<Vec<_>>()
    };

    // 48 h term: nothing to raise at first, due soon 37 h in, overdue after 48 h.
    assert_eq!(i.raise_alerts(&mut raised).await.expect("raise"), 0);
    clock.advance(SignedDuration::from_hours(37));
    let alerts = i.alerts().await.expect("alerts");
    assert_eq!(
        alerts.iter().map(|a| a.state).collect::<Vec<_>>(),
        vec![DeadlineState::DueSoon]
    );
    assert_eq!(alerts[0].controller_due_at, "2026-11-25T10:00:00Z".parse().expect("ts"));
    assert_eq!(i.raise_alerts(&mut raised).await.expect("raise"), 1);
    assert_eq!(i.raise_alerts(&mut raised).await.expect("raise"), 0, "once");
    clock.advance(SignedDuration::from_hours(12));
    assert_eq!(i.raise_alerts(&mut raised).await.expect("raise"), 1);
    assert_eq!(events().await, vec!["breach_notice_due_soon", "breach_notice_overdue"]);

    // A send naming a stale version is refused and queues nothing.
    let stale = i
        .send(&ctx(&who), &who, inc.id, inc.version - 1, None)
        .await
        .expect_err("stale version");
    assert_eq!(stale.code, ErrorCode::IncidentVersionConflict);
    assert!(store.notices(Some(inc.id), None).await.expect("notices").is_empty());
    assert_eq!(i.alerts().await.expect("alerts").len(), 1);

    // Queued is not enough; delivered is.
    let (_, notices) = i.send(&ctx(&who), &who, inc.id, inc.version, None).await.expect("send");
    assert_eq!(i.alerts().await.expect("alerts").len(), 1);
    for d in notices.iter().flat_map(|n| &n.deliveries) {
        store
            .record_delivery(d.id, &DeliveryOutcome::Sent(clock.now()))
            .await
            .expect("sent");
    }
    assert!(i.alerts().await.expect("alerts").is_empty());
    let deadlines = i.deadlines(&ctx(&who), &who, None).await.expect("deadlines");
    assert_eq!(deadlines[0].state, DeadlineState::MetLate);

    // Closed incidents are not changed any more.
    let inc = store.incident(inc.id).await.expect("read").expect("there");
    let inc = i
        .step(&who, inc.id, inc.version, Step::Close, Some("done"))
        .await
        .expect("close");
    let e = i
        .update_details(&who, inc.id, inc.version, Details::default())
        .await
        .expect_err("closed");
    assert_eq!(e.code, ErrorCode::IncidentInvalid, "an empty summary is refused first");
    let mut d = inc.details.clone();
    d.consequences = "none known".into();
    let e = i
        .update_details(&who, inc.id, inc.version, d)
        .await
        .expect_err("closed");
    assert_eq!(e.code, ErrorCode::IncidentTransitionNotAllowed);
}

/// Run a customer's call and check it left exactly one entry in that customer's log, with the
/// operation, resource and decision (and rule) expected.
macro_rules! one_entry {
    ($w:expr, $tenant:expr, $call:expr, $op:expr, $resource:expr, $rule:expr) => {{
        let before = log_of($w.store.as_ref(), $tenant).await.len();
        let out = $call;
        let log = log_of($w.store.as_ref(), $tenant).await;
        assert_eq!(log.len(), before + 1, "{}: one entry", $op);
        let e = log.last().expect("entry");
        let resource: &str = $resource;
        assert_eq!((e.operation.as_str(), e.resource.as_str()), ($op, resource));
        let rule: Option<&str> = $rule;
        assert_eq!(e.rule.as_deref(), rule, "{}", $op);
        assert_eq!(
            e.decision,
            if rule.is_some() {
                Decision::Refused
            } else {
                Decision::Granted
            }
        );
        out
    }};
}

#[tokio::test]
async fn every_call_a_customer_makes_leaves_exactly_one_entry_in_its_log() {
    let w = world("2026-11-22T10:00:00Z").await;
    let i = &w.incidents;
    let admin = representative(Role::CustomerAdmin, HANZEVELD);
    let user = representative(Role::CustomerUser, HANZEVELD);
    let c = id(HANZEVELD);
    let (actx, uctx) = (ctx(&admin), ctx(&user));

    // Its own report: the entry is written with the incident.
    let own = one_entry!(
        w,
        HANZEVELD,
        i.report(&uctx, &user, Some(&c), report(details()))
            .await
            .expect("report"),
        "incident.report",
        "incidents",
        None
    );
    assert_eq!(own.reporter_tenant.as_ref(), Some(&c));
    // A bad report is refused with its rule, and registers nothing.
    let bad = one_entry!(
        w,
        HANZEVELD,
        i.report(&uctx, &user, Some(&c), report(Details::default()))
            .await
            .expect_err("no summary"),
        "incident.report",
        "incidents",
        Some("incident_invalid")
    );
    assert_eq!(bad.code, ErrorCode::IncidentInvalid);
    // Reads, each logged before it is answered; a user without the permission is refused.
    let refused = one_entry!(
        w,
        HANZEVELD,
        i.list(&uctx, &user, Some(&c)).await.expect_err("a user may not read"),
        "incident.read",
        "incidents",
        Some("permission_denied")
    );
    assert_eq!(refused.code, ErrorCode::PermissionDenied);
    let mine = one_entry!(
        w,
        HANZEVELD,
        i.list(&actx, &admin, Some(&c)).await.expect("list"),
        "incident.read",
        "incidents",
        None
    );
    assert_eq!(mine.len(), 1);
    one_entry!(
        w,
        HANZEVELD,
        i.get(&actx, &admin, Some(&c), own.id).await.expect("get"),
        "incident.read",
        &format!("incident/{}", own.id),
        None
    );
    one_entry!(
        w,
        HANZEVELD,
        i.export(&actx, &admin, Some(&c)).await.expect("export"),
        "incident.read",
        "incidents/export",
        None
    );
    one_entry!(
        w,
        HANZEVELD,
        i.deadlines(&actx, &admin, Some(&c)).await.expect("deadlines"),
        "incident.read",
        "incidents/deadlines",
        None
    );
    let missing = one_entry!(
        w,
        HANZEVELD,
        i.get(&actx, &admin, Some(&c), 999).await.expect_err("none"),
        "incident.read",
        "incident/999",
        Some("incident_not_found")
    );
    assert_eq!(missing.code, ErrorCode::IncidentNotFound);

    // Its webhook: set (the bad address refused), read, removed, and removed again (none).
    one_entry!(
        w,
        HANZEVELD,
        i.set_webhook(&actx, &admin, &c, "http://10.0.0.8/hook")
            .await
            .expect_err("private"),
        "webhook.set",
        "webhook",
        Some("webhook_invalid")
    );
    let (hook, secret) = one_entry!(
        w,
        HANZEVELD,
        i.set_webhook(&actx, &admin, &c, "https://hooks.hanzeveld.example/art28")
            .await
            .expect("set"),
        "webhook.set",
        "webhook",
        None
    );
    assert_eq!(secret.len(), 64, "a 32-byte secret in hex");
    let read = one_entry!(
        w,
        HANZEVELD,
        i.webhook(&actx, &admin, &c).await.expect("read"),
        "webhook.read",
        "webhook",
        None
    );
    assert_eq!(read, hook);

    // Told of a breach, it reads its notices and acknowledges one.
    let inc = breach(&w, &[HANZEVELD]).await;
    let who = officer();
    let (_, sent) = i.send(&ctx(&who), &who, inc.id, inc.version, None).await.expect("send");
    assert!(
        sent.iter().all(|n| n.deliveries.iter().any(|d| d.channel == "webhook")),
        "the webhook gets every notice"
    );
    let notices = one_entry!(
        w,
        HANZEVELD,
        i.notices(&actx, &admin, Some(&c), inc.id).await.expect("notices"),
        "notice.read",
        &format!("incident/{}/notices", inc.id),
        None
    );
    assert_eq!(notices.len(), sent.len());
    let n = notices[0].id;
    let acked = one_entry!(
        w,
        HANZEVELD,
        i.acknowledge(&actx, &admin, &c, n).await.expect("ack"),
        "notice.acknowledge",
        &format!("notice/{n}"),
        None
    );
    assert_eq!(acked.acknowledged_by.as_deref(), Some(admin.username.as_str()));
    one_entry!(
        w,
        HANZEVELD,
        i.acknowledge(&uctx, &user, &c, n).await.expect_err("a user may not"),
        "notice.acknowledge",
        &format!("notice/{n}"),
        Some("permission_denied")
    );

    one_entry!(
        w,
        HANZEVELD,
        i.remove_webhook(&actx, &admin, &c).await.expect("remove"),
        "webhook.set",
        "webhook",
        None
    );
    one_entry!(
        w,
        HANZEVELD,
        i.remove_webhook(&actx, &admin, &c).await.expect_err("none left"),
        "webhook.set",
        "webhook",
        Some("webhook_not_found")
    );

    // Staff reads across the register concern no one customer and leave no entry.
    let before = log_of(w.store.as_ref(), HANZEVELD).await.len();
    i.list(&ctx(&who), &who, None).await.expect("register");
    i.deadlines(&ctx(&who), &who, None).await.expect("deadlines");
    i.get(&ctx(&who), &who, None, inc.id).await.expect("one");
    i.notices(&ctx(&who), &who, None, inc.id).await.expect("notices");
    assert_eq!(log_of(w.store.as_ref(), HANZEVELD).await.len(), before);
}

#[tokio::test]
async fn naming_and_telling_customers_leaves_one_entry_in_each_ones_log() {
    let w = world("2026-11-22T10:00:00Z").await;
    let i = &w.incidents;
    let who = officer();
    let (b0, h0) = (
        log_of(w.store.as_ref(), BAKKERIJ).await.len(),
        log_of(w.store.as_ref(), HANZEVELD).await.len(),
    );
    let inc = breach(&w, &[HANZEVELD, BAKKERIJ]).await;
    for (tenant, before) in [(BAKKERIJ, b0), (HANZEVELD, h0)] {
        let log = log_of(w.store.as_ref(), tenant).await;
        assert_eq!(log.len(), before + 1, "{tenant}: named once");
        let e = &log[before];
        assert_eq!(
            (e.operation.as_str(), e.resource.clone(), &e.actor.id),
            (
                "incident.manage",
                format!("incident/{}/affected", inc.id),
                &who.username
            )
        );
    }

    let (inc, notices) = i.send(&ctx(&who), &who, inc.id, inc.version, None).await.expect("send");
    for tenant in [BAKKERIJ, HANZEVELD] {
        let log = log_of(w.store.as_ref(), tenant).await;
        let told: Vec<&AccessEntry> = log.iter().filter(|e| e.operation == "notice.send").collect();
        assert_eq!(told.len(), 1, "{tenant}: one entry for its notice(s)");
        let langs: Vec<&str> = notices
            .iter()
            .filter(|n| n.customer.as_str() == tenant)
            .map(|n| n.language.tag())
            .collect();
        assert!(!langs.is_empty());
        assert_eq!(
            told[0].resource,
            format!("incident/{}/notice/0?lang={}", inc.id, langs.join(","))
        );
        assert_eq!(told[0].time, w.clock.now(), "the bundle proves when it was told");
    }

    // An update tells only those already told; a customer taken off is told so in its log.
    let (inc, _) = i
        .send(&ctx(&who), &who, inc.id, inc.version, Some("The laptop was found."))
        .await
        .expect("update");
    let log = log_of(w.store.as_ref(), HANZEVELD).await;
    assert_eq!(
        log.last().map(|e| e.resource.clone()),
        Some(format!("incident/{}/notice/1?lang=nl", inc.id))
    );
    let other = breach(&w, &[HANZEVELD, BAKKERIJ]).await;
    let before = log_of(w.store.as_ref(), BAKKERIJ).await.len();
    let h_before = log_of(w.store.as_ref(), HANZEVELD).await.len();
    i.set_customers(
        &ctx(&who),
        &who,
        other.id,
        other.version,
        vec![],
        vec![id(BAKKERIJ), id("scheldepoort-documentbeheer")],
    )
    .await
    .expect("not affected");
    let log = log_of(w.store.as_ref(), BAKKERIJ).await;
    assert_eq!(log.len(), before + 1);
    assert_eq!(log[before].resource, format!("incident/{}/not-affected", other.id));
    assert_eq!(log_of(w.store.as_ref(), HANZEVELD).await.len(), h_before, "untouched");
    assert!(
        log_of(w.store.as_ref(), "scheldepoort-documentbeheer")
            .await
            .iter()
            .all(|e| !e.resource.starts_with("incident/")),
        "a customer that was never on the incident is not told it is off it"
    );
}

#[tokio::test]
async fn another_customers_incident_or_notice_is_answered_as_missing_and_leaves_nothing_in_its_log() {
    let w = world("2026-11-22T10:00:00Z").await;
    let i = &w.incidents;
    let who = officer();
    let inc = breach(&w, &[HANZEVELD]).await;
    let (_, notices) = i.send(&ctx(&who), &who, inc.id, inc.version, None).await.expect("send");
    let theirs = log_of(w.store.as_ref(), HANZEVELD).await;
    let admin = representative(Role::CustomerAdmin, BAKKERIJ);
    let b = id(BAKKERIJ);
    let actx = ctx(&admin);

    let e = one_entry!(
        w,
        BAKKERIJ,
        i.get(&actx, &admin, Some(&b), inc.id)
            .await
            .expect_err("not its incident"),
        "incident.read",
        &format!("incident/{}", inc.id),
        Some("incident_not_found")
    );
    assert_eq!(
        e.message,
        format!("there is no incident {}", inc.id),
        "as for one that does not exist"
    );
    let e = one_entry!(
        w,
        BAKKERIJ,
        i.notices(&actx, &admin, Some(&b), inc.id)
            .await
            .expect_err("not its notices"),
        "notice.read",
        &format!("incident/{}/notices", inc.id),
        Some("incident_not_found")
    );
    assert!(!e.message.contains(HANZEVELD));
    let n = notices[0].id;
    let e = one_entry!(
        w,
        BAKKERIJ,
        i.acknowledge(&actx, &admin, &b, n).await.expect_err("not its notice"),
        "notice.acknowledge",
        &format!("notice/{n}"),
        Some("notice_not_found")
    );
    assert!(!e.message.contains(HANZEVELD));
    assert!(
        i.list(&actx, &admin, Some(&b)).await.expect("list").is_empty(),
        "its list holds none of it"
    );
    assert_eq!(
        log_of(w.store.as_ref(), HANZEVELD).await,
        theirs,
        "nothing of it reaches the other customer's log"
    );
    // Through the other customer's route the caller is refused before anything is read; the
    // attempt is that customer's to see, and names no incident of it.
    let e = i
        .get(&actx, &admin, Some(&id(HANZEVELD)), inc.id)
        .await
        .expect_err("another customer's route");
    assert_eq!(e.code, ErrorCode::TenantMismatch);
    let now = log_of(w.store.as_ref(), HANZEVELD).await;
    assert_eq!(now.len(), theirs.len() + 1);
    assert_eq!(
        (now[theirs.len()].decision, now[theirs.len()].rule.as_deref()),
        (Decision::Refused, Some("tenant_mismatch"))
    );
}
