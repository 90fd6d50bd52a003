//! The memory budget of the exact n-gram tables is one budget for the run: a profile is
//! sketched exactly when the exact tables of the whole input exceed it, and is the same, byte
//! for byte, for any number of threads, whether the workers' n-grams are distinct or overlap.
use std::path::{Path, PathBuf};

use tailwatch::{Engine, ProfileSettings, tokenizer_by_name};
use tailwatch_io::ReadOptions;
use tailwatch_metrics::Profile;

/// A pseudo-word vocabulary of `size` words.
fn vocabulary(size: usize) -> Vec<String> {
    let syllables = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "ba", "do"];
    (0..size)
        .map(|mut i| {
            let mut word = String::new();
            loop {
                word.push_str(syllables[i % syllables.len()]);
                i /= syllables.len();
                if i == 0 {
                    return word;
                }
            }
        })
        .collect()
}

/// `lines` lines of random words, 5 to 24 per line.
fn random_lines(lines: usize, words: &[String], seed: u64) -> Vec<String> {
    let mut x = seed;
    let mut next = move || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..lines)
        .map(|_| {
            let n = 5 + next() % 20;
            (0..n).map(|_| words[next() % words.len()].as_str()).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn profile(corpus: &Path, threads: usize, max_memory: u64) -> Profile {
    let engine = Engine::new(Some(threads)).unwrap();
    let mut settings = ProfileSettings::new(tokenizer_by_name("words", false).unwrap());
    settings.max_memory = max_memory;
    // small batches: every worker gets many, and the budget is checked after each
    let read = ReadOptions { batch_bytes: 1 << 16, ..ReadOptions::default() };
    engine.profile_inputs(&[corpus.to_path_buf()], &read, &settings, &tailwatch_core::NoReporter).unwrap().0
}

/// For budgets on both sides of the whole input's exact size: sketched exactly when that size
/// exceeds the budget, and the same bytes for 1, 2 and 3 threads.
fn check_budgets(corpus: &Path) {
    let exact = profile(corpus, 2, 4 << 30);
    assert!(!exact.is_sketched());
    let size = exact.exact_ngram_bytes() as u64;
    // far below (an early switch), just below and just above (decided on the merged tables,
    // or on pooled ones), and far above
    for budget in [size / 4, size * 97 / 100, size * 103 / 100, size * 3] {
        let one = profile(corpus, 1, budget);
        assert_eq!(one.is_sketched(), size > budget, "budget {budget} of {size} bytes");
        let bytes = one.to_bytes().unwrap();
        for threads in [2, 3] {
            let other = profile(corpus, threads, budget);
            assert!(
                other.to_bytes().unwrap() == bytes,
                "{threads} threads differ, budget {budget} of {size}"
            );
        }
    }
}

#[test]
fn mostly_distinct_ngrams() {
    let dir = tempfile::tempdir().unwrap();
    let words = vocabulary(20_000);
    let corpus = write(dir.path(), "distinct.txt", &random_lines(20_000, &words, 1));
    check_budgets(&corpus);
}

#[test]
fn workers_holding_the_same_ngrams() {
    // one block of lines, repeated: every worker's tables hold nearly the whole union, so the
    // workers together hold several times the budget before it is decided
    let dir = tempfile::tempdir().unwrap();
    let words = vocabulary(5_000);
    let block = random_lines(1_500, &words, 2);
    let lines: Vec<String> = (0..12).flat_map(|_| block.iter().cloned()).collect();
    let corpus = write(dir.path(), "repeated.txt", &lines);
    check_budgets(&corpus);
}
