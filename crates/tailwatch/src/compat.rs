//! Anchor tools' formulas (`score --compat`), over all documents in input order (see
//! `tailwatch_metrics::compat`).
use serde::{Deserialize, Serialize};
use tailwatch_core::Tokenizer;
use tailwatch_metrics::MetricValues;
use tailwatch_metrics::compat::{
    PyRandom, degen_distinct, diversity_compression, diversity_ngram_diversity, diversity_self_repetition,
    self_bleu_means, simctg_repetition,
};
use tailwatch_metrics::numeric::py_round;
use tailwatch_metrics::richness::mtld_lexical_diversity;
use tailwatch_metrics::selfbleu::{bleu_counts, mean};

use crate::Result;

/// An anchor tool whose formulas `score` can reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    /// cshaib/diversity: double-gzip compression ratio, split(' ') n-gram diversity crossing
    /// documents, self-repetition over all docs, 3-decimal rounding.
    Diversity,
    /// nltk: self-BLEU of every document against all others (no sampling).
    Nltk,
    /// ari-holtzman/degen: hapax "distinct", self-BLEU of 1000 docs drawn by Python's
    /// random.seed(0).
    Degen,
    /// Texygen: self-BLEU over the first 500 documents.
    Texygen,
    /// SimCTG: rep-n with its off-by-one, in percent rounded to 2 decimals.
    Simctg,
    /// lexical_diversity: MTLD with min segment 10 over all tokens in input order.
    #[serde(rename = "lexicaldiversity")]
    LexicalDiversity,
}

impl Compat {
    /// The name reports give it.
    pub fn name(self) -> &'static str {
        match self {
            Compat::Diversity => "diversity",
            Compat::Nltk => "nltk",
            Compat::Degen => "degen",
            Compat::Texygen => "texygen",
            Compat::Simctg => "simctg",
            Compat::LexicalDiversity => "lexicaldiversity",
        }
    }
}

fn hashes(docs: &[String], tokenizer: &Tokenizer) -> Result<Vec<Vec<u64>>> {
    docs.iter()
        .map(|d| {
            let mut h = Vec::new();
            tokenizer.tokenize(d, |t| h.push(tailwatch_core::stable_hash(t)))?;
            Ok(h)
        })
        .collect()
}

fn set_self_bleu(out: &mut MetricValues, docs: &[Vec<u64>], hyps: &[usize]) {
    for (i, v) in self_bleu_means(docs, hyps).into_iter().enumerate() {
        out.set(&format!("self_bleu_{}", i + 2), v);
    }
}

/// The metric values an anchor computes differently, computed its way.
pub fn compute(compat: Compat, docs: &[String], tokenizer: &Tokenizer) -> Result<MetricValues> {
    let mut out = MetricValues::default();
    match compat {
        Compat::Diversity => {
            out.set("compression_ratio", Some(diversity_compression(docs).ratio()));
            out.set("ngram_diversity", Some(py_round(diversity_ngram_diversity(docs, 4), 3)));
            out.set("self_repetition", diversity_self_repetition(docs, 4));
            out.notes.push(
                "compat diversity: compression_ratio double-gzips all docs, ngram_diversity splits on single spaces across docs (both rounded to 3 decimals), self_repetition over all docs with str.split()".into(),
            );
        }
        Compat::Nltk => {
            let h = hashes(docs, tokenizer)?;
            let hyps: Vec<usize> = (0..h.len()).collect();
            set_self_bleu(&mut out, &h, &hyps);
            out.notes.push("compat nltk: self-BLEU of every document against all others".into());
        }
        Compat::Degen => {
            let h = hashes(docs, tokenizer)?;
            for n in 1..=4 {
                out.set(&format!("distinct_{n}"), degen_distinct(&h, n));
            }
            // degen seeds once, then draws a fresh sample for each BLEU order 1..5 in turn.
            let k = h.len().min(1000);
            let mut rng = PyRandom::new(0);
            for n in 1..=5 {
                let hyps = rng.sample(h.len(), k);
                if n >= 2 {
                    let value = bleu_counts(&h, &hyps)
                        .and_then(|c| mean(&c.iter().map(|b| b.bleu(n)).collect::<Vec<_>>()));
                    out.set(&format!("self_bleu_{n}"), value);
                }
            }
            out.notes.push(format!(
                "compat degen: distinct_n is the hapax ratio; self-BLEU-n of {k} docs drawn by Python's random.seed(0) (one draw per order, as degen) against all others"
            ));
        }
        Compat::Texygen => {
            let h = hashes(docs, tokenizer)?;
            let first: Vec<Vec<u64>> = h.into_iter().take(500).collect();
            let hyps: Vec<usize> = (0..first.len()).collect();
            set_self_bleu(&mut out, &first, &hyps);
            out.notes.push("compat texygen: self-BLEU over the first 500 documents, leave-one-out".into());
        }
        Compat::Simctg => {
            let (reps, _diversity) = simctg_repetition(docs);
            for (i, r) in reps.into_iter().enumerate() {
                out.set(&format!("rep_{}", i + 2), r);
            }
            out.notes.push(
                "compat simctg: rep_n in percent, rounded to 2 decimals, last n-gram of each text dropped"
                    .into(),
            );
        }
        Compat::LexicalDiversity => {
            let h: Vec<u64> = hashes(docs, tokenizer)?.into_iter().flatten().collect();
            out.set("mtld", (!h.is_empty()).then(|| mtld_lexical_diversity(&h, 10)));
            out.notes
                .push("compat lexical-diversity: MTLD over all tokens in input order, min segment 10".into());
        }
    }
    Ok(out)
}
