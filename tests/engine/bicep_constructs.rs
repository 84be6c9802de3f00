//! Current Bicep, one fixture per group of constructs under fixtures/bicep/constructs: each lowers
//! with no syntax error, the lowered model has what the text declares, and values the evaluator can
//! know are what Bicep gives.

use azaudit::eval::{DeploymentContext, Evaluator};
use azaudit::expr::{ArrayItem, Expr, ExprKind, ObjectItem};
use azaudit::model::{Language, Template};
use azaudit::source::FileId;
use azaudit::syntax::bicep::{lower, prepass, Rewrite};
use serde_json::{json, Value as Json};
use std::collections::HashMap;

fn fixture(name: &str) -> (String, Template) {
    let path = format!(
        "{}/fixtures/bicep/constructs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let language = if name.ends_with(".bicepparam") {
        Language::BicepParams
    } else {
        Language::Bicep
    };
    let t = lower(FileId(0), &text, language);
    assert!(
        t.syntax_errors.is_empty(),
        "{name}: {:?}",
        t.syntax_errors
            .iter()
            .map(|e| (
                e.message.clone(),
                text.get(e.span.start as usize..e.span.end as usize)
            ))
            .collect::<Vec<_>>()
    );
    (text, t)
}

/// No `ExprKind::Error` anywhere in `e`.
fn no_errors(name: &str, e: &Expr) {
    e.walk(&mut |x| {
        if let ExprKind::Error(m) = &x.kind {
            panic!("`{name}`: error expression: {m}");
        }
    });
}

fn var<'t>(t: &'t Template, name: &str) -> &'t Expr {
    let v = &t.vars.iter().find(|v| v.name == name).expect(name).value;
    no_errors(name, v);
    v
}

fn src<'a>(text: &'a str, e: &Expr) -> &'a str {
    text.get(e.span.start as usize..e.span.end as usize)
        .unwrap()
}

/// Evaluates every variable of `t` with no parameter values: `name` → JSON (`Err` with the value's
/// text when it is not fully known).
fn eval_vars(t: &Template) -> HashMap<String, Result<Json, String>> {
    let ev = Evaluator::new(t, HashMap::new(), DeploymentContext::default());
    t.vars
        .iter()
        .map(|v| {
            let value = ev.var(&v.name);
            (v.name.clone(), value.to_json().ok_or(value.to_string()))
        })
        .collect()
}

#[track_caller]
fn known(values: &HashMap<String, Result<Json, String>>, name: &str, want: Json) {
    assert_eq!(
        values.get(name).cloned(),
        Some(Ok(want)),
        "variable `{name}`"
    );
}

#[test]
fn user_defined_types_nullable_and_resource_derived_types() {
    let (text, t) = fixture("types.bicep");
    // `type` statements carry no model entry; the function and every parameter survive, and the
    // decorators of types and of the exported function do not leak onto the next declaration.
    let names: Vec<&str> = t.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["sku", "net", "count", "tags", "storageSku"]);
    let p = |n: &str| t.params.iter().find(|p| p.name == n).unwrap();
    assert_eq!(p("sku").type_name.as_deref(), Some("skuName"));
    assert!(!p("sku").nullable);
    assert_eq!(p("sku").description, None);
    assert_eq!(p("net").type_name.as_deref(), Some("network"));
    assert!(p("net").nullable);
    assert_eq!(p("count").type_name.as_deref(), Some("int"));
    assert!(p("count").nullable);
    assert_eq!(
        p("tags").type_name.as_deref(),
        Some("resourceInput<'Microsoft.Resources/tags@2022-09-01'>.properties.tags")
    );
    assert_eq!(
        src(&text, p("storageSku").default.as_ref().unwrap()),
        "'Standard_LRS'"
    );
    assert_eq!(t.functions.len(), 1);
    assert_eq!(t.functions[0].name, "double");
    assert_eq!(t.functions[0].params, ["x"]);
    // Typed variables.
    assert_eq!(src(&text, var(&t, "list")), "['a', 'b']");
    assert_eq!(src(&text, var(&t, "typed")), "'typed'");
    // The resource and its body.
    assert_eq!(t.resources.len(), 1);
    let service = &t.resources[0];
    assert_eq!(service.symbol.as_deref(), Some("service"));
    assert_eq!(service.type_name, "Microsoft.ApiManagement/service");
    let props = service.body.property("properties").unwrap();
    no_errors("properties", props);
    assert_eq!(t.outputs.len(), 2);
    assert_eq!(src(&text, &t.outputs[0].value), "service.sku");

    let values = eval_vars(&t);
    known(&values, "list", json!(["a", "b"]));
    known(&values, "typed", json!("typed"));
    known(&values, "doubled", json!(42));
    // Nullable parameter with no default: `null`, so `count ?? 1` is 1 and `net.?x ?? 'None'` too.
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let sku = service.body.property("sku").unwrap();
    assert_eq!(
        ev.eval(sku, &Vec::new(), 0).to_json(),
        Some(json!({"name": "Premium", "capacity": 1}))
    );
    assert_eq!(
        ev.eval(props, &Vec::new(), 0).to_json(),
        Some(json!({"virtualNetworkType": "None"}))
    );
}

#[test]
fn imports_and_extensions() {
    let (text, t) = fixture("imports.bicep");
    let names: Vec<&str> = t.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["lock", "roleAssignments", "identity"]);
    let lock = &t.params[0];
    assert_eq!(lock.type_name.as_deref(), Some("lockType"));
    assert!(lock.nullable);
    assert_eq!(
        lock.description.as_deref(),
        Some("Optional. The lock settings of the service.")
    );
    assert_eq!(t.params[1].type_name.as_deref(), Some("array"));
    assert_eq!(
        t.params[2].type_name.as_deref(),
        Some("common.managedIdentityAllType")
    );
    let symbols: Vec<&str> = t
        .resources
        .iter()
        .filter_map(|r| r.symbol.as_deref())
        .collect();
    assert_eq!(symbols, ["vault", "vaultLock"]);
    let lock_res = &t.resources[1];
    assert_eq!(src(&text, lock_res.scope.as_ref().unwrap()), "vault");
    no_errors("condition", lock_res.condition.as_ref().unwrap());
    // With `lock` null, the lock resource is not deployed.
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let cond = ev.eval(lock_res.condition.as_ref().unwrap(), &Vec::new(), 0);
    assert_eq!(cond.to_json(), Some(json!(false)), "{cond}");
    let name = ev.eval(lock_res.name.as_ref().unwrap(), &Vec::new(), 0);
    assert_eq!(name.to_json(), Some(json!("lock-kv")));
}

#[test]
fn non_null_safe_access_coalesce_spread_from_end() {
    let (text, t) = fixture("operators.bicep");
    // The model keeps each operator.
    assert!(matches!(
        &var(&t, "merged").kind,
        ExprKind::Object(items) if matches!(items.first(), Some(ObjectItem::Spread(_)))
    ));
    assert!(matches!(
        &var(&t, "joined").kind,
        ExprKind::Array(items) if matches!(items.get(1), Some(ArrayItem::Spread(_)))
    ));
    assert!(matches!(
        &var(&t, "last").kind,
        ExprKind::Index { from_end: true, .. }
    ));
    assert!(matches!(
        &var(&t, "safeMissing").kind,
        ExprKind::Member { safe: true, .. }
    ));
    assert!(matches!(
        &var(&t, "safeIndex").kind,
        ExprKind::Binary { lhs, .. } if matches!(lhs.kind, ExprKind::Index { safe: true, .. })
    ));
    let mut bangs = 0;
    var(&t, "level").walk(&mut |e| bangs += usize::from(matches!(e.kind, ExprKind::NonNull(_))));
    assert_eq!(bangs, 1);
    assert!(matches!(&var(&t, "nonNullCall").kind, ExprKind::NonNull(_)));
    let account = &t.resources[0];
    let name = account.name.as_ref().unwrap();
    assert!(matches!(name.kind, ExprKind::NonNull(_)));
    assert_eq!(src(&text, name), "settings.name!");
    let props = account.body.property("properties").unwrap();
    assert!(matches!(&props.kind, ExprKind::Object(items) if items.len() == 2));

    let values = eval_vars(&t);
    known(&values, "merged", json!({"a": 1, "b": 20, "c": 3}));
    known(&values, "joined", json!([0, 1, 2, 3, 4]));
    known(&values, "last", json!(3));
    known(&values, "secondToLast", json!(2));
    known(&values, "level", json!(2));
    known(&values, "safeMissing", json!(null));
    known(&values, "safeDeep", json!(null));
    known(&values, "coalesced", json!("fallback"));
    known(&values, "safeIndex", json!(-1));
    known(&values, "nonNullCall", json!(1));
    known(&values, "inline", json!({"a": 1, "b": 2, "d": 4}));
    known(&values, "inlineArray", json!([0, 1, 2, 3, 4, 5]));
    known(&values, "safeIndexes", json!([1, null]));
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    assert_eq!(ev.eval(name, &Vec::new(), 0).to_json(), Some(json!("n1")));
    assert_eq!(
        ev.eval(props, &Vec::new(), 0).to_json(),
        Some(json!({"a": 1, "b": 20, "c": 3, "minimumTlsVersion": "TLS1_2"}))
    );
}

#[test]
fn lambdas_and_user_defined_functions() {
    let (_text, t) = fixture("lambdas.bicep");
    let names: Vec<&str> = t.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["greet", "subnetNameOf", "skuOf", "pair"]);
    assert_eq!(t.functions[2].params, ["sku"]);
    assert_eq!(t.functions[3].params, ["a", "b"]);
    assert!(matches!(
        &var(&t, "doubled").kind,
        ExprKind::Call(c) if c.name == "map"
            && matches!(c.args.get(1).map(|a| &a.kind), Some(ExprKind::Lambda { params, .. }) if params == &["n"])
    ));
    assert!(matches!(
        &var(&t, "indexed").kind,
        ExprKind::Call(c)
            if matches!(c.args.get(1).map(|a| &a.kind), Some(ExprKind::Lambda { params, .. }) if params.len() == 2)
    ));

    let values = eval_vars(&t);
    known(&values, "doubled", json!([6, 2, 4]));
    known(&values, "indexed", json!(["0:3", "1:1", "2:2"]));
    known(&values, "big", json!([3, 2]));
    known(&values, "total", json!(6));
    known(&values, "sorted", json!([1, 2, 3]));
    known(
        &values,
        "byName",
        json!({
            "ann": {"name": "ann", "team": "red", "age": 30},
            "bob": {"name": "bob", "team": "blue", "age": 25},
            "cid": {"name": "cid", "team": "red", "age": 41}
        }),
    );
    known(&values, "ages", json!({"ann": 30, "bob": 25, "cid": 41}));
    known(
        &values,
        "teams",
        json!({
            "red": [
                {"name": "ann", "team": "red", "age": 30},
                {"name": "cid", "team": "red", "age": 41}
            ],
            "blue": [{"name": "bob", "team": "blue", "age": 25}]
        }),
    );
    known(&values, "teamSizes", json!({"red": 2, "blue": 1}));
    known(&values, "greeting", json!("hello world"));
    known(&values, "skuName", json!("Standard_LRS"));
    known(&values, "subnetName", json!("snet-apim"));
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    assert_eq!(
        ev.eval(&t.outputs[0].value, &Vec::new(), 0).to_json(),
        Some(json!({"a": 1, "b": 2}))
    );
}

#[test]
fn multi_line_strings_and_slashes_in_strings() {
    let (_text, t) = fixture("strings.bicep");
    assert_eq!(t.resources.len(), 1);
    let values = eval_vars(&t);
    known(
        &values,
        "script",
        json!("#!/bin/bash\necho \"hello\" // not a comment\n/* nor this */\n"),
    );
    known(&values, "url", json!("https://contoso.net/api"));
    known(&values, "path", json!("contoso.net//double"));
    known(&values, "slashes", json!("//contoso.net"));
    known(&values, "nested", json!("//contoso.net"));
    known(&values, "escaped", json!("it's ${literal}"));
    known(&values, "block", json!("a /* b */ c"));
    known(&values, "extraQuotes", json!("'abc'"));
    known(&values, "emptyMulti", json!(""));
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let settings = t.resources[0].body.property("properties").unwrap();
    let v = ev.eval(settings, &Vec::new(), 0).to_json().unwrap();
    assert_eq!(
        v.pointer("/siteConfig/appSettings/0/value"),
        Some(&json!("https://contoso.net/api"))
    );
}

#[test]
fn interpolated_multi_line_string() {
    let (_text, t) = fixture("strings.bicep");
    // `$'''...'''` lowers without error; its interpolation is not evaluated (kept as text).
    for name in ["multiInterp", "dollars"] {
        let v = var(&t, name);
        assert!(
            matches!(&v.kind, ExprKind::String(s) if s.contains("host")),
            "{name}"
        );
    }
}

#[test]
fn bicepparam_using_and_assignments() {
    let (text, t) = fixture("using.bicepparam");
    assert_eq!(t.using.as_deref(), Some("./types.bicep"));
    let names: Vec<&str> = t.assignments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["sku", "count", "tags", "net"]);
    assert!(t.vars.is_empty());
    let net = t.assignments[3].value.as_ref().unwrap();
    assert!(src(&text, net).starts_with("{\n  subnetId:"));
    // The assignments are the parameter values of the template they use.
    let (_, target) = fixture("types.bicep");
    let dummy = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let values: HashMap<String, azaudit::value::Value> = t
        .assignments
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                dummy.eval(a.value.as_ref().unwrap(), &Vec::new(), 0),
            )
        })
        .collect();
    let ev = Evaluator::new(&target, values, DeploymentContext::default());
    let service = &target.resources[0];
    assert_eq!(
        ev.eval(service.body.property("sku").unwrap(), &Vec::new(), 0)
            .to_json(),
        Some(json!({"name": "StandardV2", "capacity": 2}))
    );
    assert_eq!(
        ev.eval(service.body.property("properties").unwrap(), &Vec::new(), 0)
            .to_json(),
        Some(json!({"virtualNetworkType": "Internal"}))
    );
}

#[test]
fn bicepparam_using_none_and_extends() {
    let (_text, t) = fixture("using_none.bicepparam");
    assert_eq!(t.using, None);
    let names: Vec<&str> = t.assignments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["location", "names"]);

    let (_text, t) = fixture("extends.bicepparam");
    assert_eq!(t.using.as_deref(), Some("main.bicep"));
    let names: Vec<&str> = t.assignments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["sku", "count"]);
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let count = ev.eval(t.assignments[1].value.as_ref().unwrap(), &Vec::new(), 0);
    assert_eq!(count.to_json(), Some(json!(3)));
}

#[test]
fn the_pre_pass_records_each_construct() {
    let cases: [(&str, bool, &[Rewrite]); 8] = [
        (
            "types.bicep",
            false,
            &[
                Rewrite::TypeStatement,
                Rewrite::NullableType,
                Rewrite::ResourceDerivedType,
                Rewrite::TypeExpression,
                Rewrite::VarType,
            ],
        ),
        (
            "imports.bicep",
            false,
            &[
                Rewrite::ImportStatement,
                Rewrite::ExtensionStatement,
                Rewrite::NullableType,
            ],
        ),
        (
            "operators.bicep",
            false,
            &[
                Rewrite::ObjectSpread,
                Rewrite::ArraySpread,
                Rewrite::FromEnd,
                Rewrite::SafeIndex,
                Rewrite::NonNull,
                Rewrite::NullableType,
            ],
        ),
        ("lambdas.bicep", false, &[Rewrite::ResourceDerivedType]),
        (
            "strings.bicep",
            false,
            &[
                Rewrite::SlashInString,
                Rewrite::SlashInMultiline,
                Rewrite::InterpolatedMultiline,
                Rewrite::QuoteInMultiline,
                Rewrite::EmptyMultiline,
            ],
        ),
        ("using.bicepparam", true, &[Rewrite::ParamAssignment]),
        (
            "using_none.bicepparam",
            true,
            &[Rewrite::UsingNone, Rewrite::ParamAssignment],
        ),
        (
            "extends.bicepparam",
            true,
            &[Rewrite::ExtendsStatement, Rewrite::ParamAssignment],
        ),
    ];
    for (name, params_file, want) in cases {
        let path = format!(
            "{}/fixtures/bicep/constructs/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let (rewritten, counts) = prepass(&text, params_file, &[]);
        assert_eq!(rewritten.len(), text.len(), "{name}");
        let kinds: Vec<Rewrite> = counts.keys().copied().collect();
        let mut want = want.to_vec();
        want.sort();
        assert_eq!(kinds, want, "{name}");
        // Switched off, a kind is neither made nor counted.
        let (plain, none) = prepass(&text, params_file, &Rewrite::ALL);
        assert!(none.is_empty(), "{name}");
        assert_eq!(plain, text, "{name}");
    }
}
