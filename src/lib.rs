//! azaudit: Azure Policy evaluated on Bicep and ARM templates before they are deployed.
//!
//! Data flows one way: files → syntax → template model → resource graph → policies → diagnostics →
//! CLI / LSP. See ARCHITECTURE.md.

pub mod expr;
pub mod model;
pub mod source;
pub mod value;
pub mod diagnostic;
pub mod graph;
pub mod analysis;
pub mod eval;
pub mod lsp;
pub mod output;
pub mod policy;
pub mod syntax;
