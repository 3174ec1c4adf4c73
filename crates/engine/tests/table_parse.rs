//! The table parser on every bad input the CSV issue lists, and on random bytes.

use anomaly_engine::rng::SeededRng;
use anomaly_engine::table::parse::{split_record, trim_line_ends, MAX_FILE_BYTES};
use anomaly_engine::table::{check_size, parse_bytes, ColumnData, Table, TableError};

fn parse(text: &[u8]) -> Result<Table, TableError> {
    // Small chunks, so records straddle chunk boundaries as they do when a file streams in.
    let a = parse_bytes(text, 7);
    // Compared as text, since NaN is not equal to itself.
    assert_eq!(format!("{a:?}"), format!("{:?}", parse_bytes(text, 1 << 20)), "the result must not depend on the chunk size");
    a
}

fn numbers(table: &Table, column: usize) -> Vec<f32> {
    match &table.columns[column].data {
        ColumnData::Numeric(v) => v.clone(),
        other => panic!("column {column} is not numeric: {other:?}"),
    }
}

fn row_text(table: &Table, bytes: &[u8], row: usize) -> String {
    let (start, end) = table.row_span(row);
    String::from_utf8(trim_line_ends(&bytes[start as usize..end as usize]).to_vec()).unwrap()
}

#[test]
fn a_plain_file_gives_named_numeric_columns_and_row_offsets() {
    let text = b"pt,eta,label\n10.5,-1.2,0\n20,0.3,1\n";
    let table = parse(text).unwrap();
    assert_eq!(table.column_names(), ["pt", "eta", "label"]);
    assert_eq!(table.rows(), 2);
    assert_eq!(numbers(&table, 0), [10.5, 20.0]);
    assert_eq!(table.columns[2].summary.two_values, Some(["0".to_string(), "1".to_string()]));
    assert_eq!((row_text(&table, text, 0), row_text(&table, text, 1)), ("10.5,-1.2,0".into(), "20,0.3,1".into()));
    assert_eq!(table.row_lines, [2, 3]);
    assert!(table.dialect.has_header && !table.dialect.crlf && !table.dialect.bom);
}

#[test]
fn empty_and_header_only_files_are_named() {
    assert_eq!(parse(b""), Err(TableError::Empty));
    assert_eq!(parse(b"\n\n  \n"), Err(TableError::Empty));
    assert_eq!(parse(b"a,b,c\n"), Err(TableError::HeaderOnly));
    assert_eq!(parse(b"a,b,c"), Err(TableError::HeaderOnly));
}

#[test]
fn ragged_rows_name_the_line() {
    let err = parse(b"a,b,c\n1,2,3\n4,5\n6,7,8\n").unwrap_err();
    assert_eq!(err, TableError::Ragged { line: 3, found: 2, expected: 3, delimiter: ",".into() });
    assert!(err.to_string().starts_with("Line 3 has 2 fields, but the header has 3."));
    // The line is counted past quoted line breaks and blank lines.
    let err = parse(b"a,b\n\"x\ny\",1\n\n2,3,4\n").unwrap_err();
    assert!(matches!(err, TableError::Ragged { line: 5, .. }), "{err:?}");
}

#[test]
fn non_numeric_cells_nan_and_infinities_count_as_missing_with_a_location() {
    let table = parse(b"x,y\n1,2\nabc,3\nNaN,inf\n-inf,\n5,6\n").unwrap();
    let x = &table.columns[0].summary;
    assert!(x.numeric);
    assert_eq!((x.present, x.not_numbers, x.non_finite, x.missing), (2, 1, 2, 0));
    assert_eq!(x.first_not_number.as_ref().map(|n| (n.line, n.text.as_str())), Some((3, "abc")));
    let y = &table.columns[1].summary;
    assert_eq!((y.present, y.non_finite, y.missing), (3, 1, 1));
    assert!(numbers(&table, 0)[1].is_nan());
}

#[test]
fn semicolons_tabs_bom_crlf_and_quotes() {
    let table = parse(b"a;b\r\n1,5;2\r\n3;4\r\n").unwrap();
    assert_eq!(table.dialect.delimiter, b';');
    assert!(table.dialect.crlf);
    assert!(!table.columns[0].summary.numeric, "decimal commas are not numbers");
    assert_eq!(numbers(&table, 1), [2.0, 4.0]);

    let table = parse(b"a\tb\n1\t2\n").unwrap();
    assert_eq!((table.dialect.delimiter, numbers(&table, 1)), (b'\t', vec![2.0]));

    let text = b"\xEF\xBB\xBFname,value\r\n\"Smith, J.\",1\r\n\"say \"\"hi\"\"\",2\r\n\"two\r\nlines\",3";
    let table = parse(text).unwrap();
    assert!(table.dialect.bom && table.dialect.crlf);
    assert_eq!(table.column_names(), ["name", "value"], "the BOM is not part of the first name");
    assert_eq!(numbers(&table, 1), [1.0, 2.0, 3.0]);
    assert_eq!(row_text(&table, text, 0), "\"Smith, J.\",1");
    assert_eq!(row_text(&table, text, 2), "\"two\r\nlines\",3");
    assert_eq!(split_record(row_text(&table, text, 1).as_bytes(), &table.dialect), ["say \"hi\"", "2"]);
    assert_eq!(table.row_lines, [2, 3, 4]);
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let err = parse(b"name,x\nok,1\n\xff\xfe,2\n").unwrap_err();
    assert_eq!(err, TableError::NotUtf8 { line: 3, column: "name".into() });
    assert_eq!(parse(b"\xff\xfea\x00,\x00b\x00"), Err(TableError::Utf16));
    // In a numeric column such a cell is simply not a number.
    let table = parse(b"x\n1\n\xff\n2\n3\n4\n").unwrap();
    assert_eq!(table.columns[0].summary.not_numbers, 1);
}

#[test]
fn a_binary_file_is_refused() {
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    zip.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
    let err = parse(&zip).unwrap_err();
    assert_eq!(err, TableError::Binary { offset: 5 });
    // Bytes are counted from one in the sentence, as lines are: "PK\x03\x04\x14" then the zero.
    assert!(err.to_string().starts_with("This is not a text table: byte 6 (counting from 1) is a zero byte"), "{err}");
}

#[test]
fn duplicate_names_are_made_unique_and_said() {
    let table = parse(b"pt,pt,,pt\n1,2,3,4\n").unwrap();
    assert_eq!(table.column_names(), ["pt", "pt (2)", "column 3", "pt (3)"]);
    assert_eq!(table.notes, ["The header repeats names, so 2 columns are numbered here: column 2 is \"pt (2)\", column 4 is \"pt (3)\"."]);
    // A number the header already uses is skipped.
    let table = parse(b"a,a (2),a\n1,2,3\n").unwrap();
    assert_eq!(table.column_names(), ["a", "a (2)", "a (3)"]);
    assert_eq!(table.notes, ["The header names \"a\" more than once; column 3 is called \"a (3)\" here."]);
}

#[test]
fn a_header_of_one_name_many_times_gets_one_short_note() {
    let header = vec!["x"; 900].join(",");
    let row = vec!["1"; 900].join(",");
    let table = parse(format!("{header}\n{row}\n").as_bytes()).unwrap();
    let names = table.column_names();
    assert_eq!((names[0].as_str(), names[1].as_str(), names[899].as_str()), ("x", "x (2)", "x (900)"));
    assert_eq!(names.iter().collect::<std::collections::HashSet<_>>().len(), 900);
    assert_eq!(table.notes.len(), 1);
    assert!(table.notes[0].ends_with("column 4 is \"x (4)\", and 896 more columns are numbered the same way."), "{}", table.notes[0]);
}

#[test]
fn a_header_repeated_further_down_is_pointed_out() {
    let mut text = String::from("mass,pt\n");
    for block in 0..3 {
        for i in 0..4 {
            text += &format!("{},{}\n", block * 10 + i, i);
        }
        if block < 2 {
            text += "mass, pt\n";
        }
    }
    let table = parse(text.as_bytes()).unwrap();
    assert_eq!(table.rows(), 14, "the repeated lines stay rows, so the download keeps every line");
    let note = table.notes.iter().find(|n| n.contains("repeats the header")).expect("a note");
    assert!(note.starts_with("Line 6 repeats the header row (and one more line further down)"), "{note}");
    assert!(parse(b"a,b\n1,2\na,3\n").unwrap().notes.is_empty(), "one cell equal to its name is not a header");
}

#[test]
fn one_row_constant_columns_and_scientific_notation() {
    let table = parse(b"a,b\n1.5e3,7\n").unwrap();
    assert_eq!((table.rows(), numbers(&table, 0)), (1, vec![1500.0]));
    let table = parse(b"a,b\n1,7\n2,7\n3,7\n").unwrap();
    assert!(table.columns[1].summary.constant && !table.columns[0].summary.constant);
    let table = parse(b"E,m\n6.02E+23,1e-30\n-1.5E-3,2E2\n").unwrap();
    assert_eq!(numbers(&table, 0), [6.02e23, -1.5e-3]);
}

#[test]
fn a_file_without_header_gets_numbered_columns() {
    let table = parse(b"1,2\n3,4\n").unwrap();
    assert!(!table.dialect.has_header);
    assert_eq!(table.column_names(), ["column 1", "column 2"]);
    assert_eq!(table.rows(), 2);
}

#[test]
fn an_extremely_long_line_parses_or_is_refused_with_its_line() {
    let mut text = b"note,x\n".to_vec();
    text.extend(std::iter::repeat_n(b'a', 3 << 20));
    text.extend(b",1\nshort,2\n");
    let table = parse(&text).unwrap();
    assert_eq!(numbers(&table, 1), [1.0, 2.0]);
    let mut huge = b"x\n\"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 17 << 20));
    assert!(matches!(parse_bytes(&huge, 1 << 20), Err(TableError::LineTooLong { line: 2, .. })));
    let wide = vec!["1"; 5000].join(",").into_bytes();
    let error = parse_bytes(&wide, 1 << 20).unwrap_err();
    assert!(matches!(error, TableError::TooManyColumns { line: 1, .. }));
    // Reading stops at the limit, so the sentence does not claim a count it never finished.
    assert_eq!(error.to_string(), "Line 1 has more than 1000 columns, the most the playground handles. Keep the columns you need and try again.");
}

#[test]
fn markup_in_a_header_is_kept_as_text() {
    let table = parse(b"<img src=x onerror=alert(1)>,b\n1,2\n").unwrap();
    assert_eq!(table.column_names()[0], "<img src=x onerror=alert(1)>");
}

#[test]
fn a_file_larger_than_a_tab_can_hold_is_refused_with_the_limit() {
    assert!(check_size(MAX_FILE_BYTES).is_ok());
    let err = check_size(3_400_000_000).unwrap_err();
    assert_eq!(err.to_string().split(';').next().unwrap(), "This file is 3.4 GB");
    assert!(err.to_string().contains("up to 1.1 GB"));
}

#[test]
fn text_columns_with_two_values_can_be_labels() {
    let table = parse(b"x,kind\n1,sig\n2,bkg\n3,bkg\n").unwrap();
    assert!(!table.columns[1].summary.numeric);
    assert_eq!(table.columns[1].two_valued(), Some(vec![0, 1, 1]));
}

/// Any bytes at all give a table or a located error, never a panic.
#[test]
fn random_bytes_never_panic() {
    let pieces: [&[u8]; 14] =
        [b",", b";", b"\t", b"\"", b"\n", b"\r\n", b"1.5", b"-", b"e9", b"abc", b"\xff", b"\x00", b"NaN", b" "];
    let mut rng = SeededRng::new(7);
    for case in 0..3000 {
        let mut bytes = Vec::new();
        for _ in 0..rng.below(60) {
            if rng.uniform() < 0.1 {
                bytes.push((rng.next_u64() & 0xff) as u8);
            } else {
                bytes.extend_from_slice(pieces[rng.below(pieces.len())]);
            }
        }
        let chunk = 1 + rng.below(9);
        match parse_bytes(&bytes, chunk) {
            Ok(table) => {
                assert!(table.rows() >= 1, "case {case}");
                assert!(table.columns.iter().all(|c| match &c.data {
                    ColumnData::Numeric(v) => v.len() == table.rows(),
                    ColumnData::Text { codes, many_values, .. } => *many_values || codes.len() == table.rows(),
                }));
            }
            Err(err) => assert!(!err.to_string().is_empty()),
        }
    }
}
