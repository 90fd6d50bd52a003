//! [`DocReader`]: streams the records of any supported input in bounded batches.
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use smallvec::SmallVec;

use crate::source::csv::CsvSource;
use crate::source::json::JsonDocument;
use crate::source::lines::LineSource;
use crate::source::parquet::ParquetSource;
use crate::source::{Context, RecordSource};
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
    /// strings, into [`Record::extras`] (for example `origin`, for a keep policy). Scalars are
    /// converted to text, arrays and objects to JSON; a missing field or JSON null gives `None`.
    /// A CSV or Parquet column that does not exist is an error.
    pub extra_fields: Vec<String>,
    /// Leave the prompt out of what is read: this field (a JSON dotted path, a CSV or Parquet
    /// column) holds each record's prompt, and a document that starts with it is read without
    /// it and the whitespace after it (continuations that repeat their prompt). A record without
    /// the field, or a document that does not start with it, is read whole. Not for plain text.
    pub prompt_field: Option<String>,
    /// The largest record, in bytes of its text as read (a line, a paragraph, a CSV row, a
    /// Parquet value); a larger one is an [`Error::RecordTooLarge`] naming its line, found
    /// before it is all in memory. A JSON document, read whole, may hold
    /// [`JSON_DOCUMENT_RECORDS`] times this. Default [`DEFAULT_MAX_RECORD_BYTES`].
    pub max_record_bytes: usize,
}

/// The default [`ReadOptions::max_record_bytes`]: 64 MiB, far above any real document (a whole
/// novel is about 1 MiB) and far below what would exhaust memory (a 2 MB `.gz` of one 2 GiB
/// line took the reader past 10 GB).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;

/// A JSON document (not JSONL) is parsed whole: at most this many times
/// [`ReadOptions::max_record_bytes`] (1 GiB by default). Larger inputs belong in JSONL.
pub const JSON_DOCUMENT_RECORDS: usize = 16;

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
            prompt_field: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

impl ReadOptions {
    /// The options the sources read with: the prompt field, if any, read as the last extra
    /// field, and its index there.
    fn with_prompt_extra(&self) -> (ReadOptions, Option<usize>) {
        let mut options = self.clone();
        let index = self.prompt_field.as_ref().map(|field| {
            options.extra_fields.push(field.clone());
            self.extra_fields.len()
        });
        (options, index)
    }

    pub(crate) fn field_name(&self) -> &str {
        self.field.as_deref().unwrap_or("text")
    }
}

/// The documents of one record: usually one; one per element of a JSON array field.
pub type Texts = SmallVec<[String; 1]>;

/// One record of an input, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's number: the line for text and JSONL (for a paragraph, its first line), the
    /// 1-based row for CSV and Parquet, the 1-based element of a JSON array.
    /// [`crate::write_records`] counts records the same way.
    pub number: u64,
    /// Its documents, never empty: a record whose array field is empty is no record.
    pub texts: Texts,
    /// With [`ReadOptions::extra_fields`]: those fields of the record, in order; empty otherwise.
    pub extras: Vec<Option<String>>,
    /// Where the record lies in its file, when the reader can read records again
    /// ([`DocReader::rereadable`]).
    pub span: Option<RecordSpan>,
}

impl Record {
    pub(crate) fn new(
        number: u64,
        texts: Texts,
        extras: Vec<Option<String>>,
        span: Option<RecordSpan>,
    ) -> Self {
        Self { number, texts, extras, span }
    }

    /// The record's documents as one text, joined by newlines (a single document is moved, not
    /// copied).
    pub fn into_joined(self) -> String {
        let mut texts = self.texts.into_iter();
        let mut joined = texts.next().unwrap_or_default();
        for text in texts {
            joined.push('\n');
            joined.push_str(&text);
        }
        joined
    }

    /// Extra field `index` ([`ReadOptions::extra_fields`]), if the record has it.
    pub fn extra(&self, index: usize) -> Option<&str> {
        self.extras.get(index).and_then(Option::as_deref)
    }
}

/// Where a record lies in an uncompressed text or JSONL file: its first byte and its length
/// (a paragraph's lines, or one line, with its line end), for [`crate::RecordRereader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSpan {
    /// Offset of the record's first byte.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// A batch of records, in input order.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    /// The records.
    pub records: Vec<Record>,
}

impl Batch {
    /// Every document of the batch, in order.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.records.iter().flat_map(|r| r.texts.iter().map(String::as_str))
    }

    /// Every document of the batch, in order, by value.
    pub fn into_texts(self) -> impl Iterator<Item = String> {
        self.records.into_iter().flat_map(|r| r.texts)
    }

    /// Documents in the batch.
    pub fn n_docs(&self) -> usize {
        self.records.iter().map(|r| r.texts.len()).sum()
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
    /// Documents read without their prompt ([`ReadOptions::prompt_field`]).
    pub prompts_stripped: u64,
}

impl ReadStats {
    /// Count a record skipped for `error`.
    pub(crate) fn skip(&mut self, error: &Error) {
        self.skipped += 1;
        if self.first_skipped.is_none() {
            self.first_skipped = Some(error.to_string());
        }
    }
}

impl std::ops::AddAssign<&ReadStats> for ReadStats {
    /// The counters of two inputs read one after the other.
    fn add_assign(&mut self, other: &ReadStats) {
        self.records += other.records;
        self.docs += other.docs;
        self.skipped += other.skipped;
        self.prompts_stripped += other.prompts_stripped;
        if self.first_skipped.is_none() {
            self.first_skipped.clone_from(&other.first_skipped);
        }
    }
}

/// Streams the records of one input. See the crate docs.
pub struct DocReader {
    path: PathBuf,
    options: Arc<ReadOptions>,
    source: Box<dyn RecordSource>,
    done: bool,
    stats: ReadStats,
    position: Arc<AtomicU64>,
    total_bytes: Option<u64>,
    /// Index of the prompt among the records' extras ([`ReadOptions::prompt_field`]).
    prompt: Option<usize>,
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
        let (options, prompt) = options.with_prompt_extra();
        let mut reader = Self::open_with(path.as_ref(), &options)?;
        reader.prompt = prompt;
        Ok(reader)
    }

    fn open_with(path: &Path, options: &ReadOptions) -> Result<Self> {
        let path = path.to_path_buf();
        let format = options.format.unwrap_or_else(|| Format::from_path(&path));
        let open_err = |source| Error::Open { path: path.clone(), source };
        if path.as_os_str() == "-" {
            return Self::from_stream(path, Box::new(io::stdin()), None, false, format, options);
        }
        let file = File::open(&path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if meta.is_dir() {
            return Err(open_err(io::Error::other("is a directory")));
        }
        if format == Format::Parquet {
            let source = ParquetSource::open(&path, file, options.field_name(), &options.extra_fields)?;
            return Ok(Self::with_source(path, options, Box::new(source), Some(meta.len())));
        }
        // a regular file can be read again at an offset; a pipe (`<(zcat …)`) cannot
        let regular_file = meta.is_file();
        Self::from_stream(path, Box::new(file), Some(meta.len()), regular_file, format, options)
    }

    /// Read an input held in memory (an upload, say); `name` names it in errors. Parquet needs a
    /// file.
    pub fn from_bytes(name: impl Into<PathBuf>, bytes: Vec<u8>, options: &ReadOptions) -> Result<Self> {
        let path = name.into();
        let (options, prompt) = options.with_prompt_extra();
        let format = options.format.unwrap_or_else(|| Format::from_path(&path));
        let total = bytes.len() as u64;
        let mut reader =
            Self::from_stream(path, Box::new(io::Cursor::new(bytes)), Some(total), false, format, &options)?;
        reader.prompt = prompt;
        Ok(reader)
    }

    fn with_source(
        path: PathBuf,
        options: &ReadOptions,
        source: Box<dyn RecordSource>,
        total_bytes: Option<u64>,
    ) -> Self {
        Self {
            path,
            options: Arc::new(options.clone()),
            source,
            done: false,
            stats: ReadStats::default(),
            position: Arc::new(AtomicU64::new(0)),
            total_bytes,
            prompt: None,
        }
    }

    /// A reader of a byte stream: decompressed when it is gzip or zstd, then parsed as `format`.
    /// Records carry their spans when `rereadable` (a regular file) and the stream is not
    /// compressed.
    fn from_stream(
        path: PathBuf,
        raw: Box<dyn Read + Send>,
        total_bytes: Option<u64>,
        rereadable: bool,
        format: Format,
        options: &ReadOptions,
    ) -> Result<Self> {
        let open_err = |source| Error::Open { path: path.clone(), source };
        let position = Arc::new(AtomicU64::new(0));
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
        // a UTF-8 byte order mark (Windows tools write one) is not part of the first record
        let mut decoded = decoded;
        let bom = decoded.fill_buf().map_err(open_err)?.starts_with(b"\xEF\xBB\xBF");
        if bom {
            decoded.consume(3);
        }
        let mut stats = ReadStats::default();
        let mut cx = Context { path: &path, options, stats: &mut stats };
        let source: Box<dyn RecordSource> = match format {
            Format::Parquet => return Err(Error::NeedsPlainFile { path, format: "Parquet" }),
            Format::Text | Format::Jsonl => {
                if format == Format::Text && options.prompt_field.is_some() {
                    return Err(Error::NoFields { path, what: "a prompt field" });
                }
                if format == Format::Text && !options.extra_fields.is_empty() {
                    return Err(Error::NoFields { path, what: "an extra field" });
                }
                let spans = rereadable && compression == Compression::None;
                let mut lines = LineSource::new(decoded, format == Format::Jsonl, 0, spans, 0);
                if bom {
                    lines.skipped(3);
                }
                Box::new(lines)
            }
            Format::Json => Box::new(JsonDocument::parse(decoded, &mut cx)?),
            Format::Csv => Box::new(CsvSource::open(Box::new(decoded), &cx)?),
        };
        let mut reader = Self::with_source(path, options, source, total_bytes);
        reader.position = position;
        reader.stats = stats;
        Ok(reader)
    }

    /// A reader of the lines of `bytes`, the first numbered `first_line` (for rereading a
    /// paragraph with the reader's own paragraph logic).
    pub(crate) fn of_lines(
        path: &Path,
        options: &ReadOptions,
        bytes: Vec<u8>,
        json: bool,
        first_line: u64,
    ) -> Self {
        let len = bytes.len();
        let source = LineSource::new(Box::new(io::Cursor::new(bytes)), json, first_line, false, len);
        Self::with_source(path.to_path_buf(), options, Box::new(source), Some(len as u64))
    }

    /// Whether each [`Record::span`] says where the record lies, for [`crate::RecordRereader`]:
    /// for uncompressed text and JSONL regular files (not stdin or a pipe).
    pub fn rereadable(&self) -> bool {
        self.source.rereadable()
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

    /// The next batch of records, or `None` at the end of the input.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        let mut batch = Batch::default();
        let mut bytes = 0usize;
        while bytes < self.options.batch_bytes {
            match self.next_unit(&mut batch.records)? {
                Some(n) => bytes += n,
                None => break,
            }
        }
        if let Some(index) = self.prompt {
            for record in &mut batch.records {
                let prompt = record.extras.get_mut(index).and_then(Option::take).filter(|p| !p.is_empty());
                record.extras.truncate(index);
                let Some(prompt) = prompt else { continue };
                for text in record.texts.iter_mut() {
                    if let Some(rest) = text.strip_prefix(prompt.as_str()) {
                        *text = rest.trim_start().to_string();
                        self.stats.prompts_stripped += 1;
                    }
                }
            }
        }
        self.stats.docs += batch.n_docs() as u64;
        if batch.records.is_empty() && self.done { Ok(None) } else { Ok(Some(batch)) }
    }

    /// Reads one unit of records (skipping bad records with `skip_invalid`); the bytes added,
    /// or `None` at the end.
    fn next_unit(&mut self, out: &mut Vec<Record>) -> Result<Option<usize>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let mut cx = Context { path: &self.path, options: &self.options, stats: &mut self.stats };
            match self.source.read(&mut cx, out) {
                Ok(None) => self.done = true,
                Ok(Some(n)) => return Ok(Some(n)),
                Err(e) if self.options.skip_invalid && e.is_skippable() => self.stats.skip(&e),
                Err(e) => return Err(e),
            }
        }
    }
}

/// Read every document of `path` into memory (tests, small inputs, `--compat` modes).
pub fn read_all(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Vec<String>> {
    let mut reader = DocReader::open(path, options)?;
    let mut docs = Vec::new();
    while let Some(batch) = reader.next_batch()? {
        docs.extend(batch.into_texts());
    }
    Ok(docs)
}

/// Open a file (or `-` for stdin) as a buffered line source, transparently decompressing gzip
/// and zstd. Used for side files such as word-frequency tables. A line longer than
/// [`DEFAULT_MAX_RECORD_BYTES`] is a read error (see [`open_text_limited`]).
pub fn open_text(path: impl AsRef<Path>) -> Result<Box<dyn BufRead + Send>> {
    open_text_limited(path, DEFAULT_MAX_RECORD_BYTES)
}

/// [`open_text`] with lines of at most `max_line` bytes: a longer one is an
/// [`io::ErrorKind::InvalidData`] error before it is all in memory.
pub fn open_text_limited(path: impl AsRef<Path>, max_line: usize) -> Result<Box<dyn BufRead + Send>> {
    let path = path.as_ref();
    let open_err = |source| Error::Open { path: path.to_path_buf(), source };
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(open_err)?)
    };
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let head = buffered.fill_buf().map_err(open_err)?;
    let decoded: Box<dyn BufRead + Send> = match Compression::sniff(head) {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(buffered))),
        Compression::Zstd => {
            Box::new(BufReader::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(open_err)?))
        }
    };
    Ok(Box::new(LineLimited { inner: decoded, since_newline: 0, limit: max_line }))
}

/// Read a whole side file (a tokenizer, a profile, a model) of at most `limit` bytes: a larger
/// one (or an endless one, `/dev/zero`) is an [`Error::FileTooLarge`] after `limit` bytes.
pub fn read_file_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|source| Error::Open { path: path.to_path_buf(), source })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::Open { path: path.to_path_buf(), source: io::Error::other("is a directory") });
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        location: Location::Record(0),
        source,
    })?;
    if bytes.len() as u64 > limit {
        return Err(Error::FileTooLarge { path: path.to_path_buf(), limit });
    }
    Ok(bytes)
}

/// A line source that fails once more than `limit` bytes come without a newline.
struct LineLimited {
    inner: Box<dyn BufRead + Send>,
    since_newline: usize,
    limit: usize,
}

impl Read for LineLimited {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for LineLimited {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_newline > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a line longer than {} bytes, the most one may hold", self.limit),
            ));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // the buffer is already filled: this reads nothing
        if let Ok(available) = self.inner.fill_buf() {
            let consumed = &available[..amount.min(available.len())];
            self.since_newline = match memchr::memrchr(b'\n', consumed) {
                Some(i) => consumed.len() - i - 1,
                None => self.since_newline.saturating_add(consumed.len()),
            };
        }
        self.inner.consume(amount);
    }
}
