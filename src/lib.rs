//! azaudit: Azure Policy evaluated on Bicep and ARM templates before they are deployed.
//!
//! Data flows one way: files → syntax → template model → resource graph → policies → diagnostics →
//! CLI / LSP. See ARCHITECTURE.md.

pub mod analysis;
pub mod diagnostic;
pub mod eval;
pub mod expr;
pub mod graph;
pub mod lsp;
pub mod model;
pub mod output;
pub mod policy;
pub mod source;
pub mod syntax;
pub mod value;
