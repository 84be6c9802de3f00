//! The main loop: lifecycle, documents, configuration, requests and publishing diagnostics.

use super::documents::{path_of, Document, Lang};
use super::worker::{self, DocSnapshot, Outcome, Snapshot};
use super::{actions, config, Published, ServerOptions};
use crate::engine::{self, Options};
use anyhow::anyhow;
use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeConfigurationParams, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, FileSystemWatcher, GlobPattern, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, LogMessageParams, MessageType,
    NumberOrString, PositionEncodingKind, PublishDiagnosticsParams, Registration,
    RegistrationParams, SaveOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a hover or code action waits for a pending analysis before answering from what it has.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// Id of the server's own `client/registerCapability` request.
const REGISTER_ID: &str = "azaudit/register-watchers";

struct OpenDoc {
    doc: Document,
    /// The text as the analysis shares it, made once per version (snapshots clone the `Arc`).
    shared: Option<Arc<str>>,
    opened: u64,
    /// What was last published for it (version, diagnostics).
    published: Option<(i32, Vec<Published>)>,
}

/// A request waiting for the analysis to catch up with the edits.
struct Pending {
    request: Request,
    since: Instant,
}

struct Server {
    sender: Sender<Message>,
    jobs: Sender<Snapshot>,
    /// Open documents by URI text.
    docs: HashMap<String, OpenDoc>,
    options: Options,
    debounce: Duration,
    /// Bumped by every change that affects diagnostics.
    generation: u64,
    /// The newest generation whose results arrived.
    analysed: u64,
    /// The newest generation sent to the worker; one analysis runs at a time, and edits made
    /// meanwhile are analysed together once it is done.
    dispatched: u64,
    /// When to start the next analysis (debounce).
    deadline: Option<Instant>,
    pending: Vec<Pending>,
    opened: u64,
    shutdown: bool,
    watch_files: bool,
    /// The workspace folders: project roots.
    workspace: Vec<std::path::PathBuf>,
    /// Bumped when files may have changed on disk (saves, watched files).
    disk_epoch: u64,
    /// The `bicepconfig.json` problems last logged (logged again only when they change).
    config_problems: Vec<String>,
    /// What was last published for files that are not open (by URI text): the diagnostics that
    /// the deployments of open documents find there.
    closed: HashMap<String, Vec<Published>>,
}

/// Runs the server until `exit`; see [`super::run`].
pub fn run(connection: Connection, options: ServerOptions) -> anyhow::Result<()> {
    let Some(params) = initialize(&connection)? else {
        return Err(anyhow!("exit before initialize"));
    };
    let (jobs, outcomes) = worker::spawn(options.analysis.clone())?;
    let mut server = Server {
        sender: connection.sender.clone(),
        jobs,
        docs: HashMap::new(),
        options: Options {
            registry: crate::files::registry::Registry::from_environment(),
            ..Options::default()
        },
        debounce: options.debounce,
        generation: 0,
        analysed: 0,
        dispatched: 0,
        deadline: None,
        pending: Vec::new(),
        opened: 0,
        shutdown: false,
        workspace: workspace_folders(&params),
        disk_epoch: 0,
        closed: HashMap::new(),
        config_problems: Vec::new(),
        watch_files: params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
    };
    if let Some(init) = &params.initialization_options {
        server.configure(init);
    }
    server.main_loop(&connection.receiver, outcomes)
}

/// Waits for `initialize` and answers it; `None` when the client exits first.
fn initialize(connection: &Connection) -> anyhow::Result<Option<InitializeParams>> {
    loop {
        let Ok(message) = connection.receiver.recv() else {
            return Err(anyhow!("the client disconnected before initialize"));
        };
        match message {
            Message::Request(r) if r.method == req::Initialize::METHOD => {
                // Lenient: a client that leaves out required fields still gets a server.
                let params = match serde_json::from_value::<InitializeParams>(r.params.clone()) {
                    Ok(params) => params,
                    Err(e) => {
                        eprintln!("azaudit lsp: invalid initialize params, using defaults: {e}");
                        InitializeParams {
                            initialization_options: r.params.get("initializationOptions").cloned(),
                            ..InitializeParams::default()
                        }
                    }
                };
                let result = InitializeResult {
                    capabilities: capabilities(),
                    server_info: Some(ServerInfo {
                        name: "azaudit".to_string(),
                        version: Some(env!("CARGO_PKG_VERSION").to_string()),
                    }),
                };
                connection
                    .sender
                    .send(Response::new_ok(r.id, result).into())?;
                return Ok(Some(params));
            }
            Message::Request(r) => {
                let message = "the server is not initialized".to_string();
                let response =
                    Response::new_err(r.id, ErrorCode::ServerNotInitialized as i32, message);
                connection.sender.send(response.into())?;
            }
            Message::Notification(n) if n.method == note::Exit::METHOD => return Ok(None),
            Message::Notification(_) | Message::Response(_) => {}
        }
    }
}

/// What the server implements, and nothing more.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            resolve_provider: Some(false),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

enum Flow {
    Continue,
    Exit,
}

impl Server {
    fn main_loop(
        &mut self,
        receiver: &Receiver<Message>,
        outcomes: Receiver<Outcome>,
    ) -> anyhow::Result<()> {
        let mut outcomes = outcomes;
        loop {
            let timer = match self.next_wake() {
                Some(at) => crossbeam_channel::at(at),
                None => crossbeam_channel::never(),
            };
            crossbeam_channel::select! {
                recv(receiver) -> message => match message {
                    Ok(message) => {
                        if let Flow::Exit = self.handle(message) {
                            return self.exit_result("exit");
                        }
                    }
                    Err(_) => return self.exit_result("a closed connection"),
                },
                recv(outcomes) -> outcome => match outcome {
                    Ok(outcome) => self.apply(outcome),
                    Err(_) => {
                        // The worker is gone: stop listening to it, stop waiting for it.
                        outcomes = crossbeam_channel::never();
                        self.analysed = u64::MAX;
                        self.log(MessageType::ERROR, "the analysis thread stopped");
                    }
                },
                recv(timer) -> _ => {}
            }
            self.tick();
        }
    }

    fn exit_result(&self, what: &str) -> anyhow::Result<()> {
        if self.shutdown {
            Ok(())
        } else {
            Err(anyhow!("{what} without shutdown"))
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        let waits = self.pending.iter().map(|p| p.since + MAX_WAIT);
        // While an analysis runs, its result wakes the loop; a due deadline waits for it.
        let deadline = self.deadline.filter(|_| !self.busy());
        deadline.into_iter().chain(waits).min()
    }

    /// An analysis is running.
    fn busy(&self) -> bool {
        self.dispatched > self.analysed
    }

    /// Starts a due analysis and answers the requests that can be answered.
    fn tick(&mut self) {
        let now = Instant::now();
        if self.shutdown {
            // No more analyses: the client is going away.
            self.deadline = None;
        }
        if self.deadline.is_some_and(|d| d <= now) && !self.busy() {
            self.deadline = None;
            self.dispatch();
        }
        if self.pending.is_empty() {
            return;
        }
        let fresh = self.is_fresh();
        let (ready, waiting): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| fresh || p.since + MAX_WAIT <= now);
        self.pending = waiting;
        for p in ready {
            self.answer(p.request);
        }
    }

    fn is_fresh(&self) -> bool {
        self.deadline.is_none() && self.analysed >= self.generation
    }

    /// Something changed: analyse again once the edits pause.
    fn schedule(&mut self) {
        self.generation += 1;
        self.deadline = Some(Instant::now() + self.debounce);
    }

    fn dispatch(&mut self) {
        self.dispatched = self.generation;
        let mut docs: Vec<DocSnapshot> = self
            .docs
            .values_mut()
            .map(|d| DocSnapshot {
                uri: d.doc.uri.clone(),
                path: d.doc.path.clone(),
                version: d.doc.version,
                opened: d.opened,
                text: d
                    .shared
                    .get_or_insert_with(|| Arc::from(d.doc.text.as_str()))
                    .clone(),
                audited: d.doc.is_audited(),
            })
            .collect();
        let (options, problems, configs) = resolve_options(&self.options, &mut docs);
        if problems != self.config_problems {
            for problem in &problems {
                self.log(MessageType::WARNING, problem);
            }
            self.config_problems = problems;
        }
        let snapshot = Snapshot {
            generation: self.generation,
            docs,
            options,
            workspace: self.workspace.clone(),
            disk_epoch: self.disk_epoch,
            configs,
        };
        if self.jobs.send(snapshot).is_err() {
            self.log(MessageType::ERROR, "the analysis thread stopped");
            // Nothing will arrive: don't keep requests waiting for it.
            self.analysed = self.analysed.max(self.generation);
        }
    }

    /// Publishes the results that are still current; results for older versions are dropped.
    fn apply(&mut self, outcome: Outcome) {
        self.analysed = self.analysed.max(outcome.generation);
        // Files that are not open: what the open documents' deployments find there; what they
        // no longer find is cleared.
        let mut now: HashMap<String, (lsp_types::Uri, Vec<Published>)> = outcome
            .closed
            .into_iter()
            .filter(|(uri, _)| !self.docs.contains_key(uri.as_str()))
            .map(|(uri, list)| (uri.as_str().to_string(), (uri, list)))
            .collect();
        let gone: Vec<String> = self
            .closed
            .keys()
            .filter(|k| !now.contains_key(*k))
            .cloned()
            .collect();
        for key in gone {
            self.closed.remove(&key);
            if let Ok(uri) = key.parse::<lsp_types::Uri>() {
                self.publish_closed(uri, Vec::new());
            }
        }
        for (key, (uri, list)) in now.drain() {
            if self.closed.get(&key) != Some(&list) {
                self.closed.insert(key, list.clone());
                self.publish_closed(uri, list);
            }
        }
        for result in outcome.docs {
            let Some(open) = self.docs.get_mut(result.uri.as_str()) else {
                continue;
            };
            if open.doc.version != result.version || open.opened != result.opened {
                continue;
            }
            let unchanged = match &open.published {
                Some((version, list)) => *version == result.version && *list == result.diagnostics,
                // The first result of an audited document is published, empty or not: the client
                // then knows it was analysed.
                None => !open.doc.is_audited() && result.diagnostics.is_empty(),
            };
            if unchanged {
                continue;
            }
            let params = PublishDiagnosticsParams {
                uri: result.uri.clone(),
                diagnostics: result.diagnostics.iter().map(|p| p.lsp.clone()).collect(),
                version: Some(result.version),
            };
            open.published = Some((result.version, result.diagnostics));
            self.notify::<note::PublishDiagnostics>(params);
        }
    }

    /// Publishes the diagnostics of a file that is not open (no version).
    fn publish_closed(&mut self, uri: lsp_types::Uri, list: Vec<Published>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics: list.into_iter().map(|p| p.lsp).collect(),
            version: None,
        };
        self.notify::<note::PublishDiagnostics>(params);
    }

    fn handle(&mut self, message: Message) -> Flow {
        match message {
            Message::Request(r) => self.request(r),
            Message::Notification(n) => return self.notification(n),
            Message::Response(_) => {}
        }
        Flow::Continue
    }

    fn request(&mut self, r: Request) {
        if self.shutdown {
            let message = format!("`{}` after shutdown", r.method);
            self.respond(Response::new_err(
                r.id,
                ErrorCode::InvalidRequest as i32,
                message,
            ));
            return;
        }
        match r.method.as_str() {
            req::Shutdown::METHOD => {
                self.shutdown = true;
                for p in std::mem::take(&mut self.pending) {
                    self.answer(p.request);
                }
                self.respond(Response::new_ok(r.id, ()));
            }
            req::HoverRequest::METHOD | req::CodeActionRequest::METHOD => {
                if self.is_fresh() {
                    self.answer(r);
                } else {
                    self.pending.push(Pending {
                        request: r,
                        since: Instant::now(),
                    });
                }
            }
            req::Initialize::METHOD => {
                let message = "the server is already initialized".to_string();
                self.respond(Response::new_err(
                    r.id,
                    ErrorCode::InvalidRequest as i32,
                    message,
                ));
            }
            _ => {
                let message = format!("unknown method `{}`", r.method);
                self.respond(Response::new_err(
                    r.id,
                    ErrorCode::MethodNotFound as i32,
                    message,
                ));
            }
        }
    }

    /// Answers a hover or code action request from the current state.
    fn answer(&mut self, r: Request) {
        let response = match r.method.as_str() {
            req::HoverRequest::METHOD => match serde_json::from_value::<HoverParams>(r.params) {
                Ok(params) => {
                    let at = params.text_document_position_params;
                    let hover = self
                        .docs
                        .get(at.text_document.uri.as_str())
                        .and_then(|d| d.published.as_ref())
                        .and_then(|(_, list)| actions::hover(list, at.position));
                    Response::new_ok(r.id, hover)
                }
                Err(e) => invalid_params(r.id, &e),
            },
            req::CodeActionRequest::METHOD => {
                match serde_json::from_value::<CodeActionParams>(r.params) {
                    Ok(params) => {
                        let list = self
                            .docs
                            .get(params.text_document.uri.as_str())
                            .map(|d| {
                                let published =
                                    d.published.as_ref().map_or(&[][..], |(_, l)| l.as_slice());
                                let version = d.published.as_ref().map(|(v, _)| *v);
                                actions::code_actions(&d.doc, published, version, &params)
                            })
                            .unwrap_or_default();
                        Response::new_ok(r.id, list)
                    }
                    Err(e) => invalid_params(r.id, &e),
                }
            }
            other => {
                let message = format!("unknown method `{other}`");
                Response::new_err(r.id, ErrorCode::MethodNotFound as i32, message)
            }
        };
        self.respond(response);
    }

    fn notification(&mut self, n: Notification) -> Flow {
        match n.method.as_str() {
            note::Exit::METHOD => return Flow::Exit,
            note::Initialized::METHOD => self.register_watchers(),
            note::Cancel::METHOD => {
                if let Some(p) = self.params::<lsp_types::CancelParams>(n) {
                    self.cancel(&request_id(p.id));
                }
            }
            note::DidOpenTextDocument::METHOD => {
                if let Some(p) = self.params::<DidOpenTextDocumentParams>(n) {
                    let item = p.text_document;
                    let path = path_of(&item.uri, &item.language_id);
                    let lang = Lang::detect(&item.language_id, &path);
                    self.opened += 1;
                    let doc = Document {
                        uri: item.uri.clone(),
                        path,
                        lang,
                        version: item.version,
                        text: item.text,
                    };
                    let open = OpenDoc {
                        doc,
                        shared: None,
                        opened: self.opened,
                        published: None,
                    };
                    self.closed.remove(item.uri.as_str());
                    self.docs.insert(item.uri.as_str().to_string(), open);
                    self.schedule();
                }
            }
            note::DidChangeTextDocument::METHOD => {
                if let Some(p) = self.params::<DidChangeTextDocumentParams>(n) {
                    let uri = p.text_document.uri;
                    match self.docs.get_mut(uri.as_str()) {
                        Some(open) => {
                            open.doc.apply_changes(p.content_changes);
                            open.shared = None;
                            open.doc.version = p.text_document.version;
                            self.schedule();
                        }
                        None => {
                            let message =
                                format!("change to `{}`, which is not open", uri.as_str());
                            self.log(MessageType::WARNING, &message);
                        }
                    }
                }
            }
            note::DidSaveTextDocument::METHOD | note::DidChangeWatchedFiles::METHOD => {
                self.disk_epoch += 1;
                self.schedule()
            }
            note::DidCloseTextDocument::METHOD => {
                if let Some(p) = self.params::<DidCloseTextDocumentParams>(n) {
                    let uri = p.text_document.uri;
                    if let Some(open) = self.docs.remove(uri.as_str()) {
                        // Kept until the next analysis says whether the open documents'
                        // deployments still find them.
                        let list = open.published.map(|(_, l)| l).unwrap_or_default();
                        if list.is_empty() {
                            self.publish_closed(uri, Vec::new());
                        } else {
                            self.closed.insert(uri.as_str().to_string(), list);
                        }
                        self.schedule();
                    }
                }
            }
            note::DidChangeConfiguration::METHOD => {
                if let Some(p) = self.params::<DidChangeConfigurationParams>(n) {
                    self.configure(&p.settings);
                    self.schedule();
                }
            }
            _ => {}
        }
        Flow::Continue
    }

    fn configure(&mut self, value: &serde_json::Value) {
        let settings = config::parse(value);
        for warning in &settings.warnings {
            self.log(MessageType::WARNING, &format!("settings: {warning}"));
        }
        if let Some(levels) = settings.levels {
            self.options.levels = levels;
        }
        if let Some(debounce) = settings.debounce {
            self.debounce = debounce;
        }
    }

    fn cancel(&mut self, id: &RequestId) {
        let Some(i) = self.pending.iter().position(|p| &p.request.id == id) else {
            return;
        };
        let p = self.pending.remove(i);
        self.respond(Response::new_err(
            p.request.id,
            ErrorCode::RequestCanceled as i32,
            "canceled".to_string(),
        ));
    }

    /// Asks the client to report changes to the files the analysis reads.
    fn register_watchers(&mut self) {
        if !self.watch_files {
            return;
        }
        let watchers = ["**/*.bicep", "**/*.bicepparam", "**/*.json", "**/*.jsonc"]
            .into_iter()
            .map(|glob| FileSystemWatcher {
                glob_pattern: GlobPattern::String(glob.to_string()),
                kind: None,
            })
            .collect();
        let options = lsp_types::DidChangeWatchedFilesRegistrationOptions { watchers };
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "azaudit-watched-files".to_string(),
                method: note::DidChangeWatchedFiles::METHOD.to_string(),
                register_options: serde_json::to_value(options).ok(),
            }],
        };
        let request = Request::new(
            RequestId::from(REGISTER_ID.to_string()),
            req::RegisterCapability::METHOD.to_string(),
            params,
        );
        self.send(request.into());
    }

    /// A notification's params, or `None` (logged) when they don't fit.
    fn params<P: serde::de::DeserializeOwned>(&mut self, n: Notification) -> Option<P> {
        match serde_json::from_value(n.params) {
            Ok(p) => Some(p),
            Err(e) => {
                let message = format!("invalid `{}` params: {e}", n.method);
                self.log(MessageType::WARNING, &message);
                None
            }
        }
    }

    fn log(&mut self, typ: MessageType, message: &str) {
        eprintln!("azaudit lsp: {message}");
        let params = LogMessageParams {
            typ,
            message: message.to_string(),
        };
        self.notify::<note::LogMessage>(params);
    }

    /// Sends a notification; after `shutdown` nothing is sent but answers to requests.
    fn notify<N: note::Notification>(&mut self, params: N::Params) {
        if self.shutdown {
            return;
        }
        self.send(Notification::new(N::METHOD.to_string(), params).into());
    }

    fn respond(&mut self, response: Response) {
        self.send(response.into());
    }

    fn send(&mut self, message: Message) {
        if self.sender.send(message).is_err() {
            eprintln!("azaudit lsp: the client connection is closed");
        }
    }
}

fn invalid_params(id: RequestId, e: &serde_json::Error) -> Response {
    Response::new_err(
        id,
        ErrorCode::InvalidParams as i32,
        format!("invalid params: {e}"),
    )
}

/// The workspace folders of `initialize` (or its `rootUri`), as paths.
#[allow(deprecated)]
fn workspace_folders(params: &InitializeParams) -> Vec<std::path::PathBuf> {
    let uris: Vec<&lsp_types::Uri> = match &params.workspace_folders {
        Some(folders) if !folders.is_empty() => folders.iter().map(|f| &f.uri).collect(),
        _ => params.root_uri.iter().collect(),
    };
    uris.into_iter()
        .map(|u| path_of(u, ""))
        .filter(|p| p.is_absolute())
        .collect()
}

/// `$/cancelRequest` ids may be numbers or strings.
fn request_id(id: NumberOrString) -> RequestId {
    match id {
        NumberOrString::Number(n) => RequestId::from(n),
        NumberOrString::String(s) => RequestId::from(s),
    }
}

/// The options of one analysis: the `bicepconfig.json` files governing the open documents,
/// resolved by [`engine::configure`] as `azaudit check` resolves them (levels, `off`, policy
/// parameters, policy folders, deployment context), with the editor's own level settings over
/// them. Read again for every analysis, so an edited or saved configuration applies at once (an
/// open `bicepconfig.json` buffer is read from the editor). A document its configuration rules
/// out (`enabled: false`, `exclude`; [`crate::files::config::Config::audits`], the rule `check`
/// chooses files by) is not audited. Returns the problems to log, and the configurations read
/// (for the files the analysis reaches beyond the open documents).
fn resolve_options(
    editor: &Options,
    docs: &mut [DocSnapshot],
) -> (Options, Vec<String>, crate::files::config::Cache) {
    let mut options = editor.clone();
    let editor_levels = std::mem::take(&mut options.levels);
    let mut cache = crate::files::config::Cache::new();
    for d in docs.iter() {
        if d.path
            .file_name()
            .is_some_and(|n| n == crate::files::config::FILE_NAME)
        {
            if let Ok(config) = crate::files::config::Config::parse(&d.path, &d.text) {
                cache.insert(Arc::new(config));
            }
        }
    }
    for d in docs.iter_mut().filter(|d| d.audited) {
        d.audited = cache.audits(&d.path);
    }
    let audited = docs.iter().filter(|d| d.audited).map(|d| d.path.as_path());
    let (configs, errors) = engine::configurations_for(audited, &mut cache);
    let mut problems: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    if let Err(e) = engine::configure(&mut options, &configs) {
        problems.push(e.to_string());
    }
    options.levels.extend(editor_levels);
    (options, problems, cache)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployment_context_comes_from_the_nearest_bicepconfig() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/deployment");
        let doc = |path: std::path::PathBuf| DocSnapshot {
            uri: "file:///x.bicep".parse().unwrap(),
            path,
            version: 1,
            opened: 1,
            text: std::sync::Arc::from(""),
            audited: true,
        };
        let context =
            |docs: &mut [DocSnapshot]| resolve_options(&Options::default(), docs).0.deployment;
        let d = context(&mut [doc(root.join("main.bicep"))]);
        assert_eq!(
            d.subscription_id.as_deref(),
            Some("00000000-0000-0000-0000-000000000001")
        );
        assert_eq!(d.location.as_deref(), Some("westeurope"));
        let none = context(&mut [doc(std::path::PathBuf::from("/nonexistent/dir/main.bicep"))]);
        assert!(none.is_empty());
    }
}
