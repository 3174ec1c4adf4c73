//! The visitor's training settings, with the ranges the form enforces.

mod model;
mod number;

use serde::{Deserialize, Serialize};

pub use model::{ModelSettings, OptimiserSettings, VaeSettings, MODEL_SETTINGS, OPTIMISER_SETTINGS, VAE_SETTINGS};
pub use number::{parse_into, NumberSetting};

/// Everything that determines a digit run: which digits are normal, and the model with its training.
/// Same settings + same seed + same build = same numbers. Serialised flat (one object with every field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Digits treated as normal (trained on); every other digit is an anomaly.
    pub normal_digits: Vec<u8>,
    #[serde(flatten)]
    pub model: ModelSettings,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self { normal_digits: vec![0], model: ModelSettings::default() }
    }
}

/// One setting outside its range, said so that a visitor knows what to change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingProblem {
    pub field: String,
    pub message: String,
}

impl TrainSettings {
    /// Every problem at once, so the form can show them all; empty means the settings can run.
    pub fn problems(&self) -> Vec<SettingProblem> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, message: &str| {
            if !ok {
                problems.push(SettingProblem { field: "normal_digits".into(), message: message.into() });
            }
        };
        check(!self.normal_digits.is_empty(), "Pick at least one digit as normal.");
        check(self.normal_digits.len() < 10, "Leave at least one digit out: the digits you do not pick are the anomalies.");
        check(self.normal_digits.iter().all(|&d| d <= 9), "Normal digits must be between 0 and 9.");
        problems.extend(self.model.problems());
        problems
    }

    pub fn is_anomaly(&self, digit: u8) -> bool {
        !self.normal_digits.contains(&digit)
    }

    /// Puts the setting that a [`SettingProblem`] names back to its value in `defaults`, so that a link or
    /// a file with one bad value keeps the rest.
    pub fn reset_field(&mut self, field: &str, defaults: &TrainSettings) {
        if field == "normal_digits" {
            self.normal_digits = defaults.normal_digits.clone();
        }
        self.model.reset_field(field, &defaults.model);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(TrainSettings::default().problems().is_empty());
    }

    #[test]
    fn each_out_of_range_setting_is_named() {
        let bad = TrainSettings {
            normal_digits: vec![],
            model: ModelSettings {
                vae: VaeSettings { hidden_units: 0, latent_dims: 500, beta: f32::NAN, score_with_kl: false },
                optimiser: OptimiserSettings { learning_rate: 5.0, batch_size: 0, epochs: 1000, seed: u64::MAX },
            },
        };
        let fields: Vec<String> = bad.problems().into_iter().map(|p| p.field).collect();
        for field in ["normal_digits", "hidden_units", "latent_dims", "beta", "learning_rate", "batch_size", "epochs", "seed"] {
            assert!(fields.iter().any(|f| f == field), "{field} not reported in {fields:?}");
        }
    }

    /// Each description reads back what it writes, and no two settings share a field name or a link key.
    fn check_descriptions<S: Clone + std::fmt::Debug + PartialEq>(settings: &[NumberSetting<S>], defaults: &S, changed: &S) {
        let mut fields: Vec<&str> = settings.iter().map(|s| s.field).collect();
        let mut keys: Vec<&str> = settings.iter().map(|s| s.link_key).collect();
        fields.sort_unstable();
        fields.dedup();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!((fields.len(), keys.len()), (settings.len(), settings.len()));
        for setting in settings {
            assert!(setting.problem(defaults).is_none(), "{}: the default is out of its own range", setting.field);
            let mut copy = defaults.clone();
            (setting.set)(&mut copy, &(setting.get)(changed)).unwrap();
            assert_eq!((setting.get)(&copy), (setting.get)(changed), "{}", setting.field);
            setting.reset(&mut copy, defaults);
            assert_eq!(&copy, defaults, "{}", setting.field);
            assert!((setting.set)(&mut copy, "fast").is_err(), "{}", setting.field);
            assert!(setting.range_text().contains('–'));
        }
    }

    #[test]
    fn every_model_setting_is_described_once_and_consistently() {
        let changed = ModelSettings {
            vae: VaeSettings { hidden_units: 96, latent_dims: 3, beta: 0.25, score_with_kl: false },
            optimiser: OptimiserSettings { learning_rate: 3e-4, batch_size: 17, epochs: 9, seed: 77 },
        };
        check_descriptions(&MODEL_SETTINGS, &ModelSettings::default(), &changed);
        check_descriptions(&VAE_SETTINGS, &VaeSettings::default(), &changed.vae);
        check_descriptions(&OPTIMISER_SETTINGS, &OptimiserSettings::default(), &changed.optimiser);
        // The pair's table holds every setting of both parts, each once.
        assert_eq!(MODEL_SETTINGS.len(), VAE_SETTINGS.len() + OPTIMISER_SETTINGS.len());
        let awareness = crate::awareness::AwarenessSettings {
            labelled_anomalies: 12,
            lambda_max: 2.5,
            margin_factor: 4.0,
            ramp_fraction: 0.3,
            epochs: 7,
            learning_rate: 1e-4,
            ..Default::default()
        };
        check_descriptions(&crate::awareness::AWARENESS_SETTINGS, &crate::awareness::AwarenessSettings::default(), &awareness);
        // Not a number at all is out of every range, and the sentence says the range.
        let mut nan = TrainSettings::default();
        nan.model.vae.beta = f32::NAN;
        assert_eq!(nan.problems(), vec![SettingProblem { field: "beta".into(), message: "β must be between 0 and 10.".into() }]);
        let low = crate::awareness::AwarenessSettings { labelled_anomalies: 0, ..Default::default() };
        assert!(low.problems(&TrainSettings::default())[0].message.contains("nothing to fine-tune on"));
        let high = crate::awareness::AwarenessSettings { labelled_anomalies: 1001, ..Default::default() };
        assert_eq!(high.problems(&TrainSettings::default())[0].message, "Use at most 1000 labelled anomalies.");
    }

    /// Model files and the worker's messages carry the settings as one flat object, as before the split.
    #[test]
    fn settings_serialise_flat() {
        let json = serde_json::to_value(TrainSettings::default()).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected =
            ["normal_digits", "hidden_units", "latent_dims", "beta", "score_with_kl", "learning_rate", "batch_size", "epochs", "seed"];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        let flat = r#"{"normal_digits":[],"hidden_units":32,"latent_dims":4,"beta":0.5,"learning_rate":0.01,"batch_size":8,"epochs":3,"seed":9,"score_with_kl":true}"#;
        let read: TrainSettings = serde_json::from_str(flat).unwrap();
        assert_eq!((read.model.vae.hidden_units, read.model.optimiser.seed, read.model.vae.score_with_kl), (32, 9, true));
        let model: ModelSettings = serde_json::from_str(flat).unwrap();
        assert_eq!(model, read.model);
    }

    #[test]
    fn all_ten_digits_normal_leaves_no_anomalies() {
        let settings = TrainSettings { normal_digits: (0..10).collect(), ..Default::default() };
        assert_eq!(settings.problems().len(), 1);
        assert!(settings.problems()[0].message.contains("anomalies"));
    }
}
