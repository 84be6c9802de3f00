//! The documentation shows what azaudit does: the README's sample output is what `azaudit check`
//! prints on `fixtures/readme`, and each policy's level in the docs is the level it reports at.

use crate::common::{self, ROOT};
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap()
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

/// `docs/policies/<id>.md` (its `Level:` line and any `- error:` / `- warning:` bullet), the
/// policy table of docs/policies/README.md and the README's table give the level the policy
/// reports at.
#[test]
fn documented_levels_are_the_policies_levels() {
    let set = azaudit::policy::PolicySet::builtin();
    let readme = read("README.md");
    let index = read("docs/policies/README.md");
    let mut checked = 0;
    for p in set.policies() {
        let Ok(doc) =
            std::fs::read_to_string(Path::new(ROOT).join(format!("docs/policies/{}.md", p.id)))
        else {
            continue;
        };
        let level = format!("{:?}", p.level).to_ascii_lowercase();
        // A policy whose effects report at two levels (a deny and an audit) documents both:
        // `Level: error (misuse) / warning (the address)`; the policy's own level is among them.
        let line = doc
            .lines()
            .find(|l| l.starts_with("Level: "))
            .unwrap_or_else(|| panic!("docs/policies/{}.md has no `Level:` line", p.id));
        let several = line.contains(" / ");
        if several {
            assert!(
                line.contains(&level),
                "docs/policies/{}.md must name the level {level} in `{line}`",
                p.id
            );
        } else {
            assert_eq!(
                line,
                format!("Level: {level}"),
                "docs/policies/{}.md must say `Level: {level}`",
                p.id
            );
            for other in ["error", "warning", "info"] {
                if other != level {
                    assert!(
                        !doc.contains(&format!("\n- {other}: ")),
                        "docs/policies/{}.md describes a case at level {other}, but the policy reports at {level}",
                        p.id
                    );
                }
            }
        }
        for (name, table) in [("README.md", &readme), ("docs/policies/README.md", &index)] {
            let row = table.lines().find(|l| {
                l.starts_with(&format!("| `{}` |", p.id))
                    || l.starts_with(&format!("| [{}](", p.id))
            });
            if let Some(row) = row {
                let cell = row.split('|').nth(2).unwrap_or("").trim();
                if several {
                    assert!(
                        cell.contains(&level),
                        "{name}: the levels of {} include {level}",
                        p.id
                    );
                } else {
                    assert_eq!(cell, level, "{name}: the level of {} is {level}", p.id);
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} policy pages found");
}
