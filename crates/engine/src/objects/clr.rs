//! Training AnomalyCLR and scoring with it: the encoder learns on background events, each batch seen as
//! three views (the events, physically and anomalously augmented copies drawn fresh every step); then an
//! autoencoder learns the background's representations, and its reconstruction error is the anomaly
//! score. The same autoencoder on the raw inputs is the paper's baseline.

use std::sync::Arc;

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};

use super::augment::{anomalous_of, physical, AnomalyKinds};
use super::encoder::{anomaly_clr_loss, Encoder, EncoderConfig, ObjectBatch};
use super::Event;
use crate::method::{StepContext, TrainStep};
use crate::models::init::seeded_init;
use crate::models::Likelihood;
use crate::score::score_rows;
use crate::settings::{ModelSettings, OptimiserSettings, VaeSettings};
use crate::train::{sorted_vars, Rollback, Schedule, TrainData, TrainError, TrainLoop, Trainer, Training};

/// Which loss trains the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Variant {
    /// The paper's loss: positives pulled together, anomalous copies pushed away, other events in the
    /// denominator.
    AnomalyClr,
    /// The "+" variant: without the denominator.
    AnomalyClrPlus,
    /// The ablation: physical augmentations only (plain contrastive learning).
    PhysicalOnly,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClrSettings {
    pub encoder: EncoderConfig,
    pub variant: Variant,
    /// The anomalous augmentations drawn from (unused by [`Variant::PhysicalOnly`]).
    pub anomalies: AnomalyKinds,
    pub temperature: f64,
    pub schedule: Schedule,
}

impl Default for ClrSettings {
    fn default() -> Self {
        Self {
            encoder: EncoderConfig::default(),
            variant: Variant::AnomalyClr,
            anomalies: AnomalyKinds::DEFAULT,
            temperature: 0.1,
            schedule: Schedule { batch_size: 256, epochs: 10, learning_rate: 1e-3, streams: ("clr-batches", "clr-augmentations"), ..Schedule::default() },
        }
    }
}

/// The loss of a batch: its rows are event indices; the augmentations come from the run's noise stream.
pub struct ClrLoss {
    encoder: Encoder,
    events: Arc<Vec<Event>>,
    variant: Variant,
    anomalies: AnomalyKinds,
    temperature: f64,
}

impl TrainStep for ClrLoss {
    fn loss(&self, batch: &Tensor, context: &mut StepContext) -> Result<Tensor> {
        let indices = batch.flatten_all()?.to_vec1::<f32>()?;
        let events: Vec<Event> = indices.iter().map(|&i| self.events[i as usize].clone()).collect();
        let physical: Vec<Event> = events.iter().map(|e| physical(e, context.noise)).collect();
        let device = Device::Cpu;
        let z = self.encoder.forward(&ObjectBatch::of(&events, &device)?)?;
        let zp = self.encoder.forward(&ObjectBatch::of(&physical, &device)?)?;
        match self.variant {
            Variant::PhysicalOnly => anomaly_clr_loss(&z, &zp, None, self.temperature, false),
            variant => {
                let anomalous: Vec<Event> = events.iter().map(|e| anomalous_of(e, context.noise, self.anomalies)).collect();
                let za = self.encoder.forward(&ObjectBatch::of(&anomalous, &device)?)?;
                anomaly_clr_loss(&z, &zp, Some(&za), self.temperature, variant == Variant::AnomalyClrPlus)
            }
        }
    }
}

/// An encoder being trained, stepped by the caller (the worker, in slices) or run to the end.
pub struct ClrTraining {
    run: TrainLoop<ClrLoss>,
    varmap: VarMap,
}

impl ClrTraining {
    pub fn new(events: Vec<Event>, settings: &ClrSettings) -> std::result::Result<Self, TrainError> {
        let varmap = VarMap::new();
        let encoder = Encoder::new(settings.encoder, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
        seeded_init(&varmap, settings.schedule.seed)?;
        let rows = events.len();
        let data = TrainData { features: 1, likelihood: Likelihood::Gaussian, train: (0..rows).map(|i| i as f32).collect(), validation: Vec::new() };
        let loss = ClrLoss { encoder, events: Arc::new(events), variant: settings.variant, anomalies: settings.anomalies, temperature: settings.temperature };
        let run = TrainLoop::new(loss, sorted_vars(&varmap), data, settings.schedule.clone(), Rollback::LastStep)?;
        Ok(Self { run, varmap })
    }

    /// Trains to the end; returns each step's loss.
    pub fn run(mut self) -> std::result::Result<(TrainedEncoder, Vec<f32>), TrainError> {
        let mut losses = Vec::new();
        while !self.run.is_finished() {
            losses.push(self.run.step()?.loss);
        }
        Ok((self.finish(), losses))
    }

    pub fn training(&mut self) -> &mut dyn Training {
        &mut self.run
    }

    /// The encoder's trainable numbers.
    pub fn parameters(&self) -> usize {
        self.varmap.all_vars().iter().map(|v| v.elem_count()).sum()
    }

    /// The encoder as it is now (for the similarity panel during training).
    pub fn encoder(&self) -> &Encoder {
        &self.run.model().encoder
    }

    pub fn finish(self) -> TrainedEncoder {
        TrainedEncoder { encoder: self.run.model().encoder.clone(), _varmap: self.varmap }
    }
}

pub struct TrainedEncoder {
    encoder: Encoder,
    _varmap: VarMap,
}

impl TrainedEncoder {
    /// Each event's representation (events × output, row-major), in chunks.
    pub fn represent(&self, events: &[Event]) -> Result<Vec<f32>> {
        represent(&self.encoder, events)
    }

    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

/// Each event's representation by `encoder` (events × output, row-major), in chunks.
pub fn represent(encoder: &Encoder, events: &[Event]) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(events.len() * encoder.config().output);
    for chunk in events.chunks(1024) {
        let z = encoder.forward(&ObjectBatch::of(chunk, &Device::Cpu)?)?;
        out.extend(z.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// The scoring autoencoder: trained on background rows (`features` values each), standardised by the
/// background's mean and spread; its score is the reconstruction error.
pub struct RowScorer {
    trainer: Trainer,
    mean: Vec<f32>,
    std: Vec<f32>,
}

/// The scoring autoencoder being trained, stepped by its caller.
pub struct ScorerTraining(RowScorer);

impl ScorerTraining {
    pub fn begin(background: &[f32], features: usize, seed: u64, epochs: usize) -> std::result::Result<Self, TrainError> {
        let rows = background.len() / features;
        let mean: Vec<f32> = (0..features).map(|f| (0..rows).map(|r| background[r * features + f]).sum::<f32>() / rows as f32).collect();
        let std: Vec<f32> = (0..features)
            .map(|f| ((0..rows).map(|r| (background[r * features + f] - mean[f]).powi(2)).sum::<f32>() / rows as f32).sqrt().max(1e-6))
            .collect();
        let standardised = standardise(background, &mean, &std);
        let settings = ModelSettings {
            vae: VaeSettings { hidden_units: 64, latent_dims: 4, beta: 1.0, score_with_kl: false },
            optimiser: OptimiserSettings { learning_rate: 1e-3, batch_size: 128, epochs, seed },
        };
        let trainer = Trainer::new(&settings, TrainData { features, likelihood: Likelihood::Gaussian, train: standardised, validation: Vec::new() })?;
        Ok(Self(RowScorer { trainer, mean, std }))
    }

    pub fn training(&mut self) -> &mut dyn Training {
        self.0.trainer.run_mut()
    }

    pub fn finish(self) -> RowScorer {
        self.0
    }
}

impl RowScorer {
    /// Trains to the end.
    pub fn train(background: &[f32], features: usize, seed: u64, epochs: usize) -> std::result::Result<Self, TrainError> {
        let mut training = ScorerTraining::begin(background, features, seed, epochs)?;
        while !training.training().is_finished() {
            training.training().step()?;
        }
        Ok(training.finish())
    }

    pub fn scores(&self, rows: &[f32]) -> Result<Vec<f32>> {
        Ok(score_rows(self.trainer.model(), &standardise(rows, &self.mean, &self.std), false)?.scores)
    }
}

fn standardise(rows: &[f32], mean: &[f32], std: &[f32]) -> Vec<f32> {
    rows.iter().enumerate().map(|(i, v)| (v - mean[i % mean.len()]) / std[i % std.len()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::roc_curve;
    use crate::objects::toy::{background, generate};
    use crate::objects::Process;

    #[test]
    fn a_short_run_lowers_its_loss_and_gives_unit_representations_reproducibly() {
        let settings = ClrSettings {
            encoder: EncoderConfig { width: 16, heads: 2, layers: 1, feed_forward: 32, output: 8, ..EncoderConfig::default() },
            schedule: Schedule { batch_size: 64, epochs: 3, learning_rate: 3e-3, streams: ("clr-batches", "clr-augmentations"), ..Schedule::default() },
            ..ClrSettings::default()
        };
        let events = background(640, 1);
        let (trained, losses) = ClrTraining::new(events.clone(), &settings).unwrap().run().unwrap();
        assert_eq!(losses.len(), 30);
        let early: f32 = losses[..5].iter().sum::<f32>() / 5.0;
        let late: f32 = losses[25..].iter().sum::<f32>() / 5.0;
        assert!(late < early, "the loss fell from {early} to {late}");
        let z = trained.represent(&events[..10]).unwrap();
        assert_eq!(z.len(), 80);
        assert!(z.chunks(8).all(|r| (r.iter().map(|v| v * v).sum::<f32>() - 1.0).abs() < 1e-4));
        let (again, _) = ClrTraining::new(events.clone(), &settings).unwrap().run().unwrap();
        assert_eq!(again.represent(&events[..10]).unwrap(), z, "the same seed gives the same encoder");
        // The scoring autoencoder on raw inputs ranks A → 4ℓ above the background at all.
        let raw = |e: &[Event]| e.iter().flat_map(|e| e.features()).collect::<Vec<f32>>();
        let scorer = RowScorer::train(&raw(&events), 76, 1, 3).unwrap();
        let (test_background, signal) = (background(500, 2), generate(Process::A4l, 500, 2));
        let mut scores = scorer.scores(&raw(&signal)).unwrap();
        scores.extend(scorer.scores(&raw(&test_background)).unwrap());
        let labels: Vec<bool> = (0..1000).map(|i| i < 500).collect();
        assert!(roc_curve(&scores, &labels).unwrap().auc > 0.5);
    }
}
