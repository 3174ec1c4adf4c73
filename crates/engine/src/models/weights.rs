//! A trained model's weights as plain numbers, for anything that runs the model outside candle (the
//! WebGPU kernels, model files). Layouts follow candle: a dense weight is `outputs × inputs`, row-major.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseWeights {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// The five dense layers of [`crate::models::Vae`], in the order data flows through them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaeWeights {
    pub encoder_hidden: DenseWeights,
    pub encoder_mean: DenseWeights,
    pub encoder_log_variance: DenseWeights,
    pub decoder_hidden: DenseWeights,
    pub decoder_output: DenseWeights,
}

impl VaeWeights {
    pub fn inputs(&self) -> usize {
        self.encoder_hidden.inputs
    }
    pub fn hidden(&self) -> usize {
        self.encoder_hidden.outputs
    }
    pub fn latent(&self) -> usize {
        self.encoder_mean.outputs
    }
}
