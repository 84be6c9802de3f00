//! The `--show-not-evaluated` listing: the (policy × resource) checks that could not be decided,
//! grouped by cause, each cause phrased for the template's author with what would decide it.

use crate::diagnostic::NotEvaluated;
use crate::report::Report;

/// Why checks could not be decided, as a template author reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// A parameter without a default and without a value in a parameter file.
    Parameter,
    /// A property of an `existing` resource.
    Existing,
    /// A name or id the deployment fills in (`uniqueString()`, the subscription, the group).
    DeploymentText,
    /// `reference()`, `listKeys()` and other values known only once deployed.
    Runtime,
    /// A value the deployment environment supplies (`resourceGroup().location`, `utcNow()`).
    Environment,
    /// A module that was not read or not evaluated.
    Module,
    /// Evaluation stopped at a limit.
    Limit,
    /// An expression azaudit could not evaluate.
    Unsupported,
    /// Anything else (a linked resource's property that is not in the templates …).
    Other,
}

impl Cause {
    /// The cause of `reason` (a [`NotEvaluated::reason`]).
    pub fn of(reason: &str) -> Cause {
        let r = reason.trim();
        let after = r.strip_prefix("depends on ").unwrap_or(r);
        if after.starts_with("parameter '") {
            Cause::Parameter
        } else if after.contains("an existing resource deployed elsewhere")
            || after.contains("is an existing resource")
        {
            Cause::Existing
        } else if after.starts_with("module '") || r.starts_with("module '") {
            Cause::Module
        } else if after.starts_with("a value past an evaluation limit")
            || r.starts_with("evaluation limit")
        {
            Cause::Limit
        } else if after.starts_with("a value that could not be evaluated") {
            Cause::Unsupported
        } else if after.starts_with('\'') && after.ends_with("known only at deployment") {
            Cause::DeploymentText
        } else if after.contains("(), known only at deployment") {
            Cause::Runtime
        } else if after.ends_with("known only at deployment") {
            Cause::Environment
        } else {
            Cause::Other
        }
    }

    /// The group's heading.
    pub fn title(self) -> &'static str {
        match self {
            Cause::Parameter => "parameters without a value",
            Cause::Existing => "properties of `existing` resources, deployed elsewhere",
            Cause::DeploymentText => {
                "names and ids the deployment fills in (`uniqueString()`, the subscription, the resource group)"
            }
            Cause::Runtime => "values known only once deployed (`reference()`, `list*()`)",
            Cause::Environment => "values the deployment environment supplies",
            Cause::Module => "modules that were not read",
            Cause::Limit => "values past an evaluation limit",
            Cause::Unsupported => "expressions azaudit could not evaluate",
            Cause::Other => "values the templates don't set",
        }
    }

    /// What would let azaudit decide, one line.
    pub fn help(self) -> &'static str {
        match self {
            Cause::Parameter => {
                "give the parameters a default, or audit the template with its parameter file (.bicepparam or *.parameters.json)"
            }
            Cause::Existing => {
                "audit the files that deploy those resources together with this one (one folder or several paths)"
            }
            Cause::DeploymentText => {
                "use literal names where a policy needs them, or accept that the deployment decides"
            }
            Cause::Runtime => "these are decided by Azure at deployment; nothing to change",
            Cause::Environment => {
                "set the deployment's location, subscription or resource group in the template or its parameters"
            }
            Cause::Module => "check the module paths, and run `bicep restore` for registry modules",
            Cause::Limit => "simplify the expression or split the deployment into modules",
            Cause::Unsupported => {
                "the expression may be valid: azaudit does not evaluate it yet (please report it)"
            }
            Cause::Other => "set the property in the template if the policy should decide it",
        }
    }
}

/// One cause and its checks.
#[derive(Debug)]
pub struct Group<'r> {
    pub cause: Cause,
    /// The checks, in report order.
    pub items: Vec<&'r NotEvaluated>,
    /// Policies and how many of the group's checks are theirs, most first.
    pub by_policy: Vec<(String, usize)>,
}

/// The parameters the checks of a [`Cause::Parameter`] group wait for, most first, with counts.
pub fn parameters(group: &Group<'_>) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for n in &group.items {
        let Some(name) = n
            .reason
            .split_once("parameter '")
            .and_then(|(_, rest)| rest.split_once('\''))
            .map(|(name, _)| name)
        else {
            continue;
        };
        match counts.iter_mut().find(|(c, _)| c == name) {
            Some((_, k)) => *k += 1,
            None => counts.push((name.to_string(), 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

/// The report's undecided checks grouped by cause, largest group first.
pub fn groups(report: &Report) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for n in &report.not_evaluated {
        let cause = Cause::of(&n.reason);
        match groups.iter_mut().find(|g| g.cause == cause) {
            Some(g) => g.items.push(n),
            None => groups.push(Group {
                cause,
                items: vec![n],
                by_policy: Vec::new(),
            }),
        }
    }
    for g in &mut groups {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for n in &g.items {
            match counts.iter_mut().find(|(c, _)| *c == n.code) {
                Some((_, k)) => *k += 1,
                None => counts.push((n.code.clone(), 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        g.by_policy = counts;
    }
    groups.sort_by(|a, b| {
        b.items
            .len()
            .cmp(&a.items.len())
            .then(a.cause.cmp(&b.cause))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_from_reasons() {
        let cases = [
            (
                "depends on parameter 'skuName', which has no value",
                Cause::Parameter,
            ),
            (
                "depends on 'vnet', an existing resource deployed elsewhere",
                Cause::Existing,
            ),
            (
                "depends on '/subscriptions/{subscriptionId}/x', known only at deployment",
                Cause::DeploymentText,
            ),
            (
                "depends on reference(), known only at deployment",
                Cause::Runtime,
            ),
            (
                "depends on resourceGroup().location, known only at deployment",
                Cause::Environment,
            ),
            (
                "depends on module 'br:x' , which is not evaluated: module not restored",
                Cause::Module,
            ),
            (
                "depends on a value past an evaluation limit (evaluation steps)",
                Cause::Limit,
            ),
            (
                "depends on a value that could not be evaluated: cidrSubnet() is not evaluated",
                Cause::Unsupported,
            ),
            ("'vnet/snet' has no 'x'", Cause::Other),
        ];
        for (reason, cause) in cases {
            assert_eq!(Cause::of(reason), cause, "{reason}");
        }
    }
}
