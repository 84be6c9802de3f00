//! Azure Policy definitions: loading, aliases, the rule language, evaluation over the resource graph.

use crate::analysis::Options;
use crate::diagnostic::{Diagnostic, NotEvaluated};
use crate::graph::ResourceGraph;

/// The loaded policies (placeholder until the engine lands).
#[derive(Debug, Default)]
pub struct PolicySet {}

/// What evaluating policies found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub not_evaluated: Vec<NotEvaluated>,
}

/// Evaluates every policy over every resource (placeholder until the engine lands).
pub fn evaluate(set: &PolicySet, graph: &ResourceGraph, options: &Options) -> Outcome {
    let _ = (set, graph, options);
    Outcome::default()
}
