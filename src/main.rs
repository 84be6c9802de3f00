//! The `azaudit` command: a thin shell over the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let long_lived = std::env::args_os().nth(1).is_some_and(|command| command == "lsp");
    if !long_lived {
        keep_freed_memory();
    }
    let terminal = azaudit::cli::Terminal::detect();
    // Not locked: `azaudit lsp` writes protocol bytes to stdout from its own thread.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    azaudit::cli::run(std::env::args_os(), &mut out, &mut err, terminal)
}

// The analysis allocates many small values; mimalloc is markedly faster at that than the system
// allocator. Built with `no_thp`: it does not ask for transparent huge pages, whose faults zero
// 2 MiB at a time (a whole-corpus `check` peaked 90 MB higher with them).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A command that runs once and exits never gives its memory back to the system: mimalloc's
/// purge of freed pages (after 1 s by default) only made the pages fault and be zeroed again
/// when reused. `lsp` keeps the default so an idle server returns what an analysis freed.
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only stores the option's value; it is called before any other
    // thread exists, which is the only condition (the option table is not thread safe).
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
}

/// `mi_option_purge_delay`: its place in mimalloc v3's `mi_option_t` (libmimalloc-sys names only
/// the first options as constants).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
