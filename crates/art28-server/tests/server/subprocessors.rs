//! Sub-processors and transfers (R5) end to end over HTTP: the register, announcements judged
//! by each customer's agreement, notices by e-mail (aiosmtpd) and webhook, objections,
//! approvals and decisions, the list in force and the agreement document on a date (the
//! server's clock moved by hand), list requests and their deadline, the Atom feed, the access
//! log, and one customer never seeing another's.

use crate::accounts::{account, session_of};
use crate::aiosmtpd::{Smtp, free_port};
use crate::harness::{TestServer, code, start, start_mailing_loopback_hooks};
use crate::incidents::{eventually, json_of, sign, wait_for_mail};
use serde_json::{Value, json};
use std::path::PathBuf;

const HANZE: &str = "hanzeveld-installatietechniek";
const BAKKER: &str = "bakkerij-de-vries";
const SCHELDE: &str = "scheldepoort-documentbeheer";
const BAKKER_TOML: &str = include_str!("../../../../examples/agreements/bakkerij-de-vries.toml");

fn entry(name: &str, location: &str, safeguard: Option<&str>) -> Value {
    let mut e = json!({
        "name": name,
        "service": {"nl": "Analyse van gebruiksgegevens", "en": "Analysis of usage data"},
        "purpose": {"nl": "Verbeteren van de dienst", "en": "Improving the service"},
        "location": location,
        "categories": ["usage_data"],
        "systems": ["database"]
    });
    if let Some(s) = safeguard {
        e["safeguard"] = json!(s);
        e["safeguard_reference"] = json!("SCC 2021/914 module 3");
    }
    e
}

async fn register(s: &TestServer, e: Value) -> u64 {
    let r = s.post("/api/v1/subprocessors").json(&e).send().await.expect("send");
    assert_eq!(r.status(), 201);
    json_of(r).await["id"].as_u64().expect("id")
}

fn announce_body(sp: u64, effective: &str, customers: &[&str]) -> Value {
    json!({
        "kind": "add",
        "subprocessor": sp,
        "effective": effective,
        "note": {"nl": "Nieuwe analysedienst", "en": "New analytics service"},
        "customers": customers,
    })
}

/// Bakkerij de Vries under specific authorisation from 2026-11-01 (version 2 of its agreement).
async fn make_bakkerij_specific(s: &TestServer) {
    let text = BAKKER_TOML.replacen("version = 1", "version = 2", 1).replacen(
        "effective_from = 2026-02-01",
        "effective_from = 2026-11-01",
        1,
    ) + "\n[subprocessors]\nauthorisation = \"specific\"\n";
    let r = s
        .post("/api/v1/agreements")
        .header("content-type", "application/toml")
        .body(text)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
}

/// The names on a customer's list in force, read as `token`.
async fn names_in_force(s: &TestServer, token: &str, customer: &str, on: &str) -> Vec<String> {
    let r = s
        .client
        .get(s.url(&format!("/api/v1/customers/{customer}/subprocessors?on={on}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("send");
    let v = json_of(r).await;
    v["list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|l| l["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn send_as(s: &TestServer, token: &str, m: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
    s.client
        .request(m, s.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("send")
}

/// One call a webhook received.
type Call = (axum::http::HeaderMap, Vec<u8>);

async fn hook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Call>>>) {
    let calls: std::sync::Arc<std::sync::Mutex<Vec<Call>>> = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let kept = calls.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().expect("lock").push((headers, body.to_vec()));
                axum::http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), calls)
}

#[tokio::test]
async fn subprocessor_changes_are_announced_answered_decided_and_take_effect_per_customer() {
    let dir = tempfile::tempdir().expect("tmp");
    let maildir: PathBuf = dir.path().join("mail");
    let port = free_port();
    let smtp = Smtp::start(port, &maildir);
    let s = start_mailing_loopback_hooks(&dir.path().join("data"), &format!("127.0.0.1:{port}"), true).await;
    let c = &s.client;
    let henk = account(&s, "henk.admin", "customer_admin", Some(HANZE)).await;
    let anna = account(&s, "anna.admin", "customer_admin", Some(BAKKER)).await;
    let lotte = account(&s, "lotte.admin", "customer_admin", Some(SCHELDE)).await;
    make_bakkerij_specific(&s).await;

    // Hanzeveld's webhook.
    let (url, calls) = hook_receiver().await;
    let set = json_of(
        c.put(s.url(&format!("/api/v1/customers/{HANZE}/webhook")))
            .bearer_auth(&henk)
            .json(&json!({ "url": url }))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let secret = hex::decode(set["secret"].as_str().expect("secret")).expect("hex");

    let sp = register(&s, entry("Stratus Analytics GmbH", "DE", None)).await;

    // Three weeks' notice is too short for Hanzeveld (general authorisation, P4W), which the
    // refusal names; Bakkerij (specific authorisation) has no notice period to wait.
    let r = s
        .post("/api/v1/subprocessor-changes")
        .json(&announce_body(sp, "2026-12-13", &[HANZE, BAKKER]))
        .send()
        .await
        .expect("send");
    let (_, code_, body) = code(r).await;
    assert_eq!(code_, "subprocessor_notice_too_short", "{body}");
    let text = body.to_string();
    assert!(text.contains(HANZE) && !text.contains(BAKKER), "{text}");
    assert!(
        s.json("/api/v1/subprocessor-changes")
            .await
            .as_array()
            .expect("list")
            .is_empty()
    );

    // Four weeks is enough.
    let r = s
        .post("/api/v1/subprocessor-changes")
        .json(&announce_body(sp, "2026-12-20", &[HANZE, BAKKER]))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let change = json_of(r).await;
    let id = change["id"].as_u64().expect("id");
    let state_of = |v: &Value, customer: &str| {
        v["customers"]
            .as_array()
            .expect("customers")
            .iter()
            .find(|r| r["customer"] == customer)
            .map(|r| r["state"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(state_of(&change, HANZE).as_deref(), Some("announced"));
    assert_eq!(state_of(&change, BAKKER).as_deref(), Some("awaiting_approval"));

    // The notices: in Dutch to Hanzeveld's contact for changes, in English to Bakkerij's.
    let mails = wait_for_mail(&maildir, 2).await;
    let to_hanze = mails
        .iter()
        .find(|m| m.to.contains("ict@hanzeveld.example"))
        .expect("Hanzeveld mailed");
    assert!(
        to_hanze.subject.starts_with(&format!("Wijziging subverwerkers {id}")),
        "{}",
        to_hanze.subject
    );
    assert!(to_hanze.body.contains("Stratus Analytics GmbH"), "{}", to_hanze.body);
    let to_bakker = mails
        .iter()
        .find(|m| m.to.contains("ruben.bos@bos-administraties.example"))
        .expect("Bakkerij mailed");
    assert!(
        to_bakker.subject.starts_with(&format!("Sub-processor change {id}")),
        "{}",
        to_bakker.subject
    );
    // And on Hanzeveld's webhook, signed.
    let (headers, body) = eventually("webhook not called", || async {
        calls.lock().expect("lock").first().cloned()
    })
    .await;
    let ts = headers["x-art28-timestamp"].to_str().expect("ts");
    assert_eq!(
        headers["x-art28-signature"].to_str().expect("sig"),
        sign(&secret, ts, &body)
    );
    let payload: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(payload["type"], "art28.subprocessor_announcement");
    assert_eq!(payload["change"], id);
    assert_eq!(payload["customer"], HANZE);
    assert_eq!(
        (
            payload["content"]["kind"].as_str(),
            payload["content"]["state"].as_str()
        ),
        (Some("add"), Some("announced")),
        "{payload}"
    );
    let staff_view = json_of(
        s.get(&format!("/api/v1/subprocessor-changes/{id}/announcements"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(staff_view.as_array().expect("list").len() >= 2, "{staff_view}");

    // Specific authorisation: not in Bakkerij's list before its approval, in it after (from
    // the effective date).
    assert!(
        !names_in_force(&s, &anna, BAKKER, "2026-12-20")
            .await
            .iter()
            .any(|n| n.starts_with("Stratus"))
    );
    let r = send_as(
        &s,
        &anna,
        reqwest::Method::POST,
        &format!("/api/v1/customers/{BAKKER}/subprocessor-changes/{id}/approval"),
        json!({"approve": true, "note": "Akkoord"}),
    )
    .await;
    assert_eq!(state_of(&json_of(r).await, BAKKER).as_deref(), Some("approved"));
    assert!(
        !names_in_force(&s, &anna, BAKKER, "2026-12-19")
            .await
            .iter()
            .any(|n| n.starts_with("Stratus"))
    );
    assert!(
        names_in_force(&s, &anna, BAKKER, "2026-12-20")
            .await
            .iter()
            .any(|n| n.starts_with("Stratus"))
    );

    // Hanzeveld objects: the old list stays in force for it, not for Bakkerij.
    let r = send_as(
        &s,
        &henk,
        reqwest::Method::POST,
        &format!("/api/v1/customers/{HANZE}/subprocessor-changes/{id}/objection"),
        json!({"reasons": "Geen analyse van onze gegevens buiten ons eigen beheer"}),
    )
    .await;
    let mine = json_of(r).await;
    assert_eq!(state_of(&mine, HANZE).as_deref(), Some("objected"));
    assert_eq!(mine["customers"].as_array().expect("rows").len(), 1, "its own row only");
    assert!(
        !names_in_force(&s, &henk, HANZE, "2026-12-20")
            .await
            .iter()
            .any(|n| n.starts_with("Stratus"))
    );
    assert!(
        names_in_force(&s, &anna, BAKKER, "2026-12-20")
            .await
            .iter()
            .any(|n| n.starts_with("Stratus"))
    );

    // The processor goes ahead over it: it takes effect for Hanzeveld too, and Hanzeveld is told.
    let r = s
        .post(&format!("/api/v1/subprocessor-changes/{id}/customers/{HANZE}/decision"))
        .json(&json!({"decision": "overruled", "note": "De dienst is nodig voor de beveiliging"}))
        .send()
        .await
        .expect("send");
    assert_eq!(state_of(&json_of(r).await, HANZE).as_deref(), Some("overruled"));
    assert!(
        names_in_force(&s, &henk, HANZE, "2026-12-20")
            .await
            .iter()
            .any(|n| n.starts_with("Stratus"))
    );
    let mails = wait_for_mail(&maildir, 3).await;
    assert!(
        mails
            .iter()
            .any(|m| m.to.contains("ict@hanzeveld.example")
                && m.subject.starts_with("Besluit over wijziging subverwerkers")),
        "{mails:?}"
    );

    // Another customer's admin: the change does not exist for it, and nothing names Hanzeveld
    // or Bakkerij.
    for path in [
        format!("/api/v1/customers/{SCHELDE}/subprocessor-changes/{id}"),
        format!("/api/v1/customers/{SCHELDE}/subprocessor-changes/{id}/objection"),
    ] {
        let m = if path.ends_with("objection") {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let r = send_as(&s, &lotte, m, &path, json!({"reasons": "probe"})).await;
        let (st, code_, body) = code(r).await;
        assert_eq!(
            (st, code_.as_str()),
            (404, "subprocessor_change_not_found"),
            "{path}: {body}"
        );
        let text = body.to_string();
        assert!(
            !text.contains("hanzeveld") && !text.contains("Hanzeveld") && !text.contains("bakkerij"),
            "{text}"
        );
    }
    let r = send_as(
        &s,
        &lotte,
        reqwest::Method::GET,
        &format!("/api/v1/customers/{SCHELDE}/subprocessor-changes"),
        json!({}),
    )
    .await;
    assert_eq!(json_of(r).await, json!([]));
    let r = send_as(
        &s,
        &lotte,
        reqwest::Method::GET,
        &format!("/api/v1/customers/{HANZE}/subprocessor-changes/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 403);

    // The feed: its key works, holds the announcement, and stops working once rotated.
    let key_of = |rotate: bool, token: String, customer: &'static str| {
        let (c, url) = (
            s.client.clone(),
            s.url(&format!("/api/v1/customers/{customer}/subprocessor-feed-key")),
        );
        async move {
            let r = c
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "rotate": rotate }))
                .send()
                .await
                .expect("send");
            json_of(r).await
        }
    };
    let first = key_of(false, henk.clone(), HANZE).await;
    let feed_url = first["url"].as_str().expect("url").to_string();
    assert!(
        feed_url.starts_with(&format!("/feeds/{HANZE}/subprocessors.atom?key=")),
        "{feed_url}"
    );
    let r = c.get(s.url(&feed_url)).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("application/atom+xml"),
        "{:?}",
        r.headers()
    );
    let xml = r.text().await.expect("text");
    assert!(
        xml.contains("<feed") && xml.contains(&format!("Wijziging subverwerkers {id}")),
        "{xml}"
    );
    assert!(!xml.contains("Bakkerij"), "{xml}");
    assert_eq!(
        key_of(false, henk.clone(), HANZE).await["key"],
        first["key"],
        "kept until rotated"
    );
    let rotated = key_of(true, henk.clone(), HANZE).await;
    assert_ne!(rotated["key"], first["key"]);
    let r = c.get(s.url(&feed_url)).send().await.expect("send");
    let (st, code_, old_body) = code(r).await;
    assert_eq!((st, code_.as_str()), (401, "feed_key_invalid"));
    let r = c
        .get(s.url(rotated["url"].as_str().expect("url")))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    // An unknown customer answers as a wrong key does.
    let key = first["key"].as_str().expect("key");
    for path in [
        format!("/feeds/no-such-customer/subprocessors.atom?key={key}"),
        format!("/feeds/Not%20An%20Id/subprocessors.atom?key={key}"),
    ] {
        let r = c.get(s.url(&path)).send().await.expect("send");
        assert_eq!(
            code(r).await,
            (401, "feed_key_invalid".to_string(), old_body.clone()),
            "{path}"
        );
    }
    // Another customer's feed holds none of it.
    let theirs = key_of(false, lotte.clone(), SCHELDE).await;
    let xml = c
        .get(s.url(theirs["url"].as_str().expect("url")))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(!xml.contains("<entry>") && !xml.contains("Stratus"), "{xml}");

    // The agreement document lists it from its date, not before.
    let doc = |on: Option<&str>| {
        let q = on.map(|d| format!("&on={d}")).unwrap_or_default();
        let (c, url, t) = (
            s.client.clone(),
            s.url(&format!("/api/v1/customers/{HANZE}/agreement/document?lang=en{q}")),
            s.token.clone(),
        );
        async move {
            let r = c.get(url).bearer_auth(t).send().await.expect("send");
            assert_eq!(r.status(), 200);
            r.text().await.expect("text")
        }
    };
    assert!(!doc(None).await.contains("Stratus Analytics GmbH"));
    s.clock.set("2026-12-20T09:00:00Z".parse().expect("time"));
    assert!(doc(None).await.contains("Stratus Analytics GmbH"));
    // Sessions have expired by then.
    let henk = session_of(&s, "henk.admin").await;
    // The list as a file, in the caller's language.
    let r = c
        .get(s.url(&format!("/api/v1/customers/{HANZE}/subprocessors?format=csv&lang=en")))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .expect("cd")
            .contains(&format!("subprocessors-{HANZE}-2026-12-20.csv"))
    );
    let csv = r.text().await.expect("text");
    assert!(
        csv.contains("Sub-processor") && csv.contains("Stratus Analytics GmbH"),
        "{csv}"
    );
    let r = c
        .get(s.url(&format!("/api/v1/customers/{HANZE}/subprocessors?format=html")))
        .bearer_auth(&henk)
        .send()
        .await
        .expect("send");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    assert!(r.text().await.expect("text").contains("Stratus Analytics GmbH"));

    // Hanzeveld's log bundle holds the announcement and verifies.
    let key_text = c
        .get(s.url("/.well-known/art28/log-key"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    let verifier: art28_ledger::checkpoint::LogVerifier = key_text.trim().parse().expect("key");
    let bundle = eventually("bundle with the announcement", || async {
        let r = s
            .get(&format!("/api/v1/customers/{HANZE}/log/bundle"))
            .send()
            .await
            .expect("send");
        let b = art28_ledger::bundle::Bundle::from_json(&r.text().await.expect("text")).expect("bundle");
        let has = b.entries.iter().any(|e| {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&e.entry)
                .unwrap_or_default();
            String::from_utf8_lossy(&raw).contains("subprocessor.announce")
        });
        has.then_some(b)
    })
    .await;
    let report = art28_ledger::bundle::verify_bundle(&bundle, &verifier, None).expect("bundle verifies");
    assert_eq!(report.entries_verified, bundle.entries.len());
    // The feed's reads are in the log with an actor that names the feed.
    let page = json_of(
        s.get(&format!("/api/v1/customers/{HANZE}/log"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(
        page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["entry"]["operation"] == "subprocessor.feed"
                && e["entry"]["actor"]["kind"] == "token"
                && e["entry"]["actor"]["id"] == format!("feed:{HANZE}")),
        "{page}"
    );
    s.stop().await;
    smtp.stop();
}

#[tokio::test]
async fn subprocessor_transfers_are_judged_against_each_agreement_and_contracts_are_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;

    // A third country without safeguard is refused for everyone.
    let gap = register(&s, entry("Mumbai Data Services Pvt. Ltd.", "IN", None)).await;
    let r = s
        .post("/api/v1/subprocessor-changes")
        .json(&announce_body(gap, "2027-01-15", &[HANZE, SCHELDE]))
        .send()
        .await
        .expect("send");
    let (_, code_, body) = code(r).await;
    assert_eq!(code_, "transfer_without_safeguard", "{body}");
    // An adequacy decision cannot be claimed for a country that has none.
    let r = s
        .post("/api/v1/subprocessors")
        .json(&entry("Chennai Hosting Pvt. Ltd.", "IN", Some("adequacy_decision")))
        .send()
        .await
        .expect("send");
    let (_, code_, body) = code(r).await;
    assert_eq!(code_, "subprocessor_invalid", "{body}");
    // A control character in a text the feed carries is refused, not stored.
    let mut bad = announce_body(gap, "2027-01-15", &[HANZE]);
    bad["note"]["nl"] = json!("Zie \u{7}bijlage");
    let r = s
        .post("/api/v1/subprocessor-changes")
        .json(&bad)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "subprocessor_invalid");

    // With SCC: Scheldepoort's agreement allows India, Hanzeveld's does not.
    let scc = register(
        &s,
        entry(
            "Pune Support Services Pvt. Ltd.",
            "IN",
            Some("standard_contractual_clauses"),
        ),
    )
    .await;
    let r = s
        .post("/api/v1/subprocessor-changes")
        .json(&announce_body(scc, "2027-01-15", &[HANZE, SCHELDE]))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let change = json_of(r).await;
    let rows = change["customers"].as_array().expect("rows");
    let hanze = rows.iter().find(|r| r["customer"] == HANZE).expect("hanze");
    assert_eq!(
        (hanze["state"].as_str(), hanze["rule"].as_str()),
        (Some("refused"), Some("transfer_not_in_agreement"))
    );
    let schelde = rows.iter().find(|r| r["customer"] == SCHELDE).expect("schelde");
    assert_eq!(schelde["state"], "announced");

    // An entry that does not validate names its field; a stale version is refused.
    let mut bad = entry("X", "XX", None);
    bad["location"] = json!("Mars");
    let r = s.post("/api/v1/subprocessors").json(&bad).send().await.expect("send");
    assert_eq!(code(r).await.1, "subprocessor_invalid");
    let r = s
        .client
        .put(s.url(&format!("/api/v1/subprocessors/{scc}")))
        .bearer_auth(&s.token)
        .json(&json!({"version": 1, "entry": entry("Pune Support Services Pvt. Ltd.", "IN", Some("standard_contractual_clauses")), "note": "region added"}))
        .send()
        .await
        .expect("send");
    assert_eq!(json_of(r).await["version"], 2);
    let r = s
        .client
        .put(s.url(&format!("/api/v1/subprocessors/{scc}")))
        .bearer_auth(&s.token)
        .json(&json!({"version": 1, "entry": entry("Pune Support Services Pvt. Ltd.", "IN", Some("standard_contractual_clauses")), "note": "again"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.0, 409);

    // The signed contract: kept with its digest, given back with its file name.
    let pdf = b"%PDF-1.7 signed contract".to_vec();
    let r = s
        .client
        .put(s.url(&format!(
            "/api/v1/subprocessors/{scc}/contract?signed_on=2026-11-20&file_name=contract-pune.pdf"
        )))
        .bearer_auth(&s.token)
        .header("content-type", "application/pdf")
        .body(pdf.clone())
        .send()
        .await
        .expect("send");
    let kept = json_of(r).await;
    use sha2::Digest;
    assert_eq!(kept["contract"]["sha256"], hex::encode(sha2::Sha256::digest(&pdf)));
    let r = s
        .get(&format!("/api/v1/subprocessors/{scc}/contract"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .expect("cd")
            .contains("contract-pune.pdf"),
        "{:?}",
        r.headers()
    );
    assert_eq!(r.bytes().await.expect("bytes").to_vec(), pdf);
    let r = s
        .client
        .put(s.url(&format!(
            "/api/v1/subprocessors/{scc}/contract?signed_on=2026-11-20&file_name=big.pdf"
        )))
        .bearer_auth(&s.token)
        .body(vec![b'x'; 200 * 1024])
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        200,
        "a signed contract may be larger than the server's limit for other requests"
    );
    let r = s
        .client
        .put(s.url(&format!(
            "/api/v1/subprocessors/{scc}/contract?signed_on=2026-11-20&file_name=huge.pdf"
        )))
        .bearer_auth(&s.token)
        .body(vec![b'x'; 10 * 1024 * 1024 + 2])
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "payload_too_large");
    let r = s
        .get(&format!("/api/v1/subprocessors/{gap}/contract"))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "subprocessor_not_found");
    s.stop().await;
}

#[tokio::test]
async fn subprocessor_list_requests_fall_due_raise_one_alert_and_are_answered() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let lotte = account(&s, "lotte.admin", "customer_admin", Some(SCHELDE)).await;
    let r = send_as(
        &s,
        &lotte,
        reqwest::Method::POST,
        &format!("/api/v1/customers/{SCHELDE}/subprocessor-list-requests"),
        json!({"note": "Voor onze audit"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let req = json_of(r).await;
    let id = req["id"].as_u64().expect("id");
    assert_eq!(req["due_at"], "2026-12-22T10:00:00Z", "P30D from the request");
    let state = |s: &TestServer| {
        let (c, url, t) = (
            s.client.clone(),
            s.url(&format!("/api/v1/deadlines?customer={SCHELDE}")),
            s.token.clone(),
        );
        async move {
            let all = json_of(c.get(url).bearer_auth(t).send().await.expect("send")).await;
            all.as_array()
                .expect("deadlines")
                .iter()
                .find(|d| d["kind"] == "subprocessor_list" && d["subject"]["number"] == id)
                .map(|d| d["state"].as_str().unwrap_or_default().to_string())
        }
    };
    assert_eq!(state(&s).await.as_deref(), Some("open"));
    s.clock.set("2026-12-23T10:00:00Z".parse().expect("time"));
    assert_eq!(state(&s).await.as_deref(), Some("overdue"));
    let overdue = || async {
        let events = json_of(s.get("/api/v1/security/events").send().await.expect("send")).await;
        events
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["kind"] == "subprocessor_list_overdue")
            .count()
    };
    eventually("overdue list request not raised", || async {
        (overdue().await >= 1).then_some(())
    })
    .await;
    // Later runs of the job do not raise it again: a second request falls overdue a month on,
    // and once its alert is there (a later run), the first one's is still there once.
    let lotte = session_of(&s, "lotte.admin").await;
    let r = send_as(
        &s,
        &lotte,
        reqwest::Method::POST,
        &format!("/api/v1/customers/{SCHELDE}/subprocessor-list-requests"),
        json!({"note": "Nog een keer"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    s.clock.set("2027-01-23T10:00:00Z".parse().expect("time"));
    eventually("the second overdue request not raised", || async {
        (overdue().await >= 2).then_some(())
    })
    .await;
    assert_eq!(overdue().await, 2, "each request raised once");
    // The processor answers it; the customer sees it answered and the term met late.
    let lotte = session_of(&s, "lotte.admin").await;
    let r = s
        .post(&format!(
            "/api/v1/customers/{SCHELDE}/subprocessor-list-requests/{id}/answer"
        ))
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(json_of(r).await["answer_on"], "2027-01-23");
    let r = send_as(
        &s,
        &lotte,
        reqwest::Method::GET,
        &format!("/api/v1/customers/{SCHELDE}/subprocessor-list-requests"),
        json!({}),
    )
    .await;
    let mine = json_of(r).await;
    assert_eq!(mine.as_array().expect("list").len(), 2);
    assert!(mine[0]["answered_at"].is_string() && mine[1]["answered_at"].is_null());
    assert_eq!(state(&s).await.as_deref(), Some("met_late"));
    // A customer's admin does not answer.
    let r = send_as(
        &s,
        &lotte,
        reqwest::Method::POST,
        &format!("/api/v1/customers/{SCHELDE}/subprocessor-list-requests/{id}/answer"),
        json!({}),
    )
    .await;
    assert_eq!(code(r).await.0, 403);
    s.stop().await;
}

#[tokio::test]
async fn subprocessor_routes_are_in_the_openapi_document() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), false).await;
    let doc = s.json("/api/openapi.json").await;
    for (path, method) in [
        ("/api/v1/subprocessors", "post"),
        ("/api/v1/subprocessors/{id}", "put"),
        ("/api/v1/subprocessors/{id}/contract", "put"),
        ("/api/v1/subprocessor-changes", "post"),
        (
            "/api/v1/subprocessor-changes/{id}/customers/{customer}/decision",
            "post",
        ),
        ("/api/v1/customers/{customer}/subprocessors", "get"),
        (
            "/api/v1/customers/{customer}/subprocessor-changes/{id}/objection",
            "post",
        ),
        ("/api/v1/customers/{customer}/subprocessor-feed-key", "post"),
        ("/feeds/{customer}/subprocessors.atom", "get"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path}");
        assert!(
            op["responses"]["default"].is_object(),
            "{method} {path}: errors declared: {op}"
        );
    }
    let feed = &doc["paths"]["/feeds/{customer}/subprocessors.atom"]["get"];
    assert!(
        feed["security"].as_array().is_none_or(|a| a.is_empty()),
        "the key is the credential"
    );
    assert!(
        feed["responses"]["200"]["content"]["application/atom+xml"].is_object(),
        "{feed}"
    );
    let list = &doc["paths"]["/api/v1/customers/{customer}/subprocessors"]["get"]["responses"]["200"]["content"];
    for media in ["application/json", "text/csv", "text/html"] {
        assert!(list[media].is_object(), "{media}: {list}");
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "ObjectionDecision",
        "EntryUpdateBody",
        "InForceQuery",
        "AtomQuery",
        "AnnounceBody",
        "ChangeView",
        "Entry",
        "Contract",
        "ChangeKind",
        "CustomerState",
        "Text",
        "Decision",
    ] {
        assert!(
            !schemas.contains_key(&format!("{name}2")),
            "two schemas share the name {name}"
        );
    }
    s.stop().await;
}
