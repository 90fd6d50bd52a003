//! `tailwatch detect`: train, score, evaluate machine-text detectors; watermark z-tests.
use std::io::Write;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tailwatch::detecting::{Detector, Evaluation, LabelledInputs, watermark_file};
use tailwatch_detect::{
    ClassifierKind, DetectorModel, ReferenceLm, ReferenceLmOptions, TrainOptions, TrainingSummary,
    WatermarkConfig,
};

use super::Context;
use crate::Outcome;
use crate::args::{DetectArgs, DetectCommand, LabelledArgs};
use crate::options::read_options;
use crate::output::{Report, emit};

/// Load a detector model file.
fn load(path: &std::path::Path) -> Result<Detector> {
    Detector::load(path).with_context(|| format!("cannot load the detector `{}`", path.display()))
}

/// The labelled inputs of `args`, each read with its own field.
fn labelled(args: &LabelledArgs) -> Result<Vec<(String, bool)>> {
    let with = |field: Option<&str>| read_options(&args.input, field, false);
    let inputs = LabelledInputs {
        human: args
            .human
            .iter()
            .map(|p| Ok((p.clone(), with(args.human_field.as_deref())?)))
            .collect::<Result<_>>()?,
        machine: args
            .machine
            .iter()
            .map(|p| Ok((p.clone(), with(args.machine_field.as_deref())?)))
            .collect::<Result<_>>()?,
        labelled: args.labelled.iter().map(|p| Ok((p.clone(), with(None)?))).collect::<Result<_>>()?,
        label_field: args.label_field.clone(),
        human_label: args.human_label.clone(),
    };
    Ok(inputs.read()?)
}

pub fn run(args: &DetectArgs, cx: &Context) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match &args.command {
        DetectCommand::Train { data, reference, kind, output, json } => {
            let inputs: Vec<&std::path::Path> = data
                .human
                .iter()
                .chain(&data.machine)
                .chain(&data.labelled)
                .chain(reference)
                .map(|p| p.as_path())
                .collect();
            crate::output::claim_outputs([Some(output.as_path())], inputs)?;
            let texts = labelled(data)?;
            let reference = if reference.is_empty() {
                None
            } else {
                let read = read_options(&data.input, None, false)?;
                let mut docs = Vec::new();
                for path in reference {
                    docs.extend(tailwatch_io::read_all(path, &read)?);
                }
                Some(cx.engine.install(|| ReferenceLm::train(&docs, ReferenceLmOptions::default()))?)
            };
            let options = TrainOptions {
                kind: if kind == "stumps" { ClassifierKind::Stumps } else { ClassifierKind::Logistic },
                reference,
                ..TrainOptions::default()
            };
            let model = cx.engine.install(|| DetectorModel::train(&texts, &options))?;
            crate::output::write_report_file(output, model.to_json()?.as_bytes())?;
            let trained = Trained {
                summary: model.summary(),
                kind,
                texts: texts.len(),
                machine: texts.iter().filter(|(_, m)| *m).count(),
                features: model.feature_names().len(),
                output,
            };
            emit(&trained, *json)?;
        }
        DetectCommand::Score { input, detector: model, output, score_field, input_args } => {
            let detector = load(model)?;
            let read = read_options(input_args, None, false)?;
            match output {
                // never over the input or the model; a failed run leaves no partial output
                Some(path) => {
                    crate::output::claim_outputs([Some(path.as_path())], [input.as_path(), model.as_path()])?;
                    let mut sink = std::io::BufWriter::new(tailwatch_io::OutputFile::create(path)?);
                    cx.engine.score_records(&detector, input, &read, score_field, (&mut sink, path))?;
                    sink.into_inner().map_err(|e| e.into_error())?.finish()?;
                }
                None => {
                    let mut sink = std::io::BufWriter::new(std::io::stdout().lock());
                    let name = std::path::PathBuf::from("<stdout>");
                    cx.engine.score_records(&detector, input, &read, score_field, (&mut sink, &name))?;
                }
            }
        }
        DetectCommand::Eval { data, detector: model, json } => {
            let detector = load(model)?;
            let texts = labelled(data)?;
            emit(&Evaluated(cx.engine.evaluate_detector(&detector, &texts)?), *json)?;
        }
        DetectCommand::Watermark { input, tokenizer, key, gamma, z_threshold, input_args, json } => {
            let config = WatermarkConfig { gamma: *gamma, key: *key, ..WatermarkConfig::default() };
            let read = read_options(input_args, None, false)?;
            let rows = watermark_file(input, &read, tokenizer, &config, *z_threshold)?;
            for row in &rows {
                if *json {
                    serde_json::to_writer(&mut out, row)?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "doc {:>6}  scored {:>6}  green {:>6}  z {:>7.2}  p {:.2e}{}",
                        row.doc,
                        row.tokens,
                        row.green,
                        row.z,
                        row.p_value,
                        if row.watermarked { "  WATERMARKED" } else { "" }
                    )?;
                }
            }
            if !*json {
                let flagged = rows.iter().filter(|r| r.watermarked).count();
                writeln!(out, "{flagged} of {} documents above z = {z_threshold}", rows.len())?;
            }
        }
    }
    Ok(Outcome::Ok)
}

/// A trained detector's summary, and what it was trained on.
#[derive(Serialize)]
#[serde(transparent)]
struct Trained<'a> {
    summary: &'a TrainingSummary,
    #[serde(skip)]
    kind: &'a str,
    #[serde(skip)]
    texts: usize,
    #[serde(skip)]
    machine: usize,
    #[serde(skip)]
    features: usize,
    #[serde(skip)]
    output: &'a std::path::Path,
}

impl Report for Trained<'_> {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        writeln!(
            out,
            "trained a {} detector on {} texts ({} machine): training AUROC {:.4}, {} features; wrote {}",
            self.kind,
            self.texts,
            self.machine,
            self.summary.train_auroc,
            self.features,
            self.output.display()
        )?;
        Ok(())
    }
}

/// A detector's evaluation on labelled texts.
#[derive(Serialize)]
#[serde(transparent)]
struct Evaluated(Evaluation);

impl Report for Evaluated {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        let report = &self.0;
        writeln!(
            out,
            "{} machine / {} human texts · AUROC {:.4} · TPR {:.3} at 1 % FPR · TPR {:.3} at 5 % FPR",
            report.machine, report.human, report.auroc, report.tpr_at_1pct_fpr, report.tpr_at_5pct_fpr
        )?;
        Ok(())
    }
}
