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

/// A trained background flow with the scaling it was trained in.
pub struct BackgroundModel {
    flow: ConditionalFlow,
    scaling: Scaling,
}

impl BackgroundModel {
    /// Fits the scaling on `sidebands`, trains the flow there, calling `on_epoch` after each epoch, and
    /// keeps the weights of the epoch with the lowest validation loss.
    pub fn train(sidebands: &ResonantRows, fit: &FlowFit, on_epoch: impl FnMut(EpochReport)) -> Result<Self, TrainError> {
        let scaling = Scaling::fit(&sidebands.features, &sidebands.m_jj).ok_or(TrainError::NoTrainingData)?;
        let flow = ConditionalFlow::train(&scaling.prepare(sidebands), fit, "background", on_epoch)?;
        Ok(Self { flow, scaling })
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
}

/// A flow of p(y | c) in the scaled coordinates: the background model's, or ANODE's signal-region one.
pub struct ConditionalFlow {
    maf: Maf,
    _varmap: VarMap,
}

impl ConditionalFlow {
    /// Trains a flow on `prepared`'s rows inside the scaling's range; `purpose` names its random streams.
    pub fn train(prepared: &Prepared, fit: &FlowFit, purpose: &str, on_epoch: impl FnMut(EpochReport)) -> Result<Self, TrainError> {
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
        train_keeping_best(maf.clone(), sorted_vars(&varmap), data, fit.schedule.clone(), on_epoch)?;
        Ok(Self { maf, _varmap: varmap })
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

/// Runs `model`'s training to the end, calling `on_epoch` after each epoch, and puts back the weights of
/// the epoch with the lowest validation loss (keeps the last without validation rows).
pub fn train_keeping_best<M: TrainStep>(
    model: M,
    vars: Vec<Var>,
    data: TrainData,
    schedule: Schedule,
    mut on_epoch: impl FnMut(EpochReport),
) -> Result<(), TrainError> {
    let mut run = TrainLoop::new(model, vars.clone(), data, schedule, Rollback::LastStep)?;
    let mut best: Option<(f32, Vec<Tensor>)> = None;
    let (mut losses, mut steps) = (0.0f64, 0usize);
    while !run.is_finished() {
        let report = run.step()?;
        losses += report.loss as f64;
        steps += 1;
        if report.epoch_finished {
            let validation_loss = run.validation_loss()?;
            on_epoch(EpochReport { epoch: report.epochs_done, train_loss: (losses / steps as f64) as f32, validation_loss });
            (losses, steps) = (0.0, 0);
            if let Some(loss) = validation_loss.filter(|l| l.is_finite()) {
                if best.as_ref().is_none_or(|(b, _)| loss < *b) {
                    best = Some((loss, vars.iter().map(|v| v.as_tensor().copy()).collect::<candle_core::Result<_>>()?));
                }
            }
        }
    }
    if let Some((_, weights)) = best {
        for (var, w) in vars.iter().zip(&weights) {
            var.set(w)?;
        }
    }
    Ok(())
}
