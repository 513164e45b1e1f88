//! The HTTP part of `art28 bench vault`: the server on loopback, loaded by `wrk` with 32
//! connections doing the same write/read mix as the in-process figure it is compared with.

use crate::bench_peers::Timed;
use crate::bench_vault::{bench_collection, bench_tenant, create_body, in_process_mix, setup_one};
use art28_core::auth::{LockoutPolicy, Permission, Principal};
use art28_core::ids::CustomerId;
use art28_service::access::RequestContext;
use art28_service::accounts::{AccountRequest, Accounts, TokenRequest};
use art28_service::clock::{Clock, SystemClock};
use art28_service::passwords::{Argon2Params, PasswordHasher};
use art28_store::sqlite::SqliteStore;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The data directory's keyring (made on first use), so the server opens what was sealed.
pub fn keyring(dir: &Path) -> Result<art28_crypto::Keyring, String> {
    art28_server::datadir::read_keyring(dir).map_err(err)
}

/// One GET over a plain TCP connection; returns the whole response as text.
async fn probe(addr: std::net::SocketAddr, path: &str, token: &str) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(err)?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(err)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.map_err(err)?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

pub(crate) fn wrk_available() -> bool {
    std::process::Command::new("wrk").arg("--version").output().is_ok()
}

/// Requests per second over HTTP vs the same mix in process; `{"skipped": why}` without wrk.
pub async fn http_mix(dir: &Path, quick: bool, show: bool) -> Result<serde_json::Value, String> {
    if !wrk_available() {
        return Ok(json!({ "skipped": "wrk is not installed (apt-get install wrk)" }));
    }
    let seconds: u32 = if quick { 3 } else { 10 };
    let data = dir.join("http");
    std::fs::create_dir_all(&data).map_err(err)?;
    let t = bench_tenant();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Prepare the data directory: a customer with the collection, one record to read, and a
    // machine token of the customer's admin for the vault.
    let (token, record) = {
        let store = Arc::new(SqliteStore::open(&data.join("art28.sqlite")).map_err(err)?);
        let vault = setup_one(store.clone(), &data).await?;
        let accounts = BenchAccounts::new(store.clone()).await?;
        let (principal, token) = accounts.customer_token(&t).await?;
        let mut ctx = RequestContext::of(art28_core::access::Actor::operator());
        ctx.purpose = Some("payroll".into());
        let body = create_body(0);
        let values: art28_core::vault::Values = serde_json::from_value(body["values"].clone()).map_err(err)?;
        let (record, _) = vault
            .create(&ctx, &principal, &t, "employees", "emp-first", &values)
            .await
            .map_err(err)?;
        (token, record)
    };

    let config = art28_server::config::Config {
        data_dir: data.clone(),
        listen: "127.0.0.1:0".parse().map_err(err)?,
        ..art28_server::config::Config::default()
    };
    let bound = art28_server::bind(&config, clock.clone()).await.map_err(err)?;
    let addr = bound.local_addr().map_err(err)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bound.run(async {
        let _ = stopped.await;
    }));

    let base = format!("/api/v1/customers/{t}/vault/collections/employees/records");
    // One request by hand first, so a misconfigured run says why instead of only counting failures.
    let first = probe(addr, &format!("{base}/{record}?purpose=payroll"), &token).await?;
    if !first.starts_with("HTTP/1.1 200") {
        let _ = stop.send(());
        let _ = server.await;
        return Err(format!("the server refused the bench's first read:\n{first}"));
    }
    let values = serde_json::to_string(&create_body(0)["values"]).map_err(err)?;
    let script = format!(
        r#"wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
local i = 0
request = function()
  i = i + 1
  if i % 2 == 0 then
    return wrk.format("POST", "{base}?purpose=payroll", nil, '{{"subject":"emp-http-' .. i .. '","values":{values}}}')
  else
    return wrk.format("GET", "{base}/{record}?purpose=payroll")
  end
end
"#
    );
    if show {
        eprintln!("wrk: 32 connections, {seconds} s, half creates, half reads …");
    }
    let http_rps = run_wrk(dir, "mix", &script, 32, seconds, &addr.to_string()).await;
    let _ = stop.send(());
    let _ = server.await;
    let http_rps = http_rps?.per_s;

    // The same mix in process, on a store of its own, with 32 concurrent tasks.
    let inproc_dir = dir.join("inproc");
    std::fs::create_dir_all(&inproc_dir).map_err(err)?;
    let store = Arc::new(SqliteStore::open(&inproc_dir.join("art28.sqlite")).map_err(err)?);
    let vault = setup_one(store, &inproc_dir).await?;
    let _ = bench_collection();
    let inproc_rps = in_process_mix(&vault, &t, f64::from(seconds), 32).await?;
    Ok(json!({
        "tool": "wrk -t2 -c32",
        "seconds": seconds,
        "http_requests_per_s": http_rps,
        "in_process_ops_per_s": inproc_rps,
        "ratio": http_rps / inproc_rps,
    }))
}

/// The accounts of a bench's data directory: its processor administrator, made on creation,
/// and the customers' administrators it makes.
pub(crate) struct BenchAccounts {
    accounts: Accounts,
    operator: Principal,
}

impl BenchAccounts {
    pub(crate) async fn new(store: Arc<SqliteStore>) -> Result<Self, String> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let hasher = PasswordHasher::new(Argon2Params::OWASP_MINIMUM).map_err(err)?;
        let accounts = Accounts::new(store, clock, hasher, LockoutPolicy::default());
        let password = SecretString::from("Wadlopen-naar-Schiermonnikoog-2026".to_string());
        let a = accounts
            .bootstrap_admin("beheer", "Beheer", &password)
            .await
            .map_err(err)?;
        let operator = accounts.principal(&a).await.map_err(err)?;
        Ok(Self { accounts, operator })
    }

    /// An administrator of customer `t` (its first password changed, as an account made by an
    /// administrator must before anything else) and its machine token for reading and writing
    /// the vault for payroll.
    pub(crate) async fn customer_token(&self, t: &CustomerId) -> Result<(Principal, String), String> {
        let setup = RequestContext::of(art28_core::access::Actor::operator());
        let first = SecretString::from(format!("Eerste-wachtwoord-van-{t}-2026"));
        let (account, _) = self
            .accounts
            .create_account(
                &setup,
                &self.operator,
                AccountRequest {
                    username: format!("beheer-{t}"),
                    display_name: format!("Beheer {t}"),
                    password: first.clone(),
                    role: art28_core::auth::Role::CustomerAdmin,
                    customer: Some(t.clone()),
                },
            )
            .await
            .map_err(err)?;
        self.accounts
            .change_password(
                &account,
                &first,
                &SecretString::from(format!("Fietsen-langs-de-Amstel-{t}-77")),
            )
            .await
            .map_err(err)?;
        let principal = self.accounts.principal(&account).await.map_err(err)?;
        let (secret, _) = self
            .accounts
            .create_token(
                &setup,
                &principal,
                TokenRequest {
                    customer: t.clone(),
                    operations: vec![Permission::VaultRead, Permission::VaultWrite],
                    purposes: vec!["payroll".into()],
                    days: 1,
                },
            )
            .await
            .map_err(err)?;
        Ok((principal, secret.expose_secret().to_string()))
    }
}

/// One wrk run against `addr`: `connections` connections (2 threads) for `seconds` with the Lua
/// `script` (kept in `dir` as `{name}.lua`); the requests per second and the latency's median
/// and 99th percentile. Any failed request fails the run.
pub(crate) async fn run_wrk(
    dir: &Path,
    name: &str,
    script: &str,
    connections: u64,
    seconds: u32,
    addr: &str,
) -> Result<Timed, String> {
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, script).map_err(err)?;
    let out = tokio::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&path)
        .arg(format!("http://{addr}/"))
        .output()
        .await
        .map_err(err)?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() || text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(format!(
            "wrk ({name}) saw failures:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let per_s = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk's output:\n{text}"))?;
    let quantile = |q: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(q).map(str::trim))
            .and_then(parse_duration_ms)
            .ok_or_else(|| format!("no {q} latency in wrk's output:\n{text}"))
    };
    Ok(Timed {
        per_s,
        p50_ms: quantile("50%")?,
        p99_ms: quantile("99%")?,
    })
}

/// wrk's durations (`850.00us`, `1.23ms`, `2.01s`, `1.50m`) in milliseconds.
fn parse_duration_ms(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}
