//! `--format json`: one JSON document with the diagnostics, the undecided policies and a summary.

use super::{locate, ordered, Located, RenderOptions, Summary};
use crate::diagnostic::{Diagnostic, NotEvaluated, ResourceRef};
use crate::report::Report;
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::Path;

/// The version of the JSON shape; bumped on incompatible changes.
pub const VERSION: u32 = 1;

/// Writes the report as `{"version", "diagnostics", "not_evaluated", "suppressed", "summary"}`.
pub fn render(report: &Report, options: &RenderOptions<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = document(report, &options.cwd);
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The JSON document `render` writes.
pub fn document(report: &Report, cwd: &Path) -> Value {
    let diagnostics: Vec<Value> = diagnostics(report, cwd);
    let mut not_evaluated: Vec<(&NotEvaluated, Located)> = report
        .not_evaluated
        .iter()
        .map(|n| (n, locate(report, n.span, cwd)))
        .collect();
    not_evaluated.sort_by(|(a, la), (b, lb)| {
        (&la.file, la.range.start, &a.code).cmp(&(&lb.file, lb.range.start, &b.code))
    });
    let not_evaluated: Vec<Value> = not_evaluated
        .into_iter()
        .map(|(n, at)| {
            json!({
                "code": n.code,
                "file": at.file,
                "range": at.range,
                "resource": resource(n.resource.as_ref()),
                "reason": n.reason,
            })
        })
        .collect();
    // Suppressed findings, with the reason given (SARIF reports them as suppressed results).
    let suppressed: Vec<Value> = super::ordered_suppressed(report, cwd)
        .into_iter()
        .map(|(d, at)| {
            let mut v = diagnostic(report, d, &at, cwd);
            if let (Value::Object(map), Some(s)) = (&mut v, &d.suppression) {
                let kind = match s.kind {
                    crate::diagnostic::SuppressionKind::InSource => "in_source",
                    crate::diagnostic::SuppressionKind::External => "external",
                };
                map.insert(
                    "suppression".into(),
                    json!({"kind": kind, "justification": s.justification}),
                );
            }
            v
        })
        .collect();
    json!({
        "version": VERSION,
        "diagnostics": diagnostics,
        "not_evaluated": not_evaluated,
        "suppressed": suppressed,
        "summary": Summary::of(report),
    })
}

/// The `diagnostics` array (also used by `azaudit graph`).
pub fn diagnostics(report: &Report, cwd: &Path) -> Vec<Value> {
    ordered(report, cwd)
        .into_iter()
        .map(|(d, at)| diagnostic(report, d, &at, cwd))
        .collect()
}

fn diagnostic(report: &Report, d: &Diagnostic, at: &Located, cwd: &Path) -> Value {
    let related: Vec<Value> = d
        .related
        .iter()
        .map(|r| {
            let rel = locate(report, r.span, cwd);
            json!({"file": rel.file, "range": rel.range, "message": r.kind.text()})
        })
        .collect();
    let mut out = json!({
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "file": at.file,
        "range": at.range,
        "resource": resource(d.resource.as_ref()),
        "related": related,
        "help": d.help,
    });
    if let (Some(s), Some(o)) = (&d.suppression, out.as_object_mut()) {
        o.insert("suppression".into(), super::sarif::suppression(s));
    }
    out
}

/// `{"type", "name", "symbol"}` or `null`.
pub fn resource(r: Option<&ResourceRef>) -> Value {
    match r {
        Some(r) => json!({"type": r.type_name, "name": r.name, "symbol": r.symbol}),
        None => Value::Null,
    }
}
