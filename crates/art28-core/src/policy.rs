//! The one judgement every vault operation passes: may this actor do this to this customer's
//! data, for this purpose, now? Pure and cheap; the service gathers the facts (agreement in
//! force, customer state, live access grant) and logs the answer either way.
//!
//! The rules, in the order they are checked (the first that refuses names itself):
//! 1. the actor's roles (or token) allow the operation for this customer
//!    (`permission_denied`, `tenant_mismatch`);
//! 2. the customer's state: erased refuses everything (`tenant_erased`); after the end only
//!    export and erasure remain (`tenant_terminated`, R7.4); while suspended data can be read
//!    and exported but not changed (`tenant_suspended`);
//! 3. an agreement is in force (`no_agreement_in_force`);
//! 4. operations on the data name a purpose the agreement lists (`purpose_required`,
//!    `purpose_not_in_agreement`) and a token allows (`token_purpose_not_allowed`) (R2.1);
//! 5. the processor's staff reach data only under a live access grant (`no_access_grant`,
//!    R2.2), and erase a customer's data only once its agreement has ended
//!    (`erasure_before_end`).

use crate::agreement::ProcessorAgreement;
use crate::auth::Principal;
use crate::error::{Error, ErrorCode, Result};
use crate::ids::CustomerId;
use jiff::Timestamp;

pub use crate::operation::Operation;

/// The customer's state, as far as the vault cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantState {
    /// Services running.
    Active,
    /// Temporarily suspended: read and export only.
    Suspended,
    /// The agreement has ended: export and erasure only.
    Terminated,
    /// Data erased: nothing.
    Erased,
}

/// Everything the decision needs.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who acts.
    pub principal: &'a Principal,
    /// Whose data.
    pub tenant: &'a CustomerId,
    /// The customer's state.
    pub state: TenantState,
    /// The customer's agreement in force now, if any.
    pub agreement: Option<&'a ProcessorAgreement>,
    /// What.
    pub operation: Operation,
    /// The purpose given.
    pub purpose: Option<&'a str>,
    /// For staff: the end of the live access grant for this customer, if there is one.
    pub staff_grant_until: Option<Timestamp>,
    /// Now.
    pub now: Timestamp,
}

/// Granted (`Ok`) or refused with the rule that refused.
pub fn decide(r: &Request<'_>) -> Result<()> {
    r.operation.authorize(r.principal, Some(r.tenant))?;
    let op = r.operation;
    match r.state {
        TenantState::Erased => {
            return Err(Error::new(
                ErrorCode::TenantErased,
                format!("the data of customer `{}` has been erased", r.tenant),
            ));
        }
        TenantState::Terminated
            if !matches!(
                op,
                Operation::VaultExport
                    | Operation::SubjectErase
                    | Operation::TenantErase
                    | Operation::LegalHold
                    | Operation::LegalHoldList
                    | Operation::CollectionList
            ) =>
        {
            return Err(Error::new(
                ErrorCode::TenantTerminated,
                format!(
                    "the agreement with customer `{}` has ended: only export and erasure remain",
                    r.tenant
                ),
            ));
        }
        TenantState::Suspended if op.changes_data() => {
            return Err(Error::new(
                ErrorCode::TenantSuspended,
                format!(
                    "the services of customer `{}` are suspended: data can be read and exported, not changed",
                    r.tenant
                ),
            ));
        }
        _ => {}
    }
    let staff = acting_as_staff(r.principal, r.tenant);
    if op.touches_data() || op == Operation::CollectionDefine {
        let Some(agreement) = r.agreement else {
            return Err(Error::new(
                ErrorCode::NoAgreementInForce,
                format!("customer `{}` has no agreement in force", r.tenant),
            ));
        };
        if op.touches_data() {
            check_purpose(agreement, r.purpose)?;
            r.principal.check_purpose(r.purpose)?;
        }
    }
    if staff {
        if op == Operation::TenantErase {
            if r.state != TenantState::Terminated {
                return Err(Error::new(
                    ErrorCode::ErasureBeforeEnd,
                    format!(
                        "staff erase the data of customer `{}` only after its agreement has ended; until then the customer decides",
                        r.tenant
                    ),
                ));
            }
        } else if needs_staff_grant(op) && r.staff_grant_until.is_none_or(|end| r.now >= end) {
            return Err(Error::new(
                ErrorCode::NoAccessGrant,
                format!(
                    "no live access grant for customer `{}`; staff have no standing access — request one with a reason and a ticket",
                    r.tenant
                ),
            ));
        }
    }
    Ok(())
}

/// Whether the principal acts as the processor's staff for this customer (holds no customer
/// role for it).
pub fn acting_as_staff(p: &Principal, tenant: &CustomerId) -> bool {
    p.is_staff()
        && !p
            .grants
            .iter()
            .any(|g| g.is_valid() && g.scope.customer() == Some(tenant))
}

fn check_purpose(agreement: &ProcessorAgreement, purpose: Option<&str>) -> Result<()> {
    let listed = &agreement.processing.purposes;
    match purpose.map(str::trim).filter(|p| !p.is_empty()) {
        None => Err(Error::new(
            ErrorCode::PurposeRequired,
            format!(
                "name the purpose of this operation; the agreement lists {}",
                listed.join(", ")
            ),
        )),
        Some(p) if listed.iter().any(|l| l == p) => Ok(()),
        Some(p) => Err(Error::new(
            ErrorCode::PurposeNotInAgreement,
            format!(
                "agreement {} (version {}) does not list the purpose `{}`; it lists {}",
                agreement.id,
                agreement.version,
                p.chars().take(64).collect::<String>(),
                listed.join(", ")
            ),
        )),
    }
}

/// Whether the processor's staff need a live access grant for the operation: for everything on
/// the customer's data, not for legal holds (the processor's own duty, R7.3), not for the list
/// of collection definitions (which holds no personal data), and not for erasing a customer
/// whose agreement has ended (judged on its own above).
pub fn needs_staff_grant(op: Operation) -> bool {
    !matches!(
        op,
        Operation::LegalHold | Operation::LegalHoldList | Operation::CollectionList | Operation::TenantErase
    )
}
