//! The resource types a policy rule's `if` can match, read from its `field: "type"` conditions, so
//! a resource meets only the policies that can apply to it.
//!
//! The answer is conservative: `None` means "any type" (the rule has no type condition that
//! decides it, or one this reading doesn't follow: `like`, `notEquals`, a parameter, `not`).

use std::collections::BTreeSet;

/// The lowercase resource types `cond` (a rule's `if`, as JSON) can be true for; `None` when it
/// may be true for any type.
pub fn matchable_types(cond: &serde_json::Value) -> Option<BTreeSet<String>> {
    let obj = cond.as_object()?;
    let key = |k: &str| {
        obj.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    };
    if let Some(serde_json::Value::Array(items)) = key("allOf") {
        // True only when every member is: the intersection of the members that constrain.
        let mut out: Option<BTreeSet<String>> = None;
        for item in items {
            if let Some(types) = matchable_types(item) {
                out = Some(match out {
                    None => types,
                    Some(prev) => prev.intersection(&types).cloned().collect(),
                });
            }
        }
        return out;
    }
    if let Some(serde_json::Value::Array(items)) = key("anyOf") {
        // True when one member is: the union, unless a member may match any type.
        let mut out = BTreeSet::new();
        for item in items {
            out.extend(matchable_types(item)?);
        }
        return Some(out);
    }
    let field = key("field")?.as_str()?;
    if !field.eq_ignore_ascii_case("type") {
        return None;
    }
    let literal = |v: &serde_json::Value| -> Option<String> {
        let s = v.as_str()?;
        // An expression (`[parameters('type')]`) is only known with the assignment.
        if crate::syntax::arm_expr::is_expression(s.trim()) {
            return None;
        }
        Some(s.to_ascii_lowercase())
    };
    if let Some(v) = key("equals") {
        return literal(v).map(|t| BTreeSet::from([t]));
    }
    if let Some(serde_json::Value::Array(items)) = key("in") {
        return items.iter().map(literal).collect();
    }
    None
}

/// The lowercase resource types a definition (its whole JSON: `{name, properties: {mode,
/// policyRule}}`, its `properties`, or a bare rule) can match; `None` when it may match any type
/// (or isn't readable as a definition). A resource provider mode (`Microsoft.Kubernetes.Data`, …)
/// evaluates data-plane objects, never the resources a template deploys: no type.
///
/// This is what [`super::Definition::types`] holds once compiled, read without compiling, so that
/// an assignment's definitions that can't meet any audited resource need not be compiled.
pub fn definition_types(json: &serde_json::Value) -> Option<BTreeSet<String>> {
    fn get<'a>(v: &'a serde_json::Value, k: &str) -> Option<&'a serde_json::Value> {
        v.as_object()?
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    }
    let props = get(json, "properties").unwrap_or(json);
    let mode = get(props, "mode")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    provider_mode_or(&mode, || {
        let rule = get(props, "policyRule").unwrap_or(props);
        matchable_types(get(rule, "if")?)
    })
}

/// `Some(∅)` for a resource provider mode, else what `rule_types` says.
pub fn provider_mode_or(
    lower_mode: &str,
    rule_types: impl FnOnce() -> Option<BTreeSet<String>>,
) -> Option<BTreeSet<String>> {
    if ["", "all", "indexed"].contains(&lower_mode) {
        rule_types()
    } else {
        Some(BTreeSet::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn types(v: serde_json::Value) -> Option<Vec<String>> {
        matchable_types(&v).map(|s| s.into_iter().collect())
    }

    #[test]
    fn type_conditions_give_the_types() {
        assert_eq!(
            types(json!({"field": "type", "equals": "Microsoft.Network/virtualNetworks"})),
            Some(vec!["microsoft.network/virtualnetworks".to_string()])
        );
        assert_eq!(
            types(json!({"allOf": [
                {"field": "type", "in": ["A/b", "A/c"]},
                {"field": "A/b/x", "exists": false},
                {"field": "type", "equals": "A/b"}
            ]})),
            Some(vec!["a/b".to_string()])
        );
        assert_eq!(
            types(json!({"anyOf": [
                {"allOf": [{"equals": "A/b", "field": "type"}]},
                {"allOf": [{"equals": "A/b/c", "field": "type"}]}
            ]})),
            Some(vec!["a/b".to_string(), "a/b/c".to_string()])
        );
    }

    #[test]
    fn anything_else_may_match_any_type() {
        assert_eq!(types(json!({"field": "location", "equals": "x"})), None);
        assert_eq!(types(json!({"field": "type", "notEquals": "A/b"})), None);
        assert_eq!(types(json!({"field": "type", "like": "A/*"})), None);
        assert_eq!(
            types(json!({"field": "type", "equals": "[parameters('t')]"})),
            None
        );
        assert_eq!(
            types(
                json!({"anyOf": [{"field": "type", "equals": "A/b"}, {"field": "name", "equals": "n"}]})
            ),
            None
        );
        assert_eq!(
            types(json!({"not": {"field": "type", "equals": "A/b"}})),
            None
        );
        assert_eq!(
            types(json!({"allOf": [{"field": "name", "equals": "n"}]})),
            None
        );
    }
}
