//! Seeded weight initialisation.
//!
//! candle-nn initialises variables from its own unseeded generator; the playground promises that a seed
//! reproduces a run, so after a model is built its variables are overwritten here, in name order, from a
//! [`SeededRng`]. Weights (`*.weight`, shape out × in, or out × in × kh × kw for a convolution's kernel)
//! are uniform in ±1/√fan-in, fan-in being everything but the first dimension; a layer norm's gains
//! (`*.gain`) start at one; biases start at zero.

use candle_core::{Result, Tensor};
use candle_nn::VarMap;

use crate::rng::SeededRng;

pub fn seeded_init(varmap: &VarMap, seed: u64) -> Result<()> {
    let vars = varmap.data().lock().expect("var map lock poisoned");
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    let mut rng = SeededRng::derive(seed, "weights");
    for name in names {
        let var = &vars[name];
        let dims = var.dims().to_vec();
        let count: usize = dims.iter().product();
        let values: Vec<f32> = if name.ends_with(".weight") && dims.len() >= 2 {
            let bound = 1.0 / (dims[1..].iter().product::<usize>() as f32).sqrt();
            (0..count).map(|_| (rng.uniform() * 2.0 - 1.0) * bound).collect()
        } else if name.ends_with(".gain") {
            vec![1.0; count]
        } else {
            vec![0.0; count]
        };
        var.set(&Tensor::from_vec(values, dims, var.device())?)?;
    }
    Ok(())
}
