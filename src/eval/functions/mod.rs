//! The one table of ARM template functions (`concat`, `split`, `base64`, `cidrSubnet`,
//! `dateTimeAdd` …), a small function each, shared by the template evaluator (`eval/calls.rs`)
//! and the policy evaluator (`policy/expression.rs`).
//!
//! A function of the table takes evaluated arguments and gives a value or a [`Failure`]: an
//! argument it needs is unknown (nested in an array or object), the arguments are not what it
//! takes, or the result would pass a bound. Each evaluator wraps the table: it handles unknown
//! top-level arguments (as [`Unknowns`] says), symbolic text, spans, and its own functions (the
//! template's `parameters()`, `resourceId()`, lambdas; the policy's `field()`, `current()` …).
//! Every function is tested through both evaluators in `policy/expression/both_evaluators.rs`.

mod cidr;
mod collections;
mod dates;
mod encoding;
mod logic;
pub mod placeholders;
mod text;

pub use logic::order;
pub use text::text_of_all;

use crate::value::{Kind, Value};

/// Why a function gave no value.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// An unknown part of an argument decides the result (the unknown value, with its reason).
    Unknown(Value),
    /// The arguments are not what the function takes (the message says how).
    Error(String),
    /// The result would pass a bound (what passed it).
    Limit(String),
}

/// A function's result.
pub type Outcome = Result<Value, Failure>;

/// What a function does with an argument that is unknown at its top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknowns {
    /// The result is the first unknown argument (the function never sees it).
    Propagate,
    /// The function sees unknown arguments and decides (`coalesce`, `createArray`, `and` …).
    Accept,
}

/// Bounds on what a function may build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes of one string.
    pub string_len: usize,
    /// Elements of one `range()`.
    pub range_items: usize,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            string_len: 1 << 20,
            range_items: 100_000,
        }
    }
}

/// One call: the function's name as written, its evaluated arguments, the bounds.
pub struct Call<'a> {
    pub name: &'a str,
    pub args: &'a [Value],
    pub bounds: Bounds,
}

/// One function of the table.
pub struct Function {
    /// Lowercase name.
    pub name: &'static str,
    pub unknowns: Unknowns,
    pub run: fn(&Call<'_>) -> Outcome,
}

use Unknowns::{Accept, Propagate};

const fn f(name: &'static str, unknowns: Unknowns, run: fn(&Call<'_>) -> Outcome) -> Function {
    Function {
        name,
        unknowns,
        run,
    }
}

/// The table, sorted by name (a unit test checks it).
static TABLE: &[Function] = &[
    f("add", Propagate, logic::arithmetic),
    f("adddays", Propagate, dates::add_days),
    f("and", Accept, logic::and_or),
    f("array", Accept, collections::array),
    f("base64", Propagate, encoding::base64),
    f("base64tojson", Propagate, encoding::base64_to_json),
    f("base64tostring", Propagate, encoding::base64_to_string),
    f("bool", Propagate, logic::to_bool),
    f("cidrhost", Propagate, cidr::cidr_host),
    f("cidrsubnet", Propagate, cidr::cidr_subnet),
    f("coalesce", Accept, collections::coalesce),
    f("concat", Propagate, text::concat),
    f("contains", Propagate, collections::contains),
    f("createarray", Accept, collections::create_array),
    f("createobject", Accept, collections::create_object),
    f("datauri", Propagate, encoding::data_uri),
    f("datauritostring", Propagate, encoding::data_uri_to_string),
    f("datetimeadd", Propagate, dates::date_time_add),
    f("datetimefromepoch", Propagate, dates::date_time_from_epoch),
    f("datetimetoepoch", Propagate, dates::date_time_to_epoch),
    f("div", Propagate, logic::arithmetic),
    f("empty", Propagate, collections::empty),
    f("endswith", Propagate, text::starts_ends_with),
    f("equals", Propagate, logic::equals),
    f("false", Propagate, logic::false_),
    f("first", Propagate, collections::first_last),
    f("flatten", Propagate, collections::flatten),
    f("float", Propagate, logic::to_float),
    f("format", Propagate, text::format),
    f("greater", Propagate, logic::comparison),
    f("greaterorequals", Propagate, logic::comparison),
    f("indexof", Propagate, collections::index_of),
    f("int", Propagate, logic::to_int),
    f("intersection", Propagate, collections::intersection),
    f("ipprefixlength", Propagate, cidr::ip_prefix_length),
    f("iprangecontains", Propagate, cidr::ip_range_contains_fn),
    f("iprangesize", Propagate, cidr::ip_range_size),
    f("items", Propagate, collections::items),
    f("join", Propagate, text::join),
    f("json", Propagate, text::json),
    f("last", Propagate, collections::first_last),
    f("lastindexof", Propagate, collections::index_of),
    f("length", Propagate, collections::length),
    f("less", Propagate, logic::comparison),
    f("lessorequals", Propagate, logic::comparison),
    f("max", Propagate, logic::min_max),
    f("min", Propagate, logic::min_max),
    f("mod", Propagate, logic::arithmetic),
    f("mul", Propagate, logic::arithmetic),
    f("not", Propagate, logic::not),
    f("null", Propagate, logic::null),
    f("objectkeys", Propagate, collections::object_keys),
    f("or", Accept, logic::and_or),
    f("padleft", Propagate, text::pad_left),
    f("parsecidr", Propagate, cidr::parse_cidr),
    f("range", Propagate, collections::range),
    f("replace", Propagate, text::replace),
    f("shallowmerge", Propagate, collections::shallow_merge),
    f("skip", Propagate, collections::take_skip),
    f("split", Propagate, text::split),
    f("startswith", Propagate, text::starts_ends_with),
    f("string", Propagate, text::string),
    f("sub", Propagate, logic::arithmetic),
    f("substring", Propagate, text::substring),
    f("take", Propagate, collections::take_skip),
    f("tolower", Propagate, text::to_lower),
    f("tostring", Propagate, text::string),
    f("toupper", Propagate, text::to_upper),
    f("trim", Propagate, text::trim),
    f("true", Propagate, logic::true_),
    f("tryget", Accept, collections::try_get),
    f("union", Propagate, collections::union),
    f("uri", Propagate, encoding::uri),
    f("uricomponent", Propagate, encoding::uri_component),
    f(
        "uricomponenttostring",
        Propagate,
        encoding::uri_component_to_string,
    ),
];

/// The function named `lower` (a lowercase name), if the table has it.
pub fn lookup(lower: &str) -> Option<&'static Function> {
    TABLE
        .binary_search_by(|f| f.name.cmp(lower))
        .ok()
        .and_then(|i| TABLE.get(i))
}

/// Every function of the table, by name.
pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|f| f.name)
}

impl Function {
    /// Runs the function: the first unknown argument when it propagates unknowns.
    pub fn apply(&self, call: &Call<'_>) -> Outcome {
        if self.unknowns == Propagate {
            if let Some(u) = call.args.iter().find(|a| a.is_unknown()) {
                return Err(Failure::Unknown(u.clone()));
            }
        }
        (self.run)(call)
    }
}

impl Call<'_> {
    /// The argument at `i`.
    fn arg(&self, i: usize) -> Result<&Value, Failure> {
        self.args
            .get(i)
            .ok_or_else(|| Failure::Error(format!("{}() needs argument {}", self.name, i + 1)))
    }

    /// The string argument at `i`.
    fn str(&self, i: usize) -> Result<&str, Failure> {
        self.arg(i)?.as_str().ok_or_else(|| {
            Failure::Error(format!(
                "{}() needs a string as argument {}",
                self.name,
                i + 1
            ))
        })
    }

    /// The integer argument at `i` (a whole number, or a string holding one).
    fn int(&self, i: usize) -> Result<i64, Failure> {
        let v = self.arg(i)?;
        match &v.kind {
            Kind::String(s) => s.trim().parse().ok(),
            _ => v.as_i64(),
        }
        .ok_or_else(|| {
            Failure::Error(format!(
                "{}() needs an integer as argument {}",
                self.name,
                i + 1
            ))
        })
    }

    /// An error naming the function.
    fn error(&self, what: &str) -> Failure {
        Failure::Error(format!("{}() {what}", self.name))
    }

    /// Is this call of the function `lower`?
    fn is(&self, lower: &str) -> bool {
        self.name.eq_ignore_ascii_case(lower)
    }

    /// A string within the bounds.
    fn bounded(&self, s: String) -> Outcome {
        if s.len() > self.bounds.string_len {
            return Err(self.too_long());
        }
        Ok(Value::string(s))
    }

    /// The string bound, passed.
    fn too_long(&self) -> Failure {
        Failure::Limit(format!(
            "a string longer than {} bytes",
            self.bounds.string_len
        ))
    }
}

/// The text of a value as ARM's string conversion writes it: strings as they are, `True` /
/// `False`, numbers, nothing for null, JSON for arrays and objects. An unknown part decides.
pub fn to_text(v: &Value) -> Result<String, Failure> {
    Ok(match &v.kind {
        Kind::String(s) => s.clone(),
        Kind::Int(i) => i.to_string(),
        Kind::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Kind::Null => String::new(),
        Kind::Float(x) => x.to_string(),
        Kind::Array(_) | Kind::Object(_) => {
            if let Some(r) = v.first_unknown() {
                return Err(Failure::Unknown(Value::unknown(r.clone())));
            }
            v.to_json_lossy().to_string()
        }
        Kind::Unknown(_) => return Err(Failure::Unknown(v.clone())),
    })
}

/// Deep equality as ARM's `equals()` decides it: strings case-sensitively, numbers by value,
/// object keys case-insensitively. An unknown part that decides gives [`Failure::Unknown`].
pub fn equal(a: &Value, b: &Value) -> Result<bool, Failure> {
    Ok(match (&a.kind, &b.kind) {
        (Kind::Unknown(_), _) => return Err(Failure::Unknown(a.clone())),
        (_, Kind::Unknown(_)) => return Err(Failure::Unknown(b.clone())),
        (Kind::String(x), Kind::String(y)) => x == y,
        (Kind::Int(x), Kind::Int(y)) => x == y,
        (Kind::Int(_) | Kind::Float(_), Kind::Int(_) | Kind::Float(_)) => {
            logic::number(a) == logic::number(b)
        }
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::Null, Kind::Null) => true,
        (Kind::Array(x), Kind::Array(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (p, q) in x.iter().zip(y) {
                if !equal(p, q)? {
                    return Ok(false);
                }
            }
            true
        }
        (Kind::Object(x), Kind::Object(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, v) in x {
                match b.get(k) {
                    Some(w) if equal(v, w)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        _ => false,
    })
}
