//! Initiatives (`Microsoft.Authorization/policySetDefinitions`): members by definition id, the
//! set's parameters flowing into each member's (`[parameters('x')]`), reference ids and groups.

use super::aliases::AliasTable;
use super::definition::Definition;
use super::expression::Operand;
use super::rule::Ctx;
use crate::value::{Reason, Value};
use std::collections::HashMap;

/// One member of an initiative.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// `policyDefinitionId`.
    pub definition_id: String,
    /// `policyDefinitionReferenceId` (the definition's name when absent).
    pub reference_id: String,
    /// The member's parameter values as written (`{"effect": {"value": "[parameters('e')]"}}`).
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// `groupNames`.
    pub groups: Vec<String>,
    /// `definitionVersion` (`1.*.*`).
    pub definition_version: Option<String>,
}

/// A parsed initiative.
#[derive(Debug, Clone, PartialEq)]
pub struct Initiative {
    pub name: String,
    pub display_name: String,
    /// Declared parameters: name and default value.
    pub parameters: Vec<(String, Option<serde_json::Value>)>,
    pub members: Vec<Member>,
    /// `policyDefinitionGroups` names.
    pub groups: Vec<String>,
}

fn get<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// The `properties` of a resource-shaped document (ARM, ALZ, Azure's exports), or the document
/// itself when it is flat (`az policy … list`).
pub fn properties(json: &serde_json::Value) -> &serde_json::Value {
    get(json, "properties").unwrap_or(json)
}

impl Initiative {
    /// Parses an initiative's JSON.
    pub fn from_json(json: &serde_json::Value) -> Result<Initiative, String> {
        let props = properties(json);
        let name = get(json, "name")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .or_else(|| {
                get(json, "id")
                    .and_then(|v| v.as_str())
                    .map(super::builtins::name_of)
            })
            .ok_or("the initiative has no `name`")?;
        let display_name = get(props, "displayName")
            .and_then(|v| v.as_str())
            .unwrap_or(&name)
            .to_string();
        let mut parameters = Vec::new();
        if let Some(p) = get(props, "parameters").and_then(|p| p.as_object()) {
            for (pname, def) in p {
                parameters.push((pname.clone(), get(def, "defaultValue").cloned()));
            }
        }
        let items = get(props, "policyDefinitions")
            .and_then(|v| v.as_array())
            .ok_or("the initiative has no `policyDefinitions` array")?;
        let mut members = Vec::new();
        for item in items {
            let definition_id = get(item, "policyDefinitionId")
                .and_then(|v| v.as_str())
                .ok_or("a member of `policyDefinitions` has no `policyDefinitionId`")?
                .to_string();
            let reference_id = get(item, "policyDefinitionReferenceId")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| super::builtins::name_of(&definition_id));
            members.push(Member {
                reference_id,
                parameters: get(item, "parameters")
                    .and_then(|v| v.as_object())
                    .cloned()
                    .unwrap_or_default(),
                groups: get(item, "groupNames")
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|g| g.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                definition_version: get(item, "definitionVersion")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                definition_id,
            });
        }
        let groups = get(props, "policyDefinitionGroups")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|g| get(g, "name").and_then(|n| n.as_str()).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Initiative {
            name,
            display_name,
            parameters,
            members,
            groups,
        })
    }

    /// The set's parameter values: `given` (the assignment's) over the defaults; a parameter
    /// with neither is unknown. Keys are lowercase.
    pub fn parameter_values(
        &self,
        given: &HashMap<String, serde_json::Value>,
    ) -> HashMap<String, Value> {
        let mut out = HashMap::new();
        for (name, default) in &self.parameters {
            let value = given
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .or(default.as_ref());
            out.insert(
                name.to_ascii_lowercase(),
                match value {
                    Some(v) => Value::from_json(v),
                    None => Value::unknown(Reason::Parameter { name: name.clone() }),
                },
            );
        }
        out
    }
}

/// A member definition's parameter values: what the member passes (expressions over the set's
/// values, `set_values`), else the definition's default, else unknown. Keys are lowercase.
pub fn member_values(
    member: &Member,
    definition: &Definition,
    set_values: &HashMap<String, Value>,
    aliases: &AliasTable,
) -> Result<HashMap<String, Value>, String> {
    let body = Value::object(Vec::new());
    let env = HashMap::new();
    let ctx = Ctx::new(&body, set_values, aliases, &env);
    let mut out = HashMap::new();
    for p in &definition.params {
        let passed = member
            .parameters
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&p.name))
            .map(|(_, v)| get(v, "value").unwrap_or(v));
        let value = match passed {
            Some(json) => Operand::compile(json)
                .and_then(|o| o.eval(&ctx))
                .map_err(|e| {
                    format!(
                        "parameter '{}' of member '{}': {e}",
                        p.name, member.reference_id
                    )
                })?,
            None => match &p.default {
                Some(d) => Value::from_json(d),
                None => Value::unknown(Reason::Parameter {
                    name: p.name.clone(),
                }),
            },
        };
        out.insert(p.name.to_ascii_lowercase(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_parameters_flow_into_members() {
        let set = Initiative::from_json(&json!({
            "name": "guardrails",
            "properties": {
                "parameters": {
                    "nsgEffect": {"type": "String", "defaultValue": "Deny"},
                    "names": {"type": "Array"}
                },
                "policyDefinitions": [{
                    "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/abc",
                    "policyDefinitionReferenceId": "subnetNsg",
                    "groupNames": ["network"],
                    "parameters": {
                        "effect": {"value": "[parameters('nsgEffect')]"},
                        "excluded": {"value": "[parameters('names')]"}
                    }
                }],
                "policyDefinitionGroups": [{"name": "network"}]
            }
        }))
        .unwrap();
        assert_eq!(set.members[0].reference_id, "subnetNsg");
        assert_eq!(set.groups, vec!["network"]);
        let def = Definition::from_json(
            &json!({"name": "abc", "properties": {
                "parameters": {
                    "effect": {"type": "String", "defaultValue": "Audit"},
                    "excluded": {"type": "Array"},
                    "other": {"type": "String", "defaultValue": "x"}
                },
                "policyRule": {"if": {"field": "type", "equals": "A/b"}, "then": {"effect": "[parameters('effect')]"}}
            }}),
            "abc",
            AliasTable::builtin(),
        )
        .unwrap();
        let given = HashMap::from([("NSGEFFECT".to_string(), json!("Audit"))]);
        let values = set.parameter_values(&given);
        let m = member_values(&set.members[0], &def, &values, AliasTable::builtin()).unwrap();
        assert_eq!(m["effect"].as_str(), Some("Audit"));
        assert!(m["excluded"].is_unknown());
        assert_eq!(m["other"].as_str(), Some("x"));
        // Without the assignment's value, the set's default.
        let values = set.parameter_values(&HashMap::new());
        let m = member_values(&set.members[0], &def, &values, AliasTable::builtin()).unwrap();
        assert_eq!(m["effect"].as_str(), Some("Deny"));
    }
}
