//! The reference taggers of a resonance search (SCIENCE.md, "R-ANODE"): a small classifier of the
//! features, trained either on labelled signal against labelled background ("supervised", the ceiling a
//! real search cannot reach) or on signal-region data against a perfect background sample (the "idealized
//! anomaly detector", which shows what a perfect background model would allow). Its score is the logit.

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::{linear, Linear, Module, VarBuilder, VarMap};

use super::background::{held_out_split, in_chunks, EpochReport, FitResult, Fitting, FlowFit};
use crate::method::{StepContext, TrainStep};
use crate::models::init::seeded_init;
use crate::models::vae::reconstruction_error;
use crate::train::sorted_vars;

/// An MLP of `features` inputs, two ReLU layers of `hidden` units, one logit out.
#[derive(Clone)]
pub struct Classifier {
    layers: [Linear; 3],
    features: usize,
}

impl Classifier {
    pub fn new(features: usize, hidden: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            layers: [linear(features, hidden, vb.pp("hidden0"))?, linear(hidden, hidden, vb.pp("hidden1"))?, linear(hidden, 1, vb.pp("output"))?],
            features,
        })
    }

    /// One logit per row of `x` (rows × features).
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.layers[0].forward(x)?.relu()?;
        let h = self.layers[1].forward(&h)?.relu()?;
        self.layers[2].forward(&h)?.squeeze(D::Minus1)
    }
}

/// A batch row is the features, then the label (1 or 0). The loss is the mean binary cross-entropy of
/// the logit, in the VAE's overflow-free form.
impl TrainStep for Classifier {
    fn loss(&self, batch: &Tensor, _: &mut StepContext) -> Result<Tensor> {
        let x = batch.narrow(1, 0, self.features)?;
        let y = batch.narrow(1, self.features, 1)?;
        reconstruction_error(&self.logits(&x)?.unsqueeze(1)?, &y)?.mean_all()
    }
}

/// A trained classifier.
pub struct TrainedClassifier {
    classifier: Classifier,
    _varmap: VarMap,
}

impl TrainedClassifier {
    /// Trains on `positives` (label 1) against `negatives` (label 0), rows of `features` values each
    /// (row-major); `fit.config` gives only the width (`hidden`).
    pub fn train(positives: &[f32], negatives: &[f32], features: usize, fit: &FlowFit, on_epoch: impl FnMut(EpochReport)) -> FitResult<Self> {
        Self::begin(positives, negatives, features, fit)?.run(on_epoch)
    }

    /// The same fit, to be stepped by the caller.
    pub fn begin(positives: &[f32], negatives: &[f32], features: usize, fit: &FlowFit) -> FitResult<Fitting<Self>> {
        let labelled = |rows: &[f32], label: f32| -> Vec<Vec<f32>> {
            rows.chunks(features).map(|r| r.iter().copied().chain([label]).collect()).collect()
        };
        let mut rows = labelled(positives, 1.0);
        rows.extend(labelled(negatives, 0.0));
        let varmap = VarMap::new();
        let classifier = Classifier::new(features, fit.config.hidden, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
        seeded_init(&varmap, fit.schedule.seed)?;
        let data = held_out_split(rows, features + 1, fit, "classifier");
        let vars = sorted_vars(&varmap);
        Fitting::new(Self { classifier: classifier.clone(), _varmap: varmap }, classifier, vars, data, fit.schedule.clone())
    }

    /// The logit of each row (rows of `features` values, row-major).
    pub fn scores(&self, rows: &[f32]) -> Result<Vec<f32>> {
        let features = self.classifier.features;
        in_chunks(rows.len() / features, |start, n| {
            let x = Tensor::from_slice(&rows[start * features..(start + n) * features], (n, features), &Device::Cpu)?;
            self.classifier.logits(&x)?.to_vec1::<f32>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::MafConfig;
    use crate::method::parameters_without_gradient;
    use crate::metrics::roc_curve;
    use crate::rng::SeededRng;
    use crate::train::Schedule;

    #[test]
    fn every_parameter_receives_a_gradient() {
        let varmap = VarMap::new();
        let classifier = Classifier::new(3, 8, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        seeded_init(&varmap, 1).unwrap();
        let mut rng = SeededRng::new(1);
        let batch: Vec<f32> = (0..16).flat_map(|i| [rng.normal(), rng.normal(), rng.normal(), (i % 2) as f32]).collect();
        let batch = Tensor::from_vec(batch, (16, 4), &Device::Cpu).unwrap();
        let named: Vec<(String, candle_core::Var)> = varmap.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert!(parameters_without_gradient(&classifier, &named, &batch, 1).unwrap().is_empty());
    }

    /// Two normals a distance 2 apart in one of two features: the Bayes AUC is Φ(√2) ≈ 0.921.
    #[test]
    fn it_separates_two_shifted_normals_as_well_as_possible() {
        let mut rng = SeededRng::new(4);
        let mut draw = |shift: f32, n: usize| -> Vec<f32> { (0..n).flat_map(|_| [rng.normal() + shift, rng.normal()]).collect() };
        let (positives, negatives) = (draw(1.0, 3000), draw(-1.0, 3000));
        let fit = FlowFit {
            config: MafConfig { hidden: 16, ..MafConfig::default() },
            schedule: Schedule { batch_size: 128, epochs: 10, learning_rate: 3e-3, ..Schedule::default() },
            validation_fraction: 0.2,
        };
        let trained = TrainedClassifier::train(&positives, &negatives, 2, &fit, |_| {}).unwrap();
        let (test_positive, test_negative) = (draw(1.0, 4000), draw(-1.0, 4000));
        let mut scores = trained.scores(&test_positive).unwrap();
        scores.extend(trained.scores(&test_negative).unwrap());
        let labels: Vec<bool> = (0..8000).map(|i| i < 4000).collect();
        let auc = roc_curve(&scores, &labels).unwrap().auc;
        assert!((auc - 0.921).abs() < 0.015, "{auc}");
    }
}
