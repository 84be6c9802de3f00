//! The comparisons of policy condition operators (`equals`, `in`, `less` …): case-insensitive
//! for strings, numbers by value, a string and a number or bool compared by the string's value.
//! (The functions of `[...]` expressions are ARM's, in `eval/functions/`.)

use crate::value::{Kind, Value};
use std::cmp::Ordering;

/// Case-insensitive deep equality of two known values; numbers compare by value.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::String(x), Kind::String(y)) => {
            if x.is_ascii() && y.is_ascii() {
                x.eq_ignore_ascii_case(y)
            } else {
                fold(x) == fold(y)
            }
        }
        (Kind::String(s), Kind::Bool(v)) | (Kind::Bool(v), Kind::String(s)) => s
            .trim()
            .eq_ignore_ascii_case(if *v { "true" } else { "false" }),
        (Kind::String(s), Kind::Int(_) | Kind::Float(_)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .zip(num(b))
            .is_some_and(|(x, y)| x == y),
        (Kind::Int(_) | Kind::Float(_), Kind::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .zip(num(a))
            .is_some_and(|(x, y)| x == y),
        (Kind::Int(_) | Kind::Float(_), Kind::Int(_) | Kind::Float(_)) => {
            num(a).zip(num(b)).is_some_and(|(x, y)| x == y)
        }
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::Null, Kind::Null) => true,
        (Kind::Array(x), Kind::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Kind::Object(x), Kind::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => false,
    }
}

/// A number's value as f64.
pub fn num(v: &Value) -> Option<f64> {
    match v.kind {
        Kind::Int(i) => Some(i as f64),
        Kind::Float(f) => Some(f),
        _ => None,
    }
}

/// Orders two values of the same kind (numbers, strings case-insensitively); `None` otherwise.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (&a.kind, &b.kind) {
        (Kind::String(x), Kind::String(y)) => Some(fold(x).cmp(&fold(y))),
        (Kind::String(s), Kind::Int(_) | Kind::Float(_)) => {
            s.trim().parse::<f64>().ok()?.partial_cmp(&num(b)?)
        }
        (Kind::Int(_) | Kind::Float(_), Kind::String(s)) => {
            num(a)?.partial_cmp(&s.trim().parse::<f64>().ok()?)
        }
        _ => num(a)?.partial_cmp(&num(b)?),
    }
}

/// Full case folding for case-insensitive comparison (`ß` and `SS` compare equal).
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_uppercase().to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_compare_case_insensitively() {
        assert!(values_equal(
            &Value::string("Premium"),
            &Value::string("premium")
        ));
        assert_eq!(
            compare(&Value::int(2), &Value::new(Kind::Float(2.5), None)),
            Some(Ordering::Less)
        );
    }
}
