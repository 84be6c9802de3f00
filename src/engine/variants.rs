//! Parameters with allowed values but no value: a policy that could not be evaluated because of
//! such a parameter is evaluated again with each allowed value, and a violation under one of them
//! becomes a diagnostic one level lower than a certain one, naming the value
//! ("violates when skuName = 'Basic'").

use crate::diagnostic::{Diagnostic, NotEvaluated, Severity};
use crate::eval::{DeploymentContext, Evaluator};
use crate::graph::builder::{build, DeploymentInput};
use crate::model::Template;
use crate::policy::{evaluate, EvalOptions, PolicySet};
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};

/// Allowed values tried per parameter, at most.
const MAX_VALUES: usize = 16;

/// Re-evaluates the not-evaluated pairs that depend on one parameter with allowed values.
/// Returns the diagnostics found and removes the pairs they decide from `not_evaluated`.
pub fn decide_with_allowed_values(
    templates: &[Template],
    set: &PolicySet,
    options: &EvalOptions,
    deployment: &DeploymentContext,
    not_evaluated: &mut Vec<NotEvaluated>,
) -> Vec<Diagnostic> {
    // (template index, parameter) → the not-evaluated entries it decides.
    let mut groups: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    let mut by_file: HashMap<crate::source::FileId, Vec<usize>> = HashMap::new();
    for (ti, t) in templates.iter().enumerate() {
        by_file.entry(t.file).or_default().push(ti);
    }
    for (i, n) in not_evaluated.iter().enumerate() {
        let Some(param) = n.parameter.as_deref() else {
            continue;
        };
        let Some(ti) = by_file
            .get(&n.span.file)
            .into_iter()
            .flatten()
            .copied()
            .find(|&ti| {
                templates.get(ti).is_some_and(|t| {
                    t.params.iter().any(|p| {
                        p.name.eq_ignore_ascii_case(param)
                            && p.allowed.is_some()
                            && p.default.is_none()
                    })
                })
            })
        else {
            continue;
        };
        groups.entry((ti, param.to_string())).or_default().push(i);
    }
    let mut found = Vec::new();
    let mut decided = Vec::new();
    for ((ti, param), entries) in groups {
        let Some(template) = templates.get(ti) else {
            continue;
        };
        let Some(allowed) = template
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(&param))
            .and_then(|p| p.allowed.as_ref())
        else {
            continue;
        };
        let ev = Evaluator::new(template, HashMap::new(), deployment.clone());
        let values: Vec<Value> = allowed
            .iter()
            .take(MAX_VALUES)
            .map(|e| ev.eval(e, &Vec::new(), 0))
            .filter(|v| v.first_unknown().is_none())
            .collect();
        // For each entry: the diagnostics it gets under each value that violates.
        let mut violations: BTreeMap<usize, Vec<(String, Diagnostic)>> = BTreeMap::new();
        // Entries still undecided under some value.
        let mut open: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
        let tried = values.len();
        // Only the policies these entries are about.
        let codes: std::collections::HashSet<&str> = entries
            .iter()
            .filter_map(|&i| not_evaluated.get(i).map(|n| n.code.as_str()))
            .collect();
        let subset = set.subset(|p| codes.contains(p.id.as_str()));
        let set = &subset;
        for value in values {
            let mut params = HashMap::new();
            params.insert(param.clone(), value.clone());
            let graph = build(&[DeploymentInput {
                template,
                params,
                deployment: deployment.clone(),
            }]);
            let outcome = evaluate(set, &graph, options);
            for &i in &entries {
                let Some(n) = not_evaluated.get(i) else {
                    continue;
                };
                if let Some(d) = outcome
                    .diagnostics
                    .iter()
                    .find(|d| d.code == n.code && d.resource == n.resource)
                {
                    violations
                        .entry(i)
                        .or_default()
                        .push((value.to_json_lossy().to_string(), d.clone()));
                } else if outcome
                    .not_evaluated
                    .iter()
                    .any(|u| u.code == n.code && u.resource == n.resource)
                {
                    open.insert(i);
                }
            }
        }
        // Compliant under every allowed value: decided, nothing to report.
        if tried > 0 {
            decided.extend(
                entries
                    .iter()
                    .filter(|i| !open.contains(i) && !violations.contains_key(i)),
            );
        }
        for (i, hits) in violations {
            let Some((_, first)) = hits.first() else {
                continue;
            };
            let values: Vec<String> = hits.iter().map(|(v, _)| v.replace('"', "'")).collect();
            let mut d = first.clone();
            d.severity = match d.severity {
                Severity::Error => Severity::Warning,
                Severity::Warning | Severity::Info => Severity::Info,
            };
            d.message = format!(
                "{} (violates when {param} = {})",
                d.message,
                values.join(" or ")
            );
            found.push(d);
            decided.push(i);
        }
    }
    decided.sort_unstable();
    for i in decided.into_iter().rev() {
        if i < not_evaluated.len() {
            not_evaluated.remove(i);
        }
    }
    found
}
