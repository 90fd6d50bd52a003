//! `tailwatch compare`: a candidate against a baseline under collapse rules (exit 1 on breach).
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use tailwatch_metrics::compare::{DEFAULT_RULES, Verdict, compare, default_rules, parse_rules};
use tailwatch_metrics::report::ScoreReport;

use super::score::Scorer;
use crate::Outcome;
use crate::args::{CompareArgs, GlobalArgs};
use crate::pipeline::read_options;

/// A saved `score --json` report, if `path` is one.
fn saved_report(path: &Path) -> Option<ScoreReport> {
    if path.extension().is_none_or(|e| e != "json") {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    if value.get("tailwatch_version").is_none()
        || !value.get("metrics").is_some_and(serde_json::Value::is_object)
    {
        return None;
    }
    serde_json::from_value(value).ok()
}

pub fn run(args: &CompareArgs, global: &GlobalArgs) -> Result<Outcome> {
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
    let items = args.profile.tokenizer == "items";
    let scorer = Scorer::new(&args.profile, &args.reference, &args.input, None, global.quiet)?;
    let side = |path: &Path, field: Option<&str>| -> Result<ScoreReport> {
        if let Some(report) = saved_report(path) {
            return Ok(report);
        }
        let read = read_options(&args.input, field, items)?;
        scorer
            .score(&[path.to_path_buf()], &read)
            .with_context(|| format!("cannot score `{}`", path.display()))
    };
    let (Some(baseline), Some(candidate)) = (&args.baseline, &args.candidate) else {
        anyhow::bail!("compare needs a baseline and a candidate");
    };
    let baseline = side(baseline, args.baseline_field.as_deref())?;
    let candidate = side(candidate, args.candidate_field.as_deref())?;
    let comparison = compare(&baseline.metrics, &candidate.metrics, &rules);
    let mut notes = Vec::new();
    let (a, b) = (baseline.n_tokens.max(1) as f64, candidate.n_tokens.max(1) as f64);
    if a / b > 2.0 || b / a > 2.0 {
        notes.push(format!(
            "the sides differ in size ({} vs {} tokens); corpus-level distinct-n falls as corpora grow, so compare at matched sizes",
            baseline.n_tokens, candidate.n_tokens
        ));
    }
    if baseline.tokenizer != candidate.tokenizer {
        notes.push(format!(
            "the sides were tokenized differently (`{}` vs `{}`)",
            baseline.tokenizer, candidate.tokenizer
        ));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "verdict": comparison.verdict,
            "checks": comparison.checks,
            "baseline": {"inputs": baseline.inputs, "n_docs": baseline.n_docs, "n_tokens": baseline.n_tokens},
            "candidate": {"inputs": candidate.inputs, "n_docs": candidate.n_docs, "n_tokens": candidate.n_tokens},
            "notes": notes,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        crate::table::write_comparison(&mut out, &comparison, &baseline, &candidate)?;
        for note in &notes {
            writeln!(out, "note: {note}")?;
        }
    }
    Ok(if comparison.verdict == Verdict::Collapse { Outcome::CheckFailed } else { Outcome::Ok })
}
