//! Anomaly Awareness (SCIENCE.md, section 1): stage 2 fine-tunes the stage-1 VAE with a few labelled
//! anomalies so that they reconstruct badly, then checks whether anomaly types never shown also score higher.
//!
//! Loss per row, with E(x) the reconstruction error and λ ramped from 0 to λ_max:
//! - normal digits: L_VAE(x) = E(x) + β·KL;
//! - labelled anomalies: L_VAE(x) − λ·min(E(x), m).
//!
//! The plain −λ·E(x) of the paper is unbounded below: the network can win by making anomalies' errors
//! explode. Clipping the error at a margin m (a multiple of the normal digits' mean error after stage 1)
//! bounds the loss below by −λ·m, and once an anomaly's error passes m it is left alone.
//! The stage-1 weights are kept, so a diverging fine-tuning run puts them back and can be retried.

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::data::anomalies::{fashion_families, AnomalyFamily, SYNTHETIC};
use crate::data::{DigitSet, Split, IMAGE_PIXELS};
use crate::evaluate::DigitExperiment;
use crate::inference::CpuScorer;
use crate::method::{StepContext, TrainStep};
use crate::metrics::{robust_range, roc_of, Histogram, Roc};
use crate::models::vae::kl_divergence;
use crate::models::{Likelihood, Vae};
use crate::rng::SeededRng;
use crate::score::{reconstruct, score_rows};
use crate::settings::{parse_into, NumberSetting, SettingProblem, TrainSettings};
use crate::train::{Rollback, Schedule, TrainData, TrainError, TrainLoop, Trainer, Training};

/// Examples of each family shown redrawn before and after fine-tuning.
const EXAMPLES_PER_FAMILY: usize = 4;
const DETAIL_ROC_POINTS: usize = 150;
const DETAIL_BINS: usize = 30;

/// Anomalies of each family scored in the evaluation (fewer for a held-out digit with fewer test digits).
const EVALUATION_PER_FAMILY: usize = 200;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AwarenessSettings {
    /// Families whose labelled examples the fine-tuning sees. Every other family is "unseen".
    pub shown: Vec<AnomalyFamily>,
    /// How many labelled anomalies in all, shared evenly between the shown families.
    pub labelled_anomalies: usize,
    pub lambda_max: f32,
    /// The margin m as a multiple of the normal training digits' mean reconstruction error after stage 1.
    pub margin_factor: f32,
    /// Fraction of the fine-tuning steps over which λ ramps from 0 to λ_max.
    pub ramp_fraction: f32,
    /// Fine-tuning epochs over the normal training digits.
    pub epochs: usize,
    pub learning_rate: f64,
}

impl Default for AwarenessSettings {
    fn default() -> Self {
        Self {
            shown: vec![AnomalyFamily::Noise, AnomalyFamily::Blobs],
            labelled_anomalies: 40,
            lambda_max: 4.0,
            margin_factor: 3.0,
            ramp_fraction: 0.5,
            epochs: 4,
            learning_rate: 1e-3,
        }
    }
}

/// Stage 2's numeric settings, each described once (see [`NumberSetting`]), in the order the form shows
/// them and a link writes them (as `aa.<key>`).
pub static AWARENESS_SETTINGS: [NumberSetting<AwarenessSettings>; 6] = [
    NumberSetting {
        field: "labelled_anomalies",
        link_key: "labelled",
        label: "Labelled anomalies",
        min: 1.0,
        max: 1000.0,
        out_of_range: "Use at most {max} labelled anomalies.",
        below_min: Some("With no labelled anomalies there is nothing to fine-tune on: stage 2 needs at least one."),
        get: |s| s.labelled_anomalies.to_string(),
        set: |s, text| parse_into(&mut s.labelled_anomalies, text),
        value: |s| s.labelled_anomalies as f64,
    },
    NumberSetting {
        field: "lambda_max",
        link_key: "lambda",
        label: "λ max",
        min: 0.0,
        max: 20.0,
        out_of_range: "λ_max must be between {min} and {max}.",
        below_min: None,
        get: |s| s.lambda_max.to_string(),
        set: |s, text| parse_into(&mut s.lambda_max, text),
        value: |s| s.lambda_max as f64,
    },
    NumberSetting {
        field: "margin_factor",
        link_key: "margin",
        label: "Margin m (× normal error)",
        min: 1.0,
        max: 10.0,
        out_of_range: "The margin must be between {min} and {max} times the normal error.",
        below_min: None,
        get: |s| s.margin_factor.to_string(),
        set: |s, text| parse_into(&mut s.margin_factor, text),
        value: |s| s.margin_factor as f64,
    },
    NumberSetting {
        field: "ramp_fraction",
        link_key: "ramp",
        label: "Ramp of λ (share of the run)",
        min: 0.0,
        max: 1.0,
        out_of_range: "The ramp must be between {min} and {max} of the run.",
        below_min: None,
        get: |s| s.ramp_fraction.to_string(),
        set: |s, text| parse_into(&mut s.ramp_fraction, text),
        value: |s| s.ramp_fraction as f64,
    },
    NumberSetting {
        field: "epochs",
        link_key: "epochs",
        label: "Fine-tuning epochs",
        min: 1.0,
        max: 50.0,
        out_of_range: "Fine-tuning epochs must be between {min} and {max}.",
        below_min: None,
        get: |s| s.epochs.to_string(),
        set: |s, text| parse_into(&mut s.epochs, text),
        value: |s| s.epochs as f64,
    },
    NumberSetting {
        field: "learning_rate",
        link_key: "lr",
        label: "Fine-tuning learning rate",
        min: 1e-6,
        max: 0.1,
        out_of_range: "The fine-tuning learning rate must be between {min} and {max}.",
        below_min: None,
        get: |s| s.learning_rate.to_string(),
        set: |s, text| parse_into(&mut s.learning_rate, text),
        value: |s| s.learning_rate,
    },
];

impl AwarenessSettings {
    /// Every problem at once: each setting's range, then how the shown families fit the count and the
    /// stage-1 settings `digits`.
    pub fn problems(&self, digits: &TrainSettings) -> Vec<SettingProblem> {
        let mut problems: Vec<SettingProblem> = AWARENESS_SETTINGS.iter().filter_map(|setting| setting.problem(self)).collect();
        let mut check = |ok: bool, field: &str, message: &str| {
            if !ok {
                problems.push(SettingProblem { field: field.into(), message: message.into() });
            }
        };
        // Otherwise a family ticked as shown would get no example, and its row would be called "shown"
        // when the network never saw one.
        check(
            self.labelled_anomalies == 0 || self.labelled_anomalies >= self.shown.len(),
            "labelled_anomalies",
            &format!(
                "With {} families shown, use at least {} labelled anomalies, so that each family is shown at least once.",
                self.shown.len(),
                self.shown.len()
            ),
        );
        check(!self.shown.is_empty(), "shown", "Pick at least one anomaly family to show the network.");
        check(
            self.shown.iter().all(|f| !matches!(f, AnomalyFamily::HeldOutDigit(d) if !digits.is_anomaly(*d))),
            "shown",
            "A normal digit cannot be shown as an anomaly.",
        );
        problems
    }

    /// Puts the setting that a [`SettingProblem`] names back to its value in `defaults`. Shown families
    /// that are normal digits under `digits` are dropped rather than reset, unless none is left.
    pub fn reset_field(&mut self, field: &str, defaults: &AwarenessSettings, digits: &TrainSettings) {
        if field == "shown" {
            self.shown.retain(|f| !matches!(f, AnomalyFamily::HeldOutDigit(digit) if !digits.is_anomaly(*digit)));
            if self.shown.is_empty() {
                self.shown = defaults.shown.clone();
            }
        }
        if let Some(setting) = AWARENESS_SETTINGS.iter().find(|s| s.field == field) {
            setting.reset(self, defaults);
        }
    }
}

/// AUC of one family against the normal test digits, before and after fine-tuning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyAuc {
    pub family: AnomalyFamily,
    pub name: String,
    pub shown: bool,
    pub count: usize,
    pub before: f64,
    pub after: Option<f64>,
}

/// One family seen closely: its ROC curve and score histogram before and after fine-tuning, and a few of
/// its examples as the network redraws them before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyDetail {
    pub family: AnomalyFamily,
    pub name: String,
    pub roc_before: Roc,
    pub roc_after: Roc,
    pub normal_before: Histogram,
    pub family_before: Histogram,
    pub normal_after: Histogram,
    pub family_after: Histogram,
    pub examples: Vec<RedrawnExample>,
}

/// 28 × 28 intensities × 255: the anomaly, and the network's redrawing of it before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RedrawnExample {
    pub original: Vec<u8>,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

/// Scores of the normal test digits and of each family, from one model.
struct FamilyScores {
    normal: Vec<f32>,
    families: Vec<Vec<f32>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FineTuneReport {
    pub step: usize,
    pub total_steps: usize,
    pub lambda: f32,
    pub loss: f32,
}

/// The fine-tuning loss (see the module documentation) over the stage-1 VAE, whose weights it shares: a
/// batch of normal rows from the loop, plus labelled anomalies it draws itself. Digits and table rows
/// (`table::awareness`) fine-tune with the same loss.
pub(crate) struct AnomalyAwareLoss {
    pub(crate) vae: Vae,
    /// Values per row.
    pub(crate) features: usize,
    /// The labelled anomalies, row-major.
    pub(crate) labelled: Vec<f32>,
    pub(crate) margin: f32,
    pub(crate) lambda_max: f32,
    pub(crate) ramp_fraction: f32,
    /// Each step adds a quarter of this many labelled anomalies to the batch.
    pub(crate) batch_size: usize,
    /// The control run: the labelled anomalies are left out of every step (see [`AwarenessRun::without_anomalies`]).
    pub(crate) control: bool,
}

impl AnomalyAwareLoss {
    pub(crate) fn labelled_count(&self) -> usize {
        self.labelled.len() / self.features
    }

    /// λ at `step` of `total_steps`: a linear ramp from 0 to λ_max over the first `ramp_fraction` of the run.
    pub(crate) fn lambda(&self, step: usize, total_steps: usize) -> f32 {
        let ramp_steps = (self.ramp_fraction * total_steps as f32).max(1.0);
        self.lambda_max * (step as f32 / ramp_steps).min(1.0)
    }
}

impl TrainStep for AnomalyAwareLoss {
    /// Mean over all rows, the normal batch and the anomalies drawn for it, of the anomaly-aware loss.
    fn loss(&self, normal: &Tensor, context: &mut StepContext) -> candle_core::Result<Tensor> {
        let n_normal = normal.dims()[0];
        let anomaly_rows = (self.batch_size / 4).clamp(1, self.labelled_count());
        let width = self.features;
        let mut anomalies = Vec::with_capacity(anomaly_rows * width);
        for _ in 0..anomaly_rows {
            let r = context.batches.below(self.labelled_count());
            anomalies.extend_from_slice(&self.labelled[r * width..(r + 1) * width]);
        }
        let lambda = self.lambda(context.step, context.total_steps);
        let latent = self.vae.shape().latent;
        let mut noise = self.vae.draw_noise(n_normal + anomaly_rows, context.noise);
        if self.control {
            // The anomalies were drawn all the same, so that both runs' random streams, and with them
            // their batches of normal digits and those digits' noise, stay step for step the same.
            anomalies.clear();
            noise.truncate(n_normal * latent);
        }
        let x = match anomalies.is_empty() {
            true => normal.clone(),
            false => Tensor::cat(&[normal, &Tensor::from_vec(anomalies, (anomaly_rows, width), &Device::Cpu)?], 0)?,
        };
        let rows = x.dims()[0];
        let out = self.vae.forward_sampled(&x, &Tensor::from_vec(noise, (rows, latent), &Device::Cpu)?)?;
        let error = self.vae.reconstruction_error(&out.logits, &x)?;
        let vae_loss = (&error + kl_divergence(&out.mean, &out.log_variance)?.affine(self.vae.config().beta as f64, 0.0)?)?;
        // −λ·min(E, m) on the anomaly rows only: a per-row weight that is 0 for normal rows.
        let weight: Vec<f32> = (0..rows).map(|r| if r >= n_normal { lambda } else { 0.0 }).collect();
        let weight = Tensor::from_vec(weight, rows, &Device::Cpu)?;
        let clipped = error.clamp(0f32, self.margin)?;
        (vae_loss - (clipped * weight)?)?.mean_all()
    }
}

/// Stage 2's schedule, whatever the rows (digits or a table's).
pub(crate) struct FineTuning {
    pub lambda_max: f32,
    /// The margin as a multiple of `normal_error` (see [`fine_tuning_loop`]).
    pub margin_factor: f32,
    pub ramp_fraction: f32,
    pub epochs: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub seed: u64,
    /// The random streams' names, apart from stage 1's.
    pub streams: (&'static str, &'static str),
}

/// The fine-tuning run over `trainer`'s weights (shared, kept for [`Rollback::Start`]): batches of the
/// normal rows in `data`, plus labelled anomalies the loss draws itself, with the margin at
/// `margin_factor` × `normal_error` (the normal training rows' mean error after stage 1).
pub(crate) fn fine_tuning_loop(trainer: &Trainer, data: TrainData, labelled: Vec<f32>, normal_error: f32, fine: FineTuning) -> Result<TrainLoop<AnomalyAwareLoss>, TrainError> {
    let loss = AnomalyAwareLoss {
        vae: trainer.model().clone(),
        features: data.features,
        labelled,
        margin: fine.margin_factor * normal_error,
        lambda_max: fine.lambda_max,
        ramp_fraction: fine.ramp_fraction,
        batch_size: fine.batch_size,
        control: false,
    };
    let schedule = Schedule {
        batch_size: fine.batch_size,
        epochs: fine.epochs,
        learning_rate: fine.learning_rate,
        seed: fine.seed,
        streams: fine.streams,
        ..Schedule::default()
    };
    TrainLoop::new(loss, trainer.vars(), data, schedule, Rollback::Start)
}

/// A stage-2 run on top of a trained stage-1 model.
pub struct AwarenessRun {
    settings: AwarenessSettings,
    /// The fine-tuning steps, which put the stage-1 weights back if the loss diverges.
    run: TrainLoop<AnomalyAwareLoss>,
    normal_test: Vec<f32>,
    families: Vec<(AnomalyFamily, Vec<f32>)>,
    before: Vec<f64>,
    before_scores: FamilyScores,
    /// Stage-1 reconstructions of each family's first examples.
    before_redrawn: Vec<Vec<f32>>,
    score_with_kl: bool,
}

impl AwarenessRun {
    /// Prepares stage 2 from the experiment's current (stage-1) model, as [`Self::prepare`] does, and
    /// scores the evaluation images with it on the CPU.
    pub fn new(digits: &DigitSet, experiment: &DigitExperiment, settings: &AwarenessSettings) -> Result<Self, TrainError> {
        Self::new_with(digits, None, experiment, settings)
    }

    /// As [`Self::new`], with Fashion-MNIST's pictures as further families when `fashion` is given.
    pub fn new_with(digits: &DigitSet, fashion: Option<&DigitSet>, experiment: &DigitExperiment, settings: &AwarenessSettings) -> Result<Self, TrainError> {
        let mut run = Self::prepare_with(digits, fashion, experiment, settings)?;
        let scores = run.score_on_cpu(experiment.trainer.model())?;
        run.set_before(experiment.trainer.model(), &scores)?;
        Ok(run)
    }

    /// Prepares stage 2 from the experiment's current (stage-1) model: keeps a copy of its weights, builds
    /// the labelled anomalies from the training split and the evaluation sets from the test split. The
    /// AUCs before fine-tuning then need [`Self::evaluation_pixels`] scored with the stage-1 model, on
    /// any backend, and given to [`Self::set_before`] before the first step.
    pub fn prepare(digits: &DigitSet, experiment: &DigitExperiment, settings: &AwarenessSettings) -> Result<Self, TrainError> {
        Self::prepare_with(digits, None, experiment, settings)
    }

    /// As [`Self::prepare`]; with `fashion`, each Fashion-MNIST class is a family too: labelled examples
    /// come from one half of the file and evaluated ones from the other, as the digits' split does.
    pub fn prepare_with(digits: &DigitSet, fashion: Option<&DigitSet>, experiment: &DigitExperiment, settings: &AwarenessSettings) -> Result<Self, TrainError> {
        let (trainer, digit_settings) = (&experiment.trainer, experiment.settings());
        if let Some(problem) = settings.problems(digit_settings).first() {
            return Err(TrainError::Compute(problem.message.clone()));
        }
        if fashion.is_none() && settings.shown.iter().any(|f| f.needs_fashion()) {
            return Err(TrainError::Compute(
                "Fashion-MNIST is not loaded, so its pictures cannot be shown: untick the fashion families or reload the page once the file is there".into(),
            ));
        }
        let (seed, batch_size) = (digit_settings.model.optimiser.seed, digit_settings.model.optimiser.batch_size);
        let split = Split::by_seed(digits.len(), seed);
        let fashion_split = fashion.map(|f| (f, Split::by_seed(f.len(), seed)));
        let sources = |test: bool| Sources {
            digits,
            digit_rows: if test { &split.test } else { &split.train },
            fashion: fashion_split.as_ref().map(|(f, s)| (*f, if test { &s.test[..] } else { &s.train[..] })),
        };
        let of_class = |rows: &[usize], wanted: &dyn Fn(u8) -> bool| -> Vec<usize> {
            rows.iter().copied().filter(|&r| wanted(digits.label(r))).collect()
        };
        let normal_train = digits.gather_f32(&of_class(&split.train, &|d| !digit_settings.is_anomaly(d)));
        let normal_test = digits.gather_f32(&of_class(&split.test, &|d| !digit_settings.is_anomaly(d)));

        // Shared as evenly as the count allows, the first families taking one more: each shown family is
        // really shown once there are at least as many labelled anomalies as families.
        let (each, more) = (settings.labelled_anomalies / settings.shown.len(), settings.labelled_anomalies % settings.shown.len());
        let mut labelled = Vec::new();
        for (i, &family) in settings.shown.iter().enumerate() {
            let count = each + usize::from(i < more);
            labelled.extend(examples(&sources(false), &normal_train, family, count, SeededRng::derive(seed, "labelled").next_u64()));
        }

        let mut evaluated: Vec<AnomalyFamily> = (0..10u8).filter(|&d| digit_settings.is_anomaly(d)).map(AnomalyFamily::HeldOutDigit).collect();
        evaluated.extend(SYNTHETIC);
        if fashion.is_some() {
            evaluated.extend(fashion_families());
        }
        let eval_seed = SeededRng::derive(seed, "evaluation").next_u64();
        let families: Vec<(AnomalyFamily, Vec<f32>)> = evaluated
            .into_iter()
            .map(|f| (f, examples(&sources(true), &normal_test, f, EVALUATION_PER_FAMILY, eval_seed)))
            .filter(|(_, images)| !images.is_empty())
            .collect();

        let normal_error = mean(&score_rows(trainer.model(), &normal_train[..normal_train.len().min(512 * IMAGE_PIXELS)], false)?.scores);
        let fine = FineTuning {
            lambda_max: settings.lambda_max,
            margin_factor: settings.margin_factor,
            ramp_fraction: settings.ramp_fraction,
            epochs: settings.epochs,
            learning_rate: settings.learning_rate,
            batch_size,
            seed,
            streams: ("fine-tuning", "fine-tuning-noise"),
        };
        let data = TrainData { features: IMAGE_PIXELS, likelihood: Likelihood::Bernoulli, train: normal_train, validation: Vec::new() };
        Ok(Self {
            settings: settings.clone(),
            run: fine_tuning_loop(trainer, data, labelled, normal_error, fine)?,
            normal_test,
            families,
            before: Vec::new(),
            before_scores: FamilyScores { normal: Vec::new(), families: Vec::new() },
            before_redrawn: Vec::new(),
            score_with_kl: digit_settings.model.vae.score_with_kl,
        })
    }

    /// Makes this run the control of an Anomaly Awareness run with the same settings: the same steps on
    /// the same batches of normal digits, with the labelled anomalies left out of the loss. Part of what
    /// fine-tuning gains on unseen families comes from training longer on normal digits alone; the
    /// control measures that part, so the anomalies' own effect is the difference.
    pub fn without_anomalies(mut self) -> Self {
        self.run.model_mut().control = true;
        self
    }

    /// Every image the evaluation scores, in one buffer: the normal test digits, then each family's
    /// anomalies in the order of [`Self::results`].
    pub fn evaluation_pixels(&self) -> Vec<f32> {
        let mut pixels = self.normal_test.clone();
        for (_, images) in &self.families {
            pixels.extend_from_slice(images);
        }
        pixels
    }

    /// The scores of [`Self::evaluation_pixels`] with `model`, on the fused CPU scorer (the one that
    /// also scores the digit view's test set on the CPU, so both views give a digit the same score).
    pub fn score_on_cpu(&self, model: &Vae) -> Result<Vec<f32>, TrainError> {
        let scorer = CpuScorer::for_model(&model.scoring_model(self.score_with_kl)?);
        let pixels = self.evaluation_pixels();
        let mut scores = vec![0f32; pixels.len() / IMAGE_PIXELS];
        scorer.score(&pixels, &mut scores);
        Ok(scores)
    }

    /// Takes the stage-1 model's scores of [`Self::evaluation_pixels`] (from any backend): the AUCs
    /// before fine-tuning. Also redraws each family's first examples with that model.
    pub fn set_before(&mut self, stage1: &Vae, scores: &[f32]) -> Result<(), TrainError> {
        self.before_scores = self.split(scores)?;
        self.before = self.aucs(&self.before_scores)?;
        self.before_redrawn = self.redraw_examples(stage1)?;
        Ok(())
    }

    /// Whether [`Self::set_before`] has been given the stage-1 scores.
    pub fn is_ready(&self) -> bool {
        self.before.len() == self.families.len()
    }

    fn check_ready(&self) -> Result<(), TrainError> {
        match self.is_ready() {
            true => Ok(()),
            false => Err(TrainError::Compute("the stage-1 model's scores are not in yet".into())),
        }
    }

    /// Whether this is the control run, without the labelled anomalies.
    pub fn is_control(&self) -> bool {
        self.run.model().control
    }

    pub fn settings(&self) -> &AwarenessSettings {
        &self.settings
    }

    pub fn margin(&self) -> f32 {
        self.run.model().margin
    }

    pub fn total_steps(&self) -> usize {
        self.run.total_steps()
    }

    pub fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    /// Counts the run as finished without training: for fine-tuned weights read from a session file.
    pub fn mark_finished(&mut self) {
        self.run.mark_finished();
    }

    pub fn labelled_count(&self) -> usize {
        self.run.model().labelled_count()
    }

    /// λ at the current step: a linear ramp from 0 to λ_max over the first `ramp_fraction` of the run.
    pub fn lambda(&self) -> f32 {
        self.lambda_at(self.run.steps_done())
    }

    /// λ at step `step` (counted from zero) of the run.
    pub fn lambda_at(&self, step: usize) -> f32 {
        self.run.model().lambda(step, self.run.total_steps())
    }

    /// The fine-tuning steps as a run any caller can drive, like stage 1's.
    pub fn training(&mut self) -> &mut dyn Training {
        &mut self.run
    }

    /// One fine-tuning step: a batch of normal training digits plus a quarter as many labelled anomalies.
    pub fn step(&mut self) -> Result<FineTuneReport, TrainError> {
        let lambda = self.lambda();
        let report = self.run.step()?;
        Ok(FineTuneReport { step: self.run.steps_done(), total_steps: self.run.total_steps(), lambda, loss: report.loss })
    }

    /// Puts the stage-1 weights back (after divergence, or to retry with other settings).
    pub fn restore_stage1(&self) -> candle_core::Result<()> {
        self.run.restore_start()
    }

    /// Scores of [`Self::evaluation_pixels`], cut into the normal digits' and each family's.
    fn split(&self, scores: &[f32]) -> Result<FamilyScores, TrainError> {
        let count = |images: &[f32]| images.len() / IMAGE_PIXELS;
        let expected = count(&self.normal_test) + self.families.iter().map(|(_, images)| count(images)).sum::<usize>();
        if scores.len() != expected {
            return Err(TrainError::Compute(format!("{} scores for {expected} evaluation images", scores.len())));
        }
        let (normal, mut rest) = scores.split_at(count(&self.normal_test));
        let families = self
            .families
            .iter()
            .map(|(_, images)| {
                let (family, after) = rest.split_at(count(images));
                rest = after;
                family.to_vec()
            })
            .collect();
        Ok(FamilyScores { normal: normal.to_vec(), families })
    }

    fn roc(normal: &[f32], family: &[f32]) -> Result<Roc, TrainError> {
        roc_of(normal, family).map_err(|e| TrainError::Compute(e.to_string()))
    }

    fn aucs(&self, scores: &FamilyScores) -> Result<Vec<f64>, TrainError> {
        scores.families.iter().map(|family| Self::roc(&scores.normal, family).map(|r| r.auc)).collect()
    }

    fn redraw_examples(&self, model: &Vae) -> Result<Vec<Vec<f32>>, TrainError> {
        self.families
            .iter()
            .map(|(_, images)| reconstruct(model, &images[..images.len().min(EXAMPLES_PER_FAMILY * IMAGE_PIXELS)]).map_err(TrainError::from))
            .collect()
    }

    /// As [`Self::details_from`], scoring on the CPU.
    pub fn details(&self, after: &Vae) -> Result<Vec<FamilyDetail>, TrainError> {
        self.details_from(after, &self.score_on_cpu(after)?)
    }

    /// Each family's ROC curves, histograms and redrawn examples, before (stage 1) and after (`after`,
    /// whose scores of [`Self::evaluation_pixels`] are `scores`).
    pub fn details_from(&self, after: &Vae, scores: &[f32]) -> Result<Vec<FamilyDetail>, TrainError> {
        self.check_ready()?;
        let after_scores = self.split(scores)?;
        let after_redrawn = self.redraw_examples(after)?;
        let to_bytes = |v: &[f32]| -> Vec<u8> { v.iter().map(|&p| (p.clamp(0.0, 1.0) * 255.0).round() as u8).collect() };
        self.families
            .iter()
            .enumerate()
            .map(|(i, (family, images))| {
                let (before_family, after_family) = (&self.before_scores.families[i], &after_scores.families[i]);
                let all = [&self.before_scores.normal[..], before_family, &after_scores.normal, after_family].concat();
                let (low, high) = robust_range(&all);
                let histogram = |v: &[f32]| Histogram::new(v, low, high, DETAIL_BINS);
                let shown = (images.len() / IMAGE_PIXELS).min(EXAMPLES_PER_FAMILY);
                Ok(FamilyDetail {
                    family: *family,
                    name: family.name(),
                    roc_before: Self::roc(&self.before_scores.normal, before_family)?.thinned(DETAIL_ROC_POINTS),
                    roc_after: Self::roc(&after_scores.normal, after_family)?.thinned(DETAIL_ROC_POINTS),
                    normal_before: histogram(&self.before_scores.normal),
                    family_before: histogram(before_family),
                    normal_after: histogram(&after_scores.normal),
                    family_after: histogram(after_family),
                    examples: (0..shown)
                        .map(|k| {
                            let span = k * IMAGE_PIXELS..(k + 1) * IMAGE_PIXELS;
                            RedrawnExample {
                                original: to_bytes(&images[span.clone()]),
                                before: to_bytes(&self.before_redrawn[i][span.clone()]),
                                after: to_bytes(&after_redrawn[i][span]),
                            }
                        })
                        .collect(),
                })
            })
            .collect()
    }

    /// As [`Self::results_from`], scoring `after` on the CPU.
    pub fn results(&self, after: Option<&Vae>) -> Result<Vec<FamilyAuc>, TrainError> {
        self.results_from(after.map(|m| self.score_on_cpu(m)).transpose()?.as_deref())
    }

    /// The before/after table; `after` is filled when the fine-tuned model's scores of
    /// [`Self::evaluation_pixels`] are given.
    pub fn results_from(&self, after: Option<&[f32]>) -> Result<Vec<FamilyAuc>, TrainError> {
        self.check_ready()?;
        let after = after.map(|scores| self.aucs(&self.split(scores)?)).transpose()?;
        Ok(self
            .families
            .iter()
            .enumerate()
            .map(|(i, (family, images))| FamilyAuc {
                family: *family,
                name: family.name(),
                shown: self.settings.shown.contains(family),
                count: images.len() / IMAGE_PIXELS,
                before: self.before[i],
                after: after.as_ref().map(|a| a[i]),
            })
            .collect())
    }
}

/// Where real anomalies are taken from: one side (training or test) of the digits' split, and of
/// Fashion-MNIST's when it is loaded.
struct Sources<'a> {
    digits: &'a DigitSet,
    digit_rows: &'a [usize],
    fashion: Option<(&'a DigitSet, &'a [usize])>,
}

/// `count` images of a family: real images of the class for a held-out digit or a Fashion-MNIST class
/// (none when Fashion-MNIST is not loaded), otherwise synthesised from the normal digits `base`.
fn examples(sources: &Sources, base: &[f32], family: AnomalyFamily, count: usize, seed: u64) -> Vec<f32> {
    let of_class = |set: &DigitSet, rows: &[usize], class: u8| {
        let chosen: Vec<usize> = rows.iter().copied().filter(|&r| set.label(r) == class).take(count).collect();
        set.gather_f32(&chosen)
    };
    match family {
        AnomalyFamily::HeldOutDigit(d) => of_class(sources.digits, sources.digit_rows, d),
        AnomalyFamily::Fashion(c) => sources.fashion.map_or_else(Vec::new, |(set, rows)| of_class(set, rows, c)),
        _ => family.synthesise(base, count, seed),
    }
}

fn mean(values: &[f32]) -> f32 {
    values.iter().sum::<f32>() / values.len().max(1) as f32
}

/// Mean AUC change over the unseen families, the headline number of the method.
pub fn mean_unseen_change(results: &[FamilyAuc]) -> Option<f64> {
    mean_unseen_change_except(results, None)
}

/// As [`mean_unseen_change`], leaving out the family named `left_out`.
pub fn mean_unseen_change_except(results: &[FamilyAuc], left_out: Option<&str>) -> Option<f64> {
    let changes: Vec<f64> = results
        .iter()
        .filter(|r| !r.shown && Some(r.name.as_str()) != left_out)
        .filter_map(|r| r.after.map(|a| a - r.before))
        .collect();
    (!changes.is_empty()).then(|| changes.iter().sum::<f64>() / changes.len() as f64)
}

/// The unseen family that gained most, and the mean change over the other unseen families.
#[derive(Clone, Debug, PartialEq)]
pub struct LargestGain {
    pub name: String,
    pub change: f64,
    /// Mean AUC change over the unseen families other than this one.
    pub others: f64,
}

/// Whether the headline mean rests on one family: the unseen family with the largest gain, and what the
/// others did without it. A family that looks like a shown one (a 9 beside a shown 7) can carry the
/// mean alone. `None` with fewer than two unseen families, or when none gained.
pub fn largest_unseen_gain(results: &[FamilyAuc]) -> Option<LargestGain> {
    let unseen: Vec<(&str, f64)> = results.iter().filter(|r| !r.shown).filter_map(|r| r.after.map(|a| (r.name.as_str(), a - r.before))).collect();
    if unseen.len() < 2 {
        return None;
    }
    let &(name, change) = unseen.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    // Below the table's precision it is no gain.
    if change <= 0.0005 {
        return None;
    }
    Some(LargestGain { name: name.to_string(), change, others: mean_unseen_change_except(results, Some(name))? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::mnist::tests::synthetic_digits;
    use crate::settings::{ModelSettings, OptimiserSettings, VaeSettings};

    fn stage1(digits: &DigitSet) -> DigitExperiment {
        let settings = TrainSettings {
            normal_digits: vec![0, 1, 2, 3, 4, 5],
            model: ModelSettings {
                vae: VaeSettings { hidden_units: 64, latent_dims: 4, ..Default::default() },
                optimiser: OptimiserSettings { epochs: 6, batch_size: 32, learning_rate: 3e-3, seed: 3 },
            },
        };
        let mut experiment = DigitExperiment::new(digits, &settings).unwrap();
        while !experiment.trainer.is_finished() {
            experiment.trainer.step().unwrap();
        }
        experiment
    }

    fn aware(shown: Vec<AnomalyFamily>) -> AwarenessSettings {
        AwarenessSettings { shown, labelled_anomalies: 24, epochs: 6, ..Default::default() }
    }

    #[test]
    fn fashion_classes_are_families_when_loaded_and_a_sentence_when_not() {
        let digits = synthetic_digits(40, 4);
        let fashion = synthetic_digits(30, 9);
        let experiment = stage1(&digits);
        let settings = aware(vec![AnomalyFamily::Fashion(1), AnomalyFamily::Blobs]);
        let err = AwarenessRun::prepare(&digits, &experiment, &settings).err().expect("fashion shown but not loaded");
        assert!(err.to_string().contains("Fashion-MNIST is not loaded, so its pictures cannot be shown"), "{err}");
        let run = AwarenessRun::new_with(&digits, Some(&fashion), &experiment, &settings).unwrap();
        let results = run.results(None).unwrap();
        let fashion_rows: Vec<&FamilyAuc> = results.iter().filter(|r| r.family.needs_fashion()).collect();
        assert_eq!(fashion_rows.len(), 10, "every class is evaluated");
        assert_eq!(fashion_rows.iter().filter(|r| r.shown).map(|r| r.name.as_str()).collect::<Vec<_>>(), ["fashion: trouser"]);
        assert!(fashion_rows.iter().all(|r| r.count > 0 && (0.0..=1.0).contains(&r.before)));
        // Without the file, no fashion row appears and the rest is as before.
        let without = AwarenessRun::new(&digits, &experiment, &aware(vec![AnomalyFamily::Blobs])).unwrap().results(None).unwrap();
        assert!(without.iter().all(|r| !r.family.needs_fashion()));
        assert_eq!(without.len(), results.len() - 10);
    }

    #[test]
    fn the_control_leaves_the_anomalies_out_and_gains_less_on_the_shown_family() {
        let digits = synthetic_digits(40, 4);
        let experiment = stage1(&digits);
        let model = experiment.trainer.model();
        let settings = aware(vec![AnomalyFamily::HeldOutDigit(7)]);
        let finish = |mut run: AwarenessRun| {
            while !run.is_finished() {
                run.step().unwrap();
            }
            let results = run.results(Some(model)).unwrap();
            run.restore_stage1().unwrap();
            results
        };
        let with_anomalies = finish(AwarenessRun::new(&digits, &experiment, &settings).unwrap());
        let control = finish(AwarenessRun::new(&digits, &experiment, &settings).unwrap().without_anomalies());
        // Both runs start from the same stage-1 model, so every family's AUC before is the same.
        let befores = |results: &[FamilyAuc]| results.iter().map(|r| r.before).collect::<Vec<_>>();
        assert_eq!(befores(&with_anomalies), befores(&control));
        let seven = |results: &[FamilyAuc]| results.iter().find(|r| r.family == AnomalyFamily::HeldOutDigit(7)).unwrap().after.unwrap();
        assert!(seven(&with_anomalies) > seven(&control) + 0.02, "with the anomalies {} against {} without", seven(&with_anomalies), seven(&control));
    }

    #[test]
    fn the_largest_unseen_gain_is_set_apart_from_the_others() {
        let row = |name: &str, shown: bool, before: f64, after: f64| FamilyAuc {
            family: AnomalyFamily::Noise,
            name: name.into(),
            shown,
            count: 10,
            before,
            after: Some(after),
        };
        let results = [row("digit 7", true, 0.7, 0.99), row("digit 9", false, 0.6, 0.85), row("rotated", false, 0.9, 0.89), row("blurred", false, 0.8, 0.84)];
        let largest = largest_unseen_gain(&results).unwrap();
        assert_eq!(largest.name, "digit 9");
        assert!((largest.change - 0.25).abs() < 1e-9);
        // The shown digit 7 gained more, but it is not unseen; the others are rotated and blurred.
        assert!((largest.others - 0.015).abs() < 1e-9, "{largest:?}");
        // One unseen family has no "others"; no gain anywhere is nothing to set apart.
        assert_eq!(largest_unseen_gain(&results[..2]), None);
        assert_eq!(largest_unseen_gain(&[row("a", false, 0.9, 0.8), row("b", false, 0.9, 0.9)]), None);
    }

    #[test]
    fn fine_tuning_raises_the_auc_of_the_shown_family() {
        let digits = synthetic_digits(40, 4);
        let experiment = stage1(&digits);
        let mut run = AwarenessRun::new(&digits, &experiment, &aware(vec![AnomalyFamily::HeldOutDigit(7)])).unwrap();
        while !run.is_finished() {
            run.step().unwrap();
        }
        let results = run.results(Some(experiment.trainer.model())).unwrap();
        let seven = results.iter().find(|r| r.family == AnomalyFamily::HeldOutDigit(7)).unwrap();
        assert!(seven.shown);
        assert!(seven.after.unwrap() > seven.before + 0.02, "{seven:?}");
        // Every evaluated family is reported, shown or not, with a number before and after.
        assert!(results.iter().any(|r| !r.shown));
        assert!(results.iter().all(|r| r.after.is_some() && (0.0..=1.0).contains(&r.before)));
        // The close-up agrees with the table, and its histograms count every scored example.
        let details = run.details(experiment.trainer.model()).unwrap();
        let seven_detail = details.iter().find(|d| d.family == AnomalyFamily::HeldOutDigit(7)).unwrap();
        assert_eq!(seven_detail.roc_before.auc, seven.before);
        assert_eq!(Some(seven_detail.roc_after.auc), seven.after);
        assert_eq!(seven_detail.family_after.counts.iter().sum::<u32>() as usize, seven.count);
        assert!(!seven_detail.examples.is_empty());
        assert_ne!(seven_detail.examples[0].before, seven_detail.examples[0].after);
    }

    /// The worker scores the evaluation images on its backend (maybe WebGPU) and hands the scores in.
    #[test]
    fn scores_from_another_backend_give_the_same_results_and_a_wrong_count_is_refused() {
        let digits = synthetic_digits(20, 4);
        let experiment = stage1(&digits);
        let model = experiment.trainer.model();
        let settings = aware(vec![AnomalyFamily::Blobs]);
        let on_cpu = AwarenessRun::new(&digits, &experiment, &settings).unwrap();
        let mut prepared = AwarenessRun::prepare(&digits, &experiment, &settings).unwrap();
        assert!(!prepared.is_ready());
        assert!(prepared.results_from(None).is_err(), "no table before the stage-1 scores");
        let pixels = prepared.evaluation_pixels();
        let scores = crate::score::score_rows(model, &pixels, false).unwrap().scores; // candle, not the fused scorer
        assert!(prepared.set_before(model, &scores[1..]).is_err(), "one score short");
        assert!(!prepared.is_ready());
        prepared.set_before(model, &scores).unwrap();
        assert!(prepared.is_ready());
        let (ours, theirs) = (prepared.results_from(Some(&scores)).unwrap(), on_cpu.results(Some(model)).unwrap());
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!((a.family, a.count), (b.family, b.count));
            // Same images, scores equal to float rounding: AUCs agree closely (ties may break differently).
            assert!((a.before - b.before).abs() < 1e-3 && (a.after.unwrap() - b.after.unwrap()).abs() < 1e-3, "{a:?} {b:?}");
        }
        assert!(prepared.details_from(model, &scores[..10]).is_err());
        assert_eq!(prepared.details_from(model, &scores).unwrap().len(), ours.len());
    }

    #[test]
    fn the_anomaly_term_is_bounded_by_the_margin() {
        let digits = synthetic_digits(20, 4);
        let experiment = stage1(&digits);
        let run = AwarenessRun::new(&digits, &experiment, &aware(vec![AnomalyFamily::Noise])).unwrap();
        let model = experiment.trainer.model();
        let lambda = 5.0;
        // Inverted digits reconstruct far above the margin; λ is at its maximum from the first step.
        let loss = AnomalyAwareLoss {
            vae: model.clone(),
            features: IMAGE_PIXELS,
            labelled: AnomalyFamily::Inverted.synthesise(&digits.gather_f32(&[0, 1, 2, 3]), 8, 1),
            margin: run.margin(),
            lambda_max: lambda,
            ramp_fraction: 0.0,
            batch_size: 32,
            control: false,
        };
        let normal = Tensor::from_vec(digits.gather_f32(&[0]), (1, IMAGE_PIXELS), &Device::Cpu).unwrap();
        let (mut batches, mut noise) = (SeededRng::new(1), SeededRng::new(2));
        let mut context = StepContext { step: 1, total_steps: 10, batches: &mut batches, noise: &mut noise };
        let value = loss.loss(&normal, &mut context).unwrap().to_scalar::<f32>().unwrap();
        // Rows whose error is far above the margin contribute L_VAE − λ·m: never below −λ·m.
        assert!(value >= -lambda * run.margin(), "loss {value} below the bound {}", -lambda * run.margin());
        assert!(value.is_finite());
        assert!(value < 0.0, "the anomalies' term should dominate: {value}");
    }

    #[test]
    fn every_parameter_receives_a_gradient_from_the_fine_tuning_loss() {
        let digits = synthetic_digits(20, 4);
        let experiment = stage1(&digits);
        let run = AwarenessRun::new(&digits, &experiment, &aware(vec![AnomalyFamily::Blobs])).unwrap();
        let names = ["decoder_hidden", "decoder_output", "encoder_hidden", "encoder_log_variance", "encoder_mean"];
        // `vars()` is in name order: each layer's bias, then its weight.
        let named: Vec<(String, candle_core::Var)> =
            names.iter().flat_map(|n| [format!("{n}.bias"), format!("{n}.weight")]).zip(experiment.trainer.vars()).collect();
        let normal = Tensor::from_vec(digits.gather_f32(&[0, 1, 2]), (3, IMAGE_PIXELS), &Device::Cpu).unwrap();
        let missing = crate::method::parameters_without_gradient(run.run.model(), &named, &normal, 4).unwrap();
        assert_eq!(missing, Vec::<String>::new());
    }

    #[test]
    fn lambda_ramps_from_zero_to_its_maximum() {
        let digits = synthetic_digits(20, 4);
        let experiment = stage1(&digits);
        let mut run = AwarenessRun::new(&digits, &experiment, &aware(vec![AnomalyFamily::Blobs])).unwrap();
        assert_eq!(run.lambda(), 0.0);
        let mut lambdas = Vec::new();
        while !run.is_finished() {
            lambdas.push(run.step().unwrap().lambda);
        }
        assert!(lambdas.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(run.lambda(), run.settings.lambda_max);
    }

    #[test]
    fn divergence_puts_the_stage1_weights_back() {
        let digits = synthetic_digits(20, 4);
        let experiment = stage1(&digits);
        let model = experiment.trainer.model();
        let before = crate::score::score_rows(model, &digits.gather_f32(&[0, 1]), false).unwrap().scores;
        let mut run = AwarenessRun::new(&digits, &experiment, &aware(vec![AnomalyFamily::Blobs])).unwrap();
        run.step().unwrap();
        run.run.model_mut().labelled[0] = f32::NAN; // a poisoned labelled anomaly makes the next loss NaN
        let mut diverged = false;
        for _ in 0..50 {
            if let Err(err) = run.step() {
                assert!(matches!(err, TrainError::Diverged { .. }));
                diverged = true;
                break;
            }
        }
        assert!(diverged);
        assert_eq!(crate::score::score_rows(model, &digits.gather_f32(&[0, 1]), false).unwrap().scores, before);
    }

    #[test]
    fn fewer_labelled_anomalies_than_a_multiple_of_the_families_still_show_every_family() {
        let digits = synthetic_digits(40, 4);
        let experiment = stage1(&digits);
        // Four families, five anomalies: 2, 1, 1, 1. The last family (digit 7) must not be cut off.
        let shown = vec![AnomalyFamily::Noise, AnomalyFamily::Blobs, AnomalyFamily::Occluded, AnomalyFamily::HeldOutDigit(7)];
        let settings = AwarenessSettings { shown, labelled_anomalies: 5, ..Default::default() };
        let run = AwarenessRun::new(&digits, &experiment, &settings).unwrap();
        assert_eq!(run.labelled_count(), 5);
        let split = Split::by_seed(digits.len(), experiment.settings().model.optimiser.seed);
        let first_seven = split.train.iter().copied().find(|&r| digits.label(r) == 7).unwrap();
        assert_eq!(&run.run.model().labelled[4 * IMAGE_PIXELS..], &digits.gather_f32(&[first_seven])[..]);
    }

    #[test]
    fn fewer_labelled_anomalies_than_shown_families_is_refused_with_a_reason() {
        let shown = vec![AnomalyFamily::Noise, AnomalyFamily::Blobs, AnomalyFamily::Occluded];
        let digits = TrainSettings::default();
        let two = AwarenessSettings { shown: shown.clone(), labelled_anomalies: 2, ..Default::default() };
        assert!(two.problems(&digits).iter().any(|p| p.field == "labelled_anomalies" && p.message.contains("at least 3 labelled anomalies")));
        let three = AwarenessSettings { shown, labelled_anomalies: 3, ..Default::default() };
        assert!(three.problems(&digits).is_empty());
    }

    #[test]
    fn zero_labelled_anomalies_disables_stage_two_with_a_reason() {
        let settings = AwarenessSettings { labelled_anomalies: 0, ..Default::default() };
        let problems = settings.problems(&TrainSettings::default());
        assert!(problems.iter().any(|p| p.field == "labelled_anomalies" && p.message.contains("nothing to fine-tune")));
        let normal_shown = AwarenessSettings { shown: vec![AnomalyFamily::HeldOutDigit(0)], ..Default::default() };
        assert!(normal_shown.problems(&TrainSettings::default()).iter().any(|p| p.field == "shown"));
    }
}
