//! `azaudit graph`: the resource graph as JSON or as Graphviz DOT.

use super::{json::diagnostics, locate};
use crate::analysis::Report;
use crate::graph::ResourceGraph;
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::Path;

/// An output format of `azaudit graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GraphFormat {
    /// `{"resources", "edges", "unresolved", "diagnostics"}`.
    #[default]
    Json,
    /// Graphviz DOT.
    Dot,
}

/// Writes `report.graph` in `format`.
pub fn render(
    format: GraphFormat,
    report: &Report,
    cwd: &Path,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        GraphFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &document(report, cwd))?;
            writeln!(out)
        }
        GraphFormat::Dot => out.write_all(dot(&report.graph).as_bytes()),
    }
}

/// The JSON document: resources, edges (by resource id), unresolved references and the report's
/// diagnostics (same shape as `check --format json`).
pub fn document(report: &Report, cwd: &Path) -> Value {
    let graph = &report.graph;
    let id_of = |i: usize| graph.resources.get(i).map(|r| r.id.clone());
    let resources: Vec<Value> = graph
        .resources
        .iter()
        .map(|r| {
            let at = locate(report, r.span, cwd);
            json!({
                "id": r.id,
                "type": r.type_name,
                "name": r.name,
                "symbol": r.symbol,
                "file": at.file,
                "range": at.range,
                "location": r.location(),
                "existing": r.existing,
            })
        })
        .collect();
    let edges: Vec<Value> = graph
        .edges
        .iter()
        .map(|e| {
            json!({
                "from": id_of(e.from),
                "to": id_of(e.to),
                "kind": e.kind,
                "path": e.path,
            })
        })
        .collect();
    let unresolved: Vec<Value> = graph
        .unresolved
        .iter()
        .map(|u| {
            json!({
                "from": id_of(u.from),
                "path": u.path,
                "value": u.value,
                "reason": u.reason,
            })
        })
        .collect();
    json!({
        "resources": resources,
        "edges": edges,
        "unresolved": unresolved,
        "diagnostics": diagnostics(report, cwd),
    })
}

/// The graph in Graphviz DOT: one box per resource (type and name), one arrow per edge labelled
/// with its property path or kind, dashed notes for unresolved references.
pub fn dot(graph: &ResourceGraph) -> String {
    let mut out = String::from("digraph azaudit {\n  rankdir=LR;\n  node [shape=box];\n");
    for (i, r) in graph.resources.iter().enumerate() {
        let mut label = format!("{}\n{}", r.type_name, r.name);
        if r.existing {
            label.push_str("\n(existing)");
        }
        let style = if r.existing { ", style=dashed" } else { "" };
        out.push_str(&format!("  r{i} [label={}{style}];\n", quote(&label)));
    }
    for e in &graph.edges {
        let kind = match e.kind {
            crate::graph::EdgeKind::Parent => "parent",
            crate::graph::EdgeKind::Reference => "reference",
            crate::graph::EdgeKind::DependsOn => "dependsOn",
        };
        let label = if e.path.is_empty() {
            kind
        } else {
            e.path.as_str()
        };
        let style = match e.kind {
            crate::graph::EdgeKind::Parent => ", style=bold",
            crate::graph::EdgeKind::Reference => "",
            crate::graph::EdgeKind::DependsOn => ", style=dotted",
        };
        out.push_str(&format!(
            "  r{} -> r{} [label={}{style}];\n",
            e.from,
            e.to,
            quote(label)
        ));
    }
    for (i, u) in graph.unresolved.iter().enumerate() {
        let label = format!("unresolved: {}\n{}", u.value, u.reason);
        out.push_str(&format!(
            "  u{i} [shape=note, style=dashed, label={}];\n  r{} -> u{i} [label={}, style=dashed];\n",
            quote(&label),
            u.from,
            quote(&u.path)
        ));
    }
    out.push_str("}\n");
    out
}

/// A DOT double-quoted string: `"` and `\` escaped, line breaks as `\n`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_dot_strings() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
