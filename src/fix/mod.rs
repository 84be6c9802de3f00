//! Quick fixes: edits that resolve a diagnostic, computed from the resource graph when the change
//! is unambiguous. Which diagnostics have one, and what value they write, the policies declare
//! (`metadata.azaudit.fix`, read by `policy::fix`); this module turns that into text edits.
//!
//! A fix only edits text the diagnostic's resource declares literally: every span it needs must be
//! known, lie inside the declaration, and read as expected (a string literal, a property name).
//! Values that come from parameters, variables, loops or modules that are instantiated more than
//! once get no fix.

mod subnet;
mod text;
pub mod write;

use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::graph::{EdgeKind, Resource, ResourceGraph, ResourceIdx};
use crate::model::Language;
use crate::policy::fix::{FixEdit, FixSpec};
use crate::report::Report;
use crate::source::{SourceFile, Span};
use crate::value::Value;

const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";

/// Attaches fixes to the diagnostics of `report` that have an unambiguous one.
pub fn attach(report: &mut Report) {
    let found: Vec<Vec<Fix>> = report
        .diagnostics
        .iter()
        .map(|d| fixes_for(report, d))
        .collect();
    for (d, fixes) in report.diagnostics.iter_mut().zip(found) {
        d.fixes = fixes;
    }
}

/// The fixes for one diagnostic (none when the fix would be a guess).
pub fn fixes_for(report: &Report, d: &Diagnostic) -> Vec<Fix> {
    let fix = match report.fixes.get(&d.code).map(|s| s.edit) {
        Some(FixEdit::Delegations) => same_fix(report, d, |t| t.delegation_fix()),
        Some(FixEdit::SingleAddressPrefix) => same_fix(report, d, |t| t.address_prefix_fix()),
        None => None,
    };
    fix.into_iter().collect()
}

/// The fix `make` finds for every instance of the subnet the diagnostic is about (a module used
/// by several deployments, a loop), when they all need the same one.
fn same_fix(
    report: &Report,
    d: &Diagnostic,
    make: impl for<'t> Fn(&Target<'t>) -> Option<Fix>,
) -> Option<Fix> {
    let targets = Target::all(report, d)?;
    let mut fixes = targets.iter().map(make);
    let first = fixes.next()??;
    fixes.all(|f| f.as_ref() == Some(&first)).then_some(first)
}

/// Why a module shared by several deployments gets no fix: "`modules/network.bicep` is not
/// fixed: the deployments standard.bicep and premium.bicep need different delegations of subnet
/// 'snet-a' (Microsoft.Web/serverFarms, Microsoft.Web/hostingEnvironments)". One line per
/// subnet declaration, for `check --fix` to print.
pub fn not_fixed(report: &Report, cwd: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for d in report
        .diagnostics
        .iter()
        .filter(|d| edit_of(report, d) == Some(FixEdit::Delegations) && d.fixes.is_empty())
    {
        let Some(targets) = Target::all(report, d) else {
            continue;
        };
        // (deployment file, what it needs), one per deployment.
        let mut needs: Vec<(String, String)> = Vec::new();
        for t in &targets {
            let Some(need) = t.needed() else {
                continue;
            };
            let what = match need {
                Delegation::Nothing => "no delegation".to_string(),
                Delegation::To(service) => service,
            };
            for a in &t.users {
                let start = a.module_chain.first().map_or(a.file, |s| s.file);
                let Some(file) = report.sources.get(start) else {
                    continue;
                };
                let name = crate::report::display_path(&file.path, cwd);
                let entry = (name, what.clone());
                if !needs.contains(&entry) {
                    needs.push(entry);
                }
            }
        }
        let mut wanted: Vec<&str> = needs.iter().map(|(_, w)| w.as_str()).collect();
        wanted.sort();
        wanted.dedup();
        if wanted.len() < 2 {
            continue;
        }
        let Some(first) = targets.first() else {
            continue;
        };
        let who: Vec<String> = needs.iter().map(|(n, w)| format!("{n} ({w})")).collect();
        let line = format!(
            "`{}` is not fixed: subnet '{}' is deployed by {} , which need different delegations",
            crate::report::display_path(&first.file.path, cwd),
            first.subnet_name(),
            who.join(" and ")
        )
        .replace(" ,", ",");
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// The edit the policy of `d` declares for its fix.
fn edit_of(report: &Report, d: &Diagnostic) -> Option<FixEdit> {
    report.fixes.get(&d.code).map(|s| s.edit)
}

/// The subnet delegation a resource that uses the subnet needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Delegation {
    /// No delegation.
    Nothing,
    /// Exactly this service.
    To(String),
}

/// The delegation `user` needs, as the policy's fix declares it (`value`: the service names);
/// `None` when that can't be said (its tier or mode not known, or one that uses no subnet).
fn needed_delegation(spec: &FixSpec, user: &Resource) -> Option<Delegation> {
    let value = spec.value_for(&user.body)?;
    match value.as_array()? {
        [] => Some(Delegation::Nothing),
        [service] => Some(Delegation::To(service.as_str()?.to_string())),
        _ => None,
    }
}

/// The text syntax of the file a fix edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Bicep,
    Json,
}

/// The subnet a diagnostic is about, the resources of the diagnostic's type using it (the
/// evaluated resources of the policy), and its file.
struct Target<'a> {
    subnet: &'a Resource,
    users: Vec<&'a Resource>,
    file: &'a SourceFile,
    syntax: Syntax,
    spec: &'a FixSpec,
}

impl<'a> Target<'a> {
    /// Every instance of the subnet whose declaration holds the diagnostic (one per deployment
    /// that reaches a module, one per loop element), with the resources of the diagnostic's type
    /// using each. `None` unless the diagnostic's resource uses one of them.
    fn all(report: &'a Report, d: &Diagnostic) -> Option<Vec<Target<'a>>> {
        let named = d.resource.as_ref()?;
        let spec = report.fixes.get(&d.code)?;
        let graph = &report.graph;
        let declaration = graph
            .resources
            .iter()
            .find(|r| r.type_name.eq_ignore_ascii_case(SUBNET) && inside(d.span, r.span))?
            .span;
        let file = report.sources.get(declaration.file)?;
        let syntax = match crate::files::language_of(&file.path, &file.text)? {
            Language::Bicep => Syntax::Bicep,
            Language::ArmTemplate => Syntax::Json,
            Language::BicepParams | Language::ArmParameters => return None,
        };
        let targets: Vec<Target<'a>> = graph
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.span == declaration && r.type_name.eq_ignore_ascii_case(SUBNET))
            .map(|(idx, subnet)| Target {
                subnet,
                users: users(graph, idx, &named.type_name),
                file,
                syntax,
                spec,
            })
            .collect();
        let reported = targets.iter().flat_map(|t| &t.users).any(|a| {
            a.name == named.name && a.symbol == named.symbol && a.type_name == named.type_name
        });
        reported.then_some(targets)
    }

    /// The delegation every resource using the subnet needs, if they agree.
    fn needed(&self) -> Option<Delegation> {
        let mut needs = self.users.iter().map(|a| needed_delegation(self.spec, a));
        let first = needs.next()??;
        needs.all(|n| n.as_ref() == Some(&first)).then_some(first)
    }

    /// Whether the fix applies for every resource using the subnet (`when`).
    fn applies(&self) -> bool {
        !self.users.is_empty()
            && self
                .users
                .iter()
                .all(|a| self.spec.applies_to(&a.body) == Some(true))
    }

    /// The subnet's `properties` object.
    fn properties(&self) -> Option<&'a Value> {
        let p = self.subnet.body.get("properties")?;
        p.as_object().map(|_| p)
    }

    fn subnet_name(&self) -> &str {
        self.subnet
            .name
            .rsplit('/')
            .next()
            .unwrap_or(&self.subnet.name)
    }
}

/// The resources of type `type_name` whose subnet reference links to `subnet`.
fn users<'g>(graph: &'g ResourceGraph, subnet: ResourceIdx, type_name: &str) -> Vec<&'g Resource> {
    let mut out: Vec<(ResourceIdx, &Resource)> = graph
        .edges_to(subnet)
        .filter(|e| {
            e.kind == EdgeKind::Reference
                && e.path.to_ascii_lowercase().ends_with("subnetresourceid")
        })
        .filter_map(|e| Some((e.from, graph.resources.get(e.from)?)))
        .filter(|(_, r)| r.type_name.eq_ignore_ascii_case(type_name))
        .collect();
    out.sort_by_key(|(i, _)| *i);
    out.dedup_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Whether `inner` lies within `outer` (same file).
fn inside(inner: Span, outer: Span) -> bool {
    inner.file == outer.file && inner.start >= outer.start && inner.end <= outer.end
}

/// A file rewritten by [`fixed_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedFile {
    pub path: std::path::PathBuf,
    /// The text the analysis read.
    pub before: std::sync::Arc<str>,
    /// The text with the fixes applied.
    pub after: String,
    /// How many diagnostics the fixes resolve.
    pub fixed: usize,
}

/// A diagnostic `check --fix` did not fix, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped<'r> {
    pub diagnostic: &'r Diagnostic,
    pub reason: &'static str,
}

/// The files of `report` with the fixes of its diagnostics applied: for each diagnostic its only
/// fix, skipped when it edits the same text as one taken before.
pub fn fixed_files(report: &Report) -> Vec<FixedFile> {
    plan(report).0
}

/// [`fixed_files`], and the diagnostics of a fixable code (one whose policy declares a fix) left
/// unfixed with the reason.
pub fn plan(report: &Report) -> (Vec<FixedFile>, Vec<Skipped<'_>>) {
    let mut by_file: std::collections::BTreeMap<crate::source::FileId, (Vec<&Edit>, usize)> =
        std::collections::BTreeMap::new();
    let mut skipped = Vec::new();
    let mut skip = |d, reason| {
        skipped.push(Skipped {
            diagnostic: d,
            reason,
        })
    };
    for d in &report.diagnostics {
        let fix = match d.fixes.as_slice() {
            [fix] => fix,
            [] => {
                if let Some(reason) = why_no_fix(report, d) {
                    skip(d, reason);
                }
                continue;
            }
            _ => {
                skip(d, "more than one fix applies: choose one in the editor");
                continue;
            }
        };
        let Some(first) = fix.edits.first() else {
            continue;
        };
        let file = first.span.file;
        if fix.edits.iter().any(|e| e.span.file != file) {
            skip(
                d,
                "the fix edits more than one file: apply it in the editor",
            );
            continue;
        }
        let (taken, count) = by_file.entry(file).or_default();
        // Edits that overlap, or insert at the same place, conflict.
        let overlaps = fix.edits.iter().any(|e| {
            taken.iter().any(|t| {
                (e.span.start < t.span.end && t.span.start < e.span.end)
                    || e.span.start == t.span.start
            })
        });
        if overlaps {
            skip(
                d,
                "its fix edits the same text as another fix: run `--fix` again",
            );
            continue;
        }
        taken.extend(fix.edits.iter());
        *count += 1;
    }
    let files = by_file
        .into_iter()
        .filter_map(|(id, (edits, fixed))| {
            let file = report.sources.get(id)?;
            let edits: Vec<Edit> = edits.into_iter().cloned().collect();
            let after = apply(&file.text, &edits)?;
            Some(FixedFile {
                path: file.path.clone(),
                before: file.text.clone(),
                after,
                fixed,
            })
        })
        .collect();
    (files, skipped)
}

/// Why a diagnostic of a fixable code has no fix; `None` for one that has a fix or whose code
/// has none.
pub fn why_no_fix(report: &Report, d: &Diagnostic) -> Option<&'static str> {
    let edit = edit_of(report, d)?;
    if !d.fixes.is_empty() {
        return None;
    }
    let graph = &report.graph;
    let subnets: Vec<&Resource> = graph
        .resources
        .iter()
        .filter(|r| r.type_name.eq_ignore_ascii_case(SUBNET) && inside(d.span, r.span))
        .collect();
    let targets = Target::all(report, d);
    let reason = match targets.as_deref() {
        _ if subnets.is_empty() => {
            "the finding is not inside a subnet declaration of these files (the value is set elsewhere)"
        }
        None | Some([]) => {
            "the subnet is not declared in a Bicep or ARM template that azaudit edits (a parameter file, a registry module, or another instance's finding)"
        }
        Some(ts) if edit == FixEdit::Delegations && ts.iter().any(|t| t.needed().is_none()) => {
            "the resources using the subnet need different delegations, or what they need is not known"
        }
        Some(ts) if ts.len() > 1 => {
            "the subnet's declaration makes more than one subnet (a loop, or a module deployed more than once) and they need different fixes"
        }
        Some(_) => {
            "the value is not written literally in the subnet's declaration (a parameter, a variable or an expression sets it)"
        }
    };
    Some(reason)
}

/// `text` with `edits` applied (their spans in `text`'s file, not overlapping).
pub fn apply(text: &str, edits: &[Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0usize;
    for e in sorted {
        let (start, end) = (e.span.start as usize, e.span.end as usize);
        if start < at || end < start {
            return None;
        }
        out.push_str(text.get(at..start)?);
        out.push_str(&e.text);
        at = end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

#[cfg(test)]
mod tests;
