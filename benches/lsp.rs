//! The language server as an editor sees it: `didChange` → `publishDiagnostics` latency on the
//! largest quickstart Bicep file with one-character edits, and resident memory with every file of
//! the quickstart corpus open. Spawns the release binary over stdio:
//! `cargo build --release && cargo bench --bench lsp`. Skips when ../shared is absent.
//!
//! Latency is the client's view of one edit: from just before the `didChange` is written to the
//! server's stdin to when the `publishDiagnostics` of that version has been read and parsed, one
//! edit at a time (the next is sent after the publication), with the debounce set to 0. It
//! includes both sides' JSON and pipe I/O and the whole analysis (the project index, the
//! configuration, lowering, the graph, the policies, the conversion to LSP positions).

// A benchmark's report is its standard output; a failure is a failed run.
#![allow(
    clippy::print_stdout,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use azaudit::files::discover::files_with_extension;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn recv(&mut self) -> Value {
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            self.stdout.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                len = v.parse().unwrap();
            }
        }
        let mut body = vec![0u8; len];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// Waits for `publishDiagnostics` of `uri` at `version`.
    fn wait_diagnostics(&mut self, uri: &str, version: i64) {
        loop {
            let m = self.recv();
            if m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"].as_i64().unwrap_or(version) >= version
            {
                return;
            }
        }
    }
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = azaudit::files::discover::absolute(&root.join("../shared/corpus/quickstart"));
    let big = corpus.join("demos/aks-nat-agic/main.bicep");
    if !big.exists() {
        eprintln!("lsp bench skipped: {} is absent", big.display());
        return;
    }
    let bin = root.join("target/release/azaudit");
    if !bin.exists() {
        eprintln!(
            "lsp bench skipped: build {} first (cargo build --release)",
            bin.display()
        );
        return;
    }
    let mut child = Command::new(&bin)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut s = Server {
        stdin: child.stdin.take().unwrap(),
        stdout: BufReader::new(child.stdout.take().unwrap()),
    };
    s.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "capabilities": {}, "initializationOptions": {"azaudit": {"debounceMs": 0}}}}),
    );
    while s.recv()["id"] != 1 {}
    s.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));

    // Latency: one-character edits at the end of the largest file (add a space, remove it).
    let text = std::fs::read_to_string(&big).unwrap();
    let uri = format!("file://{}", big.canonicalize().unwrap().display());
    s.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "bicep", "version": 1, "text": text}}}),
    );
    // (A document with nothing to report publishes nothing on open; every new version does.)
    let last_line = text.lines().count() as u64;
    let mut times = Vec::new();
    for version in 2..=201i64 {
        let change = if version % 2 == 0 {
            json!({"range": {"start": {"line": last_line, "character": 0}, "end": {"line": last_line, "character": 0}}, "text": " "})
        } else {
            json!({"range": {"start": {"line": last_line, "character": 0}, "end": {"line": last_line, "character": 1}}, "text": ""})
        };
        let started = Instant::now();
        s.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}}),
        );
        s.wait_diagnostics(&uri, version);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "didChange -> publishDiagnostics on {} ({} KB), {} edits: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (load {})",
        big.strip_prefix(&corpus).unwrap_or(&big).display(),
        text.len() / 1024,
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(0.0),
        load.split_whitespace().next().unwrap_or("?")
    );

    // Memory: every Bicep and ARM file of the quickstart corpus open.
    let mut files = Vec::new();
    files.extend(files_with_extension(&corpus, &["bicep", "json"]));
    files.sort();
    let started = Instant::now();
    let mut opened = 0;
    let mut last_bicep = String::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let bicep = f.extension().is_some_and(|x| x == "bicep");
        let language = if bicep { "bicep" } else { "json" };
        let uri = format!("file://{}", f.canonicalize().unwrap().display());
        if bicep {
            last_bicep = uri.clone();
        }
        s.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": language, "version": 1, "text": text}}}),
        );
        opened += 1;
    }
    // Wait until the last Bicep file's first result is published (every open document is
    // analysed by then), sampling resident memory on every message.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut peak = 0.0f64;
    loop {
        peak = peak.max(rss_mb(pid));
        let m = s.recv();
        if (m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == last_bicep.as_str())
            || Instant::now() > deadline
        {
            break;
        }
    }
    peak = peak.max(rss_mb(pid));
    let settled = rss_mb(pid);
    s.send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    while s.recv()["id"] != 2 {}
    println!(
        "{} quickstart files open: resident memory {:.0} MB at the end, {:.0} MB peak seen; {:.1} s to open and analyse them",
        opened,
        settled,
        peak,
        started.elapsed().as_secs_f64()
    );
    s.send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let _ = child.wait();
}
