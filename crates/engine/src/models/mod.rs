//! Models the playground trains. One file per model; each is built by `new(shape, VarBuilder)`.

pub mod init;
pub mod vae;

pub use vae::{Vae, VaeOutput, VaeShape};
