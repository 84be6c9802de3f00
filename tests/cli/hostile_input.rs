//! Hostile input through the built binary: no crash, no hang, no silent miss, no file read or
//! written where it shouldn't be (issue #15). Each test builds its input in a scratch folder.

use crate::common::{self, azaudit, codes, json, read_fixture as fixture, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh folder outside the repository (so the project root is the folder itself).
fn scratch(name: &str) -> PathBuf {
    common::scratch("hostile", name)
}

/// Audits `text` written as `file` in a fresh folder `name` (JSON format): the run and its codes.
fn audit_one(name: &str, file: &str, text: &str) -> (Output, Vec<String>) {
    let dir = scratch(name);
    std::fs::write(dir.join(file), text).unwrap();
    let o = azaudit(&dir, &["check", "--format", "json", "."]);
    let codes = codes(&json(&o));
    (o, codes)
}

/// The misconfigured API Management deployment (`apim-subnet-delegation` fails), first line
/// (a comment) dropped.
fn bad_apim() -> String {
    let t = fixture("policies/apim-subnet-delegation/fail.bicep");
    t.split_once('\n').unwrap().1.to_string()
}

// ---- --fix ----------------------------------------------------------------------------------

fn fixable(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, fixture("policies/apim-subnet-delegation/fail.bicep")).unwrap();
    path
}

#[test]
fn fix_reports_a_read_only_file_and_still_fixes_the_others() {
    let dir = scratch("fix-readonly");
    let locked = fixable(&dir, "a-locked.bicep");
    let open = fixable(&dir, "b-open.bicep");
    let before = std::fs::read_to_string(&locked).unwrap();
    let mut p = std::fs::metadata(&locked).unwrap().permissions();
    p.set_readonly(true);
    std::fs::set_permissions(&locked, p).unwrap();

    let o = azaudit(&dir, &["check", "--fix", "--format", "json", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("a-locked.bicep") && err.contains("read-only"),
        "{err}"
    );
    // The report is still printed, the read-only file unchanged, the other one fixed.
    let report = json(&o);
    assert!(codes(&report).contains(&"apim-subnet-delegation".to_string()));
    assert_eq!(std::fs::read_to_string(&locked).unwrap(), before);
    assert_ne!(std::fs::read_to_string(&open).unwrap(), before);
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[cfg(unix)]
#[test]
fn fix_edits_a_links_target_inside_the_project_and_nothing_outside() {
    let dir = scratch("fix-links");
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let inside = fixable(&project, "real.bicep.txt");
    std::os::unix::fs::symlink(&inside, project.join("linked.bicep")).unwrap();
    let outside = fixable(&dir, "outside.bicep.txt");
    std::os::unix::fs::symlink(&outside, project.join("escape.bicep")).unwrap();
    let before = std::fs::read_to_string(&outside).unwrap();

    // Named explicitly: a walk would refuse the link out of the project before --fix sees it.
    let o = azaudit(
        &project,
        &["check", "--fix", "linked.bicep", "escape.bicep"],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("symbolic link"), "{out}");
    assert!(out.contains("outside the project"), "{out}");
    assert_ne!(std::fs::read_to_string(&inside).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), before);
    assert!(std::fs::symlink_metadata(project.join("linked.bicep"))
        .unwrap()
        .file_type()
        .is_symlink());
}

// ---- budgets ----------------------------------------------------------------------------------

/// 800 network security groups of 500 rules each: far past one resource's budget.
fn heavy_loop() -> String {
    fixture("hostile/heavy-nsg-loop.bicep")
}

#[test]
fn a_heavy_loop_is_cut_with_a_warning_and_hides_no_other_resource() {
    for (name, text_) in [
        ("before", format!("{}\n{}", heavy_loop(), bad_apim())),
        ("after", format!("{}\n{}", bad_apim(), heavy_loop())),
    ] {
        let dir = scratch(&format!("heavy-{name}"));
        std::fs::write(dir.join("main.bicep"), &text_).unwrap();
        let o = azaudit(&dir, &["check", "--format", "json", "."]);
        let report = json(&o);
        let codes = codes(&report);
        assert!(
            codes.contains(&"apim-subnet-delegation".to_string()),
            "{name}: {codes:?}"
        );
        assert!(
            codes.contains(&"evaluation-limit".to_string()),
            "{name}: {codes:?}"
        );
        assert_eq!(o.status.code(), Some(1), "{name}");
    }
}

#[test]
fn the_same_heavy_loop_in_arm_is_cut_and_reported() {
    let t = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {
      "type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01",
      "name": "[format('nsg-{0}', copyIndex())]", "location": "westeurope",
      "copy": {"name": "nsgs", "count": 800},
      "properties": {
        "copy": [{"name": "securityRules", "count": 500, "input": {
          "name": "[format('r{0}', copyIndex('securityRules'))]",
          "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "direction": "Inbound",
            "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": "443"}}}]
      }
    }
  ]
}"#;
    let (o, codes) = audit_one("heavy-arm", "heavy.json", t);
    assert!(
        codes.contains(&"evaluation-limit".to_string()),
        "{}",
        text(&o)
    );
}

#[test]
fn values_that_double_thirty_times_stop_at_the_memory_limit() {
    let mut t = String::from("var v0 = [\n  'a'\n  'b'\n]\n");
    for i in 1..=30 {
        t.push_str(&format!("var v{i} = concat(v{}, v{})\n", i - 1, i - 1));
    }
    t.push_str("output n int = length(v30)\n");
    let (o, codes) = audit_one("doubling", "main.bicep", &t);
    assert!(
        codes.contains(&"evaluation-limit".to_string()),
        "{}",
        text(&o)
    );
}

// ---- loop counts ----------------------------------------------------------------------------

/// A resource-group ARM template with `resource` (one resource's JSON) as its only resource.
fn arm_template(resource: &str) -> String {
    format!(
        r#"{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {resource}
  ]
}}"#
    )
}

#[test]
fn copy_counts_outside_zero_to_800_are_errors_as_in_arm() {
    for count in ["1000000000", "-5", "801"] {
        let t = arm_template(&format!(
            r#"{{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01",
      "name": "[format('nsg-{{0}}', copyIndex())]", "location": "westeurope",
      "copy": {{"name": "nsgs", "count": {count}}}, "properties": {{}}}}"#
        ));
        let (o, codes) = audit_one(&format!("copy{count}"), "copy.json", &t);
        assert!(
            codes.contains(&"template-error".to_string()),
            "{count}: {}",
            text(&o)
        );
        assert_eq!(o.status.code(), Some(1), "{count}");
    }
    let (_, codes) = audit_one(
        "loop900",
        "main.bicep",
        "resource n 'Microsoft.Network/networkSecurityGroups@2023-09-01' = [for i in range(0, 900): {\n  name: 'n${i}'\n  location: 'westeurope'\n}]\n",
    );
    assert!(codes.contains(&"template-error".to_string()));
}

// ---- files and paths ---------------------------------------------------------------------------

fn module_to(dir: &Path, path: &str) {
    std::fs::write(
        dir.join("main.bicep"),
        format!("module m '{path}' = {{\n  name: 'm'\n}}\n"),
    )
    .unwrap();
}

#[cfg(unix)]
#[test]
fn device_files_and_fifos_are_never_read() {
    let dir = scratch("devices");
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.bicep")).unwrap();
    let fifo = dir.join("fifo.bicep");
    let made = Command::new("mkfifo").arg(&fifo).status();
    // Named explicitly, a device is a read-error; as a module, a FIFO is never opened.
    module_to(&dir, "fifo.bicep");
    let o = azaudit(
        &dir,
        &["check", "--format", "json", "main.bicep", "zero.bicep"],
    );
    let report = json(&o);
    let all = text(&o);
    assert!(codes(&report).contains(&"read-error".to_string()), "{all}");
    if made.is_ok_and(|s| s.success()) {
        assert!(all.contains("not a regular file"), "{all}");
    }
    // A link out of the project to a device is refused before it is opened.
    module_to(&dir, "zero.bicep");
    let o = azaudit(&dir, &["check", "--format", "json", "main.bicep"]);
    assert!(text(&o).contains("out of the project"), "{}", text(&o));
}

#[test]
fn module_and_parameter_paths_stay_in_the_project() {
    let dir = scratch("paths");
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let secret = "SECRET-LINE-never-printed";
    std::fs::write(dir.join("secret.bicep"), format!("{secret}\n")).unwrap();
    std::fs::write(dir.join("secret.json"), format!("{{\"{secret}\": 1}}")).unwrap();
    for (reference, expected) in [
        ("../secret.bicep", "out of the project"),
        ("/etc/passwd", "absolute path"),
        ("../../../../../../../../etc/passwd", "out of the project"),
    ] {
        module_to(&project, reference);
        let o = azaudit(&project, &["check", "."]);
        let out = text(&o);
        assert!(out.contains(expected), "{reference}: {out}");
        assert!(!out.contains(secret) && !out.contains("root:"), "{out}");
    }
    std::fs::write(project.join("main.bicepparam"), "using '../secret.bicep'\n").unwrap();
    let o = azaudit(&project, &["check", "main.bicepparam"]);
    let out = text(&o);
    assert!(out.contains("out of the project"), "{out}");
    assert!(!out.contains(secret), "{out}");
    // Allowed when asked: then a file that is no template is still never quoted.
    module_to(&project, "../secret.bicep");
    let o = azaudit(&project, &["check", "--allow-outside-project", "."]);
    let out = text(&o);
    assert!(out.contains("not a Bicep or ARM template"), "{out}");
    assert!(!out.contains(secret), "{out}");
}

#[test]
fn a_template_spec_id_is_never_a_path() {
    let dir = scratch("template-spec");
    std::fs::write(dir.join("secret.json"), "{\"SECRET\": 1}").unwrap();
    let t = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "spec",
     "properties": {"mode": "Incremental", "templateLink": {"id": "secret.json"}}}
  ]
}"#;
    std::fs::write(dir.join("main.json"), t).unwrap();
    let o = azaudit(&dir, &["check", "--format", "json", "main.json"]);
    let out = text(&o);
    assert!(!out.contains("SECRET"), "{out}");
    assert_eq!(json(&o)["summary"]["files"], 1, "{out}");
}

#[test]
fn a_parameter_file_using_itself_is_reported() {
    let dir = scratch("self-using");
    std::fs::write(dir.join("main.bicepparam"), "using 'main.bicepparam'\n").unwrap();
    let o = azaudit(&dir, &["check", "."]);
    assert!(text(&o).contains("uses itself"), "{}", text(&o));
}

#[test]
fn files_over_the_size_limit_are_a_read_error() {
    let dir = scratch("size");
    std::fs::write(dir.join("main.bicep"), bad_apim()).unwrap();
    let o = azaudit(
        &dir,
        &["check", "--format", "json", "--max-file-size", "100", "."],
    );
    let report = json(&o);
    assert!(codes(&report).contains(&"read-error".to_string()));
    assert!(text(&o).contains("byte limit"), "{}", text(&o));
}

#[test]
fn a_missing_path_is_reported_and_the_others_are_audited() {
    let dir = scratch("missing");
    std::fs::write(dir.join("main.bicep"), bad_apim()).unwrap();
    let o = azaudit(
        &dir,
        &["check", "--format", "json", "nope.bicep", "main.bicep"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let codes = codes(&json(&o));
    assert!(codes.contains(&"read-error".to_string()), "{codes:?}");
    assert!(
        codes.contains(&"apim-subnet-delegation".to_string()),
        "{codes:?}"
    );
}

// ---- text --------------------------------------------------------------------------------------

#[test]
fn control_characters_never_reach_the_terminal_raw() {
    let dir = scratch("escapes");
    std::fs::write(
        dir.join("main.bicep"),
        "module m 'x\\u{1B}]0;owned\\u{7}\\u{202E}.bicep' = {\n  name: 'm'\n}\n",
    )
    .unwrap();
    for format in ["text", "github"] {
        let o = azaudit(&dir, &["check", "--format", format, "."]);
        let out = text(&o);
        assert!(out.contains("module-error"), "{format}: {out}");
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{202e}'),
            "{format}: {out:?}"
        );
        assert!(out.contains("\\u{1b}"), "{format}: {out}");
    }
}

// ---- JSON --------------------------------------------------------------------------------------

#[test]
fn duplicate_keys_warn_and_the_last_value_wins_everywhere() {
    let dir = scratch("duplicates");
    let t = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {"type": "Microsoft.Storage/storageAccounts", "type": "Microsoft.Network/virtualNetworks",
     "apiVersion": "2023-09-01", "name": "first", "name": "second", "location": "westeurope",
     "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
  ]
}"#;
    std::fs::write(dir.join("dup.json"), t).unwrap();
    let o = azaudit(&dir, &["check", "--format", "json", "dup.json"]);
    let report = json(&o);
    let warnings = codes(&report)
        .into_iter()
        .filter(|c| c == "duplicate-key")
        .count();
    assert_eq!(warnings, 2, "{}", text(&o));
    let o = azaudit(&dir, &["graph", "dup.json"]);
    let graph = String::from_utf8_lossy(&o.stdout);
    assert!(
        graph.contains("second") && !graph.contains("\"first\""),
        "{graph}"
    );
    assert!(
        graph.contains("Microsoft.Network/virtualNetworks"),
        "{graph}"
    );
    assert!(!graph.contains("Microsoft.Storage"), "{graph}");
}

#[test]
fn a_number_out_of_range_is_an_error() {
    let t = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {"n": {"type": "int", "defaultValue": 1e400}},
  "resources": []
}"#;
    let (o, codes) = audit_one("number", "n.json", t);
    assert!(codes.contains(&"syntax-error".to_string()), "{}", text(&o));
    assert!(text(&o).contains("out of range"), "{}", text(&o));
}

#[test]
fn a_file_with_lone_carriage_returns_is_audited() {
    let t = format!("// lone CR line endings\n{}", bad_apim())
        .replace("\r\n", "\n")
        .replace('\n', "\r");
    let (o, codes) = audit_one("cr", "main.bicep", &t);
    assert!(
        codes.contains(&"apim-subnet-delegation".to_string()),
        "{}",
        text(&o)
    );
}

#[test]
fn property_copy_counts_outside_zero_to_800_are_errors_as_in_arm() {
    for (count, expected) in [
        ("801", true),
        ("12800", true),
        ("12801", true),
        ("1000000000", true),
        ("-5", true),
        ("800", false),
        ("0", false),
    ] {
        let t = arm_template(&format!(
            r#"{{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01",
      "name": "nsg", "location": "westeurope",
      "properties": {{"copy": [{{"name": "securityRules", "count": {count},
        "input": {{"name": "[format('r{{0}}', copyIndex('securityRules'))]",
                   "properties": {{"priority": "[add(100, copyIndex('securityRules'))]"}}}}}}]}}}}"#
        ));
        let (o, codes) = audit_one(&format!("property-copy{count}"), "copy.json", &t);
        assert_eq!(
            codes.contains(&"template-error".to_string()),
            expected,
            "{count}: {}",
            text(&o)
        );
        if expected {
            assert!(
                text(&o).contains(&format!("this one is {count}")),
                "{count}: {}",
                text(&o)
            );
        }
    }
}

#[test]
fn a_bicep_integer_past_64_bits_is_an_error_at_the_literal() {
    let (o, codes) = audit_one(
        "bicep-int",
        "main.bicep",
        "param n int = 99999999999999999999\noutput o int = n\n",
    );
    assert!(codes.contains(&"syntax-error".to_string()), "{}", text(&o));
    assert!(
        text(&o).contains("expected a valid 64-bit signed integer"),
        "{}",
        text(&o)
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[cfg(unix)]
#[test]
fn links_to_templates_in_walked_folders_are_followed_inside_the_project_only() {
    let dir = scratch("walk-links");
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("shared")).unwrap();
    std::fs::write(project.join("shared/apim.bicep.txt"), bad_apim()).unwrap();
    std::os::unix::fs::symlink("shared/apim.bicep.txt", project.join("linked.bicep")).unwrap();
    std::fs::write(dir.join("outside.bicep.txt"), bad_apim()).unwrap();
    std::os::unix::fs::symlink("../outside.bicep.txt", project.join("escape.bicep")).unwrap();
    std::os::unix::fs::symlink("loop-b.bicep", project.join("loop-a.bicep")).unwrap();
    std::os::unix::fs::symlink("loop-a.bicep", project.join("loop-b.bicep")).unwrap();
    // A link to a folder above is not entered: the walk can't loop.
    std::os::unix::fs::symlink("..", project.join("up")).unwrap();

    let o = azaudit(&project, &["check", "--format", "json", "."]);
    let report = json(&o);
    let audited = files_with(&report, "apim-subnet-delegation");
    assert_eq!(audited.len(), 1, "{}", text(&o));
    assert!(audited[0].ends_with("linked.bicep"), "{audited:?}");
    assert_eq!(files_with(&report, "read-error").len(), 3, "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("leads out of the project"), "{out}");
    assert!(!out.contains("outside.bicep.txt"), "{out}");

    // Allowed when asked.
    let o = azaudit(
        &project,
        &["check", "--format", "json", "--allow-outside-project", "."],
    );
    let audited = files_with(&json(&o), "apim-subnet-delegation");
    assert_eq!(audited.len(), 2, "{}", text(&o));
}

/// The files that have a diagnostic with `code`, sorted, each once.
fn files_with(report: &serde_json::Value, code: &str) -> Vec<String> {
    let mut files: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| d["file"].as_str().unwrap_or_default().to_string())
        .collect();
    files.sort();
    files.dedup();
    files
}
