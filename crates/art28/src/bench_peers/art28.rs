//! art28 itself in the peers' run, on the peers' records: in process (the service called
//! directly, SQLite in WAL mode with `synchronous = FULL`) and over HTTP (the server on
//! loopback, loaded by `wrk` as the customers' administrators with machine tokens).

use super::{Figures, LOOKUPS, Sizes, Timed, WRITERS, timed};
use crate::bench::bar;
use crate::bench_http::{BenchAccounts, run_wrk, wrk_available};
use crate::bench_vault::{admin, ctx, email, err, fill, jobs_per_commit, log_ceiling, setup, subject, tenant, values};
use art28_core::vault::IdentifierKind;
use art28_service::clock::{Clock, SystemClock};
use art28_service::vault::{Lookup, Vault};
use art28_store::sqlite::SqliteStore;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Check that a lookup of record `k` found exactly that record.
fn found_one(k: u64, found: &[art28_service::vault::Record]) -> Result<(), String> {
    match found {
        [one] if one.values.get("name") == values(k).get("name") => Ok(()),
        _ => Err(format!("the lookup of record {k} found {} records", found.len())),
    }
}

/// In process: fill, durable writes from 8 writers, lookups 32 at a time, the bare log-append
/// ceiling and raw SQLite's one-row transactions beside them, and both erasures.
pub(crate) async fn in_process(dir: &Path, sizes: Sizes, show: bool) -> Result<Value, String> {
    let (store, vault) = setup(dir, "art28", 100).await?;
    let pb = bar(show, sizes.records, "art28: filling (import)");
    fill(&vault, 100, sizes.records, &pb).await?;
    pb.finish_and_clear();

    let pb = bar(show, sizes.writes, "art28: writes (8 writers)");
    let before = store.writer_stats();
    let (v, p) = (vault.clone(), pb.clone());
    let writes = timed(sizes.writes, WRITERS, move |w, s| {
        let (v, p) = (v.clone(), p.clone());
        async move {
            let t = tenant(w as usize);
            let k = sizes.records + s;
            v.create(&ctx(), &admin(&t), &t, "employees", &subject(k), &values(k))
                .await
                .map_err(err)?;
            p.inc(1);
            Ok(())
        }
    })
    .await?;
    let (write_jobs, write_pages) = jobs_per_commit(before, store.writer_stats());
    pb.finish_and_clear();

    let pb = bar(show, sizes.lookups, "art28: lookups (32 in flight)");
    let before = store.writer_stats();
    let (v, p) = (vault.clone(), pb.clone());
    let lookups = timed(sizes.lookups, LOOKUPS, move |_, s| {
        let (v, p) = (v.clone(), p.clone());
        async move {
            let (k, ti) = sizes.lookup(s);
            let t = tenant(ti);
            let lookup = Lookup::Identifier(IdentifierKind::Email, email(k));
            let (found, _) = v.query(&ctx(), &admin(&t), &t, &lookup).await.map_err(err)?;
            found_one(k, &found)?;
            p.inc(1);
            Ok(())
        }
    })
    .await?;
    let (lookup_jobs, _) = jobs_per_commit(before, store.writer_stats());
    pb.finish_and_clear();
    let ceiling = log_ceiling(&store, sizes.lookups, LOOKUPS).await?;
    let pb = bar(show, raw_rows(sizes), "raw SQLite, 1 row per tx");
    let raw = crate::bench_vault::raw_inserts(&dir.join("raw.sqlite"), raw_rows(sizes), &pb)?;
    pb.finish_and_clear();

    let (erase_subject_ms, erase_customer_ms) = erasures(&vault, sizes).await?;
    let figures = Figures {
        writes,
        lookups,
        erase_subject_ms,
        erase_customer_ms,
    };
    let mut out = figures.json();
    out["write_jobs_per_commit"] = json!(write_jobs);
    out["write_wal_pages_per_write"] = json!(write_pages);
    out["lookup_jobs_per_commit"] = json!(lookup_jobs);
    out["log_only_appends_per_s_32_concurrent"] = json!(ceiling);
    out["raw_sqlite_row_per_tx_per_s"] = json!(raw);
    Ok(out)
}

fn raw_rows(sizes: Sizes) -> u64 {
    (sizes.writes / 4).clamp(300, 2_000)
}

/// Time to make record 0's data subject unreadable, then customer 99 with all its records;
/// each checked afterwards.
async fn erasures(vault: &Arc<Vault>, sizes: Sizes) -> Result<(f64, f64), String> {
    let t = tenant(0);
    let start = Instant::now();
    vault
        .erase_subject(&ctx(), &admin(&t), &t, &subject(0))
        .await
        .map_err(err)?;
    let subject_ms = start.elapsed().as_secs_f64() * 1000.0;
    let lookup = Lookup::Identifier(IdentifierKind::Email, email(0));
    let (found, _) = vault.query(&ctx(), &admin(&t), &t, &lookup).await.map_err(err)?;
    if !found.is_empty() {
        return Err("the erased data subject is still found".into());
    }
    let t = tenant(99);
    let k = 99 * sizes.per_tenant();
    let start = Instant::now();
    vault.erase_tenant(&ctx(), &admin(&t), &t).await.map_err(err)?;
    let customer_ms = start.elapsed().as_secs_f64() * 1000.0;
    let lookup = Lookup::Identifier(IdentifierKind::Email, email(k));
    match vault.query(&ctx(), &admin(&t), &t, &lookup).await {
        Err(e) if e.code == art28_core::ErrorCode::TenantErased => Ok((subject_ms, customer_ms)),
        other => Err(format!(
            "the erased customer still answers: {:?}",
            other.map(|r| r.0.len())
        )),
    }
}

/// A machine token for the administrator of each of the 100 customers, in their order.
async fn tokens(store: Arc<SqliteStore>, show: bool) -> Result<Vec<String>, String> {
    let accounts = BenchAccounts::new(store).await?;
    let pb = bar(show, 100, "art28: accounts and tokens");
    let mut out = Vec::with_capacity(100);
    for i in 0..100 {
        out.push(accounts.customer_token(&tenant(i)).await?.1);
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(out)
}

/// The start of a wrk script: the customers and their tokens as Lua lists, each thread's number
/// as `tid` (0 and 1), and its request counter `i`.
fn lua_preamble(tenants: &[String], tokens: &[String]) -> String {
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
        format!("{{{}}}", quoted.join(", "))
    };
    format!(
        "local tenants = {}\nlocal tokens = {}\nlocal threads = 0\nfunction setup(thread)\n  \
         thread:set(\"tid\", threads)\n  threads = threads + 1\nend\nlocal i = 0\n",
        list(tenants),
        list(tokens)
    )
}

/// Over HTTP: the server on a data directory filled with the same records, writes from 8
/// connections and lookups from 32, each run by `wrk` for a fixed time.
pub(crate) async fn http(dir: &Path, sizes: Sizes, quick: bool, show: bool) -> Result<Value, String> {
    if !wrk_available() {
        return Ok(json!({ "skipped": "wrk is not installed (apt-get install wrk)" }));
    }
    let seconds: u32 = if quick { 4 } else { 15 };
    let data = dir.join("data");
    std::fs::create_dir_all(&data).map_err(err)?;
    let tokens = {
        let store = Arc::new(SqliteStore::open(&data.join("art28.sqlite")).map_err(err)?);
        let keyring = crate::bench_http::keyring(&data)?;
        let vault = crate::bench_vault::setup_on(store.clone(), keyring, data.join("erasures.journal"), 100).await?;
        let pb = bar(show, sizes.records, "art28 HTTP: filling (import)");
        fill(&vault, 100, sizes.records, &pb).await?;
        pb.finish_and_clear();
        let tokens = tokens(store.clone(), show).await?;
        drop(vault);
        if let Ok(store) = Arc::try_unwrap(store) {
            store.close().await.map_err(err)?;
        }
        tokens
    };
    let tenants: Vec<String> = (0..100).map(|i| tenant(i).to_string()).collect();

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let config = art28_server::config::Config {
        data_dir: data.clone(),
        listen: "127.0.0.1:0".parse().map_err(err)?,
        ..art28_server::config::Config::default()
    };
    let bound = art28_server::bind(&config, clock).await.map_err(err)?;
    let addr = bound.local_addr().map_err(err)?.to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(bound.run(async {
        let _ = stopped.await;
    }));
    let result = http_runs(dir, sizes, seconds, &addr, &tenants, &tokens, show).await;
    let _ = stop.send(());
    let _ = server.await;
    let (writes, lookups) = result?;
    Ok(json!({
        "tool": "wrk -t2, writes -c8, lookups -c32, --latency",
        "seconds_each": seconds,
        "writes_per_s": writes.per_s,
        "write_p50_ms": writes.p50_ms,
        "write_p99_ms": writes.p99_ms,
        "lookups_per_s": lookups.per_s,
        "lookup_p50_ms": lookups.p50_ms,
        "lookup_p99_ms": lookups.p99_ms,
    }))
}

async fn http_runs(
    dir: &Path,
    sizes: Sizes,
    seconds: u32,
    addr: &str,
    tenants: &[String],
    tokens: &[String],
    show: bool,
) -> Result<(Timed, Timed), String> {
    // One lookup by hand first, so that a misconfigured run says why.
    let (k, ti) = sizes.lookup(1);
    let client = reqwest::Client::new();
    let first = client
        .post(format!(
            "http://{addr}/api/v1/customers/{}/vault/lookup?purpose=payroll",
            tenants[ti]
        ))
        .bearer_auth(&tokens[ti])
        .json(&json!({ "email": email(k) }))
        .send()
        .await
        .map_err(err)?;
    let status = first.status();
    let body = first.text().await.map_err(err)?;
    if !status.is_success() || !body.contains(&values(k)["name"]) {
        return Err(format!(
            "the server refused the bench's first lookup ({status}): {body}"
        ));
    }

    // Writes: request n of thread `tid` is write `2n + tid`, for customer `(2n + tid) % 8`,
    // a new data subject each.
    let v = values(0);
    let writers: Vec<String> = (0..WRITERS as usize).map(|w| tenants[w].clone()).collect();
    let write_script = format!(
        r#"{preamble}request = function()
  local n = i * 2 + tid
  i = i + 1
  local w = n % {writers} + 1
  local body = '{{"subject":"emp-http-' .. n .. '","values":{{"name":{name:?},"email":"http.' .. n .. '@werkgever.example.nl","iban":{iban:?},"address":{address:?},"salary":{salary:?}}}}}'
  return wrk.format("POST", "/api/v1/customers/" .. tenants[w] .. "/vault/collections/employees/records?purpose=payroll",
    {{["Authorization"] = "Bearer " .. tokens[w], ["Content-Type"] = "application/json"}}, body)
end
"#,
        preamble = lua_preamble(&writers, &tokens[..WRITERS as usize]),
        writers = WRITERS,
        name = v["name"],
        iban = v["iban"],
        address = v["address"],
        salary = v["salary"],
    );
    if show {
        eprintln!("art28 HTTP: wrk, writes from {WRITERS} connections for {seconds} s …");
    }
    let writes = run_wrk(dir, "writes", &write_script, WRITERS, seconds, addr).await?;

    // Lookups: request n of thread `tid` is sample `2n + tid`, the same records as in process.
    let lookup_script = format!(
        r#"{preamble}request = function()
  local s = i * 2 + tid
  i = i + 1
  local k = (s * 104729) % {records}
  local t = math.floor(k / {per_tenant}) + 1
  local body = string.format('{{"email":"medewerker.%08d@werkgever-%03d.example.nl"}}', k, k % 100)
  return wrk.format("POST", "/api/v1/customers/" .. tenants[t] .. "/vault/lookup?purpose=payroll",
    {{["Authorization"] = "Bearer " .. tokens[t], ["Content-Type"] = "application/json"}}, body)
end
"#,
        preamble = lua_preamble(tenants, tokens),
        records = sizes.records,
        per_tenant = sizes.per_tenant(),
    );
    if show {
        eprintln!("art28 HTTP: wrk, lookups from {LOOKUPS} connections for {seconds} s …");
    }
    let lookups = run_wrk(dir, "lookups", &lookup_script, LOOKUPS, seconds, addr).await?;
    Ok((writes, lookups))
}
