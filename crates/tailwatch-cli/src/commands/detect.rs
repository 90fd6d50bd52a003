//! `tailwatch detect`: train, score, evaluate machine-text detectors; watermark z-tests.
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use tailwatch_detect::{
    ClassifierKind, DetectorModel, ReferenceLm, ReferenceLmOptions, TrainOptions, WatermarkConfig, auroc,
    threshold_at_fpr, tpr_at_fpr, watermark_score,
};
use tailwatch_io::{DocReader, Format, read_all};

use crate::Outcome;
use crate::args::{DetectArgs, DetectCommand, GlobalArgs, LabelledArgs};
use crate::pipeline::read_options;

/// A loaded model with the name it is recorded under.
pub struct LoadedModel {
    model: DetectorModel,
    name: String,
}

impl LoadedModel {
    /// P(machine) of a text (0.5 if the text cannot be featurized).
    pub fn score(&self, text: &str) -> f64 {
        self.model.score(text).unwrap_or(0.5)
    }
    /// The model's file name.
    pub fn name(&self) -> String {
        self.name.clone()
    }
}

/// Load a detector model file.
pub fn load_model(path: &Path) -> Result<LoadedModel> {
    let model = DetectorModel::load(path)
        .with_context(|| format!("cannot load the detector `{}`", path.display()))?;
    let name =
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(LoadedModel { model, name })
}

fn read_texts(path: &Path, args: &LabelledArgs, field: Option<&str>) -> Result<Vec<String>> {
    let options = read_options(&args.input, field, false)?;
    Ok(read_all(path, &options)?)
}

/// `(text, is_machine)` pairs from the labelled inputs.
fn labelled(args: &LabelledArgs) -> Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for path in &args.human {
        out.extend(read_texts(path, args, args.human_field.as_deref())?.into_iter().map(|t| (t, false)));
    }
    for path in &args.machine {
        out.extend(read_texts(path, args, args.machine_field.as_deref())?.into_iter().map(|t| (t, true)));
    }
    for path in &args.labelled {
        let mut options = read_options(&args.input, None, false)?;
        options.extra_fields = vec![args.label_field.clone()];
        let mut reader = DocReader::open(path, &options)?;
        while let Some(batch) = reader.next_batch()? {
            for record in batch.records {
                let label = record.extra(0).map(str::to_string).with_context(|| {
                    format!(
                        "{}: record {}: missing label field `{}`",
                        path.display(),
                        record.number,
                        args.label_field
                    )
                })?;
                let machine = label != args.human_label;
                out.extend(record.texts.into_iter().map(|doc| (doc, machine)));
            }
        }
    }
    if out.is_empty() {
        bail!("no labelled texts: give --human and --machine inputs, or --labelled inputs");
    }
    let machine = out.iter().filter(|(_, m)| *m).count();
    if machine == 0 || machine == out.len() {
        bail!("both classes are needed: {} machine and {} human texts", machine, out.len() - machine);
    }
    Ok(out)
}

pub fn run(args: &DetectArgs, _global: &GlobalArgs) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match &args.command {
        DetectCommand::Train { data, reference, kind, output, json } => {
            let texts = labelled(data)?;
            let reference = if reference.is_empty() {
                None
            } else {
                let mut docs = Vec::new();
                for path in reference {
                    docs.extend(read_texts(path, data, None)?);
                }
                Some(ReferenceLm::train(&docs, ReferenceLmOptions::default())?)
            };
            let options = TrainOptions {
                kind: if kind == "stumps" { ClassifierKind::Stumps } else { ClassifierKind::Logistic },
                reference,
                ..TrainOptions::default()
            };
            let model = DetectorModel::train(&texts, &options)?;
            model.save(output)?;
            let summary = model.summary();
            if *json {
                serde_json::to_writer_pretty(&mut out, summary)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "trained a {kind} detector on {} texts ({} machine): training AUROC {:.4}, {} features; wrote {}",
                    texts.len(),
                    texts.iter().filter(|(_, m)| *m).count(),
                    summary.train_auroc,
                    model.feature_names().len(),
                    output.display()
                )?;
            }
        }
        DetectCommand::Score { input, model, output, score_field, input_args } => {
            let loaded = load_model(model)?;
            let options = read_options(input_args, None, false)?;
            let format = options.format.unwrap_or_else(|| Format::from_path(input));
            let mut sink: Box<dyn Write> = match output {
                Some(path) => Box::new(std::io::BufWriter::new(fs_err::File::create(path)?)),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            if format == Format::Jsonl && input.as_os_str() != "-" {
                // keep each record, add the field
                let field = options.field.clone().unwrap_or_else(|| "text".into());
                let reader = tailwatch_io::open_text(input)?;
                // chunks of records, scored in parallel, written in order
                let mut chunk: Vec<(usize, serde_json::Value, String)> = Vec::new();
                let flush = |chunk: &mut Vec<(usize, serde_json::Value, String)>,
                             sink: &mut Box<dyn Write>|
                 -> Result<()> {
                    let texts: Vec<&str> = chunk.iter().map(|(_, _, t)| t.as_str()).collect();
                    let logits = loaded.model.logits(&texts)?;
                    for ((line, mut value, _), logit) in chunk.drain(..).zip(logits) {
                        let p = 1.0 / (1.0 + (-logit).exp());
                        match value.as_object_mut() {
                            Some(object) => {
                                object.insert(score_field.clone(), serde_json::json!(p));
                            }
                            None => bail!("{}: line {line}: a record must be a JSON object", input.display()),
                        }
                        serde_json::to_writer(&mut *sink, &value)?;
                        sink.write_all(b"\n")?;
                    }
                    Ok(())
                };
                for (i, line) in reader.lines().enumerate() {
                    let line = line.with_context(|| format!("{}: line {}", input.display(), i + 1))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let value: serde_json::Value = serde_json::from_str(&line)
                        .with_context(|| format!("{}: line {}: invalid JSON", input.display(), i + 1))?;
                    let text =
                        lookup(&value, &field).and_then(|v| v.as_str().map(str::to_string)).with_context(
                            || format!("{}: line {}: missing string field `{field}`", input.display(), i + 1),
                        )?;
                    chunk.push((i + 1, value, text));
                    if chunk.len() == 4096 {
                        flush(&mut chunk, &mut sink)?;
                    }
                }
                flush(&mut chunk, &mut sink)?;
            } else {
                let mut reader = DocReader::open(input, &options)?;
                while let Some(batch) = reader.next_batch()? {
                    let docs: Vec<(u64, &str)> = batch
                        .records
                        .iter()
                        .flat_map(|r| r.texts.iter().map(move |t| (r.number, t.as_str())))
                        .collect();
                    let texts: Vec<&str> = docs.iter().map(|(_, t)| *t).collect();
                    let logits = loaded.model.logits(&texts)?;
                    for ((record, doc), logit) in docs.into_iter().zip(logits) {
                        let p = 1.0 / (1.0 + (-logit).exp());
                        let line =
                            serde_json::json!({"record": record, "text": doc, score_field.as_str(): p});
                        serde_json::to_writer(&mut sink, &line)?;
                        sink.write_all(b"\n")?;
                    }
                }
            }
            sink.flush()?;
        }
        DetectCommand::Eval { data, model, json } => {
            let loaded = load_model(model)?;
            let texts = labelled(data)?;
            let docs: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
            let scores = loaded.model.logits(&docs)?;
            let labels: Vec<bool> = texts.iter().map(|(_, m)| *m).collect();
            let humans: Vec<f64> =
                scores.iter().zip(&labels).filter(|(_, m)| !**m).map(|(s, _)| *s).collect();
            let report = serde_json::json!({
                "model": loaded.name,
                "machine": labels.iter().filter(|m| **m).count(),
                "human": humans.len(),
                "auroc": auroc(&scores, &labels)?,
                "tpr_at_1pct_fpr": tpr_at_fpr(&scores, &labels, 0.01)?,
                "tpr_at_5pct_fpr": tpr_at_fpr(&scores, &labels, 0.05)?,
                "logit_threshold_1pct": threshold_at_fpr(&humans, 0.01)?,
                "logit_threshold_5pct": threshold_at_fpr(&humans, 0.05)?,
            });
            if *json {
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{} machine / {} human texts · AUROC {:.4} · TPR {:.3} at 1 % FPR · TPR {:.3} at 5 % FPR",
                    report["machine"],
                    report["human"],
                    report["auroc"].as_f64().unwrap_or(f64::NAN),
                    report["tpr_at_1pct_fpr"].as_f64().unwrap_or(f64::NAN),
                    report["tpr_at_5pct_fpr"].as_f64().unwrap_or(f64::NAN)
                )?;
            }
        }
        DetectCommand::Watermark { input, tokenizer, key, gamma, z_threshold, input_args, json } => {
            if !(*gamma > 0.0 && *gamma < 1.0) {
                bail!("--gamma must be in (0, 1), found {gamma}");
            }
            let bytes = fs_err::read(tokenizer)?;
            let tok = tokenizers::Tokenizer::from_bytes(&bytes).map_err(|e| {
                anyhow::anyhow!("`{}` is not a HuggingFace tokenizer.json: {e}", tokenizer.display())
            })?;
            let config = WatermarkConfig { gamma: *gamma, key: *key, ..WatermarkConfig::default() };
            let options = read_options(input_args, None, false)?;
            let docs = read_all(input, &options)?;
            let mut flagged = 0;
            for (i, doc) in docs.iter().enumerate() {
                let encoding = tok
                    .encode(doc.as_str(), false)
                    .map_err(|e| anyhow::anyhow!("tokenizing document {}: {e}", i + 1))?;
                let score = watermark_score(encoding.get_ids(), &config)?;
                let hit = score.z > *z_threshold;
                flagged += usize::from(hit);
                if *json {
                    serde_json::to_writer(
                        &mut out,
                        &serde_json::json!({"doc": i + 1, "tokens": score.scored, "green": score.green, "z": score.z, "p_value": score.p_value, "watermarked": hit}),
                    )?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "doc {:>6}  scored {:>6}  green {:>6}  z {:>7.2}  p {:.2e}{}",
                        i + 1,
                        score.scored,
                        score.green,
                        score.z,
                        score.p_value,
                        if hit { "  WATERMARKED" } else { "" }
                    )?;
                }
            }
            if !*json {
                writeln!(out, "{flagged} of {} documents above z = {z_threshold}", docs.len())?;
            }
        }
    }
    Ok(Outcome::Ok)
}

fn lookup<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(value, |v, part| match v {
        serde_json::Value::Object(m) => m.get(part),
        serde_json::Value::Array(a) => a.get(part.parse::<usize>().ok()?),
        _ => None,
    })
}
