//! Every text the portal shows, in Dutch and English. Templates read them as `t.<key>`; a key
//! that is not here fails the page (the environment's undefined behaviour is strict), so a
//! missing translation is found by any test that renders the page.

use art28_core::Error;
use art28_core::ErrorCode;
use art28_core::auth::Role;
use art28_core::lang::Lang;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Key, Dutch, English.
const TEXTS: &[(&str, &str, &str)] = &[
    ("app_name", "art28", "art28"),
    ("skip", "Naar de inhoud", "Skip to content"),
    ("lang_name_nl", "Nederlands", "Nederlands"),
    ("lang_name_en", "English", "English"),
    ("switch_lang", "English", "Nederlands"),
    ("switch_lang_label", "Switch to English", "Schakel naar het Nederlands"),
    ("logged_in_as", "Ingelogd als", "Logged in as"),
    ("logout", "Uitloggen", "Log out"),
    ("password_link", "Wachtwoord wijzigen", "Change password"),
    ("nav_label", "Hoofdmenu", "Main menu"),
    ("nav_customers", "Klanten", "Customers"),
    ("nav_overview", "Overzicht", "Overview"),
    ("nav_agreement", "Verwerkersovereenkomst", "Processor agreement"),
    ("nav_log", "Toegangslog", "Access log"),
    ("nav_access", "Toegang door personeel", "Staff access"),
    ("nav_incidents", "Incidenten", "Incidents"),
    // sub-processors
    ("nav_subprocessors", "Subverwerkers", "Sub-processors"),
    ("sp_title", "Subverwerkers", "Sub-processors"),
    (
        "sp_intro",
        "Welke subverwerkers uw gegevens verwerken, welke wijzigingen zijn aangekondigd en wat u daarop heeft geantwoord. Elke aankondiging, elk bezwaar en elk besluit staat ook in uw toegangslog.",
        "Which sub-processors process your data, which changes have been announced, and how you answered. Every announcement, objection and decision is also an entry in your access log.",
    ),
    ("sp_in_force", "Van kracht op", "In force on"),
    ("sp_authorisation", "Toestemming", "Authorisation"),
    (
        "sp_general",
        "algemene schriftelijke toestemming (met bezwaarrecht)",
        "general written authorisation (with the right to object)",
    ),
    (
        "sp_specific",
        "specifieke voorafgaande schriftelijke toestemming",
        "specific prior written authorisation",
    ),
    ("sp_notice", "Aankondigingstermijn", "Notice period"),
    ("sp_on", "Datum", "Date"),
    ("sp_show", "Toon", "Show"),
    ("sp_name", "Subverwerker", "Sub-processor"),
    ("sp_service", "Dienst", "Service"),
    ("sp_purpose", "Doel", "Purpose"),
    ("sp_location", "Locatie", "Location"),
    ("sp_locations", "Locaties", "Locations"),
    ("sp_region", "Regio of datacentrum", "Region or data centre"),
    ("sp_access", "Toegang vanuit", "Accessed from"),
    ("sp_safeguard", "Waarborg doorgifte", "Transfer safeguard"),
    ("sp_reference", "Referentie waarborg", "Safeguard reference"),
    ("sp_since", "Sinds", "Since"),
    (
        "sp_categories",
        "Categorieën persoonsgegevens (id's, met komma's)",
        "Categories of personal data (ids, comma-separated)",
    ),
    (
        "sp_systems",
        "Systemen van klanten (met komma's)",
        "Customers' systems (comma-separated)",
    ),
    ("sp_none", "Er zijn geen subverwerkers.", "There are no sub-processors."),
    ("sp_download", "Downloaden", "Download"),
    ("sp_changes", "Aangekondigde wijzigingen", "Announced changes"),
    ("sp_change", "Wijziging", "Change"),
    ("sp_replaces", "Vervangt", "Replaces"),
    ("sp_effective", "Beoogde ingangsdatum", "Intended effective date"),
    ("sp_announced", "Aangekondigd", "Announced"),
    ("sp_objection_until", "Bezwaar mogelijk tot en met", "Objections until"),
    (
        "sp_termination_until",
        "Opzeggen mogelijk tot en met",
        "May end the agreement until",
    ),
    ("sp_history", "Verloop", "History"),
    ("sp_reasons", "Uw bezwaar, met redenen", "Your objection, with reasons"),
    ("sp_object", "Bezwaar maken", "Object"),
    ("sp_approval_note", "Toelichting (optioneel)", "Note (optional)"),
    ("sp_approve", "Toestemming geven", "Approve"),
    ("sp_reject", "Geen toestemming", "Do not approve"),
    (
        "sp_no_changes",
        "Er zijn geen wijzigingen aangekondigd.",
        "No changes have been announced.",
    ),
    ("sp_requests", "Verzoeken om de lijst", "Requests for the list"),
    ("sp_requested", "Gevraagd", "Requested"),
    ("sp_due", "Uiterlijk", "Due"),
    ("sp_answered", "Beantwoord", "Answered"),
    ("sp_no_requests", "Er zijn geen verzoeken.", "There are no requests."),
    (
        "sp_request_note",
        "Toelichting bij uw verzoek (optioneel)",
        "Note with your request (optional)",
    ),
    ("sp_request", "Vraag de actuele lijst op", "Request the current list"),
    ("sp_feed", "Feed", "Feed"),
    (
        "sp_feed_intro",
        "Volg de aankondigingen in een feedlezer (Atom). Het adres bevat een eigen sleutel; wie het adres heeft, kan de feed lezen.",
        "Follow the announcements in a feed reader (Atom). The address holds a key of its own; whoever has the address can read the feed.",
    ),
    ("sp_feed_show", "Toon het feedadres", "Show the feed address"),
    (
        "sp_feed_rotate",
        "Nieuwe sleutel (de oude vervalt)",
        "New key (the old one stops working)",
    ),
    (
        "sp_feed_shown",
        "Het adres van uw feed. Bewaar het; wie het heeft, kan de feed lezen.",
        "The address of your feed. Keep it; whoever has it can read the feed.",
    ),
    (
        "sp_register_title",
        "Register van subverwerkers",
        "Register of sub-processors",
    ),
    (
        "sp_register_intro",
        "De subverwerkers die de verwerker inschakelt, met waarborg en getekend contract; de wijzigingen die aan klanten zijn aangekondigd en hun antwoorden; verzoeken om de lijst.",
        "The sub-processors the processor engages, with their safeguard and signed contract; the changes announced to customers and their answers; requests for the list.",
    ),
    ("sp_contract", "Getekend contract", "Signed contract"),
    ("sp_no_contract", "nog niet vastgelegd", "not kept yet"),
    ("sp_objection", "Bezwaar", "Objection"),
    ("sp_decision", "Besluit", "Decision"),
    (
        "sp_decision_note",
        "Toelichting bij het besluit",
        "Explanation of the decision",
    ),
    ("sp_decide", "Besluiten", "Decide"),
    (
        "sp_answer",
        "Beantwoorden met de lijst van vandaag",
        "Answer with today's list",
    ),
    ("sp_announce_title", "Wijziging aankondigen", "Announce a change"),
    ("sp_kind", "Soort wijziging", "Kind of change"),
    ("sp_which", "Subverwerker", "Sub-processor"),
    ("sp_note_nl", "Toelichting (NL)", "Explanation (NL)"),
    ("sp_note_en", "Toelichting (EN)", "Explanation (EN)"),
    (
        "sp_customers",
        "Klanten (id's met komma's; leeg: alle klanten)",
        "Customers (ids, comma-separated; empty: every customer)",
    ),
    ("sp_announce", "Aankondigen", "Announce"),
    ("sp_new", "Subverwerker registreren", "Register a sub-processor"),
    ("sp_register", "Registreren", "Register"),
    // login
    ("login_title", "Inloggen", "Log in"),
    (
        "login_intro",
        "Log in met de gebruikersnaam en het wachtwoord die u van uw beheerder kreeg.",
        "Log in with the user name and password your administrator gave you.",
    ),
    ("username", "Gebruikersnaam", "User name"),
    ("password", "Wachtwoord", "Password"),
    ("login_button", "Inloggen", "Log in"),
    (
        "login_failed",
        "De gebruikersnaam of het wachtwoord klopt niet.",
        "The user name or password is wrong.",
    ),
    (
        "login_expired",
        "Het formulier was verlopen. Probeer het opnieuw.",
        "The form had expired. Please try again.",
    ),
    ("logged_out", "U bent uitgelogd.", "You are logged out."),
    // password
    ("password_title", "Wachtwoord wijzigen", "Change password"),
    (
        "password_forced",
        "Kies eerst een eigen wachtwoord: het wachtwoord dat u kreeg geldt maar één keer.",
        "First choose a password of your own: the one you were given works only once.",
    ),
    ("old_password", "Huidig wachtwoord", "Current password"),
    ("new_password", "Nieuw wachtwoord", "New password"),
    (
        "new_password_hint",
        "Minstens 12 tekens en moeilijk te raden; een zin van een paar woorden werkt goed.",
        "At least 12 characters and hard to guess; a sentence of a few words works well.",
    ),
    ("repeat_password", "Nieuw wachtwoord nogmaals", "New password again"),
    ("password_button", "Wachtwoord opslaan", "Save password"),
    (
        "password_mismatch",
        "De twee nieuwe wachtwoorden zijn niet gelijk.",
        "The two new passwords differ.",
    ),
    (
        "password_wrong",
        "Het huidige wachtwoord klopt niet.",
        "The current password is wrong.",
    ),
    (
        "password_changed",
        "Uw wachtwoord is gewijzigd. Uw andere sessies zijn beëindigd.",
        "Your password was changed. Your other sessions have ended.",
    ),
    // customer overview
    ("customer_title", "Overzicht", "Overview"),
    ("customer_status", "Status", "Status"),
    ("in_force", "Overeenkomst van kracht", "Agreement in force"),
    ("version", "Versie", "Version"),
    ("effective_from", "Van kracht sinds", "In force since"),
    (
        "no_agreement",
        "Er is op dit moment geen overeenkomst van kracht.",
        "No agreement is in force now.",
    ),
    (
        "overview_intro",
        "Hier ziet u wat de verwerker voor u bijhoudt: de overeenkomst, wie uw gegevens inzag, toegang door personeel en incidenten.",
        "Here you see what the processor keeps for you: the agreement, who looked at your data, staff access and incidents.",
    ),
    (
        "open_grants",
        "Verzoeken om toegang die op u wachten",
        "Access requests waiting for you",
    ),
    (
        "open_notices",
        "Meldingen die u nog niet bevestigde",
        "Notices you have not acknowledged yet",
    ),
    // agreement
    ("agreement_title", "Verwerkersovereenkomst", "Processor agreement"),
    ("history", "Geschiedenis", "History"),
    ("recorded", "Vastgelegd", "Recorded"),
    ("recorded_by", "door", "by"),
    ("show", "Bekijken", "Show"),
    ("showing_version", "U bekijkt versie", "You are viewing version"),
    ("download_html", "Downloaden (HTML)", "Download (HTML)"),
    ("download_md", "Downloaden (Markdown)", "Download (Markdown)"),
    (
        "changes",
        "Wat er veranderde ten opzichte van versie",
        "What changed since version",
    ),
    (
        "no_changes",
        "De tekst van het document veranderde niet.",
        "The text of the document did not change.",
    ),
    ("removed", "Weggehaald", "Removed"),
    ("added", "Toegevoegd", "Added"),
    // log
    ("log_title", "Toegangslog", "Access log"),
    (
        "log_intro",
        "Elke handeling met uw gegevens en elke weigering staat hier, in een log dat niet ongemerkt te wijzigen is. Uw browser kan van elke regel zelf narekenen dat hij in de ondertekende boom staat.",
        "Every operation on your data and every refusal is here, in a log that cannot be changed unnoticed. Your browser can check for itself that each line is in the signed tree.",
    ),
    ("checkpoint", "Ondertekend controlepunt", "Signed checkpoint"),
    ("tree_size", "Aantal regels in de boom", "Entries in the tree"),
    ("root_hash", "Wortel (SHA-256)", "Root (SHA-256)"),
    ("signed_at", "Ondertekend op", "Signed at"),
    ("when", "Wanneer", "When"),
    ("who", "Wie", "Who"),
    ("what", "Wat", "What"),
    ("decision", "Besluit", "Decision"),
    ("granted", "toegestaan", "granted"),
    ("refused", "geweigerd", "refused"),
    ("rule", "regel", "rule"),
    ("check", "Controle", "Check"),
    (
        "check_all",
        "Controleer alle regels in deze browser",
        "Check every line in this browser",
    ),
    ("check_pending", "nog niet gecontroleerd", "not checked yet"),
    ("check_ok", "in de boom", "in the tree"),
    ("check_bad", "NIET in de boom", "NOT in the tree"),
    (
        "check_needs_js",
        "Voor de controle in de browser is JavaScript nodig; zonder JavaScript controleert u het bewijspakket met art28 log verify.",
        "The check in the browser needs JavaScript; without it, check the evidence bundle with art28 log verify.",
    ),
    (
        "check_insecure",
        "De browser rekent alleen na op een beveiligde verbinding (https). Gebruik het bewijspakket met art28 log verify.",
        "The browser checks only over a secure connection (https). Use the evidence bundle with art28 log verify.",
    ),
    (
        "bundle",
        "Bewijspakket downloaden (voor art28 log verify)",
        "Download the evidence bundle (for art28 log verify)",
    ),
    ("older", "Verder", "Next"),
    ("no_entries", "Nog geen regels.", "No entries yet."),
    // staff access
    ("access_title", "Toegang door personeel", "Staff access"),
    (
        "access_intro",
        "Medewerkers van de verwerker komen alleen bij uw gegevens met een toegang die u goedkeurt, voor een reden en een beperkte tijd.",
        "The processor's staff reach your data only with an access you approve, for a reason and for a limited time.",
    ),
    ("staff_member", "Medewerker", "Staff member"),
    ("reason", "Reden", "Reason"),
    ("ticket", "Ticket", "Ticket"),
    ("requested_at", "Gevraagd op", "Requested at"),
    ("ends_at", "Loopt af op", "Ends at"),
    ("state", "Staat", "State"),
    ("actions", "Acties", "Actions"),
    ("approve", "Goedkeuren", "Approve"),
    ("reject", "Afwijzen", "Reject"),
    ("end", "Beëindigen", "End"),
    (
        "no_grants",
        "Er is nooit om toegang gevraagd.",
        "No access was ever requested.",
    ),
    ("grant_requested", "gevraagd", "requested"),
    ("grant_approved", "goedgekeurd", "approved"),
    ("grant_rejected", "afgewezen", "rejected"),
    ("grant_revoked", "beëindigd", "ended"),
    ("grant_expired", "verlopen", "expired"),
    ("decided_by", "door", "by"),
    ("done", "Gedaan.", "Done."),
    // incidents
    ("incidents_title", "Incidenten", "Incidents"),
    (
        "incidents_intro",
        "Elk incident dat uw gegevens raakte, met de meldingen die u kreeg.",
        "Every incident that touched your data, with the notices you received.",
    ),
    (
        "no_incidents",
        "Geen incidenten die u raken.",
        "No incidents that touch you.",
    ),
    ("incident", "Incident", "Incident"),
    ("aware_at", "Bekend sinds", "Known since"),
    ("notice_due", "Melding uiterlijk", "Notice due by"),
    ("notified_at", "Gemeld op", "Notified at"),
    ("notices", "Meldingen", "Notices"),
    ("no_notices", "Nog geen meldingen.", "No notices yet."),
    ("acknowledge", "Ontvangst bevestigen", "Acknowledge receipt"),
    ("acknowledged", "Bevestigd", "Acknowledged"),
    ("delivered", "Bezorgd", "Delivered"),
    ("pending", "Nog niet bezorgd", "Not delivered yet"),
    ("status_reported", "gemeld", "reported"),
    ("status_triaged", "beoordeeld", "triaged"),
    ("status_not_a_breach", "geen datalek", "not a breach"),
    ("status_breach", "datalek", "breach"),
    ("status_notified", "gemeld aan klanten", "customers notified"),
    ("status_closed", "gesloten", "closed"),
    // staff
    ("staff_customers_title", "Klanten", "Customers"),
    ("customer", "Klant", "Customer"),
    ("language", "Taal", "Language"),
    ("since", "Klant sinds", "Customer since"),
    ("nav_register", "Incidentenregister", "Incident register"),
    ("nav_security", "Beveiligingsgebeurtenissen", "Security events"),
    ("nav_permissions", "Rechtenregister", "Permission register"),
    ("register_title", "Incidentenregister", "Incident register"),
    (
        "register_intro",
        "Elk incident, gemeld door de verwerker, een subverwerker of een klant, met de klanten die het raakt.",
        "Every incident, reported by the processor, a sub-processor or a customer, with the customers it touches.",
    ),
    ("new_incident", "Nieuw incident melden", "Report a new incident"),
    ("summary", "Samenvatting", "Summary"),
    ("description", "Beschrijving", "Description"),
    ("summary_required", "Geef een samenvatting.", "Give a summary."),
    ("report_button", "Melden", "Report"),
    ("customers_affected", "Klanten die het raakt", "Customers it touches"),
    ("kind", "Soort", "Kind"),
    ("reported_by", "Gemeld door", "Reported by"),
    ("history_events", "Verloop", "History"),
    ("next_step", "Volgende stap", "Next step"),
    ("step_triage", "Beoordelen", "Triage"),
    ("step_breach", "Is een datalek", "Is a breach"),
    ("step_not_a_breach", "Geen datalek", "Not a breach"),
    ("step_close", "Sluiten", "Close"),
    (
        "step_reason",
        "Reden (verplicht bij geen datalek en sluiten)",
        "Reason (needed for not a breach and close)",
    ),
    ("add_customer", "Klant toevoegen", "Add a customer"),
    ("add_button", "Toevoegen", "Add"),
    (
        "send_notices",
        "Meldingen versturen aan klanten die nog niets hoorden",
        "Send notices to the customers not told yet",
    ),
    ("none", "Geen.", "None."),
    ("security_title", "Beveiligingsgebeurtenissen", "Security events"),
    ("event_kind", "Gebeurtenis", "Event"),
    ("detail", "Toelichting", "Detail"),
    ("client", "Adres", "Address"),
    ("permissions_title", "Rechtenregister", "Permission register"),
    (
        "permissions_intro",
        "Wie welke rol heeft, voor wie, sinds wanneer en van wie; beëindigde rechten blijven staan.",
        "Who holds which role, for whom, since when and granted by whom; ended grants stay listed.",
    ),
    ("account", "Account", "Account"),
    ("role", "Rol", "Role"),
    ("granted_at", "Gegeven", "Granted"),
    ("revoked_at", "Ingetrokken", "Revoked"),
    ("nav_tokens", "Tokens en webhook", "Tokens and webhook"),
    ("tokens_title", "Machinetokens en webhook", "Machine tokens and webhook"),
    (
        "tokens_intro",
        "Een token laat een systeem van u namens u werken: alleen voor deze handelingen en doelen, en tot de vervaldatum.",
        "A token lets a system of yours act for you: only for these operations and purposes, and until it expires.",
    ),
    ("token_new", "Nieuw token", "New token"),
    ("token_operations", "Handelingen", "Operations"),
    ("token_purposes", "Doelen", "Purposes"),
    ("token_days", "Geldig (dagen, 1 tot 365)", "Valid for (days, 1 to 365)"),
    ("token_create", "Token maken", "Create token"),
    (
        "token_secret",
        "Uw nieuwe token. Kopieer het nu: het wordt niet nog eens getoond.",
        "Your new token. Copy it now: it is not shown again.",
    ),
    (
        "token_days_invalid",
        "Kies een geldigheid van 1 tot 365 dagen.",
        "Choose a validity of 1 to 365 days.",
    ),
    (
        "token_needs_operation",
        "Kies minstens één handeling.",
        "Choose at least one operation.",
    ),
    ("token_id", "Token", "Token"),
    ("expires_at", "Verloopt", "Expires"),
    ("created", "Gemaakt", "Created"),
    ("revoke", "Intrekken", "Revoke"),
    ("revoked", "Ingetrokken", "Revoked"),
    ("no_tokens", "Nog geen tokens.", "No tokens yet."),
    ("webhook", "Webhook voor meldingen", "Webhook for notices"),
    (
        "webhook_intro",
        "Meldingen van datalekken gaan ook als ondertekend bericht naar dit adres (https).",
        "Breach notices also go to this address (https) as a signed message.",
    ),
    (
        "webhook_url",
        "Adres (leeg laten om te verwijderen)",
        "Address (leave empty to remove)",
    ),
    ("webhook_save", "Opslaan", "Save"),
    (
        "webhook_secret",
        "Het geheim waarmee u de handtekening controleert. Kopieer het nu: het wordt niet nog eens getoond.",
        "The secret to check the signature with. Copy it now: it is not shown again.",
    ),
    ("nav_deadlines", "Termijnen", "Deadlines"),
    ("deadlines_title", "Termijnen", "Deadlines"),
    (
        "deadlines_intro",
        "Elke termijn die loopt, uit de gebeurtenissen en de overeenkomst van elke klant berekend: te laat en bijna verlopen eerst.",
        "Every term that runs, computed from the events and each customer's agreement: overdue and due soon first.",
    ),
    ("computed_at", "berekend op", "computed at"),
    ("calendar_feed", "Agenda (iCalendar)", "Calendar (iCalendar)"),
    ("due", "Uiterlijk", "Due"),
    ("about", "Waarover", "About"),
    ("done_at", "Gedaan op", "Done at"),
    ("no_deadlines", "Geen termijnen.", "No deadlines."),
    ("customer_active", "actief", "active"),
    ("customer_suspended", "opgeschort", "suspended"),
    ("customer_terminated", "beëindigd", "terminated"),
    ("customer_erased", "gewist", "erased"),
    ("kind_security_incident", "beveiligingsincident", "security incident"),
    ("kind_account_misuse", "misbruik van een account", "account misuse"),
    (
        "kind_official_inspection",
        "inzage door een overheidsinstantie",
        "inspection by an authority",
    ),
    ("details_title", "Wat bekend is", "What is known"),
    ("details_save", "Gegevens opslaan", "Save details"),
    (
        "missing_for_notice",
        "Voor een melding ontbreekt nog",
        "A notice still needs",
    ),
    ("field_description", "Beschrijving", "Description"),
    ("field_cause", "Oorzaak", "Cause"),
    (
        "field_failed_measure",
        "Maatregel die tekortschoot",
        "Measure that failed",
    ),
    ("field_consequences", "Gevolgen", "Consequences"),
    ("field_recovery", "Herstel", "Recovery"),
    ("field_measures_taken", "Genomen maatregelen", "Measures taken"),
    (
        "field_measures_proposed",
        "Voorgestelde maatregelen",
        "Measures proposed",
    ),
    (
        "field_actions",
        "Wat er met de gegevens gebeurde",
        "What happened to the data",
    ),
    ("field_impact", "Wat er geraakt werd", "What was affected"),
    ("impact_confidentiality", "vertrouwelijkheid", "confidentiality"),
    ("impact_integrity", "integriteit", "integrity"),
    ("impact_availability", "beschikbaarheid", "availability"),
    ("action_reading", "ingezien", "read"),
    ("action_copying", "gekopieerd", "copied"),
    ("action_changing", "gewijzigd", "changed"),
    ("action_deleting", "verwijderd", "deleted"),
    ("action_theft", "gestolen", "stolen"),
    (
        "customer_id",
        "Klant (id, zoals bakkerij-de-vries)",
        "Customer (id, such as bakkerij-de-vries)",
    ),
    ("effective_from_lc", "van kracht sinds", "in force since"),
    (
        "source_toml",
        "Tekst zoals vastgelegd (TOML)",
        "Text as recorded (TOML)",
    ),
    // errors
    ("error_title", "Dit lukte niet", "That did not work"),
    ("error_code", "Code", "Code"),
    ("back_home", "Naar de beginpagina", "To the start page"),
    (
        "err_not_found",
        "Wat u zocht bestaat niet (of niet meer), of u mag het niet zien.",
        "What you asked for does not exist (or no longer), or you may not see it.",
    ),
    ("err_refused", "Dit mag u niet.", "You may not do this."),
    (
        "err_bad_request",
        "Het verzoek klopt niet.",
        "The request is not right.",
    ),
    (
        "err_internal",
        "Er ging aan onze kant iets mis. Probeer het later opnieuw.",
        "Something went wrong on our side. Please try again later.",
    ),
    (
        "err_too_large",
        "Het formulier bevat te veel.",
        "The form holds too much.",
    ),
    (
        "err_locked",
        "Dit account is tijdelijk geblokkeerd na te veel mislukte pogingen.",
        "This account is locked for a while after too many failed attempts.",
    ),
    (
        "err_throttled",
        "Te veel pogingen. Wacht even en probeer het opnieuw.",
        "Too many attempts. Wait a moment and try again.",
    ),
    (
        "err_weak",
        "Dit wachtwoord is te makkelijk te raden.",
        "This password is too easy to guess.",
    ),
    (
        "err_disabled",
        "Dit account is uitgeschakeld.",
        "This account is disabled.",
    ),
    (
        "err_conflict",
        "Dit kan niet in de huidige staat.",
        "This is not possible in the current state.",
    ),
    // roles
    (
        "role_processor_admin",
        "beheerder van de verwerker",
        "processor administrator",
    ),
    ("role_security_officer", "security officer", "security officer"),
    ("role_support_engineer", "supportmedewerker", "support engineer"),
    ("role_consultant", "consultant", "consultant"),
    ("role_customer_admin", "beheerder", "administrator"),
    ("role_customer_user", "gebruiker", "user"),
    ("role_customer_auditor", "auditor", "auditor"),
];

/// The texts of one language.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct Text(BTreeMap<&'static str, &'static str>);

static NL: LazyLock<Text> = LazyLock::new(|| Text(TEXTS.iter().map(|(k, nl, _)| (*k, *nl)).collect()));
static EN: LazyLock<Text> = LazyLock::new(|| Text(TEXTS.iter().map(|(k, _, en)| (*k, *en)).collect()));

/// The table of `lang`.
pub(crate) fn table(lang: Lang) -> &'static Text {
    match lang {
        Lang::Nl => &NL,
        Lang::En => &EN,
    }
}

impl Text {
    /// The text of `key` (the key itself if there is none, which a test would see).
    pub(crate) fn get(&self, key: &str) -> &'static str {
        self.0.get(key).copied().unwrap_or("?")
    }

    /// A role's name.
    pub(crate) fn role(&self, role: Role) -> &'static str {
        self.get(&format!("role_{}", role.as_str()))
    }

    /// What an error means to the reader. For the few rules a person meets in the portal the
    /// reader's own words; otherwise the kind of failure, then the service's own message.
    pub(crate) fn error(&self, e: &Error) -> String {
        use art28_core::error::ErrorKind as K;
        let specific = match e.code {
            ErrorCode::AccountLocked => Some("err_locked"),
            ErrorCode::LoginThrottled => Some("err_throttled"),
            ErrorCode::PasswordTooWeak => Some("err_weak"),
            ErrorCode::AccountDisabled | ErrorCode::AccountBlocked => Some("err_disabled"),
            ErrorCode::PayloadTooLarge => Some("err_too_large"),
            _ => None,
        };
        if let Some(k) = specific {
            return self.get(k).to_string();
        }
        let general = match e.kind() {
            K::NotFound if e.code == ErrorCode::RouteNotFound => return self.get("err_not_found").to_string(),
            K::NotFound => self.get("err_not_found"),
            K::Internal | K::Unavailable => return self.get("err_internal").to_string(),
            K::Refused | K::Unauthenticated => self.get("err_refused"),
            K::Conflict => self.get("err_conflict"),
            K::TooLarge => self.get("err_too_large"),
            K::Invalid => self.get("err_bad_request"),
        };
        format!("{general} ({})", e.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_there_once_with_both_texts() {
        let mut seen = std::collections::HashSet::new();
        for (k, nl, en) in TEXTS {
            assert!(seen.insert(*k), "{k} twice");
            assert!(!nl.is_empty() && !en.is_empty(), "{k} lacks a text");
        }
        for role in art28_core::auth::Role::ALL {
            assert_ne!(table(Lang::Nl).role(*role), "?", "{role}");
        }
    }
}
