//! The scoring pass of a trained VAE on the CPU, fused into one pass per batch of rows: encoder → μ →
//! decoder → reconstruction error (+ KL), without building a tensor per layer.
//!
//! Training needs candle (gradients, optimiser); scoring a million rows does not, and there candle's cost
//! per operation (a new tensor for each of ~10 ops per batch) dominates a model this small. These loops
//! are written for SIMD (explicit wasm `simd128` in the browser, vectorised by the compiler natively):
//! weights are stored so the innermost loop runs over contiguous outputs, and rows go in groups so each
//! weight loaded is used once per row of the group (`dense.rs`). In layers with many outputs, inputs
//! that are zero in all rows of a group are skipped: most pixels of a handwritten digit are blank, and
//! ReLU zeroes about half of each hidden layer, so on the digit model this skips about half the
//! multiplications. Adding `0 · w` changes no sum, so the skipping changes no score. Results equal
//! candle's forward pass to float rounding (tested in `tests/inference_parity.rs`). Its `exp` and `ln`
//! are libm's or our own polynomials (`bernoulli.rs`), and its sums run in the same order in wasm and
//! natively, so the native scorer and the page agree to the last bit.

mod bernoulli;
mod dense;
mod gaussian;

use dense::{Active, Dense, GROUP_ROWS_LCM};

use crate::models::{Likelihood, ScoringModel, VaeWeights};

/// Rows that go through each layer together, so that each tile of weights, once read from memory, is
/// used for all of them. Their activations (200 KB for a digit model) stay in a core's L2 cache.
const BATCH: usize = 64;
/// The fewest rows worth handing to another thread.
const MIN_ROWS_PER_THREAD: usize = 4 * BATCH;
// A batch padded to whole groups must still fit the batch's buffers.
const _: () = assert!(BATCH.is_multiple_of(GROUP_ROWS_LCM));

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

/// Per-batch working memory, one buffer per stage, [`BATCH`] rows each.
struct Scratch {
    hidden: Vec<f32>,
    mean: Vec<f32>,
    log_variance: Vec<f32>,
    decoded: Vec<f32>,
    output: Vec<f32>,
    /// The inputs of the layer being computed that are not zero in every row of a group.
    active: Active,
}

impl CpuScorer {
    /// The kernel for any model the playground scores.
    pub fn for_model(model: &ScoringModel) -> Self {
        match model {
            ScoringModel::Vae { weights, likelihood, with_kl } => Self::new(weights, *likelihood, *with_kl),
        }
    }

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

    /// Scores `rows` (row-major, [`Self::features`] values each) into `scores`, one per row, split over
    /// the engine's threads (`crate::parallel`) in runs of whole batches. A row's score does not depend
    /// on the rows beside it, so every thread count gives the same scores to the last bit.
    pub fn score(&self, rows: &[f32], scores: &mut [f32]) {
        let f = self.features();
        let n = rows.len() / f;
        assert_eq!(scores.len(), n, "one score per row");
        let parts = crate::parallel::threads().min(n / MIN_ROWS_PER_THREAD);
        if parts <= 1 {
            return self.score_on_this_thread(rows, scores);
        }
        let per_part = n.div_ceil(parts).next_multiple_of(BATCH);
        let pieces: Vec<(&[f32], &mut [f32])> = rows.chunks(per_part * f).zip(scores.chunks_mut(per_part)).collect();
        crate::parallel::map_parts(pieces, |(rows, scores)| self.score_on_this_thread(rows, scores));
    }

    fn score_on_this_thread(&self, rows: &[f32], scores: &mut [f32]) {
        let f = self.features();
        let n = rows.len() / f;
        let buffer = |layer: &Dense| vec![0f32; BATCH * layer.padded];
        let mut scratch = Scratch {
            hidden: buffer(&self.encoder_hidden),
            mean: buffer(&self.encoder_mean),
            log_variance: buffer(&self.encoder_log_variance),
            decoded: buffer(&self.decoder_hidden),
            output: buffer(&self.decoder_output),
            active: Active::default(),
        };
        let mut batch_scores = [0f32; BATCH];
        for start in (0..n).step_by(BATCH) {
            let count = BATCH.min(n - start);
            let batch = &rows[start * f..(start + count) * f];
            if count.is_multiple_of(GROUP_ROWS_LCM) {
                self.score_batch(batch, &mut scratch, count, &mut scores[start..start + count]);
                continue;
            }
            // Whole batches are read where they are. A short last group (at most once per call) is
            // copied and padded with zero rows, whose scores are dropped.
            let padded = count.next_multiple_of(GROUP_ROWS_LCM);
            let mut x = vec![0f32; padded * f];
            x[..count * f].copy_from_slice(batch);
            self.score_batch(&x, &mut scratch, padded, &mut batch_scores[..padded]);
            scores[start..start + count].copy_from_slice(&batch_scores[..count]);
        }
    }

    /// Scores the `rows` rows of `x` (a whole number of groups) into `scores`.
    fn score_batch(&self, x: &[f32], scratch: &mut Scratch, rows: usize, scores: &mut [f32]) {
        let f = self.features();
        let Scratch { hidden, mean, log_variance, decoded, output, active } = scratch;
        active.find(x, f, f, rows, &self.encoder_hidden);
        self.encoder_hidden.forward(x, f, active, hidden, true);
        let stride = self.encoder_hidden.padded;
        active.find(hidden, stride, self.encoder_hidden.outputs, rows, &self.encoder_mean);
        self.encoder_mean.forward(hidden, stride, active, mean, false);
        if self.with_kl {
            self.encoder_log_variance.forward(hidden, stride, active, log_variance, false);
        }
        let stride = self.encoder_mean.padded;
        active.find(mean, stride, self.encoder_mean.outputs, rows, &self.decoder_hidden);
        self.decoder_hidden.forward(mean, stride, active, decoded, true);
        let stride = self.decoder_hidden.padded;
        active.find(decoded, stride, self.decoder_hidden.outputs, rows, &self.decoder_output);
        self.decoder_output.forward(decoded, stride, active, output, false);
        let latent = self.encoder_mean.outputs;
        let (mean_stride, out_stride) = (self.encoder_mean.padded, self.decoder_output.padded);
        for (r, score) in scores.iter_mut().enumerate() {
            let (x, out) = (&x[r * f..(r + 1) * f], &output[r * out_stride..r * out_stride + f]);
            let mut error = match self.likelihood {
                Likelihood::Gaussian => gaussian::row_error(x, out),
                Likelihood::Bernoulli => bernoulli::row_error(x, out),
            };
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
