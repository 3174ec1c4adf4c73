//! A conditional masked autoregressive flow (Papamakarios et al. 2017, arXiv:1705.07057): a stack of
//! affine autoregressive transforms, each given by a MADE network, that turns data x (with a context c,
//! such as m_jj) into a standard normal z. The log-density is exact:
//!
//!   ln p(x | c) = ln N(z; 0, I) + Σ_blocks Σ_i (−α_i),  with u_i ↦ (u_i − μ_i(u_<i, c)) · e^(−α_i(u_<i, c))
//!
//! in each block. Blocks alternate the order of the features (natural, then reversed), which permutes
//! them by degree instead of by moving columns. The log-scales are bounded, α = B·tanh(a/B), so that no
//! block can stretch a direction by more than e^B. Sampling inverts the blocks one feature at a time.
//!
//! Only ops with a backward pass in candle 0.11 are used (SCIENCE.md, "Traps"): matmul, tanh, exp, relu,
//! narrow, sums.

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::VarBuilder;

use super::made::{degree_selector, Made, MadeShape};
use crate::method::{InferenceStep, StepContext, TrainStep};
use crate::rng::SeededRng;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MafConfig {
    pub features: usize,
    /// Columns of the context (0 for an unconditional flow). In a training batch they follow the features.
    pub context: usize,
    pub blocks: usize,
    pub hidden: usize,
    pub hidden_layers: usize,
    /// B in α = B·tanh(a/B).
    pub max_log_scale: f32,
}

impl Default for MafConfig {
    fn default() -> Self {
        Self { features: 4, context: 1, blocks: 4, hidden: 64, hidden_layers: 2, max_log_scale: 3.0 }
    }
}

/// Cloning shares the weights.
#[derive(Clone)]
pub struct Maf {
    blocks: Vec<Block>,
    config: MafConfig,
}

#[derive(Clone)]
struct Block {
    made: Made,
    /// Each feature's place in this block's order, 1-based.
    degrees: Vec<usize>,
}

const HALF_LN_TWO_PI: f64 = 0.918_938_533_204_672_7;

impl Maf {
    pub fn new(config: MafConfig, vb: VarBuilder) -> Result<Self> {
        let shape = MadeShape {
            features: config.features,
            context: config.context,
            hidden: config.hidden,
            hidden_layers: config.hidden_layers,
            outputs_per_feature: 2,
        };
        let blocks = (0..config.blocks)
            .map(|b| {
                let natural: Vec<usize> = (1..=config.features).collect();
                let degrees = if b % 2 == 0 { natural } else { natural.into_iter().rev().collect() };
                Ok(Block { made: Made::new(shape, &degrees, vb.pp(format!("block{b}")))?, degrees })
            })
            .collect::<Result<_>>()?;
        Ok(Self { blocks, config })
    }

    pub fn config(&self) -> MafConfig {
        self.config
    }

    /// The shift μ and the bounded log-scale α of one block at `u`, each rows × features.
    fn shift_and_log_scale(&self, block: &Block, u: &Tensor, context: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let out = block.made.forward(u, context)?;
        let features = self.config.features;
        let shift = out.narrow(1, 0, features)?;
        let bound = self.config.max_log_scale as f64;
        let log_scale = ((out.narrow(1, features, features)? / bound)?.tanh()? * bound)?;
        Ok((shift, log_scale))
    }

    /// The flow's forward map: z for every row of x (rows × features), and ln |det ∂z/∂x| per row.
    pub fn transform(&self, x: &Tensor, context: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let mut u = x.clone();
        let mut log_det = Tensor::zeros(x.dims()[0], DType::F32, x.device())?;
        for block in &self.blocks {
            let (shift, log_scale) = self.shift_and_log_scale(block, &u, context)?;
            u = ((u - shift)? * log_scale.neg()?.exp()?)?;
            log_det = (log_det - log_scale.sum(D::Minus1)?)?;
        }
        Ok((u, log_det))
    }

    /// ln p(x | context), one value per row.
    pub fn log_density(&self, x: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let (z, log_det) = self.transform(x, context)?;
        let base = ((z.sqr()?.sum(D::Minus1)? * -0.5)? - HALF_LN_TWO_PI * self.config.features as f64)?;
        base + log_det
    }

    /// Maps standard-normal `z` (rows × features) back to data: each block inverted one feature at a
    /// time, in its order.
    pub fn inverse(&self, z: &Tensor, context: Option<&Tensor>) -> Result<Tensor> {
        let mut u = z.clone();
        for block in self.blocks.iter().rev() {
            let mut x = u.zeros_like()?;
            for degree in 1..=self.config.features {
                let (shift, log_scale) = self.shift_and_log_scale(block, &x, context)?;
                let candidate = ((&u * log_scale.exp()?)? + shift)?;
                let pick = degree_selector(&block.degrees, degree)?;
                let keep = pick.affine(-1.0, 1.0)?;
                x = (x.broadcast_mul(&keep)? + candidate.broadcast_mul(&pick)?)?;
            }
            u = x;
        }
        Ok(u)
    }

    /// `rows` samples, with z drawn from `rng`; `context` (rows × context columns) or None.
    pub fn sample(&self, rows: usize, context: Option<&Tensor>, rng: &mut SeededRng) -> Result<Tensor> {
        let z: Vec<f32> = (0..rows * self.config.features).map(|_| rng.normal()).collect();
        let z = Tensor::from_vec(z, (rows, self.config.features), &Device::Cpu)?;
        self.inverse(&z, context)
    }

    /// A batch's features and context: the first `features` columns, then the context's.
    pub fn split(&self, batch: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        let x = batch.narrow(1, 0, self.config.features)?;
        let context = match self.config.context {
            0 => None,
            c => Some(batch.narrow(1, self.config.features, c)?),
        };
        Ok((x, context))
    }
}

/// Training maximises the likelihood: the loss is the mean negative log-density of the batch.
impl TrainStep for Maf {
    fn loss(&self, batch: &Tensor, _: &mut StepContext) -> Result<Tensor> {
        let (x, context) = self.split(batch)?;
        self.log_density(&x, context.as_ref())?.mean_all()?.neg()
    }
}

/// Alone, a flow scores a row by how unlikely it is: −ln p(x | context).
impl InferenceStep for Maf {
    fn score(&self, batch: &Tensor) -> Result<Tensor> {
        let (x, context) = self.split(batch)?;
        self.log_density(&x, context.as_ref())?.neg()
    }
}
