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

/// Marks a separator in [`ASCII_MAPS`] (never an ASCII output byte).
const SEPARATOR: u8 = 0x80;

/// Per ASCII byte and `(lowercase, strip_punctuation)`: the output byte, or [`SEPARATOR`].
const ASCII_MAPS: [[u8; 128]; 4] = {
    let mut maps = [[0u8; 128]; 4];
    let mut variant = 0;
    while variant < 4 {
        let (lowercase, strip) = (variant & 1 == 1, variant & 2 == 2);
        let mut b = 0;
        while b < 128 {
            let c = b as u8;
            let whitespace = matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
            maps[variant][b] = if whitespace || (strip && c.is_ascii_punctuation()) {
                SEPARATOR
            } else if lowercase {
                c.to_ascii_lowercase()
            } else {
                c
            };
            b += 1;
        }
        variant += 1;
    }
    maps
};

/// The ASCII fast path of [`normalize`] (NFKC is the identity on ASCII), without branches
/// on the data: each byte is mapped by table to its output byte or to a space, and the write
/// position advances unless a space follows a space (or starts the text); a trailing space is
/// dropped at the end. Then calls `word` with each word of `out`.
fn normalize_ascii_into(text: &str, options: NormalizeOptions, out: &mut Vec<u8>, word: impl FnMut(&[u8])) {
    let map = &ASCII_MAPS[usize::from(options.lowercase) | usize::from(options.strip_punctuation) << 1];
    let bytes = text.as_bytes();
    out.clear();
    out.resize(bytes.len(), 0);
    let mut write = 0;
    let mut after_space = 1usize;
    for &b in bytes {
        let mapped = map[usize::from(b & 0x7f)];
        let space = usize::from(mapped >> 7);
        // SEPARATOR ^ (SEPARATOR ^ b' ') = b' '
        out[write] = mapped ^ (space as u8 * (SEPARATOR ^ b' '));
        write += 1 - (space & after_space);
        after_space = space;
    }
    if write > 0 && out[write - 1] == b' ' {
        write -= 1;
    }
    out.truncate(write);
    for_each_word(out, word);
}

/// Call `word` with each space-separated word of `text` (single spaces, none at the ends),
/// finding the spaces eight bytes at a time: words are short, and a search call per word
/// (memchr) costs more than the word's hash.
pub(crate) fn for_each_word(text: &[u8], mut word: impl FnMut(&[u8])) {
    if text.is_empty() {
        return;
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut start = 0;
    let mut chunks = text.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ (ONES * u64::from(b' '));
        // high bit set in exactly the bytes of x that are zero (the spaces)
        let mut spaces = !(((x & LOW7) + LOW7) | x | LOW7);
        while spaces != 0 {
            let at = base + (spaces.trailing_zeros() / 8) as usize;
            word(&text[start..at]);
            start = at + 1;
            spaces &= spaces - 1;
        }
        base += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == b' ' {
            word(&text[start..base + i]);
            start = base + i + 1;
        }
    }
    word(&text[start..]);
}

/// [`normalize`] into a reused buffer, also returning the xxh3-64 hash of each word of the
/// result (words are separated by single spaces) in `word_hashes`: the input of
/// [`crate::shingle::shingles_from_words`]. ASCII text takes the branch-free fast path.
pub fn normalize_with_word_hashes(
    text: &str,
    options: NormalizeOptions,
    out: &mut String,
    word_hashes: &mut Vec<u64>,
) {
    use xxhash_rust::xxh3::xxh3_64;
    word_hashes.clear();
    if text.is_ascii() {
        let mut bytes = std::mem::take(out).into_bytes();
        normalize_ascii_into(text, options, &mut bytes, |w| word_hashes.push(xxh3_64(w)));
        *out = String::from_utf8(bytes).expect("ASCII in, ASCII out");
        return;
    }
    *out = normalize(text, options);
    if !out.is_empty() {
        for_each_word(out.as_bytes(), |w| word_hashes.push(xxh3_64(w)));
    }
}

/// Normalize `text`: optional NFKC, lowercase and punctuation stripping, then whitespace runs
/// to single spaces, trimmed. O(bytes); ASCII text takes a byte-level fast path.
pub fn normalize(text: &str, options: NormalizeOptions) -> String {
    if text.is_ascii() {
        let mut out = Vec::new();
        normalize_ascii_into(text, options, &mut out, |_| {});
        return String::from_utf8(out).expect("ASCII in, ASCII out");
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

    proptest! {
        #[test]
        fn word_hashes_are_the_words_of_the_normalized_text(text in "[a-zA-Z ,.!é\t]{0,40}", lower: bool, punct: bool) {
            let options = NormalizeOptions { nfkc: true, lowercase: lower, strip_punctuation: punct };
            let (mut out, mut words) = (String::from("stale"), vec![7]);
            normalize_with_word_hashes(&text, options, &mut out, &mut words);
            prop_assert_eq!(&out, &normalize(&text, options));
            let want: Vec<u64> = if out.is_empty() {
                Vec::new()
            } else {
                out.split(' ').map(|w| xxhash_rust::xxh3::xxh3_64(w.as_bytes())).collect()
            };
            prop_assert_eq!(words, want);
        }
    }

    proptest! {
        #[test]
        fn words_are_split_at_every_space(words in proptest::collection::vec("[a-zé]{1,12}", 1..30)) {
            let text = words.join(" ");
            let mut seen: Vec<String> = Vec::new();
            for_each_word(text.as_bytes(), |w| seen.push(String::from_utf8(w.to_vec()).unwrap()));
            prop_assert_eq!(seen, words);
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
