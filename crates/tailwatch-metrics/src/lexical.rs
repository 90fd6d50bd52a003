//! Metrics that need no reference, computed from a [`Profile`] (and its document sample).
//!
//! Each id's formula, range, collapse direction and source is in [`crate::catalog::METRICS`];
//! the exact computation and its cost is documented on the function that computes it here.
use std::collections::BTreeMap;

use tailwatch_core::Tokenizer;

use crate::accumulator::MetricSet;
use crate::catalog::metric_info;
use crate::ngram_table::{MAX_ORDER, extend_key, for_each_run};
use crate::numeric::fsum;
use crate::profile::{Profile, ProfileParts};
use crate::richness::{MTLD_THRESHOLD, hdd, mtld, zipf_coefficient};
use crate::selfbleu::{bleu_counts_up_to, mean};
use crate::{Error, Result};

/// Metric values with their status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricValues {
    /// Value per metric id; `None` when undefined for this input (e.g. self-BLEU of one doc).
    pub values: BTreeMap<String, Option<f64>>,
    /// Ids whose values are estimates (sketches).
    pub approximate: Vec<String>,
    /// Notes for the reader (why something is undefined or approximate).
    pub notes: Vec<String>,
}

impl MetricValues {
    /// Set a value.
    pub fn set(&mut self, id: &str, value: Option<f64>) {
        self.values.insert(id.to_string(), value.filter(|v| v.is_finite()));
    }
    /// Read a value.
    pub fn get(&self, id: &str) -> Option<f64> {
        self.values.get(id).copied().flatten()
    }
    /// Add everything of `other`.
    pub fn extend(&mut self, other: MetricValues) {
        self.values.extend(other.values);
        self.approximate.extend(other.approximate);
        self.notes.extend(other.notes);
    }
}

/// Which metrics to compute: all of them, or only some ids (so a caller who wants self-BLEU pays
/// for self-BLEU alone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricSelection {
    /// Every metric the inputs allow.
    #[default]
    All,
    /// Only these catalog ids.
    Only(std::collections::BTreeSet<String>),
}

/// The metrics computed on the bottom-k document sample: past the sample's size they no longer
/// depend on how many documents a profile holds.
pub const SAMPLE_METRICS: &[&str] = &[
    "opening_template_share",
    "self_bleu_2",
    "self_bleu_3",
    "self_bleu_4",
    "self_bleu_5",
    "mtld",
    "compression_ratio",
    "self_repetition",
];

impl MetricSelection {
    /// Only `ids`, each of which must be a catalog id.
    pub fn only<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Result<Self> {
        let mut set = std::collections::BTreeSet::new();
        for id in ids {
            let id = id.as_ref().trim();
            if metric_info(id).is_none() {
                return Err(Error::UnknownMetric { id: id.to_string() });
            }
            set.insert(id.to_string());
        }
        Ok(MetricSelection::Only(set))
    }

    /// Whether `id` is asked for.
    pub fn wants(&self, id: &str) -> bool {
        match self {
            MetricSelection::All => true,
            MetricSelection::Only(ids) => ids.contains(id),
        }
    }

    /// Whether any of `ids` is asked for.
    pub fn wants_any(&self, ids: &[&str]) -> bool {
        ids.iter().any(|id| self.wants(id))
    }

    /// Keep only the asked-for values of `values` (and their `approximate` entries).
    pub fn retain(&self, values: &mut MetricValues) {
        if let MetricSelection::Only(ids) = self {
            values.values.retain(|id, _| ids.contains(id));
            values.approximate.retain(|id| ids.contains(id));
        }
    }
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

/// The sampled documents as token-hash sequences, in sample (content-hash) order, each repeated
/// by its copies. Documents sampled as text alone (profiles of formats 1 and 2) are tokenized,
/// in parallel on the current rayon pool; the result does not depend on its size.
pub fn sample_token_hashes(profile: &Profile, tokenizer: &Tokenizer) -> Result<Vec<Vec<u64>>> {
    use rayon::prelude::*;
    let docs: Vec<&crate::sample::SampledDoc> = profile.sample().docs().map(|(_, d)| d).collect();
    let hashed: Vec<Vec<u64>> = docs
        .par_iter()
        .with_min_len(64)
        .map(|doc| match (&doc.tokens, &doc.text) {
            (Some(tokens), _) => Ok(tokens.clone()),
            (None, Some(text)) => {
                let mut hashes = Vec::new();
                tokenizer.tokenize(text, |t| hashes.push(tailwatch_core::stable_hash(t)))?;
                Ok(hashes)
            }
            (None, None) => unreachable!("a sampled document has text or tokens"),
        })
        .collect::<Result<_>>()?;
    Ok(docs
        .iter()
        .zip(hashed)
        .flat_map(|(doc, tokens)| std::iter::repeat_n(tokens, doc.copies as usize))
        .collect())
}

/// Every metric that needs no reference, or those of them `selection` asks for.
///
/// Costs: distinct-n, entropy, Zipf, HD-D, rep-n, duplicates: O(types + distinct n-grams) from the
/// profile; self-BLEU, MTLD, compression ratio, self-repetition: O(sample tokens) on the sample
/// (the sample is tokenized only when one of them is asked for, and self-BLEU counts n-grams up
/// to the highest order asked for).
pub fn lexical_metrics(
    profile: &Profile,
    tokenizer: &Tokenizer,
    selection: &MetricSelection,
) -> Result<MetricValues> {
    let (mut out, from_sample) =
        rayon::join(|| corpus_metrics(profile, selection), || sample_metrics(profile, tokenizer, selection));
    out.extend(from_sample?);
    selection.retain(&mut out);
    Ok(out)
}

/// Tokens of the opening `opening_template_share` compares: a leading 5-gram.
pub const OPENING_TOKENS: usize = 5;

/// How many of `docs` have at least `n` tokens, and the most common leading `n`-grams among
/// them with their counts (at most `top`), most common first, ties in key order. O(docs · n).
pub fn leading_ngram_counts<'a, T: Ord + Clone + 'a>(
    docs: impl IntoIterator<Item = &'a [T]>,
    n: usize,
    top: usize,
) -> (usize, Vec<(Vec<T>, usize)>) {
    let mut counts: BTreeMap<&'a [T], usize> = BTreeMap::new();
    let mut eligible = 0;
    for doc in docs {
        if doc.len() >= n {
            eligible += 1;
            *counts.entry(&doc[..n]).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&[T], usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    (eligible, ranked.into_iter().take(top).map(|(k, c)| (k.to_vec(), c)).collect())
}

/// The metrics read from the profile's counts.
fn corpus_metrics(profile: &Profile, selection: &MetricSelection) -> MetricValues {
    let mut out = MetricValues::default();
    match profile.phrase_counts() {
        Some(counts) => {
            out.set("refusal_rate", counts.refusal_rate());
            out.set("disclaimer_rate", counts.disclaimer_rate());
        }
        None if selection.wants_any(&["refusal_rate", "disclaimer_rate"]) && profile.parts().documents => {
            out.set("refusal_rate", None);
            out.set("disclaimer_rate", None);
            out.notes.push(format!(
                "refusal_rate and disclaimer_rate: this profile's refusals were not counted with phrase bank {} (written before it, or merged with such a profile)",
                crate::phrases::PHRASE_BANK_VERSION
            ));
        }
        None => {}
    }
    let n_tokens = profile.n_tokens() as f64;
    let n_docs = profile.n_docs() as f64;

    // distinct-n and ngram_diversity
    let mut diversity = Some(0.0);
    for n in 1..=MAX_ORDER {
        let total = profile.ngram_total(n) as f64;
        // a sketch's estimate can overshoot; no more distinct n-grams than n-grams exist
        let unique =
            if n == 1 { profile.n_types() as f64 } else { profile.ngram_table(n).distinct().min(total) };
        let d = ratio(unique, total);
        out.set(&format!("distinct_{n}"), d);
        diversity = diversity.zip(d).map(|(a, b)| a + b);
    }
    out.set("ngram_diversity", diversity);
    if profile.is_sketched()
        && selection.wants_any(&["distinct_2", "distinct_3", "distinct_4", "ngram_diversity"])
    {
        for id in ["distinct_2", "distinct_3", "distinct_4", "ngram_diversity"] {
            out.approximate.push(id.to_string());
        }
        out.notes.push(format!(
            "distinct n-gram counts for n >= 2 are HyperLogLog estimates (relative standard error {:.1} %) because the exact tables exceeded the memory budget",
            104.0 / f64::from(1u32 << crate::ngram_table::HLL_LG_K).sqrt()
        ));
    }

    // unigram distribution
    if selection.wants_any(&["entropy_1", "effective_vocab", "zipf_coefficient", "hdd"]) {
        unigram_distribution(profile, &mut out);
    }

    // within-document repetition
    for n in 2..=MAX_ORDER {
        let total = profile.ngram_total(n) as f64;
        out.set(&format!("rep_{n}"), ratio(profile.unique_in_docs(n) as f64, total).map(|u| 1.0 - u));
    }

    // exact duplicates
    let (mut duplicated, mut top) = (0u64, 0u64);
    for m in profile.doc_multiplicities() {
        if m > 1 {
            duplicated += m;
        }
        top = top.max(m);
    }
    out.set("duplicate_rate", ratio(duplicated as f64, n_docs));
    out.set("top_output_share", ratio(top as f64, n_docs));
    out.set("mean_doc_tokens", ratio(n_tokens, n_docs));
    out
}

/// entropy_1, effective_vocab, zipf_coefficient and hdd, from the unigram counts.
fn unigram_distribution(profile: &Profile, out: &mut MetricValues) {
    let n_tokens = profile.n_tokens() as f64;
    let counts: Vec<u64> = profile.token_stats().map(|(_, s)| s.count).collect();
    let entropy = (n_tokens > 0.0).then(|| {
        -fsum(counts.iter().map(|&c| {
            let p = c as f64 / n_tokens;
            p * p.log2()
        }))
    });
    out.set("entropy_1", entropy.map(|h| h + 0.0));
    out.set("effective_vocab", entropy.map(f64::exp2));
    out.set("zipf_coefficient", zipf_coefficient(counts.clone(), 5000).map(|(s, _)| s));
    out.set("hdd", hdd(counts.iter().copied(), profile.n_tokens(), 42));
}

/// Self-BLEU orders, by id.
const SELF_BLEU: [(&str, usize); 4] =
    [("self_bleu_2", 2), ("self_bleu_3", 3), ("self_bleu_4", 4), ("self_bleu_5", 5)];

/// The metrics computed on the document sample.
fn sample_metrics(
    profile: &Profile,
    tokenizer: &Tokenizer,
    selection: &MetricSelection,
) -> Result<MetricValues> {
    let mut out = MetricValues::default();
    let bleu_order = SELF_BLEU.iter().filter(|(id, _)| selection.wants(id)).map(|(_, n)| *n).max();
    let wants_tokens =
        bleu_order.is_some() || selection.wants_any(&["mtld", "self_repetition", "opening_template_share"]);
    let sample = if wants_tokens { sample_token_hashes(profile, tokenizer)? } else { Vec::new() };
    if let Some(max_order) = bleu_order {
        let hyps: Vec<usize> = (0..sample.len()).collect();
        let counts = bleu_counts_up_to(&sample, &hyps, max_order);
        for (id, n) in SELF_BLEU.into_iter().filter(|(_, n)| *n <= max_order) {
            let value = counts.as_ref().and_then(|c| mean(&c.iter().map(|b| b.bleu(n)).collect::<Vec<_>>()));
            out.set(id, value);
        }
        if counts.is_none() {
            out.notes.push("self-BLEU needs at least 2 documents in the sample".into());
        }
    }
    if selection.wants("opening_template_share") {
        let (eligible, top) = leading_ngram_counts(sample.iter().map(Vec::as_slice), OPENING_TOKENS, 1);
        out.set("opening_template_share", top.first().map(|(_, count)| *count as f64 / eligible as f64));
        if eligible == 0 {
            out.notes.push(format!(
                "opening_template_share needs sampled documents of {OPENING_TOKENS} tokens or more"
            ));
        }
    }
    if selection.wants("mtld") {
        let stream: Vec<u64> = sample.iter().flatten().copied().collect();
        out.set("mtld", mtld(&stream, MTLD_THRESHOLD));
    }
    if selection.wants("compression_ratio") {
        if profile.sample().has_text() {
            let joined = profile.sample().texts().collect::<Vec<_>>().join(" ");
            out.set("compression_ratio", crate::compression::gzip_ratio(joined.as_bytes()));
        } else {
            out.set("compression_ratio", None);
            out.notes.push(
                "compression_ratio needs the sample's text, and this profile keeps none (profile with --keep-text to keep it)"
                    .into(),
            );
        }
    }
    if selection.wants("self_repetition") {
        match profile.ngram_table(4).exact() {
            Some(table) => {
                let scores: Vec<f64> = sample
                    .iter()
                    .map(|doc| {
                        let mut keys: Vec<u64> = doc
                            .windows(4)
                            .map(|w| extend_key(extend_key(extend_key(w[0], w[1]), w[2]), w[3]))
                            .collect();
                        let mut others = 0u64;
                        for_each_run(&mut keys, |k, _| {
                            others += table.get(k).map_or(1, |s| u64::from(s.docs)) - 1;
                        });
                        (others as f64 + 1.0).ln()
                    })
                    .collect();
                out.set("self_repetition", mean(&scores));
            }
            None => {
                out.set("self_repetition", None);
                out.notes.push(
                    "self_repetition needs exact 4-gram document frequencies; raise --max-memory".into(),
                );
            }
        }
    }
    Ok(out)
}

/// `coverage_at_k` and `exposure_gini` for recommendation lists (`items` tokenizer).
///
/// coverage_at_k = |catalog items in any top-k list| / |catalog|; exposure_gini = Gini of the
/// top-k exposure counts over the catalog (unexposed items count as 0). The catalog is the given
/// item list, else every item seen at any position. Cost: O(catalog log catalog). Source:
/// Ge et al. 2010 (coverage), Abdollahpouri et al. 2019 (exposure Gini).
pub fn item_metrics(profile: &Profile, catalog: Option<&[String]>) -> MetricValues {
    let mut out = MetricValues::default();
    let mut exposures: Vec<u64> = match catalog {
        Some(items) => {
            let unique: std::collections::BTreeSet<&str> = items.iter().map(String::as_str).collect();
            unique.into_iter().map(|item| profile.token(item).map_or(0, |s| s.exposure)).collect()
        }
        None => profile.token_stats().map(|(_, s)| s.exposure).collect(),
    };
    let covered = exposures.iter().filter(|&&e| e > 0).count();
    out.set("coverage_at_k", ratio(covered as f64, exposures.len() as f64));
    exposures.sort_unstable();
    let total: u64 = exposures.iter().sum();
    let n = exposures.len() as f64;
    let gini = (total > 0).then(|| {
        let weighted =
            fsum(exposures.iter().enumerate().map(|(i, &x)| (2.0 * (i as f64 + 1.0) - n - 1.0) * x as f64));
        weighted / (n * total as f64)
    });
    out.set("exposure_gini", gini);
    out
}

/// The ids [`lexical_metrics`] computes.
pub const LEXICAL_IDS: &[&str] = &[
    "distinct_1",
    "distinct_2",
    "distinct_3",
    "distinct_4",
    "ngram_diversity",
    "entropy_1",
    "effective_vocab",
    "zipf_coefficient",
    "mtld",
    "hdd",
    "self_bleu_2",
    "self_bleu_3",
    "self_bleu_4",
    "self_bleu_5",
    "compression_ratio",
    "self_repetition",
    "rep_2",
    "rep_3",
    "rep_4",
    "duplicate_rate",
    "top_output_share",
    "refusal_rate",
    "disclaimer_rate",
    "opening_template_share",
    "mean_doc_tokens",
];

/// The ids [`item_metrics`] computes.
pub const ITEM_IDS: &[&str] = &["coverage_at_k", "exposure_gini"];

/// The metrics of [`lexical_metrics`], as a [`MetricSet`]: the sample is tokenized with
/// `tokenizer`.
#[derive(Debug, Clone, Copy)]
pub struct LexicalMetrics<'t> {
    /// The profile's tokenizer.
    pub tokenizer: &'t Tokenizer,
}

impl MetricSet<Profile> for LexicalMetrics<'_> {
    fn ids(&self) -> &'static [&'static str] {
        LEXICAL_IDS
    }
    fn compute(&self, profile: &Profile, selection: &MetricSelection) -> Result<MetricValues> {
        lexical_metrics(profile, self.tokenizer, selection)
    }
}

/// The metrics of [`item_metrics`], as a [`MetricSet`].
#[derive(Debug, Clone, Copy)]
pub struct ItemListMetrics<'c> {
    /// The catalog of item ids (default: every item seen).
    pub catalog: Option<&'c [String]>,
}

impl MetricSet<Profile> for ItemListMetrics<'_> {
    fn ids(&self) -> &'static [&'static str] {
        ITEM_IDS
    }
    fn compute(&self, profile: &Profile, selection: &MetricSelection) -> Result<MetricValues> {
        let mut values = item_metrics(profile, self.catalog);
        selection.retain(&mut values);
        Ok(values)
    }
}

impl ProfileParts {
    /// The parts a profile must keep for the metrics `selection` asks for (those against a
    /// reference included): a run that asks for self-BLEU alone keeps the sample alone.
    pub fn needed_by(selection: &MetricSelection) -> ProfileParts {
        const TOKENS: &[&str] = &[
            "distinct_1",
            "distinct_2",
            "distinct_3",
            "distinct_4",
            "ngram_diversity",
            "entropy_1",
            "effective_vocab",
            "zipf_coefficient",
            "hdd",
            "rep_2",
            "rep_3",
            "rep_4",
            "self_repetition",
            "kl_to_reference",
            "js_to_reference",
            "vocab_coverage",
            "tail_coverage",
            "tail_mass_coverage",
            "coverage_at_k",
            "exposure_gini",
        ];
        const DOCUMENTS: &[&str] = &[
            "duplicate_rate",
            "top_output_share",
            "psi_doc_length",
            "wasserstein_doc_length",
            "refusal_rate",
            "disclaimer_rate",
        ];
        ProfileParts {
            tokens: selection.wants_any(TOKENS),
            documents: selection.wants_any(DOCUMENTS),
            sample: selection.wants_any(SAMPLE_METRICS),
        }
    }
}
