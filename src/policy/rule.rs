//! The policy rule language: conditions compiled once into a tree, evaluated with three-valued
//! logic (true, false, unknown with the reason) over a resource body.

pub use super::aliases::Read;
use super::aliases::{read, AliasTable, Seg};
use super::compare::{compare, fold, values_equal};
use super::expression::{self, Operand, RuleExpr, Scope};
pub use super::field::{FieldKind, FieldPath};
use crate::diagnostic::Cause;
use crate::eval::functions::placeholders;
use crate::source::Span;
use crate::value::{Kind, Reason, Value};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Deepest condition nesting accepted.
const MAX_DEPTH: usize = 64;
/// Most count bindings a condition may nest.
const MAX_COUNT_NESTING: usize = 8;

/// A condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equals,
    NotEquals,
    Like,
    NotLike,
    Match,
    MatchInsensitively,
    NotMatch,
    NotMatchInsensitively,
    Contains,
    NotContains,
    In,
    NotIn,
    ContainsKey,
    NotContainsKey,
    Less,
    LessOrEquals,
    Greater,
    GreaterOrEquals,
    Exists,
}

impl Op {
    /// The operator named by a condition key (case-insensitive).
    pub fn from_key(k: &str) -> Option<Op> {
        Some(match k.to_ascii_lowercase().as_str() {
            "equals" => Op::Equals,
            "notequals" => Op::NotEquals,
            "like" => Op::Like,
            "notlike" => Op::NotLike,
            "match" => Op::Match,
            "matchinsensitively" => Op::MatchInsensitively,
            "notmatch" => Op::NotMatch,
            "notmatchinsensitively" => Op::NotMatchInsensitively,
            "contains" => Op::Contains,
            "notcontains" => Op::NotContains,
            "in" => Op::In,
            "notin" => Op::NotIn,
            "containskey" => Op::ContainsKey,
            "notcontainskey" => Op::NotContainsKey,
            "less" => Op::Less,
            "lessorequals" => Op::LessOrEquals,
            "greater" => Op::Greater,
            "greaterorequals" => Op::GreaterOrEquals,
            "exists" => Op::Exists,
            _ => return None,
        })
    }
}

/// A compiled field reference.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRef {
    /// Resolved at load: the field's text and its path segments.
    Static(FieldPath),
    /// `"field": "[concat('tags[', parameters('t'), ']')]"`: resolved when evaluated.
    Dynamic(RuleExpr),
}

/// The right-hand side of a condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub op: Op,
    pub rhs: Operand,
}

/// What a `count` counts.
#[derive(Debug, Clone, PartialEq)]
pub enum CountOf {
    Field(FieldPath),
    Value {
        value: Operand,
        name: Option<String>,
    },
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    AllOf(Vec<Cond>),
    AnyOf(Vec<Cond>),
    Not(Box<Cond>),
    Field {
        field: FieldRef,
        check: Check,
    },
    Value {
        value: Operand,
        check: Check,
    },
    Count {
        of: CountOf,
        filter: Option<Box<Cond>>,
        check: Check,
    },
}

/// Compiles a condition object.
pub fn compile(json: &serde_json::Value, aliases: &AliasTable) -> Result<Cond, String> {
    compile_at(json, aliases, 0)
}

fn compile_at(
    json: &serde_json::Value,
    aliases: &AliasTable,
    depth: usize,
) -> Result<Cond, String> {
    if depth > MAX_DEPTH {
        return Err("condition nested too deeply".into());
    }
    let obj = json
        .as_object()
        .ok_or_else(|| format!("a condition must be an object, found `{}`", short(json)))?;
    let key = |k: &str| {
        obj.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    };
    for (name, combinator) in [("allOf", true), ("anyOf", false)] {
        if let Some(list) = key(name) {
            if obj.len() != 1 {
                return Err(format!("`{name}` must be the only key of its condition"));
            }
            let items = list
                .as_array()
                .ok_or_else(|| format!("`{name}` must be an array of conditions"))?;
            let conds = items
                .iter()
                .map(|c| compile_at(c, aliases, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if combinator {
                Cond::AllOf(conds)
            } else {
                Cond::AnyOf(conds)
            });
        }
    }
    if let Some(inner) = key("not") {
        if obj.len() != 1 {
            return Err("`not` must be the only key of its condition".into());
        }
        return Ok(Cond::Not(Box::new(compile_at(inner, aliases, depth + 1)?)));
    }
    let mut ops = obj
        .iter()
        .filter_map(|(k, v)| Op::from_key(k).map(|op| (op, v)));
    let Some((op, rhs)) = ops.next() else {
        return Err(format!("condition `{}` has no operator", short(json)));
    };
    if ops.next().is_some() {
        return Err(format!(
            "condition `{}` has more than one operator",
            short(json)
        ));
    }
    for k in obj.keys() {
        let l = k.to_ascii_lowercase();
        if Op::from_key(k).is_none() && !["field", "value", "count"].contains(&l.as_str()) {
            return Err(format!("unknown key `{k}` in condition"));
        }
    }
    let check = Check {
        op,
        rhs: bound(Operand::compile(rhs)?, aliases),
    };
    let subjects = ["field", "value", "count"]
        .iter()
        .filter(|k| key(k).is_some())
        .count();
    if subjects != 1 {
        return Err(format!(
            "condition `{}` needs exactly one of `field`, `value` or `count`",
            short(json)
        ));
    }
    if let Some(f) = key("field") {
        let text = f.as_str().ok_or("`field` must be a string")?;
        let field = match expression::parse_expression_string(text)? {
            Some(e) => FieldRef::Dynamic(e),
            None => FieldRef::Static(FieldPath::resolve(text, aliases)),
        };
        return Ok(Cond::Field { field, check });
    }
    if let Some(v) = key("value") {
        return Ok(Cond::Value {
            value: bound(Operand::compile(v)?, aliases),
            check,
        });
    }
    let count = key("count")
        .and_then(|c| c.as_object())
        .ok_or("`count` must be an object")?;
    let ck = |k: &str| {
        count
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    };
    let filter = match ck("where") {
        Some(w) => Some(Box::new(compile_at(w, aliases, depth + 1)?)),
        None => None,
    };
    let of = match (ck("field"), ck("value")) {
        (Some(f), None) => {
            let text = f.as_str().ok_or("count `field` must be a string")?;
            let path = FieldPath::resolve(text, aliases);
            if !path.segs().is_some_and(|s| s.contains(&Seg::Wildcard)) {
                return Err(format!("count field `{text}` must contain `[*]`"));
            }
            if ck("name").is_some() {
                return Err("a field count takes no `name`".into());
            }
            CountOf::Field(path)
        }
        (None, Some(v)) => CountOf::Value {
            value: bound(Operand::compile(v)?, aliases),
            name: match ck("name") {
                Some(n) => Some(
                    n.as_str()
                        .ok_or("count `name` must be a string")?
                        .to_string(),
                ),
                None => None,
            },
        },
        _ => return Err("`count` needs exactly one of `field` or `value`".into()),
    };
    for k in count.keys() {
        if !["field", "value", "name", "where"].contains(&k.to_ascii_lowercase().as_str()) {
            return Err(format!("unknown key `{k}` in count"));
        }
    }
    Ok(Cond::Count { of, filter, check })
}

fn bound(mut o: Operand, aliases: &AliasTable) -> Operand {
    o.bind_fields(aliases);
    o
}

fn short(json: &serde_json::Value) -> String {
    let s = json.to_string();
    if s.chars().count() > 80 {
        let mut t: String = s.chars().take(77).collect();
        t.push_str("...");
        t
    } else {
        s
    }
}

/// A three-valued truth.
#[derive(Debug, Clone, PartialEq)]
pub enum Tri {
    True,
    False,
    /// Can't be decided, and why.
    Unknown(Undecided),
}

/// Why a condition can't be decided: the reason, ready to show ("depends on parameter 'sku',
/// which has no value"), its typed cause, and the parameter without a value it depends on, if
/// that is the cause.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Undecided {
    pub text: String,
    pub parameter: Option<String>,
    pub cause: Cause,
}

impl Undecided {
    /// Depends on a value unknown for `r`.
    pub fn of(r: &Reason) -> Undecided {
        Undecided {
            text: depends_on(r),
            parameter: match r {
                Reason::Parameter { name } => Some(name.clone()),
                _ => None,
            },
            cause: Cause::from(r),
        }
    }

    /// `text`, caused by a value unknown for `r` ("the effect depends on …").
    pub fn because(text: String, r: &Reason) -> Undecided {
        Undecided {
            text,
            parameter: None,
            cause: Cause::from(r),
        }
    }

    /// `text`, with the cause `cause`.
    pub fn new(text: String, cause: Cause) -> Undecided {
        Undecided {
            text,
            parameter: None,
            cause,
        }
    }
}

impl std::fmt::Display for Undecided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<String> for Undecided {
    fn from(text: String) -> Undecided {
        Undecided::new(text, Cause::Other)
    }
}

impl From<&str> for Undecided {
    fn from(text: &str) -> Undecided {
        Undecided::from(text.to_string())
    }
}

impl Tri {
    fn from(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            u => u,
        }
    }
}

/// A condition's outcome and the span of the value that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ev {
    pub t: Tri,
    pub span: Option<Span>,
}

impl Ev {
    pub fn new(t: Tri, span: Option<Span>) -> Ev {
        Ev { t, span }
    }
}

/// An element bound by an enclosing `count`.
#[derive(Debug, Clone)]
enum Binding {
    Field {
        prefix: Vec<Seg>,
        text: String,
        elem: Value,
    },
    Value {
        name: Option<String>,
        elem: Value,
    },
}

/// Everything a rule reads while it is evaluated.
pub struct Ctx<'a> {
    pub resource: &'a Value,
    pub params: &'a HashMap<String, Value>,
    pub aliases: &'a AliasTable,
    /// `resourceGroup()`, `subscription()`, `requestContext()` … by lowercase name.
    pub env: &'a HashMap<String, Value>,
    bindings: Vec<Binding>,
    /// What `field()` in expressions reads when it is not `resource` (in an existence
    /// condition: the evaluated resource, while field conditions read the related one).
    expr_resource: Option<&'a Value>,
    referrers: Option<&'a Value>,
    children: Option<&'a Value>,
}

impl<'a> Ctx<'a> {
    /// A context for `resource`.
    pub fn new(
        resource: &'a Value,
        params: &'a HashMap<String, Value>,
        aliases: &'a AliasTable,
        env: &'a HashMap<String, Value>,
    ) -> Ctx<'a> {
        Ctx {
            resource,
            params,
            aliases,
            env,
            bindings: Vec::new(),
            expr_resource: None,
            referrers: None,
            children: None,
        }
    }

    /// The same context, with `field()` in expressions reading `resource`.
    pub fn with_expr_resource(mut self, resource: &'a Value) -> Ctx<'a> {
        self.expr_resource = Some(resource);
        self
    }

    /// The same context, with `referencedBy()` answering `referrers`.
    pub fn with_referrers(mut self, referrers: &'a Value) -> Ctx<'a> {
        self.referrers = Some(referrers);
        self
    }

    /// The same context, with `relatedChildren()` answering from `children`.
    pub fn with_children(mut self, children: &'a Value) -> Ctx<'a> {
        self.children = Some(children);
        self
    }

    /// Reads a field: `Ok(None)` when missing; a collection when the path has `[*]`.
    pub fn read(&self, path: &FieldPath) -> Read {
        self.read_mode(path, false)
    }

    /// Like [`Ctx::read`]; with `missing_arrays`, an array missing on the way to a `[*]` reads as
    /// one missing element (a condition on it is then decided as on a missing field).
    fn read_mode(&self, path: &FieldPath, missing_arrays: bool) -> Read {
        self.read_bound(path, missing_arrays, self.resource).0
    }

    /// Reads a field; the flag tells whether the path read an element bound by a `count`.
    fn read_bound(&self, path: &FieldPath, missing_arrays: bool, base: &Value) -> (Read, bool) {
        let segs = match &path.kind {
            FieldKind::Name | FieldKind::FullName => {
                let key = match (&path.kind, base.get("fullName")) {
                    (FieldKind::FullName, Some(_)) => "fullName",
                    _ => "name",
                };
                let read = match base.get(key) {
                    None => Read::One(None),
                    Some(v) => match (&path.kind, v.as_str()) {
                        (FieldKind::Name, Some(s)) => {
                            let last = s.rsplit('/').next().unwrap_or(s).to_string();
                            Read::One(Some(Value::new(Kind::String(last), v.span)))
                        }
                        _ => Read::One(Some(v.clone())),
                    },
                };
                return (read, false);
            }
            FieldKind::Path(s) => s,
            FieldKind::ByType(by_type, default) => {
                let rtype = base.get("type").and_then(Value::as_str).unwrap_or("");
                by_type
                    .iter()
                    .find(|(t, _)| t.eq_ignore_ascii_case(rtype))
                    .map_or(default, |(_, p)| p)
            }
        };
        // Inside a field count, paths under the counted array read the current element.
        let bound = self.bindings.iter().rev().find_map(|b| match b {
            Binding::Field { prefix, elem, .. } => {
                strip_prefix(segs, prefix).map(|rest| (elem, rest))
            }
            Binding::Value { .. } => None,
        });
        let is_bound = bound.is_some();
        let (root, rest) = bound.unwrap_or((base, segs));
        (read(root, rest, missing_arrays), is_bound)
    }

    /// `field()`: inside a count, a path under the counted array gives the current element's
    /// value wrapped in an array (`first(field('a[*].b'))` is the current `b`).
    fn field_value(&self, text: &str) -> Value {
        self.field_value_at(&FieldPath::resolve(text, self.aliases))
    }

    fn field_value_at(&self, path: &FieldPath) -> Value {
        let wildcard = path.segs().is_some_and(|s| s.contains(&Seg::Wildcard));
        // In an existence condition, expressions read the resource the `if` matched.
        let base = self.expr_resource.unwrap_or(self.resource);
        match self.read_bound(path, false, base) {
            (Read::One(v), true) if wildcard => match v {
                // A symbolic string is one element; any other unknown may be the whole array.
                Some(v)
                    if v.is_unknown()
                        && !matches!(v.unknown_reason(), Some(Reason::Symbolic { .. })) =>
                {
                    v
                }
                Some(v) => Value::array(vec![v]),
                None => Value::array(vec![Value::null()]),
            },
            (Read::One(v), _) => v.unwrap_or_else(Value::null),
            (Read::Many(items), _) => Value::array(items),
        }
    }
}

fn strip_prefix<'s>(segs: &'s [Seg], prefix: &[Seg]) -> Option<&'s [Seg]> {
    if segs.len() < prefix.len() {
        return None;
    }
    for (a, b) in segs.iter().zip(prefix) {
        let same = match (a, b) {
            (Seg::Key(x), Seg::Key(y)) => x.eq_ignore_ascii_case(y),
            (x, y) => x == y,
        };
        if !same {
            return None;
        }
    }
    segs.get(prefix.len()..)
}

impl Scope for Ctx<'_> {
    fn parameter(&self, name: &str) -> Option<Value> {
        self.params.get(&name.to_ascii_lowercase()).cloned()
    }
    fn field(&self, path: &str) -> Result<Value, String> {
        Ok(self.field_value(path))
    }
    fn field_path(&self, _text: &str, path: &FieldPath) -> Result<Value, String> {
        Ok(self.field_value_at(path))
    }
    fn current(&self, name: Option<&str>) -> Option<Value> {
        self.bindings.iter().rev().find_map(|b| match (b, name) {
            (Binding::Field { elem, .. } | Binding::Value { elem, .. }, None) => Some(elem.clone()),
            (Binding::Field { text, elem, prefix }, Some(n)) => {
                if text.eq_ignore_ascii_case(n) {
                    return Some(elem.clone());
                }
                let path = FieldPath::resolve(n, self.aliases);
                let rest = strip_prefix(path.segs()?, prefix)?;
                Some(match read(elem, rest, false) {
                    Read::Many(items) => Value::array(items),
                    Read::One(v) => v.unwrap_or_else(Value::null),
                })
            }
            (
                Binding::Value {
                    name: Some(m),
                    elem,
                },
                Some(n),
            ) if m.eq_ignore_ascii_case(n) => Some(elem.clone()),
            _ => None,
        })
    }
    fn context(&self, function: &str) -> Option<Value> {
        self.env.get(function).cloned()
    }
    fn related_field(&self, path: &str) -> Result<Value, String> {
        let path = FieldPath::resolve(path, self.aliases);
        Ok(match self.read_bound(&path, false, self.resource) {
            (Read::One(v), _) => v.unwrap_or_else(Value::null),
            (Read::Many(items), _) => Value::array(items),
        })
    }
    fn referrers(&self) -> Option<Value> {
        self.referrers.cloned()
    }
    fn children(&self) -> Option<Value> {
        self.children.cloned()
    }
}

/// Evaluates a condition.
pub fn eval(c: &Cond, ctx: &mut Ctx<'_>, depth: usize) -> Ev {
    if depth > MAX_DEPTH {
        return Ev::new(Tri::Unknown("condition nested too deeply".into()), None);
    }
    match c {
        Cond::AllOf(items) => {
            let mut unknown: Option<Ev> = None;
            let mut span = None;
            for i in items {
                let e = eval(i, ctx, depth + 1);
                match e.t {
                    Tri::False => return e,
                    Tri::Unknown(_) => {
                        unknown.get_or_insert(e);
                    }
                    Tri::True => {
                        // The last condition that narrows beyond the resource type decides; a
                        // missing property has no span (the caller then uses the declaration).
                        if !is_type_check(i) {
                            span = e.span;
                        }
                    }
                }
            }
            unknown.unwrap_or(Ev::new(Tri::True, span))
        }
        Cond::AnyOf(items) => {
            let mut unknown: Option<Ev> = None;
            let mut span = None;
            for i in items {
                let e = eval(i, ctx, depth + 1);
                match e.t {
                    Tri::True => return e,
                    Tri::Unknown(_) => {
                        unknown.get_or_insert(e);
                    }
                    Tri::False => {
                        if e.span.is_some() {
                            span = e.span;
                        }
                    }
                }
            }
            unknown.unwrap_or(Ev::new(Tri::False, span))
        }
        Cond::Not(inner) => {
            let e = eval(inner, ctx, depth + 1);
            Ev::new(e.t.not(), e.span)
        }
        Cond::Field { field, check } => {
            let dynamic;
            let path = match field {
                FieldRef::Static(p) => p,
                FieldRef::Dynamic(e) => match expression::eval(e, ctx, 0) {
                    Ok(v) => match &v.kind {
                        Kind::String(s) => {
                            dynamic = FieldPath::resolve(s, ctx.aliases);
                            &dynamic
                        }
                        Kind::Unknown(r) => return Ev::new(Tri::Unknown(Undecided::of(r)), None),
                        _ => {
                            return Ev::new(
                                Tri::Unknown("the field expression is not a string".into()),
                                None,
                            )
                        }
                    },
                    Err(e) => return Ev::new(Tri::Unknown(e.into()), None),
                },
            };
            let rhs = match check.rhs.eval(ctx) {
                Ok(v) => v,
                Err(e) => return Ev::new(Tri::Unknown(e.into()), None),
            };
            match ctx.read_mode(path, true) {
                Read::One(v) => {
                    let span = v.as_ref().and_then(|v| v.span);
                    Ev::new(apply(check.op, v.as_ref(), &rhs), span)
                }
                Read::Many(items) => {
                    // Every element must satisfy the condition.
                    let mut unknown = None;
                    let mut span = None;
                    for i in &items {
                        let present = if matches!(i.kind, Kind::Null) {
                            None
                        } else {
                            Some(i)
                        };
                        match apply(check.op, present, &rhs) {
                            Tri::False => return Ev::new(Tri::False, i.span),
                            Tri::Unknown(r) => {
                                unknown.get_or_insert(Ev::new(Tri::Unknown(r), i.span));
                            }
                            Tri::True => span = span.or(i.span),
                        }
                    }
                    unknown.unwrap_or(Ev::new(Tri::True, span))
                }
            }
        }
        Cond::Value { value, check } => {
            let (lhs, rhs) = match (value.eval(ctx), check.rhs.eval(ctx)) {
                (Ok(l), Ok(r)) => (l, r),
                (Err(e), _) | (_, Err(e)) => return Ev::new(Tri::Unknown(e.into()), None),
            };
            let present = if matches!(lhs.kind, Kind::Null) {
                None
            } else {
                Some(&lhs)
            };
            // In an existence condition, a value read from the evaluated resource does not locate
            // what is wrong with the related one: keep only spans inside the related resource.
            let span = match (ctx.expr_resource, lhs.span, ctx.resource.span) {
                (Some(_), Some(s), Some(r))
                    if s.file == r.file && s.start >= r.start && s.end <= r.end =>
                {
                    Some(s)
                }
                (Some(_), _, _) => None,
                (None, s, _) => s,
            };
            Ev::new(apply(check.op, present, &rhs), span)
        }
        Cond::Count { of, filter, check } => eval_count(of, filter.as_deref(), check, ctx, depth),
    }
}

fn is_type_check(c: &Cond) -> bool {
    matches!(c, Cond::Field { field: FieldRef::Static(FieldPath { text, .. }), .. } if text.eq_ignore_ascii_case("type"))
}

type MakeBinding = Box<dyn Fn(Value) -> Binding>;

fn eval_count(
    of: &CountOf,
    filter: Option<&Cond>,
    check: &Check,
    ctx: &mut Ctx<'_>,
    depth: usize,
) -> Ev {
    if ctx.bindings.len() >= MAX_COUNT_NESTING {
        return Ev::new(Tri::Unknown("count nested too deeply".into()), None);
    }
    let (items, span, make): (Vec<Value>, Option<Span>, MakeBinding) = match of {
        CountOf::Field(path) => {
            let Some(segs) = path.segs() else {
                return Ev::new(Tri::Unknown("count field is not an array".into()), None);
            };
            let items = match ctx.read(path) {
                Read::Many(items) => items,
                Read::One(Some(v)) if v.is_unknown() => {
                    return Ev::new(Tri::Unknown(unknown_reason(&v)), v.span);
                }
                Read::One(_) => Vec::new(),
            };
            // The binding prefix: the full path as the rule wrote it (ending with `[*]`).
            let mut prefix: Vec<Seg> = segs.to_vec();
            while prefix.last().is_some_and(|s| *s != Seg::Wildcard) {
                prefix.pop();
            }
            let text = path.text.clone();
            let make = move |elem| Binding::Field {
                prefix: prefix.clone(),
                text: text.clone(),
                elem,
            };
            (items, None, Box::new(make))
        }
        CountOf::Value { value, name } => {
            let v = match value.eval(ctx) {
                Ok(v) => v,
                Err(e) => return Ev::new(Tri::Unknown(e.into()), None),
            };
            if v.is_unknown() {
                return Ev::new(Tri::Unknown(unknown_reason(&v)), v.span);
            }
            let span = v.span;
            let items = match v.kind {
                Kind::Array(items) => items,
                Kind::Null => Vec::new(),
                _ => return Ev::new(Tri::Unknown("count value must be an array".into()), span),
            };
            let name = name.clone();
            (
                items,
                span,
                Box::new(move |elem| Binding::Value {
                    name: name.clone(),
                    elem,
                }),
            )
        }
    };
    let mut yes = 0i64;
    let mut maybe = 0i64;
    let mut reason = None;
    let mut deciding = span;
    for item in items {
        let item_span = item.span;
        match filter {
            None => yes += 1,
            Some(f) => {
                ctx.bindings.push(make(item));
                let e = eval(f, ctx, depth + 1);
                ctx.bindings.pop();
                match e.t {
                    Tri::True => {
                        yes += 1;
                        deciding = deciding.or(e.span).or(item_span);
                    }
                    Tri::False => {}
                    Tri::Unknown(r) => {
                        maybe += 1;
                        reason.get_or_insert(r);
                    }
                }
            }
        }
    }
    let rhs = match check.rhs.eval(ctx) {
        Ok(v) => v,
        Err(e) => return Ev::new(Tri::Unknown(e.into()), None),
    };
    let outcomes: Vec<Tri> = (yes..=yes + maybe)
        .take(1000)
        .map(|n| apply(check.op, Some(&Value::int(n)), &rhs))
        .collect();
    let first = outcomes.first().cloned().unwrap_or(Tri::False);
    if outcomes.iter().all(|o| *o == first) {
        Ev::new(first, deciding)
    } else {
        Ev::new(Tri::Unknown(reason.unwrap_or_default()), deciding)
    }
}

fn unknown_reason(v: &Value) -> Undecided {
    match v.first_unknown() {
        Some(r) => Undecided::of(r),
        None => "depends on an unknown value".into(),
    }
}

/// "depends on …": why a condition can't be decided, from the reason a value is unknown.
pub fn depends_on(r: &Reason) -> String {
    match r {
        Reason::Parameter { name } => format!("depends on parameter '{name}', which has no value"),
        Reason::Existing { symbol } => {
            format!("depends on '{symbol}', an existing resource deployed elsewhere")
        }
        Reason::Runtime { function } => {
            format!("depends on {function}(), known only at deployment")
        }
        Reason::Module { reference, why } => {
            format!("depends on module '{reference}', which {why}")
        }
        Reason::Environment { what } => format!("depends on {what}, known only at deployment"),
        Reason::Limit { what } => format!("depends on a value past an evaluation limit ({what})"),
        Reason::Error { message } => {
            format!("depends on a value that could not be evaluated: {message}")
        }
        Reason::Symbolic { text } => format!("depends on '{text}', known only at deployment"),
    }
}

/// Applies an operator to a field or value (`None` when missing or null) and the right side.
pub fn apply(op: Op, lhs: Option<&Value>, rhs: &Value) -> Tri {
    // A property the template sets exists, whatever its value: a parameter without a value or a
    // deployment-filled string is still there. (Other unknowns may stand for a whole object, such
    // as an `existing` resource's properties, where the property may or may not be.)
    let set_by_template = lhs.is_none_or(|l| {
        !l.is_unknown()
            || matches!(
                l.unknown_reason(),
                Some(Reason::Symbolic { .. } | Reason::Parameter { .. })
            )
    });
    if op == Op::Exists && !rhs.is_unknown() && set_by_template {
        let want = match &rhs.kind {
            Kind::Bool(b) => *b,
            Kind::String(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let present = lhs.is_some_and(|l| !matches!(l.kind, Kind::Null));
        return Tri::from(present == want);
    }
    // Two deployment-filled values with the same text (`{resourceGroup().location}` on both
    // sides) or the same parameter without a value are equal, whatever they turn out to be.
    if let (Some(l), Op::Equals | Op::NotEquals) = (lhs, op) {
        let same = match (l.unknown_reason(), rhs.unknown_reason()) {
            // `{?}` is a value not known at all: two of them are not the same value.
            (Some(Reason::Symbolic { text: a }), Some(Reason::Symbolic { text: b })) => {
                fold(a) == fold(b) && !a.contains("{?}")
            }
            (Some(Reason::Parameter { name: a }), Some(Reason::Parameter { name: b })) => {
                a.eq_ignore_ascii_case(b)
            }
            _ => false,
        };
        if same {
            return Tri::from(op == Op::Equals);
        }
        // The same placeholders in the same order, around different literal text, are never
        // equal: each placeholder is filled in the same way on both sides.
        if let (Some(Reason::Symbolic { text: a }), Some(Reason::Symbolic { text: b })) =
            (l.unknown_reason(), rhs.unknown_reason())
        {
            if same_placeholders_other_text(&fold(a), &fold(b)) {
                return Tri::from(op == Op::NotEquals);
            }
        }
    }
    // `like 'prefix*'` on a symbolic string is decided by its literal start.
    if let (Some(l), Op::Like | Op::NotLike, Some(pattern)) = (lhs, op, rhs.as_str()) {
        if let (Some(Reason::Symbolic { text }), Some(prefix)) =
            (l.unknown_reason(), pattern.strip_suffix('*'))
        {
            let known = text.split('{').next().unwrap_or("");
            if !prefix.contains(['*', '?', '{', '}']) && known.len() >= prefix.len() {
                let starts = fold(known).starts_with(&fold(prefix));
                return Tri::from(starts == (op == Op::Like));
            }
        }
    }
    // `contains` on a symbolic string is decided when the needle appears in its literal text.
    if let (Some(l), Op::Contains | Op::NotContains, Some(needle)) = (lhs, op, rhs.as_str()) {
        if let Some(Reason::Symbolic { text }) = l.unknown_reason() {
            if !needle.contains(['{', '}'])
                && placeholders::literal_parts(text)
                    .iter()
                    .any(|p| fold(p).contains(&fold(needle)))
            {
                return Tri::from(op == Op::Contains);
            }
            // An id whose type is visible (`…/providers/Microsoft.Web/sites/{name}`) can't
            // contain a path the placeholders would have to supply: each fills one segment.
            if !needle.contains(['{', '}']) && !id_could_contain(text, needle) {
                return Tri::from(op == Op::NotContains);
            }
        }
    }
    if let Some(l) = lhs {
        if l.first_unknown().is_some() && op != Op::Exists {
            return Tri::Unknown(unknown_reason(l));
        }
        if l.is_unknown() {
            return Tri::Unknown(unknown_reason(l));
        }
    }
    if rhs.first_unknown().is_some() {
        return Tri::Unknown(unknown_reason(rhs));
    }
    let null = Value::null();
    let l = lhs.unwrap_or(&null);
    let positive = |o: Op| -> Tri {
        match o {
            Op::Equals => Tri::from(values_equal(l, rhs)),
            Op::Like => Tri::from(match (l.as_str(), rhs.as_str()) {
                (Some(s), Some(p)) => like(s, p),
                _ => false,
            }),
            Op::Match | Op::MatchInsensitively => Tri::from(match (l.as_str(), rhs.as_str()) {
                (Some(s), Some(p)) => match_pattern(s, p, o == Op::MatchInsensitively),
                _ => false,
            }),
            Op::Contains => Tri::from(match &l.kind {
                Kind::String(s) => rhs.as_str().is_some_and(|p| fold(s).contains(&fold(p))),
                Kind::Array(a) => a.iter().any(|i| values_equal(i, rhs)),
                _ => false,
            }),
            Op::In => Tri::from(match &rhs.kind {
                Kind::Array(a) => a.iter().any(|i| values_equal(l, i)),
                _ => false,
            }),
            Op::ContainsKey => Tri::from(match (&l.kind, rhs.as_str()) {
                (Kind::Object(_), Some(k)) => l.get(k).is_some(),
                _ => false,
            }),
            Op::Less | Op::LessOrEquals | Op::Greater | Op::GreaterOrEquals => {
                let Some(ord) = compare(l, rhs) else {
                    return Tri::False;
                };
                Tri::from(match o {
                    Op::Less => ord == Ordering::Less,
                    Op::LessOrEquals => ord != Ordering::Greater,
                    Op::Greater => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                })
            }
            Op::Exists => {
                let want = match &rhs.kind {
                    Kind::Bool(b) => *b,
                    Kind::String(s) => s.eq_ignore_ascii_case("true"),
                    _ => false,
                };
                Tri::from(lhs.is_some() == want)
            }
            _ => Tri::False,
        }
    };
    match op {
        Op::NotEquals => positive(Op::Equals).not(),
        Op::NotLike => positive(Op::Like).not(),
        Op::NotMatch => positive(Op::Match).not(),
        Op::NotMatchInsensitively => positive(Op::MatchInsensitively).not(),
        Op::NotContains => positive(Op::Contains).not(),
        Op::NotIn => positive(Op::In).not(),
        Op::NotContainsKey => positive(Op::ContainsKey).not(),
        o => positive(o),
    }
}

/// Whether the symbolic resource id `text` could contain `needle` once the deployment fills in
/// its placeholders. `true` (can't tell) unless `text` is a resource id whose type is literal
/// (`/subscriptions/…/providers/<namespace>/<type>/…`) and `needle` spans segments: a placeholder
/// stands for (part of) one segment, never for a `/`, or the id would name another type.
fn id_could_contain(text: &str, needle: &str) -> bool {
    let segments = placeholders::segments(text, '/');
    let literal = |s: &str| !s.contains('{');
    let starts_like_an_id = segments.first().is_some_and(|s| s.is_empty())
        && segments.get(1).is_some_and(|s| {
            s.eq_ignore_ascii_case("subscriptions") || s.eq_ignore_ascii_case("providers")
        });
    let typed = segments.windows(3).any(|w| {
        matches!(w, [p, ns, ty] if p.eq_ignore_ascii_case("providers") && literal(ns) && literal(ty))
    });
    let parts: Vec<String> = needle.split('/').map(fold).collect();
    if !starts_like_an_id || !typed || parts.len() < 2 {
        return true;
    }
    let k = parts.len() - 1;
    (0..segments.len().saturating_sub(k)).any(|i| {
        parts.iter().enumerate().all(|(j, part)| {
            let Some(seg) = segments.get(i + j) else {
                return false;
            };
            if !literal(seg) {
                return true;
            }
            let seg = fold(seg);
            if j == 0 {
                seg.ends_with(part.as_str())
            } else if j == k {
                seg.starts_with(part.as_str())
            } else {
                seg == *part
            }
        })
    })
}

/// `like`: `*` matches any run of characters, `?` one character; case-insensitive.
pub fn like(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = fold(s).chars().collect();
    let p: Vec<char> = fold(pattern).chars().collect();
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match p.get(j) {
            Some('*') => {
                star = Some((j, i));
                j += 1;
            }
            Some(c) if *c == '?' || Some(c) == s.get(i) => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((sj, si)) => {
                    j = sj + 1;
                    i = si + 1;
                    star = Some((sj, si + 1));
                }
                None => return false,
            },
        }
    }
    p.iter().skip(j).all(|c| *c == '*')
}

/// `match`: `#` a digit, `?` a letter, `.` any character, anything else itself.
pub fn match_pattern(s: &str, pattern: &str, insensitive: bool) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    s.len() == p.len()
        && s.iter().zip(&p).all(|(c, q)| match q {
            '#' => c.is_ascii_digit(),
            '?' => c.is_alphabetic(),
            '.' => true,
            q if insensitive => c.to_lowercase().eq(q.to_lowercase()),
            q => c == q,
        })
}

/// Two symbolic texts whose literal starts (before the first `{placeholder}`) or literal ends
/// (after the last) disagree: they can't be equal, whatever the placeholders become.
fn same_placeholders_other_text(a: &str, b: &str) -> bool {
    let start = |t: &str| t.split('{').next().unwrap_or("").to_string();
    let end = |t: &str| t.rsplit('}').next().unwrap_or("").to_string();
    let (sa, sb, ea, eb) = (start(a), start(b), end(a), end(b));
    let starts_differ = !(sa.starts_with(&sb) || sb.starts_with(&sa));
    let ends_differ = !(ea.ends_with(&eb) || eb.ends_with(&ea));
    a.contains('{') && b.contains('{') && (starts_differ || ends_differ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_and_match() {
        assert!(like("prod-server", "PROD-*"));
        assert!(like("abc", "*b*"));
        assert!(!like("abc", "*d"));
        assert!(like("", "*"));
        assert!(match_pattern("ab-12", "??-##", false));
        assert!(!match_pattern("Ab-12", "ab-##", false));
        assert!(match_pattern("Ab-12", "ab-##", true));
    }
}

#[cfg(test)]
mod id_type_tests {
    use super::*;

    fn contains(text: &str, needle: &str) -> Tri {
        apply(
            Op::Contains,
            Some(&Value::symbolic(text)),
            &Value::string(needle),
        )
    }

    #[test]
    fn an_id_whose_type_is_visible_decides_a_type_condition() {
        let site = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Web/sites/web-{uniqueString(/subscriptions/{subscriptionId}/providers/Microsoft.ApiManagement/service/x)}";
        let apim_needle = "/providers/Microsoft.ApiManagement/service/";
        assert_eq!(contains(site, apim_needle), Tri::False);
        assert_eq!(
            apply(
                Op::NotContains,
                Some(&Value::symbolic(site)),
                &Value::string(apim_needle)
            ),
            Tri::True
        );
        assert_eq!(contains(site, "/providers/microsoft.web/sites/"), Tri::True);
        // The name itself is unknown: a condition on it stays undecided.
        assert!(matches!(contains(site, "web-prod"), Tri::Unknown(_)));
        // A placeholder where the type would be: undecided.
        let any = "/subscriptions/{subscriptionId}/resourceGroups/{rg}/providers/{type}/{name}";
        assert!(matches!(contains(any, apim_needle), Tri::Unknown(_)));
        // Not an id (a whole id from a parameter, then a child): undecided.
        let child = "{vnetId}/providers/Microsoft.Web/sites/x";
        assert!(matches!(contains(child, apim_needle), Tri::Unknown(_)));
    }
}
