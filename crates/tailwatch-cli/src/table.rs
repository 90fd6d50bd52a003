//! Terminal tables: metrics grouped by family with an arrow for the collapse direction.
use std::io::Write;

use anyhow::Result;
use tailwatch_metrics::compare::Comparison;
use tailwatch_metrics::report::{ScoreReport, format_value};

fn short(path: &str) -> String {
    let name =
        std::path::Path::new(path).file_name().map_or(path.to_string(), |n| n.to_string_lossy().into_owned());
    if name.chars().count() > 22 { format!("{}…", name.chars().take(21).collect::<String>()) } else { name }
}

pub fn write_reports(out: &mut impl Write, reports: &[ScoreReport]) -> Result<()> {
    // a cell with an interval: `0.1234 [0.1100, 0.1300]`
    let width = if reports.iter().any(|r| r.intervals.is_some()) { 26usize } else { 14 };
    let names: Vec<String> = reports.iter().map(|r| short(&r.inputs.join("+"))).collect();
    let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max(width);
    write!(out, "{:<26}", "")?;
    for n in &names {
        write!(out, " {n:>w$}")?;
    }
    writeln!(out)?;
    let row = |out: &mut dyn Write, label: &str, cells: Vec<String>| -> std::io::Result<()> {
        write!(out, "{label:<26}")?;
        for c in cells {
            write!(out, " {c:>w$}")?;
        }
        writeln!(out)
    };
    row(out, "docs", reports.iter().map(|r| r.n_docs.to_string()).collect())?;
    row(out, "tokens", reports.iter().map(|r| r.n_tokens.to_string()).collect())?;
    for (family, present) in tailwatch_metrics::report::metrics_by_family(reports) {
        writeln!(out, "\n{}", family.title())?;
        for m in present {
            let cells = reports
                .iter()
                .map(|r| {
                    let v = format_value(r.metrics.get(&m.id).copied().flatten());
                    let v = if r.approximate.contains(&m.id) { format!("~{v}") } else { v };
                    match r.intervals.as_ref().and_then(|i| i.values.get(&m.id)) {
                        Some([low, high]) => {
                            format!("{v} [{}, {}]", format_value(Some(*low)), format_value(Some(*high)))
                        }
                        None => v,
                    }
                })
                .collect();
            row(out, &format!("  {} {}", m.info.collapse.arrow(), m.id), cells)?;
        }
    }
    writeln!(out, "\n↓ lower means collapse, ↑ higher means collapse, ~ approximate")?;
    for (name, r) in names.iter().zip(reports) {
        if let Some(reference) = &r.reference {
            writeln!(
                out,
                "{name}: reference {} ({} types, tail = {} rarest types holding {} of its mass)",
                reference["source"].as_str().unwrap_or("?"),
                reference["types"],
                reference["tail_types"],
                reference["tail_mass"]
            )?;
        }
        if let Some(i) = r.intervals.as_ref().filter(|i| i.groups == 0) {
            writeln!(out, "{name}: no {} % intervals: fewer than 4 {}", i.confidence * 100.0, i.dealt)?;
        } else if let Some(i) = &r.intervals {
            writeln!(
                out,
                "{name}: [low, high] = {} % interval, jackknife over {} groups of {} (seed {})",
                i.confidence * 100.0,
                i.groups,
                i.dealt,
                i.seed
            )?;
        }
        for note in &r.notes {
            writeln!(out, "{name}: note: {note}")?;
        }
    }
    Ok(())
}

pub fn write_comparison(
    out: &mut impl Write,
    comparison: &Comparison,
    baseline: &ScoreReport,
    candidate: &ScoreReport,
) -> Result<()> {
    writeln!(
        out,
        "baseline:  {} ({} docs, {} tokens)",
        baseline.inputs.join(", "),
        baseline.n_docs,
        baseline.n_tokens
    )?;
    writeln!(
        out,
        "candidate: {} ({} docs, {} tokens)\n",
        candidate.inputs.join(", "),
        candidate.n_docs,
        candidate.n_tokens
    )?;
    let with_evidence = comparison.checks.iter().any(|c| c.p_value.is_some());
    if let Some(docs) = comparison.checks.iter().find_map(|c| c.docs) {
        writeln!(out, "checks at {docs} documents per side\n")?;
    }
    if with_evidence {
        writeln!(
            out,
            "{:<20} {:>12} {:>12} {:>10} {:>23}  {:<14} {:>7}  result",
            "metric", "baseline", "candidate", "change", "interval", "rule", "q"
        )?;
    } else {
        writeln!(
            out,
            "{:<20} {:>12} {:>12} {:>10}  {:<22} result",
            "metric", "baseline", "candidate", "change", "rule"
        )?;
    }
    for c in &comparison.checks {
        let (change, rule, result) = (c.change_label(), c.rule_label(), c.result_label());
        if with_evidence {
            let interval = match c.interval {
                Some([lo, hi]) => format!("[{lo:+.4}, {hi:+.4}]"),
                None => "-".into(),
            };
            let q = c.q_value.map_or_else(|| "-".into(), |q| format!("{q:.3}"));
            writeln!(
                out,
                "{:<20} {:>12} {:>12} {:>10} {:>23}  {:<14} {:>7}  {}",
                c.metric,
                format_value(c.baseline),
                format_value(c.candidate),
                change,
                interval,
                rule,
                q,
                result
            )?;
        } else {
            writeln!(
                out,
                "{:<20} {:>12} {:>12} {:>10}  {:<22} {}",
                c.metric,
                format_value(c.baseline),
                format_value(c.candidate),
                change,
                rule,
                result
            )?;
        }
    }
    writeln!(out, "\nverdict: {}", comparison.verdict)?;
    Ok(())
}

/// Like [`format_value`], but whole numbers (counts) print without decimals.
pub fn format_number(v: Option<f64>) -> String {
    match v {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e12 => format!("{x:.0}"),
        _ => format_value(v),
    }
}

/// The generations a table shows: 0, 1, 2, 5, 10, 20, 50, ... up to and including the last.
pub fn shown_generations(last: usize) -> Vec<usize> {
    let mut out = vec![0];
    let mut base = 1;
    while base <= last {
        for step in [1, 2, 5] {
            let g = base * step;
            if g <= last && g > *out.last().expect("non-empty") {
                out.push(g);
            }
        }
        base *= 10;
    }
    if *out.last().expect("non-empty") != last {
        out.push(last);
    }
    out
}

/// A simulation: per metric, the replicate mean per strategy at selected generations, with the
/// closed-form expectation in parentheses where one exists.
pub fn write_simulation(out: &mut impl Write, report: &tailwatch_sim::SimReport) -> Result<()> {
    let samples = report.parameters.samples().map_or_else(|| "corpus-sized".to_string(), |s| s.to_string());
    writeln!(
        out,
        "{} · {} samples/generation · {} generations · {} replicate{} · seed {} · {:.1} s",
        report.model,
        samples,
        report.generations,
        report.replicates,
        if report.replicates == 1 { "" } else { "s" },
        report.seed,
        report.elapsed_s
    )?;
    let names: Vec<String> = report.strategies.iter().map(|s| s.strategy.to_string()).collect();
    let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max(22);
    let mut has_expected = false;
    for info in &report.metrics {
        writeln!(out, "\n{} {}  ({})", info.collapse.arrow(), info.id, info.definition)?;
        write!(out, "  {:>6}", "gen")?;
        for n in &names {
            write!(out, " {n:>w$}")?;
        }
        writeln!(out)?;
        for g in shown_generations(report.generations) {
            write!(out, "  {g:>6}")?;
            for s in &report.strategies {
                let series = &s.metrics[info.id];
                let mean = series.mean.get(g).copied().flatten();
                let expected = series
                    .expected
                    .iter()
                    .find(|e| e.statistic == tailwatch_sim::summary::Statistic::Mean)
                    .and_then(|e| e.values.get(g).copied().flatten());
                let cell = match expected {
                    Some(e) => {
                        has_expected = true;
                        format!("{} ({})", format_number(mean), format_number(Some(e)))
                    }
                    None => format_number(mean),
                };
                write!(out, " {cell:>w$}")?;
            }
            writeln!(out)?;
        }
    }
    writeln!(out)?;
    writeln!(out, "values: mean over replicates; ↓ lower means collapse, ↑ higher means collapse")?;
    if has_expected {
        writeln!(out, "(in parentheses: the closed-form expectation; --json has SE, quantiles and sources)")?;
    }
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

/// Text cut to `width` characters (an ellipsis when cut), on one line.
fn clip(text: &str, width: usize) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match one_line.char_indices().nth(width) {
        Some((end, _)) => format!("{}…", &one_line[..end]),
        None => one_line,
    }
}

/// The "why" of a comparison: grown n-grams, lost words, repeated outputs, near-duplicates.
pub fn write_explanation(out: &mut impl Write, why: &tailwatch::explaining::Explanation) -> Result<()> {
    let percent = |share: f64| format!("{:.2} %", 100.0 * share);
    if !why.grown_ngrams.is_empty() {
        writeln!(out, "\nn-grams that grew (share of the side's trigrams, baseline → candidate):")?;
        for g in &why.grown_ngrams {
            writeln!(
                out,
                "  {:<40} {:>7} ({:>7}) → {:>7} ({:>7})",
                clip(&format!("\"{}\"", g.ngram), 40),
                g.baseline_count,
                percent(g.baseline_share),
                g.candidate_count,
                percent(g.candidate_share)
            )?;
        }
    }
    if !why.lost_words.is_empty() {
        writeln!(
            out,
            "\nbaseline words the candidate never uses (count in the baseline, expected in the candidate):"
        )?;
        for l in &why.lost_words {
            writeln!(out, "  {:<40} {:>7} {:>9.1}", clip(&l.word, 40), l.baseline_count, l.expected)?;
        }
    }
    if !why.repeated_outputs.is_empty() {
        writeln!(out, "\nrepeated candidate outputs (copies in the candidate, in the baseline):")?;
        for r in &why.repeated_outputs {
            writeln!(out, "  {:>6} {:>6}  {}", r.candidate_count, r.baseline_count, clip(&r.text, 70))?;
        }
    }
    if !why.top_openings.is_empty() {
        writeln!(
            out,
            "\nmost common candidate openings (documents opening so in the candidate, share, in the baseline):"
        )?;
        for o in &why.top_openings {
            writeln!(
                out,
                "  {:>6} {:>6.1}% {:>6}  {}",
                o.candidate_count,
                100.0 * o.candidate_share,
                o.baseline_count,
                clip(&o.opening, 60)
            )?;
        }
    }
    if !why.near_duplicates.is_empty() {
        writeln!(out, "\nclosest near-duplicate candidate pairs (Jaccard of word trigrams):")?;
        for n in &why.near_duplicates {
            writeln!(out, "  {:.3}  {}\n         {}", n.jaccard, clip(&n.first, 70), clip(&n.second, 70))?;
        }
    }
    Ok(())
}
