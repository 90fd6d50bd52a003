//! One row per document: the numbers behind a corpus's metrics, so that the worst documents
//! can be sorted out.
use std::collections::HashMap;

use serde::Serialize;
use tailwatch_core::Tokenizer;
use tailwatch_metrics::selfbleu::self_bleu_per_doc;

use crate::Result;

/// Self-BLEU per document is computed against every other document up to this many documents
/// (its index holds every n-gram of the corpus); beyond, it is `null`.
pub const SELF_BLEU_DOCS: usize = 200_000;

/// The scores of one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentScore {
    /// The input it came from.
    pub input: String,
    /// Its number among the input's documents, from 1.
    pub doc: u64,
    /// Tokens.
    pub tokens: u64,
    /// Unique tokens / tokens of the document (`null` when empty).
    pub distinct_1: Option<f64>,
    /// Unique bigrams / bigrams of the document (`null` under two tokens).
    pub distinct_2: Option<f64>,
    /// BLEU-4 of the document against every other document scored with it (nltk's method1
    /// smoothing, as `self_bleu_4`); `null` under two documents or past [`SELF_BLEU_DOCS`].
    pub self_bleu_4: Option<f64>,
    /// Documents with exactly its text, itself included (1: unique).
    pub copies: u64,
}

fn distinct<T: std::hash::Hash + Eq>(items: impl Iterator<Item = T>) -> (usize, usize) {
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    for item in items {
        seen.insert(item);
        total += 1;
    }
    (seen.len(), total)
}

/// Score each of `docs` (named by `inputs`: the input and its document number, one per
/// document), tokenized by `tokenizer`; documents are scored together, as one corpus.
pub fn score_documents(
    docs: &[&str],
    inputs: &[(String, u64)],
    tokenizer: &Tokenizer,
) -> Result<Vec<DocumentScore>> {
    debug_assert_eq!(docs.len(), inputs.len());
    let mut ids: HashMap<String, u64> = HashMap::new();
    let mut sequences: Vec<Vec<u64>> = Vec::with_capacity(docs.len());
    for doc in docs {
        let mut sequence = Vec::new();
        for token in tokenizer.tokens(doc)? {
            let next = ids.len() as u64;
            sequence.push(*ids.entry(token).or_insert(next));
        }
        sequences.push(sequence);
    }
    let bleu = if docs.len() <= SELF_BLEU_DOCS { self_bleu_per_doc(&sequences, 4) } else { None };
    let mut copies: HashMap<&str, u64> = HashMap::new();
    for doc in docs {
        *copies.entry(doc).or_default() += 1;
    }
    let ratio = |(unique, total): (usize, usize)| (total > 0).then(|| unique as f64 / total as f64);
    Ok(sequences
        .iter()
        .enumerate()
        .map(|(i, tokens)| DocumentScore {
            input: inputs[i].0.clone(),
            doc: inputs[i].1,
            tokens: tokens.len() as u64,
            distinct_1: ratio(distinct(tokens.iter())),
            distinct_2: ratio(distinct(tokens.windows(2))),
            self_bleu_4: bleu.as_ref().map(|b| b[i]),
            copies: copies[docs[i]],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_document_gets_its_numbers() {
        let tokenizer = Tokenizer::from_spec(&tailwatch_core::TokenizerSpec::words()).unwrap();
        let docs = ["the cat sat on the mat", "the cat sat on the mat", "a dog ran", ""];
        let inputs: Vec<(String, u64)> = (1..=4).map(|i| ("in.txt".to_string(), i)).collect();
        let scores = score_documents(&docs, &inputs, &tokenizer).unwrap();
        assert_eq!(scores[0].tokens, 6);
        assert_eq!(scores[0].distinct_1, Some(5.0 / 6.0));
        assert_eq!(scores[0].distinct_2, Some(1.0));
        assert_eq!((scores[0].copies, scores[2].copies), (2, 1));
        // a copy matches its twin exactly
        assert!((scores[0].self_bleu_4.unwrap() - 1.0).abs() < 1e-12);
        assert!(scores[2].self_bleu_4.unwrap() < 0.5);
        assert_eq!((scores[3].tokens, scores[3].distinct_1, scores[3].distinct_2), (0, None, None));
        assert_eq!(scores[3].doc, 4);
    }
}
