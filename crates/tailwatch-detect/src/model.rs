//! [`DetectorModel`]: features + standardisation + logistic regression, serialisable to JSON.
//!
//! # Exact JSON round trip
//!
//! serde_json's default float parser is not correctly rounded for 17-digit decimals, so every stored
//! parameter is first rounded by [`json_exact`] to at most 15 significant digits on a grid no finer
//! than `1e-22` (for `|x| < 1e15`). Such a decimal `m · 10^e` (`m < 2^53`, `-22 ≤ e ≤ 22`) is parsed with one exact
//! multiplication or division, which any IEEE parser (serde_json's fast path included) rounds
//! correctly, so a loaded model holds bit-identical parameters and gives bit-identical scores. The
//! rounding (relative `≤ 5e-15`) happens at training time, before the training AUROC is computed, so
//! the trained and the loaded model are the same model.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::classifier::{LogisticOptions, Standardizer, fit_logistic, sigmoid};
use crate::features::{FEATURE_SET_VERSION, FeatureExtractor};
use crate::reference::ReferenceLm;
use crate::roc::auroc;
use crate::stumps::{Stump, StumpOptions, fit_stumps, stump_logit};
use crate::{DetectError, Result};

/// Version of the [`DetectorModel`] JSON format.
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// The classifier family of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassifierKind {
    /// L2-regularised logistic regression on standardised features (the default).
    #[default]
    Logistic,
    /// Gradient-boosted decision stumps on the raw features.
    Stumps,
}

/// How to train a [`DetectorModel`].
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Which classifier to fit.
    pub kind: ClassifierKind,
    /// The logistic-regression fit (used when `kind` is [`ClassifierKind::Logistic`]).
    pub logistic: LogisticOptions,
    /// The stump ensemble (used when `kind` is [`ClassifierKind::Stumps`]).
    pub stumps: StumpOptions,
    /// A human reference language model: adds the `lm_*` features (stored in the model).
    pub reference: Option<ReferenceLm>,
}

/// What the training run saw and achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Machine-generated training texts (label `true`).
    pub machine: usize,
    /// Human training texts (label `false`).
    pub human: usize,
    /// AUROC of the trained model on its own training set.
    pub train_auroc: f64,
    /// Newton steps (logistic) or stumps fitted (stumps).
    pub iterations: usize,
    /// Largest absolute gradient entry at the end (logistic only).
    pub gradient_norm: Option<f64>,
    /// Whether the gradient tolerance was reached (logistic) or boosting ran to completion (stumps).
    pub converged: bool,
}

/// The parameters of a logistic-regression [`DetectorModel`]: `logit = b + Σ_j w_j (x_j - μ_j) / σ_j`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearParameters<'a> {
    /// Standardisation means `μ_j`.
    pub means: &'a [f64],
    /// Standardisation standard deviations `σ_j`.
    pub stds: &'a [f64],
    /// Weights `w_j` on the standardised features.
    pub weights: &'a [f64],
    /// Bias `b`.
    pub bias: f64,
}

/// The fitted classifier, tagged by `kind` in the JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum Classifier {
    Logistic { options: LogisticOptions, means: Vec<f64>, stds: Vec<f64>, weights: Vec<f64>, bias: f64 },
    Stumps { options: StumpOptions, base: f64, stumps: Vec<Stump> },
}

impl Classifier {
    fn logit(&self, row: &[f64]) -> f64 {
        match self {
            Classifier::Logistic { means, stds, weights, bias, .. } => {
                let z = row.iter().zip(means).zip(stds).map(|((x, m), s)| (x - m) / s);
                weights.iter().zip(z).fold(*bias, |acc, (w, x)| acc + w * x)
            }
            Classifier::Stumps { base, stumps, .. } => stump_logit(*base, stumps, row),
        }
    }
}

/// A trained machine-text detector: `P(machine | text) = σ(F(x(text)))` with `F` the classifier's
/// logit: `w · (x - μ) / σ + b` for logistic regression, `base + Σ stumps` for the stump ensemble.
///
/// Serialises to JSON ([`DetectorModel::to_json`]) with the format version, the feature-set version
/// and names, the classifier (kind, options, standardisation means/stds, weights and bias, or the
/// stumps), the training summary and the reference language model if one was used;
/// [`DetectorModel::from_json`] checks all of them.
#[derive(Debug, Clone)]
pub struct DetectorModel {
    file: ModelFile,
    extractor: FeatureExtractor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModelFile {
    format_version: u32,
    feature_set: String,
    feature_names: Vec<String>,
    classifier: Classifier,
    training: TrainingSummary,
    reference: Option<ReferenceLm>,
}

/// Round `x` so that its shortest decimal form parses back exactly under any IEEE-correct fast path
/// (see the module documentation): 15 significant digits when `|x| ≥ 1e-8`, else a multiple of
/// `1e-22` (so values below `5e-23` in magnitude become ±0). Non-finite values and `|x| ≥ 1e15`
/// are returned unchanged: serde_json writes such numbers in positional form with a trailing `.0`,
/// whose significand can exceed `2^53` (no model parameter comes near that size).
pub fn json_exact(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 || x.abs() >= 1e15 {
        return x;
    }
    let scientific = format!("{x:.14e}");
    let exponent: i32 = scientific.rsplit('e').next().and_then(|e| e.parse().ok()).unwrap_or(0);
    let text = if exponent >= -8 { scientific } else { format!("{x:.22}") };
    text.parse().unwrap_or(x)
}

/// The largest model file [`DetectorModel::load`] reads: 1 GiB (a model with its reference
/// language model is a few megabytes).
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

impl DetectorModel {
    /// Train on `(text, is_machine)` pairs. Errors when a class is missing or an option is invalid.
    pub fn train<S: AsRef<str> + Sync>(data: &[(S, bool)], options: &TrainOptions) -> Result<Self> {
        let extractor = FeatureExtractor::new(options.reference.clone())?;
        let texts: Vec<&str> = data.iter().map(|(text, _)| text.as_ref()).collect();
        let rows = extractor.extract_batch(&texts)?;
        let labels: Vec<bool> = data.iter().map(|(_, label)| *label).collect();
        Self::train_on_features(extractor, &rows, &labels, options)
    }

    /// Train on precomputed feature rows (from `extractor`, which the model keeps for scoring);
    /// `options.reference` is ignored (the extractor's reference model is used).
    pub fn train_on_features(
        extractor: FeatureExtractor,
        rows: &[Vec<f64>],
        labels: &[bool],
        options: &TrainOptions,
    ) -> Result<Self> {
        if rows.len() != labels.len() {
            return Err(DetectError::LengthMismatch {
                what: "training rows",
                scores: rows.len(),
                labels: labels.len(),
            });
        }
        let dimension = extractor.len();
        if let Some((i, row)) = rows.iter().enumerate().find(|(_, row)| row.len() != dimension) {
            return Err(DetectError::InvalidModel {
                field: format!("training row {i}"),
                reason: format!("{} features, the extractor makes {dimension}", row.len()),
            });
        }
        let (classifier, iterations, gradient_norm, converged) = match options.kind {
            ClassifierKind::Logistic => {
                let standardizer = Standardizer::fit(rows, dimension);
                let means: Vec<f64> = standardizer.means.iter().map(|&m| json_exact(m)).collect();
                let stds: Vec<f64> = standardizer.stds.iter().map(|&s| json_exact(s)).collect();
                let standardizer = Standardizer { means, stds };
                let z: Vec<Vec<f64>> = rows.iter().map(|row| standardizer.apply(row)).collect();
                let fit = fit_logistic(&z, labels, &options.logistic)?;
                let classifier = Classifier::Logistic {
                    options: options.logistic,
                    means: standardizer.means,
                    stds: standardizer.stds,
                    weights: fit.weights.iter().map(|&w| json_exact(w)).collect(),
                    bias: json_exact(fit.bias),
                };
                (classifier, fit.iterations, Some(fit.gradient_norm), fit.converged)
            }
            ClassifierKind::Stumps => {
                let fit = fit_stumps(rows, labels, &options.stumps, json_exact)?;
                let count = fit.stumps.len();
                let classifier =
                    Classifier::Stumps { options: options.stumps, base: fit.base, stumps: fit.stumps };
                (classifier, count, None, true)
            }
        };
        let logits: Vec<f64> = rows.iter().map(|row| classifier.logit(row)).collect();
        let train_auroc = auroc(&logits, labels)?;
        let machine = labels.iter().filter(|&&l| l).count();
        let file = ModelFile {
            format_version: MODEL_FORMAT_VERSION,
            feature_set: FEATURE_SET_VERSION.to_owned(),
            feature_names: extractor.names(),
            classifier,
            training: TrainingSummary {
                machine,
                human: labels.len() - machine,
                train_auroc,
                iterations,
                gradient_norm,
                converged,
            },
            reference: extractor.reference().cloned(),
        };
        Ok(Self { file, extractor })
    }

    /// The logit of a feature row from [`DetectorModel::extractor`].
    pub fn logit_of_features(&self, row: &[f64]) -> f64 {
        self.file.classifier.logit(row)
    }

    /// The logit (log-odds of "machine") of `text`: monotone in [`DetectorModel::score`] but without
    /// its saturation at 0 and 1, so better for ranking metrics.
    pub fn logit(&self, text: &str) -> Result<f64> {
        Ok(self.logit_of_features(&self.extractor.extract(text)?))
    }

    /// Probability that `text` is machine-generated.
    pub fn score(&self, text: &str) -> Result<f64> {
        Ok(sigmoid(self.logit(text)?))
    }

    /// Logits of many texts, in parallel (rayon), in input order.
    pub fn logits<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<f64>> {
        use rayon::prelude::*;
        texts.par_iter().map(|text| self.logit(text.as_ref())).collect()
    }

    /// The feature extractor the model scores with.
    pub fn extractor(&self) -> &FeatureExtractor {
        &self.extractor
    }

    /// The classifier family.
    pub fn kind(&self) -> ClassifierKind {
        match self.file.classifier {
            Classifier::Logistic { .. } => ClassifierKind::Logistic,
            Classifier::Stumps { .. } => ClassifierKind::Stumps,
        }
    }

    /// Feature names, in feature-vector order.
    pub fn feature_names(&self) -> &[String] {
        &self.file.feature_names
    }

    /// Logistic regression: the standardisation and the linear model, in feature order; `None` for
    /// a stump ensemble.
    pub fn linear_parameters(&self) -> Option<LinearParameters<'_>> {
        match &self.file.classifier {
            Classifier::Logistic { means, stds, weights, bias, .. } => {
                Some(LinearParameters { means, stds, weights, bias: *bias })
            }
            Classifier::Stumps { .. } => None,
        }
    }

    /// Stump ensemble: `(base, stumps)`; `None` for logistic regression.
    pub fn stumps(&self) -> Option<(f64, &[Stump])> {
        match &self.file.classifier {
            Classifier::Stumps { base, stumps, .. } => Some((*base, stumps)),
            Classifier::Logistic { .. } => None,
        }
    }

    /// What the training run saw and achieved.
    pub fn summary(&self) -> &TrainingSummary {
        &self.file.training
    }

    /// The reference language model, if the model uses the `lm_*` features.
    pub fn reference(&self) -> Option<&ReferenceLm> {
        self.file.reference.as_ref()
    }

    /// The model as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.file).map_err(|e| DetectError::json("<memory>", &e))
    }

    /// A model from its JSON; checks the format and feature-set versions, the feature names against
    /// this build's extractor and the lengths and finiteness of every parameter vector.
    pub fn from_json(json: &str) -> Result<Self> {
        Self::parse(json, "<memory>")
    }

    fn parse(json: &str, source: &str) -> Result<Self> {
        let file: ModelFile = serde_json::from_str(json).map_err(|e| DetectError::json(source, &e))?;
        let invalid = |field: &str, reason: String| DetectError::InvalidModel { field: field.into(), reason };
        if file.format_version != MODEL_FORMAT_VERSION {
            return Err(invalid(
                "format_version",
                format!("{} is not supported (this build reads {MODEL_FORMAT_VERSION})", file.format_version),
            ));
        }
        if file.feature_set != FEATURE_SET_VERSION {
            return Err(invalid(
                "feature_set",
                format!("`{}` is not this build's `{FEATURE_SET_VERSION}`", file.feature_set),
            ));
        }
        let extractor = FeatureExtractor::new(file.reference.clone())?;
        let names = extractor.names();
        if file.feature_names != names {
            let at = names.iter().zip(&file.feature_names).position(|(a, b)| a != b).unwrap_or(names.len());
            return Err(invalid(
                "feature_names",
                format!(
                    "{} names differ from this build's {} (first difference at index {at})",
                    file.feature_names.len(),
                    names.len()
                ),
            ));
        }
        match &file.classifier {
            Classifier::Logistic { means, stds, weights, bias, .. } => {
                for (field, values) in [("means", means), ("stds", stds), ("weights", weights)] {
                    if values.len() != names.len() {
                        return Err(invalid(
                            &format!("classifier.{field}"),
                            format!("{} values for {} features", values.len(), names.len()),
                        ));
                    }
                    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                        return Err(invalid(&format!("classifier.{field}[{i}]"), "not finite".into()));
                    }
                }
                if let Some(i) = stds.iter().position(|&s| s <= 0.0) {
                    return Err(invalid(
                        &format!("classifier.stds[{i}]"),
                        format!("{} is not positive", stds[i]),
                    ));
                }
                if !bias.is_finite() {
                    return Err(invalid("classifier.bias", "not finite".into()));
                }
            }
            Classifier::Stumps { base, stumps, .. } => {
                if !base.is_finite() {
                    return Err(invalid("classifier.base", "not finite".into()));
                }
                for (i, stump) in stumps.iter().enumerate() {
                    if stump.feature >= names.len() {
                        return Err(invalid(
                            &format!("classifier.stumps[{i}].feature"),
                            format!("{} is not below the {} features", stump.feature, names.len()),
                        ));
                    }
                    if ![stump.threshold, stump.left, stump.right].iter().all(|v| v.is_finite()) {
                        return Err(invalid(&format!("classifier.stumps[{i}]"), "not finite".into()));
                    }
                }
            }
        }
        Ok(Self { file, extractor })
    }

    /// Write the JSON to `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json()?).map_err(|source| DetectError::Io { path: path.into(), source })
    }

    /// Read a model written by [`DetectorModel::save`].
    /// Files over [`MAX_MODEL_BYTES`] (or endless ones, `/dev/zero`) are refused.
    pub fn load(path: &Path) -> Result<Self> {
        use std::io::Read as _;
        let io = |source| DetectError::Io { path: path.into(), source };
        let mut json = String::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(MAX_MODEL_BYTES + 1)
            .read_to_string(&mut json)
            .map_err(io)?;
        if json.len() as u64 > MAX_MODEL_BYTES {
            return Err(io(std::io::Error::other(format!(
                "larger than {MAX_MODEL_BYTES} bytes, more than a model holds"
            ))));
        }
        Self::parse(&json, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::reference::ReferenceLmOptions;

    /// A toy task: "machine" texts are repetitive and function-word heavy, human ones varied.
    fn toy_data() -> Vec<(String, bool)> {
        let mut data = Vec::new();
        for i in 0..60_u32 {
            let varied: String = (0..40).map(|j| format!("Word{} ", (i * 131 + j * 17) % 997)).collect();
            data.push((format!("{varied}. Done, {i}!"), false));
            let repetitive = format!("the model is the model and it is the best of the best {i}. ").repeat(3);
            data.push((repetitive, true));
        }
        data
    }

    #[test]
    fn trains_separates_and_round_trips_exactly() {
        let data = toy_data();
        let model = DetectorModel::train(&data, &TrainOptions::default()).unwrap();
        assert_eq!(model.kind(), ClassifierKind::Logistic);
        assert_eq!(model.summary().machine, 60);
        assert_eq!(model.summary().human, 60);
        assert!(model.summary().train_auroc > 0.99);
        assert!(model.summary().converged, "{:?}", model.summary());
        let json = model.to_json().unwrap();
        let loaded = DetectorModel::from_json(&json).unwrap();
        assert_eq!(loaded.linear_parameters(), model.linear_parameters());
        assert!(model.stumps().is_none());
        for (text, _) in &data {
            assert_eq!(model.score(text).unwrap().to_bits(), loaded.score(text).unwrap().to_bits());
        }
        let probabilities: Vec<f64> = data.iter().map(|(t, _)| model.score(t).unwrap()).collect();
        assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
        assert_eq!(model.logits(&["", "x"]).unwrap().len(), 2);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("detector.json");
        model.save(&path).unwrap();
        let from_file = DetectorModel::load(&path).unwrap();
        assert_eq!(from_file.logit("a new text").unwrap(), model.logit("a new text").unwrap());
        let missing = DetectorModel::load(&dir.path().join("missing.json")).unwrap_err();
        assert!(missing.to_string().contains("missing.json"), "{missing}");
    }

    /// Issue 16 (fuzzing): serde_json's default float parser reads some numbers it writes one
    /// ulp off (`1.0142003078017723`), so a model changed in every write and load; the
    /// workspace enables its `float_roundtrip`.
    #[test]
    fn every_parameter_reads_back_exactly_issue_16() {
        let options = TrainOptions { kind: ClassifierKind::Stumps, ..TrainOptions::default() };
        let model = DetectorModel::train(&toy_data(), &options).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&model.to_json().unwrap()).unwrap();
        let exact = 1.014_200_307_801_772_3_f64;
        json["classifier"]["stumps"][0]["right"] = serde_json::json!(exact);
        let loaded = DetectorModel::from_json(&json.to_string()).unwrap();
        assert_eq!(loaded.stumps().unwrap().1[0].right.to_bits(), exact.to_bits());
        let again = DetectorModel::from_json(&loaded.to_json().unwrap()).unwrap();
        assert_eq!(again.to_json().unwrap(), loaded.to_json().unwrap());
    }

    #[test]
    fn stump_ensemble_trains_and_round_trips_exactly() {
        let data = toy_data();
        let options = TrainOptions { kind: ClassifierKind::Stumps, ..TrainOptions::default() };
        let model = DetectorModel::train(&data, &options).unwrap();
        assert_eq!(model.kind(), ClassifierKind::Stumps);
        assert!(model.linear_parameters().is_none());
        let (_, stumps) = model.stumps().unwrap();
        assert!(!stumps.is_empty());
        assert!(model.summary().train_auroc > 0.99);
        let loaded = DetectorModel::from_json(&model.to_json().unwrap()).unwrap();
        assert_eq!(loaded.kind(), ClassifierKind::Stumps);
        for (text, _) in &data {
            assert_eq!(model.logit(text).unwrap().to_bits(), loaded.logit(text).unwrap().to_bits());
        }
    }

    #[test]
    fn reference_model_is_stored_and_used_consistently() {
        let reference_docs = ["the cat sat on the mat", "the dog ran to the park", "a bird sang in the tree"];
        let reference =
            ReferenceLm::train(&reference_docs, ReferenceLmOptions { order: 3, min_count: 1 }).unwrap();
        let options = TrainOptions { reference: Some(reference), ..TrainOptions::default() };
        let data = toy_data();
        let model = DetectorModel::train(&data, &options).unwrap();
        assert_eq!(model.feature_names().len(), 66);
        assert_eq!(model.feature_names().last().unwrap(), "lm_logprob_p10");
        let loaded = DetectorModel::from_json(&model.to_json().unwrap()).unwrap();
        assert!(loaded.reference().is_some());
        for (text, _) in data.iter().take(10) {
            assert_eq!(model.logit(text).unwrap().to_bits(), loaded.logit(text).unwrap().to_bits());
        }
    }

    #[test]
    fn corrupt_json_is_rejected_with_context() {
        let model = DetectorModel::train(&toy_data(), &TrainOptions::default()).unwrap();
        let json = model.to_json().unwrap();
        let err = DetectorModel::from_json("{ not json").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let bumped = json.replacen("\"format_version\": 1", "\"format_version\": 99", 1);
        assert!(DetectorModel::from_json(&bumped).unwrap_err().to_string().contains("format_version"));
        let renamed = json.replacen("\"rep_2\"", "\"rep_9\"", 1);
        assert!(DetectorModel::from_json(&renamed).unwrap_err().to_string().contains("feature_names"));
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["classifier"]["weights"].as_array_mut().unwrap().pop();
        let short = DetectorModel::from_json(&value.to_string()).unwrap_err();
        assert!(short.to_string().contains("classifier.weights"), "{short}");
        value = serde_json::from_str(&json).unwrap();
        value["classifier"]["stds"][0] = serde_json::json!(0.0);
        assert!(DetectorModel::from_json(&value.to_string()).unwrap_err().to_string().contains("stds[0]"));
        let options = TrainOptions { kind: ClassifierKind::Stumps, ..TrainOptions::default() };
        let stumps = DetectorModel::train(&toy_data(), &options).unwrap();
        value = serde_json::from_str(&stumps.to_json().unwrap()).unwrap();
        value["classifier"]["stumps"][0]["feature"] = serde_json::json!(1000);
        let err = DetectorModel::from_json(&value.to_string()).unwrap_err();
        assert!(err.to_string().contains("stumps[0].feature"), "{err}");
    }

    #[test]
    fn training_errors() {
        let only_human = vec![("text".to_string(), false); 3];
        assert!(matches!(
            DetectorModel::train(&only_human, &TrainOptions::default()),
            Err(DetectError::MissingClass { .. })
        ));
        let extractor = FeatureExtractor::new(None).unwrap();
        let err =
            DetectorModel::train_on_features(extractor, &[vec![1.0]], &[true], &TrainOptions::default());
        assert!(err.is_err());
    }

    #[test]
    fn json_exact_bulk_round_trip() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
        for _ in 0..100_000 {
            let magnitude = 10f64.powf(rng.random_range(-30.0..15.0));
            let x = if rng.random_bool(0.5) { magnitude } else { -magnitude };
            let rounded = json_exact(x);
            let back: f64 = serde_json::from_str(&serde_json::to_string(&rounded).unwrap()).unwrap();
            assert_eq!(back.to_bits(), rounded.to_bits(), "{x} -> {rounded}");
        }
        assert_eq!(json_exact(0.1), 0.1);
        assert_eq!(json_exact(1e-30), 0.0);
        assert_eq!(json_exact(f64::INFINITY), f64::INFINITY);
    }

    proptest! {
        #[test]
        fn json_exact_values_survive_serde_json(
            mantissa in -1.0e6_f64..1.0e6,
            exponent in -40_i32..9,
        ) {
            let x = mantissa * 10f64.powi(exponent);
            let rounded = json_exact(x);
            prop_assert!((rounded - x).abs() <= 1e-14 * x.abs() + 1e-22);
            let text = serde_json::to_string(&rounded).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back.to_bits(), rounded.to_bits(), "{} -> {}", rounded, text);
        }
    }
}
