//! Policy as code over ../shared/corpus: the analysis with the default policies versus with the
//! Azure Landing Zones `corp` chain (`--alz-library …/platform/alz --management-group corp`), on
//! the whole corpus and on one file (the pre-commit case). Run with
//! `cargo bench --bench assignments`; skips when ../shared is absent.

// A benchmark's report is its standard output.
#![allow(clippy::print_stdout)]

use azaudit::engine::{check, language_of, Disk, Input, Options};
use azaudit::files::discover::files_with_extension;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn inputs(paths: &[PathBuf]) -> Vec<Input> {
    paths
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            language_of(p, &text)?;
            Some(Input {
                path: p.clone(),
                text: text.into(),
            })
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let corpus = shared.join("corpus");
    let library = shared.join("azure-policy/alz-library/platform/alz");
    if !corpus.exists() || !library.exists() {
        eprintln!("assignments bench skipped: {} is absent", shared.display());
        return;
    }
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
