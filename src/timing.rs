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

/// Laps are not written while this is set (a streamed bulk audit runs the pipeline once per
/// deployment group; its own laps say where the run is).
static MUTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Mutes (or unmutes) [`lap`] for the whole process.
pub fn mute(muted: bool) {
    MUTED.store(muted, std::sync::atomic::Ordering::Relaxed);
}

/// Writes "timing: `what` at N s, M MB resident" on stderr when timing is on.
pub fn lap(what: &str) {
    if MUTED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    if let Some(t) = start() {
        eprintln!(
            "timing: {what} at {:.3} s, {} MB resident",
            t.elapsed().as_secs_f64(),
            resident_mb()
        );
    }
}

/// Resident memory in MB (Linux; 0 elsewhere).
pub fn resident_mb() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    pages * 4096 / 1_000_000
}
