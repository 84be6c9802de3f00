//! Deciding every (policy, resource) pair of a resource graph: links for existence effects,
//! diagnostics at the deciding property, message templates.

use super::definition::{Candidate, Input, LinkAnswer, LinkQuery, Verdict};
use super::rule::FieldPath;
use super::rule::Undecided;
use super::{effect_level, EvalOptions, Outcome, Policy, PolicySet};
use crate::diagnostic::{Cause, Diagnostic, Level, NotEvaluated, RelatedKind};
use crate::graph::links::{deployment_of, same_deployment, IdIndex};
use crate::graph::{names, Resource, ResourceGraph, ResourceIdx};
use crate::value::{Kind, Value};
use rayon::prelude::*;
use std::collections::HashMap;

type Params = Result<HashMap<String, Value>, String>;

enum Found {
    Diagnostic(Diagnostic),
    NotEvaluated(NotEvaluated),
}

/// Decides every policy for every audited resource (resources with `existing: true` are only
/// link targets) and returns sorted diagnostics and undecided pairs.
pub fn evaluate(set: &PolicySet, graph: &ResourceGraph, options: &EvalOptions) -> Outcome {
    let env = &options.env;
    let aliases = set.aliases();
    // The type index: a resource meets only the policies whose `if` can match its type.
    let audited: Vec<ResourceIdx> = graph
        .resources
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.existing)
        .map(|(i, _)| i)
        .collect();
    let mut by_type: HashMap<String, Vec<ResourceIdx>> = HashMap::new();
    for &i in &audited {
        if let Some(r) = graph.resources.get(i) {
            by_type
                .entry(r.type_name.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
    }
    let all_by_type = Index::new(graph).with_ids(graph);
    // Per policy: the resources it meets and its parameters, computed once, and only for a
    // policy that meets one (a deployment group meets few of the policies' types).
    let prepared: Vec<(usize, Params, Vec<ResourceIdx>)> = set
        .policies()
        .iter()
        .enumerate()
        .filter(|(_, p)| configured_level(p, options) != Some(Level::Off))
        .filter_map(|(i, p)| {
            let resources: Vec<ResourceIdx> = match p.definition.types.as_ref() {
                None => audited.clone(),
                Some(types) => types
                    .iter()
                    .filter_map(|t| by_type.get(t))
                    .flatten()
                    .copied()
                    .collect(),
            };
            if resources.is_empty() {
                return None;
            }
            let params = match &p.assignment {
                // An assignment's values are resolved when it is loaded.
                Some(a) => Ok(a.params.clone()),
                None => p.definition.parameter_values(options.parameters.get(&p.id)),
            };
            Some((i, params, resources))
        })
        .collect();
    let pairs: Vec<(usize, &Params, ResourceIdx)> = prepared
        .iter()
        .flat_map(|(pi, params, resources)| resources.iter().map(move |ri| (*pi, params, *ri)))
        .collect();
    let kids = child_index(graph);
    let found: Vec<Found> = pairs
        .par_iter()
        .flat_map_iter(|(pi, params, ri)| {
            let (Some(policy), Some(resource)) =
                (set.policies().get(*pi), graph.resources.get(*ri))
            else {
                return Vec::new();
            };
            let params = match params {
                Ok(p) => p,
                Err(e) => {
                    return vec![Found::NotEvaluated(NotEvaluated {
                        code: policy.id.clone(),
                        span: resource.head_span,
                        resource: Some(resource.reference()),
                        reason: e.clone(),
                        parameter: None,
                        cause: Cause::Other,
                    })]
                }
            };
            let input = Input {
                resource: &resource.body,
                params,
                aliases,
                env,
                details: false,
            };
            let lookup = |q: &LinkQuery| link(graph, &kids, &all_by_type, *ri, q);
            let verdict = policy.definition.decide(&input, &lookup);
            match verdict {
                Verdict::Several(all) => all
                    .into_iter()
                    .filter_map(|v| report(policy, graph, resource, v, options))
                    .collect(),
                v => report(policy, graph, resource, v, options)
                    .into_iter()
                    .collect(),
            }
        })
        .collect();
    let mut out = Outcome {
        lookups: all_by_type.lookups.into_inner().unwrap_or_default(),
        ..Outcome::default()
    };
    out.lookups.sort();
    out.lookups.dedup();
    for f in found {
        match f {
            Found::Diagnostic(d) => out.diagnostics.push(d),
            Found::NotEvaluated(n) => out.not_evaluated.push(n),
        }
    }
    out.diagnostics.sort();
    out.diagnostics.dedup();
    out.not_evaluated.sort();
    out.not_evaluated.dedup();
    out
}

fn configured_level(p: &Policy, options: &EvalOptions) -> Option<Level> {
    options.levels.get(&p.id).copied().or(p.level_override)
}

fn report(
    policy: &Policy,
    graph: &ResourceGraph,
    resource: &Resource,
    verdict: Verdict,
    options: &EvalOptions,
) -> Option<Found> {
    match verdict {
        Verdict::Compliant | Verdict::Several(_) => None,
        Verdict::Unknown { reason, span } => Some(Found::NotEvaluated(NotEvaluated {
            code: policy.id.clone(),
            span: span.unwrap_or(resource.head_span),
            resource: Some(resource.reference()),
            reason: reason.text,
            parameter: reason.parameter,
            cause: reason.cause,
        })),
        Verdict::Applies {
            effect,
            span,
            linked,
            linked_span,
            ..
        } => {
            let level = configured_level(policy, options).unwrap_or_else(|| effect_level(&effect));
            let severity = level.severity()?;
            let linked_res = linked.and_then(|i| graph.resources.get(i));
            let message = render_message(policy, resource, linked_res, &effect, graph);
            // An existence check that failed on a linked resource points at what is wrong there:
            // the deciding value, else the linked resource's declaration. The property of the
            // evaluated resource that links to it becomes a related location.
            let location = match linked_res {
                Some(l) => linked_span
                    .filter(|s| {
                        s.file == l.span.file && s.start >= l.span.start && s.end <= l.span.end
                    })
                    .unwrap_or(l.head_span),
                None => span.unwrap_or(resource.head_span),
            };
            let mut d = Diagnostic::new(policy.id.clone(), severity, location, message);
            d.resource = Some(resource.reference());
            if let Some(h) = &policy.help {
                d = d.with_help(h.clone());
            }
            if let Some(l) = linked_res {
                let noun = type_noun(&resource.type_name);
                d = d.with_related(
                    span.unwrap_or(resource.head_span),
                    RelatedKind::LinksToIt(format!("{noun} {}", names::quoted(resource))),
                );
                if location != l.head_span {
                    d = d.with_related(
                        l.head_span,
                        RelatedKind::Declared(format!(
                            "{} {}",
                            type_noun(&l.type_name),
                            names::quoted(l)
                        )),
                    );
                }
            } else if span.is_some() && span != Some(resource.head_span) {
                d = d.with_related(resource.head_span, RelatedKind::In(names::quoted(resource)));
            }
            // A deciding value set elsewhere (a parameter file, a module call): shown too.
            if let (Some(l), Some(ls)) = (linked_res, linked_span) {
                let inside =
                    ls.file == l.span.file && ls.start >= l.span.start && ls.end <= l.span.end;
                if !inside && ls != location {
                    d = d.with_related(ls, RelatedKind::DecidingValue);
                }
            }
            for m in &resource.module_chain {
                d = d.with_related(*m, RelatedKind::Module);
            }
            Some(Found::Diagnostic(d))
        }
    }
}

/// `Microsoft.Network/virtualNetworks/subnets` → `subnet`.
fn type_noun(type_name: &str) -> String {
    if type_name.eq_ignore_ascii_case("Microsoft.ApiManagement/service") {
        return "API Management".into();
    }
    names::type_words(type_name)
}

/// Expands `{resource.name}`, `{resource.type}`, `{resource.symbol}`, `{resource.id}`,
/// `{linked.name}`, `{linked.type}`, `{linked.id}`, `{policy.id}`, `{policy.title}`, `{effect}`
/// and `{field:<field or alias>}`; unknown placeholders stay as written.
pub fn render_message(
    policy: &Policy,
    resource: &Resource,
    linked: Option<&Resource>,
    effect: &str,
    graph: &ResourceGraph,
) -> String {
    if let Some(a) = &policy.assignment {
        return a.message.clone();
    }
    let Some(template) = &policy.message else {
        return if policy.title.is_empty() {
            format!("policy '{}' applies ({effect})", policy.id)
        } else {
            lower_first(policy.title.trim_end_matches('.'))
        };
    };
    let mut out = String::new();
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open).unwrap_or(""));
        let after = rest.get(open + 1..).unwrap_or("");
        let Some(close) = after.find('}') else {
            out.push_str(rest.get(open..).unwrap_or(""));
            rest = "";
            break;
        };
        let key = after.get(..close).unwrap_or("");
        // A quoted name that is not known text reads `'symbol' (name{placeholder(…)})`.
        let named = match key {
            "resource.name" => Some(resource),
            "linked.name" => linked,
            _ => None,
        };
        if let Some(r) = named.filter(|r| r.name.contains('{')) {
            let tail = after.get(close + 1..).unwrap_or("");
            match (out.strip_suffix('\''), tail.strip_prefix('\'')) {
                (Some(head), Some(tail)) => {
                    out.truncate(head.len());
                    out.push_str(&names::quoted(r));
                    rest = tail;
                }
                _ => {
                    out.push_str(&names::abbreviate(&r.name));
                    rest = tail;
                }
            }
            continue;
        }
        match placeholder(key, policy, resource, linked, effect, graph) {
            Some(v) => out.push_str(&v),
            None => {
                out.push('{');
                out.push_str(key);
                out.push('}');
            }
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The first letter lowercase unless the word is an acronym (`Subnets should` → `subnets should`).
pub(super) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if c.clone().next().is_some_and(|n| n.is_lowercase()) => {
            f.to_lowercase().chain(c).collect()
        }
        Some(f) => std::iter::once(f).chain(c).collect(),
        None => String::new(),
    }
}

fn placeholder(
    key: &str,
    policy: &Policy,
    resource: &Resource,
    linked: Option<&Resource>,
    effect: &str,
    graph: &ResourceGraph,
) -> Option<String> {
    let read = |body: &Value, field: &str| -> String {
        let path = FieldPath::resolve(field.trim(), super::AliasTable::builtin());
        let params = HashMap::new();
        let env = HashMap::new();
        let ctx = super::rule::Ctx::new(body, &params, super::AliasTable::builtin(), &env);
        match ctx.read(&path) {
            super::rule::Read::One(Some(v)) => v.to_string(),
            super::rule::Read::One(None) => "(not set)".into(),
            super::rule::Read::Many(items) => Value::array(items).to_string(),
        }
    };
    if let Some(field) = key.strip_prefix("field:") {
        return Some(read(&resource.body, field));
    }
    if let Some(field) = key.strip_prefix("linked.field:") {
        return Some(read(&linked?.body, field));
    }
    if let Some(expr) = key.strip_prefix("linked.expr:") {
        // A template expression in the scope of the existence condition: `relatedField()`,
        // `relatedChildren()` and `referencedBy()` read the linked resource, `field()` the
        // evaluated one. Without a linked resource (the effect applied on the resource itself),
        // nothing.
        let Some(linked) = linked else {
            return Some(String::new());
        };
        let idx = graph
            .resources
            .iter()
            .position(|r| std::ptr::eq(r, linked))?;
        let operand =
            super::expression::Operand::compile(&serde_json::Value::String(expr.trim().into()))
                .ok()?;
        let params = HashMap::new();
        let env = HashMap::new();
        let kids = children(graph, &child_index(graph), idx);
        let refs = referrers(graph, &Index::new(graph), idx);
        let ctx = super::rule::Ctx::new(&linked.body, &params, super::AliasTable::builtin(), &env)
            .with_expr_resource(&resource.body)
            .with_referrers(&refs)
            .with_children(&kids);
        return operand.eval(&ctx).ok().map(|v| match v.kind {
            Kind::String(s) => s,
            _ => v.to_string(),
        });
    }
    if let Some(expr) = key.strip_prefix("expr:") {
        // A template expression over the evaluated resource (`[if(…, 'a', 'b')]`).
        let operand =
            super::expression::Operand::compile(&serde_json::Value::String(expr.trim().into()))
                .ok()?;
        let params = HashMap::new();
        let env = HashMap::new();
        let ctx =
            super::rule::Ctx::new(&resource.body, &params, super::AliasTable::builtin(), &env);
        return operand.eval(&ctx).ok().map(|v| v.to_string());
    }
    Some(match key {
        "resource.name" => resource.name.clone(),
        "resource.type" => resource.type_name.clone(),
        "resource.symbol" => resource
            .symbol
            .clone()
            .unwrap_or_else(|| resource.name.clone()),
        "resource.id" => resource.id.clone(),
        "linked.name" => linked?.name.clone(),
        "linked.type" => linked?.type_name.clone(),
        "linked.id" => linked?.id.clone(),
        "policy.id" => policy.id.clone(),
        "policy.title" => policy.title.clone(),
        "effect" => effect.to_string(),
        _ => return None,
    })
}

/// Answers an existence query from the graph.
/// Existence checks look resources up by type (every resource, `existing` ones too) and follow
/// edges; both are indexed once per evaluation (a scan per pair is quadratic over a corpus).
struct Index<'g> {
    by_type: HashMap<String, Vec<ResourceIdx>>,
    out: Vec<Vec<&'g crate::graph::Edge>>,
    inn: Vec<Vec<&'g crate::graph::Edge>>,
    /// Resources by id, for the linking rule (`details.resourceId`, `follow`); empty unless
    /// built with [`Index::with_ids`].
    ids: IdIndex,
    /// The ids looked up in `ids`, with the resource each was looked up from (see
    /// [`Outcome::lookups`]).
    lookups: std::sync::Mutex<Vec<(ResourceIdx, String)>>,
}

impl<'g> Index<'g> {
    fn new(graph: &'g ResourceGraph) -> Index<'g> {
        let mut by_type: HashMap<String, Vec<ResourceIdx>> = HashMap::new();
        for (i, r) in graph.resources.iter().enumerate() {
            by_type
                .entry(r.type_name.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
        let n = graph.resources.len();
        let mut out = vec![Vec::new(); n];
        let mut inn = vec![Vec::new(); n];
        for e in &graph.edges {
            if let Some(v) = out.get_mut(e.from) {
                v.push(e);
            }
            if let Some(v) = inn.get_mut(e.to) {
                v.push(e);
            }
        }
        Index {
            by_type,
            out,
            inn,
            ids: IdIndex::default(),
            lookups: std::sync::Mutex::default(),
        }
    }

    /// Also indexes the resources by id.
    fn with_ids(mut self, graph: &ResourceGraph) -> Index<'g> {
        self.ids = IdIndex::new(&graph.resources);
        self
    }

    /// The resource `from` names with `id` by the linking rule, the look-up noted.
    fn find(&self, from: ResourceIdx, id: &str) -> Option<ResourceIdx> {
        if let Ok(mut seen) = self.lookups.lock() {
            seen.push((from, id.to_string()));
        }
        self.ids.find(from, id)
    }

    fn edges_from(&self, i: ResourceIdx) -> impl Iterator<Item = &&'g crate::graph::Edge> {
        self.out.get(i).into_iter().flatten()
    }

    fn edges_to(&self, i: ResourceIdx) -> impl Iterator<Item = &&'g crate::graph::Edge> {
        self.inn.get(i).into_iter().flatten()
    }
}

fn link(
    graph: &ResourceGraph,
    kids: &Kids,
    index: &Index<'_>,
    from: ResourceIdx,
    q: &LinkQuery,
) -> LinkAnswer {
    if let Some(id) = &q.resource_id {
        let text = id.as_text().map(str::to_string);
        return match (&id.kind, text) {
            (Kind::Null, _) => LinkAnswer::Found(Vec::new()),
            (Kind::Unknown(r), None) => LinkAnswer::Unknown(Undecided::because(
                format!("the linked resource id {}", super::rule::depends_on(r)),
                r,
            )),
            (_, Some(s)) => match index.find(from, &s) {
                Some(i) => follow(graph, kids, index, i, &q.follow),
                None => LinkAnswer::Unknown(
                    format!(
                        "the {} '{}' is not declared in the audited templates",
                        id_noun(&s),
                        s
                    )
                    .into(),
                ),
            },
            _ => {
                LinkAnswer::Unknown(format!("the linked resource id `{id}` is not a string").into())
            }
        };
    }
    let Some(from_res) = graph.resources.get(from) else {
        return LinkAnswer::Found(Vec::new());
    };
    let Some(want_type) = &q.type_name else {
        return LinkAnswer::Found(Vec::new());
    };
    let child_type = want_type
        .to_ascii_lowercase()
        .starts_with(&format!("{}/", from_res.type_name.to_ascii_lowercase()));
    let of_type: Vec<(ResourceIdx, &Resource)> = index
        .by_type
        .get(&want_type.to_ascii_lowercase())
        .into_iter()
        .flatten()
        .filter_map(|&i| Some((i, graph.resources.get(i)?)))
        // The same deployment: its entry file and the modules it deploys (or what it links to).
        // Another template in the repository is another deployment, unless the graph linked the
        // two.
        .filter(|(i, r)| {
            same_deployment(r, from_res)
                || index.edges_from(*i).any(|e| e.to == from)
                || index.edges_from(from).any(|e| e.to == *i)
        })
        .filter(|(_, r)| match &q.name {
            Some(n) => {
                let last = r.name.rsplit('/').next().unwrap_or(&r.name);
                last.eq_ignore_ascii_case(n) || r.name.eq_ignore_ascii_case(n)
            }
            None => true,
        })
        .collect();
    // `details.resourceGroupName`: the related resource is looked for in that resource group
    // (Network Watchers in `NetworkWatcherRG`); one the audited templates don't deploy there
    // can't be known.
    if let Some(rg) = &q.resource_group {
        let marker = format!("/resourcegroups/{}/", rg.to_ascii_lowercase());
        let in_rg: Vec<(ResourceIdx, &Resource)> = of_type
            .iter()
            .filter(|(_, r)| r.id.to_ascii_lowercase().contains(&marker))
            .copied()
            .collect();
        if in_rg.is_empty() {
            return LinkAnswer::Unknown(
                format!(
                    "the {} is looked for in resource group '{rg}', which the audited templates don't deploy to",
                    type_noun(want_type)
                )
                .into(),
            );
        }
        return LinkAnswer::Found(candidates(graph, kids, index, in_rg, true));
    }
    let prefix = format!("{}/", from_res.name.to_ascii_lowercase());
    let linked: Vec<(ResourceIdx, &Resource)> = of_type
        .iter()
        .filter(|(i, r)| {
            r.parent == Some(from)
                || r.name.to_ascii_lowercase().starts_with(&prefix)
                || index.edges_from(*i).any(|e| e.to == from)
        })
        .copied()
        .collect();
    // Resources of the type that are not related to this one are candidates, but not the place
    // of a failure: a diagnostic then points at the evaluated resource.
    let related = child_type || !linked.is_empty();
    let chosen = if related { linked } else { of_type };
    // Another deployment that references this resource as `existing` may deploy what it needs.
    if chosen.is_empty() {
        // A record Azure writes when it assesses the deployed resource: unless the deployment
        // writes one itself, it is known only after deployment.
        if let Some(who) = super::platform::assessed_by(want_type) {
            return LinkAnswer::Unknown(Undecided::new(
                format!(
                    "the {} is written by {who} once the resource is deployed",
                    type_noun(want_type)
                ),
                Cause::Runtime,
            ));
        }
        let elsewhere = kids
            .existing
            .iter()
            .filter_map(|i| graph.resources.get(*i))
            .any(|r| {
                r.type_name.eq_ignore_ascii_case(&from_res.type_name)
                    && r.name.eq_ignore_ascii_case(&from_res.name)
                    && !same_deployment(r, from_res)
            });
        if elsewhere {
            return LinkAnswer::Unknown(Undecided::new(
                format!(
                    "another deployment references '{}' as an existing resource and may deploy the {} it needs",
                    from_res.name,
                    type_noun(want_type)
                ),
                Cause::Existing,
            ));
        }
        // A module of the same deployment that was not evaluated may deploy it.
        let root = deployment_of(from_res);
        if let Some(m) = graph.opaque_modules.iter().find(|m| m.root == root) {
            return LinkAnswer::Unknown(Undecided::new(
                format!(
                    "module '{}' {}, and may deploy the {} it needs",
                    m.reference,
                    m.why,
                    type_noun(want_type)
                ),
                Cause::Module,
            ));
        }
    }
    LinkAnswer::Found(candidates(graph, kids, index, chosen, related))
}

/// The resources an existence check may be satisfied by; `related`: they are related to the
/// evaluated resource, so a failure may point into them.
fn candidates(
    graph: &ResourceGraph,
    kids: &Kids,
    index: &Index<'_>,
    found: Vec<(ResourceIdx, &Resource)>,
    related: bool,
) -> Vec<Candidate> {
    found
        .into_iter()
        .map(|(i, r)| Candidate {
            body: r.body.clone(),
            idx: related.then_some(i),
            referrers: referrers(graph, index, i),
            children: children(graph, kids, i),
        })
        .collect()
}

/// From linked resource `at`, follows each field in `hops` (a field holding the id of the next
/// resource) and answers with the last resource reached.
fn follow(
    graph: &ResourceGraph,
    kids: &Kids,
    index: &Index<'_>,
    mut at: ResourceIdx,
    hops: &[super::rule::FieldPath],
) -> LinkAnswer {
    let params = HashMap::new();
    let env = HashMap::new();
    for hop in hops {
        let Some(r) = graph.resources.get(at) else {
            return LinkAnswer::Found(Vec::new());
        };
        // `..`: the parent resource (a subnet's virtual network).
        if hop.text == ".." {
            match r.parent {
                Some(p) => {
                    at = p;
                    continue;
                }
                None => {
                    return LinkAnswer::Unknown(
                        format!(
                            "the parent of '{}' is not declared in the audited templates",
                            r.name
                        )
                        .into(),
                    )
                }
            }
        }
        let ctx = super::rule::Ctx::new(&r.body, &params, super::AliasTable::builtin(), &env);
        let next = match ctx.read(hop) {
            super::rule::Read::One(Some(v)) => v,
            // Nothing to follow: another policy reports the missing link.
            super::rule::Read::One(None) => {
                return LinkAnswer::Unknown(
                    format!("'{}' has no '{}' to follow", r.name, hop.text).into(),
                )
            }
            super::rule::Read::Many(items) => match items.into_iter().next() {
                Some(v) => v,
                None => return LinkAnswer::Found(Vec::new()),
            },
        };
        let Some(text) = next.as_text().map(str::to_string) else {
            return match next.unknown_reason() {
                Some(reason) => LinkAnswer::Unknown(Undecided::because(
                    format!("the id in '{}' {}", r.name, super::rule::depends_on(reason)),
                    reason,
                )),
                None => LinkAnswer::Found(Vec::new()),
            };
        };
        match index.find(at, &text) {
            Some(i) => at = i,
            None => {
                return LinkAnswer::Unknown(
                    format!(
                        "the {} '{}' is not declared in the audited templates",
                        id_noun(&text),
                        text
                    )
                    .into(),
                )
            }
        }
    }
    match graph.resources.get(at) {
        Some(r) => LinkAnswer::Found(vec![Candidate {
            body: r.body.clone(),
            idx: Some(at),
            referrers: referrers(graph, index, at),
            children: children(graph, kids, at),
        }]),
        None => LinkAnswer::Found(Vec::new()),
    }
}

/// The resources that reference resource `to` (one entry per resource, the first path), for
/// the `referencedBy()` extension.
fn referrers(graph: &ResourceGraph, index: &Index<'_>, to: ResourceIdx) -> Value {
    // One entry per resource id: the same resource declared twice (a module deployed twice, as
    // AVM's idempotency tests do) is one user.
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for e in index.edges_to(to) {
        if e.kind != crate::graph::EdgeKind::Reference {
            continue;
        }
        let Some(r) = graph.resources.get(e.from) else {
            continue;
        };
        if !seen.insert(crate::graph::normalize_id(&r.id)) {
            continue;
        }
        out.push(Value::object(vec![
            ("id".into(), Value::string(r.id.clone())),
            ("type".into(), Value::string(r.type_name.clone())),
            ("name".into(), Value::string(r.name.clone())),
            ("path".into(), Value::string(e.path.clone())),
        ]));
    }
    Value::array(out)
}

/// What lookups need about the whole graph, built once per evaluation: child resources by parent,
/// and the `existing` declarations.
#[derive(Default)]
struct Kids {
    children: HashMap<ResourceIdx, Vec<ResourceIdx>>,
    existing: Vec<ResourceIdx>,
}

impl Kids {
    fn get(&self, of: &ResourceIdx) -> Option<&Vec<ResourceIdx>> {
        self.children.get(of)
    }
}

fn child_index(graph: &ResourceGraph) -> Kids {
    let mut kids = Kids::default();
    for (i, r) in graph.resources.iter().enumerate() {
        if let Some(p) = r.parent {
            kids.children.entry(p).or_default().push(i);
        }
        if r.existing {
            kids.existing.push(i);
        }
    }
    kids
}

/// The bodies of the child resources of `of` (for the `relatedChildren()` extension): resources
/// with `of` as parent, declared anywhere in the audited templates.
fn children(graph: &ResourceGraph, kids: &Kids, of: ResourceIdx) -> Value {
    Value::array(
        kids.get(&of)
            .into_iter()
            .flatten()
            .filter_map(|i| graph.resources.get(*i))
            .map(|r| r.body.clone())
            .collect(),
    )
}

/// `/subscriptions/…/virtualNetworks/v/subnets/s` → `subnet`.
fn id_noun(id: &str) -> String {
    let parts: Vec<&str> = id.trim_end_matches('/').split('/').collect();
    match parts.len().checked_sub(2).and_then(|i| parts.get(i)) {
        Some(t) if !t.is_empty() => type_noun(t),
        _ => "resource".into(),
    }
}
