//! Named setups that the page offers as one click and the benchmarks reproduce.

use crate::awareness::AwarenessSettings;
use crate::data::anomalies::AnomalyFamily;
use crate::settings::TrainSettings;

/// The Anomaly Awareness preset: the toy version of the paper's claim that fine-tuning on a few
/// anomalies of some kinds raises the AUC on kinds never shown.
pub fn awareness_preset() -> (TrainSettings, AwarenessSettings) {
    let digits = TrainSettings { normal_digits: vec![0, 1, 2, 3, 4, 5, 6], epochs: 5, ..TrainSettings::default() };
    let awareness = AwarenessSettings {
        shown: vec![AnomalyFamily::Noise, AnomalyFamily::Blobs, AnomalyFamily::Occluded, AnomalyFamily::HeldOutDigit(7)],
        ..AwarenessSettings::default()
    };
    (digits, awareness)
}
