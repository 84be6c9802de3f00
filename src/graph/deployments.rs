//! A deployment, not a file, is the unit of analysis: this module reads the module files and
//! parameter files that the audited files pull in (through a [`FileProvider`]) and decides which
//! deployments to build: each template once per parameter file that uses it, else once on its own.

use crate::eval::{DeploymentContext, Evaluator};
use crate::files::paths::PathRules;
use crate::files::registry::{BicepSettings, Registry};
use crate::files::{language_of, normalize, FileProvider, ReadError};
use crate::graph::builder::{is_registry_reference, ModuleError, Modules};
use crate::model::{Language, Template};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::lower_with;
use crate::value::{Reason, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// At most this many files are read beyond the inputs.
const MAX_EXTRA_FILES: usize = 2000;

/// Every template of an analysis (inputs first, then files they pulled in), with the resolution of
/// each module reference.
#[derive(Default)]
pub struct Loaded {
    /// Lowered files; the first `inputs` are the audited inputs (those azaudit reads).
    pub templates: Vec<Template>,
    /// How many of `templates` are inputs.
    pub inputs: usize,
    by_file: HashMap<FileId, usize>,
    resolved: HashMap<(FileId, String), Result<usize, ModuleError>>,
    names: HashMap<FileId, String>,
    /// Parameter files, by file id.
    pub parameter_files: HashMap<FileId, String>,
    /// Files read from the Bicep module cache (registry modules).
    pub cached: std::collections::HashSet<FileId>,
}

impl Modules for Loaded {
    fn template(&self, caller: FileId, source: &str) -> Result<&Template, ModuleError> {
        match self.resolved.get(&(caller, source.to_string())) {
            Some(Ok(i)) => self
                .templates
                .get(*i)
                .ok_or_else(|| ModuleError::Failed(format!("module '{source}' is not read"))),
            Some(Err(e)) => Err(e.clone()),
            None => Err(ModuleError::NotRead),
        }
    }

    fn file_name(&self, file: FileId) -> String {
        self.names
            .get(&file)
            .cloned()
            .unwrap_or_else(|| format!("file {}", file.0))
    }
}

impl Loaded {
    /// The template of `file`, if it was read.
    pub fn get(&self, file: FileId) -> Option<&Template> {
        self.by_file.get(&file).and_then(|i| self.templates.get(*i))
    }
}

/// One deployment to build: a template, the parameter values it gets, and the parameter file they
/// come from.
pub struct DeploymentPlan {
    /// Index into [`Loaded::templates`].
    pub template: usize,
    pub params: HashMap<String, Value>,
    /// The parameter file, when the values come from one.
    pub parameter_file: Option<FileId>,
}

/// The relative path a module reference names: the reference itself, or, for an ARM expression
/// such as `[uri(deployment().properties.templateLink.uri, 'nested/vnet.json')]`, its quoted
/// `.json` literal. `None` for registry references and remote URIs.
pub fn local_path(source: &str) -> Option<String> {
    let s = source.trim();
    if is_registry_reference(s) || s.starts_with(crate::files::paths::TEMPLATE_SPEC_ID_PREFIX) {
        return None;
    }
    if s.starts_with('[') {
        // Only relative to the template's own location: `deployment().properties.templateLink`
        // or the `_artifactsLocation` convention.
        let lower = s.to_ascii_lowercase();
        if !lower.contains("templatelink.uri") && !lower.contains("_artifactslocation") {
            return None;
        }
        let literal = s
            .split('\'')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, x)| x)
            .filter(|x| {
                let x = x.trim_start_matches('/');
                x.to_ascii_lowercase().ends_with(".json") && !x.starts_with('.')
            })
            .last()?;
        return Some(literal.trim_start_matches('/').to_string());
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("://") {
        return None;
    }
    Some(s.to_string())
}

/// The inputs' templates (already lowered, one per input), before anything is pulled in.
pub fn inputs(templates: Vec<Template>, sources: &SourceMap) -> Loaded {
    let mut loaded = Loaded {
        inputs: templates.len(),
        ..Loaded::default()
    };
    for (i, t) in templates.iter().enumerate() {
        loaded.by_file.insert(t.file, i);
        if matches!(t.language, Language::BicepParams | Language::ArmParameters) {
            loaded
                .parameter_files
                .insert(t.file, file_name(sources, t.file));
        }
    }
    loaded.templates = templates;
    for (id, f) in sources.iter() {
        loaded.names.insert(id, display_name(&f.path));
    }
    loaded
}

/// Reads the module files that the templates read so far pull in (and theirs), adding them to
/// `sources`. Registry modules are read from the Bicep module cache that `registry` and the
/// `bicepconfig.json` nearest to the declaring file name.
pub fn resolve_modules(
    loaded: &mut Loaded,
    sources: &mut SourceMap,
    provider: &dyn FileProvider,
    registry: &Registry,
    rules: &PathRules,
) {
    let mut next = 0;
    let mut extra = 0;
    let mut settings = SettingsCache::default();
    while let Some(t) = loaded.templates.get(next) {
        let file = t.file;
        let mut refs = Vec::new();
        collect_sources(t, &mut refs, 0);
        next += 1;
        let Some(base) = sources.get(file).map(|f| f.path.clone()) else {
            continue;
        };
        for source in refs {
            if loaded.resolved.contains_key(&(file, source.clone())) {
                continue;
            }
            if is_registry_reference(&source) {
                let result = open_registry_module(
                    loaded,
                    sources,
                    provider,
                    registry,
                    &mut settings,
                    &base,
                    &source,
                    &mut extra,
                );
                loaded.resolved.insert((file, source), result);
                continue;
            }
            let Some(rel) = local_path(&source) else {
                continue;
            };
            let path = match rules.resolve(&base, &rel) {
                Ok(path) => path,
                Err(why) => {
                    loaded.resolved.insert(
                        (file, source),
                        Err(ModuleError::Failed(format!("module {why}"))),
                    );
                    continue;
                }
            };
            let result = match open(loaded, sources, provider, &path, &mut extra) {
                Ok(i) => Ok(i),
                // A path guessed from an ARM expression: silent when wrong.
                Err(_) if source.trim_start().starts_with('[') => Err(ModuleError::NotRead),
                Err(OpenError::Read(ReadError::NotFound)) => Err(ModuleError::Failed(format!(
                    "module file '{rel}' is not found"
                ))),
                Err(why) => Err(ModuleError::Failed(format!(
                    "module file '{rel}' is not read: {why}"
                ))),
            };
            loaded.resolved.insert((file, source), result);
        }
    }
}

/// Most folders walked up from a file looking for its `bicepconfig.json`.
const MAX_CONFIG_DEPTH: usize = 64;

/// The Bicep settings of each folder's nearest `bicepconfig.json`, read once per analysis.
#[derive(Default)]
struct SettingsCache {
    by_dir: HashMap<PathBuf, Option<std::sync::Arc<BicepSettings>>>,
}

impl SettingsCache {
    /// The settings of the `bicepconfig.json` nearest to `file` (read through `provider`, so an
    /// unsaved editor buffer counts), or `None` when there is none.
    fn for_file(
        &mut self,
        file: &Path,
        provider: &dyn FileProvider,
    ) -> Option<std::sync::Arc<BicepSettings>> {
        let dir = file.parent()?;
        let mut walked = Vec::new();
        let mut found = None;
        for d in dir.ancestors().take(MAX_CONFIG_DEPTH) {
            if let Some(known) = self.by_dir.get(d) {
                found = known.clone();
                break;
            }
            walked.push(d.to_path_buf());
            let path = d.join(crate::files::config::FILE_NAME);
            if let Some(text) = provider.read(&path) {
                found = Some(std::sync::Arc::new(crate::files::config::bicep_settings(
                    &path, &text,
                )));
                break;
            }
        }
        for d in walked {
            self.by_dir.insert(d, found.clone());
        }
        found
    }
}

/// The cached template of the registry module `source` declared in `caller`, or why it is not
/// evaluated (`module not restored` when the cache doesn't have it).
#[allow(clippy::too_many_arguments)]
fn open_registry_module(
    loaded: &mut Loaded,
    sources: &mut SourceMap,
    provider: &dyn FileProvider,
    registry: &Registry,
    settings: &mut SettingsCache,
    caller: &Path,
    source: &str,
    extra: &mut usize,
) -> Result<usize, ModuleError> {
    let found;
    let config: &BicepSettings = match &registry.fixed {
        Some(fixed) => fixed,
        None => {
            found = settings.for_file(caller, provider).unwrap_or_default();
            &found
        }
    };
    let reference = crate::files::registry::parse(source, config).map_err(ModuleError::Failed)?;
    let root = config
        .cache_root
        .as_ref()
        .or(registry.default_cache.as_ref())
        .ok_or(ModuleError::NotRestored)?;
    let path = crate::files::registry::cache_path(&reference, root);
    if let Some(id) = sources.find(&path) {
        return loaded
            .by_file
            .get(&id)
            .copied()
            .ok_or(ModuleError::NotRestored);
    }
    if *extra >= MAX_EXTRA_FILES {
        return Err(ModuleError::NotRestored);
    }
    let text = provider.read(&path).ok_or(ModuleError::NotRestored)?;
    let text = match reference {
        crate::files::registry::Reference::TemplateSpec { .. } => {
            match crate::files::registry::template_spec_template(&text) {
                Some(t) => std::sync::Arc::from(t),
                None => text,
            }
        }
        crate::files::registry::Reference::Oci { .. } => text,
    };
    // A cached module is a compiled ARM template.
    if crate::syntax::arm::classify(&text) != Some(Language::ArmTemplate) {
        return Err(ModuleError::NotRestored);
    }
    let id = sources.next_id();
    let t = lower_with(id, &text, Language::ArmTemplate, provider.memo());
    let i = add(loaded, sources, &path, text, t, extra);
    if let Some(t) = loaded.templates.get(i) {
        loaded.cached.insert(t.file);
    }
    Ok(i)
}

/// Why [`open`] gives no template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum OpenError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("more than {MAX_EXTRA_FILES} files are read")]
    TooManyFiles,
    #[error("it is not a Bicep or ARM template")]
    NotTemplate,
}

/// The index of the template at `path`, reading and lowering it when new; else why not. A file
/// that is no template (not an ARM file, or Bicep text with nothing but syntax errors) is not
/// kept, so no diagnostic ever quotes it.
fn open(
    loaded: &mut Loaded,
    sources: &mut SourceMap,
    provider: &dyn FileProvider,
    path: &Path,
    extra: &mut usize,
) -> Result<usize, OpenError> {
    if let Some(id) = sources.find(path) {
        return loaded
            .by_file
            .get(&id)
            .copied()
            .ok_or(OpenError::Read(ReadError::NotFound));
    }
    if *extra >= MAX_EXTRA_FILES {
        return Err(OpenError::TooManyFiles);
    }
    let text = provider.read_or_why(path)?;
    let not_template = |extra: &mut usize| {
        // Read all the same: it counts towards the files read.
        *extra += 1;
        OpenError::NotTemplate
    };
    let Some(language) = language_of(path, &text) else {
        return Err(not_template(extra));
    };
    let id = sources.next_id();
    let t = lower_with(id, &text, language, provider.memo());
    if !t.syntax_errors.is_empty() && t.is_empty() {
        return Err(not_template(extra));
    }
    Ok(add(loaded, sources, path, text, t, extra))
}

/// Adds the file at `path` with `text`, lowered as `t` (whose file id is the next one of
/// `sources`), to the sources; returns its index.
fn add(
    loaded: &mut Loaded,
    sources: &mut SourceMap,
    path: &Path,
    text: std::sync::Arc<str>,
    t: Template,
    extra: &mut usize,
) -> usize {
    *extra += 1;
    let language = t.language;
    let id = sources.add(path.to_path_buf(), text);
    debug_assert_eq!(id, t.file);
    loaded.names.insert(id, display_name(path));
    let i = loaded.templates.len();
    loaded.by_file.insert(id, i);
    if matches!(language, Language::BicepParams | Language::ArmParameters) {
        loaded.parameter_files.insert(id, display_name(path));
    }
    loaded.templates.push(t);
    i
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn file_name(sources: &SourceMap, id: FileId) -> String {
    sources
        .get(id)
        .map(|f| display_name(&f.path))
        .unwrap_or_default()
}

/// Module references of `t` and of the templates nested in it.
fn collect_sources(t: &Template, out: &mut Vec<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    for m in &t.modules {
        if let Some(s) = &m.source {
            out.push(s.clone());
        }
        if let Some(inner) = &m.inline_template {
            collect_sources(inner, out, depth + 1);
        }
    }
}

/// The deployments to build from the inputs that `starts` selects (by input index): each
/// parameter file with the template it uses; each template no parameter file uses, on its own
/// (parameter files beside it found through `provider` by convention: `<name>.parameters.json`,
/// `<name>.bicepparam`).
pub fn plan(
    loaded: &mut Loaded,
    sources: &mut SourceMap,
    provider: &dyn FileProvider,
    deployment: &DeploymentContext,
    rules: &PathRules,
    diagnostics: &mut Vec<crate::diagnostic::Diagnostic>,
    starts: &dyn Fn(usize) -> bool,
) -> Vec<DeploymentPlan> {
    let mut out = Vec::new();
    let mut used: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut extra = 0;
    // Parameter files among the inputs.
    for pi in (0..loaded.inputs).filter(|i| starts(*i)) {
        let Some(p) = loaded.templates.get(pi) else {
            continue;
        };
        if !matches!(p.language, Language::BicepParams | Language::ArmParameters) {
            continue;
        }
        let pfile = p.file;
        let using = p.using.clone();
        let plang = p.language;
        let Some(path) = sources.get(pfile).map(|f| f.path.clone()) else {
            continue;
        };
        let warn = |diagnostics: &mut Vec<crate::diagnostic::Diagnostic>, message: String| {
            diagnostics.push(crate::diagnostic::Diagnostic::new(
                crate::diagnostic::codes::Code::ModuleError,
                crate::diagnostic::Severity::Warning,
                Span::new(pfile, 0, 0),
                message,
            ));
        };
        let target = match (&using, plang) {
            (Some(u), _) => match local_path(u).map(|u| rules.resolve(&path, &u)) {
                Some(Ok(target)) => Some(target),
                Some(Err(why)) => {
                    warn(
                        diagnostics,
                        format!("the template this parameter file uses: {why}"),
                    );
                    continue;
                }
                None => None,
            },
            (None, Language::ArmParameters) => template_by_convention(&path),
            (None, _) => None,
        };
        let Some(target) = target else {
            continue;
        };
        if target == path {
            warn(
                diagnostics,
                "this parameter file uses itself; `using` must name a Bicep or ARM template".into(),
            );
            continue;
        }
        match open(loaded, sources, provider, &target, &mut extra) {
            Ok(ti)
                if loaded.templates.get(ti).is_some_and(|t| {
                    matches!(t.language, Language::Bicep | Language::ArmTemplate)
                }) =>
            {
                used.insert(ti);
                out.push(entry(loaded, ti, pfile, deployment));
            }
            Ok(_) if using.is_some() => warn(
                diagnostics,
                format!(
                    "'{}', which this parameter file uses, is not a Bicep or ARM template",
                    display_name(&target)
                ),
            ),
            Ok(_) => {}
            Err(why) if using.is_some() => {
                let message = if why == OpenError::Read(ReadError::NotFound) {
                    format!(
                        "the template '{}' this parameter file uses is not found",
                        display_name(&target)
                    )
                } else {
                    format!(
                        "the template '{}' this parameter file uses is not read: {why}",
                        display_name(&target)
                    )
                };
                warn(diagnostics, message);
            }
            Err(_) => {}
        }
    }
    // Templates among the inputs.
    for ti in (0..loaded.inputs).filter(|i| starts(*i)) {
        if used.contains(&ti) {
            continue;
        }
        let Some(t) = loaded.templates.get(ti) else {
            continue;
        };
        let language = t.language;
        if !matches!(language, Language::Bicep | Language::ArmTemplate) {
            continue;
        }
        let file = t.file;
        let Some(path) = sources.get(file).map(|f| f.path.clone()) else {
            continue;
        };
        let mut found = false;
        for candidate in parameter_files_beside(&path, language) {
            if sources
                .find(&candidate)
                .is_some_and(|id| loaded.by_file.get(&id).is_some_and(|i| *i < loaded.inputs))
            {
                // An input parameter file: handled above when it named this template.
                continue;
            }
            let Ok(pi) = open(loaded, sources, provider, &candidate, &mut extra) else {
                continue;
            };
            let Some(p) = loaded.templates.get(pi) else {
                continue;
            };
            let pfile = p.file;
            let fits = match (p.language, &p.using) {
                (Language::ArmParameters, None) => true,
                (Language::ArmParameters | Language::BicepParams, Some(u)) => local_path(u)
                    .is_some_and(|u| {
                        normalize(&candidate.parent().unwrap_or(Path::new("")).join(u)) == path
                    }),
                _ => false,
            };
            if fits {
                found = true;
                out.push(entry(loaded, ti, pfile, deployment));
            }
        }
        if !found {
            out.push(DeploymentPlan {
                template: ti,
                params: HashMap::new(),
                parameter_file: None,
            });
        }
    }
    out
}

/// The templates (indices into [`Loaded::templates`]) the deployments `entries` reach through
/// their modules, the entries' own templates and parameter files included.
pub fn reached(loaded: &Loaded, entries: &[DeploymentPlan]) -> std::collections::HashSet<usize> {
    let mut calls: HashMap<FileId, Vec<usize>> = HashMap::new();
    for ((caller, _), target) in &loaded.resolved {
        if let Ok(i) = target {
            calls.entry(*caller).or_default().push(*i);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<usize> = entries.iter().map(|e| e.template).collect();
    stack.extend(entries.iter().filter_map(|e| {
        e.parameter_file
            .and_then(|p| loaded.by_file.get(&p).copied())
    }));
    while let Some(i) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        let Some(t) = loaded.templates.get(i) else {
            continue;
        };
        stack.extend(calls.get(&t.file).into_iter().flatten().copied());
    }
    seen
}

/// `x.parameters.json` → `x.json`.
pub fn template_by_convention(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let stem_len = lower.strip_suffix(".parameters.json")?.len();
    let stem = name.get(..stem_len)?;
    Some(path.with_file_name(format!("{stem}.json")))
}

/// Parameter files that by convention go with the template at `path`.
fn parameter_files_beside(path: &Path, language: Language) -> Vec<PathBuf> {
    let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
        return Vec::new();
    };
    match language {
        Language::ArmTemplate => vec![path.with_file_name(format!("{stem}.parameters.json"))],
        Language::Bicep => vec![path.with_file_name(format!("{stem}.bicepparam"))],
        _ => Vec::new(),
    }
}

/// The deployment of template `ti` with the values of parameter file `pfile`.
fn entry(
    loaded: &Loaded,
    ti: usize,
    pfile: FileId,
    deployment: &DeploymentContext,
) -> DeploymentPlan {
    DeploymentPlan {
        template: ti,
        params: loaded
            .get(pfile)
            .map(|p| parameter_values(p, deployment))
            .unwrap_or_default(),
        parameter_file: Some(pfile),
    }
}

/// The values a parameter file assigns, each with the span of its expression in that file.
pub fn parameter_values(p: &Template, deployment: &DeploymentContext) -> HashMap<String, Value> {
    let ev = Evaluator::new(p, HashMap::new(), deployment.clone());
    let mut out = HashMap::new();
    for a in &p.assignments {
        let v = match &a.value {
            Some(e) => ev.eval(e, &Vec::new(), 0),
            None => Value::unknown(Reason::Environment {
                what: "the key vault secret".into(),
            })
            .with_span(a.span),
        };
        out.insert(a.name.clone(), v);
    }
    out
}
