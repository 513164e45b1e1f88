//! `art28 serve --demo` on an empty data directory: an account per role, shown once with its
//! password, that logs in and must change it; the bakery's vault data, staff access grants
//! (one waiting) and a breach with notices; and a second start that shows no password and
//! adds nothing.

use crate::outbox::call;
use crate::serve::{Running, kill, serve_reading};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BAKKERIJ: &str = "bakkerij-de-vries";
const SCHELDEPOORT: &str = "scheldepoort-documentbeheer";

/// The server's standard output, line by line, read on a thread of its own so a missing line
/// fails the test at a deadline instead of blocking it.
pub(crate) struct Stdout(mpsc::Receiver<String>);

pub(crate) fn follow(out: std::io::BufReader<std::process::ChildStdout>) -> Stdout {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Stdout(rx)
}

impl Stdout {
    /// The lines up to and including the first one that `end` accepts.
    pub(crate) fn until(&self, end: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(l) => {
                    let done = end(&l);
                    lines.push(l);
                    if done {
                        return lines;
                    }
                }
                Err(e) => panic!("stdout ended or went quiet ({e}) after {lines:#?}"),
            }
        }
    }

    /// Everything else it printed, once the process has ended.
    pub(crate) fn rest(self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(l) = self.0.recv_timeout(Duration::from_secs(10)) {
            lines.push(l);
        }
        lines
    }
}

/// A printed account: user name, role, customer, password.
#[derive(Debug, Clone)]
pub(crate) struct Printed {
    pub(crate) username: String,
    pub(crate) role: String,
    pub(crate) customer: String,
    pub(crate) password: String,
}

pub(crate) fn accounts_in(block: &[String]) -> Vec<Printed> {
    block
        .iter()
        .filter(|l| l.starts_with("  ") && !l.trim_start().starts_with("username"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(w.len(), 4, "an account line has four columns: {l:?}");
            Printed {
                username: w[0].into(),
                role: w[1].into(),
                customer: w[2].into(),
                password: w[3].into(),
            }
        })
        .collect()
}

async fn login(c: &reqwest::Client, r: &Running, username: &str, password: &str) -> Value {
    let resp = c
        .post(format!("{}/api/v1/session", r.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("send");
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert_eq!(status, 201, "login of {username}: {body}");
    body
}

/// The bakery's loyalty customers, as its administrator sees them.
async fn records(c: &reqwest::Client, r: &Running, session: &str) -> usize {
    let resp = c
        .get(format!(
            "{}/api/v1/customers/{BAKKERIJ}/vault/collections/klanten/records?purpose=service_provision",
            r.base
        ))
        .bearer_auth(session)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("json");
    v["records"].as_array().expect("records").len()
}

fn statuses(grants: &Value) -> Vec<String> {
    grants
        .as_array()
        .expect("grants")
        .iter()
        .map(|g| g["status"].as_str().expect("status").to_string())
        .collect()
}

/// What the demo made, as the operator (processor administrator and security officer) sees
/// it: accounts, both customers' access grants, the register, and each incident's notices.
async fn made(c: &reqwest::Client, r: &Running) -> Value {
    let accounts = call(c, r, "GET", "/api/v1/accounts", Value::Null).await;
    let mut names: Vec<&str> = accounts
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["username"].as_str())
        .collect();
    names.sort_unstable();
    let bakkerij = call(
        c,
        r,
        "GET",
        &format!("/api/v1/customers/{BAKKERIJ}/access-grants"),
        Value::Null,
    )
    .await;
    let schelde = call(
        c,
        r,
        "GET",
        &format!("/api/v1/customers/{SCHELDEPOORT}/access-grants"),
        Value::Null,
    )
    .await;
    let incidents = call(c, r, "GET", "/api/v1/incidents", Value::Null).await;
    let mut notices = Vec::new();
    for i in incidents.as_array().expect("incidents") {
        let id = i["id"].as_u64().expect("id");
        notices.push(call(c, r, "GET", &format!("/api/v1/incidents/{id}/notices"), Value::Null).await);
    }
    json!({
        "accounts": names,
        "grants": {BAKKERIJ: statuses(&bakkerij), SCHELDEPOORT: statuses(&schelde)},
        "incidents": incidents.as_array().expect("incidents").iter()
            .map(|i| json!({"id": i["id"], "status": i["status"], "summary": i["details"]["summary"],
                "customers": i["customers"].as_array().expect("customers").iter().map(|a| a["customer"].clone()).collect::<Vec<_>>()}))
            .collect::<Vec<_>>(),
        "notices": notices.iter().flat_map(|n| n.as_array().cloned().unwrap_or_default())
            .map(|n| json!({"customer": n["customer"], "language": n["language"],
                "deliveries": n["deliveries"].as_array().map(Vec::len)}))
            .collect::<Vec<_>>(),
    })
}

#[tokio::test]
async fn serve_demo_makes_an_account_per_role_and_its_data_once_and_shows_each_password_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let c = reqwest::Client::new();

    // First start: the block, with each role and a password.
    let (mut r, out) = serve_reading(&data, &["--demo"], &[]);
    let out = follow(out);
    let block = out.until(|l| l.starts_with("End of demo accounts"));
    let login_url = format!("{}/login", r.base);
    assert!(block.iter().any(|l| l.contains(&login_url)), "{block:#?}");
    let accounts = accounts_in(&block);
    let roles: BTreeSet<&str> = accounts.iter().map(|a| a.role.as_str()).collect();
    let all: BTreeSet<&str> = [
        "processor_admin",
        "security_officer",
        "support_engineer",
        "consultant",
        "customer_admin",
        "customer_user",
        "customer_auditor",
    ]
    .into_iter()
    .collect();
    assert_eq!(roles, all, "{block:#?}");
    for role in ["customer_admin", "customer_user", "customer_auditor"] {
        assert!(
            accounts.iter().any(|a| a.role == role && a.customer == BAKKERIJ),
            "{role} of {BAKKERIJ}: {block:#?}"
        );
    }
    assert!(
        accounts
            .iter()
            .any(|a| a.role == "customer_admin" && a.customer != BAKKERIJ && a.customer != "-"),
        "an administrator of a second customer: {block:#?}"
    );
    let passwords: BTreeSet<&str> = accounts.iter().map(|a| a.password.as_str()).collect();
    assert_eq!(passwords.len(), accounts.len(), "one password each");
    assert!(passwords.iter().all(|p| p.chars().count() >= 12), "{passwords:?}");

    // Every printed password logs in, and must be changed first.
    for a in &accounts {
        let s = login(&c, &r, &a.username, &a.password).await;
        assert_eq!(s["must_change_password"], true, "{}", a.username);
    }

    // The bakery's administrator changes hers and sees the loyalty customers.
    let admin = accounts
        .iter()
        .find(|a| a.role == "customer_admin" && a.customer == BAKKERIJ)
        .expect("bakery admin");
    let first = login(&c, &r, &admin.username, &admin.password).await;
    let new_password = "Krentenbollen-met-amandelspijs-2026";
    let resp = c
        .post(format!("{}/api/v1/session/password", r.base))
        .bearer_auth(first["token"].as_str().expect("token"))
        .json(&json!({"old_password": admin.password, "new_password": new_password}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 204);
    let session = login(&c, &r, &admin.username, new_password).await;
    assert_eq!(session["must_change_password"], false);
    let session = session["token"].as_str().expect("token").to_string();
    let n = records(&c, &r, &session).await;
    assert!((10..=20).contains(&n), "{n} records");

    // A grant waits for Scheldepoort's approval; the bakery's were granted by its agreement,
    // one ended by the bakery; a breach at the bakery with its notices queued.
    let before = made(&c, &r).await;
    assert!(
        before["grants"][SCHELDEPOORT]
            .as_array()
            .expect("grants")
            .contains(&json!("requested")),
        "{before:#}"
    );
    for s in ["approved", "revoked"] {
        assert!(
            before["grants"][BAKKERIJ]
                .as_array()
                .expect("grants")
                .contains(&json!(s)),
            "{s}: {before:#}"
        );
    }
    let incidents = before["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{before:#}");
    assert_eq!(incidents[0]["status"], "notified");
    assert_eq!(incidents[0]["customers"], json!([BAKKERIJ]));
    let notices = before["notices"].as_array().expect("notices");
    assert!(!notices.is_empty(), "{before:#}");
    assert!(
        notices
            .iter()
            .all(|n| n["customer"] == BAKKERIJ && n["deliveries"].as_u64() >= Some(1)),
        "{before:#}"
    );
    // The bakery's log shows the demo's reads and one refusal.
    let log = call(&c, &r, "GET", &format!("/api/v1/customers/{BAKKERIJ}/log"), Value::Null).await;
    let entries: Vec<&Value> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["entry"])
        .collect();
    assert!(
        entries
            .iter()
            .any(|e| e["operation"] == "vault.record.read" && e["decision"] == "granted")
    );
    assert!(
        entries
            .iter()
            .any(|e| e["decision"] == "refused" && e["rule"] == "purpose_not_in_agreement"),
        "{log:#}"
    );
    // The sub-processor register: a change announced to the bakery, which objected to it.
    for op in ["subprocessor.announce", "subprocessor.object"] {
        assert!(
            entries
                .iter()
                .any(|e| e["operation"] == op && e["decision"] == "granted"),
            "{op}: {log:#}"
        );
    }
    assert!(kill(&mut r, "-TERM").success());
    let mut printed = block;
    printed.extend(out.rest());

    // Second start: one line, no password, nothing added.
    let (mut r, out) = serve_reading(&data, &["--demo"], &[]);
    let out = follow(out);
    let again = out.until(|l| l.contains("Demo accounts exist"));
    assert_eq!(made(&c, &r).await, before);
    let session = login(&c, &r, &admin.username, new_password).await;
    assert_eq!(records(&c, &r, session["token"].as_str().expect("token")).await, n);
    assert!(kill(&mut r, "-TERM").success());
    let mut second = again;
    second.extend(out.rest());
    for p in &passwords {
        assert!(
            !second.iter().any(|l| l.contains(p)),
            "a password shown again: {second:#?}"
        );
    }
    for p in &passwords {
        assert_eq!(printed.iter().filter(|l| l.contains(p)).count(), 1, "{p} shown once");
    }
}
