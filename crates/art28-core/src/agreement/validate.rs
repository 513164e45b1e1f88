//! Rules an agreement must meet beyond its shape: vocabulary ids exist, special categories are
//! allowed before they are used, transfers outside the EU/EEA have a safeguard, and so on.
//! Each finding names the rule (a stable code) and the field.

use super::model::*;
use super::path::Path;
use crate::geo;
use crate::vocabulary::Vocabulary;
use std::collections::HashSet;

/// A rule broken at a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where.
    pub path: Path,
    /// Stable rule code.
    pub code: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

struct Checker {
    findings: Vec<Finding>,
}

impl Checker {
    fn add(&mut self, path: Path, code: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            path,
            code,
            message: message.into(),
        });
    }

    fn terms(&mut self, path: &Path, ids: &[String], vocabulary: Vocabulary, required: bool) {
        if required && ids.is_empty() {
            self.add(
                path.clone(),
                "empty_list",
                format!("at least one {} is required", vocabulary.noun()),
            );
        }
        let mut seen = HashSet::new();
        for (i, id) in ids.iter().enumerate() {
            let at = path.index(i);
            if !seen.insert(id.as_str()) {
                self.add(at.clone(), "duplicate", format!("`{id}` is listed twice"));
            }
            if vocabulary.find(id).is_none() {
                let hint = vocabulary
                    .suggest(id)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                self.add(
                    at,
                    "unknown_term",
                    format!("`{id}` is not a known {}{hint}", vocabulary.noun()),
                );
            }
        }
    }

    fn location(&mut self, path: Path, code: &str) {
        if !geo::is_location(code) {
            self.add(
                path,
                "unknown_location",
                format!("`{code}` is not an ISO 3166-1 alpha-2 country code, `EU` or `EEA`"),
            );
        }
    }

    fn country(&mut self, path: Path, code: &str) {
        if !geo::is_country(code) {
            self.add(
                path,
                "unknown_country",
                format!("`{code}` is not an ISO 3166-1 alpha-2 country code"),
            );
        }
    }

    fn safeguard(&mut self, path: &Path, location: &str, safeguard: Option<Safeguard>, what: &str) {
        if !geo::is_location(location) || geo::in_eea(location) {
            return;
        }
        match safeguard {
            None => self.add(
                path.key("safeguard"),
                "transfer_without_safeguard",
                format!("{what} in `{location}`, outside the EU/EEA, needs a safeguard (GDPR art 45/46)"),
            ),
            Some(Safeguard::AdequacyDecision) if !geo::has_adequacy_decision(location) => self.add(
                path.key("safeguard"),
                "no_adequacy_decision",
                format!("there is no adequacy decision for `{location}`; use standard contractual clauses or another art 46 safeguard"),
            ),
            Some(_) => {}
        }
    }

    fn contacts(&mut self, path: &Path, contacts: &[Contact]) {
        for (i, c) in contacts.iter().enumerate() {
            let at = path.index(i);
            if !plausible_email(&c.email) {
                self.add(
                    at.key("email"),
                    "invalid_email",
                    format!("`{}` is not an e-mail address", c.email),
                );
            }
            if c.name.trim().is_empty() {
                self.add(at.key("name"), "empty_text", "a contact needs a name");
            }
            if c.roles.is_empty() {
                self.add(at.key("roles"), "empty_list", "say what the contact is for");
            }
        }
    }

    fn text(&mut self, path: Path, text: &crate::lang::Text) {
        if text.nl.trim().is_empty() {
            self.add(path.key("nl"), "empty_text", "the Dutch text is empty");
        }
        if text.en.trim().is_empty() {
            self.add(path.key("en"), "empty_text", "the English text is empty");
        }
    }
}

fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
        && !domain.contains('@')
}

/// Check the rules. An empty result means the agreement is valid.
pub fn validate(a: &ProcessorAgreement) -> Vec<Finding> {
    let mut c = Checker { findings: Vec::new() };
    let root = Path::root();

    if a.version == 0 {
        c.add(root.key("version"), "invalid_version", "versions start at 1");
    }
    match (a.kind, &a.customer) {
        (AgreementKind::Customer, None) => c.add(
            root.key("customer"),
            "customer_missing",
            "a customer agreement names its customer in a [customer] table",
        ),
        (AgreementKind::Standard, Some(_)) => c.add(
            root.key("customer"),
            "customer_in_standard",
            "a standard agreement serves many customers and names none",
        ),
        _ => {}
    }
    if a.kind == AgreementKind::Standard && a.based_on.is_some() {
        c.add(
            root.key("based_on"),
            "base_of_standard",
            "only a customer agreement can be based on a standard agreement",
        );
    }
    c.text(root.key("title"), &a.title);

    c.country(root.key("processor").key("country"), &a.processor.country);
    c.contacts(&root.key("processor").key("contacts"), &a.processor.contacts);
    if let Some(customer) = &a.customer {
        let at = root.key("customer");
        c.country(at.key("country"), &customer.country);
        c.contacts(&at.key("contacts"), &customer.contacts);
        if !customer
            .contacts
            .iter()
            .any(|k| k.roles.contains(&ContactRole::BreachNotice))
        {
            c.add(
                at.key("contacts"),
                "breach_contact_missing",
                "at least one customer contact must have the role `breach_notice` (R4.3)",
            );
        }
    }

    c.text(root.key("service").key("description"), &a.service.description);
    c.text(root.key("service").key("intended_use"), &a.service.intended_use);

    let p = root.key("processing");
    c.text(p.key("subject"), &a.processing.subject);
    c.terms(
        &p.key("nature"),
        &a.processing.nature,
        Vocabulary::ProcessingOperations,
        true,
    );
    c.terms(&p.key("purposes"), &a.processing.purposes, Vocabulary::Purposes, true);
    c.terms(
        &p.key("data_subjects"),
        &a.processing.data_subjects,
        Vocabulary::DataSubjects,
        true,
    );
    c.terms(
        &p.key("personal_data"),
        &a.processing.personal_data,
        Vocabulary::PersonalData,
        true,
    );
    c.terms(
        &p.key("special_categories_allowed"),
        &a.processing.special_categories_allowed,
        Vocabulary::PersonalData,
        false,
    );
    for (i, id) in a.processing.special_categories_allowed.iter().enumerate() {
        if Vocabulary::PersonalData.find(id).is_some_and(|t| !t.special) {
            c.add(
                p.key("special_categories_allowed").index(i),
                "not_special",
                format!("`{id}` is not a special category; list it under personal_data only"),
            );
        }
    }
    for (i, id) in a.processing.personal_data.iter().enumerate() {
        let special = Vocabulary::PersonalData.find(id).is_some_and(|t| t.special);
        if special && !a.processing.special_categories_allowed.contains(id) {
            c.add(
                p.key("personal_data").index(i),
                "special_category_not_allowed",
                format!("`{id}` is a special category of personal data and is not in special_categories_allowed (by default none are allowed)"),
            );
        }
    }

    let l = root.key("locations");
    if a.locations.storage.is_empty() {
        c.add(l.key("storage"), "empty_list", "say where data is stored");
    }
    for (i, code) in a.locations.storage.iter().enumerate() {
        c.location(l.key("storage").index(i), code);
    }
    for (i, code) in a.locations.access.iter().enumerate() {
        c.location(l.key("access").index(i), code);
    }
    // Storage or access outside the EU/EEA is a transfer and must be listed as one.
    for (field, codes) in [("storage", &a.locations.storage), ("access", &a.locations.access)] {
        for (i, code) in codes.iter().enumerate() {
            if geo::is_location(code) && !geo::in_eea(code) && !a.transfers.iter().any(|t| &t.country == code) {
                c.add(
                    l.key(field).index(i),
                    "transfer_not_documented",
                    format!(
                        "`{code}` is outside the EU/EEA; document the transfer in [[transfers]] with its safeguard"
                    ),
                );
            }
        }
    }

    for (i, t) in a.transfers.iter().enumerate() {
        let at = root.key("transfers").index(i);
        c.country(at.key("country"), &t.country);
        c.text(at.key("purpose"), &t.purpose);
        c.safeguard(&at, &t.country, t.safeguard, "a transfer");
    }

    let s = root.key("subprocessors");
    let mut names = HashSet::new();
    for (i, sp) in a.subprocessors.list.iter().enumerate() {
        let at = s.key("list").index(i);
        if !names.insert(sp.name.as_str()) {
            c.add(
                at.key("name"),
                "duplicate",
                format!("sub-processor `{}` is listed twice", sp.name),
            );
        }
        c.location(at.key("location"), &sp.location);
        c.text(at.key("service"), &sp.service);
        c.safeguard(&at, &sp.location, sp.safeguard, "a sub-processor");
    }

    c.terms(
        &root.key("security").key("measures"),
        &a.security.measures,
        Vocabulary::SecurityMeasures,
        true,
    );

    if let Some(full) = &a.breach.complete_information
        && full.max_hours() < a.breach.notice.max_hours()
    {
        c.add(
            root.key("breach").key("complete_information"),
            "term_order",
            "complete information cannot be due before the first notice",
        );
    }
    if a.requests.formats.is_empty() {
        c.add(
            root.key("requests").key("formats"),
            "empty_list",
            "name at least one extract format (e.g. csv)",
        );
    }
    if a.end.return_formats.is_empty() {
        c.add(
            root.key("end").key("return_formats"),
            "empty_list",
            "name at least one return format (e.g. csv)",
        );
    }

    let mut seen = HashSet::new();
    for (i, d) in a.precedence.iter().enumerate() {
        if !seen.insert(*d) {
            c.add(
                root.key("precedence").index(i),
                "duplicate",
                "a document appears twice in the order of precedence",
            );
        }
    }
    if !a.precedence.contains(&DocumentKind::ProcessorAgreement) {
        c.add(
            root.key("precedence"),
            "precedence_incomplete",
            "the order of precedence must include `processor_agreement`",
        );
    }
    if !a.annexes.is_empty() && !a.precedence.contains(&DocumentKind::Annexes) {
        c.add(
            root.key("precedence"),
            "precedence_incomplete",
            "the agreement has annexes; place `annexes` in the order of precedence",
        );
    }

    let mut ids = HashSet::new();
    for (i, annex) in a.annexes.iter().enumerate() {
        let at = root.key("annexes").index(i);
        if !ids.insert(annex.id.as_str()) {
            c.add(at.key("id"), "duplicate", format!("annex `{}` appears twice", annex.id));
        }
        c.text(at.key("title"), &annex.title);
        c.text(at.key("text"), &annex.text);
        if annex.approved_on > a.effective_from {
            c.add(
                at.key("approved_on"),
                "annex_after_version",
                "an annex approved after this version took effect belongs in a later version",
            );
        }
    }
    c.findings
}
