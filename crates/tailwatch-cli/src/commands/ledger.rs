//! `tailwatch ledger` and `tailwatch mix`: provenance records, lineage, export, review, mixes.
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use tailwatch_io::{DocReader, Format};
use tailwatch_ledger::mix::{MinHuman, MixOptions, Selection, Unit, build_mix};
use tailwatch_ledger::store::{Ledger, NewRecord, Origin};
use tailwatch_sketch::dedup::DedupOptions;

use crate::Outcome;
use crate::args::{GlobalArgs, IngestArgs, LedgerArgs, LedgerCommand, MixArgs, ReviewCommand};
use crate::pipeline::read_options;
use crate::progress::Progress;

/// The provenance fields `--field-map` may name.
const MAPPABLE: [&str; 5] = ["origin", "generator", "generation", "source", "license"];

pub fn run(args: &LedgerArgs, global: &GlobalArgs) -> Result<Outcome> {
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
        LedgerCommand::Ingest(ingest_args) => ingest(ingest_args, global, &mut out)?,
        LedgerCommand::Stats { db, json } => {
            let stats = Ledger::open(&db.db)?.stats()?;
            if *json {
                serde_json::to_writer_pretty(&mut out, &stats)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "records {} · tokens {} · parent edges {} · ingests {} · schema v{}",
                    stats.records, stats.tokens, stats.parent_edges, stats.batches, stats.schema_version
                )?;
                for (title, groups) in [
                    ("origin", &stats.by_origin),
                    ("generator", &stats.by_generator),
                    ("generation", &stats.by_generation),
                    ("source", &stats.by_source),
                ] {
                    writeln!(
                        out,
                        "\n{title:<24} {:>10} {:>8} {:>12} {:>8}",
                        "records", "share", "tokens", "share"
                    )?;
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
                let d = stats.detector;
                if d.scored > 0 {
                    writeln!(
                        out,
                        "\ndetector: {} of {} unknown-origin records scored, {} likely machine (probability ≥ 0.5)",
                        d.scored, d.unknown, d.likely_machine
                    )?;
                }
            }
        }
        LedgerCommand::Lineage { id, db, json } => {
            let lineage = Ledger::open(&db.db)?.lineage(id)?;
            if *json {
                serde_json::to_writer_pretty(&mut out, &lineage)?;
                writeln!(out)?;
            } else {
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
                writeln!(out, "record       {}", line(&lineage.record))?;
                writeln!(out, "ancestors    {}", lineage.ancestors.len())?;
                for a in &lineage.ancestors {
                    writeln!(out, "  -{} {}", a.depth, line(a))?;
                }
                writeln!(out, "descendants  {}", lineage.descendants.len())?;
                for d in &lineage.descendants {
                    writeln!(out, "  +{} {}", d.depth, line(d))?;
                }
            }
        }
        LedgerCommand::Export { db, output, manifest, name } => {
            let ledger = Ledger::open(&db.db)?;
            let tmp = output.with_extension("jsonl.tmp");
            let mut file = std::io::BufWriter::new(fs_err::File::create(&tmp)?);
            let summary = tailwatch_ledger::export::export_jsonl(&ledger, &mut file)?;
            file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            fs_err::rename(&tmp, output)?;
            let file_name = output
                .file_name()
                .map_or_else(|| "records.jsonl".into(), |n| n.to_string_lossy().into_owned());
            let manifest_path = manifest.clone().unwrap_or_else(|| output.with_extension("croissant.json"));
            let document = tailwatch_ledger::export::manifest(&ledger, &file_name, &summary, name)?;
            fs_err::write(&manifest_path, serde_json::to_vec_pretty(&document)?)?;
            writeln!(
                out,
                "wrote {} records to {} and the manifest {}",
                summary.records,
                output.display(),
                manifest_path.display()
            )?;
        }
        LedgerCommand::Review(review) => match &review.command {
            ReviewCommand::Sample { db, n, seed, origin, generator, output } => {
                let origins: Vec<Origin> = origin
                    .split(',')
                    .map(|o| o.parse::<Origin>().map_err(anyhow::Error::msg))
                    .collect::<Result<_>>()
                    .context("--origin")?;
                let mut ledger = Ledger::open(&db.db)?;
                let sample = ledger.review_sample(*n, *seed, &origins, generator.as_deref())?;
                let mut file = std::io::BufWriter::new(fs_err::File::create(output)?);
                for r in &sample.records {
                    let line = serde_json::json!({
                        "id": r.id, "key": r.key, "generator": r.generator, "generation": r.generation,
                        "origin": r.origin, "text": r.text, "verdict": null, "reviewer": null, "note": null,
                    });
                    serde_json::to_writer(&mut file, &line)?;
                    file.write_all(b"\n")?;
                }
                file.flush()?;
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
                let bytes = fs_err::read(verdicts)?;
                let mut parsed = Vec::new();
                let mut undecided = 0usize;
                for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
                    let location = format!("{}: line {}", verdicts.display(), i + 1);
                    let line = std::str::from_utf8(line)
                        .map_err(|e| anyhow::anyhow!("{location}: invalid UTF-8 ({e})"))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let v: serde_json::Value =
                        serde_json::from_str(line).with_context(|| format!("{location}: invalid JSON"))?;
                    let id =
                        v["id"].as_str().with_context(|| format!("{location}: missing string field `id`"))?;
                    let accept = match v["verdict"].as_str() {
                        Some("accept") => true,
                        Some("reject") => false,
                        Some(other) => {
                            bail!("{location}: field `verdict` must be accept or reject, found `{other}`")
                        }
                        None if v["verdict"].is_null() => {
                            undecided += 1;
                            continue;
                        }
                        None => bail!("{location}: field `verdict` must be a string (accept or reject)"),
                    };
                    let reviewer = v["reviewer"].as_str().unwrap_or("").to_string();
                    let note = v["note"].as_str().map(str::to_string);
                    parsed.push((id.to_string(), accept, reviewer, note, location));
                }
                let n = Ledger::open(&db.db)?.review_record(&parsed)?;
                write!(out, "recorded {n} verdicts")?;
                if undecided > 0 {
                    write!(out, " ({undecided} records without a verdict left for later)")?;
                }
                writeln!(out)?;
            }
            ReviewCommand::Report { db, json } => {
                let report = Ledger::open(&db.db)?.review_report()?;
                if *json {
                    serde_json::to_writer_pretty(&mut out, &report)?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "{:<28} {:>9} {:>9} {:>9}   95 % interval",
                        "generator", "reviewed", "accepted", "rate"
                    )?;
                    for a in &report {
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
                }
            }
        },
    }
    Ok(Outcome::Ok)
}

fn location(path: &Path, format: Format, record: u64) -> String {
    match format {
        Format::Text | Format::Jsonl => format!("{}: line {record}", path.display()),
        Format::Csv | Format::Parquet => format!("{}: row {record}", path.display()),
        Format::Json => format!("{}: record {record}", path.display()),
    }
}

fn parse_parents(value: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string).or_else(|| (!v.is_null()).then(|| v.to_string())))
            .collect(),
        _ => vec![value.to_string()],
    }
}

fn ingest(args: &IngestArgs, global: &GlobalArgs, out: &mut impl Write) -> Result<()> {
    let mut map: Vec<(String, String)> = Vec::new();
    if let Some(spec) = &args.field_map {
        for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((name, field)) = part.split_once('=') else {
                bail!("--field-map entries are NAME=FIELD, found `{part}`");
            };
            let name = name.trim();
            if !MAPPABLE.contains(&name) {
                bail!("--field-map: unknown provenance field `{name}` (use {})", MAPPABLE.join(", "));
            }
            map.push((name.to_string(), field.trim().to_string()));
        }
    }
    let default_origin = args
        .origin
        .as_deref()
        .map(str::parse::<Origin>)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("--origin")?;
    if default_origin.is_none() && !map.iter().any(|(n, _)| n == "origin") {
        bail!("--origin is required (human, synthetic or unknown), unless --field-map names an origin field");
    }
    let default_generation = match &args.generation {
        Some(g) => Some(
            g.parse::<u32>()
                .map_err(|_| anyhow::anyhow!("--generation must be a non-negative integer, found `{g}`"))?,
        ),
        None => None,
    };
    let detector = match &args.detect {
        Some(path) => Some(crate::commands::detect::load_model(path)?),
        None => None,
    };
    // extra fields: mapped provenance, then parent and key
    let mut extra: Vec<String> = map.iter().map(|(_, f)| f.clone()).collect();
    let parent_index = args.parent_field.as_ref().map(|f| {
        extra.push(f.clone());
        extra.len() - 1
    });
    let key_index = args.key_field.as_ref().map(|f| {
        extra.push(f.clone());
        extra.len() - 1
    });
    let mut read = read_options(&args.input, None, false)?;
    read.extra_fields = extra;
    let mut records: Vec<NewRecord> = Vec::new();
    for input in &args.inputs {
        let format = read.format.unwrap_or_else(|| Format::from_path(input));
        let mut reader = DocReader::open(input, &read)?;
        while let Some(batch) = reader.next_batch()? {
            for mut record in batch.records {
                let loc = location(input, format, record.number);
                let extras = std::mem::take(&mut record.extras);
                let doc = record.into_joined();
                let mapped = |name: &str| -> Option<String> {
                    map.iter().position(|(n, _)| n == name).and_then(|k| extras.get(k).cloned().flatten())
                };
                let origin = match mapped("origin") {
                    Some(o) => o
                        .parse::<Origin>()
                        .map_err(|e| anyhow::anyhow!("{loc}: field `{}`: {e}", field_of(&map, "origin")))?,
                    None => default_origin.with_context(|| {
                        format!(
                            "{loc}: missing field `{}` (origin) and no --origin",
                            field_of(&map, "origin")
                        )
                    })?,
                };
                let generation = match mapped("generation") {
                    Some(g) => Some(g.trim().parse::<u32>().map_err(|_| {
                        anyhow::anyhow!(
                            "{loc}: field `{}` must be a non-negative integer, found `{g}`",
                            field_of(&map, "generation")
                        )
                    })?),
                    None => default_generation,
                };
                let parents = parent_index
                    .and_then(|k| extras.get(k).cloned().flatten())
                    .map(|p| parse_parents(&p))
                    .unwrap_or_default();
                let (detector_score, detector_model) = match (&detector, origin) {
                    (Some(model), Origin::Unknown) => (Some(model.score(&doc)), Some(model.name())),
                    _ => (None, None),
                };
                records.push(NewRecord {
                    text: doc,
                    origin,
                    generator: mapped("generator").or_else(|| args.generator.clone()),
                    generation,
                    source: mapped("source").or_else(|| args.source.clone()),
                    license: mapped("license").or_else(|| args.license.clone()),
                    key: key_index.and_then(|k| extras.get(k).cloned().flatten()),
                    parents,
                    detector_score,
                    detector_model,
                    location: loc,
                });
            }
        }
    }
    if records.is_empty() {
        bail!(
            "no records to ingest in {}",
            args.inputs.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
        );
    }
    let mut ledger = Ledger::open(&args.db.db)?;
    let progress = Progress::counting(global.quiet, "records");
    let name = args.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");
    let scored: Vec<f64> = records.iter().filter_map(|r| r.detector_score).collect();
    let likely_machine = scored.iter().filter(|&&p| p >= 0.5).count();
    let summary = ledger.ingest(&name, records, args.batch_size, &progress)?;
    if args.json {
        let mut value = serde_json::to_value(&summary)?;
        if detector.is_some() {
            value["detector"] = serde_json::json!({"scored": scored.len(), "likely_machine": likely_machine});
        }
        serde_json::to_writer_pretty(&mut *out, &value)?;
        writeln!(out)?;
    } else {
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
        if detector.is_some() {
            writeln!(
                out,
                "detector: {} unknown-origin records scored, {likely_machine} likely machine (probability ≥ 0.5)",
                scored.len()
            )?;
        }
    }
    Ok(())
}

fn field_of(map: &[(String, String)], name: &str) -> String {
    map.iter().find(|(n, _)| n == name).map_or_else(|| name.to_string(), |(_, f)| f.clone())
}

pub fn run_mix(args: &MixArgs) -> Result<Outcome> {
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
    if let Some(mass) = args.tail_preserve
        && !(mass > 0.0 && mass <= 1.0)
    {
        bail!("--tail-preserve must be a share in (0, 1], found {mass}");
    }
    let mut ledger = Ledger::open(&args.db.db)?;
    let (members, manifest) = match build_mix(&mut ledger, &options) {
        Ok(result) => result,
        Err(tailwatch_ledger::Error::CapsUnmet(message)) => {
            eprintln!("error: {message}");
            return Ok(Outcome::CheckFailed);
        }
        Err(e) => return Err(e.into()),
    };
    let tmp = args.output.with_extension("jsonl.tmp");
    let mut file = std::io::BufWriter::new(fs_err::File::create(&tmp)?);
    for r in &members {
        let line = serde_json::json!({
            "id": r.id, "key": r.key, "text": r.text, "origin": r.origin, "generator": r.generator,
            "generation": r.generation, "source": r.source, "license": r.license,
        });
        serde_json::to_writer(&mut file, &line)?;
        file.write_all(b"\n")?;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs_err::rename(&tmp, &args.output)?;
    let manifest_path = args.manifest.clone().unwrap_or_else(|| args.output.with_extension("manifest.json"));
    fs_err::write(&manifest_path, serde_json::to_vec_pretty(&manifest)?)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &manifest)?;
        writeln!(out)?;
    } else {
        writeln!(out, "mix {} · {} records · {} tokens", manifest.mix, manifest.records, manifest.tokens)?;
        for (origin, share) in &manifest.by_origin {
            writeln!(
                out,
                "  {origin:<10} {:>8} records {:>10} tokens {:>7.2}%",
                share.records,
                share.tokens,
                100.0 * share.share
            )?;
        }
        for cap in &manifest.caps {
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
            manifest.eligible, manifest.removed_duplicates, manifest.tail_preserved, manifest.accumulated
        )?;
        writeln!(out, "wrote {} and {}", args.output.display(), manifest_path.display())?;
    }
    Ok(Outcome::Ok)
}
