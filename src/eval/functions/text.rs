//! String functions: `concat`, `format`, `string`, `split`, `join`, `replace`, `substring` ….

use super::{to_text, Bounds, Call, Failure, Outcome};
use crate::value::{Kind, Value};

/// `concat()`: arrays joined when every argument is an array (or null), else text.
pub(super) fn concat(c: &Call<'_>) -> Outcome {
    let arrays = !c.args.is_empty()
        && c.args
            .iter()
            .all(|v| matches!(v.kind, Kind::Array(_) | Kind::Null))
        && c.args.iter().any(|v| matches!(v.kind, Kind::Array(_)));
    if arrays {
        let mut out = Vec::new();
        for v in c.args {
            out.extend(v.as_array().unwrap_or_default().iter().cloned());
        }
        return Ok(Value::array(out));
    }
    text_of_all(c.args, c.bounds).map(Value::string)
}

/// The values' text joined (ARM's `concat()` of strings).
pub fn text_of_all(values: &[Value], bounds: Bounds) -> Result<String, Failure> {
    let mut s = String::new();
    for v in values {
        s.push_str(&to_text(v)?);
        if s.len() > bounds.string_len {
            return Err(Failure::Limit(format!(
                "a string longer than {} bytes",
                bounds.string_len
            )));
        }
    }
    Ok(s)
}

/// `format('{0}-{1}', a, b)`: .NET composite formatting without format specifiers; `{{` and
/// `}}` are literal braces.
pub(super) fn format(c: &Call<'_>) -> Outcome {
    let fmt = c.str(0)?;
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for ch in chars.by_ref() {
                    if ch == '}' {
                        break;
                    }
                    spec.push(ch);
                }
                let index: usize = spec
                    .split([':', ','])
                    .next()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or_else(|| c.error("has a placeholder that is not an argument number"))?;
                let arg = c
                    .args
                    .get(index + 1)
                    .ok_or_else(|| c.error("refers to a missing argument"))?;
                out.push_str(&to_text(arg)?);
                if out.len() > c.bounds.string_len {
                    return c.bounded(out);
                }
            }
            ch => out.push(ch),
        }
    }
    c.bounded(out)
}

/// `string(x)`: ARM's text of a value.
pub(super) fn string(c: &Call<'_>) -> Outcome {
    c.bounded(to_text(c.arg(0)?)?)
}

pub(super) fn to_lower(c: &Call<'_>) -> Outcome {
    Ok(Value::string(c.str(0)?.to_lowercase()))
}

pub(super) fn to_upper(c: &Call<'_>) -> Outcome {
    Ok(Value::string(c.str(0)?.to_uppercase()))
}

pub(super) fn trim(c: &Call<'_>) -> Outcome {
    Ok(Value::string(c.str(0)?.trim()))
}

pub(super) fn replace(c: &Call<'_>) -> Outcome {
    let (s, from, to) = (c.str(0)?, c.str(1)?, c.str(2)?);
    if from.is_empty() {
        return Err(c.error("needs a non-empty text to replace"));
    }
    c.bounded(s.replace(from, to))
}

/// `substring(s, start, [length])` in characters; a range outside the string is an error.
pub(super) fn substring(c: &Call<'_>) -> Outcome {
    let chars: Vec<char> = c.str(0)?.chars().collect();
    let start = usize::try_from(c.int(1)?).map_err(|_| c.error("needs a start of 0 or more"))?;
    let len = match c.args.get(2) {
        Some(_) => {
            usize::try_from(c.int(2)?).map_err(|_| c.error("needs a length of 0 or more"))?
        }
        None => chars.len().saturating_sub(start),
    };
    let part = chars
        .get(start..start.saturating_add(len))
        .ok_or_else(|| c.error("reads past the end of the string"))?;
    Ok(Value::string(part.iter().collect::<String>()))
}

/// `padLeft(value, width, [char])`.
pub(super) fn pad_left(c: &Call<'_>) -> Outcome {
    let s = to_text(c.arg(0)?)?;
    let width = usize::try_from(c.int(1)?.max(0)).unwrap_or(0);
    if width > c.bounds.string_len {
        return Err(c.too_long());
    }
    let pad = match c.args.get(2) {
        Some(_) => c
            .str(2)?
            .chars()
            .next()
            .ok_or_else(|| c.error("needs a padding character"))?,
        None => ' ',
    };
    let n = s.chars().count();
    let mut out: String = std::iter::repeat_n(pad, width.saturating_sub(n)).collect();
    out.push_str(&s);
    c.bounded(out)
}

/// `split(s, separator)` or `split(s, [separators])`; empty separators are ignored.
pub(super) fn split(c: &Call<'_>) -> Outcome {
    let s = c.str(0)?;
    let seps: Vec<&str> = match &c.arg(1)?.kind {
        Kind::String(x) => vec![x.as_str()],
        Kind::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => return Err(c.error("needs a string or an array of strings as separator")),
    };
    let mut parts = vec![s.to_string()];
    for sep in seps.iter().filter(|s| !s.is_empty()) {
        parts = parts
            .iter()
            .flat_map(|p| p.split(sep).map(str::to_string).collect::<Vec<_>>())
            .collect();
    }
    Ok(Value::array(parts.into_iter().map(Value::string).collect()))
}

/// `join(array, separator)`: the elements' text.
pub(super) fn join(c: &Call<'_>) -> Outcome {
    let items = c
        .arg(0)?
        .as_array()
        .ok_or_else(|| c.error("needs an array as argument 1"))?;
    let sep = c.str(1)?;
    let mut out = String::new();
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&to_text(x)?);
        if out.len() > c.bounds.string_len {
            return c.bounded(out);
        }
    }
    c.bounded(out)
}

/// `startsWith()` / `endsWith()`, case-insensitive.
pub(super) fn starts_ends_with(c: &Call<'_>) -> Outcome {
    let (s, p) = (c.str(0)?.to_lowercase(), c.str(1)?.to_lowercase());
    Ok(Value::bool(if c.is("startswith") {
        s.starts_with(&p)
    } else {
        s.ends_with(&p)
    }))
}

/// `json(text)`.
pub(super) fn json(c: &Call<'_>) -> Outcome {
    let s = c.str(0)?;
    serde_json::from_str::<serde_json::Value>(s)
        .map(|j| Value::from_json(&j))
        .map_err(|e| c.error(&format!("of text that is not JSON: {e}")))
}
