//! `tailwatch demo`: three simulations on data tailwatch generates itself, a summary table and
//! an HTML report, in well under a minute.
use std::io::Write;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use tailwatch::simulating::{Corpus, DemoLine};
use tailwatch_sim::SimReport;

use super::Context;
use crate::Outcome;
use crate::args::DemoArgs;
use crate::options::read_options;
use crate::output::{Report, emit};
use crate::table::format_number;

/// `demo`'s result: where it wrote, and each simulation's first and last values.
#[derive(Serialize)]
struct DemoSummary<'a> {
    tailwatch_version: &'a str,
    out: String,
    elapsed_s: f64,
    parts: &'a [DemoLine],
    #[serde(skip)]
    seed: u64,
    #[serde(skip)]
    reports: &'a [SimReport],
    #[serde(skip)]
    report_path: &'a std::path::Path,
}

impl Report for DemoSummary<'_> {
    fn render(&self, mut out: &mut dyn Write) -> Result<()> {
        writeln!(out, "tailwatch demo: model collapse in three simulations (seed {})", self.seed)?;
        write_summary(&mut out, self.reports, self.parts)?;
        writeln!(
            out,
            "\nreport: {}\nresults: {}/{{gaussian,zipf,ngram}}.json · {:.1} s",
            self.report_path.display(),
            self.out,
            self.elapsed_s
        )?;
        Ok(())
    }
}

fn write_summary(out: &mut impl Write, reports: &[SimReport], parts: &[DemoLine]) -> Result<()> {
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

const INTRO: &str = "<p>Three recursive-training simulations on data tailwatch generates itself. Each generation's model is fitted to data assembled by a strategy: <b>replace</b> (only the previous model's samples), <b>accumulate</b> (all real and synthetic data so far), <b>fresh:0.1</b> (10 % new real data every generation). Replace collapses; accumulating or refreshing real data holds the tails.</p>";

pub fn run(args: &DemoArgs, cx: &Context) -> Result<Outcome> {
    let start = Instant::now();
    let read = read_options(&args.input, None, false)?;
    let corpus = args.corpus.as_deref().map(|path| Corpus { path, read: &read });
    let demo = cx.engine.demo(&args.output, corpus, &cx.counting("steps"))?;
    let report_path = args.output.join("report.html");
    let html =
        tailwatch_html::simulation::render_with_intro(&demo.reports, "tailwatch demo: model collapse", INTRO);
    crate::output::write_report_file(&report_path, html.as_bytes())?;
    let elapsed = start.elapsed().as_secs_f64();
    let summary = DemoSummary {
        tailwatch_version: tailwatch_core::VERSION,
        out: args.output.display().to_string(),
        elapsed_s: elapsed,
        parts: &demo.lines,
        seed: demo.seed,
        reports: &demo.reports,
        report_path: &report_path,
    };
    emit(&summary, args.json)?;
    Ok(Outcome::Ok)
}
