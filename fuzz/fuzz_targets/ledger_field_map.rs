//! Ledger ingest with provenance field maps (`Engine::ingest` with `ProvenanceFields`, what
//! `tailwatch ingest --origin-field ...` runs). The first line of the input is the map, as
//! space-separated `name=field` pairs (`origin`, `generator`, `generation`, `source`,
//! `license`, `parents`, `key`), with `format=` (`jsonl`, `csv`, `json`, `text`), `default=`
//! (the input's origin) and `batch=`; the rest is the input, in a fresh ledger. Any input is
//! ingested or refused with an `Err`, never a panic. An ingest adds every distinct text once,
//! leaves the ledger consistent, and ingesting the same input again adds nothing.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tailwatch::Engine;
use tailwatch::ingest::{IngestJob, Provenance, ProvenanceFields};
use tailwatch_core::NoReporter;
use tailwatch_io::{Format, ReadOptions};
use tailwatch_ledger::store::Ledger;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| Engine::new(Some(1)).expect("an engine"));

/// This process's files under the temp directory: the input, the ledger, and an empty ledger
/// to copy (creating one runs every migration).
struct Files {
    input: PathBuf,
    ledger: PathBuf,
    template: PathBuf,
}

static FILES: LazyLock<Files> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("tailwatch-fuzz-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp directory is writable");
    let template = dir.join("template.db");
    drop(Ledger::init(&template).expect("a new ledger"));
    Files { input: dir.join("input"), ledger: dir.join("ledger.db"), template }
});

fn fresh_ledger() -> Ledger {
    let files = &*FILES;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = files.ledger.clone().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
    std::fs::copy(&files.template, &files.ledger).expect("the template copies");
    Ledger::open(&files.ledger).expect("a copy of a new ledger opens")
}

fuzz_target!(|data: &[u8]| {
    let (map, input) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &data[..0]),
    };
    let Ok(map) = std::str::from_utf8(map) else { return };
    let mut fields = ProvenanceFields::default();
    let mut provenance = Provenance::default();
    let mut format = Format::Jsonl;
    let mut batch_size = 2;
    for pair in map.split(' ') {
        let Some((name, value)) = pair.split_once('=') else { continue };
        let field = Some(value.to_string());
        match name {
            "origin" => fields.origin = field,
            "generator" => fields.generator = field,
            "generation" => fields.generation = field,
            "source" => fields.source = field,
            "license" => fields.license = field,
            "parents" => fields.parents = field,
            "key" => fields.key = field,
            "default" => provenance.origin = value.parse().ok(),
            "format" => {
                format = Format::parse(value).filter(|f| *f != Format::Parquet).unwrap_or(Format::Jsonl)
            }
            "batch" => batch_size = value.parse::<usize>().unwrap_or(2).clamp(1, 64),
            _ => {}
        }
    }
    std::fs::write(&FILES.input, input).expect("the temp directory is writable");
    let job = IngestJob {
        inputs: vec![FILES.input.clone()],
        read: ReadOptions { format: Some(format), ..ReadOptions::default() },
        provenance,
        fields,
        detector: None,
        batch_size,
    };
    let mut ledger = fresh_ledger();
    let Ok(report) = ENGINE.ingest(&mut ledger, &job, &NoReporter) else { return };
    let summary = report.summary;
    assert_eq!(summary.already_present, 0, "{summary:?}");
    assert_eq!(summary.added + summary.duplicates_in_input, summary.read, "{summary:?}");
    ledger.check().expect("an ingest leaves the ledger consistent");
    let records = ledger.records(None).expect("records");
    assert_eq!(records.len() as u64, summary.added);
    assert!(records.iter().all(|r| r.generation.is_none_or(|g| (0..=i64::from(u32::MAX)).contains(&g))));
    let again = ENGINE.ingest(&mut ledger, &job, &NoReporter).expect("the same input ingests again");
    assert_eq!(again.summary.added, 0, "a second ingest added records: {:?}", again.summary);
    assert_eq!(ledger.records(None).expect("records").len() as u64, summary.added);
});
