//! The settings that build and train a model, whatever data it learns from, split into their parts: the
//! method's own (the VAE's size, β and score) and the optimiser's (learning rate, batch, epochs, seed).
//! Each part has one table that describes its numeric settings; [`MODEL_SETTINGS`] sees both tables as
//! settings of the pair, in the order the forms show them and links write them.

use serde::{Deserialize, Serialize};

use super::{parse_into, NumberSetting, SettingProblem};

/// The VAE's own settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaeSettings {
    pub hidden_units: usize,
    pub latent_dims: usize,
    /// Weight of the KL term in the VAE loss.
    pub beta: f32,
    /// Score = reconstruction error, plus the KL term when this is set.
    pub score_with_kl: bool,
}

impl Default for VaeSettings {
    fn default() -> Self {
        Self { hidden_units: 256, latent_dims: 16, beta: 1.0, score_with_kl: false }
    }
}

/// How any model is trained: AdamW's step size, the mini-batches, and the seed of every random draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimiserSettings {
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
}

impl Default for OptimiserSettings {
    fn default() -> Self {
        Self { learning_rate: 1e-3, batch_size: 64, epochs: 5, seed: 1 }
    }
}

/// A VAE and how it is trained: what both the digit view and the table view set. Serialised flat (one
/// object with every field), as model files have always recorded it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSettings {
    #[serde(flatten)]
    pub vae: VaeSettings,
    #[serde(flatten)]
    pub optimiser: OptimiserSettings,
}

impl ModelSettings {
    pub fn problems(&self) -> Vec<SettingProblem> {
        MODEL_SETTINGS.iter().filter_map(|setting| setting.problem(self)).collect()
    }

    /// Puts the numeric setting named `field` back to its value in `defaults`; other names are ignored.
    pub fn reset_field(&mut self, field: &str, defaults: &ModelSettings) {
        if let Some(setting) = MODEL_SETTINGS.iter().find(|s| s.field == field) {
            setting.reset(self, defaults);
        }
    }
}

pub const VAE_SETTINGS: [NumberSetting<VaeSettings>; 3] = [
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
];

pub const OPTIMISER_SETTINGS: [NumberSetting<OptimiserSettings>; 4] = [
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

/// Entry `$index` of the part table `$table`, seen as a setting of [`ModelSettings`] through its field
/// `$part`. The closures capture nothing, so they are plain function pointers like the table's own.
macro_rules! in_part {
    ($table:ident [$index:literal], $part:ident) => {
        NumberSetting {
            field: $table[$index].field,
            link_key: $table[$index].link_key,
            label: $table[$index].label,
            min: $table[$index].min,
            max: $table[$index].max,
            out_of_range: $table[$index].out_of_range,
            below_min: $table[$index].below_min,
            get: |s: &ModelSettings| ($table[$index].get)(&s.$part),
            set: |s: &mut ModelSettings, text| ($table[$index].set)(&mut s.$part, text),
            value: |s: &ModelSettings| ($table[$index].value)(&s.$part),
        }
    };
}

/// Both parts' settings as settings of the pair: the VAE's, then the optimiser's. The forms, the link
/// codec (`hidden=`, `table.hidden=`, …) and the validation read this.
pub static MODEL_SETTINGS: [NumberSetting<ModelSettings>; 7] = [
    in_part!(VAE_SETTINGS[0], vae),
    in_part!(VAE_SETTINGS[1], vae),
    in_part!(VAE_SETTINGS[2], vae),
    in_part!(OPTIMISER_SETTINGS[0], optimiser),
    in_part!(OPTIMISER_SETTINGS[1], optimiser),
    in_part!(OPTIMISER_SETTINGS[2], optimiser),
    in_part!(OPTIMISER_SETTINGS[3], optimiser),
];
