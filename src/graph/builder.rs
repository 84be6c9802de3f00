//! Builds the resource graph from evaluated templates: resources (each loop element, each inline
//! subnet), then parent, dependsOn and reference edges.

use crate::diagnostic::codes::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::eval::{value_text, Budget, BudgetLimits, DeploymentContext, Evaluator, RunBudget};
use crate::expr::{Expr, ExprKind};
use crate::graph::links::IdIndex;
use crate::graph::{Deployed, Edge, EdgeKind, Origin, Resource, ResourceGraph, Unresolved};
use crate::model::{Language, Template};
use crate::source::{FileId, Span};
use crate::value::{Kind, Reason, Value};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// One template to add to the graph, with the parameter values it is deployed with.
pub struct DeploymentInput<'a> {
    pub template: &'a Template,
    pub params: HashMap<String, Value>,
    pub deployment: DeploymentContext,
}

/// Builds one graph from several deployments. Ids with placeholders (the usual case: the
/// subscription and resource group are not known) link only within their own deployment (a file
/// and the modules it deploys); fully known ids, and `existing` declarations, link across files.
pub fn build(deploys: &[DeploymentInput<'_>]) -> ResourceGraph {
    let chains = vec![Vec::new(); deploys.len()];
    build_with(deploys, &chains, &NoModules)
}

/// Why a module declaration's template is not there to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// Not read, and no problem worth a diagnostic (a remote URI, a path guessed from an ARM
    /// expression).
    #[error("its template is not read")]
    NotRead,
    /// A registry module that is not in the Bicep module cache.
    #[error("module not restored")]
    NotRestored,
    /// Not read for a reason the author should see (a file missing, not a template, a path
    /// out of the project, a bad registry reference).
    #[error("{0}")]
    Failed(String),
}

/// Finds the templates that module declarations deploy.
pub trait Modules: Sync {
    /// The template that the module declaration `source` of file `caller` deploys, or why it
    /// can't be read.
    fn template(&self, caller: FileId, source: &str) -> Result<&Template, ModuleError>;

    /// The name a cycle diagnostic gives the file.
    fn file_name(&self, file: FileId) -> String {
        format!("file {}", file.0)
    }
}

/// No module files: every local module reads as missing.
pub struct NoModules;

impl Modules for NoModules {
    fn template(&self, _caller: FileId, _source: &str) -> Result<&Template, ModuleError> {
        Err(ModuleError::NotRead)
    }
}

/// Greatest depth of module calls.
pub const MAX_MODULE_DEPTH: usize = 16;

/// Most module instances one deployment deploys (module loops multiply).
pub const MAX_MODULE_INSTANCES: usize = 2000;

/// Builds one graph from several deployments, instantiating their modules through `modules`.
/// `chains[i]` is prepended to the module chain of every resource of `deploys[i]` (the parameter
/// file it is deployed with).
pub fn build_with(
    deploys: &[DeploymentInput<'_>],
    chains: &[Vec<Span>],
    modules: &dyn Modules,
) -> ResourceGraph {
    // What the whole run keeps is capped across the deployments evaluated in parallel.
    build_within(
        deploys,
        chains,
        modules,
        &std::sync::Arc::new(RunBudget::default()),
    )
}

/// [`build_with`] within the run-wide budget `run` (a streamed bulk audit shares one across its
/// deployment groups).
pub fn build_within(
    deploys: &[DeploymentInput<'_>],
    chains: &[Vec<Span>],
    modules: &dyn Modules,
    run: &std::sync::Arc<RunBudget>,
) -> ResourceGraph {
    use rayon::prelude::*;
    // Each template is evaluated on its own (in parallel); linking needs them all.
    let parts: Vec<Unlinked> = deploys
        .par_iter()
        .enumerate()
        .map(|(i, d)| {
            let chain = chains.get(i).cloned().unwrap_or_default();
            evaluate_template(d, &chain, modules, run)
        })
        .collect();
    crate::timing::lap("templates evaluated");
    let mut graph = ResourceGraph::default();
    let total: usize = parts.iter().map(|p| p.graph.resources.len()).sum();
    graph.resources.reserve_exact(total);
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
        graph.opaque_modules.extend(part.graph.opaque_modules);
    }
    crate::timing::lap("resources gathered");
    let index = IdIndex::new(&graph.resources);
    crate::timing::lap("resources indexed");
    link_parents(&mut graph, &index);
    link_depends_on(&mut graph, &index, pending_depends);
    crate::timing::lap("parents and dependsOn linked");
    link_references(&mut graph, &index);
    graph.edges.sort();
    graph.edges.dedup();
    crate::timing::lap("references linked");
    graph
}

/// What one template contributes before linking (indices local to it).
#[derive(Default)]
struct Unlinked {
    graph: ResourceGraph,
    pending: Vec<(usize, Vec<DependsOn>)>,
    /// Module instances deployed so far (bounded by [`MAX_MODULE_INSTANCES`]).
    instances: usize,
}

fn evaluate_template(
    d: &DeploymentInput<'_>,
    chain: &[Span],
    modules: &dyn Modules,
    run: &std::sync::Arc<RunBudget>,
) -> Unlinked {
    let mut part = Unlinked::default();
    let mut cx = Instantiation {
        modules,
        stack: vec![(d.template.file, modules.file_name(d.template.file))],
        chain: chain.to_vec(),
        maybe: None,
        budget: std::rc::Rc::new(Budget::new(BudgetLimits::default(), run.clone())),
        inherited_vars: 0,
    };
    let _ = add_template(
        &mut part,
        d.template,
        d.params.clone(),
        &d.deployment,
        &mut cx,
    );
    part
}

/// Where a template instance sits: the module calls that lead to it.
struct Instantiation<'m> {
    modules: &'m dyn Modules,
    /// Files of the module calls under way with their references (cycle detection).
    stack: Vec<(FileId, String)>,
    /// Module declarations leading here, outermost first.
    chain: Vec<Span>,
    /// The module call's condition could not be evaluated.
    maybe: Option<Reason>,
    /// The deployment's budget (and through it the run's).
    budget: std::rc::Rc<Budget>,
    /// How many of the next template's variables are its caller's (an outer-scope nested
    /// template reads them; the caller already evaluated them).
    inherited_vars: usize,
}

enum DependsOn {
    /// Another declaration of the same template (Bicep symbol): all its instances.
    Decl(Vec<usize>),
    /// An id or a name (ARM).
    Text(String),
}

fn add_template(
    part: &mut Unlinked,
    t: &Template,
    params: HashMap<String, Value>,
    deployment: &DeploymentContext,
    cx: &mut Instantiation<'_>,
) -> Value {
    for e in &t.syntax_errors {
        part.graph.diagnostics.push(Diagnostic::new(
            Code::SyntaxError,
            Severity::Error,
            e.span,
            e.message.clone(),
        ));
    }
    part.graph
        .diagnostics
        .extend(crate::model::duplicate_key_diagnostics(t));
    if matches!(t.language, Language::BicepParams | Language::ArmParameters) {
        return Value::object(Vec::new());
    }
    let inherited_vars = std::mem::take(&mut cx.inherited_vars);
    // One evaluator for the module calls and then the resources, each an epoch of its own: the
    // parameters and variables are evaluated once, their cost counted as if in fresh evaluators.
    let mut ev = Evaluator::new(t, params, deployment.clone()).with_budget(cx.budget.clone());
    instantiate_modules(part, t, &mut ev, deployment, cx);
    ev.begin_epoch();
    let ev = ev;
    let graph = &mut part.graph;
    let pending = &mut part.pending;
    let pending_start = pending.len();
    // (decl, instance) → graph index
    let mut placed: HashMap<(usize, usize), usize> = HashMap::new();
    for (di, decl) in t.resources.iter().enumerate() {
        ev.begin_construct();
        let mut run_cut: Option<String> = None;
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
            let deployed = match (&deployed, &cx.maybe) {
                (Deployed::Yes, Some(r)) => Deployed::Maybe(r.clone()),
                _ => deployed,
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
                    Kind::Unknown(r) => body.set("properties", Value::new(Kind::Unknown(r), None)),
                    _ => {}
                }
            }
            body.span = Some(decl.span);
            if let Err(what) = ev
                .budget()
                .run
                .take_resource(crate::eval::weight(&body), &ev.budget().limits)
            {
                run_cut = Some(what);
                break;
            }
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
                module_chain: cx.chain.clone(),
            });
            pending.push((idx, depends_of(&ev, t, di, inst)));
            add_inline_children(graph, idx);
        }
        if let Some(what) = ev.end_construct() {
            graph
                .diagnostics
                .push(limit_diagnostic(decl.head_span, &what, false));
        }
        if let Some(what) = run_cut {
            graph
                .diagnostics
                .push(limit_diagnostic(decl.head_span, &what, true));
        }
    }
    // Variables and outputs no resource reads still deserve their cycle diagnostics (the
    // caller's variables an outer-scope nested template reads got theirs in the caller).
    for v in t.vars.iter().skip(inherited_vars) {
        ev.begin_construct();
        let _ = ev.var(&v.name);
        if let Some(what) = ev.end_construct() {
            graph
                .diagnostics
                .push(limit_diagnostic(v.span, &what, false));
        }
    }
    let mut outputs = Vec::new();
    for o in &t.outputs {
        ev.begin_construct();
        let v = ev.eval(&o.value, &Vec::new(), 0);
        if let Some(what) = ev.end_construct() {
            graph
                .diagnostics
                .push(limit_diagnostic(o.span, &what, false));
        }
        // ARM callers read `outputs.x.value`.
        let v = if t.language == Language::ArmTemplate {
            Value::object(vec![("value".into(), v)])
        } else {
            v
        };
        outputs.push((o.name.clone(), v));
    }
    graph.diagnostics.extend(ev.take_diagnostics());
    // Bicep dependsOn names declarations: map them to graph indices now that all are placed.
    for (_, deps) in pending.iter_mut().skip(pending_start) {
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
    Value::object(outputs)
}

/// Instantiates the module declarations of `t` (in dependency order), each in an epoch of `ev`
/// (`t`'s evaluator), and gives `ev` the value each module symbol stands for: `{ name, outputs }`,
/// an array of them for a loop.
fn instantiate_modules(
    part: &mut Unlinked,
    t: &Template,
    ev: &mut Evaluator<'_>,
    deployment: &DeploymentContext,
    cx: &mut Instantiation<'_>,
) {
    let mut ambiguous: HashSet<String> = HashSet::new();
    for mi in module_order(t) {
        let Some(m) = t.modules.get(mi) else {
            continue;
        };
        ev.begin_epoch();
        ev.begin_construct();
        let instances = ev.expand_loop(m.loop_.as_ref(), Vec::new(), None);
        let mut results = Vec::new();
        let mut names = Vec::new();
        let mut undecided: Option<Reason> = None;
        for inst in instances.iter() {
            let maybe = match m.condition.as_ref().map(|c| ev.eval(c, &inst.locals, 0)) {
                Some(c) => match &c.kind {
                    Kind::Bool(false) => {
                        results.push(Value::null());
                        continue;
                    }
                    Kind::Unknown(r) => Some(r.as_ref().clone()),
                    _ => None,
                },
                None => None,
            };
            let name = match &m.name {
                Some(n) => ev.eval(n, &inst.locals, 0),
                None => Value::string(m.symbol.clone().unwrap_or_default()),
            };
            undecided = undecided.or_else(|| maybe.clone());
            let outputs = instantiate(part, t, m, ev, &inst.locals, deployment, cx, maybe);
            // A module that is not evaluated may deploy anything: existence checks of its
            // deployment can't conclude that something is missing.
            if let Some(Reason::Module { reference, why }) = outputs.unknown_reason() {
                part.graph.opaque_modules.push(crate::graph::OpaqueModule {
                    root: cx.chain.first().map_or(t.file, |s| s.file),
                    span: m.source_span,
                    reference: reference.clone(),
                    why: why.clone(),
                });
            }
            // Known names, names the deployment fills in (`{uniqueString(…)}` placeholders) and
            // names with unknown parts, that a `reference()` builds the same way; a name unknown
            // as a whole names nothing.
            let (text, _) = value_text(&name);
            if m.loop_.is_none() && text != "{?}" {
                names.push(text.to_ascii_lowercase());
            }
            results.push(module_value(m, name, outputs));
        }
        if let Some(what) = ev.end_construct() {
            part.graph
                .diagnostics
                .push(limit_diagnostic(m.source_span, &what, false));
        }
        part.graph.diagnostics.extend(ev.take_diagnostics());
        let value = if m.loop_.is_some() {
            Value::array(results)
        } else {
            results.into_iter().next().unwrap_or_else(Value::null)
        };
        // ARM reads a nested deployment by name: `reference('name').outputs.x.value`. A name
        // with unknown parts (`keyVault-{uniqueString({?})}` of an unknown resource group) names
        // the one deployment of this template that gives it; when another gives the same text,
        // `{?}` may stand for different values and neither is read by it.
        for n in names {
            let key = format!("deployment:{n}");
            if !n.contains("{?}") {
                ev.set_module_value(key, value.clone());
            } else if ambiguous.contains(&key) || ev.has_module_value(&key) {
                ev.set_module_value(
                    key.clone(),
                    Value::unknown(Reason::Error {
                        message: format!("more than one nested deployment is named `{n}`"),
                    }),
                );
                ambiguous.insert(key);
            } else {
                ev.set_module_value(key, value.clone());
            }
        }
        if let Some(sym) = &m.symbol {
            // `sym.?outputs.x` of a module whose condition is undecided is unknown: the compiler
            // writes `if(condition, reference('sym'), null())`.
            if let (None, Some(reason)) = (&m.loop_, undecided) {
                ev.set_module_value(
                    format!(
                        "{}{}",
                        crate::eval::UNDECIDED_MODULE,
                        sym.to_ascii_lowercase()
                    ),
                    Value::unknown(reason),
                );
            }
            ev.set_module_value(sym.to_ascii_lowercase(), value);
        }
    }
}

/// What a module symbol stands for: `{ name, outputs }`; a nested deployment declared as a
/// Bicep resource reads as the resource too (`d.properties.outputs.x.value`, `d.type`).
fn module_value(m: &crate::model::ModuleDecl, name: Value, outputs: Value) -> Value {
    let mut value = Value::object(vec![
        ("name".into(), name),
        ("outputs".into(), outputs.clone()),
    ]);
    if m.declared_as_resource {
        value.set(
            "type",
            Value::string("Microsoft.Resources/deployments").with_span(m.head_span),
        );
        value.set(
            "properties",
            Value::object(vec![("outputs".into(), outputs)]),
        );
    }
    value
}

/// The `evaluation-limit` warning at a construct that `what` (a limit) cut: what it set past that
/// point is unknown (and the checks that need it are listed as not evaluated), or, for a run-wide
/// limit (`dropped`), its remaining instances are not in the graph at all.
fn limit_diagnostic(span: Span, what: &str, dropped: bool) -> Diagnostic {
    let message = if dropped {
        format!("{what} was reached here: the rest of this declaration's instances, and everything after it, are not audited")
    } else {
        format!("evaluation stopped at {what}: what this declaration sets past that point is unknown, and the checks that need it are listed as not evaluated")
    };
    Diagnostic::new(Code::EvaluationLimit, Severity::Warning, span, message)
}

/// Whether a module reference names a registry or template spec (`br:`, `br/alias:`, `ts:`).
pub fn is_registry_reference(source: &str) -> bool {
    let lower = source.trim().to_ascii_lowercase();
    lower.starts_with("br:")
        || lower.starts_with("br/")
        || lower.starts_with("ts:")
        || lower.starts_with("ts/")
}

/// Deploys one module instance: its template with the evaluated `params`, under its scope.
/// Returns its outputs (an object by output name).
#[allow(clippy::too_many_arguments)]
fn instantiate(
    part: &mut Unlinked,
    caller: &Template,
    m: &crate::model::ModuleDecl,
    ev: &Evaluator<'_>,
    locals: &crate::eval::Locals,
    deployment: &DeploymentContext,
    cx: &mut Instantiation<'_>,
    maybe: Option<Reason>,
) -> Value {
    let label = m
        .source
        .clone()
        .or_else(|| m.symbol.clone())
        .unwrap_or_else(|| "nested deployment".into());
    let unknown = |why: &str| {
        Value::unknown(Reason::Module {
            reference: label.clone(),
            why: why.to_string(),
        })
        .with_span(m.source_span)
    };
    if cx.stack.len() >= MAX_MODULE_DEPTH {
        part.graph.diagnostics.push(Diagnostic::new(
            Code::ModuleError,
            Severity::Warning,
            m.source_span,
            format!("modules nested deeper than {MAX_MODULE_DEPTH} levels are not evaluated"),
        ));
        return unknown("is not evaluated: modules nested too deeply");
    }
    part.instances += 1;
    if let Err(what) = cx.budget.run.take_module_instance(&cx.budget.limits) {
        part.graph
            .diagnostics
            .push(limit_diagnostic(m.source_span, &what, true));
        return unknown(&format!("is not evaluated: {what} was reached"));
    }
    if part.instances > MAX_MODULE_INSTANCES {
        if part.instances == MAX_MODULE_INSTANCES + 1 {
            part.graph.diagnostics.push(Diagnostic::new(
                Code::ModuleError,
                Severity::Warning,
                m.source_span,
                format!(
                    "more than {MAX_MODULE_INSTANCES} module instances: the rest are not evaluated"
                ),
            ));
        }
        return unknown("is not evaluated: too many module instances");
    }
    let owned: Template;
    let (target, params): (&Template, HashMap<String, Value>) = if let Some(inline) =
        &m.inline_template
    {
        if m.inner_scope {
            (inline.as_ref(), module_params(m, ev, locals))
        } else {
            // Outer scope: the nested template's expressions read the caller's parameters and
            // variables.
            let mut t = inline.as_ref().clone();
            t.params = caller.params.clone();
            let mut vars = caller.vars.clone();
            cx.inherited_vars = vars.len();
            vars.extend(t.vars);
            t.vars = vars;
            let mut functions = caller.functions.clone();
            functions.extend(t.functions);
            t.functions = functions;
            owned = t;
            (&owned, ev.param_values())
        }
    } else if let Some(source) = &m.source {
        let modules = cx.modules;
        let found = modules.template(caller.file, source);
        // A registry module is read from the Bicep module cache; when it isn't there it is
        // not evaluated, and an info diagnostic says so (the checks that needed it are
        // listed as not evaluated); a wrong reference is a `module-error`.
        if let (true, Err(why)) = (is_registry_reference(source), &found) {
            let why = match why {
                ModuleError::NotRead => &ModuleError::NotRestored,
                other => other,
            };
            let diagnostic = if *why == ModuleError::NotRestored {
                Diagnostic::new(
                        Code::ModuleNotRestored,
                        Severity::Info,
                        m.source_span,
                        format!(
                            "module '{}' is not in the Bicep module cache, so what it deploys is not audited",
                            source.trim()
                        ),
                    )
                    .with_help("run `bicep restore` on this file, then audit again")
            } else {
                Diagnostic::new(
                    Code::ModuleError,
                    Severity::Warning,
                    m.source_span,
                    why.to_string(),
                )
            };
            part.graph.diagnostics.push(diagnostic);
            return unknown(&format!("is not evaluated: {why}"));
        }
        match found {
            Ok(target) => {
                if let Some(pos) = cx.stack.iter().position(|(f, _)| *f == target.file) {
                    let mut names: Vec<String> =
                        cx.stack.iter().skip(pos).map(|(_, s)| s.clone()).collect();
                    names.push(modules.file_name(target.file));
                    part.graph.diagnostics.push(Diagnostic::new(
                        Code::ModuleCycle,
                        Severity::Error,
                        m.source_span,
                        format!("module cycle: {}", names.join(" → ")),
                    ));
                    return unknown("is not evaluated: it is part of a module cycle");
                }
                (target, module_params(m, ev, locals))
            }
            Err(ModuleError::NotRead) => {
                return unknown(&format!("is not evaluated: {}", ModuleError::NotRead));
            }
            Err(why) => {
                part.graph.diagnostics.push(Diagnostic::new(
                    Code::ModuleError,
                    Severity::Warning,
                    m.source_span,
                    why.to_string(),
                ));
                return unknown(&format!("is not evaluated: {why}"));
            }
        }
    } else {
        return unknown("is not evaluated: it has no template");
    };
    let deployment = match &m.scope {
        Some(scope) => scope_deployment(&ev.eval(scope, locals, 0), deployment),
        None => deployment.clone(),
    };
    let saved_maybe = cx.maybe.clone();
    if maybe.is_some() {
        cx.maybe = maybe;
    }
    let inline = m.inline_template.is_some();
    if !inline {
        cx.stack
            .push((target.file, cx.modules.file_name(target.file)));
    }
    cx.chain.push(m.head_span);
    let mut outputs = add_template(part, target, params, &deployment, cx);
    cx.chain.pop();
    // ARM callers read `outputs.x.value`; a Bicep caller of an ARM JSON module (a local `.json`
    // file, a registry module) reads `outputs.x`.
    if caller.language == Language::Bicep
        && target.language == Language::ArmTemplate
        && !m.declared_as_resource
    {
        if let Kind::Object(props) = &mut outputs.kind {
            for (_, v) in props.iter_mut() {
                if let Some(inner) = v.get("value").cloned() {
                    *v = inner;
                }
            }
        }
    }
    if !inline {
        cx.stack.pop();
    }
    cx.maybe = saved_maybe;
    outputs
}

/// The parameter values a module call passes.
fn module_params(
    m: &crate::model::ModuleDecl,
    ev: &Evaluator<'_>,
    locals: &crate::eval::Locals,
) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    if let Some(p) = &m.params {
        let v = ev.eval(p, locals, 0);
        if let Some(obj) = v.as_object() {
            // A `null` argument is no argument: the parameter's default applies (ARM's rule, which
            // the compiled `createObject('value', null())` of an absent Bicep argument relies on).
            for (k, v) in obj {
                if !matches!(v.kind, Kind::Null) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    out
}

/// The deployment a module's `scope` (a resource group or subscription value) stands for.
fn scope_deployment(scope: &Value, caller: &DeploymentContext) -> DeploymentContext {
    let id = scope.get("id").unwrap_or(scope);
    let (text, _) = value_text(id);
    let mut out = caller.clone();
    // Split at the slashes outside placeholders: `rg-{uniqueString(/subscriptions/…)}` is one
    // segment.
    let mut segments: Vec<&str> = Vec::new();
    let mut start = 0;
    for end in crate::eval::top_level_slashes(&text)
        .into_iter()
        .chain(Some(text.len()))
    {
        segments.extend(text.get(start..end).filter(|s| !s.is_empty()));
        start = end + 1;
    }
    for pair in segments.chunks(2) {
        let [key, value] = pair else {
            continue;
        };
        // An unknown subscription or resource group is not the caller's: its placeholder text
        // (`{rgName}`) is kept, and ids built with it stay unknown. The caller's own placeholders
        // mean the caller's scope.
        let own = [
            crate::eval::SUBSCRIPTION_PLACEHOLDER,
            crate::eval::RESOURCE_GROUP_PLACEHOLDER,
        ];
        let value = (!own.contains(value)).then(|| value.to_string());
        if key.eq_ignore_ascii_case("subscriptions") {
            out.subscription_id = value;
        } else if key.eq_ignore_ascii_case("resourceGroups") {
            out.resource_group = value;
        }
    }
    out
}

/// Module declarations in an order where each comes after the modules it reads.
fn module_order(t: &Template) -> Vec<usize> {
    if t.modules.is_empty() {
        return Vec::new();
    }
    // FxHash: looked up for every identifier of every module's expressions (no untrusted keys).
    let symbols: rustc_hash::FxHashMap<String, usize> = t
        .modules
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.symbol.as_ref().map(|s| (s.to_ascii_lowercase(), i)))
        .collect();
    // ARM names a nested deployment by its name (`resourceId('Microsoft.Resources/deployments',
    // 'n')`) or, in `languageVersion` 2.0, by its symbol (`reference('sym')`, `dependsOn: ['sym']`).
    let names: rustc_hash::FxHashMap<String, usize> = t
        .modules
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((m.name.as_ref()?.as_str()?.to_ascii_lowercase(), i)))
        .collect();
    let variables: rustc_hash::FxHashMap<String, usize> = t
        .vars
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.to_ascii_lowercase(), i))
        .collect();
    let arm_reference = |x: &Expr| -> Option<usize> {
        let ExprKind::Call(c) = &x.kind else {
            return None;
        };
        let literal = |i: usize| {
            c.args
                .get(i)
                .and_then(Expr::as_str)
                .map(str::to_ascii_lowercase)
        };
        if c.name.eq_ignore_ascii_case("reference") {
            return symbols.get(&literal(0)?).copied();
        }
        if c.name.eq_ignore_ascii_case("resourceId") {
            let at = c.args.iter().position(|a| {
                a.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Microsoft.Resources/deployments"))
            })?;
            return names.get(&literal(at + 1)?).copied();
        }
        None
    };
    // The modules an expression names (by symbol, or through ARM's `reference()` and
    // `resourceId()`), and the variables it reads; `lower` is one buffer for every identifier.
    let mut lower = String::new();
    let mut names_in = |e: &Expr, modules: &mut Vec<usize>, vars: &mut Vec<usize>| {
        e.walk(&mut |x| {
            let var = match &x.kind {
                ExprKind::Ident(name) => {
                    lower.clear();
                    lower.push_str(name);
                    lower.make_ascii_lowercase();
                    modules.extend(symbols.get(lower.as_str()));
                    variables.get(lower.as_str())
                }
                ExprKind::Call(c) if c.name.eq_ignore_ascii_case("variables") => c
                    .args
                    .first()
                    .and_then(Expr::as_str)
                    .and_then(|n| variables.get(&n.to_ascii_lowercase())),
                _ => None,
            };
            vars.extend(var);
            modules.extend(arm_reference(x));
        });
    };
    // Each variable's expression is walked once (when a module first reads it), not once for
    // every module that reads it.
    let mut var_names: Vec<Option<(Vec<usize>, Vec<usize>)>> = vec![None; t.vars.len()];
    let deps: Vec<Vec<usize>> = t
        .modules
        .iter()
        .map(|m| {
            let mut found = Vec::new();
            let loop_expr = match &m.loop_ {
                Some(crate::model::Loop::ForIn { iterable, .. }) => Some(iterable),
                Some(crate::model::Loop::Copy { count, .. }) => Some(count),
                None => None,
            };
            let mut reads = Vec::new();
            for e in m
                .params
                .iter()
                .chain(m.scope.iter())
                .chain(m.name.iter())
                .chain(m.condition.iter())
                .chain(loop_expr)
                .chain(m.depends_on.iter())
            {
                names_in(e, &mut found, &mut reads);
            }
            // Variables read on the way are read too (the compiler's `dependsOn` follows them).
            let mut seen_vars = vec![false; t.vars.len()];
            while let Some(v) = reads.pop() {
                match seen_vars.get_mut(v) {
                    Some(seen) if !*seen => *seen = true,
                    _ => continue,
                }
                let (Some(slot), Some(decl)) = (var_names.get_mut(v), t.vars.get(v)) else {
                    continue;
                };
                let (modules, vars) = slot.get_or_insert_with(|| {
                    let (mut modules, mut vars) = (Vec::new(), Vec::new());
                    names_in(&decl.value, &mut modules, &mut vars);
                    (modules, vars)
                });
                found.extend_from_slice(modules);
                reads.extend_from_slice(vars);
            }
            found.extend(
                m.depends_on
                    .iter()
                    .filter_map(|d| symbols.get(&d.as_str()?.to_ascii_lowercase())),
            );
            found
        })
        .collect();
    let mut order = Vec::new();
    let mut done = vec![false; t.modules.len()];
    for _ in 0..t.modules.len() {
        let mut progressed = false;
        for (i, d) in deps.iter().enumerate() {
            if done.get(i).copied().unwrap_or(true) {
                continue;
            }
            if d.iter()
                .all(|j| *j == i || done.get(*j).copied().unwrap_or(true))
            {
                order.push(i);
                if let Some(x) = done.get_mut(i) {
                    *x = true;
                }
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    // Modules that read each other: declaration order.
    for (i, d) in done.iter().enumerate() {
        if !d {
            order.push(i);
        }
    }
    order
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
    if t.language == Language::Bicep {
        let implicit = implicit_depends_on(t, di);
        if !implicit.is_empty() {
            out.push(DependsOn::Decl(implicit));
        }
    }
    out
}

/// The declarations a Bicep resource depends on without saying so: each resource it names
/// (its body, name, scope, condition, loop, `parent`) and its nested parent, as the compiler
/// writes `dependsOn` for them. `existing` resources are not deployed, so nothing waits for them.
fn implicit_depends_on(t: &Template, di: usize) -> Vec<usize> {
    let Some(decl) = t.resources.get(di) else {
        return Vec::new();
    };
    let mut locals: Vec<&str> = Vec::new();
    let mut exprs: Vec<&crate::expr::Expr> = vec![&decl.body];
    exprs.extend(decl.name.iter().chain(&decl.scope).chain(&decl.condition));
    exprs.extend(&decl.parent);
    if let Some(crate::model::Loop::ForIn {
        item,
        index,
        iterable,
        filter,
    }) = &decl.loop_
    {
        locals.extend(item.as_deref().into_iter().chain(index.as_deref()));
        exprs.push(iterable);
        exprs.extend(filter);
    }
    let mut named: Vec<&str> = Vec::new();
    for e in exprs {
        e.walk(&mut |x| {
            if let ExprKind::Ident(n) = &x.kind {
                if !locals.contains(&n.as_str()) {
                    named.push(n);
                }
            }
        });
    }
    let mut out: Vec<usize> = decl.parent_index.into_iter().collect();
    for (i, r) in t.resources.iter().enumerate() {
        if i == di || r.existing || out.contains(&i) {
            continue;
        }
        let Some(symbol) = r.symbol.as_deref() else {
            continue;
        };
        // A nested declaration is named through its parent (`parent::child`): top-level only.
        if r.parent_index.is_none() && named.iter().any(|n| n.eq_ignore_ascii_case(symbol)) {
            out.push(i);
        }
    }
    out.retain(|i| t.resources.get(*i).is_some_and(|r| !r.existing));
    out
}

/// Subnets declared inline in a virtual network become resources of their own.
fn add_inline_children(graph: &mut ResourceGraph, vnet: usize) {
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
                // The name is known when its text is (the id may still hold placeholders).
                if name_known && !parent.name.contains('{') {
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
                // ARM's inline `"type": "subnets"` is not the resource's type.
                if !["name", "id", "type"]
                    .iter()
                    .any(|x| k.eq_ignore_ascii_case(x))
                {
                    body.set(k, v.clone());
                }
            }
        }
        let span = s.span.unwrap_or(parent.span);
        body.span = Some(span);
        children.push(Resource {
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
        });
    }
    graph.resources.extend(children);
}

pub(crate) fn parent_id(id: &str) -> Option<&str> {
    // `…/providers/Ns/t1/n1/t2/n2` → `…/providers/Ns/t1/n1` when there are two or more pairs;
    // a `/` inside a `{...}` placeholder (`{uniqueString(/subscriptions/…)}`) separates nothing.
    let slashes = crate::eval::top_level_slashes(id);
    let providers = slashes.iter().rposition(|i| {
        id.get(*i..*i + "/providers/".len())
            .is_some_and(|p| p.eq_ignore_ascii_case("/providers/"))
    })?;
    // Slashes after `/providers`: the one before the namespace, then one per type and name.
    let segments = slashes.len().saturating_sub(providers + 1);
    if segments < 5 {
        return None;
    }
    let cut = *slashes.get(slashes.len().checked_sub(2)?)?;
    id.get(..cut)
}

fn link_parents(graph: &mut ResourceGraph, index: &IdIndex) {
    use rayon::prelude::*;
    let parents: Vec<Option<usize>> = graph
        .resources
        .par_iter()
        .enumerate()
        .map(|(i, r)| match r.origin {
            Origin::InlineSubnet { vnet, .. } => Some(vnet),
            Origin::Declared => parent_id(&r.id).and_then(|p| index.find(i, p)),
        })
        .collect();
    let mut edges = Vec::new();
    for (i, parent) in parents.into_iter().enumerate() {
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

/// `/subscriptions/…/providers/…` or `/providers/…` (ASCII case ignored) with at least four
/// slashes. Asked of every string of every resource body: compared in place, not lowercased into
/// a copy.
fn looks_like_resource_id(text: &str) -> bool {
    const SUBSCRIPTIONS: &[u8] = b"/subscriptions/";
    const PROVIDERS: &[u8] = b"/providers/";
    let bytes = text.as_bytes();
    let starts = |prefix: &[u8]| {
        bytes
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    (starts(SUBSCRIPTIONS) || starts(PROVIDERS))
        && bytes
            .windows(PROVIDERS.len())
            .any(|w| w.eq_ignore_ascii_case(PROVIDERS))
        && bytes.iter().filter(|b| **b == b'/').count() >= 4
}

fn link_references(graph: &mut ResourceGraph, index: &IdIndex) {
    use rayon::prelude::*;
    // Each resource on its own (in parallel); edges and unresolved references keep resource order.
    let per_resource: Vec<(Vec<Edge>, Vec<Unresolved>)> = graph
        .resources
        .par_iter()
        .enumerate()
        .map(|(i, r)| resource_references(i, r, index))
        .collect();
    for (edges, unresolved) in per_resource {
        graph.edges.extend(edges);
        graph.unresolved.extend(unresolved);
    }
}

/// The reference edges of resource `i` and the references that resolve to no resource.
fn resource_references(i: usize, r: &Resource, index: &IdIndex) -> (Vec<Edge>, Vec<Unresolved>) {
    let mut edges = Vec::new();
    let mut unresolved = Vec::new();
    let skip_subnets = r
        .type_name
        .eq_ignore_ascii_case("Microsoft.Network/virtualNetworks");
    let mut found: Vec<(String, &Value)> = Vec::new();
    collect_refs(&r.body, &mut String::new(), &mut found, skip_subnets, 0);
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
    (edges, unresolved)
}

/// Collects values that are resource ids (or unknown values of `…Id` properties), with paths.
/// `path` is the path of `v`, one buffer for the whole walk (extended and cut back at each
/// step): a new string per property was 2.5 % of the instructions of a quickstart run.
fn collect_refs<'v>(
    v: &'v Value,
    path: &mut String,
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
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                let id_key = k
                    .get(k.len().saturating_sub(2)..)
                    .is_some_and(|end| end.eq_ignore_ascii_case("id"));
                match &child.kind {
                    Kind::Unknown(r)
                        if id_key && !matches!(r.as_ref(), Reason::Symbolic { .. }) =>
                    {
                        out.push((path.clone(), child));
                    }
                    _ => collect_refs(child, path, out, skip_subnets, depth + 1),
                }
                path.truncate(len);
            }
        }
        Kind::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                collect_refs(child, path, out, skip_subnets, depth + 1);
                path.truncate(len);
            }
        }
        Kind::String(s) if looks_like_resource_id(s) => out.push((path.clone(), v)),
        Kind::Unknown(r) => {
            if let Reason::Symbolic { text } = r.as_ref() {
                if looks_like_resource_id(text) {
                    out.push((path.clone(), v));
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
    fn a_scope_splits_at_slashes_outside_placeholders() {
        let scope = Value::symbolic(
            "/subscriptions/{subscriptionId}/resourceGroups/rg-{uniqueString(/subscriptions/{subscriptionId})}-test"
                .to_string(),
        );
        let d = scope_deployment(&scope, &DeploymentContext::default());
        assert_eq!(d.subscription_id, None, "the caller's own subscription");
        assert_eq!(
            d.resource_group.as_deref(),
            Some("rg-{uniqueString(/subscriptions/{subscriptionId})}-test")
        );
    }

    #[test]
    fn resource_ids_are_recognised_in_any_case() {
        for id in [
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
            "/SUBSCRIPTIONS/s/resourceGroups/rg/PROVIDERS/Microsoft.Network/virtualNetworks/v",
            "/providers/Microsoft.Management/managementGroups/mg",
        ] {
            assert!(looks_like_resource_id(id), "{id}");
        }
        for text in [
            "",
            "/subscriptions/s",
            "/subscriptions/s/resourceGroups/rg",
            "/providers/x",
            "subscriptions/s/providers/a/b/c",
            "/subscriptionsé/providers/a/b/c",
            "/subscriptions/ß/a/b",
        ] {
            assert!(!looks_like_resource_id(text), "{text}");
        }
    }

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
        // A `/` inside a placeholder separates nothing.
        let rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}";
        let vnet =
            format!("{rg}/providers/Microsoft.Network/virtualNetworks/vnet-{{uniqueString({rg})}}");
        assert_eq!(
            parent_id(&format!(
                "{vnet}/subnets/snet-{{uniqueString({rg}/providers/x)}}"
            )),
            Some(vnet.as_str())
        );
        assert_eq!(parent_id(&vnet), None);
    }
}
