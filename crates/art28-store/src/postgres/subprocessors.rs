//! The sub-processor register in PostgreSQL: entries with their history and signed contracts,
//! changes announced to customers with each customer's answer and its history, the
//! announcements as sent with their outbox, list requests and feed key generations.
//!
//! As in SQLite (and the incident register), writes run in the writer's transaction, in the
//! job's savepoint, and a change's access entries are appended last, after every precondition
//! held, so a refused change writes none; reads go over the pool.

use super::incidents::{
    Outbox, Params, append_all, delivery_row, enum_from, enum_str, json, opt_micros, prepare, small,
};
use super::{PgStore, Tx, col, db_err, from_micros, is_unique_violation, micros, parse, signed, unsigned};
use crate::SubprocessorStore;
use crate::model::*;
use crate::sqlite::log::Prepared;
use art28_core::access::AccessEntry;
use art28_core::date::Date;
use art28_core::ids::CustomerId;
use art28_core::subprocessor::{ChangeKind, Contract, CustomerState, Entry};
use art28_core::{Error, ErrorCode, Result};
use deadpool_postgres::ClientWrapper;
use jiff::Timestamp;
use std::collections::HashMap;
use tokio_postgres::Row;

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(db_err)
}

fn state_from(s: &str) -> Result<CustomerState> {
    CustomerState::parse(s).ok_or_else(|| db_err(format!("unknown customer state {s}")))
}

fn kind_from(s: &str) -> Result<ChangeKind> {
    ChangeKind::parse(s).ok_or_else(|| db_err(format!("unknown change kind {s}")))
}

fn opt_date(v: Option<&str>) -> Result<Option<Date>> {
    v.map(parse).transpose()
}

async fn query(c: &ClientWrapper, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
    let st = c.prepare_cached(sql).await.map_err(db_err)?;
    c.query(&st, params).await.map_err(db_err)
}

async fn execute(c: &ClientWrapper, sql: &str, params: Params<'_>) -> Result<u64> {
    let st = c.prepare_cached(sql).await.map_err(db_err)?;
    c.execute(&st, params).await.map_err(db_err)
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

/// A delivery key that is queued already: the announcement was made before.
fn duplicate_key(key: &str) -> Error {
    Error::new(
        ErrorCode::SubprocessorStepNotAllowed,
        format!("a delivery with the key `{key}` is queued already"),
    )
}

// ---------------------------------------------------------------- entries

const SP_COLS: &str = "id, version, entry, contract, created_at";

fn sp_row(r: &Row) -> Result<SubprocessorRecord> {
    Ok(SubprocessorRecord {
        id: unsigned(col(r, 0)?)?,
        version: small(col(r, 1)?)?,
        entry: json(col(r, 2)?)?,
        contract: col::<Option<&str>>(r, 3)?.map(json).transpose()?,
        created_at: from_micros(col(r, 4)?)?,
        history: Vec::new(),
    })
}

/// Entries (one, or all) by number, with their history.
async fn load_subprocessors(c: &ClientWrapper, id: Option<u64>) -> Result<Vec<SubprocessorRecord>> {
    let id = id.map(signed).transpose()?;
    let mut all = query(
        c,
        &format!("SELECT {SP_COLS} FROM subprocessors WHERE $1::bigint IS NULL OR id = $1 ORDER BY id"),
        &[&id],
    )
    .await?
    .iter()
    .map(sp_row)
    .collect::<Result<Vec<_>>>()?;
    if all.is_empty() {
        return Ok(all);
    }
    let at: HashMap<u64, usize> = all.iter().enumerate().map(|(n, s)| (s.id, n)).collect();
    for r in query(
        c,
        "SELECT subprocessor_id, at, by, version, note FROM subprocessor_events
         WHERE $1::bigint IS NULL OR subprocessor_id = $1 ORDER BY subprocessor_id, id",
        &[&id],
    )
    .await?
    {
        let owner = unsigned(col(&r, 0)?)?;
        if let Some(&n) = at.get(&owner) {
            all[n].history.push(SubprocessorEvent {
                at: from_micros(col(&r, 1)?)?,
                by: col(&r, 2)?,
                version: small(col(&r, 3)?)?,
                note: col(&r, 4)?,
            });
        }
    }
    Ok(all)
}

async fn load_subprocessor(c: &ClientWrapper, id: u64) -> Result<Option<SubprocessorRecord>> {
    Ok(load_subprocessors(c, Some(id)).await?.pop())
}

async fn add_sp_event(c: &ClientWrapper, id: u64, at: Timestamp, by: &str, version: u32, note: &str) -> Result<()> {
    execute(
        c,
        "INSERT INTO subprocessor_events (subprocessor_id, at, by, version, note) VALUES ($1, $2, $3, $4, $5)",
        &[&signed(id)?, &micros(at), &by, &i64::from(version), &note],
    )
    .await?;
    Ok(())
}

/// The key a name is unique by: compared without case (as SQLite's store folds it).
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// `subprocessor_exists` if another entry (not `except`) has the name.
async fn check_name(c: &ClientWrapper, name: &str, except: Option<u64>) -> Result<()> {
    let holder = query(
        c,
        "SELECT id FROM subprocessors WHERE name_key = $1",
        &[&name_key(name)],
    )
    .await?
    .first()
    .map(|r| col::<i64>(r, 0).and_then(unsigned))
    .transpose()?;
    match holder {
        Some(other) if Some(other) != except => Err(Error::new(
            ErrorCode::SubprocessorExists,
            format!("a sub-processor named `{name}` is registered already"),
        )),
        _ => Ok(()),
    }
}

async fn create(tx: &mut Tx, entry: Entry, at: Timestamp, by: String) -> Result<SubprocessorRecord> {
    let c = tx.c();
    check_name(c, &entry.name, None).await?;
    let row = query(
        c,
        "INSERT INTO subprocessors (name, name_key, version, entry, created_at) VALUES ($1, $2, 1, $3, $4) RETURNING id",
        &[&entry.name, &name_key(&entry.name), &to_json(&entry)?, &micros(at)],
    )
    .await?;
    let id = unsigned(col(row.first().ok_or_else(|| db_err("no id returned"))?, 0)?)?;
    add_sp_event(c, id, at, &by, 1, "registered").await?;
    load_subprocessor(c, id).await?.ok_or_else(|| not_found(id))
}

async fn update(
    tx: &mut Tx,
    (id, version): (u64, u32),
    entry: Entry,
    (at, by, note): (Timestamp, String, String),
) -> Result<SubprocessorRecord> {
    let c = tx.c();
    let sp = load_subprocessor(c, id).await?.ok_or_else(|| not_found(id))?;
    if sp.version != version {
        return Err(Error::new(
            ErrorCode::SubprocessorVersionConflict,
            format!(
                "sub-processor {id} is at version {}, not {version}: it changed since it was read",
                sp.version
            ),
        ));
    }
    check_name(c, &entry.name, Some(id)).await?;
    let next = version + 1;
    execute(
        c,
        "UPDATE subprocessors SET name = $2, name_key = $3, version = $4, entry = $5 WHERE id = $1",
        &[
            &signed(id)?,
            &entry.name,
            &name_key(&entry.name),
            &i64::from(next),
            &to_json(&entry)?,
        ],
    )
    .await?;
    add_sp_event(c, id, at, &by, next, &note).await?;
    load_subprocessor(c, id).await?.ok_or_else(|| not_found(id))
}

async fn keep_contract(
    tx: &mut Tx,
    id: u64,
    (contract, document): (Contract, Vec<u8>),
    (at, by): (Timestamp, String),
) -> Result<SubprocessorRecord> {
    let c = tx.c();
    let sp = load_subprocessor(c, id).await?.ok_or_else(|| not_found(id))?;
    execute(
        c,
        "UPDATE subprocessors SET contract = $2, contract_document = $3 WHERE id = $1",
        &[&signed(id)?, &to_json(&contract)?, &document],
    )
    .await?;
    add_sp_event(c, id, at, &by, sp.version, "contract").await?;
    load_subprocessor(c, id).await?.ok_or_else(|| not_found(id))
}

// ---------------------------------------------------------------- changes

const CHANGE_COLS: &str =
    "id, kind, subprocessor, version, entry, replaces_id, replaces_name, effective, note, announced_at, announced_by";

fn change_row(r: &Row) -> Result<ChangeRecord> {
    let replaces = match (col::<Option<i64>>(r, 5)?, col::<Option<String>>(r, 6)?) {
        (Some(id), Some(name)) => Some((unsigned(id)?, name)),
        _ => None,
    };
    Ok(ChangeRecord {
        id: unsigned(col(r, 0)?)?,
        kind: kind_from(col(r, 1)?)?,
        subprocessor: unsigned(col(r, 2)?)?,
        version: small(col(r, 3)?)?,
        entry: json(col(r, 4)?)?,
        replaces,
        effective: parse(col::<&str>(r, 7)?)?,
        note: json(col(r, 8)?)?,
        announced_at: from_micros(col(r, 9)?)?,
        announced_by: col(r, 10)?,
        customers: Vec::new(),
    })
}

/// Changes (one, or all), or those that reach `tenant` with only its row, oldest first; their
/// customers by id, each with its history oldest first.
async fn load_changes(c: &ClientWrapper, id: Option<u64>, tenant: Option<&str>) -> Result<Vec<ChangeRecord>> {
    let id = id.map(signed).transpose()?;
    let mut all = query(
        c,
        &format!(
            "SELECT {CHANGE_COLS} FROM subprocessor_changes
             WHERE ($1::bigint IS NULL OR id = $1)
               AND ($2::text IS NULL OR id IN (SELECT change_id FROM subprocessor_change_customers WHERE tenant = $2))
             ORDER BY id"
        ),
        &[&id, &tenant],
    )
    .await?
    .iter()
    .map(change_row)
    .collect::<Result<Vec<_>>>()?;
    if all.is_empty() {
        return Ok(all);
    }
    let ids = all.iter().map(|ch| signed(ch.id)).collect::<Result<Vec<_>>>()?;
    let at: HashMap<u64, usize> = all.iter().enumerate().map(|(n, ch)| (ch.id, n)).collect();
    let customers = query(
        c,
        "SELECT change_id, tenant, authorisation, state, rule, objection_until, decided_at, termination_until
         FROM subprocessor_change_customers WHERE change_id = ANY($1) AND ($2::text IS NULL OR tenant = $2)
         ORDER BY change_id, tenant",
        &[&ids, &tenant],
    )
    .await?;
    for r in &customers {
        let owner = unsigned(col(r, 0)?)?;
        if let Some(&n) = at.get(&owner) {
            all[n].customers.push(ChangeCustomer {
                customer: parse(col::<&str>(r, 1)?)?,
                authorisation: enum_from(col(r, 2)?)?,
                state: state_from(col(r, 3)?)?,
                rule: col(r, 4)?,
                objection_until: opt_date(col(r, 5)?)?,
                decided_at: opt_micros(col(r, 6)?)?,
                termination_until: opt_date(col(r, 7)?)?,
                events: Vec::new(),
            });
        }
    }
    let events = query(
        c,
        "SELECT change_id, tenant, at, by, from_state, to_state, note FROM subprocessor_change_events
         WHERE change_id = ANY($1) AND ($2::text IS NULL OR tenant = $2) ORDER BY change_id, tenant, id",
        &[&ids, &tenant],
    )
    .await?;
    for r in &events {
        let owner = unsigned(col(r, 0)?)?;
        let who: &str = col(r, 1)?;
        let Some(&n) = at.get(&owner) else { continue };
        if let Some(cu) = all[n].customers.iter_mut().find(|cu| cu.customer.as_str() == who) {
            cu.events.push(ChangeEvent {
                at: from_micros(col(r, 2)?)?,
                by: col(r, 3)?,
                from: col::<Option<&str>>(r, 4)?.map(state_from).transpose()?,
                to: state_from(col(r, 5)?)?,
                note: col(r, 6)?,
            });
        }
    }
    Ok(all)
}

async fn add_change_event(c: &ClientWrapper, change: u64, tenant: &str, e: &ChangeEvent) -> Result<()> {
    execute(
        c,
        "INSERT INTO subprocessor_change_events (change_id, tenant, at, by, from_state, to_state, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &signed(change)?,
            &tenant,
            &micros(e.at),
            &e.by,
            &e.from.map(CustomerState::as_str),
            &e.to.as_str(),
            &e.note,
        ],
    )
    .await?;
    Ok(())
}

/// Store announcements of a change, composed at `at`, and queue their deliveries (first
/// attempt at `at`).
async fn insert_announcements(
    c: &ClientWrapper,
    change: u64,
    at: Timestamp,
    announcements: &[NewAnnouncement],
) -> Result<()> {
    let change = signed(change)?;
    let insert_announcement = c
        .prepare_cached(
            "INSERT INTO subprocessor_announcements (change_id, tenant, language, created_at, subject, body)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .await
        .map_err(db_err)?;
    let insert_delivery = c
        .prepare_cached(
            "INSERT INTO subprocessor_outbox (announcement_id, channel, recipient, idempotency_key, status, next_attempt_at)
             VALUES ($1, $2, $3, $4, 'pending', $5)",
        )
        .await
        .map_err(db_err)?;
    for a in announcements {
        let row = c
            .query_one(
                &insert_announcement,
                &[
                    &change,
                    &a.customer.as_str(),
                    &a.language.tag(),
                    &micros(at),
                    &a.subject,
                    &a.body,
                ],
            )
            .await
            .map_err(db_err)?;
        let announcement: i64 = col(&row, 0)?;
        for d in &a.deliveries {
            c.execute(
                &insert_delivery,
                &[&announcement, &d.channel, &d.recipient, &d.idempotency_key, &micros(at)],
            )
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    duplicate_key(&d.idempotency_key)
                } else {
                    db_err(e)
                }
            })?;
        }
    }
    Ok(())
}

async fn announce(
    tx: &mut Tx,
    change: NewChange,
    announcements: Vec<NewAnnouncement>,
    entries: Vec<Prepared>,
) -> Result<ChangeRecord> {
    let c = tx.c();
    let row = query(
        c,
        "INSERT INTO subprocessor_changes (id, kind, subprocessor, version, entry, replaces_id, replaces_name, effective, note, announced_at, announced_by)
         VALUES ($11, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING RETURNING id",
        &[
            &change.kind.as_str(),
            &signed(change.subprocessor)?,
            &i64::from(change.version),
            &to_json(&change.entry)?,
            &change.replaces.as_ref().map(|(id, _)| signed(*id)).transpose()?,
            &change.replaces.as_ref().map(|(_, name)| name.as_str()),
            &change.effective.to_string(),
            &to_json(&change.note)?,
            &micros(change.announced_at),
            &change.announced_by,
            &signed(change.id)?,
        ],
    )
    .await?;
    let id = unsigned(col(row.first().ok_or_else(|| taken(change.id))?, 0)?)?;
    for cu in &change.customers {
        execute(
            c,
            "INSERT INTO subprocessor_change_customers (change_id, tenant, authorisation, state, rule, objection_until)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &signed(id)?,
                &cu.customer.as_str(),
                &enum_str(&cu.authorisation)?,
                &cu.state.as_str(),
                &cu.rule,
                &cu.objection_until.map(|d| d.to_string()),
            ],
        )
        .await?;
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
        )
        .await?;
    }
    insert_announcements(c, id, change.announced_at, &announcements).await?;
    let record = load_changes(c, Some(id), None)
        .await?
        .pop()
        .ok_or_else(|| change_not_found(id))?;
    append_all(tx, &entries)?;
    Ok(record)
}

async fn answer(
    tx: &mut Tx,
    (id, tenant): (u64, String),
    answer: ChangeAnswer,
    announcements: Vec<NewAnnouncement>,
    entry: Prepared,
) -> Result<ChangeRecord> {
    let c = tx.c();
    let cid = signed(id)?;
    let state = query(
        c,
        "SELECT state FROM subprocessor_change_customers WHERE change_id = $1 AND tenant = $2 FOR UPDATE",
        &[&cid, &tenant],
    )
    .await?
    .first()
    .map(|r| col::<String>(r, 0))
    .transpose()?
    .ok_or_else(|| change_not_found(id))?;
    let moved = execute(
        c,
        "UPDATE subprocessor_change_customers
         SET state = $4, decided_at = COALESCE($5, decided_at), termination_until = COALESCE($6, termination_until)
         WHERE change_id = $1 AND tenant = $2 AND state = $3",
        &[
            &cid,
            &tenant,
            &answer.from.as_str(),
            &answer.event.to.as_str(),
            &answer.decided_at.map(micros),
            &answer.termination_until.map(|d| d.to_string()),
        ],
    )
    .await?;
    if moved == 0 {
        return Err(Error::new(
            ErrorCode::SubprocessorStepNotAllowed,
            format!(
                "the customer's answer to change {id} is `{state}`, not `{}`",
                answer.from.as_str()
            ),
        ));
    }
    add_change_event(c, id, &tenant, &answer.event).await?;
    insert_announcements(c, id, answer.event.at, &announcements).await?;
    let record = load_changes(c, Some(id), Some(&tenant))
        .await?
        .pop()
        .ok_or_else(|| change_not_found(id))?;
    tx.append(&entry)?;
    Ok(record)
}

// ---------------------------------------------------------------- announcements

const ANNOUNCEMENT_COLS: &str = "id, change_id, tenant, language, created_at, subject, body";

/// The announcements' outbox.
const ANNOUNCEMENTS: Outbox = Outbox {
    table: "subprocessor_outbox",
    message: "announcement_id",
};

fn announcement_row(r: &Row) -> Result<AnnouncementRecord> {
    Ok(AnnouncementRecord {
        id: unsigned(col(r, 0)?)?,
        change_id: unsigned(col(r, 1)?)?,
        customer: parse(col::<&str>(r, 2)?)?,
        language: parse(col::<&str>(r, 3)?)?,
        created_at: from_micros(col(r, 4)?)?,
        subject: col(r, 5)?,
        body: col(r, 6)?,
        deliveries: Vec::new(),
    })
}

/// Announcements a query selects, by id, with their deliveries.
async fn load_announcements(c: &ClientWrapper, sql_where: &str, params: Params<'_>) -> Result<Vec<AnnouncementRecord>> {
    let mut all = query(
        c,
        &format!("SELECT {ANNOUNCEMENT_COLS} FROM subprocessor_announcements WHERE {sql_where} ORDER BY id"),
        params,
    )
    .await?
    .iter()
    .map(announcement_row)
    .collect::<Result<Vec<_>>>()?;
    if all.is_empty() {
        return Ok(all);
    }
    let ids = all.iter().map(|a| signed(a.id)).collect::<Result<Vec<_>>>()?;
    let at: HashMap<u64, usize> = all.iter().enumerate().map(|(n, a)| (a.id, n)).collect();
    for r in query(
        c,
        &format!(
            "SELECT {} FROM subprocessor_outbox WHERE announcement_id = ANY($1) ORDER BY announcement_id, id",
            ANNOUNCEMENTS.cols()
        ),
        &[&ids],
    )
    .await?
    {
        let d = delivery_row(&r)?;
        if let Some(&n) = at.get(&d.notice_id) {
            all[n].deliveries.push(d);
        }
    }
    Ok(all)
}

// ---------------------------------------------------------------- list requests and feeds

const REQUEST_COLS: &str = "id, tenant, requested_at, requested_by, due_at, note, answered_at, answered_by, answer_on";

fn request_row(r: &Row) -> Result<ListRequestRecord> {
    Ok(ListRequestRecord {
        id: unsigned(col(r, 0)?)?,
        customer: parse(col::<&str>(r, 1)?)?,
        requested_at: from_micros(col(r, 2)?)?,
        requested_by: col(r, 3)?,
        due_at: opt_micros(col(r, 4)?)?,
        note: col(r, 5)?,
        answered_at: opt_micros(col(r, 6)?)?,
        answered_by: col(r, 7)?,
        answer_on: opt_date(col(r, 8)?)?,
    })
}

async fn load_request(c: &ClientWrapper, id: u64, tenant: &str) -> Result<Option<ListRequestRecord>> {
    query(
        c,
        &format!("SELECT {REQUEST_COLS} FROM subprocessor_list_requests WHERE id = $1 AND tenant = $2"),
        &[&signed(id)?, &tenant],
    )
    .await?
    .first()
    .map(request_row)
    .transpose()
}

async fn request(tx: &mut Tx, request: NewListRequest, entry: Prepared) -> Result<ListRequestRecord> {
    let c = tx.c();
    let row = query(
        c,
        "INSERT INTO subprocessor_list_requests (tenant, requested_at, requested_by, due_at, note)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &[
            &request.customer.as_str(),
            &micros(request.requested_at),
            &request.requested_by,
            &request.due_at.map(micros),
            &request.note,
        ],
    )
    .await?;
    let id = unsigned(col(row.first().ok_or_else(|| db_err("no id returned"))?, 0)?)?;
    let record = load_request(c, id, request.customer.as_str())
        .await?
        .ok_or_else(|| db_err("an inserted list request was not found"))?;
    tx.append(&entry)?;
    Ok(record)
}

async fn answer_request(
    tx: &mut Tx,
    (id, tenant): (u64, String),
    (on, at, by): (Date, Timestamp, String),
    entry: Prepared,
) -> Result<ListRequestRecord> {
    let c = tx.c();
    let request = load_request(c, id, &tenant).await?.ok_or_else(|| {
        Error::new(
            ErrorCode::ListRequestNotFound,
            format!("there is no list request {id} for this customer"),
        )
    })?;
    let answered_already = || {
        Error::new(
            ErrorCode::SubprocessorStepNotAllowed,
            format!("list request {id} was answered already"),
        )
    };
    if request.answered_at.is_some() {
        return Err(answered_already());
    }
    let answered = execute(
        c,
        "UPDATE subprocessor_list_requests SET answered_at = $2, answered_by = $3, answer_on = $4
         WHERE id = $1 AND answered_at IS NULL",
        &[&signed(id)?, &micros(at), &by, &on.to_string()],
    )
    .await?;
    if answered == 0 {
        return Err(answered_already());
    }
    let record = load_request(c, id, &tenant)
        .await?
        .ok_or_else(|| db_err("an answered list request was not found"))?;
    tx.append(&entry)?;
    Ok(record)
}

async fn generation(c: &ClientWrapper, tenant: &str) -> Result<u64> {
    query(
        c,
        "SELECT generation FROM subprocessor_feeds WHERE tenant = $1",
        &[&tenant],
    )
    .await?
    .first()
    .map(|r| col::<i64>(r, 0).and_then(unsigned))
    .transpose()
    .map(|g| g.unwrap_or(0))
}

async fn bump(tx: &mut Tx, tenant: String, at: Timestamp, entry: Prepared) -> Result<u64> {
    let c = tx.c();
    let g = query(
        c,
        "INSERT INTO subprocessor_feeds (tenant, generation, updated_at) VALUES ($1, 1, $2)
         ON CONFLICT (tenant) DO UPDATE SET generation = subprocessor_feeds.generation + 1,
             updated_at = excluded.updated_at
         RETURNING generation",
        &[&tenant, &micros(at)],
    )
    .await?;
    let g = unsigned(col(g.first().ok_or_else(|| db_err("no generation returned"))?, 0)?)?;
    tx.append(&entry)?;
    Ok(g)
}

#[async_trait::async_trait]
impl SubprocessorStore for PgStore {
    async fn create_subprocessor(&self, entry: &Entry, at: Timestamp, by: &str) -> Result<SubprocessorRecord> {
        let (entry, by) = (entry.clone(), by.to_string());
        self.write(move |tx| Box::pin(create(tx, entry, at, by))).await
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
        let (entry, when) = (entry.clone(), (at, by.to_string(), note.to_string()));
        self.write(move |tx| Box::pin(update(tx, (id, version), entry, when)))
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
        let (kept, when) = ((contract.clone(), document.to_vec()), (at, by.to_string()));
        self.write(move |tx| Box::pin(keep_contract(tx, id, kept, when))).await
    }

    async fn contract_document(&self, id: u64) -> Result<Option<Vec<u8>>> {
        let c = self.client().await?;
        let doc = query(
            &c,
            "SELECT contract_document FROM subprocessors WHERE id = $1",
            &[&signed(id)?],
        )
        .await?
        .first()
        .map(|r| col::<Option<Vec<u8>>>(r, 0))
        .transpose()?;
        Ok(doc.flatten())
    }

    async fn subprocessor(&self, id: u64) -> Result<Option<SubprocessorRecord>> {
        let c = self.client().await?;
        load_subprocessor(&c, id).await
    }

    async fn subprocessors(&self) -> Result<Vec<SubprocessorRecord>> {
        let c = self.client().await?;
        load_subprocessors(&c, None).await
    }

    async fn announce_change(
        &self,
        change: &NewChange,
        announcements: &[NewAnnouncement],
        entries: &[AccessEntry],
    ) -> Result<ChangeRecord> {
        let (change, announcements, entries) = (change.clone(), announcements.to_vec(), prepare(entries));
        self.write(move |tx| Box::pin(announce(tx, change, announcements, entries)))
            .await
    }

    async fn change(&self, id: u64, tenant: Option<&CustomerId>) -> Result<Option<ChangeRecord>> {
        let c = self.client().await?;
        Ok(load_changes(&c, Some(id), tenant.map(|t| t.as_str())).await?.pop())
    }

    async fn changes(&self, tenant: Option<&CustomerId>) -> Result<Vec<ChangeRecord>> {
        let c = self.client().await?;
        load_changes(&c, None, tenant.map(|t| t.as_str())).await
    }

    async fn answer_change(
        &self,
        id: u64,
        tenant: &CustomerId,
        answer_: &ChangeAnswer,
        announcements: &[NewAnnouncement],
        entry: &AccessEntry,
    ) -> Result<ChangeRecord> {
        let (target, given) = ((id, tenant.as_str().to_string()), answer_.clone());
        let (announcements, entry) = (announcements.to_vec(), Prepared::new(entry));
        self.write(move |tx| Box::pin(answer(tx, target, given, announcements, entry)))
            .await
    }

    async fn announcements(&self, change: Option<u64>, tenant: Option<&CustomerId>) -> Result<Vec<AnnouncementRecord>> {
        let change = change.map(signed).transpose()?;
        let c = self.client().await?;
        load_announcements(
            &c,
            "($1::bigint IS NULL OR change_id = $1) AND ($2::text IS NULL OR tenant = $2)",
            &[&change, &tenant.map(|t| t.as_str())],
        )
        .await
    }

    async fn due_announcement_deliveries(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<(DeliveryRecord, AnnouncementRecord)>> {
        let c = self.client().await?;
        let due = ANNOUNCEMENTS.lease(&c, now, channels, limit, lease_until).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids = due.iter().map(|d| signed(d.notice_id)).collect::<Result<Vec<_>>>()?;
        ids.sort_unstable();
        ids.dedup();
        let announcements: HashMap<u64, AnnouncementRecord> = load_announcements(&c, "id = ANY($1)", &[&ids])
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        Ok(due
            .into_iter()
            .filter_map(|d| announcements.get(&d.notice_id).cloned().map(|a| (d, a)))
            .collect())
    }

    async fn record_announcement_delivery(&self, id: u64, outcome: &DeliveryOutcome) -> Result<()> {
        let outcome = outcome.clone();
        self.write(move |tx| Box::pin(async move { ANNOUNCEMENTS.record(tx, id, &outcome).await }))
            .await
    }

    async fn create_list_request(&self, new: &NewListRequest, entry: &AccessEntry) -> Result<ListRequestRecord> {
        let (new, entry) = (new.clone(), Prepared::new(entry));
        self.write(move |tx| Box::pin(request(tx, new, entry))).await
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
        let (target, given) = ((id, tenant.as_str().to_string()), (on, at, by.to_string()));
        let entry = Prepared::new(entry);
        self.write(move |tx| Box::pin(answer_request(tx, target, given, entry)))
            .await
    }

    async fn list_requests(&self, tenant: Option<&CustomerId>) -> Result<Vec<ListRequestRecord>> {
        let c = self.client().await?;
        query(
            &c,
            &format!("SELECT {REQUEST_COLS} FROM subprocessor_list_requests WHERE $1::text IS NULL OR tenant = $1 ORDER BY id"),
            &[&tenant.map(|t| t.as_str())],
        )
        .await?
        .iter()
        .map(request_row)
        .collect()
    }

    async fn feed_generation(&self, tenant: &CustomerId) -> Result<u64> {
        let c = self.client().await?;
        generation(&c, tenant.as_str()).await
    }

    async fn bump_feed_generation(&self, tenant: &CustomerId, at: Timestamp, entry: &AccessEntry) -> Result<u64> {
        let (tenant, entry) = (tenant.as_str().to_string(), Prepared::new(entry));
        self.write(move |tx| Box::pin(bump(tx, tenant, at, entry))).await
    }
}

/// Another change took the number the service composed its messages with.
fn taken(id: u64) -> Error {
    Error::new(
        ErrorCode::SubprocessorVersionConflict,
        format!("change {id} was announced meanwhile; announce again"),
    )
}
