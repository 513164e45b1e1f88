//! Breach notices queued in the outbox survive `kill -9` and are delivered exactly once after
//! the restart, to a real SMTP server (aiosmtpd, installed by scripts/test).

use crate::aiosmtpd::{Smtp, free_port, header, raw_messages};
use crate::serve::{Running, kill, serve_with_env};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// Message-IDs of what arrived.
fn message_ids(maildir: &Path) -> Vec<String> {
    let mut ids: Vec<String> = raw_messages(maildir).iter().map(|m| header(m, "Message-ID")).collect();
    ids.sort();
    ids
}

pub(crate) async fn call(c: &reqwest::Client, r: &Running, method: &str, path: &str, body: Value) -> Value {
    let url = format!("{}{path}", r.base);
    let req = match method {
        "POST" => c.post(url),
        "PUT" => c.put(url),
        _ => c.get(url),
    };
    let resp = req.bearer_auth(&r.token).json(&body).send().await.expect("send");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).expect("json")
}

/// A breach with notices to Hanzeveld and Scheldepoort (two breach contacts each), its calls
/// spread over `nodes` in turn: the incident's id and its deliveries' idempotency keys.
pub(crate) async fn breach_with_notices(c: &reqwest::Client, nodes: &[&Running]) -> (u64, Vec<String>) {
    let node = |i: usize| nodes[i % nodes.len()];
    let inc = call(
        c,
        node(0),
        "POST",
        "/api/v1/incidents",
        json!({"details": {
            "summary": "Back-up tape lost in transport",
            "actions": ["theft"],
            "cause": "Courier lost the package",
            "failed_measure": "The tape was not encrypted"
        }}),
    )
    .await;
    let id = inc["id"].as_u64().expect("id");
    let mut v = inc["version"].as_u64().expect("v");
    for (i, step) in ["triage", "breach"].into_iter().enumerate() {
        v = call(
            c,
            node(i + 1),
            "POST",
            &format!("/api/v1/incidents/{id}/step"),
            json!({"version": v, "step": step}),
        )
        .await["version"]
            .as_u64()
            .expect("v");
    }
    v = call(
        c,
        node(3),
        "PUT",
        &format!("/api/v1/incidents/{id}/customers"),
        json!({"version": v, "add": [{"customer": "hanzeveld-installatietechniek"}, {"customer": "scheldepoort-documentbeheer"}]}),
    )
    .await["version"]
        .as_u64()
        .expect("v");
    let sent = call(
        c,
        node(4),
        "POST",
        &format!("/api/v1/incidents/{id}/notices"),
        json!({"version": v}),
    )
    .await;
    let keys = sent
        .as_array()
        .expect("notices")
        .iter()
        .flat_map(|n| n["deliveries"].as_array().cloned().unwrap_or_default())
        .filter_map(|d| d["idempotency_key"].as_str().map(str::to_string))
        .collect();
    (id, keys)
}

#[tokio::test]
async fn queued_notices_survive_kill_9_and_are_delivered_once_after_the_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let maildir = dir.path().join("mail");
    let c = reqwest::Client::new();
    // First run: no SMTP relay configured, so the notices wait in the outbox.
    let mut r = serve_with_env(&data, &["--demo"], &[]);
    let (id, keys) = breach_with_notices(&c, &[&r]).await;
    assert_eq!(keys.len(), 4, "two breach contacts at each customer");
    assert!(!kill(&mut r, "-KILL").success());

    // Second run, with the relay and its server up: every queued notice arrives, once.
    let port = free_port();
    let _smtp = Smtp::start(port, &maildir);
    let relay = format!("127.0.0.1:{port}");
    let mut r = serve_with_env(&data, &[], &[("ART28_SMTP_RELAY", relay.as_str())]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = call(&c, &r, "GET", &format!("/api/v1/incidents/{id}/notices"), json!(null)).await;
        let all_sent = n
            .as_array()
            .expect("notices")
            .iter()
            .flat_map(|n| n["deliveries"].as_array().cloned().unwrap_or_default())
            .all(|d| d["status"] == "sent");
        if all_sent {
            break;
        }
        assert!(Instant::now() < deadline, "not delivered after the restart: {n}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!kill(&mut r, "-KILL").success());
    let got = message_ids(&maildir);
    // The demo's own breach notices arrive too; nothing arrives twice.
    let distinct: std::collections::BTreeSet<&String> = got.iter().collect();
    assert_eq!(distinct.len(), got.len(), "{got:?}");
    let ours = got
        .iter()
        .filter(|g| keys.iter().any(|k| g.contains(k.as_str())))
        .count();
    assert_eq!(ours, 4, "{got:?}");
    for k in &keys {
        assert_eq!(
            got.iter().filter(|g| g.contains(k.as_str())).count(),
            1,
            "{k} in {got:?}"
        );
    }
}
