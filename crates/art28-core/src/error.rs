//! The one error type of art28, with stable codes.
//!
//! Every failure a client can see carries an [`ErrorCode`]: a stable snake_case string that
//! never changes meaning once released, and a [`ErrorKind`] that the HTTP layer maps to a
//! status in exactly one place. The message is short and safe to show; causes (SQL errors,
//! paths, stack traces) go to the log, never into an [`Error`].

use std::fmt;

/// Broad class of an error; decides the HTTP status and the CLI exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is malformed or breaks a rule of the format.
    Invalid,
    /// The caller is not authenticated.
    Unauthenticated,
    /// The caller is authenticated but a rule refuses the operation.
    Refused,
    /// The thing asked for does not exist (or is not visible to the caller).
    NotFound,
    /// The operation conflicts with the current state.
    Conflict,
    /// The request is too large.
    TooLarge,
    /// Something failed inside art28; details are in the log.
    Internal,
    /// A dependency (database, mail server) is not available right now.
    Unavailable,
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($code:literal, $kind:ident) ),* $(,)?) => {
        /// Stable error codes. The string form is part of the public API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable wire form of the code.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The class of the error.
            pub fn kind(self) -> ErrorKind {
                match self { $( ErrorCode::$variant => ErrorKind::$kind, )* }
            }
        }
    };
}

error_codes! {
    /// The request body or a parameter could not be read.
    BadRequest = ("bad_request", Invalid),
    /// An agreement file is not valid; the message names file, field and line.
    AgreementInvalid = ("agreement_invalid", Invalid),
    /// A customer agreement builds on a standard agreement that is not known.
    AgreementBaseMissing = ("agreement_base_missing", Invalid),
    /// An agreement version is not newer than the one already stored.
    AgreementVersionConflict = ("agreement_version_conflict", Conflict),
    /// The agreement belongs to another customer than the one it is stored for.
    AgreementCustomerMismatch = ("agreement_customer_mismatch", Invalid),
    /// An identifier has the wrong form.
    InvalidId = ("invalid_id", Invalid),
    /// A configuration file, variable or flag is wrong.
    ConfigInvalid = ("config_invalid", Invalid),
    /// No credentials were presented, or they are not valid.
    AuthenticationRequired = ("authentication_required", Unauthenticated),
    /// The caller lacks the permission the operation needs.
    PermissionDenied = ("permission_denied", Refused),
    /// The customer does not exist or is not visible to the caller.
    CustomerNotFound = ("customer_not_found", NotFound),
    /// The agreement or version does not exist.
    AgreementNotFound = ("agreement_not_found", NotFound),
    /// The route does not exist.
    RouteNotFound = ("route_not_found", NotFound),
    /// The customer already exists.
    CustomerExists = ("customer_exists", Conflict),
    /// The user name is taken or was used before (user names are never reused).
    AccountExists = ("account_exists", Conflict),
    /// The account does not exist.
    AccountNotFound = ("account_not_found", NotFound),
    /// The grant does not exist or is already revoked.
    GrantNotFound = ("grant_not_found", NotFound),
    /// The token does not exist or is already revoked.
    TokenNotFound = ("token_not_found", NotFound),
    /// Staff have no live access grant for this customer.
    NoAccessGrant = ("no_access_grant", Refused),
    /// The access grant does not exist or cannot change that way.
    AccessGrantNotFound = ("access_grant_not_found", NotFound),
    /// The request body exceeds the limit.
    PayloadTooLarge = ("payload_too_large", TooLarge),
    /// The data store failed; details are in the server log.
    StorageFailure = ("storage_failure", Internal),
    /// The data store is from a newer art28 than this one.
    StorageTooNew = ("storage_too_new", Internal),
    /// The database cannot be reached, or refused the login (at start).
    StorageUnavailable = ("storage_unavailable", Unavailable),
    /// An unexpected internal failure; details are in the server log.
    Internal = ("internal", Internal),
    /// The service is shutting down or a dependency is down.
    Unavailable = ("unavailable", Unavailable),
    /// A role was given with a scope it cannot have: staff roles are processor-wide, customer
    /// roles belong to one customer.
    RoleScopeInvalid = ("role_scope_invalid", Invalid),
    /// The caller's grant is for another customer (or for one customer where the operation
    /// concerns all of them).
    TenantMismatch = ("tenant_mismatch", Refused),
    /// Too many failed logins: the account is locked for a while.
    AccountLocked = ("account_locked", Refused),
    /// Failed logins follow each other too fast: wait before trying again.
    LoginThrottled = ("login_throttled", Refused),
    /// The new password is too short, too long or too easy to guess; details say why.
    PasswordTooWeak = ("password_too_weak", Invalid),
    /// The password was marked disclosed or was set by someone else: it must be changed first.
    PasswordChangeRequired = ("password_change_required", Refused),
    /// The account is disabled (unused too long, or by an administrator).
    AccountDisabled = ("account_disabled", Refused),
    /// A customer admin blocked the account for a while.
    AccountBlocked = ("account_blocked", Refused),
    /// A block would last longer than the agreement allows.
    BlockTooLong = ("block_too_long", Refused),
    /// The API token does not allow the purpose given.
    TokenPurposeNotAllowed = ("token_purpose_not_allowed", Refused),
    /// A vault collection definition is not valid.
    CollectionInvalid = ("collection_invalid", Invalid),
    /// No such collection for this customer.
    CollectionNotFound = ("collection_not_found", NotFound),
    /// A collection with this name exists already.
    CollectionExists = ("collection_exists", Conflict),
    /// No such record (or it was erased).
    RecordNotFound = ("record_not_found", NotFound),
    /// A record does not fit its collection (unknown or missing field, value too long).
    RecordInvalid = ("record_invalid", Invalid),
    /// A phone number (a record's phone identifier, or a lookup by phone) cannot be read as a
    /// number in E.164 form; the message names the field, not the value.
    PhoneInvalid = ("phone_invalid", Invalid),
    /// The record changed since the version the caller read.
    RecordVersionConflict = ("record_version_conflict", Conflict),
    /// A category of personal data the customer's agreement does not cover.
    CategoryNotInAgreement = ("category_not_in_agreement", Refused),
    /// A special category of personal data the agreement does not allow.
    SpecialCategoryNotAllowed = ("special_category_not_allowed", Refused),
    /// An operation on service data must name its purpose.
    PurposeRequired = ("purpose_required", Refused),
    /// A purpose the customer's agreement does not list.
    PurposeNotInAgreement = ("purpose_not_in_agreement", Refused),
    /// The customer has no agreement in force now.
    NoAgreementInForce = ("no_agreement_in_force", Refused),
    /// The customer's services are suspended: data can be read and exported, not changed.
    TenantSuspended = ("tenant_suspended", Refused),
    /// The agreement has ended: only export and erasure remain.
    TenantTerminated = ("tenant_terminated", Refused),
    /// The customer's data has been erased.
    TenantErased = ("tenant_erased", Refused),
    /// The data subject's data has been erased.
    SubjectErased = ("subject_erased", Refused),
    /// A legal hold keeps the data; it cannot be erased while the hold lasts.
    LegalHold = ("legal_hold", Refused),
    /// Staff may erase a customer's data only after the agreement has ended.
    ErasureBeforeEnd = ("erasure_before_end", Refused),
    /// A key needed to open the data is not available (erased, or the master key is missing).
    KeyUnavailable = ("key_unavailable", Internal),
    /// An incident report or change is malformed; the message names the field.
    IncidentInvalid = ("incident_invalid", Invalid),
    /// No such incident (or not one that touches the caller's customer).
    IncidentNotFound = ("incident_not_found", NotFound),
    /// The workflow does not allow this step from the incident's status.
    IncidentTransitionNotAllowed = ("incident_transition_not_allowed", Conflict),
    /// The incident changed since it was read; read it again.
    IncidentVersionConflict = ("incident_version_conflict", Conflict),
    /// A breach notice cannot be sent yet: the message names what it still lacks.
    NoticeIncomplete = ("notice_incomplete", Invalid),
    /// No such notice.
    NoticeNotFound = ("notice_not_found", NotFound),
    /// The customer has no contact designated for breach notices.
    NoBreachContact = ("no_breach_contact", Conflict),
    /// A webhook address is not acceptable: https to a public address (http to loopback only
    /// where the operator allows it), no credentials, no control characters.
    WebhookInvalid = ("webhook_invalid", Invalid),
    /// The customer has no webhook.
    WebhookNotFound = ("webhook_not_found", NotFound),
    /// No live legal hold with that id for the customer.
    LegalHoldNotFound = ("legal_hold_not_found", NotFound),
    /// A sub-processor entry or announcement breaks a rule of the format; the message names the field.
    SubprocessorInvalid = ("subprocessor_invalid", Invalid),
    /// No sub-processor with that number in the register.
    SubprocessorNotFound = ("subprocessor_not_found", NotFound),
    /// A sub-processor of that name is in the register already.
    SubprocessorExists = ("subprocessor_exists", Conflict),
    /// The entry changed since it was read; read it again.
    SubprocessorVersionConflict = ("subprocessor_version_conflict", Conflict),
    /// No announced change with that number for the caller.
    SubprocessorChangeNotFound = ("subprocessor_change_not_found", NotFound),
    /// That step does not follow where the customer's answer stands.
    SubprocessorStepNotAllowed = ("subprocessor_step_not_allowed", Conflict),
    /// The intended date comes before a customer's notice period has run (R5.2).
    SubprocessorNoticeTooShort = ("subprocessor_notice_too_short", Refused),
    /// The objection period, or the day before the change takes effect, has passed.
    ObjectionPeriodOver = ("objection_period_over", Refused),
    /// A location outside the EU/EEA without an adequacy decision and without a safeguard (R5.4).
    TransferWithoutSafeguard = ("transfer_without_safeguard", Refused),
    /// The customer's agreement does not allow data to go to that country (R5.4).
    TransferNotInAgreement = ("transfer_not_in_agreement", Refused),
    /// No request for the sub-processor list with that number for the caller.
    ListRequestNotFound = ("list_request_not_found", NotFound),
    /// The feed key is not the customer's current one.
    FeedKeyInvalid = ("feed_key_invalid", Unauthenticated),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error a caller may see: a stable code and a short, safe message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} [{code}]")]
pub struct Error {
    /// The stable code.
    pub code: ErrorCode,
    /// A short message for people; never contains secrets, paths or SQL.
    pub message: String,
    /// Itemised findings, e.g. one line per problem in an agreement file.
    pub details: Vec<String>,
}

impl Error {
    /// Make an error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// The same error with itemised findings.
    #[must_use]
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        self.code.kind()
    }
}

/// Result with the art28 error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_stable_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "`{s}` is used twice");
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "`{s}`"
            );
        }
        assert_eq!(ErrorCode::TenantMismatch.kind(), ErrorKind::Refused);
        assert_eq!(ErrorCode::AuthenticationRequired.kind(), ErrorKind::Unauthenticated);
    }
}
