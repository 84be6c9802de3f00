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

/// What each epoch of `exprs` gave: the values, the limit that cut it and the diagnostics, then
/// what the deployment's budget used.
type EpochsOutcome = (Vec<(Vec<String>, Option<String>, usize)>, (u64, u64));

/// Evaluates `exprs` in `epochs` epochs, module `m1`'s outputs changing between them: with one
/// evaluator (`shared`) or a fresh evaluator per epoch sharing the budget (what the builder did
/// before epochs).
fn run_epochs(
    t: &Template,
    exprs: &[Expr],
    epochs: usize,
    limits: BudgetLimits,
    depth: usize,
    shared: bool,
) -> EpochsOutcome {
    let budget = std::rc::Rc::new(Budget::new(limits, std::sync::Arc::default()));
    let fresh = || {
        Evaluator::new(t, HashMap::new(), DeploymentContext::default())
            .with_budget(budget.clone())
            .with_limits(Limits {
                depth,
                ..Limits::default()
            })
    };
    let mut one = fresh();
    let mut out = Vec::new();
    for epoch in 0..epochs {
        let module = Value::object(vec![(
            "outputs".into(),
            Value::object(vec![("o".into(), Value::int(epoch as i64))]),
        )]);
        let mut own;
        let ev = if shared {
            one.begin_epoch();
            one.set_module_value("m1".into(), module);
            &one
        } else {
            own = fresh();
            own.set_module_value("m1".into(), module);
            &own
        };
        ev.begin_construct();
        // Every other epoch reads in the reverse order (other first reads, other nesting).
        let mut order: Vec<&Expr> = exprs.iter().collect();
        if epoch % 2 == 1 {
            order.reverse();
        }
        let values = order
            .into_iter()
            .map(|x| ev.eval(x, &Vec::new(), 0).to_json_lossy().to_string())
            .collect();
        let cut = ev.end_construct();
        out.push((values, cut, ev.take_diagnostics().len()));
    }
    (out, budget.used())
}

#[test]
fn epochs_of_one_evaluator_count_as_fresh_evaluators() {
    let source = "param p string = 'a'
var base = '${p}-x'
var list = [for i in range(0, 40): '${base}-${i}']
var fromModule = m1.outputs.o
var both = '${base}-${fromModule}'
var viaBoth = toUpper(both)
var cyc = cyc2
var cyc2 = cyc
module m1 'x.bicep' = {
  name: 'm1'
}
output o0 string = list[3]
output o1 string = viaBoth
output o2 int = length(list)
output o3 string = cyc
output o4 string = base
output o5 array = list
output o6 string = toUpper(toLower(toUpper(toLower(viaBoth))))
";
    let t = crate::syntax::lower(FileId(0), source, Language::Bicep);
    let exprs: Vec<Expr> = t.outputs.iter().map(|o| o.value.clone()).collect();
    assert_eq!(exprs.len(), 7);
    let deep = Limits::default().depth;
    let unlimited = run_epochs(&t, &exprs, 4, BudgetLimits::default(), deep, false);
    assert_eq!(
        run_epochs(&t, &exprs, 4, BudgetLimits::default(), deep, true),
        unlimited
    );
    // The module's value reaches the variables that read it, in every epoch.
    assert!(
        unlimited.0[3].0.iter().any(|v| v == "\"A-X-3\""),
        "{:?}",
        unlimited.0[3]
    );
    // Limits met at every point of the run cut the same values in both.
    let (work, bytes) = unlimited.1;
    for step in 1..=12 {
        let deployment = BudgetLimits {
            deployment_work: work * step / 12,
            deployment_bytes: bytes * step / 12,
            ..BudgetLimits::default()
        };
        let construct = BudgetLimits {
            construct_work: work * step / 48,
            construct_bytes: bytes * step / 48,
            ..BudgetLimits::default()
        };
        for limits in [deployment, construct] {
            assert_eq!(
                run_epochs(&t, &exprs, 4, limits, deep, true),
                run_epochs(&t, &exprs, 4, limits, deep, false),
                "{limits:?}"
            );
        }
    }
    // So does the nesting limit, met at other depths as the order of first reads changes.
    for depth in 2..12 {
        let limits = BudgetLimits::default();
        assert_eq!(
            run_epochs(&t, &exprs, 4, limits, depth, true),
            run_epochs(&t, &exprs, 4, limits, depth, false),
            "depth {depth}"
        );
    }
}
