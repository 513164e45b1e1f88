//! The vault in PostgreSQL: sealed records, the key rows that open them, blind indexes, legal
//! holds and erasures.
//!
//! The store never sees a plaintext value or an unwrapped key: records arrive sealed and keys
//! wrapped. Every operation appends its access entry in the same write job as its change; an
//! operation whose precondition fails (no such record, a version that moved on, a legal hold)
//! writes nothing, not even its entry, and returns the error: the service logs the refusal.
//!
//! Where the SQLite module loops over rows (an import's records, their blind indexes, a
//! re-index), this one sends arrays in one statement (`unnest`). The context of an operation
//! (customer, agreement in force, tenant key, collection, subjects, record) is one statement.

use super::agreements::{CUSTOMER_COLS, META_COLS, customer_at, meta_at};
use super::merge::{CreateJob, Mergeable, QueryJob};
use super::{PgStore, col, db_err, from_micros, is_unique_violation, micros, parse, signed, unsigned};
use crate::VaultStore;
use crate::model::*;
use crate::sqlite::log::Prepared;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::vault::CollectionDef;
use art28_core::{Error, ErrorCode, Result};
use deadpool_postgres::ClientWrapper;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

type Param<'a> = &'a (dyn ToSql + Sync);

/// The rows of a statement.
async fn query(c: &ClientWrapper, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>> {
    let st = c.prepare_cached(sql).await.map_err(db_err)?;
    c.query(&st, params).await.map_err(db_err)
}

/// The one row of a statement, if any.
async fn query_opt(c: &ClientWrapper, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>> {
    let st = c.prepare_cached(sql).await.map_err(db_err)?;
    c.query_opt(&st, params).await.map_err(db_err)
}

/// Run a statement; how many rows it changed.
async fn execute(c: &ClientWrapper, sql: &str, params: &[Param<'_>]) -> Result<u64> {
    let st = c.prepare_cached(sql).await.map_err(db_err)?;
    c.execute(&st, params).await.map_err(db_err)
}

/// A `usize` limit for a BIGINT parameter (a larger one is no limit).
fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn hash32(v: Vec<u8>) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| db_err("a stored index is not 32 bytes"))
}

const COLLECTION_COLS: &str = "definition, created_at, created_by";

fn collection_at(r: &Row, o: usize) -> Result<StoredCollection> {
    let def: &str = col(r, o)?;
    Ok(StoredCollection {
        def: serde_json::from_str(def).map_err(db_err)?,
        created_at: from_micros(col(r, o + 1)?)?,
        created_by: col(r, o + 2)?,
    })
}

fn collection_row(r: &Row) -> Result<StoredCollection> {
    collection_at(r, 0)
}

pub(crate) const RECORD_COLS: &str =
    "r.id, r.collection, r.subject, s.wrapped_key, r.version, r.sealed, r.created_at, r.updated_at";

pub(crate) fn record_at(r: &Row, o: usize) -> Result<VaultRecordRow> {
    Ok(VaultRecordRow {
        id: col(r, o)?,
        collection: col(r, o + 1)?,
        subject: unsigned(col(r, o + 2)?)?,
        subject_key: col(r, o + 3)?,
        version: unsigned(col(r, o + 4)?)?,
        sealed: col(r, o + 5)?,
        created_at: from_micros(col(r, o + 6)?)?,
        updated_at: from_micros(col(r, o + 7)?)?,
    })
}

fn record_row(r: &Row) -> Result<VaultRecordRow> {
    record_at(r, 0)
}

fn key_row(r: &Row) -> Result<TenantKeyRow> {
    Ok(TenantKeyRow {
        master_key_id: col(r, 0)?,
        wrapped: col(r, 1)?,
    })
}

const HOLD_COLS: &str = "id, tenant, subject_index, reason, placed_by, placed_at, lifted_by, lifted_at";

fn hold_row(r: &Row) -> Result<LegalHoldRecord> {
    Ok(LegalHoldRecord {
        id: unsigned(col(r, 0)?)?,
        tenant: parse(col::<&str>(r, 1)?)?,
        subject_index: col::<Option<Vec<u8>>>(r, 2)?.map(hash32).transpose()?,
        reason: col(r, 3)?,
        placed_by: col(r, 4)?,
        placed_at: from_micros(col(r, 5)?)?,
        lifted_by: col(r, 6)?,
        lifted_at: col::<Option<i64>>(r, 7)?.map(from_micros).transpose()?,
    })
}

fn erasure_row(r: &Row) -> Result<ErasureRecord> {
    Ok(ErasureRecord {
        tenant: parse(col::<&str>(r, 0)?)?,
        subject_index: col::<Option<Vec<u8>>>(r, 1)?.map(hex::encode),
        erased_at: from_micros(col(r, 2)?)?,
        erased_by: col(r, 3)?,
        access_id: col(r, 4)?,
    })
}

fn recovery_row(r: &Row) -> Result<RecoveryRecord> {
    Ok(RecoveryRecord {
        started_at: from_micros(col(r, 0)?)?,
        responsible: col(r, 1)?,
        backup: col(r, 2)?,
        backup_sha256: col(r, 3)?,
        erasures_replayed: unsigned(col(r, 4)?)?,
        manual_steps: col(r, 5)?,
        outcome: col(r, 6)?,
    })
}

/// The live hold that keeps this subject (or, for `None`, the whole customer: any live hold
/// of the customer) from erasure, if any.
async fn live_hold(c: &ClientWrapper, tenant: &str, subject: Option<&[u8; 32]>) -> Result<Option<LegalHoldRecord>> {
    let subject = subject.map(|s| s.as_slice());
    query_opt(
        c,
        &format!(
            "SELECT {HOLD_COLS} FROM vault_legal_holds
             WHERE tenant = $1 AND lifted_at IS NULL
               AND ($2::bytea IS NULL OR subject_index IS NULL OR subject_index = $2)
             ORDER BY id LIMIT 1"
        ),
        &[&tenant, &subject],
    )
    .await?
    .as_ref()
    .map(hold_row)
    .transpose()
}

fn hold_error(h: &LegalHoldRecord) -> Error {
    Error::new(
        ErrorCode::LegalHold,
        format!(
            "legal hold {} (placed {} by {}: {}) keeps this data; it cannot be erased until the hold is lifted",
            h.id, h.placed_at, h.placed_by, h.reason
        ),
    )
}

fn not_found(collection: &str, id: &str) -> Error {
    Error::new(
        ErrorCode::RecordNotFound,
        format!(
            "collection `{collection}` has no record `{}`",
            id.chars().take(64).collect::<String>()
        ),
    )
}

fn concat(blind: &[[u8; 32]]) -> Vec<u8> {
    blind.iter().flatten().copied().collect()
}

/// Add blind indexes: each record id with each of its digests (kept once).
async fn insert_blind(c: &ClientWrapper, tenant: &str, records: &[(&str, &[[u8; 32]])]) -> Result<()> {
    let (mut digests, mut ids): (Vec<&[u8]>, Vec<&str>) = (Vec::new(), Vec::new());
    for (id, blind) in records {
        for d in blind.iter() {
            digests.push(d.as_slice());
            ids.push(id);
        }
    }
    if digests.is_empty() {
        return Ok(());
    }
    execute(
        c,
        "INSERT INTO vault_blind (tenant, digest, record)
         SELECT $1, d, r FROM unnest($2::bytea[], $3::text[]) AS u (d, r)
         ON CONFLICT DO NOTHING",
        &[&tenant, &digests, &ids],
    )
    .await?;
    Ok(())
}

/// Remove records' blind indexes, found through the digests each keeps in its own row (its
/// `blind` column, given here), by the table's key.
async fn delete_blind(c: &ClientWrapper, tenant: &str, records: &[(&str, &[u8])]) -> Result<()> {
    let (mut digests, mut ids): (Vec<&[u8]>, Vec<&str>) = (Vec::new(), Vec::new());
    for (id, blind) in records {
        for d in blind.chunks_exact(32) {
            digests.push(d);
            ids.push(id);
        }
    }
    if digests.is_empty() {
        return Ok(());
    }
    execute(
        c,
        "DELETE FROM vault_blind b USING unnest($2::bytea[], $3::text[]) AS u (d, r)
         WHERE b.tenant = $1 AND b.digest = u.d AND b.record = u.r",
        &[&tenant, &digests, &ids],
    )
    .await?;
    Ok(())
}

/// A new record's subject: one known (by id), or the `n`th subject this import adds.
#[derive(Clone, Copy)]
enum Subject {
    Known(i64),
    Added(usize),
}

fn subject_changed() -> Error {
    Error::new(
        ErrorCode::RecordVersionConflict,
        "the data subject changed since it was read; try again",
    )
}

fn subject_added_meanwhile() -> Error {
    Error::new(
        ErrorCode::RecordVersionConflict,
        "the data subject was added by another request at the same time; try again",
    )
}

/// Add an import's records (see [`VaultStore::vault_create`]): the subjects they name checked
/// or added, then the records and their blind indexes, each table in one statement. The first
/// record (in the import's order) whose subject is wrong decides the error, as when they are
/// added one by one.
pub(crate) async fn insert_records(c: &ClientWrapper, tenant: &str, records: &[NewVaultRecord], at: i64) -> Result<()> {
    // Every subject named, by id or by reference index, as it is now.
    let mut ids: Vec<i64> = Vec::new();
    let mut refs: Vec<&[u8]> = Vec::new();
    for r in records {
        match &r.subject {
            // An id beyond BIGINT cannot be stored: unknown.
            SubjectRef::Existing(id) => ids.extend(i64::try_from(*id).ok()),
            SubjectRef::New(s) => refs.push(s.ref_index.as_slice()),
        }
    }
    let found = query(
        c,
        "SELECT id, ref_index, wrapped_key FROM vault_subjects
         WHERE tenant = $1 AND (id = ANY($2::bigint[]) OR ref_index = ANY($3::bytea[]))",
        &[&tenant, &ids, &refs],
    )
    .await?;
    // Each row found is this customer's subject, whether found by its id or its index.
    let mut known: HashSet<i64> = HashSet::new();
    let mut by_ref: HashMap<Vec<u8>, (Subject, Vec<u8>)> = HashMap::new();
    for row in &found {
        let id: i64 = col(row, 0)?;
        known.insert(id);
        by_ref.insert(col(row, 1)?, (Subject::Known(id), col(row, 2)?));
    }
    // Each record's subject, in order; a new subject named again in one import is the one
    // added first (if named with the same key).
    let mut added: Vec<&NewSubject> = Vec::new();
    let mut subjects: Vec<Subject> = Vec::with_capacity(records.len());
    for r in records {
        let subject = match &r.subject {
            SubjectRef::Existing(id) => match i64::try_from(*id) {
                // Read as known, but erased (or not this customer's) by the time of the write:
                // a record under it could never be opened, and would outlive the erasure.
                Ok(id) if known.contains(&id) => Subject::Known(id),
                _ => return Err(subject_changed()),
            },
            SubjectRef::New(s) => match by_ref.get(s.ref_index.as_slice()) {
                Some((subject, wrapped)) if *wrapped == s.wrapped_key => *subject,
                Some(_) => return Err(subject_added_meanwhile()),
                None => {
                    let subject = Subject::Added(added.len());
                    added.push(s);
                    by_ref.insert(s.ref_index.to_vec(), (subject, s.wrapped_key.clone()));
                    subject
                }
            },
        };
        subjects.push(subject);
    }
    let mut added_ids: HashMap<Vec<u8>, i64> = HashMap::new();
    if !added.is_empty() {
        let refs: Vec<&[u8]> = added.iter().map(|s| s.ref_index.as_slice()).collect();
        let keys: Vec<&[u8]> = added.iter().map(|s| s.wrapped_key.as_slice()).collect();
        let st = c
            .prepare_cached(
                "INSERT INTO vault_subjects (tenant, ref_index, wrapped_key)
                 SELECT $1, r, k FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS u (r, k, n) ORDER BY n
                 RETURNING ref_index, id",
            )
            .await
            .map_err(db_err)?;
        let rows = match c.query(&st, &[&tenant, &refs, &keys]).await {
            // Not while this job holds the writer (all writes are serialised), but if ever.
            Err(e) if is_unique_violation(&e) => return Err(subject_added_meanwhile()),
            Err(e) => return Err(db_err(e)),
            Ok(rows) => rows,
        };
        for row in &rows {
            added_ids.insert(col(row, 0)?, col(row, 1)?);
        }
    }
    let mut subject_ids: Vec<i64> = Vec::with_capacity(records.len());
    for s in &subjects {
        subject_ids.push(match s {
            Subject::Known(id) => *id,
            Subject::Added(n) => *added
                .get(*n)
                .and_then(|s| added_ids.get(s.ref_index.as_slice()))
                .ok_or_else(|| db_err("an added subject was not returned"))?,
        });
    }
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let collections: Vec<&str> = records.iter().map(|r| r.collection.as_str()).collect();
    let sealed: Vec<&[u8]> = records.iter().map(|r| r.sealed.as_slice()).collect();
    let blinds: Vec<Vec<u8>> = records.iter().map(|r| concat(&r.blind)).collect();
    execute(
        c,
        "INSERT INTO vault_records (tenant, id, collection, subject, version, sealed, blind, blind_version, created_at, updated_at)
         SELECT $1, i, c, s, 1, x, b, $7, $8, $8
         FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bytea[], $6::bytea[]) WITH ORDINALITY AS u (i, c, s, x, b, n)
         ORDER BY n",
        &[
            &tenant,
            &ids,
            &collections,
            &subject_ids,
            &sealed,
            &blinds,
            &i64::from(BLIND_VERSION),
            &at,
        ],
    )
    .await?;
    let indexes: Vec<(&str, &[[u8; 32]])> = records.iter().map(|r| (r.id.as_str(), r.blind.as_slice())).collect();
    insert_blind(c, tenant, &indexes).await
}

/// A page of records (of one collection or all) after an id.
async fn list_records(
    c: &ClientWrapper,
    tenant: &str,
    collection: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<VaultRecordRow>> {
    let rows = match collection {
        Some(coll) => {
            query(
                c,
                &format!(
                    "SELECT {RECORD_COLS} FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                     WHERE r.tenant = $1 AND r.collection = $2 AND r.id > $3 ORDER BY r.id LIMIT $4"
                ),
                &[&tenant, &coll, &after, &limit],
            )
            .await?
        }
        None => {
            query(
                c,
                &format!(
                    "SELECT {RECORD_COLS} FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                     WHERE r.tenant = $1 AND r.id > $2 ORDER BY r.id LIMIT $3"
                ),
                &[&tenant, &after, &limit],
            )
            .await?
        }
    };
    rows.iter().map(record_row).collect()
}

/// Destroy a subject's key and remove its records and blind indexes. `None` if the subject is
/// unknown; otherwise how many records went.
async fn erase_subject_rows(c: &ClientWrapper, tenant: &str, idx: &[u8; 32]) -> Result<Option<u64>> {
    // The key first: from here on the records cannot be opened, whatever happens next.
    let Some(row) = query_opt(
        c,
        "DELETE FROM vault_subjects WHERE tenant = $1 AND ref_index = $2 RETURNING id",
        &[&tenant, &idx.as_slice()],
    )
    .await?
    else {
        return Ok(None);
    };
    let id: i64 = col(&row, 0)?;
    let gone = query(
        c,
        "DELETE FROM vault_records WHERE tenant = $1 AND subject = $2 RETURNING id, blind",
        &[&tenant, &id],
    )
    .await?;
    let records: Vec<(&str, &[u8])> = gone
        .iter()
        .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
        .collect::<Result<_>>()?;
    delete_blind(c, tenant, &records).await?;
    Ok(Some(records.len() as u64))
}

/// Destroy a customer's key and mark it erased. Whether anything changed.
async fn erase_tenant_key(c: &ClientWrapper, tenant: &str) -> Result<bool> {
    let keys = execute(c, "DELETE FROM vault_tenant_keys WHERE tenant = $1", &[&tenant]).await?;
    let status = execute(
        c,
        "UPDATE customers SET status = 'erased' WHERE id = $1 AND status <> 'erased'",
        &[&tenant],
    )
    .await?;
    Ok(keys + status > 0)
}

/// Replace stale blind indexes (see [`VaultStore::vault_reindex_blind`]); how many records.
async fn reindex(c: &ClientWrapper, tenant: &str, changes: &[BlindChange]) -> Result<u64> {
    let ids: Vec<&str> = changes.iter().map(|ch| ch.id.as_str()).collect();
    let rows = query(
        c,
        "SELECT id, version, blind FROM vault_records WHERE tenant = $1 AND id = ANY($2::text[]) AND blind_version < $3",
        &[&tenant, &ids, &i64::from(BLIND_VERSION)],
    )
    .await?;
    let mut stale: HashMap<&str, (i64, &[u8])> = HashMap::new();
    for r in &rows {
        stale.insert(col(r, 0)?, (col(r, 1)?, col(r, 2)?));
    }
    // In order, each if still at the version read; once re-indexed a record is current, so a
    // second change of it in the same call is not applied.
    let mut taken: Vec<(&BlindChange, &[u8])> = Vec::new();
    for ch in changes {
        if let Some((version, old)) = stale.get(ch.id.as_str()).copied()
            && i64::try_from(ch.version).ok() == Some(version)
        {
            stale.remove(ch.id.as_str());
            taken.push((ch, old));
        }
    }
    if taken.is_empty() {
        return Ok(0);
    }
    let old: Vec<(&str, &[u8])> = taken.iter().map(|(ch, old)| (ch.id.as_str(), *old)).collect();
    delete_blind(c, tenant, &old).await?;
    let ids: Vec<&str> = taken.iter().map(|(ch, _)| ch.id.as_str()).collect();
    let blinds: Vec<Vec<u8>> = taken.iter().map(|(ch, _)| concat(&ch.blind)).collect();
    execute(
        c,
        "UPDATE vault_records v SET blind = u.b, blind_version = $4
         FROM unnest($2::text[], $3::bytea[]) AS u (i, b)
         WHERE v.tenant = $1 AND v.id = u.i",
        &[&tenant, &ids, &blinds, &i64::from(BLIND_VERSION)],
    )
    .await?;
    let new: Vec<(&str, &[[u8; 32]])> = taken
        .iter()
        .map(|(ch, _)| (ch.id.as_str(), ch.blind.as_slice()))
        .collect();
    insert_blind(c, tenant, &new).await?;
    Ok(taken.len() as u64)
}

/// The vault's context in one statement: one row of outer joins on the customer's key, with
/// the known subjects asked for as arrays. Columns: customer 0..6, agreement 6..16, tenant
/// key 16..18, collection 18..21, record 21..29, subjects 29..32.
static CONTEXT_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT c.*, a.*, k.master_key_id, k.wrapped, v.*, rec.*, subj.*
         FROM (VALUES (1)) AS one (x)
         LEFT JOIN LATERAL (SELECT {CUSTOMER_COLS} FROM customers WHERE id = $1) c ON TRUE
         LEFT JOIN LATERAL (
             SELECT {META_COLS} FROM agreement_versions
             WHERE customer_id = $1 AND effective_from <= $2::text
             ORDER BY effective_from DESC, version DESC LIMIT 1) a ON TRUE
         LEFT JOIN vault_tenant_keys k ON k.tenant = $1
         LEFT JOIN LATERAL (
             SELECT {COLLECTION_COLS} FROM vault_collections WHERE tenant = $1 AND name = $3::text) v ON TRUE
         LEFT JOIN LATERAL (
             SELECT {RECORD_COLS} FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
             WHERE r.tenant = $1 AND r.id = $4::text) rec ON TRUE
         CROSS JOIN LATERAL (
             SELECT array_agg(id) AS ids, array_agg(ref_index) AS refs, array_agg(wrapped_key) AS keys FROM vault_subjects
             WHERE tenant = $1 AND ref_index = ANY($5::bytea[])) subj"
    )
});

fn context_row(r: &Row) -> Result<VaultContext> {
    let present = |i: usize| -> Result<bool> { Ok(col::<Option<&str>>(r, i)?.is_some()) };
    let customer = if present(0)? { Some(customer_at(r, 0)?) } else { None };
    let agreement = if present(6)? { Some(meta_at(r, 6)?) } else { None };
    let tenant_key = if present(16)? {
        Some(TenantKeyRow {
            master_key_id: col(r, 16)?,
            wrapped: col(r, 17)?,
        })
    } else {
        None
    };
    let collection = if present(18)? {
        Some(collection_at(r, 18)?)
    } else {
        None
    };
    let record = if present(21)? { Some(record_at(r, 21)?) } else { None };
    let ids: Vec<i64> = col::<Option<Vec<i64>>>(r, 29)?.unwrap_or_default();
    let refs: Vec<Vec<u8>> = col::<Option<Vec<Vec<u8>>>>(r, 30)?.unwrap_or_default();
    let keys: Vec<Vec<u8>> = col::<Option<Vec<Vec<u8>>>>(r, 31)?.unwrap_or_default();
    if ids.len() != refs.len() || ids.len() != keys.len() {
        return Err(db_err("the subjects of a context read do not line up"));
    }
    let mut subjects = HashMap::with_capacity(ids.len());
    for ((id, idx), wrapped_key) in ids.into_iter().zip(refs).zip(keys) {
        subjects.insert(
            hash32(idx)?,
            SubjectRow {
                id: unsigned(id)?,
                wrapped_key,
            },
        );
    }
    Ok(VaultContext {
        customer,
        agreement,
        tenant_key,
        collection,
        subjects,
        record,
    })
}

#[async_trait::async_trait]
impl VaultStore for PgStore {
    async fn vault_reach(
        &self,
        tenant: &CustomerId,
        records: &[(String, String)],
        collections: &[String],
    ) -> Result<VaultReach> {
        let colls: Vec<&str> = records.iter().map(|(c, _)| c.as_str()).collect();
        let ids: Vec<&str> = records.iter().map(|(_, i)| i.as_str()).collect();
        let whole: Vec<&str> = collections.iter().map(String::as_str).collect();
        // Each record once (its id is its key within the customer), whichever way it is named.
        let reach = self
            .row(
                "SELECT COUNT(*), COUNT(DISTINCT subject) FROM (
                     SELECT r.id, r.subject FROM vault_records r
                     JOIN unnest($2::text[], $3::text[]) AS x (c, i) ON r.collection = x.c AND r.id = x.i
                     WHERE r.tenant = $1
                     UNION
                     SELECT r.id, r.subject FROM vault_records r
                     WHERE r.tenant = $1 AND r.collection = ANY($4::text[])
                 ) u",
                &[&tenant.as_str(), &colls, &ids, &whole],
                |r| {
                    Ok(VaultReach {
                        records: unsigned(col(r, 0)?)?,
                        subjects: unsigned(col(r, 1)?)?,
                    })
                },
            )
            .await?;
        Ok(reach.unwrap_or_default())
    }

    async fn vault_context(&self, tenant: &CustomerId, q: ContextQuery) -> Result<VaultContext> {
        let on = q.on.map(|d| d.to_string());
        let subjects: Vec<&[u8]> = q.subjects.iter().map(|s| s.as_slice()).collect();
        self.row(
            &CONTEXT_SQL,
            &[&tenant.as_str(), &on, &q.collection, &q.record, &subjects],
            context_row,
        )
        .await?
        .ok_or_else(|| db_err("a context read returned no row"))
    }

    async fn put_tenant_key(&self, tenant: &CustomerId, key: &TenantKeyRow, at: Timestamp) -> Result<TenantKeyRow> {
        let (tenant, key) = (tenant.clone(), key.clone());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let t = tenant.as_str();
                let status = query_opt(c, "SELECT status FROM customers WHERE id = $1", &[&t]).await?;
                match status.as_ref().map(|r| col::<&str>(r, 0)).transpose()? {
                    None => {
                        return Err(Error::new(
                            ErrorCode::CustomerNotFound,
                            format!("no customer `{tenant}`"),
                        ));
                    }
                    Some("erased") => {
                        return Err(Error::new(
                            ErrorCode::TenantErased,
                            format!("the data of customer `{tenant}` has been erased"),
                        ));
                    }
                    _ => {}
                }
                let added = execute(
                    c,
                    "INSERT INTO vault_tenant_keys (tenant, master_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant) DO NOTHING",
                    &[&t, &key.master_key_id, &key.wrapped, &micros(at)],
                )
                .await?;
                if added == 1 {
                    return Ok(key);
                }
                let row = query_opt(
                    c,
                    "SELECT master_key_id, wrapped FROM vault_tenant_keys WHERE tenant = $1",
                    &[&t],
                )
                .await?
                .ok_or_else(|| db_err("a tenant key neither added nor kept"))?;
                key_row(&row)
            })
        })
        .await
    }

    async fn tenant_keys(&self) -> Result<Vec<(CustomerId, TenantKeyRow)>> {
        self.rows(
            "SELECT tenant, master_key_id, wrapped FROM vault_tenant_keys ORDER BY tenant",
            &[],
            |r| {
                Ok((
                    parse(col::<&str>(r, 0)?)?,
                    TenantKeyRow {
                        master_key_id: col(r, 1)?,
                        wrapped: col(r, 2)?,
                    },
                ))
            },
        )
        .await
    }

    async fn rewrap_tenant_key(&self, tenant: &CustomerId, old: &TenantKeyRow, new: &TenantKeyRow) -> Result<bool> {
        let (tenant, old, new) = (tenant.clone(), old.clone(), new.clone());
        self.write(move |tx| {
            Box::pin(async move {
                let n = execute(
                    tx.c(),
                    "UPDATE vault_tenant_keys SET master_key_id = $1, wrapped = $2
                     WHERE tenant = $3 AND master_key_id = $4 AND wrapped = $5",
                    &[
                        &new.master_key_id,
                        &new.wrapped,
                        &tenant.as_str(),
                        &old.master_key_id,
                        &old.wrapped,
                    ],
                )
                .await?;
                Ok(n == 1)
            })
        })
        .await
    }

    async fn define_collection(
        &self,
        tenant: &CustomerId,
        def: &CollectionDef,
        at: Timestamp,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        let (tenant, name, by, entry) = (tenant.clone(), def.name.clone(), by.to_string(), Prepared::new(entry));
        let json = serde_json::to_string(def).map_err(db_err)?;
        self.write(move |tx| {
            Box::pin(async move {
                let added = execute(
                    tx.c(),
                    "INSERT INTO vault_collections (tenant, name, definition, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (tenant, name) DO NOTHING",
                    &[&tenant.as_str(), &name, &json, &micros(at), &by],
                )
                .await?;
                if added == 0 {
                    return Err(Error::new(
                        ErrorCode::CollectionExists,
                        format!("collection `{name}` exists already"),
                    ));
                }
                tx.append(&entry)
            })
        })
        .await
    }

    async fn collections(&self, tenant: &CustomerId) -> Result<Vec<StoredCollection>> {
        self.rows(
            &format!("SELECT {COLLECTION_COLS} FROM vault_collections WHERE tenant = $1 ORDER BY name"),
            &[&tenant.as_str()],
            collection_row,
        )
        .await
    }

    async fn vault_create(
        &self,
        tenant: &CustomerId,
        records: Vec<NewVaultRecord>,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        // Run with the imports next to it in the batch (see `merge`).
        let (reply, rx) = tokio::sync::oneshot::channel();
        let job = Mergeable::Create(CreateJob {
            tenant: tenant.clone(),
            records,
            at,
            entry: Prepared::new(entry),
            reply,
        });
        self.merge(job, rx).await
    }

    /// Read one record and log the read in one write job; no such record (in this
    /// collection) is `record_not_found`, with nothing written.
    async fn vault_read(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<(VaultRecordRow, LogReceipt)> {
        let (tenant, collection, id, entry) = (
            tenant.clone(),
            collection.to_string(),
            id.to_string(),
            Prepared::new(entry),
        );
        self.write(move |tx| {
            Box::pin(async move {
                let row = query_opt(
                    tx.c(),
                    &format!(
                        "SELECT {RECORD_COLS} FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                         WHERE r.tenant = $1 AND r.id = $2 AND r.collection = $3"
                    ),
                    &[&tenant.as_str(), &id, &collection],
                )
                .await?;
                match row {
                    None => Err(not_found(&collection, &id)),
                    Some(row) => {
                        let row = record_row(&row)?;
                        let receipt = tx.append(&entry)?;
                        Ok((row, receipt))
                    }
                }
            })
        })
        .await
    }

    /// Replace a record's sealed values if it is still at `version`.
    async fn vault_update(
        &self,
        tenant: &CustomerId,
        change: RecordChange,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)> {
        let (tenant, entry) = (tenant.clone(), Prepared::new(entry));
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let t = tenant.as_str();
                let current = query_opt(
                    c,
                    "SELECT version, blind FROM vault_records WHERE tenant = $1 AND id = $2 AND collection = $3",
                    &[&t, &change.id, &change.collection],
                )
                .await?;
                let Some(current) = current else {
                    return Err(not_found(&change.collection, &change.id));
                };
                let (version, old): (i64, &[u8]) = (col(&current, 0)?, col(&current, 1)?);
                if i64::try_from(change.version).ok() != Some(version) {
                    return Err(Error::new(
                        ErrorCode::RecordVersionConflict,
                        format!(
                            "record `{}` is at version {version}, not {}; read it again",
                            change.id, change.version
                        ),
                    ));
                }
                delete_blind(c, t, &[(change.id.as_str(), old)]).await?;
                execute(
                    c,
                    "UPDATE vault_records SET sealed = $1, blind = $2, blind_version = $3, version = version + 1, updated_at = $4
                     WHERE tenant = $5 AND id = $6",
                    &[
                        &change.sealed,
                        &concat(&change.blind),
                        &i64::from(BLIND_VERSION),
                        &micros(at),
                        &t,
                        &change.id,
                    ],
                )
                .await?;
                insert_blind(c, t, &[(change.id.as_str(), change.blind.as_slice())]).await?;
                let receipt = tx.append(&entry)?;
                Ok((unsigned(version)? + 1, receipt))
            })
        })
        .await
    }

    async fn vault_delete(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        let (tenant, collection, id, entry) = (
            tenant.clone(),
            collection.to_string(),
            id.to_string(),
            Prepared::new(entry),
        );
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let t = tenant.as_str();
                let gone = query_opt(
                    c,
                    "DELETE FROM vault_records WHERE tenant = $1 AND id = $2 AND collection = $3 RETURNING blind",
                    &[&t, &id, &collection],
                )
                .await?;
                let Some(gone) = gone else {
                    return Err(not_found(&collection, &id));
                };
                delete_blind(c, t, &[(id.as_str(), col(&gone, 0)?)]).await?;
                tx.append(&entry)
            })
        })
        .await
    }

    /// All records of a subject, with the read logged in the same write job.
    async fn vault_query(
        &self,
        tenant: &CustomerId,
        key: QueryKey,
        entry: &AccessEntry,
    ) -> Result<(Vec<VaultRecordRow>, LogReceipt)> {
        // Run with the lookups next to it in the batch (see `merge`).
        let (reply, rx) = tokio::sync::oneshot::channel();
        let job = Mergeable::Query(QueryJob {
            tenant: tenant.clone(),
            key,
            entry: Prepared::new(entry),
            reply,
        });
        self.merge(job, rx).await
    }

    /// A page of a collection's records, with the read logged in the same write job when an
    /// entry is given.
    async fn vault_list(
        &self,
        tenant: &CustomerId,
        collection: Option<&str>,
        after: &str,
        limit: usize,
        entry: Option<&AccessEntry>,
    ) -> Result<(Vec<VaultRecordRow>, Option<LogReceipt>)> {
        let limit = limit_of(limit);
        match entry {
            Some(entry) => {
                let (tenant, collection, after, entry) = (
                    tenant.clone(),
                    collection.map(str::to_string),
                    after.to_string(),
                    Prepared::new(entry),
                );
                self.write(move |tx| {
                    Box::pin(async move {
                        let rows = list_records(tx.c(), tenant.as_str(), collection.as_deref(), &after, limit).await?;
                        let receipt = tx.append(&entry)?;
                        Ok((rows, Some(receipt)))
                    })
                })
                .await
            }
            None => {
                let c = self.client().await?;
                Ok((list_records(&c, tenant.as_str(), collection, after, limit).await?, None))
            }
        }
    }

    async fn vault_erase_subject(
        &self,
        tenant: &CustomerId,
        subject: [u8; 32],
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)> {
        let (tenant, prepared) = (tenant.clone(), Prepared::new(entry));
        let (time, actor, access_id) = (micros(entry.time), entry.actor.id.clone(), entry.access_id.clone());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let t = tenant.as_str();
                if let Some(h) = live_hold(c, t, Some(&subject)).await? {
                    return Err(hold_error(&h));
                }
                let Some(n) = erase_subject_rows(c, t, &subject).await? else {
                    return Err(Error::new(
                        ErrorCode::RecordNotFound,
                        "no data is kept about this data subject",
                    ));
                };
                execute(
                    c,
                    "INSERT INTO vault_erasures (tenant, subject_index, erased_at, erased_by, access_id, purged_at)
                     VALUES ($1, $2, $3, $4, $5, $3)",
                    &[&t, &subject.as_slice(), &time, &actor, &access_id],
                )
                .await?;
                let receipt = tx.append(&prepared)?;
                Ok((n, receipt))
            })
        })
        .await
    }

    async fn vault_erase_tenant(&self, tenant: &CustomerId, entry: &AccessEntry) -> Result<LogReceipt> {
        let (tenant, prepared) = (tenant.clone(), Prepared::new(entry));
        let (time, actor, access_id) = (micros(entry.time), entry.actor.id.clone(), entry.access_id.clone());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let t = tenant.as_str();
                if let Some(h) = live_hold(c, t, None).await? {
                    return Err(hold_error(&h));
                }
                erase_tenant_key(c, t).await?;
                execute(
                    c,
                    "INSERT INTO vault_erasures (tenant, subject_index, erased_at, erased_by, access_id)
                     VALUES ($1, NULL, $2, $3, $4)",
                    &[&t, &time, &actor, &access_id],
                )
                .await?;
                tx.append(&prepared)
            })
        })
        .await
    }

    /// Apply an erasure from the journal (after a restore): destroy the key again if it is
    /// back. Whether anything had to be done.
    async fn vault_replay_erasure(&self, e: &ErasureRecord) -> Result<bool> {
        let e = e.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let t = e.tenant.as_str();
                let idx: Option<[u8; 32]> = match &e.subject_index {
                    Some(hex_idx) => Some(
                        hex::decode(hex_idx)
                            .ok()
                            .and_then(|v| v.try_into().ok())
                            .ok_or_else(|| db_err("erasure journal holds a malformed subject index"))?,
                    ),
                    None => None,
                };
                let changed = match &idx {
                    Some(idx) => erase_subject_rows(c, t, idx).await?.is_some(),
                    None => erase_tenant_key(c, t).await?,
                };
                let seen = query_opt(
                    c,
                    "SELECT EXISTS (SELECT 1 FROM vault_erasures WHERE access_id = $1),
                            EXISTS (SELECT 1 FROM customers WHERE id = $2)",
                    &[&e.access_id, &t],
                )
                .await?
                .ok_or_else(|| db_err("EXISTS returned no row"))?;
                let (known, customer_known): (bool, bool) = (col(&seen, 0)?, col(&seen, 1)?);
                if !known && customer_known {
                    let erased_at = micros(e.erased_at);
                    let purged = idx.map(|_| erased_at);
                    execute(
                        c,
                        "INSERT INTO vault_erasures (tenant, subject_index, erased_at, erased_by, access_id, purged_at)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                        &[
                            &t,
                            &idx.as_ref().map(|i| i.as_slice()),
                            &erased_at,
                            &e.erased_by,
                            &e.access_id,
                            &purged,
                        ],
                    )
                    .await?;
                }
                Ok(changed)
            })
        })
        .await
    }

    /// Remove up to `limit` sealed rows of erased customers; their keys are gone already.
    async fn vault_purge(&self, limit: usize, at: Timestamp) -> Result<PurgeProgress> {
        let limit = limit_of(limit);
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let pending = query(
                    c,
                    "SELECT id, tenant FROM vault_erasures WHERE purged_at IS NULL ORDER BY id",
                    &[],
                )
                .await?;
                let mut removed = 0u64;
                for row in &pending {
                    let (id, tenant): (i64, &str) = (col(row, 0)?, col(row, 1)?);
                    let budget = limit.saturating_sub(signed(removed)?);
                    if budget <= 0 {
                        return Ok(PurgeProgress { removed, done: false });
                    }
                    // The budget is shared by the three tables: a step removes at most `limit`
                    // rows in all, not `limit` of each.
                    let mut step = 0u64;
                    for sql in [
                        "DELETE FROM vault_blind WHERE (tenant, digest, record) IN
                             (SELECT tenant, digest, record FROM vault_blind WHERE tenant = $1 LIMIT $2)",
                        "DELETE FROM vault_records WHERE (tenant, id) IN
                             (SELECT tenant, id FROM vault_records WHERE tenant = $1 LIMIT $2)",
                        "DELETE FROM vault_subjects WHERE id IN
                             (SELECT id FROM vault_subjects WHERE tenant = $1 LIMIT $2)",
                    ] {
                        let left = budget.saturating_sub(signed(step)?);
                        if left <= 0 {
                            break;
                        }
                        step += execute(c, sql, &[&tenant, &left]).await?;
                    }
                    removed += step;
                    if step == 0 {
                        execute(c, "DELETE FROM vault_collections WHERE tenant = $1", &[&tenant]).await?;
                        execute(
                            c,
                            "UPDATE vault_erasures SET purged_at = $1 WHERE id = $2",
                            &[&micros(at), &id],
                        )
                        .await?;
                    }
                }
                Ok(PurgeProgress {
                    removed,
                    done: removed == 0,
                })
            })
        })
        .await
    }

    /// Records whose blind indexes are older than [`BLIND_VERSION`], of customers whose key
    /// is kept, in (customer, id) order after `after`; found by the partial index
    /// `vault_records_blind_stale`.
    async fn vault_stale_blind(
        &self,
        after: Option<(&CustomerId, &str)>,
        limit: usize,
    ) -> Result<Vec<(CustomerId, VaultRecordRow)>> {
        let (after_tenant, after_id) = after.map(|(t, id)| (t.as_str(), id)).unwrap_or(("", ""));
        // `< 3` spelled as in the partial index's WHERE (BLIND_VERSION), so the planner uses it.
        self.rows(
            &format!(
                "SELECT {RECORD_COLS}, r.tenant FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                 WHERE r.blind_version < 3 AND (r.tenant, r.id) > ($1::text, $2::text)
                   AND EXISTS (SELECT 1 FROM vault_tenant_keys k WHERE k.tenant = r.tenant)
                 ORDER BY r.tenant, r.id LIMIT $3"
            ),
            &[&after_tenant, &after_id, &limit_of(limit)],
            |r| Ok((parse(col::<&str>(r, 8)?)?, record_row(r)?)),
        )
        .await
    }

    /// Replace stale blind indexes of one customer's records, each if the record is still at
    /// the version read and still stale, with the job's access entry, in one write job.
    async fn vault_reindex_blind(
        &self,
        tenant: &CustomerId,
        changes: Vec<BlindChange>,
        entry: &AccessEntry,
    ) -> Result<u64> {
        let (tenant, entry) = (tenant.clone(), Prepared::new(entry));
        self.write(move |tx| {
            Box::pin(async move {
                let done = reindex(tx.c(), tenant.as_str(), &changes).await?;
                tx.append(&entry)?;
                Ok(done)
            })
        })
        .await
    }

    async fn place_legal_hold(
        &self,
        tenant: &CustomerId,
        subject: Option<[u8; 32]>,
        reason: &str,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<LegalHoldRecord> {
        let (tenant, reason, by) = (tenant.clone(), reason.to_string(), by.to_string());
        let (time, prepared) = (micros(entry.time), Prepared::new(entry));
        self.write(move |tx| {
            Box::pin(async move {
                let row = query_opt(
                    tx.c(),
                    &format!(
                        "INSERT INTO vault_legal_holds (tenant, subject_index, reason, placed_by, placed_at)
                         VALUES ($1, $2, $3, $4, $5) RETURNING {HOLD_COLS}"
                    ),
                    &[
                        &tenant.as_str(),
                        &subject.as_ref().map(|s| s.as_slice()),
                        &reason,
                        &by,
                        &time,
                    ],
                )
                .await?
                .ok_or_else(|| db_err("an insert returned no row"))?;
                let hold = hold_row(&row)?;
                tx.append(&prepared)?;
                Ok(hold)
            })
        })
        .await
    }

    async fn lift_legal_hold(&self, tenant: &CustomerId, id: u64, entry: &AccessEntry) -> Result<()> {
        let (tenant, prepared) = (tenant.clone(), Prepared::new(entry));
        let (actor, time) = (entry.actor.id.clone(), micros(entry.time));
        self.write(move |tx| {
            Box::pin(async move {
                // An id beyond BIGINT is no hold.
                let n = match i64::try_from(id) {
                    Ok(hold) => {
                        execute(
                            tx.c(),
                            "UPDATE vault_legal_holds SET lifted_by = $1, lifted_at = $2
                             WHERE id = $3 AND tenant = $4 AND lifted_at IS NULL",
                            &[&actor, &time, &hold, &tenant.as_str()],
                        )
                        .await?
                    }
                    Err(_) => 0,
                };
                if n == 0 {
                    return Err(Error::new(
                        ErrorCode::LegalHoldNotFound,
                        format!("there is no live legal hold {id}"),
                    ));
                }
                tx.append(&prepared)?;
                Ok(())
            })
        })
        .await
    }

    async fn legal_holds(&self, tenant: &CustomerId) -> Result<Vec<LegalHoldRecord>> {
        self.rows(
            &format!("SELECT {HOLD_COLS} FROM vault_legal_holds WHERE tenant = $1 ORDER BY id"),
            &[&tenant.as_str()],
            hold_row,
        )
        .await
    }

    async fn erasures(&self, tenant: Option<&CustomerId>) -> Result<Vec<ErasureRecord>> {
        self.rows(
            "SELECT tenant, subject_index, erased_at, erased_by, access_id FROM vault_erasures
             WHERE $1::text IS NULL OR tenant = $1 ORDER BY id",
            &[&tenant.map(|t| t.as_str())],
            erasure_row,
        )
        .await
    }

    async fn record_recovery(&self, r: &RecoveryRecord) -> Result<()> {
        let r = r.clone();
        self.write(move |tx| {
            Box::pin(async move {
                execute(
                    tx.c(),
                    "INSERT INTO recoveries (started_at, responsible, backup, backup_sha256, erasures_replayed, manual_steps, outcome)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &micros(r.started_at),
                        &r.responsible,
                        &r.backup,
                        &r.backup_sha256,
                        &signed(r.erasures_replayed)?,
                        &r.manual_steps,
                        &r.outcome,
                    ],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn recoveries(&self) -> Result<Vec<RecoveryRecord>> {
        self.rows(
            "SELECT started_at, responsible, backup, backup_sha256, erasures_replayed, manual_steps, outcome
             FROM recoveries ORDER BY id",
            &[],
            recovery_row,
        )
        .await
    }
}
