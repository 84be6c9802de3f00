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
            if self.buffers.get(&d.path).is_none_or(|(h, _)| *h != hash) {
                self.buffers
                    .insert(d.path.clone(), (hash, scan(&d.path, &d.text)));
            }
        }
        self.buffers.retain(|p, _| open.contains(p.as_path()));
        self.disk.retain(|r, _| roots.contains_key(r));
        for (root, audited) in roots {
            let stale = self.disk.get(&root).is_none_or(|(e, _)| *e != epoch);
            if stale {
                let files = if root.is_dir() {
                    scan_tree(&root, &HashSet::new())
                } else {
                    Vec::new()
                };
                self.disk.insert(root.clone(), (epoch, files));
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
        }
        out.sort();
        out.dedup();
        out
    }
}
