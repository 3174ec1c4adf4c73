//! "Would a simple method do?": the classical baselines (`crate::baselines`) fitted on the rows the
//! autoencoder trains on and scoring every row of the table, then set side by side with it: AUC,
//! average precision, max SIC and 1/ε_B at ε_S = 30 % when there is a label, the score histograms and
//! how far the methods' top rows agree when there is not, and for each method's top rows the features
//! that made their scores.
//!
//! A `Comparison` advances a slice at a time (`step`), so the worker can report progress and answer
//! Cancel between slices; the caller times each slice and books it (`add_time`), since the engine has
//! no clock in the browser.

use serde::{Deserialize, Serialize};

use super::column::{ColumnData, NO_LABEL};
use super::export::ExtraCell;
use super::prepare::{Preprocessing, TableSetup};
use super::run::{training_rows, TrainingRows};
use super::saved_baselines::{fingerprint, SavedBaselines, TrainingRowsRecord};
use super::Table;
use crate::baselines::lof::LofFitting;
use crate::baselines::{Baseline, BaselineKind, BaselineSettings, Contribution, FeatureRanges, Rows};
use crate::metrics::{average_precision, robust_range, roc_curve, Histogram, Roc};
use crate::sic::{sic_figures, SicFigures};

/// Each method's most anomalous rows that are explained.
pub const EXPLAINED_ROWS: usize = 20;
/// Features shown per explained row.
pub const FEATURES_SHOWN: usize = 5;
/// Without a label, methods are compared by how many of their top rows they share.
pub const AGREEMENT_ROWS: usize = 100;
const HISTOGRAM_BINS: usize = 40;
const CURVE_POINTS: usize = 200;

/// What the visitor ticked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonChoice {
    pub methods: Vec<BaselineKind>,
    pub settings: BaselineSettings,
}

impl Default for ComparisonChoice {
    fn default() -> Self {
        Self { methods: BaselineKind::ALL.to_vec(), settings: BaselineSettings::default() }
    }
}

/// One method's run: its model, its scores of every table row (NaN where a row cannot be scored), or
/// why it could not run.
pub struct MethodRun {
    pub kind: BaselineKind,
    pub model: Option<Baseline>,
    pub scores: Vec<f32>,
    pub error: Option<String>,
    pub fit_ms: f64,
    pub score_ms: f64,
    /// Reading and standardising the rows for it from the table (not the method's own work).
    pub prepare_ms: f64,
}

/// A slice of rows read from the table and standardised, waiting to be scored.
struct Prepared {
    start: usize,
    rows: Vec<f32>,
    keep: Vec<bool>,
}

enum Stage {
    /// The next method is fitted at the next step.
    Fit,
    /// LOF's training rows are finding their neighbours.
    Lof(Box<LofFitting>),
    /// Rows before `next_row` are scored; `prepared` is the next slice, if read already.
    Score { next_row: usize, prepared: Option<Prepared> },
}

/// What a step did, for the caller's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    Fit(BaselineKind),
    /// Rows read and standardised for a method's scoring.
    Prepare(BaselineKind),
    Score(BaselineKind),
    Finished,
}

pub struct Comparison {
    pub choice: ComparisonChoice,
    columns: Vec<usize>,
    preprocessing: Preprocessing,
    labels: Option<Vec<u8>>,
    train: Vec<f32>,
    /// For each table row, its place among the training rows, or `u32::MAX`.
    training_place: Vec<u32>,
    /// Each training row's table row, when they are rows of this table (not of a background file).
    training_table_rows: Option<Vec<u32>>,
    ranges: FeatureRanges,
    rows: usize,
    pub runs: Vec<MethodRun>,
    stage: Stage,
    fitted_on: FittedOn,
    /// Methods read from a model file, taken in turn instead of being fitted.
    loaded: Vec<Baseline>,
    /// The model file's record of its training rows, kept for saving the methods again.
    loaded_record: Option<TrainingRowsRecord>,
}

/// Where a comparison's methods were fitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FittedOn {
    /// Here, on the rows the autoencoder trains on.
    #[default]
    ThisRun,
    /// Read from a model file fitted on rows of this very file: they score exactly as when fitted.
    ModelFileSameRows,
    /// Read from a model file fitted on other rows: every row here is new to them.
    ModelFileOtherRows,
}

impl Comparison {
    /// The methods of `choice`, to be fitted on the rows `setup` trains on.
    pub fn new(table: &Table, setup: &TableSetup, background: Option<&Table>, choice: ComparisonChoice) -> Result<Self, String> {
        if choice.methods.is_empty() {
            return Err("Tick at least one method to compare.".into());
        }
        if let Some(problem) = setup.problems(table).into_iter().next() {
            return Err(problem);
        }
        let labels = setup.labels(table);
        let TrainingRows { selection, preprocessing, train, from_scored_table, .. } = training_rows(table, setup, background, labels.as_deref())?;
        let mut training_place = vec![u32::MAX; table.rows()];
        if from_scored_table {
            for (place, &row) in selection.train.iter().enumerate() {
                training_place[row] = place as u32;
            }
        }
        let training_table_rows = from_scored_table.then(|| selection.train.iter().map(|&r| r as u32).collect());
        let ranges = ranges_in_table_units(&train, &preprocessing, choice.settings.seed);
        let mut methods: Vec<BaselineKind> = Vec::new();
        for kind in &choice.methods {
            if !methods.contains(kind) {
                methods.push(*kind);
            }
        }
        Ok(Self {
            choice: ComparisonChoice { methods, settings: choice.settings },
            columns: setup.feature_columns(),
            preprocessing,
            labels,
            train,
            training_place,
            training_table_rows,
            ranges,
            rows: table.rows(),
            runs: Vec::new(),
            stage: Stage::Fit,
            fitted_on: FittedOn::ThisRun,
            loaded: Vec::new(),
            loaded_record: None,
        })
    }

    /// The methods a model file carries, to score `table` without fitting them again. When `table` is
    /// the file they were fitted on (the rows the model file names, standardised, have its fingerprint),
    /// those rows are scored as training rows, exactly as when the methods were fitted; otherwise every
    /// row is new to them, as in the native scorer. `setup` gives the label.
    pub fn from_saved(table: &Table, setup: &TableSetup, saved: &SavedBaselines) -> Result<Self, String> {
        let columns = saved
            .feature_names()
            .iter()
            .map(|name| {
                table.column_names().iter().position(|n| n == name).ok_or_else(|| {
                    format!("This file has no column named \"{name}\", which the model file's classical methods were fitted on.")
                })
            })
            .collect::<Result<Vec<usize>, _>>()?;
        if let Some(&k) = columns.iter().find(|&&k| !matches!(table.columns[k].data, ColumnData::Numeric(_))) {
            return Err(format!("The column \"{}\" holds text, but the model file's classical methods read it as a number.", table.columns[k].name()));
        }
        let preprocessing = saved.preprocessing.clone();
        let width = columns.len();
        let record = saved.training_rows.as_ref();
        let same_rows = record.and_then(|record| {
            let mut train = vec![0f32; record.rows.len() * width];
            for (row, out) in record.rows.iter().zip(train.chunks_exact_mut(width)) {
                let row = *row as usize;
                if row >= table.rows() || !preprocessing.transform_row(table, &columns, row, out) {
                    return None;
                }
            }
            (fingerprint(train.chunks_exact(width)) == record.fingerprint).then_some((train, record.rows.clone()))
        });
        let mut training_place = vec![u32::MAX; table.rows()];
        let (fitted_on, train, training_table_rows, ranges) = match same_rows {
            Some((train, rows)) => {
                for (place, &row) in rows.iter().enumerate() {
                    training_place[row as usize] = place as u32;
                }
                let ranges = ranges_in_table_units(&train, &preprocessing, saved.settings.seed);
                (FittedOn::ModelFileSameRows, train, Some(rows), ranges)
            }
            None => {
                // No training rows here to show a typical range of: this file's own rows stand in.
                let sample = sample_rows(table, &columns, &preprocessing, RANGE_ROWS);
                (FittedOn::ModelFileOtherRows, Vec::new(), None, ranges_in_table_units(&sample, &preprocessing, saved.settings.seed))
            }
        };
        Ok(Self {
            choice: ComparisonChoice { methods: saved.methods.iter().map(Baseline::kind).collect(), settings: saved.settings.clone() },
            columns,
            preprocessing,
            labels: setup.labels(table),
            train,
            training_place,
            training_table_rows,
            ranges,
            rows: table.rows(),
            runs: Vec::new(),
            stage: Stage::Fit,
            fitted_on,
            loaded: saved.methods.clone(),
            loaded_record: saved.training_rows.clone(),
        })
    }

    pub fn fitted_on(&self) -> FittedOn {
        self.fitted_on
    }

    pub fn width(&self) -> usize {
        self.preprocessing.features.len()
    }

    /// How many rows the methods were fitted on; 0 when a model file's methods were fitted on a separate
    /// background file, which the file does not count.
    pub fn training_rows(&self) -> usize {
        match (&self.loaded_record, self.fitted_on) {
            (Some(record), FittedOn::ModelFileOtherRows) => record.rows.len(),
            (None, FittedOn::ModelFileOtherRows) => 0,
            _ => self.train.len() / self.width(),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.runs.len() == self.choice.methods.len() && matches!(self.stage, Stage::Fit)
    }

    /// The method being worked on and the share of all the work done (each method counts equally).
    pub fn progress(&self) -> (Option<BaselineKind>, f64) {
        let methods = self.choice.methods.len() as f64;
        // While LOF finds its neighbours or a method scores, its run is pushed but not finished.
        let (unfinished, within) = match &self.stage {
            Stage::Fit => (0, 0.0),
            Stage::Lof(fitting) => (1, 0.5 * fitting.progress()),
            Stage::Score { next_row, .. } => {
                let lof = self.runs.last().is_some_and(|r| r.kind == BaselineKind::Lof);
                let share = *next_row as f64 / self.rows.max(1) as f64;
                (1, if lof { 0.5 + 0.5 * share } else { share })
            }
        };
        let done = (self.runs.len() - unfinished) as f64;
        let current = if unfinished == 1 { self.runs.last().map(|r| r.kind) } else { self.choice.methods.get(self.runs.len()).copied() };
        (current, ((done + within) / methods).min(1.0))
    }

    /// Does a slice of work: one fit, a slice of LOF's neighbourhoods, or up to `max_rows` scored rows.
    pub fn step(&mut self, table: &Table, max_rows: usize) -> Work {
        match std::mem::replace(&mut self.stage, Stage::Fit) {
            Stage::Fit => {
                let Some(&kind) = self.choice.methods.get(self.runs.len()) else { return Work::Finished };
                if let Some(at) = self.loaded.iter().position(|m| m.kind() == kind) {
                    let model = self.loaded.swap_remove(at);
                    self.runs.push(self.empty_run(kind, Some(model), None));
                    self.stage = Stage::Score { next_row: 0, prepared: None };
                    return Work::Fit(kind);
                }
                let train = Rows::new(&self.train, self.width());
                let fitted = if kind == BaselineKind::Lof {
                    let s = &self.choice.settings;
                    match LofFitting::new(train, s.lof_k, s.neighbour_rows, s.seed) {
                        Ok(fitting) => {
                            self.runs.push(self.empty_run(kind, None, None));
                            self.stage = Stage::Lof(Box::new(fitting));
                            return Work::Fit(kind);
                        }
                        Err(e) => Err(e),
                    }
                } else {
                    Baseline::fit(kind, train, &self.choice.settings)
                };
                match fitted {
                    Ok(model) => {
                        self.runs.push(self.empty_run(kind, Some(model), None));
                        self.stage = Stage::Score { next_row: 0, prepared: None };
                    }
                    Err(e) => self.runs.push(self.empty_run(kind, None, Some(e.to_string()))),
                }
                Work::Fit(kind)
            }
            Stage::Lof(mut fitting) => {
                // A slice of training rows costs about what as many scored rows cost.
                match fitting.step(max_rows.max(1)) {
                    Some(lof) => {
                        self.runs.last_mut().expect("LOF's run was pushed").model = Some(Baseline::Lof(lof));
                        self.stage = Stage::Score { next_row: 0, prepared: None };
                    }
                    None => self.stage = Stage::Lof(fitting),
                }
                Work::Fit(BaselineKind::Lof)
            }
            Stage::Score { next_row, prepared: None } => {
                let end = (next_row + max_rows.max(1)).min(self.rows);
                let mut rows = vec![0f32; (end - next_row) * self.width()];
                let mut keep = vec![true; end - next_row];
                self.preprocessing.transform_rows(table, &self.columns, next_row, end, &mut rows, &mut keep);
                self.stage = Stage::Score { next_row, prepared: Some(Prepared { start: next_row, rows, keep }) };
                Work::Prepare(self.runs.last().expect("a fitted run").kind)
            }
            Stage::Score { prepared: Some(Prepared { start, rows, keep }), .. } => {
                let width = self.width();
                let run = self.runs.last_mut().expect("a fitted run");
                let model = run.model.as_ref().expect("fitted before scoring");
                let end = start + keep.len();
                let places = &self.training_place[start..end];
                let mut scores = vec![0f32; keep.len()];
                model.score_into(Rows::new(&rows, width), &|i| (places[i] != u32::MAX).then_some(places[i] as usize), &mut scores);
                for (i, (score, keep)) in scores.into_iter().zip(keep).enumerate() {
                    run.scores[start + i] = if keep { score } else { f32::NAN };
                }
                let kind = run.kind;
                if end < self.rows {
                    self.stage = Stage::Score { next_row: end, prepared: None };
                }
                Work::Score(kind)
            }
        }
    }

    fn empty_run(&self, kind: BaselineKind, model: Option<Baseline>, error: Option<String>) -> MethodRun {
        MethodRun { kind, model, scores: vec![f32::NAN; self.rows], error, fit_ms: 0.0, score_ms: 0.0, prepare_ms: 0.0 }
    }

    /// Books `ms` of the caller's clock to the work a step said it did.
    pub fn add_time(&mut self, work: Work, ms: f64) {
        let run = match work {
            Work::Fit(kind) | Work::Prepare(kind) | Work::Score(kind) => self.runs.iter_mut().rev().find(|r| r.kind == kind),
            Work::Finished => None,
        };
        if let Some(run) = run {
            match work {
                Work::Fit(_) => run.fit_ms += ms,
                Work::Prepare(_) => run.prepare_ms += ms,
                _ => run.score_ms += ms,
            }
        }
    }

    /// Everything the comparison panel shows. `autoencoder` adds the trained autoencoder's scores of the
    /// same rows, so it is judged beside the baselines.
    pub fn summary(&self, table: &Table, autoencoder: Option<AutoencoderScores>) -> ComparisonSummary {
        let mut methods: Vec<MethodSummary> = Vec::new();
        if let Some(vae) = autoencoder.filter(|a| a.scores.len() == self.rows) {
            let mut summary = self.method_summary(table, "vae", "VAE (autoencoder)", vae.scores, Explainer::Autoencoder(vae.explain), vae.fit_ms, None, None);
            summary.explanation_meaning = Some(AUTOENCODER_EXPLANATION.into());
            methods.push(summary);
        }
        for run in &self.runs {
            let explainer = run.model.as_ref().map_or(Explainer::Nothing, Explainer::Baseline);
            let fit_ms = (self.fitted_on == FittedOn::ThisRun).then_some(run.fit_ms);
            let mut summary = self.method_summary(table, run.kind.key(), run.kind.name(), &run.scores, explainer, fit_ms, Some(run.score_ms), run.error.clone());
            summary.note = run.model.as_ref().and_then(note_of);
            summary.prepare_ms = Some(run.prepare_ms);
            methods.push(summary);
        }
        let agreement = agreement(&methods.iter().map(|m| &m.top_scored[..]).collect::<Vec<_>>());
        let verdict = verdict(&methods, self.labels.is_some());
        ComparisonSummary {
            labelled: self.labels.is_some(),
            training_rows: self.training_rows(),
            features: self.columns.iter().map(|&k| table.columns[k].name().to_string()).collect(),
            ranges: self.ranges.clone(),
            fitted_on: self.fitted_on,
            agreement,
            verdict,
            methods,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn method_summary(&self, table: &Table, key: &str, name: &str, scores: &[f32], explainer: Explainer, fit_ms: Option<f64>, score_ms: Option<f64>, error: Option<String>) -> MethodSummary {
        let mut summary = MethodSummary { key: key.into(), name: name.into(), error, fit_ms, score_ms, ..Default::default() };
        if summary.error.is_some() {
            return summary;
        }
        let finite: Vec<usize> = (0..scores.len()).filter(|&r| scores[r].is_finite()).collect();
        let values: Vec<f32> = finite.iter().map(|&r| scores[r]).collect();
        if values.is_empty() {
            summary.error = Some("No row could be scored.".into());
            return summary;
        }
        let (low, high) = robust_range(&values);
        summary.histogram = Some(Histogram::new(&values, low, high, HISTOGRAM_BINS));
        if let Some(labels) = &self.labels {
            let (mut s, mut y) = (Vec::new(), Vec::new());
            for &r in &finite {
                if labels[r] != NO_LABEL {
                    s.push(scores[r]);
                    y.push(labels[r] == 1);
                }
            }
            match (roc_curve(&s, &y), sic_figures(&s, &y)) {
                (Ok(roc), Ok(sic)) => {
                    summary.auc = Some(roc.auc);
                    summary.average_precision = average_precision(&s, &y).ok();
                    summary.max_sic = Some(sic.max_sic);
                    summary.rejection_at_30 = sic.rejection_at_30;
                    summary.roc = Some(roc.thinned(CURVE_POINTS));
                    summary.sic = Some(sic.thinned(CURVE_POINTS));
                }
                (Err(e), _) | (_, Err(e)) => summary.error = Some(format!("No ROC: {e}.")),
            }
        }
        let mut order = finite;
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order.truncate(AGREEMENT_ROWS);
        summary.top_rows = order.iter().take(EXPLAINED_ROWS).map(|&row| self.explain(table, &explainer, row, scores[row])).collect();
        summary.top_scored = order;
        if let Explainer::Baseline(model) = explainer {
            summary.explanation_meaning = Some(model.kind().explanation_meaning().to_string());
        }
        summary
    }

    /// A row's score and its largest feature parts, with the row's values in the table's units.
    fn explain(&self, table: &Table, explainer: &Explainer, row: usize, score: f32) -> ExplainedRow {
        let parts = match explainer {
            Explainer::Baseline(model) => {
                let mut prepared = vec![0f32; self.width()];
                self.preprocessing.transform_row(table, &self.columns, row, &mut prepared);
                let place = self.training_place[row];
                model.explain(&prepared, (place != u32::MAX).then_some(place as usize))
            }
            Explainer::Autoencoder(explain) => explain(row).map(|mut parts| {
                parts.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.feature.cmp(&b.feature)));
                parts
            }),
            Explainer::Nothing => None,
        };
        let features = parts
            .unwrap_or_default()
            .into_iter()
            .take(FEATURES_SHOWN)
            .map(|c| FeaturePart { feature: c.feature, part: c.value, value: table.columns[self.columns[c.feature]].number(row) })
            .collect();
        ExplainedRow { row, score, features }
    }

    /// The download's columns from this comparison, per method that ran: `<key>_score` for every row
    /// and, for a method with explanations (all but LOF), `<key>_top_features` for its
    /// [`EXPLAINED_ROWS`] most anomalous rows (by row index).
    pub fn download_columns(&self, table: &Table) -> Vec<DownloadColumns> {
        self.runs
            .iter()
            .filter(|run| run.model.is_some())
            .map(|run| {
                let mut order: Vec<usize> = (0..run.scores.len()).filter(|&r| run.scores[r].is_finite()).collect();
                order.sort_by(|&a, &b| run.scores[b].total_cmp(&run.scores[a]).then(a.cmp(&b)));
                order.truncate(EXPLAINED_ROWS);
                let top_features = run.kind.explains().then(|| order.into_iter().map(|row| (row, self.top_features(table, run.kind, row))).collect());
                DownloadColumns { key: run.kind.key(), scores: run.scores.clone(), top_features }
            })
            .collect()
    }

    /// The `top_features` of a row for the download: "name:part" of its largest parts, `;`-separated.
    pub fn top_features(&self, table: &Table, kind: BaselineKind, row: usize) -> String {
        let Some(model) = self.runs.iter().find(|r| r.kind == kind).and_then(|r| r.model.as_ref()) else { return String::new() };
        let mut prepared = vec![0f32; self.width()];
        self.preprocessing.transform_row(table, &self.columns, row, &mut prepared);
        let place = self.training_place[row];
        let names: Vec<&str> = self.columns.iter().map(|&k| table.columns[k].name()).collect();
        top_features_text(model, &prepared, (place != u32::MAX).then_some(place as usize), &names)
    }

    /// The fitted methods, for a model file: the native scorer scores with them exactly as this did.
    pub fn saved_baselines(&self) -> Option<SavedBaselines> {
        let methods: Vec<Baseline> = self.runs.iter().filter_map(|r| r.model.clone()).collect();
        if methods.is_empty() || !self.is_finished() {
            return None;
        }
        let width = self.width();
        let training_rows = match self.fitted_on {
            FittedOn::ModelFileOtherRows => self.loaded_record.clone(),
            _ => self.training_table_rows.as_ref().map(|rows| TrainingRowsRecord { rows: rows.clone(), fingerprint: fingerprint(self.train.chunks_exact(width)) }),
        };
        Some(SavedBaselines { methods, settings: self.choice.settings.clone(), preprocessing: self.preprocessing.clone(), training_rows })
    }
}

/// Rows of this file a typical range is read from when the training rows are not at hand.
const RANGE_ROWS: usize = 20_000;

/// The 5th, 50th and 95th percentiles of prepared rows, in the table's own units: percentiles survive
/// the monotone way back.
fn ranges_in_table_units(prepared: &[f32], preprocessing: &Preprocessing, seed: u64) -> FeatureRanges {
    let mut ranges = FeatureRanges::of(Rows::new(prepared, preprocessing.features.len()), seed);
    for (f, transform) in preprocessing.features.iter().enumerate() {
        for v in [&mut ranges.low[f], &mut ranges.median[f], &mut ranges.high[f]] {
            *v = transform.unapply(*v);
        }
    }
    ranges
}

/// Up to `most` usable rows of the table, evenly spaced, prepared.
fn sample_rows(table: &Table, columns: &[usize], preprocessing: &Preprocessing, most: usize) -> Vec<f32> {
    let width = columns.len();
    let stride = table.rows().div_ceil(most.max(1)).max(1);
    let mut out = Vec::with_capacity(table.rows().min(most) * width);
    let mut row_values = vec![0f32; width];
    for row in (0..table.rows()).step_by(stride) {
        if preprocessing.transform_row(table, columns, row, &mut row_values) {
            out.extend_from_slice(&row_values);
        }
    }
    out
}

/// "name:part;…" of the largest parts of a row's score (at most [`FEATURES_SHOWN`], positive ones only),
/// from the row's standardised values; empty for a method without explanations. The page's download and
/// the native scorer both write it with this.
pub fn top_features_text(model: &Baseline, prepared: &[f32], self_index: Option<usize>, names: &[&str]) -> String {
    let parts = model.explain(prepared, self_index).unwrap_or_default();
    parts
        .iter()
        .take(FEATURES_SHOWN)
        .filter(|c| c.value > 0.0)
        .map(|c| format!("{}:{:.3}", names[c.feature], c.value))
        .collect::<Vec<_>>()
        .join(";")
}

/// The download's extra column names for `columns`: `<key>_score`, and `<key>_top_features` where the
/// method explains its rows.
pub fn download_column_names(columns: &[DownloadColumns]) -> Vec<String> {
    columns
        .iter()
        .flat_map(|c| std::iter::once(format!("{}_score", c.key)).chain(c.top_features.as_ref().map(|_| format!("{}_top_features", c.key))))
        .collect()
}

/// Row `r`'s extra cells, in the order of [`download_column_names`].
pub fn download_cells(columns: &[DownloadColumns], r: usize) -> impl Iterator<Item = Option<ExtraCell<'_>>> {
    columns.iter().flat_map(move |c| {
        let text = c.top_features.as_ref().map(|top| top.get(&r).map(|t| ExtraCell::Text(t.as_str())));
        std::iter::once(Some(ExtraCell::Score(c.scores[r]))).chain(text)
    })
}

/// What the page should say about a fitted model's choices (PCA's components, a sampled neighbourhood).
fn note_of(model: &Baseline) -> Option<String> {
    match model {
        Baseline::Pca(pca) => Some(format!(
            "Keeps {} of {} components, which explain {:.1} % of the variance.",
            pca.kept_components(),
            pca.width(),
            100.0 * pca.kept_variance()
        )),
        Baseline::Knn(knn) if knn.is_sampled() => Some(format!(
            "Compared with a seeded sample of {} of the {} training rows (exact up to {}).",
            crate::baselines::knn::EXACT_LIMIT.min(knn.rows_given),
            knn.rows_given,
            crate::baselines::knn::EXACT_LIMIT
        )),
        Baseline::Lof(lof) if lof.is_sampled() => Some(format!(
            "Compared with a seeded sample of {} of the {} training rows (exact up to {}).",
            crate::baselines::knn::EXACT_LIMIT.min(lof.rows_given),
            lof.rows_given,
            crate::baselines::knn::EXACT_LIMIT
        )),
        _ => None,
    }
}

/// For each pair of methods, the share of their top rows they have in common.
fn agreement(tops: &[&[usize]]) -> Vec<Vec<f64>> {
    tops.iter()
        .map(|a| {
            tops.iter()
                .map(|b| {
                    let n = a.len().min(b.len());
                    if n == 0 {
                        return 0.0;
                    }
                    let shared = a[..n].iter().filter(|r| b[..n].contains(r)).count();
                    shared as f64 / n as f64
                })
                .collect()
        })
        .collect()
}

/// One sentence naming the best method on this table and by how much, or what to read without a label.
fn verdict(methods: &[MethodSummary], labelled: bool) -> String {
    if !labelled {
        return format!(
            "Without a label there is no right answer to compare with: the histograms show how each method spreads the rows, and the table how many of their top {AGREEMENT_ROWS} rows they share."
        );
    }
    let mut ranked: Vec<&MethodSummary> = methods.iter().filter(|m| m.auc.is_some()).collect();
    ranked.sort_by(|a, b| b.auc.unwrap().total_cmp(&a.auc.unwrap()));
    let Some(best) = ranked.first() else {
        return "No method could be judged: the label needs both values among the scored rows.".into();
    };
    let best_auc = best.auc.unwrap();
    // Methods within half a hundredth of the best are as good, on a table this size.
    let tied: Vec<&str> = ranked.iter().take_while(|m| best_auc - m.auc.unwrap() < 0.005).map(|m| m.name.as_str()).collect();
    let in_words = |names: &[&str]| match names {
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    };
    match (tied.len(), ranked.get(tied.len())) {
        (1, None) => format!("{} reaches an AUC of {best_auc:.3} on this table.", best.name),
        (1, Some(next)) => format!(
            "{} does best on this table: AUC {best_auc:.3}, {:.3} above {} ({:.3}).",
            best.name,
            best_auc - next.auc.unwrap(),
            next.name,
            next.auc.unwrap()
        ),
        (_, next) => format!(
            "{} do equally well on this table (AUC {best_auc:.3}, within 0.005 of each other){}.",
            in_words(&tied),
            next.map_or_else(String::new, |n| format!("; next is {} ({:.3})", n.name, n.auc.unwrap()))
        ),
    }
}

/// The trained autoencoder's scores of every row of the table, and how to split a row's score by feature.
pub struct AutoencoderScores<'a> {
    pub scores: &'a [f32],
    /// Its training time, if the caller knows it.
    pub fit_ms: Option<f64>,
    pub explain: &'a dyn Fn(usize) -> Option<Vec<Contribution>>,
}

/// Where a method's per-feature parts come from.
enum Explainer<'a> {
    Baseline(&'a Baseline),
    Autoencoder(&'a dyn Fn(usize) -> Option<Vec<Contribution>>),
    Nothing,
}

/// What the autoencoder's explanation means, and what it does not.
pub const AUTOENCODER_EXPLANATION: &str = "Each feature's part of the reconstruction error, ½ (x − x̂)² of its standardised value; they add up to the score (apart from the KL term, when the score includes it). A large part means the autoencoder could not redraw that feature for this row, which can also come from the other features it was given.";

/// One method's part of the download.
pub struct DownloadColumns {
    pub key: &'static str,
    pub scores: Vec<f32>,
    pub top_features: Option<std::collections::HashMap<usize, String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComparisonSummary {
    pub labelled: bool,
    /// 0 when not known: methods read from a model file that were fitted on a separate background file.
    pub training_rows: usize,
    pub features: Vec<String>,
    /// The training rows' 5th, 50th and 95th percentiles, in the table's units (the scored file's
    /// rows' when the methods come from a model file fitted on other rows).
    pub ranges: FeatureRanges,
    pub fitted_on: FittedOn,
    /// Shares of top rows in common, method by method (in `methods` order).
    pub agreement: Vec<Vec<f64>>,
    pub verdict: String,
    pub methods: Vec<MethodSummary>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    /// `vae` or a baseline's key.
    pub key: String,
    pub name: String,
    pub error: Option<String>,
    pub note: Option<String>,
    pub auc: Option<f64>,
    pub average_precision: Option<f64>,
    pub max_sic: Option<f64>,
    pub rejection_at_30: Option<f64>,
    pub fit_ms: Option<f64>,
    /// The method's scoring of the prepared rows...
    pub score_ms: Option<f64>,
    /// ...and reading and standardising them from the table beforehand.
    pub prepare_ms: Option<f64>,
    pub roc: Option<Roc>,
    pub sic: Option<SicFigures>,
    pub histogram: Option<Histogram>,
    pub top_rows: Vec<ExplainedRow>,
    /// The top rows compared for agreement, highest first.
    #[serde(skip)]
    pub top_scored: Vec<usize>,
    pub explanation_meaning: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplainedRow {
    pub row: usize,
    pub score: f32,
    /// The largest parts first; empty when the method has no explanation.
    pub features: Vec<FeaturePart>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeaturePart {
    pub feature: usize,
    pub part: f64,
    /// The row's value in the table's units.
    pub value: f32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::dijet;
    use crate::table::parse_bytes;

    fn toy_table() -> (Table, TableSetup) {
        let events = dijet::generate(3000, 0.05, 4);
        let table = parse_bytes(&dijet::to_csv(&events), 1 << 16).unwrap();
        let setup = TableSetup::suggested(&table);
        (table, setup)
    }

    fn run_all(comparison: &mut Comparison, table: &Table) {
        let mut guard = 0;
        while !comparison.is_finished() {
            let work = comparison.step(table, 500);
            comparison.add_time(work, 1.0);
            guard += 1;
            assert!(guard < 10_000);
        }
    }

    /// Every method runs on the toy dijet events, the signal is found better than chance, the table
    /// names a best method, and each explanation's parts add up as its method defines.
    #[test]
    fn all_methods_on_the_toy_dijet_events() {
        let (table, setup) = toy_table();
        let mut comparison = Comparison::new(&table, &setup, None, ComparisonChoice::default()).unwrap();
        run_all(&mut comparison, &table);
        let summary = comparison.summary(&table, None);
        assert!(summary.labelled);
        assert_eq!(summary.methods.len(), 5);
        for method in &summary.methods {
            assert!(method.error.is_none(), "{}: {:?}", method.name, method.error);
            assert!(method.auc.unwrap() > 0.5, "{} AUC {:?}", method.name, method.auc);
            assert!(method.fit_ms.unwrap() > 0.0 && method.score_ms.unwrap() > 0.0);
            assert_eq!(method.top_rows.len(), EXPLAINED_ROWS);
        }
        assert!(summary.verdict.contains("does best") || summary.verdict.contains("equally well"), "{}", summary.verdict);
        // Sums: PCA, kNN and ECOD parts add up to the score over all features.
        for run in &comparison.runs {
            let Some(model) = &run.model else { continue };
            let row = 7;
            let mut prepared = vec![0f32; comparison.width()];
            comparison.preprocessing.transform_row(&table, &comparison.columns, row, &mut prepared);
            let place = comparison.training_place[row];
            let parts = model.explain(&prepared, (place != u32::MAX).then_some(place as usize));
            let total: f64 = parts.iter().flatten().map(|c| c.value).sum();
            match run.kind {
                BaselineKind::Pca | BaselineKind::Knn | BaselineKind::Ecod => {
                    assert!((total - run.scores[row] as f64).abs() < 1e-3 * (1.0 + total.abs()), "{:?}: {total} vs {}", run.kind, run.scores[row])
                }
                BaselineKind::IsolationForest => assert!((total - 1.0).abs() < 1e-9),
                BaselineKind::Lof => assert!(parts.is_none()),
            }
        }
        assert!(!comparison.top_features(&table, BaselineKind::Ecod, summary.methods[0].top_rows[0].row).is_empty());
    }

    /// A model file's methods score the file they were fitted on exactly as when fitted (training rows
    /// as training rows), score another file's rows as new, and are saved again as they were read.
    #[test]
    fn methods_from_a_model_file_score_as_fitted_without_fitting_again() {
        let (table, setup) = toy_table();
        let mut fitted = Comparison::new(&table, &setup, None, ComparisonChoice::default()).unwrap();
        run_all(&mut fitted, &table);
        let saved = fitted.saved_baselines().expect("a finished comparison");
        let mut loaded = Comparison::from_saved(&table, &setup, &saved).unwrap();
        assert_eq!(loaded.fitted_on(), FittedOn::ModelFileSameRows);
        run_all(&mut loaded, &table);
        for (a, b) in fitted.runs.iter().zip(&loaded.runs) {
            assert_eq!(a.kind, b.kind);
            assert!(a.scores.iter().zip(&b.scores).all(|(x, y)| x.to_bits() == y.to_bits()), "{:?} scores differ", a.kind);
        }
        let (before, after) = (fitted.summary(&table, None), loaded.summary(&table, None));
        assert_eq!(after.fitted_on, FittedOn::ModelFileSameRows);
        assert_eq!((after.training_rows, &after.ranges), (before.training_rows, &before.ranges));
        for (a, b) in before.methods.iter().zip(&after.methods) {
            assert_eq!((a.auc, &a.top_rows), (b.auc, &b.top_rows), "{}", a.name);
            assert!(a.fit_ms.is_some() && b.fit_ms.is_none(), "nothing was fitted the second time");
        }
        assert!(loaded.saved_baselines().unwrap() == saved, "saved again as read");

        // Another file: every row is new to the methods, whatever its row numbers.
        let other_events = dijet::generate(2000, 0.05, 9);
        let other = parse_bytes(&dijet::to_csv(&other_events), 1 << 16).unwrap();
        let mut elsewhere = Comparison::from_saved(&other, &TableSetup::suggested(&other), &saved).unwrap();
        assert_eq!(elsewhere.fitted_on(), FittedOn::ModelFileOtherRows);
        run_all(&mut elsewhere, &other);
        let width = elsewhere.width();
        let mut prepared = vec![0f32; width];
        for run in &elsewhere.runs {
            let model = run.model.as_ref().unwrap();
            for row in [0, 1, 777] {
                assert!(elsewhere.preprocessing.transform_row(&other, &elsewhere.columns, row, &mut prepared));
                let mut score = [0f32];
                model.score_into(Rows::new(&prepared, width), &|_| None, &mut score);
                assert_eq!(run.scores[row].to_bits(), score[0].to_bits(), "{:?} row {row}", run.kind);
            }
        }
        let summary = elsewhere.summary(&other, None);
        assert_eq!((summary.fitted_on, summary.training_rows), (FittedOn::ModelFileOtherRows, before.training_rows));
        assert!(summary.methods.iter().all(|m| m.error.is_none() && m.auc.unwrap() > 0.5));
        assert!(elsewhere.saved_baselines().unwrap() == saved, "the record of the training file is kept");

        // Methods fitted on a separate background file name no rows of this one: every row is new, count unknown.
        let unrecorded = SavedBaselines { training_rows: None, ..saved.clone() };
        let mut background_fitted = Comparison::from_saved(&table, &setup, &unrecorded).unwrap();
        assert_eq!(background_fitted.fitted_on(), FittedOn::ModelFileOtherRows);
        run_all(&mut background_fitted, &table);
        assert_eq!(background_fitted.summary(&table, None).training_rows, 0);

        // A file without one of the methods' columns is refused with a sentence.
        let name = &saved.preprocessing.features[0].name;
        let csv = String::from_utf8(dijet::to_csv(&other_events)).unwrap().replacen(name.as_str(), "renamed", 1);
        let renamed = parse_bytes(csv.as_bytes(), 1 << 16).unwrap();
        let refused = Comparison::from_saved(&renamed, &TableSetup::suggested(&renamed), &saved).err().unwrap();
        assert_eq!(refused, format!("This file has no column named \"{name}\", which the model file's classical methods were fitted on."));
    }

    #[test]
    fn a_method_that_cannot_run_says_why_and_the_others_run() {
        let (table, setup) = toy_table();
        let mut choice = ComparisonChoice::default();
        choice.settings.knn_k = 1_000_000;
        choice.settings.pca_components = Some(99);
        let mut comparison = Comparison::new(&table, &setup, None, choice).unwrap();
        run_all(&mut comparison, &table);
        let summary = comparison.summary(&table, None);
        let by_key = |k: &str| summary.methods.iter().find(|m| m.key == k).unwrap();
        assert!(by_key("knn").error.as_ref().unwrap().starts_with("kNN needs k between 1 and"));
        assert!(by_key("pca").error.as_ref().unwrap().starts_with("PCA cannot keep 99 components"));
        assert!(by_key("iforest").auc.is_some() && by_key("ecod").auc.is_some());
    }

    /// Progress names the method being worked on and only ever grows, LOF's neighbourhoods included.
    #[test]
    fn progress_names_the_method_and_grows() {
        let (table, setup) = toy_table();
        let choice = ComparisonChoice { methods: vec![BaselineKind::Ecod, BaselineKind::Lof], settings: BaselineSettings::default() };
        let mut comparison = Comparison::new(&table, &setup, None, choice).unwrap();
        let mut last = 0.0;
        let mut seen = Vec::new();
        while !comparison.is_finished() {
            let (method, fraction) = comparison.progress();
            assert!(fraction >= last && fraction <= 1.0, "{fraction} after {last}");
            last = fraction;
            if let Some(m) = method {
                if seen.last() != Some(&m) {
                    seen.push(m);
                }
            }
            let work = comparison.step(&table, 300);
            if let Work::Fit(BaselineKind::Lof) = work {
                assert_eq!(comparison.progress().0, Some(BaselineKind::Lof));
            }
        }
        assert_eq!(seen, vec![BaselineKind::Ecod, BaselineKind::Lof]);
        assert_eq!(comparison.progress().1, 1.0);
    }

    #[test]
    fn agreement_of_top_rows() {
        let a = [1usize, 2, 3, 4];
        let b = [4usize, 3, 9, 8];
        let m = agreement(&[&a, &b]);
        assert_eq!(m, vec![vec![1.0, 0.5], vec![0.5, 1.0]]);
    }
}
