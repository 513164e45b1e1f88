//! Agreements and customers: recording agreement versions (resolving a customer's deviations
//! against the stored standard agreement), onboarding customers, and reading both through one
//! door, [`Agreements`].

use crate::access::{Access, RequestContext, entry, log_read, log_refusal};
use crate::clock::{Clock, today};
use art28_core::agreement::{
    AgreementKind, BaseRef, Latest, ProcessorAgreement, Source, check_set, check_succession, header,
};
use art28_core::auth::Principal;
use art28_core::date::Date;
use art28_core::ids::AgreementId;
use art28_core::ids::CustomerId;
use art28_core::lang::Lang;
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode, Result};
use art28_render::DocFormat;
use art28_store::{AgreementVersion, Logged, NewAgreementVersion, NewCustomer, Store};
use art28_store::{AgreementVersionMeta, ContactRecord, CustomerRecord, LogReceipt, ProcessorProfile};
use std::sync::Arc;

/// Validate an agreement text and record it as a new version, with its access entry.
///
/// A customer deviation (`based_on`) is resolved against the standard agreement version in
/// the store. The first agreement of an unknown customer onboards that customer in the same
/// transaction. Refused with `agreement_invalid` (itemised per problem, each naming field and
/// line), `agreement_base_missing`, `agreement_version_conflict` or
/// `agreement_customer_mismatch`; every refusal is logged with the rule that refused.
pub async fn record_agreement(
    store: &dyn Store,
    clock: &dyn Clock,
    ctx: &RequestContext,
    name: &str,
    text: &[u8],
) -> Result<Logged<AgreementVersion>> {
    let head = header(text);
    let resource = head.as_ref().map_or_else(
        || "agreement/unknown".to_string(),
        |h| format!("agreement/{}@{}", h.id, h.version),
    );
    let agreement = match validate(store, name, text, head.and_then(|h| h.based_on)).await {
        Ok(a) => a,
        Err(e) => {
            let access = Access {
                tenant: None,
                operation: Operation::AgreementRecord,
                resource,
            };
            return Err(log_refusal(store, clock, ctx, access, e).await);
        }
    };
    let tenant = agreement.customer.as_ref().map(|c| c.id.clone());
    let access = Access {
        tenant: tenant.as_ref(),
        operation: Operation::AgreementRecord,
        resource,
    };
    // Which version may follow which is core's rule, checked against the stored history; the
    // store writes only if that history is still the same.
    let history = store.agreement_versions(&agreement.id).await?;
    let latest = history.last();
    let succession = check_succession(
        latest.map(|m| Latest {
            version: m.version,
            customer: m.customer.as_ref(),
        }),
        &agreement,
    );
    if let Err(e) = succession {
        return Err(log_refusal(store, clock, ctx, access, e).await);
    }
    let follows = latest.map(|m| m.version);
    let now = clock.now();
    let onboard = match &agreement.customer {
        Some(party) if store.customer(&party.id).await?.is_none() => Some(NewCustomer {
            id: party.id.clone(),
            name: party.name.clone(),
            language: agreement.language,
            created_at: now,
            created_by: ctx.actor.id.clone(),
        }),
        _ => None,
    };
    let new = NewAgreementVersion {
        onboard,
        agreement,
        follows,
        source: String::from_utf8_lossy(text).into_owned(),
        recorded_by: ctx.actor.id.clone(),
        recorded_at: now,
    };
    match store
        .put_agreement_version(&new, &entry(ctx, clock, &access, None))
        .await
    {
        Ok(v) => {
            tracing::info!(agreement = %v.value.meta.id, version = v.value.meta.version, access_id = %v.receipt.access_id, "agreement version recorded");
            Ok(v)
        }
        Err(e) if e.kind() == art28_core::ErrorKind::Internal => Err(e),
        Err(e) => Err(log_refusal(store, clock, ctx, access, e).await),
    }
}

/// Check the text, resolving its base from the store.
async fn validate(store: &dyn Store, name: &str, text: &[u8], base: Option<BaseRef>) -> Result<ProcessorAgreement> {
    let mut sources = Vec::new();
    if let Some(BaseRef { id, version }) = base {
        match store.agreement_version(&id, version).await? {
            Some(b) if b.meta.kind == AgreementKind::Standard => {
                sources.push(Source::new(format!("{id} v{version} (stored)"), b.source.into_bytes()));
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::AgreementBaseMissing,
                    format!("the standard agreement `{id}` version {version} is not recorded; record it first"),
                ));
            }
        }
    }
    sources.push(Source::new(name, text.to_vec()));
    let checked = check_set(&sources)
        .pop()
        .ok_or_else(|| Error::new(ErrorCode::Internal, "nothing was checked"))?;
    checked.result.map_err(|diagnostics| {
        Error::new(
            ErrorCode::AgreementInvalid,
            format!(
                "the agreement is not valid ({} problem{})",
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            ),
        )
        .with_details(diagnostics.iter().map(ToString::to_string).collect())
    })
}

/// A customer as its reader sees it: the record, its contacts and the agreement in force.
#[derive(Debug, Clone)]
pub struct CustomerDetail {
    /// The customer.
    pub customer: CustomerRecord,
    /// Its contacts, as of its latest agreement version.
    pub contacts: Vec<ContactRecord>,
    /// The version in force today, if any.
    pub in_force: Option<AgreementVersionMeta>,
}

/// The door to agreements and customers: recording versions, onboarding customers and reading
/// them. Every read of a customer's agreement or record is authorized here and leaves one entry
/// in that customer's access log, granted or refused; standard agreements are nobody's data.
pub struct Agreements {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Agreements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agreements").finish_non_exhaustive()
    }
}

impl Agreements {
    /// The door over a store and a clock.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    fn access<'a>(tenant: &'a CustomerId, operation: Operation, resource: String) -> Access<'a> {
        Access {
            tenant: Some(tenant),
            operation,
            resource,
        }
    }

    async fn refuse(&self, ctx: &RequestContext, access: Access<'_>, e: Error) -> Error {
        log_refusal(self.store.as_ref(), self.clock.as_ref(), ctx, access, e).await
    }

    /// Whether the store answers (for the health check).
    pub async fn ping(&self) -> Result<()> {
        self.store.processor().await.map(|_| ())
    }

    /// The processor running this art28.
    pub async fn processor(&self) -> Result<ProcessorProfile> {
        self.store
            .processor()
            .await?
            .ok_or_else(|| Error::new(ErrorCode::AgreementNotFound, "no processor profile is set up yet"))
    }

    /// Set the processor's profile.
    pub async fn set_processor(&self, profile: &ProcessorProfile) -> Result<()> {
        self.store.set_processor(profile).await
    }

    /// The customers the caller may see: staff who may read customers see all of them, a
    /// customer's representatives their own.
    pub async fn customers(&self, who: &Principal) -> Result<Vec<CustomerRecord>> {
        let all = Operation::CustomerList.authorize(who, None).is_ok();
        let visible = |c: &CustomerRecord| all || Operation::CustomerRead.authorize(who, Some(&c.id)).is_ok();
        Ok(self.store.customers().await?.into_iter().filter(visible).collect())
    }

    /// Add a customer, logged; a refusal (`customer_exists`, `bad_request`) is logged too.
    pub async fn create_customer(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: CustomerId,
        name: &str,
        language: Lang,
    ) -> Result<Logged<CustomerRecord>> {
        Operation::CustomerCreate.authorize(who, None)?;
        crate::customers::create_customer(self.store.as_ref(), self.clock.as_ref(), ctx, id, name, language).await
    }

    /// Record an agreement version (see [`record_agreement`]).
    pub async fn record(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        name: &str,
        text: &[u8],
    ) -> Result<Logged<AgreementVersion>> {
        Operation::AgreementRecord.authorize(who, None)?;
        record_agreement(self.store.as_ref(), self.clock.as_ref(), ctx, name, text).await
    }

    /// A customer that exists, or `customer_not_found` (nothing to log it in).
    async fn existing(&self, id: &CustomerId) -> Result<CustomerRecord> {
        self.store
            .customer(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::CustomerNotFound, format!("customer `{id}` does not exist")))
    }

    /// Authorize `op` on a customer's data; a refusal goes to its log.
    async fn judge(&self, ctx: &RequestContext, who: &Principal, access: &Access<'_>, op: Operation) -> Result<()> {
        match op.authorize(who, access.tenant) {
            Ok(()) => Ok(()),
            // Judged before the customer is looked up, so a caller without the right hears
            // the same whether the customer exists or not; only an existing one logs it.
            Err(e) => match access.tenant {
                Some(t) if self.store.customer(t).await?.is_some() => Err(self.refuse(ctx, access.clone(), e).await),
                _ => Err(e),
            },
        }
    }

    /// A customer with its contacts and the agreement in force today, logged as read.
    pub async fn customer(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: &CustomerId,
    ) -> Result<(CustomerDetail, LogReceipt)> {
        let op = Operation::CustomerRead;
        let access = Self::access(id, op, format!("customer/{id}"));
        self.judge(ctx, who, &access, op).await?;
        let customer = self.existing(id).await?;
        let contacts = self.store.contacts(id).await?;
        let in_force = self.store.agreement_in_force(id, today(self.clock.as_ref())).await?;
        let receipt = log_read(self.store.as_ref(), self.clock.as_ref(), ctx, access).await?;
        let detail = CustomerDetail {
            customer,
            contacts,
            in_force: in_force.map(|v| v.meta),
        };
        Ok((detail, receipt))
    }

    /// Every agreement version recorded for a customer, logged as read.
    pub async fn history(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: &CustomerId,
    ) -> Result<(Vec<AgreementVersionMeta>, LogReceipt)> {
        let op = Operation::AgreementHistory;
        let access = Self::access(id, op, format!("customer/{id}/agreements"));
        self.judge(ctx, who, &access, op).await?;
        self.existing(id).await?;
        let history = self.store.customer_agreement_history(id).await?;
        let receipt = log_read(self.store.as_ref(), self.clock.as_ref(), ctx, access).await?;
        Ok((history, receipt))
    }

    /// The customer's version in force on a date (today when `None`), read for `op`
    /// (`agreement_read` or `agreement_render`); a refusal, `no version in force` included, is
    /// logged.
    async fn in_force_for(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: &CustomerId,
        on: Option<Date>,
        op: Operation,
    ) -> Result<(CustomerRecord, AgreementVersion, Access<'static>)> {
        let on = on.unwrap_or_else(|| today(self.clock.as_ref()));
        let judged = Access {
            tenant: Some(id),
            operation: op,
            resource: format!("customer/{id}/agreement?on={on}"),
        };
        self.judge(ctx, who, &judged, op).await?;
        let customer = self.existing(id).await?;
        let Some(v) = self.store.agreement_in_force(id, on).await? else {
            let e = Error::new(
                ErrorCode::AgreementNotFound,
                format!("customer `{id}` has no agreement in force on {on}"),
            );
            return Err(self.refuse(ctx, judged, e).await);
        };
        let resource = format!("agreement/{}@{}", v.meta.id, v.meta.version);
        let owned = Access {
            tenant: None,
            operation: op,
            resource,
        };
        Ok((customer, v, owned))
    }

    /// The customer's agreement in force on a date, logged as read.
    pub async fn in_force(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: &CustomerId,
        on: Option<Date>,
    ) -> Result<(AgreementVersion, LogReceipt)> {
        let (_, v, access) = self.in_force_for(ctx, who, id, on, Operation::AgreementRead).await?;
        let receipt = log_read(
            self.store.as_ref(),
            self.clock.as_ref(),
            ctx,
            Access {
                tenant: Some(id),
                ..access
            },
        )
        .await?;
        Ok((v, receipt))
    }

    /// The customer's agreement in force on a date as a document, in `lang` (the customer's
    /// language when `None`), logged as read.
    pub async fn document(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: &CustomerId,
        lang: Option<Lang>,
        format: DocFormat,
        on: Option<Date>,
    ) -> Result<(String, LogReceipt)> {
        let (customer, mut v, access) = self.in_force_for(ctx, who, id, on, Operation::AgreementRender).await?;
        let day = on.unwrap_or_else(|| today(self.clock.as_ref()));
        self.list_in_force(id, &mut v.agreement, day).await?;
        let body = art28_render::render_agreement(&v.agreement, lang.unwrap_or(customer.language), format)?;
        let receipt = log_read(
            self.store.as_ref(),
            self.clock.as_ref(),
            ctx,
            Access {
                tenant: Some(id),
                ..access
            },
        )
        .await?;
        Ok((body, receipt))
    }

    /// Put the sub-processors in force for the customer on `on` into its agreement's list, from
    /// the register's changes, so a document rendered from it and the register never disagree
    /// (R1.5, R5.1). Without changes the agreement's own list stands.
    pub async fn list_in_force(
        &self,
        id: &CustomerId,
        agreement: &mut art28_core::agreement::ProcessorAgreement,
        on: Date,
    ) -> Result<()> {
        let changes = self.store.changes(Some(id)).await?;
        if !changes.is_empty() {
            let register = self.store.subprocessors().await?;
            let list = crate::subprocessors::in_force_of(id, agreement, &changes, &register, on);
            agreement.subprocessors.list = list.list.into_iter().map(|l| l.item).collect();
        }
        Ok(())
    }

    /// The latest version of every standard agreement (nobody's data: not logged).
    pub async fn standard_agreements(&self, who: &Principal) -> Result<Vec<AgreementVersionMeta>> {
        holds_anywhere(who, Operation::AgreementRead)?;
        self.store.standard_agreements().await
    }

    /// An agreement's versions that the caller may read. A customer's agreement is logged as read
    /// in its log; one the caller may not read answers as if it did not exist (the refusal goes
    /// to the owner's log), so nobody learns of another customer's agreements.
    pub async fn versions(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: &AgreementId,
    ) -> Result<(Vec<AgreementVersionMeta>, Option<LogReceipt>)> {
        let versions = self.store.agreement_versions(id).await?;
        let not_found = || Error::new(ErrorCode::AgreementNotFound, format!("agreement `{id}` does not exist"));
        let Some(first) = versions.first() else {
            return Err(not_found());
        };
        match first.customer.clone() {
            None => {
                holds_anywhere(who, Operation::AgreementRead)?;
                Ok((versions, None))
            }
            Some(tenant) => {
                let op = Operation::AgreementHistory;
                let access = Self::access(&tenant, op, format!("agreement/{id}"));
                self.owned(ctx, who, &access, op, not_found).await?;
                let receipt = log_read(self.store.as_ref(), self.clock.as_ref(), ctx, access).await?;
                Ok((versions, Some(receipt)))
            }
        }
    }

    /// One stored version with its text, after the same checks as [`Agreements::versions`].
    pub async fn version(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        id: &AgreementId,
        version: u32,
    ) -> Result<(AgreementVersion, Option<LogReceipt>)> {
        let not_found = || {
            Error::new(
                ErrorCode::AgreementNotFound,
                format!("agreement `{id}` has no version {version}"),
            )
        };
        let v = self.store.agreement_version(id, version).await?.ok_or_else(not_found)?;
        match v.meta.customer.clone() {
            None => {
                holds_anywhere(who, Operation::AgreementRead)?;
                Ok((v, None))
            }
            Some(tenant) => {
                let op = Operation::AgreementRead;
                let access = Self::access(&tenant, op, format!("agreement/{id}@{version}"));
                self.owned(ctx, who, &access, op, not_found).await?;
                let receipt = log_read(self.store.as_ref(), self.clock.as_ref(), ctx, access).await?;
                Ok((v, Some(receipt)))
            }
        }
    }

    /// Authorize an operation on an object that belongs to the customer in `access`: a refusal
    /// is logged in that customer's log with the rule, and the caller hears `not_found()`, the
    /// same as for an object that does not exist.
    async fn owned(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        access: &Access<'_>,
        op: Operation,
        not_found: impl FnOnce() -> Error,
    ) -> Result<()> {
        match op.authorize(who, access.tenant) {
            Ok(()) => Ok(()),
            Err(e) => {
                let logged = self.refuse(ctx, access.clone(), e).await;
                // A failure to log is an error of its own; a logged refusal reads as not found.
                if logged.kind() == art28_core::ErrorKind::Internal {
                    Err(logged)
                } else {
                    Err(not_found())
                }
            }
        }
    }
}

/// Whether any role of the caller, for any customer, allows `op` (for data that belongs to no
/// customer: standard agreements, the log's checkpoints).
pub fn holds_anywhere(who: &Principal, op: Operation) -> Result<()> {
    let need = op
        .permission()
        .ok_or_else(|| Error::new(ErrorCode::PermissionDenied, "no role allows this"))?;
    if who.grants.iter().any(|g| g.role.has(need)) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::PermissionDenied,
            format!("none of this account's roles allows `{need}`"),
        ))
    }
}
