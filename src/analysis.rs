//! The one entry point both front ends call: inputs in, a report of diagnostics out.

use crate::diagnostic::{Diagnostic, NotEvaluated};
use crate::graph::ResourceGraph;
use crate::source::SourceMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads files the analysis needs beyond its inputs (modules, parameter files): the CLI reads the
/// disk, the language server serves unsaved editor buffers first.
pub trait FileProvider: Sync {
    /// The text of `path`, or `None` when it can't be read.
    fn read(&self, path: &Path) -> Option<Arc<str>>;
}

/// Reads from the file system.
pub struct Disk;

impl FileProvider for Disk {
    fn read(&self, path: &Path) -> Option<Arc<str>> {
        std::fs::read_to_string(path).ok().map(Arc::from)
    }
}

/// One file to audit.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub text: Arc<str>,
}

/// What one analysis found.
#[derive(Debug, Default)]
pub struct Report {
    pub sources: SourceMap,
    pub graph: ResourceGraph,
    /// Sorted by file, position, code.
    pub diagnostics: Vec<Diagnostic>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// Files read (inputs and the modules and parameter files they pulled in).
    pub files: usize,
}

/// How to run an analysis. Built from the command line, `bicepconfig.json` and editor settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Per-policy level overrides (`off|info|warning|error`) by policy id.
    pub levels: std::collections::HashMap<String, crate::diagnostic::Level>,
    /// Policy parameter values by policy id, then parameter name.
    pub parameters:
        std::collections::HashMap<String, std::collections::HashMap<String, serde_json::Value>>,
    /// Extra folders of policy definitions.
    pub policy_dirs: Vec<PathBuf>,
}

/// Audits `inputs` (and whatever modules and parameter files they pull in through `provider`).
///
/// The language server and the CLI both call this. Never panics on any input: a file that fails
/// becomes diagnostics and the rest goes on.
pub fn check(inputs: &[Input], provider: &dyn FileProvider, options: &Options) -> Report {
    let _ = (provider, options);
    let mut report = Report::default();
    for input in inputs {
        report.sources.add(input.path.clone(), input.text.clone());
    }
    report.files = inputs.len();
    report
}
