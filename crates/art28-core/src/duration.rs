//! ISO 8601 durations as the agreements write them (`PT48H`, `P4W`, `P3M`, `P1Y`).
//!
//! Every term in an agreement is a setting, never a constant in code (R1.2). Terms are kept in
//! calendar units as written: `P3M` is three calendar months, not 90 days, so a deadline that
//! an agreement sets in months lands on the date a lawyer would compute.

use crate::lang::Lang;
use jiff::Span;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A positive ISO 8601 duration in whole units.
#[derive(Clone, Copy)]
pub struct IsoDuration {
    span: Span,
}

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not of the form `PnYnMnWnDTnHnMnS`.
    #[error("`{0}` is not an ISO 8601 duration such as `PT48H`, `P4W`, `P3M` or `P1Y`")]
    Unparsable(String),
    /// A minus sign.
    #[error("`{0}` is negative; a term must be positive")]
    Negative(String),
    /// All parts zero.
    #[error("`{0}` is zero; a term must be positive")]
    Zero(String),
    /// Fractions are not used in agreements.
    #[error("`{0}` has a fraction; write whole units (e.g. `PT90M` instead of `PT1.5H`)")]
    Fractional(String),
}

impl IsoDuration {
    /// A term of whole calendar months (1 to 1200).
    pub fn months(n: u16) -> Self {
        Self {
            span: Span::new().months(i64::from(n.clamp(1, 1200))),
        }
    }

    /// A term of whole days (1 to 36500).
    pub fn days(n: u16) -> Self {
        Self {
            span: Span::new().days(i64::from(n.clamp(1, 36_500))),
        }
    }

    /// The duration as a jiff span (calendar units kept).
    pub fn span(&self) -> Span {
        self.span
    }

    /// The parts of the duration with their values, largest first, zero parts left out.
    fn parts(&self) -> Vec<(i64, Unit)> {
        let s = self.span;
        [
            (i64::from(s.get_years()), Unit::Year),
            (i64::from(s.get_months()), Unit::Month),
            (i64::from(s.get_weeks()), Unit::Week),
            (i64::from(s.get_days()), Unit::Day),
            (i64::from(s.get_hours()), Unit::Hour),
            (s.get_minutes(), Unit::Minute),
            (s.get_seconds(), Unit::Second),
        ]
        .into_iter()
        .filter(|(n, _)| *n != 0)
        .collect()
    }

    /// A human description, e.g. `48 uur` or `4 weeks`.
    pub fn describe(&self, lang: Lang) -> String {
        let words: Vec<String> = self
            .parts()
            .into_iter()
            .map(|(n, unit)| format!("{n} {}", unit.word(n, lang)))
            .collect();
        match words.len() {
            0 => String::new(),
            1 => words.concat(),
            _ => {
                let (last, rest) = words
                    .split_last()
                    .map_or((String::new(), &[][..]), |(l, r)| (l.clone(), r));
                format!("{} {} {last}", rest.join(", "), lang.pick("en", "and"))
            }
        }
    }

    /// An upper bound in hours, for comparing terms of different units
    /// (a month counts as 31 days, a year as 366).
    pub fn max_hours(&self) -> i64 {
        self.parts()
            .into_iter()
            .map(|(n, unit)| n.saturating_mul(unit.max_seconds()))
            .fold(0i64, i64::saturating_add)
            / 3600
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

impl Unit {
    fn word(self, n: i64, lang: Lang) -> &'static str {
        let one = n == 1;
        match (self, lang, one) {
            (Unit::Year, Lang::Nl, _) => "jaar",
            (Unit::Year, Lang::En, true) => "year",
            (Unit::Year, Lang::En, false) => "years",
            (Unit::Month, Lang::Nl, true) => "maand",
            (Unit::Month, Lang::Nl, false) => "maanden",
            (Unit::Month, Lang::En, true) => "month",
            (Unit::Month, Lang::En, false) => "months",
            (Unit::Week, Lang::Nl, true) => "week",
            (Unit::Week, Lang::Nl, false) => "weken",
            (Unit::Week, Lang::En, true) => "week",
            (Unit::Week, Lang::En, false) => "weeks",
            (Unit::Day, Lang::Nl, true) => "dag",
            (Unit::Day, Lang::Nl, false) => "dagen",
            (Unit::Day, Lang::En, true) => "day",
            (Unit::Day, Lang::En, false) => "days",
            (Unit::Hour, Lang::Nl, _) => "uur",
            (Unit::Hour, Lang::En, true) => "hour",
            (Unit::Hour, Lang::En, false) => "hours",
            (Unit::Minute, Lang::Nl, true) => "minuut",
            (Unit::Minute, Lang::Nl, false) => "minuten",
            (Unit::Minute, Lang::En, true) => "minute",
            (Unit::Minute, Lang::En, false) => "minutes",
            (Unit::Second, Lang::Nl, true) => "seconde",
            (Unit::Second, Lang::Nl, false) => "seconden",
            (Unit::Second, Lang::En, true) => "second",
            (Unit::Second, Lang::En, false) => "seconds",
        }
    }

    fn max_seconds(self) -> i64 {
        match self {
            Unit::Year => 366 * 86_400,
            Unit::Month => 31 * 86_400,
            Unit::Week => 7 * 86_400,
            Unit::Day => 86_400,
            Unit::Hour => 3_600,
            Unit::Minute => 60,
            Unit::Second => 1,
        }
    }
}

impl FromStr for IsoDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let owned = || s.to_string();
        if s.starts_with('-') {
            return Err(DurationError::Negative(owned()));
        }
        // ISO 8601 designators are upper case; refusing lower case and a leading `+` keeps
        // the stored form canonical.
        if !s.starts_with('P') || s.chars().any(|c| c.is_ascii_lowercase()) {
            return Err(DurationError::Unparsable(owned()));
        }
        if s.contains(['.', ',']) {
            return Err(DurationError::Fractional(owned()));
        }
        let span: Span = s.parse().map_err(|_| DurationError::Unparsable(owned()))?;
        if span.is_negative() {
            return Err(DurationError::Negative(owned()));
        }
        if span.is_zero() {
            return Err(DurationError::Zero(owned()));
        }
        Ok(Self { span })
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut date = String::new();
        let mut time = String::new();
        for (n, unit) in self.parts() {
            match unit {
                Unit::Year => date.push_str(&format!("{n}Y")),
                Unit::Month => date.push_str(&format!("{n}M")),
                Unit::Week => date.push_str(&format!("{n}W")),
                Unit::Day => date.push_str(&format!("{n}D")),
                Unit::Hour => time.push_str(&format!("{n}H")),
                Unit::Minute => time.push_str(&format!("{n}M")),
                Unit::Second => time.push_str(&format!("{n}S")),
            }
        }
        if time.is_empty() {
            write!(f, "P{date}")
        } else {
            write!(f, "P{date}T{time}")
        }
    }
}

impl fmt::Debug for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoDuration({self})")
    }
}

impl PartialEq for IsoDuration {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}
impl Eq for IsoDuration {}

impl Serialize for IsoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for IsoDuration {
    fn schema_name() -> Cow<'static, str> {
        "IsoDuration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A positive ISO 8601 duration in whole units, e.g. PT48H, P4W, P3M, P1Y.",
            "pattern": "^P(?=\\d|T\\d)(\\d+Y)?(\\d+M)?(\\d+W)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+S)?)?$",
            "examples": ["PT48H", "P4W", "P3M", "P1Y"]
        })
    }
}

/// A term that may also be open-ended, such as confidentiality "indefinitely" (S1 art 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenTerm {
    /// A fixed term.
    For(IsoDuration),
    /// No end.
    Indefinite,
}

impl OpenTerm {
    /// A human description.
    pub fn describe(&self, lang: Lang) -> String {
        match self {
            OpenTerm::For(d) => d.describe(lang),
            OpenTerm::Indefinite => lang.pick("onbepaalde tijd", "an indefinite period").to_string(),
        }
    }
}

impl Serialize for OpenTerm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OpenTerm::For(d) => d.serialize(serializer),
            OpenTerm::Indefinite => serializer.serialize_str("indefinite"),
        }
    }
}

impl<'de> Deserialize<'de> for OpenTerm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(deserializer)?;
        if s == "indefinite" {
            return Ok(OpenTerm::Indefinite);
        }
        s.parse()
            .map(OpenTerm::For)
            .map_err(|e: DurationError| serde::de::Error::custom(format!("{e}, or `indefinite`")))
    }
}

impl JsonSchema for OpenTerm {
    fn schema_name() -> Cow<'static, str> {
        "OpenTerm".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let duration = generator.subschema_for::<IsoDuration>();
        schemars::json_schema!({
            "description": "An ISO 8601 duration, or `indefinite`.",
            "anyOf": [duration, { "const": "indefinite" }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_terms_the_sources_use() {
        for s in [
            "PT48H",
            "PT72H",
            "P4W",
            "P30D",
            "P3M",
            "P1Y",
            "P2M",
            "P2Y",
            "P6M",
            "P1Y2M3DT4H",
        ] {
            let d: IsoDuration = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(d.to_string(), s);
        }
    }

    #[test]
    fn refuses_bad_terms() {
        assert!(matches!("-P1D".parse::<IsoDuration>(), Err(DurationError::Negative(_))));
        assert!(matches!("P0D".parse::<IsoDuration>(), Err(DurationError::Zero(_))));
        assert!(matches!(
            "PT1.5H".parse::<IsoDuration>(),
            Err(DurationError::Fractional(_))
        ));
        for s in ["", "P", "48h", "p4w", "PT", "P4X", "4 weeks", "+P1D"] {
            assert!(s.parse::<IsoDuration>().is_err(), "{s} accepted");
        }
    }

    #[test]
    fn describes_in_both_languages() {
        let d: IsoDuration = "PT48H".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.describe(Lang::Nl), "48 uur");
        assert_eq!(d.describe(Lang::En), "48 hours");
        let d: IsoDuration = "P1Y2M".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.describe(Lang::Nl), "1 jaar en 2 maanden");
        assert_eq!(d.describe(Lang::En), "1 year and 2 months");
        assert_eq!(d.max_hours(), (366 + 62) * 24);
    }
}
