//! One whole resonance hunt on the R&D v2 toy: generate the data with a number of injected signal
//! events, train the background flow on the sidebands, then ANODE, R-ANODE (w learned and w fixed at the
//! truth) and the two references (supervised, idealized), and score them all on an independent test set
//! of the signal region against the optimal tagger. The native example, `make bench-science` and, later,
//! the page's view run the same function.

use std::time::Instant;

use super::anode::{Anode, Ranode, SignalFraction};
use super::background::{BackgroundModel, EpochReport, FlowFit, ResonantRows};
use super::classifier::TrainedClassifier;
use super::rnd_v2::{self, Event};
use crate::flows::MafConfig;
use crate::metrics::roc_curve;
use crate::rng::SeededRng;
use crate::sic::sic_figures_keeping;
use crate::train::{Schedule, TrainError};

/// Test background events a cut must keep for its SIC to count (the paper's rule).
pub const MIN_TEST_BACKGROUND: usize = 25;

#[derive(Clone, Debug, PartialEq)]
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

/// A tagger's figures on the test set.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
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

fn fit(config: MafConfig, epochs: usize, learning_rate: f64, seed: u64) -> FlowFit {
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

/// Runs the hunt; `progress` hears what has just finished.
pub fn hunt(settings: &HuntSettings, mut progress: impl FnMut(&str)) -> Result<HuntResults, TrainError> {
    let start = Instant::now();
    let seed = settings.seed;
    let data = rnd_v2::generate(settings.background_events, settings.signal_events, seed);
    let (sidebands, region): (Vec<&Event>, Vec<&Event>) = data.iter().partition(|e| !e.in_signal_region());
    let injected = region.iter().filter(|e| e.signal).count();
    let true_w = injected as f64 / region.len().max(1) as f64;
    let mut rng = SeededRng::derive(seed, "hunt-test");
    let mut test = signal_region_sample(settings.test_background, false, &mut rng);
    test.extend(signal_region_sample(settings.test_signal, true, &mut rng));
    let is_signal: Vec<bool> = test.iter().map(|e| e.signal).collect();
    let test_rows = rows(&test);
    let figures = |scores: &[f64]| -> Figures {
        let scores: Vec<f32> = scores.iter().map(|&v| v.clamp(-1e30, 1e30) as f32).collect();
        let sic = sic_figures_keeping(&scores, &is_signal, MIN_TEST_BACKGROUND).expect("both classes are in the test set");
        let auc = roc_curve(&scores, &is_signal).expect("both classes are in the test set").auc;
        Figures { max_sic: sic.max_sic, max_sic_signal_efficiency: sic.max_sic_signal_efficiency, auc }
    };

    let conditional = MafConfig { features: 4, context: 1, blocks: 4, hidden: 64, hidden_layers: 2, max_log_scale: 3.0 };
    let background_start = Instant::now();
    let mut epochs = 0;
    let background = BackgroundModel::train(&rows(sidebands), &fit(conditional, settings.background_epochs, 1e-3, seed), |_: EpochReport| epochs += 1)?;
    let background_epoch_seconds = background_start.elapsed().as_secs_f64() / epochs.max(1) as f64;
    progress("background flow");
    let Closure { gap_nats: closure_gap_nats, outside_range, .. } = closure(&background, &rows(test.iter().filter(|e| !e.signal)))?;

    let optimal = figures(&test.iter().map(rnd_v2::optimal_score).collect::<Vec<_>>());
    let scaled = |events: &[&Event]| -> Vec<f32> { background.scaling().prepare(&rows(events.iter().copied())).y };
    let test_scaled = scaled(&test.iter().collect::<Vec<_>>());
    let classifier_fit = fit(MafConfig { hidden: 64, ..conditional }, settings.region_epochs, 1e-3, seed + 3);
    let mut references = SeededRng::derive(seed, "hunt-references");
    let labelled_signal = signal_region_sample(settings.test_signal, true, &mut references);
    let labelled_background = signal_region_sample(settings.test_background, false, &mut references);
    let supervised = TrainedClassifier::train(
        &scaled(&labelled_signal.iter().collect::<Vec<_>>()),
        &scaled(&labelled_background.iter().collect::<Vec<_>>()),
        4,
        &classifier_fit,
        |_| {},
    )?;
    let supervised = figures(&supervised.scores(&test_scaled)?.into_iter().map(f64::from).collect::<Vec<_>>());
    progress("supervised");
    let perfect_background = signal_region_sample(3 * region.len(), false, &mut references);
    let idealized = TrainedClassifier::train(&scaled(&region), &scaled(&perfect_background.iter().collect::<Vec<_>>()), 4, &classifier_fit, |_| {})?;
    let idealized = figures(&idealized.scores(&test_scaled)?.into_iter().map(f64::from).collect::<Vec<_>>());
    progress("idealized");

    let region_rows = rows(region.iter().copied());
    let anode = Anode::train(&background, &region_rows, &fit(conditional, settings.region_epochs, 1e-3, seed + 1), |_| {})?;
    let anode = figures(&anode.scores(&background, &test_rows)?);
    progress("ANODE");
    let signal_flow = MafConfig { features: 5, context: 0, blocks: 4, hidden: 32, hidden_layers: 2, max_log_scale: 3.0 };
    let ranode_fit = fit(signal_flow, settings.region_epochs, 3e-3, seed + 2);
    let learned = Ranode::train(&background, &region_rows, &ranode_fit, SignalFraction::Learned(0.01), |_| {})?;
    let learned_w = learned.w()?;
    let ranode_learned = figures(&learned.scores(&background, &test_rows)?);
    progress("R-ANODE, w learned");
    let fixed = Ranode::train(&background, &region_rows, &ranode_fit, SignalFraction::Fixed(true_w.max(1e-6)), |_| {})?;
    let ranode_fixed = figures(&fixed.scores(&background, &test_rows)?);
    progress("R-ANODE, w fixed");
    Ok(HuntResults {
        signal_region_events: region.len(),
        injected_in_signal_region: injected,
        true_w,
        learned_w,
        closure_gap_nats,
        outside_range,
        optimal,
        supervised,
        idealized,
        anode,
        ranode_learned,
        ranode_fixed,
        background_epoch_seconds,
        seconds: start.elapsed().as_secs_f64(),
    })
}
