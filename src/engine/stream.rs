//! The bulk audit by deployment group, in memory that does not grow with the repository: the
//! inputs are split into deployment groups (the connected components of the project index's
//! references), and each group is lowered, evaluated, built into a graph and checked on its own,
//! on the pool, its templates and graph freed when it is done. Only what the report needs is kept:
//! the diagnostics, the undecided policies and the counts.
//!
//! What can cross groups is carried as compact summaries (hashes of ids, of `existing`
//! declarations' types and names, of the paths a group read beyond its inputs): two groups whose
//! summaries meet — one links to or looks for what the other declares, or reads one of its files —
//! are checked again as one, until no two meet, so the report is the one a single analysis of
//! every input gives.
//!
//! The inputs' texts are not held for the run: the plan keeps each input's path and references
//! ([`Planned`]), a group's files are read when it is analysed, and the report keeps the text of
//! the files its findings point into only.

use super::{check_in_pool, report_order, same_finding, Free, Options};
use crate::diagnostic::codes::Code;
use crate::diagnostic::{Diagnostic, NotEvaluated, Severity};
use crate::files::{language_of, FileProvider, Input};
use crate::graph::links::IdIndex;
use crate::graph::project::IndexedFile;
use crate::graph::{normalize_id, EdgeKind, Origin, ResourceGraph};
use crate::report::Report;
use crate::source::{FileId, Span};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

/// Audits `inputs` as [`super::check`] does, one deployment group at a time. The report has no
/// graph (`Report::resources` counts its resources): a bulk audit renders diagnostics.
pub fn check_streamed(inputs: &[Input], provider: &dyn FileProvider, options: &Options) -> Report {
    let files: Vec<Planned> = inputs
        .iter()
        .map(|i| Planned::of(i.clone(), true))
        .collect();
    check_planned(&files, provider, options)
}

/// [`check_streamed`] over planned inputs: those whose text was not kept are read (through
/// `provider`) when their group is analysed.
pub fn check_planned(files: &[Planned], provider: &dyn FileProvider, options: &Options) -> Report {
    match super::pool() {
        Some(p) => p.install(|| streamed(files, provider, options)),
        None => streamed(files, provider, options),
    }
}

/// An input of a bulk audit as the plan keeps it: its path, whether it is audited, its entry in
/// the project index, and its text only when asked.
#[derive(Debug, Clone)]
pub struct Planned {
    pub path: PathBuf,
    /// It has a language (an input without one only has an entry in the sources).
    pub audited: bool,
    /// Its entry in the project index (templates and parameter files).
    pub index: Option<IndexedFile>,
    /// Its text, when kept; else it is read again when its group is analysed.
    pub text: Option<Arc<str>>,
}

impl Planned {
    /// Plans `input`, keeping its text if `keep_text`.
    pub fn of(input: Input, keep_text: bool) -> Planned {
        Planned {
            audited: language_of(&input.path, &input.text).is_some(),
            index: crate::graph::project::scan(&input.path, &input.text),
            text: keep_text.then_some(input.text),
            path: input.path,
        }
    }

    /// Plans the file at `path` from its `text`, which is not kept (it is read again when its
    /// group is analysed): the text is only looked at, never copied.
    pub fn unkept(path: PathBuf, text: String) -> Planned {
        Planned {
            audited: language_of(&path, &text).is_some(),
            index: crate::graph::project::scan(&path, &text),
            text: None,
            path,
        }
    }

    /// The input, read through `provider` unless its text was kept; with the error when it
    /// can no longer be read (changed since it was planned).
    fn input(&self, provider: &dyn FileProvider) -> (Input, Option<String>) {
        let (text, error) = match &self.text {
            Some(text) => (text.clone(), None),
            None => match provider.read_or_why(&self.path) {
                Ok(text) => (text, None),
                Err(why) => (Arc::from(""), Some(why.to_string())),
            },
        };
        let input = Input {
            path: self.path.clone(),
            text,
        };
        (input, error)
    }
}

/// What one group's analysis leaves: what the report needs, and the summaries other groups meet.
#[derive(Default)]
struct Part {
    /// Indices of the inputs the group audits, ascending.
    members: Vec<usize>,
    diagnostics: Vec<Diagnostic>,
    suppressed: Vec<Diagnostic>,
    not_evaluated: Vec<NotEvaluated>,
    /// Files the analysis read beyond its inputs (modules, parameter files, policy files with
    /// load errors), by local id from `members.len()` on.
    extra: Vec<Extra>,
    /// The texts of the inputs the findings point into, by input index.
    texts: Vec<(usize, Arc<str>)>,
    /// Inputs with a language (the others only have an entry in the sources).
    audited: usize,
    deployments: usize,
    resources: usize,
    /// What this group declares or reads (hashed).
    offers: Vec<u64>,
    /// What this group links to or looks for across deployments (hashed).
    asks: Vec<u64>,
    /// What the group took of the run's budget.
    budget: Arc<crate::eval::RunBudget>,
}

/// A file a group read beyond its inputs.
#[derive(Clone)]
struct Extra {
    path: PathBuf,
    /// Its text if a finding points into it, else empty.
    text: Arc<str>,
    /// It has a language (counted in the report's files).
    audited: bool,
}

/// The id of an `existing` declaration.
const EXISTING: u8 = 0;
/// The id of a resource a deployment declares (not `existing`).
const DECLARED: u8 = 1;
/// The type and name of an `existing` declaration.
const EXISTING_NAME: u8 = 2;
/// A file's path.
const FILE: u8 = 3;

/// A summary entry: `text` of `kind`, hashed (a collision only makes two groups meet).
fn key(kind: u8, text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    kind.hash(&mut h);
    text.hash(&mut h);
    h.finish()
}

fn streamed(files: &[Planned], provider: &dyn FileProvider, options: &Options) -> Report {
    use rayon::prelude::*;
    let lap = crate::timing::lap;
    lap("analysis started");
    let groups = deployment_groups(files);
    lap(&format!("{} deployment groups found", groups.len()));
    if groups.len() < 2 {
        // One group: the one analysis, graph kept.
        let (inputs, errors) = read(files.iter(), provider);
        let mut report = check_in_pool(&inputs, provider, options, Free::Later);
        report.diagnostics.extend(errors);
        return report;
    }
    crate::timing::mute(true);
    // One budget for the run: each group takes its share, and gives it back when it is analysed
    // again with others.
    let budget = Arc::new(crate::eval::RunBudget::default());
    let run = |members: Vec<usize>| analyse(members, files, provider, options, &budget);
    let mut parts: Vec<Part> = groups.into_par_iter().map(run).collect();
    // Groups whose summaries meet are analysed again as one, until none meet.
    loop {
        let merged = meeting(&parts);
        if merged.iter().all(|m| m.len() < 2) {
            break;
        }
        let mut slots: Vec<Option<Part>> = parts.into_iter().map(Some).collect();
        let mut keep = Vec::new();
        let mut again = Vec::new();
        for m in merged {
            if let [one] = m.as_slice() {
                if let Some(p) = slots.get_mut(*one).and_then(Option::take) {
                    keep.push(p);
                }
                continue;
            }
            let mut members: Vec<usize> = m
                .iter()
                .filter_map(|i| slots.get_mut(*i).and_then(Option::take))
                .flat_map(|p| {
                    p.budget.give_back();
                    p.members
                })
                .collect();
            members.sort_unstable();
            again.push(members);
        }
        crate::timing::mute(false);
        let largest = again.iter().map(Vec::len).max().unwrap_or(0);
        lap(&format!(
            "groups that meet analysed again: {} files in {} groups (the largest {largest} files)",
            again.iter().map(Vec::len).sum::<usize>(),
            again.len()
        ));
        crate::timing::mute(true);
        keep.extend(again.into_par_iter().map(run).collect::<Vec<_>>());
        parts = keep;
    }
    crate::timing::mute(false);
    lap("deployment groups checked");
    let report = assemble(files, parts);
    lap("report assembled");
    report
}

/// The deployment groups of `files`: indices, each group ascending, connected by the references
/// of the project index (modules, `using`, linked templates, parameter files).
fn deployment_groups(files: &[Planned]) -> Vec<Vec<usize>> {
    // FxHash: the run's own paths, every input's.
    let by_path: rustc_hash::FxHashMap<&std::path::Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_path(), i))
        .collect();
    let mut sets = UnionFind::new(files.len());
    for (i, f) in files.iter().enumerate() {
        for r in f.index.iter().flat_map(|x| &x.references) {
            if let Some(t) = by_path.get(r.target.as_path()) {
                sets.union(i, *t);
            }
        }
    }
    sets.groups()
}

/// The inputs `files` stand for, read, and a `read-error` diagnostic (with the input's local
/// id) for each that can no longer be read.
fn read<'f>(
    files: impl Iterator<Item = &'f Planned>,
    provider: &dyn FileProvider,
) -> (Vec<Input>, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let inputs = files
        .enumerate()
        .map(|(i, f)| {
            let (input, error) = f.input(provider);
            if let Some(why) = error {
                let file = FileId(u32::try_from(i).unwrap_or(u32::MAX));
                errors.push(Diagnostic::new(
                    Code::ReadError,
                    Severity::Error,
                    Span::new(file, 0, 0),
                    format!("cannot read `{}`: {why}", f.path.display()),
                ));
            }
            input
        })
        .collect();
    (inputs, errors)
}

/// Runs the pipeline over the inputs `members` and keeps what the report needs.
fn analyse(
    members: Vec<usize>,
    files: &[Planned],
    provider: &dyn FileProvider,
    options: &Options,
    budget: &Arc<crate::eval::RunBudget>,
) -> Part {
    let share = Arc::new(crate::eval::RunBudget::within(budget.clone()));
    let (group, errors) = read(members.iter().filter_map(|i| files.get(*i)), provider);
    let mut report = check_in_pool(&group, provider, options, Free::Now(share.clone()));
    report.diagnostics.extend(errors);
    let looking = types_looking_elsewhere(&report.graph, options);
    let (offers, asks) = summaries(&report.graph, &report.policy_lookups, looking.as_ref());
    let mut part = Part {
        diagnostics: std::mem::take(&mut report.diagnostics),
        suppressed: std::mem::take(&mut report.suppressed),
        not_evaluated: std::mem::take(&mut report.not_evaluated),
        audited: members
            .iter()
            .filter(|i| files.get(**i).is_some_and(|f| f.audited))
            .count(),
        deployments: report.deployments,
        resources: report.graph.resources.len(),
        offers,
        asks,
        budget: share,
        ..Part::default()
    };
    // The files the findings point into keep their text (the output shows lines of it).
    let mut pointed: HashSet<FileId> = HashSet::new();
    for d in part.diagnostics.iter().chain(&part.suppressed) {
        pointed.extend(files_of(d));
    }
    pointed.extend(part.not_evaluated.iter().map(|n| n.span.file));
    for (id, file) in report.sources.iter() {
        let text = if pointed.contains(&id) {
            file.text.clone()
        } else {
            Arc::from("")
        };
        match members.get(id.0 as usize) {
            Some(input) => {
                part.offers.push(key(FILE, &file.path.to_string_lossy()));
                if !text.is_empty() {
                    part.texts.push((*input, text));
                }
            }
            None => {
                part.asks.push(key(FILE, &file.path.to_string_lossy()));
                part.extra.push(Extra {
                    path: file.path.clone(),
                    audited: language_of(&file.path, &file.text).is_some(),
                    text,
                });
            }
        }
    }
    part.members = members;
    part
}

/// What a group's graph offers other groups and asks of them. Offers: each resource's id, as a
/// declaration or as an `existing` one, and the type and name of `existing` declarations. Asks:
/// for each id the builder looked up (parents, references, `dependsOn`) and each id the policies
/// looked up (`lookups`: `details.resourceId`, `follow` hops), what of another
/// deployment could change the answer of the linking rule ([`IdIndex::reach`]); the type and
/// name of each declared resource, for `policy::graph_eval`'s "another deployment references it
/// as an existing resource".
fn summaries(
    graph: &ResourceGraph,
    lookups: &[(usize, String)],
    looking: Option<&HashSet<String>>,
) -> (Vec<u64>, Vec<u64>) {
    let mut offers = HashSet::new();
    let mut asks = HashSet::new();
    let index = IdIndex::new(&graph.resources);
    let ids: Vec<String> = graph
        .resources
        .iter()
        .map(|r| normalize_id(&r.id))
        .collect();
    let mut looks_up = |from: usize, text: &str| {
        let reach = index.reach(from, text);
        if reach.declared || reach.existing {
            let wanted = normalize_id(text);
            if reach.declared {
                asks.insert(key(DECLARED, &wanted));
            }
            if reach.existing {
                asks.insert(key(EXISTING, &wanted));
            }
        }
    };
    for (i, (r, id)) in graph.resources.iter().zip(&ids).enumerate() {
        if r.origin == Origin::Declared {
            if let Some(parent) = crate::graph::builder::parent_id(id) {
                looks_up(i, parent);
            }
        }
    }
    for e in &graph.edges {
        if matches!(e.kind, EdgeKind::Reference | EdgeKind::DependsOn) {
            if let Some(to) = ids.get(e.to) {
                looks_up(e.from, to);
            }
        }
    }
    for u in &graph.unresolved {
        looks_up(u.from, &u.value);
    }
    for (from, text) in lookups {
        looks_up(*from, text);
    }
    for (r, id) in graph.resources.iter().zip(&ids) {
        let named = format!("{}/{}", r.type_name, r.name).to_ascii_lowercase();
        if r.existing {
            offers.insert(key(EXISTING, id));
            offers.insert(key(EXISTING_NAME, &named));
        } else {
            offers.insert(key(DECLARED, id));
            if looking.is_none_or(|types| types.contains(&r.type_name.to_ascii_lowercase())) {
                asks.insert(key(EXISTING_NAME, &named));
            }
        }
    }
    let mut offers: Vec<u64> = offers.into_iter().collect();
    let mut asks: Vec<u64> = asks.into_iter().collect();
    offers.sort_unstable();
    asks.sort_unstable();
    (offers, asks)
}

/// The lowercase types of the resources that the group's policies look for a related resource
/// of by type (`details.type` without azaudit's `details.resourceId`): only those can be told
/// "another deployment references it as an existing resource" (`policy::graph_eval`). `None`:
/// every type (a policy whose `if` can match any type).
fn types_looking_elsewhere(graph: &ResourceGraph, options: &Options) -> Option<HashSet<String>> {
    let (set, _) = super::policies_for_graph(options, graph);
    let mut types = HashSet::new();
    for p in set.policies() {
        let by_type = p
            .definition
            .existence
            .as_ref()
            .is_some_and(|e| e.resource_id.is_none() && e.type_name.is_some());
        if by_type {
            types.extend(p.definition.types.as_ref()?.iter().cloned());
        }
    }
    Some(types)
}

/// The parts whose summaries meet, as sets of part indices (each ascending, every part in one).
fn meeting(parts: &[Part]) -> Vec<Vec<usize>> {
    let mut offered: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, p) in parts.iter().enumerate() {
        for k in &p.offers {
            offered.entry(*k).or_default().push(i);
        }
    }
    let mut sets = UnionFind::new(parts.len());
    for (i, p) in parts.iter().enumerate() {
        for k in &p.asks {
            for j in offered.get(k).into_iter().flatten() {
                if *j != i {
                    sets.union(i, *j);
                }
            }
        }
    }
    sets.groups()
}

/// One report from the parts: inputs keep their ids (their order), the files read beyond them
/// follow, sorted by path; diagnostics in the order and with the duplicates removed as one
/// analysis does.
fn assemble(files: &[Planned], mut parts: Vec<Part>) -> Report {
    let mut report = Report::default();
    let mut texts: HashMap<usize, Arc<str>> = parts
        .iter_mut()
        .flat_map(|p| std::mem::take(&mut p.texts))
        .collect();
    for (i, f) in files.iter().enumerate() {
        let text = texts.remove(&i).unwrap_or_else(|| Arc::from(""));
        report.sources.add(f.path.clone(), text);
    }
    let mut extra: Vec<Extra> = parts.iter().flat_map(|p| p.extra.iter().cloned()).collect();
    // One entry per path, the one with a text first.
    extra.sort_by(|a, b| (&a.path, a.text.is_empty()).cmp(&(&b.path, b.text.is_empty())));
    extra.dedup_by(|a, b| a.path == b.path);
    let mut extra_ids: HashMap<PathBuf, FileId> = HashMap::new();
    for e in extra {
        // A file read beyond one group's inputs may be another's input (a reference the
        // groups did not show: then the two met and were analysed as one).
        let id = match report.sources.find(&e.path) {
            Some(id) => id,
            None => {
                if e.audited {
                    report.files += 1;
                }
                report.sources.add(e.path.clone(), e.text)
            }
        };
        extra_ids.insert(e.path, id);
    }
    let mut resources = 0;
    for mut part in parts {
        let local: Vec<FileId> = part
            .members
            .iter()
            .map(|i| FileId(u32::try_from(*i).unwrap_or(u32::MAX)))
            .chain(
                part.extra
                    .iter()
                    .map(|e| extra_ids.get(&e.path).copied().unwrap_or_default()),
            )
            .collect();
        let global = |f: FileId| local.get(f.0 as usize).copied().unwrap_or(f);
        for d in part
            .diagnostics
            .iter_mut()
            .chain(part.suppressed.iter_mut())
        {
            remap(d, &global);
        }
        for n in &mut part.not_evaluated {
            n.span.file = global(n.span.file);
        }
        report.diagnostics.append(&mut part.diagnostics);
        report.suppressed.append(&mut part.suppressed);
        report.not_evaluated.append(&mut part.not_evaluated);
        report.files += part.audited;
        report.deployments += part.deployments;
        resources += part.resources;
    }
    report.diagnostics.sort_by(report_order);
    report.diagnostics.dedup_by(|a, b| same_finding(a, b));
    report.suppressed.sort_by(report_order);
    report.not_evaluated.sort();
    report.not_evaluated.dedup();
    report.resources = Some(resources);
    report
}

/// The files `d` points into.
fn files_of(d: &Diagnostic) -> impl Iterator<Item = FileId> + '_ {
    std::iter::once(d.span.file)
        .chain(d.related.iter().map(|r| r.span.file))
        .chain(
            d.fixes
                .iter()
                .flat_map(|f| f.edits.iter().map(|e| e.span.file)),
        )
}

/// Moves every span of `d` to the file `global` gives for its file.
fn remap(d: &mut Diagnostic, global: &impl Fn(FileId) -> FileId) {
    d.span.file = global(d.span.file);
    for r in &mut d.related {
        r.span.file = global(r.span.file);
    }
    for f in &mut d.fixes {
        for e in &mut f.edits {
            e.span.file = global(e.span.file);
        }
    }
}

/// Disjoint sets of `0..n`.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while let Some(&p) = self.parent.get(i) {
            if p == i {
                break;
            }
            let grand = self.parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(i) {
                *slot = grand;
            }
            i = p;
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (low, high) = (ra.min(rb), ra.max(rb));
            if let Some(slot) = self.parent.get_mut(high) {
                *slot = low;
            }
        }
    }

    /// The sets, each ascending, ordered by their smallest element.
    fn groups(mut self) -> Vec<Vec<usize>> {
        let n = self.parent.len();
        let mut by_root: HashMap<usize, usize> = HashMap::new();
        let mut out: Vec<Vec<usize>> = Vec::new();
        for i in 0..n {
            let root = self.find(i);
            let slot = *by_root.entry(root).or_insert_with(|| {
                out.push(Vec::new());
                out.len() - 1
            });
            if let Some(g) = out.get_mut(slot) {
                g.push(i);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn part_of(i: usize, name: &str, text: &str) -> Part {
        let input = Input {
            path: PathBuf::from(format!("/streamed/{name}")),
            text: Arc::from(text),
        };
        let inputs = vec![Planned::of(input, true)];
        let budget = Arc::new(crate::eval::RunBudget::default());
        let mut part = analyse(
            vec![0],
            &inputs,
            &crate::files::Disk,
            &Options::default(),
            &budget,
        );
        part.members = vec![i];
        part
    }

    #[test]
    fn groups_meet_only_when_one_analysis_would_link_them() {
        let existing = "var vnetName = 'vnet-shared'\n\
            resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' existing = {\n  name: vnetName\n}\n\
            resource subnet 'Microsoft.Network/virtualNetworks/subnets@2023-04-01' existing = {\n  \
            parent: vnet\n  name: 'default'\n}\n\
            resource nic 'Microsoft.Network/networkInterfaces@2023-04-01' = {\n  name: 'nic'\n  location: 'westeurope'\n  \
            properties: {\n    ipConfigurations: [{\n      name: 'ip'\n      properties: {\n        \
            subnet: { id: subnet.id }\n      }\n    }]\n  }\n}\n";
        let declared = "var vnetName = 'vnet-shared'\n\
            resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {\n  name: vnetName\n  location: 'westeurope'\n}\n";
        // Two deployments that each only reference the network as `existing`: neither's
        // answer depends on the other.
        let a = part_of(0, "a.bicep", existing);
        let b = part_of(1, "b.bicep", existing);
        assert_eq!(meeting(&[a, b]), vec![vec![0], vec![1]]);
        // One declares it: the `existing` one stands for that declaration.
        let a = part_of(0, "a.bicep", existing);
        let c = part_of(1, "c.bicep", declared);
        assert_eq!(meeting(&[a, c]), vec![vec![0, 1]]);
        // Named by each template's own parameter: two networks, nothing to meet over.
        let parameter =
            |t: &str| t.replace("var vnetName = 'vnet-shared'", "param vnetName string");
        let a = part_of(0, "a.bicep", &parameter(existing));
        let c = part_of(1, "c.bicep", &parameter(declared));
        assert_eq!(meeting(&[a, c]), vec![vec![0], vec![1]]);
    }

    #[test]
    fn union_find_groups_in_order() {
        let mut u = UnionFind::new(6);
        u.union(4, 1);
        u.union(5, 3);
        u.union(3, 4);
        assert_eq!(u.groups(), vec![vec![0], vec![1, 3, 4, 5], vec![2]]);
    }
}
