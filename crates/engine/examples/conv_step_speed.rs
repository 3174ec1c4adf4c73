//! Milliseconds per training step of the jet-image convolutional autoencoder (batch 64, 40 × 40, Adam),
//! natively on one thread: where its time goes before the browser contest (`make bench`).
//!
//! `RAYON_NUM_THREADS=1 cargo run --release -p anomaly-engine --example conv_step_speed -- [steps]`

use std::time::Instant;

use anomaly_engine::jets::experiment::{JetData, JetRun, JetSettings};
use anomaly_engine::jets::particles::JetClass;
use anomaly_engine::models::Architecture;
use anomaly_engine::train::Training;

fn main() {
    let steps: usize = std::env::args().nth(1).map_or(30, |s| s.parse().expect("a count"));
    let data = JetData::generate(64 * (steps + 5), 1, 1).expect("jets");
    let settings = JetSettings { architecture: Architecture::CONV, epochs: 1, ..JetSettings::default() };
    let mut run = JetRun::begin(&data, JetClass::Qcd, &settings).expect("a run");
    for _ in 0..5 {
        run.training().step().expect("a step");
    }
    let started = Instant::now();
    for _ in 0..steps {
        run.training().step().expect("a step");
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0 / steps as f64;
    println!("convolutional autoencoder, batch 64, 40 × 40: {ms:.1} ms per training step ({steps} steps)");
}
