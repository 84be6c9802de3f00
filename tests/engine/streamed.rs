//! A bulk audit streamed by deployment group reports what one analysis of every input reports:
//! groups that link to or look for each other's resources (an `existing` declaration, another
//! deployment's `existing` reference, a fully known id) are analysed together.

use crate::common;
use azaudit::engine::{check, stream::check_streamed, Disk, Input, Options};
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

fn same_report(folder: &str) {
    let dir = common::fixture(folder);
    let inputs = inputs(&dir);
    assert!(inputs.len() > 1, "{folder}: too few inputs");
    let options = Options::default();
    let whole = check(&inputs, &Disk, &options);
    let streamed = check_streamed(&inputs, &Disk, &options);
    let json = |r| {
        let render = azaudit::output::RenderOptions {
            cwd: dir.clone(),
            ..Default::default()
        };
        let mut out = Vec::new();
        azaudit::output::json::render(r, &render, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert_eq!(json(&streamed), json(&whole), "{folder}");
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
