//! Times the WGSL kernels natively (lavapipe, a software Vulkan driver like the browser's SwiftShader)
//! against the engine's fused CPU kernel, for tuning: `WGPU_BACKEND=vulkan cargo run --release -p anomaly-gpu --example gpu_speed`
use std::time::Instant;

use anomaly_engine::inference::CpuScorer;
use anomaly_engine::models::Likelihood;
use anomaly_engine::rng::SeededRng;
use anomaly_engine::train::{TrainData, Trainer};
use anomaly_engine::settings::{ModelSettings, VaeSettings};
use anomaly_gpu::Gpu;

fn main() {
    let gpu = pollster::block_on(Gpu::new()).expect("a GPU adapter");
    println!("adapter: {}", gpu.adapter());
    for (name, features, hidden, latent, rows, likelihood) in
        [("digits 784-256-16", 784, 256, 16, 10_000, Likelihood::Bernoulli), ("table 20-32-2", 20, 32, 2, 200_000, Likelihood::Gaussian)]
    {
        let mut rng = SeededRng::new(1);
        let data: Vec<f32> = (0..rows * features).map(|_| rng.uniform()).collect();
        let settings = ModelSettings { vae: VaeSettings { hidden_units: hidden, latent_dims: latent, ..Default::default() }, ..Default::default() };
        let trainer = Trainer::new(&settings, TrainData { features, likelihood, train: data[..64 * features].to_vec(), validation: vec![] }).unwrap();
        let weights = trainer.model().weights().unwrap();
        let model = gpu.upload(&weights, likelihood);
        let _ = pollster::block_on(gpu.score(&model, &data[..256 * features], false)).unwrap();
        let start = Instant::now();
        let on_gpu = pollster::block_on(gpu.score(&model, &data, false)).unwrap();
        let gpu_s = start.elapsed().as_secs_f64();
        let cpu = CpuScorer::new(&weights, likelihood, false);
        let mut on_cpu = vec![0f32; rows];
        let start = Instant::now();
        cpu.score(&data, &mut on_cpu);
        let cpu_s = start.elapsed().as_secs_f64();
        let worst = on_gpu.iter().zip(&on_cpu).map(|(g, c)| (g - c).abs() / c.abs().max(1.0)).fold(0f32, f32::max);
        println!("{name}: GPU {:.0} rows/s, CPU {:.0} rows/s, largest relative difference {worst:.1e}", rows as f64 / gpu_s, rows as f64 / cpu_s);
    }
}
