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

/// Per ASCII byte: 0 = keep, 1 = whitespace, 2 = punctuation.
const ASCII_CLASS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
            1
        } else if c.is_ascii_punctuation() {
            2
        } else {
            0
        };
        b += 1;
    }
    table
};

/// The ASCII fast path of [`normalize`] (NFKC is the identity on ASCII): separator runs are
/// found with one table lookup per byte, word runs are copied (lowercased) in bulk.
fn normalize_ascii(text: &str, options: NormalizeOptions) -> String {
    let bytes = text.as_bytes();
    let is_separator = |b: u8| {
        let class = ASCII_CLASS[b as usize];
        class == 1 || (class == 2 && options.strip_punctuation)
    };
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_separator(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !is_separator(bytes[i]) {
            i += 1;
        }
        if start == i {
            break;
        }
        if !out.is_empty() {
            out.push(b' ');
        }
        let word = &bytes[start..i];
        if options.lowercase {
            out.extend(word.iter().map(u8::to_ascii_lowercase));
        } else {
            out.extend_from_slice(word);
        }
    }
    String::from_utf8(out).expect("ASCII in, ASCII out")
}

/// Normalize `text`: optional NFKC, lowercase and punctuation stripping, then whitespace runs
/// to single spaces, trimmed. O(bytes); ASCII text takes a byte-level fast path.
pub fn normalize(text: &str, options: NormalizeOptions) -> String {
    if text.is_ascii() {
        return normalize_ascii(text, options);
    }
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
    let already_nfkc = matches!(
        unicode_normalization::is_nfkc_quick(text.chars()),
        unicode_normalization::IsNormalized::Yes
    );
    if options.nfkc && !already_nfkc {
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
    use proptest::prelude::*;

    /// The general path, forced (for comparing with the fast path).
    fn general(text: &str, options: NormalizeOptions) -> String {
        let mut with_marker = String::from(text);
        with_marker.push('é');
        let out = normalize(&with_marker, options);
        out.trim_end_matches(['é', 'É']).trim_end().to_string()
    }

    proptest! {
        #[test]
        fn ascii_fast_path_equals_the_general_path(text in "[\\x00-\\x7f]{0,40}", lower: bool, punct: bool) {
            let options = NormalizeOptions { nfkc: true, lowercase: lower, strip_punctuation: punct };
            prop_assert_eq!(normalize(&text, options), general(&text, options));
        }
    }

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
