//! The WGSL kernels give the engine's CPU scores, run for real on this machine's Vulkan driver (lavapipe,
//! installed by `make test`). The same cases run in headless Chromium's WebGPU in `browser.rs`.
#![cfg(not(target_arch = "wasm32"))]

mod cases;

use anomaly_engine::models::Likelihood;
use anomaly_engine::score::score_rows;
use anomaly_gpu::Gpu;
use cases::{rows, trainer};

fn gpu() -> Gpu {
    pollster::block_on(Gpu::new()).expect("a Vulkan adapter (lavapipe)")
}

#[test]
fn every_case_matches_the_cpu() {
    let gpu = gpu();
    for case in cases::cases() {
        pollster::block_on(cases::check(&gpu, &case)).unwrap();
    }
}

#[test]
fn one_device_scores_several_models() {
    let gpu = gpu();
    for (seed, likelihood) in [(1, Likelihood::Bernoulli), (2, Likelihood::Gaussian)] {
        let t = trainer(likelihood, 12, 8, 2, seed);
        let model = gpu.upload(&t.model().weights().unwrap(), likelihood);
        let input = rows(9, 12, seed as u64);
        let cpu = score_rows(t.model(), &input, false).unwrap().scores;
        let got = pollster::block_on(gpu.score(&model, &input, false)).unwrap();
        for (g, c) in got.iter().zip(&cpu) {
            assert!((g - c).abs() <= cases::RELATIVE_TOLERANCE * c.abs().max(1.0), "GPU {g} vs CPU {c}");
        }
    }
}

#[test]
fn a_lost_device_is_an_error_not_a_panic() {
    let gpu = gpu();
    let t = trainer(Likelihood::Bernoulli, 8, 8, 2, 0);
    let model = gpu.upload(&t.model().weights().unwrap(), Likelihood::Bernoulli);
    assert!(pollster::block_on(gpu.score(&model, &rows(4, 8, 1), false)).is_ok());
    gpu.lose_device();
    assert!(pollster::block_on(gpu.score(&model, &rows(4, 8, 1), false)).is_err());
    assert!(gpu.fault().is_some());
}

#[test]
fn the_adapter_is_named() {
    let t = trainer(Likelihood::Bernoulli, 8, 8, 2, 0);
    let gpu = gpu();
    let model = gpu.upload(&t.model().weights().unwrap(), Likelihood::Bernoulli);
    assert!(!gpu.adapter().is_empty());
    assert!(gpu.batch_rows(&model) >= 1);
}
