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
    /// A phone number (compared in E.164 form, national numbers read in the customer's
    /// region; see [`normalize_phone`]).
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
    /// Its fields (1 to 64).
    #[serde(deserialize_with = "crate::number::at_most::<_, _, MAX_FIELDS>")]
    #[schemars(length(min = 1, max = 64))]
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

/// Longest phone number read, in bytes: E.164 has at most 15 digits; this leaves room for
/// spaces, punctuation and an extension, and keeps the parser's work small.
pub const MAX_PHONE_BYTES: usize = 64;

/// The region in which a phone number written without its country code is read: an ISO
/// 3166-1 alpha-2 code that has a telephone numbering plan (`NL`, `BE`, `DE`).
///
/// Reading phone numbers is a rule of the domain, not cryptography: `06 12345678` written by
/// a Dutch customer and `+31 6 12345678` are one number, and its blind index must be made from
/// one form. The rules are libphonenumber's metadata (the `phonenumber` crate), which is pure
/// code and data with no IO, so it lives here beside the other checks of a record's values,
/// and `art28-crypto` stays a thin layer over RustCrypto.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(phonenumber::country::Id);

impl PhoneRegion {
    /// The Netherlands: the region when the customer's own is not known.
    pub const FALLBACK: PhoneRegion = PhoneRegion(phonenumber::country::Id::NL);

    /// A region from its ISO 3166-1 alpha-2 code, in either case; `None` for a code that names
    /// no numbering plan (`EU`, `XX`, `NLD`).
    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        code.to_ascii_uppercase().parse().ok().map(PhoneRegion)
    }

    /// The customer's region: the country of the customer party in its agreement when that is
    /// a region with a numbering plan, [`PhoneRegion::FALLBACK`] otherwise (no agreement, a
    /// standard agreement, a country code such as `EU`).
    pub fn of_customer(agreement: Option<&ProcessorAgreement>) -> Self {
        agreement
            .and_then(|a| a.customer.as_ref())
            .and_then(|c| Self::parse(&c.country))
            .unwrap_or(Self::FALLBACK)
    }

    /// The ISO 3166-1 alpha-2 code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl std::fmt::Debug for PhoneRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneRegion({})", self.code())
    }
}

impl std::fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A phone number in E.164 form (`+31612345678`), as blind indexes take it.
///
/// A number with a `+` or an international prefix (`0031…` from the Netherlands) names its own
/// country; one without is read as a number of `region` (`06 12345678` in `NL`). Spaces,
/// dashes, dots and brackets are ignored; an extension is dropped (E.164 has none). Refused
/// with `phone_invalid` unless the metadata knows it as a valid number of its country (length
/// and prefixes); the message says why but never repeats the value, which is personal data.
/// Callers put the field's name in front of the message.
pub fn normalize_phone(value: &str, region: PhoneRegion) -> Result<String> {
    let refuse = |why: &str| {
        Error::new(
            ErrorCode::PhoneInvalid,
            format!(
                "is not a valid phone number ({why}); give it with its country code, e.g. `+31 6 12345678`, \
                 or as a national number of {region}"
            ),
        )
    };
    if value.len() > MAX_PHONE_BYTES {
        return Err(refuse(&format!("longer than {MAX_PHONE_BYTES} bytes")));
    }
    let number = phonenumber::parse(Some(region.0), value).map_err(|e| refuse(&e.to_string()))?;
    if !number.is_valid() {
        return Err(refuse("no such number in its country's numbering plan"));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn nl() -> PhoneRegion {
        PhoneRegion::FALLBACK
    }

    #[test]
    fn national_and_international_forms_give_one_e164() {
        for v in [
            "06 12345678",
            "06-1234 5678",
            "+31 6 12345678",
            "0031612345678",
            " 0031 6-1234 5678 ",
            "+31 (0)6 1234 5678",
            "tel:+31-6-1234-5678",
        ] {
            assert_eq!(normalize_phone(v, nl()).as_deref(), Ok("+31612345678"), "{v}");
        }
        assert_eq!(normalize_phone("020 123 4567", nl()).as_deref(), Ok("+31201234567"));
    }

    #[test]
    fn national_numbers_are_read_in_the_region() {
        let be = PhoneRegion::parse("be").expect("BE");
        assert_eq!(normalize_phone("0470 12 34 56", be).as_deref(), Ok("+32470123456"));
        assert_eq!(normalize_phone("+32 470 12 34 56", nl()).as_deref(), Ok("+32470123456"));
        // The same digits mean another number in another region, or none.
        assert_eq!(
            normalize_phone("06 12345678", be).map_err(|e| e.code),
            Err(ErrorCode::PhoneInvalid)
        );
        // A number with its country code is the same whatever the region.
        assert_eq!(normalize_phone("+31 6 12345678", be).as_deref(), Ok("+31612345678"));
    }

    #[test]
    fn what_is_not_a_valid_number_is_refused_without_echoing_it() {
        for v in [
            "not a number",
            "12",
            "",
            "   ",
            "06 1234",
            "+31 6 1234567890123",
            "+999 12345678",
            &"1".repeat(MAX_PHONE_BYTES + 1),
        ] {
            let e = normalize_phone(v, nl()).expect_err(v);
            assert_eq!(e.code, ErrorCode::PhoneInvalid, "{v}");
        }
        for v in ["06 1234", "+31 6 1234567890123", "+999 12345678"] {
            let e = normalize_phone(v, nl()).expect_err(v);
            assert!(!e.message.contains(v), "{v}: {}", e.message);
        }
    }

    #[test]
    fn regions_come_from_the_customer_or_fall_back_to_nl() {
        assert_eq!(PhoneRegion::parse("BE").map(|r| r.to_string()).as_deref(), Some("BE"));
        assert_eq!(PhoneRegion::parse(" de ").map(|r| r.to_string()).as_deref(), Some("DE"));
        for bad in ["EU", "XX", "NLD", "", "N1"] {
            assert_eq!(PhoneRegion::parse(bad), None, "{bad}");
        }
        assert_eq!(PhoneRegion::of_customer(None), PhoneRegion::FALLBACK);
        assert_eq!(PhoneRegion::FALLBACK.code(), "NL");
    }
}
