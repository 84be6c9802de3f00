//! The resource graph of each fixture in fixtures/graph, as a compact text snapshot: resources
//! with their ids and lines, edges, unresolved references and diagnostics.

// Helpers of a test binary: a failure here is a failed test.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use azaudit::analysis::{check, Disk, Input, Options, Report};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn analyse(name: &str) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/graph")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
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
    // Policy findings are the fixtures' business (tests/policy_fixtures.rs); here only what the
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

#[test]
fn apim_links_to_its_subnet_and_the_subnet_to_its_nsg() {
    for file in [
        "inline-subnet.bicep",
        "child-subnet.bicep",
        "inline-subnet.json",
        "symbolic.json",
    ] {
        let report = analyse(file);
        let g = &report.graph;
        let apim = g
            .resources
            .iter()
            .position(|r| r.type_name == "Microsoft.ApiManagement/service")
            .expect("an API Management instance");
        let edge = g
            .edges_from(apim)
            .find(|e| e.path == "properties.virtualNetworkConfiguration.subnetResourceId")
            .unwrap_or_else(|| {
                panic!(
                    "{file}: API Management is not linked to its subnet\n{}",
                    render(&report)
                )
            });
        let subnet = &g.resources[edge.to];
        assert_eq!(
            subnet.type_name, "Microsoft.Network/virtualNetworks/subnets",
            "{file}"
        );
    }
}
