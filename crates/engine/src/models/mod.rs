//! Models the playground trains. One file per model; each is built by `new(shape, VarBuilder)`.

pub mod conv;
pub mod image_autoencoder;
pub mod init;
pub mod scoring;
pub mod vae;
pub mod weights;

pub use image_autoencoder::{Architecture, ImageAutoencoder, ImageShape};
pub use vae::{Likelihood, Vae, VaeConfig, VaeOutput, VaeShape};
pub use scoring::ScoringModel;
pub use weights::{DenseWeights, VaeWeights};
