//! Fixes applied to real analyses (these tests run the whole engine).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::text::only_trivia;
use super::*;
use crate::engine::{check, Disk, Input, Options};

fn analyse(path: &str, text: &str) -> Report {
    let input = Input {
        path: path.into(),
        text: text.into(),
    };
    check(&[input], &Disk, &Options::default())
}

/// The one fix of the one `code` diagnostic of `text`.
fn the_fix(path: &str, text: &str, code: &str) -> Option<Fix> {
    let report = analyse(path, text);
    let found: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {code} expected in {path}: {:#?}",
        report.diagnostics
    );
    let d = found.first().unwrap();
    assert!(d.fixes.len() <= 1, "{:#?}", d.fixes);
    d.fixes.first().cloned()
}

/// Applies the fix of the `code` diagnostic, checks the text it gives and that the analysis
/// of that text no longer reports `code`.
fn check_fix(path: &str, text: &str, code: &str, expected: &str) -> Fix {
    let fix = the_fix(path, text, code).unwrap_or_else(|| panic!("no fix for {code} in {path}"));
    let fixed = apply(text, &fix.edits).expect("edits apply");
    assert_eq!(fixed, expected, "fixed text of {path}");
    let again = analyse(path, &fixed);
    let left: Vec<&Diagnostic> = again
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .collect();
    assert!(
        left.is_empty(),
        "{code} still reported after the fix: {left:#?}"
    );
    fix
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/policies/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}` once in the text");
    text.replacen(from, to, 1)
}

#[test]
fn wrong_service_name_is_replaced_in_bicep_and_json() {
    let text = fixture("apim-subnet-delegation/fail.bicep");
    let expected = replace_once(
        &text,
        "serviceName: 'Microsoft.Web/serverFarms'",
        "serviceName: 'Microsoft.Web/hostingEnvironments'",
    );
    let fix = check_fix("fail.bicep", &text, "apim-subnet-delegation", &expected);
    assert_eq!(
        fix.title,
        "Delegate subnet 'snet-apim' to Microsoft.Web/hostingEnvironments"
    );

    let text = fixture("apim-subnet-delegation/fail.json");
    let expected = replace_once(
        &text,
        "\"serviceName\": \"Microsoft.Web/serverFarms\"",
        "\"serviceName\": \"Microsoft.Web/hostingEnvironments\"",
    );
    check_fix("fail.json", &text, "apim-subnet-delegation", &expected);
}

#[test]
fn address_prefixes_with_one_entry_become_address_prefix() {
    let text = fixture("apim-subnet-address-prefix/fail.bicep");
    let expected = replace_once(
        &text,
        "addressPrefixes: [ // expect: apim-subnet-address-prefix\n      '10.20.1.0/24'\n    ]",
        "addressPrefix: '10.20.1.0/24'",
    );
    check_fix("fail.bicep", &text, "apim-subnet-address-prefix", &expected);

    let text = fixture("apim-subnet-address-prefix/fail.json");
    let expected = replace_once(
            &text,
            "\"addressPrefixes\": [ // expect: apim-subnet-address-prefix\n          \"10.20.1.0/24\"\n        ]",
            "\"addressPrefix\": \"10.20.1.0/24\"",
        );
    check_fix("fail.json", &text, "apim-subnet-address-prefix", &expected);
}

#[test]
fn an_address_prefix_expression_is_kept() {
    let text = fixture("apim-subnet-address-prefix/fail.json");
    let text = replace_once(
        &text,
        "\"addressPrefixes\": [ // expect: apim-subnet-address-prefix\n          \"10.20.1.0/24\"",
        "\"addressPrefixes\": [ /* one */\n          \"[parameters('prefix')]\"",
    );
    let text = replace_once(
            &text,
            "\"apimName\": {",
            "\"prefix\": {\"type\": \"string\", \"defaultValue\": \"10.20.1.0/24\"},\n    \"apimName\": {",
        );
    let expected = replace_once(
        &text,
        "\"addressPrefixes\": [ /* one */\n          \"[parameters('prefix')]\"\n        ]",
        "\"addressPrefix\": \"[parameters('prefix')]\"",
    );
    check_fix("fail.json", &text, "apim-subnet-address-prefix", &expected);
}

#[test]
fn two_address_prefixes_get_no_fix() {
    let text = fixture("apim-subnet-address-prefix/fail.bicep").replace(
        "      '10.20.1.0/24'\n",
        "      '10.20.1.0/24'\n      '10.20.2.0/24'\n",
    );
    assert!(the_fix("fail.bicep", &text, "apim-subnet-address-prefix").is_none());
}

/// A Bicep template: API Management `sku`/`network` in a subnet with `subnet` properties.
fn bicep(sku: &str, network: &str, subnet: &str) -> String {
    format!(
        "param location string = 'westeurope'

var delegatedTo = 'Microsoft.Web/serverFarms'

resource vnet 'Microsoft.Network/virtualNetworks@2023-09-01' = {{
  name: 'vnet'
  location: location
  properties: {{
    addressSpace: {{
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }}
  }}
}}

resource subnet 'Microsoft.Network/virtualNetworks/subnets@2023-09-01' = {{
  parent: vnet
  name: 'snet-apim'
  properties: {{
{subnet}
  }}
}}

resource apim 'Microsoft.ApiManagement/service@2024-05-01' = {{
  name: 'apim'
  location: location
  sku: {{
    name: '{sku}'
    capacity: 1
  }}
  properties: {{
    publisherEmail: 'api@contoso.com'
    publisherName: 'Contoso'
    virtualNetworkType: '{network}'
    virtualNetworkConfiguration: {{
      subnetResourceId: subnet.id
    }}
  }}
}}
"
    )
}

/// An ARM template like [`bicep`], with `subnet` the JSON members of the subnet's properties.
fn json(sku: &str, network: &str, subnet: &str) -> String {
    format!(
        r#"{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {{
      "type": "Microsoft.Network/virtualNetworks",
      "apiVersion": "2023-09-01",
      "name": "vnet",
      "location": "westeurope",
      "properties": {{
        "addressSpace": {{
          "addressPrefixes": [
            "10.0.0.0/16"
          ]
        }}
      }}
    }},
    {{
      "type": "Microsoft.Network/virtualNetworks/subnets",
      "apiVersion": "2023-09-01",
      "name": "vnet/snet-apim",
      "dependsOn": [
        "[resourceId('Microsoft.Network/virtualNetworks', 'vnet')]"
      ],
      "properties": {{
{subnet}
      }}
    }},
    {{
      "type": "Microsoft.ApiManagement/service",
      "apiVersion": "2024-05-01",
      "name": "apim",
      "location": "westeurope",
      "sku": {{
        "name": "{sku}",
        "capacity": 1
      }},
      "properties": {{
        "publisherEmail": "api@contoso.com",
        "publisherName": "Contoso",
        "virtualNetworkType": "{network}",
        "virtualNetworkConfiguration": {{
          "subnetResourceId": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'snet-apim')]"
        }}
      }}
    }}
  ]
}}
"#
    )
}

const BICEP_FARMS: &str = "    delegations: [
      {
        name: 'Microsoft.Web.serverFarms'
        properties: {
          serviceName: 'Microsoft.Web/serverFarms'
        }
      }
    ]";

const JSON_FARMS: &str = r#"        "delegations": [
          {
            "name": "Microsoft.Web.serverFarms",
            "properties": {
              "serviceName": "Microsoft.Web/serverFarms"
            }
          }
        ]"#;

#[test]
fn a_missing_delegation_is_added_in_bicep() {
    let subnet = "    addressPrefix: '10.0.1.0/24' // the /24";
    let text = bicep("StandardV2", "External", subnet);
    let expected = bicep(
        "StandardV2",
        "External",
        &format!("{subnet}\n{BICEP_FARMS}"),
    );
    let fix = check_fix("main.bicep", &text, "apim-subnet-delegation", &expected);
    assert_eq!(
        fix.title,
        "Delegate subnet 'snet-apim' to Microsoft.Web/serverFarms"
    );

    // Tabs and CRLF are kept.
    let text = text.replace("\n", "\r\n").replace("  ", "\t");
    let expected = expected.replace("\n", "\r\n").replace("  ", "\t");
    check_fix("main.bicep", &text, "apim-subnet-delegation", &expected);
}

#[test]
fn a_missing_delegation_is_added_in_json() {
    let subnet = r#"        "addressPrefix": "10.0.1.0/24""#;
    let text = json("PremiumV2", "External", subnet);
    let expected = json("PremiumV2", "External", &format!("{subnet},\n{JSON_FARMS}"));
    check_fix(
        "azuredeploy.json",
        &text,
        "apim-subnet-delegation",
        &expected,
    );
    // The last value is an expression: the comma goes after its string.
    let param = r#"        "addressPrefix": "[parameters('prefix')]""#;
    let with_param = |subnet: &str| {
        json("PremiumV2", "External", subnet).replace(
                "\"resources\": [",
                "\"parameters\": {\"prefix\": {\"type\": \"string\", \"defaultValue\": \"10.0.1.0/24\"}},\n  \"resources\": [",
            )
    };
    let expected = with_param(&format!("{param},\n{JSON_FARMS}"));
    check_fix(
        "azuredeploy.json",
        &with_param(param),
        "apim-subnet-delegation",
        &expected,
    );
    // A trailing comma already there stays.
    let text = json("PremiumV2", "External", &format!("{subnet}, // note"));
    let expected = json(
        "PremiumV2",
        "External",
        &format!("{subnet}, // note\n{JSON_FARMS}"),
    );
    check_fix(
        "azuredeploy.json",
        &text,
        "apim-subnet-delegation",
        &expected,
    );
}

#[test]
fn an_empty_delegation_list_is_filled() {
    let subnet = "    addressPrefix: '10.0.1.0/24'\n    delegations: []";
    let text = bicep("StandardV2", "External", subnet);
    let expected = bicep(
        "StandardV2",
        "External",
        &format!("    addressPrefix: '10.0.1.0/24'\n{BICEP_FARMS}"),
    );
    check_fix("main.bicep", &text, "apim-subnet-delegation", &expected);
}

#[test]
fn classic_injection_loses_its_delegations() {
    let prefix = "    addressPrefix: '10.0.1.0/24'";
    let text = bicep("Premium", "External", &format!("{prefix}\n{BICEP_FARMS}"));
    let expected = bicep("Premium", "External", prefix);
    let fix = check_fix("main.bicep", &text, "apim-subnet-delegation", &expected);
    assert_eq!(
        fix.title,
        "Remove the delegations of subnet 'snet-apim' (classic injection)"
    );
    // In the middle of the properties.
    let text = bicep("Developer", "Internal", &format!("{BICEP_FARMS}\n{prefix}"));
    check_fix(
        "main.bicep",
        &text,
        "apim-subnet-delegation",
        &bicep("Developer", "Internal", prefix),
    );

    // JSON, last member: the comma before it goes too.
    let prefix = r#"        "addressPrefix": "10.0.1.0/24""#;
    let text = json("Premium", "Internal", &format!("{prefix},\n{JSON_FARMS}"));
    check_fix(
        "azuredeploy.json",
        &text,
        "apim-subnet-delegation",
        &json("Premium", "Internal", prefix),
    );
    // JSON, first member: its own comma goes.
    let text = json("Premium", "Internal", &format!("{JSON_FARMS},\n{prefix}"));
    check_fix(
        "azuredeploy.json",
        &text,
        "apim-subnet-delegation",
        &json("Premium", "Internal", prefix),
    );
}

#[test]
fn values_not_written_in_the_subnet_get_no_fix() {
    // The service name comes from a variable: changing the variable could change other uses.
    let subnet = BICEP_FARMS.replace("'Microsoft.Web/serverFarms'", "delegatedTo");
    let text = bicep(
        "PremiumV2",
        "Internal",
        &format!("    addressPrefix: '10.0.1.0/24'\n{subnet}"),
    );
    assert!(the_fix("main.bicep", &text, "apim-subnet-delegation").is_none());
    // Two delegations: which one to keep is a guess.
    let two = BICEP_FARMS.replace("    ]", "      {\n        name: 'b'\n        properties: {\n          serviceName: 'Microsoft.Sql/managedInstances'\n        }\n      }\n    ]");
    let text = bicep(
        "StandardV2",
        "External",
        &format!("    addressPrefix: '10.0.1.0/24'\n{two}"),
    );
    assert!(the_fix("main.bicep", &text, "apim-subnet-delegation").is_none());
}

#[test]
fn inline_subnets_are_fixed_and_loops_are_not() {
    let template = |subnet: &str, apim_subnet: &str| {
        format!(
            "resource vnet 'Microsoft.Network/virtualNetworks@2023-09-01' = {{
  name: 'vnet'
  location: 'westeurope'
  properties: {{
    addressSpace: {{
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }}
    subnets: [
{subnet}
    ]
  }}
}}

resource apim 'Microsoft.ApiManagement/service@2024-05-01' = {{
  name: 'apim'
  location: 'westeurope'
  sku: {{
    name: 'StandardV2'
    capacity: 1
  }}
  properties: {{
    publisherEmail: 'api@contoso.com'
    publisherName: 'Contoso'
    virtualNetworkType: 'External'
    virtualNetworkConfiguration: {{
      subnetResourceId: {apim_subnet}
    }}
  }}
}}
"
        )
    };
    let inline = |extra: &str| {
        format!(
            "      {{
        name: 'snet-apim'
        properties: {{
          addressPrefix: '10.0.1.0/24'{extra}
        }}
      }}"
        )
    };
    let farms = BICEP_FARMS
        .lines()
        .map(|l| format!("\n      {l}"))
        .collect::<String>();
    let id = "resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'snet-apim')";
    let text = template(&inline(""), id);
    let expected = template(&inline(&farms), id);
    check_fix("main.bicep", &text, "apim-subnet-delegation", &expected);

    // A subnet declared once for several loop elements: the text is shared, no fix.
    let looped = "resource subnets 'Microsoft.Network/virtualNetworks/subnets@2023-09-01' = [for i in range(0, 2): {
  parent: vnet
  name: 'snet-${i}'
  properties: {
    addressPrefix: '10.0.${i}.0/24'
  }
}]
";
    let text = format!("{}{looped}", template("", "subnets[0].id"));
    assert!(the_fix("main.bicep", &text, "apim-subnet-delegation").is_none());
}

#[test]
fn apply_refuses_overlapping_edits() {
    let e = |s: usize, e: usize, t: &str| Edit {
        span: Span::new(crate::source::FileId(0), s, e),
        text: t.into(),
    };
    assert_eq!(
        apply("abcdef", &[e(4, 5, "E"), e(0, 1, "A")]).as_deref(),
        Some("AbcdEf")
    );
    assert_eq!(apply("abcdef", &[e(0, 3, ""), e(2, 4, "")]), None);
}

#[test]
fn only_trivia_accepts_whitespace_commas_and_comments() {
    assert!(only_trivia(" ,\n // x\n /* y */ "));
    assert!(!only_trivia(" 'a' "));
    assert!(!only_trivia("/* open"));
}
