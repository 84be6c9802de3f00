//! The diagnostic codes azaudit reports itself, outside any policy: one list, each code with its
//! level, title, help and documentation page (`docs/codes/<id>.md`, shown by `azaudit explain`).

use crate::diagnostic::Severity;

/// A code azaudit reports itself (`syntax-error`, `unused-suppression` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The code, as diagnostics carry it.
    pub id: &'static str,
    /// A short title, one line.
    pub title: &'static str,
    /// The severity its diagnostics have.
    pub level: Severity,
    /// What it reports, a sentence.
    pub description: &'static str,
    /// What to do about it, one line.
    pub help: &'static str,
    /// The documentation page (markdown), as `azaudit explain` prints it.
    pub docs: &'static str,
}

/// A code with its documentation page, `docs/codes/<id>.md`.
macro_rules! code {
    ($id:literal, $title:literal, $level:expr, $description:literal, $help:literal) => {
        Code {
            id: $id,
            title: $title,
            level: $level,
            description: $description,
            help: $help,
            docs: include_str!(concat!("../../docs/codes/", $id, ".md")),
        }
    };
}

/// Every code azaudit reports outside its policies. A diagnostic with another code comes from a
/// policy; a test checks that every code the sources emit is listed here.
pub const BUILTIN: &[Code] = &[
    code!(
        "syntax-error",
        "Syntax error",
        Severity::Error,
        "The file could not be read as Bicep or as an ARM template.",
        "Fix the syntax; the Bicep or ARM tooling shows the same error."
    ),
    code!(
        "read-error",
        "Unreadable file",
        Severity::Error,
        "A file or folder could not be read: missing, not a regular file, larger than --max-file-size, or not UTF-8.",
        "Make the file readable and save it as UTF-8."
    ),
    code!(
        "module-error",
        "Module not read",
        Severity::Warning,
        "A module file or the template of a parameter file could not be found or read.",
        "Check the path; it is relative to the file that names it."
    ),
    code!(
        "module-cycle",
        "Module cycle",
        Severity::Error,
        "Module files deploy each other in a cycle.",
        "Break the cycle; Bicep and ARM refuse such a deployment."
    ),
    code!(
        "evaluation-cycle",
        "Evaluation cycle",
        Severity::Warning,
        "Variables or resources refer to each other in a cycle, so their values can't be computed.",
        "Break the cycle; Bicep and ARM refuse such a template."
    ),
    code!(
        "evaluation-limit",
        "Evaluation limit",
        Severity::Warning,
        "Evaluating a declaration took more work or memory than its budget (per resource, per deployment or per run); what it sets past that point is unknown, and the checks that need it are listed as not evaluated.",
        "Simplify the loop or expression; azaudit names the limit it reached."
    ),
    code!(
        "policy-error",
        "Policy error",
        Severity::Error,
        "A policy definition could not be loaded or evaluated.",
        "Fix the policy definition or its parameters."
    ),
    code!(
        "unused-suppression",
        "Unused suppression",
        Severity::Info,
        "A suppression directive suppresses nothing.",
        "Remove the directive or the policy id it names."
    ),
    code!(
        "unknown-policy",
        "Unknown policy id",
        Severity::Warning,
        "A suppression comment or a bicepconfig.json rule names a policy id azaudit does not know (a typo?).",
        "Correct the id; `azaudit policies` lists them."
    ),
    code!(
        "template-error",
        "Template ARM rejects",
        Severity::Error,
        "The deployment would fail in ARM: a loop or copy count outside 0 to 800.",
        "Keep copy counts between 0 and 800; split larger loops."
    ),
    code!(
        "duplicate-key",
        "Duplicate JSON key",
        Severity::Warning,
        "A key appears more than once in one JSON object; the last value is used, as ARM does.",
        "Remove the earlier occurrences."
    ),
    code!(
        "module-not-restored",
        "Registry module not restored",
        Severity::Info,
        "A registry module (br: or ts:) is not in the local Bicep module cache, so the checks that need what it deploys are not evaluated.",
        "Run `bicep restore` (or `bicep build`) so the module is in the cache."
    ),
];

/// The built-in code `id` (case-insensitive).
pub fn find(id: &str) -> Option<&'static Code> {
    BUILTIN.iter().find(|c| c.id.eq_ignore_ascii_case(id))
}

/// Where the documentation of `id` is published: `docs/codes/<id>.md` for a built-in code,
/// `docs/policies/<id>.md` for a policy.
pub fn doc_url(id: &str) -> String {
    let folder = if find(id).is_some() {
        "codes"
    } else {
        "policies"
    };
    format!(
        "{}/blob/main/docs/{folder}/{id}.md",
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// The known id closest to `unknown` (case-insensitive edit distance at most a third of its
/// length, at least 2), for "did you mean" hints.
pub fn nearest<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = unknown.to_ascii_lowercase();
    let limit = (wanted.chars().count() / 3).max(2);
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(&wanted, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_docs_and_a_url() {
        for c in BUILTIN {
            assert!(
                c.docs.starts_with(&format!("# {}", c.id)),
                "docs/codes/{}.md must start with `# {}`",
                c.id,
                c.id
            );
            assert!(doc_url(c.id).ends_with(&format!("docs/codes/{}.md", c.id)));
        }
        assert!(doc_url("apim-subnet-nsg").ends_with("docs/policies/apim-subnet-nsg.md"));
    }

    #[test]
    fn nearest_finds_typos_only() {
        let known = ["apim-subnet-size-recommended", "apim-private-dns"];
        assert_eq!(
            nearest("apim-subnet-size-recomended", known),
            Some("apim-subnet-size-recommended")
        );
        assert_eq!(nearest("APIM-privat-dns", known), Some("apim-private-dns"));
        assert_eq!(nearest("no-unused-params", known), None);
    }
}
