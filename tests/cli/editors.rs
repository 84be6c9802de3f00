//! The VS Code extension's manifest (also checked by its own `npm test`, which needs Node): it
//! activates for Bicep and for JSON only behind the content check, declares the Bicep languages,
//! ships a LICENSE and a `.vscodeignore`, and packages with `@vscode/vsce`.

use std::path::Path;

const VSCODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/editors/vscode");

#[test]
fn vscode_activation_events_and_packaging() {
    let text = std::fs::read_to_string(Path::new(VSCODE).join("package.json")).unwrap();
    let pkg: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events: Vec<&str> = pkg["activationEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for wanted in ["onLanguage:bicep", "onLanguage:bicep-params"] {
        assert!(events.contains(&wanted), "{wanted} missing: {events:?}");
    }
    // JSON languages start nothing by themselves: src/documents.ts checks the `$schema` first.
    let documents = std::fs::read_to_string(Path::new(VSCODE).join("src/documents.ts")).unwrap();
    let extension = std::fs::read_to_string(Path::new(VSCODE).join("src/extension.ts")).unwrap();
    assert!(extension.contains("isAudited(") && documents.contains("export function isAudited"));
    for e in &events {
        if let Some(language) = e.strip_prefix("onLanguage:") {
            assert!(
                ["bicep", "bicep-params", "json", "jsonc", "arm-template"].contains(&language),
                "unexpected activation on {language}"
            );
        } else {
            assert!(
                e.starts_with("workspaceContains:**/bicepconfig.json")
                    || e.starts_with("onCommand:azaudit."),
                "unexpected activation event {e}"
            );
        }
    }
    let languages: Vec<&str> = pkg["contributes"]["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(languages, ["bicep", "bicep-params"]);
    assert!(pkg["devDependencies"]["@vscode/vsce"].is_string());
    assert!(pkg["scripts"]["package"]
        .as_str()
        .unwrap()
        .starts_with("vsce package"));
    assert!(Path::new(VSCODE).join("LICENSE").is_file());
    let ignore = std::fs::read_to_string(Path::new(VSCODE).join(".vscodeignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "src/**"), "{ignore}");
}
