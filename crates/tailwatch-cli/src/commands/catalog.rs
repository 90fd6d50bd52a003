//! `tailwatch metrics`: the catalog of metric ids.
use std::io::Write;

use anyhow::Result;
use tailwatch_metrics::catalog::METRICS;

use crate::Outcome;
use crate::args::MetricsArgs;

pub fn run(args: &MetricsArgs) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, METRICS)?;
        writeln!(out)?;
        return Ok(Outcome::Ok);
    }
    writeln!(out, "{:<24} {:<11} {:<9} {:<12} definition", "id", "family", "collapse", "range")?;
    for m in METRICS {
        let family = format!("{:?}", m.family).to_lowercase();
        writeln!(
            out,
            "{:<24} {:<11} {:<9} {:<12} {}",
            m.id,
            family,
            m.collapse.arrow(),
            m.range,
            m.definition
        )?;
    }
    Ok(Outcome::Ok)
}
