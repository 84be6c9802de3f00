//! Lowers the Bicep fixtures under fixtures/bicep and checks key facts and a text summary snapshot.

use azaudit::expr::{Expr, ExprKind};
use azaudit::model::{Language, Loop, Template};
use azaudit::source::{FileId, Span};
use azaudit::syntax::bicep::lower;
use std::fmt::Write;

fn fixture(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/bicep/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap()
}

fn lower_fixture(name: &str) -> (String, Template) {
    let text = fixture(name);
    let language = if name.ends_with(".bicepparam") {
        Language::BicepParams
    } else {
        Language::Bicep
    };
    let t = lower(FileId(0), &text, language);
    (text, t)
}

/// The source text of a span, on one line, shortened.
fn src(text: &str, span: Span) -> String {
    let s = text.get(span.start as usize..span.end as usize).unwrap();
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(60).collect::<String>())
    } else {
        one
    }
}

fn opt(text: &str, e: &Option<Expr>) -> String {
    e.as_ref()
        .map(|e| src(text, e.span))
        .unwrap_or_else(|| "-".into())
}

fn lp(text: &str, l: &Option<Loop>) -> String {
    match l {
        Some(Loop::ForIn {
            item,
            index,
            iterable,
            filter,
        }) => format!(
            " for({}, {}) in {}{}",
            item.as_deref().unwrap_or("-"),
            index.as_deref().unwrap_or("-"),
            src(text, iterable.span),
            filter
                .as_ref()
                .map(|f| format!(" if {}", src(text, f.span)))
                .unwrap_or_default()
        ),
        Some(Loop::Copy { name, .. }) => format!(" copy {name}"),
        None => String::new(),
    }
}

fn errors_in(e: &Expr) -> usize {
    let mut n = 0;
    e.walk(&mut |x| n += usize::from(matches!(x.kind, ExprKind::Error(_))));
    n
}

/// A compact text rendering of what a template declares.
fn summary(text: &str, t: &Template) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "scope {:?} using {:?}", t.target_scope, t.using);
    for p in &t.params {
        let _ = writeln!(
            s,
            "param {} type={:?} nullable={} secure={} default={} allowed={:?} description={:?}",
            p.name,
            p.type_name,
            p.nullable,
            p.secure,
            opt(text, &p.default),
            p.allowed.as_ref().map(Vec::len),
            p.description
        );
    }
    for v in &t.vars {
        let _ = writeln!(
            s,
            "var {} = {} (errors {})",
            v.name,
            src(text, v.value.span),
            errors_in(&v.value)
        );
    }
    for (i, r) in t.resources.iter().enumerate() {
        let keys: Vec<String> = match &r.body.kind {
            ExprKind::Object(items) => items
                .iter()
                .map(|i| match i {
                    azaudit::expr::ObjectItem::Property { key, .. } => key.clone(),
                    azaudit::expr::ObjectItem::Spread(_) => "...".into(),
                })
                .collect(),
            _ => vec!["<not an object>".into()],
        };
        let _ = writeln!(
            s,
            "resource #{i} {} {}@{}{} parent_index={:?} head=`{}` name={} parent={} scope={} if={}{} depends={} body={:?} suppress={:?}",
            r.symbol.as_deref().unwrap_or("-"),
            r.type_name,
            r.api_version.as_deref().unwrap_or("-"),
            if r.existing { " existing" } else { "" },
            r.parent_index,
            src(text, r.head_span),
            opt(text, &r.name),
            opt(text, &r.parent),
            opt(text, &r.scope),
            opt(text, &r.condition),
            lp(text, &r.loop_),
            r.depends_on.iter().map(|d| src(text, d.span)).collect::<Vec<_>>().join(","),
            keys,
            r.suppress.iter().map(|(c, sp)| format!("{c}@{}", src(text, *sp))).collect::<Vec<_>>()
        );
    }
    for m in &t.modules {
        let _ = writeln!(
            s,
            "module {} {:?} head=`{}` name={} scope={} if={}{} params={} depends={}",
            m.symbol.as_deref().unwrap_or("-"),
            m.source,
            src(text, m.head_span),
            opt(text, &m.name),
            opt(text, &m.scope),
            opt(text, &m.condition),
            lp(text, &m.loop_),
            opt(text, &m.params),
            m.depends_on
                .iter()
                .map(|d| src(text, d.span))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    for o in &t.outputs {
        let _ = writeln!(s, "output {} = {}", o.name, src(text, o.value.span));
    }
    for f in &t.functions {
        let _ = writeln!(
            s,
            "func {}({}) => {}",
            f.name,
            f.params.join(", "),
            src(text, f.body.span)
        );
    }
    for a in &t.assignments {
        let _ = writeln!(s, "assign {} = {}", a.name, opt(text, &a.value));
    }
    for e in &t.syntax_errors {
        let _ = writeln!(s, "error `{}`: {}", src(text, e.span), e.message);
    }
    for x in &t.suppressions {
        let _ = writeln!(
            s,
            "suppress {:?} at `{}` covers `{}`",
            x.codes,
            src(text, x.span),
            src(text, x.covers)
        );
    }
    s
}

#[test]
fn params_vars_outputs_functions() {
    let (text, t) = lower_fixture("params.bicep");
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.params.len(), 6);
    assert_eq!(t.vars.len(), 5);
    assert_eq!(t.outputs.len(), 3);
    assert_eq!(t.functions.len(), 1);
    let lock = t.params.iter().find(|p| p.name == "lock").unwrap();
    assert!(lock.nullable);
    assert_eq!(lock.description.as_deref(), Some("Optional lock."));
    insta::assert_snapshot!(summary(&text, &t));
}

#[test]
fn loops_conditions_existing() {
    let (text, t) = lower_fixture("loops_conditions.bicep");
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.resources.len(), 4);
    assert!(t.resources[0].existing);
    assert!(t.resources[1].condition.is_some());
    assert!(t.resources[2].loop_.is_some());
    insta::assert_snapshot!(summary(&text, &t));
}

#[test]
fn nested_children() {
    let (text, t) = lower_fixture("nested.bicep");
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    let types: Vec<&str> = t.resources.iter().map(|r| r.type_name.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "Microsoft.Network/virtualNetworks",
            "Microsoft.Network/virtualNetworks/subnets",
            "Microsoft.Network/virtualNetworks/subnets",
            "Microsoft.Storage/storageAccounts",
            "Microsoft.Storage/storageAccounts/blobServices",
            "Microsoft.Storage/storageAccounts/blobServices/containers",
            "Microsoft.Authorization/locks",
        ]
    );
    assert_eq!(t.resources[5].parent_index, Some(4));
    assert_eq!(t.resources[5].api_version.as_deref(), Some("2023-01-01"));
    insta::assert_snapshot!(summary(&text, &t));
}

#[test]
fn modules() {
    let (text, t) = lower_fixture("modules.bicep");
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.modules.len(), 3);
    insta::assert_snapshot!(summary(&text, &t));
}

#[test]
fn syntax_error_in_the_middle() {
    let (text, t) = lower_fixture("syntax_error.bicep");
    assert!(!t.syntax_errors.is_empty());
    let symbols: Vec<&str> = t
        .resources
        .iter()
        .filter_map(|r| r.symbol.as_deref())
        .collect();
    assert!(symbols.contains(&"before"), "{symbols:?}");
    assert!(symbols.contains(&"after"), "{symbols:?}");
    insta::assert_snapshot!(summary(&text, &t));
}

#[test]
fn suppressions() {
    let (text, t) = lower_fixture("suppressions.bicep");
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.resources[0].suppress.len(), 1);
    assert_eq!(t.suppressions.len(), 3);
    insta::assert_snapshot!(summary(&text, &t));
}

#[test]
fn bicepparam() {
    let (text, t) = lower_fixture("main.bicepparam");
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.using.as_deref(), Some("./params.bicep"));
    assert_eq!(t.assignments.len(), 5);
    insta::assert_snapshot!(summary(&text, &t));
}

#[test]
fn missing_brace_in_the_middle() {
    let (text, t) = lower_fixture("missing_brace.bicep");
    assert!(
        t.syntax_errors.iter().any(|e| e.message == "expected `}`"),
        "{:?}",
        t.syntax_errors
    );
    let after = t
        .resources
        .iter()
        .find(|r| r.symbol.as_deref() == Some("after"))
        .unwrap();
    assert_eq!(after.parent_index, None);
    assert_eq!(after.type_name, "Microsoft.KeyVault/vaults");
    insta::assert_snapshot!(summary(&text, &t));
}
