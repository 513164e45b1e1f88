//! The PostgreSQL store, for a processor that runs art28 on its own database, one node or
//! several (`database = "postgres://…"`).
//!
//! The cut is the SQLite store's: one writer per node groups concurrent writes into one
//! transaction (group commit), each job in a savepoint of its own, and reads go to a pool of
//! connections. What PostgreSQL adds is the sequencing of the access log across nodes: every
//! batch takes the one row of `log_head` `FOR UPDATE` first, hands out leaf indices from it in
//! order, writes the batch's entries in one statement at the end and moves the head on, all in
//! its transaction. The row lock is held until the commit, so batches of all nodes commit one
//! after another, indices are gapless and in commit order, and a batch that rolls back gives
//! its indices back. The cost per entry is a share of one row update per batch; the price is
//! that writes of all nodes are serialised (docs/ARCHITECTURE.md, "PostgreSQL").
//!
//! Schema migrations are numbered files in `migrations/postgres/`, applied at connect under
//! an advisory lock (two nodes starting at once apply them once), tracked in `art28_schema`;
//! a database from a newer art28 is refused.

mod accounts;
mod agreements;
mod incidents;
mod jobs;
mod log;
mod merge;
mod staff_access;
mod subprocessors;
mod vault;

use crate::model::LogReceipt;
use crate::sqlite::log::Prepared;
use art28_core::{Error, ErrorCode, Result};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use jiff::Timestamp;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::error::SqlState;

/// Schema migrations, applied in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_schema.sql"),
    include_str!("../../migrations/postgres/0002_subprocessors.sql"),
];

/// The advisory lock key under which migrations run ("art28" + 1).
const MIGRATION_LOCK: i64 = 0x6172_7432_3801;

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 1024;

/// Connections in the pool (reads, and the writer's own).
const POOL_SIZE: usize = 16;

/// How long a connection attempt may take before the start fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A boxed future borrowing for `'a`.
pub(crate) type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// PostgreSQL-backed [`Store`](crate::Store).
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("database", &self.inner.shown).finish()
    }
}

struct Inner {
    pool: Pool,
    writer: mpsc::UnboundedSender<Job>,
    /// Host, port and database, never the password: for logs.
    shown: String,
    stats: Arc<Counters>,
    /// For connections outside the pool (the one holding this node's roles).
    config: tokio_postgres::Config,
    leader: tokio::sync::Mutex<Option<jobs::Leader>>,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    jobs: AtomicU64,
    /// Jobs run together with like jobs next to them (see `merge`).
    merged: AtomicU64,
    /// Of those, the ones run again one by one because a statement of their run failed.
    rerun: AtomicU64,
}

/// What a job tells the writer after running: whether to keep its changes, and how to answer
/// once the batch has committed (`None`) or failed.
pub(crate) type Completion = Box<dyn FnOnce(Option<&Error>) + Send>;
/// The work of a job, run inside the batch's transaction.
pub(crate) type Work = Box<dyn for<'t> FnOnce(&'t mut Tx) -> BoxFut<'t, (bool, Completion)> + Send>;

enum Job {
    Work(Work),
    /// One access entry on its own: no savepoint, inserted with the batch's other entries.
    Append(Prepared, oneshot::Sender<Result<LogReceipt>>),
    /// A job the writer runs together with the like jobs next to it (see `merge`).
    Merge(merge::Mergeable),
}

/// The writer's transaction as a job sees it: the connection, and the access log's next
/// indices. Entries appended are inserted together when the batch ends.
pub(crate) struct Tx {
    /// Shared with the writer, which sends each job's savepoint commands on it while the job
    /// runs (pipelined ahead of the job's statements).
    client: Arc<Object>,
    next_seq: i64,
    pending: Vec<Prepared>,
}

impl Tx {
    /// The connection, inside the batch's transaction (and the job's savepoint).
    pub(crate) fn c(&self) -> &deadpool_postgres::ClientWrapper {
        &self.client
    }

    /// Append an access entry in this transaction: it takes the next leaf index and stays
    /// only if the job and the batch commit.
    pub(crate) fn append(&mut self, entry: &Prepared) -> Result<LogReceipt> {
        let index = self.next_seq;
        self.next_seq += 1;
        self.pending.push(entry.clone());
        Ok(LogReceipt {
            index: u64::try_from(index).map_err(db_err)?,
            access_id: entry.access_id.clone(),
        })
    }
}

/// Log the cause, return a safe error. Text with a NUL character, which PostgreSQL cannot
/// store (SQLite can), is the caller's mistake and answered as such.
pub(crate) fn db_err<E: std::fmt::Display + 'static>(e: E) -> Error {
    let pg = (&e as &dyn std::any::Any).downcast_ref::<tokio_postgres::Error>();
    if pg.and_then(|e| e.code()) == Some(&SqlState::CHARACTER_NOT_IN_REPERTOIRE) {
        return Error::new(
            ErrorCode::BadRequest,
            "text must not contain the NUL character (U+0000)",
        );
    }
    tracing::error!(error = %e, "postgres store failure");
    Error::new(ErrorCode::StorageFailure, "the data store failed")
}

/// Whether a statement failed on a unique constraint.
pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// Where a `postgres://` URL leads, without its password, for messages and logs.
fn shown(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or("postgres"))
}

/// Why a connection at start failed, in one line an operator can act on.
fn connect_error(shown: &str, e: &tokio_postgres::Error) -> Error {
    let reason = match e.as_db_error() {
        Some(db)
            if db.code() == &SqlState::INVALID_PASSWORD
                || db.code() == &SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            "the server refused the user name or password".to_string()
        }
        Some(db) if db.code() == &SqlState::INVALID_CATALOG_NAME => "the database does not exist".to_string(),
        Some(db) => db.message().to_string(),
        None => {
            let text = e.to_string();
            if text.contains("timed out") || text.contains("timeout") {
                "no answer within 5 s".to_string()
            } else if let Some(io) = std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>()) {
                io.to_string()
            } else {
                text
            }
        }
    };
    Error::new(
        ErrorCode::StorageUnavailable,
        format!("cannot connect to the PostgreSQL database at {shown}: {reason}"),
    )
}

impl PgStore {
    /// Read a `postgres://` URL as the client will; `config_invalid` when it cannot be used.
    pub fn parse_url(url: &str) -> Result<tokio_postgres::Config> {
        url.parse().map_err(|_| {
            Error::new(
                ErrorCode::ConfigInvalid,
                "the database URL is not a valid postgres:// URL (postgres://user:password@host:port/database)",
            )
        })
    }

    /// Connect to the database at `url` (`postgres://user:password@host:port/db`), bring its
    /// schema up to date and start the writer. A bad URL is `config_invalid`; an unreachable
    /// server, a refused login or a missing database is `storage_unavailable`, within 5 s.
    pub async fn connect(url: &str) -> Result<Self> {
        let mut config = Self::parse_url(url)?;
        config.connect_timeout(CONNECT_TIMEOUT);
        // An acknowledged write is on disk whatever the server's default: every session of
        // art28 commits with synchronous_commit on.
        let options = match config.get_options() {
            Some(o) if !o.trim().is_empty() => format!("{o} -c synchronous_commit=on"),
            _ => "-c synchronous_commit=on".to_string(),
        };
        config.options(&options);
        if config.get_application_name().is_none() {
            config.application_name("art28");
        }
        let shown = shown(&config);
        // One connection first, so that a refusal is reported as such (the pool would retry).
        let (mut client, conn) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| connect_error(&shown, &e))?;
        let conn = tokio::spawn(conn);
        migrate(&mut client).await?;
        drop(client);
        let _ = conn.await;

        let manager = Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(db_err)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(Counters::default());
        tokio::spawn(writer_loop(pool.clone(), rx, stats.clone()));
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                writer: tx,
                shown,
                stats,
                config,
                leader: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// Host, port and database name (never the password).
    pub fn database(&self) -> &str {
        &self.inner.shown
    }

    /// How the writer has grouped writes into transactions since the store connected.
    pub fn writer_stats(&self) -> crate::sqlite::WriterStats {
        crate::sqlite::WriterStats {
            commits: self.inner.stats.commits.load(Ordering::Relaxed),
            jobs: self.inner.stats.jobs.load(Ordering::Relaxed),
            // PostgreSQL's WAL is not counted here.
            wal_pages: 0,
        }
    }

    /// Jobs the writer has run together with like jobs next to them (imports, lookups), and
    /// of those the ones it ran again one by one because a statement of their run failed.
    pub fn merged_jobs(&self) -> (u64, u64) {
        (
            self.inner.stats.merged.load(Ordering::Relaxed),
            self.inner.stats.rerun.load(Ordering::Relaxed),
        )
    }

    /// A pooled connection for reads.
    pub(crate) async fn client(&self) -> Result<Object> {
        self.inner.pool.get().await.map_err(db_err)
    }

    /// Run `f` in a write transaction shared with whatever else is queued on this node (group
    /// commit). It returns once the transaction holding its changes has committed; an error
    /// from `f` rolls back its own changes only.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFut<'t, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        self.send(Job::Work(work(f, tx)), rx).await
    }

    async fn send<T>(&self, job: Job, rx: oneshot::Receiver<Result<T>>) -> Result<T> {
        self.inner
            .writer
            .send(job)
            .map_err(|_| db_err("the writer has stopped"))?;
        rx.await
            .map_err(|_| db_err("the write was dropped before it committed"))?
    }

    /// Run a job that the writer may merge with like jobs next to it.
    pub(crate) async fn merge<T>(&self, job: merge::Mergeable, rx: oneshot::Receiver<Result<T>>) -> Result<T> {
        self.send(Job::Merge(job), rx).await
    }

    /// Append one entry through the writer (a read, or a refusal on its own).
    pub(crate) async fn append(&self, entry: Prepared) -> Result<LogReceipt> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Append(entry, tx), rx).await
    }
}

/// A job's work as the writer runs it: `f` in the job's savepoint, answered on `tx` once the
/// batch has committed (or at once when `f` fails).
pub(crate) fn work<T, F>(f: F, tx: oneshot::Sender<Result<T>>) -> Work
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t mut Tx) -> BoxFut<'t, Result<T>> + Send + 'static,
{
    Box::new(move |t: &mut Tx| {
        Box::pin(async move {
            match f(t).await {
                Ok(value) => (true, answer_after_commit(tx, value)),
                Err(e) => (
                    false,
                    Box::new(move |_: Option<&Error>| {
                        let _ = tx.send(Err(e));
                    }) as Completion,
                ),
            }
        })
    })
}

/// Answer `value` on `tx` once the batch has committed, or the batch's error.
pub(crate) fn answer_after_commit<T: Send + 'static>(tx: oneshot::Sender<Result<T>>, value: T) -> Completion {
    Box::new(move |commit: Option<&Error>| {
        let _ = tx.send(match commit {
            None => Ok(value),
            Some(e) => Err(e.clone()),
        });
    })
}

/// How a job is answered once its batch has committed or failed.
enum Answer {
    Work(Completion),
    Append(oneshot::Sender<Result<LogReceipt>>, LogReceipt),
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

/// The writer: take every queued job, run them in one transaction that holds the log's head,
/// insert their entries, move the head, commit, answer.
async fn writer_loop(pool: Pool, mut rx: mpsc::UnboundedReceiver<Job>, stats: Arc<Counters>) {
    let mut client: Option<Object> = None;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let c = match client.take() {
            Some(c) if !c.is_closed() => c,
            _ => match pool.get().await {
                Ok(c) => c,
                Err(e) => {
                    let err = db_err(e);
                    fail(batch, &err);
                    continue;
                }
            },
        };
        let (c, result) = run_batch(c, batch, &stats).await;
        match result {
            Ok(answers) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats.jobs.fetch_add(answers.len() as u64, Ordering::Relaxed);
                answers.into_iter().for_each(|a| a.send(None));
            }
            Err((answers, err)) => answers.into_iter().for_each(|a| a.send(Some(&err))),
        }
        client = c;
    }
}

fn fail(batch: Vec<Job>, err: &Error) {
    for job in batch {
        match job {
            Job::Append(_, tx) => {
                let _ = tx.send(Err(err.clone()));
            }
            Job::Merge(m) => m.fail(err),
            Job::Work(_) => {
                // Dropping the job drops its reply channel: its caller sees a storage failure.
            }
        }
    }
}

type BatchResult = std::result::Result<Vec<Answer>, (Vec<Answer>, Error)>;

/// Where the savepoint `job` stands between two jobs of a batch: none open, open with the
/// changes of a job that keeps them, or open with those of a job that failed (to be undone).
#[derive(Clone, Copy)]
enum Savepoint {
    None,
    Kept,
    Failed,
}

impl Savepoint {
    /// The commands before the next job: end this one and open a fresh savepoint.
    fn next(self) -> &'static str {
        match self {
            Self::None => "SAVEPOINT job",
            Self::Kept => "RELEASE SAVEPOINT job; SAVEPOINT job",
            // Rolling back to a savepoint keeps it, empty.
            Self::Failed => "ROLLBACK TO SAVEPOINT job",
        }
    }

    /// The commands after the batch's last job.
    fn end(self) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::Kept => Some("RELEASE SAVEPOINT job"),
            Self::Failed => Some("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job"),
        }
    }
}

/// One batch in one transaction; the connection back unless it broke.
///
/// Round trips are what a batch costs (the writer runs its jobs one after another), so the
/// savepoint commands between two jobs go out in one message, pipelined ahead of the next
/// job's first statement, and the batch's end with its inserts and its COMMIT. Every response
/// is still awaited and checked before anything is answered: a command that failed leaves the
/// transaction aborted, every statement after it fails, and the batch fails as a whole.
async fn run_batch(client: Object, batch: Vec<Job>, stats: &Counters) -> (Option<Object>, BatchResult) {
    let head = match begin(&client).await {
        Ok(h) => h,
        Err(e) => {
            let err = db_err(e);
            fail(batch, &err);
            let _ = client.batch_execute("ROLLBACK").await;
            return (keep(client), Err((Vec::new(), err)));
        }
    };
    let client = Arc::new(client);
    let mut tx = Tx {
        client: client.clone(),
        next_seq: head,
        pending: Vec::new(),
    };
    let mut answers = Vec::with_capacity(batch.len());
    let mut broken = None;
    let mut savepoint = Savepoint::None;
    let mut queue: VecDeque<Job> = batch.into();
    while let Some(job) = queue.pop_front() {
        if let Some(err) = &broken {
            // The transaction is gone: the rest fail with it.
            fail(vec![job], err);
            continue;
        }
        match job {
            Job::Append(entry, reply) => match tx.append(&entry) {
                Ok(receipt) => answers.push(Answer::Append(reply, receipt)),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Job::Merge(first) => {
                // The run of like jobs it starts; one alone runs as any other job.
                let mut run = vec![first];
                while let Some(Job::Merge(next)) = queue.front() {
                    if !run.first().is_some_and(|f| f.same_kind(next)) {
                        break;
                    }
                    if let Some(Job::Merge(next)) = queue.pop_front() {
                        run.push(next);
                    }
                }
                if run.len() == 1 {
                    again(&mut queue, run);
                    continue;
                }
                stats.merged.fetch_add(run.len() as u64, Ordering::Relaxed);
                let (seq, len) = (tx.next_seq, tx.pending.len());
                let (step, outcome) = tokio::join!(client.batch_execute(savepoint.next()), merge::run(&mut tx, run));
                match (step, outcome) {
                    (Err(e), outcome) => {
                        let err = db_err(e);
                        match outcome {
                            Ok(done) => done.into_iter().for_each(|c| c(Some(&err))),
                            Err((run, _)) => run.into_iter().for_each(|m| m.fail(&err)),
                        }
                        broken = Some(err);
                    }
                    (Ok(()), Ok(done)) => {
                        savepoint = Savepoint::Kept;
                        answers.extend(done.into_iter().map(Answer::Work));
                    }
                    (Ok(()), Err((run, _))) => {
                        // Undone by the next job's savepoint command; then one by one.
                        tx.next_seq = seq;
                        tx.pending.truncate(len);
                        savepoint = Savepoint::Failed;
                        stats.rerun.fetch_add(run.len() as u64, Ordering::Relaxed);
                        again(&mut queue, run);
                    }
                }
            }
            Job::Work(work) => {
                let (seq, len) = (tx.next_seq, tx.pending.len());
                // The savepoint commands are sent first (join polls in order), so the server
                // runs them before the job's statements.
                let (step, (keep_it, completion)) = tokio::join!(client.batch_execute(savepoint.next()), work(&mut tx));
                match step {
                    Err(e) => {
                        let err = db_err(e);
                        completion(Some(&err));
                        broken = Some(err);
                    }
                    Ok(()) => {
                        if keep_it {
                            savepoint = Savepoint::Kept;
                        } else {
                            tx.next_seq = seq;
                            tx.pending.truncate(len);
                            savepoint = Savepoint::Failed;
                        }
                        answers.push(Answer::Work(completion));
                    }
                }
            }
        }
    }
    let Tx {
        client: jobs_handle,
        next_seq,
        pending,
    } = tx;
    drop(jobs_handle);
    let outcome = match broken {
        Some(err) => Err(err),
        None => {
            let end = async {
                match savepoint.end() {
                    Some(sql) => client.batch_execute(sql).await,
                    None => Ok(()),
                }
            };
            let (ended, finished) = tokio::join!(end, finish(&client, head, next_seq, &pending));
            ended.and(finished).map_err(db_err)
        }
    };
    let Ok(client) = Arc::try_unwrap(client) else {
        // Every job has finished with the connection; should one still hold it, it is not
        // reused.
        return (
            None,
            match outcome {
                Ok(()) => Err((answers, db_err("the writer's connection is still in use"))),
                Err(err) => Err((answers, err)),
            },
        );
    };
    match outcome {
        Ok(()) => (Some(client), Ok(answers)),
        Err(err) => {
            let _ = client.batch_execute("ROLLBACK").await;
            (keep(client), Err((answers, err)))
        }
    }
}

/// Put a run of jobs back at the front of the queue, each to run on its own.
fn again(queue: &mut VecDeque<Job>, run: Vec<merge::Mergeable>) {
    for m in run.into_iter().rev() {
        queue.push_front(Job::Work(m.into_work()));
    }
}

fn keep(client: Object) -> Option<Object> {
    (!client.is_closed()).then_some(client)
}

/// Begin the batch's transaction and take the log's head: the next leaf index. Both are
/// sent together (pipelined): one round trip.
async fn begin(client: &Object) -> std::result::Result<i64, tokio_postgres::Error> {
    let st = client
        .prepare_cached("SELECT size FROM log_head WHERE id = 1 FOR UPDATE")
        .await?;
    let (begun, row) = tokio::join!(client.batch_execute("BEGIN"), client.query_one(&st, &[]));
    begun?;
    row?.try_get(0)
}

/// Insert the batch's entries, move the head past them and commit, all sent together
/// (pipelined): one round trip. Should the insert or the update fail, the COMMIT behind them
/// ends an aborted transaction, which rolls it back; the failure is what the batch reports.
async fn finish(
    client: &Object,
    head: i64,
    next_seq: i64,
    pending: &[Prepared],
) -> std::result::Result<(), tokio_postgres::Error> {
    if !pending.is_empty() {
        let seqs: Vec<i64> = (head..next_seq).collect();
        let tenants: Vec<Option<&str>> = pending.iter().map(|p| p.tenant.as_deref()).collect();
        let times: Vec<i64> = pending.iter().map(|p| p.time).collect();
        let entries: Vec<&[u8]> = pending.iter().map(|p| p.bytes.as_slice()).collect();
        let hashes: Vec<&[u8]> = pending.iter().map(|p| p.hash.as_slice()).collect();
        let insert = client
            .prepare_cached(
                "INSERT INTO access_log (seq, tenant, time, entry, leaf_hash)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[], $5::bytea[])",
            )
            .await?;
        let head_st = client
            .prepare_cached("UPDATE log_head SET size = $1 WHERE id = 1")
            .await?;
        let insert_params: [&(dyn tokio_postgres::types::ToSql + Sync); 5] =
            [&seqs, &tenants, &times, &entries, &hashes];
        let head_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&next_seq];
        let (a, b, c) = tokio::join!(
            client.execute(&insert, &insert_params),
            client.execute(&head_st, &head_params),
            client.batch_execute("COMMIT"),
        );
        a?;
        b?;
        return c;
    }
    client.batch_execute("COMMIT").await
}

/// Apply the migrations this database lacks, under an advisory lock so that nodes starting
/// together apply each once; refuse a database from a newer art28.
async fn migrate(client: &mut tokio_postgres::Client) -> Result<()> {
    let tx = client.transaction().await.map_err(db_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db_err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS art28_schema (version BIGINT NOT NULL)")
        .await
        .map_err(db_err)?;
    let current: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM art28_schema", &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(db_err)?;
    let current = usize::try_from(current).map_err(db_err)?;
    if current > MIGRATIONS.len() {
        return Err(Error::new(
            ErrorCode::StorageTooNew,
            format!(
                "the database was written by a newer art28 (schema {current}, this build knows {})",
                MIGRATIONS.len()
            ),
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.batch_execute(sql).await.map_err(db_err)?;
        let version = i64::try_from(i + 1).map_err(db_err)?;
        tx.execute("INSERT INTO art28_schema (version) VALUES ($1)", &[&version])
            .await
            .map_err(db_err)?;
        tracing::info!(schema_version = i + 1, "applied migration");
    }
    tx.commit().await.map_err(db_err)
}

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(v: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(v).map_err(db_err)
}

/// Column `i` of a row.
pub(crate) fn col<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a tokio_postgres::Row, i: usize) -> Result<T> {
    r.try_get(i).map_err(db_err)
}

/// Text read back into the type it was written from.
pub(crate) fn parse<T: std::str::FromStr>(s: &str) -> Result<T>
where
    T::Err: std::fmt::Display + 'static,
{
    s.parse::<T>().map_err(db_err)
}

/// A stored count or id (never negative) as `u64`.
pub(crate) fn unsigned(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(db_err)
}

/// A `u64` (an id, a count) for a BIGINT parameter.
pub(crate) fn signed(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(db_err)
}
