//! Staff access to a customer's data (R2.2): never standing, always a time-bound grant naming
//! the customer, a reason from a fixed list and a ticket, visible to the customer, and — when
//! the customer's agreement asks for it — approved by the customer before it takes effect.

use crate::clock::{Clock, today};
use art28_core::auth::{AccessReason, Permission, Principal, authorize};
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use art28_store::{AccessGrantRecord, AccessGrantStatus, NewAccessGrant, NewSecurityEvent, Store};
use jiff::Timestamp;

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

/// Ask for access to a customer's data until `ends_at` (at most the agreement's
/// `staff_access_max` ahead). Approved at once unless the agreement requires the customer's
/// approval.
pub async fn request_access(
    store: &dyn Store,
    clock: &dyn Clock,
    who: &Principal,
    tenant: &CustomerId,
    reason: AccessReason,
    ticket: &str,
    ends_at: Timestamp,
) -> Result<AccessGrantRecord> {
    authorize(who, Permission::AccessGrantsRequest, Some(tenant))?;
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
    let agreement = store.agreement_in_force(tenant, today(clock)).await?.ok_or_else(|| {
        Error::new(
            ErrorCode::AgreementNotFound,
            format!("customer `{tenant}` has no agreement in force"),
        )
    })?;
    let terms = &agreement.agreement.accounts;
    let now = clock.now();
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
    store
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
        )
        .await
}

async fn grant_of(store: &dyn Store, tenant: &CustomerId, id: u64) -> Result<AccessGrantRecord> {
    store
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

/// The customer approves or rejects a requested grant.
pub async fn decide(
    store: &dyn Store,
    clock: &dyn Clock,
    who: &Principal,
    tenant: &CustomerId,
    id: u64,
    approve: bool,
) -> Result<AccessGrantRecord> {
    authorize(who, Permission::AccessGrantsApprove, Some(tenant))?;
    grant_of(store, tenant, id).await?;
    let now = clock.now();
    let to = if approve {
        AccessGrantStatus::Approved
    } else {
        AccessGrantStatus::Rejected
    };
    let kind = if approve {
        "access_grant_approved"
    } else {
        "access_grant_rejected"
    };
    store
        .decide_access_grant(
            id,
            AccessGrantStatus::Requested,
            to,
            &who.username,
            now,
            &[event(now, who, kind, format!("grant {id} for {tenant}"))],
        )
        .await
}

/// End a grant early: the customer, or the staff member who holds it.
pub async fn revoke(
    store: &dyn Store,
    clock: &dyn Clock,
    who: &Principal,
    tenant: &CustomerId,
    id: u64,
) -> Result<AccessGrantRecord> {
    let grant = grant_of(store, tenant, id).await?;
    if grant.account_id != who.account_id {
        authorize(who, Permission::AccessGrantsApprove, Some(tenant))?;
    }
    let now = clock.now();
    let from = grant.status;
    if !matches!(from, AccessGrantStatus::Approved | AccessGrantStatus::Requested) {
        return Err(Error::new(
            ErrorCode::AccessGrantNotFound,
            format!("access grant {id} has ended already"),
        ));
    }
    store
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
        )
        .await
}

/// The grant under which a staff member may reach this customer's data now, or
/// `no_access_grant` (the caller logs the refusal in the customer's access log).
pub async fn live_grant(
    store: &dyn Store,
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

/// The door for staff to a customer's data: checks the live grant and writes the access
/// entry either way — granted with the grant as reference, or refused with `no_access_grant`.
/// Customers' own representatives pass straight through (their rights are checked by
/// `authorize`); this is only for the processor's staff.
pub async fn staff_data_access(
    store: &dyn Store,
    clock: &dyn Clock,
    ctx: &crate::access::RequestContext,
    who: &Principal,
    tenant: &CustomerId,
    operation: &str,
    resource: String,
) -> Result<(AccessGrantRecord, art28_store::LogReceipt)> {
    let access = crate::access::Access {
        tenant: Some(tenant),
        operation,
        resource,
    };
    match live_grant(store, clock, who, tenant).await {
        Ok(grant) => {
            let mut ctx = ctx.clone();
            ctx.reference = Some(format!(
                "access-grant/{} ({}, {})",
                grant.id, grant.reason, grant.ticket
            ));
            ctx.purpose = ctx.purpose.or_else(|| Some(grant.reason.clone()));
            let receipt = crate::access::log_read(store, clock, &ctx, access).await?;
            Ok((grant, receipt))
        }
        Err(e) => Err(crate::access::log_refusal(store, clock, ctx, access, e).await),
    }
}
