//! The one scanner of `{placeholders}` in symbolic text (`/subscriptions/{subscriptionId}/…`).
//! Placeholders nest: `{uniqueString(/subscriptions/{subscriptionId})}` is one placeholder. A `}`
//! with no open placeholder is text.

/// The byte length of the placeholder `text` starts with (its braces included); `None` when
/// `text` does not start with `{` or the placeholder is not closed.
pub fn placeholder_len(text: &str) -> Option<usize> {
    if !text.starts_with('{') {
        return None;
    }
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The byte offsets of `sep` in `text` outside placeholders.
pub fn top_level(text: &str, sep: char) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    // An ASCII separator (every caller's `/`): only the three bytes that matter are visited, found
    // by `memchr3` (an ASCII byte in UTF-8 is always that character). Ids are split so for every
    // parent and reference of every resource.
    if let Ok(sep) = u8::try_from(sep) {
        if sep.is_ascii() {
            for i in memchr::memchr3_iter(b'{', b'}', sep, text.as_bytes()) {
                match text.as_bytes().get(i) {
                    Some(b'{') => depth += 1,
                    Some(b'}') => depth = depth.saturating_sub(1),
                    _ if depth == 0 => out.push(i),
                    _ => {}
                }
            }
            return out;
        }
    }
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => out.push(i),
            _ => {}
        }
    }
    out
}

/// `text` split at `sep` outside placeholders.
pub fn segments(text: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in top_level(text, sep) {
        out.push(text.get(start..i).unwrap_or(""));
        start = i + sep.len_utf8();
    }
    out.push(text.get(start..).unwrap_or(""));
    out
}

/// The runs of `text` outside placeholders (an unclosed placeholder runs to the end).
pub fn literal_parts(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '{' => {
                if depth == 0 {
                    parts.push(text.get(start..i).unwrap_or(""));
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    start = i + 1;
                }
            }
            _ => {}
        }
    }
    if depth == 0 {
        parts.push(text.get(start..).unwrap_or(""));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_placeholders_are_one() {
        let id = "/subscriptions/{subscriptionId}/x/{uniqueString(/a/{b})}-n";
        assert_eq!(
            segments(id, '/'),
            [
                "",
                "subscriptions",
                "{subscriptionId}",
                "x",
                "{uniqueString(/a/{b})}-n"
            ]
        );
        assert_eq!(placeholder_len("{a{b}c}d"), Some(7));
        assert_eq!(placeholder_len("{a"), None);
        assert_eq!(placeholder_len("a{b}"), None);
        assert_eq!(literal_parts("a{b{c}}d}e{f"), ["a", "d}e"]);
        assert_eq!(top_level("a}/b", '/'), [2]);
    }

    #[test]
    fn byte_offsets_past_other_characters() {
        // The ASCII separator's way and the other one's agree on offsets past multibyte text.
        assert_eq!(top_level("é/{ü/x}/ß", '/'), [2, 9]);
        assert_eq!(top_level("a→b{→}→c", '→'), [1, 10]);
    }
}
