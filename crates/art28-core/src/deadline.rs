//! The one deadlines view: every term that runs for a customer, whichever register it comes
//! from, in the order staff work through them (overdue first).
//!
//! Pure: a register computes its own terms from its events and the customer's agreement
//! (the incident register: [`crate::incident::notice_due`], calendar units kept) and hands
//! them here as [`Deadline`]s; [`order`] sorts them. No IO and no clock: `now` is passed in.
//!
//! Registers still to come (sub-processor notice periods, data-subject requests, retention
//! ends, credential expiry) add a variant to [`DeadlineKind`] and a constructor beside
//! [`breach_notice`]; [`DeadlineState`] and the ordering are shared by all of them.

use crate::ids::CustomerId;
use crate::incident::{self, Status};
use crate::lang::Lang;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

pub use crate::incident::DeadlineState;

/// What a deadline is for. Each register with terms adds its kinds here (sub-processor notice
/// periods, data-subject requests, retention ends, credential expiry, …); the wire form
/// ([`DeadlineKind::as_str`]) is stable, since feeds and UIDs are built from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// The processor's first notice of a personal data breach to an affected customer (R4):
    /// due at awareness plus the agreement's `breach.notice` term.
    BreachNotice,
    /// The processor's answer to a customer's request for the list of sub-processors (R5.1):
    /// due at the request plus the agreement's `subprocessors.list_on_request` term.
    SubprocessorList,
    /// The processor's decision on a customer's objection to a sub-processor change (R5.2):
    /// due on the day the change would take effect, which waits while the objection is open.
    SubprocessorObjection,
}

impl DeadlineKind {
    /// Every kind.
    pub const ALL: &'static [DeadlineKind] = &[
        DeadlineKind::BreachNotice,
        DeadlineKind::SubprocessorList,
        DeadlineKind::SubprocessorObjection,
    ];

    /// The stable wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::BreachNotice => "breach_notice",
            DeadlineKind::SubprocessorList => "subprocessor_list",
            DeadlineKind::SubprocessorObjection => "subprocessor_objection",
        }
    }

    /// Label in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            DeadlineKind::BreachNotice => lang.pick("melding datalek", "breach notice"),
            DeadlineKind::SubprocessorList => {
                lang.pick("lijst subverwerkers op verzoek", "sub-processor list on request")
            }
            DeadlineKind::SubprocessorObjection => lang.pick(
                "besluit op bezwaar tegen subverwerker",
                "decision on a sub-processor objection",
            ),
        }
    }
}

impl DeadlineState {
    /// Every state, in the order [`order`] puts them.
    pub const ALL: &'static [DeadlineState] = &[
        DeadlineState::Overdue,
        DeadlineState::DueSoon,
        DeadlineState::Open,
        DeadlineState::Met,
        DeadlineState::MetLate,
    ];

    /// The stable wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineState::Met => "met",
            DeadlineState::MetLate => "met_late",
            DeadlineState::Open => "open",
            DeadlineState::DueSoon => "due_soon",
            DeadlineState::Overdue => "overdue",
        }
    }

    /// Label in a language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            DeadlineState::Met => lang.pick("op tijd", "met"),
            DeadlineState::MetLate => lang.pick("te laat", "met late"),
            DeadlineState::Open => lang.pick("open", "open"),
            DeadlineState::DueSoon => lang.pick("verloopt binnenkort", "due soon"),
            DeadlineState::Overdue => lang.pick("verlopen", "overdue"),
        }
    }

    /// Whether the term still runs (nothing done yet).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            DeadlineState::Open | DeadlineState::DueSoon | DeadlineState::Overdue
        )
    }

    /// Place in the view: overdue, due soon, open, then done.
    fn rank(self) -> u8 {
        match self {
            DeadlineState::Overdue => 0,
            DeadlineState::DueSoon => 1,
            DeadlineState::Open => 2,
            DeadlineState::Met | DeadlineState::MetLate => 3,
        }
    }
}

/// What a deadline is about, in the register its kind names: for a breach notice the incident's
/// number and its summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadlineSubject {
    /// Number in its register (the incident's number).
    pub number: u64,
    /// Its title (the incident's summary).
    pub title: String,
}

/// One term that runs for one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    /// What it is for.
    pub kind: DeadlineKind,
    /// The customer it runs for.
    pub customer: CustomerId,
    /// What it is about.
    pub subject: DeadlineSubject,
    /// When it is due (RFC 3339, UTC).
    #[schemars(with = "String")]
    pub due: Timestamp,
    /// When what was due was done (for a breach notice: delivered), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub done: Option<Timestamp>,
    /// Where it stands at the moment the view was computed.
    pub state: DeadlineState,
}

impl Deadline {
    /// A stable identifier of this deadline, the same in every view and feed: kind, subject
    /// and customer (`breach_notice-12-bakkerij-de-vries`). Customer ids hold no `-` at the
    /// ends and subjects are numbers, so two deadlines never share one.
    pub fn key(&self) -> String {
        format!("{}-{}-{}", self.kind.as_str(), self.subject.number, self.customer)
    }
}

/// The first-notice deadline of one affected customer of an incident, with its state at `now`;
/// none once the incident was found not to be a breach.
pub fn breach_notice(
    incident: u64,
    title: &str,
    status: Status,
    customer: CustomerId,
    due: Timestamp,
    notified: Option<Timestamp>,
    now: Timestamp,
) -> Option<Deadline> {
    let state = incident::notice_deadline(status, due, notified, now)?;
    Some(Deadline {
        kind: DeadlineKind::BreachNotice,
        customer,
        subject: DeadlineSubject {
            number: incident,
            title: title.to_string(),
        },
        due,
        done: notified,
        state,
    })
}

/// A term of the sub-processor register for one customer: the answer to a list request
/// (`number`: the request) or the decision on an objection (`number`: the change), with its
/// state at `now`.
pub fn subprocessor_term(
    kind: DeadlineKind,
    number: u64,
    title: &str,
    customer: CustomerId,
    due: Timestamp,
    done: Option<Timestamp>,
    now: Timestamp,
) -> Deadline {
    Deadline {
        kind,
        customer,
        subject: DeadlineSubject {
            number,
            title: title.to_string(),
        },
        due,
        done,
        state: incident::deadline_state(due, done, now),
    }
}

/// How two deadlines compare in the view: overdue first (the most overdue first), then due
/// soon and open by due date (soonest first), then met and met late (most recently done
/// first); equal ones by kind, customer and subject, so the order is the same every time.
pub fn compare(a: &Deadline, b: &Deadline) -> Ordering {
    let tie = |a: &Deadline, b: &Deadline| {
        (a.kind, &a.customer, a.subject.number).cmp(&(b.kind, &b.customer, b.subject.number))
    };
    a.state.rank().cmp(&b.state.rank()).then_with(|| {
        if a.state.is_open() {
            a.due.cmp(&b.due)
        } else {
            let done = |d: &Deadline| d.done.unwrap_or(d.due);
            done(b).cmp(&done(a))
        }
        .then_with(|| tie(a, b))
    })
}

/// Sort deadlines into the view's order (see [`compare`]).
pub fn order(list: &mut [Deadline]) {
    list.sort_by(compare);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use jiff::SignedDuration;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn one(n: u64, customer: &str, due: &str, done: Option<&str>, now: Timestamp) -> Deadline {
        breach_notice(
            n,
            "a lost laptop",
            Status::Breach,
            customer.parse().expect("id"),
            at(due),
            done.map(at),
            now,
        )
        .expect("a breach has deadlines")
    }

    #[test]
    fn the_due_date_keeps_the_agreements_calendar_units() {
        let aware = at("2026-01-31T10:00:00Z");
        let hours: crate::duration::IsoDuration = "PT48H".parse().expect("term");
        let month: crate::duration::IsoDuration = "P1M".parse().expect("term");
        assert_eq!(incident::notice_due(aware, &hours), at("2026-02-02T10:00:00Z"));
        // One calendar month from 31 January is the last day of February, not 30 days.
        assert_eq!(incident::notice_due(aware, &month), at("2026-02-28T10:00:00Z"));
    }

    #[test]
    fn overdue_first_then_due_soon_then_open_then_done_most_recent_first() {
        let now = at("2026-11-22T10:00:00Z");
        let mut list = vec![
            one(
                1,
                "bakkerij-de-vries",
                "2026-11-20T10:00:00Z",
                Some("2026-11-19T10:00:00Z"),
                now,
            ),
            one(2, "bakkerij-de-vries", "2026-11-25T10:00:00Z", None, now),
            one(3, "bakkerij-de-vries", "2026-11-22T09:00:00Z", None, now),
            one(4, "bakkerij-de-vries", "2026-11-22T15:00:00Z", None, now),
            one(5, "bakkerij-de-vries", "2026-11-21T10:00:00Z", None, now),
            one(
                6,
                "bakkerij-de-vries",
                "2026-11-20T10:00:00Z",
                Some("2026-11-21T12:00:00Z"),
                now,
            ),
            one(7, "bakkerij-de-vries", "2026-11-24T10:00:00Z", None, now),
            one(8, "bakkerij-de-vries", "2026-11-22T12:00:00Z", None, now),
        ];
        order(&mut list);
        let seen: Vec<(u64, DeadlineState)> = list.iter().map(|d| (d.subject.number, d.state)).collect();
        assert_eq!(
            seen,
            vec![
                (5, DeadlineState::Overdue),
                (3, DeadlineState::Overdue),
                (8, DeadlineState::DueSoon),
                (4, DeadlineState::DueSoon),
                (7, DeadlineState::Open),
                (2, DeadlineState::Open),
                (6, DeadlineState::MetLate),
                (1, DeadlineState::Met),
            ]
        );
    }

    #[test]
    fn equal_deadlines_keep_one_order_and_distinct_keys() {
        let now = at("2026-11-22T10:00:00Z");
        let a = one(1, "hanzeveld-installatietechniek", "2026-11-24T10:00:00Z", None, now);
        let b = one(1, "bakkerij-de-vries", "2026-11-24T10:00:00Z", None, now);
        let mut list = vec![a.clone(), b.clone()];
        order(&mut list);
        assert_eq!(list, vec![b.clone(), a.clone()]);
        assert_eq!(b.key(), "breach_notice-1-bakkerij-de-vries");
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn the_state_follows_the_clock_and_a_non_breach_has_none() {
        let due = at("2026-11-24T10:00:00Z");
        let c: CustomerId = "bakkerij-de-vries".parse().expect("id");
        let state = |now: Timestamp, sent: Option<Timestamp>| {
            breach_notice(1, "x", Status::Breach, c.clone(), due, sent, now).map(|d| d.state)
        };
        let h = |n: i64| due.checked_add(SignedDuration::from_hours(n)).expect("time");
        assert_eq!(state(h(-24), None), Some(DeadlineState::Open));
        assert_eq!(state(h(-12), None), Some(DeadlineState::DueSoon));
        assert_eq!(state(h(1), None), Some(DeadlineState::Overdue));
        assert_eq!(state(h(5), Some(h(-1))), Some(DeadlineState::Met));
        assert_eq!(state(h(5), Some(h(2))), Some(DeadlineState::MetLate));
        assert_eq!(breach_notice(1, "x", Status::NotABreach, c, due, None, h(1)), None);
    }

    #[test]
    fn every_kind_and_state_has_a_label_in_both_languages_and_a_wire_form_serde_agrees_with() {
        for k in DeadlineKind::ALL {
            assert!(!k.label(Lang::Nl).is_empty() && !k.label(Lang::En).is_empty());
            assert_eq!(serde_json::to_value(k).expect("json"), k.as_str());
        }
        for s in DeadlineState::ALL {
            assert!(!s.label(Lang::Nl).is_empty() && !s.label(Lang::En).is_empty());
            assert_eq!(serde_json::to_value(s).expect("json"), s.as_str());
        }
    }
}
