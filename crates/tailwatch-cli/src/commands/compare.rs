//! `tailwatch compare`: a candidate against a baseline under collapse rules (exit 1 on breach).
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tailwatch::comparing::{Side, compare_matched, compare_sides, rule_metrics, saved_report};
use tailwatch::matching::Resampling;
use tailwatch_metrics::compare::{Comparison, DEFAULT_RULES, Verdict, default_rules, parse_rules};
use tailwatch_metrics::report::ScoreReport;

use super::Context;
use super::score::scorer;
use crate::Outcome;
use crate::args::CompareArgs;
use crate::options::{is_items, read_options};
use crate::output::{Report, emit};

pub fn run(args: &CompareArgs, cx: &Context) -> Result<Outcome> {
    if args.print_rules {
        print!("{}", DEFAULT_RULES.trim_start());
        return Ok(Outcome::Ok);
    }
    let rules = match &args.rules {
        Some(path) => {
            let text = fs_err::read_to_string(path)?;
            parse_rules(&text, path)?
        }
        None => default_rules(),
    };
    // only what the rules read is computed
    let scorer = scorer(cx, &args.profile, &args.reference, &args.input, rule_metrics(&rules), None)?;
    let side = |path: &Path, field: Option<&str>| -> Result<ScoreReport> {
        if let Some(report) = saved_report(path) {
            return Ok(report);
        }
        let read = read_options(&args.input, field, is_items(&args.profile))?;
        let (report, _) = scorer
            .score(&cx.engine, &[path.to_path_buf()], &read, &cx.progress())
            .with_context(|| format!("cannot score `{}`", path.display()))?;
        Ok(report)
    };
    let (Some(baseline), Some(candidate)) = (&args.baseline, &args.candidate) else {
        anyhow::bail!("compare needs a baseline and a candidate");
    };
    let baseline_path = baseline;
    let candidate_path = candidate;
    let baseline = side(baseline, args.baseline_field.as_deref())?;
    let candidate = side(candidate, args.candidate_field.as_deref())?;
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        anyhow::bail!("--confidence must be in (0, 1), found {}", args.confidence);
    }
    // the documents of each side, for the checks at matched size
    let docs = |path: &Path, field: Option<&str>| -> Result<Option<(Vec<String>, Option<String>)>> {
        if saved_report(path).is_some() {
            return Ok(None);
        }
        if tailwatch::is_profile_path(path) {
            let profile = scorer.load_profile(path)?;
            let texts: Vec<String> = profile.sample().texts().map(str::to_string).collect();
            let note = ((texts.len() as u64) < profile.n_docs()).then(|| {
                format!(
                    "`{}` is a profile: its checks use its sample of {} of {} documents",
                    path.display(),
                    texts.len(),
                    profile.n_docs()
                )
            });
            return Ok(Some((texts, note)));
        }
        let read = read_options(&args.input, field, is_items(&args.profile))?;
        Ok(Some((tailwatch_io::read_all(path, &read)?, None)))
    };
    let base_docs = docs(baseline_path, args.baseline_field.as_deref())?;
    let cand_docs = docs(candidate_path, args.candidate_field.as_deref())?;
    let compared = match (base_docs, cand_docs) {
        (Some((b, b_note)), Some((c, c_note))) if args.permutations > 0 && b.len() >= 2 && c.len() >= 2 => {
            let b: Vec<&str> = b.iter().map(String::as_str).collect();
            let c: Vec<&str> = c.iter().map(String::as_str).collect();
            let resampling = Resampling {
                seed: args.profile.seed,
                permutations: args.permutations,
                confidence: args.confidence,
            };
            let matched = cx.engine.matched_evidence(&scorer, &b, &c, &rules, &resampling)?;
            let mut compared = compare_matched(&Side::of(&baseline), &Side::of(&candidate), &matched, &rules);
            compared.notes.extend(b_note.into_iter().chain(c_note));
            compared
        }
        (b, c) => {
            let mut compared = compare_sides(
                (&Side::of(&baseline), &baseline.metrics),
                (&Side::of(&candidate), &candidate.metrics),
                &rules,
            );
            if b.is_none() || c.is_none() {
                compared.notes.push(
                    "a saved report holds no documents: sizes are not matched and checks have no p-values"
                        .into(),
                );
            }
            compared
        }
    };
    let comparison = &compared.comparison;
    let json = serde_json::json!({
        "verdict": comparison.verdict,
        "checks": comparison.checks,
        "baseline": SideSummary::of(&baseline),
        "candidate": SideSummary::of(&candidate),
        "notes": compared.notes,
    });
    let report = CompareReport { json, comparison, notes: &compared.notes, sides: (&baseline, &candidate) };
    emit(&report, args.json)?;
    Ok(if comparison.verdict == Verdict::Collapse { Outcome::CheckFailed } else { Outcome::Ok })
}

/// `compare`'s result; its JSON goes through a JSON value, so its keys (nested ones too) are in
/// alphabetical order.
#[derive(Serialize)]
#[serde(transparent)]
struct CompareReport<'a> {
    json: serde_json::Value,
    #[serde(skip)]
    comparison: &'a Comparison,
    #[serde(skip)]
    notes: &'a [String],
    #[serde(skip)]
    sides: (&'a ScoreReport, &'a ScoreReport),
}

/// What a side of a comparison was.
#[derive(Serialize)]
struct SideSummary<'a> {
    inputs: &'a [String],
    n_docs: u64,
    n_tokens: u64,
}

impl<'a> SideSummary<'a> {
    fn of(report: &'a ScoreReport) -> Self {
        Self { inputs: &report.inputs, n_docs: report.n_docs, n_tokens: report.n_tokens }
    }
}

impl Report for CompareReport<'_> {
    fn render(&self, mut out: &mut dyn Write) -> Result<()> {
        crate::table::write_comparison(&mut out, self.comparison, self.sides.0, self.sides.1)?;
        for note in self.notes {
            writeln!(out, "note: {note}")?;
        }
        Ok(())
    }
}
