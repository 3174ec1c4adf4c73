//! Scoring a CSV file of any size with a model file, outside the browser (the `anomaly-score` program).
//! The output is byte for byte what the page's download gives for the same model and file.
//!
//! The file is read twice, in chunks, by the page's own parser in streaming mode: the first pass scores
//! every row (keeping one score per row, 4 bytes, because ranks need them all), the second copies each
//! row's original text and appends its score and rank. Memory stays at a few MB plus 8 bytes per row,
//! whatever the file's size.

use std::io::{Read, Seek, SeekFrom, Write};

use super::error::TableError;
use super::export::{ranks, ScoredCsv};
use super::model_file::ModelFile;
use super::parse::TableParser;
use crate::inference::CpuScorer;

const READ_CHUNK: usize = 4 << 20;
const SCORE_BATCH: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ScoreFileError {
    #[error("{0}")]
    Table(#[from] TableError),
    #[error("the file has no column named \"{0}\", which the model was trained on (its features: {1})")]
    MissingColumn(String, String),
    #[error("reading or writing failed: {0}")]
    Io(#[from] std::io::Error),
}

/// What was scored.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreSummary {
    pub rows: u64,
    /// Rows left unscored because a feature was missing and the model drops such rows.
    pub unscored: u64,
}

/// Scores every row of `input` (CSV in any dialect the page reads) with `model`, writing the scored file
/// to `out`.
pub fn score_csv<R: Read + Seek, W: Write>(model: &ModelFile, input: &mut R, out: &mut W) -> Result<ScoreSummary, ScoreFileError> {
    score_csv_in_chunks(model, input, out, READ_CHUNK)
}

/// As [`score_csv`], reading `chunk` bytes at a time (tests use small chunks to cross every boundary).
pub fn score_csv_in_chunks<R: Read + Seek, W: Write>(
    model: &ModelFile,
    input: &mut R,
    out: &mut W,
    chunk: usize,
) -> Result<ScoreSummary, ScoreFileError> {
    let scores = score_rows(model, input, chunk)?;
    let ranks = ranks(&scores);
    input.seek(SeekFrom::Start(0))?;
    write_scored(input, out, &scores, &ranks, chunk)?;
    let unscored = scores.iter().filter(|s| !s.is_finite()).count() as u64;
    Ok(ScoreSummary { rows: scores.len() as u64, unscored })
}

/// Pass 1: the score of every row, NaN for a row the model's missing-value policy drops.
fn score_rows<R: Read>(model: &ModelFile, input: &mut R, chunk_bytes: usize) -> Result<Vec<f32>, ScoreFileError> {
    let scorer = CpuScorer::for_model(&model.scoring_model());
    let features = model.preprocessing.features.len();
    let mut parser = TableParser::streaming();
    let mut columns: Option<Vec<usize>> = None;
    let (mut values, mut spans) = (Vec::new(), Vec::new());
    let mut scores = Vec::new();
    let mut batch = Vec::with_capacity(SCORE_BATCH * features);
    let mut keep = Vec::with_capacity(SCORE_BATCH);
    let mut raw = vec![0f32; features];
    let mut chunk = vec![0u8; chunk_bytes.max(1)];
    let mut done = false;
    while !done {
        let n = read_full(input, &mut chunk)?;
        if n == 0 {
            parser.finish_streaming()?;
            done = true;
        } else {
            parser.feed(&chunk[..n])?;
        }
        if columns.is_none() {
            if let Some((_, names, _)) = parser.header() {
                let found = feature_columns(model, names)?;
                let wanted = (0..names.len()).map(|k| found.contains(&k)).collect();
                parser.read_only_columns(wanted);
                columns = Some(found);
            }
        }
        parser.drain_rows(&mut values, &mut spans);
        let Some(columns) = columns.as_ref() else { continue };
        let width = parser.header().map_or(0, |(_, names, _)| names.len());
        for row in values.chunks_exact(width) {
            for (slot, &k) in raw.iter_mut().zip(columns) {
                *slot = row[k];
            }
            let at = batch.len();
            batch.resize(at + features, 0.0);
            keep.push(model.preprocessing.transform_values(&raw, &mut batch[at..]));
            if keep.len() == SCORE_BATCH {
                flush(&scorer, &mut batch, &mut keep, &mut scores);
            }
        }
        values.clear();
        spans.clear();
    }
    flush(&scorer, &mut batch, &mut keep, &mut scores);
    Ok(scores)
}

fn flush(scorer: &CpuScorer, batch: &mut Vec<f32>, keep: &mut Vec<bool>, scores: &mut Vec<f32>) {
    let at = scores.len();
    scores.resize(at + keep.len(), 0.0);
    scorer.score(batch, &mut scores[at..]);
    for (score, &kept) in scores[at..].iter_mut().zip(keep.iter()) {
        if !kept {
            *score = f32::NAN;
        }
    }
    batch.clear();
    keep.clear();
}

/// Where each of the model's features is in the file, found by name as the page matches a background file.
fn feature_columns(model: &ModelFile, names: &[String]) -> Result<Vec<usize>, ScoreFileError> {
    model
        .feature_names()
        .iter()
        .map(|feature| {
            names.iter().position(|n| n == feature).ok_or_else(|| {
                ScoreFileError::MissingColumn(feature.to_string(), model.feature_names().join(", "))
            })
        })
        .collect()
}

/// Pass 2: every row's original bytes, then its score and rank, in the file's own dialect.
fn write_scored<R: Read, W: Write>(input: &mut R, out: &mut W, scores: &[f32], ranks: &[u32], chunk_bytes: usize) -> Result<(), ScoreFileError> {
    let mut parser = TableParser::streaming();
    let mut writer: Option<ScoredCsv> = None;
    // The file's bytes from `window_start` on, kept until every row that starts in them is written.
    let mut window: Vec<u8> = Vec::new();
    let mut window_start = 0u64;
    let (mut values, mut spans) = (Vec::new(), Vec::new());
    let mut row = 0usize;
    let mut text = Vec::new();
    let mut chunk = vec![0u8; chunk_bytes.max(1)];
    let mut done = false;
    while !done {
        let n = read_full(input, &mut chunk)?;
        window.extend_from_slice(&chunk[..n]);
        if n == 0 {
            parser.finish_streaming()?;
            done = true;
        } else {
            parser.feed(&chunk[..n])?;
        }
        if writer.is_none() {
            if let Some((dialect, names, header_span)) = parser.header() {
                let w = ScoredCsv::for_columns(dialect, names);
                let columns = names.len();
                let header = header_span.map(|(a, b)| &window[(a - window_start) as usize..(b - window_start) as usize]);
                out.write_all(&w.start(header))?;
                writer = Some(w);
                parser.read_only_columns(vec![false; columns]); // this pass only copies text
            }
        }
        parser.drain_rows(&mut values, &mut spans);
        values.clear();
        let Some(w) = writer.as_ref() else { continue };
        text.clear();
        for &(a, b) in &spans {
            let raw = &window[(a - window_start) as usize..(b - window_start) as usize];
            w.push_row(&mut text, raw, scores[row], ranks[row]);
            row += 1;
        }
        out.write_all(&text)?;
        // Keep only the bytes of rows not yet complete.
        if let Some(&(_, end)) = spans.last() {
            window.drain(..(end - window_start) as usize);
            window_start = end;
        }
        spans.clear();
    }
    out.flush()?;
    Ok(())
}

/// Fills `buffer` as far as the input allows; 0 means the end.
fn read_full<R: Read>(input: &mut R, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
