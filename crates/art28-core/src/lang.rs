//! The two languages art28 speaks to people: Dutch and English.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A language of a document, a notice or a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Dutch.
    #[default]
    Nl,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// Pick the string for this language.
    pub fn pick<'a>(self, nl: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Nl => nl,
            Lang::En => en,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" | "nl-nl" | "nl-be" | "dutch" | "nederlands" => Ok(Lang::Nl),
            "en" | "en-gb" | "en-us" | "english" | "engels" => Ok(Lang::En),
            other => Err(format!("unknown language `{other}`; use `nl` or `en`")),
        }
    }
}

/// A text written in both languages. Both are required: every document art28 renders
/// exists in Dutch and in English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Dutch text.
    pub nl: String,
    /// English text.
    pub en: String,
}

impl Text {
    /// The text in one language.
    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.nl, &self.en)
    }
}
