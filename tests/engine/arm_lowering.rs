//! ARM fixtures (fixtures/arm/) lowered to the template model, checked by assertions and by
//! snapshots of a compact summary.

use std::fmt::Write as _;
use std::path::Path;

use azaudit::expr::{ArrayItem, Expr, ExprKind, ObjectItem};
use azaudit::model::{Language, Loop, TargetScope, Template};
use azaudit::source::{FileId, SourceFile, Span};
use azaudit::syntax::arm;

fn fixture(name: &str) -> (SourceFile, Template) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/arm")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(!text.is_empty(), "missing fixture {}", path.display());
    let t = arm::lower(FileId(7), &text);
    (SourceFile::new(path, text), t)
}

/// An expression in a compact, ARM-like notation.
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => f.to_string(),
        ExprKind::String(s) => format!("'{s}'"),
        ExprKind::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    ArrayItem::Item(e) | ArrayItem::Spread(e) => show(e),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        ExprKind::Object(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    ObjectItem::Property { key, value, .. } => format!("{key}: {}", show(value)),
                    ObjectItem::Spread(e) => format!("...{}", show(e)),
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        ExprKind::Call(c) => c.render(show),
        ExprKind::Member { target, name, .. } => format!("{}.{name}", show(target)),
        ExprKind::Index { target, index, .. } => format!("{}[{}]", show(target), show(index)),
        ExprKind::For(l) => format!(
            "[for {} in {}: {}]",
            l.item.as_deref().unwrap_or("_"),
            show(&l.iterable),
            show(&l.body)
        ),
        ExprKind::Error(m) => format!("<error: {m}>"),
        other => format!("{other:?}"),
    }
}

fn at(f: &SourceFile, span: Span) -> String {
    let r = f.range(span);
    format!(
        "{}:{}-{}:{}",
        r.start.line, r.start.column, r.end.line, r.end.column
    )
}

fn opt(e: Option<&Expr>) -> String {
    e.map(show).unwrap_or_else(|| "-".into())
}

/// A readable summary of everything a template declares, with line:column ranges.
fn summary(f: &SourceFile, t: &Template, indent: &str, out: &mut String) {
    let _ = writeln!(out, "{indent}{:?} {:?}", t.language, t.target_scope);
    for p in &t.params {
        let _ = writeln!(
            out,
            "{indent}param {} @{} type={} default={} allowed={} secure={} nullable={} description={:?}",
            p.name,
            at(f, p.name_span),
            p.type_name.as_deref().unwrap_or("-"),
            opt(p.default.as_ref()),
            p.allowed
                .as_ref()
                .map(|a| a.iter().map(show).collect::<Vec<_>>().join("|"))
                .unwrap_or_else(|| "-".into()),
            p.secure,
            p.nullable,
            p.description.as_deref().unwrap_or("")
        );
    }
    for v in &t.vars {
        let _ = writeln!(
            out,
            "{indent}var {} @{} = {}",
            v.name,
            at(f, v.name_span),
            show(&v.value)
        );
    }
    for (i, r) in t.resources.iter().enumerate() {
        let _ = writeln!(
            out,
            "{indent}resource #{i} {} {}@{} head @{} span @{}",
            r.symbol.as_deref().unwrap_or("_"),
            r.type_name,
            r.api_version.as_deref().unwrap_or("-"),
            at(f, r.head_span),
            at(f, r.span)
        );
        let _ = writeln!(out, "{indent}  name: {}", opt(r.name.as_ref()));
        if let Some(p) = r.parent_index {
            let _ = writeln!(out, "{indent}  parent: #{p}");
        }
        if r.existing {
            let _ = writeln!(out, "{indent}  existing");
        }
        if let Some(c) = &r.condition {
            let _ = writeln!(out, "{indent}  condition: {}", show(c));
        }
        match &r.loop_ {
            Some(Loop::Copy { name, count }) => {
                let _ = writeln!(out, "{indent}  copy {name} x {}", show(count));
            }
            Some(other) => {
                let _ = writeln!(out, "{indent}  loop {other:?}");
            }
            None => {}
        }
        for d in &r.depends_on {
            let _ = writeln!(out, "{indent}  dependsOn: {}", show(d));
        }
        for (id, span) in &r.suppress {
            let _ = writeln!(out, "{indent}  suppress {id} @{}", at(f, *span));
        }
        let _ = writeln!(out, "{indent}  body: {}", show(&r.body));
    }
    for m in &t.modules {
        let _ = writeln!(
            out,
            "{indent}module {} source={} @{} head @{}",
            opt(m.name.as_ref()),
            m.source.as_deref().unwrap_or("-"),
            at(f, m.source_span),
            at(f, m.head_span)
        );
        let _ = writeln!(out, "{indent}  params: {}", opt(m.params.as_ref()));
        let _ = writeln!(out, "{indent}  scope: {}", opt(m.scope.as_ref()));
        let _ = writeln!(out, "{indent}  inner_scope: {}", m.inner_scope);
        for d in &m.depends_on {
            let _ = writeln!(out, "{indent}  dependsOn: {}", show(d));
        }
        if let Some(inner) = &m.inline_template {
            let _ = writeln!(out, "{indent}  inline template:");
            summary(f, inner, &format!("{indent}    "), out);
        }
    }
    for o in &t.outputs {
        let _ = writeln!(out, "{indent}output {} = {}", o.name, show(&o.value));
    }
    for a in &t.assignments {
        let _ = writeln!(
            out,
            "{indent}assign {} @{} = {}",
            a.name,
            at(f, a.span),
            opt(a.value.as_ref())
        );
    }
    if let Some(u) = &t.using {
        let _ = writeln!(out, "{indent}using {u}");
    }
    for s in &t.suppressions {
        let _ = writeln!(
            out,
            "{indent}suppression {:?} @{} covers @{}",
            s.codes,
            at(f, s.span),
            at(f, s.covers)
        );
    }
    for e in &t.syntax_errors {
        let _ = writeln!(out, "{indent}error @{}: {}", at(f, e.span), e.message);
    }
}

fn snapshot_of(name: &str) -> (SourceFile, Template, String) {
    let (f, t) = fixture(name);
    let mut out = String::new();
    summary(&f, &t, "", &mut out);
    (f, t, out)
}

#[test]
fn network_template() {
    let (f, t, out) = snapshot_of("network.json");
    assert_eq!(arm::classify(&f.text), Some(Language::ArmTemplate));
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.resources.len(), 4);
    // Children come right after their parent.
    let subnet = &t.resources[2];
    assert_eq!(
        subnet.type_name,
        "Microsoft.Network/virtualNetworks/subnets"
    );
    assert_eq!(subnet.parent_index, Some(1));
    assert_eq!(
        show(subnet.name.as_ref().unwrap()),
        "concat(parameters('vnetName'), '/', 'snet-apim')"
    );
    assert_eq!(f.slice(subnet.head_span), "\"subnets\"");
    insta::assert_snapshot!(out);
}

#[test]
fn symbolic_template() {
    let (_, t, out) = snapshot_of("symbolic.json");
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    let symbols: Vec<_> = t.resources.iter().map(|r| r.symbol.as_deref()).collect();
    assert_eq!(symbols, [Some("hub"), Some("subnet"), Some("apim")]);
    assert!(t.resources[0].existing && t.resources[1].existing && !t.resources[2].existing);
    insta::assert_snapshot!(out);
}

#[test]
fn deployments_template() {
    let (f, t, out) = snapshot_of("deployments.json");
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.target_scope, TargetScope::Subscription);
    assert_eq!(t.modules.len(), 2);
    assert_eq!(t.modules[0].source.as_deref(), Some("network.json"));
    let inner = t.modules[1].inline_template.as_ref().unwrap();
    assert_eq!(inner.target_scope, TargetScope::ResourceGroup);
    assert_eq!(inner.file, FileId(7));
    assert_eq!(
        f.slice(inner.resources[0].head_span),
        "\"Microsoft.ApiManagement/service\""
    );
    // The inline resource's suppression is recorded on the file's template.
    assert_eq!(t.suppressions.len(), 1);
    assert!(t.suppressions[0].codes.is_empty());
    insta::assert_snapshot!(out);
}

#[test]
fn parameter_file() {
    let (f, t, out) = snapshot_of("network.parameters.json");
    assert_eq!(arm::classify(&f.text), Some(Language::ArmParameters));
    assert_eq!(t.language, Language::ArmParameters);
    assert_eq!(t.assignments.len(), 3);
    assert!(t.assignments[2].value.is_none());
    insta::assert_snapshot!(out);
}

#[test]
fn broken_json_reports_a_syntax_error() {
    let (f, t, out) = snapshot_of("broken.json");
    assert_eq!(t.syntax_errors.len(), 1);
    // The missing comma after the `type` value.
    assert_eq!(f.range(t.syntax_errors[0].span).start.line, 5);
    insta::assert_snapshot!(out);
}

#[test]
fn bad_expressions_report_syntax_errors() {
    let (f, t, out) = snapshot_of("bad-expression.json");
    assert_eq!(t.syntax_errors.len(), 2);
    assert_eq!(f.slice(t.syntax_errors[0].span), "'b'");
    insta::assert_snapshot!(out);
}

#[test]
fn truncated_and_mangled_fixtures_never_panic() {
    for name in ["network.json", "symbolic.json", "deployments.json"] {
        let (f, _) = fixture(name);
        let text: &str = &f.text;
        for (i, _) in text.char_indices().step_by(3) {
            let prefix = text.get(..i).unwrap_or("");
            let t = arm::lower(FileId(0), prefix);
            assert!(i == 0 || !t.syntax_errors.is_empty() || prefix.trim_end().ends_with('}'));
            // The same text with one character removed.
            let mut mangled = String::with_capacity(text.len());
            mangled.push_str(prefix);
            mangled.push_str(text.get(i + 1..).unwrap_or(""));
            let _ = arm::lower(FileId(0), &mangled);
            let _ = arm::classify(&mangled);
        }
    }
}
