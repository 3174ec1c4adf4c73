//! Anomaly Awareness on a table: the digit view's stage 2 (`crate::awareness`, SCIENCE.md §1) for the
//! autoencoder a visitor trained on their own rows. A few labelled rows of the *shown* anomaly kinds
//! (chosen by the values of a column such as `signal_type`, or the label itself) join the fine-tuning
//! with the same bounded loss, L_VAE − λ·min(E, m) with λ ramped; the control run takes the same steps
//! without them. Each kind is then judged against background rows the autoencoder never trained on: AUC,
//! max SIC and 1/ε_B at ε_S = 30 %, before, after, and in the control.
//!
//! The fine-tuning changes the run's autoencoder in place (the weights are shared, as in the digit
//! view); the stage-1 weights are kept and [`TableAwareness::restore_stage1`] puts them back.

use serde::{Deserialize, Serialize};

use super::column::format_number;
use super::prepare::TableSetup;
use super::run::{training_rows, TableRun, TrainingRows};
use super::{ColumnData, Table};
use crate::awareness::{fine_tuning_loop, AnomalyAwareLoss, FineTuning};
use crate::inference::CpuScorer;
use crate::metrics::roc_of;
use crate::models::{Likelihood, Vae};
use crate::rng::SeededRng;
use crate::sic::sic_figures;
use crate::train::{TrainData, TrainError, TrainLoop, Training};

/// Background rows judged against, at most (a seeded sample beyond).
const MAX_BACKGROUND_ROWS: usize = 50_000;
/// Fewer background rows left for judging than this, and the figures would mean little.
const MIN_BACKGROUND_ROWS: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableAwarenessSettings {
    /// The column whose values name the anomaly kinds (a text column such as `signal_type`); the label
    /// column itself when the table has no such column (then there is one kind).
    pub kind_column: usize,
    /// The kinds whose labelled rows the fine-tuning sees; every other anomalous kind stays unseen.
    pub shown: Vec<String>,
    /// Labelled rows in all, shared evenly between the shown kinds.
    pub labelled_rows: usize,
    pub lambda_max: f32,
    /// The margin m as a multiple of the training rows' mean reconstruction error after stage 1.
    pub margin_factor: f32,
    pub ramp_fraction: f32,
    pub epochs: usize,
    pub learning_rate: f64,
}

impl TableAwarenessSettings {
    /// The digit view's defaults, for the kinds `shown` of `kind_column`.
    pub fn new(kind_column: usize, shown: Vec<String>) -> Self {
        Self { kind_column, shown, labelled_rows: 40, lambda_max: 4.0, margin_factor: 3.0, ramp_fraction: 0.5, epochs: 4, learning_rate: 1e-3 }
    }
}

/// A kind's figures of merit against the held-out background rows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindFigures {
    pub auc: f64,
    pub max_sic: f64,
    pub rejection_at_30: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindResult {
    pub kind: String,
    pub shown: bool,
    /// Rows of this kind judged (the labelled ones left out).
    pub rows: usize,
    pub before: KindFigures,
    pub after: KindFigures,
}

/// What the fine-tuning is judged on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// The paper's question: do kinds never shown gain too? Some kind must stay unseen, and the kinds
    /// are judged against background rows the autoencoder never trained on.
    UnseenKinds,
    /// ADBench's semi-supervised protocol: a few of the anomalies labelled, all kinds may be shown, and
    /// every row but the labelled ones is judged (the unsupervised autoencoder trained on them all).
    SemiSupervised,
}

/// A stage-2 run on a table's trained autoencoder.
pub struct TableAwareness {
    settings: TableAwarenessSettings,
    run: TrainLoop<AnomalyAwareLoss>,
    width: usize,
    score_with_kl: bool,
    /// Standardised background rows not trained on, then each kind's rows, row-major.
    background: Vec<f32>,
    kinds: Vec<(String, bool, Vec<f32>)>,
    before: Vec<KindFigures>,
    labelled: usize,
}

/// What a kind column's cell says, as the page shows it.
fn kind_of(table: &Table, column: usize, row: usize) -> Option<String> {
    match &table.columns[column].data {
        ColumnData::Numeric(values) => values[row].is_finite().then(|| format_number(values[row])),
        ColumnData::Text { codes, levels, .. } => codes.get(row).and_then(|&c| levels.get(c as usize)).cloned(),
    }
}

/// The anomaly kinds of a table: the distinct values of `kind_column` among its anomalous rows, sorted.
pub fn anomaly_kinds(table: &Table, setup: &TableSetup, kind_column: usize) -> Vec<String> {
    let Some(labels) = setup.labels(table) else { return Vec::new() };
    let mut kinds: Vec<String> = (0..table.rows()).filter(|&r| labels[r] == 1).filter_map(|r| kind_of(table, kind_column, r)).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

impl TableAwareness {
    /// Prepares stage 2 on `run`'s trained autoencoder. Refuses, in a sentence and with the model left as
    /// it was, a table without a label or anomalies, fewer labelled rows than shown kinds, and (under
    /// [`Protocol::UnseenKinds`]) shown kinds that leave no kind unseen.
    pub fn new(table: &Table, run: &TableRun, background: Option<&Table>, settings: &TableAwarenessSettings, protocol: Protocol) -> Result<Self, String> {
        let setup = &run.setup;
        let trainer = run.trainer().ok_or("Anomaly Awareness fine-tunes the autoencoder; ANODE and R-ANODE have none to fine-tune.")?;
        if !trainer.is_finished() {
            return Err("Train the autoencoder first; stage 2 fine-tunes the trained model.".into());
        }
        let labels = setup.labels(table).ok_or("Choose a label column first: stage 2 needs to know which rows are anomalies.")?;
        if settings.kind_column >= table.columns.len() {
            return Err("The column of anomaly kinds is not in this table.".into());
        }
        let kinds = anomaly_kinds(table, setup, settings.kind_column);
        if kinds.is_empty() || !labels.contains(&0) {
            return Err("The label has only one value here, so there are no anomalies to show (or no background to judge them against).".into());
        }
        if settings.shown.is_empty() {
            return Err("Choose at least one kind of anomaly to show.".into());
        }
        if let Some(unknown) = settings.shown.iter().find(|s| !kinds.contains(s)) {
            return Err(format!("No anomalous row has the kind \"{}\"; the kinds are {}.", super::error::cut_for_a_sentence(unknown, 40), kinds.join(", ")));
        }
        if settings.labelled_rows < settings.shown.len() {
            return Err(format!(
                "{} labelled rows cannot show {} kinds; use at least one row per shown kind.",
                settings.labelled_rows,
                settings.shown.len()
            ));
        }
        if protocol == Protocol::UnseenKinds && kinds.iter().all(|k| settings.shown.contains(k)) {
            return Err("The shown kinds cover every anomaly, so no kind is left unseen to judge whether the gain carries over; leave at least one kind unshown.".into());
        }
        if settings.epochs == 0 || !(settings.lambda_max >= 0.0 && settings.margin_factor > 0.0 && settings.learning_rate > 0.0) {
            return Err("Fine-tuning needs at least one epoch, λ at least 0, and a positive margin and learning rate.".into());
        }

        let TrainingRows { selection, preprocessing, train, from_scored_table, .. } = training_rows(table, setup, background, Some(&labels))?;
        let columns = setup.feature_columns();
        let width = columns.len();
        let seed = setup.model.optimiser.seed;
        let prepare = |rows: &[usize]| -> Vec<f32> {
            let mut out = Vec::with_capacity(rows.len() * width);
            let mut row_values = vec![0f32; width];
            for &r in rows {
                if preprocessing.transform_row(table, &columns, r, &mut row_values) {
                    out.extend_from_slice(&row_values);
                }
            }
            out
        };

        // Labelled rows: a seeded draw from each shown kind, shared as evenly as the count allows.
        let mut rng = SeededRng::derive(seed, "table-awareness-labelled");
        let (each, more) = (settings.labelled_rows / settings.shown.len(), settings.labelled_rows % settings.shown.len());
        let mut labelled_rows: Vec<usize> = Vec::new();
        for (i, kind) in settings.shown.iter().enumerate() {
            let mut rows: Vec<usize> = (0..table.rows()).filter(|&r| labels[r] == 1 && kind_of(table, settings.kind_column, r).as_deref() == Some(kind)).collect();
            rng.shuffle(&mut rows);
            rows.truncate(each + usize::from(i < more));
            labelled_rows.extend(rows);
        }
        labelled_rows.sort_unstable();
        let labelled = prepare(&labelled_rows);

        // Judged: background rows the autoencoder did not train on (every background row in the
        // semi-supervised protocol), and each kind's unlabelled rows.
        let mut trained = vec![false; table.rows()];
        if from_scored_table && protocol == Protocol::UnseenKinds {
            for &r in &selection.train {
                trained[r] = true;
            }
        }
        let mut held_out: Vec<usize> = (0..table.rows()).filter(|&r| labels[r] == 0 && !trained[r]).collect();
        if held_out.len() > MAX_BACKGROUND_ROWS {
            SeededRng::derive(seed, "table-awareness-background").shuffle(&mut held_out);
            held_out.truncate(MAX_BACKGROUND_ROWS);
            held_out.sort_unstable();
        }
        let background_rows = prepare(&held_out);
        if background_rows.len() / width < MIN_BACKGROUND_ROWS {
            return Err(format!(
                "Only {} background rows were not trained on, too few to judge the anomalies against; train on fewer rows (a smaller training sample) and try again.",
                background_rows.len() / width
            ));
        }
        let judged_kinds: Vec<(String, bool, Vec<f32>)> = kinds
            .iter()
            .map(|kind| {
                let rows: Vec<usize> = (0..table.rows())
                    .filter(|&r| labels[r] == 1 && labelled_rows.binary_search(&r).is_err() && kind_of(table, settings.kind_column, r).as_deref() == Some(kind))
                    .collect();
                (kind.clone(), settings.shown.contains(kind), prepare(&rows))
            })
            .filter(|(_, _, rows)| !rows.is_empty())
            .collect();

        let model = trainer.model();
        let normal_error = mean(&score(model, &train[..train.len().min(512 * width)], width, false).map_err(|e| e.to_string())?);
        let fine = FineTuning {
            lambda_max: settings.lambda_max,
            margin_factor: settings.margin_factor,
            ramp_fraction: settings.ramp_fraction,
            epochs: settings.epochs,
            learning_rate: settings.learning_rate,
            batch_size: setup.model.optimiser.batch_size,
            seed,
            streams: ("table-fine-tuning", "table-fine-tuning-noise"),
        };
        let data = TrainData { features: width, likelihood: Likelihood::Gaussian, train, validation: Vec::new() };
        let training = fine_tuning_loop(trainer, data, labelled, normal_error, fine).map_err(|e| e.to_string())?;
        let mut stage2 = Self {
            settings: settings.clone(),
            run: training,
            width,
            score_with_kl: setup.model.vae.score_with_kl,
            background: background_rows,
            kinds: judged_kinds,
            before: Vec::new(),
            labelled: labelled_rows.len(),
        };
        stage2.before = stage2.figures(model).map_err(|e| e.to_string())?;
        Ok(stage2)
    }

    /// The same steps on the same batches without the labelled rows: what training longer on the
    /// background alone gains, so that the anomalies' own share is the difference.
    pub fn without_anomalies(mut self) -> Self {
        self.run.model_mut().control = true;
        self
    }

    pub fn is_control(&self) -> bool {
        self.run.model().control
    }

    pub fn settings(&self) -> &TableAwarenessSettings {
        &self.settings
    }

    /// Labelled rows in the fine-tuning (fewer than asked when a shown kind has fewer rows).
    pub fn labelled_rows(&self) -> usize {
        self.labelled
    }

    pub fn margin(&self) -> f32 {
        self.run.model().margin
    }

    pub fn total_steps(&self) -> usize {
        self.run.total_steps()
    }

    pub fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    pub fn steps_done(&self) -> usize {
        self.run.steps_done()
    }

    /// The fine-tuning steps as a run any caller can drive, like stage 1's.
    pub fn training(&mut self) -> &mut dyn Training {
        &mut self.run
    }

    pub fn step(&mut self) -> Result<crate::StepReport, TrainError> {
        self.run.step()
    }

    /// Puts the stage-1 weights back.
    pub fn restore_stage1(&self) -> candle_core::Result<()> {
        self.run.restore_start()
    }

    /// Each kind's figures before fine-tuning and with the model as it is now.
    pub fn results(&self) -> Result<Vec<KindResult>, TrainError> {
        let after = self.figures(&self.run.model().vae)?;
        Ok(self
            .kinds
            .iter()
            .zip(self.before.iter().zip(after))
            .map(|((kind, shown, rows), (&before, after))| KindResult { kind: kind.clone(), shown: *shown, rows: rows.len() / self.width, before, after })
            .collect())
    }

    fn figures(&self, model: &Vae) -> Result<Vec<KindFigures>, TrainError> {
        let background = score(model, &self.background, self.width, self.score_with_kl)?;
        self.kinds
            .iter()
            .map(|(_, _, rows)| {
                let signal = score(model, rows, self.width, self.score_with_kl)?;
                let roc = roc_of(&background, &signal).map_err(|e| TrainError::Compute(e.to_string()))?;
                let scores: Vec<f32> = background.iter().chain(&signal).copied().collect();
                let truth: Vec<bool> = (0..scores.len()).map(|i| i >= background.len()).collect();
                let sic = sic_figures(&scores, &truth).map_err(|e| TrainError::Compute(e.to_string()))?;
                Ok(KindFigures { auc: roc.auc, max_sic: sic.max_sic, rejection_at_30: sic.rejection_at_30 })
            })
            .collect()
    }
}

/// The autoencoder's scores of `rows` on the fused CPU scorer (the table view's own scorer).
fn score(model: &Vae, rows: &[f32], width: usize, with_kl: bool) -> Result<Vec<f32>, TrainError> {
    let scorer = CpuScorer::for_model(&model.scoring_model(with_kl)?);
    let mut out = vec![0f32; rows.len() / width];
    scorer.score(rows, &mut out);
    Ok(out)
}

fn mean(values: &[f32]) -> f32 {
    values.iter().sum::<f32>() / values.len().max(1) as f32
}

/// One kind's figures before, after the fine-tuning with the labelled rows, and after the control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindComparison {
    pub kind: String,
    pub shown: bool,
    pub rows: usize,
    pub before: KindFigures,
    pub after: KindFigures,
    pub control: KindFigures,
}

/// What the page shows after a fine-tuning and its control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AwarenessSummary {
    pub settings: TableAwarenessSettings,
    pub labelled_rows: usize,
    pub margin: f32,
    pub kinds: Vec<KindComparison>,
    pub unseen_change: Option<f64>,
    pub control_change: Option<f64>,
    pub sentence: String,
}

/// The two runs side by side, with one honest sentence: how much the unseen kinds gained with the
/// labelled rows and in the control, the labelled rows' own share, and any shown kind that lost.
pub fn summarise(settings: &TableAwarenessSettings, labelled_rows: usize, margin: f32, with: &[KindResult], control: &[KindResult]) -> AwarenessSummary {
    let kinds: Vec<KindComparison> = with
        .iter()
        .zip(control)
        .map(|(w, c)| KindComparison { kind: w.kind.clone(), shown: w.shown, rows: w.rows, before: w.before, after: w.after, control: c.after })
        .collect();
    let (unseen_change, control_change) = (mean_unseen_change(with), mean_unseen_change(control));
    let mut sentence = match (unseen_change, control_change) {
        (Some(u), Some(c)) => {
            let share = u - c;
            let verdict = if share >= 0.01 {
                "the labelled rows carried the gain over to kinds they never showed"
            } else if share > -0.01 {
                "the labelled rows made little difference to the kinds they never showed"
            } else {
                "the labelled rows made the unseen kinds harder to find"
            };
            format!("On the unseen kinds the AUC changed by {u:+.3} on average with {labelled_rows} labelled rows and by {c:+.3} in the control run without them: their own share is {share:+.3}, so {verdict}.")
        }
        _ => "Every kind was shown, so there is no unseen kind to judge.".to_string(),
    };
    let lost: Vec<String> = kinds.iter().filter(|k| k.shown && k.after.auc < k.before.auc).map(|k| format!("{} ({:.3} → {:.3})", k.kind, k.before.auc, k.after.auc)).collect();
    if !lost.is_empty() {
        sentence += &format!(" A shown kind lost AUC: {}.", lost.join(", "));
    }
    AwarenessSummary { settings: settings.clone(), labelled_rows, margin, kinds, unseen_change, control_change, sentence }
}

/// The mean AUC change over the unseen kinds (after − before).
pub fn mean_unseen_change(results: &[KindResult]) -> Option<f64> {
    let changes: Vec<f64> = results.iter().filter(|r| !r.shown).map(|r| r.after.auc - r.before.auc).collect();
    (!changes.is_empty()).then(|| changes.iter().sum::<f64>() / changes.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{parse_bytes, signals};

    fn trained(rows: usize, seed: u64) -> (Table, TableRun) {
        let table = parse_bytes(&signals::to_csv(&signals::generate(rows, 0.08, seed)), 1 << 16).unwrap();
        let mut setup = TableSetup::suggested(&table);
        setup.model.optimiser.epochs = 3;
        let mut run = TableRun::new(&table, &setup, None).unwrap();
        while !run.training().is_finished() {
            run.step().unwrap();
        }
        (table, run)
    }

    fn kind_column(table: &Table) -> usize {
        table.column_names().iter().position(|n| n == "signal_type").unwrap()
    }

    #[test]
    fn the_toy_kinds_are_found_and_bad_choices_get_a_sentence() {
        let (table, run) = trained(4000, 1);
        let column = kind_column(&table);
        assert_eq!(anomaly_kinds(&table, &run.setup, column), ["A", "B", "C", "D"]);
        let refuse = |settings: TableAwarenessSettings| TableAwareness::new(&table, &run, None, &settings, Protocol::UnseenKinds).err().unwrap();
        let all: Vec<String> = signals::KINDS.iter().map(|k| k.to_string()).collect();
        assert!(refuse(TableAwarenessSettings::new(column, all)).starts_with("The shown kinds cover every anomaly"));
        let mut few = TableAwarenessSettings::new(column, vec!["A".into(), "B".into()]);
        few.labelled_rows = 1;
        assert_eq!(refuse(few), "1 labelled rows cannot show 2 kinds; use at least one row per shown kind.");
        assert!(refuse(TableAwarenessSettings::new(column, vec!["Z".into()])).starts_with("No anomalous row has the kind \"Z\""));
        // A label with one value: no anomalies.
        let only_background = parse_bytes(&signals::to_csv(&signals::generate(600, 0.0, 2)), 1 << 16).unwrap();
        let mut setup = TableSetup::suggested(&only_background);
        setup.model.optimiser.epochs = 1;
        let mut background_run = TableRun::new(&only_background, &setup, None).unwrap();
        while !background_run.training().is_finished() {
            background_run.step().unwrap();
        }
        let error = TableAwareness::new(&only_background, &background_run, None, &TableAwarenessSettings::new(kind_column(&only_background), vec!["A".into()]), Protocol::UnseenKinds).err().unwrap();
        assert!(error.starts_with("Choose a label column first") || error.starts_with("The label has only one value"), "{error}");
    }

    /// Fine-tuning with shown A rows raises A's AUC, and above the control's; the stage-1 weights come back.
    #[test]
    fn showing_a_kind_raises_its_auc_and_the_weights_come_back() {
        let (table, run) = trained(6000, 3);
        let settings = TableAwarenessSettings::new(kind_column(&table), vec!["A".into()]);
        let weights = run.trainer().unwrap().model().weights().unwrap();
        let mut aware = TableAwareness::new(&table, &run, None, &settings, Protocol::UnseenKinds).unwrap();
        assert_eq!(aware.labelled_rows(), 40);
        while !aware.is_finished() {
            aware.step().unwrap();
        }
        let with = aware.results().unwrap();
        aware.restore_stage1().unwrap();
        assert_eq!(run.trainer().unwrap().model().weights().unwrap(), weights, "stage 1 is back");
        let mut control = TableAwareness::new(&table, &run, None, &settings, Protocol::UnseenKinds).unwrap().without_anomalies();
        while !control.is_finished() {
            control.step().unwrap();
        }
        let without = control.results().unwrap();
        control.restore_stage1().unwrap();
        fn auc<'a>(r: &'a [KindResult], k: &str) -> &'a KindResult {
            r.iter().find(|x| x.kind == k).unwrap()
        }
        assert_eq!(auc(&with, "A").before, auc(&without, "A").before, "both start from stage 1");
        let (shown, control) = (auc(&with, "A"), auc(&without, "A"));
        assert!(shown.after.auc > shown.before.auc && shown.after.auc > control.after.auc, "{shown:?} vs {control:?}");
        assert!(with.iter().all(|r| r.shown == (r.kind == "A")));
        assert_eq!(auc(&with, "A").rows, 120 - 40, "the labelled rows are not judged");
    }
}
