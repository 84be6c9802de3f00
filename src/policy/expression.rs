//! The `[...]` expressions of policy rules (`[concat(field('name'), '-x')]`): parsed once at load
//! by the one ARM expression parser (`syntax/arm_expr.rs`) into [`RuleExpr`], with `field('…')`
//! paths resolved, and evaluated with the one table of ARM functions (`eval/functions/`) and the
//! functions only policies have (`field()`, `current()`, `requestContext()` …).

use super::aliases::AliasTable;
use super::field::FieldPath;
use crate::eval::functions::{self, Bounds, Failure};
use crate::expr::{Expr, ExprKind};
use crate::value::{Kind, Reason, Value};
use std::fmt::Write as _;

/// Deepest nesting of values in a definition, and of expression evaluation.
const MAX_DEPTH: usize = 64;

/// A compiled expression of a policy rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleExpr {
    Lit(Value),
    /// A function call; `name` is lowercase.
    Call {
        name: String,
        args: Vec<RuleExpr>,
    },
    Index {
        target: Box<RuleExpr>,
        index: Box<RuleExpr>,
    },
    Member {
        target: Box<RuleExpr>,
        name: String,
    },
    /// `field('<literal>')` with its path resolved at load (see [`Operand::bind_fields`]).
    Field {
        text: String,
        path: Box<FieldPath>,
    },
}

/// A JSON value from a definition: a literal, or a string holding `[...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Lit(Value),
    Expr(RuleExpr),
    /// An object or array whose members hold expressions.
    Object(Vec<(String, Operand)>),
    Array(Vec<Operand>),
}

impl Operand {
    /// Compiles a JSON value, parsing every `[...]` string it holds.
    pub fn compile(json: &serde_json::Value) -> Result<Operand, String> {
        Self::compile_at(json, 0)
    }

    fn compile_at(json: &serde_json::Value, depth: usize) -> Result<Operand, String> {
        if depth > MAX_DEPTH {
            return Err("value nested too deeply".into());
        }
        match json {
            serde_json::Value::String(s) => match parse_expression_string(s)? {
                Some(e) => Ok(Operand::Expr(e)),
                None => Ok(Operand::Lit(Value::string(unescape_brackets(s)))),
            },
            serde_json::Value::Array(items) if items.iter().any(has_expr) => Ok(Operand::Array(
                items
                    .iter()
                    .map(|i| Self::compile_at(i, depth + 1))
                    .collect::<Result<_, _>>()?,
            )),
            serde_json::Value::Object(o) if o.values().any(has_expr) => Ok(Operand::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), Self::compile_at(v, depth + 1)?)))
                    .collect::<Result<_, String>>()?,
            )),
            other => Ok(Operand::Lit(Value::from_json(other))),
        }
    }

    /// Evaluates the operand.
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, String> {
        match self {
            Operand::Lit(v) => Ok(v.clone()),
            Operand::Expr(e) => eval(e, scope, 0),
            Operand::Array(items) => Ok(Value::array(
                items
                    .iter()
                    .map(|i| i.eval(scope))
                    .collect::<Result<_, _>>()?,
            )),
            Operand::Object(props) => Ok(Value::object(
                props
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.eval(scope)?)))
                    .collect::<Result<_, String>>()?,
            )),
        }
    }

    /// Resolves every `field('<literal>')` call to its path once.
    pub fn bind_fields(&mut self, aliases: &AliasTable) {
        match self {
            Operand::Lit(_) => {}
            Operand::Expr(e) => bind_fields(e, aliases),
            Operand::Array(items) => items.iter_mut().for_each(|i| i.bind_fields(aliases)),
            Operand::Object(props) => props.iter_mut().for_each(|(_, v)| v.bind_fields(aliases)),
        }
    }

    /// The expression, if the operand is a single one.
    pub fn as_expr(&self) -> Option<&RuleExpr> {
        match self {
            Operand::Expr(e) => Some(e),
            _ => None,
        }
    }
}

fn has_expr(json: &serde_json::Value) -> bool {
    match json {
        serde_json::Value::String(s) => crate::syntax::arm_expr::is_expression(s.trim()),
        serde_json::Value::Array(a) => a.iter().any(has_expr),
        serde_json::Value::Object(o) => o.values().any(has_expr),
        _ => false,
    }
}

/// Resolves every `field('<literal>')` call of `e` to its path once.
pub fn bind_fields(e: &mut RuleExpr, aliases: &AliasTable) {
    match e {
        RuleExpr::Call { name, args } if name == "field" => {
            if let [RuleExpr::Lit(v)] = args.as_slice() {
                if let Some(text) = v.as_str() {
                    let path = Box::new(FieldPath::resolve(text, aliases));
                    *e = RuleExpr::Field {
                        text: text.to_string(),
                        path,
                    };
                    return;
                }
            }
            args.iter_mut().for_each(|a| bind_fields(a, aliases));
        }
        RuleExpr::Call { args, .. } => args.iter_mut().for_each(|a| bind_fields(a, aliases)),
        RuleExpr::Index { target, index } => {
            bind_fields(target, aliases);
            bind_fields(index, aliases);
        }
        RuleExpr::Member { target, .. } => bind_fields(target, aliases),
        RuleExpr::Lit(_) | RuleExpr::Field { .. } => {}
    }
}

fn unescape_brackets(s: &str) -> String {
    match s.strip_prefix("[[") {
        Some(rest) if s.ends_with(']') => format!("[{rest}"),
        _ => s.to_string(),
    }
}

/// Parses `s` if it holds an expression (`[...]`); `Ok(None)` for a plain string.
pub fn parse_expression_string(s: &str) -> Result<Option<RuleExpr>, String> {
    match crate::syntax::arm_expr::expression_text(s.trim()) {
        Some(inner) => parse(inner).map(Some),
        None => Ok(None),
    }
}

/// Parses the text between the brackets (with the ARM expression parser).
pub fn parse(text: &str) -> Result<RuleExpr, String> {
    let e = crate::syntax::arm_expr::parse(crate::source::FileId(0), text, 0);
    compile_expr(&e, 0)
}

/// The ARM expression tree as a rule expression: names lowercase; lambdas and user-defined
/// functions have no place in a policy rule.
fn compile_expr(e: &Expr, depth: usize) -> Result<RuleExpr, String> {
    if depth > MAX_DEPTH {
        return Err("expression nested too deeply".into());
    }
    let sub = |x: &Expr| compile_expr(x, depth + 1).map(Box::new);
    Ok(match &e.kind {
        ExprKind::Null => RuleExpr::Lit(Value::null()),
        ExprKind::Bool(b) => RuleExpr::Lit(Value::bool(*b)),
        ExprKind::Int(i) => RuleExpr::Lit(Value::int(*i)),
        ExprKind::Float(f) => RuleExpr::Lit(Value::new(Kind::Float(*f), None)),
        ExprKind::String(s) => RuleExpr::Lit(Value::string(s.clone())),
        ExprKind::Call(c) => {
            if let Some(ns) = &c.namespace {
                return Err(format!(
                    "function '{ns}.{}' is not allowed in policy rules",
                    c.name
                ));
            }
            RuleExpr::Call {
                name: c.name.to_ascii_lowercase(),
                args: c
                    .args
                    .iter()
                    .map(|a| compile_expr(a, depth + 1))
                    .collect::<Result<_, _>>()?,
            }
        }
        ExprKind::Member { target, name, .. } => RuleExpr::Member {
            target: sub(target)?,
            name: name.clone(),
        },
        ExprKind::Index { target, index, .. } => RuleExpr::Index {
            target: sub(target)?,
            index: sub(index)?,
        },
        ExprKind::Error(message) => return Err(message.clone()),
        ExprKind::Lambda { .. } | ExprKind::Ident(_) => {
            return Err("function 'lambda' is not allowed in policy rules".into())
        }
        _ => return Err("this expression is not allowed in policy rules".into()),
    })
}

/// What an expression can read: parameters, fields, count bindings and the request context.
pub trait Scope {
    /// A parameter's value (assigned or default); `None` when undeclared.
    fn parameter(&self, name: &str) -> Option<Value>;
    /// A field of the evaluated resource (null when missing).
    fn field(&self, path: &str) -> Result<Value, String>;
    /// A field whose path was resolved at load.
    fn field_path(&self, text: &str, _path: &FieldPath) -> Result<Value, String> {
        self.field(text)
    }
    /// `current()` / `current('name')` inside a count.
    fn current(&self, name: Option<&str>) -> Option<Value>;
    /// `resourceGroup()`, `subscription()`, `requestContext()`, `policy()`, `deployment()`.
    fn context(&self, function: &str) -> Option<Value>;
    /// A variable of the definition (rarely used; `None` when undeclared).
    fn variable(&self, _name: &str) -> Option<Value> {
        None
    }
    /// azaudit extension `relatedField()`: a field of the related resource of an existence
    /// condition (where `field()` reads the evaluated resource); elsewhere the same as `field()`.
    fn related_field(&self, path: &str) -> Result<Value, String> {
        self.field(path)
    }
    /// azaudit extension `referencedBy()`: the resources referencing the related resource.
    fn referrers(&self) -> Option<Value> {
        None
    }
    /// azaudit extension `relatedChildren()`: the child resources of the related resource.
    fn children(&self) -> Option<Value> {
        None
    }
}

fn unknown_env(what: &str) -> Value {
    Value::unknown(Reason::Environment {
        what: format!("{what}()"),
    })
}

/// Evaluates an expression.
pub fn eval(e: &RuleExpr, scope: &dyn Scope, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("expression nested too deeply".into());
    }
    match e {
        RuleExpr::Lit(v) => Ok(v.clone()),
        RuleExpr::Member { target, name } => {
            let t = eval(target, scope, depth + 1)?;
            if t.is_unknown() {
                return Ok(t);
            }
            match &t.kind {
                Kind::Object(_) => Ok(t.get(name).cloned().unwrap_or_else(Value::null)),
                _ => Err(format!(
                    "cannot read property `{name}` of a {}",
                    t.type_name()
                )),
            }
        }
        RuleExpr::Index { target, index } => {
            let t = eval(target, scope, depth + 1)?;
            let i = eval(index, scope, depth + 1)?;
            if t.is_unknown() {
                return Ok(t);
            }
            if i.is_unknown() {
                return Ok(i);
            }
            match (&t.kind, &i.kind) {
                (Kind::Array(a), _) => {
                    let n = i.as_i64().ok_or("array index must be an integer")?;
                    usize::try_from(n)
                        .ok()
                        .and_then(|n| a.get(n))
                        .cloned()
                        .map(|v| with_arg_span(v, std::slice::from_ref(&t)))
                        .ok_or_else(|| format!("index {n} out of range"))
                }
                (Kind::Object(_), Kind::String(k)) => {
                    Ok(t.get(k).cloned().unwrap_or_else(Value::null))
                }
                _ => Err(format!("cannot index a {}", t.type_name())),
            }
        }
        RuleExpr::Call { name, args } => call(name, args, scope, depth),
        RuleExpr::Field { text, path } => scope.field_path(text, path),
    }
}

fn call(name: &str, args: &[RuleExpr], scope: &dyn Scope, depth: usize) -> Result<Value, String> {
    // Functions that evaluate their arguments lazily or read the scope.
    match name {
        "if" => {
            let [c, a, b] = args else {
                return Err("if() takes 3 arguments".into());
            };
            let cv = eval(c, scope, depth + 1)?;
            if cv.is_unknown() {
                return Ok(cv);
            }
            return match cv.truthy() {
                Some(true) => eval(a, scope, depth + 1),
                Some(false) => eval(b, scope, depth + 1),
                None => Err("if() needs a boolean condition".into()),
            };
        }
        "and" | "or" => {
            let want = name == "or";
            let mut unknown: Option<Value> = None;
            for a in args {
                let v = eval(a, scope, depth + 1)?;
                if v.is_unknown() {
                    unknown.get_or_insert(v);
                    continue;
                }
                match v.truthy() {
                    Some(b) if b == want => return Ok(Value::bool(want)),
                    Some(_) => {}
                    None => return Err(format!("{name}() needs boolean arguments")),
                }
            }
            return Ok(unknown.unwrap_or(Value::bool(!want)));
        }
        "coalesce" => {
            for a in args {
                let v = eval(a, scope, depth + 1)?;
                if !matches!(v.kind, Kind::Null) {
                    return Ok(v);
                }
            }
            return Ok(Value::null());
        }
        _ => {}
    }
    let mut vals = Vec::with_capacity(args.len());
    for a in args {
        vals.push(eval(a, scope, depth + 1)?);
    }
    // Scope functions (may take unknown-free string args).
    match name {
        "parameters" => {
            let n = str_arg(&vals, 0, name)?;
            return scope
                .parameter(&n)
                .ok_or_else(|| format!("parameter '{n}' is not declared"));
        }
        "variables" => {
            let n = str_arg(&vals, 0, name)?;
            return scope
                .variable(&n)
                .ok_or_else(|| format!("variable '{n}' is not declared"));
        }
        "field" => {
            if let Some(v) = vals.first().filter(|v| v.is_unknown()) {
                return Ok(v.clone());
            }
            let n = str_arg(&vals, 0, name)?;
            return scope.field(&n);
        }
        "relatedfield" => {
            if let Some(v) = vals.first().filter(|v| v.is_unknown()) {
                return Ok(v.clone());
            }
            let n = str_arg(&vals, 0, name)?;
            return scope.related_field(&n);
        }
        "referencedby" => {
            return Ok(scope
                .referrers()
                .unwrap_or_else(|| Value::array(Vec::new())));
        }
        "relatedchildren" => {
            // Optionally narrowed to one child type (`Microsoft.Network/networkSecurityGroups/securityRules`).
            let all = scope.children().unwrap_or_else(|| Value::array(Vec::new()));
            let Some(want) = vals.first() else {
                return Ok(all);
            };
            let want = want
                .as_str()
                .ok_or("relatedChildren() takes a resource type")?
                .to_string();
            let items = all.as_array().unwrap_or_default();
            return Ok(Value::array(
                items
                    .iter()
                    .filter(|c| {
                        c.get("type")
                            .and_then(Value::as_str)
                            .is_some_and(|t| t.eq_ignore_ascii_case(&want))
                    })
                    .cloned()
                    .collect(),
            ));
        }
        "current" => {
            let n = match vals.first() {
                Some(v) => Some(v.as_str().ok_or("current() takes a string")?.to_string()),
                None => None,
            };
            return scope
                .current(n.as_deref())
                .ok_or_else(|| "current() used outside a count".to_string());
        }
        "resourcegroup" | "subscription" | "requestcontext" | "policy" | "deployment" => {
            return Ok(scope.context(name).unwrap_or_else(|| unknown_env(name)));
        }
        "utcnow" => {
            return Ok(scope
                .context("utcnow")
                .unwrap_or_else(|| unknown_env("utcNow")))
        }
        "uniquestring" => {
            // A hash Azure computes at deployment: symbolic text, as in templates.
            if let Some(u) = vals.iter().find(|v| v.is_unknown() && !is_symbolic(v)) {
                return Ok(u.clone());
            }
            let texts: Vec<String> = vals
                .iter()
                .map(|v| v.as_text().map_or_else(|| v.to_string(), str::to_string))
                .collect();
            return Ok(Value::symbolic(format!(
                "{{uniqueString({})}}",
                texts.join(", ")
            )));
        }
        _ => {}
    }
    let Some(f) = functions::lookup(name) else {
        if let Some(u) = vals.iter().find(|v| v.is_unknown()) {
            return Ok(u.clone());
        }
        // An NSG decision is about the whole group, not the first rule it read.
        let arg = |i: usize| {
            vals.get(i)
                .ok_or_else(|| format!("{name}() is missing argument {}", i + 1))
        };
        return match name {
            "nsgflow" => super::nsg::flow(arg(0)?, arg(1)?),
            "nsgdeniedflows" => super::nsg::denied_flows(arg(0)?, arg(1)?),
            other => Err(format!(
                "function '{other}' is not supported in policy rules"
            )),
        };
    };
    // Text functions work on symbolic strings (`/subscriptions/{subscriptionId}/…`): the known
    // parts of the text stay known, the placeholders stay symbolic.
    if SYMBOLIC_TEXT_FUNCTIONS.contains(&name)
        && vals.iter().any(is_symbolic)
        && vals.iter().all(|v| !v.is_unknown() || is_symbolic(v))
    {
        let plain: Vec<Value> = vals
            .iter()
            .map(|v| match (v.is_unknown(), v.as_text()) {
                (true, Some(t)) => Value::string(t),
                _ => v.clone(),
            })
            .collect();
        return run(f, name, &plain)
            .map(resymbolize)
            .map(|v| with_arg_span(v, &vals));
    }
    match f.apply(&functions::Call {
        name,
        args: &vals,
        bounds: Bounds::default(),
    }) {
        // An unknown argument decides: it stays as it is.
        Err(Failure::Unknown(u)) => Ok(u),
        other => outcome(other).map(|v| with_arg_span(v, &vals)),
    }
}

/// Runs a function of the table.
fn run(f: &functions::Function, name: &str, args: &[Value]) -> Result<Value, String> {
    outcome(f.apply(&functions::Call {
        name,
        args,
        bounds: Bounds::default(),
    }))
}

/// A table function's outcome as the policy evaluator's result.
fn outcome(o: functions::Outcome) -> Result<Value, String> {
    match o {
        Ok(v) | Err(Failure::Unknown(v)) => Ok(v),
        Err(Failure::Error(message)) => Err(message),
        Err(Failure::Limit(what)) => Err(Reason::Limit { what }.to_string()),
    }
}

/// A computed value is located where its first located argument is (`ipRangeSize(x)` where `x`
/// was read), so a condition on it still points at the source.
fn with_arg_span(mut v: Value, args: &[Value]) -> Value {
    if v.span.is_none() {
        v.span = args.iter().find_map(|a| a.span);
    }
    v
}

/// Functions that transform text, and so can carry symbolic placeholders through.
const SYMBOLIC_TEXT_FUNCTIONS: &[&str] = &[
    "concat",
    "split",
    "first",
    "last",
    "tolower",
    "toupper",
    "replace",
    "substring",
    "trim",
    "skip",
    "take",
    "format",
    "string",
    // Filled-in text is never empty.
    "empty",
];

fn is_symbolic(v: &Value) -> bool {
    matches!(v.unknown_reason(), Some(Reason::Symbolic { .. }))
}

/// Strings that still hold a `{placeholder}` become symbolic again.
fn resymbolize(v: Value) -> Value {
    match v.kind {
        Kind::String(s) if s.contains('{') => Value::symbolic(s),
        Kind::Array(items) => Value::array(items.into_iter().map(resymbolize).collect()),
        other => Value::new(other, v.span),
    }
}

pub(crate) fn str_arg(vals: &[Value], i: usize, f: &str) -> Result<String, String> {
    vals.get(i)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("{f}() expects a string as argument {}", i + 1))
}

/// Renders an expression back to text (for messages).
pub fn render(e: &RuleExpr) -> String {
    let mut s = String::new();
    render_into(e, &mut s);
    s
}

fn render_into(e: &RuleExpr, s: &mut String) {
    match e {
        RuleExpr::Lit(v) => match &v.kind {
            Kind::String(t) => {
                let _ = write!(s, "'{}'", t.replace('\'', "''"));
            }
            _ => {
                let _ = write!(s, "{v}");
            }
        },
        RuleExpr::Call { name, args } => {
            s.push_str(name);
            s.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                render_into(a, s);
            }
            s.push(')');
        }
        RuleExpr::Index { target, index } => {
            render_into(target, s);
            s.push('[');
            render_into(index, s);
            s.push(']');
        }
        RuleExpr::Member { target, name } => {
            render_into(target, s);
            s.push('.');
            s.push_str(name);
        }
        RuleExpr::Field { text, .. } => {
            let _ = write!(s, "field('{}')", text.replace('\'', "''"));
        }
    }
}

#[cfg(test)]
mod both_evaluators;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calls_members_and_escapes() {
        let e = parse("concat(parameters('a'), 'it''s')[0].x").unwrap();
        assert_eq!(render(&e), "concat(parameters('a'), 'it''s')[0].x");
        assert!(parse_expression_string("[[not]").unwrap().is_none());
        assert!(parse("concat(").is_err());
        assert!(parse("foo").is_err());
    }
}
