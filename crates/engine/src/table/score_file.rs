//! Scoring a CSV file of any size with a model file, outside the browser (the `anomaly-score` program).
//! The output is byte for byte what the page's download gives for the same model and file: the
//! autoencoder's `anomaly_score` and `rank`, and for a file that carries classical methods, each one's
//! `<method>_score` and, for its most anomalous rows, `<method>_top_features`.
//!
//! The file is read in chunks by the page's own parser in streaming mode, two or three times: if the
//! classical methods were fitted on rows of their own file, a first pass checks whether this is that
//! file (the rows it names, standardised, have the recorded fingerprint), since kNN, LOF and ECOD score
//! a training row differently from a new one; the next pass scores every row (keeping one score per row
//! and method, because ranks need them all); the last copies each row's original text and appends the
//! scores. Memory stays at a few MB plus a few bytes per row and method, whatever the file's size.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};

use super::compare::{download_cells, download_column_names, top_features_text, DownloadColumns, EXPLAINED_ROWS};
use super::error::TableError;
use super::export::{ranks, ScoredCsv};
use super::model_file::ModelFile;
use super::parse::TableParser;
use super::saved_baselines::{fold, row_hash, SavedBaselines, TrainingRowsRecord};
use crate::baselines::{Baseline, Rows};
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
    /// The classical methods' keys, in the order of their columns.
    pub baselines: Vec<&'static str>,
    /// Whether this is the file the classical methods were fitted on (its training rows were scored as
    /// training rows); `None` when the methods were fitted on another file, or there are none.
    pub training_file: Option<bool>,
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
    let baselines = model.baselines.as_ref();
    let training_file = match baselines.and_then(|b| b.training_rows.as_ref().map(|record| (b, record))) {
        Some((baselines, record)) => {
            let same = is_training_file(baselines, record, input, chunk)?;
            input.seek(SeekFrom::Start(0))?;
            Some(same)
        }
        None => None,
    };
    let places = match (baselines, training_file) {
        (Some(b), Some(true)) => b.training_places(),
        _ => HashMap::new(),
    };
    let (scores, columns) = score_rows(model, input, chunk, &places)?;
    let ranks = ranks(&scores);
    input.seek(SeekFrom::Start(0))?;
    write_scored(input, out, &scores, &ranks, &columns, chunk)?;
    let unscored = scores.iter().filter(|s| !s.is_finite()).count() as u64;
    Ok(ScoreSummary { rows: scores.len() as u64, unscored, baselines: columns.iter().map(|c| c.key).collect(), training_file })
}

/// Hands each row's number and its values in the columns named `wanted` (in that order) to `each`.
fn stream_rows<R: Read>(input: &mut R, chunk_bytes: usize, wanted: &[&str], mut each: impl FnMut(usize, &[f32])) -> Result<(), ScoreFileError> {
    let mut parser = TableParser::streaming();
    let mut columns: Option<Vec<usize>> = None;
    let (mut values, mut spans) = (Vec::new(), Vec::new());
    let mut picked = vec![0f32; wanted.len()];
    let mut chunk = vec![0u8; chunk_bytes.max(1)];
    let mut row = 0;
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
                let found = find_columns(wanted, names)?;
                let read = (0..names.len()).map(|k| found.contains(&k)).collect();
                parser.read_only_columns(read);
                columns = Some(found);
            }
        }
        parser.drain_rows(&mut values, &mut spans);
        let Some(columns) = columns.as_ref() else { continue };
        let width = parser.header().map_or(0, |(_, names, _)| names.len());
        for values in values.chunks_exact(width) {
            for (slot, &k) in picked.iter_mut().zip(columns) {
                *slot = values[k];
            }
            each(row, &picked);
            row += 1;
        }
        values.clear();
        spans.clear();
    }
    Ok(())
}

/// Where each wanted column is in the file, found by name as the page matches a background file.
fn find_columns(wanted: &[&str], names: &[String]) -> Result<Vec<usize>, ScoreFileError> {
    wanted
        .iter()
        .map(|feature| {
            names.iter().position(|n| n == feature).ok_or_else(|| {
                let mut all: Vec<&str> = Vec::new();
                for name in wanted {
                    if !all.contains(name) {
                        all.push(name);
                    }
                }
                ScoreFileError::MissingColumn(feature.to_string(), all.join(", "))
            })
        })
        .collect()
}

/// Pass 0: whether the rows the methods were fitted on are in this file, unchanged, where it says.
fn is_training_file<R: Read>(baselines: &SavedBaselines, record: &TrainingRowsRecord, input: &mut R, chunk: usize) -> Result<bool, ScoreFileError> {
    let places = baselines.training_places();
    let mut hashes = vec![0u64; record.rows.len()];
    let (mut found, mut usable) = (0usize, true);
    let mut prepared = vec![0f32; baselines.preprocessing.features.len()];
    stream_rows(input, chunk, &baselines.feature_names(), |row, raw| {
        if let Some(&place) = places.get(&row) {
            usable &= baselines.preprocessing.transform_values(raw, &mut prepared);
            hashes[place] = row_hash(&prepared);
            found += 1;
        }
    })?;
    Ok(usable && found == record.rows.len() && fold(hashes) == record.fingerprint)
}

/// One classical method's scores so far and its most anomalous rows (score, row, standardised values,
/// training place), best first.
struct MethodScores<'a> {
    model: &'a Baseline,
    scores: Vec<f32>,
    top: Vec<(f32, usize, Vec<f32>, Option<usize>)>,
}

impl MethodScores<'_> {
    /// Keeps the row if it is among the best so far; ties go to the earlier row, as on the page.
    fn offer(&mut self, score: f32, row: usize, values: &[f32], place: Option<usize>) {
        if !score.is_finite() || (self.top.len() == EXPLAINED_ROWS && score <= self.top[EXPLAINED_ROWS - 1].0) {
            return;
        }
        let at = self.top.partition_point(|t| t.0 >= score);
        self.top.insert(at, (score, row, values.to_vec(), place));
        self.top.truncate(EXPLAINED_ROWS);
    }
}

/// The classical methods' rows waiting to be scored together.
#[derive(Default)]
struct Batch {
    first_row: usize,
    values: Vec<f32>,
    keep: Vec<bool>,
    places: Vec<Option<usize>>,
}

/// Pass 1: the autoencoder's score of every row (NaN for a row the model's missing-value policy drops),
/// and each classical method's download columns.
fn score_rows<R: Read>(model: &ModelFile, input: &mut R, chunk: usize, places: &HashMap<usize, usize>) -> Result<(Vec<f32>, Vec<DownloadColumns>), ScoreFileError> {
    let scorer = CpuScorer::for_model(&model.scoring_model());
    let features = model.preprocessing.features.len();
    let mut wanted = model.feature_names();
    let baselines = model.baselines.as_ref();
    let baseline_width = baselines.map_or(0, |b| b.preprocessing.features.len());
    if let Some(b) = baselines {
        wanted.extend(b.feature_names());
    }
    let mut methods: Vec<MethodScores> =
        baselines.map_or(&[][..], |b| &b.methods[..]).iter().map(|model| MethodScores { model, scores: Vec::new(), top: Vec::new() }).collect();
    let mut scores = Vec::new();
    let mut batch = Vec::with_capacity(SCORE_BATCH * features);
    let mut keep = Vec::with_capacity(SCORE_BATCH);
    let mut pending = Batch::default();
    stream_rows(input, chunk, &wanted, |row, raw| {
        let at = batch.len();
        batch.resize(at + features, 0.0);
        keep.push(model.preprocessing.transform_values(&raw[..features], &mut batch[at..]));
        if keep.len() == SCORE_BATCH {
            flush(&scorer, &mut batch, &mut keep, &mut scores);
        }
        if let Some(b) = baselines {
            if pending.keep.is_empty() {
                pending.first_row = row;
            }
            let at = pending.values.len();
            pending.values.resize(at + baseline_width, 0.0);
            pending.keep.push(b.preprocessing.transform_values(&raw[features..], &mut pending.values[at..]));
            pending.places.push(places.get(&row).copied());
            if pending.keep.len() == SCORE_BATCH {
                score_baselines(&mut pending, baseline_width, &mut methods);
            }
        }
    })?;
    flush(&scorer, &mut batch, &mut keep, &mut scores);
    if !pending.keep.is_empty() {
        score_baselines(&mut pending, baseline_width, &mut methods);
    }
    let names = baselines.map(|b| b.feature_names()).unwrap_or_default();
    let columns = methods
        .into_iter()
        .map(|m| {
            let kind = m.model.kind();
            let top_features = kind.explains().then(|| {
                m.top.iter().map(|(_, row, values, place)| (*row, top_features_text(m.model, values, *place, &names))).collect()
            });
            DownloadColumns { key: kind.key(), scores: m.scores, top_features }
        })
        .collect();
    Ok((scores, columns))
}

fn score_baselines(pending: &mut Batch, width: usize, methods: &mut [MethodScores]) {
    let rows = Rows::new(&pending.values, width);
    let mut out = vec![0f32; pending.keep.len()];
    for method in methods.iter_mut() {
        method.model.score_into(rows, &|i| pending.places[i], &mut out);
        for (i, &score) in out.iter().enumerate() {
            let score = if pending.keep[i] { score } else { f32::NAN };
            method.scores.push(score);
            method.offer(score, pending.first_row + i, rows.row(i), pending.places[i]);
        }
    }
    pending.values.clear();
    pending.keep.clear();
    pending.places.clear();
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

/// Pass 2: every row's original bytes, then its score and rank, in the file's own dialect.
fn write_scored<R: Read, W: Write>(
    input: &mut R,
    out: &mut W,
    scores: &[f32],
    ranks: &[u32],
    columns: &[DownloadColumns],
    chunk_bytes: usize,
) -> Result<(), ScoreFileError> {
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
                let w = ScoredCsv::for_columns(dialect, names).with_extra_columns(&download_column_names(columns));
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
            w.push_row_with(&mut text, raw, scores[row], ranks[row], download_cells(columns, row));
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
