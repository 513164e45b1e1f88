//! # art28-store: persistence behind one trait per aggregate
//!
//! Callers see the traits below and the record types in [`model`]; no SQL leaves this crate.
//! Each aggregate has its own trait ([`AgreementStore`], [`LogStore`], [`AccountStore`],
//! [`StaffAccessStore`], [`VaultStore`], [`IncidentStore`], [`SubprocessorStore`]); [`Store`] is their sum, which a
//! backend gets by implementing all of them. A store keeps data and its atomicity, nothing
//! more: the rules (who may, which version may follow which, what a refusal entry says, which
//! deliveries a notice needs) live in `art28-core` and `art28-service`, so a second backend has
//! nothing of them to copy.
//!
//! - [`model`]: the stored types, one module per aggregate.
//! - [`sqlite`]: the embedded default, SQLite in a data directory ([`sqlite::SqliteStore`]): WAL
//!   mode with `synchronous = FULL`, so a commit that returned is on disk and survives
//!   `kill -9`; one module per aggregate; migrations are numbered SQL files in
//!   `migrations/sqlite/`.
//! - [`postgres`]: PostgreSQL ([`postgres::PgStore`]), for one node or several on one
//!   database; the same cut, migrations in `migrations/postgres/`.
//!
//! Every backend runs the one conformance suite (`tests/store/suite/`, a module per
//! aggregate), instantiated by `conformance!` with a store factory, once per backend. Its coverage test fails when a trait method has no call in the suite.
//!
//! The store never reads a clock: every timestamp it records is handed in by the caller, so
//! deadlines can be tested with an injected clock.

pub mod model;
pub mod postgres;
pub mod sqlite;

pub use model::*;

use art28_core::Result;
use art28_core::access::AccessEntry;
use art28_core::ids::{AgreementId, CustomerId};
use art28_ledger::merkle::{Frontier, Hash};
use jiff::Timestamp;

/// Agreements and customers: the processor's profile, customers with their contacts, and every
/// version of every agreement. A change is written with its access entry in one transaction.
#[async_trait::async_trait]
pub trait AgreementStore: Send + Sync + 'static {
    /// The processor running this art28, once set.
    async fn processor(&self) -> Result<Option<ProcessorProfile>>;
    /// Set or replace the processor profile.
    async fn set_processor(&self, profile: &ProcessorProfile) -> Result<()>;
    /// Add a customer; `customer_exists` if the id is taken (ids are never reused). The
    /// access entry is written in the same transaction.
    async fn create_customer(&self, customer: &NewCustomer, entry: &AccessEntry) -> Result<Logged<CustomerRecord>>;
    /// One customer.
    async fn customer(&self, id: &CustomerId) -> Result<Option<CustomerRecord>>;
    /// All customers, ordered by id.
    async fn customers(&self) -> Result<Vec<CustomerRecord>>;
    /// The customer's contacts as of its latest agreement version.
    async fn contacts(&self, id: &CustomerId) -> Result<Vec<ContactRecord>>;
    /// Record a new agreement version, with its access entry, in one transaction. For a
    /// customer agreement the customer's contacts are replaced by the agreement's, and the
    /// customer is created first when `onboard` says so. `agreement_version_conflict` if the
    /// newest stored version of the same agreement is no longer `version.follows` (the
    /// succession rule itself is `art28_core::agreement::check_succession`, applied before).
    async fn put_agreement_version(
        &self,
        version: &NewAgreementVersion,
        entry: &AccessEntry,
    ) -> Result<Logged<AgreementVersion>>;
    /// One version of an agreement.
    async fn agreement_version(&self, id: &AgreementId, version: u32) -> Result<Option<AgreementVersion>>;
    /// All versions of an agreement, oldest first.
    async fn agreement_versions(&self, id: &AgreementId) -> Result<Vec<AgreementVersionMeta>>;
    /// Every agreement version bound to a customer, oldest first: the history of who recorded
    /// which version when.
    async fn customer_agreement_history(&self, customer: &CustomerId) -> Result<Vec<AgreementVersionMeta>>;
    /// The customer's version in force on a date: the highest version whose effective date is
    /// on or before it.
    async fn agreement_in_force(
        &self,
        customer: &CustomerId,
        on: art28_core::date::Date,
    ) -> Result<Option<AgreementVersion>>;
    /// The latest version of every standard agreement.
    async fn standard_agreements(&self) -> Result<Vec<AgreementVersionMeta>>;
}

/// The access log: entries appended (alone, or inside another aggregate's transaction), the
/// Merkle tree's stored nodes and signed checkpoints, and reads with proofs.
#[async_trait::async_trait]
pub trait LogStore: Send + Sync + 'static {
    /// Append an entry on its own: a read, or a refusal that changed nothing.
    async fn log_access(&self, entry: &AccessEntry) -> Result<LogReceipt>;
    /// Append several entries at once, all or none, in order (e.g. one per record of a bulk
    /// read); cheaper per entry than [`LogStore::log_access`].
    async fn log_accesses(&self, entries: &[AccessEntry]) -> Result<Vec<LogReceipt>>;
    /// Number of entries in the log.
    async fn log_size(&self) -> Result<u64>;
    /// Leaf hashes of entries `from..to`.
    async fn leaf_hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>>;
    /// Whether [`LogStore::save_fold`] keeps the nodes of a tree level; a fold hands it only
    /// those, and the store recomputes the others from them when it makes a proof.
    fn keeps_level(&self, level: u32) -> bool;
    /// Store the interior nodes completed by folding entries into the tree, with the
    /// checkpoint signed for the new size, in one transaction. Nodes of levels the store does
    /// not keep are ignored.
    async fn save_fold(&self, nodes: &[(u32, u64, Hash)], checkpoint: &StoredCheckpoint) -> Result<()>;
    /// The newest checkpoint.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;
    /// The checkpoint signed at a tree size.
    async fn checkpoint_at(&self, size: u64) -> Result<Option<StoredCheckpoint>>;
    /// A customer's entries with index in `from..below`, at most `limit`, oldest first.
    async fn tenant_log(&self, tenant: &CustomerId, from: u64, below: u64, limit: usize) -> Result<Vec<LoggedEntry>>;
    /// Inclusion proof of entry `index` in the tree of `size` entries (`size` ≤ folded size).
    async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>>;
    /// Inclusion proofs of several entries in the tree of `size` entries, read in one go.
    async fn inclusion_proofs(&self, indices: &[u64], size: u64) -> Result<Vec<Vec<Hash>>>;
    /// Consistency proof between two folded tree sizes.
    async fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>>;
    /// The right edge of the folded tree of `size` entries, to continue folding after a restart.
    async fn restore_frontier(&self, size: u64) -> Result<Frontier>;
    /// Access entries of customers with a time in `from..to`, oldest first, at most `limit`.
    async fn log_window(&self, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<AccessEntry>>;
}

/// Accounts, the permission register (role grants), security events, machine tokens, sessions
/// and failed logins. Each change records its security events in the same transaction, and the
/// access entry it is given (a change that concerns a customer has one), so the change and its
/// entry are durable together.
#[async_trait::async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Create an account; `account_exists` if the user name was ever used.
    async fn create_account(
        &self,
        account: &NewAccount,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccountRecord>;
    /// One account.
    async fn account(&self, id: u64) -> Result<Option<AccountRecord>>;
    /// An account by user name (case-insensitive).
    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>>;
    /// All accounts, or one customer's.
    async fn accounts(&self, tenant: Option<&CustomerId>) -> Result<Vec<AccountRecord>>;
    /// Change an account.
    async fn update_account(
        &self,
        id: u64,
        change: AccountChange,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccountRecord>;
    /// Active accounts whose credentials were last used (or, never used, created) before a time.
    async fn accounts_unused_since(&self, before: Timestamp) -> Result<Vec<AccountRecord>>;
    /// Add a grant to the register.
    async fn add_grant(
        &self,
        grant: &NewGrant,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<GrantRecord>;
    /// Revoke a grant; it stays in the register with who revoked it and when.
    async fn revoke_grant(
        &self,
        grant_id: u64,
        by: &str,
        at: Timestamp,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<GrantRecord>;
    /// The register, filtered by account and/or customer.
    async fn grants(
        &self,
        account_id: Option<u64>,
        tenant: Option<&CustomerId>,
        include_revoked: bool,
    ) -> Result<Vec<GrantRecord>>;
    /// Record security events on their own.
    async fn add_security_events(&self, events: &[NewSecurityEvent]) -> Result<()>;
    /// Security events after an id, oldest first.
    async fn security_events(&self, after_id: u64, limit: usize) -> Result<Vec<SecurityEventRecord>>;
    /// Store a machine token.
    async fn create_token(
        &self,
        token: &NewToken,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<TokenRecord>;
    /// A token by the digest of its secret.
    async fn token_by_digest(&self, digest: [u8; 32]) -> Result<Option<TokenRecord>>;
    /// One customer's tokens.
    async fn tokens(&self, tenant: &CustomerId) -> Result<Vec<TokenRecord>>;
    /// Revoke a token.
    async fn revoke_token(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<()>;
    /// Note a token's use.
    async fn touch_token(&self, id: &str, at: Timestamp) -> Result<()>;
    /// Store a session.
    async fn create_session(&self, session: &SessionRecord) -> Result<()>;
    /// A session by the digest of its key.
    async fn session(&self, digest: [u8; 32]) -> Result<Option<SessionRecord>>;
    /// End one session (by digest) or all of an account's.
    async fn delete_sessions(&self, digest: Option<[u8; 32]>, account_id: Option<u64>) -> Result<()>;
    /// Consecutive failed logins for a user name (an account's or not).
    async fn login_attempts(&self, username: &str) -> Result<LoginAttempts>;
    /// Count a failed login for a user name, with its events, in one transaction.
    async fn record_login_failure(
        &self,
        username: &str,
        at: Timestamp,
        locked_until: Option<Timestamp>,
        events: &[NewSecurityEvent],
    ) -> Result<LoginAttempts>;
    /// A successful login: clear the user name's failures and note the account's use.
    async fn record_login_success(
        &self,
        account_id: u64,
        username: &str,
        at: Timestamp,
        events: &[NewSecurityEvent],
    ) -> Result<AccountRecord>;
}

/// Staff access grants: time-bound permissions for the processor's staff to reach one customer's
/// data, with a reason and a ticket. Each change records its security events and the access
/// entry it is given in the same transaction.
#[async_trait::async_trait]
pub trait StaffAccessStore: Send + Sync + 'static {
    /// Record a staff member's access grant (approved at once, or waiting for the customer).
    async fn create_access_grant(
        &self,
        grant: &NewAccessGrant,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccessGrantRecord>;
    /// Move a grant from one state to another (approve, reject, revoke); `access_grant_not_found`
    /// unless it is in `from`.
    #[allow(clippy::too_many_arguments)] // the state change, who and when, and its records
    async fn decide_access_grant(
        &self,
        id: u64,
        from: AccessGrantStatus,
        to: AccessGrantStatus,
        by: &str,
        at: Timestamp,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccessGrantRecord>;
    /// Grants for a customer and/or a staff account, oldest first.
    async fn access_grants(
        &self,
        tenant: Option<&CustomerId>,
        account_id: Option<u64>,
    ) -> Result<Vec<AccessGrantRecord>>;
}

/// The vault: sealed records, the wrapped keys that open them, blind indexes, legal holds,
/// erasures and recoveries. Every operation on records writes its access entry in the same
/// transaction as its change; one whose precondition fails (no such record, a version that moved
/// on, a legal hold) writes nothing at all and returns the error, which the service then logs as
/// the refusal.
#[async_trait::async_trait]
pub trait VaultStore: Send + Sync + 'static {
    /// What an operation must know before it is judged, in one read.
    async fn vault_context(&self, tenant: &CustomerId, query: ContextQuery) -> Result<VaultContext>;
    /// Store the customer's wrapped key unless it has one; the stored key either way.
    async fn put_tenant_key(&self, tenant: &CustomerId, key: &TenantKeyRow, at: Timestamp) -> Result<TenantKeyRow>;
    /// Every customer's wrapped key (for master key rotation).
    async fn tenant_keys(&self) -> Result<Vec<(CustomerId, TenantKeyRow)>>;
    /// Replace a customer's wrapped key if it is still `old`; whether it was.
    async fn rewrap_tenant_key(&self, tenant: &CustomerId, old: &TenantKeyRow, new: &TenantKeyRow) -> Result<bool>;
    /// Define a collection; `collection_exists` (nothing written) if the name is taken.
    async fn define_collection(
        &self,
        tenant: &CustomerId,
        def: &art28_core::vault::CollectionDef,
        at: Timestamp,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt>;
    /// A customer's collections.
    async fn collections(&self, tenant: &CustomerId) -> Result<Vec<StoredCollection>>;
    /// Add records (one, or an import of many) under one access entry.
    async fn vault_create(
        &self,
        tenant: &CustomerId,
        records: Vec<NewVaultRecord>,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<LogReceipt>;
    /// Read one record of a collection.
    async fn vault_read(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<(VaultRecordRow, LogReceipt)>;
    /// Change a record; the new version.
    async fn vault_update(
        &self,
        tenant: &CustomerId,
        change: RecordChange,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)>;
    /// Delete a record.
    async fn vault_delete(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt>;
    /// All records of a data subject.
    async fn vault_query(
        &self,
        tenant: &CustomerId,
        key: QueryKey,
        entry: &AccessEntry,
    ) -> Result<(Vec<VaultRecordRow>, LogReceipt)>;
    /// A page of records (of one collection or all) after an id; logged when `entry` is given
    /// (an export logs one entry for all its pages).
    async fn vault_list(
        &self,
        tenant: &CustomerId,
        collection: Option<&str>,
        after: &str,
        limit: usize,
        entry: Option<&AccessEntry>,
    ) -> Result<(Vec<VaultRecordRow>, Option<LogReceipt>)>;
    /// Erase a data subject: its key, records and blind indexes; `legal_hold` if held.
    async fn vault_erase_subject(
        &self,
        tenant: &CustomerId,
        subject: [u8; 32],
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)>;
    /// Erase a customer: its key at once (its records become unreadable), the rows later.
    async fn vault_erase_tenant(&self, tenant: &CustomerId, entry: &AccessEntry) -> Result<LogReceipt>;
    /// Apply an erasure from the journal again; whether anything had come back.
    async fn vault_replay_erasure(&self, erasure: &ErasureRecord) -> Result<bool>;
    /// Remove up to `limit` sealed rows of erased customers.
    async fn vault_purge(&self, limit: usize, at: Timestamp) -> Result<PurgeProgress>;
    /// Up to `limit` records whose blind indexes were made with an older normalisation than
    /// [`BLIND_VERSION`], in (customer, record id) order after `after`; only customers whose
    /// key is kept (an erased customer's records cannot be opened to re-index). For the
    /// re-index at start; a record it cannot open stays behind the cursor until next start.
    async fn vault_stale_blind(
        &self,
        after: Option<(&CustomerId, &str)>,
        limit: usize,
    ) -> Result<Vec<(CustomerId, VaultRecordRow)>>;
    /// Replace the blind indexes of one customer's records made again with the current
    /// normalisation, and mark them at [`BLIND_VERSION`]; each only if the record is still at
    /// the version read and still stale (compare-and-set: a record changed meanwhile was
    /// indexed anew by its own write). Neither `version` nor the sealed values change. `entry`
    /// (the re-index job's access to the customer's records) is appended in the same
    /// transaction. How many records were re-indexed.
    async fn vault_reindex_blind(
        &self,
        tenant: &CustomerId,
        changes: Vec<BlindChange>,
        entry: &AccessEntry,
    ) -> Result<u64>;
    /// Place a legal hold.
    async fn place_legal_hold(
        &self,
        tenant: &CustomerId,
        subject: Option<[u8; 32]>,
        reason: &str,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<LegalHoldRecord>;
    /// Lift a legal hold.
    async fn lift_legal_hold(&self, tenant: &CustomerId, id: u64, entry: &AccessEntry) -> Result<()>;
    /// A customer's legal holds, lifted ones included.
    async fn legal_holds(&self, tenant: &CustomerId) -> Result<Vec<LegalHoldRecord>>;
    /// Erasures, of one customer or all.
    async fn erasures(&self, tenant: Option<&CustomerId>) -> Result<Vec<ErasureRecord>>;
    /// Record a recovery attempt (R8.2).
    async fn record_recovery(&self, recovery: &RecoveryRecord) -> Result<()>;
    /// Every recovery attempt.
    async fn recoveries(&self) -> Result<Vec<RecoveryRecord>>;
    /// How many of a customer's current records (and their subjects) the named records and
    /// whole collections hold.
    async fn vault_reach(
        &self,
        tenant: &CustomerId,
        records: &[(String, String)],
        collections: &[String],
    ) -> Result<VaultReach>;
}

/// Incidents and the outbox: the register with its history and affected customers, breach
/// notices as sent with their deliveries, and customers' webhooks. A change that concerns
/// customers carries their access entries and writes them in its transaction; one whose
/// precondition fails (a version that moved on, no such notice or webhook) writes nothing, so
/// the service logs the refusal.
#[async_trait::async_trait]
pub trait IncidentStore: Send + Sync + 'static {
    /// Register an incident (status `reported`), with its first history line and the access
    /// entries given (a customer's report: one in its log).
    async fn create_incident(&self, incident: &NewIncident, entries: &[AccessEntry]) -> Result<IncidentRecord>;
    /// One incident with its customers and history.
    async fn incident(&self, id: u64) -> Result<Option<IncidentRecord>>;
    /// Every incident, or those a customer reported or is affected by, oldest first.
    async fn incidents(&self, tenant: Option<&CustomerId>) -> Result<Vec<IncidentRecord>>;
    /// Change an incident still at `version`, with a history line and the access entries
    /// given, in one transaction: `incident_version_conflict` if it moved on.
    async fn update_incident(
        &self,
        id: u64,
        version: u64,
        change: &IncidentChange,
        event: &IncidentEvent,
        entries: &[AccessEntry],
    ) -> Result<IncidentRecord>;
    /// Store notices and queue their deliveries, apply `change`, and add the history line and
    /// the access entries given (one per customer told), in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn add_notices(
        &self,
        id: u64,
        version: u64,
        notices: &[NewNotice],
        created: (Timestamp, &str),
        change: &IncidentChange,
        event: &IncidentEvent,
        entries: &[AccessEntry],
    ) -> Result<(IncidentRecord, Vec<NoticeRecord>)>;
    /// Notices, of an incident and/or a customer.
    async fn notices(&self, incident: Option<u64>, tenant: Option<&CustomerId>) -> Result<Vec<NoticeRecord>>;
    /// The customer acknowledges receipt (the first acknowledgement stays), with its access
    /// entry; `notice_not_found` (nothing written) unless the notice is the customer's.
    async fn acknowledge_notice(
        &self,
        id: u64,
        tenant: &CustomerId,
        by: &str,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<NoticeRecord>;
    /// Lease up to `limit` pending deliveries on the given channels (`email`, `webhook`) whose
    /// next attempt is due at `now`, with their notices: each is taken by this call alone and
    /// is not due again before `lease_until` (its next attempt moves there), unless its outcome
    /// is recorded first. So several nodes each send a delivery once, and one that dies
    /// mid-send leaves its rows to another when the lease runs out.
    async fn due_deliveries(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<(DeliveryRecord, NoticeRecord)>>;
    /// Set (`Some(url)`, a new generation) or remove (`None`) a customer's webhook, with its
    /// security events and access entry; `webhook_not_found` (nothing written) when there is
    /// none to remove.
    async fn set_webhook(
        &self,
        tenant: &CustomerId,
        url: Option<&str>,
        at: Timestamp,
        by: &str,
        events: &[NewSecurityEvent],
        entry: &AccessEntry,
    ) -> Result<Option<WebhookRecord>>;
    /// A customer's webhook.
    async fn webhook(&self, tenant: &CustomerId) -> Result<Option<WebhookRecord>>;
    /// Affected customers whose first notice is not delivered yet, of incidents that were not
    /// found to be no breach, earliest deadline first.
    async fn pending_first_notices(&self) -> Result<Vec<PendingFirstNotice>>;
    /// Record an attempt's outcome.
    async fn record_delivery(&self, id: u64, outcome: &DeliveryOutcome) -> Result<()>;
}

/// The sub-processor register (R5): entries with their versions and signed contracts, changes
/// announced to customers with each customer's answer, the announcements and their deliveries
/// through the outbox, list requests and feed keys. A change that concerns customers writes the
/// access entries given in its transaction; one whose precondition fails (a name taken, a
/// version or state that moved on, no such change or request for that customer) writes nothing,
/// so the service logs the refusal. A read for a customer holds only that customer's rows.
#[async_trait::async_trait]
pub trait SubprocessorStore: Send + Sync + 'static {
    /// Register a sub-processor (version 1, a `registered` history line); `subprocessor_exists`
    /// if an entry has that name (compared without case).
    async fn create_subprocessor(
        &self,
        entry: &art28_core::subprocessor::Entry,
        at: Timestamp,
        by: &str,
    ) -> Result<SubprocessorRecord>;
    /// A new version of an entry still at `version`, with a history line saying `note`:
    /// `subprocessor_version_conflict` if it moved on, `subprocessor_exists` if the new name is
    /// another entry's, `subprocessor_not_found` if there is none.
    #[allow(clippy::too_many_arguments)]
    async fn update_subprocessor(
        &self,
        id: u64,
        version: u32,
        entry: &art28_core::subprocessor::Entry,
        at: Timestamp,
        by: &str,
        note: &str,
    ) -> Result<SubprocessorRecord>;
    /// Keep the signed contract (its document and what the register says of it), replacing an
    /// earlier one, with a history line; `subprocessor_not_found` if there is none.
    async fn put_contract(
        &self,
        id: u64,
        contract: &art28_core::subprocessor::Contract,
        document: &[u8],
        at: Timestamp,
        by: &str,
    ) -> Result<SubprocessorRecord>;
    /// The signed contract's document as kept.
    async fn contract_document(&self, id: u64) -> Result<Option<Vec<u8>>>;
    /// One entry with its history.
    async fn subprocessor(&self, id: u64) -> Result<Option<SubprocessorRecord>>;
    /// The register, ordered by number.
    async fn subprocessors(&self) -> Result<Vec<SubprocessorRecord>>;
    /// Record an announced change with one history line per customer (the announcement), queue
    /// its announcements, and write the access entries given (one per customer told), in one
    /// transaction.
    async fn announce_change(
        &self,
        change: &NewChange,
        announcements: &[NewAnnouncement],
        entries: &[AccessEntry],
    ) -> Result<ChangeRecord>;
    /// One change: every customer's row, or only `tenant`'s (`subprocessor_change_not_found` —
    /// `None` — when the change does not reach it).
    async fn change(&self, id: u64, tenant: Option<&CustomerId>) -> Result<Option<ChangeRecord>>;
    /// Every change, or those that reach `tenant` with only its row, oldest first.
    async fn changes(&self, tenant: Option<&CustomerId>) -> Result<Vec<ChangeRecord>>;
    /// Apply one customer's answer to a change if it still stands at `answer.from`, add its
    /// history line, queue the announcements given and write the access entry, in one
    /// transaction; `subprocessor_change_not_found` if the change does not reach the customer,
    /// `subprocessor_step_not_allowed` (nothing written) if its state moved on. The change, with
    /// that customer's row only.
    async fn answer_change(
        &self,
        id: u64,
        tenant: &CustomerId,
        answer: &ChangeAnswer,
        announcements: &[NewAnnouncement],
        entry: &AccessEntry,
    ) -> Result<ChangeRecord>;
    /// Announcements, of a change and/or a customer, oldest first.
    async fn announcements(&self, change: Option<u64>, tenant: Option<&CustomerId>) -> Result<Vec<AnnouncementRecord>>;
    /// Lease due announcement deliveries, as [`IncidentStore::due_deliveries`] does for notices.
    async fn due_announcement_deliveries(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
        lease_until: Timestamp,
    ) -> Result<Vec<(DeliveryRecord, AnnouncementRecord)>>;
    /// Record an announcement delivery attempt's outcome.
    async fn record_announcement_delivery(&self, id: u64, outcome: &DeliveryOutcome) -> Result<()>;
    /// Record a customer's request for the list, with its access entry.
    async fn create_list_request(&self, request: &NewListRequest, entry: &AccessEntry) -> Result<ListRequestRecord>;
    /// Answer an open request of `tenant` with the list in force `on`, with its access entry:
    /// `list_request_not_found` unless the request is the customer's,
    /// `subprocessor_step_not_allowed` (nothing written) if it was answered already.
    #[allow(clippy::too_many_arguments)]
    async fn answer_list_request(
        &self,
        id: u64,
        tenant: &CustomerId,
        on: art28_core::date::Date,
        at: Timestamp,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<ListRequestRecord>;
    /// Requests for the list, of one customer or all, oldest first.
    async fn list_requests(&self, tenant: Option<&CustomerId>) -> Result<Vec<ListRequestRecord>>;
    /// The generation of the customer's feed key (0 before any was made).
    async fn feed_generation(&self, tenant: &CustomerId) -> Result<u64>;
    /// A new generation of the customer's feed key (the old key stops working), with its access
    /// entry; the new generation.
    async fn bump_feed_generation(&self, tenant: &CustomerId, at: Timestamp, entry: &AccessEntry) -> Result<u64>;
}

/// What keeps several nodes on one database in step: periodic jobs that run once per
/// cluster, roles that one node holds at a time, and pinned facts (the fingerprints of the keys
/// the data was written with) that every node must match.
#[async_trait::async_trait]
pub trait ClusterStore: Send + Sync + 'static {
    /// Claim the periodic job `name` for `holder` when it is due at `now` (a job never run is
    /// due) and no one else holds an unexpired lease on it: the lease lasts until
    /// `lease_until`. Whether `holder` now holds it. A holder that dies leaves the job to
    /// another once its lease has run out; jobs are scans of the current state, so a second
    /// run after a crash does no harm.
    async fn claim_job(&self, name: &str, holder: &str, now: Timestamp, lease_until: Timestamp) -> Result<bool>;
    /// The job ran: it is due again at `next` and its lease is released. `false` (and nothing
    /// changes) when `holder` no longer holds it.
    async fn finish_job(&self, name: &str, holder: &str, next: Timestamp) -> Result<bool>;
    /// Whether this store's node holds the role `role` (e.g. folding the log): taken when no
    /// other node holds it, kept until the node stops or loses its connection. A lone store
    /// always holds it.
    async fn lead(&self, role: &str) -> Result<bool>;
    /// Pin `value` under `name` unless something is pinned there already (`replace`: pin it
    /// anyway); the value pinned afterwards. A node compares it with its own (e.g. the public
    /// key it signs checkpoints with) and refuses to start when they differ.
    async fn pin(&self, name: &str, value: &str, replace: bool) -> Result<String>;
}

/// Everything art28 keeps: the sum of the per-aggregate traits. The services and the server are
/// assembled over one `Store`; a backend implements the aggregates' traits. Implementations must make
/// each method atomic. Any type implementing every aggregate's trait is a `Store`.
pub trait Store:
    AgreementStore
    + LogStore
    + AccountStore
    + StaffAccessStore
    + VaultStore
    + IncidentStore
    + SubprocessorStore
    + ClusterStore
{
}

impl<T> Store for T where
    T: AgreementStore
        + LogStore
        + AccountStore
        + StaffAccessStore
        + VaultStore
        + IncidentStore
        + SubprocessorStore
        + ClusterStore
{
}

/// Every aggregate's trait, for callers that work over the whole [`Store`]:
/// `use art28_store::prelude::*;` brings their methods into scope.
pub mod prelude {
    pub use crate::{
        AccountStore, AgreementStore, ClusterStore, IncidentStore, LogStore, StaffAccessStore, Store,
        SubprocessorStore, VaultStore,
    };
}
