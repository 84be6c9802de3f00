//! azaudit: Azure Policy evaluated on Bicep and ARM templates before they are deployed.
//!
//! Data flows one way: files → syntax → template model → resource graph → policies → diagnostics →
//! CLI / LSP. See ARCHITECTURE.md.

pub mod analysis;
pub mod build;
pub mod cli;
pub mod codes;
pub mod config;
pub mod deployments;
pub mod diagnostic;
pub mod discover;
pub mod eval;
pub mod expr;
pub mod feedback;
pub mod fix;
pub mod graph;
pub mod lsp;
pub mod model;
pub mod names;
pub mod output;
pub mod paths;
pub mod policy;
pub mod project;
pub mod registry;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod timing;
pub mod value;
pub mod variants;
