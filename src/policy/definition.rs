//! Policy definitions: loading the Azure Policy definition format, compiling its rule once, and
//! deciding a definition for one resource (effect, existence checks, links).

use super::aliases::AliasTable;
use super::expression::{Operand, RuleExpr};
use super::rule::{self, Cond, Ctx, Ev, FieldPath, Tri};
use crate::source::Span;
use crate::value::{Kind, Reason, Value};
use std::collections::HashMap;

/// Functions a policy rule may call.
const FUNCTIONS: &[&str] = &[
    "parameters",
    "variables",
    "field",
    "current",
    "resourcegroup",
    "subscription",
    "requestcontext",
    "policy",
    "deployment",
    "utcnow",
    "if",
    // azaudit extensions (docs/policy-authoring.md)
    "relatedfield",
    "referencedby",
    "relatedchildren",
    "nsgflow",
    "nsgdeniedflows",
];

/// Functions allowed in `then.details` (existence conditions, names) but not in the `if`.
const DETAILS_FUNCTIONS: &[&str] = &["uniquestring"];

/// A declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDef {
    pub name: String,
    pub default: Option<serde_json::Value>,
    pub allowed: Option<Vec<serde_json::Value>>,
}

/// `then.details` of an existence effect, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistenceDetails {
    pub type_name: Option<Operand>,
    pub name: Option<Operand>,
    pub resource_group: Option<Operand>,
    /// azaudit's extension: an expression resolving to the id of the one linked resource.
    pub resource_id: Option<Operand>,
    /// azaudit's extension `details.follow`: fields read on each linked resource in turn, each
    /// holding the id of the next (subnet → its network security group).
    pub follow: Vec<FieldPath>,
    pub existence: Option<Cond>,
}

/// A compiled definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub mode: String,
    pub metadata: serde_json::Value,
    pub params: Vec<ParamDef>,
    pub condition: Cond,
    pub effect: Operand,
    pub details: Option<Operand>,
    pub existence: Option<ExistenceDetails>,
    /// The lowercase resource types the rule's `if` can match (`None`: any type).
    pub types: Option<Vec<String>>,
}

fn get<'a>(
    obj: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<&'a serde_json::Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn check_functions(e: &RuleExpr, details: bool) -> Result<(), String> {
    match e {
        RuleExpr::Lit(_) => Ok(()),
        RuleExpr::Call { name, args } => {
            let allowed = FUNCTIONS.contains(&name.as_str())
                || crate::eval::functions::lookup(name).is_some()
                || (details && DETAILS_FUNCTIONS.contains(&name.as_str()));
            if !allowed {
                return Err(format!("function '{name}' is not allowed in policy rules"));
            }
            args.iter().try_for_each(|a| check_functions(a, details))
        }
        RuleExpr::Index { target, index } => {
            check_functions(target, details)?;
            check_functions(index, details)
        }
        RuleExpr::Member { target, .. } => check_functions(target, details),
        RuleExpr::Field { .. } => Ok(()),
    }
}

fn check_operand(o: &Operand, details: bool) -> Result<(), String> {
    match o {
        Operand::Lit(_) => Ok(()),
        Operand::Expr(e) => check_functions(e, details),
        Operand::Array(a) => a.iter().try_for_each(|i| check_operand(i, details)),
        Operand::Object(o) => o.iter().try_for_each(|(_, v)| check_operand(v, details)),
    }
}

fn check_cond(c: &Cond, details: bool) -> Result<(), String> {
    match c {
        Cond::AllOf(items) | Cond::AnyOf(items) => {
            items.iter().try_for_each(|i| check_cond(i, details))
        }
        Cond::Not(inner) => check_cond(inner, details),
        Cond::Field { field, check } => {
            if let rule::FieldRef::Dynamic(e) = field {
                check_functions(e, details)?;
            }
            check_operand(&check.rhs, details)
        }
        Cond::Value { value, check } => {
            check_operand(value, details)?;
            check_operand(&check.rhs, details)
        }
        Cond::Count { of, filter, check } => {
            if let rule::CountOf::Value { value, .. } = of {
                check_operand(value, details)?;
            }
            if let Some(f) = filter {
                check_cond(f, details)?;
            }
            check_operand(&check.rhs, details)
        }
    }
}

/// Compiles `then.details`: values are expressions, but `field`, `condition`,
/// `existenceCondition` and `deployment` (an ARM template) stay as written.
fn compile_details(json: &serde_json::Value, depth: usize) -> Result<Operand, String> {
    if depth > 32 {
        return Ok(Operand::Lit(Value::from_json(json)));
    }
    match json {
        serde_json::Value::Object(o) => {
            let mut props = Vec::new();
            for (k, v) in o {
                let literal = ["field", "condition", "existencecondition", "deployment"]
                    .contains(&k.to_ascii_lowercase().as_str());
                let op = if literal {
                    Operand::Lit(Value::from_json(v))
                } else {
                    compile_details(v, depth + 1)?
                };
                props.push((k.clone(), op));
            }
            Ok(Operand::Object(props))
        }
        serde_json::Value::Array(a) => Ok(Operand::Array(
            a.iter()
                .map(|v| compile_details(v, depth + 1))
                .collect::<Result<_, _>>()?,
        )),
        other => Operand::compile(other),
    }
}

impl Definition {
    /// Compiles a definition from JSON: a full definition (`{name, properties: {...}}`), its
    /// `properties` object, or a bare policy rule (`{if, then}`). `fallback_name` names it when the
    /// JSON has no `name`.
    pub fn from_json(
        json: &serde_json::Value,
        fallback_name: &str,
        aliases: &AliasTable,
    ) -> Result<Definition, String> {
        let top = json
            .as_object()
            .ok_or("a policy definition must be a JSON object")?;
        let name = get(top, "name")
            .and_then(|v| v.as_str())
            .unwrap_or(fallback_name)
            .to_string();
        let props = match get(top, "properties") {
            Some(p) => p.as_object().ok_or("`properties` must be an object")?,
            None => top,
        };
        let rule_json = match get(props, "policyRule") {
            Some(r) => r.as_object().ok_or("`policyRule` must be an object")?,
            None if get(props, "if").is_some() || get(props, "then").is_some() => props,
            None => return Err("the definition has no `policyRule`".into()),
        };
        let text = |k: &str| {
            get(props, k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let mut params = Vec::new();
        if let Some(p) = get(props, "parameters") {
            let p = p.as_object().ok_or("`parameters` must be an object")?;
            for (pname, def) in p {
                let def = def
                    .as_object()
                    .ok_or_else(|| format!("parameter '{pname}' must be an object"))?;
                let allowed = match get(def, "allowedValues") {
                    Some(serde_json::Value::Array(a)) => Some(a.clone()),
                    Some(_) => {
                        return Err(format!(
                            "`allowedValues` of parameter '{pname}' must be an array"
                        ))
                    }
                    None => None,
                };
                params.push(ParamDef {
                    name: pname.clone(),
                    default: get(def, "defaultValue").cloned(),
                    allowed,
                });
            }
        }
        let cond_json = get(rule_json, "if").ok_or("the policy rule has no `if`")?;
        let then = get(rule_json, "then")
            .ok_or("the policy rule has no `then`")?
            .as_object()
            .ok_or("`then` must be an object")?;
        for k in rule_json.keys() {
            if !k.eq_ignore_ascii_case("if") && !k.eq_ignore_ascii_case("then") {
                return Err(format!("unknown key `{k}` in the policy rule"));
            }
        }
        let condition = rule::compile(cond_json, aliases)?;
        check_cond(&condition, false)?;
        let effect_json = get(then, "effect").ok_or("`then` has no `effect`")?;
        if !effect_json.is_string() {
            return Err("`effect` must be a string".into());
        }
        let mut effect = Operand::compile(effect_json)?;
        effect.bind_fields(aliases);
        check_operand(&effect, false)?;
        if let Operand::Lit(v) = &effect {
            let e = v.as_str().unwrap_or("");
            if !is_effect(e) {
                return Err(format!("unknown effect '{e}'"));
            }
        }
        let details_json = get(then, "details");
        // `details.deployment` holds an ARM template whose expressions belong to ARM, not to
        // the policy: it stays literal.
        let details = details_json.map(|d| compile_details(d, 0)).transpose()?;
        let existence = match details_json.and_then(|d| d.as_object()) {
            Some(d) => {
                let op = |k: &str| get(d, k).map(Operand::compile).transpose();
                let existence = match get(d, "existenceCondition") {
                    Some(c) => {
                        let c = rule::compile(c, aliases)?;
                        check_cond(&c, true)?;
                        Some(c)
                    }
                    None => None,
                };
                let follow = match get(d, "follow") {
                    None => Vec::new(),
                    Some(serde_json::Value::Array(items)) => items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(|t| FieldPath::resolve(t, aliases))
                                .ok_or_else(|| {
                                    "`details.follow` lists field paths (strings)".to_string()
                                })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    Some(_) => {
                        return Err("`details.follow` must be an array of field paths".into())
                    }
                };
                Some(ExistenceDetails {
                    type_name: op("type")?,
                    name: op("name")?,
                    resource_group: op("resourceGroupName")?,
                    resource_id: op("resourceId")?,
                    follow,
                    existence,
                })
            }
            None => None,
        };
        Ok(Definition {
            name,
            display_name: text("displayName"),
            description: text("description"),
            mode: text("mode"),
            metadata: get(props, "metadata")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            params,
            condition,
            effect,
            details,
            existence,
            // A resource provider mode (`Microsoft.Kubernetes.Data`, …) evaluates data-plane
            // objects, never the resources a template deploys.
            types: super::types::provider_mode_or(&text("mode").to_ascii_lowercase(), || {
                super::types::matchable_types(cond_json)
            })
            .map(|t| t.into_iter().collect()),
        })
    }

    /// Parameter values: assignment values over defaults; a parameter with neither is unknown.
    pub fn parameter_values(
        &self,
        assigned: Option<&HashMap<String, serde_json::Value>>,
    ) -> Result<HashMap<String, Value>, String> {
        let mut out = HashMap::new();
        for p in &self.params {
            let given = assigned.and_then(|a| {
                a.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&p.name))
                    .map(|(_, v)| v)
            });
            let v = match given.or(p.default.as_ref()) {
                Some(j) => {
                    if let (Some(allowed), Some(g)) = (&p.allowed, given) {
                        let gv = Value::from_json(g);
                        let ok = allowed
                            .iter()
                            .any(|a| super::compare::values_equal(&Value::from_json(a), &gv))
                            || matches!(g, serde_json::Value::Array(_));
                        if !ok {
                            return Err(format!(
                                "value {g} of parameter '{}' is not allowed",
                                p.name
                            ));
                        }
                    }
                    Value::from_json(j)
                }
                None => Value::unknown(Reason::Parameter {
                    name: p.name.clone(),
                }),
            };
            out.insert(p.name.to_ascii_lowercase(), v);
        }
        // Values for undeclared parameters (bare rules) are taken as given.
        for (k, v) in assigned.into_iter().flatten() {
            out.entry(k.to_ascii_lowercase())
                .or_insert_with(|| Value::from_json(v));
        }
        Ok(out)
    }

    /// The effect's text with default parameters (`None` when it can't be known without inputs).
    pub fn default_effect(&self) -> Option<String> {
        let params = self.parameter_values(None).ok()?;
        let body = Value::object(Vec::new());
        let env = HashMap::new();
        let ctx = Ctx::new(&body, &params, AliasTable::builtin(), &env);
        self.effect.eval(&ctx).ok()?.as_str().map(str::to_string)
    }
}

/// Is `e` an effect Azure Policy knows?
pub fn is_effect(e: &str) -> bool {
    [
        "append",
        "audit",
        "auditifnotexists",
        "deny",
        "denyaction",
        "deployifnotexists",
        "disabled",
        "manual",
        "modify",
        "mutate",
    ]
    .contains(&e.to_ascii_lowercase().as_str())
}

/// What an existence effect looks for.
#[derive(Debug, Clone)]
pub struct LinkQuery {
    /// `details.type`.
    pub type_name: Option<String>,
    /// `details.name`.
    pub name: Option<String>,
    pub resource_group: Option<String>,
    /// azaudit's `details.resourceId`, evaluated (may be unknown), with its span.
    pub resource_id: Option<Value>,
    /// azaudit's `details.follow`: fields to follow from the linked resource.
    pub follow: Vec<FieldPath>,
}

/// A resource an existence check may be satisfied by.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub body: Value,
    /// Graph index, for related locations.
    pub idx: Option<usize>,
    /// The resources that reference this one (`referencedBy()`): objects with `id`, `type`,
    /// `name` and `path`.
    pub referrers: Value,
    /// Its child resources in the audited templates (`relatedChildren()`): their bodies.
    pub children: Value,
}

/// What a host answers to a [`LinkQuery`].
pub enum LinkAnswer {
    Found(Vec<Candidate>),
    /// The lookup can't be answered (unknown id, a linked resource outside the audited templates).
    Unknown(rule::Undecided),
}

/// The decision for one resource.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The policy does not apply, or the resource complies.
    Compliant,
    /// The effect applies.
    Applies {
        effect: String,
        span: Option<Span>,
        /// The linked resource an existence check failed on.
        linked: Option<usize>,
        /// In the linked resource, the value that decided the existence check failed.
        linked_span: Option<Span>,
        details: Option<Value>,
    },
    /// Can't be decided before deployment.
    Unknown {
        /// Why, with its cause and the parameter without a value it depends on, if any.
        reason: rule::Undecided,
        span: Option<Span>,
    },
    /// The effect applies to several linked resources (`details.resourceId` with several ids):
    /// one `Applies` each.
    Several(Vec<Verdict>),
}

/// Inputs of one decision.
pub struct Input<'a> {
    pub resource: &'a Value,
    pub params: &'a HashMap<String, Value>,
    pub aliases: &'a AliasTable,
    pub env: &'a HashMap<String, Value>,
    /// Whether to evaluate `then.details` into the verdict (a host that doesn't read it skips
    /// the work: a `deployIfNotExists` template is copied for every resource it applies to).
    pub details: bool,
}

impl Definition {
    /// Decides the definition for one resource; `lookup` answers existence queries.
    pub fn decide(&self, input: &Input<'_>, lookup: &dyn Fn(&LinkQuery) -> LinkAnswer) -> Verdict {
        let mut ctx = Ctx::new(input.resource, input.params, input.aliases, input.env);
        let Ev { t, span } = rule::eval(&self.condition, &mut ctx, 0);
        match t {
            Tri::False => return Verdict::Compliant,
            Tri::Unknown(u) => return Verdict::Unknown { reason: u, span },
            Tri::True => {}
        }
        let effect = match self.effect.eval(&ctx) {
            Ok(v) => match &v.kind {
                Kind::String(s) => s.clone(),
                Kind::Unknown(r) => {
                    return Verdict::Unknown {
                        reason: rule::Undecided::because(
                            format!("the effect {}", rule::depends_on(r)),
                            r,
                        ),
                        span,
                    }
                }
                _ => {
                    return Verdict::Unknown {
                        reason: "the effect is not a string".into(),
                        span,
                    }
                }
            },
            Err(e) => {
                return Verdict::Unknown {
                    reason: e.into(),
                    span,
                }
            }
        };
        let lower = effect.to_ascii_lowercase();
        if !is_effect(&lower) {
            return Verdict::Unknown {
                reason: format!("unknown effect '{effect}'").into(),
                span,
            };
        }
        if lower == "disabled" {
            return Verdict::Compliant;
        }
        let details = match self.details.as_ref().filter(|_| input.details) {
            Some(d) => match d.eval(&ctx) {
                Ok(v) => Some(v),
                Err(e) => {
                    return Verdict::Unknown {
                        reason: e.into(),
                        span,
                    }
                }
            },
            None => None,
        };
        if lower != "auditifnotexists" && lower != "deployifnotexists" {
            return Verdict::Applies {
                effect,
                span,
                linked: None,
                linked_span: None,
                details,
            };
        }
        let Some(ex) = &self.existence else {
            return Verdict::Applies {
                effect,
                span,
                linked: None,
                linked_span: None,
                details,
            };
        };
        let text = |o: &Option<Operand>| -> Result<Option<Value>, String> {
            o.as_ref().map(|o| o.eval(&ctx)).transpose()
        };
        let (type_name, name, rg, id) = match (
            text(&ex.type_name),
            text(&ex.name),
            text(&ex.resource_group),
            text(&ex.resource_id),
        ) {
            (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
                return Verdict::Unknown {
                    reason: e.into(),
                    span,
                }
            }
        };
        for v in [&type_name, &name, &rg].into_iter().flatten() {
            if let Some(r) = v.first_unknown() {
                return Verdict::Unknown {
                    reason: rule::Undecided::of(r),
                    span,
                };
            }
        }
        let as_text = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string));
        let type_name = as_text(type_name);
        let name = as_text(name);
        let rg = as_text(rg);
        // azaudit extension: `details.resourceId` may give several ids (the main location's
        // subnet and each additional location's): each that fails is reported.
        let ids: Vec<Option<Value>> = match id {
            Some(Value {
                kind: Kind::Array(items),
                ..
            }) => items
                .into_iter()
                .filter(|v| !matches!(v.kind, Kind::Null))
                .map(Some)
                .collect(),
            other => vec![other],
        };
        let mut undecided = None;
        let mut applies = Vec::new();
        for id in ids {
            let verdict = self.decide_link(
                input,
                lookup,
                ex,
                LinkQuery {
                    type_name: type_name.clone(),
                    name: name.clone(),
                    resource_group: rg.clone(),
                    resource_id: id,
                    follow: ex.follow.clone(),
                },
                span,
                &effect,
                &details,
            );
            match verdict {
                Verdict::Compliant => {}
                Verdict::Unknown { .. } => {
                    undecided.get_or_insert(verdict);
                }
                a @ Verdict::Applies { .. } => applies.push(a),
                Verdict::Several(more) => applies.extend(more),
            }
        }
        match applies.len() {
            0 => undecided.unwrap_or(Verdict::Compliant),
            1 => applies.pop().unwrap_or(Verdict::Compliant),
            _ => Verdict::Several(applies),
        }
    }

    /// One existence check: the related resources `query` finds, and whether one satisfies the
    /// existence condition.
    #[expect(clippy::too_many_arguments, reason = "the parts of one decision")]
    fn decide_link(
        &self,
        input: &Input<'_>,
        lookup: &dyn Fn(&LinkQuery) -> LinkAnswer,
        ex: &ExistenceDetails,
        query: LinkQuery,
        span: Option<Span>,
        effect: &str,
        details: &Option<Value>,
    ) -> Verdict {
        let id_span = query.resource_id.as_ref().and_then(|v| v.span);
        let primary = id_span.or(span);
        let candidates = match lookup(&query) {
            LinkAnswer::Found(c) => c,
            LinkAnswer::Unknown(reason) => {
                // The reason names the linked resource ("the linked resource id depends on …").
                return Verdict::Unknown {
                    reason,
                    span: primary,
                };
            }
        };
        let mut unknown = None;
        let mut failed = None;
        let mut failed_span = None;
        for c in &candidates {
            let ok = match &ex.existence {
                None => rule::Ev::new(Tri::True, None),
                Some(cond) => {
                    let mut rctx = Ctx::new(&c.body, input.params, input.aliases, input.env)
                        .with_expr_resource(input.resource)
                        .with_referrers(&c.referrers)
                        .with_children(&c.children);
                    rule::eval(cond, &mut rctx, 0)
                }
            };
            match ok.t {
                Tri::True => return Verdict::Compliant,
                Tri::Unknown(r) => {
                    unknown.get_or_insert(r);
                }
                Tri::False => {
                    if failed.is_none() {
                        failed = c.idx;
                        failed_span = ok.span;
                    }
                }
            }
        }
        if let Some(u) = unknown {
            return Verdict::Unknown {
                reason: u,
                span: primary,
            };
        }
        Verdict::Applies {
            effect: effect.to_string(),
            span: primary,
            linked: failed,
            linked_span: failed_span,
            details: details.clone(),
        }
    }
}
