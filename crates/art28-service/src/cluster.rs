//! Several nodes on one database: which node does what.
//!
//! - Periodic jobs (credential expiry, the purge after erasure, notice deadline alerts, and
//!   what later registers add) run once per cluster, all through [`Cluster::run_if_due`]: on
//!   the node that holds the role [`JOBS`], which claims the job's lease in the store
//!   (`ClusterStore::claim_job`), runs it, and sets when it is due next. The schedule is in
//!   the database, so it survives restarts and a change of node; a node that dies mid-job
//!   leaves it to the next holder once the lease has run out, and since every job is a scan of
//!   the current state, running it again does no harm. What a job remembers in memory (the
//!   alerts already raised) is remembered by the node holding the role, as by one server
//!   before: a new holder raises an open alert once more.
//! - Roles (folding the access log) are held by one node at a time ([`Cluster::leads`]); when
//!   that node goes, another takes the role at its next attempt.
//! - Keys: every node must sign checkpoints with the same key and hold the vault master key
//!   the customers' keys are wrapped under; [`Cluster::check_keys`] pins both in the database
//!   on first start and refuses a node whose keys differ.
//!
//! On SQLite one server holds the data directory; the same calls then always find this node.

use crate::clock::Clock;
use art28_core::{Error, ErrorCode, Result};
use art28_store::Store;
use jiff::SignedDuration;
use std::future::Future;
use std::sync::Arc;

/// The role of the node that runs the periodic jobs.
pub const JOBS: &str = "jobs";
/// The role of the node that folds the access log and signs its checkpoints.
pub const FOLD: &str = "log.fold";

/// The pin of the log's signing key (its C2SP verifier key).
pub const PIN_LOG_KEY: &str = "log.signing_key";
/// The pin of the vault's active master key (its id, a fingerprint of the key).
pub const PIN_MASTER_KEY: &str = "vault.master_key";

/// This node in its cluster.
pub struct Cluster {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    node: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// This node, named `node` (unique per running process: see [`node_name`]).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, node: String) -> Self {
        Self { store, clock, node }
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether this node holds `role` now (taking it when free). A failure to ask counts as
    /// not holding it, and is logged.
    pub async fn leads(&self, role: &str) -> bool {
        match self.store.lead(role).await {
            Ok(held) => held,
            Err(e) => {
                tracing::error!(code = %e.code, role, "cannot tell whether this node leads");
                false
            }
        }
    }

    /// Run the periodic job `name` here if this node runs the jobs, the job is due and no
    /// other node holds its lease: claim it for `lease`, run `job`, then make it due again
    /// `every` from now. Whether it ran. A job
    /// that fails stays due (its lease runs out) and is tried again.
    pub async fn run_if_due<F, Fut>(
        &self,
        name: &str,
        every: SignedDuration,
        lease: SignedDuration,
        job: F,
    ) -> Result<bool>
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<()>> + Send,
    {
        if !self.leads(JOBS).await {
            return Ok(false);
        }
        let now = self.clock.now();
        let until = now.checked_add(lease).map_err(time_err)?;
        if !self.store.claim_job(name, &self.node, now, until).await? {
            return Ok(false);
        }
        job().await?;
        let next = self.clock.now().checked_add(every).map_err(time_err)?;
        if !self.store.finish_job(name, &self.node, next).await? {
            tracing::warn!(
                job = name,
                "the job's lease ran out while it ran; another node may have run it too"
            );
        }
        Ok(true)
    }

    /// Pin this node's keys on first start, and refuse them when the database was written
    /// with others: the log's signing key (`log_key`, its verifier key) must be the pinned
    /// one, and the pinned vault master key must be in `keyring`.
    pub async fn check_keys(&self, log_key: &str, keyring: &art28_crypto::Keyring) -> Result<()> {
        let pinned = self.store.pin(PIN_LOG_KEY, log_key, false).await?;
        if pinned != log_key {
            return Err(Error::new(
                ErrorCode::ConfigInvalid,
                format!(
                    "this node's log signing key is not the one the database's checkpoints are signed with \
                     ({pinned}); give every node the same log signing key file"
                ),
            ));
        }
        let pinned = self.store.pin(PIN_MASTER_KEY, &keyring.active().id, false).await?;
        if keyring.get(&pinned).is_none() {
            return Err(Error::new(
                ErrorCode::ConfigInvalid,
                format!(
                    "this node's vault keyring lacks master key {pinned}, under which the database's customer keys \
                     are wrapped; give every node the same vault keys file"
                ),
            ));
        }
        Ok(())
    }
}

fn time_err(e: jiff::Error) -> Error {
    Error::new(ErrorCode::Internal, format!("job schedule: {e}"))
}

/// A name for this node, unique per running process: host name, process id and a random
/// suffix (so a restarted process with a reused pid is another holder).
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "node".to_string());
    let suffix: [u8; 4] = rand::random();
    format!("{host}-{}-{}", std::process::id(), hex::encode(suffix))
}
