//! What an assignment gives a policy: the assignment's name, initiative, parameters and message.

use crate::value::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// What an assigned policy carries besides its definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Assigned {
    /// The assignment's `name`.
    pub assignment: String,
    /// The initiative's name, when the assignment is of an initiative.
    pub initiative: Option<String>,
    /// The member's `policyDefinitionReferenceId`.
    pub reference_id: Option<String>,
    /// The member definition's name (its id's last segment).
    pub definition: String,
    /// Resolved parameter values, by lowercase name.
    pub params: HashMap<String, Value>,
    /// `enforcementMode` is `Default` (`DoNotEnforce` reports at info).
    pub enforced: bool,
    /// The finding's message: the non-compliance message (with `{enforcementMode}` filled) or
    /// the definition's title, then the assignment, initiative, reference and definition.
    pub message: String,
    /// The assignment's file.
    pub path: PathBuf,
}

/// The scope part of a resource id of an extension resource (`<scope>/providers/Microsoft.Authorization/policyAssignments/x` → `<scope>`).
pub fn scope_of_id(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    let at = lower.rfind("/providers/microsoft.authorization/")?;
    Some(id.get(..at).unwrap_or("").to_string())
}
