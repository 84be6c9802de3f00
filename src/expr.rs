//! The expression tree shared by Bicep and ARM: both languages lower to it, one evaluator reads it.
//!
//! ARM's `[concat(parameters('a'), 'b')]` and Bicep's `'${a}b'` become the same tree: a call of
//! `concat` over a call of `parameters` and a string. Bicep identifiers stay [`ExprKind::Ident`];
//! the evaluator resolves them against parameters, variables, resources, modules and loop items.

use crate::source::Span;

/// A binary operator (Bicep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Coalesce,
    Eq,
    NotEq,
    EqInsensitive,
    NotEqInsensitive,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// A unary operator (Bicep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

/// One piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum InterpPart {
    Text(String),
    Expr(Expr),
}

/// An element of an array literal.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayItem {
    Item(Expr),
    /// `...expr`
    Spread(Expr),
}

/// A member of an object literal.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectItem {
    Property {
        key: String,
        key_span: Span,
        value: Expr,
    },
    /// `...expr`
    Spread(Expr),
}

/// `name(args)`, or `ns.name(args)` with `namespace` (`sys`, `az`) or a Bicep import alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub namespace: Option<String>,
    pub name: String,
    pub args: Vec<Expr>,
}

/// `[for (item, index) in iterable: if (filter) body]`; ARM property `copy` loops lower to this
/// with `item` named `copy:<name>` so that `copyIndex('<name>')` finds its index.
#[derive(Debug, Clone, PartialEq)]
pub struct For {
    pub item: Option<String>,
    pub index: Option<String>,
    pub iterable: Box<Expr>,
    pub filter: Option<Box<Expr>>,
    pub body: Box<Expr>,
}

impl Call {
    /// `ns.name(a, b)`, each argument rendered by `arg` (for tests and debugging output).
    pub fn render(&self, arg: impl Fn(&Expr) -> String) -> String {
        let args: Vec<String> = self.args.iter().map(arg).collect();
        match &self.namespace {
            Some(ns) => format!("{ns}.{}({})", self.name, args.join(", ")),
            None => format!("{}({})", self.name, args.join(", ")),
        }
    }
}

impl ExprKind {
    /// A call of `name` (in `namespace`, when given).
    pub fn call(namespace: Option<String>, name: impl Into<String>, args: Vec<Expr>) -> ExprKind {
        ExprKind::Call(Box::new(Call {
            namespace,
            name: name.into(),
            args,
        }))
    }
}

/// An expression with the span of its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// What an expression is.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    /// `'a${b}c'`
    Interpolation(Vec<InterpPart>),
    Array(Vec<ArrayItem>),
    Object(Vec<ObjectItem>),
    /// A Bicep name: parameter, variable, resource, module, loop item, lambda parameter.
    Ident(String),
    /// `name(args)`, or `ns.name(args)` (boxed: calls are many, and an unboxed call would make
    /// every expression half again as large).
    Call(Box<Call>),
    /// `target.name`, or `target.?name` when `safe`.
    Member {
        target: Box<Expr>,
        name: String,
        safe: bool,
    },
    /// `target[index]`, `target[?index]` when `safe`, `target[^index]` when `from_end`.
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
        safe: bool,
        from_end: bool,
    },
    /// `parent::child`
    ChildAccess {
        target: Box<Expr>,
        name: String,
    },
    /// `cond ? then : otherwise`
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    /// `expr!`
    NonNull(Box<Expr>),
    /// `(a, b) => body`
    Lambda {
        params: Vec<String>,
        body: Box<Expr>,
    },
    /// A loop (boxed, as [`ExprKind::Call`]).
    For(Box<For>),
    /// Text that did not parse; evaluates to an unknown value carrying `message`.
    Error(String),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// Visits this expression and every sub-expression, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Interpolation(parts) => {
                for p in parts {
                    if let InterpPart::Expr(e) = p {
                        e.walk(f);
                    }
                }
            }
            ExprKind::Array(items) => {
                for i in items {
                    match i {
                        ArrayItem::Item(e) | ArrayItem::Spread(e) => e.walk(f),
                    }
                }
            }
            ExprKind::Object(items) => {
                for i in items {
                    match i {
                        ObjectItem::Property { value, .. } => value.walk(f),
                        ObjectItem::Spread(e) => e.walk(f),
                    }
                }
            }
            ExprKind::Call(c) => {
                for a in &c.args {
                    a.walk(f);
                }
            }
            ExprKind::Member { target, .. }
            | ExprKind::ChildAccess { target, .. }
            | ExprKind::NonNull(target) => target.walk(f),
            ExprKind::Index { target, index, .. } => {
                target.walk(f);
                index.walk(f);
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                cond.walk(f);
                then.walk(f);
                otherwise.walk(f);
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            ExprKind::Unary { operand, .. } => operand.walk(f),
            ExprKind::Lambda { body, .. } => body.walk(f),
            ExprKind::For(l) => {
                l.iterable.walk(f);
                if let Some(c) = &l.filter {
                    c.walk(f);
                }
                l.body.walk(f);
            }
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::String(_)
            | ExprKind::Ident(_)
            | ExprKind::Error(_) => {}
        }
    }

    /// The property `key` of an object literal, compared case-insensitively.
    pub fn property(&self, key: &str) -> Option<&Expr> {
        match &self.kind {
            ExprKind::Object(items) => items.iter().find_map(|i| match i {
                ObjectItem::Property { key: k, value, .. } if k.eq_ignore_ascii_case(key) => {
                    Some(value)
                }
                _ => None,
            }),
            _ => None,
        }
    }

    /// The string literal this expression is, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::String(s) => Some(s),
            _ => None,
        }
    }
}

/// A compact, ARM-like rendering of an expression for the parsers' unit tests
/// (`concat('a', parameters('b'))`, `[1, 2]`, `{k: v}`, `for x in xs: body`, `error(message)`).
#[cfg(test)]
pub(crate) fn compact(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => f.to_string(),
        ExprKind::String(s) => format!("'{s}'"),
        ExprKind::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    ArrayItem::Item(e) | ArrayItem::Spread(e) => compact(e),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        ExprKind::Object(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    ObjectItem::Property { key, value, .. } => {
                        format!("{key}: {}", compact(value))
                    }
                    ObjectItem::Spread(e) => format!("...{}", compact(e)),
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        ExprKind::Call(c) => c.render(compact),
        ExprKind::Member { target, name, .. } => format!("{}.{name}", compact(target)),
        ExprKind::Index { target, index, .. } => format!("{}[{}]", compact(target), compact(index)),
        ExprKind::For(l) => format!(
            "for {} in {}: {}",
            l.item.as_deref().unwrap_or("_"),
            compact(&l.iterable),
            compact(&l.body)
        ),
        ExprKind::Error(m) => format!("error({m})"),
        other => format!("{other:?}"),
    }
}
