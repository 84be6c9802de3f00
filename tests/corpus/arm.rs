//! Smoke test: classify and lower every `.json` file of the shared corpus without a panic.

use std::path::{Path, PathBuf};
use std::time::Instant;

use azaudit::expr::Expr;
use azaudit::model::{Language, Template};
use azaudit::source::FileId;
use azaudit::syntax::arm;

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
    let corpus = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"));
    if !corpus.is_dir() {
        eprintln!("skipping: {} is absent", corpus.display());
        return;
    }
    let mut files = Vec::new();
    json_files(corpus, &mut files);
    files.sort();
    let start = Instant::now();
    let (mut templates, mut params, mut other) = (0, 0, 0);
    let (mut resources, mut modules, mut with_errors) = (0, 0, 0);
    let mut examples = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let kind = arm::classify(&text);
        match kind {
            Some(Language::ArmTemplate) => templates += 1,
            Some(Language::ArmParameters) => params += 1,
            _ => {
                other += 1;
                continue;
            }
        }
        let t = arm::lower(FileId(u32::try_from(i).unwrap()), &text);
        let (r, m) = check(&t, &text, 0);
        resources += r;
        modules += m;
        if !t.syntax_errors.is_empty() {
            with_errors += 1;
            if examples.len() < 15 {
                let e = &t.syntax_errors[0];
                let snippet = text
                    .get(
                        e.span.start as usize
                            ..(e.span.end as usize).min(e.span.start as usize + 60),
                    )
                    .unwrap_or("");
                examples.push(format!("{}: {} `{snippet}`", path.display(), e.message));
            }
        }
    }
    eprintln!(
        "arm corpus: {} json files: {templates} templates, {params} parameter files, {other} other; \
         {resources} resources, {modules} deployments (inline templates included); {with_errors} files with errors; {:?}",
        files.len(),
        start.elapsed()
    );
    for e in &examples {
        eprintln!("  {e}");
    }
    assert!(templates > 0);
}
