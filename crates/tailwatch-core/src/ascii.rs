//! Runs of ASCII bytes found eight at a time: letters, digits and `_` in a `u64` word.
//!
//! Word splitting is most of what reading a corpus costs; a byte-by-byte loop spends about ten
//! instructions a byte. These masks classify eight bytes with a few additions (no byte of
//! ASCII text carries into the next), written by hand because no maintained crate offers SWAR
//! byte classes without `unsafe` SIMD.

const ONES: u64 = 0x0101_0101_0101_0101;
/// Bit 7 of each of eight bytes.
pub const HIGH: u64 = 0x8080_8080_8080_8080;

/// Bit 7 set in each byte of `word` (eight ASCII bytes) within `lo..=hi`.
const fn in_range(word: u64, lo: u8, hi: u8) -> u64 {
    let at_least = word.wrapping_add(ONES * (0x80 - lo as u64));
    let above = word.wrapping_add(ONES * (0x7f - hi as u64));
    at_least & !above & HIGH
}

/// Bit 7 set in each byte of `word` (eight ASCII bytes) that is an ASCII letter or digit.
pub const fn alphanumeric(word: u64) -> u64 {
    // setting bit 5 lowercases exactly the letters into `a..=z`
    in_range(word | (ONES * 0x20), b'a', b'z') | in_range(word, b'0', b'9')
}

/// Bit 7 set in each byte of `word` (eight ASCII bytes) that is an ASCII letter.
pub const fn letters(word: u64) -> u64 {
    in_range(word | (ONES * 0x20), b'a', b'z')
}

/// Bit 7 set in each byte of `word` (eight ASCII bytes) that is an ASCII digit.
pub const fn digits(word: u64) -> u64 {
    in_range(word, b'0', b'9')
}

/// Bit 7 set in each byte of `word` (eight ASCII bytes) equal to `byte`.
pub const fn equal_to(word: u64, byte: u8) -> u64 {
    in_range(word, byte, byte)
}

/// The sum of the eight bytes of `word`, each read as a number from 0 to 255.
pub const fn byte_sum(word: u64) -> usize {
    const LOW_BYTES: u64 = 0x00ff_00ff_00ff_00ff;
    let pairs = (word & LOW_BYTES) + (word >> 8 & LOW_BYTES); // four sums of up to 510
    (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize
}

/// Bit 7 set in each byte of `word` (eight ASCII bytes) that is a letter, a digit or `_`.
pub const fn word_bytes(word: u64) -> u64 {
    alphanumeric(word) | in_range(word, b'_', b'_')
}

/// Bit 7 set in each byte of `word` (eight ASCII bytes) that [`word_bytes`] does not mark.
pub const fn other_than_word_bytes(word: u64) -> u64 {
    !word_bytes(word) & HIGH
}

/// Bit 7 set in each byte of `word` (eight ASCII bytes) that [`alphanumeric`] does not mark.
pub const fn other_than_alphanumeric(word: u64) -> u64 {
    !alphanumeric(word) & HIGH
}

/// Bit 7 set in each byte of `word` (any eight bytes, not only ASCII) that is ASCII and not a
/// space.
pub const fn ascii_other_than_space(word: u64) -> u64 {
    let spaces_cleared = word ^ (ONES * b' ' as u64);
    // bit 7 set in each byte of `spaces_cleared` that is not zero (no carries between bytes)
    let nonzero = ((spaces_cleared & !HIGH) + !HIGH) | spaces_cleared;
    nonzero & !word & HIGH
}

/// The first index from `from` on whose byte `class` (one of the masks above) does not mark,
/// or `bytes.len()`: the end of the run of marked bytes starting at `from`. `bytes` is ASCII,
/// unless `class` classes any bytes ([`ascii_other_than_space`]).
pub fn run_end(bytes: &[u8], from: usize, class: fn(u64) -> u64) -> usize {
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let outside = !class(word) & HIGH;
        if outside != 0 {
            return at + (outside.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < bytes.len() && class(u64::from(bytes[at])) & 0x80 != 0 {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ASCII byte in every place of a word is classed as the byte alone is.
    #[test]
    fn masks_class_each_byte_as_alone() {
        for b in 0u8..128 {
            for place in 0..8 {
                for filler in [b' ', b'a', b'_', 0x7f, 0] {
                    let mut bytes = [filler; 8];
                    bytes[place] = b;
                    let word = u64::from_le_bytes(bytes);
                    let bit = |mask: u64| mask >> (8 * place + 7) & 1 == 1;
                    assert_eq!(bit(alphanumeric(word)), b.is_ascii_alphanumeric(), "{b} at {place}");
                    assert_eq!(bit(word_bytes(word)), b.is_ascii_alphanumeric() || b == b'_', "{b}");
                    assert_eq!(bit(other_than_word_bytes(word)), !(b.is_ascii_alphanumeric() || b == b'_'));
                    assert_eq!(bit(other_than_alphanumeric(word)), !b.is_ascii_alphanumeric());
                    assert_eq!(bit(letters(word)), b.is_ascii_alphabetic());
                    assert_eq!(bit(digits(word)), b.is_ascii_digit());
                    assert_eq!(bit(equal_to(word, b'.')), b == b'.');
                }
            }
        }
        // bytes that are not ASCII too
        for b in 0u8..=255 {
            for place in 0..8 {
                for filler in [b' ', b'a', 0x80, 0xff, 0] {
                    let mut bytes = [filler; 8];
                    bytes[place] = b;
                    let bit = |mask: u64| mask >> (8 * place + 7) & 1 == 1;
                    let word = u64::from_le_bytes(bytes);
                    assert_eq!(
                        bit(ascii_other_than_space(word)),
                        b.is_ascii() && b != b' ',
                        "{b} at {place}"
                    );
                }
            }
        }
    }

    #[test]
    fn byte_sums_add_every_byte() {
        assert_eq!(byte_sum(0), 0);
        assert_eq!(byte_sum(u64::MAX), 8 * 255);
        assert_eq!(byte_sum(u64::from_le_bytes([1, 2, 3, 4, 5, 6, 7, 8])), 36);
        assert_eq!(byte_sum(u64::from_le_bytes([255, 0, 0, 0, 0, 0, 0, 254])), 509);
    }

    #[test]
    fn runs_end_at_the_first_unmarked_byte() {
        let text = b"hello_world2026, and more words than eight bytes";
        assert_eq!(run_end(text, 0, word_bytes), 15);
        assert_eq!(run_end(text, 0, alphanumeric), 5);
        assert_eq!(run_end(text, 15, other_than_word_bytes), 17);
        assert_eq!(run_end(text, 43, word_bytes), text.len());
        assert_eq!(run_end(b"", 0, word_bytes), 0);
        assert_eq!(run_end(b"abc", 3, word_bytes), 3);
    }
}
