//! The engine over the shared corpus (`../shared/corpus`, real templates): lowering without a
//! crash, declarations recovered, Bicep and its compiled ARM JSON agreeing, the API Management
//! module. Each test skips with a message when ../shared is absent.

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

mod arm;
mod bicep;
mod bicep_apim;
mod bicep_declarations;
mod differential;
