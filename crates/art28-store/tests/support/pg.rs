//! The PostgreSQL server the tests use: the throwaway cluster scripts/test starts with
//! scripts/pg-cluster, named by `TEST_POSTGRES_URL` (a role that may create databases). Shared
//! by the store's and the binary's tests.

use std::sync::atomic::{AtomicU64, Ordering};

static DATABASES: AtomicU64 = AtomicU64::new(0);

/// The test server's URL.
pub fn server() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .expect("TEST_POSTGRES_URL is not set: run scripts/test, or `eval \"$(scripts/pg-cluster start)\"` first")
}

/// A new, empty database on the test server, named after `prefix`, this process and a
/// counter; its URL.
pub async fn fresh_database(prefix: &str) -> String {
    let base = server();
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    );
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("connect to the test server");
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
