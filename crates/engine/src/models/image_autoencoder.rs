//! Plain (not variational) autoencoders on square images, scored by their reconstruction error: the
//! models of the jet-image experiment (Finke et al.), usable on 28 × 28 digits as on 40 × 40 jets.
//!
//! A batch row is one image, row by row. Both architectures output the reconstruction itself (no
//! squashing: jet intensities are tiny and sum to one), the loss is the mean over rows of the summed
//! squared error, and the score of a row is that summed squared error.
//!
//! - [`Architecture::Dense`]: pixels → ReLU(hidden) → latent → ReLU(hidden) → pixels (1600-128-32-128-1600
//!   on jets).
//! - [`Architecture::Conv`]: two 3 × 3 convolutions each followed by 2 × 2 max pooling, a dense bottleneck,
//!   then two nearest-neighbour upsamplings each followed by a 3 × 3 convolution. The convolutions are our
//!   own gather-and-multiply ones ([`super::conv`]), whose backward passes are all fast; no transposed
//!   convolution.

use candle_core::{Result, Tensor, D};
use candle_nn::{linear, Linear, Module, VarBuilder};

use super::conv::{max_pool2, upsample2, Conv3x3};

use crate::method::{InferenceStep, StepContext, TrainStep};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Architecture {
    Dense { hidden: usize, latent: usize },
    /// `channels` in the first convolution, twice as many in the second.
    Conv { channels: usize, latent: usize },
}

impl Architecture {
    pub const DENSE: Architecture = Architecture::Dense { hidden: 128, latent: 32 };
    pub const CONV: Architecture = Architecture::Conv { channels: 4, latent: 32 };

    pub fn name(self) -> &'static str {
        match self {
            Architecture::Dense { .. } => "dense",
            Architecture::Conv { .. } => "conv",
        }
    }
}

/// An autoencoder's shape: its architecture on `side` × `side` images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    pub side: usize,
    pub architecture: Architecture,
}

impl ImageShape {
    pub fn pixels(self) -> usize {
        self.side * self.side
    }

    /// Why this shape cannot be built, if it cannot: pooling twice needs a side divisible by 4.
    pub fn problem(self) -> Option<String> {
        match self.architecture {
            _ if self.side < 4 => Some(format!("images of {0} × {0} pixels are too small for an autoencoder", self.side)),
            Architecture::Conv { .. } if self.side % 4 != 0 => Some(format!(
                "the convolutional autoencoder halves the image twice, so its side must be a multiple of 4, not {}",
                self.side
            )),
            Architecture::Dense { hidden, latent } | Architecture::Conv { channels: hidden, latent } if hidden == 0 || latent == 0 => {
                Some("an autoencoder needs at least one unit in every layer".to_string())
            }
            _ => None,
        }
    }
}

/// Cloning shares the weights.
#[derive(Clone)]
pub enum ImageAutoencoder {
    Dense(DenseAutoencoder),
    Conv(ConvAutoencoder),
}

impl ImageAutoencoder {
    pub fn new(shape: ImageShape, vb: VarBuilder) -> Result<Self> {
        if let Some(problem) = shape.problem() {
            return Err(candle_core::Error::Msg(problem));
        }
        Ok(match shape.architecture {
            Architecture::Dense { hidden, latent } => ImageAutoencoder::Dense(DenseAutoencoder::new(shape.pixels(), hidden, latent, vb)?),
            Architecture::Conv { channels, latent } => ImageAutoencoder::Conv(ConvAutoencoder::new(shape.side, channels, latent, vb)?),
        })
    }

    /// The reconstruction of each row of `batch` (rows × pixels), as rows × pixels.
    pub fn reconstruct(&self, batch: &Tensor) -> Result<Tensor> {
        match self {
            ImageAutoencoder::Dense(model) => model.forward(batch),
            ImageAutoencoder::Conv(model) => model.forward(batch),
        }
    }
}

/// Σ over pixels of (x − x̂)², one value per row.
pub fn summed_squared_error(reconstruction: &Tensor, x: &Tensor) -> Result<Tensor> {
    (reconstruction - x)?.sqr()?.sum(D::Minus1)
}

impl TrainStep for ImageAutoencoder {
    fn loss(&self, batch: &Tensor, _: &mut StepContext) -> Result<Tensor> {
        summed_squared_error(&self.reconstruct(batch)?, batch)?.mean_all()
    }
}

impl InferenceStep for ImageAutoencoder {
    fn score(&self, batch: &Tensor) -> Result<Tensor> {
        summed_squared_error(&self.reconstruct(batch)?, batch)
    }
}

#[derive(Clone)]
pub struct DenseAutoencoder {
    encoder_hidden: Linear,
    encoder_latent: Linear,
    decoder_hidden: Linear,
    decoder_output: Linear,
}

impl DenseAutoencoder {
    fn new(pixels: usize, hidden: usize, latent: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            encoder_hidden: linear(pixels, hidden, vb.pp("encoder_hidden"))?,
            encoder_latent: linear(hidden, latent, vb.pp("encoder_latent"))?,
            decoder_hidden: linear(latent, hidden, vb.pp("decoder_hidden"))?,
            decoder_output: linear(hidden, pixels, vb.pp("decoder_output"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let latent = self.encoder_latent.forward(&self.encoder_hidden.forward(x)?.relu()?)?;
        self.decoder_output.forward(&self.decoder_hidden.forward(&latent)?.relu()?)
    }
}

#[derive(Clone)]
pub struct ConvAutoencoder {
    side: usize,
    channels: usize,
    encoder_first: Conv3x3,
    encoder_second: Conv3x3,
    encoder_latent: Linear,
    decoder_dense: Linear,
    decoder_first: Conv3x3,
    decoder_output: Conv3x3,
}

impl ConvAutoencoder {
    fn new(side: usize, channels: usize, latent: usize, vb: VarBuilder) -> Result<Self> {
        let inner = 2 * channels * (side / 4) * (side / 4);
        Ok(Self {
            side,
            channels,
            encoder_first: Conv3x3::new(1, channels, vb.pp("encoder_first"))?,
            encoder_second: Conv3x3::new(channels, 2 * channels, vb.pp("encoder_second"))?,
            encoder_latent: linear(inner, latent, vb.pp("encoder_latent"))?,
            decoder_dense: linear(latent, inner, vb.pp("decoder_dense"))?,
            decoder_first: Conv3x3::new(2 * channels, channels, vb.pp("decoder_first"))?,
            decoder_output: Conv3x3::new(channels, 1, vb.pp("decoder_output"))?,
        })
    }

    /// The images run channels-last through the convolutions (see [`super::conv`]); the dense layers see
    /// the channels first, as with candle's own convolutions, so the weights mean the same either way.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let rows = x.dim(0)?;
        let (side, quarter, inner_channels) = (self.side, self.side / 4, 2 * self.channels);
        let image = x.reshape((rows, side, side, 1))?;
        let first = max_pool2(&self.encoder_first.forward(&image)?.relu()?)?;
        let second = max_pool2(&self.encoder_second.forward(&first)?.relu()?)?;
        let latent = self.encoder_latent.forward(&second.permute((0, 3, 1, 2))?.flatten_from(1)?)?;
        let inner = self.decoder_dense.forward(&latent)?.relu()?.reshape((rows, inner_channels, quarter, quarter))?.permute((0, 2, 3, 1))?;
        let up = self.decoder_first.forward(&upsample2(&inner)?)?.relu()?;
        let out = self.decoder_output.forward(&upsample2(&up)?)?;
        out.reshape((rows, side * side))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};
    use candle_nn::VarMap;

    fn built(side: usize, architecture: Architecture) -> (ImageAutoencoder, VarMap) {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let model = ImageAutoencoder::new(ImageShape { side, architecture }, vb).unwrap();
        crate::models::init::seeded_init(&varmap, 3).unwrap();
        (model, varmap)
    }

    fn random_images(rows: usize, side: usize) -> Tensor {
        let mut rng = crate::rng::SeededRng::new(4);
        let values: Vec<f32> = (0..rows * side * side).map(|_| if rng.uniform() < 0.1 { rng.uniform() } else { 0.0 }).collect();
        Tensor::from_vec(values, (rows, side * side), &Device::Cpu).unwrap()
    }

    #[test]
    fn both_architectures_reconstruct_jets_and_digits_at_their_size() {
        for side in [28, 40] {
            for architecture in [Architecture::DENSE, Architecture::CONV] {
                let (model, _) = built(side, architecture);
                let x = random_images(3, side);
                assert_eq!(model.reconstruct(&x).unwrap().dims(), &[3, side * side], "{architecture:?} at {side}");
                assert_eq!(model.score(&x).unwrap().dims(), &[3]);
            }
        }
    }

    #[test]
    fn the_score_is_the_summed_squared_error_of_the_reconstruction() {
        let (model, _) = built(8, Architecture::Conv { channels: 2, latent: 3 });
        let x = random_images(2, 8);
        let reconstruction = model.reconstruct(&x).unwrap().to_vec2::<f32>().unwrap();
        let images = x.to_vec2::<f32>().unwrap();
        let scores = model.score(&x).unwrap().to_vec1::<f32>().unwrap();
        for row in 0..2 {
            let expected: f32 = images[row].iter().zip(&reconstruction[row]).map(|(a, b)| (a - b) * (a - b)).sum();
            assert!((scores[row] - expected).abs() < 1e-5 * expected.max(1.0), "{} vs {expected}", scores[row]);
        }
    }

    #[test]
    fn every_parameter_receives_a_gradient() {
        for architecture in [Architecture::Dense { hidden: 6, latent: 2 }, Architecture::Conv { channels: 2, latent: 3 }] {
            let (model, varmap) = built(8, architecture);
            let vars: Vec<(String, Var)> = varmap.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            assert_eq!(vars.len(), if architecture.name() == "dense" { 8 } else { 12 });
            let missing = crate::method::parameters_without_gradient(&model, &vars, &random_images(5, 8), 1).unwrap();
            assert_eq!(missing, Vec::<String>::new(), "{architecture:?}");
        }
    }

    #[test]
    fn a_convolutional_autoencoder_needs_a_side_divisible_by_four() {
        let shape = ImageShape { side: 30, architecture: Architecture::CONV };
        assert!(shape.problem().unwrap().contains("multiple of 4"));
        assert_eq!(ImageShape { side: 30, architecture: Architecture::DENSE }.problem(), None);
        assert!(ImageShape { side: 40, architecture: Architecture::Dense { hidden: 0, latent: 3 } }.problem().is_some());
    }

    #[test]
    fn convolution_kernels_get_seeded_random_weights() {
        let (_, varmap) = built(8, Architecture::Conv { channels: 2, latent: 3 });
        let vars = varmap.data().lock().unwrap();
        let kernel = vars["encoder_second.weight"].as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let bound = 1.0 / (2.0f32 * 9.0).sqrt();
        assert!(kernel.iter().all(|w| w.abs() <= bound) && kernel.iter().any(|w| w.abs() > 0.5 * bound));
    }
}
