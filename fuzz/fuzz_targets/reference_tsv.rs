//! Word-frequency tables for `--reference` (`Reference::from_frequency_table`): byte 0 picks
//! lowercasing, the rest is the table. Any input is a reference or an `Err`, never a panic; a
//! reference has well-formed types and tail, and scoring documents against it gives reference
//! metrics that are finite and inside their documented ranges.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tailwatch::Engine;
use tailwatch::profiling::ProfileSettings;
use tailwatch::scoring::{ScoreOptions, Scorer};
use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_metrics::reference::REFERENCE_IDS;
use tailwatch_metrics::{MetricSelection, Reference};

static ENGINE: LazyLock<Engine> = LazyLock::new(|| Engine::new(Some(1)).expect("an engine"));

const DOCS: &[&str] = &["the cat sat on the mat", "a dog ran after the cat", "the the the", "Zebra"];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, table)) = data.split_first() else { return };
    let Ok(reference) = Reference::from_frequency_table(table, Path::new("<fuzz>"), flags & 1 != 0) else {
        return;
    };
    let types = reference.types();
    assert!(types >= 1, "a reference without a positive frequency");
    assert_eq!(reference.vocabulary().len(), types);
    for tail_mass in [0.0, 0.05, 0.5, 1.0] {
        let tail = reference.tail(tail_mass);
        assert!(!tail.is_empty() && tail.len() <= types);
        assert!(tail.iter().all(|(_, w)| w.is_finite() && *w > 0.0), "{tail:?}");
    }
    let tokenizer = Tokenizer::from_spec(&TokenizerSpec::words()).expect("the words tokenizer");
    let options = ScoreOptions {
        metrics: MetricSelection::Only(REFERENCE_IDS.iter().map(|id| id.to_string()).collect()),
        reference: Some(reference),
        ..ScoreOptions::default()
    };
    let scorer = Scorer::new(ProfileSettings::new(tokenizer), options).expect("default options are valid");
    let report = scorer.score_texts(&ENGINE, "docs", DOCS).expect("documents score against any reference");
    if let Err(e) = tailwatch::comparing::check_report(&report, Path::new("<fuzz>"), &[]) {
        panic!("a reference metric out of range: {e}");
    }
});
