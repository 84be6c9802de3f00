//! The project indexes the language server keeps between analyses: the templates on disk under
//! each project root (re-read when the disk may have changed), with open buffers laid over them;
//! a buffer's references are scanned again only when its content hash changes.

use crate::graph::project::{scan, scan_tree, IndexedFile, ProjectIndex};
use lsp_types::Uri;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One open document as the analysis sees it.
#[derive(Debug, Clone)]
pub struct DocSnapshot {
    pub uri: Uri,
    pub path: PathBuf,
    pub version: i32,
    /// Which opening of the document this is (a reopened document may reuse versions).
    pub opened: u64,
    pub text: Arc<str>,
    pub audited: bool,
}

/// Indexes by project root, and the statement parses of the last analysis, kept by the analysis
/// worker.
#[derive(Default)]
pub struct Projects {
    /// The Bicep statements parsed for the last analysis (see [`crate::syntax::Memo`]).
    pub memo: Arc<crate::syntax::Memo>,
    /// Per root: the disk epoch it was read at, and its files on disk.
    disk: HashMap<PathBuf, (u64, Vec<IndexedFile>)>,
    /// Open buffers' scans by path: (content hash, scan).
    buffers: HashMap<PathBuf, (u64, Option<IndexedFile>)>,
    /// Bumped when the references of the open buffers change (an edit to a `module` line, a
    /// buffer opened or closed); an edit elsewhere leaves the indexes as they are.
    scans: u64,
    /// Per root: the index built at (disk epoch, `scans`), reused while both hold (building one
    /// copies every file of the project: a large workspace paid it on every keystroke).
    built: HashMap<PathBuf, (u64, u64, ProjectIndex)>,
}

/// The project a document belongs to: the workspace folder that holds it (the deepest), else
/// the git work tree that holds it, else its own folder.
pub fn root_of(path: &Path, workspace: &[PathBuf]) -> PathBuf {
    if let Some(root) = workspace
        .iter()
        .filter(|r| path.starts_with(r))
        .max_by_key(|r| r.components().count())
    {
        return root.clone();
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    if !dir.is_dir() {
        // An unsaved document, or one the disk doesn't have: only open buffers are indexed.
        return dir.to_path_buf();
    }
    crate::files::discover::project_root(dir)
}

impl Projects {
    /// The files whose deployments reach the audited open documents (each document through the
    /// index of its project), sorted.
    pub fn deployments(
        &mut self,
        docs: &[DocSnapshot],
        workspace: &[PathBuf],
        epoch: u64,
    ) -> Vec<PathBuf> {
        let mut roots: HashMap<PathBuf, Vec<&DocSnapshot>> = HashMap::new();
        for d in docs.iter().filter(|d| d.audited) {
            roots
                .entry(root_of(&d.path, workspace))
                .or_default()
                .push(d);
        }
        let mut open: HashSet<&Path> = HashSet::new();
        let mut out = Vec::new();
        // Scans of buffers, refreshed when their text changed.
        for d in docs {
            open.insert(d.path.as_path());
            let mut hasher = DefaultHasher::new();
            d.text.hash(&mut hasher);
            let hash = hasher.finish();
            let old = self.buffers.get(&d.path);
            if old.is_none_or(|(h, _)| *h != hash) {
                let scanned = scan(&d.path, &d.text);
                if old.is_none_or(|(_, s)| *s != scanned) {
                    self.scans += 1;
                }
                self.buffers.insert(d.path.clone(), (hash, scanned));
            }
        }
        let before = self.buffers.len();
        self.buffers.retain(|p, _| open.contains(p.as_path()));
        if self.buffers.len() != before {
            self.scans += 1;
        }
        self.disk.retain(|r, _| roots.contains_key(r));
        self.built.retain(|r, _| roots.contains_key(r));
        for (root, audited) in roots {
            let stale = self.disk.get(&root).is_none_or(|(e, _)| *e != epoch);
            if stale {
                let files = if root.is_dir() {
                    scan_tree(&root, &rustc_hash::FxHashSet::default())
                } else {
                    Vec::new()
                };
                self.disk.insert(root.clone(), (epoch, files));
            }
            if let Some((_, _, index)) = self
                .built
                .get(&root)
                .filter(|(e, s, _)| *e == epoch && *s == self.scans)
            {
                for d in audited {
                    out.extend(index.deployments_reaching(&d.path));
                }
                continue;
            }
            let mut files: Vec<IndexedFile> = self
                .disk
                .get(&root)
                .map(|(_, f)| {
                    f.iter()
                        .filter(|f| !open.contains(f.path.as_path()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            files.extend(
                self.buffers
                    .iter()
                    .filter(|(p, _)| p.starts_with(&root))
                    .filter_map(|(_, (_, f))| f.clone()),
            );
            let index = ProjectIndex::from_files(&root, files);
            for d in audited {
                out.extend(index.deployments_reaching(&d.path));
            }
            self.built.insert(root, (epoch, self.scans, index));
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(path: &Path, text: &str) -> DocSnapshot {
        DocSnapshot {
            uri: "file:///x.bicep".parse().unwrap(),
            path: path.to_path_buf(),
            version: 1,
            opened: 1,
            text: Arc::from(text),
            audited: true,
        }
    }

    #[test]
    fn the_index_follows_reference_edits_in_buffers_and_is_kept_otherwise() {
        let dir = std::env::temp_dir().join(format!("azaudit-projects-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (main, module) = (dir.join("main.bicep"), dir.join("mod.bicep"));
        std::fs::write(&main, "param a string\n").unwrap();
        std::fs::write(&module, "param b string\n").unwrap();
        let workspace = [dir.clone()];
        let mut projects = Projects::default();
        let calls = "module m './mod.bicep' = {\n  name: 'm'\n}\n";
        let rounds = [
            ("param a string\n", vec![module.clone()]),
            // A reference typed into the open caller: the module is reached through it.
            (calls, vec![main.clone()]),
            // An edit elsewhere keeps the index (and the answer).
            (&format!("{calls}// more\n"), vec![main.clone()]),
            ("param a string\n", vec![module.clone()]),
        ];
        for (i, (text, expected)) in rounds.iter().enumerate() {
            let docs = [doc(&main, text), doc(&module, "param b string\n")];
            let found = projects.deployments(&docs, &workspace, 0);
            assert!(found.contains(&main), "round {i}: {found:?}");
            let reaching = {
                let mut d = docs.to_vec();
                if let Some(m) = d.iter_mut().find(|d| d.path == main) {
                    m.audited = false;
                }
                projects.deployments(&d, &workspace, 0)
            };
            assert_eq!(&reaching, expected, "round {i}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
