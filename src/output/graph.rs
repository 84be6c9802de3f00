//! `azaudit graph`: the resource graph as JSON or as Graphviz DOT.

use super::{json::diagnostics, locate};
use crate::graph::ResourceGraph;
use crate::report::Report;
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

/// The values of `document` that the JSONPath (RFC 9535) `query` selects, as one JSON array.
pub fn query(document: &Value, query: &str) -> Result<Value, String> {
    use jsonpath_rust::JsonPath;
    document
        .query(query)
        .map(|found| Value::Array(found.into_iter().cloned().collect()))
        .map_err(|e| format!("invalid JSONPath query `{query}`: {e}"))
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
        GraphFormat::Dot => {
            out.write_all(dot_with_findings(&report.graph, &report.diagnostics).as_bytes())
        }
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
            let mut resource = json!({
                "id": r.id,
                "type": r.type_name,
                "name": r.name,
                "symbol": r.symbol,
                "file": at.file,
                "range": at.range,
                "location": r.location(),
                "existing": r.existing,
            });
            // The evaluated body the policies see (absent parts are left out).
            if let Value::Object(map) = &mut resource {
                for key in ["sku", "kind", "tags", "zones", "properties"] {
                    if let Some(v) = r.body.get(key) {
                        map.insert(key.into(), evaluated(v, 0));
                    }
                }
            }
            resource
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

/// Deeper than this, an evaluated value is cut (`{"unknown": "nested too deeply"}`).
const MAX_DEPTH: usize = 64;

/// An evaluated value as JSON: known parts as they are, each unknown part as
/// `{"unknown": "<reason>"}` (a string with placeholders also has its `"text"`).
pub fn evaluated(v: &crate::value::Value, depth: usize) -> Value {
    use crate::value::Kind;
    if depth > MAX_DEPTH {
        return json!({ "unknown": "nested too deeply to show" });
    }
    match &v.kind {
        Kind::Null => Value::Null,
        Kind::Bool(b) => json!(b),
        Kind::Int(i) => json!(i),
        Kind::Float(f) => json!(f),
        Kind::String(s) => json!(s),
        Kind::Array(items) => Value::Array(items.iter().map(|i| evaluated(i, depth + 1)).collect()),
        Kind::Object(props) => Value::Object(
            props
                .iter()
                .map(|(k, v)| (k.clone(), evaluated(v, depth + 1)))
                .collect(),
        ),
        // A symbolic string keeps its text: ids with placeholders are worth querying.
        Kind::Unknown(reason) => match reason.as_ref() {
            crate::value::Reason::Symbolic { text } => {
                json!({ "unknown": "filled in at deployment", "text": text })
            }
            other => json!({ "unknown": other.to_string() }),
        },
    }
}

/// The graph in Graphviz DOT: one box per resource (type and name), one arrow per edge labelled
/// with its property path or kind, dashed notes for unresolved references.
pub fn dot(graph: &ResourceGraph) -> String {
    dot_with_findings(graph, &[])
}

/// [`dot`], with the resources that `diagnostics` are about (or point into) drawn in red and
/// labelled with their codes.
pub fn dot_with_findings(
    graph: &ResourceGraph,
    diagnostics: &[crate::diagnostic::Diagnostic],
) -> String {
    let mut out = String::from("digraph azaudit {\n  rankdir=LR;\n  node [shape=box];\n");
    for (i, r) in graph.resources.iter().enumerate() {
        let mut label = format!("{}\n{}", r.type_name, r.name);
        if r.existing {
            label.push_str("\n(existing)");
        }
        let mut codes: Vec<&str> = diagnostics
            .iter()
            .filter(|d| d.suppression.is_none() && about(d, r))
            .map(|d| d.code.as_str())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let mut style = if r.existing { ", style=dashed" } else { "" }.to_string();
        if !codes.is_empty() {
            label.push_str(&format!("\nfindings: {}", codes.join(", ")));
            style.push_str(", color=red, fontcolor=red, penwidth=2");
        }
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

/// Whether `d` is about `r`: it names the resource, or it points into its declaration.
fn about(d: &crate::diagnostic::Diagnostic, r: &crate::graph::Resource) -> bool {
    let named = d.resource.as_ref().is_some_and(|n| {
        n.type_name.eq_ignore_ascii_case(&r.type_name) && n.name.eq_ignore_ascii_case(&r.name)
    });
    named
        || (d.span.file == r.span.file && r.span.start <= d.span.start && d.span.end <= r.span.end)
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
