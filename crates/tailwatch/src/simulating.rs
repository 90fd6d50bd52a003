//! Simulations of recursive training, on the engine's pool, and the built-in demo.
use std::path::{Path, PathBuf};

use serde::Serialize;
use tailwatch_core::Reporter;
use tailwatch_io::ReadOptions;
use tailwatch_sim::spec::{GaussianSpec, ModelSpec, NgramSpec, ZipfSpec};
use tailwatch_sim::summary::Statistic;
use tailwatch_sim::synthetic_language::{LanguageSpec, SyntheticLanguage, generate_corpus};
use tailwatch_sim::{Estimator, SimReport, SimSpec, Strategy};

use crate::{Engine, Error, Result};

/// A human corpus for the `ngram` model: a file and how to read it.
#[derive(Debug, Clone, Copy)]
pub struct Corpus<'a> {
    /// The file.
    pub path: &'a Path,
    /// How it is read.
    pub read: &'a ReadOptions,
}

impl Corpus<'_> {
    fn documents(&self) -> Result<Vec<String>> {
        tailwatch_io::read_all(self.path, self.read)
            .map_err(|e| Error::Corpus { path: self.path.to_path_buf(), source: e })
    }
}

impl Engine {
    /// Run a simulation; the `ngram` model trains on `corpus`.
    pub fn simulate(
        &self,
        spec: &SimSpec,
        corpus: Option<Corpus<'_>>,
        reporter: &dyn Reporter,
    ) -> Result<SimReport> {
        spec.validate()?;
        let documents = match (&spec.model, corpus) {
            (ModelSpec::Ngram(_), Some(corpus)) => Some(corpus.documents()?),
            (ModelSpec::Ngram(_), None) => return Err(Error::NoCorpus),
            _ => None,
        };
        Ok(self.install(|| tailwatch_sim::simulate(spec, documents.as_deref(), reporter))?)
    }
}

/// Sentences of the generated language the demo's text simulation starts from.
pub const DEMO_SENTENCES: usize = 12_000;

/// The metrics each part of the demo's summary shows.
const SUMMARY: [(&str, &[&str]); 3] = [
    ("gaussian", &["variance", "mean_drift_sq"]),
    ("zipf", &["lost_mass", "surviving"]),
    ("ngram", &["perplexity", "tail_coverage", "distinct_1", "js_to_reference"]),
];

/// One line of the demo's summary: a metric under a strategy, first and last generation.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLine {
    /// The model.
    pub model: String,
    /// The metric.
    pub metric: String,
    /// The strategy.
    pub strategy: String,
    /// Generation 0.
    pub first: Option<f64>,
    /// The last generation.
    pub last: Option<f64>,
    /// The closed form's value at the last generation, when there is one.
    pub expected_last: Option<f64>,
}

/// What the demo ran and wrote.
#[derive(Debug)]
pub struct DemoRun {
    /// The three simulations: gaussian, zipf, ngram.
    pub reports: Vec<SimReport>,
    /// The summary lines.
    pub lines: Vec<DemoLine>,
    /// The results written (`{model}.json`), and the generated corpus when there is one.
    pub written: Vec<PathBuf>,
    /// The seed of every simulation.
    pub seed: u64,
}

fn demo_strategies() -> Vec<Strategy> {
    vec![Strategy::Replace, Strategy::Accumulate, Strategy::Fresh(0.1)]
}

fn summarize(reports: &[SimReport]) -> Vec<DemoLine> {
    let mut out = Vec::new();
    for report in reports {
        let metrics = SUMMARY.iter().find(|(m, _)| *m == report.model).map_or(&[][..], |(_, ids)| *ids);
        for id in metrics {
            for s in &report.strategies {
                let Some(series) = s.metrics.get(*id) else { continue };
                let expected_last = series
                    .expected
                    .iter()
                    .find(|e| e.statistic == Statistic::Mean)
                    .and_then(|e| e.values.last().copied().flatten());
                out.push(DemoLine {
                    model: report.model.clone(),
                    metric: id.to_string(),
                    strategy: s.strategy.to_string(),
                    first: series.mean.first().copied().flatten(),
                    last: series.mean.last().copied().flatten(),
                    expected_last,
                });
            }
        }
    }
    out
}

impl Engine {
    /// The demo: (a) a Gaussian refitted on its own samples, (b) a Zipf law losing its tail,
    /// (c) a trigram language model trained on its own text (on `corpus`, or on a language the
    /// demo generates and writes to `out/corpus.txt`), each under replace, accumulate and
    /// fresh:0.1. Writes each report as `out/{model}.json`.
    pub fn demo(&self, out: &Path, corpus: Option<Corpus<'_>>, reporter: &dyn Reporter) -> Result<DemoRun> {
        std::fs::create_dir_all(out).map_err(|e| Error::file(out, e))?;
        let seed = 0;
        let gaussian = SimSpec {
            model: ModelSpec::Gaussian(GaussianSpec {
                samples: 100,
                estimator: Estimator::Mle,
                mean: 0.0,
                std: 1.0,
            }),
            strategies: demo_strategies(),
            generations: 100,
            replicates: 2000,
            seed,
        };
        let zipf = SimSpec {
            model: ModelSpec::Zipf(ZipfSpec { samples: 10_000, symbols: 20_000, exponent: 2.0 }),
            strategies: demo_strategies(),
            generations: 50,
            replicates: 100,
            seed,
        };
        let mut written = Vec::new();
        let (documents, corpus_name, language_note) = match corpus {
            Some(corpus) => (corpus.documents()?, corpus.path.display().to_string(), None),
            None => {
                let spec = LanguageSpec::default();
                let language = SyntheticLanguage::new(&spec);
                let rare = language.true_unigram().iter().filter(|&&p| p < 1e-4).count();
                let sentences = generate_corpus(&spec, DEMO_SENTENCES);
                let path = out.join("corpus.txt");
                let mut text = sentences.join("\n");
                text.push('\n');
                tailwatch_io::output::write_file(&path, text.as_bytes())?;
                let note = format!(
                    "generated language: {} words in {} classes, Zipf exponent {} within classes, sentences of {}..={} words, seed {}; {} words have a true probability below 1e-4 (the true tail); {} sentences written to {}",
                    spec.vocab_size,
                    spec.classes,
                    spec.zipf_exponent,
                    spec.min_sentence_len,
                    spec.max_sentence_len,
                    spec.seed,
                    rare,
                    DEMO_SENTENCES,
                    path.display()
                );
                written.push(path.clone());
                (sentences, path.display().to_string(), Some(note))
            }
        };
        let mut ngram_model = ModelSpec::defaults("ngram")?;
        if let ModelSpec::Ngram(spec) = &mut ngram_model {
            *spec = NgramSpec { corpus: corpus_name, ..spec.clone() };
        }
        let ngram = SimSpec {
            model: ngram_model,
            strategies: demo_strategies(),
            generations: 10,
            replicates: 1,
            seed,
        };
        let mut reports = self.install(|| -> Result<Vec<SimReport>> {
            Ok(vec![
                tailwatch_sim::simulate(&gaussian, None, reporter)?,
                tailwatch_sim::simulate(&zipf, None, reporter)?,
                tailwatch_sim::simulate(&ngram, Some(&documents), reporter)?,
            ])
        })?;
        if let Some(note) = language_note {
            reports[2].notes.insert(0, note);
        }
        for report in &reports {
            let path = out.join(format!("{}.json", report.model));
            let bytes = serde_json::to_vec_pretty(report).expect("serializable");
            tailwatch_io::output::write_file(&path, &bytes)?;
            written.push(path);
        }
        let lines = summarize(&reports);
        Ok(DemoRun { reports, lines, written, seed })
    }
}
