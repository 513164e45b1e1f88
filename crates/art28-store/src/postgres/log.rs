//! The access log in PostgreSQL: entries appended by the writer (see the module above for
//! how indices are handed out), folds, the per-customer index, and proofs.
//!
//! The Merkle functions of `art28-ledger` read nodes through a synchronous `NodeReader`, and
//! which nodes a proof or a frontier needs depends only on the tree's size and the index, not
//! on any hash. So a proof is made twice: once against a reader that only notes the ranges
//! asked for, then, after one query fetched those ranges, against the fetched nodes.

use super::{PgStore, db_err, from_micros, micros};
use crate::LogStore;
use crate::model::{LogReceipt, LoggedEntry, StoredCheckpoint};
use crate::sqlite::log::{ByTenant, NODE_STRIDE, Prepared, Run};
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use art28_ledger::merkle::{Frontier, Hash, NodeReader, node_hash};
use jiff::Timestamp;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

/// A reader that answers zeros and notes which stored ranges it was asked for.
#[derive(Default)]
struct Recorder(RefCell<BTreeSet<(u32, u64, u64)>>);

impl NodeReader for Recorder {
    type Error = std::convert::Infallible;

    fn node(&self, level: u32, index: u64) -> std::result::Result<Hash, Self::Error> {
        self.nodes(level, index..index + 1)
            .map(|mut v| v.pop().unwrap_or_default())
    }

    fn nodes(&self, level: u32, range: Range<u64>) -> std::result::Result<Vec<Hash>, Self::Error> {
        let base = level - level % NODE_STRIDE;
        let shift = level - base;
        self.0
            .borrow_mut()
            .insert((base, range.start << shift, range.end << shift));
        Ok(vec![[0u8; 32]; usize::try_from(range.end - range.start).unwrap_or(0)])
    }
}

/// Stored nodes fetched beforehand, by (level, index).
struct Fetched(HashMap<(u32, u64), Hash>);

#[derive(Debug)]
struct Missing(u32, u64);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tree node {}/{} is not stored", self.0, self.1)
    }
}

impl NodeReader for Fetched {
    type Error = Missing;

    fn node(&self, level: u32, index: u64) -> std::result::Result<Hash, Missing> {
        self.nodes(level, index..index + 1)?.pop().ok_or(Missing(level, index))
    }

    fn nodes(&self, level: u32, range: Range<u64>) -> std::result::Result<Vec<Hash>, Missing> {
        let base = level - level % NODE_STRIDE;
        let shift = level - base;
        let mut hashes = ((range.start << shift)..(range.end << shift))
            .map(|i| self.0.get(&(base, i)).copied().ok_or(Missing(base, i)))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for _ in 0..shift {
            hashes = hashes.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        Ok(hashes)
    }
}

impl PgStore {
    /// Fetch every stored node in these (level, start, end) ranges in one query.
    async fn fetch(&self, ranges: BTreeSet<(u32, u64, u64)>) -> Result<Fetched> {
        let mut out = HashMap::new();
        if ranges.is_empty() {
            return Ok(Fetched(out));
        }
        let (mut levels, mut starts, mut ends) = (Vec::new(), Vec::new(), Vec::new());
        for (l, s, e) in &ranges {
            levels.push(i64::from(*l));
            starts.push(i64::try_from(*s).map_err(db_err)?);
            ends.push(i64::try_from(*e).map_err(db_err)?);
        }
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT 0::bigint, a.seq, a.leaf_hash FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(level, lo, hi)
                   JOIN access_log a ON r.level = 0 AND a.seq >= r.lo AND a.seq < r.hi
                 UNION ALL
                 SELECT n.level, n.idx, n.hash FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(level, lo, hi)
                   JOIN ledger_nodes n ON r.level > 0 AND n.level = r.level AND n.idx >= r.lo AND n.idx < r.hi",
            )
            .await
            .map_err(db_err)?;
        for row in c.query(&st, &[&levels, &starts, &ends]).await.map_err(db_err)? {
            let level: i64 = row.try_get(0).map_err(db_err)?;
            let idx: i64 = row.try_get(1).map_err(db_err)?;
            let hash: &[u8] = row.try_get(2).map_err(db_err)?;
            out.insert(
                (
                    u32::try_from(level).map_err(db_err)?,
                    u64::try_from(idx).map_err(db_err)?,
                ),
                Hash::try_from(hash).map_err(db_err)?,
            );
        }
        Ok(Fetched(out))
    }

    /// The size the newest checkpoint covers (0 before the first).
    async fn checkpointed(&self) -> Result<i64> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT COALESCE(MAX(size), 0) FROM checkpoints")
            .await
            .map_err(db_err)?;
        c.query_one(&st, &[]).await.and_then(|r| r.try_get(0)).map_err(db_err)
    }
}

fn checkpoint_row(r: &tokio_postgres::Row) -> Result<StoredCheckpoint> {
    let root: &[u8] = r.try_get(1).map_err(db_err)?;
    Ok(StoredCheckpoint {
        size: u64::try_from(r.try_get::<_, i64>(0).map_err(db_err)?).map_err(db_err)?,
        root: <[u8; 32]>::try_from(root).map_err(db_err)?,
        note: r.try_get(2).map_err(db_err)?,
        signed_at: from_micros(r.try_get(3).map_err(db_err)?)?,
    })
}

fn proof_err<E: std::fmt::Debug + std::fmt::Display>(e: art28_ledger::merkle::ProofError<E>) -> Error {
    match e {
        art28_ledger::merkle::ProofError::Reader(inner) => db_err(format!("{inner:?}")),
        other => Error::new(ErrorCode::BadRequest, format!("{other}")),
    }
}

/// A customer's indexed sequence numbers in `from..below`, ascending, at most `limit`, from the
/// runs read in order of their last one.
fn seqs_of_runs(runs: &[Vec<u8>], from: i64, below: i64, limit: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for bytes in runs {
        for chunk in bytes.chunks_exact(8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            let seq = i64::from_be_bytes(b);
            if seq < from {
                continue;
            }
            if seq >= below || out.len() == limit {
                return out;
            }
            out.push(seq);
        }
    }
    out
}

#[async_trait::async_trait]
impl LogStore for PgStore {
    async fn log_access(&self, entry: &AccessEntry) -> Result<LogReceipt> {
        self.append(Prepared::new(entry)).await
    }

    async fn log_accesses(&self, entries: &[AccessEntry]) -> Result<Vec<LogReceipt>> {
        let prepared: Vec<Prepared> = entries.iter().map(Prepared::new).collect();
        self.write(move |tx| Box::pin(async move { prepared.iter().map(|p| tx.append(p)).collect() }))
            .await
    }

    async fn log_size(&self) -> Result<u64> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT size FROM log_head WHERE id = 1")
            .await
            .map_err(db_err)?;
        let n: i64 = c.query_one(&st, &[]).await.and_then(|r| r.try_get(0)).map_err(db_err)?;
        u64::try_from(n).map_err(db_err)
    }

    async fn leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let (start, end) = (i64::try_from(from).map_err(db_err)?, i64::try_from(to).map_err(db_err)?);
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT leaf_hash FROM access_log WHERE seq >= $1 AND seq < $2 ORDER BY seq")
            .await
            .map_err(db_err)?;
        let rows = c.query(&st, &[&start, &end]).await.map_err(db_err)?;
        if rows.len() as u64 != to.saturating_sub(from) {
            return Err(db_err(format!("entries {from}..{to} are not all in the log")));
        }
        rows.iter()
            .map(|r| {
                let h: &[u8] = r.try_get(0).map_err(db_err)?;
                Hash::try_from(h).map_err(db_err)
            })
            .collect()
    }

    fn keeps_level(&self, level: u32) -> bool {
        level > 0 && level.is_multiple_of(NODE_STRIDE)
    }

    async fn save_fold(&self, nodes: &[(u32, u64, Hash)], cp: &StoredCheckpoint) -> Result<()> {
        let (mut levels, mut idxs, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
        for (l, i, h) in nodes.iter().filter(|(l, _, _)| self.keeps_level(*l)) {
            levels.push(i64::from(*l));
            idxs.push(i64::try_from(*i).map_err(db_err)?);
            hashes.push(h.to_vec());
        }
        let cp = cp.clone();
        let size = i64::try_from(cp.size).map_err(db_err)?;
        // The per-customer index of the entries this checkpoint adds, grouped on a reader so
        // that the writer only inserts the runs.
        let indexed = self.checkpointed().await?;
        let runs: Vec<Run> = {
            let c = self.client().await?;
            let st = c
                .prepare_cached(
                    "SELECT seq, tenant FROM access_log WHERE seq >= $1 AND seq < $2 AND tenant IS NOT NULL ORDER BY seq",
                )
                .await
                .map_err(db_err)?;
            let mut by_tenant = ByTenant::default();
            for r in c.query(&st, &[&indexed, &size]).await.map_err(db_err)? {
                by_tenant.add(r.try_get(0).map_err(db_err)?, r.try_get(1).map_err(db_err)?);
            }
            by_tenant.runs()
        };
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                // Another node's fold may have saved since the runs were read: the entries
                // below its checkpoint are indexed already. A checkpoint that would not extend
                // the newest one is not kept (the tree is the same; its nodes are).
                let st = c
                    .prepare_cached("SELECT COALESCE(MAX(size), 0) FROM checkpoints")
                    .await
                    .map_err(db_err)?;
                let indexed: i64 = c.query_one(&st, &[]).await.and_then(|r| r.try_get(0)).map_err(db_err)?;
                let st = c
                    .prepare_cached(
                        "INSERT INTO ledger_nodes (level, idx, hash)
                         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING",
                    )
                    .await
                    .map_err(db_err)?;
                c.execute(&st, &[&levels, &idxs, &hashes]).await.map_err(db_err)?;
                if size <= indexed {
                    return Ok(());
                }
                let (mut tenants, mut lasts, mut packed) = (Vec::new(), Vec::new(), Vec::new());
                for run in &runs {
                    if let Some((last, seqs)) = run.encode(indexed) {
                        tenants.push(run.tenant.as_str());
                        lasts.push(last);
                        packed.push(seqs);
                    }
                }
                let st = c
                    .prepare_cached(
                        "INSERT INTO access_log_runs (tenant, last, seqs)
                         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[])",
                    )
                    .await
                    .map_err(db_err)?;
                c.execute(&st, &[&tenants, &lasts, &packed]).await.map_err(db_err)?;
                let st = c
                    .prepare_cached(
                        "INSERT INTO checkpoints (size, root, note, signed_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (size) DO NOTHING",
                    )
                    .await
                    .map_err(db_err)?;
                c.execute(&st, &[&size, &cp.root.as_slice(), &cp.note, &micros(cp.signed_at)])
                    .await
                    .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT size, root, note, signed_at FROM checkpoints ORDER BY size DESC LIMIT 1")
            .await
            .map_err(db_err)?;
        c.query_opt(&st, &[])
            .await
            .map_err(db_err)?
            .as_ref()
            .map(checkpoint_row)
            .transpose()
    }

    async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>> {
        let size = i64::try_from(size).map_err(db_err)?;
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT size, root, note, signed_at FROM checkpoints WHERE size = $1")
            .await
            .map_err(db_err)?;
        c.query_opt(&st, &[&size])
            .await
            .map_err(db_err)?
            .as_ref()
            .map(checkpoint_row)
            .transpose()
    }

    async fn tenant_log(&self, tenant: &CustomerId, from: u64, below: u64, limit: usize) -> Result<Vec<LoggedEntry>> {
        let from = i64::try_from(from).map_err(db_err)?;
        let below = i64::try_from(below).map_err(db_err)?;
        let limit_i = i64::try_from(limit).map_err(db_err)?;
        if limit == 0 || from >= below {
            return Ok(Vec::new());
        }
        let c = self.client().await?;
        // Entries below the newest checkpoint are in the per-customer index; it only grows, so
        // a fold committing meanwhile hides no entry from either part.
        let st = c
            .prepare_cached("SELECT COALESCE(MAX(size), 0) FROM checkpoints")
            .await
            .map_err(db_err)?;
        let indexed: i64 = c.query_one(&st, &[]).await.and_then(|r| r.try_get(0)).map_err(db_err)?;
        let row = |r: &tokio_postgres::Row| -> Result<LoggedEntry> {
            Ok(LoggedEntry {
                index: u64::try_from(r.try_get::<_, i64>(0).map_err(db_err)?).map_err(db_err)?,
                bytes: r.try_get(1).map_err(db_err)?,
            })
        };
        let mut out = Vec::new();
        let top = below.min(indexed);
        if from < top {
            let st = c
                .prepare_cached(
                    "SELECT seqs FROM access_log_runs WHERE tenant = $1 AND last >= $2 ORDER BY last LIMIT $3",
                )
                .await
                .map_err(db_err)?;
            // Each run holds at least one of the sequence numbers wanted.
            let runs: Vec<Vec<u8>> = c
                .query(&st, &[&tenant.as_str(), &from, &limit_i])
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| r.try_get(0).map_err(db_err))
                .collect::<Result<_>>()?;
            let seqs = seqs_of_runs(&runs, from, top, limit);
            let st = c
                .prepare_cached("SELECT seq, entry FROM access_log WHERE seq = ANY($1) ORDER BY seq")
                .await
                .map_err(db_err)?;
            for r in c.query(&st, &[&seqs]).await.map_err(db_err)? {
                out.push(row(&r)?);
            }
        }
        let rest = limit_i - i64::try_from(out.len()).map_err(db_err)?;
        if rest > 0 && below > indexed {
            // The unfolded tail: at most the last fold interval's entries.
            let st = c
                .prepare_cached(
                    "SELECT seq, entry FROM access_log WHERE seq >= $2 AND seq < $3 AND tenant = $1 ORDER BY seq LIMIT $4",
                )
                .await
                .map_err(db_err)?;
            for r in c
                .query(&st, &[&tenant.as_str(), &from.max(indexed), &below, &rest])
                .await
                .map_err(db_err)?
            {
                out.push(row(&r)?);
            }
        }
        Ok(out)
    }

    async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        let mut proofs = self.inclusion_proofs(&[index], size).await?;
        proofs.pop().ok_or_else(|| db_err("no proof made"))
    }

    async fn inclusion_proofs(&self, indices: &[u64], size: u64) -> Result<Vec<Vec<Hash>>> {
        let recorder = Recorder::default();
        for i in indices {
            art28_ledger::merkle::inclusion_proof(*i, size, &recorder).map_err(proof_err)?;
        }
        let fetched = self.fetch(recorder.0.into_inner()).await?;
        indices
            .iter()
            .map(|i| art28_ledger::merkle::inclusion_proof(*i, size, &fetched).map_err(proof_err))
            .collect()
    }

    async fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>> {
        let recorder = Recorder::default();
        art28_ledger::merkle::consistency_proof(old_size, new_size, &recorder).map_err(proof_err)?;
        let fetched = self.fetch(recorder.0.into_inner()).await?;
        art28_ledger::merkle::consistency_proof(old_size, new_size, &fetched).map_err(proof_err)
    }

    async fn restore_frontier(&self, size: u64) -> Result<Frontier> {
        let recorder = Recorder::default();
        let _ = Frontier::restore(size, &recorder);
        let fetched = self.fetch(recorder.0.into_inner()).await?;
        Frontier::restore(size, &fetched).map_err(db_err)
    }

    async fn log_window(&self, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<AccessEntry>> {
        let limit = i64::try_from(limit).map_err(db_err)?;
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT entry FROM access_log WHERE time >= $1 AND time < $2 AND tenant IS NOT NULL ORDER BY seq LIMIT $3",
            )
            .await
            .map_err(db_err)?;
        c.query(&st, &[&micros(from), &micros(to), &limit])
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                let b: &[u8] = r.try_get(0).map_err(db_err)?;
                AccessEntry::from_bytes(b).map_err(db_err)
            })
            .collect()
    }
}
