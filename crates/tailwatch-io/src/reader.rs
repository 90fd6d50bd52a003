//! [`DocReader`]: streams documents out of any supported input in bounded batches.
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::{Array, LargeStringArray, StringArray, StringViewArray};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use serde_json::Value;

use crate::{Compression, DocSeparator, Error, Format, Location, Result};

/// How to read an input.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Force a format instead of guessing it from the file name.
    pub format: Option<Format>,
    /// JSON: dotted field path (`a.b`, array indexes as numbers); CSV and Parquet: the column.
    /// Default `text`.
    pub field: Option<String>,
    /// How plain text is cut into documents.
    pub doc_separator: DocSeparator,
    /// Skip malformed records (broken JSON, missing or mistyped fields, bad UTF-8) and count them.
    pub skip_invalid: bool,
    /// Replace invalid UTF-8 with U+FFFD instead of failing.
    pub lossy: bool,
    /// A JSON array field is one document (a list of item ids joined by spaces) rather than one
    /// document per element. Used by the `items` tokenizer.
    pub array_is_one_doc: bool,
    /// Target size of a batch in bytes of text.
    pub batch_bytes: usize,
    /// Also extract these fields (JSON dotted paths, CSV or Parquet columns) of every record as
    /// strings, into [`Batch::extras`] (for example `origin`, for a keep policy). Scalars are
    /// converted to text, arrays and objects to JSON; a missing field or JSON null gives `None`.
    /// A CSV or Parquet column that does not exist is an error.
    pub extra_fields: Vec<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            format: None,
            field: None,
            doc_separator: DocSeparator::Line,
            skip_invalid: false,
            lossy: false,
            array_is_one_doc: false,
            batch_bytes: 1 << 20,
            extra_fields: Vec::new(),
        }
    }
}

impl ReadOptions {
    fn field_name(&self) -> &str {
        self.field.as_deref().unwrap_or("text")
    }
}

/// A batch of documents, in input order.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    /// The documents.
    pub docs: Vec<String>,
    /// The record each document came from (parallel to `docs`): the line number for text and
    /// JSONL (for paragraphs, the paragraph's first line), the 1-based row for CSV and Parquet,
    /// the 1-based element for a JSON array. A record holding an array field gives several
    /// documents with the same number. [`crate::write_records`] counts records the same way.
    pub records: Vec<u64>,
    /// With [`ReadOptions::extra_fields`]: those fields of each document's record, in order
    /// (parallel to `docs`); empty otherwise.
    pub extras: Vec<Vec<Option<String>>>,
    /// Where each document's record lies in the file (parallel to `docs`), when the reader
    /// can read records again ([`DocReader::rereadable`]); empty otherwise.
    pub spans: Vec<RecordSpan>,
}

/// Where a record lies in an uncompressed text or JSONL file: its first byte and its length
/// (a paragraph's lines, or one line, with its line end), for [`RecordRereader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    /// Offset of the record's first byte.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

impl Batch {
    fn push(&mut self, doc: String, record: u64, extra: Option<&Vec<Option<String>>>) {
        self.docs.push(doc);
        self.records.push(record);
        if let Some(extra) = extra {
            self.extras.push(extra.clone());
        }
    }

    /// [`Batch::push`] of a record at a known place in the file.
    fn push_at(
        &mut self,
        doc: String,
        record: u64,
        extra: Option<&Vec<Option<String>>>,
        span: Option<RecordSpan>,
    ) {
        self.push(doc, record, extra);
        if let Some(span) = span {
            self.spans.push(span);
        }
    }
}

/// Counters of what a reader saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadStats {
    /// Records (lines, JSON values, CSV rows, Parquet rows) read.
    pub records: u64,
    /// Documents produced.
    pub docs: u64,
    /// Records skipped by `skip_invalid`.
    pub skipped: u64,
    /// The first skipped record's error, for the report.
    pub first_skipped: Option<String>,
}

/// Streams documents from one input. See the crate docs.
pub struct DocReader {
    path: PathBuf,
    options: Arc<ReadOptions>,
    source: Source,
    stats: ReadStats,
    position: Arc<AtomicU64>,
    total_bytes: Option<u64>,
}

/// A buffered document: text, record number, extra fields.
type BufferedDoc = (String, u64, Vec<Option<String>>);

enum Source {
    Lines {
        reader: Box<dyn BufRead + Send>,
        line: u64,
        json: bool,
        paragraph: String,
        paragraph_start: u64,
        /// The line being read, reused (a fresh buffer per line would grow by doubling each time).
        buf: Vec<u8>,
        /// Bytes of the (decoded) input consumed so far, and where the paragraph began.
        offset: u64,
        paragraph_offset: u64,
        /// Whether offsets are file offsets (an uncompressed file), kept in [`Batch::spans`].
        spans: bool,
    },
    Buffered(VecDeque<BufferedDoc>),
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        column: usize,
        extra_columns: Vec<usize>,
    },
    Parquet {
        reader: ParquetRecordBatchReader,
        row: u64,
    },
    Done,
}

impl Source {
    /// Lines of `reader`, the first numbered `first_line`, read into a buffer of `capacity`.
    fn lines(
        reader: Box<dyn BufRead + Send>,
        json: bool,
        first_line: u64,
        spans: bool,
        capacity: usize,
    ) -> Self {
        Source::Lines {
            reader,
            line: first_line.saturating_sub(1),
            json,
            paragraph: String::new(),
            paragraph_start: 0,
            buf: Vec::with_capacity(capacity),
            offset: 0,
            paragraph_offset: 0,
            spans,
        }
    }
}

struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl DocReader {
    /// Open `path` (`-` is stdin).
    pub fn open(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let position = Arc::new(AtomicU64::new(0));
        let is_stdin = path.as_os_str() == "-";
        let format = options.format.unwrap_or_else(|| Format::from_path(&path));
        let open_err = |source| Error::Open { path: path.clone(), source };
        // a regular file can be read again at an offset; stdin or a pipe (`<(zcat …)`) cannot
        let mut regular_file = false;
        let (raw, total_bytes): (Box<dyn Read + Send>, Option<u64>) = if is_stdin {
            (Box::new(io::stdin()), None)
        } else {
            let file = File::open(&path).map_err(open_err)?;
            let meta = file.metadata().map_err(open_err)?;
            if meta.is_dir() {
                return Err(open_err(io::Error::other("is a directory")));
            }
            regular_file = meta.is_file();
            if format == Format::Parquet {
                let reader = open_parquet(&path, file, options.field_name(), &options.extra_fields)?;
                return Ok(Self {
                    path,
                    options: Arc::new(options.clone()),
                    source: Source::Parquet { reader, row: 0 },
                    stats: ReadStats::default(),
                    position,
                    total_bytes: Some(meta.len()),
                });
            }
            (Box::new(file), Some(meta.len()))
        };
        let mut buffered =
            BufReader::with_capacity(1 << 16, CountingReader { inner: raw, count: position.clone() });
        let head = buffered.fill_buf().map_err(open_err)?;
        let compression = Compression::sniff(head);
        let decoded: Box<dyn BufRead + Send> = match compression {
            Compression::None => Box::new(buffered),
            Compression::Gzip => {
                Box::new(BufReader::with_capacity(1 << 16, flate2::bufread::MultiGzDecoder::new(buffered)))
            }
            Compression::Zstd => {
                let decoder = zstd::stream::read::Decoder::with_buffer(buffered).map_err(open_err)?;
                Box::new(BufReader::with_capacity(1 << 16, decoder))
            }
        };
        let mut json_document = None;
        let source = match format {
            Format::Parquet => return Err(Error::NeedsPlainFile { path, format: "Parquet" }),
            Format::Text | Format::Jsonl => {
                if format == Format::Text && !options.extra_fields.is_empty() {
                    return Err(Error::NoFields { path, what: "an extra field" });
                }
                let spans = regular_file && compression == Compression::None;
                Source::lines(decoded, format == Format::Jsonl, 0, spans, 0)
            }
            Format::Json => {
                json_document = Some(decoded);
                Source::Done
            }
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(Box::new(decoded) as Box<dyn Read + Send>);
                let headers = reader.headers().map_err(|e| csv_error(&path, &e))?.clone();
                let find = |name: &str| {
                    headers.iter().position(|h| h == name).ok_or_else(|| Error::MissingColumn {
                        path: path.clone(),
                        column: name.to_string(),
                        available: headers.iter().collect::<Vec<_>>().join(", "),
                    })
                };
                let column = find(options.field_name())?;
                let extra_columns =
                    options.extra_fields.iter().map(|f| find(f)).collect::<Result<Vec<_>>>()?;
                Source::Csv { reader, column, extra_columns }
            }
        };
        let mut reader = Self {
            path,
            options: Arc::new(options.clone()),
            source,
            stats: ReadStats::default(),
            position,
            total_bytes,
        };
        if let Some(document) = json_document {
            reader.load_json_document(document)?;
        }
        Ok(reader)
    }

    /// Whether [`Batch::spans`] says where each record lies, for [`RecordRereader`]: for
    /// uncompressed text and JSONL regular files (not stdin or a pipe).
    pub fn rereadable(&self) -> bool {
        matches!(self.source, Source::Lines { spans: true, .. })
    }

    /// The input's path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What has been read so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Size of the input file in bytes, when known (not for stdin).
    pub fn total_bytes(&self) -> Option<u64> {
        self.total_bytes
    }

    /// Bytes of the input file consumed so far (compressed bytes for compressed files).
    pub fn bytes_read(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// The next batch of documents, or `None` at the end of the input.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        let mut batch = Batch::default();
        let mut bytes = 0usize;
        while bytes < self.options.batch_bytes {
            match self.next_doc_group(&mut batch)? {
                Some(n) => bytes += n,
                None => break,
            }
        }
        self.stats.docs += batch.docs.len() as u64;
        if batch.docs.is_empty() && matches!(self.source, Source::Done) { Ok(None) } else { Ok(Some(batch)) }
    }

    /// Reads one record (which may hold several documents). Returns the bytes added or `None`
    /// at the end.
    fn next_doc_group(&mut self, out: &mut Batch) -> Result<Option<usize>> {
        let with_extra = !self.options.extra_fields.is_empty();
        loop {
            let attempt = match &mut self.source {
                Source::Done => return Ok(None),
                Source::Buffered(queue) => match queue.pop_front() {
                    Some((doc, record, extra)) => {
                        let n = doc.len() + 1;
                        out.push(doc, record, with_extra.then_some(&extra));
                        return Ok(Some(n));
                    }
                    None => {
                        self.source = Source::Done;
                        return Ok(None);
                    }
                },
                Source::Lines { .. } => self.next_line_record(out),
                Source::Csv { .. } => self.next_csv_record(out),
                Source::Parquet { .. } => self.next_parquet_batch(out),
            };
            match attempt {
                Ok(r) => return Ok(r),
                Err(e) if self.options.skip_invalid && e.is_skippable() => {
                    self.stats.skipped += 1;
                    if self.stats.first_skipped.is_none() {
                        self.stats.first_skipped = Some(e.to_string());
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn next_line_record(&mut self, out: &mut Batch) -> Result<Option<usize>> {
        let Source::Lines {
            reader,
            line,
            json,
            paragraph,
            paragraph_start,
            buf,
            offset,
            paragraph_offset,
            spans,
        } = &mut self.source
        else {
            unreachable!()
        };
        let spans = *spans;
        let span = |offset: u64, end: u64| spans.then_some(RecordSpan { offset, len: end - offset });
        loop {
            buf.clear();
            let line_offset = *offset;
            let n = reader.read_until(b'\n', buf).map_err(|source| Error::Read {
                path: self.path.clone(),
                location: Location::Line(*line),
                source,
            })?;
            if n == 0 {
                let last = std::mem::take(paragraph);
                let start = *paragraph_start;
                let last_span = span(*paragraph_offset, *offset);
                self.source = Source::Done;
                if !last.is_empty() {
                    let len = last.len();
                    out.push_at(last, start, None, last_span);
                    return Ok(Some(len));
                }
                return Ok(None);
            }
            *offset += n as u64;
            *line += 1;
            self.stats.records += 1;
            let location = Location::Line(*line);
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            // borrowed from the line's buffer: a JSONL line is parsed in place, a text line copied
            // into a document of its own size
            let text = decode_str(&self.path, location, buf, self.options.lossy)?;
            if *json {
                if text.trim().is_empty() {
                    continue;
                }
                let (docs, value) = json_line_docs(&self.path, &self.options, location, &text)?;
                let extra: Option<Vec<Option<String>>> = (!self.options.extra_fields.is_empty())
                    .then(|| self.options.extra_fields.iter().map(|f| extra_value(&value, f)).collect());
                let bytes = docs.iter().map(|d| d.len() + 1).sum::<usize>().max(1);
                for doc in docs {
                    out.push_at(doc, *line, extra.as_ref(), span(line_offset, *offset));
                }
                return Ok(Some(bytes));
            }
            let blank = text.trim().is_empty();
            match self.options.doc_separator {
                DocSeparator::Line => {
                    if blank {
                        continue;
                    }
                    let len = text.len();
                    out.push_at(text.into_owned(), *line, None, span(line_offset, *offset));
                    return Ok(Some(len + 1));
                }
                DocSeparator::Blank => {
                    if blank {
                        if paragraph.is_empty() {
                            continue;
                        }
                        let doc = std::mem::take(paragraph);
                        let len = doc.len();
                        out.push_at(doc, *paragraph_start, None, span(*paragraph_offset, line_offset));
                        return Ok(Some(len + 1));
                    }
                    if paragraph.is_empty() {
                        *paragraph_start = *line;
                        *paragraph_offset = line_offset;
                    } else {
                        paragraph.push('\n');
                    }
                    paragraph.push_str(&text);
                }
            }
        }
    }

    fn next_csv_record(&mut self, out: &mut Batch) -> Result<Option<usize>> {
        let Source::Csv { reader, column, extra_columns } = &mut self.source else { unreachable!() };
        let mut record = csv::ByteRecord::new();
        let more = reader.read_byte_record(&mut record).map_err(|e| csv_error(&self.path, &e))?;
        if !more {
            self.source = Source::Done;
            return Ok(None);
        }
        self.stats.records += 1;
        let location = Location::Line(record.position().map_or(0, |p| p.line()));
        let Some(cell) = record.get(*column) else {
            return Err(Error::MissingField {
                path: self.path.clone(),
                location,
                field: self.options.field_name().to_string(),
            });
        };
        let text = decode_utf8(&self.path, location, cell, self.options.lossy)?;
        let mut extra = Vec::with_capacity(extra_columns.len());
        for &c in extra_columns.iter() {
            extra.push(match record.get(c) {
                Some(bytes) => Some(decode_utf8(&self.path, location, bytes, self.options.lossy)?),
                None => None,
            });
        }
        let extra = (!extra_columns.is_empty()).then_some(extra);
        let len = text.len();
        out.push(text, self.stats.records, extra.as_ref());
        Ok(Some(len + 1))
    }

    fn next_parquet_batch(&mut self, out: &mut Batch) -> Result<Option<usize>> {
        let Source::Parquet { reader, row } = &mut self.source else { unreachable!() };
        let Some(batch) = reader.next() else {
            self.source = Source::Done;
            return Ok(None);
        };
        let batch = batch.map_err(|e| Error::Parquet { path: self.path.clone(), message: e.to_string() })?;
        let field = self.options.field_name().to_string();
        let base = *row;
        let schema = batch.schema();
        let text_index = schema.index_of(&field).unwrap_or(0);
        let column = batch.column(text_index);
        let mut columns: Vec<Vec<Option<String>>> = Vec::new();
        for name in &self.options.extra_fields {
            let index = schema
                .index_of(name)
                .map_err(|e| Error::Parquet { path: self.path.clone(), message: e.to_string() })?;
            columns.push(parquet_strings(batch.column(index)).map_err(|found| Error::FieldType {
                path: self.path.clone(),
                location: Location::Record(base + 1),
                field: name.to_string(),
                found,
            })?);
        }
        let extras: Option<Vec<Vec<Option<String>>>> = (!columns.is_empty()).then(|| {
            (0..batch.num_rows()).map(|row| columns.iter().map(|c| c[row].clone()).collect()).collect()
        });
        let texts = string_values(column).ok_or_else(|| Error::FieldType {
            path: self.path.clone(),
            location: Location::Record(base + 1),
            field: field.clone(),
            found: format!("Parquet type {}", column.data_type()),
        })?;
        let mut bytes = 0;
        for (i, value) in texts.into_iter().enumerate() {
            let record = base + i as u64 + 1;
            match value {
                Some(s) => {
                    bytes += s.len() + 1;
                    out.push(s.to_string(), record, extras.as_ref().map(|e| &e[i]));
                }
                None => {
                    let error = Error::MissingField {
                        path: self.path.clone(),
                        location: Location::Record(record),
                        field: field.clone(),
                    };
                    if self.options.skip_invalid {
                        self.stats.skipped += 1;
                        self.stats.first_skipped.get_or_insert_with(|| error.to_string());
                    } else {
                        return Err(error);
                    }
                }
            }
        }
        *row += batch.num_rows() as u64;
        self.stats.records += batch.num_rows() as u64;
        Ok(Some(bytes.max(1)))
    }

    fn load_json_document(&mut self, mut reader: Box<dyn BufRead + Send>) -> Result<()> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(|source| Error::Read {
            path: self.path.clone(),
            location: Location::Record(0),
            source,
        })?;
        let text = decode_utf8(&self.path, Location::Line(1), &bytes, self.options.lossy)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| Error::Json {
            path: self.path.clone(),
            location: Location::Line(e.line() as u64),
            message: e.to_string(),
        })?;
        let mut docs: VecDeque<BufferedDoc> = VecDeque::new();
        let records: Vec<&Value> = match &value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for (i, record) in records.into_iter().enumerate() {
            self.stats.records += 1;
            let location = Location::Record(i as u64 + 1);
            let mut texts = Vec::new();
            match extract_docs(&self.path, location, record, &self.options, &mut texts) {
                Ok(()) => {
                    let extra: Vec<Option<String>> =
                        self.options.extra_fields.iter().map(|f| extra_value(record, f)).collect();
                    docs.extend(texts.into_iter().map(|t| (t, i as u64 + 1, extra.clone())));
                }
                Err(e) if self.options.skip_invalid => {
                    self.stats.skipped += 1;
                    self.stats.first_skipped.get_or_insert_with(|| e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        self.source = Source::Buffered(docs);
        Ok(())
    }
}

/// Reads records of an uncompressed text or JSONL file again, by the [`RecordSpan`]s a
/// [`DocReader`] gave them: for a second look at a few records of a large input without
/// keeping them all in memory.
pub struct RecordRereader {
    path: PathBuf,
    file: File,
    /// The reader's options, but failing on an invalid record (it was valid the first time).
    options: Arc<ReadOptions>,
    json: bool,
}

impl RecordRereader {
    /// Open `path` (read with `options`) for rereading.
    pub fn open(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| Error::Open { path: path.clone(), source })?;
        let json = options.format.unwrap_or_else(|| Format::from_path(&path)) == Format::Jsonl;
        Ok(Self {
            path,
            file,
            options: Arc::new(ReadOptions { skip_invalid: false, ..options.clone() }),
            json,
        })
    }

    /// The documents of the record numbered `record` at `span`, as [`DocReader`] read them.
    /// Safe to call from several threads at once.
    pub fn docs(&self, span: RecordSpan, record: u64) -> Result<Vec<String>> {
        let location = Location::Line(record);
        let read_err = |source| Error::Read { path: self.path.clone(), location, source };
        let len = usize::try_from(span.len).map_err(|_| read_err(io::Error::other("record too large")))?;
        let mut bytes = vec![0u8; len];
        read_exact_at(&self.file, &self.path, &mut bytes, span.offset).map_err(read_err)?;
        if self.json || self.options.doc_separator == DocSeparator::Line {
            // one line: decoded (and parsed) as `next_line_record` does, without a reader
            while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                bytes.pop();
            }
            let text = decode_owned(&self.path, location, bytes, self.options.lossy)?;
            return if self.json {
                json_line_docs(&self.path, &self.options, location, &text).map(|(docs, _)| docs)
            } else {
                Ok(vec![text])
            };
        }
        // a paragraph: its lines through the reader's own paragraph logic
        let mut reader = DocReader {
            path: self.path.clone(),
            options: self.options.clone(),
            source: Source::lines(Box::new(io::Cursor::new(bytes)), self.json, record, false, len),
            stats: ReadStats::default(),
            position: Arc::new(AtomicU64::new(0)),
            total_bytes: Some(span.len),
        };
        let mut docs = Vec::new();
        while let Some(batch) = reader.next_batch()? {
            docs.extend(batch.docs);
        }
        Ok(docs)
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
    use std::io::Seek;
    let mut file = File::open(path)?;
    file.seek(io::SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// Read every document of `path` into memory (tests, small inputs, `--compat` modes).
pub fn read_all(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Vec<String>> {
    let mut reader = DocReader::open(path, options)?;
    let mut docs = Vec::new();
    while let Some(batch) = reader.next_batch()? {
        docs.extend(batch.docs);
    }
    Ok(docs)
}

/// The documents of one JSONL line (`--field`, arrays as several documents), and its value
/// (for extra fields).
fn json_line_docs(
    path: &Path,
    options: &ReadOptions,
    location: Location,
    text: &str,
) -> Result<(Vec<String>, Value)> {
    let value: Value = serde_json::from_str(text).map_err(|e| Error::Json {
        path: path.to_path_buf(),
        location,
        message: e.to_string(),
    })?;
    let mut docs = Vec::new();
    extract_docs(path, location, &value, options, &mut docs)?;
    Ok((docs, value))
}

/// [`decode_utf8`] without a copy of valid UTF-8.
fn decode_str<'a>(path: &Path, location: Location, bytes: &'a [u8], lossy: bool) -> Result<Cow<'a, str>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(_) if lossy => Ok(String::from_utf8_lossy(bytes)),
        Err(e) => Err(Error::Utf8 { path: path.to_path_buf(), location, offset: e.valid_up_to() }),
    }
}

/// [`decode_utf8`] of bytes the caller gives up: valid UTF-8 becomes the text without a copy.
fn decode_owned(path: &Path, location: Location, bytes: Vec<u8>, lossy: bool) -> Result<String> {
    String::from_utf8(bytes).or_else(|e| {
        if lossy {
            Ok(String::from_utf8_lossy(e.as_bytes()).into_owned())
        } else {
            Err(Error::Utf8 { path: path.to_path_buf(), location, offset: e.utf8_error().valid_up_to() })
        }
    })
}

fn decode_utf8(path: &Path, location: Location, bytes: &[u8], lossy: bool) -> Result<String> {
    decode_str(path, location, bytes, lossy).map(Cow::into_owned)
}

fn csv_error(path: &Path, e: &csv::Error) -> Error {
    let location = Location::Line(e.position().map_or(0, |p| p.line()));
    match e.kind() {
        csv::ErrorKind::Io(io) => Error::Read {
            path: path.to_path_buf(),
            location,
            source: io::Error::new(io.kind(), io.to_string()),
        },
        csv::ErrorKind::Utf8 { .. } => Error::Utf8 { path: path.to_path_buf(), location, offset: 0 },
        _ => Error::Csv { path: path.to_path_buf(), location, message: e.to_string() },
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Resolve a dotted path (`a.b.0.c`) in a JSON value.
fn resolve<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for part in path.split('.') {
        current = match current {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn extract_docs(
    path: &Path,
    location: Location,
    record: &Value,
    options: &ReadOptions,
    out: &mut Vec<String>,
) -> Result<()> {
    let field = options.field_name();
    // A bare string record (a JSONL line holding just "text") is a document when no field is asked for.
    let value = match (record, &options.field) {
        (Value::String(_), None) => record,
        _ => resolve(record, field).ok_or_else(|| Error::MissingField {
            path: path.to_path_buf(),
            location,
            field: field.to_string(),
        })?,
    };
    let type_error = |found: String| Error::FieldType {
        path: path.to_path_buf(),
        location,
        field: field.to_string(),
        found,
    };
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) if options.array_is_one_doc => {
            let mut doc = String::new();
            for (i, item) in items.iter().enumerate() {
                let part = match item {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => return Err(type_error(format!("{} at index {i}", json_kind(other)))),
                };
                if i > 0 {
                    doc.push(' ');
                }
                doc.push_str(&part);
            }
            out.push(doc);
        }
        Value::Number(n) if options.array_is_one_doc => out.push(n.to_string()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    other => return Err(type_error(format!("{} at index {i}", json_kind(other)))),
                }
            }
        }
        other => return Err(type_error(json_kind(other).to_string())),
    }
    Ok(())
}

/// A record's extra field as text: strings as they are, other scalars printed, missing or
/// null as `None`, arrays and objects as JSON.
fn extra_value(record: &Value, field: &str) -> Option<String> {
    match resolve(record, field)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The values of a Parquet string column (`None` for nulls), or `None` for another type.
fn string_values(column: &dyn Array) -> Option<Vec<Option<&str>>> {
    let any = column.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return Some((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect());
    }
    if let Some(a) = any.downcast_ref::<LargeStringArray>() {
        return Some((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect());
    }
    if let Some(a) = any.downcast_ref::<StringViewArray>() {
        return Some((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect());
    }
    None
}

/// Any scalar Parquet column as text (`None` for nulls), via Arrow's display formatting.
fn parquet_strings(column: &dyn Array) -> std::result::Result<Vec<Option<String>>, String> {
    if let Some(strings) = string_values(column) {
        return Ok(strings.into_iter().map(|s| s.map(str::to_string)).collect());
    }
    let formatter = arrow_cast::display::ArrayFormatter::try_new(column, &Default::default())
        .map_err(|_| format!("Parquet type {}", column.data_type()))?;
    Ok((0..column.len()).map(|i| column.is_valid(i).then(|| formatter.value(i).to_string())).collect())
}

fn open_parquet(
    path: &Path,
    file: File,
    column: &str,
    extras: &[String],
) -> Result<ParquetRecordBatchReader> {
    let err = |e: parquet::errors::ParquetError| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(err)?;
    let schema = builder.schema().clone();
    let find = |name: &str| {
        schema.fields().iter().position(|f| f.name() == name).ok_or_else(|| Error::MissingColumn {
            path: path.to_path_buf(),
            column: name.to_string(),
            available: schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", "),
        })
    };
    let mut indices = vec![find(column)?];
    for extra in extras {
        let index = find(extra)?;
        if !indices.contains(&index) {
            indices.push(index);
        }
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
    builder.with_projection(mask).with_batch_size(4096).build().map_err(err)
}

/// Open a file (or `-` for stdin) as a buffered line source, transparently decompressing gzip
/// and zstd. Used for side files such as word-frequency tables.
pub fn open_text(path: impl AsRef<Path>) -> Result<Box<dyn BufRead + Send>> {
    let path = path.as_ref();
    let open_err = |source| Error::Open { path: path.to_path_buf(), source };
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(open_err)?)
    };
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let head = buffered.fill_buf().map_err(open_err)?;
    Ok(match Compression::sniff(head) {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(buffered))),
        Compression::Zstd => {
            Box::new(BufReader::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(open_err)?))
        }
    })
}
