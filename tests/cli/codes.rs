//! Every code azaudit reports outside its policies: each has a documentation page and `explain`
//! (see `azaudit::diagnostic::codes`), each is listed (the sources emit no other), and the rendered text of
//! each is pinned by a snapshot of `azaudit check` on a small case.

use crate::common::{self, azaudit as run, write, ROOT};
use std::path::{Path, PathBuf};

const STORAGE: &str = "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'sa'\n  location: 'westeurope'\n}\n";

/// Files (path, bytes) and extra arguments that make azaudit report `code`.
fn case(code: &str) -> (Vec<(&'static str, Vec<u8>)>, Vec<&'static str>) {
    let text = |s: &str| s.as_bytes().to_vec();
    match code {
        "syntax-error" => (
            vec![(
                "main.bicep",
                text("resource vnet 'Microsoft.Network/virtualNetworks@2023-09-01' = {\n  name: 'vnet'\n  properties: {\n    addressSpace: ]\n  }\n}\n"),
            )],
            vec![],
        ),
        "read-error" => (
            vec![("main.bicep", b"param name string = '\xff\xfe'\n".to_vec())],
            vec![],
        ),
        "module-error" => (
            vec![(
                "main.bicep",
                text("module network './network.bicep' = {\n  name: 'network'\n}\n"),
            )],
            vec![],
        ),
        "module-cycle" => (
            vec![
                ("a.bicep", text("module b './b.bicep' = {\n  name: 'b'\n}\n")),
                ("b.bicep", text("module a './a.bicep' = {\n  name: 'a'\n}\n")),
            ],
            vec!["a.bicep"],
        ),
        "evaluation-cycle" => (
            vec![(
                "main.bicep",
                text("var a = b\nvar b = a\n\nresource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: a\n  location: 'westeurope'\n}\n"),
            )],
            vec![],
        ),
        "evaluation-limit" => {
            let mut bicep = String::from("var v0 = 'sa'\n");
            for i in 1..60 {
                bicep.push_str(&format!("var v{i} = v{}\n", i - 1));
            }
            bicep.push_str("\nresource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: v59\n  location: 'westeurope'\n}\n");
            (vec![("main.bicep", bicep.into_bytes())], vec![])
        }
        "policy-error" => (
            vec![
                ("main.bicep", text(STORAGE)),
                ("policies/broken.json", text("{\n  \"name\": \"broken\",\n  \"properties\": 1\n}\n")),
            ],
            vec!["main.bicep", "--policy-dir", "policies"],
        ),
        "unused-suppression" => (
            vec![(
                "main.bicep",
                text(&format!("#disable-next-line apim-subnet-nsg\n{STORAGE}")),
            )],
            vec![],
        ),
        "unknown-policy" => (
            vec![(
                "main.bicep",
                text(&format!("#disable-next-line apim-subnet-nsq // shared subnet\n{STORAGE}")),
            )],
            vec![],
        ),
        "template-error" => (
            vec![(
                "main.bicep",
                text("resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = [for i in range(0, 900): {\n  name: 'sa${i}'\n  location: 'westeurope'\n}]\n"),
            )],
            vec![],
        ),
        "duplicate-key" => (
            vec![(
                "azuredeploy.json",
                text("{\n  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\",\n  \"contentVersion\": \"1.0.0.0\",\n  \"resources\": [\n    {\n      \"type\": \"Microsoft.Storage/storageAccounts\",\n      \"apiVersion\": \"2023-01-01\",\n      \"name\": \"sa1\",\n      \"name\": \"sa2\",\n      \"location\": \"westeurope\"\n    }\n  ]\n}\n"),
            )],
            vec![],
        ),
        "module-not-restored" => (
            vec![
                (
                    "main.bicep",
                    text("module network 'br:registry.example.com/bicep/network:1.0.0' = {\n  name: 'network'\n}\n"),
                ),
                // An empty module cache, so nothing on this machine is restored.
                (
                    "bicepconfig.json",
                    text("{ \"cacheRootDirectory\": \"./empty-cache\" }\n"),
                ),
            ],
            vec![],
        ),
        other => panic!("no case for `{other}`: add one to tests/cli/codes.rs"),
    }
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("codes", name)
}

#[test]
fn every_code_renders_with_its_documentation_link() {
    for code in azaudit::diagnostic::codes::BUILTIN {
        let (files, extra) = case(code.id);
        let dir = scratch(code.id);
        for (path, bytes) in &files {
            write(&dir, path, bytes);
        }
        let mut args = vec!["check", "--no-color"];
        args.extend(extra);
        let o = run(&dir, &args);
        let out = String::from_utf8_lossy(&o.stdout).replace(&dir.display().to_string(), "<dir>");
        assert!(
            out.contains(&format!("[{}]: ", code.id)),
            "{} not reported:\n{out}\n{}",
            code.id,
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            out.contains(&format!(
                "= docs: {}",
                azaudit::diagnostic::codes::doc_url(code.id)
            )),
            "{out}"
        );
        insta::assert_snapshot!(format!("code_{}", code.id), out);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Built-in codes are made from `codes::Code`, never typed as text outside `codes.rs`, and the
/// sources emit no code outside `codes::BUILTIN` (a policy's code comes from its definition).
#[test]
fn no_code_is_typed_outside_codes_rs() {
    let ids: Vec<&str> = azaudit::diagnostic::codes::BUILTIN
        .iter()
        .map(|c| c.id)
        .collect();
    // A code given as text where diagnostics are made, or a built-in id anywhere.
    let patterns = [
        regex::Regex::new(r#"Diagnostic::new\(\s*"([a-z]+(?:-[a-z]+)+)""#).unwrap(),
        regex::Regex::new(r#"diagnose(?:_at_level)?\(\s*[^,()]+,\s*"([a-z]+(?:-[a-z]+)+)""#)
            .unwrap(),
        regex::Regex::new(&format!(r#""({})""#, ids.join("|"))).unwrap(),
    ];
    let codes_rs = Path::new(ROOT).join("src/diagnostic/codes.rs");
    let mut found = Vec::new();
    let mut stack = vec![Path::new(ROOT).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Unit tests build diagnostics with made-up codes.
                let text = text.split("#[cfg(test)]").next().unwrap_or("");
                for re in &patterns {
                    for c in re.captures_iter(text) {
                        found.push((c[1].to_string(), path.clone()));
                    }
                }
            }
        }
    }
    // The patterns do match: codes.rs spells every id.
    for id in &ids {
        assert!(
            found.iter().any(|(c, f)| c == id && *f == codes_rs),
            "{id} not found in codes.rs: {found:?}"
        );
    }
    let typed: Vec<_> = found.iter().filter(|(_, f)| *f != codes_rs).collect();
    assert!(
        typed.is_empty(),
        "codes typed as text outside src/diagnostic/codes.rs (use `codes::Code`, adding a variant \
         with a docs/codes page for a new code): {typed:?}"
    );
}

#[test]
fn a_typo_in_bicepconfig_rules_is_a_warning_with_the_nearest_id() {
    let dir = scratch("config-typo");
    std::fs::write(dir.join("main.bicep"), STORAGE).unwrap();
    std::fs::write(
        dir.join("bicepconfig.json"),
        "{\n  \"analyzers\": {\n    \"azaudit\": {\n      \"rules\": {\n        \"apim-subnet-size-recomended\": \"off\",\n        \"apim-subnet-nsg\": \"warning\"\n      }\n    }\n  }\n}\n",
    )
    .unwrap();
    let o = run(&dir, &["check", "."]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bicepconfig.json:5:9: unknown policy `apim-subnet-size-recomended` in `analyzers.azaudit.rules`; did you mean `apim-subnet-size-recommended`?"),
        "{err}"
    );
    assert!(!err.contains("`apim-subnet-nsg`"), "{err}");
    assert_eq!(o.status.code(), Some(0), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
