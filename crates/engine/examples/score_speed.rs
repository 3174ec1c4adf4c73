//! Times the two CPU scoring paths natively on a table-sized model (20-32-2), for tuning:
//! `cargo run --release -p anomaly-engine --example score_speed -- [rows]`
use anomaly_engine::inference::CpuScorer;
use anomaly_engine::models::Likelihood;
use anomaly_engine::rng::SeededRng;
use anomaly_engine::score::score_rows;
use anomaly_engine::train::{TrainData, Trainer};
use anomaly_engine::settings::{ModelSettings, OptimiserSettings, VaeSettings};
use std::time::Instant;

fn main() {
    let rows: usize = std::env::args().nth(1).map_or(1_000_000, |a| a.parse().unwrap());
    let features = 20;
    let mut rng = SeededRng::new(1);
    let data: Vec<f32> = (0..rows * features).map(|_| rng.normal()).collect();
    let settings = ModelSettings { vae: VaeSettings { hidden_units: 32, latent_dims: 2, ..Default::default() }, optimiser: OptimiserSettings { batch_size: 256, epochs: 1, ..Default::default() } };
    let train = TrainData { features, likelihood: Likelihood::Gaussian, train: data[..20_000 * features].to_vec(), validation: vec![] };
    let mut trainer = Trainer::new(&settings, train).unwrap();
    while !trainer.is_finished() {
        trainer.step().unwrap();
    }
    let start = Instant::now();
    let reference = score_rows(trainer.model(), &data, false).unwrap().scores;
    let candle = start.elapsed().as_secs_f64();
    let scorer = CpuScorer::new(&trainer.model().weights().unwrap(), Likelihood::Gaussian, false);
    let mut fused = vec![0f32; rows];
    let start = Instant::now();
    for chunk in 0..rows.div_ceil(2048) {
        let (a, b) = (chunk * 2048, ((chunk + 1) * 2048).min(rows));
        scorer.score(&data[a * features..b * features], &mut fused[a..b]);
    }
    let fast = start.elapsed().as_secs_f64();
    let worst = fused.iter().zip(&reference).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0f32, f32::max);
    println!("{rows} rows: candle {:.2} M rows/s, fused {:.2} M rows/s, largest relative difference {worst:.1e}", rows as f64 / candle / 1e6, rows as f64 / fast / 1e6);
}
