//! A parameter with allowed values and no value: each allowed value is tried, and a policy that
//! one of them violates is reported one level lower, naming the values.

use crate::common;
use azaudit::diagnostic::Severity;
use azaudit::engine::{Options, Report};

fn run(name: &str) -> Report {
    common::check_file(
        &common::fixture("allowed-values").join(name),
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
