//! The doors through which outside bytes enter the playground, each with the promises it must keep
//! whatever arrives: it never panics, it allocates no more than its input can justify (the fuzzers and
//! the corpus test measure that), every refusal is one sentence, and what it accepts comes back out
//! unchanged (a CSV file's lines in the download, a link's setup in the link it writes, a model file in
//! the file it saves).
//!
//! `fuzz/` runs these checks under libFuzzer (`make fuzz`); `tests/corpus.rs` runs them on the malformed
//! files kept in `tests/fuzz-corpus/`, including every input a fuzzer ever found a problem with.

use anomaly_engine::baselines::Rows;
use anomaly_engine::data::mnist::DigitSet;
use anomaly_engine::inference::CpuScorer;
use anomaly_engine::objects::table::{read_events, study_data};
use anomaly_engine::table::export::{is_formula, ScoredCsv};
use anomaly_engine::digit_session::DigitSession;
use anomaly_engine::table::model_file::ModelFile;
use anomaly_engine::table::parse::{split_record, trim_line_ends};
use anomaly_engine::table::{parse_bytes, ColumnData, ColumnSummary, Table};
use anomaly_state::link::{decode, encode};

/// The longest refusal a visitor should have to read.
const MAX_SENTENCE_CHARS: usize = 600;
/// The longest link notice (see `anomaly_state::link`); a hostile link must not fill the screen.
const MAX_LINK_NOTICE_CHARS: usize = 1500;

/// The doors, by the name their fuzz target and corpus folder go by.
pub const DOORS: [(&str, fn(&[u8])); 5] = [
    ("csv", check_csv),
    ("link", check_link),
    ("model_file", check_model_file),
    ("digits", check_digits),
    ("object_events", check_object_events),
];

/// A refusal reads as one sentence: not empty, no line breaks, not a wall of text.
fn assert_sentence(text: &str) {
    assert!(!text.trim().is_empty(), "an empty message");
    assert!(!text.contains('\n'), "a message over several lines: {text:?}");
    assert!(text.chars().count() <= MAX_SENTENCE_CHARS, "a message of {} characters: {text:?}", text.chars().count());
}

/// A visitor's table of events as object lists, for the Events view: refused in a sentence, or events
/// whose every object has a finite direction and a pT of zero or more, which become a study's data (or a
/// sentence saying there are too few).
pub fn check_object_events(bytes: &[u8]) {
    let table = match parse_bytes(bytes, 4096) {
        Ok(table) => table,
        Err(err) => return assert_sentence(&err.to_string()),
    };
    let events = match read_events(&table) {
        Ok(events) => events,
        Err(err) => return assert_sentence(&err.to_string()),
    };
    assert_eq!(events.len(), table.rows(), "one event a row");
    for (event, _, kind) in &events {
        assert!(!kind.is_empty(), "every event has a kind");
        for (_, object) in event.objects() {
            assert!(object.pt > 0.0 && object.pt.is_finite() && object.eta.is_finite() && object.phi.is_finite(), "{object:?}");
        }
    }
    let rows = events.len();
    match study_data(events, bytes.len() as u64, "fuzz.csv") {
        Ok(data) => {
            let signal: usize = data.test_signals.iter().map(|g| g.events.len()).sum();
            assert!(data.train.len() + data.test_background.len() + signal <= rows);
            assert!(!data.train.is_empty() && !data.test_background.is_empty() && signal > 0);
        }
        Err(err) => assert_sentence(&err.to_string()),
    }
}

/// The file read on three threads (under the fuzzer, pieces of a few dozen bytes), in slices of at least
/// half the file so that there is something to cut.
fn parse_on_three_threads(bytes: &[u8], chunk: usize) -> Result<Table, anomaly_engine::table::TableError> {
    anomaly_engine::parallel::set_threads(3);
    let parsed = parse_bytes(bytes, chunk.max(bytes.len() / 2));
    anomaly_engine::parallel::set_threads(1);
    parsed
}

/// Two parses of one file agree in everything a table holds (numbers to the bit: NaN marks a missing cell).
fn assert_same_table(a: &Table, b: &Table) {
    assert_eq!((&a.dialect, &a.header_span, &a.notes), (&b.dialect, &b.header_span, &b.notes), "threads changed the table");
    assert_eq!((&a.row_starts, &a.row_lines), (&b.row_starts, &b.row_lines), "threads changed the rows");
    assert_eq!(a.columns.len(), b.columns.len());
    for (x, y) in a.columns.iter().zip(&b.columns) {
        let same_numbers = |p: Option<f64>, q: Option<f64>| p.map(f64::to_bits) == q.map(f64::to_bits);
        let (s, t) = (&x.summary, &y.summary);
        assert!(same_numbers(s.min, t.min) && same_numbers(s.max, t.max) && same_numbers(s.mean, t.mean), "threads changed {}", s.name);
        let rest = |s: &ColumnSummary| ColumnSummary { min: None, max: None, mean: None, ..s.clone() };
        assert_eq!(rest(s), rest(t), "threads changed a column's summary");
        match (&x.data, &y.data) {
            (ColumnData::Numeric(p), ColumnData::Numeric(q)) => {
                assert!(p.iter().map(|v| v.to_bits()).eq(q.iter().map(|v| v.to_bits())), "threads changed {}", s.name)
            }
            (p, q) => assert_eq!(p, q, "threads changed {}", s.name),
        }
    }
}

/// A visitor's table: parsed in slices of any size to the same table, and written back out (the
/// download) with every line it read.
pub fn check_csv(bytes: &[u8]) {
    // The browser hands the parser slices of whatever size it reads; the first byte picks one.
    let chunk = 1 + bytes.first().map_or(0, |&b| b as usize % 61);
    let table = match parse_bytes(bytes, chunk) {
        Ok(table) => table,
        Err(err) => {
            assert_sentence(&err.to_string());
            assert_eq!(parse_bytes(bytes, bytes.len().max(1)).err(), Some(err.clone()), "the slice size changed the verdict");
            assert_eq!(parse_on_three_threads(bytes, chunk).err(), Some(err), "threads changed the first problem");
            return;
        }
    };
    let whole = parse_bytes(bytes, bytes.len().max(1)).expect("the slice size changed the verdict");
    match parse_on_three_threads(bytes, chunk) {
        Ok(threaded) => assert_same_table(&threaded, &whole),
        Err(err) => panic!("threads changed the verdict: {err}"),
    }
    assert_eq!((whole.rows(), whole.column_names()), (table.rows(), table.column_names()), "the slice size changed the table");
    assert_eq!((&whole.row_starts, &whole.header_span), (&table.row_starts, &table.header_span));
    for note in &table.notes {
        assert_sentence(note);
    }
    // The rows and the header cover the file: nothing read is dropped from the download.
    let bom = if table.dialect.bom { 3 } else { 0 };
    let first_row = table.row_starts[0] as usize;
    match table.header_span {
        Some((start, end)) => assert_eq!((start as usize, end as usize), (bom, first_row), "bytes between the header and the rows"),
        None => assert_eq!(first_row, bom, "bytes before the first row"),
    }
    assert_eq!(*table.row_starts.last().unwrap() as usize, bytes.len(), "bytes after the last row");
    // Each line comes back unchanged, but for cells a spreadsheet would run, which gain an apostrophe.
    let writer = ScoredCsv::new(&table);
    let delimiter = table.dialect.delimiter as char;
    let line_end: &[u8] = if table.dialect.crlf { b"\r\n" } else { b"\n" };
    let mut spans: Vec<(usize, usize)> = table.header_span.iter().map(|&(a, b)| (a as usize, b as usize)).collect();
    spans.extend((0..table.rows()).map(|row| {
        let (a, b) = table.row_span(row);
        (a as usize, b as usize)
    }));
    for (k, &(start, end)) in spans.iter().enumerate() {
        let raw = trim_line_ends(&bytes[start..end]);
        let written = if k == 0 && table.header_span.is_some() {
            writer.start(Some(&bytes[start..end]))[bom..].to_vec()
        } else {
            let mut out = Vec::new();
            writer.push_row(&mut out, &bytes[start..end], f32::NAN, 0);
            out
        };
        let record = written.strip_suffix(line_end).expect("every written line ends like the file's lines");
        let (record, added) = rsplit_twice(record, table.dialect.delimiter);
        if k > 0 || table.header_span.is_none() {
            assert_eq!(added, [&b""[..], &b""[..]], "an unscored row gets empty score and rank");
        }
        if record == raw {
            continue;
        }
        let original = split_record(raw, &table.dialect);
        let safe = split_record(record, &table.dialect);
        assert_eq!(original.len(), safe.len(), "line {k}: the written line has other fields ({delimiter:?})");
        for (before, after) in original.iter().zip(&safe) {
            if is_formula(before) {
                assert_eq!(after, &format!("'{before}"), "a formula cell is neutralised");
            } else {
                assert_eq!(after, before, "a cell changed on the way out");
            }
        }
    }
}

/// Splits the last two delimiter-separated fields off a written line: (the original part, [score, rank]).
fn rsplit_twice(line: &[u8], delimiter: u8) -> (&[u8], [&[u8]; 2]) {
    let last = line.iter().rposition(|&b| b == delimiter).expect("the rank's delimiter");
    let before = line[..last].iter().rposition(|&b| b == delimiter).expect("the score's delimiter");
    (&line[..before], [&line[before + 1..last], &line[last + 1..]])
}

/// A share link, typed or edited by anyone: decoded to a setup the playground can run, with a notice of
/// bounded size, and written back to a link that reads the same with no problem.
pub fn check_link(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let decoded = decode(&text);
    if let Some(summary) = decoded.summary() {
        assert!(summary.chars().count() <= MAX_LINK_NOTICE_CHARS, "a notice of {} characters", summary.chars().count());
        assert!(!summary.contains('\n'), "a notice over several lines: {summary:?}");
    }
    assert!(decoded.setup.digits.problems().is_empty(), "the decoded digit settings cannot run");
    assert!(decoded.setup.awareness.problems(&decoded.setup.digits).is_empty(), "the decoded awareness settings cannot run");
    assert!(decoded.setup.simulation.problems().is_empty(), "the decoded simulation cannot run");
    let again = decode(&encode(&decoded.setup));
    assert_eq!(again.problems, vec![], "the link written from a decoded setup has problems");
    assert_eq!(again.setup, decoded.setup, "the link written from a decoded setup reads differently");
}

/// A `.safetensors` file a visitor loads, as a table's model or as a digits session: refused in a
/// sentence, or a model that scores a row (a session with weights of its own settings' shapes), saves to a
/// file that reads back the same.
pub fn check_model_file(bytes: &[u8]) {
    match DigitSession::from_bytes(bytes) {
        Err(err) => assert_sentence(&err.to_string()),
        Ok(session) => {
            let vae = &session.settings.model.vae;
            assert!(session.stage1.hidden() == vae.hidden_units && session.stage1.encoder_mean.outputs == vae.latent_dims, "a session's network does not fit its settings");
            let reread = DigitSession::from_bytes(&session.to_bytes()).expect("a saved session reads back");
            assert!(reread == session, "a session changes on a save and read");
        }
    }
    match ModelFile::from_bytes(bytes) {
        Err(err) => assert_sentence(&err.to_string()),
        Ok(model) => {
            let scorer = CpuScorer::for_model(&model.scoring_model());
            let mut score = [0f32];
            scorer.score(&vec![0.0; scorer.features()], &mut score);
            // Every classical method it carries scores and explains a row, as a new row and as its
            // first training row, whatever numbers the file holds.
            for method in model.baselines.iter().flat_map(|b| &b.methods) {
                for value in [0.0f32, 3.0e38] {
                    let row = vec![value; method.width()];
                    for place in [None, Some(0)] {
                        let mut score = [0f32];
                        method.score_into(Rows::new(&row, row.len()), &|_| place, &mut score);
                        let _ = method.explain(&row, place);
                    }
                }
            }
            let reread = ModelFile::from_bytes(&model.to_bytes()).expect("a saved model reads back");
            assert!(reread == model, "a model changes on a save and read");
        }
    }
}

/// The packed digit file the page fetches: a broken deployment's bytes are refused in a sentence; a
/// file that reads encodes back to the same bytes.
pub fn check_digits(bytes: &[u8]) {
    match DigitSet::decode(bytes) {
        Err(err) => assert_sentence(&err.to_string()),
        Ok(digits) => assert!(digits.encode() == bytes, "a digit file changes on a read and write"),
    }
}
