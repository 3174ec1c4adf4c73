//! Stage 1 of the digit and table views: a VAE trained from its seeded initial weights on the generic
//! [`TrainLoop`], with the visitor's [`ModelSettings`].

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};

use super::{sorted_vars, Rollback, Schedule, StepReport, TrainData, TrainError, TrainLoop, Training};
use crate::models::{init::seeded_init, Vae, VaeConfig, VaeShape, VaeWeights};
use crate::settings::ModelSettings;

pub struct Trainer {
    settings: ModelSettings,
    varmap: VarMap,
    run: TrainLoop<Vae>,
}

impl Trainer {
    pub fn new(settings: &ModelSettings, data: TrainData) -> Result<Self, TrainError> {
        if data.train_rows() == 0 {
            return Err(TrainError::NoTrainingData);
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let (vae_settings, optimiser) = (&settings.vae, &settings.optimiser);
        let shape =
            VaeShape { inputs: data.features, hidden: vae_settings.hidden_units, latent: vae_settings.latent_dims, likelihood: data.likelihood };
        let vae = Vae::new(VaeConfig { shape, beta: vae_settings.beta, score_with_kl: vae_settings.score_with_kl }, vb)?;
        seeded_init(&varmap, optimiser.seed)?;
        let schedule = Schedule::of(optimiser, ("shuffle", "noise"));
        let run = TrainLoop::new(vae, sorted_vars(&varmap), data, schedule, Rollback::LastStep)?;
        Ok(Self { settings: settings.clone(), varmap, run })
    }

    pub fn model(&self) -> &Vae {
        self.run.model()
    }

    /// The generic run underneath, for callers that drive any method the same way.
    pub fn run(&self) -> &TrainLoop<Vae> {
        &self.run
    }

    pub fn run_mut(&mut self) -> &mut TrainLoop<Vae> {
        &mut self.run
    }

    /// Replaces the weights with a saved model's (same shape) and counts the run as finished: a model
    /// read from a file scores without training.
    pub fn load_trained(&mut self, weights: &VaeWeights) -> Result<(), TrainError> {
        let shape = self.model().shape();
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
        drop(vars);
        self.run.mark_finished();
        Ok(())
    }

    pub fn settings(&self) -> &ModelSettings {
        &self.settings
    }

    /// The model's variables, in name order; an optimiser built over them updates this trainer's model.
    pub fn vars(&self) -> Vec<Var> {
        self.run.vars().to_vec()
    }

    pub fn train_rows(&self) -> usize {
        self.run.train_rows()
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.run.steps_per_epoch()
    }

    pub fn epochs_done(&self) -> usize {
        self.run.epochs_done()
    }

    pub fn step_in_epoch(&self) -> usize {
        self.run.step_in_epoch()
    }

    pub fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    pub fn divergence(&self) -> Option<&TrainError> {
        self.run.divergence()
    }

    /// Trains on one mini-batch.
    pub fn step(&mut self) -> Result<StepReport, TrainError> {
        self.run.step()
    }

    /// Mean over the validation rows of reconstruction error + β·KL, with noise drawn from a fixed seed so
    /// that epochs compare like with like. `None` when there are no validation rows.
    pub fn validation_loss(&self) -> Result<Option<f32>, TrainError> {
        self.run.validation_loss()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Likelihood;
    use crate::rng::SeededRng;
    use crate::settings::{OptimiserSettings, VaeSettings};

    /// Rows that lie near a few prototypes, so a small VAE can learn them quickly.
    fn clustered_rows(rows: usize, features: usize, seed: u64) -> Vec<f32> {
        let mut rng = SeededRng::new(seed);
        let prototypes: Vec<Vec<f32>> =
            (0..3).map(|_| (0..features).map(|_| if rng.uniform() > 0.5 { 0.9 } else { 0.1 }).collect()).collect();
        (0..rows).flat_map(|r| prototypes[r % 3].iter().map(|&p| p).collect::<Vec<_>>()).collect()
    }

    fn small_settings() -> ModelSettings {
        ModelSettings {
            vae: VaeSettings { hidden_units: 32, latent_dims: 4, ..Default::default() },
            optimiser: OptimiserSettings { batch_size: 16, epochs: 30, learning_rate: 3e-3, ..Default::default() },
        }
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
            let mut settings = small_settings();
            settings.optimiser.seed = seed;
            let mut trainer = Trainer::new(&settings, data(3)).unwrap();
            (0..12).map(|_| trainer.step().unwrap().loss).collect::<Vec<f32>>()
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
    }

    /// A batch split over two threads trains the model one batch trains: the same noise, the same
    /// gradients up to the order of a sum. Losses agree to rounding step by step, the scores after the
    /// run to a relative 1e-5, and two runs on two threads agree to the last bit.
    #[test]
    fn two_threads_train_the_model_one_thread_trains() {
        let run = |threads| {
            crate::parallel::set_threads(threads);
            let mut settings = small_settings();
            settings.optimiser.batch_size = 48;
            let mut trainer = Trainer::new(&settings, data(3)).unwrap();
            let mut losses = Vec::new();
            while !trainer.is_finished() {
                losses.push(trainer.step().unwrap().loss);
            }
            crate::parallel::set_threads(1);
            let rows = clustered_rows(24, 20, 9);
            let x = Tensor::from_vec(rows, (24, 20), &Device::Cpu).unwrap();
            let scores: Vec<f32> = crate::method::InferenceStep::score(trainer.model(), &x).unwrap().to_vec1().unwrap();
            (losses, scores)
        };
        let (one, two, again) = (run(1), run(2), run(2));
        assert_eq!(two, again, "the same seed on the same threads is reproducible bit for bit");
        assert_ne!(one.0, two.0, "two threads really split the batch (the sums' order differs)");
        for (a, b) in one.0.iter().zip(&two.0) {
            assert!((a - b).abs() <= 1e-4 * a.abs(), "losses {a} and {b}");
        }
        for (a, b) in one.1.iter().zip(&two.1) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "scores {a} and {b}");
        }
    }

    /// On one thread, and on two (the batch in shards, the rollback copy taken beside the gradients' sum).
    #[test]
    fn a_non_finite_loss_stops_training_and_keeps_the_last_good_weights() {
        for threads in [1, 2] {
            crate::parallel::set_threads(threads);
            let mut rows = data(3);
            // One batch per epoch: the first step is fine, then a poisoned row makes the second loss NaN.
            let mut settings = small_settings();
            settings.optimiser.batch_size = 96;
            let mut trainer = Trainer::new(&settings, TrainData {
                features: 20,
                likelihood: Likelihood::Bernoulli,
                train: rows.train.clone(),
                validation: rows.validation.clone(),
            })
            .unwrap();
            let weights = |t: &Trainer| -> Vec<Vec<f32>> {
                t.vars().iter().map(|v| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap()).collect()
            };
            let initial = weights(&trainer);
            trainer.step().unwrap();
            let after_first_update = weights(&trainer);
            // Put the poisoned value into the data the trainer reads next.
            rows.train[5] = f32::NAN;
            *trainer.run.train_rows_mut() = rows.train;
            let err = trainer.step().unwrap_err();
            assert!(matches!(err, TrainError::Diverged { epoch: 2, step: 1, .. }), "{err:?}");
            assert!(err.to_string().contains("smaller learning rate"));
            // The kept weights are the last ones known to give a finite loss: those before the latest update.
            let kept = weights(&trainer);
            assert_eq!(kept, initial);
            assert_ne!(kept, after_first_update);
            assert!(trainer.step().is_err(), "a diverged run refuses further steps");
            crate::parallel::set_threads(1);
        }
    }

    #[test]
    fn no_rows_is_a_clear_error() {
        let empty = TrainData { features: 4, likelihood: Likelihood::Bernoulli, train: vec![], validation: vec![] };
        assert_eq!(Trainer::new(&small_settings(), empty).err(), Some(TrainError::NoTrainingData));
    }
}
