//! Sub-processors and transfers (R5): the processor's register of the sub-processors it
//! engages, the changes it announces to its customers, each customer's answer, and the list in
//! force for a customer on a date.
//!
//! Pure: no IO and no clock. The service reads the clock and the agreements and hands them in;
//! the store keeps what is decided here.
//!
//! - [`Entry`]: one sub-processor as registered (validated with field-naming errors), with the
//!   transfer safeguard a location outside the EU/EEA needs ([`Entry::transfer_gap`], R5.4).
//! - [`ChangeKind`] and [`plan`]: what an announcement does for each customer it reaches:
//!   under general authorisation it waits the customer's notice period (an intended date too
//!   early for one customer refuses the whole announcement, naming that customer); under
//!   specific authorisation it waits the customer's written approval; a transfer the customer's
//!   agreement does not allow is refused for that customer with a rule code.
//! - [`transition`]: each customer's answer as a state machine (object, approve, reject, and
//!   the processor's decision on an objection).
//! - [`in_force`]: the list a customer's agreement started with, with every change that took
//!   effect for that customer by a date applied, so the document and the register agree.

use crate::agreement::{Authorisation, ProcessorAgreement, Safeguard, SubProcessor};
use crate::date::Date;
use crate::error::{Error, ErrorCode};
use crate::geo;
use crate::ids::CustomerId;
use crate::lang::{Lang, Text};
use crate::vocabulary::Vocabulary;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest text field, in characters.
pub const MAX_TEXT: usize = 4_000;
/// Most entries in a list field.
pub const MAX_LIST: usize = 50;

/// The written contract that binds a sub-processor to the same protection (R5.3): the signed
/// document is kept as a file; the register holds its date and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// The date it was signed.
    pub signed_on: Date,
    /// SHA-256 of the signed document, in lower-case hex.
    pub sha256: String,
    /// The document's file name.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// One sub-processor as the processor registers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Legal name; the key by which an agreement's list names it.
    pub name: String,
    /// The service it provides, in both languages.
    pub service: Text,
    /// Why the processor uses it, in both languages.
    pub purpose: Text,
    /// Where it processes (ISO country code, `EU` or `EEA`).
    pub location: String,
    /// A region or data centre there, e.g. a cloud region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Other countries it reaches the data from (support, maintenance).
    #[serde(default)]
    #[schemars(length(max = 50))]
    pub access_locations: Vec<String>,
    /// Categories of personal data it processes (vocabulary ids).
    #[serde(default)]
    #[schemars(length(max = 50))]
    pub categories: Vec<String>,
    /// The customers' systems it touches, e.g. `database`, `backups`, `e-mail`.
    #[serde(default)]
    #[schemars(length(max = 50))]
    pub systems: Vec<String>,
    /// The transfer safeguard, where a location is outside the EU/EEA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safeguard: Option<Safeguard>,
    /// The decision or clauses, e.g. `SCC 2021/914 module 3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safeguard_reference: Option<String>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::SubprocessorInvalid, msg)
}

fn check_text(name: &str, text: &str, max: usize) -> Result<(), Error> {
    if text.trim().is_empty() {
        return Err(bad(format!("`{name}` is required")));
    }
    if text.chars().count() > max {
        return Err(bad(format!("`{name}` is at most {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad(format!("`{name}` holds a control character")));
    }
    Ok(())
}

fn check_location(name: &str, code: &str) -> Result<(), Error> {
    if geo::is_location(code) {
        Ok(())
    } else {
        Err(bad(format!(
            "`{name}`: `{}` is not an ISO 3166-1 country code (such as `NL`), `EU` or `EEA`",
            code.chars().take(20).collect::<String>()
        )))
    }
}

impl Entry {
    /// Check every field; the first problem is the error, naming its field.
    pub fn validate(&self) -> Result<(), Error> {
        check_text("name", &self.name, 200)?;
        if self.name.contains('\n') {
            return Err(bad("`name` is one line"));
        }
        check_text("service.nl", &self.service.nl, MAX_TEXT)?;
        check_text("service.en", &self.service.en, MAX_TEXT)?;
        check_text("purpose.nl", &self.purpose.nl, MAX_TEXT)?;
        check_text("purpose.en", &self.purpose.en, MAX_TEXT)?;
        check_location("location", &self.location)?;
        if let Some(r) = &self.region {
            check_text("region", r, 200)?;
        }
        if self.access_locations.len() > MAX_LIST {
            return Err(bad(format!("`access_locations` holds at most {MAX_LIST} codes")));
        }
        for l in &self.access_locations {
            check_location("access_locations", l)?;
        }
        if self.categories.len() > MAX_LIST {
            return Err(bad(format!("`categories` holds at most {MAX_LIST} ids")));
        }
        for c in &self.categories {
            if Vocabulary::PersonalData.find(c).is_none() {
                let hint = Vocabulary::PersonalData
                    .suggest(c)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(bad(format!(
                    "`categories`: `{}` is not a category of personal data{hint}",
                    c.chars().take(60).collect::<String>()
                )));
            }
        }
        if self.systems.len() > MAX_LIST {
            return Err(bad(format!("`systems` holds at most {MAX_LIST} names")));
        }
        for s in &self.systems {
            check_text("systems", s, 200)?;
        }
        if let Some(r) = &self.safeguard_reference {
            check_text("safeguard_reference", r, 500)?;
        }
        if self.safeguard_reference.is_some() && self.safeguard.is_none() {
            return Err(bad("`safeguard_reference` needs a `safeguard`"));
        }
        if self.safeguard == Some(Safeguard::AdequacyDecision) {
            let without: Vec<&str> = self
                .third_countries()
                .into_iter()
                .filter(|l| !geo::has_adequacy_decision(l))
                .collect();
            if !without.is_empty() {
                return Err(bad(format!(
                    "`safeguard`: the Commission has no adequacy decision for {}; name the safeguard that covers it (standard contractual clauses, binding corporate rules, …)",
                    without.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Every location it processes in or reaches the data from, without repeats.
    pub fn locations(&self) -> Vec<&str> {
        let mut out: Vec<&str> = vec![self.location.as_str()];
        for l in &self.access_locations {
            if !out.contains(&l.as_str()) {
                out.push(l);
            }
        }
        out
    }

    /// The locations outside the EU/EEA.
    pub fn third_countries(&self) -> Vec<&str> {
        self.locations().into_iter().filter(|l| !geo::in_eea(l)).collect()
    }

    /// The third countries it reaches with neither an adequacy decision nor a safeguard (R5.4):
    /// such a sub-processor cannot be announced to anyone.
    pub fn transfer_gap(&self) -> Vec<&str> {
        // An adequacy decision is the Commission's about a country, not a safeguard one picks:
        // it covers only the countries that have one.
        let covered = |l: &str| match self.safeguard {
            None | Some(Safeguard::AdequacyDecision) => geo::has_adequacy_decision(l),
            Some(_) => true,
        };
        self.third_countries().into_iter().filter(|l| !covered(l)).collect()
    }

    /// As an agreement lists it.
    pub fn listed(&self, since: Option<Date>) -> SubProcessor {
        SubProcessor {
            name: self.name.clone(),
            service: self.service.clone(),
            location: self.location.clone(),
            region: self.region.clone(),
            safeguard: self.safeguard,
            since,
        }
    }
}

/// What an announced change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new sub-processor.
    Add,
    /// A sub-processor takes the place of another (`replaces`).
    Replace,
    /// A sub-processor is no longer used.
    Remove,
    /// A sub-processor already used moves to or adds a location.
    NewLocation,
}

impl ChangeKind {
    /// Every kind.
    pub const ALL: &'static [ChangeKind] = &[
        ChangeKind::Add,
        ChangeKind::Replace,
        ChangeKind::Remove,
        ChangeKind::NewLocation,
    ];

    /// The stable wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Add => "add",
            ChangeKind::Replace => "replace",
            ChangeKind::Remove => "remove",
            ChangeKind::NewLocation => "new_location",
        }
    }

    /// Label in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            ChangeKind::Add => lang.pick("nieuwe subverwerker", "new sub-processor"),
            ChangeKind::Replace => lang.pick("vervanging", "replacement"),
            ChangeKind::Remove => lang.pick("beëindiging", "removal"),
            ChangeKind::NewLocation => lang.pick("nieuwe locatie", "new location"),
        }
    }

    /// Whether the change brings processing somewhere new, so the customer may object or must
    /// approve; a removal takes nothing new on and is only told.
    pub fn needs_consent(self) -> bool {
        !matches!(self, ChangeKind::Remove)
    }
}

/// Where one customer stands on one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerState {
    /// Told, under general authorisation: takes effect on its date unless the customer objects.
    Announced,
    /// Under specific authorisation: waits for the customer's written approval.
    AwaitingApproval,
    /// The customer approved in writing.
    Approved,
    /// The customer did not approve: the change does not take effect for it.
    Rejected,
    /// The customer objected; the processor has not decided yet. Nothing takes effect.
    Objected,
    /// The processor withdrew the change for this customer.
    Withdrawn,
    /// The processor offered an alternative; the change does not take effect for this customer.
    AlternativeOffered,
    /// The processor went ahead over the objection; the customer may end the agreement where it
    /// grants that right.
    Overruled,
    /// The customer's agreement does not allow the transfer the change would make (R5.4).
    Refused,
}

impl CustomerState {
    /// Every state.
    pub const ALL: &'static [CustomerState] = &[
        CustomerState::Announced,
        CustomerState::AwaitingApproval,
        CustomerState::Approved,
        CustomerState::Rejected,
        CustomerState::Objected,
        CustomerState::Withdrawn,
        CustomerState::AlternativeOffered,
        CustomerState::Overruled,
        CustomerState::Refused,
    ];

    /// The stable wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerState::Announced => "announced",
            CustomerState::AwaitingApproval => "awaiting_approval",
            CustomerState::Approved => "approved",
            CustomerState::Rejected => "rejected",
            CustomerState::Objected => "objected",
            CustomerState::Withdrawn => "withdrawn",
            CustomerState::AlternativeOffered => "alternative_offered",
            CustomerState::Overruled => "overruled",
            CustomerState::Refused => "refused",
        }
    }

    /// From the wire form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// Label in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            CustomerState::Announced => lang.pick("aangekondigd", "announced"),
            CustomerState::AwaitingApproval => lang.pick("wacht op toestemming", "awaiting approval"),
            CustomerState::Approved => lang.pick("goedgekeurd", "approved"),
            CustomerState::Rejected => lang.pick("niet goedgekeurd", "not approved"),
            CustomerState::Objected => lang.pick("bezwaar gemaakt", "objected"),
            CustomerState::Withdrawn => lang.pick("ingetrokken", "withdrawn"),
            CustomerState::AlternativeOffered => lang.pick("alternatief aangeboden", "alternative offered"),
            CustomerState::Overruled => lang.pick("doorgezet na bezwaar", "went ahead over the objection"),
            CustomerState::Refused => {
                lang.pick("geweigerd: doorgifte niet toegestaan", "refused: transfer not allowed")
            }
        }
    }

    /// Whether the change applies to the customer once its date has come.
    pub fn takes_effect(self) -> bool {
        matches!(
            self,
            CustomerState::Announced | CustomerState::Approved | CustomerState::Overruled
        )
    }

    /// Whether someone still has to act: the customer (approval) or the processor (objection).
    pub fn is_open(self) -> bool {
        matches!(self, CustomerState::AwaitingApproval | CustomerState::Objected)
    }
}

impl ChangeKind {
    /// From the wire form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// The processor's decision on an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The change is withdrawn for this customer.
    Withdrawn,
    /// An alternative is offered; the change does not take effect for this customer.
    AlternativeOffered,
    /// The change goes ahead.
    Overruled,
}

/// A step on one customer's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The customer objects (general authorisation, before the objection deadline).
    Object,
    /// The customer approves (specific authorisation).
    Approve,
    /// The customer does not approve (specific authorisation).
    Reject,
    /// The processor decides on an objection.
    Decide(Decision),
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Step::Object => "object",
            Step::Approve => "approve",
            Step::Reject => "reject",
            Step::Decide(_) => "decide",
        }
    }
}

/// Where one customer's answer may go. Refused with `subprocessor_step_not_allowed`, naming
/// what may come next.
pub fn transition(from: CustomerState, step: Step) -> Result<CustomerState, Error> {
    use CustomerState as S;
    let to = match (from, step) {
        (S::Announced, Step::Object) => S::Objected,
        (S::AwaitingApproval, Step::Approve) => S::Approved,
        (S::AwaitingApproval, Step::Reject) => S::Rejected,
        (S::Objected, Step::Decide(Decision::Withdrawn)) => S::Withdrawn,
        (S::Objected, Step::Decide(Decision::AlternativeOffered)) => S::AlternativeOffered,
        (S::Objected, Step::Decide(Decision::Overruled)) => S::Overruled,
        _ => {
            let next = match from {
                S::Announced => "an objection from the customer",
                S::AwaitingApproval => "the customer's approval or rejection",
                S::Objected => "the processor's decision",
                _ => "nothing: this customer's answer is settled",
            };
            return Err(Error::new(
                ErrorCode::SubprocessorStepNotAllowed,
                format!(
                    "a change that is `{}` for this customer cannot take step `{}`; next is {next}",
                    from.as_str(),
                    step.as_str()
                ),
            ));
        }
    };
    Ok(to)
}

/// A date plus a term in calendar units (`P4W`, `P1M`, `P30D`).
pub fn date_plus(day: Date, term: &crate::duration::IsoDuration) -> Date {
    day.0.checked_add(term.span()).map(Date).unwrap_or(day)
}

/// One customer an announcement reaches, with the agreement in force for it.
#[derive(Debug, Clone, Copy)]
pub struct Reached<'a> {
    /// The customer.
    pub customer: &'a CustomerId,
    /// Its agreement in force on the day of the announcement.
    pub agreement: &'a ProcessorAgreement,
}

/// What an announcement starts for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The customer.
    pub customer: CustomerId,
    /// Its first state.
    pub state: CustomerState,
    /// The rule that refused it, for [`CustomerState::Refused`].
    pub rule: Option<ErrorCode>,
    /// The last day it may object (general authorisation).
    pub objection_until: Option<Date>,
    /// The authorisation its agreement gives.
    pub authorisation: Authorisation,
}

/// Whether a customer's agreement allows data to go to `location`: inside the EU/EEA, named
/// among its locations, or a transfer to that country with a safeguard.
pub fn allows_location(agreement: &ProcessorAgreement, location: &str) -> bool {
    if geo::in_eea(location) {
        return true;
    }
    let locs = &agreement.locations;
    locs.storage.iter().chain(locs.access.iter()).any(|l| l == location)
        || agreement
            .transfers
            .iter()
            .any(|t| t.country == location && (t.safeguard.is_some() || geo::has_adequacy_decision(location)))
}

/// Judge an announcement for every customer it reaches: `entry` is the sub-processor the
/// change brings in (for a removal, the one that goes), `announced` the day it is told,
/// `effective` its intended date.
///
/// - A sub-processor with a transfer gap is refused for everyone (`transfer_without_safeguard`).
/// - An intended date before `announced` plus a general-authorisation customer's notice period
///   refuses the whole announcement (`subprocessor_notice_too_short`), naming each such
///   customer with its earliest date.
/// - For a customer whose agreement does not allow one of its locations the change is
///   [`CustomerState::Refused`] with `transfer_not_in_agreement`; the others go on.
pub fn plan(
    kind: ChangeKind,
    entry: &Entry,
    reached: &[Reached<'_>],
    announced: Date,
    effective: Date,
) -> Result<Vec<Planned>, Error> {
    if effective < announced {
        return Err(bad("`effective` is before the day of the announcement"));
    }
    if reached.is_empty() {
        return Err(bad("the announcement reaches no customer with an agreement in force"));
    }
    if kind.needs_consent() {
        let gap = entry.transfer_gap();
        if !gap.is_empty() {
            return Err(Error::new(
                ErrorCode::TransferWithoutSafeguard,
                format!(
                    "`{}` reaches {} without an adequacy decision and without a safeguard (GDPR art 46): register the safeguard before announcing it",
                    entry.name,
                    gap.join(", ")
                ),
            ));
        }
    }
    let mut too_early = Vec::new();
    let mut out = Vec::new();
    for r in reached {
        let terms = &r.agreement.subprocessors;
        let earliest = date_plus(announced, &terms.notice);
        if terms.authorisation == Authorisation::General && effective < earliest {
            too_early.push(format!(
                "`{}` (notice {}: {earliest} at the earliest)",
                r.customer, terms.notice
            ));
            continue;
        }
        let refused = kind.needs_consent() && entry.locations().iter().any(|l| !allows_location(r.agreement, l));
        let (state, rule) = if refused {
            (CustomerState::Refused, Some(ErrorCode::TransferNotInAgreement))
        } else if !kind.needs_consent() {
            (CustomerState::Announced, None)
        } else {
            match terms.authorisation {
                Authorisation::General => (CustomerState::Announced, None),
                Authorisation::Specific => (CustomerState::AwaitingApproval, None),
            }
        };
        let objection_until = (state == CustomerState::Announced && kind.needs_consent()).then(|| {
            let period = terms.objection_period.as_ref().unwrap_or(&terms.notice);
            let last = date_plus(announced, period);
            // Never past the day before it takes effect: after that there is nothing to stop.
            let before = Date(effective.0.yesterday().unwrap_or(effective.0));
            if last > before { before } else { last }
        });
        out.push(Planned {
            customer: r.customer.clone(),
            state,
            rule,
            objection_until,
            authorisation: terms.authorisation,
        });
    }
    if !too_early.is_empty() {
        return Err(Error::new(
            ErrorCode::SubprocessorNoticeTooShort,
            format!(
                "the change would take effect on {effective}, before the notice period of {} has run",
                too_early.join(", ")
            ),
        )
        .with_details(too_early));
    }
    Ok(out)
}

/// The day the change takes effect for a customer, if it does: its intended date, or, when
/// the customer's approval or the processor's decision came later, the day after that.
pub fn effective_for(state: CustomerState, effective: Date, decided: Option<Date>) -> Option<Date> {
    if !state.takes_effect() {
        return None;
    }
    match decided {
        Some(d) if d >= effective => Some(Date(d.0.tomorrow().unwrap_or(d.0))),
        _ => Some(effective),
    }
}

/// A change as it applies to one customer, for [`in_force`].
#[derive(Debug, Clone)]
pub struct Applied<'a> {
    /// What it does.
    pub kind: ChangeKind,
    /// The sub-processor it brings in, moves, or removes.
    pub entry: &'a Entry,
    /// For a replacement: the name of the one it replaces.
    pub replaces: Option<&'a str>,
    /// The day it takes effect for this customer (`None`: it does not).
    pub effective: Option<Date>,
}

/// Whether two legal names are the same sub-processor's (compared in lower case, as the register
/// keeps names unique).
pub fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// The sub-processors in force for a customer on `on`: its agreement's list, with every change
/// that took effect for it by then applied in date order (names compared without case).
pub fn in_force(start: &[SubProcessor], changes: &[Applied<'_>], on: Date) -> Vec<SubProcessor> {
    let mut list: Vec<SubProcessor> = start.to_vec();
    let mut due: Vec<&Applied<'_>> = changes
        .iter()
        .filter(|c| c.effective.is_some_and(|d| d <= on))
        .collect();
    due.sort_by_key(|c| c.effective);
    let same = |a: &str, b: &str| same_name(a, b);
    for c in due {
        let name = c.entry.name.as_str();
        match c.kind {
            ChangeKind::Remove => list.retain(|s| !same(&s.name, name)),
            ChangeKind::Add | ChangeKind::NewLocation | ChangeKind::Replace => {
                if let Some(old) = c.replaces {
                    list.retain(|s| !same(&s.name, old));
                }
                let since = list
                    .iter()
                    .find(|s| same(&s.name, name))
                    .and_then(|s| s.since)
                    .or(c.effective);
                list.retain(|s| !same(&s.name, name));
                list.push(c.entry.listed(since));
            }
        }
    }
    list
}

/// The due date of a customer's request for the list (R5.1): the moment of the request plus the
/// agreement's `list_on_request` term (calendar units kept, in UTC); `None` where the agreement
/// sets no term.
pub fn list_due(requested: Timestamp, agreement: &ProcessorAgreement) -> Option<Timestamp> {
    let term = agreement.subprocessors.list_on_request.as_ref()?;
    Some(
        requested
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_add(term.span())
            .map(|z| z.timestamp())
            .unwrap_or(requested),
    )
}

/// The idempotency key of one announcement delivery: stable per change, customer, channel and
/// recipient, so the receiver deduplicates a retry.
pub fn delivery_key(change: u64, customer: &CustomerId, language: Lang, to: crate::incident::Recipient) -> String {
    let base = format!("art28-subprocessor-{change}-{customer}-{}", language.tag());
    match to {
        crate::incident::Recipient::Email(i) => format!("{base}-{i}"),
        crate::incident::Recipient::Webhook => format!("{base}-webhook"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(location: &str) -> Entry {
        Entry {
            name: "Wolkenveld Cloud GmbH".into(),
            service: Text {
                nl: "Hosting".into(),
                en: "Hosting".into(),
            },
            purpose: Text {
                nl: "De dienst draaien".into(),
                en: "Running the service".into(),
            },
            location: location.into(),
            region: None,
            access_locations: vec![],
            categories: vec![],
            systems: vec![],
            safeguard: None,
            safeguard_reference: None,
        }
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn fields_are_checked_by_name() {
        assert!(entry("DE").validate().is_ok());
        let e = entry("XX").validate().unwrap_err();
        assert!(e.message.contains("`location`"), "{}", e.message);
        let mut x = entry("NL");
        x.categories = vec!["emial".into()];
        let e = x.validate().unwrap_err();
        assert!(e.message.contains("`categories`"), "{}", e.message);
        let mut x = entry("NL");
        x.name = " ".into();
        assert!(x.validate().unwrap_err().message.contains("`name`"));
    }

    #[test]
    fn a_third_country_needs_adequacy_or_a_safeguard() {
        assert!(entry("DE").transfer_gap().is_empty());
        assert!(entry("CH").transfer_gap().is_empty());
        assert_eq!(entry("IN").transfer_gap(), vec!["IN"]);
        let mut x = entry("NL");
        x.access_locations = vec!["IN".into(), "US".into()];
        assert_eq!(x.transfer_gap(), vec!["IN"]);
        x.safeguard = Some(Safeguard::StandardContractualClauses);
        assert!(x.transfer_gap().is_empty());
        // An adequacy decision covers only the countries that have one.
        x.safeguard = Some(Safeguard::AdequacyDecision);
        assert_eq!(x.transfer_gap(), vec!["IN"]);
        let e = x.validate().unwrap_err();
        assert!(
            e.message.contains("`safeguard`") && e.message.contains("IN"),
            "{}",
            e.message
        );
        x.access_locations = vec!["US".into()];
        assert!(x.transfer_gap().is_empty() && x.validate().is_ok());
    }

    #[test]
    fn steps_follow_the_states() {
        use CustomerState as S;
        assert_eq!(transition(S::Announced, Step::Object).unwrap(), S::Objected);
        assert_eq!(
            transition(S::Objected, Step::Decide(Decision::Overruled)).unwrap(),
            S::Overruled
        );
        assert_eq!(transition(S::AwaitingApproval, Step::Approve).unwrap(), S::Approved);
        let e = transition(S::Announced, Step::Approve).unwrap_err();
        assert_eq!(e.code, ErrorCode::SubprocessorStepNotAllowed);
        assert!(transition(S::Withdrawn, Step::Object).is_err());
        assert!(transition(S::Refused, Step::Object).is_err());
    }

    #[test]
    fn the_document_list_follows_the_changes_that_took_effect() {
        let old = entry("DE");
        let start = vec![old.listed(Some(d("2024-03-01")))];
        let mut new = entry("NL");
        new.name = "Briefduif Mailservices B.V.".into();
        let changes = [Applied {
            kind: ChangeKind::Replace,
            entry: &new,
            replaces: Some("wolkenveld cloud gmbh"),
            effective: Some(d("2027-01-10")),
        }];
        assert_eq!(in_force(&start, &changes, d("2027-01-09"))[0].name, old.name);
        let after = in_force(&start, &changes, d("2027-01-10"));
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].name, new.name);
        assert_eq!(after[0].since, Some(d("2027-01-10")));
        let never = [Applied {
            effective: None,
            ..changes[0].clone()
        }];
        assert_eq!(in_force(&start, &never, d("2030-01-01"))[0].name, old.name);
    }

    #[test]
    fn a_late_decision_moves_the_day_it_takes_effect() {
        let eff = d("2027-02-01");
        assert_eq!(effective_for(CustomerState::Announced, eff, None), Some(eff));
        assert_eq!(
            effective_for(CustomerState::Approved, eff, Some(d("2027-02-03"))),
            Some(d("2027-02-04"))
        );
        assert_eq!(effective_for(CustomerState::Objected, eff, None), None);
    }

    fn saas() -> ProcessorAgreement {
        crate::agreement::parse_one(
            "saas-standard.toml",
            include_bytes!("../../../examples/agreements/saas-standard.toml"),
        )
        .unwrap()
    }

    #[test]
    fn an_announcement_is_judged_for_each_customer() {
        let general = saas();
        let mut specific = saas();
        specific.subprocessors.authorisation = Authorisation::Specific;
        let (a, b): (CustomerId, CustomerId) = ("klant-a".parse().unwrap(), "klant-b".parse().unwrap());
        let reached = [
            Reached {
                customer: &a,
                agreement: &general,
            },
            Reached {
                customer: &b,
                agreement: &specific,
            },
        ];
        let day = d("2026-12-03");
        // Three weeks is too short for the general customer's P4W; the specific one has no
        // notice to wait for, so only `a` is named.
        let e = plan(ChangeKind::Add, &entry("NL"), &reached, day, d("2026-12-24")).unwrap_err();
        assert_eq!(e.code, ErrorCode::SubprocessorNoticeTooShort);
        assert!(
            e.message.contains("`klant-a`") && !e.message.contains("klant-b"),
            "{}",
            e.message
        );
        let ok = plan(ChangeKind::Add, &entry("NL"), &reached, day, d("2026-12-31")).unwrap();
        assert_eq!(ok[0].state, CustomerState::Announced);
        assert_eq!(ok[0].objection_until, Some(d("2026-12-30")));
        assert_eq!(ok[1].state, CustomerState::AwaitingApproval);
        // A third country: with no safeguard refused for all; with SCC refused for each customer
        // whose agreement does not allow it (the SaaS agreement lists no transfers).
        let e = plan(ChangeKind::Add, &entry("IN"), &reached, day, d("2027-02-01")).unwrap_err();
        assert_eq!(e.code, ErrorCode::TransferWithoutSafeguard);
        let mut scc = entry("IN");
        scc.safeguard = Some(Safeguard::StandardContractualClauses);
        let p = plan(ChangeKind::Add, &scc, &reached, day, d("2027-02-01")).unwrap();
        assert!(
            p.iter()
                .all(|p| p.state == CustomerState::Refused && p.rule == Some(ErrorCode::TransferNotInAgreement))
        );
        // A removal is only told.
        let p = plan(ChangeKind::Remove, &entry("IN"), &reached, day, d("2027-02-01")).unwrap();
        assert!(
            p.iter()
                .all(|p| p.state == CustomerState::Announced && p.objection_until.is_none())
        );
    }

    #[test]
    fn four_weeks_is_calendar_weeks() {
        let t: crate::duration::IsoDuration = "P4W".parse().unwrap();
        assert_eq!(date_plus(d("2026-12-03"), &t), d("2026-12-31"));
        let m: crate::duration::IsoDuration = "P1M".parse().unwrap();
        assert_eq!(date_plus(d("2027-01-31"), &m), d("2027-02-28"));
    }
}
