//! Code actions (suppressions, and quick fixes when a diagnostic carries one) and hover text.

use super::documents::{Document, Lang};
use super::{convert, docs_url, Fix, Published};
use crate::diagnostic::codes::Code;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Hover, HoverContents,
    MarkupContent, MarkupKind, Position, Range, TextEdit, Uri, WorkspaceEdit,
};
use std::collections::HashMap;

/// Codes that make no sense to suppress.
const NOT_SUPPRESSIBLE: &[Code] = &[Code::SyntaxError];

/// Lines scanned upward for an enclosing `resource` declaration.
const MAX_SCAN_LINES: usize = 100_000;
/// `resource` declarations above a line checked for enclosing it.
const MAX_CANDIDATES: usize = 64;

/// The code actions for a range of a document, given its current diagnostics.
///
/// Quick fixes are offered only when `published` was computed for the document's current version
/// (their edits are byte-exact), for the diagnostics of the request's context (matched by range
/// and code) or, when the context names none, for those overlapping the range.
pub fn code_actions(
    doc: &Document,
    published: &[Published],
    published_version: Option<i32>,
    params: &CodeActionParams,
) -> Vec<CodeActionOrCommand> {
    if let Some(only) = &params.context.only {
        let quickfix = CodeActionKind::QUICKFIX;
        let kind = quickfix.as_str();
        let wanted = only.iter().any(|k| {
            let k = k.as_str();
            kind == k || kind.starts_with(&format!("{k}."))
        });
        if !wanted {
            return Vec::new();
        }
    }
    let mut actions: Vec<CodeAction> = Vec::new();
    let index = crate::source::LineIndex::new(&doc.text);
    let lines: Vec<&str> = (0..index.line_count())
        .map(|l| index.line_text(&doc.text, l))
        .collect();
    let eol = if doc.text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    for p in published
        .iter()
        .filter(|p| convert::overlaps(p.lsp.range, params.range))
    {
        if published_version == Some(doc.version) && asked_for(p, &params.context.diagnostics) {
            let preferred = p.fixes.len() == 1;
            for fix in &p.fixes {
                actions.push(fix_action(fix, p, preferred));
            }
        }
        let Some(code) = code_of(&p.lsp) else {
            continue;
        };
        if doc.lang != Lang::Bicep || NOT_SUPPRESSIBLE.iter().any(|c| c.is(&code)) {
            continue;
        }
        let line = p.lsp.range.start.line as usize;
        let resource_line = enclosing_resource(&lines, line);
        if resource_line != Some(line) {
            if let Some(edit) = disable_edit(&lines, line, &code, eol) {
                let title = format!("Disable {code} for this line");
                actions.push(action(title, &doc.uri, vec![edit], p, false));
            }
        }
        if let Some(r) = resource_line {
            if let Some(edit) = disable_edit(&lines, r, &code, eol) {
                let title = format!("Disable {code} for this resource");
                actions.push(action(title, &doc.uri, vec![edit], p, false));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    actions.retain(|a| seen.insert(a.title.clone()));
    actions
        .into_iter()
        .map(CodeActionOrCommand::CodeAction)
        .collect()
}

/// Hover text for the diagnostics at `position`, if any.
pub fn hover(published: &[Published], position: Position) -> Option<Hover> {
    let here: Vec<&Published> = published
        .iter()
        .filter(|p| convert::contains(p.lsp.range, position))
        .collect();
    let first = here.first()?;
    let parts: Vec<String> = here
        .iter()
        .map(|p| {
            let code = code_of(&p.lsp).unwrap_or_default();
            let mut text = format!("**{code}**: {}", p.lsp.message);
            if let Some(help) = &p.help {
                text.push_str("\n\n");
                text.push_str(help);
            }
            if !code.is_empty() {
                text.push_str(&format!("\n\n[Documentation]({})", docs_url(&code)));
            }
            text
        })
        .collect();
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: parts.join("\n\n---\n\n"),
        }),
        range: Some(first.lsp.range),
    })
}

fn code_of(d: &lsp_types::Diagnostic) -> Option<String> {
    match &d.code {
        Some(lsp_types::NumberOrString::String(s)) => Some(s.clone()),
        Some(lsp_types::NumberOrString::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

/// Whether the request's context names `p` (same range and code), or names no diagnostic at all.
fn asked_for(p: &Published, context: &[lsp_types::Diagnostic]) -> bool {
    context.is_empty()
        || context
            .iter()
            .any(|d| d.range == p.lsp.range && d.code == p.lsp.code)
}

// `WorkspaceEdit.changes` is keyed by `Uri`, whose parsed form caches in cells; never mutated here.
#[allow(clippy::mutable_key_type)]
fn fix_action(fix: &Fix, p: &Published, preferred: bool) -> CodeAction {
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for (uri, edit) in &fix.edits {
        changes.entry(uri.clone()).or_default().push(edit.clone());
    }
    CodeAction {
        title: fix.title.clone(),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![p.lsp.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    }
}

// `WorkspaceEdit.changes` is keyed by `Uri`, whose parsed form caches in cells; never mutated here.
#[allow(clippy::mutable_key_type)]
fn action(
    title: String,
    uri: &Uri,
    edits: Vec<TextEdit>,
    p: &Published,
    preferred: bool,
) -> CodeAction {
    let mut changes = HashMap::new();
    changes.insert(uri.clone(), edits);
    CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![p.lsp.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    }
}

fn content(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

fn indentation(line: &str) -> &str {
    let trimmed = line.trim_start_matches([' ', '\t']);
    line.get(..line.len() - trimmed.len()).unwrap_or("")
}

/// The edit that suppresses `code` on 0-based `line`: a `#disable-next-line <code>` above it with
/// the same indentation, or `code` added to such a directive already there. `None` when the
/// directive already names it.
fn disable_edit(lines: &[&str], line: usize, code: &str, eol: &str) -> Option<TextEdit> {
    let target = content(lines.get(line)?);
    if let Some(above) = line.checked_sub(1).and_then(|l| lines.get(l)) {
        let above = content(above);
        if let Some(ids) = above.trim_start().strip_prefix("#disable-next-line") {
            if ids.split_whitespace().any(|id| id == code) {
                return None;
            }
            let end = convert::line_end(lines, line - 1)?;
            let sep = if above.ends_with([' ', '\t']) {
                ""
            } else {
                " "
            };
            return Some(TextEdit::new(Range::new(end, end), format!("{sep}{code}")));
        }
    }
    let start = convert::line_start(line)?;
    Some(TextEdit::new(
        Range::new(start, start),
        format!("{}#disable-next-line {code}{eol}", indentation(target)),
    ))
}

/// The 0-based line of the `resource` declaration that encloses `line` (which may be that line).
fn enclosing_resource(lines: &[&str], line: usize) -> Option<usize> {
    let here = lines.get(line)?;
    if here.trim_start().starts_with("resource ") {
        return Some(line);
    }
    let indent = indentation(here).len();
    let lowest = line.saturating_sub(MAX_SCAN_LINES);
    (lowest..line)
        .rev()
        .filter(|&l| {
            lines.get(l).is_some_and(|text| {
                text.trim_start().starts_with("resource ")
                    && indentation(text).len() < indent.max(1)
            })
        })
        .take(MAX_CANDIDATES)
        .find(|&candidate| still_open(lines.get(candidate..line).unwrap_or(&[])))
}

/// Whether the first brace opened in `lines` is still open after the last of them.
fn still_open(lines: &[&str]) -> bool {
    let mut depth = 0i64;
    let mut opened = false;
    for l in lines {
        depth += brace_depth(l);
        if depth > 0 {
            opened = true;
        } else if opened {
            return false;
        }
    }
    opened && depth > 0
}

/// Opening minus closing braces on a line, outside `'…'` strings and `//` comments.
fn brace_depth(line: &str) -> i64 {
    let mut depth = 0i64;
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '\'' => in_string = !in_string,
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            '{' if !in_string => depth += 1,
            '}' if !in_string => depth -= 1,
            _ => {}
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, edit: &TextEdit) -> String {
        let (s, e) = convert::offsets_of(text, edit.range);
        let mut out = text.to_string();
        out.replace_range(s..e, &edit.new_text);
        out
    }

    #[test]
    fn disable_line_keeps_indentation_and_line_endings() {
        let text = "resource a 'x@1' = {\r\n  properties: {\r\n    bad: true\r\n  }\r\n}\r\n";
        let lines: Vec<&str> = text.split('\n').collect();
        let edit = disable_edit(&lines, 2, "c1", "\r\n").unwrap();
        let once = apply(text, &edit);
        assert_eq!(
            once,
            "resource a 'x@1' = {\r\n  properties: {\r\n    #disable-next-line c1\r\n    bad: true\r\n  }\r\n}\r\n"
        );
        let lines: Vec<&str> = once.split('\n').collect();
        let edit = disable_edit(&lines, 3, "c2", "\r\n").unwrap();
        assert!(apply(&once, &edit).contains("    #disable-next-line c1 c2\r\n    bad"));
        assert!(disable_edit(&lines, 3, "c1", "\r\n").is_none());
    }

    #[test]
    fn finds_the_enclosing_resource_only() {
        let text = "resource a 'x@1' = {\n  resource child 'y' = {\n  }\n  properties: {\n    bad: '}'\n  }\n}\nparam p string\n";
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(enclosing_resource(&lines, 4), Some(0));
        assert_eq!(enclosing_resource(&lines, 0), Some(0));
        assert_eq!(enclosing_resource(&lines, 7), None);
    }
}
