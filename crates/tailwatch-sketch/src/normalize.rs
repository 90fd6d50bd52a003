//! Text normalization before hashing, so that trivially different copies hash the same.
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// What [`normalize`] folds. Whitespace runs always collapse to one space (and the ends are
/// trimmed), so word shingles are well defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NormalizeOptions {
    /// Unicode NFKC: compatibility characters (ligatures, full-width forms, superscripts) fold to
    /// their plain forms and composed/decomposed accents agree.
    pub nfkc: bool,
    /// Unicode lowercase.
    pub lowercase: bool,
    /// Drop punctuation and symbols (Unicode general categories P* and S*), keeping letters,
    /// digits, marks and whitespace.
    pub strip_punctuation: bool,
}

impl Default for NormalizeOptions {
    /// NFKC, lowercase and punctuation stripping: datatrove's and text-dedup's defaults.
    fn default() -> Self {
        Self { nfkc: true, lowercase: true, strip_punctuation: true }
    }
}

fn is_punctuation_or_symbol(c: char) -> bool {
    // ASCII fast path; elsewhere, anything that is neither alphanumeric, a mark nor whitespace.
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    !(c.is_alphanumeric() || c.is_whitespace() || unicode_mark(c))
}

/// Combining marks (Mn, Mc, Me) are kept: they are part of words in many scripts.
fn unicode_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

/// Normalize `text`: optional NFKC, lowercase and punctuation stripping, then whitespace runs
/// to single spaces, trimmed. O(bytes).
pub fn normalize(text: &str, options: NormalizeOptions) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut push = |c: char, out: &mut String| {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            return;
        }
        if options.strip_punctuation && is_punctuation_or_symbol(c) {
            // punctuation separates words like a space would ("a,b" → "a b")
            pending_space = !out.is_empty();
            return;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if options.lowercase {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    };
    if options.nfkc {
        for c in text.nfkc() {
            push(c, &mut out);
        }
    } else {
        for c in text.chars() {
            push(c, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_width_punctuation_and_whitespace() {
        let d = NormalizeOptions::default();
        assert_eq!(normalize("  Hello,\tWORLD!!  ", d), "hello world");
        assert_eq!(normalize("ｆｕｌｌ－ｗｉｄｔｈ ﬁne", d), "full width fine");
        assert_eq!(normalize("Cafe\u{301} café", d), "café café");
        assert_eq!(normalize("a,b;c", d), "a b c");
        assert_eq!(normalize("", d), "");
        assert_eq!(normalize(" \n\t ", d), "");
        let keep = NormalizeOptions { nfkc: false, lowercase: false, strip_punctuation: false };
        assert_eq!(normalize("  A,  b ", keep), "A, b");
    }
}
