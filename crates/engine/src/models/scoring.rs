//! A trained model as the scorers take it, whatever its method: its weights as plain numbers and what its
//! score adds up. The CPU kernel ([`crate::inference::CpuScorer`]) scores every kind; the GPU crate has
//! kernels for some, and a model without one scores on the CPU (the worker says so).

use serde::{Deserialize, Serialize};

use super::{Likelihood, VaeWeights};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ScoringModel {
    /// A VAE scored with z = μ: the reconstruction error for `likelihood`, plus the KL term if `with_kl`.
    Vae { weights: VaeWeights, likelihood: Likelihood, with_kl: bool },
}
