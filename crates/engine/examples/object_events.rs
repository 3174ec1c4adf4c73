//! Calibrates the object-list toy (SCIENCE.md, "Object-list events": a supervised classifier's AUC per
//! signal between about 0.80 and 0.98, no signal trivial, none invisible): for each signal, a small MLP on
//! the events' features (log(1 + pT), η, sin φ, cos φ of each slot) trained on labelled signal against
//! the background mix, its AUC on events it never saw.
//! `cargo run --release -p anomaly-engine --example object_events -- EVENTS SEEDS [OUT.json]`
use anomaly_engine::flows::MafConfig;
use anomaly_engine::metrics::roc_curve;
use anomaly_engine::objects::toy::{background, generate};
use anomaly_engine::objects::{Event, Process};
use anomaly_engine::resonance::background::FlowFit;
use anomaly_engine::resonance::classifier::TrainedClassifier;
use anomaly_engine::train::Schedule;

fn features(events: &[Event]) -> Vec<f32> {
    events.iter().flat_map(|e| e.features()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let events: usize = args.first().map_or(20_000, |a| a.parse().expect("EVENTS is a number"));
    let seeds: u64 = args.get(1).map_or(1, |a| a.parse().expect("SEEDS is a number"));
    let width = events_width();
    let mut report = serde_json::Map::new();
    for signal in Process::SIGNALS {
        let mut aucs = Vec::new();
        for seed in 1..=seeds {
            let fit = FlowFit {
                config: MafConfig { hidden: 64, ..MafConfig::default() },
                schedule: Schedule { batch_size: 256, epochs: 20, learning_rate: 1e-3, seed, ..Schedule::default() },
                validation_fraction: 0.2,
            };
            let (train_signal, train_background) = (generate(signal, events, seed), background(events, seed));
            let trained = TrainedClassifier::train(&features(&train_signal), &features(&train_background), width, &fit, |_| {}).unwrap();
            let (test_signal, test_background) = (generate(signal, events, seed + 1000), background(events, seed + 1000));
            let mut scores = trained.scores(&features(&test_signal)).unwrap();
            scores.extend(trained.scores(&features(&test_background)).unwrap());
            let labels: Vec<bool> = (0..2 * events).map(|i| i < events).collect();
            aucs.push(roc_curve(&scores, &labels).unwrap().auc);
        }
        println!("{:<10} supervised AUC {}", signal.key(), aucs.iter().map(|a| format!("{a:.3}")).collect::<Vec<_>>().join(", "));
        report.insert(signal.key().into(), serde_json::json!({ "auc_supervised": aucs }));
    }
    if let Some(out) = args.get(2) {
        std::fs::write(out, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
    }
}

fn events_width() -> usize {
    anomaly_engine::objects::SLOTS * anomaly_engine::objects::FEATURES_PER_SLOT
}
