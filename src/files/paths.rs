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

/// Sorts `items` by [`Path`] order (component by component) of `path`, ties by `then`. When
/// every path is plain (see [`plain_bytes`]) their bytes are compared with `/` below every other
/// byte, which orders them as their components do without taking them apart: a walked tree's
/// thousands of paths were sorted by components at ~1,000 instructions a comparison.
pub fn sort_by_path<T>(
    items: &mut [T],
    path: impl Fn(&T) -> &Path,
    then: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    if items.iter().all(|i| plain_bytes(path(i)).is_some()) {
        items.sort_by(|a, b| {
            let (x, y) = (path(a).as_os_str(), path(b).as_os_str());
            plain_order(x.as_encoded_bytes(), y.as_encoded_bytes()).then_with(|| then(a, b))
        });
    } else {
        items.sort_by(|a, b| path(a).cmp(path(b)).then_with(|| then(a, b)));
    }
}

/// The bytes of `path` when its components are its `/`-separated parts (an optional root, then
/// names only: no `.` or `..`, no empty part, no trailing `/`), so that bytes and components
/// order alike; `None` otherwise, and always off Unix (prefixes, two separators).
fn plain_bytes(path: &Path) -> Option<&[u8]> {
    if !cfg!(unix) {
        return None;
    }
    let bytes = path.as_os_str().as_encoded_bytes();
    let names = bytes.strip_prefix(b"/").unwrap_or(bytes);
    names
        .split(|b| *b == b'/')
        .all(|name| !matches!(name, b"" | b"." | b".."))
        .then_some(bytes)
}

/// Plain paths' order: the first differing byte decides, `/` below any other byte (a name that
/// is a prefix of another sorts first, as its component does); a path that is a prefix of the
/// other sorts first.
fn plain_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let rank = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
    // Eight bytes at a time to the first difference: sorted paths share long prefixes.
    let words = a
        .chunks_exact(8)
        .zip(b.chunks_exact(8))
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (
        a.get(words * 8..).unwrap_or_default(),
        b.get(words * 8..).unwrap_or_default(),
    );
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    match (a.get(same), b.get(same)) {
        (Some(x), Some(y)) => rank(*x).cmp(&rank(*y)),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_sort_by_bytes_as_by_components() {
        let names = [
            "/a", "/a/b", "/a.b", "/a-b", "/a b", "/a/b.c", "/a/b/c", "/ab", "/a!/b", "/", "/é/x",
            "/a/B", "rel/a", "rel", "rel-x/y", "/x/./y", "/x/../y", "x//y", "/x/", "/x/y.",
        ];
        let mut paths: Vec<PathBuf> = names.iter().map(PathBuf::from).collect();
        let mut expected = paths.clone();
        expected.sort();
        sort_by_path(
            &mut paths,
            |p| p.as_path(),
            |_, _| std::cmp::Ordering::Equal,
        );
        assert_eq!(paths, expected);
        // The plain ones alone take the byte way, and agree.
        let mut plain: Vec<PathBuf> = names
            .iter()
            .map(PathBuf::from)
            .filter(|p| plain_bytes(p).is_some())
            .collect();
        assert!(plain.len() > 10);
        let mut expected = plain.clone();
        expected.sort();
        plain.reverse();
        sort_by_path(
            &mut plain,
            |p| p.as_path(),
            |_, _| std::cmp::Ordering::Equal,
        );
        assert_eq!(plain, expected);
        assert!(plain_bytes(Path::new("/x/./y")).is_none());
        assert!(plain_bytes(Path::new("x//y")).is_none());
        assert!(plain_bytes(Path::new("/x/")).is_none());
    }

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
