//! The engine in-process, on fixtures: Bicep and ARM lowering, the resource graph, modules and
//! deployments across files, the policy engine and its conformance suite, the shipped policies'
//! fixtures, and every output format.

// A test binary: helpers outside `#[test]` functions count as non-test code for clippy, and a
// failure in them is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::print_stdout
)]

#[path = "../common/mod.rs"]
mod common;

mod allowed_values;
mod arm_lowering;
mod bicep_constructs;
mod bicep_lowering;
mod graph;
mod modules;
mod output_formats;
mod output_sarif_schema;
mod policy_conformance;
mod policy_engine;
mod policy_existing_elsewhere;
mod policy_fixtures;
mod policy_text;
mod streamed;
