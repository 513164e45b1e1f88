//! Security incidents and breach notices end to end, against a real SMTP server (aiosmtpd,
//! installed by scripts/test) and with the server's clock moved by hand.

use crate::accounts::{account, session_of};
use crate::aiosmtpd::{Smtp, free_port, header, raw_messages};
use crate::harness::{TestServer, code, start_mailing, start_mailing_loopback_hooks};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A received message: headers we look at, and the decoded body.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    pub(crate) to: String,
    pub(crate) subject: String,
    message_id: String,
    pub(crate) body: String,
}

fn decode_body(raw: &str) -> String {
    let (head, body) = raw
        .split_once("\n\n")
        .or_else(|| raw.split_once("\r\n\r\n"))
        .unwrap_or(("", raw));
    if head.to_ascii_lowercase().contains("content-transfer-encoding: base64") {
        use base64::Engine;
        let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(clean)
            .expect("base64 body");
        String::from_utf8(bytes).expect("utf-8 body")
    } else if head.to_ascii_lowercase().contains("quoted-printable") {
        let mut out = Vec::new();
        let joined = body.replace("=\r\n", "").replace("=\n", "");
        let b = joined.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let hex = (b[i] == b'=' && i + 2 < b.len())
                .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
                .flatten()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(v) => {
                    out.push(v);
                    i += 3;
                }
                None => {
                    out.push(b[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).expect("utf-8 body")
    } else {
        body.to_string()
    }
}

/// RFC 2047 subjects: lettre encodes non-ASCII subjects as `=?utf-8?b?…?=`.
fn decode_subject(s: &str) -> String {
    use base64::Engine;
    s.split_whitespace()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            if lower.starts_with("=?utf-8?b?") && w.ends_with("?=") {
                let inner = &w[10..w.len() - 2];
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(inner)
                        .unwrap_or_default(),
                )
                .unwrap_or_default()
            } else {
                format!("{w} ")
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

pub(crate) fn received(maildir: &Path) -> Vec<Mail> {
    raw_messages(maildir)
        .iter()
        .map(|raw| Mail {
            to: header(raw, "To"),
            subject: decode_subject(&header(raw, "Subject")),
            message_id: header(raw, "Message-ID"),
            body: decode_body(raw),
        })
        .collect()
}

/// Poll until `n` messages arrived (or fail after 20 s).
pub(crate) async fn wait_for_mail(maildir: &Path, n: usize) -> Vec<Mail> {
    eventually(&format!("expected {n} messages"), || async {
        let got = received(maildir);
        (got.len() >= n).then_some(got)
    })
    .await
}

pub(crate) async fn json_of(r: reqwest::Response) -> Value {
    let status = r.status();
    let text = r.text().await.expect("body");
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).expect("json")
}

/// Poll `probe` until it gives a value (or fail after 20 s, naming `what`).
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every delivery of an incident's notices, as staff see them.
pub(crate) async fn deliveries(s: &TestServer, id: u64) -> Vec<Value> {
    let n = json_of(
        s.get(&format!("/api/v1/incidents/{id}/notices"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    n.as_array()
        .expect("notices")
        .iter()
        .flat_map(|n| n["deliveries"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The webhook signature header for a body, computed independently of art28.
pub(crate) fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

async fn incident(s: &TestServer, id: u64) -> Value {
    json_of(s.get(&format!("/api/v1/incidents/{id}")).send().await.expect("send")).await
}

fn full_details() -> Value {
    json!({
        "summary": "Inloggegevens van een medewerker misbruikt / staff credentials misused",
        "description": "An account of a customer's user was used from an unknown address.",
        "period_start": "2026-11-22T06:00:00Z",
        "period_end": "2026-11-22T09:30:00Z",
        "systems": ["vault", "portal"],
        "impact": ["confidentiality"],
        "actions": ["reading", "copying"],
        "cause": "Phished password of a customer user",
        "failed_measure": "Two-factor authentication was not enforced for this account",
        "consequences": "Personal data of employees may have been seen",
        "recovery": "Sessions ended, password reset",
        "measures_taken": "Account blocked",
        "measures_proposed": "Enforce two-factor authentication"
    })
}

const BAKKER_RECORDS: &str = "/api/v1/customers/bakkerij-de-vries/vault/collections/employees/records";
const HANZE_RECORDS: &str = "/api/v1/customers/hanzeveld-installatietechniek/vault/collections/contacts/records";

/// Two customers with records; a rogue user at each reads some of them. Returns the rogue
/// user names and what each reached.
async fn seed(s: &TestServer) -> (String, String) {
    let c = &s.client;
    let anna = account(s, "anna.admin", "customer_admin", Some("bakkerij-de-vries")).await;
    let henk = account(s, "henk.admin", "customer_admin", Some("hanzeveld-installatietechniek")).await;
    let mallory = account(s, "mallory", "customer_user", Some("bakkerij-de-vries")).await;
    let trudy = account(s, "trudy", "customer_user", Some("hanzeveld-installatietechniek")).await;
    let r = c
        .post(s.url("/api/v1/customers/bakkerij-de-vries/vault/collections"))
        .bearer_auth(&anna)
        .json(&json!({"name": "employees", "fields": [
            {"name": "name", "category": "identification", "required": true},
            {"name": "email", "category": "contact", "identifier": "email"},
            {"name": "salary", "category": "salary"}
        ]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let r = c
        .post(s.url("/api/v1/customers/hanzeveld-installatietechniek/vault/collections"))
        .bearer_auth(&henk)
        .json(&json!({"name": "contacts", "fields": [
            {"name": "name", "category": "identification", "required": true},
            {"name": "phone", "category": "phone_number", "identifier": "phone"}
        ]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let mut bakker_ids = Vec::new();
    for i in 0..4 {
        let v = json_of(
            c.post(s.url(&format!("{BAKKER_RECORDS}?purpose=payroll")))
                .bearer_auth(&anna)
                .json(&json!({"subject": format!("emp-{}", i % 3), "values": {"name": format!("E{i}"), "email": format!("e{i}@x.nl"), "salary": "1"}}))
                .send()
                .await
                .expect("send"),
        )
        .await;
        bakker_ids.push(v["id"].as_str().expect("id").to_string());
    }
    for i in 0..3 {
        json_of(
            c.post(s.url(&format!("{HANZE_RECORDS}?purpose=customer_relationship_management")))
                .bearer_auth(&henk)
                .json(&json!({"subject": format!("client-{i}"), "values": {"name": format!("C{i}"), "phone": format!("06-1234567{i}")}}))
                .send()
                .await
                .expect("send"),
        )
        .await;
    }
    // The admins read too; they are not among the actors scoped below.
    let r = c
        .get(s.url(&format!("{BAKKER_RECORDS}/{}?purpose=payroll", bakker_ids[3])))
        .bearer_auth(&anna)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    // Mallory reads records 0 and 1 (subjects emp-0 and emp-1), record 0 twice; a refused
    // read (no purpose) reaches nothing.
    for id in [&bakker_ids[0], &bakker_ids[1], &bakker_ids[0]] {
        let r = c
            .get(s.url(&format!("{BAKKER_RECORDS}/{id}?purpose=payroll")))
            .bearer_auth(&mallory)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
    }
    let r = c
        .get(s.url(&format!("{BAKKER_RECORDS}/{}", bakker_ids[2])))
        .bearer_auth(&mallory)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "purpose_required");
    // Trudy lists the whole collection.
    let r = c
        .get(s.url(&format!("{HANZE_RECORDS}?purpose=customer_relationship_management")))
        .bearer_auth(&trudy)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    (anna, henk)
}

#[tokio::test]
async fn a_breach_is_scoped_from_the_log_notified_in_both_languages_and_late_notices_are_flagged() {
    let dir = tempfile::tempdir().expect("tmp");
    let maildir: PathBuf = dir.path().join("mail");
    let port = free_port();
    let smtp = Smtp::start(port, &maildir);
    let s = start_mailing(&dir.path().join("data"), &format!("127.0.0.1:{port}")).await;
    let _ = seed(&s).await;
    let c = &s.client;

    // Scoping: the window and the two rogue actors.
    let scope = json_of(
        s.post("/api/v1/incidents/scope")
            .json(
                &json!({"from": "2026-11-22T09:00:00Z", "to": "2026-11-22T11:00:00Z", "actors": ["mallory", "trudy"]}),
            )
            .send()
            .await
            .expect("send"),
    )
    .await;
    let by: BTreeMap<String, Value> = scope
        .as_array()
        .expect("scope")
        .iter()
        .map(|v| (v["customer"].as_str().expect("c").to_string(), v.clone()))
        .collect();
    assert_eq!(by.len(), 2, "{scope}");
    let b = &by["bakkerij-de-vries"];
    assert_eq!(
        (
            b["entries"].as_u64(),
            b["records"].as_u64(),
            b["data_subjects"].as_u64()
        ),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(b["categories"], json!(["contact", "identification", "salary"]));
    assert_eq!(b["subject_groups"], json!(["employees"]));
    let h = &by["hanzeveld-installatietechniek"];
    assert_eq!(
        (
            h["entries"].as_u64(),
            h["records"].as_u64(),
            h["data_subjects"].as_u64()
        ),
        (Some(1), Some(3), Some(3))
    );
    assert_eq!(h["categories"], json!(["identification", "phone_number"]));
    // Another window finds nothing; a bad window is refused.
    let none = json_of(
        s.post("/api/v1/incidents/scope")
            .json(&json!({"from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z", "actors": ["mallory"]}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(none, json!([]));
    // Narrowed to one system (collection), only the customer holding it remains.
    let narrowed = json_of(
        s.post("/api/v1/incidents/scope")
            .json(&json!({"from": "2026-11-22T09:00:00Z", "to": "2026-11-22T11:00:00Z", "actors": ["mallory", "trudy"], "systems": ["contacts"]}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(narrowed.as_array().map(Vec::len), Some(1), "{narrowed}");
    assert_eq!(narrowed[0]["customer"], "hanzeveld-installatietechniek");
    assert_eq!(narrowed[0]["records"], 3);
    let r = s
        .post("/api/v1/incidents/scope")
        .json(&json!({"from": "2026-11-22T11:00:00Z", "to": "2026-11-22T09:00:00Z"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "incident_invalid");

    // Register: aware now (10:00); the 48 h term ends 2026-11-24T10:00Z.
    let r = s
        .post("/api/v1/incidents")
        .json(&json!({"details": {"summary": "Suspicious reads by two customer users"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let inc = json_of(r).await;
    let id = inc["id"].as_u64().expect("id");
    assert_eq!(inc["status"], "reported");
    // The workflow refuses steps out of order, naming what comes next.
    let r = s
        .post(&format!("/api/v1/incidents/{id}/step"))
        .json(&json!({"version": 1, "step": "breach"}))
        .send()
        .await
        .expect("send");
    let (status, rule, body) = code(r).await;
    assert_eq!((status, rule.as_str()), (409, "incident_transition_not_allowed"));
    assert!(body.to_string().contains("triage"), "{body}");
    let inc = json_of(
        s.post(&format!("/api/v1/incidents/{id}/step"))
            .json(&json!({"version": 1, "step": "triage"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    // A stale version is refused.
    let r = s
        .post(&format!("/api/v1/incidents/{id}/step"))
        .json(&json!({"version": 1, "step": "breach"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "incident_version_conflict");
    let v = inc["version"].as_u64().expect("v");
    let inc = json_of(
        s.post(&format!("/api/v1/incidents/{id}/step"))
            .json(&json!({"version": v, "step": "breach", "reason": "personal data was read"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(inc["status"], "breach");
    // Only Bakkerij de Vries first, with its scope as confirmed.
    let v = inc["version"].as_u64().expect("v");
    let inc = json_of(
        s.client
            .put(s.url(&format!("/api/v1/incidents/{id}/customers")))
            .bearer_auth(&s.token)
            .json(&json!({"version": v, "add": [{"customer": "bakkerij-de-vries", "scope": b}]}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(inc["customers"][0]["due_at"], "2026-11-24T10:00:00Z");
    assert_eq!(inc["customers"][0]["controller_due_at"], "2026-11-25T10:00:00Z");
    assert_eq!(inc["customers"][0]["deadline"], "open");
    // A notice lacking the breach protocol's fields is refused, naming them.
    let r = s
        .post(&format!("/api/v1/incidents/{id}/notices/preview"))
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    let (_, rule, body) = code(r).await;
    assert_eq!(rule, "notice_incomplete");
    assert!(body.to_string().contains("failed_measure"), "{body}");
    let v = inc["version"].as_u64().expect("v");
    let inc = json_of(
        s.client
            .put(s.url(&format!("/api/v1/incidents/{id}/details")))
            .bearer_auth(&s.token)
            .json(&json!({"version": v, "details": full_details()}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let drafts = json_of(
        s.post(&format!("/api/v1/incidents/{id}/notices/preview"))
            .json(&json!({}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    // Bakkerij's breach contacts read Dutch (Anke) and English (Ruben): one notice each.
    assert_eq!(drafts.as_array().map(Vec::len), Some(2), "{drafts}");
    // Sending needs the version previewed.
    let r = s
        .post(&format!("/api/v1/incidents/{id}/notices"))
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "bad_request");
    let v = inc["version"].as_u64().expect("v");
    let r = s
        .post(&format!("/api/v1/incidents/{id}/notices"))
        .json(&json!({"version": v}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let mails = wait_for_mail(&maildir, 2).await;
    let nl = mails.iter().find(|m| m.to.contains("anke@")).expect("Dutch notice");
    let en = mails
        .iter()
        .find(|m| m.to.contains("ruben.bos@"))
        .expect("English notice");
    assert!(
        nl.subject.starts_with(&format!("Melding datalek {id}")),
        "{}",
        nl.subject
    );
    assert!(
        en.subject.starts_with(&format!("Personal data breach notice {id}")),
        "{}",
        en.subject
    );
    for (m, labels) in [
        (
            nl,
            [
                "Aan:",
                "Datum van deze melding:",
                "Wij werden op de hoogte op:",
                "Samenvatting:",
                "Beveiligingsmaatregel die faalde: Two-factor",
                "Aard van de inbreuk: inzien, kopiëren",
                "Oorzaak: Phished",
                "Groepen betrokkenen: employees",
                "Aantal betrokkenen (volgens het toegangslog): 2",
                "Soorten persoonsgegevens: contact, identification, salary",
                "Genomen maatregelen: Account blocked",
                "Voorgestelde maatregelen: Enforce",
            ],
        ),
        (
            en,
            [
                "To:",
                "Date of this notice:",
                "We became aware on:",
                "Summary:",
                "Security measure that failed: Two-factor",
                "Nature of the breach: reading, copying",
                "Cause: Phished",
                "Groups of data subjects: employees",
                "Number of data subjects (from the access log): 2",
                "Types of personal data: contact, identification, salary",
                "Measures taken: Account blocked",
                "Measures proposed: Enforce",
            ],
        ),
    ] {
        for l in labels {
            assert!(m.body.contains(l), "missing `{l}` in:\n{}", m.body);
        }
        assert!(
            m.message_id
                .contains(&format!("art28-incident-{id}-bakkerij-de-vries-0-")),
            "{}",
            m.message_id
        );
        assert!(!m.body.contains("hanzeveld"), "another customer in the notice");
    }
    // Delivered before the deadline: met. The breach is now `notified`.
    let inc = eventually("delivery not recorded as met", || async {
        let inc = incident(&s, id).await;
        (inc["customers"][0]["deadline"] == "met").then_some(inc)
    })
    .await;
    assert_eq!(inc["status"], "notified");

    // 49 hours later, Hanzeveld turns out to be affected too: its notice is overdue at once,
    // and the security officer hears of it.
    s.clock.advance(jiff::SignedDuration::from_hours(49));
    let v = inc["version"].as_u64().expect("v");
    let inc = json_of(
        s.client
            .put(s.url(&format!("/api/v1/incidents/{id}/customers")))
            .bearer_auth(&s.token)
            .json(&json!({"version": v, "add": [{"customer": "hanzeveld-installatietechniek", "scope": h}]}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    // It cannot close while Hanzeveld waits for its first notice.
    let r = s
        .post(&format!("/api/v1/incidents/{id}/step"))
        .json(&json!({"version": inc["version"], "step": "close", "reason": "too early"}))
        .send()
        .await
        .expect("send");
    let (status, rule, body) = code(r).await;
    assert_eq!((status, rule.as_str()), (409, "incident_transition_not_allowed"));
    assert!(body.to_string().contains("hanzeveld"), "{body}");
    let deadlines = json_of(s.get("/api/v1/incidents/deadlines").send().await.expect("send")).await;
    let states: BTreeMap<String, String> = deadlines
        .as_array()
        .expect("list")
        .iter()
        .map(|d| {
            (
                d["customer"].as_str().unwrap_or("").into(),
                d["state"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(states["bakkerij-de-vries"], "met");
    assert_eq!(states["hanzeveld-installatietechniek"], "overdue");
    eventually("overdue notice not raised", || async {
        let events = json_of(s.get("/api/v1/security/events").send().await.expect("send")).await;
        events
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["kind"] == "breach_notice_overdue" && e["detail"].as_str().unwrap_or("").contains("hanzeveld"))
            .then_some(())
    })
    .await;
    let v = inc["version"].as_u64().expect("v");
    let r = s
        .post(&format!("/api/v1/incidents/{id}/notices"))
        .json(&json!({"version": v}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let sent: Value = r.json().await.expect("json");
    assert_eq!(
        sent.as_array().map(Vec::len),
        Some(1),
        "only Hanzeveld's first notice: {sent}"
    );
    let mails = wait_for_mail(&maildir, 4).await;
    let hanze: Vec<&Mail> = mails.iter().filter(|m| m.to.contains("hanzeveld")).collect();
    assert_eq!(hanze.len(), 2, "both breach contacts of Hanzeveld");
    assert!(hanze.iter().all(|m| m.body.contains("Aantal gegevensrecords: 3")));
    let inc = eventually("late delivery not flagged", || async {
        let inc = incident(&s, id).await;
        inc["customers"]
            .as_array()
            .expect("customers")
            .iter()
            .any(|a| a["customer"] == "hanzeveld-installatietechniek" && a["deadline"] == "met_late")
            .then_some(inc)
    })
    .await;

    // An update goes to every customer already notified, as step 1.
    let v = inc["version"].as_u64().expect("v");
    let r = s
        .post(&format!("/api/v1/incidents/{id}/notices"))
        .json(&json!({"version": v, "update": "Alle wachtwoorden zijn vernieuwd / all passwords were reset"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let mails = wait_for_mail(&maildir, 8).await;
    assert_eq!(mails.iter().filter(|m| m.subject.starts_with("Update 1")).count(), 4);

    // The customer's side: its own incident and notices, never the other customer. (The
    // sessions from before the clock moved have expired.)
    let (anna, henk) = (session_of(&s, "anna.admin").await, session_of(&s, "henk.admin").await);
    let mine = json_of(
        c.get(s.url("/api/v1/customers/hanzeveld-installatietechniek/incidents"))
            .bearer_auth(&henk)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    assert!(!mine.to_string().contains("bakkerij"), "{mine}");
    let notices = json_of(
        c.get(s.url(&format!(
            "/api/v1/customers/hanzeveld-installatietechniek/incidents/{id}/notices"
        )))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert!(!notices.to_string().contains("bakkerij"));
    let hanze_notice = notices[0]["id"].as_u64().expect("notice id");
    let bakker_notices = json_of(
        c.get(s.url(&format!("/api/v1/customers/bakkerij-de-vries/incidents/{id}/notices")))
            .bearer_auth(&anna)
            .send()
            .await
            .expect("send"),
    )
    .await;
    let bakker_notice = bakker_notices[0]["id"].as_u64().expect("notice id");
    // Henk cannot acknowledge Bakkerij's notice, through his own customer or Bakkerij's.
    let r = c
        .post(s.url(&format!(
            "/api/v1/customers/hanzeveld-installatietechniek/notices/{bakker_notice}/acknowledge"
        )))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "notice_not_found");
    let r = c
        .post(s.url(&format!(
            "/api/v1/customers/bakkerij-de-vries/notices/{bakker_notice}/acknowledge"
        )))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "tenant_mismatch");
    let ack = json_of(
        c.post(s.url(&format!(
            "/api/v1/customers/hanzeveld-installatietechniek/notices/{hanze_notice}/acknowledge"
        )))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(ack["acknowledged_by"], "henk.admin");
    // A customer the incident does not touch sees nothing of it.
    let scheldepoort = account(&s, "sofie.admin", "customer_admin", Some("scheldepoort-documentbeheer")).await;
    let r = c
        .get(s.url(&format!("/api/v1/customers/scheldepoort-documentbeheer/incidents/{id}")))
        .bearer_auth(&scheldepoort)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.0, 404);

    // Close, with reasons; nothing more can be sent.
    let inc = incident(&s, id).await;
    let v = inc["version"].as_u64().expect("v");
    let r = s
        .post(&format!("/api/v1/incidents/{id}/step"))
        .json(&json!({"version": v, "step": "close"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "incident_invalid", "closing needs a reason");
    let inc = json_of(
        s.post(&format!("/api/v1/incidents/{id}/step"))
            .json(&json!({"version": v, "step": "close", "reason": "measures in place, customers informed"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(inc["status"], "closed");
    let steps: Vec<&str> = inc["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["to"].as_str())
        .collect();
    assert!(
        steps.starts_with(&["reported", "triaged", "breach"]) && steps.ends_with(&["closed"]),
        "{steps:?}"
    );

    // The register as CSV: whole for staff, one customer's own for the customer.
    let r = s.get("/api/v1/incidents/export.csv").send().await.expect("send");
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let all = r.text().await.expect("csv");
    let mut rows = csv_rows(&all);
    let head = rows.remove(0);
    assert_eq!(head[0], "incident");
    assert_eq!(rows.len(), 2, "one row per affected customer");
    let deadline_col = head.iter().position(|h| h == "deadline").expect("deadline column");
    let cust_col = head.iter().position(|h| h == "customer").expect("customer column");
    let late: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[cust_col].as_str(), r[deadline_col].as_str()))
        .collect();
    assert!(
        late.contains(&("hanzeveld-installatietechniek", "met_late")),
        "{late:?}"
    );
    let own = c
        .get(s.url("/api/v1/customers/hanzeveld-installatietechniek/incidents/export.csv"))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("csv");
    assert_eq!(csv_rows(&own).len(), 2);
    assert!(!own.contains("bakkerij"));
    let json_all = json_of(s.get("/api/v1/incidents/export.json").send().await.expect("send")).await;
    assert_eq!(json_all.as_array().map(Vec::len), Some(1));

    s.stop().await;
    smtp.stop();
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    // The export quotes only where needed; our values hold no newlines but may hold commas.
    let mut rows = Vec::new();
    for line in text.lines() {
        let mut row = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(ch) = chars.next() {
            match (ch, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => row.push(std::mem::take(&mut cur)),
                _ => cur.push(ch),
            }
        }
        row.push(cur);
        rows.push(row);
    }
    rows
}

#[tokio::test]
async fn customers_report_into_the_same_register_and_bad_reports_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start_mailing(dir.path(), "127.0.0.1:9").await;
    let c = &s.client;
    let user = account(&s, "kees", "customer_user", Some("bakkerij-de-vries")).await;
    let admin = account(&s, "anna.admin", "customer_admin", Some("bakkerij-de-vries")).await;
    let r = c
        .post(s.url("/api/v1/customers/bakkerij-de-vries/incidents"))
        .bearer_auth(&user)
        .json(&json!({"kind": "official_inspection", "details": {"summary": "De Arbeidsinspectie vraagt om roosters"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let inc: Value = r.json().await.expect("json");
    assert_eq!(
        (inc["source"].as_str(), inc["kind"].as_str()),
        (Some("customer"), Some("official_inspection"))
    );
    assert_eq!(inc["reporter_customer"], "bakkerij-de-vries");
    // Into another customer's register: refused.
    let r = c
        .post(s.url("/api/v1/customers/hanzeveld-installatietechniek/incidents"))
        .bearer_auth(&user)
        .json(&json!({"details": {"summary": "x"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "tenant_mismatch");
    // Bad input: an empty summary, a future awareness, an unknown field, a staff source.
    for (body, rule) in [
        (json!({"details": {"summary": "  "}}), "incident_invalid"),
        (
            json!({"aware_at": "2030-01-01T00:00:00Z", "details": {"summary": "x"}}),
            "incident_invalid",
        ),
        (json!({"details": {"summary": "x", "colour": "red"}}), "bad_request"),
        (
            json!({"source": "processor", "details": {"summary": "x"}}),
            "incident_invalid",
        ),
    ] {
        let r = c
            .post(s.url("/api/v1/customers/bakkerij-de-vries/incidents"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(code(r).await.1, rule, "{body}");
    }
    // The staff register holds it; the customer's admin sees it, its user may not read.
    let all = json_of(s.get("/api/v1/incidents").send().await.expect("send")).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    let mine = json_of(
        c.get(s.url("/api/v1/customers/bakkerij-de-vries/incidents"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    let r = c
        .get(s.url("/api/v1/customers/bakkerij-de-vries/incidents"))
        .bearer_auth(&user)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "permission_denied");
    // Customers cannot run the workflow; a report can be closed as no breach, with reasons.
    let r = c
        .post(s.url("/api/v1/incidents/1/step"))
        .bearer_auth(&admin)
        .json(&json!({"version": 1, "step": "triage"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.0, 403);
    let inc = json_of(
        s.post("/api/v1/incidents/1/step")
            .json(&json!({"version": 1, "step": "triage"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let inc = json_of(
        s.post("/api/v1/incidents/1/step")
            .json(&json!({"version": inc["version"], "step": "not_a_breach", "reason": "no personal data involved"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(inc["status"], "not_a_breach");
    let r = s.get("/api/v1/incidents/99").send().await.expect("send");
    assert_eq!(code(r).await.1, "incident_not_found");

    // A customer's report that turns out to touch another customer: that one is not told who
    // reported it. A formula in the summary stays text in the CSV export.
    let r = c
        .post(s.url("/api/v1/customers/bakkerij-de-vries/incidents"))
        .bearer_auth(&user)
        .json(&json!({"kind": "account_misuse", "details": {"summary": "=HYPERLINK(\"http://x.example\")"}}))
        .send()
        .await
        .expect("send");
    let second: Value = r.json().await.expect("json");
    let id = second["id"].as_u64().expect("id");
    json_of(
        s.client
            .put(s.url(&format!("/api/v1/incidents/{id}/customers")))
            .bearer_auth(&s.token)
            .json(&json!({"version": second["version"], "add": [{"customer": "hanzeveld-installatietechniek"}]}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let henk = account(
        &s,
        "henk.admin",
        "customer_admin",
        Some("hanzeveld-installatietechniek"),
    )
    .await;
    let seen = json_of(
        c.get(s.url(&format!(
            "/api/v1/customers/hanzeveld-installatietechniek/incidents/{id}"
        )))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(seen["reported_by"], "another customer");
    let text = seen.to_string();
    assert!(!text.contains("kees") && !text.contains("bakkerij"), "{text}");
    let csv = s
        .get("/api/v1/incidents/export.csv")
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("csv");
    assert!(csv.contains("'=HYPERLINK"), "{csv}");

    // A breach that touched no customer closes without notices.
    let inc = json_of(
        s.post("/api/v1/incidents")
            .json(&json!({"details": {"summary": "Test data only"}}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let id = inc["id"].as_u64().expect("id");
    let mut v = inc["version"].clone();
    for step in ["triage", "breach"] {
        v = json_of(
            s.post(&format!("/api/v1/incidents/{id}/step"))
                .json(&json!({"version": v, "step": step}))
                .send()
                .await
                .expect("send"),
        )
        .await["version"]
            .clone();
    }
    let closed = json_of(
        s.post(&format!("/api/v1/incidents/{id}/step"))
            .json(&json!({"version": v, "step": "close", "reason": "only synthetic test data was involved"}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(closed["status"], "closed");
    s.stop().await;
}

/// Register a breach touching Hanzeveld with every field filled, ready to notify.
pub(crate) async fn ready_breach(s: &TestServer) -> (u64, u64) {
    let inc = json_of(
        s.post("/api/v1/incidents")
            .json(&json!({"details": full_details()}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let id = inc["id"].as_u64().expect("id");
    let mut v = inc["version"].as_u64().expect("v");
    for step in ["triage", "breach"] {
        let inc = json_of(
            s.post(&format!("/api/v1/incidents/{id}/step"))
                .json(&json!({"version": v, "step": step}))
                .send()
                .await
                .expect("send"),
        )
        .await;
        v = inc["version"].as_u64().expect("v");
    }
    let inc = json_of(
        s.client
            .put(s.url(&format!("/api/v1/incidents/{id}/customers")))
            .bearer_auth(&s.token)
            .json(&json!({"version": v, "add": [{"customer": "hanzeveld-installatietechniek"}, {"customer": "bakkerij-de-vries"}]}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    (id, inc["version"].as_u64().expect("v"))
}

/// A breach as [`ready_breach`] registers, its notices sent; the incident's id.
pub(crate) async fn notified_breach(s: &TestServer) -> u64 {
    let (id, v) = ready_breach(s).await;
    let r = s
        .post(&format!("/api/v1/incidents/{id}/notices"))
        .json(&json!({"version": v}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    id
}

#[tokio::test]
async fn the_outbox_keeps_notices_while_smtp_is_down_and_delivers_each_once_after_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let maildir = dir.path().join("mail");
    let port = free_port();
    // No SMTP server yet: every attempt fails and is retried later.
    let s = start_mailing(&data, &format!("127.0.0.1:{port}")).await;
    let id = notified_breach(&s).await;
    let failed = eventually("no attempt made", || async {
        let d = deliveries(&s, id).await;
        d.iter().all(|d| d["attempts"].as_u64() >= Some(1)).then_some(d)
    })
    .await;
    // Hanzeveld has two breach contacts, Bakkerij two (one per language).
    assert_eq!(failed.len(), 4);
    assert!(
        failed
            .iter()
            .all(|d| d["status"] == "pending" && d["last_error"].is_string())
    );
    assert!(received(&maildir).is_empty());
    // Restart with the outbox full; the mail server comes back.
    s.stop().await;
    let smtp = Smtp::start(port, &maildir);
    let s = start_mailing(&data, &format!("127.0.0.1:{port}")).await;
    // The restarted server's clock stands where the first one started; move past the backoff.
    s.clock.advance(jiff::SignedDuration::from_mins(5));
    let mails = wait_for_mail(&maildir, 4).await;
    eventually("deliveries not recorded as sent", || async {
        deliveries(&s, id)
            .await
            .iter()
            .all(|d| d["status"] == "sent")
            .then_some(())
    })
    .await;
    // Exactly once each: four messages, four distinct idempotency keys, nothing more after
    // further runs of the outbox.
    s.clock.advance(jiff::SignedDuration::from_hours(2));
    let stop = s.stop();
    stop.await;
    let again = received(&maildir);
    assert_eq!(
        again.len(),
        4,
        "{:?}",
        again.iter().map(|m| &m.message_id).collect::<Vec<_>>()
    );
    let mut ids: Vec<&String> = mails.iter().map(|m| &m.message_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    smtp.stop();
}

/// One call a webhook received: its headers and body.
type Call = (axum::http::HeaderMap, Vec<u8>);

/// A customer's webhook receiver: records every call; answers 500 to the first.
#[derive(Clone, Default)]
struct Receiver {
    calls: std::sync::Arc<std::sync::Mutex<Vec<Call>>>,
    failed_once: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    r.calls.lock().expect("lock").push((headers, body.to_vec()));
    if r.failed_once.swap(true, std::sync::atomic::Ordering::SeqCst) {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::INTERNAL_SERVER_ERROR
    }
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_carry_one_idempotency_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hook_addr = listener.local_addr().expect("addr");
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    // No SMTP relay listens here: e-mail waits, the webhook is tried on its own. The receiver
    // is on loopback, which the operator allows for this server.
    let s = start_mailing_loopback_hooks(dir.path(), "127.0.0.1:9", true).await;
    let c = &s.client;
    let henk = account(
        &s,
        "henk.admin",
        "customer_admin",
        Some("hanzeveld-installatietechniek"),
    )
    .await;
    let anna = account(&s, "anna.admin", "customer_admin", Some("bakkerij-de-vries")).await;
    let hook = "/api/v1/customers/hanzeveld-installatietechniek/webhook";
    for (url, rule) in [
        ("http://example.com/hook", "webhook_invalid"),
        ("ftp://example.com/hook", "webhook_invalid"),
        ("https://user:pw@example.com/hook", "webhook_invalid"),
        ("not a url", "webhook_invalid"),
        ("https://10.0.0.5/hook", "webhook_invalid"),
        ("https://[fd00::1]/hook", "webhook_invalid"),
        // Loopback allowed adds loopback only: no other private range, no plain http elsewhere.
        ("http://[::ffff:10.0.0.1]/hook", "webhook_invalid"),
        ("https://100.64.0.1/hook", "webhook_invalid"),
        ("http://192.168.1.1/hook", "webhook_invalid"),
        ("https://[64:ff9b::7f00:1]/hook", "webhook_invalid"),
    ] {
        let r = c
            .put(s.url(hook))
            .bearer_auth(&henk)
            .json(&json!({"url": url}))
            .send()
            .await
            .expect("send");
        assert_eq!(code(r).await.1, rule, "{url}");
    }
    let r = c.get(s.url(hook)).bearer_auth(&henk).send().await.expect("send");
    assert_eq!(code(r).await.1, "webhook_not_found");
    let url = format!("http://{hook_addr}/hook");
    let set = json_of(
        c.put(s.url(hook))
            .bearer_auth(&henk)
            .json(&json!({"url": url}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let secret = hex::decode(set["secret"].as_str().expect("secret")).expect("hex");
    assert_eq!((secret.len(), set["generation"].as_u64()), (32, Some(1)));
    // Shown once; another customer's admin neither reads nor sets it.
    let got = json_of(c.get(s.url(hook)).bearer_auth(&henk).send().await.expect("send")).await;
    assert!(got.get("secret").is_none() && got["url"] == url.as_str());
    let r = c.get(s.url(hook)).bearer_auth(&anna).send().await.expect("send");
    assert_eq!(code(r).await.1, "tenant_mismatch");
    let r = c
        .put(s.url(hook))
        .bearer_auth(&anna)
        .json(&json!({"url": url}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "tenant_mismatch");

    let id = notified_breach(&s).await;
    // The first call fails (500) and is retried after the backoff with the same key.
    let calls_made = || receiver.calls.lock().expect("lock").len();
    eventually("webhook never called", || async { (calls_made() >= 1).then_some(()) }).await;
    s.clock.advance(jiff::SignedDuration::from_mins(1));
    eventually("webhook not retried", || async { (calls_made() >= 2).then_some(()) }).await;
    let calls = receiver.calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 2, "only Hanzeveld has a webhook");
    let keys: Vec<&str> = calls
        .iter()
        .map(|(h, _)| h["idempotency-key"].to_str().expect("key"))
        .collect();
    assert_eq!(keys[0], keys[1]);
    for (headers, body) in &calls {
        let ts = headers["x-art28-timestamp"].to_str().expect("ts");
        assert_eq!(
            headers["x-art28-signature"].to_str().expect("sig"),
            sign(&secret, ts, body)
        );
        let v: Value = serde_json::from_slice(body).expect("json body");
        assert_eq!(v["customer"], "hanzeveld-installatietechniek");
        assert_eq!(
            v["content"]["details"]["failed_measure"],
            full_details()["failed_measure"]
        );
        assert!(!String::from_utf8_lossy(body).contains("bakkerij"));
    }
    // A tampered body does not verify under the secret.
    let (headers, body) = &calls[1];
    let ts = headers["x-art28-timestamp"].to_str().expect("ts");
    assert_ne!(
        headers["x-art28-signature"].to_str().expect("sig"),
        sign(&secret, ts, &[body.as_slice(), b" "].concat())
    );
    let hooks: Vec<Value> = deliveries(&s, id)
        .await
        .into_iter()
        .filter(|d| d["channel"] == "webhook")
        .collect();
    assert_eq!(hooks.len(), 1);
    eventually("webhook delivery not recorded", || async {
        deliveries(&s, id)
            .await
            .iter()
            .any(|d| d["channel"] == "webhook" && d["status"] == "sent" && d["attempts"] == 2)
            .then_some(())
    })
    .await;
    // Setting it again gives a new secret; removing it twice: the second finds nothing.
    let again = json_of(
        c.put(s.url(hook))
            .bearer_auth(&henk)
            .json(&json!({"url": url}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(again["generation"], 2);
    assert_ne!(again["secret"], set["secret"]);
    let r = c.delete(s.url(hook)).bearer_auth(&henk).send().await.expect("send");
    assert_eq!(r.status(), 204);
    let r = c.delete(s.url(hook)).bearer_auth(&henk).send().await.expect("send");
    assert_eq!(code(r).await.1, "webhook_not_found");
    let r = c.get(s.url(hook)).bearer_auth(&henk).send().await.expect("send");
    assert_eq!(code(r).await.1, "webhook_not_found");
    // Set after removal: a new generation, never an earlier secret again.
    let third = json_of(
        c.put(s.url(hook))
            .bearer_auth(&henk)
            .json(&json!({"url": url}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(third["generation"], 3);
    assert!(third["secret"] != set["secret"] && third["secret"] != again["secret"]);
    let events = json_of(s.get("/api/v1/security/events").send().await.expect("send")).await;
    let kinds: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "webhook_set").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "webhook_removed").count(), 1);
    s.stop().await;
}

/// Set a customer's webhook as `token`; the answer's status and error code (empty on success).
async fn set_hook(s: &TestServer, customer: &str, token: &str, url: &str) -> (u16, String, Value) {
    let r = s
        .client
        .put(s.url(&format!("/api/v1/customers/{customer}/webhook")))
        .bearer_auth(token)
        .json(&json!({"url": url}))
        .send()
        .await
        .expect("send");
    if r.status().is_success() {
        (r.status().as_u16(), String::new(), r.json().await.expect("json"))
    } else {
        code(r).await
    }
}

#[tokio::test]
async fn webhooks_into_private_networks_or_with_control_characters_are_refused_when_set() {
    let dir = tempfile::tempdir().expect("tmp");
    // The default: webhooks reach the public internet only.
    let s = start_mailing(dir.path(), "127.0.0.1:9").await;
    let customer = "hanzeveld-installatietechniek";
    let henk = account(&s, "henk.admin", "customer_admin", Some(customer)).await;
    for url in [
        // IPv4 in IPv6 forms: mapped, NAT64, 6to4, Teredo.
        "https://[::ffff:10.0.0.1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:169.254.169.254]/latest/meta-data",
        "https://[64:ff9b::a00:1]/x",
        "https://[64:ff9b:1::a00:1]/x",
        "https://[2002:a00:1::]/x",
        "https://[2001::1]/x",
        // IPv4 special-purpose ranges beyond the private ones.
        "https://100.64.0.1/x",
        "https://192.0.0.8/x",
        "https://198.18.0.1/x",
        "https://224.0.0.1/x",
        "https://0.0.0.0/x",
        // IPv6 ones.
        "https://[::]/x",
        "https://[fe80::1]/x",
        "https://[2001:db8::1]/x",
        // Loopback while the operator has not allowed it, in any spelling.
        "https://127.0.0.1/x",
        "http://127.0.0.1:8080/x",
        "https://0x7f.1/x",
        "https://2130706433/x",
        "https://[::1]/x",
        "https://localhost/x",
        "https://hooks.localhost./x",
        "http://localhost:8080/x",
        // Control characters and white space, which the URL parser would strip.
        "https://hooks.example/x\r\nX-Injected: 1",
        "https://hooks.\r\nexample/x",
        "https://hooks.example/\tx",
        "https://hooks.example/x\n",
        " https://hooks.example/x",
        "https://hooks.example/a b",
        "https://hooks.example/\u{7f}",
        "https://hooks.example/\u{85}",
        // Plain http, to anywhere.
        "http://hooks.example/x",
    ] {
        let (status, code, body) = set_hook(&s, customer, &henk, url).await;
        assert_eq!((status, code.as_str()), (400, "webhook_invalid"), "{url:?}: {body}");
    }
    let (_, _, body) = set_hook(&s, customer, &henk, "https://[::ffff:10.0.0.1]/x").await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("not allowed") && message.contains("10.0.0.0/8"),
        "{message}"
    );
    let (_, _, body) = set_hook(&s, customer, &henk, "https://hooks.example/x\r\nX: 1").await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("control character"), "{message}");
    // Nothing was kept; a public name is (it is judged again at every delivery).
    let r = s
        .client
        .get(s.url(&format!("/api/v1/customers/{customer}/webhook")))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "webhook_not_found");
    for url in [
        "https://hooks.hanzeveld.example/art28",
        "https://[::ffff:8.8.8.8]/x",
        "https://1.1.1.1/x",
    ] {
        let (status, code, body) = set_hook(&s, customer, &henk, url).await;
        assert_eq!((status, code.as_str()), (200, ""), "{url}: {body}");
        assert_eq!(body["url"], url);
    }
    s.stop().await;
}

/// A TCP listener on loopback that records the peer of every connection it accepts.
async fn listener() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<std::net::SocketAddr>>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let peers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = peers.clone();
    tokio::spawn(async move {
        while let Ok((_conn, peer)) = l.accept().await {
            seen.lock().expect("lock").push(peer);
        }
    });
    (port, peers)
}

/// Connect to `port` ourselves and wait until the listener accepted it: connections are
/// accepted in the order they were made, so afterwards its record holds every earlier one.
async fn probe(port: u16, peers: &std::sync::Mutex<Vec<std::net::SocketAddr>>) -> Vec<std::net::SocketAddr> {
    let conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let me = conn.local_addr().expect("addr");
    eventually("probe not accepted", || async {
        let seen = peers.lock().expect("lock").clone();
        seen.contains(&me)
            .then_some(seen.into_iter().filter(|p| *p != me).collect())
    })
    .await
}

#[tokio::test]
async fn a_delivery_connects_only_where_the_policy_allows_at_that_moment() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let (named_port, named_peers) = listener().await;
    let (literal_port, literal_peers) = listener().await;
    // Set while the operator allowed loopback: one webhook by name, one by address.
    let s = start_mailing_loopback_hooks(&data, "127.0.0.1:9", true).await;
    let henk = account(
        &s,
        "henk.admin",
        "customer_admin",
        Some("hanzeveld-installatietechniek"),
    )
    .await;
    let anna = account(&s, "anna.admin", "customer_admin", Some("bakkerij-de-vries")).await;
    let named = format!("http://localhost:{named_port}/hook");
    let literal = format!("http://127.0.0.1:{literal_port}/hook");
    assert_eq!(
        set_hook(&s, "hanzeveld-installatietechniek", &henk, &named).await.0,
        200
    );
    assert_eq!(set_hook(&s, "bakkerij-de-vries", &anna, &literal).await.0, 200);
    s.stop().await;
    // The operator turns it off; the stored webhooks are judged again at delivery: the name by
    // the addresses it resolves to, the literal before sending.
    let s = start_mailing(&data, "127.0.0.1:9").await;
    let id = notified_breach(&s).await;
    let hooks = eventually("webhook deliveries not tried", || async {
        let hooks: Vec<Value> = deliveries(&s, id)
            .await
            .into_iter()
            .filter(|d| d["channel"] == "webhook")
            .collect();
        // Hanzeveld's one notice, Bakkerij's two (one per language of its contacts).
        (hooks.len() == 3 && hooks.iter().all(|d| d["last_error"].is_string())).then_some(hooks)
    })
    .await;
    for d in &hooks {
        let error = d["last_error"].as_str().expect("error");
        assert_eq!(d["status"], "pending", "{d}");
        assert!(error.contains("not allowed") && error.contains("loopback"), "{error}");
        if d["recipient"] == named.as_str() {
            assert!(error.contains("localhost resolves to no address allowed"), "{error}");
        } else {
            assert_eq!(d["recipient"], literal.as_str());
            assert!(error.contains("127.0.0.1"), "{error}");
        }
    }
    assert_eq!(
        probe(named_port, &named_peers).await,
        Vec::new(),
        "the name's listener was reached"
    );
    assert_eq!(
        probe(literal_port, &literal_peers).await,
        Vec::new(),
        "the address's listener was reached"
    );
    s.stop().await;
}

/// The operations and rules in a customer's access log, oldest first (read as the operator).
async fn logged(s: &TestServer, customer: &str) -> Vec<(String, String, Option<String>)> {
    let page = json_of(
        s.get(&format!("/api/v1/customers/{customer}/log"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let e = &e["entry"];
            (
                e["operation"].as_str().unwrap_or_default().to_string(),
                e["resource"].as_str().unwrap_or_default().to_string(),
                e["rule"].as_str().map(str::to_string),
            )
        })
        .filter(|(op, _, _)| op != "log.read")
        .collect()
}

#[tokio::test]
async fn a_customers_incident_routes_are_judged_by_the_service_and_logged_once_in_its_own_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start_mailing(dir.path(), "127.0.0.1:9").await;
    let c = &s.client;
    // An incident that touches Hanzeveld only.
    let inc = json_of(
        s.post("/api/v1/incidents")
            .json(&json!({"details": {"summary": "Misdirected export"}}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let id = inc["id"].as_u64().expect("id");
    json_of(
        c.put(s.url(&format!("/api/v1/incidents/{id}/customers")))
            .bearer_auth(&s.token)
            .json(&json!({"version": inc["version"], "add": [{"customer": "hanzeveld-installatietechniek"}]}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let hanzeveld = logged(&s, "hanzeveld-installatietechniek").await;
    assert_eq!(
        hanzeveld.last(),
        Some(&("incident.manage".into(), format!("incident/{id}/affected"), None)),
        "naming a customer is an entry in its log"
    );
    let bakkerij = logged(&s, "bakkerij-de-vries").await;

    // Bakkerij asks for it: answered as a missing incident, logged in its own log only.
    let anna = account(&s, "anna.admin", "customer_admin", Some("bakkerij-de-vries")).await;
    let r = c
        .get(s.url(&format!("/api/v1/customers/bakkerij-de-vries/incidents/{id}")))
        .bearer_auth(&anna)
        .send()
        .await
        .expect("send");
    let (status, rule, body) = code(r).await;
    assert_eq!((status, rule.as_str()), (404, "incident_not_found"));
    assert!(!body.to_string().contains("hanzeveld"), "{body}");
    let r = c
        .get(s.url("/api/v1/customers/bakkerij-de-vries/incidents/99"))
        .bearer_auth(&anna)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.0, 404, "the same as one that does not exist");
    // Its own list, and a refusal for a user without the permission, by the operation's name.
    let kees = account(&s, "kees", "customer_user", Some("bakkerij-de-vries")).await;
    for who in [&anna, &kees] {
        c.get(s.url("/api/v1/customers/bakkerij-de-vries/incidents"))
            .bearer_auth(who)
            .send()
            .await
            .expect("send");
    }
    // Adding the accounts is in the customer's log too (`account.create`); the incident
    // routes' entries are the rest.
    let after: Vec<_> = logged(&s, "bakkerij-de-vries")
        .await
        .into_iter()
        .skip(bakkerij.len())
        .filter(|(op, _, _)| op != "account.create")
        .collect();
    assert_eq!(
        after[..],
        [
            (
                "incident.read".into(),
                format!("incident/{id}"),
                Some("incident_not_found".into())
            ),
            (
                "incident.read".into(),
                "incident/99".into(),
                Some("incident_not_found".into())
            ),
            ("incident.read".into(), "incidents".into(), None),
            (
                "incident.read".into(),
                "incidents".into(),
                Some("permission_denied".into())
            ),
        ],
        "one entry per call"
    );
    assert_eq!(
        logged(&s, "hanzeveld-installatietechniek").await,
        hanzeveld,
        "nothing of Bakkerij's calls in Hanzeveld's log"
    );
    s.stop().await;
}
