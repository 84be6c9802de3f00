//! `azaudit lsp`: the engine served over the Language Server Protocol.
//!
//! The main loop ([`server`]) owns the open documents and applies edits; analysis runs on a worker
//! thread ([`worker`]) over an immutable snapshot, and its results are dropped when the document
//! changed meanwhile. Only this module knows LSP positions ([`convert`]).

mod actions;
mod config;
pub mod convert;
mod documents;
mod projects;
mod server;
mod transport;
mod worker;

use crate::engine::{FileProvider, Input, Options, Report};
use std::sync::Arc;
use std::time::Duration;

/// The analysis the server runs: [`crate::engine::check`] unless a test injects another.
pub type AnalysisFn = Arc<dyn Fn(&[Input], &dyn FileProvider, &Options) -> Report + Send + Sync>;

/// How to run the server.
#[derive(Clone)]
pub struct ServerOptions {
    /// What analyses one document (with every open buffer visible through the provider).
    pub analysis: AnalysisFn,
    /// Quiet time after an edit before analysing; `initializationOptions.azaudit.debounceMs`
    /// overrides it.
    pub debounce: Duration,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            analysis: Arc::new(crate::engine::check),
            debounce: Duration::from_millis(50),
        }
    }
}

/// The documentation page of a diagnostic code.
pub fn docs_url(code: &str) -> String {
    crate::output::policy_doc_url(code)
}

/// Serves the language server over stdin and stdout until the client says `exit`.
///
/// Returns an error when the client exits (or disconnects) without `shutdown`: the process must
/// then exit with code 1, and with 0 after `Ok`.
pub fn run_stdio() -> anyhow::Result<()> {
    let (connection, io) = transport::stdio()?;
    let result = run(connection, ServerOptions::default());
    // The connection is dropped by now: wait for pending output, not for stdin.
    io.join_writer();
    result
}

/// Serves the language server over any byte streams (a socket, a pipe); see [`run_stdio`].
pub fn run_io<R, W>(input: R, output: W, options: ServerOptions) -> anyhow::Result<()>
where
    R: std::io::Read + Send + 'static,
    W: std::io::Write + Send + 'static,
{
    let (connection, io) = transport::over(input, output)?;
    let result = run(connection, options);
    io.join_writer();
    result
}

/// Serves the language server over `connection` (stdio, or in memory for tests).
///
/// Returns `Ok` after `shutdown` then `exit`, an error after `exit` (or a closed connection)
/// without `shutdown`.
pub fn run(connection: lsp_server::Connection, options: ServerOptions) -> anyhow::Result<()> {
    server::run(connection, options)
}

/// A diagnostic as published, with what hover and code actions need beyond the LSP fields.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Published {
    pub lsp: lsp_types::Diagnostic,
    pub help: Option<String>,
    /// The quick fixes the diagnostic carries.
    pub fixes: Vec<Fix>,
}

/// A quick fix: edits to the document a diagnostic is in, or to the files it is about (a module).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fix {
    pub title: String,
    /// Each edit with the document it applies to.
    pub edits: Vec<(lsp_types::Uri, lsp_types::TextEdit)>,
}
