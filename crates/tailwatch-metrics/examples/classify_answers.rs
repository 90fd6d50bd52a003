//! Classifies answers with the standard phrase bank: `classify_answers [--refusal-window N] [--stats] [--quiet]`.
//!
//! Reads JSON lines `{"text": "..."}` on stdin and writes one `{"refusal": BOOL, "disclaimer":
//! BOOL}` line per input line on stdout (none with `--quiet`), for bench/refusal_eval.py and
//! bench/refusals.sh. `--refusal-window N` classifies with an N-character refusal window instead
//! of the bank's 300. `--stats` prints one JSON line on stderr: the bank's version and window,
//! answers, bytes of text, refusals, disclaimers, and the seconds and MB/s (10^6 bytes of answer
//! text per second) of classifying alone: every line is read and parsed first, then every answer
//! is normalized and matched in one timed loop, like bench/refusal_regex.py.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use tailwatch_metrics::phrases::{
    PHRASE_BANK_VERSION, PhraseBank, PhraseCounts, PhraseMatch, normalize_into,
};

const USAGE: &str = "usage: classify_answers [--refusal-window N] [--stats] [--quiet] < answers.jsonl";

fn main() -> ExitCode {
    let mut window = None;
    let mut stats = false;
    let mut quiet = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--refusal-window" => match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => window = Some(n),
                None => return fail("`--refusal-window` needs a number of characters"),
            },
            "--stats" => stats = true,
            "--quiet" => quiet = true,
            _ => return fail(USAGE),
        }
    }
    let bank = match window {
        Some(n) => PhraseBank::standard().clone().with_refusal_window(n),
        None => PhraseBank::standard().clone(),
    };

    let mut texts = Vec::new();
    for (index, line) in std::io::stdin().lock().lines().enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(e) => return fail(&format!("cannot read line {} of stdin: {e}", index + 1)),
        };
        let value: serde_json::Value = match serde_json::from_str(&line) {
            Ok(value) => value,
            Err(e) => return fail(&format!("line {}: not JSON: {e}", index + 1)),
        };
        match value.get("text").and_then(serde_json::Value::as_str) {
            Some(text) => texts.push(text.to_string()),
            None => return fail(&format!("line {}: no string field `text`", index + 1)),
        }
    }

    let start = Instant::now();
    let mut normalized = String::new();
    let found: Vec<PhraseMatch> = texts
        .iter()
        .map(|text| {
            normalize_into(text, &mut normalized);
            bank.classify_normalized(&normalized)
        })
        .collect();
    let seconds = start.elapsed().as_secs_f64();

    if !quiet {
        let mut out = BufWriter::new(std::io::stdout().lock());
        for m in &found {
            if writeln!(out, "{{\"refusal\": {}, \"disclaimer\": {}}}", m.refusal, m.disclaimer).is_err() {
                return ExitCode::SUCCESS; // a closed pipe: the reader has what it wanted
            }
        }
        if out.flush().is_err() {
            return ExitCode::SUCCESS;
        }
    }
    if stats {
        let mut counts = PhraseCounts::default();
        found.iter().for_each(|&m| counts.observe(m));
        let bytes: usize = texts.iter().map(String::len).sum();
        #[allow(clippy::cast_precision_loss)] // bytes of a benchmark input
        let mb_per_s = bytes as f64 / 1e6 / seconds;
        eprintln!(
            "{{\"impl\": \"tailwatch PhraseBank\", \"version\": \"{PHRASE_BANK_VERSION}\", \"refusal_window\": {}, \
             \"answers\": {}, \"bytes\": {bytes}, \"refusals\": {}, \"disclaimers\": {}, \"seconds\": {seconds:.4}, \
             \"mb_per_s\": {mb_per_s:.2}, \"matcher_bytes\": {}}}",
            bank.refusal_window(),
            counts.answers,
            counts.refusals,
            counts.disclaimers,
            bank.matcher_bytes(),
        );
    }
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
