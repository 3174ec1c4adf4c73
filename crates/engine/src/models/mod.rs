//! Models the playground trains. One file per model; each is built by `new(shape, VarBuilder)`.

pub mod init;
pub mod scoring;
pub mod vae;
pub mod weights;

pub use vae::{Likelihood, Vae, VaeConfig, VaeOutput, VaeShape};
pub use scoring::ScoringModel;
pub use weights::{DenseWeights, VaeWeights};
