//! Open documents: their text and version, what language they are, edits, and the file provider
//! that serves unsaved buffers before the disk.

use super::convert;
use crate::files::FileProvider;
use lsp_types::{TextDocumentContentChangeEvent, Uri};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What kind of file a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Bicep,
    BicepParams,
    /// JSON or JSONC: audited only when it is an ARM template or parameter file.
    Json,
    /// An editor that already knows the document is an ARM template.
    ArmTemplate,
    /// Anything else: kept as a buffer for the provider, never audited.
    Other,
}

impl Lang {
    /// The language of a document from its `languageId`, else from its path's extension.
    /// A `.bicepparam` path is a parameters file whatever the editor calls it.
    pub fn detect(language_id: &str, path: &Path) -> Lang {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if ext.as_deref() == Some("bicepparam") {
            return Lang::BicepParams;
        }
        match language_id.to_ascii_lowercase().as_str() {
            "bicep" => return Lang::Bicep,
            "bicep-params" | "bicepparam" => return Lang::BicepParams,
            "json" | "jsonc" => return Lang::Json,
            "arm-template" => return Lang::ArmTemplate,
            _ => {}
        }
        match ext.as_deref() {
            Some("bicep") => Lang::Bicep,
            Some("bicepparam") => Lang::BicepParams,
            Some("json" | "jsonc") => Lang::Json,
            _ => Lang::Other,
        }
    }
}

pub use crate::files::discover::is_arm_json;

/// One open document.
#[derive(Debug, Clone)]
pub struct Document {
    pub uri: Uri,
    pub path: PathBuf,
    pub lang: Lang,
    pub version: i32,
    pub text: String,
}

impl Document {
    /// Whether this document is audited (rather than only served to the analysis of others).
    pub fn is_audited(&self) -> bool {
        match self.lang {
            Lang::Bicep | Lang::BicepParams | Lang::ArmTemplate => true,
            Lang::Json => is_arm_json(&self.text),
            Lang::Other => false,
        }
    }

    /// Applies `didChange` content changes in order (ranges in UTF-16 positions of the text as it
    /// is when each change applies; no range replaces the whole text).
    pub fn apply_changes(&mut self, changes: Vec<TextDocumentContentChangeEvent>) {
        for change in changes {
            match change.range {
                Some(range) => {
                    let (start, end) = convert::offsets_of(&self.text, range);
                    if self.text.is_char_boundary(start) && self.text.is_char_boundary(end) {
                        self.text.replace_range(start..end, &change.text);
                    }
                }
                None => self.text = change.text,
            }
        }
    }
}

/// The file path a document URI stands for: the local path of a `file:` URI, else the URI itself
/// (with the extension of its language, so the analysis knows what it reads).
pub fn path_of(uri: &Uri, lang_hint: &str) -> PathBuf {
    if let Ok(url) = url::Url::parse(uri.as_str()) {
        if url.scheme() == "file" {
            if let Ok(path) = url.to_file_path() {
                return normalize(&path);
            }
        }
    }
    let mut path = uri.as_str().to_string();
    let ext = match lang_hint {
        "bicep" => ".bicep",
        "bicep-params" => ".bicepparam",
        "json" | "jsonc" | "arm-template" => ".json",
        _ => "",
    };
    if !path.ends_with(ext) {
        path.push_str(ext);
    }
    PathBuf::from(path)
}

/// A `file:` URI for a path, when it has one.
pub fn uri_of(path: &Path) -> Option<Uri> {
    let url = url::Url::from_file_path(path).ok()?;
    url.as_str().parse().ok()
}

pub use crate::files::normalize;

/// Serves open buffers first, then the disk.
pub struct Overlay {
    buffers: HashMap<PathBuf, Arc<str>>,
    /// The same buffers by canonical path (symbolic links resolved), for files that exist.
    canonical: HashMap<PathBuf, Arc<str>>,
    /// The statement parses kept between analyses.
    memo: Option<Arc<crate::syntax::Memo>>,
}

impl Overlay {
    /// A provider over these buffers (path, text).
    pub fn new(buffers: impl IntoIterator<Item = (PathBuf, Arc<str>)>) -> Overlay {
        let buffers: HashMap<PathBuf, Arc<str>> = buffers
            .into_iter()
            .map(|(path, text)| (normalize(&path), text))
            .collect();
        let canonical = buffers
            .iter()
            .filter_map(|(path, text)| Some((std::fs::canonicalize(path).ok()?, text.clone())))
            .collect();
        Overlay {
            buffers,
            canonical,
            memo: None,
        }
    }

    /// The same provider, parsing through `memo`.
    pub fn with_memo(self, memo: Arc<crate::syntax::Memo>) -> Overlay {
        Overlay {
            memo: Some(memo),
            ..self
        }
    }
}

impl FileProvider for Overlay {
    fn read(&self, path: &Path) -> Option<Arc<str>> {
        self.read_or_why(path).ok()
    }

    /// An open buffer's text, else the file on disk as [`crate::files::Disk`] reads it (only
    /// regular files, so a FIFO never blocks the server).
    fn read_or_why(&self, path: &Path) -> Result<Arc<str>, crate::files::ReadError> {
        if let Some(text) = self.buffers.get(&normalize(path)) {
            return Ok(text.clone());
        }
        if let Some(text) = std::fs::canonicalize(path)
            .ok()
            .and_then(|p| self.canonical.get(&p))
        {
            return Ok(text.clone());
        }
        crate::files::Disk.read_or_why(path)
    }

    fn memo(&self) -> Option<&crate::syntax::Memo> {
        self.memo.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    fn doc(text: &str) -> Document {
        Document {
            uri: "file:///w/main.bicep".parse().unwrap(),
            path: "/w/main.bicep".into(),
            lang: Lang::Bicep,
            version: 1,
            text: text.into(),
        }
    }

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_changes_apply_in_order_with_utf16_columns() {
        let mut d = doc("a😀b\r\ncd\n");
        d.apply_changes(vec![
            change(0, 3, 0, 4, "B"),
            change(1, 0, 1, 1, "C"),
            change(0, 0, 0, 0, "x"),
        ]);
        assert_eq!(d.text, "xa😀B\r\nCd\n");
        d.apply_changes(vec![change(0, 1, 1, 0, "")]);
        assert_eq!(d.text, "xCd\n");
        d.apply_changes(vec![TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: "new".into(),
        }]);
        assert_eq!(d.text, "new");
        // Out-of-range positions clamp to the end.
        d.apply_changes(vec![change(5, 0, 9, 9, "!")]);
        assert_eq!(d.text, "new!");
    }

    #[test]
    fn sniffs_arm_schemas_case_insensitively() {
        assert!(is_arm_json(
            r#"{ "$schema" : "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#" }"#
        ));
        assert!(is_arm_json(
            r#"{"$SCHEMA":"https://schema.management.azure.com/schemas/2019-04-01/DEPLOYMENTPARAMETERS.json#"}"#
        ));
        assert!(is_arm_json(
            r#"{"$schema":"https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"}"#
        ));
        assert!(!is_arm_json(
            r#"{"$schema":"https://json.schemastore.org/package.json"}"#
        ));
        assert!(!is_arm_json(r#"{"name":"deploymentTemplate"}"#));
    }

    #[test]
    fn languages_and_paths() {
        assert_eq!(Lang::detect("bicep", Path::new("x")), Lang::Bicep);
        assert_eq!(
            Lang::detect("plaintext", Path::new("a.bicepparam")),
            Lang::BicepParams
        );
        assert_eq!(Lang::detect("jsonc", Path::new("a")), Lang::Json);
        assert_eq!(
            Lang::detect("bicep", Path::new("m.bicepparam")),
            Lang::BicepParams
        );
        assert_eq!(Lang::detect("", Path::new("a.txt")), Lang::Other);
        let uri: Uri = "file:///w/a%20b/./c/../main.bicep".parse().unwrap();
        assert_eq!(path_of(&uri, "bicep"), PathBuf::from("/w/a b/main.bicep"));
        let untitled: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(
            path_of(&untitled, "bicep"),
            PathBuf::from("untitled:Untitled-1.bicep")
        );
        assert_eq!(
            uri_of(Path::new("/w/a b/m.bicep")).map(|u| u.as_str().to_string()),
            Some("file:///w/a%20b/m.bicep".to_string())
        );
    }

    #[test]
    fn overlay_serves_buffers_before_disk() {
        let overlay = Overlay::new([(PathBuf::from("/w/x/../m.bicep"), Arc::from("buffer"))]);
        assert_eq!(
            overlay.read(Path::new("/w/./m.bicep")).as_deref(),
            Some("buffer")
        );
        assert_eq!(overlay.read(Path::new("/definitely/not/here.bicep")), None);
    }

    #[cfg(unix)]
    #[test]
    fn overlay_matches_buffers_through_symbolic_links() {
        let dir = std::env::temp_dir().join(format!("azaudit-overlay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.bicep"), "disk").unwrap();
        let alias = dir.join("alias");
        let _ = std::fs::remove_file(&alias);
        std::os::unix::fs::symlink(&dir, &alias).unwrap();
        let overlay = Overlay::new([(dir.join("a.bicep"), Arc::from("buffer"))]);
        assert_eq!(
            overlay.read(&alias.join("a.bicep")).as_deref(),
            Some("buffer")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
