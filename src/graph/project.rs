//! The project index: every template under the project root with the references between them,
//! found by a lexical pass (Bicep `module` paths and `.bicepparam` `using`, ARM
//! `templateLink.relativePath` and `templateLink.uri`-relative paths, ARM parameter files by
//! `metadata.template` and the `*.parameters.json` convention), and the deployments it implies.
//!
//! A deployment starts at a file nothing else references, or at a parameter file; a template that
//! other files reference is audited through the deployments that reach it.

use crate::files::normalize;
use crate::files::Input;
use crate::graph::deployments::local_path;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One reference from a file to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The referenced path, absolute and normalized (for a registry module: the reference text).
    pub target: PathBuf,
    /// 1-based line of the reference in the referring file.
    pub line: usize,
    /// What refers: a Bicep module, a `using`, an ARM linked template, a parameter file's template.
    pub kind: ReferenceKind,
}

/// The kinds of reference the index knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    /// A Bicep `module` with a local path.
    Module,
    /// A Bicep `module` from a registry or template spec (`br:`, `ts:`): not a project file.
    Registry,
    /// `using` of a `.bicepparam` file.
    Using,
    /// An ARM linked template (`templateLink.relativePath`, or a path relative to
    /// `templateLink.uri`).
    Linked,
    /// The template of an ARM parameter file (`metadata.template` or `x.parameters.json` → `x.json`).
    Parameters,
}

/// One indexed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    /// Absolute, normalized.
    pub path: PathBuf,
    /// A parameter file (`.bicepparam`, ARM deployment parameters): always a deployment.
    pub parameters: bool,
    pub references: Vec<Reference>,
}

/// The templates of a project and the references between them.
#[derive(Debug, Default, Clone)]
pub struct ProjectIndex {
    /// Absolute, normalized.
    pub root: PathBuf,
    files: Vec<IndexedFile>,
    /// FxHash: paths are the walk's own (hashing a path walks its components).
    by_path: FxHashMap<PathBuf, usize>,
    /// For each file, the files that reference it (inside the project).
    callers: Vec<Vec<usize>>,
}

/// The index entry of a file from its text; `None` when it is no template or parameter file.
pub fn scan(path: &Path, text: &str) -> Option<IndexedFile> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut references = Vec::new();
    let parameters = match ext.as_deref() {
        Some("bicep") | Some("bicepparam") => {
            scan_bicep(text, dir, &mut references);
            ext.as_deref() == Some("bicepparam")
        }
        Some("json") | Some("jsonc") => {
            let language = crate::syntax::arm::classify(text)?;
            let parameters = language == crate::model::Language::ArmParameters;
            scan_json(text, dir, parameters, &mut references);
            if parameters && references.is_empty() {
                if let Some(t) = crate::graph::deployments::template_by_convention(path) {
                    references.push(Reference {
                        target: t,
                        line: 1,
                        kind: ReferenceKind::Parameters,
                    });
                }
            }
            parameters
        }
        _ => return None,
    };
    Some(IndexedFile {
        path: path.to_path_buf(),
        parameters,
        references,
    })
}

/// The text of a Bicep file with comments blanked (same byte offsets; strings kept). Every
/// delimiter is ASCII, so bytes are blanked one for one and the result stays UTF-8.
fn without_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    // Copies runs of plain bytes at once, up to the next byte `stop` accepts.
    let run = |out: &mut Vec<u8>, i: &mut usize, stop: &dyn Fn(u8) -> bool| {
        let rest = bytes.get(*i..).unwrap_or_default();
        let k = rest.iter().position(|b| stop(*b)).unwrap_or(rest.len());
        out.extend_from_slice(rest.get(..k).unwrap_or_default());
        *i += k;
    };
    while i < bytes.len() {
        run(&mut out, &mut i, &|b| b == b'\'' || b == b'/');
        match (bytes.get(i), bytes.get(i + 1)) {
            (Some(b'\''), _) => {
                // A string, escapes kept, to its closing quote.
                out.push(b'\'');
                i += 1;
                loop {
                    run(&mut out, &mut i, &|b| b == b'\\' || b == b'\'');
                    match bytes.get(i) {
                        Some(b'\\') => {
                            out.extend_from_slice(bytes.get(i..i + 2).unwrap_or(b"\\"));
                            i += 2;
                        }
                        Some(_) => {
                            out.push(b'\'');
                            i += 1;
                            break;
                        }
                        None => break,
                    }
                }
            }
            (Some(b'/'), Some(b'/')) => {
                let rest = bytes.get(i..).unwrap_or_default();
                let k = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
                out.resize(out.len() + k, b' ');
                i += k;
            }
            (Some(b'/'), Some(b'*')) => {
                let body = bytes.get(i + 2..).unwrap_or_default();
                let (k, closed) = match body.windows(2).position(|w| w == b"*/") {
                    Some(k) => (k, true),
                    None => (body.len(), false),
                };
                out.extend_from_slice(b"  ");
                out.extend(body.get(..k).unwrap_or_default().iter().map(|c| {
                    if *c == b'\n' {
                        b'\n'
                    } else {
                        b' '
                    }
                }));
                if closed {
                    out.extend_from_slice(b"  ");
                }
                i += 2 + k + if closed { 2 } else { 0 };
            }
            (Some(b), _) => {
                out.push(*b);
                i += 1;
            }
            (None, _) => break,
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The single-quoted string at the start of `s`, unescaped.
fn quoted(s: &str) -> Option<String> {
    let rest = s.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '\'' => return Some(out),
            '\n' => return None,
            c => out.push(c),
        }
    }
    None
}

/// Whether `text` contains `word`: every input is searched so when it is planned, by `memmem`
/// (vectorized) rather than `str::contains`.
fn contains(text: &str, word: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), word.as_bytes()).is_some()
}

/// `module name 'path'` and `using 'path'` statements (each at the start of a line).
fn scan_bicep(text: &str, dir: &Path, out: &mut Vec<Reference>) {
    let candidate = |l: &str| {
        let t = l.trim_start();
        t.starts_with("module") || t.starts_with("using")
    };
    // Most files name neither keyword: a substring search rules them out without a line walk.
    if !(contains(text, "module") || contains(text, "using")) || !text.lines().any(candidate) {
        return;
    }
    let code = without_comments(text);
    for (i, line) in code.lines().enumerate() {
        let trimmed = line.trim_start();
        let (kind, rest) = if let Some(rest) = keyword(trimmed, "module") {
            // The symbol, then the path.
            let rest = rest.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
            (ReferenceKind::Module, rest.trim_start())
        } else if let Some(rest) = keyword(trimmed, "using") {
            (ReferenceKind::Using, rest)
        } else {
            continue;
        };
        let Some(source) = quoted(rest) else {
            continue;
        };
        if crate::graph::builder::is_registry_reference(&source) {
            out.push(Reference {
                target: PathBuf::from(source),
                line: i + 1,
                kind: ReferenceKind::Registry,
            });
            continue;
        }
        if let Some(rel) = local_path(&source) {
            out.push(Reference {
                target: normalize(&dir.join(rel)),
                line: i + 1,
                kind,
            });
        }
    }
}

/// `s` after the keyword `word` and the spaces following it (at least one).
fn keyword<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(word)?;
    let trimmed = rest.trim_start();
    (trimmed.len() < rest.len()).then_some(trimmed)
}

/// The JSON string value following `"key"` at byte `at` (the position after the key's closing
/// quote), with the line it is on.
fn string_value(text: &str, at: usize) -> Option<String> {
    let rest = text.get(at..)?.trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '/' => out.push('/'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    None
}

/// ARM linked templates (`"relativePath"`, `"uri"` relative to `templateLink.uri`) and the
/// template of a parameter file (`"template"` under `metadata`).
fn scan_json(text: &str, dir: &Path, parameters: bool, out: &mut Vec<Reference>) {
    let linked = if parameters {
        contains(text, "\"template\"")
    } else {
        contains(text, "templateLink") || contains(text, "_artifactsLocation")
    };
    if !linked {
        return;
    }
    let keys: &[&str] = if parameters {
        &["\"template\""]
    } else {
        &["\"relativePath\"", "\"uri\""]
    };
    for key in keys {
        let mut from = 0;
        let finder = memchr::memmem::Finder::new(key);
        while let Some(found) = text.get(from..).and_then(|t| finder.find(t.as_bytes())) {
            let at = from + found + key.len();
            from = at;
            let Some(value) = string_value(text, at) else {
                continue;
            };
            let rel = match *key {
                "\"uri\"" if value.trim_start().starts_with('[') => local_path(&value),
                "\"uri\"" => None,
                _ => local_path(&value),
            };
            let Some(rel) = rel else {
                continue;
            };
            let lower = rel.to_ascii_lowercase();
            if !(lower.ends_with(".json") || lower.ends_with(".jsonc") || lower.ends_with(".bicep"))
            {
                continue;
            }
            let line = text
                .get(..at)
                .map(|t| t.bytes().filter(|b| *b == b'\n').count() + 1)
                .unwrap_or(1);
            out.push(Reference {
                target: normalize(&dir.join(rel)),
                line,
                kind: if parameters {
                    ReferenceKind::Parameters
                } else {
                    ReferenceKind::Linked
                },
            });
        }
    }
}

/// The index entries of every template on disk under `root` (walked as `check` walks folders,
/// honouring `.gitignore`) but those in `skip`, read and scanned in parallel.
pub fn scan_tree(root: &Path, skip: &FxHashSet<&Path>) -> Vec<IndexedFile> {
    let paths: Vec<PathBuf> = crate::files::discover::candidates(&[root.to_path_buf()])
        .map(|w| w.candidates.into_iter().map(|c| c.path).collect())
        .unwrap_or_default();
    paths
        .par_iter()
        .filter(|p| !skip.contains(p.as_path()))
        .filter_map(|p| {
            // Regular files only, under the size cap: a FIFO or a device named `x.bicep` in the
            // project must not block or exhaust the index.
            let bytes = crate::files::discover::read_regular(p).ok()?;
            let text = crate::files::discover::decode_owned(bytes).ok()?;
            scan(p, &text)
        })
        .collect()
}

impl ProjectIndex {
    /// Indexes every template under `root` (walked as `check` walks folders, honouring
    /// `.gitignore`), reading the files in parallel; `overlay` texts (unsaved editor buffers)
    /// replace what is on disk.
    pub fn build(root: &Path, overlay: &[Input]) -> ProjectIndex {
        let paths: Vec<&Path> = overlay.iter().map(|i| i.path.as_path()).collect();
        let scanned: Vec<IndexedFile> = overlay
            .iter()
            .filter_map(|i| scan(&i.path, &i.text))
            .collect();
        ProjectIndex::with_scanned(root, &paths, &scanned)
    }

    /// [`ProjectIndex::build`] with the overlay files already scanned: `read` were read (those
    /// of them that are templates are `scanned`), the other files under `root` are read from
    /// disk.
    pub fn with_scanned(root: &Path, read: &[&Path], scanned: &[IndexedFile]) -> ProjectIndex {
        let root = crate::files::discover::absolute(root);
        let skip: FxHashSet<&Path> = read.iter().copied().collect();
        let mut files = scan_tree(&root, &skip);
        files.extend(
            scanned
                .iter()
                .filter(|f| f.path.starts_with(&root))
                .cloned(),
        );
        ProjectIndex::from_files(&root, files)
    }

    /// The index of these files under `root`.
    pub fn from_files(root: &Path, mut files: Vec<IndexedFile>) -> ProjectIndex {
        crate::files::paths::sort_by_path(&mut files, |f| &f.path, |_, _| Ordering::Equal);
        files.dedup_by(|a, b| a.path == b.path);
        let by_path: FxHashMap<PathBuf, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let mut callers = vec![Vec::new(); files.len()];
        for (i, f) in files.iter().enumerate() {
            for r in &f.references {
                if r.kind == ReferenceKind::Registry || !r.target.starts_with(root) {
                    continue;
                }
                if let Some(list) = by_path.get(&r.target).and_then(|t| callers.get_mut(*t)) {
                    if !list.contains(&i) {
                        list.push(i);
                    }
                }
            }
        }
        ProjectIndex {
            root: root.to_path_buf(),
            files,
            by_path,
            callers,
        }
    }

    /// The indexed files, sorted by path.
    pub fn files(&self) -> &[IndexedFile] {
        &self.files
    }

    /// The indexed file at `path` (absolute, normalized).
    pub fn get(&self, path: &Path) -> Option<&IndexedFile> {
        self.by_path.get(path).and_then(|i| self.files.get(*i))
    }

    /// The files that reference `path` directly.
    pub fn callers(&self, path: &Path) -> Vec<&Path> {
        self.by_path
            .get(path)
            .and_then(|i| self.callers.get(*i))
            .map(|list| {
                list.iter()
                    .filter_map(|c| self.files.get(*c).map(|f| f.path.as_path()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn is_entry_at(&self, i: usize) -> bool {
        self.files.get(i).is_some_and(|f| f.parameters)
            || self.callers.get(i).is_none_or(|c| c.is_empty())
    }

    /// Whether a deployment starts at `path`: a parameter file, or a file nothing references (a
    /// file the index doesn't hold is audited on its own).
    pub fn is_entry(&self, path: &Path) -> bool {
        self.by_path.get(path).is_none_or(|i| self.is_entry_at(*i))
    }

    /// Every file a deployment starts at, sorted.
    pub fn entries(&self) -> Vec<PathBuf> {
        (0..self.files.len())
            .filter(|i| self.is_entry_at(*i))
            .filter_map(|i| self.files.get(i).map(|f| f.path.clone()))
            .collect()
    }

    /// The files whose deployments reach `path` (through any chain of references), sorted: the
    /// file itself when it starts a deployment, when the index doesn't hold it, or when only a
    /// cycle reaches it.
    pub fn deployments_reaching(&self, path: &Path) -> Vec<PathBuf> {
        let Some(&start) = self.by_path.get(path) else {
            return vec![path.to_path_buf()];
        };
        let mut seen: HashSet<usize> = HashSet::from([start]);
        let mut stack = vec![start];
        let mut found = Vec::new();
        while let Some(i) = stack.pop() {
            if self.is_entry_at(i) {
                if let Some(f) = self.files.get(i) {
                    found.push(f.path.clone());
                }
            }
            for c in self.callers.get(i).into_iter().flatten() {
                if seen.insert(*c) {
                    stack.push(*c);
                }
            }
        }
        if found.is_empty() {
            found.push(path.to_path_buf());
        }
        found.sort();
        found.dedup();
        found
    }

    /// References that leave the project root (not followed): (referring file, reference).
    pub fn outside_references(&self) -> Vec<(&Path, &Reference)> {
        self.files
            .iter()
            .flat_map(|f| {
                f.references
                    .iter()
                    .filter(|r| {
                        r.kind != ReferenceKind::Registry && !r.target.starts_with(&self.root)
                    })
                    .map(move |r| (f.path.as_path(), r))
            })
            .collect()
    }
}

/// Which deployments to audit for the files a user named.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    /// The files deployments start at, sorted: the analysis's entries.
    pub entries: Vec<PathBuf>,
}

/// The deployments that reach `files` (found under the `paths` a user named; each file through
/// the index of its project root), plus `explicit` entries (audited as deployments of their own
/// whatever references them). `scanned`: the index entries of `files` (those that are
/// templates).
pub fn select(
    paths: &[PathBuf],
    files: &[&Path],
    scanned: &[IndexedFile],
    explicit: &[PathBuf],
) -> Selection {
    let mut roots: Vec<PathBuf> = paths
        .iter()
        .map(|p| crate::files::discover::project_root(p))
        .collect();
    // The deepest root that holds a file is its project.
    roots.sort_by_key(|r| std::cmp::Reverse(r.components().count()));
    let mut indexes: HashMap<PathBuf, ProjectIndex> = HashMap::new();
    let mut entries: Vec<PathBuf> = explicit.to_vec();
    // Files already read are indexed from their text.
    for file in files.iter().copied() {
        if explicit.iter().any(|e| e == file) {
            continue;
        }
        let root = match roots.iter().find(|r| file.starts_with(r)) {
            Some(r) => r.clone(),
            None => crate::files::discover::project_root(file),
        };
        let index = indexes
            .entry(root.clone())
            .or_insert_with(|| ProjectIndex::with_scanned(&root, files, scanned));
        entries.extend(index.deployments_reaching(file));
    }
    crate::files::paths::sort_by_path(&mut entries, |p| p, |_, _| Ordering::Equal);
    entries.dedup();
    Selection { entries }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn index(files: &[(&str, &str)]) -> ProjectIndex {
        let scanned = files
            .iter()
            .filter_map(|(p, t)| scan(Path::new(p), t))
            .collect();
        ProjectIndex::from_files(Path::new("/p"), scanned)
    }

    #[test]
    fn comments_are_blanked_byte_for_byte() {
        let text = "a // c\n'x//y \\' /*' /* z\n */ b /* open\n";
        let out = without_comments(text);
        assert_eq!(out, "a     \n'x//y \\' /*'     \n    b        \n");
        assert_eq!(out.len(), text.len());
        assert_eq!(without_comments("'a\\"), "'a\\");
        assert_eq!(without_comments("x / y"), "x / y");
    }

    #[test]
    fn bicep_modules_and_using() {
        let f = scan(
            Path::new("/p/main.bicep"),
            "// module x './commented.bicep'\n/* module y './block.bicep' */\nmodule net './modules/network.bicep' = {\n}\n  module reg 'br/public:avm/res/network:1.0' = {}\nvar s = 'module z \\'./no.bicep\\''\n",
        )
        .unwrap();
        let targets: Vec<(&Path, usize, ReferenceKind)> = f
            .references
            .iter()
            .map(|r| (r.target.as_path(), r.line, r.kind))
            .collect();
        assert_eq!(
            targets,
            vec![
                (
                    Path::new("/p/modules/network.bicep"),
                    3,
                    ReferenceKind::Module
                ),
                (
                    Path::new("br/public:avm/res/network:1.0"),
                    5,
                    ReferenceKind::Registry
                ),
            ]
        );
        let p = scan(
            Path::new("/p/env/dev.bicepparam"),
            "using '../main.bicep'\n",
        )
        .unwrap();
        assert!(p.parameters);
        assert_eq!(p.references[0].target, Path::new("/p/main.bicep"));
    }

    #[test]
    fn arm_links_and_parameter_files() {
        let schema =
            "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
        let t = format!(
            r#"{{"$schema": "{schema}", "resources": [{{"type": "Microsoft.Resources/deployments", "properties": {{"templateLink": {{"relativePath": "nested/vnet.json"}}}}}},
            {{"properties": {{"templateLink": {{"uri": "[uri(deployment().properties.templateLink.uri, 'nested/apim.json')]"}}}}}},
            {{"properties": {{"templateLink": {{"uri": "https://example.com/x.json"}}}}}}]}}"#
        );
        let f = scan(Path::new("/p/azuredeploy.json"), &t).unwrap();
        let targets: Vec<&Path> = f.references.iter().map(|r| r.target.as_path()).collect();
        assert_eq!(
            targets,
            vec![
                Path::new("/p/nested/vnet.json"),
                Path::new("/p/nested/apim.json")
            ]
        );
        let params = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": {}}"#;
        let p = scan(Path::new("/p/azuredeploy.parameters.json"), params).unwrap();
        assert!(p.parameters);
        assert_eq!(p.references[0].target, Path::new("/p/azuredeploy.json"));
        assert!(scan(Path::new("/p/package.json"), r#"{"name": "x"}"#).is_none());
    }

    #[test]
    fn deployments_start_where_nothing_references() {
        let ix = index(&[
            (
                "/p/main.bicep",
                "module n './modules/network.bicep' = {}\nmodule a './modules/apim.bicep' = {}\n",
            ),
            (
                "/p/modules/network.bicep",
                "module s './shared.bicep' = {}\n",
            ),
            ("/p/modules/shared.bicep", ""),
            ("/p/modules/apim.bicep", ""),
            (
                "/p/other.bicep",
                "module n './modules/network.bicep' = {}\n",
            ),
            ("/p/env.bicepparam", "using './other.bicep'\n"),
            ("/p/cycle/a.bicep", "module b './b.bicep' = {}\n"),
            ("/p/cycle/b.bicep", "module a './a.bicep' = {}\n"),
            (
                "/p/broken.bicep",
                "module n './modules/apim.bicep' = {\n  name: \n",
            ),
        ]);
        assert_eq!(
            ix.deployments_reaching(Path::new("/p/modules/shared.bicep")),
            vec![
                PathBuf::from("/p/env.bicepparam"),
                PathBuf::from("/p/main.bicep")
            ]
        );
        assert_eq!(
            ix.deployments_reaching(Path::new("/p/modules/apim.bicep")),
            vec![
                PathBuf::from("/p/broken.bicep"),
                PathBuf::from("/p/main.bicep")
            ]
        );
        assert_eq!(
            ix.deployments_reaching(Path::new("/p/cycle/a.bicep")),
            vec![PathBuf::from("/p/cycle/a.bicep")]
        );
        assert_eq!(
            ix.deployments_reaching(Path::new("/p/nowhere.bicep")),
            vec![PathBuf::from("/p/nowhere.bicep")]
        );
        assert_eq!(
            ix.entries(),
            vec![
                PathBuf::from("/p/broken.bicep"),
                PathBuf::from("/p/env.bicepparam"),
                PathBuf::from("/p/main.bicep"),
            ]
        );
        assert!(!ix.is_entry(Path::new("/p/other.bicep")));
    }

    #[test]
    fn references_leaving_the_root_are_not_followed() {
        let ix = index(&[
            (
                "/p/main.bicep",
                "module n '../outside/network.bicep' = {}\n",
            ),
            ("/outside/network.bicep", ""),
        ]);
        assert!(ix.is_entry(Path::new("/outside/network.bicep")));
        let outside = ix.outside_references();
        assert_eq!(outside.len(), 1);
        assert_eq!(outside[0].1.target, Path::new("/outside/network.bicep"));
    }
}
