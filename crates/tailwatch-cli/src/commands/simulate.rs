//! `tailwatch simulate`: run a recursive-training simulation and print, save or chart it.
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use tailwatch::simulating::{
    Corpus, ModelOptions, default_generations, default_replicates, model_spec as model_spec_of,
};
use tailwatch_sim::spec::ModelSpec;
use tailwatch_sim::{SimReport, SimSpec, Strategy};

use super::Context;
use crate::Outcome;
use crate::args::SimulateArgs;
use crate::options::read_options;
use crate::{output, table};

/// The model spec from the defaults and the command-line overrides.
pub fn model_spec(args: &SimulateArgs) -> Result<ModelSpec> {
    let n = &args.ngram;
    let tail_preserve =
        match n.tail_preserve.as_deref() {
            None => None,
            Some("") => Some(None),
            Some(text) => Some(Some(text.parse::<f64>().map_err(|_| {
                anyhow::anyhow!("--tail-preserve takes a tail mass in (0, 1), found `{text}`")
            })?)),
        };
    let options = ModelOptions {
        estimator: args.estimator.clone(),
        dim: args.dim,
        components: args.components,
        categories: args.categories,
        exponent: args.exponent,
        lambda: args.lambda,
        mean: args.mean,
        std: args.std,
        noise_variance: args.noise_variance,
        tolerance: args.tolerance,
        max_iterations: args.max_iterations,
        corpus: n.corpus.clone(),
        order: n.order,
        heldout: n.heldout,
        max_doc_tokens: n.max_doc_tokens,
        dedup: n.dedup,
        tail_preserve,
        tail_mass: n.tail_mass,
        lowercase: n.lowercase,
        field: n.input.field.is_some(),
        samples: args.samples,
    };
    model_spec_of(&args.model, &options).map_err(|e| match e {
        // the command names its options as flags
        tailwatch::Error::NotApplicable { option, model, applies_to } => anyhow::anyhow!(
            "--{} does not apply to the {model} model (it applies to: {applies_to})",
            option.replace('_', "-")
        ),
        tailwatch::Error::TwoValues { first_value, second_value, .. } => anyhow::anyhow!(
            "--tail-preserve {first_value} and --tail-mass {second_value} name two tails; give one"
        ),
        e => e.into(),
    })
}

pub fn run(args: &SimulateArgs, cx: &Context) -> Result<Outcome> {
    let model = model_spec(args)?;
    let mut strategies = Vec::new();
    for list in &args.strategy {
        strategies.extend(Strategy::parse_list(list)?);
    }
    let generations = args.generations.unwrap_or_else(|| default_generations(&model));
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
