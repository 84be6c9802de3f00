//! Feedback on policy ids the user wrote that azaudit does not know (a typo in a suppression
//! comment or in `bicepconfig.json` would otherwise be ignored silently): the nearest known id.

use crate::diagnostic::codes::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::files::config::Config;
use crate::source::Span;

/// The ids a user may name: the loaded policies' and the built-in codes.
pub fn known_ids(set: &crate::policy::PolicySet) -> Vec<String> {
    set.ids()
        .map(str::to_string)
        .chain(
            crate::diagnostic::codes::BUILTIN
                .iter()
                .map(|c| c.id.to_string()),
        )
        .collect()
}

/// Whether `id` names a known policy or code (case-insensitive).
fn is_known(id: &str, known: &[String]) -> bool {
    known.iter().any(|k| k.eq_ignore_ascii_case(id))
}

/// " did you mean `x`?" or "".
fn hint(id: &str, known: &[String]) -> String {
    crate::diagnostic::codes::nearest(id, known.iter().map(String::as_str))
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

/// One message per rule of `config` that names no known policy:
/// "bicepconfig.json:7:9: unknown policy `x` in `analyzers.azaudit.rules`; did you mean `y`?".
pub fn unknown_rules(config: &Config, known: &[String]) -> Vec<String> {
    let text = std::fs::read_to_string(&config.path).unwrap_or_default();
    config
        .rules
        .keys()
        .filter(|id| !is_known(id, known))
        .map(|id| {
            let at = text
                .find(&format!("\"{id}\""))
                .map(|offset| {
                    let before = text.get(..offset).unwrap_or("");
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                    format!(":{line}:{column}")
                })
                .unwrap_or_default();
            format!(
                "{}{at}: unknown policy `{id}` in `analyzers.azaudit.rules`{}",
                config.path.display(),
                hint(id, known)
            )
        })
        .collect()
}

/// The warning for a suppression directive at `at` naming `id`, when `id` is unknown but close to
/// a known id. Ids far from every known one are left alone: a comment may name a Bicep linter
/// rule (`no-unused-params`) or a compiler code (`BCP081`).
pub fn unknown_suppression(id: &str, at: Span, known: &[String]) -> Option<Diagnostic> {
    if is_known(id, known) {
        return None;
    }
    let nearest = crate::diagnostic::codes::nearest(id, known.iter().map(String::as_str))?;
    Some(
        Diagnostic::new(
            Code::UnknownPolicy,
            Severity::Warning,
            at,
            format!("unknown policy `{id}` in a suppression; did you mean `{nearest}`?"),
        )
        .with_help("correct the id; `azaudit policies` lists them"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn typos_in_suppressions_get_the_nearest_id() {
        let known = vec![
            "apim-private-dns".to_string(),
            "apim-subnet-nsg".to_string(),
        ];
        let at = Span::new(FileId(0), 0, 5);
        let d = unknown_suppression("apim-privat-dns", at, &known);
        assert_eq!(
            d.map(|d| (d.code, d.severity, d.message)),
            Some((
                Code::UnknownPolicy.into(),
                Severity::Warning,
                "unknown policy `apim-privat-dns` in a suppression; did you mean `apim-private-dns`?"
                    .to_string()
            ))
        );
        assert!(unknown_suppression("APIM-private-dns", at, &known).is_none());
        assert!(unknown_suppression("no-unused-params", at, &known).is_none());
        assert!(unknown_suppression("BCP081", at, &known).is_none());
    }
}
