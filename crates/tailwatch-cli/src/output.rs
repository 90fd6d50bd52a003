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

/// Write a report file (`--html`, ...): refused when it is one of `inputs`, written to a
/// temporary file beside it and renamed at the end, so a failure leaves no partial file.
pub fn write_report_file(path: &std::path::Path, contents: &[u8], inputs: &[&std::path::Path]) -> Result<()> {
    use anyhow::Context as _;
    refuse_overwriting_inputs(path, inputs)?;
    let mut tmp = temp_file_beside(path)?;
    tmp.write_all(contents).with_context(|| format!("cannot write `{}`", path.display()))?;
    tmp.persist(path).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

/// Refuse an output that is one of `inputs` (checked before any work, and again on writing).
pub fn refuse_overwriting_inputs(path: &std::path::Path, inputs: &[&std::path::Path]) -> Result<()> {
    let same = |input: &std::path::Path| match (std::fs::canonicalize(input), std::fs::canonicalize(path)) {
        (Ok(a), Ok(b)) => a == b,
        _ => input == path,
    };
    if let Some(input) = inputs.iter().find(|input| same(input)) {
        anyhow::bail!("`{}` would overwrite its input `{}`", path.display(), input.display());
    }
    Ok(())
}

/// A temporary file in `path`'s folder, to be renamed onto `path` when complete; it gets the
/// permissions a new file would (0666 less the umask), not a temporary file's 0600.
pub fn temp_file_beside(path: &std::path::Path) -> Result<tempfile::NamedTempFile> {
    use anyhow::Context as _;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(folder).with_context(|| format!("cannot write `{}`", path.display()))
}

/// An output being written: a temporary file beside a regular (or new) file, renamed onto it
/// by [`Output::finish`] and removed if the run fails first; or, for an existing device or FIFO
/// (`-o /dev/null`), the target itself, so the device is never replaced by a file.
pub enum Output {
    /// A temporary file and the path it becomes.
    Temp(tempfile::NamedTempFile, std::path::PathBuf),
    /// The target, opened for writing.
    Direct(std::fs::File),
}

impl Output {
    /// Open `path` for writing, refused when it is one of `inputs`.
    pub fn create(path: &std::path::Path, inputs: &[&std::path::Path]) -> Result<Self> {
        use anyhow::Context as _;
        refuse_overwriting_inputs(path, inputs)?;
        let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if special {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            return Ok(Output::Direct(file));
        }
        Ok(Output::Temp(temp_file_beside(path)?, path.to_path_buf()))
    }

    /// Where it writes.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Temp(tmp, _) => tmp.as_file_mut(),
            Output::Direct(file) => file,
        }
    }

    /// The run succeeded: the output takes its place.
    pub fn finish(self) -> Result<()> {
        use anyhow::Context as _;
        if let Output::Temp(tmp, path) = self {
            tmp.persist(&path).with_context(|| format!("cannot write `{}`", path.display()))?;
        }
        Ok(())
    }
}
