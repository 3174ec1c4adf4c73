//! One model trained on a table and used to score every row: the steps a visitor sees after choosing the
//! column roles. Training and scoring both advance a slice at a time, so the worker can report progress
//! and answer Pause or Cancel between slices.

use serde::{Deserialize, Serialize};

use super::column::NO_LABEL;
use super::prepare::{select_rows, Preprocessing, TableSetup, TrainOn, MIN_TRAINING_ROWS};
use super::model_file::ModelFile;
use super::resonant::{gather, ResonantSearch, ResonantSummary};
use super::Table;
use crate::metrics::{robust_range, roc_curve, Histogram, Roc};
use crate::inference::CpuScorer;
use crate::models::Likelihood;
use crate::sic::{sic_figures, SicFigures};
use crate::train::{TrainData, TrainError, Trainer, Training};

const SCORE_BATCH: usize = 2048;
const HISTOGRAM_BINS: usize = 50;
pub const TOP_ROWS: usize = 20;

/// How the training rows were chosen, for the page to say in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// The model came from a saved file and was not trained here.
    #[serde(default)]
    pub loaded_model: bool,
    pub features: Vec<String>,
    pub train_rows: usize,
    pub validation_rows: usize,
    /// Rows that were eligible for training (the sample is drawn from these).
    pub eligible_rows: usize,
    pub dropped_missing: usize,
    pub imputed: usize,
    pub steps_per_epoch: usize,
    pub trained_on: TrainOn,
    /// For ANODE and R-ANODE: the sidebands, the signal region and the fits.
    #[serde(default)]
    pub resonance: Option<ResonantSummary>,
}

/// What the results panel shows after scoring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableResults {
    pub scored_rows: usize,
    /// Rows with a missing feature under the drop policy: no score, empty in the download.
    pub unscored_rows: usize,
    /// The histograms' axis: the central 99 % of scores ([`robust_range`]), so one extreme score does not
    /// squash every bar into one bin.
    pub score_range: (f32, f32),
    /// The lowest and the highest score of any row.
    pub score_extent: (f32, f32),
    /// Scored rows below and above `score_range`; the end bins count them.
    pub beyond_axis: (usize, usize),
    /// Every scored row when there is no label; otherwise the background rows.
    pub background_histogram: Histogram,
    pub signal_histogram: Option<Histogram>,
    /// The same two over every score on a log axis (bins in log10 of the score), for long tails; only when
    /// every score is positive and they are not all equal.
    pub log_histograms: Option<(Histogram, Option<Histogram>)>,
    pub roc: Option<Roc>,
    pub sic: Option<SicFigures>,
    pub signal_rows: usize,
    pub background_rows: usize,
    /// Why there are no physics metrics despite a label column, if so.
    pub metrics_note: Option<String>,
    /// The most anomalous rows, highest score first.
    pub top_rows: Vec<usize>,
    /// R-ANODE's learned signal fraction in the signal region.
    #[serde(default)]
    pub learned_w: Option<f64>,
    /// A resonance search's rows beyond the sidebands' range of some feature: the background flow gives
    /// them no density, so their score is the largest a float holds (f32::MAX).
    #[serde(default)]
    pub beyond_sidebands: usize,
}

/// Rows handed out for scoring: transformed features, row-major, from table row `start` on. `keep` is
/// false for rows dropped for a missing feature (their score is NaN whatever the model says).
#[derive(Clone, Debug)]
pub struct ScoreBatch {
    pub start: usize,
    pub rows: Vec<f32>,
    pub keep: Vec<bool>,
}

/// What learns the rows: the autoencoder, or a resonance search along a resonant column.
pub enum Learner {
    Autoencoder(Trainer),
    Resonant(Box<ResonantSearch>),
}

pub struct TableRun {
    pub setup: TableSetup,
    pub learner: Learner,
    pub preprocessing: Preprocessing,
    /// Feature columns in the scored table.
    columns: Vec<usize>,
    pub labels: Option<Vec<u8>>,
    pub summary: TrainingSummary,
    /// NaN until scored, and for rows that cannot be scored.
    pub scores: Vec<f32>,
    /// The fused scorer for the trained weights, made when scoring starts.
    scorer: Option<CpuScorer>,
    scored_upto: usize,
    /// Scores sorted descending, with their labels, for threshold counts.
    sorted: Vec<(f32, u8)>,
    /// Each Anomaly Awareness fine-tuning the model has had since training, in order (`awareness`).
    pub fine_tuned: Vec<super::awareness::TableAwarenessSettings>,
}

/// A signal/background count above a threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdCounts {
    pub threshold: f32,
    pub selected: usize,
    pub scored: usize,
    pub signal_selected: Option<usize>,
    pub background_selected: Option<usize>,
}

impl TableRun {
    /// Prepares the rows and the model. `background` is the separate training file when `train_on` asks
    /// for one; its feature columns are matched to the scored table's by name.
    pub fn new(table: &Table, setup: &TableSetup, background: Option<&Table>) -> Result<Self, String> {
        if let Some(problem) = setup.problems(table).into_iter().next() {
            return Err(problem);
        }
        let columns = setup.feature_columns();
        if setup.method.is_resonant() {
            return Self::resonant(table, setup, columns);
        }
        let labels = setup.labels(table);
        let TrainingRows { selection, preprocessing, train, validation, .. } = training_rows(table, setup, background, labels.as_deref())?;
        let data = TrainData { features: columns.len(), likelihood: Likelihood::Gaussian, train, validation };
        let trainer = Trainer::new(&setup.model, data).map_err(|e| e.to_string())?;
        let summary = TrainingSummary {
            loaded_model: false,
            features: columns.iter().map(|&k| table.columns[k].name().to_string()).collect(),
            train_rows: selection.train.len(),
            validation_rows: selection.validation.len(),
            eligible_rows: selection.eligible,
            dropped_missing: selection.dropped_missing,
            imputed: selection.imputed,
            steps_per_epoch: trainer.steps_per_epoch(),
            trained_on: setup.train_on,
            resonance: None,
        };
        Ok(Self::unscored(table.rows(), setup.clone(), Learner::Autoencoder(trainer), preprocessing, columns, labels, summary))
    }

    /// A run whose `rows` are not scored yet.
    fn unscored(rows: usize, setup: TableSetup, learner: Learner, preprocessing: Preprocessing, columns: Vec<usize>, labels: Option<Vec<u8>>, summary: TrainingSummary) -> Self {
        Self {
            labels,
            setup,
            learner,
            preprocessing,
            columns,
            summary,
            scores: vec![f32::NAN; rows],
            scorer: None,
            scored_upto: 0,
            sorted: Vec::new(),
            fine_tuned: Vec::new(),
        }
    }

    /// ANODE or R-ANODE along the resonant column: the search trains, then scores the signal region's rows.
    fn resonant(table: &Table, setup: &TableSetup, columns: Vec<usize>) -> Result<Self, String> {
        let (search, preprocessing) = ResonantSearch::new(table, setup, &columns)?;
        let r = &search.summary;
        let summary = TrainingSummary {
            loaded_model: false,
            features: columns.iter().map(|&k| table.columns[k].name().to_string()).collect(),
            train_rows: r.sideband_sample,
            validation_rows: 0,
            eligible_rows: r.sideband_rows,
            dropped_missing: 0,
            imputed: 0,
            steps_per_epoch: search.steps_per_epoch(),
            trained_on: setup.train_on,
            resonance: Some(r.clone()),
        };
        Ok(Self::unscored(table.rows(), setup.clone(), Learner::Resonant(Box::new(search)), preprocessing, columns, setup.labels(table), summary))
    }

    /// A run that scores with a saved model instead of training one. Its features are found in `table` by
    /// name; the label (if any) is the one `setup` chooses, so the figures of merit work as after training.
    pub fn from_model(table: &Table, setup: &TableSetup, model: &ModelFile) -> Result<Self, String> {
        let columns: Vec<usize> = model
            .feature_names()
            .iter()
            .map(|name| {
                table.column_names().iter().position(|n| n == name).ok_or_else(|| {
                    format!("This file has no column named \"{name}\", which the model was trained on (its features: {}).", model.feature_names().join(", "))
                })
            })
            .collect::<Result<_, _>>()?;
        if let Some(&k) = columns.iter().find(|&&k| !matches!(table.columns[k].data, super::ColumnData::Numeric(_))) {
            return Err(format!("The column \"{}\" holds text, but the model reads it as a number.", table.columns[k].name()));
        }
        let preprocessing = model.preprocessing.clone();
        // The trainer needs some rows to exist; it never trains on them (the run starts finished).
        let sample: Vec<f32> = (0..table.rows().min(16))
            .flat_map(|row| {
                let mut out = vec![0f32; columns.len()];
                let raw: Vec<f32> = columns.iter().map(|&k| table.columns[k].number(row)).collect();
                preprocessing.transform_values(&raw, &mut out);
                out
            })
            .collect();
        let data = TrainData { features: columns.len(), likelihood: model.likelihood, train: sample, validation: vec![] };
        let mut trainer = Trainer::new(&model.settings, data).map_err(|e| e.to_string())?;
        trainer.load_trained(&model.weights).map_err(|e| format!("The model could not be loaded: {e}."))?;
        let mut setup = setup.clone();
        setup.model = model.settings.clone();
        setup.missing = model.preprocessing.missing;
        let summary = TrainingSummary {
            loaded_model: true,
            features: model.feature_names().iter().map(|n| n.to_string()).collect(),
            train_rows: 0,
            validation_rows: 0,
            eligible_rows: table.rows(),
            dropped_missing: 0,
            imputed: 0,
            steps_per_epoch: trainer.steps_per_epoch(),
            trained_on: setup.train_on,
            resonance: None,
        };
        let labels = setup.labels(table);
        let mut run = Self::unscored(table.rows(), setup, Learner::Autoencoder(trainer), preprocessing, columns, labels, summary);
        run.fine_tuned = model.fine_tuned.clone();
        Ok(run)
    }

    pub fn step(&mut self) -> Result<crate::StepReport, TrainError> {
        self.training_mut().step()
    }

    /// The training in progress, for the worker's loop and its progress reports.
    pub fn training(&self) -> &dyn Training {
        match &self.learner {
            Learner::Autoencoder(trainer) => trainer.run(),
            Learner::Resonant(search) => search.as_ref(),
        }
    }

    pub fn training_mut(&mut self) -> &mut dyn Training {
        match &mut self.learner {
            Learner::Autoencoder(trainer) => trainer.run_mut(),
            Learner::Resonant(search) => search.as_mut(),
        }
    }

    /// The resonance search, when the method is ANODE or R-ANODE.
    pub fn resonant_search(&mut self) -> Option<&mut ResonantSearch> {
        match &mut self.learner {
            Learner::Resonant(search) => Some(search),
            Learner::Autoencoder(_) => None,
        }
    }

    /// The autoencoder's trainer, None for a resonance search.
    pub fn trainer(&self) -> Option<&Trainer> {
        match &self.learner {
            Learner::Autoencoder(trainer) => Some(trainer),
            Learner::Resonant(_) => None,
        }
    }

    /// The autoencoder's trainer; an error sentence for a resonance search, which has no such model.
    fn autoencoder(&self) -> Result<&Trainer, TrainError> {
        match &self.learner {
            Learner::Autoencoder(trainer) => Ok(trainer),
            Learner::Resonant(_) => Err(TrainError::Compute(NO_MODEL_FILE.into())),
        }
    }

    pub fn scored_fraction(&self) -> f64 {
        if self.scores.is_empty() { 1.0 } else { self.scored_upto as f64 / self.scores.len() as f64 }
    }

    pub fn scoring_done(&self) -> bool {
        self.scored_upto >= self.scores.len()
    }

    /// Starts scoring again from the first row (after more training).
    pub fn restart_scoring(&mut self) {
        self.scored_upto = 0;
        self.scorer = None;
        self.scores.iter_mut().for_each(|s| *s = f32::NAN);
        self.sorted.clear();
    }

    /// Scores up to `max_rows` more rows on the CPU. Rows with a missing feature under the drop policy
    /// stay NaN. (The worker does the same through [`Self::next_batch`] and [`Self::accept`], so that the
    /// scores can come from the GPU instead.)
    pub fn score_next(&mut self, table: &Table, max_rows: usize) -> Result<(), TrainError> {
        if let Learner::Resonant(search) = &self.learner {
            // The signal region's rows of the next slice, scored by the densities (CPU only).
            let end = (self.scored_upto + max_rows).min(table.rows());
            let rows: Vec<usize> = (self.scored_upto..end).filter(|&r| search.scores_row(r)).collect();
            let resonant = self.setup.resonant_column().expect("a resonance search has a resonant column");
            let scores = search.scores(&gather(table, &self.columns, resonant, &self.preprocessing, &rows))?;
            for (&row, score) in rows.iter().zip(scores) {
                self.scores[row] = score;
            }
            self.scored_upto = end;
            return Ok(());
        }
        if self.scorer.is_none() {
            self.scorer = Some(CpuScorer::for_model(&self.scoring_model()?));
        }
        let end = (self.scored_upto + max_rows).min(table.rows());
        let mut scores = vec![0f32; SCORE_BATCH];
        while self.scored_upto < end {
            let batch = self.next_batch(table, SCORE_BATCH.min(end - self.scored_upto));
            let n = batch.keep.len();
            self.scorer.as_ref().expect("made above").score(&batch.rows, &mut scores[..n]);
            self.accept(&batch, &scores[..n]);
        }
        Ok(())
    }

    /// The next `max_rows` rows to score, transformed as the model was trained. Scores come back through
    /// [`Self::accept`]; until then the same batch is handed out again.
    pub fn next_batch(&self, table: &Table, max_rows: usize) -> ScoreBatch {
        let features = self.columns.len();
        let start = self.scored_upto;
        let stop = (start + max_rows).min(table.rows());
        let mut rows = vec![0f32; (stop - start) * features];
        let mut keep = vec![true; stop - start];
        self.preprocessing.transform_rows(table, &self.columns, start, stop, &mut rows, &mut keep);
        ScoreBatch { start, rows, keep }
    }

    /// Stores the scores of `batch` (one per row) if it is the batch the run is waiting for.
    pub fn accept(&mut self, batch: &ScoreBatch, scores: &[f32]) {
        if batch.start != self.scored_upto || scores.len() != batch.keep.len() {
            return; // a stale batch (scoring restarted meanwhile): never store a score twice
        }
        for (i, (&score, &keep)) in scores.iter().zip(&batch.keep).enumerate() {
            self.scores[batch.start + i] = if keep { score } else { f32::NAN };
        }
        self.scored_upto += scores.len();
    }

    /// The trained model as a file that scores rows exactly as this run does (see `model_file`); the
    /// caller adds a finished comparison's methods (`Comparison::saved_baselines`).
    pub fn model_file(&self) -> Result<ModelFile, TrainError> {
        Ok(ModelFile {
            weights: self.autoencoder()?.model().weights()?,
            likelihood: Likelihood::Gaussian,
            score_with_kl: self.setup.model.vae.score_with_kl,
            preprocessing: self.preprocessing.clone(),
            settings: self.setup.model.clone(),
            baselines: None,
            fine_tuned: self.fine_tuned.clone(),
        })
    }

    /// Each feature's part of `row`'s reconstruction error, ½ (x − x̂)² of the standardised value (they
    /// add up to the score without its KL term); None for a resonance search or a row that cannot be
    /// prepared.
    pub fn feature_parts(&self, table: &Table, row: usize) -> Option<Vec<crate::baselines::Contribution>> {
        let trainer = self.autoencoder().ok()?;
        let mut prepared = vec![0f32; self.columns.len()];
        if !self.preprocessing.transform_row(table, &self.columns, row, &mut prepared) {
            return None; // dropped for a missing value: it has no score either
        }
        let x = candle_core::Tensor::from_slice(&prepared, (1, prepared.len()), &candle_core::Device::Cpu).ok()?;
        let model = trainer.model();
        let output = model.forward_mean(&x).ok()?;
        let redrawn: Vec<f32> = model.reconstruction(&output.logits).ok()?.flatten_all().ok()?.to_vec1().ok()?;
        Some(
            prepared
                .iter()
                .zip(&redrawn)
                .enumerate()
                .map(|(feature, (&x, &y))| crate::baselines::Contribution { feature, value: 0.5 * ((x - y) as f64).powi(2) })
                .collect(),
        )
    }

    /// The features of the model, for scoring it elsewhere: weights and whether the score adds the KL term.
    pub fn scoring_model(&self) -> Result<crate::models::ScoringModel, TrainError> {
        Ok(self.autoencoder()?.model().scoring_model(self.setup.model.vae.score_with_kl)?)
    }

    /// The summaries of a finished scoring pass.
    pub fn results(&mut self) -> TableResults {
        let label_of = |row: usize| self.labels.as_ref().map_or(NO_LABEL, |l| l[row]);
        self.sorted = (0..self.scores.len())
            .filter(|&r| self.scores[r].is_finite())
            .map(|r| (self.scores[r], label_of(r)))
            .collect();
        self.sorted.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        let finite: Vec<f32> = self.sorted.iter().map(|s| s.0).collect();
        let (low, high) = robust_range(&finite);
        let labelled: Vec<(f32, bool)> =
            self.sorted.iter().filter(|s| s.1 != NO_LABEL).map(|&(score, label)| (score, label == 1)).collect();
        let (signal, background): (Vec<f32>, Vec<f32>) = if self.labels.is_some() {
            let signal = labelled.iter().filter(|s| s.1).map(|s| s.0).collect();
            let background = labelled.iter().filter(|s| !s.1).map(|s| s.0).collect();
            (signal, background)
        } else {
            (Vec::new(), finite.clone())
        };
        let (mut roc, mut sic, mut note) = (None, None, None);
        if self.labels.is_some() {
            let (scores, is_signal): (Vec<f32>, Vec<bool>) = labelled.iter().copied().unzip();
            match (roc_curve(&scores, &is_signal), sic_figures(&scores, &is_signal)) {
                (Ok(r), Ok(s)) => {
                    roc = Some(r.thinned(400));
                    sic = Some(s.thinned(400));
                }
                (Err(err), _) | (_, Err(err)) => {
                    note = Some(format!("No ROC or SIC: {err}. The label column needs both values among the scored rows."))
                }
            }
        }
        let mut order: Vec<usize> = (0..self.scores.len()).filter(|&r| self.scores[r].is_finite()).collect();
        order.sort_by(|&a, &b| self.scores[b].total_cmp(&self.scores[a]).then(a.cmp(&b)));
        order.truncate(TOP_ROWS);
        // `finite` is sorted highest first.
        let extent = (finite.last().copied().unwrap_or(0.0), finite.first().copied().unwrap_or(0.0));
        let beyond_axis = (finite.iter().filter(|&&s| s < low).count(), finite.iter().filter(|&&s| s > high).count());
        let log_histograms = (extent.0 > 0.0 && extent.1 > extent.0).then(|| {
            let (low, high) = (extent.0.log10(), extent.1.log10());
            let logs = |scores: &[f32]| -> Vec<f32> { scores.iter().map(|s| s.log10()).collect() };
            let background = Histogram::new(&logs(&background), low, high, HISTOGRAM_BINS);
            (background, self.labels.is_some().then(|| Histogram::new(&logs(&signal), low, high, HISTOGRAM_BINS)))
        });
        TableResults {
            scored_rows: finite.len(),
            unscored_rows: self.scores.len() - finite.len(),
            score_range: (low, high),
            score_extent: extent,
            beyond_axis,
            log_histograms,
            background_histogram: Histogram::new(&background, low, high, HISTOGRAM_BINS),
            signal_histogram: self.labels.is_some().then(|| Histogram::new(&signal, low, high, HISTOGRAM_BINS)),
            roc,
            sic,
            signal_rows: signal.len(),
            background_rows: if self.labels.is_some() { background.len() } else { 0 },
            metrics_note: note,
            top_rows: order,
            learned_w: self.resonant_search().and_then(|s| s.w()),
            beyond_sidebands: if self.setup.method.is_resonant() { finite.iter().filter(|&&s| s == f32::MAX).count() } else { 0 },
        }
    }

    /// How many scored rows have a score ≥ `threshold`, by label when there is one (after [`Self::results`]).
    pub fn count_above(&self, threshold: f32) -> ThresholdCounts {
        let selected = self.sorted.partition_point(|s| s.0 >= threshold);
        let with_labels = self.labels.is_some();
        let count = |label: u8| with_labels.then(|| self.sorted[..selected].iter().filter(|s| s.1 == label).count());
        ThresholdCounts {
            threshold,
            selected,
            scored: self.sorted.len(),
            signal_selected: count(1),
            background_selected: count(0),
        }
    }
}

/// The rows a model of `setup` learns from, prepared: the training and validation rows (from `table`,
/// or from `background` when the setup trains on another file), standardised with the training rows'
/// own means and deviations. The autoencoder and the classical baselines learn from the same rows.
pub struct TrainingRows {
    pub selection: super::prepare::RowSelection,
    pub preprocessing: Preprocessing,
    /// Row-major, one row per `selection.train` row.
    pub train: Vec<f32>,
    pub validation: Vec<f32>,
    /// The training rows are rows of the scored table (not of a separate background file).
    pub from_scored_table: bool,
}

pub fn training_rows(table: &Table, setup: &TableSetup, background: Option<&Table>, labels: Option<&[u8]>) -> Result<TrainingRows, String> {
    let columns = setup.feature_columns();
    let logs: Vec<bool> = columns.iter().map(|&k| setup.choices[k].log).collect();
    let (train_table, train_columns) = match (setup.train_on, background) {
        (TrainOn::OtherFile, Some(other)) => (other, matching_columns(table, &columns, other)?),
        (TrainOn::OtherFile, None) => return Err("Load a background file to train on, or choose to train on this file's rows.".into()),
        _ => (table, columns.clone()),
    };
    let train_labels = if setup.train_on == TrainOn::OtherFile { None } else { labels };
    let selection =
        select_rows(train_table, &train_columns, &logs, setup, train_labels, setup.train_on == TrainOn::BackgroundRows);
    if selection.train.len() < MIN_TRAINING_ROWS {
        return Err(format!(
            "Only {} rows can be trained on (at least {MIN_TRAINING_ROWS} are needed){}. Load more rows, or impute missing values instead of dropping rows.",
            selection.train.len(),
            if selection.dropped_missing > 0 { format!("; {} rows have a missing feature", selection.dropped_missing) } else { String::new() }
        ));
    }
    // Fitted on the training rows only: validation and scored rows never shape the standardisation.
    let preprocessing = Preprocessing::fit(train_table, &train_columns, &logs, setup.missing, &selection.train);
    let gather = |rows: &[usize]| -> Vec<f32> {
        let mut out = vec![0f32; rows.len() * columns.len()];
        for (i, &row) in rows.iter().enumerate() {
            let slot = &mut out[i * columns.len()..(i + 1) * columns.len()];
            preprocessing.transform_row(train_table, &train_columns, row, slot);
        }
        out
    };
    let (train, validation) = (gather(&selection.train), gather(&selection.validation));
    Ok(TrainingRows { selection, preprocessing, train, validation, from_scored_table: setup.train_on != TrainOn::OtherFile })
}

/// Why a resonance search cannot be saved as a model file or scored on the GPU.
pub const NO_MODEL_FILE: &str = "ANODE and R-ANODE models cannot be saved as a model file yet, nor scored on the GPU: their scores come from the CPU";

/// The background file's column for each feature, by name.
fn matching_columns(table: &Table, columns: &[usize], other: &Table) -> Result<Vec<usize>, String> {
    columns
        .iter()
        .map(|&k| {
            let name = table.columns[k].name();
            other
                .columns
                .iter()
                .position(|c| c.name() == name && c.summary.numeric)
                .ok_or_else(|| format!("The background file has no numeric column named \"{name}\"; its header must name the same features."))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{dijet, parse_bytes};

    fn toy(rows: usize, fraction: f64) -> (Vec<u8>, Table) {
        let csv = dijet::to_csv(&dijet::generate(rows, fraction, 2));
        let table = parse_bytes(&csv, 1 << 16).unwrap();
        (csv, table)
    }

    fn train_and_score(table: &Table, setup: &TableSetup) -> (TableRun, TableResults) {
        let mut run = TableRun::new(table, setup, None).unwrap();
        while !run.training().is_finished() {
            run.step().unwrap();
        }
        while !run.scoring_done() {
            run.score_next(table, 1000).unwrap();
        }
        let results = run.results();
        (run, results)
    }

    #[test]
    fn the_toy_signal_stands_out_after_training_on_background() {
        let (_, table) = toy(6000, 0.05);
        let mut setup = TableSetup::suggested(&table);
        assert_eq!((setup.label_column(), setup.train_on), (Some(5), TrainOn::BackgroundRows));
        setup.model.optimiser.epochs = 8;
        let (run, results) = train_and_score(&table, &setup);
        assert_eq!(results.scored_rows, 6000);
        assert_eq!((results.signal_rows, results.background_rows), (300, 5700));
        let auc = results.roc.as_ref().unwrap().auc;
        assert!(auc > 0.8, "AUC {auc}");
        let sic = results.sic.as_ref().unwrap();
        assert!(sic.max_sic > 1.5, "max SIC {}", sic.max_sic);
        // The threshold counts agree with a direct count.
        let threshold = run.scores[results.top_rows[9]];
        let counts = run.count_above(threshold);
        assert_eq!(counts.selected, run.scores.iter().filter(|&&s| s >= threshold).count());
        assert_eq!(counts.signal_selected.unwrap() + counts.background_selected.unwrap(), counts.selected);
    }

    /// The reason background-only training is the default with labels: a compact signal among the
    /// training rows is learned like any other pattern, and then looks *less* anomalous than background.
    #[test]
    fn a_signal_among_the_training_rows_is_learned_and_hides() {
        let (_, table) = toy(6000, 0.05);
        let mut setup = TableSetup::suggested(&table);
        setup.train_on = TrainOn::AllRows;
        setup.model.optimiser.epochs = 8;
        let (_, results) = train_and_score(&table, &setup);
        let auc = results.roc.unwrap().auc;
        assert!(auc < 0.5, "AUC {auc}");
    }

    #[test]
    fn the_histograms_and_the_threshold_cover_every_score() {
        let (_, table) = toy(800, 0.05);
        let mut setup = TableSetup::suggested(&table);
        setup.model.optimiser.epochs = 2;
        let (run, results) = train_and_score(&table, &setup);
        let lowest = run.scores.iter().copied().fold(f32::INFINITY, f32::min);
        let highest = run.scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!(results.score_extent, (lowest, highest));
        let (below, above) = results.beyond_axis;
        let (low, high) = results.score_range;
        assert_eq!(below, run.scores.iter().filter(|&&s| s < low).count());
        assert_eq!(above, run.scores.iter().filter(|&&s| s > high).count());
        assert!(above > 0, "the robust axis leaves the top rows out, so the caption must count them");
        let total = |h: &Histogram| h.counts.iter().sum::<u32>() as usize;
        let signal = results.signal_histogram.as_ref().unwrap();
        assert_eq!(total(&results.background_histogram) + total(signal), 800);
        let (log_background, log_signal) = results.log_histograms.as_ref().unwrap();
        assert_eq!(total(log_background) + total(log_signal.as_ref().unwrap()), 800);
        assert_eq!((log_background.low, log_background.high), (lowest.log10(), highest.log10()));
        // The threshold's ends select every row and only the top one.
        assert_eq!(run.count_above(lowest).selected, 800);
        assert_eq!(run.count_above(highest).selected, 1);
    }

    /// The autoencoder's per-feature parts add up to the row's score when the score has no KL term.
    #[test]
    fn feature_parts_add_up_to_the_score() {
        let (_, table) = toy(800, 0.05);
        let mut setup = TableSetup::suggested(&table);
        setup.model.optimiser.epochs = 2;
        setup.model.vae.score_with_kl = false;
        let (run, _) = train_and_score(&table, &setup);
        for row in [0, 17, 799] {
            let parts = run.feature_parts(&table, row).unwrap();
            assert_eq!(parts.len(), 5);
            let total: f64 = parts.iter().map(|c| c.value).sum();
            assert!((total - run.scores[row] as f64).abs() < 1e-4 * (1.0 + total), "row {row}: {total} vs {}", run.scores[row]);
        }
    }

    #[test]
    fn the_same_setup_gives_the_same_scores() {
        let (_, table) = toy(800, 0.05);
        let mut setup = TableSetup::suggested(&table);
        setup.model.optimiser.epochs = 2;
        let (a, _) = train_and_score(&table, &setup);
        let (b, _) = train_and_score(&table, &setup);
        assert_eq!(a.scores, b.scores);
    }

    #[test]
    fn unscorable_rows_stay_empty_and_too_few_rows_are_refused() {
        let mut text = String::from("x,y\n");
        for i in 0..40 {
            // x is a quantity (not 0, 1, 2…, which would read as a row number); y has gaps.
            text += &if i % 4 == 0 { format!("{}.5,\n", i) } else { format!("{}.5,{}\n", i, i * 2) };
        }
        let table = parse_bytes(text.as_bytes(), 1 << 16).unwrap();
        let mut setup = TableSetup::suggested(&table);
        setup.model.optimiser.epochs = 1;
        let (run, results) = train_and_score(&table, &setup);
        assert_eq!((results.scored_rows, results.unscored_rows), (30, 10));
        assert!(run.scores[0].is_nan() && run.scores[1].is_finite());
        assert!(results.roc.is_none() && results.signal_histogram.is_none());

        let table = parse_bytes(b"x\n1\n2\n", 1 << 16).unwrap();
        let err = TableRun::new(&table, &TableSetup::suggested(&table), None).err().unwrap();
        assert!(err.starts_with("Only 2 rows can be trained on"), "{err}");
    }

    #[test]
    fn a_separate_background_file_is_matched_by_column_name() {
        let (_, table) = toy(500, 0.1);
        let background = parse_bytes(&dijet::to_csv(&dijet::generate(400, 0.0, 5)), 1 << 16).unwrap();
        let mut setup = TableSetup::suggested(&table);
        setup.train_on = TrainOn::OtherFile;
        setup.model.optimiser.epochs = 1;
        let run = TableRun::new(&table, &setup, Some(&background)).unwrap();
        assert_eq!(run.summary.eligible_rows, 400);
        let wrong = parse_bytes(b"a,b\n1,2\n", 1 << 16).unwrap();
        let err = TableRun::new(&table, &setup, Some(&wrong)).err().unwrap();
        assert!(err.contains("no numeric column named \"m_jj\""), "{err}");
    }
}
