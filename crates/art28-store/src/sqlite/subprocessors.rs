//! The sub-processor register in SQLite: entries with their history and signed contracts,
//! changes announced to customers with each customer's answer and its history, the
//! announcements as sent with their outbox, list requests and feed key generations.
//!
//! As in the incident register, an announcement and its deliveries are written in one
//! transaction, and a change's access entries are appended last in its transaction, after
//! every precondition held, so a refused change writes none.

use super::incidents::{Outbox, append_all, delivery_row, enum_from, enum_str, json_err, prepare};
use super::{SqliteStore, db_err, from_micros, is_unique_violation, log, micros, parse_text};
use crate::SubprocessorStore;
use crate::model::*;
use art28_core::access::AccessEntry;
use art28_core::date::Date;
use art28_core::ids::CustomerId;
use art28_core::subprocessor::{ChangeKind, Contract, CustomerState, Entry};
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(db_err)
}

fn from_json<T: serde::de::DeserializeOwned>(s: String) -> rusqlite::Result<T> {
    serde_json::from_str(&s).map_err(json_err)
}

fn state_from(s: String) -> rusqlite::Result<CustomerState> {
    CustomerState::parse(&s).ok_or_else(|| json_err(format!("unknown customer state {s}")))
}

fn kind_from(s: String) -> rusqlite::Result<ChangeKind> {
    ChangeKind::parse(&s).ok_or_else(|| json_err(format!("unknown change kind {s}")))
}

fn opt_date(v: Option<String>) -> rusqlite::Result<Option<Date>> {
    v.map(parse_text).transpose()
}

fn opt_micros(v: Option<i64>) -> rusqlite::Result<Option<Timestamp>> {
    v.map(from_micros).transpose()
}

fn rows<T>(
    c: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    c.prepare_cached(sql)
        .and_then(|mut st| st.query_map(args, row)?.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(db_err)
}

fn not_found(id: u64) -> Error {
    Error::new(
        ErrorCode::SubprocessorNotFound,
        format!("there is no sub-processor {id}"),
    )
}

fn change_not_found(id: u64) -> Error {
    Error::new(
        ErrorCode::SubprocessorChangeNotFound,
        format!("there is no change {id} for this customer"),
    )
}

// ---------------------------------------------------------------- entries

const SP_COLS: &str = "id, version, entry, contract, created_at";

fn sp_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubprocessorRecord> {
    Ok(SubprocessorRecord {
        id: r.get::<_, i64>(0)? as u64,
        version: r.get::<_, i64>(1)? as u32,
        entry: from_json(r.get(2)?)?,
        contract: r.get::<_, Option<String>>(3)?.map(from_json).transpose()?,
        created_at: from_micros(r.get(4)?)?,
        history: Vec::new(),
    })
}

fn fill_history(c: &Connection, sp: &mut SubprocessorRecord) -> Result<()> {
    sp.history = rows(
        c,
        "SELECT at, by, version, note FROM subprocessor_events WHERE subprocessor_id = ?1 ORDER BY id",
        &[&(sp.id as i64)],
        |r| {
            Ok(SubprocessorEvent {
                at: from_micros(r.get(0)?)?,
                by: r.get(1)?,
                version: r.get::<_, i64>(2)? as u32,
                note: r.get(3)?,
            })
        },
    )?;
    Ok(())
}

fn load_subprocessors(c: &Connection, id: Option<u64>) -> Result<Vec<SubprocessorRecord>> {
    let id = id.map(|i| i as i64);
    let mut all = rows(
        c,
        &format!("SELECT {SP_COLS} FROM subprocessors WHERE ?1 IS NULL OR id = ?1 ORDER BY id"),
        &[&id],
        sp_row,
    )?;
    for sp in &mut all {
        fill_history(c, sp)?;
    }
    Ok(all)
}

fn load_subprocessor(c: &Connection, id: u64) -> Result<Option<SubprocessorRecord>> {
    Ok(load_subprocessors(c, Some(id))?.pop())
}

fn add_sp_event(c: &Connection, id: u64, at: Timestamp, by: &str, version: u32, note: &str) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO subprocessor_events (subprocessor_id, at, by, version, note) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| st.execute(params![id as i64, micros(at), by, version as i64, note]))
    .map_err(db_err)?;
    Ok(())
}

/// The key a name is unique by: compared without case.
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// `subprocessor_exists` if another entry (not `except`) has the name.
fn check_name(c: &Connection, name: &str, except: Option<u64>) -> Result<()> {
    let holder: Option<i64> = c
        .prepare_cached("SELECT id FROM subprocessors WHERE name_key = ?1")
        .and_then(|mut st| st.query_row([name_key(name)], |r| r.get(0)).optional())
        .map_err(db_err)?;
    match holder {
        Some(other) if Some(other as u64) != except => Err(Error::new(
            ErrorCode::SubprocessorExists,
            format!("a sub-processor named `{name}` is registered already"),
        )),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------- changes

const CHANGE_COLS: &str =
    "id, kind, subprocessor, version, entry, replaces_id, replaces_name, effective, note, announced_at, announced_by";

fn change_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeRecord> {
    let replaces = match (r.get::<_, Option<i64>>(5)?, r.get::<_, Option<String>>(6)?) {
        (Some(id), Some(name)) => Some((id as u64, name)),
        _ => None,
    };
    Ok(ChangeRecord {
        id: r.get::<_, i64>(0)? as u64,
        kind: kind_from(r.get(1)?)?,
        subprocessor: r.get::<_, i64>(2)? as u64,
        version: r.get::<_, i64>(3)? as u32,
        entry: from_json(r.get(4)?)?,
        replaces,
        effective: parse_text(r.get(7)?)?,
        note: from_json(r.get(8)?)?,
        announced_at: from_micros(r.get(9)?)?,
        announced_by: r.get(10)?,
        customers: Vec::new(),
    })
}

/// The change's customers (all, or `tenant`'s only), by id, each with its history.
fn fill_customers(c: &Connection, ch: &mut ChangeRecord, tenant: Option<&str>) -> Result<()> {
    let id = ch.id as i64;
    let mut customers = rows(
        c,
        "SELECT tenant, authorisation, state, rule, objection_until, decided_at, termination_until
         FROM subprocessor_change_customers WHERE change_id = ?1 AND (?2 IS NULL OR tenant = ?2) ORDER BY tenant",
        &[&id, &tenant],
        |r| {
            Ok(ChangeCustomer {
                customer: parse_text(r.get(0)?)?,
                authorisation: enum_from(r.get(1)?)?,
                state: state_from(r.get(2)?)?,
                rule: r.get(3)?,
                objection_until: opt_date(r.get(4)?)?,
                decided_at: opt_micros(r.get(5)?)?,
                termination_until: opt_date(r.get(6)?)?,
                events: Vec::new(),
            })
        },
    )?;
    for cu in &mut customers {
        cu.events = rows(
            c,
            "SELECT at, by, from_state, to_state, note FROM subprocessor_change_events
             WHERE change_id = ?1 AND tenant = ?2 ORDER BY id",
            &[&id, &cu.customer.as_str()],
            |r| {
                Ok(ChangeEvent {
                    at: from_micros(r.get(0)?)?,
                    by: r.get(1)?,
                    from: r.get::<_, Option<String>>(2)?.map(state_from).transpose()?,
                    to: state_from(r.get(3)?)?,
                    note: r.get(4)?,
                })
            },
        )?;
    }
    ch.customers = customers;
    Ok(())
}

/// Changes (one, or all), or those that reach `tenant` with only its row, oldest first.
fn load_changes(c: &Connection, id: Option<u64>, tenant: Option<&str>) -> Result<Vec<ChangeRecord>> {
    let id = id.map(|i| i as i64);
    let mut all = rows(
        c,
        &format!(
            "SELECT {CHANGE_COLS} FROM subprocessor_changes
             WHERE (?1 IS NULL OR id = ?1)
               AND (?2 IS NULL OR id IN (SELECT change_id FROM subprocessor_change_customers WHERE tenant = ?2))
             ORDER BY id"
        ),
        &[&id, &tenant],
        change_row,
    )?;
    for ch in &mut all {
        fill_customers(c, ch, tenant)?;
    }
    Ok(all)
}

fn add_change_event(c: &Connection, change: u64, tenant: &str, e: &ChangeEvent) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO subprocessor_change_events (change_id, tenant, at, by, from_state, to_state, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut st| {
        st.execute(params![
            change as i64,
            tenant,
            micros(e.at),
            e.by,
            e.from.map(CustomerState::as_str),
            e.to.as_str(),
            e.note
        ])
    })
    .map_err(db_err)?;
    Ok(())
}

/// Store announcements of a change, composed at `at`, and queue their deliveries (first
/// attempt at `at`).
fn insert_announcements(c: &Connection, change: u64, at: Timestamp, announcements: &[NewAnnouncement]) -> Result<()> {
    for a in announcements {
        c.prepare_cached(
            "INSERT INTO subprocessor_announcements (change_id, tenant, language, created_at, subject, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut st| {
            st.execute(params![
                change as i64,
                a.customer.as_str(),
                a.language.tag(),
                micros(at),
                a.subject,
                a.body
            ])
        })
        .map_err(db_err)?;
        let announcement = c.last_insert_rowid();
        for d in &a.deliveries {
            let queued = c
                .prepare_cached(
                    "INSERT INTO subprocessor_outbox (announcement_id, channel, recipient, idempotency_key, status, next_attempt_at)
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        announcement,
                        d.channel,
                        d.recipient,
                        d.idempotency_key,
                        micros(at)
                    ])
                });
            match queued {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Err(duplicate_key(&d.idempotency_key)),
                Err(e) => return Err(db_err(e)),
            }
        }
    }
    Ok(())
}

/// A delivery key that is queued already: the announcement was made before.
pub(crate) fn duplicate_key(key: &str) -> Error {
    Error::new(
        ErrorCode::SubprocessorStepNotAllowed,
        format!("a delivery with the key `{key}` is queued already"),
    )
}

// ---------------------------------------------------------------- announcements

const ANNOUNCEMENT_COLS: &str = "id, change_id, tenant, language, created_at, subject, body";

/// The announcements' outbox.
const ANNOUNCEMENTS: Outbox = Outbox {
    table: "subprocessor_outbox",
    message: "announcement_id",
};

fn announcement_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AnnouncementRecord> {
    Ok(AnnouncementRecord {
        id: r.get::<_, i64>(0)? as u64,
        change_id: r.get::<_, i64>(1)? as u64,
        customer: parse_text(r.get(2)?)?,
        language: parse_text(r.get(3)?)?,
        created_at: from_micros(r.get(4)?)?,
        subject: r.get(5)?,
        body: r.get(6)?,
        deliveries: Vec::new(),
    })
}

fn load_announcements(
    c: &Connection,
    sql_where: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<AnnouncementRecord>> {
    let mut all = rows(
        c,
        &format!("SELECT {ANNOUNCEMENT_COLS} FROM subprocessor_announcements WHERE {sql_where} ORDER BY id"),
        args,
        announcement_row,
    )?;
    for a in &mut all {
        a.deliveries = rows(
            c,
            &format!(
                "SELECT {} FROM subprocessor_outbox WHERE announcement_id = ?1 ORDER BY id",
                ANNOUNCEMENTS.cols()
            ),
            &[&(a.id as i64)],
            delivery_row,
        )?;
    }
    Ok(all)
}

// ---------------------------------------------------------------- list requests

const REQUEST_COLS: &str = "id, tenant, requested_at, requested_by, due_at, note, answered_at, answered_by, answer_on";

fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ListRequestRecord> {
    Ok(ListRequestRecord {
        id: r.get::<_, i64>(0)? as u64,
        customer: parse_text(r.get(1)?)?,
        requested_at: from_micros(r.get(2)?)?,
        requested_by: r.get(3)?,
        due_at: opt_micros(r.get(4)?)?,
        note: r.get(5)?,
        answered_at: opt_micros(r.get(6)?)?,
        answered_by: r.get(7)?,
        answer_on: opt_date(r.get(8)?)?,
    })
}

fn load_request(c: &Connection, id: u64, tenant: &str) -> Result<Option<ListRequestRecord>> {
    Ok(rows(
        c,
        &format!("SELECT {REQUEST_COLS} FROM subprocessor_list_requests WHERE id = ?1 AND tenant = ?2"),
        &[&(id as i64), &tenant],
        request_row,
    )?
    .pop())
}

fn generation(c: &Connection, tenant: &str) -> Result<u64> {
    let g: Option<i64> = c
        .prepare_cached("SELECT generation FROM subprocessor_feeds WHERE tenant = ?1")
        .and_then(|mut st| st.query_row([tenant], |r| r.get(0)).optional())
        .map_err(db_err)?;
    Ok(g.unwrap_or(0) as u64)
}

#[async_trait::async_trait]
impl SubprocessorStore for SqliteStore {
    async fn create_subprocessor(&self, entry: &Entry, at: Timestamp, by: &str) -> Result<SubprocessorRecord> {
        let (entry, by) = (entry.clone(), by.to_string());
        self.write(move |c| {
            check_name(c, &entry.name, None)?;
            c.execute(
                "INSERT INTO subprocessors (name, name_key, version, entry, created_at) VALUES (?1, ?2, 1, ?3, ?4)",
                params![entry.name, name_key(&entry.name), to_json(&entry)?, micros(at)],
            )
            .map_err(db_err)?;
            let id = c.last_insert_rowid() as u64;
            add_sp_event(c, id, at, &by, 1, "registered")?;
            load_subprocessor(c, id)?.ok_or_else(|| not_found(id))
        })
        .await
    }

    async fn update_subprocessor(
        &self,
        id: u64,
        version: u32,
        entry: &Entry,
        at: Timestamp,
        by: &str,
        note: &str,
    ) -> Result<SubprocessorRecord> {
        let (entry, by, note) = (entry.clone(), by.to_string(), note.to_string());
        self.write(move |c| {
            let sp = load_subprocessor(c, id)?.ok_or_else(|| not_found(id))?;
            if sp.version != version {
                return Err(Error::new(
                    ErrorCode::SubprocessorVersionConflict,
                    format!(
                        "sub-processor {id} is at version {}, not {version}: it changed since it was read",
                        sp.version
                    ),
                ));
            }
            check_name(c, &entry.name, Some(id))?;
            let next = version + 1;
            c.execute(
                "UPDATE subprocessors SET name = ?2, name_key = ?3, version = ?4, entry = ?5 WHERE id = ?1",
                params![
                    id as i64,
                    entry.name,
                    name_key(&entry.name),
                    next as i64,
                    to_json(&entry)?
                ],
            )
            .map_err(db_err)?;
            add_sp_event(c, id, at, &by, next, &note)?;
            load_subprocessor(c, id)?.ok_or_else(|| not_found(id))
        })
        .await
    }

    async fn put_contract(
        &self,
        id: u64,
        contract: &Contract,
        document: &[u8],
        at: Timestamp,
        by: &str,
    ) -> Result<SubprocessorRecord> {
        let (contract, document, by) = (contract.clone(), document.to_vec(), by.to_string());
        self.write(move |c| {
            let sp = load_subprocessor(c, id)?.ok_or_else(|| not_found(id))?;
            c.execute(
                "UPDATE subprocessors SET contract = ?2, contract_document = ?3 WHERE id = ?1",
                params![id as i64, to_json(&contract)?, document],
            )
            .map_err(db_err)?;
            add_sp_event(c, id, at, &by, sp.version, "contract")?;
            load_subprocessor(c, id)?.ok_or_else(|| not_found(id))
        })
        .await
    }

    async fn contract_document(&self, id: u64) -> Result<Option<Vec<u8>>> {
        self.read(move |c| {
            let doc: Option<Option<Vec<u8>>> = c
                .prepare_cached("SELECT contract_document FROM subprocessors WHERE id = ?1")
                .and_then(|mut st| st.query_row([id as i64], |r| r.get(0)).optional())
                .map_err(db_err)?;
            Ok(doc.flatten())
        })
        .await
    }

    async fn subprocessor(&self, id: u64) -> Result<Option<SubprocessorRecord>> {
        self.read(move |c| load_subprocessor(c, id)).await
    }

    async fn subprocessors(&self) -> Result<Vec<SubprocessorRecord>> {
        self.read(|c| load_subprocessors(c, None)).await
    }

    async fn announce_change(
        &self,
        change: &NewChange,
        announcements: &[NewAnnouncement],
        entries: &[AccessEntry],
    ) -> Result<ChangeRecord> {
        let (change, announcements, entries) = (change.clone(), announcements.to_vec(), prepare(entries));
        self.write(move |c| {
            c.execute(
                "INSERT INTO subprocessor_changes (id, kind, subprocessor, version, entry, replaces_id, replaces_name, effective, note, announced_at, announced_by)
                 VALUES (?11, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
                params![
                    change.kind.as_str(),
                    change.subprocessor as i64,
                    change.version as i64,
                    to_json(&change.entry)?,
                    change.replaces.as_ref().map(|(id, _)| *id as i64),
                    change.replaces.as_ref().map(|(_, name)| name.as_str()),
                    change.effective.to_string(),
                    to_json(&change.note)?,
                    micros(change.announced_at),
                    change.announced_by,
                    change.id as i64
                ],
            )
            .map_err(db_err)
            .and_then(|n| if n == 1 { Ok(()) } else { Err(taken(change.id)) })?;
            let id = change.id;
            for cu in &change.customers {
                let authorisation = enum_str(&cu.authorisation)?;
                c.prepare_cached(
                    "INSERT INTO subprocessor_change_customers (change_id, tenant, authorisation, state, rule, objection_until)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        id as i64,
                        cu.customer.as_str(),
                        authorisation,
                        cu.state.as_str(),
                        cu.rule,
                        cu.objection_until.map(|d| d.to_string())
                    ])
                })
                .map_err(db_err)?;
                add_change_event(
                    c,
                    id,
                    cu.customer.as_str(),
                    &ChangeEvent {
                        at: change.announced_at,
                        by: change.announced_by.clone(),
                        from: None,
                        to: cu.state,
                        note: String::new(),
                    },
                )?;
            }
            insert_announcements(c, id, change.announced_at, &announcements)?;
            let record = load_changes(c, Some(id), None)?.pop().ok_or_else(|| change_not_found(id))?;
            append_all(c, &entries)?;
            Ok(record)
        })
        .await
    }

    async fn change(&self, id: u64, tenant: Option<&CustomerId>) -> Result<Option<ChangeRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        self.read(move |c| Ok(load_changes(c, Some(id), tenant.as_deref())?.pop()))
            .await
    }

    async fn changes(&self, tenant: Option<&CustomerId>) -> Result<Vec<ChangeRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        self.read(move |c| load_changes(c, None, tenant.as_deref())).await
    }

    async fn answer_change(
        &self,
        id: u64,
        tenant: &CustomerId,
        answer: &ChangeAnswer,
        announcements: &[NewAnnouncement],
        entry: &AccessEntry,
    ) -> Result<ChangeRecord> {
        let (tenant, answer) = (tenant.as_str().to_string(), answer.clone());
        let (announcements, entry) = (announcements.to_vec(), log::Prepared::new(entry));
        self.write(move |c| {
            let state: Option<String> = c
                .prepare_cached("SELECT state FROM subprocessor_change_customers WHERE change_id = ?1 AND tenant = ?2")
                .and_then(|mut st| st.query_row(params![id as i64, tenant], |r| r.get(0)).optional())
                .map_err(db_err)?;
            let Some(state) = state else {
                return Err(change_not_found(id));
            };
            let moved = c
                .execute(
                    "UPDATE subprocessor_change_customers
                     SET state = ?4, decided_at = COALESCE(?5, decided_at), termination_until = COALESCE(?6, termination_until)
                     WHERE change_id = ?1 AND tenant = ?2 AND state = ?3",
                    params![
                        id as i64,
                        tenant,
                        answer.from.as_str(),
                        answer.event.to.as_str(),
                        answer.decided_at.map(micros),
                        answer.termination_until.map(|d| d.to_string())
                    ],
                )
                .map_err(db_err)?;
            if moved == 0 {
                return Err(Error::new(
                    ErrorCode::SubprocessorStepNotAllowed,
                    format!(
                        "the customer's answer to change {id} is `{state}`, not `{}`",
                        answer.from.as_str()
                    ),
                ));
            }
            add_change_event(c, id, &tenant, &answer.event)?;
            insert_announcements(c, id, answer.event.at, &announcements)?;
            let record = load_changes(c, Some(id), Some(&tenant))?
                .pop()
                .ok_or_else(|| change_not_found(id))?;
            log::append(c, &entry)?;
            Ok(record)
        })
        .await
    }

    async fn announcements(&self, change: Option<u64>, tenant: Option<&CustomerId>) -> Result<Vec<AnnouncementRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        let change = change.map(|i| i as i64);
        self.read(move |c| {
            load_announcements(
                c,
                "(?1 IS NULL OR change_id = ?1) AND (?2 IS NULL OR tenant = ?2)",
                &[&change, &tenant],
            )
        })
        .await
    }

    async fn due_announcement_deliveries(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<(DeliveryRecord, AnnouncementRecord)>> {
        let channels: Vec<String> = channels.iter().map(|c| c.to_string()).collect();
        // In the writer: the rows read are the rows leased.
        self.write(move |c| {
            let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
            let due = ANNOUNCEMENTS.lease(c, now, &channels, limit, lease_until)?;
            let mut out = Vec::with_capacity(due.len());
            for d in due {
                let aid = d.notice_id as i64;
                if let Some(a) = load_announcements(c, "id = ?1", &[&aid])?.pop() {
                    out.push((d, a));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn record_announcement_delivery(&self, id: u64, outcome: &DeliveryOutcome) -> Result<()> {
        let outcome = outcome.clone();
        self.write(move |c| ANNOUNCEMENTS.record(c, id, &outcome)).await
    }

    async fn create_list_request(&self, request: &NewListRequest, entry: &AccessEntry) -> Result<ListRequestRecord> {
        let (request, entry) = (request.clone(), log::Prepared::new(entry));
        self.write(move |c| {
            c.execute(
                "INSERT INTO subprocessor_list_requests (tenant, requested_at, requested_by, due_at, note)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    request.customer.as_str(),
                    micros(request.requested_at),
                    request.requested_by,
                    request.due_at.map(micros),
                    request.note
                ],
            )
            .map_err(db_err)?;
            let id = c.last_insert_rowid() as u64;
            let record = load_request(c, id, request.customer.as_str())?
                .ok_or_else(|| db_err("an inserted list request was not found"))?;
            log::append(c, &entry)?;
            Ok(record)
        })
        .await
    }

    async fn answer_list_request(
        &self,
        id: u64,
        tenant: &CustomerId,
        on: Date,
        at: Timestamp,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<ListRequestRecord> {
        let (tenant, by, entry) = (tenant.as_str().to_string(), by.to_string(), log::Prepared::new(entry));
        self.write(move |c| {
            let request = load_request(c, id, &tenant)?.ok_or_else(|| {
                Error::new(
                    ErrorCode::ListRequestNotFound,
                    format!("there is no list request {id} for this customer"),
                )
            })?;
            if request.answered_at.is_some() {
                return Err(Error::new(
                    ErrorCode::SubprocessorStepNotAllowed,
                    format!("list request {id} was answered already"),
                ));
            }
            c.execute(
                "UPDATE subprocessor_list_requests SET answered_at = ?2, answered_by = ?3, answer_on = ?4
                 WHERE id = ?1 AND answered_at IS NULL",
                params![id as i64, micros(at), by, on.to_string()],
            )
            .map_err(db_err)?;
            let record =
                load_request(c, id, &tenant)?.ok_or_else(|| db_err("an answered list request was not found"))?;
            log::append(c, &entry)?;
            Ok(record)
        })
        .await
    }

    async fn list_requests(&self, tenant: Option<&CustomerId>) -> Result<Vec<ListRequestRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        self.read(move |c| {
            rows(
                c,
                &format!(
                    "SELECT {REQUEST_COLS} FROM subprocessor_list_requests WHERE ?1 IS NULL OR tenant = ?1 ORDER BY id"
                ),
                &[&tenant],
                request_row,
            )
        })
        .await
    }

    async fn feed_generation(&self, tenant: &CustomerId) -> Result<u64> {
        let tenant = tenant.as_str().to_string();
        self.read(move |c| generation(c, &tenant)).await
    }

    async fn bump_feed_generation(&self, tenant: &CustomerId, at: Timestamp, entry: &AccessEntry) -> Result<u64> {
        let (tenant, entry) = (tenant.as_str().to_string(), log::Prepared::new(entry));
        self.write(move |c| {
            c.execute(
                "INSERT INTO subprocessor_feeds (tenant, generation, updated_at) VALUES (?1, 1, ?2)
                 ON CONFLICT (tenant) DO UPDATE SET generation = subprocessor_feeds.generation + 1,
                     updated_at = excluded.updated_at",
                params![tenant, micros(at)],
            )
            .map_err(db_err)?;
            let g = generation(c, &tenant)?;
            log::append(c, &entry)?;
            Ok(g)
        })
        .await
    }
}

/// Another change took the number the service composed its messages with.
pub(crate) fn taken(id: u64) -> Error {
    Error::new(
        ErrorCode::SubprocessorVersionConflict,
        format!("change {id} was announced meanwhile; announce again"),
    )
}
