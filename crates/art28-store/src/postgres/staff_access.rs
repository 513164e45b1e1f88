//! staff_access in PostgreSQL (being ported from the SQLite module of the same name).
#![allow(unused_variables, unused_imports, clippy::too_many_arguments)]

use super::PgStore;
use crate::StaffAccessStore;
use crate::model::*;
use art28_core::Result;
use art28_core::access::AccessEntry;
use art28_core::ids::{AgreementId, CustomerId};
use jiff::Timestamp;

#[async_trait::async_trait]
impl StaffAccessStore for PgStore {
    async fn create_access_grant(
        &self,
        grant: &NewAccessGrant,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccessGrantRecord> {
        Err(super::pending())
    }

    async fn decide_access_grant(
        &self,
        id: u64,
        from: AccessGrantStatus,
        to: AccessGrantStatus,
        by: &str,
        at: Timestamp,
        events: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccessGrantRecord> {
        Err(super::pending())
    }

    async fn access_grants(
        &self,
        tenant: Option<&CustomerId>,
        account_id: Option<u64>,
    ) -> Result<Vec<AccessGrantRecord>> {
        Err(super::pending())
    }
}
