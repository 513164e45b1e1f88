//! Security incidents and personal data breaches (R4): the register's content, the fixed
//! workflow, the deadlines and what a breach notice must hold.
//!
//! Pure: no IO and no clock. Times are handed in; the service reads the clock and the store
//! keeps what is decided here.

use crate::error::{Error, ErrorCode};
use crate::ids::CustomerId;
use crate::lang::Lang;
use jiff::{SignedDuration, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where an incident happened or who brought it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Found at or reported to the processor about its own systems.
    Processor,
    /// At a sub-processor; the processor is the customer's single point of contact.
    SubProcessor,
    /// Reported by a customer (R4.5).
    Customer,
}

/// What was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A security incident (may turn out to be a personal data breach).
    SecurityIncident,
    /// Misuse of an account or credential.
    AccountMisuse,
    /// An inspection by an authority that affects the service.
    OfficialInspection,
}

/// Which security property was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Data reached someone it should not have.
    Confidentiality,
    /// Data was changed or corrupted.
    Integrity,
    /// Data or service was not available.
    Availability,
}

/// What happened to personal data (the breach protocol's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreachAction {
    /// Read or seen.
    Reading,
    /// Copied.
    Copying,
    /// Changed.
    Changing,
    /// Deleted or destroyed.
    Deleting,
    /// Stolen.
    Theft,
}

impl Impact {
    /// Label in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Impact::Confidentiality => lang.pick("vertrouwelijkheid", "confidentiality"),
            Impact::Integrity => lang.pick("integriteit", "integrity"),
            Impact::Availability => lang.pick("beschikbaarheid", "availability"),
        }
    }
}

impl BreachAction {
    /// Label in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            BreachAction::Reading => lang.pick("inzien", "reading"),
            BreachAction::Copying => lang.pick("kopiëren", "copying"),
            BreachAction::Changing => lang.pick("wijzigen", "changing"),
            BreachAction::Deleting => lang.pick("verwijderen of vernietigen", "deleting or destroying"),
            BreachAction::Theft => lang.pick("diefstal", "theft"),
        }
    }
}

/// What is known about an incident. Fields may be filled in steps; a breach notice needs the
/// ones [`Details::missing_for_notice`] names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Details {
    /// Short summary of what happened.
    pub summary: String,
    /// Longer description.
    #[serde(default)]
    pub description: String,
    /// Start of the period in which it happened, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub period_start: Option<Timestamp>,
    /// End of that period, if known (absent: still going on or unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub period_end: Option<Timestamp>,
    /// Affected systems (at most 100).
    #[serde(default, deserialize_with = "crate::number::at_most::<_, _, 100>")]
    #[schemars(length(max = 100))]
    pub systems: Vec<String>,
    /// Affected sub-processors, by name (at most 100).
    #[serde(default, deserialize_with = "crate::number::at_most::<_, _, 100>")]
    #[schemars(length(max = 100))]
    pub subprocessors: Vec<String>,
    /// Security properties hit.
    #[serde(default, deserialize_with = "crate::number::at_most::<_, _, 16>")]
    #[schemars(length(max = 16))]
    pub impact: Vec<Impact>,
    /// What happened to the data.
    #[serde(default, deserialize_with = "crate::number::at_most::<_, _, 16>")]
    #[schemars(length(max = 16))]
    pub actions: Vec<BreachAction>,
    /// Cause, as far as known.
    #[serde(default)]
    pub cause: String,
    /// The security measure that failed.
    #[serde(default)]
    pub failed_measure: String,
    /// Consequences.
    #[serde(default)]
    pub consequences: String,
    /// How the situation is or will be recovered.
    #[serde(default)]
    pub recovery: String,
    /// Measures taken.
    #[serde(default)]
    pub measures_taken: String,
    /// Measures proposed.
    #[serde(default)]
    pub measures_proposed: String,
}

/// Longest text field, in characters.
pub const MAX_TEXT: usize = 10_000;
/// Most entries in a list field.
pub const MAX_LIST: usize = 100;

impl Details {
    /// Check lengths and order; the first problem is the error.
    pub fn validate(&self) -> Result<(), Error> {
        if self.summary.trim().is_empty() {
            return Err(bad("`summary` is required: say in a sentence what happened"));
        }
        if self.summary.chars().count() > 500 {
            return Err(bad(
                "`summary` is at most 500 characters; put the rest in `description`",
            ));
        }
        for (name, text) in [
            ("description", &self.description),
            ("cause", &self.cause),
            ("failed_measure", &self.failed_measure),
            ("consequences", &self.consequences),
            ("recovery", &self.recovery),
            ("measures_taken", &self.measures_taken),
            ("measures_proposed", &self.measures_proposed),
        ] {
            if text.chars().count() > MAX_TEXT {
                return Err(bad(&format!("`{name}` is at most {MAX_TEXT} characters")));
            }
        }
        for (name, list) in [("systems", &self.systems), ("subprocessors", &self.subprocessors)] {
            if list.len() > MAX_LIST || list.iter().any(|s| s.trim().is_empty() || s.chars().count() > 200) {
                return Err(bad(&format!(
                    "`{name}` holds at most {MAX_LIST} names of 1 to 200 characters"
                )));
            }
        }
        if let (Some(a), Some(b)) = (self.period_start, self.period_end)
            && b < a
        {
            return Err(bad("`period_end` is before `period_start`"));
        }
        if [self.period_start, self.period_end]
            .into_iter()
            .flatten()
            .any(|t| t < EARLIEST_EVENT)
        {
            return Err(bad("the period of an incident starts after 1970"));
        }
        Ok(())
    }

    /// Fields a breach notice cannot go without (R4.3: summary, failed measure, nature, cause).
    pub fn missing_for_notice(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.failed_measure.trim().is_empty() {
            missing.push("failed_measure");
        }
        if self.actions.is_empty() {
            missing.push("actions");
        }
        if self.cause.trim().is_empty() {
            missing.push("cause");
        }
        missing
    }
}

fn bad(msg: &str) -> Error {
    Error::new(ErrorCode::IncidentInvalid, msg)
}

/// Where an incident is in the fixed workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Registered, not yet looked at.
    Reported,
    /// Looked at by the security officer; being assessed.
    Triaged,
    /// Not a personal data breach; closed with reasons.
    NotABreach,
    /// A personal data breach: affected customers must be notified.
    Breach,
    /// Every affected customer has its first notice; updates may follow.
    Notified,
    /// Closed.
    Closed,
}

impl Status {
    /// Stable wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Triaged => "triaged",
            Status::NotABreach => "not_a_breach",
            Status::Breach => "breach",
            Status::Notified => "notified",
            Status::Closed => "closed",
        }
    }

    /// From the wire form.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Status::Reported,
            Status::Triaged,
            Status::NotABreach,
            Status::Breach,
            Status::Notified,
            Status::Closed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Whether the workflow has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Status::NotABreach | Status::Closed)
    }
}

/// A step a person takes in the workflow. `Notified` is not among them: art28 moves a breach
/// there itself once every affected customer's first notice is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Take the report into assessment.
    Triage,
    /// Conclude it is not a personal data breach (needs reasons).
    NotABreach,
    /// Conclude it is a personal data breach.
    Breach,
    /// Close a notified breach (needs reasons).
    Close,
}

/// The workflow: which step may follow which status, and where it leads. `waiting` names the
/// affected customers that have not had their first notice yet: a breach closes only when that
/// list is empty (art28 itself moves a breach to `notified` once every customer has its first
/// notice, so a `breach` closes at once only when it touched no customer). Refused with
/// `incident_transition_not_allowed`, naming what may come next.
pub fn transition(from: Status, step: Step, waiting: &[String]) -> Result<Status, Error> {
    let to = match (from, step) {
        (Status::Reported, Step::Triage) => Status::Triaged,
        (Status::Triaged, Step::NotABreach) => Status::NotABreach,
        (Status::Triaged, Step::Breach) => Status::Breach,
        (Status::Breach | Status::Notified, Step::Close) if waiting.is_empty() => Status::Closed,
        (Status::Breach | Status::Notified, Step::Close) => {
            return Err(Error::new(
                ErrorCode::IncidentTransitionNotAllowed,
                format!(
                    "the incident cannot close: {} still wait for their first notice",
                    waiting.join(", ")
                ),
            ));
        }
        _ => {
            let next = match from {
                Status::Reported => "triage",
                Status::Triaged => "not_a_breach or breach",
                Status::Breach => "notices to every affected customer first",
                Status::Notified => "close",
                Status::NotABreach | Status::Closed => "nothing: the incident is closed",
            };
            return Err(Error::new(
                ErrorCode::IncidentTransitionNotAllowed,
                format!(
                    "an incident that is `{}` cannot take step `{}`; next is {next}",
                    from.as_str(),
                    step_str(step)
                ),
            ));
        }
    };
    Ok(to)
}

fn step_str(step: Step) -> &'static str {
    match step {
        Step::Triage => "triage",
        Step::NotABreach => "not_a_breach",
        Step::Breach => "breach",
        Step::Close => "close",
    }
}

/// The controller's own term towards the supervisory authority (GDPR art. 33: 72 hours after
/// it became aware). Shown to the customer; art28 never notifies an authority itself.
pub const CONTROLLER_TERM: SignedDuration = SignedDuration::from_hours(72);

/// How close a notice deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// The notice went out before the deadline.
    Met,
    /// The notice went out after the deadline.
    MetLate,
    /// Not sent; more than [`DUE_SOON`] left.
    Open,
    /// Not sent; less than [`DUE_SOON`] left.
    DueSoon,
    /// Not sent and past the deadline.
    Overdue,
}

/// When an open deadline counts as due soon.
pub const DUE_SOON: SignedDuration = SignedDuration::from_hours(12);

/// The state of a deadline `due` at `now`, given when (if) the notice was sent.
pub fn deadline_state(due: Timestamp, sent: Option<Timestamp>, now: Timestamp) -> DeadlineState {
    match sent {
        Some(s) if s <= due => DeadlineState::Met,
        Some(_) => DeadlineState::MetLate,
        None if now > due => DeadlineState::Overdue,
        None if due.duration_since(now) <= DUE_SOON => DeadlineState::DueSoon,
        None => DeadlineState::Open,
    }
}

/// The state of an affected customer's first-notice deadline in an incident with `status`:
/// none once the incident was found not to be a breach.
pub fn notice_deadline(
    status: Status,
    due: Timestamp,
    sent: Option<Timestamp>,
    now: Timestamp,
) -> Option<DeadlineState> {
    (status != Status::NotABreach).then(|| deadline_state(due, sent, now))
}

/// The earliest moment an incident's period may name (timestamps before it are typing errors,
/// not incidents): 1970-01-01.
pub const EARLIEST_EVENT: Timestamp = Timestamp::UNIX_EPOCH;

/// The earliest moment a processor can have become aware of a breach under the GDPR: the day
/// it applies, 25 May 2018 (Art. 99(2)).
pub const EARLIEST_AWARE: Timestamp = Timestamp::constant(1_527_206_400, 0);

/// Check when the processor became aware of an incident: not before the GDPR applies, not
/// after `now`.
pub fn check_aware_at(aware_at: Timestamp, now: Timestamp) -> Result<(), Error> {
    if aware_at > now {
        return Err(Error::new(
            ErrorCode::IncidentInvalid,
            "`aware_at` is in the future; give the moment the processor learned of it",
        ));
    }
    if aware_at < EARLIEST_AWARE {
        return Err(Error::new(
            ErrorCode::IncidentInvalid,
            "`aware_at` is before 25 May 2018, when the GDPR began to apply",
        ));
    }
    Ok(())
}

/// The controller's own deadline towards the supervisory authority: awareness + 72 hours.
pub fn controller_due(aware_at: Timestamp) -> Timestamp {
    aware_at.checked_add(CONTROLLER_TERM).unwrap_or(aware_at)
}

/// The deadline of the first notice: awareness plus the agreement's term (calendar units kept,
/// computed in UTC).
pub fn notice_due(aware_at: Timestamp, term: &crate::duration::IsoDuration) -> Timestamp {
    aware_at
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(term.span())
        .map(|z| z.timestamp())
        .unwrap_or(aware_at)
}

/// What a scoping of the access log found for one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerScope {
    /// The customer.
    pub customer: CustomerId,
    /// Access entries that matched.
    #[serde(deserialize_with = "crate::number::count")]
    #[schemars(range(max = 9223372036854775807_u64))]
    pub entries: u64,
    /// Distinct records reached.
    #[serde(deserialize_with = "crate::number::count")]
    #[schemars(range(max = 9223372036854775807_u64))]
    pub records: u64,
    /// Distinct data subjects reached.
    #[serde(deserialize_with = "crate::number::count")]
    #[schemars(range(max = 9223372036854775807_u64))]
    pub data_subjects: u64,
    /// Categories of personal data in what was reached (vocabulary ids).
    #[serde(deserialize_with = "crate::number::at_most::<_, _, 200>")]
    #[schemars(length(max = 200))]
    pub categories: Vec<String>,
    /// Groups of data subjects (the customer's collections reached).
    #[serde(deserialize_with = "crate::number::at_most::<_, _, 1000>")]
    #[schemars(length(max = 1000))]
    pub subject_groups: Vec<String>,
}

impl CustomerScope {
    /// A customer nothing was found for (not scoped, or nothing reached).
    pub fn empty(customer: CustomerId) -> Self {
        Self {
            customer,
            entries: 0,
            records: 0,
            data_subjects: 0,
            categories: Vec::new(),
            subject_groups: Vec::new(),
        }
    }
}

/// One customer's notice, as composed before sending: every field R4.3 asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeContent {
    /// Incident number.
    pub incident: u64,
    /// 0 for the first notice, then 1, 2, … for updates.
    pub step: u32,
    /// The customer addressed.
    pub customer: CustomerId,
    /// Its name.
    pub customer_name: String,
    /// The addressees (breach contacts), `name <email>`.
    pub addressees: Vec<String>,
    /// The processor's name.
    pub processor: String,
    /// Language of the notice.
    pub language: Lang,
    /// Date of the notice.
    #[schemars(with = "String")]
    pub notice_at: Timestamp,
    /// When the processor became aware.
    #[schemars(with = "String")]
    pub aware_at: Timestamp,
    /// The processor's deadline for the first notice.
    #[schemars(with = "String")]
    pub due_at: Timestamp,
    /// The controller's own deadline towards the supervisory authority.
    #[schemars(with = "String")]
    pub controller_due_at: Timestamp,
    /// What is known.
    pub details: Details,
    /// What the access log shows for this customer.
    pub scope: CustomerScope,
    /// For an update: what changed since the last notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_allows_only_listed_steps() {
        let none: &[String] = &[];
        let one = ["bakkerij-de-vries".to_string()];
        assert_eq!(
            transition(Status::Reported, Step::Triage, none).ok(),
            Some(Status::Triaged)
        );
        assert!(transition(Status::Reported, Step::Breach, none).is_err());
        assert!(transition(Status::Breach, Step::Close, &one).is_err());
        assert_eq!(
            transition(Status::Notified, Step::Close, none).ok(),
            Some(Status::Closed)
        );
        assert!(transition(Status::Closed, Step::Triage, none).is_err());
        assert_eq!(transition(Status::Breach, Step::Close, none).ok(), Some(Status::Closed));
        assert!(transition(Status::Triaged, Step::Close, none).is_err());
        let late = transition(Status::Notified, Step::Close, &one).expect_err("a customer waits");
        assert!(late.message.contains("bakkerij-de-vries"), "{}", late.message);
    }

    #[test]
    fn deadline_states() {
        let due: Timestamp = "2026-01-03T00:00:00Z".parse().unwrap_or_default();
        let h = |n: i64| due.checked_add(SignedDuration::from_hours(n)).unwrap_or(due);
        assert_eq!(deadline_state(due, None, h(-24)), DeadlineState::Open);
        assert_eq!(deadline_state(due, None, h(-2)), DeadlineState::DueSoon);
        assert_eq!(deadline_state(due, None, h(1)), DeadlineState::Overdue);
        assert_eq!(deadline_state(due, Some(h(-1)), h(5)), DeadlineState::Met);
        assert_eq!(deadline_state(due, Some(h(1)), h(5)), DeadlineState::MetLate);
    }
}

/// Where one notice goes: by e-mail to an address, or to the customer's webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The `i`-th e-mail recipient of the notice (in the order the notice lists them).
    Email(usize),
    /// The customer's webhook.
    Webhook,
}

/// The idempotency key of one delivery of a notice: the e-mail's Message-ID local part, or the
/// webhook's `Idempotency-Key`. Stable across retries and restarts, and unique per incident,
/// customer, step, language and recipient, so a receiver recognises a retry as the same
/// message.
pub fn delivery_key(incident: u64, customer: &CustomerId, step: u32, language: Lang, to: Recipient) -> String {
    let base = format!("art28-incident-{incident}-{customer}-{step}-{}", language.tag());
    match to {
        Recipient::Email(i) => format!("{base}-{i}"),
        Recipient::Webhook => format!("{base}-webhook"),
    }
}

/// Whether customers may be taken off an incident: not one that has been sent a notice about
/// it (`incident_transition_not_allowed`, naming the first such customer). `noticed` lists the
/// customers with a notice.
pub fn check_removal(incident: u64, remove: &[CustomerId], noticed: &[&CustomerId]) -> Result<(), Error> {
    match remove.iter().find(|c| noticed.contains(c)) {
        Some(c) => Err(Error::new(
            ErrorCode::IncidentTransitionNotAllowed,
            format!("customer `{c}` has been sent a notice about incident {incident}; it stays on the incident"),
        )),
        None => Ok(()),
    }
}
