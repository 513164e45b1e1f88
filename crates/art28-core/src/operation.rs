//! Every operation art28 names in its access log, as one enum: the permission it needs, whether
//! it touches personal data or changes it, and its stable name in the log. Authorization,
//! policy, the services and the server's route table use these instead of string literals, so
//! a name cannot be misspelled in one place and an operation cannot lack a permission.

use crate::auth::{Permission, Principal, authorize};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::CustomerId;

macro_rules! operations {
    ($( $(#[$doc:meta])* $variant:ident = ($name:literal, $perm:ident) ),* $(,)?) => {
        /// An operation, as named in the access log.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $( $(#[$doc])* $variant, )*
        }

        impl Operation {
            /// Every operation.
            pub const ALL: &'static [Operation] = &[$(Operation::$variant),*];

            /// The operation's name in the access log (stable: entries keep it for ever).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Operation::$variant => $name, )*
                }
            }

            /// The permission the operation needs (`None`: a request to no known route).
            pub fn permission(self) -> Option<Permission> {
                operations!(@perm self, $( $variant = $perm ),*)
            }
        }
    };
    (@perm $self:ident, $( $variant:ident = $perm:ident ),*) => {
        match $self {
            $( Operation::$variant => operations!(@one $perm), )*
        }
    };
    (@one None) => { None };
    (@one $perm:ident) => { Some(Permission::$perm) };
}

operations! {
    // ----- customers and agreements -----
    /// Add a customer.
    CustomerCreate = ("customer.create", CustomersManage),
    /// List customers (staff: all; a customer's accounts: their own).
    CustomerList = ("customer.list", CustomersRead),
    /// Read a customer with its contacts and the agreement in force.
    CustomerRead = ("customer.read", AgreementsRead),
    /// Record an agreement version.
    AgreementRecord = ("agreement.record", AgreementsManage),
    /// Read an agreement version.
    AgreementRead = ("agreement.read", AgreementsRead),
    /// Read the history of a customer's agreement versions.
    AgreementHistory = ("agreement.history", AgreementsRead),
    /// Render an agreement as a document.
    AgreementRender = ("agreement.render", AgreementsRead),
    // ----- the access log -----
    /// Read a customer's access entries, proofs or bundle.
    LogRead = ("log.read", LogRead),
    // ----- accounts, role grants and tokens -----
    /// List accounts.
    AccountList = ("account.list", AccountsRead),
    /// Add an account.
    AccountCreate = ("account.create", AccountsManage),
    /// Re-enable a disabled account.
    AccountEnable = ("account.enable", AccountsManage),
    /// Block a fellow representative for a while.
    AccountBlock = ("account.block", AccountsBlock),
    /// Mark an account's password as disclosed.
    AccountPasswordDisclosed = ("account.password_disclosed", AccountsManage),
    /// Give an account a role.
    GrantAdd = ("grant.add", AccountsManage),
    /// Revoke a role grant.
    GrantRevoke = ("grant.revoke", AccountsManage),
    /// Read the permission register.
    GrantList = ("grant.list", AccountsRead),
    /// List a customer's machine tokens.
    TokenList = ("token.list", TokensManage),
    /// Issue a machine token.
    TokenCreate = ("token.create", TokensManage),
    /// Revoke a machine token.
    TokenRevoke = ("token.revoke", TokensManage),
    /// Read security events.
    SecurityEventList = ("security_event.list", SecurityEventsRead),
    // ----- staff access grants -----
    /// List the staff access grants for a customer.
    AccessGrantList = ("access_grant.list", AccessGrantsRead),
    /// Ask for time-bound access to a customer's data.
    AccessGrantRequest = ("access_grant.request", AccessGrantsRequest),
    /// Approve or reject a staff access grant.
    AccessGrantDecide = ("access_grant.decide", AccessGrantsApprove),
    /// End a staff access grant early.
    AccessGrantRevoke = ("access_grant.revoke", AccessGrantsApprove),
    // ----- the vault -----
    /// Define a collection.
    CollectionDefine = ("vault.collection.define", CollectionsManage),
    /// List a customer's collections (definitions, no personal data).
    CollectionList = ("vault.collection.list", VaultRead),
    /// Add a record.
    RecordCreate = ("vault.record.create", VaultWrite),
    /// Read a record by id.
    RecordRead = ("vault.record.read", VaultRead),
    /// Change a record.
    RecordUpdate = ("vault.record.update", VaultWrite),
    /// Delete a record.
    RecordDelete = ("vault.record.delete", VaultWrite),
    /// Find all records of a data subject.
    SubjectQuery = ("vault.subject.query", VaultRead),
    /// List a collection's records.
    RecordList = ("vault.record.list", VaultRead),
    /// Erase a data subject (crypto-shredding).
    SubjectErase = ("vault.subject.erase", VaultErase),
    /// Erase all of a customer's data (crypto-shredding).
    TenantErase = ("vault.tenant.erase", VaultErase),
    /// Export the customer's data (pseudonymised or whole).
    VaultExport = ("vault.export", VaultExport),
    /// Place or lift a legal hold.
    LegalHold = ("vault.legal_hold", LegalHoldManage),
    /// List a customer's legal holds.
    LegalHoldList = ("vault.legal_hold.list", LegalHoldManage),
    /// Rotate the vault's master key.
    MasterKeyRotate = ("vault.master_key.rotate", KeysManage),
    /// Make a customer's blind indexes again with the current normalisation (a job at start).
    VaultReindex = ("vault.reindex", KeysManage),
    // ----- incidents, notices and webhooks -----
    /// Report an incident into the register.
    IncidentReport = ("incident.report", IncidentsReport),
    /// Read an incident or the register.
    IncidentRead = ("incident.read", IncidentsRead),
    /// Change an incident: details, workflow steps, affected customers, scoping.
    IncidentManage = ("incident.manage", IncidentsManage),
    /// Compose and send breach notices.
    NoticeSend = ("notice.send", IncidentsManage),
    /// Read the notices sent about an incident.
    NoticeRead = ("notice.read", IncidentsRead),
    /// Acknowledge receipt of a breach notice.
    NoticeAcknowledge = ("notice.acknowledge", NoticesAcknowledge),
    // ----- sub-processors and transfers -----
    /// Register a sub-processor, or change its entry (a new version).
    SubprocessorRegister = ("subprocessor.register", SubprocessorsManage),
    /// Keep the signed contract that binds a sub-processor (R5.3).
    SubprocessorContract = ("subprocessor.contract", SubprocessorsManage),
    /// Read the register (staff) or the list in force (a customer).
    SubprocessorList = ("subprocessor.list", SubprocessorsRead),
    /// Announce a change to the customers it reaches.
    SubprocessorAnnounce = ("subprocessor.announce", SubprocessorsManage),
    /// Read announced changes.
    SubprocessorChangeRead = ("subprocessor.change.read", SubprocessorsRead),
    /// Object to a change, with reasons (general authorisation).
    SubprocessorObject = ("subprocessor.object", SubprocessorsAnswer),
    /// Approve or reject a change in writing (specific authorisation).
    SubprocessorApprove = ("subprocessor.approve", SubprocessorsAnswer),
    /// Decide on a customer's objection.
    SubprocessorDecide = ("subprocessor.decide", SubprocessorsManage),
    /// Ask for the list of sub-processors in force.
    SubprocessorListRequest = ("subprocessor.list_request", SubprocessorsAnswer),
    /// Answer a request for the list.
    SubprocessorListAnswer = ("subprocessor.list_answer", SubprocessorsManage),
    /// Read the customer's feed of announcements.
    SubprocessorFeed = ("subprocessor.feed", SubprocessorsRead),
    /// Make a new feed key (the old one stops working).
    SubprocessorFeedKey = ("subprocessor.feed_key", SubprocessorsAnswer),
    // ----- the deadlines view -----
    /// Read the deadlines view: every term that runs for a customer, from every register
    /// (breach notices so far; judged by the incident register's read permission until other
    /// registers add theirs).
    DeadlineRead = ("deadline.read", IncidentsRead),
    /// Read the customer's webhook.
    WebhookRead = ("webhook.read", WebhooksManage),
    /// Set or remove the customer's webhook.
    WebhookSet = ("webhook.set", WebhooksManage),
    // ----- anything else -----
    /// A request to a route without an operation of its own (refused before it was known).
    ApiRequest = ("api.request", None),
}

impl Operation {
    /// Whether `who` may do this, for `tenant` (`None`: across customers), by its roles (and
    /// token): `permission_denied` or `tenant_mismatch` naming the rule, otherwise.
    pub fn authorize(self, who: &Principal, tenant: Option<&CustomerId>) -> Result<()> {
        match self.permission() {
            Some(need) => authorize(who, need, tenant),
            None => Err(Error::new(
                ErrorCode::PermissionDenied,
                "this request names no operation that a role could allow",
            )),
        }
    }

    /// The operation an access entry names ([`Operation::as_str`]), if it is one of these.
    pub fn from_log(name: &str) -> Option<Operation> {
        Operation::ALL.iter().copied().find(|o| o.as_str() == name)
    }

    /// Whether the operation changes the data in the vault (and so is refused while the
    /// customer is suspended).
    pub fn changes_data(self) -> bool {
        matches!(
            self,
            Operation::CollectionDefine | Operation::RecordCreate | Operation::RecordUpdate | Operation::RecordDelete
        )
    }

    /// Whether the operation touches personal data itself, and so needs a purpose.
    pub fn touches_data(self) -> bool {
        matches!(
            self,
            Operation::RecordCreate
                | Operation::RecordRead
                | Operation::RecordUpdate
                | Operation::RecordDelete
                | Operation::SubjectQuery
                | Operation::RecordList
                | Operation::VaultExport
        )
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        let mut names: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "two operations share a name");
        for op in Operation::ALL {
            assert_eq!(Operation::from_log(op.as_str()), Some(*op));
        }
        assert_eq!(Operation::from_log("no.such"), None);
    }

    #[test]
    fn only_the_fallback_needs_no_permission() {
        let without: Vec<_> = Operation::ALL.iter().filter(|o| o.permission().is_none()).collect();
        assert_eq!(without, vec![&Operation::ApiRequest]);
    }
}
