//! Bicep and `.bicepparam` files, parsed with tree-sitter-bicep, lowered to the template model.
//!
//! tree-sitter-bicep 1.1 lags the language: an offset-preserving pre-pass (module `prepass`) rewrites
//! what it cannot parse (spreads, `[^i]`, `[?i]`, postfix `!`, rich types, `type`/`import`/
//! `extension` statements, `$'''` and quote-heavy multi-line strings, `.bicepparam` assignments;
//! [`Rewrite`] names each kind and [`prepass()`] counts them) and the lowering (module `lower`) reads
//! values from the original text. The lowering also undoes the grammar's precedence for postfix
//! operations (`a && b.c` is read as `(a && b).c`) and rejoins `a` `[0]` split into two array items.
//! Spans are byte offsets in the original text.

mod deployment;
mod lower;
mod memo;
mod prepass;
mod suppress;

pub use memo::Memo;
pub use prepass::Rewrite;

use crate::model::{Language, SyntaxError, Template};
use crate::source::{FileId, Span};
use std::cell::RefCell;
use std::collections::BTreeMap;
use tree_sitter::{Node, ParseOptions, ParseState, Parser, Tree};

/// Work one file may take to parse, in tree-sitter progress reports (one per 100 parser
/// operations): a base plus one per 4 bytes — ordinary text needs a hundredth of that. Counted
/// in work, never in time, so the result does not depend on machine load.
fn parse_work_limit(text: &str) -> u64 {
    10_000 + u64::try_from(text.len() / 4).unwrap_or(u64::MAX)
}

/// At most this many syntax errors are reported per file.
const MAX_SYNTAX_ERRORS: usize = 100;

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Lowers a Bicep (`Language::Bicep`) or .bicepparam (`Language::BicepParams`) file.
pub fn lower(file: FileId, text: &str, language: Language) -> Template {
    lower_with(file, text, language, None)
}

/// [`lower`], reusing the parses of the statements `memo` kept (and keeping the new ones).
pub fn lower_with(file: FileId, text: &str, language: Language, memo: Option<&Memo>) -> Template {
    // A lone `\r` ends a line in Bicep; the grammar knows only `\n`. Same length: offsets hold.
    let text = &*lone_cr_as_lf(text);
    let mut template = Template::empty(file, language);
    let params_file = language == Language::BicepParams;
    let prepared = prepass::prepare(text, params_file);
    let limit = parse_work_limit(text);
    let Some(trees) = parse_statements(&prepared.text, &prepared.statements, limit, memo) else {
        template.syntax_errors.push(SyntaxError {
            span: Span::new(file, 0, 0),
            message: format!(
                "parsing stopped at its work limit ({limit} units): the parser could not recover from the syntax errors here"
            ),
        });
        return template;
    };
    let (suppressions, next_lines) = suppress::suppressions(file, text, &prepared.directives);
    template.suppressions = suppressions;
    let mut lowerer = lower::Lowerer::new(file, text, &prepared, &next_lines, params_file);
    for tree in &trees {
        collect_syntax_errors(file, text, tree.root_node(), &mut template.syntax_errors);
        lowerer.lower_root(tree.root_node(), &mut template);
    }
    template
}

/// `text` with each `\r` not followed by `\n` replaced by `\n` (borrowed when there is none).
pub fn lone_cr_as_lf(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes.get(i) == Some(&b'\r') && bytes.get(i + 1) != Some(&b'\n');
    if !(0..bytes.len()).any(lone) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '\r' && chars.peek().map(|(_, n)| *n) != Some('\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What the pre-pass does to `text`, with the kinds in `skip` switched off: the rewritten text
/// (same length, byte offsets unchanged) and how many rewrites of each kind it made. For measuring
/// and testing the pre-pass; [`lower`] runs it with every kind on.
pub fn prepass(
    text: &str,
    params_file: bool,
    skip: &[Rewrite],
) -> (String, BTreeMap<Rewrite, usize>) {
    let p = prepass::prepare_with(text, params_file, skip);
    (p.text, p.rewrites)
}

/// Parses `text` with the thread's parser, one top-level statement at a time (each starting at
/// one of `statements`), giving up after `limit` units of work (progress reports) in all.
///
/// One parse per statement, not per file, because tree-sitter-bicep's external scanner looks for
/// the end of a multi-line string up to the end of its input each time the parser tries error
/// recovery, which it does at every `.` of a member access: over a whole file that is quadratic
/// (1 MB/s on a 116 kB file, 14 MB/s typical). Each statement is an included range of the whole
/// text, so node offsets and positions stay those of the file. A statement `memo` kept is not
/// parsed again; its work counts all the same.
fn parse_statements(
    text: &str,
    statements: &[usize],
    limit: u64,
    memo: Option<&Memo>,
) -> Option<Vec<Tree>> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_bicep::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        let parser = slot.as_mut()?;
        let mut work = 0u64;
        let bytes = text.as_bytes();
        let mut trees = Vec::new();
        for (start, end, start_point, end_point) in stretches(bytes, statements) {
            if work > limit {
                let _ = parser.set_included_ranges(&[]);
                return None;
            }
            let statement = bytes.get(start..end).unwrap_or(&[]);
            if let Some(kept) = memo.and_then(|m| m.get(statement, start, start_point)) {
                // As a fresh parse would: stopped once the work passes the limit.
                work += kept.work;
                if work > limit {
                    let _ = parser.set_included_ranges(&[]);
                    return None;
                }
                trees.push(kept.tree);
                continue;
            }
            let before = work;
            let range = tree_sitter::Range {
                start_byte: start,
                end_byte: end,
                start_point,
                end_point,
            };
            if parser.set_included_ranges(&[range]).is_err() {
                // Not expected (one range, in order); read the statement as the whole text would.
                let _ = parser.set_included_ranges(&[]);
            }
            let mut progress = |_: &ParseState| {
                work += 1;
                if work > limit {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            };
            let options = ParseOptions::new().progress_callback(&mut progress);
            let tree = parser.parse_with_options(
                &mut |offset, _| bytes.get(offset..end).unwrap_or(&[]),
                None,
                Some(options),
            );
            match tree {
                Some(tree) => {
                    if let Some(m) = memo {
                        m.put(
                            statement,
                            start,
                            start_point,
                            &tree,
                            work.saturating_sub(before),
                        );
                    }
                    trees.push(tree);
                }
                None => {
                    parser.reset();
                    let _ = parser.set_included_ranges(&[]);
                    return None;
                }
            }
        }
        let _ = parser.set_included_ranges(&[]);
        Some(trees)
    })
}

/// The stretches of `bytes` to parse, one per statement: (start, end, start point, end point),
/// covering all of it.
fn stretches(
    bytes: &[u8],
    statements: &[usize],
) -> Vec<(usize, usize, tree_sitter::Point, tree_sitter::Point)> {
    let mut cuts: Vec<usize> = statements
        .iter()
        .copied()
        .filter(|s| *s > 0 && *s < bytes.len())
        .collect();
    cuts.push(bytes.len());
    let mut out = Vec::with_capacity(cuts.len());
    let mut point = tree_sitter::Point::new(0, 0);
    let mut at = 0;
    for end in cuts {
        let start_point = point;
        for &b in bytes.get(at..end).unwrap_or(&[]) {
            if b == b'\n' {
                point.row += 1;
                point.column = 0;
            } else {
                point.column += 1;
            }
        }
        out.push((at, end, start_point, point));
        at = end;
    }
    out
}

/// Every ERROR and MISSING node (outermost ERROR only) → a syntax error.
fn collect_syntax_errors(file: FileId, text: &str, root: Node, out: &mut Vec<SyntaxError>) {
    if !root.has_error() {
        return;
    }
    let mut cursor = root.walk();
    // Iterative pre-order walk; bounded by the tree's size.
    loop {
        let node = cursor.node();
        let mut descend = node.has_error();
        if node.is_error() {
            out.push(SyntaxError {
                span: Span::new(file, node.start_byte(), node.end_byte()),
                message: error_message(text, node),
            });
            descend = false;
        } else if node.is_missing() {
            let after = node
                .prev_sibling()
                .filter(|p| !p.is_named() && matches!(p.kind(), ":" | "=" | "=>"));
            let what = if let Some(p) = after {
                format!("a value after `{}`", p.kind())
            } else if node.is_named() {
                node.kind().replace('_', " ")
            } else {
                format!("`{}`", node.kind())
            };
            out.push(SyntaxError {
                span: Span::new(file, node.start_byte(), node.end_byte()),
                message: format!("expected {what}"),
            });
        }
        if out.len() >= MAX_SYNTAX_ERRORS {
            return;
        }
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// "unexpected `tok`" for an ERROR node, naming its first token; "expected `}`" when the error runs
/// to the end of the file with a bracket left open.
fn error_message(text: &str, node: Node) -> String {
    if node.end_byte() >= text.trim_end().len() {
        let body = text.get(node.start_byte()..node.end_byte()).unwrap_or("");
        if let Some(close) = unclosed(body) {
            return format!("expected `{close}`");
        }
    }
    let mut first = node;
    let mut guard = 0;
    while let Some(c) = first.child(0) {
        first = c;
        guard += 1;
        if guard > 256 {
            break;
        }
    }
    let token = text
        .get(first.start_byte()..first.end_byte())
        .unwrap_or("")
        .lines()
        .next()
        .unwrap_or("")
        .trim();
    let token: String = token.chars().take(40).collect();
    const KEYWORDS: [&str; 9] = [
        "param",
        "var",
        "output",
        "resource",
        "module",
        "func",
        "metadata",
        "targetScope",
        "using",
    ];
    if KEYWORDS.contains(&token.as_str()) && node.child_count() > 1 {
        return format!("incomplete `{token}` declaration");
    }
    if token.is_empty() {
        if node.end_byte() >= text.trim_end().len() {
            "unexpected end of file".to_string()
        } else {
            "syntax error".to_string()
        }
    } else {
        format!("unexpected `{token}`")
    }
}

/// The closing bracket the last bracket left open in `code` needs (strings skipped roughly).
fn unclosed(code: &str) -> Option<char> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in code.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '\'' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' => in_string = true,
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '(' => stack.push(')'),
            '}' | ']' | ')' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

#[cfg(test)]
mod tests;
