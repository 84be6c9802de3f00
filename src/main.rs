//! The `azaudit` command: a thin shell over the library.

fn main() {
    // Minimal wiring of `azaudit lsp` until the CLI lands (the CLI owner replaces this).
    if std::env::args().nth(1).as_deref() == Some("lsp") {
        match azaudit::lsp::run_stdio() {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                eprintln!("azaudit lsp: {e:#}");
                std::process::exit(1);
            }
        }
    }
    std::process::exit(0);
}
