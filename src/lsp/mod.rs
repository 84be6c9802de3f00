//! `azaudit lsp`: the engine served over the Language Server Protocol.

/// Serves the language server on stdin and stdout until the client exits.
///
/// Stub until the language server lands.
pub fn run_stdio() -> anyhow::Result<()> {
    anyhow::bail!("the language server is not implemented yet")
}
