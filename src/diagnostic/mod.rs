//! Diagnostics: what azaudit reports, at a span, with a severity, a message and related locations.

pub mod codes;

use crate::source::Span;
use crate::value::Reason;
use std::fmt;

/// How serious a diagnostic is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Level a policy is configured at: a severity, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Off,
    Info,
    Warning,
    Error,
}

impl Level {
    /// The severity of diagnostics at this level; `None` when off.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Info => Some(Severity::Info),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Level, String> {
        match s.to_ascii_lowercase().as_str() {
            "off" | "none" | "disabled" => Ok(Level::Off),
            "info" => Ok(Level::Info),
            "warning" | "warn" => Ok(Level::Warning),
            "error" => Ok(Level::Error),
            other => Err(format!(
                "unknown level `{other}`, expected one of `off`, `info`, `warning`, `error`"
            )),
        }
    }
}

/// A location that explains a diagnostic (the linked subnet's declaration, a module call).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Related {
    pub span: Span,
    /// What the location is; the outputs render it with [`RelatedKind::text`].
    pub kind: RelatedKind,
}

/// Ordered by span, then text, as the outputs show them.
impl Ord for Related {
    fn cmp(&self, other: &Related) -> std::cmp::Ordering {
        self.span
            .cmp(&other.span)
            .then_with(|| self.kind.text().cmp(&other.kind.text()))
            .then_with(|| self.kind.cmp(&other.kind))
    }
}

impl PartialOrd for Related {
    fn partial_cmp(&self, other: &Related) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// What a related location is. Stages that move or relabel related locations match on it; the
/// outputs render it to text ([`RelatedKind::text`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelatedKind {
    /// Where the evaluated resource links to the linked one that a finding is about; its noun and
    /// quoted name ("subnet `a`").
    LinksToIt(String),
    /// The declaration of the linked resource; its noun and quoted name ("subnet `a`").
    Declared(String),
    /// The resource a finding is in; its quoted name.
    In(String),
    /// Where the value that decided a finding is set.
    DecidingValue,
    /// Where a parameter file sets the value that decided a finding.
    ValueFromParameterFile,
    /// A module call the resource is deployed through.
    Module,
    /// The parameter file the deployment is made with.
    ParameterFile,
    /// Where a finding inside the Bicep module cache was, before it was moved to the user's file.
    InModuleCache,
    /// Where a finding shown in another open document is (LSP).
    ReportedHere,
    /// Any other text (tests, embedders).
    Note(String),
}

impl RelatedKind {
    /// The text the outputs show.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            RelatedKind::LinksToIt(subject) => Cow::Owned(format!("{subject} links to it here")),
            RelatedKind::Declared(subject) => Cow::Owned(format!("the {subject} is declared here")),
            RelatedKind::In(name) => Cow::Owned(format!("in {name}")),
            RelatedKind::DecidingValue => Cow::Borrowed("the deciding value is set here"),
            RelatedKind::ValueFromParameterFile => {
                Cow::Borrowed("the value comes from the parameter file here")
            }
            RelatedKind::Module => Cow::Borrowed("deployed through this module"),
            RelatedKind::ParameterFile => Cow::Borrowed("deployed with this parameter file"),
            RelatedKind::InModuleCache => {
                Cow::Borrowed("reported here, in a registry module from the Bicep module cache")
            }
            RelatedKind::ReportedHere => Cow::Borrowed("reported here"),
            RelatedKind::Note(text) => Cow::Borrowed(text),
        }
    }
}

impl From<&str> for RelatedKind {
    fn from(text: &str) -> RelatedKind {
        RelatedKind::Note(text.to_string())
    }
}

impl From<String> for RelatedKind {
    fn from(text: String) -> RelatedKind {
        RelatedKind::Note(text)
    }
}

/// The resource a diagnostic is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceRef {
    pub type_name: String,
    pub name: String,
    pub symbol: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Policy id, or a built-in code (`syntax-error`, `unused-suppression` …: see `crate::diagnostic::codes`)
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    pub resource: Option<ResourceRef>,
    pub related: Vec<Related>,
    /// What to change, one line.
    pub help: Option<String>,
    /// Edits that resolve the diagnostic, when the change is unambiguous (see `crate::fix`).
    pub fixes: Vec<Fix>,
    /// Set when a suppression covers the diagnostic: it stays in the report (SARIF shows it as
    /// suppressed) but is not shown, counted as a finding or fixed.
    pub suppression: Option<Suppression>,
}

/// Why a diagnostic is suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Suppression {
    pub kind: SuppressionKind,
    /// The reason the author gave (`#disable-next-line id // reason`), if any.
    pub justification: Option<String>,
}

/// Where a suppression comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SuppressionKind {
    /// A directive in the template (`#disable-next-line`, `metadata.azaudit.suppress`).
    InSource,
    /// Outside the template: a policy exemption.
    External,
}

/// A quick fix: a titled set of edits to the source files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fix {
    /// What the fix does, for an editor's menu (`Delegate the subnet to Microsoft.Web/serverFarms`).
    pub title: String,
    /// Non-overlapping edits, in the order of their spans.
    pub edits: Vec<Edit>,
}

/// Replaces the text of `span` (byte offsets in its file) with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

impl Diagnostic {
    pub fn new(
        code: impl Into<String>,
        severity: Severity,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code: code.into(),
            severity,
            message: message.into(),
            span,
            resource: None,
            related: Vec::new(),
            help: None,
            fixes: Vec::new(),
            suppression: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    pub fn with_related(mut self, span: Span, kind: impl Into<RelatedKind>) -> Diagnostic {
        self.related.push(Related {
            span,
            kind: kind.into(),
        });
        self
    }
}

/// A policy that could not be decided for a resource, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NotEvaluated {
    pub code: String,
    pub span: Span,
    pub resource: Option<ResourceRef>,
    /// "depends on parameter 'skuName', which has no value"
    pub reason: String,
    /// The parameter without a value the reason names, when that is the cause.
    pub parameter: Option<String>,
    /// What kind of unknown value left it undecided, typed where the value was made.
    pub cause: Cause,
}

/// Why a check could not be decided: the kind of value it waits for. Set where the unknown value
/// is made (the evaluator's [`Reason`], or the policy stage's own lookups) and carried to the
/// outputs, which group by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Cause {
    /// A parameter without a default and without a value in a parameter file.
    Parameter,
    /// A property of an `existing` resource, or a resource another deployment may deploy.
    Existing,
    /// A name or id the deployment fills in (`uniqueString()`, the subscription, the group).
    DeploymentText,
    /// `reference()`, `listKeys()` and other values known only once deployed.
    Runtime,
    /// A value the deployment environment supplies (`resourceGroup().location`, `utcNow()`).
    Environment,
    /// A module that was not read or not evaluated.
    Module,
    /// Evaluation stopped at a limit.
    Limit,
    /// An expression azaudit could not evaluate.
    Unsupported,
    /// Anything else (a linked resource that is not in the templates, a policy's own error …).
    #[default]
    Other,
}

impl From<&Reason> for Cause {
    fn from(r: &Reason) -> Cause {
        match r {
            Reason::Parameter { .. } => Cause::Parameter,
            Reason::Existing { .. } => Cause::Existing,
            Reason::Runtime { .. } => Cause::Runtime,
            Reason::Module { .. } => Cause::Module,
            Reason::Environment { .. } => Cause::Environment,
            Reason::Limit { .. } => Cause::Limit,
            Reason::Error { .. } => Cause::Unsupported,
            Reason::Symbolic { .. } => Cause::DeploymentText,
        }
    }
}
