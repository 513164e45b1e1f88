//! Like jobs run together: vault imports and vault lookups that stand next to each other in a
//! batch are run in a few statements for all of them instead of a few each.
//!
//! A batch's cost is its round trips (the writer runs its jobs one after another), and the two
//! operations a processor does most are the ones a customer's application waits on: adding
//! records and looking a data subject up. Run alone, an import takes four round trips (its
//! subjects read, then the subjects, records and blind indexes added) and a lookup one. Here a
//! run of imports takes two (every subject they name read at once; then every insert, sent
//! together) and a run of lookups one, however many there are.
//!
//! The outcome is that of running the jobs one after another, in batch order:
//! - Each import is checked in Rust against the subjects read and those the imports before it
//!   add, exactly as [`super::vault`] checks one import. One that fails is answered with its
//!   error and adds nothing, not even its access entry; the others go on.
//! - Should any statement fail (two imports of one record id, say), the run's savepoint is
//!   rolled back and its jobs are run again one by one, each in its own savepoint: the writer
//!   then answers each as it would have alone.
//!
//! Every write of every node is serialised on the log's head (see [`super`]), so what the
//! first statement reads is still so when the inserts run.

use super::vault::{RECORD_COLS, insert_records, record_at};
use super::{BoxFut, Completion, Tx, Work, answer_after_commit, col, db_err, micros, work};
use crate::model::{LogReceipt, NewVaultRecord, QueryKey, SubjectRef, VaultRecordRow};
use crate::sqlite::log::Prepared;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use tokio::sync::oneshot;
use tokio_postgres::types::ToSql;

type Param<'a> = &'a (dyn ToSql + Sync);

/// A job the writer can run together with like jobs next to it.
pub(crate) enum Mergeable {
    Create(CreateJob),
    Query(QueryJob),
}

/// An import ([`crate::VaultStore::vault_create`]).
pub(crate) struct CreateJob {
    pub(crate) tenant: CustomerId,
    pub(crate) records: Vec<NewVaultRecord>,
    pub(crate) at: Timestamp,
    pub(crate) entry: Prepared,
    pub(crate) reply: oneshot::Sender<Result<LogReceipt>>,
}

/// A lookup of a subject's records ([`crate::VaultStore::vault_query`]).
pub(crate) struct QueryJob {
    pub(crate) tenant: CustomerId,
    pub(crate) key: QueryKey,
    pub(crate) entry: Prepared,
    pub(crate) reply: oneshot::Sender<Result<(Vec<VaultRecordRow>, LogReceipt)>>,
}

impl Mergeable {
    /// Whether `other` can run in one run with this job.
    pub(crate) fn same_kind(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (Self::Create(_), Self::Create(_)) | (Self::Query(_), Self::Query(_))
        )
    }

    /// The job on its own, as any other job.
    pub(crate) fn into_work(self) -> Work {
        match self {
            Self::Create(j) => {
                let CreateJob {
                    tenant,
                    records,
                    at,
                    entry,
                    reply,
                } = j;
                work(
                    move |tx: &mut Tx| -> BoxFut<'_, Result<LogReceipt>> {
                        Box::pin(async move {
                            insert_records(tx.c(), tenant.as_str(), &records, micros(at)).await?;
                            tx.append(&entry)
                        })
                    },
                    reply,
                )
            }
            Self::Query(j) => {
                let QueryJob {
                    tenant,
                    key,
                    entry,
                    reply,
                } = j;
                work(
                    move |tx: &mut Tx| -> BoxFut<'_, Result<(Vec<VaultRecordRow>, LogReceipt)>> {
                        Box::pin(async move {
                            let mut found = select(tx, &[(tenant.as_str(), key)]).await?;
                            let rows = found.pop().unwrap_or_default();
                            Ok((rows, tx.append(&entry)?))
                        })
                    },
                    reply,
                )
            }
        }
    }

    /// Fail the job with `err` (its batch is gone).
    pub(crate) fn fail(self, err: &Error) {
        match self {
            Self::Create(j) => {
                let _ = j.reply.send(Err(err.clone()));
            }
            Self::Query(j) => {
                let _ = j.reply.send(Err(err.clone()));
            }
        }
    }
}

/// Run a run of like jobs (at least one; all of one kind) in `tx`: how to answer each once the
/// batch commits, in order. An error means a statement failed: nothing of the run is to be
/// kept, and the jobs come back to be run one by one.
pub(crate) async fn run(
    tx: &mut Tx,
    jobs: Vec<Mergeable>,
) -> std::result::Result<Vec<Completion>, (Vec<Mergeable>, Error)> {
    let outcome = match jobs.first() {
        Some(Mergeable::Query(_)) => queries(tx, &jobs).await.map(Outcomes::Query),
        _ => creates(tx, &jobs).await.map(Outcomes::Create),
    };
    match outcome {
        Err(e) => Err((jobs, e)),
        Ok(outcomes) => Ok(answer(jobs, outcomes)),
    }
}

enum Outcomes {
    Create(Vec<Result<LogReceipt>>),
    Query(Vec<(Vec<VaultRecordRow>, LogReceipt)>),
}

fn answer(jobs: Vec<Mergeable>, outcomes: Outcomes) -> Vec<Completion> {
    let mut done: Vec<Completion> = Vec::with_capacity(jobs.len());
    match outcomes {
        Outcomes::Create(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                if let Mergeable::Create(j) = job {
                    done.push(match outcome {
                        Ok(receipt) => answer_after_commit(j.reply, receipt),
                        Err(e) => refused(j.reply, e),
                    });
                }
            }
        }
        Outcomes::Query(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                if let Mergeable::Query(j) = job {
                    done.push(answer_after_commit(j.reply, outcome));
                }
            }
        }
    }
    done
}

/// Answer `e` whatever the batch does.
fn refused<T: Send + 'static>(reply: oneshot::Sender<Result<T>>, e: Error) -> Completion {
    Box::new(move |_: Option<&Error>| {
        let _ = reply.send(Err(e));
    })
}

/// The records each lookup finds, in the lookups' order, each lookup's ordered by record id.
async fn select(tx: &Tx, keys: &[(&str, QueryKey)]) -> Result<Vec<Vec<VaultRecordRow>>> {
    let (mut by_subject, mut by_value): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    for (n, (_, key)) in keys.iter().enumerate() {
        match key {
            QueryKey::Subject(_) => by_subject.push(n),
            QueryKey::Identifier(_) => by_value.push(n),
        }
    }
    let args = |of: &[usize]| -> (Vec<&str>, Vec<&[u8]>, Vec<i64>) {
        let mut out = (Vec::new(), Vec::new(), Vec::new());
        for &n in of {
            if let Some((t, key)) = keys.get(n) {
                let (QueryKey::Subject(d) | QueryKey::Identifier(d)) = key;
                out.0.push(*t);
                out.1.push(d.as_slice());
                out.2.push(n as i64);
            }
        }
        out
    };
    let (s, v) = (args(&by_subject), args(&by_value));
    let c = tx.c();
    let subject_sql = format!(
        "SELECT u.n, {RECORD_COLS} FROM unnest($1::text[], $2::bytea[], $3::bigint[]) AS u (t, x, n)
         JOIN vault_subjects s ON s.tenant = u.t AND s.ref_index = u.x
         JOIN vault_records r ON r.subject = s.id
         ORDER BY u.n, r.id"
    );
    let value_sql = format!(
        "SELECT u.n, {RECORD_COLS} FROM unnest($1::text[], $2::bytea[], $3::bigint[]) AS u (t, d, n)
         JOIN vault_blind b ON b.tenant = u.t AND b.digest = u.d
         JOIN vault_records r ON r.tenant = b.tenant AND r.id = b.record
         JOIN vault_subjects s ON s.id = r.subject
         ORDER BY u.n, r.id"
    );
    // Both sent at once (pipelined).
    let (rows_s, rows_v) = tokio::join!(lookup(c, &subject_sql, &s), lookup(c, &value_sql, &v));
    let mut found: Vec<Vec<VaultRecordRow>> = (0..keys.len()).map(|_| Vec::new()).collect();
    for row in rows_s?.iter().chain(rows_v?.iter()) {
        let n: i64 = col(row, 0)?;
        let slot = usize::try_from(n)
            .ok()
            .and_then(|n| found.get_mut(n))
            .ok_or_else(|| db_err("a lookup's row came back with an unknown ordinal"))?;
        slot.push(record_at(row, 1)?);
    }
    Ok(found)
}

/// One kind of lookup for many keys: (tenants, digests, ordinals).
async fn lookup(
    c: &deadpool_postgres::ClientWrapper,
    sql: &str,
    a: &(Vec<&str>, Vec<&[u8]>, Vec<i64>),
) -> Result<Vec<tokio_postgres::Row>> {
    if a.0.is_empty() {
        return Ok(Vec::new());
    }
    let st = c.prepare_cached(sql).await.map_err(db_err)?;
    let params: [Param<'_>; 3] = [&a.0, &a.1, &a.2];
    c.query(&st, &params).await.map_err(db_err)
}

/// A run of lookups: one statement (two when both kinds of key are asked), an entry each.
async fn queries(tx: &mut Tx, jobs: &[Mergeable]) -> Result<Vec<(Vec<VaultRecordRow>, LogReceipt)>> {
    let keys: Vec<(&str, QueryKey)> = jobs
        .iter()
        .filter_map(|j| match j {
            Mergeable::Query(q) => Some((q.tenant.as_str(), q.key)),
            Mergeable::Create(_) => None,
        })
        .collect();
    let found = select(tx, &keys).await?;
    let mut out = Vec::with_capacity(jobs.len());
    for (job, rows) in jobs.iter().zip(found) {
        if let Mergeable::Query(q) = job {
            out.push((rows, tx.append(&q.entry)?));
        }
    }
    Ok(out)
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

/// Subjects by (tenant, reference index): the id of one there before the run, and its
/// wrapped key.
type ByRef = HashMap<(String, Vec<u8>), (Option<i64>, Vec<u8>)>;

/// The rows a run of imports adds, one array per column.
#[derive(Default)]
struct Rows<'a> {
    subject_tenant: Vec<&'a str>,
    subject_ref: Vec<&'a [u8]>,
    subject_key: Vec<&'a [u8]>,
    tenant: Vec<&'a str>,
    id: Vec<&'a str>,
    collection: Vec<&'a str>,
    /// The subject's id when it was there before the run, else its reference index.
    subject: Vec<Option<i64>>,
    subject_by_ref: Vec<Option<&'a [u8]>>,
    sealed: Vec<&'a [u8]>,
    blind: Vec<Vec<u8>>,
    at: Vec<i64>,
    blind_tenant: Vec<&'a str>,
    blind_digest: Vec<&'a [u8]>,
    blind_record: Vec<&'a str>,
}

/// A run of imports: every subject named read in one statement, each import checked, then the
/// subjects, records and blind indexes of those that pass inserted together.
async fn creates(tx: &mut Tx, jobs: &[Mergeable]) -> Result<Vec<Result<LogReceipt>>> {
    let creates: Vec<&CreateJob> = jobs
        .iter()
        .filter_map(|j| match j {
            Mergeable::Create(c) => Some(c),
            Mergeable::Query(_) => None,
        })
        .collect();
    // Every subject named, by id or by reference index.
    let (mut id_tenants, mut ids): (Vec<&str>, Vec<i64>) = Default::default();
    let (mut ref_tenants, mut refs): (Vec<&str>, Vec<&[u8]>) = Default::default();
    for job in &creates {
        for r in &job.records {
            match &r.subject {
                // An id beyond BIGINT cannot be stored: unknown.
                SubjectRef::Existing(id) => {
                    if let Ok(id) = i64::try_from(*id) {
                        id_tenants.push(job.tenant.as_str());
                        ids.push(id);
                    }
                }
                SubjectRef::New(s) => {
                    ref_tenants.push(job.tenant.as_str());
                    refs.push(s.ref_index.as_slice());
                }
            }
        }
    }
    let c = tx.c();
    let st = c
        .prepare_cached(
            "SELECT s.tenant, s.id, s.ref_index, s.wrapped_key
             FROM unnest($1::text[], $2::bigint[]) AS u (t, i) JOIN vault_subjects s ON s.id = u.i AND s.tenant = u.t
             UNION ALL
             SELECT s.tenant, s.id, s.ref_index, s.wrapped_key
             FROM unnest($3::text[], $4::bytea[]) AS u (t, r) JOIN vault_subjects s ON s.tenant = u.t AND s.ref_index = u.r",
        )
        .await
        .map_err(db_err)?;
    let params: [Param<'_>; 4] = [&id_tenants, &ids, &ref_tenants, &refs];
    let found = c.query(&st, &params).await.map_err(db_err)?;
    let mut known: HashSet<(String, i64)> = HashSet::new();
    // (tenant, reference index) → the subject's id when it was there before, and its key.
    let mut by_ref: ByRef = HashMap::new();
    for row in &found {
        let (tenant, id): (String, i64) = (col(row, 0)?, col(row, 1)?);
        known.insert((tenant.clone(), id));
        by_ref.insert((tenant, col(row, 2)?), (Some(id), col(row, 3)?));
    }

    // Each import in order, as if alone after the ones before it.
    let mut rows = Rows::default();
    let mut outcomes = Vec::with_capacity(creates.len());
    for job in &creates {
        let tenant = job.tenant.as_str();
        let mut added: ByRef = HashMap::new();
        let mut subjects: Vec<(Option<i64>, Option<&[u8]>)> = Vec::with_capacity(job.records.len());
        let mut refused = None;
        for r in &job.records {
            let subject = match &r.subject {
                SubjectRef::Existing(id) => match i64::try_from(*id) {
                    Ok(id) if known.contains(&(tenant.to_string(), id)) => (Some(id), None),
                    _ => {
                        refused = Some(subject_changed());
                        break;
                    }
                },
                SubjectRef::New(s) => {
                    let key = (tenant.to_string(), s.ref_index.to_vec());
                    match by_ref.get(&key).or_else(|| added.get(&key)) {
                        Some((id, wrapped)) if *wrapped == s.wrapped_key => (*id, Some(s.ref_index.as_slice())),
                        Some(_) => {
                            refused = Some(subject_added_meanwhile());
                            break;
                        }
                        None => {
                            added.insert(key, (None, s.wrapped_key.clone()));
                            rows.subject_tenant.push(tenant);
                            rows.subject_ref.push(s.ref_index.as_slice());
                            rows.subject_key.push(s.wrapped_key.as_slice());
                            (None, Some(s.ref_index.as_slice()))
                        }
                    }
                }
            };
            subjects.push(subject);
        }
        if let Some(e) = refused {
            // Its subjects are not added after all.
            let keep = rows.subject_tenant.len() - added.len();
            rows.subject_tenant.truncate(keep);
            rows.subject_ref.truncate(keep);
            rows.subject_key.truncate(keep);
            outcomes.push(Err(e));
            continue;
        }
        by_ref.extend(added);
        let at = micros(job.at);
        for (r, (id, by)) in job.records.iter().zip(subjects) {
            rows.tenant.push(tenant);
            rows.id.push(r.id.as_str());
            rows.collection.push(r.collection.as_str());
            rows.subject.push(id);
            rows.subject_by_ref.push(if id.is_some() { None } else { by });
            rows.sealed.push(r.sealed.as_slice());
            rows.blind.push(r.blind.iter().flatten().copied().collect());
            rows.at.push(at);
            for d in &r.blind {
                rows.blind_tenant.push(tenant);
                rows.blind_digest.push(d.as_slice());
                rows.blind_record.push(r.id.as_str());
            }
        }
        outcomes.push(tx.append(&job.entry));
    }
    insert(tx, &rows).await?;
    Ok(outcomes)
}

/// The inserts of a run of imports, sent together (pipelined) and each checked. The
/// statements are prepared first (once per connection, then cached), so that the three go out
/// in this order.
async fn insert(tx: &Tx, rows: &Rows<'_>) -> Result<()> {
    let c = tx.c();
    let failed = |e: tokio_postgres::Error| {
        // Expected now and then (two imports of one id): the jobs are run again one by one.
        tracing::debug!(error = %e, "a run of imports failed together; running them one by one");
        Error::new(ErrorCode::StorageFailure, "the data store failed")
    };
    let subjects_st = c
        .prepare_cached(
            "INSERT INTO vault_subjects (tenant, ref_index, wrapped_key)
             SELECT t, r, k FROM unnest($1::text[], $2::bytea[], $3::bytea[]) WITH ORDINALITY AS u (t, r, k, n) ORDER BY n",
        )
        .await
        .map_err(failed)?;
    // A subject added by this run is found by its reference index (the insert above runs
    // first); should it be missing, the NOT NULL of `subject` fails the run.
    let records_st = c
        .prepare_cached(&format!(
            "INSERT INTO vault_records (tenant, id, collection, subject, version, sealed, blind, blind_version, created_at, updated_at)
             SELECT u.t, u.i, u.c,
                    COALESCE(u.s, (SELECT s.id FROM vault_subjects s WHERE s.tenant = u.t AND s.ref_index = u.r)),
                    1, u.x, u.b, {}, u.a, u.a
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bigint[])
                  WITH ORDINALITY AS u (t, i, c, s, r, x, b, a, n)
             ORDER BY u.n",
            crate::model::BLIND_VERSION
        ))
        .await
        .map_err(failed)?;
    let blind_st = c
        .prepare_cached(
            "INSERT INTO vault_blind (tenant, digest, record)
             SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[])
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(failed)?;
    let subjects = async {
        if rows.subject_tenant.is_empty() {
            return Ok(0);
        }
        let params: [Param<'_>; 3] = [&rows.subject_tenant, &rows.subject_ref, &rows.subject_key];
        c.execute(&subjects_st, &params).await
    };
    let records = async {
        if rows.tenant.is_empty() {
            return Ok(0);
        }
        let params: [Param<'_>; 8] = [
            &rows.tenant,
            &rows.id,
            &rows.collection,
            &rows.subject,
            &rows.subject_by_ref,
            &rows.sealed,
            &rows.blind,
            &rows.at,
        ];
        c.execute(&records_st, &params).await
    };
    let blind = async {
        if rows.blind_tenant.is_empty() {
            return Ok(0);
        }
        let params: [Param<'_>; 3] = [&rows.blind_tenant, &rows.blind_digest, &rows.blind_record];
        c.execute(&blind_st, &params).await
    };
    let (a, b, d) = tokio::join!(subjects, records, blind);
    a.and(b).and(d).map(|_| ()).map_err(failed)
}
