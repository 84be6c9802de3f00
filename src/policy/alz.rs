//! Azure Landing Zones libraries (Azure/Azure-Landing-Zones-Library's layout): the architecture
//! (`*.alz_architecture_definition.json`: management groups, their parents and archetypes), the
//! archetypes (`*.alz_archetype_definition.json`: which assignments), and the assignments,
//! definitions and initiatives they name.
//!
//! [`Library::assignments_for`] walks a management group's chain up to the root and gives the
//! assignments of every archetype on it, each at its management group: placeholder scopes
//! (`managementGroups/placeholder`) resolve to the chain.

use super::assignment::{add_document, Assignment, Loaded};
use super::builtins::Kind;
use super::PolicyLoadError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A management group of an architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementGroup {
    pub id: String,
    pub parent: Option<String>,
    pub archetypes: Vec<String>,
}

/// A library read from a folder.
#[derive(Debug, Default)]
pub struct Library {
    pub dir: PathBuf,
    /// Architectures by name: their management groups.
    pub architectures: Vec<(String, Vec<ManagementGroup>)>,
    /// Archetypes by lowercase name: the names of their assignments.
    pub archetypes: HashMap<String, Vec<String>>,
    /// Assignments by lowercase name.
    pub assignments: HashMap<String, Assignment>,
    /// Definitions and initiatives (the catalog), exemptions are not part of a library.
    pub loaded: Loaded,
}

fn strings(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Library {
    /// Reads every `*.alz_*.json` below `dir`.
    pub fn load(dir: &Path) -> (Library, Vec<PolicyLoadError>) {
        let mut lib = Library {
            dir: dir.to_path_buf(),
            ..Default::default()
        };
        let mut errors = Vec::new();
        if !dir.is_dir() {
            errors.push(PolicyLoadError {
                path: dir.to_path_buf(),
                line: 1,
                column: 1,
                message: "the landing-zone library folder does not exist".into(),
            });
            return (lib, errors);
        }
        let mut files = Vec::new();
        super::collect_json_files(dir, &mut files);
        files.sort();
        for f in files {
            let file_name = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            let kind = [
                "alz_architecture_definition",
                "alz_archetype_definition",
                "alz_policy_assignment",
                "alz_policy_definition",
                "alz_policy_set_definition",
            ]
            .into_iter()
            .find(|k| file_name.ends_with(&format!(".{k}.json")));
            let Some(kind) = kind else {
                continue;
            };
            // Definitions and initiatives are read when an assignment on the chain needs them.
            let deferred = match kind {
                "alz_policy_definition" => Some(Kind::Definition),
                "alz_policy_set_definition" => Some(Kind::Initiative),
                _ => None,
            };
            if let Some(deferred) = deferred {
                let name = name_in_file_name(&file_name, kind);
                lib.loaded.catalog.defer(deferred, name, f);
                continue;
            }
            let json = match std::fs::read(&f)
                .map_err(|e| format!("cannot read the file: {e}"))
                .and_then(|b| {
                    let text = crate::files::discover::decode(&b)
                        .ok_or_else(|| "the file is not valid UTF-8".to_string())?;
                    serde_json::from_str::<serde_json::Value>(&text)
                        .map_err(|e| format!("invalid json: {e}"))
                }) {
                Ok(j) => j,
                Err(message) => {
                    errors.push(PolicyLoadError {
                        path: f,
                        line: 1,
                        column: 1,
                        message,
                    });
                    continue;
                }
            };
            match kind {
                "alz_architecture_definition" => {
                    let name = json
                        .get("name")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string();
                    let groups = json
                        .get("management_groups")
                        .and_then(|v| v.as_array())
                        .map(|items| {
                            items
                                .iter()
                                .filter_map(|m| {
                                    Some(ManagementGroup {
                                        id: m.get("id")?.as_str()?.to_string(),
                                        parent: m
                                            .get("parent_id")
                                            .and_then(|p| p.as_str())
                                            .map(str::to_string),
                                        archetypes: strings(m.get("archetypes")),
                                    })
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    lib.architectures.push((name, groups));
                }
                "alz_archetype_definition" => {
                    let name = json.get("name").and_then(|v| v.as_str()).unwrap_or("");
                    lib.archetypes.insert(
                        name.to_ascii_lowercase(),
                        strings(json.get("policy_assignments")),
                    );
                }
                "alz_policy_assignment" => match Assignment::from_json(&json, &f) {
                    Ok(a) => {
                        lib.assignments.insert(a.name.to_ascii_lowercase(), a);
                    }
                    Err(message) => errors.push(PolicyLoadError {
                        path: f,
                        line: 1,
                        column: 1,
                        message,
                    }),
                },
                _ => add_document(json, &f, &mut lib.loaded, &mut errors),
            }
        }
        (lib, errors)
    }

    /// The chain of management groups from the root down to `management_group` (an id, or a
    /// chain `alz/landingzones/corp` whose last id is looked up).
    pub fn chain(&self, management_group: &str) -> Result<Vec<&ManagementGroup>, String> {
        let leaf = management_group
            .rsplit('/')
            .find(|s| !s.trim().is_empty())
            .unwrap_or(management_group)
            .trim();
        for (_, groups) in &self.architectures {
            let find = |id: &str| groups.iter().find(|g| g.id.eq_ignore_ascii_case(id));
            let Some(mut at) = find(leaf) else {
                continue;
            };
            let mut chain = vec![at];
            while let Some(parent) = at.parent.as_deref() {
                let Some(p) = find(parent) else {
                    return Err(format!(
                        "management group '{}' has parent '{parent}', which the architecture doesn't define",
                        at.id
                    ));
                };
                if chain.len() > 64 || chain.iter().any(|c| c.id == p.id) {
                    return Err(format!("the management groups above '{leaf}' form a cycle"));
                }
                chain.push(p);
                at = p;
            }
            chain.reverse();
            return Ok(chain);
        }
        let known: Vec<&str> = self
            .architectures
            .iter()
            .flat_map(|(_, g)| g.iter().map(|m| m.id.as_str()))
            .collect();
        Err(format!(
            "management group '{leaf}' is not in the library's architecture (it has: {})",
            known.join(", ")
        ))
    }

    /// The assignments of every archetype on the chain down to `management_group`, each at its
    /// management group (placeholder scopes resolved); the chain's ids, root first.
    pub fn assignments_for(
        &self,
        management_group: &str,
    ) -> Result<(Vec<Assignment>, Vec<String>), String> {
        let chain = self.chain(management_group)?;
        let mut out = Vec::new();
        for mg in &chain {
            let scope = format!("/providers/Microsoft.Management/managementGroups/{}", mg.id);
            for archetype in &mg.archetypes {
                let names = self
                    .archetypes
                    .get(&archetype.to_ascii_lowercase())
                    .ok_or_else(|| {
                        format!(
                            "management group '{}' uses archetype '{archetype}', which the library doesn't define",
                            mg.id
                        )
                    })?;
                for name in names {
                    let a = self.assignments.get(&name.to_ascii_lowercase()).ok_or_else(|| {
                        format!(
                            "archetype '{archetype}' names assignment '{name}', which the library doesn't define"
                        )
                    })?;
                    let mut a = a.clone();
                    a.scope = Some(scope.clone());
                    a.not_scopes = a
                        .not_scopes
                        .iter()
                        .map(|s| placeholder(s, &mg.id))
                        .collect();
                    out.push(a);
                }
            }
        }
        Ok((out, chain.iter().map(|m| m.id.clone()).collect()))
    }
}

/// The lowercase name a library file's name gives: `deny-x.1.0.0.alz_policy_definition.json` →
/// `deny-x` (the version, when there is one, dropped).
fn name_in_file_name(lower_file_name: &str, kind: &str) -> String {
    let stem = lower_file_name
        .strip_suffix(&format!(".{kind}.json"))
        .unwrap_or(lower_file_name);
    let parts: Vec<&str> = stem.rsplitn(4, '.').collect();
    match parts.as_slice() {
        [c, b, a, name]
            if [a, b, c]
                .iter()
                .all(|p| p.chars().all(|ch| ch.is_ascii_digit())) =>
        {
            (*name).to_string()
        }
        _ => stem.to_string(),
    }
}

/// `…/managementGroups/placeholder…` → `…/managementGroups/<mg>…`.
fn placeholder(scope: &str, mg: &str) -> String {
    let lower = scope.to_ascii_lowercase();
    match lower.find("/managementgroups/placeholder") {
        Some(at) => {
            let end = at + "/managementgroups/placeholder".len();
            format!(
                "{}/managementGroups/{mg}{}",
                scope.get(..at).unwrap_or(""),
                scope.get(end..).unwrap_or("")
            )
        }
        None => scope.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_the_names_without_a_version() {
        let k = "alz_policy_set_definition";
        assert_eq!(
            name_in_file_name("enforce-backup.1.0.0.alz_policy_set_definition.json", k),
            "enforce-backup"
        );
        assert_eq!(
            name_in_file_name("deny-x.alz_policy_set_definition.json", k),
            "deny-x"
        );
        assert_eq!(
            name_in_file_name("a.b.alz_policy_set_definition.json", k),
            "a.b"
        );
    }

    #[test]
    fn placeholders_become_the_management_group() {
        assert_eq!(
            placeholder(
                "/providers/Microsoft.Management/managementGroups/placeholder/x",
                "corp"
            ),
            "/providers/Microsoft.Management/managementGroups/corp/x"
        );
    }
}
