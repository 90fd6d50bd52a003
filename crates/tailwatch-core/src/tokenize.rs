//! Tokenizers: how a document becomes a sequence of tokens.
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::{Error, Result};

/// The family of a tokenizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenizerKind {
    /// Unicode (UAX #29) words; punctuation-only segments are dropped. The default.
    Words,
    /// Split on Rust's `char::is_whitespace`.
    Whitespace,
    /// Exactly Python's `str.split()`: Rust whitespace plus U+001C..U+001F.
    PythonSplit,
    /// Python's `str.split(' ')`: single spaces only, empty tokens kept (the `diversity` package).
    SingleSpace,
    /// Each document is a list of item ids separated by whitespace (recommendation outputs).
    Items,
    /// A HuggingFace `tokenizer.json`; tokens are the model's own token strings.
    HuggingFace,
}

/// Serializable description of a tokenizer, stored in profiles and reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizerSpec {
    /// Which tokenizer.
    pub kind: TokenizerKind,
    /// Lowercase the text (Unicode full lowercase) before splitting.
    pub lowercase: bool,
    /// For HuggingFace tokenizers: the file it was loaded from (informational).
    pub source: Option<String>,
    /// For HuggingFace tokenizers: xxh3-64 of the `tokenizer.json` bytes, so profiles made with
    /// different tokenizers are never merged.
    pub fingerprint: Option<u64>,
}

impl TokenizerSpec {
    /// A built-in tokenizer.
    pub fn builtin(kind: TokenizerKind, lowercase: bool) -> Self {
        Self { kind, lowercase, source: None, fingerprint: None }
    }

    /// The default tokenizer: Unicode words, case kept.
    pub fn words() -> Self {
        Self::builtin(TokenizerKind::Words, false)
    }

    /// Python's `str.split()`.
    pub fn python_split() -> Self {
        Self::builtin(TokenizerKind::PythonSplit, false)
    }

    /// Parse a built-in tokenizer name. Returns `None` for anything else (a path, presumably).
    pub fn parse_builtin(name: &str, lowercase: bool) -> Option<Self> {
        let kind = match name {
            "words" => TokenizerKind::Words,
            "whitespace" => TokenizerKind::Whitespace,
            "python-split" => TokenizerKind::PythonSplit,
            "single-space" => TokenizerKind::SingleSpace,
            "items" => TokenizerKind::Items,
            _ => return None,
        };
        Some(Self::builtin(kind, lowercase))
    }

    /// A short human name, e.g. `words+lowercase` or `hf:tokenizer.json`.
    pub fn name(&self) -> String {
        let base = match self.kind {
            TokenizerKind::Words => "words".to_string(),
            TokenizerKind::Whitespace => "whitespace".to_string(),
            TokenizerKind::PythonSplit => "python-split".to_string(),
            TokenizerKind::SingleSpace => "single-space".to_string(),
            TokenizerKind::Items => "items".to_string(),
            TokenizerKind::HuggingFace => {
                format!("hf:{}", self.source.as_deref().unwrap_or("tokenizer.json"))
            }
        };
        if self.lowercase { format!("{base}+lowercase") } else { base }
    }

    /// Whether two specs produce the same tokens (the HF source path may differ).
    pub fn same_tokens_as(&self, other: &Self) -> bool {
        self.kind == other.kind && self.lowercase == other.lowercase && self.fingerprint == other.fingerprint
    }
}

/// Python's `str.isspace()` for `str.split()`: Rust's whitespace plus U+001C..U+001F.
pub fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A ready-to-use tokenizer.
#[derive(Clone)]
pub struct Tokenizer {
    spec: TokenizerSpec,
    huggingface: Option<Box<tokenizers::Tokenizer>>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer").field("spec", &self.spec).finish_non_exhaustive()
    }
}

impl Tokenizer {
    /// Build a built-in tokenizer from its spec. HuggingFace specs need [`Tokenizer::huggingface`].
    pub fn from_spec(spec: &TokenizerSpec) -> Result<Self> {
        if spec.kind == TokenizerKind::HuggingFace {
            return Err(Error::UnknownTokenizer { name: spec.name() });
        }
        Ok(Self { spec: spec.clone(), huggingface: None })
    }

    /// Load a HuggingFace tokenizer from the bytes of its `tokenizer.json`.
    pub fn huggingface(json: &[u8], source: &str, lowercase: bool) -> Result<Self> {
        let tokenizer = tokenizers::Tokenizer::from_bytes(json)
            .map_err(|e| Error::HuggingFace { path: source.into(), message: e.to_string() })?;
        let spec = TokenizerSpec {
            kind: TokenizerKind::HuggingFace,
            lowercase,
            source: Some(source.to_string()),
            fingerprint: Some(xxhash_rust::xxh3::xxh3_64(json)),
        };
        Ok(Self { spec, huggingface: Some(Box::new(tokenizer)) })
    }

    /// The description of this tokenizer.
    pub fn spec(&self) -> &TokenizerSpec {
        &self.spec
    }

    /// Call `f` with every token of `doc`, in order.
    pub fn tokenize(&self, doc: &str, mut f: impl FnMut(&str)) -> Result<()> {
        let lowered;
        let text = if self.spec.lowercase {
            lowered = doc.to_lowercase();
            lowered.as_str()
        } else {
            doc
        };
        match self.spec.kind {
            TokenizerKind::Words => words(text, f),
            TokenizerKind::Whitespace | TokenizerKind::Items if text.is_ascii() => {
                ascii_split(text, |b| matches!(b, b'\t'..=b'\r' | b' '), f);
            }
            TokenizerKind::Whitespace | TokenizerKind::Items => text.split_whitespace().for_each(f),
            TokenizerKind::PythonSplit if text.is_ascii() => {
                ascii_split(text, |b| matches!(b, b'\t'..=b'\r' | 0x1c..=0x1f | b' '), f);
            }
            TokenizerKind::PythonSplit => {
                text.split(is_python_whitespace).filter(|t| !t.is_empty()).for_each(f);
            }
            TokenizerKind::SingleSpace => text.split(' ').for_each(f),
            TokenizerKind::HuggingFace => {
                let tokenizer = self
                    .huggingface
                    .as_ref()
                    .ok_or_else(|| Error::UnknownTokenizer { name: self.spec.name() })?;
                let encoding =
                    tokenizer.encode(text, false).map_err(|e| Error::Encode { message: e.to_string() })?;
                encoding.get_tokens().iter().for_each(|t| f(t));
            }
        }
        Ok(())
    }

    /// The number of tokens of `doc`: what [`Tokenizer::tokenize`] would call `f` with, counted
    /// without making them (for ASCII text and the `words` tokenizer, eight bytes at a time).
    pub fn count(&self, doc: &str) -> Result<usize> {
        if self.spec.kind == TokenizerKind::Words {
            // lowercasing ASCII changes no byte's class, so it changes no count either; other
            // text is lowercased first (U+212A KELVIN SIGN becomes the ASCII `k`)
            if let Some(count) = ascii_word_count(doc.as_bytes()) {
                return Ok(count);
            }
            return Ok(if self.spec.lowercase { word_count(&doc.to_lowercase()) } else { word_count(doc) });
        }
        let mut count = 0;
        self.tokenize(doc, |_| count += 1)?;
        Ok(count)
    }

    /// Convenience: the tokens of `doc` as owned strings.
    pub fn tokens(&self, doc: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.tokenize(doc, |t| out.push(t.to_string()))?;
        Ok(out)
    }
}

/// The non-empty runs of ASCII `text` between bytes that `is_space`: what `split_whitespace`
/// (or Python's `str.split()`) gives for ASCII text, without decoding characters.
fn ascii_split<'a>(text: &'a str, is_space: impl Fn(u8) -> bool, mut f: impl FnMut(&'a str)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !is_space(bytes[i]) {
            i += 1;
        }
        if i > start {
            f(&text[start..i]);
        }
    }
}

/// `text.unicode_words()`, with the ASCII stretches of a text that is not all ASCII split by
/// [`ascii_words`]: the text is cut at every space followed by an ASCII byte other than a space
/// (UAX #29 breaks on both sides of such a space, and no rule looks across it; a run of spaces
/// is one segment, which a combining mark after it joins), and only the pieces holding other
/// bytes go to the crate. A property test checks this against the crate on mixed text.
fn words<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    if text.is_ascii() {
        return ascii_words(text, f);
    }
    pieces(
        text,
        |piece, ascii| {
            if ascii { ascii_words(piece, &mut f) } else { piece.unicode_words().for_each(&mut f) }
        },
    );
}

/// The number of words [`words`] finds in `text`, counted piece by piece: the ASCII pieces
/// eight bytes at a time.
fn word_count(text: &str) -> usize {
    let mut count = 0;
    pieces(text, |piece, ascii| {
        count += if ascii { ascii_piece_word_count(piece) } else { piece.unicode_words().count() }
    });
    count
}

/// The number of words [`ascii_words`] finds in ASCII `piece`.
fn ascii_piece_word_count(piece: &str) -> usize {
    ascii_word_count(piece.as_bytes()).unwrap_or_else(|| {
        let mut count = 0;
        ascii_words(piece, |_| count += 1);
        count
    })
}

/// Cuts `text` at every space followed by an ASCII byte other than a space (see [`words`]) and
/// calls `f`, in order, with each piece holding other bytes (`false`) and each stretch of
/// consecutive ASCII pieces (`true`, one call: the spaces between them join no words).
fn pieces<'a>(text: &'a str, mut f: impl FnMut(&'a str, bool)) {
    let bytes = text.as_bytes();
    let (mut start, mut ascii) = (0, true);
    let mut ascii_stretch: Option<(usize, usize)> = None;
    let mut i = 0;
    loop {
        // only spaces and bytes that are not ASCII matter here: skip the rest eight at a time
        i = crate::ascii::run_end(bytes, i, crate::ascii::ascii_other_than_space);
        let cut = i == bytes.len()
            || (bytes[i] == b' ' && bytes.get(i + 1).is_none_or(|&b| b.is_ascii() && b != b' '));
        if cut {
            if ascii {
                ascii_stretch = Some((ascii_stretch.map_or(start, |(from, _)| from), i));
            } else {
                if let Some((from, to)) = ascii_stretch.take() {
                    f(&text[from..to], true);
                }
                f(&text[start..i], false);
            }
            if i == bytes.len() {
                break;
            }
            (start, ascii) = (i + 1, true);
        } else {
            ascii &= bytes[i].is_ascii();
        }
        i += 1;
    }
    if let Some((from, to)) = ascii_stretch {
        f(&text[from..to], true);
    }
}

/// `text.unicode_words()` for ASCII `text`, without producing the segments it drops.
///
/// In ASCII, UAX #29 keeps runs of letters, digits and `_` together (WB5, WB8-WB10, WB13a/b),
/// joined across one `.`, `'` or `:` between two letters (WB6/WB7) or one `.`, `,`, `;` or `'`
/// between two digits (WB11/WB12); every other segment is spaces, CR LF or a single byte, and
/// `unicode_words` keeps only segments holding a letter or digit. A property test checks this
/// against the crate.
fn ascii_words<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    let joins = |b: u8, prev: u8, next: u8| match b {
        b'.' | b'\'' => {
            (prev.is_ascii_digit() && next.is_ascii_digit())
                || (prev.is_ascii_alphabetic() && next.is_ascii_alphabetic())
        }
        b',' | b';' => prev.is_ascii_digit() && next.is_ascii_digit(),
        b':' => prev.is_ascii_alphabetic() && next.is_ascii_alphabetic(),
        _ => false,
    };
    use crate::ascii::{other_than_word_bytes, run_end, word_bytes};
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        // eight bytes at a time: these loops are most of a profile's reading time
        i = run_end(bytes, i, other_than_word_bytes);
        if i == n {
            break;
        }
        let start = i;
        loop {
            i = run_end(bytes, i, word_bytes);
            // one joining byte between two of the right kind continues the word
            if i + 1 < n && joins(bytes[i], bytes[i - 1], bytes[i + 1]) {
                i += 1;
                continue;
            }
            break;
        }
        // a run of `_` alone is no word
        if bytes[start..i].iter().any(|&b| b != b'_') {
            f(&text[start..i]);
        }
    }
}

/// The number of words [`ascii_words`] finds in `bytes`, eight bytes at a time, or `None` if a
/// byte is not ASCII or is `_`: a word starts at each letter or digit after a byte that is
/// neither, less one for each joining byte (WB6/WB7, WB11/WB12) that makes one word of the
/// runs on its two sides. (A run of `_` alone is no word, which this count does not see.)
///
/// One pass: each eight bytes are classed once, the classes of the bytes before and after come
/// from the neighbouring words by shifts, and the marks are summed a byte at a time
/// (`count_ones` is no single instruction on the baseline x86-64 this is built for). Bytes that
/// are not ASCII make the classes of their neighbours wrong, so the count stops at the first.
fn ascii_word_count(bytes: &[u8]) -> Option<usize> {
    use crate::ascii::{HIGH, byte_sum, digits, equal_to, letters};
    // bytes past the end read as 0, which is no letter, digit or joining byte
    let (whole, chunks) = (bytes.len() / 8, bytes.len().div_ceil(8));
    let mut tail = [0u8; 8];
    tail[..bytes.len() % 8].copy_from_slice(&bytes[8 * whole..]);
    let word = |chunk: usize| match bytes.get(8 * chunk..8 * chunk + 8) {
        Some(eight) => u64::from_le_bytes(eight.try_into().expect("eight bytes")),
        None => u64::from_le_bytes(tail),
    };
    let (mut starts, mut joins) = (0usize, 0usize);
    let (mut pending_starts, mut pending_joins) = (0u64, 0u64);
    let (mut letters_before, mut digits_before) = (0u64, 0u64);
    let mut here = word(0);
    let (mut letters_here, mut digits_here) = (letters(here), digits(here));
    for chunk in 0..chunks {
        let next = if chunk + 1 < chunks { word(chunk + 1) } else { 0 };
        let (letters_next, digits_next) = (letters(next), digits(next));
        // the class of the byte before (after) each byte: the word shifted one byte up (down)
        let before = |this: u64, previous: u64| this << 8 | previous >> 56;
        let after = |this: u64, following: u64| this >> 8 | following << 56;
        let alphanumeric = letters_here | digits_here;
        let starts_here = alphanumeric & !before(alphanumeric, letters_before | digits_before);
        let (dot, apostrophe) = (equal_to(here, b'.'), equal_to(here, b'\''));
        let between_letters = (dot | apostrophe | equal_to(here, b':'))
            & before(letters_here, letters_before)
            & after(letters_here, letters_next);
        let between_digits = (dot | apostrophe | equal_to(here, b',') | equal_to(here, b';'))
            & before(digits_here, digits_before)
            & after(digits_here, digits_next);
        if (here | equal_to(here, b'_')) & HIGH != 0 {
            return None;
        }
        // one 0 or 1 a byte, which holds up to 255 of them
        pending_starts += starts_here >> 7;
        pending_joins += (between_letters | between_digits) >> 7;
        if chunk % 255 == 254 {
            starts += byte_sum(pending_starts);
            joins += byte_sum(pending_joins);
            (pending_starts, pending_joins) = (0, 0);
        }
        (letters_before, digits_before) = (letters_here, digits_here);
        (here, letters_here, digits_here) = (next, letters_next, digits_next);
    }
    Some(starts + byte_sum(pending_starts) - joins - byte_sum(pending_joins))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// The ASCII fast path splits exactly like `unicode_words`.
        #[test]
        fn ascii_splits_match_the_unicode_splits(
            text in proptest::collection::vec(0u8..128, 0..40).prop_map(|bytes| String::from_utf8(bytes).expect("ASCII"))
        ) {
            let fast = |kind| Tokenizer::from_spec(&TokenizerSpec::builtin(kind, false)).unwrap().tokens(&text).unwrap();
            let whitespace: Vec<&str> = text.split_whitespace().collect();
            prop_assert_eq!(fast(TokenizerKind::Whitespace), whitespace);
            let python: Vec<&str> = text.split(is_python_whitespace).filter(|t| !t.is_empty()).collect();
            prop_assert_eq!(fast(TokenizerKind::PythonSplit), python);
        }

        #[test]
        fn ascii_words_match_unicode_words(
            text in proptest::collection::vec(
                prop_oneof![
                    4 => proptest::sample::select(b"aZ09_.,;:' \r\n\t-\"".to_vec()),
                    1 => 0u8..128,
                ],
                0..40,
            ).prop_map(|bytes| String::from_utf8(bytes).expect("ASCII"))
        ) {
            let mut fast = Vec::new();
            ascii_words(&text, |w| fast.push(w));
            let slow: Vec<&str> = text.unicode_words().collect();
            prop_assert_eq!(fast, slow);
        }

        /// Counting words gives the number of words, for every tokenizer and text.
        #[test]
        fn counts_are_the_numbers_of_tokens(
            text in proptest::collection::vec(
                prop_oneof![
                    // most texts ASCII without `_`, the counted fast path
                    150 => proptest::sample::select(vec!["a", "Z", "0", "9", ".", ",", ";", ":", "'", " ", "\n", "-", "ab", "12"]),
                    // mixed text: ASCII pieces counted, the others split; U+212A lowercases to `k`
                    3 => proptest::sample::select(vec!["_", "é", "\u{301}", "\u{3000}", "’", "\u{212A}", "中"]),
                ],
                0..60,
            ).prop_map(|parts| parts.concat()),
            kind in proptest::sample::select(vec![TokenizerKind::Words, TokenizerKind::Whitespace, TokenizerKind::PythonSplit, TokenizerKind::SingleSpace]),
            lowercase in any::<bool>(),
        ) {
            let tokenizer = Tokenizer::from_spec(&TokenizerSpec::builtin(kind, lowercase)).unwrap();
            prop_assert_eq!(tokenizer.count(&text).unwrap(), tokenizer.tokens(&text).unwrap().len());
        }

        /// Mixed text split piece by piece splits exactly like `unicode_words` of the whole:
        /// spaces next to combining marks, joiners, regional indicators, Hebrew letters,
        /// other spaces, letters that are not ASCII.
        #[test]
        fn mixed_words_match_unicode_words(
            text in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "Z", "0", "_", ".", ",", ":", "'", "\"", " ", " ", " ", "\r\n", "-", "é", "\u{301}",
                    "\u{93F}", "\u{200D}", "\u{200B}", "😀", "🇺", "🇸", "\u{5D0}", "\u{5F3}", "\u{3000}", "中",
                    "\u{A0}", "–", "’", "\u{FE0F}", "\u{2060}", "\u{30A2}", "\u{FF10}",
                ]),
                0..30,
            ).prop_map(|parts| parts.concat())
        ) {
            let mut fast = Vec::new();
            words(&text, |w| fast.push(w));
            let slow: Vec<&str> = text.unicode_words().collect();
            prop_assert_eq!(fast, slow);
        }
    }

    fn toks(kind: TokenizerKind, lowercase: bool, text: &str) -> Vec<String> {
        Tokenizer::from_spec(&TokenizerSpec::builtin(kind, lowercase)).unwrap().tokens(text).unwrap()
    }

    /// Counts of texts longer than the 255 eight-byte words a count adds up at a time, with
    /// joining bytes at every offset across word boundaries.
    #[test]
    fn long_texts_count_every_word() {
        let tokenizer = Tokenizer::from_spec(&TokenizerSpec::words()).unwrap();
        for shift in 0..9 {
            let text = format!("{}{}", " ".repeat(shift), "it's 3.14, a.b c:d 12;34 x ".repeat(400));
            assert_eq!(tokenizer.count(&text).unwrap(), tokenizer.tokens(&text).unwrap().len(), "{shift}");
            let mixed = format!("{text}é {text}_");
            assert_eq!(tokenizer.count(&mixed).unwrap(), tokenizer.tokens(&mixed).unwrap().len(), "{shift}");
        }
    }

    #[test]
    fn table() {
        use TokenizerKind::*;
        let cases: &[(TokenizerKind, bool, &str, &[&str])] = &[
            (Words, false, "Hello, world! Don't stop.", &["Hello", "world", "Don't", "stop"]),
            (Words, true, "Straße CAFÉ", &["straße", "café"]),
            (Whitespace, false, "a\u{1c}b  c\td", &["a\u{1c}b", "c", "d"]),
            (
                PythonSplit,
                false,
                "a\u{1c}b\u{1d}c\u{1e}d\u{1f}e  f\u{3000}g",
                &["a", "b", "c", "d", "e", "f", "g"],
            ),
            (PythonSplit, false, "  ", &[]),
            (SingleSpace, false, "a  b", &["a", "", "b"]),
            (Items, false, "i1 i2\ti3", &["i1", "i2", "i3"]),
        ];
        for (kind, lower, text, want) in cases {
            assert_eq!(toks(*kind, *lower, text), *want, "{kind:?} {text:?}");
        }
    }

    #[test]
    fn python_whitespace_set() {
        // Python: ''.join(chr(c) for c in range(0x110000) if chr(c).isspace())
        let python: Vec<u32> = vec![
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
            0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f,
            0x205f, 0x3000,
        ];
        let ours: Vec<u32> = (0..0x11_0000u32)
            .filter_map(char::from_u32)
            .filter(|c| is_python_whitespace(*c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, python);
    }
}
