//! Parsing a large chunk on every thread. A chunk without quote characters holds one record per line, so it
//! can be cut where a line ends and each piece parsed by its own reader; the pieces' rows and columns are
//! then joined in file order. The result is the table the single reader makes, to the byte offsets, line
//! numbers and first problem reported (tested against it on files with every kind of line end).
//!
//! A chunk with a quote character anywhere is parsed by the one reader: a quoted field can hold line
//! breaks, and only reading from the file's start tells whether a line break is inside one.

use std::ops::Range;

use super::{ColumnBuilder, Parsing, TableError};
use crate::parallel;

/// A piece smaller than this is not worth a thread's start-up. Tests and the fuzzer (`make fuzz`) cut
/// files of a few hundred bytes.
const MIN_PIECE_BYTES: usize = if cfg!(any(test, fuzzing)) { 32 } else { 256 << 10 };

impl Parsing {
    /// Parses the longest head of `chunk` that ends at a record's end, one piece per thread, and returns
    /// how many bytes it took: 0 when the chunk cannot be cut exactly, or it is not worth cutting.
    pub(super) fn consume_split(&mut self, chunk: &[u8]) -> Result<usize, TableError> {
        let threads = parallel::threads();
        let between_records = self.record_start == self.consumed && self.record_len == 0 && self.ends_len == 0;
        let ready = self.streamed.is_none() && !self.columns.is_empty() && between_records;
        // A fresh reader would take a byte-order mark at a piece's start for one; the file's reader would not.
        if threads < 2 || !ready || chunk.len() < 2 * MIN_PIECE_BYTES || chunk[0] == 0xEF {
            return Ok(0);
        }
        let Some(end) = last_cut(chunk) else { return Ok(0) };
        let starts = piece_starts(&chunk[..end], threads.min(end / MIN_PIECE_BYTES));
        if starts.len() < 2 {
            return Ok(0);
        }
        let ranges: Vec<Range<usize>> =
            starts.iter().enumerate().map(|(k, &start)| start..starts.get(k + 1).copied().unwrap_or(end)).collect();
        // Each piece looked at once on its own thread: its line breaks, and whether it holds a quote.
        let scans = parallel::map_parts(ranges.clone(), |range| line_breaks_unless_quoted(&chunk[range]));
        let Some(breaks) = scans.into_iter().collect::<Option<Vec<u64>>>() else { return Ok(0) };
        let mut first_line = self.reader.line();
        let mut pieces = Vec::with_capacity(ranges.len());
        for (range, breaks) in ranges.into_iter().zip(breaks) {
            pieces.push((self.piece_parser(self.consumed + range.start as u64, first_line, breaks as usize), &chunk[range]));
            first_line += breaks;
        }
        let rows_at_most = (first_line - self.reader.line()) as usize + 1;
        for column in &mut self.columns {
            column.reserve(rows_at_most);
        }
        self.row_starts.reserve(rows_at_most);
        self.row_lines.reserve(rows_at_most);
        #[cfg(test)]
        tests::SPLITS.with(|splits| splits.set(splits.get() + 1));
        let parsed = parallel::map_parts(pieces, |(mut piece, bytes)| piece.consume(bytes, false).map(|()| piece));
        // The first problem in file order is the one the file's reader would have stopped at.
        let parsed: Vec<Parsing> = parsed.into_iter().collect::<Result<_, _>>()?;
        self.take_rows_of(parsed);
        self.consumed += end as u64;
        self.record_start = self.consumed;
        self.reader.set_line(first_line);
        Ok(end)
    }

    /// A reader for one piece: this table's dialect, names and column types, no rows yet (room for one per
    /// line), counting lines and bytes from where the piece sits in the file.
    fn piece_parser(&self, offset: u64, first_line: u64, lines: usize) -> Parsing {
        let mut reader = self.dialect.reader();
        reader.set_line(first_line);
        Parsing {
            dialect: self.dialect.clone(),
            reader,
            record: vec![0; self.record.len()],
            ends: vec![0; self.ends.len()],
            record_len: 0,
            ends_len: 0,
            consumed: offset,
            record_start: offset,
            header_decided: true,
            names: self.names.clone(),
            header_span: self.header_span,
            sample: Vec::new(),
            columns: self
                .columns
                .iter()
                .map(|c| {
                    let mut column = ColumnBuilder::new(c.name.clone(), c.numeric);
                    column.reserve(lines + 1);
                    column
                })
                .collect(),
            row_starts: Vec::with_capacity(lines + 1),
            row_lines: Vec::with_capacity(lines + 1),
            notes: Vec::new(),
            repeated_header: (0, 0),
            streamed: None,
        }
    }

    /// Appends the rows of the pieces that follow (their columns, offsets, lines and repeated headers)
    /// in order; the columns are joined side by side, one per thread.
    fn take_rows_of(&mut self, pieces: Vec<Parsing>) {
        let mut laters: Vec<Vec<ColumnBuilder>> = self.columns.iter().map(|_| Vec::with_capacity(pieces.len())).collect();
        let mut rest = Vec::with_capacity(pieces.len());
        for mut piece in pieces {
            for (column, later) in laters.iter_mut().zip(std::mem::take(&mut piece.columns)) {
                column.push(later);
            }
            rest.push(piece);
        }
        let columns = std::mem::take(&mut self.columns).into_iter().zip(laters).collect();
        self.columns = parallel::map_parts(columns, |(mut column, laters): (ColumnBuilder, Vec<ColumnBuilder>)| {
            laters.into_iter().for_each(|later| column.append(later));
            column
        });
        for piece in rest {
            self.row_starts.extend_from_slice(&piece.row_starts);
            self.row_lines.extend_from_slice(&piece.row_lines);
            if piece.repeated_header.0 > 0 {
                if self.repeated_header.0 == 0 {
                    self.repeated_header.1 = piece.repeated_header.1;
                }
                self.repeated_header.0 += piece.repeated_header.0;
            }
            self.notes.extend(piece.notes);
            if piece.record.len() > self.record.len() {
                self.record = piece.record;
            }
            if piece.ends.len() > self.ends.len() {
                self.ends = piece.ends;
            }
        }
    }
}

/// How many `\n` the bytes hold, or None when they hold a quote character (then a line break may sit
/// inside a quoted field, and cuts at line breaks are not safe).
fn line_breaks_unless_quoted(bytes: &[u8]) -> Option<u64> {
    let (breaks, quotes) = bytes.iter().fold((0u64, 0u64), |(n, q), &b| (n + u64::from(b == b'\n'), q + u64::from(b == b'"')));
    (quotes == 0).then_some(breaks)
}

/// Whether a reader that has just read `bytes[..cut]` has ended a record exactly there, and a new reader
/// may start at `cut`: the line break that ends a line with something on it (a record ends at the `\r`
/// of a CRLF, so the cut goes between `\r` and `\n`), and no byte-order mark right after it.
fn is_cut(bytes: &[u8], cut: usize) -> bool {
    let is_break = |b: u8| b == b'\n' || b == b'\r';
    if cut < 2 || cut > bytes.len() || bytes.get(cut) == Some(&0xEF) || is_break(bytes[cut - 2]) {
        return false;
    }
    match bytes[cut - 1] {
        b'\n' => true,
        b'\r' => bytes.get(cut) == Some(&b'\n'),
        _ => false,
    }
}

/// The last cut in `bytes`, if any (searched from the end, a line at a time).
fn last_cut(bytes: &[u8]) -> Option<usize> {
    let mut at = bytes.len();
    while at >= 2 {
        if is_cut(bytes, at) {
            return Some(at);
        }
        at -= 1;
    }
    None
}

/// Where each of about `parts` pieces of `bytes` starts: 0, then the first cut at or after each even
/// share of the length (fewer when cuts are scarce).
fn piece_starts(bytes: &[u8], parts: usize) -> Vec<usize> {
    let mut starts = vec![0];
    for part in 1..parts {
        let target = (bytes.len() * part / parts).max(starts[starts.len() - 1] + 1);
        if let Some(cut) = (target..bytes.len()).find(|&at| is_cut(bytes, at)) {
            starts.push(cut);
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;
    use crate::table::{parse_bytes, Table};
    use std::cell::Cell;

    thread_local! {
        /// Chunks parsed in pieces on this thread.
        pub(super) static SPLITS: Cell<usize> = const { Cell::new(0) };
    }

    /// A file as visitors write them: any line end (mixed too), blank lines, a byte-order mark, numbers,
    /// missing words, labels, free text, repeated headers, and now and then a broken row or invalid text.
    fn messy_file(rng: &mut SeededRng, broken: bool) -> Vec<u8> {
        let columns = 1 + rng.below(5);
        let line_end = |rng: &mut SeededRng, style: usize| match style {
            0 => "\n",
            1 => "\r\n",
            2 => "\r",
            _ => ["\n", "\r\n", "\r", "\n\n", "\r\n\r\n"][rng.below(5)],
        };
        let style = rng.below(4);
        let mut text: Vec<u8> = Vec::new();
        if rng.below(4) == 0 {
            text.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
        }
        let header: Vec<String> = (0..columns).map(|k| format!("c{k}")).collect();
        text.extend_from_slice(header.join(",").as_bytes());
        text.extend_from_slice(line_end(rng, style).as_bytes());
        let text_column = rng.below(columns + 1); // == columns: none
        let levels = 2 + rng.below(80);
        for row in 0..rng.below(3_000) {
            if rng.below(500) == 0 {
                text.extend_from_slice(header.join(",").as_bytes());
            } else {
                let cells: Vec<String> = (0..columns)
                    .map(|k| match (k == text_column, rng.below(40)) {
                        (true, 0) => String::new(),
                        (true, 1) if row > 1_000 => "x".repeat(250),
                        (true, _) => format!("level {}", rng.below(levels)),
                        (false, 0) => "NA".into(),
                        (false, 1) => String::new(),
                        (false, 2) => "oops".into(),
                        (false, _) => format!("{:.4}", rng.normal()),
                    })
                    .collect();
                let mut line = cells.join(",");
                if broken && rng.below(2_000) == 0 {
                    line.push_str(",extra");
                }
                text.extend_from_slice(line.as_bytes());
                if broken && text_column < columns && rng.below(3_000) == 0 {
                    text.extend_from_slice(&[b',', 0xFF]);
                }
            }
            text.extend_from_slice(line_end(rng, style).as_bytes());
        }
        if rng.below(2) == 0 {
            text.truncate(text.len().saturating_sub(rng.below(3))); // no final line end, or half of one
        }
        text
    }

    /// The first thing two parses disagree on, short enough to read.
    fn first_difference(one: &Result<Table, TableError>, many: &Result<Table, TableError>) -> String {
        let (one, many) = match (one, many) {
            (Ok(one), Ok(many)) => (one, many),
            _ => return format!("{:?} against {:?}", one.as_ref().err(), many.as_ref().err()),
        };
        let at = |a: &[u64], b: &[u64]| a.iter().zip(b).position(|(x, y)| x != y).map(|k| (k, a[k], b[k]));
        if one.row_starts != many.row_starts {
            return format!("row starts ({} and {}), first differ at {:?}", one.rows(), many.rows(), at(&one.row_starts, &many.row_starts));
        }
        if one.row_lines != many.row_lines {
            return format!("row lines, first differ at {:?}", at(&one.row_lines, &many.row_lines));
        }
        for (a, b) in one.columns.iter().zip(&many.columns) {
            if a.summary != b.summary {
                return format!("summary {:?} against {:?}", a.summary, b.summary);
            }
            if format!("{a:?}") != format!("{b:?}") {
                return format!("column {} data", a.name());
            }
        }
        format!("{:?} against {:?}", one.notes, many.notes)
    }

    #[test]
    fn every_thread_count_reads_the_table_one_reader_reads() {
        for seed in 0..60 {
            let file = messy_file(&mut SeededRng::new(seed), seed % 3 == 0);
            parallel::set_threads(1);
            let one = parse_bytes(&file, 1 << 20);
            for (threads, chunk) in [(2, 700), (3, 4_096), (4, 1 << 20), (2, 129)] {
                parallel::set_threads(threads);
                let many = parse_bytes(&file, chunk);
                parallel::set_threads(1);
                // Compared as text: NaN (a missing cell) is not equal to itself.
                assert!(format!("{one:?}") == format!("{many:?}"), "seed {seed}, {threads} threads, chunks of {chunk} bytes: {}", first_difference(&one, &many));
            }
        }
        assert!(SPLITS.with(Cell::get) > 100, "the files were cut only {} times", SPLITS.with(Cell::get));
    }

    #[test]
    fn cuts_fall_where_a_record_ends() {
        let bytes = b"a,b\n1,2\r\n3,4\n\n5,6\r7,8";
        let cuts: Vec<usize> = (0..=bytes.len()).filter(|&at| is_cut(bytes, at)).collect();
        // after "a,b\n", between the \r and \n of "1,2\r\n", after "3,4\n"; not inside the blank line,
        // not after a lone \r (no reader is sure there is not a \n still to come).
        assert_eq!(cuts, vec![4, 8, 13], "{:?}", String::from_utf8_lossy(bytes));
        assert_eq!(last_cut(bytes), Some(13));
        assert_eq!(piece_starts(bytes, 2), vec![0, 13]);
        assert_eq!(piece_starts(bytes, 3), vec![0, 8]); // no cut after a third of the way past 8
    }

    #[test]
    fn a_column_read_in_pieces_is_the_column_read_whole() {
        let cells: Vec<String> = (0..300).map(|i| format!("v{}", (i * 13) % 70)).collect(); // 70 values, each first seen by row 70
        let read = |range: std::ops::Range<usize>| {
            let mut builder = ColumnBuilder::new("t".into(), false);
            for cell in &cells[range] {
                builder.push(cell.as_bytes(), 1).unwrap();
            }
            builder
        };
        for cut in [0, 1, 30, 64, 65, 200, 300] {
            let mut joined = read(0..cut);
            joined.append(read(cut..300));
            assert_eq!(joined.finish(), read(0..300).finish(), "cut at {cut}");
        }
    }
}
