//! Neovim end to end: a headless Neovim with editors/nvim on its runtimepath opens a fixture,
//! waits for diagnostics, checks codes and lines, fixes the buffer and sees them clear
//! (tests/nvim/check_diagnostics.lua does the editor side).
//!
//! Skipped with a message when `nvim` is not on PATH (or `AZAUDIT_NVIM` names another binary).

use azaudit::diagnostic::{Diagnostic, Severity};
use azaudit::engine::{FileProvider, Input, Options, Report};
use azaudit::lsp::{self, ServerOptions};
use azaudit::source::Span;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::ROOT;

/// The Neovim binary and its (major, minor) version, or `None` (with a message) to skip.
fn nvim() -> Option<(PathBuf, (u32, u32))> {
    let bin = std::env::var_os("AZAUDIT_NVIM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join("nvim"))
                .find(|p| p.is_file())
        });
    let Some(bin) = bin else {
        eprintln!("skipped: `nvim` is not on PATH (set AZAUDIT_NVIM to a Neovim binary)");
        return None;
    };
    let out = Command::new(&bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("NVIM v"))
        .and_then(|v| {
            let mut parts = v.split('.');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })?;
    Some((bin, version))
}

/// Runs the check script in a headless Neovim; panics with its stderr when it fails.
fn run_nvim(bin: &Path, server: &str, file: &str, expect: &str, fix: &str) {
    let mut child = Command::new(bin)
        .args(["--headless", "--clean", "--cmd"])
        .arg(format!("set rtp^={ROOT}/editors/nvim"))
        .arg("-c")
        .arg(format!("luafile {ROOT}/tests/nvim/check_diagnostics.lua"))
        .env("AZAUDIT_NVIM_CMD", server)
        .env("AZAUDIT_NVIM_FILE", file)
        .env("AZAUDIT_NVIM_EXPECT", expect)
        .env("AZAUDIT_NVIM_FIX", fix)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("neovim did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    eprintln!("{stderr}");
    assert!(status.success(), "neovim check failed: {stderr}");
    assert!(stderr.contains("PASS"), "{stderr}");
}

/// Reports `test-code` at every `BAD`.
fn fake_analysis(inputs: &[Input], _: &dyn FileProvider, _: &Options) -> Report {
    let mut report = Report::default();
    for input in inputs {
        let file = report.sources.add(input.path.clone(), input.text.clone());
        for (i, _) in input.text.match_indices("BAD") {
            let span = Span::new(file, i, i + 3);
            report.diagnostics.push(Diagnostic::new(
                "test-code",
                Severity::Warning,
                span,
                "found `BAD`",
            ));
        }
    }
    report
}

/// The editor config, incremental sync and diagnostics through a real Neovim, against the server
/// with a fake analysis over a loopback socket (Neovim 0.11+).
#[test]
fn nvim_shows_and_clears_diagnostics() {
    let Some((bin, version)) = nvim() else {
        return;
    };
    if version < (0, 11) {
        eprintln!("skipped: Neovim {version:?} is older than 0.11 (no vim.lsp.config)");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let options = ServerOptions {
            analysis: Arc::new(fake_analysis),
            ..ServerOptions::default()
        };
        lsp::run_io(stream.try_clone().unwrap(), stream, options)
    });
    run_nvim(
        &bin,
        &format!("tcp:{port}"),
        &format!("{ROOT}/fixtures/lsp/marker.bicep"),
        "test-code@12",
        "'BAD'=>'Hot'",
    );
    // Neovim shut the server down on quit.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if server.is_finished() {
        assert!(server.join().unwrap().is_ok(), "exit without shutdown");
    }
}

/// The binary under test: `AZAUDIT_BIN` (an installed build), else this crate's.
fn azaudit_bin() -> String {
    std::env::var("AZAUDIT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_azaudit").to_string())
}

/// The real binary in a real editor (any Neovim from 0.7): a Bicep syntax error shows and clears.
#[test]
fn nvim_bicep_syntax_error() {
    let Some((bin, _)) = nvim() else {
        return;
    };
    run_nvim(
        &bin,
        &azaudit_bin(),
        &format!("{ROOT}/fixtures/lsp/syntax-error.bicep"),
        "syntax-error@8",
        "accessTier:=>accessTier: 'Hot'",
    );
}

/// The real policy in a real editor: API Management on the Consumption tier with a virtual
/// network.
#[test]
fn nvim_apim_consumption_vnet() {
    let Some((bin, _)) = nvim() else {
        return;
    };
    run_nvim(
        &bin,
        &azaudit_bin(),
        &format!("{ROOT}/fixtures/lsp/apim-consumption-vnet.bicep"),
        // At the `virtualNetworkType` line or the resource's head.
        "apim-vnet-sku-support@14|4",
        "'Internal'=>'None'",
    );
}
