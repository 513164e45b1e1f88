//! What the incident register keeps: incidents, their history, the customers they touch,
//! breach notices as sent, their deliveries through the outbox, and customers' webhooks.

use art28_core::ids::CustomerId;
use art28_core::incident::{CustomerScope, Details, IncidentKind, NoticeContent, Source, Status};
use art28_core::lang::Lang;
use jiff::Timestamp;

/// A customer's webhook for breach notices. Its signing secret is not stored: it is derived
/// from the customer's key and the generation, which grows with every change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    /// The customer.
    pub customer: CustomerId,
    /// Where notices are posted.
    pub url: String,
    /// Bumped by every change, so a new registration gets a new secret.
    pub generation: u64,
    /// Set at.
    pub created_at: Timestamp,
    /// Set by.
    pub created_by: String,
}

/// A new entry in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    /// Where it came from.
    pub source: Source,
    /// What it is.
    pub kind: IncidentKind,
    /// Who reported it (user name, or a free-text name for an outside reporter).
    pub reported_by: String,
    /// The customer that reported it, for a customer's report.
    pub reporter_tenant: Option<CustomerId>,
    /// To whom it was reported.
    pub reported_to: String,
    /// When the processor became aware.
    pub aware_at: Timestamp,
    /// When it was registered.
    pub created_at: Timestamp,
    /// What is known.
    pub details: Details,
}

/// A customer an incident touches, with its notice deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedCustomer {
    /// The customer.
    pub customer: CustomerId,
    /// When its first notice is due.
    pub due_at: Timestamp,
    /// What scoping found, if it was scoped.
    pub scope: Option<CustomerScope>,
    /// Added at.
    pub added_at: Timestamp,
    /// Added by.
    pub added_by: String,
    /// When its first notice was first delivered (read from the outbox).
    pub notified_at: Option<Timestamp>,
}

/// A step in an incident's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentEvent {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// From (absent for the registration).
    pub from: Option<Status>,
    /// To.
    pub to: Status,
    /// Why, or what changed.
    pub note: String,
}

/// An incident with its history and the customers it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    /// Number in the register.
    pub id: u64,
    /// Where it came from.
    pub source: Source,
    /// What it is.
    pub kind: IncidentKind,
    /// Who reported it.
    pub reported_by: String,
    /// The reporting customer, if a customer reported it.
    pub reporter_tenant: Option<CustomerId>,
    /// To whom.
    pub reported_to: String,
    /// When the processor became aware.
    pub aware_at: Timestamp,
    /// When registered.
    pub created_at: Timestamp,
    /// Workflow status.
    pub status: Status,
    /// What is known.
    pub details: Details,
    /// Changes with every write; a change names the version it read.
    pub version: u64,
    /// Customers it touches.
    pub customers: Vec<AffectedCustomer>,
    /// Its history, oldest first.
    pub events: Vec<IncidentEvent>,
}

/// A change to an incident, applied only if it is still at `version`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentChange {
    /// New details.
    pub details: Option<Details>,
    /// Move from the first status to the second.
    pub status: Option<(Status, Status)>,
    /// Add these customers, or replace the scope of one already on it (its deadline, once set,
    /// stays: a new scope never moves it).
    pub customers: Vec<AffectedCustomer>,
    /// Remove these customers (the service keeps every customer that has a notice).
    pub remove_customers: Vec<CustomerId>,
}

/// A notice to queue: its content as sent, and who receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// The customer.
    pub customer: CustomerId,
    /// 0: first notice; then updates.
    pub step: u32,
    /// Language.
    pub language: Lang,
    /// Subject line.
    pub subject: String,
    /// Body as sent.
    pub body: String,
    /// Structured content.
    pub content: NoticeContent,
    /// Its deliveries, one per recipient and channel, each under its own idempotency key.
    pub deliveries: Vec<NewDelivery>,
}

/// One delivery to queue in the outbox with a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// `email` or `webhook`.
    pub channel: String,
    /// An e-mail address, or the webhook's URL.
    pub recipient: String,
    /// The key the receiver deduplicates on (unique across the outbox), made by the service
    /// (`art28_core::incident::delivery_key`).
    pub idempotency_key: String,
}

/// A delivery of a notice to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// Id in the outbox.
    pub id: u64,
    /// The notice.
    pub notice_id: u64,
    /// `email`.
    pub channel: String,
    /// Address.
    pub recipient: String,
    /// Stable key: the receiver deduplicates on it (the e-mail's Message-ID).
    pub idempotency_key: String,
    /// Whether it was delivered.
    pub sent_at: Option<Timestamp>,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt, while pending.
    pub next_attempt_at: Timestamp,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

/// A notice as kept: content snapshot and delivery status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Id.
    pub id: u64,
    /// Incident.
    pub incident_id: u64,
    /// Customer.
    pub customer: CustomerId,
    /// Step.
    pub step: u32,
    /// Language.
    pub language: Lang,
    /// Composed at.
    pub created_at: Timestamp,
    /// Composed by.
    pub created_by: String,
    /// Subject as sent.
    pub subject: String,
    /// Body as sent.
    pub body: String,
    /// Structured content.
    pub content: NoticeContent,
    /// When the customer acknowledged receipt.
    pub acknowledged_at: Option<Timestamp>,
    /// Who acknowledged.
    pub acknowledged_by: Option<String>,
    /// Its deliveries.
    pub deliveries: Vec<DeliveryRecord>,
}

/// What a delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Accepted by the receiver at this time.
    Sent(Timestamp),
    /// Failed; try again at this time.
    Failed {
        /// Why (safe to show).
        error: String,
        /// Next attempt.
        retry_at: Timestamp,
    },
}

/// An affected customer whose first notice has not been delivered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFirstNotice {
    /// The incident.
    pub incident: u64,
    /// The customer.
    pub customer: CustomerId,
    /// When the first notice is due.
    pub due_at: Timestamp,
    /// When the processor became aware of the incident.
    pub aware_at: Timestamp,
}

/// Reach of access entries into a customer's vault, counted from its current rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VaultReach {
    /// Distinct records.
    pub records: u64,
    /// Distinct data subjects.
    pub subjects: u64,
}
