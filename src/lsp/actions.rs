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
    // The resource declarations of the document's template model, read once when a suppression
    // is offered.
    let declarations = std::cell::OnceCell::new();
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
        let declarations = declarations.get_or_init(|| resource_declarations(&doc.text, &index));
        let resource_line = enclosing_resource(declarations, &doc.text, &index, line);
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

/// A resource declaration of a Bicep document: its byte range and the 0-based line of its
/// `resource` head.
struct Declaration {
    start: u32,
    end: u32,
    head_line: usize,
}

/// The resource declarations (nested ones included) of the Bicep text `text`, from its template
/// model.
fn resource_declarations(text: &str, index: &crate::source::LineIndex) -> Vec<Declaration> {
    let template = crate::syntax::lower(
        crate::source::FileId(0),
        text,
        crate::model::Language::Bicep,
    );
    template
        .resources
        .iter()
        .map(|r| Declaration {
            start: r.span.start,
            end: r.span.end,
            head_line: index.line(r.head_span.start),
        })
        .collect()
}

/// The 0-based line of the `resource` declaration that encloses `line` (which may be that line):
/// the innermost declaration whose range holds the line's first non-blank character.
fn enclosing_resource(
    declarations: &[Declaration],
    text: &str,
    index: &crate::source::LineIndex,
    line: usize,
) -> Option<usize> {
    let content = index.line_text(text, line);
    let blank = content.len() - content.trim_start().len();
    let at = index
        .line_start(line)
        .saturating_add(u32::try_from(blank).ok()?);
    declarations
        .iter()
        .filter(|d| d.start <= at && at < d.end)
        .min_by_key(|d| d.end - d.start)
        .map(|d| d.head_line)
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
        let text = "resource a 'x@1' = {\n  resource child 'y' = {\n    name: 'c'\n  }\n  properties: {\n    bad: '}'\n  }\n}\nparam p string\n@description('d')\nresource b 'x@1' = [for i in range(0, 2): {\n  name: 'b${i}' // { not a brace\n}]\n";
        let index = crate::source::LineIndex::new(text);
        let declarations = resource_declarations(text, &index);
        let enclosing = |line| enclosing_resource(&declarations, text, &index, line);
        assert_eq!(enclosing(5), Some(0), "a brace in a string is no brace");
        assert_eq!(enclosing(0), Some(0));
        assert_eq!(enclosing(2), Some(1), "the nested resource");
        assert_eq!(enclosing(8), None);
        assert_eq!(enclosing(11), Some(10), "a loop, after a decorator");
    }
}
