//! Typed identifiers, so that a customer id can never be passed where an agreement id is meant.

use crate::error::{Error, ErrorCode};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Whether a string is a slug: 2–64 characters of `a-z`, `0-9` and inner `-`.
pub fn is_slug(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                if is_slug(s) {
                    Ok(Self(s.to_string()))
                } else {
                    Err(Error::new(
                        ErrorCode::InvalidId,
                        format!(
                            concat!("`{}` is not a valid ", $what, " id: use 2 to 64 characters a-z, 0-9 and single inner hyphens"),
                            s.chars().take(80).collect::<String>()
                        ),
                    ))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = Cow::<str>::deserialize(d)?;
                s.parse().map_err(|e: Error| serde::de::Error::custom(e.message))
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "pattern": "^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,63}$",
                    "minLength": 2,
                    "maxLength": 64
                })
            }
        }
    };
}

slug_id!(
    /// Identifies a customer (controller) of the processor, e.g. `bakkerij-de-vries`.
    CustomerId,
    "customer"
);
slug_id!(
    /// Identifies an agreement across its versions, e.g. `saas-standard`.
    AgreementId,
    "agreement"
);
