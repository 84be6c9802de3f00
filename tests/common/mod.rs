//! Helpers shared by the test binaries (`tests/cli`, `tests/engine`, `tests/lsp`, `tests/corpus`):
//! the repository's paths, `../shared` when it is present, the built binary and its output,
//! scratch folders, and the engine run in-process on fixture files.

// Each binary uses some of these helpers, not all.
#![allow(dead_code)]

use azaudit::engine::{check, Disk, Input, Options, Report};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// `fixtures/<rel>` in the repository.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(ROOT).join("fixtures").join(rel)
}

/// The text of `fixtures/<rel>`.
pub fn read_fixture(rel: &str) -> String {
    let path = fixture(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `../shared/<rel>` beside the repository when it exists; otherwise prints that the test is
/// skipped (tests pass on a clean clone without `../shared`) and gives `None`. The path has no
/// `..` in it, like the paths the engine's file discovery gives.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let beside = Path::new(ROOT).parent().unwrap_or(Path::new("/"));
    let path = beside.join("shared").join(rel);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: {} is absent", path.display());
        None
    }
}

// ---- the built binary ------------------------------------------------------------------------

/// The built `azaudit` binary, run in `cwd`. `NO_COLOR` is removed so that no test depends on
/// the caller's environment: output to a pipe is never coloured.
pub fn command(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_azaudit"));
    c.current_dir(cwd).env_remove("NO_COLOR");
    c
}

/// Runs `azaudit ARGS` in `cwd` and waits for it.
pub fn azaudit(cwd: &Path, args: &[&str]) -> Output {
    command(cwd).args(args).output().expect("the binary runs")
}

/// The exit code (a signal is a failed test).
pub fn code(o: &Output) -> i32 {
    o.status
        .code()
        .unwrap_or_else(|| panic!("no exit code: {}", text(o)))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output followed by standard error.
pub fn text(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// Standard output as JSON (the report of `--format json`).
pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(o)))
}

/// The code of every diagnostic of a JSON report, in report order.
pub fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .expect("a diagnostics array")
        .iter()
        .map(|d| d["code"].as_str().expect("a code").to_string())
        .collect()
}

// ---- folders ---------------------------------------------------------------------------------

/// A fresh, empty folder `azaudit-<area>-<process id>-<name>` in the temporary folder: outside
/// the repository, whose ignore files and configuration would otherwise apply. `area` keeps the
/// test modules of one binary (one process id) apart.
pub fn scratch(area: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("azaudit-{area}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Writes `bytes` to `dir/name`, creating the folders in between.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("the parent folder");
    }
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Copies the folder `from` into `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the target folder");
    for entry in std::fs::read_dir(from)
        .expect("the source folder")
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("a copy");
        }
    }
}

// ---- the engine in-process -------------------------------------------------------------------

/// The file at `path` as an input of the engine, read from disk.
pub fn input(path: &Path) -> Input {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Input {
        path: path.to_path_buf(),
        text: text.into(),
    }
}

/// Audits the one file at `path` (modules and parameter files it names are read from disk).
pub fn check_file(path: &Path, options: &Options) -> Report {
    check(&[input(path)], &Disk, options)
}

// ---- the shipped policies --------------------------------------------------------------------

/// `(id, path)` of every policy shipped in `policies/<category>/<id>.json`, by id.
pub fn policy_files() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for category in std::fs::read_dir(Path::new(ROOT).join("policies")).expect("policies/") {
        let category = category.expect("an entry").path();
        if !category.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&category).expect("a category folder") {
            let file = file.expect("an entry").path();
            if file.extension().is_some_and(|e| e == "json") {
                let id = file
                    .file_stem()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned();
                out.push((id, file));
            }
        }
    }
    out.sort();
    out
}
