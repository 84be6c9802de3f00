use super::*;
use crate::model::{ParamDecl, VarDecl};
use crate::source::FileId;

fn sp() -> Span {
    Span::new(FileId(0), 0, 0)
}
fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, sp())
}
fn s(text: &str) -> Expr {
    e(ExprKind::String(text.into()))
}
fn call(name: &str, args: Vec<Expr>) -> Expr {
    e(ExprKind::call(None, name, args))
}
fn ident(name: &str) -> Expr {
    e(ExprKind::Ident(name.into()))
}
fn var(name: &str, value: Expr) -> VarDecl {
    VarDecl {
        name: name.into(),
        name_span: sp(),
        span: sp(),
        value,
    }
}
fn param(name: &str, default: Option<Expr>) -> ParamDecl {
    ParamDecl {
        name: name.into(),
        name_span: sp(),
        span: sp(),
        type_name: Some("string".into()),
        default,
        allowed: None,
        secure: false,
        description: None,
        nullable: false,
    }
}

#[test]
fn resource_id_uses_placeholders_for_the_deployment_scope() {
    let t = Template::empty(FileId(0), Language::ArmTemplate);
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let v = ev.eval(
        &call(
            "concat",
            vec![
                call(
                    "resourceId",
                    vec![s("Microsoft.Network/virtualNetworks"), s("vnet")],
                ),
                s("/subnets/apim"),
            ],
        ),
        &Vec::new(),
        0,
    );
    assert_eq!(
        v.as_text(),
        Some("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/apim")
    );
    assert!(v.is_unknown(), "placeholders make the id symbolic");
}

#[test]
fn resource_id_of_a_child_with_symbolic_names_interleaves_types_and_names() {
    let t = Template::empty(FileId(0), Language::ArmTemplate);
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    // `vnet-${uniqueString(resourceGroup().id)}`: a name whose placeholder holds slashes.
    let rg_id = Expr::new(
        ExprKind::Member {
            target: Box::new(call("resourceGroup", vec![])),
            name: "id".into(),
            safe: false,
        },
        Span::new(FileId(0), 0, 0),
    );
    let unique = call("uniqueString", vec![rg_id]);
    let vnet = call("concat", vec![s("vnet-"), unique]);
    let v = ev.eval(
        &call(
            "resourceId",
            vec![
                s("Microsoft.Network/virtualNetworks/subnets"),
                vnet,
                s("apim"),
            ],
        ),
        &Vec::new(),
        0,
    );
    let text = v.as_text().unwrap_or_default().to_string();
    assert!(text.contains("{uniqueString(/subscriptions/"), "{text}");
    assert!(
        text.contains("/providers/Microsoft.Network/virtualNetworks/vnet-{")
            && text.ends_with("}/subnets/apim"),
        "{text}"
    );
}

#[test]
fn variable_cycle_is_unknown_and_diagnosed() {
    let mut t = Template::empty(FileId(0), Language::Bicep);
    t.vars.push(var("a", ident("b")));
    t.vars.push(var("b", ident("a")));
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let v = ev.var("a");
    assert!(v.is_unknown());
    let diags = ev.take_diagnostics();
    assert!(
        diags.iter().any(|d| Code::EvaluationCycle.is(&d.code)),
        "{diags:?}"
    );
}

#[test]
fn parameter_without_value_is_unknown_with_its_name() {
    let mut t = Template::empty(FileId(0), Language::Bicep);
    t.params.push(param("skuName", None));
    t.params.push(param("loc", Some(s("westeurope"))));
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    assert_eq!(
        ev.param("skuName").unknown_reason(),
        Some(&Reason::Parameter {
            name: "skuName".into()
        })
    );
    assert_eq!(ev.param("loc").as_str(), Some("westeurope"));
    let mut given = HashMap::new();
    given.insert("skuName".to_string(), Value::string("Premium"));
    let ev = Evaluator::new(&t, given, DeploymentContext::default());
    assert_eq!(ev.param("SKUNAME").as_str(), Some("Premium"));
}

#[test]
fn string_functions_evaluate() {
    let t = Template::empty(FileId(0), Language::ArmTemplate);
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let eval = |x: Expr| ev.eval(&x, &Vec::new(), 0).to_json_lossy();
    assert_eq!(
        eval(call(
            "format",
            vec![s("{0}-{1}"), s("a"), e(ExprKind::Int(2))]
        )),
        "a-2"
    );
    assert_eq!(eval(call("toUpper", vec![s("ab")])), "AB");
    assert_eq!(
        eval(call("split", vec![s("a/b"), s("/")])),
        serde_json::json!(["a", "b"])
    );
    assert_eq!(
        eval(call(
            "last",
            vec![call("split", vec![s("10.0.0.0/24"), s("/")])]
        )),
        "24"
    );
    assert_eq!(eval(call("int", vec![s("27")])), 27);
    assert_eq!(eval(call("length", vec![s("abc")])), 3);
    assert_eq!(eval(call("empty", vec![s("")])), true);
    assert_eq!(
        eval(call(
            "range",
            vec![e(ExprKind::Int(1)), e(ExprKind::Int(3))]
        )),
        serde_json::json!([1, 2, 3])
    );
}

#[test]
fn runtime_functions_are_unknown() {
    let t = Template::empty(FileId(0), Language::ArmTemplate);
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let v = ev.eval(&call("reference", vec![s("x")]), &Vec::new(), 0);
    assert!(matches!(v.unknown_reason(), Some(Reason::Runtime { .. })));
}

#[test]
fn deep_nesting_stops_at_the_limit() {
    let t = Template::empty(FileId(0), Language::ArmTemplate);
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let mut x = s("a");
    for _ in 0..60 {
        x = call("concat", vec![x]);
    }
    let v = ev.eval(&x, &Vec::new(), 0);
    assert!(matches!(v.unknown_reason(), Some(Reason::Limit { .. })));
}

#[test]
fn long_variable_chains_stop_at_the_limit() {
    let mut t = Template::empty(FileId(0), Language::Bicep);
    t.vars.push(var("v0", s("x")));
    for i in 1..400 {
        t.vars
            .push(var(&format!("v{i}"), ident(&format!("v{}", i - 1))));
    }
    let ev = Evaluator::new(&t, HashMap::new(), DeploymentContext::default());
    let v = ev.var("v399");
    assert!(
        matches!(v.unknown_reason(), Some(Reason::Limit { .. })),
        "{v:?}"
    );
}
