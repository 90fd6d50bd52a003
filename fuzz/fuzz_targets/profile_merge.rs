//! Merging `.twp` profiles (`Profile::merge`, what `merge`, the engine's workers and the
//! server's aggregates do). The input is two framed profiles (`tailwatch_fuzz::twp_input`),
//! the first one's length in the first two bytes (little-endian). When both decode and merge,
//! the merge must not depend on the order (equal bytes either way), count both sides' documents,
//! and encode to a profile that decodes to the same bytes.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tailwatch_metrics::Profile;

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
    assert!(encoded == ba.to_bytes().expect("encodes"), "merging depends on the order");
    let again = Profile::from_bytes(&encoded, Path::new("<merged>")).expect("a merged profile decodes");
    assert!(again.to_bytes().expect("encodes") == encoded, "a merged profile does not round-trip");
});
