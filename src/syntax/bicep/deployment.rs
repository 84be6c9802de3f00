//! An explicit `Microsoft.Resources/deployments` resource written in Bicep (not a `module`): a
//! nested deployment, lowered as the ARM lowering lowers the JSON the compiler makes of it — a
//! [`ModuleDecl`] whose inline `properties.template` (an object literal) becomes a [`Template`]
//! of ARM shape, with `templateLink.relativePath`/`uri` as its source, the `{ x: { value } }`
//! parameters unwrapped and `expressionEvaluationOptions.scope` read.
//!
//! Text in the template stays text: the compiler escapes a string literal that looks like an ARM
//! expression (`'[parameters(''n'')]'` becomes `"[[parameters('n')]"`), and the ARM lowering
//! reads the escaped form as text. A Bicep expression in the template (`'${name}-vnet'`, `name`)
//! is an expression of the nested template, as the compiled `"[format('{0}-vnet', …)]"` is.

use crate::expr::{ArrayItem, Expr, ExprKind, ObjectItem};
use crate::model::{
    Loop, ModuleDecl, OutputDecl, ParamDecl, ResourceDecl, TargetScope, Template, VarDecl,
};
use crate::source::Span;
use crate::syntax::arm;

/// Inline templates nested deeper than this are not lowered (as in the ARM lowering).
const MAX_TEMPLATE_DEPTH: usize = 32;

/// Whether `type_name` is a nested deployment's.
pub fn is_deployment(type_name: &str) -> bool {
    type_name.eq_ignore_ascii_case("Microsoft.Resources/deployments")
}

/// The nested deployment a Bicep `resource` declaration of type `Microsoft.Resources/deployments`
/// stands for, declared in a template of scope `outer`.
pub fn module_of(decl: ResourceDecl, outer: TargetScope) -> ModuleDecl {
    let parts = Parts {
        symbol: decl.symbol,
        name: decl.name,
        scope: decl.scope,
        condition: decl.condition,
        loop_: decl.loop_,
        depends_on: decl.depends_on,
        span: decl.span,
        head_span: decl.head_span,
    };
    let items = match decl.body.kind {
        ExprKind::Object(items) => items,
        _ => Vec::new(),
    };
    module(parts, &items, false, outer, 0)
}

/// What a deployment declares outside its `properties`.
struct Parts {
    symbol: Option<String>,
    name: Option<Expr>,
    scope: Option<Expr>,
    condition: Option<Expr>,
    loop_: Option<Loop>,
    depends_on: Vec<Expr>,
    span: Span,
    head_span: Span,
}

fn property<'e>(items: &'e [ObjectItem], key: &str) -> Option<&'e Expr> {
    items.iter().rev().find_map(|i| match i {
        ObjectItem::Property { key: k, value, .. } if k.eq_ignore_ascii_case(key) => Some(value),
        _ => None,
    })
}

fn object(e: Option<&Expr>) -> &[ObjectItem] {
    match e.map(|e| &e.kind) {
        Some(ExprKind::Object(items)) => items,
        _ => &[],
    }
}

fn text(e: Option<&Expr>) -> Option<&str> {
    e.and_then(Expr::as_str)
}

fn elements(e: Option<&Expr>) -> Vec<Expr> {
    match e.map(|e| &e.kind) {
        Some(ExprKind::Array(items)) => items
            .iter()
            .map(|i| match i {
                ArrayItem::Item(e) | ArrayItem::Spread(e) => e.clone(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `items` that are `name: value` properties, in order.
fn properties(items: &[ObjectItem]) -> impl Iterator<Item = (&str, Span, &Expr)> {
    items.iter().filter_map(|i| match i {
        ObjectItem::Property {
            key,
            key_span,
            value,
        } => Some((key.as_str(), *key_span, value)),
        ObjectItem::Spread(_) => None,
    })
}

fn module(
    parts: Parts,
    items: &[ObjectItem],
    declared_in_template: bool,
    outer: TargetScope,
    depth: usize,
) -> ModuleDecl {
    let props = object(property(items, "properties"));
    let link = object(property(props, "templateLink"));
    let mut source = None;
    let mut source_span = parts.head_span;
    let linked = property(link, "relativePath")
        .or_else(|| property(link, "uri"))
        .map(|e| (e, ""))
        .or_else(|| property(link, "id").map(|e| (e, crate::model::TEMPLATE_SPEC_ID_PREFIX)));
    if let Some((e, prefix)) = linked {
        if let Some(s) = e.as_str() {
            source = Some(format!("{prefix}{s}"));
        }
        source_span = e.span;
    }
    let params = property(props, "parameters").map(unwrap_parameters);
    let inner_scope = text(property(
        object(property(props, "expressionEvaluationOptions")),
        "scope",
    ))
    .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
    let inline_template = match property(props, "template") {
        Some(t) => {
            source_span = t.span;
            match &t.kind {
                ExprKind::Object(template) if depth < MAX_TEMPLATE_DEPTH => {
                    // A resource group named on the deployment makes the template resource-group scoped.
                    let scope = if property(items, "resourceGroup").is_some() {
                        TargetScope::ResourceGroup
                    } else {
                        outer
                    };
                    Some(Box::new(lower_template(template, t.span, scope, depth + 1)))
                }
                // `loadJsonContent(…)`, a parameter: not lowered (nor is the compiled
                // `[variables('$fxv#0')]`).
                _ => None,
            }
        }
        None => None,
    };
    ModuleDecl {
        symbol: parts.symbol,
        source,
        source_span,
        name: parts.name,
        params,
        scope: parts.scope,
        condition: parts.condition,
        loop_: parts.loop_,
        depends_on: parts.depends_on,
        inline_template,
        inner_scope,
        declared_as_resource: !declared_in_template,
        span: parts.span,
        head_span: parts.head_span,
    }
}

/// `{ x: { value: e }, y: { reference: … } }` → `{ x: e, y: <unknown: key vault reference> }`;
/// any other value `v` → `v.?value` (the compiler's `if(c, createObject('value', x), …)` form).
fn unwrap_parameters(p: &Expr) -> Expr {
    let ExprKind::Object(items) = &p.kind else {
        return p.clone();
    };
    let unwrapped = items
        .iter()
        .map(|i| match i {
            ObjectItem::Property {
                key,
                key_span,
                value,
            } => {
                let inner = object(Some(value));
                let value = if let Some(v) = property(inner, "value") {
                    v.clone()
                } else if property(inner, "reference").is_some() {
                    Expr::new(ExprKind::Error("key vault reference".into()), value.span)
                } else {
                    arm::value_of(value.clone())
                };
                ObjectItem::Property {
                    key: key.clone(),
                    key_span: *key_span,
                    value,
                }
            }
            spread => spread.clone(),
        })
        .collect();
    Expr::new(ExprKind::Object(unwrapped), p.span)
}

fn lower_template(items: &[ObjectItem], span: Span, scope: TargetScope, depth: usize) -> Template {
    let mut t = Template::empty(span.file, crate::model::Language::ArmTemplate);
    t.target_scope = text(property(items, "$schema"))
        .and_then(arm::schema_kind)
        .map(|(_, s)| s)
        .unwrap_or(scope);
    for (name, name_span, p) in properties(object(property(items, "parameters"))) {
        let o = object(Some(p));
        let type_name = text(property(o, "type")).map(str::to_string);
        let secure = type_name.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("securestring") || t.eq_ignore_ascii_case("secureobject")
        });
        t.params.push(ParamDecl {
            name: name.to_string(),
            name_span,
            span: p.span,
            type_name,
            default: property(o, "defaultValue").cloned(),
            allowed: property(o, "allowedValues").map(|a| elements(Some(a))),
            secure,
            description: text(property(object(property(o, "metadata")), "description"))
                .map(str::to_string),
            nullable: matches!(
                property(o, "nullable").map(|e| &e.kind),
                Some(ExprKind::Bool(true))
            ),
        });
    }
    for (name, name_span, v) in properties(object(property(items, "variables"))) {
        t.vars.push(VarDecl {
            name: name.to_string(),
            name_span,
            span: v.span,
            value: with_property_copies(v),
        });
    }
    match property(items, "resources").map(|r| &r.kind) {
        Some(ExprKind::Array(resources)) => {
            for r in resources {
                if let ArrayItem::Item(r) = r {
                    lower_resource(r, None, None, &mut t, depth);
                }
            }
        }
        Some(ExprKind::Object(resources)) => {
            for (symbol, _, r) in properties(resources) {
                lower_resource(r, Some(symbol.to_string()), None, &mut t, depth);
            }
        }
        _ => {}
    }
    for (name, _, o) in properties(object(property(items, "outputs"))) {
        let decl = object(Some(o));
        let value = match property(decl, "value") {
            Some(v) => with_property_copies(v),
            None => Expr::new(ExprKind::Error("output has no value".into()), o.span),
        };
        t.outputs.push(OutputDecl {
            name: name.to_string(),
            span: o.span,
            value,
        });
    }
    t
}

/// A resource's parent, for composing a nested child's type and name.
struct Parent {
    index: Option<usize>,
    type_name: String,
    name: Option<Expr>,
}

fn lower_resource(
    r: &Expr,
    symbol: Option<String>,
    parent: Option<&Parent>,
    t: &mut Template,
    depth: usize,
) {
    let ExprKind::Object(items) = &r.kind else {
        return;
    };
    let type_expr = property(items, "type");
    let own_type = text(type_expr).unwrap_or_default().to_string();
    let head_span = type_expr.map_or(r.span, |e| e.span);
    let own_name = property(items, "name").cloned();
    let (type_name, name, parent_index) = match parent {
        None => (own_type, own_name, None),
        Some(p) if !arm::has_namespace(&own_type) && !own_type.is_empty() => (
            format!("{}/{own_type}", p.type_name),
            arm::compose_name(p.name.as_ref(), own_name),
            p.index,
        ),
        Some(p) if arm::is_child_type(&own_type, &p.type_name) => {
            let name = match own_name {
                Some(n) if n.as_str().is_some_and(|s| !s.contains('/')) => {
                    arm::compose_name(p.name.as_ref(), Some(n))
                }
                other => other,
            };
            (own_type, name, p.index)
        }
        Some(_) => (own_type, own_name, None),
    };
    let copy = object(property(items, "copy"));
    let loop_ = property(copy, "count").map(|count| Loop::Copy {
        name: text(property(copy, "name")).unwrap_or_default().to_string(),
        count: count.clone(),
    });
    let scope = property(items, "scope")
        .cloned()
        .or_else(|| scope_of_ids(items));
    let parts = Parts {
        symbol,
        name: name.clone(),
        scope,
        condition: property(items, "condition").cloned(),
        loop_,
        depends_on: elements(property(items, "dependsOn")),
        span: r.span,
        head_span,
    };
    if is_deployment(&type_name) {
        let m = module(parts, items, true, t.target_scope, depth);
        t.modules.push(m);
        return;
    }
    let body: Vec<ObjectItem> = items
        .iter()
        .filter(|i| match i {
            ObjectItem::Property { key, .. } => {
                !arm::NOT_BODY.iter().any(|n| n.eq_ignore_ascii_case(key))
            }
            ObjectItem::Spread(_) => true,
        })
        .cloned()
        .collect();
    let body = with_property_copies(&Expr::new(ExprKind::Object(body), r.span));
    let index = t.resources.len();
    t.resources.push(ResourceDecl {
        symbol: parts.symbol,
        type_name: type_name.clone(),
        api_version: text(property(items, "apiVersion")).map(str::to_string),
        existing: matches!(
            property(items, "existing").map(|e| &e.kind),
            Some(ExprKind::Bool(true))
        ),
        name: parts.name,
        parent_index,
        parent: None,
        scope: parts.scope,
        body,
        condition: parts.condition,
        loop_: parts.loop_,
        depends_on: parts.depends_on,
        span: r.span,
        head_span,
        suppress: Vec::new(),
    });
    let me = Parent {
        index: Some(index),
        type_name,
        name,
    };
    for child in elements(property(items, "resources")) {
        lower_resource(&child, None, Some(&me), t, depth);
    }
}

/// `resourceGroup` / `subscriptionId` on a resource → `resourceGroup(…)` / `subscription(…)`.
fn scope_of_ids(items: &[ObjectItem]) -> Option<Expr> {
    let rg = property(items, "resourceGroup").cloned();
    let sub = property(items, "subscriptionId").cloned();
    let call =
        |name: &str, args: Vec<Expr>, span: Span| Expr::new(ExprKind::call(None, name, args), span);
    match (sub, rg) {
        (sub, Some(rg)) => {
            let span = rg.span;
            Some(call(
                "resourceGroup",
                sub.into_iter().chain(Some(rg)).collect(),
                span,
            ))
        }
        (Some(sub), None) => {
            let span = sub.span;
            Some(call("subscription", vec![sub], span))
        }
        (None, None) => None,
    }
}

/// `e` with each ARM property iteration (`copy: [{ name, count, input }]` in an object) made the
/// loop the ARM lowering makes of it: a property `name` built by `[for … in range(0, count)]`.
fn with_property_copies(e: &Expr) -> Expr {
    let kind = match &e.kind {
        ExprKind::Object(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                match i {
                    ObjectItem::Property {
                        key,
                        key_span,
                        value,
                    } => {
                        if key.eq_ignore_ascii_case("copy") {
                            if let Some(loops) = property_copies(value) {
                                out.extend(loops);
                                continue;
                            }
                        }
                        out.push(ObjectItem::Property {
                            key: key.clone(),
                            key_span: *key_span,
                            value: with_property_copies(value),
                        });
                    }
                    spread => out.push(spread.clone()),
                }
            }
            ExprKind::Object(out)
        }
        ExprKind::Array(items) => ExprKind::Array(
            items
                .iter()
                .map(|i| match i {
                    ArrayItem::Item(x) => ArrayItem::Item(with_property_copies(x)),
                    ArrayItem::Spread(x) => ArrayItem::Spread(with_property_copies(x)),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Expr::new(kind, e.span)
}

/// A `copy` array of `{ name, count, input }` entries → one property per entry; `None` when the
/// array is no property iteration.
fn property_copies(value: &Expr) -> Option<Vec<ObjectItem>> {
    let entries = elements(Some(value));
    if entries.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for entry in &entries {
        let o = object(Some(entry));
        let name_expr = property(o, "name")?;
        let name = name_expr.as_str()?.to_string();
        let input = with_property_copies(property(o, "input")?);
        let count = property(o, "count")
            .cloned()
            .unwrap_or_else(|| Expr::new(ExprKind::Error("copy has no count".into()), entry.span));
        out.push(ObjectItem::Property {
            key: name.clone(),
            key_span: name_expr.span,
            value: arm::copy_for(&name, count, input, entry.span),
        });
    }
    Some(out)
}
