//! What a user reads from the command line: readable names and grouped not-evaluated notes, the
//! `graph --query` output, suppressed findings in SARIF with their reasons.

use crate::common::{self, stdout, ROOT};
use std::path::Path;
use std::process::Output;

fn azaudit(cwd: &str, args: &[&str]) -> Output {
    common::azaudit(&Path::new(ROOT).join(cwd), args)
}

/// A name built with `uniqueString()` reads `'apiService' (apiservice{uniqueString(…)})`; the
/// checks a parameter holds back are grouped under their cause; a private endpoint whose target id
/// names `Microsoft.Web/sites` is decided although the site's name is not known.
#[test]
fn readable_names_and_grouped_not_evaluated() {
    let o = azaudit(
        "fixtures/cli/names",
        &["check", "--no-color", "--show-not-evaluated"],
    );
    let out = stdout(&o);
    assert!(
        out.contains("API Management 'apiService' (apiservice{uniqueString(…)}) (Consumption)"),
        "{out}"
    );
    assert!(!out.contains("apim-private-endpoint-vnet"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn graph_query_prints_the_selected_values() {
    let o = azaudit(
        "fixtures/readme",
        &[
            "graph",
            ".",
            "--query",
            "$.resources[?@.type=='Microsoft.ApiManagement/service']['name','sku','properties']",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    let values: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(values[0], "apim-s01");
    assert_eq!(values[2]["virtualNetworkType"], "External");
    insta::assert_snapshot!(out);

    let o = azaudit(
        "fixtures/readme",
        &["graph", ".", "--query", "$.resources[?"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid JSONPath query"));
}

#[test]
fn suppressed_findings_are_in_sarif_with_their_reason() {
    let o = azaudit(
        "fixtures/cli/suppressed",
        &["check", "--format", "sarif", "."],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let suppressed: Vec<(&str, &str, &str)> = results
        .iter()
        .filter_map(|r| {
            let s = &r["suppressions"][0];
            Some((
                r["ruleId"].as_str()?,
                s["kind"].as_str()?,
                s["justification"].as_str()?,
            ))
        })
        .collect();
    assert_eq!(
        suppressed,
        vec![
            (
                "apim-vnet-sku-support",
                "inSource",
                "decommissioned next sprint"
            ),
            (
                "apim-vnet-sku-support",
                "inSource",
                "migrating to StandardV2 in Q3"
            ),
        ]
    );
    // Text output hides them; the typo in the other directive is reported.
    let o = azaudit("fixtures/cli/suppressed", &["check", "--no-color", "."]);
    let out = stdout(&o);
    assert!(!out.contains("apim-vnet-sku-support]"), "{out}");
    assert!(
        out.contains("warning[unknown-policy]: unknown policy `apim-privat-dns` in a suppression; did you mean `apim-private-dns`?"),
        "{out}"
    );
    assert!(!out.contains("unknown policy `no-unused-params`"), "{out}");
}

/// Two hooks: `azaudit` builds the crate (`language: rust`), `azaudit-system` runs the binary on
/// PATH (`language: system`), both on the same files.
#[test]
fn the_pre_commit_hooks_include_a_system_one() {
    let text = std::fs::read_to_string(Path::new(ROOT).join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let by_id = |id: &str| {
        hooks
            .as_sequence()
            .unwrap()
            .iter()
            .find(|h| h["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("no hook `{id}`"))
            .clone()
    };
    let (rust, system) = (by_id("azaudit"), by_id("azaudit-system"));
    assert_eq!(rust["language"].as_str(), Some("rust"));
    assert_eq!(system["language"].as_str(), Some("system"));
    assert_eq!(system["entry"], rust["entry"]);
    assert_eq!(system["files"], rust["files"]);
}
