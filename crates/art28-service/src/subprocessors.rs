//! The sub-processor register and its announcements (R5).
//!
//! The processor keeps one register of the sub-processors it engages ([`Entry`], with the
//! transfer safeguard and the signed contract, R5.3) and announces every change to the
//! customers it reaches. What the change does for each customer is decided in
//! `art28_core::subprocessor::plan` from that customer's agreement: under general authorisation
//! it takes effect on its date (never before the customer's notice period has run) unless the
//! customer objects; under specific authorisation only after the customer's written approval; a
//! transfer the customer's agreement does not allow is refused for that customer.
//!
//! Every call enters through [`Subprocessors`] and is judged by its [`Operation`]. What concerns
//! a customer leaves one entry in that customer's access log, in the transaction of the change:
//! the announcement (naming the change and the state it put the customer in, so the customer's
//! bundle proves when it was told and what it said), its objection or approval, the processor's
//! decision, its reads of the list and the feed, its list requests and their answers. Staff work
//! on the register itself (entries, contracts) concerns no customer and leaves none; a refused
//! call by a customer's account is logged in its customer's log with the rule, and a change or
//! request of another customer is answered as one that does not exist.
//!
//! Announcements reach each customer's contacts for changes (else its privacy and contract
//! contacts) by e-mail in their language, and its webhook where set, through the durable
//! outbox ([`Subprocessors::deliver_due`]); and an Atom feed per customer, read with a feed key
//! of its own ([`Subprocessors::feed`]).

use crate::access::{Access, RequestContext, log_read};
use crate::clock::{Clock, today};
use crate::incidents::{Call, Courier, DELIVERY_LEASE, Fail, Incidents, OutboxRun, Outgoing, Queue, send_due};
use art28_core::agreement::{Authorisation, ContactRole, ProcessorAgreement};
use art28_core::auth::Principal;
use art28_core::date::Date;
use art28_core::deadline::{self, Deadline, DeadlineKind, DeadlineState};
use art28_core::ids::CustomerId;
use art28_core::incident::Recipient;
use art28_core::lang::{Lang, Text};
use art28_core::operation::Operation;
use art28_core::subprocessor::{self as sp, ChangeKind, Contract, CustomerState, Decision, Entry, Step};
use art28_core::{Error, ErrorCode, Result};
use art28_store::{
    AnnouncementRecord, ChangeAnswer, ChangeCustomer, ChangeEvent, ChangeRecord, ListRequestRecord, NewAnnouncement,
    NewChange, NewChangeCustomer, NewDelivery, NewListRequest, Store, SubprocessorRecord,
};
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Largest signed contract kept, in bytes.
pub const MAX_CONTRACT: usize = 10 * 1024 * 1024;

/// A change to announce.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Announce {
    /// What it does.
    pub kind: ChangeKind,
    /// The sub-processor it brings in, moves or removes (its number in the register).
    pub subprocessor: u64,
    /// For `replace`: the number of the one it replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<u64>,
    /// The intended effective date.
    pub effective: Date,
    /// Why, in both languages.
    pub note: Text,
    /// The customers it reaches; every customer with an agreement in force when empty (at most
    /// 1,000).
    #[serde(default, deserialize_with = "art28_core::number::at_most::<_, _, 1000>")]
    #[schemars(length(max = 1000))]
    pub customers: Vec<CustomerId>,
}

/// The list in force for one customer on a date, with what the register adds.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InForce {
    /// The customer.
    pub customer: CustomerId,
    /// The date.
    pub on: Date,
    /// Its authorisation.
    pub authorisation: Authorisation,
    /// Its notice period, as its agreement writes it.
    pub notice: String,
    /// The sub-processors in force.
    pub list: Vec<Listed>,
}

/// One sub-processor on a customer's list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Listed {
    /// As the agreement lists it.
    #[serde(flatten)]
    #[schemars(with = "serde_json::Value")]
    pub item: art28_core::agreement::SubProcessor,
    /// Its number in the register, if it is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub register: Option<u64>,
    /// Other countries it reaches the data from.
    pub access_locations: Vec<String>,
    /// The decision or clauses of its safeguard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safeguard_reference: Option<String>,
}

/// Alerts already raised in this run of the server: kind, number, customer and state.
pub type Raised = HashSet<(DeadlineKind, u64, CustomerId, DeadlineState)>;

fn change_not_found(id: u64) -> Error {
    Error::new(
        ErrorCode::SubprocessorChangeNotFound,
        format!("there is no change {id}"),
    )
}

fn sp_not_found(id: u64) -> Error {
    Error::new(
        ErrorCode::SubprocessorNotFound,
        format!("there is no sub-processor {id}"),
    )
}

fn text(field: &str, s: &str, max: usize) -> Result<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(Error::new(
            ErrorCode::SubprocessorInvalid,
            format!("`{field}` takes 1 to {max} characters"),
        ));
    }
    plain(field, s)?;
    Ok(s.to_string())
}

/// A text people read in e-mail, the portal and the feed: line breaks, but no other control
/// characters (they are not allowed in XML, so one would break the customer's feed).
fn plain(field: &str, s: &str) -> Result<()> {
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(Error::new(
            ErrorCode::SubprocessorInvalid,
            format!("`{field}` holds a control character"),
        ));
    }
    Ok(())
}

/// The door to the sub-processor register.
pub struct Subprocessors {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// The incident register's door: its judging and logging, its webhooks and keys.
    incidents: Arc<Incidents>,
}

impl std::fmt::Debug for Subprocessors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subprocessors").finish_non_exhaustive()
    }
}

impl Subprocessors {
    /// The register over the store and clock of `incidents`, whose door it shares.
    pub fn new(incidents: Arc<Incidents>) -> Self {
        Self {
            store: incidents.store.clone(),
            clock: incidents.clock.clone(),
            incidents,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Today, by the service's clock (the day objection periods are judged on).
    pub fn today(&self) -> Date {
        today(self.clock.as_ref())
    }

    // ----- the register (staff; concerns no customer) -----

    /// Register a sub-processor.
    pub async fn register(&self, who: &Principal, entry: Entry) -> Result<SubprocessorRecord> {
        Operation::SubprocessorRegister.authorize(who, None)?;
        entry.validate()?;
        self.store.create_subprocessor(&entry, self.now(), &who.username).await
    }

    /// Change an entry still at `version`; `note` says why.
    pub async fn update(
        &self,
        who: &Principal,
        id: u64,
        version: u32,
        entry: Entry,
        note: &str,
    ) -> Result<SubprocessorRecord> {
        Operation::SubprocessorRegister.authorize(who, None)?;
        entry.validate()?;
        let note = text("note", note, 1000)?;
        self.store
            .update_subprocessor(id, version, &entry, self.now(), &who.username, &note)
            .await
    }

    /// Keep the signed contract: its digest is computed here from the document itself.
    pub async fn put_contract(
        &self,
        who: &Principal,
        id: u64,
        signed_on: Date,
        file_name: &str,
        document: &[u8],
    ) -> Result<SubprocessorRecord> {
        Operation::SubprocessorContract.authorize(who, None)?;
        let file_name = text("file_name", file_name, 200)?;
        if file_name.contains(['/', '\\', '\n', '\r', '"']) {
            return Err(Error::new(
                ErrorCode::SubprocessorInvalid,
                "`file_name` is a plain file name, without `/`, `\\` or quotes",
            ));
        }
        if document.is_empty() || document.len() > MAX_CONTRACT {
            return Err(Error::new(
                ErrorCode::SubprocessorInvalid,
                format!("the signed contract takes 1 byte to {} MiB", MAX_CONTRACT / 1024 / 1024),
            ));
        }
        if signed_on > today(self.clock.as_ref()) {
            return Err(Error::new(
                ErrorCode::SubprocessorInvalid,
                "`signed_on` is in the future",
            ));
        }
        let contract = Contract {
            signed_on,
            sha256: hex::encode(Sha256::digest(document)),
            file_name,
            size: document.len() as u64,
        };
        self.store
            .put_contract(id, &contract, document, self.now(), &who.username)
            .await
    }

    /// The signed contract's document, for staff.
    pub async fn contract(&self, who: &Principal, id: u64) -> Result<(Contract, Vec<u8>)> {
        Operation::SubprocessorContract.authorize(who, None)?;
        let record = self.store.subprocessor(id).await?.ok_or_else(|| sp_not_found(id))?;
        let no = || {
            Error::new(
                ErrorCode::SubprocessorNotFound,
                format!("sub-processor {id} has no signed contract kept"),
            )
        };
        let contract = record.contract.ok_or_else(no)?;
        let document = self.store.contract_document(id).await?.ok_or_else(no)?;
        Ok((contract, document))
    }

    /// The register, for staff.
    pub async fn entries(&self, who: &Principal) -> Result<Vec<SubprocessorRecord>> {
        Operation::SubprocessorList.authorize(who, None)?;
        self.store.subprocessors().await
    }

    /// One entry with its history, for staff.
    pub async fn entry(&self, who: &Principal, id: u64) -> Result<SubprocessorRecord> {
        Operation::SubprocessorList.authorize(who, None)?;
        self.store.subprocessor(id).await?.ok_or_else(|| sp_not_found(id))
    }

    // ----- announcements -----

    /// Announce a change to the customers it reaches (see the module's description). Refused as
    /// a whole when the sub-processor has a transfer gap or the date is too early for a
    /// general-authorisation customer (naming each); otherwise recorded with one entry in each
    /// customer's log and queued to each one's contacts and webhook.
    pub async fn announce(&self, ctx: &RequestContext, who: &Principal, a: Announce) -> Result<ChangeRecord> {
        let op = Operation::SubprocessorAnnounce;
        op.authorize(who, None)?;
        let note = Text {
            nl: text("note.nl", &a.note.nl, 4000)?,
            en: text("note.en", &a.note.en, 4000)?,
        };
        let record = self
            .store
            .subprocessor(a.subprocessor)
            .await?
            .ok_or_else(|| sp_not_found(a.subprocessor))?;
        let replaces = match (a.kind, a.replaces) {
            (ChangeKind::Replace, Some(r)) if r == a.subprocessor => {
                return Err(Error::new(
                    ErrorCode::SubprocessorInvalid,
                    "`replaces` names the sub-processor that replaces it",
                ));
            }
            (ChangeKind::Replace, Some(r)) => {
                let old = self.store.subprocessor(r).await?.ok_or_else(|| sp_not_found(r))?;
                Some((r, old.entry.name))
            }
            (ChangeKind::Replace, None) => {
                return Err(Error::new(
                    ErrorCode::SubprocessorInvalid,
                    "a `replace` names the sub-processor it replaces in `replaces`",
                ));
            }
            (_, Some(_)) => {
                return Err(Error::new(
                    ErrorCode::SubprocessorInvalid,
                    "only a `replace` names `replaces`",
                ));
            }
            (_, None) => None,
        };
        let day = today(self.clock.as_ref());
        // The customers it reaches, each with its agreement in force today.
        let ids: Vec<CustomerId> = if a.customers.is_empty() {
            self.store.customers().await?.into_iter().map(|c| c.id).collect()
        } else {
            let mut ids = a.customers.clone();
            ids.sort();
            ids.dedup();
            ids
        };
        let mut agreements: Vec<(CustomerId, ProcessorAgreement)> = Vec::new();
        for c in ids {
            if self.store.customer(&c).await?.is_none() {
                return Err(Error::new(
                    ErrorCode::CustomerNotFound,
                    format!("there is no customer `{c}`"),
                ));
            }
            match self.store.agreement_in_force(&c, day).await? {
                Some(v) => agreements.push((c, v.agreement)),
                None if a.customers.is_empty() => {}
                None => {
                    return Err(Error::new(
                        ErrorCode::NoAgreementInForce,
                        format!("customer `{c}` has no agreement in force today"),
                    ));
                }
            }
        }
        let reached: Vec<sp::Reached<'_>> = agreements
            .iter()
            .map(|(c, ag)| sp::Reached {
                customer: c,
                agreement: ag,
            })
            .collect();
        let planned = sp::plan(a.kind, &record.entry, &reached, day, a.effective)?;
        let now = self.now();
        let customers: Vec<NewChangeCustomer> = planned
            .iter()
            .map(|p| NewChangeCustomer {
                customer: p.customer.clone(),
                authorisation: p.authorisation,
                state: p.state,
                rule: p.rule.map(|r| r.as_str().to_string()),
                objection_until: p.objection_until,
            })
            .collect();
        let mut new = NewChange {
            id: 0,
            kind: a.kind,
            subprocessor: record.id,
            version: record.version,
            entry: record.entry.clone(),
            replaces,
            effective: a.effective,
            note,
            announced_at: now,
            announced_by: who.username.clone(),
            customers,
        };
        // The messages and entries name the change by its number, so it is chosen here (one more
        // than the highest) and the store refuses it if another change took it meanwhile; then
        // everything is composed once more with the next one.
        let mut tries = 0;
        loop {
            tries += 1;
            new.id = self.store.changes(None).await?.iter().map(|c| c.id).max().unwrap_or(0) + 1;
            let mut announcements = Vec::new();
            let mut entries = Vec::new();
            for p in &planned {
                let row = ChangeCustomer {
                    customer: p.customer.clone(),
                    authorisation: p.authorisation,
                    state: p.state,
                    rule: p.rule.map(|r| r.as_str().to_string()),
                    objection_until: p.objection_until,
                    decided_at: None,
                    termination_until: None,
                    events: Vec::new(),
                };
                announcements.extend(self.compose(new.id, &new, &row, None).await?);
                let resource = format!(
                    "subprocessor/change/{}?state={}&effective={}",
                    new.id,
                    p.state.as_str(),
                    a.effective
                );
                entries.push(self.incidents.entry(ctx, &p.customer, op, &resource));
            }
            match self.store.announce_change(&new, &announcements, &entries).await {
                Err(e) if e.code == ErrorCode::SubprocessorVersionConflict && tries < 3 => continue,
                other => return other,
            }
        }
    }

    /// The announcements to queue for one customer about `change` (numbered `id`): one per
    /// language its contacts read, each to those contacts, and one to its webhook.
    async fn compose(
        &self,
        id: u64,
        change: &NewChange,
        row: &ChangeCustomer,
        answer: Option<&str>,
    ) -> Result<Vec<NewAnnouncement>> {
        let c = &row.customer;
        let customer = self
            .store
            .customer(c)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::CustomerNotFound, format!("there is no customer `{c}`")))?;
        let processor = match self.store.agreement_in_force(c, today(self.clock.as_ref())).await? {
            Some(v) => v.agreement.processor.name.clone(),
            None => self.store.processor().await?.map(|p| p.name).unwrap_or_default(),
        };
        let contacts = self.store.contacts(c).await?;
        let wanted = |roles: &[ContactRole]| -> Vec<&art28_store::ContactRecord> {
            contacts
                .iter()
                .filter(|k| k.roles.iter().any(|r| roles.contains(r)))
                .collect()
        };
        let mut chosen = wanted(&[ContactRole::Changes]);
        if chosen.is_empty() {
            chosen = wanted(&[ContactRole::Privacy, ContactRole::Contract]);
        }
        let mut by_lang: BTreeMap<&str, (Lang, Vec<&art28_store::ContactRecord>)> = BTreeMap::new();
        for k in chosen {
            by_lang
                .entry(k.language.tag())
                .or_insert((k.language, Vec::new()))
                .1
                .push(k);
        }
        if by_lang.is_empty() {
            by_lang.insert(customer.language.tag(), (customer.language, Vec::new()));
        }
        let hook = self.store.webhook(c).await?;
        let locations = change.entry.locations();
        let mut out = Vec::new();
        for (language, group) in by_lang.values() {
            let language = *language;
            let view = art28_render::subprocessors::Announcement {
                change: id,
                kind: change.kind,
                name: &change.entry.name,
                service: change.entry.service.get(language),
                locations: &locations,
                safeguard: change.entry.safeguard,
                replaces: change.replaces.as_ref().map(|(_, n)| n.as_str()),
                note: change.note.get(language),
                effective: change.effective,
                processor: &processor,
                customer: &customer.name,
                state: row.state,
                objection_until: row.objection_until,
                rule: row.rule.as_deref(),
                answer,
                termination_until: row.termination_until,
            };
            let (subject, body) = art28_render::subprocessors::announcement(&view, language);
            let step = row.events.len();
            let key = |to: Recipient| format!("{}-{step}", sp::delivery_key(id, c, language, to));
            let mut deliveries: Vec<NewDelivery> = group
                .iter()
                .enumerate()
                .map(|(n, k)| NewDelivery {
                    channel: "email".into(),
                    recipient: k.email.clone(),
                    idempotency_key: key(Recipient::Email(n)),
                })
                .collect();
            // The webhook gets the message once: in the customer's own language where a contact
            // reads it, else in the first.
            let webhook_lang = if by_lang.contains_key(customer.language.tag()) {
                customer.language
            } else {
                by_lang.values().next().map_or(customer.language, |(l, _)| *l)
            };
            if language == webhook_lang
                && let Some(h) = &hook
            {
                deliveries.push(NewDelivery {
                    channel: "webhook".into(),
                    recipient: h.url.clone(),
                    idempotency_key: key(Recipient::Webhook),
                });
            }
            out.push(NewAnnouncement {
                customer: c.clone(),
                language,
                subject,
                body,
                deliveries,
            });
        }
        Ok(out)
    }

    /// Changes: staff every change (no entry); a customer's account those that reach its
    /// customer, with its own row only (one entry).
    pub async fn changes(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: Option<&CustomerId>,
    ) -> Result<Vec<ChangeRecord>> {
        let op = Operation::SubprocessorChangeRead;
        match tenant {
            None => {
                op.authorize(who, None)?;
                self.store.changes(None).await
            }
            Some(t) => {
                let step = async {
                    self.incidents.judge(who, t, op).await?;
                    let list = self.store.changes(Some(t)).await?;
                    self.incidents.log_read(ctx, t, op, "subprocessor/changes").await?;
                    Ok(list)
                }
                .await;
                self.incidents.door(ctx, t, op, "subprocessor/changes", step).await
            }
        }
    }

    /// One change: staff with every customer's row; a customer's account with its own row, or
    /// `subprocessor_change_not_found` if it does not reach its customer.
    pub async fn change(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: u64,
        tenant: Option<&CustomerId>,
    ) -> Result<ChangeRecord> {
        let op = Operation::SubprocessorChangeRead;
        match tenant {
            None => {
                op.authorize(who, None)?;
                self.store.change(id, None).await?.ok_or_else(|| change_not_found(id))
            }
            Some(t) => {
                let resource = format!("subprocessor/change/{id}");
                let step = async {
                    self.incidents.judge(who, t, op).await?;
                    let c = self
                        .store
                        .change(id, Some(t))
                        .await?
                        .ok_or_else(|| change_not_found(id))?;
                    self.incidents.log_read(ctx, t, op, &resource).await?;
                    Ok(c)
                }
                .await;
                self.incidents.door(ctx, t, op, &resource, step).await
            }
        }
    }

    /// The customer objects to a change, with reasons: only under general authorisation, while
    /// it is `announced` for it and its objection period runs (to the day before it takes
    /// effect at the latest).
    pub async fn object(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        id: u64,
        reasons: &str,
    ) -> Result<ChangeRecord> {
        let op = Operation::SubprocessorObject;
        let resource = format!("subprocessor/change/{id}/objection");
        let step = async {
            self.incidents.judge(who, tenant, op).await?;
            let reasons = text("reasons", reasons, 4000)?;
            let change = self
                .store
                .change(id, Some(tenant))
                .await?
                .ok_or_else(|| change_not_found(id))?;
            let row = mine(&change, tenant, id)?;
            if !change.kind.needs_consent() {
                return Err(Fail::Refused(Error::new(
                    ErrorCode::SubprocessorStepNotAllowed,
                    format!(
                        "change {id} removes a sub-processor: it takes nothing new on, so there is nothing to object to"
                    ),
                )));
            }
            let to = sp::transition(row.state, Step::Object)?;
            let day = today(self.clock.as_ref());
            if row.objection_until.is_some_and(|last| day > last) {
                return Err(Fail::Refused(Error::new(
                    ErrorCode::ObjectionPeriodOver,
                    format!(
                        "the objection period for change {id} ended on {}",
                        row.objection_until.map(|d| d.to_string()).unwrap_or_default()
                    ),
                )));
            }
            let answer = ChangeAnswer {
                from: row.state,
                event: ChangeEvent {
                    at: self.now(),
                    by: who.username.clone(),
                    from: Some(row.state),
                    to,
                    note: reasons,
                },
                decided_at: None,
                termination_until: None,
            };
            let entry = self.incidents.entry(ctx, tenant, op, &resource);
            Ok(self.store.answer_change(id, tenant, &answer, &[], &entry).await?)
        }
        .await;
        self.incidents.door(ctx, tenant, op, &resource, step).await
    }

    /// The customer approves (`true`) or does not approve a change in writing (specific
    /// authorisation). An approval given after the intended date lets it take effect the day
    /// after.
    pub async fn approve(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        id: u64,
        approve: bool,
        note: &str,
    ) -> Result<ChangeRecord> {
        let op = Operation::SubprocessorApprove;
        let resource = format!(
            "subprocessor/change/{id}/{}",
            if approve { "approval" } else { "rejection" }
        );
        let step = async {
            self.incidents.judge(who, tenant, op).await?;
            let note = note.trim();
            if note.chars().count() > 4000 {
                return Err(Fail::Refused(Error::new(
                    ErrorCode::SubprocessorInvalid,
                    "`note` takes at most 4000 characters",
                )));
            }
            plain("note", note)?;
            let change = self
                .store
                .change(id, Some(tenant))
                .await?
                .ok_or_else(|| change_not_found(id))?;
            let row = mine(&change, tenant, id)?;
            let to = sp::transition(row.state, if approve { Step::Approve } else { Step::Reject })?;
            let now = self.now();
            let answer = ChangeAnswer {
                from: row.state,
                event: ChangeEvent {
                    at: now,
                    by: who.username.clone(),
                    from: Some(row.state),
                    to,
                    note: note.to_string(),
                },
                decided_at: approve.then_some(now),
                termination_until: None,
            };
            let entry = self.incidents.entry(ctx, tenant, op, &resource);
            Ok(self.store.answer_change(id, tenant, &answer, &[], &entry).await?)
        }
        .await;
        self.incidents.door(ctx, tenant, op, &resource, step).await
    }

    /// The processor decides on a customer's open objection. Going ahead over it gives the
    /// customer its termination right where the agreement grants one (`changes.termination_right`,
    /// counted from the decision). The customer is told through the outbox; the decision is an
    /// entry in its log.
    pub async fn decide(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        id: u64,
        decision: Decision,
        note: &str,
    ) -> Result<ChangeRecord> {
        let op = Operation::SubprocessorDecide;
        op.authorize(who, None)?;
        let note = text("note", note, 4000)?;
        let resource = format!("subprocessor/change/{id}/decision");
        let change = self
            .store
            .change(id, Some(tenant))
            .await?
            .ok_or_else(|| change_not_found(id))?;
        let row = mine(&change, tenant, id).map_err(fail_error)?;
        let to = sp::transition(row.state, Step::Decide(decision))?;
        let now = self.now();
        let day = today(self.clock.as_ref());
        let termination_until = match decision {
            Decision::Overruled => self
                .store
                .agreement_in_force(tenant, day)
                .await?
                .and_then(|v| v.agreement.changes.termination_right)
                .map(|t| sp::date_plus(day, &t)),
            _ => None,
        };
        let answer = ChangeAnswer {
            from: row.state,
            event: ChangeEvent {
                at: now,
                by: who.username.clone(),
                from: Some(row.state),
                to,
                note: note.clone(),
            },
            decided_at: (decision == Decision::Overruled).then_some(now),
            termination_until,
        };
        let mut told = row.clone();
        told.state = to;
        told.termination_until = termination_until;
        told.events.push(answer.event.clone());
        let as_new = new_of(&change);
        let announcements = self.compose(id, &as_new, &told, Some(&note)).await?;
        let entry = self
            .incidents
            .entry(ctx, tenant, op, &format!("{resource}?state={}", to.as_str()));
        self.store
            .answer_change(id, tenant, &answer, &announcements, &entry)
            .await
    }

    /// The announcements queued, of a change and/or a customer (staff).
    pub async fn announcements(
        &self,
        who: &Principal,
        change: Option<u64>,
        tenant: Option<&CustomerId>,
    ) -> Result<Vec<AnnouncementRecord>> {
        Operation::SubprocessorChangeRead.authorize(who, None)?;
        self.store.announcements(change, tenant).await
    }

    // ----- the list in force -----

    /// The list in force for a customer on a date (today when `None`): its agreement's list
    /// then, with every change that took effect for it by that date. No entry: callers log.
    pub async fn list_for(&self, tenant: &CustomerId, on: Date) -> Result<Option<InForce>> {
        let Some(v) = self.store.agreement_in_force(tenant, on).await? else {
            return Ok(None);
        };
        let changes = self.store.changes(Some(tenant)).await?;
        let register = self.store.subprocessors().await?;
        Ok(Some(in_force_of(tenant, &v.agreement, &changes, &register, on)))
    }

    /// The list in force, read by a customer's account or staff: one entry in the customer's log.
    pub async fn in_force(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        on: Option<Date>,
    ) -> Result<InForce> {
        let op = Operation::SubprocessorList;
        let on = on.unwrap_or_else(|| today(self.clock.as_ref()));
        let resource = format!("subprocessor/list?on={on}");
        let step = async {
            self.incidents.judge(who, tenant, op).await?;
            let list = self.list_for(tenant, on).await?.ok_or_else(|| {
                Fail::Refused(Error::new(
                    ErrorCode::NoAgreementInForce,
                    format!("customer `{tenant}` has no agreement in force on {on}"),
                ))
            })?;
            self.incidents.log_read(ctx, tenant, op, &resource).await?;
            Ok(list)
        }
        .await;
        self.incidents.door(ctx, tenant, op, &resource, step).await
    }

    /// The customer asks for the list in force (R5.1): due after its agreement's
    /// `list_on_request` term.
    pub async fn request_list(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        note: &str,
    ) -> Result<ListRequestRecord> {
        let op = Operation::SubprocessorListRequest;
        let resource = "subprocessor/list_request";
        let step = async {
            self.incidents.judge(who, tenant, op).await?;
            let note = note.trim();
            if note.chars().count() > 2000 {
                return Err(Fail::Refused(Error::new(
                    ErrorCode::SubprocessorInvalid,
                    "`note` takes at most 2000 characters",
                )));
            }
            plain("note", note)?;
            let now = self.now();
            let agreement = self
                .store
                .agreement_in_force(tenant, today(self.clock.as_ref()))
                .await?
                .ok_or_else(|| {
                    Fail::Refused(Error::new(
                        ErrorCode::NoAgreementInForce,
                        format!("customer `{tenant}` has no agreement in force today"),
                    ))
                })?;
            let request = NewListRequest {
                customer: tenant.clone(),
                requested_at: now,
                requested_by: who.username.clone(),
                due_at: sp::list_due(now, &agreement.agreement),
                note: note.to_string(),
            };
            let entry = self.incidents.entry(ctx, tenant, op, resource);
            Ok(self.store.create_list_request(&request, &entry).await?)
        }
        .await;
        self.incidents.door(ctx, tenant, op, resource, step).await
    }

    /// The processor answers a request with the list in force on `on` (today when `None`):
    /// the answer is that list, which the customer reads in the portal or downloads.
    pub async fn answer_list(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        id: u64,
        on: Option<Date>,
    ) -> Result<ListRequestRecord> {
        let op = Operation::SubprocessorListAnswer;
        op.authorize(who, None)?;
        let on = on.unwrap_or_else(|| today(self.clock.as_ref()));
        let entry = self
            .incidents
            .entry(ctx, tenant, op, &format!("subprocessor/list_request/{id}?on={on}"));
        self.store
            .answer_list_request(id, tenant, on, self.now(), &who.username, &entry)
            .await
    }

    /// Requests for the list: staff all of them (or one customer's, no entry); a customer's
    /// account its own (one entry).
    pub async fn list_requests(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: Option<&CustomerId>,
    ) -> Result<Vec<ListRequestRecord>> {
        let op = Operation::SubprocessorChangeRead;
        if op.authorize(who, None).is_ok() {
            // Staff naming a customer that does not exist hear so, as on every customer route,
            // rather than an empty list.
            if let Some(t) = tenant
                && self.store.customer(t).await?.is_none()
            {
                return Err(Error::new(
                    ErrorCode::CustomerNotFound,
                    format!("there is no customer `{t}`"),
                ));
            }
            return self.store.list_requests(tenant).await;
        }
        let Some(t) = tenant else {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                "name the customer whose requests to list",
            ));
        };
        let step = async {
            self.incidents.judge(who, t, op).await?;
            let list = self.store.list_requests(Some(t)).await?;
            self.incidents
                .log_read(ctx, t, op, "subprocessor/list_requests")
                .await?;
            Ok(list)
        }
        .await;
        self.incidents
            .door(ctx, t, op, "subprocessor/list_requests", step)
            .await
    }

    // ----- the feed -----

    /// The customer's feed key (made at its first call), for its admin: shown, then kept by the
    /// customer. `rotate` makes a new one and the old one stops working.
    pub async fn feed_key(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        rotate: bool,
    ) -> Result<String> {
        let op = Operation::SubprocessorFeedKey;
        let resource = if rotate {
            "subprocessor/feed_key?rotate=true"
        } else {
            "subprocessor/feed_key"
        };
        let step = async {
            self.incidents.judge(who, tenant, op).await?;
            let mut generation = self.store.feed_generation(tenant).await?;
            if generation == 0 || rotate {
                let entry = self.incidents.entry(ctx, tenant, op, resource);
                generation = self.store.bump_feed_generation(tenant, self.now(), &entry).await?;
            } else {
                self.incidents.log_read(ctx, tenant, op, resource).await?;
            }
            Ok(self.incidents.vault.feed_key(tenant, generation, true).await?)
        }
        .await;
        self.incidents.door(ctx, tenant, op, resource, step).await
    }

    /// The customer's announcements as an Atom feed (RFC 4287), for the key of its current
    /// generation; `feed_key_invalid` otherwise (the same for a customer that does not exist).
    /// A read is an entry in the customer's log.
    pub async fn feed(&self, ctx: &RequestContext, tenant: &CustomerId, key: &str, base: &str) -> Result<String> {
        let invalid = || {
            Error::new(
                ErrorCode::FeedKeyInvalid,
                "this feed key is not valid; make a new one in the portal",
            )
        };
        if self.store.customer(tenant).await?.is_none() {
            return Err(invalid());
        }
        let generation = self.store.feed_generation(tenant).await?;
        if generation == 0 {
            return Err(invalid());
        }
        // A customer whose key is gone (its data erased) answers as a wrong key does.
        let expected = self
            .incidents
            .vault
            .feed_key(tenant, generation, false)
            .await
            .map_err(|_| invalid())?;
        // Compared as digests, so the comparison's time says nothing about the key.
        if Sha256::digest(expected.as_bytes()) != Sha256::digest(key.as_bytes()) {
            return Err(invalid());
        }
        let changes = self.store.changes(Some(tenant)).await?;
        let notes = self.store.announcements(None, Some(tenant)).await?;
        let receipt = log_read(
            self.store.as_ref(),
            self.clock.as_ref(),
            ctx,
            Access {
                tenant: Some(tenant),
                operation: Operation::SubprocessorFeed,
                resource: "subprocessor/feed".into(),
            },
        )
        .await?;
        let _ = receipt;
        Ok(atom(tenant, &changes, &notes, base, self.now()))
    }

    // ----- deadlines, alerts and the outbox (no caller) -----

    /// The register's terms for the deadlines view: each list request with a due date (met when
    /// answered), and each objection's decision (due on the day the change would take effect).
    pub async fn view_deadlines(&self, tenant: Option<&CustomerId>, now: Timestamp) -> Result<Vec<Deadline>> {
        let mut out = Vec::new();
        for r in self.store.list_requests(tenant).await? {
            if let Some(due) = r.due_at {
                out.push(deadline::subprocessor_term(
                    DeadlineKind::SubprocessorList,
                    r.id,
                    "list of sub-processors",
                    r.customer.clone(),
                    due,
                    r.answered_at,
                    now,
                ));
            }
        }
        for c in self.store.changes(tenant).await? {
            for row in &c.customers {
                let objected = row.events.iter().find(|e| e.to == CustomerState::Objected);
                if objected.is_none() {
                    continue;
                }
                let decided = row
                    .events
                    .iter()
                    .find(|e| e.from == Some(CustomerState::Objected))
                    .map(|e| e.at);
                let due = c
                    .effective
                    .0
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .map(|z| z.timestamp())
                    .unwrap_or(c.announced_at);
                out.push(deadline::subprocessor_term(
                    DeadlineKind::SubprocessorObjection,
                    c.id,
                    &c.entry.name,
                    row.customer.clone(),
                    due,
                    decided,
                    now,
                ));
            }
        }
        Ok(out)
    }

    /// Raise the register's open terms that are due soon or overdue to the processor as
    /// security events (`subprocessor_list_overdue`, …), each once while `raised` is kept.
    pub async fn raise_alerts(&self, raised: &mut Raised) -> Result<usize> {
        let now = self.now();
        let mut events = Vec::new();
        for d in self.view_deadlines(None, now).await? {
            if !matches!(d.state, DeadlineState::DueSoon | DeadlineState::Overdue) {
                continue;
            }
            if !raised.insert((d.kind, d.subject.number, d.customer.clone(), d.state)) {
                continue;
            }
            let kind = format!(
                "{}_{}",
                d.kind.as_str(),
                if d.state == DeadlineState::Overdue {
                    "overdue"
                } else {
                    "due_soon"
                }
            );
            tracing::warn!(number = d.subject.number, customer = %d.customer, due = %d.due, kind, "sub-processor deadline");
            events.push(art28_store::NewSecurityEvent {
                time: now,
                account_id: None,
                username: None,
                kind,
                detail: format!(
                    "{} {} for {} due at {}",
                    d.kind.label(Lang::En),
                    d.subject.number,
                    d.customer,
                    d.due
                ),
                client: None,
            });
        }
        if !events.is_empty() {
            self.store.add_security_events(&events).await?;
        }
        Ok(events.len())
    }

    /// Deliver due announcements as [`Incidents::deliver_due`] delivers notices (one shared
    /// sender, [`crate::incidents::send_due`]).
    pub async fn deliver_due(&self, couriers: &[Arc<dyn Courier>], limit: usize) -> Result<OutboxRun> {
        let channels: Vec<&str> = couriers.iter().map(|c| c.channel()).collect();
        if channels.is_empty() {
            return Ok(OutboxRun::default());
        }
        let (store, clock) = (self.store.as_ref(), self.clock.as_ref());
        let now = clock.now();
        let lease_until = now.checked_add(DELIVERY_LEASE).unwrap_or(now);
        let due = store
            .due_announcement_deliveries(now, &channels, limit, lease_until)
            .await?;
        // What a receiver acts on, besides the text: the change and where the customer stands on
        // it now (each change read once per run).
        let mut changes: BTreeMap<(u64, CustomerId), Option<ChangeRecord>> = BTreeMap::new();
        let mut messages = Vec::with_capacity(due.len());
        for (d, a) in due {
            let key = (a.change_id, a.customer.clone());
            if !changes.contains_key(&key) {
                let c = store.change(a.change_id, Some(&a.customer)).await?;
                changes.insert(key.clone(), c);
            }
            let facts = changes.get(&key).and_then(Option::as_ref).map(|c| {
                let row = c.customers.iter().find(|r| r.customer == a.customer);
                serde_json::json!({
                    "kind": c.kind,
                    "subprocessor": c.entry.name,
                    "locations": c.entry.locations(),
                    "safeguard": c.entry.safeguard,
                    "replaces": c.replaces.as_ref().map(|(_, n)| n),
                    "effective": c.effective,
                    "state": row.map(|r| r.state),
                    "rule": row.and_then(|r| r.rule.clone()),
                    "objection_until": row.and_then(|r| r.objection_until),
                    "termination_until": row.and_then(|r| r.termination_until),
                })
            });
            let payload = serde_json::json!({
                "type": "art28.subprocessor_announcement",
                "announcement": a.id,
                "change": a.change_id,
                "customer": a.customer,
                "language": a.language.tag(),
                "subject": a.subject,
                "body": a.body,
                "content": facts,
            });
            messages.push((
                d,
                Outgoing {
                    customer: a.customer,
                    subject: a.subject,
                    body: a.body,
                    payload,
                },
            ));
        }
        send_due(store, clock, couriers, messages, Queue::Announcements).await
    }
}

fn fail_error(f: Fail) -> Error {
    match f {
        Fail::Refused(e) | Fail::Failed(e) => e,
    }
}

/// The customer's own row of a change.
fn mine<'a>(change: &'a ChangeRecord, tenant: &CustomerId, id: u64) -> Call<&'a ChangeCustomer> {
    change
        .customers
        .iter()
        .find(|c| &c.customer == tenant)
        .ok_or_else(|| Fail::Refused(change_not_found(id)))
}

/// A stored change as the composer takes it.
fn new_of(c: &ChangeRecord) -> NewChange {
    NewChange {
        id: c.id,
        kind: c.kind,
        subprocessor: c.subprocessor,
        version: c.version,
        entry: c.entry.clone(),
        replaces: c.replaces.clone(),
        effective: c.effective,
        note: c.note.clone(),
        announced_at: c.announced_at,
        announced_by: c.announced_by.clone(),
        customers: Vec::new(),
    }
}

/// The list in force for `tenant` on `on`, from its agreement, its changes and the register.
pub fn in_force_of(
    tenant: &CustomerId,
    agreement: &ProcessorAgreement,
    changes: &[ChangeRecord],
    register: &[SubprocessorRecord],
    on: Date,
) -> InForce {
    // A change that took effect before this agreement version started is in the version's own
    // list (or was taken out of it), so only later ones apply on top of it.
    let start = agreement.effective_from;
    let applied: Vec<sp::Applied<'_>> = changes
        .iter()
        .filter_map(|c| {
            let row = c.customers.iter().find(|r| &r.customer == tenant)?;
            let effective =
                sp::effective_for(row.state, c.effective, row.decided_at.map(sp_day)).filter(|d| *d > start);
            Some(sp::Applied {
                kind: c.kind,
                entry: &c.entry,
                replaces: c.replaces.as_ref().map(|(_, n)| n.as_str()),
                effective,
            })
        })
        .collect();
    let list = sp::in_force(&agreement.subprocessors.list, &applied, on);
    let list = list
        .into_iter()
        .map(|item| {
            // What the register adds comes from the entry as the last change in force for this
            // customer announced it (so a later version of the entry, not yet in force, and a
            // past date show what was in force then), else from the register as it stands.
            let announced = applied
                .iter()
                .filter(|a| a.effective.is_some_and(|d| d <= on) && sp::same_name(&a.entry.name, &item.name))
                .filter(|a| a.kind != ChangeKind::Remove)
                .max_by_key(|a| a.effective)
                .map(|a| a.entry);
            let known = register.iter().find(|r| sp::same_name(&r.entry.name, &item.name));
            let entry = announced.or(known.map(|r| &r.entry));
            Listed {
                register: known.map(|r| r.id),
                access_locations: entry.map(|e| e.access_locations.clone()).unwrap_or_default(),
                safeguard_reference: entry.and_then(|e| e.safeguard_reference.clone()),
                item,
            }
        })
        .collect();
    InForce {
        customer: tenant.clone(),
        on,
        authorisation: agreement.subprocessors.authorisation,
        notice: agreement.subprocessors.notice.to_string(),
        list,
    }
}

/// The day of a moment, as the service counts days (UTC, as [`today`]).
fn sp_day(t: Timestamp) -> Date {
    Date(t.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// The feed: one entry per announcement to the customer, newest first.
fn atom(
    tenant: &CustomerId,
    changes: &[ChangeRecord],
    notes: &[AnnouncementRecord],
    base: &str,
    now: Timestamp,
) -> String {
    use std::fmt::Write;
    let esc = |s: &str| {
        // Characters XML 1.0 does not allow are left out (texts are checked as they come in;
        // this keeps the feed well-formed whatever is stored).
        let s: String = s
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
            .collect();
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let updated = notes.iter().map(|n| n.created_at).max().unwrap_or(now);
    let mut x = String::new();
    let _ = writeln!(x, r#"<?xml version="1.0" encoding="utf-8"?>"#);
    let _ = writeln!(x, r#"<feed xmlns="http://www.w3.org/2005/Atom">"#);
    let _ = writeln!(x, "  <id>urn:art28:subprocessor-feed:{}</id>", esc(tenant.as_str()));
    let _ = writeln!(x, "  <title>art28 — {}</title>", esc(tenant.as_str()));
    let _ = writeln!(x, "  <updated>{updated}</updated>");
    let _ = writeln!(x, "  <author><name>art28</name></author>");
    let _ = writeln!(
        x,
        r#"  <link rel="alternate" type="text/html" href="{}/c/{}/subprocessors"/>"#,
        esc(base),
        esc(tenant.as_str())
    );
    let mut notes: Vec<&AnnouncementRecord> = notes.iter().collect();
    notes.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    for n in notes {
        let known = changes.iter().any(|c| c.id == n.change_id);
        let _ = writeln!(x, "  <entry>");
        let _ = writeln!(x, "    <id>urn:art28:subprocessor-announcement:{}</id>", n.id);
        let _ = writeln!(x, "    <title>{}</title>", esc(&n.subject));
        let _ = writeln!(x, "    <updated>{}</updated>", n.created_at);
        if known {
            let _ = writeln!(
                x,
                r#"    <link rel="alternate" type="text/html" href="{}/c/{}/subprocessors#change-{}"/>"#,
                esc(base),
                esc(tenant.as_str()),
                n.change_id
            );
        }
        let _ = writeln!(
            x,
            r#"    <content type="text" xml:lang="{}">{}</content>"#,
            n.language.tag(),
            esc(&n.body)
        );
        let _ = writeln!(x, "  </entry>");
    }
    let _ = writeln!(x, "</feed>");
    x
}
