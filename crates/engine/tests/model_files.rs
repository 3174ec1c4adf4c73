//! Model files and the native scorer: a saved model reads back identical and scores identically; damaged
//! or foreign files are refused with a sentence; and `score_csv` (the `anomaly-score` program) writes
//! byte for byte what the page's download holds for the same model and file.

use std::io::Cursor;

use anomaly_engine::baselines::BaselineSettings;
use anomaly_engine::table::compare::{download_cells, download_column_names, Comparison, ComparisonChoice, DownloadColumns, Work};
use anomaly_engine::table::export::{ranks, ScoredCsv};
use anomaly_engine::table::model_file::{ModelFile, ModelFileError};
use anomaly_engine::table::prepare::{MissingPolicy, TableSetup};
use anomaly_engine::table::run::TableRun;
use anomaly_engine::table::score_file::{score_csv, score_csv_in_chunks, ScoreFileError};
use anomaly_engine::table::{dijet, parse_bytes, Table};

/// Trains a small model on `csv` as the page would with its suggested setup, and scores every row.
fn trained(csv: &[u8], missing: MissingPolicy) -> (Table, TableRun) {
    let table = parse_bytes(csv, 1 << 16).unwrap();
    let mut setup = TableSetup::suggested(&table);
    setup.missing = missing;
    setup.model.optimiser.epochs = 2;
    setup.model.vae.hidden_units = 16;
    setup.model.vae.latent_dims = 2;
    let mut run = TableRun::new(&table, &setup, None).unwrap();
    while !run.training().is_finished() {
        run.step().unwrap();
    }
    run.score_next(&table, table.rows()).unwrap();
    (table, run)
}

/// The page's download, assembled as the worker assembles it (`src/worker/tables.rs`).
fn page_download(table: &Table, csv: &[u8], scores: &[f32]) -> Vec<u8> {
    let writer = ScoredCsv::new(table);
    let header = table.header_span.map(|(a, b)| &csv[a as usize..b as usize]);
    let mut out = writer.start(header);
    let ranks = ranks(scores);
    for row in 0..table.rows() {
        let (a, b) = table.row_span(row);
        writer.push_row(&mut out, &csv[a as usize..b as usize], scores[row], ranks[row]);
    }
    out
}

fn toy_csv(rows: usize) -> Vec<u8> {
    dijet::to_csv(&dijet::generate(rows, 0.05, 3))
}

#[test]
fn a_saved_model_reads_back_identical_and_scores_the_same() {
    let csv = toy_csv(3000);
    let (_, run) = trained(&csv, MissingPolicy::DropRow);
    let model = run.model_file().unwrap();
    let bytes = model.to_bytes();
    let back = ModelFile::from_bytes(&bytes).unwrap();
    assert_eq!(back, model);
    assert_eq!(back.feature_names(), ["m_jj", "m_j1", "delta_m_j", "tau21_j1", "tau21_j2"]);
    let mut out = Vec::new();
    score_csv(&back, &mut Cursor::new(&csv), &mut out).unwrap();
    let mut again = Vec::new();
    score_csv(&model, &mut Cursor::new(&csv), &mut again).unwrap();
    assert_eq!(out, again);
}

#[test]
fn the_native_scorer_writes_what_the_page_downloads() {
    let csv = toy_csv(5000);
    let (table, run) = trained(&csv, MissingPolicy::DropRow);
    let expected = page_download(&table, &csv, &run.scores);
    let model = run.model_file().unwrap();
    for chunk in [7, 1000, 1 << 22] {
        let mut out = Vec::new();
        let summary = score_csv_in_chunks(&model, &mut Cursor::new(&csv), &mut out, chunk).unwrap();
        assert_eq!(summary.rows, 5000);
        assert!(out == expected, "chunks of {chunk} bytes: the output differs from the page's download");
    }
}

#[test]
fn dialects_quotes_missing_values_and_formulas_come_out_as_on_the_page() {
    // A BOM, CRLF, semicolons, quoted cells with the delimiter and a line break, a missing feature (the
    // row stays unscored under "drop"), a formula-like text cell, and columns in another order.
    let mut text = String::from("\u{feff}note;b;a;c\r\n");
    for i in 0..400 {
        let note = match i % 50 {
            0 => "\"two\r\nlines; quoted\"".to_string(),
            1 => "=HYPERLINK(\"x\")".to_string(),
            _ => format!("row {i}"),
        };
        let b = if i == 17 { "NA".to_string() } else { format!("{:.3}", (i as f32 * 0.37).sin() * 3.0) };
        text.push_str(&format!("{note};{b};{:.4};{}\r\n", (i as f32 * 0.11).cos(), i % 7));
    }
    let csv = text.into_bytes();
    for missing in [MissingPolicy::DropRow, MissingPolicy::Impute] {
        let (table, run) = trained(&csv, missing);
        assert_eq!(run.scores[17].is_nan(), missing == MissingPolicy::DropRow);
        let expected = page_download(&table, &csv, &run.scores);
        let mut out = Vec::new();
        score_csv_in_chunks(&run.model_file().unwrap(), &mut Cursor::new(&csv), &mut out, 13).unwrap();
        assert!(out == expected, "{missing:?}:\n{}\n---\n{}", String::from_utf8_lossy(&out[..300]), String::from_utf8_lossy(&expected[..300]));
    }
}

#[test]
fn a_file_without_a_feature_column_is_refused_by_name() {
    let (_, run) = trained(&toy_csv(2000), MissingPolicy::DropRow);
    let other = b"m_jj,m_j1,something_else\n1,2,3\n";
    let err = score_csv(&run.model_file().unwrap(), &mut Cursor::new(&other[..]), &mut Vec::new()).unwrap_err();
    assert!(matches!(err, ScoreFileError::MissingColumn(ref name, _) if name == "delta_m_j"), "{err}");
    assert!(err.to_string().starts_with("the file has no column named \"delta_m_j\""));
}

#[test]
fn damaged_and_foreign_files_are_refused_with_a_sentence() {
    let (_, run) = trained(&toy_csv(2000), MissingPolicy::DropRow);
    let model = run.model_file().unwrap();
    let bytes = model.to_bytes();

    assert!(matches!(ModelFile::from_bytes(b"not a model at all"), Err(ModelFileError::NotSafetensors(_))));
    assert!(matches!(ModelFile::from_bytes(&bytes[..bytes.len() / 2]), Err(ModelFileError::Damaged(_) | ModelFileError::NotSafetensors(_))));
    assert!(matches!(ModelFile::from_bytes(&[]), Err(ModelFileError::NotSafetensors(_))));

    // A real safetensors file that is not ours.
    let data = [1f32, 2.0];
    let bytes_of: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &bytes_of).unwrap();
    let foreign = safetensors::serialize([("x", view)], None).unwrap();
    assert_eq!(ModelFile::from_bytes(&foreign), Err(ModelFileError::NotOurs));

    // Same layout, a newer format version; then a weight that is not a finite number.
    // (The header is 8 bytes of length, then JSON; the edit keeps its length.)
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + header_len].to_vec()).unwrap();
    let mut newer = bytes[..8].to_vec();
    newer.extend_from_slice(header.replacen("\"format_version\":\"1\"", "\"format_version\":\"9\"", 1).as_bytes());
    newer.extend_from_slice(&bytes[8 + header_len..]);
    assert_eq!(ModelFile::from_bytes(&newer), Err(ModelFileError::Version("9".into())));
    // A model of a method this build does not know.
    let mut other_method = bytes[..8].to_vec();
    assert!(header.contains("\"method\":\"vae\""), "{header}");
    other_method.extend_from_slice(header.replacen("\"method\":\"vae\"", "\"method\":\"cnn\"", 1).as_bytes());
    other_method.extend_from_slice(&bytes[8 + header_len..]);
    let err = ModelFile::from_bytes(&other_method).unwrap_err();
    assert_eq!(err, ModelFileError::Method("cnn".into()));
    assert!(err.to_string().contains("cannot score"), "{err}");
    let mut with_nan = model.clone();
    with_nan.weights.decoder_output.bias[0] = f32::NAN;
    let err = ModelFile::from_bytes(&with_nan.to_bytes()).unwrap_err();
    assert!(err.to_string().contains("not a finite number"), "{err}");
    // A feature whose spread is zero would divide by zero when scoring.
    let mut flat = model.clone();
    flat.preprocessing.features[0].std = 0.0;
    assert!(matches!(ModelFile::from_bytes(&flat.to_bytes()), Err(ModelFileError::Damaged(_))));
}

#[test]
fn a_model_loaded_back_into_a_run_scores_every_row_identically() {
    let csv = toy_csv(3000);
    let (table, run) = trained(&csv, MissingPolicy::DropRow);
    let model = ModelFile::from_bytes(&run.model_file().unwrap().to_bytes()).unwrap();
    let mut loaded = TableRun::from_model(&table, &run.setup, &model).unwrap();
    assert!(loaded.training().is_finished(), "a loaded model does not train");
    loaded.score_next(&table, table.rows()).unwrap();
    assert!(loaded.scores.iter().zip(&run.scores).all(|(a, b)| a.to_bits() == b.to_bits()), "the same scores, bit for bit");
    let mut original = run;
    assert_eq!(loaded.results().roc.map(|r| r.auc), original.results().roc.map(|r| r.auc));
    assert_eq!(loaded.model_file().unwrap(), model, "saving it again gives the same file");

    // A file without one of the model's columns is told which.
    let other = parse_bytes(b"m_jj,m_j1,label\n1,2,0\n3,4,1\n", 64).unwrap();
    let setup = TableSetup::suggested(&other);
    let err = TableRun::from_model(&other, &setup, &model).err().unwrap();
    assert!(err.starts_with("This file has no column named \"delta_m_j\""), "{err}");
}

/// A model file written by the build before files named their method (commit 25a5c9f), with the file it
/// was trained on and what that build's scorer wrote for it: such files must keep opening and scoring
/// the same, byte for byte.
#[test]
fn a_file_written_before_the_method_field_still_loads_and_scores_the_same() {
    let fixture = |name: &str| std::fs::read(format!("{}/tests/fixtures/model-before-method-field.{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let bytes = fixture("safetensors");
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert!(!header.metadata().as_ref().unwrap().contains_key("method"), "the fixture predates the method field");
    let model = ModelFile::from_bytes(&bytes).unwrap();
    assert!(model.score_with_kl);
    let mut out = Vec::new();
    score_csv(&model, &mut Cursor::new(fixture("events.csv")), &mut out).unwrap();
    assert!(out == fixture("scored.csv"), "the old file scores differently now");
    // Saved again, it names its method and reads back the same.
    let again = model.to_bytes();
    let (_, header) = safetensors::SafeTensors::read_metadata(&again).unwrap();
    assert_eq!(header.metadata().as_ref().unwrap().get("method").map(String::as_str), Some("vae"));
    assert_eq!(ModelFile::from_bytes(&again).unwrap(), model);
}

/// The classical methods of a finished comparison (all five, on the setup the autoencoder trained with).
fn compared(table: &Table, setup: &TableSetup) -> Comparison {
    let choice = ComparisonChoice { settings: BaselineSettings { lof_k: 10, ..Default::default() }, ..Default::default() };
    let mut comparison = Comparison::new(table, setup, None, choice).unwrap();
    while comparison.step(table, 777) != Work::Finished {}
    assert!(comparison.runs.iter().all(|r| r.error.is_none()), "every method ran");
    comparison
}

/// The page's download with the comparison's columns, assembled as the worker assembles it.
fn page_download_with(table: &Table, csv: &[u8], scores: &[f32], columns: &[DownloadColumns]) -> Vec<u8> {
    let writer = ScoredCsv::new(table).with_extra_columns(&download_column_names(columns));
    let mut out = writer.start(table.header_span.map(|(a, b)| &csv[a as usize..b as usize]));
    let ranks = ranks(scores);
    for row in 0..table.rows() {
        let (a, b) = table.row_span(row);
        writer.push_row_with(&mut out, &csv[a as usize..b as usize], scores[row], ranks[row], download_cells(columns, row));
    }
    out
}

/// Rows of 18 normal features (kNN and LOF search them by matrix products, not a k-d tree), a few far
/// out, with a label.
fn wide_csv(rows: usize) -> Vec<u8> {
    let mut rng = anomaly_engine::rng::SeededRng::new(5);
    let mut text = (1..=18).map(|i| format!("x{i}")).collect::<Vec<_>>().join(",") + ",label\n";
    for r in 0..rows {
        let outlier = r % 40 == 0;
        let row: Vec<String> = (0..18).map(|_| format!("{:.4}", rng.normal() * if outlier { 3.0 } else { 1.0 })).collect();
        text += &format!("{},{}\n", row.join(","), u8::from(outlier));
    }
    text.into_bytes()
}

#[test]
fn a_model_with_the_classical_methods_scores_as_the_page_downloads() {
    for csv in [toy_csv(3000), wide_csv(1500)] {
        let (table, run) = trained(&csv, MissingPolicy::DropRow);
        let comparison = compared(&table, &run.setup);
        let expected = page_download_with(&table, &csv, &run.scores, &comparison.download_columns(&table));
        let mut model = run.model_file().unwrap();
        model.baselines = comparison.saved_baselines();
        let bytes = model.to_bytes();
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(header.metadata().as_ref().unwrap().get("format_version").map(String::as_str), Some("2"));
        let back = ModelFile::from_bytes(&bytes).unwrap();
        assert!(back == model, "the classical methods read back as saved");
        for chunk in [11, 1 << 22] {
            let mut out = Vec::new();
            let summary = score_csv_in_chunks(&back, &mut Cursor::new(&csv), &mut out, chunk).unwrap();
            assert_eq!(summary.baselines, ["pca", "iforest", "knn", "ecod", "lof"]);
            assert_eq!(summary.training_file, Some(true), "the training rows are recognised");
            if out != expected {
                let (a, b) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&expected));
                let (line, (x, y)) = a.lines().zip(b.lines()).enumerate().find(|(_, (x, y))| x != y).unwrap();
                panic!("chunks of {chunk}: line {line} differs:\n{x}\n{y}");
            }
        }
    }
}

#[test]
fn another_file_is_scored_as_new_rows() {
    let csv = toy_csv(3000);
    let (table, run) = trained(&csv, MissingPolicy::DropRow);
    let comparison = compared(&table, &run.setup);
    let mut model = run.model_file().unwrap();
    model.baselines = comparison.saved_baselines();
    // One training row's value changed: the fingerprint no longer matches.
    let place_0 = model.baselines.as_ref().unwrap().training_rows.as_ref().unwrap().rows[0] as usize;
    let mut edited = csv.clone();
    let (a, _) = table.row_span(place_0);
    let digit = (a as usize..).find(|&i| edited[i].is_ascii_digit()).unwrap();
    edited[digit] = if edited[digit] == b'9' { b'8' } else { edited[digit] + 1 };
    for file in [edited, toy_csv(2000)] {
        let mut out = Vec::new();
        let summary = score_csv(&model, &mut Cursor::new(&file), &mut out).unwrap();
        assert_eq!(summary.training_file, Some(false));
        // Each method's column holds its scores of the rows as new rows.
        let other = parse_bytes(&file, 1 << 16).unwrap();
        let text = String::from_utf8(out).unwrap();
        let knn_column = text.lines().next().unwrap().split(',').position(|c| c == "knn_score").unwrap();
        let saved = model.baselines.as_ref().unwrap();
        let knn = saved.methods.iter().find(|m| m.kind().key() == "knn").unwrap();
        let columns: Vec<usize> = saved.feature_names().iter().map(|n| other.columns.iter().position(|c| c.name() == *n).unwrap()).collect();
        for (row, line) in text.lines().skip(1).enumerate().step_by(97) {
            let mut prepared = vec![0f32; columns.len()];
            saved.preprocessing.transform_row(&other, &columns, row, &mut prepared);
            let expected = knn.score(anomaly_engine::baselines::Rows::new(&prepared, columns.len()))[0];
            assert_eq!(line.split(',').nth(knn_column).unwrap(), expected.to_string(), "row {row}");
        }
    }
}
