//! Generates `data/builtin-definitions.bin`, the snapshot of Azure's public-cloud built-in policy
//! definitions and initiatives that azaudit bundles (see `src/policy/builtins.rs` for the layout).
//!
//! ```text
//! cargo run --example gen_builtins -- ../shared/azure-policy/built-in-policies data/builtin-definitions.bin
//! ```
//!
//! The sovereign-cloud folders (`Azure Government`, `Azure China`) are left out: they repeat
//! public-cloud ids. Each entry is its file's JSON, minified, compressed on its own so that one
//! can be read without the others, with a 64 KiB window: the decoder allocates (and zeroes) a
//! window per entry, and a 4 MiB one made reading the ~400 entries of a landing-zone chain take
//! 200 ms; the snapshot is a little larger for it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use azaudit::policy::builtins::{identify, types_column, Kind, MAGIC, SOVEREIGN_FOLDERS};
use azaudit::policy::types::definition_types;
use std::io::Write;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if SOVEREIGN_FOLDERS
                .iter()
                .any(|s| p.file_name().is_some_and(|n| n.eq_ignore_ascii_case(s)))
            {
                continue;
            }
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 11, 16);
        w.write_all(bytes).unwrap();
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let src = PathBuf::from(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("../shared/azure-policy/built-in-policies"),
    );
    let dst = PathBuf::from(
        args.get(2)
            .map(String::as_str)
            .unwrap_or("data/builtin-definitions.bin"),
    );
    let mut files = Vec::new();
    collect(&src, &mut files);
    files.sort();
    let mut entries: Vec<(Kind, String, Vec<u8>, String)> = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
            .into_owned();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (kind, name) = identify(&json, f).unwrap();
        // The resource types a definition can match, so a reader skips what can't apply.
        let types = match kind {
            Kind::Definition => types_column(&definition_types(&json)),
            Kind::Initiative => "*".to_string(),
        };
        entries.push((kind, name, serde_json::to_vec(&json).unwrap(), types));
    }
    entries.sort_by(|a, b| (a.0 as u8, &a.1).cmp(&(b.0 as u8, &b.1)));
    entries.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let compressed: Vec<Vec<u8>> = {
        use rayon::prelude::*;
        entries
            .par_iter()
            .map(|(_, _, json, _)| compress(json))
            .collect()
    };
    let mut index = String::new();
    let mut body = Vec::new();
    for ((kind, name, _, types), c) in entries.iter().zip(&compressed) {
        let k = match kind {
            Kind::Definition => "d",
            Kind::Initiative => "s",
        };
        index.push_str(&format!(
            "{k}\t{name}\t{}\t{}\t{types}\n",
            body.len(),
            c.len()
        ));
        body.extend_from_slice(c);
    }
    let index = compress(index.as_bytes());
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u32::try_from(index.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&index);
    out.extend_from_slice(&body);
    std::fs::write(&dst, &out).unwrap();
    let raw: usize = entries.iter().map(|e| e.2.len()).sum();
    println!(
        "{} entries ({} definitions, {} initiatives), {} bytes of JSON -> {} bytes in {}",
        entries.len(),
        entries.iter().filter(|e| e.0 == Kind::Definition).count(),
        entries.iter().filter(|e| e.0 == Kind::Initiative).count(),
        raw,
        out.len(),
        dst.display()
    );
}
