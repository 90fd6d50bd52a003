//! `tailwatch ledger` and `tailwatch mix`: provenance records, lineage, export, review, mixes.
use std::io::Write;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use tailwatch::detecting::Detector;
use tailwatch::ingest::IngestReport;
use tailwatch::ingest::{IngestJob, Provenance, ProvenanceFields};
use tailwatch::ledger_files;
use tailwatch_ledger::mix::{Manifest, MinHuman, MixOptions, Selection, Unit, build_mix};
use tailwatch_ledger::review::Acceptance;
use tailwatch_ledger::store::{Ledger, Lineage, Origin, Stats};
use tailwatch_sketch::dedup::DedupOptions;

use super::Context;
use crate::Outcome;
use crate::args::{IngestArgs, LedgerArgs, LedgerCommand, MixArgs, ReviewCommand};
use crate::options::read_options;
use crate::output::{Report, emit};

/// The provenance fields `--field-map` may name.
const MAPPABLE: [&str; 5] = ["origin", "generator", "generation", "source", "license"];

pub fn run(args: &LedgerArgs, cx: &Context) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match &args.command {
        LedgerCommand::Init { db } => {
            let (ledger, created) = Ledger::init(&db.db)?;
            writeln!(
                out,
                "{} {} (schema version {})",
                if created { "created" } else { "already a ledger:" },
                db.db.display(),
                ledger.schema_version()?
            )?;
        }
        LedgerCommand::Ingest(ingest_args) => ingest(ingest_args, cx)?,
        LedgerCommand::Stats { db, json } => {
            let stats = Ledger::open(&db.db)?.stats()?;
            emit(&stats, *json)?;
        }
        LedgerCommand::Lineage { id, db, json } => {
            let lineage = Ledger::open(&db.db)?.lineage(id)?;
            emit(&lineage, *json)?;
        }
        LedgerCommand::Export { db, output, manifest, name } => {
            let manifest_path = manifest.clone().unwrap_or_else(|| output.with_extension("croissant.json"));
            crate::output::claim_outputs(
                [Some(output.as_path()), Some(manifest_path.as_path())],
                [db.db.as_path()],
            )?;
            let ledger = Ledger::open(&db.db)?;
            let (summary, manifest_path) = ledger_files::export(&ledger, output, manifest.as_deref(), name)?;
            writeln!(
                out,
                "wrote {} records to {} and the manifest {}",
                summary.records,
                output.display(),
                manifest_path.display()
            )?;
        }
        LedgerCommand::Review(review) => match &review.command {
            ReviewCommand::Sample { db, size: n, seed, origin, generator, output } => {
                crate::output::claim_outputs([Some(output.as_path())], [db.db.as_path()])?;
                let origins: Vec<Origin> = origin
                    .split(',')
                    .map(|o| o.parse::<Origin>().map_err(anyhow::Error::msg))
                    .collect::<Result<_>>()
                    .context("--origin")?;
                let mut ledger = Ledger::open(&db.db)?;
                let sample = ledger.review_sample(*n, *seed, &origins, generator.as_deref())?;
                ledger_files::write_review_sample(&sample, output)?;
                writeln!(
                    out,
                    "sample {} (seed {}): {} records written to {} (fill in `verdict`: accept or reject, then `ledger review record`)",
                    sample.sample,
                    sample.seed,
                    sample.records.len(),
                    output.display()
                )?;
            }
            ReviewCommand::Record { verdicts, db } => {
                let (parsed, undecided) = ledger_files::read_verdicts(verdicts)?;
                let parsed: Vec<(String, bool, String, Option<String>, String)> =
                    parsed.into_iter().map(|v| (v.id, v.accept, v.reviewer, v.note, v.location)).collect();
                let n = Ledger::open(&db.db)?.review_record(&parsed)?;
                write!(out, "recorded {n} verdicts")?;
                if undecided > 0 {
                    write!(out, " ({undecided} records without a verdict left for later)")?;
                }
                writeln!(out)?;
            }
            ReviewCommand::Report { db, json } => {
                let report = Reviews(Ledger::open(&db.db)?.review_report()?);
                emit(&report, *json)?;
            }
        },
    }
    Ok(Outcome::Ok)
}

fn ingest(args: &IngestArgs, cx: &Context) -> Result<()> {
    let mut fields = ProvenanceFields {
        parents: args.parent_field.clone(),
        key: args.key_field.clone(),
        ..ProvenanceFields::default()
    };
    if let Some(spec) = &args.field_map {
        for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((name, field)) = part.split_once('=') else {
                bail!("--field-map entries are NAME=FIELD, found `{part}`");
            };
            let field = Some(field.trim().to_string());
            match name.trim() {
                "origin" => fields.origin = field,
                "generator" => fields.generator = field,
                "generation" => fields.generation = field,
                "source" => fields.source = field,
                "license" => fields.license = field,
                other => {
                    bail!("--field-map: unknown provenance field `{other}` (use {})", MAPPABLE.join(", "))
                }
            }
        }
    }
    let origin = args
        .origin
        .as_deref()
        .map(str::parse::<Origin>)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("--origin")?;
    if origin.is_none() && fields.origin.is_none() {
        bail!("--origin is required (human, synthetic or unknown), unless --field-map names an origin field");
    }
    let generation = match &args.generation {
        Some(g) => Some(
            g.parse::<u32>()
                .map_err(|_| anyhow::anyhow!("--generation must be a non-negative integer, found `{g}`"))?,
        ),
        None => None,
    };
    let detector = match &args.detect {
        Some(path) => Some(
            Detector::load(path).with_context(|| format!("cannot load the detector `{}`", path.display()))?,
        ),
        None => None,
    };
    let job = IngestJob {
        inputs: args.inputs.clone(),
        read: read_options(&args.input, None, false)?,
        provenance: Provenance {
            origin,
            generator: args.generator.clone(),
            generation,
            source: args.source.clone(),
            license: args.license.clone(),
        },
        fields,
        detector: detector.as_ref(),
        batch_size: args.batch_size,
    };
    let mut ledger = Ledger::open(&args.db.db)?;
    let report = cx.engine.ingest(&mut ledger, &job, &cx.counting("records"))?;
    // through a JSON value: its keys in alphabetical order, the output's order
    emit(&Ingested { json: serde_json::to_value(&report)?, report }, args.json)
}

pub fn run_mix(args: &MixArgs, cx: &Context) -> Result<Outcome> {
    let manifest_path = args.manifest.clone().unwrap_or_else(|| args.output.with_extension("manifest.json"));
    // `mix --db L -o L` replaced the ledger with JSONL, exit 0
    crate::output::claim_outputs(
        [Some(args.output.as_path()), Some(manifest_path.as_path())],
        [args.db.db.as_path()],
    )?;
    let min_human = match &args.min_human {
        None => None,
        Some(text) => {
            let t = text.trim();
            if let Some(p) = t.strip_suffix('%') {
                let v: f64 = p.trim().parse().with_context(|| format!("--min-human `{text}`"))?;
                Some(MinHuman::Share(v / 100.0))
            } else if t.contains('.') {
                Some(MinHuman::Share(t.parse().with_context(|| format!("--min-human `{text}`"))?))
            } else {
                Some(MinHuman::Count(
                    t.parse()
                        .with_context(|| format!("--min-human must be a count or a share, found `{text}`"))?,
                ))
            }
        }
    };
    let options = MixOptions {
        name: args.name.clone(),
        size: args.size,
        unit: if args.unit == "tokens" { Unit::Tokens } else { Unit::Records },
        max_synthetic: args.max_synthetic,
        min_human,
        accumulate: args.accumulate,
        dedup: args.dedup.then(DedupOptions::default),
        tail_preserve: args.tail_preserve,
        selection: Selection {
            generators: args.generator.clone(),
            max_generation: args.max_generation,
            sources: args.source.clone(),
        },
        seed: args.seed,
    };
    let mut ledger = Ledger::open(&args.db.db)?;
    let (members, manifest) = match cx.engine.install(|| build_mix(&mut ledger, &options)) {
        Ok(result) => result,
        Err(e @ tailwatch_ledger::Error::CapsUnmet(_)) => {
            eprintln!("error: {e}");
            if let Some(hint) = crate::hints::ledger_hint(&e) {
                eprintln!("hint: {hint}");
            }
            return Ok(Outcome::CheckFailed);
        }
        Err(e) => return Err(e.into()),
    };
    let manifest_path = ledger_files::write_mix(&members, &manifest, &args.output, args.manifest.as_deref())?;
    let report = MixReport { manifest, output: &args.output, manifest_path: &manifest_path };
    emit(&report, args.json)?;
    Ok(Outcome::Ok)
}

impl Report for Stats {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        writeln!(
            out,
            "records {} · tokens {} · parent edges {} · ingests {} · schema v{}",
            self.records, self.tokens, self.parent_edges, self.batches, self.schema_version
        )?;
        for (title, groups) in [
            ("origin", &self.by_origin),
            ("generator", &self.by_generator),
            ("generation", &self.by_generation),
            ("source", &self.by_source),
        ] {
            writeln!(out, "\n{title:<24} {:>10} {:>8} {:>12} {:>8}", "records", "share", "tokens", "share")?;
            for g in groups.iter() {
                writeln!(
                    out,
                    "  {:<22} {:>10} {:>7.2}% {:>12} {:>7.2}%",
                    g.value.as_deref().unwrap_or("-"),
                    g.records,
                    100.0 * g.record_share,
                    g.tokens,
                    100.0 * g.token_share
                )?;
            }
        }
        let d = self.detector;
        if d.scored > 0 {
            writeln!(
                out,
                "\ndetector: {} of {} unknown-origin records scored, {} likely machine (probability ≥ 0.5)",
                d.scored, d.unknown, d.likely_machine
            )?;
        }
        Ok(())
    }
}

impl Report for Lineage {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        let line = |r: &tailwatch_ledger::store::Relative| {
            format!(
                "{} {:<9} gen {:<4} {}{}",
                &r.id[..16],
                r.origin.as_str(),
                r.generation.map_or("-".into(), |g| g.to_string()),
                r.generator.as_deref().unwrap_or("-"),
                r.key.as_deref().map(|k| format!("  key {k}")).unwrap_or_default()
            )
        };
        writeln!(out, "record       {}", line(&self.record))?;
        writeln!(out, "ancestors    {}", self.ancestors.len())?;
        for a in &self.ancestors {
            writeln!(out, "  -{} {}", a.depth, line(a))?;
        }
        writeln!(out, "descendants  {}", self.descendants.len())?;
        for d in &self.descendants {
            writeln!(out, "  +{} {}", d.depth, line(d))?;
        }
        Ok(())
    }
}

/// Acceptance by generator, from human review.
#[derive(Serialize)]
#[serde(transparent)]
struct Reviews(Vec<Acceptance>);

impl Report for Reviews {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        writeln!(
            out,
            "{:<28} {:>9} {:>9} {:>9}   95 % interval",
            "generator", "reviewed", "accepted", "rate"
        )?;
        for a in &self.0 {
            writeln!(
                out,
                "{:<28} {:>9} {:>9} {:>8.1}%   [{:.1}%, {:.1}%]",
                a.generator.as_deref().unwrap_or("-"),
                a.reviewed,
                a.accepted,
                100.0 * a.rate,
                100.0 * a.interval.0,
                100.0 * a.interval.1
            )?;
        }
        Ok(())
    }
}

/// An ingest's report.
#[derive(Serialize)]
#[serde(transparent)]
struct Ingested {
    json: serde_json::Value,
    #[serde(skip)]
    report: IngestReport,
}

impl Report for Ingested {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        let summary = &self.report.summary;
        writeln!(
            out,
            "read {} · added {} ({} tokens) · already present {} (origin conflicts {}) · repeated in input {} · parent edges {}",
            summary.read,
            summary.added,
            summary.tokens_added,
            summary.already_present,
            summary.origin_conflicts,
            summary.duplicates_in_input,
            summary.parent_edges
        )?;
        if let Some(d) = &self.report.detector {
            writeln!(
                out,
                "detector: {} unknown-origin records scored, {} likely machine (probability ≥ 0.5)",
                d.scored, d.likely_machine
            )?;
        }
        Ok(())
    }
}

/// A mix's manifest, and where the mix and the manifest were written.
#[derive(Serialize)]
#[serde(transparent)]
struct MixReport<'a> {
    manifest: Manifest,
    #[serde(skip)]
    output: &'a std::path::Path,
    #[serde(skip)]
    manifest_path: &'a std::path::Path,
}

impl Report for MixReport<'_> {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        writeln!(
            out,
            "mix {} · {} records · {} tokens",
            self.manifest.mix, self.manifest.records, self.manifest.tokens
        )?;
        for (origin, share) in &self.manifest.by_origin {
            writeln!(
                out,
                "  {origin:<10} {:>8} records {:>10} tokens {:>7.2}%",
                share.records,
                share.tokens,
                100.0 * share.share
            )?;
        }
        for cap in &self.manifest.caps {
            writeln!(
                out,
                "  cap {:<16} limit {:<10} actual {:<10.4} {}",
                cap.cap,
                cap.limit,
                cap.actual,
                if cap.met { "met" } else { "VIOLATED" }
            )?;
        }
        writeln!(
            out,
            "  eligible {} · duplicates removed {} · tail-preserving {} · accumulated {}",
            self.manifest.eligible,
            self.manifest.removed_duplicates,
            self.manifest.tail_preserved,
            self.manifest.accumulated
        )?;
        writeln!(out, "wrote {} and {}", self.output.display(), self.manifest_path.display())?;
        Ok(())
    }
}
