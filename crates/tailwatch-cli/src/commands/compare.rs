//! `tailwatch compare`: a candidate against a baseline under collapse rules (exit 1 on breach).
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tailwatch::ProfileSettings;
use tailwatch::comparing::{
    DocumentComparison, SideDocuments, check_report, drop_unused_group_rules, rule_metrics, saved_report,
};
use tailwatch::matching::{Resampling, hold_out, shared_documents};
use tailwatch_metrics::Reference;
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
            // a rules file is a few kilobytes
            let bytes = tailwatch_io::read_file_limited(path, 16 << 20)?;
            let text = String::from_utf8(bytes)
                .map_err(|e| anyhow::anyhow!("`{}` is not UTF-8 text: {e}", path.display()))?;
            parse_rules(&text, path)?
        }
        None => default_rules(),
    };
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        anyhow::bail!("--confidence must be in (0, 1), found {}", args.confidence);
    }
    let (Some(baseline_path), Some(candidate_path)) = (&args.baseline, &args.candidate) else {
        anyhow::bail!("compare needs a baseline and a candidate");
    };
    // what a report file must never replace, checked before any work
    let mut inputs = vec![baseline_path.as_path(), candidate_path.as_path()];
    inputs.extend(args.reference.reference.as_deref());
    crate::output::claim_outputs([args.html.as_deref()], inputs.iter().copied())?;
    // the baseline as its own reference: half of it, held out, becomes the reference
    let held_out = is_own_reference(args, baseline_path);
    let mut reference_args = args.reference.clone();
    if held_out {
        reference_args.reference = None;
    }
    // only what the rules read is computed
    let mut scorer = scorer(cx, &args.profile, &reference_args, &args.input, rule_metrics(&rules), None)?;
    let mut held_notes = Vec::new();
    let held: Option<(Vec<String>, Vec<String>)> = if held_out {
        let read = read_options(&args.input, args.baseline_field.as_deref(), is_items(&args.profile))?;
        let docs = tailwatch_io::read_all(baseline_path, &read)?;
        let all: Vec<&str> = docs.iter().map(String::as_str).collect();
        let (reference, rest) = hold_out(&all, args.profile.seed);
        let settings =
            ProfileSettings { parts: tailwatch_metrics::ProfileParts::ALL, ..scorer.settings.clone() };
        let profile = cx.engine.profile_texts(reference.iter().copied(), &settings)?;
        let name = format!("{} (held-out half)", baseline_path.display());
        scorer.options.reference =
            Some(Reference::from_profile(&profile, &name, "held-out half of the baseline"));
        held_notes.push(format!(
            "the reference is the baseline itself: a seeded half of it ({} documents) is the reference, the other {} documents are the baseline's side",
            reference.len(),
            rest.len()
        ));
        Some((
            reference.into_iter().map(str::to_string).collect(),
            rest.into_iter().map(str::to_string).collect(),
        ))
    } else {
        None
    };
    let scorer = scorer;
    let side = |path: &Path, field: Option<&str>| -> Result<ScoreReport> {
        if let Some(report) = saved_report(path)? {
            check_report(&report, path, &rules)?;
            return Ok(report);
        }
        if let Some((_, rest)) = &held
            && path == baseline_path.as_path()
        {
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            return Ok(scorer.score_texts(&cx.engine, &path.display().to_string(), &rest)?);
        }
        let read = read_options(&args.input, field, is_items(&args.profile))?;
        let (report, _) = scorer
            .score(&cx.engine, &[path.to_path_buf()], &read, &cx.progress())
            .with_context(|| format!("cannot score `{}`", path.display()))?;
        Ok(report)
    };
    let baseline = side(baseline_path, args.baseline_field.as_deref())?;
    let candidate = side(candidate_path, args.candidate_field.as_deref())?;
    // the built-in rule on groups of answers, only for sides that group them
    let rules =
        if args.rules.is_none() { drop_unused_group_rules(rules, &baseline, &candidate) } else { rules };
    // the documents of each side, for the checks at matched size (else why there are none)
    let docs = |path: &Path, field: Option<&str>| -> Result<SideDocuments> {
        if saved_report(path)?.is_some() {
            return Ok(SideDocuments::None(format!(
                "`{}` is a saved report and holds no documents",
                path.display()
            )));
        }
        if let Some((_, rest)) = &held
            && path == baseline_path.as_path()
        {
            return Ok(SideDocuments::Texts(rest.clone(), None));
        }
        if tailwatch::is_profile_path(path) {
            let profile = scorer.load_profile(path)?;
            return Ok(SideDocuments::of_profile(profile, &path.display().to_string()));
        }
        let read = read_options(&args.input, field, is_items(&args.profile))?;
        Ok(SideDocuments::Texts(tailwatch_io::read_all(path, &read)?, None))
    };
    let base_docs = docs(baseline_path, args.baseline_field.as_deref())?;
    let cand_docs = docs(candidate_path, args.candidate_field.as_deref())?;
    if let (Some((reference, _)), SideDocuments::Texts(candidate, _)) = (&held, &cand_docs) {
        let reference: Vec<&str> = reference.iter().map(String::as_str).collect();
        let candidate: Vec<&str> = candidate.iter().map(String::as_str).collect();
        let shared = shared_documents(&reference, &candidate);
        if shared > 0 {
            held_notes.push(format!(
                "{shared} of the candidate's {} documents are also in the reference: its reference metrics are flattered",
                candidate.len()
            ));
        }
    }
    let resampling =
        Resampling { seed: args.profile.seed, permutations: args.permutations, confidence: args.confidence };
    let DocumentComparison { compared, blocks, explanation } = cx.engine.compare_documents(
        &scorer,
        &rules,
        (&baseline, &base_docs),
        (&candidate, &cand_docs),
        &resampling,
    )?;
    let mut compared = compared;
    compared.notes.extend(held_notes);
    let comparison = &compared.comparison;
    let json = serde_json::json!({
        "verdict": comparison.verdict,
        "checks": comparison.checks,
        "baseline": SideSummary::of(&baseline),
        "candidate": SideSummary::of(&candidate),
        "notes": compared.notes,
        "explanation": explanation,
    });
    if let Some(path) = &args.html {
        let explanation = serde_json::to_value(&explanation)?;
        let view = tailwatch_html::compare::CompareView {
            comparison,
            baseline: &baseline,
            candidate: &candidate,
            blocks: &blocks,
            explanation: explanation.is_object().then_some(&explanation),
            notes: &compared.notes,
            confidence: args.confidence,
        };
        crate::output::write_report_file(path, tailwatch_html::compare::render(&view).as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    let report = CompareReport {
        json,
        comparison,
        notes: &compared.notes,
        sides: (&baseline, &candidate),
        explanation: explanation.as_ref(),
    };
    emit(&report, args.json)?;
    Ok(if comparison.verdict == Verdict::Collapse { Outcome::CheckFailed } else { Outcome::Ok })
}

/// Whether the reference is the baseline's own documents: the same document input (not a
/// profile or a saved report) read with the same field.
fn is_own_reference(args: &CompareArgs, baseline: &Path) -> bool {
    let Some(reference) = &args.reference.reference else { return false };
    if tailwatch::is_profile_path(baseline) || saved_report(baseline).ok().flatten().is_some() {
        return false;
    }
    let same_file = match (std::fs::canonicalize(reference), std::fs::canonicalize(baseline)) {
        (Ok(a), Ok(b)) => a == b,
        _ => reference == baseline,
    };
    let field = |own: &Option<String>| own.clone().or_else(|| args.input.field.clone());
    same_file && field(&args.reference.reference_field) == field(&args.baseline_field)
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
    #[serde(skip)]
    explanation: Option<&'a tailwatch::explaining::Explanation>,
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
        if let Some(why) = self.explanation {
            crate::table::write_explanation(&mut out, why)?;
        }
        for note in self.notes {
            writeln!(out, "note: {note}")?;
        }
        Ok(())
    }
}
