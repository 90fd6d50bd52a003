//! Times the self-BLEU computation alone, for bench/selfbleu.sh: `selfbleu_time FILE [N] [REPEATS]`.
//!
//! Reads FILE as `tailwatch score --tokenizer whitespace` does (one document per line, blank
//! lines skipped), hashes the tokens, then times `self_bleu_per_doc(docs, N)` (default N = 4),
//! the same call `score` makes, and prints one JSON line: n_docs, n_tokens, mean, and the best
//! and median seconds over REPEATS runs (default 5). Reading and hashing are not timed, like the
//! anchors' scoring-call-only timings.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use tailwatch_core::stable_hash;
use tailwatch_metrics::selfbleu::{mean, self_bleu_per_doc};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: selfbleu_time FILE [N] [REPEATS]");
    let order: usize = args.get(2).map_or(4, |s| s.parse().expect("N must be 1..=5"));
    let repeats: usize = args.get(3).map_or(5, |s| s.parse().expect("REPEATS must be a number"));
    let text = std::fs::read_to_string(path).expect("cannot read FILE as UTF-8");
    let docs: Vec<Vec<u64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(stable_hash).collect())
        .collect();
    let n_tokens: usize = docs.iter().map(Vec::len).sum();
    let mut times = Vec::with_capacity(repeats);
    let mut value = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let scores = self_bleu_per_doc(&docs, order).expect("at least two documents");
        value = mean(&scores);
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"impl\": \"tailwatch self_bleu_per_doc\", \"n_docs\": {}, \"n_tokens\": {}, \"mean\": {}, \"best_s\": {}, \"median_s\": {}}}",
        docs.len(),
        n_tokens,
        value.expect("non-empty"),
        times[0],
        times[times.len() / 2]
    );
}
