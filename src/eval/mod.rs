//! Partial evaluation of the template model: every value known, or unknown with a reason.
//!
//! One [`Evaluator`] per template instance (a template with its parameter values). Variables and
//! resource references are evaluated lazily and cached; cycles become unknown values and a
//! diagnostic. Values a template can't know — a parameter with no value, `reference()`, a property
//! of an `existing` resource — stay unknown with the reason; deployment-filled text such as
//! `resourceGroup().id` becomes a *symbolic* string, so that ids built the same way still match.

mod budget;
mod calls;
mod deployment;
pub mod functions;
mod memo;

pub use budget::{weight, Budget, BudgetLimits, RunBudget};
pub use deployment::DeploymentContext;

use crate::diagnostic::codes::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::expr::{ArrayItem, BinaryOp, Expr, ExprKind, InterpPart, ObjectItem, UnaryOp};
use crate::model::{Language, Loop, ResourceDecl, TargetScope, Template};
use crate::source::Span;
use crate::value::{Kind, Reason, Value};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// Bounds on evaluation, so that no template can make it hang or exhaust memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Nested evaluation depth.
    pub depth: usize,
    /// Elements of one loop or `range()`.
    pub loop_items: usize,
    /// Length of one string, in bytes.
    pub string_len: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            depth: 48,
            loop_items: 800,
            string_len: 1 << 20,
        }
    }
}

/// Key prefix, in the module values given to an [`Evaluator`], of the modules whose condition is
/// undecided (the value is the unknown condition).
pub const UNDECIDED_MODULE: &str = "undecided:";

/// Placeholder text for the deployment's subscription id.
pub const SUBSCRIPTION_PLACEHOLDER: &str = "{subscriptionId}";
/// Placeholder text for the deployment's resource group name.
pub const RESOURCE_GROUP_PLACEHOLDER: &str = "{resourceGroupName}";

/// Variables bound by loops and lambdas, innermost last.
pub type Locals = Vec<(String, Value)>;

/// One element of a resource declaration's expansion (its loop, and its parent's loop).
#[derive(Debug, Clone)]
pub struct Instance {
    pub locals: Locals,
    /// Position in the declaration's own loop.
    pub index: Option<usize>,
    /// Instance of the parent declaration (nested resources).
    pub parent_instance: Option<usize>,
}

/// What a resource declaration instance is called.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Its own name segment as declared (`snet-apim`; for ARM the full name).
    pub name: Value,
    /// `vnet/snet-apim`, as text (symbolic placeholders for unknown parts).
    pub full_name: String,
    /// Resource id text.
    pub id: String,
    /// Whether `id` is fully known (no placeholder).
    pub id_known: bool,
}

#[derive(Debug, Clone)]
enum Slot {
    InProgress,
    Done(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Symbol {
    Param(usize),
    Var(usize),
    Resource(usize),
    Module(usize),
}

/// Hash maps keyed by names and indices the evaluator looks up many times per expression: FxHash,
/// not SipHash (no untrusted keys to resist).
type FxHashMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// Evaluates one template with one set of parameter values.
pub struct Evaluator<'t> {
    template: &'t Template,
    params: FxHashMap<String, Value>,
    deployment: DeploymentContext,
    limits: Limits,
    symbols: FxHashMap<String, Symbol>,
    functions: FxHashMap<String, usize>,
    params_cache: RefCell<FxHashMap<usize, Slot>>,
    vars: RefCell<FxHashMap<usize, Slot>>,
    resources: RefCell<FxHashMap<usize, Slot>>,
    instances: RefCell<FxHashMap<usize, std::rc::Rc<Vec<Instance>>>>,
    identities: RefCell<FxHashMap<(usize, usize), Identity>>,
    module_outputs: FxHashMap<String, Value>,
    module_values: FxHashMap<String, Value>,
    /// The deployment's budget, shared with the evaluators of its modules.
    budget: std::rc::Rc<Budget>,
    /// What the construct under evaluation has used.
    construct: budget::Construct,
    /// The first limit that cut the construct under evaluation.
    cut: RefCell<Option<String>>,
    /// Bytes of evaluated parameters, variables and resources (what copying one costs).
    weights: RefCell<FxHashMap<(Symbol, usize), u64>>,
    /// Evaluations under way (the real recursion depth, across variables and resources).
    nesting: Cell<usize>,
    /// A `reference()` of a resource of this template is being resolved (not re-entered).
    resolving_reference: Cell<bool>,
    diagnostics: RefCell<Vec<Diagnostic>>,
    /// The epoch under way (see [`memo`]): a module call of the template, or its resources.
    epoch: Cell<u32>,
    /// Parameters and variables evaluated: the epoch that last read each, what it cost.
    memo: RefCell<FxHashMap<Symbol, memo::Memo>>,
    /// Parameter and variable evaluations under way, innermost last.
    frames: RefCell<Vec<memo::Frame>>,
    /// Bumped when an evaluation under way becomes impure (not replayed in a later epoch).
    taint: Cell<u64>,
    /// Deepest nesting reached since the innermost parameter or variable evaluation began.
    peak: Cell<usize>,
}

impl<'t> Evaluator<'t> {
    /// An evaluator for `template` with parameter values from a parameter file or a module call.
    pub fn new(
        template: &'t Template,
        params: HashMap<String, Value>,
        deployment: DeploymentContext,
    ) -> Self {
        let mut symbols = FxHashMap::default();
        for (i, r) in template.resources.iter().enumerate() {
            if let Some(s) = &r.symbol {
                symbols.insert(s.to_ascii_lowercase(), Symbol::Resource(i));
            }
        }
        for (i, m) in template.modules.iter().enumerate() {
            if let Some(s) = &m.symbol {
                symbols.insert(s.to_ascii_lowercase(), Symbol::Module(i));
            }
        }
        for (i, v) in template.vars.iter().enumerate() {
            symbols.insert(v.name.to_ascii_lowercase(), Symbol::Var(i));
        }
        for (i, p) in template.params.iter().enumerate() {
            symbols.insert(p.name.to_ascii_lowercase(), Symbol::Param(i));
        }
        let functions = template
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
        let params = by_lowercase_symbol(params);
        Evaluator {
            template,
            params,
            deployment,
            limits: Limits::default(),
            symbols,
            functions,
            params_cache: RefCell::default(),
            vars: RefCell::default(),
            resources: RefCell::default(),
            instances: RefCell::default(),
            identities: RefCell::default(),
            module_outputs: FxHashMap::default(),
            module_values: FxHashMap::default(),
            budget: std::rc::Rc::new(Budget::default()),
            construct: budget::Construct::default(),
            cut: RefCell::new(None),
            weights: RefCell::default(),
            nesting: Cell::new(0),
            resolving_reference: Cell::new(false),
            diagnostics: RefCell::default(),
            epoch: Cell::new(0),
            memo: RefCell::default(),
            frames: RefCell::default(),
            taint: Cell::new(0),
            peak: Cell::new(0),
        }
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Shares `budget` (the deployment's) with this evaluator.
    pub fn with_budget(mut self, budget: std::rc::Rc<Budget>) -> Self {
        self.budget = budget;
        self
    }

    /// The deployment's budget.
    pub fn budget(&self) -> &std::rc::Rc<Budget> {
        &self.budget
    }

    /// Starts a construct (a resource or module declaration, an output) with a budget of its own.
    pub fn begin_construct(&self) {
        self.construct.reset();
        *self.cut.borrow_mut() = None;
    }

    /// Ends the construct: the limit that cut it, if one did.
    pub fn end_construct(&self) -> Option<String> {
        self.cut.borrow_mut().take()
    }

    /// Spends `work` units and `bytes` on the construct and the deployment; the limit passed, if
    /// one is (also kept for [`Evaluator::end_construct`]).
    fn spend(&self, work: u64, bytes: u64) -> Option<String> {
        let passed = self
            .construct
            .spend(work, bytes, &self.budget.limits)
            .or_else(|| self.budget.spend(work, bytes))?;
        self.taint();
        let mut cut = self.cut.borrow_mut();
        if cut.is_none() {
            *cut = Some(passed.clone());
        }
        Some(passed)
    }

    /// `part` applied to the value of the variable `target` names (`x` not shadowed by a loop
    /// variable, or `variables('x')`), read in place: `variables('big')[i]` copies one element,
    /// not the whole variable. `None` when `target` is no variable reference.
    fn in_variable(
        &self,
        target: &Expr,
        locals: &Locals,
        part: impl FnOnce(&Value) -> Value,
    ) -> Option<Value> {
        let name: &str = match &target.kind {
            ExprKind::Ident(name) if !locals.iter().any(|(n, _)| n == name) => name,
            ExprKind::Call(c)
                if c.namespace.is_none() && c.name.eq_ignore_ascii_case("variables") =>
            {
                match c.args.as_slice() {
                    [Expr {
                        kind: ExprKind::String(name),
                        ..
                    }] => name,
                    _ => return None,
                }
            }
            _ => return None,
        };
        let Some(Symbol::Var(i)) = self.symbol(name).copied() else {
            return None;
        };
        let key = Symbol::Var(i);
        if self.read_now(key) {
            self.read(key, memo::ReadKind::Part, || {
                self.note_hit(key);
                Value::null()
            });
        } else {
            // Evaluated (and cached) once; a cycle is diagnosed there.
            let _ = self.read(key, memo::ReadKind::Part, || self.var_slot(i));
        }
        let vars = self.vars.borrow();
        let Some(Slot::Done(v)) = vars.get(&i) else {
            return None;
        };
        let out = part(v);
        drop(vars);
        let bytes = weight(&out);
        Some(match self.spend(0, bytes) {
            None => out,
            Some(what) => Value::unknown(Reason::Limit { what }),
        })
    }

    /// `part` applied to the loop variable `target` names, read in place: `item.name` copies the
    /// property, not the whole item. Paid for as [`Evaluator::eval`] of `target` pays for its
    /// copy (a step, the copy's bytes, the bytes it built), so the budgets stay as they were.
    /// `None` when `target` is no loop variable, or when it is nested too deep (its evaluation
    /// then reports that).
    fn in_local(
        &self,
        target: &Expr,
        locals: &Locals,
        depth: usize,
        part: impl FnOnce(&Value) -> Value,
    ) -> Option<Value> {
        let ExprKind::Ident(name) = &target.kind else {
            return None;
        };
        let (_, v) = locals.iter().rev().find(|(n, _)| n == name)?;
        let nesting = self.nesting.get() + 1;
        if depth.max(nesting) > self.limits.depth {
            return None;
        }
        self.nesting.set(nesting);
        if nesting > self.peak.get() {
            self.peak.set(nesting);
        }
        let cut = self
            .step()
            .err()
            .or_else(|| self.spend(0, weight(v)))
            .or_else(|| match built_bytes(v) {
                0 => None,
                built => self.spend(0, built),
            });
        let out = match cut {
            None => part(v),
            Some(what) => part(&Value::unknown(Reason::Limit { what }).with_span(target.span)),
        };
        self.nesting.set(self.nesting.get().saturating_sub(1));
        Some(out)
    }

    /// Records that a limit (`what`) cut the construct under evaluation.
    pub(crate) fn cut_by(&self, what: &str) {
        self.taint();
        let mut cut = self.cut.borrow_mut();
        if cut.is_none() {
            *cut = Some(what.to_string());
        }
    }

    /// `v`, copied, when its `bytes` fit the budgets; else unknown, naming the limit.
    fn copy_within_budget(&self, v: &Value, bytes: u64) -> Value {
        match self.spend(0, bytes) {
            None => v.clone(),
            Some(what) => Value::unknown(Reason::Limit { what }),
        }
    }

    /// The bytes of the evaluated symbol `key` (cached).
    fn weight_of(&self, key: (Symbol, usize), v: &Value) -> u64 {
        if let Some(w) = self.weights.borrow().get(&key) {
            return *w;
        }
        let w = weight(v);
        self.weights.borrow_mut().insert(key, w);
        w
    }

    /// Adds the whole value of a module declaration instantiated by the caller, by module symbol
    /// (lowercase): an object with `name` and `outputs`, or an array of them for a module loop;
    /// `deployment:<name>` for ARM's `reference('name')`, [`UNDECIDED_MODULE`] for a condition.
    pub fn set_module_value(&mut self, key: String, value: Value) {
        self.module_values.insert(key, value);
    }

    /// Whether a module value is known under `key` (lowercase).
    pub fn has_module_value(&self, key: &str) -> bool {
        self.module_values.contains_key(key)
    }

    /// The parameter values given to this evaluator (keys lowercase).
    pub fn param_values(&self) -> HashMap<String, Value> {
        self.params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Outputs of module declarations evaluated by the caller, by module symbol.
    pub fn with_module_outputs(mut self, outputs: HashMap<String, Value>) -> Self {
        self.module_outputs = by_lowercase_symbol(outputs);
        self
    }

    pub fn template(&self) -> &'t Template {
        self.template
    }

    /// Diagnostics raised while evaluating (cycles, limits).
    pub fn take_diagnostics(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut *self.diagnostics.borrow_mut())
    }

    fn diagnose(&self, span: Span, code: Code, message: String) {
        self.diagnose_at_level(span, code, Severity::Warning, message);
    }

    fn diagnose_at_level(&self, span: Span, code: Code, severity: Severity, message: String) {
        self.taint();
        let mut d = self.diagnostics.borrow_mut();
        if !d.iter().any(|x| x.span == span && code.is(&x.code)) {
            d.push(Diagnostic::new(code, severity, span, message));
        }
    }

    /// A loop or `copy` count ARM refuses (it must be 0 to 800): an error, as the deployment
    /// would fail, and the loop's elements unknown.
    fn count_out_of_range(&self, span: Span, count: i128) -> Value {
        let limit = self.limits.loop_items;
        let message = format!(
            "a loop or copy count must be between 0 and {limit}; this one is {count}, so ARM rejects the deployment"
        );
        self.diagnose_at_level(span, Code::TemplateError, Severity::Error, message.clone());
        Value::unknown(Reason::Error { message }).with_span(span)
    }

    /// The value of parameter `name` (provided, else its default, else unknown).
    pub fn param(&self, name: &str) -> Value {
        let key = name.to_ascii_lowercase();
        match self.symbols.get(&key) {
            Some(Symbol::Param(i)) => self.param_at(*i),
            _ => match self.params.get(&key) {
                Some(v) => v.clone(),
                None => Value::unknown(Reason::Error {
                    message: format!("no parameter '{name}' is declared"),
                }),
            },
        }
    }

    fn param_at(&self, i: usize) -> Value {
        self.read(Symbol::Param(i), memo::ReadKind::Whole, || {
            self.param_slot(i)
        })
    }

    fn param_slot(&self, i: usize) -> Value {
        let Some(decl) = self.template.params.get(i) else {
            return Value::null();
        };
        let declared = (decl.span, "parameter", decl.name.as_str());
        self.slot(Symbol::Param(i), &self.params_cache, declared, || {
            if let Some(v) = self.params.get(&decl.name.to_ascii_lowercase()) {
                v.clone()
            } else if let Some(default) = &decl.default {
                self.eval(default, &Vec::new(), 0)
            } else if decl.nullable {
                Value::null()
            } else {
                Value::unknown(Reason::Parameter {
                    name: decl.name.clone(),
                })
            }
        })
    }

    /// The value of the parameter or variable `key` (slot `i` of `cache`), computed once by
    /// `compute`: a copy of the cached value within the budget, the recorded value replayed when
    /// the read is not live, or a cycle diagnostic at the declaration (`declared`: its span, what
    /// it is, its name) when the value depends on itself.
    fn slot(
        &self,
        key: Symbol,
        cache: &RefCell<FxHashMap<usize, Slot>>,
        declared: (Span, &str, &str),
        compute: impl FnOnce() -> Value,
    ) -> Value {
        let (Symbol::Param(i) | Symbol::Var(i) | Symbol::Resource(i) | Symbol::Module(i)) = key;
        let now = self.read_now(key);
        match cache.borrow().get(&i) {
            Some(Slot::Done(v)) if now => {
                self.note_hit(key);
                let bytes = self.weight_of((key, i), v);
                return self.copy_within_budget(v, bytes);
            }
            Some(Slot::InProgress) => {
                let (span, what, name) = declared;
                return self.cycle(span, what, name);
            }
            _ => {}
        }
        if !now {
            if let Some(v) = self.replay(key) {
                return v;
            }
        }
        cache.borrow_mut().insert(i, Slot::InProgress);
        let value = self.evaluate_recorded(key, compute);
        cache.borrow_mut().insert(i, Slot::Done(value.clone()));
        value
    }

    /// The declaration `name` (any ASCII case) stands for.
    fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.symbols.get(&*ascii_lowercase(name, &mut [0; 64]))
    }

    /// The value of variable `name`.
    pub fn var(&self, name: &str) -> Value {
        match self.symbol(name) {
            Some(Symbol::Var(i)) => self.var_at(*i),
            _ => Value::unknown(Reason::Error {
                message: format!("no variable '{name}' is declared"),
            }),
        }
    }

    fn var_at(&self, i: usize) -> Value {
        self.read(Symbol::Var(i), memo::ReadKind::Whole, || self.var_slot(i))
    }

    fn var_slot(&self, i: usize) -> Value {
        let Some(decl) = self.template.vars.get(i) else {
            return Value::null();
        };
        let declared = (decl.span, "variable", decl.name.as_str());
        self.slot(Symbol::Var(i), &self.vars, declared, || {
            self.eval(&decl.value, &Vec::new(), 0)
        })
    }

    fn cycle(&self, span: Span, what: &str, name: &str) -> Value {
        let message = format!("{what} '{name}' depends on itself");
        self.diagnose(span, Code::EvaluationCycle, message.clone());
        Value::unknown(Reason::Error { message })
    }

    /// One work unit; `Err` naming the limit once a budget is spent.
    fn step(&self) -> Result<(), String> {
        match self.spend(1, 0) {
            None => Ok(()),
            Some(what) => Err(what),
        }
    }

    /// Evaluates `expr` with `locals` bound. `depth` counts nested evaluations.
    pub fn eval(&self, expr: &Expr, locals: &Locals, depth: usize) -> Value {
        let nesting = self.nesting.get() + 1;
        self.nesting.set(nesting);
        if nesting > self.peak.get() {
            self.peak.set(nesting);
        }
        let v = self.eval_guarded(expr, locals, depth);
        self.nesting.set(self.nesting.get().saturating_sub(1));
        v
    }

    fn eval_guarded(&self, expr: &Expr, locals: &Locals, depth: usize) -> Value {
        if depth.max(self.nesting.get()) > self.limits.depth {
            self.diagnose(
                expr.span,
                Code::EvaluationLimit,
                format!("expression nested deeper than {} levels", self.limits.depth),
            );
            return Value::unknown(Reason::Limit {
                what: "nesting depth".into(),
            })
            .with_span(expr.span);
        }
        if let Err(what) = self.step() {
            return Value::unknown(Reason::Limit { what }).with_span(expr.span);
        }
        let d = depth + 1;
        let value = match &expr.kind {
            ExprKind::Null => Value::null(),
            ExprKind::Bool(b) => Value::bool(*b),
            ExprKind::Int(i) => Value::int(*i),
            ExprKind::Float(f) => Value::new(Kind::Float(*f), None),
            ExprKind::String(s) => Value::string(s.clone()),
            ExprKind::Interpolation(parts) => {
                let values: Vec<Value> = parts
                    .iter()
                    .map(|p| match p {
                        InterpPart::Text(t) => Value::string(t.clone()),
                        InterpPart::Expr(e) => self.eval(e, locals, d),
                    })
                    .collect();
                calls::concat_text(self, &values)
            }
            ExprKind::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        ArrayItem::Item(e) => out.push(self.eval(e, locals, d)),
                        ArrayItem::Spread(e) => {
                            let v = self.eval(e, locals, d);
                            match v.kind {
                                Kind::Array(a) => out.extend(a),
                                Kind::Unknown(_) => return v.with_span(expr.span),
                                _ => out.push(type_error("spread of a non-array")),
                            }
                        }
                    }
                }
                Value::array(out)
            }
            ExprKind::Object(items) => {
                let mut obj = Value::object(Vec::with_capacity(items.len()));
                for item in items {
                    match item {
                        ObjectItem::Property { key, value, .. } => {
                            let v = self.eval(value, locals, d);
                            obj.set(key, v);
                        }
                        ObjectItem::Spread(e) => {
                            let v = self.eval(e, locals, d);
                            match v.kind {
                                Kind::Object(props) => {
                                    for (k, pv) in props {
                                        obj.set(&k, pv);
                                    }
                                }
                                Kind::Unknown(_) => return v.with_span(expr.span),
                                _ => {
                                    return type_error("spread of a non-object")
                                        .with_span(expr.span)
                                }
                            }
                        }
                    }
                }
                obj
            }
            ExprKind::Ident(name) => self.ident(name, locals, expr.span),
            ExprKind::Call(c) => self.call(
                c.namespace.as_deref(),
                &c.name,
                &c.args,
                locals,
                d,
                expr.span,
            ),
            ExprKind::Member { target, name, safe } => {
                if let Some(v) = self.undecided_module(target, *safe, locals) {
                    v
                } else if let Some(v) = self.resource_member(expr, locals, d) {
                    v
                } else {
                    // `a.?b.c`: a null met after a safe access ends the whole chain (the compiler
                    // writes `tryGet(a, 'b', 'c')`).
                    let read = |t: &Value| member(t, name, *safe || short_circuits(t, target));
                    match self
                        .in_local(target, locals, d, read)
                        .or_else(|| self.in_variable(target, locals, read))
                    {
                        Some(v) => v,
                        None => {
                            // The target is this expression's own: the property moves out of it.
                            let t = self.eval(target, locals, d);
                            let safe = *safe || short_circuits(&t, target);
                            take_member(t, name, safe)
                        }
                    }
                }
            }
            ExprKind::Index {
                target,
                index,
                safe,
                from_end,
            } => {
                let i = self.eval(index, locals, d);
                let read =
                    |t: &Value| index_value(t, &i, *safe || short_circuits(t, target), *from_end);
                match self
                    .in_local(target, locals, d, read)
                    .or_else(|| self.in_variable(target, locals, read))
                {
                    Some(v) => v,
                    None => {
                        // The target is this expression's own: the item moves out of it.
                        let t = self.eval(target, locals, d);
                        let safe = *safe || short_circuits(&t, target);
                        take_index(t, &i, safe, *from_end)
                    }
                }
            }
            ExprKind::ChildAccess { target, name } => self.child_access(target, name, locals, d),
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                let c = self.eval(cond, locals, d);
                match c.kind {
                    Kind::Bool(true) => self.eval(then, locals, d),
                    Kind::Bool(false) => self.eval(otherwise, locals, d),
                    Kind::Unknown(_) => {
                        let a = self.eval(then, locals, d);
                        let b = self.eval(otherwise, locals, d);
                        if a.first_unknown().is_none() && a.to_json_lossy() == b.to_json_lossy() {
                            a
                        } else {
                            chosen_by(&c)
                        }
                    }
                    _ => type_error("the condition of `?:` is not a bool"),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, locals, d),
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand, locals, d);
                match (op, &v.kind) {
                    (_, Kind::Unknown(_)) => v,
                    (UnaryOp::Not, Kind::Bool(b)) => Value::bool(!b),
                    (UnaryOp::Neg, Kind::Int(i)) => Value::int(i.saturating_neg()),
                    (UnaryOp::Neg, Kind::Float(f)) => Value::new(Kind::Float(-f), None),
                    _ => type_error("operator applied to a value of the wrong type"),
                }
            }
            ExprKind::NonNull(inner) => self.eval(inner, locals, d),
            ExprKind::Lambda { .. } => type_error("a lambda can only be passed to a function"),
            ExprKind::For(l) => self.eval_for(
                l.item.as_deref(),
                l.index.as_deref(),
                &l.iterable,
                l.filter.as_deref(),
                &l.body,
                locals,
                d,
            ),
            ExprKind::Error(message) => Value::unknown(Reason::Error {
                message: message.clone(),
            }),
        };
        // What a function or a container built is paid for in bytes (shallowly: the parts paid
        // for themselves), so that no expression can fill memory in few steps.
        let built = built_bytes(&value);
        if built > 0 {
            if let Some(what) = self.spend(0, built) {
                return Value::unknown(Reason::Limit { what }).with_span(expr.span);
            }
        }
        // Literals and containers keep their own span; references take the span of their use.
        value.with_span(expr.span)
    }

    #[expect(clippy::too_many_arguments, reason = "the parts of a for expression")]
    fn eval_for(
        &self,
        item: Option<&str>,
        index: Option<&str>,
        iterable: &Expr,
        filter: Option<&Expr>,
        body: &Expr,
        locals: &Locals,
        d: usize,
    ) -> Value {
        let items = match copy_count(item, iterable) {
            // An ARM property or variable `copy`: its count must be 0 to 800, as a resource's.
            Some(count) => {
                let n = self.eval(count, locals, d);
                match n.as_i64() {
                    Some(c) if c < 0 || c as i128 > self.limits.loop_items as i128 => {
                        return self.count_out_of_range(count.span, c.into());
                    }
                    Some(c) => Value::array((0..c).map(Value::int).collect()),
                    None => self.eval(iterable, locals, d),
                }
            }
            None => self.eval(iterable, locals, d),
        };
        if let Kind::Array(a) = &items.kind {
            if a.len() > self.limits.loop_items {
                return self.count_out_of_range(iterable.span, a.len() as i128);
            }
        }
        let elements = match iterable_elements(&items, self.limits.loop_items) {
            Ok(e) => e,
            Err(v) => return v,
        };
        let mut out = Vec::new();
        // Each iteration copies the loop variables in scope.
        let scope_bytes: u64 = locals.iter().map(|(_, v)| weight(v)).sum();
        for (i, element) in elements.into_iter().enumerate() {
            if let Some(what) = self.spend(0, scope_bytes) {
                return Value::unknown(Reason::Limit { what });
            }
            let mut scope = locals.clone();
            bind_loop(&mut scope, item, index, element, i);
            if let Some(f) = filter {
                match self.eval(f, &scope, d).kind {
                    Kind::Bool(false) => continue,
                    Kind::Bool(true) => {}
                    Kind::Unknown(r) => return Value::new(Kind::Unknown(r), None),
                    _ => return type_error("a loop filter is not a bool"),
                }
            }
            out.push(self.eval(body, &scope, d));
        }
        Value::array(out)
    }

    fn binary(&self, op: BinaryOp, lhs: &Expr, rhs: &Expr, locals: &Locals, d: usize) -> Value {
        let l = self.eval(lhs, locals, d);
        match op {
            // `&&` stops at the first false, `||` at the first true; an unknown operand decides
            // nothing unless the other one does.
            BinaryOp::And | BinaryOp::Or => {
                let decisive = op == BinaryOp::Or;
                if l.truthy() == Some(decisive) {
                    return Value::bool(decisive);
                }
                let r = self.eval(rhs, locals, d);
                return match (&l.kind, &r.kind) {
                    (_, Kind::Bool(b)) if *b == decisive => Value::bool(decisive),
                    (Kind::Bool(_), Kind::Bool(_)) => Value::bool(!decisive),
                    (Kind::Unknown(_), _) => l,
                    (_, Kind::Unknown(_)) => r,
                    _ if decisive => type_error("`||` needs bools"),
                    _ => type_error("`&&` needs bools"),
                };
            }
            BinaryOp::Coalesce => {
                return match &l.kind {
                    Kind::Null => self.eval(rhs, locals, d),
                    _ => l,
                };
            }
            _ => {}
        }
        let r = self.eval(rhs, locals, d);
        calls::binary(self, op, l, r)
    }

    fn ident(&self, name: &str, locals: &Locals, span: Span) -> Value {
        if let Some((_, v)) = locals.iter().rev().find(|(n, _)| n == name) {
            return self.copy_within_budget(v, weight(v));
        }
        match self.symbol(name) {
            Some(Symbol::Param(i)) => self.param_at(*i),
            Some(Symbol::Var(i)) => self.var_at(*i),
            Some(Symbol::Resource(i)) => self.resource_value(*i),
            Some(Symbol::Module(_)) => self.module_value(name),
            None => match name {
                "null" => Value::null(),
                "true" => Value::bool(true),
                "false" => Value::bool(false),
                // Imported symbols (`import {x} from`) and namespaces are not modelled: unknown,
                // and not a diagnostic (undeclared names are the Bicep compiler's to report).
                _ => {
                    let _ = span;
                    Value::unknown(Reason::Error {
                        message: format!("`{name}` is not evaluated"),
                    })
                }
            },
        }
    }

    /// `sym.?x` where `sym` is a module whose condition is undecided: unknown, as the compiled
    /// `tryGet(if(condition, reference('sym'), null()), 'x')` is (the module may not be deployed).
    fn undecided_module(&self, target: &Expr, safe: bool, locals: &Locals) -> Option<Value> {
        let ExprKind::Ident(name) = &target.kind else {
            return None;
        };
        if !safe || locals.iter().any(|(n, _)| n == name) {
            return None;
        }
        let key = name.to_ascii_lowercase();
        let Some(Symbol::Module(_)) = self.symbols.get(&key) else {
            return None;
        };
        self.taint();
        self.module_values
            .get(&format!("{UNDECIDED_MODULE}{key}"))
            .cloned()
    }

    /// `reference('name')` / `reference(resourceId('Microsoft.Resources/deployments', 'name'))` of a
    /// nested deployment the caller instantiated (keyed `deployment:<name>`, or by symbol in
    /// `languageVersion` 2.0): its value.
    fn deployment_reference(&self, arg: &Expr, locals: &Locals, d: usize) -> Option<Value> {
        self.taint();
        if self.module_values.is_empty() {
            return None;
        }
        let v = self.eval(arg, locals, d + 1);
        let (text, _) = value_text(&v);
        let lower = text.to_ascii_lowercase();
        let slashes = top_level_slashes(&lower);
        let name = match slashes.last() {
            Some(last) => {
                if !lower.contains("microsoft.resources/deployments/") {
                    return None;
                }
                lower.get(last + 1..)?.to_string()
            }
            None => lower,
        };
        self.module_values
            .get(&format!("deployment:{name}"))
            .cloned()
            .or_else(|| {
                // `reference('symbol')` / `reference('symbol[2]')`: a module (one of a module
                // loop) of a `languageVersion` 2.0 template.
                if !matches!(v.kind, Kind::String(_)) {
                    return None;
                }
                let (symbol, index) = match name.strip_suffix(']').and_then(|n| n.split_once('[')) {
                    Some((s, i)) => (s.to_string(), Some(i.trim().parse::<usize>().ok()?)),
                    None => (name.clone(), None),
                };
                let Some(Symbol::Module(_)) = self.symbols.get(&symbol) else {
                    return None;
                };
                let value = self.module_values.get(&symbol)?;
                match index {
                    Some(i) => value.as_array()?.get(i).cloned(),
                    None => Some(value.clone()),
                }
            })
    }

    /// `reference(x)` / `reference(x, apiVersion, 'full')` of a resource this template declares,
    /// by symbol (`languageVersion` 2.0) or by id: its properties (the whole resource with
    /// `'full'`), as the symbolic `resource.properties` of Bicep gives them. `None` when `x` names
    /// no resource of this template.
    pub(crate) fn resource_reference(
        &self,
        args: &[Expr],
        locals: &Locals,
        d: usize,
    ) -> Option<Value> {
        self.taint();
        if self.resolving_reference.get() {
            return None;
        }
        let arg = args.first()?;
        let v = self.eval(arg, locals, d + 1);
        let full = args
            .get(2)
            .map(|a| self.eval(a, locals, d + 1))
            .and_then(|m| m.as_str().map(|s| s.eq_ignore_ascii_case("full")))
            .unwrap_or(false);
        let (text, _) = value_text(&v);
        if text.contains("{?}") {
            return None;
        }
        self.resolving_reference.set(true);
        let found = self.resource_by_reference(&text, matches!(v.kind, Kind::String(_)));
        self.resolving_reference.set(false);
        let (decl, instance) = found?;
        // A resource reading its own deployed state (`reference()` of its own id, as a nested
        // template evaluated in its caller's scope may) reads what Azure has: unknown here.
        if matches!(self.resources.borrow().get(&decl), Some(Slot::InProgress)) {
            return None;
        }
        let whole = self.resource_value(decl);
        let object = match self.template.resources.get(decl)?.loop_ {
            Some(_) => whole.as_array()?.get(instance)?.clone(),
            None => whole,
        };
        if full {
            return Some(object);
        }
        Some(match object.get("properties") {
            Some(p) => p.clone(),
            None => Value::object(Vec::new()),
        })
    }

    /// The declaration and instance that `reference()`'s argument names: a symbol, or the id of
    /// one of this template's resources (compared case-insensitively).
    fn resource_by_reference(&self, text: &str, literal: bool) -> Option<(usize, usize)> {
        if literal && !text.contains('/') {
            return match self.symbol(text) {
                Some(Symbol::Resource(i)) => Some((*i, 0)),
                _ => None,
            };
        }
        if !text.contains("/providers/") {
            return None;
        }
        let wanted = crate::model::normalize_id(text);
        for (di, r) in self.template.resources.iter().enumerate() {
            let last_type = r.type_name.rsplit('/').next().unwrap_or("");
            if !wanted.contains(&format!("/{}/", last_type.to_ascii_lowercase())) {
                continue;
            }
            let n = self.instances(di).len();
            for ii in 0..n {
                if crate::model::normalize_id(&self.identity(di, ii).id) == wanted {
                    return Some((di, ii));
                }
            }
        }
        None
    }

    fn module_value(&self, name: &str) -> Value {
        self.taint();
        if let Some(v) = self.module_values.get(&name.to_ascii_lowercase()) {
            return self.copy_within_budget(v, weight(v));
        }
        match self.module_outputs.get(&name.to_ascii_lowercase()) {
            Some(outputs) => Value::object(vec![
                ("name".into(), Value::string(name)),
                ("outputs".into(), outputs.clone()),
            ]),
            None => Value::unknown(Reason::Module {
                reference: name.to_string(),
                why: "is not evaluated".into(),
            }),
        }
    }

    /// The value a resource symbol stands for: an object with `id`, `name`, `type`, `apiVersion`
    /// and the declared body (an array of them for a loop).
    pub fn resource_value(&self, decl: usize) -> Value {
        self.taint();
        match self.resources.borrow().get(&decl) {
            Some(Slot::Done(v)) => {
                let bytes = self.weight_of((Symbol::Resource(decl), decl), v);
                return self.copy_within_budget(v, bytes);
            }
            Some(Slot::InProgress) => {
                let span = self
                    .template
                    .resources
                    .get(decl)
                    .map(|r| r.span)
                    .unwrap_or_default();
                let name = self
                    .template
                    .resources
                    .get(decl)
                    .and_then(|r| r.symbol.clone())
                    .unwrap_or_default();
                return self.cycle(span, "resource", &name);
            }
            None => {}
        }
        self.resources.borrow_mut().insert(decl, Slot::InProgress);
        let value = match self.template.resources.get(decl) {
            None => Value::null(),
            Some(r) => {
                let instances = self.instances(decl);
                let objects: Vec<Value> = (0..instances.len())
                    .map(|i| self.instance_object(decl, r, i, &instances))
                    .collect();
                if r.loop_.is_some() {
                    Value::array(objects)
                } else {
                    objects.into_iter().next().unwrap_or_else(Value::null)
                }
            }
        };
        self.resources
            .borrow_mut()
            .insert(decl, Slot::Done(value.clone()));
        value
    }

    fn instance_object(
        &self,
        decl: usize,
        r: &ResourceDecl,
        i: usize,
        instances: &[Instance],
    ) -> Value {
        let Some(inst) = instances.get(i) else {
            return Value::null();
        };
        let ident = self.identity(decl, i);
        let id = if ident.id_known {
            Value::string(ident.id.clone())
        } else {
            Value::symbolic(ident.id.clone())
        };
        let mut obj = Value::object(vec![
            ("id".into(), id.clone()),
            ("name".into(), ident.name.clone()),
            ("type".into(), Value::string(r.type_name.clone())),
        ]);
        if let Some(v) = &r.api_version {
            obj.set("apiVersion", Value::string(v.clone()));
        }
        if r.existing {
            let symbol = r.symbol.clone().unwrap_or_else(|| ident.full_name.clone());
            obj.set("properties", Value::unknown(Reason::Existing { symbol }));
            return obj;
        }
        let body = self.eval(&r.body, &inst.locals, 0);
        if let Kind::Object(props) = body.kind {
            for (k, v) in props {
                obj.set(&k, v);
            }
        }
        add_inline_child_ids(&mut obj, &r.type_name, &id);
        obj
    }

    /// Member access whose root is a resource symbol: a property the template doesn't set is
    /// Azure's to fill in at deployment, so it is unknown rather than missing.
    fn resource_member(&self, expr: &Expr, locals: &Locals, d: usize) -> Option<Value> {
        let (root, path) = resource_path(expr)?;
        if locals.iter().any(|(n, _)| n == root) {
            return None;
        }
        let Some(Symbol::Resource(decl)) = self.symbol(root) else {
            return None;
        };
        let existing = self
            .template
            .resources
            .get(*decl)
            .map(|r| r.existing)
            .unwrap_or(false);
        let mut shown = root.to_string();
        let mut steps = path.into_iter().peekable();
        let mut current =
            match self.cached_resource_part(*decl, &mut steps, root, existing, &mut shown) {
                Some(v) => v,
                None => self.resource_value(*decl),
            };
        for step in steps {
            current = match step {
                PathStep::Member(name, safe) => {
                    shown.push('.');
                    shown.push_str(name);
                    resource_member_step(&current, name, safe, root, existing, &shown)
                }
                PathStep::Index(index, safe, from_end) => {
                    shown.push_str("[…]");
                    let i = self.eval(index, locals, d);
                    index_value(&current, &i, safe, from_end)
                }
            };
        }
        Some(current)
    }

    /// [`Evaluator::resource_value`] of a resource evaluated before, followed by the member steps
    /// that lead `steps`, read in place: only the part they lead to is copied, though the whole
    /// value is paid for as its copy would be (the budgets stay as they were). `None` (nothing
    /// taken from `steps`) when the resource is not evaluated yet.
    fn cached_resource_part<'e>(
        &self,
        decl: usize,
        steps: &mut std::iter::Peekable<std::vec::IntoIter<PathStep<'e>>>,
        root: &str,
        existing: bool,
        shown: &mut String,
    ) -> Option<Value> {
        let resources = self.resources.borrow();
        let Some(Slot::Done(whole)) = resources.get(&decl) else {
            return None;
        };
        self.taint();
        let bytes = self.weight_of((Symbol::Resource(decl), decl), whole);
        if let Some(what) = self.spend(0, bytes) {
            return Some(Value::unknown(Reason::Limit { what }));
        }
        let mut current = whole;
        while let Some(&PathStep::Member(name, safe)) = steps.peek() {
            steps.next();
            shown.push('.');
            shown.push_str(name);
            match current.get(name) {
                Some(v) => current = v,
                None => {
                    return Some(resource_member_step(
                        current, name, safe, root, existing, shown,
                    ))
                }
            }
        }
        Some(current.clone())
    }

    fn child_access(&self, target: &Expr, name: &str, locals: &Locals, d: usize) -> Value {
        // `parent::child`: the nested declaration named `child` inside `parent`.
        let parent_decl = match &target.kind {
            ExprKind::Ident(s) => match self.symbol(s) {
                Some(Symbol::Resource(i)) => Some(*i),
                _ => None,
            },
            ExprKind::ChildAccess { .. } => self.child_decl(target),
            _ => None,
        };
        let found = parent_decl.and_then(|p| {
            self.template
                .resources
                .iter()
                .enumerate()
                .position(|(_, r)| r.parent_index == Some(p) && r.symbol.as_deref() == Some(name))
        });
        match found {
            Some(i) => self.resource_value(i),
            None => {
                let _ = (locals, d);
                type_error(&format!("no nested resource '{name}'"))
            }
        }
    }

    fn child_decl(&self, expr: &Expr) -> Option<usize> {
        match &expr.kind {
            ExprKind::Ident(s) => match self.symbol(s) {
                Some(Symbol::Resource(i)) => Some(*i),
                _ => None,
            },
            ExprKind::ChildAccess { target, name } => {
                let p = self.child_decl(target)?;
                self.template
                    .resources
                    .iter()
                    .position(|r| r.parent_index == Some(p) && r.symbol.as_deref() == Some(name))
            }
            _ => None,
        }
    }

    /// The expansion of a resource declaration: one instance, or one per loop element (and per
    /// instance of a nested declaration's parent). A loop over an unknown collection yields one
    /// instance whose loop variables are unknown.
    pub fn instances(&self, decl: usize) -> std::rc::Rc<Vec<Instance>> {
        self.taint();
        if let Some(v) = self.instances.borrow().get(&decl) {
            return v.clone();
        }
        // Guard against a parent chain that loops back on itself.
        self.instances
            .borrow_mut()
            .insert(decl, std::rc::Rc::new(Vec::new()));
        let Some(r) = self.template.resources.get(decl) else {
            return std::rc::Rc::new(Vec::new());
        };
        let bases: Vec<(Locals, Option<usize>)> = match r.parent_index {
            Some(p) if p != decl => self
                .instances(p)
                .iter()
                .enumerate()
                .map(|(i, inst)| (inst.locals.clone(), Some(i)))
                .collect(),
            _ => vec![(Vec::new(), None)],
        };
        let mut out = Vec::new();
        for (locals, parent_instance) in bases {
            out.extend(self.expand_loop(r.loop_.as_ref(), locals, parent_instance));
        }
        let out = std::rc::Rc::new(out);
        self.instances.borrow_mut().insert(decl, out.clone());
        out
    }

    /// Expands a declaration loop into instances with their loop variables bound.
    pub fn expand_loop(
        &self,
        loop_: Option<&Loop>,
        locals: Locals,
        parent_instance: Option<usize>,
    ) -> Vec<Instance> {
        let one = |locals: Locals, index: Option<usize>| Instance {
            locals,
            index,
            parent_instance,
        };
        match loop_ {
            None => vec![one(locals, None)],
            Some(Loop::ForIn {
                item,
                index,
                iterable,
                filter,
            }) => {
                let mut items = self.eval(iterable, &locals, 0);
                if let Kind::Array(a) = &items.kind {
                    if a.len() > self.limits.loop_items {
                        items = self.count_out_of_range(iterable.span, a.len() as i128);
                    }
                }
                let elements = match iterable_elements(&items, self.limits.loop_items) {
                    Ok(e) => e,
                    Err(unknown) => {
                        let mut scope = locals;
                        if let Some(n) = item {
                            scope.push((n.clone(), unknown.clone()));
                        }
                        if let Some(n) = index {
                            scope.push((n.clone(), unknown));
                        }
                        return vec![one(scope, None)];
                    }
                };
                let mut out = Vec::new();
                for (i, element) in elements.into_iter().enumerate() {
                    let mut scope = locals.clone();
                    bind_loop(&mut scope, item.as_deref(), index.as_deref(), element, i);
                    if let Some(f) = filter {
                        if self.eval(f, &scope, 0).truthy() == Some(false) {
                            continue;
                        }
                    }
                    out.push(one(scope, Some(i)));
                }
                out
            }
            Some(Loop::Copy { name, count }) => {
                let mut n = self.eval(count, &locals, 0);
                if let Some(c) = n.as_i64() {
                    if c < 0 || c as i128 > self.limits.loop_items as i128 {
                        n = self.count_out_of_range(count.span, c.into());
                    }
                }
                match n.as_i64() {
                    Some(n) => {
                        let n = usize::try_from(n.max(0)).unwrap_or(0);
                        (0..n.min(self.limits.loop_items))
                            .map(|i| {
                                let mut scope = locals.clone();
                                scope.push((
                                    format!("copy:{name}"),
                                    Value::int(i64::try_from(i).unwrap_or(0)),
                                ));
                                one(scope, Some(i))
                            })
                            .collect()
                    }
                    None => {
                        let mut scope = locals;
                        let v = if n.is_unknown() {
                            n
                        } else {
                            type_error("copy count is not an integer")
                        };
                        scope.push((format!("copy:{name}"), v));
                        vec![one(scope, None)]
                    }
                }
            }
        }
    }

    /// Evaluates a declaration instance's condition: `None` when there is none.
    pub fn condition(&self, decl: &ResourceDecl, inst: &Instance) -> Option<Value> {
        decl.condition
            .as_ref()
            .map(|c| self.eval(c, &inst.locals, 0))
    }

    /// Name, full name and id of instance `i` of resource declaration `decl`.
    pub fn identity(&self, decl: usize, i: usize) -> Identity {
        self.taint();
        if let Some(id) = self.identities.borrow().get(&(decl, i)) {
            return id.clone();
        }
        let identity = self.compute_identity(decl, i);
        self.identities
            .borrow_mut()
            .insert((decl, i), identity.clone());
        identity
    }

    fn compute_identity(&self, decl: usize, i: usize) -> Identity {
        let unknown_identity = || Identity {
            name: Value::unknown(Reason::Error {
                message: "resource not found".into(),
            }),
            full_name: "{?}".into(),
            id: "{?}".into(),
            id_known: false,
        };
        let Some(r) = self.template.resources.get(decl) else {
            return unknown_identity();
        };
        let instances = self.instances(decl);
        let Some(inst) = instances.get(i) else {
            return unknown_identity();
        };
        let name = match &r.name {
            Some(e) => self.eval(e, &inst.locals, 0),
            None => Value::unknown(Reason::Error {
                message: "the resource has no name".into(),
            }),
        };
        let mut own = value_text(&name);
        // A name not known at all may still have known parts and a known number of segments
        // (`format('{0}/{1}', zoneName, 'link')` with the zone name unknown): keep them, with
        // `{?}` for the unknown parts, so that the id has its shape (it links to nothing).
        if !own.1 && own.0 == "{?}" {
            if let Some(e) = &r.name {
                own.0 = self.name_text(e, &inst.locals);
            }
        }
        let bicep = matches!(
            self.template.language,
            Language::Bicep | Language::BicepParams
        );
        // The parent whose name prefixes this one, for Bicep children.
        let parent: Option<(usize, Option<usize>)> = if !bicep {
            None
        } else if let Some(p) = r.parent_index {
            inst.parent_instance.map(|pi| (p, Some(pi)))
        } else if let Some(pexpr) = &r.parent {
            self.parent_of(pexpr, &inst.locals)
        } else {
            None
        };
        let (full_name, prefix_id) = match parent {
            Some((p, pi)) if (p, pi) != (decl, Some(i)) => {
                let pid = match pi {
                    Some(pi) => self.identity(p, pi),
                    None => self.unknown_instance(p),
                };
                (format!("{}/{}", pid.full_name, own.0), Some(pid))
            }
            _ => (own.0.clone(), None),
        };
        let mut known = own.1;
        let id = match prefix_id {
            Some(pid) => {
                known &= pid.id_known;
                let last_type = r.type_name.rsplit('/').next().unwrap_or("");
                format!("{}/{}/{}", pid.id, last_type, own.0)
            }
            None => {
                let (scope_prefix, scope_known) = self.scope_prefix(r, &inst.locals);
                known &= scope_known;
                compose_id(&scope_prefix, &r.type_name, &full_name)
            }
        };
        Identity {
            name,
            full_name,
            id,
            id_known: known,
        }
    }

    /// The identity of an instance of `decl` that is not known: the declaration's id shape (its
    /// first instance's) with `{?}` for the instance's own name, as the ARM side writes a parent
    /// picked by an unknown index.
    fn unknown_instance(&self, decl: usize) -> Identity {
        let mut pid = self.identity(decl, 0);
        let own_unknown = |text: &str| match top_level_slashes(text).last() {
            Some(last) => format!("{}/{{?}}", text.get(..*last).unwrap_or("")),
            None => "{?}".to_string(),
        };
        if pid.id != "{?}" {
            pid.id = own_unknown(&pid.id);
        }
        pid.full_name = own_unknown(&pid.full_name);
        pid.name = Value::unknown(Reason::Error {
            message: "the parent instance is not known".into(),
        });
        pid.id_known = false;
        pid
    }

    /// The text of a name expression, part by part: `concat`, `format` and interpolations are
    /// taken apart, each part rendered as [`value_text`] renders it.
    fn name_text(&self, expr: &Expr, locals: &Locals) -> String {
        self.name_text_at(expr, locals, 0)
    }

    fn name_text_at(&self, expr: &Expr, locals: &Locals, depth: usize) -> String {
        let part = |e: &Expr| {
            let (text, known) = value_text(&self.eval(e, locals, 0));
            if !known && text == "{?}" && depth < 8 {
                self.name_text_at(e, locals, depth + 1)
            } else {
                text
            }
        };
        match &expr.kind {
            ExprKind::Call(c) if c.namespace.is_none() && c.name.eq_ignore_ascii_case("concat") => {
                c.args.iter().map(part).collect()
            }
            ExprKind::Call(c) if c.namespace.is_none() && c.name.eq_ignore_ascii_case("format") => {
                let Some(pattern) = c
                    .args
                    .first()
                    .and_then(|a| self.eval(a, locals, 0).as_str().map(str::to_string))
                else {
                    return "{?}".into();
                };
                let args: Vec<String> = c.args.iter().skip(1).map(part).collect();
                let mut out = String::new();
                let mut rest = pattern.as_str();
                while let Some(open) = rest.find('{') {
                    out.push_str(rest.get(..open).unwrap_or(""));
                    let after = rest.get(open + 1..).unwrap_or("");
                    let close = after.find('}');
                    let index = close
                        .and_then(|c| after.get(..c))
                        .and_then(|x| x.split(':').next())
                        .and_then(|x| x.trim().parse::<usize>().ok());
                    match (index, close) {
                        (Some(i), Some(c)) => {
                            out.push_str(args.get(i).map(String::as_str).unwrap_or("{?}"));
                            rest = after.get(c + 1..).unwrap_or("");
                        }
                        _ => {
                            out.push('{');
                            rest = after;
                        }
                    }
                }
                out.push_str(rest);
                out
            }
            ExprKind::Interpolation(parts) => parts
                .iter()
                .map(|p| match p {
                    InterpPart::Text(t) => t.clone(),
                    InterpPart::Expr(e) => part(e),
                })
                .collect(),
            _ => value_text(&self.eval(expr, locals, 0)).0,
        }
    }

    /// Resolves a `parent:` expression to (declaration, instance); the instance is `None` when
    /// its index is unknown (`parent: groups[index]` in a loop over an unknown array).
    fn parent_of(&self, expr: &Expr, locals: &Locals) -> Option<(usize, Option<usize>)> {
        match &expr.kind {
            ExprKind::Ident(s) => match self.symbol(s) {
                Some(Symbol::Resource(p)) => Some((*p, Some(0))),
                _ => None,
            },
            ExprKind::Index { target, index, .. } => {
                let (p, _) = self.parent_of(target, locals)?;
                let i = self.eval(index, locals, 0);
                if i.is_unknown() {
                    return Some((p, None));
                }
                Some((p, Some(usize::try_from(i.as_i64()?).ok()?)))
            }
            ExprKind::ChildAccess { .. } => self.child_decl(expr).map(|p| (p, Some(0))),
            ExprKind::NonNull(inner) => self.parent_of(inner, locals),
            _ => None,
        }
    }

    /// The id prefix of the scope a resource is deployed at, and whether it is fully known.
    fn scope_prefix(&self, r: &ResourceDecl, locals: &Locals) -> (String, bool) {
        if let Some(scope) = &r.scope {
            let v = self.eval(scope, locals, 0);
            let id = match v.get("id") {
                Some(id) => id.clone(),
                // `tenant()` has no id: tenant-level ids start at `/providers`.
                None if matches!(v.kind, Kind::Object(_)) => return (String::new(), true),
                None => v,
            };
            let (mut text, known) = value_text(&id);
            if !known && text == "{?}" {
                // `format('Microsoft.X/y/{0}', unknownName)`: the shape of the scope is known.
                text = self.name_text(scope, locals);
            }
            // ARM's tenant scope, `"scope": "/"`.
            let text = text.trim_end_matches('/').to_string();
            // ARM's relative scope, `Microsoft.KeyVault/vaults/kv1`: a resource at the
            // deployment's own scope.
            if is_relative_scope(&text) {
                let (base, base_known) = self.default_scope();
                return (format!("{base}/providers/{text}"), known && base_known);
            }
            return (text, known);
        }
        self.default_scope()
    }

    /// The id of the scope the template deploys to.
    pub fn default_scope(&self) -> (String, bool) {
        let sub = self.deployment.subscription_id.as_deref();
        let rg = self.deployment.resource_group.as_deref();
        // A module's scope may be another unknown subscription or group: `{rgName}`.
        let known = |part: Option<&str>| part.is_some_and(|p| !p.contains('{'));
        match self.template.target_scope {
            TargetScope::ResourceGroup => (
                format!(
                    "/subscriptions/{}/resourceGroups/{}",
                    sub.unwrap_or(SUBSCRIPTION_PLACEHOLDER),
                    rg.unwrap_or(RESOURCE_GROUP_PLACEHOLDER)
                ),
                known(sub) && known(rg),
            ),
            TargetScope::Subscription => (
                format!("/subscriptions/{}", sub.unwrap_or(SUBSCRIPTION_PLACEHOLDER)),
                known(sub),
            ),
            TargetScope::ManagementGroup => (
                "/providers/Microsoft.Management/managementGroups/{managementGroupId}".into(),
                false,
            ),
            TargetScope::Tenant => (String::new(), true),
        }
    }

    fn call(
        &self,
        namespace: Option<&str>,
        name: &str,
        args: &[Expr],
        locals: &Locals,
        d: usize,
        span: Span,
    ) -> Value {
        let mut buf = [0; 64];
        let lower = ascii_lowercase(name, &mut buf);
        let lower = &*lower;
        if let Some(ns) = namespace {
            let ns = ns.to_ascii_lowercase();
            if ns != "sys" && ns != "az" {
                return Value::unknown(Reason::Error {
                    message: format!("function '{ns}.{name}' is not evaluated"),
                });
            }
        }
        if let Some(f) = self.functions.get(lower) {
            if let Some(decl) = self.template.functions.get(*f) {
                let mut scope: Locals = Vec::new();
                for (p, a) in decl.params.iter().zip(args) {
                    scope.push((p.clone(), self.eval(a, locals, d)));
                }
                return self.eval(&decl.body, &scope, d);
            }
        }
        calls::call(self, lower, name, args, locals, d, span)
    }

    /// `copyIndex(name?)`: the index of the named (or innermost) copy loop.
    fn copy_index(&self, loop_name: Option<&str>, locals: &Locals) -> Value {
        let found = locals.iter().rev().find(|(n, _)| match loop_name {
            Some(l) => n
                .strip_prefix("copy:")
                .is_some_and(|x| x.eq_ignore_ascii_case(l)),
            None => n.starts_with("copy:"),
        });
        match found {
            Some((_, v)) => v.clone(),
            None => type_error("copyIndex() used outside a copy loop"),
        }
    }
}

/// The text of a string-like value for ids and names: known text, symbolic text, or a placeholder
/// naming what is unknown; and whether it is fully known.
pub fn value_text(v: &Value) -> (String, bool) {
    match &v.kind {
        Kind::String(s) => (s.clone(), true),
        Kind::Int(i) => (i.to_string(), true),
        Kind::Unknown(r) => (
            match r.as_ref() {
                Reason::Symbolic { text } => text.clone(),
                Reason::Parameter { name } => format!("{{{name}}}"),
                Reason::Existing { symbol } => format!("{{{symbol}}}"),
                Reason::Module { reference, .. } => format!("{{{reference}}}"),
                _ => "{?}".into(),
            },
            false,
        ),
        _ => (v.to_json_lossy().to_string(), true),
    }
}

/// Whether a scope is written relative to the deployment's scope: `Ns.Provider/type/name…`.
fn is_relative_scope(text: &str) -> bool {
    let Some((namespace, rest)) = text.split_once('/') else {
        return false;
    };
    !rest.is_empty()
        && namespace.contains('.')
        && namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
}

/// `/subscriptions/…/providers/Ns/t1/n1/t2/n2` from a scope id, a full type and a full name.
pub fn compose_id(scope: &str, type_name: &str, full_name: &str) -> String {
    let mut parts = type_name.split('/');
    let namespace = parts.next().unwrap_or("");
    let types: Vec<&str> = parts.collect();
    let names = name_segments(full_name);
    // Sized once: the id is the scope, the type and the name, with separators.
    let mut id = String::with_capacity(
        scope.len() + "/providers/".len() + type_name.len() + full_name.len() + 2 * types.len() + 2,
    );
    id.push_str(scope);
    id.push_str("/providers/");
    id.push_str(namespace);
    if types.len() == names.len() {
        for (t, n) in types.iter().zip(&names) {
            id.push('/');
            id.push_str(t);
            id.push('/');
            id.push_str(n);
        }
    } else {
        for t in &types {
            id.push('/');
            id.push_str(t);
        }
        id.push('/');
        id.push_str(full_name);
    }
    id
}

/// The `/`-separated segments of a full resource name, not splitting inside a `{...}` placeholder
/// (`vnet-{uniqueString(/subscriptions/{subscriptionId}/…)}` is one segment).
fn name_segments(full_name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in top_level_slashes(full_name) {
        out.push(full_name.get(start..i).unwrap_or(""));
        start = i + 1;
    }
    out.push(full_name.get(start..).unwrap_or(""));
    out
}

/// Byte offsets of the `/` in `text` that are not inside a `{...}` placeholder.
pub fn top_level_slashes(text: &str) -> Vec<usize> {
    functions::placeholders::top_level(text, '/')
}

/// Gives the inline subnets of a virtual network (and the like) the `id` Azure gives them.
fn add_inline_child_ids(obj: &mut Value, type_name: &str, parent_id: &Value) {
    let (child_key, child_type) = match type_name.to_ascii_lowercase().as_str() {
        "microsoft.network/virtualnetworks" => ("subnets", "subnets"),
        "microsoft.network/networksecuritygroups" => ("securityRules", "securityRules"),
        "microsoft.network/routetables" => ("routes", "routes"),
        _ => return,
    };
    let parent_text = value_text(parent_id);
    let Some(props) = obj.get_mut("properties") else {
        return;
    };
    let Some(children) = props.get_mut(child_key) else {
        return;
    };
    if let Kind::Array(items) = &mut children.kind {
        for item in items.iter_mut() {
            if item.get("id").is_some() {
                continue;
            }
            let Some(name) = item.get("name").map(value_text) else {
                continue;
            };
            let text = format!("{}/{}/{}", parent_text.0, child_type, name.0);
            let id = if parent_text.1 && name.1 {
                Value::string(text)
            } else {
                Value::symbolic(text)
            };
            item.set("id", id);
        }
    }
}

/// What a function or a container built is paid for in bytes (shallowly: the parts paid for
/// themselves); 0 below the sizes worth counting.
fn built_bytes(value: &Value) -> u64 {
    let built = match &value.kind {
        Kind::String(s) if s.len() > 256 => s.len(),
        Kind::Array(a) if a.len() > 16 => a.len() * std::mem::size_of::<Value>(),
        Kind::Object(p) if p.len() > 16 => {
            p.len() * (std::mem::size_of::<Value>() + std::mem::size_of::<String>())
        }
        _ => 0,
    };
    u64::try_from(built).unwrap_or(u64::MAX)
}

/// One member step of [`Evaluator::resource_member`] from `current`: a property the template
/// doesn't set is unknown (`shown`: the path so far, for the reason).
fn resource_member_step(
    current: &Value,
    name: &str,
    safe: bool,
    root: &str,
    existing: bool,
    shown: &str,
) -> Value {
    match &current.kind {
        Kind::Object(_) => match current.get(name) {
            Some(v) => v.clone(),
            None if safe => Value::null(),
            None if existing => Value::unknown(Reason::Existing {
                symbol: root.to_string(),
            }),
            None => Value::unknown(Reason::Environment {
                what: format!("'{shown}'"),
            }),
        },
        _ => member(current, name, safe),
    }
}

#[derive(Clone, Copy)]
enum PathStep<'e> {
    Member(&'e str, bool),
    Index(&'e Expr, bool, bool),
}

/// Splits `root.a[0].b` into the root identifier and the steps after it.
fn resource_path(expr: &Expr) -> Option<(&str, Vec<PathStep<'_>>)> {
    let mut steps = Vec::new();
    let mut cur = expr;
    loop {
        match &cur.kind {
            ExprKind::Member { target, name, safe } => {
                steps.push(PathStep::Member(name, *safe));
                cur = target;
            }
            ExprKind::Index {
                target,
                index,
                safe,
                from_end,
            } => {
                steps.push(PathStep::Index(index, *safe, *from_end));
                cur = target;
            }
            ExprKind::NonNull(inner) => cur = inner,
            ExprKind::Ident(name) => {
                steps.reverse();
                return Some((name, steps));
            }
            _ => return None,
        }
    }
}

fn bind_loop(
    scope: &mut Locals,
    item: Option<&str>,
    index: Option<&str>,
    element: Value,
    i: usize,
) {
    let idx = Value::int(i64::try_from(i).unwrap_or(i64::MAX));
    if let Some(n) = item {
        scope.push((n.to_string(), element));
    }
    if let Some(n) = index {
        scope.push((n.to_string(), idx));
    }
}

/// The elements a loop walks over, or the unknown value that stops it.
/// The count of an ARM property or variable `copy` loop, which the lowering writes as
/// `[for copy:<name> in range(0, count): …]`; `None` for any other loop.
fn copy_count<'e>(item: Option<&str>, iterable: &'e Expr) -> Option<&'e Expr> {
    if !item?.starts_with("copy:") {
        return None;
    }
    match &iterable.kind {
        ExprKind::Call(c) if c.namespace.is_none() && c.name == "range" => c.args.get(1),
        _ => None,
    }
}

fn iterable_elements(items: &Value, limit: usize) -> Result<Vec<Value>, Value> {
    match &items.kind {
        Kind::Array(a) if a.len() > limit => Err(Value::unknown(Reason::Limit {
            what: format!("a loop over {} items (at most {limit})", a.len()),
        })),
        Kind::Array(a) => Ok(a.clone()),
        Kind::Unknown(_) => Err(items.clone()),
        Kind::Null => Ok(Vec::new()),
        _ => Err(type_error("a loop needs an array")),
    }
}

/// `target.name`; a missing property is an error unless `safe`.
/// Whether `value`, what `target` gave, is a null that a safe access in `target`'s chain
/// (`a.?b`, `a[?0]`) produced: the rest of the chain reads null too.
fn short_circuits(value: &Value, target: &Expr) -> bool {
    if !matches!(value.kind, Kind::Null) {
        return false;
    }
    let mut cur = target;
    loop {
        match &cur.kind {
            ExprKind::Member { target, safe, .. } | ExprKind::Index { target, safe, .. } => {
                if *safe {
                    return true;
                }
                cur = target;
            }
            ExprKind::NonNull(inner) => cur = inner,
            _ => return false,
        }
    }
}

pub fn member(target: &Value, name: &str, safe: bool) -> Value {
    match &target.kind {
        Kind::Object(_) => match target.get(name) {
            Some(v) => v.clone(),
            None if safe => Value::null(),
            None => type_error(&format!("the object has no property '{name}'")),
        },
        Kind::Unknown(_) => part_of(target),
        Kind::Null if safe => Value::null(),
        _ => type_error(&format!(
            "property '{name}' read from a value of type {}",
            target.type_name()
        )),
    }
}

/// [`member`] of a value no one else holds: the property is moved out, not copied.
fn take_member(mut target: Value, name: &str, safe: bool) -> Value {
    match target.get_mut(name) {
        Some(v) => std::mem::replace(v, Value::null()),
        None => member(&target, name, safe),
    }
}

/// [`index_value`] of a value no one else holds: the item or property is moved out, not copied.
fn take_index(mut target: Value, index: &Value, safe: bool, from_end: bool) -> Value {
    if !index.is_unknown() {
        match &mut target.kind {
            Kind::Array(items) => {
                if let Some(i) = index.as_i64() {
                    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                    let i = if from_end { len - i } else { i };
                    if let Some(v) = usize::try_from(i).ok().and_then(|i| items.get_mut(i)) {
                        return std::mem::replace(v, Value::null());
                    }
                }
            }
            Kind::Object(_) => {
                if let Some(k) = index.as_str() {
                    return take_member(target, k, safe);
                }
            }
            _ => {}
        }
    }
    index_value(&target, index, safe, from_end)
}

/// `target[index]`.
pub fn index_value(target: &Value, index: &Value, safe: bool, from_end: bool) -> Value {
    if index.is_unknown() {
        return index.clone();
    }
    match &target.kind {
        Kind::Array(items) => {
            let Some(i) = index.as_i64() else {
                return type_error("an array index must be an integer");
            };
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let i = if from_end { len - i } else { i };
            let found = usize::try_from(i).ok().and_then(|i| items.get(i));
            match found {
                Some(v) => v.clone(),
                None if safe => Value::null(),
                None => type_error(&format!("index {i} is out of range (length {len})")),
            }
        }
        Kind::Object(_) => match index.as_str() {
            Some(k) => member(target, k, safe),
            None => type_error("an object index must be a string"),
        },
        Kind::Unknown(_) => part_of(target),
        Kind::Null if safe => Value::null(),
        _ => type_error("indexing a value that is neither an array nor an object"),
    }
}

/// A part of an unknown value: unknown for the same reason, except that a part of symbolic text
/// or of a parameter is not that text (`split(id, '/')[0]` is not the whole id).
/// The value of `c ? a : b` / `if(c, a, b)` when the condition `c` is unknown: unknown, but
/// never the condition's own text (a condition on `{resourceGroup().location}` does not make the
/// choice that location).
pub(crate) fn chosen_by(condition: &Value) -> Value {
    match condition.unknown_reason() {
        Some(Reason::Symbolic { text }) => Value::unknown(Reason::Environment {
            what: format!("a value chosen by a condition on '{text}'"),
        }),
        Some(Reason::Parameter { name }) => Value::unknown(Reason::Error {
            message: format!(
                "a value chosen by a condition on parameter '{name}', which has no value"
            ),
        }),
        _ => condition.clone(),
    }
}

pub(crate) fn part_of(target: &Value) -> Value {
    match target.unknown_reason() {
        Some(Reason::Symbolic { text }) => Value::unknown(Reason::Environment {
            what: format!("a part of '{text}'"),
        }),
        // A part of a parameter without a value is not that parameter: its reason stays, but not
        // its name as placeholder text (which would read as the whole value in an id).
        Some(Reason::Parameter { name }) => Value::unknown(Reason::Error {
            message: format!("a part of parameter '{name}', which has no value"),
        }),
        _ => target.clone(),
    }
}

/// An unknown value for an expression that can't be evaluated as written.
pub fn type_error(message: &str) -> Value {
    Value::unknown(Reason::Error {
        message: message.to_string(),
    })
}

/// `name` in ASCII lowercase, lowered into `buf` on the stack when it is short (every identifier
/// and function name evaluated is looked up so: no allocation each).
fn ascii_lowercase<'b>(name: &str, buf: &'b mut [u8; 64]) -> Cow<'b, str> {
    if let Some(lower) = buf.get_mut(..name.len()) {
        lower.copy_from_slice(name.as_bytes());
        lower.make_ascii_lowercase();
        // ASCII lowercasing keeps UTF-8 valid.
        if let Ok(lower) = std::str::from_utf8(lower) {
            return Cow::Borrowed(lower);
        }
    }
    Cow::Owned(name.to_ascii_lowercase())
}

/// Parameter names and module symbols compare case-insensitively: the map keyed by the lowercase
/// name.
fn by_lowercase_symbol(map: HashMap<String, Value>) -> FxHashMap<String, Value> {
    // Lowercased in place: the keys are owned already (a copy each was a new allocation).
    map.into_iter()
        .map(|(mut k, v)| {
            k.make_ascii_lowercase();
            (k, v)
        })
        .collect()
}

#[cfg(test)]
mod tests;
