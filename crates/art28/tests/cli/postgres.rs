//! `art28 serve` on PostgreSQL: the start's errors, serving, restarts and crashes, and the keys
//! every node must share. The server is the throwaway cluster scripts/test starts
//! (`TEST_POSTGRES_URL`).

use crate::aiosmtpd::{Smtp, free_port, header, raw_messages};
use crate::outbox::{breach_with_notices, call};
use crate::serve::{kill, serve_with_env};
use crate::{art28, stderr};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A new, empty database on the test server; its URL.
pub async fn fresh_database() -> String {
    crate::pg::fresh_database("art28_cli").await
}

/// `art28 serve` with this database; its exit code and standard error, within 20 s.
fn refused(database: &str) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().expect("tmp");
    let started = Instant::now();
    let out = art28()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("ART28_DATABASE", database)
        .env("ART28_LOG", "warn")
        .output()
        .expect("run");
    (out.status.code(), stderr(&out), started.elapsed())
}

/// Each way a database can be wrong stops the start with one line naming what is wrong, and
/// never shows the password.
#[tokio::test]
async fn a_database_that_cannot_be_used_stops_the_start_with_one_clear_line() {
    let good = url::Url::parse(&crate::pg::server()).expect("url");
    let mut wrong_password = good.clone();
    wrong_password
        .set_password(Some("not-the-password-4711"))
        .expect("password");
    let mut no_database = good.clone();
    no_database.set_path("art28_does_not_exist");
    let mut unreachable = good.clone();
    // A port nothing listens on: one the test binds and closes again.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    unreachable.set_port(Some(port)).expect("port");
    for (database, code, says) in [
        ("mysql://root@localhost/art28".to_string(), Some(2), "[config_invalid]"),
        (
            "postgres://art28@host:notaport/db".to_string(),
            Some(2),
            "[config_invalid]",
        ),
        (wrong_password.to_string(), Some(1), "refused the user name or password"),
        (no_database.to_string(), Some(1), "the database does not exist"),
        (unreachable.to_string(), Some(1), "[storage_unavailable]"),
    ] {
        let (status, err, took) = refused(&database);
        assert_eq!(status, code, "{database}: {err}");
        assert!(err.contains(says), "{database}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "one line for {database}: {err}");
        assert!(lines[0].starts_with("error: "), "{err}");
        assert!(!err.contains("not-the-password-4711"), "the password shows: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(took < Duration::from_secs(15), "{database} took {took:?}");
    }
}

/// On PostgreSQL the demo is served as on SQLite; a restart finds it again, and a `kill -9`
/// right after an acknowledged write loses nothing.
#[tokio::test]
async fn serves_on_postgres_across_restarts_and_kill_9() {
    let database = fresh_database().await;
    let dir = tempfile::tempdir().expect("tmp");
    let env = [("ART28_DATABASE", database.as_str())];
    let client = reqwest::Client::new();
    let customers = |base: String, token: String| {
        let client = client.clone();
        async move {
            let v: serde_json::Value = client
                .get(format!("{base}/api/v1/customers"))
                .bearer_auth(token)
                .send()
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            v.as_array().map(Vec::len).unwrap_or(0)
        }
    };
    let mut r = serve_with_env(dir.path(), &["--demo"], &env);
    assert_eq!(customers(r.base.clone(), r.token.clone()).await, 3);
    assert!(kill(&mut r, "-TERM").success());
    for round in 0..3 {
        let mut r = serve_with_env(dir.path(), &[], &env);
        assert_eq!(customers(r.base.clone(), r.token.clone()).await, 3 + round);
        let resp = client
            .post(format!("{}/api/v1/customers", r.base))
            .bearer_auth(&r.token)
            .json(&serde_json::json!({"id": format!("pg-klant-{round}"), "name": "PG klant"}))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 201, "round {round}");
        assert!(!kill(&mut r, "-KILL").success());
    }
    let mut r = serve_with_env(dir.path(), &[], &env);
    assert_eq!(customers(r.base.clone(), r.token.clone()).await, 6);
    assert!(kill(&mut r, "-TERM").success());
}

/// A second node with keys of its own is refused: the database holds the first node's
/// signing key and master key. With the first node's key files it starts.
#[tokio::test]
async fn a_node_with_other_keys_is_refused_and_one_with_the_same_keys_starts() {
    let database = fresh_database().await;
    let (a, b) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    let env = [("ART28_DATABASE", database.as_str())];
    let mut first = serve_with_env(a.path(), &["--demo"], &env);

    let out = art28()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(b.path())
        .env("ART28_DATABASE", &database)
        .env("ART28_LOG", "warn")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("log signing key is not the one"),
        "{}",
        stderr(&out)
    );

    // The same signing key, another vault keyring: refused for the keyring.
    let keys = b.path().join("shared");
    std::fs::create_dir(&keys).expect("dir");
    std::fs::copy(a.path().join("log-signing.key"), keys.join("log.key")).expect("copy");
    let log_key = keys.join("log.key");
    let out = art28()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(b.path())
        .env("ART28_DATABASE", &database)
        .env("ART28_LOG_SIGNING_KEY_FILE", &log_key)
        .env("ART28_LOG", "warn")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("lacks master key"), "{}", stderr(&out));

    std::fs::copy(a.path().join("vault.keys"), keys.join("vault.keys")).expect("copy");
    let vault_keys = keys.join("vault.keys");
    let env_b = [
        ("ART28_DATABASE", database.as_str()),
        ("ART28_LOG_SIGNING_KEY_FILE", log_key.to_str().expect("utf-8")),
        ("ART28_VAULT_KEYS_FILE", vault_keys.to_str().expect("utf-8")),
    ];
    let mut second = serve_with_env(b.path(), &[], &env_b);
    let key = |base: String| async move {
        reqwest::get(format!("{base}/.well-known/art28/log-key"))
            .await
            .expect("send")
            .text()
            .await
            .expect("text")
    };
    assert_eq!(key(first.base.clone()).await, key(second.base.clone()).await);
    assert!(kill(&mut second, "-TERM").success());
    assert!(kill(&mut first, "-TERM").success());
}

/// A value of the database, read directly.
async fn db_i64(database: &str, sql: &str) -> i64 {
    let (client, conn) = tokio_postgres::connect(database, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let conn = tokio::spawn(conn);
    let v: i64 = client.query_one(sql, &[]).await.expect("query").get(0);
    drop(client);
    let _ = conn.await;
    v
}

/// Two `art28 serve` on one database, written through both at once; one is killed with
/// `kill -9` mid-load. Every acknowledged write and access entry is there afterwards, the
/// customer's bundle verifies offline, each breach notice reached the SMTP server exactly once
/// per recipient, and the surviving node folded what was logged after the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_one_database_and_survive_a_kill_9_of_one() {
    let database = fresh_database().await;
    let dirs = tempfile::tempdir().expect("tmp");
    let (a_dir, b_dir, maildir) = (dirs.path().join("a"), dirs.path().join("b"), dirs.path().join("mail"));
    let port = free_port();
    let _smtp = Smtp::start(port, &maildir);
    let relay = format!("127.0.0.1:{port}");
    let a_env = [
        ("ART28_DATABASE", database.as_str()),
        ("ART28_SMTP_RELAY", relay.as_str()),
    ];
    let mut a = serve_with_env(&a_dir, &["--demo"], &a_env);
    let (log_key, vault_keys) = (a_dir.join("log-signing.key"), a_dir.join("vault.keys"));
    let b_env = [
        ("ART28_DATABASE", database.as_str()),
        ("ART28_SMTP_RELAY", relay.as_str()),
        ("ART28_LOG_SIGNING_KEY_FILE", log_key.to_str().expect("utf-8")),
        ("ART28_VAULT_KEYS_FILE", vault_keys.to_str().expect("utf-8")),
    ];
    let mut b = serve_with_env(&b_dir, &[], &b_env);
    let c = reqwest::Client::new();

    // A breach with notices to two customers (two breach contacts each), its calls spread
    // over both nodes while both nodes' outboxes run.
    let (id, keys) = breach_with_notices(&c, &[&b, &a]).await;
    assert_eq!(keys.len(), 4);

    // The load: 8 writers, each alternating between the nodes, creating customers and reading
    // one customer's agreement (a logged read). A is killed once 150 calls were acknowledged.
    let nodes = [(a.base.clone(), a.token.clone()), (b.base.clone(), b.token.clone())];
    let acked = Arc::new(AtomicUsize::new(0));
    let half = Arc::new(tokio::sync::Notify::new());
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..8usize {
        let (c, nodes, acked, half) = (c.clone(), nodes.clone(), acked.clone(), half.clone());
        writers.spawn(async move {
            let (mut created, mut reads) = (Vec::new(), Vec::new());
            for i in 0..50usize {
                let (base, token) = &nodes[(w + i) % 2];
                let cid = format!("mn-{w}-{i}");
                let r = c
                    .post(format!("{base}/api/v1/customers"))
                    .bearer_auth(token)
                    .json(&json!({"id": cid, "name": "Klant"}))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status() == 201
                {
                    created.push(cid);
                    if acked.fetch_add(1, Ordering::SeqCst) + 1 == 150 {
                        half.notify_one();
                    }
                }
                let (base, token) = &nodes[(w + i + 1) % 2];
                let r = c
                    .get(format!("{base}/api/v1/customers/bakkerij-de-vries/agreement"))
                    .bearer_auth(token)
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status() == 200
                {
                    let access = r
                        .headers()
                        .get("x-art28-access-id")
                        .and_then(|h| h.to_str().ok())
                        .map(str::to_string);
                    reads.push(access.expect("a logged read names its entry"));
                    if acked.fetch_add(1, Ordering::SeqCst) + 1 == 150 {
                        half.notify_one();
                    }
                }
            }
            (created, reads)
        });
    }
    tokio::time::timeout(Duration::from_secs(60), half.notified())
        .await
        .expect("150 calls acknowledged within a minute");
    assert!(!kill(&mut a, "-KILL").success());
    let at_kill = db_i64(&database, "SELECT size FROM log_head").await;
    let (mut created, mut reads) = (Vec::new(), Vec::new());
    for (cs, rs) in writers.join_all().await {
        created.extend(cs);
        reads.extend(rs);
    }
    assert!(created.len() > 150, "writes went on through B: {}", created.len());

    // The surviving node took over folding: everything logged, after the kill too, is in a
    // checkpoint without any request that folds on demand.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let size = db_i64(&database, "SELECT size FROM log_head").await;
        let folded = db_i64(&database, "SELECT COALESCE(MAX(size), 0) FROM checkpoints").await;
        if folded == size && size > at_kill {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B did not fold: log {size}, checkpoint {folded}, at the kill {at_kill}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Every acknowledged customer is there.
    let listed = call(&c, &b, "GET", "/api/v1/customers", json!(null)).await;
    let ids: std::collections::BTreeSet<String> = listed
        .as_array()
        .expect("customers")
        .iter()
        .filter_map(|x| x["id"].as_str().map(str::to_string))
        .collect();
    for cid in &created {
        assert!(ids.contains(cid), "{cid} was acknowledged but is gone");
    }
    // Every acknowledged read is in the customer's log, and its bundle verifies offline.
    let bundle = c
        .get(format!("{}/api/v1/customers/bakkerij-de-vries/log/bundle", b.base))
        .bearer_auth(&b.token)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("bundle");
    let parsed = art28_ledger::bundle::Bundle::from_json(&bundle).expect("bundle");
    let logged: std::collections::BTreeSet<String> = parsed
        .entries
        .iter()
        .filter_map(|e| {
            let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &e.entry).ok()?;
            let v: Value = serde_json::from_slice(&bytes).ok()?;
            v["access_id"].as_str().map(str::to_string)
        })
        .collect();
    for access in &reads {
        assert!(logged.contains(access), "acknowledged read {access} is not in the log");
    }
    let file = dirs.path().join("bundle.json");
    std::fs::write(&file, &bundle).expect("write");
    let key = reqwest::get(format!("{}/.well-known/art28/log-key", b.base))
        .await
        .expect("send")
        .text()
        .await
        .expect("key");
    let out = art28()
        .args(["log", "verify"])
        .arg(&file)
        .args(["--key", key.trim()])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}{}", crate::stdout(&out), stderr(&out));

    // Each notice reached the SMTP server once per recipient.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = call(&c, &b, "GET", &format!("/api/v1/incidents/{id}/notices"), json!(null)).await;
        let all_sent = n
            .as_array()
            .expect("notices")
            .iter()
            .flat_map(|n| n["deliveries"].as_array().cloned().unwrap_or_default())
            .all(|d| d["status"] == "sent");
        if all_sent {
            break;
        }
        assert!(Instant::now() < deadline, "not delivered: {n}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got: Vec<String> = raw_messages(&maildir).iter().map(|m| header(m, "Message-ID")).collect();
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
    assert!(kill(&mut b, "-TERM").success());
}
