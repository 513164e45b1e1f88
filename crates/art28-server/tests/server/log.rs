use crate::harness::{code, start};
use art28_ledger::bundle::{Bundle, verify_bundle};
use art28_ledger::checkpoint::LogVerifier;
use base64::Engine;
use serde_json::Value;

async fn verifier(s: &crate::harness::TestServer) -> LogVerifier {
    let text = s
        .client
        .get(s.url("/.well-known/art28/log-key"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    text.trim().parse().expect("a C2SP verifier key")
}

async fn bundle(s: &crate::harness::TestServer, customer: &str, query: &str) -> Bundle {
    let r = s
        .get(&format!("/api/v1/customers/{customer}/log/bundle{query}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    Bundle::from_json(&r.text().await.expect("text")).expect("bundle")
}

#[tokio::test]
async fn every_access_to_a_customer_is_logged_and_verifiable_offline() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let key = verifier(&s).await;

    // A granted read carries its access id.
    let r = s.get("/api/v1/customers/bakkerij-de-vries").send().await.expect("send");
    assert_eq!(r.status(), 200);
    let access_id = r.headers()["x-art28-access-id"].to_str().expect("header").to_string();
    assert!(access_id.starts_with("acc_"));
    // A refused read of an existing customer is logged with the rule; of an unknown one it is not.
    let r = s
        .client
        .get(s.url("/api/v1/customers/bakkerij-de-vries/agreement"))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "authentication_required");
    let r = s
        .client
        .get(s.url("/api/v1/customers/no-such-customer"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);

    let page: Value = s
        .get("/api/v1/customers/bakkerij-de-vries/log")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let entries = page["entries"].as_array().expect("entries");
    let ops: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["entry"]["operation"].as_str().unwrap_or(""),
                e["entry"]["decision"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            ("agreement.record", "granted"),
            ("customer.read", "granted"),
            ("agreement.read", "refused")
        ]
    );
    assert_eq!(entries[1]["entry"]["access_id"], access_id.as_str());
    assert_eq!(entries[1]["entry"]["time"], "2026-11-22T10:00:00Z");
    assert_eq!(entries[2]["entry"]["rule"], "authentication_required");
    assert_eq!(entries[2]["entry"]["actor"]["kind"], "anonymous");
    assert!(
        entries.iter().all(|e| e["entry"]["tenant"] == "bakkerij-de-vries"),
        "only this customer's entries"
    );
    assert!(key.verify(page["checkpoint"]["note"].as_str().expect("note")).is_ok());

    // The evidence bundle verifies offline with the published key…
    let b = bundle(&s, "bakkerij-de-vries", "").await;
    assert!(b.entries.len() >= 3, "the page read itself is logged too");
    let report = verify_bundle(&b, &key, None).expect("bundle verifies");
    assert_eq!(report.entries_verified, b.entries.len());

    // …and any change to an entry is caught.
    let mut tampered = b.clone();
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine.decode(&tampered.entries[1].entry).expect("b64");
    let text = String::from_utf8(bytes.clone())
        .expect("utf8")
        .replace("\"granted\"", "\"refused\"");
    bytes = text.into_bytes();
    tampered.entries[1].entry = engine.encode(bytes);
    let failures = verify_bundle(&tampered, &key, None).expect_err("tampering detected");
    assert!(
        failures
            .iter()
            .any(|f| f.to_string().contains(&format!("{}", tampered.entries[1].index))),
        "{failures:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn later_checkpoints_extend_earlier_ones_across_restarts() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let key = verifier(&s).await;
    let first: Value = s
        .get("/api/v1/log/checkpoint")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let first_size = first["size"].as_u64().expect("size");
    let first_note = first["note"].as_str().expect("note").to_string();
    s.stop().await;

    let s = start(dir.path(), false).await;
    assert_eq!(
        verifier(&s).await.to_vkey(),
        key.to_vkey(),
        "the signing key survives a restart"
    );
    for _ in 0..5 {
        assert_eq!(
            s.get("/api/v1/customers/erp-integrator-klant")
                .send()
                .await
                .expect("send")
                .status(),
            404
        );
        assert_eq!(
            s.get("/api/v1/customers/bakkerij-de-vries/agreements")
                .send()
                .await
                .expect("send")
                .status(),
            200
        );
    }
    let b = bundle(&s, "bakkerij-de-vries", &format!("?since={first_size}")).await;
    assert_eq!(b.consistency.len(), 1);
    let report = verify_bundle(&b, &key, Some(&first_note)).expect("consistent with the trusted checkpoint");
    assert!(report.checkpoint.size > first_size);

    let c: Value = s
        .get(&format!("/api/v1/log/consistency?old={first_size}"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let proof: Vec<[u8; 32]> = c["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(|h| hex_to_hash(h.as_str().expect("hex")))
        .collect();
    art28_ledger::bundle::verify_consistency_notes(&first_note, c["new"]["note"].as_str().expect("note"), &proof, &key)
        .expect("consistent");
    let (st, code, _) = code(s.get("/api/v1/log/consistency?old=999999").send().await.expect("send")).await;
    assert_eq!((st, code.as_str()), (400, "bad_request"));
    s.stop().await;
}

fn hex_to_hash(h: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, chunk) in h.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(chunk).expect("utf8"), 16).expect("hex");
    }
    out
}
