//! The digit experiment: which digits are normal, the model trained on them, and everything the page
//! shows about how well it separates normal digits from anomalies on the held-out test digits.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::data::{DigitSet, Split, IMAGE_PIXELS};
use crate::metrics::{robust_range, roc_curve, roc_of, Histogram, MetricError, Roc};
use crate::projection::principal_plane;
use crate::score::{reconstruct, score_rows};
use crate::settings::TrainSettings;
use crate::train::{TrainData, TrainError, Trainer};

const HISTOGRAM_BINS: usize = 40;
const ROC_POINTS: usize = 300;
const LATENT_POINTS: usize = 1500;
const RECONSTRUCTIONS_PER_KIND: usize = 6;

/// Everything the page draws after an evaluation. Summaries only, never whole tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub auc: f64,
    pub roc: Roc,
    pub normal_scores: Histogram,
    pub anomalous_scores: Histogram,
    pub per_digit: Vec<DigitSummary>,
    pub latent: Vec<LatentPoint>,
    pub latent_explained: [f32; 2],
    pub reconstructions: Vec<Reconstruction>,
    pub test_normal: usize,
    pub test_anomalous: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigitSummary {
    pub digit: u8,
    pub is_anomaly: bool,
    pub count: usize,
    pub mean_score: f32,
    /// For an anomalous digit: the AUC of this digit alone against all normal test digits.
    pub auc: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatentPoint {
    pub x: f32,
    pub y: f32,
    pub digit: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reconstruction {
    pub digit: u8,
    pub is_anomaly: bool,
    pub score: f32,
    /// 28 × 28 intensities × 255.
    pub original: Vec<u8>,
    pub reconstructed: Vec<u8>,
}

pub struct DigitExperiment {
    pub trainer: Trainer,
    settings: TrainSettings,
    test_digits: Vec<u8>,
    /// Shared, so that the worker can score them on the GPU while the experiment stays where it is.
    test_pixels: Arc<[f32]>,
    test_is_anomaly: Vec<bool>,
}

impl DigitExperiment {
    /// Splits the digits by the settings' seed and trains only on normal digits of the training split.
    pub fn new(digits: &DigitSet, settings: &TrainSettings) -> Result<Self, TrainError> {
        let split = Split::by_seed(digits.len(), settings.model.optimiser.seed);
        let normal = |rows: &[usize]| -> Vec<usize> {
            rows.iter().copied().filter(|&r| !settings.is_anomaly(digits.label(r))).collect()
        };
        let data = TrainData {
            features: IMAGE_PIXELS,
            likelihood: crate::models::Likelihood::Bernoulli,
            train: digits.gather_f32(&normal(&split.train)),
            validation: digits.gather_f32(&normal(&split.validation)),
        };
        Ok(Self {
            trainer: Trainer::new(&settings.model, data)?,
            settings: settings.clone(),
            test_digits: split.test.iter().map(|&r| digits.label(r)).collect(),
            test_pixels: digits.gather_f32(&split.test).into(),
            test_is_anomaly: split.test.iter().map(|&r| settings.is_anomaly(digits.label(r))).collect(),
        })
    }

    /// The digit split and the model this experiment trains.
    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// The test digits, row-major, 784 intensities each: what [`Self::evaluate_scores`] wants scored.
    pub fn test_pixels(&self) -> Arc<[f32]> {
        self.test_pixels.clone()
    }

    /// Scores the test digits on the CPU and summarises them.
    pub fn evaluate(&self) -> Result<Evaluation, EvaluationError> {
        let scored = score_rows(self.trainer.model(), &self.test_pixels, self.settings.model.vae.score_with_kl)?;
        self.evaluate_scores(&scored.scores)
    }

    /// Summarises the current model given its scores of the test digits, wherever they were computed
    /// (the CPU or the GPU: they agree to float rounding). The latent plot and the reconstructions are
    /// computed here, on the CPU, for the few digits they show.
    pub fn evaluate_scores(&self, scores: &[f32]) -> Result<Evaluation, EvaluationError> {
        let settings = &self.settings;
        let vae = self.trainer.model();
        if scores.len() != self.test_digits.len() {
            return Err(EvaluationError::Metric(MetricError::LengthMismatch { scores: scores.len(), labels: self.test_digits.len() }));
        }
        let roc = roc_curve(scores, &self.test_is_anomaly)?;

        let (low, high) = robust_range(scores);
        let pick = |anomalous: bool| -> Vec<f32> {
            scores.iter().zip(&self.test_is_anomaly).filter(|(_, &a)| a == anomalous).map(|(&s, _)| s).collect()
        };
        let (normal_scores, anomalous_scores) = (pick(false), pick(true));

        let per_digit = (0..10u8)
            .filter_map(|digit| {
                let mine: Vec<f32> =
                    scores.iter().zip(&self.test_digits).filter(|(_, &d)| d == digit).map(|(&s, _)| s).collect();
                if mine.is_empty() {
                    return None;
                }
                let is_anomaly = settings.is_anomaly(digit);
                let auc = is_anomaly.then(|| roc_of(&normal_scores, &mine).map(|r| r.auc).ok());
                Some(DigitSummary {
                    digit,
                    is_anomaly,
                    count: mine.len(),
                    mean_score: mine.iter().sum::<f32>() / mine.len() as f32,
                    auc: auc.flatten(),
                })
            })
            .collect();

        let latent_dims = vae.shape().latent;
        let shown = self.test_digits.len().min(LATENT_POINTS);
        let latent_means = score_rows(vae, &self.test_pixels[..shown * IMAGE_PIXELS], false)?.latent_means;
        let (plane, latent_explained) = principal_plane(&latent_means, latent_dims);
        let latent = plane.into_iter().zip(&self.test_digits).map(|((x, y), &digit)| LatentPoint { x, y, digit }).collect();

        Ok(Evaluation {
            auc: roc.auc,
            roc: roc.thinned(ROC_POINTS),
            normal_scores: Histogram::new(&normal_scores, low, high, HISTOGRAM_BINS),
            anomalous_scores: Histogram::new(&anomalous_scores, low, high, HISTOGRAM_BINS),
            per_digit,
            latent,
            latent_explained,
            reconstructions: self.reconstructions(scores)?,
            test_normal: normal_scores.len(),
            test_anomalous: anomalous_scores.len(),
        })
    }

    /// A few normal test digits and one of each of the first anomalous digit classes, beside their
    /// reconstructions: always the same test digits for the same seed, so epochs can be compared.
    fn reconstructions(&self, scores: &[f32]) -> candle_core::Result<Vec<Reconstruction>> {
        let mut chosen: Vec<usize> = Vec::new();
        let mut anomalous_digits_seen = Vec::new();
        for (i, (&digit, &anomalous)) in self.test_digits.iter().zip(&self.test_is_anomaly).enumerate() {
            let normal_count = chosen.iter().filter(|&&c| !self.test_is_anomaly[c]).count();
            if !anomalous && normal_count < RECONSTRUCTIONS_PER_KIND {
                chosen.push(i);
            } else if anomalous && anomalous_digits_seen.len() < RECONSTRUCTIONS_PER_KIND && !anomalous_digits_seen.contains(&digit) {
                anomalous_digits_seen.push(digit);
                chosen.push(i);
            }
        }
        chosen.sort_by_key(|&i| self.test_is_anomaly[i]);
        let rows: Vec<f32> =
            chosen.iter().flat_map(|&i| self.test_pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS].iter().copied()).collect();
        let rebuilt = reconstruct(self.trainer.model(), &rows)?;
        let to_bytes = |v: &[f32]| v.iter().map(|&p| (p.clamp(0.0, 1.0) * 255.0).round() as u8).collect();
        Ok(chosen
            .iter()
            .enumerate()
            .map(|(k, &i)| Reconstruction {
                digit: self.test_digits[i],
                is_anomaly: self.test_is_anomaly[i],
                score: scores[i],
                original: to_bytes(&rows[k * IMAGE_PIXELS..(k + 1) * IMAGE_PIXELS]),
                reconstructed: to_bytes(&rebuilt[k * IMAGE_PIXELS..(k + 1) * IMAGE_PIXELS]),
            })
            .collect())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error("scoring the test digits failed: {0}")]
    Compute(#[from] candle_core::Error),
    #[error("the AUC could not be computed: {0}")]
    Metric(#[from] MetricError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::mnist::tests::synthetic_digits;
    use crate::settings::{ModelSettings, OptimiserSettings, VaeSettings};

    fn quick_settings(seed: u64) -> TrainSettings {
        TrainSettings {
            normal_digits: vec![0],
            model: ModelSettings {
                vae: VaeSettings { hidden_units: 64, latent_dims: 4, ..Default::default() },
                optimiser: OptimiserSettings { epochs: 8, batch_size: 32, learning_rate: 3e-3, seed },
            },
        }
    }

    fn train_to_end(experiment: &mut DigitExperiment) {
        while !experiment.trainer.is_finished() {
            experiment.trainer.step().unwrap();
        }
    }

    #[test]
    fn training_on_normal_digits_separates_the_anomalies() {
        let digits = synthetic_digits(40, 2);
        let mut experiment = DigitExperiment::new(&digits, &quick_settings(1)).unwrap();
        train_to_end(&mut experiment);
        let eval = experiment.evaluate().unwrap();
        assert!(eval.auc > 0.9, "AUC {}", eval.auc);
        assert_eq!(eval.test_normal + eval.test_anomalous, 80);
        let counted: u32 = eval.normal_scores.counts.iter().chain(&eval.anomalous_scores.counts).sum();
        assert_eq!(counted as usize, 80);
        // One summary per digit present; only anomalous digits carry their own AUC.
        assert!(eval.per_digit.iter().all(|d| d.auc.is_some() == d.is_anomaly));
        assert_eq!(eval.latent.len(), 80);
        assert!(eval.reconstructions.iter().any(|r| r.is_anomaly) && eval.reconstructions.iter().any(|r| !r.is_anomaly));
        assert!(eval.reconstructions.iter().all(|r| r.original.len() == IMAGE_PIXELS && r.reconstructed.len() == IMAGE_PIXELS));
    }

    #[test]
    fn same_settings_give_the_same_auc_and_losses() {
        let digits = synthetic_digits(20, 2);
        let run = || {
            let mut experiment = DigitExperiment::new(&digits, &quick_settings(9)).unwrap();
            let mut losses = Vec::new();
            while !experiment.trainer.is_finished() {
                losses.push(experiment.trainer.step().unwrap().loss);
            }
            (losses, experiment.evaluate().unwrap())
        };
        let (losses_a, eval_a) = run();
        let (losses_b, eval_b) = run();
        assert_eq!(losses_a, losses_b);
        assert_eq!(eval_a, eval_b);
    }
}
