//! Text edits inside a resource declaration, placed by the spans the template model gives each
//! value: string literals and property names in the file's syntax, an object literal's layout,
//! removing a property that takes whole lines.

use super::{inside, Syntax, Target};
use crate::diagnostic::Edit;
use crate::source::Span;
use crate::value::Value;

impl<'a> Target<'a> {
    /// The span of `v` when it is in the subnet's declaration.
    pub(super) fn local(&self, v: &Value) -> Option<Span> {
        v.span.filter(|s| inside(*s, self.subnet.span))
    }

    pub(super) fn text(&self) -> &str {
        &self.file.text
    }

    /// A string literal in the file's syntax.
    pub(super) fn quote(&self, s: &str) -> String {
        match self.syntax {
            Syntax::Bicep => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Syntax::Json => serde_json::Value::String(s.to_string()).to_string(),
        }
    }

    /// A property name in the file's syntax.
    pub(super) fn key(&self, name: &str) -> String {
        match self.syntax {
            Syntax::Bicep => name.to_string(),
            Syntax::Json => format!("\"{name}\""),
        }
    }

    pub(super) fn eol(&self) -> &'static str {
        if self.text().contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// How the object literal `object` (in the subnet's declaration) is laid out: members on
    /// their own lines, the closing brace alone on its line.
    pub(super) fn layout(&self, object: &Value) -> Option<Layout<'a>> {
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

    /// The start of the property name written before `value` (`name: value`, `"name": value`).
    pub(super) fn key_start(&self, value: Span, name: &str) -> Option<usize> {
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
    pub(super) fn remove_property(&self, value: &Value, name: &str) -> Option<Vec<Edit>> {
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
}

impl Target<'_> {
    /// The first string literal (without Bicep interpolation) after the opening bracket of
    /// `list`, skipping whitespace and comments.
    pub(super) fn string_literal_in(&self, list: Span) -> Option<Span> {
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
pub(super) struct Layout<'a> {
    pub(super) span: Span,
    /// Where the line of the closing brace starts.
    pub(super) close_line_start: u32,
    /// The members' indentation.
    pub(super) indent: &'a str,
    /// One level of indentation.
    pub(super) unit: &'a str,
}

/// The leading spaces and tabs of a line.
pub(super) fn indentation(line: &str) -> &str {
    let trimmed = line.trim_start_matches([' ', '\t']);
    line.get(..line.len() - trimmed.len()).unwrap_or("")
}

/// Whether `s` holds only whitespace, commas and comments.
pub(super) fn only_trivia(s: &str) -> bool {
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
