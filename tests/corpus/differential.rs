//! Differential test: a Bicep file and the ARM JSON the Bicep compiler made of it are one
//! deployment, so they must give the same resources, the same reference links and the same
//! findings. The oracle is `../shared/corpus`: Azure Verified Modules `main.bicep` + `main.json`,
//! and quickstart `main.bicep` + `azuredeploy.json` whose `metadata._generator.name` is `bicep`.
//!
//! Each side is audited on its own with its defaults: no parameter file beside a template is read
//! (it would be applied to one side only). Registry modules (`br/public:…`) the Bicep side uses
//! are rebuilt into a throwaway module cache from the templates the compiler inlined into the
//! compiled JSON, so both sides see the same module code.
//!
//! Fails on any pair that differs in findings, and on a resource or reference-link difference
//! not listed with its reason in `tests/corpus/differential-known-differences.txt` (a ratchet: a listed
//! pair that no longer differs must be taken off the list). Prints counts by
//! kind of difference and by the constructs the differing pairs use.
//! `DIFFERENTIAL_VERBOSE=1` prints each difference; `DIFFERENTIAL_ONLY=<substring>` runs the
//! pairs whose path contains it. Skips when ../shared is absent.

use azaudit::engine::{check, FileProvider, Input, Options};
use azaudit::files::discover::files_with_extension;
use azaudit::files::registry::{self, BicepSettings, Registry};
use azaudit::graph::{EdgeKind, ResourceGraph};
use azaudit::model::{Language, Template};
use azaudit::source::FileId;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const KNOWN: &str = include_str!("differential-known-differences.txt");

/// Reads the disk, but no parameter file: each side is evaluated with its own defaults.
struct NoParameterFiles;

impl FileProvider for NoParameterFiles {
    fn read(&self, path: &Path) -> Option<Arc<str>> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".bicepparam") || name.ends_with(".parameters.json") {
            return None;
        }
        std::fs::read_to_string(path).ok().map(Arc::from)
    }
}

/// One (Bicep, compiled JSON) pair.
pub(crate) struct Pair {
    pub(crate) bicep: PathBuf,
    pub(crate) json: PathBuf,
}

/// The (Bicep, compiled JSON) pairs of the corpus at `root`, by Bicep path: files the Bicep
/// compiler accepted, and what it made of them.
pub(crate) fn pairs(root: &Path) -> Vec<Pair> {
    let mut out = Vec::new();
    for bicep in files_with_extension(root, &["bicep"]) {
        if bicep.file_name().and_then(|n| n.to_str()) != Some("main.bicep") {
            continue;
        }
        let avm = bicep.with_file_name("main.json");
        let quickstart = bicep.with_file_name("azuredeploy.json");
        if avm.is_file() && bicep.starts_with(root.join("avm")) {
            out.push(Pair { bicep, json: avm });
        } else if quickstart.is_file() && bicep.starts_with(root.join("quickstart")) {
            let generator = std::fs::read_to_string(&quickstart)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|j| {
                    j.pointer("/metadata/_generator/name")
                        .and_then(|n| n.as_str())
                        .map(str::to_string)
                });
            if generator.as_deref() == Some("bicep") {
                out.push(Pair {
                    bicep,
                    json: quickstart,
                });
            }
        }
    }
    out.sort_by(|a, b| a.bicep.cmp(&b.bicep));
    out
}

// ----- the throwaway module cache ------------------------------------------------------------

/// The nested deployments of a compiled template that Bicep `module` declarations became, by
/// symbol (`languageVersion` 2.0 keys resources by symbol); for the array form, in order (the
/// compiler writes modules after resources, in declaration order).
fn compiled_modules(
    template: &serde_json::Value,
) -> (
    BTreeMap<String, &serde_json::Value>,
    Vec<&serde_json::Value>,
) {
    let is_deployment = |r: &serde_json::Value| {
        r.get("type")
            .and_then(|t| t.as_str())
            .is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Resources/deployments"))
    };
    let mut by_symbol = BTreeMap::new();
    let mut ordered = Vec::new();
    match template.get("resources") {
        Some(serde_json::Value::Object(o)) => {
            for (k, r) in o {
                if is_deployment(r) {
                    by_symbol.insert(k.to_ascii_lowercase(), r);
                }
            }
        }
        Some(serde_json::Value::Array(a)) => ordered.extend(a.iter().filter(|r| is_deployment(r))),
        _ => {}
    }
    (by_symbol, ordered)
}

/// Writes the inlined template of each registry module `bicep` declares into `cache`, following
/// local modules into their own inlined templates.
fn rebuild_cache(bicep: &Path, compiled: &serde_json::Value, cache: &Path, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(text) = std::fs::read_to_string(bicep) else {
        return;
    };
    let t: Template = azaudit::syntax::bicep::lower(FileId(0), &text, Language::Bicep);
    let (by_symbol, ordered) = compiled_modules(compiled);
    // Deployments declared as resources are written among the resources.
    let modules: Vec<_> = t
        .modules
        .iter()
        .filter(|m| !m.declared_as_resource)
        .collect();
    let skip = ordered.len().saturating_sub(modules.len());
    for (i, m) in modules.into_iter().enumerate() {
        let Some(source) = &m.source else { continue };
        let deployment = match &m.symbol {
            Some(s) if !by_symbol.is_empty() => by_symbol.get(&s.to_ascii_lowercase()).copied(),
            _ => ordered.get(skip + i).copied(),
        };
        let Some(inner) = deployment.and_then(|d| d.pointer("/properties/template")) else {
            continue;
        };
        if source.starts_with("br:") || source.starts_with("br/") {
            let Ok(reference) = registry::parse(source, &BicepSettings::default()) else {
                continue;
            };
            let path = registry::cache_path(&reference, cache);
            if !path.exists() {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let _ = std::fs::write(&path, serde_json::to_string(inner).unwrap_or_default());
            }
        } else if let Some(local) = azaudit::graph::deployments::local_path(source) {
            let next = bicep.parent().unwrap_or(Path::new("")).join(local);
            if next.extension().and_then(|e| e.to_str()) == Some("bicep") {
                rebuild_cache(&next, inner, cache, depth + 1);
            }
        }
    }
}

// ----- what is compared ------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Side {
    /// (type, id, existing) → (name, location)
    resources: BTreeMap<(String, String, bool), (String, String)>,
    /// Telemetry and other deployments that are resources on one side only.
    deployments: usize,
    links: BTreeSet<(String, String)>,
    depends_on: BTreeSet<(String, String)>,
    findings: BTreeSet<String>,
}

/// `location` as compared: known text, symbolic text, or `{?}` (the reason an unknown gives is
/// no part of the deployment).
fn location_text(v: Option<&azaudit::value::Value>) -> String {
    match v {
        None => String::new(),
        Some(v) => match v.unknown_reason() {
            None
            | Some(azaudit::value::Reason::Symbolic { .. })
            | Some(azaudit::value::Reason::Parameter { .. }) => {
                azaudit::eval::value_text(v).0.to_ascii_lowercase()
            }
            Some(_) => "{?}".into(),
        },
    }
}

fn side(path: &Path, options: &Options, policy_ids: &BTreeSet<String>) -> Side {
    let text: Arc<str> = Arc::from(std::fs::read_to_string(path).unwrap_or_default());
    let input = Input {
        path: path.to_path_buf(),
        text,
    };
    let report = check(&[input], &NoParameterFiles, options);
    summarize(&report.graph, &report.diagnostics, policy_ids)
}

fn summarize(
    graph: &ResourceGraph,
    diagnostics: &[azaudit::diagnostic::Diagnostic],
    policy_ids: &BTreeSet<String>,
) -> Side {
    let mut s = Side::default();
    let id_of = |i: usize| {
        graph
            .resources
            .get(i)
            .map(|r| azaudit::graph::normalize_id(&r.id))
            .unwrap_or_default()
    };
    for r in &graph.resources {
        let ty = r.type_name.to_ascii_lowercase();
        if ty == "microsoft.resources/deployments" {
            s.deployments += 1;
            continue;
        }
        s.resources.insert(
            (ty, azaudit::graph::normalize_id(&r.id), r.existing),
            (
                r.name.to_ascii_lowercase(),
                location_text(r.body.get("location")),
            ),
        );
    }
    for e in &graph.edges {
        let pair = (id_of(e.from), id_of(e.to));
        match e.kind {
            EdgeKind::Reference => {
                s.links.insert(pair);
            }
            EdgeKind::DependsOn => {
                s.depends_on.insert(pair);
            }
            EdgeKind::Parent => {}
        }
    }
    let Ok(symbol_name) = regex::Regex::new(r"'\w+' \((\S*?\}\S*?)\)(\s|$|[,:;.])") else {
        return s;
    };
    for d in diagnostics {
        if !policy_ids.contains(&d.code) {
            continue;
        }
        let resource = d
            .resource
            .as_ref()
            .map(|r| {
                format!(
                    "{} {}",
                    r.type_name.to_ascii_lowercase(),
                    r.name.to_ascii_lowercase()
                )
            })
            .unwrap_or_default();
        // Bicep names a resource by its symbol too (`'vnet' (vnet{uniqueString(…)})`); the
        // compiled JSON has no symbols: compare the names alone.
        let message = symbol_name.replace_all(&d.message, "'$1'$2").into_owned();
        s.findings
            .insert(format!("{} on {resource}: {message}", d.code));
    }
    s
}

/// The ids of the policies an analysis with `options` runs (findings are diagnostics with these
/// codes).
fn policy_ids(options: &Options) -> BTreeSet<String> {
    azaudit::engine::policies(options)
        .0
        .policies()
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

/// The compiler writes `existing` resources only into `languageVersion` 2.0 templates (a 1.0
/// template, or a 1.0 module inlined into a 2.0 one, has none): an `existing` resource of one
/// side that the other side lacks is no difference, nor are links to it.
fn drop_unmatched_existing(a: &mut Side, b: &Side) {
    let gone: BTreeSet<String> = a
        .resources
        .keys()
        .filter(|k| k.2 && !b.resources.contains_key(*k))
        .map(|(_, id, _)| id.clone())
        .collect();
    a.resources
        .retain(|(_, id, existing), _| !(*existing && gone.contains(id)));
    // Links into an id that a deployed resource of this side also has stay.
    let gone: BTreeSet<String> = gone
        .into_iter()
        .filter(|id| !a.resources.keys().any(|(_, i, _)| i == id))
        .collect();
    a.links
        .retain(|(f, t)| !gone.contains(f) && !gone.contains(t));
    a.depends_on
        .retain(|(f, t)| !gone.contains(f) && !gone.contains(t));
}

/// Both sides of a pair, audited and made comparable.
fn both(
    bicep: &Path,
    json: &Path,
    options: &Options,
    policy_ids: &BTreeSet<String>,
) -> (Side, Side) {
    let mut b = side(bicep, options, policy_ids);
    let mut j = side(json, options, policy_ids);
    drop_unmatched_existing(&mut b, &j);
    drop_unmatched_existing(&mut j, &b);
    (b, j)
}

/// Elements of `a` not in `b`, and of `b` not in `a`, rendered.
fn asymmetric<T: Ord + std::fmt::Debug>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> Vec<String> {
    let mut out: Vec<String> = a
        .difference(b)
        .map(|x| format!("bicep only: {x:?}"))
        .collect();
    out.extend(b.difference(a).map(|x| format!("json only: {x:?}")));
    out
}

/// Constructs of a compiled template that the issue names as causes of differences.
fn constructs(json: &str, bicep: &str) -> Vec<&'static str> {
    let lower = json.to_ascii_lowercase();
    let mut out = Vec::new();
    let checks: [(&str, bool); 8] = [
        ("lambda", lower.contains("lambda(")),
        (
            "parameters as one expression",
            lower.contains("createobject('value'"),
        ),
        ("reference() in the template", lower.contains("reference(")),
        ("resource-level subscriptionId/resourceGroup", {
            lower.contains("\"existing\": true") && lower.contains("\"resourcegroup\":")
        }),
        ("split()", lower.contains("split(")),
        (
            "explicit deployments resource in Bicep",
            bicep.contains("'Microsoft.Resources/deployments@"),
        ),
        (
            "nested deployments",
            lower.contains("microsoft.resources/deployments"),
        ),
        (
            "registry modules",
            bicep.contains("'br/") || bicep.contains("'br:"),
        ),
    ];
    for (name, present) in checks {
        if present {
            out.push(name);
        }
    }
    out
}

#[test]
fn bicep_and_its_compiled_json_agree() {
    let shared = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"));
    if !shared.is_dir() {
        println!("skipped: {} is absent", shared.display());
        return;
    }
    let shared = &azaudit::files::normalize(shared);
    let verbose = std::env::var_os("DIFFERENTIAL_VERBOSE").is_some();
    let only = std::env::var("DIFFERENTIAL_ONLY").ok();
    let known: BTreeMap<String, String> = KNOWN
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (k, reason) = l.split_once(char::is_whitespace)?;
            Some((k.to_string(), reason.trim().to_string()))
        })
        .collect();

    let all = pairs(shared);
    let chosen: Vec<&Pair> = all
        .iter()
        .filter(|p| match &only {
            Some(s) => p.bicep.to_string_lossy().contains(s.as_str()),
            None => true,
        })
        .collect();

    // The throwaway module cache, rebuilt from every pair (a module version is the same template
    // wherever it is used).
    let cache = std::env::temp_dir().join(format!("azaudit-differential-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    for p in &all {
        let Some(json) = std::fs::read_to_string(&p.json)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        else {
            continue;
        };
        rebuild_cache(&p.bicep, &json, &cache, 0);
    }
    let options = Options {
        registry: Registry {
            default_cache: Some(cache.clone()),
            fixed: Some(BicepSettings {
                cache_root: Some(cache.clone()),
                ..BicepSettings::default()
            }),
        },
        // The corpus is the project (`../modules/x.bicep` of an AVM module stays inside it), as
        // it is for `azaudit check` run in the corpus.
        paths: azaudit::files::paths::PathRules {
            roots: vec![shared.clone()],
            allow_outside: false,
        },
        ..Options::default()
    };
    let policy_ids = policy_ids(&options);

    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_construct: BTreeMap<&str, usize> = BTreeMap::new();
    let mut finding_pairs = Vec::new();
    let mut link_pairs = Vec::new();
    let mut resource_pairs = Vec::new();
    let mut unlisted = Vec::new();
    let mut unlisted_links = Vec::new();
    let mut depends_on_edges = 0usize;
    for p in &chosen {
        let key = p
            .bicep
            .strip_prefix(shared)
            .unwrap_or(&p.bicep)
            .to_string_lossy()
            .replace('\\', "/");
        let (b, j) = both(&p.bicep, &p.json, &options, &policy_ids);
        let b_keys: BTreeSet<_> = b.resources.keys().cloned().collect();
        let j_keys: BTreeSet<_> = j.resources.keys().cloned().collect();
        let mut resource_diffs = asymmetric(&b_keys, &j_keys);
        for (k, bv) in &b.resources {
            if let Some(jv) = j.resources.get(k) {
                if bv != jv {
                    resource_diffs.push(format!("{k:?}: bicep {bv:?}, json {jv:?}"));
                }
            }
        }
        let finding_diffs = asymmetric(&b.findings, &j.findings);
        let link_diffs = asymmetric(&b.links, &j.links);
        let depends_diffs = asymmetric(&b.depends_on, &j.depends_on);
        depends_on_edges += depends_diffs.len();
        let mut kinds = Vec::new();
        if !finding_diffs.is_empty() {
            kinds.push("findings");
            finding_pairs.push(key.clone());
        }
        if !link_diffs.is_empty() {
            kinds.push("reference links");
            link_pairs.push(key.clone());
            if !known.contains_key(&key) {
                unlisted_links.push(key.clone());
            }
        }
        if !resource_diffs.is_empty() {
            kinds.push("resources");
            resource_pairs.push(key.clone());
            if !known.contains_key(&key) {
                unlisted.push(key.clone());
            }
        }
        if !depends_diffs.is_empty() {
            kinds.push("dependsOn edges");
        }
        if b.deployments != j.deployments {
            kinds.push("deployments resources");
        }
        for k in &kinds {
            *by_kind.entry(k).or_default() += 1;
        }
        if kinds
            .iter()
            .any(|k| matches!(*k, "findings" | "reference links" | "resources"))
        {
            let json_text = std::fs::read_to_string(&p.json).unwrap_or_default();
            let bicep_text = std::fs::read_to_string(&p.bicep).unwrap_or_default();
            for c in constructs(&json_text, &bicep_text) {
                *by_construct.entry(c).or_default() += 1;
            }
        }
        if verbose && !kinds.is_empty() {
            println!("== {key}: {}", kinds.join(", "));
            for d in finding_diffs
                .iter()
                .chain(&link_diffs)
                .chain(&resource_diffs)
            {
                println!("   {d}");
            }
            for d in depends_diffs.iter().take(5) {
                println!("   dependsOn {d}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&cache);

    let n = chosen.len();
    println!(
        "differential: {n} of {} pairs; {} differ in findings, {} in reference links ({} not listed), {} in resources ({} not listed); {depends_on_edges} dependsOn edges differ",
        all.len(),
        finding_pairs.len(),
        link_pairs.len(),
        unlisted_links.len(),
        resource_pairs.len(),
        unlisted.len()
    );
    for (k, c) in &by_kind {
        println!("  pairs differing in {k}: {c}");
    }
    for (k, c) in &by_construct {
        println!("  differing pairs that use {k}: {c}");
    }
    // The ratchet: a listed pair that agrees now is taken off the list (whole runs only).
    let stale: Vec<&String> = if n == all.len() {
        known
            .keys()
            .filter(|k| !resource_pairs.contains(k) && !link_pairs.contains(k))
            .collect()
    } else {
        Vec::new()
    };
    assert!(
        finding_pairs.is_empty(),
        "{} pairs differ in findings:\n{}",
        finding_pairs.len(),
        finding_pairs.join("\n")
    );
    assert!(
        unlisted_links.is_empty(),
        "{} pairs differ in reference links and are not in tests/corpus/differential-known-differences.txt:\n{}",
        unlisted_links.len(),
        unlisted_links.join("\n")
    );
    assert!(
        unlisted.is_empty(),
        "{} pairs differ in resources and are not in tests/corpus/differential-known-differences.txt:\n{}",
        unlisted.len(),
        unlisted.join("\n")
    );
    assert!(
        stale.is_empty(),
        "these pairs agree now; take them off tests/corpus/differential-known-differences.txt:\n{}",
        stale
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ----- the fixture pairs: one construct each, always run --------------------------------------

fn fixture(case: &str) -> (Side, Side) {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/differential"
    ));
    let options = Options {
        policy_dirs: vec![dir.join("policies")],
        ..Options::default()
    };
    let policy_ids = policy_ids(&options);
    let (b, j) = both(
        &dir.join(case).join("main.bicep"),
        &dir.join(case).join("main.json"),
        &options,
        &policy_ids,
    );
    (b, j)
}

/// Both sides agree in everything compared; returns the Bicep side for further checks.
fn agreeing(case: &str) -> Side {
    let (b, j) = fixture(case);
    assert_eq!(b.resources, j.resources, "{case}: resources");
    assert_eq!(b.links, j.links, "{case}: reference links");
    assert_eq!(b.depends_on, j.depends_on, "{case}: dependsOn edges");
    assert_eq!(b.findings, j.findings, "{case}: findings");
    b
}

fn names(s: &Side) -> Vec<String> {
    s.resources.values().map(|(name, _)| name.clone()).collect()
}

fn id_of<'s>(s: &'s Side, name: &str) -> &'s str {
    s.resources
        .iter()
        .find(|(_, (n, _))| n == name)
        .map(|((_, id, _), _)| id.as_str())
        .unwrap_or("(no resource of that name)")
}

#[test]
fn arm_lambdas_evaluate_as_bicep_lambdas() {
    let s = agreeing("lambda");
    let mut n = names(&s);
    n.sort();
    assert_eq!(n, ["vnet-3", "vnet-3/aci", "vnet-3/peps", "vnet-3/web"]);
}

#[test]
fn a_parameter_given_as_one_expression_and_a_null_argument_take_the_default() {
    let s = agreeing("module-params");
    assert_eq!(names(&s), ["vnet-plain"], "no NSG: the default '' applies");
}

#[test]
fn reference_reads_resources_and_deployments_of_the_same_template() {
    let s = agreeing("reference");
    assert!(has_edge(
        &s.links,
        "/networkinterfaces/nic",
        "/virtualnetworks/vnet/subnets/snet-app"
    ));
    assert!(has_edge(
        &s.links,
        "/networkinterfaces/nic-hub",
        "/virtualnetworks/vnet-hub/subnets/snet-hub"
    ));
    // Bicep's implicit dependency.
    assert!(has_edge(
        &s.depends_on,
        "/networkinterfaces/nic",
        "/virtualnetworks/vnet"
    ));
}

/// Whether an edge goes from an id ending with `from` to one ending with `to`.
fn has_edge(edges: &BTreeSet<(String, String)>, from: &str, to: &str) -> bool {
    let found = edges
        .iter()
        .any(|(f, t)| f.ends_with(from) && t.ends_with(to));
    if !found {
        eprintln!("no edge {from} -> {to} in {edges:?}");
    }
    found
}

#[test]
fn resource_level_scopes_relative_scopes_and_split_ids() {
    let s = agreeing("scopes");
    assert_eq!(
        id_of(&s, "lock"),
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.keyvault/vaults/kv1/providers/microsoft.authorization/locks/lock"
    );
    assert_eq!(
        id_of(&s, "vnet-hub"),
        "/subscriptions/{subscriptionid}/resourcegroups/rg-hub/providers/microsoft.network/virtualnetworks/vnet-hub"
    );
    // An unknown resource group is not the deployment's own.
    assert_eq!(
        id_of(&s, "vnet-hub2"),
        "/subscriptions/{subscriptionid}/resourcegroups/{hubresourcegroup}/providers/microsoft.network/virtualnetworks/vnet-hub2"
    );
    assert!(
        names(&s).contains(&"nsg-vnet-hub".to_string()),
        "{:?}",
        names(&s)
    );
}

#[test]
fn tenant_scope_ids_start_at_providers() {
    let s = agreeing("tenant");
    assert_eq!(
        id_of(&s, "mg-apps"),
        "/providers/microsoft.management/managementgroups/mg-apps"
    );
}

#[test]
fn expression_object_keys_are_evaluated() {
    let s = agreeing("keys");
    assert!(has_edge(
        &s.links,
        "/deploymentscripts/script",
        "/userassignedidentities/id-app"
    ));
}

#[test]
fn findings_on_different_resources_at_one_place_stay_apart() {
    let s = agreeing("identity");
    let seen = s
        .findings
        .iter()
        .filter(|f| f.starts_with("differential-vnet-seen"))
        .count();
    assert_eq!(
        seen, 5,
        "three loop instances and a module deployed twice: {:?}",
        s.findings
    );
}

#[test]
fn deployments_declared_as_resources_are_nested_deployments() {
    let s = agreeing("deployment");
    let mut n = names(&s);
    n.sort();
    assert_eq!(n, ["app-nsg", "nic", "vnet-inner", "vnet-inner/snet"]);
    assert_eq!(s.deployments, 0, "a nested deployment is no resource");
    // The inner template's output, read as the resource's `properties.outputs.x.value`.
    assert!(has_edge(
        &s.links,
        "/networkinterfaces/nic",
        "/virtualnetworks/vnet-inner/subnets/snet"
    ));
}

#[test]
fn resource_types_and_names_in_ids_compare_case_insensitively() {
    let s = agreeing("casing");
    assert!(has_edge(
        &s.links,
        "/networkinterfaces/nic",
        "/virtualnetworks/vnet-hub/subnets/snet"
    ));
    assert!(has_edge(
        &s.depends_on,
        "/networkinterfaces/nic",
        "/virtualnetworks/vnet-hub"
    ));
    assert_eq!(
        id_of(&s, "lock"),
        "/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.network/virtualnetworks/vnet-hub/providers/microsoft.authorization/locks/lock"
    );
}

/// The ids of the resources of a (lower-case) type.
fn ids_of_type<'s>(s: &'s Side, type_name: &str) -> Vec<&'s str> {
    s.resources
        .keys()
        .filter(|(t, _, _)| t == type_name)
        .map(|(_, id, _)| id.as_str())
        .collect()
}

#[test]
fn ids_in_a_resource_group_with_an_unknown_name_keep_their_shape() {
    let s = agreeing("scoped-module-output");
    // Read through `reference(extensionResourceId(format('/subscriptions/{0}/resourceGroups/{1}',
    // …, <unknown>), 'Microsoft.Resources/deployments', name))` on the ARM side.
    assert_eq!(
        id_of(&s, "lock"),
        "/subscriptions/{subscriptionid}/resourcegroups/{?}/providers/microsoft.keyvault/vaults/kv-app/providers/microsoft.authorization/locks/lock"
    );
    // `extensionResourceId(format(…, <unknown>), 'Microsoft.KeyVault/vaults', 'kv-old')`.
    let locks = ids_of_type(&s, "microsoft.authorization/locks");
    assert!(
        locks.contains(&"/subscriptions/{subscriptionid}/resourcegroups/{?}/providers/microsoft.keyvault/vaults/kv-old/providers/microsoft.authorization/locks/lock"),
        "{locks:?}"
    );
}

#[test]
fn a_parent_picked_by_an_unknown_index_keeps_its_id_shape() {
    let (s, j) = fixture("parent-unknown-index");
    assert_eq!(s.resources, j.resources);
    assert_eq!(s.links, j.links);
    assert_eq!(
        ids_of_type(&s, "microsoft.cdn/profiles/origingroups/origins"),
        ["/subscriptions/{subscriptionid}/resourcegroups/{resourcegroupname}/providers/microsoft.cdn/profiles/afd-profile/origingroups/{?}/origins/{?}"]
    );
}

#[test]
fn modules_are_evaluated_after_the_modules_they_read() {
    let s = agreeing("module-order");
    assert!(has_edge(
        &s.links,
        "/privateendpoints/pep/privatednszonegroups/default",
        "/privatednszones/privatelink.vaultcore.azure.net"
    ));
}

#[test]
fn a_module_read_with_a_safe_access_under_an_undecided_condition_is_unknown() {
    let (s, j) = fixture("conditional-module");
    assert_eq!(s.resources, j.resources);
    assert_eq!(s.links, j.links);
    // `dependsOn` on a module: an edge to its resources on the ARM side only (a known
    // difference the corpus run counts).
    assert!(has_edge(
        &s.links,
        "/jobs/job-always",
        "/managedenvironments/env-always"
    ));
    assert!(
        !s.links.iter().any(|(f, _)| f.ends_with("/jobs/job")),
        "{:?}",
        s.links
    );
}

#[test]
fn a_module_scope_with_slashes_in_a_placeholder_is_read_whole() {
    let s = agreeing("scope-placeholder");
    let rg = "/subscriptions/{subscriptionid}/resourcegroups/rg-{uniquestring(/subscriptions/{subscriptionid})}-x";
    assert_eq!(
        id_of(&s, "nic"),
        format!("{rg}/providers/microsoft.network/networkinterfaces/nic")
    );
    assert!(has_edge(
        &s.links,
        "/networkinterfaces/nic",
        "/virtualnetworks/vnet/subnets/snet"
    ));
}

#[test]
fn a_null_after_a_safe_access_ends_the_chain() {
    let s = agreeing("safe-chain");
    let mut n = names(&s);
    n.sort();
    assert_eq!(n, ["vnet-default", "vnet-default/default"]);
}

#[test]
fn a_choice_on_an_unknown_condition_is_not_the_conditions_text() {
    let s = agreeing("condition-choice");
    let locations: Vec<&str> = s.resources.values().map(|(_, l)| l.as_str()).collect();
    assert_eq!(locations, ["{?}"]);
}
