//! The sub-processor register on super::PgStore: not built yet (every method fails).

use crate::SubprocessorStore;
use crate::model::*;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;

fn not_built<T>() -> Result<T> {
    Err(Error::new(
        ErrorCode::Internal,
        "the sub-processor register is not built on this backend yet",
    ))
}

#[async_trait::async_trait]
impl SubprocessorStore for super::PgStore {
    #[allow(clippy::too_many_arguments)]
    async fn create_subprocessor(
        &self,
        _entry: &art28_core::subprocessor::Entry,
        _at: Timestamp,
        _by: &str,
    ) -> Result<SubprocessorRecord> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn update_subprocessor(
        &self,
        _id: u64,
        _version: u32,
        _entry: &art28_core::subprocessor::Entry,
        _at: Timestamp,
        _by: &str,
        _note: &str,
    ) -> Result<SubprocessorRecord> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn put_contract(
        &self,
        _id: u64,
        _contract: &art28_core::subprocessor::Contract,
        _document: &[u8],
        _at: Timestamp,
        _by: &str,
    ) -> Result<SubprocessorRecord> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn contract_document(&self, _id: u64) -> Result<Option<Vec<u8>>> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn subprocessor(&self, _id: u64) -> Result<Option<SubprocessorRecord>> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn subprocessors(&self) -> Result<Vec<SubprocessorRecord>> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn announce_change(
        &self,
        _change: &NewChange,
        _announcements: &[NewAnnouncement],
        _entries: &[AccessEntry],
    ) -> Result<ChangeRecord> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn change(&self, _id: u64, _tenant: Option<&CustomerId>) -> Result<Option<ChangeRecord>> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn changes(&self, _tenant: Option<&CustomerId>) -> Result<Vec<ChangeRecord>> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn answer_change(
        &self,
        _id: u64,
        _tenant: &CustomerId,
        _answer: &ChangeAnswer,
        _announcements: &[NewAnnouncement],
        _entry: &AccessEntry,
    ) -> Result<ChangeRecord> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn announcements(
        &self,
        _change: Option<u64>,
        _tenant: Option<&CustomerId>,
    ) -> Result<Vec<AnnouncementRecord>> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn due_announcement_deliveries(
        &self,
        _now: Timestamp,
        _channels: &[&str],
        _limit: usize,
        _lease_until: Timestamp,
    ) -> Result<Vec<(DeliveryRecord, AnnouncementRecord)>> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn record_announcement_delivery(&self, _id: u64, _outcome: &DeliveryOutcome) -> Result<()> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn create_list_request(&self, _request: &NewListRequest, _entry: &AccessEntry) -> Result<ListRequestRecord> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn answer_list_request(
        &self,
        _id: u64,
        _tenant: &CustomerId,
        _on: art28_core::date::Date,
        _at: Timestamp,
        _by: &str,
        _entry: &AccessEntry,
    ) -> Result<ListRequestRecord> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn list_requests(&self, _tenant: Option<&CustomerId>) -> Result<Vec<ListRequestRecord>> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn feed_generation(&self, _tenant: &CustomerId) -> Result<u64> {
        not_built()
    }
    #[allow(clippy::too_many_arguments)]
    async fn bump_feed_generation(&self, _tenant: &CustomerId, _at: Timestamp, _entry: &AccessEntry) -> Result<u64> {
        not_built()
    }
}
