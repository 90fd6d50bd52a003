//! [`write_records`]: copy the chosen records of an input to an output in the input's format.
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression as ParquetCompression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde_json::value::RawValue;

use crate::{DocSeparator, Error, Format, Location, ReadOptions, Result};

/// Copy the records of `input` whose numbers (as [`crate::Record::number`] counts them) are in
/// `keep` to `output`, in the input's format, and return how many were written.
///
/// Bytes are kept as they are: whole lines for text and JSONL (blank lines, which are not
/// records, are dropped), whole paragraphs (re-separated by one blank line) in paragraph mode,
/// each array element's exact JSON text for a JSON document (written as a JSON array).
/// CSV rows are re-written field by field with the same header (values untouched; quoting may
/// become minimal). Parquet rows are filtered and written with the input's schema (zstd
/// compression). The output is compressed when its name ends in `.gz` or `.zst`. It is an
/// [`crate::OutputFile`], so a failure never leaves a partial file. `input` must be a file (stdin
/// cannot be read twice).
pub fn write_records(input: &Path, options: &ReadOptions, keep: &HashSet<u64>, output: &Path) -> Result<u64> {
    let format = options.format.unwrap_or_else(|| Format::from_path(input));
    let write_err =
        |e: &dyn std::fmt::Display| Error::Write { path: output.to_path_buf(), message: e.to_string() };
    let target = crate::OutputFile::create(output)?;
    let file = || target.file().try_clone().map_err(|e| write_err(&e));
    let written = if format == Format::Parquet {
        write_parquet(input, keep, file()?, output)?
    } else {
        let mut sink = compressed_writer(output, file()?).map_err(|e| write_err(&e))?;
        // the records were read under the limit before; a JSON document may hold more
        let reader =
            open_decoded(input, options.max_record_bytes.saturating_mul(crate::JSON_DOCUMENT_RECORDS))?;
        let n = match format {
            Format::Text | Format::Jsonl => copy_lines(input, reader, options, keep, &mut sink)?,
            Format::Csv => copy_csv(input, reader, keep, &mut sink)?,
            Format::Json => copy_json(input, reader, options, keep, &mut sink)?,
            Format::Parquet => unreachable!("handled above"),
        };
        sink.finish().map_err(|e| write_err(&e))?;
        n
    };
    target.finish()?;
    Ok(written)
}

/// A writer that compresses by the output's extension; `finish` flushes everything.
struct Sink {
    inner: Box<dyn FinishWrite>,
}

trait FinishWrite: Write {
    fn finish_boxed(self: Box<Self>) -> io::Result<()>;
}

impl FinishWrite for BufWriter<File> {
    fn finish_boxed(mut self: Box<Self>) -> io::Result<()> {
        self.flush()
    }
}

impl FinishWrite for flate2::write::GzEncoder<BufWriter<File>> {
    fn finish_boxed(self: Box<Self>) -> io::Result<()> {
        (*self).finish()?.flush()
    }
}

impl FinishWrite for zstd::stream::write::Encoder<'static, BufWriter<File>> {
    fn finish_boxed(self: Box<Self>) -> io::Result<()> {
        (*self).finish()?.flush()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Sink {
    fn finish(self) -> io::Result<()> {
        self.inner.finish_boxed()
    }
}

fn compressed_writer(output: &Path, file: File) -> io::Result<Sink> {
    let name = output.to_string_lossy().to_ascii_lowercase();
    let buffered = BufWriter::with_capacity(1 << 16, file);
    let inner: Box<dyn FinishWrite> = if name.ends_with(".gz") {
        Box::new(flate2::write::GzEncoder::new(buffered, flate2::Compression::default()))
    } else if name.ends_with(".zst") {
        Box::new(zstd::stream::write::Encoder::new(buffered, 3)?)
    } else {
        Box::new(buffered)
    };
    Ok(Sink { inner })
}

fn open_decoded(input: &Path, max_line: usize) -> Result<Box<dyn BufRead + Send>> {
    if input.as_os_str() == "-" {
        return Err(Error::Open {
            path: input.to_path_buf(),
            source: io::Error::other("stdin cannot be read a second time to copy records"),
        });
    }
    crate::open_text_limited(input, max_line)
}

fn read_error(input: &Path, location: Location, source: io::Error) -> Error {
    Error::Read { path: input.to_path_buf(), location, source }
}

fn output_error(source: io::Error) -> Error {
    Error::Write { path: PathBuf::from("<output>"), message: source.to_string() }
}

fn copy_lines(
    input: &Path,
    mut reader: Box<dyn BufRead + Send>,
    options: &ReadOptions,
    keep: &HashSet<u64>,
    out: &mut Sink,
) -> Result<u64> {
    let format = options.format.unwrap_or_else(|| Format::from_path(input));
    let paragraphs = options.doc_separator == DocSeparator::Blank && format == Format::Text;
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut written = 0u64;
    let mut paragraph_start: Option<u64> = None;
    let mut paragraph: Vec<u8> = Vec::new();
    let flush_paragraph = |paragraph: &mut Vec<u8>, start: Option<u64>, out: &mut Sink| -> Result<u64> {
        let mut n = 0;
        if let Some(start) = start
            && keep.contains(&start)
        {
            if paragraph.last() != Some(&b'\n') {
                paragraph.push(b'\n');
            }
            paragraph.push(b'\n');
            out.write_all(paragraph).map_err(output_error)?;
            n = 1;
        }
        paragraph.clear();
        Ok(n)
    };
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| read_error(input, Location::Line(line), e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let content_end = buf.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |i| i + 1);
        let blank = buf[..content_end].iter().all(|b| b.is_ascii_whitespace());
        if paragraphs {
            if blank {
                written += flush_paragraph(&mut paragraph, paragraph_start.take(), out)?;
            } else {
                paragraph_start.get_or_insert(line);
                paragraph.extend_from_slice(&buf);
            }
        } else if !blank && keep.contains(&line) {
            out.write_all(&buf).map_err(output_error)?;
            written += 1;
        }
    }
    if paragraphs {
        written += flush_paragraph(&mut paragraph, paragraph_start.take(), out)?;
    }
    Ok(written)
}

fn copy_csv(
    input: &Path,
    reader: Box<dyn BufRead + Send>,
    keep: &HashSet<u64>,
    out: &mut Sink,
) -> Result<u64> {
    let mut csv_reader =
        csv::ReaderBuilder::new().has_headers(true).from_reader(Box::new(reader) as Box<dyn Read>);
    let csv_err = |e: csv::Error| Error::Csv {
        path: input.to_path_buf(),
        location: Location::Line(e.position().map_or(0, |p| p.line())),
        message: e.to_string(),
    };
    let headers = csv_reader.byte_headers().map_err(csv_err)?.clone();
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_byte_record(&headers).map_err(|e| output_error(io::Error::other(e)))?;
    let mut record = csv::ByteRecord::new();
    let (mut row, mut written) = (0u64, 0u64);
    while csv_reader.read_byte_record(&mut record).map_err(csv_err)? {
        row += 1;
        if keep.contains(&row) {
            writer.write_byte_record(&record).map_err(|e| output_error(io::Error::other(e)))?;
            written += 1;
        }
    }
    writer.flush().map_err(output_error)?;
    Ok(written)
}

fn copy_json(
    input: &Path,
    mut reader: Box<dyn BufRead + Send>,
    options: &ReadOptions,
    keep: &HashSet<u64>,
    out: &mut Sink,
) -> Result<u64> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| read_error(input, Location::Record(0), e))?;
    let text = if options.lossy {
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        String::from_utf8(bytes).map_err(|e| Error::Utf8 {
            path: input.to_path_buf(),
            location: Location::Line(1),
            offset: e.utf8_error().valid_up_to(),
        })?
    };
    let json_err = |e: serde_json::Error| Error::Json {
        path: input.to_path_buf(),
        location: Location::Line(e.line() as u64),
        message: e.to_string(),
    };
    let elements: Vec<&RawValue> = if text.trim_start().starts_with('[') {
        serde_json::from_str(&text).map_err(json_err)?
    } else {
        vec![serde_json::from_str(&text).map_err(json_err)?]
    };
    out.write_all(b"[").map_err(output_error)?;
    let mut written = 0u64;
    for (i, element) in elements.iter().enumerate() {
        if keep.contains(&(i as u64 + 1)) {
            out.write_all(if written == 0 { b"\n" } else { b",\n" }).map_err(output_error)?;
            out.write_all(element.get().as_bytes()).map_err(output_error)?;
            written += 1;
        }
    }
    out.write_all(b"\n]\n").map_err(output_error)?;
    Ok(written)
}

fn write_parquet(input: &Path, keep: &HashSet<u64>, file: File, output: &Path) -> Result<u64> {
    let parquet_err =
        |e: &dyn std::fmt::Display| Error::Parquet { path: input.to_path_buf(), message: e.to_string() };
    let write_err =
        |e: &dyn std::fmt::Display| Error::Write { path: output.to_path_buf(), message: e.to_string() };
    let name = output.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".gz") || name.ends_with(".zst") {
        return Err(write_err(&"Parquet output is compressed internally; drop the .gz/.zst suffix"));
    }
    let source = File::open(input).map_err(|e| Error::Open { path: input.to_path_buf(), source: e })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(source).map_err(|e| parquet_err(&e))?;
    let schema = builder.schema().clone();
    let reader = builder.with_batch_size(8192).build().map_err(|e| parquet_err(&e))?;
    let properties =
        WriterProperties::builder().set_compression(ParquetCompression::ZSTD(ZstdLevel::default())).build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(properties)).map_err(|e| write_err(&e))?;
    let (mut row, mut written) = (0u64, 0u64);
    for batch in reader {
        let batch = batch.map_err(|e| parquet_err(&e))?;
        let mask: arrow_array::BooleanArray =
            (0..batch.num_rows()).map(|i| Some(keep.contains(&(row + i as u64 + 1)))).collect();
        row += batch.num_rows() as u64;
        let kept = arrow_select::filter::filter_record_batch(&batch, &mask).map_err(|e| parquet_err(&e))?;
        written += kept.num_rows() as u64;
        writer.write(&kept).map_err(|e| write_err(&e))?;
    }
    writer.close().map_err(|e| write_err(&e))?;
    Ok(written)
}
