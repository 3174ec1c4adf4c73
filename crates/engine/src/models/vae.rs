//! A variational autoencoder with MLP encoder and decoder (SCIENCE.md, section 1).
//!
//! encoder: x → ReLU(hidden) → (μ, log σ²); decoder: z → ReLU(hidden) → logits of x̂.
//! For digits the inputs are intensities in [0, 1] and the decoder's outputs are Bernoulli logits, so the
//! reconstruction error is the binary cross-entropy summed over the pixels of a row. For tables the inputs
//! are standardised real numbers and the outputs are the means of unit-variance Gaussians, so the error is
//! ½ Σ (x − x̂)², the Gaussian negative log-likelihood without its constant.

use candle_core::{Device, Result, Tensor, D};
use candle_nn::{linear, Linear, Module, VarBuilder};

use crate::method::{InferenceStep, StepContext, TrainStep};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VaeShape {
    pub inputs: usize,
    pub hidden: usize,
    pub latent: usize,
    pub likelihood: Likelihood,
}

/// What the decoder's outputs mean, which decides the reconstruction error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Likelihood {
    /// Pixel intensities in [0, 1]: outputs are logits, error is binary cross-entropy.
    #[default]
    Bernoulli,
    /// Standardised real features: outputs are the reconstruction itself, error is ½ Σ (x − x̂)².
    Gaussian,
}

/// Everything that builds a VAE: its shape, the loss's β and what its score adds up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VaeConfig {
    pub shape: VaeShape,
    /// Weight of the KL term in the training loss.
    pub beta: f32,
    /// The score is the reconstruction error, plus the KL term when this is set.
    pub score_with_kl: bool,
}

/// Cloning shares the weights: a clone computes with the same variables, so it sees every update.
#[derive(Clone)]
pub struct Vae {
    encoder_hidden: Linear,
    encoder_mean: Linear,
    encoder_log_variance: Linear,
    decoder_hidden: Linear,
    decoder_output: Linear,
    config: VaeConfig,
}

/// What one pass through the VAE gives, each with one row per input row.
pub struct VaeOutput {
    pub logits: Tensor,
    pub mean: Tensor,
    pub log_variance: Tensor,
}

impl Vae {
    pub fn new(config: VaeConfig, vb: VarBuilder) -> Result<Self> {
        let shape = config.shape;
        Ok(Self {
            encoder_hidden: linear(shape.inputs, shape.hidden, vb.pp("encoder_hidden"))?,
            encoder_mean: linear(shape.hidden, shape.latent, vb.pp("encoder_mean"))?,
            encoder_log_variance: linear(shape.hidden, shape.latent, vb.pp("encoder_log_variance"))?,
            decoder_hidden: linear(shape.latent, shape.hidden, vb.pp("decoder_hidden"))?,
            decoder_output: linear(shape.hidden, shape.inputs, vb.pp("decoder_output"))?,
            config,
        })
    }

    pub fn shape(&self) -> VaeShape {
        self.config.shape
    }

    pub fn config(&self) -> VaeConfig {
        self.config
    }

    /// The model as the scorers take it, its score with the KL term if `with_kl`.
    pub fn scoring_model(&self, with_kl: bool) -> Result<super::ScoringModel> {
        Ok(super::ScoringModel::Vae { weights: self.weights()?, likelihood: self.config.shape.likelihood, with_kl })
    }

    /// The weights as plain numbers (for the WebGPU kernels and model files).
    pub fn weights(&self) -> Result<super::VaeWeights> {
        let dense = |layer: &Linear| -> Result<super::DenseWeights> {
            let (outputs, inputs) = layer.weight().dims2()?;
            Ok(super::DenseWeights {
                inputs,
                outputs,
                weight: layer.weight().flatten_all()?.to_vec1()?,
                bias: match layer.bias() {
                    Some(bias) => bias.to_vec1()?,
                    None => vec![0.0; outputs],
                },
            })
        };
        Ok(super::VaeWeights {
            encoder_hidden: dense(&self.encoder_hidden)?,
            encoder_mean: dense(&self.encoder_mean)?,
            encoder_log_variance: dense(&self.encoder_log_variance)?,
            decoder_hidden: dense(&self.decoder_hidden)?,
            decoder_output: dense(&self.decoder_output)?,
        })
    }

    /// (μ, log σ²) of q(z | x).
    pub fn encode(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let hidden = self.encoder_hidden.forward(x)?.relu()?;
        Ok((self.encoder_mean.forward(&hidden)?, self.encoder_log_variance.forward(&hidden)?))
    }

    pub fn decode_logits(&self, z: &Tensor) -> Result<Tensor> {
        self.decoder_output.forward(&self.decoder_hidden.forward(z)?.relu()?)
    }

    /// Reconstruction error per row, for this model's likelihood.
    pub fn reconstruction_error(&self, output: &Tensor, x: &Tensor) -> Result<Tensor> {
        match self.config.shape.likelihood {
            Likelihood::Bernoulli => reconstruction_error(output, x),
            Likelihood::Gaussian => squared_error(output, x),
        }
    }

    /// The reconstruction in the input's own units (intensities for digits, standardised values for tables).
    pub fn reconstruction(&self, output: &Tensor) -> Result<Tensor> {
        match self.config.shape.likelihood {
            Likelihood::Bernoulli => intensities(output),
            Likelihood::Gaussian => Ok(output.clone()),
        }
    }

    /// A training pass: z = μ + σ·ε with the caller's noise ε (so the caller controls the seed).
    pub fn forward_sampled(&self, x: &Tensor, noise: &Tensor) -> Result<VaeOutput> {
        let (mean, log_variance) = self.encode(x)?;
        let z = (&mean + (log_variance.affine(0.5, 0.0)?.exp()? * noise)?)?;
        Ok(VaeOutput { logits: self.decode_logits(&z)?, mean, log_variance })
    }

    /// A scoring pass: z = μ, so a row's score does not depend on random noise.
    pub fn forward_mean(&self, x: &Tensor) -> Result<VaeOutput> {
        let (mean, log_variance) = self.encode(x)?;
        Ok(VaeOutput { logits: self.decode_logits(&mean)?, mean, log_variance })
    }

    /// Per row, the reconstruction error of a scoring pass `out` over `x`, plus the KL term if `with_kl`.
    pub fn score_of(&self, out: &VaeOutput, x: &Tensor, with_kl: bool) -> Result<Tensor> {
        let error = self.reconstruction_error(&out.logits, x)?;
        match with_kl {
            true => error + kl_divergence(&out.mean, &out.log_variance)?,
            false => Ok(error),
        }
    }

    /// ε for `rows` rows, drawn from `noise` row by row.
    pub fn draw_noise(&self, rows: usize, noise: &mut crate::rng::SeededRng) -> Vec<f32> {
        (0..rows * self.config.shape.latent).map(|_| noise.normal()).collect()
    }
}

impl TrainStep for Vae {
    /// Mean over rows of reconstruction error + β·KL.
    fn loss(&self, batch: &Tensor, context: &mut StepContext) -> Result<Tensor> {
        let rows = batch.dims()[0];
        let noise = Tensor::from_vec(self.draw_noise(rows, context.noise), (rows, self.config.shape.latent), &Device::Cpu)?;
        let out = self.forward_sampled(batch, &noise)?;
        let reconstruction = self.reconstruction_error(&out.logits, batch)?.mean_all()?;
        let kl = kl_divergence(&out.mean, &out.log_variance)?.mean_all()?;
        reconstruction + kl.affine(self.config.beta as f64, 0.0)?
    }

    fn noise_draws_per_row(&self) -> Option<usize> {
        Some(self.config.shape.latent)
    }
}

impl InferenceStep for Vae {
    /// The reconstruction error with z = μ, plus the KL term when the config says so.
    fn score(&self, batch: &Tensor) -> Result<Tensor> {
        self.score_of(&self.forward_mean(batch)?, batch, self.config.score_with_kl)
    }
}

/// Binary cross-entropy between targets x ∈ [0, 1] and logits l, summed per row, in the form that never
/// overflows: max(l, 0) − x·l + ln(1 + e^{−|l|}).
pub fn reconstruction_error(logits: &Tensor, x: &Tensor) -> Result<Tensor> {
    let softplus_tail = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    ((logits.relu()? - (x * logits)?)? + softplus_tail)?.sum(D::Minus1)
}

/// ½ Σ (x − x̂)² per row: the negative log-likelihood of unit-variance Gaussians, without the constant.
pub fn squared_error(output: &Tensor, x: &Tensor) -> Result<Tensor> {
    (output - x)?.sqr()?.sum(D::Minus1)?.affine(0.5, 0.0)
}

/// KL(q(z | x) ‖ N(0, 1)) per row: −½ Σ (1 + log σ² − μ² − σ²).
pub fn kl_divergence(mean: &Tensor, log_variance: &Tensor) -> Result<Tensor> {
    let terms = ((log_variance.affine(1.0, 1.0)? - mean.sqr()?)? - log_variance.exp()?)?;
    terms.sum(D::Minus1)?.affine(-0.5, 0.0)
}

/// Sigmoid of the logits: the reconstructed intensities in [0, 1].
pub fn intensities(logits: &Tensor) -> Result<Tensor> {
    candle_nn::ops::sigmoid(logits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;
    use candle_nn::VarMap;

    fn small_vae() -> (Vae, VarMap) {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let shape = VaeShape { inputs: 12, hidden: 8, latent: 3, likelihood: Likelihood::Bernoulli };
        let vae = Vae::new(VaeConfig { shape, beta: 1.0, score_with_kl: false }, vb).unwrap();
        crate::models::init::seeded_init(&varmap, 5).unwrap();
        (vae, varmap)
    }

    #[test]
    fn shapes_follow_the_settings() {
        let (vae, _) = small_vae();
        let x = Tensor::zeros((5, 12), DType::F32, &Device::Cpu).unwrap();
        let out = vae.forward_sampled(&x, &Tensor::ones((5, 3), DType::F32, &Device::Cpu).unwrap()).unwrap();
        assert_eq!(out.logits.dims(), &[5, 12]);
        assert_eq!(out.mean.dims(), &[5, 3]);
        assert_eq!(out.log_variance.dims(), &[5, 3]);
        assert_eq!(reconstruction_error(&out.logits, &x).unwrap().dims(), &[5]);
        assert_eq!(kl_divergence(&out.mean, &out.log_variance).unwrap().dims(), &[5]);
    }

    #[test]
    fn reconstruction_error_matches_the_textbook_formula() {
        let logits = Tensor::new(&[[2.0f32, -1.0, 0.0], [30.0, -30.0, 0.5]], &Device::Cpu).unwrap();
        let x = Tensor::new(&[[1.0f32, 0.0, 0.5], [0.0, 1.0, 1.0]], &Device::Cpu).unwrap();
        let got = reconstruction_error(&logits, &x).unwrap().to_vec1::<f32>().unwrap();
        let expected: Vec<f32> = [[2.0f64, -1.0, 0.0], [30.0, -30.0, 0.5]]
            .iter()
            .zip([[1.0f64, 0.0, 0.5], [0.0, 1.0, 1.0]])
            .map(|(l, t)| {
                l.iter().zip(t).map(|(&l, t)| {
                    let p = 1.0 / (1.0 + (-l).exp());
                    -(t * p.max(1e-300).ln() + (1.0 - t) * (1.0 - p).max(1e-300).ln())
                }).sum::<f64>() as f32
            })
            .collect();
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-4 * e.abs().max(1.0), "{got:?} vs {expected:?}");
        }
    }

    #[test]
    fn squared_error_is_half_the_sum_of_squares() {
        let out = Tensor::new(&[[1.0f32, 2.0], [0.0, 0.0]], &Device::Cpu).unwrap();
        let x = Tensor::new(&[[0.0f32, 4.0], [3.0, 0.0]], &Device::Cpu).unwrap();
        assert_eq!(squared_error(&out, &x).unwrap().to_vec1::<f32>().unwrap(), vec![2.5, 4.5]);
    }

    #[test]
    fn kl_is_zero_for_the_prior_and_positive_otherwise() {
        let zeros = Tensor::zeros((1, 3), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(kl_divergence(&zeros, &zeros).unwrap().to_vec1::<f32>().unwrap(), vec![0.0]);
        let mean = Tensor::new(&[[1.0f32, 0.0, -2.0]], &Device::Cpu).unwrap();
        // −½ Σ (1 + 0 − μ² − 1) = ½ Σ μ² = 2.5
        assert_eq!(kl_divergence(&mean, &zeros).unwrap().to_vec1::<f32>().unwrap(), vec![2.5]);
    }

    #[test]
    fn every_parameter_receives_a_gradient() {
        for likelihood in [Likelihood::Bernoulli, Likelihood::Gaussian] {
            let varmap = VarMap::new();
            let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
            let shape = VaeShape { inputs: 12, hidden: 8, latent: 3, likelihood };
            let vae = Vae::new(VaeConfig { shape, beta: 1.0, score_with_kl: false }, vb).unwrap();
            crate::models::init::seeded_init(&varmap, 5).unwrap();
            let mut rng = crate::rng::SeededRng::new(2);
            let batch = Tensor::from_vec((0..6 * 12).map(|_| rng.uniform()).collect::<Vec<f32>>(), (6, 12), &Device::Cpu).unwrap();
            let vars: Vec<(String, candle_core::Var)> = varmap.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            assert_eq!(vars.len(), 10);
            let missing = crate::method::parameters_without_gradient(&vae, &vars, &batch, 1).unwrap();
            assert_eq!(missing, Vec::<String>::new(), "{likelihood:?}");
        }
    }

    #[test]
    fn the_inference_step_is_the_score_of_a_scoring_pass() {
        let (vae, _) = small_vae();
        let x = Tensor::new(&[[0.1f32; 12], [0.9; 12]], &Device::Cpu).unwrap();
        let out = vae.forward_mean(&x).unwrap();
        let expected = (reconstruction_error(&out.logits, &x).unwrap()).to_vec1::<f32>().unwrap();
        assert_eq!(vae.score(&x).unwrap().to_vec1::<f32>().unwrap(), expected);
    }

    #[test]
    fn seeded_init_reproduces_weights() {
        let (a, _) = small_vae();
        let (b, _) = small_vae();
        let x = Tensor::ones((2, 12), DType::F32, &Device::Cpu).unwrap();
        let la = a.forward_mean(&x).unwrap().logits.to_vec2::<f32>().unwrap();
        let lb = b.forward_mean(&x).unwrap().logits.to_vec2::<f32>().unwrap();
        assert_eq!(la, lb);
    }
}
