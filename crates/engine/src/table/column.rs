//! One column of a loaded table: its values as f32 (or, for text, as codes of a few distinct values), and
//! the summary a visitor sees before choosing what the column is for.

use serde::{Deserialize, Serialize};

/// Text columns keep codes only while they have at most this many distinct values; a label column needs
/// two, and a column of free text (names, comments) is never a feature.
pub const MAX_LEVELS: usize = 64;
const MAX_LEVEL_CHARS: usize = 200;
/// A missing text cell.
pub const MISSING_CODE: u16 = u16::MAX;

#[derive(Clone, Debug, PartialEq)]
pub enum ColumnData {
    /// One value per row; NaN where the cell is missing, not finite, or not a number.
    Numeric(Vec<f32>),
    /// One code per row into `levels` (or [`MISSING_CODE`]); `codes` is emptied once the column has more
    /// than [`MAX_LEVELS`] distinct values.
    Text { codes: Vec<u16>, levels: Vec<String>, many_values: bool },
}

/// Where a column first held something that is not a number, to name it in a sentence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellNote {
    pub line: u64,
    pub text: String,
}

/// What the column-roles table shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    pub name: String,
    pub numeric: bool,
    /// Finite values (numeric) or non-empty cells (text).
    pub present: usize,
    /// Empty cells and NA-like words.
    pub missing: usize,
    /// NaN, ±inf, or beyond the range of a 32-bit float.
    pub non_finite: usize,
    /// Cells in a numeric column that are not numbers; they count as missing.
    pub not_numbers: usize,
    pub first_not_number: Option<CellNote>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    /// The column's values when it has exactly two (a possible label), in a stable order: numbers
    /// ascending, text in order of first appearance.
    pub two_values: Option<[String; 2]>,
    /// True when every finite value is the same (no information for a model).
    pub constant: bool,
    /// True when every finite value is above zero and the spread is wide, so a log transform helps.
    pub heavy_tailed_positive: bool,
    pub all_positive: bool,
    /// An event or row number, which tells a model nothing about the event: whole numbers that never repeat
    /// and either run 1, 2, 3… (in any order), sit in a column named like an ID, or are too large for a
    /// 32-bit float to count exactly. Suggested as ignored.
    #[serde(default)]
    pub identifier_like: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub data: ColumnData,
    pub summary: ColumnSummary,
}

impl Column {
    pub fn name(&self) -> &str {
        &self.summary.name
    }

    /// Row `row`'s value, NaN when missing or when the column is text.
    pub fn number(&self, row: usize) -> f32 {
        match &self.data {
            ColumnData::Numeric(values) => values[row],
            ColumnData::Text { .. } => f32::NAN,
        }
    }

    /// For each row, which of [`ColumnSummary::two_values`] it holds (0 or 1), or [`NO_LABEL`] when the
    /// cell is missing. None when the column does not have exactly two values.
    pub fn two_valued(&self) -> Option<Vec<u8>> {
        let values = self.summary.two_values.as_ref()?;
        Some(match &self.data {
            ColumnData::Numeric(column) => {
                let second: f32 = values[1].parse().ok()?;
                column.iter().map(|&v| if v.is_nan() { NO_LABEL } else { u8::from(v == second) }).collect()
            }
            ColumnData::Text { codes, levels, .. } => {
                let second = levels.iter().position(|l| *l == values[1])? as u16;
                codes.iter().map(|&c| if c == MISSING_CODE { NO_LABEL } else { u8::from(c == second) }).collect()
            }
        })
    }
}

/// A row whose label cell is missing.
pub const NO_LABEL: u8 = u8::MAX;

/// Shortest text that reads back as the same f32.
pub fn format_number(v: f32) -> String {
    format!("{v}")
}

/// Builds a column cell by cell while the file streams in.
#[derive(Debug)]
pub(crate) struct ColumnBuilder {
    pub name: String,
    pub numeric: bool,
    values: Vec<f32>,
    codes: Vec<u16>,
    levels: Vec<String>,
    many_values: bool,
    missing: usize,
    non_finite: usize,
    not_numbers: usize,
    first_not_number: Option<CellNote>,
}

/// What one cell of a numeric column holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell {
    Number(f32),
    Missing,
    NonFinite,
    NotNumber,
}

/// Reads a cell as a number. Surrounding spaces are allowed; "", "NA", "N/A", "null", "None" and "-"
/// mean missing; "NaN" and "inf" parse but are not finite.
pub(crate) fn read_number(bytes: &[u8]) -> Cell {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() {
        return Cell::Missing;
    }
    match std::str::from_utf8(trimmed).ok().and_then(|s| s.parse::<f32>().ok()) {
        Some(v) if v.is_finite() => Cell::Number(v),
        Some(_) => Cell::NonFinite,
        None if is_missing_word(trimmed) => Cell::Missing,
        None => Cell::NotNumber,
    }
}

/// A cell as a numeric column stores it: the number, or NaN for anything that is not a finite number.
pub(crate) fn numeric_value(cell: &[u8]) -> f32 {
    match read_number(cell) {
        Cell::Number(v) => v,
        Cell::Missing | Cell::NonFinite | Cell::NotNumber => f32::NAN,
    }
}

fn is_missing_word(cell: &[u8]) -> bool {
    const WORDS: [&[u8]; 6] = [b"na", b"n/a", b"null", b"none", b"-", b"?"];
    WORDS.iter().any(|w| cell.eq_ignore_ascii_case(w))
}

impl ColumnBuilder {
    pub fn new(name: String, numeric: bool) -> Self {
        Self {
            name,
            numeric,
            values: Vec::new(),
            codes: Vec::new(),
            levels: Vec::new(),
            many_values: false,
            missing: 0,
            non_finite: 0,
            not_numbers: 0,
            first_not_number: None,
        }
    }

    /// Adds one cell. Text must be UTF-8 (the caller turns `Err` into a located error); a numeric column
    /// never fails: what is not a number is counted and kept as missing.
    pub fn push(&mut self, cell: &[u8], line: u64) -> Result<(), ()> {
        if self.numeric {
            let value = match read_number(cell) {
                Cell::Number(v) => v,
                Cell::Missing => {
                    self.missing += 1;
                    f32::NAN
                }
                Cell::NonFinite => {
                    self.non_finite += 1;
                    f32::NAN
                }
                Cell::NotNumber => {
                    self.not_numbers += 1;
                    if self.first_not_number.is_none() {
                        let text: String = String::from_utf8_lossy(cell.trim_ascii()).chars().take(40).collect();
                        self.first_not_number = Some(CellNote { line, text });
                    }
                    f32::NAN
                }
            };
            self.values.push(value);
            return Ok(());
        }
        let text = std::str::from_utf8(cell).map_err(|_| ())?.trim();
        if text.is_empty() {
            self.missing += 1;
            if !self.many_values {
                self.codes.push(MISSING_CODE);
            }
            return Ok(());
        }
        if self.many_values {
            return Ok(());
        }
        let code = match self.levels.iter().position(|l| l == text) {
            Some(code) => code,
            None if self.levels.len() < MAX_LEVELS && text.chars().count() <= MAX_LEVEL_CHARS => {
                self.levels.push(text.to_string());
                self.levels.len() - 1
            }
            None => {
                self.drop_codes();
                return Ok(());
            }
        };
        self.codes.push(code as u16);
        Ok(())
    }

    /// Room for `rows` more cells without growing.
    pub fn reserve(&mut self, rows: usize) {
        if self.numeric {
            self.values.reserve(rows);
        } else if !self.many_values {
            self.codes.reserve(rows);
        }
    }

    /// Adds the cells of `later`, a builder of the same column that read the rows after these: the same
    /// column as one builder reading all the rows in order (text levels keep their order of first appearance).
    pub fn append(&mut self, later: ColumnBuilder) {
        self.missing += later.missing;
        self.non_finite += later.non_finite;
        self.not_numbers += later.not_numbers;
        if self.first_not_number.is_none() {
            self.first_not_number = later.first_not_number;
        }
        if self.numeric {
            self.values.extend_from_slice(&later.values);
            return;
        }
        if self.many_values {
            return; // its levels stay as they were when it had too many
        }
        let mut recode = Vec::with_capacity(later.levels.len());
        for level in later.levels {
            let code = match self.levels.iter().position(|l| *l == level) {
                Some(code) => code,
                None if self.levels.len() < MAX_LEVELS => {
                    self.levels.push(level);
                    self.levels.len() - 1
                }
                None => return self.drop_codes(),
            };
            recode.push(code as u16);
        }
        if later.many_values {
            return self.drop_codes();
        }
        self.codes.extend(later.codes.iter().map(|&c| if c == MISSING_CODE { c } else { recode[usize::from(c)] }));
    }

    /// Too many distinct values to be a feature or a label: the codes are not kept.
    fn drop_codes(&mut self) {
        self.many_values = true;
        self.codes = Vec::new();
    }

    pub fn finish(self) -> Column {
        let mut summary = ColumnSummary {
            name: self.name,
            numeric: self.numeric,
            missing: self.missing,
            non_finite: self.non_finite,
            not_numbers: self.not_numbers,
            first_not_number: self.first_not_number,
            ..Default::default()
        };
        let data = if self.numeric {
            summarise_numbers(&self.values, &mut summary);
            ColumnData::Numeric(self.values)
        } else {
            summary.present = self.codes.iter().filter(|&&c| c != MISSING_CODE).count();
            if self.many_values {
                summary.present = 0; // not counted once the codes were dropped
            } else if self.levels.len() == 2 {
                summary.two_values = Some([self.levels[0].clone(), self.levels[1].clone()]);
            }
            ColumnData::Text { codes: self.codes, levels: self.levels, many_values: self.many_values }
        };
        Column { data, summary }
    }
}

fn summarise_numbers(values: &[f32], summary: &mut ColumnSummary) {
    let (mut min, mut max, mut sum, mut present) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, 0usize);
    let mut distinct: Vec<f32> = Vec::with_capacity(3);
    for &v in values.iter().filter(|v| !v.is_nan()) {
        let x = v as f64;
        min = min.min(x);
        max = max.max(x);
        sum += x;
        present += 1;
        if distinct.len() < 3 && !distinct.contains(&v) {
            distinct.push(v);
        }
    }
    summary.present = present;
    if present == 0 {
        return;
    }
    let mean = sum / present as f64;
    summary.min = Some(min);
    summary.max = Some(max);
    summary.mean = Some(mean);
    summary.constant = min == max;
    summary.all_positive = min > 0.0;
    // Wide positive ranges (momenta, masses) compress well under a log: max/min above 100, or a mean far
    // below the midpoint of the range (most values bunched at the low end, a long tail above).
    summary.heavy_tailed_positive = min > 0.0 && (max / min > 100.0 || (mean - min) < 0.2 * (max - min));
    summary.identifier_like = looks_like_identifiers(values, present, (min, max), &summary.name);
    if distinct.len() == 2 {
        distinct.sort_by(f32::total_cmp);
        summary.two_values = Some([format_number(distinct[0]), format_number(distinct[1])]);
    }
}

/// Below this many values a column of distinct whole numbers is as likely a small count as an identifier.
const MIN_IDENTIFIER_ROWS: usize = 10;
/// 2^24: above it a 32-bit float no longer holds every whole number, so large IDs collide when read.
const F32_EXACT_INTEGERS: f64 = 16_777_216.0;

/// Folded header names of identifier columns (see `label_names::folded`).
const IDENTIFIER_NAMES: [&str; 12] =
    ["id", "index", "idx", "event", "eventid", "eventnumber", "evtnum", "evt", "entry", "row", "rowid", "uid"];

fn looks_like_identifiers(values: &[f32], present: usize, (min, max): (f64, f64), name: &str) -> bool {
    if present < MIN_IDENTIFIER_ROWS || max - min + 1.0 < present as f64 {
        return false; // too few, or too narrow a range for every value to differ
    }
    let id_name = IDENTIFIER_NAMES.contains(&super::label_names::folded(name).as_str());
    let consecutive = max - min + 1.0 == present as f64;
    let mut whole: Vec<f32> = Vec::new();
    for &v in values.iter().filter(|v| v.is_finite()) {
        if v.fract() != 0.0 {
            return false;
        }
        whole.push(v);
    }
    if max.abs().max(min.abs()) >= F32_EXACT_INTEGERS {
        return true;
    }
    if !(consecutive || id_name) {
        return false; // distinct whole numbers over a wide range can be a real quantity (an income, a count)
    }
    whole.sort_unstable_by(f32::total_cmp);
    whole.windows(2).all(|w| w[0] != w[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_numbers_missing_or_not() {
        assert_eq!(read_number(b" 1.5 "), Cell::Number(1.5));
        assert_eq!(read_number(b"-2.5e-3"), Cell::Number(-2.5e-3));
        assert_eq!(read_number(b"6.02E23"), Cell::Number(6.02e23));
        assert_eq!(read_number(b""), Cell::Missing);
        assert_eq!(read_number(b"NA"), Cell::Missing);
        assert_eq!(read_number(b"NaN"), Cell::NonFinite);
        assert_eq!(read_number(b"-inf"), Cell::NonFinite);
        assert_eq!(read_number(b"1e40"), Cell::NonFinite);
        assert_eq!(read_number(b"3,14"), Cell::NotNumber);
        assert_eq!(read_number(b"\xff\xfe"), Cell::NotNumber);
    }

    #[test]
    fn a_numeric_column_counts_what_is_not_a_number() {
        let mut b = ColumnBuilder::new("pt".into(), true);
        for (line, cell) in [(2, "1"), (3, "abc"), (4, ""), (5, "inf"), (6, "3")] {
            b.push(cell.as_bytes(), line).unwrap();
        }
        let c = b.finish();
        let s = &c.summary;
        assert_eq!((s.present, s.missing, s.non_finite, s.not_numbers), (2, 1, 1, 1));
        assert_eq!(s.first_not_number, Some(CellNote { line: 3, text: "abc".into() }));
        assert_eq!((s.min, s.max, s.mean), (Some(1.0), Some(3.0), Some(2.0)));
        assert_eq!(s.two_values, Some(["1".to_string(), "3".to_string()]));
        assert_eq!(c.two_valued(), Some(vec![0, NO_LABEL, NO_LABEL, NO_LABEL, 1]));
    }

    #[test]
    fn text_columns_keep_a_few_levels_and_drop_free_text() {
        let mut label = ColumnBuilder::new("kind".into(), false);
        for cell in ["sig", "bkg", "", "bkg"] {
            label.push(cell.as_bytes(), 1).unwrap();
        }
        let label = label.finish();
        assert_eq!(label.summary.two_values, Some(["sig".to_string(), "bkg".to_string()]));
        assert_eq!(label.two_valued(), Some(vec![0, 1, NO_LABEL, 1]));

        let mut names = ColumnBuilder::new("name".into(), false);
        for i in 0..(MAX_LEVELS + 5) {
            names.push(format!("event {i}").as_bytes(), 1).unwrap();
        }
        assert!(matches!(names.finish().data, ColumnData::Text { many_values: true, .. }));
        assert!(ColumnBuilder::new("x".into(), false).push(b"\xff", 1).is_err());
    }

    #[test]
    fn constant_and_heavy_tailed_columns_are_recognised() {
        let mut constant = ColumnBuilder::new("c".into(), true);
        let mut tail = ColumnBuilder::new("pt".into(), true);
        for i in 0..100 {
            constant.push(b"7", 1).unwrap();
            tail.push(format!("{}", 1.0 + (i as f32 / 10.0).exp()).as_bytes(), 1).unwrap();
        }
        assert!(constant.finish().summary.constant);
        let tail = tail.finish().summary;
        assert!(tail.heavy_tailed_positive && tail.all_positive && !tail.constant);
    }
}
