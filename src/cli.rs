//! The command line: `azaudit check`, `azaudit graph`, `azaudit lsp` (and the lead's `policies`
//! and `explain`). `main` only calls [`run`].
//!
//! Exit codes: 0 when nothing is at or above `--fail-level`, 1 when something is, 2 for usage,
//! configuration and internal errors. Results go to stdout, messages to stderr.

use crate::diagnostic::codes::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{self, Disk, Input, Options, Report};
use crate::files::config::{self, Config};
use crate::files::discover;
use crate::output::graph::GraphFormat;
use crate::output::{self, Format, RenderOptions};
use crate::source::Span;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code: nothing at or above the fail level.
pub const EXIT_OK: u8 = 0;
/// Exit code: diagnostics at or above the fail level.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage, configuration or internal error.
pub const EXIT_ERROR: u8 = 2;

/// Azure Policy on Bicep and ARM templates, before they are deployed.
#[derive(Debug, Parser)]
#[command(name = "azaudit", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit Bicep and ARM files (folders are searched, honouring .gitignore)
    Check(CheckArgs),
    /// Print the resource graph the files deploy
    Graph(GraphArgs),
    /// Run the language server on stdin and stdout
    Lsp,
    /// List the policies (id, level, category, title)
    Policies {
        /// Also load the definitions in this folder (repeatable)
        #[arg(long = "policy-dir", value_name = "DIR")]
        policy_dirs: Vec<PathBuf>,
    },
    /// Show the documentation of a policy or of a code azaudit reports (`unused-suppression` …)
    Explain {
        /// The policy id or code
        id: String,
        /// Also load the definitions in this folder (repeatable)
        #[arg(long = "policy-dir", value_name = "DIR")]
        policy_dirs: Vec<PathBuf>,
    },
}

/// What to audit and with which settings (shared by `check` and `graph`).
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Files and folders to audit (default: `.`), each through the deployments that reach it
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also audit this file as a deployment of its own, even when other files deploy it
    /// (repeatable)
    #[arg(long = "entry", value_name = "FILE")]
    pub entries: Vec<PathBuf>,
    /// Audit each given file on its own, not through the deployments that reach it
    #[arg(long)]
    pub no_callers: bool,
    /// A folder of extra policy definitions (repeatable)
    #[arg(long = "policy-dir", value_name = "DIR")]
    pub policy_dirs: Vec<PathBuf>,
    /// Use this configuration file instead of the nearest bicepconfig.json
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also read modules and parameter files outside the project (the git work tree, else the
    /// folder given)
    #[arg(long)]
    pub allow_outside_project: bool,
    /// Largest file read, in bytes; larger files are a read-error
    #[arg(long, value_name = "BYTES", default_value_t = discover::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Policy assignments (and their exemptions, definitions, initiatives): a file or folder (repeatable)
    #[arg(long = "assignments", value_name = "PATH")]
    pub assignments: Vec<PathBuf>,
    /// An Azure Landing Zones library folder; its assignments on --management-group's chain apply
    #[arg(long = "alz-library", value_name = "DIR")]
    pub alz_library: Option<PathBuf>,
    /// A folder of Azure built-in policy definitions to use instead of the bundled snapshot
    #[arg(long = "builtins", value_name = "DIR")]
    pub builtins: Option<PathBuf>,
    #[command(flatten)]
    pub deployment: DeploymentArgs,
}

impl Default for InputArgs {
    /// What `azaudit check` with no options reads: the current folder, default limits.
    fn default() -> InputArgs {
        InputArgs {
            paths: Vec::new(),
            entries: Vec::new(),
            no_callers: false,
            policy_dirs: Vec::new(),
            config: None,
            allow_outside_project: false,
            max_file_size: discover::DEFAULT_MAX_FILE_SIZE,
            assignments: Vec::new(),
            alz_library: None,
            builtins: None,
            deployment: DeploymentArgs::default(),
        }
    }
}

/// Where the audited templates are deployed (overrides `analyzers.azaudit.deployment`).
#[derive(Debug, Clone, Default, Args)]
pub struct DeploymentArgs {
    /// The subscription the templates are deployed to (`subscription()` then evaluates)
    #[arg(long, value_name = "ID")]
    pub subscription_id: Option<String>,
    /// The resource group the templates are deployed to (`resourceGroup()` then evaluates)
    #[arg(long, value_name = "NAME")]
    pub resource_group: Option<String>,
    /// The deployment's location (`resourceGroup().location`, `deployment().location`)
    #[arg(long, value_name = "REGION")]
    pub location: Option<String>,
    /// The deployment's management group: an id, or a chain `alz/landingzones/corp`
    #[arg(long = "management-group", value_name = "ID")]
    pub management_group: Option<String>,
}

/// `azaudit check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailLevel::Error)]
    pub fail_level: FailLevel,
    /// Also show policies that could not be decided, and why
    #[arg(long)]
    pub show_not_evaluated: bool,
    /// Never colour the output (also: the NO_COLOR environment variable)
    #[arg(long)]
    pub no_color: bool,
    /// Apply the unambiguous quick fixes to the files, then report what is left
    #[arg(long)]
    pub fix: bool,
}

/// `azaudit graph`.
#[derive(Debug, Clone, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormat::Json)]
    pub format: GraphFormat,
    /// Print only the values this JSONPath (RFC 9535) selects from the JSON graph, as a JSON
    /// array, e.g. `$.resources[?@.type=='Microsoft.ApiManagement/service'].properties`
    #[arg(long, value_name = "JSONPATH", conflicts_with = "format")]
    pub query: Option<String>,
}

/// `--fail-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailLevel {
    Error,
    Warning,
    Info,
}

impl FailLevel {
    /// The lowest severity that fails.
    pub fn severity(self) -> Severity {
        match self {
            FailLevel::Error => Severity::Error,
            FailLevel::Warning => Severity::Warning,
            FailLevel::Info => Severity::Info,
        }
    }
}

/// What the process knows about where its output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Terminal {
    /// stdout is a terminal.
    pub stdout_is_terminal: bool,
    /// `NO_COLOR` is set to something non-empty.
    pub no_color_env: bool,
}

impl Terminal {
    /// Looks at the real stdout and environment.
    pub fn detect() -> Terminal {
        use std::io::IsTerminal;
        Terminal {
            stdout_is_terminal: std::io::stdout().is_terminal(),
            no_color_env: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// A failure that ends the command with exit code 2 (its message, unless empty, goes to stderr).
#[derive(Debug)]
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

/// Runs the command line `args` (program name first), writing results to `out` and messages to
/// `err`.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write, terminal: Terminal) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            let stream: &mut dyn Write = if e.use_stderr() { err } else { out };
            let _ = write!(stream, "{text}");
            let code = u8::try_from(e.exit_code()).unwrap_or(EXIT_ERROR);
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check(&args, out, err, terminal),
        Command::Graph(args) => graph(&args, out, err),
        // The protocol says: exit code 0 after `shutdown`, 1 otherwise.
        Command::Lsp => match crate::lsp::run_stdio() {
            Ok(()) => Ok(EXIT_OK),
            Err(e) => {
                let _ = writeln!(err, "azaudit lsp: {e:#}");
                Ok(EXIT_FINDINGS)
            }
        },
        Command::Policies { policy_dirs } => list_policies(&policy_dirs, out, err),
        Command::Explain { id, policy_dirs } => explain(&id, &policy_dirs, out, err),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // An empty message: the reason is already on `err`.
        Err(Failure(message)) => {
            if !message.is_empty() {
                let _ = writeln!(err, "azaudit: error: {message}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn check(
    args: &CheckArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    terminal: Terminal,
) -> Result<u8, Failure> {
    crate::timing::begin();
    crate::policy::PolicySet::prepare_builtin();
    let cwd = std::env::current_dir()?;
    // The fixes need the graph; a bulk audit otherwise streams by deployment group.
    let keep = if args.fix {
        Keep::Graph
    } else {
        Keep::Findings
    };
    let (mut report, mut analysis_options) = audit(&args.input, keep, err)?;
    crate::timing::lap("analysis returned");
    let mut fix_failed = false;
    if args.fix {
        for why in crate::fix::not_fixed(&report, &cwd) {
            let _ = writeln!(err, "azaudit: note: {why}");
        }
        let roots: Vec<PathBuf> = args
            .input
            .paths
            .iter()
            .map(|p| discover::project_root(p))
            .collect();
        let (written, failed) = write_fixes(&report, &roots, err);
        fix_failed = failed;
        if written > 0 {
            (report, analysis_options) = audit(&args.input, keep, err)?;
        }
    }
    let color = args.format == Format::Text
        && !args.no_color
        && !terminal.no_color_env
        && terminal.stdout_is_terminal;
    let (set, _) = crate::engine::policies(&analysis_options);
    let rules = crate::output::rule_infos(&set);
    let options = RenderOptions {
        cwd,
        color,
        show_not_evaluated: args.show_not_evaluated,
        rules: &rules,
    };
    let code = exit_code(&report, args.fail_level);
    crate::timing::lap("rules listed");
    // Buffered: a bulk audit's JSON is written in many small pieces.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
    quiet_on_broken_pipe(
        output::render(args.format, &report, &options, &mut buffered)
            .and_then(|()| buffered.flush()),
    )?;
    drop(buffered);
    crate::timing::lap("report written");
    crate::engine::drop_later(report);
    // A path given that does not exist, or a file --fix could not write, is a failure of the
    // command, reported after everything else was audited.
    let mut missing = false;
    for p in &args.input.paths {
        if std::fs::symlink_metadata(p).is_err() {
            missing = true;
            let _ = writeln!(
                err,
                "azaudit: error: `{}` does not exist (the other paths were audited)",
                output::escape_controls(&p.display().to_string())
            );
        }
    }
    Ok(if fix_failed || missing {
        EXIT_ERROR
    } else {
        code
    })
}

/// `check --fix`: writes the files the report's fixes change (unless they changed on disk since
/// they were read, or lie outside `roots`), each atomically, and says so on `err`; the number of
/// files written, and whether one could not be written (the others are still written).
fn write_fixes(report: &Report, roots: &[PathBuf], err: &mut dyn Write) -> (usize, bool) {
    let mut written = 0;
    let mut failed = false;
    let (files, skipped) = crate::fix::plan(report);
    let cwd = std::env::current_dir().unwrap_or_default();
    for s in &skipped {
        let at = output::locate(report, s.diagnostic.span, &cwd);
        let _ = writeln!(
            err,
            "azaudit: not fixed: {}:{}:{} {}: {}",
            at.file, at.range.start.line, at.range.start.column, s.diagnostic.code, s.reason
        );
    }
    for f in files {
        let on_disk = std::fs::read_to_string(&f.path).ok();
        if on_disk.as_deref() != Some(&*f.before) {
            let _ = writeln!(
                err,
                "azaudit: warning: `{}` changed while it was checked; not fixed",
                output::escape_controls(&f.path.display().to_string())
            );
            continue;
        }
        let w = match crate::fix::write::write_atomically(&f.path, f.after.as_bytes(), roots) {
            Ok(w) => w,
            Err(e) => {
                let _ = writeln!(
                    err,
                    "azaudit: error: `{}` not fixed: {}",
                    output::escape_controls(&f.path.display().to_string()),
                    output::escape_controls(&e.0)
                );
                failed = true;
                continue;
            }
        };
        let _ = writeln!(
            err,
            "azaudit: fixed {} diagnostic{} in `{}`{}",
            f.fixed,
            if f.fixed == 1 { "" } else { "s" },
            output::escape_controls(&f.path.display().to_string()),
            if w.through_link {
                format!(
                    " (a symbolic link: its target `{}` was edited)",
                    output::escape_controls(&w.target.display().to_string())
                )
            } else {
                String::new()
            }
        );
        written += 1;
    }
    (written, failed)
}

/// The built-in policies and those of `dirs`; load errors go to `err`.
fn policy_set(dirs: &[PathBuf], err: &mut dyn Write) -> std::sync::Arc<crate::policy::PolicySet> {
    let options = crate::engine::Options {
        policy_dirs: dirs.to_vec(),
        ..Default::default()
    };
    let (set, errors) = crate::engine::policies(&options);
    for e in errors {
        let _ = writeln!(err, "azaudit: error: {e}");
    }
    set
}

fn list_policies(
    dirs: &[PathBuf],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    let set = policy_set(dirs, err);
    let mut rows: Vec<(String, String, String, String)> = set
        .policies()
        .iter()
        .map(|p| {
            let level = format!("{:?}", p.level).to_ascii_lowercase();
            (p.category.clone(), p.id.clone(), level, p.title.clone())
        })
        .collect();
    rows.sort();
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(2).max(2);
    writeln!(
        out,
        "{:<width$}  {:<7}  {:<16}  title",
        "id", "level", "category"
    )?;
    for (category, id, level, title) in rows {
        writeln!(out, "{id:<width$}  {level:<7}  {category:<16}  {title}")?;
    }
    Ok(EXIT_OK)
}

fn explain(
    id: &str,
    dirs: &[PathBuf],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    if let Some(code) = crate::diagnostic::codes::find(id) {
        writeln!(out, "{}", code.docs.trim_end())?;
        writeln!(
            out,
            "\nDocumentation: {}",
            crate::diagnostic::codes::doc_url(code.id)
        )?;
        return Ok(EXIT_OK);
    }
    let set = policy_set(dirs, err);
    let Some(p) = set
        .policies()
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(id))
    else {
        let known = set
            .policies()
            .iter()
            .map(|p| p.id.as_str())
            .chain(crate::diagnostic::codes::BUILTIN.iter().map(|c| c.id));
        let hint = crate::diagnostic::codes::nearest(id, known)
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        return Err(Failure(format!(
            "no policy `{id}`; {hint}`azaudit policies` lists them"
        )));
    };
    let level = format!("{:?}", p.level).to_ascii_lowercase();
    if p.docs.trim_start().starts_with('#') {
        writeln!(out, "{}", p.docs.trim_end())?;
    } else {
        writeln!(
            out,
            "# {}: {}\n\nLevel: {level}\n\n{}",
            p.id,
            p.title,
            p.docs.trim_end()
        )?;
    }
    writeln!(out, "\nDefinition: {}", p.path.display())?;
    writeln!(
        out,
        "Documentation: {}",
        crate::output::policy_doc_url(&p.id)
    )?;
    Ok(EXIT_OK)
}

fn graph(args: &GraphArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let cwd = std::env::current_dir()?;
    let (report, _) = audit(&args.input, Keep::Graph, err)?;
    if let Some(q) = &args.query {
        let found = output::graph::query(&output::graph::document(&report, &cwd), q)?;
        let text = serde_json::to_string_pretty(&found)?;
        quiet_on_broken_pipe(writeln!(out, "{text}").and_then(|()| out.flush()))?;
        return Ok(EXIT_OK);
    }
    quiet_on_broken_pipe(
        output::graph::render(args.format, &report, &cwd, out).and_then(|()| out.flush()),
    )?;
    Ok(EXIT_OK)
}

/// A reader that went away (`azaudit check | head`) is not an error.
fn quiet_on_broken_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// 1 when a diagnostic is at or above `fail_level`, else 0.
pub fn exit_code(report: &Report, fail_level: FailLevel) -> u8 {
    let threshold = fail_level.severity();
    if report
        .diagnostics
        .iter()
        .any(|d| d.severity >= threshold && d.suppression.is_none())
    {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// The files to audit and the options to audit them with.
#[derive(Debug, Default)]
pub struct Plan {
    /// The files to audit, read, sorted by path (empty when `planned` holds them).
    pub inputs: Vec<Input>,
    /// The files to audit of a streamed bulk audit ([`plan_streamed`]), sorted by path: their
    /// paths and references, not their texts.
    pub planned: Option<Vec<engine::stream::Planned>>,
    /// Files that could not be read (reported as `read-error`).
    pub unreadable: Vec<discover::Unreadable>,
    /// Levels, parameters and policy folders from the configurations and the command line.
    pub options: Options,
    /// Explicitly named JSON files skipped as not ARM.
    pub skipped: Vec<PathBuf>,
    /// Explicitly named files the configuration excludes or disables (pre-commit names them).
    pub excluded_named: Vec<PathBuf>,
    /// Problems met while walking folders, for stderr.
    pub warnings: Vec<String>,
}

/// Finds the files under `args.paths`, their configurations, and reads them.
///
/// With `--config`, that file governs every input. Otherwise each file is governed by the nearest
/// `bicepconfig.json` above it: its `exclude` globs and `enabled` apply to the files it governs;
/// the levels, parameters and policy folders of all configurations found are merged into one
/// [`Options`] (the deeper configuration wins on conflicts).
pub fn plan(args: &InputArgs) -> anyhow::Result<Plan> {
    plan_with(args, false)
}

/// [`plan`] for a bulk audit that streams by deployment group (`engine::stream`): the files'
/// texts are not kept (each is read again when its group is analysed), unless assignments need
/// the one analysis.
pub fn plan_streamed(args: &InputArgs) -> anyhow::Result<Plan> {
    plan_with(args, true)
}

fn plan_with(args: &InputArgs, stream: bool) -> anyhow::Result<Plan> {
    discover::set_max_file_size(args.max_file_size);
    let mut paths = args.paths.clone();
    if paths.is_empty() && args.entries.is_empty() {
        paths.push(PathBuf::from("."));
    }
    paths.extend(args.entries.iter().cloned());
    let mut walked = discover::candidates_with(&paths, args.allow_outside_project)?;
    let candidates = std::mem::take(&mut walked.candidates);
    let mut cache = config::Cache::new();
    let fixed: Option<Arc<Config>> = match &args.config {
        Some(path) => Some(cache.load(&discover::absolute(path))?),
        None => None,
    };
    let mut used: Vec<Arc<Config>> = fixed.iter().cloned().collect();
    let mut kept = Vec::with_capacity(candidates.len());
    let mut excluded_named = Vec::new();
    for candidate in candidates {
        let governing = match &fixed {
            Some(config) => Some(config.clone()),
            None => cache.for_file(&candidate.path)?,
        };
        if let Some(config) = governing {
            // Excludes apply to named files too: pre-commit names every changed file.
            if !config.audits(&candidate.path) {
                if candidate.explicit {
                    excluded_named.push(candidate.path.clone());
                }
                continue;
            }
            if !used.iter().any(|c| c.path == config.path) {
                used.push(config);
            }
        }
        kept.push(candidate);
    }
    let mut options = Options {
        registry: crate::files::registry::Registry::from_environment(),
        ..Options::default()
    };
    // `--config` names the registry settings of every file too; otherwise each module's nearest
    // `bicepconfig.json` does, as in Bicep.
    options.registry.fixed = fixed.as_ref().map(|c| c.bicep.clone());
    options.paths = crate::files::paths::PathRules {
        roots: args
            .paths
            .iter()
            .map(|p| discover::project_root(p))
            .collect(),
        allow_outside: args.allow_outside_project,
    };
    engine::configure(&mut options, &used)?;
    // Shallow configurations first, as `configure` applies them.
    used.sort_by_key(|c| (c.path.components().count(), c.path.clone()));
    for dir in &args.policy_dirs {
        if !dir.is_dir() {
            anyhow::bail!("policy folder `{}` does not exist", dir.display());
        }
        let dir = discover::absolute(dir);
        if !options.policy_dirs.contains(&dir) {
            options.policy_dirs.push(dir);
        }
    }
    // The command line's deployment context wins over the configuration's.
    policy_as_code(args, &mut options)?;
    let mut warnings = walked.warnings;
    if used.iter().any(|c| !c.rules.is_empty()) {
        let (set, _) = crate::engine::policies(&options);
        let known = crate::report::feedback::known_ids(&set);
        for config in &used {
            warnings.extend(crate::report::feedback::unknown_rules(config, &known));
        }
    }
    crate::timing::lap("files found");
    let stream = stream && options.assignments.is_empty();
    let (mut discovery, mut planned) = if stream {
        let (planned, unreadable, skipped) =
            discover::read_each(&kept, engine::stream::Planned::unkept);
        let discovery = discover::Discovery {
            unreadable,
            skipped,
            ..discover::Discovery::default()
        };
        (discovery, Some(planned))
    } else {
        (discover::read_all(&kept), None)
    };
    crate::timing::lap("files read");
    let mut unreadable = walked.unreadable;
    unreadable.extend(std::mem::take(&mut discovery.unreadable));
    if !args.no_callers {
        // Deployments, not files: each file is audited through the deployments that reach it.
        let entries: Vec<PathBuf> = args.entries.iter().map(|e| discover::absolute(e)).collect();
        let selection = match &planned {
            Some(planned) => {
                let files: Vec<&Path> = planned.iter().map(|f| f.path.as_path()).collect();
                let scanned: Vec<crate::graph::project::IndexedFile> =
                    planned.iter().filter_map(|f| f.index.clone()).collect();
                crate::graph::project::select(&paths, &files, &scanned, &entries)
            }
            None => {
                let files: Vec<&Path> = discovery.inputs.iter().map(|i| i.path.as_path()).collect();
                let scanned: Vec<crate::graph::project::IndexedFile> = discovery
                    .inputs
                    .iter()
                    .filter_map(|i| crate::graph::project::scan(&i.path, &i.text))
                    .collect();
                crate::graph::project::select(&paths, &files, &scanned, &entries)
            }
        };
        let read: rustc_hash::FxHashSet<&Path> = match &planned {
            Some(planned) => planned.iter().map(|f| f.path.as_path()).collect(),
            None => discovery.inputs.iter().map(|i| i.path.as_path()).collect(),
        };
        let more: Vec<discover::Candidate> = selection
            .entries
            .iter()
            .filter(|p| !read.contains(p.as_path()))
            .map(|p| discover::Candidate {
                path: p.clone(),
                explicit: true,
            })
            .collect();
        if !more.is_empty() {
            let extra = discover::read_all(&more);
            match &mut planned {
                Some(planned) => {
                    planned.extend(
                        extra
                            .inputs
                            .into_iter()
                            .map(|i| engine::stream::Planned::of(i, false)),
                    );
                    planned.sort_by(|a, b| a.path.cmp(&b.path));
                }
                None => {
                    discovery.inputs.extend(extra.inputs);
                    discovery.inputs.sort_by(|a, b| a.path.cmp(&b.path));
                }
            }
            unreadable.extend(extra.unreadable);
        }
        options.entries = Some(selection.entries.into_iter().collect());
        crate::timing::lap("deployments found");
    }
    Ok(Plan {
        inputs: discovery.inputs,
        planned,
        unreadable,
        options,
        skipped: discovery.skipped,
        excluded_named,
        warnings,
    })
}

/// The command line's assignments, library, built-ins and deployment context, over the
/// configurations'.
fn policy_as_code(args: &InputArgs, options: &mut Options) -> anyhow::Result<()> {
    for path in &args.assignments {
        if !path.exists() {
            anyhow::bail!("assignments path `{}` does not exist", path.display());
        }
        let path = discover::absolute(path);
        if !options.assignments.assignments.contains(&path) {
            options.assignments.assignments.push(path);
        }
    }
    for (flag, dir) in [
        ("--alz-library", &args.alz_library),
        ("--builtins", &args.builtins),
    ] {
        if let Some(d) = dir {
            if !d.is_dir() {
                anyhow::bail!("{flag}: folder `{}` does not exist", d.display());
            }
        }
    }
    if args.alz_library.is_some() {
        options.assignments.alz_library = args.alz_library.as_deref().map(discover::absolute);
    }
    if args.builtins.is_some() {
        options.assignments.builtins = args.builtins.as_deref().map(discover::absolute);
    }
    let context = config::DeploymentContext {
        subscription_id: args.deployment.subscription_id.clone(),
        resource_group: args.deployment.resource_group.clone(),
        location: args.deployment.location.clone(),
        management_group: args.deployment.management_group.clone(),
    };
    engine::apply_deployment(&context, options);
    Ok(())
}

/// What a command needs of the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// The resource graph (`graph`, `check --fix`).
    Graph,
    /// The findings only: the analysis streams by deployment group (`engine::stream`).
    Findings,
}

/// Plans, runs the analysis and adds a `read-error` diagnostic per unreadable file.
fn audit(
    args: &InputArgs,
    keep: Keep,
    err: &mut dyn Write,
) -> Result<(Report, crate::engine::Options), Failure> {
    let plan = if keep == Keep::Findings {
        plan_streamed(args)
    } else {
        plan(args)
    }
    .map_err(|e| Failure(format!("{e:#}")))?;
    for warning in &plan.warnings {
        let _ = writeln!(err, "azaudit: warning: {warning}");
    }
    for path in &plan.skipped {
        let _ = writeln!(
            err,
            "azaudit: note: skipped `{}`: not an ARM template or parameter file",
            path.display()
        );
    }
    // Files named on the command line were looked at (a pre-commit run on files that are not
    // templates, or excluded, passes); folders that yield nothing are a mistake.
    if plan.inputs.is_empty()
        && plan.planned.as_ref().is_none_or(Vec::is_empty)
        && plan.unreadable.is_empty()
        && plan.skipped.is_empty()
        && plan.excluded_named.is_empty()
    {
        let default = [PathBuf::from(".")];
        let given = if args.paths.is_empty() {
            &default[..]
        } else {
            &args.paths[..]
        };
        let _ = writeln!(err, "azaudit: warning: {}", nothing_to_audit(given));
        return Err(Failure(String::new()));
    }
    // Assigned policies are compiled for the audited types; one set for the whole run is built
    // by the single analysis.
    let mut report = if let Some(files) = &plan.planned {
        engine::stream::check_planned(files, &Disk, &plan.options)
    } else {
        engine::check(&plan.inputs, &Disk, &plan.options)
    };
    if !plan.options.assignments.is_empty() {
        for note in &crate::engine::policies(&plan.options).0.notes {
            let _ = writeln!(err, "azaudit: note: {note}");
        }
    }
    add_read_errors(&mut report, &plan.unreadable, &std::env::current_dir()?);
    Ok((report, plan.options))
}

/// The message when no given path yielded a file to audit (an empty folder, everything ignored or
/// excluded): that is a mistake in the command, not a clean audit.
fn nothing_to_audit(paths: &[PathBuf]) -> String {
    let named: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
    format!(
        "nothing to audit: no Bicep or ARM template found in {} (folders are searched honouring .gitignore and the `exclude` of bicepconfig.json)",
        named.join(", ")
    )
}

/// Adds each unreadable file to the report's sources (empty, counted in `files`) with a
/// `read-error` diagnostic.
pub fn add_read_errors(report: &mut Report, unreadable: &[discover::Unreadable], cwd: &Path) {
    if unreadable.is_empty() {
        return;
    }
    report.files += unreadable.len();
    for u in unreadable {
        let file = report.sources.add(u.path.clone(), "");
        report.diagnostics.push(Diagnostic::new(
            Code::ReadError,
            Severity::Error,
            Span::new(file, 0, 0),
            format!(
                "cannot read `{}`: {}",
                output::display_path(&u.path, cwd),
                u.message
            ),
        ));
    }
    let sources = &report.sources;
    let path_of = |d: &Diagnostic| sources.get(d.span.file).map(|f| f.path.clone());
    report.diagnostics.sort_by(|a, b| {
        (path_of(a), a.span.start, &a.code).cmp(&(path_of(b), b.span.start, &b.code))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_follows_the_fail_level() {
        let mut report = Report::default();
        assert_eq!(exit_code(&report, FailLevel::Info), EXIT_OK);
        report.diagnostics.push(Diagnostic::new(
            "a",
            Severity::Warning,
            Span::default(),
            "m",
        ));
        assert_eq!(exit_code(&report, FailLevel::Error), EXIT_OK);
        assert_eq!(exit_code(&report, FailLevel::Warning), EXIT_FINDINGS);
        assert_eq!(exit_code(&report, FailLevel::Info), EXIT_FINDINGS);
        report
            .diagnostics
            .push(Diagnostic::new("b", Severity::Error, Span::default(), "m"));
        assert_eq!(exit_code(&report, FailLevel::Error), EXIT_FINDINGS);
    }

    #[test]
    fn run_writes_usage_errors_to_err() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(
            ["azaudit", "check", "--nope"],
            &mut out,
            &mut err,
            Terminal::default(),
        );
        assert_eq!(code, ExitCode::from(EXIT_ERROR));
        assert!(out.is_empty());
        assert!(String::from_utf8_lossy(&err).contains("--nope"));
    }
}
