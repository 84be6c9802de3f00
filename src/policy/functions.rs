//! The pure template functions of policy rules (strings, arrays, numbers, logic, IP ranges, dates)
//! and the case-insensitive comparisons both functions and condition operators use.

use crate::value::{Kind, Value};
use std::cmp::Ordering;

const MAX_BUILD: usize = 100_000;

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

fn to_str(v: &Value) -> String {
    match &v.kind {
        Kind::String(s) => s.clone(),
        Kind::Null => String::new(),
        _ => v.to_json_lossy().to_string(),
    }
}

fn arg<'a>(vals: &'a [Value], i: usize, f: &str) -> Result<&'a Value, String> {
    vals.get(i)
        .ok_or_else(|| format!("{f}() is missing argument {}", i + 1))
}

fn s_arg<'a>(vals: &'a [Value], i: usize, f: &str) -> Result<&'a str, String> {
    arg(vals, i, f)?
        .as_str()
        .ok_or_else(|| format!("{f}() expects a string as argument {}", i + 1))
}

fn i_arg(vals: &[Value], i: usize, f: &str) -> Result<i64, String> {
    let v = arg(vals, i, f)?;
    match &v.kind {
        Kind::String(s) => s.trim().parse().ok(),
        _ => v.as_i64(),
    }
    .ok_or_else(|| format!("{f}() expects an integer as argument {}", i + 1))
}

fn char_index(hay: &str, byte: usize) -> i64 {
    i64::try_from(hay.get(..byte).map_or(0, |s| s.chars().count())).unwrap_or(-1)
}

/// Evaluates a function whose arguments are known values.
pub fn pure(name: &str, vals: &[Value]) -> Result<Value, String> {
    let f = name;
    Ok(match name {
        "true" => Value::bool(true),
        "false" => Value::bool(false),
        "null" => Value::null(),
        "concat" => {
            if vals
                .iter()
                .all(|v| matches!(v.kind, Kind::Array(_) | Kind::Null))
                && !vals.is_empty()
                && vals.iter().any(|v| matches!(v.kind, Kind::Array(_)))
            {
                let mut out = Vec::new();
                for v in vals {
                    out.extend(v.as_array().unwrap_or_default().iter().cloned());
                }
                Value::array(out)
            } else {
                Value::string(vals.iter().map(to_str).collect::<String>())
            }
        }
        "tolower" => Value::string(s_arg(vals, 0, f)?.to_lowercase()),
        "toupper" => Value::string(s_arg(vals, 0, f)?.to_uppercase()),
        "trim" => Value::string(s_arg(vals, 0, f)?.trim()),
        "string" => Value::string(to_str(arg(vals, 0, f)?)),
        "tostring" => Value::string(to_str(arg(vals, 0, f)?)),
        "json" => {
            let s = s_arg(vals, 0, f)?;
            let j: serde_json::Value =
                serde_json::from_str(s).map_err(|e| format!("json(): {e}"))?;
            Value::from_json(&j)
        }
        "int" => {
            let v = arg(vals, 0, f)?;
            match &v.kind {
                Kind::String(s) => match s.trim().parse::<i64>() {
                    Ok(i) => Value::int(i),
                    Err(_) => Value::int(
                        s.trim()
                            .parse::<f64>()
                            .map_err(|_| format!("int() cannot convert '{s}'"))?
                            .trunc() as i64,
                    ),
                },
                Kind::Float(x) => Value::int(x.trunc() as i64),
                Kind::Int(i) => Value::int(*i),
                _ => return Err("int() expects a number or a string".into()),
            }
        }
        "float" => {
            let v = arg(vals, 0, f)?;
            let x = match &v.kind {
                Kind::String(s) => s
                    .trim()
                    .parse()
                    .map_err(|_| format!("float() cannot convert '{s}'"))?,
                _ => num(v).ok_or("float() expects a number or a string")?,
            };
            Value::new(Kind::Float(x), None)
        }
        "bool" => {
            let v = arg(vals, 0, f)?;
            match &v.kind {
                Kind::Bool(b) => Value::bool(*b),
                Kind::String(s) if s.eq_ignore_ascii_case("true") => Value::bool(true),
                Kind::String(s) if s.eq_ignore_ascii_case("false") => Value::bool(false),
                Kind::String(s) if s.trim() == "1" => Value::bool(true),
                Kind::String(s) if s.trim() == "0" => Value::bool(false),
                Kind::Int(i) => Value::bool(*i != 0),
                _ => return Err("bool() cannot convert its argument".into()),
            }
        }
        "array" => {
            let v = arg(vals, 0, f)?;
            match &v.kind {
                Kind::Array(_) => v.clone(),
                _ => Value::array(vec![v.clone()]),
            }
        }
        "createarray" => Value::array(vals.to_vec()),
        "createobject" => {
            let mut props = Vec::new();
            for pair in vals.chunks(2) {
                let [k, v] = pair else {
                    return Err("createObject() needs key/value pairs".into());
                };
                let k = k.as_str().ok_or("createObject() keys must be strings")?;
                props.push((k.to_string(), v.clone()));
            }
            Value::object(props)
        }
        "equals" => Value::bool(values_equal(arg(vals, 0, f)?, arg(vals, 1, f)?)),
        "not" => Value::bool(!arg(vals, 0, f)?.truthy().ok_or("not() expects a boolean")?),
        "less" | "lessorequals" | "greater" | "greaterorequals" => {
            let o = compare(arg(vals, 0, f)?, arg(vals, 1, f)?)
                .ok_or_else(|| format!("{f}() cannot compare its arguments"))?;
            Value::bool(match name {
                "less" => o == Ordering::Less,
                "lessorequals" => o != Ordering::Greater,
                "greater" => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        }
        "empty" => Value::bool(match &arg(vals, 0, f)?.kind {
            Kind::Null => true,
            Kind::String(s) => s.is_empty(),
            Kind::Array(a) => a.is_empty(),
            Kind::Object(o) => o.is_empty(),
            _ => false,
        }),
        "length" => {
            let v = arg(vals, 0, f)?;
            let n = match &v.kind {
                Kind::String(s) => s.chars().count(),
                Kind::Array(a) => a.len(),
                Kind::Object(o) => o.len(),
                Kind::Null => 0,
                _ => return Err("length() expects a string, array or object".into()),
            };
            Value::int(i64::try_from(n).unwrap_or(i64::MAX))
        }
        "contains" => {
            let c = arg(vals, 0, f)?;
            let x = arg(vals, 1, f)?;
            Value::bool(match &c.kind {
                Kind::String(s) => fold(s).contains(&fold(&to_str(x))),
                Kind::Array(a) => a.iter().any(|i| values_equal(i, x)),
                Kind::Object(_) => x.as_str().is_some_and(|k| c.get(k).is_some()),
                _ => return Err("contains() expects a string, array or object".into()),
            })
        }
        "startswith" => Value::bool(
            s_arg(vals, 0, f)?
                .to_lowercase()
                .starts_with(&s_arg(vals, 1, f)?.to_lowercase()),
        ),
        "endswith" => Value::bool(
            s_arg(vals, 0, f)?
                .to_lowercase()
                .ends_with(&s_arg(vals, 1, f)?.to_lowercase()),
        ),
        "indexof" | "lastindexof" => {
            let h = s_arg(vals, 0, f)?.to_lowercase();
            let n = s_arg(vals, 1, f)?.to_lowercase();
            let found = if name == "indexof" {
                h.find(&n)
            } else {
                h.rfind(&n)
            };
            Value::int(found.map_or(-1, |b| char_index(&h, b)))
        }
        "split" => {
            let s = s_arg(vals, 0, f)?;
            let d = arg(vals, 1, f)?;
            let delims: Vec<String> = match &d.kind {
                Kind::String(x) => vec![x.clone()],
                Kind::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => return Err("split() expects a string or array delimiter".into()),
            };
            let mut parts = vec![s.to_string()];
            for d in delims.iter().filter(|d| !d.is_empty()) {
                parts = parts
                    .iter()
                    .flat_map(|p| p.split(d.as_str()).map(str::to_string).collect::<Vec<_>>())
                    .collect();
            }
            Value::array(parts.into_iter().map(Value::string).collect())
        }
        "replace" => {
            Value::string(s_arg(vals, 0, f)?.replace(s_arg(vals, 1, f)?, s_arg(vals, 2, f)?))
        }
        "substring" => {
            let s: Vec<char> = s_arg(vals, 0, f)?.chars().collect();
            let start =
                usize::try_from(i_arg(vals, 1, f)?).map_err(|_| "substring(): bad start")?;
            let len = match vals.get(2) {
                Some(_) => {
                    usize::try_from(i_arg(vals, 2, f)?).map_err(|_| "substring(): bad length")?
                }
                None => s.len().saturating_sub(start),
            };
            let part = s
                .get(start..start.saturating_add(len))
                .ok_or("substring() is out of range")?;
            Value::string(part.iter().collect::<String>())
        }
        "padleft" => {
            let v = arg(vals, 0, f)?;
            let s = to_str(v);
            let width = usize::try_from(i_arg(vals, 1, f)?)
                .unwrap_or(0)
                .min(MAX_BUILD);
            let pad = vals
                .get(2)
                .and_then(Value::as_str)
                .and_then(|p| p.chars().next())
                .unwrap_or(' ');
            let n = s.chars().count();
            let mut out: String = std::iter::repeat_n(pad, width.saturating_sub(n)).collect();
            out.push_str(&s);
            Value::string(out)
        }
        "format" => {
            let fmt = s_arg(vals, 0, f)?;
            let mut out = String::new();
            let mut rest = fmt;
            while let Some(open) = rest.find('{') {
                out.push_str(rest.get(..open).unwrap_or(""));
                let after = rest.get(open + 1..).unwrap_or("");
                let Some(close) = after.find('}') else {
                    out.push_str(rest.get(open..).unwrap_or(""));
                    rest = "";
                    break;
                };
                let spec = after.get(..close).unwrap_or("");
                let idx: usize = spec
                    .split(':')
                    .next()
                    .and_then(|n| n.trim().parse().ok())
                    .ok_or("format() has a bad placeholder")?;
                out.push_str(&to_str(arg(vals, idx + 1, f)?));
                rest = after.get(close + 1..).unwrap_or("");
            }
            out.push_str(rest);
            Value::string(out)
        }
        "first" | "last" => {
            let v = arg(vals, 0, f)?;
            match &v.kind {
                Kind::Array(a) => {
                    let x = if name == "first" { a.first() } else { a.last() };
                    x.cloned().unwrap_or_else(Value::null)
                }
                Kind::String(s) => {
                    let c = if name == "first" {
                        s.chars().next()
                    } else {
                        s.chars().last()
                    };
                    Value::string(c.map(String::from).unwrap_or_default())
                }
                Kind::Null => Value::null(),
                _ => return Err(format!("{f}() expects an array or string")),
            }
        }
        "skip" | "take" => {
            let v = arg(vals, 0, f)?;
            let n = usize::try_from(i_arg(vals, 1, f)?.max(0)).unwrap_or(0);
            match &v.kind {
                Kind::Array(a) => Value::array(if name == "skip" {
                    a.iter().skip(n).cloned().collect()
                } else {
                    a.iter().take(n).cloned().collect()
                }),
                Kind::String(s) => Value::string(if name == "skip" {
                    s.chars().skip(n).collect::<String>()
                } else {
                    s.chars().take(n).collect::<String>()
                }),
                _ => return Err(format!("{f}() expects an array or string")),
            }
        }
        "union" | "intersection" => {
            let first = arg(vals, 0, f)?;
            match &first.kind {
                Kind::Array(_) => {
                    let mut out: Vec<Value> = Vec::new();
                    if name == "union" {
                        for v in vals {
                            for i in v.as_array().unwrap_or_default() {
                                if !out.iter().any(|o| values_equal(o, i)) {
                                    out.push(i.clone());
                                }
                            }
                        }
                    } else {
                        for i in first.as_array().unwrap_or_default() {
                            let everywhere = vals.iter().skip(1).all(|v| {
                                v.as_array()
                                    .unwrap_or_default()
                                    .iter()
                                    .any(|o| values_equal(o, i))
                            });
                            if everywhere && !out.iter().any(|o| values_equal(o, i)) {
                                out.push(i.clone());
                            }
                        }
                    }
                    Value::array(out)
                }
                Kind::Object(_) => {
                    let mut out = Value::object(Vec::new());
                    if name == "union" {
                        for v in vals {
                            for (k, x) in v.as_object().unwrap_or_default() {
                                out.set(k, x.clone());
                            }
                        }
                    } else {
                        for (k, x) in first.as_object().unwrap_or_default() {
                            if vals
                                .iter()
                                .skip(1)
                                .all(|v| v.get(k).is_some_and(|y| values_equal(x, y)))
                            {
                                out.set(k, x.clone());
                            }
                        }
                    }
                    out
                }
                _ => return Err(format!("{f}() expects arrays or objects")),
            }
        }
        "range" => {
            let start = i_arg(vals, 0, f)?;
            let count = i_arg(vals, 1, f)?.clamp(0, MAX_BUILD as i64);
            Value::array(
                (0..count)
                    .map(|i| Value::int(start.saturating_add(i)))
                    .collect(),
            )
        }
        "min" | "max" => {
            let items: Vec<Value> = match vals {
                [one] => one
                    .as_array()
                    .map(<[Value]>::to_vec)
                    .unwrap_or_else(|| vals.to_vec()),
                _ => vals.to_vec(),
            };
            let mut best: Option<Value> = None;
            for i in items {
                best = match best {
                    None => Some(i),
                    Some(b) => {
                        let o = compare(&i, &b).ok_or_else(|| format!("{f}() expects numbers"))?;
                        let better = if name == "min" {
                            o == Ordering::Less
                        } else {
                            o == Ordering::Greater
                        };
                        Some(if better { i } else { b })
                    }
                };
            }
            best.ok_or_else(|| format!("{f}() of nothing"))?
        }
        "add" | "sub" | "mul" | "div" | "mod"
            if vals.iter().any(|v| matches!(v.kind, Kind::Float(_))) =>
        {
            let a = num(arg(vals, 0, f)?).ok_or_else(|| format!("{f}() expects numbers"))?;
            let b = num(arg(vals, 1, f)?).ok_or_else(|| format!("{f}() expects numbers"))?;
            let r = match name {
                "add" => a + b,
                "sub" => a - b,
                "mul" => a * b,
                "div" if b != 0.0 => a / b,
                "mod" if b != 0.0 => a % b,
                _ => return Err(format!("{f}() divided by zero")),
            };
            if r.fract() == 0.0 && r.abs() < 9.0e15 {
                Value::int(r as i64)
            } else {
                Value::new(Kind::Float(r), None)
            }
        }
        "add" | "sub" | "mul" | "div" | "mod" => {
            let a = i_arg(vals, 0, f)?;
            let b = i_arg(vals, 1, f)?;
            let r = match name {
                "add" => a.checked_add(b),
                "sub" => a.checked_sub(b),
                "mul" => a.checked_mul(b),
                "div" => a.checked_div(b),
                _ => a.checked_rem(b),
            };
            Value::int(r.ok_or_else(|| format!("{f}() overflowed or divided by zero"))?)
        }
        "iprangesize" | "ipprefixlength" => {
            let net = parse_net(s_arg(vals, 0, f)?)?;
            if f == "ipprefixlength" {
                Value::int(i64::from(net.prefix_len()))
            } else {
                let host_bits = u32::from(net.max_prefix_len().saturating_sub(net.prefix_len()));
                Value::int(2i64.checked_pow(host_bits.min(62)).unwrap_or(i64::MAX))
            }
        }
        "nsgflow" => super::nsg::flow(arg(vals, 0, f)?, arg(vals, 1, f)?)?,
        "nsgdeniedflows" => super::nsg::denied_flows(arg(vals, 0, f)?, arg(vals, 1, f)?)?,
        "join" => {
            let items = arg(vals, 0, f)?
                .as_array()
                .ok_or("join() expects an array as argument 1")?;
            let sep = s_arg(vals, 1, f)?;
            Value::string(items.iter().map(to_str).collect::<Vec<_>>().join(sep))
        }
        "iprangecontains" => {
            let range = s_arg(vals, 0, f)?;
            let target = s_arg(vals, 1, f)?;
            Value::bool(ip_range_contains(range, target)?)
        }
        "uricomponent" => Value::string(uri_encode(s_arg(vals, 0, f)?)),
        "uricomponenttostring" => Value::string(uri_decode(s_arg(vals, 0, f)?)),
        "base64" => Value::string(base64_encode(s_arg(vals, 0, f)?.as_bytes())),
        "datauri" => Value::string(format!(
            "data:text/plain;charset=utf8;base64,{}",
            base64_encode(to_str(arg(vals, 0, f)?).as_bytes())
        )),
        "datauritostring" => {
            let s = s_arg(vals, 0, f)?;
            let (_, data) = s
                .split_once(";base64,")
                .ok_or("dataUriToString() expects a base64 data uri")?;
            Value::string(String::from_utf8_lossy(&base64_decode(data)?).into_owned())
        }
        "base64tojson" => {
            let text = String::from_utf8_lossy(&base64_decode(s_arg(vals, 0, f)?)?).into_owned();
            let j: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("base64ToJson(): {e}"))?;
            Value::from_json(&j)
        }
        "uri" => {
            let base = s_arg(vals, 0, f)?;
            let rel = s_arg(vals, 1, f)?;
            Value::string(if rel.contains("://") {
                rel.to_string()
            } else if let Some(r) = rel.strip_prefix('/') {
                let origin_end = base
                    .find("://")
                    .and_then(|i| {
                        base.get(i + 3..)
                            .and_then(|x| x.find('/'))
                            .map(|j| i + 3 + j)
                    })
                    .unwrap_or(base.len());
                format!("{}/{r}", base.get(..origin_end).unwrap_or(base))
            } else {
                let cut = base.rfind('/').map_or(0, |i| i + 1);
                format!("{}{rel}", base.get(..cut).unwrap_or(""))
            })
        }
        "base64tostring" => {
            Value::string(String::from_utf8_lossy(&base64_decode(s_arg(vals, 0, f)?)?).into_owned())
        }
        "datetimetoepoch" => Value::int(parse_datetime(s_arg(vals, 0, f)?)?),
        "datetimefromepoch" => Value::string(format_datetime(i_arg(vals, 0, f)?)),
        "adddays" => {
            let t = parse_datetime(s_arg(vals, 0, f)?)?;
            let d = i_arg(vals, 1, f)?;
            Value::string(format_datetime(t.saturating_add(d.saturating_mul(86_400))))
        }
        "datetimeadd" => {
            let t = parse_datetime(s_arg(vals, 0, f)?)?;
            let d = parse_duration(s_arg(vals, 1, f)?)?;
            Value::string(format_datetime(t.saturating_add(d)))
        }
        other => {
            return Err(format!(
                "function '{other}' is not supported in policy rules"
            ))
        }
    })
}

/// Does the CIDR range (or single address) `range` contain `target` (an address or a range)?
pub fn ip_range_contains(range: &str, target: &str) -> Result<bool, String> {
    let net = parse_net(range)?;
    let t = parse_net(target)?;
    if net.addr().is_ipv4() != t.addr().is_ipv4() {
        return Err(format!(
            "'{range}' and '{target}' are different address families"
        ));
    }
    Ok(net.contains(&t))
}

fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<ipnet::IpNet>() {
        return Ok(n.trunc());
    }
    s.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| format!("'{s}' is not an ip address or range"))
}

fn uri_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn uri_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(B64.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let v = B64
            .iter()
            .position(|x| *x == c)
            .ok_or("invalid base64 text")?;
        acc = (acc << 6) | u32::try_from(v).unwrap_or(0);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    Ok(out)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since the epoch of an ISO 8601 date-time (`2024-01-31`, `2024-01-31T10:00:00Z`).
pub fn parse_datetime(s: &str) -> Result<i64, String> {
    let bad = || format!("'{s}' is not a date-time");
    let s = s.trim();
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, t),
        None => (s, ""),
    };
    let mut dp = date.split('-').map(|p| p.parse::<i64>());
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d))) = (dp.next(), dp.next(), dp.next()) else {
        return Err(bad());
    };
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if !time.is_empty() {
        let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
            Some(i) => (time.get(..i).unwrap_or(""), time.get(i..).unwrap_or("")),
            None => (time, ""),
        };
        let clock = clock.split('.').next().unwrap_or("");
        let mut tp = clock.split(':').map(|p| p.parse::<i64>());
        let h = tp.next().unwrap_or(Ok(0)).map_err(|_| bad())?;
        let mi = tp.next().unwrap_or(Ok(0)).map_err(|_| bad())?;
        let se = tp.next().unwrap_or(Ok(0)).map_err(|_| bad())?;
        secs += h * 3600 + mi * 60 + se;
        if let Some(rest) = offset
            .strip_prefix('+')
            .or_else(|| offset.strip_prefix('-'))
        {
            let sign = if offset.starts_with('+') { -1 } else { 1 };
            let mut op = rest.split(':').map(|p| p.parse::<i64>().unwrap_or(0));
            let oh = op.next().unwrap_or(0);
            let om = op.next().unwrap_or(0);
            secs += sign * (oh * 3600 + om * 60);
        }
    }
    Ok(secs)
}

/// ISO 8601 UTC rendering of seconds since the epoch.
pub fn format_datetime(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let r = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        r / 3600,
        (r % 3600) / 60,
        r % 60
    )
}

/// Seconds in an ISO 8601 duration (`P1D`, `PT1H30M`, `-P7D`); years and months count 365 and 30 days.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("'{s}' is not a duration");
    let (sign, rest) = match s.trim().strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s.trim()),
    };
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    let mut total = 0i64;
    let mut in_time = false;
    let mut n = String::new();
    for c in rest.chars() {
        match c {
            'T' => in_time = true,
            '0'..='9' | '.' => n.push(c),
            _ => {
                let v: f64 = n.parse().map_err(|_| bad())?;
                n.clear();
                let unit = match (c, in_time) {
                    ('Y', false) => 365.0 * 86_400.0,
                    ('M', false) => 30.0 * 86_400.0,
                    ('W', false) => 7.0 * 86_400.0,
                    ('D', false) => 86_400.0,
                    ('H', true) => 3600.0,
                    ('M', true) => 60.0,
                    ('S', true) => 1.0,
                    _ => return Err(bad()),
                };
                total += (v * unit) as i64;
            }
        }
    }
    Ok(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_ranges() {
        assert!(ip_range_contains("10.0.0.0/8", "10.1.2.3").unwrap());
        assert!(ip_range_contains("10.0.0.0/8", "10.1.0.0/16").unwrap());
        assert!(!ip_range_contains("10.0.0.0/16", "10.1.0.0/16").unwrap());
        assert!(ip_range_contains("10.0.0.0/8", "::1").is_err());
    }

    #[test]
    fn dates_round_trip() {
        let t = parse_datetime("2024-02-29T12:30:00Z").unwrap();
        assert_eq!(format_datetime(t), "2024-02-29T12:30:00Z");
        assert_eq!(parse_duration("P1DT1H").unwrap(), 90_000);
    }

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
