//! Reading a delimited text table incrementally: the caller feeds chunks of bytes as they are read (in the
//! browser, slices of a `File`), so a large file is never held whole and progress can be shown.
//!
//! Records are split by `csv-core` (the state machine under the `csv` crate), which handles quoted fields
//! with delimiters, quotes and line breaks inside, and LF, CR and CRLF line ends. Around it this module
//! decides the delimiter, the header and each column's type, and keeps every row's byte offset so that the
//! original text can be read back unchanged for the download.

use std::collections::{HashMap, HashSet};

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};
use serde::{Deserialize, Serialize};

use super::column::{numeric_value, read_number, Cell, Column, ColumnBuilder};
use super::error::{cut_for_a_sentence, human_bytes, TableError};
use super::sniff;

mod split;

/// The largest file accepted: its numbers (4 bytes each) and row offsets must fit in one tab's memory
/// next to the model, and 32-bit WebAssembly addresses 4 GB at most.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
pub const MAX_COLUMNS: usize = 1_000;
/// Longest record accepted, in bytes.
const MAX_RECORD_BYTES: usize = 16 << 20;
/// Bytes looked at before guessing the delimiter.
const SNIFF_BYTES: usize = 64 * 1024;
/// Rows looked at before deciding which columns hold numbers.
const TYPE_SAMPLE_ROWS: usize = 256;

/// How the file is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialect {
    pub delimiter: u8,
    pub has_header: bool,
    /// A UTF-8 byte-order mark precedes the first line (and is kept in the download).
    pub bom: bool,
    /// Lines end in CRLF (the download's added text ends its lines the same way).
    pub crlf: bool,
}

impl Dialect {
    pub fn delimiter_name(&self) -> &'static str {
        match self.delimiter {
            b',' => "comma",
            b';' => "semicolon",
            b'\t' => "tab",
            b'|' => "vertical bar",
            _ => "other",
        }
    }

    pub(crate) fn reader(&self) -> Reader {
        ReaderBuilder::new().delimiter(self.delimiter).build()
    }
}

/// A parsed table: columns of numbers (or a few text values), plus where each row sits in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub dialect: Dialect,
    pub columns: Vec<Column>,
    /// Byte range of the header line in the file, when there is one.
    pub header_span: Option<(u64, u64)>,
    /// Where each data row starts in the file, plus one final entry where the last one ends. A row's
    /// original text is the bytes between its start and the next, without line ends.
    pub row_starts: Vec<u64>,
    /// Line number (from 1) of each data row's first line, for messages and the top-rows table.
    pub row_lines: Vec<u64>,
    /// Things a visitor should know that did not stop the parse (renamed duplicate columns…).
    pub notes: Vec<String>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.row_starts.len().saturating_sub(1)
    }

    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name().to_string()).collect()
    }

    /// The byte range of row `row`'s original text (line ends included; see [`trim_line_ends`]).
    pub fn row_span(&self, row: usize) -> (u64, u64) {
        (self.row_starts[row], self.row_starts[row + 1])
    }
}

/// Refuses a file that is too large before any of it is read.
pub fn check_size(bytes: u64) -> Result<(), TableError> {
    if bytes > MAX_FILE_BYTES {
        return Err(TableError::TooLarge { size: human_bytes(bytes), limit: human_bytes(MAX_FILE_BYTES) });
    }
    Ok(())
}

/// A record's bytes without the line ends around it (a record's span begins after the previous
/// record's last consumed byte, so it can start with the rest of a CRLF or with blank lines).
pub fn trim_line_ends(raw: &[u8]) -> &[u8] {
    let start = raw.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(raw.len());
    let end = raw.iter().rposition(|&b| b != b'\r' && b != b'\n').map_or(start, |p| p + 1);
    &raw[start..end.max(start)]
}

/// Splits one record's text into its fields (for showing a row's original values).
pub fn split_record(raw: &[u8], dialect: &Dialect) -> Vec<String> {
    FieldSplitter::new(dialect).split(raw)
}

/// Splits records one at a time, reusing one reader: building csv-core's reader costs far more than
/// splitting a line, and the download splits every line that might hold a formula (any line with a
/// negative number).
#[derive(Clone, Debug)]
pub struct FieldSplitter {
    reader: Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl FieldSplitter {
    pub fn new(dialect: &Dialect) -> Self {
        Self { reader: dialect.reader(), out: Vec::new(), ends: Vec::new() }
    }

    pub fn split(&mut self, raw: &[u8]) -> Vec<String> {
        self.reader.reset();
        self.out.resize(raw.len() + 1, 0);
        self.ends.resize(raw.len() + 2, 0);
        let (mut input, mut out_len, mut ends_len) = (raw, 0, 0);
        loop {
            let (result, nin, nout, nend) = self.reader.read_record(input, &mut self.out[out_len..], &mut self.ends[ends_len..]);
            input = &input[nin..];
            out_len += nout;
            ends_len += nend;
            match result {
                ReadRecordResult::InputEmpty => continue, // the empty input that follows means "end of input"
                ReadRecordResult::Record | ReadRecordResult::End => break,
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => break, // cannot happen: sized above
            }
        }
        let mut start = 0;
        self.ends[..ends_len]
            .iter()
            .map(|&end| {
                let field = String::from_utf8_lossy(&self.out[start..end]).into_owned();
                start = end;
                field
            })
            .collect()
    }
}

/// Feeds on chunks; [`TableParser::finish`] returns the table or the first problem, located.
pub struct TableParser {
    sniff_buffer: Vec<u8>,
    state: Option<Box<Parsing>>,
    streaming: bool,
}

struct Parsing {
    dialect: Dialect,
    reader: Reader,
    record: Vec<u8>,
    ends: Vec<usize>,
    record_len: usize,
    ends_len: usize,
    /// Bytes of the file handed to the reader so far, counting the byte-order mark.
    consumed: u64,
    record_start: u64,
    header_decided: bool,
    names: Vec<String>,
    header_span: Option<(u64, u64)>,
    /// The first rows, kept until the column types are decided.
    sample: Vec<(Vec<Vec<u8>>, u64)>,
    columns: Vec<ColumnBuilder>,
    row_starts: Vec<u64>,
    row_lines: Vec<u64>,
    notes: Vec<String>,
    /// Data lines that repeat the header (files joined end to end): how many, and the first one's line.
    repeated_header: (u64, u64),
    /// Streaming mode: rows are not kept as columns but handed out through [`TableParser::drain_rows`].
    streamed: Option<Streamed>,
}

/// Rows parsed since the last [`TableParser::drain_rows`]: every cell read as a number (NaN when it is
/// not one, exactly as a numeric column stores it), and each row's byte range in the file.
#[derive(Debug, Default)]
struct Streamed {
    values: Vec<f32>,
    spans: Vec<(u64, u64)>,
    rows: u64,
    /// Columns whose cells are read as numbers; the others come out as NaN without being looked at.
    /// None reads every column.
    wanted: Option<Vec<bool>>,
}

impl Default for TableParser {
    fn default() -> Self {
        Self::new()
    }
}

impl TableParser {
    pub fn new() -> Self {
        Self { sniff_buffer: Vec::new(), state: None, streaming: false }
    }

    /// A parser that keeps no rows: the same dialect, header and line checks as [`Self::new`], but each
    /// row's numbers and byte range are handed out by [`Self::drain_rows`], so a file of any size streams
    /// through in bounded memory (the native scorer).
    pub fn streaming() -> Self {
        Self { sniff_buffer: Vec::new(), state: None, streaming: true }
    }

    /// Once the first record is read: the dialect, the column names, and the header's byte range.
    pub fn header(&self) -> Option<(&Dialect, &[String], Option<(u64, u64)>)> {
        self.state.as_ref().filter(|s| s.header_decided).map(|s| (&s.dialect, s.names.as_slice(), s.header_span))
    }

    /// Streaming mode: read only these columns' numbers (by position; the rest come out as NaN), which
    /// saves most of the work when a few columns of many are needed, or none at all.
    pub fn read_only_columns(&mut self, wanted: Vec<bool>) {
        if let Some(streamed) = self.state.as_mut().and_then(|s| s.streamed.as_mut()) {
            streamed.wanted = Some(wanted);
        }
    }

    /// Streaming mode: moves the rows parsed so far into `values` (one number per column per row) and
    /// `spans` (each row's byte range).
    pub fn drain_rows(&mut self, values: &mut Vec<f32>, spans: &mut Vec<(u64, u64)>) {
        if let Some(streamed) = self.state.as_mut().and_then(|s| s.streamed.as_mut()) {
            values.append(&mut streamed.values);
            spans.append(&mut streamed.spans);
        }
    }

    /// Streaming mode: reads the end of the input (the last row may only end there); then drain once more.
    pub fn finish_streaming(&mut self) -> Result<(), TableError> {
        if self.state.is_none() {
            self.start()?;
        }
        let state = self.state.as_mut().expect("started above");
        state.consume(&[], true)?;
        if !state.header_decided {
            return Err(TableError::Empty);
        }
        if state.streamed.as_ref().is_some_and(|s| s.rows == 0) {
            return Err(TableError::HeaderOnly);
        }
        Ok(())
    }

    /// Bytes consumed so far (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        self.state.as_ref().map_or(self.sniff_buffer.len() as u64, |s| s.consumed)
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), TableError> {
        if chunk.is_empty() {
            return Ok(());
        }
        match &mut self.state {
            Some(state) => state.consume(chunk, false),
            None => {
                self.sniff_buffer.extend_from_slice(chunk);
                if self.sniff_buffer.len() >= SNIFF_BYTES {
                    self.start()?;
                }
                Ok(())
            }
        }
    }

    pub fn finish(mut self) -> Result<Table, TableError> {
        if self.state.is_none() {
            self.start()?;
        }
        let mut state = self.state.take().expect("started above");
        state.consume(&[], true)?;
        state.into_table()
    }

    /// Looks at the first bytes, decides the dialect, and parses them.
    fn start(&mut self) -> Result<(), TableError> {
        let buffer = std::mem::take(&mut self.sniff_buffer);
        if buffer.starts_with(&[0xFF, 0xFE]) || buffer.starts_with(&[0xFE, 0xFF]) {
            return Err(TableError::Utf16);
        }
        if let Some(at) = buffer.iter().position(|&b| b == 0) {
            return Err(TableError::Binary { offset: at as u64 });
        }
        let bom = buffer.starts_with(&[0xEF, 0xBB, 0xBF]);
        let body = if bom { &buffer[3..] } else { &buffer[..] };
        if body.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(TableError::Empty);
        }
        let dialect = Dialect {
            delimiter: sniff::delimiter(body),
            has_header: false, // decided from the first record
            bom,
            crlf: sniff::uses_crlf(body),
        };
        let consumed = if bom { 3 } else { 0 };
        let mut state = Box::new(Parsing {
            reader: dialect.reader(),
            dialect,
            record: vec![0; 4096],
            ends: vec![0; 64],
            record_len: 0,
            ends_len: 0,
            consumed,
            record_start: consumed,
            header_decided: false,
            names: Vec::new(),
            header_span: None,
            sample: Vec::new(),
            columns: Vec::new(),
            row_starts: Vec::new(),
            row_lines: Vec::new(),
            notes: Vec::new(),
            repeated_header: (0, 0),
            streamed: self.streaming.then(Streamed::default),
        });
        state.consume(body, false)?;
        self.state = Some(state);
        Ok(())
    }
}

impl Parsing {
    fn consume(&mut self, chunk: &[u8], end_of_input: bool) -> Result<(), TableError> {
        let mut input = chunk;
        // Once per chunk, at the first record's end (and once the column types are known), the rest of the
        // chunk may be parsed on every thread.
        let mut may_split = !end_of_input;
        loop {
            if may_split && self.record_start == self.consumed && !self.columns.is_empty() {
                may_split = false;
                input = &input[self.consume_split(input)?..];
            }
            // csv-core reads an empty input as the end of the file, so only pass one when it is.
            if input.is_empty() && !end_of_input {
                return Ok(());
            }
            let (result, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.record[self.record_len..],
                &mut self.ends[self.ends_len..],
            );
            let ended_with_newline = nin > 0 && input[nin - 1] == b'\n';
            input = &input[nin..];
            self.consumed += nin as u64;
            self.record_len += nout;
            self.ends_len += nend;
            match result {
                ReadRecordResult::InputEmpty => {
                    if end_of_input && input.is_empty() && nin == 0 && nout == 0 && nend == 0 {
                        return Ok(());
                    }
                }
                ReadRecordResult::OutputFull => {
                    if self.record.len() >= MAX_RECORD_BYTES {
                        return Err(TableError::LineTooLong {
                            line: self.reader.line(),
                            limit_mb: (MAX_RECORD_BYTES >> 20) as u64,
                        });
                    }
                    let grown = self.record.len() * 2;
                    self.record.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() > MAX_COLUMNS {
                        return Err(TableError::TooManyColumns {
                            line: self.reader.line(),
                            found: self.ends.len(),
                            limit: MAX_COLUMNS,
                        });
                    }
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    // The reader's line counter has passed this record's line breaks; step back over them.
                    let breaks_inside = self.record[..self.record_len].iter().filter(|&&b| b == b'\n').count() as u64;
                    let line = self.reader.line().saturating_sub(u64::from(ended_with_newline) + breaks_inside).max(1);
                    self.on_record(line)?;
                    self.record_len = 0;
                    self.ends_len = 0;
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }

    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends[..self.ends_len].iter().map(move |&end| {
            let field = &self.record[start..end];
            start = end;
            field
        })
    }

    fn on_record(&mut self, line: u64) -> Result<(), TableError> {
        let span = (self.record_start, self.consumed);
        self.record_start = self.consumed;
        if !self.header_decided {
            self.header_decided = true;
            if self.ends_len > MAX_COLUMNS {
                return Err(TableError::TooManyColumns { line, found: self.ends_len, limit: MAX_COLUMNS });
            }
            // A first row with any cell that is not a number (and not empty) is a header.
            let is_header = self.fields().any(|f| matches!(read_number(f), Cell::NotNumber));
            if is_header {
                self.dialect.has_header = true;
                self.header_span = Some(span);
                self.names = self.header_names(line)?;
                return Ok(());
            }
            self.names = (1..=self.ends_len).map(|k| format!("column {k}")).collect();
        }
        if self.ends_len != self.names.len() {
            return Err(TableError::Ragged {
                line,
                found: self.ends_len,
                expected: self.names.len(),
                delimiter: delimiter_text(self.dialect.delimiter),
            });
        }
        if let Some(streamed) = self.streamed.as_mut() {
            let mut start = 0;
            for (k, &end) in self.ends[..self.ends_len].iter().enumerate() {
                let wanted = streamed.wanted.as_ref().is_none_or(|w| w.get(k).copied().unwrap_or(false));
                streamed.values.push(if wanted { numeric_value(&self.record[start..end]) } else { f32::NAN });
                start = end;
            }
            streamed.spans.push(span);
            streamed.rows += 1;
            return Ok(());
        }
        self.row_starts.push(span.0);
        self.row_lines.push(line);
        if self.dialect.has_header && self.repeats_header() {
            if self.repeated_header.0 == 0 {
                self.repeated_header.1 = line;
            }
            self.repeated_header.0 += 1;
        }
        if self.columns.is_empty() {
            let row = self.fields().map(<[u8]>::to_vec).collect();
            self.sample.push((row, line));
            if self.sample.len() == TYPE_SAMPLE_ROWS {
                self.decide_columns()?;
            }
            return Ok(());
        }
        let mut start = 0;
        for (k, column) in self.columns.iter_mut().enumerate() {
            let end = self.ends[k];
            column
                .push(&self.record[start..end], line)
                .map_err(|()| TableError::NotUtf8 { line, column: column.name.clone() })?;
            start = end;
        }
        Ok(())
    }

    /// Whether the current record is the header again (its first cell is checked first, so that ordinary
    /// rows cost one comparison).
    fn repeats_header(&self) -> bool {
        let mut fields = self.fields().zip(&self.names);
        let same = |(field, name): (&[u8], &String)| field.trim_ascii() == name.as_bytes();
        fields.next().is_some_and(same) && fields.all(same)
    }

    /// Names from the header: trimmed, never empty, and unique (a repeated name gets " (2)", " (3)"…),
    /// with one note for all the renamed columns. Each name is looked up in a set and each repeated name
    /// remembers its last number, so a thousand copies of one name cost a thousand steps, not a billion.
    fn header_names(&mut self, line: u64) -> Result<Vec<String>, TableError> {
        let mut names: Vec<String> = Vec::with_capacity(self.ends_len);
        let mut taken: HashSet<String> = HashSet::with_capacity(self.ends_len);
        let mut last_copy: HashMap<String, usize> = HashMap::new();
        let mut renamed: Vec<(usize, String, String)> = Vec::new();
        for (k, field) in self.fields().enumerate() {
            let text = std::str::from_utf8(field)
                .map_err(|_| TableError::NotUtf8 { line, column: format!("{}", k + 1) })?
                .trim();
            let base = if text.is_empty() { format!("column {}", k + 1) } else { text.to_string() };
            let name = if taken.contains(&base) {
                let copy = last_copy.entry(base.clone()).or_insert(1);
                loop {
                    *copy += 1;
                    let candidate = format!("{base} ({copy})");
                    if !taken.contains(&candidate) {
                        break candidate;
                    }
                }
            } else {
                base.clone()
            };
            if name != base {
                renamed.push((k + 1, base, name.clone()));
            }
            taken.insert(name.clone());
            names.push(name);
        }
        self.notes.extend(renamed_note(&renamed));
        Ok(names)
    }

    /// Decides from the sampled rows which columns hold numbers, then parses those rows into columns.
    fn decide_columns(&mut self) -> Result<(), TableError> {
        let sample = std::mem::take(&mut self.sample);
        self.columns = self
            .names
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let (mut numbers, mut text) = (0usize, 0usize);
                for (row, _) in &sample {
                    match read_number(&row[k]) {
                        Cell::Number(_) | Cell::NonFinite => numbers += 1,
                        Cell::NotNumber => text += 1,
                        Cell::Missing => {}
                    }
                }
                // Mostly numbers (a stray typo stays a typo); an all-empty column is numeric and missing.
                let numeric = numbers * 4 >= (numbers + text) * 3;
                ColumnBuilder::new(name.clone(), numeric)
            })
            .collect();
        for (row, line) in &sample {
            for (column, cell) in self.columns.iter_mut().zip(row) {
                column.push(cell, *line).map_err(|()| TableError::NotUtf8 { line: *line, column: column.name.clone() })?;
            }
        }
        Ok(())
    }

    fn into_table(mut self) -> Result<Table, TableError> {
        if !self.header_decided {
            return Err(TableError::Empty);
        }
        if self.row_starts.is_empty() {
            return Err(TableError::HeaderOnly);
        }
        if self.columns.is_empty() {
            self.decide_columns()?;
        }
        self.row_starts.push(self.consumed);
        if let (count @ 1.., first) = self.repeated_header {
            let more = match count {
                1 => String::new(),
                2 => " (and one more line further down)".to_string(),
                _ => format!(" (and {} more lines further down)", count - 1),
            };
            self.notes.push(format!(
                "Line {first} repeats the header row{more}, as happens when files are joined end to end. It is read as a row of text, \
                 so columns that hold numbers may show as text. Delete the repeated header lines and load the file again."
            ));
        }
        Ok(Table {
            dialect: self.dialect,
            columns: crate::parallel::map_parts(self.columns, ColumnBuilder::finish), // summaries, one column per thread
            header_span: self.header_span,
            row_starts: self.row_starts,
            row_lines: self.row_lines,
            notes: self.notes,
        })
    }
}

/// One sentence for the columns renamed because the header repeats their names: (column from 1, the
/// header's name, the name given).
fn renamed_note(renamed: &[(usize, String, String)]) -> Option<String> {
    const SPELLED_OUT: usize = 3;
    let shown = |name: &str| cut_for_a_sentence(name, 40);
    match renamed {
        [] => None,
        [(column, base, name)] => {
            Some(format!("The header names \"{}\" more than once; column {column} is called \"{}\" here.", shown(base), shown(name)))
        }
        _ => {
            let spelled: Vec<String> =
                renamed.iter().take(SPELLED_OUT).map(|(column, _, name)| format!("column {column} is \"{}\"", shown(name))).collect();
            let rest = match renamed.len().saturating_sub(SPELLED_OUT) {
                0 => String::new(),
                1 => ", and one more column is numbered the same way".to_string(),
                more => format!(", and {more} more columns are numbered the same way"),
            };
            Some(format!(
                "The header repeats names, so {} columns are numbered here: {}{rest}.",
                renamed.len(),
                spelled.join(", ")
            ))
        }
    }
}

fn delimiter_text(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".into(),
        other => (other as char).to_string(),
    }
}

/// Parses a whole file held in memory, in chunks like the browser reads it (for tests and the native tools).
pub fn parse_bytes(bytes: &[u8], chunk: usize) -> Result<Table, TableError> {
    check_size(bytes.len() as u64)?;
    let mut parser = TableParser::new();
    for piece in bytes.chunks(chunk.max(1)) {
        parser.feed(piece)?;
    }
    parser.finish()
}
