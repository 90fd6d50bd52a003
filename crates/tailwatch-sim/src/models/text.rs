//! `ngram`: an interpolated Kneser-Ney language model trained on its own text, generation after
//! generation, measured with the same metrics as `tailwatch score`.
//!
//! Setup. The corpus (one document per record) is tokenized into words and split, with a
//! seeded shuffle, into a human training set and a held-out human set (`heldout`). The
//! vocabulary is the training set's types (held-out words outside it count as `<unk>`).
//! Generation 0's model is trained on the human training set; each generation's model writes N
//! documents (N = `samples`, default: as many as the training set has), which are
//! - measured: distinct-n, entropy, self-BLEU, and, against the human training set as the
//!   reference (generation 0), tail coverage, vocabulary coverage and Jensen-Shannon divergence;
//! - the synthetic data of the next generation's training set, assembled by the strategy:
//!   `replace` (the N documents only), `accumulate` (the human set plus every generation's
//!   documents), `accumulate-subsample` (N documents drawn from that pool), `fresh:s`
//!   (round(s·N) documents drawn anew from the human set each generation, the rest
//!   synthetic), `weighted:w` (the model is the mixture w·P_human + (1 − w)·P_synthetic of a
//!   model of the human set and a model of the last generation's documents).
//!
//! Prevention policies: `dedup` drops the documents `tailwatch dedup` would drop (exact and
//! near duplicates, with its default options) from each generation's training data (from the synthetic part for `weighted`); `tail_preserve` always adds the
//! human training documents that contain a tail type of the human reference (its rarest types
//! holding `tail_mass` of its tokens), so rare words stay in the training data. The held-out
//! perplexity of each generation's model measures what the recursion did to its knowledge of
//! human text.
use std::collections::HashSet;
use std::sync::Arc;

use rand::seq::index::sample as sample_indices;
use rayon::prelude::*;
use tailwatch_core::{Reporter, Tokenizer, TokenizerKind, TokenizerSpec};
use tailwatch_metrics::reference::DEFAULT_SMOOTHING;
use tailwatch_metrics::{
    Profile, ProfileBuilder, ProfileConfig, Reference, ReferenceOptions, lexical_metrics,
};

use crate::family::fresh_real;
use crate::rng::{SimRng, replicate_rng};
use crate::spec::{NgramSpec, SimSpec};
use crate::summary::{MetricInfo, StrategyResult, Trajectories, sim_metric};
use crate::{Error, Result, Strategy};
use tailwatch_lm::{EOS, KneserNey, UNK, Vocabulary};
use tailwatch_sketch::dedup::{DedupOptions, Deduper};

pub(crate) const METRICS: &[MetricInfo] = &[
    sim_metric!(
        "perplexity",
        Higher,
        "[1,inf)",
        "perplexity of the generation-k model on held-out human text"
    ),
    sim_metric!("distinct_1", Lower, "[0,1]", "unique words / words of the generated text"),
    sim_metric!("distinct_2", Lower, "[0,1]", "unique bigrams / bigrams of the generated text"),
    sim_metric!("entropy_1", Lower, "[0,log2 V]", "unigram entropy of the generated text (bits)"),
    sim_metric!("self_bleu_4", Higher, "[0,1]", "self-BLEU-4 of a 1000-document sample"),
    sim_metric!("tail_coverage", Lower, "[0,1]", "share of the human corpus's tail types that still occur"),
    sim_metric!("vocab_coverage", Lower, "[0,1]", "share of the human corpus's types that still occur"),
    sim_metric!(
        "js_to_reference",
        Higher,
        "[0,1]",
        "Jensen-Shannon divergence (bits) of the word distribution from the human corpus"
    ),
    sim_metric!("mean_doc_tokens", Neither, "[0,inf)", "mean length of the generated documents (words)"),
];

/// The tokenized corpus, its split and its reference.
struct Corpus {
    vocab: Vocabulary,
    train: Vec<Vec<u32>>,
    heldout: Vec<Vec<u32>>,
    reference: Reference,
    tail_docs: Vec<usize>,
    tail_types: usize,
}

fn corpus_error(spec: &NgramSpec, reason: String) -> Error {
    let path = if spec.corpus.is_empty() { "<corpus>".to_string() } else { spec.corpus.clone() };
    Error::Corpus { path: path.into(), reason }
}

fn text(vocab: &Vocabulary, doc: &[u32]) -> String {
    doc.iter().map(|&id| vocab.token(id)).collect::<Vec<_>>().join(" ")
}

fn profile_of(vocab: &Vocabulary, docs: &[Vec<u32>]) -> Result<Profile> {
    let tokenizer = Tokenizer::from_spec(&TokenizerSpec::builtin(TokenizerKind::Whitespace, false))
        .map_err(tailwatch_metrics::Error::from)?;
    // held in memory only: the sample keeps its text (compression_ratio reads it)
    let config = ProfileConfig { keep_text: true, ..ProfileConfig::new(tokenizer.spec().clone()) };
    let mut profile = ProfileBuilder::new(&tokenizer, config);
    for doc in docs {
        profile.observe(&text(vocab, doc))?;
    }
    Ok(profile.finish())
}

impl Corpus {
    fn build(spec: &NgramSpec, documents: &[String], seed: u64) -> Result<Self> {
        let tokenizer = Tokenizer::from_spec(&TokenizerSpec::builtin(TokenizerKind::Words, spec.lowercase))
            .map_err(tailwatch_metrics::Error::from)?;
        let mut tokenized: Vec<Vec<String>> = Vec::new();
        for doc in documents {
            let tokens = tokenizer.tokens(doc).map_err(tailwatch_metrics::Error::from)?;
            if !tokens.is_empty() {
                tokenized.push(tokens);
            }
        }
        if tokenized.len() < 2 {
            return Err(corpus_error(
                spec,
                format!(
                    "needs at least 2 documents with words to train and hold out, found {}",
                    tokenized.len()
                ),
            ));
        }
        let distinct: HashSet<&str> = tokenized.iter().flatten().map(String::as_str).collect();
        if distinct.len() < 2 {
            return Err(corpus_error(
                spec,
                format!("needs at least 2 distinct words, found {}", distinct.len()),
            ));
        }
        let n = tokenized.len();
        let n_heldout = ((spec.heldout * n as f64).round() as usize).clamp(1, n - 1);
        let mut rng = replicate_rng(seed, u64::MAX);
        let heldout_set: HashSet<usize> = sample_indices(&mut rng, n, n_heldout).into_iter().collect();
        let mut vocab = Vocabulary::new();
        let mut train = Vec::new();
        let mut heldout_tokens = Vec::new();
        for (i, doc) in tokenized.into_iter().enumerate() {
            if heldout_set.contains(&i) {
                heldout_tokens.push(doc);
            } else {
                train.push(doc.iter().map(|t| vocab.intern(t)).collect::<Vec<u32>>());
            }
        }
        let heldout = heldout_tokens.iter().map(|doc| doc.iter().map(|t| vocab.id(t)).collect()).collect();
        let profile = profile_of(&vocab, &train)?;
        let reference = Reference::from_profile(&profile, &spec.corpus, "corpus");
        let tail: HashSet<u32> = reference.tail(spec.tail_mass).iter().map(|(t, _)| vocab.id(t)).collect();
        let tail_docs = train
            .iter()
            .enumerate()
            .filter(|(_, d)| d.iter().any(|t| tail.contains(t)))
            .map(|(i, _)| i)
            .collect();
        Ok(Corpus { vocab, train, heldout, reference, tail_docs, tail_types: tail.len() })
    }
}

/// A generation's language model: one Kneser-Ney model, or the weighted mixture of a model of
/// human text and a model of synthetic text.
enum LanguageModel {
    Single(KneserNey),
    Mixture { human: Arc<KneserNey>, synthetic: KneserNey, weight: f64 },
}

impl LanguageModel {
    fn prob(&self, context: &[u32], token: u32) -> f64 {
        match self {
            LanguageModel::Single(m) => m.prob(context, token),
            LanguageModel::Mixture { human, synthetic, weight } => {
                weight * human.prob(context, token) + (1.0 - weight) * synthetic.prob(context, token)
            }
        }
    }

    fn perplexity(&self, docs: &[Vec<u32>]) -> f64 {
        if let LanguageModel::Single(m) = self {
            return m.perplexity(docs);
        }
        let (mut log_sum, mut count) = (0.0, 0usize);
        for doc in docs {
            for i in 0..=doc.len() {
                let token = if i == doc.len() { EOS } else { doc[i] };
                log_sum += self.prob(&doc[..i], token).ln();
                count += 1;
            }
        }
        (-log_sum / count as f64).exp()
    }

    fn sample_doc(&self, rng: &mut SimRng, max_len: usize) -> Vec<u32> {
        match self {
            LanguageModel::Single(m) => m.sample_doc(rng, max_len),
            LanguageModel::Mixture { human, synthetic, weight } => {
                let mut doc = Vec::new();
                while doc.len() < max_len {
                    let source =
                        if rand::RngExt::random::<f64>(rng) < *weight { &**human } else { synthetic };
                    let token = source.sample_next(&doc, rng);
                    if token == EOS {
                        break;
                    }
                    doc.push(token);
                }
                doc
            }
        }
    }
}

/// The documents `tailwatch dedup` keeps of `docs` with its default options (exact duplicates
/// of the normalized text, then near duplicates at Jaccard 0.8 of word 5-shingles): the policy
/// simulated is the one the product ships.
fn dedup(vocab: &Vocabulary, docs: Vec<Vec<u32>>) -> Result<Vec<Vec<u32>>> {
    let texts: Vec<String> = docs.iter().map(|doc| text(vocab, doc)).collect();
    let mut deduper = Deduper::new(DedupOptions::default())?;
    deduper.add(&texts, None);
    let keep = deduper.finish().keep;
    Ok(docs.into_iter().zip(keep).filter_map(|(doc, kept)| kept.then_some(doc)).collect())
}

struct Run<'a> {
    spec: &'a NgramSpec,
    corpus: &'a Corpus,
    human_model: Arc<KneserNey>,
    samples: usize,
    generations: usize,
    options: ReferenceOptions,
}

impl Run<'_> {
    fn train(&self, docs: &[Vec<u32>]) -> KneserNey {
        KneserNey::train(docs, self.corpus.vocab.len(), self.spec.order)
    }

    fn measure(&self, model: &LanguageModel, outputs: &[Vec<u32>], out: &mut [f64]) -> Result<()> {
        out[0] = model.perplexity(&self.corpus.heldout);
        let profile = profile_of(&self.corpus.vocab, outputs)?;
        let tokenizer = Tokenizer::from_spec(&TokenizerSpec::builtin(TokenizerKind::Whitespace, false))
            .map_err(tailwatch_metrics::Error::from)?;
        // only what this model reports (the text metrics of its catalog entries)
        let selection = tailwatch_metrics::MetricSelection::only(
            METRICS
                .iter()
                .skip(1)
                .map(|m| m.id)
                .filter(|id| tailwatch_metrics::catalog::metric_info(id).is_some()),
        )?;
        let mut values = lexical_metrics(&profile, &tokenizer, &selection)?;
        values.extend(self.corpus.reference.metrics(&profile, self.options).0);
        for (slot, info) in out.iter_mut().zip(METRICS).skip(1) {
            *slot = values.get(info.id).unwrap_or(f64::NAN);
        }
        Ok(())
    }

    fn finish_training_set(&self, strategy: Strategy, mut docs: Vec<Vec<u32>>) -> Result<Vec<Vec<u32>>> {
        if self.spec.tail_preserve && strategy != Strategy::Accumulate {
            docs.extend(self.corpus.tail_docs.iter().map(|&i| self.corpus.train[i].clone()));
        }
        if self.spec.dedup { dedup(&self.corpus.vocab, docs) } else { Ok(docs) }
    }

    fn replicate(&self, strategy: Strategy, rng: &mut SimRng, reporter: &dyn Reporter) -> Result<Vec<f64>> {
        let n_metrics = METRICS.len();
        let mut out = vec![f64::NAN; (self.generations + 1) * n_metrics];
        let mut model = LanguageModel::Single(self.train(&self.corpus.train));
        let mut pool: Vec<Vec<u32>> = self.corpus.train.clone();
        for k in 0..=self.generations {
            if k > 0 {
                // the previous generation's outputs are this generation's synthetic data
                let synthetic: Vec<Vec<u32>> =
                    (0..self.samples).map(|_| model.sample_doc(rng, self.spec.max_doc_tokens)).collect();
                model = match strategy {
                    Strategy::Replace => {
                        LanguageModel::Single(self.train(&self.finish_training_set(strategy, synthetic)?))
                    }
                    Strategy::Accumulate => {
                        pool.extend(synthetic);
                        let data = self.finish_training_set(strategy, std::mem::take(&mut pool))?;
                        let trained = self.train(&data);
                        pool = data;
                        LanguageModel::Single(trained)
                    }
                    Strategy::AccumulateSubsample => {
                        pool.extend(synthetic);
                        let picked = sample_indices(rng, pool.len(), self.samples.min(pool.len()));
                        let data = picked.iter().map(|i| pool[i].clone()).collect();
                        LanguageModel::Single(self.train(&self.finish_training_set(strategy, data)?))
                    }
                    Strategy::Fresh(share) => {
                        let real = fresh_real(share, self.samples).min(self.corpus.train.len());
                        let mut data: Vec<Vec<u32>> = sample_indices(rng, self.corpus.train.len(), real)
                            .iter()
                            .map(|i| self.corpus.train[i].clone())
                            .collect();
                        data.extend(synthetic.into_iter().take(self.samples - real));
                        LanguageModel::Single(self.train(&self.finish_training_set(strategy, data)?))
                    }
                    Strategy::Weighted(weight) => LanguageModel::Mixture {
                        human: self.human_model.clone(),
                        synthetic: self.train(&self.finish_training_set(strategy, synthetic)?),
                        weight,
                    },
                };
            }
            let outputs: Vec<Vec<u32>> =
                (0..self.samples).map(|_| model.sample_doc(rng, self.spec.max_doc_tokens)).collect();
            self.measure(&model, &outputs, &mut out[k * n_metrics..(k + 1) * n_metrics])?;
            reporter.advance(1);
        }
        Ok(out)
    }
}

/// Run every strategy of `sim` on `documents`; `notes` receives a description of the corpus.
pub(crate) fn simulate(
    spec: &NgramSpec,
    sim: &SimSpec,
    documents: &[String],
    reporter: &dyn Reporter,
    notes: &mut Vec<String>,
) -> Result<(Vec<MetricInfo>, Vec<StrategyResult>)> {
    let corpus = Corpus::build(spec, documents, sim.seed)?;
    let samples = spec.samples.unwrap_or(corpus.train.len());
    let human_model = Arc::new(KneserNey::train(&corpus.train, corpus.vocab.len(), spec.order));
    let options = ReferenceOptions { tail_mass: spec.tail_mass, smoothing: DEFAULT_SMOOTHING };
    let run = Run { spec, corpus: &corpus, human_model, samples, generations: sim.generations, options };
    let human_profile = profile_of(&corpus.vocab, &corpus.train)?;
    let tokens: u64 = human_profile.n_tokens();
    notes.push(format!(
        "human corpus: {} training documents ({} tokens, {} types, {} tail types in {} documents), {} held-out documents; {} documents generated per generation; order-{} Kneser-Ney",
        corpus.train.len(),
        tokens,
        corpus.vocab.len() - 3,
        corpus.tail_types,
        corpus.tail_docs.len(),
        corpus.heldout.len(),
        samples,
        spec.order
    ));
    let unk_share = {
        let (unk, all) = corpus
            .heldout
            .iter()
            .flatten()
            .fold((0usize, 0usize), |(u, a), &t| (u + usize::from(t == UNK), a + 1));
        unk as f64 / all.max(1) as f64
    };
    notes.push(format!(
        "{:.1} % of held-out tokens are outside the training vocabulary (<unk>)",
        100.0 * unk_share
    ));
    // every (strategy, replicate) pair is independent: run them all in parallel
    let pairs: Vec<(usize, usize)> =
        (0..sim.strategies.len()).flat_map(|s| (0..sim.replicates).map(move |r| (s, r))).collect();
    let total = (pairs.len() * (sim.generations + 1)) as u64;
    reporter.start("ngram", Some(total));
    let rows: Result<Vec<Vec<f64>>> = pairs
        .par_iter()
        .map(|&(s, r)| {
            let mut rng = replicate_rng(sim.seed, r as u64);
            run.replicate(sim.strategies[s], &mut rng, reporter)
        })
        .collect();
    reporter.finish();
    let mut rows = rows?.into_iter();
    let mut results = Vec::new();
    for &strategy in &sim.strategies {
        let values = rows.by_ref().take(sim.replicates).collect();
        let raw = Trajectories { n_metrics: METRICS.len(), n_generations: sim.generations + 1, values };
        results.push(StrategyResult { strategy, metrics: raw.summarize(METRICS) });
    }
    Ok((METRICS.to_vec(), results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dedup_policy_drops_near_duplicates_as_tailwatch_dedup_does() {
        let mut vocab = Vocabulary::new();
        let words = |text: &str, vocab: &mut Vocabulary| -> Vec<u32> {
            text.split(' ').map(|w| vocab.intern(w)).collect()
        };
        let a = "the quick brown fox jumps over the lazy dog near the quiet river bank at dawn while birds sing softly overhead";
        let near = a.replace("overhead", "above");
        let other = "an entirely different sentence about markets rising after the central bank held its rates steady today";
        let docs = vec![
            words(a, &mut vocab),
            words(&near, &mut vocab),
            words(other, &mut vocab),
            words(a, &mut vocab),
        ];
        let texts: Vec<String> = docs.iter().map(|d| text(&vocab, d)).collect();
        let kept = dedup(&vocab, docs.clone()).unwrap();
        // an exact-only policy would keep the near duplicate; the shipped deduper does not
        assert_eq!(kept, vec![docs[0].clone(), docs[2].clone()]);
        let mut product = Deduper::new(DedupOptions::default()).unwrap();
        product.add(&texts, None);
        assert_eq!(product.finish().keep, [true, false, true, false]);
    }
}
