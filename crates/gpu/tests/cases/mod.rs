//! The parity cases shared by the native tests (`parity.rs`, Vulkan on lavapipe) and the browser tests
//! (`browser.rs`, WebGPU in headless Chromium): each case is a model, some rows, and optionally a batch
//! size smaller than the rows so that scores cross batch boundaries. The GPU's scores must equal the
//! engine's CPU scores (candle's forward pass) within [`RELATIVE_TOLERANCE`].

use anomaly_engine::inference::CpuScorer;
use anomaly_engine::models::Likelihood;
use anomaly_engine::rng::SeededRng;
use anomaly_engine::score::score_rows;
use anomaly_engine::train::{TrainData, Trainer};
use anomaly_engine::settings::{ModelSettings, OptimiserSettings, VaeSettings};
use anomaly_gpu::Gpu;

pub const RELATIVE_TOLERANCE: f32 = 1e-4;

pub struct Case {
    pub name: &'static str,
    pub trainer: Trainer,
    pub input: Vec<f32>,
    pub batch_rows: Option<usize>,
}

pub fn rows(n: usize, features: usize, seed: u64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    (0..n * features).map(|_| rng.uniform()).collect()
}

pub fn trainer(likelihood: Likelihood, features: usize, hidden: usize, latent: usize, train_steps: usize) -> Trainer {
    let settings = ModelSettings { vae: VaeSettings { hidden_units: hidden, latent_dims: latent, ..Default::default() }, optimiser: OptimiserSettings { batch_size: 16, learning_rate: 3e-3, ..Default::default() } };
    let data = TrainData { features, likelihood, train: rows(64, features, 1), validation: vec![] };
    let mut trainer = Trainer::new(&settings, data).unwrap();
    for _ in 0..train_steps {
        trainer.step().unwrap();
    }
    trainer
}

pub fn cases() -> Vec<Case> {
    use Likelihood::{Bernoulli, Gaussian};
    let saturated = {
        // Saturated pixels and values far outside [0, 1] drive the logits to large magnitudes.
        let mut input: Vec<f32> = (0..20 * 30).map(|i| if i % 2 == 0 { 0.0 } else { 1.0 }).collect();
        input.extend((0..10 * 30).map(|i| if i % 3 == 0 { 40.0 } else { -25.0 }));
        input
    };
    vec![
        // Sizes that are not multiples of the 16-wide tiles or the 64-wide reduction; untrained weights.
        Case { name: "random weights, odd sizes", trainer: trainer(Bernoulli, 37, 23, 5, 0), input: rows(53, 37, 2), batch_rows: None },
        Case { name: "trained digit-sized model", trainer: trainer(Bernoulli, 784, 256, 16, 4), input: rows(130, 784, 3), batch_rows: None },
        Case { name: "a batch of one", trainer: trainer(Bernoulli, 784, 64, 8, 2), input: rows(1, 784, 4), batch_rows: None },
        Case { name: "batches of 16 over 101 rows", trainer: trainer(Bernoulli, 40, 32, 4, 2), input: rows(101, 40, 5), batch_rows: Some(16) },
        Case { name: "extreme inputs", trainer: trainer(Bernoulli, 30, 16, 3, 3), input: saturated, batch_rows: None },
        // The CSV path: standardised features and squared error, values on both sides of zero.
        Case {
            name: "Gaussian table model",
            trainer: trainer(Gaussian, 20, 32, 2, 5),
            input: rows(333, 20, 6).iter().map(|v| 6.0 * v - 3.0).collect(),
            batch_rows: Some(50),
        },
    ]
}

/// Scores the case on `gpu`, with and without the KL term, and compares with the CPU. Returns the
/// first disagreement as a sentence.
pub async fn check(gpu: &Gpu, case: &Case) -> Result<(), String> {
    let model = gpu.upload(&case.trainer.model().weights().unwrap(), case.trainer.model().shape().likelihood);
    for with_kl in [false, true] {
        let cpu = score_rows(case.trainer.model(), &case.input, with_kl).unwrap().scores;
        let got = match case.batch_rows {
            Some(b) => gpu.score_in_batches(&model, &case.input, with_kl, b).await,
            None => gpu.score(&model, &case.input, with_kl).await,
        }
        .map_err(|e| format!("{}: {e}", case.name))?;
        if got.len() != cpu.len() {
            return Err(format!("{}: {} scores from the GPU for {} rows", case.name, got.len(), cpu.len()));
        }
        for (i, (g, c)) in got.iter().zip(&cpu).enumerate() {
            if (g - c).abs() > RELATIVE_TOLERANCE * c.abs().max(1.0) {
                return Err(format!("{} (KL {with_kl}), row {i}: GPU {g} vs CPU {c}", case.name));
            }
        }
        // The same model handed over as a ScoringModel, as the worker hands over any method's model, on
        // the GPU and on the fused CPU kernel.
        let scoring = case.trainer.model().scoring_model(with_kl).unwrap();
        let prepared = gpu.prepare(&scoring).ok_or_else(|| format!("{}: the VAE has GPU kernels", case.name))?;
        let via_model = gpu.score_model(&prepared, &case.input).await.map_err(|e| format!("{}: {e}", case.name))?;
        let mut fused = vec![0f32; cpu.len()];
        CpuScorer::for_model(&scoring).score(&case.input, &mut fused);
        for (i, ((g, f), c)) in via_model.iter().zip(&fused).zip(&cpu).enumerate() {
            if (g - c).abs() > RELATIVE_TOLERANCE * c.abs().max(1.0) || (f - c).abs() > RELATIVE_TOLERANCE * c.abs().max(1.0) {
                return Err(format!("{} (KL {with_kl}, as a ScoringModel), row {i}: GPU {g}, fused CPU {f}, candle {c}", case.name));
            }
        }
    }
    Ok(())
}
