//! Azure Policy definitions: loading, aliases, the rule language, evaluation over the resource graph.
//!
//! A [`PolicySet`] holds compiled definitions (every rule is compiled once at load: conditions into
//! a tree, field paths split, expressions parsed). [`evaluate`] decides every (policy, resource)
//! pair of a [`ResourceGraph`] in parallel and returns sorted diagnostics, plus the pairs that
//! can't be decided before deployment ([`NotEvaluated`], "depends on …").
//!
//! Effects map to levels: `deny` → error; `audit`, `auditIfNotExists`, `modify`, `append`,
//! `deployIfNotExists` → warning (azaudit reports what the effect would act on, it changes
//! nothing); `disabled` → off. `metadata.azaudit.level` overrides that mapping, and
//! [`EvalOptions::levels`] override both.

pub mod alias_text;
pub mod aliases;
pub mod alz;
pub mod assigned;
pub mod assignment;
pub mod builtins;
pub mod compare;
pub mod definition;
pub mod exemption;
pub mod expression;
pub mod field;
pub mod fix;
pub mod initiative;
pub mod nsg;
pub mod platform;
pub mod rule;
pub mod types;

use crate::diagnostic::{Diagnostic, Level, NotEvaluated};

pub use aliases::AliasTable;
pub use definition::{Candidate, Definition, LinkAnswer, LinkQuery, Verdict};

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A policy definition that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLoadError {
    pub path: PathBuf,
    /// 1-based line and column of the problem (1:1 when it can't be placed).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for PolicyLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for PolicyLoadError {}

/// Why a definition file was not loaded.
enum LoadFailure {
    /// Not a definition azaudit can load.
    Invalid(PolicyLoadError),
    /// A definition with its id is already loaded.
    Duplicate(PolicyLoadError),
}

impl From<PolicyLoadError> for LoadFailure {
    fn from(e: PolicyLoadError) -> LoadFailure {
        LoadFailure::Invalid(e)
    }
}

/// One loaded policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The definition's `name` (the file stem when it has none).
    pub id: String,
    /// `displayName`.
    pub title: String,
    pub description: String,
    /// `metadata.category`.
    pub category: String,
    /// The level with default parameters and no overrides.
    pub level: Level,
    /// `metadata.azaudit.docs`, else the description.
    pub docs: String,
    /// `metadata.azaudit.help`.
    pub help: Option<String>,
    /// `metadata.azaudit.message`: the diagnostic message template.
    pub message: Option<String>,
    /// `metadata.azaudit.level`, when set.
    pub level_override: Option<Level>,
    /// `metadata.azaudit.fix`: the quick fix the policy declares.
    pub fix: Option<Arc<fix::FixSpec>>,
    pub path: PathBuf,
    pub definition: Arc<Definition>,
    /// The assignment this policy comes from (an assigned definition or initiative member).
    pub assignment: Option<Arc<assignment::Assigned>>,
}

/// Compiled policies and the alias table their rules resolve through.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: Vec<Policy>,
    aliases: Option<Arc<AliasTable>>,
    /// Policy exemptions that apply to the deployment.
    pub exemptions: Vec<exemption::Exemption>,
    /// What loading assignments noted (the scope used, what was left out), for stderr.
    pub notes: Vec<String>,
    /// Codes of assigned policies left out uncompiled: their `if` can match none of the audited
    /// resource types (see [`assignment::load`]). They are still known ids.
    pub left_out: Vec<String>,
}

/// Per-run configuration.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// Level overrides by policy id.
    pub levels: HashMap<String, Level>,
    /// Parameter values by policy id, then parameter name.
    pub parameters: HashMap<String, HashMap<String, serde_json::Value>>,
    /// What `subscription()`, `resourceGroup()` … answer, when the deployment is known (by
    /// lowercase function name); absent ones are unknown.
    pub env: HashMap<String, crate::value::Value>,
}

/// What [`evaluate`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Sorted by file, position, code.
    pub diagnostics: Vec<Diagnostic>,
    /// Sorted the same way.
    pub not_evaluated: Vec<NotEvaluated>,
    /// The ids the policies looked up by the linking rule (`details.resourceId`, `follow`
    /// hops), each with the resource it was looked up from; sorted, once each.
    pub lookups: Vec<(crate::graph::ResourceIdx, String)>,
}

/// The built-in set, once built ([`PolicySet::builtin_shared`]).
static BUILTIN: std::sync::OnceLock<Arc<PolicySet>> = std::sync::OnceLock::new();

mod builtin_files {
    include!(concat!(env!("OUT_DIR"), "/builtin_policies.rs"));
}

/// Whether `id` is a policy shipped with azaudit that has a page in `docs/policies/`.
pub fn has_builtin_docs(id: &str) -> bool {
    builtin_files::DOCS
        .iter()
        .any(|(i, _)| i.eq_ignore_ascii_case(id))
}

/// [`crate::diagnostic::codes::doc_url`] when that page exists: a built-in code or a policy shipped with azaudit (your own
/// policies and Azure's built-ins have no page here).
pub fn published_doc_url(id: &str) -> Option<String> {
    (crate::diagnostic::codes::find(id).is_some() || has_builtin_docs(id))
        .then(|| crate::diagnostic::codes::doc_url(id))
}

fn line_col_of(text: &str, needle: &str) -> (usize, usize) {
    let Some(pos) = text.find(needle) else {
        return (1, 1);
    };
    let at = crate::source::LineIndex::new(text).line_col(u32::try_from(pos).unwrap_or(u32::MAX));
    (at.line as usize, at.column as usize)
}

impl PolicySet {
    /// An empty set using the built-in alias table.
    pub fn new() -> PolicySet {
        PolicySet::default()
    }

    /// An empty set resolving aliases through `aliases` first (then the built-in table).
    pub fn with_aliases(aliases: AliasTable) -> PolicySet {
        PolicySet {
            policies: Vec::new(),
            aliases: Some(Arc::new(aliases)),
            exemptions: Vec::new(),
            notes: Vec::new(),
            left_out: Vec::new(),
        }
    }

    /// Every `policies/**/*.json` of the repository, compiled into the binary.
    pub fn builtin() -> PolicySet {
        let mut set = PolicySet::new();
        for (path, text) in builtin_files::FILES {
            // Built-in policies are tested to load; a broken one is skipped rather than fatal.
            let _ = set.load_file(Path::new(path), text);
        }
        for policy in &mut set.policies {
            if let Some((_, doc)) = builtin_files::DOCS.iter().find(|(id, _)| *id == policy.id) {
                policy.docs = (*doc).to_string();
            }
        }
        set
    }

    /// [`PolicySet::builtin`], built once a process and shared by its analyses (a run's, a
    /// language server's); a set with more policies starts from a copy of it.
    pub fn builtin_shared() -> Arc<PolicySet> {
        BUILTIN
            .get_or_init(|| Arc::new(PolicySet::builtin()))
            .clone()
    }

    /// Starts building [`PolicySet::builtin_shared`] on a thread of its own, so that it is ready
    /// when the analysis asks for it: a one-file run spends that time finding the deployments
    /// and parsing. When no thread can be started, the set is built when first asked for.
    pub fn prepare_builtin() {
        if BUILTIN.get().is_none() {
            let _ = std::thread::Builder::new()
                .name("azaudit-policies".into())
                .spawn(|| drop(PolicySet::builtin_shared()));
        }
    }

    /// The alias table rules resolve through.
    pub fn aliases(&self) -> &AliasTable {
        match &self.aliases {
            Some(a) => a,
            None => AliasTable::builtin(),
        }
    }

    /// Loads one definition file.
    pub fn load_file(&mut self, path: &Path, text: &str) -> Result<(), PolicyLoadError> {
        self.load(path, text).map_err(|f| match f {
            LoadFailure::Invalid(e) | LoadFailure::Duplicate(e) => e,
        })
    }

    /// [`PolicySet::load_file`], telling a duplicate id from an invalid file.
    fn load(&mut self, path: &Path, text: &str) -> Result<(), LoadFailure> {
        let err = |line: usize, column: usize, message: String| PolicyLoadError {
            path: path.to_path_buf(),
            line,
            column,
            message,
        };
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            LoadFailure::Invalid(err(
                e.line().max(1),
                e.column().max(1),
                format!("invalid json: {e}"),
            ))
        })?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("policy")
            .to_string();
        let def = Definition::from_json(&json, &stem, self.aliases()).map_err(|m| {
            let (l, c) = line_col_of(text, "\"policyRule\"");
            LoadFailure::Invalid(err(l, c, m))
        })?;
        if self
            .policies
            .iter()
            .any(|p| p.id.eq_ignore_ascii_case(&def.name))
        {
            let (l, c) = line_col_of(text, "\"name\"");
            return Err(LoadFailure::Duplicate(err(
                l,
                c,
                format!("policy id '{}' is already loaded", def.name),
            )));
        }
        let meta = &def.metadata;
        let az = meta.get("azaudit");
        let az_str = |k: &str| {
            az.and_then(|a| a.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let level_override = match az_str("level") {
            Some(l) => Some(l.parse::<Level>().map_err(|m| {
                let (l, c) = line_col_of(text, "\"level\"");
                err(l, c, m)
            })?),
            None => None,
        };
        let fix = fix::FixSpec::from_metadata(az)
            .map_err(|m| {
                let (l, c) = line_col_of(text, "\"fix\"");
                err(l, c, m)
            })?
            .map(Arc::new);
        let level = level_override.unwrap_or_else(|| match def.default_effect() {
            Some(e) => effect_level(&e),
            None => Level::Warning,
        });
        let level = if def
            .default_effect()
            .is_some_and(|e| e.eq_ignore_ascii_case("disabled"))
        {
            Level::Off
        } else {
            level
        };
        let policy = Policy {
            id: def.name.clone(),
            title: def.display_name.clone(),
            description: def.description.clone(),
            category: meta
                .get("category")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            level,
            docs: az_str("docs").unwrap_or_else(|| def.description.clone()),
            help: az_str("help"),
            message: az_str("message"),
            level_override,
            fix,
            path: path.to_path_buf(),
            definition: Arc::new(def),
            assignment: None,
        };
        self.policies.push(policy);
        self.policies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(())
    }

    /// Loads every `*.json` under `dir` (recursively, in path order); returns the failures.
    pub fn load_dir(&mut self, dir: &Path) -> Vec<PolicyLoadError> {
        let mut files = Vec::new();
        collect_json(dir, &mut files, 0);
        // Sovereign-cloud copies last, so the public-cloud definition is the one kept.
        files.sort_by_key(|f| (builtins::is_sovereign(f), f.clone()));
        let mut errors = Vec::new();
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(text) => {
                    match self.load(&f, &text) {
                        Ok(()) => {}
                        // Azure/azure-policy's sovereign-cloud folders repeat public-cloud ids:
                        // the copy is recognised, not an error.
                        Err(LoadFailure::Duplicate(_)) if builtins::is_sovereign(&f) => {}
                        Err(LoadFailure::Invalid(e) | LoadFailure::Duplicate(e)) => errors.push(e),
                    }
                }
                Err(e) => errors.push(PolicyLoadError {
                    path: f.clone(),
                    line: 1,
                    column: 1,
                    message: format!("cannot read the file: {e}"),
                }),
            }
        }
        errors
    }

    /// Adds policies that come from assignments (codes must not collide with loaded ids; a
    /// colliding one is skipped and returned).
    pub fn add_assigned(&mut self, policies: Vec<Policy>) -> Vec<Policy> {
        let mut known: std::collections::HashSet<String> = self
            .policies
            .iter()
            .map(|p| p.id.to_ascii_lowercase())
            .collect();
        let mut skipped = Vec::new();
        for p in policies {
            if known.insert(p.id.to_ascii_lowercase()) {
                self.policies.push(p);
            } else {
                skipped.push(p);
            }
        }
        self.policies.sort_by(|a, b| a.id.cmp(&b.id));
        skipped
    }

    /// The policies `keep` keeps, with the same aliases (no exemptions).
    pub fn subset(&self, keep: impl Fn(&Policy) -> bool) -> PolicySet {
        PolicySet {
            policies: self.policies.iter().filter(|p| keep(p)).cloned().collect(),
            aliases: self.aliases.clone(),
            exemptions: Vec::new(),
            notes: Vec::new(),
            left_out: Vec::new(),
        }
    }

    /// The loaded policies, sorted by id.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// Every policy id a user may name: the loaded policies' and the assigned ones left out.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.policies
            .iter()
            .map(|p| p.id.as_str())
            .chain(self.left_out.iter().map(String::as_str))
    }

    /// A policy by id (case-insensitive).
    pub fn get(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }
}

/// Every `*.json` file below `dir` (unsorted).
pub(crate) fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    collect_json(dir, out, 0);
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_json(&p, out, depth + 1);
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        {
            out.push(p);
        }
    }
}

/// The level an effect reports at.
pub fn effect_level(effect: &str) -> Level {
    match effect.to_ascii_lowercase().as_str() {
        "deny" | "denyaction" => Level::Error,
        "disabled" => Level::Off,
        "manual" => Level::Info,
        _ => Level::Warning,
    }
}

/// Adds to `set` the policies of every assignment `sources` give that applies to the
/// deployment (its management group from `sources`, its subscription and resource group), and
/// the exemptions that apply. With `only` (the audited resource types), the definitions whose
/// `if` can match none of them are left out without being compiled.
pub fn load_assignments(
    set: &mut PolicySet,
    sources: &assignment::Sources,
    deployment: &crate::files::config::DeploymentContext,
    only: Option<&std::collections::BTreeSet<String>>,
) -> assignment::Resolution {
    let subscription = deployment.subscription_id.as_deref();
    let resource_group = deployment.resource_group.as_deref();
    let mut out = assignment::Resolution::default();
    let folder;
    let builtins: &builtins::Builtins = match &sources.builtins {
        Some(dir) => {
            let (b, errors) = builtins::Builtins::from_folder(dir);
            out.errors.extend(errors);
            if b.sovereign_duplicates > 0 {
                out.notes.push(format!(
                    "{} sovereign-cloud copies of public-cloud definitions in `{}` recognised; the public-cloud ones are used",
                    b.sovereign_duplicates,
                    dir.display()
                ));
            }
            folder = b;
            &folder
        }
        None => builtins::Builtins::bundled(),
    };
    let mut loaded = assignment::Loaded::default();
    assignment::load_paths(&sources.assignments, &mut loaded, &mut out.errors);
    let mut target = assignment::Target::new(
        sources.management_group.as_deref(),
        subscription,
        resource_group,
    );
    if let Some(dir) = &sources.alz_library {
        let (lib, errors) = alz::Library::load(dir);
        out.errors.extend(errors);
        match sources.management_group.as_deref() {
            None => out.errors.push(PolicyLoadError {
                path: dir.clone(),
                line: 1,
                column: 1,
                message: "a landing-zone library needs the deployment's management group (`--management-group`)".into(),
            }),
            Some(mg) => match lib.assignments_for(mg) {
                Ok((mut assignments, chain)) => {
                    out.notes.push(format!(
                        "landing-zone library `{}`: management groups {}, {} assignments",
                        dir.display(),
                        chain.join(" > "),
                        assignments.len()
                    ));
                    target.management_groups = chain.iter().map(|c| c.to_ascii_lowercase()).collect();
                    target.chain_complete = true;
                    loaded.assignments.append(&mut assignments);
                }
                Err(message) => out.errors.push(PolicyLoadError {
                    path: dir.clone(),
                    line: 1,
                    column: 1,
                    message,
                }),
            },
        }
        loaded.catalog.absorb(lib.loaded.catalog);
    }
    for a in &mut loaded.assignments {
        a.fill_default_location(deployment.location.as_deref());
    }
    if target.is_unstated() && !loaded.assignments.is_empty() {
        out.notes.push(
            "the deployment's scope is not stated (--management-group, --subscription-id, --resource-group): every assignment and exemption given applies".into(),
        );
    }
    let r = assignment::resolve(
        set,
        &loaded.assignments,
        loaded.exemptions,
        &loaded.catalog,
        builtins,
        &target,
        only,
    );
    out.errors.extend(r.errors);
    out.errors.extend(loaded.catalog.take_errors());
    out.notes.extend(r.notes);
    out
}

mod graph_eval;
pub use graph_eval::evaluate;

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn policy_set_is_send_and_sync() {
        send_sync::<PolicySet>();
        send_sync::<Outcome>();
    }

    #[test]
    fn effects_map_to_levels() {
        assert_eq!(effect_level("Deny"), Level::Error);
        assert_eq!(effect_level("AuditIfNotExists"), Level::Warning);
        assert_eq!(effect_level("modify"), Level::Warning);
        assert_eq!(effect_level("deployIfNotExists"), Level::Warning);
        assert_eq!(effect_level("Disabled"), Level::Off);
    }

    #[test]
    fn builtin_policies_load_with_docs_help_and_messages() {
        let mut set = PolicySet::new();
        for (path, text) in builtin_files::FILES {
            if let Err(e) = set.load_file(Path::new(path), text) {
                panic!("{e}");
            }
        }
        let set = PolicySet::builtin();
        assert_eq!(set.policies().len(), builtin_files::FILES.len());
        for p in set.policies() {
            assert!(
                p.docs.starts_with("# "),
                "{} has no docs/policies/{}.md",
                p.id,
                p.id
            );
            assert!(p.help.is_some(), "{} has no help", p.id);
            assert!(p.message.is_some(), "{} has no message", p.id);
        }
        let p = set.get("apim-subnet-nsg").unwrap();
        assert_eq!(p.level, Level::Error);
        assert_eq!(p.category, "API Management");
    }
}
