//! One output layer: each command's report is `Serialize` (what `--json` prints) and renders
//! itself for a person ([`Report`]); [`emit`] prints one or the other to stdout.
use std::io::Write;
use std::path::Path;

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

/// Refuse, before any work, outputs that are one of `inputs` (under any name) or one another
/// (see [`tailwatch_io::RunFiles`]); `None`s are outputs not asked for.
pub fn claim_outputs<'a>(
    outputs: impl IntoIterator<Item = Option<&'a Path>>,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Result<()> {
    let mut files = tailwatch_io::RunFiles::reading(inputs);
    for output in outputs.into_iter().flatten() {
        files.output(output)?;
    }
    Ok(())
}

/// Write a report file (`--html`, ...) as a [`tailwatch_io::OutputFile`]: a failure leaves no
/// partial file.
pub fn write_report_file(path: &Path, contents: &[u8]) -> Result<()> {
    Ok(tailwatch_io::output::write_file(path, contents)?)
}
