//! The incident register and breach notices (R4).
//!
//! Staff and customers report into one register; the security officer runs the fixed
//! workflow (`art28_core::incident::transition`), scopes a breach from the access log, and
//! confirms the notices art28 composes for each affected customer. Notices are stored as sent
//! and queued in the store's outbox in the same transaction; [`Incidents::deliver_due`] sends
//! them. art28 never notifies a supervisory authority: it shows each customer its own 72-hour
//! term.
//!
//! Every call enters through [`Incidents`]. A customer's own calls (report, list, get, notices,
//! acknowledge, deadlines, export, its webhook) are judged for that customer and leave exactly
//! one entry in its access log, granted (a read before its data leaves; a change in the change's
//! transaction) or refused with the rule. An incident or notice the customer is not part of is
//! answered as one that does not exist, in its own log only. Staff changes that concern
//! customers leave one entry in each one's log: naming or removing it as affected, and telling
//! it (the entry names the notice, so the customer's bundle proves when it was told). Staff
//! reads across the register (the register, deadlines, scoping, drafts) concern no one customer
//! and leave none; a refused staff call changed nothing for anyone and is in the server log.

use crate::access::{Access, RequestContext, entry, log_read, log_refusal};
use crate::clock::{Clock, today};
use crate::vault::Vault;
use art28_core::access::AccessEntry;
use art28_core::auth::Principal;
use art28_core::ids::CustomerId;
use art28_core::incident::{
    self, CustomerScope, DeadlineState, Details, IncidentKind, NoticeContent, Source, Status, Step,
};
use art28_core::lang::Lang;
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode, ErrorKind, Result};
use art28_store::{
    AffectedCustomer, DeliveryOutcome, DeliveryRecord, IncidentChange, IncidentEvent, IncidentRecord, NewDelivery,
    NewIncident, NewNotice, NoticeRecord, Store,
};
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// A report into the register.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// What it is; `security_incident` when absent.
    #[serde(default = "default_kind")]
    pub kind: IncidentKind,
    /// For staff: `processor` (default) or `sub_processor`. A customer's report is always
    /// `customer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// When the processor became aware; now when absent. Not in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub aware_at: Option<Timestamp>,
    /// Who reported it, when not the caller (e.g. a sub-processor's contact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    /// To whom it was reported; the security officer when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_to: Option<String>,
    /// What is known.
    pub details: Details,
}

fn default_kind() -> IncidentKind {
    IncidentKind::SecurityIncident
}

/// What the access log is searched for.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeQuery {
    /// Start of the window (inclusive).
    #[schemars(with = "String")]
    pub from: Timestamp,
    /// End of the window (exclusive).
    #[schemars(with = "String")]
    pub to: Timestamp,
    /// Actors involved: user names, token ids or job names. Empty: every actor (at most 100).
    #[serde(default, deserialize_with = "art28_core::number::at_most::<_, _, 100>")]
    #[schemars(length(max = 100))]
    pub actors: Vec<String>,
    /// Systems involved, named by the vault collections they hold. Empty: every collection
    /// (at most 100).
    #[serde(default, deserialize_with = "art28_core::number::at_most::<_, _, 100>")]
    #[schemars(length(max = 100))]
    pub systems: Vec<String>,
}

/// Most access entries one scoping reads.
pub const SCOPE_LIMIT: usize = 2_000_000;

/// One first-notice deadline of one customer, as the incident register shows it (with the
/// controller's own term). Named `NoticeDeadline` in the OpenAPI document, beside the one
/// deadlines view's `Deadline` ([`art28_core::deadline::Deadline`]).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "NoticeDeadline")]
pub struct Deadline {
    /// Incident.
    pub incident: u64,
    /// Customer.
    pub customer: CustomerId,
    /// When the first notice is due.
    #[schemars(with = "String")]
    pub due_at: Timestamp,
    /// When it was delivered, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub notified_at: Option<Timestamp>,
    /// The controller's own 72-hour term towards the supervisory authority.
    #[schemars(with = "String")]
    pub controller_due_at: Timestamp,
    /// Where it stands.
    pub state: DeadlineState,
}

/// Alerts already raised in this run of the server: incident, customer and state.
pub type Raised = HashSet<(u64, CustomerId, DeadlineState)>;

fn not_found(id: u64) -> Error {
    Error::new(ErrorCode::IncidentNotFound, format!("there is no incident {id}"))
}

fn text(field: &str, s: &str, max: usize) -> Result<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(Error::new(
            ErrorCode::IncidentInvalid,
            format!("`{field}` takes 1 to {max} characters"),
        ));
    }
    Ok(s.to_string())
}

/// A customer's call that failed, and whether its refusal is still to be logged.
pub(crate) enum Fail {
    /// A rule refused it and nothing is logged yet: the door logs the refusal.
    Refused(Error),
    /// Returned as it is: a storage failure, or an answer with nothing to log (no such customer).
    Failed(Error),
}

impl From<Error> for Fail {
    /// Errors of the store or the keys are failures, not refusals; every other error is a rule
    /// that refused (a store whose precondition failed wrote nothing, so its refusal is logged).
    fn from(e: Error) -> Self {
        match e.kind() {
            ErrorKind::Internal | ErrorKind::Unavailable => Fail::Failed(e),
            _ => Fail::Refused(e),
        }
    }
}

pub(crate) type Call<T> = std::result::Result<T, Fail>;

/// The door to the incident register, notices, the outbox and customers' webhooks.
pub struct Incidents {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    /// The customers' keys, from which webhook secrets are derived.
    pub(crate) vault: Arc<Vault>,
    /// Where webhooks may lead, judged when one is set.
    pub(crate) webhook_policy: crate::webhook::WebhookPolicy,
}

impl std::fmt::Debug for Incidents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incidents").finish_non_exhaustive()
    }
}

impl Incidents {
    /// The register over a store and a clock; webhook secrets come from the vault's keys.
    /// Webhooks may lead to the public internet only until [`Self::with_webhook_policy`].
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, vault: Arc<Vault>) -> Self {
        Self {
            store,
            clock,
            vault,
            webhook_policy: crate::webhook::WebhookPolicy::default(),
        }
    }

    /// The register judging webhook addresses by `policy` when they are set (give the
    /// [`crate::webhook::WebhookSender`] the same one).
    #[must_use]
    pub fn with_webhook_policy(mut self, policy: crate::webhook::WebhookPolicy) -> Self {
        self.webhook_policy = policy;
        self
    }

    /// Now, by the service's clock: for views computed with its answers (deadline states).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    // ----- the door -----

    /// Judge a customer's call: the caller's role for this customer first (nothing read), then
    /// that the customer exists (an unknown one is answered, not logged: strangers cannot fill
    /// the log).
    pub(crate) async fn judge(&self, who: &Principal, tenant: &CustomerId, op: Operation) -> Call<()> {
        op.authorize(who, Some(tenant))?;
        match self.store.customer(tenant).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Fail::Failed(Error::new(
                ErrorCode::CustomerNotFound,
                format!("there is no customer `{tenant}`"),
            ))),
            Err(e) => Err(Fail::Failed(e)),
        }
    }

    /// Finish a customer's call: a refusal not yet logged goes to the customer's log with the
    /// rule, if the customer exists; so every call leaves exactly one entry.
    pub(crate) async fn door<T>(
        &self,
        ctx: &RequestContext,
        tenant: &CustomerId,
        op: Operation,
        resource: &str,
        step: Call<T>,
    ) -> Result<T> {
        match step {
            Ok(v) => Ok(v),
            Err(Fail::Failed(e)) => Err(e),
            Err(Fail::Refused(e)) => {
                if !matches!(self.store.customer(tenant).await, Ok(Some(_))) {
                    return Err(e);
                }
                Err(log_refusal(
                    self.store.as_ref(),
                    self.clock.as_ref(),
                    ctx,
                    access(tenant, op, resource),
                    e,
                )
                .await)
            }
        }
    }

    /// A granted entry for a change to carry into its transaction.
    pub(crate) fn entry(
        &self,
        ctx: &RequestContext,
        tenant: &CustomerId,
        op: Operation,
        resource: &str,
    ) -> AccessEntry {
        entry(ctx, self.clock.as_ref(), &access(tenant, op, resource), None)
    }

    /// Log a granted read before its data leaves.
    pub(crate) async fn log_read(
        &self,
        ctx: &RequestContext,
        tenant: &CustomerId,
        op: Operation,
        resource: &str,
    ) -> Call<()> {
        log_read(
            self.store.as_ref(),
            self.clock.as_ref(),
            ctx,
            access(tenant, op, resource),
        )
        .await
        .map(|_| ())
        .map_err(Fail::Failed)
    }

    /// A customer's view of an incident, or `incident_not_found` if it is not part of it.
    async fn visible(&self, tenant: &CustomerId, id: u64) -> Call<IncidentRecord> {
        let inc = self.store.incident(id).await?.ok_or_else(|| not_found(id))?;
        Ok(customer_view(inc, tenant).ok_or_else(|| not_found(id))?)
    }

    /// An incident that may still change: not closed, not found to be no breach.
    async fn open_incident(&self, id: u64) -> Result<IncidentRecord> {
        let inc = self.store.incident(id).await?.ok_or_else(|| not_found(id))?;
        if inc.status.is_final() {
            return Err(Error::new(
                ErrorCode::IncidentTransitionNotAllowed,
                format!("incident {id} is `{}`; it is no longer changed", inc.status.as_str()),
            ));
        }
        Ok(inc)
    }

    // ----- reports and reading the register -----

    /// Register a report: staff's (`customer` none) or a customer's own (R4.5), which leaves
    /// its entry in that customer's log with the new incident.
    pub async fn report(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
        report: Report,
    ) -> Result<IncidentRecord> {
        let op = Operation::IncidentReport;
        let Some(c) = customer else {
            op.authorize(who, None)?;
            let new = self.new_incident(who, None, report)?;
            return self.store.create_incident(&new, &[]).await;
        };
        let resource = "incidents";
        let step = async {
            self.judge(who, c, op).await?;
            let new = self.new_incident(who, Some(c), report)?;
            let entry = self.entry(ctx, c, op, resource);
            Ok(self.store.create_incident(&new, &[entry]).await?)
        }
        .await;
        self.door(ctx, c, op, resource, step).await
    }

    /// A report checked and made into a new incident.
    fn new_incident(&self, who: &Principal, customer: Option<&CustomerId>, report: Report) -> Result<NewIncident> {
        report.details.validate()?;
        let now = self.now();
        let aware_at = report.aware_at.unwrap_or(now);
        incident::check_aware_at(aware_at, now)?;
        let source = match (customer, report.source) {
            (Some(_), None | Some(Source::Customer)) => Source::Customer,
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    ErrorCode::IncidentInvalid,
                    "a customer's report has source `customer`",
                ));
            }
            (None, Some(Source::Customer)) => {
                return Err(Error::new(
                    ErrorCode::IncidentInvalid,
                    "source `customer` is for a customer's own report; use its customer's route",
                ));
            }
            (None, s) => s.unwrap_or(Source::Processor),
        };
        let reported_by = match &report.reporter {
            Some(r) => format!("{} ({})", text("reporter", r, 200)?, who.username),
            None => who.username.clone(),
        };
        let reported_to = match &report.reported_to {
            Some(r) => text("reported_to", r, 200)?,
            None => "security officer".to_string(),
        };
        Ok(NewIncident {
            source,
            kind: report.kind,
            reported_by,
            reporter_tenant: customer.cloned(),
            reported_to,
            aware_at,
            created_at: now,
            details: report.details,
        })
    }

    /// One incident, as the caller may see it: staff with `incidents_read` see all of it; a
    /// customer sees an incident it reported or is affected by, with only its own part, and one
    /// it is not part of as one that does not exist.
    pub async fn get(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
        id: u64,
    ) -> Result<IncidentRecord> {
        let op = Operation::IncidentRead;
        let Some(c) = customer else {
            op.authorize(who, None)?;
            return self.store.incident(id).await?.ok_or_else(|| not_found(id));
        };
        let resource = format!("incident/{id}");
        let step = async {
            self.judge(who, c, op).await?;
            let inc = self.visible(c, id).await?;
            self.log_read(ctx, c, op, &resource).await?;
            Ok(inc)
        }
        .await;
        self.door(ctx, c, op, &resource, step).await
    }

    /// Incidents: all (staff) or those touching one customer, each cut to what it may see.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
    ) -> Result<Vec<IncidentRecord>> {
        self.list_as(ctx, who, customer, "incidents").await
    }

    /// The register for export (JSON or CSV): as [`Incidents::list`], logged as an export.
    pub async fn export(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
    ) -> Result<Vec<IncidentRecord>> {
        self.list_as(ctx, who, customer, "incidents/export").await
    }

    async fn list_as(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
        resource: &str,
    ) -> Result<Vec<IncidentRecord>> {
        let op = Operation::IncidentRead;
        let Some(c) = customer else {
            op.authorize(who, None)?;
            return self.store.incidents(None).await;
        };
        let step = async {
            self.judge(who, c, op).await?;
            let mine = self.own_incidents(c).await?;
            self.log_read(ctx, c, op, resource).await?;
            Ok(mine)
        }
        .await;
        self.door(ctx, c, op, resource, step).await
    }

    async fn own_incidents(&self, c: &CustomerId) -> Result<Vec<IncidentRecord>> {
        let all = self.store.incidents(Some(c)).await?;
        Ok(all.into_iter().filter_map(|i| customer_view(i, c)).collect())
    }

    /// Every first-notice deadline, with its state now (none for an incident found not to be a
    /// breach); for a customer, its own.
    pub async fn deadlines(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
    ) -> Result<Vec<Deadline>> {
        let op = Operation::IncidentRead;
        let Some(c) = customer else {
            op.authorize(who, None)?;
            return Ok(self.deadlines_of(self.store.incidents(None).await?));
        };
        let resource = "incidents/deadlines";
        let step = async {
            self.judge(who, c, op).await?;
            let out = self.deadlines_of(self.own_incidents(c).await?);
            self.log_read(ctx, c, op, resource).await?;
            Ok(out)
        }
        .await;
        self.door(ctx, c, op, resource, step).await
    }

    /// The register's terms as the one deadlines view shows them, at `now`: every affected
    /// customer's first notice (customer none) or those of one customer's own incidents. Neither
    /// judged nor logged here: [`crate::deadlines::Deadlines`], the view's door, does both.
    pub(crate) async fn view_deadlines(
        &self,
        customer: Option<&CustomerId>,
        now: Timestamp,
    ) -> Result<Vec<art28_core::deadline::Deadline>> {
        let incidents = match customer {
            Some(c) => self.own_incidents(c).await?,
            None => self.store.incidents(None).await?,
        };
        let mut out = Vec::new();
        for inc in incidents {
            for a in inc.customers {
                out.extend(art28_core::deadline::breach_notice(
                    inc.id,
                    &inc.details.summary,
                    inc.status,
                    a.customer,
                    a.due_at,
                    a.notified_at,
                    now,
                ));
            }
        }
        Ok(out)
    }

    fn deadlines_of(&self, incidents: Vec<IncidentRecord>) -> Vec<Deadline> {
        let now = self.now();
        let mut out = Vec::new();
        for inc in incidents {
            for a in &inc.customers {
                if let Some(state) = incident::notice_deadline(inc.status, a.due_at, a.notified_at, now) {
                    out.push(Deadline {
                        incident: inc.id,
                        customer: a.customer.clone(),
                        due_at: a.due_at,
                        notified_at: a.notified_at,
                        controller_due_at: incident::controller_due(inc.aware_at),
                        state,
                    });
                }
            }
        }
        out
    }

    // ----- the workflow (staff) -----

    /// Replace what is known. Closed incidents stay as they were.
    pub async fn update_details(
        &self,
        who: &Principal,
        id: u64,
        version: u64,
        details: Details,
    ) -> Result<IncidentRecord> {
        Operation::IncidentManage.authorize(who, None)?;
        details.validate()?;
        let inc = self.open_incident(id).await?;
        self.store
            .update_incident(
                id,
                version,
                &IncidentChange {
                    details: Some(details),
                    ..IncidentChange::default()
                },
                &IncidentEvent {
                    at: self.now(),
                    by: who.username.clone(),
                    from: Some(inc.status),
                    to: inc.status,
                    note: "details updated".into(),
                },
                &[],
            )
            .await
    }

    /// Take a step in the workflow. `not_a_breach` and `close` need a reason.
    pub async fn step(
        &self,
        who: &Principal,
        id: u64,
        version: u64,
        step: Step,
        reason: Option<&str>,
    ) -> Result<IncidentRecord> {
        Operation::IncidentManage.authorize(who, None)?;
        let inc = self.store.incident(id).await?.ok_or_else(|| not_found(id))?;
        // Only a close needs to know who still waits for a first notice.
        let waiting: Vec<String> = if step == Step::Close {
            let sent = self.store.notices(Some(id), None).await?;
            inc.customers
                .iter()
                .filter(|a| !sent.iter().any(|n| n.customer == a.customer && n.step == 0))
                .map(|a| a.customer.to_string())
                .collect()
        } else {
            Vec::new()
        };
        let to = incident::transition(inc.status, step, &waiting)?;
        let note = match step {
            Step::NotABreach | Step::Close => text("reason", reason.unwrap_or(""), 2000)?,
            Step::Triage | Step::Breach => reason.map(str::trim).unwrap_or("").to_string(),
        };
        self.store
            .update_incident(
                id,
                version,
                &IncidentChange {
                    status: Some((inc.status, to)),
                    ..IncidentChange::default()
                },
                &IncidentEvent {
                    at: self.now(),
                    by: who.username.clone(),
                    from: Some(inc.status),
                    to,
                    note,
                },
                &[],
            )
            .await
    }

    /// Search the access log: which customers did the named actors reach in the window, how
    /// many records and data subjects, and which categories of personal data.
    ///
    /// Counted from granted entries only. Records are counted from the vault as it is now: a
    /// read of one record counts that record, a list, export or bulk import counts every record of
    /// the collection (or of all); a lookup by data subject counts as one subject whose records
    /// the entry does not name, so its categories are those of every collection.
    pub async fn scope(&self, who: &Principal, q: &ScopeQuery) -> Result<Vec<CustomerScope>> {
        Operation::IncidentManage.authorize(who, None)?;
        let store = self.store.as_ref();
        if q.to <= q.from {
            return Err(Error::new(ErrorCode::IncidentInvalid, "`to` must be after `from`"));
        }
        let entries = store.log_window(q.from, q.to, SCOPE_LIMIT + 1).await?;
        if entries.len() > SCOPE_LIMIT {
            return Err(Error::new(
                ErrorCode::IncidentInvalid,
                format!("the window holds more than {SCOPE_LIMIT} access entries; scope it in shorter windows"),
            ));
        }
        #[derive(Default)]
        struct Acc {
            entries: u64,
            records: BTreeSet<(String, String)>,
            collections: BTreeSet<String>,
            all: bool,
            lookups: BTreeSet<String>,
        }
        let mut per: BTreeMap<CustomerId, Acc> = BTreeMap::new();
        let actors: BTreeSet<&str> = q.actors.iter().map(String::as_str).collect();
        let systems: BTreeSet<&str> = q.systems.iter().map(String::as_str).collect();
        for e in &entries {
            let Some(tenant) = &e.tenant else { continue };
            if e.decision != art28_core::access::Decision::Granted {
                continue;
            }
            if !actors.is_empty() && !actors.contains(e.actor.id.as_str()) {
                continue;
            }
            let Some(path) = e.resource.strip_prefix("vault/") else {
                continue;
            };
            let (first, rest) = path.split_once('/').map_or((path, None), |(a, b)| (a, Some(b)));
            let in_systems = systems.is_empty() || systems.contains(first);
            match Operation::from_log(&e.operation) {
                Some(
                    Operation::RecordRead | Operation::RecordUpdate | Operation::RecordDelete | Operation::RecordCreate,
                ) if in_systems => {
                    let acc = per.entry(tenant.clone()).or_default();
                    acc.entries += 1;
                    match rest {
                        Some(id) if !id.starts_with("import:") => {
                            acc.records.insert((first.to_string(), id.to_string()));
                        }
                        _ => {
                            acc.collections.insert(first.to_string());
                        }
                    }
                }
                Some(Operation::RecordList | Operation::VaultExport) => {
                    let everything = first == "*" || first.starts_with("*?");
                    if !everything && !in_systems {
                        continue;
                    }
                    let acc = per.entry(tenant.clone()).or_default();
                    acc.entries += 1;
                    match (everything, systems.is_empty()) {
                        (true, true) => acc.all = true,
                        (true, false) => acc.collections.extend(systems.iter().map(|s| s.to_string())),
                        (false, _) => {
                            acc.collections.insert(first.to_string());
                        }
                    }
                }
                Some(Operation::SubjectQuery) if systems.is_empty() => {
                    let acc = per.entry(tenant.clone()).or_default();
                    acc.entries += 1;
                    if rest.is_some_and(|r| r != "-") {
                        acc.lookups.insert(e.resource.clone());
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::with_capacity(per.len());
        for (tenant, acc) in per {
            let defs = store.collections(&tenant).await?;
            let mut colls: BTreeSet<String> = acc.collections.clone();
            if acc.all {
                colls.extend(defs.iter().map(|d| d.def.name.clone()));
            }
            let records: Vec<(String, String)> = acc.records.iter().cloned().collect();
            let wide: Vec<String> = colls.iter().cloned().collect();
            let reach = store.vault_reach(&tenant, &records, &wide).await?;
            let mut groups: BTreeSet<String> = colls;
            groups.extend(acc.records.iter().map(|(c, _)| c.clone()));
            if !acc.lookups.is_empty() {
                groups.extend(defs.iter().map(|d| d.def.name.clone()));
            }
            let categories: BTreeSet<String> = defs
                .iter()
                .filter(|d| groups.contains(&d.def.name))
                .flat_map(|d| d.def.fields.iter().map(|f| f.category.clone()))
                .collect();
            out.push(CustomerScope {
                customer: tenant,
                entries: acc.entries,
                records: reach.records,
                data_subjects: reach.subjects + acc.lookups.len() as u64,
                categories: categories.into_iter().collect(),
                subject_groups: groups.into_iter().collect(),
            });
        }
        Ok(out)
    }

    /// Name the customers an incident touches (with what scoping found, if anything), or take
    /// off those not affected after all. Each customer's notice deadline is set from its
    /// agreement in force: awareness plus the agreement's breach notice term. Every customer
    /// added (or whose scope is replaced) and every one taken off gets an entry in its log, in
    /// the change's transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_customers(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: u64,
        version: u64,
        add: Vec<(CustomerId, Option<CustomerScope>)>,
        remove: Vec<CustomerId>,
    ) -> Result<IncidentRecord> {
        let op = Operation::IncidentManage;
        op.authorize(who, None)?;
        let inc = self.open_incident(id).await?;
        if !remove.is_empty() {
            // Read at the incident's version: a notice sent since bumps it, and the change is
            // refused then.
            let sent = self.store.notices(Some(id), None).await?;
            let noticed: Vec<&CustomerId> = sent.iter().map(|n| &n.customer).collect();
            incident::check_removal(id, &remove, &noticed)?;
        }
        let now = self.now();
        let mut customers = Vec::with_capacity(add.len());
        for (c, scope) in add {
            if let Some(s) = &scope
                && s.customer != c
            {
                return Err(Error::new(
                    ErrorCode::IncidentInvalid,
                    format!("the scope given for `{c}` is about `{}`", s.customer),
                ));
            }
            // Staff may learn that a customer id is unknown (they see every customer).
            crate::door::existing_customer(self.store.as_ref(), &c).await?;
            // The term is the one agreed when the processor became aware.
            let aware_day = art28_core::date::Date(inc.aware_at.to_zoned(jiff::tz::TimeZone::UTC).date());
            let agreement = match self.store.agreement_in_force(&c, aware_day).await? {
                Some(a) => a,
                None => self
                    .store
                    .agreement_in_force(&c, today(self.clock.as_ref()))
                    .await?
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::NoAgreementInForce,
                            format!("customer `{c}` has no agreement in force, so its notice term is unknown"),
                        )
                    })?,
            };
            customers.push(AffectedCustomer {
                customer: c,
                due_at: incident::notice_due(inc.aware_at, &agreement.agreement.breach.notice),
                scope,
                added_at: now,
                added_by: who.username.clone(),
                notified_at: None,
            });
        }
        // Only customers on the incident are taken off (and told so in their logs).
        let remove: Vec<CustomerId> = remove
            .into_iter()
            .filter(|r| inc.customers.iter().any(|a| &a.customer == r))
            .collect();
        let mut entries: Vec<AccessEntry> = customers
            .iter()
            .map(|a| self.entry(ctx, &a.customer, op, &format!("incident/{id}/affected")))
            .collect();
        entries.extend(
            remove
                .iter()
                .map(|c| self.entry(ctx, c, op, &format!("incident/{id}/not-affected"))),
        );
        let names: Vec<String> = customers.iter().map(|c| c.customer.to_string()).collect();
        let gone: Vec<String> = remove.iter().map(|c| c.to_string()).collect();
        let note = match (names.is_empty(), gone.is_empty()) {
            (false, true) => format!("affected customers: {}", names.join(", ")),
            (true, false) => format!("not affected after all: {}", gone.join(", ")),
            _ => format!("affected: {}; not affected: {}", names.join(", "), gone.join(", ")),
        };
        self.store
            .update_incident(
                id,
                version,
                &IncidentChange {
                    customers,
                    remove_customers: remove,
                    ..IncidentChange::default()
                },
                &IncidentEvent {
                    at: now,
                    by: who.username.clone(),
                    from: Some(inc.status),
                    to: inc.status,
                    note,
                },
                &entries,
            )
            .await
    }

    // ----- notices -----

    /// Compose the notices a send would queue now: the first notice for every affected customer
    /// without one, or (with `update`) the next update for every customer already notified.
    pub async fn drafts(&self, who: &Principal, id: u64, update: Option<&str>) -> Result<(IncidentRecord, Vec<Draft>)> {
        Operation::NoticeSend.authorize(who, None)?;
        let inc = self.store.incident(id).await?.ok_or_else(|| not_found(id))?;
        self.compose(inc, update).await
    }

    /// The drafts for an incident already read.
    async fn compose(&self, inc: IncidentRecord, update: Option<&str>) -> Result<(IncidentRecord, Vec<Draft>)> {
        let (store, clock) = (self.store.as_ref(), self.clock.as_ref());
        let id = inc.id;
        let update = update.map(|u| text("update", u, incident::MAX_TEXT)).transpose()?;
        match (inc.status, &update) {
            (Status::Breach | Status::Notified, None) | (Status::Notified, Some(_)) => {}
            (s, None) => {
                return Err(Error::new(
                    ErrorCode::IncidentTransitionNotAllowed,
                    format!(
                        "incident {id} is `{}`: notices go out once it is found to be a breach",
                        s.as_str()
                    ),
                ));
            }
            (s, Some(_)) => {
                return Err(Error::new(
                    ErrorCode::IncidentTransitionNotAllowed,
                    format!("incident {id} is `{}`: updates follow the first notices", s.as_str()),
                ));
            }
        }
        let missing = inc.details.missing_for_notice();
        if !missing.is_empty() {
            return Err(Error::new(
                ErrorCode::NoticeIncomplete,
                format!(
                    "a breach notice needs {} first; fill them in (what is not yet known can be said so)",
                    missing.join(", ")
                ),
            ));
        }
        if inc.customers.is_empty() {
            return Err(Error::new(
                ErrorCode::NoticeIncomplete,
                "name the affected customers first (scope the access log, then confirm)",
            ));
        }
        let sent = store.notices(Some(id), None).await?;
        let now = clock.now();
        let mut out = Vec::new();
        for a in &inc.customers {
            let mine: Vec<&NoticeRecord> = sent.iter().filter(|n| n.customer == a.customer).collect();
            let step = match &update {
                None if mine.is_empty() => 0,
                None => continue,
                Some(_) if mine.is_empty() => continue,
                Some(_) => mine.iter().map(|n| n.step).max().unwrap_or(0) + 1,
            };
            let customer = store.customer(&a.customer).await?.ok_or_else(|| {
                Error::new(
                    ErrorCode::CustomerNotFound,
                    format!("there is no customer `{}`", a.customer),
                )
            })?;
            let agreement = store.agreement_in_force(&a.customer, today(clock)).await?;
            let processor = match &agreement {
                Some(v) => v.agreement.processor.name.clone(),
                None => store.processor().await?.map(|p| p.name).unwrap_or_default(),
            };
            let contacts: Vec<_> = store
                .contacts(&a.customer)
                .await?
                .into_iter()
                .filter(|c| c.roles.contains(&art28_core::agreement::ContactRole::BreachNotice))
                .collect();
            if contacts.is_empty() {
                return Err(Error::new(
                    ErrorCode::NoBreachContact,
                    format!(
                        "customer `{}` has no contact for breach notices; record one in its agreement first",
                        a.customer
                    ),
                ));
            }
            // One notice per language the customer's breach contacts read (a contact's own, else
            // its agreement's: the store keeps it resolved).
            let mut by_lang: BTreeMap<&str, (Lang, Vec<&art28_store::ContactRecord>)> = BTreeMap::new();
            for c in &contacts {
                by_lang
                    .entry(c.language.tag())
                    .or_insert((c.language, Vec::new()))
                    .1
                    .push(c);
            }
            for (language, group) in by_lang.values() {
                let language = *language;
                let content = NoticeContent {
                    incident: id,
                    step,
                    customer: a.customer.clone(),
                    customer_name: customer.name.clone(),
                    addressees: group.iter().map(|c| format!("{} <{}>", c.name, c.email)).collect(),
                    processor: processor.clone(),
                    language,
                    notice_at: now,
                    aware_at: inc.aware_at,
                    due_at: a.due_at,
                    controller_due_at: incident::controller_due(inc.aware_at),
                    details: inc.details.clone(),
                    scope: a
                        .scope
                        .clone()
                        .unwrap_or_else(|| CustomerScope::empty(a.customer.clone())),
                    update: update.clone(),
                };
                let r = art28_render::notice::notice(&content);
                let mut recipients: Vec<String> = group.iter().map(|c| c.email.clone()).collect();
                recipients.sort();
                recipients.dedup();
                out.push(Draft {
                    customer: a.customer.clone(),
                    recipients,
                    subject: r.subject,
                    body: r.body,
                    content,
                });
            }
        }
        Ok((inc, out))
    }

    /// Confirm and queue the notices [`Incidents::drafts`] composes, as they are now. A breach
    /// moves to `notified` once every affected customer has its first notice. Each customer
    /// told gets one entry in its log, in the same transaction, naming the notice
    /// (`incident/{id}/notice/{step}?lang=…`).
    pub async fn send(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: u64,
        version: u64,
        update: Option<&str>,
    ) -> Result<(IncidentRecord, Vec<NoticeRecord>)> {
        let op = Operation::NoticeSend;
        op.authorize(who, None)?;
        let inc = self.store.incident(id).await?.ok_or_else(|| not_found(id))?;
        // A stale version is refused before anything is composed.
        if inc.version != version {
            return Err(Error::new(
                ErrorCode::IncidentVersionConflict,
                format!(
                    "incident {id} is at version {}, not {version}: read it again",
                    inc.version
                ),
            ));
        }
        let (inc, drafts) = self.compose(inc, update).await?;
        if drafts.is_empty() {
            return Err(Error::new(
                ErrorCode::NoticeIncomplete,
                "there is nothing to send: every affected customer has this notice",
            ));
        }
        // Each notice goes to its e-mail recipients and, where the customer set one, its webhook;
        // every delivery has its own idempotency key.
        let mut notices: Vec<NewNotice> = Vec::with_capacity(drafts.len());
        for d in drafts {
            let (step, language) = (d.content.step, d.content.language);
            let key = |to| incident::delivery_key(id, &d.customer, step, language, to);
            let mut deliveries: Vec<NewDelivery> = d
                .recipients
                .iter()
                .enumerate()
                .map(|(i, to)| NewDelivery {
                    channel: "email".into(),
                    recipient: to.clone(),
                    idempotency_key: key(incident::Recipient::Email(i)),
                })
                .collect();
            if let Some(hook) = self.store.webhook(&d.customer).await? {
                deliveries.push(NewDelivery {
                    channel: "webhook".into(),
                    recipient: hook.url,
                    idempotency_key: key(incident::Recipient::Webhook),
                });
            }
            notices.push(NewNotice {
                customer: d.customer,
                step,
                language,
                subject: d.subject,
                body: d.body,
                content: d.content,
                deliveries,
            });
        }
        // One entry per customer told, naming its notice: the step, and the languages it went
        // out in (a customer may get a Dutch and an English one).
        let mut told: BTreeMap<&CustomerId, (u32, Vec<&str>)> = BTreeMap::new();
        for n in &notices {
            told.entry(&n.customer)
                .or_insert((n.step, Vec::new()))
                .1
                .push(n.language.tag());
        }
        let entries: Vec<AccessEntry> = told
            .iter()
            .map(|(c, (step, langs))| {
                let resource = format!("incident/{id}/notice/{step}?lang={}", langs.join(","));
                self.entry(ctx, c, op, &resource)
            })
            .collect();
        let first = update.is_none();
        let change = if first && inc.status == Status::Breach {
            IncidentChange {
                status: Some((Status::Breach, Status::Notified)),
                ..IncidentChange::default()
            }
        } else {
            IncidentChange::default()
        };
        let to = change.status.map_or(inc.status, |(_, t)| t);
        let names: Vec<String> = told.keys().map(|c| c.to_string()).collect();
        let now = self.now();
        self.store
            .add_notices(
                id,
                version,
                &notices,
                (now, &who.username),
                &change,
                &IncidentEvent {
                    at: now,
                    by: who.username.clone(),
                    from: Some(inc.status),
                    to,
                    note: format!(
                        "{} queued for {}",
                        if first { "first notice" } else { "update" },
                        names.join(", ")
                    ),
                },
                &entries,
            )
            .await
    }

    /// Notices of an incident as the caller may see them: staff all, a customer its own (one
    /// entry in its log; an incident it is not part of is `incident_not_found`).
    pub async fn notices(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
        id: u64,
    ) -> Result<Vec<NoticeRecord>> {
        let op = Operation::NoticeRead;
        let Some(c) = customer else {
            op.authorize(who, None)?;
            self.store.incident(id).await?.ok_or_else(|| not_found(id))?;
            return self.store.notices(Some(id), None).await;
        };
        let resource = format!("incident/{id}/notices");
        let step = async {
            self.judge(who, c, op).await?;
            self.visible(c, id).await?;
            let mine = self.store.notices(Some(id), Some(c)).await?;
            self.log_read(ctx, c, op, &resource).await?;
            Ok(mine)
        }
        .await;
        self.door(ctx, c, op, &resource, step).await
    }

    /// The customer confirms it received a notice; the entry is written with the
    /// acknowledgement. Another customer's notice is `notice_not_found`.
    pub async fn acknowledge(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: &CustomerId,
        notice: u64,
    ) -> Result<NoticeRecord> {
        let op = Operation::NoticeAcknowledge;
        let resource = format!("notice/{notice}");
        let step = async {
            self.judge(who, customer, op).await?;
            let entry = self.entry(ctx, customer, op, &resource);
            Ok(self
                .store
                .acknowledge_notice(notice, customer, &who.username, self.now(), &entry)
                .await?)
        }
        .await;
        self.door(ctx, customer, op, &resource, step).await
    }

    // ----- the outbox's jobs (no caller: nothing is judged, nothing about a customer read) -----

    /// First notices that need the security officer's attention now: not delivered, and due
    /// within [`incident::DUE_SOON`] or overdue. For the server's watch job.
    pub async fn alerts(&self) -> Result<Vec<Deadline>> {
        let now = self.now();
        Ok(self
            .store
            .pending_first_notices()
            .await?
            .into_iter()
            .filter_map(|p| {
                let state = incident::deadline_state(p.due_at, None, now);
                matches!(state, DeadlineState::DueSoon | DeadlineState::Overdue).then(|| Deadline {
                    incident: p.incident,
                    customer: p.customer,
                    due_at: p.due_at,
                    notified_at: None,
                    controller_due_at: incident::controller_due(p.aware_at),
                    state,
                })
            })
            .collect())
    }

    /// Raise [`Incidents::alerts`] to the security officer as security events
    /// (`breach_notice_due_soon`, `breach_notice_overdue`), each incident, customer and state
    /// once while `raised` is kept (the server keeps it for its run). How many were raised now.
    pub async fn raise_alerts(&self, raised: &mut Raised) -> Result<usize> {
        let mut events = Vec::new();
        for a in self.alerts().await? {
            if !raised.insert((a.incident, a.customer.clone(), a.state)) {
                continue;
            }
            let kind = match a.state {
                DeadlineState::Overdue => "breach_notice_overdue",
                _ => "breach_notice_due_soon",
            };
            tracing::warn!(incident = a.incident, customer = %a.customer, due_at = %a.due_at, kind, "breach notice deadline");
            events.push(art28_store::NewSecurityEvent {
                time: self.now(),
                account_id: None,
                username: None,
                kind: kind.into(),
                detail: format!(
                    "incident {}: first notice to {} due at {}",
                    a.incident, a.customer, a.due_at
                ),
                client: None,
            });
        }
        if !events.is_empty() {
            self.store.add_security_events(&events).await?;
        }
        Ok(events.len())
    }

    /// Deliver what is due, up to `limit`, [`DELIVERY_CONCURRENCY`] at a time. What is taken is
    /// leased for [`DELIVERY_LEASE`], so another node running the outbox too does not send it
    /// as well. A delivery stays pending until its result is recorded, so a crash in between
    /// sends it again once the lease has run out (after a restart, or from another node), with
    /// the same idempotency key (the e-mail's Message-ID, the webhook's
    /// `Idempotency-Key`), by which the receiver recognises it. Rows of a channel without a
    /// courier wait.
    pub async fn deliver_due(&self, couriers: &[Arc<dyn Courier>], limit: usize) -> Result<OutboxRun> {
        let channels: Vec<&str> = couriers.iter().map(|c| c.channel()).collect();
        if channels.is_empty() {
            return Ok(OutboxRun::default());
        }
        let (store, clock) = (self.store.as_ref(), self.clock.as_ref());
        let now = clock.now();
        let lease_until = now.checked_add(DELIVERY_LEASE).unwrap_or(now);
        let due = store.due_deliveries(now, &channels, limit, lease_until).await?;
        let due = due.into_iter().map(|(d, n)| (d, Outgoing::notice(&n))).collect();
        send_due(store, clock, couriers, due, Queue::Notices).await
    }
}

/// Which register's outbox rows a send settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queue {
    /// Breach notices.
    Notices,
    /// Sub-processor announcements.
    Announcements,
}

/// Send leased deliveries through the courier of their channel, up to
/// [`DELIVERY_CONCURRENCY`] at once (so one receiver that never answers does not hold up the
/// others), and record each outcome in `queue` as soon as it is known: sent, or failed with the
/// next attempt after [`backoff`]. Rows of a channel without a courier wait.
pub(crate) async fn send_due(
    store: &dyn Store,
    clock: &dyn Clock,
    couriers: &[Arc<dyn Courier>],
    due: Vec<(DeliveryRecord, Outgoing)>,
    queue: Queue,
) -> Result<OutboxRun> {
    let results: Vec<Result<bool>> = futures_util::stream::iter(due)
        .map(|(d, message)| async move {
            let Some(courier) = couriers.iter().find(|c| c.channel() == d.channel) else {
                return Ok(false);
            };
            let outcome = match courier.send(&d, &message).await {
                Ok(()) => DeliveryOutcome::Sent(clock.now()),
                Err(error) => {
                    tracing::warn!(delivery = d.id, attempts = d.attempts + 1, ?queue, %error, "not delivered; will retry");
                    DeliveryOutcome::Failed {
                        error,
                        retry_at: clock.now().checked_add(backoff(d.attempts)).unwrap_or(clock.now()),
                    }
                }
            };
            let sent = matches!(outcome, DeliveryOutcome::Sent(_));
            match queue {
                Queue::Notices => store.record_delivery(d.id, &outcome).await?,
                Queue::Announcements => store.record_announcement_delivery(d.id, &outcome).await?,
            }
            Ok(sent)
        })
        .buffer_unordered(DELIVERY_CONCURRENCY)
        .collect()
        .await;
    let mut run = OutboxRun::default();
    for r in results {
        if r? {
            run.sent += 1;
        } else {
            run.failed += 1;
        }
    }
    Ok(run)
}

fn access<'a>(tenant: &'a CustomerId, op: Operation, resource: &str) -> Access<'a> {
    Access {
        tenant: Some(tenant),
        operation: op,
        resource: resource.to_string(),
    }
}

/// An incident cut to one customer: only its own entry among the affected customers, the
/// reporter kept only when it reported the incident itself, and of the history only the
/// workflow's steps. Reasons given for `triage`, `breach`, `not_a_breach` and `close` are
/// shown to the customers concerned; the notes art28 writes itself (which name customers) are
/// not.
fn customer_view(mut inc: IncidentRecord, c: &CustomerId) -> Option<IncidentRecord> {
    let reported = inc.reporter_tenant.as_ref() == Some(c);
    inc.customers.retain(|a| &a.customer == c);
    if !reported && inc.customers.is_empty() {
        return None;
    }
    // Another customer's report: neither that customer nor its representative is named.
    let foreign_reporter = !reported && inc.source == Source::Customer;
    if !reported {
        inc.reporter_tenant = None;
    }
    if foreign_reporter {
        inc.reported_by = "another customer".into();
    }
    inc.events.retain(|e| e.from != Some(e.to));
    for e in &mut inc.events {
        if e.to == Status::Notified || e.from.is_none() {
            e.note.clear();
        }
        if foreign_reporter && e.from.is_none() {
            e.by = "another customer".into();
        }
    }
    Some(inc)
}

/// A notice art28 proposes, for a person to confirm.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Draft {
    /// The customer.
    pub customer: CustomerId,
    /// Recipients.
    pub recipients: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Structured content.
    pub content: NoticeContent,
}

/// Delivers outbox rows of one channel: e-mail over SMTP ([`crate::mail::SmtpMailer`]) or
/// signed webhooks ([`crate::webhook::WebhookSender`]).
#[async_trait::async_trait]
pub trait Courier: Send + Sync + std::fmt::Debug {
    /// The channel: `email` or `webhook`.
    fn channel(&self) -> &'static str;
    /// Hand the message to the receiver; `Err` with a safe reason if it was not accepted.
    async fn send(&self, delivery: &DeliveryRecord, message: &Outgoing) -> std::result::Result<(), String>;
}

/// A message the outbox sends, whichever register queued it: a breach notice, or a
/// sub-processor announcement.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The customer it is for (whose webhook and key a webhook delivery uses).
    pub customer: CustomerId,
    /// The e-mail's subject.
    pub subject: String,
    /// The e-mail's body, as sent.
    pub body: String,
    /// The webhook's JSON body (its `type` names the kind of message).
    pub payload: serde_json::Value,
}

impl Outgoing {
    /// A breach notice as the outbox sends it.
    pub fn notice(n: &NoticeRecord) -> Self {
        Self {
            customer: n.customer.clone(),
            subject: n.subject.clone(),
            body: n.body.clone(),
            payload: serde_json::json!({
                "type": "art28.breach_notice",
                "notice": n.id,
                "incident": n.incident_id,
                "customer": n.customer,
                "step": n.step,
                "language": n.language.tag(),
                "subject": n.subject,
                "body": n.body,
                "content": n.content,
            }),
        }
    }
}

/// What one run of the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxRun {
    /// Delivered.
    pub sent: usize,
    /// Failed, to be retried.
    pub failed: usize,
}

/// Deliveries sent at once by one run of the outbox.
pub const DELIVERY_CONCURRENCY: usize = 8;

/// How long deliveries taken by the outbox are this node's to send: longer than a run of 100
/// sends 8 at a time takes against slow receivers (each attempt has its own timeouts), short
/// enough that a node dying mid-send delays its deliveries by minutes, not hours, against
/// the 48-hour term.
pub const DELIVERY_LEASE: jiff::SignedDuration = jiff::SignedDuration::from_mins(2);

/// Wait before attempt `n + 1` after `n` failed attempts: 30 s doubling, at most an hour.
fn backoff(attempts: u32) -> SignedDuration {
    let secs = 30i64.saturating_mul(1i64 << attempts.min(7));
    SignedDuration::from_secs(secs.min(3600))
}
