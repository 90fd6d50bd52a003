//! Anchor-tool formulas reproduced exactly (`--compat`): they run on all documents in input
//! order, in memory, because that is what the anchors do.
use std::collections::{HashMap, HashSet};
use std::io::Write;

use flate2::{Compression, GzBuilder};
use rand_mt::Mt;

use crate::compression::deflate_size;
use crate::numeric::py_round;
use crate::selfbleu::{BleuCounts, bleu_counts, mean};

/// Sizes measured by `diversity.compression_ratio(data, 'gzip')` (cshaib/diversity 0.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiversityCompression {
    /// Bytes of `' '.join(data)` in UTF-8.
    pub original_size: usize,
    /// Bytes of `gzip.compress(joined)` (mtime 0; Python stores the current time, which can move
    /// the outer size by about one byte).
    pub inner_gzip_size: usize,
    /// Bytes of the `compressed.gz` file: the gzip stream compressed again with file name `compressed`.
    pub outer_size: usize,
}

impl DiversityCompression {
    /// `round(original / outer, 3)`, the package's value.
    pub fn ratio(&self) -> f64 {
        py_round(self.original_size as f64 / self.outer_size as f64, 3)
    }
}

/// The `diversity` package's double-gzip compression ratio.
pub fn diversity_compression(docs: &[String]) -> DiversityCompression {
    let joined = docs.join(" ");
    let mut inner = GzBuilder::new().mtime(0).write(Vec::new(), Compression::best());
    inner.write_all(joined.as_bytes()).expect("writing to a Vec cannot fail");
    let inner = inner.finish().expect("writing to a Vec cannot fail");
    // Outer GzipFile header: 10 bytes + "compressed\0" (FNAME), then deflate-9, then CRC32 + ISIZE.
    let outer_size = 10 + "compressed".len() + 1 + deflate_size(&inner, 9) + 8;
    DiversityCompression { original_size: joined.len(), inner_gzip_size: inner.len(), outer_size }
}

/// `ngram_diversity_score(data, num_n)` unrounded: tokens are `' '.join(data).split(' ')`
/// (empty tokens from double spaces kept, n-grams crossing documents), Σ_n unique/total.
pub fn diversity_ngram_diversity(docs: &[String], num_n: usize) -> f64 {
    let joined = docs.join(" ");
    let tokens: Vec<&str> = joined.split(' ').collect();
    let mut score = 0.0;
    for n in 1..=num_n {
        if tokens.len() < n {
            continue;
        }
        let grams: HashSet<&[&str]> = tokens.windows(n).collect();
        score += grams.len() as f64 / (tokens.len() - n + 1) as f64;
    }
    score
}

/// `self_repetition_score(data, n)`: tokens `doc.split()`, per doc the set of its n-grams,
/// `mean ln(1 + Σ_{g ∈ doc} (df(g) − 1))`.
pub fn diversity_self_repetition(docs: &[String], n: usize) -> Option<f64> {
    if docs.is_empty() {
        return None;
    }
    let sets: Vec<HashSet<Vec<&str>>> = docs
        .iter()
        .map(|d| {
            let toks: Vec<&str> =
                d.split(tailwatch_core::is_python_whitespace).filter(|t| !t.is_empty()).collect();
            if toks.len() < n { HashSet::new() } else { toks.windows(n).map(<[&str]>::to_vec).collect() }
        })
        .collect();
    let mut df: HashMap<&Vec<&str>, u64> = HashMap::new();
    for s in &sets {
        for g in s {
            *df.entry(g).or_default() += 1;
        }
    }
    let total: f64 = sets
        .iter()
        .map(|s| {
            let others: u64 = s.iter().map(|g| df[g] - 1).sum();
            (others as f64 + 1.0).ln()
        })
        .sum();
    Some(total / docs.len() as f64)
}

/// degen's "distinct-n": n-grams occurring exactly once / all n-grams (a hapax ratio).
pub fn degen_distinct(docs: &[Vec<u64>], n: usize) -> Option<f64> {
    let mut counts: HashMap<&[u64], u64> = HashMap::new();
    let mut total = 0u64;
    for d in docs {
        if d.len() >= n {
            for w in d.windows(n) {
                *counts.entry(w).or_default() += 1;
                total += 1;
            }
        }
    }
    (total > 0).then(|| counts.values().filter(|&&c| c == 1).count() as f64 / total as f64)
}

/// CPython's `random` module, enough of it for `random.sample(range(n), k)`: MT19937 seeded
/// like `random.seed(int)`, `_randbelow` by rejection on `getrandbits`.
pub struct PyRandom {
    mt: Mt,
}

impl PyRandom {
    /// `random.seed(seed)` for a seed below 2^32.
    pub fn new(seed: u32) -> Self {
        Self { mt: Mt::new_with_key(std::iter::once(seed)) }
    }

    fn randbelow(&mut self, bound: usize) -> usize {
        let bits = usize::BITS - bound.leading_zeros();
        loop {
            let r = getrandbits(&mut self.mt, bits);
            if r < bound as u64 {
                return r as usize;
            }
        }
    }

    /// `random.sample(range(n), k)`.
    pub fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        assert!(k <= n, "sample larger than population");
        let mut setsize = 21usize;
        if k > 5 {
            setsize += 4usize.pow(((k * 3) as f64).log(4.0).ceil() as u32);
        }
        let mut result = Vec::with_capacity(k);
        if n <= setsize {
            let mut pool: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = self.randbelow(n - i);
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = HashSet::new();
            for _ in 0..k {
                let mut j = self.randbelow(n);
                while selected.contains(&j) {
                    j = self.randbelow(n);
                }
                selected.insert(j);
                result.push(j);
            }
        }
        result
    }
}

/// `random.seed(seed); random.sample(range(n), k)`.
pub fn python_random_sample(n: usize, k: usize, seed: u32) -> Vec<usize> {
    PyRandom::new(seed).sample(n, k)
}

/// CPython's `getrandbits(k)` for k ≤ 64.
fn getrandbits(mt: &mut Mt, k: u32) -> u64 {
    if k == 0 {
        return 0;
    }
    if k <= 32 {
        return u64::from(mt.next_u32() >> (32 - k));
    }
    let low = u64::from(mt.next_u32());
    let high = u64::from(mt.next_u32() >> (64 - k));
    (high << 32) | low
}

/// Self-BLEU-2..5 means of hypotheses `hyps` against all other docs.
pub fn self_bleu_means(docs: &[Vec<u64>], hyps: &[usize]) -> [Option<f64>; 4] {
    let counts: Option<Vec<BleuCounts>> = bleu_counts(docs, hyps);
    std::array::from_fn(|i| {
        counts.as_ref().and_then(|c| mean(&c.iter().map(|b| b.bleu(i + 2)).collect::<Vec<_>>()))
    })
}

/// SimCTG `measure_repetition_and_diversity`: per text (tokens `strip().split()`), n-grams with
/// its off-by-one (the last n-gram is dropped), unique counted per text and summed;
/// rep-n = round(100·(1 − Σunique/Σtotal), 2); diversity = Π(1 − rep-n/100) from the rounded values.
pub fn simctg_repetition(docs: &[String]) -> ([Option<f64>; 3], Option<f64>) {
    let mut unique = [0u64; 3];
    let mut total = [0u64; 3];
    for doc in docs {
        let toks: Vec<&str> =
            doc.split(tailwatch_core::is_python_whitespace).filter(|t| !t.is_empty()).collect();
        for (i, n) in (2..=4).enumerate() {
            // `while end_idx < len(tokens)` with end_idx = start + n: the window ending at the last token is skipped.
            let count = toks.len().saturating_sub(n);
            let grams: HashSet<&[&str]> = (0..count).map(|s| &toks[s..s + n]).collect();
            unique[i] += grams.len() as u64;
            total[i] += count as u64;
        }
    }
    let reps: [Option<f64>; 3] = std::array::from_fn(|i| {
        (total[i] > 0).then(|| py_round(100.0 * (1.0 - unique[i] as f64 / total[i] as f64), 2))
    });
    let diversity = reps.iter().try_fold(1.0, |acc, r| r.map(|r| acc * (1.0 - r / 100.0)));
    (reps, diversity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_sample_small_population() {
        // CPython 3.11: random.seed(0); random.sample(range(10), 3)
        assert_eq!(python_random_sample(10, 3, 0), vec![6, 9, 0]);
        // random.seed(0); random.sample(range(5000), 5)
        assert_eq!(python_random_sample(5000, 5, 0), vec![3155, 3445, 331, 2121, 4188]);
    }
}
