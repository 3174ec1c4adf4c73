//! The WGSL kernels give the engine's CPU scores, run for real on this machine's Vulkan driver (lavapipe,
//! installed by `make test`): random and trained weights, odd batch sizes, a batch of one, extreme inputs,
//! and batches smaller than the input so that scores cross batch boundaries.

use anomaly_engine::rng::SeededRng;
use anomaly_engine::score::score_rows;
use anomaly_engine::train::{TrainData, Trainer};
use anomaly_engine::TrainSettings;
use anomaly_gpu::GpuVae;

const RELATIVE_TOLERANCE: f32 = 1e-4;

fn rows(n: usize, features: usize, seed: u64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    (0..n * features).map(|_| rng.uniform()).collect()
}

fn trainer(features: usize, hidden: usize, latent: usize, train_steps: usize) -> Trainer {
    let settings = TrainSettings { hidden_units: hidden, latent_dims: latent, batch_size: 16, learning_rate: 3e-3, ..Default::default() };
    let data = TrainData { features, likelihood: anomaly_engine::models::Likelihood::Bernoulli, train: rows(64, features, 1), validation: vec![] };
    let mut trainer = Trainer::new(&settings, data).unwrap();
    for _ in 0..train_steps {
        trainer.step().unwrap();
    }
    trainer
}

fn assert_close(gpu: &[f32], cpu: &[f32]) {
    assert_eq!(gpu.len(), cpu.len());
    for (i, (g, c)) in gpu.iter().zip(cpu).enumerate() {
        let scale = c.abs().max(1.0);
        assert!((g - c).abs() <= RELATIVE_TOLERANCE * scale, "row {i}: GPU {g} vs CPU {c}");
    }
}

fn check(trainer: &Trainer, input: &[f32], batch_rows: Option<usize>) {
    let gpu = pollster::block_on(GpuVae::new(&trainer.model().weights().unwrap())).expect("a Vulkan adapter (lavapipe)");
    for with_kl in [false, true] {
        let cpu = score_rows(trainer.model(), input, with_kl).unwrap().scores;
        let got = match batch_rows {
            Some(b) => pollster::block_on(gpu.score_in_batches(input, with_kl, b)).unwrap(),
            None => pollster::block_on(gpu.score(input, with_kl)).unwrap(),
        };
        assert_close(&got, &cpu);
    }
}

#[test]
fn random_weights_odd_sizes() {
    // Sizes that are not multiples of the 16-wide tiles or the 64-wide reduction.
    let t = trainer(37, 23, 5, 0);
    check(&t, &rows(53, 37, 2), None);
}

#[test]
fn trained_digit_sized_model() {
    let t = trainer(784, 256, 16, 4);
    check(&t, &rows(130, 784, 3), None);
}

#[test]
fn a_batch_of_one() {
    let t = trainer(784, 64, 8, 2);
    check(&t, &rows(1, 784, 4), None);
}

#[test]
fn scores_cross_batch_boundaries_in_order() {
    let t = trainer(40, 32, 4, 2);
    check(&t, &rows(101, 40, 5), Some(16));
}

#[test]
fn extreme_inputs() {
    // Saturated pixels and values far outside [0, 1] drive the logits to large magnitudes.
    let t = trainer(30, 16, 3, 3);
    let mut input: Vec<f32> = (0..20 * 30).map(|i| if i % 2 == 0 { 0.0 } else { 1.0 }).collect();
    input.extend((0..10 * 30).map(|i| if i % 3 == 0 { 40.0 } else { -25.0 }));
    check(&t, &input, None);
}

#[test]
fn the_adapter_is_named() {
    let t = trainer(8, 8, 2, 0);
    let gpu = pollster::block_on(GpuVae::new(&t.model().weights().unwrap())).unwrap();
    assert!(!gpu.adapter().is_empty());
    assert!(gpu.batch_rows() >= 1);
}
