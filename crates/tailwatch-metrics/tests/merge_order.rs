//! Merges of crafted profiles do not depend on their order (fuzz findings of issue 16).
use std::path::Path;

use tailwatch_metrics::Profile;

/// The `.twp` file of a fuzz input part whose first byte is odd: byte 1 the kind, byte 2 the
/// version, the rest the uncompressed body (as `tailwatch_fuzz::twp_of_body` frames it).
fn twp_of_fuzz_part(part: &[u8]) -> Vec<u8> {
    let [_, kind, version, body @ ..] = part else { panic!("a framed part") };
    let compressed = zstd::bulk::compress(body, 1).expect("compresses");
    let mut out = b"TWPROF".to_vec();
    out.extend_from_slice(&[kind % 3, 0x01]);
    out.extend_from_slice(&(u32::from(version % 3) + 1).to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&compressed).to_le_bytes());
    out.extend_from_slice(&compressed);
    out
}

/// The two profiles of a `profile_merge` finding, `None` for a part that no longer decodes.
fn finding(name: &str) -> [Option<Profile>; 2] {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/findings").join(name);
    let data = std::fs::read(&path).expect("the finding is in the repository");
    let split = usize::from(u16::from_le_bytes([data[0], data[1]])).min(data.len() - 2);
    let (a, b) = data[2..].split_at(split);
    let read = |part: &[u8]| Profile::from_bytes(&twp_of_fuzz_part(part), &path).ok();
    [read(a), read(b)]
}

#[test]
fn crafted_sketches_that_unioned_by_order_are_refused_issue_16() {
    // two crafted sketched profiles once unioned to 16 coupons in one order and 17 in the
    // other; the first holds a set-mode sketch that does not read back once written, which
    // decoding now refuses (b796959), so the pair can no longer be merged at all
    let [a, b] = finding("profile_merge-sketch-union-order");
    assert!(b.is_none(), "the sketch that does not read back is refused");
    let a = a.expect("the other profile is sound");
    let mut twice = a.clone();
    twice.merge(a.clone()).expect("merges");
    assert_eq!(twice.n_docs(), 2 * a.n_docs());
}

#[test]
fn crafted_sketch_arrays_that_unioned_by_order_are_refused_issue_16() {
    // a set-mode sketch of 11 coupons in an array of 2^6 slots (a real one has 2^5): the union
    // kept whichever array came first, so the merged bytes depended on the order
    let [a, b] = finding("profile_merge-sketch-array-size");
    assert!(a.is_none() != b.is_none(), "exactly the crafted profile is refused");
}
