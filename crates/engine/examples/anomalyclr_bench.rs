//! AnomalyCLR on the object-list toy, against the same autoencoder on the raw inputs (SCIENCE.md,
//! "AnomalyCLR"): for each seed, an encoder trained on background events with each loss (AnomalyCLR, its
//! "+" variant, physical augmentations only), an autoencoder on the background's representations (and one
//! on the raw inputs), then per signal the AUC and 1/ε_B at ε_S = 30 % on events none of them saw.
//! `cargo run --release -p anomaly-engine --example anomalyclr_bench -- EVENTS EPOCHS SEEDS OUT.json`
//! merges into OUT.json (keeping what is there, such as `auc_supervised` from the `object_events` example).
use std::time::Instant;

use anomaly_engine::objects::clr::{ClrSettings, ClrTraining, RowScorer, Variant};
use anomaly_engine::objects::toy::{background, generate};
use anomaly_engine::objects::panels::rejection;
use anomaly_engine::objects::study::raw_rows as raw;
use anomaly_engine::objects::{Event, Process, FEATURES_PER_SLOT, SLOTS};
use serde_json::{json, Map, Value};

/// AUC and 1/ε_B at ε_S = 30 % of `signal` scores against `background` scores.
fn figures(signal: &[f32], background: &[f32]) -> (f64, f64) {
    let (roc, inverse) = rejection(signal, background).unwrap();
    (roc.auc, inverse)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| args.get(i).map_or(default, |a| a.parse().expect("a number"));
    let (events, epochs, seeds) = (number(0, 20_000), number(1, 10), number(2, 1) as u64);
    let out = args.get(3).cloned();
    let mut report: Map<String, Value> = out.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    let mut per_signal: Vec<Map<String, Value>> = Process::SIGNALS.iter().map(|_| Map::new()).collect();
    for seed in 1..=seeds {
        let train = background(events, seed);
        let test = background(events, seed + 500);
        let signals: Vec<Vec<Event>> = Process::SIGNALS.iter().map(|&s| generate(s, events / 2, seed + 500)).collect();
        let mut record = |key: &str, scorer: &dyn Fn(&[Event]) -> Vec<f32>| {
            let background_scores = scorer(&test);
            for (i, signal) in signals.iter().enumerate() {
                let (auc, inverse) = figures(&scorer(signal), &background_scores);
                for (name, value) in [(format!("auc_{key}"), auc), (format!("inv_eps_b_at_0_3_{key}"), inverse)] {
                    per_signal[i].entry(name).or_insert_with(|| json!([])).as_array_mut().unwrap().push(json!(value));
                }
            }
        };
        let started = Instant::now();
        let raw_scorer = RowScorer::train(&raw(&train), SLOTS * FEATURES_PER_SLOT, seed, epochs).unwrap();
        record("raw", &|e| raw_scorer.scores(&raw(e)).unwrap());
        eprintln!("seed {seed}: raw autoencoder in {:.0} s", started.elapsed().as_secs_f64());
        for (key, variant) in [("clr", Variant::AnomalyClr), ("clr_plus", Variant::AnomalyClrPlus), ("physical_only", Variant::PhysicalOnly)] {
            let started = Instant::now();
            let mut settings = ClrSettings { variant, ..ClrSettings::default() };
            settings.schedule.epochs = epochs;
            settings.schedule.seed = seed;
            let (encoder, losses) = ClrTraining::new(train.clone(), &settings).unwrap().run().unwrap();
            let width = settings.encoder.output;
            let scorer = RowScorer::train(&encoder.represent(&train).unwrap(), width, seed, epochs).unwrap();
            record(key, &|e| scorer.scores(&encoder.represent(e).unwrap()).unwrap());
            eprintln!("seed {seed}: {key} in {:.0} s, loss {:.3} → {:.3}", started.elapsed().as_secs_f64(), losses[0], losses[losses.len() - 1]);
        }
    }
    for (signal, figures) in Process::SIGNALS.iter().zip(per_signal) {
        let line: Vec<String> = ["raw", "clr", "clr_plus", "physical_only"]
            .iter()
            .map(|k| format!("{k} {}", figures[&format!("auc_{k}")].as_array().unwrap().iter().map(|v| format!("{:.3}", v.as_f64().unwrap())).collect::<Vec<_>>().join("/")))
            .collect();
        println!("{:<10} AUC: {}", signal.key(), line.join(", "));
        let entry = report.entry(signal.key()).or_insert_with(|| json!({})).as_object_mut().unwrap();
        entry.extend(figures);
    }
    if let Some(path) = out {
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
    }
}
