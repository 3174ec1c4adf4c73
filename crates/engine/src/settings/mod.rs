//! The visitor's training settings, with the ranges the form enforces.

mod number;

use serde::{Deserialize, Serialize};

pub use number::{parse_into, NumberSetting};

/// Everything that determines a training run. Same settings + same seed + same build = same numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Digits treated as normal (trained on); every other digit is an anomaly.
    pub normal_digits: Vec<u8>,
    pub hidden_units: usize,
    pub latent_dims: usize,
    /// Weight of the KL term in the VAE loss.
    pub beta: f32,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
    /// Score = reconstruction error, plus the KL term when this is set.
    pub score_with_kl: bool,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            normal_digits: vec![0],
            hidden_units: 256,
            latent_dims: 16,
            beta: 1.0,
            learning_rate: 1e-3,
            batch_size: 64,
            epochs: 5,
            seed: 1,
            score_with_kl: false,
        }
    }
}

/// One setting outside its range, said so that a visitor knows what to change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingProblem {
    pub field: String,
    pub message: String,
}

/// The network and training settings, each described once (see [`NumberSetting`]), in the order the form
/// shows them and a link writes them. The digit view and the table view share them.
pub static MODEL_SETTINGS: [NumberSetting<TrainSettings>; 7] = [
    NumberSetting {
        field: "hidden_units",
        link_key: "hidden",
        label: "Hidden units",
        min: 8.0,
        max: 1024.0,
        out_of_range: "Hidden units must be between {min} and {max}.",
        below_min: None,
        get: |s| s.hidden_units.to_string(),
        set: |s, text| parse_into(&mut s.hidden_units, text),
        value: |s| s.hidden_units as f64,
    },
    NumberSetting {
        field: "latent_dims",
        link_key: "latent",
        label: "Latent dimensions",
        min: 2.0,
        max: 64.0,
        out_of_range: "Latent dimensions must be between {min} and {max}.",
        below_min: None,
        get: |s| s.latent_dims.to_string(),
        set: |s, text| parse_into(&mut s.latent_dims, text),
        value: |s| s.latent_dims as f64,
    },
    NumberSetting {
        field: "beta",
        link_key: "beta",
        label: "β (weight of the KL term)",
        min: 0.0,
        max: 10.0,
        out_of_range: "β must be between {min} and {max}.",
        below_min: None,
        get: |s| s.beta.to_string(),
        set: |s, text| parse_into(&mut s.beta, text),
        value: |s| s.beta as f64,
    },
    NumberSetting {
        field: "learning_rate",
        link_key: "lr",
        label: "Learning rate",
        min: 1e-5,
        max: 1.0,
        out_of_range: "The learning rate must be between {min} and {max}.",
        below_min: None,
        get: |s| s.learning_rate.to_string(),
        set: |s, text| parse_into(&mut s.learning_rate, text),
        value: |s| s.learning_rate,
    },
    NumberSetting {
        field: "batch_size",
        link_key: "batch",
        label: "Batch size",
        min: 1.0,
        max: 1024.0,
        out_of_range: "The batch size must be between {min} and {max}.",
        below_min: None,
        get: |s| s.batch_size.to_string(),
        set: |s, text| parse_into(&mut s.batch_size, text),
        value: |s| s.batch_size as f64,
    },
    NumberSetting {
        field: "epochs",
        link_key: "epochs",
        label: "Epochs",
        min: 1.0,
        max: 200.0,
        out_of_range: "Epochs must be between {min} and {max}.",
        below_min: None,
        get: |s| s.epochs.to_string(),
        set: |s, text| parse_into(&mut s.epochs, text),
        value: |s| s.epochs as f64,
    },
    NumberSetting {
        field: "seed",
        link_key: "seed",
        label: "Seed",
        min: 0.0,
        max: 4_294_967_295.0,
        out_of_range: "The seed must be a whole number between {min} and {max}.",
        below_min: None,
        get: |s| s.seed.to_string(),
        set: |s, text| parse_into(&mut s.seed, text),
        value: |s| s.seed as f64,
    },
];

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
        problems.extend(MODEL_SETTINGS.iter().filter_map(|setting| setting.problem(self)));
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
        if let Some(setting) = MODEL_SETTINGS.iter().find(|s| s.field == field) {
            setting.reset(self, defaults);
        }
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
            hidden_units: 0,
            latent_dims: 500,
            beta: f32::NAN,
            learning_rate: 5.0,
            batch_size: 0,
            epochs: 1000,
            seed: u64::MAX,
            score_with_kl: false,
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
        let changed = TrainSettings { hidden_units: 96, latent_dims: 3, beta: 0.25, learning_rate: 3e-4, batch_size: 17, epochs: 9, seed: 77, ..Default::default() };
        check_descriptions(&MODEL_SETTINGS, &TrainSettings::default(), &changed);
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
        let nan = TrainSettings { beta: f32::NAN, ..Default::default() };
        assert_eq!(nan.problems(), vec![SettingProblem { field: "beta".into(), message: "β must be between 0 and 10.".into() }]);
        let low = crate::awareness::AwarenessSettings { labelled_anomalies: 0, ..Default::default() };
        assert!(low.problems(&TrainSettings::default())[0].message.contains("nothing to fine-tune on"));
        let high = crate::awareness::AwarenessSettings { labelled_anomalies: 1001, ..Default::default() };
        assert_eq!(high.problems(&TrainSettings::default())[0].message, "Use at most 1000 labelled anomalies.");
    }

    #[test]
    fn all_ten_digits_normal_leaves_no_anomalies() {
        let settings = TrainSettings { normal_digits: (0..10).collect(), ..Default::default() };
        assert_eq!(settings.problems().len(), 1);
        assert!(settings.problems()[0].message.contains("anomalies"));
    }
}
