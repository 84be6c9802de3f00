//! What a user reads for each shipped policy: the text output of every `fail*` fixture of
//! `fixtures/policies/<id>/`, as one insta snapshot per policy
//! (`tests/engine/snapshots/engine__policy_text__<id>.snap`). A new policy gets its own snapshot
//! file; a change to a policy's message, level, help, related locations or documentation link
//! shows in review. Each fixture is audited on its own, as in `policy_fixtures`, and rendered
//! with paths relative to the fixture folder.

use crate::common;
use crate::policy_fixtures::{fixture_files, options_for, shipped_policies};
use azaudit::output::{self, Format, RenderOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The text output for the `fail*` fixtures of policy `id`, each under a `== <file>` heading.
fn rendered(id: &str) -> String {
    let dir = common::fixture("policies").join(id);
    let options = options_for(id);
    let render = RenderOptions {
        cwd: dir.clone(),
        ..RenderOptions::default()
    };
    let mut text = String::new();
    for f in fixture_files(id).iter().filter(|f| f.starts_with("fail")) {
        let path = dir.join(f);
        if !path.is_file() {
            continue;
        }
        let report = common::check_file(&path, &options);
        let mut out = Vec::new();
        output::render(Format::Text, &report, &render, &mut out).expect("rendered");
        text.push_str(&format!("== {f}\n{}\n", String::from_utf8_lossy(&out)));
    }
    text
}

#[test]
fn every_policy_renders_its_fail_fixtures() {
    // Every policy is compared, then the test fails naming each one whose text changed.
    let mut changed = Vec::new();
    for id in shipped_policies() {
        let text = rendered(&id);
        assert!(
            text.contains(&format!("[{id}]: ")),
            "no `{id}` finding in its fail fixtures:\n{text}"
        );
        if catch_unwind(AssertUnwindSafe(|| {
            insta::assert_snapshot!(id.as_str(), text)
        }))
        .is_err()
        {
            changed.push(id);
        }
    }
    assert!(
        changed.is_empty(),
        "the rendered text changed for {changed:?}: review the `.snap.new` files (cargo insta \
         review, or INSTA_UPDATE=always cargo test --test engine policy_text and read the diff)"
    );
}
