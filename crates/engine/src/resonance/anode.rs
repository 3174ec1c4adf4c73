//! The two density-based taggers of a resonance search, both built on the sideband background flow
//! (SCIENCE.md, "R-ANODE"), both in the flows' coordinates (y for the features, c for ln m_jj), where the
//! scaling's Jacobians cancel in every ratio:
//!
//! - ANODE (Nachman, Shih 2020): a second conditional flow p_SR(y | c) fitted to all signal-region data;
//!   score ln p_SR − ln p_B.
//! - R-ANODE (Das, Kasieczka, Shih 2023): a small unconditional flow p_S(y, c) fitted to the signal-region
//!   data through the mixture w·p_S(y, c) + (1 − w)·p_B(y | c)·p_B(c), with the background frozen, so the
//!   new flow only has to learn what the background does not explain; w fixed, or learned as sigmoid(θ).
//!   Score ln p_S(y, c) − ln p_B(y | c) − ln p_B(c).

use candle_core::{DType, Device, Result, Tensor, Var, D};
use candle_nn::{VarBuilder, VarMap};

use super::background::{held_out_split, in_chunks, BackgroundModel, ConditionalFlow, EpochReport, FitResult, Fitting, FlowFit, ResonantRows};
use super::preprocess::Prepared;
use crate::flows::Maf;
use crate::method::{StepContext, TrainStep};
use crate::models::init::seeded_init;
use crate::rng::SeededRng;
use crate::train::sorted_vars;

/// ANODE's signal-region flow.
pub struct Anode {
    flow: ConditionalFlow,
}

impl Anode {
    pub fn train(background: &BackgroundModel, signal_region: &ResonantRows, fit: &FlowFit, on_epoch: impl FnMut(EpochReport)) -> FitResult<Self> {
        Self::begin(background, signal_region, fit)?.run(on_epoch)
    }

    /// The same fit, to be stepped by the caller.
    pub fn begin(background: &BackgroundModel, signal_region: &ResonantRows, fit: &FlowFit) -> FitResult<Fitting<Self>> {
        let prepared = background.scaling().prepare(signal_region);
        Ok(ConditionalFlow::begin(&prepared, fit, "anode")?.map(|flow| Self { flow }))
    }

    /// ln p_SR(y | c) − ln p_B(y | c) per row; +∞ for a row outside the sidebands' range.
    pub fn scores(&self, background: &BackgroundModel, rows: &ResonantRows) -> Result<Vec<f64>> {
        let prepared = background.scaling().prepare(rows);
        let (data, model) = (self.flow.log_density(&prepared)?, background.flow().log_density(&prepared)?);
        Ok(ratio(&prepared, &data, &model))
    }
}

fn ratio(prepared: &Prepared, numerator: &[f32], denominator: &[f32]) -> Vec<f64> {
    (0..prepared.len())
        .map(|k| if prepared.log_jacobian[k].is_some() { (numerator[k] - denominator[k]) as f64 } else { f64::INFINITY })
        .collect()
}

/// The background's m_jj density inside the signal region, p_B(m) ∝ e^(−λ m) on the window, fitted by
/// maximum likelihood to the signal-region data (whose signal share is too small to bend it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowSpectrum {
    pub slope: f64,
    /// The signal region [low, high) in m_jj.
    pub window: (f64, f64),
}

impl WindowSpectrum {
    pub fn fit(m_jj: &[f64], window: (f64, f64)) -> Self {
        let mean = m_jj.iter().sum::<f64>() / m_jj.len().max(1) as f64;
        // The mean of e^(−λm) on [a, b] falls as λ grows: bisect for the λ that matches the data, over
        // slopes up to 200 e-folds across the window, whatever its units.
        let bound = 200.0 / (window.1 - window.0);
        let (mut low, mut high) = (-bound, bound);
        for _ in 0..200 {
            let mid = 0.5 * (low + high);
            if (Self { slope: mid, window }).mean() > mean { low = mid } else { high = mid }
        }
        Self { slope: 0.5 * (low + high), window }
    }

    fn mean(&self) -> f64 {
        let (a, b) = self.window;
        let steps = 400;
        let h = (b - a) / steps as f64;
        let (mut mass, mut first) = (0.0, 0.0);
        for i in 0..steps {
            let m = a + (i as f64 + 0.5) * h;
            let p = (-self.slope * (m - a)).exp();
            mass += p;
            first += p * m;
        }
        first / mass
    }

    /// ln p_B(m_jj) on the window.
    pub fn log_density(&self, m_jj: f64) -> f64 {
        let (a, b) = self.window;
        let l = self.slope;
        let norm = if (l * (b - a)).abs() < 1e-9 { b - a } else { (1.0 - (-l * (b - a)).exp()) / l };
        -l * (m_jj - a) - norm.ln()
    }
}

/// How R-ANODE treats the signal fraction w.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SignalFraction {
    Fixed(f64),
    /// Learned as sigmoid(θ), starting from this w.
    Learned(f64),
    /// Learned as sigmoid(speed · θ'), starting from `start`: the optimiser's steps in θ' move θ `speed`
    /// times as far, for fits too short for w to travel from a small start to a large truth.
    LearnedFast { start: f64, speed: f64 },
}

/// R-ANODE's signal model and the mixture it is fitted through.
#[derive(Clone)]
pub struct ResidualFit {
    signal: Maf,
    /// θ' with w = sigmoid(speed · θ'), when w is learned.
    logit_w: Option<Var>,
    fixed_w: f64,
    speed: f64,
}

/// softplus(t) = ln(1 + eᵗ), written with ops that have a backward pass in candle.
fn softplus(t: &Tensor) -> Result<Tensor> {
    t.relu()? + t.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?
}

impl ResidualFit {
    /// (ln w, ln(1 − w)) as tensors of one element.
    fn log_weights(&self) -> Result<(Tensor, Tensor)> {
        match &self.logit_w {
            Some(theta) => {
                let theta = theta.as_tensor().affine(self.speed, 0.0)?;
                Ok((softplus(&theta.neg()?)?.neg()?, softplus(&theta)?.neg()?))
            }
            None => {
                let w = self.fixed_w;
                Ok((Tensor::new(&[w.ln() as f32], &Device::Cpu)?, Tensor::new(&[(1.0 - w).ln() as f32], &Device::Cpu)?))
            }
        }
    }

    /// The signal fraction now.
    pub fn w(&self) -> Result<f64> {
        Ok(self.log_weights()?.0.exp()?.to_vec1::<f32>()?[0] as f64)
    }
}

/// A batch row is y (features), c, then ln p_B(y | c) + ln p_B(c) of the frozen background.
impl TrainStep for ResidualFit {
    fn loss(&self, batch: &Tensor, _: &mut StepContext) -> Result<Tensor> {
        let joint = self.signal.config().features;
        let events = batch.narrow(1, 0, joint)?;
        let log_background = batch.narrow(1, joint, 1)?.squeeze(1)?;
        let (log_w, log_rest) = self.log_weights()?;
        let signal = self.signal.log_density(&events, None)?.broadcast_add(&log_w)?;
        let background = log_background.broadcast_add(&log_rest)?;
        // ln(eᵃ + eᵇ) = a + softplus(b − a).
        let mixture = (&signal + softplus(&(background - &signal)?)?)?;
        mixture.mean(D::Minus1)?.neg()
    }
}

/// A trained R-ANODE signal model.
pub struct Ranode {
    fit: ResidualFit,
    spectrum: WindowSpectrum,
    varmap: VarMap,
}

impl Ranode {
    /// Fits the signal flow to the signal-region data (the background frozen); `window` is the signal
    /// region in m_jj. `fit.config` is the signal flow's: its features must be the event's features + 1
    /// (m_jj joins them), with no context.
    pub fn train(
        background: &BackgroundModel,
        signal_region: &ResonantRows,
        window: (f64, f64),
        fit: &FlowFit,
        fraction: SignalFraction,
        on_epoch: impl FnMut(EpochReport),
    ) -> FitResult<Self> {
        Self::begin(background, signal_region, window, fit, fraction)?.run(on_epoch)
    }

    /// The same fit, to be stepped by the caller.
    pub fn begin(
        background: &BackgroundModel,
        signal_region: &ResonantRows,
        window: (f64, f64),
        fit: &FlowFit,
        fraction: SignalFraction,
    ) -> FitResult<Fitting<Self>> {
        let spectrum = WindowSpectrum::fit(&signal_region.m_jj, window);
        let prepared = background.scaling().prepare(signal_region);
        let log_background = background.flow().log_density(&prepared)?;
        let features = fit.config.features - 1;
        let mut rows = Vec::with_capacity(prepared.len());
        for k in (0..prepared.len()).filter(|&k| prepared.log_jacobian[k].is_some()) {
            let mut row = prepared.y[k * features..(k + 1) * features].to_vec();
            row.push(prepared.context[k]);
            row.push(log_background[k] + log_context_density(background, &spectrum, signal_region.m_jj[k]) as f32);
            rows.push(row);
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let signal = Maf::new(fit.config, vb.pp("signal"))?;
        seeded_init(&varmap, fit.schedule.seed)?;
        let (start, speed) = match fraction {
            SignalFraction::Fixed(w) => (w, None),
            SignalFraction::Learned(start) => (start, Some(1.0)),
            SignalFraction::LearnedFast { start, speed } => (start, Some(speed)),
        };
        let logit_w = match speed {
            Some(speed) => Some(Var::from_tensor(&Tensor::new(&[((start / (1.0 - start)).ln() / speed) as f32], &Device::Cpu)?)?),
            None => None,
        };
        let mut vars = sorted_vars(&varmap);
        vars.extend(logit_w.clone());
        let residual = ResidualFit { signal, logit_w, fixed_w: start, speed: speed.unwrap_or(1.0) };
        let data = held_out_split(rows, fit.config.features + 1, fit, "ranode");
        Fitting::new(Self { fit: residual.clone(), spectrum, varmap }, residual, vars, data, fit.schedule.clone())
    }

    /// The same fit with the signal flow starting from `start`'s weights instead of random ones (a
    /// warm start: `start` is typically a fit with w fixed near 1, i.e. a flow of all the window's data).
    pub fn begin_from(
        start: &Ranode,
        background: &BackgroundModel,
        signal_region: &ResonantRows,
        window: (f64, f64),
        fit: &FlowFit,
        fraction: SignalFraction,
    ) -> FitResult<Fitting<Self>> {
        let fitting = Self::begin(background, signal_region, window, fit, fraction)?;
        {
            let from = start.varmap.data().lock().expect("the warm start's weights");
            for (name, var) in fitting.model().varmap.data().lock().expect("the new fit's weights").iter() {
                if let Some(weights) = from.get(name) {
                    var.set(weights.as_tensor())?;
                }
            }
        }
        Ok(fitting)
    }

    /// The signal fraction: the fixed one, or the learned one after training.
    pub fn w(&self) -> Result<f64> {
        self.fit.w()
    }

    /// `count` events drawn from the signal flow p_S, in the features' own units (where the signal the
    /// flow found can be seen: in R&D v2, a blob at m_j1 ≈ 100 GeV, m_j2 ≈ 500 GeV).
    pub fn sample(&self, background: &BackgroundModel, count: usize, rng: &mut SeededRng) -> Result<ResonantRows> {
        let joint = self.fit.signal.config().features;
        let draws = in_chunks(count, |_, n| self.fit.signal.sample(n, None, rng)?.flatten_all()?.to_vec1::<f32>())?;
        let mut rows = ResonantRows::default();
        for row in draws.chunks(joint) {
            let scaling = background.scaling();
            rows.push(scaling.invert(&row[..joint - 1]), scaling.m_jj_of(row[joint - 1]));
        }
        Ok(rows)
    }

    /// ln p_S(y, c) − ln p_B(y | c) − ln p_B(c) per row; +∞ for a row outside the sidebands' range.
    pub fn scores(&self, background: &BackgroundModel, rows: &ResonantRows) -> Result<Vec<f64>> {
        let prepared = background.scaling().prepare(rows);
        let log_background = background.flow().log_density(&prepared)?;
        let features = self.fit.signal.config().features - 1;
        let mut joint = Vec::with_capacity(prepared.len() * (features + 1));
        for k in 0..prepared.len() {
            joint.extend_from_slice(&prepared.y[k * features..(k + 1) * features]);
            joint.push(prepared.context[k]);
        }
        let log_signal = in_chunks(prepared.len(), |start, n| {
            let x = Tensor::from_slice(&joint[start * (features + 1)..(start + n) * (features + 1)], (n, features + 1), &Device::Cpu)?;
            self.fit.signal.log_density(&x, None)?.to_vec1::<f32>()
        })?;
        Ok((0..prepared.len())
            .map(|k| match prepared.log_jacobian[k] {
                Some(_) => log_signal[k] as f64 - log_background[k] as f64 - log_context_density(background, &self.spectrum, rows.m_jj[k]),
                None => f64::INFINITY,
            })
            .collect())
    }
}

/// ln p_B(c) of the context coordinate at `m_jj`: the window spectrum's density carried from m_jj to c.
fn log_context_density(background: &BackgroundModel, spectrum: &WindowSpectrum, m_jj: f64) -> f64 {
    spectrum.log_density(m_jj) - background.scaling().context_log_jacobian(m_jj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::MafConfig;
    use crate::method::parameters_without_gradient;

    #[test]
    fn the_window_spectrum_is_normalised_and_fits_a_falling_slope() {
        let mut rng = SeededRng::new(3);
        // Draws from e^(−4 (m − 3.3)) on the window, by inversion.
        let (a, b, l) = (3.3f64, 3.7f64, 4.0f64);
        let draws: Vec<f64> = (0..50_000)
            .map(|_| {
                let u = rng.uniform() as f64;
                a - (1.0 - u * (1.0 - (-l * (b - a)).exp())).ln() / l
            })
            .collect();
        let spectrum = WindowSpectrum::fit(&draws, (a, b));
        assert!((spectrum.slope - 4.0).abs() < 0.2, "{}", spectrum.slope);
        let steps = 10_000;
        let h = (b - a) / steps as f64;
        let total: f64 = (0..steps).map(|i| spectrum.log_density(a + (i as f64 + 0.5) * h).exp() * h).sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }

    #[test]
    fn every_parameter_of_the_residual_fit_and_the_learned_fraction_receives_a_gradient() {
        let varmap = VarMap::new();
        let config = MafConfig { features: 3, context: 0, blocks: 2, hidden: 8, hidden_layers: 1, max_log_scale: 3.0 };
        let signal = Maf::new(config, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu).pp("signal")).unwrap();
        seeded_init(&varmap, 1).unwrap();
        let theta = Var::from_tensor(&Tensor::new(&[-3f32], &Device::Cpu).unwrap()).unwrap();
        let fit = ResidualFit { signal, logit_w: Some(theta.clone()), fixed_w: 0.0, speed: 2.0 };
        let mut rng = SeededRng::new(2);
        let batch: Vec<f32> = (0..32 * 4).map(|_| rng.normal()).collect();
        let batch = Tensor::from_vec(batch, (32, 4), &Device::Cpu).unwrap();
        let mut named: Vec<(String, Var)> = varmap.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        named.push(("theta".into(), theta));
        assert_eq!(parameters_without_gradient(&fit, &named, &batch, 1).unwrap(), Vec::<String>::new());
        assert!((fit.w().unwrap() - 1.0 / (1.0 + 6f64.exp())).abs() < 1e-6, "w = sigmoid(speed · θ')");
    }

    #[test]
    fn the_mixture_loss_is_the_negative_log_of_the_mixture() {
        let varmap = VarMap::new();
        let config = MafConfig { features: 2, context: 0, blocks: 1, hidden: 4, hidden_layers: 1, max_log_scale: 3.0 };
        let signal = Maf::new(config, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
        seeded_init(&varmap, 4).unwrap();
        let fit = ResidualFit { signal: signal.clone(), logit_w: None, fixed_w: 0.2, speed: 1.0 };
        let batch = Tensor::new(&[[0.3f32, -0.1, -2.5], [1.2, 0.4, -4.0]], &Device::Cpu).unwrap();
        let mut batches = SeededRng::new(1);
        let mut noise = SeededRng::new(2);
        let mut context = StepContext { step: 0, total_steps: 1, batches: &mut batches, noise: &mut noise };
        let loss = fit.loss(&batch, &mut context).unwrap().to_scalar::<f32>().unwrap() as f64;
        let log_s = signal.log_density(&batch.narrow(1, 0, 2).unwrap(), None).unwrap().to_vec1::<f32>().unwrap();
        let expected = -[(0, -2.5), (1, -4.0)].iter().map(|&(k, b): &(usize, f64)| (0.2 * (log_s[k] as f64).exp() + 0.8 * b.exp()).ln()).sum::<f64>() / 2.0;
        assert!((loss - expected).abs() < 1e-5, "{loss} against {expected}");
    }
}
