//! The `--show-not-evaluated` listing: the (policy × resource) checks that could not be decided,
//! grouped by cause, each cause phrased for the template's author with what would decide it.

use crate::diagnostic::NotEvaluated;
use crate::report::Report;

pub use crate::diagnostic::Cause;

/// How a cause reads in the listing.
impl Cause {
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
        let Some(name) = n.parameter.as_deref() else {
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
        let cause = n.cause;
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
    use crate::value::Reason;

    #[test]
    fn each_kind_of_unknown_value_has_its_cause() {
        let text = |s: &str| s.to_string();
        let cases = [
            (
                Reason::Parameter {
                    name: text("skuName"),
                },
                Cause::Parameter,
            ),
            (
                Reason::Existing {
                    symbol: text("vnet"),
                },
                Cause::Existing,
            ),
            (
                Reason::Symbolic {
                    text: text("/subscriptions/{subscriptionId}/x"),
                },
                Cause::DeploymentText,
            ),
            (
                Reason::Runtime {
                    function: text("reference"),
                },
                Cause::Runtime,
            ),
            (
                Reason::Environment {
                    what: text("resourceGroup().location"),
                },
                Cause::Environment,
            ),
            (
                Reason::Module {
                    reference: text("br:x"),
                    why: text("is not restored"),
                },
                Cause::Module,
            ),
            (
                Reason::Limit {
                    what: text("evaluation steps"),
                },
                Cause::Limit,
            ),
            (
                Reason::Error {
                    message: text("parameter 'x' is an existing resource"),
                },
                Cause::Unsupported,
            ),
        ];
        for (reason, cause) in cases {
            assert_eq!(Cause::from(&reason), cause, "{reason}");
        }
    }

    #[test]
    fn checks_group_by_their_typed_cause_and_name_their_parameters() {
        let check = |reason: &str, parameter: Option<&str>, cause: Cause| NotEvaluated {
            code: "p".into(),
            span: crate::source::Span::new(crate::source::FileId(0), 0, 1),
            resource: None,
            reason: reason.into(),
            parameter: parameter.map(str::to_string),
            cause,
        };
        let report = Report {
            not_evaluated: vec![
                // The text would read as a parameter; the cause decides.
                check(
                    "depends on parameter 'a', which has no value",
                    None,
                    Cause::Other,
                ),
                check(
                    "the effect depends on parameter 'b', which has no value",
                    None,
                    Cause::Parameter,
                ),
                check(
                    "depends on parameter 'c', which has no value",
                    Some("c"),
                    Cause::Parameter,
                ),
            ],
            ..Report::default()
        };
        let groups = groups(&report);
        let causes: Vec<(Cause, usize)> = groups.iter().map(|g| (g.cause, g.items.len())).collect();
        assert_eq!(causes, vec![(Cause::Parameter, 2), (Cause::Other, 1)]);
        let first = groups.first().expect("a group");
        assert_eq!(parameters(first), vec![("c".to_string(), 1)]);
    }
}
