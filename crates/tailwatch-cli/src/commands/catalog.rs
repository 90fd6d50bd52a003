//! `tailwatch metrics`: the catalog of metric ids.
use std::io::Write;

use anyhow::Result;
use serde::Serialize;
use tailwatch_metrics::catalog::{METRICS, MetricInfo, SCORE_FIELD_METRICS};

use crate::Outcome;
use crate::args::MetricsArgs;
use crate::output::{Report, emit};

pub fn run(args: &MetricsArgs) -> Result<Outcome> {
    // the catalog, then the ids a score column gives (`<field>`: the field's name)
    let all: Vec<MetricInfo> = METRICS.iter().chain(SCORE_FIELD_METRICS).copied().collect();
    emit(&Catalog(all), args.json)?;
    Ok(Outcome::Ok)
}

/// The metric catalog.
#[derive(Serialize)]
#[serde(transparent)]
struct Catalog(Vec<MetricInfo>);

impl Report for Catalog {
    fn render(&self, out: &mut dyn Write) -> Result<()> {
        write_catalog(out, &self.0)
    }
}

fn write_catalog(out: &mut dyn Write, metrics: &[MetricInfo]) -> Result<()> {
    writeln!(out, "{:<24} {:<11} {:<9} {:<12} definition", "id", "family", "collapse", "range")?;
    for m in metrics {
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
    Ok(())
}
