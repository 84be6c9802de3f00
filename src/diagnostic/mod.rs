//! Diagnostics: what azaudit reports, at a span, with a severity, a message and related locations.

pub mod codes;

use crate::source::Span;
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Related {
    pub span: Span,
    pub message: String,
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
    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.related.push(Related {
            span,
            message: message.into(),
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
}
