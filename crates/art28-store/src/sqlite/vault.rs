//! The vault in SQLite: sealed records, the key rows that open them, blind indexes, legal
//! holds and erasures.
//!
//! The store never sees a plaintext value or an unwrapped key: records arrive sealed and keys
//! wrapped. Every operation appends its access entry in the same transaction as its change; an
//! operation whose precondition fails (no such record, a version that moved on, a legal hold)
//! writes nothing, not even its entry, and returns the error: the service logs the refusal.

use super::agreements::{META_COLS, customer_row, meta_row};
use super::log;
use super::{SqliteStore, db_err, from_micros, is_unique_violation, micros};
use crate::VaultStore;
use crate::model::*;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::vault::CollectionDef;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

fn hash32(v: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    v.try_into()
        .map_err(|_| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, "not 32 bytes".into()))
}

fn collection_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCollection> {
    let def: String = r.get(0)?;
    Ok(StoredCollection {
        def: serde_json::from_str(&def)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))?,
        created_at: from_micros(r.get(1)?)?,
        created_by: r.get(2)?,
    })
}

const RECORD_COLS: &str =
    "r.id, r.collection, r.subject, s.wrapped_key, r.version, r.sealed, r.created_at, r.updated_at";

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VaultRecordRow> {
    Ok(VaultRecordRow {
        id: r.get(0)?,
        collection: r.get(1)?,
        subject: r.get::<_, i64>(2)? as u64,
        subject_key: r.get(3)?,
        version: r.get::<_, i64>(4)? as u64,
        sealed: r.get(5)?,
        created_at: from_micros(r.get(6)?)?,
        updated_at: from_micros(r.get(7)?)?,
    })
}

fn hold_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LegalHoldRecord> {
    let tenant: String = r.get(1)?;
    Ok(LegalHoldRecord {
        id: r.get::<_, i64>(0)? as u64,
        tenant: tenant
            .parse()
            .map_err(|_| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, "tenant".into()))?,
        subject_index: r.get::<_, Option<Vec<u8>>>(2)?.map(hash32).transpose()?,
        reason: r.get(3)?,
        placed_by: r.get(4)?,
        placed_at: from_micros(r.get(5)?)?,
        lifted_by: r.get(6)?,
        lifted_at: r.get::<_, Option<i64>>(7)?.map(from_micros).transpose()?,
    })
}

/// The live hold that keeps this subject (or the whole customer) from erasure, if any.
fn live_hold(conn: &Connection, tenant: &str, subject: Option<&[u8; 32]>) -> Result<Option<LegalHoldRecord>> {
    let sql = "SELECT id, tenant, subject_index, reason, placed_by, placed_at, lifted_by, lifted_at
               FROM vault_legal_holds
               WHERE tenant = ?1 AND lifted_at IS NULL AND (subject_index IS NULL OR subject_index = ?2)
               ORDER BY id LIMIT 1";
    let any: Option<Vec<u8>> = subject.map(|s| s.to_vec());
    if subject.is_some() {
        conn.query_row(sql, params![tenant, any], hold_row)
            .optional()
            .map_err(db_err)
    } else {
        // A whole-customer erasure is held by any live hold of the customer.
        conn.query_row(
            "SELECT id, tenant, subject_index, reason, placed_by, placed_at, lifted_by, lifted_at
             FROM vault_legal_holds WHERE tenant = ?1 AND lifted_at IS NULL ORDER BY id LIMIT 1",
            params![tenant],
            hold_row,
        )
        .optional()
        .map_err(db_err)
    }
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

fn insert_blind(conn: &Connection, tenant: &str, record: &str, blind: &[[u8; 32]]) -> Result<()> {
    let mut st = conn
        .prepare_cached("INSERT OR IGNORE INTO vault_blind (tenant, digest, record) VALUES (?1, ?2, ?3)")
        .map_err(db_err)?;
    for d in blind {
        st.execute(params![tenant, d.as_slice(), record]).map_err(db_err)?;
    }
    Ok(())
}

/// Remove a record's blind indexes (the digests it keeps in its own row).
fn delete_blind(conn: &Connection, tenant: &str, record: &str) -> Result<()> {
    let digests: Option<Vec<u8>> = conn
        .prepare_cached("SELECT blind FROM vault_records WHERE tenant = ?1 AND id = ?2")
        .and_then(|mut st| st.query_row(params![tenant, record], |r| r.get(0)).optional())
        .map_err(db_err)?;
    let mut st = conn
        .prepare_cached("DELETE FROM vault_blind WHERE tenant = ?1 AND digest = ?2 AND record = ?3")
        .map_err(db_err)?;
    for d in digests.unwrap_or_default().chunks_exact(32) {
        st.execute(params![tenant, d, record]).map_err(db_err)?;
    }
    Ok(())
}

fn concat(blind: &[[u8; 32]]) -> Vec<u8> {
    blind.iter().flatten().copied().collect()
}

fn insert_record(conn: &Connection, tenant: &str, r: &NewVaultRecord, at: i64) -> Result<()> {
    let subject: i64 = match &r.subject {
        SubjectRef::Existing(id) => {
            // Read as known, but erased (or not this customer's) by the time of the write: a
            // record under it could never be opened, and would outlive the erasure.
            let known = conn
                .prepare_cached("SELECT 1 FROM vault_subjects WHERE id = ?1 AND tenant = ?2")
                .and_then(|mut st| st.exists(params![*id as i64, tenant]))
                .map_err(db_err)?;
            if !known {
                return Err(Error::new(
                    ErrorCode::RecordVersionConflict,
                    "the data subject changed since it was read; try again",
                ));
            }
            *id as i64
        }
        SubjectRef::New(s) => {
            // The same new subject named again in one import: the row added first is its.
            let existing: Option<(i64, Vec<u8>)> = conn
                .prepare_cached("SELECT id, wrapped_key FROM vault_subjects WHERE tenant = ?1 AND ref_index = ?2")
                .and_then(|mut st| {
                    st.query_row(params![tenant, s.ref_index.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(db_err)?;
            if let Some((id, wrapped)) = existing
                && wrapped == s.wrapped_key
            {
                return insert_record_as(conn, tenant, r, id, at);
            }
            let res = conn
                .prepare_cached("INSERT INTO vault_subjects (tenant, ref_index, wrapped_key) VALUES (?1, ?2, ?3)")
                .and_then(|mut st| st.execute(params![tenant, s.ref_index.as_slice(), s.wrapped_key]));
            match res {
                Err(e) if is_unique_violation(&e) => {
                    return Err(Error::new(
                        ErrorCode::RecordVersionConflict,
                        "the data subject was added by another request at the same time; try again",
                    ));
                }
                Err(e) => return Err(db_err(e)),
                Ok(_) => conn.last_insert_rowid(),
            }
        }
    };
    insert_record_as(conn, tenant, r, subject, at)
}

fn insert_record_as(conn: &Connection, tenant: &str, r: &NewVaultRecord, subject: i64, at: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO vault_records (tenant, id, collection, subject, version, sealed, blind, blind_version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            tenant,
            r.id,
            r.collection,
            subject,
            r.sealed,
            concat(&r.blind),
            BLIND_VERSION,
            at
        ])
    })
    .map_err(db_err)?;
    insert_blind(conn, tenant, &r.id, &r.blind)
}

fn collection_exists(conn: &Connection, tenant: &str, name: &str) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM vault_collections WHERE tenant = ?1 AND name = ?2")
        .and_then(|mut st| st.exists(params![tenant, name]))
        .map_err(db_err)
}

/// Up to this many subjects, the vault's context is a point read (see `read_now`).
const POINT_READ_SUBJECTS: usize = 16;

#[async_trait::async_trait]
impl VaultStore for SqliteStore {
    async fn vault_reach(
        &self,
        tenant: &CustomerId,
        records: &[(String, String)],
        collections: &[String],
    ) -> Result<VaultReach> {
        let (tenant, records, collections) = (tenant.as_str().to_string(), records.to_vec(), collections.to_vec());
        self.read(move |c| {
            c.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS reach (collection TEXT NOT NULL, id TEXT); DELETE FROM reach;",
            )
            .map_err(db_err)?;
            {
                let mut ins = c
                    .prepare_cached("INSERT INTO reach (collection, id) VALUES (?1, ?2)")
                    .map_err(db_err)?;
                for (coll, id) in &records {
                    ins.execute(params![coll, id]).map_err(db_err)?;
                }
                for coll in &collections {
                    ins.execute(params![coll, Option::<String>::None]).map_err(db_err)?;
                }
            }
            let reach = c
                .query_row(
                    "SELECT COUNT(DISTINCT r.id), COUNT(DISTINCT r.subject) FROM vault_records r
                     WHERE r.tenant = ?1 AND EXISTS (
                        SELECT 1 FROM reach x WHERE x.collection = r.collection AND (x.id IS NULL OR x.id = r.id))",
                    [&tenant],
                    |r| {
                        Ok(VaultReach {
                            records: r.get::<_, i64>(0)? as u64,
                            subjects: r.get::<_, i64>(1)? as u64,
                        })
                    },
                )
                .map_err(db_err)?;
            c.execute_batch("DELETE FROM reach").map_err(db_err)?;
            Ok(reach)
        })
        .await
    }

    async fn vault_context(&self, tenant: &CustomerId, q: ContextQuery) -> Result<VaultContext> {
        let tenant = tenant.clone();
        let many = q.subjects.len() > POINT_READ_SUBJECTS;
        let read = move |c: &Connection| {
            let t = tenant.as_str();
            let customer = c
                .prepare_cached(
                    "SELECT id, name, language, status, created_at, created_by FROM customers WHERE id = ?1",
                )
                .and_then(|mut st| st.query_row([t], customer_row).optional())
                .map_err(db_err)?;
            let agreement = match q.on {
                None => None,
                Some(on) => c
                    .prepare_cached(&format!(
                        "SELECT {META_COLS} FROM agreement_versions
                         WHERE customer_id = ?1 AND effective_from <= ?2
                         ORDER BY effective_from DESC, version DESC LIMIT 1"
                    ))
                    .and_then(|mut st| st.query_row(params![t, on.to_string()], meta_row).optional())
                    .map_err(db_err)?,
            };
            let tenant_key = c
                .prepare_cached("SELECT master_key_id, wrapped FROM vault_tenant_keys WHERE tenant = ?1")
                .and_then(|mut st| {
                    st.query_row([t], |r| {
                        Ok(TenantKeyRow {
                            master_key_id: r.get(0)?,
                            wrapped: r.get(1)?,
                        })
                    })
                    .optional()
                })
                .map_err(db_err)?;
            let collection = match &q.collection {
                None => None,
                Some(name) => c
                    .prepare_cached(
                        "SELECT definition, created_at, created_by FROM vault_collections WHERE tenant = ?1 AND name = ?2",
                    )
                    .and_then(|mut st| st.query_row(params![t, name], collection_row).optional())
                    .map_err(db_err)?,
            };
            let mut subjects = std::collections::HashMap::new();
            if !q.subjects.is_empty() {
                let mut st = c
                    .prepare_cached("SELECT id, wrapped_key FROM vault_subjects WHERE tenant = ?1 AND ref_index = ?2")
                    .map_err(db_err)?;
                for idx in &q.subjects {
                    let row = st
                        .query_row(params![t, idx.as_slice()], |r| {
                            Ok(SubjectRow {
                                id: r.get::<_, i64>(0)? as u64,
                                wrapped_key: r.get(1)?,
                            })
                        })
                        .optional()
                        .map_err(db_err)?;
                    if let Some(row) = row {
                        subjects.insert(*idx, row);
                    }
                }
            }
            let record = match &q.record {
                None => None,
                Some(id) => c
                    .prepare_cached(&format!(
                        "SELECT {RECORD_COLS} FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                         WHERE r.tenant = ?1 AND r.id = ?2"
                    ))
                    .and_then(|mut st| st.query_row(params![t, id], record_row).optional())
                    .map_err(db_err)?,
            };
            Ok(VaultContext {
                customer,
                agreement,
                tenant_key,
                collection,
                subjects,
                record,
            })
        };
        // A few probes by key, on every vault operation: on the calling thread. An import's
        // thousands of subjects go to the blocking pool.
        if many {
            self.read(read).await
        } else {
            self.read_now(read).await
        }
    }

    async fn put_tenant_key(&self, tenant: &CustomerId, key: &TenantKeyRow, at: Timestamp) -> Result<TenantKeyRow> {
        let (tenant, key) = (tenant.clone(), key.clone());
        self.write(move |c| {
            let status: Option<String> = c
                .query_row("SELECT status FROM customers WHERE id = ?1", [tenant.as_str()], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            match status.as_deref() {
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
            c.execute(
                "INSERT OR IGNORE INTO vault_tenant_keys (tenant, master_key_id, wrapped, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![tenant.as_str(), key.master_key_id, key.wrapped, micros(at)],
            )
            .map_err(db_err)?;
            c.query_row(
                "SELECT master_key_id, wrapped FROM vault_tenant_keys WHERE tenant = ?1",
                [tenant.as_str()],
                |r| {
                    Ok(TenantKeyRow {
                        master_key_id: r.get(0)?,
                        wrapped: r.get(1)?,
                    })
                },
            )
            .map_err(db_err)
        })
        .await
    }

    async fn tenant_keys(&self) -> Result<Vec<(CustomerId, TenantKeyRow)>> {
        self.read(|c| {
            let mut st = c
                .prepare("SELECT tenant, master_key_id, wrapped FROM vault_tenant_keys ORDER BY tenant")
                .map_err(db_err)?;
            let rows = st
                .query_map([], |r| {
                    let t: String = r.get(0)?;
                    Ok((
                        t,
                        TenantKeyRow {
                            master_key_id: r.get(1)?,
                            wrapped: r.get(2)?,
                        },
                    ))
                })
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            rows.into_iter()
                .map(|(t, k)| Ok((t.parse::<CustomerId>()?, k)))
                .collect()
        })
        .await
    }

    async fn rewrap_tenant_key(&self, tenant: &CustomerId, old: &TenantKeyRow, new: &TenantKeyRow) -> Result<bool> {
        let (tenant, old, new) = (tenant.clone(), old.clone(), new.clone());
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE vault_tenant_keys SET master_key_id = ?1, wrapped = ?2
                     WHERE tenant = ?3 AND master_key_id = ?4 AND wrapped = ?5",
                    params![
                        new.master_key_id,
                        new.wrapped,
                        tenant.as_str(),
                        old.master_key_id,
                        old.wrapped
                    ],
                )
                .map_err(db_err)?;
            Ok(n == 1)
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
        let (tenant, def, by, entry) = (tenant.clone(), def.clone(), by.to_string(), entry.clone());
        let json = serde_json::to_string(&def).map_err(db_err)?;
        let (value, receipt) = self
            .write(move |c| {
                if collection_exists(c, tenant.as_str(), &def.name)? {
                    return Err(Error::new(
                            ErrorCode::CollectionExists,
                            format!("collection `{}` exists already", def.name),
                        ),
                    );
                }
                c.execute(
                    "INSERT INTO vault_collections (tenant, name, definition, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![tenant.as_str(), def.name, json, micros(at), by],
                )
                .map_err(db_err)?;
                let receipt = log::append(c, &log::Prepared::new(&entry))?;
                Ok(((), receipt))
            })
            .await?;
        let () = value;
        Ok(receipt)
    }

    async fn collections(&self, tenant: &CustomerId) -> Result<Vec<StoredCollection>> {
        let tenant = tenant.clone();
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT definition, created_at, created_by FROM vault_collections WHERE tenant = ?1 ORDER BY name",
                )
                .map_err(db_err)?;
            st.query_map([tenant.as_str()], collection_row)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)
        })
        .await
    }

    async fn vault_create(
        &self,
        tenant: &CustomerId,
        records: Vec<NewVaultRecord>,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        let (tenant, entry) = (tenant.clone(), log::Prepared::new(entry));
        self.write(move |c| {
            for r in &records {
                insert_record(c, tenant.as_str(), r, micros(at))?;
            }
            log::append(c, &entry)
        })
        .await
    }

    /// Read one record and log the read in one transaction; no such record (in this
    /// collection) is logged as refused with `record_not_found`.
    async fn vault_read(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<(VaultRecordRow, LogReceipt)> {
        let (tenant, collection, id, entry) = (tenant.clone(), collection.to_string(), id.to_string(), entry.clone());
        let (value, receipt) = self
            .write(move |c| {
                let row = c
                    .prepare_cached(&format!(
                        "SELECT {RECORD_COLS} FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                         WHERE r.tenant = ?1 AND r.id = ?2 AND r.collection = ?3"
                    ))
                    .and_then(|mut st| {
                        st.query_row(params![tenant.as_str(), id, collection], record_row)
                            .optional()
                    })
                    .map_err(db_err)?;
                match row {
                    None => Err(not_found(&collection, &id)),
                    Some(row) => {
                        let receipt = log::append(c, &log::Prepared::new(&entry))?;
                        Ok((row, receipt))
                    }
                }
            })
            .await?;
        Ok((value, receipt))
    }

    /// Replace a record's sealed values if it is still at `version`.
    async fn vault_update(
        &self,
        tenant: &CustomerId,
        change: RecordChange,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)> {
        let (tenant, entry) = (tenant.clone(), entry.clone());
        let (value, receipt) = self
            .write(move |c| {
                let t = tenant.as_str();
                let current: Option<i64> = c
                    .prepare_cached(
                        "SELECT version FROM vault_records WHERE tenant = ?1 AND id = ?2 AND collection = ?3",
                    )
                    .and_then(|mut st| {
                        st.query_row(params![t, change.id, change.collection], |r| r.get(0))
                            .optional()
                    })
                    .map_err(db_err)?;
                let Some(current) = current else {
                    return Err(not_found(&change.collection, &change.id));
                };
                if current as u64 != change.version {
                    return Err(Error::new(
                        ErrorCode::RecordVersionConflict,
                        format!(
                            "record `{}` is at version {current}, not {}; read it again",
                            change.id, change.version
                        ),
                    ));
                }
                delete_blind(c, t, &change.id)?;
                c.prepare_cached(
                    "UPDATE vault_records SET sealed = ?1, blind = ?2, blind_version = ?3, version = version + 1, updated_at = ?4
                     WHERE tenant = ?5 AND id = ?6",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        change.sealed,
                        concat(&change.blind),
                        BLIND_VERSION,
                        micros(at),
                        t,
                        change.id
                    ])
                })
                .map_err(db_err)?;
                insert_blind(c, t, &change.id, &change.blind)?;
                let receipt = log::append(c, &log::Prepared::new(&entry))?;
                Ok((current as u64 + 1, receipt))
            })
            .await?;
        Ok((value, receipt))
    }

    async fn vault_delete(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        let (tenant, collection, id, entry) = (tenant.clone(), collection.to_string(), id.to_string(), entry.clone());
        let (value, receipt) = self
            .write(move |c| {
                let exists = c
                    .prepare_cached("SELECT 1 FROM vault_records WHERE tenant = ?1 AND id = ?2 AND collection = ?3")
                    .and_then(|mut st| st.exists(params![tenant.as_str(), id, collection]))
                    .map_err(db_err)?;
                if !exists {
                    return Err(not_found(&collection, &id));
                }
                delete_blind(c, tenant.as_str(), &id)?;
                c.prepare_cached("DELETE FROM vault_records WHERE tenant = ?1 AND id = ?2")
                    .and_then(|mut st| st.execute(params![tenant.as_str(), id]))
                    .map_err(db_err)?;
                let receipt = log::append(c, &log::Prepared::new(&entry))?;
                Ok(((), receipt))
            })
            .await?;
        let () = value;
        Ok(receipt)
    }

    /// All records of a subject, with the read logged in the same transaction.
    async fn vault_query(
        &self,
        tenant: &CustomerId,
        key: QueryKey,
        entry: &AccessEntry,
    ) -> Result<(Vec<VaultRecordRow>, LogReceipt)> {
        let (tenant, entry) = (tenant.clone(), log::Prepared::new(entry));
        self.write(move |c| {
            let t = tenant.as_str();
            let rows = match key {
                QueryKey::Subject(idx) => c
                    .prepare_cached(&format!(
                        "SELECT {RECORD_COLS} FROM vault_subjects s JOIN vault_records r ON r.subject = s.id
                         WHERE s.tenant = ?1 AND s.ref_index = ?2 ORDER BY r.id"
                    ))
                    .and_then(|mut st| {
                        st.query_map(params![t, idx.as_slice()], record_row)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    }),
                QueryKey::Identifier(d) => c
                    .prepare_cached(&format!(
                        // CROSS JOIN keeps the digest's index as the outer loop; left to
                        // itself the planner walks the tenant's records in id order instead.
                        "SELECT {RECORD_COLS} FROM vault_blind b
                         CROSS JOIN vault_records r ON r.tenant = b.tenant AND r.id = b.record
                         CROSS JOIN vault_subjects s ON s.id = r.subject
                         WHERE b.tenant = ?1 AND b.digest = ?2 ORDER BY r.id"
                    ))
                    .and_then(|mut st| {
                        st.query_map(params![t, d.as_slice()], record_row)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    }),
            }
            .map_err(db_err)?;
            let receipt = log::append(c, &entry)?;
            Ok((rows, receipt))
        })
        .await
    }

    /// A page of a collection's records, with the read logged in the same transaction.
    async fn vault_list(
        &self,
        tenant: &CustomerId,
        collection: Option<&str>,
        after: &str,
        limit: usize,
        entry: Option<&AccessEntry>,
    ) -> Result<(Vec<VaultRecordRow>, Option<LogReceipt>)> {
        let (tenant, collection, after) = (tenant.clone(), collection.map(str::to_string), after.to_string());
        let entry = entry.map(log::Prepared::new);
        let limit = limit as i64;
        let query = move |c: &Connection| -> Result<Vec<VaultRecordRow>> {
            let t = tenant.as_str();
            match &collection {
                Some(coll) => c
                    .prepare_cached(&format!(
                        "SELECT {RECORD_COLS} FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                         WHERE r.tenant = ?1 AND r.collection = ?2 AND r.id > ?3 ORDER BY r.id LIMIT ?4"
                    ))
                    .and_then(|mut st| {
                        st.query_map(params![t, coll, after, limit], record_row)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    }),
                None => c
                    .prepare_cached(&format!(
                        "SELECT {RECORD_COLS} FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                         WHERE r.tenant = ?1 AND r.id > ?2 ORDER BY r.id LIMIT ?3"
                    ))
                    .and_then(|mut st| {
                        st.query_map(params![t, after, limit], record_row)?
                            .collect::<rusqlite::Result<Vec<_>>>()
                    }),
            }
            .map_err(db_err)
        };
        match entry {
            Some(entry) => {
                self.write(move |c| {
                    let rows = query(c)?;
                    let receipt = log::append(c, &entry)?;
                    Ok((rows, Some(receipt)))
                })
                .await
            }
            None => self.read(move |c| Ok((query(c)?, None))).await,
        }
    }

    async fn vault_erase_subject(
        &self,
        tenant: &CustomerId,
        subject: [u8; 32],
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)> {
        let (tenant, entry) = (tenant.clone(), entry.clone());
        let (value, receipt) = self
            .write(move |c| {
                let t = tenant.as_str();
                if let Some(h) = live_hold(c, t, Some(&subject))? {
                    return Err(hold_error(&h));
                }
                let n = erase_subject_rows(c, t, &subject)?;
                if n.is_none() {
                    return Err(Error::new(
                        ErrorCode::RecordNotFound,
                        "no data is kept about this data subject",
                    ));
                }
                c.execute(
                    "INSERT INTO vault_erasures (tenant, subject_index, erased_at, erased_by, access_id, purged_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?3)",
                    params![
                        t,
                        subject.as_slice(),
                        micros(entry.time),
                        entry.actor.id,
                        entry.access_id
                    ],
                )
                .map_err(db_err)?;
                let receipt = log::append(c, &log::Prepared::new(&entry))?;
                Ok((n.unwrap_or(0), receipt))
            })
            .await?;
        Ok((value, receipt))
    }

    async fn vault_erase_tenant(&self, tenant: &CustomerId, entry: &AccessEntry) -> Result<LogReceipt> {
        let (tenant, entry) = (tenant.clone(), entry.clone());
        let (value, receipt) = self
            .write(move |c| {
                let t = tenant.as_str();
                if let Some(h) = live_hold(c, t, None)? {
                    return Err(hold_error(&h));
                }
                erase_tenant_key(c, t)?;
                c.execute(
                    "INSERT INTO vault_erasures (tenant, subject_index, erased_at, erased_by, access_id) VALUES (?1, NULL, ?2, ?3, ?4)",
                    params![t, micros(entry.time), entry.actor.id, entry.access_id],
                )
                .map_err(db_err)?;
                let receipt = log::append(c, &log::Prepared::new(&entry))?;
                Ok(((), receipt))
            })
            .await?;
        let () = value;
        Ok(receipt)
    }

    /// Apply an erasure from the journal (after a restore): destroy the key again if it is
    /// back. Whether anything had to be done.
    async fn vault_replay_erasure(&self, e: &ErasureRecord) -> Result<bool> {
        let e = e.clone();
        self.write(move |c| {
            let t = e.tenant.as_str();
            let changed = match &e.subject_index {
                Some(hex_idx) => {
                    let idx: [u8; 32] = hex::decode(hex_idx)
                        .ok()
                        .and_then(|v| v.try_into().ok())
                        .ok_or_else(|| db_err("erasure journal holds a malformed subject index"))?;
                    erase_subject_rows(c, t, &idx)?.is_some()
                }
                None => erase_tenant_key(c, t)?,
            };
            let known: bool = c
                .prepare_cached("SELECT 1 FROM vault_erasures WHERE access_id = ?1")
                .and_then(|mut st| st.exists([e.access_id.as_str()]))
                .map_err(db_err)?;
            let customer_known: bool = c
                .prepare_cached("SELECT 1 FROM customers WHERE id = ?1")
                .and_then(|mut st| st.exists([t]))
                .map_err(db_err)?;
            if !known && customer_known {
                let idx = match &e.subject_index {
                    Some(h) => hex::decode(h).ok(),
                    None => None,
                };
                let purged = e.subject_index.as_ref().map(|_| micros(e.erased_at));
                c.execute(
                    "INSERT INTO vault_erasures (tenant, subject_index, erased_at, erased_by, access_id, purged_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![t, idx, micros(e.erased_at), e.erased_by, e.access_id, purged],
                )
                .map_err(db_err)?;
            }
            Ok(changed)
        })
        .await
    }

    /// Remove up to `limit` sealed rows of erased customers; their keys are gone already.
    async fn vault_purge(&self, limit: usize, at: Timestamp) -> Result<PurgeProgress> {
        let limit = limit as i64;
        self.write(move |c| {
            let pending: Vec<(i64, String)> = c
                .prepare_cached("SELECT id, tenant FROM vault_erasures WHERE purged_at IS NULL ORDER BY id")
                .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .map_err(db_err)?;
            let mut removed = 0u64;
            for (id, tenant) in &pending {
                let budget = limit - removed as i64;
                if budget <= 0 {
                    return Ok(PurgeProgress { removed, done: false });
                }
                // The budget is shared by the three tables: a step removes at most `limit`
                // rows in all, not `limit` of each.
                let mut step = 0u64;
                for sql in [
                    "DELETE FROM vault_blind WHERE (tenant, digest, record) IN (SELECT tenant, digest, record FROM vault_blind WHERE tenant = ?1 LIMIT ?2)",
                    "DELETE FROM vault_records WHERE (tenant, id) IN (SELECT tenant, id FROM vault_records WHERE tenant = ?1 LIMIT ?2)",
                    "DELETE FROM vault_subjects WHERE id IN (SELECT id FROM vault_subjects WHERE tenant = ?1 LIMIT ?2)",
                ] {
                    let left = budget - step as i64;
                    if left <= 0 {
                        break;
                    }
                    step += c.execute(sql, params![tenant, left]).map_err(db_err)? as u64;
                }
                removed += step;
                if step == 0 {
                    c.execute("DELETE FROM vault_collections WHERE tenant = ?1", [tenant])
                        .map_err(db_err)?;
                    c.execute(
                        "UPDATE vault_erasures SET purged_at = ?1 WHERE id = ?2",
                        params![micros(at), id],
                    )
                    .map_err(db_err)?;
                }
            }
            Ok(PurgeProgress {
                removed,
                done: removed == 0,
            })
        })
        .await
    }

    /// Records whose blind indexes are older than [`BLIND_VERSION`], of customers whose key
    /// is kept, in (customer, id) order after `after`. Found by migration 11's partial index.
    async fn vault_stale_blind(
        &self,
        after: Option<(&CustomerId, &str)>,
        limit: usize,
    ) -> Result<Vec<(CustomerId, VaultRecordRow)>> {
        let (after_tenant, after_id) = match after {
            Some((t, id)) => (t.as_str().to_string(), id.to_string()),
            None => (String::new(), String::new()),
        };
        let limit = limit as i64;
        let rows: Vec<(String, VaultRecordRow)> = self
            .read(move |c| {
                // `< 3` spelled as in the partial index's WHERE (BLIND_VERSION), so SQLite uses it.
                c.prepare_cached(&format!(
                    "SELECT {RECORD_COLS}, r.tenant FROM vault_records r JOIN vault_subjects s ON s.id = r.subject
                     WHERE r.blind_version < 3 AND (r.tenant, r.id) > (?1, ?2)
                       AND EXISTS (SELECT 1 FROM vault_tenant_keys k WHERE k.tenant = r.tenant)
                     ORDER BY r.tenant, r.id LIMIT ?3"
                ))
                .and_then(|mut st| {
                    st.query_map(params![after_tenant, after_id, limit], |r| {
                        Ok((r.get(8)?, record_row(r)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(db_err)
            })
            .await?;
        rows.into_iter().map(|(t, row)| Ok((t.parse()?, row))).collect()
    }

    /// Replace stale blind indexes of one customer's records, each if the record is still at
    /// the version read and still stale, with the job's access entry, in one transaction.
    async fn vault_reindex_blind(
        &self,
        tenant: &CustomerId,
        changes: Vec<BlindChange>,
        entry: &AccessEntry,
    ) -> Result<u64> {
        let (tenant, entry) = (tenant.clone(), log::Prepared::new(entry));
        self.write(move |c| {
            let t = tenant.as_str();
            let mut done = 0u64;
            for ch in &changes {
                let current = c
                    .prepare_cached(
                        "SELECT 1 FROM vault_records WHERE tenant = ?1 AND id = ?2 AND version = ?3 AND blind_version < ?4",
                    )
                    .and_then(|mut st| st.exists(params![t, ch.id, ch.version as i64, BLIND_VERSION]))
                    .map_err(db_err)?;
                if !current {
                    continue;
                }
                // The old digests are found through the row's own copy: remove them first.
                delete_blind(c, t, &ch.id)?;
                c.prepare_cached("UPDATE vault_records SET blind = ?1, blind_version = ?2 WHERE tenant = ?3 AND id = ?4")
                    .and_then(|mut st| st.execute(params![concat(&ch.blind), BLIND_VERSION, t, ch.id]))
                    .map_err(db_err)?;
                insert_blind(c, t, &ch.id, &ch.blind)?;
                done += 1;
            }
            log::append(c, &entry)?;
            Ok(done)
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
        let (tenant, reason, by, entry) = (tenant.clone(), reason.to_string(), by.to_string(), entry.clone());
        self.write(move |c| {
            c.execute(
                "INSERT INTO vault_legal_holds (tenant, subject_index, reason, placed_by, placed_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![tenant.as_str(), subject.map(|s| s.to_vec()), reason, by, micros(entry.time)],
            )
            .map_err(db_err)?;
            let id = c.last_insert_rowid();
            log::append(c, &log::Prepared::new(&entry))?;
            c.query_row(
                "SELECT id, tenant, subject_index, reason, placed_by, placed_at, lifted_by, lifted_at FROM vault_legal_holds WHERE id = ?1",
                [id],
                hold_row,
            )
            .map_err(db_err)
        })
        .await
    }

    async fn lift_legal_hold(&self, tenant: &CustomerId, id: u64, entry: &AccessEntry) -> Result<()> {
        let (tenant, entry) = (tenant.clone(), entry.clone());
        let ((), _) = self
            .write(move |c| {
                let n = c
                    .execute(
                        "UPDATE vault_legal_holds SET lifted_by = ?1, lifted_at = ?2 WHERE id = ?3 AND tenant = ?4 AND lifted_at IS NULL",
                        params![entry.actor.id, micros(entry.time), id as i64, tenant.as_str()],
                    )
                    .map_err(db_err)?;
                if n == 0 {
                    return Err(Error::new(ErrorCode::LegalHoldNotFound, format!("there is no live legal hold {id}")),
                    );
                }
                let receipt = log::append(c, &log::Prepared::new(&entry))?;
                Ok(((), receipt))
            })
            .await?;
        Ok(())
    }

    async fn legal_holds(&self, tenant: &CustomerId) -> Result<Vec<LegalHoldRecord>> {
        let tenant = tenant.clone();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, tenant, subject_index, reason, placed_by, placed_at, lifted_by, lifted_at
                 FROM vault_legal_holds WHERE tenant = ?1 ORDER BY id",
            )
            .and_then(|mut st| st.query_map([tenant.as_str()], hold_row)?.collect())
            .map_err(db_err)
        })
        .await
    }

    async fn erasures(&self, tenant: Option<&CustomerId>) -> Result<Vec<ErasureRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        self.read(move |c| {
            let rows: Vec<ErasureRow> = c
                .prepare_cached(
                    "SELECT tenant, subject_index, erased_at, erased_by, access_id FROM vault_erasures
                     WHERE ?1 IS NULL OR tenant = ?1 ORDER BY id",
                )
                .and_then(|mut st| {
                    st.query_map([tenant], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect()
                })
                .map_err(db_err)?;
            rows.into_iter()
                .map(|(t, idx, at, by, access_id)| {
                    Ok(ErasureRecord {
                        tenant: t.parse()?,
                        subject_index: idx.map(hex::encode),
                        erased_at: from_micros(at).map_err(db_err)?,
                        erased_by: by,
                        access_id,
                    })
                })
                .collect()
        })
        .await
    }

    async fn record_recovery(&self, r: &RecoveryRecord) -> Result<()> {
        let r = r.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO recoveries (started_at, responsible, backup, backup_sha256, erasures_replayed, manual_steps, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    micros(r.started_at),
                    r.responsible,
                    r.backup,
                    r.backup_sha256,
                    r.erasures_replayed as i64,
                    r.manual_steps,
                    r.outcome
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn recoveries(&self) -> Result<Vec<RecoveryRecord>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT started_at, responsible, backup, backup_sha256, erasures_replayed, manual_steps, outcome
                 FROM recoveries ORDER BY id",
            )
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok(RecoveryRecord {
                        started_at: from_micros(r.get(0)?)?,
                        responsible: r.get(1)?,
                        backup: r.get(2)?,
                        backup_sha256: r.get(3)?,
                        erasures_replayed: r.get::<_, i64>(4)? as u64,
                        manual_steps: r.get(5)?,
                        outcome: r.get(6)?,
                    })
                })?
                .collect()
            })
            .map_err(db_err)
        })
        .await
    }
}

/// tenant, subject index, erased at, erased by, access id.
type ErasureRow = (String, Option<Vec<u8>>, i64, String, String);

fn not_found(collection: &str, id: &str) -> Error {
    Error::new(
        ErrorCode::RecordNotFound,
        format!(
            "collection `{collection}` has no record `{}`",
            id.chars().take(64).collect::<String>()
        ),
    )
}

/// Destroy a subject's key and remove its records and blind indexes. `None` if the subject is
/// unknown; otherwise how many records went.
fn erase_subject_rows(c: &Connection, tenant: &str, idx: &[u8; 32]) -> Result<Option<u64>> {
    let id: Option<i64> = c
        .prepare_cached("SELECT id FROM vault_subjects WHERE tenant = ?1 AND ref_index = ?2")
        .and_then(|mut st| st.query_row(params![tenant, idx.as_slice()], |r| r.get(0)).optional())
        .map_err(db_err)?;
    let Some(id) = id else { return Ok(None) };
    // The key first: from here on the records cannot be opened, whatever happens next.
    c.execute("DELETE FROM vault_subjects WHERE id = ?1", [id])
        .map_err(db_err)?;
    let records: Vec<String> = c
        .prepare_cached("SELECT id FROM vault_records WHERE subject = ?1")
        .and_then(|mut st| st.query_map([id], |r| r.get(0))?.collect())
        .map_err(db_err)?;
    for r in &records {
        delete_blind(c, tenant, r)?;
    }
    let n = c
        .execute(
            "DELETE FROM vault_records WHERE tenant = ?1 AND subject = ?2",
            params![tenant, id],
        )
        .map_err(db_err)?;
    Ok(Some(n as u64))
}

/// Destroy a customer's key and mark it erased. Whether anything changed.
fn erase_tenant_key(c: &Connection, tenant: &str) -> Result<bool> {
    let keys = c
        .execute("DELETE FROM vault_tenant_keys WHERE tenant = ?1", [tenant])
        .map_err(db_err)?;
    let status = c
        .execute(
            "UPDATE customers SET status = 'erased' WHERE id = ?1 AND status != 'erased'",
            [tenant],
        )
        .map_err(db_err)?;
    Ok(keys + status > 0)
}
