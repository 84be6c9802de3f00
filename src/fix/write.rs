//! Writing a fixed file safely: a temporary file in the same folder, flushed to disk, then renamed
//! over the original (its permissions kept), so a kill or a full disk never leaves a half-written
//! file. A symbolic link's target is edited; nothing outside the project roots is.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What [`write_atomically`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file written: the path itself, or the target of the symbolic link at the path.
    pub target: PathBuf,
    /// `path` was a symbolic link (its target was edited).
    pub through_link: bool,
}

/// Why a file was not written; the original is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotWritten(pub String);

impl std::fmt::Display for NotWritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Replaces the contents of `path` with `contents`, atomically. When `roots` is not empty, the
/// file (after following symbolic links) must be inside one of them.
pub fn write_atomically(
    path: &Path,
    contents: &[u8],
    roots: &[PathBuf],
) -> Result<Written, NotWritten> {
    let link = std::fs::symlink_metadata(path).map_err(|e| io(path, &e))?;
    let through_link = link.file_type().is_symlink();
    let target = std::fs::canonicalize(path).map_err(|e| io(path, &e))?;
    let meta = std::fs::metadata(&target).map_err(|e| io(&target, &e))?;
    if !meta.is_file() {
        return Err(NotWritten(format!(
            "`{}` is not a regular file",
            target.display()
        )));
    }
    if !roots.is_empty() {
        let inside = roots.iter().any(|r| {
            std::fs::canonicalize(r)
                .map(|r| target.starts_with(r))
                .unwrap_or(false)
        });
        if !inside {
            return Err(NotWritten(format!(
                "`{}` is outside the project; files there are not edited",
                target.display()
            )));
        }
    }
    if meta.permissions().readonly() {
        return Err(NotWritten(format!("`{}` is read-only", target.display())));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = temporary_path(dir, &name);
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(contents)?;
        file.set_permissions(meta.permissions())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &target)?;
        // The rename itself is made durable by flushing the folder (where the platform allows).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(Written {
            target,
            through_link,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(io(&target, &e))
        }
    }
}

/// A name beside `name` in `dir` that no other run uses.
fn temporary_path(dir: &Path, name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.azaudit-{}-{n}.tmp", std::process::id()))
}

fn io(path: &Path, e: &std::io::Error) -> NotWritten {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string().to_lowercase(),
    };
    NotWritten(format!("cannot write `{}`: {what}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("azaudit-write-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn replaces_the_contents_and_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("mode");
        let file = dir.join("main.bicep");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let w = write_atomically(&file, b"new", std::slice::from_ref(&dir)).unwrap();
        assert!(!w.through_link);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert!(leftovers(&dir).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_keeps_pointing_at_its_edited_target() {
        let dir = scratch("link");
        let target = dir.join("real.bicep");
        let link = dir.join("link.bicep");
        std::fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let w = write_atomically(&link, b"new", std::slice::from_ref(&dir)).unwrap();
        assert!(w.through_link);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn nothing_outside_the_roots_is_written() {
        let dir = scratch("outside");
        let project = dir.join("project");
        std::fs::create_dir_all(&project).unwrap();
        let outside = dir.join("elsewhere.bicep");
        std::fs::write(&outside, "old").unwrap();
        let link = project.join("link.bicep");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        for path in [&outside, &link] {
            let e = write_atomically(path, b"new", std::slice::from_ref(&project)).unwrap_err();
            assert!(e.0.contains("outside the project"), "{e}");
        }
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "old");
    }

    #[test]
    fn a_read_only_file_is_left_alone() {
        let dir = scratch("readonly");
        let file = dir.join("main.bicep");
        std::fs::write(&file, "old").unwrap();
        let mut p = std::fs::metadata(&file).unwrap().permissions();
        p.set_readonly(true);
        std::fs::set_permissions(&file, p).unwrap();
        let e = write_atomically(&file, b"new", &[]).unwrap_err();
        assert!(e.0.contains("read-only"), "{e}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old");
        assert!(leftovers(&dir).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_that_refuses_the_temporary_file_leaves_the_original() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("nodir");
        let file = dir.join("main.bicep");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let result = write_atomically(&file, b"new", &[]);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        // As root the folder's mode does not stop the write; otherwise it must fail cleanly.
        match result {
            Ok(_) => assert_eq!(std::fs::read_to_string(&file).unwrap(), "new"),
            Err(_) => assert_eq!(std::fs::read_to_string(&file).unwrap(), "old"),
        }
        assert!(leftovers(&dir).is_empty());
    }
}
