//! The deadlines view as an iCalendar feed (RFC 5545), for staff's calendars.
//!
//! One `VEVENT` per deadline that still runs (open, due soon, overdue), starting at its due
//! moment in UTC. The `UID` is the deadline's stable key, so a calendar that fetches the feed
//! again updates the event instead of adding a second one. Written by hand rather than with a
//! crate: the few properties used need only RFC 5545's text escaping (3.3.11), line folding
//! at 75 octets (3.1) and CRLF line ends, which the tests below check.

use art28_core::deadline::Deadline;
use art28_core::lang::Lang;
use jiff::Timestamp;

/// The feed's `PRODID`.
pub const PRODID: &str = "-//art28//deadlines//EN";

/// The iCalendar document for `deadlines` (only those still running become events), stamped
/// `stamp` (the moment the view was computed), with summaries in `lang`.
pub fn calendar(deadlines: &[Deadline], stamp: Timestamp, lang: Lang) -> String {
    let mut out = String::new();
    let dtstamp = utc(stamp);
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:{PRODID}"));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(
        &mut out,
        &format!("X-WR-CALNAME:{}", text(lang.pick("art28 termijnen", "art28 deadlines"))),
    );
    for d in deadlines.iter().filter(|d| d.state.is_open()) {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}@art28", d.key()));
        line(&mut out, &format!("DTSTAMP:{dtstamp}"));
        line(&mut out, &format!("DTSTART:{}", utc(d.due)));
        line(&mut out, &format!("SUMMARY:{}", text(&summary(d, lang))));
        line(
            &mut out,
            &format!(
                "DESCRIPTION:{}",
                text(&format!(
                    "{}: {}\n{}: {}\n{}: {}",
                    lang.pick("Klant", "Customer"),
                    d.customer,
                    lang.pick("Stand", "State"),
                    d.state.label(lang),
                    lang.pick("Uiterlijk", "Due"),
                    d.due
                ))
            ),
        );
        line(&mut out, &format!("CATEGORIES:{}", text(d.kind.as_str())));
        line(&mut out, "TRANSP:TRANSPARENT");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// What the event is called: the kind, the incident and its title, and the customer.
pub fn summary(d: &Deadline, lang: Lang) -> String {
    format!(
        "{}: incident {} \u{2014} {} ({})",
        capitalised(d.kind.label(lang)),
        d.subject.number,
        d.subject.title,
        d.customer
    )
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A moment as an RFC 5545 DATE-TIME in UTC: `20261124T100000Z`.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaped (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as
/// `\n`; other control characters, which TEXT may not hold, become spaces.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Append one content line, folded (RFC 5545 3.1): at most 75 octets per line, never inside
/// a UTF-8 sequence, each continuation starting with a space; every line ends in CRLF.
fn line(out: &mut String, content: &str) {
    let mut room = 75;
    let mut used = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if used + n > room {
            out.push_str("\r\n ");
            // The leading space counts towards the continuation's 75 octets.
            room = 74;
            used = 0;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use art28_core::deadline::{DeadlineKind, DeadlineState, DeadlineSubject};

    fn deadline(n: u64, title: &str, state: DeadlineState) -> Deadline {
        Deadline {
            kind: DeadlineKind::BreachNotice,
            customer: "bakkerij-de-vries".parse().expect("id"),
            subject: DeadlineSubject {
                number: n,
                title: title.into(),
            },
            due: "2026-11-24T10:00:00Z".parse().expect("time"),
            done: None,
            state,
        }
    }

    /// Undo folding: a CRLF followed by a space or tab joins the lines.
    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "").replace("\r\n\t", "")
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
        assert_eq!(text("bell\u{7}"), "bell ");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(100));
        line(&mut out, &long);
        assert!(out.ends_with("\r\n"));
        for l in out.trim_end_matches("\r\n").split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert!(
            out.split("\r\n")
                .skip(1)
                .filter(|l| !l.is_empty())
                .all(|l| l.starts_with(' '))
        );
        assert_eq!(unfold(&out), format!("{long}\r\n"));
        let mut short = String::new();
        line(&mut short, "VERSION:2.0");
        assert_eq!(short, "VERSION:2.0\r\n");
    }

    #[test]
    fn one_event_per_running_deadline_with_a_stable_uid() {
        let stamp: Timestamp = "2026-11-22T10:00:00Z".parse().expect("time");
        let list = [
            deadline(1, "Laptop kwijt, wachtwoorden; back-up", DeadlineState::Overdue),
            deadline(2, "Done already", DeadlineState::Met),
            deadline(3, &"x".repeat(200), DeadlineState::Open),
        ];
        let ics = calendar(&list, stamp, Lang::En);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "every line ends in CRLF");
        assert_eq!(ics.matches("BEGIN:VEVENT\r\n").count(), 2);
        let flat = unfold(&ics);
        assert!(flat.contains("UID:breach_notice-1-bakkerij-de-vries@art28\r\n"));
        assert!(flat.contains("DTSTART:20261124T100000Z\r\n"));
        assert!(flat.contains("DTSTAMP:20261122T100000Z\r\n"));
        assert!(flat.contains(
            "SUMMARY:Breach notice: incident 1 \u{2014} Laptop kwijt\\, wachtwoorden\\; back-up (bakkerij-de-vries)\r\n"
        ));
        assert!(!flat.contains("incident 2 "));
        assert_eq!(calendar(&list, stamp, Lang::En), ics, "the same view, the same bytes");
        let nl = calendar(&list, stamp, Lang::Nl);
        assert!(unfold(&nl).contains("SUMMARY:Melding datalek: incident 1"));
    }
}
