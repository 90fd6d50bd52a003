//! `tailwatch dedup`: exact and near-duplicate removal with kept records, clusters and a summary.
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tailwatch_core::Reporter;
use tailwatch_io::{DocReader, Format, ReadStats, RecordRereader, RecordSpan, write_records};
use tailwatch_sketch::dedup::{
    DedupOptions, DedupSummary, Deduper, HashedBatch, KeepPolicy, RereadError, SignatureMode, Verify,
};
use tailwatch_sketch::lsh::Banding;
use tailwatch_sketch::normalize::NormalizeOptions;

use crate::Outcome;
use crate::args::{DedupArgs, DedupCompat, GlobalArgs, SignatureArg};
use crate::pipeline::read_options;
use crate::progress::Progress;

/// Where each deduplicated unit (a record) came from.
#[derive(Debug, Clone, Copy)]
struct RecordRef {
    input: u32,
    record: u64,
}

fn parse_keep(text: &str) -> Result<(KeepPolicy, Option<String>)> {
    match text {
        "first" => Ok((KeepPolicy::First, None)),
        "longest" => Ok((KeepPolicy::Longest, None)),
        _ => {
            let Some(rest) = text.strip_prefix("prefer:") else {
                bail!("--keep must be first, longest or prefer:FIELD=VALUE, found `{text}`");
            };
            let Some((field, value)) = rest.split_once('=') else {
                bail!("--keep prefer:FIELD=VALUE needs `=`, found `{text}`");
            };
            if field.is_empty() {
                bail!("--keep prefer:FIELD=VALUE needs a field name, found `{text}`");
            }
            Ok((KeepPolicy::Prefer(value.to_string()), Some(field.to_string())))
        }
    }
}

fn options(args: &DedupArgs) -> Result<(DedupOptions, Option<String>)> {
    if !(args.threshold > 0.0 && args.threshold <= 1.0) {
        bail!("--threshold must be in (0, 1], found {}", args.threshold);
    }
    if args.shingle == 0 {
        bail!("--shingle must be at least 1");
    }
    if !(1..=8192).contains(&args.num_perm) {
        bail!("--num-perm must be in 1..=8192, found {}", args.num_perm);
    }
    if !(args.recall > 0.0 && args.recall < 1.0) {
        bail!("--recall must be in (0, 1), found {}", args.recall);
    }
    let banding = match (args.bands, args.rows) {
        (Some(b), Some(r)) => {
            if b == 0 || r == 0 || b * r > args.num_perm {
                bail!(
                    "--bands × --rows must be between 1 and --num-perm ({}), found {b} × {r}",
                    args.num_perm
                );
            }
            Some(Banding { bands: b, rows: r })
        }
        _ => None,
    };
    if args.exact_only && args.exact_pairs {
        bail!("--exact-only and --exact-pairs exclude each other");
    }
    let (keep, keep_field) = parse_keep(&args.keep)?;
    let signature = match (args.compat, args.mode) {
        (Some(DedupCompat::Datasketch), _) => SignatureMode::Datasketch,
        (Some(DedupCompat::DatasketchLegacy), _) => SignatureMode::DatasketchLegacy,
        (None, SignatureArg::Oph) => SignatureMode::Oph,
        (None, SignatureArg::Fss) => SignatureMode::Fss,
        (None, SignatureArg::Classic) => SignatureMode::Classic,
    };
    if matches!(signature, SignatureMode::Datasketch | SignatureMode::DatasketchLegacy)
        && args.seed > u64::from(u32::MAX)
    {
        bail!("--compat datasketch needs a --seed below 2^32 (numpy's RandomState), found {}", args.seed);
    }
    Ok((
        DedupOptions {
            normalize: NormalizeOptions {
                nfkc: !args.no_nfkc,
                lowercase: !args.keep_case,
                strip_punctuation: !args.keep_punctuation,
            },
            shingle_size: args.shingle,
            threshold: args.threshold,
            num_perm: args.num_perm,
            signature,
            seed: args.seed,
            recall: args.recall,
            banding,
            verify: if args.no_verify { Verify::Estimate } else { Verify::Exact },
            exact_only: args.exact_only,
            exact_pairs: args.exact_pairs,
            keep,
            max_cluster_size: args.max_cluster_size,
        },
        keep_field,
    ))
}

#[derive(Serialize)]
struct Report<'a> {
    tailwatch_version: &'a str,
    inputs: Vec<String>,
    #[serde(flatten)]
    summary: &'a DedupSummary,
    parameters: &'a DedupOptions,
    banding: Option<Banding>,
    s_curve: Vec<(f64, f64)>,
    skipped_records: u64,
    warnings: &'a [String],
    outputs: Vec<String>,
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
fn rereadable(inputs: &[PathBuf], read: &tailwatch_io::ReadOptions) -> bool {
    inputs.iter().all(|input| {
        is_regular_file(input)
            && matches!(read.format.unwrap_or_else(|| Format::from_path(input)), Format::Text | Format::Jsonl)
            && DocReader::open(input, read).is_ok_and(|reader| reader.rereadable())
    })
}

/// Whether `path` is a regular file (not `-`, a pipe or a device): one that can be read twice.
fn is_regular_file(path: &Path) -> bool {
    path.as_os_str() != "-" && fs_err::metadata(path).is_ok_and(|m| m.is_file())
}

/// Read every input in order and send its units in batches; with `spans`, also keep where each
/// unit's record lies. Stops early (without error) when the receiver hangs up.
fn read_units(
    inputs: &[PathBuf],
    names: &[PathBuf],
    read: &tailwatch_io::ReadOptions,
    (with_extras, with_spans): (bool, bool),
    progress: &Progress,
    sender: std::sync::mpsc::SyncSender<Unit>,
) -> Result<UnitRecords> {
    let mut units = UnitRecords::default();
    for (index, input) in inputs.iter().enumerate() {
        let mut reader = DocReader::open(input, read)?;
        if with_spans && !reader.rereadable() {
            bail!("`{}` changed while it was opened: it can no longer be read twice", input.display());
        }
        progress.start(&short(&names[index]), reader.total_bytes());
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
            progress.advance(now - last);
            last = now;
        }
        progress.finish();
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

pub fn run(args: &DedupArgs, global: &GlobalArgs) -> Result<Outcome> {
    let (options, keep_field) = options(args)?;
    if let Some(out) = &args.output
        && args.inputs.len() > 1
        && out.exists()
        && !out.is_dir()
    {
        bail!("-o `{}` must be a folder when there are several inputs", out.display());
    }
    // stdin and pipes (`<(zcat …)`) cannot be read twice: spool them when the kept records must
    // be written
    let spool = tempfile::tempdir()?;
    let mut inputs: Vec<PathBuf> = Vec::new();
    for (i, input) in args.inputs.iter().enumerate() {
        let is_stdin = input.as_os_str() == "-";
        let is_stream = is_stdin || fs_err::metadata(input).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if is_stream && args.output.is_some() {
            let path = spool.path().join(format!("input-{i}"));
            let mut file = fs_err::File::create(&path)?;
            if is_stdin {
                std::io::copy(&mut std::io::stdin().lock(), &mut file).context("cannot read stdin")?;
            } else {
                std::io::copy(&mut fs_err::File::open(input)?, &mut file)
                    .with_context(|| format!("cannot read `{}`", input.display()))?;
            }
            inputs.push(path);
        } else {
            inputs.push(input.clone());
        }
    }
    let mut read = read_options(&args.input, None, false)?;
    read.extra_fields = keep_field.iter().cloned().collect();
    let mut options = options;
    let reread = options.verify == Verify::Exact
        && !options.exact_only
        && !options.exact_pairs
        && rereadable(&inputs, &read);
    if reread {
        options.verify = Verify::Reread;
    }
    let banding = (!options.exact_only && !options.exact_pairs).then(|| options.banding());
    let progress = Progress::new(global.quiet);
    let mut deduper = Deduper::new(options.clone());
    // a reader thread parses the next batch while this one hashes the current one
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Unit>(2);
    let units = std::thread::scope(|scope| -> Result<UnitRecords> {
        let reader = scope.spawn(|| {
            read_units(&inputs, &args.inputs, &read, (keep_field.is_some(), reread), &progress, sender)
        });
        // the consumer runs on a worker of the rayon pool, so each batch's parallel hashing is
        // forked from inside the pool instead of being injected into it and waited for; and
        // each batch is hashed while the one before is taken in
        let hasher = deduper.batch_hasher();
        let with_extras = keep_field.is_some();
        rayon::scope(|_| {
            let mut previous: Option<(Unit, HashedBatch)> = None;
            // each unit, then `None` to take in the last one
            for unit in receiver.into_iter().map(Some).chain([None]) {
                let (before, deduper) = (previous.take(), &mut deduper);
                let take_in = move || {
                    if let Some((unit, hashed)) = before {
                        deduper.absorb(&unit.texts, with_extras.then_some(unit.extras.as_slice()), hashed);
                    }
                };
                let (hashed, ()) = rayon::join(|| unit.as_ref().map(|u| hasher.hash(&u.texts)), take_in);
                previous = unit.zip(hashed);
            }
        });
        reader.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the reader thread panicked")))
    })?;
    if units.refs.is_empty() {
        bail!(
            "no documents to deduplicate in {}",
            args.inputs.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
        );
    }
    let result = if reread {
        let rereaders = inputs
            .iter()
            .map(|input| RecordRereader::open(input, &read))
            .collect::<tailwatch_io::Result<Vec<_>>>()?;
        deduper.finish_rereading(|unit| reread_unit(&rereaders, &units, unit)).map_err(|e| match e {
            RereadError::Read(e) => anyhow::Error::new(e),
            RereadError::Changed { doc } => {
                let record = units.refs[doc as usize];
                anyhow::anyhow!(
                    "`{}` changed while it was deduplicated: record {} is not what it was when first read",
                    args.inputs[record.input as usize].display(),
                    record.record
                )
            }
        })?
    } else {
        deduper.finish()
    };
    let UnitRecords { refs, stats, .. } = units;
    let mut outputs = Vec::new();
    if let Some(out) = &args.output {
        if inputs.len() > 1 {
            fs_err::create_dir_all(out)?;
        }
        for (index, input) in inputs.iter().enumerate() {
            let keep: HashSet<u64> = refs
                .iter()
                .zip(&result.keep)
                .filter(|(r, k)| r.input == index as u32 && **k)
                .map(|(r, _)| r.record)
                .collect();
            let target = if inputs.len() > 1 {
                let name = args.inputs[index]
                    .file_name()
                    .map_or_else(|| format!("stdin-{index}"), |n| n.to_string_lossy().into_owned());
                out.join(name)
            } else {
                out.clone()
            };
            if same_file(input, &target) {
                bail!("-o `{}` would overwrite its input", target.display());
            }
            write_records(input, &read, &keep, &target)?;
            outputs.push(target.display().to_string());
        }
    }
    if let Some(path) = &args.clusters {
        write_clusters(path, &args.inputs, &refs, &result.clusters)?;
        outputs.push(path.display().to_string());
    }
    if let Some(path) = &args.pairs {
        write_jsonl(path, result.pairs.iter().map(|&(a, b, j)| {
            let at = |doc: u32| {
                let r = refs[doc as usize];
                serde_json::json!({"input": args.inputs[r.input as usize].display().to_string(), "record": r.record})
            };
            serde_json::json!({"a": at(a), "b": at(b), "jaccard": j})
        }))?;
        outputs.push(path.display().to_string());
    }
    for warning in &result.warnings {
        eprintln!("warning: {warning}");
    }
    if stats.skipped > 0 {
        eprintln!("note: skipped {} invalid record(s) (--skip-invalid)", stats.skipped);
    }
    let report = Report {
        tailwatch_version: tailwatch_core::VERSION,
        inputs: args.inputs.iter().map(|p| p.display().to_string()).collect(),
        summary: &result.summary,
        parameters: &options,
        banding,
        s_curve: banding.map(|b| b.s_curve()).unwrap_or_default(),
        skipped_records: stats.skipped,
        warnings: &result.warnings,
        outputs,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_summary(&mut out, &report)?;
    }
    Ok(Outcome::Ok)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs_err::canonicalize(a), fs_err::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn short(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Write JSON lines atomically (temp file + rename).
fn write_jsonl(path: &Path, lines: impl Iterator<Item = serde_json::Value>) -> Result<()> {
    let tmp = path.with_extension("jsonl.tmp");
    let mut file = std::io::BufWriter::new(fs_err::File::create(&tmp)?);
    for line in lines {
        serde_json::to_writer(&mut file, &line)?;
        file.write_all(b"\n")?;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs_err::rename(&tmp, path)?;
    Ok(())
}

fn write_clusters(
    path: &Path,
    inputs: &[PathBuf],
    refs: &[RecordRef],
    clusters: &[tailwatch_sketch::dedup::Cluster],
) -> Result<()> {
    let member = |doc: u32| {
        let r = refs[doc as usize];
        serde_json::json!({"input": inputs[r.input as usize].display().to_string(), "record": r.record})
    };
    write_jsonl(
        path,
        clusters.iter().map(|cluster| {
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
        }),
    )
}

fn write_summary(out: &mut impl Write, report: &Report) -> Result<()> {
    let s = report.summary;
    let p = report.parameters;
    writeln!(out, "records                 {}", s.docs)?;
    writeln!(out, "exact duplicates        {}", s.exact_duplicates)?;
    writeln!(out, "near duplicates         {}", s.near_duplicates)?;
    writeln!(out, "kept                    {}", s.kept)?;
    writeln!(out, "removal rate            {:.2} %", 100.0 * s.removal_rate)?;
    writeln!(out, "clusters                {} (largest {})", s.clusters, s.largest_cluster)?;
    if !p.exact_only {
        writeln!(
            out,
            "candidate pairs         {} ({} at Jaccard ≥ {})",
            s.candidate_pairs, s.verified_pairs, p.threshold
        )?;
    }
    writeln!(
        out,
        "memory                  {:.1} MiB (shingle sets, signatures, band keys)",
        s.memory_bytes as f64 / (1 << 20) as f64
    )?;
    writeln!(
        out,
        "time                    hashing {:.2} s, candidates {:.2} s, verify {:.2} s, cluster {:.2} s",
        s.seconds.hashing, s.seconds.candidates, s.seconds.verify, s.seconds.cluster
    )?;
    if let Some(b) = report.banding {
        writeln!(
            out,
            "\nLSH: {} bands × {} rows of {} {:?} slots, word {}-shingles, threshold {}; P(candidate | Jaccard s):",
            b.bands, b.rows, p.num_perm, p.signature, p.shingle_size, p.threshold
        )?;
        let curve: Vec<String> = report
            .s_curve
            .iter()
            .filter(|(s, _)| *s >= 0.449)
            .map(|(s, prob)| format!("{s:.2}→{prob:.3}"))
            .collect();
        writeln!(out, "  {}", curve.join("  "))?;
    } else if p.exact_pairs {
        writeln!(out, "\nnear duplicates by the exact all-pairs Jaccard join (threshold {})", p.threshold)?;
    }
    for o in &report.outputs {
        writeln!(out, "wrote {o}")?;
    }
    Ok(())
}
