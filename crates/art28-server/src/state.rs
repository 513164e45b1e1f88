//! Shared state of the server: the doors of `art28-service`, never the store itself.

use crate::auth::TokenDigest;
use art28_service::access_log::AccessLog;
use art28_service::agreements::Agreements;
use std::sync::Arc;

/// Writes a keyring durably.
pub type SaveKeyring = dyn Fn(&art28_crypto::Keyring) -> art28_core::Result<()> + Send + Sync;

/// What every handler can reach: the doors, and the few things that are the server's own.
#[derive(Clone)]
pub struct AppState {
    /// Digest of the operator token.
    pub operator: TokenDigest,
    /// Agreements and customers.
    pub agreements: Arc<Agreements>,
    /// The access log's readers' door (checkpoints, pages, bundles, proofs, route refusals).
    pub log: Arc<AccessLog>,
    /// Accounts, sessions, machine tokens and the permission register (with the password
    /// hasher and the lockout rules).
    pub accounts: Arc<art28_service::accounts::Accounts>,
    /// Staff access grants.
    pub staff_access: Arc<art28_service::staff_access::StaffAccess>,
    /// The vault.
    pub vault: Arc<art28_service::vault::Vault>,
    /// The incident register, breach notices and customers' webhooks.
    pub incidents: Arc<art28_service::incidents::Incidents>,
    /// The one deadlines view over every register with terms (for the API and the portal).
    pub deadlines: Arc<art28_service::deadlines::Deadlines>,
    /// The sub-processor register, its announcements, list requests and feeds.
    pub subprocessors: Arc<art28_service::subprocessors::Subprocessors>,
    /// Writes the vault's keyring durably (to `vault.keys` in the data directory).
    pub save_keyring: Arc<SaveKeyring>,
    /// Wakes the outbox at once (after notices are queued).
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// The OpenAPI document, generated from the routes at start.
    pub openapi: Arc<serde_json::Value>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}
