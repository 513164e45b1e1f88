//! What the vault keeps: sealed records, the key rows that open them, blind indexes, legal
//! holds, erasures and recoveries. The store never sees a plaintext value or an unwrapped key.

use art28_core::date::Date;
use art28_core::ids::CustomerId;
use art28_core::vault::CollectionDef;
use jiff::Timestamp;

use super::agreements::{AgreementVersionMeta, CustomerRecord};

/// The normalisation of identifiers that blind indexes are made with now, stored with each
/// record (`vault_records.blind_version`): 1 kept a phone number's bare digits, 2 reads it to
/// E.164 in the customer's region, 3 also puts e-mail addresses and ids in Unicode NFC. Every write stores this; older rows are re-indexed at start
/// ([`crate::VaultStore::vault_stale_blind`], [`crate::VaultStore::vault_reindex_blind`]). Migration 11's
/// partial index names the same number.
pub const BLIND_VERSION: u32 = 3;

/// A record's blind indexes made again, for [`crate::VaultStore::vault_reindex_blind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindChange {
    /// Record id.
    pub id: String,
    /// The record's version when it was read; nothing changes if it has moved on.
    pub version: u64,
    /// Its blind indexes, of every identifying value, in the current normalisation.
    pub blind: Vec<[u8; 32]>,
}

/// A customer's key, wrapped under a master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantKeyRow {
    /// Id (fingerprint) of the master key that wraps it.
    pub master_key_id: String,
    /// The wrapped key.
    pub wrapped: Vec<u8>,
}

/// A collection as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCollection {
    /// The definition.
    pub def: CollectionDef,
    /// Defined at.
    pub created_at: Timestamp,
    /// Defined by.
    pub created_by: String,
}

/// A data subject's key row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRow {
    /// Internal id.
    pub id: u64,
    /// The subject's key, wrapped under the customer's key.
    pub wrapped_key: Vec<u8>,
}

/// A data subject seen for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubject {
    /// Blind index of the customer's reference to the subject.
    pub ref_index: [u8; 32],
    /// Its new key, wrapped under the customer's key.
    pub wrapped_key: Vec<u8>,
}

/// Which subject a new record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectRef {
    /// One already known; `record_version_conflict` if it is gone by the time of the write
    /// (erased since it was read: read again, retry).
    Existing(u64),
    /// A new one; `record_version_conflict` if another writer created it first (read again,
    /// retry).
    New(NewSubject),
}

/// A record to add.
#[derive(Debug, Clone)]
pub struct NewVaultRecord {
    /// Record id.
    pub id: String,
    /// Collection.
    pub collection: String,
    /// Subject.
    pub subject: SubjectRef,
    /// Sealed values.
    pub sealed: Vec<u8>,
    /// Blind indexes of its identifying values.
    pub blind: Vec<[u8; 32]>,
}

/// A stored record, with the wrapped key of its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultRecordRow {
    /// Record id.
    pub id: String,
    /// Collection.
    pub collection: String,
    /// Subject id.
    pub subject: u64,
    /// The subject's wrapped key.
    pub subject_key: Vec<u8>,
    /// Version, from 1.
    pub version: u64,
    /// Sealed values.
    pub sealed: Vec<u8>,
    /// Created at.
    pub created_at: Timestamp,
    /// Last changed at.
    pub updated_at: Timestamp,
}

/// What an operation needs to know before it is judged, read at once.
#[derive(Debug, Clone, Default)]
pub struct VaultContext {
    /// The customer.
    pub customer: Option<CustomerRecord>,
    /// The agreement version in force (metadata; the agreement itself is cached above).
    pub agreement: Option<AgreementVersionMeta>,
    /// The customer's wrapped key.
    pub tenant_key: Option<TenantKeyRow>,
    /// The collection asked for.
    pub collection: Option<StoredCollection>,
    /// The subjects asked for that are known, by reference index.
    pub subjects: std::collections::HashMap<[u8; 32], SubjectRow>,
    /// The record asked for (without its subject key).
    pub record: Option<VaultRecordRow>,
}

/// What a context read should include.
#[derive(Debug, Clone, Default)]
pub struct ContextQuery {
    /// The agreement in force on this date.
    pub on: Option<Date>,
    /// This collection.
    pub collection: Option<String>,
    /// These subjects (by reference index).
    pub subjects: Vec<[u8; 32]>,
    /// This record.
    pub record: Option<String>,
}

/// How to find a subject's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKey {
    /// By the blind index of the customer's subject reference.
    Subject([u8; 32]),
    /// By the blind index of an identifying value (e-mail, phone, id).
    Identifier([u8; 32]),
}

/// A legal hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHoldRecord {
    /// Id.
    pub id: u64,
    /// Customer.
    pub tenant: CustomerId,
    /// One subject (by reference index), or the whole customer.
    pub subject_index: Option<[u8; 32]>,
    /// Why the law requires keeping the data.
    pub reason: String,
    /// Placed by.
    pub placed_by: String,
    /// Placed at.
    pub placed_at: Timestamp,
    /// Lifted by.
    pub lifted_by: Option<String>,
    /// Lifted at.
    pub lifted_at: Option<Timestamp>,
}

/// An erasure: a customer's or a subject's key destroyed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErasureRecord {
    /// Customer.
    pub tenant: CustomerId,
    /// One subject (by reference index, hex), or the whole customer.
    pub subject_index: Option<String>,
    /// When.
    pub erased_at: Timestamp,
    /// By whom.
    pub erased_by: String,
    /// The access entry of the erasure.
    pub access_id: String,
}

/// A recovery attempt (R8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRecord {
    /// Started at.
    pub started_at: Timestamp,
    /// Who was responsible.
    pub responsible: String,
    /// Which backup was restored (file name).
    pub backup: String,
    /// Its SHA-256.
    pub backup_sha256: String,
    /// Erasures replayed from the journal.
    pub erasures_replayed: u64,
    /// What had to be done by hand.
    pub manual_steps: String,
    /// What happened.
    pub outcome: String,
}

/// What a tenant's purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeProgress {
    /// Rows removed in this step.
    pub removed: u64,
    /// Whether every erased customer is fully purged.
    pub done: bool,
}

/// A record's new sealed values, if it is still at `version`.
#[derive(Debug, Clone)]
pub struct RecordChange {
    /// Record id.
    pub id: String,
    /// Its collection.
    pub collection: String,
    /// The version the change was made from.
    pub version: u64,
    /// New sealed values.
    pub sealed: Vec<u8>,
    /// New blind indexes.
    pub blind: Vec<[u8; 32]>,
}
