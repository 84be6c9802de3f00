//! Finding the deployments that reach a changed file: the project index over ../shared/corpus
//! (about 7,700 files) built and queried for one file; a pre-commit run (the release binary,
//! `azaudit check modules/network.bicep`) in a generated 100-file git repository; and a one-file
//! run (`azaudit check main.bicep` in a git repository holding that file only). The command runs
//! are timed from process start to exit, many times: median and 95th percentile, and the CPU time
//! the runs used (user + system: on a shared machine it moves less than wall time).
//! `cargo build --release && cargo bench --bench deployments`. Skips what it can't find.

// A benchmark's report is its standard output; a failure is a failed run.
#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use azaudit::graph::project::ProjectIndex;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * 0.95).round() as usize]
}

/// Runs `bin args` in `dir` `runs` times: the last exit code and each run's wall time in ms.
fn timed_runs(bin: &Path, dir: &Path, args: &[&str], runs: usize) -> (Option<i32>, Vec<f64>) {
    let mut times = Vec::new();
    let mut code = None;
    for _ in 0..runs {
        let started = Instant::now();
        let o = Command::new(bin)
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        code = o.status.code();
    }
    (code, times)
}

/// The machine's load average (1 minute), as `uptime` shows it: timings depend on it.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    corpus(root);
    if std::env::var_os("PHASES").is_some() {
        phases(&azaudit::files::discover::absolute(
            &root.join("../shared/corpus"),
        ));
    }
    pre_commit(root);
    one_file(root);
}

/// CPU time this process used so far (user + system), in ms: the machine may be shared, and wall
/// time then says little on its own.
fn cpu_ms() -> f64 {
    stat_ms(11, 12)
}

/// CPU time of this process's waited-for children so far (user + system), in ms.
fn children_cpu_ms() -> f64 {
    stat_ms(13, 14)
}

/// The sum of two fields of /proc/self/stat counted after the command name, in ms (utime is the
/// 12th and stime the 13th, cutime and cstime the next two; in clock ticks of 10 ms).
fn stat_ms(a: usize, b: usize) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    (fields.get(a).unwrap_or(&0.0) + fields.get(b).unwrap_or(&0.0)) * 10.0
}

fn corpus(root: &Path) {
    let corpus = azaudit::files::discover::absolute(&root.join("../shared/corpus"));
    let changed = corpus.join("avm/avm/res/network/virtual-network/main.bicep");
    if !changed.exists() {
        eprintln!("corpus part skipped: {} is absent", changed.display());
        return;
    }
    let mut times = Vec::new();
    let mut found = Vec::new();
    let mut files = 0;
    let runs = 7;
    let cpu = cpu_ms();
    for _ in 0..runs {
        let started = Instant::now();
        let index = ProjectIndex::build(&corpus, &[]);
        found = index.deployments_reaching(&changed);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        files = index.files().len();
    }
    let cpu = (cpu_ms() - cpu) / f64::from(runs);
    println!(
        "deployments reaching {} in ../shared/corpus ({files} templates indexed): {} found, median {:.0} ms (index built and queried), min {:.0} ms, {:.0} ms of CPU time per run",
        changed.strip_prefix(&corpus).unwrap_or(&changed).display(),
        found.len(),
        median(times.clone()),
        times.iter().copied().fold(f64::MAX, f64::min),
        cpu
    );
}

fn pre_commit(root: &Path) {
    let bin = root.join("target/release/azaudit");
    if !bin.exists() {
        eprintln!("pre-commit part skipped: build {} first", bin.display());
        return;
    }
    let fixture = root.join("fixtures/deployments/project");
    let dir = std::env::temp_dir().join(format!("azaudit-bench-precommit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // 100 files: the fixture project (6 files) and 47 more deployments with a module each.
    let copy = |from: &str, to: &str| {
        let target = dir.join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixture.join(from), target).unwrap();
    };
    for f in [
        "main.bicep",
        "edge.bicep",
        "edge.bicepparam",
        "modules/network.bicep",
        "modules/edge-network.bicep",
        "modules/apim.bicep",
    ] {
        copy(f, f);
    }
    for i in 0..47 {
        copy("modules/network.bicep", &format!("app{i}/network.bicep"));
        std::fs::write(
            dir.join(format!("app{i}/main.bicep")),
            "module network './network.bicep' = {\n  name: 'network'\n  params: {\n    location: 'westeurope'\n  }\n}\n",
        )
        .unwrap();
    }
    pre_commit_runs(
        &bin,
        &dir,
        "modules/network.bicep",
        "pre-commit on one changed module of a 100-file repository",
    );
}

/// Makes `dir` a git repository, runs `check file` there 41 times and prints `what` with the
/// figures; removes `dir`.
fn pre_commit_runs(bin: &Path, dir: &Path, file: &str, what: &str) {
    let _ = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .status();
    let cpu = children_cpu_ms();
    let (code, times) = timed_runs(bin, dir, &["check", file], 41);
    let cpu = (children_cpu_ms() - cpu) / 41.0;
    println!(
        "{what}: exit {}, median {:.1} ms, p95 {:.1} ms, max {:.1} ms (process start to exit, 41 runs, load {}), {cpu:.1} ms of CPU time per run",
        code.unwrap_or(-1),
        median(times.clone()),
        p95(times.clone()),
        times.iter().copied().fold(0.0, f64::max),
        load()
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Pre-commit on a repository of one file: the fixed cost of a run (start, built-in policies,
/// one small template with a finding).
fn one_file(root: &Path) {
    let bin = root.join("target/release/azaudit");
    if !bin.exists() {
        eprintln!("one-file part skipped: build {} first", bin.display());
        return;
    }
    let dir = std::env::temp_dir().join(format!("azaudit-bench-onefile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        root.join("fixtures/policies/apim-subnet-delegation/fail.bicep"),
        dir.join("main.bicep"),
    )
    .unwrap();
    pre_commit_runs(
        &bin,
        &dir,
        "main.bicep",
        "one file (check main.bicep, a 90-line template with a finding)",
    );
}

#[allow(dead_code)]
fn phases(corpus: &Path) {
    let t = Instant::now();
    let paths: Vec<std::path::PathBuf> =
        azaudit::files::discover::candidates(&[corpus.to_path_buf()])
            .unwrap()
            .candidates
            .into_iter()
            .map(|c| c.path)
            .collect();
    let walk = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    use rayon::prelude::*;
    let texts: Vec<(std::path::PathBuf, String)> = paths
        .par_iter()
        .filter_map(|p| Some((p.clone(), String::from_utf8(std::fs::read(p).ok()?).ok()?)))
        .collect();
    let read = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let n = texts
        .par_iter()
        .filter_map(|(p, s)| azaudit::graph::project::scan(p, s))
        .count();
    let scan = t.elapsed().as_secs_f64() * 1000.0;
    println!("phases: walk {walk:.0} ms, read {read:.0} ms, scan {scan:.0} ms ({n} files)");
}
