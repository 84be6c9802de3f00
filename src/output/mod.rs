//! Output formats for `azaudit check` and `azaudit graph`: one module each.
//!
//! Every renderer writes into a `&mut dyn Write`. Paths are shown relative to the working
//! directory given in [`RenderOptions::cwd`]; lines and columns are 1-based (see
//! [`crate::source::SourceFile::range`]).

pub mod github;
pub mod graph;
pub mod json;
pub mod sarif;
pub mod text;

use crate::analysis::Report;
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{LineCol, LineColRange, Span};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// An output format of `azaudit check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Code frames for people, coloured on a terminal.
    #[default]
    Text,
    /// One JSON document (`{"version": 1, "diagnostics": [...], ...}`).
    Json,
    /// SARIF 2.1.0, as GitHub code scanning reads it.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...::message`).
    Github,
}

/// What a policy (or a built-in check) is, for formats that describe their rules (SARIF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// The diagnostic code (`apim-subnet-nsg`, `syntax-error`).
    pub id: String,
    /// A short title, one line.
    pub title: String,
    /// What the policy checks, a sentence or two.
    pub description: String,
    /// How to fix a finding (plain text; also used as markdown).
    pub help: String,
    /// Where the documentation lives.
    pub help_uri: Option<String>,
    /// The level the policy reports at by default.
    pub level: Severity,
}

impl RuleInfo {
    /// A rule described only by its id and severity (for codes the caller supplied nothing for).
    pub fn bare(id: &str, level: Severity) -> RuleInfo {
        RuleInfo {
            id: id.to_string(),
            title: id.to_string(),
            description: id.to_string(),
            help: String::new(),
            help_uri: None,
            level,
        }
    }

    /// The checks azaudit makes itself, outside any policy.
    pub fn builtin() -> Vec<RuleInfo> {
        let rule = |id: &str, title: &str, description: &str, help: &str, level| RuleInfo {
            id: id.to_string(),
            title: title.to_string(),
            description: description.to_string(),
            help: help.to_string(),
            help_uri: None,
            level,
        };
        vec![
            rule(
                "syntax-error",
                "Syntax error",
                "The file could not be read as Bicep or as an ARM template.",
                "Fix the syntax; the Bicep or ARM tooling shows the same error.",
                Severity::Error,
            ),
            rule(
                "evaluation-error",
                "Evaluation error",
                "An expression could not be evaluated.",
                "Check the expression; azaudit reports what it could not compute.",
                Severity::Warning,
            ),
            rule(
                "policy-error",
                "Policy error",
                "A policy definition could not be evaluated.",
                "Fix the policy definition or its parameters.",
                Severity::Error,
            ),
            rule(
                "unused-suppression",
                "Unused suppression",
                "A suppression directive suppresses nothing.",
                "Remove the directive or the policy id it names.",
                Severity::Info,
            ),
            rule(
                "module-error",
                "Module not read",
                "A module file or the template of a parameter file could not be found or read.",
                "Check the path; it is relative to the file that names it.",
                Severity::Warning,
            ),
            rule(
                "module-cycle",
                "Module cycle",
                "Module files deploy each other in a cycle.",
                "Break the cycle; Bicep and ARM refuse such a deployment.",
                Severity::Error,
            ),
            rule(
                "read-error",
                "Unreadable file",
                "A file could not be read, or is not UTF-8.",
                "Make the file readable and save it as UTF-8.",
                Severity::Error,
            ),
        ]
    }
}

/// How to render a report.
#[derive(Debug, Clone)]
pub struct RenderOptions<'a> {
    /// Paths are shown relative to this directory.
    pub cwd: PathBuf,
    /// Colour the text format (ANSI escapes).
    pub color: bool,
    /// Show the policies that could not be decided (text, github, sarif; json always has them).
    pub show_not_evaluated: bool,
    /// Rule metadata for SARIF (the policy set's, plus [`RuleInfo::builtin`]).
    pub rules: &'a [RuleInfo],
}

impl Default for RenderOptions<'_> {
    fn default() -> Self {
        RenderOptions {
            cwd: PathBuf::from("."),
            color: false,
            show_not_evaluated: false,
            rules: &[],
        }
    }
}

/// Renders `report` in `format`.
pub fn render(
    format: Format,
    report: &Report,
    options: &RenderOptions<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::render(report, options, out),
        Format::Json => json::render(report, options, out),
        Format::Sarif => sarif::render(report, options, out),
        Format::Github => github::render(report, options, out),
    }
}

/// Counts for the summary line and the JSON `summary` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Summary {
    /// Files read (inputs, modules, parameter files) plus unreadable ones.
    pub files: usize,
    /// Resources in the graph.
    pub resources: usize,
    /// Diagnostics by severity.
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Findings suppressed by a policy exemption (not counted above).
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// Counts the diagnostics, files and resources of `report`.
    pub fn of(report: &Report) -> Summary {
        let count = |s: Severity| {
            report
                .diagnostics
                .iter()
                .filter(|d| d.severity == s && d.suppression.is_none())
                .count()
        };
        Summary {
            files: report.files,
            resources: report.graph.resources.len(),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
            suppressed: report
                .diagnostics
                .iter()
                .filter(|d| d.suppression.is_some())
                .count(),
        }
    }

    /// "3 errors, 1 warning in 12 files (40 resources)"; "no problems in 1 file (0 resources)".
    pub fn line(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.errors > 0 {
            parts.push(plural(self.errors, "error", "errors"));
        }
        if self.warnings > 0 {
            parts.push(plural(self.warnings, "warning", "warnings"));
        }
        if self.infos > 0 {
            parts.push(plural(self.infos, "info", "infos"));
        }
        let mut found = if parts.is_empty() {
            "no problems".to_string()
        } else {
            parts.join(", ")
        };
        if self.suppressed > 0 {
            found.push_str(&format!(" ({} suppressed by exemptions)", self.suppressed));
        }
        format!(
            "{found} in {} ({})",
            plural(self.files, "file", "files"),
            plural(self.resources, "resource", "resources")
        )
    }
}

/// `path` relative to `cwd` when it lies under it, with `/` separators and no leading `./`.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let relative = match (path.is_absolute(), cwd.is_absolute()) {
        (true, true) => path.strip_prefix(cwd).unwrap_or(path),
        _ => path,
    };
    let mut parts: Vec<String> = Vec::new();
    for component in relative.components() {
        match component {
            Component::CurDir => {}
            Component::RootDir => parts.push(String::new()),
            Component::Prefix(p) => parts.push(p.as_os_str().to_string_lossy().into_owned()),
            Component::ParentDir => parts.push("..".to_string()),
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if joined.is_empty() {
        if relative.has_root() {
            "/".to_string()
        } else {
            ".".to_string()
        }
    } else {
        joined
    }
}

/// A located span: the file's display path and its 1-based range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// [`display_path`] of the file; empty when the span's file is not in the report.
    pub file: String,
    /// 1-based, end exclusive.
    pub range: LineColRange,
}

/// Where `span` is, for output.
pub fn locate(report: &Report, span: Span, cwd: &Path) -> Located {
    match report.sources.get(span.file) {
        Some(file) => Located {
            file: display_path(&file.path, cwd),
            range: file.range(span),
        },
        None => Located {
            file: String::new(),
            range: LineColRange {
                start: LineCol { line: 1, column: 1 },
                end: LineCol { line: 1, column: 1 },
            },
        },
    }
}

/// Diagnostics in output order: by file path, position, code (stable for equal keys).
pub fn ordered<'r>(report: &'r Report, cwd: &Path) -> Vec<(&'r Diagnostic, Located)> {
    let mut items: Vec<(&Diagnostic, Located)> = report
        .diagnostics
        .iter()
        .map(|d| (d, locate(report, d.span, cwd)))
        .collect();
    items.sort_by(|(a, la), (b, lb)| {
        (&la.file, la.range.start, &a.code).cmp(&(&lb.file, lb.range.start, &b.code))
    });
    items
}

/// 64-bit FNV-1a over `parts`, each followed by a zero byte; a stable fingerprint (unlike
/// `std`'s hasher, whose output may change between Rust releases).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0u8)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Where a policy's documentation is published (its `docs/policies/<id>.md`).
pub fn policy_doc_url(id: &str) -> String {
    format!(
        "{}/blob/main/docs/policies/{id}.md",
        env!("CARGO_PKG_REPOSITORY")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_path_is_relative_with_forward_slashes() {
        let cwd = Path::new("/repo");
        assert_eq!(
            display_path(Path::new("/repo/infra/main.bicep"), cwd),
            "infra/main.bicep"
        );
        assert_eq!(
            display_path(Path::new("./infra/main.bicep"), cwd),
            "infra/main.bicep"
        );
        assert_eq!(
            display_path(Path::new("/elsewhere/a.json"), cwd),
            "/elsewhere/a.json"
        );
    }

    #[test]
    fn summary_line_pluralises() {
        let s = Summary {
            files: 12,
            resources: 40,
            errors: 3,
            warnings: 1,
            infos: 0,
            suppressed: 0,
        };
        assert_eq!(s.line(), "3 errors, 1 warning in 12 files (40 resources)");
        let s = Summary { suppressed: 2, ..s };
        assert_eq!(
            s.line(),
            "3 errors, 1 warning (2 suppressed by exemptions) in 12 files (40 resources)"
        );
        let none = Summary {
            files: 1,
            resources: 1,
            ..Summary::default()
        };
        assert_eq!(none.line(), "no problems in 1 file (1 resource)");
    }

    #[test]
    fn fingerprint_is_stable() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
    }
}
