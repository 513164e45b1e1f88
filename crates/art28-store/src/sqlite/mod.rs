//! The embedded store: SQLite in a data directory.
//!
//! One writer connection behind a mutex (SQLite allows one writer at a time anyway) and a
//! small pool of reader connections, all used from `spawn_blocking` so the async runtime never
//! waits on disk. WAL mode lets readers run while a write commits; `synchronous = FULL` makes a
//! returned commit durable. Schema migrations run at open, inside a transaction each, and a
//! database written by a newer art28 is refused rather than misread.

mod accounts;
mod agreements;
mod incidents;
mod jobs;
pub(crate) mod log;
mod staff_access;
mod subprocessors;
mod vault;

use crate::model::LogReceipt;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags};
use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// Schema migrations, applied in order; the index + 1 is the schema version. Each is a numbered
/// file in `migrations/sqlite/`, run in one transaction.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_customers_and_agreements.sql"),
    include_str!("../../migrations/sqlite/0002_access_log.sql"),
    include_str!("../../migrations/sqlite/0003_accounts.sql"),
    include_str!("../../migrations/sqlite/0004_staff_access_grants.sql"),
    include_str!("../../migrations/sqlite/0005_login_attempts.sql"),
    include_str!("../../migrations/sqlite/0006_drop_account_failures.sql"),
    include_str!("../../migrations/sqlite/0007_vault.sql"),
    include_str!("../../migrations/sqlite/0008_incidents.sql"),
    include_str!("../../migrations/sqlite/0009_log_tail_index.sql"),
    include_str!("../../migrations/sqlite/0010_log_runs.sql"),
    include_str!("../../migrations/sqlite/0011_blind_version.sql"),
    include_str!("../../migrations/sqlite/0012_blind_nfc.sql"),
    include_str!("../../migrations/sqlite/0013_jobs.sql"),
    include_str!("../../migrations/sqlite/0014_subprocessors.sql"),
];

/// Number of reader connections kept open.
const READERS: usize = 4;

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.inner.path).finish()
    }
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<Job>,
    readers: Mutex<Vec<Connection>>,
    /// One permit per reader connection: a read waits for a pooled connection rather than
    /// opening (and parsing the schema into) a new one. A permit stays with its connection
    /// until the connection is back in the pool, even when the waiting caller is cancelled.
    reader_permits: Arc<tokio::sync::Semaphore>,
    /// The newest committed entries' leaf hashes and customers, for folds (shared with the
    /// writer thread, which adds every commit's entries).
    tail: Arc<Mutex<log::Tail>>,
    /// The writer and checkpointer threads, for [`SqliteStore::close`].
    threads: Vec<std::thread::JoinHandle<()>>,
    /// What the writer has committed so far, shared with its thread.
    stats: Arc<Counters>,
}

/// The writer's running totals.
#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    jobs: AtomicU64,
    pages: AtomicU64,
}

/// How the writer has grouped the store's writes since it opened: the transactions it
/// committed and the jobs (a log entry, or a change with its entries) they held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: u64,
    /// Jobs those transactions held.
    pub jobs: u64,
    /// Pages those transactions appended to the WAL (each a whole page, however little of it
    /// changed): what the writes cost the disk besides their share of a sync. Counted from the
    /// WAL's length after each commit, so approximate where the WAL started over.
    pub wal_pages: u64,
}

impl WriterStats {
    /// Jobs per committed transaction (0 before the first commit).
    pub fn jobs_per_commit(&self) -> f64 {
        if self.commits == 0 {
            0.0
        } else {
            self.jobs as f64 / self.commits as f64
        }
    }
}

impl Inner {
    /// Run `f` on a pooled reader connection (the caller holds a permit), then put it back.
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.readers.lock().map_err(db_err)?.pop();
        let conn = match conn {
            Some(c) => c,
            None => open_conn(&self.path, false).map_err(db_err)?,
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < READERS
        {
            pool.push(conn);
        }
        out
    }
}

/// What a job tells the writer after running: whether to keep its changes, and what to do
/// once the batch's commit has succeeded (`None`) or failed.
type Completion = Box<dyn FnOnce(Option<&Error>) + Send>;
/// The work of a job: run inside the transaction, say whether to keep it, and how to answer.
type Work = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

/// A unit of work for the writer thread, run inside the batch's transaction.
pub(crate) enum Job {
    /// Any closure over the connection, run in a savepoint of its own.
    Work(Work),
    /// One access-log entry on its own, the most frequent write: no closures to allocate and
    /// call, and consecutive ones share a prepared statement.
    Append(log::Prepared, Reply<LogReceipt>),
}

type Reply<T> = tokio::sync::oneshot::Sender<Result<T>>;

/// How to answer a job once its batch has committed (`None`) or failed.
enum Answer {
    Work(Completion),
    Append(Reply<LogReceipt>, LogReceipt),
}

impl Answer {
    fn send(self, commit: Option<&Error>) {
        match self {
            Self::Work(c) => c(commit),
            Self::Append(tx, receipt) => {
                let _ = tx.send(match commit {
                    None => Ok(receipt),
                    Some(e) => Err(e.clone()),
                });
            }
        }
    }
}

/// The page size of a database this store creates (8 KiB; SQLite's default is 4 KiB).
pub const PAGE_SIZE: u32 = 8192;

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 1024;

/// WAL size (in pages) from which a commit asks the checkpointer thread to copy the WAL into
/// the database: SQLite's own default for checkpoints.
const WAL_CHECKPOINT_PAGES: c_int = 1000;
/// WAL size (in pages, 32 MiB) from which the writer checkpoints by itself after a commit.
/// Under steady writes the checkpointer never finds a moment without new frames, and only a
/// checkpoint between two transactions lets the WAL start over from its beginning.
const WAL_MAX_PAGES: c_int = 4000;

/// Checkpoints off the writer's path. SQLite would otherwise run them inside the commit that
/// crosses its threshold (measured: ~23% of the writer thread's time under steady appends).
/// The hook replaces SQLite's automatic checkpoints on the writer's connection: a commit that
/// leaves the WAL at [`WAL_CHECKPOINT_PAGES`] or more wakes a thread that copies what it can
/// (passive: it never blocks the writer or a reader); at [`WAL_MAX_PAGES`] the writer finishes
/// the copy itself, usually a few frames, so that the next transaction restarts the WAL.
fn start_checkpointer(
    path: &Path,
    writer: &mut Connection,
    stats: Arc<Counters>,
) -> Result<std::thread::JoinHandle<()>> {
    let conn = open_conn(path, false).map_err(db_err)?;
    let (wake, woken) = mpsc::sync_channel::<()>(1);
    // The thread ends when the writer's connection, which holds `wake`, is closed.
    let thread = std::thread::Builder::new()
        .name("art28-sqlite-checkpoint".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                if let Err(e) = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
                }
            }
        })
        .map_err(db_err)?;
    // The WAL's length after the previous commit: a commit appended the difference, or all
    // of it when the WAL started over.
    let mut last: c_int = 0;
    writer
        .wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
            let appended = if pages > last { pages - last } else { pages };
            last = pages;
            stats
                .pages
                .fetch_add(u64::try_from(appended).unwrap_or(0), Ordering::Relaxed);
            if pages >= WAL_MAX_PAGES {
                // Busy while the checkpointer copies; the next commit tries again.
                let _ = wal.checkpoint_v2(CheckpointMode::PASSIVE);
            } else if pages >= WAL_CHECKPOINT_PAGES {
                // Full: the checkpointer has a wake-up pending already.
                let _ = wake.try_send(());
            }
            Ok(())
        }))
        .map_err(db_err)?;
    Ok(thread)
}

/// Log the cause, return a safe error.
pub(crate) fn db_err(e: impl std::fmt::Display) -> Error {
    tracing::error!(error = %e, "sqlite store failure");
    Error::new(ErrorCode::StorageFailure, "the data store failed")
}

fn open_conn(path: &Path, create: bool) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    if create {
        // Only a new, empty database takes this; an existing one keeps its page size. The
        // log's rows are ~500 bytes: measured in `art28 bench log`, 8 KiB pages made durable
        // appends ~13% faster than the default 4 KiB.
        conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE};"))?;
    }
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Plan each cached statement once. Without this, a bound value that the planner looked
    // at marks the statement for re-preparing at every new binding (measured: the agreement
    // lookup of every vault operation was parsed and planned again, ~15% of the CPU).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )?;
    Ok(conn)
}

impl SqliteStore {
    /// Open (creating if needed) the database file and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let mut writer = open_conn(path, true).map_err(db_err)?;
        // Each job runs in a savepoint (see `run_work`), whose journal keeps the pages the job
        // changes; on disk, that journal spilled to a temporary file from 64 KiB, which a vault
        // write (about 7 pages of 8 KiB) passes. Measured in `art28 bench vault`: those writes
        // were ~11% of the writer thread's time. In memory, a job's journal is at most the pages
        // it changes (an import of 10,000 records into a large vault: tens of MiB, briefly).
        writer.execute_batch("PRAGMA temp_store = MEMORY;").map_err(db_err)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_conn(path, false))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let stats = Arc::new(Counters::default());
        let checkpointer = start_checkpointer(path, &mut writer, stats.clone())?;
        let tail = Arc::new(Mutex::new(log::Tail::default()));
        let (writer_tail, writer_stats) = (tail.clone(), stats.clone());
        let writer = std::thread::Builder::new()
            .name("art28-sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx, &writer_tail, &writer_stats))
            .map_err(db_err)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: tx,
                readers: Mutex::new(readers),
                reader_permits: Arc::new(tokio::sync::Semaphore::new(READERS)),
                tail,
                threads: vec![writer, checkpointer],
                stats,
            }),
        })
    }

    /// Close the store: let the writer finish what is queued, close every connection (the
    /// last one to close copies the WAL into the database file and removes it) and wait for
    /// the store's threads to end. Refused while another handle to the store exists.
    pub async fn close(self) -> Result<()> {
        let inner = Arc::try_unwrap(self.inner)
            .map_err(|_| Error::new(ErrorCode::Internal, "the store is still in use elsewhere"))?;
        blocking(move || {
            let Inner {
                writer,
                readers,
                threads,
                ..
            } = inner;
            // The writer thread ends once its queue is closed and empty; closing its connection
            // ends the checkpointer's. The readers close after both: connections closing at the
            // same moment each see another still open, and none of them removes the WAL.
            drop(writer);
            for thread in threads {
                thread.join().map_err(|_| db_err("a store thread panicked"))?;
            }
            drop(readers);
            Ok(())
        })
        .await
    }

    /// How the writer has grouped writes into transactions since the store opened.
    pub fn writer_stats(&self) -> WriterStats {
        WriterStats {
            commits: self.inner.stats.commits.load(Ordering::Relaxed),
            jobs: self.inner.stats.jobs.load(Ordering::Relaxed),
            wal_pages: self.inner.stats.pages.load(Ordering::Relaxed),
        }
    }

    /// Write a consistent copy of the database to `dest` (which must not exist), while
    /// serving: a backup.
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        let dest = dest
            .to_str()
            .map(str::to_string)
            .ok_or_else(|| Error::new(ErrorCode::ConfigInvalid, "the backup path is not valid UTF-8"))?;
        self.read(move |c| {
            c.execute("VACUUM INTO ?1", [dest]).map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let permit = self
            .inner
            .reader_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(db_err)?;
        blocking(move || {
            let _permit = permit;
            inner.with_reader(f)
        })
        .await
    }

    /// Run `f` on a reader connection on the calling thread. Only for point reads by key (a
    /// few index probes, tens of microseconds): handing those to the blocking pool and back
    /// cost more in thread switches than the read itself. Scans and anything that can grow
    /// use [`Self::read`].
    pub(crate) async fn read_now<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T>,
    {
        let _permit = self.inner.reader_permits.acquire().await.map_err(db_err)?;
        self.inner.with_reader(f)
    }

    /// Run `f` in a write transaction shared with whatever else is queued (group commit).
    /// It returns once the transaction holding its changes is durably committed; an error from
    /// `f` rolls back its own changes only.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T>>();
        let run: Work = Box::new(move |conn| match f(conn) {
            Ok(value) => (
                true,
                Box::new(move |commit: Option<&Error>| {
                    let _ = tx.send(match commit {
                        None => Ok(value),
                        Some(e) => Err(e.clone()),
                    });
                }),
            ),
            Err(e) => (
                false,
                Box::new(move |_| {
                    let _ = tx.send(Err(e));
                }),
            ),
        });
        self.send(Job::Work(run), rx).await
    }

    /// Hand `job` to the writer thread and wait for its answer on `rx`.
    async fn send<T>(&self, job: Job, rx: tokio::sync::oneshot::Receiver<Result<T>>) -> Result<T> {
        self.inner
            .writer
            .send(job)
            .map_err(|_| db_err("the writer thread has stopped"))?;
        rx.await
            .map_err(|_| db_err("the write was dropped before it committed"))?
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(db_err)?
}

/// The writer thread: take every queued job, run each in one transaction (a closure job in a
/// savepoint of its own, see [`run_work`]; a lone entry as one statement, see [`run_append`]),
/// commit once, then answer each job.
fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>, tail: &Mutex<log::Tail>, stats: &Counters) {
    // Answering a batch wakes up to MAX_BATCH waiting tasks; a thread of its own does that, so
    // the writer starts on the next batch as soon as the commit has returned.
    let (answers, answer_rx) = mpsc::channel::<Vec<Answer>>();
    let answerer = std::thread::Builder::new()
        .name("art28-sqlite-answers".into())
        .spawn(move || {
            while let Ok(batch) = answer_rx.recv() {
                batch.into_iter().for_each(|a| a.send(None));
            }
        });
    // Without that thread (it could not start, so its receiver is gone) the writer answers.
    let answer = |batch: Vec<Answer>| {
        if let Err(mpsc::SendError(batch)) = answers.send(batch) {
            batch.into_iter().for_each(|a| a.send(None));
        }
    };
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            db_err(e);
            continue;
        }
        log::begin();
        let mut answers = Vec::with_capacity(batch.len());
        let mut appends = None;
        let mut rolled_back = false;
        for job in batch {
            let answered = match job {
                Job::Append(entry, reply) => run_append(&conn, &mut appends, &entry, reply),
                Job::Work(job) => run_work(&conn, job),
            };
            answers.extend(answered);
            // On some errors (disk full, I/O, out of memory) SQLite rolls the whole
            // transaction back by itself: what the batch did is gone, and the next statement
            // would commit on its own. The jobs not run yet are dropped (their callers see a
            // storage failure).
            if conn.is_autocommit() {
                rolled_back = true;
                break;
            }
        }
        // Back into the connection's statement cache, for the next batch.
        drop(appends);
        let commit = if rolled_back {
            Err(db_err("SQLite rolled back the transaction after an error"))
        } else {
            conn.execute_batch("COMMIT").map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                db_err(e)
            })
        };
        match commit {
            Ok(()) => {
                log::committed(tail);
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats.jobs.fetch_add(answers.len() as u64, Ordering::Relaxed);
                answer(answers);
            }
            Err(err) => {
                log::failed(tail);
                answers.into_iter().for_each(|a| a.send(Some(&err)));
            }
        }
    }
    // The queue is closed: once the answerer has sent what it holds, the writer's thread ends
    // (so `SqliteStore::close` waits for every answer too).
    drop(answers);
    if let Ok(answerer) = answerer {
        let _ = answerer.join();
    }
}

/// Run one lone log entry inside the batch's transaction with the batch's shared statement
/// (prepared on first use); `None` when it failed and has been answered. A failed insert leaves
/// nothing behind, neither in the database nor in the writer's bookkeeping.
fn run_append<'c>(
    conn: &'c Connection,
    statement: &mut Option<rusqlite::CachedStatement<'c>>,
    entry: &log::Prepared,
    reply: Reply<LogReceipt>,
) -> Option<Answer> {
    let appended = match statement {
        Some(st) => log::append_with(st, conn, entry),
        None => log::append_statement(conn)
            .map_err(db_err)
            .and_then(|st| log::append_with(statement.insert(st), conn, entry)),
    };
    match appended {
        Ok(receipt) => Some(Answer::Append(reply, receipt)),
        Err(e) => {
            let _ = reply.send(Err(e));
            None
        }
    }
}

/// Run one closure job inside the batch's transaction, in a savepoint of its own; `None` when
/// it has been dropped (its savepoint could not be set up), which its caller sees as a storage
/// failure.
fn run_work(conn: &Connection, job: Work) -> Option<Answer> {
    let seq_before = log::NEXT_SEQ.get();
    if let Err(e) = exec_cached(conn, "SAVEPOINT job") {
        db_err(e);
        return None;
    }
    let (keep, completion) = job(conn);
    if !keep {
        log::rewind(seq_before);
    }
    let end = if keep {
        exec_cached(conn, "RELEASE job")
    } else {
        exec_cached(conn, "ROLLBACK TO job").and_then(|()| exec_cached(conn, "RELEASE job"))
    };
    match end {
        Ok(()) => Some(Answer::Work(completion)),
        Err(e) => {
            log::forget();
            completion(Some(&db_err(e)));
            None
        }
    }
}

fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(db_err)?
        .try_into()
        .map_err(db_err)?;
    if current > MIGRATIONS.len() {
        return Err(Error::new(
            ErrorCode::StorageTooNew,
            format!(
                "the data directory was written by a newer art28 (schema {current}, this build knows {})",
                MIGRATIONS.len()
            ),
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(sql).map_err(db_err)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        tracing::info!(schema_version = i + 1, "applied migration");
    }
    Ok(())
}

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(v: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_microsecond(v)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, Box::new(e)))
}

pub(crate) fn conv<T, E: std::error::Error + Send + Sync + 'static>(
    r: std::result::Result<T, E>,
) -> rusqlite::Result<T> {
    r.map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

#[derive(Debug)]
pub(crate) struct Bad(pub(crate) String);
impl std::fmt::Display for Bad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Bad {}

pub(crate) fn parse_text<T: std::str::FromStr>(s: String) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    conv(s.parse::<T>().map_err(|e| Bad(e.to_string())))
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly
    use super::*;
    use crate::LogStore;
    use crate::model::StoredCheckpoint;
    use art28_core::access::{AccessEntry, Actor, Decision};
    use art28_core::ids::CustomerId;
    use art28_ledger::merkle::Frontier;
    use log::SqliteNodes;

    fn entry(n: u64) -> AccessEntry {
        AccessEntry {
            access_id: format!("acc_tail_{n}"),
            time: Timestamp::UNIX_EPOCH,
            actor: Actor::operator(),
            on_behalf_of: None,
            tenant: (!n.is_multiple_of(3)).then(|| format!("tenant-{}", n % 5).parse().expect("id")),
            operation: "record.read".into(),
            resource: format!("record/tail/{n}"),
            purpose: None,
            reference: None,
            decision: Decision::Granted,
            rule: None,
            request_id: None,
            client: None,
            nonce: format!("{n:032x}"),
        }
    }

    /// The disk fills up under concurrent appends (a page limit stands in for it). Callers of
    /// the appends that did not fit hear so, and nothing acknowledged is lost or invented:
    /// the database holds exactly the acknowledged entries, each at its index, and the tail
    /// agrees with it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_full_disk_fails_appends_without_losing_or_inventing_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("art28.sqlite");
        let store = SqliteStore::open(&path).expect("open");
        let pages: i64 = store
            .write(|c| c.query_row("PRAGMA page_count", [], |r| r.get(0)).map_err(db_err))
            .await
            .expect("pages");
        store
            .write(move |c| {
                c.query_row(&format!("PRAGMA max_page_count = {}", pages + 40), [], |_| Ok(()))
                    .map_err(db_err)
            })
            .await
            .expect("limit");
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..8u64 {
            let s = store.clone();
            tasks.spawn(async move {
                let mut out = Vec::new();
                for i in 0..150 {
                    let e = entry(w * 1000 + i);
                    out.push((s.log_access(&e).await.ok().map(|r| r.index), e.to_bytes()));
                }
                out
            });
        }
        let results: Vec<_> = tasks.join_all().await.into_iter().flatten().collect();
        let acked: std::collections::BTreeMap<u64, Vec<u8>> =
            results.iter().filter_map(|(i, b)| i.map(|i| (i, b.clone()))).collect();
        assert!(acked.len() > 100, "some fit: {}", acked.len());
        assert!(acked.len() < results.len(), "and some did not");
        let stored: std::collections::BTreeMap<u64, Vec<u8>> = rusqlite::Connection::open(&path)
            .expect("raw")
            .prepare("SELECT seq, entry FROM access_log")
            .expect("prepare")
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(stored, acked, "the database holds exactly the acknowledged entries");
        let size = store.log_size().await.expect("size");
        let held = store
            .inner
            .tail
            .lock()
            .expect("tail")
            .hashes(0, i64::try_from(size).expect("size"));
        if let Some(held) = held {
            let fresh = SqliteStore::open(&path).expect("second store");
            assert_eq!(held, fresh.leaf_hashes(0, size).await.expect("from the database"));
        }
    }

    /// Folds read the newest entries from the writer's tail, not from the database. Changes
    /// rolled back after appending their entries share group commits with plain and batched
    /// appends here; the tail still holds exactly the committed entries, in order: the same
    /// leaf hashes and customers as the database, read by a second store whose tail is empty.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_tail_holds_exactly_the_committed_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("art28.sqlite");
        let store = SqliteStore::open(&path).expect("open");
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..4u64 {
            let s = store.clone();
            tasks.spawn(async move {
                for i in 0..200 {
                    s.log_access(&entry(w * 1000 + i)).await.expect("append");
                }
            });
        }
        for w in 0..2u64 {
            let s = store.clone();
            tasks.spawn(async move {
                for i in 0..60 {
                    let (a, b) = (
                        log::Prepared::new(&entry(10_000 + w * 1000 + i)),
                        log::Prepared::new(&entry(20_000 + w * 1000 + i)),
                    );
                    let err = s
                        .write(move |c| {
                            log::append(c, &a)?;
                            log::append(c, &b)?;
                            Err::<(), _>(Error::new(ErrorCode::Internal, "rolled back after appending"))
                        })
                        .await
                        .expect_err("rolled back");
                    assert_eq!(err.code, ErrorCode::Internal);
                }
            });
        }
        let s = store.clone();
        tasks.spawn(async move {
            for i in 0..20u64 {
                let batch: Vec<_> = (0..15).map(|j| entry(30_000 + i * 100 + j)).collect();
                s.log_accesses(&batch).await.expect("batch");
            }
        });
        tasks.join_all().await;

        let size = store.log_size().await.expect("size");
        assert_eq!(size, 4 * 200 + 20 * 15, "rolled-back entries are not in the log");
        let end = i64::try_from(size).expect("size");
        let (hashes, tenants) = {
            let tail = store.inner.tail.lock().expect("tail");
            (
                tail.hashes(0, end).expect("the tail holds every entry"),
                tail.tenants(0, end).expect("and their customers"),
            )
        };
        let fresh = SqliteStore::open(&path).expect("second store");
        assert!(fresh.inner.tail.lock().expect("tail").hashes(0, 1).is_none());
        assert_eq!(hashes, fresh.leaf_hashes(0, size).await.expect("from the database"));
        let stored: Vec<Option<String>> = rusqlite::Connection::open(&path)
            .expect("raw")
            .prepare("SELECT tenant FROM access_log ORDER BY seq")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let held: Vec<Option<String>> = tenants.iter().map(|t| t.as_deref().map(str::to_string)).collect();
        assert_eq!(held, stored);
        // A range the tail does not hold entirely goes to the database.
        assert!(store.inner.tail.lock().expect("tail").hashes(0, end + 1).is_none());
        assert_eq!(
            store.leaf_hashes(size - 5, size).await.expect("hashes"),
            hashes[hashes.len() - 5..]
        );

        // A fold indexes each customer's entries from the tail, then the tail lets them go.
        let mut frontier = Frontier::new();
        let nodes: Vec<_> = hashes.iter().flat_map(|h| frontier.append(*h)).collect();
        let cp = StoredCheckpoint {
            size,
            root: frontier.root(),
            note: "note\n".into(),
            signed_at: Timestamp::UNIX_EPOCH,
        };
        store.save_fold(&nodes, &cp).await.expect("fold");
        assert!(store.inner.tail.lock().expect("tail").hashes(end - 1, end).is_none());
        for n in 0..5 {
            let customer: CustomerId = format!("tenant-{n}").parse().expect("id");
            let listed: Vec<i64> = store
                .tenant_log(&customer, 0, size, 10_000)
                .await
                .expect("view")
                .iter()
                .map(|e| i64::try_from(e.index).expect("index"))
                .collect();
            let expected: Vec<i64> = (0..end)
                .filter(|i| stored[usize::try_from(*i).expect("i")].as_deref() == Some(customer.as_str()))
                .collect();
            assert!(!expected.is_empty());
            assert_eq!(listed, expected, "{customer}");
        }
    }

    /// A COMMIT that fails (here: a deferred foreign key that is never satisfied) fails every
    /// job of its batch, keeps none of their entries, and leaves the writer's bookkeeping right:
    /// the next entry takes the next free index and the tail holds nothing of the failed batch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_failed_commit_fails_its_whole_batch_and_leaves_no_trace() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("art28.sqlite")).expect("open");
        assert_eq!(store.log_access(&entry(0)).await.expect("first").index, 0);

        // Hold the writer inside a job of its own, so that what is queued meanwhile forms the
        // next batch together.
        let (started, is_started) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(move |_| {
                        let _ = started.send(());
                        let _ = released.recv();
                        Ok(())
                    })
                    .await
            }
        });
        is_started.recv().expect("the writer took the blocking job");
        let mut poison = Box::pin(store.write(|c| {
            c.execute_batch(
                "PRAGMA defer_foreign_keys = ON;
                 INSERT INTO customer_contacts (customer_id, position, name, email, phone, language, roles)
                 VALUES ('nobody', 0, 'n', 'n@example.org', NULL, 'nl', '[]');",
            )
            .map_err(db_err)
        }));
        let appends: Vec<_> = (1..4).map(entry).collect();
        let mut appended: Vec<_> = appends.iter().map(|e| Box::pin(store.log_access(e))).collect();
        // One poll each hands the job to the writer's queue.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(poison.as_mut().poll(&mut cx).is_pending());
        for f in &mut appended {
            assert!(f.as_mut().poll(&mut cx).is_pending());
        }
        release.send(()).expect("release the writer");
        blocker
            .await
            .expect("join")
            .expect("the blocking job committed on its own");

        let failed = poison.await.expect_err("the commit failed");
        assert_eq!(failed.code, ErrorCode::StorageFailure);
        for f in appended {
            let e = f.await.expect_err("an entry of the failed batch");
            assert_eq!(e.code, ErrorCode::StorageFailure);
        }
        let count = |c: &Connection| -> Result<(i64, i64)> {
            let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(db_err);
            Ok((
                n("SELECT count(*) FROM access_log")?,
                n("SELECT count(*) FROM customer_contacts")?,
            ))
        };
        assert_eq!(
            store.read(count).await.expect("count"),
            (1, 0),
            "nothing of the batch stays"
        );

        assert_eq!(store.log_access(&entry(4)).await.expect("after").index, 1);
        let from_tail = store.leaf_hashes(0, 2).await.expect("hashes");
        let from_db = store
            .read(|c| SqliteNodes(c).nodes_at(0, 0..2).map_err(db_err))
            .await
            .expect("hashes from the database");
        assert_eq!(from_tail, from_db);
        let held = store.inner.tail.lock().expect("tail").hashes(0, 2);
        assert!(held.is_none(), "the tail was not started over after the failed commit");
        assert_eq!(
            store.inner.tail.lock().expect("tail").hashes(1, 2),
            Some(vec![from_db[1]])
        );
    }
}
