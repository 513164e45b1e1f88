//! Words for values that are not free text: dates, countries, enum values and lists.
//!
//! Sentences live in the templates; what is here is the vocabulary a sentence is built from,
//! so that a template can say "stored in {{ locations.storage }}" in its own language.

use art28_core::agreement::{ContactRole, DataFormat, DocumentKind, Safeguard};
use art28_core::date::Date;
use art28_core::lang::Lang;

/// A date as people write it: `1 januari 2026`, `1 January 2026`.
pub(crate) fn date(d: Date, lang: Lang) -> String {
    const NL: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let names = match lang {
        Lang::Nl => &NL,
        Lang::En => &EN,
    };
    let month = usize::try_from(d.0.month())
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| names.get(i));
    match month {
        Some(month) => format!("{} {month} {}", d.0.day(), d.0.year()),
        // jiff guarantees months 1..=12; fall back to the ISO form rather than fail.
        None => d.to_string(),
    }
}

/// Items joined as in a sentence: `a, b en c` / `a, b and c`.
pub(crate) fn join(items: &[String], lang: Lang) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} {} {last}", rest.join(", "), lang.pick("en", "and")),
    }
}

/// Country (or `EU`/`EEA`) names: `(code, Dutch, English)`. Codes not listed are shown as
/// the code itself; the list covers the EU/EEA and the usual destinations of transfers.
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("EU", "Europese Unie", "European Union"),
    ("EEA", "Europese Economische Ruimte", "European Economic Area"),
    ("AT", "Oostenrijk", "Austria"),
    ("BE", "België", "Belgium"),
    ("BG", "Bulgarije", "Bulgaria"),
    ("CY", "Cyprus", "Cyprus"),
    ("CZ", "Tsjechië", "Czechia"),
    ("DE", "Duitsland", "Germany"),
    ("DK", "Denemarken", "Denmark"),
    ("EE", "Estland", "Estonia"),
    ("ES", "Spanje", "Spain"),
    ("FI", "Finland", "Finland"),
    ("FR", "Frankrijk", "France"),
    ("GR", "Griekenland", "Greece"),
    ("HR", "Kroatië", "Croatia"),
    ("HU", "Hongarije", "Hungary"),
    ("IE", "Ierland", "Ireland"),
    ("IT", "Italië", "Italy"),
    ("LT", "Litouwen", "Lithuania"),
    ("LU", "Luxemburg", "Luxembourg"),
    ("LV", "Letland", "Latvia"),
    ("MT", "Malta", "Malta"),
    ("NL", "Nederland", "Netherlands"),
    ("PL", "Polen", "Poland"),
    ("PT", "Portugal", "Portugal"),
    ("RO", "Roemenië", "Romania"),
    ("SE", "Zweden", "Sweden"),
    ("SI", "Slovenië", "Slovenia"),
    ("SK", "Slowakije", "Slovakia"),
    ("IS", "IJsland", "Iceland"),
    ("LI", "Liechtenstein", "Liechtenstein"),
    ("NO", "Noorwegen", "Norway"),
    ("CH", "Zwitserland", "Switzerland"),
    ("GB", "Verenigd Koninkrijk", "United Kingdom"),
    ("US", "Verenigde Staten", "United States"),
    ("CA", "Canada", "Canada"),
    ("JP", "Japan", "Japan"),
    ("KR", "Zuid-Korea", "South Korea"),
    ("IL", "Israël", "Israel"),
    ("NZ", "Nieuw-Zeeland", "New Zealand"),
    ("AU", "Australië", "Australia"),
    ("IN", "India", "India"),
    ("PH", "Filipijnen", "Philippines"),
    ("UA", "Oekraïne", "Ukraine"),
    ("RS", "Servië", "Serbia"),
    ("ZA", "Zuid-Afrika", "South Africa"),
    ("SG", "Singapore", "Singapore"),
    ("AE", "Verenigde Arabische Emiraten", "United Arab Emirates"),
    ("BR", "Brazilië", "Brazil"),
    ("MA", "Marokko", "Morocco"),
    ("TR", "Turkije", "Turkey"),
];

/// The name of a country as in a table cell: `Nederland`, `Netherlands`.
pub(crate) fn country(code: &str, lang: Lang) -> String {
    COUNTRIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, nl, en)| lang.pick(nl, en).to_string())
}

/// The name of a country as in running text, with the article some names take:
/// `de Verenigde Staten`, `the Netherlands`.
pub(crate) fn country_in_text(code: &str, lang: Lang) -> String {
    let article = match (lang, code) {
        (Lang::Nl, "EU" | "EEA" | "US" | "PH" | "AE") => "de ",
        (Lang::Nl, "GB") => "het ",
        (Lang::En, "EU" | "EEA" | "US" | "GB" | "NL" | "PH" | "AE") => "the ",
        _ => "",
    };
    format!("{article}{}", country(code, lang))
}

/// The supervisory authority of the country whose law governs the controller, as a noun
/// phrase for running text.
pub(crate) fn authority(country: &str, lang: Lang) -> &'static str {
    match (country, lang) {
        ("NL", Lang::Nl) => "de Autoriteit Persoonsgegevens",
        ("NL", Lang::En) => "the Dutch Data Protection Authority (Autoriteit Persoonsgegevens)",
        ("BE", Lang::Nl) => "de Gegevensbeschermingsautoriteit",
        ("BE", Lang::En) => "the Belgian Data Protection Authority (Gegevensbeschermingsautoriteit)",
        (_, Lang::Nl) => "de bevoegde toezichthoudende autoriteit",
        (_, Lang::En) => "the competent supervisory authority",
    }
}

pub(crate) fn contact_role(role: ContactRole, lang: Lang) -> &'static str {
    match role {
        ContactRole::BreachNotice => lang.pick("meldingen van datalekken", "breach notices"),
        ContactRole::Privacy => lang.pick("privacy", "privacy"),
        ContactRole::Security => lang.pick("beveiliging", "security"),
        ContactRole::Contract => lang.pick("contractbeheer", "contract management"),
        ContactRole::Changes => lang.pick("aankondigingen van wijzigingen", "announcements of changes"),
        ContactRole::Requests => lang.pick(
            "verzoeken van betrokkenen en autoriteiten",
            "requests from data subjects and authorities",
        ),
    }
}

pub(crate) fn safeguard(s: Safeguard, lang: Lang) -> &'static str {
    match s {
        Safeguard::AdequacyDecision => lang.pick("adequaatheidsbesluit", "adequacy decision"),
        Safeguard::StandardContractualClauses => {
            lang.pick("standaardcontractbepalingen", "standard contractual clauses")
        }
        Safeguard::BindingCorporateRules => lang.pick("bindende bedrijfsvoorschriften", "binding corporate rules"),
        Safeguard::CodeOfConduct => lang.pick("goedgekeurde gedragscode", "approved code of conduct"),
        Safeguard::Certification => lang.pick("goedgekeurde certificering", "approved certification"),
    }
}

pub(crate) fn data_format(f: DataFormat, lang: Lang) -> &'static str {
    match f {
        DataFormat::Csv => "CSV",
        DataFormat::Xml => "XML",
        DataFormat::Json => "JSON",
        DataFormat::Xlsx => "Excel (XLSX)",
        DataFormat::Pdf => "PDF",
        DataFormat::Zip => lang.pick("ZIP-archief met bijlagen", "ZIP archive of attachments"),
    }
}

pub(crate) fn document(d: DocumentKind, lang: Lang) -> &'static str {
    match d {
        DocumentKind::Annexes => lang.pick(
            "de bijlagen met aanvullende of gewijzigde instructies",
            "the annexes with additional or changed instructions",
        ),
        DocumentKind::ProcessorAgreement => lang.pick("deze verwerkersovereenkomst", "this processor agreement"),
        DocumentKind::MainAgreement => lang.pick(
            "de hoofdovereenkomst (raam- of dienstverleningsovereenkomst)",
            "the main agreement (framework or service agreement)",
        ),
        DocumentKind::ServiceLevelAgreement => lang.pick(
            "de dienstenniveauovereenkomst (SLA)",
            "the service level agreement (SLA)",
        ),
        DocumentKind::DataProStatement => lang.pick("het Data Pro Statement", "the Data Pro Statement"),
        DocumentKind::StandardClauses => lang.pick(
            "de Standaardclausules voor Verwerkingen",
            "the Standard Clauses for Processing",
        ),
        DocumentKind::GeneralTerms => lang.pick("de algemene voorwaarden", "the general terms and conditions"),
    }
}

/// The first letter in upper case, for a label that starts a sentence or list item.
pub(crate) fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The first letter in lower case, for a vocabulary label in the middle of a sentence.
/// Labels that start with an abbreviation (`IP-adres`, `HR data`) keep their capitals.
pub(crate) fn decapitalise(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if !second.is_uppercase() => first
            .to_lowercase()
            .chain(std::iter::once(second))
            .chain(chars)
            .collect(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_people_write_them() {
        let d: Date = "2026-01-01".parse().unwrap();
        assert_eq!(date(d, Lang::Nl), "1 januari 2026");
        assert_eq!(date(d, Lang::En), "1 January 2026");
        let d: Date = "2025-12-31".parse().unwrap();
        assert_eq!(date(d, Lang::Nl), "31 december 2025");
    }

    #[test]
    fn lists_and_names() {
        let items = ["a".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(join(&items, Lang::Nl), "a, b en c");
        assert_eq!(join(&items[..2], Lang::En), "a and b");
        assert_eq!(join(&items[..1], Lang::En), "a");
        assert_eq!(country_in_text("NL", Lang::En), "the Netherlands");
        assert_eq!(country_in_text("NL", Lang::Nl), "Nederland");
        assert_eq!(country("XK", Lang::Nl), "XK");
        assert_eq!(decapitalise("Opslaan"), "opslaan");
        assert_eq!(decapitalise("HR data"), "HR data");
        assert_eq!(capitalise("élan"), "Élan");
    }
}
