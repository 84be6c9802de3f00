//! `azaudit lsp`: the engine served over the Language Server Protocol.
