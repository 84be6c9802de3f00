//! Reading files: Bicep through tree-sitter, ARM JSON leniently, each lowered to the template model.

pub mod arm;
pub mod arm_expr;
pub mod bicep;
pub mod json;

use crate::model::{Language, Template};
use crate::source::{FileId, Span};

pub use bicep::Memo;

/// Reads one file into the template model; a panic inside becomes a diagnostic.
pub fn lower(file: FileId, text: &str, language: Language) -> Template {
    lower_with(file, text, language, None)
}

/// [`lower`], reusing the Bicep statement parses `memo` kept (see [`Memo`]).
pub fn lower_with(file: FileId, text: &str, language: Language, memo: Option<&Memo>) -> Template {
    let run = || match language {
        Language::Bicep | Language::BicepParams => {
            crate::syntax::bicep::lower_with(file, text, language, memo)
        }
        Language::ArmTemplate | Language::ArmParameters => crate::syntax::arm::lower(file, text),
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(t) => t,
        Err(_) => {
            let mut t = Template::empty(file, language);
            t.syntax_errors.push(crate::model::SyntaxError {
                span: Span::new(file, 0, 0),
                message: "internal error while reading this file; please report it".into(),
            });
            t
        }
    }
}
