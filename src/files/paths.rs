//! Where module and parameter-file references may lead, as Bicep resolves them: relative to the
//! referring file, never absolute, and (unless configured) never out of the project root (the git
//! work tree that holds the input, else the folder given).

use std::path::{Component, Path, PathBuf};

pub use crate::model::TEMPLATE_SPEC_ID_PREFIX;

/// The path rules of one analysis.
#[derive(Debug, Clone, Default)]
pub struct PathRules {
    /// Project roots (absolute). Empty: each referring file's own [`project_root`].
    pub roots: Vec<PathBuf>,
    /// Paths out of the project root are read too (`--allow-outside-project`).
    pub allow_outside: bool,
}

/// `a/./b/../c` → `a/c`, without touching the file system. A `..` that has no folder to leave
/// stays in a relative path (`../../x` is still `../../x`) and is dropped at the root (`/..` is `/`).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::ParentDir | Component::CurDir) | None => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether `reference` is written as an absolute path (`/x`, `\x`, `C:\x`, `C:/x`, `\\server\x`).
pub fn is_absolute_reference(reference: &str) -> bool {
    let r = reference.trim();
    let bytes = r.as_bytes();
    r.starts_with('/')
        || r.starts_with('\\')
        || matches!(bytes, [d, b':', ..] if d.is_ascii_alphabetic())
        || Path::new(r).is_absolute()
}

/// Why a module or parameter-file reference is not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "'{0}' is an absolute path; Bicep accepts only paths relative to the file that names them"
    )]
    Absolute(String),
    #[error(
        "'{0}' leads out of the project folder; it is not read (--allow-outside-project reads it)"
    )]
    OutsideProject(String),
}

impl PathRules {
    /// The file that `reference` (as written in the file at `referrer`) names, or why it is not
    /// read.
    pub fn resolve(&self, referrer: &Path, reference: &str) -> Result<PathBuf, Refused> {
        if is_absolute_reference(reference) {
            return Err(Refused::Absolute(reference.to_string()));
        }
        let base = referrer.parent().unwrap_or(Path::new(""));
        let path = normalize(&base.join(reference));
        if self.allow_outside {
            return Ok(path);
        }
        if self.contains(&path, referrer) {
            Ok(path)
        } else {
            Err(Refused::OutsideProject(reference.to_string()))
        }
    }

    /// Whether the absolute, normalized `path` is inside a project root (the roots given, else
    /// `referrer`'s), lexically and, when it exists, after following symbolic links too.
    pub fn contains(&self, path: &Path, referrer: &Path) -> bool {
        if self.allow_outside {
            return true;
        }
        let own;
        let roots: &[PathBuf] = if self.roots.is_empty() {
            own = [project_root(referrer)];
            &own
        } else {
            &self.roots
        };
        // Lexically inside, and (when it exists) inside after following symbolic links too.
        let lexical = roots.iter().any(|r| path.starts_with(r));
        let real = match std::fs::canonicalize(path) {
            Ok(real) => roots.iter().any(|r| {
                std::fs::canonicalize(r)
                    .map(|r| real.starts_with(r))
                    .unwrap_or(false)
            }),
            Err(_) => true,
        };
        lexical && real
    }
}

/// `path` made absolute against the current directory, `.` and `..` removed lexically (as module
/// paths are resolved), symlinks not resolved: the one spelling every file of a run is known by.
pub fn absolute(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    normalize(&path)
}

/// The project root of `path`: the git work tree that holds it (the nearest folder above it with a
/// `.git` folder or file), else the given folder itself, or for a file the current directory when
/// it holds the file (else the file's folder). Module and parameter-file paths may not leave it.
pub fn project_root(path: &Path) -> PathBuf {
    let path = absolute(path);
    let is_dir = path.is_dir();
    let start = if is_dir {
        path.clone()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    if let Some(work_tree) = start.ancestors().find(|d| d.join(".git").exists()) {
        return work_tree.to_path_buf();
    }
    if is_dir {
        return path;
    }
    match std::env::current_dir() {
        Ok(cwd) if path.starts_with(absolute(&cwd)) => absolute(&cwd),
        _ => start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_the_parents_a_relative_path_climbs() {
        let n = |p: &str| normalize(Path::new(p));
        assert_eq!(n("a/./b/../c"), PathBuf::from("a/c"));
        assert_eq!(n("../../x"), PathBuf::from("../../x"));
        assert_eq!(n("a/../../x"), PathBuf::from("../x"));
        assert_eq!(n("./a/.."), PathBuf::from(""));
        assert_eq!(n("/a/../../b"), PathBuf::from("/b"));
        assert_eq!(n("/.."), PathBuf::from("/"));
    }

    #[test]
    fn absolute_references_are_refused() {
        let rules = PathRules {
            roots: vec![PathBuf::from("/p")],
            allow_outside: true,
        };
        for r in [
            "/etc/passwd",
            "\\\\server\\share\\x.bicep",
            "C:\\x.bicep",
            "c:/x.json",
        ] {
            assert!(rules.resolve(Path::new("/p/main.bicep"), r).is_err(), "{r}");
        }
    }

    #[test]
    fn references_stay_in_the_project() {
        let rules = PathRules {
            roots: vec![PathBuf::from("/p")],
            allow_outside: false,
        };
        let main = Path::new("/p/infra/main.bicep");
        assert_eq!(
            rules.resolve(main, "../modules/x.bicep").unwrap(),
            PathBuf::from("/p/modules/x.bicep")
        );
        let e = rules.resolve(main, "../../../etc/passwd").unwrap_err();
        assert_eq!(e, Refused::OutsideProject("../../../etc/passwd".into()));
        assert!(e.to_string().contains("out of the project"), "{e}");
        let open = PathRules {
            allow_outside: true,
            ..rules
        };
        assert_eq!(
            open.resolve(main, "../../etc/x.json").unwrap(),
            PathBuf::from("/etc/x.json")
        );
    }
}
