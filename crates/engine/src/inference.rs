//! The scoring pass of a trained VAE on the CPU, fused into one loop per block of rows: encoder → μ →
//! decoder → reconstruction error (+ KL), without building a tensor per layer.
//!
//! Training needs candle (gradients, optimiser); scoring a million rows does not, and there candle's cost
//! per operation (a new tensor for each of ~10 ops per batch) dominates a model this small. These loops
//! are written so the compiler vectorises them (wasm `simd128`, SSE/AVX natively): weights are stored
//! input-major so the innermost loop runs over contiguous outputs, and rows go four at a time so each
//! weight loaded from memory is used four times. Results equal candle's forward pass to float rounding
//! (tested in `tests/inference_parity.rs`). Its `exp` and `ln` are libm's, the same in wasm and natively,
//! so the native scorer and the page agree to the last bit.

use crate::models::{DenseWeights, Likelihood, VaeWeights};

/// Rows scored together, so that each weight loaded is used once per row of the block.
const BLOCK: usize = 4;
/// Outputs computed together: with [`BLOCK`] rows that is 32 accumulators, few enough for the compiler
/// to keep in registers (8 SIMD registers of 4 lanes) for the whole loop over inputs. Layers with at
/// most [`NARROW`] outputs (the latent layer) use tiles of that width instead, to waste less on padding.
const TILE: usize = 8;
const NARROW: usize = 4;

/// One dense layer, weight transposed to `inputs × outputs` and outputs padded with zeros to a whole
/// number of tiles, so the inner kernel never needs a remainder loop.
#[derive(Clone, Debug)]
struct Dense {
    inputs: usize,
    outputs: usize,
    /// `outputs` rounded up to whole tiles: the row stride of this layer's output buffer.
    padded: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Dense {
    fn new(layer: &DenseWeights) -> Self {
        let tile = if layer.outputs <= NARROW { NARROW } else { TILE };
        let padded = layer.outputs.div_ceil(tile) * tile;
        let (weight, bias) = layer.transposed_padded(padded);
        Self { inputs: layer.inputs, outputs: layer.outputs, padded, weight, bias }
    }

    /// For the [`BLOCK`] rows of `input` (`in_stride` apart): `out = bias + Σ_i input[i] · W[i]`,
    /// optionally ReLU'd, written [`Self::padded`] apart. Padding outputs come out as zero.
    fn forward(&self, input: &[f32], in_stride: usize, out: &mut [f32], relu: bool) {
        // In the browser the loop is written with explicit SIMD, so its speed does not depend on the
        // optimiser (the page is built for size); it does exactly the same arithmetic, in the same order,
        // as the portable loop below, so the scores are bit for bit the same.
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            if self.padded.is_multiple_of(TILE) {
                return wasm_simd::forward::<2>(self, input, in_stride, out, relu);
            }
            return wasm_simd::forward::<1>(self, input, in_stride, out, relu);
        }
        #[allow(unreachable_code)]
        if self.padded.is_multiple_of(TILE) {
            self.forward_tiles::<TILE>(input, in_stride, out, relu)
        } else {
            self.forward_tiles::<NARROW>(input, in_stride, out, relu)
        }
    }

    fn forward_tiles<const T: usize>(&self, input: &[f32], in_stride: usize, out: &mut [f32], relu: bool) {
        for o0 in (0..self.padded).step_by(T) {
            let bias: [f32; T] = self.bias[o0..o0 + T].try_into().expect("padded to a tile");
            let mut acc = [bias; BLOCK];
            for i in 0..self.inputs {
                let w: [f32; T] = self.weight[i * self.padded + o0..][..T].try_into().expect("padded to a tile");
                for (r, row) in acc.iter_mut().enumerate() {
                    let x = input[r * in_stride + i];
                    for (a, wj) in row.iter_mut().zip(w) {
                        *a += x * wj;
                    }
                }
            }
            for (r, row) in acc.iter().enumerate() {
                let target = &mut out[r * self.padded + o0..][..T];
                for (t, &a) in target.iter_mut().zip(row) {
                    *t = if relu { a.max(0.0) } else { a };
                }
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm_simd {
    use core::arch::wasm32::*;

    use super::{Dense, BLOCK};

    /// Four f32s from `values[at..]` as one vector (bounds-checked, then one 16-byte load).
    #[inline(always)]
    fn load(values: &[f32], at: usize) -> v128 {
        let v = &values[at..at + 4];
        // SAFETY: `v` holds 4 f32s; v128_load allows unaligned addresses.
        unsafe { v128_load(v.as_ptr() as *const v128) }
    }

    /// [`Dense::forward`] with `V` vectors of 4 outputs per tile (V = 2 is a tile of 8, V = 1 of 4).
    /// Inlined by force: the page is built for size, and a call per weight would cost more than the work.
    #[inline(always)]
    pub fn forward<const V: usize>(layer: &Dense, input: &[f32], in_stride: usize, out: &mut [f32], relu: bool) {
        let width = 4 * V;
        assert!(input.len() >= (BLOCK - 1) * in_stride + layer.inputs && out.len() >= BLOCK * layer.padded);
        assert!(layer.weight.len() >= layer.inputs * layer.padded && layer.bias.len() >= layer.padded);
        for o0 in (0..layer.padded).step_by(width) {
            let mut bias = [f32x4_splat(0.0); V];
            for (v, b) in bias.iter_mut().enumerate() {
                *b = load(&layer.bias, o0 + 4 * v);
            }
            let mut acc = [bias; BLOCK];
            for i in 0..layer.inputs {
                let mut w = [f32x4_splat(0.0); V];
                for (v, wv) in w.iter_mut().enumerate() {
                    *wv = load(&layer.weight, i * layer.padded + o0 + 4 * v);
                }
                for (r, row) in acc.iter_mut().enumerate() {
                    let x = f32x4_splat(input[r * in_stride + i]);
                    for (a, &wv) in row.iter_mut().zip(&w) {
                        *a = f32x4_add(*a, f32x4_mul(x, wv));
                    }
                }
            }
            let zero = f32x4_splat(0.0);
            for (r, row) in acc.iter().enumerate() {
                for (v, &a) in row.iter().enumerate() {
                    let value = if relu { f32x4_pmax(zero, a) } else { a };
                    let target = &mut out[r * layer.padded + o0 + 4 * v..][..4];
                    // SAFETY: `target` holds 4 f32s; v128_store allows unaligned addresses.
                    unsafe { v128_store(target.as_mut_ptr() as *mut v128, value) };
                }
            }
        }
    }
}

/// Scores rows with a trained VAE's weights, exactly as `score::score_rows` defines the score.
#[derive(Clone, Debug)]
pub struct CpuScorer {
    encoder_hidden: Dense,
    encoder_mean: Dense,
    encoder_log_variance: Dense,
    decoder_hidden: Dense,
    decoder_output: Dense,
    likelihood: Likelihood,
    with_kl: bool,
}

/// Per-block working memory, one buffer per stage, [`BLOCK`] rows each.
struct Scratch {
    x: Vec<f32>,
    hidden: Vec<f32>,
    mean: Vec<f32>,
    log_variance: Vec<f32>,
    decoded: Vec<f32>,
    output: Vec<f32>,
}

impl CpuScorer {
    pub fn new(weights: &VaeWeights, likelihood: Likelihood, with_kl: bool) -> Self {
        Self {
            encoder_hidden: Dense::new(&weights.encoder_hidden),
            encoder_mean: Dense::new(&weights.encoder_mean),
            encoder_log_variance: Dense::new(&weights.encoder_log_variance),
            decoder_hidden: Dense::new(&weights.decoder_hidden),
            decoder_output: Dense::new(&weights.decoder_output),
            likelihood,
            with_kl,
        }
    }

    pub fn features(&self) -> usize {
        self.encoder_hidden.inputs
    }

    /// Scores `rows` (row-major, [`Self::features`] values each) into `scores`, one per row.
    pub fn score(&self, rows: &[f32], scores: &mut [f32]) {
        let f = self.features();
        let n = rows.len() / f;
        assert_eq!(scores.len(), n, "one score per row");
        let buffer = |layer: &Dense| vec![0f32; BLOCK * layer.padded];
        let mut scratch = Scratch {
            x: vec![0f32; BLOCK * f],
            hidden: buffer(&self.encoder_hidden),
            mean: buffer(&self.encoder_mean),
            log_variance: buffer(&self.encoder_log_variance),
            decoded: buffer(&self.decoder_hidden),
            output: buffer(&self.decoder_output),
        };
        let mut block_scores = [0f32; BLOCK];
        for start in (0..n).step_by(BLOCK) {
            let block = BLOCK.min(n - start);
            // A short last block is padded with zero rows, whose scores are dropped.
            scratch.x.fill(0.0);
            scratch.x[..block * f].copy_from_slice(&rows[start * f..(start + block) * f]);
            self.score_block(&mut scratch, &mut block_scores);
            scores[start..start + block].copy_from_slice(&block_scores[..block]);
        }
    }

    fn score_block(&self, scratch: &mut Scratch, scores: &mut [f32; BLOCK]) {
        let f = self.features();
        let Scratch { x, hidden, mean, log_variance, decoded, output } = scratch;
        self.encoder_hidden.forward(x, f, hidden, true);
        self.encoder_mean.forward(hidden, self.encoder_hidden.padded, mean, false);
        if self.with_kl {
            self.encoder_log_variance.forward(hidden, self.encoder_hidden.padded, log_variance, false);
        }
        self.decoder_hidden.forward(mean, self.encoder_mean.padded, decoded, true);
        self.decoder_output.forward(decoded, self.decoder_hidden.padded, output, false);
        let latent = self.encoder_mean.outputs;
        let (mean_stride, out_stride) = (self.encoder_mean.padded, self.decoder_output.padded);
        for (r, score) in scores.iter_mut().enumerate() {
            let (x, out) = (&x[r * f..(r + 1) * f], &output[r * out_stride..r * out_stride + f]);
            let mut error = 0f32;
            match self.likelihood {
                Likelihood::Gaussian => {
                    for (&xi, &oi) in x.iter().zip(out) {
                        let d = xi - oi;
                        error += d * d;
                    }
                    error *= 0.5;
                }
                Likelihood::Bernoulli => {
                    for (&xi, &l) in x.iter().zip(out) {
                        error += l.max(0.0) - xi * l + libm::log1pf(libm::expf(-l.abs()));
                    }
                }
            }
            if self.with_kl {
                let m = &mean[r * mean_stride..r * mean_stride + latent];
                let lv = &log_variance[r * mean_stride..r * mean_stride + latent];
                let kl: f32 = m.iter().zip(lv).map(|(&m, &lv)| 1.0 + lv - m * m - libm::expf(lv)).sum();
                error += -0.5 * kl;
            }
            *score = error;
        }
    }
}
