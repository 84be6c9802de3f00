//! Resource types whose records Azure writes itself, from watching deployed resources, and a
//! deployment never creates: an existence check that looks for one can't be decided from a
//! template.
//!
//! Microsoft Defender for Cloud's built-in definitions (`auditIfNotExists` on
//! `Microsoft.Security/assessments`, `existenceCondition` on `status.code`) ask whether Defender
//! assessed the resource as healthy; that is known only once the resource is deployed and
//! scanned. A template may write a custom assessment of its own (the type allows it), so a
//! template that declares one is evaluated as written.

/// Lowercase types Azure writes as results of its own assessment, with who writes them.
const WRITTEN_BY_AZURE: &[(&str, &str)] = &[
    (
        "microsoft.security/assessments",
        "Microsoft Defender for Cloud",
    ),
    (
        "microsoft.security/assessments/subassessments",
        "Microsoft Defender for Cloud",
    ),
    (
        "microsoft.security/subassessments",
        "Microsoft Defender for Cloud",
    ),
    (
        "microsoft.security/complianceresults",
        "Microsoft Defender for Cloud",
    ),
];

/// Who writes resources of `type_name` as the result of assessing deployed resources
/// (`None`: deployments create them).
pub fn assessed_by(type_name: &str) -> Option<&'static str> {
    WRITTEN_BY_AZURE
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(type_name))
        .map(|(_, who)| *who)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defender_results_are_written_by_azure() {
        assert_eq!(
            assessed_by("Microsoft.Security/assessments"),
            Some("Microsoft Defender for Cloud")
        );
        assert_eq!(assessed_by("Microsoft.Insights/diagnosticSettings"), None);
        assert_eq!(assessed_by("Microsoft.Security/pricings"), None);
    }
}
