//! One output layer: each command's report is `Serialize` (what `--json` prints) and renders
//! itself for a person ([`Report`]); [`emit`] prints one or the other to stdout.
use std::io::Write;

use anyhow::Result;
use serde::Serialize;

/// A command's result: its JSON form, and its human form.
pub trait Report: Serialize {
    /// Write the human form.
    fn render(&self, out: &mut dyn Write) -> Result<()>;
}

/// Print `report` to stdout: pretty JSON with `json`, else its human form.
pub fn emit(report: &impl Report, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
    } else {
        report.render(&mut out)?;
    }
    out.flush()?;
    Ok(())
}
