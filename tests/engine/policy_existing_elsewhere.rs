//! An existence check that finds nothing in its own deployment is not evaluated when another
//! audited deployment references the resource as `existing` (it may deploy what is missing there).

use crate::common;
use azaudit::engine::{check, Disk, Input, Options};

fn input(name: &str) -> Input {
    common::input(&common::fixture("policy-engine/existing-elsewhere").join(name))
}

const CODE: &str = "apim-public-network-access";

#[test]
fn alone_the_missing_private_endpoint_is_reported() {
    let report = check(&[input("app.bicep")], &Disk, &Options::default());
    assert!(report.diagnostics.iter().any(|d| d.code == CODE));
}

#[test]
fn an_existing_reference_elsewhere_leaves_it_not_evaluated() {
    let report = check(
        &[input("app.bicep"), input("other.bicep")],
        &Disk,
        &Options::default(),
    );
    assert!(!report.diagnostics.iter().any(|d| d.code == CODE));
    assert!(report
        .not_evaluated
        .iter()
        .any(|n| n.code == CODE && n.reason.contains("existing resource")));
}

#[test]
fn an_endpoint_deployed_with_the_existing_reference_counts() {
    let report = check(
        &[input("app.bicep"), input("network.bicep")],
        &Disk,
        &Options::default(),
    );
    assert!(!report.diagnostics.iter().any(|d| d.code == CODE));
}
