//! The pipeline both front ends call: configuration resolved into [`Options`], inputs in, a
//! [`Report`] of diagnostics out.

pub mod stream;
pub mod variants;

use crate::diagnostic::codes::Code;
use crate::diagnostic::{Diagnostic, RelatedKind};
use crate::files::config::{Config, DeploymentContext};
use crate::model::{Language, Template};
use crate::source::{FileId, SourceMap, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::OnceLock;

pub use crate::files::{language_of, Disk, FileProvider, Input};
pub use crate::report::Report;

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
    pub deployment: crate::eval::DeploymentContext,
    /// Where registry modules (`br:`, `ts:`) are cached; by default none are read.
    pub registry: crate::files::registry::Registry,
    /// Where module and parameter-file references may lead.
    pub paths: crate::files::paths::PathRules,
    /// The inputs deployments start at (see `crate::graph::project`); the other inputs are audited
    /// through the deployments that reach them, or on their own when none does. `None`: every
    /// input starts a deployment.
    pub entries: Option<std::collections::HashSet<PathBuf>>,
    /// Policy assignments, exemptions and landing-zone libraries (`--assignments`, …).
    pub assignments: crate::policy::assignment::Sources,
}

/// Adds one configuration's levels, parameters, policy folders, assignments and deployment
/// context to `options` (entries already there are overwritten).
pub fn apply_config(config: &Config, options: &mut Options) {
    for (id, rule) in &config.rules {
        if let Some(level) = rule.level {
            options.levels.insert(id.clone(), level);
        }
        if !rule.parameters.is_empty() {
            let entry = options.parameters.entry(id.clone()).or_default();
            for (name, value) in &rule.parameters {
                entry.insert(name.clone(), value.clone());
            }
        }
    }
    for dir in &config.policy_dirs {
        if !options.policy_dirs.contains(dir) {
            options.policy_dirs.push(dir.clone());
        }
    }
    for path in &config.assignments {
        if !options.assignments.assignments.contains(path) {
            options.assignments.assignments.push(path.clone());
        }
    }
    if config.alz_library.is_some() {
        options
            .assignments
            .alz_library
            .clone_from(&config.alz_library);
    }
    if config.builtins.is_some() {
        options.assignments.builtins.clone_from(&config.builtins);
    }
    apply_deployment(&config.deployment, options);
}

/// Puts a deployment context into `options`: what it sets replaces what is there.
pub fn apply_deployment(context: &DeploymentContext, options: &mut Options) {
    options.deployment.merge(context);
    if context.management_group.is_some() {
        options
            .assignments
            .management_group
            .clone_from(&context.management_group);
    }
}

/// Why [`configure`] applied nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigureError {
    #[error("{}: policy folder `{}` does not exist", config.display(), folder.display())]
    MissingPolicyFolder {
        config: std::path::PathBuf,
        folder: std::path::PathBuf,
    },
}

/// The configuration resolution both `azaudit check` and `azaudit lsp` use: applies the
/// `bicepconfig.json` files that govern the audited files to `options`, shallow ones first so
/// that a deeper configuration wins on conflicts (levels, `off`, policy parameters, policy
/// folders, assignments, deployment context). A policy folder that doesn't exist is an error
/// naming the configuration; nothing is applied then.
pub fn configure(options: &mut Options, configs: &[Arc<Config>]) -> Result<(), ConfigureError> {
    let mut ordered: Vec<&Arc<Config>> = configs.iter().collect();
    ordered.sort_by_key(|c| (c.path.components().count(), c.path.clone()));
    ordered.dedup_by(|a, b| a.path == b.path);
    for config in &ordered {
        if let Some(missing) = config.policy_dirs.iter().find(|d| !d.is_dir()) {
            return Err(ConfigureError::MissingPolicyFolder {
                config: config.path.clone(),
                folder: missing.clone(),
            });
        }
    }
    for config in ordered {
        apply_config(config, options);
    }
    Ok(())
}

/// The configurations that govern `files` (the nearest `bicepconfig.json` above each), read
/// through `cache`; a configuration that fails to load is returned as its error.
pub fn configurations_for<'a>(
    files: impl IntoIterator<Item = &'a Path>,
    cache: &mut crate::files::config::Cache,
) -> (Vec<Arc<Config>>, Vec<crate::files::config::ConfigError>) {
    let mut found: Vec<Arc<Config>> = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match cache.for_file(file) {
            Ok(Some(c)) => {
                if !found.iter().any(|f| f.path == c.path) {
                    found.push(c);
                }
            }
            Ok(None) => {}
            Err(e) => {
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
    }
    (found, errors)
}

/// Diagnostics of a deployment made with a parameter file name it: " (with main.bicepparam)" and a
/// related location at the file; a diagnostic that a parameter file's value decided is reported
/// at the resource, with the value as a related location.
fn label_parameter_files(
    diagnostics: &mut [Diagnostic],
    parameter_files: &HashMap<FileId, String>,
    loaded: &crate::graph::deployments::Loaded,
    sources: &SourceMap,
) {
    if parameter_files.is_empty() {
        return;
    }
    for d in diagnostics.iter_mut() {
        let mut with = None;
        let mut with_file = None;
        for r in d.related.iter_mut() {
            if let Some(name) = parameter_files.get(&r.span.file) {
                match r.kind {
                    RelatedKind::Module => {
                        r.kind = RelatedKind::ParameterFile;
                        with = Some(name.clone());
                        with_file = Some(r.span.file);
                    }
                    RelatedKind::DecidingValue => r.kind = RelatedKind::ValueFromParameterFile,
                    _ => {}
                }
            }
        }
        if parameter_files.contains_key(&d.span.file) && !Code::SyntaxError.is(&d.code) {
            let at = d
                .related
                .iter()
                .position(|r| !parameter_files.contains_key(&r.span.file));
            if let Some(i) = at {
                if let Some(r) = d.related.get_mut(i) {
                    std::mem::swap(&mut d.span, &mut r.span);
                    r.kind = RelatedKind::ValueFromParameterFile;
                }
            }
        }
        if let Some(name) = with {
            d.message = format!("{} (with {name})", d.message);
        }
        // The deciding value is a parameter the file assigns: point at the assignment.
        if let Some(assignment) = with_file.and_then(|f| loaded.get(f)).and_then(|p| {
            let text = sources.get(d.span.file).map(|f| f.slice(d.span).trim())?;
            // Bicep `name`, ARM `"[parameters('name')]"`.
            let arm = text
                .trim_matches('"')
                .trim_start_matches('[')
                .trim_end_matches(']')
                .strip_prefix("parameters('")
                .and_then(|x| x.strip_suffix("')"));
            let text = arm.unwrap_or(text);
            p.assignments
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(text))
        }) {
            let span = assignment
                .value
                .as_ref()
                .map(|v| v.span)
                .unwrap_or(assignment.span);
            d.related.push(crate::diagnostic::Related {
                span,
                kind: RelatedKind::ValueFromParameterFile,
            });
        }
    }
}

/// A diagnostic inside a cached registry module (a file the user doesn't edit) is reported at its
/// first related location outside the cache (where the user's file links to it), pointing back.
fn move_out_of_the_module_cache(
    diagnostics: &mut [Diagnostic],
    cached: &std::collections::HashSet<FileId>,
) {
    if cached.is_empty() {
        return;
    }
    for d in diagnostics.iter_mut() {
        if !cached.contains(&d.span.file) {
            continue;
        }
        let Some(i) = d
            .related
            .iter()
            .position(|r| !cached.contains(&r.span.file))
        else {
            continue;
        };
        let r = d.related.remove(i);
        d.related.insert(
            0,
            crate::diagnostic::Related {
                span: d.span,
                kind: RelatedKind::InModuleCache,
            },
        );
        d.span = r.span;
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
        Some(p) => p.install(|| check_in_pool(inputs, provider, options, Free::Later)),
        None => check_in_pool(inputs, provider, options, Free::Later),
    }
}

/// When an analysis frees its templates, and the run-wide budget it evaluates within.
#[derive(Debug, Clone)]
enum Free {
    /// On a pool thread, after returning ([`drop_later`]): the caller goes on meanwhile. The
    /// analysis is the run.
    Later,
    /// Before returning: a streamed bulk audit runs the next group in that memory, its groups
    /// within one budget.
    Now(Arc<crate::eval::RunBudget>),
}

fn check_in_pool(
    inputs: &[Input],
    provider: &dyn FileProvider,
    options: &Options,
    free: Free,
) -> Report {
    use rayon::prelude::*;
    let lap = crate::timing::lap;
    lap("analysis started");
    let mut report = Report::default();
    let mut files: Vec<(FileId, Language)> = Vec::new();
    for input in inputs {
        let language = language_of(&input.path, &input.text);
        let id = report.sources.add(input.path.clone(), input.text.clone());
        if let Some(language) = language {
            files.push((id, language));
        }
    }
    let sources = &report.sources;
    let templates: Vec<Template> = files
        .par_iter()
        .map(|(id, language)| {
            let text = sources.get(*id).map(|f| f.text.clone()).unwrap_or_default();
            crate::syntax::lower_with(*id, &text, *language, provider.memo())
        })
        .collect();
    lap("lowered");
    let mut entry_diagnostics = Vec::new();
    let mut loaded = crate::graph::deployments::inputs(templates, &report.sources);
    let starts: Vec<bool> = loaded
        .templates
        .iter()
        .map(|t| {
            options.entries.as_ref().is_none_or(|set| {
                report
                    .sources
                    .get(t.file)
                    .is_some_and(|f| set.contains(&f.path))
            })
        })
        .collect();
    // First the deployments that start at an entry; then the inputs no deployment reached after
    // all (a reference the index saw that the caller's template doesn't make), audited on their
    // own, never skipped.
    let mut entries = Vec::new();
    let mut chosen: Vec<bool> = starts.clone();
    for round in 0..2 {
        if round == 1 {
            let reached = crate::graph::deployments::reached(&loaded, &entries);
            chosen = starts
                .iter()
                .enumerate()
                .map(|(i, s)| !s && !reached.contains(&i))
                .collect();
            if !chosen.iter().any(|a| *a) {
                break;
            }
        }
        entries.extend(crate::graph::deployments::plan(
            &mut loaded,
            &mut report.sources,
            provider,
            &options.deployment,
            &options.paths,
            &mut entry_diagnostics,
            &|i| chosen.get(i).copied().unwrap_or(false),
        ));
        crate::graph::deployments::resolve_modules(
            &mut loaded,
            &mut report.sources,
            provider,
            &options.registry,
            &options.paths,
        );
    }
    report.deployments = entries.len();
    report.files = files.len() + loaded.templates.len().saturating_sub(loaded.inputs);
    lap("modules and parameter files read");
    let deploys: Vec<crate::graph::builder::DeploymentInput<'_>> = entries
        .iter()
        .filter_map(|e| {
            Some(crate::graph::builder::DeploymentInput {
                template: loaded.templates.get(e.template)?,
                params: e.params.clone(),
                deployment: options.deployment.clone(),
            })
        })
        .collect();
    let chains: Vec<Vec<Span>> = entries
        .iter()
        .filter(|e| loaded.templates.get(e.template).is_some())
        .map(|e| {
            e.parameter_file
                .map(|p| vec![Span::new(p, 0, 0)])
                .unwrap_or_default()
        })
        .collect();
    let mut graph = match &free {
        Free::Later => crate::graph::builder::build_with(&deploys, &chains, &loaded),
        Free::Now(run) => crate::graph::builder::build_within(&deploys, &chains, &loaded, run),
    };
    // Syntax errors of parameter files and of files no deployment reaches.
    let reached: std::collections::HashSet<FileId> =
        deploys.iter().map(|d| d.template.file).collect();
    for t in &loaded.templates {
        if !reached.contains(&t.file) {
            graph
                .diagnostics
                .extend(crate::model::duplicate_key_diagnostics(t));
            for e in &t.syntax_errors {
                graph.diagnostics.push(Diagnostic::new(
                    Code::SyntaxError,
                    crate::diagnostic::Severity::Error,
                    e.span,
                    e.message.clone(),
                ));
            }
        }
    }
    graph.diagnostics.extend(entry_diagnostics);
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
    env.insert(
        "resourcegroup".to_string(),
        options.deployment.resource_group_value(),
    );
    let eval_options = crate::policy::EvalOptions {
        levels: options.levels.clone(),
        parameters: options.parameters.clone(),
        env,
    };
    let (policy_set, load_errors) = policies_for_graph(options, &graph);
    lap("policy set built");
    for e in load_errors {
        let id = report.sources.add(e.path.clone(), Arc::<str>::from(""));
        diagnostics.push(Diagnostic::new(
            Code::PolicyError,
            crate::diagnostic::Severity::Error,
            Span::new(id, 0, 0),
            e.to_string(),
        ));
    }
    let outcome = crate::policy::evaluate(&policy_set, &graph, &eval_options);
    lap("policy pairs decided");
    diagnostics.extend(outcome.diagnostics);
    let mut not_evaluated = outcome.not_evaluated;
    report.policy_lookups = outcome.lookups;
    let input_templates = loaded.templates.get(..loaded.inputs).unwrap_or(&[]);
    diagnostics.extend(crate::engine::variants::decide_with_allowed_values(
        input_templates,
        &policy_set,
        &eval_options,
        &options.deployment,
        &mut not_evaluated,
    ));
    lap("policies evaluated");
    label_parameter_files(
        &mut diagnostics,
        &loaded.parameter_files,
        &loaded,
        &report.sources,
    );
    move_out_of_the_module_cache(&mut diagnostics, &loaded.cached);
    diagnostics.sort_by(report_order);
    diagnostics.dedup_by(|a, b| same_finding(a, b));
    not_evaluated.sort();
    not_evaluated.dedup();
    lap("findings sorted");
    crate::policy::exemption::apply(&policy_set, &mut diagnostics);
    report.graph = graph;
    report.diagnostics = diagnostics;
    report.fixes = policy_set
        .policies()
        .iter()
        .filter_map(|p| Some((p.id.clone(), p.fix.clone()?)))
        .collect();
    report.not_evaluated = not_evaluated;
    let known: std::collections::HashSet<String> = policy_set.ids().map(str::to_string).collect();
    let refs: Vec<&Template> = loaded.templates.iter().collect();
    crate::report::suppress::apply_to_report(&mut report, &refs, Some(&known));
    lap("suppression directives applied");
    crate::fix::attach(&mut report);
    // The module cache belongs to Bicep: nothing there is edited.
    if !loaded.cached.is_empty() {
        for d in &mut report.diagnostics {
            d.fixes.retain(|f| {
                f.edits
                    .iter()
                    .all(|e| !loaded.cached.contains(&e.span.file))
            });
        }
    }
    lap("suppressions applied");
    drop(refs);
    match free {
        Free::Later => drop_later(loaded),
        Free::Now(_) => drop(loaded),
    }
    report
}

/// The order of a report's diagnostics: by file, position, code, message, resource, the one with
/// more related locations first.
fn report_order(a: &Diagnostic, b: &Diagnostic) -> std::cmp::Ordering {
    (
        a.span.file,
        a.span.start,
        &a.code,
        &a.message,
        &a.resource,
        std::cmp::Reverse(a.related.len()),
    )
        .cmp(&(
            b.span.file,
            b.span.start,
            &b.code,
            &b.message,
            &b.resource,
            std::cmp::Reverse(b.related.len()),
        ))
}

/// The same finding on the same resource reached twice is reported once; findings on different
/// resources declared at one place (loop instances, a module deployed several times, registry
/// modules' findings moved to the `module` line) are each reported.
fn same_finding(a: &Diagnostic, b: &Diagnostic) -> bool {
    a.code == b.code && a.span == b.span && a.message == b.message && a.resource == b.resource
}

/// Frees `value` on a thread of the analysis pool, so the caller goes on (a bulk audit's templates
/// take a tenth of a second to free; a command that exits meanwhile doesn't wait for it).
pub fn drop_later<T: Send + 'static>(value: T) {
    match pool() {
        Some(p) => p.spawn(move || drop(value)),
        None => drop(value),
    }
}

/// The policies an analysis runs: the built-in ones and those of `options.policy_dirs`, with the
/// errors of definitions that failed to load. With assignments, the set the last analysis built
/// (see [`policies_for`]), else every assigned policy.
pub fn policies(
    options: &Options,
) -> (
    Arc<crate::policy::PolicySet>,
    Vec<crate::policy::PolicyLoadError>,
) {
    policies_wanted(options, Want::Last)
}

/// The policies an analysis of resources of `types` (lowercase) runs: as [`policies`], but the
/// assigned definitions whose `if` can match none of the types are left out uncompiled.
pub fn policies_for(
    options: &Options,
    types: &std::collections::BTreeSet<String>,
) -> (
    Arc<crate::policy::PolicySet>,
    Vec<crate::policy::PolicyLoadError>,
) {
    policies_wanted(options, Want::Types(types))
}

/// [`policies_for`] the types `graph` audits (its resources that are not `existing`).
fn policies_for_graph(
    options: &Options,
    graph: &crate::graph::ResourceGraph,
) -> (
    Arc<crate::policy::PolicySet>,
    Vec<crate::policy::PolicyLoadError>,
) {
    let audited: std::collections::BTreeSet<String> = graph
        .resources
        .iter()
        .filter(|r| !r.existing)
        .map(|r| r.type_name.to_ascii_lowercase())
        .collect();
    policies_for(options, &audited)
}

fn policies_wanted(
    options: &Options,
    want: Want<'_>,
) -> (
    Arc<crate::policy::PolicySet>,
    Vec<crate::policy::PolicyLoadError>,
) {
    let builtin = crate::policy::PolicySet::builtin_shared();
    if options.policy_dirs.is_empty() && options.assignments.is_empty() {
        return (builtin, Vec::new());
    }
    // Only assignments are chosen by type: without them one set serves every analysis (a
    // streamed bulk audit asks once per deployment group).
    let none = std::collections::BTreeSet::new();
    let want = match want {
        Want::Types(_) if options.assignments.is_empty() => Want::Types(&none),
        w => w,
    };
    cached(options, want, |only| {
        let mut set = crate::policy::PolicySet::clone(&builtin);
        let mut errors = Vec::new();
        for dir in &options.policy_dirs {
            errors.extend(set.load_dir(dir));
        }
        if !options.assignments.is_empty() {
            let r = crate::policy::load_assignments(
                &mut set,
                &options.assignments,
                &options.deployment,
                only,
            );
            errors.extend(r.errors);
            set.notes = r.notes;
        }
        (Arc::new(set), errors)
    })
}

type Built = (
    Arc<crate::policy::PolicySet>,
    Vec<crate::policy::PolicyLoadError>,
);

/// What [`cached`] is asked for.
#[derive(Debug, Clone, Copy)]
pub enum Want<'a> {
    /// The policies that can apply to these (lowercase) resource types, at least.
    Types(&'a std::collections::BTreeSet<String>),
    /// The set built last for the same sources (an analysis's, to describe its rules), else
    /// every policy.
    Last,
}

/// The policy set of `options`, built once per distinct set of sources, deployment context and
/// content of the files they name (an edit to an assignment, a definition or the landing-zone
/// library on disk makes a new one: the language server sees it at its next analysis).
/// `build` is given the resource types to compile for (`None`: all); a set built for some
/// types is reused for any of them, and rebuilt for the union when more are asked for.
fn cached(
    options: &Options,
    want: Want<'_>,
    build: impl FnOnce(Option<&std::collections::BTreeSet<String>>) -> Built,
) -> Built {
    use std::sync::Mutex;
    type Key = (
        Vec<PathBuf>,
        crate::policy::assignment::Sources,
        DeploymentContext,
    );
    /// The key, the files' fingerprint, the types the set was built for (`None`: all), the set.
    type Entry = (Key, u64, Option<std::collections::BTreeSet<String>>, Built);
    static CACHE: Mutex<Option<Entry>> = Mutex::new(None);
    let key: Key = (
        options.policy_dirs.clone(),
        options.assignments.clone(),
        options.deployment.clone(),
    );
    // The last set is the last analysis's, whatever changed on disk since: no need to look.
    let files = match want {
        Want::Types(_) => fingerprint(options),
        Want::Last => 0,
    };
    let mut covers = match want {
        Want::Types(t) => Some(t.clone()),
        Want::Last => None,
    };
    if let Ok(c) = CACHE.lock() {
        if let Some((k, f, built_for, built)) = c.as_ref() {
            if *k == key {
                match (want, built_for) {
                    (Want::Last, _) => return built.clone(),
                    _ if *f != files => {}
                    (Want::Types(_), None) => return built.clone(),
                    (Want::Types(t), Some(b)) if t.is_subset(b) => return built.clone(),
                    (Want::Types(t), Some(b)) => covers = Some(b.union(t).cloned().collect()),
                }
            }
        }
    }
    let files = match want {
        Want::Types(_) => files,
        Want::Last => fingerprint(options),
    };
    let built = build(covers.as_ref());
    if let Ok(mut c) = CACHE.lock() {
        *c = Some((key, files, covers, built.clone()));
    }
    built
}

/// A hash of the size and modification time of every file the policy sources of `options`
/// name (`--policy-dir` folders, `--assignments` paths, the landing-zone library, `--builtins`).
fn fingerprint(options: &Options) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let s = &options.assignments;
    let roots = options
        .policy_dirs
        .iter()
        .chain(&s.assignments)
        .chain(&s.alz_library)
        .chain(&s.builtins);
    for root in roots {
        let mut files = Vec::new();
        if root.is_dir() {
            crate::policy::collect_json_files(root, &mut files);
            files.sort();
        } else {
            files.push(root.clone());
        }
        for f in files {
            f.hash(&mut h);
            if let Ok(m) = std::fs::metadata(&f) {
                m.len().hash(&mut h);
                m.modified().ok().hash(&mut h);
            }
        }
    }
    h.finish()
}
