//! The training loop: one seeded mini-batch step at a time, so that a caller (the web worker) can pause,
//! step, report progress and stay responsive between steps.
//!
//! A step whose loss is not a finite number stops the run and puts back the weights from before the
//! last update, so the visitor keeps the last model that produced a finite loss.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use thiserror::Error;

use crate::models::vae::kl_divergence;
use crate::models::{init::seeded_init, Likelihood, Vae, VaeShape};
use crate::rng::SeededRng;
use crate::settings::TrainSettings;

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
    /// Pixels in [0, 1] (digits) or standardised reals (tables).
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

pub struct Trainer {
    settings: TrainSettings,
    varmap: VarMap,
    vae: Vae,
    optimizer: AdamW,
    data: TrainData,
    order: Vec<usize>,
    cursor: usize,
    epochs_done: usize,
    shuffle_rng: SeededRng,
    noise_rng: SeededRng,
    /// Deep copies of the weights before the latest update, put back if the next loss is not finite.
    last_good: Vec<(Var, Tensor)>,
    diverged: Option<TrainError>,
}

impl Trainer {
    pub fn new(settings: &TrainSettings, data: TrainData) -> Result<Self, TrainError> {
        if data.train_rows() == 0 {
            return Err(TrainError::NoTrainingData);
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let shape = VaeShape {
            inputs: data.features,
            hidden: settings.hidden_units,
            latent: settings.latent_dims,
            likelihood: data.likelihood,
        };
        let vae = Vae::new(shape, vb)?;
        seeded_init(&varmap, settings.seed)?;
        let params = ParamsAdamW { lr: settings.learning_rate, weight_decay: 0.0, ..Default::default() };
        let optimizer = AdamW::new(varmap.all_vars(), params)?;
        Ok(Self {
            settings: settings.clone(),
            order: (0..data.train_rows()).collect(),
            varmap,
            vae,
            optimizer,
            data,
            cursor: 0,
            epochs_done: 0,
            shuffle_rng: SeededRng::derive(settings.seed, "shuffle"),
            noise_rng: SeededRng::derive(settings.seed, "noise"),
            last_good: Vec::new(),
            diverged: None,
        })
    }

    pub fn model(&self) -> &Vae {
        &self.vae
    }

    /// Replaces the weights with a saved model's (same shape) and counts the run as finished: a model
    /// read from a file scores without training.
    pub fn load_trained(&mut self, weights: &crate::models::VaeWeights) -> Result<(), TrainError> {
        let shape = self.vae.shape();
        let layers = [
            ("encoder_hidden", &weights.encoder_hidden, shape.inputs, shape.hidden),
            ("encoder_mean", &weights.encoder_mean, shape.hidden, shape.latent),
            ("encoder_log_variance", &weights.encoder_log_variance, shape.hidden, shape.latent),
            ("decoder_hidden", &weights.decoder_hidden, shape.latent, shape.hidden),
            ("decoder_output", &weights.decoder_output, shape.hidden, shape.inputs),
        ];
        let vars = self.varmap.data().lock().expect("var map lock poisoned");
        for (name, layer, inputs, outputs) in layers {
            if (layer.inputs, layer.outputs) != (inputs, outputs) {
                return Err(TrainError::Compute(format!("{name} is {}×{}, the model needs {inputs}×{outputs}", layer.inputs, layer.outputs)));
            }
            let var = |key: String| vars.get(&key).cloned().ok_or_else(|| TrainError::Compute(format!("the model has no {key}")));
            var(format!("{name}.weight"))?.set(&Tensor::from_vec(layer.weight.clone(), (outputs, inputs), &Device::Cpu)?)?;
            var(format!("{name}.bias"))?.set(&Tensor::from_vec(layer.bias.clone(), outputs, &Device::Cpu)?)?;
        }
        self.epochs_done = self.settings.epochs;
        Ok(())
    }

    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// The model's variables; an optimiser built over them updates this trainer's model.
    pub fn vars(&self) -> Vec<Var> {
        let vars = self.varmap.data().lock().expect("var map lock poisoned");
        let mut named: Vec<(&String, &Var)> = vars.iter().collect();
        named.sort_by(|a, b| a.0.cmp(b.0)); // a stable order, so snapshots line up with variables
        named.into_iter().map(|(_, v)| v.clone()).collect()
    }

    pub fn train_rows(&self) -> usize {
        self.data.train_rows()
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.data.train_rows().div_ceil(self.settings.batch_size)
    }

    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    pub fn step_in_epoch(&self) -> usize {
        self.cursor.div_ceil(self.settings.batch_size)
    }

    pub fn is_finished(&self) -> bool {
        self.epochs_done >= self.settings.epochs
    }

    pub fn divergence(&self) -> Option<&TrainError> {
        self.diverged.as_ref()
    }

    /// Train on one mini-batch. Epochs reshuffle the rows with the run's own seeded generator.
    pub fn step(&mut self) -> Result<StepReport, TrainError> {
        if let Some(err) = &self.diverged {
            return Err(err.clone());
        }
        if self.cursor == 0 {
            self.shuffle_rng.shuffle(&mut self.order);
        }
        let n = self.order.len();
        let end = (self.cursor + self.settings.batch_size).min(n);
        let rows = end - self.cursor;
        let features = self.data.features;
        let mut batch = Vec::with_capacity(rows * features);
        for &row in &self.order[self.cursor..end] {
            batch.extend_from_slice(&self.data.train[row * features..(row + 1) * features]);
        }
        let x = Tensor::from_vec(batch, (rows, features), &Device::Cpu)?;
        let noise: Vec<f32> = (0..rows * self.settings.latent_dims).map(|_| self.noise_rng.normal()).collect();
        let noise = Tensor::from_vec(noise, (rows, self.settings.latent_dims), &Device::Cpu)?;
        let loss = self.loss(&x, &noise)?;
        let loss_value = loss.to_scalar::<f32>()?;
        if !loss_value.is_finite() {
            for (var, good) in &self.last_good {
                var.set(good)?;
            }
            let err = TrainError::Diverged {
                epoch: self.epochs_done + 1,
                step: self.step_in_epoch() + 1,
                loss: loss_value,
            };
            self.diverged = Some(err.clone());
            return Err(err);
        }
        self.last_good = self
            .varmap
            .all_vars()
            .into_iter()
            .map(|var| var.as_tensor().copy().map(|copy| (var, copy)))
            .collect::<candle_core::Result<_>>()?;
        self.optimizer.backward_step(&loss)?;
        self.cursor = end;
        let epoch_finished = self.cursor >= n;
        if epoch_finished {
            self.cursor = 0;
            self.epochs_done += 1;
        }
        Ok(StepReport {
            epochs_done: self.epochs_done,
            step_in_epoch: self.step_in_epoch(),
            steps_per_epoch: self.steps_per_epoch(),
            rows,
            loss: loss_value,
            epoch_finished,
        })
    }

    /// Mean over rows of reconstruction error + β·KL, the quantity the optimiser minimises.
    fn loss(&self, x: &Tensor, noise: &Tensor) -> candle_core::Result<Tensor> {
        let out = self.vae.forward_sampled(x, noise)?;
        let reconstruction = self.vae.reconstruction_error(&out.logits, x)?.mean_all()?;
        let kl = kl_divergence(&out.mean, &out.log_variance)?.mean_all()?;
        reconstruction + kl.affine(self.settings.beta as f64, 0.0)?
    }

    /// The same loss on the validation rows, with noise drawn from a fixed seed so that epochs compare
    /// like with like. `None` when there are no validation rows.
    pub fn validation_loss(&self) -> Result<Option<f32>, TrainError> {
        let rows = self.data.validation_rows();
        if rows == 0 {
            return Ok(None);
        }
        let mut noise_rng = SeededRng::derive(self.settings.seed, "validation-noise");
        let mut total = 0.0f64;
        for start in (0..rows).step_by(512) {
            let end = (start + 512).min(rows);
            let f = self.data.features;
            let x = Tensor::from_slice(&self.data.validation[start * f..end * f], (end - start, f), &Device::Cpu)?;
            let noise: Vec<f32> = (0..(end - start) * self.settings.latent_dims).map(|_| noise_rng.normal()).collect();
            let noise = Tensor::from_vec(noise, (end - start, self.settings.latent_dims), &Device::Cpu)?;
            total += self.loss(&x, &noise)?.to_scalar::<f32>()? as f64 * (end - start) as f64;
        }
        Ok(Some((total / rows as f64) as f32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    /// Rows that lie near a few prototypes, so a small VAE can learn them quickly.
    fn clustered_rows(rows: usize, features: usize, seed: u64) -> Vec<f32> {
        let mut rng = SeededRng::new(seed);
        let prototypes: Vec<Vec<f32>> =
            (0..3).map(|_| (0..features).map(|_| if rng.uniform() > 0.5 { 0.9 } else { 0.1 }).collect()).collect();
        (0..rows).flat_map(|r| prototypes[r % 3].iter().map(|&p| p).collect::<Vec<_>>()).collect()
    }

    fn small_settings() -> TrainSettings {
        TrainSettings { hidden_units: 32, latent_dims: 4, batch_size: 16, epochs: 30, learning_rate: 3e-3, ..Default::default() }
    }

    fn data(seed: u64) -> TrainData {
        TrainData { features: 20, likelihood: Likelihood::Bernoulli, train: clustered_rows(96, 20, seed), validation: clustered_rows(24, 20, seed) }
    }

    #[test]
    fn training_lowers_the_validation_loss() {
        let mut trainer = Trainer::new(&small_settings(), data(3)).unwrap();
        let before = trainer.validation_loss().unwrap().unwrap();
        while !trainer.is_finished() {
            trainer.step().unwrap();
        }
        let after = trainer.validation_loss().unwrap().unwrap();
        assert!(after < 0.8 * before, "validation loss {before} → {after}");
    }

    #[test]
    fn epochs_and_steps_are_counted() {
        let mut trainer = Trainer::new(&small_settings(), data(3)).unwrap();
        assert_eq!(trainer.steps_per_epoch(), 6);
        let reports: Vec<StepReport> = (0..7).map(|_| trainer.step().unwrap()).collect();
        assert!(reports[..5].iter().all(|r| !r.epoch_finished));
        assert!(reports[5].epoch_finished && reports[5].epochs_done == 1 && reports[5].step_in_epoch == 0);
        assert_eq!((reports[6].epochs_done, reports[6].step_in_epoch), (1, 1));
    }

    #[test]
    fn same_seed_gives_identical_losses() {
        let run = |seed| {
            let settings = TrainSettings { seed, ..small_settings() };
            let mut trainer = Trainer::new(&settings, data(3)).unwrap();
            (0..12).map(|_| trainer.step().unwrap().loss).collect::<Vec<f32>>()
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
    }

    #[test]
    fn a_non_finite_loss_stops_training_and_keeps_the_last_good_weights() {
        let mut rows = data(3);
        // One batch per epoch: the first step is fine, then a poisoned row makes the second loss NaN.
        let mut trainer = Trainer::new(&TrainSettings { batch_size: 96, ..small_settings() }, TrainData {
            features: 20,
            likelihood: Likelihood::Bernoulli,
            train: rows.train.clone(),
            validation: rows.validation.clone(),
        })
        .unwrap();
        let weights = |t: &Trainer| -> Vec<Vec<f32>> {
            t.varmap.all_vars().iter().map(|v| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap()).collect()
        };
        let initial = weights(&trainer);
        trainer.step().unwrap();
        let after_first_update = weights(&trainer);
        // Put the poisoned value into the data the trainer reads next.
        rows.train[5] = f32::NAN;
        trainer.data.train = rows.train;
        let err = trainer.step().unwrap_err();
        assert!(matches!(err, TrainError::Diverged { epoch: 2, step: 1, .. }), "{err:?}");
        assert!(err.to_string().contains("smaller learning rate"));
        // The kept weights are the last ones known to give a finite loss: those before the latest update.
        let kept = weights(&trainer);
        assert_eq!(kept, initial);
        assert_ne!(kept, after_first_update);
        assert!(trainer.step().is_err(), "a diverged run refuses further steps");
    }

    #[test]
    fn no_rows_is_a_clear_error() {
        let empty = TrainData { features: 4, likelihood: Likelihood::Bernoulli, train: vec![], validation: vec![] };
        assert_eq!(Trainer::new(&small_settings(), empty).err(), Some(TrainError::NoTrainingData));
    }
}
