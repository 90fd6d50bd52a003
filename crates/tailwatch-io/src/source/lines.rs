//! Plain text (one document per line, or paragraphs) and JSONL, line by line.
use std::io::BufRead;

use super::{Context, RecordSource};
use crate::decode::decode_str;
use crate::json_fields::{extra_values, json_line};
use crate::{DocSeparator, Error, Location, Record, RecordSpan, Result, Texts};

/// Lines of a text or JSONL input.
pub(crate) struct LineSource {
    reader: Box<dyn BufRead + Send>,
    json: bool,
    /// The number of the last line read.
    line: u64,
    /// The paragraph being gathered (paragraph mode), its first line and its first byte.
    paragraph: String,
    paragraph_start: u64,
    paragraph_offset: u64,
    /// The line being read, reused (a fresh buffer per line would grow by doubling each time).
    buf: Vec<u8>,
    /// Bytes of the (decoded) input consumed so far.
    offset: u64,
    /// Whether offsets are file offsets (an uncompressed file), kept in [`Record::span`].
    spans: bool,
    finished: bool,
}

impl LineSource {
    /// Lines of `reader`, the first numbered `first_line`, read into a buffer of `capacity`.
    pub(crate) fn new(
        reader: Box<dyn BufRead + Send>,
        json: bool,
        first_line: u64,
        spans: bool,
        capacity: usize,
    ) -> Self {
        Self {
            reader,
            json,
            line: first_line.saturating_sub(1),
            paragraph: String::new(),
            paragraph_start: 0,
            paragraph_offset: 0,
            buf: Vec::with_capacity(capacity),
            offset: 0,
            spans,
            finished: false,
        }
    }

    /// `bytes` at the start were consumed before the first line (a byte order mark): offsets
    /// count from the start of the file.
    pub(crate) fn skipped(&mut self, bytes: u64) {
        self.offset += bytes;
    }

    fn span(&self, offset: u64, end: u64) -> Option<RecordSpan> {
        self.spans.then_some(RecordSpan { offset, len: end - offset })
    }
}

impl RecordSource for LineSource {
    fn rereadable(&self) -> bool {
        self.spans
    }

    fn read(&mut self, cx: &mut Context<'_>, out: &mut Vec<Record>) -> Result<Option<usize>> {
        if self.finished {
            return Ok(None);
        }
        loop {
            self.buf.clear();
            let line_offset = self.offset;
            let limit = cx.options.max_record_bytes;
            let n = read_line_bounded(&mut *self.reader, &mut self.buf, limit).map_err(|source| {
                Error::Read { path: cx.path.to_path_buf(), location: Location::Line(self.line), source }
            })?;
            let ending = match self.buf.as_slice() {
                [.., b'\r', b'\n'] => 2,
                [.., b'\n' | b'\r'] => 1,
                _ => 0,
            };
            if self.buf.len() - ending > limit {
                return Err(Error::RecordTooLarge {
                    path: cx.path.to_path_buf(),
                    location: Location::Line(self.line + 1),
                    limit,
                });
            }
            if n == 0 {
                self.finished = true;
                let last = std::mem::take(&mut self.paragraph);
                if last.is_empty() {
                    return Ok(None);
                }
                let len = last.len();
                let span = self.span(self.paragraph_offset, self.offset);
                out.push(Record::new(self.paragraph_start, Texts::from_elem(last, 1), Vec::new(), span));
                return Ok(Some(len));
            }
            self.offset += n as u64;
            self.line += 1;
            cx.stats.records += 1;
            let location = Location::Line(self.line);
            while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                self.buf.pop();
            }
            // borrowed from the line's buffer: a JSONL line is parsed in place, a text line copied
            // into a document of its own size
            let text = decode_str(cx.path, location, &self.buf, cx.options.lossy)?;
            let span =
                self.spans.then_some(RecordSpan { offset: line_offset, len: self.offset - line_offset });
            if self.json {
                if text.trim().is_empty() {
                    continue;
                }
                let (texts, value) = json_line(cx.path, cx.options, location, &text)?;
                let extras = if cx.options.extra_fields.is_empty() {
                    Vec::new()
                } else {
                    extra_values(&value, cx.options)
                };
                let bytes = texts.iter().map(|d| d.len() + 1).sum::<usize>().max(1);
                if !texts.is_empty() {
                    out.push(Record::new(self.line, texts, extras, span));
                }
                return Ok(Some(bytes));
            }
            let blank = text.trim().is_empty();
            match cx.options.doc_separator {
                DocSeparator::Line => {
                    if blank {
                        continue;
                    }
                    let len = text.len();
                    out.push(Record::new(
                        self.line,
                        Texts::from_elem(text.into_owned(), 1),
                        Vec::new(),
                        span,
                    ));
                    return Ok(Some(len + 1));
                }
                DocSeparator::Blank => {
                    if blank {
                        if self.paragraph.is_empty() {
                            continue;
                        }
                        let doc = std::mem::take(&mut self.paragraph);
                        let len = doc.len();
                        let span = self.span(self.paragraph_offset, line_offset);
                        out.push(Record::new(
                            self.paragraph_start,
                            Texts::from_elem(doc, 1),
                            Vec::new(),
                            span,
                        ));
                        return Ok(Some(len + 1));
                    }
                    if self.paragraph.is_empty() {
                        self.paragraph_start = self.line;
                        self.paragraph_offset = line_offset;
                    } else {
                        self.paragraph.push('\n');
                    }
                    self.paragraph.push_str(&text);
                    if self.paragraph.len() > cx.options.max_record_bytes {
                        return Err(Error::RecordTooLarge {
                            path: cx.path.to_path_buf(),
                            location: Location::Line(self.paragraph_start),
                            limit: cx.options.max_record_bytes,
                        });
                    }
                }
            }
        }
    }
}

/// `read_until(b'\n')`, but it stops once `buf` holds more than `limit` bytes and a `\r` without
/// a newline,
/// so one endless line (`/dev/zero`, a 2 GiB line in a 2 MB `.gz`) never fills memory.
fn read_line_bounded(reader: &mut dyn BufRead, buf: &mut Vec<u8>, limit: usize) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(read);
        }
        let (done, used) = match memchr::memchr(b'\n', available) {
            Some(i) => (true, i + 1),
            None => (false, available.len()),
        };
        buf.extend_from_slice(&available[..used]);
        reader.consume(used);
        read += used;
        if done || buf.len() > limit.saturating_add(1) {
            return Ok(read);
        }
    }
}
