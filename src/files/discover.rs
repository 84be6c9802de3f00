//! Finding the files to audit: walks the given paths (honouring `.gitignore`), picks Bicep files
//! and the JSON files that are ARM templates or parameter files, and reads them in parallel.

use crate::files::Input;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file the walk found, not yet read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    /// Absolute path.
    pub path: PathBuf,
    /// Named on the command line (always taken), rather than found by walking a folder.
    pub explicit: bool,
}

/// What [`candidates`] found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Sorted, without duplicates.
    pub candidates: Vec<Candidate>,
    /// Problems met on the way (a broken `.gitignore`), for stderr.
    pub warnings: Vec<String>,
    /// Paths given that do not exist, and folders that could not be read (`read-error`).
    pub unreadable: Vec<Unreadable>,
}

/// A file that should have been audited but could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub path: PathBuf,
    /// Lowercase, one line: "not valid UTF-8", "permission denied".
    pub message: String,
}

/// What [`read_all`] produced.
#[derive(Debug, Default)]
pub struct Discovery {
    /// The files to audit, sorted by path.
    pub inputs: Vec<Input>,
    /// Files that could not be read, sorted by path.
    pub unreadable: Vec<Unreadable>,
    /// Explicitly named JSON files skipped because they are not ARM files (for a note on stderr).
    pub skipped: Vec<PathBuf>,
}

/// The kinds of file azaudit reads, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.bicep`, `.bicepparam`: always audited.
    Bicep,
    /// `.json`, `.jsonc`: audited when `$schema` names an ARM template or parameter file.
    Json,
    /// Anything else: audited only when named explicitly.
    Other,
}

/// The kind of `path` by its extension (case-insensitive).
pub fn kind_of(path: &Path) -> FileKind {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "bicep" | "bicepparam" => FileKind::Bicep,
        "json" | "jsonc" => FileKind::Json,
        _ => FileKind::Other,
    }
}

pub use super::paths::{absolute, project_root};

/// Walks `paths` (files or folders; `.gitignore` and `.ignore` rules apply inside folders, hidden
/// files are included, `.git` folders skipped) and returns the Bicep and JSON candidates, sorted and without duplicates.
///
/// A path that does not exist, and a folder that can't be read, is reported in
/// [`Walked::unreadable`]; the other paths are still walked.
///
/// A symbolic link to a regular file is a candidate under the link's own path when the file it
/// leads to is inside the project root (see [`candidates_with`]); links to folders are not
/// entered (so no walk can loop).
pub fn candidates(paths: &[PathBuf]) -> anyhow::Result<Walked> {
    candidates_with(paths, false)
}

/// [`candidates`], where a link in a walked folder may lead out of the project root when
/// `allow_outside` (`--allow-outside-project`); otherwise such a link, a dangling link and a
/// loop of links are reported in [`Walked::unreadable`].
pub fn candidates_with(paths: &[PathBuf], allow_outside: bool) -> anyhow::Result<Walked> {
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    let mut unreadable = Vec::new();
    let mut dirs = Vec::new();
    for path in paths {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => {
                unreadable.push(Unreadable {
                    path: absolute(path),
                    message: io_message(&e),
                });
                continue;
            }
        };
        if meta.is_dir() {
            // Walked from its normalized absolute path, so the files found below it are too.
            dirs.push(absolute(path));
        } else {
            found.push(Candidate {
                path: absolute(path),
                explicit: true,
            });
        }
    }
    // Each walked folder with its project root, for the links found in it (deepest first).
    let mut roots: Vec<(PathBuf, super::paths::PathRules)> = dirs
        .iter()
        .map(|d| {
            let rules = super::paths::PathRules {
                roots: vec![project_root(d)],
                allow_outside,
            };
            (absolute(d), rules)
        })
        .collect();
    roots.sort_by_key(|(d, _)| std::cmp::Reverse(d.components().count()));
    if let Some((first, rest)) = dirs.split_first() {
        let mut builder = ignore::WalkBuilder::new(first);
        for dir in rest {
            builder.add(dir);
        }
        // Hidden files are audited (Bicep modules named `.something.bicep` exist); version
        // control folders are not entered.
        builder
            .require_git(false)
            .follow_links(false)
            .hidden(false)
            .filter_entry(|entry| {
                let vcs = [".git", ".hg", ".svn", ".jj"];
                !(entry.file_type().is_some_and(|t| t.is_dir())
                    && vcs.iter().any(|n| entry.file_name() == *n))
            });
        // Walked on this thread: the walk is a small part of a run (reading and analysis are
        // parallel after it), and ignore's parallel walker ends each walk with its idle workers
        // polling in 1 ms sleeps, which a run that walks many small trees (each project root of
        // a callers search) paid hundreds of times: 526 named quickstart files 0.83 s → 0.35 s.
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for entry in builder.build() {
            let outcome = match entry {
                Ok(entry) => {
                    if kind_of(entry.path()) == FileKind::Other {
                        continue;
                    }
                    if entry.path_is_symlink() {
                        match linked_file(entry.path(), &roots) {
                            Some(Ok(c)) => Ok(c),
                            Some(Err(u)) => Err((Some(u.path), u.message)),
                            None => continue,
                        }
                    } else if entry.file_type().is_some_and(|t| t.is_file()) {
                        Ok(Candidate {
                            path: entry.into_path(),
                            explicit: false,
                        })
                    } else {
                        continue;
                    }
                }
                Err(e) => Err(walk_error(&e)),
            };
            match outcome {
                Ok(c) => files.push(c),
                Err(e) => errors.push(e),
            }
        }
        found.append(&mut files);
        for e in errors {
            match e {
                (Some(path), message) => unreadable.push(Unreadable { path, message }),
                (None, message) => warnings.push(message),
            }
        }
        warnings.sort();
    }
    unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    unreadable.dedup_by(|a, b| a.path == b.path);
    // As `found.sort()`: by path, then the explicit flag.
    super::paths::sort_by_path(&mut found, |c| &c.path, |a, b| a.explicit.cmp(&b.explicit));
    // An explicit mention sorts after the walked one: keep the explicit flag on duplicates.
    found.dedup_by(|later, earlier| {
        if later.path == earlier.path {
            earlier.explicit |= later.explicit;
            true
        } else {
            false
        }
    });
    Ok(Walked {
        candidates: found,
        warnings,
        unreadable,
    })
}

/// A symbolic link met in a walked folder: a candidate when it leads to a regular file inside
/// the project root of the folder it was found in, `read-error` material when it dangles, loops
/// or leads out of the project, and nothing for a link to a folder or a special file (neither
/// is walked when it is not a link either).
fn linked_file(
    link: &Path,
    roots: &[(PathBuf, super::paths::PathRules)],
) -> Option<Result<Candidate, Unreadable>> {
    let path = absolute(link);
    let target = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) => {
            return Some(Err(Unreadable {
                message: format!(
                    "a symbolic link whose target can't be read: {}",
                    io_message(&e)
                ),
                path,
            }))
        }
    };
    if !target.is_file() {
        return None;
    }
    let rules = roots
        .iter()
        .find(|(dir, _)| path.starts_with(dir))
        .map(|(_, rules)| rules)?;
    if rules.contains(&path, &path) {
        Some(Ok(Candidate {
            path,
            explicit: false,
        }))
    } else {
        Some(Err(Unreadable {
            message: "a symbolic link that leads out of the project folder; it is not read (--allow-outside-project reads it)".to_string(),
            path,
        }))
    }
}

/// The files below `dir`, walked as [`candidates`] walks them (sorted, normalized absolute paths),
/// whose extension is one of `extensions` (lowercase); none when `dir` can't be read. For tests,
/// benchmarks and tools that go over a corpus.
pub fn files_with_extension(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let Ok(walked) = candidates(&[dir.to_path_buf()]) else {
        return Vec::new();
    };
    walked
        .candidates
        .into_iter()
        .map(|c| c.path)
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect()
}

/// A walk error: the path it concerns (a folder or file that can't be read) with the reason, or
/// only a message (a broken ignore file).
fn walk_error(e: &ignore::Error) -> (Option<PathBuf>, String) {
    let mut at = None;
    let mut inner = e;
    loop {
        match inner {
            ignore::Error::WithPath { path, err } => {
                at.get_or_insert_with(|| absolute(path));
                inner = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner = err;
            }
            ignore::Error::Io(io) => return (at, io_message(io)),
            other => return (None, other.to_string()),
        }
    }
}

fn io_message(e: &std::io::Error) -> String {
    ReadError::from(e).to_string()
}

/// Why a file is not read; each reads as a one-line lowercase reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("no such file or folder")]
    NotFound,
    #[error("permission denied")]
    PermissionDenied,
    #[error("is a folder")]
    Folder,
    #[error("not a regular file (a device, FIFO or socket)")]
    NotRegular,
    #[error("larger than the {limit} byte limit (--max-file-size)")]
    TooLarge { limit: u64 },
    #[error("not valid UTF-8")]
    NotUtf8,
    /// Another I/O error, its message lowercase.
    #[error("{0}")]
    Io(String),
}

impl From<&std::io::Error> for ReadError {
    fn from(e: &std::io::Error) -> ReadError {
        match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            std::io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
            _ => ReadError::Io(e.to_string().to_lowercase()),
        }
    }
}

/// Default for [`max_file_size`]: 64 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;

static MAX_FILE_SIZE: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(DEFAULT_MAX_FILE_SIZE);

/// The largest file azaudit reads, in bytes (`--max-file-size`); larger files are a `read-error`.
pub fn max_file_size() -> u64 {
    MAX_FILE_SIZE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets [`max_file_size`] for the rest of the process.
pub fn set_max_file_size(bytes: u64) {
    MAX_FILE_SIZE.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// The bytes of `path` when it is a regular file (after following symbolic links) of at most
/// [`max_file_size`] bytes; otherwise why not. Device files, FIFOs and sockets are never read,
/// so reading can neither block nor run without end.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, ReadError> {
    let cap = max_file_size();
    let file = match open_nonblocking(path) {
        Ok(file) => file,
        // Nothing there (a missing `bicepconfig.json` is looked for in every folder): no second
        // walk, the check by path would say the same.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::NotFound),
        // Why it can't be opened as the checks by path tell it first (a socket, a file too
        // large and unreadable), else the error of opening it.
        Err(e) => {
            return Err(check_by_path(path, cap)
                .err()
                .unwrap_or(ReadError::from(&e)))
        }
    };
    // The checks on what was opened: the one path walk of the read.
    let meta = file.metadata().map_err(|e| ReadError::from(&e))?;
    check_kind_and_size(&meta, cap)?;
    read_capped(file, meta.len(), cap)
}

/// `path` opened for reading in a way that neither blocks (a FIFO without writer) nor makes a
/// terminal the process's controlling terminal: [`read_regular`] walks the path once, opening
/// first and checking what it opened after.
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// Elsewhere opening could block on what isn't a regular file: checked by path first (a second
/// walk, where the first was the check).
#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    if let Err(why) = check_by_path(path, max_file_size()) {
        return Err(std::io::Error::other(why.to_string()));
    }
    std::fs::File::open(path)
}

/// [`check_kind_and_size`] of what `path` names.
fn check_by_path(path: &Path, cap: u64) -> Result<(), ReadError> {
    let meta = std::fs::metadata(path).map_err(|e| ReadError::from(&e))?;
    check_kind_and_size(&meta, cap)
}

/// A regular file of at most `cap` bytes, else why not.
fn check_kind_and_size(meta: &std::fs::Metadata, cap: u64) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(if meta.is_dir() {
            ReadError::Folder
        } else {
            ReadError::NotRegular
        });
    }
    if meta.len() > cap {
        return Err(ReadError::TooLarge { limit: cap });
    }
    Ok(())
}

/// The bytes of `file` (`len` long when checked), at most `cap` (it may have grown since).
fn read_capped(file: std::fs::File, len: u64, cap: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::from(&e))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > cap {
        return Err(ReadError::TooLarge { limit: cap });
    }
    Ok(bytes)
}

/// The text of `path` as [`read_regular`] reads and [`decode_owned`] decodes it.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    decode_owned(read_regular(path)?).map_err(|_| ReadError::NotUtf8)
}

/// Reads the candidates in parallel: Bicep files are taken, JSON files when they are ARM files
/// (or were named explicitly and look like ARM files), explicit files of other kinds always.
pub fn read_all(candidates: &[Candidate]) -> Discovery {
    let (inputs, unreadable, skipped) = read_each(candidates, |path, text| Input {
        path,
        text: Arc::from(text),
    });
    Discovery {
        inputs,
        unreadable,
        skipped,
    }
}

/// [`read_all`], each file taken given to `keep` as it is read (its path and text), which keeps
/// what it needs of it (a bulk audit keeps its references, not its text): what `keep` returned
/// for the files taken, the unreadable files and the explicitly named files skipped. The text is
/// the `String` the bytes became, so that a text not kept is never copied into an `Arc<str>`.
pub fn read_each<T: Send>(
    candidates: &[Candidate],
    keep: impl Fn(PathBuf, String) -> T + Sync,
) -> (Vec<T>, Vec<Unreadable>, Vec<PathBuf>) {
    enum Outcome<T> {
        Take(T),
        Fail(Unreadable),
        Skip(Option<PathBuf>),
    }
    let outcomes: Vec<Outcome<T>> = candidates
        .par_iter()
        .map(|c| {
            let kind = kind_of(&c.path);
            let bytes = match read_regular(&c.path) {
                Ok(bytes) => bytes,
                Err(why) => {
                    return Outcome::Fail(Unreadable {
                        path: c.path.clone(),
                        message: why.to_string(),
                    })
                }
            };
            let (text, bytes) = match decode_owned(bytes) {
                Ok(text) => (Some(text), Vec::new()),
                Err(bytes) => (None, bytes),
            };
            match text {
                Some(text) => {
                    if kind == FileKind::Json && !is_arm_json(&text) {
                        return Outcome::Skip(c.explicit.then(|| c.path.clone()));
                    }
                    Outcome::Take(keep(c.path.clone(), text))
                }
                None => {
                    let wanted = match kind {
                        FileKind::Json => {
                            c.explicit || is_arm_json(&String::from_utf8_lossy(&bytes))
                        }
                        FileKind::Bicep | FileKind::Other => true,
                    };
                    if wanted {
                        Outcome::Fail(Unreadable {
                            path: c.path.clone(),
                            message: "not valid UTF-8".to_string(),
                        })
                    } else {
                        Outcome::Skip(None)
                    }
                }
            }
        })
        .collect();
    let (mut taken, mut unreadable, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for outcome in outcomes {
        match outcome {
            Outcome::Take(t) => taken.push(t),
            Outcome::Fail(u) => unreadable.push(u),
            Outcome::Skip(Some(path)) => skipped.push(path),
            Outcome::Skip(None) => {}
        }
    }
    (taken, unreadable, skipped)
}

/// [`decode`] without copying plain UTF-8; the bytes back when they are no text.
pub fn decode_owned(bytes: Vec<u8>) -> Result<String, Vec<u8>> {
    let marked = [&[0xEF, 0xBB, 0xBF][..], &[0xFF, 0xFE], &[0xFE, 0xFF]];
    if marked.iter().any(|m| bytes.starts_with(m)) {
        return decode(&bytes).ok_or(bytes);
    }
    String::from_utf8(bytes).map_err(|e| e.into_bytes())
}

/// The text of a file: UTF-8 (a byte-order mark dropped), or UTF-16 with a byte-order mark.
pub fn decode(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8(rest.to_vec()).ok();
    }
    let utf16 = |rest: &[u8], little: bool| {
        if !rest.len().is_multiple_of(2) {
            return None;
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|p| match p {
                [a, b] if little => u16::from_le_bytes([*a, *b]),
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0,
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    std::str::from_utf8(bytes).ok().map(str::to_string)
}

/// Whether JSON text declares an ARM template or parameter file schema (resource group,
/// subscription, management group or tenant deployment templates; deployment parameters).
pub fn is_arm_json(text: &str) -> bool {
    crate::syntax::arm::classify(text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_arm_schemas() {
        let rg = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"}"#;
        let sub = r#"{ "$schema" : "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#" }"#;
        let mg = r#"{"$schema":"https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#"}"#;
        let tenant = r#"{"$schema":"https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#"}"#;
        let params = r#"{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"}"#;
        let old = r#"{"$schema":"http://schema.management.azure.com/schemas/2015-01-01/DeploymentTemplate.json#"}"#;
        for t in [rg, sub, mg, tenant, params, old] {
            assert!(is_arm_json(t), "{t}");
        }
        assert!(!is_arm_json(r#"{"name": "pkg", "version": "1.0.0"}"#));
        assert!(!is_arm_json(
            r#"{"$schema": "https://raw.githubusercontent.com/Azure/bicep/main/src/vscode-bicep/schemas/bicepconfig.schema.json"}"#
        ));
    }

    #[test]
    fn decodes_bom_and_utf16() {
        assert_eq!(decode(b"\xEF\xBB\xBFab").as_deref(), Some("ab"));
        assert_eq!(decode(b"\xFF\xFEa\x00b\x00").as_deref(), Some("ab"));
        assert_eq!(decode(b"\xFF\x00\x41"), None);
    }

    #[test]
    fn the_project_root_is_the_git_work_tree_else_the_folder() {
        let base = std::env::temp_dir().join(format!("azaudit-root-{}", std::process::id()));
        let plain = base.join("plain/infra");
        let repo = base.join("repo");
        std::fs::create_dir_all(&plain).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("infra/modules")).unwrap();
        std::fs::write(repo.join("infra/main.bicep"), "").unwrap();
        assert_eq!(project_root(&plain), absolute(&plain));
        assert_eq!(project_root(&repo.join("infra/modules")), absolute(&repo));
        assert_eq!(
            project_root(&repo.join("infra/main.bicep")),
            absolute(&repo)
        );
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn an_unreadable_folder_is_named_with_its_reason() {
        // Built by hand: as root (CI) a folder's mode does not stop reading it.
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = ignore::Error::WithDepth {
            depth: 1,
            err: Box::new(ignore::Error::WithPath {
                path: PathBuf::from("/p/locked"),
                err: Box::new(ignore::Error::Io(denied)),
            }),
        };
        assert_eq!(
            walk_error(&e),
            (
                Some(PathBuf::from("/p/locked")),
                "permission denied".to_string()
            )
        );
    }

    #[test]
    fn a_missing_path_is_unreadable_and_the_rest_is_walked() {
        let dir = std::env::temp_dir().join(format!("azaudit-walk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.bicep"), "").unwrap();
        let walked = candidates(&[dir.join("nope"), dir.clone()]).unwrap();
        assert_eq!(walked.candidates.len(), 1);
        assert_eq!(walked.unreadable.len(), 1);
        assert_eq!(walked.unreadable[0].message, "no such file or folder");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn kinds_by_extension() {
        assert_eq!(kind_of(Path::new("a/Main.BICEP")), FileKind::Bicep);
        assert_eq!(kind_of(Path::new("a.bicepparam")), FileKind::Bicep);
        assert_eq!(kind_of(Path::new("a.jsonc")), FileKind::Json);
        assert_eq!(kind_of(Path::new("a.yaml")), FileKind::Other);
    }
}
