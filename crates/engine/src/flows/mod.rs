//! Normalising flows: densities with an exact log-likelihood and exact sampling, for the resonance
//! search (SCIENCE.md, "R-ANODE"). `made.rs` is the masked network, `maf.rs` the conditional masked
//! autoregressive flow built from it.

pub mod made;
pub mod maf;

pub use maf::{Maf, MafConfig};
