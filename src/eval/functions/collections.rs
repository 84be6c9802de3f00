//! Array and object functions: `length`, `contains`, `union`, `range`, `take`, `items` ….

use super::{equal, to_text, Call, Failure, Outcome};
use crate::value::{Kind, Value};

fn count(n: usize) -> Value {
    Value::int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Does `items` hold `x`? Unknown when no known element matches and an unknown one might.
fn holds(items: &[Value], x: &Value) -> Result<bool, Failure> {
    let mut unknown = None;
    for i in items {
        match equal(i, x) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(u) => {
                unknown.get_or_insert(u);
            }
        }
    }
    match unknown {
        Some(u) => Err(u),
        None => Ok(false),
    }
}

/// `length()` of a string (characters), an array, an object; 0 for null.
pub(super) fn length(c: &Call<'_>) -> Outcome {
    Ok(count(match &c.arg(0)?.kind {
        Kind::String(s) => s.chars().count(),
        Kind::Array(a) => a.len(),
        Kind::Object(o) => o.len(),
        Kind::Null => 0,
        _ => return Err(c.error("needs a string, an array or an object")),
    }))
}

/// `empty()`: null, or an empty string, array or object.
pub(super) fn empty(c: &Call<'_>) -> Outcome {
    Ok(Value::bool(match &c.arg(0)?.kind {
        Kind::Null => true,
        Kind::String(s) => s.is_empty(),
        Kind::Array(a) => a.is_empty(),
        Kind::Object(o) => o.is_empty(),
        _ => false,
    }))
}

/// `contains(container, x)`: a substring (case-sensitive), an element, or a key.
pub(super) fn contains(c: &Call<'_>) -> Outcome {
    let container = c.arg(0)?;
    let x = c.arg(1)?;
    Ok(Value::bool(match &container.kind {
        Kind::String(s) => s.contains(&to_text(x)?),
        Kind::Array(a) => holds(a, x)?,
        Kind::Object(_) => x.as_str().is_some_and(|k| container.get(k).is_some()),
        _ => return Err(c.error("needs a string, an array or an object")),
    }))
}

/// `indexOf()` / `lastIndexOf()`: of a substring (case-insensitive, in characters) or an element;
/// -1 when absent.
pub(super) fn index_of(c: &Call<'_>) -> Outcome {
    let last = c.is("lastindexof");
    match &c.arg(0)?.kind {
        Kind::String(s) => {
            let (h, n) = (s.to_lowercase(), c.str(1)?.to_lowercase());
            let found = if last { h.rfind(&n) } else { h.find(&n) };
            Ok(Value::int(found.and_then(|b| h.get(..b)).map_or(-1, |p| {
                i64::try_from(p.chars().count()).unwrap_or(-1)
            })))
        }
        Kind::Array(a) => {
            let x = c.arg(1)?;
            let order: Vec<(usize, &Value)> = if last {
                a.iter().enumerate().rev().collect()
            } else {
                a.iter().enumerate().collect()
            };
            for (i, item) in order {
                if equal(item, x)? {
                    return Ok(Value::int(i64::try_from(i).unwrap_or(-1)));
                }
            }
            Ok(Value::int(-1))
        }
        _ => Err(c.error("needs a string or an array")),
    }
}

/// `first()` / `last()` of an array or a string; null for null.
pub(super) fn first_last(c: &Call<'_>) -> Outcome {
    let first = c.is("first");
    match &c.arg(0)?.kind {
        Kind::Array(a) => Ok(if first { a.first() } else { a.last() }
            .cloned()
            .unwrap_or_else(Value::null)),
        Kind::String(s) => {
            let ch = if first {
                s.chars().next()
            } else {
                s.chars().last()
            };
            Ok(Value::string(ch.map(String::from).unwrap_or_default()))
        }
        Kind::Null => Ok(Value::null()),
        _ => Err(c.error("needs an array or a string")),
    }
}

/// `take()` / `skip()` of an array or a string.
pub(super) fn take_skip(c: &Call<'_>) -> Outcome {
    let take = c.is("take");
    let n = usize::try_from(c.int(1)?.max(0)).unwrap_or(0);
    match &c.arg(0)?.kind {
        Kind::Array(a) => Ok(Value::array(if take {
            a.iter().take(n).cloned().collect()
        } else {
            a.iter().skip(n).cloned().collect()
        })),
        Kind::String(s) => Ok(Value::string(if take {
            s.chars().take(n).collect::<String>()
        } else {
            s.chars().skip(n).collect::<String>()
        })),
        _ => Err(c.error("needs an array or a string")),
    }
}

/// Is `x` one of `items` for `union()` / `intersection()`: an element that can't be compared (an
/// unknown part) counts as different, so that a known element and an id with placeholders are
/// both kept.
fn one_of(items: &[Value], x: &Value) -> bool {
    items.iter().any(|i| equal(i, x) == Ok(true))
}

/// `union()`: objects merged (a nested object merged with the one it replaces), or arrays
/// without duplicates.
pub(super) fn union(c: &Call<'_>) -> Outcome {
    if c.args.iter().all(|v| matches!(v.kind, Kind::Object(_))) {
        let mut out = Value::object(Vec::new());
        for v in c.args {
            for (k, pv) in v.as_object().unwrap_or_default() {
                let merged = match (out.get(k), &pv.kind) {
                    (Some(old), Kind::Object(props)) if old.as_object().is_some() => {
                        let mut m = old.clone();
                        for (nk, nv) in props {
                            m.set(nk, nv.clone());
                        }
                        m
                    }
                    _ => pv.clone(),
                };
                out.set(k, merged);
            }
        }
        return Ok(out);
    }
    let mut out: Vec<Value> = Vec::new();
    for v in c.args {
        match &v.kind {
            Kind::Array(a) => {
                for i in a {
                    if !one_of(&out, i) {
                        out.push(i.clone());
                    }
                }
            }
            _ => return Err(c.error("needs arrays or objects")),
        }
    }
    Ok(Value::array(out))
}

/// `intersection()` of arrays (elements in every one) or objects (equal properties).
pub(super) fn intersection(c: &Call<'_>) -> Outcome {
    let first = c.arg(0)?;
    let rest = c.args.get(1..).unwrap_or_default();
    match &first.kind {
        Kind::Array(a) => {
            let mut out = Vec::new();
            'items: for i in a {
                for r in rest {
                    let other = r.as_array().ok_or_else(|| c.error("needs arrays"))?;
                    if !one_of(other, i) {
                        continue 'items;
                    }
                }
                out.push(i.clone());
            }
            Ok(Value::array(out))
        }
        Kind::Object(o) => {
            let mut out = Vec::new();
            'props: for (k, v) in o {
                for r in rest {
                    match r.get(k) {
                        Some(x) if equal(x, v) == Ok(true) => {}
                        _ => continue 'props,
                    }
                }
                out.push((k.clone(), v.clone()));
            }
            Ok(Value::object(out))
        }
        _ => Err(c.error("needs arrays or objects")),
    }
}

/// `range(start, count)`.
pub(super) fn range(c: &Call<'_>) -> Outcome {
    let (start, n) = (c.int(0)?, c.int(1)?);
    if n < 0 {
        return Err(c.error("needs a count of 0 or more"));
    }
    let limit = i64::try_from(c.bounds.range_items).unwrap_or(i64::MAX);
    if n > limit {
        return Err(Failure::Limit(format!(
            "range() of {n} items (at most {limit})"
        )));
    }
    Ok(Value::array(
        (0..n)
            .map(|i| Value::int(start.saturating_add(i)))
            .collect(),
    ))
}

/// `items(object)`: `{key, value}` entries sorted by key.
pub(super) fn items(c: &Call<'_>) -> Outcome {
    let o = c
        .arg(0)?
        .as_object()
        .ok_or_else(|| c.error("needs an object"))?;
    let mut entries = o.to_vec();
    entries.sort_by_key(|(k, _)| k.to_lowercase());
    Ok(Value::array(
        entries
            .into_iter()
            .map(|(k, v)| {
                Value::object(vec![("key".into(), Value::string(k)), ("value".into(), v)])
            })
            .collect(),
    ))
}

/// `objectKeys(object)`.
pub(super) fn object_keys(c: &Call<'_>) -> Outcome {
    let o = c
        .arg(0)?
        .as_object()
        .ok_or_else(|| c.error("needs an object"))?;
    Ok(Value::array(
        o.iter().map(|(k, _)| Value::string(k.clone())).collect(),
    ))
}

/// `flatten(array of arrays)`.
pub(super) fn flatten(c: &Call<'_>) -> Outcome {
    let a = c
        .arg(0)?
        .as_array()
        .ok_or_else(|| c.error("needs an array"))?;
    let mut out = Vec::new();
    for x in a {
        match &x.kind {
            Kind::Array(inner) => out.extend(inner.iter().cloned()),
            Kind::Unknown(_) => return Err(Failure::Unknown(x.clone())),
            _ => out.push(x.clone()),
        }
    }
    Ok(Value::array(out))
}

/// `shallowMerge(array of objects)`: later properties win.
pub(super) fn shallow_merge(c: &Call<'_>) -> Outcome {
    let a = c
        .arg(0)?
        .as_array()
        .ok_or_else(|| c.error("needs an array of objects"))?;
    let mut out = Value::object(Vec::new());
    for o in a {
        match &o.kind {
            Kind::Object(props) => {
                for (k, v) in props {
                    out.set(k, v.clone());
                }
            }
            Kind::Unknown(_) => return Err(Failure::Unknown(o.clone())),
            _ => {}
        }
    }
    Ok(out)
}

/// `tryGet(value, key, …)`: the value under the keys (or indexes), null when one is missing.
pub(super) fn try_get(c: &Call<'_>) -> Outcome {
    let mut cur = c.arg(0)?.clone();
    for k in c.args.iter().skip(1) {
        if cur.is_unknown() {
            return Err(Failure::Unknown(cur));
        }
        if k.is_unknown() {
            return Err(Failure::Unknown(k.clone()));
        }
        cur = match (&cur.kind, k.as_str(), k.as_i64()) {
            (Kind::Object(_), Some(key), _) => cur.get(key).cloned(),
            (Kind::Array(items), _, Some(i)) => {
                usize::try_from(i).ok().and_then(|i| items.get(i)).cloned()
            }
            _ => None,
        }
        .unwrap_or_else(Value::null);
    }
    Ok(cur)
}

/// `coalesce()`: the first argument that is not null (an unknown one included).
pub(super) fn coalesce(c: &Call<'_>) -> Outcome {
    Ok(c.args
        .iter()
        .find(|v| !matches!(v.kind, Kind::Null))
        .cloned()
        .unwrap_or_else(Value::null))
}

/// `createArray(…)`.
pub(super) fn create_array(c: &Call<'_>) -> Outcome {
    Ok(Value::array(c.args.to_vec()))
}

/// `array(x)`: `x` if an array, else `[x]`.
pub(super) fn array(c: &Call<'_>) -> Outcome {
    let v = c.arg(0)?;
    Ok(match &v.kind {
        Kind::Array(_) => v.clone(),
        _ => Value::array(vec![v.clone()]),
    })
}

/// `createObject(key, value, …)`.
pub(super) fn create_object(c: &Call<'_>) -> Outcome {
    let mut out = Value::object(Vec::new());
    for pair in c.args.chunks(2) {
        let [k, v] = pair else {
            return Err(c.error("needs key/value pairs"));
        };
        match &k.kind {
            Kind::String(key) => out.set(key, v.clone()),
            Kind::Unknown(_) => return Err(Failure::Unknown(k.clone())),
            _ => return Err(c.error("needs string keys")),
        }
    }
    Ok(out)
}
