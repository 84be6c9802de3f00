//! `bicepconfig.json` as the binary reads it: found by walking up, `--config`, errors, excludes.

use crate::common::{self, ROOT};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

fn azaudit(args: &[&str]) -> Output {
    common::azaudit(Path::new(ROOT), args)
}

fn files(o: &Output) -> Value {
    common::json(o)["summary"]["files"].clone()
}

#[test]
fn a_valid_config_is_read() {
    let o = azaudit(&["check", "fixtures/config/valid", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(files(&o), 1);
}

#[test]
fn a_bad_level_exits_2_naming_file_and_line() {
    let o = azaudit(&["check", "fixtures/config/bad-level"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad-level/bicepconfig.json:5:"), "{err}");
    assert!(err.contains("unknown level `critical`"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn a_syntax_error_exits_2() {
    let o = azaudit(&["check", "fixtures/config/bad-syntax"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad-syntax/bicepconfig.json:"), "{err}");
}

#[test]
fn config_flag_overrides_the_nearest_config() {
    // The bad config next to the files is not read when another is named.
    let o = azaudit(&[
        "check",
        "fixtures/config/bad-level",
        "--config",
        "fixtures/config/valid/bicepconfig.json",
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(files(&o), 1);
    let o = azaudit(&[
        "check",
        "fixtures/cli/basic",
        "--config",
        "fixtures/config/missing.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.json"));
}

#[test]
fn excluded_paths_are_skipped() {
    let o = azaudit(&["check", "fixtures/config/exclude", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    // main.bicep only: vendor/ and *.generated.bicep are excluded.
    assert_eq!(files(&o), 1);
    // Also when named, as pre-commit does.
    let o = azaudit(&[
        "check",
        "--format",
        "json",
        "fixtures/config/exclude/main.bicep",
        "fixtures/config/exclude/vendor/module.bicep",
    ]);
    assert_eq!(files(&o), 1);
}

/// A folder whose files are all disabled is "nothing to audit" (exit 2; it used to pass with 0
/// files, which the issue calls wrong); a named file there passes, as pre-commit names files.
#[test]
fn a_disabled_config_skips_its_files() {
    let o = azaudit(&["check", "fixtures/config/disabled", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to audit"));
    let named: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("fixtures/config/disabled"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bicep"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(!named.is_empty());
    let mut args = vec!["check", "--format", "json"];
    args.extend(named.iter().map(String::as_str));
    let o = azaudit(&args);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(files(&o), 0);
}

#[test]
fn the_pre_commit_hook_is_declared() {
    let text = std::fs::read_to_string(Path::new(ROOT).join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let hook = &hooks[0];
    assert_eq!(hook["id"].as_str(), Some("azaudit"));
    assert_eq!(hook["entry"].as_str(), Some("azaudit check"));
    assert_eq!(hook["language"].as_str(), Some("rust"));
    assert_eq!(hook["pass_filenames"].as_bool(), Some(true));
    let files = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
    assert!(files.is_match("infra/main.bicep") && files.is_match("a.bicepparam"));
    assert!(files.is_match("azuredeploy.json") && files.is_match("x.jsonc"));
    assert!(!files.is_match("README.md"));
}

#[test]
fn a_missing_policy_folder_exits_2() {
    let o = azaudit(&[
        "check",
        "fixtures/cli/basic",
        "--policy-dir",
        "fixtures/nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("fixtures/nope"));
    let o = azaudit(&[
        "check",
        "fixtures/cli/basic",
        "--policy-dir",
        "fixtures/config/valid/policies",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn nested_configs_merge_with_the_deeper_one_winning() {
    use azaudit::cli::{plan, InputArgs};
    use azaudit::diagnostic::Level;
    let root = Path::new(ROOT).join("fixtures/config/nested");
    let plan = plan(&InputArgs {
        paths: vec![root.clone()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(plan.inputs.len(), 2);
    assert_eq!(
        plan.options.levels.get("apim-subnet-nsg"),
        Some(&Level::Error)
    );
    assert_eq!(
        plan.options.parameters["allowed-locations"]["listOfAllowedLocations"],
        serde_json::json!(["northeurope"])
    );
    assert_eq!(
        plan.options.policy_dirs,
        vec![root.join("policies"), root.join("team/policies")]
    );
}

#[test]
fn deployment_context_comes_from_the_config_and_the_command_line_wins() {
    use azaudit::cli::{plan, DeploymentArgs, InputArgs};
    let root = Path::new(ROOT).join("fixtures/config/deployment");
    let from_config = plan(&InputArgs {
        paths: vec![root.clone()],
        ..Default::default()
    })
    .unwrap();
    let d = &from_config.options.deployment;
    assert_eq!(
        d.subscription_id.as_deref(),
        Some("00000000-0000-0000-0000-000000000001")
    );
    assert_eq!(d.resource_group.as_deref(), Some("rg-apim"));
    assert_eq!(d.location.as_deref(), Some("westeurope"));
    // With the subscription known, a subnet of another subscription is reported.
    let report = azaudit::engine::check(
        &from_config.inputs,
        &azaudit::files::Disk,
        &from_config.options,
    );
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.code == "apim-vnet-same-subscription"));
    let flags = plan(&InputArgs {
        paths: vec![root],
        deployment: DeploymentArgs {
            subscription_id: Some("5f3b1a4e-8c2d-4e7f-9a6b-1c0d2e3f4a5b".into()),
            resource_group: None,
            location: Some("northeurope".into()),
            management_group: None,
        },
        ..Default::default()
    })
    .unwrap();
    let d = &flags.options.deployment;
    assert_eq!(
        d.subscription_id.as_deref(),
        Some("5f3b1a4e-8c2d-4e7f-9a6b-1c0d2e3f4a5b")
    );
    assert_eq!(d.resource_group.as_deref(), Some("rg-apim"));
    assert_eq!(d.location.as_deref(), Some("northeurope"));
    let report = azaudit::engine::check(&flags.inputs, &azaudit::files::Disk, &flags.options);
    assert!(!report
        .diagnostics
        .iter()
        .any(|d| d.code == "apim-vnet-same-subscription"));
}
