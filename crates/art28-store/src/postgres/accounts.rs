//! accounts in PostgreSQL (being ported from the SQLite module of the same name).
#![allow(unused_variables, unused_imports, clippy::too_many_arguments)]

use super::PgStore;
use crate::AccountStore;
use crate::model::*;
use art28_core::Result;
use art28_core::access::AccessEntry;
use art28_core::ids::{AgreementId, CustomerId};
use jiff::Timestamp;

#[async_trait::async_trait]
impl AccountStore for PgStore {
    async fn create_account(
        &self,
        account: &NewAccount,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccountRecord> {
        Err(super::pending())
    }

    async fn account(&self, id: u64) -> Result<Option<AccountRecord>> {
        Err(super::pending())
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>> {
        Err(super::pending())
    }

    async fn accounts(&self, tenant: Option<&CustomerId>) -> Result<Vec<AccountRecord>> {
        Err(super::pending())
    }

    async fn update_account(
        &self,
        id: u64,
        change: AccountChange,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccountRecord> {
        Err(super::pending())
    }

    async fn accounts_unused_since(&self, before: Timestamp) -> Result<Vec<AccountRecord>> {
        Err(super::pending())
    }

    async fn add_grant(
        &self,
        grant: &NewGrant,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<GrantRecord> {
        Err(super::pending())
    }

    async fn revoke_grant(
        &self,
        grant_id: u64,
        by: &str,
        at: Timestamp,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<GrantRecord> {
        Err(super::pending())
    }

    async fn grants(
        &self,
        account_id: Option<u64>,
        tenant: Option<&CustomerId>,
        include_revoked: bool,
    ) -> Result<Vec<GrantRecord>> {
        Err(super::pending())
    }

    async fn add_security_events(&self, events: &[NewSecurityEvent]) -> Result<()> {
        Err(super::pending())
    }

    async fn security_events(&self, after_id: u64, limit: usize) -> Result<Vec<SecurityEventRecord>> {
        Err(super::pending())
    }

    async fn create_token(
        &self,
        token: &NewToken,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<TokenRecord> {
        Err(super::pending())
    }

    async fn token_by_digest(&self, digest: [u8; 32]) -> Result<Option<TokenRecord>> {
        Err(super::pending())
    }

    async fn tokens(&self, tenant: &CustomerId) -> Result<Vec<TokenRecord>> {
        Err(super::pending())
    }

    async fn revoke_token(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<()> {
        Err(super::pending())
    }

    async fn touch_token(&self, id: &str, at: Timestamp) -> Result<()> {
        Err(super::pending())
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<()> {
        Err(super::pending())
    }

    async fn session(&self, digest: [u8; 32]) -> Result<Option<SessionRecord>> {
        Err(super::pending())
    }

    async fn delete_sessions(&self, digest: Option<[u8; 32]>, account_id: Option<u64>) -> Result<()> {
        Err(super::pending())
    }

    async fn login_attempts(&self, username: &str) -> Result<LoginAttempts> {
        Err(super::pending())
    }

    async fn record_login_failure(
        &self,
        username: &str,
        at: Timestamp,
        locked_until: Option<Timestamp>,
        events: &[NewSecurityEvent],
    ) -> Result<LoginAttempts> {
        Err(super::pending())
    }

    async fn record_login_success(
        &self,
        account_id: u64,
        username: &str,
        at: Timestamp,
        events: &[NewSecurityEvent],
    ) -> Result<AccountRecord> {
        Err(super::pending())
    }
}
