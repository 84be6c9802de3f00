//! ARM JSON templates and parameter files → template model.

use crate::model::{Language, Template};
use crate::source::FileId;

/// What a JSON file is, by its `$schema` (placeholder until the lowering lands).
pub fn classify(text: &str) -> Option<Language> {
    let lower = text.to_ascii_lowercase();
    if lower.contains("deploymentparameters.json") {
        Some(Language::ArmParameters)
    } else if lower.contains("deploymenttemplate.json") {
        Some(Language::ArmTemplate)
    } else {
        None
    }
}

/// Lowers an ARM template or parameter file (placeholder until the lowering lands).
pub fn lower(file: FileId, text: &str) -> Template {
    let language = classify(text).unwrap_or(Language::ArmTemplate);
    Template::empty(file, language)
}
