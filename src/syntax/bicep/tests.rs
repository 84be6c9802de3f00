//! Unit tests for Bicep lowering.

use super::lower as lower_file;
use crate::expr::{ArrayItem, BinaryOp, Expr, ExprKind, InterpPart, ObjectItem};
use crate::model::{Language, Loop, TargetScope, Template};
use crate::source::{FileId, Span};

fn bicep(text: &str) -> Template {
    lower_file(FileId(0), text, Language::Bicep)
}

fn at(text: &str, span: Span) -> &str {
    text.get(span.start as usize..span.end as usize).unwrap()
}

fn var<'t>(t: &'t Template, name: &str) -> &'t Expr {
    &t.vars.iter().find(|v| v.name == name).unwrap().value
}

#[test]
fn target_scope_and_params_with_decorators() {
    let text = "targetScope = 'subscription'\n\
        @description('The location')\n@allowed([\n  'westeurope'\n  'northeurope'\n])\nparam location string = 'westeurope'\n\
        @secure()\nparam password string\n\
        param tags object?\n\
        @sys.description('lock')\nparam lock lockType?\n\
        param sku 'A' | 'B' = 'A'\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.target_scope, TargetScope::Subscription);
    assert_eq!(t.params.len(), 5);
    let loc = &t.params[0];
    assert_eq!(loc.name, "location");
    assert_eq!(loc.type_name.as_deref(), Some("string"));
    assert_eq!(loc.description.as_deref(), Some("The location"));
    assert_eq!(loc.allowed.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        loc.default.as_ref().and_then(|d| d.as_str()),
        Some("westeurope")
    );
    assert_eq!(at(text, loc.name_span), "location");
    assert_eq!(at(text, loc.span), "param location string = 'westeurope'");
    assert!(t.params[1].secure && t.params[1].default.is_none());
    assert!(t.params[2].nullable);
    assert_eq!(t.params[2].type_name.as_deref(), Some("object"));
    assert_eq!(t.params[3].type_name.as_deref(), Some("lockType"));
    assert!(t.params[3].nullable);
    assert_eq!(t.params[3].description.as_deref(), Some("lock"));
    assert_eq!(t.params[4].type_name.as_deref(), Some("string"));
    assert_eq!(
        t.params[4].default.as_ref().and_then(|d| d.as_str()),
        Some("A")
    );
}

#[test]
fn strings_interpolation_escapes_and_multiline() {
    let text = "var a = 'x${y}z'\nvar b = 'it\\'s \\${no}'\nvar c = '''\nline1\n  'line2'\n'''\nvar d = ''\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    match &var(&t, "a").kind {
        ExprKind::Interpolation(parts) => {
            assert_eq!(parts.len(), 3);
            assert!(
                matches!(&parts[1], InterpPart::Expr(e) if e.kind == ExprKind::Ident("y".into()) && at(text, e.span) == "y")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(var(&t, "b").as_str(), Some("it's ${no}"));
    assert_eq!(var(&t, "c").as_str(), Some("line1\n  'line2'\n"));
    assert_eq!(var(&t, "d").as_str(), Some(""));
}

#[test]
fn expressions() {
    let text = "var a = x.?y[?0]\nvar b = sa::blob.id\nvar c = (p, q) => p ?? q\nvar d = az.resourceGroup().location\n\
        var e = !f && g =~ 'h' || i !~ 'j'\nvar k = cond ? 1 : -2\nvar l = arr[^1]\nvar m = foo!.bar\nvar n = {\n  'quoted key': 1\n  plain: true\n  ...other\n}\n\
        var o = [\n  1\n  ...more\n]\nvar p = x => x\nvar q = [for (v, i) in range(0, 3): if (i > 0) {\n  v: v\n}]\nvar r = (1 + 2) * 3\nvar s = null\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    match &var(&t, "a").kind {
        ExprKind::Index {
            target,
            safe: true,
            from_end: false,
            ..
        } => {
            assert!(
                matches!(&target.kind, ExprKind::Member { name, safe: true, .. } if name == "y")
            );
        }
        other => panic!("{other:?}"),
    }
    match &var(&t, "b").kind {
        ExprKind::Member { target, name, .. } => {
            assert_eq!(name, "id");
            assert!(matches!(&target.kind, ExprKind::ChildAccess { name, .. } if name == "blob"));
            assert_eq!(at(text, target.span), "sa::blob");
        }
        other => panic!("{other:?}"),
    }
    match &var(&t, "c").kind {
        ExprKind::Lambda { params, body } => {
            assert_eq!(params, &["p", "q"]);
            assert!(matches!(
                body.kind,
                ExprKind::Binary {
                    op: BinaryOp::Coalesce,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    match &var(&t, "d").kind {
        ExprKind::Member { target, name, .. } => {
            assert_eq!(name, "location");
            assert!(
                matches!(&target.kind, ExprKind::Call(c) if c.namespace.as_deref() == Some("az") && c.name == "resourceGroup")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        var(&t, "e").kind,
        ExprKind::Binary {
            op: BinaryOp::Or,
            ..
        }
    ));
    match &var(&t, "k").kind {
        ExprKind::Ternary { otherwise, .. } => assert!(matches!(otherwise.kind, ExprKind::Int(-2))),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        var(&t, "l").kind,
        ExprKind::Index {
            from_end: true,
            safe: false,
            ..
        }
    ));
    match &var(&t, "m").kind {
        ExprKind::Member { target, .. } => {
            assert!(matches!(target.kind, ExprKind::NonNull(_)));
            assert_eq!(at(text, target.span), "foo!");
        }
        other => panic!("{other:?}"),
    }
    match &var(&t, "n").kind {
        ExprKind::Object(items) => {
            assert_eq!(items.len(), 3);
            assert!(matches!(&items[0], ObjectItem::Property { key, .. } if key == "quoted key"));
            assert!(
                matches!(&items[2], ObjectItem::Spread(e) if e.kind == ExprKind::Ident("other".into()))
            );
        }
        other => panic!("{other:?}"),
    }
    match &var(&t, "o").kind {
        ExprKind::Array(items) => {
            assert!(matches!(&items[0], ArrayItem::Item(_)));
            assert!(matches!(&items[1], ArrayItem::Spread(e) if at(text, e.span) == "more"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&var(&t, "p").kind, ExprKind::Lambda { params, .. } if params == &["x"]));
    match &var(&t, "q").kind {
        ExprKind::For(l) => {
            assert_eq!(l.item.as_deref(), Some("v"));
            assert_eq!(l.index.as_deref(), Some("i"));
            assert!(l.filter.is_some());
        }
        other => panic!("{other:?}"),
    }
    match &var(&t, "r").kind {
        ExprKind::Binary {
            op: BinaryOp::Mul,
            lhs,
            ..
        } => assert_eq!(at(text, lhs.span), "(1 + 2)"),
        other => panic!("{other:?}"),
    }
    assert_eq!(var(&t, "s").kind, ExprKind::Null);
}

#[test]
fn resources_with_condition_loop_and_existing() {
    let text = "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'st${suffix}'\n  location: location\n  sku: {\n    name: 'Standard_LRS'\n  }\n  kind: 'StorageV2'\n  dependsOn: [\n    other\n  ]\n}\n\
        resource c 'Microsoft.Web/sites@2022-09-01' = if (deploy) {\n  name: 'app'\n}\n\
        resource l 'Microsoft.Network/publicIPAddresses@2023-04-01' = [for (n, i) in names: if (i > 0) {\n  name: n\n}]\n\
        resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {\n  name: 'kv'\n  scope: resourceGroup('rg')\n}\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.resources.len(), 4);
    let sa = &t.resources[0];
    assert_eq!(sa.symbol.as_deref(), Some("sa"));
    assert_eq!(sa.type_name, "Microsoft.Storage/storageAccounts");
    assert_eq!(sa.api_version.as_deref(), Some("2023-01-01"));
    assert_eq!(
        at(text, sa.head_span),
        "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01'"
    );
    assert!(at(text, sa.span).starts_with("resource sa") && at(text, sa.span).ends_with('}'));
    assert_eq!(at(text, sa.name.as_ref().unwrap().span), "'st${suffix}'");
    assert!(sa.body.property("location").is_some());
    assert!(sa.body.property("sku").is_some());
    assert!(sa.body.property("name").is_none());
    assert!(sa.body.property("dependsOn").is_none());
    assert_eq!(sa.depends_on.len(), 1);
    assert!(!sa.existing && sa.condition.is_none() && sa.loop_.is_none());
    let c = &t.resources[1];
    assert_eq!(at(text, c.condition.as_ref().unwrap().span), "(deploy)");
    let l = &t.resources[2];
    match &l.loop_ {
        Some(Loop::ForIn {
            item,
            index,
            iterable,
            filter,
        }) => {
            assert_eq!(item.as_deref(), Some("n"));
            assert_eq!(index.as_deref(), Some("i"));
            assert_eq!(at(text, iterable.span), "names");
            assert!(filter.is_some());
        }
        other => panic!("{other:?}"),
    }
    let kv = &t.resources[3];
    assert!(kv.existing);
    assert!(kv.scope.is_some());
}

#[test]
fn nested_children_compose_types() {
    let text = "resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {\n  name: 'vnet'\n  resource snet 'subnets' = {\n    name: 'a'\n    resource deep 'x@2020-01-01' = {\n      name: 'd'\n    }\n  }\n  resource full 'Microsoft.Network/virtualNetworks/subnets@2022-01-01' = {\n    name: 'b'\n  }\n  properties: {}\n}\nvar id = vnet::snet.id\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    let summary: Vec<_> = t
        .resources
        .iter()
        .map(|r| {
            (
                r.symbol.clone().unwrap(),
                r.type_name.clone(),
                r.api_version.clone().unwrap(),
                r.parent_index,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "vnet".into(),
                "Microsoft.Network/virtualNetworks".into(),
                "2023-04-01".into(),
                None
            ),
            (
                "snet".into(),
                "Microsoft.Network/virtualNetworks/subnets".into(),
                "2023-04-01".into(),
                Some(0)
            ),
            (
                "deep".into(),
                "Microsoft.Network/virtualNetworks/subnets/x".into(),
                "2020-01-01".into(),
                Some(1)
            ),
            (
                "full".into(),
                "Microsoft.Network/virtualNetworks/subnets".into(),
                "2022-01-01".into(),
                Some(0)
            ),
        ]
    );
    assert_eq!(
        t.resources[1].name.as_ref().and_then(|n| n.as_str()),
        Some("a")
    );
    assert!(t.resources[0].body.property("properties").is_some());
    assert_eq!(
        at(text, t.resources[1].head_span),
        "resource snet 'subnets'"
    );
}

#[test]
fn modules_outputs_and_functions() {
    let text = "module net './network.bicep' = {\n  name: 'net'\n  scope: resourceGroup('rg')\n  params: {\n    a: 1\n  }\n  dependsOn: [\n    sa\n  ]\n}\n\
        module many 'br/public:avm/res/network/vnet:0.1.0' = [for x in xs: {\n  name: x\n}]\n\
        module maybe 'm.bicep' = if (on) {\n  name: 'm'\n}\n\
        output id string = net.outputs.id\n\
        func double(x int) int => x * 2\n\
        import { a } from 'types.bicep'\ntype t = {\n  a: string\n}\nextension microsoftGraph\nmetadata info = 'x'\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.modules.len(), 3);
    let net = &t.modules[0];
    assert_eq!(net.source.as_deref(), Some("./network.bicep"));
    assert_eq!(at(text, net.source_span), "'./network.bicep'");
    assert_eq!(at(text, net.head_span), "module net './network.bicep'");
    assert!(net.params.as_ref().unwrap().property("a").is_some());
    assert!(net.scope.is_some() && net.name.is_some());
    assert_eq!(net.depends_on.len(), 1);
    assert!(
        matches!(&t.modules[1].loop_, Some(Loop::ForIn { item: Some(x), index: None, .. }) if x == "x")
    );
    assert!(t.modules[2].condition.is_some());
    assert_eq!(t.outputs.len(), 1);
    assert_eq!(t.outputs[0].name, "id");
    assert_eq!(t.functions.len(), 1);
    assert_eq!(t.functions[0].params, vec!["x".to_string()]);
    assert!(matches!(
        t.functions[0].body.kind,
        ExprKind::Binary {
            op: BinaryOp::Mul,
            ..
        }
    ));
}

#[test]
fn suppressions_next_line_resource_and_regions() {
    let text = "#disable-next-line no-hardcoded-location use-stable\nresource a 'T/u@1' = {\n  #disable-next-line id-x\n  location: 'westus'\n}\n#disable-diagnostics p1 p2\nvar x = 1\n#restore-diagnostics p1\nvar y = 2\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    let r = &t.resources[0];
    let codes: Vec<&str> = r.suppress.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(codes, vec!["no-hardcoded-location", "use-stable"]);
    assert_eq!(
        at(text, r.suppress[0].1),
        "#disable-next-line no-hardcoded-location use-stable"
    );
    let s = &t.suppressions;
    assert_eq!(s.len(), 4, "{s:?}");
    assert_eq!(at(text, s[0].covers), "resource a 'T/u@1' = {");
    assert_eq!(at(text, s[1].covers), "location: 'westus'");
    assert_eq!(s[1].codes, vec!["id-x".to_string()]);
    let p1 = s
        .iter()
        .find(|x| x.codes == vec!["p1".to_string()])
        .unwrap();
    assert_eq!(at(text, p1.covers).trim(), "var x = 1");
    let p2 = s
        .iter()
        .find(|x| x.codes == vec!["p2".to_string()])
        .unwrap();
    assert_eq!(p2.covers.end as usize, text.len());
}

#[test]
fn syntax_error_keeps_surrounding_resources() {
    let text = "resource a 'T/a@1' = {\n  name: 'a'\n}\nresource b 'T/b@1' = {\n  name: 'b'\n  location: = \n}\nresource c 'T/c@1' = {\n  name: 'c'\n}\n";
    let t = bicep(text);
    assert!(!t.syntax_errors.is_empty());
    for e in &t.syntax_errors {
        assert!(
            e.message.starts_with("unexpected") || e.message.starts_with("expected"),
            "{e:?}"
        );
    }
    let syms: Vec<_> = t
        .resources
        .iter()
        .filter_map(|r| r.symbol.as_deref())
        .collect();
    assert!(syms.contains(&"a") && syms.contains(&"c"), "{syms:?}");
}

#[test]
fn missing_brace_is_reported() {
    let t = bicep("var a = {\n  b: 1\n");
    assert!(!t.syntax_errors.is_empty());
    assert!(
        t.syntax_errors.iter().any(|e| e.message.contains('}')),
        "{:?}",
        t.syntax_errors
    );
}

#[test]
fn bicepparam_file() {
    let text = "using './main.bicep'\n\nparam location = 'westeurope'\nparam count = 3\nvar x = 1\nparam tags = {\n  env: 'dev'\n}\n";
    let t = lower_file(FileId(0), text, Language::BicepParams);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.using.as_deref(), Some("./main.bicep"));
    let names: Vec<_> = t.assignments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, vec!["location", "count", "tags"]);
    assert_eq!(
        at(text, t.assignments[0].span),
        "param location = 'westeurope'"
    );
    assert_eq!(t.vars.len(), 1);
    let t = lower_file(
        FileId(0),
        "using none\nparam a = 1\n",
        Language::BicepParams,
    );
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.using, None);
    assert_eq!(t.assignments.len(), 1);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!("var a = {}1{}\n", "(".repeat(2000), ")".repeat(2000));
    let t = bicep(&text);
    let mut found = false;
    var(&t, "a").walk(&mut |e| found |= matches!(e.kind, ExprKind::Error(_)));
    assert!(found);
    let text = format!("var b = {}1{}\n", "[".repeat(600), "]".repeat(600));
    let _ = bicep(&text);
    let text = format!("var c = {}1{}\n", "{a: ".repeat(600), "}".repeat(600));
    let _ = bicep(&text);
    let text = format!("var d = 'x{}'\n", "${'".repeat(400));
    let _ = bicep(&text);
    let nested = "resource r 'a' = {\n".repeat(400) + &"}\n".repeat(400);
    let t = bicep(&format!("resource top 'T/t@1' = {{\n{nested}}}\n"));
    assert!(t.resources.len() <= 260);
}

#[test]
fn garbage_does_not_panic() {
    for s in [
        "",
        "}}}",
        "resource",
        "resource x",
        "resource x 'a' = ",
        "param",
        "var = ",
        "'''",
        "'${",
        "@",
        "#disable-next-line",
        "module m",
        "func f(",
        "[for",
        "a[^",
        "...",
        "x!!!",
    ] {
        let _ = bicep(s);
        let _ = lower_file(FileId(0), s, Language::BicepParams);
    }
}

#[test]
fn parse_work_limit_cancels_and_parser_recovers() {
    let big = format!("var a = [\n{}]\n", "1\n".repeat(20_000));
    let prepared = super::prepass::prepare(&big, false);
    assert!(super::parse_statements(&prepared.text, &prepared.statements, 0, None).is_none());
    let limit = super::parse_work_limit(&big);
    assert!(super::parse_statements(&prepared.text, &prepared.statements, limit, None).is_some());
    // Kept parses count their work: the limit decides as it does without them.
    let memo = super::Memo::new();
    assert!(
        super::parse_statements(&prepared.text, &prepared.statements, limit, Some(&memo)).is_some()
    );
    assert!(!memo.is_empty());
    assert!(
        super::parse_statements(&prepared.text, &prepared.statements, 0, Some(&memo)).is_none()
    );
    let t = bicep("var a = 1\n");
    assert_eq!(t.vars.len(), 1);
    assert!(t.syntax_errors.is_empty());
}

#[test]
fn closers_with_nothing_open_are_statements_of_their_own() {
    // Error recovery stays linear: each stray closer is parsed alone.
    let text = "}\n".repeat(20_000);
    let prepared = super::prepass::prepare(&text, false);
    assert_eq!(prepared.statements.len(), 20_000);
    let t = bicep(&text);
    assert!(!t.syntax_errors.is_empty());
    assert!(t
        .syntax_errors
        .iter()
        .all(|e| !e.message.contains("work limit")));
}

#[test]
fn a_lone_carriage_return_ends_a_line() {
    for eol in ["\n", "\r\n", "\r"] {
        let text = format!(
            "// a comment{eol}resource r 'Microsoft.Network/virtualNetworks@2023-09-01' = {{{eol}  name: 'v'{eol}}}{eol}"
        );
        let t = bicep(&text);
        assert_eq!(t.resources.len(), 1, "{eol:?}");
        assert!(t.syntax_errors.is_empty(), "{eol:?}: {:?}", t.syntax_errors);
        let file = crate::source::SourceFile::new("m.bicep".into(), text.as_str());
        let at = u32::try_from(text.find("name").unwrap()).unwrap();
        assert_eq!(file.line_col(at).line, 3, "{eol:?}");
    }
}

#[test]
fn array_items_the_grammar_splits_are_rejoined() {
    let text =
        "var a = [\n  subscription().id\n  uri(x, 'y')\n  3\n  (i * 3)\n  ...map(xs, x => x)\n]\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    let ExprKind::Array(items) = &var(&t, "a").kind else {
        panic!()
    };
    let shown: Vec<String> = items
        .iter()
        .map(|i| match i {
            ArrayItem::Item(e) => at(text, e.span).to_string(),
            ArrayItem::Spread(e) => format!("...{}", at(text, e.span)),
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            "subscription().id",
            "uri(x, 'y')",
            "3",
            "(i * 3)",
            "...map(xs, x => x)"
        ]
    );
    let mut errors = 0;
    var(&t, "a").walk(&mut |e| errors += usize::from(matches!(e.kind, ExprKind::Error(_))));
    assert_eq!(errors, 0);
    match &items[1] {
        ArrayItem::Item(e) => {
            assert!(matches!(&e.kind, ExprKind::Call(c) if c.name == "uri" && c.args.len() == 2))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parenthesized_condition_in_object_is_a_ternary() {
    let text = "var o = {\n  a: (on) ? 'Deny' : 'Allow'\n  b: 1\n}\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    let o = var(&t, "o");
    let a = o.property("a").unwrap();
    assert!(matches!(a.kind, ExprKind::Ternary { .. }), "{a:?}");
    assert_eq!(at(text, a.span), "(on) ? 'Deny' : 'Allow'");
    assert!(o.property("b").is_some());
    assert!(o.property("Deny").is_none());
}

#[test]
fn syntax_error_messages_name_the_problem() {
    let cases = [
        (
            "resource x 'T@v' = {\n  name: 'a'\n  location\n}\n",
            "unexpected `location`",
        ),
        ("var = 1\n", "incomplete `var` declaration"),
        ("output o string\n", "incomplete `output` declaration"),
        (
            "resource x 'T@v' = {\n  name: 'a',, \n}\n",
            "unexpected `,`",
        ),
        ("var a = [1, 2\nvar b = 1\n", "expected `]`"),
        ("var a = foo(\n", "expected `)`"),
        (
            "module m './x.bicep' = {\n  params: {\n    a: \n  }\n}\n",
            "expected a value after `:`",
        ),
    ];
    for (text, message) in cases {
        let t = bicep(text);
        let got: Vec<&str> = t.syntax_errors.iter().map(|e| e.message.as_str()).collect();
        assert!(got.contains(&message), "{text:?}: {got:?}");
    }
}

#[test]
fn decorators_of_ignored_statements_do_not_leak() {
    let text = "@export()\n@description('a type')\ntype t = string\nparam p string\n@description('real')\nparam q string\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.params[0].description, None);
    assert_eq!(t.params[1].description.as_deref(), Some("real"));
}

#[test]
fn byte_order_mark_and_crlf() {
    let text = "\u{feff}param lock lockType?\r\n#disable-next-line a\r\nvar x = '''\r\nhi'''\r\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(t.params[0].type_name.as_deref(), Some("lockType"));
    assert_eq!(var(&t, "x").as_str(), Some("hi"));
    assert_eq!(at(text, t.suppressions[0].span), "#disable-next-line a");
    assert_eq!(at(text, t.suppressions[0].covers), "var x = '''");
}

/// A compact, fully parenthesized rendering of an expression's structure.
fn shape(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::String(s) => format!("'{s}'"),
        ExprKind::Member { target, name, safe } => {
            format!("{}{}{name}", shape(target), if *safe { ".?" } else { "." })
        }
        ExprKind::Index { target, index, .. } => format!("{}[{}]", shape(target), shape(index)),
        ExprKind::ChildAccess { target, name } => format!("{}::{name}", shape(target)),
        ExprKind::NonNull(t) => format!("{}!", shape(t)),
        ExprKind::Call(c) => format!(
            "{}({})",
            c.name,
            c.args.iter().map(shape).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Binary { op, lhs, rhs } => format!("({} {op:?} {})", shape(lhs), shape(rhs)),
        ExprKind::Unary { op, operand } => format!("({op:?} {})", shape(operand)),
        ExprKind::Ternary {
            cond,
            then,
            otherwise,
        } => format!("({} ? {} : {})", shape(cond), shape(then), shape(otherwise)),
        ExprKind::Lambda { params, body } => format!("({} => {})", params.join(", "), shape(body)),
        ExprKind::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| match i {
                    ArrayItem::Item(e) => shape(e),
                    ArrayItem::Spread(e) => format!("...{}", shape(e)),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

#[test]
fn postfix_operations_bind_tighter_than_operators() {
    let cases = [
        ("a && b.c", "(a And b.c)"),
        (
            "!empty(l) && l.?kind != 'None'",
            "((Not empty(l)) And (l.?kind NotEq 'None'))",
        ),
        ("a || b && c.d == e", "(a Or (b And (c.d Eq e)))"),
        ("x => x.name", "(x => x.name)"),
        ("(x, i) => x.a && x.b[i]", "(x, i => (x.a And x.b[i]))"),
        ("c ? a : b.x == 1", "(c ? a : (b.x Eq 1))"),
        ("!a.b", "(Not a.b)"),
        ("-a.b + 1", "((Neg a.b) Add 1)"),
        ("a ?? b.c.d", "(a Coalesce b.c.d)"),
        ("a == b[0]", "(a Eq b[0])"),
        ("a && s::c.id", "(a And s::c.id)"),
        ("a && b.f(1)", "(a And f(b, 1))"),
        ("a && b!.c", "(a And b!.c)"),
        ("(a && b).c", "(a And b).c"),
        ("a - b.c - d", "((a Sub b.c) Sub d)"),
        ("a * b.c + d", "((a Mul b.c) Add d)"),
        ("a + b.c * d", "(a Add (b.c Mul d))"),
    ];
    for (src, want) in cases {
        let text = format!("var v = {src}\n");
        let t = bicep(&text);
        assert!(t.syntax_errors.is_empty(), "{src}: {:?}", t.syntax_errors);
        let v = var(&t, "v");
        assert_eq!(shape(v), want, "{src}");
        assert_eq!(at(&text, v.span), src, "{src}");
    }
}

#[test]
fn indexes_in_arrays_written_one_item_per_line() {
    let text = "var v = [\n  l[0]\n  l[?1].a\n  m.n[^1]\n  f(x)[0]\n  [0]\n]\n";
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    let ExprKind::Array(items) = &var(&t, "v").kind else {
        panic!("not an array");
    };
    let shapes: Vec<String> = items
        .iter()
        .map(|i| match i {
            ArrayItem::Item(e) | ArrayItem::Spread(e) => shape(e),
        })
        .collect();
    assert_eq!(shapes, ["l[0]", "l[1].a", "m.n[1]", "f(x)[0]", "[0]"]);
    let flags: Vec<(bool, bool)> = items
        .iter()
        .filter_map(|i| match i {
            ArrayItem::Item(e) => {
                let mut found = None;
                e.walk(&mut |x| {
                    if let ExprKind::Index { safe, from_end, .. } = x.kind {
                        found.get_or_insert((safe, from_end));
                    }
                });
                found
            }
            ArrayItem::Spread(_) => None,
        })
        .collect();
    assert_eq!(
        flags,
        [(false, false), (true, false), (false, true), (false, false)]
    );
}

#[test]
fn statements_are_parsed_one_at_a_time_with_file_positions() {
    let text = "@description('a')\n@minValue(1)\nparam p int = 1\n\nvar v = x.y.z\n// note\nresource r 'A.B/c@1' = {\n  name: 'r'\n}\noutput o int = p\n";
    let prepared = super::prepass::prepare(text, false);
    // The decorators start the first statement; a comment stays with the statement before it.
    assert_eq!(
        prepared.statements,
        vec![
            0,
            text.find("var").unwrap(),
            text.find("resource").unwrap(),
            text.find("output").unwrap()
        ]
    );
    let stretches = super::stretches(text.as_bytes(), &prepared.statements);
    assert_eq!(stretches.first().map(|s| s.0), Some(0));
    assert_eq!(stretches.last().map(|s| s.1), Some(text.len()));
    for pair in stretches.windows(2) {
        assert_eq!(pair[0].1, pair[1].0);
        assert_eq!(pair[0].3, pair[1].2);
    }
    let resource = stretches
        .iter()
        .find(|s| s.0 == text.find("resource").unwrap())
        .unwrap();
    assert_eq!(resource.2, tree_sitter::Point::new(6, 0));
    let t = bicep(text);
    assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
    assert_eq!(
        (
            t.params.len(),
            t.vars.len(),
            t.resources.len(),
            t.outputs.len()
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(t.params[0].description.as_deref(), Some("a"));
}

#[test]
fn a_broken_statement_does_not_take_the_next_ones_with_it() {
    let t = bicep("var a =\n\nvar b = 1\nresource r 'A.B/c@1' = {\n  name: 'r'\n}\n");
    assert_eq!(t.syntax_errors.len(), 1, "{:?}", t.syntax_errors);
    assert!(t.vars.iter().any(|v| v.name == "b"));
    assert_eq!(t.resources.len(), 1);
}

#[test]
fn a_comment_after_the_question_mark_keeps_a_parameter_nullable() {
    let t = bicep("param images string[]? // the images\nparam tags object? /* tags */\nparam name string // a name\n");
    let nullable: Vec<(&str, bool)> = t
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.nullable))
        .collect();
    assert_eq!(
        nullable,
        [("images", true), ("tags", true), ("name", false)]
    );
}

#[test]
fn integer_literals_past_64_bits_are_an_error_at_the_literal() {
    let text = "var big = 99999999999999999999\nvar max = 9223372036854775807\nvar min = -9223372036854775808\nvar over = 9223372036854775808\n";
    let t = bicep(text);
    let errors: Vec<(&str, &str)> = t
        .syntax_errors
        .iter()
        .map(|e| (at(text, e.span), e.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                "99999999999999999999",
                "expected a valid 64-bit signed integer"
            ),
            (
                "9223372036854775808",
                "expected a valid 64-bit signed integer"
            ),
        ]
    );
    assert!(matches!(var(&t, "big").kind, ExprKind::Error(_)));
    assert!(matches!(var(&t, "max").kind, ExprKind::Int(i64::MAX)));
    assert!(matches!(var(&t, "min").kind, ExprKind::Int(i64::MIN)));
}

#[test]
fn kept_statement_parses_lower_as_fresh_ones() {
    // Edits anywhere (before, inside and after statements; lines added and removed; a syntax
    // error made and fixed): each version lowered through the memo equals a fresh lowering.
    let base = "targetScope = 'resourceGroup'\n\
        @description('where')\nparam location string = resourceGroup().location\n\
        var name = 'apim-${uniqueString(resourceGroup().id)}'\n\
        resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {\n  name: 'vnet'\n  location: location\n  properties: {\n    subnets: [\n      {\n        name: 'apim'\n        properties: { addressPrefix: '10.0.0.0/24' }\n      }\n    ]\n  }\n}\n\
        resource apim 'Microsoft.ApiManagement/service@2023-05-01-preview' = {\n  name: name\n  location: location\n  sku: { name: 'StandardV2', capacity: 1 }\n  properties: {\n    virtualNetworkType: 'External'\n    virtualNetworkConfiguration: { subnetResourceId: vnet.properties.subnets[0].id }\n  }\n}\n\
        output id string = apim.id\n";
    let edits: &[fn(&str) -> String] = &[
        |t| t.to_string(),
        |t| format!(" {t}"),
        |t| format!("\n\n{t}"),
        |t| t.replacen("'vnet'", "'vnet-2'", 1),
        |t| t.replacen("capacity: 1", "capacity: 1 +", 1),
        |t| {
            t.replacen(
                "location: location\n",
                "location: location\n  tags: {}\n",
                1,
            )
        },
        |t| t.replacen("@description('where')\n", "", 1),
        |t| format!("{t} "),
        |t| format!("// é\n{t}"),
        |t| t.replacen("  name: 'vnet'", "    name: 'vnet'", 1),
    ];
    let memo = super::Memo::new();
    let mut text = base.to_string();
    for (i, edit) in edits.iter().enumerate() {
        text = edit(&text);
        let fresh = bicep(&text);
        let kept = super::lower_with(FileId(0), &text, Language::Bicep, Some(&memo));
        assert_eq!(kept, fresh, "edit {i}:\n{text}");
        memo.sweep();
        assert!(!memo.is_empty());
    }
    // A round that parses nothing forgets everything.
    memo.sweep();
    assert!(memo.is_empty());
}
