//! Integration tests of art28-store. `suite` holds the conformance suite every backend must
//! pass; this file runs it against SQLite and adds SQLite-specific checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

#[path = "../support/pg.rs"]
mod pg;
#[macro_use]
mod suite;

use art28_core::ErrorCode;
use art28_store::prelude::*;
use art28_store::sqlite::{SqliteStore, WriterStats};
use std::future::Future;
use std::sync::Arc;

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("art28.sqlite");
    (dir, path)
}

/// The WAL file of the database at `path`.
fn wal_of(path: &std::path::Path) -> std::path::PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// Run `appender` as 8 concurrent tasks, numbered 0 to 7, each with its own handle to the
/// store; what each returns, in no particular order.
async fn eight_appenders<T, F, Fut>(store: &SqliteStore, appender: F) -> Vec<T>
where
    F: Fn(SqliteStore, u64) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..8u64 {
        tasks.spawn(appender(store.clone(), w));
    }
    tasks.join_all().await
}

/// Undo migration 14 (the sub-processor register), for tests that take a database back to an
/// older schema.
const UNDO_SUBPROCESSORS: &str = "DROP TABLE subprocessor_feeds;
     DROP TABLE subprocessor_list_requests;
     DROP TABLE subprocessor_outbox;
     DROP TABLE subprocessor_announcements;
     DROP TABLE subprocessor_change_events;
     DROP TABLE subprocessor_change_customers;
     DROP TABLE subprocessor_changes;
     DROP TABLE subprocessor_events;
     DROP TABLE subprocessors;";

/// A fresh SQLite store in a temporary directory, for the conformance suite.
async fn sqlite_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let (dir, path) = temp_db();
    let store = SqliteStore::open(&path).expect("open");
    (dir, Arc::new(store))
}

conformance!(sqlite, sqlite_store);

/// A fresh PostgreSQL store on a database of its own, for the conformance suite.
async fn postgres_store() -> (String, Arc<dyn Store>) {
    let url = pg_database().await;
    let store = art28_store::postgres::PgStore::connect(&url).await.expect("connect");
    (url, Arc::new(store))
}

conformance!(postgres, postgres_store);

/// A new, empty database on the test server.
async fn pg_database() -> String {
    pg::fresh_database("art28_test").await
}

/// Eight tasks with 100 appends each, all in flight at once, while the writer is held at the
/// start of its first transaction (another connection holds SQLite's write lock): every job
/// is queued before the writer can commit anything, so it must share commits. Nothing is
/// lost, every acknowledged entry has its own index, and the entries survive reopening.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_share_commits_and_lose_nothing() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).expect("open");
    // Hold the write lock: the writer's BEGIN IMMEDIATE waits (busy timeout, 10 s) until it
    // is released.
    let blocker = rusqlite::Connection::open(&path).expect("raw");
    blocker.execute_batch("BEGIN IMMEDIATE").expect("hold the write lock");
    let (queued_tx, mut queued) = tokio::sync::mpsc::channel::<()>(8);
    let receipts = {
        let appenders = eight_appenders(&store, |s, w| {
            let queued_tx = queued_tx.clone();
            async move {
                let mut appends: Vec<_> = (0..100u64)
                    .map(|i| {
                        let s = s.clone();
                        Box::pin(async move { s.log_access(&suite::entry(None, "customer.read", w * 1000 + i)).await })
                    })
                    .collect();
                // Poll each append once: that hands its job to the writer's queue.
                std::future::poll_fn(|cx| {
                    for a in &mut appends {
                        assert!(a.as_mut().poll(cx).is_pending(), "no append can finish yet");
                    }
                    std::task::Poll::Ready(())
                })
                .await;
                queued_tx.send(()).await.expect("report queued");
                futures_util::future::join_all(appends).await
            }
        });
        let release = async {
            for _ in 0..8 {
                queued.recv().await.expect("an appender queued its jobs");
            }
            assert_eq!(
                store.writer_stats(),
                WriterStats::default(),
                "nothing committed while held"
            );
            blocker.execute_batch("ROLLBACK").expect("release the write lock");
        };
        let (receipts, ()) = tokio::join!(appenders, release);
        receipts
    };
    let mut indices: Vec<u64> = receipts
        .into_iter()
        .flatten()
        .map(|r| r.expect("append").index)
        .collect();
    indices.sort_unstable();
    assert_eq!(
        indices,
        (0..800).collect::<Vec<u64>>(),
        "every acknowledged entry has its own index"
    );
    let stats = store.writer_stats();
    assert_eq!(stats.jobs, 800, "{stats:?}");
    // The first batch may have held only the first job (taken before the lock was noticed);
    // everything else was queued by then and fits one batch.
    assert!(stats.commits <= 2, "the queued jobs shared commits: {stats:?}");
    assert!(stats.commits < stats.jobs, "{stats:?}");
    drop(store);
    let store = SqliteStore::open(&path).expect("reopen");
    assert_eq!(store.log_size().await.expect("size"), 800);
}

/// Without holding the writer: 800 appends issued at once from 8 tasks on 4 threads still
/// share commits (the writer takes whatever is queued when it starts a transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_in_flight_at_once_share_commits() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).expect("open");
    let receipts = eight_appenders(&store, |s, w| async move {
        let appends = (0..100u64).map(|i| {
            let s = s.clone();
            async move { s.log_access(&suite::entry(None, "customer.read", w * 1000 + i)).await }
        });
        futures_util::future::join_all(appends).await
    })
    .await;
    assert_eq!(receipts.into_iter().flatten().filter(Result::is_ok).count(), 800);
    let stats = store.writer_stats();
    assert_eq!(stats.jobs, 800, "{stats:?}");
    assert!(stats.commits < stats.jobs, "{stats:?}");
}

#[tokio::test]
async fn the_writer_counts_its_commits_the_jobs_they_held_and_the_wal_pages_they_appended() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).expect("open");
    // Opening (and migrating) is not the writer's work.
    assert_eq!(store.writer_stats(), WriterStats::default());
    assert_eq!(store.writer_stats().jobs_per_commit(), 0.0);
    store
        .log_access(&suite::entry(None, "customer.read", 1))
        .await
        .expect("append");
    let first = store.writer_stats();
    assert_eq!((first.commits, first.jobs), (1, 1), "{first:?}");
    // A commit appends at least the page the entry went into to the WAL.
    assert!(first.wal_pages >= 1, "{first:?}");
    // Several entries appended at once are one job.
    let entries: Vec<_> = (2..5).map(|n| suite::entry(None, "customer.read", n)).collect();
    store.log_accesses(&entries).await.expect("append three");
    let stats = store.writer_stats();
    assert_eq!((stats.commits, stats.jobs), (2, 2), "{stats:?}");
    assert!(stats.wal_pages > first.wal_pages, "{stats:?}");
    assert_eq!(stats.jobs_per_commit(), 1.0);
    assert_eq!(store.log_size().await.expect("size"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn steady_appends_keep_the_wal_bounded_and_new_databases_use_8k_pages() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).expect("open");
    // 8 appenders with 50 appends in flight each, 48 MB of entries in all, past the 32 MiB
    // (4,000 pages) from which the writer checkpoints by itself. The WAL hook turns off
    // SQLite's own checkpoints, so only ours keep the WAL small: with the hook doing nothing,
    // this WAL grew to 108 MB. (That the writer's own step is needed under steadier load than
    // this is measured in `art28 bench log`, not here: here the checkpointer thread often
    // catches up between commits.)
    eight_appenders(&store, |s, w| async move {
        for b in 0..30u64 {
            let mut flight = tokio::task::JoinSet::new();
            for i in 0..50u64 {
                let mut e = suite::entry(None, "record.read", (w * 100 + b) * 100 + i);
                e.resource = format!("record/{}", "x".repeat(4000));
                let s = s.clone();
                flight.spawn(async move { s.log_access(&e).await.expect("append") });
            }
            flight.join_all().await;
        }
    })
    .await;
    assert_eq!(store.log_size().await.expect("size"), 12_000);
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = size(&wal_of(&path));
    let db = size(&path);
    let frame = u64::from(art28_store::sqlite::PAGE_SIZE) + 24;
    // Up to the limit plus what the commits in flight added past it.
    assert!(
        wal <= (4000 + 2000) * frame,
        "the WAL grew to {wal} bytes ({} frames)",
        wal / frame
    );
    assert!(
        db > 30_000_000,
        "checkpoints copied the entries into the database ({db} bytes)"
    );
    let c = rusqlite::Connection::open(&path).expect("open");
    let page: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page size");
    assert_eq!(page, 8192, "new databases use 8 KiB pages");
    assert_eq!(page, i64::from(art28_store::sqlite::PAGE_SIZE));
}

#[tokio::test]
async fn closing_is_refused_while_another_handle_exists_and_leaves_no_wal_behind() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).expect("open");
    let entries: Vec<_> = (0..50u64).map(|i| suite::entry(None, "customer.read", i)).collect();
    store.log_accesses(&entries).await.expect("append");
    let wal = wal_of(&path);
    assert!(wal.exists(), "the store runs in WAL mode");
    let other = store.clone();
    let err = store.close().await.expect_err("another handle exists");
    assert_eq!(err.code, ErrorCode::Internal);
    assert_eq!(other.log_size().await.expect("still open"), 50);
    other.close().await.expect("close");
    assert!(
        !wal.exists(),
        "the last connection moved the WAL into the database and removed it"
    );
    let n: i64 = rusqlite::Connection::open(&path)
        .expect("raw")
        .query_row("SELECT count(*) FROM access_log", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 50);
}

#[tokio::test]
async fn data_survives_reopening() {
    let (_dir, path) = temp_db();
    {
        let store = SqliteStore::open(&path).expect("open");
        suite::seed(&store).await;
    }
    let store = SqliteStore::open(&path).expect("reopen");
    let customers = store.customers().await.expect("customers");
    assert_eq!(customers.len(), 1);
    let history = store
        .customer_agreement_history(&customers[0].id)
        .await
        .expect("history");
    assert_eq!(history.len(), 1);
}

#[tokio::test]
async fn a_database_from_a_newer_art28_is_refused() {
    let (_dir, path) = temp_db();
    drop(SqliteStore::open(&path).expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("raw");
    conn.pragma_update(None, "user_version", 999).expect("bump");
    drop(conn);
    let err = SqliteStore::open(&path).expect_err("too new");
    assert_eq!(err.code, ErrorCode::StorageTooNew);
}

#[tokio::test]
async fn garbage_instead_of_a_database_is_a_storage_error_not_a_panic() {
    let (_dir, path) = temp_db();
    std::fs::write(
        &path,
        b"this is not a database at all, just text that is long enough....",
    )
    .expect("write");
    let err = SqliteStore::open(&path).expect_err("garbage");
    assert_eq!(err.code, ErrorCode::StorageFailure);
}

/// The indices of a customer's entries in `[from, below)`.
async fn view(store: &SqliteStore, t: &art28_core::ids::CustomerId, from: u64, below: u64) -> Vec<u64> {
    let page = store.tenant_log(t, from, below, 1000).await.expect("view");
    page.iter().map(|e| e.index).collect()
}

/// The nodes and checkpoint of folding the entries from the frontier's size up to `size`, as
/// the ledger makes them.
async fn fold_of(
    store: &SqliteStore,
    frontier: &mut art28_ledger::merkle::Frontier,
    size: u64,
) -> (
    Vec<(u32, u64, art28_ledger::merkle::Hash)>,
    art28_store::StoredCheckpoint,
) {
    let leaves = store.leaf_hashes(frontier.size(), size).await.expect("leaves");
    let nodes: Vec<_> = leaves.iter().flat_map(|l| frontier.append(*l)).collect();
    let cp = art28_store::StoredCheckpoint {
        size,
        root: frontier.root(),
        note: format!("note {size}\n"),
        signed_at: "2026-01-01T10:00:00Z".parse().expect("ts"),
    };
    (nodes, cp)
}

/// Fold the entries from the frontier's size up to `size` and save a checkpoint for them.
async fn fold(store: &SqliteStore, frontier: &mut art28_ledger::merkle::Frontier, size: u64) {
    let (nodes, cp) = fold_of(store, frontier, size).await;
    store.save_fold(&nodes, &cp).await.expect("fold");
}

/// `n` entries for two customers: every `b_every`-th (from 0) is `cust-b`'s, the others
/// `cust-a`'s.
fn two_customers(
    n: u64,
    b_every: u64,
) -> (
    art28_core::ids::CustomerId,
    art28_core::ids::CustomerId,
    Vec<art28_core::access::AccessEntry>,
) {
    let (a, b) = ("cust-a".parse().expect("id"), "cust-b".parse().expect("id"));
    let entries = (0..n)
        .map(|i| suite::entry(Some(if i % b_every == 0 { &b } else { &a }), "customer.read", i))
        .collect();
    (a, b, entries)
}

/// Two folds saved at the same time both read the unindexed entries before either writes; the
/// one that writes second leaves out what the first's checkpoint already indexed, so every
/// entry is in the per-customer runs exactly once.
#[tokio::test]
async fn two_folds_saved_at_once_index_each_entry_once() {
    use art28_ledger::merkle::Frontier;
    let (_dir, path) = temp_db();
    let (a, b, entries) = two_customers(700, 4);
    let store = SqliteStore::open(&path).expect("open");
    store.log_accesses(&entries).await.expect("append");
    let (nodes_300, cp_300) = fold_of(&store, &mut Frontier::new(), 300).await;
    let (nodes_600, cp_600) = fold_of(&store, &mut Frontier::new(), 600).await;
    let (r1, r2) = tokio::join!(
        store.save_fold(&nodes_300, &cp_300),
        store.save_fold(&nodes_600, &cp_600)
    );
    r1.expect("fold to 300");
    r2.expect("fold to 600");
    assert_eq!(indexed(&path), 600, "each folded entry once");
    assert_eq!(
        view(&store, &a, 0, 700).await,
        (0..700).filter(|i| i % 4 != 0).collect::<Vec<u64>>()
    );
    assert_eq!(
        view(&store, &b, 250, 350).await,
        (252..350).step_by(4).collect::<Vec<u64>>()
    );
}

/// After a restart the writer's in-memory tail is empty: a fold then reads the entries logged
/// before it (and not yet folded) from the database, and later folds the entries logged since
/// from the tail. Either way the checkpoint's root is the root over every entry's bytes, and
/// each customer's view lists exactly its own entries.
#[tokio::test]
async fn a_fold_after_a_restart_reads_what_the_tail_lacks_from_the_database() {
    use art28_ledger::merkle::{Frontier, MemoryTree};
    let (_dir, path) = temp_db();
    let (a, b, entries) = two_customers(900, 3);
    let store = SqliteStore::open(&path).expect("open");
    store.log_accesses(&entries[..300]).await.expect("append");
    store.close().await.expect("close");

    let store = SqliteStore::open(&path).expect("reopen");
    store.log_accesses(&entries[300..600]).await.expect("append");
    let mut frontier = Frontier::new();
    fold(&store, &mut frontier, 600).await;
    store.log_accesses(&entries[600..]).await.expect("append");
    fold(&store, &mut frontier, 900).await;

    let tree = MemoryTree::from_entries(entries.iter().map(|e| e.to_bytes()));
    let cp = store.latest_checkpoint().await.expect("checkpoint").expect("some");
    assert_eq!((cp.size, cp.root), (900, tree.root()));
    assert_eq!(indexed(&path), 900, "each entry indexed once");
    assert_eq!(
        view(&store, &a, 0, 900).await,
        (0..900).filter(|i| i % 3 != 0).collect::<Vec<u64>>()
    );
    assert_eq!(
        view(&store, &b, 0, 900).await,
        (0..900).step_by(3).collect::<Vec<u64>>()
    );
}

/// How many sequence numbers the per-customer runs hold.
fn indexed(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .expect("raw")
        .query_row("SELECT sum(length(seqs) / 8) FROM access_log_runs", [], |r| r.get(0))
        .expect("count")
}

/// A log written before migration 9 (per-customer index on the log table itself, an access id
/// column) keeps its per-customer view after the upgrades to schemas 9 and 10: folded entries
/// move to the per-customer runs, the tail is found by scanning.
#[tokio::test]
async fn the_customer_index_survives_the_upgrades_to_schemas_9_and_10() {
    use art28_ledger::merkle::Frontier;
    let (_dir, path) = temp_db();
    let (a, b, entries) = two_customers(700, 4);
    let store = SqliteStore::open(&path).expect("open");
    store.log_accesses(&entries).await.expect("append");
    let mut frontier = Frontier::new();
    fold(&store, &mut frontier, 600).await;
    let before = view(&store, &b, 0, 700).await;
    assert_eq!(before, (0..700).step_by(4).collect::<Vec<u64>>());
    drop(store);

    // Put the database back into its schema-8 shape (migration 11 undone too).
    {
        let c = rusqlite::Connection::open(&path).expect("raw");
        c.execute_batch(UNDO_SUBPROCESSORS).expect("undo migration 14");
        c.execute_batch(
            "DROP TABLE jobs;
             DROP TABLE pins;
             DROP INDEX vault_records_blind_stale;
             ALTER TABLE vault_records DROP COLUMN blind_version;
             DROP TABLE access_log_runs;
             ALTER TABLE access_log ADD COLUMN access_id TEXT NOT NULL DEFAULT 'acc';
             CREATE INDEX access_log_tenant ON access_log (tenant, seq);
             PRAGMA user_version = 8;",
        )
        .expect("downgrade");
    }
    let store = SqliteStore::open(&path).expect("upgrade");
    let after = view(&store, &b, 0, 700).await;
    assert_eq!(after, before);
    assert_eq!(view(&store, &a, 25, 35).await, [25, 26, 27, 29, 30, 31, 33, 34]);
    assert_eq!(
        view(&store, &a, 250, 262).await,
        [250, 251, 253, 254, 255, 257, 258, 259, 261],
        "across two runs"
    );
    assert_eq!(
        view(&store, &a, 0, 700).await,
        (0..700).filter(|i| i % 4 != 0).collect::<Vec<u64>>()
    );
    assert_eq!(
        indexed(&path),
        600,
        "the folded entries, and only those, are in the new index"
    );

    // A fold after the upgrade adds its runs beside the converted ones; the view is the same.
    fold(&store, &mut frontier, 700).await;
    assert_eq!(view(&store, &b, 0, 700).await, before);
    assert_eq!(
        view(&store, &a, 590, 612).await,
        (590..612).filter(|i| i % 4 != 0).collect::<Vec<u64>>(),
        "across the converted runs and the new fold's"
    );
    assert_eq!(indexed(&path), 700);
}

/// Records written before migration 11 are at blind version 1: listed as stale (through the
/// partial index) until their blind indexes are replaced, which happens once, by
/// compare-and-set on the record's version.
#[tokio::test]
async fn records_from_before_migration_11_are_listed_stale_until_reindexed() {
    use art28_store::{BlindChange, NewSubject, NewVaultRecord, QueryKey, SubjectRef, TenantKeyRow};
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).expect("open");
    let t = suite::seed(&store).await;
    let at: jiff::Timestamp = "2026-01-02T09:00:00Z".parse().expect("ts");
    let key = TenantKeyRow {
        master_key_id: "mk".into(),
        wrapped: vec![7; 40],
    };
    store.put_tenant_key(&t, &key, at).await.expect("key");
    let record = NewVaultRecord {
        id: "rec_a".into(),
        collection: "contacts".into(),
        subject: SubjectRef::New(NewSubject {
            ref_index: [1; 32],
            wrapped_key: vec![1; 40],
        }),
        sealed: vec![0; 16],
        blind: vec![[2; 32]],
    };
    let entry = suite::next_entry(Some(&t), "vault.record.create");
    store.vault_create(&t, vec![record], at, &entry).await.expect("create");
    assert!(
        store.vault_stale_blind(None, 10).await.expect("stale").is_empty(),
        "new writes are current"
    );
    store.close().await.expect("close");

    // Back to schema 10: the column is gone, as in a database of the previous release.
    {
        let c = rusqlite::Connection::open(&path).expect("raw");
        c.execute_batch(UNDO_SUBPROCESSORS).expect("undo migration 14");
        c.execute_batch(
            "DROP TABLE jobs;
             DROP TABLE pins;
             DROP INDEX vault_records_blind_stale;
             ALTER TABLE vault_records DROP COLUMN blind_version;
             PRAGMA user_version = 10;",
        )
        .expect("downgrade");
    }
    let store = SqliteStore::open(&path).expect("upgrade");
    let stale = store.vault_stale_blind(None, 10).await.expect("stale");
    assert_eq!(
        stale
            .iter()
            .map(|(t, r)| (t.clone(), r.id.as_str(), r.version))
            .collect::<Vec<_>>(),
        [(t.clone(), "rec_a", 1)]
    );
    let plan: String = rusqlite::Connection::open(&path)
        .expect("raw")
        .query_row(
            "EXPLAIN QUERY PLAN SELECT tenant, id FROM vault_records WHERE blind_version < 3 AND (tenant, id) > ('', '') ORDER BY tenant, id",
            [],
            |r| r.get(3),
        )
        .expect("plan");
    assert!(plan.contains("vault_records_blind_stale"), "{plan}");

    let change = |version| BlindChange {
        id: "rec_a".into(),
        version,
        blind: vec![[3; 32]],
    };
    let reindex = suite::next_entry(Some(&t), "vault.reindex");
    assert_eq!(
        store
            .vault_reindex_blind(&t, vec![change(2)], &reindex)
            .await
            .expect("cas"),
        0,
        "not at the version read"
    );
    let reindex = suite::next_entry(Some(&t), "vault.reindex");
    assert_eq!(
        store
            .vault_reindex_blind(&t, vec![change(1)], &reindex)
            .await
            .expect("reindex"),
        1
    );
    let reindex = suite::next_entry(Some(&t), "vault.reindex");
    assert_eq!(
        store
            .vault_reindex_blind(&t, vec![change(1)], &reindex)
            .await
            .expect("again"),
        0,
        "done once"
    );
    assert!(store.vault_stale_blind(None, 10).await.expect("stale").is_empty());
    let q = |d: [u8; 32]| {
        let store = store.clone();
        let t = t.clone();
        async move {
            let e = suite::next_entry(Some(&t), "vault.query");
            let (rows, _) = store.vault_query(&t, QueryKey::Identifier(d), &e).await.expect("query");
            rows.into_iter().map(|r| (r.id, r.version)).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        q([3; 32]).await,
        [("rec_a".to_string(), 1)],
        "found by the new index, version kept"
    );
    assert!(q([2; 32]).await.is_empty(), "the old index is gone");
}

/// Two stores on one PostgreSQL database stand for two nodes. Both append at once, alone and
/// in batches; every acknowledged entry has its own index, the indices are gapless, and each
/// index holds exactly the entry it was acknowledged for.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_database_append_gapless_without_duplicates() {
    let url = pg_database().await;
    let a = art28_store::postgres::PgStore::connect(&url).await.expect("node a");
    let b = art28_store::postgres::PgStore::connect(&url).await.expect("node b");
    let mut tasks = tokio::task::JoinSet::new();
    for (n, node) in [a.clone(), b.clone()].into_iter().enumerate() {
        for w in 0..4u64 {
            let node = node.clone();
            let base = (n as u64 * 10 + w) * 1000;
            tasks.spawn(async move {
                let mut acked = Vec::new();
                for i in 0..50u64 {
                    let e = suite::entry(None, "customer.read", base + i);
                    let r = node.log_access(&e).await.expect("append");
                    acked.push((r.index, e.to_bytes()));
                }
                let batch: Vec<_> = (50..60u64)
                    .map(|i| suite::entry(None, "customer.read", base + i))
                    .collect();
                let receipts = node.log_accesses(&batch).await.expect("batch");
                acked.extend(receipts.iter().map(|r| r.index).zip(batch.iter().map(|e| e.to_bytes())));
                acked
            });
        }
    }
    let acked: std::collections::BTreeMap<u64, Vec<u8>> = tasks.join_all().await.into_iter().flatten().collect();
    assert_eq!(acked.len(), 2 * 4 * 60, "no index was given twice");
    assert_eq!(
        acked.keys().copied().collect::<Vec<_>>(),
        (0..480).collect::<Vec<_>>(),
        "gapless"
    );
    assert_eq!(b.log_size().await.expect("size"), 480);
    let stored = a.tenant_log(&suite::id("nobody"), 0, 480, 10).await.expect("view");
    assert!(stored.is_empty());
    let hashes = a.leaf_hashes(0, 480).await.expect("hashes");
    for (i, bytes) in &acked {
        assert_eq!(hashes[*i as usize], art28_ledger::merkle::leaf_hash(bytes), "entry {i}");
    }
}

/// One node leads a role at a time; when it goes away (its connection closes), the other
/// takes the role over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_passes_to_another_node_when_its_leader_goes() {
    let url = pg_database().await;
    let a = art28_store::postgres::PgStore::connect(&url).await.expect("node a");
    let b = art28_store::postgres::PgStore::connect(&url).await.expect("node b");
    assert!(a.lead("fold").await.expect("a"));
    assert!(!b.lead("fold").await.expect("b"), "a holds it");
    assert!(a.lead("fold").await.expect("a again"), "and keeps it");
    assert!(b.lead("outbox").await.expect("b"), "another role is free");
    drop(a);
    // PostgreSQL releases the lock when it sees the session end; ask until it has (5 s at most).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if b.lead("fold").await.expect("b") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "b never took the role over");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// On PostgreSQL, rows at an older blind version (set here by hand, as an upgrade would leave
/// them) are listed stale through the partial index, in (customer, id) order after the
/// cursor, until re-indexed; the re-index is a compare-and-set per record, applied once even
/// when a call names a record twice, and moves the record's digests.
#[tokio::test]
async fn postgres_records_at_an_older_blind_version_are_listed_stale_until_reindexed() {
    use art28_store::{BlindChange, NewSubject, NewVaultRecord, QueryKey, SubjectRef, TenantKeyRow};
    let url = pg_database().await;
    let store = art28_store::postgres::PgStore::connect(&url).await.expect("connect");
    let t = suite::seed(&store).await;
    let at: jiff::Timestamp = "2026-01-02T09:00:00Z".parse().expect("ts");
    let key = TenantKeyRow {
        master_key_id: "mk".into(),
        wrapped: vec![7; 40],
    };
    store.put_tenant_key(&t, &key, at).await.expect("key");
    let record = |id: &str, d: u8| NewVaultRecord {
        id: id.into(),
        collection: "contacts".into(),
        subject: SubjectRef::New(NewSubject {
            ref_index: [1; 32],
            wrapped_key: vec![1; 40],
        }),
        sealed: vec![0; 16],
        blind: vec![[d; 32], [9; 32]],
    };
    let entry = suite::next_entry(Some(&t), "vault.record.create");
    store
        .vault_create(&t, vec![record("rec_a", 2), record("rec_b", 4)], at, &entry)
        .await
        .expect("create");
    assert!(store.vault_stale_blind(None, 10).await.expect("stale").is_empty());

    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("raw");
    let conn = tokio::spawn(conn);
    client
        .batch_execute("UPDATE vault_records SET blind_version = 1")
        .await
        .expect("age the rows");
    let plan: Vec<String> = client
        .simple_query(
            "SET enable_seqscan = off;
             EXPLAIN SELECT tenant, id FROM vault_records WHERE blind_version < 3 AND (tenant, id) > ('', '') ORDER BY tenant, id",
        )
        .await
        .expect("plan")
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect();
    assert!(plan.join("\n").contains("vault_records_blind_stale"), "{plan:?}");
    drop(client);
    let _ = conn.await;

    let ids = |v: &[(art28_core::ids::CustomerId, art28_store::VaultRecordRow)]| {
        v.iter()
            .map(|(c, r)| (c.clone(), r.id.clone(), r.version))
            .collect::<Vec<_>>()
    };
    let stale = store.vault_stale_blind(None, 10).await.expect("stale");
    assert_eq!(
        ids(&stale),
        [(t.clone(), "rec_a".to_string(), 1), (t.clone(), "rec_b".to_string(), 1)]
    );
    assert_eq!(stale[0].1.subject_key, vec![1; 40]);
    let after = store.vault_stale_blind(Some((&t, "rec_a")), 10).await.expect("after");
    assert_eq!(ids(&after), [(t.clone(), "rec_b".to_string(), 1)]);
    assert_eq!(store.vault_stale_blind(None, 1).await.expect("limit").len(), 1);

    let change = |id: &str, version, d: u8| BlindChange {
        id: id.into(),
        version,
        blind: vec![[d; 32], [9; 32]],
    };
    let reindex = |changes: Vec<BlindChange>| {
        let (store, t) = (store.clone(), t.clone());
        async move {
            let e = suite::next_entry(Some(&t), "vault.reindex");
            store.vault_reindex_blind(&t, changes, &e).await.expect("reindex")
        }
    };
    assert_eq!(reindex(vec![change("rec_a", 2, 3)]).await, 0, "not at the version read");
    assert_eq!(
        reindex(vec![
            change("rec_a", 2, 5),
            change("rec_a", 1, 3),
            change("rec_a", 1, 6),
            change("nope", 1, 6),
        ])
        .await,
        1,
        "the first change at the version read, once"
    );
    assert_eq!(
        ids(&store.vault_stale_blind(None, 10).await.expect("stale")),
        [(t.clone(), "rec_b".to_string(), 1)]
    );
    assert_eq!(reindex(vec![change("rec_a", 1, 7), change("rec_b", 1, 8)]).await, 1);
    assert!(store.vault_stale_blind(None, 10).await.expect("stale").is_empty());
    let q = |d: [u8; 32]| {
        let (store, t) = (store.clone(), t.clone());
        async move {
            let e = suite::next_entry(Some(&t), "vault.query");
            let (rows, _) = store.vault_query(&t, QueryKey::Identifier(d), &e).await.expect("query");
            rows.into_iter().map(|r| (r.id, r.version)).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        q([3; 32]).await,
        [("rec_a".to_string(), 1)],
        "the new index, version kept"
    );
    assert_eq!(q([8; 32]).await, [("rec_b".to_string(), 1)]);
    assert_eq!(
        q([9; 32]).await,
        [("rec_a".to_string(), 1), ("rec_b".to_string(), 1)],
        "a digest in both the old and the new set stays"
    );
    for gone in [[2; 32], [4; 32], [5; 32], [6; 32], [7; 32]] {
        assert!(q(gone).await.is_empty(), "{gone:?}");
    }
}

/// A PostgreSQL database at schema 1 (before the sub-processor register) gets schema 2 at the
/// next start, and the register works on it.
#[tokio::test]
async fn postgres_at_schema_1_gets_the_subprocessor_register() {
    let url = pg_database().await;
    drop(
        art28_store::postgres::PgStore::connect(&url)
            .await
            .expect("first start"),
    );
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("raw");
    let conn = tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "{UNDO_SUBPROCESSORS} DELETE FROM art28_schema WHERE version = 2;"
        ))
        .await
        .expect("back to schema 1");
    let store = art28_store::postgres::PgStore::connect(&url).await.expect("upgrade");
    let version: i64 = client
        .query_one("SELECT MAX(version) FROM art28_schema", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, 2);
    drop(client);
    let _ = conn.await;
    suite::subprocessors::feed_generations_start_at_zero_and_grow(&store).await;
}

/// A PostgreSQL database written by a newer art28 is refused, not misread; one at this
/// build's schema opens again without applying anything twice.
#[tokio::test]
async fn postgres_refuses_a_database_from_a_newer_art28() {
    let url = pg_database().await;
    drop(
        art28_store::postgres::PgStore::connect(&url)
            .await
            .expect("first start"),
    );
    drop(
        art28_store::postgres::PgStore::connect(&url)
            .await
            .expect("second start, nothing to apply"),
    );
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("raw");
    let conn = tokio::spawn(conn);
    client
        .batch_execute("INSERT INTO art28_schema (version) VALUES (999)")
        .await
        .expect("bump");
    drop(client);
    let _ = conn.await;
    let err = art28_store::postgres::PgStore::connect(&url)
        .await
        .expect_err("refused");
    assert_eq!(err.code, ErrorCode::StorageTooNew);
    assert!(err.message.contains("schema 999"), "{}", err.message);
}

/// On PostgreSQL, imports and lookups sent at once are run together (a few statements for
/// the run), and a run in which a statement fails (two imports of one record id) is run again
/// one by one; the suite functions check that the answers are those of running alone.
#[tokio::test]
async fn postgres_runs_like_jobs_together_and_a_failed_run_one_by_one() {
    let store = art28_store::postgres::PgStore::connect(&pg_database().await)
        .await
        .expect("connect");
    assert_eq!(store.merged_jobs(), (0, 0));
    suite::vault::imports_sent_at_once_are_each_answered_as_alone(&store).await;
    // Nine imports in one run; then three, run again one by one.
    assert_eq!(store.merged_jobs(), (12, 3));
    let stats = store.writer_stats();
    assert!(stats.jobs > stats.commits, "{stats:?}");

    let store = art28_store::postgres::PgStore::connect(&pg_database().await)
        .await
        .expect("connect");
    suite::vault::lookups_sent_at_once_are_each_answered_as_alone(&store).await;
    assert_eq!(store.merged_jobs(), (7, 0), "seven lookups in one run");
}
