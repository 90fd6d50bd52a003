//! Why a comparison says what it says: the n-grams whose share grew, the baseline's words the
//! candidate lost, the candidate's repeated outputs and its closest near-duplicate pairs.
/// Hash maps keyed by token ids and n-grams: foldhash, several times faster than SipHash on
/// these small keys (nothing here needs DoS resistance; results are sorted before use).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

use serde::Serialize;
use statrs::distribution::{Binomial, DiscreteCDF};
use tailwatch_core::Tokenizer;
use tailwatch_sketch::allpairs::all_pairs;
use tailwatch_sketch::normalize::{NormalizeOptions, normalize};
use tailwatch_sketch::shingle::shingle_set;

use crate::Result;
use tailwatch_metrics::lexical::{OPENING_TOKENS, leading_ngram_counts};

/// How many of each kind an explanation lists.
pub const LIMIT: usize = 10;
/// The n-gram order whose growth is listed: templates show as repeated trigrams.
pub const GROWN_ORDER: usize = 3;
/// The family-wise error rate of the lists: over all the n-grams (words) tested, the chance
/// that any listed one is there by chance alone is at most this (Bonferroni).
pub const FAMILY_ERROR: f64 = 0.05;
/// Near-duplicate pairs: word 3-gram sets with Jaccard at least this.
pub const NEAR_DUPLICATE_JACCARD: f64 = 0.5;
/// Grown n-grams are tested in order of growth, at most this many (the list shows the top ones).
pub const GROWN_TESTED: usize = 1_000;
/// Distinct candidate documents searched for near-duplicate pairs (the first ones): the list is
/// an illustration, and an exact all-pairs join over 100,000 documents costs seconds.
pub const NEAR_DUPLICATE_DOCS: usize = 2_000;
/// Characters of a document an explanation quotes.
const QUOTE: usize = 300;

/// What changed between a baseline and a candidate, in their own words.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Explanation {
    /// The word trigrams whose share of all trigrams grew most, largest growth first: only those
    /// whose growth chance alone explains with probability below [`FAMILY_ERROR`] over all the
    /// candidate's trigrams (a binomial tail of how its occurrences split between the sides).
    pub grown_ngrams: Vec<GrownNgram>,
    /// Words of the baseline the candidate never uses, where chance alone would leave the
    /// candidate without each with probability below [`FAMILY_ERROR`] over all the baseline's
    /// words; most frequent first.
    pub lost_words: Vec<LostWord>,
    /// The candidate's documents that occur more than once, most repeated first.
    pub repeated_outputs: Vec<RepeatedOutput>,
    /// The candidate's most similar pairs of distinct documents.
    pub near_duplicates: Vec<NearDuplicate>,
    /// The candidate's most common openings (leading 5-grams) shared by two documents or more,
    /// most common first, with their counts on both sides: templated answers. Only those more
    /// common than chance explains with probability below [`FAMILY_ERROR`] over all the
    /// candidate's shared openings (a binomial tail of how its documents split between the
    /// sides, as for n-grams).
    pub top_openings: Vec<Opening>,
}

/// A leading 5-gram of the candidate's documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opening {
    /// Its tokens, joined by spaces.
    pub opening: String,
    /// Candidate documents that open with it.
    pub candidate_count: u64,
    /// Its share of the candidate's documents of 5 tokens or more.
    pub candidate_share: f64,
    /// Baseline documents that open with it.
    pub baseline_count: u64,
}

/// An n-gram whose share grew.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrownNgram {
    /// Its tokens, joined by spaces.
    pub ngram: String,
    /// Occurrences in the baseline.
    pub baseline_count: u64,
    /// Occurrences in the candidate.
    pub candidate_count: u64,
    /// Its share of the baseline's n-grams.
    pub baseline_share: f64,
    /// Its share of the candidate's n-grams.
    pub candidate_share: f64,
}

/// A baseline word the candidate lost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostWord {
    /// The word.
    pub word: String,
    /// Occurrences in the baseline.
    pub baseline_count: u64,
    /// Occurrences expected in the candidate at the baseline's rate.
    pub expected: f64,
}

/// A repeated candidate output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepeatedOutput {
    /// The document (its first 300 characters).
    pub text: String,
    /// Copies in the candidate.
    pub candidate_count: u64,
    /// Copies in the baseline.
    pub baseline_count: u64,
}

/// Two similar candidate documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearDuplicate {
    /// The first (its first 300 characters).
    pub first: String,
    /// The second.
    pub second: String,
    /// Jaccard similarity of their word 3-gram sets.
    pub jaccard: f64,
}

fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Token ids shared by both sides (so that counts compare), and each id's token.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    tokens: Vec<String>,
}

impl Interner {
    fn id(&mut self, token: &str) -> u32 {
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = self.tokens.len() as u32;
        self.tokens.push(token.to_string());
        self.ids.insert(token.to_string(), id);
        id
    }
}

/// Token and n-gram counts of one side, by token id.
struct Counts {
    words: HashMap<u32, u64>,
    ngrams: HashMap<[u32; GROWN_ORDER], u64>,
    tokens: u64,
    ngram_total: u64,
    /// The first tokens of each document of at least that many (its opening).
    openings: Vec<[u32; OPENING_TOKENS]>,
}

fn counts(docs: &[&str], tokenizer: &Tokenizer, interner: &mut Interner) -> Result<Counts> {
    let mut c = Counts {
        words: HashMap::default(),
        ngrams: HashMap::default(),
        tokens: 0,
        ngram_total: 0,
        openings: Vec::new(),
    };
    let mut ids = Vec::new();
    for doc in docs {
        ids.clear();
        tokenizer.tokenize(doc, |t| ids.push(interner.id(t)))?;
        c.tokens += ids.len() as u64;
        if let Some(opening) = ids.first_chunk::<OPENING_TOKENS>() {
            c.openings.push(*opening);
        }
        for &id in &ids {
            *c.words.entry(id).or_default() += 1;
        }
        for window in ids.windows(GROWN_ORDER) {
            let key: [u32; GROWN_ORDER] = window.try_into().expect("a window of the order");
            *c.ngrams.entry(key).or_default() += 1;
            c.ngram_total += 1;
        }
    }
    Ok(c)
}

/// Explain how `candidate` differs from `baseline` (documents tokenized by `tokenizer`).
pub fn explain<'a>(
    baseline: &[&'a str],
    candidate: &[&'a str],
    tokenizer: &Tokenizer,
) -> Result<Explanation> {
    let mut interner = Interner::default();
    let b = counts(baseline, tokenizer, &mut interner)?;
    let c = counts(candidate, tokenizer, &mut interner)?;
    let words =
        |ids: &[u32]| ids.iter().map(|&i| interner.tokens[i as usize].as_str()).collect::<Vec<_>>().join(" ");
    let share = |count: u64, total: u64| if total == 0 { 0.0 } else { count as f64 / total as f64 };

    // an n-gram's k occurrences on both sides fall on the candidate's side with probability
    // p = its share of all n-grams when nothing changed: a binomial tail tests its count
    let ngram_p = share(c.ngram_total, b.ngram_total + c.ngram_total);
    let tested = c.ngrams.values().filter(|&&count| count >= 3).count().max(1) as f64;
    let surprising = |baseline_count: u64, candidate_count: u64| {
        Binomial::new(ngram_p, baseline_count + candidate_count)
            .is_ok_and(|tail| tail.sf(candidate_count - 1) < FAMILY_ERROR / tested)
    };
    // the n-grams whose share grew, largest growth first; tested in that order until LIMIT pass
    // (the tail test is the costly part, and only the top ones are listed)
    let mut rising: Vec<(&[u32; GROWN_ORDER], u64, u64, f64)> = c
        .ngrams
        .iter()
        .filter(|&(_, &count)| count >= 3)
        .map(|(ngram, &candidate_count)| {
            let baseline_count = b.ngrams.get(ngram).copied().unwrap_or(0);
            let growth = share(candidate_count, c.ngram_total) - share(baseline_count, b.ngram_total);
            (ngram, baseline_count, candidate_count, growth)
        })
        .filter(|r| r.3 > 0.0)
        .collect();
    rising.sort_by(|x, y| y.3.total_cmp(&x.3).then_with(|| x.0.cmp(y.0)));
    let mut grown: Vec<GrownNgram> = Vec::new();
    for (ngram, baseline_count, candidate_count, _) in rising.into_iter().take(GROWN_TESTED) {
        if grown.len() == LIMIT {
            break;
        }
        if surprising(baseline_count, candidate_count) {
            grown.push(GrownNgram {
                ngram: words(ngram),
                baseline_count,
                candidate_count,
                baseline_share: share(baseline_count, b.ngram_total),
                candidate_share: share(candidate_count, c.ngram_total),
            });
        }
    }

    // ties in alphabetical order, for people
    grown.sort_by(|x, y| {
        (y.candidate_share - y.baseline_share)
            .total_cmp(&(x.candidate_share - x.baseline_share))
            .then_with(|| x.ngram.cmp(&y.ngram))
    });

    // none of a word's k occurrences falls on the candidate's side with probability (1 - p)^k,
    // p the candidate's share of all tokens: listed when below the family error of all words
    let rate = if b.tokens == 0 { 0.0 } else { c.tokens as f64 / b.tokens as f64 };
    let token_p = share(c.tokens, b.tokens + c.tokens);
    let words_tested = b.words.len().max(1) as f64;
    let mut lost: Vec<LostWord> = b
        .words
        .iter()
        .filter(|(word, _)| !c.words.contains_key(*word))
        .map(|(&word, &count)| LostWord {
            word: interner.tokens[word as usize].clone(),
            baseline_count: count,
            expected: count as f64 * rate,
        })
        .filter(|l| (1.0 - token_p).powf(l.baseline_count as f64) < FAMILY_ERROR / words_tested)
        .collect();
    lost.sort_by(|x, y| y.baseline_count.cmp(&x.baseline_count).then_with(|| x.word.cmp(&y.word)));
    lost.truncate(LIMIT);

    let copies = |docs: &[&'a str]| {
        let mut seen: HashMap<&'a str, u64> = HashMap::default();
        for doc in docs {
            *seen.entry(doc.trim()).or_default() += 1;
        }
        seen
    };
    let (b_copies, c_copies) = (copies(baseline), copies(candidate));
    let mut repeated: Vec<RepeatedOutput> = c_copies
        .iter()
        .filter(|&(_, &count)| count > 1)
        .map(|(text, &count)| RepeatedOutput {
            text: quote(text),
            candidate_count: count,
            baseline_count: b_copies.get(text).copied().unwrap_or(0),
        })
        .collect();
    repeated.sort_by(|x, y| y.candidate_count.cmp(&x.candidate_count).then_with(|| x.text.cmp(&y.text)));
    repeated.truncate(LIMIT);

    // near-duplicates among distinct documents, in input order
    let mut distinct: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for doc in candidate {
        if distinct.len() < NEAR_DUPLICATE_DOCS && seen.insert(doc.trim()) {
            distinct.push(doc.trim());
        }
    }
    let sets: Vec<Vec<u64>> =
        distinct.iter().map(|d| shingle_set(&normalize(d, NormalizeOptions::default()), 3)).collect();
    let mut pairs: Vec<(u32, u32, f64)> = all_pairs(&sets, NEAR_DUPLICATE_JACCARD)
        .into_iter()
        .filter(|p| !sets[p.0 as usize].is_empty())
        .collect();
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then_with(|| (x.0, x.1).cmp(&(y.0, y.1))));
    pairs.truncate(LIMIT);
    let near_duplicates = pairs
        .into_iter()
        .map(|(i, j, jaccard)| NearDuplicate {
            first: quote(distinct[i as usize]),
            second: quote(distinct[j as usize]),
            jaccard,
        })
        .collect();

    let top_openings = openings(&b.openings, &c.openings, &interner);
    Ok(Explanation {
        grown_ngrams: grown,
        lost_words: lost,
        repeated_outputs: repeated,
        near_duplicates,
        top_openings,
    })
}

/// The candidate's most common openings shared by two documents or more ([`LIMIT`] at most),
/// with the baseline's counts of each.
fn openings(
    baseline: &[[u32; OPENING_TOKENS]],
    candidate: &[[u32; OPENING_TOKENS]],
    interner: &Interner,
) -> Vec<Opening> {
    // as words, so that ties rank in alphabetical order
    let words = |openings: &[[u32; OPENING_TOKENS]]| -> Vec<Vec<&str>> {
        openings
            .iter()
            .map(|ids| ids.iter().map(|&i| interner.tokens[i as usize].as_str()).collect())
            .collect()
    };
    let (b, c) = (words(baseline), words(candidate));
    let (eligible, ranked) = leading_ngram_counts(c.iter().map(Vec::as_slice), OPENING_TOKENS, usize::MAX);
    let (b_eligible, in_baseline) =
        leading_ngram_counts(b.iter().map(Vec::as_slice), OPENING_TOKENS, usize::MAX);
    let in_baseline: std::collections::BTreeMap<Vec<&str>, usize> = in_baseline.into_iter().collect();
    // an opening's documents fall on the candidate's side with probability p = its share of
    // the documents of 5 tokens or more when nothing changed
    let p = eligible as f64 / (eligible + b_eligible).max(1) as f64;
    let shared = ranked.iter().filter(|(_, count)| *count >= 2).count().max(1) as f64;
    let surprising = |candidate: usize, baseline: usize| {
        Binomial::new(p, (candidate + baseline) as u64)
            .is_ok_and(|tail| tail.sf(candidate as u64 - 1) < FAMILY_ERROR / shared)
    };
    ranked
        .into_iter()
        .filter(|(opening, count)| {
            *count >= 2 && surprising(*count, in_baseline.get(opening).copied().unwrap_or(0))
        })
        .take(LIMIT)
        .map(|(opening, count)| Opening {
            baseline_count: in_baseline.get(&opening).copied().unwrap_or(0) as u64,
            opening: opening.join(" "),
            candidate_count: count as u64,
            candidate_share: count as f64 / eligible as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_templated_opening_is_listed_and_a_shared_one_is_not() {
        let tokenizer = Tokenizer::from_spec(&tailwatch_core::TokenizerSpec::words()).unwrap();
        let baseline: Vec<String> = (0..200)
            .map(|i| {
                if i % 10 == 0 {
                    format!("in other news today item {i} moved")
                } else {
                    format!("doc {i} tells of river {i} and hill {}", i * 7)
                }
            })
            .collect();
        let mut candidate: Vec<String> = (0..170)
            .map(|i| {
                if i % 10 == 0 {
                    format!("in other news today item {i} moved")
                } else {
                    format!("doc {i} tells of river {i} and hill {}", i * 3)
                }
            })
            .collect();
        candidate.extend((0..30).map(|i| format!("I'm sorry, but I cannot help with request {i}")));
        let (b, c): (Vec<&str>, Vec<&str>) =
            (baseline.iter().map(String::as_str).collect(), candidate.iter().map(String::as_str).collect());
        let why = explain(&b, &c, &tokenizer).unwrap();
        let listed: Vec<&str> = why.top_openings.iter().map(|o| o.opening.as_str()).collect();
        assert_eq!(listed, ["I'm sorry but I cannot"], "{:?}", why.top_openings);
        assert_eq!((why.top_openings[0].candidate_count, why.top_openings[0].baseline_count), (30, 0));
    }

    #[test]
    fn a_planted_template_repeats_and_lost_words_show() {
        let tokenizer = Tokenizer::from_spec(&tailwatch_core::TokenizerSpec::words()).unwrap();
        let mut baseline = Vec::new();
        for i in 0..200 {
            baseline.push(format!("the river {i} runs past the old mill and the quiet harbor"));
        }
        let baseline: Vec<&str> = baseline.iter().map(String::as_str).collect();
        let mut candidate: Vec<String> =
            (0..150).map(|i| format!("the river {i} runs past the old mill")).collect();
        for _ in 0..20 {
            candidate.push("as an ai model i cannot help with that".into());
        }
        candidate.push("as an ai model i cannot help with this".into());
        let candidate: Vec<&str> = candidate.iter().map(String::as_str).collect();
        let why = explain(&baseline, &candidate, &tokenizer).unwrap();
        assert!(why.grown_ngrams.iter().any(|g| g.ngram == "as an ai" && g.candidate_count == 21));
        assert_eq!(why.repeated_outputs[0].text, "as an ai model i cannot help with that");
        assert_eq!(
            (why.repeated_outputs[0].candidate_count, why.repeated_outputs[0].baseline_count),
            (20, 0)
        );
        let lost: Vec<&str> = why.lost_words.iter().map(|l| l.word.as_str()).collect();
        assert!(lost.contains(&"harbor") && lost.contains(&"quiet"), "{lost:?}");
        assert!(!lost.contains(&"river"));
        let near = &why.near_duplicates[0];
        assert!(near.jaccard < 1.0 && near.jaccard >= NEAR_DUPLICATE_JACCARD);
        assert!(near.first.starts_with("as an ai model") && near.second.starts_with("as an ai model"));
    }

    #[test]
    fn chance_differences_are_not_listed() {
        // two halves of one stream of varied sentences: no n-gram grew beyond chance
        let tokenizer = Tokenizer::from_spec(&tailwatch_core::TokenizerSpec::words()).unwrap();
        let words =
            ["river", "stone", "light", "quiet", "engine", "garden", "signal", "winter", "copper", "market"];
        let docs: Vec<String> = (0..400u64)
            .map(|i| {
                let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                (0..8)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        words[(x % 10) as usize]
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let why = explain(&docs[..200], &docs[200..], &tokenizer).unwrap();
        assert!(why.grown_ngrams.is_empty(), "{:?}", why.grown_ngrams);
        assert!(why.lost_words.is_empty(), "{:?}", why.lost_words);
    }

    #[test]
    fn the_same_documents_explain_nothing() {
        let tokenizer = Tokenizer::from_spec(&tailwatch_core::TokenizerSpec::words()).unwrap();
        let docs = ["one two three four", "five six seven eight", "nine ten eleven twelve"];
        let why = explain(&docs, &docs, &tokenizer).unwrap();
        assert_eq!(why, Explanation::default());
        assert_eq!(quote(&"é".repeat(400)).chars().count(), QUOTE + 1);
    }
}
