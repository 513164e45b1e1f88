//! The sub-processor list in force for a customer on a date, as a document (HTML) or a sheet
//! (CSV), and the announcement of a change as its e-mail says it, in Dutch or English.

use crate::markdown::inline;
use art28_core::agreement::SubProcessor;
use art28_core::date::Date;
use art28_core::lang::Lang;
use art28_core::subprocessor::{ChangeKind, CustomerState};
use art28_core::{Error, ErrorCode};
use std::fmt::Write;

/// One line of the list: the sub-processor as the agreement lists it, with what the register
/// adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// As listed.
    pub listed: SubProcessor,
    /// Other countries it reaches the data from.
    pub access_locations: Vec<String>,
    /// The decision or clauses of its safeguard.
    pub safeguard_reference: Option<String>,
}

/// The list of one customer on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<'a> {
    /// The processor's name.
    pub processor: &'a str,
    /// The customer's name.
    pub customer: &'a str,
    /// The date it is in force on.
    pub on: Date,
    /// Its lines.
    pub lines: &'a [Line],
}

/// A transfer safeguard in words, capitalised; for none, that none is needed (the EU/EEA or an
/// adequate country).
pub fn safeguard(s: Option<art28_core::agreement::Safeguard>, lang: Lang) -> String {
    s.map_or_else(
        || {
            lang.pick("geen (EU/EER of adequaat)", "none (EU/EEA or adequate)")
                .to_string()
        },
        |g| crate::words::capitalise(crate::words::safeguard(g, lang)),
    )
}

fn headers(lang: Lang) -> [&'static str; 8] {
    [
        lang.pick("Subverwerker", "Sub-processor"),
        lang.pick("Dienst", "Service"),
        lang.pick("Locatie", "Location"),
        lang.pick("Regio of datacentrum", "Region or data centre"),
        lang.pick("Toegang vanuit", "Accessed from"),
        lang.pick("Waarborg", "Safeguard"),
        lang.pick("Referentie", "Reference"),
        lang.pick("Sinds", "Since"),
    ]
}

fn cells(l: &Line, lang: Lang) -> [String; 8] {
    let s = &l.listed;
    [
        s.name.clone(),
        s.service.get(lang).to_string(),
        s.location.clone(),
        s.region.clone().unwrap_or_default(),
        l.access_locations.join(", "),
        safeguard(s.safeguard, lang),
        l.safeguard_reference.clone().unwrap_or_default(),
        s.since.map(|d| d.to_string()).unwrap_or_default(),
    ]
}

/// The list as a complete HTML document (printable; a browser saves it as PDF).
pub fn list_html(list: &List<'_>, lang: Lang) -> Result<String, Error> {
    let title = match lang {
        Lang::Nl => format!(
            "Subverwerkers van {} voor {} op {}",
            list.processor, list.customer, list.on
        ),
        Lang::En => format!(
            "Sub-processors of {} for {} on {}",
            list.processor, list.customer, list.on
        ),
    };
    let mut md = format!("# {}\n\n", inline(&title));
    if list.lines.is_empty() {
        let _ = writeln!(
            md,
            "{}",
            lang.pick(
                "Er zijn geen subverwerkers ingeschakeld.",
                "No sub-processors are engaged."
            )
        );
    } else {
        let h = headers(lang);
        let _ = writeln!(md, "| {} |", h.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(h.len()));
        for l in list.lines {
            let row: Vec<String> = cells(l, lang).iter().map(|c| inline(c).replace('|', "\\|")).collect();
            let _ = writeln!(md, "| {} |", row.join(" | "));
        }
    }
    crate::document(lang, &title, &md)
}

/// The HTML of the list's table alone, for a page of one's own.
pub fn list_table(list: &List<'_>, lang: Lang) -> String {
    let h = headers(lang);
    let mut md = format!("| {} |\n|{}\n", h.join(" | "), "---|".repeat(h.len()));
    for l in list.lines {
        let row: Vec<String> = cells(l, lang).iter().map(|c| inline(c).replace('|', "\\|")).collect();
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    crate::html::body(&md)
}

/// The list as CSV (RFC 4180, a header row, fields quoted where needed; a field that a sheet
/// would read as a formula starts with `'`).
pub fn list_csv(list: &List<'_>, lang: Lang) -> String {
    let field = |s: &str| {
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_string()
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let mut out = String::new();
    let h = headers(lang);
    let _ = write!(out, "{}\r\n", h.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
    for l in list.lines {
        let row: Vec<String> = cells(l, lang).iter().map(|c| field(c)).collect();
        let _ = write!(out, "{}\r\n", row.join(","));
    }
    out
}

/// What an announcement e-mail says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement<'a> {
    /// The change's number.
    pub change: u64,
    /// What it does.
    pub kind: ChangeKind,
    /// The sub-processor's name.
    pub name: &'a str,
    /// The service it provides.
    pub service: &'a str,
    /// Its locations.
    pub locations: &'a [&'a str],
    /// Its safeguard.
    pub safeguard: Option<art28_core::agreement::Safeguard>,
    /// For a replacement: the name of the one replaced.
    pub replaces: Option<&'a str>,
    /// The processor's explanation.
    pub note: &'a str,
    /// The intended date.
    pub effective: Date,
    /// The processor.
    pub processor: &'a str,
    /// The customer.
    pub customer: &'a str,
    /// Where the customer stands: `announced` (may object), `awaiting_approval`, `refused`,
    /// or the state after an answer.
    pub state: CustomerState,
    /// Until when it may object.
    pub objection_until: Option<Date>,
    /// The rule that refused it.
    pub rule: Option<&'a str>,
    /// For an answer: the note of the decision.
    pub answer: Option<&'a str>,
    /// Until when the customer may end the agreement.
    pub termination_until: Option<Date>,
}

/// Subject and body of an announcement, in `lang`.
pub fn announcement(a: &Announcement<'_>, lang: Lang) -> (String, String) {
    let subject = match (a.answer.is_some(), lang) {
        (false, Lang::Nl) => format!("Wijziging subverwerkers {}: {} — {}", a.change, a.name, a.customer),
        (false, Lang::En) => format!("Sub-processor change {}: {} — {}", a.change, a.name, a.customer),
        (true, Lang::Nl) => format!("Besluit over wijziging subverwerkers {} — {}", a.change, a.customer),
        (true, Lang::En) => format!("Decision on sub-processor change {} — {}", a.change, a.customer),
    };
    let mut b = String::new();
    let _ = writeln!(
        b,
        "{}\n",
        match lang {
            Lang::Nl => format!(
                "{} kondigt een wijziging aan in de subverwerkers die uw gegevens verwerken.",
                a.processor
            ),
            Lang::En => format!(
                "{} announces a change to the sub-processors that process your data.",
                a.processor
            ),
        }
    );
    let line = |b: &mut String, label: &str, value: &str| {
        let _ = writeln!(b, "{label}: {value}");
    };
    line(
        &mut b,
        lang.pick("Wijziging", "Change"),
        &format!("{} ({})", a.change, a.kind.label(lang)),
    );
    line(&mut b, lang.pick("Subverwerker", "Sub-processor"), a.name);
    line(&mut b, lang.pick("Dienst", "Service"), a.service);
    line(&mut b, lang.pick("Locaties", "Locations"), &a.locations.join(", "));
    line(
        &mut b,
        lang.pick("Waarborg", "Safeguard"),
        &safeguard(a.safeguard, lang),
    );
    if let Some(r) = a.replaces {
        line(&mut b, lang.pick("Vervangt", "Replaces"), r);
    }
    line(
        &mut b,
        lang.pick("Beoogde ingangsdatum", "Intended effective date"),
        &a.effective.to_string(),
    );
    if !a.note.trim().is_empty() {
        let _ = writeln!(b, "\n{}", a.note.trim());
    }
    let _ = writeln!(b);
    let what = match (a.state, lang) {
        (CustomerState::Announced, Lang::Nl) => format!(
            "U kunt tot en met {} met redenen bezwaar maken in het portaal. Zolang uw bezwaar openstaat, gaat de wijziging voor u niet in.",
            a.objection_until.map(|d| d.to_string()).unwrap_or_default()
        ),
        (CustomerState::Announced, Lang::En) => format!(
            "You may object, with reasons, in the portal until {} inclusive. While your objection is open, the change does not take effect for you.",
            a.objection_until.map(|d| d.to_string()).unwrap_or_default()
        ),
        (CustomerState::AwaitingApproval, Lang::Nl) => {
            "Uw overeenkomst vraagt uw specifieke schriftelijke toestemming. De wijziging gaat voor u pas in nadat u die in het portaal heeft gegeven.".to_string()
        }
        (CustomerState::AwaitingApproval, Lang::En) => {
            "Your agreement requires your specific written authorisation. The change takes effect for you only after you give it in the portal.".to_string()
        }
        (CustomerState::Refused, Lang::Nl) => format!(
            "Uw overeenkomst staat deze doorgifte niet toe ({}); de wijziging gaat voor u niet in.",
            a.rule.unwrap_or_default()
        ),
        (CustomerState::Refused, Lang::En) => format!(
            "Your agreement does not allow this transfer ({}); the change does not take effect for you.",
            a.rule.unwrap_or_default()
        ),
        (state, _) => {
            let mut s = format!("{}: {}", lang.pick("Stand", "Status"), state.label(lang));
            if let Some(n) = a.answer.filter(|n| !n.trim().is_empty()) {
                let _ = write!(s, "\n{}: {}", lang.pick("Toelichting", "Explanation"), n.trim());
            }
            if let Some(t) = a.termination_until {
                let _ = write!(
                    s,
                    "\n{}",
                    match lang {
                        Lang::Nl => format!("U mag de overeenkomst om deze reden opzeggen tot en met {t}."),
                        Lang::En => format!("You may end the agreement over this change until {t} inclusive."),
                    }
                );
            }
            s
        }
    };
    let _ = writeln!(b, "{what}");
    (subject, b)
}

/// For the crate's document wrapper.
pub(crate) fn bad(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::Internal, format!("the list could not be rendered: {e}"))
}
