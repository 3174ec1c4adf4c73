//! What the "Resonance hunt" view draws, computed from a [`Hunt`] in the engine so that it is tested
//! natively and only small summaries cross to the page: the m_jj spectrum with the signal hidden in it,
//! the closure of the background model feature by feature, the events the signal flow imagines, and the
//! spectrum after a cut on the R-ANODE score.

use serde::{Deserialize, Serialize};

use super::background::ResonantRows;
use super::hunt::{Hunt, HuntData};
use super::rnd_v2::{Event, FEATURES, MJJ_MIN};
use crate::metrics::robust_range;
use crate::rng::SeededRng;

/// Counts in equal bins of m_jj (TeV) over [low, high): all events, and the injected signal among them
/// (the page shows the second only when the visitor reveals the truth).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MassHistogram {
    pub low: f64,
    pub high: f64,
    pub all: Vec<u32>,
    pub signal: Vec<u32>,
}

impl MassHistogram {
    pub fn of<'a>(events: impl IntoIterator<Item = &'a Event>, low: f64, high: f64, bins: usize) -> Self {
        let mut histogram = Self { low, high, all: vec![0; bins], signal: vec![0; bins] };
        for e in events {
            if let Some(bin) = bin_of(e.m_jj, low, high, bins) {
                histogram.all[bin] += 1;
                histogram.signal[bin] += e.signal as u32;
            }
        }
        histogram
    }

    /// (all events, signal events) in the bins whose centres lie in [low, high).
    pub fn counts_within(&self, low: f64, high: f64) -> (u32, u32) {
        let width = (self.high - self.low) / self.all.len().max(1) as f64;
        (0..self.all.len())
            .filter(|&k| (low..high).contains(&(self.low + (k as f64 + 0.5) * width)))
            .fold((0, 0), |(a, s), k| (a + self.all[k], s + self.signal[k]))
    }
}

fn bin_of(value: f64, low: f64, high: f64, bins: usize) -> Option<usize> {
    let t = (value - low) / (high - low);
    (0.0..1.0).contains(&t).then(|| ((t * bins as f64) as usize).min(bins - 1))
}

/// The spectrum the view opens with: 2.6 to 6 TeV in 0.1 TeV bins (few events lie above).
pub fn spectrum(data: &HuntData) -> MassHistogram {
    MassHistogram::of(&data.events, MJJ_MIN, 6.0, 34)
}

/// One feature in the signal region: the share of events in each bin for the data, for the background
/// model (one draw from p_B(x | m) at each data event's m_jj) and for the true background.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureClosure {
    pub feature: String,
    pub low: f64,
    pub high: f64,
    pub data: Vec<f64>,
    pub model: Vec<f64>,
    pub truth: Vec<f64>,
}

const CLOSURE_BINS: usize = 30;

/// The closure panel, one entry per feature; empty until the background flow is trained.
pub fn closure_panel(hunt: &Hunt, seed: u64) -> candle_core::Result<Vec<FeatureClosure>> {
    let Some(background) = hunt.background() else { return Ok(Vec::new()) };
    let data = &hunt.data.region;
    let model = background.sample(&data.m_jj, &mut SeededRng::derive(seed, "closure-samples"))?;
    let truth: Vec<&Event> = hunt.data.test.iter().filter(|e| !e.signal).collect();
    Ok(FEATURES
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let values = |rows: &ResonantRows| -> Vec<f64> { rows.features.iter().map(|x| x[k]).collect() };
            let data_values = values(data);
            let (low, high) = robust_range(&data_values.iter().map(|&v| v as f32).collect::<Vec<_>>());
            let (low, high) = (low as f64, high as f64);
            let shares = |v: &[f64]| shares(v.iter().copied(), low, high, CLOSURE_BINS);
            FeatureClosure {
                feature: name.to_string(),
                low,
                high,
                data: shares(&data_values),
                model: shares(&values(&model)),
                truth: shares(&truth.iter().map(|e| e.x[k]).collect::<Vec<_>>()),
            }
        })
        .collect())
}

/// The share of `values` in each of `bins` equal bins over [low, high) (values outside count in the total).
fn shares(values: impl Iterator<Item = f64>, low: f64, high: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0.0; bins];
    let mut total = 0.0;
    for v in values {
        total += 1.0;
        if let Some(bin) = bin_of(v, low, high, bins) {
            counts[bin] += 1.0;
        }
    }
    counts.iter().map(|c| c / f64::max(total, 1.0)).collect()
}

/// Jet masses (GeV) of events: the lighter jet's and the heavier's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JetMasses {
    pub lighter: Vec<f32>,
    pub heavier: Vec<f32>,
}

impl JetMasses {
    fn of(rows: &ResonantRows) -> Self {
        let gev = |v: f64| (v * 1000.0) as f32;
        Self {
            lighter: rows.features.iter().map(|x| gev(x[0])).collect(),
            heavier: rows.features.iter().map(|x| gev(x[0] + x[1])).collect(),
        }
    }
}

/// Events drawn from R-ANODE's signal flow (w learned), and as many true signal events for the reveal.
pub fn signal_samples(hunt: &Hunt, count: usize, seed: u64) -> candle_core::Result<Option<(JetMasses, JetMasses)>> {
    let (Some(ranode), Some(background)) = (&hunt.ranode_learned, hunt.background()) else { return Ok(None) };
    let drawn = ranode.sample(background, count, &mut SeededRng::derive(seed, "signal-samples"))?;
    let mut truth = ResonantRows::default();
    for e in hunt.data.test.iter().filter(|e| e.signal).take(count) {
        truth.push(e.x.to_vec(), e.m_jj);
    }
    Ok(Some((JetMasses::of(&drawn), JetMasses::of(&truth))))
}

/// The m_jj spectrum near the signal region before and after a cut on the R-ANODE score (w learned) that
/// keeps `background_efficiency` of the test set's signal-region background.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AfterCut {
    pub background_efficiency: f64,
    pub threshold: f64,
    pub before: MassHistogram,
    pub after: MassHistogram,
}

/// Where the after-cut spectrum is drawn: the signal region with a sideband on each side.
pub const CUT_WINDOW: (f64, f64) = (2.9, 4.3);

pub fn after_cut(hunt: &Hunt, test_scores: &[f64], background_efficiency: f64) -> candle_core::Result<Option<AfterCut>> {
    let (Some(ranode), Some(background)) = (&hunt.ranode_learned, hunt.background()) else { return Ok(None) };
    let threshold = threshold_keeping(test_scores, &hunt.data.is_signal, background_efficiency);
    let window: Vec<&Event> = hunt.data.events.iter().filter(|e| (CUT_WINDOW.0..CUT_WINDOW.1).contains(&e.m_jj)).collect();
    let mut rows = ResonantRows::default();
    for e in &window {
        rows.push(e.x.to_vec(), e.m_jj);
    }
    let scores = ranode.scores(background, &rows)?;
    let bins = ((CUT_WINDOW.1 - CUT_WINDOW.0) / 0.05).round() as usize;
    let before = MassHistogram::of(window.iter().copied(), CUT_WINDOW.0, CUT_WINDOW.1, bins);
    let passing = window.iter().zip(&scores).filter(|(_, &s)| s >= threshold).map(|(e, _)| *e);
    Ok(Some(AfterCut { background_efficiency, threshold, before, after: MassHistogram::of(passing, CUT_WINDOW.0, CUT_WINDOW.1, bins) }))
}

/// The score at or above which `efficiency` of the background rows (not signal) lie.
fn threshold_keeping(scores: &[f64], is_signal: &[bool], efficiency: f64) -> f64 {
    let mut background: Vec<f64> = scores.iter().zip(is_signal).filter(|(_, &s)| !s).map(|(&v, _)| v).collect();
    background.sort_by(|a, b| b.total_cmp(a));
    let keep = ((background.len() as f64 * efficiency).round() as usize).clamp(1, background.len().max(1));
    background.get(keep - 1).copied().unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_count_each_event_once_and_signal_apart() {
        let event = |m_jj, signal| Event { m_jj, x: [0.1, 0.1, 0.5, 0.5], signal };
        let events = [event(2.65, false), event(3.5, true), event(3.52, false), event(9.0, false)];
        let h = MassHistogram::of(&events, 2.6, 6.0, 34);
        assert_eq!(h.all.iter().sum::<u32>(), 3, "the event above the range is not drawn");
        assert_eq!((h.all[0], h.all[9], h.signal[9], h.signal.iter().sum::<u32>()), (1, 2, 1, 1));
        assert_eq!(h.counts_within(3.3, 3.7), (2, 1));
        assert_eq!(h.counts_within(2.6, 6.0), (3, 1));
    }

    #[test]
    fn the_threshold_keeps_the_asked_share_of_background() {
        let scores: Vec<f64> = (0..1000).map(|i| i as f64).chain([5000.0, 6000.0]).collect();
        let mut is_signal = vec![false; 1000];
        is_signal.extend([true, true]);
        let t = threshold_keeping(&scores, &is_signal, 0.01);
        assert_eq!(t, 990.0);
        let kept = scores.iter().zip(&is_signal).filter(|(&s, &sig)| !sig && s >= t).count();
        assert_eq!(kept, 10);
    }

    #[test]
    fn shares_sum_to_the_share_inside_the_range() {
        let s = shares([0.1, 0.2, 0.9, 5.0].into_iter(), 0.0, 1.0, 10);
        assert!((s.iter().sum::<f64>() - 0.75).abs() < 1e-12);
        assert_eq!(robust_range(&[1.0, 1.0]), (0.5, 1.5));
    }
}
