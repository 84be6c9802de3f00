//! `metadata.azaudit.fix`: the quick fix a policy declares for its diagnostics. The policy says
//! which edit of the linked resource fixes it and, as ARM expressions over the evaluated
//! resource (`field()` reads it, as in the policy's rule), the value the edit writes and when it
//! applies; `fix/` turns that into text edits. CONTRIBUTING.md ("Adding a policy") documents it.

use super::expression::Operand;
use super::rule::Ctx;
use super::AliasTable;
use crate::value::{Kind, Value};
use std::collections::HashMap;

/// The edit a fix makes in the linked resource (the one the existence check failed on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixEdit {
    /// A subnet's `properties.delegations`: one delegation per service name of `value` (an
    /// array; empty: no delegation).
    Delegations,
    /// A subnet's `properties.addressPrefixes` with one entry becomes `properties.addressPrefix`.
    SingleAddressPrefix,
}

/// A policy's `azaudit.fix` block.
#[derive(Debug, Clone)]
pub struct FixSpec {
    pub edit: FixEdit,
    /// The value the edit writes, for one resource that links to the edited one (`null` or an
    /// unknown value: the fix can't be said).
    pub value: Option<Operand>,
    /// Whether the fix applies, for one resource that links to the edited one; every such
    /// resource must give `true`.
    pub when: Option<Operand>,
    /// The title of a fix that removes the property (`{name}`: the edited resource's name).
    pub remove_title: Option<String>,
}

impl FixSpec {
    /// Reads `metadata.azaudit.fix`; `Ok(None)` when there is none.
    pub fn from_metadata(azaudit: Option<&serde_json::Value>) -> Result<Option<FixSpec>, String> {
        let Some(fix) = azaudit.and_then(|a| a.get("fix")) else {
            return Ok(None);
        };
        let edit = match fix.get("edit").and_then(|e| e.as_str()) {
            Some("delegations") => FixEdit::Delegations,
            Some("singleAddressPrefix") => FixEdit::SingleAddressPrefix,
            Some(other) => return Err(format!("azaudit.fix: unknown edit '{other}'")),
            None => return Err("azaudit.fix: `edit` is missing".into()),
        };
        let operand = |key: &str| -> Result<Option<Operand>, String> {
            fix.get(key)
                .map(|v| Operand::compile(v).map_err(|e| format!("azaudit.fix.{key}: {e}")))
                .transpose()
        };
        Ok(Some(FixSpec {
            edit,
            value: operand("value")?,
            when: operand("when")?,
            remove_title: fix
                .get("removeTitle")
                .and_then(|t| t.as_str())
                .map(str::to_string),
        }))
    }

    /// `value` for the resource whose body is `resource`; `None` when it has none, or it is null
    /// or not known.
    pub fn value_for(&self, resource: &Value) -> Option<Value> {
        let v = eval(self.value.as_ref()?, resource)?;
        match v.kind {
            Kind::Null | Kind::Unknown(_) => None,
            _ => Some(v),
        }
    }

    /// `when` for the resource whose body is `resource` (no `when`: true); `None` when not known.
    pub fn applies_to(&self, resource: &Value) -> Option<bool> {
        match &self.when {
            None => Some(true),
            Some(w) => match eval(w, resource)?.kind {
                Kind::Bool(b) => Some(b),
                _ => None,
            },
        }
    }
}

fn eval(operand: &Operand, resource: &Value) -> Option<Value> {
    let params = HashMap::new();
    let env = HashMap::new();
    let ctx = Ctx::new(resource, &params, AliasTable::builtin(), &env);
    operand.eval(&ctx).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apim(sku: &str, network: &str) -> Value {
        Value::from_json(&json!({
            "type": "Microsoft.ApiManagement/service",
            "sku": { "name": sku },
            "properties": { "virtualNetworkType": network }
        }))
    }

    #[test]
    fn a_fix_block_is_read_and_its_value_evaluated_on_the_resource() {
        let spec = FixSpec::from_metadata(Some(&json!({ "fix": {
            "edit": "delegations",
            "value": "[if(equals(toLower(field('Microsoft.ApiManagement/service/sku.name')), 'premium'), createArray(), null())]",
            "when": "[equals(field('Microsoft.ApiManagement/service/virtualNetworkType'), 'Internal')]"
        }})))
        .expect("valid")
        .expect("a fix");
        assert_eq!(spec.edit, FixEdit::Delegations);
        assert_eq!(
            spec.value_for(&apim("Premium", "Internal"))
                .and_then(|v| v.to_json()),
            Some(json!([]))
        );
        assert_eq!(
            spec.value_for(&apim("Basic", "Internal")),
            None,
            "null: no fix"
        );
        assert_eq!(spec.applies_to(&apim("Premium", "Internal")), Some(true));
        assert_eq!(spec.applies_to(&apim("Premium", "External")), Some(false));
    }

    #[test]
    fn a_bad_fix_block_is_an_error_and_none_is_none() {
        assert!(FixSpec::from_metadata(Some(&json!({ "level": "error" })))
            .expect("valid")
            .is_none());
        assert!(FixSpec::from_metadata(Some(&json!({ "fix": { "edit": "rewrite" } }))).is_err());
        assert!(FixSpec::from_metadata(Some(&json!({ "fix": {} }))).is_err());
        assert!(FixSpec::from_metadata(Some(
            &json!({ "fix": { "edit": "delegations", "value": "[concat(]" } })
        ))
        .is_err());
    }
}
