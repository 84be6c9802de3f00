//! A bulk audit streamed by deployment group reports what one analysis of every input reports:
//! groups that link to or look for each other's resources (an `existing` declaration, another
//! deployment's `existing` reference, a fully known id) are analysed together.

use crate::common;
use azaudit::engine::{
    check,
    stream::{check_planned, check_streamed},
    Disk, Input, Options,
};
use std::path::Path;

/// Every template and parameter file under `dir`, sorted by path (as `check` reads a folder).
fn inputs(dir: &Path) -> Vec<Input> {
    fn walk(dir: &Path, out: &mut Vec<Input>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                if azaudit::files::language_of(&p, &text).is_some() {
                    out.push(common::input(&p));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The `--format json` document of `report`, paths relative to `dir`.
fn json(report: &azaudit::engine::Report, dir: &Path) -> String {
    let render = azaudit::output::RenderOptions {
        cwd: dir.to_path_buf(),
        ..Default::default()
    };
    let mut out = Vec::new();
    azaudit::output::json::render(report, &render, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn same_report(folder: &str) {
    let dir = common::fixture(folder);
    let inputs = inputs(&dir);
    assert!(inputs.len() > 1, "{folder}: too few inputs");
    let options = Options::default();
    let whole = check(&inputs, &Disk, &options);
    let streamed = check_streamed(&inputs, &Disk, &options);
    assert_eq!(json(&streamed, &dir), json(&whole, &dir), "{folder}");
    assert_eq!(streamed.suppressed, whole.suppressed, "{folder}");
    assert_eq!(
        streamed.resource_count(),
        whole.resource_count(),
        "{folder}"
    );
}

#[test]
fn an_existing_reference_in_another_group_is_seen() {
    // `app.bicep` and `other.bicep` reference no file of each other: two groups, which meet.
    same_report("policy-engine/existing-elsewhere");
    let dir = common::fixture("policy-engine/existing-elsewhere");
    let files: Vec<Input> = ["app.bicep", "other.bicep"]
        .iter()
        .map(|f| common::input(&dir.join(f)))
        .collect();
    let report = check_streamed(&files, &Disk, &Options::default());
    assert!(report
        .not_evaluated
        .iter()
        .any(|n| n.reason.contains("existing resource")));
}

#[test]
fn modules_parameter_files_and_projects_stream_alike() {
    for folder in ["modules", "deployments", "graph", "differential"] {
        same_report(folder);
    }
}

#[test]
fn a_planned_audit_reads_its_files_again_and_keeps_only_the_texts_findings_point_into() {
    let dir = common::fixture("modules");
    let args = azaudit::cli::InputArgs {
        paths: vec![dir.clone()],
        ..azaudit::cli::InputArgs::default()
    };
    let plan = azaudit::cli::plan_streamed(&args).unwrap();
    let files = plan.planned.as_ref().expect("a streamed plan");
    assert!(files.len() > 1);
    assert!(files.iter().all(|f| f.text.is_none()), "no text kept");
    let report = check_planned(files, &Disk, &plan.options);
    // The same report as the one analysis of the plan that keeps the texts.
    let full = azaudit::cli::plan(&args).unwrap();
    let whole = check(&full.inputs, &Disk, &full.options);
    assert_eq!(json(&report, &dir), json(&whole, &dir));
    assert!(!report.diagnostics.is_empty());
    let pointed: std::collections::HashSet<_> = report
        .diagnostics
        .iter()
        .flat_map(|d| std::iter::once(d.span.file).chain(d.related.iter().map(|r| r.span.file)))
        .chain(report.not_evaluated.iter().map(|n| n.span.file))
        .collect();
    for (id, file) in report.sources.iter() {
        assert_eq!(
            !file.text.is_empty(),
            pointed.contains(&id),
            "{}",
            file.path.display()
        );
    }
}

#[test]
fn a_policys_own_lookup_in_another_group_is_seen() {
    // The policy names the plan by a fully known id that no property of the app holds: only the
    // policy's look-up links the two groups.
    let dir = common::fixture("streamed/policy-lookup");
    let inputs = inputs(&dir.join("templates"));
    assert_eq!(inputs.len(), 2);
    let options = Options {
        policy_dirs: vec![dir.join("policies")],
        deployment: azaudit::eval::DeploymentContext {
            subscription_id: Some("00000000-0000-0000-0000-000000000001".into()),
            resource_group: Some("rg".into()),
            ..Default::default()
        },
        ..Options::default()
    };
    let whole = check(&inputs, &Disk, &options);
    // One analysis finds the plan and decides: its SKU is not the one the policy asks for.
    assert!(
        whole
            .diagnostics
            .iter()
            .any(|d| d.code == "site-plan-premium"),
        "{:?}",
        whole.not_evaluated
    );
    let streamed = check_streamed(&inputs, &Disk, &options);
    assert_eq!(json(&streamed, &dir), json(&whole, &dir));
}
