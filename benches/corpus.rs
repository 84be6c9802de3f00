//! Throughput over ../shared/corpus: tree-sitter alone versus the whole analysis (lowering,
//! evaluation, the resource graph and every policy). Run with `cargo bench --bench corpus`;
//! `RAYON_NUM_THREADS=1` for one thread. Prints a table; skips when ../shared is absent.

// A benchmark's report is its standard output.
#![allow(clippy::print_stdout)]

mod common;

use azaudit::engine::{check, Disk, Options};
use azaudit::files::discover::files_with_extension;
use std::time::Instant;

fn main() {
    let Some(root) = common::shared("corpus", "corpus") else {
        return;
    };
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    let sets: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let sets = if sets.is_empty() {
        vec![
            "quickstart".to_string(),
            "avm".to_string(),
            "bicep-samples".to_string(),
        ]
    } else {
        sets
    };
    println!("threads: {threads}");
    println!(
        "{:<14} {:>6} {:>8} {:>10} {:>8} {:>10} {:>10} {:>10}",
        "set", "files", "MB", "ts-parse s", "check s", "MB/s", "resources", "diags"
    );
    for set in sets {
        let mut paths = Vec::new();
        paths.extend(files_with_extension(
            &root.join(&set),
            &["bicep", "bicepparam", "json", "jsonc"],
        ));
        let inputs = common::inputs(&paths);
        let bytes: usize = inputs.iter().map(|i| i.text.len()).sum();
        let mb = bytes as f64 / 1e6;
        // tree-sitter alone, on the Bicep files, one thread.
        let started = Instant::now();
        let mut parser = tree_sitter::Parser::new();
        let ok = parser
            .set_language(&tree_sitter_bicep::LANGUAGE.into())
            .is_ok();
        if ok {
            for i in inputs
                .iter()
                .filter(|i| i.path.extension().is_some_and(|e| e == "bicep"))
            {
                let _ = parser.parse(i.text.as_bytes(), None);
            }
        }
        let ts = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let report = check(&inputs, &Disk, &Options::default());
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{:<14} {:>6} {:>8.1} {:>10.2} {:>8.2} {:>10.1} {:>10} {:>10}",
            set,
            inputs.len(),
            mb,
            ts,
            secs,
            mb / secs,
            report.graph.resources.len(),
            report.diagnostics.len()
        );
    }
}
