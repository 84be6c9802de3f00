//! The template expressions allowed in policy rules (`[concat(field('name'), '-x')]`): a small
//! parser, parsed once at load, and the evaluator with the functions Azure Policy allows.

use super::aliases::AliasTable;
use super::rule::FieldPath;
use crate::value::{Kind, Reason, Value};
use std::fmt::Write as _;

/// Deepest nesting of calls, indexes and literals the parser accepts.
const MAX_DEPTH: usize = 64;

/// A parsed template expression.
#[derive(Debug, Clone, PartialEq)]
pub enum TExpr {
    Lit(Value),
    /// A function call; `name` is lowercase.
    Call {
        name: String,
        args: Vec<TExpr>,
    },
    Index {
        target: Box<TExpr>,
        index: Box<TExpr>,
    },
    Member {
        target: Box<TExpr>,
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
    Expr(TExpr),
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
            serde_json::Value::String(s) => match parse_template_string(s)? {
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
    pub fn as_expr(&self) -> Option<&TExpr> {
        match self {
            Operand::Expr(e) => Some(e),
            _ => None,
        }
    }
}

fn has_expr(json: &serde_json::Value) -> bool {
    match json {
        serde_json::Value::String(s) => is_template(s),
        serde_json::Value::Array(a) => a.iter().any(has_expr),
        serde_json::Value::Object(o) => o.values().any(has_expr),
        _ => false,
    }
}

/// Resolves every `field('<literal>')` call of `e` to its path once.
pub fn bind_fields(e: &mut TExpr, aliases: &AliasTable) {
    match e {
        TExpr::Call { name, args } if name == "field" => {
            if let [TExpr::Lit(v)] = args.as_slice() {
                if let Some(text) = v.as_str() {
                    let path = Box::new(FieldPath::resolve(text, aliases));
                    *e = TExpr::Field {
                        text: text.to_string(),
                        path,
                    };
                    return;
                }
            }
            args.iter_mut().for_each(|a| bind_fields(a, aliases));
        }
        TExpr::Call { args, .. } => args.iter_mut().for_each(|a| bind_fields(a, aliases)),
        TExpr::Index { target, index } => {
            bind_fields(target, aliases);
            bind_fields(index, aliases);
        }
        TExpr::Member { target, .. } => bind_fields(target, aliases),
        TExpr::Lit(_) | TExpr::Field { .. } => {}
    }
}

/// Does the string hold a template expression (`[...]`, not `[[...`)?
pub fn is_template(s: &str) -> bool {
    let t = s.trim();
    t.starts_with('[') && !t.starts_with("[[") && t.ends_with(']')
}

fn unescape_brackets(s: &str) -> String {
    match s.strip_prefix("[[") {
        Some(rest) if s.ends_with(']') => format!("[{rest}"),
        _ => s.to_string(),
    }
}

/// Parses `s` if it holds a template expression; `Ok(None)` for a plain string.
pub fn parse_template_string(s: &str) -> Result<Option<TExpr>, String> {
    if !is_template(s) {
        return Ok(None);
    }
    let t = s.trim();
    let inner = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or("");
    parse(inner).map(Some)
}

/// Parses the text between the brackets.
pub fn parse(text: &str) -> Result<TExpr, String> {
    let tokens = lex(text)?;
    let mut p = Parser { tokens, pos: 0 };
    let e = p.expr(0)?;
    if p.pos < p.tokens.len() {
        return Err(format!("unexpected text after the expression in `{text}`"));
    }
    Ok(e)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Dot,
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '[' => {
                out.push(Tok::LBrack);
                i += 1
            }
            ']' => {
                out.push(Tok::RBrack);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '.' => {
                out.push(Tok::Dot);
                i += 1
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string in expression".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|d| d.is_ascii_digit() || *d == '.')
                {
                    i += 1;
                }
                let s: String = chars.get(start..i).unwrap_or_default().iter().collect();
                if let Ok(n) = s.parse::<i64>() {
                    out.push(Tok::Int(n));
                } else if let Ok(f) = s.parse::<f64>() {
                    out.push(Tok::Float(f));
                } else {
                    return Err(format!("bad number `{s}` in expression"));
                }
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|d| d.is_alphanumeric() || *d == '_' || *d == '$')
                {
                    i += 1;
                }
                out.push(Tok::Ident(
                    chars.get(start..i).unwrap_or_default().iter().collect(),
                ));
            }
            other => return Err(format!("unexpected character `{other}` in expression")),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> Result<(), String> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            Some(x) => Err(format!("expected {t:?}, found {x:?} in expression")),
            None => Err(format!("expected {t:?} at the end of the expression")),
        }
    }

    fn expr(&mut self, depth: usize) -> Result<TExpr, String> {
        if depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        let mut e = match self.next() {
            Some(Tok::Str(s)) => TExpr::Lit(Value::string(s)),
            Some(Tok::Int(n)) => TExpr::Lit(Value::int(n)),
            Some(Tok::Float(f)) => TExpr::Lit(Value::new(Kind::Float(f), None)),
            Some(Tok::Ident(name)) => {
                if self.peek() != Some(&Tok::LParen) {
                    match name.to_ascii_lowercase().as_str() {
                        "true" => return Ok(TExpr::Lit(Value::bool(true))),
                        "false" => return Ok(TExpr::Lit(Value::bool(false))),
                        "null" => return Ok(TExpr::Lit(Value::null())),
                        _ => return Err(format!("`{name}` must be called as a function")),
                    }
                }
                self.next();
                let mut args = Vec::new();
                if self.peek() == Some(&Tok::RParen) {
                    self.next();
                } else {
                    loop {
                        args.push(self.expr(depth + 1)?);
                        match self.next() {
                            Some(Tok::Comma) => continue,
                            Some(Tok::RParen) => break,
                            _ => return Err(format!("expected `,` or `)` in call of `{name}`")),
                        }
                    }
                }
                TExpr::Call {
                    name: name.to_ascii_lowercase(),
                    args,
                }
            }
            Some(t) => return Err(format!("unexpected {t:?} in expression")),
            None => return Err("empty expression".into()),
        };
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.next();
                    match self.next() {
                        Some(Tok::Ident(n)) => {
                            e = TExpr::Member {
                                target: Box::new(e),
                                name: n,
                            }
                        }
                        _ => return Err("expected a property name after `.`".into()),
                    }
                }
                Some(Tok::LBrack) => {
                    self.next();
                    let index = self.expr(depth + 1)?;
                    self.expect(Tok::RBrack)?;
                    e = TExpr::Index {
                        target: Box::new(e),
                        index: Box::new(index),
                    };
                }
                _ => break,
            }
        }
        Ok(e)
    }
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
pub fn eval(e: &TExpr, scope: &dyn Scope, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("expression nested too deeply".into());
    }
    match e {
        TExpr::Lit(v) => Ok(v.clone()),
        TExpr::Member { target, name } => {
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
        TExpr::Index { target, index } => {
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
        TExpr::Call { name, args } => call(name, args, scope, depth),
        TExpr::Field { text, path } => scope.field_path(text, path),
    }
}

fn call(name: &str, args: &[TExpr], scope: &dyn Scope, depth: usize) -> Result<Value, String> {
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
        "tryget" => {
            // tryGet(object, key, …): the value under the keys, null when one is missing.
            let mut cur = vals.first().cloned().ok_or("tryGet() needs arguments")?;
            for k in vals.iter().skip(1) {
                if cur.is_unknown() {
                    return Ok(cur);
                }
                if k.is_unknown() {
                    return Ok(k.clone());
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
            return Ok(cur);
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
        return super::functions::pure(name, &plain)
            .map(resymbolize)
            .map(|v| with_arg_span(v, &vals));
    }
    // Arrays and objects may hold unknowns; other functions need known arguments.
    let builds = matches!(name, "createarray" | "createobject" | "array");
    if let Some(u) = vals.iter().find(|v| v.is_unknown()).filter(|_| !builds) {
        return Ok(u.clone());
    }
    // An NSG decision is about the whole group, not the first rule it read.
    if name.starts_with("nsg") {
        return super::functions::pure(name, &vals);
    }
    super::functions::pure(name, &vals).map(|v| with_arg_span(v, &vals))
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
pub fn render(e: &TExpr) -> String {
    let mut s = String::new();
    render_into(e, &mut s);
    s
}

fn render_into(e: &TExpr, s: &mut String) {
    match e {
        TExpr::Lit(v) => match &v.kind {
            Kind::String(t) => {
                let _ = write!(s, "'{}'", t.replace('\'', "''"));
            }
            _ => {
                let _ = write!(s, "{v}");
            }
        },
        TExpr::Call { name, args } => {
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
        TExpr::Index { target, index } => {
            render_into(target, s);
            s.push('[');
            render_into(index, s);
            s.push(']');
        }
        TExpr::Member { target, name } => {
            render_into(target, s);
            s.push('.');
            s.push_str(name);
        }
        TExpr::Field { text, .. } => {
            let _ = write!(s, "field('{}')", text.replace('\'', "''"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calls_members_and_escapes() {
        let e = parse("concat(parameters('a'), 'it''s')[0].x").unwrap();
        assert_eq!(render(&e), "concat(parameters('a'), 'it''s')[0].x");
        assert!(parse_template_string("[[not]").unwrap().is_none());
        assert!(parse("concat(").is_err());
        assert!(parse("foo").is_err());
    }
}
