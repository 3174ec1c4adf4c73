//! The resonance hunt's setup as a link and the page carry it: the visitor chooses the injected signal
//! count and the seed; the rest is the page's fixed quick hunt (200,000 background events, so every fit
//! trains in well under a minute on one core).

use anomaly_engine::resonance::hunt::HuntSettings;

pub const PAGE_BACKGROUND_EVENTS: usize = 200_000;
/// The signal-count slider: lowest, highest, step.
pub const SIGNAL_SLIDER: (usize, usize, usize) = (0, 3_000, 50);
pub const SEEDS: std::ops::RangeInclusive<u64> = 1..=1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HuntChoice {
    pub signal_events: usize,
    pub seed: u64,
}

impl Default for HuntChoice {
    fn default() -> Self {
        Self { signal_events: 500, seed: 1 }
    }
}

impl HuntChoice {
    /// The hunt the page runs for this choice.
    pub fn settings(&self) -> HuntSettings {
        HuntSettings {
            background_events: PAGE_BACKGROUND_EVENTS,
            signal_events: self.signal_events,
            seed: self.seed,
            background_epochs: 6,
            region_epochs: 12,
            test_background: 30_000,
            test_signal: 10_000,
        }
    }

    /// What is out of range, as (link key, sentence) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let (low, high, _) = SIGNAL_SLIDER;
        let mut problems = Vec::new();
        if !(low..=high).contains(&self.signal_events) {
            problems.push(("hunt.signal", format!("hunt.signal must be between {low} and {high} signal events (it was {})", self.signal_events)));
        }
        if !SEEDS.contains(&self.seed) {
            problems.push(("hunt.seed", format!("hunt.seed must be between {} and {} (it was {})", SEEDS.start(), SEEDS.end(), self.seed)));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_in_range_is_a_hunt_the_worker_accepts() {
        let (low, high, _) = SIGNAL_SLIDER;
        for signal_events in [low, 500, high] {
            for seed in [*SEEDS.start(), *SEEDS.end()] {
                let choice = HuntChoice { signal_events, seed };
                assert!(choice.problems().is_empty());
                assert!(choice.settings().problems().is_empty(), "{choice:?}");
            }
        }
        assert_eq!(HuntChoice { signal_events: 3_001, seed: 0 }.problems().len(), 2);
    }
}
