//! The embedded store: SQLite in a data directory.
//!
//! One writer connection behind a mutex (SQLite allows one writer at a time anyway) and a
//! small pool of reader connections, all used from `spawn_blocking` so the async runtime never
//! waits on disk. WAL mode lets readers run while a write commits; `synchronous = FULL` makes a
//! returned commit durable. Schema migrations run at open, inside a transaction each, and a
//! database written by a newer art28 is refused rather than misread.

use crate::Store;
use crate::log::{self, LogReceipt, SqliteNodes};
use crate::model::*;
use art28_core::access::AccessEntry;
use art28_core::agreement::{AgreementKind, ProcessorAgreement};
use art28_core::date::Date;
use art28_core::ids::{AgreementId, CustomerId};
use art28_core::{Error, ErrorCode, Result};
use art28_ledger::merkle::{Frontier, Hash};
use jiff::Timestamp;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

/// Schema migrations, applied in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE processor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    registration TEXT NOT NULL,
    country TEXT NOT NULL
) STRICT;

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'terminated', 'erased')),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT;

CREATE TABLE customer_contacts (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    language TEXT NOT NULL,
    roles TEXT NOT NULL,
    PRIMARY KEY (customer_id, position)
) STRICT;

CREATE TABLE agreement_versions (
    agreement_id TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('standard', 'customer')),
    customer_id TEXT REFERENCES customers(id),
    effective_from TEXT NOT NULL,
    based_on_id TEXT,
    based_on_version INTEGER,
    source TEXT NOT NULL,
    resolved TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, version),
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL))
) STRICT;

CREATE INDEX agreement_versions_customer ON agreement_versions (customer_id, effective_from);
"#,
    // 2: the access log. `seq` is the entry's leaf index in the Merkle tree (0-based). Interior
    // nodes are kept at every fourth level; the levels between are recomputed from the stored
    // level below (at most 15 hashes per node), which keeps the write cost of the tree small.
    r#"
CREATE TABLE access_log (
    seq INTEGER PRIMARY KEY CHECK (seq >= 0),
    access_id TEXT NOT NULL,
    tenant TEXT,
    time INTEGER NOT NULL,
    entry BLOB NOT NULL,
    leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;

CREATE INDEX access_log_tenant ON access_log (tenant, seq);

CREATE TABLE ledger_nodes (
    level INTEGER NOT NULL CHECK (level > 0 AND level % 4 = 0),
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL CHECK (length(root) = 32),
    note TEXT NOT NULL,
    signed_at INTEGER NOT NULL
) STRICT;
"#,
    // 3: accounts and who may do what. Ids come from AUTOINCREMENT and usernames are unique
    // forever (a disabled account keeps its row), so neither is ever given to someone else.
    r#"
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('staff', 'customer')),
    tenant TEXT REFERENCES customers(id),
    password_hash TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    status_reason TEXT,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at INTEGER,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    last_failed_at INTEGER,
    locked_until INTEGER,
    blocked_until INTEGER,
    blocked_by TEXT,
    blocked_reason TEXT,
    CHECK ((kind = 'customer') = (tenant IS NOT NULL))
) STRICT;

CREATE TABLE grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    role TEXT NOT NULL,
    tenant TEXT REFERENCES customers(id),
    granted_by TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    revoked_by TEXT,
    revoked_at INTEGER
) STRICT;
CREATE INDEX grants_account ON grants (account_id);

CREATE TABLE security_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    account_id INTEGER REFERENCES accounts(id),
    username TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    client TEXT
) STRICT;

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    tenant TEXT NOT NULL REFERENCES customers(id),
    operations TEXT NOT NULL,
    purposes TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT,
    last_used_at INTEGER
) STRICT;

CREATE TABLE sessions (
    digest BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
"#,
    // 4: time-bound access grants for the processor's staff (R2.2), with the customer's
    // approval where its agreement asks for it.
    r#"
CREATE TABLE access_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    username TEXT NOT NULL,
    tenant TEXT NOT NULL REFERENCES customers(id),
    reason TEXT NOT NULL,
    ticket TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'revoked')),
    decided_by TEXT,
    decided_at INTEGER
) STRICT;
CREATE INDEX access_grants_tenant ON access_grants (tenant, id);
CREATE INDEX access_grants_account ON access_grants (account_id, tenant);
"#,
    // 5: failed logins counted per user name, whether or not an account has it, so a wrong
    // password and an unknown name cost the same work (and both are throttled).
    r#"
CREATE TABLE login_attempts (
    username TEXT PRIMARY KEY COLLATE NOCASE,
    failures INTEGER NOT NULL,
    last_failed_at INTEGER NOT NULL,
    locked_until INTEGER
) STRICT, WITHOUT ROWID;
"#,
    // 6: failed logins live in login_attempts (5); the account row's copies are dropped so
    // nothing reads a count that no longer changes.
    r#"
ALTER TABLE accounts DROP COLUMN failed_logins;
ALTER TABLE accounts DROP COLUMN last_failed_at;
ALTER TABLE accounts DROP COLUMN locked_until;
"#,
    // 7: the vault. Keys form a hierarchy: the master key (outside the database) wraps each
    // customer's key, which wraps each data subject's key, which seals the subject's records.
    // Deleting a key row makes what it sealed unreadable at once (crypto-shredding); the purge
    // of the sealed rows follows in the background. Identifiers are kept only as keyed blind
    // indexes, never in the clear.
    r#"
CREATE TABLE vault_tenant_keys (
    tenant TEXT PRIMARY KEY REFERENCES customers(id),
    master_key_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE vault_collections (
    tenant TEXT NOT NULL REFERENCES customers(id),
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
) STRICT;

CREATE TABLE vault_subjects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    ref_index BLOB NOT NULL CHECK (length(ref_index) = 32),
    wrapped_key BLOB NOT NULL,
    UNIQUE (tenant, ref_index)
) STRICT;

CREATE TABLE vault_records (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    collection TEXT NOT NULL,
    subject INTEGER NOT NULL,
    version INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    blind BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX vault_records_subject ON vault_records (subject);
CREATE INDEX vault_records_collection ON vault_records (tenant, collection, id);

CREATE TABLE vault_blind (
    tenant TEXT NOT NULL,
    digest BLOB NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (tenant, digest, record)
) STRICT, WITHOUT ROWID;

CREATE TABLE vault_legal_holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL REFERENCES customers(id),
    subject_index BLOB,
    reason TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at INTEGER NOT NULL,
    lifted_by TEXT,
    lifted_at INTEGER
) STRICT;

CREATE TABLE vault_erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    subject_index BLOB,
    erased_at INTEGER NOT NULL,
    erased_by TEXT NOT NULL,
    access_id TEXT NOT NULL,
    purged_at INTEGER
) STRICT;

CREATE TABLE recoveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at INTEGER NOT NULL,
    responsible TEXT NOT NULL,
    backup TEXT NOT NULL,
    backup_sha256 TEXT NOT NULL,
    erasures_replayed INTEGER NOT NULL,
    manual_steps TEXT NOT NULL,
    outcome TEXT NOT NULL
) STRICT;
"#,
    // 8: the incident register, breach notices as sent, and the outbox that delivers them.
    crate::incidents::MIGRATION,
    // 9: appends touch one table only. The per-customer index moves out of the append path
    // into `access_log_tenant`, which each fold fills for the entries its checkpoint covers
    // (in key order, in the fold's transaction); entries past the last checkpoint are found by
    // scanning the short unfolded tail. The access id column duplicated the entry's bytes;
    // dropping it rewrites the log table once, at the first start of this version (time and
    // WAL space in proportion to the log's size).
    r#"
DROP INDEX access_log_tenant;
ALTER TABLE access_log DROP COLUMN access_id;

CREATE TABLE access_log_tenant (
    tenant TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (tenant, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO access_log_tenant (tenant, seq)
    SELECT tenant, seq FROM access_log
    WHERE tenant IS NOT NULL AND seq < (SELECT COALESCE(MAX(size), 0) FROM checkpoints)
    ORDER BY tenant, seq;
"#,
    // 10: the per-customer index as runs: one row holds up to `log::RUN` of a customer's
    // sequence numbers (8 bytes big-endian each, ascending), keyed by the run's last one. A
    // fold adds one row per customer per `log::RUN` entries instead of one row per entry, and
    // groups the entries on a reader, so the writer only inserts a few rows per fold. A rowid
    // table keeps each run (at most 2 KiB) on its leaf page.
    r#"
CREATE TABLE access_log_runs (
    tenant TEXT NOT NULL,
    last INTEGER NOT NULL CHECK (last >= 0),
    seqs BLOB NOT NULL CHECK (length(seqs) > 0 AND length(seqs) % 8 = 0),
    UNIQUE (tenant, last)
) STRICT;

INSERT INTO access_log_runs (tenant, last, seqs)
    SELECT tenant, MAX(seq), unhex(group_concat(printf('%016x', seq), '' ORDER BY seq))
    FROM access_log_tenant
    GROUP BY tenant, seq / 256;

DROP TABLE access_log_tenant;
"#,
    // 11: which normalisation of identifiers a record's blind indexes were made with (see
    // `vault::BLIND_VERSION`). Rows written before are at 1 (phone numbers as bare digits);
    // blind indexes are HMACs under each customer's key, which the database never sees, so the
    // vault re-indexes them at start (`Vault::reindex_blind`), finding them by the partial
    // index, which stays empty once that is done.
    r#"
ALTER TABLE vault_records ADD COLUMN blind_version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX vault_records_blind_stale ON vault_records (tenant, id) WHERE blind_version < 2;
"#,
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
}

/// How the writer has grouped the store's writes since it opened: the transactions it
/// committed and the jobs (a log entry, or a change with its entries) they held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: u64,
    /// Jobs those transactions held.
    pub jobs: u64,
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
enum Job {
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
fn start_checkpointer(path: &Path, writer: &mut Connection) -> Result<std::thread::JoinHandle<()>> {
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
    writer
        .wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
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
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_conn(path, false))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let checkpointer = start_checkpointer(path, &mut writer)?;
        let tail = Arc::new(Mutex::new(log::Tail::default()));
        let stats = Arc::new(Counters::default());
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

fn conv<T, E: std::error::Error + Send + Sync + 'static>(r: std::result::Result<T, E>) -> rusqlite::Result<T> {
    r.map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

#[derive(Debug)]
struct Bad(String);
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

pub(crate) fn customer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CustomerRecord> {
    Ok(CustomerRecord {
        id: parse_text(r.get(0)?)?,
        name: r.get(1)?,
        language: parse_text(r.get(2)?)?,
        status: {
            let s: String = r.get(3)?;
            conv(CustomerStatus::parse(&s).ok_or(Bad(s)))?
        },
        created_at: from_micros(r.get(4)?)?,
        created_by: r.get(5)?,
    })
}

pub(crate) const META_COLS: &str = "agreement_id, version, kind, customer_id, effective_from, based_on_id, based_on_version, sha256, recorded_by, recorded_at";

pub(crate) fn meta_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgreementVersionMeta> {
    let kind: String = r.get(2)?;
    let customer: Option<String> = r.get(3)?;
    let base_id: Option<String> = r.get(5)?;
    let base_version: Option<u32> = r.get(6)?;
    Ok(AgreementVersionMeta {
        id: parse_text(r.get(0)?)?,
        version: r.get(1)?,
        kind: if kind == "standard" {
            AgreementKind::Standard
        } else {
            AgreementKind::Customer
        },
        customer: customer.map(parse_text).transpose()?,
        effective_from: parse_text(r.get(4)?)?,
        based_on: match (base_id, base_version) {
            (Some(id), Some(v)) => Some((parse_text(id)?, v)),
            _ => None,
        },
        sha256: r.get(7)?,
        recorded_by: r.get(8)?,
        recorded_at: from_micros(r.get(9)?)?,
    })
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgreementVersion> {
    let resolved: String = r.get(11)?;
    Ok(AgreementVersion {
        meta: meta_row(r)?,
        agreement: conv(serde_json::from_str::<ProcessorAgreement>(&resolved))?,
        source: r.get(10)?,
    })
}

fn insert_customer(conn: &Connection, c: NewCustomer) -> Result<CustomerRecord> {
    let res = conn.execute(
        "INSERT INTO customers (id, name, language, status, created_at, created_by) VALUES (?1, ?2, ?3, 'active', ?4, ?5)",
        params![c.id.as_str(), c.name, c.language.tag(), micros(c.created_at), c.created_by],
    );
    match res {
        Err(e) if is_unique_violation(&e) => Err(Error::new(
            ErrorCode::CustomerExists,
            format!("customer `{}` already exists (ids are never reused)", c.id),
        )),
        Err(e) => Err(db_err(e)),
        Ok(_) => Ok(CustomerRecord {
            id: c.id,
            name: c.name,
            language: c.language,
            status: CustomerStatus::Active,
            created_at: c.created_at,
            created_by: c.created_by,
        }),
    }
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn processor(&self) -> Result<Option<ProcessorProfile>> {
        self.read(|c| {
            c.query_row(
                "SELECT name, registration, country FROM processor WHERE id = 1",
                [],
                |r| {
                    Ok(ProcessorProfile {
                        name: r.get(0)?,
                        registration: r.get(1)?,
                        country: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn set_processor(&self, p: &ProcessorProfile) -> Result<()> {
        let p = p.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO processor (id, name, registration, country) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, registration = excluded.registration, country = excluded.country",
                params![p.name, p.registration, p.country],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn create_customer(&self, c: &NewCustomer, entry: &AccessEntry) -> Result<Logged<CustomerRecord>> {
        let (c, entry) = (c.clone(), log::Prepared::new(entry));
        self.write(move |conn| {
            let value = insert_customer(conn, c)?;
            let receipt = log::append(conn, &entry)?;
            Ok(Logged { value, receipt })
        })
        .await
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<CustomerRecord>> {
        let id = id.clone();
        self.read(move |c| {
            c.query_row(
                "SELECT id, name, language, status, created_at, created_by FROM customers WHERE id = ?1",
                [id.as_str()],
                customer_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn customers(&self) -> Result<Vec<CustomerRecord>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT id, name, language, status, created_at, created_by FROM customers ORDER BY id")
                .map_err(db_err)?;
            let rows = stmt.query_map([], customer_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn contacts(&self, id: &CustomerId) -> Result<Vec<ContactRecord>> {
        let id = id.clone();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT name, email, phone, language, roles FROM customer_contacts WHERE customer_id = ?1 ORDER BY position")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([id.as_str()], |r| {
                    let roles: String = r.get(4)?;
                    Ok(ContactRecord {
                        name: r.get(0)?,
                        email: r.get(1)?,
                        phone: r.get(2)?,
                        language: parse_text(r.get(3)?)?,
                        roles: conv(serde_json::from_str(&roles))?,
                    })
                })
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn put_agreement_version(
        &self,
        v: &NewAgreementVersion,
        entry: &AccessEntry,
    ) -> Result<Logged<AgreementVersion>> {
        let (v, entry) = (v.clone(), log::Prepared::new(entry));
        self.write(move |tx| {
            if let Some(c) = v.onboard.clone() {
                insert_customer(tx, c)?;
            }
            let a = &v.agreement;
            let kind = match a.kind {
                AgreementKind::Standard => "standard",
                AgreementKind::Customer => "customer",
            };
            let customer = a.customer.as_ref().map(|c| c.id.clone());
            if let Some(cid) = &customer {
                let known: Option<String> = tx
                    .query_row("SELECT id FROM customers WHERE id = ?1", [cid.as_str()], |r| r.get(0))
                    .optional()
                    .map_err(db_err)?;
                if known.is_none() {
                    return Err(Error::new(ErrorCode::CustomerNotFound, format!("customer `{cid}` does not exist")));
                }
            }
            // An agreement id belongs to one customer (or to no customer) for its whole life.
            let previous: Option<(u32, Option<String>)> = tx
                .query_row(
                    "SELECT version, customer_id FROM agreement_versions WHERE agreement_id = ?1 ORDER BY version DESC LIMIT 1",
                    [a.id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            if let Some((latest, owner)) = previous {
                if owner.as_deref() != customer.as_ref().map(|c| c.as_str()) {
                    return Err(Error::new(
                        ErrorCode::AgreementCustomerMismatch,
                        format!("agreement `{}` belongs to another customer (or is a standard agreement)", a.id),
                    ));
                }
                if a.version <= latest {
                    return Err(Error::new(
                        ErrorCode::AgreementVersionConflict,
                        format!("agreement `{}` already has version {latest}; a new version must be higher", a.id),
                    ));
                }
            }
            let sha256 = hex::encode(Sha256::digest(v.source.as_bytes()));
            let resolved = serde_json::to_string(a).map_err(db_err)?;
            let (base_id, base_version) = match &a.based_on {
                Some(b) => (Some(b.id.as_str().to_string()), Some(b.version)),
                None => (None, None),
            };
            tx.execute(
                "INSERT INTO agreement_versions (agreement_id, version, kind, customer_id, effective_from, based_on_id, based_on_version, source, resolved, sha256, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    a.id.as_str(),
                    a.version,
                    kind,
                    customer.as_ref().map(|c| c.as_str()),
                    a.effective_from.to_string(),
                    base_id,
                    base_version,
                    v.source,
                    resolved,
                    sha256,
                    v.recorded_by,
                    micros(v.recorded_at)
                ],
            )
            .map_err(db_err)?;
            if let (Some(cid), Some(party)) = (&customer, &a.customer) {
                tx.execute("DELETE FROM customer_contacts WHERE customer_id = ?1", [cid.as_str()]).map_err(db_err)?;
                for (i, k) in party.contacts.iter().enumerate() {
                    tx.execute(
                        "INSERT INTO customer_contacts (customer_id, position, name, email, phone, language, roles) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            cid.as_str(),
                            i as i64,
                            k.name,
                            k.email,
                            k.phone,
                            k.language.unwrap_or(a.language).tag(),
                            serde_json::to_string(&k.roles).map_err(db_err)?
                        ],
                    )
                    .map_err(db_err)?;
                }
            }
            let receipt = log::append(tx, &entry)?;
            let value = AgreementVersion {
                meta: AgreementVersionMeta {
                    id: a.id.clone(),
                    version: a.version,
                    kind: a.kind,
                    customer,
                    effective_from: a.effective_from,
                    based_on: a.based_on.as_ref().map(|b| (b.id.clone(), b.version)),
                    sha256,
                    recorded_by: v.recorded_by.clone(),
                    recorded_at: v.recorded_at,
                },
                agreement: v.agreement.clone(),
                source: v.source.clone(),
            };
            Ok(Logged { value, receipt })
        })
        .await
    }

    async fn agreement_version(&self, id: &AgreementId, version: u32) -> Result<Option<AgreementVersion>> {
        let id = id.clone();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {META_COLS}, source, resolved FROM agreement_versions WHERE agreement_id = ?1 AND version = ?2"),
                params![id.as_str(), version],
                version_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn agreement_versions(&self, id: &AgreementId) -> Result<Vec<AgreementVersionMeta>> {
        let id = id.clone();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {META_COLS} FROM agreement_versions WHERE agreement_id = ?1 ORDER BY version"
                ))
                .map_err(db_err)?;
            let rows = stmt.query_map([id.as_str()], meta_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn customer_agreement_history(&self, customer: &CustomerId) -> Result<Vec<AgreementVersionMeta>> {
        let customer = customer.clone();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {META_COLS} FROM agreement_versions WHERE customer_id = ?1 ORDER BY recorded_at, agreement_id, version"
                ))
                .map_err(db_err)?;
            let rows = stmt.query_map([customer.as_str()], meta_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn agreement_in_force(&self, customer: &CustomerId, on: Date) -> Result<Option<AgreementVersion>> {
        let customer = customer.clone();
        self.read(move |c| {
            // ISO dates compare correctly as text.
            c.query_row(
                &format!(
                    "SELECT {META_COLS}, source, resolved FROM agreement_versions
                     WHERE customer_id = ?1 AND effective_from <= ?2
                     ORDER BY effective_from DESC, version DESC LIMIT 1"
                ),
                params![customer.as_str(), on.to_string()],
                version_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn standard_agreements(&self) -> Result<Vec<AgreementVersionMeta>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {META_COLS} FROM agreement_versions v WHERE kind = 'standard'
                     AND version = (SELECT MAX(version) FROM agreement_versions w WHERE w.agreement_id = v.agreement_id)
                     ORDER BY agreement_id"
                ))
                .map_err(db_err)?;
            let rows = stmt.query_map([], meta_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn log_access(&self, entry: &AccessEntry) -> Result<LogReceipt> {
        // Serialised and hashed here, on the caller's thread, so the writer only inserts.
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Job::Append(log::Prepared::new(entry), tx), rx).await
    }

    async fn log_accesses(&self, entries: &[AccessEntry]) -> Result<Vec<LogReceipt>> {
        let prepared: Vec<log::Prepared> = entries.iter().map(log::Prepared::new).collect();
        self.write(move |conn| prepared.iter().map(|p| log::append(conn, p)).collect())
            .await
    }

    async fn log_size(&self) -> Result<u64> {
        self.read(|c| {
            let n: i64 = c
                .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM access_log", [], |r| r.get(0))
                .map_err(db_err)?;
            u64::try_from(n).map_err(db_err)
        })
        .await
    }

    async fn leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let (start, end) = (i64::try_from(from).map_err(db_err)?, i64::try_from(to).map_err(db_err)?);
        let held = self.inner.tail.lock().ok().and_then(|t| t.hashes(start, end));
        match held {
            Some(hashes) => Ok(hashes),
            None => {
                self.read(move |c| SqliteNodes(c).nodes_at(0, from..to).map_err(db_err))
                    .await
            }
        }
    }

    fn keeps_level(&self, level: u32) -> bool {
        level > 0 && level.is_multiple_of(log::NODE_STRIDE)
    }

    async fn save_fold(&self, nodes: &[(u32, u64, Hash)], cp: &StoredCheckpoint) -> Result<()> {
        let nodes: Vec<(u32, u64, Hash)> = nodes.iter().copied().filter(|(l, _, _)| self.keeps_level(*l)).collect();
        let cp = cp.clone();
        let size = i64::try_from(cp.size).map_err(db_err)?;
        // The per-customer index for the entries this checkpoint adds (see migration 10),
        // grouped beforehand so that the writer only inserts the runs: from the tail when it
        // holds those entries, else on a reader.
        let indexed: i64 = self
            .read_now(|c| {
                c.query_row("SELECT COALESCE(MAX(size), 0) FROM checkpoints", [], |r| r.get(0))
                    .map_err(db_err)
            })
            .await?;
        let held = self.inner.tail.lock().ok().and_then(|t| t.tenants(indexed, size));
        let runs = match held {
            Some(tenants) => blocking(move || Ok(log::runs_of(indexed, &tenants))).await?,
            None => {
                self.read(move |c| log::new_runs(c, indexed, size).map_err(db_err))
                    .await?
            }
        };
        self.write(move |conn| {
            // Folds are serialised by the ledger; should another fold of the same log have
            // saved since the runs were read, the entries below its checkpoint are indexed
            // already and are left out here.
            let indexed: i64 = conn
                .query_row("SELECT COALESCE(MAX(size), 0) FROM checkpoints", [], |r| r.get(0))
                .map_err(db_err)?;
            let mut st = conn
                .prepare_cached("INSERT INTO access_log_runs (tenant, last, seqs) VALUES (?1, ?2, ?3)")
                .map_err(db_err)?;
            for run in &runs {
                if let Some((last, seqs)) = run.encode(indexed) {
                    st.execute(params![run.tenant, last, seqs]).map_err(db_err)?;
                }
            }
            let mut st = conn
                .prepare_cached("INSERT OR REPLACE INTO ledger_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
                .map_err(db_err)?;
            for (level, idx, hash) in &nodes {
                st.execute(params![level, i64::try_from(*idx).map_err(db_err)?, hash.as_slice()])
                    .map_err(db_err)?;
            }
            conn.execute(
                "INSERT OR IGNORE INTO checkpoints (size, root, note, signed_at) VALUES (?1, ?2, ?3, ?4)",
                params![size, cp.root.as_slice(), cp.note, micros(cp.signed_at)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await?;
        // The next fold starts at this checkpoint.
        if let Ok(mut tail) = self.inner.tail.lock() {
            tail.forget_below(size);
        }
        Ok(())
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        self.read(|c| {
            c.query_row(
                "SELECT size, root, note, signed_at FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                checkpoint_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>> {
        let size = i64::try_from(size).map_err(db_err)?;
        self.read(move |c| {
            c.query_row(
                "SELECT size, root, note, signed_at FROM checkpoints WHERE size = ?1",
                [size],
                checkpoint_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn tenant_log(&self, tenant: &CustomerId, from: u64, below: u64, limit: usize) -> Result<Vec<LoggedEntry>> {
        let tenant = tenant.clone();
        let from = i64::try_from(from).map_err(db_err)?;
        let below = i64::try_from(below).map_err(db_err)?;
        let limit = i64::try_from(limit).map_err(db_err)?;
        self.read(move |c| {
            // Entries below the last checkpoint are in the per-customer index; the index only
            // grows, so a fold committing meanwhile cannot hide an entry from either part.
            let indexed: i64 = c
                .query_row("SELECT COALESCE(MAX(size), 0) FROM checkpoints", [], |r| r.get(0))
                .map_err(db_err)?;
            let row = |r: &rusqlite::Row<'_>| {
                Ok(LoggedEntry {
                    index: conv(u64::try_from(r.get::<_, i64>(0)?))?,
                    bytes: r.get(1)?,
                })
            };
            let seqs = log::indexed_seqs(c, tenant.as_str(), from, below.min(indexed), limit).map_err(db_err)?;
            let mut out = c
                .prepare_cached("SELECT seq, entry FROM access_log WHERE seq = ?1")
                .and_then(|mut st| {
                    seqs.iter()
                        .map(|seq| st.query_row([seq], row))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(db_err)?;
            let rest = limit - i64::try_from(out.len()).map_err(db_err)?;
            if rest > 0 && below > indexed {
                // The unfolded tail: at most the last fold interval's entries.
                let tail = c
                    .prepare_cached(
                        "SELECT seq, entry FROM access_log
                         WHERE seq >= ?2 AND seq < ?3 AND tenant = ?1 ORDER BY seq LIMIT ?4",
                    )
                    .and_then(|mut st| {
                        st.query_map(params![tenant.as_str(), from.max(indexed), below, rest], row)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .map_err(db_err)?;
                out.extend(tail);
            }
            Ok(out)
        })
        .await
    }

    async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.read(move |c| art28_ledger::merkle::inclusion_proof(index, size, &SqliteNodes(c)).map_err(proof_err))
            .await
    }

    async fn inclusion_proofs(&self, indices: &[u64], size: u64) -> Result<Vec<Vec<Hash>>> {
        let indices = indices.to_vec();
        self.read(move |c| {
            let nodes = SqliteNodes(c);
            indices
                .iter()
                .map(|i| art28_ledger::merkle::inclusion_proof(*i, size, &nodes).map_err(proof_err))
                .collect()
        })
        .await
    }

    async fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>> {
        self.read(move |c| {
            art28_ledger::merkle::consistency_proof(old_size, new_size, &SqliteNodes(c)).map_err(proof_err)
        })
        .await
    }

    async fn restore_frontier(&self, size: u64) -> Result<Frontier> {
        self.read(move |c| Frontier::restore(size, &SqliteNodes(c)).map_err(db_err))
            .await
    }

    async fn create_account(&self, a: &NewAccount, es: &[NewSecurityEvent]) -> Result<AccountRecord> {
        self.sql_create_account(a, es).await
    }
    async fn account(&self, id: u64) -> Result<Option<AccountRecord>> {
        self.sql_account(id).await
    }
    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>> {
        self.sql_account_by_username(username).await
    }
    async fn accounts(&self, tenant: Option<&CustomerId>) -> Result<Vec<AccountRecord>> {
        self.sql_accounts(tenant).await
    }
    async fn update_account(&self, id: u64, change: AccountChange, es: &[NewSecurityEvent]) -> Result<AccountRecord> {
        self.sql_update_account(id, change, es).await
    }
    async fn accounts_unused_since(&self, before: Timestamp) -> Result<Vec<AccountRecord>> {
        self.sql_accounts_unused_since(before).await
    }
    async fn add_grant(&self, g: &NewGrant, es: &[NewSecurityEvent]) -> Result<GrantRecord> {
        self.sql_add_grant(g, es).await
    }
    async fn revoke_grant(&self, id: u64, by: &str, at: Timestamp, es: &[NewSecurityEvent]) -> Result<GrantRecord> {
        self.sql_revoke_grant(id, by, at, es).await
    }
    async fn grants(
        &self,
        account_id: Option<u64>,
        tenant: Option<&CustomerId>,
        include_revoked: bool,
    ) -> Result<Vec<GrantRecord>> {
        self.sql_grants(account_id, tenant, include_revoked).await
    }
    async fn add_security_events(&self, es: &[NewSecurityEvent]) -> Result<()> {
        self.sql_add_events(es).await
    }
    async fn security_events(&self, after_id: u64, limit: usize) -> Result<Vec<SecurityEventRecord>> {
        self.sql_security_events(after_id, limit).await
    }
    async fn create_token(&self, t: &NewToken, es: &[NewSecurityEvent]) -> Result<TokenRecord> {
        self.sql_create_token(t, es).await
    }
    async fn token_by_digest(&self, digest: [u8; 32]) -> Result<Option<TokenRecord>> {
        self.sql_token_by_digest(digest).await
    }
    async fn tokens(&self, tenant: &CustomerId) -> Result<Vec<TokenRecord>> {
        self.sql_tokens(tenant).await
    }
    async fn revoke_token(&self, id: &str, by: &str, at: Timestamp, es: &[NewSecurityEvent]) -> Result<()> {
        self.sql_revoke_token(id, by, at, es).await
    }
    async fn touch_token(&self, id: &str, at: Timestamp) -> Result<()> {
        self.sql_touch_token(id, at).await
    }
    async fn create_session(&self, s: &SessionRecord) -> Result<()> {
        self.sql_create_session(s).await
    }
    async fn session(&self, digest: [u8; 32]) -> Result<Option<SessionRecord>> {
        self.sql_session(digest).await
    }
    async fn delete_sessions(&self, digest: Option<[u8; 32]>, account_id: Option<u64>) -> Result<()> {
        self.sql_delete_sessions(digest, account_id).await
    }
    async fn login_attempts(&self, username: &str) -> Result<LoginAttempts> {
        self.sql_login_attempts(username).await
    }
    async fn record_login_failure(
        &self,
        username: &str,
        at: Timestamp,
        locked_until: Option<Timestamp>,
        es: &[NewSecurityEvent],
    ) -> Result<LoginAttempts> {
        self.sql_record_login_failure(username, at, locked_until, es).await
    }
    async fn record_login_success(
        &self,
        account_id: u64,
        username: &str,
        at: Timestamp,
        es: &[NewSecurityEvent],
    ) -> Result<AccountRecord> {
        self.sql_record_login_success(account_id, username, at, es).await
    }
    async fn create_access_grant(&self, g: &NewAccessGrant, es: &[NewSecurityEvent]) -> Result<AccessGrantRecord> {
        self.sql_create_access_grant(g, es).await
    }
    async fn decide_access_grant(
        &self,
        id: u64,
        from: AccessGrantStatus,
        to: AccessGrantStatus,
        by: &str,
        at: Timestamp,
        es: &[NewSecurityEvent],
    ) -> Result<AccessGrantRecord> {
        self.sql_decide_access_grant(id, from, to, by, at, es).await
    }
    async fn access_grants(
        &self,
        tenant: Option<&CustomerId>,
        account_id: Option<u64>,
    ) -> Result<Vec<AccessGrantRecord>> {
        self.sql_access_grants(tenant, account_id).await
    }

    async fn vault_context(&self, tenant: &CustomerId, query: crate::ContextQuery) -> Result<crate::VaultContext> {
        self.vault_context_impl(tenant, query).await
    }
    async fn put_tenant_key(
        &self,
        tenant: &CustomerId,
        key: &crate::TenantKeyRow,
        at: Timestamp,
    ) -> Result<crate::TenantKeyRow> {
        self.put_tenant_key_impl(tenant, key, at).await
    }
    async fn tenant_keys(&self) -> Result<Vec<(CustomerId, crate::TenantKeyRow)>> {
        self.tenant_keys_impl().await
    }
    async fn rewrap_tenant_key(
        &self,
        tenant: &CustomerId,
        old: &crate::TenantKeyRow,
        new: &crate::TenantKeyRow,
    ) -> Result<bool> {
        self.rewrap_tenant_key_impl(tenant, old, new).await
    }
    async fn define_collection(
        &self,
        tenant: &CustomerId,
        def: &art28_core::vault::CollectionDef,
        at: Timestamp,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        self.define_collection_impl(tenant, def, at, by, entry).await
    }
    async fn collections(&self, tenant: &CustomerId) -> Result<Vec<crate::StoredCollection>> {
        self.collections_impl(tenant).await
    }
    async fn vault_create(
        &self,
        tenant: &CustomerId,
        records: Vec<crate::NewVaultRecord>,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        self.vault_create_impl(tenant, records, at, entry).await
    }
    async fn vault_read(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<(crate::VaultRecordRow, LogReceipt)> {
        self.vault_read_impl(tenant, collection, id, entry).await
    }
    async fn vault_update(
        &self,
        tenant: &CustomerId,
        change: crate::RecordChange,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)> {
        self.vault_update_impl(tenant, change, at, entry).await
    }
    async fn vault_delete(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        self.vault_delete_impl(tenant, collection, id, entry).await
    }
    async fn vault_query(
        &self,
        tenant: &CustomerId,
        key: crate::QueryKey,
        entry: &AccessEntry,
    ) -> Result<(Vec<crate::VaultRecordRow>, LogReceipt)> {
        self.vault_query_impl(tenant, key, entry).await
    }
    async fn vault_list(
        &self,
        tenant: &CustomerId,
        collection: Option<&str>,
        after: &str,
        limit: usize,
        entry: Option<&AccessEntry>,
    ) -> Result<(Vec<crate::VaultRecordRow>, Option<LogReceipt>)> {
        self.vault_list_impl(tenant, collection, after, limit, entry).await
    }
    async fn vault_erase_subject(
        &self,
        tenant: &CustomerId,
        subject: [u8; 32],
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)> {
        self.vault_erase_subject_impl(tenant, subject, entry).await
    }
    async fn vault_erase_tenant(&self, tenant: &CustomerId, entry: &AccessEntry) -> Result<LogReceipt> {
        self.vault_erase_tenant_impl(tenant, entry).await
    }
    async fn vault_replay_erasure(&self, erasure: &crate::ErasureRecord) -> Result<bool> {
        self.vault_replay_erasure_impl(erasure).await
    }
    async fn vault_purge(&self, limit: usize, at: Timestamp) -> Result<crate::PurgeProgress> {
        self.vault_purge_impl(limit, at).await
    }
    async fn vault_stale_blind(
        &self,
        after: Option<(&CustomerId, &str)>,
        limit: usize,
    ) -> Result<Vec<(CustomerId, crate::VaultRecordRow)>> {
        self.vault_stale_blind_impl(after, limit).await
    }
    async fn vault_reindex_blind(
        &self,
        tenant: &CustomerId,
        changes: Vec<crate::BlindChange>,
        entry: &AccessEntry,
    ) -> Result<u64> {
        self.vault_reindex_blind_impl(tenant, changes, entry).await
    }
    async fn place_legal_hold(
        &self,
        tenant: &CustomerId,
        subject: Option<[u8; 32]>,
        reason: &str,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<crate::LegalHoldRecord> {
        self.place_hold_impl(tenant, subject, reason, by, entry).await
    }
    async fn lift_legal_hold(&self, tenant: &CustomerId, id: u64, entry: &AccessEntry) -> Result<()> {
        self.lift_hold_impl(tenant, id, entry).await
    }
    async fn legal_holds(&self, tenant: &CustomerId) -> Result<Vec<crate::LegalHoldRecord>> {
        self.holds_impl(tenant).await
    }
    async fn erasures(&self, tenant: Option<&CustomerId>) -> Result<Vec<crate::ErasureRecord>> {
        self.erasures_impl(tenant).await
    }
    async fn record_recovery(&self, recovery: &crate::RecoveryRecord) -> Result<()> {
        self.record_recovery_impl(recovery).await
    }
    async fn recoveries(&self) -> Result<Vec<crate::RecoveryRecord>> {
        self.recoveries_impl().await
    }

    async fn create_incident(&self, i: &crate::NewIncident) -> Result<crate::IncidentRecord> {
        self.create_incident_impl(i).await
    }
    async fn incident(&self, id: u64) -> Result<Option<crate::IncidentRecord>> {
        self.incident_impl(id).await
    }
    async fn incidents(&self, tenant: Option<&CustomerId>) -> Result<Vec<crate::IncidentRecord>> {
        self.incidents_impl(tenant).await
    }
    async fn update_incident(
        &self,
        id: u64,
        version: u64,
        change: &crate::IncidentChange,
        event: &crate::IncidentEvent,
    ) -> Result<crate::IncidentRecord> {
        self.update_incident_impl(id, version, change, event).await
    }
    async fn add_notices(
        &self,
        id: u64,
        version: u64,
        notices: &[crate::NewNotice],
        created: (Timestamp, &str),
        change: &crate::IncidentChange,
        event: &crate::IncidentEvent,
    ) -> Result<(crate::IncidentRecord, Vec<crate::NoticeRecord>)> {
        self.add_notices_impl(id, version, notices, created, change, event)
            .await
    }
    async fn notices(&self, incident: Option<u64>, tenant: Option<&CustomerId>) -> Result<Vec<crate::NoticeRecord>> {
        self.notices_impl(incident, tenant).await
    }
    async fn acknowledge_notice(
        &self,
        id: u64,
        tenant: &CustomerId,
        by: &str,
        at: Timestamp,
    ) -> Result<crate::NoticeRecord> {
        self.acknowledge_notice_impl(id, tenant, by, at).await
    }
    async fn due_deliveries(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
    ) -> Result<Vec<(crate::DeliveryRecord, crate::NoticeRecord)>> {
        self.due_deliveries_impl(now, channels, limit).await
    }
    async fn set_webhook(
        &self,
        tenant: &CustomerId,
        url: Option<&str>,
        at: Timestamp,
        by: &str,
        events: &[NewSecurityEvent],
    ) -> Result<Option<crate::WebhookRecord>> {
        self.set_webhook_impl(tenant, url, at, by, events).await
    }
    async fn webhook(&self, tenant: &CustomerId) -> Result<Option<crate::WebhookRecord>> {
        self.webhook_impl(tenant).await
    }
    async fn pending_first_notices(&self) -> Result<Vec<crate::PendingFirstNotice>> {
        self.pending_first_notices_impl().await
    }
    async fn record_delivery(&self, id: u64, outcome: &crate::DeliveryOutcome) -> Result<()> {
        self.record_delivery_impl(id, outcome).await
    }
    async fn log_window(&self, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<AccessEntry>> {
        self.log_window_impl(from, to, limit).await
    }
    async fn vault_reach(
        &self,
        tenant: &CustomerId,
        records: &[(String, String)],
        collections: &[String],
    ) -> Result<crate::VaultReach> {
        self.vault_reach_impl(tenant, records, collections).await
    }
}

fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCheckpoint> {
    let root: Vec<u8> = r.get(1)?;
    Ok(StoredCheckpoint {
        size: conv(u64::try_from(r.get::<_, i64>(0)?))?,
        root: conv(<[u8; 32]>::try_from(root.as_slice()))?,
        note: r.get(2)?,
        signed_at: from_micros(r.get(3)?)?,
    })
}

fn proof_err<E: std::fmt::Debug + std::fmt::Display>(e: art28_ledger::merkle::ProofError<E>) -> Error {
    match e {
        art28_ledger::merkle::ProofError::Reader(inner) => db_err(format!("{inner:?}")),
        other => Error::new(ErrorCode::BadRequest, format!("{other}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly
    use super::*;
    use art28_core::access::{Actor, Decision};

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
