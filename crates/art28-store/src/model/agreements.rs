//! The processor, its customers and their contacts, and agreement versions.

use art28_core::agreement::{AgreementKind, ContactRole, ProcessorAgreement};
use art28_core::date::Date;
use art28_core::ids::{AgreementId, CustomerId};
use art28_core::lang::Lang;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The processor organisation running this art28.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorProfile {
    /// Legal name.
    pub name: String,
    /// Registration number.
    pub registration: String,
    /// Country (ISO 3166-1 alpha-2).
    pub country: String,
}

/// The state of a customer in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    /// Services running.
    Active,
    /// Temporarily suspended.
    Suspended,
    /// The agreement has ended; data kept for the retention term.
    Terminated,
    /// Data made inaccessible.
    Erased,
}

impl CustomerStatus {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Active => "active",
            CustomerStatus::Suspended => "suspended",
            CustomerStatus::Terminated => "terminated",
            CustomerStatus::Erased => "erased",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => CustomerStatus::Active,
            "suspended" => CustomerStatus::Suspended,
            "terminated" => CustomerStatus::Terminated,
            "erased" => CustomerStatus::Erased,
            _ => return None,
        })
    }
}

/// A customer to add.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// Id, never reused.
    pub id: CustomerId,
    /// Legal name.
    pub name: String,
    /// Language for documents and notices.
    pub language: Lang,
    /// When it was added.
    pub created_at: Timestamp,
    /// Who added it.
    pub created_by: String,
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerRecord {
    /// Id.
    pub id: CustomerId,
    /// Legal name.
    pub name: String,
    /// Language.
    pub language: Lang,
    /// Life-cycle state.
    pub status: CustomerStatus,
    /// When it was added.
    pub created_at: Timestamp,
    /// Who added it.
    pub created_by: String,
}

/// A stored contact of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactRecord {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Telephone.
    pub phone: Option<String>,
    /// Language for messages.
    pub language: Lang,
    /// What the contact is for.
    pub roles: Vec<ContactRole>,
}

/// An agreement version to record.
#[derive(Debug, Clone)]
pub struct NewAgreementVersion {
    /// Create this customer first (its first agreement onboards it).
    pub onboard: Option<NewCustomer>,
    /// The agreement as read and validated (merged with its base for a deviation).
    pub agreement: ProcessorAgreement,
    /// The newest stored version of the same agreement id when the service checked that this
    /// one may follow it (`None`: the id was new). The store writes only if that is still so.
    pub follows: Option<u32>,
    /// The TOML text exactly as submitted.
    pub source: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// What is known about a version without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementVersionMeta {
    /// Agreement id.
    pub id: AgreementId,
    /// Version.
    pub version: u32,
    /// Standard or customer.
    pub kind: AgreementKind,
    /// The customer, for a customer agreement.
    pub customer: Option<CustomerId>,
    /// In force from.
    pub effective_from: Date,
    /// The standard it deviates from, as `id` and version.
    pub based_on: Option<(AgreementId, u32)>,
    /// SHA-256 of the submitted text, hex.
    pub sha256: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: Timestamp,
}

/// A stored version with its content.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementVersion {
    /// Metadata.
    pub meta: AgreementVersionMeta,
    /// The agreement (resolved).
    pub agreement: ProcessorAgreement,
    /// The submitted TOML text.
    pub source: String,
}
