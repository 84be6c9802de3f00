//! The report of one analysis: what the front ends render, and the steps applied to it after the
//! policies (suppressions, feedback on configuration).

pub mod feedback;
pub mod suppress;

use crate::diagnostic::{Diagnostic, NotEvaluated};
use crate::graph::ResourceGraph;
use crate::policy::fix::FixSpec;
use crate::source::SourceMap;
use std::collections::HashMap;
use std::path::{Component, Path};
use std::sync::Arc;

/// What one analysis found.
#[derive(Debug, Default)]
pub struct Report {
    pub sources: SourceMap,
    pub graph: ResourceGraph,
    /// Sorted by file, position, code.
    pub diagnostics: Vec<Diagnostic>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// The quick fixes the policies declare (`metadata.azaudit.fix`), by code.
    pub fixes: HashMap<String, Arc<FixSpec>>,
    /// Diagnostics a suppression covers, each with its `suppression` set; SARIF reports them as
    /// suppressed, the other formats leave them out.
    pub suppressed: Vec<Diagnostic>,
    /// Files read (inputs and the modules and parameter files they pulled in).
    pub files: usize,
    /// Deployments audited (a template with the values of one parameter file, or on its own).
    pub deployments: usize,
    /// The ids the policies looked up in `graph` by the linking rule, each with the resource it
    /// was looked up from (a streamed audit's groups ask each other for them).
    pub policy_lookups: Vec<(crate::graph::ResourceIdx, String)>,
    /// Resources audited, when `graph` was not kept (a streamed bulk audit); else `graph` has them.
    pub resources: Option<usize>,
}

impl Report {
    /// The number of resources audited.
    pub fn resource_count(&self) -> usize {
        self.resources.unwrap_or(self.graph.resources.len())
    }
}

/// `path` relative to `cwd` when it lies under it, with `/` separators and no leading `./`.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let relative = match (path.is_absolute(), cwd.is_absolute()) {
        (true, true) => path.strip_prefix(cwd).unwrap_or(path),
        _ => path,
    };
    let mut parts: Vec<String> = Vec::new();
    for component in relative.components() {
        match component {
            Component::CurDir => {}
            Component::RootDir => parts.push(String::new()),
            Component::Prefix(p) => parts.push(p.as_os_str().to_string_lossy().into_owned()),
            Component::ParentDir => parts.push("..".to_string()),
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if joined.is_empty() {
        if relative.has_root() {
            "/".to_string()
        } else {
            ".".to_string()
        }
    } else {
        joined
    }
}
