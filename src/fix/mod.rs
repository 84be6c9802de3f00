//! Quick fixes: edits that resolve a diagnostic, computed from the resource graph when the change
//! is unambiguous. Which diagnostics have one, and what value they write, the policies declare
//! (`metadata.azaudit.fix`, read by `policy::fix`); this module turns that into text edits.
//!
//! A fix only edits text the diagnostic's resource declares literally: every span it needs must be
//! known, lie inside the declaration, and read as expected (a string literal, a property name).
//! Values that come from parameters, variables, loops or modules that are instantiated more than
//! once get no fix.

pub mod write;

use crate::diagnostic::{Diagnostic, Edit, Fix};
use crate::graph::{EdgeKind, Resource, ResourceGraph, ResourceIdx};
use crate::model::Language;
use crate::policy::fix::{FixEdit, FixSpec};
use crate::report::Report;
use crate::source::{SourceFile, Span};
use crate::value::Value;

const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";

/// Attaches fixes to the diagnostics of `report` that have an unambiguous one.
pub fn attach(report: &mut Report) {
    let found: Vec<Vec<Fix>> = report
        .diagnostics
        .iter()
        .map(|d| fixes_for(report, d))
        .collect();
    for (d, fixes) in report.diagnostics.iter_mut().zip(found) {
        d.fixes = fixes;
    }
}

/// The fixes for one diagnostic (none when the fix would be a guess).
pub fn fixes_for(report: &Report, d: &Diagnostic) -> Vec<Fix> {
    let fix = match report.fixes.get(&d.code).map(|s| s.edit) {
        Some(FixEdit::Delegations) => same_fix(report, d, |t| t.delegation_fix()),
        Some(FixEdit::SingleAddressPrefix) => same_fix(report, d, |t| t.address_prefix_fix()),
        None => None,
    };
    fix.into_iter().collect()
}

/// The fix `make` finds for every instance of the subnet the diagnostic is about (a module used
/// by several deployments, a loop), when they all need the same one.
fn same_fix(
    report: &Report,
    d: &Diagnostic,
    make: impl for<'t> Fn(&Target<'t>) -> Option<Fix>,
) -> Option<Fix> {
    let targets = Target::all(report, d)?;
    let mut fixes = targets.iter().map(make);
    let first = fixes.next()??;
    fixes.all(|f| f.as_ref() == Some(&first)).then_some(first)
}

/// Why a module shared by several deployments gets no fix: "`modules/network.bicep` is not
/// fixed: the deployments standard.bicep and premium.bicep need different delegations of subnet
/// 'snet-a' (Microsoft.Web/serverFarms, Microsoft.Web/hostingEnvironments)". One line per
/// subnet declaration, for `check --fix` to print.
pub fn not_fixed(report: &Report, cwd: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for d in report
        .diagnostics
        .iter()
        .filter(|d| edit_of(report, d) == Some(FixEdit::Delegations) && d.fixes.is_empty())
    {
        let Some(targets) = Target::all(report, d) else {
            continue;
        };
        // (deployment file, what it needs), one per deployment.
        let mut needs: Vec<(String, String)> = Vec::new();
        for t in &targets {
            let Some(need) = t.needed() else {
                continue;
            };
            let what = match need {
                Delegation::Nothing => "no delegation".to_string(),
                Delegation::To(service) => service,
            };
            for a in &t.users {
                let start = a.module_chain.first().map_or(a.file, |s| s.file);
                let Some(file) = report.sources.get(start) else {
                    continue;
                };
                let name = crate::report::display_path(&file.path, cwd);
                let entry = (name, what.clone());
                if !needs.contains(&entry) {
                    needs.push(entry);
                }
            }
        }
        let mut wanted: Vec<&str> = needs.iter().map(|(_, w)| w.as_str()).collect();
        wanted.sort();
        wanted.dedup();
        if wanted.len() < 2 {
            continue;
        }
        let Some(first) = targets.first() else {
            continue;
        };
        let who: Vec<String> = needs.iter().map(|(n, w)| format!("{n} ({w})")).collect();
        let line = format!(
            "`{}` is not fixed: subnet '{}' is deployed by {} , which need different delegations",
            crate::report::display_path(&first.file.path, cwd),
            first.subnet_name(),
            who.join(" and ")
        )
        .replace(" ,", ",");
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// The edit the policy of `d` declares for its fix.
fn edit_of(report: &Report, d: &Diagnostic) -> Option<FixEdit> {
    report.fixes.get(&d.code).map(|s| s.edit)
}

/// The subnet delegation a resource that uses the subnet needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Delegation {
    /// No delegation.
    Nothing,
    /// Exactly this service.
    To(String),
}

/// The delegation `user` needs, as the policy's fix declares it (`value`: the service names);
/// `None` when that can't be said (its tier or mode not known, or one that uses no subnet).
fn needed_delegation(spec: &FixSpec, user: &Resource) -> Option<Delegation> {
    let value = spec.value_for(&user.body)?;
    match value.as_array()? {
        [] => Some(Delegation::Nothing),
        [service] => Some(Delegation::To(service.as_str()?.to_string())),
        _ => None,
    }
}

/// The text syntax of the file a fix edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Bicep,
    Json,
}

/// The subnet a diagnostic is about, the resources of the diagnostic's type using it (the
/// evaluated resources of the policy), and its file.
struct Target<'a> {
    subnet: &'a Resource,
    users: Vec<&'a Resource>,
    file: &'a SourceFile,
    syntax: Syntax,
    spec: &'a FixSpec,
}

impl<'a> Target<'a> {
    /// Every instance of the subnet whose declaration holds the diagnostic (one per deployment
    /// that reaches a module, one per loop element), with the resources of the diagnostic's type
    /// using each. `None` unless the diagnostic's resource uses one of them.
    fn all(report: &'a Report, d: &Diagnostic) -> Option<Vec<Target<'a>>> {
        let named = d.resource.as_ref()?;
        let spec = report.fixes.get(&d.code)?;
        let graph = &report.graph;
        let declaration = graph
            .resources
            .iter()
            .find(|r| r.type_name.eq_ignore_ascii_case(SUBNET) && inside(d.span, r.span))?
            .span;
        let file = report.sources.get(declaration.file)?;
        let syntax = match crate::files::language_of(&file.path, &file.text)? {
            Language::Bicep => Syntax::Bicep,
            Language::ArmTemplate => Syntax::Json,
            Language::BicepParams | Language::ArmParameters => return None,
        };
        let targets: Vec<Target<'a>> = graph
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.span == declaration && r.type_name.eq_ignore_ascii_case(SUBNET))
            .map(|(idx, subnet)| Target {
                subnet,
                users: users(graph, idx, &named.type_name),
                file,
                syntax,
                spec,
            })
            .collect();
        let reported = targets.iter().flat_map(|t| &t.users).any(|a| {
            a.name == named.name && a.symbol == named.symbol && a.type_name == named.type_name
        });
        reported.then_some(targets)
    }

    /// The delegation every resource using the subnet needs, if they agree.
    fn needed(&self) -> Option<Delegation> {
        let mut needs = self.users.iter().map(|a| needed_delegation(self.spec, a));
        let first = needs.next()??;
        needs.all(|n| n.as_ref() == Some(&first)).then_some(first)
    }

    /// Whether the fix applies for every resource using the subnet (`when`).
    fn applies(&self) -> bool {
        !self.users.is_empty()
            && self
                .users
                .iter()
                .all(|a| self.spec.applies_to(&a.body) == Some(true))
    }

    /// The subnet's `properties` object.
    fn properties(&self) -> Option<&'a Value> {
        let p = self.subnet.body.get("properties")?;
        p.as_object().map(|_| p)
    }

    /// The span of `v` when it is in the subnet's declaration.
    fn local(&self, v: &Value) -> Option<Span> {
        v.span.filter(|s| inside(*s, self.subnet.span))
    }

    fn text(&self) -> &str {
        &self.file.text
    }

    fn subnet_name(&self) -> &str {
        self.subnet
            .name
            .rsplit('/')
            .next()
            .unwrap_or(&self.subnet.name)
    }

    /// A string literal in the file's syntax.
    fn quote(&self, s: &str) -> String {
        match self.syntax {
            Syntax::Bicep => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Syntax::Json => serde_json::Value::String(s.to_string()).to_string(),
        }
    }

    /// A property name in the file's syntax.
    fn key(&self, name: &str) -> String {
        match self.syntax {
            Syntax::Bicep => name.to_string(),
            Syntax::Json => format!("\"{name}\""),
        }
    }

    fn eol(&self) -> &'static str {
        if self.text().contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// [`FixEdit::Delegations`]: replace a wrong service name, add the missing delegation, or
    /// remove the delegations when none is needed.
    fn delegation_fix(&self) -> Option<Fix> {
        let needed = self.needed()?;
        let properties = self.properties()?;
        let delegations = properties.get("delegations");
        match (needed, delegations) {
            (Delegation::To(service), Some(list)) => {
                let items = list.as_array()?;
                match items {
                    [] => self.replace_empty_delegations(properties, list, &service),
                    [only] => self.replace_service_name(only, &service),
                    _ => None,
                }
            }
            (Delegation::To(service), None) => self.add_delegations(properties, &service),
            (Delegation::Nothing, Some(list)) => {
                if list.as_array()?.is_empty() {
                    return None;
                }
                let edits = self.remove_property(list, "delegations")?;
                let title = match &self.spec.remove_title {
                    Some(t) => t.replace("{name}", self.subnet_name()),
                    None => format!("Remove the delegations of subnet '{}'", self.subnet_name()),
                };
                Some(Fix { title, edits })
            }
            (Delegation::Nothing, None) => None,
        }
    }

    fn delegate_title(&self, service: &str) -> String {
        format!("Delegate subnet '{}' to {service}", self.subnet_name())
    }

    /// The one delegation names another service: name the right one.
    fn replace_service_name(&self, delegation: &Value, service: &str) -> Option<Fix> {
        let name = delegation.pointer("properties.serviceName")?;
        let current = name.as_str()?;
        if current.eq_ignore_ascii_case(service) {
            return None;
        }
        let span = self.local(name)?;
        if self.file.slice(span) != self.quote(current) {
            return None;
        }
        Some(Fix {
            title: self.delegate_title(service),
            edits: vec![Edit {
                span,
                text: self.quote(service),
            }],
        })
    }

    /// `delegations: []`: fill it in.
    fn replace_empty_delegations(
        &self,
        properties: &Value,
        list: &Value,
        service: &str,
    ) -> Option<Fix> {
        let span = self.local(list)?;
        let literal = self.file.slice(span);
        if !(literal.starts_with('[')
            && literal.ends_with(']')
            && only_trivia(literal.get(1..literal.len().checked_sub(1)?)?))
        {
            return None;
        }
        let line = self.file.line_index(span.start);
        let indent = indentation(self.file.line_text(line));
        let unit = self.layout(properties)?.unit;
        Some(Fix {
            title: self.delegate_title(service),
            edits: vec![Edit {
                span,
                text: self.delegations_array(service, indent, unit),
            }],
        })
    }

    /// No `delegations`: add the property as the last one of `properties`.
    fn add_delegations(&self, properties: &Value, service: &str) -> Option<Fix> {
        let (_, last) = properties.as_object()?.last()?;
        let Layout {
            span,
            close_line_start,
            indent,
            unit,
        } = self.layout(properties)?;
        let text = self.text();
        let eol = self.eol();
        let mut edits = Vec::new();
        if self.syntax == Syntax::Json {
            // The last member needs a comma unless it has one.
            let trivia_after = |end: usize| {
                text.get(end..close_line_start as usize)
                    .is_some_and(only_trivia)
            };
            // Where its value ends; for a value from elsewhere or an expression inside a string
            // (`"[parameters('p')]"`), where the text before the closing brace's line ends, if no
            // comment is there.
            let scanned = || {
                let before = text.get(span.start as usize..close_line_start as usize)?;
                let before = before.trim_end();
                let last_line = before.rsplit('\n').next()?;
                if last_line.contains("//") || last_line.contains("*/") {
                    return None;
                }
                Some(span.start as usize + before.len())
            };
            let last_end = self
                .local(last)
                .map(|s| s.end as usize)
                .filter(|end| trivia_after(*end))
                .or_else(scanned)
                .filter(|end| trivia_after(*end))?;
            let rest = text.get(last_end..close_line_start as usize)?;
            if !rest.trim_start().starts_with(',') {
                edits.push(Edit {
                    span: Span::new(span.file, last_end, last_end),
                    text: ",".into(),
                });
            }
        }
        let insert = format!(
            "{indent}{}: {}{eol}",
            self.key("delegations"),
            self.delegations_array(service, indent, unit)
        );
        let at = close_line_start as usize;
        edits.push(Edit {
            span: Span::new(span.file, at, at),
            text: insert,
        });
        Some(Fix {
            title: self.delegate_title(service),
            edits,
        })
    }

    /// How the object literal `object` (in the subnet's declaration) is laid out: members on
    /// their own lines, the closing brace alone on its line.
    fn layout(&self, object: &Value) -> Option<Layout<'a>> {
        let span = self.local(object)?;
        let text: &'a str = &self.file.text;
        let literal = self.file.slice(span);
        if !literal.starts_with('{') || !literal.ends_with('}') {
            return None;
        }
        let close = span.end.checked_sub(1)?;
        let close_line = self.file.line_index(close);
        let close_line_start = self.file.line_start(close_line);
        let before_close = text.get(close_line_start as usize..close as usize)?;
        if !before_close.chars().all(|c| c == ' ' || c == '\t') {
            return None;
        }
        // The members' indentation: that of the first line after the opening brace.
        let open_line = self.file.line_index(span.start);
        let after_open = text.get(span.start as usize + 1..)?;
        let first_member =
            span.start as usize + 1 + (after_open.len() - after_open.trim_start().len());
        let member_line = self.file.line_index(u32::try_from(first_member).ok()?);
        if member_line == open_line || member_line >= close_line {
            return None;
        }
        let line_start = self.file.line_start(member_line) as usize;
        let line = text.get(line_start..)?;
        let indent = line.get(..line.len() - line.trim_start_matches([' ', '\t']).len())?;
        let unit = indent
            .strip_prefix(before_close)
            .filter(|u| !u.is_empty())?;
        Some(Layout {
            span,
            close_line_start,
            indent,
            unit,
        })
    }

    /// A `delegations` array with one delegation to `service`, starting at `[`, its closing
    /// bracket at `indent`.
    fn delegations_array(&self, service: &str, indent: &str, unit: &str) -> String {
        let eol = self.eol();
        let i1 = format!("{indent}{unit}");
        let i2 = format!("{i1}{unit}");
        let i3 = format!("{i2}{unit}");
        let name = self.quote(&service.replace('/', "."));
        let service = self.quote(service);
        match self.syntax {
            Syntax::Bicep => format!(
                "[{eol}{i1}{{{eol}{i2}name: {name}{eol}{i2}properties: {{{eol}{i3}serviceName: {service}{eol}{i2}}}{eol}{i1}}}{eol}{indent}]"
            ),
            Syntax::Json => format!(
                "[{eol}{i1}{{{eol}{i2}\"name\": {name},{eol}{i2}\"properties\": {{{eol}{i3}\"serviceName\": {service}{eol}{i2}}}{eol}{i1}}}{eol}{indent}]"
            ),
        }
    }

    /// The start of the property name written before `value` (`name: value`, `"name": value`).
    fn key_start(&self, value: Span, name: &str) -> Option<usize> {
        let text = self.text();
        let before = text
            .get(..value.start as usize)?
            .trim_end_matches([' ', '\t']);
        let before = before.strip_suffix(':')?.trim_end_matches([' ', '\t']);
        let key = match self.syntax {
            Syntax::Bicep if before.ends_with('\'') => format!("'{name}'"),
            Syntax::Bicep => name.to_string(),
            Syntax::Json => format!("\"{name}\""),
        };
        let start = before.len().checked_sub(key.len())?;
        let written = before.get(start..)?;
        if !written.eq_ignore_ascii_case(&key) {
            return None;
        }
        // A whole name, not the end of a longer one.
        let previous = before.get(..start)?.chars().next_back();
        if previous.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            return None;
        }
        (start >= self.subnet.span.start as usize).then_some(start)
    }

    /// Edits removing the property whose value is `value`, when it takes whole lines.
    fn remove_property(&self, value: &Value, name: &str) -> Option<Vec<Edit>> {
        let span = self.local(value)?;
        let text = self.text();
        let file = span.file;
        let key = self.key_start(span, name)?;
        let key_line = self.file.line_index(u32::try_from(key).ok()?);
        let line_start = self.file.line_start(key_line) as usize;
        if !text
            .get(line_start..key)?
            .chars()
            .all(|c| c == ' ' || c == '\t')
        {
            return None;
        }
        // After the value: an optional comma (JSON), a comment, the end of the line.
        let end_line = self.file.line_index(span.end);
        let next_line_start = self.file.line_start(end_line + 1) as usize;
        let rest = text.get(span.end as usize..next_line_start)?;
        let mut after = rest.trim_start_matches([' ', '\t']);
        let mut comma = false;
        if self.syntax == Syntax::Json {
            if let Some(r) = after.strip_prefix(',') {
                comma = true;
                after = r.trim_start_matches([' ', '\t']);
            }
        }
        let line_ends = after.is_empty()
            || after.starts_with('\n')
            || after.starts_with("\r\n")
            || after.starts_with("//");
        if !line_ends {
            return None;
        }
        let mut edits = Vec::new();
        if self.syntax == Syntax::Json && !comma {
            // The last member: the comma before it goes too, unless it is the only one.
            let before = text.get(..line_start)?.trim_end();
            if before.ends_with(',') {
                let at = before.len() - 1;
                if at < self.subnet.span.start as usize {
                    return None;
                }
                edits.push(Edit {
                    span: Span::new(file, at, at + 1),
                    text: String::new(),
                });
            } else if !before.ends_with('{') {
                return None;
            }
        }
        edits.push(Edit {
            span: Span::new(file, line_start, next_line_start),
            text: String::new(),
        });
        Some(edits)
    }

    /// `addressPrefixes` with one entry becomes `addressPrefix`.
    fn address_prefix_fix(&self) -> Option<Fix> {
        if !self.applies() {
            return None;
        }
        let properties = self.properties()?;
        if properties.get("addressPrefix").is_some() {
            return None;
        }
        let list = properties.get("addressPrefixes")?;
        let [entry] = list.as_array()? else {
            return None;
        };
        let list_span = self.local(list)?;
        let text = self.text();
        let alone = |entry: Span| {
            let open = text.get(list_span.start as usize..entry.start as usize)?;
            let close = text.get(entry.end as usize..list_span.end as usize)?;
            let open = open.strip_prefix('[')?;
            let close = close.strip_suffix(']')?;
            (only_trivia(open) && only_trivia(close)).then_some(entry)
        };
        // The entry's own text, else (an ARM expression in a string, whose value span is the
        // expression) the one string literal in the brackets.
        let entry_span = self
            .local(entry)
            .filter(|s| inside(*s, list_span))
            .and_then(alone)
            .or_else(|| self.string_literal_in(list_span).and_then(alone))?;
        let key = self.key_start(list_span, "addressPrefixes")?;
        let entry_text = self.file.slice(entry_span);
        Some(Fix {
            title: format!(
                "Replace addressPrefixes with addressPrefix {entry_text} on subnet '{}'",
                self.subnet_name()
            ),
            edits: vec![Edit {
                span: Span::new(list_span.file, key, list_span.end as usize),
                text: format!("{}: {entry_text}", self.key("addressPrefix")),
            }],
        })
    }
}

impl Target<'_> {
    /// The first string literal (without Bicep interpolation) after the opening bracket of
    /// `list`, skipping whitespace and comments.
    fn string_literal_in(&self, list: Span) -> Option<Span> {
        let text = self.file.slice(list);
        let mut at = 1usize;
        loop {
            let rest = text.get(at..)?;
            let trimmed = rest.trim_start();
            at += rest.len() - trimmed.len();
            if let Some(comment) = trimmed.strip_prefix("//") {
                at += 2 + comment.find('\n')?;
            } else if let Some(comment) = trimmed.strip_prefix("/*") {
                at += 2 + comment.find("*/")? + 2;
            } else {
                break;
            }
        }
        let quote = match self.syntax {
            Syntax::Bicep => '\'',
            Syntax::Json => '"',
        };
        let body = text.get(at..)?.strip_prefix(quote)?;
        let mut escaped = false;
        let end = body.char_indices().find_map(|(i, c)| {
            let closes = c == quote && !escaped;
            escaped = c == '\\' && !escaped;
            closes.then_some(i)
        })?;
        let literal = body.get(..end)?;
        if self.syntax == Syntax::Bicep && literal.contains("${") {
            return None;
        }
        let start = list.start as usize + at;
        Some(Span::new(list.file, start, start + end + 2))
    }
}

/// Where an object literal's members go.
struct Layout<'a> {
    span: Span,
    /// Where the line of the closing brace starts.
    close_line_start: u32,
    /// The members' indentation.
    indent: &'a str,
    /// One level of indentation.
    unit: &'a str,
}

/// The resources of type `type_name` whose subnet reference links to `subnet`.
fn users<'g>(graph: &'g ResourceGraph, subnet: ResourceIdx, type_name: &str) -> Vec<&'g Resource> {
    let mut out: Vec<(ResourceIdx, &Resource)> = graph
        .edges_to(subnet)
        .filter(|e| {
            e.kind == EdgeKind::Reference
                && e.path.to_ascii_lowercase().ends_with("subnetresourceid")
        })
        .filter_map(|e| Some((e.from, graph.resources.get(e.from)?)))
        .filter(|(_, r)| r.type_name.eq_ignore_ascii_case(type_name))
        .collect();
    out.sort_by_key(|(i, _)| *i);
    out.dedup_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Whether `inner` lies within `outer` (same file).
fn inside(inner: Span, outer: Span) -> bool {
    inner.file == outer.file && inner.start >= outer.start && inner.end <= outer.end
}

/// The leading spaces and tabs of a line.
fn indentation(line: &str) -> &str {
    let trimmed = line.trim_start_matches([' ', '\t']);
    line.get(..line.len() - trimmed.len()).unwrap_or("")
}

/// Whether `s` holds only whitespace, commas and comments.
fn only_trivia(s: &str) -> bool {
    let mut rest = s;
    // Each round removes at least one character.
    while !rest.is_empty() {
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if let Some(comment) = trimmed.strip_prefix("//") {
            rest = comment.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(comment) = trimmed.strip_prefix("/*") {
            match comment.split_once("*/") {
                Some((_, r)) => rest = r,
                None => return false,
            }
        } else {
            return trimmed.is_empty();
        }
    }
    true
}

/// A file rewritten by [`fixed_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedFile {
    pub path: std::path::PathBuf,
    /// The text the analysis read.
    pub before: std::sync::Arc<str>,
    /// The text with the fixes applied.
    pub after: String,
    /// How many diagnostics the fixes resolve.
    pub fixed: usize,
}

/// A diagnostic `check --fix` did not fix, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped<'r> {
    pub diagnostic: &'r Diagnostic,
    pub reason: &'static str,
}

/// The files of `report` with the fixes of its diagnostics applied: for each diagnostic its only
/// fix, skipped when it edits the same text as one taken before.
pub fn fixed_files(report: &Report) -> Vec<FixedFile> {
    plan(report).0
}

/// [`fixed_files`], and the diagnostics of a fixable code (one whose policy declares a fix) left
/// unfixed with the reason.
pub fn plan(report: &Report) -> (Vec<FixedFile>, Vec<Skipped<'_>>) {
    let mut by_file: std::collections::BTreeMap<crate::source::FileId, (Vec<&Edit>, usize)> =
        std::collections::BTreeMap::new();
    let mut skipped = Vec::new();
    let mut skip = |d, reason| {
        skipped.push(Skipped {
            diagnostic: d,
            reason,
        })
    };
    for d in &report.diagnostics {
        let fix = match d.fixes.as_slice() {
            [fix] => fix,
            [] => {
                if let Some(reason) = why_no_fix(report, d) {
                    skip(d, reason);
                }
                continue;
            }
            _ => {
                skip(d, "more than one fix applies: choose one in the editor");
                continue;
            }
        };
        let Some(first) = fix.edits.first() else {
            continue;
        };
        let file = first.span.file;
        if fix.edits.iter().any(|e| e.span.file != file) {
            skip(
                d,
                "the fix edits more than one file: apply it in the editor",
            );
            continue;
        }
        let (taken, count) = by_file.entry(file).or_default();
        // Edits that overlap, or insert at the same place, conflict.
        let overlaps = fix.edits.iter().any(|e| {
            taken.iter().any(|t| {
                (e.span.start < t.span.end && t.span.start < e.span.end)
                    || e.span.start == t.span.start
            })
        });
        if overlaps {
            skip(
                d,
                "its fix edits the same text as another fix: run `--fix` again",
            );
            continue;
        }
        taken.extend(fix.edits.iter());
        *count += 1;
    }
    let files = by_file
        .into_iter()
        .filter_map(|(id, (edits, fixed))| {
            let file = report.sources.get(id)?;
            let edits: Vec<Edit> = edits.into_iter().cloned().collect();
            let after = apply(&file.text, &edits)?;
            Some(FixedFile {
                path: file.path.clone(),
                before: file.text.clone(),
                after,
                fixed,
            })
        })
        .collect();
    (files, skipped)
}

/// Why a diagnostic of a fixable code has no fix; `None` for one that has a fix or whose code
/// has none.
pub fn why_no_fix(report: &Report, d: &Diagnostic) -> Option<&'static str> {
    let edit = edit_of(report, d)?;
    if !d.fixes.is_empty() {
        return None;
    }
    let graph = &report.graph;
    let subnets: Vec<&Resource> = graph
        .resources
        .iter()
        .filter(|r| r.type_name.eq_ignore_ascii_case(SUBNET) && inside(d.span, r.span))
        .collect();
    let targets = Target::all(report, d);
    let reason = match targets.as_deref() {
        _ if subnets.is_empty() => {
            "the finding is not inside a subnet declaration of these files (the value is set elsewhere)"
        }
        None | Some([]) => {
            "the subnet is not declared in a Bicep or ARM template that azaudit edits (a parameter file, a registry module, or another instance's finding)"
        }
        Some(ts) if edit == FixEdit::Delegations && ts.iter().any(|t| t.needed().is_none()) => {
            "the resources using the subnet need different delegations, or what they need is not known"
        }
        Some(ts) if ts.len() > 1 => {
            "the subnet's declaration makes more than one subnet (a loop, or a module deployed more than once) and they need different fixes"
        }
        Some(_) => {
            "the value is not written literally in the subnet's declaration (a parameter, a variable or an expression sets it)"
        }
    };
    Some(reason)
}

/// `text` with `edits` applied (their spans in `text`'s file, not overlapping).
pub fn apply(text: &str, edits: &[Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0usize;
    for e in sorted {
        let (start, end) = (e.span.start as usize, e.span.end as usize);
        if start < at || end < start {
            return None;
        }
        out.push_str(text.get(at..start)?);
        out.push_str(&e.text);
        at = end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

#[cfg(test)]
mod tests;
