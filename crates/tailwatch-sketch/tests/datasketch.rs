//! Bit-for-bit checks of `tailwatch_sketch::minhash` against `oracles/goldens/datasketch_minhash.json`.
//!
//! The goldens come from the real datasketch package (`oracles/datasketch_goldens.py`).

use std::collections::HashSet;

use serde::Deserialize;
use tailwatch_sketch::minhash::{
    Affine32Permutations, EMPTY_SLOT, Permutations, affine32_signature, classic_signature, classic_update,
    estimate_jaccard, sha1_hash32,
};

#[derive(Deserialize)]
struct Golden {
    versions: Versions,
    default_scheme: String,
    shingling: Shingling,
    documents: Vec<Document>,
    /// `(i, j, |A ∩ B|, |A ∪ B|, Jaccard)` of the shingle sets.
    exact_jaccard: Vec<(usize, usize, usize, usize, f64)>,
    sha1_hash32: Vec<(String, u32)>,
    permutations: Vec<PermCase>,
    minhash: Vec<MinHashCase>,
    lsh: Vec<LshCase>,
}

#[derive(Deserialize)]
struct Versions {
    datasketch: String,
    numpy: String,
}

#[derive(Deserialize)]
struct Shingling {
    n: usize,
    joiner: String,
}

#[derive(Deserialize)]
struct Document {
    n_shingles: usize,
    n_distinct_shingles: usize,
    words: Vec<String>,
}

#[derive(Deserialize)]
struct PermCase {
    scheme: String,
    num_perm: usize,
    seed: u32,
    a: Vec<u64>,
    b: Vec<u64>,
}

#[derive(Deserialize)]
struct MinHashCase {
    scheme: String,
    num_perm: usize,
    seed: u32,
    digests: Vec<Vec<u32>>,
    jaccard: Vec<(usize, usize, f64)>,
}

#[derive(Deserialize)]
struct LshCase {
    threshold: f64,
    num_perm: usize,
    b: usize,
    r: usize,
}

fn golden() -> Golden {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../oracles/goldens/datasketch_minhash.json");
    let text = std::fs::read_to_string(path).expect("read datasketch golden");
    serde_json::from_str(&text).expect("parse datasketch golden")
}

fn shingles(g: &Golden, doc: &Document) -> Vec<String> {
    doc.words.windows(g.shingling.n).map(|w| w.join(&g.shingling.joiner)).collect()
}

fn shingle_hashes(g: &Golden, doc: &Document) -> Vec<u32> {
    shingles(g, doc).iter().map(|s| sha1_hash32(s.as_bytes())).collect()
}

#[test]
fn golden_metadata() {
    let g = golden();
    assert_eq!(g.versions.datasketch, "2.0.0");
    assert_eq!(g.versions.numpy, "2.4.6");
    assert_eq!(g.default_scheme, "affine32");
    assert_eq!(g.documents.len(), 40);
    for case in &g.lsh {
        assert!(case.b * case.r <= case.num_perm && case.b > 0 && case.r > 0, "{}", case.threshold);
    }
}

#[test]
fn sha1_hash32_matches() {
    let g = golden();
    assert!(g.sha1_hash32.len() > 20);
    for (s, h) in &g.sha1_hash32 {
        assert_eq!(sha1_hash32(s.as_bytes()), *h, "{s:?}");
    }
}

#[test]
fn shingling_matches() {
    let g = golden();
    for (i, doc) in g.documents.iter().enumerate() {
        let sh = shingles(&g, doc);
        assert_eq!(sh.len(), doc.n_shingles, "doc {i}");
        assert_eq!(sh.iter().collect::<HashSet<_>>().len(), doc.n_distinct_shingles, "doc {i}");
    }
    for &(i, j, inter, union, jac) in &g.exact_jaccard {
        let a: HashSet<String> = shingles(&g, &g.documents[i]).into_iter().collect();
        let b: HashSet<String> = shingles(&g, &g.documents[j]).into_iter().collect();
        assert_eq!(a.intersection(&b).count(), inter, "pair ({i}, {j})");
        assert_eq!(a.union(&b).count(), union, "pair ({i}, {j})");
        // serde_json's default float parser may be 1 ulp off, so the ratio is checked loosely;
        // the counts above are exact.
        let exact = if union == 0 { 1.0 } else { inter as f64 / union as f64 };
        assert!((exact - jac).abs() <= 1e-15, "pair ({i}, {j}): {exact} vs {jac}");
    }
}

#[test]
fn permutations_match() {
    let g = golden();
    assert_eq!(g.permutations.len(), 6);
    for case in &g.permutations {
        let what = format!("{} ({}, {})", case.scheme, case.num_perm, case.seed);
        match case.scheme.as_str() {
            "legacy" => {
                let p = Permutations::datasketch(case.num_perm, case.seed);
                assert_eq!(p.len(), case.num_perm, "{what}");
                assert_eq!(p.a(), case.a.as_slice(), "{what}: a");
                assert_eq!(p.b(), case.b.as_slice(), "{what}: b");
            }
            "affine32" => {
                let p = Affine32Permutations::datasketch(case.num_perm, case.seed);
                let a: Vec<u64> = p.a().iter().map(|&x| u64::from(x)).collect();
                let b: Vec<u64> = p.b().iter().map(|&x| u64::from(x)).collect();
                assert_eq!(a, case.a, "{what}: a");
                assert_eq!(b, case.b, "{what}: b");
            }
            other => panic!("unknown scheme {other}"),
        }
    }
}

#[test]
fn digests_and_jaccard_match() {
    let g = golden();
    let hashes: Vec<Vec<u32>> = g.documents.iter().map(|d| shingle_hashes(&g, d)).collect();
    let mut n_legacy = 0;
    for case in &g.minhash {
        let what = format!("{} ({}, {})", case.scheme, case.num_perm, case.seed);
        assert_eq!(case.digests.len(), g.documents.len(), "{what}");
        let mut ours = Vec::with_capacity(hashes.len());
        for (i, (h, want)) in hashes.iter().zip(&case.digests).enumerate() {
            let mut out = vec![0; case.num_perm];
            match case.scheme.as_str() {
                "legacy" => {
                    let perms = Permutations::datasketch(case.num_perm, case.seed);
                    classic_signature(&perms, h, &mut out);
                    // Incremental updates (datasketch `update` per shingle) agree.
                    let mut inc = vec![EMPTY_SLOT; case.num_perm];
                    for chunk in h.chunks(7) {
                        classic_update(&perms, chunk, &mut inc);
                    }
                    assert_eq!(inc, out, "{what}: doc {i} incremental");
                }
                "affine32" => {
                    let perms = Affine32Permutations::datasketch(case.num_perm, case.seed);
                    affine32_signature(&perms, h, &mut out);
                }
                other => panic!("unknown scheme {other}"),
            }
            assert_eq!(&out, want, "{what}: doc {i}");
            ours.push(out);
        }
        if case.scheme == "legacy" {
            n_legacy += 1;
        }
        // Jaccard estimates are multiples of 1/num_perm (dyadic here), which parse exactly.
        for &(i, j, jac) in &case.jaccard {
            assert_eq!(estimate_jaccard(&ours[i], &ours[j]).to_bits(), jac.to_bits(), "{what}: ({i}, {j})");
        }
    }
    assert_eq!(n_legacy, 2);
}
