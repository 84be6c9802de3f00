//! The diagnostic codes azaudit reports itself, outside any policy: one list, each code with its
//! level, title, help and documentation page (`docs/codes/<id>.md`, shown by `azaudit explain`).

use crate::diagnostic::Severity;

/// A code azaudit reports itself, outside any policy. Diagnostics carry its [`Code::id`]; a
/// policy's diagnostics carry the policy's id instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    SyntaxError,
    ReadError,
    ModuleError,
    ModuleCycle,
    EvaluationCycle,
    EvaluationLimit,
    PolicyError,
    UnusedSuppression,
    UnknownPolicy,
    TemplateError,
    DuplicateKey,
    ModuleNotRestored,
}

/// A built-in code's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code.
    pub code: Code,
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

/// Declares [`Code`]'s metadata, each code with its documentation page `docs/codes/<id>.md`, and
/// [`BUILTIN`], the list of them.
macro_rules! codes {
    ($($variant:ident = $id:literal, $title:literal, $level:expr, $description:literal, $help:literal;)*) => {
        impl Code {
            /// The code's metadata.
            pub const fn info(self) -> &'static CodeInfo {
                match self {
                    $(Code::$variant => &CodeInfo {
                        code: Code::$variant,
                        id: $id,
                        title: $title,
                        level: $level,
                        description: $description,
                        help: $help,
                        docs: include_str!(concat!("../../docs/codes/", $id, ".md")),
                    },)*
                }
            }
        }

        /// Every code azaudit reports outside its policies. A diagnostic with another code comes
        /// from a policy.
        pub const BUILTIN: &[CodeInfo] = &[$(*Code::$variant.info()),*];
    };
}

codes! {
    SyntaxError = "syntax-error",
        "Syntax error",
        Severity::Error,
        "The file could not be read as Bicep or as an ARM template.",
        "Fix the syntax; the Bicep or ARM tooling shows the same error.";
    ReadError = "read-error",
        "Unreadable file",
        Severity::Error,
        "A file or folder could not be read: missing, not a regular file, larger than --max-file-size, or not UTF-8.",
        "Make the file readable and save it as UTF-8.";
    ModuleError = "module-error",
        "Module not read",
        Severity::Warning,
        "A module file or the template of a parameter file could not be found or read.",
        "Check the path; it is relative to the file that names it.";
    ModuleCycle = "module-cycle",
        "Module cycle",
        Severity::Error,
        "Module files deploy each other in a cycle.",
        "Break the cycle; Bicep and ARM refuse such a deployment.";
    EvaluationCycle = "evaluation-cycle",
        "Evaluation cycle",
        Severity::Warning,
        "Variables or resources refer to each other in a cycle, so their values can't be computed.",
        "Break the cycle; Bicep and ARM refuse such a template.";
    EvaluationLimit = "evaluation-limit",
        "Evaluation limit",
        Severity::Warning,
        "Evaluating a declaration took more work or memory than its budget (per resource, per deployment or per run); what it sets past that point is unknown, and the checks that need it are listed as not evaluated.",
        "Simplify the loop or expression; azaudit names the limit it reached.";
    PolicyError = "policy-error",
        "Policy error",
        Severity::Error,
        "A policy definition could not be loaded or evaluated.",
        "Fix the policy definition or its parameters.";
    UnusedSuppression = "unused-suppression",
        "Unused suppression",
        Severity::Info,
        "A suppression directive suppresses nothing.",
        "Remove the directive or the policy id it names.";
    UnknownPolicy = "unknown-policy",
        "Unknown policy id",
        Severity::Warning,
        "A suppression comment or a bicepconfig.json rule names a policy id azaudit does not know (a typo?).",
        "Correct the id; `azaudit policies` lists them.";
    TemplateError = "template-error",
        "Template ARM rejects",
        Severity::Error,
        "The deployment would fail in ARM: a loop or copy count outside 0 to 800.",
        "Keep copy counts between 0 and 800; split larger loops.";
    DuplicateKey = "duplicate-key",
        "Duplicate JSON key",
        Severity::Warning,
        "A key appears more than once in one JSON object; the last value is used, as ARM does.",
        "Remove the earlier occurrences.";
    ModuleNotRestored = "module-not-restored",
        "Registry module not restored",
        Severity::Info,
        "A registry module (br: or ts:) is not in the local Bicep module cache, so the checks that need what it deploys are not evaluated.",
        "Run `bicep restore` (or `bicep build`) so the module is in the cache.";
}

impl Code {
    /// The code, as diagnostics carry it (`syntax-error`).
    pub const fn id(self) -> &'static str {
        self.info().id
    }

    /// The documentation page (markdown).
    pub const fn docs(self) -> &'static str {
        self.info().docs
    }

    /// Whether a diagnostic's `code` is this one.
    pub fn is(self, code: &str) -> bool {
        code == self.id()
    }
}

impl From<Code> for String {
    fn from(code: Code) -> String {
        code.id().to_string()
    }
}

/// The built-in code `id` (case-insensitive).
pub fn find(id: &str) -> Option<&'static CodeInfo> {
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
    let length = wanted.chars().count();
    let limit = (length / 3).max(2);
    known
        .into_iter()
        // The distance is at least the difference in length: most ids are too long or too short.
        .filter(|k| k.chars().count().abs_diff(length) <= limit)
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
