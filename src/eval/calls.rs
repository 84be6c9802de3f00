//! The template evaluator's function calls: its own functions (`parameters()`, `resourceId()`,
//! `reference()`, lambdas, `copyIndex()` …) and, for the rest, the one table of ARM functions
//! (`eval/functions/`) with the template's unknown and symbolic values around it.

use super::functions::{self, placeholders, Bounds, Failure, Outcome};
use super::{
    type_error, value_text, Evaluator, Locals, RESOURCE_GROUP_PLACEHOLDER, SUBSCRIPTION_PLACEHOLDER,
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
    "loadtextcontent",
    "loadjsoncontent",
    "loadyamlcontent",
    "loadfileasbase64",
    "externalinput",
];

/// The table's bounds under the evaluator's limits.
fn bounds(ev: &Evaluator<'_>) -> Bounds {
    Bounds {
        string_len: ev.limits.string_len,
        range_items: ev.limits.loop_items.saturating_mul(16),
    }
}

/// A table function's outcome as a value: an error or a passed bound becomes an unknown value
/// with the reason (a passed bound is also reported).
fn outcome(ev: &Evaluator<'_>, o: Outcome) -> Value {
    match o {
        Ok(v) => v,
        Err(Failure::Unknown(u)) => Value::new(u.kind, None),
        Err(Failure::Error(message)) => Value::unknown(Reason::Error { message }),
        Err(Failure::Limit(what)) => {
            ev.cut_by(&what);
            Value::unknown(Reason::Limit { what })
        }
    }
}

/// Calls the function `lower` of the table (named `name` as written) on evaluated arguments.
fn table(ev: &Evaluator<'_>, lower: &str, name: &str, args: &[Value]) -> Value {
    let Some(f) = functions::lookup(lower) else {
        return Value::unknown(Reason::Error {
            message: format!("function '{name}' is not evaluated"),
        });
    };
    let call = functions::Call {
        name,
        args,
        bounds: bounds(ev),
    };
    if let Some(v) = symbolic_text(ev, lower, f, &call) {
        return v;
    }
    outcome(ev, f.apply(&call))
}

/// Functions that build text and so carry symbolic text through (`concat(resourceGroup().id,
/// '/x')`); the first four also write a parameter with no value as `{name}`.
const TEXT_FUNCTIONS: &[&str] = &["concat", "format", "join", "string", "tolower", "toupper"];

/// A symbolic argument as its text (and, when `params`, a parameter with no value as `{name}`).
fn as_text(v: &Value, params: bool, any: &mut bool) -> Value {
    match v.unknown_reason() {
        Some(Reason::Symbolic { text }) => {
            *any = true;
            Value::string(text.clone())
        }
        Some(Reason::Parameter { name }) if params => {
            *any = true;
            Value::string(format!("{{{name}}}"))
        }
        _ => v.clone(),
    }
}

/// A text function over symbolic arguments: the function runs on their text and its result is
/// symbolic. `None` when no argument is symbolic or the function builds no text.
fn symbolic_text(
    ev: &Evaluator<'_>,
    lower: &str,
    f: &functions::Function,
    call: &functions::Call<'_>,
) -> Option<Value> {
    if !TEXT_FUNCTIONS.contains(&lower) {
        return None;
    }
    let params = !matches!(lower, "tolower" | "toupper");
    // Most calls have no symbolic argument: seen first, without copying the arguments.
    let symbolic = |v: &Value| match v.unknown_reason() {
        Some(Reason::Symbolic { .. }) => true,
        Some(Reason::Parameter { .. }) => params,
        _ => false,
    };
    let any_symbolic = call
        .args
        .iter()
        .enumerate()
        .any(|(i, a)| match (&a.kind, lower, i) {
            (_, "format", 0) => false,
            (Kind::Array(items), "join", 0) => items.iter().any(symbolic),
            _ => symbolic(a),
        });
    if !any_symbolic {
        return None;
    }
    let mut any = false;
    let args: Vec<Value> = call
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| match (&a.kind, lower, i) {
            // The format string itself stays as it is.
            (_, "format", 0) => a.clone(),
            (Kind::Array(items), "join", 0) => {
                Value::array(items.iter().map(|x| as_text(x, params, &mut any)).collect())
            }
            _ => as_text(a, params, &mut any),
        })
        .collect();
    if !any {
        return None;
    }
    let texts = functions::Call {
        args: &args,
        ..*call
    };
    Some(match f.apply(&texts) {
        Ok(Value {
            kind: Kind::String(s),
            ..
        }) => Value::symbolic(s),
        other => outcome(ev, other),
    })
}

/// Joins string-like values into one string (a Bicep interpolation): symbolic when a part is
/// symbolic or a parameter with no value; unknown (with the first reason) when a part is
/// otherwise unknown.
pub(super) fn concat_text(ev: &Evaluator<'_>, values: &[Value]) -> Value {
    let mut any = false;
    let texts: Vec<Value> = values.iter().map(|v| as_text(v, true, &mut any)).collect();
    if let Some(u) = texts.iter().find(|v| v.is_unknown()) {
        return u.clone();
    }
    match functions::text_of_all(&texts, bounds(ev)) {
        Ok(s) if any => Value::symbolic(s),
        Ok(s) => Value::string(s),
        Err(f) => outcome(ev, Err(f)),
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
            let end = placeholders::placeholder_len(rest)?;
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

fn str_arg(values: &[Value], i: usize) -> Option<&str> {
    values.get(i).and_then(Value::as_str)
}

/// A binary operator (Bicep) over two evaluated operands, by the table's `equals`, comparisons
/// and arithmetic.
pub(super) fn binary(ev: &Evaluator<'_>, op: BinaryOp, l: Value, r: Value) -> Value {
    if let Some(u) = [&l, &r].into_iter().find(|v| v.is_unknown()) {
        return Value::new(u.kind.clone(), None);
    }
    let name = match op {
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::EqInsensitive | BinaryOp::NotEqInsensitive => {
            let eq = match (&l.kind, &r.kind) {
                (Kind::String(a), Kind::String(b))
                    if matches!(op, BinaryOp::EqInsensitive | BinaryOp::NotEqInsensitive) =>
                {
                    Ok(a.eq_ignore_ascii_case(b))
                }
                _ => functions::equal(&l, &r),
            };
            let positive = matches!(op, BinaryOp::Eq | BinaryOp::EqInsensitive);
            return outcome(ev, eq.map(|eq| Value::bool(eq == positive)));
        }
        BinaryOp::Less => "less",
        BinaryOp::LessEq => "lessOrEquals",
        BinaryOp::Greater => "greater",
        BinaryOp::GreaterEq => "greaterOrEquals",
        BinaryOp::Add => "add",
        BinaryOp::Sub => "sub",
        BinaryOp::Mul => "mul",
        BinaryOp::Div => "div",
        BinaryOp::Mod => "mod",
        BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => {
            return type_error("unexpected operator")
        }
    };
    // The operands move into the arguments: no copy of either.
    table(ev, &name.to_ascii_lowercase(), name, &[l, r])
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

/// A call's evaluated arguments.
type Args = smallvec::SmallVec<[Value; 4]>;

/// Calls a built-in function. `lower` is the lowercase name, `name` as written.
pub(super) fn call(
    ev: &Evaluator<'_>,
    lower: &str,
    name: &str,
    args: &[Expr],
    locals: &Locals,
    d: usize,
    _span: Span,
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
                Kind::Unknown(r) => crate::eval::chosen_by(&Value::new(Kind::Unknown(r), None)),
                _ => type_error("the condition of if() is not a bool"),
            };
        }
        "map" | "filter" | "reduce" | "sort" | "toobject" | "groupby" | "mapvalues" => {
            return lambda_call(ev, lower, args, locals, d);
        }
        "copyindex" => {
            let vals: Args = args.iter().map(|a| ev.eval(a, locals, d)).collect();
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
    // On the stack for the usual few arguments: one call is evaluated per function call.
    let v: Args = args.iter().map(|a| ev.eval(a, locals, d)).collect();
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
        "split" => match v.first() {
            // The parts of an unknown string are not the string: `split(param, '/')` is not
            // `{param}`.
            Some(s) if s.is_unknown() => match (s.unknown_reason(), str_arg(&v, 1)) {
                (Some(Reason::Symbolic { text }), Some(sep)) => {
                    split_symbolic(text, sep).unwrap_or_else(|| super::part_of(s))
                }
                _ => super::part_of(s),
            },
            _ => table(ev, lower, name, &v),
        },
        "first" | "last" => match v.first() {
            Some(s) if s.is_unknown() => super::part_of(s),
            _ => table(ev, lower, name, &v),
        },
        // Filled-in text is never empty.
        "empty"
            if v.first()
                .and_then(Value::as_text)
                .is_some_and(|t| !t.is_empty()) =>
        {
            Value::bool(false)
        }
        "tryget" => match v.first() {
            Some(base) if base.is_unknown() && v.len() > 1 => {
                first_unknown_of(v.get(1..).unwrap_or_default())
                    .unwrap_or_else(|| super::part_of(base))
            }
            _ => table(ev, lower, name, &v),
        },
        "any" => v.into_iter().next().unwrap_or_else(Value::null),
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
            let tail = v.get(type_pos..).unwrap_or_default();
            resource_id_from(scope, tail, sub.1 && rg.1)
        }
        "subscriptionresourceid" => {
            let type_pos = v.iter().position(looks_like_type).unwrap_or(0);
            let sub = if type_pos >= 1 {
                v.first().map(value_text).unwrap_or_else(sub_default)
            } else {
                sub_default()
            };
            let tail = v.get(type_pos..).unwrap_or_default();
            resource_id_from(format!("/subscriptions/{}", sub.0), tail, sub.1)
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
            let tail = v.get(type_pos..).unwrap_or_default();
            resource_id_from(
                format!("/providers/Microsoft.Management/managementGroups/{}", mg.0),
                tail,
                mg.1,
            )
        }
        "extensionresourceid" => match v.split_first() {
            Some((scope, tail)) => {
                if let Some(r) = scope.unknown_reason() {
                    if !matches!(r, Reason::Symbolic { .. } | Reason::Parameter { .. }) {
                        return match args.first().and_then(|a| id_shape(ev, a, locals)) {
                            Some(text) => resource_id_from(text, tail, false),
                            None => Value::new(scope.kind.clone(), None),
                        };
                    }
                }
                let (text, known) = value_text(scope);
                resource_id_from(text, tail, known)
            }
            None => type_error("extensionResourceId() needs arguments"),
        },
        _ => table(ev, lower, name, &v),
    }
}

/// The text of a scope id the compiler writes as `format('/subscriptions/{0}/resourceGroups/{1}',
/// …)`, an unknown part written `{?}`: a resource group's id keeps its shape when its name is
/// unknown, as `resourceGroup(name).id` and `resourceId()` keep it.
fn id_shape(ev: &Evaluator<'_>, scope: &Expr, locals: &Locals) -> Option<String> {
    let text = ev.name_text(scope, locals);
    text.starts_with('/').then_some(text)
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
                    Kind::Unknown(r) => return Value::new(Kind::Unknown(r), None),
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
