//! Machine-text detection on inputs: labelled texts for training and evaluation, a detector
//! loaded from its file, probabilities for records, watermark z-tests per document.
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tailwatch_detect::{
    DetectorModel, WatermarkConfig, WatermarkScore, auroc, threshold_at_fpr, tpr_at_fpr, watermark_score,
};
use tailwatch_io::{DocReader, Format, ReadOptions};

use crate::{Engine, Error, Result};

/// A detector loaded from its file, with the name it is recorded under (the file's name).
pub struct Detector {
    /// The model.
    pub model: DetectorModel,
    /// Its file's name.
    pub name: String,
}

impl Detector {
    /// Load a detector model file (from `detect train`).
    pub fn load(path: &Path) -> Result<Self> {
        let model = DetectorModel::load(path)?;
        let name =
            path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        Ok(Self { model, name })
    }

    /// P(machine) of a text (0.5 if the text cannot be featurized).
    pub fn score(&self, text: &str) -> f64 {
        self.model.score(text).unwrap_or(0.5)
    }
}

/// Where labelled texts come from: inputs of human text, inputs of machine text, and inputs
/// whose records carry a label.
#[derive(Debug, Clone, Default)]
pub struct LabelledInputs {
    /// Inputs of human-written text, each with how to read it.
    pub human: Vec<(PathBuf, ReadOptions)>,
    /// Inputs of machine-generated text, each with how to read it.
    pub machine: Vec<(PathBuf, ReadOptions)>,
    /// Inputs whose records carry a label, each with how to read it.
    pub labelled: Vec<(PathBuf, ReadOptions)>,
    /// The label field of labelled inputs.
    pub label_field: String,
    /// The label value of human text (every other value is machine text).
    pub human_label: String,
}

impl LabelledInputs {
    /// `(text, is_machine)` pairs of every input, in order: human inputs, machine inputs, then
    /// labelled ones. Both classes must be present.
    pub fn read(&self) -> Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for (path, read) in &self.human {
            out.extend(tailwatch_io::read_all(path, read)?.into_iter().map(|t| (t, false)));
        }
        for (path, read) in &self.machine {
            out.extend(tailwatch_io::read_all(path, read)?.into_iter().map(|t| (t, true)));
        }
        for (path, read) in &self.labelled {
            let mut options = read.clone();
            options.extra_fields = vec![self.label_field.clone()];
            let mut reader = DocReader::open(path, &options)?;
            while let Some(batch) = reader.next_batch()? {
                for record in batch.records {
                    let Some(label) = record.extra(0) else {
                        return Err(Error::MissingLabel {
                            path: path.clone(),
                            record: record.number,
                            field: self.label_field.clone(),
                        });
                    };
                    let machine = label != self.human_label;
                    out.extend(record.texts.into_iter().map(|doc| (doc, machine)));
                }
            }
        }
        if out.is_empty() {
            return Err(Error::NoLabelledTexts);
        }
        let machine = out.iter().filter(|(_, m)| *m).count();
        if machine == 0 || machine == out.len() {
            return Err(Error::OneClass { machine, human: out.len() - machine });
        }
        Ok(out)
    }
}

/// How a detector does on labelled texts (fields in alphabetical order, the JSON's order).
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Area under the ROC curve.
    pub auroc: f64,
    /// Human texts.
    pub human: usize,
    /// The logit above which 1 % of human texts lie.
    pub logit_threshold_1pct: f64,
    /// The logit above which 5 % of human texts lie.
    pub logit_threshold_5pct: f64,
    /// Machine texts.
    pub machine: usize,
    /// The detector's name.
    pub model: String,
    /// True-positive rate at 1 % false positives.
    pub tpr_at_1pct_fpr: f64,
    /// True-positive rate at 5 % false positives.
    pub tpr_at_5pct_fpr: f64,
}

/// A document's score as JSON: `null` for a document with no text (nothing to judge; it scored
/// 1.0, "machine", before).
fn score_json(text: &str, probability: f64) -> serde_json::Value {
    if text.trim().is_empty() { serde_json::Value::Null } else { serde_json::json!(probability) }
}

impl Engine {
    /// Evaluate `detector` on labelled texts.
    pub fn evaluate_detector(&self, detector: &Detector, texts: &[(String, bool)]) -> Result<Evaluation> {
        let docs: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
        let scores = self.install(|| detector.model.logits(&docs))?;
        let labels: Vec<bool> = texts.iter().map(|(_, m)| *m).collect();
        let humans: Vec<f64> = scores.iter().zip(&labels).filter(|(_, m)| !**m).map(|(s, _)| *s).collect();
        Ok(Evaluation {
            model: detector.name.clone(),
            machine: labels.iter().filter(|m| **m).count(),
            human: humans.len(),
            auroc: auroc(&scores, &labels)?,
            tpr_at_1pct_fpr: tpr_at_fpr(&scores, &labels, 0.01)?,
            tpr_at_5pct_fpr: tpr_at_fpr(&scores, &labels, 0.05)?,
            logit_threshold_1pct: threshold_at_fpr(&humans, 0.01)?,
            logit_threshold_5pct: threshold_at_fpr(&humans, 0.05)?,
        })
    }

    /// Machine probabilities of many texts, in order.
    pub fn detect(&self, detector: &Detector, texts: &[&str]) -> Result<Vec<f64>> {
        let logits = self.install(|| detector.model.logits(texts))?;
        Ok(logits.into_iter().map(|logit| 1.0 / (1.0 + (-logit).exp())).collect())
    }
}

/// Records scored in chunks of this many (in parallel), written in order.
const SCORE_CHUNK: usize = 4096;

/// One document's watermark test (fields in alphabetical order, the JSON's order).
#[derive(Debug, Clone, Serialize)]
pub struct WatermarkRow {
    /// The document, counting from 1.
    pub doc: usize,
    /// Green tokens among the scored ones.
    pub green: usize,
    /// One-sided p-value.
    pub p_value: f64,
    /// Scored tokens.
    pub tokens: usize,
    /// Whether `z` is above the threshold.
    pub watermarked: bool,
    /// The z statistic.
    pub z: f64,
}

impl WatermarkRow {
    fn new(doc: usize, score: WatermarkScore, z_threshold: f64) -> Self {
        Self {
            doc,
            tokens: score.scored,
            green: score.green,
            z: score.z,
            p_value: score.p_value,
            watermarked: score.z > z_threshold,
        }
    }
}

impl Engine {
    /// Write every record of `input` with its machine probability in `score_field` to `sink`
    /// (named `output` in errors): a JSONL file keeps each record whole and adds the field;
    /// other inputs give one `{"record", "text", score_field}` line per document.
    pub fn score_records(
        &self,
        detector: &Detector,
        input: &Path,
        read: &ReadOptions,
        score_field: &str,
        (sink, output): (&mut dyn Write, &Path),
    ) -> Result<()> {
        let format = read.format.unwrap_or_else(|| Format::from_path(input));
        let write_err = |e: std::io::Error| Error::file(output, e);
        if format == Format::Jsonl && input.as_os_str() != "-" {
            let field = read.field.clone().unwrap_or_else(|| "text".into());
            let reader = tailwatch_io::open_text_limited(input, read.max_record_bytes)?;
            // each record as it was (its bytes, with the score added before its closing brace)
            let mut chunk: Vec<(String, String)> = Vec::new();
            let mut flush = |chunk: &mut Vec<(String, String)>| -> Result<()> {
                let texts: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
                let probabilities = self.detect(detector, &texts)?;
                for ((line, text), p) in chunk.drain(..).zip(probabilities) {
                    // an object with a field (the text) ends in `}`, after optional whitespace
                    let open = line.trim_end().strip_suffix('}').expect("checked to be an object");
                    let score = score_json(&text, p);
                    let key = serde_json::to_string(score_field).expect("a string");
                    writeln!(sink, "{open}, {key}: {score}}}").map_err(write_err)?;
                }
                Ok(())
            };
            for (i, line) in reader.lines().enumerate() {
                let location = tailwatch_io::Location::Line(i as u64 + 1);
                let line = line.map_err(|source| tailwatch_io::Error::Read {
                    path: input.to_path_buf(),
                    location,
                    source,
                })?;
                if line.trim().is_empty() {
                    continue;
                }
                let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
                    tailwatch_io::Error::Json { path: input.to_path_buf(), location, message: e.to_string() }
                })?;
                let Some(object) = value.as_object() else {
                    return Err(Error::NotAnObject { path: input.to_path_buf(), line: i + 1 });
                };
                if object.contains_key(score_field) {
                    return Err(Error::ScoreFieldTaken {
                        path: input.to_path_buf(),
                        line: i + 1,
                        field: score_field.to_string(),
                    });
                }
                let text =
                    lookup(&value, &field).and_then(|v| v.as_str().map(str::to_string)).ok_or_else(|| {
                        tailwatch_io::Error::MissingField {
                            path: input.to_path_buf(),
                            location,
                            field: field.clone(),
                        }
                    })?;
                chunk.push((line, text));
                if chunk.len() == SCORE_CHUNK {
                    flush(&mut chunk)?;
                }
            }
            flush(&mut chunk)?;
        } else {
            let mut reader = DocReader::open(input, read)?;
            while let Some(batch) = reader.next_batch()? {
                let docs: Vec<(u64, &str)> = batch
                    .records
                    .iter()
                    .flat_map(|r| r.texts.iter().map(move |t| (r.number, t.as_str())))
                    .collect();
                let texts: Vec<&str> = docs.iter().map(|(_, t)| *t).collect();
                let probabilities = self.detect(detector, &texts)?;
                for ((record, doc), p) in docs.into_iter().zip(probabilities) {
                    let line =
                        serde_json::json!({"record": record, "text": doc, score_field: score_json(doc, p)});
                    serde_json::to_writer(&mut *sink, &line).map_err(|e| write_err(e.into()))?;
                    sink.write_all(b"\n").map_err(write_err)?;
                }
            }
        }
        sink.flush().map_err(write_err)
    }
}

/// Kirchenbauer green-list z-tests of every document of `input`, tokenized by the
/// HuggingFace `tokenizer.json` at `tokenizer`; a document is watermarked when `z` exceeds
/// `z_threshold`.
pub fn watermark_file(
    input: &Path,
    read: &ReadOptions,
    tokenizer: &Path,
    config: &WatermarkConfig,
    z_threshold: f64,
) -> Result<Vec<WatermarkRow>> {
    if !(config.gamma > 0.0 && config.gamma < 1.0) {
        return Err(Error::invalid("gamma", "in (0, 1)", config.gamma));
    }
    let bytes = tailwatch_io::read_file_limited(tokenizer, crate::profiling::MAX_TOKENIZER_BYTES)?;
    let tok = tokenizers::Tokenizer::from_bytes(&bytes)
        .map_err(|e| Error::NotATokenizer { path: tokenizer.to_path_buf(), message: e.to_string() })?;
    let docs = tailwatch_io::read_all(input, read)?;
    let mut rows = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let encoding = tok.encode(doc.as_str(), false).map_err(|e| Error::Encode {
            path: input.to_path_buf(),
            doc: i + 1,
            message: e.to_string(),
        })?;
        let score = watermark_score(encoding.get_ids(), config)?;
        rows.push(WatermarkRow::new(i + 1, score, z_threshold));
    }
    Ok(rows)
}

fn lookup<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(value, |v, part| match v {
        serde_json::Value::Object(m) => m.get(part),
        serde_json::Value::Array(a) => a.get(part.parse::<usize>().ok()?),
        _ => None,
    })
}
