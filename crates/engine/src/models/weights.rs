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

impl DenseWeights {
    /// The weight transposed to inputs × `padded` outputs (padding is zero) and the bias padded to
    /// `padded`: the layout both scoring kernels read (the CPU's and the GPU's), where one weight row is a
    /// run of contiguous outputs.
    pub fn transposed_padded(&self, padded: usize) -> (Vec<f32>, Vec<f32>) {
        assert!(padded >= self.outputs, "padding cannot drop outputs");
        let mut weight = vec![0f32; self.inputs * padded];
        for o in 0..self.outputs {
            for i in 0..self.inputs {
                weight[i * padded + o] = self.weight[o * self.inputs + i];
            }
        }
        let mut bias = self.bias.clone();
        bias.resize(padded, 0.0);
        (weight, bias)
    }
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
