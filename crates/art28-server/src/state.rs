//! Shared state of the server.

use crate::auth::TokenDigest;
use art28_service::clock::Clock;
use art28_service::ledger::Ledger;
use art28_store::prelude::*;
use std::sync::Arc;

/// Writes a keyring durably.
pub type SaveKeyring = dyn Fn(&art28_crypto::Keyring) -> art28_core::Result<()> + Send + Sync;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Digest of the operator token.
    pub operator: TokenDigest,
    /// The access log's tree and signer.
    pub ledger: Arc<Ledger>,
    /// Password hashing (argon2id).
    pub hasher: Arc<art28_service::passwords::PasswordHasher>,
    /// When failed logins slow down and lock.
    pub lockout: art28_core::auth::LockoutPolicy,
    /// The vault.
    pub vault: Arc<art28_service::vault::Vault>,
    /// The incident register, breach notices and customers' webhooks.
    pub incidents: Arc<art28_service::incidents::Incidents>,
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
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}
