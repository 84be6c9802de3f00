//! Logical, comparison, conversion and numeric functions: `equals`, `less`, `and`, `int`, `add` ….

use super::{equal, Call, Failure, Outcome};
use crate::value::{Kind, Value};
use std::cmp::Ordering;

/// A number's value as f64.
pub(super) fn number(v: &Value) -> Option<f64> {
    match v.kind {
        Kind::Int(i) => Some(i as f64),
        Kind::Float(f) => Some(f),
        _ => None,
    }
}

pub(super) fn true_(_: &Call<'_>) -> Outcome {
    Ok(Value::bool(true))
}

pub(super) fn false_(_: &Call<'_>) -> Outcome {
    Ok(Value::bool(false))
}

pub(super) fn null(_: &Call<'_>) -> Outcome {
    Ok(Value::null())
}

/// `equals(a, b)`: see [`equal`].
pub(super) fn equals(c: &Call<'_>) -> Outcome {
    Ok(Value::bool(equal(c.arg(0)?, c.arg(1)?)?))
}

/// Orders two values: numbers by value, strings ordinally (case-sensitive).
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (&a.kind, &b.kind) {
        (Kind::Int(x), Kind::Int(y)) => Some(x.cmp(y)),
        (Kind::String(x), Kind::String(y)) => Some(x.cmp(y)),
        _ => number(a)?.partial_cmp(&number(b)?),
    }
}

/// `less()`, `lessOrEquals()`, `greater()`, `greaterOrEquals()`.
pub(super) fn comparison(c: &Call<'_>) -> Outcome {
    let o =
        order(c.arg(0)?, c.arg(1)?).ok_or_else(|| c.error("needs two numbers or two strings"))?;
    let lower = c.name.to_ascii_lowercase();
    Ok(Value::bool(match lower.as_str() {
        "less" => o.is_lt(),
        "lessorequals" => o.is_le(),
        "greater" => o.is_gt(),
        _ => o.is_ge(),
    }))
}

/// `not(bool)`.
pub(super) fn not(c: &Call<'_>) -> Outcome {
    c.arg(0)?
        .as_bool()
        .map(|b| Value::bool(!b))
        .ok_or_else(|| c.error("needs a bool"))
}

/// `and()` / `or()`: decided by any operand that decides it; else unknown when one is unknown.
pub(super) fn and_or(c: &Call<'_>) -> Outcome {
    let want = c.is("or");
    let mut unknown = None;
    for v in c.args {
        match &v.kind {
            Kind::Bool(b) if *b == want => return Ok(Value::bool(want)),
            Kind::Bool(_) => {}
            Kind::Unknown(_) => {
                unknown.get_or_insert_with(|| v.clone());
            }
            _ => return Err(c.error("needs bools")),
        }
    }
    match unknown {
        Some(u) => Err(Failure::Unknown(u)),
        None => Ok(Value::bool(!want)),
    }
}

/// `int(x)`: a number (truncated) or a string holding one.
pub(super) fn to_int(c: &Call<'_>) -> Outcome {
    let v = c.arg(0)?;
    match &v.kind {
        Kind::Int(i) => Ok(Value::int(*i)),
        Kind::Float(x) => Ok(Value::int(x.trunc() as i64)),
        Kind::String(s) => match s.trim().parse::<i64>() {
            Ok(i) => Ok(Value::int(i)),
            Err(_) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(|x| Value::int(x.trunc() as i64))
                .ok_or_else(|| c.error(&format!("cannot convert '{s}' to an integer"))),
        },
        _ => Err(c.error("needs a number or a string")),
    }
}

/// `float(x)`: a number or a string holding one.
pub(super) fn to_float(c: &Call<'_>) -> Outcome {
    let v = c.arg(0)?;
    let x = match &v.kind {
        Kind::String(s) => s.trim().parse::<f64>().ok(),
        _ => number(v),
    }
    .ok_or_else(|| c.error("needs a number or a string holding one"))?;
    Ok(Value::new(Kind::Float(x), None))
}

/// `bool(x)`: a bool, `'true'` / `'false'` (any case), `'1'` / `'0'`, or an integer.
pub(super) fn to_bool(c: &Call<'_>) -> Outcome {
    let v = c.arg(0)?;
    let b = match &v.kind {
        Kind::Bool(b) => Some(*b),
        Kind::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Kind::Int(i) => Some(*i != 0),
        _ => None,
    };
    b.map(Value::bool)
        .ok_or_else(|| c.error("cannot convert its argument to a bool"))
}

/// `add()`, `sub()`, `mul()`, `div()`, `mod()`: integers checked for overflow; a float operand
/// makes the result a float (an integer when whole).
pub(super) fn arithmetic(c: &Call<'_>) -> Outcome {
    let op = c.name.to_ascii_lowercase();
    if c.args.iter().any(|v| matches!(v.kind, Kind::Float(_))) {
        let a = number(c.arg(0)?).ok_or_else(|| c.error("needs numbers"))?;
        let b = number(c.arg(1)?).ok_or_else(|| c.error("needs numbers"))?;
        let r = match op.as_str() {
            "add" => a + b,
            "sub" => a - b,
            "mul" => a * b,
            "div" if b != 0.0 => a / b,
            "mod" if b != 0.0 => a % b,
            _ => return Err(c.error("divided by zero")),
        };
        return Ok(if r.fract() == 0.0 && r.abs() < 9.0e15 {
            Value::int(r as i64)
        } else {
            Value::new(Kind::Float(r), None)
        });
    }
    let (a, b) = (c.int(0)?, c.int(1)?);
    let r = match op.as_str() {
        "add" => a.checked_add(b),
        "sub" => a.checked_sub(b),
        "mul" => a.checked_mul(b),
        "div" => a.checked_div(b),
        _ => a.checked_rem(b),
    };
    r.map(Value::int)
        .ok_or_else(|| c.error("overflowed or divided by zero"))
}

/// `min()` / `max()` of numbers, given as arguments or as one array.
pub(super) fn min_max(c: &Call<'_>) -> Outcome {
    let items: &[Value] = match c.args {
        [one] => one.as_array().unwrap_or(c.args),
        _ => c.args,
    };
    let min = c.is("min");
    let mut best: Option<&Value> = None;
    for i in items {
        if i.is_unknown() {
            return Err(Failure::Unknown(i.clone()));
        }
        if number(i).is_none() {
            return Err(c.error("needs numbers"));
        }
        best = match best {
            Some(b) => {
                let o = order(i, b).ok_or_else(|| c.error("needs numbers"))?;
                Some(if (min && o.is_lt()) || (!min && o.is_gt()) {
                    i
                } else {
                    b
                })
            }
            None => Some(i),
        };
    }
    best.cloned().ok_or_else(|| c.error("of nothing"))
}
