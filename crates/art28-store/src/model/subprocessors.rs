//! What the sub-processor register keeps: the processor's sub-processors with every version
//! of their entry and their signed contract, the changes announced to customers with each
//! customer's answer and its history, the announcements as sent with their deliveries through
//! the outbox, customers' requests for the list, and each customer's feed key generation.

use crate::model::incidents::{DeliveryRecord, NewDelivery};
use art28_core::agreement::Authorisation;
use art28_core::date::Date;
use art28_core::ids::CustomerId;
use art28_core::lang::{Lang, Text};
use art28_core::subprocessor::{ChangeKind, Contract, CustomerState, Entry};
use jiff::Timestamp;

/// A line in a sub-processor's history: a version of its entry or its contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubprocessorEvent {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// The entry's version after it.
    pub version: u32,
    /// What changed (`registered`, `changed`, `contract`), with the caller's note.
    pub note: String,
}

/// One sub-processor in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubprocessorRecord {
    /// Number in the register.
    pub id: u64,
    /// The entry's version: 1 when registered, one more with every change.
    pub version: u32,
    /// The entry as it stands.
    pub entry: Entry,
    /// The signed contract, once kept.
    pub contract: Option<Contract>,
    /// Registered at.
    pub created_at: Timestamp,
    /// Its history, oldest first.
    pub history: Vec<SubprocessorEvent>,
}

/// A customer a change reaches, as announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChangeCustomer {
    /// The customer.
    pub customer: CustomerId,
    /// Its authorisation as its agreement had it when told.
    pub authorisation: Authorisation,
    /// Its first state.
    pub state: CustomerState,
    /// The rule that refused it (a stable error code), for `refused`.
    pub rule: Option<String>,
    /// The last day it may object (general authorisation).
    pub objection_until: Option<Date>,
}

/// A change to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChange {
    /// Its number, which the service names in the messages and entries it composes with it:
    /// one more than the highest so far. `subprocessor_version_conflict` (nothing written) if
    /// another change has it by the time it is stored.
    pub id: u64,
    /// What it does.
    pub kind: ChangeKind,
    /// The sub-processor it brings in, moves or removes.
    pub subprocessor: u64,
    /// The entry's version announced, kept as announced.
    pub version: u32,
    /// The entry as announced.
    pub entry: Entry,
    /// For a replacement: the sub-processor it replaces, by number and name.
    pub replaces: Option<(u64, String)>,
    /// The intended effective date.
    pub effective: Date,
    /// The processor's explanation, in both languages.
    pub note: Text,
    /// Announced at.
    pub announced_at: Timestamp,
    /// Announced by.
    pub announced_by: String,
    /// The customers it reaches, each with its first state.
    pub customers: Vec<NewChangeCustomer>,
}

/// A step in one customer's answer to a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEvent {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// From (absent for the announcement).
    pub from: Option<CustomerState>,
    /// To.
    pub to: CustomerState,
    /// The reasons of an objection, the note of a decision or approval.
    pub note: String,
}

/// One customer's side of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeCustomer {
    /// The customer.
    pub customer: CustomerId,
    /// Its authorisation when told.
    pub authorisation: Authorisation,
    /// Where it stands.
    pub state: CustomerState,
    /// The rule that refused it, for `refused`.
    pub rule: Option<String>,
    /// The last day it may object.
    pub objection_until: Option<Date>,
    /// When the step that let the change take effect was taken (approval, or a decision over
    /// an objection); the change takes effect no earlier than the day after.
    pub decided_at: Option<Timestamp>,
    /// Until when the customer may end the agreement over an overruled objection.
    pub termination_until: Option<Date>,
    /// Its history, oldest first (the first line is the announcement).
    pub events: Vec<ChangeEvent>,
}

/// An announced change with every customer it reaches (a customer's read holds its own row
/// only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Number.
    pub id: u64,
    /// What it does.
    pub kind: ChangeKind,
    /// The sub-processor.
    pub subprocessor: u64,
    /// Its entry's version as announced.
    pub version: u32,
    /// The entry as announced.
    pub entry: Entry,
    /// For a replacement: the one replaced, by number and name.
    pub replaces: Option<(u64, String)>,
    /// The intended effective date.
    pub effective: Date,
    /// The processor's explanation.
    pub note: Text,
    /// Announced at.
    pub announced_at: Timestamp,
    /// Announced by.
    pub announced_by: String,
    /// The customers it reaches, ordered by id.
    pub customers: Vec<ChangeCustomer>,
}

/// One customer's answer, applied only if it still stands at `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeAnswer {
    /// The state it must stand at.
    pub from: CustomerState,
    /// The line to add (its `to` is the new state).
    pub event: ChangeEvent,
    /// Set `decided_at`.
    pub decided_at: Option<Timestamp>,
    /// Set `termination_until`.
    pub termination_until: Option<Date>,
}

/// An announcement to queue for one customer in one language, with its deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAnnouncement {
    /// The customer.
    pub customer: CustomerId,
    /// Language.
    pub language: Lang,
    /// Subject as sent.
    pub subject: String,
    /// Body as sent.
    pub body: String,
    /// Its deliveries, each under its own idempotency key
    /// (`art28_core::subprocessor::delivery_key`).
    pub deliveries: Vec<NewDelivery>,
}

/// An announcement as kept, with its deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementRecord {
    /// Id.
    pub id: u64,
    /// The change.
    pub change_id: u64,
    /// The customer.
    pub customer: CustomerId,
    /// Language.
    pub language: Lang,
    /// Composed at (the change's announcement, or the answer it tells of).
    pub created_at: Timestamp,
    /// Subject as sent.
    pub subject: String,
    /// Body as sent.
    pub body: String,
    /// Its deliveries.
    pub deliveries: Vec<DeliveryRecord>,
}

/// A customer's request for the list of sub-processors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewListRequest {
    /// The customer.
    pub customer: CustomerId,
    /// When.
    pub requested_at: Timestamp,
    /// By whom.
    pub requested_by: String,
    /// When the answer is due, if the agreement sets a term.
    pub due_at: Option<Timestamp>,
    /// What the customer added.
    pub note: String,
}

/// A request for the list, with its answer once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequestRecord {
    /// Number.
    pub id: u64,
    /// The customer.
    pub customer: CustomerId,
    /// When.
    pub requested_at: Timestamp,
    /// By whom.
    pub requested_by: String,
    /// When the answer is due.
    pub due_at: Option<Timestamp>,
    /// What the customer added.
    pub note: String,
    /// When answered.
    pub answered_at: Option<Timestamp>,
    /// By whom.
    pub answered_by: Option<String>,
    /// The date whose list in force the answer gives.
    pub answer_on: Option<Date>,
}
