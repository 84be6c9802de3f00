//! The policy engine over hand-built resource graphs: operators, count, functions, three-valued
//! logic with unknown values, links of existence effects, built-in definitions, diagnostics.

use azaudit::diagnostic::{Level, Severity};
use azaudit::graph::{Deployed, Resource, ResourceGraph};
use azaudit::policy::{evaluate, EvalOptions, Outcome, PolicySet};
use azaudit::source::{FileId, Span};
use azaudit::value::{Kind, Reason, Value};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

const SHARED_BUILTINS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/azure-policy/builtins"
);
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/policy-engine/builtins"
);

fn span(start: usize) -> Span {
    Span::new(FileId(0), start, start + 5)
}

fn resource(id: &str, type_name: &str, name: &str, body: serde_json::Value, at: usize) -> Resource {
    let mut body = Value::from_json(&body);
    body.set("type", Value::string(type_name));
    body.set("name", Value::string(name));
    Resource {
        symbol: Some(name.replace('/', "_")),
        head_span: Span::new(FileId(0), at, at + 10),
        ..Resource::declared(
            id,
            type_name,
            name,
            Span::new(FileId(0), at, at + 100),
            body,
        )
    }
}

/// Gives the value at `dotted` a span.
fn mark(r: &mut Resource, dotted: &str, s: Span) {
    let mut cur = &mut r.body;
    for seg in dotted.split('.') {
        cur = cur.get_mut(seg).expect("path exists");
    }
    cur.span = Some(s);
}

/// A graph with the reference edges the builder would add: a string anywhere in a body that
/// equals another resource's id (case-insensitively).
fn graph(resources: Vec<Resource>) -> ResourceGraph {
    fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match &v.kind {
            Kind::String(s) => out.push(s),
            Kind::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Kind::Object(o) => o.iter().for_each(|(_, x)| strings(x, out)),
            _ => {}
        }
    }
    let mut edges = Vec::new();
    for (from, r) in resources.iter().enumerate() {
        let mut found = Vec::new();
        strings(&r.body, &mut found);
        for s in found {
            if let Some(to) = resources.iter().position(|t| t.id.eq_ignore_ascii_case(s)) {
                if to != from {
                    edges.push(azaudit::graph::Edge {
                        from,
                        to,
                        kind: azaudit::graph::EdgeKind::Reference,
                        path: String::new(),
                        span: None,
                    });
                }
            }
        }
    }
    ResourceGraph {
        resources,
        edges,
        ..ResourceGraph::default()
    }
}

fn set_of(defs: &[serde_json::Value]) -> PolicySet {
    let mut set = PolicySet::new();
    for (i, d) in defs.iter().enumerate() {
        set.load_file(Path::new(&format!("p{i}.json")), &d.to_string())
            .expect("loads");
    }
    set
}

fn rule(name: &str, cond: serde_json::Value, effect: &str) -> serde_json::Value {
    json!({"name": name, "properties": {"displayName": format!("Policy {name}"), "policyRule": {"if": cond, "then": {"effect": effect}}}})
}

fn run(defs: &[serde_json::Value], resources: Vec<Resource>) -> Outcome {
    evaluate(&set_of(defs), &graph(resources), &EvalOptions::default())
}

fn fires(cond: serde_json::Value, body: serde_json::Value) -> bool {
    let out = run(
        &[rule("t", cond, "audit")],
        vec![resource("/r/x", "Contoso.Test/things", "x", body, 0)],
    );
    assert!(out.not_evaluated.is_empty(), "{:?}", out.not_evaluated);
    !out.diagnostics.is_empty()
}

#[test]
fn each_operator() {
    let b = json!({"properties": {"s": "Hello-World", "n": 5, "a": ["x", "Y"], "o": {"K": 1}, "ip": "10.1.2.3"}});
    let f = |op: &str, field: &str, v: serde_json::Value| {
        fires(json!({"field": field, op: v}), b.clone())
    };
    assert!(f("equals", "properties.s", json!("hello-world")));
    assert!(f("notEquals", "properties.s", json!("other")));
    assert!(f("like", "properties.s", json!("hello-*")));
    assert!(f("notLike", "properties.s", json!("*x*")));
    assert!(f("match", "properties.s", json!("?????-?????")));
    assert!(!f("match", "properties.s", json!("hello-?????")));
    assert!(f(
        "matchInsensitively",
        "properties.s",
        json!("hello-?????")
    ));
    assert!(f("notMatch", "properties.s", json!("#####")));
    assert!(f("notMatchInsensitively", "properties.s", json!("#####")));
    assert!(f("contains", "properties.s", json!("WORLD")));
    assert!(f("contains", "properties.a", json!("y")));
    assert!(f("notContains", "properties.s", json!("zzz")));
    assert!(f("in", "properties.s", json!(["a", "HELLO-world"])));
    assert!(f("notIn", "properties.s", json!(["a"])));
    assert!(f("containsKey", "properties.o", json!("k")));
    assert!(f("notContainsKey", "properties.o", json!("z")));
    assert!(f("less", "properties.n", json!(6)));
    assert!(f("lessOrEquals", "properties.n", json!(5)));
    assert!(f("greater", "properties.n", json!(4)));
    assert!(f("greaterOrEquals", "properties.n", json!(5)));
    assert!(f("exists", "properties.s", json!(true)));
    assert!(f("exists", "properties.missing", json!("false")));
    // Missing is not equal to anything but null, and `notEquals` holds for it.
    assert!(!f("equals", "properties.missing", json!("x")));
    assert!(f("notEquals", "properties.missing", json!("x")));
}

#[test]
fn fields_and_aliases() {
    let b = json!({"location": "westeurope", "tags": {"env": "prod", "cost center": "42"}, "sku": {"name": "Premium"}, "properties": {"virtualNetworkType": "None"}});
    let out = run(
        &[rule(
            "t",
            json!({"allOf": [
                {"field": "tags['cost center']", "equals": "42"},
                {"field": "tags.env", "equals": "PROD"},
                {"field": "location", "equals": "westeurope"},
                {"field": "name", "equals": "svc"},
                {"field": "fullName", "equals": "svc"},
                {"field": "Microsoft.ApiManagement/service/sku.name", "equals": "premium"},
                {"field": "Microsoft.ApiManagement/service/virtualNetworkType", "equals": "None"}
            ]}),
            "audit",
        )],
        vec![resource(
            "/a/svc",
            "Microsoft.ApiManagement/service",
            "svc",
            b,
            0,
        )],
    );
    assert_eq!(out.diagnostics.len(), 1, "{out:?}");
    // `name` is the last segment, `fullName` the whole name.
    let child = resource(
        "/v/s",
        "Microsoft.Network/virtualNetworks/subnets",
        "vnet/snet",
        json!({}),
        0,
    );
    let out = run(
        &[rule(
            "n",
            json!({"allOf": [{"field": "name", "equals": "snet"}, {"field": "fullName", "equals": "vnet/snet"}]}),
            "audit",
        )],
        vec![child],
    );
    assert_eq!(out.diagnostics.len(), 1);
}

#[test]
fn wildcards_and_count() {
    let b = json!({"properties": {"rules": [{"port": 22, "access": "Allow"}, {"port": 443, "access": "Deny"}], "empty": []}});
    // `[*]` outside count: every element must satisfy.
    assert!(!fires(
        json!({"field": "properties.rules[*].access", "equals": "Allow"}),
        b.clone()
    ));
    assert!(fires(
        json!({"field": "properties.rules[*].port", "greater": 10}),
        b.clone()
    ));
    assert!(fires(
        json!({"field": "properties.empty[*].x", "equals": "y"}),
        b.clone()
    ));
    assert!(!fires(
        json!({"field": "properties.missing[*].x", "equals": "y"}),
        b.clone()
    ));
    // Field count with where.
    assert!(fires(
        json!({"count": {"field": "properties.rules[*]", "where": {"field": "properties.rules[*].access", "equals": "allow"}}, "equals": 1}),
        b.clone()
    ));
    assert!(fires(
        json!({"count": {"field": "properties.rules[*]"}, "equals": 2}),
        b.clone()
    ));
    assert!(fires(
        json!({"count": {"field": "properties.missing[*]"}, "equals": 0}),
        b.clone()
    ));
    // Value count with name and current().
    assert!(fires(
        json!({"count": {"value": [22, 3389], "name": "p", "where": {"count": {"field": "properties.rules[*]", "where": {"field": "properties.rules[*].port", "equals": "[current('p')]"}}, "greater": 0}}, "equals": 1}),
        b.clone()
    ));
}

#[test]
fn template_functions() {
    let b = json!({"properties": {"prefix": "10.0.0.0/24", "s": "a,b,c"}});
    let v = |expr: &str, want: serde_json::Value| {
        fires(json!({"value": expr, "equals": want}), b.clone())
    };
    assert!(v("[concat('a', 'b', string(1))]", json!("ab1")));
    assert!(v("[toLower('ABC')]", json!("abc")));
    assert!(v("[toUpper('abc')]", json!("ABC")));
    assert!(v("[length(split(field('properties.s'), ','))]", json!(3)));
    assert!(v("[if(empty(''), 'yes', 'no')]", json!("yes")));
    assert!(v(
        "[ipRangeContains('10.0.0.0/16', field('properties.prefix'))]",
        json!(true)
    ));
    assert!(v("[first(skip(createArray(1, 2, 3), 1))]", json!(2)));
    assert!(v("[add(length('abcd'), 1)]", json!(5)));
    assert!(v("[substring('abcdef', 1, 3)]", json!("bcd")));
    assert!(v(
        "[dateTimeAdd('2024-01-31T00:00:00Z', 'P1D')]",
        json!("2024-02-01T00:00:00Z")
    ));
    // An unknown function is a load error that names the file.
    let mut set = PolicySet::new();
    let err = set
        .load_file(
            Path::new("bad.json"),
            &rule("b", json!({"value": "[guid('x')]", "equals": 1}), "audit").to_string(),
        )
        .unwrap_err();
    assert!(err.to_string().starts_with("bad.json:"), "{err}");
    assert!(err.message.contains("guid"), "{err}");
}

#[test]
fn broken_definitions_report_file_and_line() {
    let dir = std::env::temp_dir().join(format!("azaudit-policy-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.json"),
        "{\n  \"properties\": {\n    \"policyRule\": {\n  }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("good.json"),
        rule("good", json!({"field": "type", "equals": "x"}), "deny").to_string(),
    )
    .unwrap();
    let mut set = PolicySet::new();
    let errors = set.load_dir(&dir);
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert!(e.path.ends_with("bad.json"));
    assert_eq!(e.line, 5, "{e}");
    assert_eq!(set.policies().len(), 1);
    assert_eq!(set.policies()[0].level, Level::Error);
    let _ = std::fs::remove_dir_all(&dir);
}

fn unknown_body(reason: Reason) -> Value {
    Value::unknown(reason)
}

#[test]
fn unknown_values_are_three_valued() {
    let mut r = resource(
        "/r/x",
        "Contoso.Test/things",
        "x",
        json!({"properties": {"a": "yes"}}),
        0,
    );
    let props = r.body.get_mut("properties").unwrap();
    props.set(
        "sku",
        unknown_body(Reason::Parameter {
            name: "skuName".into(),
        }),
    );
    let cases = [
        // allOf with a false member is false even with an unknown member.
        (
            json!({"allOf": [{"field": "properties.sku", "equals": "x"}, {"field": "properties.a", "equals": "no"}]}),
            Some(false),
        ),
        // anyOf with a true member is true.
        (
            json!({"anyOf": [{"field": "properties.sku", "equals": "x"}, {"field": "properties.a", "equals": "yes"}]}),
            Some(true),
        ),
        // Otherwise the outcome depends on the unknown.
        (
            json!({"allOf": [{"field": "properties.sku", "equals": "x"}, {"field": "properties.a", "equals": "yes"}]}),
            None,
        ),
        (
            json!({"not": {"field": "properties.sku", "equals": "x"}}),
            None,
        ),
        (
            json!({"value": "[concat(field('properties.sku'), 'x')]", "equals": "x"}),
            None,
        ),
        (
            json!({"count": {"value": "[createArray(field('properties.sku'))]", "where": {"value": "[current()]", "equals": "a"}}, "greater": 5}),
            Some(false),
        ),
    ];
    for (cond, want) in cases {
        let out = run(&[rule("t", cond.clone(), "audit")], vec![r.clone()]);
        match want {
            Some(fire) => {
                assert!(out.not_evaluated.is_empty(), "{cond}: {out:?}");
                assert_eq!(!out.diagnostics.is_empty(), fire, "{cond}");
            }
            None => {
                assert!(out.diagnostics.is_empty(), "{cond}");
                assert_eq!(out.not_evaluated.len(), 1, "{cond}");
                assert_eq!(
                    out.not_evaluated[0].reason,
                    "depends on parameter 'skuName', which has no value"
                );
            }
        }
    }
}

fn link_policy() -> serde_json::Value {
    json!({
        "name": "apim-subnet-nsg",
        "properties": {
            "displayName": "API Management subnets should have a network security group",
            "metadata": {"azaudit": {"message": "the subnet '{linked.name}' of '{resource.name}' has no network security group", "help": "associate an NSG"}},
            "policyRule": {
                "if": {"allOf": [
                    {"field": "type", "equals": "Microsoft.ApiManagement/service"},
                    {"field": "Microsoft.ApiManagement/service/virtualNetworkConfiguration.subnetResourceId", "exists": true}
                ]},
                "then": {"effect": "auditIfNotExists", "details": {
                    "type": "Microsoft.Network/virtualNetworks/subnets",
                    "resourceId": "[field('Microsoft.ApiManagement/service/virtualNetworkConfiguration.subnetResourceId')]",
                    "existenceCondition": {"field": "Microsoft.Network/virtualNetworks/subnets/networkSecurityGroup.id", "exists": true}
                }}
            }
        }
    })
}

const SUBNET_ID: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet";

fn apim(subnet: Value) -> Resource {
    let mut r = resource(
        "/apim",
        "Microsoft.ApiManagement/service",
        "apim",
        json!({"sku": {"name": "Premium"}, "properties": {"virtualNetworkType": "External", "virtualNetworkConfiguration": {}}}),
        0,
    );
    let cfg = r
        .body
        .get_mut("properties")
        .unwrap()
        .get_mut("virtualNetworkConfiguration")
        .unwrap();
    cfg.set("subnetResourceId", subnet.with_span(span(40)));
    r
}

fn subnet(nsg: bool) -> Resource {
    let body = if nsg {
        json!({"properties": {"addressPrefix": "10.0.0.0/24", "networkSecurityGroup": {"id": "/nsg"}}})
    } else {
        json!({"properties": {"addressPrefix": "10.0.0.0/24"}})
    };
    resource(
        SUBNET_ID,
        "Microsoft.Network/virtualNetworks/subnets",
        "vnet/snet",
        body,
        200,
    )
}

#[test]
fn links_to_the_resource_an_id_names() {
    let defs = [link_policy()];
    // Linked subnet with an NSG: compliant.
    let out = run(&defs, vec![apim(Value::string(SUBNET_ID)), subnet(true)]);
    assert!(
        out.diagnostics.is_empty() && out.not_evaluated.is_empty(),
        "{out:?}"
    );
    // Without an NSG: a warning at the subnet (the NSG is missing, so its declaration), with the
    // subnetResourceId value that links to it as a related location.
    let out = run(
        &defs,
        vec![apim(Value::string(SUBNET_ID.to_uppercase())), subnet(false)],
    );
    assert_eq!(out.diagnostics.len(), 1, "{out:?}");
    let d = &out.diagnostics[0];
    assert_eq!(d.code, "apim-subnet-nsg");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.span.start, 200, "at the subnet's declaration");
    assert_eq!(
        d.message,
        "the subnet 'vnet/snet' of 'apim' has no network security group"
    );
    assert_eq!(d.help.as_deref(), Some("associate an NSG"));
    assert!(
        d.related.iter().any(|r| r.span == span(40)),
        "{:?}",
        d.related
    );
    // A subnet outside the audited templates: not evaluated, with the reason.
    let out = run(&defs, vec![apim(Value::string(SUBNET_ID))]);
    assert!(out.diagnostics.is_empty());
    assert_eq!(out.not_evaluated.len(), 1);
    assert_eq!(
        out.not_evaluated[0].reason,
        format!("the subnet '{SUBNET_ID}' is not declared in the audited templates")
    );
    // An id that depends on a parameter: not evaluated.
    let out = run(
        &defs,
        vec![
            apim(Value::unknown(Reason::Parameter {
                name: "subnetId".into(),
            })),
            subnet(false),
        ],
    );
    assert_eq!(out.not_evaluated.len(), 1, "{out:?}");
    assert!(
        out.not_evaluated[0].reason.contains("parameter 'subnetId'"),
        "{:?}",
        out.not_evaluated
    );
    // An existing subnet (deployed elsewhere) whose body is unknown: not evaluated.
    let mut ext = subnet(false);
    ext.existing = true;
    ext.body = Value::unknown(Reason::Existing {
        symbol: "snet".into(),
    });
    let out = run(&defs, vec![apim(Value::string(SUBNET_ID)), ext]);
    assert!(out.diagnostics.is_empty(), "{out:?}");
    assert_eq!(out.not_evaluated.len(), 1);
}

#[test]
fn related_resources_by_type_and_name() {
    let def = json!({"name": "diag", "properties": {"policyRule": {
        "if": {"field": "type", "equals": "Contoso.Test/servers"},
        "then": {"effect": "AuditIfNotExists", "details": {"type": "Contoso.Test/servers/settings", "name": "default",
            "existenceCondition": {"field": "Contoso.Test/servers/settings/state", "equals": "Enabled"}}}}}});
    let server = resource("/s", "Contoso.Test/servers", "srv", json!({}), 0);
    let mut setting = resource(
        "/s/settings/default",
        "Contoso.Test/servers/settings",
        "srv/default",
        json!({"properties": {"state": "Enabled"}}),
        50,
    );
    setting.parent = Some(0);
    assert!(run(
        std::slice::from_ref(&def),
        vec![server.clone(), setting.clone()]
    )
    .diagnostics
    .is_empty());
    let mut off = setting.clone();
    off.body = Value::from_json(&json!({"properties": {"state": "Disabled"}}));
    assert_eq!(
        run(std::slice::from_ref(&def), vec![server.clone(), off])
            .diagnostics
            .len(),
        1
    );
    // No related resource at all: the effect applies.
    assert_eq!(run(&[def], vec![server]).diagnostics.len(), 1);
}

#[test]
fn levels_parameters_and_existing_resources() {
    let def = json!({"name": "sku", "properties": {
        "parameters": {"effect": {"type": "String", "defaultValue": "Deny", "allowedValues": ["Audit", "Deny", "Disabled"]},
                       "skus": {"type": "Array", "defaultValue": ["Basic"]}},
        "policyRule": {"if": {"field": "sku.name", "in": "[parameters('skus')]"}, "then": {"effect": "[parameters('effect')]"}}}});
    let set = set_of(&[def]);
    assert_eq!(set.policies()[0].level, Level::Error);
    let r = resource(
        "/x",
        "Contoso.Test/things",
        "x",
        json!({"sku": {"name": "basic"}}),
        0,
    );
    let g = graph(vec![r.clone()]);
    let out = evaluate(&set, &g, &EvalOptions::default());
    assert_eq!(out.diagnostics[0].severity, Severity::Error);
    let mut opts = EvalOptions::default();
    opts.parameters.insert(
        "sku".into(),
        HashMap::from([("effect".to_string(), json!("Audit"))]),
    );
    assert_eq!(
        evaluate(&set, &g, &opts).diagnostics[0].severity,
        Severity::Warning
    );
    opts.parameters.insert(
        "sku".into(),
        HashMap::from([("effect".to_string(), json!("Disabled"))]),
    );
    assert!(evaluate(&set, &g, &opts).diagnostics.is_empty());
    let mut opts = EvalOptions::default();
    opts.levels.insert("sku".into(), Level::Info);
    assert_eq!(
        evaluate(&set, &g, &opts).diagnostics[0].severity,
        Severity::Info
    );
    opts.levels.insert("sku".into(), Level::Off);
    assert!(evaluate(&set, &g, &opts).diagnostics.is_empty());
    // Existing resources are not audited; maybe-deployed ones are.
    let mut e = r.clone();
    e.existing = true;
    assert!(evaluate(&set, &graph(vec![e]), &EvalOptions::default())
        .diagnostics
        .is_empty());
    let mut m = r;
    m.deployed = Deployed::Maybe(Reason::Parameter {
        name: "deploy".into(),
    });
    assert_eq!(
        evaluate(&set, &graph(vec![m]), &EvalOptions::default())
            .diagnostics
            .len(),
        1
    );
}

#[test]
fn diagnostics_point_at_the_deciding_property_and_are_sorted() {
    let def = json!({"name": "vnet", "properties": {"displayName": "API Management services should use a virtual network",
        "policyRule": {"if": {"allOf": [
            {"field": "type", "equals": "Microsoft.ApiManagement/service"},
            {"field": "Microsoft.ApiManagement/service/virtualNetworkType", "equals": "None"}]},
        "then": {"effect": "audit"}}}});
    let mut a = resource(
        "/a",
        "Microsoft.ApiManagement/service",
        "a",
        json!({"properties": {"virtualNetworkType": "None"}}),
        500,
    );
    mark(&mut a, "properties.virtualNetworkType", span(520));
    let b = resource(
        "/b",
        "Microsoft.ApiManagement/service",
        "b",
        json!({"properties": {"virtualNetworkType": "None"}}),
        100,
    );
    let out = run(&[def], vec![a, b]);
    assert_eq!(out.diagnostics.len(), 2);
    // Sorted by position: b (no span on the value: its head) before a (the value's span).
    assert_eq!(out.diagnostics[0].span, Span::new(FileId(0), 100, 110));
    assert_eq!(out.diagnostics[1].span, span(520));
    assert_eq!(
        out.diagnostics[1].message,
        "API Management services should use a virtual network"
    );
}

fn premium_apim_without_vnet() -> Resource {
    resource(
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/apim",
        "Microsoft.ApiManagement/service",
        "apim",
        json!({"location": "westeurope", "sku": {"name": "Premium", "capacity": 1}, "properties": {"publisherEmail": "a@b.c", "publisherName": "x"}}),
        0,
    )
}

#[test]
fn vnet_enabled_builtin_fires_on_premium_without_vnet() {
    let mut set = PolicySet::new();
    let errors = set.load_dir(Path::new(FIXTURES));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.policies().len(), 3);
    let mut apim = premium_apim_without_vnet();
    mark(&mut apim, "sku.name", span(30));
    let out = evaluate(&set, &graph(vec![apim]), &EvalOptions::default());
    let vnet = "ef619a2c-cc4d-4d03-b2ba-8c94a834d85b";
    // Decided by the missing virtualNetworkType: the diagnostic is at the declaration.
    let d = out.diagnostics.iter().find(|d| d.code == vnet).unwrap();
    assert_eq!(d.span, Span::new(FileId(0), 0, 10));
    assert_eq!(d.severity, Severity::Warning);
    assert!(
        out.diagnostics.iter().any(|d| d.code == vnet
            && d.message == "API Management services should use a virtual network"),
        "{out:?}"
    );
    // The allowed-SKU policy accepts Premium.
    assert!(!out
        .diagnostics
        .iter()
        .any(|d| d.code == "73ef9241-5d81-4cd4-b483-8443d1730fe5"));
    // With a VNet, the policy is satisfied.
    let mut with_vnet = premium_apim_without_vnet();
    with_vnet
        .body
        .get_mut("properties")
        .unwrap()
        .set("virtualNetworkType", Value::string("External"));
    let out = evaluate(&set, &graph(vec![with_vnet]), &EvalOptions::default());
    assert!(!out.diagnostics.iter().any(|d| d.code == vnet), "{out:?}");
}

#[test]
fn every_shared_builtin_loads() {
    let dir = Path::new(SHARED_BUILTINS);
    if !dir.exists() {
        eprintln!("skipping: {SHARED_BUILTINS} is absent");
        return;
    }
    let mut set = PolicySet::new();
    let errors = set.load_dir(dir);
    assert!(errors.is_empty(), "{errors:#?}");
    let files = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(set.policies().len(), files);
    // And evaluate them all over a small graph without errors of their own.
    let out = evaluate(
        &set,
        &graph(vec![premium_apim_without_vnet(), subnet(false)]),
        &EvalOptions::default(),
    );
    for n in &out.not_evaluated {
        assert!(
            n.reason.contains("depends on")
                || n.reason.contains("declared")
                // Defender for Cloud assessments (`auditIfNotExists` on
                // `Microsoft.Security/assessments`) are known only after deployment.
                || n.reason.contains("written by Microsoft Defender for Cloud"),
            "{n:?}"
        );
    }
}

#[test]
fn repository_builtins_load() {
    let set = PolicySet::builtin();
    let on_disk = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"));
    let mut check = PolicySet::new();
    let errors = check.load_dir(on_disk);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(set.policies().len(), check.policies().len());
}

#[test]
fn compact_alias_table_matches_the_full_table() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/azure-policy/aliases.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {path} is absent");
        return;
    };
    let full: serde_json::Value = serde_json::from_str(&text).unwrap();
    let table = azaudit::policy::AliasTable::builtin();
    let mut n = 0;
    for (rtype, aliases) in full.as_object().unwrap() {
        for (alias, want) in aliases.as_object().unwrap() {
            // The 30 aliases not named after their type (`Microsoft.Compute/imageId`) are listed
            // under several types with different paths: kept per type.
            if !alias
                .to_lowercase()
                .starts_with(&format!("{}/", rtype.to_lowercase()))
            {
                let by_type = table.per_type(alias).unwrap();
                let want = want.as_str().unwrap();
                assert!(
                    by_type
                        .iter()
                        .any(|(t, p)| t.eq_ignore_ascii_case(rtype) && p.eq_ignore_ascii_case(want)),
                    "{alias} for {rtype}"
                );
                n += 1;
                continue;
            }
            let got = table
                .lookup(alias)
                .unwrap_or_else(|| panic!("{alias} missing"));
            assert!(
                got.eq_ignore_ascii_case(want.as_str().unwrap()),
                "{alias}: {got} != {want}"
            );
            n += 1;
        }
    }
    assert_eq!(n, 79_549);
    assert!(table.len() >= 79_000);
}
