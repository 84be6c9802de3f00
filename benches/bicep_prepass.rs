//! What the Bicep pre-pass buys and costs, over ../shared/corpus (quickstart, avm, bicep-samples):
//! files with syntax errors under plain tree-sitter-bicep and after the pre-pass, what each kind of
//! rewrite fixes (a file *needs* a kind when it parses cleanly with the whole pre-pass and not
//! with that kind switched off), and the single-thread throughput of plain tree-sitter, pre-pass +
//! tree-sitter, and the full lowering. Run with `cargo bench --bench bicep_prepass`; prints tables;
//! skips when ../shared is absent.

// A benchmark's report is its standard output.
#![allow(clippy::print_stdout)]

use azaudit::files::discover::files_with_extension;
use azaudit::model::Language;
use azaudit::source::FileId;
use azaudit::syntax::bicep::{lower, prepass, Rewrite};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tree_sitter::Parser;

/// Timing rounds; the best is reported.
const ROUNDS: usize = 3;

struct File {
    set: &'static str,
    path: PathBuf,
    text: String,
    params: bool,
}

fn has_error(parser: &mut Parser, text: &str) -> bool {
    parser
        .parse(text.as_bytes(), None)
        .is_none_or(|t| t.root_node().has_error())
}

/// Seconds of the best of [`ROUNDS`] runs of `f` over `files`.
fn best(files: &[&File], mut f: impl FnMut(&File)) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for file in files {
            f(file);
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let root = azaudit::files::discover::absolute(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    );
    if !root.exists() {
        eprintln!("bicep_prepass bench skipped: {} is absent", root.display());
        return;
    }
    let mut files = Vec::new();
    for set in ["quickstart", "avm", "bicep-samples"] {
        let mut paths = Vec::new();
        paths.extend(files_with_extension(
            &root.join(set),
            &["bicep", "bicepparam"],
        ));
        for path in paths {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let params = path.extension().is_some_and(|e| e == "bicepparam");
            files.push(File {
                set,
                path,
                text,
                params,
            });
        }
    }
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_bicep::LANGUAGE.into())
        .is_err()
    {
        eprintln!("bicep_prepass bench: tree-sitter-bicep does not load");
        return;
    }

    // Syntax errors before and after, and what each rewrite kind does.
    struct Row {
        files: usize,
        before: usize,
        after: usize,
    }
    let mut rows: BTreeMap<(&str, &str), Row> = BTreeMap::new();
    // kind → (files using it, rewrites made, files needing it, files needing only it)
    let mut kinds: BTreeMap<Rewrite, [usize; 4]> = BTreeMap::new();
    let mut still_broken = Vec::new();
    for f in &files {
        let ext = if f.params { ".bicepparam" } else { ".bicep" };
        let row = rows.entry((f.set, ext)).or_insert(Row {
            files: 0,
            before: 0,
            after: 0,
        });
        row.files += 1;
        let before = has_error(&mut parser, &f.text);
        let (text, counts) = prepass(&f.text, f.params, &[]);
        let after = has_error(&mut parser, &text);
        row.before += usize::from(before);
        row.after += usize::from(after);
        if after {
            still_broken.push(f.path.strip_prefix(&root).unwrap_or(&f.path).to_owned());
        }
        let mut needed = Vec::new();
        for (kind, n) in &counts {
            let entry = kinds.entry(*kind).or_default();
            entry[0] += 1;
            entry[1] += n;
            if !after {
                let (without, _) = prepass(&f.text, f.params, &[*kind]);
                if has_error(&mut parser, &without) {
                    entry[2] += 1;
                    needed.push(*kind);
                }
            }
        }
        if let [only] = needed.as_slice() {
            kinds.entry(*only).or_default()[3] += 1;
        }
    }
    println!("files with syntax errors: plain tree-sitter-bicep 1.1 → with the pre-pass");
    println!(
        "{:<14} {:<11} {:>6} {:>8} {:>8}",
        "set", "kind", "files", "before", "after"
    );
    let (mut total, mut before, mut after) = (0, 0, 0);
    for ((set, ext), r) in &rows {
        println!(
            "{:<14} {:<11} {:>6} {:>8} {:>8}",
            set, ext, r.files, r.before, r.after
        );
        total += r.files;
        before += r.before;
        after += r.after;
    }
    println!(
        "{:<14} {:<11} {:>6} {:>8} {:>8}",
        "all", "", total, before, after
    );
    println!();
    println!(
        "per rewrite: files that use it, rewrites made, files that need it (parse cleanly only"
    );
    println!("with it), files for which it is the only rewrite needed");
    println!(
        "{:<34} {:>6} {:>9} {:>7} {:>6}",
        "rewrite", "files", "rewrites", "needed", "only"
    );
    for kind in Rewrite::ALL {
        let [used, made, needed, only] = kinds.get(&kind).copied().unwrap_or_default();
        println!(
            "{:<34} {:>6} {:>9} {:>7} {:>6}",
            kind.name(),
            used,
            made,
            needed,
            only
        );
    }
    println!();
    println!("still with syntax errors after the pre-pass:");
    for p in &still_broken {
        println!("  {}", p.display());
    }
    println!();

    // Throughput, one thread, .bicep files only.
    let bicep: Vec<&File> = files.iter().filter(|f| !f.params).collect();
    let mb = bicep.iter().map(|f| f.text.len()).sum::<usize>() as f64 / 1e6;
    let plain = best(&bicep, |f| {
        let _ = parser.parse(f.text.as_bytes(), None);
    });
    let with_prepass = best(&bicep, |f| {
        let (text, _) = prepass(&f.text, false, &[]);
        let _ = parser.parse(text.as_bytes(), None);
    });
    let prepass_only = best(&bicep, |f| {
        let _ = prepass(&f.text, false, &[]);
    });
    let lowering = best(&bicep, |f| {
        let _ = lower(FileId(0), &f.text, Language::Bicep);
    });
    println!(
        "throughput, one thread, {} .bicep files, {:.1} MB, best of {ROUNDS}",
        bicep.len(),
        mb
    );
    println!("{:<30} {:>8} {:>8}", "stage", "s", "MB/s");
    for (name, secs) in [
        ("tree-sitter alone", plain),
        ("pre-pass alone", prepass_only),
        ("pre-pass + tree-sitter", with_prepass),
        ("full lowering (lower)", lowering),
    ] {
        println!("{:<30} {:>8.3} {:>8.1}", name, secs, mb / secs);
    }
}
