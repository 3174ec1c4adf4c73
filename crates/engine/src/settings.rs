//! The visitor's training settings, with the ranges the form enforces.

use serde::{Deserialize, Serialize};

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

/// The accepted range of each numeric setting: (field, min, max). The form reads these too.
pub const HIDDEN_UNITS: (usize, usize) = (8, 1024);
pub const LATENT_DIMS: (usize, usize) = (2, 64);
pub const BETA: (f32, f32) = (0.0, 10.0);
pub const LEARNING_RATE: (f64, f64) = (1e-5, 1.0);
pub const BATCH_SIZE: (usize, usize) = (1, 1024);
pub const EPOCHS: (usize, usize) = (1, 200);
pub const SEED: (u64, u64) = (0, 4_294_967_295);

impl TrainSettings {
    /// Every problem at once, so the form can show them all; empty means the settings can run.
    pub fn problems(&self) -> Vec<SettingProblem> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, field: &str, message: String| {
            if !ok {
                problems.push(SettingProblem { field: field.into(), message });
            }
        };
        check(!self.normal_digits.is_empty(), "normal_digits", "Pick at least one digit as normal.".into());
        check(
            self.normal_digits.len() < 10,
            "normal_digits",
            "Leave at least one digit out: the digits you do not pick are the anomalies.".into(),
        );
        check(
            self.normal_digits.iter().all(|&d| d <= 9),
            "normal_digits",
            "Normal digits must be between 0 and 9.".into(),
        );
        check(
            (HIDDEN_UNITS.0..=HIDDEN_UNITS.1).contains(&self.hidden_units),
            "hidden_units",
            format!("Hidden units must be between {} and {}.", HIDDEN_UNITS.0, HIDDEN_UNITS.1),
        );
        check(
            (LATENT_DIMS.0..=LATENT_DIMS.1).contains(&self.latent_dims),
            "latent_dims",
            format!("Latent dimensions must be between {} and {}.", LATENT_DIMS.0, LATENT_DIMS.1),
        );
        check(
            self.beta.is_finite() && (BETA.0..=BETA.1).contains(&self.beta),
            "beta",
            format!("β must be between {} and {}.", BETA.0, BETA.1),
        );
        check(
            self.learning_rate.is_finite() && (LEARNING_RATE.0..=LEARNING_RATE.1).contains(&self.learning_rate),
            "learning_rate",
            format!("The learning rate must be between {} and {}.", LEARNING_RATE.0, LEARNING_RATE.1),
        );
        check(
            (BATCH_SIZE.0..=BATCH_SIZE.1).contains(&self.batch_size),
            "batch_size",
            format!("The batch size must be between {} and {}.", BATCH_SIZE.0, BATCH_SIZE.1),
        );
        check(
            (EPOCHS.0..=EPOCHS.1).contains(&self.epochs),
            "epochs",
            format!("Epochs must be between {} and {}.", EPOCHS.0, EPOCHS.1),
        );
        check(
            self.seed <= SEED.1,
            "seed",
            format!("The seed must be a whole number between {} and {}.", SEED.0, SEED.1),
        );
        problems
    }

    pub fn is_anomaly(&self, digit: u8) -> bool {
        !self.normal_digits.contains(&digit)
    }

    /// Puts the setting that a [`SettingProblem`] names back to its value in `defaults`, so that a link or
    /// a file with one bad value keeps the rest.
    pub fn reset_field(&mut self, field: &str, defaults: &TrainSettings) {
        match field {
            "normal_digits" => self.normal_digits = defaults.normal_digits.clone(),
            "hidden_units" => self.hidden_units = defaults.hidden_units,
            "latent_dims" => self.latent_dims = defaults.latent_dims,
            "beta" => self.beta = defaults.beta,
            "learning_rate" => self.learning_rate = defaults.learning_rate,
            "batch_size" => self.batch_size = defaults.batch_size,
            "epochs" => self.epochs = defaults.epochs,
            "seed" => self.seed = defaults.seed,
            _ => {}
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

    #[test]
    fn all_ten_digits_normal_leaves_no_anomalies() {
        let settings = TrainSettings { normal_digits: (0..10).collect(), ..Default::default() };
        assert_eq!(settings.problems().len(), 1);
        assert!(settings.problems()[0].message.contains("anomalies"));
    }
}
