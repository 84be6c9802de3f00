//! A small timing of policy evaluation: the alias table's first use, building the built-in set,
//! loading definitions, and deciding every (policy, resource) pair of a generated graph.
//! `cargo bench --bench policy`.

use azaudit::graph::{Resource, ResourceGraph};
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
    let id = format!("/subscriptions/s/resourceGroups/g/providers/{type_name}/{name}");
    Resource {
        head_span: Span::new(FileId(0), i * 100, i * 100 + 10),
        ..Resource::declared(
            &id,
            type_name,
            &name,
            Span::new(FileId(0), i * 100, i * 100 + 90),
            body,
        )
    }
}

fn main() {
    let t = Instant::now();
    let n = AliasTable::builtin().len();
    eprintln!("alias table: {n} aliases parsed in {:?}", t.elapsed());
    // What every `check` builds before deciding anything (on a thread of its own).
    let mut best = f64::MAX;
    let mut compiled = 0;
    for _ in 0..20 {
        let t = Instant::now();
        compiled = PolicySet::builtin().policies().len();
        best = best.min(t.elapsed().as_secs_f64());
    }
    eprintln!(
        "built-in set: {compiled} policies compiled in {:.2} ms (best of 20)",
        best * 1000.0
    );

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

    quickstart(&set);
}

/// The graph of ../shared/corpus/quickstart with every Azure built-in and every azaudit policy:
/// (policy × resource) evaluations per second on one thread and on two.
fn quickstart(builtins: &PolicySet) {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/quickstart"
    ));
    if !root.exists() {
        eprintln!("quickstart graph skipped: {} is absent", root.display());
        return;
    }
    let mut paths = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                paths.push(p);
            }
        }
    }
    paths.sort();
    let mut templates = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(p) else {
            continue;
        };
        let Some(language) = azaudit::files::language_of(p, &text) else {
            continue;
        };
        templates.push(azaudit::syntax::lower(
            FileId(u32::try_from(i).unwrap_or(0)),
            &text,
            language,
        ));
    }
    let deploys: Vec<azaudit::graph::builder::DeploymentInput<'_>> = templates
        .iter()
        .map(|t| azaudit::graph::builder::DeploymentInput {
            template: t,
            params: std::collections::HashMap::new(),
            deployment: azaudit::eval::DeploymentContext::default(),
        })
        .collect();
    let graph = azaudit::graph::builder::build(&deploys);
    let mut set = PolicySet::builtin();
    for p in builtins.policies() {
        let _ = set.load_file(
            &p.path,
            &std::fs::read_to_string(&p.path).unwrap_or_default(),
        );
    }
    let audited = graph.resources.iter().filter(|r| !r.existing).count();
    let pairs = set.policies().len() * audited;
    for threads in [1, 2] {
        let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(threads).build() else {
            continue;
        };
        let mut best = f64::MAX;
        let mut found = (0, 0);
        for _ in 0..5 {
            let t = Instant::now();
            let out = pool.install(|| evaluate(&set, &graph, &EvalOptions::default()));
            best = best.min(t.elapsed().as_secs_f64());
            found = (out.diagnostics.len(), out.not_evaluated.len());
        }
        eprintln!(
            "quickstart graph: {} policies x {audited} resources = {pairs} pairs, {threads} thread(s): {:.1} ms, {:.0} evaluations/s ({} diagnostics, {} not evaluated)",
            set.policies().len(),
            best * 1000.0,
            pairs as f64 / best,
            found.0,
            found.1
        );
    }
}
