//! The background model of a resonance search: a conditional flow p_B(x | m_jj) trained on the sidebands
//! and evaluated in the signal region, where it interpolates. Its closure gap, the mean over signal-region
//! background of ln p_true − ln p_model in nats, says how well it does on a toy whose true density is known.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};

use super::preprocess::{Prepared, Scaling};
use crate::flows::{Maf, MafConfig};
use crate::method::TrainStep;
use crate::models::init::seeded_init;
use crate::rng::SeededRng;
use crate::train::{sorted_vars, Rollback, Schedule, TrainData, TrainError, TrainLoop, Training};
use crate::StepReport;

/// Events of a resonance search: each row's features and its resonant variable (m_jj).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResonantRows {
    pub features: Vec<Vec<f64>>,
    pub m_jj: Vec<f64>,
}

impl ResonantRows {
    pub fn len(&self) -> usize {
        self.m_jj.len()
    }

    pub fn is_empty(&self) -> bool {
        self.m_jj.is_empty()
    }

    pub fn push(&mut self, features: Vec<f64>, m_jj: f64) {
        self.features.push(features);
        self.m_jj.push(m_jj);
    }
}

/// How a flow is built and trained; `validation_fraction` of the rows, chosen by the seed, are held
/// out to pick the best epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowFit {
    pub config: MafConfig,
    pub schedule: Schedule,
    pub validation_fraction: f64,
}

/// What one epoch of a fit did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f32,
    pub validation_loss: Option<f32>,
}

pub type FitResult<T> = Result<T, TrainError>;

/// A trained background flow with the scaling it was trained in.
pub struct BackgroundModel {
    flow: ConditionalFlow,
    scaling: Scaling,
}

impl BackgroundModel {
    /// Fits the scaling on `sidebands`, trains the flow there, calling `on_epoch` after each epoch, and
    /// keeps the weights of the epoch with the lowest validation loss. `log_mass`: the flow is conditioned
    /// on ln m_jj (a positive mass) rather than on m_jj.
    pub fn train(sidebands: &ResonantRows, fit: &FlowFit, log_mass: bool, on_epoch: impl FnMut(EpochReport)) -> Result<Self, TrainError> {
        Self::begin(sidebands, fit, log_mass)?.run(on_epoch)
    }

    /// The same fit, to be stepped by the caller.
    pub fn begin(sidebands: &ResonantRows, fit: &FlowFit, log_mass: bool) -> Result<Fitting<Self>, TrainError> {
        let scaling = Scaling::fit(&sidebands.features, &sidebands.m_jj, log_mass).ok_or(TrainError::NoTrainingData)?;
        Ok(ConditionalFlow::begin(&scaling.prepare(sidebands), fit, "background")?.map(|flow| Self { flow, scaling }))
    }

    pub fn scaling(&self) -> &Scaling {
        &self.scaling
    }

    pub fn flow(&self) -> &ConditionalFlow {
        &self.flow
    }

    /// ln p_B(x | m_jj) in the features' own units, one per row; −∞ where a row lies outside the
    /// sidebands' widened range.
    pub fn log_density(&self, rows: &ResonantRows) -> candle_core::Result<Vec<f64>> {
        let prepared = self.scaling.prepare(rows);
        let log_p = self.flow.log_density(&prepared)?;
        Ok(log_p.iter().zip(&prepared.log_jacobian).map(|(p, j)| j.map_or(f64::NEG_INFINITY, |j| *p as f64 + j)).collect())
    }

    /// One draw of the features from p_B(x | m_jj) at each of `m_jj` (the closure panel's "model").
    pub fn sample(&self, m_jj: &[f64], rng: &mut SeededRng) -> candle_core::Result<ResonantRows> {
        let maf = &self.flow.maf;
        let features = maf.config().features;
        let context: Vec<f32> = m_jj.iter().map(|&m| self.scaling.context(m)).collect();
        let y = in_chunks(m_jj.len(), |start, n| {
            let c = Tensor::from_slice(&context[start..start + n], (n, 1), &Device::Cpu)?;
            maf.sample(n, Some(&c), rng)?.flatten_all()?.to_vec1::<f32>()
        })?;
        let mut rows = ResonantRows::default();
        for (k, &m) in m_jj.iter().enumerate() {
            rows.push(self.scaling.invert(&y[k * features..(k + 1) * features]), m);
        }
        Ok(rows)
    }
}

/// A flow of p(y | c) in the scaled coordinates: the background model's, or ANODE's signal-region one.
pub struct ConditionalFlow {
    maf: Maf,
    _varmap: VarMap,
}

impl ConditionalFlow {
    /// A fit of a flow on `prepared`'s rows inside the scaling's range; `purpose` names its random streams.
    pub fn begin(prepared: &Prepared, fit: &FlowFit, purpose: &str) -> Result<Fitting<Self>, TrainError> {
        let features = fit.config.features;
        let mut rows: Vec<Vec<f32>> = Vec::with_capacity(prepared.len());
        for k in (0..prepared.len()).filter(|&k| prepared.log_jacobian[k].is_some()) {
            let mut row = prepared.y[k * features..(k + 1) * features].to_vec();
            row.push(prepared.context[k]);
            rows.push(row);
        }
        let varmap = VarMap::new();
        let maf = Maf::new(fit.config, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
        seeded_init(&varmap, fit.schedule.seed)?;
        let data = held_out_split(rows, features + fit.config.context, fit, purpose);
        let vars = sorted_vars(&varmap);
        Fitting::new(Self { maf: maf.clone(), _varmap: varmap }, maf, vars, data, fit.schedule.clone())
    }

    /// ln p(y | c) per row of `prepared` (rows outside the range get the density of y = 0; callers
    /// check `log_jacobian`).
    pub fn log_density(&self, prepared: &Prepared) -> candle_core::Result<Vec<f32>> {
        let features = self.maf.config().features;
        in_chunks(prepared.len(), |start, n| {
            let y = Tensor::from_slice(&prepared.y[start * features..(start + n) * features], (n, features), &Device::Cpu)?;
            let c = Tensor::from_slice(&prepared.context[start..start + n], (n, 1), &Device::Cpu)?;
            self.maf.log_density(&y, Some(&c))?.to_vec1::<f32>()
        })
    }
}

/// Rows a model evaluates at once when it scores many: bounds the memory of one pass.
const EVALUATION_ROWS: usize = 8192;

/// `per_chunk(start, rows)` over `rows` rows in slices of [`EVALUATION_ROWS`], its outputs joined.
pub fn in_chunks(rows: usize, mut per_chunk: impl FnMut(usize, usize) -> candle_core::Result<Vec<f32>>) -> candle_core::Result<Vec<f32>> {
    let mut out = Vec::with_capacity(rows);
    for start in (0..rows).step_by(EVALUATION_ROWS) {
        out.extend(per_chunk(start, EVALUATION_ROWS.min(rows - start))?);
    }
    Ok(out)
}

/// Rows shuffled by the seed, with `validation_fraction` of them held out.
pub fn held_out_split(mut rows: Vec<Vec<f32>>, columns: usize, fit: &FlowFit, purpose: &str) -> TrainData {
    SeededRng::derive(fit.schedule.seed, &format!("{purpose}-validation")).shuffle(&mut rows);
    let held_out = (rows.len() as f64 * fit.validation_fraction).round() as usize;
    let validation: Vec<f32> = rows[..held_out].iter().flatten().copied().collect();
    let train: Vec<f32> = rows[held_out..].iter().flatten().copied().collect();
    TrainData { features: columns, likelihood: Default::default(), train, validation }
}

/// A fit in progress: its model (whose weights change as it trains) and the run that trains it, stepped
/// by its caller (the worker in chunks, [`Fitting::run`] to the end). At each epoch's end it computes the
/// validation loss and copies the weights when that loss is the lowest so far; [`Fitting::finish`] puts
/// the best epoch's weights back (the last epoch's without validation rows).
pub struct Fitting<T> {
    model: T,
    run: Box<dyn Training>,
    vars: Vec<Var>,
    best: Option<(f32, Vec<Tensor>)>,
    last_validation: Option<f32>,
    /// The sum and count of this epoch's step losses.
    epoch_losses: (f64, usize),
    last_epoch: Option<EpochReport>,
}

impl<T> Fitting<T> {
    /// `model` is trained through `trainer` (a view of it sharing its variables `vars`).
    pub fn new<M: TrainStep + Sync + 'static>(model: T, trainer: M, vars: Vec<Var>, data: TrainData, schedule: Schedule) -> Result<Self, TrainError> {
        let run = Box::new(TrainLoop::new(trainer, vars.clone(), data, schedule, Rollback::LastStep)?);
        Ok(Self { model, run, vars, best: None, last_validation: None, epoch_losses: (0.0, 0), last_epoch: None })
    }

    /// The model as it is now, mid-training.
    pub fn model(&self) -> &T {
        &self.model
    }

    /// The same fit with its model wrapped (when the model needs more than the flow, like its scaling).
    pub fn map<U>(self, wrap: impl FnOnce(T) -> U) -> Fitting<U> {
        let Self { model, run, vars, best, last_validation, epoch_losses, last_epoch } = self;
        Fitting { model: wrap(model), run, vars, best, last_validation, epoch_losses, last_epoch }
    }

    /// Puts the best epoch's weights back and hands over the model.
    pub fn finish(self) -> candle_core::Result<T> {
        if let Some((_, weights)) = &self.best {
            for (var, w) in self.vars.iter().zip(weights) {
                var.set(w)?;
            }
        }
        Ok(self.model)
    }

    /// Trains to the end, calling `on_epoch` after each epoch, then [`Fitting::finish`]es.
    pub fn run(mut self, mut on_epoch: impl FnMut(EpochReport)) -> Result<T, TrainError> {
        while !self.is_finished() {
            if self.step()?.epoch_finished {
                on_epoch(self.last_epoch.expect("an epoch just ended"));
            }
        }
        Ok(self.finish()?)
    }
}

impl<T> Training for Fitting<T> {
    fn step(&mut self) -> Result<StepReport, TrainError> {
        let report = self.run.step()?;
        self.epoch_losses.0 += report.loss as f64;
        self.epoch_losses.1 += 1;
        if report.epoch_finished {
            let validation_loss = self.run.validation_loss()?;
            let (sum, steps) = std::mem::take(&mut self.epoch_losses);
            self.last_validation = validation_loss;
            self.last_epoch = Some(EpochReport { epoch: report.epochs_done, train_loss: (sum / steps as f64) as f32, validation_loss });
            if let Some(loss) = validation_loss.filter(|l| l.is_finite()) {
                if self.best.as_ref().is_none_or(|(b, _)| loss < *b) {
                    self.best = Some((loss, self.vars.iter().map(|v| v.as_tensor().copy()).collect::<candle_core::Result<_>>()?));
                }
            }
        }
        Ok(report)
    }
    fn is_finished(&self) -> bool {
        self.run.is_finished()
    }
    fn epochs(&self) -> usize {
        self.run.epochs()
    }
    fn batch_size(&self) -> usize {
        self.run.batch_size()
    }
    fn epochs_done(&self) -> usize {
        self.run.epochs_done()
    }
    fn step_in_epoch(&self) -> usize {
        self.run.step_in_epoch()
    }
    fn steps_per_epoch(&self) -> usize {
        self.run.steps_per_epoch()
    }
    fn train_rows(&self) -> usize {
        self.run.train_rows()
    }
    /// The validation loss computed at the last epoch's end (no second pass over the rows).
    fn validation_loss(&self) -> Result<Option<f32>, TrainError> {
        Ok(self.last_validation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::StepContext;

    /// One weight v with loss (v − 3)², until step `nan_from`, where the loss becomes NaN.
    #[derive(Clone)]
    struct Breaks {
        v: Var,
        nan_from: usize,
    }

    impl TrainStep for Breaks {
        fn loss(&self, batch: &Tensor, context: &mut StepContext) -> candle_core::Result<Tensor> {
            let loss = ((self.v.as_tensor() - 3.0)?.sqr()?.sum_all()? + (batch.sum_all()? * 0.0)?)?;
            if context.step >= self.nan_from { loss.affine(f64::NAN, 0.0) } else { Ok(loss) }
        }
    }

    #[test]
    fn a_fit_that_diverges_keeps_the_weights_of_its_best_epoch() {
        let v = Var::from_tensor(&Tensor::new(&[0f32], &Device::Cpu).unwrap()).unwrap();
        let data = TrainData { features: 1, likelihood: Default::default(), train: vec![1.0; 40], validation: vec![1.0; 10] };
        // Small enough steps that v climbs towards 3 without passing it: each epoch is better than the last.
        let schedule = Schedule { batch_size: 10, epochs: 5, learning_rate: 0.1, ..Schedule::default() };
        // Four steps an epoch: epochs 1 and 2 train, epoch 3 breaks at its second step.
        let mut fitting = Fitting::new(v.clone(), Breaks { v: v.clone(), nan_from: 9 }, vec![v], data, schedule).unwrap();
        let mut after_epoch = Vec::new();
        let err = loop {
            match fitting.step() {
                Ok(report) if report.epoch_finished => after_epoch.push(fitting.model().as_tensor().to_vec1::<f32>().unwrap()[0]),
                Ok(_) => {}
                Err(err) => break err,
            }
        };
        assert!(matches!(err, TrainError::Diverged { epoch: 3, step: 2, .. }), "{err:?}");
        assert!(!fitting.is_finished(), "a diverged run is not finished: its caller ends it");
        assert_eq!(after_epoch.len(), 2);
        let kept = fitting.finish().unwrap().as_tensor().to_vec1::<f32>().unwrap()[0];
        assert_eq!(kept, after_epoch[1], "the best epoch (the second, closest to 3) is put back");
        assert!(kept > after_epoch[0] && kept < 3.0);
    }
}
