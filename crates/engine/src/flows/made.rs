//! MADE (Germain et al. 2015, arXiv:1502.03509): a feed-forward network whose weight masks make output i
//! depend only on the inputs that come before i in a chosen order, so that one pass gives every
//! conditional of an autoregressive density. A context (the variable a density is conditioned on, such as
//! m_jj) feeds the first hidden layer unmasked: every output may depend on it.

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{linear, linear_no_bias, Linear, Module, VarBuilder};

/// A linear layer whose weight is multiplied by a fixed 0/1 mask before use.
#[derive(Clone)]
pub struct MaskedLinear {
    linear: Linear,
    /// outputs × inputs, like the weight.
    mask: Tensor,
}

impl MaskedLinear {
    fn new(inputs: usize, outputs: usize, mask: Vec<f32>, vb: VarBuilder) -> Result<Self> {
        let linear = linear(inputs, outputs, vb)?;
        let mask = Tensor::from_vec(mask, (outputs, inputs), &Device::Cpu)?;
        Ok(Self { linear, mask })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let weight = (self.linear.weight() * &self.mask)?;
        let bias = self.linear.bias().expect("built with a bias");
        x.matmul(&weight.t()?)?.broadcast_add(bias)
    }
}

/// The shape of one MADE network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MadeShape {
    pub features: usize,
    pub context: usize,
    pub hidden: usize,
    pub hidden_layers: usize,
    /// Numbers the network gives per feature (two for an affine transform: shift and log-scale).
    pub outputs_per_feature: usize,
}

/// A MADE network for one ordering of the features.
#[derive(Clone)]
pub struct Made {
    hidden: Vec<MaskedLinear>,
    context: Option<Linear>,
    output: MaskedLinear,
    shape: MadeShape,
}

/// Where each hidden unit may look: degree k sees inputs of degree ≤ k. Degrees cycle through
/// 1..features−1 so that every degree is used; with one feature, hidden units see no input (degree 0).
fn hidden_degrees(units: usize, features: usize) -> Vec<usize> {
    (0..units).map(|k| if features < 2 { 0 } else { k % (features - 1) + 1 }).collect()
}

impl Made {
    /// `degrees[i]` is feature i's place in the order (1-based, a permutation of 1..=features).
    pub fn new(shape: MadeShape, degrees: &[usize], vb: VarBuilder) -> Result<Self> {
        assert_eq!(degrees.len(), shape.features);
        let hidden_degrees = hidden_degrees(shape.hidden, shape.features);
        let mut hidden = Vec::with_capacity(shape.hidden_layers);
        let mut previous: Vec<usize> = degrees.to_vec();
        for layer in 0..shape.hidden_layers {
            let mask = hidden_degrees.iter().flat_map(|&h| previous.iter().map(move |&p| f32::from(u8::from(h >= p)))).collect();
            hidden.push(MaskedLinear::new(previous.len(), shape.hidden, mask, vb.pp(format!("hidden{layer}")))?);
            previous = hidden_degrees.clone();
        }
        // Output j of feature i (outputs are grouped by kind: all shifts, then all log-scales) sees hidden
        // units of degree < degree of i: strictly earlier features only.
        let output_degrees: Vec<usize> = (0..shape.outputs_per_feature).flat_map(|_| degrees.iter().copied()).collect();
        let mask = output_degrees.iter().flat_map(|&o| previous.iter().map(move |&p| f32::from(u8::from(o > p)))).collect();
        let output = MaskedLinear::new(previous.len(), output_degrees.len(), mask, vb.pp("output"))?;
        let context = match (shape.context, shape.hidden_layers) {
            (0, _) | (_, 0) => None,
            (c, _) => Some(linear_no_bias(c, shape.hidden, vb.pp("context"))?),
        };
        Ok(Self { hidden, context, output, shape })
    }

    /// rows × (features · outputs_per_feature), grouped by kind, from rows × features and rows × context.
    pub fn forward(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let mut h = x.clone();
        for (layer, masked) in self.hidden.iter().enumerate() {
            h = masked.forward(&h)?;
            if layer == 0 {
                if let (Some(linear), Some(c)) = (&self.context, context) {
                    h = (h + linear.forward(c)?)?;
                }
            }
            h = h.relu()?;
        }
        self.output.forward(&h)
    }

    pub fn shape(&self) -> MadeShape {
        self.shape
    }
}

/// A 0/1 row vector selecting the feature of degree `degree`.
pub fn degree_selector(degrees: &[usize], degree: usize) -> Result<Tensor> {
    let values: Vec<f32> = degrees.iter().map(|&d| f32::from(u8::from(d == degree))).collect();
    Tensor::from_vec(values, (1, degrees.len()), &Device::Cpu)?.to_dtype(DType::F32)
}
