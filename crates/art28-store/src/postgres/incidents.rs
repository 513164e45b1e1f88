//! incidents in PostgreSQL (being ported from the SQLite module of the same name).
#![allow(unused_variables, unused_imports, clippy::too_many_arguments)]

use super::PgStore;
use crate::IncidentStore;
use crate::model::*;
use art28_core::Result;
use art28_core::access::AccessEntry;
use art28_core::ids::{AgreementId, CustomerId};
use jiff::Timestamp;

#[async_trait::async_trait]
impl IncidentStore for PgStore {
    async fn create_incident(&self, incident: &NewIncident, entries: &[AccessEntry]) -> Result<IncidentRecord> {
        Err(super::pending())
    }

    async fn incident(&self, id: u64) -> Result<Option<IncidentRecord>> {
        Err(super::pending())
    }

    async fn incidents(&self, tenant: Option<&CustomerId>) -> Result<Vec<IncidentRecord>> {
        Err(super::pending())
    }

    async fn update_incident(
        &self,
        id: u64,
        version: u64,
        change: &IncidentChange,
        event: &IncidentEvent,
        entries: &[AccessEntry],
    ) -> Result<IncidentRecord> {
        Err(super::pending())
    }

    async fn add_notices(
        &self,
        id: u64,
        version: u64,
        notices: &[NewNotice],
        created: (Timestamp, &str),
        change: &IncidentChange,
        event: &IncidentEvent,
        entries: &[AccessEntry],
    ) -> Result<(IncidentRecord, Vec<NoticeRecord>)> {
        Err(super::pending())
    }

    async fn notices(&self, incident: Option<u64>, tenant: Option<&CustomerId>) -> Result<Vec<NoticeRecord>> {
        Err(super::pending())
    }

    async fn acknowledge_notice(
        &self,
        id: u64,
        tenant: &CustomerId,
        by: &str,
        at: Timestamp,
        entry: &AccessEntry,
    ) -> Result<NoticeRecord> {
        Err(super::pending())
    }

    async fn due_deliveries(
        &self,
        now: Timestamp,
        channels: &[&str],
        limit: usize,
    ) -> Result<Vec<(DeliveryRecord, NoticeRecord)>> {
        Err(super::pending())
    }

    async fn set_webhook(
        &self,
        tenant: &CustomerId,
        url: Option<&str>,
        at: Timestamp,
        by: &str,
        events: &[NewSecurityEvent],
        entry: &AccessEntry,
    ) -> Result<Option<WebhookRecord>> {
        Err(super::pending())
    }

    async fn webhook(&self, tenant: &CustomerId) -> Result<Option<WebhookRecord>> {
        Err(super::pending())
    }

    async fn pending_first_notices(&self) -> Result<Vec<PendingFirstNotice>> {
        Err(super::pending())
    }

    async fn record_delivery(&self, id: u64, outcome: &DeliveryOutcome) -> Result<()> {
        Err(super::pending())
    }
}
