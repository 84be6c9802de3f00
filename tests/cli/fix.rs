//! `azaudit check --fix`: the built binary applies the unambiguous quick fixes, and only when asked.

use crate::common::{self, azaudit, text};
use std::path::{Path, PathBuf};

/// A fresh folder with the two fixtures, outside the repository.
fn scratch(name: &str) -> PathBuf {
    let dir = common::scratch("cli-fix", name);
    for (from, to) in [
        ("apim-subnet-delegation/fail.bicep", "delegation.bicep"),
        ("apim-subnet-address-prefix/fail.json", "prefix.json"),
    ] {
        std::fs::copy(common::fixture("policies").join(from), dir.join(to)).unwrap();
    }
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn check_fix_writes_the_fixes_and_reports_what_is_left() {
    let dir = scratch("apply");
    let before = (read(&dir, "delegation.bicep"), read(&dir, "prefix.json"));

    // Without --fix nothing is written.
    let o = azaudit(&dir, &["check", "."]);
    let out = text(&o);
    assert!(out.contains("apim-subnet-delegation"), "{out}");
    assert!(out.contains("apim-subnet-address-prefix"), "{out}");
    assert_eq!(
        (read(&dir, "delegation.bicep"), read(&dir, "prefix.json")),
        before
    );

    let o = azaudit(&dir, &["check", "--fix", "."]);
    let out = text(&o);
    assert!(out.contains("fixed 1 diagnostic in"), "{out}");
    assert!(!out.contains("apim-subnet-delegation"), "{out}");
    assert!(!out.contains("apim-subnet-address-prefix"), "{out}");
    assert!(read(&dir, "delegation.bicep")
        .contains("serviceName: 'Microsoft.Web/hostingEnvironments' // expect"));
    assert!(read(&dir, "prefix.json").contains("\"addressPrefix\": \"10.20.1.0/24\","));

    // Nothing left to fix: a second run writes nothing.
    let after = (read(&dir, "delegation.bicep"), read(&dir, "prefix.json"));
    let o = azaudit(&dir, &["check", "--fix", "."]);
    assert!(!text(&o).contains("fixed"), "{}", text(&o));
    assert_eq!(
        (read(&dir, "delegation.bicep"), read(&dir, "prefix.json")),
        after
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--fix` says which findings it left and why (it used to be silent about them).
#[test]
fn check_fix_lists_what_it_did_not_fix_with_the_reason() {
    let dir = scratch("skipped");
    let _ = std::fs::remove_file(dir.join("prefix.json"));
    // The delegation comes from a variable: not written literally in the subnet's declaration.
    let bicep = read(&dir, "delegation.bicep")
        .replace(
            "serviceName: 'Microsoft.Web/serverFarms' // expect: apim-subnet-delegation",
            "serviceName: delegatedTo",
        )
        .replace(
            "param location string = 'westeurope'",
            "param location string = 'westeurope'\nvar delegatedTo = 'Microsoft.Web/serverFarms'",
        );
    std::fs::write(dir.join("delegation.bicep"), &bicep).unwrap();
    let o = azaudit(&dir, &["check", "--fix", "."]);
    let out = text(&o);
    assert!(
        out.contains("azaudit: not fixed: delegation.bicep:")
            && out.contains(" apim-subnet-delegation: the value is not written literally"),
        "{out}"
    );
    assert!(!out.contains("fixed 1 diagnostic"), "{out}");
    assert_eq!(read(&dir, "delegation.bicep"), bicep);
    let _ = std::fs::remove_dir_all(&dir);
}
