//! The incident register in PostgreSQL: incidents, their workflow history, the customers they
//! touch, breach notices as sent, and the durable outbox that delivers them.
//!
//! As in SQLite, a notice and its deliveries are written in one transaction (the writer's, in
//! the job's savepoint), and a change's access entries are appended last, after every
//! precondition held, so a refused change writes none. A statement that fails aborts the job,
//! so the conditions SQLite finds by a failing insert (a notice or a delivery key that exists)
//! are checked before anything is inserted here.

use super::{PgStore, Tx, col, db_err, from_micros, is_unique_violation, micros, parse, signed, unsigned};
use crate::IncidentStore;
use crate::model::*;
use crate::sqlite::log::Prepared;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::incident::Status;
use art28_core::{Error, ErrorCode, Result};
use deadpool_postgres::ClientWrapper;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

pub(super) fn enum_str<T: serde::Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v).map_err(db_err)? {
        serde_json::Value::String(s) => Ok(s),
        _ => Err(db_err("not a string enum")),
    }
}

pub(super) fn enum_from<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(db_err)
}

fn status_from(s: &str) -> Result<Status> {
    Status::parse(s).ok_or_else(|| db_err(format!("unknown status {s}")))
}

pub(super) fn small(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(db_err)
}

pub(super) fn json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(db_err)
}

pub(super) fn opt_micros(v: Option<i64>) -> Result<Option<Timestamp>> {
    v.map(from_micros).transpose()
}

const INCIDENT_COLS: &str =
    "id, source, kind, reported_by, reporter_tenant, reported_to, aware_at, created_at, status, details, version";

fn incident_row(r: &Row) -> Result<IncidentRecord> {
    Ok(IncidentRecord {
        id: unsigned(col(r, 0)?)?,
        source: enum_from(col(r, 1)?)?,
        kind: enum_from(col(r, 2)?)?,
        reported_by: col(r, 3)?,
        reporter_tenant: col::<Option<&str>>(r, 4)?.map(parse).transpose()?,
        reported_to: col(r, 5)?,
        aware_at: from_micros(col(r, 6)?)?,
        created_at: from_micros(col(r, 7)?)?,
        status: status_from(col(r, 8)?)?,
        details: json(col(r, 9)?)?,
        version: unsigned(col(r, 10)?)?,
        customers: Vec::new(),
        events: Vec::new(),
    })
}

/// An affected customer, after its incident's id.
fn affected_row(r: &Row) -> Result<(i64, AffectedCustomer)> {
    Ok((
        col(r, 0)?,
        AffectedCustomer {
            customer: parse(col::<&str>(r, 1)?)?,
            due_at: from_micros(col(r, 2)?)?,
            scope: col::<Option<&str>>(r, 3)?.map(json).transpose()?,
            added_at: from_micros(col(r, 4)?)?,
            added_by: col(r, 5)?,
            notified_at: opt_micros(col(r, 6)?)?,
        },
    ))
}

/// A history line, after its incident's id.
fn event_row(r: &Row) -> Result<(i64, IncidentEvent)> {
    Ok((
        col(r, 0)?,
        IncidentEvent {
            at: from_micros(col(r, 1)?)?,
            by: col(r, 2)?,
            from: col::<Option<&str>>(r, 3)?.map(status_from).transpose()?,
            to: status_from(col(r, 4)?)?,
            note: col(r, 5)?,
        },
    ))
}

/// Incidents a query selects, with their customers and history.
async fn load_incidents(c: &ClientWrapper, sql_where: &str, params: Params<'_>) -> Result<Vec<IncidentRecord>> {
    let st = c
        .prepare_cached(&format!(
            "SELECT {INCIDENT_COLS} FROM incidents WHERE {sql_where} ORDER BY id"
        ))
        .await
        .map_err(db_err)?;
    let mut all = c
        .query(&st, params)
        .await
        .map_err(db_err)?
        .iter()
        .map(incident_row)
        .collect::<Result<Vec<_>>>()?;
    fill(c, &mut all).await?;
    Ok(all)
}

async fn load_incident(c: &ClientWrapper, id: u64) -> Result<Option<IncidentRecord>> {
    Ok(load_incidents(c, "id = $1", &[&signed(id)?]).await?.pop())
}

/// The customers and history of incidents, read together for all of them.
async fn fill(c: &ClientWrapper, incidents: &mut [IncidentRecord]) -> Result<()> {
    if incidents.is_empty() {
        return Ok(());
    }
    let ids = incidents.iter().map(|i| signed(i.id)).collect::<Result<Vec<_>>>()?;
    let at: HashMap<i64, usize> = ids.iter().enumerate().map(|(n, id)| (*id, n)).collect();
    let customers = c
        .prepare_cached(
            "SELECT ic.incident_id, ic.tenant, ic.due_at, ic.scope, ic.added_at, ic.added_by,
                    (SELECT MIN(o.sent_at) FROM notices n JOIN outbox o ON o.notice_id = n.id
                     WHERE n.incident_id = ic.incident_id AND n.tenant = ic.tenant AND n.step = 0)
             FROM incident_customers ic WHERE ic.incident_id = ANY($1) ORDER BY ic.incident_id, ic.tenant",
        )
        .await
        .map_err(db_err)?;
    let events = c
        .prepare_cached(
            "SELECT incident_id, at, by, from_status, to_status, note FROM incident_events
             WHERE incident_id = ANY($1) ORDER BY incident_id, id",
        )
        .await
        .map_err(db_err)?;
    // Sent together (pipelined): one round trip for both.
    let params: [&(dyn ToSql + Sync); 1] = [&ids];
    let (customers, events) = tokio::join!(c.query(&customers, &params), c.query(&events, &params));
    for r in customers.map_err(db_err)? {
        let (id, a) = affected_row(&r)?;
        if let Some(&n) = at.get(&id) {
            incidents[n].customers.push(a);
        }
    }
    for r in events.map_err(db_err)? {
        let (id, e) = event_row(&r)?;
        if let Some(&n) = at.get(&id) {
            incidents[n].events.push(e);
        }
    }
    Ok(())
}

async fn add_event(c: &ClientWrapper, id: u64, e: &IncidentEvent) -> Result<()> {
    let st = c
        .prepare_cached(
            "INSERT INTO incident_events (incident_id, at, by, from_status, to_status, note) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(db_err)?;
    c.execute(
        &st,
        &[
            &signed(id)?,
            &micros(e.at),
            &e.by,
            &e.from.map(Status::as_str),
            &e.to.as_str(),
            &e.note,
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Append access entries prepared on the caller's task, in order.
pub(super) fn append_all(tx: &mut Tx, entries: &[Prepared]) -> Result<()> {
    for e in entries {
        tx.append(e)?;
    }
    Ok(())
}

pub(super) fn prepare(entries: &[AccessEntry]) -> Vec<Prepared> {
    entries.iter().map(Prepared::new).collect()
}

fn not_found(id: u64) -> Error {
    Error::new(ErrorCode::IncidentNotFound, format!("there is no incident {id}"))
}

/// Check the version and bump it; the incident as it was.
async fn claim(c: &ClientWrapper, id: u64, version: u64) -> Result<IncidentRecord> {
    let inc = load_incident(c, id).await?.ok_or_else(|| not_found(id))?;
    if inc.version != version {
        return Err(Error::new(
            ErrorCode::IncidentVersionConflict,
            format!(
                "incident {id} is at version {}, not {version}: it changed since it was read",
                inc.version
            ),
        ));
    }
    let st = c
        .prepare_cached("UPDATE incidents SET version = version + 1 WHERE id = $1")
        .await
        .map_err(db_err)?;
    c.execute(&st, &[&signed(id)?]).await.map_err(db_err)?;
    Ok(inc)
}

async fn apply_change(c: &ClientWrapper, inc: &IncidentRecord, change: &IncidentChange) -> Result<()> {
    let id = signed(inc.id)?;
    if let Some(d) = &change.details {
        let details = serde_json::to_string(d).map_err(db_err)?;
        let st = c
            .prepare_cached("UPDATE incidents SET details = $2 WHERE id = $1")
            .await
            .map_err(db_err)?;
        c.execute(&st, &[&id, &details]).await.map_err(db_err)?;
    }
    if let Some((from, to)) = change.status {
        if inc.status != from {
            return Err(Error::new(
                ErrorCode::IncidentTransitionNotAllowed,
                format!(
                    "incident {} is `{}`, not `{}`",
                    inc.id,
                    inc.status.as_str(),
                    from.as_str()
                ),
            ));
        }
        let st = c
            .prepare_cached("UPDATE incidents SET status = $2 WHERE id = $1")
            .await
            .map_err(db_err)?;
        c.execute(&st, &[&id, &to.as_str()]).await.map_err(db_err)?;
    }
    if !change.customers.is_empty() {
        let mut tenants = Vec::with_capacity(change.customers.len());
        let (mut due, mut scopes, mut added_at, mut added_by) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for a in &change.customers {
            tenants.push(a.customer.as_str());
            due.push(micros(a.due_at));
            scopes.push(
                a.scope
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(db_err)?,
            );
            added_at.push(micros(a.added_at));
            added_by.push(a.added_by.as_str());
        }
        // A customer named twice ends with its last scope, as one insert after another
        // gives; one `ON CONFLICT DO UPDATE` cannot touch a row twice.
        let distinct: HashSet<&str> = tenants.iter().copied().collect();
        if distinct.len() < tenants.len() {
            upsert_each(c, id, &change.customers).await?;
        } else {
            let st = c
                .prepare_cached(
                    "INSERT INTO incident_customers (incident_id, tenant, due_at, scope, added_at, added_by)
                     SELECT $1::bigint, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[])
                     ON CONFLICT (incident_id, tenant) DO UPDATE SET scope = excluded.scope",
                )
                .await
                .map_err(db_err)?;
            c.execute(&st, &[&id, &tenants, &due, &scopes, &added_at, &added_by])
                .await
                .map_err(db_err)?;
        }
    }
    if !change.remove_customers.is_empty() {
        let gone: Vec<&str> = change.remove_customers.iter().map(|t| t.as_str()).collect();
        let st = c
            .prepare_cached("DELETE FROM incident_customers WHERE incident_id = $1 AND tenant = ANY($2)")
            .await
            .map_err(db_err)?;
        c.execute(&st, &[&id, &gone]).await.map_err(db_err)?;
    }
    Ok(())
}

/// Affected customers one statement each, in order: for a change that names one twice.
async fn upsert_each(c: &ClientWrapper, id: i64, customers: &[AffectedCustomer]) -> Result<()> {
    let st = c
        .prepare_cached(
            "INSERT INTO incident_customers (incident_id, tenant, due_at, scope, added_at, added_by)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (incident_id, tenant) DO UPDATE SET scope = excluded.scope",
        )
        .await
        .map_err(db_err)?;
    for a in customers {
        let scope = a
            .scope
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(db_err)?;
        c.execute(
            &st,
            &[
                &id,
                &a.customer.as_str(),
                &micros(a.due_at),
                &scope,
                &micros(a.added_at),
                &a.added_by,
            ],
        )
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

const NOTICE_COLS: &str = "id, incident_id, tenant, step, language, created_at, created_by, subject, body, content, acknowledged_at, acknowledged_by";

fn notice_row(r: &Row) -> Result<NoticeRecord> {
    Ok(NoticeRecord {
        id: unsigned(col(r, 0)?)?,
        incident_id: unsigned(col(r, 1)?)?,
        customer: parse(col::<&str>(r, 2)?)?,
        step: small(col(r, 3)?)?,
        language: parse(col::<&str>(r, 4)?)?,
        created_at: from_micros(col(r, 5)?)?,
        created_by: col(r, 6)?,
        subject: col(r, 7)?,
        body: col(r, 8)?,
        content: json(col(r, 9)?)?,
        acknowledged_at: opt_micros(col(r, 10)?)?,
        acknowledged_by: col(r, 11)?,
        deliveries: Vec::new(),
    })
}

const DELIVERY_COLS: &str =
    "id, notice_id, channel, recipient, idempotency_key, sent_at, attempts, next_attempt_at, last_error";

/// An outbox table: the incident register's notices (`outbox`) or the sub-processor register's
/// announcements (`subprocessor_outbox`). Both have the same columns but the message they
/// belong to, and are leased and settled alike.
pub(super) struct Outbox {
    /// The table.
    pub(super) table: &'static str,
    /// The column naming the message a row delivers.
    pub(super) message: &'static str,
}

/// The breach notices' outbox.
const NOTICES: Outbox = Outbox {
    table: "outbox",
    message: "notice_id",
};

impl Outbox {
    /// The columns [`delivery_row`] reads, in its order.
    pub(super) fn cols(&self) -> String {
        DELIVERY_COLS.replacen("notice_id", self.message, 1)
    }

    /// Lease up to `limit` pending rows on the channels given that are due at `now`, earliest
    /// first, in one statement: rows another node is leasing at the same moment are skipped
    /// (their locks), rows it leased before are no longer due (their next attempt moved to its
    /// `lease_until`).
    pub(super) async fn lease(
        &self,
        c: &ClientWrapper,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<DeliveryRecord>> {
        let (email, webhook) = (channels.contains(&"email"), channels.contains(&"webhook"));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let table = self.table;
        let st = c
            .prepare_cached(&format!(
                "WITH due AS (
                     SELECT id, next_attempt_at AS was FROM {table} WHERE status = 'pending' AND next_attempt_at <= $1
                     AND ((channel = 'email' AND $3) OR (channel = 'webhook' AND $4))
                     ORDER BY next_attempt_at, id LIMIT $2
                     FOR UPDATE SKIP LOCKED
                 )
                 UPDATE {table} SET next_attempt_at = $5 FROM due WHERE {table}.id = due.id
                 RETURNING {}, due.was",
                self.cols()
                    .split(',')
                    .map(|col| format!("{table}.{}", col.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .await
            .map_err(db_err)?;
        let mut leased = c
            .query(&st, &[&micros(now), &limit, &email, &webhook, &micros(lease_until)])
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Ok((col::<i64>(r, 9)?, delivery_row(r)?)))
            .collect::<Result<Vec<_>>>()?;
        // RETURNING keeps no order: the earliest due first, as they were chosen.
        leased.sort_by_key(|(was, d)| (*was, d.id));
        Ok(leased.into_iter().map(|(_, d)| d).collect())
    }

    /// Record an attempt's outcome on a pending row, in the writer's transaction.
    pub(super) async fn record(&self, tx: &mut Tx, id: u64, outcome: &DeliveryOutcome) -> Result<()> {
        let (c, id, table) = (tx.c(), signed(id)?, self.table);
        let sql = match outcome {
            DeliveryOutcome::Sent(_) => format!(
                "UPDATE {table} SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL
                 WHERE id = $1 AND status = 'pending'"
            ),
            DeliveryOutcome::Failed { .. } => format!(
                "UPDATE {table} SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
                 WHERE id = $1 AND status = 'pending'"
            ),
        };
        let st = c.prepare_cached(&sql).await.map_err(db_err)?;
        match outcome {
            DeliveryOutcome::Sent(at) => c.execute(&st, &[&id, &micros(*at)]).await,
            DeliveryOutcome::Failed { error, retry_at } => c.execute(&st, &[&id, error, &micros(*retry_at)]).await,
        }
        .map_err(db_err)?;
        Ok(())
    }
}

/// One row of an outbox table, its columns as [`Outbox::cols`] names them.
pub(super) fn delivery_row(r: &Row) -> Result<DeliveryRecord> {
    Ok(DeliveryRecord {
        id: unsigned(col(r, 0)?)?,
        notice_id: unsigned(col(r, 1)?)?,
        channel: col(r, 2)?,
        recipient: col(r, 3)?,
        idempotency_key: col(r, 4)?,
        sent_at: opt_micros(col(r, 5)?)?,
        attempts: small(col(r, 6)?)?,
        next_attempt_at: from_micros(col(r, 7)?)?,
        last_error: col(r, 8)?,
    })
}

/// Notices a query selects, by id, with their deliveries.
async fn load_notices(c: &ClientWrapper, sql_where: &str, params: Params<'_>) -> Result<Vec<NoticeRecord>> {
    let st = c
        .prepare_cached(&format!(
            "SELECT {NOTICE_COLS} FROM notices WHERE {sql_where} ORDER BY id"
        ))
        .await
        .map_err(db_err)?;
    let mut notices = c
        .query(&st, params)
        .await
        .map_err(db_err)?
        .iter()
        .map(notice_row)
        .collect::<Result<Vec<_>>>()?;
    if notices.is_empty() {
        return Ok(notices);
    }
    let ids = notices.iter().map(|n| signed(n.id)).collect::<Result<Vec<_>>>()?;
    let at: HashMap<u64, usize> = notices.iter().enumerate().map(|(n, r)| (r.id, n)).collect();
    let st = c
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLS} FROM outbox WHERE notice_id = ANY($1) ORDER BY notice_id, id"
        ))
        .await
        .map_err(db_err)?;
    for r in c.query(&st, &[&ids]).await.map_err(db_err)? {
        let d = delivery_row(&r)?;
        if let Some(&n) = at.get(&d.notice_id) {
            notices[n].deliveries.push(d);
        }
    }
    Ok(notices)
}

/// The first notice or delivery key of `notices` that exists already (stored, or earlier in
/// the call), as the refusal SQLite's failing insert gives. Checked first because here a
/// failing insert would end the job.
async fn check_new(c: &ClientWrapper, id: u64, notices: &[NewNotice]) -> Result<()> {
    let keys: Vec<&str> = notices
        .iter()
        .flat_map(|n| n.deliveries.iter().map(|d| d.idempotency_key.as_str()))
        .collect();
    let stored_notices = c
        .prepare_cached("SELECT tenant, step, language FROM notices WHERE incident_id = $1")
        .await
        .map_err(db_err)?;
    let stored_keys = c
        .prepare_cached("SELECT idempotency_key FROM outbox WHERE idempotency_key = ANY($1)")
        .await
        .map_err(db_err)?;
    let incident = signed(id)?;
    let (by_incident, by_keys): ([&(dyn ToSql + Sync); 1], [&(dyn ToSql + Sync); 1]) = ([&incident], [&keys]);
    let (stored_notices, stored_keys) =
        tokio::join!(c.query(&stored_notices, &by_incident), c.query(&stored_keys, &by_keys),);
    let mut seen = stored_notices
        .map_err(db_err)?
        .iter()
        .map(|r| Ok((col::<String>(r, 0)?, col::<i64>(r, 1)?, col::<String>(r, 2)?)))
        .collect::<Result<HashSet<_>>>()?;
    let mut queued = stored_keys
        .map_err(db_err)?
        .iter()
        .map(|r| col::<String>(r, 0))
        .collect::<Result<HashSet<_>>>()?;
    for n in notices {
        let lang = n.language.tag();
        if !seen.insert((n.customer.as_str().to_string(), i64::from(n.step), lang.to_string())) {
            return Err(Error::new(
                ErrorCode::IncidentVersionConflict,
                format!(
                    "notice {} of incident {id} to `{}` in `{lang}` exists already",
                    n.step, n.customer
                ),
            ));
        }
        for d in &n.deliveries {
            if !queued.insert(d.idempotency_key.clone()) {
                return Err(Error::new(
                    ErrorCode::IncidentVersionConflict,
                    format!("a delivery with the key `{}` is queued already", d.idempotency_key),
                ));
            }
        }
    }
    Ok(())
}

/// Insert notices and queue their deliveries (checked by [`check_new`]); their ids in order.
async fn insert_notices(c: &ClientWrapper, id: u64, notices: &[NewNotice], at: i64, by: &str) -> Result<Vec<i64>> {
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    let (mut tenants, mut steps, mut langs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut subjects, mut bodies, mut contents) = (Vec::new(), Vec::new(), Vec::new());
    for n in notices {
        tenants.push(n.customer.as_str());
        steps.push(i64::from(n.step));
        langs.push(n.language.tag());
        subjects.push(n.subject.as_str());
        bodies.push(n.body.as_str());
        contents.push(serde_json::to_string(&n.content).map_err(db_err)?);
    }
    let st = c
        .prepare_cached(
            "INSERT INTO notices (incident_id, tenant, step, language, created_at, created_by, subject, body, content)
             SELECT $1::bigint, t, s, l, $2::bigint, $3::text, sub, b, con
             FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])
                  WITH ORDINALITY AS u(t, s, l, sub, b, con, ord)
             ORDER BY ord
             RETURNING id, tenant, step, language",
        )
        .await
        .map_err(db_err)?;
    let inserted = c
        .query(
            &st,
            &[
                &signed(id)?,
                &at,
                &by,
                &tenants,
                &steps,
                &langs,
                &subjects,
                &bodies,
                &contents,
            ],
        )
        .await
        .map_err(|e| conflict(id, e))?;
    let by_key = inserted
        .iter()
        .map(|r| {
            Ok((
                (col::<String>(r, 1)?, col::<i64>(r, 2)?, col::<String>(r, 3)?),
                col::<i64>(r, 0)?,
            ))
        })
        .collect::<Result<HashMap<_, _>>>()?;
    let mut ids = Vec::with_capacity(notices.len());
    let (mut owners, mut channels, mut recipients, mut keys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for n in notices {
        let key = (
            n.customer.as_str().to_string(),
            i64::from(n.step),
            n.language.tag().to_string(),
        );
        let notice = *by_key
            .get(&key)
            .ok_or_else(|| db_err("an inserted notice was not returned"))?;
        ids.push(notice);
        for d in &n.deliveries {
            owners.push(notice);
            channels.push(d.channel.as_str());
            recipients.push(d.recipient.as_str());
            keys.push(d.idempotency_key.as_str());
        }
    }
    if !keys.is_empty() {
        let st = c
            .prepare_cached(
                "INSERT INTO outbox (notice_id, channel, recipient, idempotency_key, status, next_attempt_at)
                 SELECT n, ch, r, k, 'pending', $1::bigint
                 FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(n, ch, r, k, ord)
                 ORDER BY ord",
            )
            .await
            .map_err(db_err)?;
        c.execute(&st, &[&at, &owners, &channels, &recipients, &keys])
            .await
            .map_err(|e| conflict(id, e))?;
    }
    Ok(ids)
}

/// A unique violation [`check_new`] did not foresee: still a conflict, not a failure.
fn conflict(id: u64, e: tokio_postgres::Error) -> Error {
    if is_unique_violation(&e) {
        Error::new(
            ErrorCode::IncidentVersionConflict,
            format!("a notice or delivery of incident {id} exists already"),
        )
    } else {
        db_err(e)
    }
}

fn webhook_row(r: &Row) -> Result<WebhookRecord> {
    Ok(WebhookRecord {
        customer: parse(col::<&str>(r, 0)?)?,
        url: col(r, 1)?,
        generation: unsigned(col(r, 2)?)?,
        created_at: from_micros(col(r, 3)?)?,
        created_by: col(r, 4)?,
    })
}

const WEBHOOK_SQL: &str =
    "SELECT tenant, url, generation, created_at, created_by FROM webhooks WHERE tenant = $1 AND url IS NOT NULL";

async fn load_webhook(c: &ClientWrapper, tenant: &str) -> Result<Option<WebhookRecord>> {
    let st = c.prepare_cached(WEBHOOK_SQL).await.map_err(db_err)?;
    c.query_opt(&st, &[&tenant])
        .await
        .map_err(db_err)?
        .as_ref()
        .map(webhook_row)
        .transpose()
}

async fn create(tx: &mut Tx, new: NewIncident, entries: Vec<Prepared>) -> Result<IncidentRecord> {
    let c = tx.c();
    let details = serde_json::to_string(&new.details).map_err(db_err)?;
    let st = c
        .prepare_cached(
            "INSERT INTO incidents (source, kind, reported_by, reporter_tenant, reported_to, aware_at, created_at, status, details, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1) RETURNING id",
        )
        .await
        .map_err(db_err)?;
    let row = c
        .query_one(
            &st,
            &[
                &enum_str(&new.source)?,
                &enum_str(&new.kind)?,
                &new.reported_by,
                &new.reporter_tenant.as_ref().map(|t| t.as_str()),
                &new.reported_to,
                &micros(new.aware_at),
                &micros(new.created_at),
                &Status::Reported.as_str(),
                &details,
            ],
        )
        .await
        .map_err(db_err)?;
    let id = unsigned(col(&row, 0)?)?;
    add_event(
        c,
        id,
        &IncidentEvent {
            at: new.created_at,
            by: new.reported_by.clone(),
            from: None,
            to: Status::Reported,
            note: format!("reported to {}", new.reported_to),
        },
    )
    .await?;
    let inc = load_incident(c, id).await?.ok_or_else(|| not_found(id))?;
    append_all(tx, &entries)?;
    Ok(inc)
}

async fn update(
    tx: &mut Tx,
    (id, version): (u64, u64),
    change: IncidentChange,
    event: IncidentEvent,
    entries: Vec<Prepared>,
) -> Result<IncidentRecord> {
    let c = tx.c();
    let inc = claim(c, id, version).await?;
    apply_change(c, &inc, &change).await?;
    add_event(c, id, &event).await?;
    let inc = load_incident(c, id).await?.ok_or_else(|| not_found(id))?;
    append_all(tx, &entries)?;
    Ok(inc)
}

/// What [`IncidentStore::add_notices`] is given, owned for the writer.
struct Notices {
    id: u64,
    version: u64,
    notices: Vec<NewNotice>,
    at: Timestamp,
    by: String,
    change: IncidentChange,
    event: IncidentEvent,
    entries: Vec<Prepared>,
}

async fn add(tx: &mut Tx, a: Notices) -> Result<(IncidentRecord, Vec<NoticeRecord>)> {
    let c = tx.c();
    let id = a.id;
    let inc = claim(c, id, a.version).await?;
    apply_change(c, &inc, &a.change).await?;
    check_new(c, id, &a.notices).await?;
    let ids = insert_notices(c, id, &a.notices, micros(a.at), &a.by).await?;
    add_event(c, id, &a.event).await?;
    let inc = load_incident(c, id).await?.ok_or_else(|| not_found(id))?;
    let notices = if ids.is_empty() {
        Vec::new()
    } else {
        load_notices(c, "id = ANY($1)", &[&ids]).await?
    };
    append_all(tx, &a.entries)?;
    Ok((inc, notices))
}

async fn acknowledge(
    tx: &mut Tx,
    id: u64,
    (tenant, by, at): (String, String, Timestamp),
    entry: Prepared,
) -> Result<NoticeRecord> {
    let c = tx.c();
    let nid = signed(id)?;
    let st = c
        .prepare_cached(
            "UPDATE notices SET acknowledged_at = $3, acknowledged_by = $4
             WHERE id = $1 AND tenant = $2 AND acknowledged_at IS NULL",
        )
        .await
        .map_err(db_err)?;
    c.execute(&st, &[&nid, &tenant, &micros(at), &by])
        .await
        .map_err(db_err)?;
    let notice = load_notices(c, "id = $1 AND tenant = $2", &[&nid, &tenant])
        .await?
        .pop()
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NoticeNotFound,
                format!("there is no notice {id} for this customer"),
            )
        })?;
    tx.append(&entry)?;
    Ok(notice)
}

async fn webhook_change(
    tx: &mut Tx,
    (tenant, url): (CustomerId, Option<String>),
    (at, by): (Timestamp, String),
    events: Vec<NewSecurityEvent>,
    entry: Prepared,
) -> Result<Option<WebhookRecord>> {
    let c = tx.c();
    let t = tenant.as_str();
    let existed = match &url {
        Some(u) => {
            let st = c
                .prepare_cached(
                    "INSERT INTO webhooks (tenant, url, generation, created_at, created_by) VALUES ($1, $2, 1, $3, $4)
                     ON CONFLICT (tenant) DO UPDATE SET url = excluded.url, generation = webhooks.generation + 1,
                         created_at = excluded.created_at, created_by = excluded.created_by",
                )
                .await
                .map_err(db_err)?;
            c.execute(&st, &[&t, u, &micros(at), &by]).await.map_err(db_err)?;
            true
        }
        // Kept as a tombstone, so the generation (and with it the secret) never repeats.
        None => {
            let st = c
                .prepare_cached(
                    "UPDATE webhooks SET url = NULL, created_at = $2, created_by = $3 WHERE tenant = $1 AND url IS NOT NULL",
                )
                .await
                .map_err(db_err)?;
            c.execute(&st, &[&t, &micros(at), &by]).await.map_err(db_err)? > 0
        }
    };
    if !existed {
        return Err(Error::new(
            ErrorCode::WebhookNotFound,
            format!("customer `{tenant}` has no webhook"),
        ));
    }
    super::accounts::events(c, &events).await?;
    let hook = load_webhook(c, t).await?;
    tx.append(&entry)?;
    Ok(hook)
}

#[async_trait::async_trait]
impl IncidentStore for PgStore {
    async fn create_incident(&self, incident: &NewIncident, entries: &[AccessEntry]) -> Result<IncidentRecord> {
        let (new, entries) = (incident.clone(), prepare(entries));
        self.write(move |tx| Box::pin(create(tx, new, entries))).await
    }

    async fn incident(&self, id: u64) -> Result<Option<IncidentRecord>> {
        let c = self.client().await?;
        load_incident(&c, id).await
    }

    async fn incidents(&self, tenant: Option<&CustomerId>) -> Result<Vec<IncidentRecord>> {
        let c = self.client().await?;
        load_incidents(
            &c,
            "$1::text IS NULL OR reporter_tenant = $1
                OR id IN (SELECT incident_id FROM incident_customers WHERE tenant = $1)",
            &[&tenant.map(|t| t.as_str())],
        )
        .await
    }

    async fn update_incident(
        &self,
        id: u64,
        version: u64,
        change: &IncidentChange,
        event: &IncidentEvent,
        entries: &[AccessEntry],
    ) -> Result<IncidentRecord> {
        let (change, event, entries) = (change.clone(), event.clone(), prepare(entries));
        self.write(move |tx| Box::pin(update(tx, (id, version), change, event, entries)))
            .await
    }

    async fn add_notices(
        &self,
        id: u64,
        version: u64,
        notices: &[NewNotice],
        created: (Timestamp, &str),
        change: &IncidentChange,
        event: &IncidentEvent,
        entries: &[AccessEntry],
    ) -> Result<(IncidentRecord, Vec<NoticeRecord>)> {
        let a = Notices {
            id,
            version,
            notices: notices.to_vec(),
            at: created.0,
            by: created.1.to_string(),
            change: change.clone(),
            event: event.clone(),
            entries: prepare(entries),
        };
        self.write(move |tx| Box::pin(add(tx, a))).await
    }

    async fn notices(&self, incident: Option<u64>, tenant: Option<&CustomerId>) -> Result<Vec<NoticeRecord>> {
        let incident = incident.map(signed).transpose()?;
        let c = self.client().await?;
        load_notices(
            &c,
            "($1::bigint IS NULL OR incident_id = $1) AND ($2::text IS NULL OR tenant = $2)",
            &[&incident, &tenant.map(|t| t.as_str())],
        )
        .await
    }

    async fn acknowledge_notice(
        &self,
        id: u64,
        tenant: &CustomerId,
        by: &str,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<NoticeRecord> {
        let who = (tenant.as_str().to_string(), by.to_string(), at);
        let entry = Prepared::new(entry);
        self.write(move |tx| Box::pin(acknowledge(tx, id, who, entry))).await
    }

    async fn due_deliveries(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<(DeliveryRecord, NoticeRecord)>> {
        let c = self.client().await?;
        let due = NOTICES.lease(&c, now, channels, limit, lease_until).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids = due.iter().map(|d| signed(d.notice_id)).collect::<Result<Vec<_>>>()?;
        ids.sort_unstable();
        ids.dedup();
        let notices: HashMap<u64, NoticeRecord> = load_notices(&c, "id = ANY($1)", &[&ids])
            .await?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        Ok(due
            .into_iter()
            .filter_map(|d| notices.get(&d.notice_id).cloned().map(|n| (d, n)))
            .collect())
    }

    async fn set_webhook(
        &self,
        tenant: &CustomerId,
        url: Option<&str>,
        at: Timestamp,
        by: &str,
        events: &[NewSecurityEvent],
        entry: &AccessEntry,
    ) -> Result<Option<WebhookRecord>> {
        let target = (tenant.clone(), url.map(str::to_string));
        let (when, events, entry) = ((at, by.to_string()), events.to_vec(), Prepared::new(entry));
        self.write(move |tx| Box::pin(webhook_change(tx, target, when, events, entry)))
            .await
    }

    async fn webhook(&self, tenant: &CustomerId) -> Result<Option<WebhookRecord>> {
        self.row(WEBHOOK_SQL, &[&tenant.as_str()], webhook_row).await
    }

    async fn pending_first_notices(&self) -> Result<Vec<PendingFirstNotice>> {
        self.rows(
            "SELECT ic.incident_id, ic.tenant, ic.due_at, i.aware_at FROM incident_customers ic
             JOIN incidents i ON i.id = ic.incident_id
             WHERE i.status <> 'not_a_breach' AND NOT EXISTS (
                SELECT 1 FROM notices n JOIN outbox o ON o.notice_id = n.id
                WHERE n.incident_id = ic.incident_id AND n.tenant = ic.tenant AND n.step = 0
                  AND o.sent_at IS NOT NULL)
             ORDER BY ic.due_at",
            &[],
            |r| {
                Ok(PendingFirstNotice {
                    incident: unsigned(col(r, 0)?)?,
                    customer: parse(col::<&str>(r, 1)?)?,
                    due_at: from_micros(col(r, 2)?)?,
                    aware_at: from_micros(col(r, 3)?)?,
                })
            },
        )
        .await
    }

    async fn record_delivery(&self, id: u64, outcome: &DeliveryOutcome) -> Result<()> {
        let outcome = outcome.clone();
        self.write(move |tx| Box::pin(async move { NOTICES.record(tx, id, &outcome).await }))
            .await
    }
}
