//! Train a Kneser-Ney model on a text file (one document per line, whitespace tokens) and
//! print sampled documents, one per line: the "text from a model trained on the corpus" that
//! bench/calibrate.py plants into candidates.
//!
//! Usage: `cargo run --release -p tailwatch-lm --example kn_sample -- CORPUS N [SEED] [ORDER]`
#![allow(clippy::print_stderr)] // a bench tool: usage errors go to stderr
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::io::Write;
use tailwatch_lm::{KneserNey, Vocabulary};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: kn_sample CORPUS N [SEED] [ORDER]");
        std::process::exit(2);
    }
    let text = std::fs::read_to_string(&args[0]).unwrap_or_else(|e| {
        eprintln!("{}: {e}", args[0]);
        std::process::exit(2)
    });
    let number = |i: usize, default: u64| -> u64 {
        args.get(i).map_or(default, |a| {
            a.parse().unwrap_or_else(|_| {
                eprintln!("argument {}: `{a}` is not a number", i + 1);
                std::process::exit(2)
            })
        })
    };
    let (n, seed, order) = (number(1, 0), number(2, 0), number(3, 3) as usize);
    let mut vocabulary = Vocabulary::new();
    let docs: Vec<Vec<u32>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(|t| vocabulary.intern(t)).collect())
        .collect();
    let model = KneserNey::train(&docs, vocabulary.len(), order);
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = 0;
    while written < n {
        let doc = model.sample_doc(&mut rng, 200);
        if doc.is_empty() {
            continue;
        }
        let words: Vec<&str> = doc.iter().map(|&t| vocabulary.token(t)).collect();
        writeln!(out, "{}", words.join(" ")).expect("stdout");
        written += 1;
    }
}
