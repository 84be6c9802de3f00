//! Builds the resource graph from evaluated templates: resources (each loop element, each inline
//! subnet), then parent, dependsOn and reference edges.

use crate::diagnostic::{Diagnostic, Severity};
use crate::eval::{value_text, Deployment, Evaluator};
use crate::expr::ExprKind;
use crate::graph::{
    normalize_id, Deployed, Edge, EdgeKind, Origin, Resource, ResourceGraph, Unresolved,
};
use crate::model::{Language, Template};
use crate::value::{Kind, Reason, Value};
use std::collections::HashMap;

/// One template to add to the graph, with the parameter values it is deployed with.
pub struct Deploy<'a> {
    pub template: &'a Template,
    pub params: HashMap<String, Value>,
    pub deployment: Deployment,
}

/// Builds one graph from several deployments. Ids with placeholders (the usual case: the
/// subscription and resource group are not known) link only within their own file; fully known
/// ids, and `existing` declarations, link across files.
pub fn build(deploys: &[Deploy<'_>]) -> ResourceGraph {
    use rayon::prelude::*;
    // Each template is evaluated on its own (in parallel); linking needs them all.
    let parts: Vec<Part> = deploys.par_iter().map(evaluate_template).collect();
    let mut graph = ResourceGraph::default();
    let mut known_ids: Vec<bool> = Vec::new();
    let mut pending_depends: Vec<(usize, Vec<DependsOn>)> = Vec::new();
    for part in parts {
        let offset = graph.resources.len();
        for mut r in part.graph.resources {
            r.parent = r.parent.map(|p| p + offset);
            if let Origin::InlineSubnet { vnet, index } = r.origin {
                r.origin = Origin::InlineSubnet {
                    vnet: vnet + offset,
                    index,
                };
            }
            graph.resources.push(r);
        }
        known_ids.extend(part.known_ids);
        for (idx, deps) in part.pending {
            let deps = deps
                .into_iter()
                .map(|d| match d {
                    DependsOn::Decl(v) => {
                        DependsOn::Decl(v.into_iter().map(|i| i + offset).collect())
                    }
                    other => other,
                })
                .collect();
            pending_depends.push((idx + offset, deps));
        }
        graph.diagnostics.extend(part.graph.diagnostics);
    }
    let index = IdIndex::new(&graph, &known_ids);
    link_parents(&mut graph, &index);
    link_depends_on(&mut graph, &index, pending_depends);
    link_references(&mut graph, &index);
    graph.edges.sort();
    graph.edges.dedup();
    graph
}

/// What one template contributes before linking (indices local to it).
#[derive(Default)]
struct Part {
    graph: ResourceGraph,
    known_ids: Vec<bool>,
    pending: Vec<(usize, Vec<DependsOn>)>,
}

fn evaluate_template(d: &Deploy<'_>) -> Part {
    let mut part = Part::default();
    add_template(&mut part.graph, d, &mut part.known_ids, &mut part.pending);
    part
}

enum DependsOn {
    /// Another declaration of the same template (Bicep symbol): all its instances.
    Decl(Vec<usize>),
    /// An id or a name (ARM).
    Text(String),
}

fn add_template(
    graph: &mut ResourceGraph,
    d: &Deploy<'_>,
    known_ids: &mut Vec<bool>,
    pending: &mut Vec<(usize, Vec<DependsOn>)>,
) {
    let t = d.template;
    for e in &t.syntax_errors {
        graph.diagnostics.push(Diagnostic::new(
            "syntax-error",
            Severity::Error,
            e.span,
            e.message.clone(),
        ));
    }
    if matches!(t.language, Language::BicepParams | Language::ArmParameters) {
        return;
    }
    let ev = Evaluator::new(t, d.params.clone(), d.deployment.clone());
    // (decl, instance) → graph index
    let mut placed: HashMap<(usize, usize), usize> = HashMap::new();
    for (di, decl) in t.resources.iter().enumerate() {
        let instances = ev.instances(di);
        for (ii, inst) in instances.iter().enumerate() {
            let deployed = match ev.condition(decl, inst) {
                None => Deployed::Yes,
                Some(c) => match &c.kind {
                    Kind::Bool(true) => Deployed::Yes,
                    Kind::Bool(false) => continue,
                    Kind::Unknown(r) => Deployed::Maybe(r.as_ref().clone()),
                    _ => Deployed::Yes,
                },
            };
            // A nested child of a parent instance that is not deployed is not deployed either.
            if let (Some(p), Some(pi)) = (decl.parent_index, inst.parent_instance) {
                if !placed.contains_key(&(p, pi)) {
                    continue;
                }
            }
            let ident = ev.identity(di, ii);
            let full_name = if ident.id_known {
                Value::string(ident.full_name.clone())
            } else {
                match &ident.name.kind {
                    Kind::Unknown(r)
                        if !matches!(
                            r.as_ref(),
                            Reason::Symbolic { .. } | Reason::Parameter { .. }
                        ) =>
                    {
                        ident.name.clone()
                    }
                    _ if value_text(&ident.name).1 && !ident.full_name.contains('{') => {
                        Value::string(ident.full_name.clone())
                    }
                    _ => Value::symbolic(ident.full_name.clone()),
                }
            };
            let mut body = Value::object(vec![
                (
                    "name".into(),
                    full_name.or_span(ident.name.span.unwrap_or(decl.head_span)),
                ),
                (
                    "type".into(),
                    Value::string(decl.type_name.clone()).with_span(decl.head_span),
                ),
            ]);
            if let Some(v) = &decl.api_version {
                body.set(
                    "apiVersion",
                    Value::string(v.clone()).with_span(decl.head_span),
                );
            }
            if decl.existing {
                let reason = Reason::Existing {
                    symbol: decl
                        .symbol
                        .clone()
                        .unwrap_or_else(|| ident.full_name.clone()),
                };
                for key in ["location", "properties", "sku", "kind", "tags", "identity"] {
                    body.set(key, Value::unknown(reason.clone()));
                }
            } else {
                let evaluated = ev.eval(&decl.body, &inst.locals, 0);
                match evaluated.kind {
                    Kind::Object(props) => {
                        for (k, v) in props {
                            if !k.eq_ignore_ascii_case("name") && !k.eq_ignore_ascii_case("type") {
                                body.set(&k, v);
                            }
                        }
                    }
                    Kind::Unknown(r) => body.set("properties", Value::unknown(*r)),
                    _ => {}
                }
            }
            body.span = Some(decl.span);
            let idx = graph.resources.len();
            placed.insert((di, ii), idx);
            let display_name = if ident.full_name.is_empty() {
                "{?}".to_string()
            } else {
                ident.full_name.clone()
            };
            graph.resources.push(Resource {
                id: ident.id.clone(),
                type_name: decl.type_name.clone(),
                api_version: decl.api_version.clone(),
                name: display_name,
                symbol: decl.symbol.clone(),
                file: t.file,
                span: decl.span,
                head_span: decl.head_span,
                existing: decl.existing,
                body,
                parent: None,
                origin: Origin::Declared,
                deployed,
                suppress: decl.suppress.clone(),
                module_chain: Vec::new(),
            });
            known_ids.push(ident.id_known || decl.existing);
            pending.push((idx, depends_of(&ev, t, di, inst)));
            add_inline_children(graph, idx, known_ids);
        }
    }
    // Variables and outputs no resource reads still deserve their cycle diagnostics.
    for v in &t.vars {
        let _ = ev.var(&v.name);
    }
    for o in &t.outputs {
        let _ = ev.eval(&o.value, &Vec::new(), 0);
    }
    graph.diagnostics.extend(ev.take_diagnostics());
    // Bicep dependsOn names declarations: map them to graph indices now that all are placed.
    for (_, deps) in pending.iter_mut() {
        for dep in deps.iter_mut() {
            if let DependsOn::Decl(decls) = dep {
                let mut idxs: Vec<usize> = Vec::new();
                for d in decls.iter() {
                    idxs.extend(
                        placed
                            .iter()
                            .filter(|((pd, _), _)| pd == d)
                            .map(|(_, gi)| *gi),
                    );
                }
                *decls = idxs;
            }
        }
    }
}

/// The `dependsOn` entries of a declaration instance.
fn depends_of(
    ev: &Evaluator<'_>,
    t: &Template,
    di: usize,
    inst: &crate::eval::Instance,
) -> Vec<DependsOn> {
    let Some(decl) = t.resources.get(di) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dep in &decl.depends_on {
        // Bicep: a symbol (or `symbol[i]`, `a::b`); ARM: a string or an expression giving an id.
        let symbol = match &dep.kind {
            ExprKind::Ident(s) => Some(s.as_str()),
            ExprKind::Index { target, .. } => match &target.kind {
                ExprKind::Ident(s) => Some(s.as_str()),
                _ => None,
            },
            _ => None,
        };
        if let Some(s) = symbol {
            let decls: Vec<usize> = t
                .resources
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.symbol
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(s))
                })
                .map(|(i, _)| i)
                .collect();
            if !decls.is_empty() {
                out.push(DependsOn::Decl(decls));
                continue;
            }
        }
        let v = ev.eval(dep, &inst.locals, 0);
        if let Some(text) = v.as_text() {
            out.push(DependsOn::Text(text.to_string()));
        }
    }
    out
}

/// Subnets declared inline in a virtual network become resources of their own.
fn add_inline_children(graph: &mut ResourceGraph, vnet: usize, known_ids: &mut Vec<bool>) {
    let Some(parent) = graph.resources.get(vnet) else {
        return;
    };
    if !parent
        .type_name
        .eq_ignore_ascii_case("Microsoft.Network/virtualNetworks")
    {
        return;
    }
    let Some(subnets) = parent
        .body
        .pointer("properties.subnets")
        .and_then(Value::as_array)
    else {
        return;
    };
    let parent_known = known_ids.get(vnet).copied().unwrap_or(false);
    let mut children = Vec::new();
    for (i, s) in subnets.iter().enumerate() {
        let Some(name_value) = s.get("name") else {
            continue;
        };
        let (name, name_known) = value_text(name_value);
        let id = format!("{}/subnets/{}", parent.id, name);
        let full = format!("{}/{}", parent.name, name);
        let mut body = Value::object(vec![
            (
                "name".into(),
                if name_known && parent_known {
                    Value::string(full.clone())
                } else {
                    Value::symbolic(full.clone())
                }
                .or_span(name_value.span.unwrap_or(parent.head_span)),
            ),
            (
                "type".into(),
                Value::string("Microsoft.Network/virtualNetworks/subnets"),
            ),
        ]);
        if let Some(obj) = s.as_object() {
            for (k, v) in obj {
                if !k.eq_ignore_ascii_case("name") && !k.eq_ignore_ascii_case("id") {
                    body.set(k, v.clone());
                }
            }
        }
        let span = s.span.unwrap_or(parent.span);
        body.span = Some(span);
        children.push((
            Resource {
                id,
                type_name: "Microsoft.Network/virtualNetworks/subnets".into(),
                api_version: parent.api_version.clone(),
                name: full,
                symbol: None,
                file: span.file,
                span,
                head_span: name_value.span.unwrap_or(span),
                existing: false,
                body,
                parent: Some(vnet),
                origin: Origin::InlineSubnet { vnet, index: i },
                deployed: parent.deployed.clone(),
                suppress: Vec::new(),
                module_chain: parent.module_chain.clone(),
            },
            parent_known && name_known,
        ));
    }
    for (r, known) in children {
        graph.resources.push(r);
        known_ids.push(known);
    }
}

/// Looks resources up by id with the linking rule: same file always, other files only when both
/// ids are fully known or the target is an `existing` declaration's counterpart.
struct IdIndex {
    by_id: HashMap<String, Vec<usize>>,
    known: Vec<bool>,
    files: Vec<crate::source::FileId>,
    existing: Vec<bool>,
}

impl IdIndex {
    fn new(graph: &ResourceGraph, known: &[bool]) -> IdIndex {
        let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in graph.resources.iter().enumerate() {
            by_id.entry(normalize_id(&r.id)).or_default().push(i);
        }
        IdIndex {
            by_id,
            known: known.to_vec(),
            files: graph.resources.iter().map(|r| r.file).collect(),
            existing: graph.resources.iter().map(|r| r.existing).collect(),
        }
    }

    /// The resource `from` links to with `id`: a declaration (not an `existing` one) wins.
    fn find(&self, from: usize, id: &str) -> Option<usize> {
        let candidates = self.by_id.get(&normalize_id(id))?;
        let file = self.files.get(from)?;
        let usable = |c: &&usize| -> bool {
            **c != from
                && (self.files.get(**c) == Some(file)
                    || (self.known.get(**c).copied().unwrap_or(false)
                        && self.known.get(from).copied().unwrap_or(false)))
        };
        let mut found: Vec<usize> = candidates.iter().filter(usable).copied().collect();
        found.sort_by_key(|c| self.existing.get(*c).copied().unwrap_or(true));
        found.first().copied()
    }
}

fn parent_id(id: &str) -> Option<&str> {
    // `…/providers/Ns/t1/n1/t2/n2` → `…/providers/Ns/t1/n1` when there are two or more pairs.
    let providers = id.to_ascii_lowercase().rfind("/providers/")?;
    let tail = id.get(providers + "/providers/".len()..)?;
    let segments = tail.split('/').count();
    if segments < 5 {
        return None;
    }
    let mut cut = id.len();
    for _ in 0..2 {
        cut = id.get(..cut)?.rfind('/')?;
    }
    id.get(..cut)
}

fn link_parents(graph: &mut ResourceGraph, index: &IdIndex) {
    let mut edges = Vec::new();
    for i in 0..graph.resources.len() {
        let Some(r) = graph.resources.get(i) else {
            continue;
        };
        let parent = match r.origin {
            Origin::InlineSubnet { vnet, .. } => Some(vnet),
            Origin::Declared => parent_id(&r.id).and_then(|p| index.find(i, p)),
        };
        if let Some(p) = parent {
            edges.push(Edge {
                from: i,
                to: p,
                kind: EdgeKind::Parent,
                path: String::new(),
                span: None,
            });
            if let Some(r) = graph.resources.get_mut(i) {
                r.parent = Some(p);
            }
        }
    }
    graph.edges.extend(edges);
}

fn link_depends_on(
    graph: &mut ResourceGraph,
    index: &IdIndex,
    pending: Vec<(usize, Vec<DependsOn>)>,
) {
    // ARM allows a bare name, `type/name` or (languageVersion 2.0) a symbolic name: one lookup
    // table per file, first declaration wins.
    let mut by_name: HashMap<(crate::source::FileId, String), usize> = HashMap::new();
    for (i, r) in graph.resources.iter().enumerate() {
        let mut keys = vec![
            r.name.to_ascii_lowercase(),
            format!("{}/{}", r.type_name, r.name).to_ascii_lowercase(),
        ];
        if let Some(s) = &r.symbol {
            keys.push(s.to_ascii_lowercase());
        }
        for k in keys {
            by_name.entry((r.file, k)).or_insert(i);
        }
    }
    for (from, deps) in pending {
        let Some(file) = graph.resources.get(from).map(|r| r.file) else {
            continue;
        };
        for dep in deps {
            let targets: Vec<usize> = match dep {
                DependsOn::Decl(idxs) => idxs,
                DependsOn::Text(text) if text.starts_with('/') => {
                    index.find(from, &text).into_iter().collect()
                }
                DependsOn::Text(text) => by_name
                    .get(&(file, text.to_ascii_lowercase()))
                    .copied()
                    .into_iter()
                    .collect(),
            };
            for to in targets {
                if to != from {
                    graph.edges.push(Edge {
                        from,
                        to,
                        kind: EdgeKind::DependsOn,
                        path: String::new(),
                        span: None,
                    });
                }
            }
        }
    }
}

fn looks_like_resource_id(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    (lower.starts_with("/subscriptions/") || lower.starts_with("/providers/"))
        && lower.contains("/providers/")
        && lower.matches('/').count() >= 4
}

fn link_references(graph: &mut ResourceGraph, index: &IdIndex) {
    let mut edges = Vec::new();
    let mut unresolved = Vec::new();
    for (i, r) in graph.resources.iter().enumerate() {
        let skip_subnets = r
            .type_name
            .eq_ignore_ascii_case("Microsoft.Network/virtualNetworks");
        let mut found: Vec<(String, &Value)> = Vec::new();
        collect_refs(&r.body, String::new(), &mut found, skip_subnets, 0);
        for (path, v) in found {
            let (text, _) = value_text(v);
            match &v.kind {
                Kind::Unknown(reason) if !matches!(reason.as_ref(), Reason::Symbolic { .. }) => {
                    unresolved.push(Unresolved {
                        from: i,
                        path,
                        value: text,
                        reason: reason.to_string(),
                        span: v.span,
                    });
                }
                _ => {
                    if text.eq_ignore_ascii_case(&r.id) {
                        continue;
                    }
                    match index.find(i, &text) {
                        Some(to) => edges.push(Edge {
                            from: i,
                            to,
                            kind: EdgeKind::Reference,
                            path,
                            span: v.span,
                        }),
                        None => unresolved.push(Unresolved {
                            from: i,
                            path,
                            value: text,
                            reason: "no resource with this id in the audited templates".into(),
                            span: v.span,
                        }),
                    }
                }
            }
        }
    }
    graph.edges.extend(edges);
    graph.unresolved.extend(unresolved);
}

/// Collects values that are resource ids (or unknown values of `…Id` properties), with paths.
fn collect_refs<'v>(
    v: &'v Value,
    path: String,
    out: &mut Vec<(String, &'v Value)>,
    skip_subnets: bool,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    match &v.kind {
        Kind::Object(props) => {
            for (k, child) in props {
                if depth == 0 && (k.eq_ignore_ascii_case("id") || k.eq_ignore_ascii_case("name")) {
                    continue;
                }
                if skip_subnets
                    && depth == 1
                    && path == "properties"
                    && k.eq_ignore_ascii_case("subnets")
                {
                    continue;
                }
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let id_key = k.to_ascii_lowercase().ends_with("id");
                match &child.kind {
                    Kind::Unknown(r)
                        if id_key && !matches!(r.as_ref(), Reason::Symbolic { .. }) =>
                    {
                        out.push((p, child));
                    }
                    _ => collect_refs(child, p, out, skip_subnets, depth + 1),
                }
            }
        }
        Kind::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_refs(child, format!("{path}[{i}]"), out, skip_subnets, depth + 1);
            }
        }
        Kind::String(s) if looks_like_resource_id(s) => out.push((path, v)),
        Kind::Unknown(r) => {
            if let Reason::Symbolic { text } = r.as_ref() {
                if looks_like_resource_id(text) {
                    out.push((path, v));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_id_strips_the_last_type_and_name() {
        assert_eq!(
            parent_id("/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/a"),
            Some("/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v")
        );
        assert_eq!(
            parent_id(
                "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v"
            ),
            None
        );
    }
}
