//! The page's AnomalyCLR study: background events to train on, test events of the background and of
//! each signal, then three fits in turn, stepped by the caller like the jet study: the encoder (with
//! AnomalyCLR's loss), the autoencoder on the raw inputs (the paper's baseline), and the autoencoder on
//! the background's representations. [`Study::advance`] moves on when a fit has finished; after the last
//! it scores the test events into [`Study::result`].

use thiserror::Error;

use super::augment::{anomalous_of, physical, AnomalyKinds};
use super::clr::{ClrSettings, ClrTraining, RowScorer, ScorerTraining, TrainedEncoder, Variant};
use super::encoder::{EncoderConfig, EncoderKind};
use super::panels::{Similarities, StudyIntro, StudyResult};
use super::toy::{background, generate};
use super::{Event, Process, FEATURES_PER_SLOT, SLOTS};
use crate::rng::SeededRng;
use crate::train::{Schedule, TrainError, Training};

/// Bounds a visitor's settings are held to: enough events for an AUC to mean something, few enough
/// that a phone keeps them (and their copies) in memory.
pub const MIN_EVENTS: usize = 256;
pub const MAX_TRAIN_EVENTS: usize = 50_000;
pub const MAX_TEST_EVENTS: usize = 20_000;
/// Background events whose similarity to their copies the page follows during training.
pub const PROBE_EVENTS: usize = 256;

#[derive(Clone, Debug, Error, PartialEq)]
pub enum StudyError {
    #[error("the study's settings cannot be used: {0}")]
    Settings(String),
    #[error(transparent)]
    Train(#[from] TrainError),
}

impl From<candle_core::Error> for StudyError {
    fn from(err: candle_core::Error) -> Self {
        StudyError::Train(TrainError::from(err))
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudySettings {
    /// Background events the encoder and both autoencoders train on.
    pub train_events: usize,
    /// Test events of the background, and of each signal.
    pub test_events: usize,
    pub encoder: EncoderConfig,
    pub variant: Variant,
    pub anomalies: AnomalyKinds,
    pub temperature: f64,
    /// Epochs of the encoder.
    pub epochs: usize,
    /// Epochs of each scoring autoencoder.
    pub scorer_epochs: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for StudySettings {
    /// About half a minute of training natively, about a minute in a browser on one core.
    fn default() -> Self {
        Self {
            train_events: 6_000,
            test_events: 1_000,
            encoder: EncoderConfig::default(),
            variant: Variant::AnomalyClr,
            anomalies: AnomalyKinds::DEFAULT,
            temperature: 0.1,
            epochs: 4,
            scorer_epochs: 10,
            learning_rate: 1e-3,
            seed: 1,
        }
    }
}

impl StudySettings {
    /// Every reason these settings cannot be used, as sentences a visitor can act on.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(MIN_EVENTS..=MAX_TRAIN_EVENTS).contains(&self.train_events) {
            problems.push(format!("the training events must be between {MIN_EVENTS} and {MAX_TRAIN_EVENTS}, not {}", self.train_events));
        }
        if !(MIN_EVENTS..=MAX_TEST_EVENTS).contains(&self.test_events) {
            problems.push(format!("the test events must be between {MIN_EVENTS} and {MAX_TEST_EVENTS}, not {}", self.test_events));
        }
        if self.variant != Variant::PhysicalOnly && !self.anomalies.any() {
            problems.push("switch on at least one anomalous augmentation (adding objects, splitting them or scaling momenta), or train with physical augmentations only".to_string());
        }
        if !(self.temperature.is_finite() && (0.01..=10.0).contains(&self.temperature)) {
            problems.push(format!("the temperature must be between 0.01 and 10, not {}", self.temperature));
        }
        if self.epochs == 0 || self.scorer_epochs == 0 {
            problems.push("train for at least one epoch".to_string());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            problems.push(format!("the learning rate must be above 0 and at most 1, not {}", self.learning_rate));
        }
        let e = self.encoder;
        let sizes_fit = e.width > 0 && e.output > 0 && e.feed_forward > 0 && (e.kind == EncoderKind::DeepSets || (e.heads > 0 && e.layers > 0 && e.width % e.heads == 0));
        if !sizes_fit || e.width > 256 || e.output > 256 || e.feed_forward > 1024 || e.layers > 8 {
            problems.push("the encoder's sizes do not fit together: its width must divide into its heads, and no size may be zero or larger than the page allows".to_string());
        }
        problems
    }

    fn clr_settings(&self) -> ClrSettings {
        ClrSettings {
            encoder: self.encoder,
            variant: self.variant,
            anomalies: self.anomalies,
            temperature: self.temperature,
            schedule: Schedule {
                epochs: self.epochs,
                learning_rate: self.learning_rate,
                seed: self.seed,
                ..ClrSettings::default().schedule
            },
        }
    }
}

/// The three fits, in the order they train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Phase {
    Encoder,
    RawScorer,
    ClrScorer,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::Encoder, Phase::RawScorer, Phase::ClrScorer];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Encoder => "the encoder, learning representations",
            Phase::RawScorer => "the autoencoder on the raw objects",
            Phase::ClrScorer => "the autoencoder on the representations",
        }
    }
}

enum Fit {
    Encoder(ClrTraining),
    Raw(ScorerTraining),
    Clr(ScorerTraining),
}

/// Fixed background events with fixed copies, to follow how similar the encoder finds each event to
/// its physical and to its anomalous copy.
pub struct Probe {
    pub events: Vec<Event>,
    pub physical: Vec<Event>,
    pub anomalous: Vec<Event>,
}

impl Probe {
    /// From the toy's own background, or from the first of a file's test background events.
    fn new(settings: &StudySettings, test_background: &[Event]) -> Self {
        let toy = test_background.first().is_some_and(|e| e.process.is_some());
        let events = if toy { background(PROBE_EVENTS, settings.seed + 2_000) } else { test_background.iter().take(PROBE_EVENTS).cloned().collect() };
        let mut rng = SeededRng::derive(settings.seed, "clr-probe");
        let physical = events.iter().map(|e| physical(e, &mut rng)).collect();
        let kinds = if settings.anomalies.any() { settings.anomalies } else { AnomalyKinds::DEFAULT };
        let anomalous = events.iter().map(|e| anomalous_of(e, &mut rng, kinds)).collect();
        Self { events, physical, anomalous }
    }
}

/// A kind of signal to judge the scores on: its name on the page, its key (for element ids) and its
/// test events.
#[derive(Clone, Debug, PartialEq)]
pub struct TestGroup {
    pub name: String,
    pub key: String,
    pub events: Vec<Event>,
}

/// What a study learns from and is judged on: background events to train on, background test events,
/// and test events of each kind of signal.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyData {
    pub train: Vec<Event>,
    pub test_background: Vec<Event>,
    pub test_signals: Vec<TestGroup>,
    /// Where the events come from, for the page ("the toy", or the file's name).
    pub source: String,
}

impl StudyData {
    /// The toy's events for these settings: the background mix, and each of [`Process::SIGNALS`].
    pub fn toy(settings: &StudySettings) -> Self {
        let seed = settings.seed;
        Self {
            train: background(settings.train_events, seed),
            test_background: background(settings.test_events, seed + 500),
            test_signals: Process::SIGNALS
                .iter()
                .map(|&s| TestGroup { name: s.name().to_string(), key: s.key().to_string(), events: generate(s, settings.test_events, seed + 500) })
                .collect(),
            source: "the toy".to_string(),
        }
    }
}

pub struct Study {
    pub settings: StudySettings,
    pub train: Vec<Event>,
    pub test_background: Vec<Event>,
    pub test_signals: Vec<TestGroup>,
    pub source: String,
    pub probe: Probe,
    fit: Option<Fit>,
    encoder: Option<TrainedEncoder>,
    raw: Option<RowScorer>,
    parameters: usize,
    pub result: Option<StudyResult>,
}

/// The raw inputs of events as rows for the baseline autoencoder.
pub fn raw_rows(events: &[Event]) -> Vec<f32> {
    events.iter().flat_map(|e| e.features()).collect()
}

impl Study {
    /// Generates the toy's events and starts the encoder.
    pub fn start(settings: &StudySettings) -> Result<Self, StudyError> {
        if let Some(first) = settings.problems().first() {
            return Err(StudyError::Settings(first.clone()));
        }
        Self::start_on(settings, StudyData::toy(settings))
    }

    /// Starts the encoder on given events (a visitor's file); the settings' event counts are not used.
    pub fn start_on(settings: &StudySettings, data: StudyData) -> Result<Self, StudyError> {
        let mut checked = settings.clone();
        (checked.train_events, checked.test_events) = (MIN_EVENTS, MIN_EVENTS);
        if let Some(first) = checked.problems().first() {
            return Err(StudyError::Settings(first.clone()));
        }
        if data.train.is_empty() || data.test_background.is_empty() || data.test_signals.iter().all(|g| g.events.is_empty()) {
            return Err(StudyError::Settings("there are no background events to learn from, or none to judge with".into()));
        }
        let encoder = ClrTraining::new(data.train.clone(), &settings.clr_settings())?;
        let parameters = encoder.parameters();
        let probe = Probe::new(settings, &data.test_background);
        Ok(Self {
            settings: settings.clone(),
            test_background: data.test_background,
            test_signals: data.test_signals.into_iter().filter(|g| !g.events.is_empty()).collect(),
            source: data.source,
            probe,
            train: data.train,
            fit: Some(Fit::Encoder(encoder)),
            encoder: None,
            raw: None,
            parameters,
            result: None,
        })
    }

    /// The encoder's trainable parameters.
    pub fn parameters(&self) -> usize {
        self.parameters
    }

    pub fn intro(&self) -> StudyIntro {
        StudyIntro::of(self)
    }

    pub fn phase(&self) -> Option<Phase> {
        self.fit.as_ref().map(|fit| match fit {
            Fit::Encoder(_) => Phase::Encoder,
            Fit::Raw(_) => Phase::RawScorer,
            Fit::Clr(_) => Phase::ClrScorer,
        })
    }

    /// The fit being trained, None once the study is done.
    pub fn training(&mut self) -> Option<&mut dyn Training> {
        self.fit.as_mut().map(|fit| match fit {
            Fit::Encoder(t) => t.training(),
            Fit::Raw(t) | Fit::Clr(t) => t.training(),
        })
    }

    pub fn is_done(&self) -> bool {
        self.fit.is_none()
    }

    /// How similar the encoder, as it is now, finds the probe events to their copies; `epoch` labels it.
    pub fn similarities(&self, epoch: usize) -> Result<Similarities, StudyError> {
        let encoder = match (&self.fit, &self.encoder) {
            (Some(Fit::Encoder(t)), _) => t.encoder(),
            (_, Some(trained)) => trained.encoder(),
            _ => return Err(StudyError::Settings("there is no encoder yet".into())),
        };
        Ok(Similarities::of(encoder, &self.probe, epoch)?)
    }

    /// When the fit in progress has finished: ends it, starts the next one and returns the phase that
    /// ended. None while it still has steps to take (or once the study is done).
    pub fn advance(&mut self) -> Result<Option<Phase>, StudyError> {
        if self.training().is_none_or(|t| !t.is_finished()) {
            return Ok(None);
        }
        self.conclude()
    }

    /// Ends the fit in progress now, finished or not (after a diverging step it keeps its last good
    /// weights), and starts the next; after the last, scores the test events.
    pub fn conclude(&mut self) -> Result<Option<Phase>, StudyError> {
        let (seed, epochs) = (self.settings.seed, self.settings.scorer_epochs);
        let Some(fit) = self.fit.take() else { return Ok(None) };
        Ok(Some(match fit {
            Fit::Encoder(training) => {
                self.encoder = Some(training.finish());
                self.fit = Some(Fit::Raw(ScorerTraining::begin(&raw_rows(&self.train), SLOTS * FEATURES_PER_SLOT, seed, epochs)?));
                Phase::Encoder
            }
            Fit::Raw(training) => {
                self.raw = Some(training.finish());
                let encoder = self.encoder.as_ref().expect("the encoder trained first");
                let representations = encoder.represent(&self.train)?;
                self.fit = Some(Fit::Clr(ScorerTraining::begin(&representations, self.settings.encoder.output, seed, epochs)?));
                Phase::RawScorer
            }
            Fit::Clr(training) => {
                let (encoder, raw) = (self.encoder.as_ref().expect("the encoder trained first"), self.raw.as_ref().expect("the baseline trained second"));
                self.result = Some(StudyResult::of(self, encoder.encoder(), raw, &training.finish())?);
                Phase::ClrScorer
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> StudySettings {
        StudySettings {
            train_events: 256,
            test_events: 256,
            encoder: EncoderConfig { width: 8, heads: 2, layers: 1, feed_forward: 16, output: 8, ..EncoderConfig::default() },
            epochs: 2,
            scorer_epochs: 2,
            ..StudySettings::default()
        }
    }

    #[test]
    fn a_study_trains_its_three_fits_in_order_and_scores_every_signal() {
        let mut study = Study::start(&quick()).unwrap();
        let before = study.similarities(0).unwrap();
        assert_eq!(before.physical.counts.iter().sum::<u32>() as usize, PROBE_EVENTS);
        let mut ended = Vec::new();
        while let Some(training) = study.training() {
            training.step().unwrap();
            if let Some(phase) = study.advance().unwrap() {
                ended.push(phase);
            }
        }
        assert_eq!(ended, Phase::ALL);
        let result = study.result.as_ref().unwrap();
        assert_eq!(result.signals.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), Process::SIGNALS.map(Process::key));
        for figures in &result.signals {
            for auc in [figures.auc_raw, figures.auc_clr] {
                assert!((0.0..=1.0).contains(&auc), "{figures:?}");
            }
            assert!(figures.inv_eps_b_clr >= 1.0 && figures.inv_eps_b_raw >= 1.0);
        }
        assert!(result.map.points.len() > 100 && result.map.points.iter().any(|p| p.2 > 0));
        assert!(study.similarities(9).is_ok(), "the trained encoder still answers");
        assert!(study.advance().unwrap().is_none());
    }

    #[test]
    fn bad_settings_are_named_one_sentence_each() {
        let bad = StudySettings {
            train_events: 10,
            anomalies: AnomalyKinds::NONE,
            temperature: 0.0,
            encoder: EncoderConfig { heads: 3, ..EncoderConfig::default() },
            ..StudySettings::default()
        };
        let problems = bad.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[1].starts_with("switch on at least one anomalous augmentation"), "{problems:?}");
        assert!(matches!(Study::start(&bad), Err(StudyError::Settings(_))));
        assert!(StudySettings { variant: Variant::PhysicalOnly, anomalies: AnomalyKinds::NONE, ..StudySettings::default() }.problems().is_empty());
        assert!(StudySettings::default().problems().is_empty());
    }

    #[test]
    fn concluding_early_keeps_the_partial_encoder_and_moves_on() {
        let mut study = Study::start(&quick()).unwrap();
        study.training().unwrap().step().unwrap();
        assert_eq!(study.conclude().unwrap(), Some(Phase::Encoder));
        assert_eq!(study.phase(), Some(Phase::RawScorer));
        assert_eq!(study.training().unwrap().steps_done(), 0);
    }
}
