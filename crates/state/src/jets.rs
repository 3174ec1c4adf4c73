//! The jet-image study's setup as a link and the page carry it: which autoencoder, the intensity
//! exponent κ tried beside κ = 1, how many training jets of each class, and the seed. The rest is the
//! page's fixed quick study (2,000 test jets per class; epochs per architecture), sized so the dense
//! study trains its four models in well under a minute on one core.

use anomaly_engine::jets::study::StudySettings;
use anomaly_engine::models::Architecture;

/// The κ slider: lowest, highest, step. κ = 1 always trains too, as the reference.
pub const KAPPA_SLIDER: (f64, f64, f64) = (0.05, 2.0, 0.05);
/// The training-jets slider (per class): lowest, highest, step.
pub const TRAIN_SLIDER: (usize, usize, usize) = (1_000, 10_000, 1_000);
pub const TEST_JETS: usize = 2_000;
pub const SEEDS: std::ops::RangeInclusive<u64> = 1..=1_000_000;

/// The two autoencoders the page offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JetModel {
    #[default]
    Dense,
    Conv,
}

impl JetModel {
    pub const ALL: [JetModel; 2] = [JetModel::Dense, JetModel::Conv];

    pub fn key(self) -> &'static str {
        match self {
            JetModel::Dense => "dense",
            JetModel::Conv => "conv",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    pub fn architecture(self) -> Architecture {
        match self {
            JetModel::Dense => Architecture::DENSE,
            JetModel::Conv => Architecture::CONV,
        }
    }

    /// Epochs of each direction: the convolutional model costs about ten times more per jet on the CPU,
    /// so it trains for fewer.
    pub fn epochs(self) -> usize {
        match self {
            JetModel::Dense => 10,
            JetModel::Conv => 4,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JetChoice {
    pub model: JetModel,
    pub kappa: f64,
    pub train_jets: usize,
    pub seed: u64,
}

impl Default for JetChoice {
    fn default() -> Self {
        // κ = 0.1: close to the best of the dense bench (0.05) and a round number to explain.
        Self { model: JetModel::Dense, kappa: 0.1, train_jets: 4_000, seed: 1 }
    }
}

impl JetChoice {
    /// The values of κ the study trains, κ = 1 first.
    pub fn kappas(&self) -> Vec<f64> {
        if self.kappa == 1.0 { vec![1.0] } else { vec![1.0, self.kappa] }
    }

    /// The study the page runs for this choice.
    pub fn settings(&self) -> StudySettings {
        StudySettings {
            train_jets: self.train_jets,
            test_jets: TEST_JETS,
            architecture: self.model.architecture(),
            kappas: self.kappas(),
            epochs: self.model.epochs(),
            learning_rate: 1e-3,
            seed: self.seed,
        }
    }

    /// What is out of range, as (link key, sentence) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let (low, high, _) = KAPPA_SLIDER;
        let mut problems = Vec::new();
        if !(self.kappa.is_finite() && self.kappa > 0.0 && self.kappa <= high) {
            problems.push(("jets.kappa", format!("jets.kappa must be above 0 and at most {high} (the slider goes from {low}; it was {})", self.kappa)));
        }
        let (low, high, _) = TRAIN_SLIDER;
        if !(low..=high).contains(&self.train_jets) {
            problems.push(("jets.train", format!("jets.train must be between {low} and {high} jets (it was {})", self.train_jets)));
        }
        if !SEEDS.contains(&self.seed) {
            problems.push(("jets.seed", format!("jets.seed must be between {} and {} (it was {})", SEEDS.start(), SEEDS.end(), self.seed)));
        }
        problems
    }

    /// Puts the field a problem names back to its default.
    pub fn reset(&mut self, key: &str) {
        let default = Self::default();
        match key {
            "jets.kappa" => self.kappa = default.kappa,
            "jets.train" => self.train_jets = default.train_jets,
            "jets.seed" => self.seed = default.seed,
            _ => self.model = default.model,
        }
    }

    /// The choice as link pairs.
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [("jets.model", self.model.key().to_string()), ("jets.kappa", self.kappa.to_string()), ("jets.train", self.train_jets.to_string()), ("jets.seed", self.seed.to_string())]
    }

    /// Reads one link pair; false when the value does not parse (the range is checked by [`problems`]).
    pub fn read(&mut self, key: &str, value: &str) -> bool {
        match key {
            "jets.model" => JetModel::from_key(value).map(|m| self.model = m).is_some(),
            "jets.kappa" => value.parse().map(|v| self.kappa = v).is_ok(),
            "jets.train" => value.parse().map(|v| self.train_jets = v).is_ok(),
            "jets.seed" => value.parse().map(|v| self.seed = v).is_ok(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_in_range_is_a_study_the_engine_accepts() {
        let (k_low, k_high, _) = KAPPA_SLIDER;
        let (t_low, t_high, _) = TRAIN_SLIDER;
        for model in JetModel::ALL {
            for kappa in [k_low, 1.0, k_high] {
                for train_jets in [t_low, t_high] {
                    let choice = JetChoice { model, kappa, train_jets, seed: *SEEDS.end() };
                    assert!(choice.problems().is_empty(), "{choice:?}");
                    assert_eq!(choice.settings().problems(), Vec::<String>::new(), "{choice:?}");
                }
            }
        }
    }

    #[test]
    fn kappa_one_trains_once_and_any_other_kappa_beside_it() {
        assert_eq!(JetChoice { kappa: 1.0, ..JetChoice::default() }.kappas(), [1.0]);
        assert_eq!(JetChoice::default().kappas(), [1.0, 0.1]);
    }

    #[test]
    fn out_of_range_values_are_named_and_reset() {
        let mut choice = JetChoice { kappa: 0.0, train_jets: 5, seed: 0, ..JetChoice::default() };
        let problems = choice.problems();
        assert_eq!(problems.iter().map(|p| p.0).collect::<Vec<_>>(), ["jets.kappa", "jets.train", "jets.seed"]);
        assert!(problems[0].1.starts_with("jets.kappa must be above 0"), "{}", problems[0].1);
        for (key, _) in problems {
            choice.reset(key);
        }
        assert_eq!(choice, JetChoice::default());
        assert!(!choice.read("jets.kappa", "NaN!"));
        assert!(choice.read("jets.kappa", "NaN") && !choice.problems().is_empty(), "NaN parses but is out of range");
    }

    #[test]
    fn pairs_read_back_to_the_same_choice() {
        let choice = JetChoice { model: JetModel::Conv, kappa: 0.35, train_jets: 7_000, seed: 42 };
        let mut read = JetChoice::default();
        for (key, value) in choice.pairs() {
            assert!(read.read(key, &value), "{key}={value}");
        }
        assert_eq!(read, choice);
    }
}
