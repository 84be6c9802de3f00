//! Suppressions: drops diagnostics covered by `#disable-next-line`, `#disable-diagnostics` regions
//! and resource-wide suppressions, and reports each directive code that suppressed nothing as an
//! `unused-suppression` info diagnostic at the directive.

use crate::diagnostic::codes::Code;
use crate::diagnostic::{
    Diagnostic, NotEvaluated, ResourceRef, Severity, Suppression, SuppressionKind,
};
use crate::graph::ResourceGraph;
use crate::model::Template;
use crate::source::{SourceMap, Span};
use std::collections::{BTreeMap, HashSet};

/// What suppression needs to know besides the diagnostics.
pub struct Context<'a> {
    /// The audited files' template models (their line and region suppressions).
    pub templates: &'a [&'a Template],
    /// The resource graph (its resources' resource-wide suppressions and spans).
    pub graph: &'a ResourceGraph,
    /// The files, to quote a directive in the `unused-suppression` message.
    pub sources: &'a SourceMap,
    /// Codes an unused directive is reported for (azaudit's policy ids and built-in codes). A
    /// directive naming another code (a Bicep linter rule) is never reported. `None`: all codes.
    pub known_codes: Option<&'a HashSet<String>>,
    /// Policies that could not be decided: a directive covering one counts as used.
    pub undecided: &'a [NotEvaluated],
}

/// Where a directive applies.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Diagnostics starting inside this span.
    Range(Span),
    /// Diagnostics about graph resource `idx` (or starting inside its declaration).
    Resource(usize),
}

#[derive(Debug)]
struct Directive {
    /// The directive's span.
    at: Span,
    /// Lowercase policy id; `None` for every policy.
    code: Option<String>,
    scope: Scope,
    /// The reason given with the directive.
    justification: Option<String>,
}

/// The diagnostics that no suppression covers, plus one `unused-suppression` info diagnostic per
/// directive code that covered nothing, sorted by file, position and code.
pub fn apply(diagnostics: Vec<Diagnostic>, cx: &Context<'_>) -> Vec<Diagnostic> {
    partition(diagnostics, cx).0
}

/// [`apply`], and the diagnostics it suppressed, each with its [`Diagnostic::suppression`] set
/// (the justification of the first covering directive that gives one).
pub fn partition(
    diagnostics: Vec<Diagnostic>,
    cx: &Context<'_>,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let directives = directives(cx);
    let mut used = vec![false; directives.len()];
    let mut kept = Vec::with_capacity(diagnostics.len());
    let mut suppressed_ones = Vec::new();
    for mut d in diagnostics {
        if Code::UnusedSuppression.is(&d.code) || d.suppression.is_some() {
            kept.push(d);
            continue;
        }
        let mut suppressed: Option<Option<String>> = None;
        for (i, directive) in directives.iter().enumerate() {
            if covers(directive, &d.code, d.span, d.resource.as_ref(), cx.graph) {
                let why = suppressed.get_or_insert(None);
                if why.is_none() {
                    why.clone_from(&directive.justification);
                }
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
            }
        }
        match suppressed {
            Some(justification) => {
                d.suppression = Some(Suppression {
                    kind: SuppressionKind::InSource,
                    justification,
                });
                suppressed_ones.push(d);
            }
            None => kept.push(d),
        }
    }
    for n in cx.undecided {
        for (i, directive) in directives.iter().enumerate() {
            if covers(directive, &n.code, n.span, n.resource.as_ref(), cx.graph) {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
            }
        }
    }
    for (directive, used) in directives.iter().zip(used) {
        if used {
            continue;
        }
        let Some(code) = &directive.code else {
            continue;
        };
        if let Some(known) = cx.known_codes {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(code)) {
                // Not azaudit's: a typo of one of its ids gets a warning, anything else (a Bicep
                // linter rule) is left alone.
                let ids: Vec<String> = known
                    .iter()
                    .cloned()
                    .chain(
                        crate::diagnostic::codes::BUILTIN
                            .iter()
                            .map(|c| c.id.to_string()),
                    )
                    .collect();
                kept.extend(crate::report::feedback::unknown_suppression(
                    code,
                    word_span(cx, directive.at, code),
                    &ids,
                ));
                continue;
            }
        }
        kept.push(
            Diagnostic::new(
                Code::UnusedSuppression,
                Severity::Info,
                directive.at,
                unused_message(cx, directive.at, code),
            )
            .with_help("remove the suppression, or the policy id it names"),
        );
    }
    kept.sort_by(|a, b| {
        (a.span.file, a.span.start, a.span.end, &a.code).cmp(&(
            b.span.file,
            b.span.start,
            b.span.end,
            &b.code,
        ))
    });
    (kept, suppressed_ones)
}

/// [`apply`] on a whole report: its diagnostics, graph, sources and undecided policies.
pub fn apply_to_report(
    report: &mut crate::report::Report,
    templates: &[&Template],
    known_codes: Option<&HashSet<String>>,
) {
    let diagnostics = std::mem::take(&mut report.diagnostics);
    let cx = Context {
        templates,
        graph: &report.graph,
        sources: &report.sources,
        known_codes,
        undecided: &report.not_evaluated,
    };
    let (kept, suppressed) = partition(diagnostics, &cx);
    report.diagnostics = kept;
    report.suppressed.extend(suppressed);
}

/// Every (directive, code) once, in source order.
fn directives(cx: &Context<'_>) -> Vec<Directive> {
    // Keyed by (directive span, code) so a resource-wide directive listed both on the template and
    // on its graph resource counts once; the resource scope wins.
    let mut by_key: BTreeMap<(Span, Option<String>), Scope> = BTreeMap::new();
    // The justification of each directive, by the directive's span.
    let mut reasons: Vec<(Span, &str)> = Vec::new();
    for template in cx.templates {
        for s in &template.suppressions {
            if let Some(j) = &s.justification {
                reasons.push((s.span, j.as_str()));
            }
            let codes: Vec<Option<String>> = if s.codes.is_empty() {
                vec![None]
            } else {
                s.codes.iter().map(|c| normalize(c)).collect()
            };
            for code in codes {
                by_key
                    .entry((s.span, code))
                    .or_insert(Scope::Range(s.covers));
            }
        }
    }
    for (idx, resource) in cx.graph.resources.iter().enumerate() {
        for (code, at) in &resource.suppress {
            by_key.insert((*at, normalize(code)), Scope::Resource(idx));
        }
    }
    // A resource-wide directive's span is the directive (Bicep) or one id inside the `suppress`
    // array (ARM): the template's suppression at or around it has the reason.
    let reason_of = |at: Span| {
        reasons
            .iter()
            .find(|(s, _)| s.file == at.file && s.start <= at.start && at.end <= s.end)
            .map(|(_, j)| (*j).to_string())
    };
    by_key
        .into_iter()
        .map(|((at, code), scope)| Directive {
            at,
            code,
            scope,
            justification: reason_of(at),
        })
        .collect()
}

/// `None` for `*` (every policy); otherwise the lowercase id.
fn normalize(code: &str) -> Option<String> {
    let code = code.trim();
    if code == "*" || code.is_empty() {
        None
    } else {
        Some(code.to_ascii_lowercase())
    }
}

fn covers(
    directive: &Directive,
    code: &str,
    span: Span,
    resource: Option<&ResourceRef>,
    graph: &ResourceGraph,
) -> bool {
    if let Some(wanted) = &directive.code {
        if !wanted.eq_ignore_ascii_case(code) {
            return false;
        }
    }
    match directive.scope {
        Scope::Range(covers) => inside(covers, span),
        Scope::Resource(idx) => {
            let Some(r) = graph.resources.get(idx) else {
                return false;
            };
            let about = resource.is_some_and(|rr| {
                rr.type_name.eq_ignore_ascii_case(&r.type_name)
                    && rr.name.eq_ignore_ascii_case(&r.name)
            });
            about || inside(r.span, span)
        }
    }
}

/// Whether `span` starts inside `covers` (same file).
fn inside(covers: Span, span: Span) -> bool {
    covers.file == span.file
        && covers.start <= span.start
        && span.start < covers.end.max(covers.start + 1)
}

/// The span of `word` inside the directive at `at` (case-insensitive), else `at`.
fn word_span(cx: &Context<'_>, at: Span, word: &str) -> Span {
    let text = cx.sources.get(at.file).map(|f| f.slice(at)).unwrap_or("");
    match text.to_ascii_lowercase().find(&word.to_ascii_lowercase()) {
        Some(i) => {
            let start = at.start as usize + i;
            Span::new(at.file, start, start + word.len())
        }
        None => at,
    }
}

/// "`#disable-next-line apim-subnet-nsg` suppresses nothing", or for a directive that is not a
/// `#` comment (ARM metadata): "suppression of `apim-subnet-nsg` suppresses nothing".
fn unused_message(cx: &Context<'_>, at: Span, code: &str) -> String {
    let text = cx.sources.get(at.file).map(|f| f.slice(at)).unwrap_or("");
    let keyword = text.split_whitespace().next().unwrap_or("");
    if keyword.starts_with('#') && keyword.len() > 1 {
        format!("`{keyword} {code}` suppresses nothing")
    } else {
        format!("suppression of `{code}` suppresses nothing")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Suppression;
    use crate::graph::{Deployed, Origin, Resource};
    use crate::model::{Language, Suppression as ModelSuppression};
    use crate::source::FileId;
    use crate::value::Value;

    const BICEP: &str = "#disable-next-line apim-subnet-nsg no-unused-params other-policy\nresource apim 'Microsoft.ApiManagement/service@2023-05-01' = {\n  name: 'apim'\n}\n";

    fn sources() -> SourceMap {
        let mut map = SourceMap::new();
        map.add("main.bicep".into(), BICEP);
        map
    }

    fn span(start: usize, end: usize) -> Span {
        Span::new(FileId(0), start, end)
    }

    fn template() -> Template {
        let mut t = Template::empty(FileId(0), Language::Bicep);
        let line_end = BICEP.find('\n').unwrap_or(0);
        let next_end = BICEP
            .get(line_end + 1..)
            .and_then(|s| s.find('\n'))
            .unwrap_or(0)
            + line_end
            + 1;
        t.suppressions.push(ModelSuppression {
            span: span(0, line_end),
            codes: vec![
                "apim-subnet-nsg".into(),
                "no-unused-params".into(),
                "other-policy".into(),
            ],
            covers: span(line_end + 1, next_end),
            starts_inside: true,
            justification: Some("the subnet is shared on purpose".into()),
        });
        t
    }

    fn resource(suppress: Vec<(String, Span)>) -> Resource {
        Resource {
            id: "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/apim".into(),
            type_name: "Microsoft.ApiManagement/service".into(),
            api_version: None,
            name: "apim".into(),
            symbol: Some("apim".into()),
            file: FileId(0),
            span: span(66, BICEP.len()),
            head_span: span(66, 120),
            existing: false,
            body: Value::null(),
            parent: None,
            origin: Origin::Declared,
            deployed: Deployed::Yes,
            suppress,
            module_chain: Vec::new(),
        }
    }

    fn diag(code: &str, at: Span) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, at, "bad")
    }

    #[test]
    fn next_line_suppression_drops_and_reports_unused_codes() {
        let sources = sources();
        let t = template();
        let graph = ResourceGraph::default();
        let known: HashSet<String> = ["apim-subnet-nsg", "other-policy"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cx = Context {
            templates: &[&t],
            graph: &graph,
            sources: &sources,
            known_codes: Some(&known),
            undecided: &[],
        };
        let on_next_line = diag("APIM-subnet-nsg", span(70, 74));
        let elsewhere = diag("apim-subnet-nsg", span(130, 134));
        let out = apply(vec![on_next_line, elsewhere.clone()], &cx);
        // Kept: the diagnostic outside the covered line; reported: `other-policy` (known, unused).
        // `no-unused-params` is a Bicep linter rule: never reported.
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(
            out.first().map(|d| d.code.as_str()),
            Some(Code::UnusedSuppression.id())
        );
        assert_eq!(
            out.first().map(|d| d.message.as_str()),
            Some("`#disable-next-line other-policy` suppresses nothing")
        );
        assert_eq!(out.get(1), Some(&elsewhere));
    }

    #[test]
    fn resource_wide_suppression_matches_by_resource_or_span() {
        let sources = sources();
        let directive = span(0, 18);
        let graph = ResourceGraph {
            resources: vec![resource(vec![
                ("policy-a".into(), directive),
                ("policy-b".into(), directive),
                ("policy-c".into(), directive),
            ])],
            ..ResourceGraph::default()
        };
        let cx = Context {
            templates: &[],
            graph: &graph,
            sources: &sources,
            known_codes: None,
            undecided: &[],
        };
        // About the resource, but reported elsewhere (a linked subnet's file): suppressed.
        let mut by_ref = diag("policy-a", Span::new(FileId(7), 0, 1));
        by_ref.resource = Some(
            graph
                .resources
                .first()
                .map(Resource::reference)
                .unwrap_or_else(|| unreachable!()),
        );
        // Inside the declaration: suppressed.
        let by_span = diag("policy-b", span(100, 101));
        let out = apply(vec![by_ref, by_span], &cx);
        assert_eq!(out.len(), 1, "{out:#?}");
        let unused = out
            .first()
            .map(|d| (d.code.as_str(), d.message.as_str(), d.severity));
        assert_eq!(
            unused,
            Some((
                Code::UnusedSuppression.id(),
                "`#disable-next-line policy-c` suppresses nothing",
                Severity::Info
            ))
        );
    }

    #[test]
    fn applies_to_a_report() {
        let t = template();
        let mut report = crate::report::Report {
            sources: sources(),
            ..Default::default()
        };
        report.diagnostics = vec![diag("apim-subnet-nsg", span(70, 74))];
        let known: HashSet<String> = ["apim-subnet-nsg".to_string()].into();
        apply_to_report(&mut report, &[&t], Some(&known));
        assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
        // Kept as suppressed, with the directive's reason.
        let kept: Vec<_> = report
            .suppressed
            .iter()
            .map(|d| (d.code.as_str(), d.suppression.clone()))
            .collect();
        assert_eq!(
            kept,
            vec![(
                "apim-subnet-nsg",
                Some(Suppression {
                    kind: SuppressionKind::InSource,
                    justification: Some("the subnet is shared on purpose".into())
                })
            )]
        );
    }

    #[test]
    fn wildcard_and_undecided_count_as_used() {
        let sources = sources();
        let mut t = Template::empty(FileId(0), Language::ArmTemplate);
        t.suppressions.push(ModelSuppression {
            span: span(0, 5),
            codes: vec!["*".into()],
            covers: span(66, 200),
            starts_inside: true,
            justification: None,
        });
        t.suppressions.push(ModelSuppression {
            span: span(5, 10),
            codes: vec!["undecided-policy".into()],
            covers: span(66, 200),
            starts_inside: true,
            justification: None,
        });
        let graph = ResourceGraph::default();
        let undecided = vec![NotEvaluated {
            code: "undecided-policy".into(),
            span: span(80, 81),
            resource: None,
            reason: "parameter 'x' has no value".into(),
            parameter: Some("x".into()),
            cause: crate::diagnostic::Cause::Parameter,
        }];
        let cx = Context {
            templates: &[&t],
            graph: &graph,
            sources: &sources,
            known_codes: None,
            undecided: &undecided,
        };
        let out = apply(
            vec![
                diag("anything", span(90, 91)),
                diag("anything", span(10, 11)),
            ],
            &cx,
        );
        assert_eq!(out, vec![diag("anything", span(10, 11))]);
    }
}
