//! The parity cases of `parity.rs`, run on the browser's WebGPU (SwiftShader in headless Chromium):
//! `make test` runs them with `wasm-bindgen-test-runner` and chromedriver (see the Makefile). Browsers
//! validate WGSL more strictly than naga, so this also proves every kernel compiles there.
#![cfg(target_arch = "wasm32")]

mod cases;

use anomaly_gpu::Gpu;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn every_case_matches_the_cpu_on_webgpu() {
    let gpu = Gpu::new().await.expect("headless Chromium offers a WebGPU adapter (--enable-unsafe-webgpu)");
    for case in cases::cases() {
        if let Err(problem) = cases::check(&gpu, &case).await {
            panic!("{problem}");
        }
    }
}
