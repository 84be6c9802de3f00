//! The Azure Verified Module for API Management (`avm/res/api-management/service`) and its `max` and
//! `v2max` end-to-end tests lower completely: no syntax error, the `service` resource and every
//! module call recovered, and the service's networking properties evaluate from the parameters a
//! test passes. Skips when ../shared is absent.

use azaudit::eval::{DeploymentContext, Evaluator};
use azaudit::expr::ExprKind;
use azaudit::model::{Language, Template};
use azaudit::source::FileId;
use azaudit::syntax::bicep::lower;
use azaudit::value::Value;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn module_dir() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/avm/avm/res/api-management/service"
    ));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        println!("skipped: {} is absent", dir.display());
        None
    }
}

fn lower_file(path: &Path) -> (String, Template) {
    let text = std::fs::read_to_string(path).unwrap();
    let t = lower(FileId(0), &text, Language::Bicep);
    assert!(
        t.syntax_errors.is_empty(),
        "{}: {:?}",
        path.display(),
        t.syntax_errors
    );
    (text, t)
}

/// Every expression of the template without an `ExprKind::Error`.
fn no_error_expressions(path: &Path, text: &str, t: &Template) {
    let mut all = Vec::new();
    all.extend(t.params.iter().filter_map(|p| p.default.as_ref()));
    all.extend(t.vars.iter().map(|v| &v.value));
    all.extend(t.outputs.iter().map(|o| &o.value));
    for r in &t.resources {
        all.push(&r.body);
        all.extend(r.name.iter().chain(&r.condition).chain(&r.scope));
    }
    for m in &t.modules {
        all.extend(m.params.iter().chain(&m.name).chain(&m.condition));
    }
    let mut errors = Vec::new();
    for e in all {
        e.walk(&mut |x| {
            if let ExprKind::Error(m) = &x.kind {
                let at = text.get(x.span.start as usize..x.span.end as usize);
                errors.push(format!("{m} at {at:?}"));
            }
        });
    }
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
}

#[test]
fn the_module_lowers_completely() {
    let Some(dir) = module_dir() else {
        return;
    };
    let path = dir.join("main.bicep");
    let (text, t) = lower_file(&path);
    no_error_expressions(&path, &text, &t);
    let service = t
        .resources
        .iter()
        .find(|r| r.symbol.as_deref() == Some("service"))
        .expect("the `service` resource");
    assert_eq!(service.type_name, "Microsoft.ApiManagement/service");
    assert_eq!(service.api_version.as_deref(), Some("2024-05-01"));
    let symbols: Vec<&str> = t
        .resources
        .iter()
        .filter_map(|r| r.symbol.as_deref())
        .collect();
    assert_eq!(
        symbols,
        [
            "service",
            "service_lock",
            "service_diagnosticSettings",
            "service_roleAssignments"
        ]
    );
    // The telemetry `Microsoft.Resources/deployments` resource is a nested deployment.
    assert_eq!(t.modules.len(), 16);
    assert!(t
        .modules
        .iter()
        .any(|m| m.symbol.as_deref() == Some("avmTelemetry") && m.declared_as_resource));
    assert!(t
        .modules
        .iter()
        .any(|m| m.source.as_deref() == Some("br/public:avm/res/network/private-endpoint:0.12.1")));

    // The networking properties the `max` test sets.
    let subnet = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet-apim";
    let params: HashMap<String, Value> = [
        ("name", Value::string("apim-max")),
        ("publisherEmail", Value::string("a@b.c")),
        ("publisherName", Value::string("p")),
        ("location", Value::string("westeurope")),
        ("virtualNetworkType", Value::string("External")),
        ("subnetResourceId", Value::string(subnet)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let ev = Evaluator::new(&t, params, DeploymentContext::default());
    let props = ev.eval(service.body.property("properties").unwrap(), &Vec::new(), 0);
    let get = |name: &str| props.get(name).and_then(Value::to_json);
    assert_eq!(get("virtualNetworkType"), Some(json!("External")));
    assert_eq!(
        get("virtualNetworkConfiguration"),
        Some(json!({ "subnetResourceId": subnet }))
    );
    assert_eq!(get("publicNetworkAccess"), Some(json!("Enabled")));
    assert_eq!(get("additionalLocations"), Some(json!([])));
    assert_eq!(get("hostnameConfigurations"), Some(json!(null)));
    assert_eq!(get("developerPortalStatus"), Some(json!("Disabled")));
    let sku = ev.eval(service.body.property("sku").unwrap(), &Vec::new(), 0);
    assert_eq!(
        sku.to_json(),
        Some(json!({ "name": "Premium", "capacity": 3 }))
    );
    // No lock given: the lock resource is not deployed.
    let lock = t
        .resources
        .iter()
        .find(|r| r.symbol.as_deref() == Some("service_lock"))
        .unwrap();
    let cond = ev.eval(lock.condition.as_ref().unwrap(), &Vec::new(), 0);
    assert_eq!(cond.to_json(), Some(json!(false)), "{cond}");
}

#[test]
fn the_max_and_v2max_tests_lower_completely() {
    let Some(dir) = module_dir() else {
        return;
    };
    for test in ["max", "v2max"] {
        let path = dir.join(format!("tests/e2e/{test}/main.test.bicep"));
        let (text, t) = lower_file(&path);
        no_error_expressions(&path, &text, &t);
        let call = t
            .modules
            .iter()
            .find(|m| m.symbol.as_deref() == Some("testDeployment"))
            .expect("the module call");
        assert_eq!(call.source.as_deref(), Some("../../../main.bicep"));
        assert!(call.loop_.is_some());
        let params = call.params.as_ref().expect("params");
        for key in ["name", "location", "publisherEmail", "publisherName"] {
            assert!(params.property(key).is_some(), "{test}: `{key}`");
        }
        if test == "max" {
            for key in [
                "virtualNetworkType",
                "subnetResourceId",
                "additionalLocations",
            ] {
                assert!(params.property(key).is_some(), "{test}: `{key}`");
            }
        }
        let dependencies = dir.join(format!("tests/e2e/{test}/dependencies.bicep"));
        let (text, t) = lower_file(&dependencies);
        no_error_expressions(&dependencies, &text, &t);
        assert!(!t.resources.is_empty());
    }
}
