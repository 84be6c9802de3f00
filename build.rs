//! Generates the list of built-in policies (`policies/**/*.json`) compiled into the binary, and
//! the alias table's index (`data/aliases.txt` by type, and the aliases the built-in policies
//! name, resolved).

#[path = "src/policy/alias_text.rs"]
mod alias_text;

use std::collections::HashMap;
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
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let _ = std::fs::write(out_dir.join("builtin_policies.rs"), src);
    let _ = std::fs::write(out_dir.join("alias_index.rs"), alias_index(&root, &files));
}

/// The alias table's index: every type of `data/aliases.txt` (lowercase, sorted) with the byte
/// range of its alias lines, the aliases not named after their type, and the answer of the type
/// blocks for every string of the built-in policies that may name an alias.
fn alias_index(root: &Path, policies: &[PathBuf]) -> String {
    println!("cargo:rerun-if-changed=data/aliases.txt");
    let text = std::fs::read_to_string(root.join("data/aliases.txt")).unwrap_or_default();
    let (blocks, unnamed) = alias_text::index(&text);
    let mut types: Vec<(String, usize, usize)> = blocks
        .iter()
        .map(|b| (b.written.to_ascii_lowercase(), b.start, b.end))
        .collect();
    // Stable: a type listed twice keeps its listings in text order.
    types.sort_by(|a, b| a.0.cmp(&b.0));
    let names: String = types.iter().map(|(t, _, _)| t.as_str()).collect();
    let mut src = format!(
        "/// Every type of data/aliases.txt, lowercase, one after the other.\npub static TYPE_NAMES: &str = {names:?};\n/// Every type: byte range of its name in TYPE_NAMES, byte range of its alias lines.\npub static TYPES: &[(u32, u32, u32, u32)] = &[\n"
    );
    let mut at = 0;
    for (t, start, end) in &types {
        let _ = writeln!(src, "    ({at}, {}, {start}, {end}),", at + t.len());
        at += t.len();
    }
    src.push_str("];\n/// Aliases not named after their type: lowercase type, alias, path.\npub static UNNAMED: &[(&str, &str, &str)] = &[\n");
    for u in &unnamed {
        let _ = writeln!(
            src,
            "    ({:?}, {:?}, {:?}),",
            u.type_written.to_ascii_lowercase(),
            u.alias,
            u.path
        );
    }
    // The type blocks' answers for what the built-in policies may look up.
    let candidates: Vec<String> = policies
        .iter()
        .flat_map(|f| {
            let json = std::fs::read_to_string(f).unwrap_or_default();
            alias_text::alias_candidates(&json)
        })
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut parsed: HashMap<&str, HashMap<String, String>> = HashMap::new();
    for (t, start, end) in &types {
        let wanted = candidates.iter().any(|c| {
            c.starts_with(t.as_str()) && c.get(t.len()..).is_some_and(|r| r.starts_with('/'))
        });
        if wanted {
            let map = parsed.entry(t.as_str()).or_default();
            alias_text::parse_block(t, text.get(*start..*end).unwrap_or(""), |k, p| {
                map.insert(k, p);
            });
        }
    }
    let mut resolved: Vec<(&str, Option<&str>)> = candidates
        .iter()
        .map(|lower| {
            let path = alias_text::lookup_by_prefix(lower, |t, a| {
                parsed.get(t)?.get(a).map(String::as_str)
            });
            (lower.as_str(), path)
        })
        .collect();
    resolved.sort();
    resolved.dedup();
    src.push_str("];\n/// What the type blocks answer for the aliases the built-in policies name: lowercase alias, path.\npub static RESOLVED: &[(&str, Option<&str>)] = &[\n");
    for (alias, path) in &resolved {
        let _ = writeln!(src, "    ({alias:?}, {path:?}),");
    }
    src.push_str("];\n");
    src
}
