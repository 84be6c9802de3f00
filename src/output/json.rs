//! `--format json`: one JSON document with the diagnostics, the undecided policies and a summary.
//!
//! The document is written as it is serialised, one finding at a time: a bulk audit's report
//! has hundreds of thousands of findings, and a `serde_json::Value` tree of them took a gigabyte.

use super::{ordered, Located, Locator, RenderOptions, Summary};
use crate::diagnostic::{Diagnostic, NotEvaluated, ResourceRef, Severity, SuppressionKind};
use crate::report::Report;
use crate::source::LineColRange;
use serde::ser::{Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

/// The version of the JSON shape; bumped on incompatible changes.
pub const VERSION: u32 = 1;

/// Writes the report as `{"version", "diagnostics", "not_evaluated", "suppressed", "summary"}`.
pub fn render(report: &Report, options: &RenderOptions<'_>, out: &mut dyn Write) -> io::Result<()> {
    let cwd = options.cwd.as_path();
    let diagnostics = ordered(report, cwd);
    let locator = Locator::new(report, cwd);
    let mut not_evaluated: Vec<(&NotEvaluated, Located)> = report
        .not_evaluated
        .iter()
        .map(|n| (n, locator.locate(n.span)))
        .collect();
    not_evaluated.sort_by(|(a, la), (b, lb)| {
        (&la.file, la.range.start, &a.code).cmp(&(&lb.file, lb.range.start, &b.code))
    });
    // Suppressed findings, with the reason given (SARIF reports them as suppressed results).
    let suppressed = super::ordered_suppressed(report, cwd);
    let doc = DocumentOut {
        version: VERSION,
        diagnostics: Findings {
            locator: &locator,
            items: &diagnostics,
            suppression: false,
        },
        not_evaluated: Undecided(&not_evaluated),
        suppressed: Findings {
            locator: &locator,
            items: &suppressed,
            suppression: true,
        },
        summary: Summary::of(report),
    };
    let mut writer = io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut writer, &doc)?;
    writeln!(writer)?;
    writer.flush()
}

/// The `diagnostics` array (also used by `azaudit graph`).
pub fn diagnostics(report: &Report, cwd: &Path) -> Vec<Value> {
    let locator = Locator::new(report, cwd);
    ordered(report, cwd)
        .iter()
        .filter_map(|(d, at)| serde_json::to_value(finding(&locator, d, at, false)).ok())
        .collect()
}

#[derive(serde::Serialize)]
struct DocumentOut<'a> {
    version: u32,
    diagnostics: Findings<'a>,
    not_evaluated: Undecided<'a>,
    suppressed: Findings<'a>,
    summary: Summary,
}

/// Located diagnostics, serialised one at a time.
struct Findings<'a> {
    locator: &'a Locator<'a>,
    items: &'a [(&'a Diagnostic, Located)],
    /// Whether to say how each one was suppressed.
    suppression: bool,
}

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.items
                .iter()
                .map(|(d, at)| finding(self.locator, d, at, self.suppression)),
        )
    }
}

/// Located undecided checks.
struct Undecided<'a>(&'a [(&'a NotEvaluated, Located)]);

impl Serialize for Undecided<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|(n, at)| UndecidedOut {
            code: &n.code,
            file: &at.file,
            range: at.range,
            resource: n.resource.as_ref().map(resource_out),
            reason: &n.reason,
        }))
    }
}

#[derive(serde::Serialize)]
struct UndecidedOut<'a> {
    code: &'a str,
    file: &'a str,
    range: LineColRange,
    resource: Option<ResourceOut<'a>>,
    reason: &'a str,
}

#[derive(serde::Serialize)]
struct FindingOut<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    range: LineColRange,
    resource: Option<ResourceOut<'a>>,
    related: Vec<RelatedOut<'a>>,
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<SuppressionOut<'a>>,
}

#[derive(serde::Serialize)]
struct RelatedOut<'a> {
    file: String,
    range: LineColRange,
    message: Cow<'a, str>,
}

#[derive(serde::Serialize)]
struct SuppressionOut<'a> {
    kind: &'static str,
    justification: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct ResourceOut<'a> {
    #[serde(rename = "type")]
    type_name: &'a str,
    name: &'a str,
    symbol: Option<&'a str>,
}

fn finding<'a>(
    locator: &Locator<'_>,
    d: &'a Diagnostic,
    at: &'a Located,
    suppression: bool,
) -> FindingOut<'a> {
    let related = d
        .related
        .iter()
        .map(|r| {
            let rel = locator.locate(r.span);
            RelatedOut {
                file: rel.file,
                range: rel.range,
                message: r.kind.text(),
            }
        })
        .collect();
    FindingOut {
        code: &d.code,
        severity: d.severity,
        message: &d.message,
        file: &at.file,
        range: at.range,
        resource: d.resource.as_ref().map(resource_out),
        related,
        help: d.help.as_deref(),
        suppression: d
            .suppression
            .as_ref()
            .filter(|_| suppression)
            .map(|s| SuppressionOut {
                kind: match s.kind {
                    SuppressionKind::InSource => "in_source",
                    SuppressionKind::External => "external",
                },
                justification: s.justification.as_deref(),
            }),
    }
}

fn resource_out(r: &ResourceRef) -> ResourceOut<'_> {
    ResourceOut {
        type_name: &r.type_name,
        name: &r.name,
        symbol: r.symbol.as_deref(),
    }
}
