//! [`RecordRereader`]: a record read again by where it lies in its file.
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::decode::decode_owned;
use crate::json_fields::json_line;
use crate::{DocReader, DocSeparator, Error, Format, Location, ReadOptions, RecordSpan, Result};

/// Reads records of an uncompressed text or JSONL file again, by the [`RecordSpan`]s a
/// [`DocReader`] gave them: for a second look at a few records of a large input without
/// keeping them all in memory.
pub struct RecordRereader {
    path: PathBuf,
    file: File,
    /// The reader's options, but failing on an invalid record (it was valid the first time).
    options: ReadOptions,
    json: bool,
}

impl RecordRereader {
    /// Open `path` (read with `options`) for rereading.
    pub fn open(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| Error::Open { path: path.clone(), source })?;
        let json = options.format.unwrap_or_else(|| Format::from_path(&path)) == Format::Jsonl;
        Ok(Self { path, file, options: ReadOptions { skip_invalid: false, ..options.clone() }, json })
    }

    /// The documents of the record numbered `record` at `span`, as [`DocReader`] read them.
    /// Safe to call from several threads at once.
    pub fn texts(&self, span: RecordSpan, record: u64) -> Result<Vec<String>> {
        let location = Location::Line(record);
        let read_err = |source| Error::Read { path: self.path.clone(), location, source };
        let len = usize::try_from(span.len).map_err(|_| read_err(io::Error::other("record too large")))?;
        let mut bytes = vec![0u8; len];
        read_exact_at(&self.file, &self.path, &mut bytes, span.offset).map_err(read_err)?;
        if self.json || self.options.doc_separator == DocSeparator::Line {
            // one line: decoded (and parsed) as the line reader does, without a reader
            while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                bytes.pop();
            }
            let text = decode_owned(&self.path, location, bytes, self.options.lossy)?;
            return if self.json {
                json_line(&self.path, &self.options, location, &text).map(|(texts, _)| texts.into_vec())
            } else {
                Ok(vec![text])
            };
        }
        // a paragraph: its lines through the reader's own paragraph logic
        let mut reader = DocReader::of_lines(&self.path, &self.options, bytes, self.json, record);
        let mut texts = Vec::new();
        while let Some(batch) = reader.next_batch()? {
            texts.extend(batch.into_texts());
        }
        Ok(texts)
    }
}

/// Fill `buf` from `file` at `offset`, without moving a shared file position.
#[cfg(unix)]
fn read_exact_at(file: &File, _path: &Path, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Fill `buf` from `path` at `offset` (a handle of its own: no shared file position).
#[cfg(not(unix))]
fn read_exact_at(_file: &File, path: &Path, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek};
    let mut file = File::open(path)?;
    file.seek(io::SeekFrom::Start(offset))?;
    file.read_exact(buf)
}
