//! The door to the access log for its readers: signed checkpoints, a customer's own entries
//! with inclusion proofs, evidence bundles for offline verification, consistency proofs, and
//! the refusals the server records for requests refused before they reached another door.
//!
//! A customer's page holds only its own entries; proofs carry sibling hashes, never another
//! customer's entries. Everything logged up to the call is folded into a signed checkpoint
//! first, so a page covers it. Reading a customer's log is an access of its own, logged after
//! the page's checkpoint.

use crate::access::{Access, RequestContext, log_read, log_refusal};
use crate::agreements::holds_anywhere;
use crate::clock::Clock;
use crate::ledger::Ledger;
use art28_core::access::AccessEntry;
use art28_core::auth::Principal;
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode, Result};
use art28_ledger::bundle::{Bundle, BundleEntry, ConsistencyStep};
use art28_ledger::checkpoint::LogVerifier;
use art28_ledger::merkle::Hash;
use art28_store::{LogReceipt, Store, StoredCheckpoint};
use std::sync::Arc;

/// Most entries per page.
pub const MAX_PAGE: usize = 1000;

/// Largest tree size or index a caller may name (the store keeps them as signed 64-bit
/// integers).
const MAX_INDEX: u64 = i64::MAX as u64;

/// One entry of a customer's page, with its inclusion proof.
#[derive(Debug, Clone)]
pub struct PageEntry {
    /// Leaf index in the log.
    pub index: u64,
    /// The entry.
    pub entry: AccessEntry,
    /// The exact leaf bytes.
    pub bytes: Vec<u8>,
    /// Inclusion proof against the page's checkpoint.
    pub proof: Vec<Hash>,
}

/// A page of a customer's log.
#[derive(Debug, Clone)]
pub struct Page {
    /// The checkpoint the proofs lead to.
    pub checkpoint: StoredCheckpoint,
    /// Entries, oldest first.
    pub entries: Vec<PageEntry>,
    /// Index to ask for the next page from, if there may be more.
    pub next: Option<u64>,
}

/// A consistency proof between two signed checkpoints.
#[derive(Debug, Clone)]
pub struct Consistency {
    /// The earlier checkpoint.
    pub old: StoredCheckpoint,
    /// The later checkpoint.
    pub new: StoredCheckpoint,
    /// The proof.
    pub proof: Vec<Hash>,
}

/// The access log's door for readers.
pub struct AccessLog {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ledger: Arc<Ledger>,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog")
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

fn index_arg(name: &str, v: u64) -> Result<u64> {
    if v > MAX_INDEX {
        return Err(Error::new(
            ErrorCode::BadRequest,
            format!("`{name}` must be at most {MAX_INDEX}"),
        ));
    }
    Ok(v)
}

impl AccessLog {
    /// The door over a store, a clock and the ledger that folds and signs.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ledger: Arc<Ledger>) -> Self {
        Self { store, clock, ledger }
    }

    /// The log's public key, for verifiers.
    pub fn verifier(&self) -> LogVerifier {
        self.ledger.verifier()
    }

    /// Fold what is logged into the tree and sign a checkpoint (the server's folder job).
    pub async fn fold(&self) -> Result<Option<StoredCheckpoint>> {
        self.ledger.fold(self.store.as_ref(), self.clock.as_ref()).await
    }

    /// The latest signed checkpoint, covering everything logged up to now.
    pub async fn checkpoint(&self, who: &Principal) -> Result<StoredCheckpoint> {
        holds_anywhere(who, Operation::LogRead)?;
        self.ledger.latest(self.store.as_ref(), self.clock.as_ref()).await
    }

    /// A page of a customer's entries with inclusion proofs, from leaf index `from`, at most
    /// `limit` (1 to [`MAX_PAGE`]); logged as a read of the customer's log.
    pub async fn page(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        from: u64,
        limit: usize,
    ) -> Result<(Page, LogReceipt)> {
        let limit = limit.clamp(1, MAX_PAGE);
        let access = Access {
            tenant: Some(tenant),
            operation: Operation::LogRead,
            resource: format!("log/{tenant}?from={from}&limit={limit}"),
        };
        // Judged first, so a caller without the right hears the same whether the customer
        // exists or not; a refusal is logged for an existing customer only.
        let judged = Operation::LogRead
            .authorize(who, Some(tenant))
            .and_then(|()| index_arg("from", from).map(|_| ()));
        let exists = self.store.customer(tenant).await?.is_some();
        match judged {
            Err(e) if exists => {
                return Err(log_refusal(self.store.as_ref(), self.clock.as_ref(), ctx, access, e).await);
            }
            Err(e) => return Err(e),
            Ok(()) if !exists => {
                return Err(Error::new(
                    ErrorCode::CustomerNotFound,
                    format!("customer `{tenant}` does not exist"),
                ));
            }
            Ok(()) => {}
        }
        let checkpoint = self.ledger.latest(self.store.as_ref(), self.clock.as_ref()).await?;
        let found = self.store.tenant_log(tenant, from, checkpoint.size, limit).await?;
        let indices: Vec<u64> = found.iter().map(|e| e.index).collect();
        let proofs = self.store.inclusion_proofs(&indices, checkpoint.size).await?;
        let entries = found
            .into_iter()
            .zip(proofs)
            .map(|(e, proof)| {
                let entry = AccessEntry::from_bytes(&e.bytes).map_err(|m| Error::new(ErrorCode::Internal, m))?;
                Ok(PageEntry {
                    index: e.index,
                    entry,
                    bytes: e.bytes,
                    proof,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let next = (entries.len() == limit)
            .then(|| entries.last().map(|e| e.index + 1))
            .flatten();
        let receipt = log_read(self.store.as_ref(), self.clock.as_ref(), ctx, access).await?;
        Ok((
            Page {
                checkpoint,
                entries,
                next,
            },
            receipt,
        ))
    }

    /// An evidence bundle (`art28/log-bundle/v1`) of a customer's page, with a consistency
    /// proof from the checkpoint of size `since` when the caller holds one.
    pub async fn bundle(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        from: u64,
        limit: usize,
        since: Option<u64>,
    ) -> Result<(Bundle, LogReceipt)> {
        let since = since.map(|s| index_arg("since", s)).transpose()?;
        let (page, receipt) = self.page(ctx, who, tenant, from, limit).await?;
        let cp = &page.checkpoint;
        let mut bundle = Bundle::new(self.ledger.verifier().name(), &cp.note);
        bundle.entries = page
            .entries
            .iter()
            .map(|e| BundleEntry::new(e.index, &e.bytes, &e.proof))
            .collect();
        if let Some(since) = since.filter(|s| *s < cp.size) {
            let old = self.checkpoint_at(since).await?;
            let proof = self.store.consistency_proof(since, cp.size).await?;
            bundle.consistency.push(ConsistencyStep::new(&old.note, &proof));
        }
        Ok((bundle, receipt))
    }

    async fn checkpoint_at(&self, size: u64) -> Result<StoredCheckpoint> {
        self.store.checkpoint_at(size).await?.ok_or_else(|| {
            Error::new(
                ErrorCode::BadRequest,
                format!("no checkpoint was signed at size {size}"),
            )
        })
    }

    /// A consistency proof from the checkpoint of size `old` to that of size `new` (the latest
    /// when `None`).
    pub async fn consistency(&self, who: &Principal, old: u64, new: Option<u64>) -> Result<Consistency> {
        holds_anywhere(who, Operation::LogRead)?;
        index_arg("old", old)?;
        let new = match new {
            Some(n) => self.checkpoint_at(index_arg("new", n)?).await?,
            None => self.ledger.latest(self.store.as_ref(), self.clock.as_ref()).await?,
        };
        if old > new.size {
            return Err(Error::new(
                ErrorCode::BadRequest,
                "the old size must not exceed the new size",
            ));
        }
        let old = self.checkpoint_at(old).await?;
        let proof = self.store.consistency_proof(old.size, new.size).await?;
        Ok(Consistency { old, new, proof })
    }

    /// Record a request refused before it reached a door of its own (no credentials, no role
    /// for the route) in the access log of the customer it named, if that customer exists;
    /// otherwise only the server log has it, so strangers cannot fill a customer's log. The
    /// error comes back either way.
    pub async fn refused(
        &self,
        ctx: &RequestContext,
        tenant: Option<&CustomerId>,
        operation: Operation,
        resource: String,
        error: Error,
    ) -> Error {
        let Some(tenant) = tenant else { return error };
        if !matches!(self.store.customer(tenant).await, Ok(Some(_))) {
            return error;
        }
        let access = Access {
            tenant: Some(tenant),
            operation,
            resource,
        };
        log_refusal(self.store.as_ref(), self.clock.as_ref(), ctx, access, error).await
    }
}
