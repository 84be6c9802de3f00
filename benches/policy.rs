//! A small timing of policy evaluation: the alias table's first use, loading definitions, and
//! deciding every (policy, resource) pair of a generated graph. `cargo bench --bench policy`.

use azaudit::graph::{Deployed, Origin, Resource, ResourceGraph};
use azaudit::policy::{evaluate, AliasTable, EvalOptions, PolicySet};
use azaudit::source::{FileId, Span};
use azaudit::value::Value;
use std::path::Path;
use std::time::Instant;

fn resource(i: usize) -> Resource {
    let (type_name, body) = match i % 3 {
        0 => (
            "Microsoft.ApiManagement/service",
            serde_json::json!({"sku": {"name": "Premium", "capacity": 1}, "properties": {"virtualNetworkType": "None"}}),
        ),
        1 => (
            "Microsoft.Network/virtualNetworks/subnets",
            serde_json::json!({"properties": {"addressPrefix": "10.0.0.0/24", "delegations": []}}),
        ),
        _ => (
            "Microsoft.Network/networkSecurityGroups/securityRules",
            serde_json::json!({"properties": {"access": "Allow", "direction": "Inbound", "destinationPortRange": "3380-3390", "sourceAddressPrefix": "*"}}),
        ),
    };
    let name = format!("r{i}");
    let mut body = Value::from_json(&body);
    body.set("type", Value::string(type_name));
    body.set("name", Value::string(&name));
    Resource {
        id: format!("/subscriptions/s/resourceGroups/g/providers/{type_name}/{name}"),
        type_name: type_name.to_string(),
        api_version: None,
        name,
        symbol: None,
        file: FileId(0),
        span: Span::new(FileId(0), i * 100, i * 100 + 90),
        head_span: Span::new(FileId(0), i * 100, i * 100 + 10),
        existing: false,
        body,
        parent: None,
        origin: Origin::Declared,
        deployed: Deployed::Yes,
        suppress: Vec::new(),
        module_chain: Vec::new(),
    }
}

fn main() {
    let t = Instant::now();
    let n = AliasTable::builtin().len();
    eprintln!("alias table: {n} aliases parsed in {:?}", t.elapsed());

    let shared = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/azure-policy/builtins"
    ));
    let dir = if shared.exists() {
        shared.to_path_buf()
    } else {
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/policy-engine/builtins"
        ))
        .to_path_buf()
    };
    let t = Instant::now();
    let mut set = PolicySet::new();
    let errors = set.load_dir(&dir);
    eprintln!(
        "loaded {} definitions ({} errors) in {:?}",
        set.policies().len(),
        errors.len(),
        t.elapsed()
    );

    let graph = ResourceGraph {
        resources: (0..3000).map(resource).collect(),
        ..ResourceGraph::default()
    };
    for _ in 0..3 {
        let t = Instant::now();
        let out = evaluate(&set, &graph, &EvalOptions::default());
        let pairs = set.policies().len() * graph.resources.len();
        eprintln!(
            "evaluated {pairs} pairs in {:?}: {} diagnostics, {} not evaluated",
            t.elapsed(),
            out.diagnostics.len(),
            out.not_evaluated.len()
        );
    }
}
