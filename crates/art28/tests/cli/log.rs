use crate::serve::{kill, serve};
use crate::{art28, stdout};
use art28_ledger::bundle::Bundle;
use art28_ledger::checkpoint::{Checkpoint, LogSigner};
use base64::Engine;
use std::path::Path;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn get(client: &reqwest::Client, r: &crate::serve::Running, path: &str) -> reqwest::Response {
    client
        .get(format!("{}{path}", r.base))
        .bearer_auth(&r.token)
        .send()
        .await
        .expect("send")
}

fn verify(dir: &Path, bundle: &Bundle, key: &str, checkpoint: Option<&str>) -> (i32, String) {
    let file = dir.join(format!("bundle-{}.json", rand_suffix()));
    std::fs::write(&file, bundle.to_json()).expect("write");
    let mut cmd = art28();
    cmd.args(["log", "verify"]).arg(&file).args(["--key", key]);
    if let Some(cp) = checkpoint {
        let f = dir.join(format!("cp-{}.txt", rand_suffix()));
        std::fs::write(&f, cp).expect("write");
        cmd.arg("--checkpoint").arg(f);
    }
    let out = cmd.output().expect("run");
    (out.status.code().unwrap_or(-1), stdout(&out))
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

#[tokio::test]
async fn log_verify_accepts_a_true_bundle_and_names_each_kind_of_tampering() {
    let data = tempfile::tempdir().expect("tmp");
    let work = tempfile::tempdir().expect("tmp");
    let mut r = serve(data.path(), &["--demo"]);
    let client = reqwest::Client::new();
    for _ in 0..6 {
        assert_eq!(
            get(&client, &r, "/api/v1/customers/bakkerij-de-vries/agreement")
                .await
                .status(),
            200
        );
    }
    let key = client
        .get(format!("{}/.well-known/art28/log-key", r.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("key");
    let key = key.trim().to_string();
    let earlier = get(&client, &r, "/api/v1/log/checkpoint")
        .await
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let earlier_note = earlier["note"].as_str().expect("note").to_string();
    for _ in 0..3 {
        get(&client, &r, "/api/v1/customers/bakkerij-de-vries").await;
    }
    let text = get(
        &client,
        &r,
        &format!(
            "/api/v1/customers/bakkerij-de-vries/log/bundle?since={}",
            earlier["size"]
        ),
    )
    .await
    .text()
    .await
    .expect("bundle");
    let bundle = Bundle::from_json(&text).expect("bundle");
    assert!(bundle.entries.len() >= 8);
    kill(&mut r, "-TERM");

    let (code, out) = verify(work.path(), &bundle, &key, Some(&earlier_note));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{} entries verified", bundle.entries.len())),
        "{out}"
    );

    // A key given as a file works too.
    let key_file = work.path().join("log.vkey");
    std::fs::write(&key_file, format!("{key}\n")).expect("write");
    assert_eq!(
        verify(work.path(), &bundle, key_file.to_str().expect("path"), None).0,
        0
    );

    // 1. A changed entry (one of the reads above: the demo's own entries come first).
    let mut b = bundle.clone();
    let decoded =
        |e: &art28_ledger::bundle::BundleEntry| String::from_utf8(B64.decode(&e.entry).expect("b64")).expect("utf8");
    let read = b
        .entries
        .iter()
        .position(|e| decoded(e).contains("agreement.read"))
        .expect("a read in the bundle");
    let changed = decoded(&b.entries[read]).replace("agreement.read", "agreement.rend");
    b.entries[read].entry = B64.encode(changed);
    let (code, out) = verify(work.path(), &b, &key, None);
    assert_eq!(code, 1);
    assert!(out.contains(&format!("index {}", b.entries[read].index)), "{out}");

    // 2. A dropped entry: the rest still verify, so a bundle cannot prove completeness by itself;
    //    but an entry moved to another index does not.
    let mut b = bundle.clone();
    let removed = b.entries.remove(3);
    assert_eq!(
        verify(work.path(), &b, &key, None).0,
        0,
        "dropping is visible only as a gap; each entry stands on its own"
    );
    b.entries[3].index = removed.index;
    let (code, out) = verify(work.path(), &b, &key, None);
    assert_eq!(code, 1, "{out}");

    // 3. Two entries swapped.
    let mut b = bundle.clone();
    let (first, second) = (b.entries[1].entry.clone(), b.entries[2].entry.clone());
    b.entries[1].entry = second;
    b.entries[2].entry = first;
    let (code, out) = verify(work.path(), &b, &key, None);
    assert_eq!(code, 1);
    assert!(
        out.matches("inclusion").count() >= 2 || out.lines().count() >= 3,
        "{out}"
    );

    // 4. A fork: the same size with another root, signed with the real key (a processor
    //    rewriting history has the key; only the checkpoint the auditor kept can catch it).
    let secret = std::fs::read_to_string(data.path().join("log-signing.key")).expect("key file");
    let secret: [u8; 32] = hex::decode(secret.trim()).expect("hex").try_into().expect("32 bytes");
    let signer = LogSigner::from_bytes(&bundle.origin, &secret).expect("signer");
    let real = signer.verifier().verify(&bundle.checkpoint).expect("real checkpoint");
    let forged = signer.sign(&Checkpoint {
        origin: real.origin.clone(),
        size: real.size,
        root: [7u8; 32],
    });
    let mut b = bundle.clone();
    b.consistency.clear();
    let (code, out) = verify(work.path(), &b, &key, Some(&forged));
    assert_eq!(code, 1);
    assert!(out.to_lowercase().contains("fork"), "{out}");

    // 5. The wrong key.
    let other = LogSigner::generate(&bundle.origin)
        .expect("other key")
        .verifier()
        .to_vkey();
    let (code, out) = verify(work.path(), &bundle, &other, None);
    assert_eq!(code, 1);
    assert!(out.contains("signature") || out.contains("key"), "{out}");

    // 6. Garbage instead of a bundle, and a malformed key.
    let junk = work.path().join("junk.json");
    std::fs::write(&junk, "{\"not\": \"a bundle\"}").expect("write");
    let out = art28()
        .args(["log", "verify"])
        .arg(&junk)
        .args(["--key", &key])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = art28()
        .args(["log", "verify"])
        .arg(&junk)
        .args(["--key", "nonsense+key"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn log_consistency_checks_that_a_later_checkpoint_extends_an_earlier_one() {
    let data = tempfile::tempdir().expect("tmp");
    let work = tempfile::tempdir().expect("tmp");
    let mut r = serve(data.path(), &["--demo"]);
    let client = reqwest::Client::new();
    let key = client
        .get(format!("{}/.well-known/art28/log-key", r.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("key");
    let old = get(&client, &r, "/api/v1/log/checkpoint")
        .await
        .json::<serde_json::Value>()
        .await
        .expect("json");
    for _ in 0..4 {
        get(&client, &r, "/api/v1/customers/bakkerij-de-vries").await;
    }
    let proof = get(&client, &r, &format!("/api/v1/log/consistency?old={}", old["size"]))
        .await
        .text()
        .await
        .expect("proof");
    kill(&mut r, "-TERM");
    let v: serde_json::Value = serde_json::from_str(&proof).expect("json");
    let (old_f, new_f, proof_f) = (
        work.path().join("old"),
        work.path().join("new"),
        work.path().join("proof.json"),
    );
    std::fs::write(&old_f, old["note"].as_str().expect("note")).expect("write");
    std::fs::write(&new_f, v["new"]["note"].as_str().expect("note")).expect("write");
    std::fs::write(&proof_f, &proof).expect("write");
    let run = |a: &Path, b: &Path| {
        art28()
            .args(["log", "consistency"])
            .arg(a)
            .arg(b)
            .arg("--proof")
            .arg(&proof_f)
            .args(["--key", key.trim()])
            .output()
            .expect("run")
    };
    let ok = run(&old_f, &new_f);
    assert!(ok.status.success(), "{}", stdout(&ok));
    let swapped = run(&new_f, &old_f);
    assert_eq!(swapped.status.code(), Some(1), "{}", stdout(&swapped));
}

#[tokio::test]
async fn kill_9_under_load_loses_no_acknowledged_entry_and_the_log_verifies_after_each_restart() {
    let data = tempfile::tempdir().expect("tmp");
    let work = tempfile::tempdir().expect("tmp");
    let client = reqwest::Client::new();
    let mut acknowledged: Vec<String> = Vec::new();
    let mut key: Option<String> = None;
    for round in 0..3 {
        let mut r = serve(data.path(), &["--demo"]);
        let k = client
            .get(format!("{}/.well-known/art28/log-key", r.base))
            .send()
            .await
            .expect("send")
            .text()
            .await
            .expect("key");
        assert_eq!(key.get_or_insert_with(|| k.clone()), &k, "same key after restart");

        // Everything acknowledged before any crash is in the log, and the log verifies.
        let bundle = Bundle::from_json(
            &get(&client, &r, "/api/v1/customers/bakkerij-de-vries/log/bundle")
                .await
                .text()
                .await
                .expect("text"),
        )
        .expect("bundle");
        let (code, out) = verify(work.path(), &bundle, k.trim(), None);
        assert_eq!(code, 0, "round {round}: {out}");
        let logged: std::collections::HashSet<String> = bundle
            .entries
            .iter()
            .map(|e| {
                let bytes = B64.decode(&e.entry).expect("b64");
                art28_core::access::AccessEntry::from_bytes(&bytes)
                    .expect("entry")
                    .access_id
            })
            .collect();
        let missing: Vec<&String> = acknowledged.iter().filter(|a| !logged.contains(*a)).collect();
        assert!(missing.is_empty(), "round {round}: acknowledged but lost: {missing:?}");

        // Load: 8 concurrent readers; kill -9 while they run.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (c, base, token, tx) = (client.clone(), r.base.clone(), r.token.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..1000 {
                    let Ok(resp) = c
                        .get(format!("{base}/api/v1/customers/bakkerij-de-vries"))
                        .bearer_auth(&token)
                        .send()
                        .await
                    else {
                        break;
                    };
                    if resp.status() != 200 {
                        break;
                    }
                    if let Some(id) = resp.headers().get("x-art28-access-id").and_then(|v| v.to_str().ok()) {
                        let _ = tx.send(id.to_string());
                    }
                }
            }));
        }
        drop(tx);
        // Wait until a good number of reads are acknowledged, then crash.
        let mut this_round = 0;
        while let Some(id) = rx.recv().await {
            acknowledged.push(id);
            this_round += 1;
            if this_round == 200 {
                break;
            }
        }
        kill(&mut r, "-KILL");
        while let Some(id) = rx.recv().await {
            acknowledged.push(id);
        }
        for t in tasks {
            let _ = t.await;
        }
        assert!(this_round >= 200, "round {round}: load ran");
    }
    assert!(acknowledged.len() >= 600);
}

#[tokio::test]
async fn the_bakerys_bundle_proves_it_was_told_of_the_demos_sub_processor_change() {
    let data = tempfile::tempdir().expect("tmp");
    let work = tempfile::tempdir().expect("tmp");
    let mut r = serve(data.path(), &["--demo"]);
    let client = reqwest::Client::new();
    let key = client
        .get(format!("{}/.well-known/art28/log-key", r.base))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("key");
    // The demo announced a new sub-processor to every customer and the bakery objected; the
    // entries are in the bundle once the log has folded them (every second).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (bundle, operations) = loop {
        let text = get(&client, &r, "/api/v1/customers/bakkerij-de-vries/log/bundle")
            .await
            .text()
            .await
            .expect("bundle");
        let bundle = Bundle::from_json(&text).expect("bundle");
        let operations: Vec<String> = bundle
            .entries
            .iter()
            .filter_map(|e| {
                let json: serde_json::Value = serde_json::from_slice(&B64.decode(&e.entry).ok()?).ok()?;
                Some(format!(
                    "{} {}",
                    json["operation"].as_str()?,
                    json["resource"].as_str().unwrap_or_default()
                ))
            })
            .collect();
        if operations.iter().any(|o| o.starts_with("subprocessor.object ")) {
            break (bundle, operations);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not folded in time: {operations:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    kill(&mut r, "-TERM");
    assert!(
        operations
            .iter()
            .any(|o| o.starts_with("subprocessor.announce subprocessor/change/1?state=announced&effective=")),
        "{operations:#?}"
    );
    let (code, out) = verify(work.path(), &bundle, key.trim(), None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{} entries verified", bundle.entries.len())),
        "{out}"
    );
}
