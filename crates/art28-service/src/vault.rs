//! The vault: customers' personal data, processed only under their agreements.
//!
//! Every operation enters through [`Vault`]: it reads what it must know in one store read
//! (customer state, agreement in force, collection, keys), is judged by
//! [`art28_core::policy::decide`], and then either changes state together with its access
//! entry in one store transaction, or is refused and leaves an entry naming the rule. Every
//! call leaves exactly one entry.
//!
//! Keys: the master key (outside the database) wraps each customer's key; the customer's key
//! wraps each data subject's key and yields the blind-index key; a subject's key seals its
//! records, field by field, with customer, collection, record and field bound as associated
//! data. Erasing a subject or a customer deletes its key row first (crypto-shredding); an
//! erasure journal outside the database is replayed after a restore so erased data never
//! returns.

use crate::access::{Access, RequestContext, entry, log_refusal};
use crate::clock::{Clock, today};
use crate::staff_access::live_grant;
use art28_core::access::{AccessEntry, Actor};
use art28_core::agreement::ProcessorAgreement;
use art28_core::auth::Principal;
use art28_core::ids::{AgreementId, CustomerId};
use art28_core::policy::{self, Operation, TenantState};
use art28_core::vault::{
    CollectionDef, FieldDef, IdentifierKind, PhoneRegion, Values, check_categories, check_subject, check_values,
    normalize_phone,
};
use art28_core::vocabulary::Vocabulary;
use art28_core::{Error, ErrorCode, Result};
use art28_crypto::{Key, Keyring};
use art28_store::{
    BlindChange, ContextQuery, CustomerStatus, ErasureRecord, LegalHoldRecord, LogReceipt, NewSubject, NewVaultRecord,
    PurgeProgress, QueryKey, RecordChange, Store, StoredCollection, SubjectRef, TenantKeyRow, VaultContext,
    VaultRecordRow,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// The pseudo-field that carries a record's subject reference, sealed like the others.
const SUBJECT_FIELD: &str = "@subject";
/// Records per page when an export walks a customer's data.
const EXPORT_PAGE: usize = 1000;
/// Most records returned by one list call.
pub const MAX_LIST: usize = 1000;
/// Most records in one import.
pub const MAX_IMPORT: usize = 10_000;
/// Records read per step of the re-index at start; each customer in a step gets one access
/// entry for its share.
const REINDEX_BATCH: usize = 500;

/// A record as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Record {
    /// Record id.
    pub id: String,
    /// Collection.
    pub collection: String,
    /// The customer's reference to the data subject.
    pub subject: String,
    /// Version, from 1; give it back to update.
    pub version: u64,
    /// Values by field.
    pub values: Values,
    /// Created at (RFC 3339).
    pub created_at: String,
    /// Last changed at (RFC 3339).
    pub updated_at: String,
}

/// How to find a data subject's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// By the customer's reference to the subject.
    Subject(String),
    /// By a value of an identifying field.
    Identifier(IdentifierKind, String),
}

/// A customer's data for test and acceptance environments (R2.4) or for return (R7.1).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Export {
    /// Customer.
    pub tenant: String,
    /// Whether direct identifiers are replaced by keyed pseudonyms and special categories by
    /// dummy values.
    pub pseudonymised: bool,
    /// The key of the pseudonyms (base64), only when asked to keep it: it is shown once and
    /// not stored; without it the pseudonyms cannot be linked back. `None`: destroyed.
    pub mapping_key: Option<String>,
    /// Collection definitions.
    pub collections: Vec<CollectionDef>,
    /// The records.
    pub records: Vec<Record>,
}

/// What a master key rotation did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Rotation {
    /// The new active master key's id (a fingerprint, not the key).
    pub active: String,
    /// Customer keys rewrapped.
    pub rewrapped: u64,
    /// Master keys retired and removed.
    pub removed: Vec<String>,
}

/// A customer's unwrapped keys, kept while its wrapped key row stays the same.
struct TenantKeys {
    row: TenantKeyRow,
    data: Key,
    blind: Key,
}

/// The erasure journal: one JSON line per erasure, fsynced before the key is destroyed, kept
/// outside the database (and its backups) and replayed at every start and after a restore. An
/// erasure the store then refused (a legal hold placed meanwhile, a subject gone) is cancelled
/// by a line of its own (`{"cancelled": access id}`), so a replay never performs it.
#[derive(Debug)]
pub struct ErasureJournal {
    path: PathBuf,
    lock: Mutex<()>,
}

impl ErasureJournal {
    /// A journal at a path (created on first append).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    fn append(&self, e: &ErasureRecord) -> Result<()> {
        self.write_line(serde_json::to_vec(e).map_err(|e| internal("journal encoding", e))?)
    }

    /// Cancel the erasure journalled under `access_id`: the store refused it, nothing was erased.
    fn cancel(&self, access_id: &str) -> Result<()> {
        let line = serde_json::to_vec(&Cancelled {
            cancelled: access_id.to_string(),
        })
        .map_err(|e| internal("journal encoding", e))?;
        self.write_line(line)
    }

    fn write_line(&self, mut line: Vec<u8>) -> Result<()> {
        line.push(b'\n');
        let _guard = self.lock.lock().map_err(|e| internal("journal lock", e))?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| internal("journal open", e))?;
        f.write_all(&line).map_err(|e| internal("journal write", e))?;
        f.sync_data().map_err(|e| internal("journal sync", e))
    }

    /// Every erasure in the journal, oldest first. A torn last line (a crash mid-append, before
    /// the key was destroyed) is skipped.
    pub fn read(&self) -> Result<Vec<ErasureRecord>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(internal("journal read", e)),
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut out = Vec::with_capacity(lines.len());
        let mut cancelled = std::collections::HashSet::new();
        for (i, line) in lines.iter().enumerate() {
            if let Ok(c) = serde_json::from_str::<Cancelled>(line) {
                cancelled.insert(c.cancelled);
                continue;
            }
            match serde_json::from_str::<ErasureRecord>(line) {
                Ok(e) => out.push(e),
                Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {
                    tracing::warn!("the erasure journal ends in a torn line; it is ignored");
                }
                Err(e) => return Err(internal("journal line", e)),
            }
        }
        out.retain(|e| !cancelled.contains(&e.access_id));
        Ok(out)
    }
}

/// A journal line that cancels an erasure the store refused.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cancelled {
    cancelled: String,
}

fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    tracing::error!(error = %e, "{what} failed");
    Error::new(ErrorCode::Internal, format!("{what} failed"))
}

/// The door to the vault.
pub struct Vault {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keyring: RwLock<Arc<Keyring>>,
    journal: ErasureJournal,
    tenant_keys: Mutex<HashMap<CustomerId, Arc<TenantKeys>>>,
    agreements: Mutex<HashMap<(AgreementId, u32), Arc<ProcessorAgreement>>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

/// An operation that has been judged and may go ahead.
struct Granted {
    ctx: RequestContext,
    context: VaultContext,
    agreement: Option<Arc<ProcessorAgreement>>,
}

/// A failure, and whether its access entry is written already.
enum Fail {
    /// Not logged yet: the door logs it as a refusal.
    Unlogged(Error),
    /// Logged by the store with the operation (or the store failed).
    Logged(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Unlogged(e)
    }
}

type Step<T> = std::result::Result<T, Fail>;

/// After the entry is written (or for a failure no entry can record): the error as it is.
fn logged<T>(r: Result<T>) -> Step<T> {
    r.map_err(Fail::Logged)
}

/// A store write that carries the entry: the store writes nothing when a precondition fails
/// (no such record, a version that moved on, a legal hold), so that refusal is still to be
/// logged; a storage failure is returned as it is.
fn stored<T>(r: Result<T>) -> Step<T> {
    r.map_err(|e| match e.kind() {
        art28_core::ErrorKind::Internal | art28_core::ErrorKind::Unavailable => Fail::Logged(e),
        _ => Fail::Unlogged(e),
    })
}

fn state_of(s: CustomerStatus) -> TenantState {
    match s {
        CustomerStatus::Active => TenantState::Active,
        CustomerStatus::Suspended => TenantState::Suspended,
        CustomerStatus::Terminated => TenantState::Terminated,
        CustomerStatus::Erased => TenantState::Erased,
    }
}

/// A new record's id: the milliseconds since 1970 (48 bits) and 80 random bits, in hex. Ids
/// made in a later millisecond sort later, so new records go to the end of a customer's part of
/// the record indexes instead of into a random page of each.
fn new_record_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let random: [u8; 10] = rand::random();
    format!("rec_{:012x}{}", ms & 0xffff_ffff_ffff, hex::encode(random))
}

fn field_ad(tenant: &CustomerId, collection: &str, record: &str, field: &str) -> Vec<u8> {
    art28_crypto::ad(&[
        b"art28/field/v1",
        tenant.as_str().as_bytes(),
        collection.as_bytes(),
        record.as_bytes(),
        field.as_bytes(),
    ])
}

/// A subject's key is wrapped under its customer's key, bound to the customer.
fn subject_context(tenant: &CustomerId) -> Vec<u8> {
    art28_crypto::ad(&[b"art28/subject-key/v1", tenant.as_str().as_bytes()])
}

fn tenant_context(tenant: &CustomerId) -> Vec<u8> {
    art28_crypto::ad(&[b"art28/tenant-key/v1", tenant.as_str().as_bytes()])
}

/// Seal values (and the subject reference) field by field: `u16 name length, name, u32
/// sealed length, sealed` per field.
fn seal_values(
    key: &Key,
    tenant: &CustomerId,
    collection: &str,
    record: &str,
    subject: &str,
    values: &Values,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + values.values().map(|v| v.len() + 64).sum::<usize>());
    let fields = std::iter::once((SUBJECT_FIELD, subject)).chain(values.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    for (name, value) in fields {
        let sealed = art28_crypto::seal(key, value.as_bytes(), &field_ad(tenant, collection, record, name));
        out.extend_from_slice(&(name.len() as u16).to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(sealed.len() as u32).to_be_bytes());
        out.extend_from_slice(&sealed);
    }
    out
}

fn open_values(
    key: &Key,
    tenant: &CustomerId,
    collection: &str,
    record: &str,
    mut bytes: &[u8],
) -> Result<(String, Values)> {
    let broken = || Error::new(ErrorCode::KeyUnavailable, format!("record `{record}` cannot be opened"));
    let take = |n: usize, bytes: &mut &[u8]| -> Result<Vec<u8>> {
        if bytes.len() < n {
            return Err(broken());
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Ok(head.to_vec())
    };
    let mut subject = None;
    let mut values = Values::new();
    while !bytes.is_empty() {
        let n = u16::from_be_bytes(take(2, &mut bytes)?.try_into().map_err(|_| broken())?) as usize;
        let name = String::from_utf8(take(n, &mut bytes)?).map_err(|_| broken())?;
        let m = u32::from_be_bytes(take(4, &mut bytes)?.try_into().map_err(|_| broken())?) as usize;
        let sealed = take(m, &mut bytes)?;
        let plain =
            art28_crypto::open(key, &sealed, &field_ad(tenant, collection, record, &name)).map_err(|_| broken())?;
        let value = String::from_utf8(plain.to_vec()).map_err(|_| broken())?;
        if name == SUBJECT_FIELD {
            subject = Some(value);
        } else {
            values.insert(name, value);
        }
    }
    Ok((subject.ok_or_else(broken)?, values))
}

/// An identifying value as its blind index takes it; a phone number that cannot be read in
/// the customer's region is refused (`phone_invalid`).
fn normalize(kind: IdentifierKind, value: &str, region: PhoneRegion) -> Result<String> {
    Ok(match kind {
        IdentifierKind::Email => art28_crypto::normalize_email(value),
        IdentifierKind::Phone => normalize_phone(value, region)?,
        IdentifierKind::Id => art28_crypto::normalize_id(value),
    })
}

/// A field's value refused by its normaliser, with the field named in front.
fn field_refusal(field: &FieldDef, e: Error) -> Error {
    Error::new(e.code, format!("field `{}` {}", field.name, e.message))
}

/// Categories that identify a person directly: replaced by pseudonyms in a pseudonymised copy.
fn direct_identifier(category: &str) -> bool {
    matches!(
        category,
        "identification"
            | "national_id"
            | "contact"
            | "email_address"
            | "phone_number"
            | "postal_address"
            | "financial_identifier"
            | "electronic_identifier"
            | "ip_address"
            | "cookie_id"
            | "image"
            | "authentication"
    )
}

impl Vault {
    /// A vault over a store, with the master keys and the erasure journal.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, keyring: Keyring, journal: ErasureJournal) -> Self {
        Self {
            store,
            clock,
            keyring: RwLock::new(Arc::new(keyring)),
            journal,
            tenant_keys: Mutex::new(HashMap::new()),
            agreements: Mutex::new(HashMap::new()),
        }
    }

    fn keyring(&self) -> Result<Arc<Keyring>> {
        self.keyring
            .read()
            .map(|k| k.clone())
            .map_err(|e| internal("keyring lock", e))
    }

    /// Run an operation, logging a refusal that is not logged yet, so that every call leaves
    /// exactly one access entry.
    async fn door<T>(&self, ctx: &RequestContext, access: Access<'_>, step: Step<T>) -> Result<T> {
        match step {
            Ok(v) => Ok(v),
            Err(Fail::Logged(e)) => Err(e),
            Err(Fail::Unlogged(e)) => Err(log_refusal(self.store.as_ref(), self.clock.as_ref(), ctx, access, e).await),
        }
    }

    async fn agreement(&self, ctx: &VaultContext) -> Result<Option<Arc<ProcessorAgreement>>> {
        let Some(meta) = &ctx.agreement else { return Ok(None) };
        let key = (meta.id.clone(), meta.version);
        if let Some(a) = self.agreements.lock().map_err(|e| internal("cache lock", e))?.get(&key) {
            return Ok(Some(a.clone()));
        }
        let version = self
            .store
            .agreement_version(&meta.id, meta.version)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::AgreementNotFound, format!("agreement {} is gone", meta.id)))?;
        let a = Arc::new(version.agreement);
        self.agreements
            .lock()
            .map_err(|e| internal("cache lock", e))?
            .insert(key, a.clone());
        Ok(Some(a))
    }

    /// Read the facts, judge the operation; refusals are returned unlogged.
    async fn judge(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        op: Operation,
        mut query: ContextQuery,
    ) -> Step<Granted> {
        // The cheapest refusal first: no role for this at all, before anything is read.
        op.authorize(who, Some(tenant))?;
        query.on = Some(today(self.clock.as_ref()));
        let context = self.store.vault_context(tenant, query).await?;
        let Some(customer) = &context.customer else {
            return Err(Fail::Logged(Error::new(
                ErrorCode::CustomerNotFound,
                format!("no customer `{tenant}`"),
            )));
        };
        let agreement = self.agreement(&context).await?;
        let mut ctx = ctx.clone();
        let mut staff_grant_until = None;
        if policy::acting_as_staff(who, tenant)
            && policy::needs_staff_grant(op)
            && let Ok(g) = live_grant(self.store.as_ref(), self.clock.as_ref(), who, tenant).await
        {
            staff_grant_until = Some(g.ends_at);
            ctx.reference = Some(format!("access-grant/{} ({}, {})", g.id, g.reason, g.ticket));
        }
        policy::decide(&policy::Request {
            principal: who,
            tenant,
            state: state_of(customer.status),
            agreement: agreement.as_deref(),
            operation: op,
            purpose: ctx.purpose.as_deref(),
            staff_grant_until,
            now: self.clock.now(),
        })?;
        Ok(Granted {
            ctx,
            context,
            agreement,
        })
    }

    /// The customer's unwrapped keys; made on first use when `create` says so.
    async fn tenant_keys(
        &self,
        tenant: &CustomerId,
        row: Option<&TenantKeyRow>,
        create: bool,
    ) -> Result<Arc<TenantKeys>> {
        let row = match row {
            Some(r) => r.clone(),
            None if create => {
                let ring = self.keyring()?;
                let key = Key::generate();
                let wrapped = art28_crypto::wrap(ring.active().key(), &key, &tenant_context(tenant));
                let proposed = TenantKeyRow {
                    master_key_id: ring.active().id.clone(),
                    wrapped,
                };
                self.store.put_tenant_key(tenant, &proposed, self.clock.now()).await?
            }
            None => {
                return Err(Error::new(
                    ErrorCode::RecordNotFound,
                    format!("customer `{tenant}` keeps no data in the vault"),
                ));
            }
        };
        let mut cache = self.tenant_keys.lock().map_err(|e| internal("cache lock", e))?;
        if let Some(k) = cache.get(tenant)
            && k.row == row
        {
            return Ok(k.clone());
        }
        let ring = self.keyring()?;
        let master = ring.get(&row.master_key_id).ok_or_else(|| {
            Error::new(
                ErrorCode::KeyUnavailable,
                format!("master key {} is not in the keyring", row.master_key_id),
            )
        })?;
        let data = art28_crypto::unwrap(master.key(), &row.wrapped, &tenant_context(tenant))
            .map_err(|_| Error::new(ErrorCode::KeyUnavailable, "the customer's key does not open"))?;
        let blind = data.derive(b"art28/blind-index/v1");
        let keys = Arc::new(TenantKeys { row, data, blind });
        cache.insert(tenant.clone(), keys.clone());
        Ok(keys)
    }

    fn cached_keys(&self, tenant: &CustomerId) -> Option<Arc<TenantKeys>> {
        self.tenant_keys.lock().ok()?.get(tenant).cloned()
    }

    fn forget_tenant_keys(&self, tenant: &CustomerId) {
        if let Ok(mut cache) = self.tenant_keys.lock() {
            cache.remove(tenant);
        }
    }

    fn subject_index(keys: &TenantKeys, subject: &str) -> [u8; 32] {
        art28_crypto::blind_index(&keys.blind, "subject", &art28_crypto::normalize_id(subject))
    }

    fn open_record(&self, tenant: &CustomerId, keys: &TenantKeys, row: &VaultRecordRow) -> Result<Record> {
        let subject_key =
            art28_crypto::unwrap(&keys.data, &row.subject_key, &subject_context(tenant)).map_err(|_| {
                Error::new(
                    ErrorCode::KeyUnavailable,
                    format!("record `{}` cannot be opened", row.id),
                )
            })?;
        let (subject, values) = open_values(&subject_key, tenant, &row.collection, &row.id, &row.sealed)?;
        Ok(Record {
            id: row.id.clone(),
            collection: row.collection.clone(),
            subject,
            version: row.version,
            values,
            created_at: row.created_at.to_string(),
            updated_at: row.updated_at.to_string(),
        })
    }

    /// Blind indexes of a record's identifying values. A value its normaliser refuses goes to
    /// `refused`: returning the error refuses the write (a value given now), returning `Ok`
    /// keeps the record without that index (a value kept from before, which only its
    /// correction can make findable again).
    fn blind_of(
        keys: &TenantKeys,
        def: &CollectionDef,
        values: &Values,
        region: PhoneRegion,
        refused: &mut dyn FnMut(&FieldDef, Error) -> Result<()>,
    ) -> Result<Vec<[u8; 32]>> {
        let mut out = Vec::new();
        for f in def.identifiers() {
            let (Some(kind), Some(v)) = (f.identifier, values.get(&f.name)) else {
                continue;
            };
            match normalize(kind, v, region) {
                Ok(n) => out.push(art28_crypto::blind_index(&keys.blind, kind.as_str(), &n)),
                Err(e) => refused(f, e)?,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn collection<'a>(
        &self,
        context: &'a VaultContext,
        tenant: &CustomerId,
        name: &str,
    ) -> Result<&'a StoredCollection> {
        context.collection.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::CollectionNotFound,
                format!(
                    "customer `{tenant}` has no collection `{}`",
                    name.chars().take(64).collect::<String>()
                ),
            )
        })
    }

    fn entry(&self, ctx: &RequestContext, tenant: &CustomerId, op: Operation, resource: String) -> AccessEntry {
        entry(
            ctx,
            self.clock.as_ref(),
            &Access {
                tenant: Some(tenant),
                operation: op,
                resource,
            },
            None,
        )
    }

    // ----- collections -----

    /// Define a collection; its categories must be covered by the agreement in force.
    pub async fn define_collection(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        def: &CollectionDef,
    ) -> Result<LogReceipt> {
        let op = Operation::CollectionDefine;
        let resource = format!("vault/{}", def.name.chars().take(64).collect::<String>());
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            def.check_form()?;
            let agreement = g
                .agreement
                .as_deref()
                .ok_or_else(|| Error::new(ErrorCode::NoAgreementInForce, "no agreement in force"))?;
            check_categories(agreement, def.fields.iter().map(|f| f.category.as_str()))?;
            self.tenant_keys(tenant, g.context.tenant_key.as_ref(), true).await?;
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            stored(
                self.store
                    .define_collection(tenant, def, self.clock.now(), &who.username, &entry)
                    .await,
            )
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    fn access<'a>(&self, tenant: &'a CustomerId, op: Operation, resource: &str) -> Access<'a> {
        Access {
            tenant: Some(tenant),
            operation: op,
            resource: resource.to_string(),
        }
    }

    /// A customer's collections (definitions only, no personal data), for those who may read
    /// its vault; judged and logged like every vault call.
    pub async fn collections(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
    ) -> Result<(Vec<StoredCollection>, LogReceipt)> {
        let op = Operation::CollectionList;
        let resource = "vault/collections".to_string();
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            let list = stored(self.store.collections(tenant).await)?;
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            let receipt = stored(self.store.log_access(&entry).await)?;
            Ok((list, receipt))
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    /// A customer's legal holds, lifted ones included; judged and logged like every vault call.
    pub async fn legal_holds(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
    ) -> Result<(Vec<LegalHoldRecord>, LogReceipt)> {
        let op = Operation::LegalHoldList;
        let resource = "vault/legal-holds".to_string();
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            let holds = stored(self.store.legal_holds(tenant).await)?;
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            let receipt = stored(self.store.log_access(&entry).await)?;
            Ok((holds, receipt))
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    // ----- records -----

    /// Add a record about a data subject.
    pub async fn create(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        collection: &str,
        subject: &str,
        values: &Values,
    ) -> Result<(String, LogReceipt)> {
        let (ids, receipt) = self
            .import_inner(
                ctx,
                who,
                tenant,
                collection,
                &[(subject.to_string(), values.clone())],
                Operation::RecordCreate,
            )
            .await?;
        Ok((ids.into_iter().next().unwrap_or_default(), receipt))
    }

    /// Add many records in one transaction under one access entry (a migration into the vault).
    pub async fn import(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        collection: &str,
        records: &[(String, Values)],
    ) -> Result<(Vec<String>, LogReceipt)> {
        self.import_inner(ctx, who, tenant, collection, records, Operation::RecordCreate)
            .await
    }

    async fn import_inner(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        collection: &str,
        records: &[(String, Values)],
        op: Operation,
    ) -> Result<(Vec<String>, LogReceipt)> {
        let ids: Vec<String> = records.iter().map(|_| new_record_id()).collect();
        let resource = match ids.as_slice() {
            [one] => format!("vault/{}/{one}", clip(collection)),
            _ => format!("vault/{}/import:{}", clip(collection), ids.len()),
        };
        let mut attempt = 0;
        loop {
            let step = self
                .create_step(ctx, who, tenant, collection, records, &ids, op, &resource)
                .await;
            match step {
                // Two requests added the same new subject at once: nothing was written, so read
                // again and retry; after the last try the door logs the refusal.
                Err(Fail::Unlogged(e)) if e.code == ErrorCode::RecordVersionConflict && attempt < 3 => attempt += 1,
                step => {
                    let receipt = self.door(ctx, self.access(tenant, op, &resource), step).await?;
                    return Ok((ids, receipt));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn create_step(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        collection: &str,
        records: &[(String, Values)],
        ids: &[String],
        op: Operation,
        resource: &str,
    ) -> Step<LogReceipt> {
        if records.is_empty() || records.len() > MAX_IMPORT {
            return Err(Error::new(ErrorCode::RecordInvalid, format!("give 1 to {MAX_IMPORT} records")).into());
        }
        // With the customer's keys cached, the subjects are read with the context in one go;
        // the cache is checked against the key row that read returns.
        let hint = self.cached_keys(tenant);
        let indices =
            |k: &TenantKeys| -> Vec<[u8; 32]> { records.iter().map(|(s, _)| Self::subject_index(k, s)).collect() };
        let query = ContextQuery {
            collection: Some(collection.to_string()),
            subjects: hint.as_deref().map(indices).unwrap_or_default(),
            ..ContextQuery::default()
        };
        let g = self.judge(ctx, who, tenant, op, query).await?;
        let coll = self.collection(&g.context, tenant, collection)?;
        let agreement = g
            .agreement
            .as_deref()
            .ok_or_else(|| Error::new(ErrorCode::NoAgreementInForce, "no agreement in force"))?;
        check_categories(agreement, coll.def.fields.iter().map(|f| f.category.as_str()))?;
        for (subject, values) in records {
            check_subject(subject)?;
            check_values(&coll.def, values, false)?;
        }
        let keys = self.tenant_keys(tenant, g.context.tenant_key.as_ref(), true).await?;
        let subjects = match &hint {
            Some(h) if h.row == keys.row => g.context.subjects.clone(),
            _ => {
                self.store
                    .vault_context(
                        tenant,
                        ContextQuery {
                            subjects: indices(&keys),
                            ..ContextQuery::default()
                        },
                    )
                    .await?
                    .subjects
            }
        };
        let region = PhoneRegion::of_customer(Some(agreement));
        let mut known: HashMap<[u8; 32], (SubjectRef, Key)> = HashMap::new();
        let mut new_records = Vec::with_capacity(records.len());
        for (n, ((subject, values), id)) in records.iter().zip(ids).enumerate() {
            // Every value is given now: one that cannot be indexed refuses the whole write.
            let blind = Self::blind_of(&keys, &coll.def, values, region, &mut |f, e| {
                let e = field_refusal(f, e);
                Err(match records.len() {
                    1 => e,
                    _ => Error::new(e.code, format!("record {} of the import: {}", n + 1, e.message)),
                })
            })?;
            let idx = Self::subject_index(&keys, subject);
            if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(idx) {
                let entry = match subjects.get(&idx) {
                    Some(row) => {
                        let key = art28_crypto::unwrap(&keys.data, &row.wrapped_key, &subject_context(tenant))
                            .map_err(|_| {
                                Error::new(ErrorCode::KeyUnavailable, "the data subject's key does not open")
                            })?;
                        (SubjectRef::Existing(row.id), key)
                    }
                    None => {
                        let key = Key::generate();
                        let wrapped = art28_crypto::wrap(&keys.data, &key, &subject_context(tenant));
                        let new = NewSubject {
                            ref_index: idx,
                            wrapped_key: wrapped,
                        };
                        (SubjectRef::New(new), key)
                    }
                };
                slot.insert(entry);
            }
            let Some((subject_ref, key)) = known.get(&idx) else {
                continue;
            };
            new_records.push(NewVaultRecord {
                id: id.clone(),
                collection: collection.to_string(),
                // A subject new in this import is named by the same `New` each time; the store
                // adds it once.
                subject: subject_ref.clone(),
                sealed: seal_values(key, tenant, collection, id, subject, values),
                blind,
            });
        }
        let entry = self.entry(&g.ctx, tenant, op, resource.to_string());
        stored(
            self.store
                .vault_create(tenant, new_records, self.clock.now(), &entry)
                .await,
        )
    }

    /// Read one record.
    pub async fn read(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
    ) -> Result<(Record, LogReceipt)> {
        let op = Operation::RecordRead;
        let resource = format!("vault/{}/{}", clip(collection), clip(id));
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            let keys = self.tenant_keys(tenant, g.context.tenant_key.as_ref(), false).await?;
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            let (row, receipt) = stored(self.store.vault_read(tenant, collection, id, &entry).await)?;
            let record = logged(self.open_record(tenant, &keys, &row))?;
            Ok((record, receipt))
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    /// Change a record's values (the fields given; others stay) if it is still at `version`.
    #[allow(clippy::too_many_arguments)]
    pub async fn update(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        version: u64,
        changes: &Values,
    ) -> Result<(u64, LogReceipt)> {
        let op = Operation::RecordUpdate;
        let resource = format!("vault/{}/{}", clip(collection), clip(id));
        let step = async {
            let query = ContextQuery {
                collection: Some(collection.to_string()),
                record: Some(id.to_string()),
                ..ContextQuery::default()
            };
            let g = self.judge(ctx, who, tenant, op, query).await?;
            let coll = self.collection(&g.context, tenant, collection)?;
            let agreement = g
                .agreement
                .as_deref()
                .ok_or_else(|| Error::new(ErrorCode::NoAgreementInForce, "no agreement in force"))?;
            check_categories(agreement, coll.def.fields.iter().map(|f| f.category.as_str()))?;
            check_values(&coll.def, changes, true)?;
            let row = match &g.context.record {
                Some(r) if r.collection == collection => r,
                _ => {
                    return Err(Error::new(
                        ErrorCode::RecordNotFound,
                        format!("collection `{}` has no record `{}`", clip(collection), clip(id)),
                    )
                    .into());
                }
            };
            let keys = self.tenant_keys(tenant, g.context.tenant_key.as_ref(), false).await?;
            let current = self.open_record(tenant, &keys, row)?;
            let mut values = current.values.clone();
            values.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
            let subject_key = art28_crypto::unwrap(&keys.data, &row.subject_key, &subject_context(tenant))
                .map_err(|_| Error::new(ErrorCode::KeyUnavailable, "the data subject's key does not open"))?;
            // A value given now that cannot be indexed refuses the update; one kept from
            // before (written under an older rule) does not hold up a change to other fields.
            let blind = Self::blind_of(
                &keys,
                &coll.def,
                &values,
                PhoneRegion::of_customer(Some(agreement)),
                &mut |f, e| {
                    if changes.contains_key(&f.name) {
                        return Err(field_refusal(f, e));
                    }
                    tracing::warn!(%tenant, record = %clip(id), field = %f.name, code = %e.code,
                        "a kept identifying value cannot be indexed; the record cannot be found by it until corrected");
                    Ok(())
                },
            )?;
            let change = RecordChange {
                id: id.to_string(),
                collection: collection.to_string(),
                version,
                sealed: seal_values(&subject_key, tenant, collection, id, &current.subject, &values),
                blind,
            };
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            stored(self.store.vault_update(tenant, change, self.clock.now(), &entry).await)
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    /// Delete a record.
    pub async fn delete(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
    ) -> Result<LogReceipt> {
        let op = Operation::RecordDelete;
        let resource = format!("vault/{}/{}", clip(collection), clip(id));
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            stored(self.store.vault_delete(tenant, collection, id, &entry).await)
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    /// All records of a data subject, found by its reference or an identifying value.
    pub async fn query(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        lookup: &Lookup,
    ) -> Result<(Vec<Record>, LogReceipt)> {
        let op = Operation::SubjectQuery;
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            // The value is read before anything else: a phone number that cannot be read is
            // refused whether or not the customer keeps data yet.
            let value = match lookup {
                Lookup::Identifier(kind, v) => Some(
                    normalize(*kind, v, PhoneRegion::of_customer(g.agreement.as_deref()))
                        .map_err(|e| Error::new(e.code, format!("the {} looked up {}", kind.as_str(), e.message)))?,
                ),
                Lookup::Subject(_) => None,
            };
            let keys = match &g.context.tenant_key {
                Some(_) => Some(self.tenant_keys(tenant, g.context.tenant_key.as_ref(), false).await?),
                None => None,
            };
            let (key, resource) = match (&keys, lookup) {
                (Some(k), Lookup::Subject(s)) => {
                    let idx = Self::subject_index(k, s);
                    (
                        QueryKey::Subject(idx),
                        format!("vault/subject/{}", &hex::encode(idx)[..16]),
                    )
                }
                (Some(k), Lookup::Identifier(kind, _)) => {
                    let d = art28_crypto::blind_index(&k.blind, kind.as_str(), value.as_deref().unwrap_or_default());
                    (
                        QueryKey::Identifier(d),
                        format!("vault/{}/{}", kind.as_str(), &hex::encode(d)[..16]),
                    )
                }
                // No key yet: nothing is kept, and nothing can match.
                (None, _) => (QueryKey::Identifier([0; 32]), "vault/subject/-".to_string()),
            };
            let entry = self.entry(&g.ctx, tenant, op, resource);
            let (rows, receipt) = logged(self.store.vault_query(tenant, key, &entry).await)?;
            let keys = match keys {
                Some(k) => k,
                None => return Ok((Vec::new(), receipt)),
            };
            let records = rows
                .iter()
                .map(|r| self.open_record(tenant, &keys, r))
                .collect::<Result<Vec<_>>>();
            Ok((logged(records)?, receipt))
        }
        .await;
        self.door(ctx, self.access(tenant, op, "vault/subject"), step).await
    }

    /// A page of a collection's records, after a record id.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        collection: &str,
        after: &str,
        limit: usize,
    ) -> Result<(Vec<Record>, LogReceipt)> {
        let op = Operation::RecordList;
        let resource = format!("vault/{}", clip(collection));
        let step = async {
            let query = ContextQuery {
                collection: Some(collection.to_string()),
                ..ContextQuery::default()
            };
            let g = self.judge(ctx, who, tenant, op, query).await?;
            self.collection(&g.context, tenant, collection)?;
            let keys = self.tenant_keys(tenant, g.context.tenant_key.as_ref(), true).await?;
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            let (rows, receipt) = logged(
                self.store
                    .vault_list(tenant, Some(collection), after, limit.clamp(1, MAX_LIST), Some(&entry))
                    .await,
            )?;
            let receipt = logged(receipt.ok_or_else(|| internal("list", "no receipt")))?;
            let records = rows
                .iter()
                .map(|r| self.open_record(tenant, &keys, r))
                .collect::<Result<Vec<_>>>();
            Ok((logged(records)?, receipt))
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    // ----- erasure -----

    /// Erase everything about a data subject: its key first, then its records. Refused with
    /// `legal_hold` while a hold covers it.
    pub async fn erase_subject(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        subject: &str,
    ) -> Result<(u64, LogReceipt)> {
        let op = Operation::SubjectErase;
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            let keys = self.tenant_keys(tenant, g.context.tenant_key.as_ref(), false).await?;
            let idx = Self::subject_index(&keys, subject);
            let entry = self.entry(&g.ctx, tenant, op, format!("vault/subject/{}", &hex::encode(idx)[..16]));
            if let Some(h) = self.live_hold(tenant, Some(&idx)).await? {
                return Err(hold_refusal(&h).into());
            }
            // Nothing to journal for a subject that is not kept: a later subject of the same
            // reference must not be erased by a replay.
            let known = self
                .store
                .vault_context(
                    tenant,
                    ContextQuery {
                        subjects: vec![idx],
                        ..ContextQuery::default()
                    },
                )
                .await?;
            if !known.subjects.contains_key(&idx) {
                return Err(Error::new(ErrorCode::RecordNotFound, "no data is kept about this data subject").into());
            }
            self.journal.append(&ErasureRecord {
                tenant: tenant.clone(),
                subject_index: Some(hex::encode(idx)),
                erased_at: entry.time,
                erased_by: who.username.clone(),
                access_id: entry.access_id.clone(),
            })?;
            let erased = self.store.vault_erase_subject(tenant, idx, &entry).await;
            if erased.is_err()
                && let Err(e) = self.journal.cancel(&entry.access_id)
            {
                // The refusal is what the caller hears; the uncancelled line is in the server log.
                tracing::error!(access_id = %entry.access_id, code = %e.code, "a refused erasure could not be cancelled in the journal; remove its line before the next start");
            }
            stored(erased)
        }
        .await;
        self.door(ctx, self.access(tenant, op, "vault/subject"), step).await
    }

    async fn live_hold(&self, tenant: &CustomerId, subject: Option<&[u8; 32]>) -> Result<Option<LegalHoldRecord>> {
        Ok(self.store.legal_holds(tenant).await?.into_iter().find(|h| {
            h.lifted_at.is_none()
                && (subject.is_none() || h.subject_index.is_none() || h.subject_index.as_ref() == subject)
        }))
    }

    /// Erase all of a customer's data: its key at once, so every record is unreadable from this
    /// moment, in every copy; the sealed rows are purged in the background.
    pub async fn erase_tenant(&self, ctx: &RequestContext, who: &Principal, tenant: &CustomerId) -> Result<LogReceipt> {
        let op = Operation::TenantErase;
        let resource = "vault/*".to_string();
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            if let Some(h) = self.live_hold(tenant, None).await? {
                return Err(hold_refusal(&h).into());
            }
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            self.journal.append(&ErasureRecord {
                tenant: tenant.clone(),
                subject_index: None,
                erased_at: entry.time,
                erased_by: who.username.clone(),
                access_id: entry.access_id.clone(),
            })?;
            let erased = self.store.vault_erase_tenant(tenant, &entry).await;
            if erased.is_err()
                && let Err(e) = self.journal.cancel(&entry.access_id)
            {
                // The refusal is what the caller hears; the uncancelled line is in the server log.
                tracing::error!(access_id = %entry.access_id, code = %e.code, "a refused erasure could not be cancelled in the journal; remove its line before the next start");
            }
            self.forget_tenant_keys(tenant);
            stored(erased)
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    /// Apply the erasure journal to the store: after a restore of an older backup, keys of
    /// erased customers and subjects are destroyed again. How many erasures had come back.
    pub async fn replay_journal(&self) -> Result<u64> {
        let mut back = 0;
        for e in self.journal.read()? {
            if self.store.vault_replay_erasure(&e).await? {
                back += 1;
                self.forget_tenant_keys(&e.tenant);
                tracing::warn!(tenant = %e.tenant, access_id = %e.access_id, "erased data had come back (restore); erased again");
            }
        }
        Ok(back)
    }

    /// Make the blind indexes of records written under an older normalisation again (phone
    /// numbers were kept as bare digits; now E.164 in the customer's region). Blind indexes are
    /// HMACs under each customer's key, so only the vault can do this: at start, before
    /// serving. Each record is opened, indexed anew and replaced only if unchanged since it was
    /// read; each customer's share of a batch leaves one access entry of the `migration` job
    /// (`vault.reindex`). A phone number that cannot be read loses its index (a warning names
    /// the record, never the value); a record that cannot be opened is left for the next
    /// start. Idempotent, and a crash midway leaves the rows done marked done. How many
    /// records were re-indexed.
    pub async fn reindex_blind(&self) -> Result<u64> {
        let mut after: Option<(CustomerId, String)> = None;
        let mut total = 0;
        loop {
            let rows = self
                .store
                .vault_stale_blind(after.as_ref().map(|(t, id)| (t, id.as_str())), REINDEX_BATCH)
                .await?;
            let Some((t, last)) = rows.last() else { break };
            after = Some((t.clone(), last.id.clone()));
            for share in rows.chunk_by(|a, b| a.0 == b.0) {
                // One customer whose records cannot be opened now (its master key missing from
                // the keyring, say) keeps its old indexes until a later start; the others are
                // re-indexed and the server serves. A storage failure stops the start.
                match self.reindex_share(share).await {
                    Ok(n) => total += n,
                    Err(e) if e.code == ErrorCode::StorageFailure => return Err(e),
                    Err(e) => {
                        tracing::warn!(tenant = %share[0].0, code = %e.code, "a customer's blind indexes could not be made again; they stay as they were until a later start");
                    }
                }
            }
        }
        if total > 0 {
            tracing::info!(
                records = total,
                "blind indexes made again with the current normalisation"
            );
        }
        Ok(total)
    }

    /// Re-index one customer's records of a batch, under one access entry.
    async fn reindex_share(&self, share: &[(CustomerId, VaultRecordRow)]) -> Result<u64> {
        let Some((tenant, _)) = share.first() else { return Ok(0) };
        let query = ContextQuery {
            on: Some(today(self.clock.as_ref())),
            ..ContextQuery::default()
        };
        let context = self.store.vault_context(tenant, query).await?;
        // Erased since the batch was read: nothing to open, nothing to index.
        let Some(key_row) = &context.tenant_key else {
            return Ok(0);
        };
        let keys = self.tenant_keys(tenant, Some(key_row), false).await?;
        let region = PhoneRegion::of_customer(self.agreement(&context).await?.as_deref());
        let defs: HashMap<String, CollectionDef> = self
            .store
            .collections(tenant)
            .await?
            .into_iter()
            .map(|c| (c.def.name.clone(), c.def))
            .collect();
        let mut changes = Vec::with_capacity(share.len());
        for (_, row) in share {
            let Some(def) = defs.get(&row.collection) else {
                tracing::warn!(%tenant, record = %row.id, "a record of no known collection is not re-indexed");
                continue;
            };
            let record = match self.open_record(tenant, &keys, row) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(%tenant, record = %row.id, code = %e.code, "a record that does not open is not re-indexed; tried again at the next start");
                    continue;
                }
            };
            let blind = Self::blind_of(&keys, def, &record.values, region, &mut |f, e| {
                tracing::warn!(%tenant, record = %row.id, field = %f.name, code = %e.code,
                    "an identifying value cannot be indexed; the record cannot be found by it until corrected");
                Ok(())
            })?;
            changes.push(BlindChange {
                id: row.id.clone(),
                version: row.version,
                blind,
            });
        }
        if changes.is_empty() {
            return Ok(0);
        }
        let entry = entry(
            &RequestContext::of(Actor::job("migration")),
            self.clock.as_ref(),
            &Access {
                tenant: Some(tenant),
                operation: Operation::VaultReindex,
                resource: format!("vault/*?reindex:{}", changes.len()),
            },
            None,
        );
        self.store.vault_reindex_blind(tenant, changes, &entry).await
    }

    /// The key that signs webhooks to a customer, for a webhook generation: derived from the
    /// customer's key (created if `create` and it has none), so nothing secret is stored for it,
    /// it follows master-key rotation, and it is gone when the customer's data is erased.
    pub async fn webhook_key(&self, tenant: &CustomerId, generation: u64, create: bool) -> Result<Key> {
        let ctx = self.store.vault_context(tenant, ContextQuery::default()).await?;
        let keys = self.tenant_keys(tenant, ctx.tenant_key.as_ref(), create).await?;
        Ok(keys.data.derive(format!("art28/webhook/v1/{generation}").as_bytes()))
    }

    /// The key that opens a customer's feed of sub-processor announcements, for a feed key
    /// generation: derived like [`Vault::webhook_key`], so nothing secret is stored for it.
    pub async fn feed_key(&self, tenant: &CustomerId, generation: u64, create: bool) -> Result<String> {
        let ctx = self.store.vault_context(tenant, ContextQuery::default()).await?;
        let keys = self.tenant_keys(tenant, ctx.tenant_key.as_ref(), create).await?;
        let key = keys.data.derive(format!("art28/feed/v1/{generation}").as_bytes());
        Ok(hex::encode(&key.expose()[..20]))
    }

    /// One step of the background purge of erased customers' sealed rows.
    pub async fn purge_step(&self, limit: usize) -> Result<PurgeProgress> {
        self.store.vault_purge(limit, self.clock.now()).await
    }

    // ----- legal holds -----

    /// Keep a customer's data (or one subject's) from erasure while the law requires it (R7.3).
    pub async fn place_legal_hold(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        subject: Option<&str>,
        reason: &str,
    ) -> Result<LegalHoldRecord> {
        let op = Operation::LegalHold;
        let step = async {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 500 {
                return Err(Error::new(
                    ErrorCode::BadRequest,
                    "state the legal ground of the hold (1 to 500 characters)",
                )
                .into());
            }
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            let idx = match subject {
                None => None,
                Some(s) => {
                    check_subject(s)?;
                    let keys = self.tenant_keys(tenant, g.context.tenant_key.as_ref(), true).await?;
                    Some(Self::subject_index(&keys, s))
                }
            };
            let resource = match &idx {
                Some(i) => format!("vault/subject/{}", &hex::encode(i)[..16]),
                None => "vault/*".to_string(),
            };
            let entry = self.entry(&g.ctx, tenant, op, resource);
            stored(
                self.store
                    .place_legal_hold(tenant, idx, reason, &who.username, &entry)
                    .await,
            )
        }
        .await;
        self.door(ctx, self.access(tenant, op, "vault/legal-hold"), step).await
    }

    /// Lift a legal hold.
    pub async fn lift_legal_hold(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        id: u64,
    ) -> Result<()> {
        let op = Operation::LegalHold;
        let resource = format!("vault/legal-hold/{id}");
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            stored(self.store.lift_legal_hold(tenant, id, &entry).await)
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    // ----- export -----

    /// Export a customer's data: whole (for return at the end, R7.1) or pseudonymised for test
    /// and acceptance environments (R2.4): direct identifiers and the subject reference become
    /// keyed pseudonyms, special categories dummy values. The pseudonym key is returned once when
    /// `keep_key`, and otherwise destroyed when the export is done.
    pub async fn export(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        pseudonymise: bool,
        keep_key: bool,
    ) -> Result<(Export, LogReceipt)> {
        let op = Operation::VaultExport;
        let resource = if pseudonymise {
            "vault/*?pseudonymised"
        } else {
            "vault/*"
        }
        .to_string();
        let step = async {
            let g = self.judge(ctx, who, tenant, op, ContextQuery::default()).await?;
            let entry = self.entry(&g.ctx, tenant, op, resource.clone());
            let receipt = logged(self.store.log_access(&entry).await)?;
            let collections = logged(self.store.collections(tenant).await)?;
            let keys = match &g.context.tenant_key {
                Some(_) => Some(logged(
                    self.tenant_keys(tenant, g.context.tenant_key.as_ref(), false).await,
                )?),
                None => None,
            };
            let mapping = Key::generate();
            let region = PhoneRegion::of_customer(g.agreement.as_deref());
            let defs: HashMap<&str, &CollectionDef> =
                collections.iter().map(|c| (c.def.name.as_str(), &c.def)).collect();
            let mut records = Vec::new();
            if let Some(keys) = keys {
                let mut after = String::new();
                loop {
                    let (rows, _) = logged(self.store.vault_list(tenant, None, &after, EXPORT_PAGE, None).await)?;
                    let Some(last) = rows.last() else { break };
                    after = last.id.clone();
                    for row in &rows {
                        let mut rec = logged(self.open_record(tenant, &keys, row))?;
                        if pseudonymise {
                            let def = defs.get(rec.collection.as_str()).copied();
                            pseudonymise_record(&mut rec, def, &mapping, region);
                        }
                        records.push(rec);
                    }
                }
            }
            let mapping_key = (pseudonymise && keep_key).then(|| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(mapping.expose())
            });
            Ok((
                Export {
                    tenant: tenant.to_string(),
                    pseudonymised: pseudonymise,
                    mapping_key,
                    collections: collections.into_iter().map(|c| c.def).collect(),
                    records,
                },
                receipt,
            ))
        }
        .await;
        self.door(ctx, self.access(tenant, op, &resource), step).await
    }

    // ----- master key rotation -----

    /// Rotate the master key without stopping: a new active key is saved (with the old ones
    /// kept for reading), every customer key is rewrapped under it, then the old keys are
    /// dropped and the keyring saved again. `save` must write the keyring durably.
    pub async fn rotate_master_key(&self, save: &(dyn Fn(&Keyring) -> Result<()> + Send + Sync)) -> Result<Rotation> {
        let old = self.keyring()?;
        let next = old.rotated();
        save(&next)?;
        *self.keyring.write().map_err(|e| internal("keyring lock", e))? = Arc::new(next.clone());
        let active = next.active().clone();
        let mut rewrapped = 0;
        for (tenant, row) in self.store.tenant_keys().await? {
            if row.master_key_id == active.id {
                continue;
            }
            let master = next.get(&row.master_key_id).ok_or_else(|| {
                Error::new(
                    ErrorCode::KeyUnavailable,
                    format!("master key {} is not in the keyring", row.master_key_id),
                )
            })?;
            let key = art28_crypto::unwrap(master.key(), &row.wrapped, &tenant_context(&tenant))
                .map_err(|_| Error::new(ErrorCode::KeyUnavailable, "a customer's key does not open"))?;
            let new = TenantKeyRow {
                master_key_id: active.id.clone(),
                wrapped: art28_crypto::wrap(active.key(), &key, &tenant_context(&tenant)),
            };
            // A customer erased meanwhile has no row left to rewrap: nothing to do.
            if self.store.rewrap_tenant_key(&tenant, &row, &new).await? {
                rewrapped += 1;
            }
        }
        let mut ring = next;
        let mut removed = Vec::new();
        for id in ring.ids() {
            if id != active.id {
                ring = ring
                    .without(&id)
                    .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
                removed.push(id);
            }
        }
        save(&ring)?;
        *self.keyring.write().map_err(|e| internal("keyring lock", e))? = Arc::new(ring);
        self.tenant_keys.lock().map_err(|e| internal("cache lock", e))?.clear();
        // Nodes started from now on must hold the new key (crate::cluster::Cluster::check_keys).
        self.store.pin(crate::cluster::PIN_MASTER_KEY, &active.id, true).await?;
        tracing::info!(active = %active.id, rewrapped, "master key rotated");
        Ok(Rotation {
            active: active.id.clone(),
            rewrapped,
            removed,
        })
    }

    /// The active master key's id.
    pub fn master_key_id(&self) -> Result<String> {
        Ok(self.keyring()?.active().id.clone())
    }
}

fn hold_refusal(h: &LegalHoldRecord) -> Error {
    Error::new(
        ErrorCode::LegalHold,
        format!(
            "legal hold {} (placed {} by {}: {}) keeps this data; it cannot be erased until the hold is lifted",
            h.id, h.placed_at, h.placed_by, h.reason
        ),
    )
}

fn pseudonymise_record(rec: &mut Record, def: Option<&CollectionDef>, key: &Key, region: PhoneRegion) {
    rec.subject = art28_crypto::pseudonym(key, "subject", &art28_crypto::normalize_id(&rec.subject));
    rec.id = art28_crypto::pseudonym(key, "record", &rec.id);
    let Some(def) = def else {
        rec.values.clear();
        return;
    };
    for (name, value) in rec.values.iter_mut() {
        let Some(field) = def.field(name) else { continue };
        let special = Vocabulary::PersonalData
            .find(&field.category)
            .is_some_and(|t| t.special);
        if special {
            *value = format!("dummy:{}", field.category);
        } else if let Some(kind) = field.identifier {
            // A value that cannot be normalised (an old phone number) still gets a pseudonym,
            // of its trimmed form: the copy is complete, only unlinkable to its other spellings.
            let n = normalize(kind, value, region).unwrap_or_else(|_| value.trim().to_string());
            *value = art28_crypto::pseudonym(key, kind.as_str(), &n);
        } else if direct_identifier(&field.category) {
            *value = art28_crypto::pseudonym(key, &field.category, value.trim());
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
