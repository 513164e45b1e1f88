//! The incident register in SQLite: incidents, their workflow history, the customers they
//! touch, breach notices as sent, and the durable outbox that delivers them.
//!
//! A notice and its deliveries are written in one transaction, so a notice is never composed
//! without being queued, and the outbox survives restarts: a delivery is pending until the
//! worker records its result.

use crate::sqlite::{SqliteStore, db_err, from_micros, micros, parse_text};
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::incident::{CustomerScope, Details, IncidentKind, NoticeContent, Source, Status};
use art28_core::lang::Lang;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

/// Migration 8.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    reporter_tenant TEXT REFERENCES customers(id),
    reported_to TEXT NOT NULL,
    aware_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    details TEXT NOT NULL,
    version INTEGER NOT NULL
) STRICT;

CREATE TABLE incident_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT NOT NULL
) STRICT;
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE incident_customers (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    tenant TEXT NOT NULL REFERENCES customers(id),
    due_at INTEGER NOT NULL,
    scope TEXT,
    added_at INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (incident_id, tenant)
) STRICT;
CREATE INDEX incident_customers_tenant ON incident_customers (tenant);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    tenant TEXT NOT NULL REFERENCES customers(id),
    step INTEGER NOT NULL,
    language TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    content TEXT NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    UNIQUE (incident_id, tenant, step, language)
) STRICT;
CREATE INDEX notices_tenant ON notices (tenant, incident_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id INTEGER NOT NULL REFERENCES notices(id),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE webhooks (
    tenant TEXT PRIMARY KEY REFERENCES customers(id),
    url TEXT,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
) STRICT;
"#;

/// A customer's webhook for breach notices. Its signing secret is not stored: it is derived
/// from the customer's key and the generation, which grows with every change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    /// The customer.
    pub customer: CustomerId,
    /// Where notices are posted.
    pub url: String,
    /// Bumped by every change, so a new registration gets a new secret.
    pub generation: u64,
    /// Set at.
    pub created_at: Timestamp,
    /// Set by.
    pub created_by: String,
}

/// A new entry in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    /// Where it came from.
    pub source: Source,
    /// What it is.
    pub kind: IncidentKind,
    /// Who reported it (user name, or a free-text name for an outside reporter).
    pub reported_by: String,
    /// The customer that reported it, for a customer's report.
    pub reporter_tenant: Option<CustomerId>,
    /// To whom it was reported.
    pub reported_to: String,
    /// When the processor became aware.
    pub aware_at: Timestamp,
    /// When it was registered.
    pub created_at: Timestamp,
    /// What is known.
    pub details: Details,
}

/// A customer an incident touches, with its notice deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedCustomer {
    /// The customer.
    pub customer: CustomerId,
    /// When its first notice is due.
    pub due_at: Timestamp,
    /// What scoping found, if it was scoped.
    pub scope: Option<CustomerScope>,
    /// Added at.
    pub added_at: Timestamp,
    /// Added by.
    pub added_by: String,
    /// When its first notice was first delivered (read from the outbox).
    pub notified_at: Option<Timestamp>,
}

/// A step in an incident's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentEvent {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// From (absent for the registration).
    pub from: Option<Status>,
    /// To.
    pub to: Status,
    /// Why, or what changed.
    pub note: String,
}

/// An incident with its history and the customers it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    /// Number in the register.
    pub id: u64,
    /// Where it came from.
    pub source: Source,
    /// What it is.
    pub kind: IncidentKind,
    /// Who reported it.
    pub reported_by: String,
    /// The reporting customer, if a customer reported it.
    pub reporter_tenant: Option<CustomerId>,
    /// To whom.
    pub reported_to: String,
    /// When the processor became aware.
    pub aware_at: Timestamp,
    /// When registered.
    pub created_at: Timestamp,
    /// Workflow status.
    pub status: Status,
    /// What is known.
    pub details: Details,
    /// Changes with every write; a change names the version it read.
    pub version: u64,
    /// Customers it touches.
    pub customers: Vec<AffectedCustomer>,
    /// Its history, oldest first.
    pub events: Vec<IncidentEvent>,
}

/// A change to an incident, applied only if it is still at `version`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentChange {
    /// New details.
    pub details: Option<Details>,
    /// Move from the first status to the second.
    pub status: Option<(Status, Status)>,
    /// Add these customers (or replace their scope and deadline).
    pub customers: Vec<AffectedCustomer>,
    /// Remove these customers (only those without a notice).
    pub remove_customers: Vec<CustomerId>,
}

/// A notice to queue: its content as sent, and who receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// The customer.
    pub customer: CustomerId,
    /// 0: first notice; then updates.
    pub step: u32,
    /// Language.
    pub language: Lang,
    /// Subject line.
    pub subject: String,
    /// Body as sent.
    pub body: String,
    /// Structured content.
    pub content: NoticeContent,
    /// E-mail addresses.
    pub recipients: Vec<String>,
}

/// A delivery of a notice to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// Id in the outbox.
    pub id: u64,
    /// The notice.
    pub notice_id: u64,
    /// `email`.
    pub channel: String,
    /// Address.
    pub recipient: String,
    /// Stable key: the receiver deduplicates on it (the e-mail's Message-ID).
    pub idempotency_key: String,
    /// Whether it was delivered.
    pub sent_at: Option<Timestamp>,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt, while pending.
    pub next_attempt_at: Timestamp,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

/// A notice as kept: content snapshot and delivery status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Id.
    pub id: u64,
    /// Incident.
    pub incident_id: u64,
    /// Customer.
    pub customer: CustomerId,
    /// Step.
    pub step: u32,
    /// Language.
    pub language: Lang,
    /// Composed at.
    pub created_at: Timestamp,
    /// Composed by.
    pub created_by: String,
    /// Subject as sent.
    pub subject: String,
    /// Body as sent.
    pub body: String,
    /// Structured content.
    pub content: NoticeContent,
    /// When the customer acknowledged receipt.
    pub acknowledged_at: Option<Timestamp>,
    /// Who acknowledged.
    pub acknowledged_by: Option<String>,
    /// Its deliveries.
    pub deliveries: Vec<DeliveryRecord>,
}

/// What a delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Accepted by the receiver at this time.
    Sent(Timestamp),
    /// Failed; try again at this time.
    Failed {
        /// Why (safe to show).
        error: String,
        /// Next attempt.
        retry_at: Timestamp,
    },
}

/// An affected customer whose first notice has not been delivered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFirstNotice {
    /// The incident.
    pub incident: u64,
    /// The customer.
    pub customer: CustomerId,
    /// When the first notice is due.
    pub due_at: Timestamp,
    /// When the processor became aware of the incident.
    pub aware_at: Timestamp,
}

/// Reach of access entries into a customer's vault, counted from its current rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VaultReach {
    /// Distinct records.
    pub records: u64,
    /// Distinct data subjects.
    pub subjects: u64,
}

fn json_err(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

fn enum_str<T: serde::Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v).map_err(db_err)? {
        serde_json::Value::String(s) => Ok(s),
        _ => Err(db_err("not a string enum")),
    }
}

fn enum_from<T: serde::de::DeserializeOwned>(s: String) -> rusqlite::Result<T> {
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
        let noticed: bool = c
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM notices WHERE incident_id = ?1 AND tenant = ?2)",
                params![id, t.as_str()],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if noticed {
            return Err(Error::new(
                ErrorCode::IncidentTransitionNotAllowed,
                format!(
                    "customer `{t}` has been sent a notice about incident {}; it stays on the incident",
                    inc.id
                ),
            ));
        }
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

fn delivery_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeliveryRecord> {
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

impl SqliteStore {
    pub(crate) async fn create_incident_impl(&self, new: &NewIncident) -> Result<IncidentRecord> {
        let new = new.clone();
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
            load_incident(c, id)?.ok_or_else(|| not_found(id))
        })
        .await
    }

    pub(crate) async fn incident_impl(&self, id: u64) -> Result<Option<IncidentRecord>> {
        self.read(move |c| load_incident(c, id)).await
    }

    pub(crate) async fn incidents_impl(&self, tenant: Option<&CustomerId>) -> Result<Vec<IncidentRecord>> {
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

    pub(crate) async fn update_incident_impl(
        &self,
        id: u64,
        version: u64,
        change: &IncidentChange,
        event: &IncidentEvent,
    ) -> Result<IncidentRecord> {
        let (change, event) = (change.clone(), event.clone());
        self.write(move |c| {
            let inc = claim(c, id, version)?;
            apply_change(c, &inc, &change)?;
            add_event(c, id, &event)?;
            load_incident(c, id)?.ok_or_else(|| not_found(id))
        })
        .await
    }

    pub(crate) async fn add_notices_impl(
        &self,
        id: u64,
        version: u64,
        notices: &[NewNotice],
        created: (Timestamp, &str),
        change: &IncidentChange,
        event: &IncidentEvent,
    ) -> Result<(IncidentRecord, Vec<NoticeRecord>)> {
        let (notices, change, event) = (notices.to_vec(), change.clone(), event.clone());
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
                    Err(e) if crate::sqlite::is_unique_violation(&e) => {
                        return Err(Error::new(
                            ErrorCode::IncidentVersionConflict,
                            format!("notice {} of incident {id} to `{}` in `{}` exists already", n.step, n.customer, n.language.tag()),
                        ));
                    }
                    Err(e) => return Err(db_err(e)),
                }
                let notice_id = c.last_insert_rowid();
                for (i, to) in n.recipients.iter().enumerate() {
                    let key = format!("art28-incident-{id}-{}-{}-{}-{i}", n.customer, n.step, n.language.tag());
                    c.execute(
                        "INSERT INTO outbox (notice_id, channel, recipient, idempotency_key, status, next_attempt_at)
                         VALUES (?1, 'email', ?2, ?3, 'pending', ?4)",
                        params![notice_id, to, key, micros(at)],
                    )
                    .map_err(db_err)?;
                }
                let hook: Option<String> = c
                    .prepare_cached("SELECT url FROM webhooks WHERE tenant = ?1 AND url IS NOT NULL")
                    .and_then(|mut st| st.query_row([n.customer.as_str()], |r| r.get(0)).optional())
                    .map_err(db_err)?;
                if let Some(url) = hook {
                    let key = format!(
                        "art28-incident-{id}-{}-{}-{}-webhook",
                        n.customer,
                        n.step,
                        n.language.tag()
                    );
                    c.execute(
                        "INSERT INTO outbox (notice_id, channel, recipient, idempotency_key, status, next_attempt_at)
                         VALUES (?1, 'webhook', ?2, ?3, 'pending', ?4)",
                        params![notice_id, url, key, micros(at)],
                    )
                    .map_err(db_err)?;
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
            Ok((inc, notices))
        })
        .await
    }

    pub(crate) async fn notices_impl(
        &self,
        incident: Option<u64>,
        tenant: Option<&CustomerId>,
    ) -> Result<Vec<NoticeRecord>> {
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

    pub(crate) async fn acknowledge_notice_impl(
        &self,
        id: u64,
        tenant: &CustomerId,
        by: &str,
        at: Timestamp,
    ) -> Result<NoticeRecord> {
        let (tenant, by) = (tenant.as_str().to_string(), by.to_string());
        self.write(move |c| {
            c.execute(
                "UPDATE notices SET acknowledged_at = ?3, acknowledged_by = ?4
                 WHERE id = ?1 AND tenant = ?2 AND acknowledged_at IS NULL",
                params![id as i64, tenant, micros(at), by],
            )
            .map_err(db_err)?;
            let id = id as i64;
            load_notices(c, "id = ?1 AND tenant = ?2", &[&id, &tenant])?
                .pop()
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::NoticeNotFound,
                        format!("there is no notice {id} for this customer"),
                    )
                })
        })
        .await
    }

    pub(crate) async fn due_deliveries_impl(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
    ) -> Result<Vec<(DeliveryRecord, NoticeRecord)>> {
        let email = channels.contains(&"email");
        let webhook = channels.contains(&"webhook");
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1
                     AND ((channel = 'email' AND ?3) OR (channel = 'webhook' AND ?4))
                     ORDER BY next_attempt_at, id LIMIT ?2"
                ))
                .map_err(db_err)?;
            let due = st
                .query_map(params![micros(now), limit as i64, email, webhook], delivery_row)
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(db_err)?;
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

    pub(crate) async fn record_delivery_impl(&self, id: u64, outcome: &DeliveryOutcome) -> Result<()> {
        let outcome = outcome.clone();
        self.write(move |c| {
            match outcome {
                DeliveryOutcome::Sent(at) => c.execute(
                    "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, last_error = NULL
                     WHERE id = ?1 AND status = 'pending'",
                    params![id as i64, micros(at)],
                ),
                DeliveryOutcome::Failed { error, retry_at } => c.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
                     WHERE id = ?1 AND status = 'pending'",
                    params![id as i64, error, micros(retry_at)],
                ),
            }
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn log_window_impl(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> Result<Vec<AccessEntry>> {
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

    pub(crate) async fn vault_reach_impl(
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

    pub(crate) async fn set_webhook_impl(
        &self,
        tenant: &CustomerId,
        url: Option<&str>,
        at: Timestamp,
        by: &str,
        events: &[crate::NewSecurityEvent],
    ) -> Result<Option<WebhookRecord>> {
        let (tenant, url, by, events) = (tenant.clone(), url.map(str::to_string), by.to_string(), events.to_vec());
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
            crate::accounts::insert_events(c, &events)?;
            load_webhook(c, t)
        })
        .await
    }

    pub(crate) async fn pending_first_notices_impl(&self) -> Result<Vec<PendingFirstNotice>> {
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

    pub(crate) async fn webhook_impl(&self, tenant: &CustomerId) -> Result<Option<WebhookRecord>> {
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
