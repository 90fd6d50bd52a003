//! `tailwatch compare`: a candidate against a baseline under collapse rules (exit 1 on breach).
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use tailwatch::comparing::{Side, compare_sides, rule_metrics, saved_report};
use tailwatch_metrics::compare::{DEFAULT_RULES, Verdict, default_rules, parse_rules};
use tailwatch_metrics::report::ScoreReport;

use super::Context;
use super::score::scorer;
use crate::Outcome;
use crate::args::CompareArgs;
use crate::options::{is_items, read_options};

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
    let baseline = side(baseline, args.baseline_field.as_deref())?;
    let candidate = side(candidate, args.candidate_field.as_deref())?;
    let compared = compare_sides(
        (&Side::of(&baseline), &baseline.metrics),
        (&Side::of(&candidate), &candidate.metrics),
        &rules,
    );
    let comparison = &compared.comparison;
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = serde_json::json!({
            "verdict": comparison.verdict,
            "checks": comparison.checks,
            "baseline": {"inputs": baseline.inputs, "n_docs": baseline.n_docs, "n_tokens": baseline.n_tokens},
            "candidate": {"inputs": candidate.inputs, "n_docs": candidate.n_docs, "n_tokens": candidate.n_tokens},
            "notes": compared.notes,
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        crate::table::write_comparison(&mut out, comparison, &baseline, &candidate)?;
        for note in &compared.notes {
            writeln!(out, "note: {note}")?;
        }
    }
    Ok(if comparison.verdict == Verdict::Collapse { Outcome::CheckFailed } else { Outcome::Ok })
}
