//! Smoke test: lowers every Bicep and .bicepparam file of the shared corpus without panicking and
//! prints how many declarations and syntax errors it found. Skips when ../shared is absent.
//! `BICEP_CORPUS_VERBOSE=1` lists the first syntax error of each file that has one.

use azaudit::expr::{Expr, ExprKind};
use azaudit::files::discover::files_with_extension;
use azaudit::model::{Language, Template};
use azaudit::source::FileId;
use azaudit::syntax::bicep::lower;
use std::path::Path;
use std::time::Instant;

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
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"));
    if !root.is_dir() {
        println!("skipped: {} is absent", root.display());
        return;
    }
    let verbose = std::env::var_os("BICEP_CORPUS_VERBOSE").is_some();
    let started = Instant::now();
    for part in ["quickstart", "avm", "bicep-samples"] {
        let mut files = Vec::new();
        files.extend(files_with_extension(
            &root.join(part),
            &["bicep", "bicepparam"],
        ));
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
            let t = lower(FileId(0), &text, language);
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
                if verbose {
                    let line = text
                        .get(..e.span.start as usize)
                        .map(|s| s.lines().count())
                        .unwrap_or(0);
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
    }
    println!("total time {:.2?}", started.elapsed());
}
