//! Folding the access log into its Merkle tree and signing checkpoints.
//!
//! Entries are durable the moment their transaction commits (their leaf hash is stored with
//! them); folding only computes interior nodes and signs the new root, so it can run in
//! batches and be redone after a crash without losing anything. A checkpoint is signed on every
//! fold that finds new entries; the server folds every second.

use crate::clock::Clock;
use art28_core::{Error, ErrorCode, Result};
use art28_ledger::checkpoint::{Checkpoint, LogSigner, LogVerifier};
use art28_ledger::merkle::Frontier;
use art28_store::{Store, StoredCheckpoint};
use tokio::sync::Mutex;

/// Entries read per step while folding.
const CHUNK: u64 = 8192;

/// The log's signer and the tree's right edge.
pub struct Ledger {
    signer: LogSigner,
    frontier: Mutex<Option<Frontier>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("key", &self.signer.verifier().to_vkey())
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// A ledger signing with this key.
    pub fn new(signer: LogSigner) -> Self {
        Self {
            signer,
            frontier: Mutex::new(None),
        }
    }

    /// The public key, for verifiers.
    pub fn verifier(&self) -> LogVerifier {
        self.signer.verifier()
    }

    /// Fold every entry not yet in the tree and sign a checkpoint for the new size. Returns the
    /// new checkpoint, or `None` when there was nothing new (and a checkpoint exists).
    pub async fn fold(&self, store: &dyn Store, clock: &dyn Clock) -> Result<Option<StoredCheckpoint>> {
        let mut guard = self.frontier.lock().await;
        let latest = store.latest_checkpoint().await?;
        let folded = latest.as_ref().map_or(0, |c| c.size);
        let mut frontier = match guard.take() {
            Some(f) if f.size() == folded => f,
            _ => store.restore_frontier(folded).await?,
        };
        let size = store.log_size().await?;
        if size == folded && latest.is_some() {
            *guard = Some(frontier);
            return Ok(None);
        }
        let mut nodes = Vec::new();
        let mut at = folded;
        while at < size {
            let to = (at + CHUNK).min(size);
            for leaf in store.leaf_hashes(at, to).await? {
                frontier.append_with(leaf, |level, index, hash| {
                    if store.keeps_level(level) {
                        nodes.push((level, index, hash));
                    }
                });
            }
            at = to;
        }
        let checkpoint = Checkpoint {
            origin: self.signer.name().to_string(),
            size,
            root: frontier.root(),
        };
        let stored = StoredCheckpoint {
            size,
            root: checkpoint.root,
            note: self.signer.sign(&checkpoint),
            signed_at: clock.now(),
        };
        // If saving fails the frontier is dropped and rebuilt from the store next time.
        store.save_fold(&nodes, &stored).await?;
        *guard = Some(frontier);
        Ok(Some(stored))
    }

    /// The newest checkpoint, after folding everything logged up to now into it.
    pub async fn latest(&self, store: &dyn Store, clock: &dyn Clock) -> Result<StoredCheckpoint> {
        if let Some(cp) = self.fold(store, clock).await? {
            return Ok(cp);
        }
        store
            .latest_checkpoint()
            .await?
            .ok_or_else(|| Error::new(ErrorCode::Internal, "no checkpoint after folding"))
    }
}
