//! Byte offsets ↔ LSP positions (0-based lines, UTF-16 columns): the only place that knows them.
//!
//! Lines are those of [`LineIndex`]: `\n`, `\r\n` and a lone `\r` end a line, and a position
//! never points between `\r` and `\n`. Positions past the end of a line clamp to the end of its
//! text, positions past the last line clamp to the end of the file, and a column inside a
//! surrogate pair snaps to the start of that character.

use crate::source::{LineIndex, SourceFile, Span};
use lsp_types::{Position, Range};

/// The LSP position of byte `offset` in `text` (clamped to the text, floored to a char boundary).
pub fn position_at(text: &str, offset: usize) -> Position {
    position(&LineIndex::new(text), to_u32(offset))
}

/// The byte offset of an LSP position in `text` (clamped as the module docs say).
pub fn offset_at(text: &str, position: Position) -> usize {
    offset(&LineIndex::new(text), position)
}

/// The LSP range of byte range `start..end` in `text`.
pub fn range_at(text: &str, start: usize, end: usize) -> Range {
    let lines = LineIndex::new(text);
    Range {
        start: position(&lines, to_u32(start)),
        end: position(&lines, to_u32(end.max(start))),
    }
}

/// The byte range of an LSP range in `text` (`start <= end`).
pub fn offsets_of(text: &str, range: Range) -> (usize, usize) {
    let lines = LineIndex::new(text);
    let start = offset(&lines, range.start);
    let end = offset(&lines, range.end);
    (start.min(end), start.max(end))
}

/// The LSP position of a byte offset in a source file of a report (uses its line index).
pub fn file_position(file: &SourceFile, offset: u32) -> Position {
    position(file.lines(), offset)
}

/// The LSP range of a span in its source file.
pub fn span_range(file: &SourceFile, span: Span) -> Range {
    Range {
        start: file_position(file, span.start),
        end: file_position(file, span.end.max(span.start)),
    }
}

fn position(lines: &LineIndex, offset: u32) -> Position {
    let (line, character) = lines.utf16(offset);
    Position { line, character }
}

fn offset(lines: &LineIndex, position: Position) -> usize {
    lines.offset_utf16(position.line, position.character) as usize
}

/// The position where 0-based `line` starts.
pub fn line_start(line: usize) -> Option<Position> {
    Some(Position::new(u32::try_from(line).ok()?, 0))
}

/// The position at the end of 0-based `line`'s text (before its line break), given the text's
/// lines ([`LineIndex::line_text`]; a trailing `\r` is not counted).
pub fn line_end(lines: &[&str], line: usize) -> Option<Position> {
    let text = lines.get(line)?;
    let text = text.strip_suffix('\r').unwrap_or(text);
    Some(Position::new(
        u32::try_from(line).ok()?,
        to_u32(text.encode_utf16().count()),
    ))
}

/// Whether `position` lies in `range` (both ends included, so empty ranges can be hovered).
pub fn contains(range: Range, position: Position) -> bool {
    let p = (position.line, position.character);
    (range.start.line, range.start.character) <= p && p <= (range.end.line, range.end.character)
}

/// Whether two ranges overlap or touch.
pub fn overlaps(a: Range, b: Range) -> bool {
    let key = |p: Position| (p.line, p.character);
    key(a.start) <= key(b.end) && key(b.start) <= key(a.end)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn ascii_round_trips() {
        let text = "ab\ncd\n";
        for offset in 0..=text.len() {
            assert_eq!(offset_at(text, position_at(text, offset)), offset);
        }
        assert_eq!(position_at(text, 4), pos(1, 1));
        assert_eq!(position_at(text, 6), pos(2, 0));
    }

    #[test]
    fn emoji_counts_two_utf16_units() {
        // '😀' is 4 bytes in UTF-8 and 2 units in UTF-16.
        let text = "a😀b\n😀";
        assert_eq!(position_at(text, 5), pos(0, 3));
        assert_eq!(offset_at(text, pos(0, 3)), 5);
        assert_eq!(offset_at(text, pos(0, 1)), 1);
        // Inside the surrogate pair: snaps to the emoji's start.
        assert_eq!(offset_at(text, pos(0, 2)), 1);
        // Inside the emoji's UTF-8 bytes: floors to its start.
        assert_eq!(position_at(text, 3), pos(0, 1));
        assert_eq!(position_at(text, text.len()), pos(1, 2));
        assert_eq!(offset_at(text, pos(1, 2)), text.len());
    }

    #[test]
    fn crlf_belongs_to_the_line_break() {
        let text = "ab\r\ncd\r\n";
        assert_eq!(position_at(text, 2), pos(0, 2));
        // Between '\r' and '\n' is still the end of line 0's text.
        assert_eq!(position_at(text, 3), pos(0, 2));
        assert_eq!(position_at(text, 4), pos(1, 0));
        assert_eq!(offset_at(text, pos(0, 2)), 2);
        // Past the end of a line clamps before its line break.
        assert_eq!(offset_at(text, pos(0, 99)), 2);
        assert_eq!(offset_at(text, pos(1, 1)), 5);
        assert_eq!(offset_at(text, pos(2, 0)), text.len());
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let text = "ab\ncd";
        assert_eq!(offset_at(text, pos(9, 9)), text.len());
        assert_eq!(position_at(text, 99), pos(1, 2));
        assert_eq!(offset_at("", pos(0, 5)), 0);
        assert_eq!(position_at("", 3), pos(0, 0));
    }

    #[test]
    fn source_file_ranges_match_text_positions() {
        let text = "x😀y\r\nçz\n";
        let file = SourceFile::new("a.bicep".into(), text);
        for offset in 0..=text.len() {
            assert_eq!(
                file_position(&file, offset as u32),
                position_at(text, offset),
                "offset {offset}"
            );
        }
        let span = Span::new(FileId(0), 1, 5);
        assert_eq!(span_range(&file, span), Range::new(pos(0, 1), pos(0, 3)));
        let span = Span::new(FileId(0), 8, 11);
        assert_eq!(span_range(&file, span), Range::new(pos(1, 0), pos(1, 2)));
    }

    #[test]
    fn a_lone_cr_ends_a_line_for_requests_and_published_ranges_alike() {
        let text = "a\rb😀\rc";
        let file = SourceFile::new("a.bicep".into(), text);
        for offset in 0..=text.len() {
            let p = position_at(text, offset);
            assert_eq!(file_position(&file, offset as u32), p, "offset {offset}");
        }
        assert_eq!(position_at(text, 2), pos(1, 0));
        assert_eq!(offset_at(text, pos(1, 3)), 7);
        assert_eq!(offset_at(text, pos(1, 9)), 7);
        assert_eq!(offset_at(text, pos(2, 0)), 8);
    }

    #[test]
    fn line_ends_count_utf16_before_the_line_break() {
        let lines: Vec<&str> = "a😀\r\nb\n".split('\n').collect();
        assert_eq!(line_end(&lines, 0), Some(pos(0, 3)));
        assert_eq!(line_end(&lines, 1), Some(pos(1, 1)));
        assert_eq!(line_end(&lines, 2), Some(pos(2, 0)));
        assert_eq!(line_end(&lines, 3), None);
        assert_eq!(line_start(4), Some(pos(4, 0)));
    }

    #[test]
    fn ranges_contain_and_overlap() {
        let r = Range::new(pos(1, 2), pos(1, 5));
        assert!(contains(r, pos(1, 2)));
        assert!(contains(r, pos(1, 5)));
        assert!(!contains(r, pos(1, 6)));
        assert!(!contains(r, pos(0, 9)));
        assert!(overlaps(r, Range::new(pos(1, 5), pos(2, 0))));
        assert!(!overlaps(r, Range::new(pos(2, 0), pos(2, 1))));
        assert_eq!(
            offsets_of("abc\ndef", Range::new(pos(1, 1), pos(0, 1))),
            (1, 5)
        );
    }
}
