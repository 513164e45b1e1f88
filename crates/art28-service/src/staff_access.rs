//! Staff access to a customer's data (R2.2): never standing, always a time-bound grant naming
//! the customer, a reason from a fixed list and a ticket, visible to the customer, and — when
//! the customer's agreement asks for it — approved by the customer before it takes effect.
//!
//! Every door goes through [`StaffAccess`]: each call (list, request, approve or reject, revoke)
//! is judged with its [`Operation`] and leaves exactly one entry in the customer's access log,
//! granted or refused (see [`crate::door`]). A grant id of another customer answers
//! `access_grant_not_found`, as one that does not exist. The vault finds the grant it works
//! under with [`live_grant`] and names it in its own entry.

use crate::access::RequestContext;
use crate::clock::{Clock, today};
use crate::door::{Carried, existing_customer, finish};
use art28_core::access::AccessEntry;
use art28_core::auth::{AccessReason, Principal};
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode, Result};
use art28_store::{AccessGrantRecord, AccessGrantStatus, NewAccessGrant, NewSecurityEvent, StaffAccessStore, Store};
use jiff::Timestamp;
use std::sync::Arc;

/// A security event done by `who`.
pub(crate) fn event(now: Timestamp, who: &Principal, kind: &str, detail: String) -> NewSecurityEvent {
    NewSecurityEvent {
        time: now,
        account_id: (who.account_id != 0).then_some(who.account_id),
        username: Some(who.username.clone()),
        kind: kind.into(),
        detail,
        client: None,
    }
}

/// The grant under which a staff member may reach this customer's data now, or
/// `no_access_grant` (the caller logs the refusal in the customer's access log).
pub async fn live_grant(
    store: &dyn StaffAccessStore,
    clock: &dyn Clock,
    who: &Principal,
    tenant: &CustomerId,
) -> Result<AccessGrantRecord> {
    let now = clock.now();
    store
        .access_grants(Some(tenant), Some(who.account_id))
        .await?
        .into_iter()
        .rev()
        .find(|g| g.status == AccessGrantStatus::Approved && g.requested_at <= now && now < g.ends_at)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NoAccessGrant,
                format!("no live access grant for customer `{tenant}`; staff have no standing access — request one with a reason and a ticket"),
            )
        })
}

/// The door to staff access grants.
pub struct StaffAccess {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for StaffAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffAccess").finish_non_exhaustive()
    }
}

impl StaffAccess {
    /// Staff access grants over a store, with the clock.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// End a call with its one access entry in the customer's log.
    async fn finish<T>(
        &self,
        ctx: &RequestContext,
        tenant: &CustomerId,
        operation: Operation,
        resource: String,
        result: Result<T>,
    ) -> Result<T> {
        finish(
            self.store.as_ref(),
            self.clock.as_ref(),
            ctx,
            Some(tenant),
            operation,
            resource,
            result,
        )
        .await
    }

    /// One of the customer's grants, or `access_grant_not_found` (also for another customer's).
    async fn grant_of(&self, tenant: &CustomerId, id: u64) -> Result<AccessGrantRecord> {
        self.store
            .access_grants(Some(tenant), None)
            .await?
            .into_iter()
            .find(|g| g.id == id)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::AccessGrantNotFound,
                    format!("customer `{tenant}` has no access grant {id}"),
                )
            })
    }

    /// The grant under which a staff member may reach this customer's data now.
    pub async fn live_grant(&self, who: &Principal, tenant: &CustomerId) -> Result<AccessGrantRecord> {
        live_grant(self.store.as_ref(), self.clock.as_ref(), who, tenant).await
    }

    /// Every access grant for a customer, oldest first; one `access_grant.list` entry.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
    ) -> Result<Vec<AccessGrantRecord>> {
        let op = Operation::AccessGrantList;
        let result = async {
            op.authorize(who, Some(tenant))?;
            existing_customer(self.store.as_ref(), tenant).await?;
            self.store.access_grants(Some(tenant), None).await
        }
        .await;
        self.finish(ctx, tenant, op, format!("customer/{tenant}/access-grants"), result)
            .await
    }

    /// Ask for access to a customer's data until `ends_at` (at most the agreement's
    /// `staff_access_max` ahead). Approved at once unless the agreement requires the
    /// customer's approval.
    pub async fn request(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        reason: AccessReason,
        ticket: &str,
        ends_at: Timestamp,
    ) -> Result<AccessGrantRecord> {
        let op = Operation::AccessGrantRequest;
        let resource = format!("customer/{tenant}/access-grants");
        let carried = Carried::new(ctx, self.clock.as_ref(), Some(tenant), op, resource);
        let result = self
            .ask(who, tenant, reason, ticket, ends_at, carried.take().as_ref())
            .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    async fn ask(
        &self,
        who: &Principal,
        tenant: &CustomerId,
        reason: AccessReason,
        ticket: &str,
        ends_at: Timestamp,
        entry: Option<&AccessEntry>,
    ) -> Result<AccessGrantRecord> {
        Operation::AccessGrantRequest.authorize(who, Some(tenant))?;
        if who.account_id == 0 {
            return Err(Error::new(
                ErrorCode::BadRequest,
                "access grants are for a person's account, not the operator token",
            ));
        }
        let ticket = ticket.trim();
        if ticket.is_empty() || ticket.chars().count() > 100 {
            return Err(Error::new(
                ErrorCode::BadRequest,
                "name the ticket (1 to 100 characters)",
            ));
        }
        let agreement = self
            .store
            .agreement_in_force(tenant, today(self.clock.as_ref()))
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::AgreementNotFound,
                    format!("customer `{tenant}` has no agreement in force"),
                )
            })?;
        let terms = &agreement.agreement.accounts;
        let now = self.clock.now();
        let latest = now
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_add(terms.staff_access_max.span())
            .map(|z| z.timestamp())
            .unwrap_or(now);
        if ends_at <= now || ends_at > latest {
            return Err(Error::new(
                ErrorCode::BadRequest,
                format!(
                    "an access grant ends after now and at most {} ahead (until {latest})",
                    terms.staff_access_max
                ),
            ));
        }
        let (status, decided_by) = if terms.staff_access_approval {
            (AccessGrantStatus::Requested, None)
        } else {
            (AccessGrantStatus::Approved, Some("agreement".to_string()))
        };
        let detail = format!(
            "{} for {tenant} until {ends_at}: {} ({ticket})",
            who.username,
            reason.as_str()
        );
        self.store
            .create_access_grant(
                &NewAccessGrant {
                    account_id: who.account_id,
                    username: who.username.clone(),
                    tenant: tenant.clone(),
                    reason: reason.as_str().into(),
                    ticket: ticket.into(),
                    requested_at: now,
                    ends_at,
                    status,
                    decided_by,
                },
                &[event(now, who, "access_grant_requested", detail)],
                entry,
            )
            .await
    }

    /// The customer approves or rejects a requested grant.
    pub async fn decide(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        id: u64,
        approve: bool,
    ) -> Result<AccessGrantRecord> {
        let op = Operation::AccessGrantDecide;
        let resource = format!("access-grant/{id}");
        let carried = Carried::new(ctx, self.clock.as_ref(), Some(tenant), op, resource);
        let result = async {
            op.authorize(who, Some(tenant))?;
            self.grant_of(tenant, id).await?;
            let now = self.clock.now();
            let (to, kind) = if approve {
                (AccessGrantStatus::Approved, "access_grant_approved")
            } else {
                (AccessGrantStatus::Rejected, "access_grant_rejected")
            };
            self.store
                .decide_access_grant(
                    id,
                    AccessGrantStatus::Requested,
                    to,
                    &who.username,
                    now,
                    &[event(now, who, kind, format!("grant {id} for {tenant}"))],
                    carried.take().as_ref(),
                )
                .await
        }
        .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    /// End a grant early: the customer, or the staff member who holds it. To anyone else the
    /// answer is the rule that refuses them, whether the grant exists or not.
    pub async fn revoke(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        id: u64,
    ) -> Result<AccessGrantRecord> {
        let op = Operation::AccessGrantRevoke;
        let resource = format!("access-grant/{id}");
        let carried = Carried::new(ctx, self.clock.as_ref(), Some(tenant), op, resource);
        let result = async {
            let grant = match op.authorize(who, Some(tenant)) {
                Ok(()) => self.grant_of(tenant, id).await?,
                Err(refused) => self
                    .grant_of(tenant, id)
                    .await
                    .ok()
                    .filter(|g| g.account_id == who.account_id)
                    .ok_or(refused)?,
            };
            let from = grant.status;
            if !matches!(from, AccessGrantStatus::Approved | AccessGrantStatus::Requested) {
                return Err(Error::new(
                    ErrorCode::AccessGrantNotFound,
                    format!("access grant {id} has ended already"),
                ));
            }
            let now = self.clock.now();
            self.store
                .decide_access_grant(
                    id,
                    from,
                    AccessGrantStatus::Revoked,
                    &who.username,
                    now,
                    &[event(
                        now,
                        who,
                        "access_grant_revoked",
                        format!("grant {id} for {tenant}"),
                    )],
                    carried.take().as_ref(),
                )
                .await
        }
        .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }
}
