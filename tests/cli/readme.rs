//! The documentation shows what azaudit does: the README's sample output is what `azaudit check`
//! prints on `fixtures/readme`; each shipped policy has its documentation page and table rows, and
//! the level they give is the one its JSON reports at.

use crate::common::{self, ROOT};
use azaudit::diagnostic::Level;
use azaudit::policy::effect_level;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn readme_sample_output_is_what_azaudit_prints() {
    let readme = read("README.md");
    let start = readme
        .find("```\n$ azaudit check\n")
        .expect("the README has a `$ azaudit check` sample")
        + "```\n$ azaudit check\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let shown = &readme[start..end];
    let out = common::azaudit(&common::fixture("readme"), &["check", "--no-color"]);
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        shown, printed,
        "the README's sample output differs from what `azaudit check` prints in fixtures/readme"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// The levels a policy's JSON reports at: `properties.metadata.azaudit.level` when it is set;
/// otherwise the levels of its effects as the engine maps them (the `effect` parameter's default,
/// and each effect a `then.effect` expression names as a literal), `Disabled` left out.
fn json_levels(definition: &Value) -> BTreeSet<String> {
    let props = &definition["properties"];
    if let Some(level) = props["metadata"]["azaudit"]["level"].as_str() {
        return BTreeSet::from([level.to_ascii_lowercase()]);
    }
    const EFFECTS: [&str; 9] = [
        "audit",
        "auditifnotexists",
        "deny",
        "denyaction",
        "deployifnotexists",
        "modify",
        "append",
        "manual",
        "disabled",
    ];
    let mut effects: Vec<&str> = props["parameters"]["effect"]["defaultValue"]
        .as_str()
        .into_iter()
        .collect();
    let then = props["policyRule"]["then"]["effect"].as_str().unwrap_or("");
    if then.starts_with('[') {
        // The quoted literals of the expression: every second piece between single quotes.
        effects.extend(
            then.split('\'')
                .skip(1)
                .step_by(2)
                .filter(|l| EFFECTS.contains(&l.to_ascii_lowercase().as_str())),
        );
    } else {
        effects.push(then);
    }
    effects
        .into_iter()
        .map(effect_level)
        .filter(|l| *l != Level::Off)
        .map(|l| format!("{l:?}").to_ascii_lowercase())
        .collect()
}

/// The levels a line of documentation names.
fn named_levels(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| ["error", "warning", "info"].contains(w))
        .map(str::to_string)
        .collect()
}

/// The row of policy `id` in a Markdown table (`| `id` |` or `| [id](…) |`).
fn row<'t>(table: &'t str, id: &str) -> Option<&'t str> {
    table
        .lines()
        .find(|l| l.starts_with(&format!("| `{id}` |")) || l.starts_with(&format!("| [{id}](")))
}

/// Every shipped policy has its page `docs/policies/<id>.md` (titled `# <id>: …`) and a row in
/// the policy tables of docs/policies/README.md and the README; every page is a shipped policy's.
#[test]
fn every_policy_has_a_documentation_page_and_table_rows() {
    let readme = read("README.md");
    let index = read("docs/policies/README.md");
    let policies = common::policy_files();
    let mut missing = Vec::new();
    for (id, _) in &policies {
        match std::fs::read_to_string(Path::new(ROOT).join(format!("docs/policies/{id}.md"))) {
            Ok(doc) if doc.starts_with(&format!("# {id}: ")) => {}
            Ok(_) => missing.push(format!("docs/policies/{id}.md must start with `# {id}: `")),
            Err(_) => missing.push(format!("policy `{id}` has no docs/policies/{id}.md")),
        }
        for (name, table) in [("README.md", &readme), ("docs/policies/README.md", &index)] {
            if row(table, id).is_none() {
                missing.push(format!("{name} has no row for policy `{id}`"));
            }
        }
    }
    for page in std::fs::read_dir(Path::new(ROOT).join("docs/policies")).unwrap() {
        let name = page.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".md").filter(|id| *id != "README") {
            if !policies.iter().any(|(p, _)| p == id) {
                missing.push(format!("docs/policies/{name} documents no shipped policy"));
            }
        }
    }
    assert!(
        policies.len() >= 10,
        "only {} policies found",
        policies.len()
    );
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// `docs/policies/<id>.md` (its `Level:` line and any `- error:` / `- warning:` bullet), the
/// policy table of docs/policies/README.md and the README's table give the levels the policy's
/// JSON reports at (see [`json_levels`]).
#[test]
fn documented_levels_are_the_policies_levels() {
    let readme = read("README.md");
    let index = read("docs/policies/README.md");
    let mut checked = 0;
    for (id, path) in common::policy_files() {
        let definition: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let levels = json_levels(&definition);
        assert!(!levels.is_empty(), "{}: no level", path.display());
        let doc = read(&format!("docs/policies/{id}.md"));
        // A policy whose effects report at two levels (a deny and an audit) documents each:
        // `Level: error (misuse) / warning (the address)`.
        let line = doc
            .lines()
            .find(|l| l.starts_with("Level: "))
            .unwrap_or_else(|| panic!("docs/policies/{id}.md has no `Level:` line"));
        assert_eq!(
            named_levels(line),
            levels,
            "docs/policies/{id}.md: `{line}` must name the levels of {}",
            path.display()
        );
        if let [level] = Vec::from_iter(&levels).as_slice() {
            assert_eq!(
                line,
                format!("Level: {level}"),
                "docs/policies/{id}.md must say `Level: {level}`"
            );
            for other in ["error", "warning", "info"] {
                assert!(
                    other == level.as_str() || !doc.contains(&format!("\n- {other}: ")),
                    "docs/policies/{id}.md describes a case at level {other}, but the policy reports at {level}"
                );
            }
        }
        for (name, table) in [("README.md", &readme), ("docs/policies/README.md", &index)] {
            if let Some(row) = row(table, &id) {
                let cell = row.split('|').nth(2).unwrap_or("");
                assert_eq!(
                    named_levels(cell),
                    levels,
                    "{name}: the level column of {id} must name the levels of {}",
                    path.display()
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} policies checked");
}
