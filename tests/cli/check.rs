//! `azaudit check` and `azaudit graph` as a user runs them: the built binary, exit codes, output
//! shapes, file discovery and configuration.

use crate::common::{self, azaudit, code, json, stderr, stdout, write, ROOT};
use std::path::{Path, PathBuf};

/// A fresh folder for this test, outside the repository (whose own ignore files would apply).
fn scratch(name: &str) -> PathBuf {
    common::scratch("cli-check", name)
}

const BICEP: &[u8] =
    b"resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'sa'\n}\n";

#[test]
fn usage_errors_exit_2() {
    let root = Path::new(ROOT);
    let o = azaudit(root, &["check", "--format", "xml"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--format"));
    assert!(stdout(&o).is_empty());
    assert_eq!(code(&azaudit(root, &["frobnicate"])), 2);
    assert_eq!(code(&azaudit(root, &["check", "--fail-level", "fatal"])), 2);
    assert_eq!(code(&azaudit(root, &[])), 2);
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    let root = Path::new(ROOT);
    let o = azaudit(root, &["--version"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("azaudit "));
    let o = azaudit(root, &["check", "--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("--fail-level"));
}

#[test]
fn missing_path_exits_2() {
    let o = azaudit(Path::new(ROOT), &["check", "fixtures/cli/does-not-exist"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does-not-exist"), "{}", stderr(&o));
}

/// An empty or all-ignored folder is a mistake in the command, not a clean audit (it used to pass
/// with "no problems in 0 files").
#[test]
fn empty_folder_exits_2_with_a_message() {
    let dir = scratch("empty");
    let o = azaudit(&dir, &["check"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("nothing to audit: no Bicep or ARM template found in `.`"),
        "{}",
        stderr(&o)
    );
    // Everything excluded by the configuration: the same.
    write(
        &dir,
        "bicepconfig.json",
        br#"{ "analyzers": { "azaudit": { "exclude": ["*.bicep"] } } }"#,
    );
    write(&dir, "main.bicep", b"param x string\n");
    let o = azaudit(&dir, &["check", "."]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing to audit"), "{}", stderr(&o));
}

#[test]
fn json_output_on_fixtures() {
    let o = azaudit(
        Path::new(ROOT),
        &["check", "fixtures/cli/basic", "--format", "json"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["version"], 1);
    assert!(doc["diagnostics"].is_array());
    assert!(doc["not_evaluated"].is_array());
    // main.bicep, network.json and network.parameters.json; not package.json nor bicepconfig.json.
    assert_eq!(doc["summary"]["files"], 3, "{doc}");
    for key in ["resources", "errors", "warnings", "infos"] {
        assert!(doc["summary"][key].is_u64(), "summary.{key}");
    }
}

#[test]
fn sarif_and_github_output_on_fixtures() {
    let root = Path::new(ROOT);
    let o = azaudit(root, &["check", "fixtures/cli/basic", "--format", "sarif"]);
    assert_eq!(code(&o), 0);
    let doc = json(&o);
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["tool"]["driver"]["name"], "azaudit");
    let o = azaudit(root, &["check", "fixtures/cli/basic", "--format", "github"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

#[test]
fn graph_output_on_fixtures() {
    let root = Path::new(ROOT);
    let o = azaudit(root, &["graph", "fixtures/cli/basic"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = json(&o);
    for key in ["resources", "edges", "unresolved", "diagnostics"] {
        assert!(doc[key].is_array(), "{key}");
    }
    let o = azaudit(root, &["graph", "fixtures/cli/basic", "--format", "dot"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("digraph azaudit {"));
}

#[test]
fn non_utf8_file_is_reported_and_skipped() {
    let dir = scratch("non-utf8");
    write(&dir, "good.bicep", BICEP);
    write(&dir, "bad.bicep", b"param x string\n\xC3\x28\n");
    let o = azaudit(&dir, &["check", "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let doc = json(&o);
    // Both files count; the unreadable one is reported.
    assert_eq!(doc["summary"]["files"], 2);
    assert_eq!(doc["summary"]["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "read-error");
    assert_eq!(d["file"], "bad.bicep");
    assert_eq!(d["message"], "cannot read `bad.bicep`: not valid UTF-8");
    assert_eq!(d["range"]["start"]["line"], 1);
    // The text format names the file too, and does not crash on an empty frame.
    let o = azaudit(&dir, &["check"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("bad.bicep"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("1 error in 1 deployment, 2 files"),
        "{}",
        stdout(&o)
    );
    // --fail-level does not lower an error below failing.
    assert_eq!(
        code(&azaudit(&dir, &["check", "--fail-level", "warning"])),
        1
    );
}

#[test]
fn gitignore_is_honoured_unless_a_file_is_named() {
    let dir = scratch("gitignore");
    write(&dir, ".gitignore", b"ignored/\n*.tmp.bicep\n");
    write(&dir, "kept.bicep", BICEP);
    write(&dir, "scratch.tmp.bicep", BICEP);
    write(&dir, "ignored/module.bicep", BICEP);
    // Hidden files are audited, version control folders are not.
    write(&dir, "modules/.wrapper.bicep", BICEP);
    write(&dir, ".git/objects/x.bicep", BICEP);
    let o = azaudit(&dir, &["check", "--format", "json"]);
    assert_eq!(json(&o)["summary"]["files"], 2);
    let o = azaudit(
        &dir,
        &["check", "--format", "json", ".", "ignored/module.bicep"],
    );
    assert_eq!(json(&o)["summary"]["files"], 3);
}

#[test]
fn non_arm_json_is_skipped() {
    let dir = scratch("json");
    write(
        &dir,
        "package.json",
        br#"{"name": "x", "version": "1.0.0"}"#,
    );
    write(&dir, "bicepconfig.json", br#"{"analyzers": {}}"#);
    write(&dir, "settings.jsonc", b"// comment\n{\"a\": 1}\n");
    write(
        &dir,
        "sub.json",
        br#"{"$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#", "resources": []}"#,
    );
    write(&dir, "binary.json", b"\xff\xfe\xfd not a template");
    let o = azaudit(&dir, &["check", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(json(&o)["summary"]["files"], 1);
    // Named explicitly: skipped with a note on stderr, not audited.
    let o = azaudit(&dir, &["check", "--format", "json", "package.json"]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["summary"]["files"], 0);
    assert!(stderr(&o).contains("package.json"), "{}", stderr(&o));
}

#[test]
fn text_output_has_no_colour_when_piped() {
    let dir = scratch("colour");
    write(&dir, "bad.bicep", b"\xC3\x28");
    let o = azaudit(&dir, &["check"]);
    assert!(!stdout(&o).contains('\u{1b}'));
}

#[test]
fn policies_lists_every_api_management_policy() {
    let o = azaudit(Path::new(ROOT), &["policies"]);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for id in [
        "apim-vnet-sku-support",
        "apim-subnet-delegation",
        "apim-subnet-nsg",
        "apim-nsg-rules",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{out}"));
        assert!(line.contains("API Management"), "{line}");
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("apim-subnet-size-recommended") && l.contains(" info ")),
        "{out}"
    );
}

#[test]
fn explain_prints_the_documentation_and_unknown_ids_exit_2() {
    let o = azaudit(Path::new(ROOT), &["explain", "apim-subnet-delegation"]);
    assert_eq!(code(&o), 0);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for section in [
        "## What it checks",
        "## Why it matters",
        "## Example",
        "## How to fix",
        "## References",
    ] {
        assert!(out.contains(section), "{section} missing:\n{out}");
    }
    // Every code azaudit reports has a page, and a near miss gets a suggestion.
    for c in azaudit::diagnostic::codes::BUILTIN {
        let o = azaudit(Path::new(ROOT), &["explain", c.id]);
        assert_eq!(code(&o), 0, "explain {}: {}", c.id, stderr(&o));
        let out = stdout(&o);
        assert!(out.starts_with(&format!("# {}", c.id)), "{out}");
        assert!(out.contains(&format!("docs/codes/{}.md", c.id)), "{out}");
    }
    let o = azaudit(Path::new(ROOT), &["explain", "apim-privat-dns"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("did you mean `apim-private-dns`?"),
        "{}",
        stderr(&o)
    );
    let o = azaudit(Path::new(ROOT), &["explain", "no-such-policy"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no policy `no-such-policy`"),
        "{}",
        stderr(&o)
    );
}
