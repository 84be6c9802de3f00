//! The `azaudit` command: a thin shell over the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let long_lived = std::env::args_os()
        .nth(1)
        .is_some_and(|command| command == "lsp");
    allocator::configure(long_lived);
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

/// The allocator's settings, made before anything else runs: the only unsafe code of the crate
/// (lib.rs forbids it), calls into mimalloc and tree-sitter's C API.
#[allow(unsafe_code)]
mod allocator {
    use libmimalloc_sys as mi;
    use std::alloc::Layout;
    use std::ffi::c_void;

    /// `mi_option_purge_delay`: its place in mimalloc v3's `mi_option_t` (libmimalloc-sys names
    /// only the first options as constants).
    const PURGE_DELAY: mi::mi_option_t = 15;

    /// Sets mimalloc's options and makes tree-sitter allocate through it. Call first in `main`,
    /// while there is one thread and no tree-sitter object.
    pub fn configure(long_lived: bool) {
        // A command that runs once and exits never gives its memory back to the system:
        // mimalloc's purge of freed pages (after 1 s by default) only made the pages fault and be
        // zeroed again when reused. `lsp` keeps the default so an idle server returns what an
        // analysis freed.
        if !long_lived {
            // SAFETY: `mi_option_set` only stores the option's value; the option table is not
            // thread safe, and no other thread exists yet.
            unsafe { mi::mi_option_set(PURGE_DELAY, -1) };
        }
        // tree-sitter's C code (the Bicep parser) called libc's malloc and free: hundreds of
        // thousands of small nodes per corpus run, cheaper from mimalloc.
        let allocator = tree_sitter::Allocator {
            malloc: ts_malloc,
            calloc: ts_calloc,
            realloc: ts_realloc,
            free: mi::mi_free,
        };
        // SAFETY: the four functions are mimalloc's, one family; the wrappers never return null
        // for a non-zero size (they abort, as tree-sitter's own defaults do); mimalloc aligns as
        // malloc does; no tree-sitter object exists yet and no other thread runs.
        unsafe { tree_sitter::set_allocator(Some(allocator)) };
    }

    unsafe extern "C" fn ts_malloc(size: usize) -> *mut c_void {
        // SAFETY: any size may be asked of mi_malloc.
        allocated(unsafe { mi::mi_malloc(size) }, size)
    }

    unsafe extern "C" fn ts_calloc(count: usize, size: usize) -> *mut c_void {
        // SAFETY: mi_calloc checks `count * size` for overflow and returns null then.
        allocated(
            unsafe { mi::mi_calloc(count, size) },
            count.saturating_mul(size),
        )
    }

    unsafe extern "C" fn ts_realloc(block: *mut c_void, size: usize) -> *mut c_void {
        // SAFETY: tree-sitter passes null or a block from these same functions.
        allocated(unsafe { mi::mi_realloc(block, size) }, size)
    }

    /// `block`, unless the allocation of `size` bytes failed: then the process aborts with
    /// Rust's out-of-memory message, as tree-sitter's libc defaults abort.
    fn allocated(block: *mut c_void, size: usize) -> *mut c_void {
        if block.is_null() && size > 0 {
            std::alloc::handle_alloc_error(
                Layout::array::<u8>(size).unwrap_or_else(|_| Layout::new::<u8>()),
            );
        }
        block
    }
}
