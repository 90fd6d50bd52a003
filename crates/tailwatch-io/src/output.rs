//! Output files that never destroy data: checked against a run's inputs and its other outputs,
//! written to a temporary file beside the target and renamed at the end, devices written in place.
//!
//! Every file a tailwatch command writes goes through here:
//! - [`RunFiles`] holds what one run reads and writes; [`RunFiles::output`] refuses an output that
//!   is one of the inputs (also through another name: a hard link, `./`, a symlink), the
//!   database, or another output of the run, before any work is done.
//! - [`OutputFile::create`] opens one output: a regular (or new) file is written to a unique
//!   temporary file in its folder (`.name.XXXXXX.tmp`, mode 0666 less the umask), renamed onto it
//!   by [`OutputFile::finish`] and removed if the run fails first, so a failure leaves the old file
//!   as it was and no temporary file behind; an existing device or FIFO (`-o /dev/null`) is
//!   written in place and never replaced; a symbolic link is refused (the message names its
//!   target, which can be given instead), so a link is never silently replaced by a file.
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The identity of a file: its device and inode when it exists, else the canonical path it would
/// have (its folder canonicalized, then its name).
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    Name(PathBuf),
}

fn identify(path: &Path) -> Option<FileId> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt as _;
                Some(FileId::Inode(meta.dev(), meta.ino()))
            }
            #[cfg(not(unix))]
            {
                let _ = meta;
                std::fs::canonicalize(path).ok().map(FileId::Name)
            }
        }
        Err(_) => {
            let name = path.file_name()?;
            let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let folder = std::fs::canonicalize(folder).ok()?;
            Some(FileId::Name(folder.join(name)))
        }
    }
}

/// Whether `path` is an existing device, FIFO or socket: such a target is written in place and
/// may be shared (`--clusters /dev/null --pairs /dev/null`).
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// What one run reads and writes, so that no output lands on an input or on another output.
#[derive(Debug, Default)]
pub struct RunFiles {
    inputs: Vec<(PathBuf, FileId)>,
    outputs: Vec<(PathBuf, FileId)>,
}

impl RunFiles {
    /// A run reading `inputs` (`-`, stdin, is skipped).
    pub fn reading<P: AsRef<Path>>(inputs: impl IntoIterator<Item = P>) -> Self {
        let mut files = RunFiles::default();
        for input in inputs {
            files.input(input.as_ref());
        }
        files
    }

    /// Add an input (a database counts as one).
    pub fn input(&mut self, path: &Path) -> &mut Self {
        if path.as_os_str() != "-"
            && let Some(id) = identify(path)
        {
            self.inputs.push((path.to_path_buf(), id));
        }
        self
    }

    /// Claim `path` as an output of the run: refused when it is an input or an output already
    /// claimed. Devices and FIFOs may be claimed any number of times.
    pub fn output(&mut self, path: &Path) -> Result<()> {
        if path.as_os_str() == "-" || is_special(path) {
            return Ok(());
        }
        let Some(id) = identify(path) else {
            return Ok(()); // its folder does not exist: creating it will fail with a clear error
        };
        if let Some((input, _)) = self.inputs.iter().find(|(_, other)| *other == id) {
            return Err(Error::OutputOverInput { output: path.to_path_buf(), input: input.clone() });
        }
        if let Some((other, _)) = self.outputs.iter().find(|(_, other)| *other == id) {
            return Err(Error::OutputTwice { output: path.to_path_buf(), other: other.clone() });
        }
        self.outputs.push((path.to_path_buf(), id));
        Ok(())
    }
}

/// One output being written; see the [module docs](self).
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    target: Target,
}

#[derive(Debug)]
enum Target {
    Temporary(tempfile::NamedTempFile),
    InPlace(File),
}

impl OutputFile {
    /// Open `path` for writing (nothing replaces it before [`OutputFile::finish`]).
    pub fn create(path: &Path) -> Result<Self> {
        let write_err = |message: String| Error::Write { path: path.to_path_buf(), message };
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(path).unwrap_or_default();
                return Err(Error::OutputIsSymlink { path: path.to_path_buf(), target });
            }
            if meta.is_dir() {
                return Err(write_err("it is a folder".into()));
            }
            if !meta.is_file() {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| write_err(e.to_string()))?;
                return Ok(OutputFile { path: path.to_path_buf(), target: Target::InPlace(file) });
            }
        }
        let name = path.file_name().ok_or_else(|| write_err("it names no file".into()))?;
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(name);
        prefix.push(".");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            // open(2) applies the umask to this, as it does for any new file
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temporary = builder.tempfile_in(folder).map_err(|e| write_err(e.to_string()))?;
        Ok(OutputFile { path: path.to_path_buf(), target: Target::Temporary(temporary) })
    }

    /// Where the output will be.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file being written.
    pub fn file(&self) -> &File {
        match &self.target {
            Target::Temporary(temporary) => temporary.as_file(),
            Target::InPlace(file) => file,
        }
    }

    /// The run succeeded: flush to disk and put the output in place (a no-op for a device).
    pub fn finish(self) -> Result<()> {
        let write_err =
            |e: &dyn std::fmt::Display| Error::Write { path: self.path.clone(), message: e.to_string() };
        match self.target {
            Target::Temporary(temporary) => {
                temporary.as_file().sync_all().map_err(|e| write_err(&e))?;
                temporary.persist(&self.path).map_err(|e| write_err(&e.error))?;
            }
            Target::InPlace(mut file) => file.flush().map_err(|e| write_err(&e))?,
        }
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Temporary(temporary) => temporary.write(buf),
            Target::InPlace(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Temporary(temporary) => temporary.flush(),
            Target::InPlace(file) => file.flush(),
        }
    }
}

/// Write `bytes` to `path` as an [`OutputFile`].
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut output = OutputFile::create(path)?;
    output.write_all(bytes).map_err(|e| Error::Write { path: path.to_path_buf(), message: e.to_string() })?;
    output.finish()
}

/// Write `lines` to `path` as JSON lines, through a buffer, as an [`OutputFile`].
pub fn write_json_lines<T: serde::Serialize>(path: &Path, lines: impl IntoIterator<Item = T>) -> Result<()> {
    let write_err =
        |e: &dyn std::fmt::Display| Error::Write { path: path.to_path_buf(), message: e.to_string() };
    let output = OutputFile::create(path)?;
    let mut buffer = io::BufWriter::with_capacity(1 << 16, output);
    for line in lines {
        serde_json::to_writer(&mut buffer, &line).map_err(|e| write_err(&e))?;
        buffer.write_all(b"\n").map_err(|e| write_err(&e))?;
    }
    buffer.into_inner().map_err(|e| write_err(e.error()))?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_over_an_input_is_refused_through_any_name() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.txt");
        std::fs::write(&input, "a\n").unwrap();
        let link = dir.path().join("hard.txt");
        std::fs::hard_link(&input, &link).unwrap();
        let mut files = RunFiles::reading([&input]);
        for alias in [input.clone(), dir.path().join("./in.txt"), link] {
            let err = files.output(&alias).unwrap_err();
            assert!(matches!(err, Error::OutputOverInput { .. }), "{err}");
        }
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "a\n");
    }

    #[test]
    fn two_outputs_of_one_run_must_differ_but_devices_may_be_shared() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = RunFiles::default();
        files.output(&dir.path().join("out.jsonl")).unwrap();
        let err = files.output(&dir.path().join("./out.jsonl")).unwrap_err();
        assert!(matches!(err, Error::OutputTwice { .. }), "{err}");
        files.output(Path::new("/dev/null")).unwrap();
        files.output(Path::new("/dev/null")).unwrap();
    }

    #[test]
    fn a_failed_run_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old\n").unwrap();
        {
            let mut output = OutputFile::create(&path).unwrap();
            output.write_all(b"partial").unwrap();
            // dropped without finish: the run failed
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let mut output = OutputFile::create(&path).unwrap();
        output.write_all(b"new\n").unwrap();
        output.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn two_outputs_at_once_get_their_own_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let mut first = OutputFile::create(&path).unwrap();
        let mut second = OutputFile::create(&path).unwrap();
        first.write_all(b"first\n").unwrap();
        second.write_all(b"second\n").unwrap();
        second.finish().unwrap();
        first.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place_and_a_symlink_is_refused() {
        use std::os::unix::fs::MetadataExt as _;
        let before = std::fs::metadata("/dev/null").unwrap();
        write_file(Path::new("/dev/null"), b"gone").unwrap();
        let after = std::fs::metadata("/dev/null").unwrap();
        assert_eq!((before.ino(), before.rdev()), (after.ino(), after.rdev()));

        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        std::fs::write(&real, "kept\n").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = write_file(&link, b"x").unwrap_err();
        assert!(matches!(err, Error::OutputIsSymlink { .. }), "{err}");
        assert!(err.to_string().contains("real.txt"), "{err}");
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "kept\n");
    }

    #[cfg(unix)]
    #[test]
    fn modes_follow_the_umask() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_file(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        // what a file created the ordinary way gets, not a temporary file's 0600
        let umask = current_umask();
        assert_eq!(mode, 0o666 & !umask, "mode {mode:o}, umask {umask:o}");
    }

    #[cfg(unix)]
    fn current_umask() -> u32 {
        let dir = tempfile::tempdir().unwrap();
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        0o666 & !(std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777)
    }
}
