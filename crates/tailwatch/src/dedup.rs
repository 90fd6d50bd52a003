//! Deduplicating inputs: a reader thread feeds records to the sketch crate's `Deduper` on the
//! pool, candidates are verified (their records read again from plain files), and the kept
//! records, the clusters and the pairs are written out.
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tailwatch_core::Reporter;
use tailwatch_io::output::write_json_lines;
use tailwatch_io::{
    DocReader, Format, ReadOptions, ReadStats, RecordRereader, RecordSpan, RunFiles, write_records,
};
use tailwatch_sketch::dedup::{
    Cluster, DedupOptions, DedupResult, Deduper, HashedBatch, RereadError, Verify,
};
use tailwatch_sketch::lsh::Banding;

use crate::{Engine, Error, Result};

/// A dedup run: the inputs, how to read them, how to deduplicate, and where the results go.
#[derive(Debug, Clone)]
pub struct DedupJob {
    /// Inputs, deduplicated together (`-` is stdin).
    pub inputs: Vec<PathBuf>,
    /// How they are read.
    pub read: ReadOptions,
    /// How records are compared and which one of a cluster is kept.
    pub options: DedupOptions,
    /// The field `KeepPolicy::Prefer` looks at.
    pub keep_field: Option<String>,
    /// Write the kept records here, in the input's format (a folder for several inputs).
    pub output: Option<PathBuf>,
    /// Write the clusters here (JSONL).
    pub clusters: Option<PathBuf>,
    /// Write the verified near-duplicate pairs here (JSONL).
    pub pairs: Option<PathBuf>,
}

/// What a dedup run found and wrote.
#[derive(Debug)]
pub struct DedupRun {
    /// Clusters, keep decisions and the summary.
    pub result: DedupResult,
    /// The options as run (with the verification that was used).
    pub options: DedupOptions,
    /// The LSH banding, unless the run was exact only or an exact all-pairs join.
    pub banding: Option<Banding>,
    /// What the readers saw.
    pub stats: ReadStats,
    /// The files written, in order.
    pub outputs: Vec<PathBuf>,
}

/// Where each deduplicated unit (a record) came from.
#[derive(Debug, Clone, Copy)]
struct RecordRef {
    input: u32,
    record: u64,
}

/// One batch of dedup units: a record holding an array field is one unit, its documents joined.
struct Unit {
    texts: Vec<String>,
    extras: Vec<Option<String>>,
}

/// Each unit's record, where the records lie in their files (when they are read again to
/// verify candidates), and the read statistics.
#[derive(Default)]
struct UnitRecords {
    refs: Vec<RecordRef>,
    spans: Vec<RecordSpan>,
    stats: ReadStats,
}

/// Whether every input is an uncompressed text or JSONL file, whose records can be read again:
/// candidates are then verified on shingle sets made again from their texts instead of keeping
/// every text's set in memory.
/// (Only regular files are opened to find out: opening a pipe would consume what it holds.)
fn rereadable(inputs: &[PathBuf], read: &ReadOptions) -> bool {
    inputs.iter().all(|input| {
        is_regular_file(input)
            && matches!(read.format.unwrap_or_else(|| Format::from_path(input)), Format::Text | Format::Jsonl)
            && DocReader::open(input, read).is_ok_and(|reader| reader.rereadable())
    })
}

/// Whether `path` is a regular file (not `-`, a pipe or a device): one that can be read twice.
fn is_regular_file(path: &Path) -> bool {
    path.as_os_str() != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Read every input in order and send its units in batches; with `spans`, also keep where each
/// unit's record lies. Stops early (without error) when the receiver hangs up.
fn read_units(
    inputs: &[PathBuf],
    names: &[PathBuf],
    read: &ReadOptions,
    (with_extras, with_spans): (bool, bool),
    reporter: &dyn Reporter,
    sender: std::sync::mpsc::SyncSender<Unit>,
) -> Result<UnitRecords> {
    let mut units = UnitRecords::default();
    for (index, input) in inputs.iter().enumerate() {
        let mut reader = DocReader::open(input, read)?;
        if with_spans && !reader.rereadable() {
            return Err(Error::ChangedWhileRead { path: input.clone(), record: None });
        }
        reporter.start(&short(&names[index]), reader.total_bytes());
        let mut last = 0;
        while let Some(batch) = reader.next_batch()? {
            let mut texts: Vec<String> = Vec::with_capacity(batch.records.len());
            let mut extras: Vec<Option<String>> = Vec::new();
            for record in batch.records {
                units.refs.push(RecordRef { input: index as u32, record: record.number });
                if with_spans {
                    units.spans.push(record.span.expect("a rereadable reader gives every record its span"));
                }
                if with_extras {
                    extras.push(record.extra(0).map(str::to_string));
                }
                texts.push(record.into_joined());
            }
            if sender.send(Unit { texts, extras }).is_err() {
                return Ok(units);
            }
            let now = reader.bytes_read();
            reporter.advance(now - last);
            last = now;
        }
        reporter.finish();
        units.stats += reader.stats();
    }
    Ok(units)
}

/// The text of a unit (as [`read_units`] joined it), read again from its file.
fn reread_unit(rereaders: &[RecordRereader], units: &UnitRecords, unit: u32) -> tailwatch_io::Result<String> {
    let (record, span) = (units.refs[unit as usize], units.spans[unit as usize]);
    let mut docs = rereaders[record.input as usize].texts(span, record.record)?;
    Ok(if docs.len() == 1 { docs.pop().expect("one document") } else { docs.join("\n") })
}

impl Engine {
    /// Run a dedup job; `reporter` hears the reading.
    pub fn dedup(&self, job: &DedupJob, reporter: &dyn Reporter) -> Result<DedupRun> {
        job.options.validate()?;
        if let Some(out) = &job.output
            && job.inputs.len() > 1
            && out.exists()
            && !out.is_dir()
        {
            return Err(Error::OutputNotAFolder { path: out.clone() });
        }
        let targets = kept_targets(job)?;
        if let Some(out) = &job.output
            && job.inputs.len() > 1
        {
            std::fs::create_dir_all(out).map_err(|e| Error::file(out, e))?;
        }
        let mut files = RunFiles::reading(&job.inputs);
        for target in targets.iter().chain(&job.clusters).chain(&job.pairs) {
            files.output(target)?;
        }
        // stdin and pipes (`<(zcat …)`) cannot be read twice: spool them when the kept records
        // must be written
        let spool = tempfile::tempdir().map_err(|e| Error::file(std::env::temp_dir(), e))?;
        let mut inputs: Vec<PathBuf> = Vec::new();
        for (i, input) in job.inputs.iter().enumerate() {
            let is_stdin = input.as_os_str() == "-";
            let is_stream = is_stdin || std::fs::metadata(input).is_ok_and(|m| !m.is_file() && !m.is_dir());
            if is_stream && job.output.is_some() {
                let path = spool.path().join(format!("input-{i}"));
                let mut file = std::fs::File::create(&path).map_err(|e| Error::file(&path, e))?;
                let copied = if is_stdin {
                    std::io::copy(&mut std::io::stdin().lock(), &mut file)
                } else {
                    std::fs::File::open(input).and_then(|mut f| std::io::copy(&mut f, &mut file))
                };
                copied.map_err(|e| Error::file(input, e))?;
                inputs.push(path);
            } else {
                inputs.push(input.clone());
            }
        }
        let mut read = job.read.clone();
        read.extra_fields = job.keep_field.iter().cloned().collect();
        let mut options = job.options.clone();
        let reread = options.verify == Verify::Exact
            && !options.exact_only
            && !options.exact_pairs
            && rereadable(&inputs, &read);
        if reread {
            options.verify = Verify::Reread;
        }
        let banding = (!options.exact_only && !options.exact_pairs).then(|| options.banding());
        let mut deduper = Deduper::new(options.clone())?;
        let with_extras = job.keep_field.is_some();
        // a reader thread parses the next batch while the pool hashes the current one
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Unit>(2);
        let units = std::thread::scope(|scope| -> Result<UnitRecords> {
            let reader = scope
                .spawn(|| read_units(&inputs, &job.inputs, &read, (with_extras, reread), reporter, sender));
            // the consumer runs on a worker of the pool, so each batch's parallel hashing is
            // forked from inside the pool instead of being injected into it and waited for; and
            // each batch is hashed while the one before is taken in
            let hasher = deduper.batch_hasher();
            self.pool().scope(|_| {
                let mut previous: Option<(Unit, HashedBatch)> = None;
                // each unit, then `None` to take in the last one
                for unit in receiver.into_iter().map(Some).chain([None]) {
                    let (before, deduper) = (previous.take(), &mut deduper);
                    let take_in = move || {
                        if let Some((unit, hashed)) = before {
                            deduper.absorb(
                                &unit.texts,
                                with_extras.then_some(unit.extras.as_slice()),
                                hashed,
                            );
                        }
                    };
                    let (hashed, ()) = rayon::join(|| unit.as_ref().map(|u| hasher.hash(&u.texts)), take_in);
                    previous = unit.zip(hashed);
                }
            });
            reader.join().unwrap_or(Err(Error::WorkerPanicked))
        })?;
        if units.refs.is_empty() {
            return Err(Error::NoDocuments { inputs: job.inputs.clone() });
        }
        let result = if reread {
            let rereaders = inputs
                .iter()
                .map(|input| RecordRereader::open(input, &read))
                .collect::<tailwatch_io::Result<Vec<_>>>()?;
            self.install(|| deduper.finish_rereading(|unit| reread_unit(&rereaders, &units, unit))).map_err(
                |e| match e {
                    RereadError::Read(e) => Error::Input(e),
                    RereadError::Changed { doc } => {
                        let record = units.refs[doc as usize];
                        Error::ChangedWhileRead {
                            path: job.inputs[record.input as usize].clone(),
                            record: Some(record.record),
                        }
                    }
                },
            )?
        } else {
            self.install(|| deduper.finish())
        };
        let UnitRecords { refs, stats, .. } = units;
        let mut outputs = Vec::new();
        for ((index, input), target) in inputs.iter().enumerate().zip(targets) {
            let keep: HashSet<u64> = refs
                .iter()
                .zip(&result.keep)
                .filter(|(r, k)| r.input == index as u32 && **k)
                .map(|(r, _)| r.record)
                .collect();
            write_records(input, &read, &keep, &target)?;
            outputs.push(target);
        }
        let member = |doc: u32| {
            let r = refs[doc as usize];
            serde_json::json!({"input": job.inputs[r.input as usize].display().to_string(), "record": r.record})
        };
        if let Some(path) = &job.clusters {
            write_json_lines(path, result.clusters.iter().map(|cluster| cluster_line(cluster, &member)))?;
            outputs.push(path.clone());
        }
        if let Some(path) = &job.pairs {
            write_json_lines(
                path,
                result
                    .pairs
                    .iter()
                    .map(|&(a, b, j)| serde_json::json!({"a": member(a), "b": member(b), "jaccard": j})),
            )?;
            outputs.push(path.clone());
        }
        Ok(DedupRun { result, options, banding, stats, outputs })
    }
}

fn cluster_line(cluster: &Cluster, member: &impl Fn(u32) -> serde_json::Value) -> serde_json::Value {
    let members: Vec<serde_json::Value> = cluster
        .members
        .iter()
        .map(|m| {
            let mut v = member(m.doc);
            v["relation"] = serde_json::to_value(m.relation).expect("serializable");
            v["similarity"] = serde_json::json!(m.similarity);
            v
        })
        .collect();
    serde_json::json!({
        "cluster": cluster.id,
        "size": cluster.members.len(),
        "kept": member(cluster.kept),
        "members": members,
    })
}

/// Where each input's kept records go: the output itself for one input, else the output
/// folder joined with the input's file name (refused when two inputs share one).
fn kept_targets(job: &DedupJob) -> Result<Vec<PathBuf>> {
    let Some(out) = &job.output else { return Ok(Vec::new()) };
    if job.inputs.len() == 1 {
        return Ok(vec![out.clone()]);
    }
    let mut targets: Vec<PathBuf> = Vec::with_capacity(job.inputs.len());
    for (index, input) in job.inputs.iter().enumerate() {
        let name = input.file_name().map_or_else(|| format!("input-{index}").into(), |n| n.to_os_string());
        let target = out.join(name);
        if let Some(first) = targets.iter().position(|t| *t == target) {
            return Err(Error::OutputNameClash {
                output: target,
                first: job.inputs[first].clone(),
                second: input.clone(),
            });
        }
        targets.push(target);
    }
    Ok(targets)
}

fn short(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}
