//! The incident register in SQLite: incidents, their workflow history, the customers they
//! touch, breach notices as sent, and the durable outbox that delivers them.
//!
//! A notice and its deliveries are written in one transaction, so a notice is never composed
//! without being queued, and the outbox survives restarts: a delivery is pending until the
//! worker records its result. A change's access entries are appended last in its
//! transaction, after every precondition held, so a refused change writes none.

use super::{SqliteStore, db_err, from_micros, is_unique_violation, log, micros, parse_text};
use crate::IncidentStore;
use crate::model::*;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::incident::Status;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn json_err(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

pub(super) fn enum_str<T: serde::Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v).map_err(db_err)? {
        serde_json::Value::String(s) => Ok(s),
        _ => Err(db_err("not a string enum")),
    }
}

pub(super) fn enum_from<T: serde::de::DeserializeOwned>(s: String) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(s)).map_err(json_err)
}

fn status_from(s: String) -> rusqlite::Result<Status> {
    Status::parse(&s).ok_or_else(|| json_err(format!("unknown status {s}")))
}

const INCIDENT_COLS: &str =
    "id, source, kind, reported_by, reporter_tenant, reported_to, aware_at, created_at, status, details, version";

fn incident_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRecord> {
    let details: String = r.get(9)?;
    Ok(IncidentRecord {
        id: r.get::<_, i64>(0)? as u64,
        source: enum_from(r.get(1)?)?,
        kind: enum_from(r.get(2)?)?,
        reported_by: r.get(3)?,
        reporter_tenant: r.get::<_, Option<String>>(4)?.map(parse_text).transpose()?,
        reported_to: r.get(5)?,
        aware_at: from_micros(r.get(6)?)?,
        created_at: from_micros(r.get(7)?)?,
        status: status_from(r.get(8)?)?,
        details: serde_json::from_str(&details).map_err(json_err)?,
        version: r.get::<_, i64>(10)? as u64,
        customers: Vec::new(),
        events: Vec::new(),
    })
}

fn load_incident(c: &Connection, id: u64) -> Result<Option<IncidentRecord>> {
    let found = c
        .prepare_cached(&format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1"))
        .and_then(|mut st| st.query_row([id as i64], incident_row).optional())
        .map_err(db_err)?;
    let Some(mut inc) = found else { return Ok(None) };
    fill(c, &mut inc)?;
    Ok(Some(inc))
}

fn fill(c: &Connection, inc: &mut IncidentRecord) -> Result<()> {
    let id = inc.id as i64;
    let mut st = c
        .prepare_cached(
            "SELECT ic.tenant, ic.due_at, ic.scope, ic.added_at, ic.added_by,
                    (SELECT MIN(o.sent_at) FROM notices n JOIN outbox o ON o.notice_id = n.id
                     WHERE n.incident_id = ic.incident_id AND n.tenant = ic.tenant AND n.step = 0)
             FROM incident_customers ic WHERE ic.incident_id = ?1 ORDER BY ic.tenant",
        )
        .map_err(db_err)?;
    inc.customers = st
        .query_map([id], |r| {
            let scope: Option<String> = r.get(2)?;
            Ok(AffectedCustomer {
                customer: parse_text(r.get(0)?)?,
                due_at: from_micros(r.get(1)?)?,
                scope: scope.map(|s| serde_json::from_str(&s).map_err(json_err)).transpose()?,
                added_at: from_micros(r.get(3)?)?,
                added_by: r.get(4)?,
                notified_at: r.get::<_, Option<i64>>(5)?.map(from_micros).transpose()?,
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(db_err)?;
    let mut st = c
        .prepare_cached(
            "SELECT at, by, from_status, to_status, note FROM incident_events WHERE incident_id = ?1 ORDER BY id",
        )
        .map_err(db_err)?;
    inc.events = st
        .query_map([id], |r| {
            Ok(IncidentEvent {
                at: from_micros(r.get(0)?)?,
                by: r.get(1)?,
                from: r.get::<_, Option<String>>(2)?.map(status_from).transpose()?,
                to: status_from(r.get(3)?)?,
                note: r.get(4)?,
            })
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(db_err)?;
    Ok(())
}

fn add_event(c: &Connection, id: u64, e: &IncidentEvent) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO incident_events (incident_id, at, by, from_status, to_status, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id as i64,
            micros(e.at),
            e.by,
            e.from.map(Status::as_str),
            e.to.as_str(),
            e.note
        ])
    })
    .map_err(db_err)?;
    Ok(())
}

/// Append access entries prepared on the caller's thread.
pub(super) fn append_all(c: &Connection, entries: &[log::Prepared]) -> Result<()> {
    for e in entries {
        log::append(c, e)?;
    }
    Ok(())
}

pub(super) fn prepare(entries: &[AccessEntry]) -> Vec<log::Prepared> {
    entries.iter().map(log::Prepared::new).collect()
}

fn not_found(id: u64) -> Error {
    Error::new(ErrorCode::IncidentNotFound, format!("there is no incident {id}"))
}

/// Check the version and bump it; the incident as it was.
fn claim(c: &Connection, id: u64, version: u64) -> Result<IncidentRecord> {
    let inc = load_incident(c, id)?.ok_or_else(|| not_found(id))?;
    if inc.version != version {
        return Err(Error::new(
            ErrorCode::IncidentVersionConflict,
            format!(
                "incident {id} is at version {}, not {version}: it changed since it was read",
                inc.version
            ),
        ));
    }
    c.execute("UPDATE incidents SET version = version + 1 WHERE id = ?1", [id as i64])
        .map_err(db_err)?;
    Ok(inc)
}

fn apply_change(c: &Connection, inc: &IncidentRecord, change: &IncidentChange) -> Result<()> {
    let id = inc.id as i64;
    if let Some(d) = &change.details {
        let json = serde_json::to_string(d).map_err(db_err)?;
        c.execute("UPDATE incidents SET details = ?2 WHERE id = ?1", params![id, json])
            .map_err(db_err)?;
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
        c.execute(
            "UPDATE incidents SET status = ?2 WHERE id = ?1",
            params![id, to.as_str()],
        )
        .map_err(db_err)?;
    }
    for a in &change.customers {
        let scope = a
            .scope
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(db_err)?;
        c.execute(
            "INSERT INTO incident_customers (incident_id, tenant, due_at, scope, added_at, added_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (incident_id, tenant) DO UPDATE SET scope = excluded.scope",
            params![
                id,
                a.customer.as_str(),
                micros(a.due_at),
                scope,
                micros(a.added_at),
                a.added_by
            ],
        )
        .map_err(db_err)?;
    }
    for t in &change.remove_customers {
        c.execute(
            "DELETE FROM incident_customers WHERE incident_id = ?1 AND tenant = ?2",
            params![id, t.as_str()],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

fn notice_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NoticeRecord> {
    let content: String = r.get(9)?;
    Ok(NoticeRecord {
        id: r.get::<_, i64>(0)? as u64,
        incident_id: r.get::<_, i64>(1)? as u64,
        customer: parse_text(r.get(2)?)?,
        step: r.get::<_, i64>(3)? as u32,
        language: parse_text(r.get(4)?)?,
        created_at: from_micros(r.get(5)?)?,
        created_by: r.get(6)?,
        subject: r.get(7)?,
        body: r.get(8)?,
        content: serde_json::from_str(&content).map_err(json_err)?,
        acknowledged_at: r.get::<_, Option<i64>>(10)?.map(from_micros).transpose()?,
        acknowledged_by: r.get(11)?,
        deliveries: Vec::new(),
    })
}

const NOTICE_COLS: &str = "id, incident_id, tenant, step, language, created_at, created_by, subject, body, content, acknowledged_at, acknowledged_by";

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

    /// Lease up to `limit` pending rows on the channels given that are due at `now`: their next
    /// attempt moves to `lease_until`. Run in the writer, so the rows read are the rows leased.
    pub(super) fn lease(
        &self,
        c: &Connection,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<DeliveryRecord>> {
        let (email, webhook) = (channels.contains(&"email"), channels.contains(&"webhook"));
        let mut due = c
            .prepare_cached(&format!(
                "SELECT {} FROM {} WHERE status = 'pending' AND next_attempt_at <= ?1
                 AND ((channel = 'email' AND ?3) OR (channel = 'webhook' AND ?4))
                 ORDER BY next_attempt_at, id LIMIT ?2",
                self.cols(),
                self.table
            ))
            .and_then(|mut st| {
                st.query_map(params![micros(now), limit as i64, email, webhook], delivery_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db_err)?;
        let mut lease = c
            .prepare_cached(&format!("UPDATE {} SET next_attempt_at = ?2 WHERE id = ?1", self.table))
            .map_err(db_err)?;
        for d in &mut due {
            lease
                .execute(params![d.id as i64, micros(lease_until)])
                .map_err(db_err)?;
            d.next_attempt_at = lease_until;
        }
        Ok(due)
    }

    /// Record an attempt's outcome on a pending row.
    pub(super) fn record(&self, c: &Connection, id: u64, outcome: &DeliveryOutcome) -> Result<()> {
        match outcome {
            DeliveryOutcome::Sent(at) => c.execute(
                &format!(
                    "UPDATE {} SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL
                     WHERE id = ?1 AND status = 'pending'",
                    self.table
                ),
                params![id as i64, micros(*at)],
            ),
            DeliveryOutcome::Failed { error, retry_at } => c.execute(
                &format!(
                    "UPDATE {} SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
                     WHERE id = ?1 AND status = 'pending'",
                    self.table
                ),
                params![id as i64, error, micros(*retry_at)],
            ),
        }
        .map_err(db_err)?;
        Ok(())
    }
}

/// One row of an outbox table, its columns as [`Outbox::cols`] names them.
pub(super) fn delivery_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeliveryRecord> {
    Ok(DeliveryRecord {
        id: r.get::<_, i64>(0)? as u64,
        notice_id: r.get::<_, i64>(1)? as u64,
        channel: r.get(2)?,
        recipient: r.get(3)?,
        idempotency_key: r.get(4)?,
        sent_at: r.get::<_, Option<i64>>(5)?.map(from_micros).transpose()?,
        attempts: r.get::<_, i64>(6)? as u32,
        next_attempt_at: from_micros(r.get(7)?)?,
        last_error: r.get(8)?,
    })
}

fn load_notices(c: &Connection, sql_where: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<NoticeRecord>> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {NOTICE_COLS} FROM notices WHERE {sql_where} ORDER BY id"
        ))
        .map_err(db_err)?;
    let mut notices = st
        .query_map(args, notice_row)
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(db_err)?;
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLS} FROM outbox WHERE notice_id = ?1 ORDER BY id"
        ))
        .map_err(db_err)?;
    for n in &mut notices {
        n.deliveries = st
            .query_map([n.id as i64], delivery_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(db_err)?;
    }
    Ok(notices)
}

#[async_trait::async_trait]
impl IncidentStore for SqliteStore {
    async fn create_incident(&self, new: &NewIncident, entries: &[AccessEntry]) -> Result<IncidentRecord> {
        let (new, entries) = (new.clone(), prepare(entries));
        self.write(move |c| {
            let details = serde_json::to_string(&new.details).map_err(db_err)?;
            c.execute(
                "INSERT INTO incidents (source, kind, reported_by, reporter_tenant, reported_to, aware_at, created_at, status, details, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1)",
                params![
                    enum_str(&new.source)?,
                    enum_str(&new.kind)?,
                    new.reported_by,
                    new.reporter_tenant.as_ref().map(|t| t.as_str().to_string()),
                    new.reported_to,
                    micros(new.aware_at),
                    micros(new.created_at),
                    Status::Reported.as_str(),
                    details
                ],
            )
            .map_err(db_err)?;
            let id = c.last_insert_rowid() as u64;
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
            )?;
            let inc = load_incident(c, id)?.ok_or_else(|| not_found(id))?;
            append_all(c, &entries)?;
            Ok(inc)
        })
        .await
    }

    async fn incident(&self, id: u64) -> Result<Option<IncidentRecord>> {
        self.read(move |c| load_incident(c, id)).await
    }

    async fn incidents(&self, tenant: Option<&CustomerId>) -> Result<Vec<IncidentRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {INCIDENT_COLS} FROM incidents
                     WHERE ?1 IS NULL OR reporter_tenant = ?1
                        OR id IN (SELECT incident_id FROM incident_customers WHERE tenant = ?1)
                     ORDER BY id"
                ))
                .map_err(db_err)?;
            let mut all = st
                .query_map([tenant], incident_row)
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(db_err)?;
            for inc in &mut all {
                fill(c, inc)?;
            }
            Ok(all)
        })
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
        self.write(move |c| {
            let inc = claim(c, id, version)?;
            apply_change(c, &inc, &change)?;
            add_event(c, id, &event)?;
            let inc = load_incident(c, id)?.ok_or_else(|| not_found(id))?;
            append_all(c, &entries)?;
            Ok(inc)
        })
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
        let (notices, change, event, entries) = (notices.to_vec(), change.clone(), event.clone(), prepare(entries));
        let (at, by) = (created.0, created.1.to_string());
        self.write(move |c| {
            let inc = claim(c, id, version)?;
            apply_change(c, &inc, &change)?;
            let mut ids = Vec::with_capacity(notices.len());
            for n in &notices {
                let content = serde_json::to_string(&n.content).map_err(db_err)?;
                let inserted = c.execute(
                    "INSERT INTO notices (incident_id, tenant, step, language, created_at, created_by, subject, body, content)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        id as i64,
                        n.customer.as_str(),
                        n.step as i64,
                        n.language.tag(),
                        micros(at),
                        by,
                        n.subject,
                        n.body,
                        content
                    ],
                );
                match inserted {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => {
                        return Err(Error::new(
                            ErrorCode::IncidentVersionConflict,
                            format!("notice {} of incident {id} to `{}` in `{}` exists already", n.step, n.customer, n.language.tag()),
                        ));
                    }
                    Err(e) => return Err(db_err(e)),
                }
                let notice_id = c.last_insert_rowid();
                for d in &n.deliveries {
                    let queued = c.execute(
                        "INSERT INTO outbox (notice_id, channel, recipient, idempotency_key, status, next_attempt_at)
                         VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                        params![notice_id, d.channel, d.recipient, d.idempotency_key, micros(at)],
                    );
                    match queued {
                        Ok(_) => {}
                        Err(e) if is_unique_violation(&e) => {
                            return Err(Error::new(
                                ErrorCode::IncidentVersionConflict,
                                format!("a delivery with the key `{}` is queued already", d.idempotency_key),
                            ));
                        }
                        Err(e) => return Err(db_err(e)),
                    }
                }
                ids.push(notice_id);
            }
            add_event(c, id, &event)?;
            let inc = load_incident(c, id)?.ok_or_else(|| not_found(id))?;
            let placeholders = vec!["?"; ids.len()].join(",");
            let args: Vec<&dyn rusqlite::ToSql> = ids.iter().map(|i| i as &dyn rusqlite::ToSql).collect();
            let notices = if ids.is_empty() {
                Vec::new()
            } else {
                load_notices(c, &format!("id IN ({placeholders})"), &args)?
            };
            append_all(c, &entries)?;
            Ok((inc, notices))
        })
        .await
    }

    async fn notices(&self, incident: Option<u64>, tenant: Option<&CustomerId>) -> Result<Vec<NoticeRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        let incident = incident.map(|i| i as i64);
        self.read(move |c| {
            load_notices(
                c,
                "(?1 IS NULL OR incident_id = ?1) AND (?2 IS NULL OR tenant = ?2)",
                &[&incident, &tenant],
            )
        })
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
        let (tenant, by, entry) = (tenant.as_str().to_string(), by.to_string(), log::Prepared::new(entry));
        self.write(move |c| {
            c.execute(
                "UPDATE notices SET acknowledged_at = ?3, acknowledged_by = ?4
                 WHERE id = ?1 AND tenant = ?2 AND acknowledged_at IS NULL",
                params![id as i64, tenant, micros(at), by],
            )
            .map_err(db_err)?;
            let id = id as i64;
            let notice = load_notices(c, "id = ?1 AND tenant = ?2", &[&id, &tenant])?
                .pop()
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::NoticeNotFound,
                        format!("there is no notice {id} for this customer"),
                    )
                })?;
            log::append(c, &entry)?;
            Ok(notice)
        })
        .await
    }

    async fn due_deliveries(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<(DeliveryRecord, NoticeRecord)>> {
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        // In the writer: the rows read are the rows leased.
        self.write(move |c| {
            let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
            let due = NOTICES.lease(c, now, &channels, limit, lease_until)?;
            let mut out = Vec::with_capacity(due.len());
            for d in due {
                let nid = d.notice_id as i64;
                if let Some(n) = load_notices(c, "id = ?1", &[&nid])?.pop() {
                    out.push((d, n));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn record_delivery(&self, id: u64, outcome: &DeliveryOutcome) -> Result<()> {
        let outcome = outcome.clone();
        self.write(move |c| NOTICES.record(c, id, &outcome)).await
    }

    async fn set_webhook(
        &self,
        tenant: &CustomerId,
        url: Option<&str>,
        at: Timestamp,
        by: &str,
        events: &[crate::NewSecurityEvent],
        entry: &AccessEntry,
    ) -> Result<Option<WebhookRecord>> {
        let (tenant, url, by, events) = (tenant.clone(), url.map(str::to_string), by.to_string(), events.to_vec());
        let entry = log::Prepared::new(entry);
        self.write(move |c| {
            let t = tenant.as_str();
            let existed = match &url {
                Some(u) => {
                    c.execute(
                        "INSERT INTO webhooks (tenant, url, generation, created_at, created_by) VALUES (?1, ?2, 1, ?3, ?4)
                         ON CONFLICT (tenant) DO UPDATE SET url = excluded.url, generation = webhooks.generation + 1,
                             created_at = excluded.created_at, created_by = excluded.created_by",
                        params![t, u, micros(at), by],
                    )
                    .map_err(db_err)?;
                    true
                }
                // Kept as a tombstone, so the generation (and with it the secret) never repeats.
                None => {
                    c.execute(
                        "UPDATE webhooks SET url = NULL, created_at = ?2, created_by = ?3 WHERE tenant = ?1 AND url IS NOT NULL",
                        params![t, micros(at), by],
                    )
                    .map_err(db_err)?
                        > 0
                }
            };
            if !existed {
                return Err(Error::new(
                    ErrorCode::WebhookNotFound,
                    format!("customer `{tenant}` has no webhook"),
                ));
            }
            super::accounts::insert_events(c, &events)?;
            let hook = load_webhook(c, t)?;
            log::append(c, &entry)?;
            Ok(hook)
        })
        .await
    }

    async fn pending_first_notices(&self) -> Result<Vec<PendingFirstNotice>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT ic.incident_id, ic.tenant, ic.due_at, i.aware_at FROM incident_customers ic
                     JOIN incidents i ON i.id = ic.incident_id
                     WHERE i.status <> 'not_a_breach' AND NOT EXISTS (
                        SELECT 1 FROM notices n JOIN outbox o ON o.notice_id = n.id
                        WHERE n.incident_id = ic.incident_id AND n.tenant = ic.tenant AND n.step = 0
                          AND o.sent_at IS NOT NULL)
                     ORDER BY ic.due_at",
                )
                .map_err(db_err)?;
            st.query_map([], |r| {
                Ok(PendingFirstNotice {
                    incident: r.get::<_, i64>(0)? as u64,
                    customer: parse_text(r.get(1)?)?,
                    due_at: from_micros(r.get(2)?)?,
                    aware_at: from_micros(r.get(3)?)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(db_err)
        })
        .await
    }

    async fn webhook(&self, tenant: &CustomerId) -> Result<Option<WebhookRecord>> {
        let t = tenant.as_str().to_string();
        self.read(move |c| load_webhook(c, &t)).await
    }
}

fn load_webhook(c: &Connection, tenant: &str) -> Result<Option<WebhookRecord>> {
    c.prepare_cached(
        "SELECT tenant, url, generation, created_at, created_by FROM webhooks WHERE tenant = ?1 AND url IS NOT NULL",
    )
    .and_then(|mut st| {
        st.query_row([tenant], |r| {
            Ok(WebhookRecord {
                customer: parse_text(r.get(0)?)?,
                url: r.get(1)?,
                generation: r.get::<_, i64>(2)? as u64,
                created_at: from_micros(r.get(3)?)?,
                created_by: r.get(4)?,
            })
        })
        .optional()
    })
    .map_err(db_err)
}
