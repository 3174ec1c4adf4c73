//! The background model of a resonance search: a conditional flow p_B(x | m_jj) trained on the sidebands
//! and evaluated in the signal region, where it interpolates. Its closure gap, the mean over signal-region
//! background of ln p_true − ln p_model in nats, says how well it does on a toy whose true density is known.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};

use super::preprocess::Scaling;
use crate::flows::{Maf, MafConfig};
use crate::models::init::seeded_init;
use crate::rng::SeededRng;
use crate::train::{Rollback, Schedule, TrainData, TrainError, TrainLoop, Training};

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
    maf: Maf,
    scaling: Scaling,
    _varmap: VarMap,
}

impl BackgroundModel {
    /// Trains on `sidebands`, calling `on_epoch` after each epoch, and keeps the weights of the epoch with
    /// the lowest validation loss (the last epoch's without validation rows).
    pub fn train(sidebands: &ResonantRows, fit: &FlowFit, mut on_epoch: impl FnMut(EpochReport)) -> Result<Self, TrainError> {
        let scaling = Scaling::fit(&sidebands.features, &sidebands.m_jj).ok_or(TrainError::NoTrainingData)?;
        let columns = fit.config.features + fit.config.context;
        let mut rows: Vec<Vec<f32>> = Vec::with_capacity(sidebands.len());
        for (x, &m) in sidebands.features.iter().zip(&sidebands.m_jj) {
            if let Some((mut y, _)) = scaling.apply(x) {
                y.push(scaling.context(m));
                rows.push(y);
            }
        }
        SeededRng::derive(fit.schedule.seed, "background-validation").shuffle(&mut rows);
        let held_out = (rows.len() as f64 * fit.validation_fraction).round() as usize;
        let validation: Vec<f32> = rows[..held_out].iter().flatten().copied().collect();
        let train: Vec<f32> = rows[held_out..].iter().flatten().copied().collect();
        let data = TrainData { features: columns, likelihood: Default::default(), train, validation };

        let varmap = VarMap::new();
        let maf = Maf::new(fit.config, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
        seeded_init(&varmap, fit.schedule.seed)?;
        let vars = sorted_vars(&varmap);
        let mut run = TrainLoop::new(maf.clone(), vars.clone(), data, fit.schedule.clone(), Rollback::LastStep)?;
        let mut best: Option<(f32, Vec<Tensor>)> = None;
        let mut losses = 0.0f64;
        let mut steps = 0usize;
        while !run.is_finished() {
            let report = run.step()?;
            losses += report.loss as f64;
            steps += 1;
            if report.epoch_finished {
                let validation_loss = run.validation_loss()?;
                on_epoch(EpochReport { epoch: report.epochs_done, train_loss: (losses / steps as f64) as f32, validation_loss });
                (losses, steps) = (0.0, 0);
                if let Some(loss) = validation_loss {
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
        Ok(Self { maf, scaling, _varmap: varmap })
    }

    /// ln p_B(x | m_jj) in the features' own units, one per row; −∞ where a row lies outside the
    /// sidebands' widened range.
    pub fn log_density(&self, rows: &ResonantRows) -> candle_core::Result<Vec<f64>> {
        let features = self.maf.config().features;
        let mut inputs = Vec::with_capacity(rows.len() * features);
        let mut context = Vec::with_capacity(rows.len());
        let mut jacobians = Vec::with_capacity(rows.len());
        for (x, &m) in rows.features.iter().zip(&rows.m_jj) {
            match self.scaling.apply(x) {
                Some((y, log_jacobian)) => {
                    inputs.extend(y);
                    jacobians.push(Some(log_jacobian));
                }
                None => {
                    inputs.extend(std::iter::repeat_n(0.0, features));
                    jacobians.push(None);
                }
            }
            context.push(self.scaling.context(m));
        }
        let mut out = Vec::with_capacity(rows.len());
        const CHUNK: usize = 8192;
        for start in (0..rows.len()).step_by(CHUNK) {
            let n = CHUNK.min(rows.len() - start);
            let x = Tensor::from_slice(&inputs[start * features..(start + n) * features], (n, features), &Device::Cpu)?;
            let c = Tensor::from_slice(&context[start..start + n], (n, 1), &Device::Cpu)?;
            let log_p = self.maf.log_density(&x, Some(&c))?.to_vec1::<f32>()?;
            for (k, value) in log_p.into_iter().enumerate() {
                out.push(match jacobians[start + k] {
                    Some(log_jacobian) => value as f64 + log_jacobian,
                    None => f64::NEG_INFINITY,
                });
            }
        }
        Ok(out)
    }
}

/// A var map's variables in name order, so that runs line up.
pub fn sorted_vars(varmap: &VarMap) -> Vec<Var> {
    let data = varmap.data().lock().expect("var map lock poisoned");
    let mut named: Vec<(&String, &Var)> = data.iter().collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    named.into_iter().map(|(_, v)| v.clone()).collect()
}
