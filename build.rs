//! Generates the list of built-in policies (`policies/**/*.json`) compiled into the binary.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let policies = root.join("policies");
    println!("cargo:rerun-if-changed=policies");
    let mut files = Vec::new();
    collect(&policies, &mut files);
    files.sort();
    let mut src = String::from("/// Built-in policy files: path relative to the repository, text.\npub static FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap_or(f);
        let _ = writeln!(
            src,
            "    ({:?}, include_str!({:?})),",
            rel.to_string_lossy().replace('\\', "/"),
            f.to_string_lossy()
        );
    }
    src.push_str("];\n");
    // Each policy's documentation: docs/policies/<id>.md.
    let docs_dir = root.join("docs/policies");
    println!("cargo:rerun-if-changed=docs/policies");
    let mut docs: Vec<PathBuf> = std::fs::read_dir(&docs_dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "md")
                        && p.file_stem().is_some_and(|s| s != "README")
                })
                .collect()
        })
        .unwrap_or_default();
    docs.sort();
    src.push_str("/// Policy documentation: policy id, Markdown text.\npub static DOCS: &[(&str, &str)] = &[\n");
    for d in &docs {
        println!("cargo:rerun-if-changed={}", d.display());
        let id = d
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            src,
            "    ({:?}, include_str!({:?})),",
            id,
            d.to_string_lossy()
        );
    }
    src.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("builtin_policies.rs");
    let _ = std::fs::write(out, src);
}
