//! `art28 bench log|vault --database postgres://…`: the same measurements on PostgreSQL, each
//! in a scratch database of its own on that server (`art28_bench_<pid>_<n>`, made with
//! `CREATE DATABASE` and dropped at the end), against raw PostgreSQL baselines measured in the
//! same run with plain tokio-postgres connections: one durable transaction per row
//! (`synchronous_commit = on`), from as many connections as art28 has writers.
//!
//! Every figure and ratio is measured in [`ROUNDS`] rounds, each measuring art28 and its
//! baselines one after another, so that a burst of load from elsewhere falls on one round,
//! not on one side of every ratio; the report gives the median of each figure and of each
//! ratio, and the rounds.

use crate::bench::{ROUNDS, WINDOW, appends_on, bar, median, sample_entry};
use crate::bench_vault::{
    WRITERS, admin, ctx, email, err, fill, log_ceiling, setup_on, subject, tenant, values, vault_lookups, vault_on,
    vault_reads, vault_writes,
};
use art28_core::access::AccessEntry;
use art28_crypto::{Key, Keyring, MasterKey};
use art28_service::vault::Vault;
use art28_store::postgres::PgStore;
use indicatif::ProgressBar;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::types::ToSql;

/// Connections of each raw baseline: one per art28 writer.
const CONNECTIONS: usize = WRITERS;

/// A `postgres://` (or `postgresql://`) URL, checked before anything starts.
pub fn check_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|_| "--database is not a postgres:// URL".to_string())?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err("--database is not a postgres:// URL (postgres://user:password@host:port/database)".into());
    }
    // The store's own reading of the URL, as `serve` checks it.
    PgStore::parse_url(url).map_err(|e| format!("--database: {}", e.message))?;
    Ok(parsed)
}

/// The scratch databases of one run on the server: made one per measurement, all dropped at
/// the end.
struct Scratch {
    base: url::Url,
    admin: tokio_postgres::Client,
    made: Vec<String>,
}

impl Scratch {
    async fn open(base: url::Url) -> Result<Self, String> {
        let admin = connect(base.as_str())
            .await
            .map_err(|e| format!("cannot connect to the PostgreSQL server: {e}"))?;
        Ok(Self {
            base,
            admin,
            made: Vec::new(),
        })
    }

    /// A new, empty database; its URL.
    async fn fresh(&mut self) -> Result<String, String> {
        let name = format!("art28_bench_{}_{}", std::process::id(), self.made.len());
        self.admin
            .batch_execute(&format!("CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"))
            .await
            .map_err(|e| {
                format!(
                    "cannot create a scratch database (the role needs CREATEDB): {}",
                    pg_err(&e)
                )
            })?;
        self.made.push(name.clone());
        let mut url = self.base.clone();
        url.set_path(&name);
        Ok(url.to_string())
    }

    /// Drop every scratch database (and end any session still on one).
    async fn drop_all(&mut self) -> Result<(), String> {
        let mut failed = None;
        for name in self.made.drain(..) {
            if let Err(e) = self
                .admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
            {
                failed.get_or_insert(format!("cannot drop the scratch database {name}: {}", pg_err(&e)));
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// The server's version and durability settings, for the report.
    async fn settings(&self) -> Result<serde_json::Value, String> {
        let mut out = serde_json::Map::new();
        for name in [
            "server_version",
            "fsync",
            "synchronous_commit",
            "wal_sync_method",
            "full_page_writes",
        ] {
            let row = self
                .admin
                .query_one(&format!("SHOW {name}"), &[])
                .await
                .map_err(|e| pg_err(&e))?;
            out.insert(name.into(), json!(row.try_get::<_, String>(0).map_err(|e| pg_err(&e))?));
        }
        Ok(out.into())
    }
}

/// The server's message, not only "db error".
pub(crate) fn pg_err(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// A plain connection with the baselines' durability: every commit waits for its WAL flush.
async fn connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| pg_err(&e))?;
    tokio::spawn(conn);
    client
        .batch_execute("SET synchronous_commit = on")
        .await
        .map_err(|e| pg_err(&e))?;
    Ok(client)
}

/// Run `bench log` (or `bench vault`) on the PostgreSQL server at `url`.
pub async fn bench(url: &str, vault: bool, dir: &Path, quick: bool, show: bool) -> Result<serde_json::Value, String> {
    let mut scratch = Scratch::open(check_url(url)?).await?;
    let server = scratch.settings().await?;
    let result = if vault {
        bench_vault(&mut scratch, dir, quick, show).await
    } else {
        bench_log(&mut scratch, quick, show).await
    };
    // Dropped whether or not the measurements succeeded.
    let dropped = scratch.drop_all().await;
    let mut report = result?;
    dropped?;
    report["server"] = server;
    Ok(report)
}

/// Raw PostgreSQL: `rows` inserted with `insert`, each in a durable transaction of its own
/// (autocommit), from [`CONNECTIONS`] connections (connection `c` takes every
/// `CONNECTIONS`-th row from `c`), into a table `create` made in a fresh database. Rows per
/// second.
async fn row_per_tx<R: Send + Sync + 'static>(
    scratch: &mut Scratch,
    create: &str,
    insert: &'static str,
    rows: &Arc<Vec<R>>,
    params: fn(&R) -> Vec<&(dyn ToSql + Sync)>,
    pb: &ProgressBar,
) -> Result<f64, String> {
    let url = scratch.fresh().await?;
    let mut clients = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        clients.push(connect(&url).await?);
    }
    clients[0].batch_execute(create).await.map_err(|e| pg_err(&e))?;
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(c, client)| {
            let (rows, pb) = (rows.clone(), pb.clone());
            tokio::spawn(async move {
                let st = client.prepare(insert).await.map_err(|e| pg_err(&e))?;
                for row in rows.iter().skip(c).step_by(CONNECTIONS) {
                    client.execute(&st, &params(row)).await.map_err(|e| pg_err(&e))?;
                    pb.inc(1);
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(err)??;
    }
    Ok(rows.len() as f64 / start.elapsed().as_secs_f64())
}

/// Raw PostgreSQL: the entries' bytes into a plain table (bigserial id, bytea), one durable
/// transaction per row, from 8 connections.
async fn raw_entries_row_per_tx(
    scratch: &mut Scratch,
    entries: &Arc<Vec<Vec<u8>>>,
    pb: &ProgressBar,
) -> Result<f64, String> {
    row_per_tx(
        scratch,
        "CREATE TABLE raw (id BIGSERIAL PRIMARY KEY, entry BYTEA NOT NULL)",
        "INSERT INTO raw (entry) VALUES ($1)",
        entries,
        |e| vec![e as &(dyn ToSql + Sync)],
        pb,
    )
    .await
}

/// Raw PostgreSQL: the entries' bytes into the same plain table from one connection, 1,000
/// rows per transaction, each thousand in one `INSERT … SELECT unnest($1)` (as art28's writer
/// inserts a batch's entries). Rows per second.
async fn raw_entries_batched(scratch: &mut Scratch, entries: &[Vec<u8>], pb: &ProgressBar) -> Result<f64, String> {
    let url = scratch.fresh().await?;
    let mut c = connect(&url).await?;
    c.batch_execute("CREATE TABLE raw (id BIGSERIAL PRIMARY KEY, entry BYTEA NOT NULL)")
        .await
        .map_err(|e| pg_err(&e))?;
    let st = c
        .prepare("INSERT INTO raw (entry) SELECT * FROM unnest($1::bytea[])")
        .await
        .map_err(|e| pg_err(&e))?;
    let start = Instant::now();
    for chunk in entries.chunks(1000) {
        let tx = c.transaction().await.map_err(|e| pg_err(&e))?;
        let rows: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        tx.execute(&st, &[&rows]).await.map_err(|e| pg_err(&e))?;
        tx.commit().await.map_err(|e| pg_err(&e))?;
        pb.inc(chunk.len() as u64);
    }
    Ok(entries.len() as f64 / start.elapsed().as_secs_f64())
}

/// `n` stores (nodes) on one database, each with its own writer and pool.
async fn nodes(url: &str, n: usize) -> Result<Vec<PgStore>, String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(PgStore::connect(url).await.map_err(err)?);
    }
    Ok(out)
}

/// Commits and jobs over all nodes' writers so far.
fn writer_totals(nodes: &[PgStore]) -> (u64, u64) {
    nodes
        .iter()
        .map(PgStore::writer_stats)
        .fold((0, 0), |(c, j), s| (c + s.commits, j + s.jobs))
}

/// Jobs per commit over all nodes' writers since `since` (their [`writer_totals`] then).
fn per_commit_since(nodes: &[PgStore], since: (u64, u64)) -> f64 {
    let (commits, jobs) = writer_totals(nodes);
    let (commits, jobs) = (commits - since.0, jobs - since.1);
    if commits == 0 {
        0.0
    } else {
        jobs as f64 / commits as f64
    }
}

/// Jobs per commit over all nodes' writers.
fn per_commit(nodes: &[PgStore]) -> f64 {
    per_commit_since(nodes, (0, 0))
}

/// art28's durable appends (8 appenders, [`WINDOW`] in flight each, the fold included) over
/// `n_nodes` stores on a fresh database.
async fn art28_appends(
    scratch: &mut Scratch,
    n_nodes: usize,
    entries: &[AccessEntry],
    pb: &ProgressBar,
) -> Result<serde_json::Value, String> {
    let url = scratch.fresh().await?;
    let stores = nodes(&url, n_nodes).await?;
    let (acked, with_fold) = appends_on(&stores, entries, WINDOW, pb).await?;
    Ok(json!({
        "appends_per_s": acked,
        "appends_per_s_including_fold": with_fold,
        "entries_per_commit": per_commit(&stores),
    }))
}

/// A number in a round's figures.
fn figure(v: &serde_json::Value, path: &[&str]) -> f64 {
    path.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap_or(0.0)
}

/// Medians over the rounds of each figure named, and of each ratio (numerator, denominator).
fn medians(
    rounds: &[serde_json::Value],
    figures: &[(&str, &[&str])],
    ratios: &[(String, &[&str], &[&str])],
) -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Map<String, serde_json::Value>,
) {
    let mut f = serde_json::Map::new();
    for (name, path) in figures {
        f.insert(
            (*name).into(),
            json!(median(rounds.iter().map(|r| figure(r, path)).collect())),
        );
    }
    let mut r = serde_json::Map::new();
    for (name, num, den) in ratios {
        let v = median(rounds.iter().map(|r| figure(r, num) / figure(r, den)).collect());
        r.insert(name.clone(), json!(v));
    }
    (f, r)
}

async fn bench_log(scratch: &mut Scratch, quick: bool, show: bool) -> Result<serde_json::Value, String> {
    let (n_art28, n_raw_tx) = if quick { (20_000u64, 800u64) } else { (300_000, 8_000) };
    let entries: Vec<AccessEntry> = (0..n_art28).map(sample_entry).collect();
    let bytes: Arc<Vec<Vec<u8>>> = Arc::new(entries.iter().map(AccessEntry::to_bytes).collect());
    let mean_bytes = bytes.iter().map(Vec::len).sum::<usize>() / bytes.len().max(1);
    let raw_tx_entries: Arc<Vec<Vec<u8>>> = Arc::new(bytes.iter().take(n_raw_tx as usize).cloned().collect());

    let mut rounds = Vec::with_capacity(ROUNDS);
    for r in 1..=ROUNDS {
        let pb = bar(
            show,
            n_art28,
            &format!("art28 appends, 1 node (8 x {WINDOW}) {r}/{ROUNDS}"),
        );
        let one = art28_appends(scratch, 1, &entries, &pb).await?;
        pb.finish_and_clear();
        let pb = bar(
            show,
            n_art28,
            &format!("art28 appends, 2 nodes (2 x 4 x {WINDOW}) {r}/{ROUNDS}"),
        );
        let two = art28_appends(scratch, 2, &entries, &pb).await?;
        pb.finish_and_clear();
        let pb = bar(show, n_raw_tx, &format!("raw PG, 1 row per tx (8 conn) {r}/{ROUNDS}"));
        let raw_tx = raw_entries_row_per_tx(scratch, &raw_tx_entries, &pb).await?;
        pb.finish_and_clear();
        let pb = bar(show, n_art28, &format!("raw PG, 1000 rows per tx {r}/{ROUNDS}"));
        let raw_batch = raw_entries_batched(scratch, &bytes, &pb).await?;
        pb.finish_and_clear();
        rounds.push(json!({
            "art28_1_node": one,
            "art28_2_nodes": two,
            "raw_pg_row_per_tx_per_s": raw_tx,
            "raw_pg_batch_1000_per_s": raw_batch,
        }));
    }
    let one: &[&str] = &["art28_1_node", "appends_per_s_including_fold"];
    let two: &[&str] = &["art28_2_nodes", "appends_per_s_including_fold"];
    let raw_tx: &[&str] = &["raw_pg_row_per_tx_per_s"];
    let raw_batch: &[&str] = &["raw_pg_batch_1000_per_s"];
    let (mut raw, ratios) = medians(
        &rounds,
        &[
            ("art28_appends_per_s", &["art28_1_node", "appends_per_s"]),
            ("art28_appends_per_s_including_fold", one),
            ("art28_entries_per_commit", &["art28_1_node", "entries_per_commit"]),
            ("art28_2_nodes_appends_per_s_including_fold", two),
            (
                "art28_2_nodes_entries_per_commit",
                &["art28_2_nodes", "entries_per_commit"],
            ),
            ("raw_pg_row_per_tx_per_s", raw_tx),
            ("raw_pg_batch_1000_per_s", raw_batch),
        ],
        &[
            ("append_8_vs_raw_pg_row_per_tx".into(), one, raw_tx),
            ("append_8_vs_raw_pg_batch_1000".into(), one, raw_batch),
            ("append_2_nodes_vs_1_node".into(), two, one),
            ("append_2_nodes_vs_raw_pg_row_per_tx".into(), two, raw_tx),
        ],
    );
    raw.insert("append_rounds".into(), json!(rounds));
    Ok(json!({
        "bench": "log",
        "database": "postgres",
        "quick": quick,
        "entry_bytes_mean": mean_bytes,
        "ratios": ratios,
        "raw": raw,
    }))
}

/// The raw baselines' rows for the vault: the records' plaintext.
const RAW_RECORDS: &str = "CREATE TABLE raw (id BIGSERIAL PRIMARY KEY, tenant TEXT, subject TEXT, name TEXT, email TEXT, iban TEXT, address TEXT, salary TEXT)";

/// One record's plaintext as the raw table's columns (tenant, subject, the five values).
fn raw_record(t: usize, i: u64) -> [String; 7] {
    let mut v = values(i);
    let mut take = |k: &str| v.remove(k).unwrap_or_default();
    [
        tenant(t).to_string(),
        subject(i),
        take("name"),
        take("email"),
        take("iban"),
        take("address"),
        take("salary"),
    ]
}

/// A fresh database with `tenants` of the vault bench's customers, and `n_nodes` nodes on it
/// sharing one keyring: their stores, and a vault over each.
async fn vault_nodes(
    scratch: &mut Scratch,
    dir: &Path,
    n_nodes: usize,
    tenants: usize,
) -> Result<(Vec<PgStore>, Vec<Arc<Vault>>), String> {
    let url = scratch.fresh().await?;
    let stores = nodes(&url, n_nodes).await?;
    let keyring = Keyring::new(MasterKey::new(Key::generate()), Vec::new());
    let journal = |i: usize| dir.join(format!("pg-{}-{i}.journal", scratch.made.len()));
    let mut vaults = vec![setup_on(Arc::new(stores[0].clone()), keyring.clone(), journal(0), tenants).await?];
    for (i, s) in stores.iter().enumerate().skip(1) {
        vaults.push(vault_on(Arc::new(s.clone()), keyring.clone(), journal(i)));
    }
    Ok((stores, vaults))
}

/// Raw PostgreSQL with the lookup vault's records in plaintext, indexed on (tenant, e-mail),
/// and an audit table; its URL.
async fn raw_lookup_table(scratch: &mut Scratch, n: u64, pb: &ProgressBar) -> Result<String, String> {
    let url = scratch.fresh().await?;
    let mut c = connect(&url).await?;
    c.batch_execute(&format!(
        "{RAW_RECORDS}; CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, entry BYTEA NOT NULL)"
    ))
    .await
    .map_err(|e| pg_err(&e))?;
    let st = c
        .prepare(
            "INSERT INTO raw (tenant, subject, name, email, iban, address, salary)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])",
        )
        .await
        .map_err(|e| pg_err(&e))?;
    let per_tenant = (n / 100).max(1);
    let mut i = 0;
    while i < n {
        let end = (i + 10_000).min(n);
        let mut cols: [Vec<String>; 7] = Default::default();
        for k in i..end {
            for (col, v) in cols.iter_mut().zip(raw_record((k / per_tenant) as usize, k)) {
                col.push(v);
            }
        }
        let tx = c.transaction().await.map_err(|e| pg_err(&e))?;
        let params: Vec<&(dyn ToSql + Sync)> = cols.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
        tx.execute(&st, &params).await.map_err(|e| pg_err(&e))?;
        tx.commit().await.map_err(|e| pg_err(&e))?;
        pb.inc(end - i);
        i = end;
    }
    c.batch_execute("CREATE INDEX raw_email ON raw (tenant, email); ANALYZE raw")
        .await
        .map_err(|e| pg_err(&e))?;
    Ok(url)
}

/// Raw PostgreSQL lookups by the indexed (tenant, e-mail), each with an audit row inserted
/// in the same durable transaction, from 8 connections. Lookups per second.
async fn raw_lookups(url: &str, n: u64, samples: u64) -> Result<f64, String> {
    let per_tenant = (n / 100).max(1);
    // The lookups' keys and audit rows are made before the clock starts.
    let work: Arc<Vec<(String, String, Vec<u8>)>> = Arc::new(
        (0..samples)
            .map(|s| {
                let k = (s * 104_729) % n;
                (
                    tenant((k / per_tenant) as usize).to_string(),
                    email(k),
                    sample_entry(s).to_bytes(),
                )
            })
            .collect(),
    );
    let mut clients = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        clients.push(connect(url).await?);
    }
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(c, mut client)| {
            let work = work.clone();
            tokio::spawn(async move {
                let select = client
                    .prepare(
                        "SELECT subject, name, email, iban, address, salary FROM raw WHERE tenant = $1 AND email = $2",
                    )
                    .await
                    .map_err(|e| pg_err(&e))?;
                let audit = client
                    .prepare("INSERT INTO audit (entry) VALUES ($1)")
                    .await
                    .map_err(|e| pg_err(&e))?;
                for (t, e, entry) in work.iter().skip(c).step_by(CONNECTIONS) {
                    let tx = client.transaction().await.map_err(|e| pg_err(&e))?;
                    let found = tx.query(&select, &[t, e]).await.map_err(|e| pg_err(&e))?;
                    if found.len() != 1 {
                        return Err(format!("raw lookup of {e} found {}", found.len()));
                    }
                    tx.execute(&audit, &[entry]).await.map_err(|e| pg_err(&e))?;
                    tx.commit().await.map_err(|e| pg_err(&e))?;
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(err)??;
    }
    Ok(samples as f64 / start.elapsed().as_secs_f64())
}

async fn bench_vault(scratch: &mut Scratch, dir: &Path, quick: bool, show: bool) -> Result<serde_json::Value, String> {
    let (n_writes, n_raw, n_reads, n_lookup, n_lookup_samples) = if quick {
        (2_000u64, 400u64, 4_000u64, 20_000u64, 2_000u64)
    } else {
        (16_000, 4_000, 32_000, 1_000_000, 20_000)
    };
    // The raw rows: the records the first writes create, in plaintext, made beforehand.
    let raw_rows: Arc<Vec<[String; 7]>> = Arc::new((0..n_raw).map(|i| raw_record((i % 8) as usize, i)).collect());

    // 1. Durable writes from 8 writers through one node and through two nodes on one database,
    // and logged reads of what one node wrote, vs raw one-row-per-transaction inserts.
    let mut write_rounds = Vec::with_capacity(ROUNDS);
    for r in 1..=ROUNDS {
        let pb = bar(show, n_raw, &format!("raw PG, 1 row per tx (8 conn) {r}/{ROUNDS}"));
        let raw = row_per_tx(
            scratch,
            RAW_RECORDS,
            "INSERT INTO raw (tenant, subject, name, email, iban, address, salary) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &raw_rows,
            |row| row.iter().map(|v| v as &(dyn ToSql + Sync)).collect(),
            &pb,
        )
        .await?;
        pb.finish_and_clear();
        let (one_store, one) = vault_nodes(scratch, dir, 1, WRITERS).await?;
        let pb = bar(show, n_writes, &format!("vault writes, 1 node (8) {r}/{ROUNDS}"));
        let before = writer_totals(&one_store);
        let (writes, ids) = vault_writes(&one, n_writes, &pb).await?;
        let writes_per_commit = per_commit_since(&one_store, before);
        pb.finish_and_clear();
        let pb = bar(show, n_reads, &format!("vault logged reads (8) {r}/{ROUNDS}"));
        let reads = vault_reads(&one[0], &Arc::new(ids), n_reads, &pb).await?;
        pb.finish_and_clear();
        drop(one);
        let (two_stores, two) = vault_nodes(scratch, dir, 2, WRITERS).await?;
        let before = writer_totals(&two_stores);
        let pb = bar(show, n_writes, &format!("vault writes, 2 nodes (2 x 4) {r}/{ROUNDS}"));
        let (writes_two, _) = vault_writes(&two, n_writes, &pb).await?;
        let writes_two_per_commit = per_commit_since(&two_stores, before);
        pb.finish_and_clear();
        drop(two);
        write_rounds.push(json!({
            "raw_pg_row_per_tx_per_s": raw,
            "vault_writes_per_s_8_writers": writes,
            "vault_writes_per_s_8_writers_2_nodes": writes_two,
            "vault_writes_jobs_per_commit": writes_per_commit,
            "vault_writes_jobs_per_commit_2_nodes": writes_two_per_commit,
            "vault_logged_reads_per_s_8_readers": reads,
        }));
    }

    // 2. Data-subject lookups among n_lookup records in 100 customers, each logged before it
    // answers, vs raw indexed lookups with an audit row in the same durable transaction.
    let (lookup_store, lookup) = vault_nodes(scratch, dir, 1, 100).await?;
    let lookup_store = lookup_store.into_iter().next().ok_or("no store")?;
    let pb = bar(show, n_lookup, "filling the vault (import)");
    let fill_start = Instant::now();
    fill(&lookup[0], 100, n_lookup, &pb).await?;
    let fill_s = fill_start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let pb = bar(show, n_lookup, "filling raw PostgreSQL");
    let raw_url = raw_lookup_table(scratch, n_lookup, &pb).await?;
    pb.finish_and_clear();
    let mut lookup_rounds = Vec::with_capacity(ROUNDS);
    for r in 1..=ROUNDS {
        let pb = bar(show, 2, &format!("lookups, raw PG and vault (8) {r}/{ROUNDS}"));
        let raw = raw_lookups(&raw_url, n_lookup, n_lookup_samples).await?;
        pb.inc(1);
        let before = writer_totals(std::slice::from_ref(&lookup_store));
        let vault = vault_lookups(&lookup[0], n_lookup, n_lookup_samples, 8).await?;
        let lookup_per_commit = per_commit_since(std::slice::from_ref(&lookup_store), before);
        pb.finish_and_clear();
        lookup_rounds.push(json!({
            "raw_pg_lookups_with_audit_row_per_s": raw,
            "vault_lookups_per_s_8_concurrent": vault,
            "vault_lookups_jobs_per_commit": lookup_per_commit,
        }));
    }
    let lookups_32 = vault_lookups(&lookup[0], n_lookup, n_lookup_samples, 32).await?;
    let lookups_1 = vault_lookups(&lookup[0], n_lookup, (n_lookup_samples / 20).max(100), 1).await?;
    let log_8 = log_ceiling(&Arc::new(lookup_store), n_lookup_samples, 8).await?;
    // Checked once: a lookup answers the subject's one record.
    let t = tenant(0);
    let one = art28_service::vault::Lookup::Identifier(art28_core::vault::IdentifierKind::Email, email(0));
    let (found, _) = lookup[0].query(&ctx(), &admin(&t), &t, &one).await.map_err(err)?;
    if found.len() != 1 {
        return Err(format!("a lookup found {} records", found.len()));
    }

    let raw_w: &[&str] = &["raw_pg_row_per_tx_per_s"];
    let (mut raw, mut ratios) = medians(
        &write_rounds,
        &[
            ("raw_pg_row_per_tx_per_s", raw_w),
            ("vault_writes_per_s_8_writers", &["vault_writes_per_s_8_writers"]),
            (
                "vault_writes_per_s_8_writers_2_nodes",
                &["vault_writes_per_s_8_writers_2_nodes"],
            ),
            (
                "vault_logged_reads_per_s_8_readers",
                &["vault_logged_reads_per_s_8_readers"],
            ),
            ("vault_writes_jobs_per_commit", &["vault_writes_jobs_per_commit"]),
            (
                "vault_writes_jobs_per_commit_2_nodes",
                &["vault_writes_jobs_per_commit_2_nodes"],
            ),
        ],
        &[
            (
                "writes_8_vs_raw_pg_row_per_tx (goal 1.0)".into(),
                &["vault_writes_per_s_8_writers"],
                raw_w,
            ),
            (
                "writes_8_2_nodes_vs_1_node".into(),
                &["vault_writes_per_s_8_writers_2_nodes"],
                &["vault_writes_per_s_8_writers"],
            ),
            (
                "writes_8_2_nodes_vs_raw_pg_row_per_tx".into(),
                &["vault_writes_per_s_8_writers_2_nodes"],
                raw_w,
            ),
            (
                "logged_reads_8_vs_raw_pg_row_per_tx".into(),
                &["vault_logged_reads_per_s_8_readers"],
                raw_w,
            ),
        ],
    );
    let raw_l: &[&str] = &["raw_pg_lookups_with_audit_row_per_s"];
    let (lookup_figures, lookup_ratios) = medians(
        &lookup_rounds,
        &[
            ("raw_pg_lookups_with_audit_row_per_s", raw_l),
            (
                "vault_lookups_per_s_8_concurrent",
                &["vault_lookups_per_s_8_concurrent"],
            ),
            ("vault_lookups_jobs_per_commit", &["vault_lookups_jobs_per_commit"]),
        ],
        &[(
            format!("logged_lookups_8_{n_lookup}_vs_raw_pg_lookup_with_audit_row (goal 1.0)"),
            &["vault_lookups_per_s_8_concurrent"],
            raw_l,
        )],
    );
    raw.extend(lookup_figures);
    ratios.extend(lookup_ratios);
    raw.insert("lookup_records".into(), json!(n_lookup));
    raw.insert("lookup_fill_seconds".into(), json!(fill_s));
    raw.insert("vault_lookups_per_s_32_concurrent".into(), json!(lookups_32));
    raw.insert("vault_lookups_per_s_1_at_a_time".into(), json!(lookups_1));
    raw.insert("log_only_appends_per_s_8_concurrent".into(), json!(log_8));
    raw.insert("write_rounds".into(), json!(write_rounds));
    raw.insert("lookup_rounds".into(), json!(lookup_rounds));
    Ok(json!({
        "bench": "vault",
        "database": "postgres",
        "quick": quick,
        "ratios": ratios,
        "raw": raw,
    }))
}
