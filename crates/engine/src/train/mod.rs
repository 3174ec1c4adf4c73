//! Training: one generic loop ([`TrainLoop`]) that every method runs in, one seeded mini-batch step at a
//! time, so that a caller (the web worker) can pause, step, report progress and stay responsive between
//! steps; and the VAE's stage-1 trainer ([`Trainer`]) built on it.
//!
//! A step whose loss is not a finite number stops the run and puts weights back (see [`Rollback`]), so
//! the visitor keeps a model that produced a finite loss.

mod train_loop;
mod vae;

pub use train_loop::{clip_gradient_norm, Rollback, Schedule, TrainLoop, Training};
pub use vae::Trainer;

use thiserror::Error;

use crate::models::Likelihood;

#[derive(Clone, Debug, Error, PartialEq)]
pub enum TrainError {
    #[error(
        "training diverged at epoch {epoch}, step {step}: the loss became {loss}. The last good weights are kept. \
         Try a smaller learning rate or a smaller β, then reset and train again."
    )]
    Diverged { epoch: usize, step: usize, loss: f32 },
    #[error("there is nothing to train on: no normal examples in the training split")]
    NoTrainingData,
    #[error("the computation failed: {0}")]
    Compute(String),
}

impl From<candle_core::Error> for TrainError {
    fn from(err: candle_core::Error) -> Self {
        TrainError::Compute(err.to_string())
    }
}

/// Rows to train and validate on, row-major, `features` values per row.
pub struct TrainData {
    pub features: usize,
    /// Pixels in [0, 1] (digits) or standardised reals (tables); the VAE's decoder reads it, the loop does not.
    pub likelihood: Likelihood,
    pub train: Vec<f32>,
    pub validation: Vec<f32>,
}

impl TrainData {
    pub fn train_rows(&self) -> usize {
        self.train.len() / self.features
    }
    pub fn validation_rows(&self) -> usize {
        self.validation.len() / self.features
    }
}

/// What one step did.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// Epochs completed after this step.
    pub epochs_done: usize,
    /// Steps taken in the current epoch (0 right after an epoch ends).
    pub step_in_epoch: usize,
    pub steps_per_epoch: usize,
    pub rows: usize,
    pub loss: f32,
    pub epoch_finished: bool,
}

/// A var map's variables in name order: a stable order, so snapshots and optimiser state line up with them.
pub fn sorted_vars(varmap: &candle_nn::VarMap) -> Vec<candle_core::Var> {
    let vars = varmap.data().lock().expect("var map lock poisoned");
    let mut named: Vec<(&String, &candle_core::Var)> = vars.iter().collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    named.into_iter().map(|(_, v)| v.clone()).collect()
}
