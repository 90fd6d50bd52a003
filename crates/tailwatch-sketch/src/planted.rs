//! A planted-duplicate corpus with known copies and edit rates, for tests and benchmarks.
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// What [`planted_corpus`] generates: `base_docs` documents of `min_words..=max_words` words
/// drawn from a Zipf(1.0) vocabulary of `vocab` pseudo-words; each gets 0..=`max_copies`
/// mutated copies, each copy with its own edit rate drawn uniformly from
/// `min_edit_rate..=max_edit_rate` (per word: substitute, delete or insert a random word,
/// each with a third of the rate). Documents are shuffled.
#[derive(Debug, Clone)]
pub struct PlantedSpec {
    /// Original documents.
    pub base_docs: usize,
    /// Shortest original, in words.
    pub min_words: usize,
    /// Longest original, in words.
    pub max_words: usize,
    /// Most copies of one original.
    pub max_copies: usize,
    /// Lowest per-word edit rate of a copy.
    pub min_edit_rate: f64,
    /// Highest per-word edit rate of a copy.
    pub max_edit_rate: f64,
    /// Words size.
    pub vocab: usize,
    /// Seed: the same spec gives the same corpus on every machine.
    pub seed: u64,
}

impl Default for PlantedSpec {
    /// The setting of ../shared/docs/dedup-provenance.md's side-by-side run: 2,000 originals of
    /// 200–400 words, 0–4 copies at edit rates 0.5–15 %.
    fn default() -> Self {
        Self {
            base_docs: 2000,
            min_words: 200,
            max_words: 400,
            max_copies: 4,
            min_edit_rate: 0.005,
            max_edit_rate: 0.15,
            vocab: 50_000,
            seed: 2024,
        }
    }
}

/// The corpus and its construction.
#[derive(Debug, Clone)]
pub struct Planted {
    /// Documents, shuffled.
    pub docs: Vec<String>,
    /// The original each document derives from (its own index among originals).
    pub origin: Vec<u32>,
    /// The edit rate of each document (0 for originals).
    pub edit_rate: Vec<f64>,
}

struct Words {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Words {
    fn new(size: usize, rng: &mut Pcg64Mcg) -> Self {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(size);
        while words.len() < size {
            let len = 2 + (words.len() as f64).log2().max(1.0) as usize / 2 + rng.random_range(0..4usize);
            let word: String = (0..len).map(|_| LETTERS[rng.random_range(0..26usize)] as char).collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=size)
            .map(|r| {
                total += 1.0 / r as f64;
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn draw(&self, rng: &mut Pcg64Mcg) -> &str {
        let u = rng.random::<f64>() * self.cumulative.last().copied().unwrap_or(1.0);
        let i = self.cumulative.partition_point(|&c| c < u).min(self.words.len() - 1);
        &self.words[i]
    }
}

/// Mutate a text word by word at `rate` (substitute, delete or insert, each at rate / 3);
/// `replacement` supplies new words.
pub fn mutate(
    text: &str,
    rate: f64,
    rng: &mut Pcg64Mcg,
    mut replacement: impl FnMut(&mut Pcg64Mcg) -> String,
) -> String {
    let mut out: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let u: f64 = rng.random();
        if u < rate / 3.0 {
            out.push(replacement(rng));
        } else if u < 2.0 * rate / 3.0 {
            continue;
        } else if u < rate {
            out.push(word.to_string());
            out.push(replacement(rng));
        } else {
            out.push(word.to_string());
        }
    }
    out.join(" ")
}

/// Generate the corpus of `spec`.
pub fn planted_corpus(spec: &PlantedSpec) -> Planted {
    let mut rng = Pcg64Mcg::seed_from_u64(spec.seed);
    let vocab = Words::new(spec.vocab.max(1), &mut rng);
    let mut docs = Vec::new();
    for base in 0..spec.base_docs {
        let words = rng.random_range(spec.min_words..=spec.max_words.max(spec.min_words));
        let text: Vec<&str> = (0..words).map(|_| vocab.draw(&mut rng)).collect();
        let text = text.join(" ");
        let copies = rng.random_range(0..=spec.max_copies);
        for _ in 0..copies {
            let rate = rng.random_range(spec.min_edit_rate..=spec.max_edit_rate.max(spec.min_edit_rate));
            let copy = mutate(&text, rate, &mut rng, |r| vocab.draw(r).to_string());
            docs.push((copy, base as u32, rate));
        }
        docs.push((text, base as u32, 0.0));
    }
    // Fisher-Yates with the same stream
    for i in (1..docs.len()).rev() {
        let j = rng.random_range(0..=i);
        docs.swap(i, j);
    }
    Planted {
        origin: docs.iter().map(|d| d.1).collect(),
        edit_rate: docs.iter().map(|d| d.2).collect(),
        docs: docs.into_iter().map(|d| d.0).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_shaped() {
        let spec = PlantedSpec { base_docs: 50, ..PlantedSpec::default() };
        let a = planted_corpus(&spec);
        let b = planted_corpus(&spec);
        assert_eq!(a.docs, b.docs);
        assert!(a.docs.len() >= 50 && a.docs.len() <= 250);
        assert_eq!(a.edit_rate.iter().filter(|&&r| r == 0.0).count(), 50);
        let first = &a.docs[a.edit_rate.iter().position(|&r| r == 0.0).unwrap()];
        let words = first.split(' ').count();
        assert!((200..=400).contains(&words));
    }
}
