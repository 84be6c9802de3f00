//! Azure Policy definitions: loading, aliases, the rule language, evaluation over the resource graph.
