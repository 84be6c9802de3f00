//! Evaluated values: known JSON, or *unknown* with the reason it can't be known before deployment.
//!
//! Every value may carry the [`Span`] of the source expression it came from, so a diagnostic about a
//! property can point at the text that set it.

use crate::source::Span;
use std::fmt;

/// Why a value can't be known from the templates alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A parameter with no default and no value in a parameter file.
    Parameter { name: String },
    /// A property of an `existing` resource, deployed elsewhere.
    Existing { symbol: String },
    /// `reference()`, `listKeys()` and other functions answered only at deployment.
    Runtime { function: String },
    /// The value comes from a module that was not evaluated.
    Module { reference: String, why: String },
    /// A value the deployment environment supplies (`resourceGroup().location`, `utcNow()` …).
    Environment { what: String },
    /// Evaluation stopped at a limit (depth, size, loop length).
    Limit { what: String },
    /// The expression could not be evaluated (unknown function, type error, cycle …).
    Error { message: String },
    /// A string whose text is symbolic: the deployment fills in parts of it
    /// (`/subscriptions/{subscriptionId}/…`, `{uniqueString(…)}`). The evaluator keeps building
    /// with the text so that ids built the same way still match; policies treat it as unknown.
    Symbolic { text: String },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Parameter { name } => write!(f, "parameter '{name}' has no value"),
            Reason::Existing { symbol } => {
                write!(f, "'{symbol}' is an existing resource deployed elsewhere")
            }
            Reason::Runtime { function } => write!(f, "{function}() is known only at deployment"),
            Reason::Module { reference, why } => write!(f, "module '{reference}' {why}"),
            Reason::Environment { what } => write!(f, "{what} is known only at deployment"),
            Reason::Limit { what } => write!(f, "evaluation limit reached: {what}"),
            Reason::Error { message } => write!(f, "{message}"),
            Reason::Symbolic { text } => write!(f, "'{text}' is known only at deployment"),
        }
    }
}

/// The shape of a [`Value`].
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Array(Vec<Value>),
    /// Properties in source order; names compare case-insensitively (see [`Value::get`]).
    Object(Vec<(String, Value)>),
    /// Shared: an unknown is copied as often as any value, and its reason never changes.
    Unknown(std::sync::Arc<Reason>),
}

/// An evaluated value and the span of the expression that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: Kind,
    pub span: Option<Span>,
}

impl Value {
    pub fn new(kind: Kind, span: Option<Span>) -> Value {
        Value { kind, span }
    }
    pub fn null() -> Value {
        Value::new(Kind::Null, None)
    }
    pub fn bool(b: bool) -> Value {
        Value::new(Kind::Bool(b), None)
    }
    pub fn int(i: i64) -> Value {
        Value::new(Kind::Int(i), None)
    }
    pub fn string(s: impl Into<String>) -> Value {
        Value::new(Kind::String(s.into()), None)
    }
    pub fn array(items: Vec<Value>) -> Value {
        Value::new(Kind::Array(items), None)
    }
    pub fn object(props: Vec<(String, Value)>) -> Value {
        Value::new(Kind::Object(props), None)
    }
    pub fn unknown(reason: Reason) -> Value {
        Value::new(Kind::Unknown(std::sync::Arc::new(reason)), None)
    }
    /// The same value with `span`.
    pub fn with_span(mut self, span: Span) -> Value {
        self.span = Some(span);
        self
    }
    /// The same value with `span` unless it already has one.
    pub fn or_span(mut self, span: Span) -> Value {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.kind, Kind::Unknown(_))
    }
    /// The reason this value is unknown, if it is.
    pub fn unknown_reason(&self) -> Option<&Reason> {
        match &self.kind {
            Kind::Unknown(r) => Some(r),
            _ => None,
        }
    }
    /// The first unknown found anywhere inside this value (depth-first), if any.
    pub fn first_unknown(&self) -> Option<&Reason> {
        match &self.kind {
            Kind::Unknown(r) => Some(r),
            Kind::Array(items) => items.iter().find_map(Value::first_unknown),
            Kind::Object(props) => props.iter().find_map(|(_, v)| v.first_unknown()),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }
    /// A symbolic string (see [`Reason::Symbolic`]).
    pub fn symbolic(text: impl Into<String>) -> Value {
        Value::unknown(Reason::Symbolic { text: text.into() })
    }
    /// The text of a known or symbolic string.
    pub fn as_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            Kind::Unknown(r) => match r.as_ref() {
                Reason::Symbolic { text } => Some(text),
                _ => None,
            },
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match &self.kind {
            Kind::Int(i) => Some(*i),
            Kind::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match &self.kind {
            Kind::Object(o) => Some(o),
            _ => None,
        }
    }
    /// A property by name, compared case-insensitively as ARM does.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
    /// Mutable access to a property by name (case-insensitive).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match &mut self.kind {
            Kind::Object(o) => o
                .iter_mut()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    /// Follows a dotted path of property names (`properties.subnets`), case-insensitively.
    pub fn pointer(&self, dotted: &str) -> Option<&Value> {
        dotted
            .split('.')
            .filter(|s| !s.is_empty())
            .try_fold(self, |v, seg| v.get(seg))
    }
    /// Sets or replaces a property (case-insensitive match on the existing name).
    pub fn set(&mut self, name: &str, value: Value) {
        if let Kind::Object(o) = &mut self.kind {
            if let Some(slot) = o.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                slot.1 = value;
            } else {
                o.push((name.to_string(), value));
            }
        }
    }
    /// Is the value "truthy" for a condition? `None` when unknown or not a boolean.
    pub fn truthy(&self) -> Option<bool> {
        match &self.kind {
            Kind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Converts to JSON; unknowns become `null` and `known` is set to false.
    pub fn to_json_lossy(&self) -> serde_json::Value {
        match &self.kind {
            Kind::Null | Kind::Unknown(_) => serde_json::Value::Null,
            Kind::Bool(b) => serde_json::Value::Bool(*b),
            Kind::Int(i) => serde_json::Value::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Kind::String(s) => serde_json::Value::String(s.clone()),
            Kind::Array(a) => {
                serde_json::Value::Array(a.iter().map(Value::to_json_lossy).collect())
            }
            Kind::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.to_json_lossy()))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON if every part is known.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        if self.first_unknown().is_some() {
            None
        } else {
            Some(self.to_json_lossy())
        }
    }

    /// A value (without spans) from JSON.
    pub fn from_json(json: &serde_json::Value) -> Value {
        let kind = match json {
            serde_json::Value::Null => Kind::Null,
            serde_json::Value::Bool(b) => Kind::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Kind::Int(i),
                None => Kind::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Kind::String(s.clone()),
            serde_json::Value::Array(a) => Kind::Array(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Kind::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        };
        Value::new(kind, None)
    }

    /// Short type name used in messages (`string`, `object` …).
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "bool",
            Kind::Int(_) | Kind::Float(_) => "int",
            Kind::String(_) => "string",
            Kind::Array(_) => "array",
            Kind::Object(_) => "object",
            Kind::Unknown(_) => "unknown",
        }
    }
}

impl fmt::Display for Value {
    /// Renders the value compactly for messages: strings unquoted at top level.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::String(s) => write!(f, "{s}"),
            Kind::Unknown(r) => write!(f, "<unknown: {r}>"),
            _ => write!(f, "{}", self.to_json_lossy()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_lookup_ignores_case() {
        let v =
            Value::from_json(&serde_json::json!({"Properties": {"addressPrefix": "10.0.0.0/24"}}));
        assert_eq!(
            v.pointer("properties.ADDRESSPREFIX")
                .and_then(Value::as_str),
            Some("10.0.0.0/24")
        );
    }

    #[test]
    fn unknown_inside_makes_to_json_none() {
        let v = Value::array(vec![
            Value::int(1),
            Value::unknown(Reason::Parameter { name: "p".into() }),
        ]);
        assert!(v.to_json().is_none());
        assert_eq!(
            v.first_unknown().map(|r| r.to_string()).as_deref(),
            Some("parameter 'p' has no value")
        );
    }
}
