//! The terse alias text of `data/aliases.txt` (written by `scripts/gen-aliases.py`): finding its
//! type and `!` lines, decoding one type's alias lines, and the longest-type-prefix lookup.
//!
//! Shared with `build.rs` (included there by path, so it names nothing of the crate), which
//! indexes the text and resolves the aliases of the built-in policies when the binary is built:
//! the alias table and the build give the same answers because they run the same code.

/// One `T` line: the type as written and the byte range of its alias lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeBlock<'t> {
    pub written: &'t str,
    pub start: usize,
    pub end: usize,
}

/// One `!` line, an alias not named after its type: the type it is listed under, the alias, its
/// path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unnamed<'t> {
    pub type_written: &'t str,
    pub alias: &'t str,
    pub path: &'t str,
}

/// Every `T` line of `text`, in text order, and every `!` line that follows a `T` line.
pub fn index(text: &str) -> (Vec<TypeBlock<'_>>, Vec<Unnamed<'_>>) {
    let mut types: Vec<TypeBlock<'_>> = Vec::new();
    let mut unnamed = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(written) = line.strip_prefix('T') {
            if let Some(last) = types.last_mut() {
                last.end = line_start;
            }
            types.push(TypeBlock {
                written,
                start: offset,
                end: text.len(),
            });
        } else if let Some(rest) = line.strip_prefix('!') {
            if let (Some((alias, path)), Some(current)) = (rest.split_once('\t'), types.last()) {
                unnamed.push(Unnamed {
                    type_written: current.written,
                    alias,
                    path,
                });
            }
        }
    }
    (types, unnamed)
}

/// Decodes one type's alias lines (`rtype` as written): `add(lowercase alias, path)` for each.
pub fn parse_block(rtype: &str, text: &str, mut add: impl FnMut(String, String)) {
    let mut prev = String::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let (head, extra) = match line.split_once('\t') {
            Some((h, e)) => (h, Some(e)),
            None => (line, None),
        };
        let Some((shared, rest)) = decode_shared(head) else {
            continue;
        };
        let mut chars = rest.chars();
        let Some(code) = chars.next() else {
            continue;
        };
        // The first `shared` characters of the previous alias, then the rest of this line.
        let kept = prev
            .char_indices()
            .nth(shared)
            .map_or(prev.len(), |(i, _)| i);
        let mut suffix = String::with_capacity(kept + chars.as_str().len());
        suffix.push_str(prev.get(..kept).unwrap_or(""));
        suffix.push_str(chars.as_str());
        let path = match (code, extra) {
            ('p', _) => Some(format!("properties.{suffix}")),
            ('q', _) => Some(format!(
                "properties.{}",
                suffix.replace("[*].", "[*].properties.")
            )),
            ('r', _) => Some(suffix.clone()),
            ('m', Some(mask)) => Some(apply_mask(mask, &suffix)),
            ('=', Some(path)) => Some(path.to_string()),
            _ => None,
        };
        if let Some(path) = path {
            let mut key = String::with_capacity(rtype.len() + 1 + suffix.len());
            key.push_str(rtype);
            key.push('/');
            key.push_str(&suffix);
            key.make_ascii_lowercase();
            add(key, path);
        }
        prev = suffix;
    }
}

fn decode_shared(head: &str) -> Option<(usize, &str)> {
    if let Some(rest) = head.strip_prefix('~') {
        let (num, rest) = rest.split_once('~')?;
        return Some((num.parse().ok()?, rest));
    }
    let c = head.chars().next()?;
    let n = c.to_digit(36)? as usize;
    Some((n, head.get(c.len_utf8()..)?))
}

fn apply_mask(mask: &str, suffix: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut codes = mask.chars().peekable();
    if codes.peek() == Some(&'P') {
        out.push("properties");
        codes.next();
    }
    for (seg, code) in suffix.split('.').zip(codes) {
        match code {
            '1' => out.push(seg),
            '2' => {
                out.push(seg);
                out.push("properties");
            }
            _ => {}
        }
    }
    out.join(".")
}

/// The path of the lowercase alias `lower` in the type blocks: `find(type, alias)` looks it up
/// among one lowercase type's aliases; every type prefix of the alias is tried, longest first
/// (child aliases may be listed under the parent).
pub fn lookup_by_prefix<'a>(
    lower: &str,
    mut find: impl FnMut(&str, &str) -> Option<&'a str>,
) -> Option<&'a str> {
    let cuts: Vec<usize> = lower.match_indices('/').map(|(i, _)| i).collect();
    cuts.iter()
        .rev()
        .find_map(|&i| find(lower.get(..i).unwrap_or(""), lower))
}

/// The strings of a JSON text that may name an alias (`Namespace.Provider/type/a[*].b`): every
/// string shaped like one, and every `'…'` literal shaped like one inside a string (a
/// `field('…')` call in an expression). Read without a JSON parser; a string missed here is only
/// looked up the slower way.
pub fn alias_candidates(json: &str) -> Vec<String> {
    fn alias_shaped(s: &str) -> bool {
        s.contains('/')
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/[]*-".contains(c))
    }
    let mut out = Vec::new();
    let mut rest = json;
    while let Some(open) = rest.find('"') {
        let after = rest.get(open + 1..).unwrap_or("");
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else {
            break;
        };
        let s = after.get(..end).unwrap_or("");
        if alias_shaped(s) {
            out.push(s.to_string());
        }
        for (i, part) in s.split('\'').enumerate() {
            if i % 2 == 1 && alias_shaped(part) {
                out.push(part.to_string());
            }
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "# header\nTA.B/c\n0pname\n4p.first\n!A.B/x\tproperties.y\nTA.B/c/d\n0rsku.name\n";

    #[test]
    fn the_index_finds_type_blocks_and_unnamed_aliases() {
        let (types, unnamed) = index(TEXT);
        assert_eq!(types.len(), 2);
        assert_eq!(types[0].written, "A.B/c");
        assert_eq!(
            TEXT.get(types[0].start..types[0].end),
            Some("0pname\n4p.first\n!A.B/x\tproperties.y\n")
        );
        assert_eq!(types[1].written, "A.B/c/d");
        assert_eq!(TEXT.get(types[1].start..types[1].end), Some("0rsku.name\n"));
        assert_eq!(
            unnamed,
            vec![Unnamed {
                type_written: "A.B/c",
                alias: "A.B/x",
                path: "properties.y"
            }]
        );
    }

    #[test]
    fn blocks_decode_front_coded_lines() {
        let (types, _) = index(TEXT);
        let mut got = Vec::new();
        parse_block(
            types[0].written,
            TEXT.get(types[0].start..types[0].end).unwrap(),
            |k, p| got.push((k, p)),
        );
        assert_eq!(
            got,
            vec![
                ("a.b/c/name".to_string(), "properties.name".to_string()),
                (
                    "a.b/c/name.first".to_string(),
                    "properties.name.first".to_string()
                )
            ]
        );
    }

    #[test]
    fn lookup_tries_the_longest_type_first() {
        let find = |t: &str, a: &str| match (t, a) {
            ("a/b", _) => Some("short"),
            ("a/b/c", "a/b/c/d") => Some("long"),
            _ => None,
        };
        assert_eq!(lookup_by_prefix("a/b/c/d", find), Some("long"));
        assert_eq!(lookup_by_prefix("a/b/x/d", find), Some("short"));
        assert_eq!(lookup_by_prefix("z/y", find), None);
    }

    #[test]
    fn candidates_are_strings_and_quoted_literals_with_a_slash() {
        let json = r#"{"field": "A.B/c/x", "value": "[field('A.B/c/y')]", "n": "plain/text here", "e": "a\"b/c", "x": "a/b"}"#;
        assert_eq!(alias_candidates(json), vec!["A.B/c/x", "A.B/c/y", "a/b"]);
    }
}
