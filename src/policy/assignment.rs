//! Policy assignments (`Microsoft.Authorization/policyAssignments`, as Azure exports them and as
//! the ALZ library writes them): which definition or initiative, with which parameter values, at
//! which scope, enforced or not, with which non-compliance messages.
//!
//! [`resolve`] turns the assignments that apply to the deployment's scope into policies: one per
//! assigned definition, one per initiative member, each with its parameter values resolved and
//! its diagnostic code `<assignment>` or `<assignment>/<policyDefinitionReferenceId>`.
//! Definitions are found by id: built-ins in the bundled snapshot (or `--builtins DIR`), custom
//! ones in `--policy-dir` folders, the `--assignments` folders and the landing-zone library.

pub use super::assigned::{scope_of_id, Assigned};
use super::builtins::{self, Builtins, Kind};
use super::definition::Definition;
use super::exemption::Exemption;
use super::initiative::{self, properties, Initiative};
use super::{effect_level, Policy, PolicyLoadError, PolicySet};
use crate::diagnostic::Level;
use crate::value::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where assignments come from and where the deployment goes (`--assignments`,
/// `--alz-library`, `--management-group`, `--builtins`, and `bicepconfig.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Sources {
    /// Files and folders of assignments, exemptions, definitions and initiatives.
    pub assignments: Vec<PathBuf>,
    /// An Azure Landing Zones library folder (`platform/alz`).
    pub alz_library: Option<PathBuf>,
    /// A management group id, or a chain `alz/landingzones/corp` (root first).
    pub management_group: Option<String>,
    /// A folder of built-in definitions to use instead of the bundled snapshot.
    pub builtins: Option<PathBuf>,
}

impl Sources {
    /// Whether nothing is assigned.
    pub fn is_empty(&self) -> bool {
        self.assignments.is_empty() && self.alz_library.is_none()
    }
}

/// One parsed assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub name: String,
    pub display_name: String,
    pub definition_id: String,
    /// Parameter values (`{"p": {"value": …}}` unwrapped).
    pub parameters: HashMap<String, serde_json::Value>,
    pub enforced: bool,
    /// `nonComplianceMessages`: the member reference id it is for (`None`: every member), text.
    pub messages: Vec<(Option<String>, String)>,
    /// The scope it is assigned at (`None`: not stated).
    pub scope: Option<String>,
    pub not_scopes: Vec<String>,
    pub definition_version: Option<String>,
    pub path: PathBuf,
    /// Parameters whose value is known only at deployment (a landing-zone placeholder with no
    /// deployment context to fill it), with why.
    pub unknown: Vec<(String, crate::value::Reason)>,
}

/// The landing-zone library's placeholder for the deployment's location.
pub const DEFAULT_LOCATION: &str = "${default_location}";

/// Whether a string in `v` contains `needle`.
fn mentions(v: &serde_json::Value, needle: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains(needle),
        serde_json::Value::Array(a) => a.iter().any(|x| mentions(x, needle)),
        serde_json::Value::Object(o) => o.values().any(|x| mentions(x, needle)),
        _ => false,
    }
}

/// Replaces `needle` with `with` in every string of `v`.
fn replace_in(v: &mut serde_json::Value, needle: &str, with: &str) {
    match v {
        serde_json::Value::String(s) => *s = s.replace(needle, with),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| replace_in(x, needle, with)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| replace_in(x, needle, with)),
        _ => {}
    }
}

fn get<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    get(v, key).and_then(|v| v.as_str()).map(str::to_string)
}

impl Assignment {
    /// Parses an assignment's JSON (`path` names it in errors).
    pub fn from_json(json: &serde_json::Value, path: &Path) -> Result<Assignment, String> {
        let props = properties(json);
        let id = text(json, "id");
        let name = text(json, "name")
            .or_else(|| id.as_deref().map(builtins::name_of))
            .ok_or("the assignment has no `name`")?;
        let definition_id = text(props, "policyDefinitionId")
            .ok_or_else(|| format!("assignment '{name}' has no `policyDefinitionId`"))?;
        let mut parameters = HashMap::new();
        if let Some(p) = get(props, "parameters").and_then(|p| p.as_object()) {
            for (k, v) in p {
                parameters.insert(k.clone(), get(v, "value").unwrap_or(v).clone());
            }
        }
        let enforced =
            !text(props, "enforcementMode").is_some_and(|m| m.eq_ignore_ascii_case("DoNotEnforce"));
        let messages = get(props, "nonComplianceMessages")
            .and_then(|m| m.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|m| {
                        Some((text(m, "policyDefinitionReferenceId"), text(m, "message")?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let scope = text(props, "scope")
            .or_else(|| text(json, "scope"))
            .or_else(|| id.as_deref().and_then(scope_of_id));
        let not_scopes = get(props, "notScopes")
            .and_then(|m| m.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Assignment {
            display_name: text(props, "displayName").unwrap_or_else(|| name.clone()),
            name,
            definition_id,
            parameters,
            enforced,
            messages,
            scope,
            not_scopes,
            definition_version: text(props, "definitionVersion"),
            path: path.to_path_buf(),
            unknown: Vec::new(),
        })
    }

    /// The parameter values known before deployment.
    fn known_parameters(&self) -> HashMap<String, serde_json::Value> {
        self.parameters
            .iter()
            .filter(|(k, _)| !self.unknown.iter().any(|(u, _)| u == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Makes the parameters known only at deployment unknown in `values` (lowercase keys).
    fn set_unknown(&self, values: &mut HashMap<String, Value>) {
        for (name, reason) in &self.unknown {
            values.insert(name.to_ascii_lowercase(), Value::unknown(reason.clone()));
        }
    }

    /// Fills the landing-zone library's `${default_location}` placeholder in parameter values
    /// with the deployment's location; without one, such a parameter is known only at
    /// deployment (never a guessed region).
    pub fn fill_default_location(&mut self, location: Option<&str>) {
        let mut unknown = Vec::new();
        for (name, value) in self.parameters.iter_mut() {
            if !mentions(value, DEFAULT_LOCATION) {
                continue;
            }
            match location {
                Some(l) => replace_in(value, DEFAULT_LOCATION, l),
                None => unknown.push((
                    name.clone(),
                    crate::value::Reason::Environment {
                        what: format!(
                            "the deployment location, which `{DEFAULT_LOCATION}` in parameter '{name}' of assignment '{}' stands for (give `--location`),",
                            self.name
                        ),
                    },
                )),
            }
        }
        unknown.sort_by(|a, b| a.0.cmp(&b.0));
        self.unknown.extend(unknown);
    }

    /// The non-compliance message for member `reference` (its own, else the assignment's
    /// default), with `{enforcementMode}` filled ("must", or "should" when not enforced).
    pub fn message_for(&self, reference: Option<&str>) -> Option<String> {
        let own = reference.and_then(|r| {
            self.messages
                .iter()
                .find(|(m, _)| m.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(r)))
        });
        let (_, text) = own.or_else(|| self.messages.iter().find(|(m, _)| m.is_none()))?;
        let mode = if self.enforced { "must" } else { "should" };
        Some(text.replace("{enforcementMode}", mode))
    }
}

/// A scope, split: management group, subscription, resource group, and what is below.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub management_group: Option<String>,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    /// The resource part (`providers/Microsoft.Network/virtualNetworks/v`), lowercase.
    pub resource: Option<String>,
}

impl Scope {
    /// Parses a scope id; all parts lowercase.
    pub fn parse(id: &str) -> Scope {
        let lower = id.trim().trim_end_matches('/').to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('/').filter(|p| !p.is_empty()).collect();
        let mut out = Scope::default();
        let mut i = 0;
        while let Some(p) = parts.get(i) {
            match *p {
                "providers"
                    if parts.get(i + 1) == Some(&"microsoft.management")
                        && parts.get(i + 2) == Some(&"managementgroups") =>
                {
                    out.management_group = parts.get(i + 3).map(|s| s.to_string());
                    i += 4;
                }
                "subscriptions" if out.subscription.is_none() => {
                    out.subscription = parts.get(i + 1).map(|s| s.to_string());
                    i += 2;
                }
                "resourcegroups" if out.resource_group.is_none() => {
                    out.resource_group = parts.get(i + 1).map(|s| s.to_string());
                    i += 2;
                }
                _ => {
                    out.resource = Some(parts.get(i..).unwrap_or(&[]).join("/"));
                    break;
                }
            }
        }
        out
    }
}

/// Where the deployment goes, as far as it was stated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Management groups from the root down to the deployment's, lowercase.
    pub management_groups: Vec<String>,
    /// Whether `management_groups` reaches the root (a chain, or one walked in a library).
    pub chain_complete: bool,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
}

impl Target {
    /// From the deployment context; `management_group` is an id or a chain `a/b/c`.
    pub fn new(
        management_group: Option<&str>,
        subscription: Option<&str>,
        resource_group: Option<&str>,
    ) -> Target {
        let chain: Vec<String> = management_group
            .map(|m| {
                m.split('/')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        Target {
            chain_complete: chain.len() > 1,
            management_groups: chain,
            subscription: subscription.map(str::to_ascii_lowercase),
            resource_group: resource_group.map(str::to_ascii_lowercase),
        }
    }

    /// Whether nothing about the deployment's scope was stated.
    pub fn is_unstated(&self) -> bool {
        self.management_groups.is_empty()
            && self.subscription.is_none()
            && self.resource_group.is_none()
    }

    /// Whether `scope` contains the deployment's scope: `Some(true)`, `Some(false)`, or `None`
    /// when what was stated doesn't tell.
    pub fn within(&self, scope: &Scope) -> Option<bool> {
        if scope.resource.is_some() {
            // One resource: not the whole deployment.
            return None;
        }
        let mut known = true;
        if let Some(rg) = &scope.resource_group {
            match &self.resource_group {
                Some(mine) if mine != rg => return Some(false),
                Some(_) => {}
                None => known = false,
            }
        }
        if let Some(sub) = &scope.subscription {
            match &self.subscription {
                Some(mine) if mine != sub => return Some(false),
                Some(_) => {}
                None => known = false,
            }
        } else if let Some(mg) = &scope.management_group {
            if self.management_groups.iter().any(|m| m == mg) {
                return Some(true);
            }
            if self.chain_complete {
                return Some(false);
            }
            known = false;
        }
        known.then_some(true)
    }

    /// Whether an assignment at `scope` with `not_scopes` applies: unless what was stated rules it
    /// out.
    pub fn applies(&self, scope: Option<&str>, not_scopes: &[String]) -> bool {
        if let Some(s) = scope {
            if self.within(&Scope::parse(s)) == Some(false) {
                return false;
            }
        }
        !not_scopes
            .iter()
            .any(|n| self.within(&Scope::parse(n)) == Some(true))
    }
}

/// A custom definition or initiative and its file.
type Entry = (PathBuf, Arc<serde_json::Value>);
/// Entries by kind and lowercase name.
type Entries = HashMap<(Kind, String), Entry>;

/// Custom definitions and initiatives by kind and lowercase name, with their files. Files of a
/// landing-zone library are read on first look-up (a chain uses a few of its hundreds), found by
/// the name their file name gives (`<name>[.<version>].alz_policy_definition.json`).
#[derive(Debug, Default)]
pub struct Catalog {
    pub entries: Entries,
    /// Files not read yet, by the kind and lowercase name their file name gives.
    deferred: HashMap<(Kind, String), PathBuf>,
    /// Deferred files read so far, by the name they hold; `true` once all of them are.
    read: std::sync::Mutex<(Entries, bool)>,
    /// Deferred files that failed to read.
    errors: std::sync::Mutex<Vec<PolicyLoadError>>,
}

impl Catalog {
    fn add(&mut self, kind: Kind, name: String, path: &Path, json: serde_json::Value) {
        self.entries
            .entry((kind, name))
            .or_insert_with(|| (path.to_path_buf(), Arc::new(json)));
    }

    /// Notes a file of `kind` to read when `name` is looked up.
    pub fn defer(&mut self, kind: Kind, name: String, path: PathBuf) {
        self.deferred.entry((kind, name)).or_insert(path);
    }

    /// Adds what `other` holds that this catalog doesn't (this one's entries win).
    pub fn absorb(&mut self, other: Catalog) {
        for (k, v) in other.entries {
            self.entries.entry(k).or_insert(v);
        }
        for (k, v) in other.deferred {
            self.deferred.entry(k).or_insert(v);
        }
    }

    /// The definition or initiative `kind` named `name` (lowercase).
    pub fn get(&self, kind: Kind, name: &str) -> Option<Entry> {
        let key = (kind, name.to_string());
        if let Some(e) = self.entries.get(&key) {
            return Some(e.clone());
        }
        let mut read = self.read.lock().ok()?;
        if let Some(e) = read.0.get(&key) {
            return Some(e.clone());
        }
        if let Some(path) = self.deferred.get(&key) {
            self.read_file(path, &mut read.0);
            if let Some(e) = read.0.get(&key) {
                return Some(e.clone());
            }
        }
        // A file whose name doesn't say what it holds: read them all, once.
        if !read.1 {
            read.1 = true;
            for path in self.deferred.values() {
                if !read.0.values().any(|(p, _)| p == path) {
                    self.read_file(path, &mut read.0);
                }
            }
        }
        read.0.get(&key).cloned()
    }

    fn read_file(&self, path: &Path, into: &mut Entries) {
        let mut loaded = Loaded::default();
        let mut errors = Vec::new();
        match read_json(path) {
            Ok(json) => add_document(json, path, &mut loaded, &mut errors),
            Err(e) => errors.push(e),
        }
        for (k, v) in loaded.catalog.entries {
            into.entry(k).or_insert(v);
        }
        if let Ok(mut e) = self.errors.lock() {
            e.append(&mut errors);
        }
    }

    /// The errors of deferred files read so far (taken).
    pub fn take_errors(&self) -> Vec<PolicyLoadError> {
        self.errors
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

/// What a file of an `--assignments` folder holds.
enum Doc {
    Assignment(serde_json::Value),
    Exemption(serde_json::Value),
    Definition(Kind, serde_json::Value),
    Other,
}

fn classify(json: serde_json::Value) -> Doc {
    let t = text(&json, "type").unwrap_or_default().to_ascii_lowercase();
    let id = text(&json, "id").unwrap_or_default().to_ascii_lowercase();
    let props = properties(&json);
    let is = |kind: &str| t.ends_with(kind) || id.contains(&format!("/{kind}/"));
    if is("policyassignments") || get(props, "policyDefinitionId").is_some() {
        Doc::Assignment(json)
    } else if is("policyexemptions") || get(props, "exemptionCategory").is_some() {
        Doc::Exemption(json)
    } else if is("policysetdefinitions") || get(props, "policyDefinitions").is_some() {
        Doc::Definition(Kind::Initiative, json)
    } else if is("policydefinitions") || get(props, "policyRule").is_some() {
        Doc::Definition(Kind::Definition, json)
    } else {
        Doc::Other
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, PolicyLoadError> {
    let err = |line: usize, column: usize, message: String| PolicyLoadError {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(1, 1, format!("cannot read the file: {e}")))?;
    let text = crate::files::discover::decode(&bytes)
        .ok_or_else(|| err(1, 1, "the file is not valid UTF-8".into()))?;
    serde_json::from_str(&text).map_err(|e| {
        err(
            e.line().max(1),
            e.column().max(1),
            format!("invalid json: {e}"),
        )
    })
}

/// Everything the `--assignments` paths hold.
#[derive(Debug, Default)]
pub struct Loaded {
    pub assignments: Vec<Assignment>,
    pub exemptions: Vec<Exemption>,
    pub catalog: Catalog,
}

/// Reads `--assignments` files and folders (every `*.json` below a folder; a file may hold one
/// document or an array of them, as `az policy assignment list` writes).
pub fn load_paths(paths: &[PathBuf], out: &mut Loaded, errors: &mut Vec<PolicyLoadError>) {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            super::collect_json_files(p, &mut found);
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    for f in files {
        let json = match read_json(&f) {
            Ok(j) => j,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let docs = match json {
            serde_json::Value::Array(items) => items,
            // `{"value": [...]}` as the REST API lists them.
            serde_json::Value::Object(ref o)
                if o.len() == 1 && o.get("value").is_some_and(|v| v.is_array()) =>
            {
                o.get("value")
                    .and_then(|v| v.as_array())
                    .cloned()
                    .unwrap_or_default()
            }
            other => vec![other],
        };
        for doc in docs {
            add_document(doc, &f, out, errors);
        }
    }
}

/// Files one document of an assignments folder or library.
pub fn add_document(
    doc: serde_json::Value,
    path: &Path,
    out: &mut Loaded,
    errors: &mut Vec<PolicyLoadError>,
) {
    let err = |message: String| PolicyLoadError {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message,
    };
    match classify(doc) {
        Doc::Assignment(j) => match Assignment::from_json(&j, path) {
            Ok(a) => out.assignments.push(a),
            Err(m) => errors.push(err(m)),
        },
        Doc::Exemption(j) => match Exemption::from_json(&j, path) {
            Ok(e) => out.exemptions.push(e),
            Err(m) => errors.push(err(m)),
        },
        Doc::Definition(kind, j) => match builtins::identify(&j, path) {
            Some((_, name)) => out.catalog.add(kind, name, path, j),
            None => errors.push(err("the definition has no `name`".into())),
        },
        Doc::Other => {}
    }
}

/// What [`resolve`] found besides the policies it added.
#[derive(Debug, Default)]
pub struct Resolution {
    pub errors: Vec<PolicyLoadError>,
    /// For stderr: which scope was used, what was skipped and why.
    pub notes: Vec<String>,
}

/// Compiled definitions by lowercase name, shared across assignments.
type Compiled = HashMap<(bool, String), Result<Arc<Definition>, String>>;

/// Looks up definitions and initiatives by id.
struct Resolver<'a> {
    set: &'a PolicySet,
    catalog: &'a Catalog,
    builtins: &'a Builtins,
    compiled: Compiled,
    /// The resource types audited (`None`: any): a definition whose `if` can match none of
    /// them is left out uncompiled, its code noted in `left_out`.
    only: Option<&'a BTreeSet<String>>,
    left_out: Vec<String>,
}

impl Resolver<'_> {
    /// The JSON of `id` and where it came from.
    fn find(&self, id: &str) -> Option<(Arc<serde_json::Value>, Option<PathBuf>)> {
        let kind = Kind::of_id(id);
        let name = builtins::name_of(id);
        let builtin_id = id
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("/providers/microsoft.authorization/");
        let custom = || self.catalog.get(kind, &name).map(|(p, j)| (j, Some(p)));
        let builtin = || self.builtins.get(kind, &name).map(|j| (j, None));
        if builtin_id {
            builtin().or_else(custom)
        } else {
            custom().or_else(builtin)
        }
    }

    /// Whether definition `id` can match none of the audited resource types (read from its
    /// JSON, or the snapshot's index, without compiling it). A definition that isn't found is
    /// not left out: compiling it reports the error.
    fn cannot_apply(&self, id: &str) -> bool {
        let Some(only) = self.only else {
            return false;
        };
        let name = builtins::name_of(id);
        let builtin_id = id
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("/providers/microsoft.authorization/");
        let custom = || {
            self.catalog
                .get(Kind::Definition, &name)
                .map(|(_, j)| super::types::definition_types(&j))
        };
        let builtin = || self.builtins.types(&name);
        let types = if builtin_id {
            builtin().or_else(custom)
        } else {
            custom().or_else(builtin)
        };
        match types {
            Some(Some(types)) => types.is_disjoint(only),
            _ => false,
        }
    }

    /// The compiled definition `id`.
    fn definition(&mut self, id: &str) -> Result<Arc<Definition>, String> {
        let name = builtins::name_of(id);
        let builtin_id = id
            .to_ascii_lowercase()
            .starts_with("/providers/microsoft.authorization/");
        let key = (builtin_id, name.clone());
        if let Some(d) = self.compiled.get(&key) {
            return d.clone();
        }
        let result = match self.find(id) {
            Some((json, _)) => Definition::from_json(&json, &name, self.set.aliases()).map(Arc::new),
            None => match self.set.get(&name) {
                // A definition of a `--policy-dir` folder.
                Some(p) => Ok(p.definition.clone()),
                None => Err(format!(
                    "policy definition `{id}` is not loaded: it is not a built-in ({}) nor in a `--policy-dir` folder, an `--assignments` path or the landing-zone library",
                    self.builtins.origin
                )),
            },
        };
        self.compiled.insert(key, result.clone());
        result
    }
}

/// The level of `definition` with `params`: its effect's, `Info` when not enforced.
fn level_of(definition: &Definition, params: &HashMap<String, Value>, enforced: bool) -> Level {
    let body = Value::object(Vec::new());
    let env = HashMap::new();
    let ctx = super::rule::Ctx::new(&body, params, super::AliasTable::builtin(), &env);
    let level = match definition
        .effect
        .eval(&ctx)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
    {
        Some(e) => effect_level(&e),
        None => Level::Warning,
    };
    match level {
        Level::Off => Level::Off,
        _ if !enforced => Level::Info,
        l => l,
    }
}

fn title_of(d: &Definition) -> String {
    if d.display_name.is_empty() {
        d.name.clone()
    } else {
        d.display_name.clone()
    }
}

/// Major version of `1.2.3` / `1.*.*`.
fn major(v: &str) -> Option<&str> {
    v.split('.').next().filter(|m| !m.is_empty() && *m != "*")
}

/// Adds the policies of `assignments` that apply to `target` to `set`, with the exemptions
/// that apply. Definitions are looked up in `catalog`, `set` (its `--policy-dir` definitions)
/// and `builtins`.
pub fn resolve(
    set: &mut PolicySet,
    assignments: &[Assignment],
    exemptions: Vec<Exemption>,
    catalog: &Catalog,
    builtins: &Builtins,
    target: &Target,
    only: Option<&BTreeSet<String>>,
) -> Resolution {
    let mut out = Resolution::default();
    let mut policies = Vec::new();
    let left_out = {
        let mut r = Resolver {
            set,
            catalog,
            builtins,
            compiled: HashMap::new(),
            only,
            left_out: Vec::new(),
        };
        for a in assignments {
            if !target.applies(a.scope.as_deref(), &a.not_scopes) {
                out.notes.push(format!(
                    "assignment '{}' does not apply: its scope or notScopes leave the deployment's scope out",
                    a.name
                ));
                continue;
            }
            match assign(&mut r, a, &mut out) {
                Ok(mut p) => policies.append(&mut p),
                Err(message) => out.errors.push(PolicyLoadError {
                    path: a.path.clone(),
                    line: 1,
                    column: 1,
                    message: format!("assignment '{}': {message}", a.name),
                }),
            }
        }
        r.left_out
    };
    set.left_out = left_out;
    for p in set.add_assigned(policies) {
        out.notes.push(format!(
            "the code `{}` of an assignment is already a policy id; the assignment's policy was left out",
            p.id
        ));
    }
    set.exemptions = exemptions
        .into_iter()
        .filter(|e| target.applies(e.scope.as_deref(), &[]))
        .collect();
    out
}

/// The policies of one assignment.
fn assign(
    r: &mut Resolver<'_>,
    a: &Assignment,
    out: &mut Resolution,
) -> Result<Vec<Policy>, String> {
    let kind = Kind::of_id(&a.definition_id);
    let make = |definition: Arc<Definition>,
                params: HashMap<String, Value>,
                initiative: Option<&Initiative>,
                reference: Option<&str>|
     -> Option<Policy> {
        let level = level_of(&definition, &params, a.enforced);
        if level == Level::Off {
            return None;
        }
        let title = title_of(&definition);
        let base = a
            .message_for(reference)
            .unwrap_or_else(|| super::graph_eval::lower_first(title.trim_end_matches('.')));
        let def_named = if title != definition.name {
            format!("definition '{}' ({})", title, definition.name)
        } else {
            format!("definition '{}'", definition.name)
        };
        let message = match (initiative, reference) {
            (Some(i), Some(rid)) => format!(
                "{base} [assignment '{}', initiative '{}', reference '{rid}', {def_named}]",
                a.name, i.name
            ),
            _ => format!("{base} [assignment '{}', {def_named}]", a.name),
        };
        let id = match reference {
            Some(rid) => format!("{}/{rid}", a.name),
            None => a.name.clone(),
        };
        Some(Policy {
            id,
            title: title.clone(),
            description: definition.description.clone(),
            category: definition
                .metadata
                .get("category")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            level,
            docs: definition.description.clone(),
            help: None,
            message: None,
            level_override: Some(level),
            fix: None,
            path: a.path.clone(),
            assignment: Some(Arc::new(Assigned {
                assignment: a.name.clone(),
                initiative: initiative.map(|i| i.name.clone()),
                reference_id: reference.map(str::to_string),
                definition: definition.name.clone(),
                params,
                enforced: a.enforced,
                message,
                path: a.path.clone(),
            })),
            definition,
        })
    };
    match kind {
        Kind::Definition => {
            if r.cannot_apply(&a.definition_id) {
                r.left_out.push(a.name.clone());
                return Ok(Vec::new());
            }
            let definition = r.definition(&a.definition_id)?;
            check_version(a, a.definition_version.as_deref(), &definition, out);
            let mut params = definition
                .parameter_values(Some(&a.known_parameters()))
                .map_err(|e| format!("{e} (definition '{}')", definition.name))?;
            a.set_unknown(&mut params);
            Ok(make(definition, params, None, None).into_iter().collect())
        }
        Kind::Initiative => {
            let (json, _) = r.find(&a.definition_id).ok_or_else(|| {
                format!(
                    "initiative `{}` is not loaded: it is not a built-in ({}) nor in an `--assignments` path or the landing-zone library",
                    a.definition_id, r.builtins.origin
                )
            })?;
            let initiative = Initiative::from_json(&json)?;
            let mut set_values = initiative.parameter_values(&a.known_parameters());
            a.set_unknown(&mut set_values);
            let mut policies = Vec::new();
            for m in &initiative.members {
                if r.cannot_apply(&m.definition_id) {
                    r.left_out.push(format!("{}/{}", a.name, m.reference_id));
                    continue;
                }
                let definition = r.definition(&m.definition_id).map_err(|e| {
                    format!(
                        "initiative '{}', member '{}': {e}",
                        initiative.name, m.reference_id
                    )
                })?;
                check_version(a, m.definition_version.as_deref(), &definition, out);
                let params =
                    initiative::member_values(m, &definition, &set_values, r.set.aliases())
                        .map_err(|e| format!("initiative '{}': {e}", initiative.name))?;
                policies.extend(make(
                    definition,
                    params,
                    Some(&initiative),
                    Some(&m.reference_id),
                ));
            }
            Ok(policies)
        }
    }
}

/// Notes a `definitionVersion` whose major version isn't the loaded definition's.
fn check_version(a: &Assignment, wanted: Option<&str>, d: &Definition, out: &mut Resolution) {
    let Some(wanted) = wanted else {
        return;
    };
    let have = d
        .metadata
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if let (Some(w), Some(h)) = (major(wanted), major(have)) {
        if w != h {
            out.notes.push(format!(
                "assignment '{}' asks for version {wanted} of definition '{}'; the loaded one is {have}",
                a.name, d.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_contain_the_deployment() {
        let t = Target::new(Some("alz/landingzones/corp"), Some("SUB1"), Some("rg1"));
        let mg = |m: &str| format!("/providers/Microsoft.Management/managementGroups/{m}");
        assert!(t.applies(Some(&mg("landingzones")), &[]));
        assert!(!t.applies(Some(&mg("online")), &[]));
        assert!(t.applies(Some("/subscriptions/sub1"), &[]));
        assert!(!t.applies(Some("/subscriptions/sub2"), &[]));
        assert!(!t.applies(
            Some(&mg("alz")),
            &["/subscriptions/sub1/resourceGroups/RG1".into()]
        ));
        assert!(t.applies(
            Some(&mg("alz")),
            &["/subscriptions/sub1/resourceGroups/rg2".into()]
        ));
        // One management group without its ancestors: another group may be one of them.
        let t = Target::new(Some("corp"), None, None);
        assert!(t.applies(Some(&mg("alz")), &[]));
        assert!(t.applies(Some("/subscriptions/s"), &["/subscriptions/s".into()]));
        assert!(Target::default().is_unstated());
    }

    #[test]
    fn messages_fill_the_enforcement_mode() {
        let a = Assignment::from_json(
            &serde_json::json!({
                "name": "a",
                "properties": {
                    "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/x",
                    "enforcementMode": "DoNotEnforce",
                    "nonComplianceMessages": [
                        {"message": "Subnets {enforcementMode} have an NSG."},
                        {"message": "Own.", "policyDefinitionReferenceId": "r1"}
                    ]
                }
            }),
            Path::new("a.json"),
        )
        .unwrap();
        assert!(!a.enforced);
        assert_eq!(a.message_for(None).unwrap(), "Subnets should have an NSG.");
        assert_eq!(a.message_for(Some("R1")).unwrap(), "Own.");
        assert_eq!(
            a.message_for(Some("r2")).unwrap(),
            "Subnets should have an NSG."
        );
    }
}
