//! The `azaudit` command: a thin shell over the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let terminal = azaudit::cli::Terminal::detect();
    // Not locked: `azaudit lsp` writes protocol bytes to stdout from its own thread.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    azaudit::cli::run(std::env::args_os(), &mut out, &mut err, terminal)
}

// The analysis allocates many small values; mimalloc is markedly faster at that than the system
// allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
