//! The vault's data model: collections a customer defines, whose fields each carry a category
//! of personal data from the vocabulary, and the records that fill them.
//!
//! A collection is checked against the customer's agreement when it is defined and again at
//! every write (the agreement may have changed since): a field whose category the agreement
//! does not cover, or a special category it does not allow, is refused with the rule's code.

use crate::agreement::ProcessorAgreement;
use crate::error::{Error, ErrorCode, Result};
use crate::vocabulary::Vocabulary;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Most fields in a collection.
pub const MAX_FIELDS: usize = 64;
/// Longest value of one field, in bytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Longest data-subject reference, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// How a field identifies its data subject, for lookups by blind index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// An e-mail address (compared case-insensitively).
    Email,
    /// A phone number (compared on its digits).
    Phone,
    /// An identifier of the customer's own (employee number, customer number).
    Id,
}

impl IdentifierKind {
    /// The stable wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Email => "email",
            IdentifierKind::Phone => "phone",
            IdentifierKind::Id => "id",
        }
    }

    /// From the wire form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "email" => IdentifierKind::Email,
            "phone" => IdentifierKind::Phone,
            "id" => IdentifierKind::Id,
            _ => return None,
        })
    }
}

/// One field of a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Field name: lowercase letters, digits and `_`, starting with a letter.
    pub name: String,
    /// Category of personal data, an id of the vocabulary's `personal_data` list.
    pub category: String,
    /// Set when the field identifies the data subject: lookups by this value use a blind index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<IdentifierKind>,
    /// Whether every record must have it.
    #[serde(default)]
    pub required: bool,
}

/// A collection: a named set of fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionDef {
    /// Collection name, a slug such as `employees`.
    pub name: String,
    /// Its fields.
    pub fields: Vec<FieldDef>,
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::CollectionInvalid, msg)
}

impl CollectionDef {
    /// Check the definition's own form (names, counts, known categories).
    pub fn check_form(&self) -> Result<()> {
        if !is_field_name(&self.name) {
            return Err(invalid(format!(
                "collection name `{}` must be 1 to 64 lowercase letters, digits or `_`, starting with a letter",
                clip(&self.name)
            )));
        }
        if self.fields.is_empty() || self.fields.len() > MAX_FIELDS {
            return Err(invalid(format!("a collection has 1 to {MAX_FIELDS} fields")));
        }
        let mut seen = BTreeSet::new();
        for f in &self.fields {
            if !is_field_name(&f.name) {
                return Err(invalid(format!(
                    "field name `{}` must be 1 to 64 lowercase letters, digits or `_`, starting with a letter",
                    clip(&f.name)
                )));
            }
            if !seen.insert(f.name.as_str()) {
                return Err(invalid(format!("field `{}` is defined twice", f.name)));
            }
            if Vocabulary::PersonalData.find(&f.category).is_none() {
                let hint = Vocabulary::PersonalData
                    .suggest(&f.category)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(invalid(format!(
                    "field `{}`: `{}` is not a category of personal data{hint}",
                    f.name,
                    clip(&f.category)
                )));
            }
        }
        Ok(())
    }

    /// The field with a name.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The fields that identify the data subject.
    pub fn identifiers(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.identifier.is_some())
    }
}

/// Refuse categories the agreement does not cover: `special_category_not_allowed` for a special
/// category not listed under `special_categories_allowed`, `category_not_in_agreement` for any
/// other category not listed under `personal_data`.
pub fn check_categories<'a>(
    agreement: &ProcessorAgreement,
    categories: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let p = &agreement.processing;
    for category in categories {
        let special = Vocabulary::PersonalData.find(category).is_some_and(|t| t.special);
        if special && !p.special_categories_allowed.iter().any(|c| c == category) {
            return Err(Error::new(
                ErrorCode::SpecialCategoryNotAllowed,
                format!(
                    "`{category}` is a special category of personal data that agreement {} (version {}) does not allow",
                    agreement.id, agreement.version
                ),
            ));
        }
        if !special && !p.personal_data.iter().any(|c| c == category) {
            return Err(Error::new(
                ErrorCode::CategoryNotInAgreement,
                format!(
                    "agreement {} (version {}) does not cover the category `{category}`; it covers {}",
                    agreement.id,
                    agreement.version,
                    p.personal_data.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A record's values by field name, as given by the customer.
pub type Values = BTreeMap<String, String>;

/// Check a record's values against its collection: every name a field, every required field
/// present (unless `partial`, for an update), every value at most [`MAX_VALUE_BYTES`].
pub fn check_values(def: &CollectionDef, values: &Values, partial: bool) -> Result<()> {
    for (name, value) in values {
        if def.field(name).is_none() {
            let known: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
            return Err(Error::new(
                ErrorCode::RecordInvalid,
                format!(
                    "collection `{}` has no field `{}`; its fields are {}",
                    def.name,
                    clip(name),
                    known.join(", ")
                ),
            ));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(Error::new(
                ErrorCode::RecordInvalid,
                format!("field `{name}` holds more than {MAX_VALUE_BYTES} bytes"),
            ));
        }
    }
    if !partial {
        for f in def.fields.iter().filter(|f| f.required) {
            if !values.contains_key(&f.name) {
                return Err(Error::new(
                    ErrorCode::RecordInvalid,
                    format!("field `{}` is required in collection `{}`", f.name, def.name),
                ));
            }
        }
    }
    Ok(())
}

/// Check a data-subject reference: 1 to [`MAX_SUBJECT_CHARS`] characters, not blank.
pub fn check_subject(subject: &str) -> Result<()> {
    let n = subject.trim().chars().count();
    if n == 0 || n > MAX_SUBJECT_CHARS {
        return Err(Error::new(
            ErrorCode::RecordInvalid,
            format!("name the data subject with 1 to {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
