//! The SARIF output validated against the official SARIF 2.1.0 JSON schema.
//!
//! The schema is not copied into this repository: the `serde-sarif` crate (a dev-dependency) ships
//! the OASIS schema as `src/schema.json`; the test finds that crate's folder with `cargo metadata`
//! and validates with the `jsonschema` crate. It also deserializes the log into `serde-sarif`'s
//! typed model.

use azaudit::diagnostic::{Diagnostic, NotEvaluated, Severity, Suppression, SuppressionKind};
use azaudit::output::{self, RenderOptions, RuleInfo};
use azaudit::report::Report;
use azaudit::source::Span;
use std::path::PathBuf;
use std::process::Command;

/// `src/schema.json` of the `serde-sarif` package Cargo resolved for this crate.
fn schema_path() -> PathBuf {
    // Only the host's packages: those are already downloaded and built.
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("rustc runs");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            &host,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .expect("serde-sarif is a dev-dependency")["manifest_path"]
        .as_str()
        .unwrap()
        .to_string();
    PathBuf::from(manifest)
        .parent()
        .unwrap()
        .join("src/schema.json")
}

/// Escapes the bare `]` in the schema's `language` patterns, wherever they are.
fn escape_bare_bracket(value: &mut serde_json::Value, depth: usize) {
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    const ESCAPED: &str = r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\]?$";
    assert!(depth < 64);
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "pattern" && v == BROKEN {
                    *v = serde_json::json!(ESCAPED);
                } else {
                    escape_bare_bracket(v, depth + 1);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                escape_bare_bracket(v, depth + 1);
            }
        }
        _ => {}
    }
}

fn report() -> Report {
    let mut report = Report::default();
    let bicep = report.sources.add(
        "/repo/infra/my main.bicep".into(),
        "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'sa'\n}\n",
    );
    let outside = report
        .sources
        .add("/elsewhere/net.json".into(), "{\n  \"a\": 1\n}\n");
    report.files = 2;
    report.diagnostics = vec![
        Diagnostic::new(
            "storage-https",
            Severity::Error,
            Span::new(bicep, 0, 11),
            "https only",
        )
        .with_help("set `supportsHttpsTrafficOnly: true`")
        .with_related(Span::new(outside, 4, 7), "linked here"),
        Diagnostic::new(
            "subnet-size",
            Severity::Warning,
            Span::new(outside, 4, 4),
            "empty range",
        ),
        Diagnostic::new(
            "unused-suppression",
            Severity::Info,
            Span::new(bicep, 66, 70),
            "unused",
        ),
    ];
    // Suppressed in the source, with and without a reason.
    let mut with_reason = Diagnostic::new(
        "storage-https",
        Severity::Error,
        Span::new(bicep, 12, 20),
        "https only (suppressed)",
    );
    with_reason.suppression = Some(Suppression {
        kind: SuppressionKind::InSource,
        justification: Some("a test account, deleted nightly".into()),
    });
    let mut without_reason = Diagnostic::new(
        "subnet-size",
        Severity::Warning,
        Span::new(outside, 2, 3),
        "small",
    );
    without_reason.suppression = Some(Suppression {
        kind: SuppressionKind::External,
        justification: None,
    });
    report.suppressed = vec![with_reason, without_reason];
    report.not_evaluated = vec![NotEvaluated {
        code: "allowed-locations".into(),
        span: Span::new(bicep, 0, 11),
        resource: None,
        reason: "parameter 'location' has no value".into(),
        parameter: Some("location".into()),
        cause: azaudit::diagnostic::Cause::Parameter,
    }];
    report
}

#[test]
fn sarif_output_matches_the_official_schema() {
    let schema_path = schema_path();
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    // The official schema's `language` patterns have a bare `]`, a literal in ECMAScript regexes
    // but an error for Rust's: escape it, which keeps the meaning. (azaudit writes no `language`.)
    escape_bare_bracket(&mut schema, 0);
    let validator = jsonschema::validator_for(&schema).unwrap();

    let rules = vec![RuleInfo {
        id: "storage-https".into(),
        title: "Storage accounts accept HTTPS only".into(),
        description: "Secure transfer to storage accounts should be enabled.".into(),
        help: "Set `supportsHttpsTrafficOnly` to `true`.".into(),
        help_uri: Some(
            "https://learn.microsoft.com/azure/storage/common/storage-require-secure-transfer"
                .into(),
        ),
        level: Severity::Error,
    }];
    for show_not_evaluated in [false, true] {
        let options = RenderOptions {
            cwd: "/repo".into(),
            color: false,
            show_not_evaluated,
            rules: &rules,
        };
        let doc = output::sarif::document(&report(), &options);
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}\n{doc:#}", errors.join("\n"));
        let typed: Result<serde_sarif::sarif::Sarif, _> = serde_json::from_value(doc.clone());
        assert!(typed.is_ok(), "{typed:?}");

        // Suppressed findings are results with `suppressions`, after the others.
        let results = doc["runs"][0]["results"].as_array().unwrap();
        let suppressions: Vec<&serde_json::Value> = results
            .iter()
            .filter_map(|r| r.get("suppressions"))
            .collect();
        assert_eq!(
            suppressions,
            // In path order: `/elsewhere/net.json` first.
            vec![
                &serde_json::json!([{"kind": "external", "status": "accepted"}]),
                &serde_json::json!([{"kind": "inSource", "status": "accepted", "justification": "a test account, deleted nightly"}]),
            ],
            "{doc:#}"
        );
        let mut broken_suppression = doc.clone();
        broken_suppression["runs"][0]["results"][3]["suppressions"][0]["kind"] =
            serde_json::json!("inComment");
        assert!(!validator.is_valid(&broken_suppression));

        // The validator does catch a broken log.
        let mut broken = doc.clone();
        broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
        assert!(!validator.is_valid(&broken));
    }
}
