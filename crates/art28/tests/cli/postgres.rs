//! `art28 serve` on PostgreSQL: the start's errors, serving, restarts and crashes, and the keys
//! every node must share. The server is the throwaway cluster scripts/test starts
//! (`TEST_POSTGRES_URL`).

use crate::serve::{kill, serve_with_env};
use crate::{art28, stderr};
use std::time::{Duration, Instant};

static DATABASES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The test server's URL (a role that may create databases).
fn server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .expect("TEST_POSTGRES_URL is not set: run scripts/test, or `eval \"$(scripts/pg-cluster start)\"` first")
}

/// A new, empty database on the test server; its URL.
pub async fn fresh_database() -> String {
    let base = server();
    let name = format!(
        "art28_cli_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let conn = tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"))
        .await
        .expect("create database");
    drop(client);
    let _ = conn.await;
    let mut url = url::Url::parse(&base).expect("url");
    url.set_path(&name);
    url.to_string()
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
    let good = url::Url::parse(&server()).expect("url");
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
    let r = serve_with_env(dir.path(), &[], &env);
    assert_eq!(customers(r.base.clone(), r.token.clone()).await, 6);
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
