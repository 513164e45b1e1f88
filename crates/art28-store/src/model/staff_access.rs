//! Time-bound access grants for the processor's staff.

use art28_core::ids::CustomerId;
use jiff::Timestamp;
use serde::Serialize;

/// A staff member's request for access to a customer's data.
#[derive(Debug, Clone)]
pub struct NewAccessGrant {
    /// The staff account.
    pub account_id: u64,
    /// Its user name (kept with the grant for the customer's view).
    pub username: String,
    /// The customer.
    pub tenant: CustomerId,
    /// Stable reason name (see `art28_core::auth::AccessReason`).
    pub reason: String,
    /// Ticket reference.
    pub ticket: String,
    /// When it was asked for.
    pub requested_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
    /// `approved` at once, or `requested` when the customer must approve.
    pub status: AccessGrantStatus,
    /// Who decided, when approved at once (the agreement's rule).
    pub decided_by: Option<String>,
}

/// The state of an access grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessGrantStatus {
    /// Waiting for the customer's approval.
    Requested,
    /// In effect until its end.
    Approved,
    /// Refused by the customer.
    Rejected,
    /// Ended early.
    Revoked,
}

impl AccessGrantStatus {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessGrantStatus::Requested => "requested",
            AccessGrantStatus::Approved => "approved",
            AccessGrantStatus::Rejected => "rejected",
            AccessGrantStatus::Revoked => "revoked",
        }
    }
}

/// A stored access grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessGrantRecord {
    /// Id.
    pub id: u64,
    /// Staff account.
    pub account_id: u64,
    /// Its user name.
    pub username: String,
    /// Customer.
    pub tenant: CustomerId,
    /// Reason.
    pub reason: String,
    /// Ticket.
    pub ticket: String,
    /// Asked for at.
    pub requested_at: Timestamp,
    /// Ends at.
    pub ends_at: Timestamp,
    /// State.
    pub status: AccessGrantStatus,
    /// Who approved, rejected or revoked it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
}
