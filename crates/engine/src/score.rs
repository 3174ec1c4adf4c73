//! Anomaly scores from a trained VAE: reconstruction error, optionally plus the KL term.
//!
//! Scoring uses z = μ (no sampling), so a row's score is a deterministic function of the row and the
//! weights. Rows are scored in chunks to keep memory flat for large inputs.

use candle_core::{Device, Result, Tensor};

use crate::models::Vae;

const CHUNK_ROWS: usize = 512;

/// What scoring returns for each row.
pub struct Scored {
    pub scores: Vec<f32>,
    /// μ of q(z | x), row-major, `latent` values per row.
    pub latent_means: Vec<f32>,
}

pub fn score_rows(vae: &Vae, rows: &[f32], with_kl: bool) -> Result<Scored> {
    let features = vae.shape().inputs;
    let n = rows.len() / features;
    let mut scores = Vec::with_capacity(n);
    let mut latent_means = Vec::with_capacity(n * vae.shape().latent);
    for start in (0..n).step_by(CHUNK_ROWS) {
        let end = (start + CHUNK_ROWS).min(n);
        let x = Tensor::from_slice(&rows[start * features..end * features], (end - start, features), &Device::Cpu)?;
        let out = vae.forward_mean(&x)?;
        scores.extend(vae.score_of(&out, &x, with_kl)?.to_vec1::<f32>()?);
        latent_means.extend(out.mean.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(Scored { scores, latent_means })
}

/// The VAE's reconstruction of each row, in the input's units (intensities in [0, 1] for digits).
pub fn reconstruct(vae: &Vae, rows: &[f32]) -> Result<Vec<f32>> {
    let features = vae.shape().inputs;
    let x = Tensor::from_slice(rows, (rows.len() / features, features), &Device::Cpu)?;
    vae.reconstruction(&vae.forward_mean(&x)?.logits)?.flatten_all()?.to_vec1::<f32>()
}
