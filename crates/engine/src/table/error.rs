//! What can be wrong with a visitor's file, each said as one sentence that names the place and the fix.

use thiserror::Error;

/// Line numbers count from 1, as a text editor shows them; columns are named when the header names them.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum TableError {
    #[error("The file is empty. Choose a CSV file with a header row and at least one row of numbers.")]
    Empty,
    #[error("The file has a header row but no data rows. Add at least one row of values below the header.")]
    HeaderOnly,
    /// `offset` counts from 0; the sentence counts bytes from 1, as it counts lines.
    #[error(
        "This is not a text table: byte {} (counting from 1) is a zero byte, which CSV files never contain. If it is a \
         spreadsheet or an archive renamed to .csv, export it as CSV and try again.",
        .offset + 1
    )]
    Binary { offset: u64 },
    #[error("The file is saved as UTF-16 text. Save it as UTF-8 (in a spreadsheet: \"CSV UTF-8\") and try again.")]
    Utf16,
    #[error(
        "Line {line}, column {}: the text is not valid UTF-8. Save the file as UTF-8 (in a spreadsheet: \
         \"CSV UTF-8\") and try again.",
        shown(.column)
    )]
    NotUtf8 { line: u64, column: String },
    #[error(
        "Line {line} has {found} fields, but the header has {expected}. Look for a missing or extra \
         delimiter (\"{delimiter}\") or an unclosed quote on that line."
    )]
    Ragged { line: u64, found: usize, expected: usize, delimiter: String },
    #[error("Line {line} has more than {limit} columns, the most the playground handles. Keep the columns you need and try again.")]
    /// `found`: the columns counted before reading stopped, at least `limit + 1` (not the line's total).
    TooManyColumns { line: u64, found: usize, limit: usize },
    #[error(
        "Line {line} is longer than {limit_mb} MB, which no table row should be; the file may not be a table, or a \
         quote may be left open above it."
    )]
    LineTooLong { line: u64, limit_mb: u64 },
    #[error(
        "This file is {size}; a browser tab can hold tables up to {limit} here. Take a sample of the rows, or \
         score the whole file with the native scorer."
    )]
    TooLarge { size: String, limit: String },
}

/// A column name as a sentence quotes it: a header can hold line breaks and kilobytes inside quotes.
fn shown(name: &str) -> String {
    cut_for_a_sentence(name, 40)
}

/// Outside text as a sentence may quote it: control characters dropped, at most `chars` characters kept.
pub(crate) fn cut_for_a_sentence(text: &str, chars: usize) -> String {
    let kept: String = text.chars().filter(|c| !c.is_control()).take(chars).collect();
    if text.chars().count() > chars { format!("{kept}…") } else { kept }
}

/// A byte count as a visitor reads it: "1.4 GB", "820 kB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [(&str, f64); 3] = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    for (unit, size) in UNITS {
        if bytes as f64 >= size {
            return format!("{:.1} {unit}", bytes as f64 / size);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_bytes(12), "12 bytes");
        assert_eq!(human_bytes(1_400_000_000), "1.4 GB");
        assert_eq!(human_bytes(820_000), "820.0 kB");
    }
}
