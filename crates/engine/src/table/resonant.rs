//! ANODE and R-ANODE on a visitor's own table: one column is the resonant variable (m_jj, say) with a
//! signal-region window; the other feature columns are what the flows model. The background flow learns
//! p_B(x | m) in the rows outside the window (the sidebands), then the chosen method is fitted to the rows
//! inside it, and only those rows get a score: the sidebands are where the background was learned, not
//! where a signal is looked for.
//!
//! The search is one [`Training`] to its caller: the background flow's epochs, then the method's, so the
//! worker drives it with the same loop (and Pause) as the autoencoder. A fit that diverges keeps the
//! weights of its best epoch (the training loop has already put back the last good step's) and the
//! search goes on, with a sentence in [`ResonantSearch::take_notes`].

use serde::{Deserialize, Serialize};

use super::column::NO_LABEL;
use super::prepare::{MissingPolicy, Preprocessing, TableMethod, TableSetup};
use super::Table;
use crate::resonance::anode::{Anode, Ranode, SignalFraction};
use crate::resonance::background::{BackgroundModel, Fitting, ResonantRows};
use crate::resonance::hunt::{conditional_flow, fit, signal_flow};
use crate::rng::SeededRng;
use crate::train::{TrainError, Training};
use crate::StepReport;

/// Fewer sideband rows than this cannot teach a background flow the shape of the data.
pub const MIN_SIDEBAND_ROWS: usize = 500;
/// Fewer signal-region rows than this leave the method nothing to fit.
pub const MIN_REGION_ROWS: usize = 100;
/// R-ANODE's learned signal fraction starts here (as in the hunt view).
const START_W: f64 = 0.01;
/// A table's fit in the window is a few hundred steps, where the hunt's take thousands: w's logit moves
/// this many times faster, so that it can travel from 1 % to a share of tens of percent.
const W_SPEED: f64 = 10.0;
/// R-ANODE's signal flow first learns all the window's rows for this share of the fit's epochs. Started
/// at random, it never finds a signal far from the background's bulk (the toy events' signal sits six
/// standard deviations out in delta_m_j): where its density is negligible, the mixture gives it no
/// gradient. Started from a flow of the whole window, it covers the signal from the first step and
/// narrows onto what the background does not explain. The paper starts at random; the page says so.
const WARM_START_SHARE: f64 = 1.0 / 3.0;
/// The fit in the signal region takes at least this many optimiser steps, however few its rows: a window
/// of a thousand rows is four batches an epoch, and R-ANODE's w and signal flow need hundreds of steps
/// to move (the hunt view's fits take about 700).
pub const MIN_REGION_STEPS: usize = 600;

/// Epochs of the signal region's fit: the visitor's, or enough for [`MIN_REGION_STEPS`].
fn region_epochs(epochs: usize, rows: usize, validation_fraction: f64, batch_size: usize) -> usize {
    let train_rows = rows - (rows as f64 * validation_fraction).round() as usize;
    let steps_per_epoch = train_rows.div_ceil(batch_size.max(1)).max(1);
    epochs.max(MIN_REGION_STEPS.div_ceil(steps_per_epoch))
}

/// What the page says about a resonance search before and after it trains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResonantSummary {
    pub method: TableMethod,
    pub resonant: String,
    pub window: (f64, f64),
    /// Rows outside the window with every value needed, and those the background flow trains on.
    pub sideband_rows: usize,
    pub sideband_sample: usize,
    /// Rows inside the window with every value needed (all are scored), and those the method fits.
    pub region_rows: usize,
    pub region_sample: usize,
    /// Rows whose resonant value is missing: neither sideband nor signal region, no score.
    pub missing_resonant: usize,
    /// The flows see ln of the resonant variable (every value is positive) rather than the value.
    pub log_mass: bool,
    /// The label's signal share among the signal-region rows, when there is a label: R-ANODE's w.
    pub labelled_signal_share: Option<f64>,
    /// Each fit's name and epochs, in the order they train.
    pub fits: Vec<(String, usize)>,
}

enum Stage {
    Background(Fitting<BackgroundModel>),
    Anode(Fitting<Anode>),
    /// R-ANODE's signal flow fitted to all the window's rows (w fixed at [`WARM_START_W`]), to start from.
    WarmStart(Fitting<Ranode>),
    Ranode(Fitting<Ranode>),
    Done,
}

/// The warm start's fixed signal share: near 1, so that its signal flow learns all the window's data.
const WARM_START_W: f64 = 0.999;

enum Tagger {
    Anode(Anode),
    Ranode(Ranode),
}

pub struct ResonantSearch {
    pub summary: ResonantSummary,
    setup: TableSetup,
    stage: Stage,
    background: Option<BackgroundModel>,
    tagger: Option<Tagger>,
    /// The rows the method fits (a seeded sample of the signal region).
    region: ResonantRows,
    /// Table row → is it scored (inside the window, every value there).
    in_region: Vec<bool>,
    /// Epochs of the fits already finished.
    finished_epochs: usize,
    /// The validation loss of the fit that just ended, reported for its last epoch while the next fit
    /// has none yet.
    concluded_validation: Option<f32>,
    notes: Vec<String>,
}

impl ResonantSearch {
    /// Splits the table along the resonant column and starts the background flow. `preprocessing` is
    /// fitted here on the sideband sample (the optional log, standardisation, the means that fill
    /// missing values) and handed back, so that scoring transforms rows the same way.
    pub fn new(table: &Table, setup: &TableSetup, columns: &[usize]) -> Result<(Self, Preprocessing), String> {
        let resonant = setup.resonant_column().ok_or("Mark one column as the resonant variable.")?;
        let (low, high) = setup.signal_region.ok_or("Set the signal region's window.")?;
        let name = table.columns[resonant].name().to_string();
        let logs: Vec<bool> = columns.iter().map(|&k| setup.choices[k].log).collect();
        let labels = setup.labels(table);
        // Rows placed by their resonant value; under the drop policy a missing feature takes a row out.
        let complete = |row: usize| setup.missing == MissingPolicy::Impute || columns.iter().all(|&k| table.columns[k].number(row).is_finite());
        let (mut sidebands, mut region, mut missing_resonant) = (Vec::new(), Vec::new(), 0);
        // Compared as the f32 the table holds, so that a cell "3.3" is inside a window from 3.3.
        let window = low as f32..high as f32;
        for row in 0..table.rows() {
            let m = table.columns[resonant].number(row);
            if !m.is_finite() {
                missing_resonant += 1;
            } else if complete(row) {
                if window.contains(&m) { region.push(row) } else { sidebands.push(row) }
            }
        }
        if missing_resonant == table.rows() {
            return Err(format!("Column \"{name}\" has no values, so no row can be placed in the sidebands or the signal region."));
        }
        if sidebands.len() < MIN_SIDEBAND_ROWS {
            return Err(format!(
                "Only {} rows lie outside the signal region {low}–{high} (at least {MIN_SIDEBAND_ROWS} are needed to learn the background there). Narrow the window, or load more events.",
                sidebands.len()
            ));
        }
        if region.len() < MIN_REGION_ROWS {
            return Err(format!(
                "Only {} rows lie inside the signal region {low}–{high} (at least {MIN_REGION_ROWS} are needed). Widen the window, or move it to where there are events.",
                region.len()
            ));
        }
        let seed = setup.model.optimiser.seed;
        let sample = |rows: &[usize], purpose: &str| -> Vec<usize> {
            let mut rows = rows.to_vec();
            SeededRng::derive(seed, purpose).shuffle(&mut rows);
            rows.truncate(setup.max_training_rows);
            rows
        };
        let (sideband_sample, region_sample) = (sample(&sidebands, "table-sidebands"), sample(&region, "table-region"));
        let preprocessing = Preprocessing::fit(table, columns, &logs, setup.missing, &sideband_sample);
        let rows_of = |rows: &[usize]| gather(table, columns, resonant, &preprocessing, rows);
        let log_mass = table.columns[resonant].summary.all_positive;
        let epochs = setup.model.optimiser.epochs;
        let mut background_fit = fit(conditional_flow(columns.len()), epochs, 1e-3, seed);
        background_fit.schedule.batch_size = setup.model.optimiser.batch_size;
        background_fit.validation_fraction = setup.validation_fraction;
        let background = BackgroundModel::begin(&rows_of(&sideband_sample), &background_fit, log_mass).map_err(|err| match err {
            TrainError::NoTrainingData => "A feature has the same value in every sideband row, so the background flow cannot learn it: ignore that column.".to_string(),
            other => format!("The background flow could not start: {other}."),
        })?;
        let labelled_signal_share = labels.map(|labels| {
            let known: Vec<u8> = region.iter().map(|&r| labels[r]).filter(|&l| l != NO_LABEL).collect();
            known.iter().filter(|&&l| l == 1).count() as f64 / known.len().max(1) as f64
        });
        let mut in_region = vec![false; table.rows()];
        region.iter().for_each(|&r| in_region[r] = true);
        let summary = ResonantSummary {
            method: setup.method,
            resonant: name,
            window: (low, high),
            sideband_rows: sidebands.len(),
            sideband_sample: sideband_sample.len(),
            region_rows: region.len(),
            region_sample: region_sample.len(),
            missing_resonant,
            log_mass,
            labelled_signal_share,
            fits: fits(setup, epochs, region_epochs(epochs, region_sample.len(), setup.validation_fraction, setup.model.optimiser.batch_size)),
        };
        let search = Self {
            summary,
            setup: setup.clone(),
            stage: Stage::Background(background),
            background: None,
            tagger: None,
            region: rows_of(&region_sample),
            in_region,
            finished_epochs: 0,
            concluded_validation: None,
            notes: Vec::new(),
        };
        Ok((search, preprocessing))
    }

    fn current(&self) -> Option<&dyn Training> {
        match &self.stage {
            Stage::Background(f) => Some(f),
            Stage::Anode(f) => Some(f),
            Stage::WarmStart(f) | Stage::Ranode(f) => Some(f),
            Stage::Done => None,
        }
    }

    fn current_mut(&mut self) -> Option<&mut dyn Training> {
        match &mut self.stage {
            Stage::Background(f) => Some(f),
            Stage::Anode(f) => Some(f),
            Stage::WarmStart(f) | Stage::Ranode(f) => Some(f),
            Stage::Done => None,
        }
    }

    /// Which of [`ResonantSummary::fits`] is training.
    fn fit_index(&self) -> usize {
        match self.stage {
            Stage::Background(_) => 0,
            Stage::Anode(_) | Stage::WarmStart(_) => 1,
            Stage::Ranode(_) | Stage::Done => self.summary.fits.len() - 1,
        }
    }

    /// How the fit numbered `index` in [`ResonantSummary::fits`] trains.
    fn method_fit(&self, index: usize, config: crate::flows::MafConfig, learning_rate: f64) -> crate::resonance::background::FlowFit {
        let optimiser = &self.setup.model.optimiser;
        let mut method_fit = fit(config, self.summary.fits[index].1, learning_rate, optimiser.seed + index as u64);
        method_fit.schedule.batch_size = optimiser.batch_size;
        method_fit.validation_fraction = self.setup.validation_fraction;
        method_fit
    }

    /// Ends the fit in progress with its best epoch's weights and starts the next one.
    fn conclude(&mut self) -> Result<(), TrainError> {
        self.finished_epochs += self.current().map_or(0, |f| f.epochs());
        self.concluded_validation = self.current().and_then(|f| f.validation_loss().ok().flatten());
        self.stage = match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Background(f) => {
                let background = f.finish()?;
                let features = self.region.features.first().map_or(0, Vec::len);
                let next = match self.setup.method {
                    TableMethod::Ranode => Stage::WarmStart(Ranode::begin(
                        &background,
                        &self.region,
                        self.summary.window,
                        &self.method_fit(1, signal_flow(features), 3e-3),
                        SignalFraction::Fixed(WARM_START_W),
                    )?),
                    _ => Stage::Anode(Anode::begin(&background, &self.region, &self.method_fit(1, conditional_flow(features), 1e-3))?),
                };
                self.background = Some(background);
                next
            }
            Stage::Anode(f) => {
                self.tagger = Some(Tagger::Anode(f.finish()?));
                Stage::Done
            }
            Stage::WarmStart(f) => {
                let start = f.finish()?;
                let background = self.background.as_ref().expect("the background flow is trained first");
                let features = self.region.features.first().map_or(0, Vec::len);
                Stage::Ranode(Ranode::begin_from(
                    &start,
                    background,
                    &self.region,
                    self.summary.window,
                    &self.method_fit(2, signal_flow(features), 3e-3),
                    SignalFraction::LearnedFast { start: START_W, speed: W_SPEED },
                )?)
            }
            Stage::Ranode(f) => {
                self.tagger = Some(Tagger::Ranode(f.finish()?));
                Stage::Done
            }
            Stage::Done => Stage::Done,
        };
        Ok(())
    }

    /// Sentences about fits that diverged since the last call (their best epoch was kept).
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// R-ANODE's signal fraction: as it trains, then as trained. None for ANODE.
    pub fn w(&self) -> Option<f64> {
        match (&self.stage, &self.tagger) {
            (Stage::Ranode(f), _) => f.model().w().ok(),
            (_, Some(Tagger::Ranode(r))) => r.w().ok(),
            _ => None,
        }
    }

    /// Is table row `row` one the search scores (inside the window, with every value it needs)?
    pub fn scores_row(&self, row: usize) -> bool {
        self.in_region[row]
    }

    /// The method's score for each of `rows` (all inside the window): larger is more signal-like. A row
    /// beyond the sidebands' range of some feature has no background density and gets f32::MAX.
    pub fn scores(&self, rows: &ResonantRows) -> Result<Vec<f32>, TrainError> {
        let background = self.background.as_ref().ok_or(TrainError::NoTrainingData)?;
        let scores = match self.tagger.as_ref().ok_or(TrainError::NoTrainingData)? {
            Tagger::Anode(anode) => anode.scores(background, rows)?,
            Tagger::Ranode(ranode) => ranode.scores(background, rows)?,
        };
        Ok(scores.into_iter().map(|s| if s.is_nan() { f32::NAN } else { s.clamp(-f32::MAX as f64, f32::MAX as f64) as f32 }).collect())
    }
}

/// Each fit's name and epochs: the background flow's `epochs`, then the method's `region_epochs` (for
/// R-ANODE, split between the warm start and the fit itself).
fn fits(setup: &TableSetup, epochs: usize, region_epochs: usize) -> Vec<(String, usize)> {
    let background = ("background flow (sidebands)".to_string(), epochs);
    match setup.method {
        TableMethod::Ranode => {
            let warm = ((region_epochs as f64 * WARM_START_SHARE).ceil() as usize).max(1);
            vec![
                background,
                ("R-ANODE's warm start (a flow of every row in the window)".into(), warm),
                ("R-ANODE (signal region)".into(), region_epochs.max(warm + 1) - warm),
            ]
        }
        _ => vec![background, (format!("{} (signal region)", setup.method.name()), region_epochs)],
    }
}

/// `rows` of the table as the flows' input: preprocessed features and the resonant value.
pub fn gather(table: &Table, columns: &[usize], resonant: usize, preprocessing: &Preprocessing, rows: &[usize]) -> ResonantRows {
    let mut out = ResonantRows::default();
    let mut values = vec![0f32; columns.len()];
    for &row in rows {
        preprocessing.transform_row(table, columns, row, &mut values);
        out.push(values.iter().map(|&v| v as f64).collect(), table.columns[resonant].number(row) as f64);
    }
    out
}

impl Training for ResonantSearch {
    /// One step of the fit in progress; when it finishes (or diverges after a good epoch), the next fit
    /// starts within the same call.
    fn step(&mut self) -> Result<StepReport, TrainError> {
        let finished_epochs = self.finished_epochs;
        self.concluded_validation = None;
        let Some(fit) = self.current_mut() else {
            return Err(TrainError::Compute("the search has finished".into()));
        };
        let mut report = match fit.step() {
            Ok(report) => report,
            Err(TrainError::Diverged { epoch, step, loss }) => {
                // The fit's remaining epochs are skipped; its last good validation loss stands for them.
                let report = StepReport {
                    epochs_done: fit.epochs() + finished_epochs,
                    step_in_epoch: 0,
                    steps_per_epoch: fit.steps_per_epoch(),
                    rows: 0,
                    loss: fit.validation_loss().ok().flatten().unwrap_or(0.0),
                    epoch_finished: true,
                };
                let name = &self.summary.fits[self.fit_index()].0;
                self.notes.push(format!(
                    "The {name} diverged at epoch {epoch}, step {step} (the loss became {loss}); it keeps the weights of its best epoch (or of its last good step, within its first epoch) and the search goes on."
                ));
                self.conclude()?;
                return Ok(report);
            }
            Err(err) => return Err(err),
        };
        if fit.is_finished() {
            self.conclude()?;
        }
        report.epochs_done += finished_epochs;
        Ok(report)
    }
    fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }
    fn epochs(&self) -> usize {
        self.summary.fits.iter().map(|f| f.1).sum()
    }
    fn batch_size(&self) -> usize {
        self.setup.model.optimiser.batch_size
    }
    fn epochs_done(&self) -> usize {
        self.finished_epochs + self.current().map_or(0, |f| f.epochs_done())
    }
    fn step_in_epoch(&self) -> usize {
        self.current().map_or(0, |f| f.step_in_epoch())
    }
    fn steps_per_epoch(&self) -> usize {
        self.current().map_or(1, |f| f.steps_per_epoch())
    }
    fn train_rows(&self) -> usize {
        self.current().map_or(0, |f| f.train_rows())
    }
    fn validation_loss(&self) -> Result<Option<f32>, TrainError> {
        match self.concluded_validation {
            Some(loss) => Ok(Some(loss)),
            None => self.current().map_or(Ok(None), |f| f.validation_loss()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::prepare::Role;
    use crate::table::run::TableRun;
    use crate::table::{dijet, parse_bytes};

    fn toy(rows: usize, signal_fraction: f64) -> Table {
        parse_bytes(&dijet::to_csv(&dijet::generate(rows, signal_fraction, 4)), 1 << 16).unwrap()
    }

    fn search_setup(table: &Table, method: TableMethod, epochs: usize) -> TableSetup {
        let mut setup = TableSetup::suggested(table);
        setup.choices[0].role = Role::Resonant;
        setup.method = method;
        setup.signal_region = Some((3.3, 3.7));
        setup.model.optimiser.epochs = epochs;
        setup
    }

    fn run_to_the_end(table: &Table, setup: &TableSetup) -> TableRun {
        let mut run = TableRun::new(table, setup, None).unwrap();
        while !run.training().is_finished() {
            run.step().unwrap();
        }
        while !run.scoring_done() {
            run.score_next(table, 3000).unwrap();
        }
        run
    }

    /// The toy's W′ at 3.5 TeV sits in the window: ANODE scores only the window's rows, and ranks its
    /// signal above its background.
    #[test]
    fn anode_on_a_table_scores_the_signal_region_and_finds_the_resonance() {
        let table = toy(12_000, 0.04);
        let setup = search_setup(&table, TableMethod::Anode, 4);
        let mut run = run_to_the_end(&table, &setup);
        let summary = run.summary.resonance.clone().unwrap();
        let m_jj: Vec<f32> = (0..table.rows()).map(|r| table.columns[0].number(r)).collect();
        let inside = m_jj.iter().filter(|&&m| (3.3f32..3.7).contains(&m)).count();
        assert_eq!((summary.region_rows, summary.sideband_rows, summary.missing_resonant), (inside, table.rows() - inside, 0));
        assert!(summary.log_mass && summary.labelled_signal_share.unwrap() > 0.05, "{summary:?}");
        for (row, &m) in m_jj.iter().enumerate() {
            assert_eq!(run.scores[row].is_finite(), (3.3f32..3.7).contains(&m), "row {row} at m_jj {m}");
        }
        let results = run.results();
        assert_eq!(results.scored_rows, inside);
        let auc = results.roc.unwrap().auc;
        assert!(auc > 0.7, "AUC {auc}");
        assert_eq!(results.learned_w, None);
        assert_eq!(run.training().epochs_done(), 4 + summary.fits[1].1, "both fits' epochs are counted");
    }

    /// With the warm start and the faster w (see [`WARM_START_SHARE`], [`W_SPEED`]), R-ANODE finds the
    /// toy's signal six standard deviations out and learns its share within a factor of 2.
    #[test]
    fn ranode_on_a_table_learns_a_signal_fraction() {
        let table = toy(12_000, 0.04);
        let setup = search_setup(&table, TableMethod::Ranode, 3);
        let mut run = run_to_the_end(&table, &setup);
        let results = run.results();
        let (w, truth) = (results.learned_w.unwrap(), run.summary.resonance.as_ref().unwrap().labelled_signal_share.unwrap());
        assert!(w > truth / 2.0 && w < truth * 2.0, "learned w {w}, labelled share {truth}");
        let auc = results.roc.unwrap().auc;
        assert!(auc > 0.9, "AUC {auc}");
        assert!(run.model_file().is_err(), "a resonance search has no autoencoder to save");
    }

    #[test]
    fn windows_that_leave_too_few_rows_and_an_empty_resonant_column_are_sentences() {
        let table = toy(3_000, 0.02);
        let mut setup = search_setup(&table, TableMethod::Anode, 1);
        setup.signal_region = Some((3.3, 3.31));
        let err = TableRun::new(&table, &setup, None).err().unwrap();
        assert!(err.starts_with("Only ") && err.contains("inside the signal region") && err.contains("Widen the window"), "{err}");
        setup.signal_region = Some((2.0, 9.0));
        let err = TableRun::new(&table, &setup, None).err().unwrap();
        assert!(err.contains("outside the signal region") && err.contains("Narrow the window"), "{err}");
        setup.signal_region = Some((20.0, 30.0));
        let err = TableRun::new(&table, &setup, None).err().unwrap();
        assert!(err.contains("holds no rows"), "{err}");
        setup.signal_region = None;
        assert!(TableRun::new(&table, &setup, None).err().unwrap().starts_with("Set the signal region"));
        setup.signal_region = Some((3.3, 3.7));
        setup.choices[0].role = Role::Feature;
        assert!(TableRun::new(&table, &setup, None).err().unwrap().contains("needs a resonant variable"));
        setup.method = TableMethod::Autoencoder;
        setup.choices[0].role = Role::Resonant;
        assert!(TableRun::new(&table, &setup, None).err().unwrap().contains("does not use a resonant variable"));

        // A resonant column with gaps: those rows are neither sideband nor signal region.
        let mut text = String::from("m,x,y\n");
        let mut rng = SeededRng::new(5);
        for i in 0..3000 {
            let m = if i % 10 == 0 { String::new() } else { format!("{:.4}", 1.0 + 2.0 * rng.uniform()) };
            text += &format!("{m},{:.4},{:.4}\n", rng.normal(), rng.normal());
        }
        let table = parse_bytes(text.as_bytes(), 1 << 16).unwrap();
        let mut setup = TableSetup::suggested(&table);
        setup.choices[0].role = Role::Resonant;
        setup.method = TableMethod::Anode;
        setup.signal_region = Some((1.8, 2.2));
        setup.model.optimiser.epochs = 1;
        let run = TableRun::new(&table, &setup, None).unwrap();
        let summary = run.summary.resonance.unwrap();
        assert_eq!(summary.missing_resonant, 300);
        assert_eq!(summary.region_rows + summary.sideband_rows, 2700);
    }
}
