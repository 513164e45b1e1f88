//! The access log in SQLite: appending entries inside the caller's transaction, and reading
//! the Merkle tree's nodes for proofs.

use super::{Job, SqliteStore, blocking, conv, db_err, from_micros, micros};
use crate::LogStore;
use crate::model::{LogReceipt, LoggedEntry, StoredCheckpoint};
use crate::sqlite::log;
use art28_core::Result;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode};
use art28_ledger::merkle::Frontier;
use art28_ledger::merkle::{Hash, NodeReader, leaf_hash, node_hash};
use jiff::Timestamp;
use rusqlite::OptionalExtension;
use rusqlite::{CachedStatement, Connection, params};
use std::cell::RefCell;
use std::sync::Arc;

/// Interior nodes are stored at levels that are multiples of this.
pub const NODE_STRIDE: u32 = 4;

thread_local! {
    /// The next leaf index, cached on the writer thread (the only thread that appends). The
    /// writer loop saves it before each job and puts it back when the job is rolled back, and
    /// forgets it when a commit fails, so it always matches the database.
    pub(crate) static NEXT_SEQ: std::cell::Cell<Option<i64>> = const { std::cell::Cell::new(None) };
    /// The entries appended in the writer's current transaction, for the [`Tail`] once it
    /// commits.
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// Entries appended in the current transaction, in sequence order from `first`.
#[derive(Default)]
struct Pending {
    first: i64,
    hashes: Vec<Hash>,
    tenants: Vec<Option<Arc<str>>>,
    /// Whether a rollback could not be followed, so the tail can no longer be trusted.
    lost: bool,
}

/// Start a transaction's bookkeeping afresh (the writer calls it before each batch).
pub(crate) fn begin() {
    PENDING.with_borrow_mut(|p| {
        p.hashes.clear();
        p.tenants.clear();
        p.lost = false;
    });
}

/// A job's changes were rolled back: the next sequence number is `seq` again (`None`: read it
/// from the database), and the entries from `seq` on were never appended.
pub(crate) fn rewind(seq: Option<i64>) {
    NEXT_SEQ.set(seq);
    PENDING.with_borrow_mut(|p| {
        let keep = seq.map_or(0, |s| usize::try_from(s - p.first).unwrap_or(0));
        p.hashes.truncate(keep);
        p.tenants.truncate(keep);
    });
}

/// What the transaction holds is no longer known (a rollback failed): read the next sequence
/// number from the database, and start the tail over after the commit.
pub(crate) fn forget() {
    NEXT_SEQ.set(None);
    PENDING.with_borrow_mut(|p| p.lost = true);
}

/// The transaction committed: its entries join the tail.
pub(crate) fn committed(tail: &std::sync::Mutex<Tail>) {
    PENDING.with_borrow_mut(|p| {
        if let Ok(mut tail) = tail.lock() {
            if p.lost {
                tail.clear();
            } else {
                tail.extend(p.first, &mut p.hashes, &mut p.tenants);
            }
        }
    });
}

/// The transaction failed to commit: nothing of it stays, and the next sequence number is read
/// from the database.
pub(crate) fn failed(tail: &std::sync::Mutex<Tail>) {
    NEXT_SEQ.set(None);
    if let Ok(mut tail) = tail.lock() {
        tail.clear();
    }
}

/// The leaf hashes and customers of the newest committed entries, kept by the writer so that
/// a fold need not read them back from the database. It holds committed entries only, and
/// contiguous ones: a range it does not cover entirely is read from the database instead
/// (after a restart, the entries logged before it).
#[derive(Default)]
pub(crate) struct Tail {
    /// The sequence number of the first entry held.
    start: i64,
    hashes: Vec<Hash>,
    tenants: Vec<Option<Arc<str>>>,
}

/// Most entries the tail holds when nothing folds them (48 bytes each in vectors that may have
/// twice that room, plus the customer's name: ~64 MiB at worst; the server folds every
/// second); past that its older half goes.
const TAIL_MAX: usize = 1 << 19;

impl Tail {
    fn end(&self) -> i64 {
        self.start + self.hashes.len() as i64
    }

    fn clear(&mut self) {
        self.hashes.clear();
        self.tenants.clear();
    }

    /// Add the entries of a commit, the first at `first`, emptying the vectors.
    fn extend(&mut self, first: i64, hashes: &mut Vec<Hash>, tenants: &mut Vec<Option<Arc<str>>>) {
        if hashes.is_empty() {
            return;
        }
        if self.hashes.is_empty() || self.end() != first {
            self.clear();
            self.start = first;
        }
        self.hashes.append(hashes);
        self.tenants.append(tenants);
        if self.hashes.len() > TAIL_MAX {
            self.forget_below(self.end() - (TAIL_MAX / 2) as i64);
        }
    }

    /// Drop the entries below `seq`: a checkpoint covers them.
    pub(crate) fn forget_below(&mut self, seq: i64) {
        let n = usize::try_from(seq - self.start).unwrap_or(0).min(self.hashes.len());
        self.hashes.drain(..n);
        self.tenants.drain(..n);
        self.start += n as i64;
    }

    /// The positions of `from..to` in the vectors, if the tail holds all of them.
    fn span(&self, from: i64, to: i64) -> Option<std::ops::Range<usize>> {
        let held = self.start <= from && from <= to && to <= self.end();
        held.then(|| (from - self.start) as usize..(to - self.start) as usize)
    }

    /// Leaf hashes of entries `from..to`, if the tail holds all of them.
    pub(crate) fn hashes(&self, from: i64, to: i64) -> Option<Vec<Hash>> {
        self.span(from, to).map(|r| self.hashes[r].to_vec())
    }

    /// The customers of entries `from..to`, if the tail holds all of them.
    pub(crate) fn tenants(&self, from: i64, to: i64) -> Option<Vec<Option<Arc<str>>>> {
        self.span(from, to).map(|r| self.tenants[r].to_vec())
    }
}

/// An entry serialised and hashed, ready to insert.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub(crate) access_id: String,
    pub(crate) tenant: Option<Arc<str>>,
    pub(crate) time: i64,
    pub(crate) bytes: Vec<u8>,
    pub(crate) hash: Hash,
}

impl Prepared {
    pub(crate) fn new(entry: &AccessEntry) -> Self {
        let bytes = entry.to_bytes();
        Self {
            access_id: entry.access_id.clone(),
            tenant: entry.tenant.as_ref().map(|t| Arc::from(t.as_str())),
            time: entry.time.as_microsecond(),
            hash: leaf_hash(&bytes),
            bytes,
        }
    }
}

/// Appends one entry at a given sequence number.
const INSERT: &str = "INSERT INTO access_log (seq, tenant, time, entry, leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Append an entry; the caller's transaction decides whether it stays.
pub(crate) fn append(conn: &Connection, entry: &Prepared) -> Result<LogReceipt> {
    let mut st = append_statement(conn).map_err(db_err)?;
    append_with(&mut st, conn, entry)
}

/// The statement [`append_with`] runs, to prepare once for several appends.
pub(crate) fn append_statement(conn: &Connection) -> rusqlite::Result<CachedStatement<'_>> {
    conn.prepare_cached(INSERT)
}

/// Append an entry with a statement from [`append_statement`] on `conn`.
pub(crate) fn append_with(st: &mut CachedStatement<'_>, conn: &Connection, entry: &Prepared) -> Result<LogReceipt> {
    let index: i64 = match NEXT_SEQ.get() {
        Some(n) => n,
        None => conn
            .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM access_log", [], |r| r.get(0))
            .map_err(db_err)?,
    };
    st.execute(params![
        index,
        entry.tenant.as_deref(),
        entry.time,
        entry.bytes,
        entry.hash.as_slice()
    ])
    .map_err(db_err)?;
    NEXT_SEQ.set(Some(index + 1));
    PENDING.with_borrow_mut(|p| {
        if p.hashes.is_empty() {
            p.first = index;
        }
        p.hashes.push(entry.hash);
        p.tenants.push(entry.tenant.clone());
    });
    Ok(LogReceipt {
        index: u64::try_from(index).map_err(db_err)?,
        access_id: entry.access_id.clone(),
    })
}

/// Most sequence numbers in one row of the per-customer index (2 KiB).
pub(crate) const RUN: usize = 256;

/// A customer's new entries, for the per-customer index.
pub(crate) struct Run {
    pub(crate) tenant: String,
    pub(crate) seqs: Vec<i64>,
}

impl Run {
    /// The run's last sequence number and its sequence numbers from `from` on, encoded; `None`
    /// when none is left.
    pub(crate) fn encode(&self, from: i64) -> Option<(i64, Vec<u8>)> {
        let kept = &self.seqs[self.seqs.partition_point(|s| *s < from)..];
        let last = *kept.last()?;
        Some((last, kept.iter().flat_map(|s| s.to_be_bytes()).collect()))
    }
}

/// The entries `from..to`, grouped by customer into runs of at most [`RUN`].
pub(crate) fn new_runs(conn: &Connection, from: i64, to: i64) -> rusqlite::Result<Vec<Run>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, tenant FROM access_log WHERE seq >= ?1 AND seq < ?2 AND tenant IS NOT NULL ORDER BY seq",
    )?;
    let mut rows = st.query([from, to])?;
    let mut by_tenant = ByTenant::default();
    while let Some(r) = rows.next()? {
        by_tenant.add(r.get(0)?, r.get_ref(1)?.as_str()?);
    }
    Ok(by_tenant.runs())
}

/// The entries `first..` with these customers (from the [`Tail`]), grouped by customer into
/// runs of at most [`RUN`].
pub(crate) fn runs_of(first: i64, tenants: &[Option<Arc<str>>]) -> Vec<Run> {
    let mut by_tenant = ByTenant::default();
    for (seq, tenant) in (first..).zip(tenants) {
        if let Some(t) = tenant {
            by_tenant.add(seq, t);
        }
    }
    by_tenant.runs()
}

/// Sequence numbers grouped by customer (in customer order), each group ascending when added
/// in order.
#[derive(Default)]
pub(crate) struct ByTenant(std::collections::BTreeMap<String, Vec<i64>>);

impl ByTenant {
    pub(crate) fn add(&mut self, seq: i64, tenant: &str) {
        match self.0.get_mut(tenant) {
            Some(v) => v.push(seq),
            None => {
                self.0.insert(tenant.to_string(), vec![seq]);
            }
        }
    }

    /// The groups as runs, customers in order.
    pub(crate) fn runs(self) -> Vec<Run> {
        let mut runs = Vec::new();
        for (tenant, seqs) in self.0 {
            for chunk in seqs.chunks(RUN) {
                runs.push(Run {
                    tenant: tenant.clone(),
                    seqs: chunk.to_vec(),
                });
            }
        }
        runs
    }
}

/// A customer's indexed sequence numbers in `from..below`, ascending, at most `limit`.
pub(crate) fn indexed_seqs(
    conn: &Connection,
    tenant: &str,
    from: i64,
    below: i64,
    limit: i64,
) -> rusqlite::Result<Vec<i64>> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let mut out = Vec::new();
    if limit == 0 || from >= below {
        return Ok(out);
    }
    let mut st =
        conn.prepare_cached("SELECT seqs FROM access_log_runs WHERE tenant = ?1 AND last >= ?2 ORDER BY last")?;
    let mut rows = st.query(params![tenant, from])?;
    while let Some(r) = rows.next()? {
        for bytes in r.get_ref(0)?.as_blob()?.chunks_exact(8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(bytes);
            let seq = i64::from_be_bytes(b);
            if seq < from {
                continue;
            }
            if seq >= below {
                return Ok(out);
            }
            out.push(seq);
            if out.len() == limit {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// Reads tree nodes from the database for proofs and for restoring the frontier.
pub(crate) struct SqliteNodes<'a>(pub &'a Connection);

impl SqliteNodes<'_> {
    /// Stored nodes of a level (0 = leaves) as they are, for folding.
    pub(crate) fn nodes_at(&self, level: u32, range: std::ops::Range<u64>) -> rusqlite::Result<Vec<Hash>> {
        self.stored(level, range)
    }

    fn stored(&self, level: u32, range: std::ops::Range<u64>) -> rusqlite::Result<Vec<Hash>> {
        let (sql, lvl) = if level == 0 {
            (
                "SELECT leaf_hash FROM access_log WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
                None,
            )
        } else {
            (
                "SELECT hash FROM ledger_nodes WHERE level = ?3 AND idx >= ?1 AND idx < ?2 ORDER BY idx",
                Some(level),
            )
        };
        let start = i64::try_from(range.start).unwrap_or(i64::MAX);
        let end = i64::try_from(range.end).unwrap_or(i64::MAX);
        let mut st = self.0.prepare_cached(sql)?;
        // Straight into 32-byte arrays (a blob of another length is an error): no Vec per row.
        let rows = match lvl {
            None => st
                .query_map(params![start, end], |r| r.get::<_, Hash>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            Some(l) => st
                .query_map(params![start, end, l], |r| r.get::<_, Hash>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        };
        if rows.len() as u64 != range.end - range.start {
            return Err(rusqlite::Error::QueryReturnedNoRows);
        }
        Ok(rows)
    }
}

impl NodeReader for SqliteNodes<'_> {
    type Error = rusqlite::Error;

    fn node(&self, level: u32, index: u64) -> rusqlite::Result<Hash> {
        self.nodes(level, index..index + 1)?
            .pop()
            .ok_or(rusqlite::Error::QueryReturnedNoRows)
    }

    fn nodes(&self, level: u32, range: std::ops::Range<u64>) -> rusqlite::Result<Vec<Hash>> {
        let base = level - level % NODE_STRIDE;
        let shift = level - base;
        let mut hashes = self.stored(base, (range.start << shift)..(range.end << shift))?;
        for _ in 0..shift {
            hashes = hashes.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        Ok(hashes)
    }
}

#[async_trait::async_trait]
impl LogStore for SqliteStore {
    async fn log_window(&self, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<AccessEntry>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT entry FROM access_log WHERE time >= ?1 AND time < ?2 AND tenant IS NOT NULL ORDER BY seq LIMIT ?3",
                )
                .map_err(db_err)?;
            let rows = st
                .query_map(params![micros(from), micros(to), limit as i64], |r| r.get::<_, Vec<u8>>(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(db_err)?;
            rows.iter()
                .map(|b| AccessEntry::from_bytes(b).map_err(db_err))
                .collect()
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

    /// One commit of `n` entries from `first` on: hash i is [i as u8; 32], every other entry
    /// has a customer.
    fn commit(tail: &mut Tail, first: i64, n: i64) {
        let mut hashes: Vec<Hash> = (first..first + n).map(|i| [i as u8; 32]).collect();
        let mut tenants: Vec<Option<Arc<str>>> = (first..first + n)
            .map(|i| (i % 2 == 0).then(|| Arc::from(format!("t{}", i % 3).as_str())))
            .collect();
        tail.extend(first, &mut hashes, &mut tenants);
        assert!(hashes.is_empty() && tenants.is_empty(), "moved into the tail");
    }

    #[test]
    fn the_tail_serves_only_ranges_it_holds_entirely() {
        let mut tail = Tail::default();
        assert_eq!(tail.hashes(0, 0), Some(vec![]));
        assert_eq!(tail.hashes(0, 1), None);
        commit(&mut tail, 10, 5);
        commit(&mut tail, 15, 5);
        assert_eq!(tail.hashes(12, 14), Some(vec![[12; 32], [13; 32]]));
        assert_eq!(tail.hashes(10, 20).map(|h| h.len()), Some(10));
        assert_eq!(tail.hashes(9, 12), None, "starts before the tail");
        assert_eq!(tail.hashes(18, 21), None, "ends after it");
        assert_eq!(tail.hashes(14, 12), None, "backwards");
        let tenants = tail.tenants(14, 17).expect("held");
        assert_eq!(
            tenants.iter().map(Option::is_some).collect::<Vec<_>>(),
            [true, false, true]
        );

        // A commit that does not continue the tail replaces it.
        commit(&mut tail, 30, 3);
        assert_eq!(tail.hashes(15, 16), None);
        assert_eq!(tail.hashes(30, 33).map(|h| h.len()), Some(3));

        // A saved fold lets go of what its checkpoint covers; an older one changes nothing.
        tail.forget_below(31);
        assert_eq!(tail.hashes(30, 31), None);
        assert_eq!(tail.hashes(31, 33), Some(vec![[31; 32], [32; 32]]));
        tail.forget_below(5);
        assert_eq!(tail.hashes(31, 33).map(|h| h.len()), Some(2));
        tail.forget_below(100);
        assert_eq!(tail.hashes(33, 33), Some(vec![]));
        commit(&mut tail, 33, 1);
        assert_eq!(tail.hashes(33, 34), Some(vec![[33; 32]]));
    }

    #[test]
    fn without_folds_the_tail_keeps_the_newest_half_of_its_limit() {
        let mut tail = Tail::default();
        let max = TAIL_MAX as i64;
        commit(&mut tail, 0, max);
        assert_eq!(tail.hashes(0, max).map(|h| h.len()), Some(TAIL_MAX));
        commit(&mut tail, max, 1);
        let end = max + 1;
        assert_eq!(tail.hashes(end - max / 2, end).map(|h| h.len()), Some(TAIL_MAX / 2));
        assert_eq!(tail.hashes(end - max / 2 - 1, end), None);
        assert_eq!(tail.hashes(end - 1, end), Some(vec![[max as u8; 32]]));
    }

    #[test]
    fn runs_group_each_customers_entries_in_order() {
        let t = |s: &str| Some(Arc::from(s));
        let tenants = [t("b"), None, t("a"), t("b"), None, t("a")];
        let runs = runs_of(7, &tenants);
        let got: Vec<_> = runs.iter().map(|r| (r.tenant.clone(), r.encode(0))).collect();
        let packed = |s: &[i64]| s.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
        assert_eq!(
            got,
            [
                ("a".to_string(), Some((12, packed(&[9, 12])))),
                ("b".to_string(), Some((10, packed(&[7, 10])))),
            ]
        );
    }
}
