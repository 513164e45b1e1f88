//! Records the store keeps.

use art28_core::agreement::{AgreementKind, ContactRole, ProcessorAgreement};
use art28_core::date::Date;
use art28_core::ids::{AgreementId, CustomerId};
use art28_core::lang::Lang;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The processor organisation running this art28.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorProfile {
    /// Legal name.
    pub name: String,
    /// Registration number.
    pub registration: String,
    /// Country (ISO 3166-1 alpha-2).
    pub country: String,
}

/// The state of a customer in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    /// Services running.
    Active,
    /// Temporarily suspended.
    Suspended,
    /// The agreement has ended; data kept for the retention term.
    Terminated,
    /// Data made inaccessible.
    Erased,
}

impl CustomerStatus {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Active => "active",
            CustomerStatus::Suspended => "suspended",
            CustomerStatus::Terminated => "terminated",
            CustomerStatus::Erased => "erased",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => CustomerStatus::Active,
            "suspended" => CustomerStatus::Suspended,
            "terminated" => CustomerStatus::Terminated,
            "erased" => CustomerStatus::Erased,
            _ => return None,
        })
    }
}

/// A customer to add.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// Id, never reused.
    pub id: CustomerId,
    /// Legal name.
    pub name: String,
    /// Language for documents and notices.
    pub language: Lang,
    /// When it was added.
    pub created_at: Timestamp,
    /// Who added it.
    pub created_by: String,
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerRecord {
    /// Id.
    pub id: CustomerId,
    /// Legal name.
    pub name: String,
    /// Language.
    pub language: Lang,
    /// Life-cycle state.
    pub status: CustomerStatus,
    /// When it was added.
    pub created_at: Timestamp,
    /// Who added it.
    pub created_by: String,
}

/// A stored contact of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactRecord {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Telephone.
    pub phone: Option<String>,
    /// Language for messages.
    pub language: Lang,
    /// What the contact is for.
    pub roles: Vec<ContactRole>,
}

/// A result together with the access entry written with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged<T> {
    /// The result.
    pub value: T,
    /// Where its access entry landed.
    pub receipt: crate::LogReceipt,
}

/// A signed checkpoint of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
    /// The signed note (C2SP tlog-checkpoint).
    pub note: String,
    /// When it was signed.
    pub signed_at: Timestamp,
}

/// An entry read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEntry {
    /// Leaf index.
    pub index: u64,
    /// The exact leaf bytes.
    pub bytes: Vec<u8>,
}

/// An agreement version to record.
#[derive(Debug, Clone)]
pub struct NewAgreementVersion {
    /// Create this customer first (its first agreement onboards it).
    pub onboard: Option<NewCustomer>,
    /// The agreement as read and validated (merged with its base for a deviation).
    pub agreement: ProcessorAgreement,
    /// The TOML text exactly as submitted.
    pub source: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// What is known about a version without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementVersionMeta {
    /// Agreement id.
    pub id: AgreementId,
    /// Version.
    pub version: u32,
    /// Standard or customer.
    pub kind: AgreementKind,
    /// The customer, for a customer agreement.
    pub customer: Option<CustomerId>,
    /// In force from.
    pub effective_from: Date,
    /// The standard it deviates from, as `id` and version.
    pub based_on: Option<(AgreementId, u32)>,
    /// SHA-256 of the submitted text, hex.
    pub sha256: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// A stored version with its content.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementVersion {
    /// Metadata.
    pub meta: AgreementVersionMeta,
    /// The agreement (resolved).
    pub agreement: ProcessorAgreement,
    /// The submitted TOML text.
    pub source: String,
}

/// Processor staff or a customer's representative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Works for the processor.
    Staff,
    /// Represents one customer.
    Customer,
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Unique for ever, case-insensitive.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Staff or customer.
    pub kind: AccountKind,
    /// The customer, for a customer account.
    pub tenant: Option<CustomerId>,
    /// The argon2id PHC string, if a password is set.
    pub password_hash: Option<String>,
    /// Whether the password must be changed at the next login.
    pub must_change_password: bool,
    /// When.
    pub created_at: Timestamp,
    /// By whom.
    pub created_by: String,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Id, never reused.
    pub id: u64,
    /// User name, never reused.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Staff or customer.
    pub kind: AccountKind,
    /// The customer, for a customer account.
    pub tenant: Option<CustomerId>,
    /// The argon2id PHC string.
    pub password_hash: Option<String>,
    /// Must change the password before doing anything else.
    pub must_change_password: bool,
    /// Disabled (by an administrator, or for not being used).
    pub disabled: bool,
    /// Why it was disabled or re-enabled.
    pub status_reason: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// By whom.
    pub created_by: String,
    /// Last successful use of a credential.
    pub last_used_at: Option<Timestamp>,
    /// Blocked by a fellow representative until.
    pub blocked_until: Option<Timestamp>,
    /// Who blocked it.
    pub blocked_by: Option<String>,
    /// On what grounds.
    pub blocked_reason: Option<String>,
}

/// A change to an account.
#[derive(Debug, Clone)]
pub enum AccountChange {
    /// New password.
    Password {
        /// argon2id PHC string.
        hash: String,
        /// Whether it must be changed at the next login.
        must_change: bool,
    },
    /// The password was disclosed: force a change.
    MustChangePassword,
    /// Disable or re-enable.
    Disabled {
        /// Disabled or not.
        disabled: bool,
        /// Why.
        reason: String,
    },
    /// A credential of the account was used.
    Used {
        /// When.
        at: Timestamp,
    },
    /// Blocked or unblocked by a fellow representative.
    Blocked {
        /// Until; `None` lifts the block.
        until: Option<Timestamp>,
        /// By whom.
        by: Option<String>,
        /// On what grounds.
        reason: Option<String>,
    },
}

/// A permission to grant: a role, processor-wide or for one customer.
#[derive(Debug, Clone)]
pub struct NewGrant {
    /// The account.
    pub account_id: u64,
    /// Stable role name (see `art28_core::auth::Role`).
    pub role: String,
    /// The customer, for a customer-scoped role.
    pub tenant: Option<CustomerId>,
    /// Who granted it.
    pub granted_by: String,
    /// When.
    pub granted_at: Timestamp,
}

/// An entry of the permission register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRecord {
    /// Id.
    pub id: u64,
    /// The account.
    pub account_id: u64,
    /// Role name.
    pub role: String,
    /// The customer, for a customer-scoped role.
    pub tenant: Option<CustomerId>,
    /// Who granted it.
    pub granted_by: String,
    /// When.
    pub granted_at: Timestamp,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// When.
    pub revoked_at: Option<Timestamp>,
}

/// A security event to record (failed login, lockout, grant, token, …).
#[derive(Debug, Clone)]
pub struct NewSecurityEvent {
    /// When.
    pub time: Timestamp,
    /// The account concerned, if known.
    pub account_id: Option<u64>,
    /// The user name tried or concerned.
    pub username: Option<String>,
    /// Stable kind, e.g. `login_failed`, `account_locked`, `grant_added`.
    pub kind: String,
    /// What happened, in words; never a password or token.
    pub detail: String,
    /// Client address.
    pub client: Option<String>,
}

/// A stored security event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityEventRecord {
    /// Id.
    pub id: u64,
    /// When.
    pub time: Timestamp,
    /// Account.
    pub account_id: Option<u64>,
    /// User name.
    pub username: Option<String>,
    /// Kind.
    pub kind: String,
    /// Detail.
    pub detail: String,
    /// Client.
    pub client: Option<String>,
}

/// A machine token to store (its secret is never stored, only its digest).
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Public id, shown in lists.
    pub id: String,
    /// SHA-256 of the secret.
    pub digest: [u8; 32],
    /// The account it acts as.
    pub account_id: u64,
    /// The one customer it is for.
    pub tenant: CustomerId,
    /// Permissions it may use (stable names).
    pub operations: Vec<String>,
    /// Purposes it may give.
    pub purposes: Vec<String>,
    /// Expiry.
    pub expires_at: Timestamp,
    /// When.
    pub created_at: Timestamp,
    /// By whom.
    pub created_by: String,
}

/// A stored machine token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// Public id.
    pub id: String,
    /// The account it acts as.
    pub account_id: u64,
    /// Its customer.
    pub tenant: CustomerId,
    /// Permitted operations.
    pub operations: Vec<String>,
    /// Permitted purposes.
    pub purposes: Vec<String>,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Created.
    pub created_at: Timestamp,
    /// By.
    pub created_by: String,
    /// Revoked at.
    pub revoked_at: Option<Timestamp>,
    /// Revoked by.
    pub revoked_by: Option<String>,
    /// Last used.
    pub last_used_at: Option<Timestamp>,
}

/// A login session (its key is stored only as a digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session key.
    pub digest: [u8; 32],
    /// The account.
    pub account_id: u64,
    /// Created.
    pub created_at: Timestamp,
    /// Expires.
    pub expires_at: Timestamp,
}

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

/// Consecutive failed logins for a user name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginAttempts {
    /// Failures in a row.
    pub failures: u32,
    /// The last failure.
    pub last_failed_at: Option<Timestamp>,
    /// Locked until.
    pub locked_until: Option<Timestamp>,
}
