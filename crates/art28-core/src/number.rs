//! Integers from requests, range-checked where they are read.
//!
//! Every number a client sends (an id in a path, a page size in a query, hours in a body) is a
//! [`Bounded`]: it is refused while it is being parsed when it lies outside its range, so no
//! arithmetic, cast or database parameter downstream ever sees a value it was not written for
//! (a block of `9223372036854775807` hours, a log position past `i64::MAX`). The range is part of
//! the type, so the OpenAPI document states it (`minimum`, `maximum`) and a test can check that
//! every integer a request takes has one.
//!
//! It asks its deserializer for an `i64`: JSON gives numbers (a string holding one is refused),
//! paths and query strings parse their text (a sign, digits, nothing else), and the range is
//! checked here.

use schemars::JsonSchema;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// An integer in `MIN..=MAX`, refused while parsing when outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<const MIN: i64, const MAX: i64>(i64);

/// A row id in a path or body: 1 to `i64::MAX` (ids are SQLite/PostgreSQL `BIGINT`s).
pub type RowId = Bounded<1, { i64::MAX }>;

/// A position in a log or a list: 0 to `i64::MAX`.
pub type Position = Bounded<0, { i64::MAX }>;

/// A record version for optimistic concurrency: 0 to `i64::MAX`.
pub type Version = Bounded<0, { i64::MAX }>;

/// How many items a page holds: 1 to 1,000.
pub type PageSize = Bounded<1, 1000>;

impl<const MIN: i64, const MAX: i64> Bounded<MIN, MAX> {
    /// The value when it lies in range.
    pub fn new(v: i64) -> Option<Self> {
        (MIN..=MAX).contains(&v).then_some(Self(v))
    }

    /// The value.
    pub fn get(self) -> i64 {
        self.0
    }

    /// The value as unsigned; `0` for the (unreachable for `MIN >= 0`) negative ones.
    pub fn unsigned(self) -> u64 {
        u64::try_from(self.0).unwrap_or(0)
    }

    /// The value as a `usize` (page sizes, counts); saturating on 32-bit targets.
    pub fn count(self) -> usize {
        usize::try_from(self.0).unwrap_or(if self.0 < 0 { 0 } else { usize::MAX })
    }

    fn out_of_range<E: de::Error>(shown: impl fmt::Display) -> E {
        E::custom(format!("{shown} is not an integer from {MIN} to {MAX}"))
    }

    fn from_i128<E: de::Error>(v: i128) -> Result<Self, E> {
        i64::try_from(v)
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| Self::out_of_range(v))
    }
}

impl<const MIN: i64, const MAX: i64> fmt::Display for Bounded<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const MIN: i64, const MAX: i64> Serialize for Bounded<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

struct BoundedVisitor<const MIN: i64, const MAX: i64>;

impl<'de, const MIN: i64, const MAX: i64> Visitor<'de> for BoundedVisitor<MIN, MAX> {
    type Value = Bounded<MIN, MAX>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an integer from {MIN} to {MAX}")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Bounded::from_i128(i128::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Bounded::from_i128(i128::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // JSON numbers too large for 64 bits arrive as floats; so do fractions.
        if v.fract() == 0.0 && v.abs() < 1e19 {
            #[allow(clippy::cast_possible_truncation)]
            Bounded::from_i128(v as i128)
        } else {
            Err(Bounded::<MIN, MAX>::out_of_range(v))
        }
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Asked for as an integer: JSON gives numbers (a string is refused), paths and query
        // strings parse their text; either way the range is checked here.
        d.deserialize_i64(BoundedVisitor::<MIN, MAX>)
    }
}

impl<const MIN: i64, const MAX: i64> JsonSchema for Bounded<MIN, MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("Integer_{MIN}_{MAX}").into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "integer",
            "format": "int64",
            "minimum": MIN,
            "maximum": MAX,
        })
    }
}

/// A list from a request with at most `MAX` items, refused while parsing when longer (before
/// the items past `MAX` are even read), and documented with `maxItems`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> List<T, MAX> {
    /// The items, when there are at most `MAX`.
    pub fn new(items: Vec<T>) -> Option<Self> {
        (items.len() <= MAX).then_some(Self(items))
    }

    /// The items.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T, const MAX: usize> std::ops::Deref for List<T, MAX> {
    type Target = Vec<T>;

    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T, const MAX: usize> From<List<T, MAX>> for Vec<T> {
    fn from(l: List<T, MAX>) -> Vec<T> {
        l.0
    }
}

impl<T, const MAX: usize> IntoIterator for List<T, MAX> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T, const MAX: usize> IntoIterator for &'a List<T, MAX> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: Serialize, const MAX: usize> Serialize for List<T, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

struct ListVisitor<T, const MAX: usize>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for ListVisitor<T, MAX> {
    type Value = List<T, MAX>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {MAX} items")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX).min(64));
        while let Some(item) = seq.next_element()? {
            if items.len() == MAX {
                return Err(de::Error::custom(format!("a list of at most {MAX} items")));
            }
            items.push(item);
        }
        Ok(List(items))
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ListVisitor::<T, MAX>(std::marker::PhantomData))
    }
}

impl<T: JsonSchema, const MAX: usize> JsonSchema for List<T, MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("List_{}_{MAX}", T::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let items = generator.subschema_for::<T>();
        schemars::json_schema!({
            "type": "array",
            "items": items,
            "maxItems": MAX,
        })
    }
}

/// `deserialize_with` for a `Vec` field of a type that is also stored (so it stays a `Vec`):
/// read as a [`List`] of at most `MAX`. Pair it with `#[schemars(length(max = MAX))]`, which
/// a test of the server checks is present on every list a request takes.
pub fn at_most<'de, D, T, const MAX: usize>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    List::<T, MAX>::deserialize(d).map(List::into_vec)
}

/// `deserialize_with` for a `u64` count of a type that is also stored: read as a [`Position`]
/// (0 to `i64::MAX`, what the stores hold). Pair it with
/// `#[schemars(range(max = 9223372036854775807_u64))]`.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Position::deserialize(d).map(Position::unsigned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads_numbers_and_strings_and_refuses_what_is_outside() {
        let ok: RowId = serde_json::from_str("9223372036854775807").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.get(), i64::MAX);
        for bad in [
            "0",
            "-1",
            "9223372036854775808",
            "18446744073709551615",
            "1.5",
            "1e300",
            "\"1\"",
        ] {
            let r: Result<RowId, _> = serde_json::from_str(bad);
            assert!(r.is_err(), "{bad} accepted");
        }
        let s: Result<RowId, _> = serde_json::from_value(serde_json::json!(1.0));
        assert_eq!(s.ok().map(RowId::get), Some(1));
    }

    #[test]
    fn a_list_stops_reading_past_its_maximum() {
        let ok: List<u8, 3> = serde_json::from_str("[1,2,3]").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.len(), 3);
        let r: Result<List<u8, 3>, _> = serde_json::from_str("[1,2,3,4]");
        assert!(r.is_err());
        assert_eq!(serde_json::to_string(&ok).ok().as_deref(), Some("[1,2,3]"));
    }
}
