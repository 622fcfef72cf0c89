//! Integers read from JSON the way JSON means them. JSON has one kind of number, so `3` and
//! `3.0` are the same value, and JSON Schema's `integer` (the API's description) admits both;
//! serde alone refuses `3.0` where it expects an integer. Fields of requests that hold integers
//! are read through these (`#[serde(deserialize_with = ...)]`): a number without a fractional
//! part is the integer it is, anything else is refused as before.

use serde::Deserializer;
use serde::de::{Error, Unexpected, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// The integer `f` is, if it is one and fits in `T`.
fn of_float<T: TryFrom<i64> + TryFrom<u64>>(f: f64) -> Option<T> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    // Both bounds are powers of two, exact as floats; `as` is exact inside them.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        T::try_from(f as i64).ok()
    } else if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
        T::try_from(f as u64).ok()
    } else {
        None
    }
}

/// Takes integers, and floats without a fractional part.
struct Whole<T>(PhantomData<T>);

impl<'de, T: TryFrom<i64> + TryFrom<u64>> Visitor<'de> for Whole<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a whole number in the range of {}",
            std::any::type_name::<T>()
        )
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<T, E> {
        of_float(v).ok_or_else(|| E::invalid_value(Unexpected::Float(v), &self))
    }
}

/// An integer of type `T` in JSON (or in any format that says what type a value is).
pub fn integer<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    d.deserialize_any(Whole(PhantomData))
}

/// An integer of type `T`, asked for as one: in JSON as [`integer`], and in a format that keeps
/// numbers as text (a query string) parsed from it, as serde does for an `i64`.
pub fn asked<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    d.deserialize_i64(Whole(PhantomData))
}

struct Optional<T>(PhantomData<T>);

impl<'de, T: TryFrom<i64> + TryFrom<u64>> Visitor<'de> for Optional<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "null or a whole number in the range of {}",
            std::any::type_name::<T>()
        )
    }

    fn visit_none<E: Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        integer(d).map(Some)
    }
}

/// An integer of type `T`, or `null` (with `#[serde(default)]`, absent too).
pub fn optional<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64> + TryFrom<u64>,
{
    d.deserialize_option(Optional(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct T {
        #[serde(deserialize_with = "integer")]
        a: u8,
        #[serde(default, deserialize_with = "optional")]
        b: Option<i64>,
    }

    fn parse(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_are_integers_however_written() {
        assert_eq!(parse(r#"{"a": 3}"#).unwrap(), T { a: 3, b: None });
        assert_eq!(
            parse(r#"{"a": 3.0, "b": -2e3}"#).unwrap(),
            T {
                a: 3,
                b: Some(-2000)
            }
        );
        assert_eq!(
            parse(r#"{"a": 255, "b": null}"#).unwrap(),
            T { a: 255, b: None }
        );
        assert_eq!(
            parse(r#"{"a": 0, "b": 9223372036854775807}"#).unwrap(),
            T {
                a: 0,
                b: Some(i64::MAX)
            }
        );
    }

    #[test]
    fn fractions_out_of_range_and_other_types_are_refused() {
        for bad in [
            r#"{"a": 3.5}"#,
            r#"{"a": 256}"#,
            r#"{"a": 256.0}"#,
            r#"{"a": -1}"#,
            r#"{"a": "3"}"#,
            r#"{"a": null}"#,
            r#"{"a": 1, "b": 9.3e18}"#,
            r#"{"a": 1, "b": 1e400}"#,
            r#"{"a": 1, "b": true}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
        let err = parse(r#"{"a": 2.5}"#).unwrap_err();
        assert!(
            err.contains("expected a whole number in the range of u8"),
            "{err}"
        );
    }
}
