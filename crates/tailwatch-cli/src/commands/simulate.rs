//! `tailwatch simulate`: run a recursive-training simulation and print, save or chart it.
use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};
use serde::Serialize;
use tailwatch::simulating::Corpus;
use tailwatch_sim::spec::{Estimator, ModelSpec};
use tailwatch_sim::{SimReport, SimSpec, Strategy};

use super::Context;
use crate::Outcome;
use crate::args::SimulateArgs;
use crate::options::read_options;
use crate::{output, table};

/// Default replicates per model: enough for a smooth mean in a few seconds on 2 cores.
fn default_replicates(model: &ModelSpec) -> usize {
    match model {
        ModelSpec::MvGaussian(_) | ModelSpec::Regression(_) => 1000,
        ModelSpec::Zipf(_) => 200,
        ModelSpec::Gmm(_) => 4,
        ModelSpec::Ngram(_) => 1,
        _ => 2000,
    }
}

/// Which models each model-specific option applies to.
fn check_applicable(args: &SimulateArgs, model: &str) -> Result<()> {
    let n = &args.ngram;
    let options: [(&str, bool, &[&str]); 20] = [
        ("--estimator", args.estimator.is_some(), &["gaussian", "mvgaussian"]),
        ("--dim", args.dim.is_some(), &["mvgaussian", "gmm", "regression"]),
        ("--components", args.components.is_some(), &["gmm"]),
        ("--categories", args.categories.is_some(), &["categorical", "zipf"]),
        ("--exponent", args.exponent.is_some(), &["zipf"]),
        ("--lambda", args.lambda.is_some(), &["poisson"]),
        ("--mean", args.mean.is_some(), &["gaussian"]),
        ("--std", args.std.is_some(), &["gaussian", "mean"]),
        ("--noise-variance", args.noise_variance.is_some(), &["regression"]),
        ("--tolerance", args.tolerance.is_some(), &["gmm"]),
        ("--max-iterations", args.max_iterations.is_some(), &["gmm"]),
        ("--corpus", n.corpus.is_some(), &["ngram"]),
        ("--order", n.order.is_some(), &["ngram"]),
        ("--heldout", n.heldout.is_some(), &["ngram"]),
        ("--max-doc-tokens", n.max_doc_tokens.is_some(), &["ngram"]),
        ("--dedup", n.dedup, &["ngram"]),
        ("--tail-preserve", n.tail_preserve.is_some(), &["ngram"]),
        ("--tail-mass", n.tail_mass.is_some(), &["ngram"]),
        ("--lowercase", n.lowercase, &["ngram"]),
        ("--field", n.input.field.is_some(), &["ngram"]),
    ];
    for (name, given, models) in options {
        if given && !models.contains(&model) {
            bail!("{name} does not apply to the {model} model (it applies to: {})", models.join(", "));
        }
    }
    Ok(())
}

/// The model spec from the defaults and the command-line overrides.
pub fn model_spec(args: &SimulateArgs) -> Result<ModelSpec> {
    let mut model = ModelSpec::defaults(&args.model)?;
    check_applicable(args, model.name())?;
    let estimator = args.estimator.as_deref().map(str::parse::<Estimator>).transpose()?;
    match &mut model {
        ModelSpec::Gaussian(s) => {
            s.estimator = estimator.unwrap_or(s.estimator);
            s.mean = args.mean.unwrap_or(s.mean);
            s.std = args.std.unwrap_or(s.std);
        }
        ModelSpec::MvGaussian(s) => {
            s.estimator = estimator.unwrap_or(s.estimator);
            s.dim = args.dim.unwrap_or(s.dim);
        }
        ModelSpec::Gmm(s) => {
            s.dim = args.dim.unwrap_or(s.dim);
            s.components = args.components.unwrap_or(s.components);
            s.tolerance = args.tolerance.unwrap_or(s.tolerance);
            s.max_iterations = args.max_iterations.unwrap_or(s.max_iterations);
        }
        ModelSpec::Categorical(s) => s.categories = args.categories.unwrap_or(s.categories),
        ModelSpec::Poisson(s) => s.lambda = args.lambda.unwrap_or(s.lambda),
        ModelSpec::Zipf(s) => {
            s.symbols = args.categories.unwrap_or(s.symbols);
            s.exponent = args.exponent.unwrap_or(s.exponent);
        }
        ModelSpec::Mean(s) => s.sigma = args.std.unwrap_or(s.sigma),
        ModelSpec::Regression(s) => {
            s.dim = args.dim.unwrap_or(s.dim);
            s.noise_variance = args.noise_variance.unwrap_or(s.noise_variance);
        }
        ModelSpec::Ngram(s) => {
            let n = &args.ngram;
            s.corpus = n.corpus.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            s.order = n.order.unwrap_or(s.order);
            s.heldout = n.heldout.unwrap_or(s.heldout);
            s.max_doc_tokens = n.max_doc_tokens.unwrap_or(s.max_doc_tokens);
            s.dedup = n.dedup;
            s.tail_preserve = n.tail_preserve.is_some();
            let preserve_mass = match n.tail_preserve.as_deref() {
                None | Some("") => None,
                Some(text) => Some(text.parse::<f64>().map_err(|_| {
                    anyhow::anyhow!("--tail-preserve takes a tail mass in (0, 1), found `{text}`")
                })?),
            };
            if let (Some(a), Some(b)) = (preserve_mass, n.tail_mass)
                && a != b
            {
                bail!("--tail-preserve {a} and --tail-mass {b} name two tails; give one");
            }
            s.tail_mass = preserve_mass.or(n.tail_mass).unwrap_or(s.tail_mass);
            s.lowercase = n.lowercase;
        }
    }
    if let Some(samples) = args.samples {
        model.set_samples(samples);
    }
    Ok(model)
}

pub fn run(args: &SimulateArgs, cx: &Context) -> Result<Outcome> {
    let model = model_spec(args)?;
    let mut strategies = Vec::new();
    for list in &args.strategy {
        strategies.extend(Strategy::parse_list(list)?);
    }
    let generations = args.generations.unwrap_or(if matches!(model, ModelSpec::Ngram(_)) { 10 } else { 100 });
    let replicates = args.replicates.unwrap_or_else(|| default_replicates(&model));
    let spec = SimSpec { model, strategies, generations, replicates, seed: args.seed };
    output::claim_outputs([args.html.as_deref()], args.ngram.corpus.as_deref())?;
    let read = read_options(&args.ngram.input, None, false)?;
    let corpus = args.ngram.corpus.as_deref().map(|path| Corpus { path, read: &read });
    let unit = if matches!(spec.model, ModelSpec::Ngram(_)) { "generations" } else { "replicates" };
    let report = cx.engine.simulate(&spec, corpus, &cx.counting(unit))?;
    emit(&report, args.json, args.html.as_deref())?;
    Ok(Outcome::Ok)
}

/// Print the report (table or JSON) and write the HTML file if asked.
fn emit(report: &SimReport, json: bool, html: Option<&Path>) -> Result<()> {
    output::emit(&Simulation(report), json)?;
    if let Some(path) = html {
        let html = tailwatch_html::simulation::render(std::slice::from_ref(report), "tailwatch simulation");
        output::write_report_file(path, html.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// A simulation's report.
#[derive(Serialize)]
#[serde(transparent)]
struct Simulation<'a>(&'a SimReport);

impl output::Report for Simulation<'_> {
    fn render(&self, mut out: &mut dyn Write) -> Result<()> {
        table::write_simulation(&mut out, self.0)
    }
}
