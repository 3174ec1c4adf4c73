//! One numeric setting, described once: how problems name it, its key in a share link, what the form
//! calls it, its range, and how to read and write it. The validation, the link codec and the forms all
//! read these descriptions, so a setting is added or changed in one place.

use super::SettingProblem;

pub struct NumberSetting<S: 'static> {
    /// Its name in a [`SettingProblem`] and, with a prefix per form, the form field's id.
    pub field: &'static str,
    /// Its key in a share link, without the prefix of the part it belongs to (`table.`, `aa.`).
    pub link_key: &'static str,
    /// What the form calls it.
    pub label: &'static str,
    pub min: f64,
    pub max: f64,
    /// The sentence for a value outside [min, max], with `{min}` and `{max}` filled in.
    pub out_of_range: &'static str,
    /// A sentence of its own for a value below `min`, where that means something more.
    pub below_min: Option<&'static str>,
    /// The value as the form and a link write it.
    pub get: fn(&S) -> String,
    /// Reads `text` into the setting; `Err` when it is not a number of the setting's type.
    pub set: fn(&mut S, &str) -> Result<(), ()>,
    /// The value, for the range check.
    pub value: fn(&S) -> f64,
}

impl<S> NumberSetting<S> {
    /// "8–1024", as the form shows it.
    pub fn range_text(&self) -> String {
        format!("{}–{}", self.min, self.max)
    }

    /// The problem with this setting's value in `settings`, if it is outside its range (or not finite).
    pub fn problem(&self, settings: &S) -> Option<SettingProblem> {
        let value = (self.value)(settings);
        if value.is_finite() && (self.min..=self.max).contains(&value) {
            return None;
        }
        let message = match self.below_min {
            Some(sentence) if value < self.min => sentence.to_string(),
            _ => self.out_of_range.replace("{min}", &self.min.to_string()).replace("{max}", &self.max.to_string()),
        };
        Some(SettingProblem { field: self.field.into(), message })
    }

    /// Puts this setting of `settings` back to its value in `defaults`.
    pub fn reset(&self, settings: &mut S, defaults: &S) {
        let written = (self.get)(defaults);
        (self.set)(settings, &written).expect("a setting reads back what it writes");
    }
}

/// Parses `text` as the type of the field it is stored in (used by the description tables).
pub fn parse_into<T: std::str::FromStr>(slot: &mut T, text: &str) -> Result<(), ()> {
    *slot = text.parse().map_err(|_| ())?;
    Ok(())
}
