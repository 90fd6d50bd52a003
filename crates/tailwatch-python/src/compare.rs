//! `compare`: a candidate against a baseline under collapse rules, as `tailwatch compare` does.
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use tailwatch::comparing::{SideDocuments, rule_metrics};
use tailwatch::matching::Resampling;
use tailwatch::{ProfileSettings, ScoreOptions, Scorer};
use tailwatch_metrics::compare::{Rule, default_rules, parse_rules};
use tailwatch_metrics::report::ScoreReport;

use crate::errors::{IntoPy, input_error};
use crate::pool::engine;
use crate::profile::{PyProfile, SampleArg, TokenizerArg, reference_of};
use crate::texts::documents;

/// One side: a profile, or documents.
enum SideInput {
    Profile(Box<tailwatch_metrics::Profile>, Box<ProfileSettings>),
    Texts(Vec<String>),
}

fn side_input(side: &Bound<'_, PyAny>, skip_nulls: bool, which: &str) -> PyResult<SideInput> {
    if let Ok(profile) = side.cast::<PyProfile>() {
        let profile = profile.try_borrow().map_err(|_| {
            pyo3::exceptions::PyRuntimeError::new_err(format!(
                "the {which} Profile is being updated by another thread"
            ))
        })?;
        return Ok(SideInput::Profile(
            Box::new(profile.profile.clone()),
            Box::new(profile.settings_for_scoring()?),
        ));
    }
    let docs = documents(side, skip_nulls)?;
    let texts: Vec<String> = docs.strs(skip_nulls)?.into_iter().map(str::to_string).collect();
    if texts.is_empty() {
        return Err(input_error(format!("the {which} holds no documents")));
    }
    Ok(SideInput::Texts(texts))
}

/// The rules: TOML text (the format of `tailwatch compare --print-rules`), a path to such a
/// file, or the default rules.
fn rules_of(rules: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Rule>> {
    let Some(rules) = rules else { return Ok(default_rules()) };
    if rules.hasattr("__fspath__")? {
        let path: std::path::PathBuf = rules.extract()?;
        let bytes =
            tailwatch_io::read_file_limited(&path, 16 << 20).map_err(|e| crate::errors::to_py(e.into()))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| input_error(format!("`{}` is not UTF-8 text: {e}", path.display())))?;
        return parse_rules(&text, &path).py_err();
    }
    let text: String = rules.extract().map_err(|_| {
        PyTypeError::new_err("rules must be TOML text or a path (pathlib.Path) to a rules file")
    })?;
    parse_rules(&text, std::path::Path::new("<rules>")).py_err()
}

/// Compare `candidate` against `baseline` (each a `Profile` or documents) under `rules` (TOML
/// text, a `pathlib.Path` to a rules file, or the default rules): the same checks, verdict,
/// notes and explanation as `tailwatch compare --json`, as a dict. Checks are computed at
/// matched sizes with permutation p-values (`permutations`, 0 for thresholds alone) and
/// intervals at `confidence`; `reference` (a `Reference` or a `Profile`) is what the
/// reference metrics are measured against. Documents are profiled with the constructor's
/// settings of `Profile` (by default those of a `Profile` side). Sides that group answers are
/// scored with `equivalence`, `patience` and `pass_threshold` (as `Profile.metrics`).
#[pyfunction]
#[pyo3(signature = (baseline, candidate, *, rules = None, reference = None, permutations = 1000, confidence = 0.95, skip_nulls = false, tokenizer = None, lowercase = false, sample = SampleArg::Docs(1000), seed = 0, items_k = 10, max_memory = None, equivalence = "unigram", patience = tailwatch_metrics::groups::DEFAULT_PATIENCE, pass_threshold = tailwatch_metrics::grouped::DEFAULT_PASS_THRESHOLD))]
#[allow(clippy::too_many_arguments)]
pub fn compare<'py>(
    py: Python<'py>,
    baseline: &Bound<'py, PyAny>,
    candidate: &Bound<'py, PyAny>,
    rules: Option<&Bound<'py, PyAny>>,
    reference: Option<&Bound<'py, PyAny>>,
    permutations: usize,
    confidence: f64,
    skip_nulls: bool,
    tokenizer: Option<TokenizerArg>,
    lowercase: bool,
    sample: SampleArg,
    seed: u64,
    items_k: u32,
    max_memory: Option<u64>,
    equivalence: &str,
    patience: f64,
    pass_threshold: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let groups = crate::profile::group_options(equivalence, patience, pass_threshold)?;
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(input_error(format!("confidence must be in (0, 1), found {confidence}")));
    }
    let default = rules.is_none();
    let rules = rules_of(rules)?;
    let base = side_input(baseline, skip_nulls, "baseline")?;
    let cand = side_input(candidate, skip_nulls, "candidate")?;
    let settings = match (tokenizer, &base, &cand) {
        (None, SideInput::Profile(_, s), _) | (None, _, SideInput::Profile(_, s)) => (**s).clone(),
        (tokenizer, ..) => {
            let tokenizer = tokenizer.unwrap_or(TokenizerArg::Name("words".to_string()));
            PyProfile::new_settings(tokenizer, lowercase, sample, seed, items_k, false, max_memory)?
        }
    };
    let options = ScoreOptions {
        metrics: rule_metrics(&rules),
        reference: reference_of(reference)?,
        groups,
        ..ScoreOptions::default()
    };
    let resampling = Resampling { seed: settings.config.seed, permutations, confidence };
    let scorer = Scorer::new(settings, options).py_err()?;
    let engine = engine()?;
    let value = py
        .detach(|| -> tailwatch::Result<serde_json::Value> {
            let side = |input: SideInput, name: &str| -> tailwatch::Result<(ScoreReport, SideDocuments)> {
                match input {
                    SideInput::Profile(profile, theirs) => {
                        if !theirs.config.tokenizer.same_tokens_as(&scorer.settings.config.tokenizer) {
                            return Err(tailwatch::Error::TokenizerMismatch {
                                path: name.into(),
                                profiled: theirs.config.tokenizer.name(),
                                run: scorer.settings.config.tokenizer.name(),
                            });
                        }
                        let report = scorer.report_of(&engine, &profile, vec![name.to_string()])?;
                        Ok((report, SideDocuments::of_profile(*profile, name)))
                    }
                    SideInput::Texts(texts) => {
                        let strs: Vec<&str> = texts.iter().map(String::as_str).collect();
                        let report = scorer.score_texts(&engine, name, &strs)?;
                        Ok((report, SideDocuments::Texts(texts, None)))
                    }
                }
            };
            let (base_report, base_docs) = side(base, "baseline")?;
            let (cand_report, cand_docs) = side(cand, "candidate")?;
            // the built-in rule on groups of answers, only for sides that group them
            let rules = if default { tailwatch::comparing::drop_unused_group_rules(rules, &base_report, &cand_report) } else { rules };
            let compared = engine.compare_documents(
                &scorer,
                &rules,
                (&base_report, &base_docs),
                (&cand_report, &cand_docs),
                &resampling,
            )?;
            let summary = |r: &ScoreReport| serde_json::json!({"inputs": r.inputs, "n_docs": r.n_docs, "n_tokens": r.n_tokens});
            Ok(serde_json::json!({
                "verdict": compared.compared.comparison.verdict,
                "checks": compared.compared.comparison.checks,
                "baseline": summary(&base_report),
                "candidate": summary(&cand_report),
                "notes": compared.compared.notes,
                "explanation": compared.explanation,
            }))
        })
        .py_err()?;
    crate::result_object(py, "Comparison", &value)
}
