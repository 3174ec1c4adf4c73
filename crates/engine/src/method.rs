//! The method seam: what a model must say for the playground to train and score it.
//!
//! A method is a struct built by `new(config, VarBuilder)`, as candle's models are, that implements
//! [`TrainStep`] (the loss of one batch) and [`InferenceStep`] (one anomaly score per row). Everything
//! else (shuffling, batching, stepping in chunks, counting epochs, putting weights back after a diverging
//! step) belongs to the generic [`crate::train::TrainLoop`], written once for every method.
//!
//! A batch is a tensor of `rows × values`, one flattened example a row. A method whose examples have more
//! shape reshapes it itself: 28 × 28 images, a variable to condition on kept in the last column, a set
//! of objects with a padding mask. So the loop and the data stay the same for every kind of example.

use candle_core::{Result, Tensor, Var};

use crate::rng::SeededRng;

/// Where a training step stands, and the run's seeded random streams, for the losses that need them.
pub struct StepContext<'a> {
    /// Steps taken before this one, counted over the whole run (for schedules such as a ramped weight).
    pub step: usize,
    pub total_steps: usize,
    /// The stream that shuffles the batches. A loss may draw extra rows from it (Anomaly Awareness draws
    /// its labelled anomalies), which keeps a run reproducible from its seed alone.
    pub batches: &'a mut SeededRng,
    /// The stream for noise that a loss samples (a VAE's ε).
    pub noise: &'a mut SeededRng,
}

/// One training step of a method: the loss of a batch.
pub trait TrainStep {
    /// The mean loss over the rows of `batch` (rows × values): the quantity the optimiser minimises.
    fn loss(&self, batch: &Tensor, context: &mut StepContext) -> Result<Tensor>;

    /// `Some(n)` when the loss is a mean over rows, each row's term depending on that row alone and on
    /// `n` normal draws of its own from `context.noise` (taken row by row), and nothing drawn from
    /// `context.batches`. Then the loop may split a batch over threads and add the shards' gradients
    /// (see [`crate::parallel`]) with the very noise one batch would have drawn. `None` (the default)
    /// keeps every batch in one piece.
    fn noise_draws_per_row(&self) -> Option<usize> {
        None
    }
}

/// One inference step of a method: its anomaly scores.
pub trait InferenceStep {
    /// One score per row of `batch` (rows × values); higher means more anomalous.
    fn score(&self, batch: &Tensor) -> Result<Tensor>;
}

/// The variables of `model` that a loss on `batch` leaves without a gradient, or whose gradient is zero
/// everywhere. Every new method's tests call this: candle silently gives no gradient through some ops
/// (SCIENCE.md lists them), and a parameter that never learns is a bug no loss curve shows.
pub fn parameters_without_gradient<M: TrainStep>(model: &M, vars: &[(String, Var)], batch: &Tensor, seed: u64) -> Result<Vec<String>> {
    let mut batches = SeededRng::derive(seed, "gradient-check-batches");
    let mut noise = SeededRng::derive(seed, "gradient-check-noise");
    let mut context = StepContext { step: 0, total_steps: 1, batches: &mut batches, noise: &mut noise };
    let gradients = model.loss(batch, &mut context)?.backward()?;
    let mut missing = Vec::new();
    for (name, var) in vars {
        let moved = match gradients.get(var.as_tensor()) {
            Some(gradient) => gradient.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()? > 0.0,
            None => false,
        };
        if !moved {
            missing.push(name.clone());
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    /// A loss that uses only the first of its two variables.
    struct UsesOne {
        used: Var,
    }

    impl TrainStep for UsesOne {
        fn loss(&self, batch: &Tensor, _: &mut StepContext) -> Result<Tensor> {
            batch.broadcast_mul(self.used.as_tensor())?.sqr()?.mean_all()
        }
    }

    #[test]
    fn a_variable_the_loss_never_touches_is_named() {
        let used = Var::ones((1, 3), DType::F32, &Device::Cpu).unwrap();
        let unused = Var::ones((1, 3), DType::F32, &Device::Cpu).unwrap();
        let vars = vec![("used".to_string(), used.clone()), ("unused".to_string(), unused)];
        let batch = Tensor::new(&[[1f32, 2.0, 3.0], [0.5, 0.0, -1.0]], &Device::Cpu).unwrap();
        assert_eq!(parameters_without_gradient(&UsesOne { used }, &vars, &batch, 1).unwrap(), vec!["unused".to_string()]);
    }
}
