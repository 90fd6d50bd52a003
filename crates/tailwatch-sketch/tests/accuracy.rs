//! Near-duplicate detection measured against the exact all-pairs join: candidate recall, verified
//! precision, the S-curve of the chosen banding, and the signature estimators' error.
use tailwatch_sketch::allpairs::all_pairs;
use tailwatch_sketch::dedup::{DedupOptions, Deduper, SignatureMode};
use tailwatch_sketch::lsh::{Banding, band_keys, candidate_pairs};
use tailwatch_sketch::minhash::{Permutations, classic_signature, estimate_jaccard, oph_signature};
use tailwatch_sketch::normalize::{NormalizeOptions, normalize};
use tailwatch_sketch::planted::{PlantedSpec, mutate, planted_corpus};
use tailwatch_sketch::shingle::shingle_set;

const K: usize = 128;
const THRESHOLD: f64 = 0.8;

fn sets_of(docs: &[String]) -> Vec<Vec<u64>> {
    docs.iter().map(|d| shingle_set(&normalize(d, NormalizeOptions::default()), 5)).collect()
}

fn oph(sets: &[Vec<u64>]) -> Vec<Vec<u32>> {
    sets.iter()
        .map(|s| {
            let mut sig = vec![0; K];
            oph_signature(s, K, 1, &mut sig);
            sig
        })
        .collect()
}

fn classic(sets: &[Vec<u64>]) -> Vec<Vec<u32>> {
    let perms = Permutations::datasketch(K, 1);
    sets.iter()
        .map(|s| {
            let h: Vec<u32> = s.iter().map(|x| (x >> 32) as u32 ^ *x as u32).collect();
            let mut sig = vec![0; K];
            classic_signature(&perms, &h, &mut sig);
            sig
        })
        .collect()
}

struct Measured {
    recall: f64,
    truth_pairs: usize,
}

/// Candidate recall at J ≥ 0.8, the S-curve per J bin, and (through `Deduper`) precision 1.
fn check_detection(docs: &[String], what: &str) -> Measured {
    let sets = sets_of(docs);
    let truth = all_pairs(&sets, 0.5);
    let banding = Banding::for_recall(K, THRESHOLD, 0.99);
    let signatures = oph(&sets);
    let keys: Vec<Vec<u64>> = signatures
        .iter()
        .map(|s| {
            let mut k = Vec::new();
            band_keys(s, banding, &mut k);
            k
        })
        .collect();
    let (candidates, _) = candidate_pairs(&keys);
    let candidate_set: std::collections::HashSet<(u32, u32)> = candidates.iter().copied().collect();
    let above: Vec<&(u32, u32, f64)> = truth.iter().filter(|p| p.2 >= THRESHOLD).collect();
    assert!(above.len() >= 100, "{what}: too few planted pairs ({})", above.len());
    let found = above.iter().filter(|p| candidate_set.contains(&(p.0, p.1))).count();
    let recall = found as f64 / above.len() as f64;
    assert!(recall >= 0.99, "{what}: candidate recall {recall} ({found}/{})", above.len());
    // S-curve: per 0.05 bin, the candidate rate against the mean of P(J) over the bin's pairs
    for bin in 10..20 {
        let (lo, hi) = (bin as f64 * 0.05, (bin + 1) as f64 * 0.05);
        let pairs: Vec<_> = truth.iter().filter(|p| p.2 >= lo && p.2 < hi).collect();
        if pairs.len() < 40 {
            continue;
        }
        let expected: f64 = pairs.iter().map(|p| banding.probability(p.2)).sum::<f64>() / pairs.len() as f64;
        let variance: f64 =
            pairs.iter().map(|p| banding.probability(p.2) * (1.0 - banding.probability(p.2))).sum::<f64>();
        let se = variance.sqrt() / pairs.len() as f64;
        let observed =
            pairs.iter().filter(|p| candidate_set.contains(&(p.0, p.1))).count() as f64 / pairs.len() as f64;
        assert!(
            (observed - expected).abs() <= 4.0 * se + 1e-9,
            "{what}: J in [{lo:.2}, {hi:.2}): candidate rate {observed:.4}, S-curve {expected:.4} ± 4·{se:.4} ({} pairs)",
            pairs.len()
        );
    }
    // the full pipeline: verified pairs are exactly the true pairs among the candidates
    let mut deduper = Deduper::new(DedupOptions::default()).unwrap();
    deduper.add(docs, None);
    let result = deduper.finish();
    // the pipeline works on distinct normalized texts: map each document to the first with its text
    let mut first: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let rep: Vec<u32> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| *first.entry(normalize(d, NormalizeOptions::default())).or_insert(i as u32))
        .collect();
    // (the pipeline hashes shingles its own way, so its candidates are an independent draw)
    let expected: std::collections::BTreeSet<(u32, u32)> = truth
        .iter()
        .filter(|p| p.2 >= THRESHOLD)
        .map(|p| (rep[p.0 as usize], rep[p.1 as usize]))
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.min(b), a.max(b)))
        .collect();
    let verified: std::collections::BTreeSet<(u32, u32)> = result.pairs.iter().map(|p| (p.0, p.1)).collect();
    assert!(verified.is_subset(&expected), "{what}: a verified pair is not a true pair");
    let pipeline_recall = verified.len() as f64 / expected.len() as f64;
    assert!(pipeline_recall >= 0.99, "{what}: pipeline pair recall {pipeline_recall}");
    assert!(result.pairs.iter().all(|p| p.2 >= THRESHOLD), "{what}: precision");
    for cluster in &result.clusters {
        for m in &cluster.members {
            assert!(m.similarity >= 0.0 && m.similarity <= 1.0);
        }
    }
    Measured { recall, truth_pairs: above.len() }
}

#[test]
fn planted_corpus_recall_precision_and_s_curve() {
    let corpus = planted_corpus(&PlantedSpec::default());
    let m = check_detection(&corpus.docs, "planted");
    assert!(m.truth_pairs > 500, "{}", m.truth_pairs);
    // precision: every verified pair of the pipeline is a true pair (exact Jaccard ≥ 0.8)
    let sets = sets_of(&corpus.docs);
    let mut deduper = Deduper::new(DedupOptions::default()).unwrap();
    deduper.add(&corpus.docs, None);
    let result = deduper.finish();
    for cluster in &result.clusters {
        for m in cluster.members.iter().filter(|m| m.relation == tailwatch_sketch::dedup::Relation::Near) {
            // a member joins through some verified edge; its similarity to the kept record is
            // reported exactly (it may be lower than the threshold only through chaining)
            let exact =
                tailwatch_sketch::shingle::jaccard(&sets[m.doc as usize], &sets[cluster.kept as usize]);
            assert!((exact - m.similarity).abs() < 1e-12);
        }
    }
    // with the exact join instead of LSH the verified pairs are exactly the true pairs (between
    // distinct normalized texts); LSH finds at least 99 % of them
    let mut first: std::collections::HashMap<&[u64], u32> = std::collections::HashMap::new();
    let rep: Vec<u32> =
        sets.iter().enumerate().map(|(i, s)| *first.entry(s.as_slice()).or_insert(i as u32)).collect();
    let truth: std::collections::BTreeSet<(u32, u32)> = all_pairs(&sets, THRESHOLD)
        .into_iter()
        .map(|p| (rep[p.0 as usize], rep[p.1 as usize]))
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.min(b), a.max(b)))
        .collect();
    let mut exact = Deduper::new(DedupOptions { exact_pairs: true, ..DedupOptions::default() }).unwrap();
    exact.add(&corpus.docs, None);
    let exact = exact.finish();
    let exact_pairs: std::collections::BTreeSet<(u32, u32)> =
        exact.pairs.iter().map(|p| (p.0, p.1)).collect();
    assert_eq!(exact_pairs, truth);
    let lsh_pairs: std::collections::BTreeSet<(u32, u32)> = result.pairs.iter().map(|p| (p.0, p.1)).collect();
    assert!(lsh_pairs.is_subset(&truth));
    let lsh_recall = lsh_pairs.len() as f64 / truth.len() as f64;
    assert!(lsh_recall >= 0.99, "pipeline pair recall {lsh_recall}");
}

#[test]
fn planted_copies_of_real_text() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/wikitext2/valid.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("needs {} ({e})", path.display()));
    let paragraphs: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.split(' ').count() >= 60 && !l.starts_with('='))
        .map(str::to_string)
        .collect();
    assert!(paragraphs.len() > 500);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut rng = <rand_pcg::Pcg64Mcg as rand::SeedableRng>::seed_from_u64(7);
    let mut docs = paragraphs.clone();
    // edit rates 0.2 %–5 % put most copies above J = 0.8 (a word edit breaks ~5 shingles)
    for (i, p) in paragraphs.iter().enumerate().take(1000) {
        let rate = 0.002 + 0.048 * ((i * 37 % 100) as f64 / 100.0);
        docs.push(mutate(p, rate, &mut rng, |r| {
            words[rand::RngExt::random_range(r, 0..words.len())].to_string()
        }));
    }
    let m = check_detection(&docs, "wikitext2 planted");
    assert!(m.recall >= 0.99);
}

/// |Ĵ − J| against sqrt(J(1−J)/K): RMSE per pair population, for classic and OPH.
#[test]
fn estimator_error_and_oph_against_classic() {
    let corpus = planted_corpus(&PlantedSpec { base_docs: 800, ..PlantedSpec::default() });
    let sets = sets_of(&corpus.docs);
    let pairs: Vec<(u32, u32, f64)> = all_pairs(&sets, 0.5).into_iter().filter(|p| p.2 < 1.0).collect();
    assert!(pairs.len() > 500);
    let rmse = |signatures: &[Vec<u32>]| {
        let mse: f64 = pairs
            .iter()
            .map(|&(a, b, j)| {
                (estimate_jaccard(&signatures[a as usize], &signatures[b as usize]) - j).powi(2)
            })
            .sum::<f64>()
            / pairs.len() as f64;
        mse.sqrt()
    };
    let theory =
        (pairs.iter().map(|p| p.2 * (1.0 - p.2) / K as f64).sum::<f64>() / pairs.len() as f64).sqrt();
    // an RMSE from n pairs has relative standard error ≈ 1/sqrt(2n)
    let slack = 1.0 + 4.0 / (2.0 * pairs.len() as f64).sqrt();
    let oph_signatures = oph(&sets);
    let classic_rmse = rmse(&classic(&sets));
    let oph_rmse = rmse(&oph_signatures);
    assert!(classic_rmse <= theory * slack, "classic RMSE {classic_rmse} vs theory {theory}");
    assert!(oph_rmse <= theory * slack, "OPH RMSE {oph_rmse} vs theory {theory}");
    assert!(oph_rmse <= 1.15 * classic_rmse, "OPH RMSE {oph_rmse} vs classic {classic_rmse}");
    let bias: f64 = pairs
        .iter()
        .map(|&(a, b, j)| estimate_jaccard(&oph_signatures[a as usize], &oph_signatures[b as usize]) - j)
        .sum::<f64>()
        / pairs.len() as f64;
    assert!(bias.abs() < 4.0 * theory / (pairs.len() as f64).sqrt(), "OPH bias {bias}");
}

#[test]
fn degenerate_corpora() {
    // every document identical: one exact cluster, no pair blow-up
    let same = vec!["the very same words in every single record of this corpus".to_string(); 5000];
    let mut d = Deduper::new(DedupOptions::default()).unwrap();
    d.add(&same, None);
    let r = d.finish();
    assert_eq!(
        (r.summary.kept, r.summary.exact_duplicates, r.summary.clusters, r.summary.largest_cluster),
        (1, 4999, 1, 5000)
    );
    assert_eq!(r.summary.candidate_pairs, 0);
    assert_eq!(
        r.warnings,
        [tailwatch_sketch::DedupWarning::CollapsedMode { cluster: 0, members: 5000 }],
        "a 5000-member cluster of one text exceeds the default max_cluster_size"
    );
    // empty documents are exact duplicates of each other and never near duplicates
    let docs: Vec<String> =
        vec!["".into(), "  ".into(), "!!!".into(), "a real document with enough words here".into()];
    let mut d = Deduper::new(DedupOptions::default()).unwrap();
    d.add(&docs, None);
    let r = d.finish();
    assert_eq!((r.summary.empty_docs, r.summary.exact_duplicates, r.summary.kept), (3, 2, 2));
    // shorter than the shingle size: the whole text is one shingle, so only identical
    // (normalized) short texts match
    let short: Vec<String> = vec!["two words".into(), "Two, WORDS!".into(), "two birds".into()];
    let mut d = Deduper::new(DedupOptions::default()).unwrap();
    d.add(&short, None);
    let r = d.finish();
    assert_eq!((r.summary.exact_duplicates, r.summary.near_duplicates, r.summary.kept), (1, 0, 2));
    // nothing at all
    let r = Deduper::new(DedupOptions { signature: SignatureMode::Classic, ..DedupOptions::default() })
        .unwrap()
        .finish();
    assert_eq!(r.summary.docs, 0);
}

#[test]
fn results_do_not_depend_on_threads_or_batches() {
    let corpus = planted_corpus(&PlantedSpec { base_docs: 150, ..PlantedSpec::default() });
    let run = |threads: usize, batch: usize| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
            let mut d = Deduper::new(DedupOptions::default()).unwrap();
            for chunk in corpus.docs.chunks(batch) {
                d.add(chunk, None);
            }
            let r = d.finish();
            (
                r.keep,
                r.clusters
                    .iter()
                    .map(|c| c.members.iter().map(|m| m.doc).collect::<Vec<_>>())
                    .collect::<Vec<_>>(),
            )
        })
    };
    assert_eq!(run(1, 10_000), run(2, 37));
}

#[test]
fn rereading_the_candidates_finds_what_keeping_every_set_finds() {
    use tailwatch_sketch::dedup::{RereadError, Verify};
    let corpus = planted_corpus(&PlantedSpec { base_docs: 150, ..PlantedSpec::default() });
    let docs = &corpus.docs;
    for signature in [
        SignatureMode::Oph,
        SignatureMode::Fss,
        SignatureMode::Classic,
        SignatureMode::Datasketch,
        SignatureMode::DatasketchLegacy,
    ] {
        let options = |verify| DedupOptions { signature, verify, ..DedupOptions::default() };
        let mut kept = Deduper::new(options(Verify::Exact)).unwrap();
        kept.add(docs, None);
        let kept = kept.finish();
        let mut reread = Deduper::new(options(Verify::Reread)).unwrap();
        reread.add(docs, None);
        let asked = std::sync::Mutex::new(Vec::new());
        let result = reread
            .finish_rereading(|doc| {
                asked.lock().unwrap().push(doc);
                Ok::<_, std::convert::Infallible>(docs[doc as usize].clone())
            })
            .unwrap();
        let mut asked = asked.into_inner().unwrap();
        asked.sort_unstable();
        assert!(kept.summary.verified_pairs > 20, "{signature:?}: {}", kept.summary.verified_pairs);
        assert_eq!(result.keep, kept.keep, "{signature:?}");
        assert_eq!(result.pairs, kept.pairs, "{signature:?}");
        let similarities = |r: &tailwatch_sketch::dedup::DedupResult| -> Vec<(u32, f64)> {
            r.clusters.iter().flat_map(|c| c.members.iter().map(|m| (m.doc, m.similarity))).collect()
        };
        assert_eq!(similarities(&result), similarities(&kept), "{signature:?}");
        // only the documents of candidate pairs are read again, each once
        assert!(asked.windows(2).all(|w| w[0] < w[1]), "{signature:?}");
        assert!(asked.len() < docs.len() / 2, "{signature:?}: {} of {}", asked.len(), docs.len());
        assert!(result.summary.memory_bytes < kept.summary.memory_bytes, "{signature:?}");
    }
    // a text that reads differently the second time is refused, naming its document
    let mut d = Deduper::new(DedupOptions { verify: Verify::Reread, ..DedupOptions::default() }).unwrap();
    d.add(docs, None);
    let changed_doc = std::sync::OnceLock::new();
    let changed = d.finish_rereading(|doc| {
        let mut text = docs[doc as usize].clone();
        if changed_doc.get_or_init(|| doc) == &doc {
            text.push_str(" and one more word");
        }
        Ok::<_, std::convert::Infallible>(text)
    });
    match changed {
        Err(RereadError::Changed { doc }) => assert_eq!(Some(&doc), changed_doc.get()),
        other => panic!("{other:?}"),
    }
    let mut d = Deduper::new(DedupOptions { verify: Verify::Reread, ..DedupOptions::default() }).unwrap();
    d.add(docs, None);
    let failed = d.finish_rereading(|_| Err::<String, _>("disk gone"));
    assert!(matches!(failed, Err(RereadError::Read("disk gone"))), "{failed:?}");
}
