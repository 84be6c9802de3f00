//! The stage order of the source tree, checked: a file of one stage names (`crate::…`) only its
//! own stage and earlier ones. ARCHITECTURE.md draws the same order.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, earliest first. Each entry is one stage; a module not listed
/// here fails the check, so a new module has to be given its place.
const STAGES: &[&[&str]] = &[
    // Foundations every stage uses.
    &["source", "value", "timing", "expr"],
    &["diagnostic"],
    &["model"],
    &["syntax"],
    &["eval"],
    &["files"],
    &["graph"],
    &["policy"],
    &["report"],
    &["fix"],
    &["engine"],
    &["output"],
    &["lsp"],
    &["cli", "lib", "main", "layout"],
];

fn stage_of(module: &str) -> Option<usize> {
    STAGES.iter().position(|s| s.contains(&module))
}

/// The top-level module a file of `src/` belongs to (`src/graph/builder.rs` → `graph`).
fn module_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules `text` names as `crate::name` or `crate::{name, …}`, outside comments
/// and outside its test module (tests may run the whole engine on the stage they test).
fn named_modules(text: &str) -> Vec<String> {
    let code: String = text
        .split("#[cfg(test)]\nmod ")
        .next()
        .unwrap_or("")
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = code.get(at + "crate::".len()..).unwrap_or("");
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            out.extend(group.split(',').map(ident).filter(|n| !n.is_empty()));
        } else {
            out.push(ident(rest));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every import that runs from a stage to a later one, as `file: names module (stage i > j)`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap().to_path_buf();
        // A test-only file (`tests.rs`) may run the engine on the stage it tests.
        if relative.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        // This file names modules in its own text and imports none.
        if relative == Path::new("layout.rs") {
            continue;
        }
        let module = module_of(&relative);
        let Some(own) = stage_of(&module) else {
            found.push(format!(
                "{}: module `{module}` has no stage in src/layout.rs",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for name in named_modules(&text) {
            match stage_of(&name) {
                Some(theirs) if theirs > own => found.push(format!(
                    "{}: names the later stage `crate::{name}` (stage {theirs} > {own})",
                    relative.display()
                )),
                Some(_) => {}
                None => found.push(format!(
                    "{}: names `crate::{name}`, which has no stage in src/layout.rs",
                    relative.display()
                )),
            }
        }
    }
    found
}

#[test]
fn each_stage_imports_only_earlier_stages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports against the stage order:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_from_a_later_stage() {
    let dir = std::env::temp_dir().join(format!("azaudit-layout-{}", std::process::id()));
    let graph = dir.join("graph");
    std::fs::create_dir_all(&graph).unwrap();
    std::fs::write(
        graph.join("builder.rs"),
        "//! x\n// crate::lsp in a comment is no import\nuse crate::{model, policy::PolicySet};\n",
    )
    .unwrap();
    std::fs::write(dir.join("model.rs"), "use crate::value::Value;\n").unwrap();
    std::fs::write(dir.join("extra.rs"), "use crate::model::Template;\n").unwrap();
    let found = violations(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        found,
        vec![
            "extra.rs: module `extra` has no stage in src/layout.rs".to_string(),
            "graph/builder.rs: names the later stage `crate::policy` (stage 7 > 6)".to_string(),
        ]
    );
}
