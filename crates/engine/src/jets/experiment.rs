//! The inverted-task experiment (Finke et al.): train an autoencoder on the images of one class of jets,
//! score test jets of both classes by reconstruction error, and read the AUC of tagging the other class.
//! Trained on QCD it tags tops; trained on tops it fails to tag QCD, because the error follows how many
//! pixels a jet lights (its complexity), not how strange it is. Rescaling the intensities p → p^κ / Σ p^κ
//! changes what the error sees, and a setting is judged on both directions at once.
//!
//! One [`JetData`] (jets and their images, made once) serves every κ and both directions; a direction is
//! one [`JetRun`]: a [`TrainLoop`] over an [`ImageAutoencoder`], stepped by its caller, then scored.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use thiserror::Error;

use super::image::{image, SparseImage, PIXELS, SIDE};
use super::particles::{jets, JetClass};
use crate::method::InferenceStep;
use crate::metrics::{roc_of, Roc};
use crate::models::{init::seeded_init, Architecture, ImageAutoencoder, ImageShape, Likelihood};
use crate::train::{sorted_vars, Rollback, Schedule, TrainData, TrainError, TrainLoop, Training};

/// Rows a scoring pass puts in one batch.
const SCORE_CHUNK: usize = 512;

#[derive(Clone, Debug, Error, PartialEq)]
pub enum JetError {
    #[error("κ must be a number above 0 (it was {0}): with κ = 0 every lit pixel would weigh the same, and below 0 the softest pixels would outshine the hardest. Try 1, 0.25 or 0.1.")]
    BadKappa(f64),
    #[error("the jet study's settings cannot be used: {0}")]
    Settings(String),
    #[error("the experiment needs at least {minimum} jets of each class to train on and to test with")]
    TooFewJets { minimum: usize },
    #[error(transparent)]
    Train(#[from] TrainError),
}

impl From<candle_core::Error> for JetError {
    fn from(err: candle_core::Error) -> Self {
        JetError::Train(err.into())
    }
}

/// Everything one direction of the experiment depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct JetSettings {
    pub architecture: Architecture,
    /// The intensity exponent: 1 is the paper's plain images, smaller values bring the soft pixels up.
    pub kappa: f64,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub seed: u64,
    /// Intensities sum to 1 over a few dozen pixels; the network sees them times this, so that lit pixels
    /// are tenths to a few units. Scaling the scores would not change an AUC; this matters only through
    /// how training goes.
    pub input_scale: f32,
}

impl Default for JetSettings {
    fn default() -> Self {
        Self { architecture: Architecture::DENSE, kappa: 1.0, epochs: 10, batch_size: 64, learning_rate: 1e-3, seed: 1, input_scale: 10.0 }
    }
}

impl JetSettings {
    pub fn check(&self) -> Result<(), JetError> {
        match self.kappa.is_finite() && self.kappa > 0.0 {
            true => Ok(()),
            false => Err(JetError::BadKappa(self.kappa)),
        }
    }
}

/// The jets of one class, as images, split into training and test jets.
#[derive(Clone, Debug)]
pub struct ClassImages {
    pub class: JetClass,
    pub train: Vec<SparseImage>,
    pub test: Vec<SparseImage>,
}

impl ClassImages {
    fn generate(class: JetClass, train: usize, test: usize, seed: u64) -> Self {
        let mut images: Vec<SparseImage> = jets(class, train + test, seed).iter().map(image).collect();
        let test_images = images.split_off(train);
        Self { class, train: images, test: test_images }
    }
}

/// Both classes' images, made once from a seed.
#[derive(Clone, Debug)]
pub struct JetData {
    pub qcd: ClassImages,
    pub top: ClassImages,
}

impl JetData {
    /// `train` training and `test` test jets of each class.
    pub fn generate(train: usize, test: usize, seed: u64) -> Result<Self, JetError> {
        if train < 1 || test < 1 {
            return Err(JetError::TooFewJets { minimum: 1 });
        }
        Ok(Self { qcd: ClassImages::generate(JetClass::Qcd, train, test, seed), top: ClassImages::generate(JetClass::Top, train, test, seed) })
    }

    pub fn class(&self, class: JetClass) -> &ClassImages {
        match class {
            JetClass::Qcd => &self.qcd,
            JetClass::Top => &self.top,
        }
    }
}

/// `images` rescaled by κ and multiplied by `scale`, as dense rows.
pub fn dense_rows(images: &[SparseImage], kappa: f64, scale: f32) -> Vec<f32> {
    let mut rows = vec![0.0; images.len() * PIXELS];
    for (image, row) in images.iter().zip(rows.chunks_mut(PIXELS)) {
        image.rescaled(kappa).write_dense(row, scale);
    }
    rows
}

/// One direction: an autoencoder training on the images of `trained_on`.
pub struct JetRun {
    pub trained_on: JetClass,
    pub settings: JetSettings,
    training: TrainLoop<ImageAutoencoder>,
}

/// What one direction found, on the test jets.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectionResult {
    pub trained_on: JetClass,
    pub kappa: f64,
    /// Reconstruction errors of the test jets of the class trained on, and of the other class.
    pub scores_trained: Vec<f32>,
    pub scores_other: Vec<f32>,
    /// The other class tagged against the trained one.
    pub roc: Roc,
}

impl DirectionResult {
    pub fn auc(&self) -> f64 {
        self.roc.auc
    }
}

impl JetRun {
    pub fn begin(data: &JetData, trained_on: JetClass, settings: &JetSettings) -> Result<Self, JetError> {
        settings.check()?;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = ImageAutoencoder::new(ImageShape { side: SIDE, architecture: settings.architecture }, vb)?;
        seeded_init(&varmap, settings.seed)?;
        let train = TrainData {
            features: PIXELS,
            likelihood: Likelihood::Gaussian,
            train: dense_rows(&data.class(trained_on).train, settings.kappa, settings.input_scale),
            validation: Vec::new(),
        };
        let schedule = Schedule {
            batch_size: settings.batch_size,
            epochs: settings.epochs,
            learning_rate: settings.learning_rate,
            seed: settings.seed,
            streams: ("jet-batches", "jet-noise"),
            ..Schedule::default()
        };
        let training = TrainLoop::new(model, sorted_vars(&varmap), train, schedule, Rollback::LastStep)?;
        Ok(Self { trained_on, settings: settings.clone(), training })
    }

    pub fn training(&mut self) -> &mut TrainLoop<ImageAutoencoder> {
        &mut self.training
    }

    pub fn model(&self) -> &ImageAutoencoder {
        self.training.model()
    }

    /// Steps until the run is finished, calling `progress` after every step, then scores `data`'s test jets.
    pub fn run(mut self, data: &JetData, mut progress: impl FnMut(&JetRun)) -> Result<DirectionResult, JetError> {
        while !self.training.is_finished() {
            self.training.step()?;
            progress(&self);
        }
        self.conclude_on(data)
    }

    /// Reconstruction errors of `images` (rescaled and scaled as in training).
    pub fn scores(&self, images: &[SparseImage]) -> Result<Vec<f32>, JetError> {
        let mut scores = Vec::with_capacity(images.len());
        for chunk in images.chunks(SCORE_CHUNK) {
            let rows = dense_rows(chunk, self.settings.kappa, self.settings.input_scale);
            let batch = Tensor::from_vec(rows, (chunk.len(), PIXELS), &Device::Cpu)?;
            scores.extend(self.model().score(&batch)?.to_vec1::<f32>()?);
        }
        Ok(scores)
    }

    /// The model's reconstructions of `images`, back in the images' own units (intensities summing to
    /// about one after the κ rescaling), one dense row per image.
    pub fn reconstructions(&self, images: &[SparseImage]) -> Result<Vec<Vec<f32>>, JetError> {
        let rows = dense_rows(images, self.settings.kappa, self.settings.input_scale);
        let batch = Tensor::from_vec(rows, (images.len(), PIXELS), &Device::Cpu)?;
        let out = self.model().reconstruct(&batch)?.affine(1.0 / self.settings.input_scale as f64, 0.0)?;
        Ok(out.to_vec2::<f32>()?)
    }

    /// Scores both classes' test jets.
    pub fn conclude_on(&self, data: &JetData) -> Result<DirectionResult, JetError> {
        let scores_trained = self.scores(&data.class(self.trained_on).test)?;
        let scores_other = self.scores(&data.class(self.trained_on.other()).test)?;
        let roc = roc_of(&scores_trained, &scores_other).map_err(|err| TrainError::Compute(err.to_string()))?;
        Ok(DirectionResult { trained_on: self.trained_on, kappa: self.settings.kappa, scores_trained, scores_other, roc })
    }
}

/// Trains on `trained_on` with `settings` and scores both classes: one direction, start to end.
pub fn run_direction(data: &JetData, trained_on: JetClass, settings: &JetSettings) -> Result<DirectionResult, JetError> {
    JetRun::begin(data, trained_on, settings)?.run(data, |_| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(kappa: f64) -> JetSettings {
        JetSettings { architecture: Architecture::Dense { hidden: 32, latent: 8 }, kappa, epochs: 4, learning_rate: 3e-3, ..JetSettings::default() }
    }

    #[test]
    fn the_inverted_task_fails_and_a_small_kappa_evens_the_directions() {
        // An autoencoder trained too briefly scores an image by its own size, Σ x², which is larger for QCD:
        // the inverted task shows only once the model reconstructs well, after a few hundred steps.
        let data = JetData::generate(2000, 600, 3).unwrap();
        let plain = (run_direction(&data, JetClass::Qcd, &small(1.0)).unwrap(), run_direction(&data, JetClass::Top, &small(1.0)).unwrap());
        println!("κ = 1: QCD-trained tags top {:.3}, top-trained tags QCD {:.3}", plain.0.auc(), plain.1.auc());
        assert!(plain.0.auc() > 0.8, "trained on QCD, tops stand out: {}", plain.0.auc());
        assert!(plain.1.auc() < 0.4, "trained on tops, QCD does not: {}", plain.1.auc());
        let flat = (run_direction(&data, JetClass::Qcd, &small(0.1)).unwrap(), run_direction(&data, JetClass::Top, &small(0.1)).unwrap());
        println!("κ = 0.1: QCD-trained tags top {:.3}, top-trained tags QCD {:.3}", flat.0.auc(), flat.1.auc());
        assert!(flat.1.auc() > plain.1.auc() + 0.15, "rescaling helps the inverted task");
        assert!(flat.0.auc().min(flat.1.auc()) > plain.0.auc().min(plain.1.auc()));
        assert_eq!(plain.0.scores_trained.len(), 600);
        assert_eq!(plain.0.scores_other.len(), 600);
    }

    #[test]
    fn a_seed_reproduces_a_direction() {
        let data = JetData::generate(100, 50, 4).unwrap();
        let settings = JetSettings { epochs: 1, ..small(0.5) };
        let a = run_direction(&data, JetClass::Top, &settings).unwrap();
        let b = run_direction(&data, JetClass::Top, &settings).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_kappa_of_zero_or_below_is_refused_with_a_sentence() {
        let data = JetData::generate(10, 10, 1).unwrap();
        for kappa in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = JetRun::begin(&data, JetClass::Qcd, &small(kappa)).err().expect("refused");
            assert!(matches!(err, JetError::BadKappa(_)), "{err}");
            assert!(err.to_string().contains("above 0"), "{err}");
        }
        assert!(matches!(JetData::generate(0, 10, 1), Err(JetError::TooFewJets { .. })));
    }

    #[test]
    fn dense_rows_hold_the_rescaled_images_times_the_scale() {
        let data = JetData::generate(3, 1, 2).unwrap();
        let rows = dense_rows(&data.qcd.train, 0.5, 10.0);
        assert_eq!(rows.len(), 3 * PIXELS);
        for (image, row) in data.qcd.train.iter().zip(rows.chunks(PIXELS)) {
            let sum: f32 = row.iter().sum();
            assert!((sum - 10.0).abs() < 1e-3, "{sum}");
            assert_eq!(row.iter().filter(|&&v| v > 0.0).count(), image.lit());
        }
    }
}
