//! One whole resonance hunt on the R&D v2 toy: generate the data with a number of injected signal
//! events, train the background flow on the sidebands, then the taggers asked for (ANODE, R-ANODE with w
//! learned or fixed at the truth, and the two references, supervised and idealized), and score them all on
//! an independent test set of the signal region against the optimal tagger.
//!
//! [`Hunt`] is the hunt as a sequence of fits its caller steps (the worker, in chunks between the page's
//! messages); [`hunt`] runs one to the end (the native example and `make bench-science`).

use std::time::Instant;

use super::anode::{Anode, Ranode, SignalFraction};
use super::background::{BackgroundModel, Fitting, FlowFit, ResonantRows};
use super::classifier::TrainedClassifier;
use super::rnd_v2::{self, Event, SIGNAL_REGION};
use crate::flows::MafConfig;
use crate::metrics::roc_curve;
use crate::rng::SeededRng;
use crate::sic::{sic_figures_keeping, SicFigures};
use crate::train::{Schedule, TrainError, Training};

/// Test background events a cut must keep for its SIC to count (the paper's rule).
pub const MIN_TEST_BACKGROUND: usize = 25;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HuntSettings {
    pub background_events: usize,
    pub signal_events: usize,
    pub seed: u64,
    pub background_epochs: usize,
    /// Epochs of every fit in the signal region (ANODE, R-ANODE, the classifiers).
    pub region_epochs: usize,
    pub test_background: usize,
    pub test_signal: usize,
}

impl Default for HuntSettings {
    fn default() -> Self {
        Self { background_events: 200_000, signal_events: 500, seed: 1, background_epochs: 20, region_epochs: 30, test_background: 60_000, test_signal: 20_000 }
    }
}

/// Settings a visitor's link may hold: the smallest hunt that still has a signal region and sidebands to
/// learn from, and the largest that fits in a tab's memory.
pub const BACKGROUND_EVENTS: std::ops::RangeInclusive<usize> = 20_000..=2_000_000;
pub const SIGNAL_EVENTS: std::ops::RangeInclusive<usize> = 0..=20_000;
pub const EPOCHS: std::ops::RangeInclusive<usize> = 1..=200;
pub const TEST_EVENTS: std::ops::RangeInclusive<usize> = 1_000..=500_000;

impl HuntSettings {
    /// What is out of range, as sentences; empty when the hunt can run.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |what: &str, value: usize, range: std::ops::RangeInclusive<usize>| {
            if !range.contains(&value) {
                problems.push(format!("{what} must be between {} and {} (it was {value})", range.start(), range.end()));
            }
        };
        check("The background events", self.background_events, BACKGROUND_EVENTS);
        check("The injected signal events", self.signal_events, SIGNAL_EVENTS);
        check("The background flow's epochs", self.background_epochs, EPOCHS);
        check("The signal-region epochs", self.region_epochs, EPOCHS);
        check("The test background events", self.test_background, TEST_EVENTS);
        check("The test signal events", self.test_signal, TEST_EVENTS);
        problems
    }
}

/// A tagger's figures on the test set.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Figures {
    pub max_sic: f64,
    pub max_sic_signal_efficiency: f64,
    pub auc: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HuntResults {
    pub signal_region_events: usize,
    pub injected_in_signal_region: usize,
    pub true_w: f64,
    pub learned_w: f64,
    pub closure_gap_nats: f64,
    /// Test background events outside the sidebands' widened range (no model density, left out of the gap).
    pub outside_range: usize,
    pub optimal: Figures,
    pub supervised: Figures,
    pub idealized: Figures,
    pub anode: Figures,
    pub ranode_learned: Figures,
    pub ranode_fixed: Figures,
    /// Mean seconds per epoch of the background flow.
    pub background_epoch_seconds: f64,
    pub seconds: f64,
}

/// How every flow of a hunt is trained: AdamW with a cosine schedule down to 1 % of `learning_rate`,
/// batches of 256, gradient norms clipped at 5, a fifth of the rows held out to pick the best epoch.
pub fn fit(config: MafConfig, epochs: usize, learning_rate: f64, seed: u64) -> FlowFit {
    FlowFit {
        config,
        schedule: Schedule {
            batch_size: 256,
            epochs,
            learning_rate,
            seed,
            streams: ("flow", "flow-noise"),
            weight_decay: 1e-5,
            max_gradient_norm: Some(5.0),
            final_learning_rate: Some(learning_rate / 100.0),
        },
        validation_fraction: 0.2,
    }
}

fn rows<'a>(events: impl IntoIterator<Item = &'a Event>) -> ResonantRows {
    let mut rows = ResonantRows::default();
    for e in events {
        rows.push(e.x.to_vec(), e.m_jj);
    }
    rows
}

/// How well a background model closes on R&D v2 background rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Closure {
    /// The mean of ln p_true − ln p_model, in nats, over the rows inside the sidebands' widened range.
    pub gap_nats: f64,
    pub standard_error: f64,
    /// Rows outside that range (no model density), left out of the mean.
    pub outside_range: usize,
}

pub fn closure(background: &BackgroundModel, rows: &ResonantRows) -> candle_core::Result<Closure> {
    let model_log_p = background.log_density(rows)?;
    let gaps: Vec<f64> = rows
        .features
        .iter()
        .zip(&rows.m_jj)
        .zip(&model_log_p)
        .filter(|(_, m)| m.is_finite())
        .map(|((x, &m_jj), m)| rnd_v2::log_background_density(m_jj, &[x[0], x[1], x[2], x[3]]) - m)
        .collect();
    let n = gaps.len().max(1) as f64;
    let gap_nats = gaps.iter().sum::<f64>() / n;
    let variance = gaps.iter().map(|g| (g - gap_nats).powi(2)).sum::<f64>() / n;
    Ok(Closure { gap_nats, standard_error: (variance / n).sqrt(), outside_range: model_log_p.len() - gaps.len() })
}

/// `count` signal-region events of one kind.
fn signal_region_sample(count: usize, signal: bool, rng: &mut SeededRng) -> Vec<Event> {
    let draw = if signal { rnd_v2::signal_event } else { rnd_v2::background_event };
    std::iter::repeat_with(|| draw(rng)).filter(|e| e.in_signal_region()).take(count).collect()
}

/// The taggers a hunt can train after its background flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Tagger {
    Supervised,
    Idealized,
    Anode,
    RanodeLearned,
    RanodeFixed,
}

impl Tagger {
    /// Every tagger, in the order the bench trains them.
    pub const ALL: [Tagger; 5] = [Tagger::Supervised, Tagger::Idealized, Tagger::Anode, Tagger::RanodeLearned, Tagger::RanodeFixed];

    pub fn name(self) -> &'static str {
        match self {
            Tagger::Supervised => "supervised",
            Tagger::Idealized => "idealized",
            Tagger::Anode => "ANODE",
            Tagger::RanodeLearned => "R-ANODE, w learned",
            Tagger::RanodeFixed => "R-ANODE, w fixed",
        }
    }
}

/// The data of a hunt: the toy events, split into sidebands and signal region, and the independent test
/// set of the signal region.
pub struct HuntData {
    pub events: Vec<Event>,
    pub sidebands: ResonantRows,
    pub region: ResonantRows,
    pub injected: usize,
    pub true_w: f64,
    pub test: Vec<Event>,
    pub test_rows: ResonantRows,
    pub is_signal: Vec<bool>,
}

impl HuntData {
    pub fn generate(settings: &HuntSettings) -> Self {
        let events = rnd_v2::generate(settings.background_events, settings.signal_events, settings.seed);
        let (region, sidebands): (Vec<&Event>, Vec<&Event>) = events.iter().partition(|e| e.in_signal_region());
        let injected = region.iter().filter(|e| e.signal).count();
        let true_w = injected as f64 / region.len().max(1) as f64;
        let mut rng = SeededRng::derive(settings.seed, "hunt-test");
        let mut test = signal_region_sample(settings.test_background, false, &mut rng);
        test.extend(signal_region_sample(settings.test_signal, true, &mut rng));
        let is_signal = test.iter().map(|e| e.signal).collect();
        let (sidebands, region) = (rows(sidebands), rows(region));
        let test_rows = rows(&test);
        Self { events, sidebands, region, injected, true_w, test, test_rows, is_signal }
    }

    /// A tagger's figures and SIC curve on the test set.
    pub fn figures(&self, scores: &[f64]) -> (Figures, SicFigures) {
        let scores: Vec<f32> = scores.iter().map(|&v| v.clamp(-1e30, 1e30) as f32).collect();
        let sic = sic_figures_keeping(&scores, &self.is_signal, MIN_TEST_BACKGROUND).expect("both classes are in the test set");
        let auc = roc_curve(&scores, &self.is_signal).expect("both classes are in the test set").auc;
        (Figures { max_sic: sic.max_sic, max_sic_signal_efficiency: sic.max_sic_signal_efficiency, auc }, sic)
    }
}

/// A trained tagger's figures on the test set, with its scores there.
pub struct Scored {
    pub figures: Figures,
    pub sic: SicFigures,
    pub test_scores: Vec<f64>,
}

/// The fit a hunt is in.
enum Stage {
    Background(Fitting<BackgroundModel>),
    Classifier(Tagger, Fitting<TrainedClassifier>),
    Anode(Fitting<Anode>),
    Ranode(Tagger, Fitting<Ranode>),
    Done,
}

/// What [`Hunt::advance`] just finished.
pub enum Finished {
    Background(Closure),
    Tagger(Tagger, Scored),
}

/// A hunt stepped by its caller: [`Hunt::training`] is the fit to step, and once it is finished
/// [`Hunt::advance`] scores it and starts the next, until [`Hunt::is_done`].
pub struct Hunt {
    pub settings: HuntSettings,
    pub data: HuntData,
    /// Every tagger the hunt trains, in order, and those still to start (the next one last).
    taggers: Vec<Tagger>,
    plan: Vec<Tagger>,
    stage: Stage,
    background: Option<BackgroundModel>,
    /// The trained R-ANODE model with w learned, kept for its samples and its cut.
    pub ranode_learned: Option<Ranode>,
    /// Where the reference samples are drawn from, in the order the classifiers start.
    references: SeededRng,
}

impl Hunt {
    /// Generates the data and starts the background flow; the taggers follow in `plan`'s order.
    pub fn start(settings: &HuntSettings, plan: &[Tagger]) -> Result<Self, TrainError> {
        let data = HuntData::generate(settings);
        let background = BackgroundModel::begin(&data.sidebands, &fit(CONDITIONAL, settings.background_epochs, 1e-3, settings.seed), true)?;
        Ok(Self {
            settings: settings.clone(),
            data,
            taggers: plan.to_vec(),
            plan: plan.iter().rev().copied().collect(),
            stage: Stage::Background(background),
            background: None,
            ranode_learned: None,
            references: SeededRng::derive(settings.seed, "hunt-references"),
        })
    }

    /// The names of every fit, in the order they are trained.
    pub fn fit_names(&self) -> Vec<String> {
        std::iter::once("background flow").chain(self.taggers.iter().map(|t| t.name())).map(String::from).collect()
    }

    /// The fit being trained, None once the hunt is done.
    pub fn training(&mut self) -> Option<&mut dyn Training> {
        match &mut self.stage {
            Stage::Background(f) => Some(f),
            Stage::Classifier(_, f) => Some(f),
            Stage::Anode(f) => Some(f),
            Stage::Ranode(_, f) => Some(f),
            Stage::Done => None,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// The trained background model, once its fit is finished.
    pub fn background(&self) -> Option<&BackgroundModel> {
        self.background.as_ref()
    }

    /// R-ANODE's signal fraction as it trains (None in other fits).
    pub fn current_w(&self) -> Option<f64> {
        match &self.stage {
            Stage::Ranode(_, f) => f.model().w().ok(),
            _ => None,
        }
    }

    /// When the fit in progress has finished: scores it, starts the next one and says what finished.
    /// None while the fit still has steps to take (or when the hunt is done).
    pub fn advance(&mut self) -> Result<Option<Finished>, TrainError> {
        if self.training().is_none_or(|t| !t.is_finished()) {
            return Ok(None);
        }
        self.conclude()
    }

    /// Ends the fit in progress now, finished or not (after a diverging step, whose run takes no more
    /// steps), with the weights of its best epoch so far; scores it and starts the next one.
    pub fn conclude(&mut self) -> Result<Option<Finished>, TrainError> {
        let finished = match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Background(f) => {
                let background = f.finish()?;
                let test_background = rows(self.data.test.iter().filter(|e| !e.signal));
                let closure = closure(&background, &test_background)?;
                self.background = Some(background);
                Finished::Background(closure)
            }
            Stage::Classifier(tagger, f) => {
                let scores = f.finish()?.scores(&self.scaled(&self.data.test_rows))?;
                Finished::Tagger(tagger, self.scored(scores.into_iter().map(f64::from).collect()))
            }
            Stage::Anode(f) => {
                let scores = f.finish()?.scores(self.background_model(), &self.data.test_rows)?;
                Finished::Tagger(Tagger::Anode, self.scored(scores))
            }
            Stage::Ranode(tagger, f) => {
                let ranode = f.finish()?;
                let scores = ranode.scores(self.background_model(), &self.data.test_rows)?;
                if tagger == Tagger::RanodeLearned {
                    self.ranode_learned = Some(ranode);
                }
                Finished::Tagger(tagger, self.scored(scores))
            }
            Stage::Done => return Ok(None),
        };
        self.stage = match self.plan.pop() {
            Some(next) => self.begin(next)?,
            None => Stage::Done,
        };
        Ok(Some(finished))
    }

    fn background_model(&self) -> &BackgroundModel {
        self.background.as_ref().expect("the background flow is trained before any tagger")
    }

    fn scored(&self, test_scores: Vec<f64>) -> Scored {
        let (figures, sic) = self.data.figures(&test_scores);
        Scored { figures, sic, test_scores }
    }

    /// Rows in the flows' scaled features.
    fn scaled(&self, rows: &ResonantRows) -> Vec<f32> {
        self.background_model().scaling().prepare(rows).y
    }

    fn begin(&mut self, tagger: Tagger) -> Result<Stage, TrainError> {
        let (seed, epochs) = (self.settings.seed, self.settings.region_epochs);
        let background = self.background_model();
        let signal_count = self.settings.test_signal;
        Ok(match tagger {
            Tagger::Supervised | Tagger::Idealized => {
                let classifier_fit = fit(CONDITIONAL, epochs, 1e-3, seed + 3);
                let (positives, negatives) = if tagger == Tagger::Supervised {
                    let signal = rows(&signal_region_sample(signal_count, true, &mut self.references));
                    (signal, rows(&signal_region_sample(self.settings.test_background, false, &mut self.references)))
                } else {
                    let perfect_background = signal_region_sample(3 * self.data.region.len(), false, &mut self.references);
                    (self.data.region.clone(), rows(&perfect_background))
                };
                let (positives, negatives) = (self.scaled(&positives), self.scaled(&negatives));
                Stage::Classifier(tagger, TrainedClassifier::begin(&positives, &negatives, 4, &classifier_fit)?)
            }
            Tagger::Anode => Stage::Anode(Anode::begin(background, &self.data.region, &fit(CONDITIONAL, epochs, 1e-3, seed + 1))?),
            Tagger::RanodeLearned | Tagger::RanodeFixed => {
                let fraction = if tagger == Tagger::RanodeLearned { SignalFraction::Learned(0.01) } else { SignalFraction::Fixed(self.data.true_w.max(1e-6)) };
                Stage::Ranode(tagger, Ranode::begin(background, &self.data.region, SIGNAL_REGION, &fit(SIGNAL_FLOW, epochs, 3e-3, seed + 2), fraction)?)
            }
        })
    }
}

/// The background flow and ANODE's: conditional on m_jj.
pub const fn conditional_flow(features: usize) -> MafConfig {
    MafConfig { features, context: 1, blocks: 4, hidden: 64, hidden_layers: 2, max_log_scale: 3.0 }
}

/// R-ANODE's signal flow: small, of the features and m_jj together.
pub const fn signal_flow(features: usize) -> MafConfig {
    MafConfig { features: features + 1, context: 0, blocks: 4, hidden: 32, hidden_layers: 2, max_log_scale: 3.0 }
}

const CONDITIONAL: MafConfig = conditional_flow(4);
const SIGNAL_FLOW: MafConfig = signal_flow(4);

/// Runs a whole hunt with every tagger; `progress` hears what has just finished.
pub fn hunt(settings: &HuntSettings, mut progress: impl FnMut(&str)) -> Result<HuntResults, TrainError> {
    let start = Instant::now();
    let mut run = Hunt::start(settings, &Tagger::ALL)?;
    let optimal = run.data.figures(&run.data.test.iter().map(rnd_v2::optimal_score).collect::<Vec<_>>()).0;
    let (mut background_epoch_seconds, mut closure_found, mut learned_w) = (0.0, None, f64::NAN);
    let mut figures = std::collections::HashMap::new();
    while let Some(training) = run.training() {
        let fit_start = Instant::now();
        while !training.is_finished() {
            training.step()?;
        }
        let epochs = training.epochs().max(1);
        match run.advance()?.expect("the fit is finished") {
            Finished::Background(closure) => {
                background_epoch_seconds = fit_start.elapsed().as_secs_f64() / epochs as f64;
                closure_found = Some(closure);
                progress("background flow");
            }
            Finished::Tagger(tagger, scored) => {
                if tagger == Tagger::RanodeLearned {
                    learned_w = run.ranode_learned.as_ref().expect("kept").w()?;
                }
                figures.insert(tagger, scored.figures);
                progress(tagger.name());
            }
        }
    }
    let Closure { gap_nats: closure_gap_nats, outside_range, .. } = closure_found.expect("the background flow was trained");
    Ok(HuntResults {
        signal_region_events: run.data.region.len(),
        injected_in_signal_region: run.data.injected,
        true_w: run.data.true_w,
        learned_w,
        closure_gap_nats,
        outside_range,
        optimal,
        supervised: figures[&Tagger::Supervised],
        idealized: figures[&Tagger::Idealized],
        anode: figures[&Tagger::Anode],
        ranode_learned: figures[&Tagger::RanodeLearned],
        ranode_fixed: figures[&Tagger::RanodeFixed],
        background_epoch_seconds,
        seconds: start.elapsed().as_secs_f64(),
    })
}
