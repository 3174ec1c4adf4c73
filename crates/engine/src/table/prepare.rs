//! From a parsed table to numbers a model can learn: what each column is for, which rows to train on,
//! and the preprocessing (optional log, then standardisation fitted on the training rows only, so that
//! nothing about the rows being judged leaks into the model).

use serde::{Deserialize, Serialize};

use super::column::{ColumnSummary, NO_LABEL};
use super::label_names::{is_label_name, signal_side};
use super::Table;
use crate::rng::SeededRng;
use crate::settings::{ModelSettings, OptimiserSettings, VaeSettings};

/// What a column is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// An input of the model.
    Feature,
    /// Which rows are signal and which background (two values); enables ROC, AUC and SIC.
    Label,
    /// Carried through to the download, not used.
    Ignored,
    /// The variable a resonance would bump (such as m_jj): ANODE and R-ANODE learn the background in its
    /// sidebands and look for the signal inside the signal-region window.
    Resonant,
}

/// How the rows are judged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableMethod {
    /// A VAE's reconstruction error: anything unlike the training rows.
    #[default]
    Autoencoder,
    /// ANODE: a flow of the signal region's data over the background flow from the sidebands.
    Anode,
    /// R-ANODE: a small flow fitted to what the background flow does not explain in the signal region.
    Ranode,
}

impl TableMethod {
    /// ANODE and R-ANODE: a resonance search along a resonant variable.
    pub fn is_resonant(self) -> bool {
        matches!(self, TableMethod::Anode | TableMethod::Ranode)
    }

    pub fn name(self) -> &'static str {
        match self {
            TableMethod::Autoencoder => "autoencoder",
            TableMethod::Anode => "ANODE",
            TableMethod::Ranode => "R-ANODE",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnChoice {
    pub role: Role,
    /// Take the natural log before standardising (positive columns only).
    pub log: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingPolicy {
    /// A row with a missing feature is not trained on and gets no score.
    DropRow,
    /// A missing feature is replaced by the training rows' mean.
    Impute,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrainOn {
    /// Unsupervised: every row, signal or not (the realistic case: you do not know which is which).
    AllRows,
    /// Only rows the label calls background (an idealised "pure background" training set).
    BackgroundRows,
    /// A second file of background events with the same feature columns.
    OtherFile,
}

/// Everything a visitor chooses about a table; with the same file it reproduces the same scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableSetup {
    pub choices: Vec<ColumnChoice>,
    /// Which of the label column's two values marks signal (0 or 1, into `two_values`).
    pub signal_value: usize,
    pub missing: MissingPolicy,
    pub train_on: TrainOn,
    pub validation_fraction: f64,
    /// Training uses a seeded sample of at most this many rows; every row is scored.
    pub max_training_rows: usize,
    pub model: ModelSettings,
    #[serde(default)]
    pub method: TableMethod,
    /// The signal region [low, high) of the resonant column, for ANODE and R-ANODE.
    #[serde(default)]
    pub signal_region: Option<(f64, f64)>,
}

pub const VALIDATION_FRACTION: (f64, f64) = (0.0, 0.5);
pub const MAX_TRAINING_ROWS: (usize, usize) = (10, 1_000_000);
/// Fewer training rows than this cannot teach a model anything worth scoring with.
pub const MIN_TRAINING_ROWS: usize = 10;

impl TableSetup {
    /// Sensible first choices: numbers are features (except constant ones and identifiers such as event
    /// numbers), a two-valued column with a label-like name is the label, text is ignored; heavy-tailed
    /// positive columns get a log.
    pub fn suggested(table: &Table) -> Self {
        let mut label_taken = false;
        let choices = table
            .columns
            .iter()
            .map(|c| {
                let s = &c.summary;
                let label_like = is_label_name(&s.name);
                if label_like && s.two_values.is_some() && !label_taken {
                    label_taken = true;
                    ColumnChoice { role: Role::Label, log: false }
                } else if s.numeric && s.present > 0 && !s.constant && !s.identifier_like {
                    ColumnChoice { role: Role::Feature, log: s.heavy_tailed_positive }
                } else {
                    ColumnChoice { role: Role::Ignored, log: false }
                }
            })
            .collect();
        let mut setup = Self::with_choices(choices);
        if let Some(label) = setup.label_column() {
            setup.signal_value = suggested_signal_value(table.columns[label].summary.two_values.as_ref());
            // With labels the visitor is judging a method, so start from a clean background sample: an
            // autoencoder trained on rows that include a compact signal learns to reconstruct it too
            // (see `table::run` tests), which the page explains when it happens.
            setup.train_on = TrainOn::BackgroundRows;
        }
        setup
    }

    /// These column roles with every other choice at its default.
    pub fn with_choices(choices: Vec<ColumnChoice>) -> Self {
        Self {
            choices,
            signal_value: 1,
            missing: MissingPolicy::DropRow,
            train_on: TrainOn::AllRows,
            validation_fraction: 0.2,
            max_training_rows: 50_000,
            model: ModelSettings {
                vae: VaeSettings { hidden_units: 32, latent_dims: 2, beta: 0.5, score_with_kl: false },
                optimiser: OptimiserSettings { learning_rate: 3e-3, batch_size: 256, epochs: 20, seed: 1 },
            },
            method: TableMethod::Autoencoder,
            signal_region: None,
        }
    }

    pub fn label_column(&self) -> Option<usize> {
        self.choices.iter().position(|c| c.role == Role::Label)
    }

    pub fn feature_columns(&self) -> Vec<usize> {
        (0..self.choices.len()).filter(|&k| self.choices[k].role == Role::Feature).collect()
    }

    pub fn resonant_column(&self) -> Option<usize> {
        self.choices.iter().position(|c| c.role == Role::Resonant)
    }

    /// Every reason these choices cannot run on `table`, each a sentence; empty means they can.
    pub fn problems(&self, table: &Table) -> Vec<String> {
        let summaries: Vec<ColumnSummary> = table.columns.iter().map(|c| c.summary.clone()).collect();
        self.problems_for(&summaries)
    }

    /// The same check from the column summaries alone (what the page has).
    pub fn problems_for(&self, columns: &[ColumnSummary]) -> Vec<String> {
        let mut problems = Vec::new();
        if self.choices.len() != columns.len() {
            problems.push(format!(
                "These choices are for {} columns, but the file has {}. Load the file they were made for, or reset the roles.",
                self.choices.len(),
                columns.len()
            ));
            return problems;
        }
        let features = self.feature_columns();
        if features.is_empty() {
            problems.push("Choose at least one numeric column as a feature: the model has nothing to learn from.".into());
        }
        for (k, choice) in self.choices.iter().enumerate() {
            let s = &columns[k];
            if choice.role == Role::Feature && !s.numeric {
                problems.push(format!("Column \"{}\" holds text, so it cannot be a feature.", s.name));
            }
            if choice.role == Role::Feature && choice.log && !s.all_positive {
                problems.push(format!(
                    "Column \"{}\" has values at or below zero, so it cannot be log-transformed; untick \"log\" for it.",
                    s.name
                ));
            }
        }
        let labels: Vec<usize> = (0..self.choices.len()).filter(|&k| self.choices[k].role == Role::Label).collect();
        if labels.len() > 1 {
            problems.push("Only one column can be the label.".into());
        }
        if let Some(&label) = labels.first() {
            if columns[label].two_values.is_none() {
                problems.push(format!(
                    "Column \"{}\" cannot be the label: a label has exactly two different values (such as 0 and 1, or sig and bkg).",
                    columns[label].name
                ));
            }
        }
        problems.extend(self.resonance_problems(columns));
        if self.train_on == TrainOn::BackgroundRows && labels.is_empty() && !self.method.is_resonant() {
            problems.push("Training on background rows needs a label column that says which rows are background.".into());
        }
        if !(VALIDATION_FRACTION.0..=VALIDATION_FRACTION.1).contains(&self.validation_fraction) {
            problems.push("The validation share must be between 0% and 50%.".into());
        }
        if !(MAX_TRAINING_ROWS.0..=MAX_TRAINING_ROWS.1).contains(&self.max_training_rows) {
            problems.push(format!(
                "The training sample must be between {} and {} rows.",
                MAX_TRAINING_ROWS.0, MAX_TRAINING_ROWS.1
            ));
        }
        problems.extend(self.model.problems().into_iter().filter(|p| p.field != "normal_digits").map(|p| p.message));
        problems
    }

    /// What is wrong with the resonant column and the signal region, for the method chosen.
    fn resonance_problems(&self, columns: &[ColumnSummary]) -> Vec<String> {
        let resonant: Vec<usize> = (0..self.choices.len()).filter(|&k| self.choices[k].role == Role::Resonant).collect();
        let method = self.method.name();
        let Some(&column) = resonant.first() else {
            return if self.method.is_resonant() {
                vec![format!("{method} needs a resonant variable: mark one numeric column (such as m_jj) as \"resonant\".")]
            } else {
                Vec::new()
            };
        };
        let name = &columns[column].name;
        if !self.method.is_resonant() {
            return vec![format!(
                "The autoencoder does not use a resonant variable: choose ANODE or R-ANODE as the method, or make column \"{name}\" a feature or ignore it."
            )];
        }
        let mut problems = Vec::new();
        if resonant.len() > 1 {
            problems.push("Only one column can be the resonant variable.".into());
        }
        if !columns[column].numeric || columns[column].present == 0 {
            problems.push(format!("Column \"{name}\" holds no numbers, so it cannot be the resonant variable."));
        }
        match self.signal_region {
            None => problems.push(format!("Set the signal region: the window of \"{name}\" where {method} looks for a bump.")),
            Some((low, high)) if !(low.is_finite() && high.is_finite() && low < high) => {
                problems.push("The signal region's low end must be below its high end.".into())
            }
            Some((low, high)) => {
                let (min, max) = (columns[column].min.unwrap_or(f64::NAN), columns[column].max.unwrap_or(f64::NAN));
                if !(low < max && high > min) {
                    problems.push(format!(
                        "The signal region {low}–{high} holds no rows: \"{name}\" runs from {min} to {max}. Move the window inside that range."
                    ));
                }
            }
        }
        problems
    }

    /// Per row: 1 signal, 0 background, [`NO_LABEL`] unknown. None without a label column.
    pub fn labels(&self, table: &Table) -> Option<Vec<u8>> {
        let codes = table.columns[self.label_column()?].two_valued()?;
        let signal = self.signal_value.min(1) as u8;
        Some(codes.into_iter().map(|c| if c == NO_LABEL { NO_LABEL } else { u8::from(c == signal) }).collect())
    }
}

/// A first signal-region window for a column just marked resonant: the R&D dijet samples' 3.3–3.7 TeV
/// for an m_jj in TeV that spans it, otherwise a tenth of the column's range around its mean, to 3
/// significant digits. The visitor moves it to where they want to look.
pub fn suggested_signal_region(column: &ColumnSummary) -> Option<(f64, f64)> {
    let (min, max, mean) = (column.min?, column.max?, column.mean?);
    let name = column.name.to_lowercase().replace(['_', ' '], "");
    if name.contains("mjj") && min < 3.3 && max > 3.7 {
        return Some((3.3, 3.7));
    }
    let half = 0.05 * (max - min);
    let round = |v: f64| if v == 0.0 { 0.0 } else { let scale = 10f64.powi(2 - v.abs().log10().floor() as i32); (v * scale).round() / scale };
    let (low, high) = (round(mean - half), round(mean + half));
    (low < high).then_some((low, high))
}

fn suggested_signal_value(values: Option<&[String; 2]>) -> usize {
    values.map_or(1, signal_side)
}

/// Optional log, then (x − mean) / std with the training rows' mean and standard deviation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureTransform {
    pub name: String,
    pub log: bool,
    /// The statistics are fitted in f64 and kept as the f32 that scoring uses: an f32 survives a trip
    /// through a model file's JSON exactly, so a saved model scores bit for bit as before.
    pub mean: f32,
    pub std: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    pub features: Vec<FeatureTransform>,
    pub missing: MissingPolicy,
}

impl FeatureTransform {
    /// The value before standardising, or None when it is missing or outside the log's domain.
    fn raw(&self, value: f32) -> Option<f64> {
        if !value.is_finite() || (self.log && value <= 0.0) {
            return None;
        }
        Some(if self.log { (value as f64).ln() } else { value as f64 })
    }

    /// The value in the table's units from a prepared one (the inverse of [`Self::apply`]).
    pub fn unapply(&self, prepared: f32) -> f32 {
        let raw = prepared * self.std + self.mean;
        if self.log { libm::expf(raw) } else { raw }
    }

    /// The prepared value, in f32 arithmetic (as fast as scoring needs; both the row and the batch path
    /// use exactly this, so a row prepares the same either way). None when missing.
    fn apply(&self, value: f32) -> Option<f32> {
        if !value.is_finite() || (self.log && value <= 0.0) {
            return None;
        }
        // libm's logf, not the platform's: the native scorer must prepare rows bit for bit as the page does.
        let raw = if self.log { libm::logf(value) } else { value };
        Some((raw - self.mean) / self.std)
    }

    /// [`Self::apply`] of each value: the prepared value or 0 into `prepared`, whether it was there
    /// into `present`. Returns true when every value was there, and then leaves `present` alone.
    fn apply_all(&self, values: &[f32], prepared: &mut [f32], present: &mut [bool]) -> bool {
        if self.log {
            for (&value, (slot, present)) in values.iter().zip(prepared.iter_mut().zip(present.iter_mut())) {
                let value = self.apply(value);
                (*slot, *present) = (value.unwrap_or(0.0), value.is_some());
            }
            return false;
        }
        // Most columns have no gap, and then there is nothing more to write.
        if standardise(values, self.mean, self.std, prepared) {
            return true;
        }
        for (&value, (slot, present)) in values.iter().zip(prepared.iter_mut().zip(present.iter_mut())) {
            *present = value.is_finite();
            if !*present {
                *slot = 0.0;
            }
        }
        false
    }
}

/// `(value − mean) / std` of each value into `out`, as [`FeatureTransform::apply`] computes it, so the
/// same bits; returns whether every value is finite. In the browser, four values at a time: left to
/// the compiler, the division and the check went one value at a time, and took about half the time of
/// preparing rows for scoring.
fn standardise(values: &[f32], mean: f32, std: f32, out: &mut [f32]) -> bool {
    let out = &mut out[..values.len()];
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let mut finite = true;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let (values, out, mut finite) = {
        use core::arch::wasm32::*;
        let whole = values.len() / 4 * 4;
        let (mean4, std4, infinity) = (f32x4_splat(mean), f32x4_splat(std), f32x4_splat(f32::INFINITY));
        let mut all_finite = u32x4_splat(u32::MAX);
        for (v, o) in values[..whole].chunks_exact(4).zip(out[..whole].chunks_exact_mut(4)) {
            // SAFETY: each chunk holds 4 f32s; v128_load and v128_store allow unaligned addresses.
            let v = unsafe { v128_load(v.as_ptr() as *const v128) };
            unsafe { v128_store(o.as_mut_ptr() as *mut v128, f32x4_div(f32x4_sub(v, mean4), std4)) };
            // |v| < ∞ is false for ±∞ and NaN, as `is_finite`.
            all_finite = v128_and(all_finite, f32x4_lt(f32x4_abs(v), infinity));
        }
        (&values[whole..], &mut out[whole..], u32x4_all_true(all_finite))
    };
    for (&value, slot) in values.iter().zip(out) {
        *slot = (value - mean) / std;
        finite &= value.is_finite();
    }
    finite
}

impl Preprocessing {
    /// Fits mean and standard deviation on `rows` of `table` only (the training rows).
    pub fn fit(table: &Table, columns: &[usize], logs: &[bool], missing: MissingPolicy, rows: &[usize]) -> Self {
        let features = columns
            .iter()
            .zip(logs)
            .map(|(&k, &log)| {
                let mut transform = FeatureTransform { name: table.columns[k].name().to_string(), log, mean: 0.0, std: 1.0 };
                let (mut n, mut mean, mut m2) = (0f64, 0f64, 0f64); // Welford: stable for large counts
                for &row in rows {
                    if let Some(x) = transform.raw(table.columns[k].number(row)) {
                        n += 1.0;
                        let delta = x - mean;
                        mean += delta / n;
                        m2 += delta * (x - mean);
                    }
                }
                let std = if n > 1.0 { (m2 / (n - 1.0)).sqrt() } else { 0.0 };
                transform.mean = mean as f32;
                // A constant column carries no information; dividing by 1 keeps it harmless (it becomes 0).
                let std = std as f32;
                transform.std = if std > 0.0 && std.is_finite() { std } else { 1.0 };
                transform
            })
            .collect();
        Self { features, missing }
    }

    /// Writes row `row`'s prepared features into `out`. Returns false when a feature is missing and the
    /// policy drops such rows (`out` is then meaningless).
    pub fn transform_row(&self, table: &Table, columns: &[usize], row: usize, out: &mut [f32]) -> bool {
        for ((transform, &k), slot) in self.features.iter().zip(columns).zip(out.iter_mut()) {
            match transform.apply(table.columns[k].number(row)) {
                Some(x) => *slot = x,
                None if self.missing == MissingPolicy::Impute => *slot = 0.0, // the training mean, standardised
                None => return false,
            }
        }
        true
    }

    /// Prepares rows `start..end` at once (the fast path for scoring every row): `out` gets
    /// (end − start) × features values; `keep[i]` is false for a row the policy drops.
    ///
    /// A block of rows at a time, column by column within it: going column by column over the whole
    /// range would write each column's values a row apart across an `out` of megabytes, once per
    /// column, while a block's rows stay in the nearest cache as every column is written into them.
    pub fn transform_rows(&self, table: &Table, columns: &[usize], start: usize, end: usize, out: &mut [f32], keep: &mut [bool]) {
        const BLOCK: usize = 256;
        let (n, features) = (end - start, self.features.len());
        let impute = self.missing == MissingPolicy::Impute;
        let (mut prepared, mut present) = ([0f32; BLOCK], [false; BLOCK]);
        keep[..n].fill(true);
        for first in (0..n).step_by(BLOCK) {
            let len = BLOCK.min(n - first);
            for (k, (transform, &column)) in self.features.iter().zip(columns).enumerate() {
                let all_present = match &table.columns[column].data {
                    super::ColumnData::Numeric(values) => {
                        let values = &values[start + first..][..len];
                        transform.apply_all(values, &mut prepared[..len], &mut present[..len])
                    }
                    // Cannot happen for a feature (setup problems refuse it); treat as missing.
                    super::ColumnData::Text { .. } => {
                        prepared.fill(0.0);
                        present.fill(false);
                        false
                    }
                };
                let rows = out[first * features..].chunks_exact_mut(features);
                if all_present {
                    rows.zip(&prepared[..len]).for_each(|(row, &value)| row[k] = value);
                    continue;
                }
                for (((row, keep), &value), &present) in rows.zip(&mut keep[first..first + len]).zip(&prepared).zip(&present) {
                    row[k] = value;
                    *keep &= present || impute;
                }
            }
        }
    }

    /// Prepares one row given its raw feature values in the model's order (the native scorer reads rows
    /// this way). Returns false when the policy drops the row for a missing value.
    pub fn transform_values(&self, raw: &[f32], out: &mut [f32]) -> bool {
        let mut keep = true;
        for ((transform, &value), slot) in self.features.iter().zip(raw).zip(out.iter_mut()) {
            let prepared = transform.apply(value);
            *slot = prepared.unwrap_or(0.0);
            keep &= prepared.is_some() || self.missing == MissingPolicy::Impute;
        }
        keep
    }

    /// Whether the row has every feature (missing ones are imputed or drop the row).
    pub fn row_complete(&self, table: &Table, columns: &[usize], row: usize) -> bool {
        self.features.iter().zip(columns).all(|(t, &k)| t.raw(table.columns[k].number(row)).is_some())
    }
}

/// Which rows train and validate the model, chosen with a seed.
#[derive(Clone, Debug, PartialEq)]
pub struct RowSelection {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
    /// Rows that could have been trained on (after the missing-value policy and the label filter).
    pub eligible: usize,
    /// Rows left out because a feature is missing (drop policy) — these get no score either.
    pub dropped_missing: usize,
    /// Rows with a missing feature that were imputed (impute policy).
    pub imputed: usize,
}

/// Picks training and validation rows from `table`: those allowed by `train_on` (with `labels`), minus
/// rows with missing features under the drop policy; shuffled with the seed; the training part capped.
pub fn select_rows(
    table: &Table,
    columns: &[usize],
    logs: &[bool],
    setup: &TableSetup,
    labels: Option<&[u8]>,
    train_on_background_only: bool,
) -> RowSelection {
    let probe = Preprocessing::fit(table, columns, logs, setup.missing, &[]);
    let mut dropped_missing = 0;
    let mut imputed = 0;
    let mut eligible: Vec<usize> = Vec::with_capacity(table.rows());
    for row in 0..table.rows() {
        let complete = probe.row_complete(table, columns, row);
        if !complete {
            if setup.missing == MissingPolicy::DropRow {
                dropped_missing += 1;
                continue;
            }
            imputed += 1;
        }
        if train_on_background_only && labels.is_none_or(|l| l[row] != 0) {
            continue;
        }
        eligible.push(row);
    }
    let count = eligible.len();
    SeededRng::derive(setup.model.optimiser.seed, "table-split").shuffle(&mut eligible);
    let validation_rows = ((count as f64 * setup.validation_fraction).round() as usize).min(setup.max_training_rows / 4);
    let validation: Vec<usize> = eligible[..validation_rows].to_vec();
    let train_end = (validation_rows + setup.max_training_rows).min(count);
    let train = eligible[validation_rows..train_end].to_vec();
    RowSelection { train, validation, eligible: count, dropped_missing, imputed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::parse_bytes;

    fn table(text: &str) -> Table {
        parse_bytes(text.as_bytes(), 1 << 16).unwrap()
    }

    #[test]
    fn a_resonant_column_gets_a_window_to_start_from() {
        let t = table("m_jj,x\n2.6,1\n3.5,2\n6.1,3\n");
        assert_eq!(suggested_signal_region(&t.columns[0].summary), Some((3.3, 3.7)));
        let t = table("mass,x\n100,1\n250,2\n400,3\n");
        assert_eq!(suggested_signal_region(&t.columns[0].summary), Some((235.0, 265.0)));
        let t = table("y,x\n-0.012,1\n-0.011,2\n");
        let (low, high) = suggested_signal_region(&t.columns[0].summary).unwrap();
        assert!(low < high && low > -0.012 && high < -0.011, "{low} {high}");
        let t = table("flat,x\n2,1\n2,2\n");
        assert_eq!(suggested_signal_region(&t.columns[0].summary), None);
    }

    #[test]
    fn suggested_roles_follow_the_columns() {
        let t = table("pt,name,const,label\n10,a,1,0\n1000,b,1,1\n3,c,1,0\n");
        let setup = TableSetup::suggested(&t);
        let roles: Vec<Role> = setup.choices.iter().map(|c| c.role).collect();
        assert_eq!(roles, [Role::Feature, Role::Ignored, Role::Ignored, Role::Label]);
        assert!(setup.choices[0].log, "a positive column spanning 3 to 1000 gets a log");
        assert_eq!(setup.labels(&t), Some(vec![0, 1, 0]));
        assert!(setup.problems(&t).is_empty(), "{:?}", setup.problems(&t));
        let t = table("x,kind\n1,sig\n2,bkg\n");
        let setup = TableSetup::suggested(&t);
        assert_eq!(setup.choices[1].role, Role::Ignored, "\"kind\" is not a label-like name");
        let t = table("x,class\n1,signal\n2,background\n");
        let setup = TableSetup::suggested(&t);
        assert_eq!((setup.signal_value, setup.labels(&t)), (0, Some(vec![1, 0])));
    }

    #[test]
    fn an_anomaly_column_is_the_label_not_a_feature() {
        for header in ["anomaly", "is_anomaly", "outlier", "isFraud", "Class"] {
            let t = table(&format!("x,{header}\n1,0\n2,1\n3,0\n"));
            let setup = TableSetup::suggested(&t);
            assert_eq!(setup.choices[1].role, Role::Label, "{header}");
            assert_eq!(setup.feature_columns(), vec![0], "{header} must not be trained on");
        }
    }

    #[test]
    fn an_event_number_column_is_not_a_feature() {
        let mut text = String::from("event,run,pt,hits\n");
        for i in 0..50u64 {
            // Shuffled event numbers beyond what a 32-bit float counts exactly; a run number that repeats;
            // a momentum; a small count that repeats.
            text += &format!("{},{},{}.5,{}\n", 9_000_000_000u64 + (i * 37) % 50 * 1001, 300 + i / 10, i, i % 7);
        }
        let t = table(&text);
        let roles: Vec<Role> = TableSetup::suggested(&t).choices.iter().map(|c| c.role).collect();
        assert_eq!(roles, [Role::Ignored, Role::Feature, Role::Feature, Role::Feature]);
        assert!(t.columns[0].summary.identifier_like);
        let row_numbers: String = std::iter::once("row,x\n".to_string()).chain((1..=30).map(|i| format!("{i},{}\n", i % 3))).collect();
        assert!(table(&row_numbers).columns[0].summary.identifier_like, "1, 2, 3, … is a row number");
        let counts: String = std::iter::once("income,x\n".to_string()).chain((1..=30).map(|i| format!("{},{}\n", i * 1000 + i % 7, i % 3))).collect();
        assert!(!table(&counts).columns[0].summary.identifier_like, "distinct whole numbers can be a quantity");
    }

    #[test]
    fn impossible_choices_are_sentences() {
        let t = table("x,name\n-1,a\n2,b\n");
        let mut setup = TableSetup::suggested(&t);
        setup.choices[0].log = true;
        setup.choices[1] = ColumnChoice { role: Role::Feature, log: false };
        setup.train_on = TrainOn::BackgroundRows;
        let problems = setup.problems(&t);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("\"name\" holds text") || problems[1].contains("\"name\" holds text"));
        assert!(problems.iter().any(|p| p.contains("cannot be log-transformed")));
        assert!(problems.iter().any(|p| p.contains("needs a label column")));
    }

    #[test]
    fn standardisation_is_fitted_on_the_training_rows_only() {
        let t = table("x\n1\n2\n3\n1000\n");
        let p = Preprocessing::fit(&t, &[0], &[false], MissingPolicy::DropRow, &[0, 1, 2]);
        assert_eq!((p.features[0].mean, p.features[0].std), (2.0, 1.0));
        let mut out = [0.0];
        assert!(p.transform_row(&t, &[0], 3, &mut out));
        assert_eq!(out[0], 998.0, "the held-out row is far out, as it should be");
        let logged = Preprocessing::fit(&t, &[0], &[true], MissingPolicy::DropRow, &[0, 3]);
        assert!((logged.features[0].mean - 1000f32.ln() / 2.0).abs() < 1e-6);
    }

    #[test]
    fn missing_values_drop_the_row_or_take_the_mean() {
        let t = table("x,y\n1,10\n,20\n3,30\n5,\n");
        let mut setup = TableSetup::suggested(&t);
        let sel = select_rows(&t, &[0, 1], &[false, false], &setup, None, false);
        assert_eq!((sel.eligible, sel.dropped_missing, sel.imputed), (2, 2, 0));
        setup.missing = MissingPolicy::Impute;
        setup.validation_fraction = 0.0;
        let sel = select_rows(&t, &[0, 1], &[false, false], &setup, None, false);
        assert_eq!((sel.eligible, sel.dropped_missing, sel.imputed, sel.train.len()), (4, 0, 2, 4));
        let p = Preprocessing::fit(&t, &[0, 1], &[false, false], MissingPolicy::Impute, &sel.train);
        let mut out = [9.0, 9.0];
        assert!(p.transform_row(&t, &[0, 1], 1, &mut out));
        assert_eq!(out[0], 0.0, "an imputed value sits at the training mean");
    }

    #[test]
    fn the_batch_path_prepares_rows_like_the_row_path() {
        // Several blocks of rows from an offset; gaps, infinities and values outside the log's domain,
        // and blocks where a column has none (column a's two infinities are in its first two blocks).
        let mut text = String::from("a,b,c\n");
        for i in 0..700 {
            let a = if i == 40 || i == 300 { "inf".to_string() } else { format!("{}", i as f32 * 0.37 - 20.0) };
            let b = if i % 13 == 2 { String::new() } else { format!("{}", (i % 41) as f32 * 2.5 - 3.0) };
            let c = if i % 29 == 7 { String::new() } else { format!("{}e-3", i * 7 % 101) };
            text += &format!("{a},{b},{c}\n");
        }
        let t = table(&text);
        let (start, end) = (37, 690);
        for missing in [MissingPolicy::DropRow, MissingPolicy::Impute] {
            let p = Preprocessing::fit(&t, &[0, 1, 2], &[false, true, false], missing, &(0..700).collect::<Vec<_>>());
            let mut batch = vec![0f32; (end - start) * 3];
            let mut keep = vec![false; end - start];
            p.transform_rows(&t, &[0, 1, 2], start, end, &mut batch, &mut keep);
            let mut dropped = 0;
            for row in start..end {
                let mut one = [0f32; 3];
                let kept = p.transform_row(&t, &[0, 1, 2], row, &mut one);
                let i = row - start;
                assert_eq!(kept, keep[i], "{missing:?} row {row}");
                dropped += usize::from(!kept);
                if kept {
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&batch[i * 3..i * 3 + 3]), bits(&one), "{missing:?} row {row}");
                }
            }
            assert_eq!(dropped > 50, missing == MissingPolicy::DropRow, "{missing:?}: {dropped} rows dropped");
        }
    }

    #[test]
    fn background_only_training_and_the_sample_cap() {
        let mut text = String::from("x,label\n");
        for i in 0..100 {
            text += &format!("{i},{}\n", u8::from(i % 10 == 0));
        }
        let t = table(&text);
        let mut setup = TableSetup::suggested(&t);
        setup.train_on = TrainOn::BackgroundRows;
        let labels = setup.labels(&t).unwrap();
        let sel = select_rows(&t, &[0], &[false], &setup, Some(&labels), true);
        assert_eq!(sel.eligible, 90);
        assert!(sel.train.iter().chain(&sel.validation).all(|&r| labels[r] == 0));
        setup.max_training_rows = 20;
        let sel = select_rows(&t, &[0], &[false], &setup, Some(&labels), true);
        assert_eq!((sel.train.len(), sel.validation.len()), (20, 5));
    }
}
