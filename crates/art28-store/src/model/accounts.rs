//! Accounts, the permission register, security events, machine tokens, sessions and failed
//! logins.

use art28_core::ids::CustomerId;
use jiff::Timestamp;
use serde::Serialize;

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
