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

/// Bytes of an 8-byte word (all below 0x80) at or above `c`: their high bits.
#[inline(always)]
fn at_least(x: u64, c: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // a byte below 0x80 plus (0x80 − c) stays below 0x100 and reaches 0x80 exactly when ≥ c
    x.wrapping_add(ONES * u64::from(0x80 - c)) & (ONES * 0x80)
}

/// Bytes of `x` (all below 0x80) in `lo..=hi`: their high bits.
#[inline(always)]
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    at_least(x, lo) & !at_least(x, hi + 1)
}

/// Eight ASCII bytes at once, as [`ASCII_MAPS`] maps them one by one: the mapped bytes
/// (separators as spaces) and the high bits of the separators.
#[inline(always)]
fn map_ascii8(x: u64, lowercase: bool, strip_punctuation: bool) -> (u64, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let whitespace = in_range(x, 0x09, 0x0D) | in_range(x, b' ', b' ');
    let separators = if strip_punctuation {
        // ASCII punctuation: 0x21-0x2F, 0x3A-0x40, 0x5B-0x60, 0x7B-0x7E (and the space)
        whitespace
            | in_range(x, b'!', b'/')
            | in_range(x, b':', b'@')
            | in_range(x, b'[', b'`')
            | in_range(x, b'{', b'~')
    } else {
        whitespace
    };
    let lowered = if lowercase { x | (in_range(x, b'A', b'Z') >> 2) } else { x };
    let separator_bytes = (separators >> 7) * 0xFF;
    (lowered & !separator_bytes | (ONES * u64::from(b' ')) & separator_bytes, separators)
}

/// The ASCII fast path of [`normalize`] (NFKC is the identity on ASCII), without branches
/// on the data: each byte is mapped to its output byte or to a space, and the write position
/// advances unless a space follows a space (or starts the text); a trailing space is dropped
/// at the end. Eight bytes are mapped at once, and stored at once unless one of them is a
/// space after a space.
fn normalize_ascii_into(text: &str, options: NormalizeOptions, out: &mut Vec<u8>) {
    let map = &ASCII_MAPS[usize::from(options.lowercase) | usize::from(options.strip_punctuation) << 1];
    let bytes = text.as_bytes();
    out.clear();
    out.resize(bytes.len(), 0);
    let mut write = 0;
    let mut after_space = 1usize;
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    let read = {
        // sixteen bytes at a time, the same way
        let mut chunks = bytes.chunks_exact(16);
        for chunk in &mut chunks {
            let (mapped, separators) = sse2::map_ascii16(chunk, options.lowercase, options.strip_punctuation);
            let dropped = separators & (separators << 1 | after_space as u32);
            if dropped == 0 {
                out[write..write + 16].copy_from_slice(&mapped);
                write += 16;
            } else {
                for (i, byte) in mapped.into_iter().enumerate() {
                    out[write] = byte;
                    write += 1 - (dropped >> i & 1) as usize;
                }
            }
            after_space = (separators >> 15) as usize;
        }
        bytes.len() - chunks.remainder().len()
    };
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    let read = 0;
    let mut chunks = bytes[read..].chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let (mapped, separators) = map_ascii8(x, options.lowercase, options.strip_punctuation);
        // separators right after a separator (the previous chunk's last byte included)
        let dropped = separators & (separators << 8 | (after_space as u64) << 7);
        // `write` trails the read position, so eight bytes always fit
        if dropped == 0 {
            out[write..write + 8].copy_from_slice(&mapped.to_le_bytes());
            write += 8;
        } else {
            for (i, byte) in mapped.to_le_bytes().into_iter().enumerate() {
                out[write] = byte;
                write += 1 - (dropped >> (8 * i + 7) & 1) as usize;
            }
        }
        after_space = (separators >> 63) as usize;
    }
    for &b in chunks.remainder() {
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
}

/// SSE2 forms of the byte steps: sixteen bytes per instruction instead of eight per SWAR word.
/// Compiled only where the whole build targets SSE2 (all of x86-64 does), and on vectors built
/// from and taken apart into plain integers (no pointer casts).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8,
        _mm_cvtsi128_si64, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
        _mm_unpackhi_epi64,
    };

    /// Sixteen bytes as a vector.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(chunk: &[u8]) -> __m128i {
        let low = u64::from_le_bytes(chunk[..8].try_into().expect("8 bytes"));
        let high = u64::from_le_bytes(chunk[8..16].try_into().expect("8 bytes"));
        _mm_set_epi64x(high as i64, low as i64)
    }

    /// A vector as sixteen bytes.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn bytes(v: __m128i) -> [u8; 16] {
        let low = _mm_cvtsi128_si64(v) as u64;
        let high = _mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)) as u64;
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&low.to_le_bytes());
        out[8..].copy_from_slice(&high.to_le_bytes());
        out
    }

    /// 0xFF in the bytes of `v` (all below 0x80, so signed compares order them) in `lo..=hi`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn in_range(v: __m128i, lo: u8, hi: u8) -> __m128i {
        _mm_and_si128(
            _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
            _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1)),
        )
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn map_ascii16_sse2(chunk: &[u8], lowercase: bool, strip_punctuation: bool) -> ([u8; 16], u32) {
        let v = load(chunk);
        let whitespace = _mm_or_si128(in_range(v, 0x09, 0x0D), _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)));
        let separators = if strip_punctuation {
            let punctuation = _mm_or_si128(
                _mm_or_si128(in_range(v, b'!', b'/'), in_range(v, b':', b'@')),
                _mm_or_si128(in_range(v, b'[', b'`'), in_range(v, b'{', b'~')),
            );
            _mm_or_si128(whitespace, punctuation)
        } else {
            whitespace
        };
        let lowered = if lowercase {
            _mm_or_si128(v, _mm_and_si128(in_range(v, b'A', b'Z'), _mm_set1_epi8(0x20)))
        } else {
            v
        };
        let mapped = _mm_or_si128(
            _mm_andnot_si128(separators, lowered),
            _mm_and_si128(separators, _mm_set1_epi8(b' ' as i8)),
        );
        (bytes(mapped), _mm_movemask_epi8(separators) as u32)
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn space_mask64_sse2(block: &[u8]) -> u64 {
        let space = _mm_set1_epi8(b' ' as i8);
        let mut mask = 0u64;
        for (i, chunk) in block.chunks_exact(16).enumerate() {
            mask |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(load(chunk), space)) as u16) << (16 * i);
        }
        mask
    }

    /// Sixteen ASCII bytes as [`super::ASCII_MAPS`] maps them: the mapped bytes (separators
    /// as spaces) and bit i set when byte i is a separator.
    #[inline(always)]
    pub(super) fn map_ascii16(chunk: &[u8], lowercase: bool, strip_punctuation: bool) -> ([u8; 16], u32) {
        // SAFETY: this module is compiled only when the build enables SSE2 for every function
        // (cfg target_feature = "sse2"), so any CPU that runs this code has SSE2.
        unsafe { map_ascii16_sse2(chunk, lowercase, strip_punctuation) }
    }

    /// Bit i set when byte i of the 64 bytes of `block` is a space.
    #[inline(always)]
    pub(super) fn space_mask64(block: &[u8]) -> u64 {
        // SAFETY: as in `map_ascii16`.
        unsafe { space_mask64_sse2(block) }
    }
}

/// Bit i set when byte i of the 64 bytes of `block` is a space, eight bytes per SWAR step.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn space_mask64_swar(block: &[u8]) -> u64 {
    block.chunks_exact(8).enumerate().fold(0u64, |mask, (i, chunk)| {
        // gather the eight high bits into one byte (bit i of the byte: byte i of the chunk)
        mask | ((space_bits(chunk) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i)
    })
}

/// Bit i set when byte i of the 64 bytes of `block` is a space.
#[inline(always)]
fn space_mask64(block: &[u8]) -> u64 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    return sse2::space_mask64(block);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    return space_mask64_swar(block);
}

/// The high bits of the bytes of `chunk` that are spaces.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn space_bits(chunk: &[u8]) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes")) ^ (ONES * u64::from(b' '));
    // high bit set in exactly the bytes of x that are zero
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Call `word` with the byte range `start..end` of each space-separated word of `text`
/// (single spaces, none at the ends). The spaces of each 64 bytes are found at once, as a
/// bit mask, and listed eight at a time without branching on where they are: words are short,
/// and a search call (memchr) or a mispredicted branch per word costs more than its hash.
pub(crate) fn for_each_word(text: &[u8], mut word: impl FnMut(usize, usize)) {
    if text.is_empty() {
        return;
    }
    let mut start = 0;
    // the spaces of one block, and room for the unused tail of the last eight listed
    let mut spaces = [0usize; 64 + 8];
    let mut emit = |mut mask: u64, base: usize| {
        let count = mask.count_ones() as usize;
        let mut listed = 0;
        while listed < count {
            for slot in &mut spaces[listed..listed + 8] {
                // past the last space, trailing_zeros is 64: listed but never read
                *slot = base + mask.trailing_zeros() as usize;
                mask &= mask.wrapping_sub(1);
            }
            listed += 8;
        }
        for &at in &spaces[..count] {
            word(start, at);
            start = at + 1;
        }
    };
    let mut blocks = text.chunks_exact(64);
    for (i, block) in (&mut blocks).enumerate() {
        emit(space_mask64(block), 64 * i);
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // the last bytes, padded with non-spaces
        let mut padded = [0u8; 64];
        padded[..rest.len()].copy_from_slice(rest);
        emit(space_mask64(&padded), text.len() - rest.len());
    }
    word(start, text.len());
}

/// 128-bit product of `a` and `b`, folded to 64 bits (wyhash's `mum`).
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    product as u64 ^ (product >> 64) as u64
}

/// Mixing constants of [`word_hash`]: their top bytes are 0xFF, a byte that UTF-8 never holds,
/// so no word's 8 bytes can cancel them to zero.
const WORD_KEYS: [u64; 2] = [0xFFA0_761D_6478_BD64, 0xFFE7_037E_D1A0_B42B];

/// 64-bit hash of the word `text[start..end]` (the word hash of shingles; see
/// [`word_hash_of`] for a word on its own). Words of up to 16 bytes hash with two loads and
/// one 128-bit multiply, without branching on their length; longer words with xxh3-64.
/// Reading eight bytes at `start` may look past the word into the rest of `text`; the bytes
/// past it are masked off.
#[inline(always)]
pub fn word_hash(text: &[u8], start: usize, end: usize) -> u64 {
    let len = end - start;
    match (text.get(start..start + 8), len <= 16) {
        (Some(head), true) => {
            let head = u64::from_le_bytes(head.try_into().expect("8 bytes"));
            let tail = u64::from_le_bytes(
                text[end.max(start + 8) - 8..end.max(start + 8)].try_into().expect("8 bytes"),
            );
            short_word_hash(head, tail, len)
        }
        _ => word_hash_of(&text[start..end]),
    }
}

/// [`word_hash`] of one word: its first eight bytes (zero-padded), its last eight when it is
/// longer than eight bytes, and its length, mixed by one folded multiply.
#[inline(always)]
fn short_word_hash(head: u64, tail: u64, len: usize) -> u64 {
    // the first min(len, 8) bytes; the last 8 only past 8 bytes
    let head = head & u64::MAX.checked_shr(8 * (8 - len.min(8)) as u32).unwrap_or(0);
    let tail = if len > 8 { tail } else { 0 };
    folded_multiply(head ^ WORD_KEYS[0], tail ^ WORD_KEYS[1] ^ len as u64)
}

/// The hash of a word on its own: equal to [`word_hash`] of the same word inside any text.
pub fn word_hash_of(word: &[u8]) -> u64 {
    if word.len() > 16 {
        return xxhash_rust::xxh3::xxh3_64(word);
    }
    let mut padded = [0u8; 16];
    padded[..word.len()].copy_from_slice(word);
    let head = u64::from_le_bytes(padded[..8].try_into().expect("8 bytes"));
    let tail_at = word.len().max(8) - 8;
    let tail = u64::from_le_bytes(padded[tail_at..tail_at + 8].try_into().expect("8 bytes"));
    short_word_hash(head, tail, word.len())
}

/// [`normalize`] into a reused buffer (its UTF-8 bytes), also returning the [`word_hash`] of
/// each word of the result (words are separated by single spaces) in `word_hashes`: the input
/// of [`crate::shingle::shingles_from_words`]. ASCII text takes the branch-free fast path.
pub fn normalize_with_word_hashes(
    text: &str,
    options: NormalizeOptions,
    out: &mut Vec<u8>,
    word_hashes: &mut Vec<u64>,
) {
    word_hashes.clear();
    if text.is_ascii() {
        normalize_ascii_into(text, options, out);
    } else {
        *out = normalize(text, options).into_bytes();
    }
    push_word_hashes(out, word_hashes);
}

/// Append the [`word_hash`] of each space-separated word of `text` to `out`.
pub(crate) fn push_word_hashes(text: &[u8], out: &mut Vec<u64>) {
    out.reserve(text.len() / 2 + 1);
    for_each_word(text, |start, end| out.push(word_hash(text, start, end)));
}

/// Normalize `text`: optional NFKC, lowercase and punctuation stripping, then whitespace runs
/// to single spaces, trimmed. O(bytes); ASCII text takes a byte-level fast path.
pub fn normalize(text: &str, options: NormalizeOptions) -> String {
    if text.is_ascii() {
        let mut out = Vec::new();
        normalize_ascii_into(text, options, &mut out);
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
        fn ascii_fast_path_equals_the_general_path(text in "[\\x00-\\x7f]{0,80}", lower: bool, punct: bool) {
            let options = NormalizeOptions { nfkc: true, lowercase: lower, strip_punctuation: punct };
            prop_assert_eq!(normalize(&text, options), general(&text, options));
        }
    }

    proptest! {
        #[test]
        fn word_hashes_are_the_words_of_the_normalized_text(text in "[a-zA-Z ,.!é\t]{0,60}", lower: bool, punct: bool) {
            let options = NormalizeOptions { nfkc: true, lowercase: lower, strip_punctuation: punct };
            let (mut out, mut words) = (b"stale".to_vec(), vec![7]);
            normalize_with_word_hashes(&text, options, &mut out, &mut words);
            let out = String::from_utf8(out).unwrap();
            prop_assert_eq!(&out, &normalize(&text, options));
            let want: Vec<u64> = if out.is_empty() {
                Vec::new()
            } else {
                out.split(' ').map(|w| word_hash_of(w.as_bytes())).collect()
            };
            prop_assert_eq!(words, want);
        }
    }

    proptest! {
        #[test]
        fn space_masks_agree(block in proptest::collection::vec(prop::sample::select(vec![b' ', b'a', b'Z', 0x7f, 0x80, 0xff]), 64)) {
            let naive = block.iter().enumerate().fold(0u64, |m, (i, &b)| m | u64::from(b == b' ') << i);
            prop_assert_eq!(space_mask64_swar(&block), naive);
            prop_assert_eq!(space_mask64(&block), naive);
        }

        #[test]
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        fn sse2_maps_as_swar_does(block in proptest::collection::vec(0u8..0x80, 16), lower: bool, punct: bool) {
            let (mapped, separators) = sse2::map_ascii16(&block, lower, punct);
            for half in 0..2 {
                let x = u64::from_le_bytes(block[8 * half..8 * half + 8].try_into().unwrap());
                let (want, want_separators) = map_ascii8(x, lower, punct);
                prop_assert_eq!(&mapped[8 * half..8 * half + 8], &want.to_le_bytes()[..]);
                let bits = (separators >> (8 * half)) & 0xFF;
                let want_bits = ((want_separators >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32;
                prop_assert_eq!(bits, want_bits);
            }
        }
    }

    proptest! {
        #[test]
        fn words_are_split_at_every_space(words in proptest::collection::vec("[a-zé]{1,12}", 1..60)) {
            let text = words.join(" ");
            let mut seen: Vec<String> = Vec::new();
            for_each_word(text.as_bytes(), |a, b| seen.push(text[a..b].to_string()));
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
