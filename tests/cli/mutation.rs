//! Mutation test: seeded byte flips, truncations and token duplications of the fixtures (and, when
//! `../shared/corpus` is present, of a seeded sample of corpus files), each audited by the built
//! binary. Every run must end with exit code 0, 1 or 2 — no panic, no abort, no hang — and print a
//! JSON report. Bounded by a count of cases (`AZAUDIT_MUTATION_CASES`, default 240), never by time.

use crate::common::{self, ROOT};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Files audited by one run of the binary.
const BATCH: usize = 12;
/// A run that takes longer than this is a hang (a guard, not a limit of the product).
const HANG: Duration = Duration::from_secs(120);

/// xorshift64*: a seeded sequence, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One mutation of `bytes`, chosen by `rng`.
fn mutate(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, &'static str) {
    let mut out = bytes.to_vec();
    let len = out.len();
    match rng.below(4) {
        0 => {
            // A few bytes flipped (one bit, or a whole byte replaced by a structural one).
            for _ in 0..=rng.below(4) {
                let i = rng.below(len);
                let structural = b"{}[]()'\"\\:,\r\n\0\x1b$@";
                if let Some(b) = out.get_mut(i) {
                    *b = if rng.below(2) == 0 {
                        *b ^ (1 << rng.below(8))
                    } else {
                        structural[rng.below(structural.len())]
                    };
                }
            }
            (out, "byte flips")
        }
        1 => {
            out.truncate(rng.below(len));
            (out, "truncation")
        }
        2 => {
            // A stretch of the text repeated many times (a token, a line, a block).
            let start = rng.below(len);
            let span = 1 + rng.below(64.min(len.saturating_sub(start)).max(1));
            let piece: Vec<u8> = out
                .get(start..(start + span).min(len))
                .unwrap_or(&[])
                .to_vec();
            let times = 1 + rng.below(200);
            let at = rng.below(len);
            let mut grown = out.get(..at).unwrap_or(&[]).to_vec();
            for _ in 0..times {
                grown.extend_from_slice(&piece);
            }
            grown.extend_from_slice(out.get(at..).unwrap_or(&[]));
            (grown, "token duplication")
        }
        _ => {
            // Deep nesting opened at a random place.
            let at = rng.below(len);
            let opener = [b"[".as_slice(), b"{", b"(", b"'${"][rng.below(4)];
            let mut grown = out.get(..at).unwrap_or(&[]).to_vec();
            for _ in 0..(1 + rng.below(3000)) {
                grown.extend_from_slice(opener);
            }
            grown.extend_from_slice(out.get(at..).unwrap_or(&[]));
            (grown, "nesting")
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let exts = ["bicep", "bicepparam", "json"];
    let mut files =
        azaudit::files::discover::files_with_extension(&Path::new(ROOT).join("fixtures"), &exts);
    let corpus = Path::new(ROOT).join("../shared/corpus");
    if corpus.is_dir() {
        let all = azaudit::files::discover::files_with_extension(&corpus, &exts);
        let mut rng = Rng(0x5eed_c0de);
        for _ in 0..60.min(all.len()) {
            if let Some(f) = all.get(rng.below(all.len())) {
                files.push(f.clone());
            }
        }
    } else {
        println!("../shared/corpus is absent: mutating the fixtures only");
    }
    files.retain(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 0 && m.len() < 400_000));
    files
}

/// Runs the binary over `dir` and checks the outcome; the failure, if any.
fn audit(dir: &Path) -> Option<String> {
    let child = common::command(dir)
        .args(["check", "--format", "json", "."])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    // Output is drained while the child runs (a large report would fill the pipe otherwise).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(HANG) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            return Some(format!("hang: no answer within {HANG:?}"));
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0..=2) => {}
        other => return Some(format!("exit {other:?} (a crash or an abort): {stderr}")),
    }
    if stderr.contains("panicked") {
        return Some(format!("panic: {stderr}"));
    }
    if serde_json::from_slice::<serde_json::Value>(&out.stdout).is_err() {
        return Some(format!("no JSON report: {stderr}"));
    }
    None
}

#[test]
fn mutated_inputs_never_crash_hang_or_lose_the_report() {
    let cases: usize = std::env::var("AZAUDIT_MUTATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let files = sources();
    assert!(!files.is_empty());
    let base = std::env::temp_dir().join(format!("azaudit-mutation-{}", std::process::id()));
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut failures = Vec::new();
    let mut done = 0;
    let mut batch_no = 0;
    while done < cases {
        let dir = base.join(format!("batch-{batch_no}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut made = Vec::new();
        for k in 0..BATCH.min(cases - done) {
            let source = files.get(rng.below(files.len())).unwrap();
            let bytes = std::fs::read(source).unwrap();
            let (mutated, how) = mutate(&bytes, &mut rng);
            let name = format!(
                "case-{k}.{}",
                source
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("json")
            );
            std::fs::write(dir.join(&name), mutated).unwrap();
            made.push(format!("{name}: {how} of {}", source.display()));
        }
        done += made.len();
        match audit(&dir) {
            Some(failure) => failures.push(format!(
                "{} ({})\n  {}",
                dir.display(),
                failure,
                made.join("\n  ")
            )),
            None => {
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        batch_no += 1;
    }
    // Failing batches are kept for a look.
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&base);
}
