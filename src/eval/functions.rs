//! The template functions both languages share (`concat`, `resourceId`, `split` …) and operators.

use super::{
    index_value, type_error, value_text, Evaluator, Locals, RESOURCE_GROUP_PLACEHOLDER,
    SUBSCRIPTION_PLACEHOLDER,
};
use crate::expr::{BinaryOp, Expr, ExprKind};
use crate::source::Span;
use crate::value::{Kind, Reason, Value};

/// Functions whose result only the deployment knows.
const RUNTIME: &[&str] = &[
    "reference",
    "list",
    "listkeys",
    "listsecrets",
    "listaccountsas",
    "listservicesas",
    "listcredentials",
    "listconnectionstrings",
    "newguid",
    "utcnow",
    "pickzones",
    "providers",
    "getsecret",
    "readenvironmentvariable",
    "datetimeadd",
    "datetimefromepoch",
    "datetimetoepoch",
    "loadtextcontent",
    "loadjsoncontent",
    "loadyamlcontent",
    "loadfileasbase64",
    "base64tostring",
    "base64tojson",
    "externalinput",
];

/// Joins string-like values into one string: symbolic when a part is symbolic or a parameter
/// with no value; unknown (with the first reason) when a part is otherwise unknown.
pub(super) fn concat_text(values: &[Value], max_len: usize) -> Value {
    let mut text = String::new();
    let mut symbolic = false;
    for v in values {
        match &v.kind {
            Kind::String(s) => text.push_str(s),
            Kind::Int(i) => text.push_str(&i.to_string()),
            Kind::Bool(b) => text.push_str(if *b { "True" } else { "False" }),
            Kind::Null => {}
            Kind::Float(f) => text.push_str(&f.to_string()),
            Kind::Array(_) | Kind::Object(_) => {
                if let Some(r) = v.first_unknown() {
                    return Value::unknown(r.clone());
                }
                text.push_str(&v.to_json_lossy().to_string());
            }
            Kind::Unknown(r) => match r.as_ref() {
                Reason::Symbolic { text: t } => {
                    symbolic = true;
                    text.push_str(t);
                }
                Reason::Parameter { name } => {
                    symbolic = true;
                    text.push('{');
                    text.push_str(name);
                    text.push('}');
                }
                _ => return v.clone(),
            },
        }
        if text.len() > max_len {
            return Value::unknown(Reason::Limit {
                what: format!("a string longer than {max_len} bytes"),
            });
        }
    }
    if symbolic {
        Value::symbolic(text)
    } else {
        Value::string(text)
    }
}

/// Placeholders whose text can't contain a separator a template splits on (`/`, `-`, `.`):
/// the deployment's ids and names, and `uniqueString()` / `guid()` results.
const ATOMIC_PLACEHOLDERS: &[&str] = &[
    "{subscriptionid}",
    "{resourcegroupname}",
    "{managementgroupid}",
    "{tenantid}",
    "{uniquestring(",
    "{guid(",
];

/// `split()` of a partly known string (`resourceId(…)` with the deployment's placeholders): the
/// parts, each known or symbolic, when every placeholder is one that can't hold the separator;
/// `None` otherwise. On `/` every placeholder is taken as one piece: in the ids and names that
/// are split on `/` a placeholder stands for one segment, as ids are composed everywhere else.
fn split_symbolic(text: &str, sep: &str) -> Option<Value> {
    if sep.is_empty() || sep.contains(['{', '}']) {
        return None;
    }
    let any_placeholder = sep == "/";
    // Placeholders at depth 0, each checked and skipped; separators only outside them.
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if rest.starts_with('{') {
            let lower = rest.to_ascii_lowercase();
            if !any_placeholder && !ATOMIC_PLACEHOLDERS.iter().any(|p| lower.starts_with(p)) {
                return None;
            }
            let mut depth = 0usize;
            let mut end = None;
            for (i, c) in rest.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let end = end?;
            current.push_str(rest.get(..end)?);
            rest = rest.get(end..)?;
        } else if let Some(after) = rest.strip_prefix(sep) {
            parts.push(std::mem::take(&mut current));
            rest = after;
        } else {
            let c = rest.chars().next()?;
            current.push(c);
            rest = rest.get(c.len_utf8()..)?;
        }
    }
    parts.push(current);
    Some(Value::array(
        parts
            .into_iter()
            .map(|p| {
                if p.contains('{') {
                    Value::symbolic(p)
                } else {
                    Value::string(p)
                }
            })
            .collect(),
    ))
}

fn first_unknown_of(values: &[Value]) -> Option<Value> {
    values
        .iter()
        .find(|v| v.is_unknown())
        .map(|v| Value::new(v.kind.clone(), None))
}

fn int_arg(values: &[Value], i: usize) -> Option<i64> {
    values.get(i).and_then(Value::as_i64)
}

fn str_arg(values: &[Value], i: usize) -> Option<&str> {
    values.get(i).and_then(Value::as_str)
}

/// Deep equality; strings compared case-sensitively unless `insensitive`.
pub(super) fn values_equal(a: &Value, b: &Value, insensitive: bool) -> Option<bool> {
    if a.first_unknown().is_some() || b.first_unknown().is_some() {
        return None;
    }
    Some(match (&a.kind, &b.kind) {
        (Kind::String(x), Kind::String(y)) if insensitive => x.eq_ignore_ascii_case(y),
        _ => a.to_json_lossy() == b.to_json_lossy(),
    })
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (&a.kind, &b.kind) {
        (Kind::Int(x), Kind::Int(y)) => Some(x.cmp(y)),
        (Kind::String(x), Kind::String(y)) => Some(x.cmp(y)),
        _ => match (as_f64(a), as_f64(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v.kind {
        Kind::Int(i) => Some(i as f64),
        Kind::Float(f) => Some(f),
        _ => None,
    }
}

/// A binary operator over two evaluated operands.
pub(super) fn binary(op: BinaryOp, l: &Value, r: &Value) -> Value {
    if let Some(u) = first_unknown_of(&[l.clone(), r.clone()]) {
        return u;
    }
    match op {
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::EqInsensitive | BinaryOp::NotEqInsensitive => {
            let insensitive = matches!(op, BinaryOp::EqInsensitive | BinaryOp::NotEqInsensitive);
            let eq = values_equal(l, r, insensitive).unwrap_or(false);
            Value::bool(if matches!(op, BinaryOp::Eq | BinaryOp::EqInsensitive) {
                eq
            } else {
                !eq
            })
        }
        BinaryOp::Less | BinaryOp::LessEq | BinaryOp::Greater | BinaryOp::GreaterEq => {
            match compare(l, r) {
                Some(o) => Value::bool(match op {
                    BinaryOp::Less => o.is_lt(),
                    BinaryOp::LessEq => o.is_le(),
                    BinaryOp::Greater => o.is_gt(),
                    _ => o.is_ge(),
                }),
                None => type_error("values that can't be compared"),
            }
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            arithmetic(op, l, r)
        }
        BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => type_error("unexpected operator"),
    }
}

fn arithmetic(op: BinaryOp, l: &Value, r: &Value) -> Value {
    let (Some(a), Some(b)) = (l.as_i64(), r.as_i64()) else {
        return type_error("arithmetic needs integers");
    };
    let result = match op {
        BinaryOp::Add => a.checked_add(b),
        BinaryOp::Sub => a.checked_sub(b),
        BinaryOp::Mul => a.checked_mul(b),
        BinaryOp::Div => a.checked_div(b),
        BinaryOp::Mod => a.checked_rem(b),
        _ => None,
    };
    match result {
        Some(v) => Value::int(v),
        None => type_error("integer overflow or division by zero"),
    }
}

/// The id of a resource from a scope and `type, name…` arguments (`resourceId`'s tail).
fn resource_id_from(scope: String, type_and_names: &[Value], known: bool) -> Value {
    let Some(type_name) = type_and_names.first() else {
        return type_error("resourceId() needs a resource type");
    };
    let (type_text, mut all_known) = value_text(type_name);
    all_known &= known;
    let mut names = Vec::new();
    // A name not known at all is `{?}` in the id, as in a declared resource's id: the id keeps
    // its shape (and links to nothing).
    for n in type_and_names.iter().skip(1) {
        let (t, k) = value_text(n);
        all_known &= k;
        names.push(t);
    }
    let id = super::compose_id(&scope, &type_text, &names.join("/"));
    if all_known {
        Value::string(id)
    } else {
        Value::symbolic(id)
    }
}

fn looks_like_type(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.contains('/') && s.split('/').next().is_some_and(|ns| ns.contains('.')))
}

fn rg_object(sub: (String, bool), rg: (String, bool), location: Option<&str>) -> Value {
    let id = format!("/subscriptions/{}/resourceGroups/{}", sub.0, rg.0);
    let id = if sub.1 && rg.1 {
        Value::string(id)
    } else {
        Value::symbolic(id)
    };
    let name = if rg.1 {
        Value::string(rg.0)
    } else {
        Value::symbolic(rg.0)
    };
    Value::object(vec![
        ("id".into(), id),
        ("name".into(), name),
        (
            "type".into(),
            Value::string("Microsoft.Resources/resourceGroups"),
        ),
        (
            "location".into(),
            match location {
                Some(l) => Value::string(l),
                None => Value::symbolic("{resourceGroup().location}"),
            },
        ),
        (
            "properties".into(),
            Value::unknown(Reason::Environment {
                what: "the resource group's properties".into(),
            }),
        ),
        (
            "tags".into(),
            Value::unknown(Reason::Environment {
                what: "the resource group's tags".into(),
            }),
        ),
    ])
}

fn sub_object(sub: (String, bool)) -> Value {
    let id = format!("/subscriptions/{}", sub.0);
    let (id, sid) = if sub.1 {
        (Value::string(id), Value::string(sub.0))
    } else {
        (Value::symbolic(id), Value::symbolic(sub.0))
    };
    Value::object(vec![
        ("id".into(), id),
        ("subscriptionId".into(), sid),
        ("tenantId".into(), Value::symbolic("{tenantId}")),
        (
            "displayName".into(),
            Value::symbolic("{subscription().displayName}"),
        ),
    ])
}

/// Calls a built-in function. `lower` is the lowercase name, `name` as written.
pub(super) fn call(
    ev: &Evaluator<'_>,
    lower: &str,
    name: &str,
    args: &[Expr],
    locals: &Locals,
    d: usize,
    span: Span,
) -> Value {
    // Functions that need their arguments unevaluated.
    match lower {
        "if" => {
            let (Some(c), Some(t), Some(f)) = (args.first(), args.get(1), args.get(2)) else {
                return type_error("if() needs three arguments");
            };
            return match ev.eval(c, locals, d).kind {
                Kind::Bool(true) => ev.eval(t, locals, d),
                Kind::Bool(false) => ev.eval(f, locals, d),
                Kind::Unknown(r) => crate::eval::chosen_by(&Value::unknown(*r)),
                _ => type_error("the condition of if() is not a bool"),
            };
        }
        "map" | "filter" | "reduce" | "sort" | "toobject" | "groupby" | "mapvalues" => {
            return lambda_call(ev, lower, args, locals, d);
        }
        "copyindex" => {
            let vals: Vec<Value> = args.iter().map(|a| ev.eval(a, locals, d)).collect();
            let (loop_name, offset) = match (vals.first(), vals.get(1)) {
                (Some(v), off) if v.as_str().is_some() => (v.as_str(), off.and_then(Value::as_i64)),
                (Some(v), None) => (None, v.as_i64()),
                _ => (None, None),
            };
            let idx = ev.copy_index(loop_name, locals);
            return match (idx.as_i64(), offset) {
                (Some(i), Some(o)) => Value::int(i.saturating_add(o)),
                _ => idx,
            };
        }
        _ => {}
    }
    if lower == "reference" {
        if let Some(v) = args
            .first()
            .and_then(|a| ev.deployment_reference(a, locals, d))
        {
            return v;
        }
        if let Some(v) = ev.resource_reference(args, locals, d) {
            return v;
        }
    }
    if RUNTIME.contains(&lower) || lower.starts_with("list") {
        return Value::unknown(Reason::Runtime {
            function: name.to_string(),
        });
    }
    let v: Vec<Value> = args.iter().map(|a| ev.eval(a, locals, d)).collect();
    let sub_default = || -> (String, bool) {
        match &ev.deployment.subscription_id {
            Some(s) => (s.clone(), !s.contains('{')),
            None => (SUBSCRIPTION_PLACEHOLDER.into(), false),
        }
    };
    let rg_default = || -> (String, bool) {
        match &ev.deployment.resource_group {
            Some(s) => (s.clone(), !s.contains('{')),
            None => (RESOURCE_GROUP_PLACEHOLDER.into(), false),
        }
    };
    match lower {
        "parameters" => match str_arg(&v, 0) {
            Some(n) => ev.param(n),
            None => first_unknown_of(&v).unwrap_or_else(|| type_error("parameters() needs a name")),
        },
        "variables" => match str_arg(&v, 0) {
            Some(n) => ev.var(n),
            None => first_unknown_of(&v).unwrap_or_else(|| type_error("variables() needs a name")),
        },
        "concat" => {
            if v.iter()
                .all(|x| matches!(x.kind, Kind::Array(_) | Kind::Null))
                && !v.is_empty()
            {
                let mut out = Vec::new();
                for x in v {
                    if let Kind::Array(a) = x.kind {
                        out.extend(a);
                    }
                }
                Value::array(out)
            } else {
                concat_text(&v, ev.limits.string_len)
            }
        }
        "format" => format_fn(&v, ev.limits.string_len),
        "string" => match v.first() {
            Some(x) if x.as_str().is_some() => x.clone(),
            Some(x) => concat_text(std::slice::from_ref(x), ev.limits.string_len),
            None => type_error("string() needs an argument"),
        },
        "tolower" | "toupper" => match v.first().map(|x| &x.kind) {
            Some(Kind::String(s)) => Value::string(if lower == "tolower" {
                s.to_lowercase()
            } else {
                s.to_uppercase()
            }),
            Some(Kind::Unknown(r)) => match r.as_ref() {
                Reason::Symbolic { text } => Value::symbolic(if lower == "tolower" {
                    text.to_lowercase()
                } else {
                    text.to_uppercase()
                }),
                _ => Value::unknown(*r.clone()),
            },
            _ => type_error("toLower()/toUpper() need a string"),
        },
        "int" => match v.first().map(|x| &x.kind) {
            Some(Kind::Int(i)) => Value::int(*i),
            Some(Kind::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Value::int)
                .unwrap_or_else(|_| type_error("int() of a string that is not a number")),
            Some(Kind::Float(f)) => Value::int(*f as i64),
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("int() needs a number or a string"),
        },
        "bool" => match v.first().map(|x| &x.kind) {
            Some(Kind::Bool(b)) => Value::bool(*b),
            Some(Kind::String(s)) => Value::bool(s.eq_ignore_ascii_case("true")),
            Some(Kind::Int(i)) => Value::bool(*i != 0),
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("bool() needs a value"),
        },
        "json" => match v.first().map(|x| &x.kind) {
            Some(Kind::String(s)) => serde_json::from_str::<serde_json::Value>(s)
                .map(|j| Value::from_json(&j))
                .unwrap_or_else(|_| type_error("json() of text that is not JSON")),
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("json() needs a string"),
        },
        "any" => v.into_iter().next().unwrap_or_else(Value::null),
        "null" => Value::null(),
        "true" => Value::bool(true),
        "false" => Value::bool(false),
        "empty" => match v.first() {
            Some(x) => match &x.kind {
                Kind::Null => Value::bool(true),
                Kind::String(s) => Value::bool(s.is_empty()),
                Kind::Array(a) => Value::bool(a.is_empty()),
                Kind::Object(o) => Value::bool(o.is_empty()),
                Kind::Unknown(r) => match r.as_ref() {
                    Reason::Symbolic { .. } => Value::bool(false),
                    _ => x.clone(),
                },
                _ => Value::bool(false),
            },
            None => type_error("empty() needs an argument"),
        },
        "length" => match v.first().map(|x| &x.kind) {
            Some(Kind::String(s)) => Value::int(i64::try_from(s.chars().count()).unwrap_or(0)),
            Some(Kind::Array(a)) => Value::int(i64::try_from(a.len()).unwrap_or(0)),
            Some(Kind::Object(o)) => Value::int(i64::try_from(o.len()).unwrap_or(0)),
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("length() needs a string, an array or an object"),
        },
        "contains" => {
            let (Some(c), Some(x)) = (v.first(), v.get(1)) else {
                return type_error("contains() needs two arguments");
            };
            if let Some(u) = first_unknown_of(std::slice::from_ref(c)) {
                return u;
            }
            match &c.kind {
                Kind::String(s) => match x.as_str() {
                    Some(needle) => Value::bool(s.contains(needle)),
                    None => first_unknown_of(std::slice::from_ref(x))
                        .unwrap_or_else(|| Value::bool(s.contains(&value_text(x).0))),
                },
                Kind::Array(a) => {
                    if x.is_unknown() {
                        return x.clone();
                    }
                    Value::bool(a.iter().any(|i| values_equal(i, x, false) == Some(true)))
                }
                Kind::Object(_) => match x.as_str() {
                    Some(k) => Value::bool(c.get(k).is_some()),
                    None => first_unknown_of(std::slice::from_ref(x))
                        .unwrap_or_else(|| type_error("contains() on an object needs a key")),
                },
                _ => type_error("contains() needs a string, an array or an object"),
            }
        }
        "split" => match (v.first().map(|x| &x.kind), v.get(1)) {
            (Some(Kind::String(s)), Some(sep)) => {
                let seps: Vec<String> = match &sep.kind {
                    Kind::String(x) => vec![x.clone()],
                    Kind::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect(),
                    Kind::Unknown(r) => return Value::unknown(*r.clone()),
                    _ => return type_error("split() needs a separator"),
                };
                let mut parts = vec![s.clone()];
                for sep in seps.iter().filter(|s| !s.is_empty()) {
                    parts = parts
                        .iter()
                        .flat_map(|p| p.split(sep.as_str()).map(String::from).collect::<Vec<_>>())
                        .collect();
                }
                Value::array(parts.into_iter().map(Value::string).collect())
            }
            // The parts of an unknown string are not the string: `split(param, '/')` is not
            // `{param}`.
            (Some(Kind::Unknown(r)), Some(sep)) => match (r.as_ref(), sep.as_str()) {
                (Reason::Symbolic { text }, Some(sep)) => split_symbolic(text, sep)
                    .unwrap_or_else(|| v.first().map(super::part_of).unwrap_or_else(Value::null)),
                _ => v.first().map(super::part_of).unwrap_or_else(Value::null),
            },
            _ => type_error("split() needs a string and a separator"),
        },
        "join" => match (v.first().map(|x| &x.kind), str_arg(&v, 1)) {
            (Some(Kind::Array(a)), Some(sep)) => {
                let mut parts = Vec::new();
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        parts.push(Value::string(sep));
                    }
                    parts.push(x.clone());
                }
                concat_text(&parts, ev.limits.string_len)
            }
            _ => first_unknown_of(&v)
                .unwrap_or_else(|| type_error("join() needs an array and a string")),
        },
        "first" | "last" => match v.first().map(|x| &x.kind) {
            Some(Kind::Array(a)) => {
                let item = if lower == "first" {
                    a.first()
                } else {
                    a.last()
                };
                item.cloned().unwrap_or_else(Value::null)
            }
            Some(Kind::String(s)) => {
                let c = if lower == "first" {
                    s.chars().next()
                } else {
                    s.chars().last()
                };
                Value::string(c.map(String::from).unwrap_or_default())
            }
            Some(Kind::Unknown(_)) => v.first().map(super::part_of).unwrap_or_else(Value::null),
            _ => type_error("first()/last() need an array or a string"),
        },
        "take" | "skip" => {
            let n = usize::try_from(int_arg(&v, 1).unwrap_or(0).max(0)).unwrap_or(0);
            match v.first().map(|x| &x.kind) {
                Some(Kind::Array(a)) => Value::array(if lower == "take" {
                    a.iter().take(n).cloned().collect()
                } else {
                    a.iter().skip(n).cloned().collect()
                }),
                Some(Kind::String(s)) => Value::string(if lower == "take" {
                    s.chars().take(n).collect::<String>()
                } else {
                    s.chars().skip(n).collect::<String>()
                }),
                Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
                _ => type_error("take()/skip() need an array or a string"),
            }
        }
        "union" => {
            if let Some(u) = first_unknown_of(&v) {
                return u;
            }
            if v.iter().all(|x| matches!(x.kind, Kind::Object(_))) {
                let mut out = Value::object(Vec::new());
                for x in v {
                    if let Kind::Object(props) = x.kind {
                        for (k, pv) in props {
                            let merged = match (out.get(&k), &pv.kind) {
                                (Some(old), Kind::Object(_)) if old.as_object().is_some() => {
                                    merge_objects(old, &pv)
                                }
                                _ => pv,
                            };
                            out.set(&k, merged);
                        }
                    }
                }
                out
            } else {
                let mut out: Vec<Value> = Vec::new();
                for x in v {
                    if let Kind::Array(a) = x.kind {
                        for i in a {
                            if !out.iter().any(|o| values_equal(o, &i, false) == Some(true)) {
                                out.push(i);
                            }
                        }
                    }
                }
                Value::array(out)
            }
        }
        "intersection" => {
            if let Some(u) = first_unknown_of(&v) {
                return u;
            }
            let mut iter = v.into_iter();
            let Some(first) = iter.next() else {
                return type_error("intersection() needs arguments");
            };
            let rest: Vec<Value> = iter.collect();
            match first.kind {
                Kind::Array(a) => Value::array(
                    a.into_iter()
                        .filter(|i| {
                            rest.iter().all(|r| {
                                r.as_array().is_some_and(|ra| {
                                    ra.iter().any(|x| values_equal(x, i, false) == Some(true))
                                })
                            })
                        })
                        .collect(),
                ),
                Kind::Object(o) => Value::object(
                    o.into_iter()
                        .filter(|(k, val)| {
                            rest.iter().all(|r| {
                                r.get(k)
                                    .is_some_and(|x| values_equal(x, val, false) == Some(true))
                            })
                        })
                        .collect(),
                ),
                _ => type_error("intersection() needs arrays or objects"),
            }
        }
        "coalesce" => {
            for x in &v {
                match &x.kind {
                    Kind::Null => continue,
                    _ => return x.clone(),
                }
            }
            Value::null()
        }
        "range" => match (int_arg(&v, 0), int_arg(&v, 1)) {
            (Some(start), Some(count)) => {
                let limit = i64::try_from(ev.limits.loop_items * 16).unwrap_or(i64::MAX);
                if count < 0 {
                    return type_error("range() needs a count of 0 or more");
                }
                if count > limit {
                    let what = format!("range() of {count} items (at most {limit})");
                    ev.cut_by(&what);
                    return Value::unknown(Reason::Limit { what });
                }
                Value::array(
                    (0..count)
                        .map(|i| Value::int(start.saturating_add(i)))
                        .collect(),
                )
            }
            _ => first_unknown_of(&v).unwrap_or_else(|| type_error("range() needs two integers")),
        },
        "createarray" | "array" => {
            if lower == "array" {
                match v.into_iter().next() {
                    Some(x) if matches!(x.kind, Kind::Array(_)) => x,
                    Some(x) => Value::array(vec![x]),
                    None => Value::array(Vec::new()),
                }
            } else {
                Value::array(v)
            }
        }
        "createobject" => {
            let mut obj = Value::object(Vec::new());
            let mut it = v.into_iter();
            while let (Some(k), Some(val)) = (it.next(), it.next()) {
                match k.as_str() {
                    Some(k) => obj.set(k, val),
                    None => {
                        return first_unknown_of(&[k])
                            .unwrap_or_else(|| type_error("createObject() keys must be strings"))
                    }
                }
            }
            obj
        }
        "items" => match v.first().map(|x| &x.kind) {
            Some(Kind::Object(o)) => {
                let mut entries: Vec<(String, Value)> = o.clone();
                entries.sort_by_key(|a| a.0.to_lowercase());
                Value::array(
                    entries
                        .into_iter()
                        .map(|(k, val)| {
                            Value::object(vec![
                                ("key".into(), Value::string(k)),
                                ("value".into(), val),
                            ])
                        })
                        .collect(),
                )
            }
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("items() needs an object"),
        },
        "objectkeys" => match v.first().map(|x| &x.kind) {
            Some(Kind::Object(o)) => {
                Value::array(o.iter().map(|(k, _)| Value::string(k.clone())).collect())
            }
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("objectKeys() needs an object"),
        },
        "flatten" => match v.first().map(|x| &x.kind) {
            Some(Kind::Array(a)) => {
                let mut out = Vec::new();
                for x in a {
                    match &x.kind {
                        Kind::Array(inner) => out.extend(inner.iter().cloned()),
                        _ => out.push(x.clone()),
                    }
                }
                Value::array(out)
            }
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("flatten() needs an array"),
        },
        "replace" => match (str_arg(&v, 0), str_arg(&v, 1), str_arg(&v, 2)) {
            (Some(s), Some(a), Some(b)) => Value::string(s.replace(a, b)),
            _ => {
                first_unknown_of(&v).unwrap_or_else(|| type_error("replace() needs three strings"))
            }
        },
        "trim" => match str_arg(&v, 0) {
            Some(s) => Value::string(s.trim()),
            None => first_unknown_of(&v).unwrap_or_else(|| type_error("trim() needs a string")),
        },
        "startswith" | "endswith" => match (str_arg(&v, 0), str_arg(&v, 1)) {
            (Some(s), Some(p)) => {
                let (s, p) = (s.to_lowercase(), p.to_lowercase());
                Value::bool(if lower == "startswith" {
                    s.starts_with(&p)
                } else {
                    s.ends_with(&p)
                })
            }
            _ => first_unknown_of(&v).unwrap_or_else(|| type_error("needs two strings")),
        },
        "indexof" | "lastindexof" => match (v.first().map(|x| &x.kind), v.get(1)) {
            (Some(Kind::String(s)), Some(n)) => match n.as_str() {
                Some(n) => {
                    let (s, n) = (s.to_lowercase(), n.to_lowercase());
                    let found = if lower == "indexof" {
                        s.find(&n)
                    } else {
                        s.rfind(&n)
                    };
                    Value::int(
                        found
                            .and_then(|i| s.get(..i))
                            .map(|p| i64::try_from(p.chars().count()).unwrap_or(0))
                            .unwrap_or(-1),
                    )
                }
                None => first_unknown_of(&v).unwrap_or_else(|| type_error("needs a string")),
            },
            (Some(Kind::Array(a)), Some(n)) => {
                let mut pos = a
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| values_equal(x, n, false) == Some(true))
                    .map(|(i, _)| i);
                let found = if lower == "indexof" {
                    pos.next()
                } else {
                    pos.next_back()
                };
                Value::int(found.and_then(|i| i64::try_from(i).ok()).unwrap_or(-1))
            }
            _ => first_unknown_of(&v)
                .unwrap_or_else(|| type_error("indexOf() needs a string or an array")),
        },
        "substring" => match str_arg(&v, 0) {
            Some(s) => {
                let start = usize::try_from(int_arg(&v, 1).unwrap_or(0).max(0)).unwrap_or(0);
                let chars: Vec<char> = s.chars().collect();
                let len = match int_arg(&v, 2) {
                    Some(l) => usize::try_from(l.max(0)).unwrap_or(0),
                    None => chars.len().saturating_sub(start),
                };
                Value::string(chars.iter().skip(start).take(len).collect::<String>())
            }
            None => {
                first_unknown_of(&v).unwrap_or_else(|| type_error("substring() needs a string"))
            }
        },
        "padleft" => match (v.first(), int_arg(&v, 1)) {
            (Some(x), Some(width)) if !x.is_unknown() => {
                let s = value_text(x).0;
                let pad = str_arg(&v, 2).and_then(|p| p.chars().next()).unwrap_or(' ');
                let width = usize::try_from(width.clamp(0, 10_000)).unwrap_or(0);
                let n = s.chars().count();
                let mut out: String = std::iter::repeat_n(pad, width.saturating_sub(n)).collect();
                out.push_str(&s);
                Value::string(out)
            }
            _ => first_unknown_of(&v)
                .unwrap_or_else(|| type_error("padLeft() needs a value and a width")),
        },
        "equals" => match (v.first(), v.get(1)) {
            (Some(a), Some(b)) => match values_equal(a, b, false) {
                Some(eq) => Value::bool(eq),
                None => first_unknown_of(&v).unwrap_or_else(Value::null),
            },
            _ => type_error("equals() needs two arguments"),
        },
        "not" => match v.first().map(|x| &x.kind) {
            Some(Kind::Bool(b)) => Value::bool(!b),
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("not() needs a bool"),
        },
        "and" | "or" => {
            let want = lower == "or";
            let mut unknown = None;
            for x in &v {
                match &x.kind {
                    Kind::Bool(b) if *b == want => return Value::bool(want),
                    Kind::Bool(_) => {}
                    // The first unknown operand, as Bicep's `&&` / `||` give it.
                    Kind::Unknown(_) => {
                        if unknown.is_none() {
                            unknown = Some(x.clone());
                        }
                    }
                    _ => return type_error("and()/or() need bools"),
                }
            }
            unknown.unwrap_or_else(|| Value::bool(!want))
        }
        "less" | "lessorequals" | "greater" | "greaterorequals" => {
            let op = match lower {
                "less" => BinaryOp::Less,
                "lessorequals" => BinaryOp::LessEq,
                "greater" => BinaryOp::Greater,
                _ => BinaryOp::GreaterEq,
            };
            match (v.first(), v.get(1)) {
                (Some(a), Some(b)) => binary(op, a, b),
                _ => type_error("comparison needs two arguments"),
            }
        }
        "add" | "sub" | "mul" | "div" | "mod" => {
            let op = match lower {
                "add" => BinaryOp::Add,
                "sub" => BinaryOp::Sub,
                "mul" => BinaryOp::Mul,
                "div" => BinaryOp::Div,
                _ => BinaryOp::Mod,
            };
            match (v.first(), v.get(1)) {
                (Some(a), Some(b)) => binary(op, a, b),
                _ => type_error("arithmetic needs two arguments"),
            }
        }
        "min" | "max" => {
            let items: Vec<Value> = match v.as_slice() {
                [one] => match &one.kind {
                    Kind::Array(a) => a.clone(),
                    _ => vec![one.clone()],
                },
                _ => v.clone(),
            };
            if let Some(u) = first_unknown_of(&items) {
                return u;
            }
            let nums: Vec<i64> = items.iter().filter_map(Value::as_i64).collect();
            let r = if lower == "min" {
                nums.iter().min()
            } else {
                nums.iter().max()
            };
            r.map(|x| Value::int(*x))
                .unwrap_or_else(|| type_error("min()/max() need integers"))
        }
        "uniquestring" | "guid" => {
            let texts: Vec<String> = v.iter().map(|x| value_text(x).0).collect();
            Value::symbolic(format!("{{{name}({})}}", texts.join(", ")))
        }
        "resourcegroup" => match v.as_slice() {
            // The deployment's own resource group: its location when the user stated it.
            [] => rg_object(
                sub_default(),
                rg_default(),
                ev.deployment.location.as_deref(),
            ),
            [rg] => rg_object(sub_default(), value_text(rg), None),
            [sub, rg, ..] => rg_object(value_text(sub), value_text(rg), None),
        },
        "subscription" => match v.first() {
            None => sub_object(sub_default()),
            Some(s) => sub_object(value_text(s)),
        },
        "tenant" => Value::object(vec![
            ("tenantId".into(), Value::symbolic("{tenantId}")),
            (
                "displayName".into(),
                Value::symbolic("{tenant().displayName}"),
            ),
        ]),
        "managementgroup" => {
            let mg = v
                .first()
                .map(value_text)
                .unwrap_or(("{managementGroupId}".into(), false));
            let id = format!("/providers/Microsoft.Management/managementGroups/{}", mg.0);
            Value::object(vec![
                (
                    "id".into(),
                    if mg.1 {
                        Value::string(id)
                    } else {
                        Value::symbolic(id)
                    },
                ),
                (
                    "name".into(),
                    if mg.1 {
                        Value::string(mg.0)
                    } else {
                        Value::symbolic(mg.0)
                    },
                ),
            ])
        }
        "deployment" => Value::object(vec![
            ("name".into(), Value::symbolic("{deployment().name}")),
            (
                "location".into(),
                match &ev.deployment.location {
                    Some(l) => Value::string(l.clone()),
                    None => Value::symbolic("{deployment().location}"),
                },
            ),
            (
                "properties".into(),
                Value::unknown(Reason::Environment {
                    what: "deployment().properties".into(),
                }),
            ),
        ]),
        "environment" => Value::unknown(Reason::Environment {
            what: "environment()".into(),
        }),
        "resourceid" => {
            let type_pos = v.iter().position(looks_like_type).unwrap_or(0);
            let (sub, rg) = match type_pos {
                0 => (sub_default(), rg_default()),
                1 => (
                    sub_default(),
                    v.first().map(value_text).unwrap_or_else(rg_default),
                ),
                _ => (
                    v.first().map(value_text).unwrap_or_else(sub_default),
                    v.get(1).map(value_text).unwrap_or_else(rg_default),
                ),
            };
            let scope = format!("/subscriptions/{}/resourceGroups/{}", sub.0, rg.0);
            let tail: Vec<Value> = v.iter().skip(type_pos).cloned().collect();
            resource_id_from(scope, &tail, sub.1 && rg.1)
        }
        "subscriptionresourceid" => {
            let type_pos = v.iter().position(looks_like_type).unwrap_or(0);
            let sub = if type_pos >= 1 {
                v.first().map(value_text).unwrap_or_else(sub_default)
            } else {
                sub_default()
            };
            let tail: Vec<Value> = v.iter().skip(type_pos).cloned().collect();
            resource_id_from(format!("/subscriptions/{}", sub.0), &tail, sub.1)
        }
        "tenantresourceid" => resource_id_from(String::new(), &v, true),
        "managementgroupresourceid" => {
            let type_pos = v.iter().position(looks_like_type).unwrap_or(0);
            let mg = if type_pos >= 1 {
                v.first()
                    .map(value_text)
                    .unwrap_or(("{managementGroupId}".into(), false))
            } else {
                ("{managementGroupId}".into(), false)
            };
            let tail: Vec<Value> = v.iter().skip(type_pos).cloned().collect();
            resource_id_from(
                format!("/providers/Microsoft.Management/managementGroups/{}", mg.0),
                &tail,
                mg.1,
            )
        }
        "extensionresourceid" => match v.split_first() {
            Some((scope, tail)) => {
                if let Some(r) = scope.unknown_reason() {
                    if !matches!(r, Reason::Symbolic { .. } | Reason::Parameter { .. }) {
                        return Value::new(scope.kind.clone(), None);
                    }
                }
                let (text, known) = value_text(scope);
                resource_id_from(text, tail, known)
            }
            None => type_error("extensionResourceId() needs arguments"),
        },
        "cidrsubnet" | "cidrhost" | "parsecidr" => first_unknown_of(&v).unwrap_or_else(|| {
            Value::unknown(Reason::Error {
                message: format!("{name}() is not evaluated"),
            })
        }),
        "shallowmerge" => match v.first().map(|x| &x.kind) {
            Some(Kind::Array(a)) => {
                let mut out = Value::object(Vec::new());
                for o in a {
                    if let Kind::Object(props) = &o.kind {
                        for (k, pv) in props {
                            out.set(k, pv.clone());
                        }
                    }
                }
                out
            }
            Some(Kind::Unknown(r)) => Value::unknown(*r.clone()),
            _ => type_error("shallowMerge() needs an array of objects"),
        },
        "tryget" => match v.first() {
            Some(base) => {
                let mut cur = base.clone();
                for k in v.iter().skip(1) {
                    cur = index_value(&cur, k, true, false);
                }
                cur
            }
            None => type_error("tryGet() needs arguments"),
        },
        "base64" | "uri" | "uricomponent" | "uricomponenttostring" | "datauri" => {
            first_unknown_of(&v).unwrap_or_else(|| {
                Value::unknown(Reason::Error {
                    message: format!("{name}() is not evaluated"),
                })
            })
        }
        _ => {
            let _ = span;
            Value::unknown(Reason::Error {
                message: format!("function '{name}' is not evaluated"),
            })
        }
    }
}

fn merge_objects(a: &Value, b: &Value) -> Value {
    let mut out = a.clone();
    if let Kind::Object(props) = &b.kind {
        for (k, v) in props {
            out.set(k, v.clone());
        }
    }
    out
}

/// `format('{0}-{1}', a, b)` (.NET composite format, without format specifiers).
fn format_fn(v: &[Value], max_len: usize) -> Value {
    let Some(fmt) = v.first() else {
        return type_error("format() needs a format string");
    };
    let Some(fmt) = fmt.as_str() else {
        return Value::new(fmt.kind.clone(), None);
    };
    let mut parts: Vec<Value> = Vec::new();
    let mut text = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    spec.push(c);
                }
                let idx: Option<usize> = spec
                    .split([':', ','])
                    .next()
                    .and_then(|s| s.trim().parse().ok());
                let Some(arg) = idx.and_then(|i| v.get(i + 1)) else {
                    return type_error("format() refers to a missing argument");
                };
                parts.push(Value::string(std::mem::take(&mut text)));
                parts.push(arg.clone());
            }
            c => text.push(c),
        }
    }
    parts.push(Value::string(text));
    concat_text(&parts, max_len)
}

fn lambda_parts(e: &Expr) -> Option<(&[String], &Expr)> {
    match &e.kind {
        ExprKind::Lambda { params, body } => Some((params, body)),
        _ => None,
    }
}

fn lambda_call(ev: &Evaluator<'_>, lower: &str, args: &[Expr], locals: &Locals, d: usize) -> Value {
    let Some(first) = args.first() else {
        return type_error("a lambda function needs arguments");
    };
    let input = ev.eval(first, locals, d);
    if input.is_unknown() {
        return input;
    }
    let lambda_at = if lower == "reduce" { 2 } else { 1 };
    let Some((params, body)) = args.get(lambda_at).and_then(lambda_parts) else {
        return type_error("expected a lambda");
    };
    let apply = |values: Vec<Value>| -> Value {
        let mut scope = locals.clone();
        for (p, v) in params.iter().zip(values) {
            scope.push((p.clone(), v));
        }
        ev.eval(body, &scope, d)
    };
    let items: Vec<Value> = match &input.kind {
        Kind::Array(a) => a.clone(),
        Kind::Object(o) if lower == "mapvalues" => o.iter().map(|(_, v)| v.clone()).collect(),
        _ => return type_error("a lambda function needs an array"),
    };
    let idx = |i: usize| Value::int(i64::try_from(i).unwrap_or(0));
    match lower {
        "map" => Value::array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, x)| apply(vec![x, idx(i)]))
                .collect(),
        ),
        "filter" => {
            let mut out = Vec::new();
            for (i, x) in items.into_iter().enumerate() {
                match apply(vec![x.clone(), idx(i)]).kind {
                    Kind::Bool(true) => out.push(x),
                    Kind::Bool(false) => {}
                    Kind::Unknown(r) => return Value::unknown(*r),
                    _ => return type_error("a filter lambda must return a bool"),
                }
            }
            Value::array(out)
        }
        "reduce" => {
            let mut acc = match args.get(1) {
                Some(e) => ev.eval(e, locals, d),
                None => return type_error("reduce() needs an initial value"),
            };
            for (i, x) in items.into_iter().enumerate() {
                acc = apply(vec![acc, x, idx(i)]);
            }
            acc
        }
        "sort" => {
            let mut sorted = items;
            let mut failed = false;
            // Insertion sort through the lambda, bounded by the loop limit already applied.
            let mut out: Vec<Value> = Vec::new();
            for x in sorted.drain(..) {
                let mut pos = out.len();
                for (i, y) in out.iter().enumerate() {
                    match apply(vec![x.clone(), y.clone()]).kind {
                        Kind::Bool(true) => {
                            pos = i;
                            break;
                        }
                        Kind::Bool(false) => {}
                        _ => {
                            failed = true;
                            break;
                        }
                    }
                }
                out.insert(pos.min(out.len()), x);
            }
            if failed {
                type_error("a sort lambda must return a bool")
            } else {
                Value::array(out)
            }
        }
        "toobject" => {
            let mut obj = Value::object(Vec::new());
            let value_lambda = args.get(2).and_then(lambda_parts);
            for x in items {
                let key = apply(vec![x.clone()]);
                let Some(k) = key.as_str() else {
                    return if key.is_unknown() {
                        key
                    } else {
                        type_error("toObject() keys must be strings")
                    };
                };
                let val = match value_lambda {
                    Some((vp, vb)) => {
                        let mut scope = locals.clone();
                        if let Some(p) = vp.first() {
                            scope.push((p.clone(), x.clone()));
                        }
                        ev.eval(vb, &scope, d)
                    }
                    None => x,
                };
                obj.set(k, val);
            }
            obj
        }
        "groupby" => {
            let mut obj = Value::object(Vec::new());
            for x in items {
                let key = apply(vec![x.clone()]);
                let Some(k) = key.as_str().map(String::from) else {
                    return key;
                };
                let mut list = obj
                    .get(&k)
                    .and_then(|l| l.as_array().map(<[Value]>::to_vec))
                    .unwrap_or_default();
                list.push(x);
                obj.set(&k, Value::array(list));
            }
            obj
        }
        "mapvalues" => match &input.kind {
            Kind::Object(o) => Value::object(
                o.iter()
                    .map(|(k, v)| (k.clone(), apply(vec![v.clone()])))
                    .collect(),
            ),
            _ => type_error("mapValues() needs an object"),
        },
        _ => type_error("unknown lambda function"),
    }
}
