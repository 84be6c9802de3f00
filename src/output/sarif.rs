//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning accepts it.
//!
//! Rules come from [`RenderOptions::rules`] (the policy set), then [`RuleInfo::builtin`], then a
//! bare rule for any other code a diagnostic carries. Locations are relative to `%SRCROOT%`, the
//! working directory; fingerprints hash code, file, resource and message, not positions, so a
//! finding keeps its identity when lines move.

use super::{display_path, fingerprint, locate, ordered, Located, RenderOptions, RuleInfo};
use crate::diagnostic::{ResourceRef, Severity, SuppressionKind};
use crate::report::Report;
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use std::path::Path;

/// The schema URI written into the log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base id all artifact locations are relative to.
pub const SRCROOT: &str = "%SRCROOT%";

/// Writes the report as one SARIF log with one run.
pub fn render(report: &Report, options: &RenderOptions<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = document(report, options);
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The SARIF log `render` writes.
pub fn document(report: &Report, options: &RenderOptions<'_>) -> Value {
    let cwd = &options.cwd;
    let rules = rule_table(report, options);
    let rule_index = |code: &str| rules.iter().position(|r| r.id == code);

    let mut results = Vec::new();
    let active = ordered(report, cwd);
    let suppressed = super::ordered_suppressed(report, cwd);
    for (d, at) in active.into_iter().chain(suppressed) {
        let mut text = d.message.clone();
        if let Some(help) = &d.help {
            text.push_str("\nhelp: ");
            text.push_str(help);
        }
        let mut result = Map::new();
        result.insert("ruleId".into(), json!(d.code));
        if let Some(i) = rule_index(&d.code) {
            result.insert("ruleIndex".into(), json!(i));
        }
        result.insert("level".into(), json!(level(d.severity)));
        result.insert("message".into(), json!({ "text": text }));
        result.insert(
            "locations".into(),
            json!([location(&at, d.resource.as_ref(), None)]),
        );
        if !d.related.is_empty() {
            let related: Vec<Value> = d
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let rel = locate(report, r.span, cwd);
                    location(&rel, None, Some((i, &r.kind.text())))
                })
                .collect();
            result.insert("relatedLocations".into(), Value::Array(related));
        }
        let (rtype, rname) = d
            .resource
            .as_ref()
            .map(|r| (r.type_name.as_str(), r.name.as_str()))
            .unwrap_or(("", ""));
        result.insert(
            "partialFingerprints".into(),
            json!({ "azaudit/v1": fingerprint(&[&d.code, &at.file, rtype, rname, &d.message]) }),
        );
        if let Some(s) = &d.suppression {
            let mut suppression = Map::new();
            let kind = match s.kind {
                SuppressionKind::InSource => "inSource",
                SuppressionKind::External => "external",
            };
            suppression.insert("kind".into(), json!(kind));
            suppression.insert("status".into(), json!("accepted"));
            if let Some(j) = &s.justification {
                suppression.insert("justification".into(), json!(j));
            }
            result.insert(
                "suppressions".into(),
                Value::Array(vec![Value::Object(suppression)]),
            );
        }
        results.push(Value::Object(result));
    }
    if options.show_not_evaluated {
        for n in &report.not_evaluated {
            let at = locate(report, n.span, cwd);
            let mut result = Map::new();
            result.insert("ruleId".into(), json!(n.code));
            if let Some(i) = rule_index(&n.code) {
                result.insert("ruleIndex".into(), json!(i));
            }
            // SARIF: a result whose kind is not `fail` has level `none`.
            result.insert("kind".into(), json!("review"));
            result.insert("level".into(), json!("none"));
            result.insert(
                "message".into(),
                json!({ "text": format!("not evaluated: {}", n.reason) }),
            );
            result.insert(
                "locations".into(),
                json!([location(&at, n.resource.as_ref(), None)]),
            );
            results.push(Value::Object(result));
        }
    }

    let mut driver = Map::new();
    driver.insert("name".into(), json!("azaudit"));
    driver.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    driver.insert("semanticVersion".into(), json!(env!("CARGO_PKG_VERSION")));
    driver.insert("informationUri".into(), json!(information_uri()));
    driver.insert(
        "rules".into(),
        Value::Array(rules.iter().map(rule).collect()),
    );

    let mut run = Map::new();
    run.insert("tool".into(), json!({ "driver": driver }));
    if let Some(uri) = directory_uri(cwd) {
        run.insert(
            "originalUriBaseIds".into(),
            json!({ SRCROOT: { "uri": uri } }),
        );
    }
    run.insert("results".into(), Value::Array(results));
    run.insert("columnKind".into(), json!("unicodeCodePoints"));

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    })
}

/// The project's home page: the package's repository or homepage, else the crates.io page.
fn information_uri() -> &'static str {
    let repository = env!("CARGO_PKG_REPOSITORY");
    let homepage = env!("CARGO_PKG_HOMEPAGE");
    if !repository.is_empty() {
        repository
    } else if !homepage.is_empty() {
        homepage
    } else {
        "https://crates.io/crates/azaudit"
    }
}

/// The rules the log describes, in `ruleIndex` order.
fn rule_table(report: &Report, options: &RenderOptions<'_>) -> Vec<RuleInfo> {
    let mut rules: Vec<RuleInfo> = Vec::new();
    let push = |r: RuleInfo, rules: &mut Vec<RuleInfo>| {
        if !rules.iter().any(|x| x.id == r.id) {
            rules.push(r);
        }
    };
    for r in options.rules {
        push(r.clone(), &mut rules);
    }
    for r in RuleInfo::builtin() {
        push(r, &mut rules);
    }
    for d in report.diagnostics.iter().chain(&report.suppressed) {
        push(RuleInfo::bare(&d.code, d.severity), &mut rules);
    }
    if options.show_not_evaluated {
        for n in &report.not_evaluated {
            push(RuleInfo::bare(&n.code, Severity::Info), &mut rules);
        }
    }
    rules
}

fn rule(r: &RuleInfo) -> Value {
    let mut rule = Map::new();
    rule.insert("id".into(), json!(r.id));
    rule.insert("name".into(), json!(pascal_case(&r.id)));
    rule.insert("shortDescription".into(), json!({ "text": r.title }));
    rule.insert("fullDescription".into(), json!({ "text": r.description }));
    let help = if r.help.is_empty() {
        &r.description
    } else {
        &r.help
    };
    rule.insert("help".into(), json!({ "text": help, "markdown": help }));
    if let Some(uri) = &r.help_uri {
        rule.insert("helpUri".into(), json!(uri));
    }
    rule.insert(
        "defaultConfiguration".into(),
        json!({ "level": level(r.level) }),
    );
    Value::Object(rule)
}

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `apim-subnet-nsg` → `ApimSubnetNsg`.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn location(at: &Located, resource: Option<&ResourceRef>, related: Option<(usize, &str)>) -> Value {
    let mut loc = Map::new();
    if let Some((id, _)) = related {
        loc.insert("id".into(), json!(id));
    }
    let artifact = if at.file.starts_with('/') {
        json!({ "uri": format!("file://{}", encode_uri_path(&at.file)) })
    } else {
        json!({ "uri": encode_uri_path(&at.file), "uriBaseId": SRCROOT })
    };
    loc.insert(
        "physicalLocation".into(),
        json!({
            "artifactLocation": artifact,
            "region": {
                "startLine": at.range.start.line,
                "startColumn": at.range.start.column,
                "endLine": at.range.end.line,
                "endColumn": at.range.end.column,
            }
        }),
    );
    if let Some(r) = resource {
        let logical = json!({
            "name": r.symbol.as_deref().unwrap_or(&r.name),
            "fullyQualifiedName": format!("{}/{}", r.type_name, r.name),
            "kind": "resource",
        });
        loc.insert("logicalLocations".into(), json!([logical]));
    }
    if let Some((_, message)) = related {
        loc.insert("message".into(), json!({ "text": message }));
    }
    Value::Object(loc)
}

/// `file:///abs/dir/` for an absolute directory.
fn directory_uri(dir: &Path) -> Option<String> {
    if !dir.is_absolute() {
        return None;
    }
    let mut path = display_path(dir, Path::new(""));
    if !path.ends_with('/') {
        path.push('/');
    }
    if !path.starts_with('/') {
        // A Windows drive path: `file:///C:/...`.
        path.insert(0, '/');
    }
    Some(format!("file://{}", encode_uri_path(&path)))
}

/// Percent-encodes a `/`-separated path for a URI reference.
pub fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A SARIF `suppression` object: `{"kind": "inSource" | "external", "justification"}`.
pub fn suppression(s: &crate::diagnostic::Suppression) -> Value {
    let kind = match s.kind {
        crate::diagnostic::SuppressionKind::InSource => "inSource",
        crate::diagnostic::SuppressionKind::External => "external",
    };
    match &s.justification {
        Some(j) => json!({ "kind": kind, "justification": j }),
        None => json!({ "kind": kind }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_uri_paths() {
        assert_eq!(
            encode_uri_path("infra/my file.bicep"),
            "infra/my%20file.bicep"
        );
        assert_eq!(encode_uri_path("a/ç.json"), "a/%C3%A7.json");
    }

    #[test]
    fn pascal_cases_ids() {
        assert_eq!(pascal_case("apim-subnet-nsg"), "ApimSubnetNsg");
    }
}
