//! Invariants: merge is the profile of the union, associative and commutative; metrics do not
//! depend on document order; bounded metrics stay in range.
use proptest::prelude::*;
use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_metrics::{
    MetricSelection, Profile, ProfileBuilder, ProfileConfig, SampleSize, lexical_metrics,
};

fn profile_of(docs: &[String], sample: SampleSize) -> Profile {
    let spec = TokenizerSpec::words();
    let tok = Tokenizer::from_spec(&spec).unwrap();
    let mut config = ProfileConfig::new(spec);
    config.sample = sample;
    let mut p = ProfileBuilder::new(&tok, config);
    for d in docs {
        p.observe(d).unwrap();
    }
    p.finish()
}

fn docs_strategy() -> impl Strategy<Value = Vec<String>> {
    let word = prop::sample::select(vec!["a", "b", "c", "d", "the", "cat", "sat", "mat", "ünï", "東京"]);
    let doc = prop::collection::vec(word, 0..12).prop_map(|w| w.join(" "));
    prop::collection::vec(doc, 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merge_equals_union(a in docs_strategy(), b in docs_strategy(), k in 0u64..20) {
        let sample = SampleSize::Docs(k);
        let mut union = a.clone();
        union.extend(b.iter().cloned());
        let whole = profile_of(&union, sample);
        let mut ab = profile_of(&a, sample);
        ab.merge(profile_of(&b, sample)).unwrap();
        let mut ba = profile_of(&b, sample);
        ba.merge(profile_of(&a, sample)).unwrap();
        prop_assert!(ab.same_content(&whole));
        prop_assert!(ba.same_content(&whole));
        let mut with_empty = profile_of(&[], sample);
        with_empty.merge(whole.clone()).unwrap();
        prop_assert!(with_empty.same_content(&whole));
    }

    #[test]
    fn associative(a in docs_strategy(), b in docs_strategy(), c in docs_strategy()) {
        let s = SampleSize::Docs(7);
        let mut left = profile_of(&a, s);
        left.merge(profile_of(&b, s)).unwrap();
        left.merge(profile_of(&c, s)).unwrap();
        let mut bc = profile_of(&b, s);
        bc.merge(profile_of(&c, s)).unwrap();
        let mut right = profile_of(&a, s);
        right.merge(bc).unwrap();
        prop_assert!(left.same_content(&right));
    }

    #[test]
    fn order_free_and_in_range(docs in docs_strategy(), seed in any::<u64>()) {
        let tok = Tokenizer::from_spec(&TokenizerSpec::words()).unwrap();
        let mut shuffled = docs.clone();
        // a deterministic permutation from the seed
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let a = lexical_metrics(&profile_of(&docs, SampleSize::Docs(15)), &tok, &MetricSelection::All).unwrap();
        let b = lexical_metrics(&profile_of(&shuffled, SampleSize::Docs(15)), &tok, &MetricSelection::All).unwrap();
        prop_assert_eq!(&a, &b);
        for (id, v) in &a.values {
            if let Some(v) = v {
                prop_assert!(v.is_finite(), "{} = {}", id, v);
                if id.starts_with("self_bleu") || id.starts_with("distinct") || id.starts_with("rep_")
                    || ["hdd", "duplicate_rate", "top_output_share"].contains(&id.as_str()) {
                    prop_assert!((0.0..=1.0).contains(v), "{} = {} out of [0,1]", id, v);
                }
            }
        }
    }

    #[test]
    fn twp_round_trip(docs in docs_strategy()) {
        let p = profile_of(&docs, SampleSize::Docs(5));
        let bytes = p.to_bytes().unwrap();
        let back = Profile::from_bytes(&bytes, std::path::Path::new("p.twp")).unwrap();
        prop_assert!(back.same_content(&p));
        // a decompression limit refuses larger bodies and admits smaller ones
        let path = std::path::Path::new("p.twp");
        prop_assert!(Profile::from_bytes_limited(&bytes, path, 16).is_err());
        prop_assert!(Profile::from_bytes_limited(&bytes, path, 1 << 30).unwrap().same_content(&p));
        // any truncation is an error, never a panic
        for cut in [0, 5, 11, 12, bytes.len() / 2, bytes.len().saturating_sub(1)] {
            prop_assert!(Profile::from_bytes(&bytes[..cut], std::path::Path::new("p.twp")).is_err());
        }
    }
}

fn numbered_docs() -> impl Strategy<Value = Vec<String>> {
    let doc = prop::collection::vec(0u32..5000, 1..30)
        .prop_map(|w| w.iter().map(|t| format!("w{t}")).collect::<Vec<_>>().join(" "));
    prop::collection::vec(doc, 1..400)
}

/// The profile of `docs`, its n-gram tables sketched after `sketch_after` documents (or at the
/// end), split into profiles at each of `cuts` and merged.
fn sketched_in_parts(docs: &[String], cuts: &[usize], sketch_after: usize) -> Profile {
    let spec = TokenizerSpec::words();
    let tok = Tokenizer::from_spec(&spec).unwrap();
    let config = ProfileConfig::new(spec);
    let mut merged = Profile::new(config.clone());
    let mut part = ProfileBuilder::new(&tok, config);
    for (i, d) in docs.iter().enumerate() {
        if cuts.contains(&i) {
            merged.merge(part.take()).unwrap();
        }
        if i == sketch_after {
            part.profile_mut().sketch_ngrams();
        }
        part.observe(d).unwrap();
    }
    part.profile_mut().sketch_ngrams();
    merged.merge(part.finish()).unwrap();
    merged.sealed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A sketched profile's estimates depend on the corpus alone: not on where it was
    /// split among workers, nor on when each part switched to sketches.
    #[test]
    fn sketches_do_not_depend_on_splits_or_timing(
        docs in numbered_docs(),
        cuts in prop::collection::vec(0usize..400, 0..4),
        sketch_after in 0usize..400,
    ) {
        let whole = sketched_in_parts(&docs, &[], usize::MAX);
        let parts = sketched_in_parts(&docs, &cuts, sketch_after);
        for n in 2..=4 {
            prop_assert_eq!(whole.ngram_table(n).distinct(), parts.ngram_table(n).distinct(), "order {}", n);
        }
    }
}
