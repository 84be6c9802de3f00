//! Policy as code over ../shared/corpus: the analysis with the default policies versus with the
//! Azure Landing Zones `corp` chain (`--alz-library …/platform/alz --management-group corp`), on
//! the whole corpus and on one file (the pre-commit case). Run with
//! `cargo bench --bench assignments`; skips when ../shared is absent.

// A benchmark's report is its standard output.
#![allow(clippy::print_stdout)]

mod common;

use azaudit::engine::{check, Disk, Options};
use azaudit::files::discover::files_with_extension;
use common::{inputs, median};
use std::time::Instant;

fn main() {
    let (Some(corpus), Some(library)) = (
        common::shared("corpus", "assignments"),
        common::shared("azure-policy/alz-library/platform/alz", "assignments"),
    ) else {
        return;
    };
    let default = Options::default();
    let mut corp = Options::default();
    corp.assignments.alz_library = Some(library);
    corp.assignments.management_group = Some("corp".into());

    // One file, as pre-commit runs it: a fresh process builds the policy set once, so the first
    // run (policy set built, snapshot entries decompressed) is the one that counts.
    let one = corpus.join("quickstart/quickstarts/microsoft.apimanagement/api-management-create-with-internal-vnet-application-gateway/azuredeploy.json");
    let one = inputs(&[one]);
    let started = Instant::now();
    let report = check(&one, &Disk, &corp);
    let first = started.elapsed();
    let diags = report.diagnostics.len();
    let mut warm = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let _ = check(&one, &Disk, &corp);
        warm.push(started.elapsed());
    }
    let mut plain = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let _ = check(&one, &Disk, &default);
        plain.push(started.elapsed());
    }
    println!(
        "one file, corp chain: first {:.1} ms (policy set built), then {:.1} ms; default policies {:.1} ms; {diags} diagnostics",
        first.as_secs_f64() * 1e3,
        median(warm).as_secs_f64() * 1e3,
        median(plain).as_secs_f64() * 1e3,
    );

    let paths = files_with_extension(&corpus, &["bicep", "bicepparam", "json", "jsonc"]);
    let all = inputs(&paths);
    for (name, options) in [("default", &default), ("corp chain", &corp)] {
        let mut times = Vec::new();
        let mut diags = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let report = check(&all, &Disk, options);
            times.push(started.elapsed());
            diags = report.diagnostics.len();
        }
        println!(
            "corpus ({} files), {name}: {:.2} s (median of 3), {diags} diagnostics",
            all.len(),
            median(times).as_secs_f64()
        );
    }
}
