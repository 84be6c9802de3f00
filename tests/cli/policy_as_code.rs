//! Policy as code: assignments of definitions and initiatives, exemptions, scopes and
//! landing-zone libraries, run through `azaudit check` on fixtures/policy-as-code.

use crate::common;
use serde_json::Value;
use std::process::Output;

const SUB: &str = "00000000-0000-0000-0000-000000000001";

fn azaudit(args: &[&str]) -> Output {
    common::azaudit(&common::fixture("policy-as-code"), args)
}

/// (severity, code, message, suppression, resource name).
type Row = (String, String, String, Value, String);

/// Every diagnostic as a [`Row`], stderr, and the summary.
fn findings(args: &[&str]) -> (Vec<Row>, String, Value) {
    let mut all = vec!["check", "--format", "json", "template"];
    all.extend_from_slice(args);
    let o = azaudit(&all);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&o.stdout)));
    // Exempted findings are listed under `suppressed`, each with its `suppression`.
    let rows = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["suppressed"].as_array().into_iter().flatten())
        .map(|d| {
            (
                d["severity"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
                d.get("suppression").cloned().unwrap_or(Value::Null),
                d["resource"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (rows, stderr, report["summary"].clone())
}

fn find<'a>(rows: &'a [Row], code: &str, resource: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.1 == code && r.4 == resource)
}

#[test]
fn an_initiative_passes_its_parameters_to_its_members() {
    let (rows, stderr, _) = findings(&[
        "--assignments",
        "assignments",
        "--management-group",
        "contoso",
        "--subscription-id",
        SUB,
        "--resource-group",
        "rg-app",
    ]);
    // `subnetEffect: Deny` from the assignment reaches the member's `effect`; the set's default
    // `excluded: [GatewaySubnet]` reaches `excludedSubnets`.
    let nsg = find(&rows, "Guardrails/subnetNsg", "vnet/app").expect(&stderr);
    assert_eq!(nsg.0, "error");
    assert!(
        nsg.2.starts_with("Subnets must have a network security group. [assignment 'Guardrails', initiative 'Guardrails', reference 'subnetNsg', definition 'Subnets should have a network security group' (Custom-Subnet-Nsg)]"),
        "{}",
        nsg.2
    );
    assert!(find(&rows, "Guardrails/subnetNsg", "vnet/GatewaySubnet").is_none());
    // The built-in member, by id from the bundled snapshot, with the assignment's default message.
    let https = find(&rows, "Guardrails/storageHttps", "stfixture").unwrap();
    assert_eq!(https.0, "warning");
    assert!(
        https.2.starts_with("Guardrails must be met."),
        "{}",
        https.2
    );
    assert!(https.2.contains("(404c3081-a854-4457-ae30-26a93ef643f9)"));
}

#[test]
fn do_not_enforce_reports_at_info_and_an_expired_exemption_says_so() {
    let (rows, _, _) = findings(&[
        "--assignments",
        "assignments",
        "--subscription-id",
        SUB,
        "--resource-group",
        "rg-app",
    ]);
    let r = find(&rows, "Storage-Https-DoNotEnforce", "stfixture").unwrap();
    assert_eq!(r.0, "info");
    assert!(
        r.2.starts_with("Storage accounts should use secure transfer."),
        "{}",
        r.2
    );
    assert!(
        r.2.ends_with(
            "(exemption 'old-waiver' expired on 2001-01-01T00:00:00Z; it no longer applies)"
        ),
        "{}",
        r.2
    );
    assert!(r.3.is_null());
}

#[test]
fn an_active_exemption_suppresses_its_member_only() {
    let (rows, _, summary) = findings(&[
        "--assignments",
        "assignments",
        "--management-group",
        "contoso",
        "--subscription-id",
        SUB,
    ]);
    let https = find(&rows, "Guardrails/storageHttps", "stfixture").unwrap();
    assert_eq!(https.3["kind"], "external");
    assert_eq!(
        https.3["justification"],
        "exemption 'storage-waiver' (waiver): Legacy clients until the migration"
    );
    assert!(find(&rows, "Guardrails/subnetNsg", "vnet/app")
        .unwrap()
        .3
        .is_null());
    assert_eq!(summary["suppressed"], 1);
    // Hidden from text, counted in the summary.
    let o = azaudit(&[
        "check",
        "template",
        "--assignments",
        "assignments",
        "--management-group",
        "contoso",
        "--subscription-id",
        SUB,
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("Guardrails/storageHttps"), "{text}");
    assert!(text.contains("(1 suppressed by exemptions)"), "{text}");
    // SARIF `suppressions`.
    let o = azaudit(&[
        "check",
        "template",
        "--format",
        "sarif",
        "--assignments",
        "assignments",
        "--management-group",
        "contoso",
    ]);
    let sarif: Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "Guardrails/storageHttps")
        .unwrap();
    assert_eq!(r["suppressions"][0]["kind"], "external");
}

#[test]
fn scopes_and_not_scopes_decide_which_assignments_apply() {
    // In the excluded resource group: the notScopes entry leaves the assignment out.
    let (rows, stderr, _) = findings(&[
        "--assignments",
        "assignments",
        "--subscription-id",
        SUB,
        "--resource-group",
        "rg-sandbox",
    ]);
    assert!(
        !rows.iter().any(|r| r.1 == "Subnet-Nsg-Not-Here"),
        "{rows:?}"
    );
    assert!(
        stderr.contains("assignment 'Subnet-Nsg-Not-Here' does not apply"),
        "{stderr}"
    );
    let (rows, _, _) = findings(&[
        "--assignments",
        "assignments",
        "--subscription-id",
        SUB,
        "--resource-group",
        "rg-app",
    ]);
    assert!(find(&rows, "Subnet-Nsg-Not-Here", "vnet/GatewaySubnet").is_some());
    // Another subscription: the subscription's assignments don't apply; the management
    // group's may (its ancestors are not known).
    let (rows, _, _) = findings(&[
        "--assignments",
        "assignments",
        "--subscription-id",
        "00000000-0000-0000-0000-000000000002",
    ]);
    assert!(!rows.iter().any(|r| r.1.starts_with("Storage-Https")));
    assert!(rows.iter().any(|r| r.1 == "Guardrails/subnetNsg"));
    // A chain that doesn't hold the assignment's management group.
    let (rows, _, _) = findings(&[
        "--assignments",
        "assignments",
        "--management-group",
        "other/corp",
    ]);
    assert!(!rows.iter().any(|r| r.1.starts_with("Guardrails")));
    // Nothing stated: every assignment applies, and stderr says so.
    let (rows, stderr, _) = findings(&["--assignments", "assignments"]);
    assert!(rows.iter().any(|r| r.1 == "Subnet-Nsg-Not-Here"));
    assert!(rows.iter().any(|r| r.1 == "Guardrails/subnetNsg"));
    assert!(
        stderr.contains("the deployment's scope is not stated"),
        "{stderr}"
    );
}

#[test]
fn a_landing_zone_chain_applies_every_archetype_above_it() {
    let (rows, stderr, _) = findings(&["--alz-library", "alz", "--management-group", "corp"]);
    assert!(
        stderr.contains("management groups contoso > landingzones > corp, 2 assignments"),
        "{stderr}"
    );
    let nsg = find(&rows, "Deny-Subnet-Without-Nsg", "vnet/app").unwrap();
    assert_eq!(nsg.0, "error");
    assert!(nsg
        .2
        .starts_with("Subnets must have a Network Security Group."));
    assert!(find(&rows, "Deny-Subnet-Without-Nsg", "vnet/GatewaySubnet").is_none());
    let https = find(&rows, "Storage-Https", "stfixture").unwrap();
    assert_eq!(https.0, "error");
    // The sibling's archetype is not on the chain.
    assert!(!rows.iter().any(|r| r.1 == "Online-Only"));
    let (rows, _, _) = findings(&["--alz-library", "alz", "--management-group", "online"]);
    assert!(rows.iter().any(|r| r.1 == "Online-Only"));
    assert!(rows.iter().any(|r| r.1 == "Deny-Subnet-Without-Nsg"));
    // At the root, only the root's archetype.
    let (rows, _, _) = findings(&["--alz-library", "alz", "--management-group", "contoso"]);
    assert!(rows.iter().any(|r| r.1 == "Storage-Https"));
    assert!(!rows.iter().any(|r| r.1 == "Deny-Subnet-Without-Nsg"));
}

#[test]
fn a_missing_definition_is_an_error_naming_the_assignment() {
    let dir = common::scratch("pac", "missing-definition");
    let file = dir.join("a.json");
    std::fs::write(
        &file,
        r#"{"name": "Needs-Missing", "properties": {"policyDefinitionId": "/providers/Microsoft.Management/managementGroups/x/providers/Microsoft.Authorization/policyDefinitions/Nowhere"}}"#,
    )
    .unwrap();
    let (rows, _, _) = findings(&["--assignments", file.to_str().unwrap()]);
    let e = rows.iter().find(|r| r.1 == "policy-error").unwrap();
    assert!(e.2.contains("assignment 'Needs-Missing': policy definition `/providers/Microsoft.Management/managementGroups/x/providers/Microsoft.Authorization/policyDefinitions/Nowhere` is not loaded"), "{}", e.2);
    let _ = std::fs::remove_dir_all(&dir);
    let o = azaudit(&["check", "template", "--alz-library", "alz"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("needs the deployment's management group"));
}

#[test]
fn the_alz_corp_chain_reports_the_api_management_subnet() {
    let (Some(lib), Some(sample)) = (
        common::shared("azure-policy/alz-library/platform/alz"),
        common::shared("corpus/quickstart/quickstarts/microsoft.apimanagement/api-management-create-with-internal-vnet-application-gateway"),
    ) else {
        return;
    };
    let o = azaudit(&[
        "check",
        "--format",
        "json",
        "--alz-library",
        lib.to_str().unwrap(),
        "--management-group",
        "corp",
        sample.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ds = report["diagnostics"].as_array().unwrap();
    assert!(!ds.iter().any(|d| d["code"] == "policy-error"), "{ds:?}");
    assert!(ds.iter().any(|d| d["code"] == "Deny-Subnet-Without-Nsg"
        && d["resource"]["name"]
            .as_str()
            .unwrap()
            .ends_with("/apimSubnet")
        && d["severity"] == "error"));
}

#[test]
fn a_newer_builtin_folder_replaces_the_snapshot_and_sovereign_copies_are_recognised() {
    let (rows, stderr, _) = findings(&[
        "--alz-library",
        "alz",
        "--management-group",
        "contoso",
        "--builtins",
        "builtins",
    ]);
    let https = find(&rows, "Storage-Https", "stfixture").unwrap();
    assert!(https.2.contains("(newer copy)"), "{}", https.2);
    assert!(
        stderr.contains("1 sovereign-cloud copies of public-cloud definitions"),
        "{stderr}"
    );
}

#[test]
fn a_related_resource_in_another_resource_group_is_not_evaluated() {
    let o = azaudit(&[
        "check",
        "template",
        "--format",
        "json",
        "--show-not-evaluated",
        "--assignments",
        "assignments",
    ]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == "Watcher"));
    let n = report["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "Watcher")
        .unwrap();
    assert_eq!(
        n["reason"],
        "the network watcher is looked for in resource group 'NetworkWatcherRG', which the audited templates don't deploy to"
    );
}

/// The report of `check template --show-not-evaluated` with `args`.
fn report_with(args: &[&str]) -> Value {
    let mut all = vec![
        "check",
        "template",
        "--format",
        "json",
        "--show-not-evaluated",
    ];
    all.extend_from_slice(args);
    let o = azaudit(&all);
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

fn codes(report: &Value, list: &str) -> Vec<String> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// Why the check `code` was not evaluated (the first one listed).
fn reason_not_evaluated(report: &Value, code: &str) -> String {
    report["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == code)
        .and_then(|n| n["reason"].as_str())
        .unwrap_or_else(|| panic!("{code} is not in {report}"))
        .to_string()
}

#[test]
fn a_defender_assessment_is_not_evaluated_before_deployment() {
    // "Azure DDoS Protection should be enabled" asks whether Defender for Cloud assessed the
    // virtual network as healthy: no template deploys that record.
    let report = report_with(&["--assignments", "defender"]);
    assert!(
        !codes(&report, "diagnostics").contains(&"Defender-DDoS".to_string()),
        "{report}"
    );
    assert_eq!(
        reason_not_evaluated(&report, "Defender-DDoS"),
        "the assessment is written by Microsoft Defender for Cloud once the resource is deployed"
    );
}

#[test]
fn the_default_location_placeholder_is_the_deployment_location_or_unknown() {
    let at = |location: &str| report_with(&["--assignments", "location", "--location", location]);
    assert!(!codes(&at("westeurope"), "diagnostics").contains(&"Location-From-Library".into()));
    let elsewhere = at("northeurope");
    assert!(
        codes(&elsewhere, "diagnostics").contains(&"Location-From-Library".into()),
        "{elsewhere}"
    );
    // No location given: never a guessed region, the check is not evaluated and says why.
    let unknown = report_with(&["--assignments", "location"]);
    assert!(!codes(&unknown, "diagnostics").contains(&"Location-From-Library".into()));
    let reason = reason_not_evaluated(&unknown, "Location-From-Library");
    assert!(reason.contains("`${default_location}`"), "{reason}");
    assert!(reason.contains("--location"), "{reason}");
}
