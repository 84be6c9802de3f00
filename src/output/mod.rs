//! Output formats for `azaudit check`: one module each.
