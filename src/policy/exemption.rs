//! Policy exemptions (`Microsoft.Authorization/policyExemptions`): a finding of an exempted
//! assignment stays in the report, marked suppressed (kind `External`); an expired exemption no
//! longer applies, and the finding says so.

use super::initiative::properties;
use super::PolicySet;
use crate::diagnostic::{Diagnostic, Suppression, SuppressionKind};
use std::path::{Path, PathBuf};

/// One parsed exemption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemption {
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    /// `waiver` or `mitigated`.
    pub category: String,
    /// The exempted assignment's name (its id's last segment), lowercase.
    pub assignment: String,
    /// Initiative members it covers (lowercase); empty: every member.
    pub reference_ids: Vec<String>,
    /// `expiresOn` as written.
    pub expires_on: Option<String>,
    /// The scope it is made at (`None`: not stated).
    pub scope: Option<String>,
    pub path: PathBuf,
}

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

impl Exemption {
    /// Parses an exemption's JSON.
    pub fn from_json(json: &serde_json::Value, path: &Path) -> Result<Exemption, String> {
        let props = properties(json);
        let id = text(json, "id");
        let name = text(json, "name")
            .or_else(|| id.as_deref().map(super::builtins::name_of))
            .ok_or("the exemption has no `name`")?;
        let assignment_id = text(props, "policyAssignmentId")
            .ok_or_else(|| format!("exemption '{name}' has no `policyAssignmentId`"))?;
        let category = text(props, "exemptionCategory").unwrap_or_else(|| "waiver".into());
        if !["waiver", "mitigated"].contains(&category.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "exemption '{name}': `exemptionCategory` must be `Waiver` or `Mitigated`, not `{category}`"
            ));
        }
        let reference_ids = props
            .as_object()
            .and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("policyDefinitionReferenceIds"))
            })
            .and_then(|(_, v)| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Exemption {
            display_name: text(props, "displayName").unwrap_or_else(|| name.clone()),
            description: text(props, "description"),
            name,
            category,
            assignment: super::builtins::name_of(&assignment_id),
            reference_ids,
            expires_on: text(props, "expiresOn"),
            scope: text(props, "scope")
                .or_else(|| text(json, "scope"))
                .or_else(|| id.as_deref().and_then(super::assigned::scope_of_id)),
            path: path.to_path_buf(),
        })
    }

    /// Whether it expired before `now` (`YYYY-MM-DDTHH:MM:SS`, UTC).
    pub fn expired(&self, now: &str) -> bool {
        match &self.expires_on {
            Some(e) => normalize(e).as_str() <= now,
            None => false,
        }
    }

    /// Whether it covers the member `reference` of assignment `assignment`.
    fn covers(&self, assignment: &str, reference: Option<&str>) -> bool {
        self.assignment.eq_ignore_ascii_case(assignment)
            && (self.reference_ids.is_empty()
                || reference
                    .is_some_and(|r| self.reference_ids.iter().any(|x| x.eq_ignore_ascii_case(r))))
    }
}

/// `2024-05-01`, `2024-05-01T10:00:00Z`, `2024-05-01T10:00:00.1234567+00:00` →
/// `2024-05-01T10:00:00` (offsets other than UTC are read as UTC).
fn normalize(date: &str) -> String {
    let d = date.trim();
    let day = d.get(..10).unwrap_or(d);
    let time = d.get(11..19).unwrap_or("00:00:00");
    format!("{day}T{time}")
}

/// Now, UTC, as `YYYY-MM-DDTHH:MM:SS`.
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Marks the findings of exempted assignments as suppressed; a finding whose exemption expired
/// says so in its message.
pub fn apply(set: &PolicySet, diagnostics: &mut [Diagnostic]) {
    if set.exemptions.is_empty() {
        return;
    }
    let now = now();
    let assigned_by_code: std::collections::HashMap<&str, &super::assigned::Assigned> = set
        .policies()
        .iter()
        .filter_map(|p| Some((p.id.as_str(), p.assignment.as_deref()?)))
        .collect();
    for d in diagnostics.iter_mut() {
        let Some(assigned) = assigned_by_code.get(d.code.as_str()) else {
            continue;
        };
        let reference = assigned.reference_id.as_deref();
        let mut expired = None;
        for e in set
            .exemptions
            .iter()
            .filter(|e| e.covers(&assigned.assignment, reference))
        {
            if e.expired(&now) {
                expired.get_or_insert(e);
                continue;
            }
            let mut justification = format!(
                "exemption '{}' ({})",
                e.name,
                e.category.to_ascii_lowercase()
            );
            if let Some(desc) = &e.description {
                justification.push_str(": ");
                justification.push_str(desc);
            }
            d.suppression = Some(Suppression {
                kind: SuppressionKind::External,
                justification: Some(justification),
            });
            expired = None;
            break;
        }
        if let Some(e) = expired {
            d.message = format!(
                "{} (exemption '{}' expired on {}; it no longer applies)",
                d.message,
                e.name,
                e.expires_on.as_deref().unwrap_or("")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_compares_dates() {
        let e = Exemption::from_json(
            &serde_json::json!({"name": "e", "properties": {
                "policyAssignmentId": "/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/A",
                "exemptionCategory": "Mitigated",
                "expiresOn": "2020-01-02T03:04:05Z",
                "policyDefinitionReferenceIds": ["R1"]
            }}),
            Path::new("e.json"),
        )
        .unwrap();
        assert_eq!(e.assignment, "a");
        assert_eq!(e.scope.as_deref(), None);
        assert!(e.expired("2020-01-02T03:04:05"));
        assert!(!e.expired("2020-01-02T03:04:04"));
        assert!(e.covers("A", Some("r1")));
        assert!(!e.covers("A", Some("r2")));
        assert!(now().len() == 19 && now().as_str() > "2024-01-01");
    }
}
