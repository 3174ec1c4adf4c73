//! The Events view's setup as a link and the page carry it: the loss the encoder learns with, its
//! temperature, which anomalous augmentations it sees, the encoder, how many background events it trains
//! on, and the seed.
//! The rest is the page's fixed quick study (1,000 test events of the background and of each signal,
//! 4 epochs of the encoder, 10 of each scoring autoencoder), sized to train in about a minute on one core.

use anomaly_engine::objects::augment::AnomalyKinds;
use anomaly_engine::objects::clr::Variant;
use anomaly_engine::objects::encoder::{EncoderConfig, EncoderKind};
use anomaly_engine::objects::study::StudySettings;

/// The training-events slider: lowest, highest, step.
pub const TRAIN_SLIDER: (usize, usize, usize) = (2_000, 20_000, 1_000);
pub const TEST_EVENTS: usize = 1_000;
pub const EPOCHS: usize = 4;
pub const SEEDS: std::ops::RangeInclusive<u64> = 1..=1_000_000;
/// The loss's temperature τ: lowest, highest (the authors use 0.1).
pub const TEMPERATURES: (f64, f64) = (0.02, 1.0);

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventChoice {
    pub variant: Variant,
    pub add_objects: bool,
    pub split: bool,
    pub scale: bool,
    pub temperature: f64,
    pub encoder: EncoderKind,
    pub train_events: usize,
    pub seed: u64,
}

impl Default for EventChoice {
    fn default() -> Self {
        Self { variant: Variant::AnomalyClr, add_objects: true, split: true, scale: false, temperature: 0.1, encoder: EncoderKind::Transformer, train_events: 6_000, seed: 1 }
    }
}

pub fn variant_key(variant: Variant) -> &'static str {
    match variant {
        Variant::AnomalyClr => "clr",
        Variant::AnomalyClrPlus => "plus",
        Variant::PhysicalOnly => "physical",
    }
}

fn variant_of(key: &str) -> Option<Variant> {
    [Variant::AnomalyClr, Variant::AnomalyClrPlus, Variant::PhysicalOnly].into_iter().find(|&v| variant_key(v) == key)
}

pub fn encoder_key(kind: EncoderKind) -> &'static str {
    match kind {
        EncoderKind::Transformer => "transformer",
        EncoderKind::DeepSets => "deepsets",
    }
}

fn switch(on: bool) -> String {
    if on { "on" } else { "off" }.to_string()
}

fn read_switch(value: &str) -> Option<bool> {
    match value {
        "on" | "1" | "true" => Some(true),
        "off" | "0" | "false" => Some(false),
        _ => None,
    }
}

impl EventChoice {
    /// The study the page runs for this choice.
    pub fn settings(&self) -> StudySettings {
        StudySettings {
            train_events: self.train_events,
            test_events: TEST_EVENTS,
            encoder: EncoderConfig { kind: self.encoder, ..EncoderConfig::default() },
            variant: self.variant,
            anomalies: AnomalyKinds { add_objects: self.add_objects, split: self.split, scale: self.scale },
            temperature: self.temperature,
            epochs: EPOCHS,
            seed: self.seed,
            ..StudySettings::default()
        }
    }

    /// What is out of range, as (link key, sentence) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let (low, high, _) = TRAIN_SLIDER;
        if !(low..=high).contains(&self.train_events) {
            problems.push(("events.train", format!("events.train must be between {low} and {high} events (it was {})", self.train_events)));
        }
        if !SEEDS.contains(&self.seed) {
            problems.push(("events.seed", format!("events.seed must be between {} and {} (it was {})", SEEDS.start(), SEEDS.end(), self.seed)));
        }
        let (cold, hot) = TEMPERATURES;
        if !(cold..=hot).contains(&self.temperature) {
            problems.push(("events.temp", format!("events.temp must be between {cold} and {hot} (it was {})", self.temperature)));
        }
        if self.variant != Variant::PhysicalOnly && !self.add_objects && !self.split && !self.scale {
            problems.push(("events.add", "events.add, events.split and events.scale are all off, so this loss has no anomalous copies to push away; adding objects is switched back on".to_string()));
        }
        problems
    }

    /// Puts the field a problem names back to its default.
    pub fn reset(&mut self, key: &str) {
        let default = Self::default();
        match key {
            "events.train" => self.train_events = default.train_events,
            "events.seed" => self.seed = default.seed,
            "events.add" => self.add_objects = default.add_objects,
            "events.split" => self.split = default.split,
            "events.scale" => self.scale = default.scale,
            "events.temp" => self.temperature = default.temperature,
            "events.encoder" => self.encoder = default.encoder,
            _ => self.variant = default.variant,
        }
    }

    /// The choice as link pairs.
    pub fn pairs(&self) -> [(&'static str, String); 8] {
        [
            ("events.loss", variant_key(self.variant).to_string()),
            ("events.temp", self.temperature.to_string()),
            ("events.add", switch(self.add_objects)),
            ("events.split", switch(self.split)),
            ("events.scale", switch(self.scale)),
            ("events.encoder", encoder_key(self.encoder).to_string()),
            ("events.train", self.train_events.to_string()),
            ("events.seed", self.seed.to_string()),
        ]
    }

    /// Reads one link pair; false when the value does not parse (the range is checked by [`problems`]).
    pub fn read(&mut self, key: &str, value: &str) -> bool {
        match key {
            "events.loss" => variant_of(value).map(|v| self.variant = v).is_some(),
            "events.add" => read_switch(value).map(|v| self.add_objects = v).is_some(),
            "events.split" => read_switch(value).map(|v| self.split = v).is_some(),
            "events.scale" => read_switch(value).map(|v| self.scale = v).is_some(),
            // NaN parses but fails the range check, which names it.
            "events.temp" => value.parse().map(|v| self.temperature = v).is_ok(),
            "events.encoder" => [EncoderKind::Transformer, EncoderKind::DeepSets].into_iter().find(|&k| encoder_key(k) == value).map(|k| self.encoder = k).is_some(),
            "events.train" => value.parse().map(|v| self.train_events = v).is_ok(),
            "events.seed" => value.parse().map(|v| self.seed = v).is_ok(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_in_range_is_a_study_the_engine_accepts() {
        let (low, high, _) = TRAIN_SLIDER;
        for variant in [Variant::AnomalyClr, Variant::AnomalyClrPlus, Variant::PhysicalOnly] {
            for (add_objects, split) in [(true, true), (true, false), (false, true)] {
                for encoder in [EncoderKind::Transformer, EncoderKind::DeepSets] {
                    for train_events in [low, high] {
                        let choice = EventChoice { variant, add_objects, split, encoder, train_events, seed: *SEEDS.end(), ..EventChoice::default() };
                        assert!(choice.problems().is_empty(), "{choice:?}");
                        assert_eq!(choice.settings().problems(), Vec::<String>::new(), "{choice:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn out_of_range_values_are_named_and_reset() {
        let mut choice = EventChoice { train_events: 5, seed: 0, add_objects: false, split: false, temperature: 0.0, ..EventChoice::default() };
        let problems = choice.problems();
        assert_eq!(problems.iter().map(|p| p.0).collect::<Vec<_>>(), ["events.train", "events.seed", "events.temp", "events.add"]);
        for (key, _) in problems {
            choice.reset(key);
        }
        assert_eq!(choice, EventChoice { split: false, ..EventChoice::default() });
        assert!(!choice.read("events.add", "maybe"));
        assert!(choice.read("events.temp", "NaN") && choice.problems()[0].0 == "events.temp", "NaN is named, not taken");
        assert!(EventChoice { add_objects: false, split: false, scale: true, ..EventChoice::default() }.problems().is_empty(), "scaling alone is an anomalous copy");
        for (cold, ok) in [(TEMPERATURES.0, true), (TEMPERATURES.1, true), (TEMPERATURES.1 + 0.01, false)] {
            let choice = EventChoice { temperature: cold, ..EventChoice::default() };
            assert_eq!(choice.problems().is_empty(), ok, "{cold}");
            assert_eq!(choice.settings().problems().is_empty(), true, "every temperature the page allows, the engine takes");
        }
        assert!(EventChoice { variant: Variant::PhysicalOnly, add_objects: false, split: false, ..EventChoice::default() }.problems().is_empty());
    }

    #[test]
    fn pairs_read_back_to_the_same_choice() {
        let choice = EventChoice { variant: Variant::AnomalyClrPlus, add_objects: false, split: true, scale: true, temperature: 0.07, encoder: EncoderKind::DeepSets, train_events: 12_000, seed: 42 };
        let mut read = EventChoice::default();
        for (key, value) in choice.pairs() {
            assert!(read.read(key, &value), "{key}={value}");
        }
        assert_eq!(read, choice);
    }
}
