//! `art28 bench vault`: the vault's data path against raw SQLite baselines measured in the
//! same run. Every figure is throughput (operations per second) or a time; every ratio is
//! "higher is better" and named with its goal.

use crate::bench::bar;
use art28_core::access::{Actor, ActorKind};
use art28_core::auth::{Grant, Principal, Role};
use art28_core::ids::CustomerId;
use art28_core::vault::{CollectionDef, FieldDef, IdentifierKind, Values};
use art28_crypto::{Key, Keyring, MasterKey};
use art28_service::access::RequestContext;
use art28_service::clock::{Clock, SystemClock};
use art28_service::vault::{ErasureJournal, Lookup, Vault};
use art28_store::prelude::*;
use art28_store::sqlite::{SqliteStore, WriterStats};
use indicatif::ProgressBar;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STANDARD: &str = include_str!("../../../examples/agreements/saas-standard.toml");
const DEVIATION: &str = include_str!("../../../examples/agreements/bakkerij-de-vries.toml");
pub(crate) const WRITERS: usize = 8;

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The bench's customers: `tenant-000` … `tenant-099`, made once.
pub(crate) fn tenant(i: usize) -> CustomerId {
    static IDS: std::sync::OnceLock<Vec<CustomerId>> = std::sync::OnceLock::new();
    let ids = IDS.get_or_init(|| (0..100).filter_map(|i| format!("tenant-{i:03}").parse().ok()).collect());
    ids[i % ids.len()].clone()
}

pub(crate) fn admin(t: &CustomerId) -> Principal {
    Principal {
        account_id: 1,
        username: format!("admin-{t}"),
        grants: Grant::customer(Role::CustomerAdmin, t.clone()).into_iter().collect(),
        token_limit: None,
    }
}

pub(crate) fn ctx() -> RequestContext {
    let mut c = RequestContext::of(Actor {
        kind: ActorKind::User,
        id: "bench".into(),
    });
    c.purpose = Some("payroll".into());
    c
}

fn collection() -> CollectionDef {
    let f = |name: &str, category: &str, identifier: Option<IdentifierKind>| FieldDef {
        name: name.into(),
        category: category.into(),
        identifier,
        required: false,
    };
    CollectionDef {
        name: "employees".into(),
        fields: vec![
            f("name", "identification", None),
            f("email", "contact", Some(IdentifierKind::Email)),
            f("iban", "financial_identifier", None),
            f("address", "contact", None),
            f("salary", "salary", None),
        ],
    }
}

/// Five fields, about 300 bytes.
pub(crate) fn values(i: u64) -> Values {
    let mut v = Values::new();
    v.insert("name".into(), format!("Medewerker nummer {i:08} van de Vries-Jansen"));
    v.insert("email".into(), email(i));
    v.insert("iban".into(), format!("NL{:02}BANK{:010}", i % 97, i));
    v.insert(
        "address".into(),
        format!(
            "Korenbloemstraat {} bis, {:04} AB Zuidhorn-Noord, Nederland",
            i % 300,
            1000 + i % 8999
        ),
    );
    v.insert(
        "salary".into(),
        format!(
            "{}.{:02} EUR bruto per maand, schaal {}",
            2000 + i % 4000,
            i % 100,
            i % 12
        ),
    );
    v
}

pub(crate) fn email(i: u64) -> String {
    format!("medewerker.{i:08}@werkgever-{:03}.example.nl", i % 100)
}

pub(crate) fn subject(i: u64) -> String {
    format!("emp-{i:08}")
}

/// A store with `tenants` customers, each with an agreement and the collection.
pub(crate) async fn setup(dir: &Path, name: &str, tenants: usize) -> Result<(Arc<SqliteStore>, Arc<Vault>), String> {
    let store = Arc::new(SqliteStore::open(&dir.join(format!("{name}.sqlite"))).map_err(err)?);
    let keyring = Keyring::new(MasterKey::new(Key::generate()), Vec::new());
    let vault = setup_on(store.clone(), keyring, dir.join(format!("{name}.journal")), tenants).await?;
    Ok((store, vault))
}

/// A vault over `store` with this keyring and erasure journal.
pub(crate) fn vault_on(store: Arc<dyn Store>, keyring: Keyring, journal: PathBuf) -> Arc<Vault> {
    Arc::new(Vault::new(
        store,
        Arc::new(SystemClock),
        keyring,
        ErasureJournal::new(journal),
    ))
}

/// `tenants` customers in `store`, each with an agreement and the collection; the vault over it.
pub(crate) async fn setup_on(
    store: Arc<dyn Store>,
    keyring: Keyring,
    journal: PathBuf,
    tenants: usize,
) -> Result<Arc<Vault>, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let op = RequestContext::of(Actor::operator());
    art28_service::agreements::record_agreement(store.as_ref(), clock.as_ref(), &op, "std.toml", STANDARD.as_bytes())
        .await
        .map_err(err)?;
    let vault = vault_on(store.clone(), keyring, journal);
    for i in 0..tenants {
        let t = tenant(i);
        let text = DEVIATION.replace("bakkerij-de-vries", t.as_str());
        art28_service::agreements::record_agreement(store.as_ref(), clock.as_ref(), &op, "t.toml", text.as_bytes())
            .await
            .map_err(err)?;
        vault
            .define_collection(&ctx(), &admin(&t), &t, &collection())
            .await
            .map_err(err)?;
    }
    Ok(vault)
}

/// Raw SQLite: the same plaintext rows, one transaction per row, one connection.
pub(crate) fn raw_inserts(path: &Path, n: u64, pb: &ProgressBar) -> Result<f64, String> {
    let c = rusqlite::Connection::open(path).map_err(err)?;
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE raw (id INTEGER PRIMARY KEY, tenant TEXT, subject TEXT, name TEXT, email TEXT, iban TEXT, address TEXT, salary TEXT);",
    )
    .map_err(err)?;
    let start = Instant::now();
    for i in 0..n {
        let v = values(i);
        c.prepare_cached(
            "INSERT INTO raw (tenant, subject, name, email, iban, address, salary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut st| {
            st.execute([
                tenant((i % 8) as usize).as_str(),
                &subject(i),
                &v["name"],
                &v["email"],
                &v["iban"],
                &v["address"],
                &v["salary"],
            ])
        })
        .map_err(err)?;
        pb.inc(1);
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Durable vault writes from 8 concurrent writers, writer `w` through vault `w % vaults.len()`
/// (nodes on one database); the ids written.
pub(crate) async fn vault_writes(
    vaults: &[Arc<Vault>],
    n: u64,
    pb: &ProgressBar,
) -> Result<(f64, Vec<(usize, String)>), String> {
    if vaults.is_empty() {
        return Err("no vault".into());
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (vault, pb) = (vaults[w % vaults.len()].clone(), pb.clone());
        tasks.push(tokio::spawn(async move {
            let t = tenant(w);
            let who = admin(&t);
            let mut ids = Vec::new();
            for i in (w as u64..n).step_by(WRITERS) {
                let (id, _) = vault
                    .create(&ctx(), &who, &t, "employees", &subject(i), &values(i))
                    .await
                    .map_err(err)?;
                ids.push((w, id));
                pb.inc(1);
            }
            Ok::<_, String>(ids)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.map_err(err)??);
    }
    Ok((n as f64 / start.elapsed().as_secs_f64(), ids))
}

/// Logged reads by id from 8 concurrent readers.
pub(crate) async fn vault_reads(
    vault: &Arc<Vault>,
    ids: &Arc<Vec<(usize, String)>>,
    n: u64,
    pb: &ProgressBar,
) -> Result<f64, String> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (vault, ids, pb) = (vault.clone(), ids.clone(), pb.clone());
        tasks.push(tokio::spawn(async move {
            for i in (w as u64..n).step_by(WRITERS) {
                let (t, id) = &ids[(i as usize * 7919) % ids.len()];
                let t = tenant(*t);
                vault.read(&ctx(), &admin(&t), &t, "employees", id).await.map_err(err)?;
                pb.inc(1);
            }
            Ok::<_, String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(err)??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Fill `tenants` customers with `n` records in all, by import.
pub(crate) async fn fill(vault: &Arc<Vault>, tenants: usize, n: u64, pb: &ProgressBar) -> Result<(), String> {
    let per = n / tenants as u64;
    for ti in 0..tenants {
        let t = tenant(ti);
        let who = admin(&t);
        let base = ti as u64 * per;
        let mut i = base;
        while i < base + per {
            let end = (i + 5_000).min(base + per);
            let batch: Vec<(String, Values)> = (i..end).map(|k| (subject(k), values(k))).collect();
            vault.import(&ctx(), &who, &t, "employees", &batch).await.map_err(err)?;
            pb.inc(end - i);
            i = end;
        }
    }
    Ok(())
}

/// Raw SQLite with the same rows in plaintext and an index on the e-mail address.
fn raw_lookup_table(path: &Path, n: u64, pb: &ProgressBar) -> Result<rusqlite::Connection, String> {
    let mut c = rusqlite::Connection::open(path).map_err(err)?;
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE raw (id INTEGER PRIMARY KEY, tenant TEXT, subject TEXT, name TEXT, email TEXT, iban TEXT, address TEXT, salary TEXT);
         CREATE INDEX raw_email ON raw (tenant, email);",
    )
    .map_err(err)?;
    let mut i = 0;
    while i < n {
        let tx = c.transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare_cached("INSERT INTO raw (tenant, subject, name, email, iban, address, salary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .map_err(err)?;
            for k in i..(i + 10_000).min(n) {
                let v = values(k);
                st.execute([
                    tenant((k / (n / 100).max(1)) as usize).as_str(),
                    &subject(k),
                    &v["name"],
                    &v["email"],
                    &v["iban"],
                    &v["address"],
                    &v["salary"],
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        pb.inc((i + 10_000).min(n) - i);
        i += 10_000;
    }
    Ok(c)
}

fn raw_lookups(c: &rusqlite::Connection, n: u64, samples: u64) -> Result<f64, String> {
    let start = Instant::now();
    let mut found = 0usize;
    for s in 0..samples {
        let k = (s * 104_729) % n;
        let t = tenant((k / (n / 100).max(1)) as usize);
        let mut st = c
            .prepare_cached(
                "SELECT subject, name, email, iban, address, salary FROM raw WHERE tenant = ?1 AND email = ?2",
            )
            .map_err(err)?;
        let rows = st
            .query_map([t.as_str(), &email(k)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(err)?
            .count();
        found += rows;
    }
    if found as u64 != samples {
        return Err(format!("raw lookups found {found} of {samples}"));
    }
    Ok(samples as f64 / start.elapsed().as_secs_f64())
}

/// Run `op` for samples `0..samples` from `concurrency` tasks (task `w` takes every
/// `concurrency`-th sample from `w`). Samples per second.
pub(crate) async fn spread<F, Fut>(samples: u64, concurrency: u64, op: F) -> Result<f64, String>
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    Ok(crate::bench_peers::timed(samples, concurrency, move |_, s| op(s))
        .await?
        .per_s)
}

/// Lookups of one data subject's records by e-mail (blind index), `concurrency` at a time.
pub(crate) async fn vault_lookups(vault: &Arc<Vault>, n: u64, samples: u64, concurrency: u64) -> Result<f64, String> {
    let per_tenant = (n / 100).max(1);
    let vault = vault.clone();
    spread(samples, concurrency, move |s| {
        let vault = vault.clone();
        async move {
            let k = (s * 104_729) % n;
            let t = tenant((k / per_tenant) as usize);
            let lookup = Lookup::Identifier(IdentifierKind::Email, email(k));
            let (found, _) = vault.query(&ctx(), &admin(&t), &t, &lookup).await.map_err(err)?;
            if found.len() != 1 {
                return Err(format!("lookup of record {k} found {}", found.len()));
            }
            Ok(())
        }
    })
    .await
}

/// Bare access-log appends, `concurrency` in flight, on the lookup store: the most durably
/// logged operations per second that this store can acknowledge at that concurrency, whatever
/// the operation does besides: the lookups' goal is a share of it.
pub(crate) async fn log_ceiling<S: Store + ?Sized>(
    store: &Arc<S>,
    samples: u64,
    concurrency: u64,
) -> Result<f64, String> {
    let store = store.clone();
    spread(samples, concurrency, move |s| {
        let store = store.clone();
        async move {
            store.log_access(&crate::bench::sample_entry(s)).await.map_err(err)?;
            Ok(())
        }
    })
    .await
}

/// Jobs per committed transaction, and WAL pages written per job, between two readings of a
/// store's writer.
pub(crate) fn jobs_per_commit(before: WriterStats, after: WriterStats) -> (f64, f64) {
    let jobs = after.jobs - before.jobs;
    let per_commit = WriterStats {
        commits: after.commits - before.commits,
        jobs,
        wal_pages: 0,
    }
    .jobs_per_commit();
    (
        per_commit,
        (after.wal_pages - before.wal_pages) as f64 / jobs.max(1) as f64,
    )
}

/// Time until a customer's data is unreadable, in milliseconds.
async fn erase_ms(vault: &Arc<Vault>, store: &SqliteStore, t: &CustomerId, expect_records: u64) -> Result<f64, String> {
    let (page, _) = store.vault_list(t, None, "", 1, None).await.map_err(err)?;
    if page.is_empty() && expect_records > 0 {
        return Err(format!("{t} holds no records"));
    }
    let start = Instant::now();
    vault.erase_tenant(&ctx(), &admin(t), t).await.map_err(err)?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    // Unreadable now: the customer is erased and its key is gone.
    match vault.read(&ctx(), &admin(t), t, "employees", &page[0].id).await {
        Err(e) if e.code == art28_core::ErrorCode::TenantErased => Ok(ms),
        other => Err(format!("{t} still readable after erasure: {other:?}")),
    }
}

pub async fn bench_vault(dir: &Path, quick: bool, show: bool) -> Result<serde_json::Value, String> {
    let (n_writes, n_raw, n_reads, n_lookup, n_lookup_samples, big_erase) = if quick {
        (2_000u64, 300u64, 4_000u64, 100_000u64, 10_000u64, 10_000u64)
    } else {
        (16_000, 1_500, 32_000, 1_000_000, 20_000, 100_000)
    };

    // 1. Durable writes, 8 writers, vs raw one-row-per-transaction inserts.
    let (wstore, vault) = setup(dir, "writes", WRITERS).await?;
    let pb = bar(show, n_raw, "raw SQLite, 1 row per tx");
    let raw_rate = raw_inserts(&dir.join("raw.sqlite"), n_raw, &pb)?;
    pb.finish_and_clear();
    let pb = bar(show, n_writes, "vault writes (8 writers)");
    let before = wstore.writer_stats();
    let (write_rate, ids) = vault_writes(std::slice::from_ref(&vault), n_writes, &pb).await?;
    let write_jobs_per_commit = jobs_per_commit(before, wstore.writer_stats());
    pb.finish_and_clear();
    let ids = Arc::new(ids);
    let pb = bar(show, n_reads, "vault logged reads (8 readers)");
    let read_rate = vault_reads(&vault, &ids, n_reads, &pb).await?;
    pb.finish_and_clear();

    // 2. Data-subject lookup among n_lookup records in 100 customers.
    let (lstore, lvault) = setup(dir, "lookup", 100).await?;
    let pb = bar(show, n_lookup, "filling the vault (import)");
    let fill_start = Instant::now();
    fill(&lvault, 100, n_lookup, &pb).await?;
    let fill_s = fill_start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let pb = bar(show, n_lookup, "filling raw SQLite");
    let raw = raw_lookup_table(&dir.join("raw-lookup.sqlite"), n_lookup, &pb)?;
    pb.finish_and_clear();
    let raw_lookup_rate = raw_lookups(&raw, n_lookup, n_lookup_samples)?;
    let before = lstore.writer_stats();
    let lookup_rate_32 = vault_lookups(&lvault, n_lookup, n_lookup_samples, 32).await?;
    let lookup_jobs_per_commit = jobs_per_commit(before, lstore.writer_stats());
    let lookup_rate_1 = vault_lookups(&lvault, n_lookup, (n_lookup_samples / 20).max(100), 1).await?;
    let log_ceiling_32 = log_ceiling(&lstore, n_lookup_samples, 32).await?;

    // 3. Erasing a customer of 1k and of big_erase records.
    let small = tenant(98);
    let big = tenant(99);
    let (estore, evault) = setup(dir, "erase", 100).await?;
    let pb = bar(show, 1_000 + big_erase, "filling customers to erase");
    for (t, n, base) in [(&small, 1_000u64, 0u64), (&big, big_erase, 10_000_000u64)] {
        let who = admin(t);
        let mut i = 0;
        while i < n {
            let end = (i + 5_000).min(n);
            let batch: Vec<(String, Values)> = (i..end).map(|k| (subject(base + k), values(base + k))).collect();
            evault.import(&ctx(), &who, t, "employees", &batch).await.map_err(err)?;
            pb.inc(end - i);
            i = end;
        }
    }
    pb.finish_and_clear();
    let erase_small_ms = erase_ms(&evault, &estore, &small, 1_000).await?;
    let erase_big_ms = erase_ms(&evault, &estore, &big, big_erase).await?;

    // 4. The same write and read mix over HTTP (wrk, 32 connections) vs in process.
    let http = crate::bench_http::http_mix(dir, quick, show).await?;
    drop(lstore);

    let mut ratios = serde_json::Map::new();
    ratios.insert(
        "writes_8_vs_raw_row_per_tx (goal 3.0)".into(),
        json!(write_rate / raw_rate),
    );
    ratios.insert(
        "logged_reads_8_vs_raw_row_per_tx (goal 1.0)".into(),
        json!(read_rate / raw_rate),
    );
    ratios.insert(
        format!("subject_lookup_{n_lookup}_vs_raw_indexed (goal 0.5)"),
        json!(lookup_rate_32 / raw_lookup_rate),
    );
    ratios.insert(
        "lookups_32_vs_log_append_ceiling (goal 0.5)".into(),
        json!(lookup_rate_32 / log_ceiling_32),
    );
    ratios.insert(
        format!("erase_{big_erase}_under_50ms (goal 1.0)"),
        json!(50.0 / erase_big_ms),
    );
    ratios.insert(
        format!("erase_1000_vs_{big_erase} (goal 0.5)"),
        json!(erase_small_ms / erase_big_ms),
    );
    if let Some(r) = http.get("ratio") {
        ratios.insert("http_32_vs_in_process (goal 0.5)".into(), r.clone());
    }
    Ok(json!({
        "bench": "vault",
        "quick": quick,
        "ratios": ratios,
        "raw": {
            "raw_sqlite_row_per_tx_per_s": raw_rate,
            "vault_writes_per_s_8_writers": write_rate,
            "vault_write_jobs_per_commit": write_jobs_per_commit.0,
            "vault_write_wal_pages_per_write": write_jobs_per_commit.1,
            "vault_logged_reads_per_s_8_readers": read_rate,
            "lookup_records": n_lookup,
            "lookup_fill_seconds": fill_s,
            "raw_indexed_lookups_per_s": raw_lookup_rate,
            "vault_lookups_per_s_32_concurrent": lookup_rate_32,
            "vault_lookup_jobs_per_commit": lookup_jobs_per_commit.0,
            "vault_lookup_wal_pages_per_lookup": lookup_jobs_per_commit.1,
            "vault_lookups_per_s_1_at_a_time": lookup_rate_1,
            "log_only_appends_per_s_32_concurrent": log_ceiling_32,
            "erase_1000_ms": erase_small_ms,
            "erase_big_records": big_erase,
            "erase_big_ms": erase_big_ms,
            "http": http,
        }
    }))
}

/// Used by the HTTP part: the in-process figure for the same mix.
pub async fn in_process_mix(
    vault: &Arc<Vault>,
    t: &CustomerId,
    seconds: f64,
    concurrency: usize,
) -> Result<f64, String> {
    let who = admin(t);
    let (first, _) = vault
        .create(&ctx(), &who, t, "employees", &subject(0), &values(0))
        .await
        .map_err(err)?;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (vault, who, t, first) = (vault.clone(), who.clone(), t.clone(), first.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            let mut i = w as u64;
            while Instant::now() < deadline {
                if i.is_multiple_of(2) {
                    vault
                        .create(&ctx(), &who, &t, "employees", &subject(i), &values(i))
                        .await
                        .map_err(err)?;
                } else {
                    vault.read(&ctx(), &who, &t, "employees", &first).await.map_err(err)?;
                }
                done += 1;
                i += concurrency as u64;
            }
            Ok::<_, String>(done)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.map_err(err)??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// Principal helpers for the HTTP part.
pub fn bench_tenant() -> CustomerId {
    tenant(0)
}

/// The bench's collection.
pub fn bench_collection() -> CollectionDef {
    collection()
}

/// A body for a create over HTTP.
pub fn create_body(i: u64) -> serde_json::Value {
    json!({ "subject": subject(i), "values": values(i) })
}

/// Set up one customer in a store for the HTTP run.
pub async fn setup_one(store: Arc<SqliteStore>, dir: &Path) -> Result<Arc<Vault>, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let op = RequestContext::of(Actor::operator());
    art28_service::agreements::record_agreement(store.as_ref(), clock.as_ref(), &op, "std.toml", STANDARD.as_bytes())
        .await
        .map_err(err)?;
    let t = tenant(0);
    let text = DEVIATION.replace("bakkerij-de-vries", t.as_str());
    art28_service::agreements::record_agreement(store.as_ref(), clock.as_ref(), &op, "t.toml", text.as_bytes())
        .await
        .map_err(err)?;
    let vault = Arc::new(Vault::new(
        store.clone(),
        clock,
        crate::bench_http::keyring(dir)?,
        ErasureJournal::new(dir.join("erasures.journal")),
    ));
    vault
        .define_collection(&ctx(), &admin(&t), &t, &collection())
        .await
        .map_err(err)?;
    Ok(vault)
}
