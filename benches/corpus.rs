//! Throughput over ../shared/corpus against the parse floor. For each set (a folder of the corpus;
//! `.` is the whole corpus), in the same run and on the same threads:
//! - the parse floor: tree-sitter-bicep alone over the Bicep files and serde_json alone over the
//!   ARM JSON files (each file parsed whole, results dropped);
//! - jsonc-parser alone over the ARM JSON files (the parser azaudit's ARM lowering starts from);
//! - azaudit's lowering alone (every file to the template model), Bicep and ARM JSON apart, and
//!   the rise in resident memory while the template models are held (meaningful for the first
//!   set of a run only: later sets reuse memory the allocator kept);
//! - the whole analysis as `azaudit check` plans and runs it (the project index chooses the
//!   deployments; streamed by deployment group, `engine::stream`), and its time as a multiple of
//!   the parse floor; "one s" is the same analysis in one piece (`engine::check`, what `--fix`
//!   and `graph` run).
//!
//! Run with `cargo bench --bench corpus [SET...]`; `RAYON_NUM_THREADS=1` for one thread. Prints a
//! table; skips when ../shared is absent. Files are read before the parsers' clocks start; "plan
//! s" is the CLI's streamed plan (discovery, reading and project index, texts not kept), timed on
//! its own; "check s" the analysis after it, which reads each group's files again.

// A benchmark's report is its standard output.
#![allow(clippy::print_stdout)]

mod common;

use azaudit::engine::{check, language_of, stream::check_planned, Disk, Input};
use azaudit::model::Language;
use azaudit::source::FileId;
use azaudit::syntax::lower;
use rayon::prelude::*;
use std::time::Instant;

// The allocator the `azaudit` binary uses, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Some(root) = common::shared("corpus", "corpus") else {
        return;
    };
    let threads = rayon::current_num_threads();
    let sets: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let sets = if sets.is_empty() {
        ["quickstart", "avm", "bicep-samples", "."]
            .map(String::from)
            .to_vec()
    } else {
        sets
    };
    println!("threads: {threads}");
    println!(
        "{:<14} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>7} {:>8} {:>7} {:>7} {:>9} {:>7}",
        "set",
        "files",
        "MB",
        "ts s",
        "json s",
        "floor s",
        "jsonc s",
        "lowerB s",
        "lowerJ s",
        "heldB MB",
        "heldJ MB",
        "plan s",
        "check s",
        "×floor",
        "one s",
        "resources",
        "diags"
    );
    for set in sets {
        let dir = root.join(&set);
        let args = azaudit::cli::InputArgs {
            paths: vec![dir],
            ..azaudit::cli::InputArgs::default()
        };
        let plan = match azaudit::cli::plan(&args) {
            Ok(plan) => plan,
            Err(e) => {
                eprintln!("{set}: {e:#}");
                continue;
            }
        };
        let files: Vec<(&Input, Language)> = plan
            .inputs
            .iter()
            .filter_map(|i| Some((i, language_of(&i.path, &i.text)?)))
            .collect();
        let bytes: usize = files.iter().map(|(i, _)| i.text.len()).sum();
        let is_bicep = |l: Language| matches!(l, Language::Bicep | Language::BicepParams);

        // The parse floor: each parser alone over its files, in parallel like the analysis.
        let ts = timed(|| {
            files
                .par_iter()
                .filter(|(_, l)| is_bicep(*l))
                .map_init(bicep_parser, |parser, (i, _)| {
                    parser
                        .as_mut()
                        .and_then(|p| p.parse(i.text.as_bytes(), None))
                        .map_or(0, |tree| usize::from(tree.root_node().has_error()))
                })
                .sum::<usize>()
        });
        let json = timed(|| {
            files
                .par_iter()
                .filter(|(_, l)| !is_bicep(*l))
                .map(|(i, _)| {
                    serde_json::from_str::<serde_json::Value>(i.text.trim_start_matches('\u{feff}'))
                        .map_or(0, |v| v.as_object().map_or(0, |o| o.len()))
                })
                .sum::<usize>()
        });
        let jsonc = timed(|| {
            files
                .par_iter()
                .filter(|(_, l)| !is_bicep(*l))
                .map(|(i, _)| {
                    jsonc_parser::parse_to_ast(
                        i.text.trim_start_matches('\u{feff}'),
                        &Default::default(),
                        &Default::default(),
                    )
                    .map_or(0, |p| usize::from(p.value.is_some()))
                })
                .sum::<usize>()
        });
        // Lowering kept (to see what the template models hold), then freed off the clock.
        let lower_all = |bicep: bool| {
            let before = azaudit::timing::resident_mb();
            let started = Instant::now();
            let templates: Vec<_> = files
                .par_iter()
                .enumerate()
                .filter(|(_, (_, l))| is_bicep(*l) == bicep)
                .map(|(n, (i, l))| {
                    let id = FileId(u32::try_from(n).unwrap_or(u32::MAX));
                    lower(id, &i.text, *l)
                })
                .collect();
            let secs = started.elapsed().as_secs_f64();
            let held = azaudit::timing::resident_mb().saturating_sub(before);
            drop(templates);
            (secs, held)
        };
        let lower_bicep = lower_all(true);
        let lower_json = lower_all(false);
        let floor = ts + json;
        // What `check` runs: the streamed plan (paths and references, no texts kept), then the
        // analysis by deployment group, each group's files read when it is analysed.
        let started = Instant::now();
        let streamed = match azaudit::cli::plan_streamed(&args) {
            Ok(plan) => plan,
            Err(e) => {
                eprintln!("{set}: {e:#}");
                continue;
            }
        };
        let plan_secs = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let report = match &streamed.planned {
            Some(files) => check_planned(files, &Disk, &streamed.options),
            None => check(&streamed.inputs, &Disk, &streamed.options),
        };
        let secs = started.elapsed().as_secs_f64();
        let one = timed(|| check(&plan.inputs, &Disk, &plan.options));
        println!(
            "{:<14} {:>6} {:>7.1} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>8} {:>8} {:>7.2} {:>8.2} {:>7.1} {:>7.2} {:>9} {:>7}",
            set,
            files.len(),
            bytes as f64 / 1e6,
            ts,
            json,
            floor,
            jsonc,
            lower_bicep.0,
            lower_json.0,
            lower_bicep.1,
            lower_json.1,
            plan_secs,
            secs,
            secs / floor,
            one,
            report.resource_count(),
            report.diagnostics.len()
        );
    }
}

/// A tree-sitter parser for Bicep; `None` when the grammar does not load.
fn bicep_parser() -> Option<tree_sitter::Parser> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_bicep::LANGUAGE.into())
        .ok()?;
    Some(parser)
}

/// Seconds `f` takes (its result is kept until the clock stops, then dropped).
fn timed<T>(f: impl FnOnce() -> T) -> f64 {
    let started = Instant::now();
    let out = f();
    let secs = started.elapsed().as_secs_f64();
    drop(std::hint::black_box(out));
    secs
}
