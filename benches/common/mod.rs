//! Helpers shared by the benchmarks over `../shared`: the folder when it is present, the files
//! the engine audits read into its inputs, and the median of timed runs.

// Each benchmark uses some of these helpers, not all.
#![allow(dead_code)]

use azaudit::engine::{language_of, Input};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `../shared/<rel>` beside the repository when it exists; otherwise says that `bench` is
/// skipped and gives `None`.
pub fn shared(rel: &str, bench: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("{bench} bench skipped: {} is absent", path.display());
        None
    }
}

/// The engine's inputs: each readable file of `paths` that is a template or parameter file.
pub fn inputs(paths: &[PathBuf]) -> Vec<Input> {
    paths
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            language_of(p, &text)?;
            Some(Input {
                path: p.clone(),
                text: text.into(),
            })
        })
        .collect()
}

/// The median of `v` (zero when empty).
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}
