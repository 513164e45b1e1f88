//! # art28-store: persistence behind one trait
//!
//! Callers see only the [`Store`] trait and the record types in [`model`]; no SQL leaves this
//! crate. The embedded default is SQLite in a data directory ([`sqlite::SqliteStore`]): WAL mode
//! with `synchronous = FULL`, so a commit that returned is on disk and survives `kill -9`.
//! PostgreSQL will implement the same trait and pass the same conformance suite
//! (`tests/store/suite.rs`), so nothing above this crate changes when it arrives.
//!
//! The store never reads a clock: every timestamp it records is handed in by the caller, so
//! deadlines can be tested with an injected clock.

pub mod model;
pub mod sqlite;

pub use model::*;

use art28_core::Result;
use art28_core::ids::{AgreementId, CustomerId};

/// Everything art28 keeps. Implementations must make each method atomic.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// The processor running this art28, once set.
    async fn processor(&self) -> Result<Option<ProcessorProfile>>;
    /// Set or replace the processor profile.
    async fn set_processor(&self, profile: &ProcessorProfile) -> Result<()>;

    /// Add a customer; `customer_exists` if the id is taken (ids are never reused).
    async fn create_customer(&self, customer: &NewCustomer) -> Result<CustomerRecord>;
    /// One customer.
    async fn customer(&self, id: &CustomerId) -> Result<Option<CustomerRecord>>;
    /// All customers, ordered by id.
    async fn customers(&self) -> Result<Vec<CustomerRecord>>;
    /// The customer's contacts as of its latest agreement version.
    async fn contacts(&self, id: &CustomerId) -> Result<Vec<ContactRecord>>;

    /// Record a new agreement version. For a customer agreement the customer's contacts are
    /// replaced by the agreement's in the same transaction. `agreement_version_conflict` if
    /// the version is not higher than every stored version of the same agreement.
    async fn put_agreement_version(
        &self,
        version: &NewAgreementVersion,
    ) -> Result<AgreementVersion>;
    /// One version of an agreement.
    async fn agreement_version(
        &self,
        id: &AgreementId,
        version: u32,
    ) -> Result<Option<AgreementVersion>>;
    /// All versions of an agreement, oldest first.
    async fn agreement_versions(&self, id: &AgreementId) -> Result<Vec<AgreementVersionMeta>>;
    /// Every agreement version bound to a customer, oldest first: the history of who recorded
    /// which version when.
    async fn customer_agreement_history(
        &self,
        customer: &CustomerId,
    ) -> Result<Vec<AgreementVersionMeta>>;
    /// The customer's version in force on a date: the highest version whose effective date is
    /// on or before it.
    async fn agreement_in_force(
        &self,
        customer: &CustomerId,
        on: art28_core::date::Date,
    ) -> Result<Option<AgreementVersion>>;
    /// The latest version of every standard agreement.
    async fn standard_agreements(&self) -> Result<Vec<AgreementVersionMeta>>;
}
