//! Source files, byte spans and the one line index: byte offsets to lines and columns, in
//! characters for output and in UTF-16 code units for LSP.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one file. `start..end`, both byte offsets into the file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// A span in `file` from `start` to `end` (byte offsets).
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both (they must be in the same file; `self`'s file wins).
    pub fn cover(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(&self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// A 1-based line and column; the column counts characters (Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// A range of 1-based lines and columns, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct LineColRange {
    pub start: LineCol,
    pub end: LineCol,
}

/// The line index of one text (rust-analyzer's `line-index`): 0-based lines, columns in
/// characters (output) or in UTF-16 code units (LSP).
///
/// `\n`, `\r\n` and a lone `\r` end a line, as in the Bicep lexer, LSP and editors. Offsets are
/// clamped to the text and floored to a character boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    index: line_index::LineIndex,
    /// Offsets of the `\n`s that follow a `\r`, ascending.
    crlf: Box<[u32]>,
}

impl LineIndex {
    /// Indexes `text` (a text longer than 4 GiB is indexed up to there).
    pub fn new(text: &str) -> LineIndex {
        let mut cut = text.len().min(u32::MAX as usize - 1);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let text = text.get(..cut).unwrap_or("");
        let bytes = text.as_bytes();
        let mut crlf = Vec::new();
        let mut lone = Vec::new();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\r' {
                match bytes.get(i + 1) {
                    Some(b'\n') => crlf.push(to_u32(i + 1)),
                    _ => lone.push(i),
                }
            }
        }
        // `line-index` ends lines at `\n` only: give it the text with each lone `\r` made a `\n`
        // (one ASCII byte for another, so offsets and characters are unchanged).
        let index = if lone.is_empty() {
            line_index::LineIndex::new(text)
        } else {
            let mut copy = bytes.to_vec();
            for i in lone {
                if let Some(b) = copy.get_mut(i) {
                    *b = b'\n';
                }
            }
            line_index::LineIndex::new(&String::from_utf8(copy).unwrap_or_default())
        };
        LineIndex {
            index,
            crlf: crlf.into_boxed_slice(),
        }
    }

    /// Length of the indexed text in bytes.
    pub fn len(&self) -> u32 {
        self.index.len().into()
    }

    /// True for an empty text.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of lines (a text ending with a line break has an empty last line).
    pub fn line_count(&self) -> usize {
        self.utf8(self.len()).line as usize + 1
    }

    /// 0-based line of a byte offset.
    pub fn line(&self, offset: u32) -> usize {
        self.utf8(offset).line as usize
    }

    /// Byte offset at which 0-based `line` starts (the text's length past the last line).
    pub fn line_start(&self, line: usize) -> u32 {
        u32::try_from(line)
            .ok()
            .and_then(|line| self.index.offset(line_index::LineCol { line, col: 0 }))
            .map_or(self.len(), u32::from)
    }

    /// The text of 0-based `line` of `text` (the indexed one), without its line break.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        text.get(self.line_start(line) as usize..self.line_end(line) as usize)
            .unwrap_or("")
    }

    /// Byte offset at which the text of 0-based `line` ends, before its line break.
    pub fn line_end(&self, line: usize) -> u32 {
        let next = self.line_start(line + 1);
        if line + 1 >= self.line_count() {
            return next;
        }
        // The break is `\n` or a lone `\r` (one byte), or `\r\n`.
        let newline = next.saturating_sub(1);
        let width = if self.crlf.binary_search(&newline).is_ok() {
            2
        } else {
            1
        };
        next.saturating_sub(width).max(self.line_start(line))
    }

    /// 1-based line and column in characters of a byte offset (a `\r` before the offset counts).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let at = self.utf8(offset);
        let column = self
            .index
            .to_wide(line_index::WideEncoding::Utf32, at)
            .map_or(at.col, |w| w.col);
        LineCol {
            line: at.line.saturating_add(1),
            column: column.saturating_add(1),
        }
    }

    /// 0-based line and column in UTF-16 code units of a byte offset; an offset between the `\r`
    /// and `\n` of a line break is the end of the line's text.
    pub fn utf16(&self, offset: u32) -> (u32, u32) {
        let mut offset = self.floor(offset);
        if self.crlf.binary_search(&offset).is_ok() {
            offset -= 1;
        }
        let at = self.utf8(offset);
        let column = self
            .index
            .to_wide(line_index::WideEncoding::Utf16, at)
            .map_or(at.col, |w| w.col);
        (at.line, column)
    }

    /// Byte offset of a 0-based line and UTF-16 column: past the end of a line's text is its end,
    /// past the last line is the end of the text, inside a surrogate pair is that character's
    /// start.
    pub fn offset_utf16(&self, line: u32, column: u32) -> u32 {
        if line as usize >= self.line_count() {
            return self.len();
        }
        let start = self.line_start(line as usize);
        let end = self.line_end(line as usize);
        let col = self
            .index
            .to_utf8(
                line_index::WideEncoding::Utf16,
                line_index::WideLineCol { line, col: column },
            )
            .map_or(u32::MAX, |at| at.col);
        self.floor(start.saturating_add(col).min(end))
    }

    /// The offset clamped to the text and moved back to a character boundary.
    fn floor(&self, offset: u32) -> u32 {
        let mut offset = offset.min(self.len());
        while offset > 0 && self.index.try_line_col(offset.into()).is_none() {
            offset -= 1;
        }
        offset
    }

    /// 0-based line and UTF-8 column of a byte offset (clamped, floored).
    fn utf8(&self, offset: u32) -> line_index::LineCol {
        let offset = self.floor(offset);
        self.index
            .try_line_col(offset.into())
            .unwrap_or(line_index::LineCol { line: 0, col: 0 })
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One file's text and its line index (built when first asked: most files of a bulk audit never
/// need it).
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
    lines: std::sync::OnceLock<LineIndex>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            path,
            text: text.into(),
            lines: std::sync::OnceLock::new(),
        }
    }

    /// The file's line index.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// 0-based line index of a byte offset.
    pub fn line_index(&self, offset: u32) -> usize {
        self.lines().line(offset)
    }

    /// Byte offset at which 0-based `line` starts.
    pub fn line_start(&self, line: usize) -> u32 {
        self.lines().line_start(line)
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.lines().line_count()
    }

    /// The text of 0-based `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        self.lines().line_text(&self.text, line)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> LineCol {
        self.lines().line_col(offset)
    }

    /// 1-based line/column range of a span.
    pub fn range(&self, span: Span) -> LineColRange {
        LineColRange {
            start: self.line_col(span.start),
            end: self.line_col(span.end),
        }
    }

    /// The text a span covers ("" when out of bounds).
    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// All files of one run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<Arc<SourceFile>>,
    /// The first file added at each path. FxHash: paths are the run's own, one per file.
    by_path: rustc_hash::FxHashMap<PathBuf, FileId>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, path: PathBuf, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.by_path.entry(path.clone()).or_insert(id);
        self.files.push(Arc::new(SourceFile::new(path, text)));
        id
    }

    /// The id the next [`SourceMap::add`] returns.
    pub fn next_id(&self) -> FileId {
        FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX))
    }

    pub fn get(&self, id: FileId) -> Option<&Arc<SourceFile>> {
        self.files.get(id.0 as usize)
    }

    /// The id of the file at `path`, if it was added.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &Arc<SourceFile>)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(line: u32, column: u32) -> LineCol {
        LineCol { line, column }
    }

    #[test]
    fn line_col_counts_characters_from_one() {
        let f = SourceFile::new("a".into(), "ab\nçd\n");
        assert_eq!(f.line_col(0), lc(1, 1));
        assert_eq!(f.line_col(3), lc(2, 1));
        // 'ç' is two bytes: offset 5 is 'd', the second character.
        assert_eq!(f.line_col(5), lc(2, 2));
        assert_eq!(f.line_text(1), "çd");
    }

    #[test]
    fn multi_byte_characters_are_one_column_and_utf16_counts_surrogates() {
        // 'é' is 2 bytes and 1 UTF-16 unit, '😀' 4 bytes and 2 units.
        let text = "é😀x\n😀";
        let lines = LineIndex::new(text);
        let x = text.find('x').unwrap() as u32;
        assert_eq!(lines.line_col(x), lc(1, 3));
        assert_eq!(lines.utf16(x), (0, 3));
        assert_eq!(lines.offset_utf16(0, 3), x);
        // Inside the emoji's bytes: floored to its start.
        assert_eq!(lines.line_col(4), lc(1, 2));
        assert_eq!(lines.utf16(4), (0, 1));
        // Inside its surrogate pair: snapped to its start.
        assert_eq!(lines.offset_utf16(0, 2), 2);
        assert_eq!(lines.line_col(text.len() as u32), lc(2, 2));
        assert_eq!(lines.utf16(text.len() as u32), (1, 2));
    }

    #[test]
    fn crlf_is_one_line_break() {
        let text = "ab\r\ncd\r\n";
        let f = SourceFile::new("a".into(), text);
        let lines = f.lines();
        assert_eq!(lines.line_count(), 3);
        assert_eq!(f.line_text(0), "ab");
        assert_eq!(f.line_text(1), "cd");
        assert_eq!(lines.line_start(1), 4);
        assert_eq!(lines.line_end(0), 2);
        assert_eq!(f.line_col(4), lc(2, 1));
        // Output columns count the '\r' before an offset; LSP ones end the line's text there.
        assert_eq!(f.line_col(3), lc(1, 4));
        assert_eq!(lines.utf16(3), (0, 2));
        assert_eq!(lines.offset_utf16(0, 9), 2);
    }

    #[test]
    fn a_lone_cr_is_a_line_break() {
        let text = "ab\rcd\r\ne\r";
        let f = SourceFile::new("a".into(), text);
        let lines = f.lines();
        assert_eq!(lines.line_count(), 4);
        assert_eq!(f.line_text(0), "ab");
        assert_eq!(f.line_text(1), "cd");
        assert_eq!(f.line_text(2), "e");
        assert_eq!(f.line_text(3), "");
        assert_eq!(f.line_col(3), lc(2, 1));
        assert_eq!(f.line_col(7), lc(3, 1));
        assert_eq!(f.line_col(9), lc(4, 1));
        assert_eq!(lines.utf16(3), (1, 0));
        assert_eq!(lines.utf16(8), (2, 1));
        assert_eq!(lines.offset_utf16(1, 99), 5);
        assert_eq!(lines.offset_utf16(3, 0), 9);
    }

    #[test]
    fn end_of_file_and_past_it() {
        for text in ["", "a", "a\n", "a\r", "a\r\n"] {
            let lines = LineIndex::new(text);
            let end = text.len() as u32;
            let last = lines.line_count() as u32;
            assert_eq!(lines.line_col(end).line, last, "{text:?}");
            assert_eq!(lines.line_col(end + 5), lines.line_col(end), "{text:?}");
            assert_eq!(lines.line_start(99), end, "{text:?}");
            assert_eq!(lines.offset_utf16(99, 0), end, "{text:?}");
            assert_eq!(lines.utf16(end + 5), lines.utf16(end), "{text:?}");
        }
        let lines = LineIndex::new("a\n");
        assert_eq!(lines.line_count(), 2);
        assert_eq!(lines.line_col(2), lc(2, 1));
        assert_eq!(lines.line_col(1), lc(1, 2));
    }
}
