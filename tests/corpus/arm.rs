//! Classifies and lowers every `.json` file of the shared corpus and asserts what it counts: no
//! file crashes the lowering; the number of templates, parameter files and other JSON, and of
//! resources and deployments (inline templates included), is the pinned one; no template the
//! Bicep compiler wrote (each compiled JSON of `differential::pairs`) has a syntax error; the
//! number of files with a syntax error does not grow. Span invariants hold everywhere. Skips when
//! ../shared is absent.
//!
//! The pins are facts about the corpus (a fixed copy, see its SOURCES.md): a change that moves one
//! on purpose updates it in the same commit and says why.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::common;
use crate::differential::pairs;
use azaudit::expr::Expr;
use azaudit::model::{Language, Template};
use azaudit::source::FileId;
use azaudit::syntax::arm;

/// ARM templates, parameter files and other JSON files of the corpus.
const TEMPLATES: usize = 2445;
const PARAMETER_FILES: usize = 1404;
const OTHER_JSON: usize = 0;
/// Resources and deployments, inline templates included.
const RESOURCES: usize = 17_259;
const DEPLOYMENTS: usize = 5871;
/// At most this many files with a syntax error.
const FILES_WITH_ERRORS: usize = 1;

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

/// Counts resources and deployments (inline templates included) and checks span invariants:
/// every span lies inside the file, and heads point at the `"type"` string or the object start.
fn check(t: &Template, text: &str, depth: usize) -> (usize, usize) {
    let ok = |e: &Expr| {
        e.walk(&mut |x| {
            assert!(
                x.span.start <= x.span.end && (x.span.end as usize) <= text.len(),
                "bad span {:?}",
                x.span
            );
        })
    };
    let (mut resources, mut modules) = (t.resources.len(), t.modules.len());
    for r in &t.resources {
        let head = text
            .get(r.head_span.start as usize..r.head_span.end as usize)
            .unwrap_or("<out of bounds>");
        assert!(head.starts_with('"') || head == "{", "head {head:?}");
        ok(&r.body);
        r.name.iter().for_each(ok);
        r.condition.iter().for_each(ok);
    }
    for p in &t.params {
        let name = text
            .get(p.name_span.start as usize..p.name_span.end as usize)
            .unwrap_or("<out of bounds>");
        assert!(name.contains(p.name.as_str()), "{name:?} vs {:?}", p.name);
        p.default.iter().for_each(ok);
    }
    for v in &t.vars {
        ok(&v.value);
    }
    for m in &t.modules {
        m.params.iter().for_each(ok);
        if let Some(inner) = &m.inline_template {
            assert!(depth < 64);
            let (r, n) = check(inner, text, depth + 1);
            resources += r;
            modules += n;
        }
    }
    (resources, modules)
}

#[test]
fn corpus_lowers_without_panic() {
    let Some(corpus) = common::shared("corpus") else {
        return;
    };
    let compiled: BTreeSet<PathBuf> = pairs(&corpus).into_iter().map(|p| p.json).collect();
    let mut files = Vec::new();
    json_files(&corpus, &mut files);
    files.sort();
    let start = Instant::now();
    let (mut templates, mut params, mut other) = (0, 0, 0);
    let (mut resources, mut modules, mut with_errors) = (0, 0, 0);
    let mut examples = Vec::new();
    let mut problems = Vec::new();
    let mut compiled_seen = 0;
    for (i, path) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let lowered = catch_unwind(AssertUnwindSafe(|| {
            let kind = arm::classify(&text);
            let t = match kind {
                Some(Language::ArmTemplate | Language::ArmParameters) => {
                    let t = arm::lower(FileId(u32::try_from(i).unwrap()), &text);
                    let counts = check(&t, &text, 0);
                    Some((t, counts))
                }
                _ => None,
            };
            (kind, t)
        }));
        let Ok((kind, lowered)) = lowered else {
            problems.push(format!("{}: the lowering crashed", path.display()));
            continue;
        };
        match kind {
            Some(Language::ArmTemplate) => templates += 1,
            Some(Language::ArmParameters) => params += 1,
            _ => other += 1,
        }
        let Some((t, (r, m))) = lowered else {
            continue;
        };
        compiled_seen += usize::from(compiled.contains(path));
        resources += r;
        modules += m;
        if let Some(e) = t.syntax_errors.first() {
            with_errors += 1;
            let snippet = text
                .get(e.span.start as usize..(e.span.end as usize).min(e.span.start as usize + 60))
                .unwrap_or("");
            let example = format!("{}: {} `{snippet}`", path.display(), e.message);
            if compiled.contains(path) {
                problems.push(format!(
                    "syntax error in a template the Bicep compiler wrote: {example}"
                ));
            }
            if examples.len() < 15 {
                examples.push(example);
            }
        }
    }
    println!(
        "arm corpus: {} json files: {templates} templates, {params} parameter files, {other} other; \
         {resources} resources, {modules} deployments (inline templates included); {with_errors} files with errors; {:?}",
        files.len(),
        start.elapsed()
    );
    for e in &examples {
        println!("  {e}");
    }
    let pinned = [
        ("templates", templates, TEMPLATES),
        ("parameter files", params, PARAMETER_FILES),
        ("other JSON files", other, OTHER_JSON),
        ("resources", resources, RESOURCES),
        ("deployments", modules, DEPLOYMENTS),
    ];
    for (what, got, want) in pinned {
        if got != want {
            problems.push(format!("{got} {what}, pinned {want} (tests/corpus/arm.rs)"));
        }
    }
    if with_errors > FILES_WITH_ERRORS {
        problems.push(format!(
            "{with_errors} files with a syntax error, at most {FILES_WITH_ERRORS} pinned (tests/corpus/arm.rs)"
        ));
    }
    // The compiled templates are among those lowered (else no syntax error of theirs could be seen).
    assert!(
        compiled_seen == compiled.len() && compiled_seen > 900,
        "{compiled_seen} of {} compiled templates lowered",
        compiled.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
