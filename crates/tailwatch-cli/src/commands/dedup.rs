//! `tailwatch dedup`: exact and near-duplicate removal with kept records, clusters and a summary.
use std::io::Write;

use anyhow::{Result, bail};
use serde::Serialize;
use tailwatch::dedup::DedupJob;
use tailwatch_sketch::dedup::{DedupOptions, DedupSummary, KeepPolicy, SignatureMode, Verify};
use tailwatch_sketch::lsh::Banding;
use tailwatch_sketch::normalize::NormalizeOptions;

use super::Context;
use crate::Outcome;
use crate::args::{DedupArgs, DedupCompat, SignatureArg};
use crate::options::read_options;
use crate::output::{self, emit};

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
    let banding = match (args.bands, args.rows) {
        (Some(bands), Some(rows)) => Some(Banding { bands, rows }),
        _ => None,
    };
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
    warnings: Vec<String>,
    outputs: Vec<String>,
}

pub fn run(args: &DedupArgs, cx: &Context) -> Result<Outcome> {
    let (options, keep_field) = options(args)?;
    let job = DedupJob {
        inputs: args.inputs.clone(),
        read: read_options(&args.input, None, false)?,
        options,
        keep_field,
        output: args.output.clone(),
        clusters: args.clusters.clone(),
        pairs: args.pairs.clone(),
    };
    let run = cx.engine.dedup(&job, &cx.progress())?;
    for warning in &run.result.warnings {
        eprintln!("warning: {warning}");
        if let Some(hint) = crate::hints::dedup_warning_hint(warning) {
            eprintln!("hint: {hint}");
        }
    }
    if run.stats.skipped > 0 {
        eprintln!("note: skipped {} invalid record(s) (--skip-invalid)", run.stats.skipped);
    }
    let report = Report {
        tailwatch_version: tailwatch_core::VERSION,
        inputs: args.inputs.iter().map(|p| p.display().to_string()).collect(),
        summary: &run.result.summary,
        parameters: &run.options,
        banding: run.banding,
        s_curve: run.banding.map(|b| b.s_curve()).unwrap_or_default(),
        skipped_records: run.stats.skipped,
        warnings: run.result.warnings.iter().map(ToString::to_string).collect(),
        outputs: run.outputs.iter().map(|p| p.display().to_string()).collect(),
    };
    emit(&report, args.json)?;
    Ok(Outcome::Ok)
}

impl output::Report for Report<'_> {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        write_summary(out, self)
    }
}

fn write_summary(out: &mut dyn Write, report: &Report) -> Result<()> {
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
