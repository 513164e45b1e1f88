//! The access log in SQLite: appending entries inside the caller's transaction, and reading
//! the Merkle tree's nodes for proofs.

use crate::sqlite::db_err;
use art28_core::Result;
use art28_core::access::AccessEntry;
use art28_ledger::merkle::{Hash, NodeReader, leaf_hash, node_hash};
use rusqlite::{Connection, params};

/// Interior nodes are stored at levels that are multiples of this.
pub const NODE_STRIDE: u32 = 4;

/// Where an entry landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReceipt {
    /// Its leaf index in the log.
    pub index: u64,
    /// Its access id.
    pub access_id: String,
}

thread_local! {
    /// The next leaf index, cached on the writer thread (the only thread that appends). The
    /// writer loop saves it before each job and puts it back when the job is rolled back, and
    /// forgets it when a commit fails, so it always matches the database.
    pub(crate) static NEXT_SEQ: std::cell::Cell<Option<i64>> = const { std::cell::Cell::new(None) };
}

/// An entry serialised and hashed, ready to insert.
pub(crate) struct Prepared {
    access_id: String,
    tenant: Option<String>,
    time: i64,
    bytes: Vec<u8>,
    hash: Hash,
}

impl Prepared {
    pub(crate) fn new(entry: &AccessEntry) -> Self {
        let bytes = entry.to_bytes();
        Self {
            access_id: entry.access_id.clone(),
            tenant: entry.tenant.as_ref().map(|t| t.as_str().to_string()),
            time: entry.time.as_microsecond(),
            hash: leaf_hash(&bytes),
            bytes,
        }
    }
}

/// Append an entry; the caller's transaction decides whether it stays.
pub(crate) fn append(conn: &Connection, entry: &Prepared) -> Result<LogReceipt> {
    let index: i64 = match NEXT_SEQ.get() {
        Some(n) => n,
        None => conn
            .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM access_log", [], |r| r.get(0))
            .map_err(db_err)?,
    };
    NEXT_SEQ.set(Some(index + 1));
    conn.prepare_cached("INSERT INTO access_log (seq, tenant, time, entry, leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5)")
        .and_then(|mut st| {
            st.execute(params![
                index,
                entry.tenant,
                entry.time,
                entry.bytes,
                entry.hash.as_slice()
            ])
        })
        .map_err(db_err)?;
    Ok(LogReceipt {
        index: u64::try_from(index).map_err(db_err)?,
        access_id: entry.access_id.clone(),
    })
}

fn to_hash(v: Vec<u8>) -> rusqlite::Result<Hash> {
    v.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, "hash is not 32 bytes".into())
    })
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
        let rows = match lvl {
            None => st
                .query_map(params![start, end], |r| r.get::<_, Vec<u8>>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            Some(l) => st
                .query_map(params![start, end, l], |r| r.get::<_, Vec<u8>>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        };
        if rows.len() as u64 != range.end - range.start {
            return Err(rusqlite::Error::QueryReturnedNoRows);
        }
        rows.into_iter().map(to_hash).collect()
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
