//! Control characters (ESC, BEL, bidirectional overrides) from templates and file names are shown
//! escaped in human-facing output, so a template can't retitle, clear or reorder a terminal.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls other than a line feed and a tab,
/// DEL, and the bidirectional embedding, override and isolate marks.
pub fn is_hostile(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every [`is_hostile`] character written as `\u{1b}`; borrowed when there is none.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hostile(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_and_bidi_marks() {
        assert_eq!(
            escape_controls("a\u{1b}]0;x\u{7}b\u{202e}c\r"),
            "a\\u{1b}]0;x\\u{7}b\\u{202e}c\\u{d}"
        );
        assert!(matches!(
            escape_controls("plain\ttext\nnext"),
            Cow::Borrowed(_)
        ));
    }
}
