//! The stable vocabulary of agreements: categories of data subjects and personal data,
//! purposes, processing operations and security measures.
//!
//! Each term has an id that agreement files use and that never changes meaning, a mapping to
//! the W3C Data Privacy Vocabulary (DPV) and, where one exists, to the Fideslang taxonomy, so
//! that agreements and access logs can be exchanged with other tools. Labels are in Dutch and
//! English.

mod terms;

use crate::lang::Lang;
use serde::Serialize;

/// One term of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Term {
    /// Stable snake_case id used in agreement files.
    pub id: &'static str,
    /// Compact DPV IRI (`dpv:` = <https://w3id.org/dpv#>, `pd:` = <https://w3id.org/dpv/pd#>).
    pub dpv: &'static str,
    /// Fideslang key, where one fits.
    pub fideslang: Option<&'static str>,
    /// Dutch label.
    pub nl: &'static str,
    /// English label.
    pub en: &'static str,
    /// A special category (GDPR art 9) or criminal data (art 10).
    pub special: bool,
}

impl Term {
    /// The label in a language.
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Nl => self.nl,
            Lang::En => self.en,
        }
    }

    /// The full DPV IRI.
    pub fn dpv_iri(&self) -> String {
        if let Some(rest) = self.dpv.strip_prefix("pd:") {
            format!("https://w3id.org/dpv/pd#{rest}")
        } else if let Some(rest) = self.dpv.strip_prefix("dpv:") {
            format!("https://w3id.org/dpv#{rest}")
        } else {
            self.dpv.to_string()
        }
    }
}

/// The lists of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vocabulary {
    /// Categories of data subjects.
    DataSubjects,
    /// Categories of personal data.
    PersonalData,
    /// Purposes of processing.
    Purposes,
    /// Processing operations (the nature of processing).
    ProcessingOperations,
    /// Technical and organisational security measures.
    SecurityMeasures,
}

impl Vocabulary {
    /// The terms of this list.
    pub fn terms(self) -> &'static [Term] {
        match self {
            Vocabulary::DataSubjects => terms::DATA_SUBJECTS,
            Vocabulary::PersonalData => terms::PERSONAL_DATA,
            Vocabulary::Purposes => terms::PURPOSES,
            Vocabulary::ProcessingOperations => terms::PROCESSING_OPERATIONS,
            Vocabulary::SecurityMeasures => terms::SECURITY_MEASURES,
        }
    }

    /// Look a term up by id.
    pub fn find(self, id: &str) -> Option<&'static Term> {
        self.terms().iter().find(|t| t.id == id)
    }

    /// What the list holds, in words, for error messages.
    pub fn noun(self) -> &'static str {
        match self {
            Vocabulary::DataSubjects => "category of data subjects",
            Vocabulary::PersonalData => "category of personal data",
            Vocabulary::Purposes => "purpose",
            Vocabulary::ProcessingOperations => "processing operation",
            Vocabulary::SecurityMeasures => "security measure",
        }
    }

    /// The id closest to an unknown one, for "did you mean" hints.
    pub fn suggest(self, id: &str) -> Option<&'static str> {
        self.terms()
            .iter()
            .map(|t| (edit_distance(id, t.id), t.id))
            .filter(|(d, _)| *d <= 3)
            .min_by_key(|(d, _)| *d)
            .map(|(_, id)| id)
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(cur).min(row[j]) };
            prev = cur;
        }
    }
    row[b.len()]
}
