//! Merging `.twp` profiles (`Profile::merge`, what `merge`, the engine's workers and the
//! server's aggregates do). The input is two framed profiles (`tailwatch_fuzz::twp_input`),
//! the first one's length in the first two bytes (little-endian). When both decode and merge,
//! the merge must not depend on the order (equal bytes either way), count both
//! sides' documents, and encode to a profile that decodes to the same bytes.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tailwatch_metrics::Profile;

/// The uncompressed body of format-3 `.twp` bytes.
fn body(twp: &[u8]) -> Vec<u8> {
    zstd::decode_all(&twp[20..]).expect("a written body decompresses")
}

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else { return };
    let split = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
    let (first, second) = rest.split_at(split);
    let decode = |part: &[u8]| {
        Profile::from_bytes_limited(&tailwatch_fuzz::twp_input(part), Path::new("<fuzz>"), 16 << 20)
    };
    let (Ok(first), Ok(second)) = (decode(first), decode(second)) else { return };
    let mut ab = first.clone();
    let mut ba = second.clone();
    match (ab.merge(second.clone()), ba.merge(first.clone())) {
        (Ok(()), Ok(())) => {}
        (Err(_), Err(_)) => return,
        (x, y) => panic!("merging is refused in one order only: {x:?} vs {y:?}"),
    }
    assert_eq!(ab.n_docs(), first.n_docs() + second.n_docs());
    let encoded = ab.to_bytes().expect("a merged profile encodes");
    let other = ba.to_bytes().expect("encodes");
    if encoded != other {
        let (a, b) = (body(&encoded), body(&other));
        let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
        panic!(
            "merging depends on the order: the bodies differ from byte {at} of {}: {:?} vs {:?}",
            a.len(),
            &a[at.saturating_sub(16)..(at + 32).min(a.len())],
            &b[at.saturating_sub(16)..(at + 32).min(b.len())]
        );
    }
    let again = Profile::from_bytes(&encoded, Path::new("<merged>")).expect("a merged profile decodes");
    assert!(again.to_bytes().expect("encodes") == encoded, "a merged profile does not round-trip");
});
