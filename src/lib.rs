//! azaudit: Azure Policy evaluated on Bicep and ARM templates before they are deployed.
//!
//! Data flows one way: files → syntax → template model → evaluation → resource graph → policies →
//! report → CLI / LSP. Each stage is a module folder that imports only the stages declared above it
//! (`src/layout.rs` checks it). See ARCHITECTURE.md.

#![forbid(unsafe_code)]

// Foundations every stage uses.
pub mod expr;
pub mod source;
pub mod timing;
pub mod value;

// The stages, in import order.
pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod eval;
pub mod files;
pub mod fix;
pub mod graph;
pub mod lsp;
pub mod model;
pub mod output;
pub mod policy;
pub mod report;
pub mod syntax;

#[cfg(test)]
mod layout;
