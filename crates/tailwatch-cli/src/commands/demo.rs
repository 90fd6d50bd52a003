//! `tailwatch demo`: three simulations on data tailwatch generates itself, a summary table and
//! an HTML report, in well under a minute.
use std::fmt::Write as _;
use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use tailwatch_sim::spec::{GaussianSpec, ModelSpec, NgramSpec, ZipfSpec};
use tailwatch_sim::summary::Statistic;
use tailwatch_sim::synthetic_language::{LanguageSpec, SyntheticLanguage, generate_corpus};
use tailwatch_sim::{Estimator, SimReport, SimSpec, Strategy};

use crate::Outcome;
use crate::args::{DemoArgs, GlobalArgs};
use crate::commands::simulate::read_corpus;
use crate::progress::Progress;
use crate::sim_html;
use crate::table::format_number;

/// Sentences of the generated language the text simulation starts from.
const DEMO_SENTENCES: usize = 12_000;

fn strategies() -> Vec<Strategy> {
    vec![Strategy::Replace, Strategy::Accumulate, Strategy::Fresh(0.1)]
}

/// The metrics each part of the summary shows.
const SUMMARY: [(&str, &[&str]); 3] = [
    ("gaussian", &["variance", "mean_drift_sq"]),
    ("zipf", &["lost_mass", "surviving"]),
    ("ngram", &["perplexity", "tail_coverage", "distinct_1", "js_to_reference"]),
];

#[derive(Serialize)]
struct DemoSummary<'a> {
    tailwatch_version: &'a str,
    out: String,
    elapsed_s: f64,
    parts: Vec<PartSummary>,
}

#[derive(Serialize)]
struct PartSummary {
    model: String,
    metric: String,
    strategy: String,
    first: Option<f64>,
    last: Option<f64>,
    expected_last: Option<f64>,
}

fn summarize(reports: &[SimReport]) -> Vec<PartSummary> {
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
                out.push(PartSummary {
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

fn write_summary(out: &mut impl Write, reports: &[SimReport], parts: &[PartSummary]) -> Result<()> {
    let titles = [
        ("gaussian", "(a) Gaussian refitted on its own samples: variance shrinks, the mean drifts"),
        ("zipf", "(b) Zipf law refitted on its own samples: the tail disappears"),
        ("ngram", "(c) a trigram language model trained on its own text"),
    ];
    for report in reports {
        let title = titles.iter().find(|(m, _)| *m == report.model).map_or("", |(_, t)| *t);
        let samples = report.parameters.samples().map_or_else(|| "corpus-sized".into(), |s| s.to_string());
        writeln!(
            out,
            "\n{title}\n    {} samples/generation, {} generations, {} replicate(s), {:.1} s",
            samples, report.generations, report.replicates, report.elapsed_s
        )?;
        writeln!(
            out,
            "    {:<26} {:<14} {:>12} {:>12} {:>14}",
            "metric",
            "strategy",
            "gen 0",
            format!("gen {}", report.generations),
            "closed form"
        )?;
        for p in parts.iter().filter(|p| p.model == report.model) {
            let arrow = report.metrics.iter().find(|m| m.id == p.metric).map_or("", |m| m.collapse.arrow());
            writeln!(
                out,
                "    {:<26} {:<14} {:>12} {:>12} {:>14}",
                format!("{arrow} {}", p.metric),
                p.strategy,
                format_number(p.first),
                format_number(p.last),
                p.expected_last.map_or(String::new(), |v| format_number(Some(v)))
            )?;
        }
        for note in &report.notes {
            writeln!(out, "    note: {note}")?;
        }
    }
    Ok(())
}

pub fn run(args: &DemoArgs, global: &GlobalArgs) -> Result<Outcome> {
    let start = Instant::now();
    fs_err::create_dir_all(&args.out)?;
    let progress = Progress::counting(global.quiet, "steps");
    let seed = 0;
    let gaussian = SimSpec {
        model: ModelSpec::Gaussian(GaussianSpec {
            samples: 100,
            estimator: Estimator::Mle,
            mean: 0.0,
            std: 1.0,
        }),
        strategies: strategies(),
        generations: 100,
        replicates: 2000,
        seed,
    };
    let zipf = SimSpec {
        model: ModelSpec::Zipf(ZipfSpec { samples: 10_000, symbols: 20_000, exponent: 2.0 }),
        strategies: strategies(),
        generations: 50,
        replicates: 100,
        seed,
    };
    let (corpus, corpus_name, language_note) = match &args.corpus {
        Some(path) => (
            read_corpus(path, &args.input)
                .with_context(|| format!("cannot read the corpus `{}`", path.display()))?,
            path.display().to_string(),
            None,
        ),
        None => {
            let spec = LanguageSpec::default();
            let language = SyntheticLanguage::new(&spec);
            let truth = language.true_unigram();
            let rare = truth.iter().filter(|&&p| p < 1e-4).count();
            let sentences = generate_corpus(&spec, DEMO_SENTENCES);
            let path = args.out.join("corpus.txt");
            let mut text = sentences.join("\n");
            text.push('\n');
            fs_err::write(&path, text)?;
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
            (sentences, path.display().to_string(), Some(note))
        }
    };
    let mut ngram_model = ModelSpec::defaults("ngram")?;
    if let ModelSpec::Ngram(spec) = &mut ngram_model {
        *spec = NgramSpec { corpus: corpus_name, ..spec.clone() };
    }
    let ngram =
        SimSpec { model: ngram_model, strategies: strategies(), generations: 10, replicates: 1, seed };

    let mut reports = vec![
        tailwatch_sim::simulate(&gaussian, None, &progress)?,
        tailwatch_sim::simulate(&zipf, None, &progress)?,
        tailwatch_sim::simulate(&ngram, Some(&corpus), &progress)?,
    ];
    if let Some(note) = language_note {
        reports[2].notes.insert(0, note);
    }
    for report in &reports {
        let path = args.out.join(format!("{}.json", report.model));
        fs_err::write(&path, serde_json::to_vec_pretty(report)?)?;
    }
    let parts = summarize(&reports);
    let mut intro = String::new();
    let _ = write!(
        intro,
        "<p>Three recursive-training simulations on data tailwatch generates itself. Each generation's model is fitted to data assembled by a strategy: <b>replace</b> (only the previous model's samples), <b>accumulate</b> (all real and synthetic data so far), <b>fresh:0.1</b> (10 % new real data every generation). Replace collapses; accumulating or refreshing real data holds the tails.</p>"
    );
    let report_path = args.out.join("report.html");
    fs_err::write(
        &report_path,
        sim_html::render_with_intro(&reports, "tailwatch demo: model collapse", &intro),
    )?;
    let elapsed = start.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    if args.json {
        let summary = DemoSummary {
            tailwatch_version: tailwatch_core::VERSION,
            out: args.out.display().to_string(),
            elapsed_s: elapsed,
            parts,
        };
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        writeln!(out, "tailwatch demo: model collapse in three simulations (seed {seed})")?;
        write_summary(&mut out, &reports, &parts)?;
        writeln!(
            out,
            "\nreport: {}\nresults: {}/{{gaussian,zipf,ngram}}.json · {:.1} s",
            report_path.display(),
            args.out.display(),
            elapsed
        )?;
    }
    Ok(Outcome::Ok)
}
