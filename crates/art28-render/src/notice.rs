//! Breach notices as people read them: a plain-text e-mail in the customer's language with
//! every field the breach protocol asks for (R4.3). Pure, like the rest of the crate: the same
//! content always gives the same text, which is kept as sent.

use art28_core::incident::NoticeContent;
use art28_core::lang::Lang;
use jiff::Timestamp;
use std::fmt::Write;

/// Subject line and body of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedNotice {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// A time as the reader sees it: Dutch local time when the time zone database is there,
/// UTC otherwise, always with the zone named.
fn show_time(t: Timestamp) -> String {
    match jiff::tz::TimeZone::get("Europe/Amsterdam") {
        Ok(tz) => t.to_zoned(tz).strftime("%Y-%m-%d %H:%M %Z (%:z)").to_string(),
        Err(_) => t
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string(),
    }
}

fn or_unknown(s: &str, lang: Lang) -> String {
    let s = s.trim();
    if s.is_empty() {
        lang.pick("(nog niet bekend)", "(not yet known)").to_string()
    } else {
        s.to_string()
    }
}

fn list(items: &[String], lang: Lang) -> String {
    if items.is_empty() {
        lang.pick("(nog niet bekend)", "(not yet known)").to_string()
    } else {
        items.join(", ")
    }
}

/// Render a notice in its language.
pub fn notice(c: &NoticeContent) -> RenderedNotice {
    let l = c.language;
    let d = &c.details;
    let subject = match (&c.update, l) {
        (None, Lang::Nl) => format!("Melding datalek {} — {}", c.incident, c.customer_name),
        (None, Lang::En) => format!("Personal data breach notice {} — {}", c.incident, c.customer_name),
        (Some(_), Lang::Nl) => format!(
            "Update {} op melding datalek {} — {}",
            c.step, c.incident, c.customer_name
        ),
        (Some(_), Lang::En) => format!(
            "Update {} to personal data breach notice {} — {}",
            c.step, c.incident, c.customer_name
        ),
    };
    let mut b = String::new();
    let line = |b: &mut String, label: &str, value: &str| {
        let _ = writeln!(b, "{label}: {value}");
    };
    let _ = writeln!(
        b,
        "{}\n",
        match l {
            Lang::Nl => format!(
                "{} meldt u hierbij een inbreuk in verband met persoonsgegevens (datalek) die uw gegevens raakt.",
                c.processor
            ),
            Lang::En => format!(
                "{} hereby notifies you of a personal data breach that affects your data.",
                c.processor
            ),
        }
    );
    if let Some(u) = &c.update {
        let _ = writeln!(b, "{}\n{}\n", l.pick("Wat is er nieuw:", "What is new:"), u.trim());
    }
    line(&mut b, l.pick("Aan", "To"), &c.addressees.join("; "));
    line(
        &mut b,
        l.pick("Klant", "Customer"),
        &format!("{} ({})", c.customer_name, c.customer),
    );
    line(
        &mut b,
        l.pick("Incidentnummer", "Incident number"),
        &c.incident.to_string(),
    );
    line(
        &mut b,
        l.pick("Datum van deze melding", "Date of this notice"),
        &show_time(c.notice_at),
    );
    line(
        &mut b,
        l.pick("Wij werden op de hoogte op", "We became aware on"),
        &show_time(c.aware_at),
    );
    line(
        &mut b,
        l.pick(
            "Uiterste meldtermijn volgens de overeenkomst",
            "Notice deadline under the agreement",
        ),
        &show_time(c.due_at),
    );
    line(
        &mut b,
        l.pick(
            "Uw eigen termijn richting de toezichthouder (72 uur)",
            "Your own deadline towards the supervisory authority (72 hours)",
        ),
        &show_time(c.controller_due_at),
    );
    let period = match (d.period_start, d.period_end) {
        (Some(a), Some(e)) => format!("{} – {}", show_time(a), show_time(e)),
        (Some(a), None) => format!("{} {}", l.pick("vanaf", "from"), show_time(a)),
        _ => or_unknown("", l),
    };
    line(&mut b, l.pick("Periode", "Period"), &period);
    let _ = writeln!(b);
    line(&mut b, l.pick("Samenvatting", "Summary"), &or_unknown(&d.summary, l));
    if !d.description.trim().is_empty() {
        line(&mut b, l.pick("Beschrijving", "Description"), d.description.trim());
    }
    let impact: Vec<String> = d.impact.iter().map(|i| i.label(l).to_string()).collect();
    line(&mut b, l.pick("Geraakt", "Affected property"), &list(&impact, l));
    let actions: Vec<String> = d.actions.iter().map(|a| a.label(l).to_string()).collect();
    line(
        &mut b,
        l.pick("Aard van de inbreuk", "Nature of the breach"),
        &list(&actions, l),
    );
    line(&mut b, l.pick("Oorzaak", "Cause"), &or_unknown(&d.cause, l));
    line(
        &mut b,
        l.pick("Beveiligingsmaatregel die faalde", "Security measure that failed"),
        &or_unknown(&d.failed_measure, l),
    );
    line(
        &mut b,
        l.pick("Getroffen systemen", "Affected systems"),
        &list(&d.systems, l),
    );
    if !d.subprocessors.is_empty() {
        line(
            &mut b,
            l.pick("Betrokken subverwerkers", "Sub-processors involved"),
            &d.subprocessors.join(", "),
        );
    }
    let _ = writeln!(b);
    let s = &c.scope;
    line(
        &mut b,
        l.pick("Groepen betrokkenen", "Groups of data subjects"),
        &list(&s.subject_groups, l),
    );
    line(
        &mut b,
        l.pick(
            "Aantal betrokkenen (volgens het toegangslog)",
            "Number of data subjects (from the access log)",
        ),
        &s.data_subjects.to_string(),
    );
    line(
        &mut b,
        l.pick("Aantal gegevensrecords", "Number of records"),
        &s.records.to_string(),
    );
    line(
        &mut b,
        l.pick("Soorten persoonsgegevens", "Types of personal data"),
        &list(&s.categories, l),
    );
    let _ = writeln!(b);
    line(
        &mut b,
        l.pick("Gevolgen", "Consequences"),
        &or_unknown(&d.consequences, l),
    );
    line(&mut b, l.pick("Herstel", "Recovery"), &or_unknown(&d.recovery, l));
    line(
        &mut b,
        l.pick("Genomen maatregelen", "Measures taken"),
        &or_unknown(&d.measures_taken, l),
    );
    line(
        &mut b,
        l.pick("Voorgestelde maatregelen", "Measures proposed"),
        &or_unknown(&d.measures_proposed, l),
    );
    let _ = writeln!(
        b,
        "\n{}",
        l.pick(
            "U beslist zelf of u de Autoriteit Persoonsgegevens en de betrokkenen informeert; wij doen dat niet namens u. \
             Deze melding is geen erkenning van aansprakelijkheid. Wij houden u op de hoogte van de voortgang en de maatregelen. \
             Bevestig de ontvangst alstublieft in het portaal.",
            "You decide whether to inform the supervisory authority and the data subjects; we do not do so on your behalf. \
             This notice is not an admission of liability. We will keep you informed of progress and measures. \
             Please acknowledge receipt in the portal."
        )
    );
    RenderedNotice { subject, body: b }
}
