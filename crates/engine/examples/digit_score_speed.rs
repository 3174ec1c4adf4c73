//! Times the fused CPU scorer natively on the digit model (784-256-16), splitting the dense layers from
//! the per-pixel Bernoulli error, for tuning:
//! `cargo run --release -p anomaly-engine --example digit_score_speed -- www/data/digits.bin`
use anomaly_engine::inference::CpuScorer;
use anomaly_engine::models::Likelihood;
use anomaly_engine::data::DigitSet;
use anomaly_engine::train::{TrainData, Trainer};
use anomaly_engine::settings::{ModelSettings, VaeSettings};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "www/data/digits.bin".into());
    let digits = DigitSet::decode(&std::fs::read(path).expect("the digits file")).expect("a digits file");
    let rows = digits.len();
    let features = 784;
    let data = digits.gather_f32(&(0..rows).collect::<Vec<_>>());
    let settings = ModelSettings { vae: VaeSettings { hidden_units: 256, latent_dims: 16, ..Default::default() }, ..Default::default() };
    let train = TrainData { features, likelihood: Likelihood::Bernoulli, train: data[..64 * features].to_vec(), validation: vec![] };
    let trainer = Trainer::new(&settings, train).unwrap();
    let weights = trainer.model().weights().unwrap();
    for likelihood in [Likelihood::Gaussian, Likelihood::Bernoulli] {
        let scorer = CpuScorer::new(&weights, likelihood, false);
        let mut scores = vec![0f32; rows];
        // The best of five: this machine shares its host, and a slow run says more about the neighbours.
        let mut seconds = f64::INFINITY;
        for _ in 0..5 {
            let start = Instant::now();
            scorer.score(&data, &mut scores);
            seconds = seconds.min(start.elapsed().as_secs_f64());
        }
        println!("{likelihood:?}: {:.0} rows/s (checksum {:.3})", rows as f64 / seconds, scores.iter().sum::<f32>());
    }
}
