//! The `azaudit` command: a thin shell over the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let terminal = azaudit::cli::Terminal::detect();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    azaudit::cli::run(std::env::args_os(), &mut out, &mut err, terminal)
}
