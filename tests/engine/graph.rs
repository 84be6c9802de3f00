//! The resource graph of each fixture in fixtures/graph, as a compact text snapshot: resources
//! with their ids and lines, edges, unresolved references and diagnostics.

use crate::common;
use azaudit::engine::{check, Disk, Input, Options, Report};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn analyse(name: &str) -> Report {
    let text = common::read_fixture(&format!("graph/{name}"));
    let input = Input {
        path: PathBuf::from(name),
        text: text.into(),
    };
    check(&[input], &Disk, &Options::default())
}

/// Renders the graph: one line per resource, edge, unresolved reference and diagnostic.
fn render(report: &Report) -> String {
    let g = &report.graph;
    let line = |span: azaudit::source::Span| {
        report
            .sources
            .get(span.file)
            .map(|f| f.line_col(span.start).line)
            .unwrap_or(0)
    };
    let mut out = String::new();
    for r in &g.resources {
        let _ = writeln!(
            out,
            "resource {} '{}' line {}{}{}\n  id {}",
            r.type_name,
            r.name,
            line(r.span),
            if r.existing { " existing" } else { "" },
            match &r.deployed {
                azaudit::graph::Deployed::Yes => String::new(),
                azaudit::graph::Deployed::Maybe(why) => format!(" maybe ({why})"),
            },
            r.id
        );
    }
    for e in &g.edges {
        let name = |i: usize| {
            g.resources
                .get(i)
                .map(|r| r.name.clone())
                .unwrap_or_default()
        };
        let path = if e.path.is_empty() {
            String::new()
        } else {
            format!(" {}", e.path)
        };
        let _ = writeln!(
            out,
            "edge {} -> {} {:?}{path}",
            name(e.from),
            name(e.to),
            e.kind
        );
    }
    for u in &g.unresolved {
        let name = g
            .resources
            .get(u.from)
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "unresolved {} {} = {} ({})",
            name, u.path, u.value, u.reason
        );
    }
    // Policy findings are the fixtures' business (tests/engine/policy_fixtures.rs); here only what the
    // graph builder itself reports.
    for d in report
        .diagnostics
        .iter()
        .filter(|d| !d.code.starts_with("apim-"))
    {
        let _ = writeln!(
            out,
            "diagnostic {} line {}: {}",
            d.code,
            line(d.span),
            d.message
        );
    }
    out
}

macro_rules! graph_snapshot {
    ($test:ident, $file:expr) => {
        #[test]
        fn $test() {
            let report = analyse($file);
            insta::assert_snapshot!(stringify!($test), render(&report));
        }
    };
}

graph_snapshot!(bicep_inline_subnet, "inline-subnet.bicep");
graph_snapshot!(bicep_child_subnet, "child-subnet.bicep");
graph_snapshot!(bicep_loops_conditions, "loops-conditions.bicep");
graph_snapshot!(bicep_existing_and_unknown, "existing-and-unknown.bicep");
graph_snapshot!(bicep_dns_endpoint, "dns-endpoint.bicep");
graph_snapshot!(bicep_syntax_error, "syntax-error.bicep");
graph_snapshot!(arm_inline_subnet, "inline-subnet.json");
graph_snapshot!(arm_copy_nested, "copy-nested.json");
graph_snapshot!(arm_symbolic, "symbolic.json");

/// The resource the (first) API Management instance's subnet reference links to.
fn apim_subnet(report: &Report, what: &str) -> usize {
    let g = &report.graph;
    let apim = g
        .resources
        .iter()
        .position(|r| r.type_name == "Microsoft.ApiManagement/service")
        .expect("an API Management instance");
    g.edges_from(apim)
        .find(|e| e.path == "properties.virtualNetworkConfiguration.subnetResourceId")
        .unwrap_or_else(|| {
            panic!(
                "{what}: API Management is not linked to its subnet\n{}",
                render(report)
            )
        })
        .to
}

#[test]
fn apim_links_to_its_subnet_and_the_subnet_to_its_nsg() {
    for file in [
        "inline-subnet.bicep",
        "child-subnet.bicep",
        "inline-subnet.json",
        "symbolic.json",
    ] {
        let report = analyse(file);
        let subnet = &report.graph.resources[apim_subnet(&report, file)];
        assert_eq!(
            subnet.type_name, "Microsoft.Network/virtualNetworks/subnets",
            "{file}"
        );
    }
}

fn analyse_dir(dir: &Path) -> Report {
    let mut inputs = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                if azaudit::files::language_of(&p, &text).is_some() {
                    inputs.push(Input {
                        path: p,
                        text: text.into(),
                    });
                }
            }
        }
    }
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    check(&inputs, &Disk, &Options::default())
}

/// An `existing` subnet stands for another template's declaration only when the id's open parts
/// are the deployment's scope: two templates' `{vnetName}` are two parameters.
#[test]
fn an_existing_declaration_stands_for_another_deployments_only_within_the_scope() {
    for (folder, declared_elsewhere) in [("parameter", false), ("scoped", true)] {
        let dir = common::fixture(&format!("graph/existing-across/{folder}"));
        let report = analyse_dir(&dir);
        let subnet = &report.graph.resources[apim_subnet(&report, folder)];
        let file = report.sources.get(subnet.file).unwrap();
        assert_eq!(
            (!subnet.existing, file.path.ends_with("network.bicep")),
            (declared_elsewhere, declared_elsewhere),
            "{folder}\n{}",
            render(&report)
        );
    }
}

/// Every API Management instance of the scenarios links to its subnet, and every subnet that
/// declares a network security group links to it.
#[test]
fn scenarios_link_api_management_to_subnets_and_subnets_to_nsgs() {
    let Some(shared) = common::shared("") else {
        return;
    };
    let cases = shared.join("scenarios/cases");
    let mut instances = 0;
    for case in std::fs::read_dir(&cases).unwrap().flatten() {
        let report = analyse_dir(&case.path());
        let g = &report.graph;
        for (i, r) in g.resources.iter().enumerate() {
            let has_subnet_id = r
                .body
                .pointer("properties.virtualNetworkConfiguration.subnetResourceId")
                .is_some_and(|v| v.as_text().is_some());
            if r.type_name == "Microsoft.ApiManagement/service" && has_subnet_id {
                instances += 1;
                let to_subnet = g.edges_from(i).any(|e| {
                    e.path == "properties.virtualNetworkConfiguration.subnetResourceId"
                        && g.resources[e.to].type_name
                            == "Microsoft.Network/virtualNetworks/subnets"
                });
                assert!(
                    to_subnet,
                    "{}: '{}' is not linked to its subnet",
                    case.path().display(),
                    r.name
                );
            }
            if r.type_name == "Microsoft.Network/virtualNetworks/subnets"
                && r.body
                    .pointer("properties.networkSecurityGroup.id")
                    .is_some()
            {
                let to_nsg = g.edges_from(i).any(|e| {
                    e.path == "properties.networkSecurityGroup.id"
                        && g.resources[e.to].type_name == "Microsoft.Network/networkSecurityGroups"
                });
                assert!(
                    to_nsg,
                    "{}: subnet '{}' is not linked to its NSG",
                    case.path().display(),
                    r.name
                );
            }
        }
    }
    assert!(
        instances >= 4,
        "only {instances} instances with a subnet in the scenarios"
    );
}

/// The whole corpus goes through the graph builder: no panic, no hang; prints what it found.
#[test]
fn corpus_builds_graphs() {
    let Some(shared) = common::shared("") else {
        return;
    };
    let started = std::time::Instant::now();
    let report = analyse_dir(&shared.join("corpus"));
    let syntax = report
        .diagnostics
        .iter()
        .filter(|d| d.code == "syntax-error")
        .count();
    let files_with_errors: std::collections::BTreeSet<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == "syntax-error")
        .map(|d| d.span.file)
        .collect();
    eprintln!(
        "corpus: {} files, {} resources, {} edges, {} unresolved references, {} syntax errors in {} files, {:.1} s",
        report.files,
        report.graph.resources.len(),
        report.graph.edges.len(),
        report.graph.unresolved.len(),
        syntax,
        files_with_errors.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(report.files > 7000);
    assert!(report.graph.resources.len() > 15000);
}
