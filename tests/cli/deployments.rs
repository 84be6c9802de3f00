//! Deployments, not files: the built binary audits a changed module through the deployments that
//! reach it (fixtures/deployments), `--entry` and `--no-callers` choose otherwise, `--fix` edits
//! modules through their callers, and registry modules missing from the cache are reported.
//!
//! Each test copies its fixture to a fresh temporary folder (the azaudit repository around the
//! fixtures would otherwise be the project root); some make that folder a git work tree.

use crate::common::{self, azaudit, copy_dir, json, text as out};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh copy of `fixtures/deployments/<name>` outside the repository; with `git`, the copy
/// sits in a folder of a new git work tree (skipped quietly when git is missing).
fn scratch(name: &str, test: &str, git: bool) -> PathBuf {
    let base = common::scratch("deployments", test);
    let dir = if git {
        let ok = Command::new("git")
            .args(["init", "-q"])
            .current_dir(&base)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!("git is not available: the copy is not in a work tree");
        }
        base.join("infra")
    } else {
        base.clone()
    };
    copy_dir(&common::fixture("deployments").join(name), &dir);
    dir
}

/// `(code, file, line)` of every diagnostic of a JSON report.
fn found(o: &Output) -> Vec<(String, String, u64)> {
    let doc = json(o);
    let mut v: Vec<_> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn delegation(file: &str) -> (String, String, u64) {
    ("apim-subnet-delegation".into(), file.into(), 19)
}

#[test]
fn a_changed_module_is_audited_through_the_deployment_that_reaches_it() {
    for git in [false, true] {
        let dir = scratch("project", &format!("module-{git}"), git);
        let o = azaudit(
            &dir,
            &["check", "--format", "json", "modules/network.bicep"],
        );
        assert_eq!(o.status.code(), Some(1), "{}", out(&o));
        assert_eq!(found(&o), vec![delegation("modules/network.bicep")]);
        assert_eq!(json(&o)["summary"]["deployments"], 1);
        // The text output names the deployment the finding comes from.
        let o = azaudit(&dir, &["check", "modules/network.bicep"]);
        let text = out(&o);
        assert!(text.contains("in the deployment of main.bicep"), "{text}");
        assert!(text.contains("1 error in 1 deployment, 3 files"), "{text}");
        // Audited on its own (today's behaviour on request), the module has no finding.
        let o = azaudit(&dir, &["check", "--no-callers", "modules/network.bicep"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let o = azaudit(&dir, &["check", "--entry", "modules/network.bicep"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        assert!(out(&o).contains("in 1 deployment, 1 file"), "{}", out(&o));
    }
}

#[test]
fn a_change_to_a_shared_module_reports_every_deployment_that_uses_it() {
    let dir = scratch("project", "apim", false);
    // apim.bicep is unchanged in substance, but both deployments using it break.
    both_deployments_break(&dir, "modules/apim.bicep");
}

/// `check --format json <path>` finds the delegation error of both deployments of the project
/// fixture, and nothing else; what it printed.
fn both_deployments_break(dir: &Path, path: &str) -> serde_json::Value {
    let o = azaudit(dir, &["check", "--format", "json", path]);
    assert_eq!(
        found(&o),
        vec![
            delegation("modules/edge-network.bicep"),
            delegation("modules/network.bicep")
        ]
    );
    let doc = json(&o);
    assert_eq!(doc["summary"]["deployments"], 2);
    doc
}

#[test]
fn a_module_reached_only_through_a_parameter_file_is_audited_with_its_values() {
    let dir = scratch("project", "param", false);
    let o = azaudit(
        &dir,
        &["check", "--format", "json", "modules/edge-network.bicep"],
    );
    assert_eq!(found(&o), vec![delegation("modules/edge-network.bicep")]);
    let doc = json(&o);
    let message = doc["diagnostics"][0]["message"].as_str().unwrap();
    assert!(message.contains("apim-edge"), "{message}");
    assert!(message.contains("(with edge.bicepparam)"), "{message}");
}

#[test]
fn the_whole_project_audits_each_deployment_once() {
    let dir = scratch("project", "all", false);
    // main.bicep and edge.bicepparam; modules and edge.bicep are reached through them.
    let doc = both_deployments_break(&dir, ".");
    assert_eq!(doc["not_evaluated"], serde_json::json!([]));
}

#[test]
fn a_correct_project_prints_no_not_evaluated_noise() {
    let dir = scratch("correct", "correct", true);
    for args in [
        &["check", "."][..],
        &["check", "modules/network.bicep", "modules/apim.bicep"][..],
    ] {
        let o = azaudit(&dir, args);
        let text = out(&o);
        assert_eq!(o.status.code(), Some(0), "{text}");
        assert!(!text.contains("evaluated"), "{text}");
        assert!(text.starts_with("no problems in"), "{text}");
    }
}

#[test]
fn fix_edits_modules_through_their_callers() {
    let dir = scratch("project", "fix", false);
    let o = azaudit(&dir, &["check", "--fix", "."]);
    let text = out(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("fixed 1 diagnostic in"), "{text}");
    for module in ["network", "edge-network"] {
        let fixed = std::fs::read_to_string(dir.join(format!("modules/{module}.bicep"))).unwrap();
        assert!(
            fixed.contains("serviceName: 'Microsoft.Web/serverFarms'"),
            "{fixed}"
        );
    }
    let o = azaudit(&dir, &["check", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}

#[test]
fn fix_leaves_a_module_whose_deployments_need_different_fixes_and_says_why() {
    let dir = scratch("conflict", "conflict", false);
    let before = std::fs::read_to_string(dir.join("modules/network.bicep")).unwrap();
    let o = azaudit(&dir, &["check", "--fix", "."]);
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let note = text
        .lines()
        .find(|l| l.contains("is not fixed"))
        .unwrap_or_else(|| panic!("no note: {text}"));
    for part in [
        "modules/network.bicep",
        "premium.bicep (Microsoft.Web/hostingEnvironments)",
        "standard.bicep (Microsoft.Web/serverFarms)",
    ] {
        assert!(note.contains(part), "{note}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("modules/network.bicep")).unwrap(),
        before
    );
}

#[test]
fn a_broken_caller_still_reaches_its_modules() {
    let dir = scratch("project", "broken", false);
    let main = dir.join("main.bicep");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        format!("{text}\nresource broken 'x@1' = {{\n  name: \n"),
    )
    .unwrap();
    let o = azaudit(
        &dir,
        &["check", "--format", "json", "modules/network.bicep"],
    );
    let codes: Vec<String> = found(&o).into_iter().map(|f| f.0).collect();
    assert!(codes.contains(&"syntax-error".to_string()), "{codes:?}");
    assert!(
        codes.contains(&"apim-subnet-delegation".to_string()),
        "{codes:?}"
    );
}

#[test]
fn module_cycles_stay_module_cycles() {
    let dir = scratch("project", "cycle", false);
    std::fs::write(
        dir.join("a.bicep"),
        "module b './b.bicep' = {\n  name: 'b'\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.bicep"),
        "module a './a.bicep' = {\n  name: 'a'\n}\n",
    )
    .unwrap();
    let o = azaudit(&dir, &["check", "--format", "json", "a.bicep"]);
    let codes: Vec<String> = found(&o).into_iter().map(|f| f.0).collect();
    assert!(codes.contains(&"module-cycle".to_string()), "{codes:?}");
}

#[test]
fn registry_modules_missing_from_the_cache_are_reported() {
    let dir = common::scratch("deployments", "reg");
    copy_dir(&common::fixture("modules/registry"), &dir);
    let o = common::command(&dir)
        .args(["check", "--format", "json", "main.bicep"])
        // No cache: nothing is restored.
        .env("HOME", &dir)
        .output()
        .unwrap();
    let doc = json(&o);
    let d = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "module-not-restored")
        .unwrap_or_else(|| panic!("{}", out(&o)));
    assert_eq!(d["severity"], "info");
    assert_eq!(d["range"]["start"]["line"], 2);
    assert!(d["help"].as_str().unwrap().contains("bicep restore"), "{d}");
    // The checks that needed it are listed as not evaluated.
    let not_evaluated = doc["not_evaluated"].to_string();
    assert!(
        not_evaluated.contains("module not restored"),
        "{not_evaluated}"
    );
}
