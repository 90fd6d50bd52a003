//! The ledger: idempotent ingest, lineage across generations, migration from a v1 file, files
//! that are not ledgers, bad records that change nothing, and mixes that never violate caps.
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tailwatch_core::NoReporter;
use tailwatch_ledger::Error;
use tailwatch_ledger::mix::{MinHuman, MixOptions, Selection, Unit, build_mix, check_caps};
use tailwatch_ledger::store::{Ledger, NewRecord, Origin, SCHEMA_VERSION, content_id};

fn record(text: &str, origin: Origin) -> NewRecord {
    NewRecord {
        text: text.to_string(),
        origin,
        generator: None,
        generation: None,
        source: None,
        license: None,
        key: None,
        parents: Vec::new(),
        detector_score: None,
        detector_model: None,
        location: format!("test: {text}"),
    }
}

fn fresh(dir: &Path) -> (Ledger, PathBuf) {
    let path = dir.join("ledger.db");
    (Ledger::init(&path).unwrap().0, path)
}

#[test]
fn ingest_is_idempotent_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, _) = fresh(dir.path());
    let batch = vec![
        record("Hello   world.", Origin::Human),
        record("Hello world.", Origin::Human),
        record("Something else", Origin::Synthetic),
    ];
    let first = ledger.ingest("a", batch.clone(), 2, &NoReporter).unwrap();
    assert_eq!((first.added, first.duplicates_in_input, first.batches), (2, 1, 2));
    let again = ledger.ingest("a", batch, 2, &NoReporter).unwrap();
    assert_eq!((again.added, again.already_present), (0, 2));
    let conflicting =
        ledger.ingest("b", vec![record("Something else", Origin::Human)], 10, &NoReporter).unwrap();
    assert_eq!((conflicting.added, conflicting.origin_conflicts), (0, 1));
    let stats = ledger.stats().unwrap();
    assert_eq!(stats.records, 2);
    assert_eq!(stats.by_origin.len(), 2);
    ledger.check().unwrap();
}

#[test]
fn lineage_over_generations() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, _) = fresh(dir.path());
    let mut records =
        vec![NewRecord { key: Some("g0".into()), ..record("the original human text", Origin::Human) }];
    for g in 1..=5 {
        records.push(NewRecord {
            key: Some(format!("g{g}")),
            parents: vec![format!("g{}", g - 1)],
            generator: Some("model".into()),
            ..record(&format!("generated text of generation {g}"), Origin::Synthetic)
        });
    }
    // a branch: two children of generation 2, and a record with two parents
    records.push(NewRecord {
        key: Some("branch".into()),
        parents: vec!["g2".into()],
        ..record("a branch", Origin::Synthetic)
    });
    records.push(NewRecord {
        key: Some("merge".into()),
        parents: vec!["g5".into(), "branch".into()],
        ..record("a merge of two lines", Origin::Synthetic)
    });
    // parents may come later in the input
    records.insert(
        0,
        NewRecord {
            key: Some("late-child".into()),
            parents: vec!["g0".into()],
            ..record("child listed first", Origin::Synthetic)
        },
    );
    let s = ledger.ingest("chain", records, 3, &NoReporter).unwrap();
    assert_eq!(s.parent_edges, 9);
    let lineage = ledger.lineage("g3").unwrap();
    let ancestors: Vec<(String, i64)> =
        lineage.ancestors.iter().map(|r| (r.key.clone().unwrap(), r.depth)).collect();
    assert_eq!(ancestors, vec![("g2".into(), 1), ("g1".into(), 2), ("g0".into(), 3)]);
    let descendants: Vec<String> = lineage.descendants.iter().map(|r| r.key.clone().unwrap()).collect();
    assert_eq!(descendants, vec!["g4", "g5", "merge"]);
    assert_eq!(lineage.record.generation, Some(3), "generation derived from the parents");
    let merge = ledger.lineage("merge").unwrap();
    assert_eq!(merge.record.generation, Some(6));
    assert_eq!(merge.ancestors.iter().find(|r| r.key.as_deref() == Some("g2")).unwrap().depth, 2);
    let root = ledger.lineage("g0").unwrap();
    assert_eq!(root.descendants.len(), 8);
    // id prefixes resolve too
    let prefix = &lineage.record.id[..10];
    assert_eq!(ledger.lineage(prefix).unwrap().record.id, lineage.record.id);
    assert!(matches!(ledger.lineage("nope"), Err(Error::NoSuchRecord { .. })));
}

/// A lineage as one line per relative: `-depth key gen` above, `+depth key gen` below.
fn shown(lineage: &tailwatch_ledger::store::Lineage) -> String {
    let line = |sign: char, r: &tailwatch_ledger::store::Relative| {
        let generation = r.generation.map_or("-".into(), |g| g.to_string());
        format!("{sign}{} {} gen {generation}\n", r.depth, r.key.as_deref().unwrap_or("?"))
    };
    let mut text = line('=', &lineage.record);
    text.extend(lineage.ancestors.iter().map(|r| line('-', r)));
    text.extend(lineage.descendants.iter().map(|r| line('+', r)));
    text
}

/// Shared ancestors (diamonds), two paths of different lengths to one record and a cycle: each
/// relative once, at its shortest distance, nearest first and then by content id.
#[test]
fn lineage_with_shared_ancestors() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, _) = fresh(dir.path());
    let derived = |key: &str, parents: &[&str]| NewRecord {
        key: Some(key.into()),
        parents: parents.iter().map(|p| (*p).to_string()).collect(),
        generator: Some("model".into()),
        ..record(&format!("the text of record {key}"), Origin::Synthetic)
    };
    let records = vec![
        NewRecord { key: Some("root".into()), ..record("the human root text", Origin::Human) },
        NewRecord { key: Some("other".into()), ..record("another human text", Origin::Human) },
        derived("a", &["root"]),
        derived("b", &["root"]),
        derived("c", &["root", "other"]),
        // diamonds: root reaches d through a and b, and e through d and c
        derived("d", &["a", "b"]),
        derived("e", &["d", "c"]),
        // a shortcut: root is two steps from f through d's line but one step directly
        derived("f", &["e", "root"]),
        derived("g", &["f", "e", "d", "a"]),
        // a cycle (both in one input): x and y are each other's parent
        derived("x", &["g", "y"]),
        derived("y", &["x"]),
        derived("z", &["y", "c"]),
    ];
    ledger.ingest("dag", records, 4, &NoReporter).unwrap();
    let text: String = ["root", "a", "d", "g", "x", "z"]
        .iter()
        .map(|key| shown(&ledger.lineage(key).unwrap()))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("lineage_with_shared_ancestors", text);
}

/// Issue 16: in a 600-record dense DAG (each record derived from the 50 before it) every
/// earlier record is an ancestor and every later one a descendant, each once, `ceil(distance /
/// 50)` steps away, nearest first and then by id. (bench/lineage.sh times it.)
#[test]
fn lineage_of_a_dense_dag_issue_16() {
    const N: usize = 600;
    const WINDOW: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, _) = fresh(dir.path());
    let text = |i: usize| format!("dense record number {i}");
    let records: Vec<NewRecord> = (0..N)
        .map(|i| NewRecord {
            key: Some(format!("r{i}")),
            parents: (i.saturating_sub(WINDOW)..i).map(|j| format!("r{j}")).collect(),
            generator: (i > 0).then(|| "model".into()),
            ..record(&text(i), if i == 0 { Origin::Human } else { Origin::Synthetic })
        })
        .collect();
    let summary = ledger.ingest("dense", records, 1000, &NoReporter).unwrap();
    let edges: usize = (0..N).map(|i| i.min(WINDOW)).sum();
    assert_eq!(summary.parent_edges, edges as u64);
    // the expected relatives: (id, depth) sorted by depth, then id
    let expected = |others: std::ops::Range<usize>, k: usize| {
        let mut out: Vec<(String, i64)> =
            others.map(|j| (content_id(&text(j)), k.abs_diff(j).div_ceil(WINDOW) as i64)).collect();
        out.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        out
    };
    let pairs = |relatives: &[tailwatch_ledger::store::Relative]| -> Vec<(String, i64)> {
        relatives.iter().map(|r| (r.id.clone(), r.depth)).collect()
    };
    for k in [0, 1, 49, 50, 300, N - 1] {
        let lineage = ledger.lineage(&format!("r{k}")).unwrap();
        assert_eq!(lineage.record.id, content_id(&text(k)));
        assert_eq!(lineage.record.generation, Some(k as i64), "one generation per step");
        assert_eq!(lineage.ancestors.len(), k, "r{k}");
        assert_eq!(lineage.descendants.len(), N - 1 - k, "r{k}");
        assert_eq!(pairs(&lineage.ancestors), expected(0..k, k), "ancestors of r{k}");
        assert_eq!(pairs(&lineage.descendants), expected(k + 1..N, k), "descendants of r{k}");
    }
}

#[test]
fn bad_records_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, path) = fresh(dir.path());
    ledger.ingest("ok", vec![record("kept text", Origin::Human)], 10, &NoReporter).unwrap();
    let before = std::fs::read(&path).unwrap();
    let bad = vec![
        record("fine", Origin::Human),
        NewRecord { parents: vec!["missing-parent".into()], ..record("orphan", Origin::Synthetic) },
    ];
    let err = ledger.ingest("bad", bad, 1, &NoReporter).unwrap_err().to_string();
    assert!(err.contains("test: orphan") && err.contains("missing-parent"), "{err}");
    let own = vec![NewRecord {
        key: Some("k".into()),
        parents: vec!["k".into()],
        ..record("self", Origin::Synthetic)
    }];
    assert!(ledger.ingest("bad", own, 1, &NoReporter).unwrap_err().to_string().contains("its own parent"));
    drop(ledger);
    let after = Ledger::open(&path).unwrap();
    assert_eq!(after.stats().unwrap().records, 1);
    assert_eq!(after.stats().unwrap().batches, 1);
    let _ = before;
}

#[test]
fn migrates_the_committed_v1_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ledger-v1.db");
    let path = dir.path().join("old.db");
    std::fs::copy(&fixture, &path).unwrap();
    let mut ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), SCHEMA_VERSION);
    ledger.check().unwrap();
    let stats = ledger.stats().unwrap();
    assert_eq!((stats.records, stats.parent_edges, stats.batches), (3, 1, 2));
    let lineage = ledger.lineage(&"c".repeat(64)).unwrap();
    assert_eq!(lineage.ancestors[0].id, "a".repeat(64));
    // v2 features work on the migrated file: keys and reviews
    ledger
        .ingest(
            "new",
            vec![NewRecord { key: Some("new".into()), ..record("a new record", Origin::Unknown) }],
            10,
            &NoReporter,
        )
        .unwrap();
    let sample = ledger.review_sample(10, 1, &[Origin::Synthetic, Origin::Unknown], None).unwrap();
    assert_eq!(sample.records.len(), 2);
    drop(ledger);
    assert_eq!(Ledger::open(&path).unwrap().schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn refuses_files_that_are_not_ledgers_and_newer_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "just text, not a database at all").unwrap();
    assert!(matches!(Ledger::open(&text), Err(Error::NotALedger { .. })));
    assert!(matches!(Ledger::init(&text), Err(Error::NotALedger { .. })));
    assert_eq!(std::fs::read_to_string(&text).unwrap(), "just text, not a database at all");
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    assert!(matches!(Ledger::open(&other), Err(Error::NotALedger { .. })));
    assert_eq!(std::fs::read(&other).unwrap(), before);
    let newer = dir.path().join("newer.db");
    drop(Ledger::init(&newer).unwrap());
    rusqlite::Connection::open(&newer).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let before = std::fs::read(&newer).unwrap();
    assert!(matches!(Ledger::open(&newer), Err(Error::NewerSchema { found: 99, .. })));
    assert_eq!(std::fs::read(&newer).unwrap(), before);
    assert!(matches!(Ledger::open(&dir.path().join("absent.db")), Err(Error::Missing { .. })));
}

#[test]
fn review_samples_are_reproducible_and_rates_per_generator() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, _) = fresh(dir.path());
    let records: Vec<NewRecord> = (0..40)
        .map(|i| NewRecord {
            generator: Some(if i % 2 == 0 { "a" } else { "b" }.into()),
            ..record(&format!("synthetic record number {i}"), Origin::Synthetic)
        })
        .chain((0..10).map(|i| record(&format!("human record {i}"), Origin::Human)))
        .collect();
    ledger.ingest("r", records, 100, &NoReporter).unwrap();
    let one = ledger.review_sample(10, 7, &[Origin::Synthetic], None).unwrap();
    let two = ledger.review_sample(10, 7, &[Origin::Synthetic], None).unwrap();
    let ids =
        |s: &tailwatch_ledger::review::Sample| s.records.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&one), ids(&two));
    assert_eq!(two.sample, one.sample + 1);
    let bigger = ledger.review_sample(15, 7, &[Origin::Synthetic], None).unwrap();
    assert_eq!(ids(&bigger)[..10], ids(&one)[..]);
    assert!(one.records.iter().all(|r| r.origin == Origin::Synthetic));
    let verdicts: Vec<(String, bool, String, Option<String>, String)> = one
        .records
        .iter()
        .map(|r| {
            (r.id.clone(), r.generator.as_deref() == Some("a"), "ann".to_string(), None, "v".to_string())
        })
        .collect();
    ledger.review_record(&verdicts).unwrap();
    let report = ledger.review_report().unwrap();
    for g in &report {
        let expected = if g.generator.as_deref() == Some("a") { 1.0 } else { 0.0 };
        assert_eq!(g.rate, expected);
        assert!(g.interval.0 <= g.rate && g.rate <= g.interval.1);
    }
    assert_eq!(report.iter().map(|g| g.reviewed).sum::<u64>(), 10);
}

fn mix_options(
    size: Option<u64>,
    unit: Unit,
    cap: f64,
    min_human: Option<MinHuman>,
    seed: u64,
) -> MixOptions {
    MixOptions {
        name: "t".into(),
        size,
        unit,
        max_synthetic: cap,
        min_human,
        accumulate: false,
        dedup: None,
        tail_preserve: None,
        selection: Selection::default(),
        seed,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Caps are never violated: a mix either meets every cap, with a manifest that recounts its
    /// members, or fails with CapsUnmet and records nothing.
    #[test]
    fn mixes_never_violate_caps(
        records in proptest::collection::vec((0u8..3, 1usize..30), 1..60),
        size in proptest::option::of(1u64..80),
        tokens in any::<bool>(),
        cap in 0.0f64..=1.0,
        min_human in proptest::option::of(prop_oneof![(0u64..40).prop_map(MinHuman::Count), (0.0f64..=1.0).prop_map(MinHuman::Share)]),
        seed in 0u64..1000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (mut ledger, _) = fresh(dir.path());
        let new: Vec<NewRecord> = records.iter().enumerate().map(|(i, &(o, words))| {
            let origin = [Origin::Human, Origin::Synthetic, Origin::Unknown][o as usize];
            record(&format!("{i} {}", "w ".repeat(words)), origin)
        }).collect();
        ledger.ingest("p", new, 16, &NoReporter).unwrap();
        let unit = if tokens { Unit::Tokens } else { Unit::Records };
        let options = mix_options(size, unit, cap, min_human, seed);
        let mixes_before = ledger.stats().unwrap();
        match build_mix(&mut ledger, &options) {
            Ok((members, manifest)) => {
                for c in check_caps(&members, &options) {
                    prop_assert!(c.met, "cap {} violated: {} vs {}", c.cap, c.actual, c.limit);
                }
                let weight = |r: &tailwatch_ledger::store::RecordRow| if tokens { r.tokens as u64 } else { 1 };
                let total: u64 = members.iter().map(weight).sum();
                let synthetic: u64 = members.iter().filter(|r| r.origin != Origin::Human).map(weight).sum();
                prop_assert!(synthetic as f64 <= cap * total as f64 + 1e-9);
                prop_assert_eq!(manifest.records, members.len() as u64);
                prop_assert_eq!(manifest.tokens, members.iter().map(|r| r.tokens as u64).sum::<u64>());
                let by_origin_records: u64 = manifest.by_origin.values().map(|s| s.records).sum();
                prop_assert_eq!(by_origin_records, members.len() as u64);
                let mut ids: Vec<&str> = members.iter().map(|r| r.id.as_str()).collect();
                ids.sort();
                ids.dedup();
                prop_assert_eq!(ids.len(), members.len(), "no record twice");
            }
            Err(Error::CapsUnmet(..)) => {
                // nothing recorded
                prop_assert_eq!(ledger.stats().unwrap().records, mixes_before.records);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

#[test]
fn accumulate_keeps_earlier_human_records_and_tail_preserve_keeps_rare_words() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, _) = fresh(dir.path());
    // 30 distinct human texts over six common words (each word appears ~20 times), one rare
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
    let mut texts = Vec::new();
    'outer: for a in 0..6 {
        for b in 0..6 {
            for c in 0..6 {
                if a != b && b != c && a != c {
                    texts.push(format!("{} {} {}", words[a], words[b], words[c]));
                    if texts.len() == 30 {
                        break 'outer;
                    }
                }
            }
        }
    }
    let mut records: Vec<NewRecord> = texts.iter().map(|t| record(t, Origin::Human)).collect();
    records.push(record("zyzzyva quokka", Origin::Human));
    records.extend((0..30).map(|i| record(&format!("synthetic text {i}"), Origin::Synthetic)));
    ledger.ingest("a", records, 100, &NoReporter).unwrap();
    let (first, _) = build_mix(&mut ledger, &mix_options(Some(10), Unit::Records, 0.3, None, 1)).unwrap();
    let first_humans: Vec<String> =
        first.iter().filter(|r| r.origin == Origin::Human).map(|r| r.id.clone()).collect();
    let mut options = mix_options(Some(10), Unit::Records, 0.3, None, 99);
    options.accumulate = true;
    let (second, manifest) = build_mix(&mut ledger, &options).unwrap();
    assert_eq!(manifest.accumulated as usize, first_humans.len());
    for id in &first_humans {
        assert!(second.iter().any(|r| &r.id == id), "accumulate dropped an earlier human record");
    }
    let mut tail = mix_options(Some(5), Unit::Records, 0.2, None, 5);
    tail.tail_preserve = Some(0.05);
    let (mix, manifest) = build_mix(&mut ledger, &tail).unwrap();
    assert!(manifest.tail_preserved >= 1);
    assert!(mix.iter().any(|r| r.text.contains("zyzzyva")), "the rare-word record must be kept");
}
