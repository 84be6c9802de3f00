//! Output formats for `azaudit check` and `azaudit graph`: one module each.
//!
//! Every renderer writes into a `&mut dyn Write`. Paths are shown relative to the working
//! directory given in [`RenderOptions::cwd`]; lines and columns are 1-based (see
//! [`crate::source::SourceFile::range`]).

mod escape;
pub use escape::escape_controls;
pub mod github;
pub mod graph;
pub mod json;
pub mod not_evaluated;
pub mod sarif;
pub mod text;

use crate::diagnostic::{Diagnostic, Severity};
use crate::report::Report;
use crate::source::{LineCol, LineColRange, Span};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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

    /// The checks azaudit makes itself, outside any policy (see [`crate::diagnostic::codes::BUILTIN`]).
    pub fn builtin() -> Vec<RuleInfo> {
        crate::diagnostic::codes::BUILTIN
            .iter()
            .map(|c| RuleInfo {
                id: c.id.to_string(),
                title: c.title.to_string(),
                description: c.description.to_string(),
                help: c.help.to_string(),
                help_uri: Some(crate::diagnostic::codes::doc_url(c.id)),
                level: c.level,
            })
            .collect()
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
    /// Deployments audited.
    pub deployments: usize,
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
            deployments: report.deployments,
            resources: report.resource_count(),
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

    /// "3 errors, 1 warning in 2 deployments, 12 files (40 resources)"; "no problems in 1
    /// deployment, 1 file (0 resources)".
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
            "{found} in {}, {} ({})",
            plural(self.deployments, "deployment", "deployments"),
            plural(self.files, "file", "files"),
            plural(self.resources, "resource", "resources")
        )
    }
}

pub use crate::report::display_path;

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

/// [`locate`] for many spans: each file's display path is computed once (a bulk audit's report
/// locates hundreds of thousands of findings and related locations in a few thousand files).
pub struct Locator<'r> {
    report: &'r Report,
    cwd: &'r Path,
    paths: Vec<std::cell::OnceCell<String>>,
}

impl<'r> Locator<'r> {
    /// Locates spans of `report`'s files, with paths relative to `cwd`.
    pub fn new(report: &'r Report, cwd: &'r Path) -> Locator<'r> {
        Locator {
            report,
            cwd,
            paths: (0..report.sources.len())
                .map(|_| std::cell::OnceCell::new())
                .collect(),
        }
    }

    /// Where `span` is, for output (as [`locate`]).
    pub fn locate(&self, span: Span) -> Located {
        match (
            self.report.sources.get(span.file),
            self.paths.get(span.file.0 as usize),
        ) {
            (Some(file), Some(path)) => Located {
                file: path
                    .get_or_init(|| display_path(&file.path, self.cwd))
                    .clone(),
                range: file.range(span),
            },
            _ => locate(self.report, span, self.cwd),
        }
    }
}

/// Diagnostics in output order: by file path, position, code (stable for equal keys). Suppressed
/// ones are left out (see [`ordered_suppressed`]).
pub fn ordered<'r>(report: &'r Report, cwd: &Path) -> Vec<(&'r Diagnostic, Located)> {
    in_order(
        report,
        report
            .diagnostics
            .iter()
            .filter(|d| d.suppression.is_none()),
        cwd,
    )
}

/// The suppressed diagnostics, in the order of [`ordered`].
pub fn ordered_suppressed<'r>(report: &'r Report, cwd: &Path) -> Vec<(&'r Diagnostic, Located)> {
    let suppressed = report.diagnostics.iter().chain(&report.suppressed);
    in_order(report, suppressed.filter(|d| d.suppression.is_some()), cwd)
}

fn in_order<'r>(
    report: &'r Report,
    diagnostics: impl Iterator<Item = &'r Diagnostic>,
    cwd: &Path,
) -> Vec<(&'r Diagnostic, Located)> {
    let locator = Locator::new(report, cwd);
    let mut items: Vec<(&Diagnostic, Located)> =
        diagnostics.map(|d| (d, locator.locate(d.span))).collect();
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

/// Where a code's documentation is published: `docs/policies/<id>.md` for a policy,
/// `docs/codes/<id>.md` for a code azaudit reports itself.
pub fn policy_doc_url(id: &str) -> String {
    crate::diagnostic::codes::doc_url(id)
}

/// What SARIF and the documentation links say about each code: the internal ones and every policy.
pub fn rule_infos(set: &crate::policy::PolicySet) -> Vec<RuleInfo> {
    let mut rules = RuleInfo::builtin();
    for p in set.policies() {
        rules.push(RuleInfo {
            id: p.id.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            help: p.docs.clone(),
            help_uri: crate::policy::published_doc_url(&p.id),
            level: p
                .level
                .severity()
                .unwrap_or(crate::diagnostic::Severity::Warning),
        });
    }
    rules
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
            deployments: 2,
            resources: 40,
            errors: 3,
            warnings: 1,
            infos: 0,
            suppressed: 0,
        };
        assert_eq!(
            s.line(),
            "3 errors, 1 warning in 2 deployments, 12 files (40 resources)"
        );
        let s = Summary { suppressed: 2, ..s };
        assert_eq!(
            s.line(),
            "3 errors, 1 warning (2 suppressed by exemptions) in 2 deployments, 12 files (40 resources)"
        );
        let none = Summary {
            files: 1,
            deployments: 1,
            resources: 1,
            ..Summary::default()
        };
        assert_eq!(
            none.line(),
            "no problems in 1 deployment, 1 file (1 resource)"
        );
    }

    #[test]
    fn locator_locates_as_locate_does() {
        let mut report = Report::default();
        let a = report.sources.add("/repo/a.bicep".into(), "x\ny\n");
        let b = report.sources.add("/repo/sub/b.json".into(), "{}\n");
        let cwd = Path::new("/repo");
        let locator = Locator::new(&report, cwd);
        let spans = [
            Span::new(a, 2, 3),
            Span::new(b, 0, 1),
            Span::new(a, 0, 1),
            Span::new(crate::source::FileId(9), 0, 0),
        ];
        for span in spans {
            assert_eq!(locator.locate(span), locate(&report, span, cwd));
        }
        assert_eq!(locator.locate(Span::new(b, 0, 1)).file, "sub/b.json");
        assert_eq!(locator.locate(Span::new(a, 2, 3)).range.start.line, 2);
    }

    #[test]
    fn fingerprint_is_stable() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
    }
}
