//! The one entry point both front ends call: inputs in, a report of diagnostics out.

use crate::diagnostic::{Diagnostic, NotEvaluated};
use crate::graph::ResourceGraph;
use crate::model::{Language, Template};
use crate::source::SourceMap;
use crate::source::{FileId, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::OnceLock;

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
    /// Where the deployment goes, when known (`subscriptionId`, resource group).
    pub deployment: crate::eval::Deployment,
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

/// Reads one file into the template model; a panic inside becomes a diagnostic.
pub fn lower(file: FileId, text: &str, language: Language) -> Template {
    let run = || match language {
        Language::Bicep | Language::BicepParams => {
            crate::syntax::bicep::lower(file, text, language)
        }
        Language::ArmTemplate | Language::ArmParameters => crate::syntax::arm::lower(file, text),
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(t) => t,
        Err(_) => {
            let mut t = Template::empty(file, language);
            t.syntax_errors.push(crate::model::SyntaxError {
                span: Span::new(file, 0, 0),
                message: "internal error while reading this file; please report it".into(),
            });
            t
        }
    }
}

/// The thread pool analyses run on: threads with room for deep templates.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(32 << 20)
            .thread_name(|i| format!("azaudit-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Audits `inputs` (and whatever modules and parameter files they pull in through `provider`).
///
/// The language server and the CLI both call this. Never panics on any input: a file that fails
/// becomes diagnostics and the rest goes on.
pub fn check(inputs: &[Input], provider: &dyn FileProvider, options: &Options) -> Report {
    match pool() {
        Some(p) => p.install(|| check_in_pool(inputs, provider, options)),
        None => check_in_pool(inputs, provider, options),
    }
}

fn check_in_pool(inputs: &[Input], provider: &dyn FileProvider, options: &Options) -> Report {
    use rayon::prelude::*;
    let _ = provider;
    let timing = std::env::var_os("AZAUDIT_TIMING").is_some();
    let started = std::time::Instant::now();
    let lap = |what: &str| {
        if timing {
            eprintln!("timing: {what} at {:.3} s", started.elapsed().as_secs_f64());
        }
    };
    let mut report = Report::default();
    let mut files: Vec<(FileId, Language)> = Vec::new();
    for input in inputs {
        let language = language_of(&input.path, &input.text);
        let id = report.sources.add(input.path.clone(), input.text.clone());
        if let Some(language) = language {
            files.push((id, language));
        }
    }
    report.files = files.len();
    let sources = &report.sources;
    let templates: Vec<Template> = files
        .par_iter()
        .map(|(id, language)| {
            let text = sources.get(*id).map(|f| f.text.clone()).unwrap_or_default();
            lower(*id, &text, *language)
        })
        .collect();
    lap("lowered");
    let deploys: Vec<crate::build::Deploy<'_>> = templates
        .iter()
        .map(|t| crate::build::Deploy {
            template: t,
            params: HashMap::new(),
            deployment: options.deployment.clone(),
        })
        .collect();
    let graph = crate::build::build(&deploys);
    lap("graph built");
    let mut diagnostics = graph.diagnostics.clone();
    // `subscription()` in a policy: the deployment's when known, else the same placeholder the
    // templates' ids carry, so an id built from the deployment's own subscription compares equal.
    let mut env = HashMap::new();
    let (sub_id, sub_value) = match &options.deployment.subscription_id {
        Some(sub) => (
            crate::value::Value::string(format!("/subscriptions/{sub}")),
            crate::value::Value::string(sub.clone()),
        ),
        None => (
            crate::value::Value::symbolic(format!(
                "/subscriptions/{}",
                crate::eval::SUBSCRIPTION_PLACEHOLDER
            )),
            crate::value::Value::symbolic(crate::eval::SUBSCRIPTION_PLACEHOLDER),
        ),
    };
    env.insert(
        "subscription".to_string(),
        crate::value::Value::object(vec![
            ("id".into(), sub_id),
            ("subscriptionId".into(), sub_value),
        ]),
    );
    let eval_options = crate::policy::EvalOptions {
        levels: options.levels.clone(),
        parameters: options.parameters.clone(),
        env,
    };
    let (policy_set, load_errors) = policies(options);
    for e in load_errors {
        let id = report.sources.add(e.path.clone(), Arc::<str>::from(""));
        diagnostics.push(Diagnostic::new(
            "policy-error",
            crate::diagnostic::Severity::Error,
            Span::new(id, 0, 0),
            e.to_string(),
        ));
    }
    let outcome = crate::policy::evaluate(&policy_set, &graph, &eval_options);
    diagnostics.extend(outcome.diagnostics);
    let mut not_evaluated = outcome.not_evaluated;
    diagnostics.extend(crate::variants::resolve(
        &templates,
        &policy_set,
        &eval_options,
        &options.deployment,
        &mut not_evaluated,
    ));
    lap("policies evaluated");
    diagnostics.sort_by(|a, b| {
        (a.span.file, a.span.start, &a.code, &a.message).cmp(&(
            b.span.file,
            b.span.start,
            &b.code,
            &b.message,
        ))
    });
    diagnostics.dedup();
    not_evaluated.sort();
    not_evaluated.dedup();
    report.graph = graph;
    report.diagnostics = diagnostics;
    report.not_evaluated = not_evaluated;
    let known: std::collections::HashSet<String> =
        policy_set.policies().iter().map(|p| p.id.clone()).collect();
    let refs: Vec<&Template> = templates.iter().collect();
    crate::suppress::apply_to_report(&mut report, &refs, Some(&known));
    crate::fix::attach(&mut report);
    lap("suppressions applied");
    report
}

/// What SARIF and the documentation links say about each code: the internal ones and every policy.
pub fn rule_infos(set: &crate::policy::PolicySet) -> Vec<crate::output::RuleInfo> {
    let mut rules = crate::output::RuleInfo::builtin();
    for p in set.policies() {
        rules.push(crate::output::RuleInfo {
            id: p.id.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            help: p.docs.clone(),
            help_uri: Some(crate::output::policy_doc_url(&p.id)),
            level: p
                .level
                .severity()
                .unwrap_or(crate::diagnostic::Severity::Warning),
        });
    }
    rules
}

/// The policies an analysis runs: the built-in ones and those of `options.policy_dirs`, with the
/// errors of definitions that failed to load.
pub fn policies(
    options: &Options,
) -> (
    Arc<crate::policy::PolicySet>,
    Vec<crate::policy::PolicyLoadError>,
) {
    static BUILTIN: OnceLock<Arc<crate::policy::PolicySet>> = OnceLock::new();
    let builtin = BUILTIN.get_or_init(|| Arc::new(crate::policy::PolicySet::builtin()));
    if options.policy_dirs.is_empty() {
        return (builtin.clone(), Vec::new());
    }
    let mut set = crate::policy::PolicySet::builtin();
    let mut errors = Vec::new();
    for dir in &options.policy_dirs {
        errors.extend(set.load_dir(dir));
    }
    (Arc::new(set), errors)
}
