//! The built `azaudit` binary as a user runs it: `check`, `graph`, `--fix`, configuration,
//! deployments, policy as code, codes and their pages, hostile and mutated input, the README and
//! the editor manifests.

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

mod check;
mod codes;
mod config;
mod deployments;
mod editors;
mod fix;
mod hostile_input;
mod mutation;
mod output;
mod policy_as_code;
mod readme;
