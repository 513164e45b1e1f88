//! Which version of an agreement may follow which: a rule on the stored history, checked by
//! the service before the store writes (the store only makes sure the history did not change
//! in between).

use super::ProcessorAgreement;
use crate::error::{Error, ErrorCode, Result};
use crate::ids::CustomerId;

/// The newest stored version of an agreement id, as far as succession cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest<'a> {
    /// Its version number.
    pub version: u32,
    /// The customer it belongs to (`None` for a standard agreement).
    pub customer: Option<&'a CustomerId>,
}

/// Whether `next` may be recorded after `latest` (`None`: the id is new).
///
/// An agreement id belongs to one customer, or to no customer, for its whole life
/// (`agreement_customer_mismatch`), and every new version is higher than every stored one
/// (`agreement_version_conflict`).
pub fn check_succession(latest: Option<Latest<'_>>, next: &ProcessorAgreement) -> Result<()> {
    let Some(latest) = latest else { return Ok(()) };
    let owner = next.customer.as_ref().map(|c| &c.id);
    if latest.customer != owner {
        return Err(Error::new(
            ErrorCode::AgreementCustomerMismatch,
            format!(
                "agreement `{}` belongs to another customer (or is a standard agreement)",
                next.id
            ),
        ));
    }
    if next.version <= latest.version {
        return Err(Error::new(
            ErrorCode::AgreementVersionConflict,
            format!(
                "agreement `{}` already has version {}; a new version must be higher",
                next.id, latest.version
            ),
        ));
    }
    Ok(())
}
