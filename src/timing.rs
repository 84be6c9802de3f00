//! Stage timings on stderr when `AZAUDIT_TIMING` is set: where a run's time goes, for profiling.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| std::env::var_os("AZAUDIT_TIMING").map(|_| Instant::now()))
}

/// Starts the clock (when timing is on); later laps count from the first call.
pub fn begin() {
    let _ = start();
}

/// Writes "timing: `what` at N s" on stderr when timing is on.
pub fn lap(what: &str) {
    if let Some(t) = start() {
        eprintln!("timing: {what} at {:.3} s", t.elapsed().as_secs_f64());
    }
}
