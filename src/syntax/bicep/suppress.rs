//! `#disable-next-line`, `#disable-diagnostics` and `#restore-diagnostics` directives → suppressions.
//!
//! As in the Bicep linter: `#disable-next-line a b` covers the next line that is not blank;
//! `#disable-diagnostics a b` covers from the directive to a `#restore-diagnostics` naming the same
//! code, or to the end of the file.

use super::prepass::Directive;
use crate::model::Suppression;
use crate::source::{FileId, Span};

/// A `#disable-next-line` directive whose next line starts at `next_line_start`.
#[derive(Debug, Clone, PartialEq)]
pub struct NextLine {
    pub span: Span,
    pub codes: Vec<String>,
    /// Start of the first non-blank text after the directive (the covered line).
    pub next_start: usize,
}

/// Turns directive lines into suppressions; also returns the `#disable-next-line` ones so that a
/// resource declaration starting on the covered line can take them.
pub fn suppressions(
    file: FileId,
    text: &str,
    directives: &[Directive],
) -> (Vec<Suppression>, Vec<NextLine>) {
    let mut out = Vec::new();
    let mut next_lines = Vec::new();
    // Open `#disable-diagnostics` regions: (directive span, code, start).
    let mut open: Vec<(Span, String, Option<String>)> = Vec::new();
    for d in directives {
        let line = text.get(d.start..d.end).unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(keyword) = words.next() else {
            continue;
        };
        let codes: Vec<String> = words
            .take_while(|w| !w.starts_with("//") && !w.starts_with("/*"))
            .map(str::to_string)
            .collect();
        let span = Span::new(file, d.start, d.end);
        let justification = justification(line);
        match keyword {
            "#disable-next-line" => {
                let (next_start, next_end) = next_line(text, d.end);
                out.push(Suppression {
                    span,
                    codes: codes.clone(),
                    covers: Span::new(file, next_start, next_end),
                    starts_inside: true,
                    justification,
                });
                next_lines.push(NextLine {
                    span,
                    codes,
                    next_start,
                });
            }
            "#disable-diagnostics" => {
                for c in codes {
                    open.push((span, c, justification.clone()));
                }
            }
            "#restore-diagnostics" => {
                for c in codes {
                    let mut k = 0;
                    while k < open.len() {
                        let same = open.get(k).is_some_and(|(_, o, _)| o == &c);
                        if same {
                            let (s, code, justification) = open.remove(k);
                            out.push(Suppression {
                                span: s,
                                codes: vec![code],
                                covers: Span::new(file, s.end as usize, d.start),
                                starts_inside: true,
                                justification,
                            });
                        } else {
                            k += 1;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (s, code, justification) in open {
        out.push(Suppression {
            span: s,
            codes: vec![code],
            covers: Span::new(file, s.end as usize, text.len()),
            starts_inside: true,
            justification,
        });
    }
    merge_regions(&mut out);
    (out, next_lines)
}

/// The comment after a directive's ids: `#disable-next-line a b // why` → `why`.
fn justification(line: &str) -> Option<String> {
    let at = line.find("//").or_else(|| line.find("/*"))?;
    let comment = line.get(at + 2..)?;
    let comment = comment.trim().trim_end_matches("*/").trim();
    (!comment.is_empty()).then(|| comment.to_string())
}

/// Merges region suppressions from one directive with the same coverage into one entry.
fn merge_regions(out: &mut Vec<Suppression>) {
    let mut merged: Vec<Suppression> = Vec::with_capacity(out.len());
    for s in out.drain(..) {
        if let Some(m) = merged
            .iter_mut()
            .find(|m| m.span == s.span && m.covers == s.covers)
        {
            m.codes.extend(s.codes);
        } else {
            merged.push(s);
        }
    }
    merged.sort_by_key(|s| (s.span.start, s.covers.start));
    *out = merged;
}

/// The first non-blank line after `offset` (which is at the end of the directive line): its start
/// (at its first non-whitespace character) and end (before the line break).
fn next_line(text: &str, offset: usize) -> (usize, usize) {
    let rest = text.get(offset..).unwrap_or("");
    let Some(first) = rest.find(|c: char| !c.is_whitespace()) else {
        return (text.len(), text.len());
    };
    let start = offset + first;
    let line = text.get(start..).unwrap_or("");
    let end = start + line.find('\n').unwrap_or(line.len());
    let trimmed = text.get(start..end).unwrap_or("").trim_end();
    (start, start + trimmed.len())
}
