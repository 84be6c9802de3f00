//! An offset-preserving pre-pass over Bicep text: rewrites what tree-sitter-bicep 1.1 cannot parse
//! (spreads, `[^i]`, postfix `!`, rich parameter types, `extension`/`import`/`type` statements,
//! `.bicepparam` assignments) into same-length text it can, and records what it changed.
//!
//! Every rewrite replaces bytes one for one (ASCII for ASCII, spaces for anything else), so byte
//! offsets in the rewritten text are offsets in the original text.

use std::collections::{BTreeMap, BTreeSet};

/// One kind of rewrite the pre-pass makes, named after the construct it stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rewrite {
    /// `//` or `/*` inside a `'...'` string (the grammar lexes it as a comment): `/` → `x`.
    SlashInString,
    /// `/`, `#` inside a `'''...'''` string: → `x`.
    SlashInMultiline,
    /// `$'''...'''`, `$$'''...'''` (interpolated multi-line string): the `$`s blanked.
    InterpolatedMultiline,
    /// `'` inside a `'''...'''` string (`''''abc''''`): → `x`.
    QuoteInMultiline,
    /// `''''''` (empty multi-line string, a zero-width error for the grammar): → `''    `.
    EmptyMultiline,
    /// `[^i]` (index from the end): `^` blanked.
    FromEnd,
    /// `[?i]` (safe index; the grammar loses it in arrays written one item per line): `?` blanked.
    SafeIndex,
    /// `...x` in an object: → `*: x`.
    ObjectSpread,
    /// `...x` in an array: `...` blanked.
    ArraySpread,
    /// Postfix non-null `x!`: `!` blanked.
    NonNull,
    /// `param`/`output` type `T?` (nullable): → `int`.
    NullableType,
    /// `param`/`output` type `resourceInput<'...'>`, `resourceOutput<'...'>`, `resource<'...'>`.
    ResourceDerivedType,
    /// Any other `param`/`output` type the grammar lacks (user type names, unions, literals, object
    /// and array types, `a.b` imported types): → `int`.
    TypeExpression,
    /// `var x T = ...` (typed variable): the type blanked.
    VarType,
    /// `type` statement blanked.
    TypeStatement,
    /// `import` statement blanked.
    ImportStatement,
    /// `extension` / `provider` statement blanked.
    ExtensionStatement,
    /// `extensionConfig` statement blanked.
    ExtensionConfigStatement,
    /// `.bicepparam` `extends` statement blanked.
    ExtendsStatement,
    /// `.bicepparam` `using none` blanked.
    UsingNone,
    /// `.bicepparam` `using '...' with { ... }`: the `with` part blanked.
    UsingWith,
    /// `.bicepparam` `param x = v` → `var   x = v`.
    ParamAssignment,
}

impl Rewrite {
    /// Every kind, in declaration order.
    pub const ALL: [Rewrite; 22] = [
        Rewrite::SlashInString,
        Rewrite::SlashInMultiline,
        Rewrite::InterpolatedMultiline,
        Rewrite::QuoteInMultiline,
        Rewrite::EmptyMultiline,
        Rewrite::FromEnd,
        Rewrite::SafeIndex,
        Rewrite::ObjectSpread,
        Rewrite::ArraySpread,
        Rewrite::NonNull,
        Rewrite::NullableType,
        Rewrite::ResourceDerivedType,
        Rewrite::TypeExpression,
        Rewrite::VarType,
        Rewrite::TypeStatement,
        Rewrite::ImportStatement,
        Rewrite::ExtensionStatement,
        Rewrite::ExtensionConfigStatement,
        Rewrite::ExtendsStatement,
        Rewrite::UsingNone,
        Rewrite::UsingWith,
        Rewrite::ParamAssignment,
    ];

    /// A short name for tables (`object spread`, `nullable type`).
    pub fn name(self) -> &'static str {
        match self {
            Rewrite::SlashInString => "`//` in string",
            Rewrite::SlashInMultiline => "`//`, `#` in '''string'''",
            Rewrite::InterpolatedMultiline => "$'''string'''",
            Rewrite::QuoteInMultiline => "'''' quotes in '''string'''",
            Rewrite::EmptyMultiline => "empty ''''''",
            Rewrite::FromEnd => "index from end [^i]",
            Rewrite::SafeIndex => "safe index [?i]",
            Rewrite::ObjectSpread => "object spread ...",
            Rewrite::ArraySpread => "array spread ...",
            Rewrite::NonNull => "non-null x!",
            Rewrite::NullableType => "nullable type T?",
            Rewrite::ResourceDerivedType => "resourceInput<>/resourceOutput<>",
            Rewrite::TypeExpression => "other rich type",
            Rewrite::VarType => "typed var",
            Rewrite::TypeStatement => "type statement",
            Rewrite::ImportStatement => "import statement",
            Rewrite::ExtensionStatement => "extension statement",
            Rewrite::ExtensionConfigStatement => "extensionConfig",
            Rewrite::ExtendsStatement => "extends",
            Rewrite::UsingNone => "using none",
            Rewrite::UsingWith => "using ... with",
            Rewrite::ParamAssignment => "param assignment",
        }
    }
}

/// A `#...` directive line found in code (not in strings or comments).
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    /// Byte offset of `#`.
    pub start: usize,
    /// Byte offset of the end of the directive (before the line break).
    pub end: usize,
}

/// The type written after a `param`/`output` name, kept from the original text.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRegion {
    pub start: usize,
    pub end: usize,
}

/// The rewritten text and what the rewrites stand for.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Same length as the original, with rewrites applied.
    pub text: String,
    /// Offset of the expression after `...` → offset of the first `.` (arrays and objects).
    pub spreads: BTreeMap<usize, usize>,
    /// Offsets of `[` whose index is written `[^i]` / `[?^i]`.
    pub from_end: BTreeSet<usize>,
    /// Offsets of `[` whose index is written `[?i]` (the `?` blanked).
    pub safe_index: BTreeSet<usize>,
    /// Offsets of postfix non-null `!` that were blanked.
    pub bangs: BTreeSet<usize>,
    /// `#` directive lines in code.
    pub directives: Vec<Directive>,
    /// Declaration keyword offset → type region (for `param` and `output`).
    pub types: BTreeMap<usize, TypeRegion>,
    /// Statements blanked out (`extension`, `import`, `type`), as byte ranges.
    pub blanked: Vec<(usize, usize)>,
    /// Offsets of `param` keywords rewritten to `var` (`.bicepparam` assignments).
    pub assignments: BTreeSet<usize>,
    /// `using none` was seen (and blanked), at this range.
    pub using_none: Option<(usize, usize)>,
    /// How many rewrites of each kind were made.
    pub rewrites: BTreeMap<Rewrite, usize>,
    /// Where top-level statements start (their first decorator, else their keyword), in order;
    /// the parser reads each stretch between two of them on its own.
    pub statements: Vec<usize>,
}

/// Keywords that start a top-level statement.
const STATEMENT_KEYWORDS: [&str; 17] = [
    "param",
    "var",
    "resource",
    "module",
    "output",
    "type",
    "func",
    "import",
    "targetScope",
    "metadata",
    "extension",
    "provider",
    "using",
    "extends",
    "extensionConfig",
    "assert",
    "test",
];

/// The output buffer, with the kinds of rewrite that are switched off and a count of those made.
struct Out<'s> {
    bytes: Vec<u8>,
    skip: &'s [Rewrite],
    counts: BTreeMap<Rewrite, usize>,
}

impl Out<'_> {
    /// Whether `kind` is switched on; counts one rewrite of that kind when it is.
    fn allow(&mut self, kind: Rewrite) -> bool {
        if self.skip.contains(&kind) {
            return false;
        }
        *self.counts.entry(kind).or_default() += 1;
        true
    }

    /// Writes `with` at `at` (no check, no count).
    fn put(&mut self, at: usize, with: &[u8]) {
        for (k, r) in with.iter().enumerate() {
            if let Some(o) = self.bytes.get_mut(at + k) {
                *o = *r;
            }
        }
    }

    /// Replaces `start..end` with spaces, keeping line breaks (no check, no count).
    fn blank(&mut self, start: usize, end: usize) {
        for o in self.bytes.iter_mut().take(end).skip(start) {
            if *o != b'\n' && *o != b'\r' {
                *o = b' ';
            }
        }
    }
}

/// What the current statement at depth 0 is collecting.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pending {
    None,
    /// Blank from this offset to the end of the statement (a rewrite of this kind).
    Blank(usize, Rewrite),
    /// `param`/`output`/`var` type region starting here, for the declaration at `decl`.
    Type {
        decl: usize,
        start: usize,
        var: bool,
    },
}

const PRIMITIVES: [&str; 7] = [
    "string",
    "int",
    "bool",
    "object",
    "array",
    "secureString",
    "secureObject",
];

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Rewrites `src` (see the module docs). `params_file` turns `param x = v` into `var   x = v`.
pub fn prepare(src: &str, params_file: bool) -> Prepared {
    prepare_with(src, params_file, &[])
}

/// [`prepare`] with the rewrites of the kinds in `skip` left out (to measure what each one fixes).
pub fn prepare_with(src: &str, params_file: bool, skip: &[Rewrite]) -> Prepared {
    let bytes = src.as_bytes();
    let mut out = Out {
        bytes: bytes.to_vec(),
        skip,
        counts: BTreeMap::new(),
    };
    let mut p = Prepared::default();
    // Open brackets in code: b'{', b'[', b'(' or b'$' for `${` inside a string.
    let mut stack: Vec<u8> = Vec::new();
    let mut in_string = false;
    let mut line_start = true;
    let mut pending = Pending::None;
    // In a `func` statement (its parameter and return types are not rewritten as a whole).
    let mut in_func = false;
    // The first of the decorators read since the last statement keyword.
    let mut decorator_start: Option<usize> = None;
    let len = bytes.len();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    // A byte order mark is not part of the first line.
    let mut i = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    // Bounded: every iteration advances `i` by at least one.
    while i < len {
        let c = at(i);
        if in_string {
            match c {
                b'\\' => i += 2,
                b'\'' => {
                    in_string = false;
                    i += 1;
                }
                b'/' => {
                    // tree-sitter-bicep lexes `//` inside a string as a comment; string values
                    // are read from the original text, so the rewrite is harmless.
                    if matches!(at(i + 1), b'/' | b'*') && out.allow(Rewrite::SlashInString) {
                        out.put(i, b"x");
                    }
                    i += 1;
                }
                b'$' if at(i + 1) == b'{' => {
                    stack.push(b'$');
                    in_string = false;
                    i += 2;
                }
                _ => i += 1,
            }
            continue;
        }
        // Code.
        if c == b'\n' {
            if stack.is_empty() && !continues(bytes, i) {
                finish_pending(&mut pending, i, bytes, &mut out, &mut p);
            }
            line_start = true;
            i += 1;
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
            continue;
        }
        let was_line_start = line_start;
        line_start = false;
        if c == b'/' && at(i + 1) == b'/' {
            while i < len && at(i) != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && at(i + 1) == b'*' {
            i += 2;
            while i < len && !(at(i) == b'*' && at(i + 1) == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == b'$' {
            // `$'''...'''`, `$$'''...'''` (interpolated multi-line string): parsed as a plain
            // multi-line string.
            let mut j = i;
            while at(j) == b'$' {
                j += 1;
            }
            if at(j) == b'\'' && at(j + 1) == b'\'' && at(j + 2) == b'\'' {
                if out.allow(Rewrite::InterpolatedMultiline) {
                    out.blank(i, j);
                }
                i = j;
                continue;
            }
        }
        if c == b'\'' && at(i + 1) == b'\'' && at(i + 2) == b'\'' {
            let empty = at(i + 3) == b'\''
                && at(i + 4) == b'\''
                && at(i + 5) == b'\''
                && at(i + 6) != b'\'';
            if empty && out.allow(Rewrite::EmptyMultiline) {
                // An empty single-line string (values come from the original text).
                out.put(i + 2, b"    ");
                i += 6;
                continue;
            }
            i += 3;
            // The string ends with the last three quotes of the first run of three or more.
            while i < len
                && !(at(i) == b'\''
                    && at(i + 1) == b'\''
                    && at(i + 2) == b'\''
                    && at(i + 3) != b'\'')
            {
                // As in single-line strings: no comments inside (values come from the original).
                let comment = at(i) == b'#' || (at(i) == b'/' && matches!(at(i + 1), b'/' | b'*'));
                if comment && out.allow(Rewrite::SlashInMultiline) {
                    out.put(i, b"x");
                }
                if at(i) == b'\'' && out.allow(Rewrite::QuoteInMultiline) {
                    out.put(i, b"x");
                }
                i += 1;
            }
            i += 3;
            continue;
        }
        if c == b'\'' {
            in_string = true;
            i += 1;
            continue;
        }
        if c == b'#' && was_line_start {
            let start = i;
            while i < len && at(i) != b'\n' {
                i += 1;
            }
            let mut end = i;
            while end > start && at(end - 1) == b'\r' {
                end -= 1;
            }
            p.directives.push(Directive { start, end });
            continue;
        }
        match c {
            b'{' | b'[' | b'(' => {
                if c == b'[' {
                    // `[^i]` or `[?^i]`
                    let mut j = i + 1;
                    while matches!(at(j), b' ' | b'\t') {
                        j += 1;
                    }
                    if at(j) == b'?' {
                        if out.allow(Rewrite::SafeIndex) {
                            out.put(j, b" ");
                            p.safe_index.insert(i);
                        }
                        j += 1;
                        while matches!(at(j), b' ' | b'\t') {
                            j += 1;
                        }
                    }
                    if at(j) == b'^' && out.allow(Rewrite::FromEnd) {
                        out.put(j, b" ");
                        p.from_end.insert(i);
                    }
                }
                stack.push(c);
                i += 1;
            }
            // A closer with nothing open: a statement of its own, so that error recovery over
            // many of them stays linear (tree-sitter's recovery over one long stretch is not).
            b'}' | b']' | b')' if stack.is_empty() => {
                if p.statements.last().is_none_or(|last| *last < i) {
                    p.statements.push(i);
                }
                i += 1;
            }
            b'}' => {
                if stack.last() == Some(&b'<') {
                    stack.pop();
                }
                if stack.pop() == Some(b'$') {
                    in_string = true;
                }
                i += 1;
            }
            b']' | b')' => {
                if stack.last() == Some(&b'<') {
                    stack.pop();
                }
                stack.pop();
                i += 1;
            }
            // `resourceInput<` … `>` may span lines: track it like a bracket.
            b'<' if follows_resource_type(bytes, i) => {
                stack.push(b'<');
                i += 1;
            }
            b'>' if stack.last() == Some(&b'<') => {
                stack.pop();
                i += 1;
            }
            b'.' if at(i + 1) == b'.' && at(i + 2) == b'.' => {
                let mut j = i + 3;
                while matches!(at(j), b' ' | b'\t' | b'\r' | b'\n') {
                    j += 1;
                }
                match stack.last() {
                    Some(b'{') if out.allow(Rewrite::ObjectSpread) => {
                        out.put(i, b"*: ");
                        p.spreads.insert(j, i);
                    }
                    Some(b'[') if out.allow(Rewrite::ArraySpread) => {
                        out.put(i, b"   ");
                        p.spreads.insert(j, i);
                    }
                    _ => {}
                }
                i += 3;
            }
            b'!' => {
                let prev = if i > 0 { at(i - 1) } else { 0 };
                let next = at(i + 1);
                if (is_ident_byte(prev) || prev == b')' || prev == b']')
                    && next != b'='
                    && next != b'~'
                    && out.allow(Rewrite::NonNull)
                {
                    out.put(i, b" ");
                    p.bangs.insert(i);
                }
                i += 1;
            }
            b'=' if stack.is_empty() => {
                if let Pending::Type { decl, start, var } = pending {
                    let next = at(i + 1);
                    if next != b'=' && next != b'>' && next != b'~' {
                        pending = Pending::None;
                        close_type(decl, start, i, var, bytes, &mut out, &mut p);
                    }
                }
                i += 1;
            }
            _ if was_line_start && stack.is_empty() && c.is_ascii_alphabetic() => {
                let ws = i;
                while i < len && is_ident_byte(at(i)) {
                    i += 1;
                }
                let word = src.get(ws..i).unwrap_or("");
                if STATEMENT_KEYWORDS.contains(&word) {
                    let start = decorator_start.take().unwrap_or(ws);
                    if p.statements.last().is_none_or(|last| *last < start) {
                        p.statements.push(start);
                    }
                }
                finish_pending(&mut pending, ws, bytes, &mut out, &mut p);
                in_func = word == "func";
                pending = start_statement(word, ws, i, bytes, params_file, &mut out, &mut p);
                if let Pending::Type { start, .. } = pending {
                    i = start;
                }
            }
            b'@' if was_line_start && stack.is_empty() => {
                decorator_start.get_or_insert(i);
                i += 1;
            }
            b'r' if in_func && (i == 0 || !is_ident_byte(at(i - 1))) => {
                match resource_type_end(bytes, i) {
                    Some(end) if out.allow(Rewrite::ResourceDerivedType) => {
                        // `resourceInput<'t@v'>.a.b` as a parameter or return type → `object`.
                        let start = if i >= 4 && bytes.get(i - 4..i) == Some(b"sys.") {
                            i - 4
                        } else {
                            i
                        };
                        out.blank(start, end);
                        out.put(start, b"object");
                        i = end;
                    }
                    _ => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    finish_pending(&mut pending, len, bytes, &mut out, &mut p);
    p.rewrites = out.counts;
    p.text = String::from_utf8(out.bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    p
}

/// Whether the `<` at `lt` follows `resourceInput` or `resourceOutput` (blanks in between).
fn follows_resource_type(bytes: &[u8], lt: usize) -> bool {
    let mut end = lt;
    while end > 0 && matches!(bytes.get(end - 1), Some(b' ' | b'\t')) {
        end -= 1;
    }
    let before = bytes.get(..end).unwrap_or(&[]);
    [&b"resourceInput"[..], &b"resourceOutput"[..]]
        .iter()
        .any(|w| before.ends_with(w))
}

/// The end of a resource-derived type starting at `i` (`resourceInput<'t@v'>`, `resourceOutput<…>`,
/// with a `.name` / `[*]` path after it), or `None` if none starts there.
fn resource_type_end(bytes: &[u8], i: usize) -> Option<usize> {
    let at = |k: usize| bytes.get(k).copied().unwrap_or(0);
    let word_end = [&b"resourceInput"[..], &b"resourceOutput"[..]]
        .into_iter()
        .find(|w| bytes.get(i..i + w.len()) == Some(*w))
        .map(|w| i + w.len())?;
    let mut j = word_end;
    while matches!(at(j), b' ' | b'\t') {
        j += 1;
    }
    if at(j) != b'<' {
        return None;
    }
    // To the `>`, skipping strings, comments and line breaks; bounded by the text.
    j += 1;
    loop {
        match at(j) {
            0 => return None,
            b'>' => break,
            b'\'' => {
                j += 1;
                while !matches!(at(j), 0 | b'\'' | b'\n') {
                    j += 1;
                }
            }
            b'/' if at(j + 1) == b'*' => {
                j += 2;
                while at(j) != 0 && !(at(j) == b'*' && at(j + 1) == b'/') {
                    j += 1;
                }
                j += 1;
            }
            _ => {}
        }
        j += 1;
    }
    j += 1;
    // `.name`, `[*]` path.
    loop {
        if at(j) == b'.' && (at(j + 1).is_ascii_alphabetic() || at(j + 1) == b'_') {
            j += 1;
            while is_ident_byte(at(j)) {
                j += 1;
            }
        } else if at(j) == b'[' && at(j + 1) == b'*' && at(j + 2) == b']' {
            j += 3;
        } else {
            return Some(j);
        }
    }
}

/// Whether the line after the line break at `nl` continues the statement (it starts with `|`, `?`,
/// `:`, `.`, `&` or `+`, as multi-line union types and conditional expressions do).
fn continues(bytes: &[u8], nl: usize) -> bool {
    let next = bytes
        .iter()
        .skip(nl + 1)
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    matches!(next, Some(b'|' | b'?' | b':' | b'.' | b'&' | b'+'))
}

/// Decides what a statement starting with `word` (at `ws`..`we`) needs.
fn start_statement(
    word: &str,
    ws: usize,
    we: usize,
    bytes: &[u8],
    params_file: bool,
    out: &mut Out,
    p: &mut Prepared,
) -> Pending {
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    match word {
        "extension" | "provider" => Pending::Blank(ws, Rewrite::ExtensionStatement),
        "import" => Pending::Blank(ws, Rewrite::ImportStatement),
        "type" => Pending::Blank(ws, Rewrite::TypeStatement),
        "extends" => Pending::Blank(ws, Rewrite::ExtendsStatement),
        "extensionConfig" => Pending::Blank(ws, Rewrite::ExtensionConfigStatement),
        "using" => {
            let mut j = we;
            while matches!(at(j), b' ' | b'\t') {
                j += 1;
            }
            if bytes.get(j..j + 4) == Some(b"none") && !is_ident_byte(at(j + 4)) {
                p.using_none = Some((ws, j + 4));
                return Pending::Blank(ws, Rewrite::UsingNone);
            }
            // `using 'x' with { ... }`: keep `using 'x'`, blank the rest.
            if at(j) == b'\'' {
                j += 1;
                while j < bytes.len() && at(j) != b'\'' && at(j) != b'\n' {
                    j += 1;
                }
                j += 1;
                while matches!(at(j), b' ' | b'\t') {
                    j += 1;
                }
                if bytes.get(j..j + 4) == Some(b"with") && !is_ident_byte(at(j + 4)) {
                    return Pending::Blank(j, Rewrite::UsingWith);
                }
            }
            Pending::None
        }
        "param" | "output" | "var" => {
            // Skip the name.
            let mut j = we;
            while matches!(at(j), b' ' | b'\t') {
                j += 1;
            }
            if !(at(j).is_ascii_alphabetic() || at(j) == b'_') {
                return Pending::None;
            }
            while is_ident_byte(at(j)) {
                j += 1;
            }
            let mut k = j;
            while matches!(at(k), b' ' | b'\t') {
                k += 1;
            }
            if word == "param" && params_file && at(k) == b'=' && at(k + 1) != b'=' {
                // `param x = v` → `var   x = v`
                if out.allow(Rewrite::ParamAssignment) {
                    out.put(ws, b"var  ");
                    p.assignments.insert(ws);
                }
                return Pending::None;
            }
            Pending::Type {
                decl: ws,
                start: j,
                var: word == "var",
            }
        }
        _ => Pending::None,
    }
}

/// Ends the statement-level rewrite in progress at `end` (a line break or `=` at depth 0).
fn finish_pending(
    pending: &mut Pending,
    end: usize,
    bytes: &[u8],
    out: &mut Out,
    p: &mut Prepared,
) {
    match *pending {
        Pending::None => {}
        Pending::Blank(start, kind) => {
            if out.allow(kind) {
                out.blank(start, end);
                p.blanked.push((start, end));
            }
        }
        Pending::Type { decl, start, var } => close_type(decl, start, end, var, bytes, out, p),
    }
    *pending = Pending::None;
}

/// Records the type region `start..end` of the declaration at `decl` and rewrites it to a type the
/// grammar accepts (`var` types are blanked: the grammar has no typed variables).
fn close_type(
    decl: usize,
    start: usize,
    end: usize,
    var: bool,
    bytes: &[u8],
    out: &mut Out,
    p: &mut Prepared,
) {
    let region = bytes.get(start..end).unwrap_or(&[]);
    let Some(first) = region.iter().position(|b| !b.is_ascii_whitespace()) else {
        return;
    };
    let last = region
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .unwrap_or(first);
    let (ts, te) = (start + first, start + last + 1);
    if var {
        if out.allow(Rewrite::VarType) {
            out.blank(ts, te);
        }
        return;
    }
    p.types.insert(decl, TypeRegion { start: ts, end: te });
    let text = std::str::from_utf8(bytes.get(ts..te).unwrap_or(&[])).unwrap_or("");
    if PRIMITIVES.contains(&text) || te - ts < 3 {
        return;
    }
    let kind = if text.starts_with("resource") && text.contains('<') {
        Rewrite::ResourceDerivedType
    } else if text.ends_with('?') {
        Rewrite::NullableType
    } else {
        Rewrite::TypeExpression
    };
    if out.allow(kind) {
        out.blank(ts, te);
        out.put(ts, b"int");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_keep_length_and_record_positions() {
        let src = "param a lockType?\nvar x = {\n  ...y\n}\nvar z = [\n  ...w\n]\nvar q = a[^1]!\n";
        let p = prepare(src, false);
        assert_eq!(p.text.len(), src.len());
        assert!(p.text.starts_with("param a int      \n"));
        assert!(p.text.contains("*: y"));
        assert!(p.text.contains("   w"));
        assert_eq!(p.from_end.len(), 1);
        assert_eq!(p.bangs.len(), 1);
        assert_eq!(p.spreads.len(), 2);
        let t = p
            .types
            .values()
            .next()
            .map(|r| src.get(r.start..r.end).unwrap());
        assert_eq!(t, Some("lockType?"));
    }

    #[test]
    fn strings_and_comments_are_left_alone() {
        let src = "var a = 'x!y...${b!}' // c!\n#disable-next-line foo\nvar b = '''\n#x\n'''\n";
        let p = prepare(src, false);
        assert_eq!(p.bangs.len(), 1);
        assert!(p.spreads.is_empty());
        assert_eq!(p.directives.len(), 1);
    }

    #[test]
    fn params_file_assignments_and_using_none() {
        let src = "using none\nparam a = 1\n";
        let p = prepare(src, true);
        assert_eq!(p.text, "          \nvar   a = 1\n");
        assert!(p.using_none.is_some());
        assert_eq!(p.assignments.len(), 1);
    }
}
