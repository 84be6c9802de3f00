//! The language server: over the protocol (in memory and over stdio) and in a headless Neovim.

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

mod nvim;
mod protocol;
