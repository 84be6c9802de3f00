//! Every policy under policies/ has fixtures under fixtures/policies/<id>/: `pass.bicep`,
//! `pass.json` (no diagnostic of that policy) and `fail.bicep`, `fail.json` (the policy's
//! diagnostic starts on each line marked `// expect: <id>`, and nowhere else).

use crate::common::{self, check_file as run, ROOT};
use azaudit::engine::Options;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const FILES: [&str; 4] = ["pass.bicep", "pass.json", "fail.bicep", "fail.json"];

fn root() -> PathBuf {
    Path::new(ROOT).to_path_buf()
}

/// Ids of the policies shipped in policies/<category>/<id>.json.
pub(crate) fn shipped_policies() -> BTreeSet<String> {
    common::policy_files()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

fn fixture_folders() -> BTreeSet<String> {
    std::fs::read_dir(root().join("fixtures/policies"))
        .expect("fixtures/policies/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// What a policy's fixtures need to know of their deployment.
pub(crate) fn options_for(id: &str) -> Options {
    let mut options = Options::default();
    if id == "apim-vnet-same-subscription" {
        // The instance's own subscription is known only when the deployment says so.
        options.deployment.subscription_id = Some("00000000-0000-0000-0000-000000000001".into());
    }
    options
}

/// The fixture files of policy `id`: the four standard files, then any further `fail-*.bicep` /
/// `fail-*.json` case, by name.
pub(crate) fn fixture_files(id: &str) -> Vec<String> {
    let mut files: Vec<String> = FILES.iter().map(|f| f.to_string()).collect();
    let mut extra: Vec<String> = std::fs::read_dir(root().join("fixtures/policies").join(id))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with("fail-") && (n.ends_with(".bicep") || n.ends_with(".json"))
                })
                .collect()
        })
        .unwrap_or_default();
    extra.sort();
    files.extend(extra);
    files
}

fn marked_lines(text: &str, id: &str) -> BTreeSet<u32> {
    let marker = format!("// expect: {id}");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(&marker))
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

#[test]
fn every_policy_has_fixtures_and_every_fixture_names_a_policy() {
    let policies = shipped_policies();
    let folders = fixture_folders();
    for id in &policies {
        for f in FILES {
            assert!(
                root().join("fixtures/policies").join(id).join(f).exists(),
                "policy `{id}` has no fixtures/policies/{id}/{f}"
            );
        }
    }
    for folder in &folders {
        assert!(
            policies.contains(folder),
            "fixtures/policies/{folder} names no known policy"
        );
    }
}

#[test]
fn fixtures_give_the_expected_diagnostics() {
    let mut problems = Vec::new();
    for id in shipped_policies() {
        let options = options_for(&id);
        for f in &fixture_files(&id) {
            let f = f.as_str();
            let path = root().join("fixtures/policies").join(&id).join(f);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let report = run(&path, &options);
            let lines: BTreeSet<u32> = report
                .diagnostics
                .iter()
                .filter(|d| d.code == id)
                .filter_map(|d| {
                    report
                        .sources
                        .get(d.span.file)
                        .map(|s| s.line_col(d.span.start).line)
                })
                .collect();
            let expected = marked_lines(&text, &id);
            let errors: Vec<String> = report
                .diagnostics
                .iter()
                .filter(|d| d.code == "syntax-error")
                .map(|d| d.message.clone())
                .collect();
            if !errors.is_empty() {
                problems.push(format!("{id}/{f}: syntax errors {errors:?}"));
            }
            if f.starts_with("pass") && !lines.is_empty() {
                problems.push(format!("{id}/{f}: unexpected `{id}` on lines {lines:?}"));
            }
            if f.starts_with("fail") {
                if expected.is_empty() {
                    problems.push(format!("{id}/{f}: no `// expect: {id}` marker"));
                }
                if lines != expected {
                    let all: Vec<String> = report
                        .diagnostics
                        .iter()
                        .map(|d| {
                            format!(
                                "{}@{}",
                                d.code,
                                report
                                    .sources
                                    .get(d.span.file)
                                    .map(|s| s.line_col(d.span.start).line)
                                    .unwrap_or(0)
                            )
                        })
                        .collect();
                    problems.push(format!(
                        "{id}/{f}: `{id}` expected on lines {expected:?}, found on {lines:?} (all: {all:?})"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
