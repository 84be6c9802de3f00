//! The language server over the protocol: in memory with a fake analysis, and once over stdio.
//!
//! The fake analysis reports `test-code` at every `BAD` (unless the line above says
//! `#disable-next-line test-code`), sleeps on `SLOW`, and follows `uses '<file>'` through the file
//! provider, reporting `test-code` at the `uses` when that file contains `BAD`.

use azaudit::diagnostic::{Diagnostic, Level};
use azaudit::engine::{FileProvider, Input, Options, Report};
use azaudit::lsp::{self, convert, ServerOptions};
use azaudit::source::Span;
use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

fn fake_analysis(inputs: &[Input], provider: &dyn FileProvider, options: &Options) -> Report {
    let mut report = Report::default();
    let level = options
        .levels
        .get("test-code")
        .copied()
        .unwrap_or(Level::Warning);
    let Some(severity) = level.severity() else {
        return report;
    };
    for input in inputs {
        let file = report.sources.add(input.path.clone(), input.text.clone());
        let text: &str = &input.text;
        if text.contains("SLOW") {
            std::thread::sleep(Duration::from_millis(400));
        }
        let mut previous = "";
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if !previous.contains("#disable-next-line test-code") {
                for (i, _) in line.match_indices("BAD") {
                    let span = Span::new(file, offset + i, offset + i + 3);
                    report.diagnostics.push(
                        Diagnostic::new("test-code", severity, span, "found `BAD`")
                            .with_help("remove `BAD`"),
                    );
                }
            }
            if let Some(i) = line.find("uses '") {
                let name = line[i + 6..].split('\'').next().unwrap_or("");
                let dir = input.path.parent().unwrap_or(Path::new(""));
                let other_path = dir.join(name);
                if let Some(other) = provider.read(&other_path) {
                    if let Some(j) = other.find("BAD") {
                        let other_id = report.sources.add(other_path, other.clone());
                        let span = Span::new(file, offset + i, offset + i + 4);
                        report.diagnostics.push(
                            Diagnostic::new("test-code", severity, span, "uses a file with `BAD`")
                                .with_related(Span::new(other_id, j, j + 3), "`BAD` is here"),
                        );
                    }
                }
            }
            if let Some(i) = line.find("calls '") {
                let name = line[i + 7..].split('\'').next().unwrap_or("");
                let dir = input.path.parent().unwrap_or(Path::new(""));
                let other_path = dir.join(name);
                if let Some(other) = provider.read(&other_path) {
                    if let Some(j) = other.find("BAD") {
                        let other_id = report.sources.add(other_path, other.clone());
                        let call = Span::new(file, offset + i, offset + i + 5);
                        report.diagnostics.push(
                            Diagnostic::new(
                                "test-code",
                                severity,
                                Span::new(other_id, j, j + 3),
                                "found `BAD` in a called file",
                            )
                            .with_related(call, "called here"),
                        );
                    }
                }
            }
            previous = line;
            offset += line.len();
        }
    }
    report
}

struct Client {
    conn: Connection,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    queue: VecDeque<Notification>,
    /// Notifications passed over while waiting for diagnostics.
    seen: Vec<Notification>,
    next_id: i32,
    init: Value,
}

impl Client {
    fn start(init_options: Value) -> Client {
        Client::start_with(init_options, Arc::new(fake_analysis))
    }

    /// A client whose server runs `analysis`.
    fn start_with(init_options: Value, analysis: lsp::AnalysisFn) -> Client {
        Client::start_in(init_options, analysis, Value::Null)
    }

    /// A client whose server runs `analysis` in these workspace folders (`null`: none).
    fn start_in(init_options: Value, analysis: lsp::AnalysisFn, folders: Value) -> Client {
        let (server_conn, conn) = Connection::memory();
        let options = ServerOptions {
            analysis,
            debounce: Duration::from_millis(50),
        };
        let server = std::thread::spawn(move || lsp::run(server_conn, options));
        let mut client = Client {
            conn,
            server: Some(server),
            queue: VecDeque::new(),
            seen: Vec::new(),
            next_id: 0,
            init: Value::Null,
        };
        let response = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": null,
                "workspaceFolders": folders,
                "capabilities": {},
                "initializationOptions": init_options,
            }),
        );
        client.init = response.response_result.expect("initialize result");
        client.notify("initialized", json!({}));
        client
    }

    /// A client whose server analyses right away.
    fn quick() -> Client {
        Client::start(json!({ "azaudit": { "debounceMs": 0 } }))
    }

    fn notify(&self, method: &str, params: Value) {
        let n = Notification::new(method.to_string(), params);
        self.conn.sender.send(n.into()).unwrap();
    }

    fn send_request(&mut self, method: &str, params: Value) -> RequestId {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        let r = Request::new(id.clone(), method.to_string(), params);
        self.conn.sender.send(r.into()).unwrap();
        id
    }

    fn request(&mut self, method: &str, params: Value) -> Response {
        let id = self.send_request(method, params);
        self.response(&id)
    }

    fn response(&mut self, id: &RequestId) -> Response {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.recv(deadline) {
                Message::Response(r) if &r.id == id => return r,
                Message::Response(r) => panic!("unexpected response {r:?}"),
                Message::Notification(n) => self.queue.push_back(n),
                Message::Request(r) => panic!("unexpected request {r:?}"),
            }
        }
    }

    fn recv(&self, deadline: Instant) -> Message {
        match self.conn.receiver.recv_deadline(deadline) {
            Ok(m) => m,
            Err(e) => panic!("no message from the server: {e}"),
        }
    }

    /// The next publishDiagnostics for `uri`.
    /// The first publication for `uri` of `version` or later (earlier ones are skipped: a result
    /// for an earlier version may be published before an edit made meanwhile arrives).
    fn diagnostics_of_version(&mut self, uri: &str, version: i64) -> Value {
        loop {
            let p = self.diagnostics(uri);
            if p["version"].as_i64().is_some_and(|v| v >= version) {
                return p;
            }
        }
    }

    fn diagnostics(&mut self, uri: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let n = match self.queue.pop_front() {
                Some(n) => n,
                None => match self.recv(deadline) {
                    Message::Notification(n) => n,
                    other => panic!("unexpected {other:?}"),
                },
            };
            if n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri {
                return n.params;
            }
            self.seen.push(n);
        }
    }

    /// Every notification the server sends until all analyses are done (a hover waits for them).
    fn settle(&mut self, uri: &str) -> Vec<Notification> {
        let id = self.send_request("textDocument/hover", hover_params(uri, 0, 0));
        self.response(&id);
        self.queue.drain(..).collect()
    }

    fn open(&self, uri: &str, language: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": {
                "uri": uri, "languageId": language, "version": version, "text": text,
            }}),
        );
    }

    fn change(&self, uri: &str, version: i32, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": changes,
            }),
        );
    }

    fn replace_all(&self, uri: &str, version: i32, text: &str) {
        self.change(uri, version, json!([{ "text": text }]));
    }

    fn finish(mut self) -> anyhow::Result<()> {
        let server = self.server.take().unwrap();
        drop(self);
        server.join().unwrap()
    }

    fn shutdown_and_exit(mut self) -> anyhow::Result<()> {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r.response_result.ok(), Some(Value::Null));
        self.notify("exit", Value::Null);
        self.finish()
    }
}

fn hover_params(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

fn range(line: u32, c1: u32, c2: u32) -> Value {
    json!({ "start": { "line": line, "character": c1 }, "end": { "line": line, "character": c2 } })
}

fn codes_and_lines(published: &Value) -> Vec<(String, u64)> {
    codes_lines_and_messages(published)
        .into_iter()
        .map(|(code, line, _)| (code, line))
        .collect()
}

fn has_code(published: &Value, code: &str) -> bool {
    codes_and_lines(published).iter().any(|(c, _)| c == code)
}

fn codes_lines_and_messages(published: &Value) -> Vec<(String, u64, String)> {
    published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Applies a WorkspaceEdit's edits for `uri` to `text`.
fn apply_edit(text: &str, edit: &Value, uri: &str) -> String {
    let mut edits: Vec<(usize, usize, String)> = edit["changes"][uri]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let r: lsp_types::Range = serde_json::from_value(e["range"].clone()).unwrap();
            let (s, end) = convert::offsets_of(text, r);
            (s, end, e["newText"].as_str().unwrap().to_string())
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (s, e, t) in edits {
        out.replace_range(s..e, &t);
    }
    out
}

const MAIN: &str = "file:///lsp-test/main.bicep";

#[test]
fn initialize_advertises_only_what_is_implemented() {
    let client = Client::quick();
    let caps = &client.init["capabilities"];
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    assert_eq!(caps["positionEncoding"], "utf-16");
    let advertised: Vec<&String> = caps.as_object().unwrap().keys().collect();
    assert_eq!(
        advertised.len(),
        4,
        "only sync, hover, code actions and the position encoding: {advertised:?}"
    );
    assert_eq!(client.init["serverInfo"]["name"], "azaudit");
    client.shutdown_and_exit().unwrap();
}

#[test]
fn diagnostics_follow_open_incremental_changes_fix_and_close() {
    let mut client = Client::quick();
    client.open(MAIN, "bicep", 1, "param a string\nvar x = 'BAD'\n");
    let p = client.diagnostics(MAIN);
    assert_eq!(p["version"], 1);
    let d = &p["diagnostics"][0];
    assert_eq!(d["code"], "test-code");
    assert_eq!(d["source"], "azaudit");
    assert_eq!(d["severity"], 2);
    assert_eq!(d["message"], "found `BAD`");
    assert_eq!(
        d["codeDescription"]["href"],
        "https://github.com/azaudit/azaudit/blob/main/docs/policies/test-code.md"
    );
    assert_eq!(d["range"], range(1, 9, 12));

    // An emoji before `BAD` moves it by two UTF-16 units.
    client.change(
        MAIN,
        2,
        json!([
            { "range": range(0, 0, 0), "text": "// 😀 BAD\n" },
        ]),
    );
    let p = client.diagnostics(MAIN);
    assert_eq!(p["version"], 2);
    assert_eq!(
        codes_and_lines(&p),
        [("test-code".to_string(), 0), ("test-code".to_string(), 2)]
    );
    assert_eq!(p["diagnostics"][0]["range"], range(0, 6, 9));

    // Fix both, in one didChange with two ranges applied in order.
    client.change(
        MAIN,
        3,
        json!([
            { "range": range(2, 9, 12), "text": "ok" },
            { "range": range(0, 6, 9), "text": "fine" },
        ]),
    );
    let p = client.diagnostics(MAIN);
    assert_eq!(p["version"], 3);
    assert_eq!(p["diagnostics"], json!([]));

    client.replace_all(MAIN, 4, "var y = 'BAD'\n");
    assert_eq!(
        client.diagnostics(MAIN)["diagnostics"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": MAIN } }),
    );
    let p = client.diagnostics(MAIN);
    assert_eq!(p["diagnostics"], json!([]));
    client.shutdown_and_exit().unwrap();
}

#[test]
fn code_actions_disable_for_the_line_and_the_resource() {
    let mut client = Client::quick();
    let text = "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'x'\n  properties: {\n    mode: 'BAD'\n  }\n}\n";
    client.open(MAIN, "bicep", 1, text);
    let p = client.diagnostics(MAIN);
    let diag = p["diagnostics"][0].clone();
    let r = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": MAIN },
            "range": diag["range"],
            "context": { "diagnostics": [diag] },
        }),
    );
    let actions = r.response_result.unwrap();
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Disable test-code for this line",
            "Disable test-code for this resource"
        ]
    );
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["diagnostics"][0]["code"], "test-code");
    let line_fixed = apply_edit(text, &actions[0]["edit"], MAIN);
    assert_eq!(
        line_fixed,
        "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: 'x'\n  properties: {\n    #disable-next-line test-code\n    mode: 'BAD'\n  }\n}\n"
    );
    let resource_fixed = apply_edit(text, &actions[1]["edit"], MAIN);
    assert!(resource_fixed.starts_with("#disable-next-line test-code\nresource sa"));

    // Applying the line action clears the diagnostic.
    client.replace_all(MAIN, 2, &line_fixed);
    assert_eq!(client.diagnostics(MAIN)["diagnostics"], json!([]));

    // Only quick fixes are offered; other kinds get none.
    let r = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": MAIN },
            "range": range(3, 0, 0),
            "context": { "diagnostics": [], "only": ["refactor"] },
        }),
    );
    assert_eq!(r.response_result.unwrap(), json!([]));
    client.shutdown_and_exit().unwrap();
}

#[test]
fn no_suppression_actions_outside_bicep() {
    let mut client = Client::quick();
    let uri = "file:///lsp-test/azuredeploy.json";
    let text = "{\n  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\",\n  \"x\": \"BAD\"\n}\n";
    client.open(uri, "json", 1, text);
    let p = client.diagnostics(uri);
    assert_eq!(codes_and_lines(&p), [("test-code".to_string(), 2)]);
    let r = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri },
            "range": p["diagnostics"][0]["range"],
            "context": { "diagnostics": [] },
        }),
    );
    assert_eq!(r.response_result.unwrap(), json!([]));
    client.shutdown_and_exit().unwrap();
}

#[test]
fn hover_shows_message_help_and_documentation() {
    let mut client = Client::quick();
    client.open(MAIN, "bicep", 1, "var x = 'BAD'\n");
    client.diagnostics(MAIN);
    let r = client.request("textDocument/hover", hover_params(MAIN, 0, 10));
    let hover = r.response_result.unwrap();
    assert_eq!(hover["contents"]["kind"], "markdown");
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("test-code"), "{text}");
    assert!(text.contains("found `BAD`"), "{text}");
    assert!(text.contains("remove `BAD`"), "{text}");
    assert!(
        text.contains("https://github.com/azaudit/azaudit/blob/main/docs/policies/test-code.md"),
        "{text}"
    );
    assert_eq!(hover["range"], range(0, 9, 12));
    let r = client.request("textDocument/hover", hover_params(MAIN, 0, 2));
    assert_eq!(r.response_result.ok(), Some(Value::Null));
    client.shutdown_and_exit().unwrap();
}

#[test]
fn only_arm_json_is_audited() {
    let mut client = Client::quick();
    let plain = "file:///lsp-test/package.json";
    client.open(plain, "json", 1, "{ \"name\": \"BAD\" }");
    let arm = "file:///lsp-test/main.parameters.json";
    client.open(
        arm,
        "jsonc",
        1,
        "{ \"$Schema\": \"https://schema.management.azure.com/schemas/2019-04-01/DeploymentParameters.json#\", \"p\": \"BAD\" }",
    );
    let tagged = "file:///lsp-test/template.txt";
    client.open(tagged, "arm-template", 1, "{ \"p\": \"BAD\" }");
    let other = "file:///lsp-test/notes.md";
    client.open(other, "markdown", 1, "BAD");
    let seen = client.settle(arm);
    let published: Vec<&str> = seen
        .iter()
        .filter(|n| n.method == "textDocument/publishDiagnostics")
        .map(|n| n.params["uri"].as_str().unwrap())
        .collect();
    assert!(published.contains(&arm), "{published:?}");
    assert!(published.contains(&tagged), "{published:?}");
    assert!(!published.contains(&plain), "{published:?}");
    assert!(!published.contains(&other), "{published:?}");
    client.shutdown_and_exit().unwrap();
}

#[test]
fn a_change_in_one_document_re_evaluates_the_others() {
    let mut client = Client::quick();
    let module = "file:///lsp-test/module.bicep";
    client.open(MAIN, "bicep", 1, "// uses 'module.bicep'\n");
    client.open(module, "bicep", 1, "var fine = 1\n");
    client.settle(MAIN);
    // An unsaved edit to the module shows in main (the provider serves the buffer).
    client.replace_all(module, 2, "var x = 'BAD'\n");
    let p = client.diagnostics(MAIN);
    assert_eq!(p["version"], 1);
    assert_eq!(codes_and_lines(&p), [("test-code".to_string(), 0)]);
    let related = &p["diagnostics"][0]["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], module);
    assert_eq!(related["location"]["range"], range(0, 9, 12));
    assert_eq!(related["message"], "`BAD` is here");
    // Closing the module falls back to the disk, where it does not exist.
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": module } }),
    );
    let p = client.diagnostics(MAIN);
    assert_eq!(p["diagnostics"], json!([]));
    client.shutdown_and_exit().unwrap();
}

#[test]
fn watched_file_changes_re_evaluate() {
    let dir = std::env::temp_dir().join(format!("azaudit-lsp-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let on_disk = dir.join("disk.bicep");
    std::fs::write(&on_disk, "var ok = 1\n").unwrap();
    let main_path = dir.join("main.bicep");
    let main_uri = url::Url::from_file_path(&main_path).unwrap().to_string();
    let disk_uri = url::Url::from_file_path(&on_disk).unwrap().to_string();

    let mut client = Client::quick();
    client.open(&main_uri, "bicep", 1, "// uses 'disk.bicep'\n");
    client.settle(&main_uri);
    std::fs::write(&on_disk, "var x = 'BAD'\n").unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": disk_uri, "type": 2 }] }),
    );
    let p = client.diagnostics(&main_uri);
    assert_eq!(codes_and_lines(&p), [("test-code".to_string(), 0)]);
    assert_eq!(
        p["diagnostics"][0]["relatedInformation"][0]["location"]["uri"],
        disk_uri
    );
    std::fs::write(&on_disk, "var ok = 2\n").unwrap();
    client.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": disk_uri } }),
    );
    assert_eq!(client.diagnostics(&main_uri)["diagnostics"], json!([]));
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn diagnostics_in_files_that_are_not_open_show_at_the_call() {
    let dir = std::env::temp_dir().join(format!("azaudit-lsp-calls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let called = dir.join("called.bicep");
    std::fs::write(&called, "var x = 'BAD'\n").unwrap();
    let main_uri = url::Url::from_file_path(dir.join("main.bicep"))
        .unwrap()
        .to_string();
    let called_uri = url::Url::from_file_path(&called).unwrap().to_string();

    let mut client = Client::quick();
    client.open(
        &main_uri,
        "bicep",
        1,
        "param p int\n// calls 'called.bicep'\n",
    );
    let p = client.diagnostics(&main_uri);
    let d = &p["diagnostics"][0];
    assert_eq!(d["message"], "found `BAD` in a called file");
    assert_eq!(d["range"], range(1, 3, 8));
    let related = &d["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], called_uri);
    assert_eq!(related["location"]["range"], range(0, 9, 12));
    // Once the called file is open, the diagnostic is in it.
    client.open(&called_uri, "bicep", 1, "var x = 'BAD'\n");
    let p = client.diagnostics(&called_uri);
    assert_eq!(
        p["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["message"] == "found `BAD` in a called file")
            .count(),
        1
    );
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configuration_sets_policy_levels() {
    let mut client = Client::start(json!({
        "azaudit": { "debounceMs": 0, "rules": { "test-code": { "level": "error" } } }
    }));
    client.open(MAIN, "bicep", 1, "var x = 'BAD'\n");
    assert_eq!(client.diagnostics(MAIN)["diagnostics"][0]["severity"], 1);
    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "azaudit": { "rules": { "test-code": { "level": "off" } } } } }),
    );
    assert_eq!(client.diagnostics(MAIN)["diagnostics"], json!([]));
    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "azaudit": { "rules": { "test-code": "info" } } } }),
    );
    assert_eq!(client.diagnostics(MAIN)["diagnostics"][0]["severity"], 3);
    client.shutdown_and_exit().unwrap();
}

#[test]
fn stale_results_are_dropped() {
    let mut client = Client::quick();
    client.open(MAIN, "bicep", 1, "SLOW BAD\n");
    // Let the worker start on version 1 (it sleeps), then edit.
    std::thread::sleep(Duration::from_millis(100));
    client.replace_all(MAIN, 2, "BAD BAD\n");
    let p = client.diagnostics(MAIN);
    assert_eq!(
        p["version"], 2,
        "the result for version 1 came after version 2 and is stale"
    );
    assert_eq!(p["diagnostics"].as_array().unwrap().len(), 2);
    client.shutdown_and_exit().unwrap();
}

#[test]
fn rapid_edits_are_debounced() {
    let mut client = Client::start(json!({ "azaudit": { "debounceMs": 300 } }));
    client.open(MAIN, "bicep", 1, "BAD\n");
    for version in 2..=6 {
        client.replace_all(MAIN, version, &"BAD\n".repeat(version as usize));
    }
    let p = client.diagnostics(MAIN);
    assert_eq!(p["version"], 6);
    assert_eq!(p["diagnostics"].as_array().unwrap().len(), 6);
    client.shutdown_and_exit().unwrap();
}

#[test]
fn pending_requests_can_be_canceled() {
    let mut client = Client::quick();
    client.open(MAIN, "bicep", 1, "SLOW\n");
    // The analysis is running, so the hover waits for it; cancel it meanwhile.
    let id = client.send_request("textDocument/hover", hover_params(MAIN, 0, 0));
    let raw_id: i32 = client.next_id;
    client.notify("$/cancelRequest", json!({ "id": raw_id }));
    let r = client.response(&id);
    assert_eq!(r.response_result.err().map(|e| e.code), Some(-32800));
    client.shutdown_and_exit().unwrap();
}

#[test]
fn bad_input_gets_errors_not_crashes() {
    let mut client = Client::quick();
    let r = client.request("textDocument/definition", hover_params(MAIN, 0, 0));
    assert_eq!(
        r.response_result.err().map(|e| e.code),
        Some(-32601),
        "MethodNotFound"
    );
    let r = client.request("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(
        r.response_result.err().map(|e| e.code),
        Some(-32602),
        "InvalidParams"
    );
    client.notify("custom/unknownNotification", json!({}));
    client.change(
        "file:///lsp-test/never-opened.bicep",
        2,
        json!([{ "text": "BAD" }]),
    );
    client.notify("textDocument/didOpen", json!({ "bad": "params" }));
    // An edit far past the end clamps instead of failing.
    client.open(MAIN, "bicep", 1, "ok\n");
    client.change(
        MAIN,
        2,
        json!([{ "range": range(99, 5, 7), "text": "BAD" }]),
    );
    let p = client.diagnostics_of_version(MAIN, 2);
    assert_eq!(p["version"], 2);
    let logs: Vec<String> = client
        .seen
        .iter()
        .filter(|n| n.method == "window/logMessage")
        .map(|n| n.params["message"].as_str().unwrap().to_string())
        .collect();
    assert!(logs.iter().any(|m| m.contains("not open")), "{logs:?}");
    let r = client.request("textDocument/hover", hover_params(MAIN, 1, 1));
    assert!(r.response_result.is_ok());
    client.shutdown_and_exit().unwrap();
}

#[test]
fn requests_before_initialize_and_after_shutdown_are_refused() {
    let (server_conn, conn) = Connection::memory();
    let server = std::thread::spawn(move || lsp::run(server_conn, ServerOptions::default()));
    let r = Request::new(
        1.into(),
        "textDocument/hover".to_string(),
        hover_params(MAIN, 0, 0),
    );
    conn.sender.send(r.into()).unwrap();
    match conn.receiver.recv_timeout(TIMEOUT).unwrap() {
        Message::Response(r) => assert_eq!(r.response_result.err().map(|e| e.code), Some(-32002)),
        other => panic!("{other:?}"),
    }
    let r = Request::new(
        2.into(),
        "initialize".to_string(),
        json!({ "capabilities": {} }),
    );
    conn.sender.send(r.into()).unwrap();
    conn.receiver.recv_timeout(TIMEOUT).unwrap();
    let r = Request::new(3.into(), "shutdown".to_string(), Value::Null);
    conn.sender.send(r.into()).unwrap();
    conn.receiver.recv_timeout(TIMEOUT).unwrap();
    let r = Request::new(
        4.into(),
        "textDocument/hover".to_string(),
        hover_params(MAIN, 0, 0),
    );
    conn.sender.send(r.into()).unwrap();
    match conn.receiver.recv_timeout(TIMEOUT).unwrap() {
        Message::Response(r) => assert_eq!(r.response_result.err().map(|e| e.code), Some(-32600)),
        other => panic!("{other:?}"),
    }
    conn.sender
        .send(Notification::new("exit".to_string(), Value::Null).into())
        .unwrap();
    assert!(server.join().unwrap().is_ok());
}

#[test]
fn nothing_is_published_after_shutdown() {
    // The analysis is due 50 ms after the open; shutdown comes first.
    let mut client = Client::start(json!({}));
    client.open(
        MAIN,
        "bicep",
        1,
        "resource r 'Microsoft.Network/virtualNetworks@2023-09-01' = {\n  name: 'v'\n}\n",
    );
    let r = client.request("shutdown", Value::Null);
    assert_eq!(r.response_result.ok(), Some(Value::Null));
    let after = Instant::now() + Duration::from_millis(500);
    if let Ok(m) = client.conn.receiver.recv_deadline(after) {
        panic!("sent after shutdown: {m:?}");
    }
    assert!(client
        .queue
        .iter()
        .all(|n| n.method != "textDocument/publishDiagnostics"));
    client.notify("exit", Value::Null);
    assert!(client.finish().is_ok());
}

#[test]
fn exit_without_shutdown_is_an_error() {
    let client = Client::quick();
    client.notify("exit", Value::Null);
    assert!(client.finish().is_err());
}

#[test]
fn server_registers_file_watchers_when_the_client_can() {
    let (server_conn, conn) = Connection::memory();
    let server = std::thread::spawn(move || lsp::run(server_conn, ServerOptions::default()));
    let caps = json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } });
    let r = Request::new(
        1.into(),
        "initialize".to_string(),
        json!({ "capabilities": caps }),
    );
    conn.sender.send(r.into()).unwrap();
    conn.receiver.recv_timeout(TIMEOUT).unwrap();
    conn.sender
        .send(Notification::new("initialized".to_string(), json!({})).into())
        .unwrap();
    match conn.receiver.recv_timeout(TIMEOUT).unwrap() {
        Message::Request(r) => {
            assert_eq!(r.method, "client/registerCapability");
            let reg = &r.params["registrations"][0];
            assert_eq!(reg["method"], "workspace/didChangeWatchedFiles");
            conn.sender
                .send(Response::new_ok(r.id, Value::Null).into())
                .unwrap();
        }
        other => panic!("{other:?}"),
    }
    conn.sender
        .send(Notification::new("exit".to_string(), Value::Null).into())
        .unwrap();
    assert!(server.join().unwrap().is_err());
    match conn.receiver.recv_timeout(Duration::from_millis(10)) {
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        Ok(m) => panic!("unexpected {m:?}"),
    }
}

/// Over real stdio: malformed frames, invalid UTF-8 and unknown methods don't stop the server,
/// stdout carries only protocol frames, and the exit code follows shutdown.
#[test]
fn stdio_server_survives_bad_input_and_exits_cleanly() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        out
    }
    fn read_frame(out: &mut impl BufRead) -> Value {
        let mut length = None;
        loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "stdout closed");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(": ").expect("a header line");
            assert!(name.eq_ignore_ascii_case("content-length"), "{line}");
            length = Some(value.parse::<usize>().unwrap());
        }
        let mut body = vec![0; length.unwrap()];
        out.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).expect("stdout carries only JSON-RPC")
    }
    fn response(out: &mut impl BufRead, id: Value) -> Value {
        loop {
            let m = read_frame(out);
            if m.get("id") == Some(&id) && m.get("method").is_none() {
                return m;
            }
        }
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_azaudit"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |v: Value| stdin.write_all(&frame(v.to_string().as_bytes())).unwrap();
    send(
        json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }),
    );
    let init = response(&mut stdout, json!(1));
    assert_eq!(init["result"]["capabilities"]["hoverProvider"], true);
    send(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    stdin.write_all(&frame(b"{ this is not json")).unwrap();
    let e = read_frame(&mut stdout);
    assert_eq!(e["error"]["code"], -32700);
    assert_eq!(e["id"], Value::Null);
    stdin.write_all(&frame(&[0xc3, 0x28, 0xff])).unwrap();
    let e = read_frame(&mut stdout);
    assert_eq!(e["error"]["code"], -32700);
    let mut send = |v: Value| stdin.write_all(&frame(v.to_string().as_bytes())).unwrap();
    send(json!({ "jsonrpc": "2.0", "id": 2, "method": "no/suchMethod", "params": {} }));
    assert_eq!(response(&mut stdout, json!(2))["error"]["code"], -32601);
    send(
        json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": { "textDocument": {
        "uri": "file:///lsp-test/main.bicep", "languageId": "bicep", "version": 1, "text": "var x = 1\n" } } }),
    );
    send(json!({ "jsonrpc": "2.0", "id": 3, "method": "shutdown" }));
    assert_eq!(response(&mut stdout, json!(3))["result"], Value::Null);
    send(json!({ "jsonrpc": "2.0", "method": "exit" }));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));

    // Without shutdown the exit code is 1.
    let mut child = Command::new(env!("CARGO_BIN_EXE_azaudit"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&frame(
            json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } })
                .to_string()
                .as_bytes(),
        ))
        .unwrap();
    stdin
        .write_all(&frame(
            json!({ "jsonrpc": "2.0", "method": "exit" })
                .to_string()
                .as_bytes(),
        ))
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

/// With the real analysis: the quick fix of `code` in the fixture `path`, applied through the
/// protocol, clears the diagnostic.
fn quick_fix_clears(path: &str, uri: &str, language: &str, code: &str) -> String {
    let text = std::fs::read_to_string(format!(
        "{}/fixtures/policies/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut client = Client::start_with(
        json!({ "azaudit": { "debounceMs": 0 } }),
        Arc::new(azaudit::engine::check),
    );
    client.open(uri, language, 1, &text);
    let p = client.diagnostics(uri);
    let diag = p["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {p}"))
        .clone();
    let ask = |diagnostics: Value| {
        json!({
            "textDocument": { "uri": uri },
            "range": diag["range"],
            "context": { "diagnostics": diagnostics },
        })
    };
    let r = client.request("textDocument/codeAction", ask(json!([diag])));
    let actions = r.response_result.unwrap();
    let fixes: Vec<&Value> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["isPreferred"] == true)
        .collect();
    assert_eq!(fixes.len(), 1, "one preferred quick fix: {actions:#}");
    let fix = fixes[0];
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], code);
    let fixed = apply_edit(&text, &fix["edit"], uri);
    assert_ne!(fixed, text);

    // A context naming another diagnostic at that range gets no quick fix.
    let mut other = diag.clone();
    other["code"] = json!("another-code");
    let r = client.request("textDocument/codeAction", ask(json!([other])));
    let actions = r.response_result.unwrap();
    assert!(
        actions
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["isPreferred"] != true),
        "{actions:#}"
    );

    client.replace_all(uri, 2, &fixed);
    let p = client.diagnostics(uri);
    let codes: Vec<(String, u64)> = codes_and_lines(&p);
    assert!(
        codes.iter().all(|(c, _)| c != code),
        "{code} still reported: {codes:?}"
    );
    client.shutdown_and_exit().unwrap();
    fixed
}

#[test]
fn quick_fix_delegates_the_subnet_to_the_service_the_mode_needs() {
    let fixed = quick_fix_clears(
        "apim-subnet-delegation/fail.bicep",
        "file:///lsp-test/apim.bicep",
        "bicep",
        "apim-subnet-delegation",
    );
    assert!(fixed.contains("serviceName: 'Microsoft.Web/hostingEnvironments'"));
}

#[test]
fn quick_fix_sets_the_singular_address_prefix_in_arm_json() {
    let fixed = quick_fix_clears(
        "apim-subnet-address-prefix/fail.json",
        "file:///lsp-test/azuredeploy.json",
        "json",
        "apim-subnet-address-prefix",
    );
    assert!(fixed.contains("\"addressPrefix\": \"10.20.1.0/24\","));
}

#[cfg(unix)]
#[test]
fn a_module_that_is_a_fifo_or_a_device_never_blocks_the_server() {
    let dir = std::env::temp_dir().join(format!("azaudit-lsp-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let fifo = dir.join("fifo.bicep");
    if !std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        return;
    }
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.bicep")).unwrap();
    let main = dir.join("main.bicep");
    let text =
        "module a 'fifo.bicep' = {\n  name: 'a'\n}\nmodule b '/dev/zero' = {\n  name: 'b'\n}\n";
    std::fs::write(&main, text).unwrap();
    let uri = file_uri(&main);
    let mut client = real_client();
    client.open(&uri, "bicep", 1, text);
    let published = client.diagnostics_of_version(&uri, 1);
    let messages = codes_lines_and_messages(&published);
    assert!(
        messages
            .iter()
            .any(|(c, _, m)| c == "module-error" && m.contains("not a regular file")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|(_, _, m)| m.contains("absolute path")),
        "{messages:?}"
    );
    // The server still answers.
    client.replace_all(&uri, 2, "");
    client.diagnostics_of_version(&uri, 2);
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A client whose server runs the real analysis, right away.
fn real_client() -> Client {
    Client::start_with(
        json!({ "azaudit": { "debounceMs": 0 } }),
        Arc::new(azaudit::engine::check),
    )
}

fn module_fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/modules")
        .join(rel)
}

fn file_uri(path: &Path) -> String {
    url::Url::from_file_path(path).unwrap().to_string()
}

fn has(published: &Value, code: &str, line: u64) -> bool {
    codes_and_lines(published).contains(&(code.to_string(), line))
}

/// The subnet delegation Standard v2 needs, inserted into network.bicep's subnet properties.
const DELEGATION: &str = "    delegations: [\n      {\n        name: 'apim'\n        properties: {\n          serviceName: 'Microsoft.Web/serverFarms'\n        }\n      }\n    ]\n";

/// The 0-based line after the subnet's `addressPrefix` in the delegation fixture's network.bicep.
fn after_address_prefix(text: &str) -> u32 {
    let i = text
        .lines()
        .position(|l| l.contains("addressPrefix: '10.1.1.0/24'"))
        .unwrap();
    u32::try_from(i + 1).unwrap()
}

#[test]
fn editing_a_module_updates_the_file_that_deploys_through_it() {
    let main = module_fixture("delegation/main.bicep");
    let network = module_fixture("delegation/network.bicep");
    let (main_uri, network_uri) = (file_uri(&main), file_uri(&network));
    let network_text = std::fs::read_to_string(&network).unwrap();
    let mut client = real_client();
    // main.bicep deploys Standard v2 API Management into the subnet network.bicep declares, which
    // lacks the delegation: shown where main.bicep links to it (line 24).
    client.open(
        &main_uri,
        "bicep",
        1,
        &std::fs::read_to_string(&main).unwrap(),
    );
    let p = client.diagnostics(&main_uri);
    assert!(has(&p, "apim-subnet-delegation", 23), "{p:#}");
    // Opened, network.bicep shows it at the subnet too; main.bicep keeps it.
    client.open(&network_uri, "bicep", 1, &network_text);
    let p = client.diagnostics(&network_uri);
    assert!(has(&p, "apim-subnet-delegation", 18), "{p:#}");
    client.settle(&main_uri);
    // An unsaved edit delegates the subnet: main.bicep's diagnostics are republished without it.
    let line = after_address_prefix(&network_text);
    client.change(
        &network_uri,
        2,
        json!([{ "range": range(line, 0, 0), "text": DELEGATION }]),
    );
    let p = client.diagnostics(&main_uri);
    assert!(!has_code(&p, "apim-subnet-delegation"), "{p:#}");
    // (network.bicep's own publication may come first or after: the order is not fixed.)
    // Undoing the edit brings it back.
    let lines = u32::try_from(DELEGATION.lines().count()).unwrap();
    client.change(
        &network_uri,
        3,
        json!([{
            "range": { "start": { "line": line, "character": 0 },
                       "end": { "line": line + lines, "character": 0 } },
            "text": "",
        }]),
    );
    let p = client.diagnostics(&main_uri);
    assert!(has(&p, "apim-subnet-delegation", 23), "{p:#}");
    client.shutdown_and_exit().unwrap();
}

#[test]
fn a_module_changed_on_disk_updates_the_file_that_deploys_through_it() {
    let dir = std::env::temp_dir().join(format!("azaudit-lsp-module-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["main.bicep", "network.bicep"] {
        std::fs::copy(module_fixture("delegation").join(name), dir.join(name)).unwrap();
    }
    let main_uri = file_uri(&dir.join("main.bicep"));
    let network = dir.join("network.bicep");
    let original = std::fs::read_to_string(&network).unwrap();
    let mut client = real_client();
    client.open(
        &main_uri,
        "bicep",
        1,
        &std::fs::read_to_string(dir.join("main.bicep")).unwrap(),
    );
    assert!(has(
        &client.diagnostics(&main_uri),
        "apim-subnet-delegation",
        23
    ));
    // network.bicep is not open: a change on disk arrives as a watched-file change.
    let mut lines: Vec<&str> = original.split_inclusive('\n').collect();
    let at = usize::try_from(after_address_prefix(&original)).unwrap();
    lines.insert(at, DELEGATION);
    std::fs::write(&network, lines.concat()).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&network), "type": 2 }] }),
    );
    let p = client.diagnostics(&main_uri);
    assert!(!has_code(&p, "apim-subnet-delegation"), "{p:#}");
    std::fs::write(&network, &original).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&network), "type": 2 }] }),
    );
    assert!(has(
        &client.diagnostics(&main_uri),
        "apim-subnet-delegation",
        23
    ));
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the editor should show for `path` from a CLI report: the diagnostics located in it, and
/// those located in other files at their first related location in it; `(code, 0-based line,
/// message)`, sorted, without repeats.
fn expected_in(report: &Report, path: &Path) -> Vec<(String, u64, String)> {
    let in_file = |span: &Span| {
        let f = report.sources.get(span.file)?;
        (f.path == path).then(|| u64::from(f.line_col(span.start).line) - 1)
    };
    let mut out: Vec<(String, u64, String)> = report
        .diagnostics
        .iter()
        .filter_map(|d| {
            let line =
                in_file(&d.span).or_else(|| d.related.iter().find_map(|r| in_file(&r.span)))?;
            Some((d.code.clone(), line, d.message.clone()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn the_server_shows_what_the_cli_finds_for_every_module_fixture() {
    let root = module_fixture("");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let mut client = real_client();
    let mut checked = 0;
    let mut with_findings = 0;
    for case in cases {
        let files = azaudit::files::discover::candidates(std::slice::from_ref(&case))
            .unwrap()
            .candidates;
        for file in files {
            // What `azaudit check <file>` finds.
            let plan = azaudit::cli::plan(&azaudit::cli::InputArgs {
                paths: vec![file.path.clone()],
                ..Default::default()
            })
            .unwrap();
            // The inputs are the deployments that reach the file, and the file.
            let Some(input) = plan.inputs.iter().find(|i| i.path == file.path) else {
                continue;
            };
            let report = azaudit::engine::check(&plan.inputs, &azaudit::files::Disk, &plan.options);
            let expected = expected_in(&report, &input.path);
            // What the server publishes for it, opened alone.
            let uri = file_uri(&input.path);
            let language = match input.path.extension().and_then(|e| e.to_str()) {
                Some("bicep") => "bicep",
                Some("bicepparam") => "bicep-params",
                _ => "json",
            };
            client.open(&uri, language, 1, &input.text);
            // (Files that are not open get publications too, without a version.)
            let p = client.diagnostics_of_version(&uri, 1);
            let mut got = codes_lines_and_messages(&p);
            got.sort();
            got.dedup();
            assert_eq!(got, expected, "{}", input.path.display());
            checked += 1;
            if !expected.is_empty() {
                with_findings += 1;
            }
            client.notify(
                "textDocument/didClose",
                json!({ "textDocument": { "uri": uri } }),
            );
        }
    }
    println!("{checked} files, {with_findings} with findings");
    assert!(checked >= 30, "{checked} files");
    assert!(with_findings >= 10, "{with_findings} files with findings");
    client.shutdown_and_exit().unwrap();
}

#[test]
fn registry_modules_follow_the_open_bicepconfig() {
    let main = module_fixture("registry-cache/main.bicep");
    let config = module_fixture("registry-cache/bicepconfig.json");
    let main_uri = file_uri(&main);
    let config_uri = file_uri(&config);
    let mut client = real_client();
    client.open(
        &main_uri,
        "bicep",
        1,
        &std::fs::read_to_string(&main).unwrap(),
    );
    // The registry module comes from the cache bicepconfig.json names (line 23).
    assert!(has(
        &client.diagnostics(&main_uri),
        "apim-subnet-delegation",
        22
    ));
    // An unsaved edit of bicepconfig.json that points the cache elsewhere: not restored.
    let config_text = std::fs::read_to_string(&config).unwrap();
    client.open(&config_uri, "json", 1, &config_text);
    client.replace_all(
        &config_uri,
        2,
        &config_text.replace("../../bicep-cache", "./no-cache-here"),
    );
    let p = client.diagnostics(&main_uri);
    assert!(!has_code(&p, "apim-subnet-delegation"), "{p:#}");
    client.replace_all(&config_uri, 3, &config_text);
    assert!(has(
        &client.diagnostics(&main_uri),
        "apim-subnet-delegation",
        22
    ));
    client.shutdown_and_exit().unwrap();
}

/// A copy of fixtures/deployments/project in a fresh folder (not under the azaudit repository).
fn deployments_project(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "azaudit-lsp-deployments-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deployments/project");
    for rel in [
        "main.bicep",
        "edge.bicep",
        "edge.bicepparam",
        "modules/network.bicep",
        "modules/edge-network.bicep",
        "modules/apim.bicep",
    ] {
        let to = dir.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from.join(rel), to).unwrap();
    }
    dir
}

#[test]
fn opening_only_a_module_shows_what_the_deployment_that_reaches_it_finds() {
    let dir = deployments_project("module");
    let network = dir.join("modules/network.bicep");
    let uri = file_uri(&network);
    // The editor's workspace folder is the project.
    let mut client = Client::start_in(
        json!({ "azaudit": { "debounceMs": 0 } }),
        Arc::new(azaudit::engine::check),
        json!([{ "uri": file_uri(&dir), "name": "project" }]),
    );
    client.open(
        &uri,
        "bicep",
        1,
        &std::fs::read_to_string(&network).unwrap(),
    );
    let p = client.diagnostics_of_version(&uri, 1);
    assert!(has(&p, "apim-subnet-delegation", 18), "{p}");
    // An unsaved edit that adds the delegation clears it.
    let text = std::fs::read_to_string(&network).unwrap().replace(
        "      id: nsg.id\n    }\n",
        "      id: nsg.id\n    }\n    delegations: [\n      {\n        name: 'd'\n        properties: {\n          serviceName: 'Microsoft.Web/serverFarms'\n        }\n      }\n    ]\n",
    );
    client.replace_all(&uri, 2, &text);
    let p = client.diagnostics_of_version(&uri, 2);
    assert!(!has_code(&p, "apim-subnet-delegation"), "{p}");
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_deployment_publishes_for_every_file_and_closing_keeps_what_open_deployments_find() {
    let dir = deployments_project("close");
    let main = dir.join("main.bicep");
    let network = dir.join("modules/network.bicep");
    let (main_uri, network_uri) = (file_uri(&main), file_uri(&network));
    let mut client = real_client();
    // Only main.bicep is open: the module it deploys gets the finding too, without a version.
    client.open(
        &main_uri,
        "bicep",
        1,
        &std::fs::read_to_string(&main).unwrap(),
    );
    let p = client.diagnostics(&network_uri);
    assert!(p["version"].is_null(), "{p}");
    assert!(has(&p, "apim-subnet-delegation", 18), "{p}");
    client.open(
        &network_uri,
        "bicep",
        1,
        &std::fs::read_to_string(&network).unwrap(),
    );
    let p = client.diagnostics_of_version(&network_uri, 1);
    assert!(has(&p, "apim-subnet-delegation", 18), "{p}");
    // Closing the module: main.bicep's deployment still finds it there.
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": network_uri } }),
    );
    let settled = client.settle(&main_uri);
    let cleared = settled.iter().any(|n| {
        n.method == "textDocument/publishDiagnostics"
            && n.params["uri"] == network_uri.as_str()
            && n.params["diagnostics"] == json!([])
    });
    assert!(!cleared, "{settled:?}");
    // Closing main.bicep too: nothing open deploys it any more.
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": main_uri } }),
    );
    let p = client.diagnostics(&network_uri);
    assert_eq!(p["diagnostics"], json!([]), "{p}");
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// (code, 0-based line, LSP severity) of each published diagnostic, sorted.
fn codes_lines_and_severities(published: &Value) -> Vec<(String, u64, u64)> {
    let severities = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["severity"].as_u64().unwrap());
    let mut out: Vec<(String, u64, u64)> = codes_lines_and_messages(published)
        .into_iter()
        .zip(severities)
        .map(|((code, line, _), severity)| (code, line, severity))
        .collect();
    out.sort();
    out
}

/// What `azaudit check` reports for `file`, as [`codes_lines_and_severities`] gives it.
fn check_codes_lines_and_severities(dir: &Path, file: &Path) -> Vec<(String, u64, u64)> {
    let plan = azaudit::cli::plan(&azaudit::cli::InputArgs {
        paths: vec![dir.to_path_buf()],
        ..Default::default()
    })
    .unwrap();
    let report = azaudit::engine::check(&plan.inputs, &azaudit::engine::Disk, &plan.options);
    let mut out: Vec<(String, u64, u64)> = report
        .diagnostics
        .iter()
        .filter(|d| {
            report
                .sources
                .get(d.span.file)
                .is_some_and(|f| f.path == file)
        })
        .map(|d| {
            let line = report
                .sources
                .get(d.span.file)
                .unwrap()
                .line_col(d.span.start)
                .line;
            let severity = match d.severity {
                azaudit::diagnostic::Severity::Error => 1,
                azaudit::diagnostic::Severity::Warning => 2,
                azaudit::diagnostic::Severity::Info => 3,
            };
            (d.code.clone(), u64::from(line - 1), severity)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_server_obeys_bicepconfig_json_as_check_does() {
    let dir = std::env::temp_dir().join(format!("azaudit-lsp-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    // A policy of the configuration's policy folder with a parameter: it fires only on the SKUs
    // the configuration lists (by default `Basic`, which the template doesn't use).
    std::fs::write(
        dir.join("policies/apim-sku-listed.json"),
        json!({"name": "apim-sku-listed", "properties": {
        "displayName": "API Management SKU is on the list",
        "parameters": {"skus": {"type": "Array", "defaultValue": ["Basic"]}},
        "policyRule": {
            "if": {"allOf": [
                {"field": "type", "equals": "Microsoft.ApiManagement/service"},
                {"field": "sku.name", "in": "[parameters('skus')]"}
            ]},
            "then": {"effect": "deny"}
        }}})
        .to_string(),
    )
    .unwrap();
    let config = |delegation: &str| {
        json!({"analyzers": {"azaudit": {
        "policyDirs": ["./policies"],
        "rules": {
            "apim-subnet-delegation": {"level": delegation},
            "apim-sku-listed": {"level": "info", "parameters": {"skus": ["PremiumV2"]}}
        }}}})
        .to_string()
    };
    std::fs::write(dir.join("bicepconfig.json"), config("off")).unwrap();
    let main = dir.join("main.bicep");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/policies/apim-subnet-delegation/fail.bicep"),
    )
    .unwrap();
    std::fs::write(&main, &text).unwrap();
    let main_uri = file_uri(&main);

    let mut client = real_client();
    client.open(&main_uri, "bicep", 1, &text);
    let published = codes_lines_and_severities(&client.diagnostics(&main_uri));
    // `off` hides the delegation finding; the folder's policy fires with the configured
    // parameter, at the configured level (info).
    assert!(
        !published
            .iter()
            .any(|(c, _, _)| c == "apim-subnet-delegation"),
        "{published:?}"
    );
    assert!(
        published
            .iter()
            .any(|(c, _, s)| c == "apim-sku-listed" && *s == 3),
        "{published:?}"
    );
    assert_eq!(published, check_codes_lines_and_severities(&dir, &main));

    // The configuration changes on disk: the next analysis reads it again.
    std::fs::write(dir.join("bicepconfig.json"), config("warning")).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&dir.join("bicepconfig.json")), "type": 2 }] }),
    );
    let published = codes_lines_and_severities(&client.diagnostics(&main_uri));
    assert!(
        published
            .iter()
            .any(|(c, _, s)| c == "apim-subnet-delegation" && *s == 2),
        "{published:?}"
    );
    assert_eq!(published, check_codes_lines_and_severities(&dir, &main));
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_bicepconfig_rules_out_shows_nothing_as_check_audits_nothing() {
    // `enabled: false` and `exclude`, in the open configuration buffer: the open template's
    // findings are cleared, as `check` audits nothing there, and come back when the configuration
    // audits the file again. A file in an excluded folder shows nothing from the start.
    let dir = std::env::temp_dir().join(format!("azaudit-lsp-exclude-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("vendor")).unwrap();
    let config_path = dir.join("bicepconfig.json");
    std::fs::write(&config_path, "{}").unwrap();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/policies/apim-subnet-delegation/fail.bicep"),
    )
    .unwrap();
    let main = dir.join("main.bicep");
    let vendored = dir.join("vendor/apim.bicep");
    std::fs::write(&main, &text).unwrap();
    std::fs::write(&vendored, &text).unwrap();
    let (main_uri, config_uri) = (file_uri(&main), file_uri(&config_path));

    let mut client = real_client();
    client.open(&main_uri, "bicep", 1, &text);
    assert!(has_code(
        &client.diagnostics(&main_uri),
        "apim-subnet-delegation"
    ));
    client.open(&config_uri, "json", 1, "{}");
    let settings = [
        json!({"analyzers": {"azaudit": {"enabled": false}}}),
        json!({"analyzers": {"azaudit": {"exclude": ["main.bicep"]}}}),
        json!({"analyzers": {"azaudit": {"exclude": ["**/*.bicep"]}}}),
    ];
    let mut version = 1;
    for config in settings.iter().map(|c| c.to_string()) {
        version += 1;
        client.replace_all(&config_uri, version, &config);
        let p = client.diagnostics(&main_uri);
        assert_eq!(p["diagnostics"], json!([]), "{config}: {p:#}");
        // `check` with the same configuration on disk audits nothing there either.
        std::fs::write(&config_path, &config).unwrap();
        assert_eq!(check_codes_lines_and_severities(&dir, &main), Vec::new());
        std::fs::write(&config_path, "{}").unwrap();
        // Audited again: the findings come back.
        version += 1;
        client.replace_all(&config_uri, version, "{}");
        assert!(has_code(
            &client.diagnostics(&main_uri),
            "apim-subnet-delegation"
        ));
    }

    let excluding = json!({"analyzers": {"azaudit": {"exclude": ["vendor"]}}}).to_string();
    client.replace_all(&config_uri, version + 1, &excluding);
    let vendored_uri = file_uri(&vendored);
    client.open(&vendored_uri, "bicep", 1, &text);
    let p = client.diagnostics(&vendored_uri);
    assert_eq!(p["diagnostics"], json!([]), "{p:#}");
    // The template outside the excluded folder still shows its own.
    client.change(
        &main_uri,
        2,
        json!([{ "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } }, "text": " " }]),
    );
    assert!(has_code(
        &client.diagnostics_of_version(&main_uri, 2),
        "apim-subnet-delegation"
    ));
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An assignment of a definition that denies storage accounts without HTTPS only, named `name`.
fn https_assignment(name: &str) -> String {
    json!([
        {
            "name": "Https-Only",
            "type": "Microsoft.Authorization/policyDefinitions",
            "properties": {
                "mode": "Indexed",
                "policyRule": {
                    "if": { "allOf": [
                        { "field": "type", "equals": "Microsoft.Storage/storageAccounts" },
                        { "field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "equals": false }
                    ] },
                    "then": { "effect": "deny" }
                }
            }
        },
        {
            "name": name,
            "type": "Microsoft.Authorization/policyAssignments",
            "properties": {
                "policyDefinitionId": "/providers/Microsoft.Management/managementGroups/x/providers/Microsoft.Authorization/policyDefinitions/Https-Only"
            }
        }
    ])
    .to_string()
}

#[test]
fn an_edited_assignment_file_changes_the_published_diagnostics() {
    let dir = std::env::temp_dir().join(format!("azaudit-lsp-assign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let assignment = dir.join("assignment.json");
    std::fs::write(&assignment, https_assignment("Https-Before")).unwrap();
    let template =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy-as-code/template/main.json");
    let main = dir.join("main.json");
    std::fs::copy(&template, &main).unwrap();
    let main_uri = file_uri(&main);
    // The server audits with the assignments of this folder (as `--assignments` would give).
    let given = assignment.clone();
    let mut client = Client::start_with(
        json!({ "azaudit": { "debounceMs": 0 } }),
        Arc::new(move |inputs, provider, options| {
            let mut options = options.clone();
            options.assignments.assignments = vec![given.clone()];
            azaudit::engine::check(inputs, provider, &options)
        }),
    );
    client.open(
        &main_uri,
        "json",
        1,
        &std::fs::read_to_string(&main).unwrap(),
    );
    let p = client.diagnostics(&main_uri);
    assert!(has_code(&p, "Https-Before"), "{p:#}");
    // The assignment is renamed on disk: the next analysis uses it, not the one it read first.
    std::fs::write(&assignment, https_assignment("Https-After-The-Edit")).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": file_uri(&assignment), "type": 2 }] }),
    );
    let p = client.diagnostics(&main_uri);
    assert!(has_code(&p, "Https-After-The-Edit"), "{p:#}");
    assert!(!has_code(&p, "Https-Before"), "{p:#}");
    client.shutdown_and_exit().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
