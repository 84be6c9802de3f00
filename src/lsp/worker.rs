//! The analysis worker: analyses a snapshot of the open documents off the main loop and turns
//! the reports into LSP diagnostics, tagged with the versions they were computed for.

use super::documents::{normalize, uri_of, Overlay};
pub use super::projects::DocSnapshot;
use super::projects::Projects;
use super::{convert, docs_url, AnalysisFn, Fix, Published};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{FileProvider, Input, Options, Report};
use crate::source::SourceFile;
use crossbeam_channel::{unbounded, Receiver, Sender};
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Uri,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// Everything one analysis round needs.
pub struct Snapshot {
    pub generation: u64,
    pub docs: Vec<DocSnapshot>,
    pub options: Options,
    /// The workspace folders (project roots).
    pub workspace: Vec<PathBuf>,
    /// Bumped whenever files may have changed on disk: the project indexes are read again.
    pub disk_epoch: u64,
    /// The `bicepconfig.json` files read for this analysis (open buffers first): nothing is
    /// shown in a file they rule out.
    pub configs: crate::files::config::Cache,
}

/// Diagnostics per open document, for the versions in the snapshot, and for the files that are
/// not open but that the audited deployments involve.
pub struct Outcome {
    pub generation: u64,
    pub docs: Vec<DocResult>,
    /// Files that are not open, by URI, with their diagnostics (none are left out: a file that
    /// is not listed has nothing).
    pub closed: Vec<(Uri, Vec<Published>)>,
}

/// The diagnostics of one document at one version.
pub struct DocResult {
    pub uri: Uri,
    pub version: i32,
    pub opened: u64,
    pub diagnostics: Vec<Published>,
}

/// Starts the worker thread; it ends when the snapshot sender is dropped.
pub fn spawn(analysis: AnalysisFn) -> std::io::Result<(Sender<Snapshot>, Receiver<Outcome>)> {
    let (jobs, job_rx) = unbounded::<Snapshot>();
    let (out_tx, outcomes) = unbounded::<Outcome>();
    std::thread::Builder::new()
        .name("azaudit-lsp-analysis".into())
        .spawn(move || {
            let mut projects = Projects::default();
            while let Ok(mut snapshot) = job_rx.recv() {
                // Only the newest snapshot matters.
                while let Ok(newer) = job_rx.try_recv() {
                    snapshot = newer;
                }
                if out_tx
                    .send(analyse(snapshot, &analysis, &mut projects))
                    .is_err()
                {
                    return;
                }
            }
        })?;
    Ok((jobs, outcomes))
}

/// Analyses the deployments that reach the audited documents of a snapshot (found through the
/// project indexes), with all open buffers visible, in one analysis.
pub fn analyse(mut snapshot: Snapshot, analysis: &AnalysisFn, projects: &mut Projects) -> Outcome {
    let mut configs = std::mem::take(&mut snapshot.configs);
    let snapshot = &snapshot;
    let provider = Overlay::new(
        snapshot
            .docs
            .iter()
            .map(|d| (d.path.clone(), d.text.clone())),
    )
    .with_memo(projects.memo.clone());
    let mut by_path: HashMap<PathBuf, usize> = HashMap::new();
    for (i, d) in snapshot.docs.iter().enumerate() {
        if let Ok(canonical) = std::fs::canonicalize(&d.path) {
            by_path.insert(canonical, i);
        }
        by_path.insert(normalize(&d.path), i);
    }
    let mut found: Vec<Vec<Published>> = vec![Vec::new(); snapshot.docs.len()];
    let mut closed: BTreeMap<PathBuf, Vec<Published>> = BTreeMap::new();
    let deployments =
        projects.deployments(&snapshot.docs, &snapshot.workspace, snapshot.disk_epoch);
    // The deployments' files, and the audited documents (each audited on its own when no
    // deployment reaches it after all).
    let mut inputs: Vec<Input> = Vec::new();
    for path in &deployments {
        if let Some(text) = provider.read(path) {
            inputs.push(Input {
                path: path.clone(),
                text,
            });
        }
    }
    for d in snapshot.docs.iter().filter(|d| d.audited) {
        if !inputs.iter().any(|i| i.path == d.path) {
            inputs.push(Input {
                path: d.path.clone(),
                text: d.text.clone(),
            });
        }
    }
    let mut options = snapshot.options.clone();
    options.entries = Some(deployments.iter().cloned().collect());
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if inputs.is_empty() {
            Report::default()
        } else {
            analysis(&inputs, &provider, &options)
        }
    }));
    // What this analysis parsed is kept for the next one; the rest is forgotten.
    projects.memo.sweep();
    let report = match run {
        Ok(report) => report,
        Err(_) => {
            eprintln!("azaudit lsp: the analysis failed");
            Report::default()
        }
    };
    let open_doc = |path: &std::path::Path| {
        by_path.get(&normalize(path)).copied().or_else(|| {
            let canonical = std::fs::canonicalize(path).ok()?;
            by_path.get(&canonical).copied()
        })
    };
    // The open document each file of the report is, looked up once per file.
    let open_of: HashMap<crate::source::FileId, usize> = report
        .sources
        .iter()
        .filter_map(|(id, f)| Some((id, open_doc(&f.path)?)))
        .collect();
    // Open documents that start a deployment: they show what their deployment finds elsewhere.
    let starts: HashSet<usize> = deployments.iter().filter_map(|p| open_doc(p)).collect();
    // The files whose configuration rules them out (`enabled: false`, `exclude`): nothing is
    // shown in them, nor elsewhere on their behalf.
    let hidden: HashSet<crate::source::FileId> = report
        .sources
        .iter()
        .filter(|(_, f)| !configs.audits(&f.path))
        .map(|(id, _)| id)
        .collect();
    for d in &report.diagnostics {
        if hidden.contains(&d.span.file) {
            continue;
        }
        let Some(file) = report.sources.get(d.span.file) else {
            continue;
        };
        let at = open_of.get(&d.span.file).copied();
        match at.and_then(|i| found.get_mut(i)) {
            Some(list) => list.push(publish(d, file, &report, snapshot)),
            None => closed
                .entry(file.path.clone())
                .or_default()
                .push(publish(d, file, &report, snapshot)),
        }
        // In another file (a module): each open document that starts a deployment and has a
        // related location shows it there (the module call, the property that links to the
        // resource), pointing back; a file that isn't open shows it at a related location in
        // any open document.
        let mut targets: Vec<&crate::diagnostic::Related> = d
            .related
            .iter()
            .filter(|r| !hidden.contains(&r.span.file))
            .filter(|r| {
                open_of
                    .get(&r.span.file)
                    .is_some_and(|i| starts.contains(i) && Some(*i) != at)
            })
            .collect();
        targets.dedup_by_key(|r| open_of.get(&r.span.file));
        if targets.is_empty() && at.is_none() {
            targets.extend(
                d.related
                    .iter()
                    .find(|r| open_of.contains_key(&r.span.file) && !hidden.contains(&r.span.file)),
            );
        }
        for r in targets {
            let (Some(target), Some(&i)) =
                (report.sources.get(r.span.file), open_of.get(&r.span.file))
            else {
                continue;
            };
            let mut moved = d.clone();
            moved.span = r.span;
            moved.related.retain(|x| x != r);
            moved.related.insert(
                0,
                crate::diagnostic::Related {
                    span: d.span,
                    kind: crate::diagnostic::RelatedKind::ReportedHere,
                },
            );
            if let Some(list) = found.get_mut(i) {
                list.push(publish(&moved, target, &report, snapshot));
            }
        }
    }
    let docs = snapshot
        .docs
        .iter()
        .zip(found)
        .map(|(doc, diagnostics)| DocResult {
            uri: doc.uri.clone(),
            version: doc.version,
            opened: doc.opened,
            diagnostics: tidy(diagnostics),
        })
        .collect();
    let closed = closed
        .into_iter()
        .filter_map(|(path, list)| Some((uri_of(&path)?, tidy(list))))
        .collect();
    Outcome {
        generation: snapshot.generation,
        docs,
        closed,
    }
}

/// Without duplicates, in order of position.
fn tidy(mut diagnostics: Vec<Published>) -> Vec<Published> {
    let mut seen = HashSet::new();
    diagnostics.retain(|p| {
        seen.insert(format!(
            "{:?}|{:?}|{}",
            p.lsp.range, p.lsp.code, p.lsp.message
        ))
    });
    diagnostics.sort_by_key(|p| {
        let s = p.lsp.range.start;
        (s.line, s.character, format!("{:?}", p.lsp.code))
    });
    diagnostics
}

/// The LSP form of a diagnostic located in `file`.
fn publish(d: &Diagnostic, file: &SourceFile, report: &Report, snapshot: &Snapshot) -> Published {
    let related: Vec<DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            let file = report.sources.get(r.span.file)?;
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri: uri_for(&file.path, snapshot)?,
                    range: convert::span_range(file, r.span),
                },
                message: r.kind.text().into_owned(),
            })
        })
        .collect();
    Published {
        lsp: lsp_types::Diagnostic {
            range: convert::span_range(file, d.span),
            severity: Some(severity(d.severity)),
            code: Some(NumberOrString::String(d.code.clone())),
            code_description: docs_url(&d.code)
                .parse()
                .ok()
                .map(|href| CodeDescription { href }),
            source: Some("azaudit".to_string()),
            message: d.message.clone(),
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data: None,
        },
        help: d.help.clone(),
        fixes: d
            .fixes
            .iter()
            .filter_map(|f| fix_for(f, report, snapshot))
            .collect(),
    }
}

/// The LSP form of a quick fix; `None` when one of its files has no URI.
fn fix_for(fix: &crate::diagnostic::Fix, report: &Report, snapshot: &Snapshot) -> Option<Fix> {
    let edits = fix
        .edits
        .iter()
        .map(|e| {
            let file = report.sources.get(e.span.file)?;
            let uri = uri_for(&file.path, snapshot)?;
            let edit = lsp_types::TextEdit::new(convert::span_range(file, e.span), e.text.clone());
            Some((uri, edit))
        })
        .collect::<Option<Vec<_>>>()?;
    (!edits.is_empty()).then(|| Fix {
        title: fix.title.clone(),
        edits,
    })
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// The URI of a file: the open document's own URI when it is open, else a `file:` URI.
fn uri_for(path: &std::path::Path, snapshot: &Snapshot) -> Option<Uri> {
    let path = normalize(path);
    snapshot
        .docs
        .iter()
        .find(|d| normalize(&d.path) == path)
        .map(|d| d.uri.clone())
        .or_else(|| uri_of(&path))
}
