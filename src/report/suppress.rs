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
use std::collections::{BTreeMap, HashMap, HashSet};

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
    let by_code = ByCode::new(&directives);
    for mut d in diagnostics {
        if Code::UnusedSuppression.is(&d.code) || d.suppression.is_some() {
            kept.push(d);
            continue;
        }
        let mut suppressed: Option<Option<String>> = None;
        for (i, directive) in by_code.candidates(&directives, &d.code) {
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
        for (i, directive) in by_code.candidates(&directives, &n.code) {
            if covers(directive, &n.code, n.span, n.resource.as_ref(), cx.graph) {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
            }
        }
    }
    // Directive codes are lowercase; the known ids once, lowercase, and the nearest known id
    // of each unknown code once (a corpus repeats a few Bicep linter rules thousands of times).
    let known_lower: Option<HashSet<String>> = cx
        .known_codes
        .map(|known| known.iter().map(|k| k.to_ascii_lowercase()).collect());
    let mut ids: Option<Vec<String>> = None;
    let mut unknown: HashMap<&str, Option<Diagnostic>> = HashMap::new();
    for (directive, used) in directives.iter().zip(used) {
        if used {
            continue;
        }
        let Some(code) = &directive.code else {
            continue;
        };
        if let (Some(known), Some(lower)) = (cx.known_codes, &known_lower) {
            if !lower.contains(code) {
                // Not azaudit's: a typo of one of its ids gets a warning, anything else (a Bicep
                // linter rule) is left alone.
                let at = word_span(cx, directive.at, code);
                let found = unknown.entry(code.as_str()).or_insert_with(|| {
                    let ids = ids.get_or_insert_with(|| {
                        known
                            .iter()
                            .cloned()
                            .chain(
                                crate::diagnostic::codes::BUILTIN
                                    .iter()
                                    .map(|c| c.id.to_string()),
                            )
                            .collect()
                    });
                    crate::report::feedback::unknown_suppression(code, at, ids)
                });
                kept.extend(found.clone().map(|d| Diagnostic { span: at, ..d }));
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

/// The directives by code, so that a finding is checked only against the directives naming its
/// code or every code (a corpus has thousands of directives naming Bicep linter rules).
struct ByCode<'d> {
    /// Indices of the directives for every code, in directive order.
    every: Vec<usize>,
    /// Indices of the directives naming a (lowercase) code, in directive order.
    named: HashMap<&'d str, Vec<usize>>,
}

impl<'d> ByCode<'d> {
    fn new(directives: &'d [Directive]) -> ByCode<'d> {
        let mut by = ByCode {
            every: Vec::new(),
            named: HashMap::new(),
        };
        for (i, d) in directives.iter().enumerate() {
            match &d.code {
                None => by.every.push(i),
                Some(code) => by.named.entry(code.as_str()).or_default().push(i),
            }
        }
        by
    }

    /// The directives that may cover a finding of `code`, with their indices, in directive order
    /// (the first covering one's justification is the one given).
    fn candidates<'a>(
        &'a self,
        directives: &'a [Directive],
        code: &str,
    ) -> impl Iterator<Item = (usize, &'a Directive)> + 'a {
        let named = if code.bytes().any(|b| b.is_ascii_uppercase()) {
            self.named.get(code.to_ascii_lowercase().as_str())
        } else {
            self.named.get(code)
        };
        let named: &[usize] = named.map_or(&[], Vec::as_slice);
        let mut indices: Vec<usize> = Vec::with_capacity(self.every.len() + named.len());
        indices.extend_from_slice(&self.every);
        indices.extend_from_slice(named);
        if !self.every.is_empty() && !named.is_empty() {
            indices.sort_unstable();
        }
        indices
            .into_iter()
            .filter_map(move |i| Some((i, directives.get(i)?)))
    }
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
    use crate::graph::Resource;
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
            symbol: Some("apim".into()),
            head_span: span(66, 120),
            suppress,
            ..Resource::declared(
                "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/apim",
                "Microsoft.ApiManagement/service",
                "apim",
                span(66, BICEP.len()),
                Value::null(),
            )
        }
    }

    fn diag(code: &str, at: Span) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, at, "bad")
    }

    fn ids(list: &[&str]) -> HashSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// A context with `known` ids and no undecided checks.
    fn context<'a>(
        templates: &'a [&'a Template],
        graph: &'a ResourceGraph,
        sources: &'a SourceMap,
        known: &'a HashSet<String>,
    ) -> Context<'a> {
        Context {
            templates,
            graph,
            sources,
            known_codes: Some(known),
            undecided: &[],
        }
    }

    #[test]
    fn next_line_suppression_drops_and_reports_unused_codes() {
        let sources = sources();
        let t = template();
        let graph = ResourceGraph::default();
        let known = ids(&["apim-subnet-nsg", "other-policy"]);
        let templates = [&t];
        let cx = context(&templates, &graph, &sources, &known);
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

    /// The first covering directive in source order gives the justification, whether it names
    /// the code or every code; each directive naming a near-miss of a known id is reported at
    /// its own place.
    #[test]
    fn first_covering_directive_in_order_gives_the_reason() {
        let sources = sources();
        let mut t = Template::empty(FileId(0), Language::Bicep);
        let directive = |start: usize, code: &str, why: Option<&str>| ModelSuppression {
            span: span(start, start + 5),
            codes: vec![code.into()],
            covers: span(66, 200),
            starts_inside: true,
            justification: why.map(str::to_string),
        };
        t.suppressions.push(directive(0, "policy-a", None));
        t.suppressions
            .push(directive(5, "policy-a", Some("policy a")));
        t.suppressions
            .push(directive(10, "*", Some("every policy")));
        t.suppressions
            .push(directive(15, "policy-b", Some("policy b")));
        t.suppressions.push(directive(20, "*", Some("late")));
        t.suppressions.push(directive(25, "polcy-c", None));
        t.suppressions.push(directive(30, "polcy-c", None));
        let graph = ResourceGraph::default();
        let known = ids(&["policy-a", "policy-b", "policy-c"]);
        let templates = [&t];
        let cx = context(&templates, &graph, &sources, &known);
        let (kept, suppressed) = partition(
            vec![
                diag("POLICY-A", span(80, 81)),
                diag("policy-b", span(90, 91)),
            ],
            &cx,
        );
        let why: Vec<Option<&str>> = suppressed
            .iter()
            .map(|d| {
                d.suppression
                    .as_ref()
                    .and_then(|s| s.justification.as_deref())
            })
            .collect();
        assert_eq!(why, vec![Some("policy a"), Some("every policy")]);
        let typos: Vec<(u32, &str)> = kept
            .iter()
            .map(|d| (d.span.start, d.message.as_str()))
            .collect();
        let message = "unknown policy `polcy-c` in a suppression; did you mean `policy-c`?";
        assert_eq!(typos, vec![(25, message), (30, message)]);
    }
}
