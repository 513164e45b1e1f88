//! vault in PostgreSQL (being ported from the SQLite module of the same name).
#![allow(unused_variables, unused_imports, clippy::too_many_arguments)]

use super::PgStore;
use crate::VaultStore;
use crate::model::*;
use art28_core::Result;
use art28_core::access::AccessEntry;
use art28_core::ids::{AgreementId, CustomerId};
use jiff::Timestamp;

#[async_trait::async_trait]
impl VaultStore for PgStore {
    async fn vault_context(&self, tenant: &CustomerId, query: ContextQuery) -> Result<VaultContext> {
        Err(super::pending())
    }

    async fn put_tenant_key(&self, tenant: &CustomerId, key: &TenantKeyRow, at: Timestamp) -> Result<TenantKeyRow> {
        Err(super::pending())
    }

    async fn tenant_keys(&self) -> Result<Vec<(CustomerId, TenantKeyRow)>> {
        Err(super::pending())
    }

    async fn rewrap_tenant_key(&self, tenant: &CustomerId, old: &TenantKeyRow, new: &TenantKeyRow) -> Result<bool> {
        Err(super::pending())
    }

    async fn define_collection(
        &self,
        tenant: &CustomerId,
        def: &art28_core::vault::CollectionDef,
        at: Timestamp,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        Err(super::pending())
    }

    async fn collections(&self, tenant: &CustomerId) -> Result<Vec<StoredCollection>> {
        Err(super::pending())
    }

    async fn vault_create(
        &self,
        tenant: &CustomerId,
        records: Vec<NewVaultRecord>,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        Err(super::pending())
    }

    async fn vault_read(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<(VaultRecordRow, LogReceipt)> {
        Err(super::pending())
    }

    async fn vault_update(
        &self,
        tenant: &CustomerId,
        change: RecordChange,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)> {
        Err(super::pending())
    }

    async fn vault_delete(
        &self,
        tenant: &CustomerId,
        collection: &str,
        id: &str,
        entry: &AccessEntry,
    ) -> Result<LogReceipt> {
        Err(super::pending())
    }

    async fn vault_query(
        &self,
        tenant: &CustomerId,
        key: QueryKey,
        entry: &AccessEntry,
    ) -> Result<(Vec<VaultRecordRow>, LogReceipt)> {
        Err(super::pending())
    }

    async fn vault_list(
        &self,
        tenant: &CustomerId,
        collection: Option<&str>,
        after: &str,
        limit: usize,
        entry: Option<&AccessEntry>,
    ) -> Result<(Vec<VaultRecordRow>, Option<LogReceipt>)> {
        Err(super::pending())
    }

    async fn vault_erase_subject(
        &self,
        tenant: &CustomerId,
        subject: [u8; 32],
        entry: &AccessEntry,
    ) -> Result<(u64, LogReceipt)> {
        Err(super::pending())
    }

    async fn vault_erase_tenant(&self, tenant: &CustomerId, entry: &AccessEntry) -> Result<LogReceipt> {
        Err(super::pending())
    }

    async fn vault_replay_erasure(&self, erasure: &ErasureRecord) -> Result<bool> {
        Err(super::pending())
    }

    async fn vault_purge(&self, limit: usize, at: Timestamp) -> Result<PurgeProgress> {
        Err(super::pending())
    }

    async fn vault_stale_blind(
        &self,
        after: Option<(&CustomerId, &str)>,
        limit: usize,
    ) -> Result<Vec<(CustomerId, VaultRecordRow)>> {
        Err(super::pending())
    }

    async fn vault_reindex_blind(
        &self,
        tenant: &CustomerId,
        changes: Vec<BlindChange>,
        entry: &AccessEntry,
    ) -> Result<u64> {
        Err(super::pending())
    }

    async fn place_legal_hold(
        &self,
        tenant: &CustomerId,
        subject: Option<[u8; 32]>,
        reason: &str,
        by: &str,
        entry: &AccessEntry,
    ) -> Result<LegalHoldRecord> {
        Err(super::pending())
    }

    async fn lift_legal_hold(&self, tenant: &CustomerId, id: u64, entry: &AccessEntry) -> Result<()> {
        Err(super::pending())
    }

    async fn legal_holds(&self, tenant: &CustomerId) -> Result<Vec<LegalHoldRecord>> {
        Err(super::pending())
    }

    async fn erasures(&self, tenant: Option<&CustomerId>) -> Result<Vec<ErasureRecord>> {
        Err(super::pending())
    }

    async fn record_recovery(&self, recovery: &RecoveryRecord) -> Result<()> {
        Err(super::pending())
    }

    async fn recoveries(&self) -> Result<Vec<RecoveryRecord>> {
        Err(super::pending())
    }

    async fn vault_reach(
        &self,
        tenant: &CustomerId,
        records: &[(String, String)],
        collections: &[String],
    ) -> Result<VaultReach> {
        Err(super::pending())
    }
}
