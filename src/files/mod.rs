//! Files: reading them (from disk or an editor's buffers), their language, discovery,
//! `bicepconfig.json`, the registry module cache and where references may lead.

pub mod config;
pub mod discover;
pub mod paths;
pub mod registry;

use crate::model::Language;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use discover::ReadError;

/// Reads files the analysis needs beyond its inputs (modules, parameter files): the CLI reads the
/// disk, the language server serves unsaved editor buffers first.
pub trait FileProvider: Sync {
    /// The text of `path`, or `None` when it can't be read.
    fn read(&self, path: &Path) -> Option<Arc<str>>;

    /// The text of `path`, or why it can't be read.
    fn read_or_why(&self, path: &Path) -> Result<Arc<str>, ReadError> {
        self.read(path).ok_or(ReadError::NotFound)
    }

    /// Parses kept between analyses (the language server's; see [`crate::syntax::Memo`]), or
    /// `None`: every file is parsed afresh.
    fn memo(&self) -> Option<&crate::syntax::Memo> {
        None
    }
}

/// Reads from the file system.
pub struct Disk;

impl FileProvider for Disk {
    fn read(&self, path: &Path) -> Option<Arc<str>> {
        self.read_or_why(path).ok()
    }

    /// Only regular files, up to the size limit (see [`crate::files::discover::read_regular`]).
    fn read_or_why(&self, path: &Path) -> Result<Arc<str>, ReadError> {
        crate::files::discover::read_text(path).map(Arc::from)
    }
}

/// One file to audit.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub text: Arc<str>,
}

/// The language of a file, by its extension and (for JSON) its `$schema`; `None` when azaudit
/// doesn't read it.
pub fn language_of(path: &Path, text: &str) -> Option<Language> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("bicep") => Some(Language::Bicep),
        Some("bicepparam") => Some(Language::BicepParams),
        Some("json") | Some("jsonc") => crate::syntax::arm::classify(text),
        _ => None,
    }
}

pub use paths::normalize;
