//! Snapshot tests of every output format on one hand-built report: a Bicep file and an ARM JSON
//! file, errors, warnings and infos, related locations, undecided policies and a small graph.

use azaudit::diagnostic::{Diagnostic, NotEvaluated, ResourceRef, Severity};
use azaudit::graph::{Edge, EdgeKind, Resource, ResourceGraph, Unresolved};
use azaudit::output::graph::GraphFormat;
use azaudit::output::{self, Format, RenderOptions, RuleInfo};
use azaudit::report::Report;
use azaudit::source::{FileId, Span};
use azaudit::value::Value;
use std::path::Path;

const BICEP: &str = "param location string = resourceGroup().location

resource vnet 'Microsoft.Network/virtualNetworks@2023-05-01' existing = {
  name: 'vnet-hub'
}

resource apim 'Microsoft.ApiManagement/service@2023-05-01' = {
  name: 'apim-contoso'
  location: location
  properties: {
    virtualNetworkType: 'Internal'
    publicNetworkAccess: 'Enabled'
  }
}
";

const ARM: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    {
      "type": "Microsoft.Network/virtualNetworks/subnets",
      "apiVersion": "2023-05-01",
      "name": "vnet-hub/snet-apim",
      "properties": { "addressPrefix": "10.0.1.0/24" }
    }
  ]
}
"#;

/// The byte span of the `nth` occurrence (0-based) of `needle` in `text`, in `file`.
fn find(file: FileId, text: &str, needle: &str, nth: usize) -> Span {
    let start = text
        .match_indices(needle)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("`{needle}` not found"));
    Span::new(file, start, start + needle.len())
}

fn resource(
    id: &str,
    type_name: &str,
    name: &str,
    symbol: Option<&str>,
    span: Span,
    existing: bool,
) -> Resource {
    let body = Value::object(vec![("location".into(), Value::string("westeurope"))]);
    Resource {
        api_version: Some("2023-05-01".into()),
        symbol: symbol.map(Into::into),
        existing,
        ..Resource::declared(id, type_name, name, span, body)
    }
}

fn report() -> Report {
    let mut report = Report::default();
    let bicep = report.sources.add("/repo/infra/main.bicep".into(), BICEP);
    let arm = report
        .sources
        .add("/repo/infra/network/subnet.json".into(), ARM);
    report.files = 2;
    report.deployments = 2;

    let apim_ref = ResourceRef {
        type_name: "Microsoft.ApiManagement/service".into(),
        name: "apim-contoso".into(),
        symbol: Some("apim".into()),
    };
    let subnet_ref = ResourceRef {
        type_name: "Microsoft.Network/virtualNetworks/subnets".into(),
        name: "vnet-hub/snet-apim".into(),
        symbol: None,
    };

    let mut nsg = Diagnostic::new(
        "apim-subnet-nsg",
        Severity::Error,
        find(bicep, BICEP, "virtualNetworkType: 'Internal'", 0),
        "the subnet of API Management `apim-contoso` has no network security group",
    )
    .with_help(
        "add a `networkSecurityGroup` to subnet `snet-apim` allowing port 3443 from ApiManagement",
    )
    .with_related(
        find(arm, ARM, r#""name": "vnet-hub/snet-apim""#, 0),
        "the subnet is declared here",
    )
    .with_related(
        find(bicep, BICEP, "resource vnet", 0),
        "its virtual network",
    );
    nsg.resource = Some(apim_ref.clone());

    let mut public = Diagnostic::new(
        "apim-public-access",
        Severity::Warning,
        find(bicep, BICEP, "'Enabled'", 0),
        "public network access is enabled, 50% of traffic: \"internal\" expected",
    );
    public.resource = Some(apim_ref.clone());

    let mut prefix = Diagnostic::new(
        "subnet-size",
        Severity::Info,
        find(arm, ARM, "\"10.0.1.0/24\"", 0),
        "subnet `snet-apim` has 251 usable addresses",
    )
    .with_help("a /27 is enough for API Management Developer, a /24 for Premium");
    prefix.resource = Some(subnet_ref.clone());

    report.diagnostics = vec![nsg, public, prefix];
    report.not_evaluated = vec![NotEvaluated {
        code: "allowed-locations".into(),
        span: find(bicep, BICEP, "location: location", 0),
        resource: Some(apim_ref),
        reason: "depends on parameter 'location', which has no value".into(),
        parameter: Some("location".into()),
        cause: azaudit::diagnostic::Cause::Parameter,
    }];

    let vnet_span = find(bicep, BICEP, "resource vnet", 0);
    let apim_span = find(bicep, BICEP, "resource apim", 0);
    let subnet_span = find(
        arm,
        ARM,
        r#""type": "Microsoft.Network/virtualNetworks/subnets""#,
        0,
    );
    let rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers";
    let mut subnet = resource(
        &format!("{rg}/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-apim"),
        "Microsoft.Network/virtualNetworks/subnets",
        "vnet-hub/snet-apim",
        None,
        subnet_span,
        false,
    );
    subnet.parent = Some(0);
    report.graph = ResourceGraph {
        resources: vec![
            resource(
                &format!("{rg}/Microsoft.Network/virtualNetworks/vnet-hub"),
                "Microsoft.Network/virtualNetworks",
                "vnet-hub",
                Some("vnet"),
                vnet_span,
                true,
            ),
            resource(
                &format!("{rg}/Microsoft.ApiManagement/service/apim-contoso"),
                "Microsoft.ApiManagement/service",
                "apim-contoso",
                Some("apim"),
                apim_span,
                false,
            ),
            subnet,
        ],
        edges: vec![
            Edge {
                from: 2,
                to: 0,
                kind: EdgeKind::Parent,
                path: String::new(),
                span: None,
            },
            Edge {
                from: 1,
                to: 2,
                kind: EdgeKind::Reference,
                path: "properties.virtualNetworkConfiguration.subnetResourceId".into(),
                span: None,
            },
        ],
        unresolved: vec![Unresolved {
            from: 1,
            path: "properties.certificates[0].keyVault.secretIdentifier".into(),
            value: "https://{vaultName}.vault.azure.net/secrets/\"tls\"".into(),
            reason: "parameter 'vaultName' has no value".into(),
            span: None,
        }],
        diagnostics: Vec::new(),
        opaque_modules: Vec::new(),
    };
    report
}

fn rules() -> Vec<RuleInfo> {
    let mut rules = vec![RuleInfo {
        id: "apim-subnet-nsg".into(),
        title: "API Management subnets have a network security group".into(),
        description:
            "An API Management instance injected into a virtual network needs an NSG on its subnet."
                .into(),
        help: "Add a `networkSecurityGroup` to the subnet with the rules API Management needs."
            .into(),
        help_uri: Some(
            "https://learn.microsoft.com/azure/api-management/virtual-network-reference".into(),
        ),
        level: Severity::Error,
    }];
    rules.extend(RuleInfo::builtin());
    rules
}

fn render(format: Format, show_not_evaluated: bool) -> String {
    let report = report();
    let rules = rules();
    let options = RenderOptions {
        cwd: "/repo".into(),
        color: false,
        show_not_evaluated,
        rules: &rules,
    };
    let mut out = Vec::new();
    output::render(format, &report, &options, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn text() {
    insta::assert_snapshot!(render(Format::Text, false));
}

#[test]
fn text_with_not_evaluated() {
    insta::assert_snapshot!(render(Format::Text, true));
}

#[test]
fn text_in_colour_has_escapes_and_plain_text_has_none() {
    let report = report();
    let mut out = Vec::new();
    let options = RenderOptions {
        cwd: "/repo".into(),
        color: true,
        ..RenderOptions::default()
    };
    output::render(Format::Text, &report, &options, &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().contains("\u{1b}["));
    assert!(!render(Format::Text, true).contains('\u{1b}'));
}

#[test]
fn json() {
    let text = render(Format::Json, false);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["summary"]["errors"], 1);
    assert_eq!(doc["diagnostics"][0]["file"], "infra/main.bicep");
    insta::assert_snapshot!(text);
}

#[test]
fn sarif() {
    insta::assert_snapshot!(render(Format::Sarif, false));
}

#[test]
fn sarif_with_not_evaluated() {
    let doc: serde_json::Value = serde_json::from_str(&render(Format::Sarif, true)).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let review = results.iter().find(|r| r["kind"] == "review").unwrap();
    assert_eq!(review["level"], "none");
    assert_eq!(review["ruleId"], "allowed-locations");
}

#[test]
fn sarif_fingerprints_ignore_positions() {
    let mut moved = report();
    for d in &mut moved.diagnostics {
        d.span.start += 1;
        d.span.end += 1;
    }
    let options = RenderOptions {
        cwd: "/repo".into(),
        ..RenderOptions::default()
    };
    let prints = |r: &Report| {
        let doc = output::sarif::document(r, &options);
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(prints(&report()), prints(&moved));
}

#[test]
fn github() {
    insta::assert_snapshot!(render(Format::Github, true));
}

#[test]
fn graph_json() {
    let mut out = Vec::new();
    output::graph::render(GraphFormat::Json, &report(), Path::new("/repo"), &mut out).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn graph_dot() {
    let mut out = Vec::new();
    output::graph::render(GraphFormat::Dot, &report(), Path::new("/repo"), &mut out).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}
