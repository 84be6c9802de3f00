//! Lowers every Bicep and .bicepparam file of the shared corpus and asserts what it counts, per
//! part of the corpus (quickstart, avm, bicep-samples): no file crashes the lowering; the number
//! of files and of declarations (resources and modules) is the pinned one; no file the Bicep
//! compiler accepted has a syntax error (each `main.bicep` beside the JSON it was compiled to, see
//! `differential::pairs`); the number of files with a syntax error and of error expressions does
//! not grow. Skips when ../shared is absent.
//! `BICEP_CORPUS_VERBOSE=1` lists each syntax error, error expression and unnamed resource.
//!
//! The pins are facts about the corpus (a fixed copy, see its SOURCES.md): a change that moves one
//! on purpose updates it in the same commit and says why.

use crate::common;
use crate::differential::pairs;
use azaudit::expr::{Expr, ExprKind};
use azaudit::files::discover::files_with_extension;
use azaudit::model::{Language, Template};
use azaudit::source::FileId;
use azaudit::syntax::bicep::lower;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Instant;

/// What one part of the corpus must give.
struct Pinned {
    part: &'static str,
    bicep: usize,
    params: usize,
    /// Resource and module declarations, both kinds of file.
    declarations: usize,
    /// At most this many files with a syntax error.
    files_with_errors: usize,
    /// At most this many error expressions in files without a syntax error.
    expr_errors: usize,
}

const PINNED: [Pinned; 3] = [
    Pinned {
        part: "quickstart",
        bicep: 526,
        params: 0,
        declarations: 2225,
        files_with_errors: 1,
        expr_errors: 0,
    },
    Pinned {
        part: "avm",
        bicep: 2349,
        params: 1,
        declarations: 8555,
        files_with_errors: 0,
        expr_errors: 0,
    },
    Pinned {
        part: "bicep-samples",
        bicep: 867,
        params: 139,
        declarations: 1609,
        files_with_errors: 21,
        expr_errors: 8,
    },
];

/// Every expression of a template.
fn exprs(t: &Template) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    out.extend(t.params.iter().filter_map(|p| p.default.as_ref()));
    out.extend(t.vars.iter().map(|v| &v.value));
    out.extend(t.outputs.iter().map(|o| &o.value));
    out.extend(t.functions.iter().map(|f| &f.body));
    out.extend(t.assignments.iter().filter_map(|a| a.value.as_ref()));
    for r in &t.resources {
        out.push(&r.body);
        out.extend(
            r.name
                .iter()
                .chain(&r.parent)
                .chain(&r.scope)
                .chain(&r.condition),
        );
        out.extend(&r.depends_on);
    }
    for m in &t.modules {
        out.extend(
            m.name
                .iter()
                .chain(&m.params)
                .chain(&m.scope)
                .chain(&m.condition),
        );
    }
    out
}

#[test]
fn lowers_the_whole_corpus() {
    let Some(root) = common::shared("corpus") else {
        return;
    };
    let verbose = std::env::var_os("BICEP_CORPUS_VERBOSE").is_some();
    let started = Instant::now();
    // Files the compiler accepted: each `main.bicep` beside the JSON it was compiled to.
    let compiled: BTreeSet<PathBuf> = pairs(&root).into_iter().map(|p| p.bicep).collect();
    let mut problems = Vec::new();
    let mut compiled_seen = 0;
    for pin in &PINNED {
        let part = pin.part;
        let files = files_with_extension(&root.join(part), &["bicep", "bicepparam"]);
        let t0 = Instant::now();
        let (mut bicep, mut params) = (0, 0);
        let (mut bicep_errors, mut params_errors) = (0, 0);
        let (mut resources, mut modules) = (0, 0);
        let mut expr_errors = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let is_params = path.extension().and_then(|e| e.to_str()) == Some("bicepparam");
            let language = if is_params {
                Language::BicepParams
            } else {
                Language::Bicep
            };
            let Ok(t) = catch_unwind(AssertUnwindSafe(|| lower(FileId(0), &text, language))) else {
                problems.push(format!("{}: the lowering crashed", path.display()));
                continue;
            };
            if t.syntax_errors.is_empty() {
                for e in exprs(&t) {
                    e.walk(&mut |x| {
                        if let ExprKind::Error(m) = &x.kind {
                            expr_errors += 1;
                            if verbose {
                                let at: String = text
                                    .get(x.span.start as usize..x.span.end as usize)
                                    .unwrap_or("")
                                    .chars()
                                    .take(80)
                                    .collect();
                                println!("{}: expression error: {m}: {at:?}", path.display());
                            }
                        }
                    });
                }
            }
            if verbose {
                for r in t.resources.iter().filter(|r| r.name.is_none()) {
                    println!(
                        "{}: resource without a name: {:?}",
                        path.display(),
                        r.symbol
                    );
                }
            }
            compiled_seen += usize::from(compiled.contains(path));
            resources += t.resources.len();
            modules += t.modules.len();
            if is_params {
                params += 1;
            } else {
                bicep += 1;
            }
            if let Some(e) = t.syntax_errors.first() {
                if is_params {
                    params_errors += 1;
                } else {
                    bicep_errors += 1;
                }
                let line = text
                    .get(..e.span.start as usize)
                    .map(|s| s.lines().count())
                    .unwrap_or(0);
                if compiled.contains(path) {
                    problems.push(format!(
                        "{}:{line}: syntax error in a file the Bicep compiler accepted: {}",
                        path.display(),
                        e.message
                    ));
                }
                if verbose {
                    println!("{}:{line}: {}", path.display(), e.message);
                }
            }
        }
        println!(
            "{part}: {bicep} .bicep files ({bicep_errors} with syntax errors), {params} .bicepparam \
             files ({params_errors} with syntax errors), {resources} resource decls, {modules} \
             module decls, {expr_errors} error expressions in files without syntax errors, {:.2?}",
            t0.elapsed()
        );
        let pinned = |what: &str, got: usize, want: usize| {
            format!("{part}: {got} {what}, pinned {want} (tests/corpus/bicep.rs)")
        };
        if (bicep, params) != (pin.bicep, pin.params) {
            problems.push(pinned(
                ".bicep/.bicepparam files",
                bicep + params,
                pin.bicep + pin.params,
            ));
        }
        if resources + modules != pin.declarations {
            problems.push(pinned(
                "resource and module declarations",
                resources + modules,
                pin.declarations,
            ));
        }
        if bicep_errors + params_errors > pin.files_with_errors {
            problems.push(pinned(
                "files with a syntax error (at most)",
                bicep_errors + params_errors,
                pin.files_with_errors,
            ));
        }
        if expr_errors > pin.expr_errors {
            problems.push(pinned(
                "error expressions (at most)",
                expr_errors,
                pin.expr_errors,
            ));
        }
    }
    println!("total time {:.2?}", started.elapsed());
    // The compiled files are among those lowered (else no syntax error of theirs could be seen).
    assert!(
        compiled_seen == compiled.len() && compiled_seen > 900,
        "{compiled_seen} of {} compiled .bicep files lowered",
        compiled.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
