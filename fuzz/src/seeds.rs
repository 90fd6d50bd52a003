//! The seeds that need tailwatch itself to make: small `.twp` profiles (and their bodies) of the
//! tests' documents, and saved reports. Written by `profile_decode` when
//! `TAILWATCH_FUZZ_WRITE_SEEDS` names a directory (`fuzz/make-seeds`); the other seeds are
//! files from the tests, copied by that script.
use std::path::Path;

use tailwatch::Engine;
use tailwatch::profiling::ProfileSettings;
use tailwatch::scoring::{ScoreOptions, Scorer};
use tailwatch_core::{Tokenizer, TokenizerSpec};
use tailwatch_metrics::grouped::{GroupBy, Grouping};
use tailwatch_metrics::{Profile, SampleSize};

/// The documents of the CLI's format tests, and a few more.
const DOCS: &[&str] = &[
    "the cat sat on the mat",
    "a dog ran in the park",
    "the cat sat on the mat",
    "naïve café owners",
    "The end. Or is it? 42 times!",
];

const ITEMS: &[&str] = &["a b c", "b c d", "a a e", "c"];

fn profile(
    engine: &Engine,
    docs: &[&str],
    spec: &TokenizerSpec,
    keep_text: bool,
    sample: u64,
    sketch: bool,
) -> Profile {
    let mut settings = ProfileSettings::new(Tokenizer::from_spec(spec).expect("a built-in tokenizer"));
    settings.config.keep_text = keep_text;
    settings.config.sample = SampleSize::Docs(sample);
    let mut profile = engine.profile_texts(docs.iter().copied(), &settings).expect("the documents profile");
    if sketch {
        profile.sketch_ngrams();
    }
    profile
}

/// A profile of `docs` as answers grouped `by`: two groups of a field, or one per record.
fn grouped(docs: &[&str], by: GroupBy, groups: u64) -> Profile {
    let tokenizer = Tokenizer::from_spec(&TokenizerSpec::words()).expect("words");
    let mut config = tailwatch_metrics::ProfileConfig::new(TokenizerSpec::words());
    config.grouping = Some(Grouping { by, groups: SampleSize::Docs(groups), order_field: None });
    let mut builder = tailwatch_metrics::ProfileBuilder::new(&tokenizer, config);
    for (i, pair) in docs.chunks(2).enumerate() {
        builder.observe_group(&format!("prompt {i}"), pair).expect("the documents profile");
    }
    builder.finish()
}

/// A profile of `docs` as answers grouped by a field and ordered by another, with two score
/// fields (a reward, and a 0/1 pass): all three extensions of the format.
fn grouped_scored(docs: &[&str]) -> Profile {
    let tokenizer = Tokenizer::from_spec(&TokenizerSpec::words()).expect("words");
    let mut config = tailwatch_metrics::ProfileConfig::new(TokenizerSpec::words());
    config.grouping = Some(Grouping {
        by: GroupBy::Field("prompt".into()),
        groups: SampleSize::Docs(1000),
        order_field: Some("i".into()),
    });
    config.score_fields = vec!["reward".into(), "pass".into()];
    let mut builder = tailwatch_metrics::ProfileBuilder::new(&tokenizer, config);
    for (i, doc) in docs.iter().enumerate() {
        let reward = if i == 3 { None } else { Some(i as f64 * 0.25 - 0.5) };
        let scores = [vec![reward], vec![Some(f64::from(u8::from(i % 2 == 0)))]];
        let key = format!("prompt {}", i % 2);
        builder.observe_answers(Some(&key), &[doc], &scores, Some(&[(docs.len() - i) as u64])).expect("profiles");
    }
    builder.finish()
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).expect("the seed directory is writable");
    std::fs::write(dir.join(name), bytes).expect("the seed directory is writable");
}

/// Write the seeds of `profile_decode`, `profile_merge`, `saved_report` and the profile push
/// of `server_bodies` under `dir/<target>/`.
pub fn write_all(dir: &Path) {
    let engine = Engine::new(Some(1)).expect("an engine");
    let words = TokenizerSpec::words();
    let items = TokenizerSpec::parse_builtin("items", false).expect("items");
    let lower = TokenizerSpec::parse_builtin("whitespace", true).expect("whitespace");
    let profiles = [
        ("words", profile(&engine, DOCS, &words, false, 1000, false)),
        ("words-text", profile(&engine, DOCS, &words, true, 1000, false)),
        ("words-sample2", profile(&engine, &DOCS[1..], &words, false, 2, false)),
        ("items", profile(&engine, ITEMS, &items, false, 1000, false)),
        ("sketched", profile(&engine, DOCS, &words, true, 1000, true)),
        ("whitespace-lower", profile(&engine, &DOCS[3..], &lower, true, 3, false)),
        ("grouped-field", grouped(DOCS, GroupBy::Field("prompt".into()), 1000)),
        ("grouped-record", grouped(&DOCS[1..], GroupBy::Record, 2)),
        ("grouped-scored", grouped_scored(DOCS)),
    ];
    let mut encoded = Vec::new();
    for (name, profile) in &profiles {
        let bytes = profile.to_bytes().expect("a profile encodes");
        let body = zstd::decode_all(&bytes[20..]).expect("the body decompresses");
        write(dir, "profile_decode", &format!("{name}.twp"), &[&[0u8][..], &bytes].concat());
        // byte 2 picks the format: the header's version less one
        let version = bytes[8] - 1;
        write(dir, "profile_decode", &format!("{name}.body"), &[&[1u8, bytes[6], version][..], &body].concat());
        write(dir, "server_bodies", &format!("push-{name}"), &[&[0u8, b'\n', 0][..], &bytes].concat());
        encoded.push((name, bytes, body));
    }
    // pairs that merge (same settings) and one that does not
    for (a, b) in [(0, 2), (1, 0), (1, 4), (3, 3), (0, 3), (6, 6), (6, 0), (7, 7), (8, 8), (8, 6)] {
        let (name_a, _, body_a) = &encoded[a];
        let (name_b, _, body_b) = &encoded[b];
        let first = [&[1u8, 0, encoded[a].1[8] - 1][..], body_a].concat();
        let second = [&[1u8, 0, encoded[b].1[8] - 1][..], body_b].concat();
        let kind = |i: usize| encoded[i].1[6];
        let (mut first, mut second) = (first, second);
        first[1] = kind(a);
        second[1] = kind(b);
        let len = u16::try_from(first.len()).expect("a small seed").to_le_bytes();
        write(dir, "profile_merge", &format!("{name_a}+{name_b}"), &[&len[..], &first, &second].concat());
    }
    let tokenizer = Tokenizer::from_spec(&words).expect("words");
    let scorer = Scorer::new(ProfileSettings::new(tokenizer), ScoreOptions::default()).expect("a scorer");
    let report = scorer.score_texts(&engine, "docs.txt", DOCS).expect("the documents score");
    let json = serde_json::to_string_pretty(&report).expect("a report serializes");
    write(dir, "saved_report", "score.json", json.as_bytes());
    let one = scorer.score_texts(&engine, "one.txt", &DOCS[..1]).expect("one document scores");
    write(dir, "saved_report", "one.json", serde_json::to_string(&one).expect("serializes").as_bytes());
}
