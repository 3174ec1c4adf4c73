//! The scored file: every original line, byte for byte, with `anomaly_score` and `rank` appended. Rows are
//! written a chunk at a time, so a file of any size streams out without being held whole.
//!
//! One exception to "byte for byte": a text cell that a spreadsheet would run as a formula (starting with
//! `=`, `+`, `-`, `@`, a tab or a carriage return, and not a number) gets a leading apostrophe, so opening
//! the download cannot execute anything an untrusted file smuggled in (CSV injection).

use super::column::{read_number, Cell};
use std::cell::RefCell;

use super::parse::{trim_line_ends, Dialect, FieldSplitter, Table};

/// Appends scores to a table's lines in its own dialect.
#[derive(Clone, Debug)]
pub struct ScoredCsv {
    dialect: Dialect,
    /// The file's own column names, which new names must not repeat.
    taken: Vec<String>,
    /// `anomaly_score` and `rank`, unless there is no autoencoder score to write.
    score_and_rank: Option<(String, String)>,
    /// Columns after them (the classical methods' scores and explanations).
    extra_names: Vec<String>,
    splitter: RefCell<FieldSplitter>,
}

/// A cell of an extra column: another method's score, or text (already plain, quoted as needed).
#[derive(Clone, Copy, Debug)]
pub enum ExtraCell<'a> {
    Score(f32),
    Text(&'a str),
}

impl ScoredCsv {
    pub fn new(table: &Table) -> Self {
        Self::for_columns(&table.dialect, &table.column_names())
    }

    /// For a file read without keeping its rows (the native scorer): its dialect and column names.
    pub fn for_columns(dialect: &Dialect, names: &[String]) -> Self {
        let mut taken = names.to_vec();
        let score = unique(&mut taken, "anomaly_score");
        let rank = unique(&mut taken, "rank");
        Self {
            dialect: dialect.clone(),
            taken,
            score_and_rank: Some((score, rank)),
            extra_names: Vec::new(),
            splitter: RefCell::new(FieldSplitter::new(dialect)),
        }
    }

    /// Leaves out `anomaly_score` and `rank` (no autoencoder scored the rows).
    pub fn without_score_and_rank(mut self) -> Self {
        self.score_and_rank = None;
        self
    }

    /// Adds columns after the score and rank, each named `base` or `base_2`… if the name is taken.
    pub fn with_extra_columns(mut self, bases: &[String]) -> Self {
        for base in bases {
            let name = unique(&mut self.taken, base);
            self.extra_names.push(name);
        }
        self
    }

    fn line_end(&self) -> &'static [u8] {
        if self.dialect.crlf { b"\r\n" } else { b"\n" }
    }

    /// The first bytes of the download: the byte-order mark if the file had one, and the header line (if
    /// the file had one) with the two new names.
    pub fn start(&self, raw_header: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        if self.dialect.bom {
            out.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
        }
        if let Some(raw) = raw_header {
            self.push_safe_record(&mut out, trim_line_ends(raw));
            let (score, rank) = self.score_and_rank.as_ref().map_or((None, None), |(s, r)| (Some(s), Some(r)));
            for name in score.into_iter().chain(rank).chain(&self.extra_names) {
                out.push(self.dialect.delimiter);
                self.push_field(&mut out, name);
            }
            out.extend_from_slice(self.line_end());
        }
        out
    }

    /// One row: its original text, then the score and rank (both empty when the row was not scored).
    pub fn push_row(&self, out: &mut Vec<u8>, raw: &[u8], score: f32, rank: u32) {
        self.push_row_with(out, raw, score, rank, std::iter::empty());
    }

    /// The same with the extra columns' cells (`None`, or too few, leave them empty). `score` and
    /// `rank` are ignored when the writer has no such columns.
    pub fn push_row_with<'a>(&self, out: &mut Vec<u8>, raw: &[u8], score: f32, rank: u32, extras: impl IntoIterator<Item = Option<ExtraCell<'a>>>) {
        use std::io::Write;
        self.push_safe_record(out, trim_line_ends(raw));
        if self.score_and_rank.is_some() {
            out.push(self.dialect.delimiter);
            if score.is_finite() {
                let _ = write!(out, "{score}");
            }
            out.push(self.dialect.delimiter);
            if rank > 0 {
                let _ = write!(out, "{rank}");
            }
        }
        let mut extras = extras.into_iter();
        for _ in &self.extra_names {
            out.push(self.dialect.delimiter);
            match extras.next().flatten() {
                Some(ExtraCell::Score(value)) if value.is_finite() => {
                    let _ = write!(out, "{value}");
                }
                Some(ExtraCell::Text(text)) => self.push_field(out, text),
                _ => {}
            }
        }
        out.extend_from_slice(self.line_end());
    }

    /// Copies the record unchanged unless one of its cells could run as a formula; then rewrites it with
    /// those cells neutralised.
    fn push_safe_record(&self, out: &mut Vec<u8>, record: &[u8]) {
        // Fast path: no byte that can start a formula appears anywhere.
        let risky = |b: &u8| matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r');
        if !record.iter().any(risky) {
            out.extend_from_slice(record);
            return;
        }
        let fields = self.splitter.borrow_mut().split(record);
        if !fields.iter().any(|f| is_formula(f)) {
            out.extend_from_slice(record);
            return;
        }
        for (k, field) in fields.iter().enumerate() {
            if k > 0 {
                out.push(self.dialect.delimiter);
            }
            let safe = if is_formula(field) { format!("'{field}") } else { field.clone() };
            self.push_field(out, &safe);
        }
    }

    fn push_field(&self, out: &mut Vec<u8>, field: &str) {
        let needs_quotes = field.bytes().any(|b| b == self.dialect.delimiter || matches!(b, b'"' | b'\n' | b'\r'));
        if needs_quotes {
            out.push(b'"');
            out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(field.as_bytes());
        }
    }
}

/// `base`, or `base_2`, `base_3`… if taken; the name is taken from then on.
fn unique(taken: &mut Vec<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut k = 1;
    while taken.contains(&name) {
        k += 1;
        name = format!("{base}_{k}");
    }
    taken.push(name.clone());
    name
}

/// A cell a spreadsheet would evaluate: starts with a formula character and is not a plain number
/// (so "-1.5" and "+3" stay as they are, and so does a lone "-", a common mark for a missing value).
pub fn is_formula(cell: &str) -> bool {
    let starts_risky = cell.len() > 1 && cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    starts_risky && !matches!(read_number(cell.as_bytes()), Cell::Number(_) | Cell::NonFinite)
}

/// Rank of each row by score, 1 = most anomalous; ties keep file order. Unscored rows (NaN) get 0.
pub fn ranks(scores: &[f32]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..scores.len()).filter(|&i| scores[i].is_finite()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut ranks = vec![0u32; scores.len()];
    for (position, &row) in order.iter().enumerate() {
        ranks[row] = position as u32 + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::parse_bytes;

    fn scored(text: &[u8], scores: &[f32]) -> Vec<u8> {
        let table = parse_bytes(text, 1 << 16).unwrap();
        let writer = ScoredCsv::new(&table);
        let mut out = writer.start(table.header_span.map(|(a, b)| &text[a as usize..b as usize]));
        let ranks = ranks(scores);
        for row in 0..table.rows() {
            let (a, b) = table.row_span(row);
            writer.push_row(&mut out, &text[a as usize..b as usize], scores[row], ranks[row]);
        }
        out
    }

    #[test]
    fn original_lines_are_kept_and_scores_appended() {
        let out = scored(b"x,y\n1,-2\n3,4e-5\n", &[0.5, 2.25]);
        assert_eq!(String::from_utf8(out).unwrap(), "x,y,anomaly_score,rank\n1,-2,0.5,2\n3,4e-5,2.25,1\n");
    }

    #[test]
    fn crlf_bom_quotes_and_unscored_rows() {
        let text = b"\xEF\xBB\xBF\"a\";b\r\n\"x;y\";1\r\n\"q\"\"\";\r\n";
        let out = scored(text, &[f32::NAN, 1.0]);
        assert_eq!(out, b"\xEF\xBB\xBF\"a\";b;anomaly_score;rank\r\n\"x;y\";1;;\r\n\"q\"\"\";;1;1\r\n");
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_are_not() {
        let out = scored(b"name,x\n=HYPERLINK(\"http://evil\"),-1\n@SUM(A1),+2\n-2+3,1\n", &[1.0, 2.0, 3.0]);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"http://evil\"\")\",-1,1,3");
        assert_eq!(lines[2], "'@SUM(A1),+2,2,2");
        assert_eq!(lines[3], "'-2+3,1,3,1");
        assert!(is_formula("=1+1") && !is_formula("-1e5") && !is_formula("plain") && !is_formula("-"));
    }

    #[test]
    fn new_names_never_clash() {
        let out = scored(b"anomaly_score,rank\n1,2\n", &[0.0]);
        assert!(String::from_utf8(out).unwrap().starts_with("anomaly_score,rank,anomaly_score_2,rank_2\n"));
    }

    #[test]
    fn extra_columns_follow_in_the_files_dialect() {
        let text = b"a;knn_score\n1;2\n3;4\n";
        let table = parse_bytes(text, 1 << 16).unwrap();
        let writer = ScoredCsv::new(&table).without_score_and_rank().with_extra_columns(&["knn_score".into(), "knn_top_features".into()]);
        let mut out = writer.start(table.header_span.map(|(a, b)| &text[a as usize..b as usize]));
        let parts = "a:1.000;b:0.5";
        for (row, cells) in [[Some(ExtraCell::Score(0.25)), Some(ExtraCell::Text(parts))], [Some(ExtraCell::Score(f32::NAN)), None]].into_iter().enumerate() {
            let (a, b) = table.row_span(row);
            writer.push_row_with(&mut out, &text[a as usize..b as usize], 0.0, 0, cells);
        }
        assert_eq!(String::from_utf8(out).unwrap(), "a;knn_score;knn_score_2;knn_top_features\n1;2;0.25;\"a:1.000;b:0.5\"\n3;4;;\n");
    }

    #[test]
    fn ranks_put_the_highest_score_first() {
        assert_eq!(ranks(&[0.1, 5.0, f32::NAN, 5.0, 2.0]), vec![4, 1, 0, 2, 3]);
    }
}
