//! A parameter with allowed values and no value: each allowed value is tried, and a policy that
//! one of them violates is reported one level lower, naming the values.

// Helpers of a test binary: a failure here is a failed test.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use azaudit::diagnostic::Severity;
use azaudit::engine::{check, Disk, Input, Options, Report};
use std::path::Path;

fn run(name: &str) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/allowed-values")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    check(
        &[Input {
            path,
            text: text.into(),
        }],
        &Disk,
        &Options::default(),
    )
}

#[test]
fn a_violating_allowed_value_is_a_warning_naming_it() {
    let report = run("basic-or-premium.bicep");
    let d: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == "apim-vnet-sku-support")
        .collect();
    assert_eq!(d.len(), 1, "{:?}", report.diagnostics);
    assert_eq!(
        d[0].severity,
        Severity::Warning,
        "a deny policy drops from error to warning"
    );
    assert!(
        d[0].message.ends_with("(violates when skuName = 'Basic')"),
        "{}",
        d[0].message
    );
    assert!(
        !report
            .not_evaluated
            .iter()
            .any(|n| n.code == "apim-vnet-sku-support"),
        "decided pairs leave the not-evaluated list: {:?}",
        report.not_evaluated
    );
}

#[test]
fn every_violating_value_is_named() {
    let report = run("basic-or-standard.json");
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == "apim-vnet-sku-support")
        .expect("a diagnostic");
    assert!(
        d.message
            .ends_with("(violates when skuName = 'Basic' or 'Standard')"),
        "{}",
        d.message
    );
}

#[test]
fn allowed_values_that_all_comply_give_nothing() {
    let report = run("premium-only.json");
    assert!(
        !report
            .diagnostics
            .iter()
            .any(|d| d.code == "apim-vnet-sku-support"),
        "{:?}",
        report.diagnostics
    );
    assert!(!report
        .not_evaluated
        .iter()
        .any(|n| n.code == "apim-vnet-sku-support"));
}
