//! ARM JSON read into jsonc-parser's AST: strict JSON straight by a fast reader, the rest by jsonc-parser.
//!
//! ARM templates are nearly always strict JSON (most are the Bicep compiler's pretty-printed
//! output), yet jsonc-parser reads them through a tokenizer built for JSONC and JSON5 that looks at
//! every blank and string byte on its own. [`parse`] reads only strict JSON — blanks, objects with
//! string keys, arrays, strings with the short escapes, numbers, `true`, `false`, `null` — with
//! whole runs skipped at once, and builds the tree, ranges included, that `parse_to_ast` builds.
//! Anything else (comments, trailing commas, single quotes, unquoted keys, `\u` and JSON5 escapes,
//! deep nesting, any error) gives `None`: [`read`] then reads the file with jsonc-parser, so
//! its leniency and its error messages stay the only ones.

use std::borrow::Cow;

use jsonc_parser::ast::{
    Array, BooleanLit, NullKeyword, NumberLit, Object, ObjectProp, ObjectPropName, StringLit, Value,
};
use jsonc_parser::common::{Range, Ranged};
use jsonc_parser::{CollectOptions, ParseOptions};

/// The tree of `text` read as ARM JSON: strict JSON (nearly every template) by [`parse`], anything
/// else, and every error, by jsonc-parser, whose tree [`parse`] builds the same. `Ok(None)` for a
/// text with no value.
pub fn read(text: &str) -> Result<Option<Value<'_>>, jsonc_parser::errors::ParseError> {
    match parse(text) {
        Some(value) => Ok(Some(value)),
        None => jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &parse_options())
            .map(|p| p.value),
    }
}

/// How jsonc-parser reads ARM JSON: lenient like the deployment engine's JSON reader (comments,
/// trailing commas, single quotes, unquoted keys), but a missing comma is an error there, so it is
/// one here.
fn parse_options() -> ParseOptions {
    ParseOptions {
        allow_missing_commas: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_non_finite_numbers: false,
        ..ParseOptions::default()
    }
}

/// Objects and arrays nested deeper than this are left to jsonc-parser (which has its own limit,
/// 512 ranges of objects, properties and arrays: twice this depth is well below it).
const MAX_DEPTH: usize = 128;

/// The value of `text` as `jsonc_parser::parse_to_ast` would read it, if `text` is one strict JSON
/// value between blanks; `None` otherwise (then ask jsonc-parser).
pub fn parse(text: &str) -> Option<Value<'_>> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        properties: Vec::new(),
        elements: Vec::new(),
    };
    r.blanks();
    let value = r.value(0)?;
    r.blanks();
    (r.pos == r.bytes.len()).then_some(value)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the next unread byte.
    pos: usize,
    /// The properties of the objects being read, innermost last: each object's are moved into a
    /// vector of their exact length when it closes (no growing vector per object).
    properties: Vec<ObjectProp<'a>>,
    /// The same for the elements of arrays.
    elements: Vec<Value<'a>>,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips JSON's four blanks (jsonc-parser takes more, such as form feeds and Unicode spaces:
    /// those end the fast read at the next token, which then fails and falls back).
    fn blanks(&mut self) {
        loop {
            // Indentation, most of a pretty-printed template's bytes: eight spaces at a time.
            while self.bytes.get(self.pos..self.pos + 8) == Some(b"        ") {
                self.pos += 8;
            }
            match self.peek() {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.pos += 1,
                _ => return,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value<'a>> {
        match self.peek()? {
            b'{' => self.object(depth).map(Value::Object),
            b'[' => self.array(depth).map(Value::Array),
            b'"' => self.string().map(Value::StringLit),
            b't' => self
                .word("true")
                .map(|range| Value::BooleanLit(BooleanLit { range, value: true })),
            b'f' => self.word("false").map(|range| {
                Value::BooleanLit(BooleanLit {
                    range,
                    value: false,
                })
            }),
            b'n' => self
                .word("null")
                .map(|range| Value::NullKeyword(NullKeyword { range })),
            b'-' | b'0'..=b'9' => self.number().map(Value::NumberLit),
            _ => None,
        }
    }

    fn object(&mut self, depth: usize) -> Option<Object<'a>> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        self.blanks();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(Object {
                range: Range::new(start, self.pos),
                properties: Vec::new(),
            });
        }
        let first = self.properties.len();
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let name = self.string()?;
            self.blanks();
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            self.blanks();
            let value = self.value(depth + 1)?;
            self.properties.push(ObjectProp {
                range: Range::new(name.range.start, value.range().end),
                name: ObjectPropName::String(name),
                value,
            });
            self.blanks();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    self.blanks();
                }
                b'}' => break,
                _ => return None,
            }
        }
        self.pos += 1;
        Some(Object {
            range: Range::new(start, self.pos),
            properties: self.properties.drain(first..).collect(),
        })
    }

    fn array(&mut self, depth: usize) -> Option<Array<'a>> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        self.blanks();
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(Array {
                range: Range::new(start, self.pos),
                elements: Vec::new(),
            });
        }
        let first = self.elements.len();
        loop {
            let value = self.value(depth + 1)?;
            self.elements.push(value);
            self.blanks();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    self.blanks();
                }
                b']' => break,
                _ => return None,
            }
        }
        self.pos += 1;
        Some(Array {
            range: Range::new(start, self.pos),
            elements: self.elements.drain(first..).collect(),
        })
    }

    /// A double-quoted string: borrowed from the text when it has no escape (as jsonc-parser's is),
    /// else decoded.
    fn string(&mut self) -> Option<StringLit<'a>> {
        let start = self.pos;
        let body = start + 1;
        // The quote and the backslash are ASCII, never inside a multi-byte character.
        let mut at = body + memchr::memchr2(b'"', b'\\', self.bytes.get(body..)?)?;
        if self.bytes.get(at) == Some(&b'"') {
            self.pos = at + 1;
            return Some(StringLit {
                range: Range::new(start, self.pos),
                value: Cow::Borrowed(self.text.get(body..at)?),
            });
        }
        let mut decoded = String::with_capacity(at - body + 16);
        let mut run = body;
        loop {
            decoded.push_str(self.text.get(run..at)?);
            if self.bytes.get(at) == Some(&b'"') {
                self.pos = at + 1;
                return Some(StringLit {
                    range: Range::new(start, self.pos),
                    value: Cow::Owned(decoded),
                });
            }
            // A backslash: the short escapes only (`\u` has surrogate rules, JSON5 adds more).
            decoded.push(match self.bytes.get(at + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{08}',
                b'f' => '\u{0C}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                _ => return None,
            });
            run = at + 2;
            at = run + memchr::memchr2(b'"', b'\\', self.bytes.get(run..)?)?;
        }
    }

    /// `true`, `false` or `null`, ending where a token may end.
    fn word(&mut self, word: &str) -> Option<Range> {
        let start = self.pos;
        let end = start + word.len();
        if self.bytes.get(start..end)? != word.as_bytes() {
            return None;
        }
        self.pos = end;
        self.at_token_end().then(|| Range::new(start, end))
    }

    /// A number of JSON's grammar, ending where a token may end.
    fn number(&mut self) -> Option<NumberLit<'a>> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if !self.at_token_end() {
            return None;
        }
        Some(NumberLit {
            range: Range::new(start, self.pos),
            value: self.text.get(start..self.pos)?,
        })
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// Is the next byte one that may follow a word or number in strict JSON (or the end)?
    /// Anything else, such as `1x` or `truex`, is jsonc-parser's to read or reject.
    fn at_token_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(b' ' | b'\n' | b'\r' | b'\t' | b',' | b']' | b'}')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonc_parser::parse_to_ast;

    /// jsonc-parser's reading of `text` with the lowering's options, when it reads it.
    fn jsonc(text: &str) -> Option<Option<Value<'_>>> {
        parse_to_ast(text, &CollectOptions::default(), &parse_options())
            .ok()
            .map(|p| p.value)
    }

    /// The fast read of `text`, checked against jsonc-parser's whenever it reads anything.
    fn same(text: &str) -> bool {
        match parse(text) {
            Some(v) => {
                assert_eq!(jsonc(text), Some(Some(v)), "{text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn strict_json_reads_as_jsonc_parser_reads_it() {
        for text in [
            "{}",
            " [ ] ",
            "\n{\r\n\t\"a\" : 1 , \"b\":[true,false,null, -0, 0.5, 1e3, -2.5E-7, 12],\"c\":{}}\n",
            r#"{"$schema": "https://x/deploymentTemplate.json#", "resources": [{"name": "[parameters('n')]"}]}"#,
            r#"{"a": "x\"y\\z\/\b\f\n\r\t", "é": "ü€😀", "": ""}"#,
            r#"{"a": 1, "A": 2, "a": 3}"#,
            r#""just a string""#,
            "0",
            "[[[[1]]], {\"k\": [{}]}]",
            "{\"raw\nnewline\": \"tab\there\"}",
        ] {
            assert!(same(text), "not read fast: {text:?}");
        }
    }

    #[test]
    fn anything_else_is_left_to_jsonc_parser() {
        for text in [
            "",
            "   ",
            "{} {}",
            "{\"a\": 1,}",
            "[1,]",
            "{a: 1}",
            "{'a': 1}",
            "{\"a\": 1} // c",
            "/* c */ {}",
            "{\"a\" 1}",
            "{\"a\": 1 \"b\": 2}",
            "[1 2]",
            "{\"a\": \"\\u0041\"}",
            "{\"a\": \"\\x41\"}",
            "{\"a\": \"\\'\"}",
            "[01]",
            "[1.]",
            "[.5]",
            "[+1]",
            "[1e]",
            "[-]",
            "[0x1F]",
            "[truex]",
            "[NaN]",
            "[Infinity]",
            "{\"a\": \"unterminated}",
            "{\"a\": 1",
            "[1,\u{0C}2]",
            "[1,\u{a0}2]",
            "\u{feff}{}",
        ] {
            assert!(parse(text).is_none(), "read fast: {text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_jsonc_parser() {
        let shallow = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(same(&shallow));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).is_none());
    }

    /// How many `.json` files under `root` the fast reader reads (each checked against jsonc).
    fn read_tree(root: std::path::PathBuf) -> usize {
        let mut stack = vec![root];
        let mut fast = 0;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        fast += usize::from(same(text.trim_start_matches('\u{feff}')));
                    }
                }
            }
        }
        fast
    }

    #[test]
    fn fixtures_read_as_jsonc_parser_reads_them() {
        let fast = read_tree(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
        assert!(fast > 50, "only {fast} fixtures read fast");
    }

    /// Over the corpus the benchmarks read, when it is there (a clean clone has no ../shared).
    #[test]
    fn corpus_reads_as_jsonc_parser_reads_it() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        if !corpus.is_dir() {
            eprintln!("skipped: {} is absent", corpus.display());
            return;
        }
        let fast = read_tree(corpus);
        assert!(fast > 1000, "only {fast} corpus files read fast");
    }
}
