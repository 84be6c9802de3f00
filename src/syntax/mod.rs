//! Reading files: Bicep through tree-sitter, ARM JSON leniently, each lowered to the template model.

pub mod arm;
pub mod arm_expr;
pub mod bicep;
