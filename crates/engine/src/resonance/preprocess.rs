//! What the flows see (as in the R-ANODE authors' setup, SCIENCE.md): each feature scaled to (0, 1) from
//! its range in the sidebands (widened a little so that signal-region values stay inside), passed through
//! the logit, then standardised; the context ln m_jj standardised (m_jj itself for a visitor's resonant
//! variable that is not always positive). Every number is fitted on the
//! sidebands only, so nothing of the signal region leaks into the background model. The transform's
//! log-Jacobian carries a density from the flows' space back to the features', where the toy's true
//! densities live.

/// The share of a feature's sideband range added on each side before scaling to (0, 1).
const MARGIN: f64 = 0.05;

/// One fitted transform of the features x and the context m.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    /// Per feature: the scaled range's low end and width, then the logit's mean and spread.
    low: Vec<f64>,
    width: Vec<f64>,
    mean: Vec<f64>,
    spread: Vec<f64>,
    /// The context's (ln m_jj's, or m_jj's) mean and spread.
    context: (f64, f64),
    /// The context is ln m_jj (a positive mass) rather than m_jj.
    log_mass: bool,
}

impl Scaling {
    /// Fits on the sideband events (features per row, and each row's m_jj). `log_mass` makes the context
    /// ln m_jj (every m_jj the scaling will see must then be positive). None with fewer than two events or
    /// a feature that never varies.
    pub fn fit(features: &[Vec<f64>], m_jj: &[f64], log_mass: bool) -> Option<Self> {
        let columns = features.first()?.len();
        if features.len() < 2 {
            return None;
        }
        let (mut low, mut width) = (Vec::new(), Vec::new());
        for k in 0..columns {
            let (min, max) = features.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), row| (a.min(row[k]), b.max(row[k])));
            let range = max - min;
            if range.is_nan() || range <= 0.0 || !range.is_finite() {
                return None;
            }
            low.push(min - MARGIN * range);
            width.push(range * (1.0 + 2.0 * MARGIN));
        }
        let mut scaling = Self { low, width, mean: vec![0.0; columns], spread: vec![1.0; columns], context: (0.0, 1.0), log_mass };
        let logits: Vec<Vec<f64>> = features.iter().map(|row| (0..columns).map(|k| scaling.logit(k, row[k])).collect()).collect();
        for k in 0..columns {
            let (mean, spread) = mean_and_spread(logits.iter().map(|row| row[k]));
            scaling.mean[k] = mean;
            scaling.spread[k] = spread.max(1e-12);
        }
        let (mean, spread) = mean_and_spread(m_jj.iter().map(|&m| scaling.mass_coordinate(m)));
        scaling.context = (mean, spread.max(1e-12));
        Some(scaling)
    }

    fn logit(&self, k: usize, value: f64) -> f64 {
        let s = (value - self.low[k]) / self.width[k];
        (s / (1.0 - s)).ln()
    }

    /// The flows' input for one event, and ln |det ∂y/∂x| of the transform there. Values outside the
    /// widened sideband range have no image (None): the background model gives them no density.
    pub fn apply(&self, x: &[f64]) -> Option<(Vec<f32>, f64)> {
        let mut y = Vec::with_capacity(x.len());
        let mut log_jacobian = 0.0;
        for (k, &value) in x.iter().enumerate() {
            let s = (value - self.low[k]) / self.width[k];
            if !(s > 0.0 && s < 1.0) {
                return None;
            }
            y.push((((s / (1.0 - s)).ln() - self.mean[k]) / self.spread[k]) as f32);
            // d/dx of (logit((x − low)/width) − mean)/spread.
            log_jacobian -= self.width[k].ln() + s.ln() + (1.0 - s).ln() + self.spread[k].ln();
        }
        Some((y, log_jacobian))
    }

    fn mass_coordinate(&self, m_jj: f64) -> f64 {
        if self.log_mass { m_jj.ln() } else { m_jj }
    }

    /// The flows' context for an event's m_jj.
    pub fn context(&self, m_jj: f64) -> f32 {
        ((self.mass_coordinate(m_jj) - self.context.0) / self.context.1) as f32
    }
}

/// Rows in the flows' coordinates: y (rows × features, row-major), the context, and each row's
/// log-Jacobian (None for a row outside the range, whose y is all zeros).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prepared {
    pub y: Vec<f32>,
    pub context: Vec<f32>,
    pub log_jacobian: Vec<Option<f64>>,
}

impl Prepared {
    pub fn len(&self) -> usize {
        self.context.len()
    }

    pub fn is_empty(&self) -> bool {
        self.context.is_empty()
    }
}

impl Scaling {
    /// Every row of `rows` in the flows' coordinates.
    pub fn prepare(&self, rows: &super::background::ResonantRows) -> Prepared {
        let features = self.low.len();
        let mut prepared = Prepared::default();
        for (x, &m) in rows.features.iter().zip(&rows.m_jj) {
            match self.apply(x) {
                Some((y, log_jacobian)) => {
                    prepared.y.extend(y);
                    prepared.log_jacobian.push(Some(log_jacobian));
                }
                None => {
                    prepared.y.extend(std::iter::repeat_n(0.0, features));
                    prepared.log_jacobian.push(None);
                }
            }
            prepared.context.push(self.context(m));
        }
        prepared
    }

    /// The features of a point of the flows' space: the inverse of [`Scaling::apply`] (for samples).
    pub fn invert(&self, y: &[f32]) -> Vec<f64> {
        y.iter()
            .enumerate()
            .map(|(k, &v)| {
                let logit = v as f64 * self.spread[k] + self.mean[k];
                self.low[k] + self.width[k] / (1.0 + (-logit).exp())
            })
            .collect()
    }

    /// The m_jj of a context value: the inverse of [`Scaling::context`].
    pub fn m_jj_of(&self, context: f32) -> f64 {
        let coordinate = context as f64 * self.context.1 + self.context.0;
        if self.log_mass { coordinate.exp() } else { coordinate }
    }

    /// ln |d(context)/d(m_jj)| at `m_jj`: turns a density in m_jj into one in the context.
    pub fn context_log_jacobian(&self, m_jj: f64) -> f64 {
        -(if self.log_mass { m_jj.ln() } else { 0.0 } + self.context.1.ln())
    }
}

fn mean_and_spread(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (n, sum) = values.clone().fold((0.0, 0.0), |(n, s), v| (n + 1.0, s + v));
    let mean = sum / n;
    let variance = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scaling() -> Scaling {
        let features: Vec<Vec<f64>> = (0..50).map(|i| vec![i as f64 * 0.1, 2.0 + (i as f64 * 0.37).sin()]).collect();
        let m: Vec<f64> = (0..50).map(|i| 3.0 + i as f64 * 0.02).collect();
        Scaling::fit(&features, &m, true).unwrap()
    }

    /// The log-Jacobian is ln |dy/dx| of the map, checked by finite differences feature by feature.
    #[test]
    fn the_log_jacobian_is_the_derivative_of_the_map() {
        let s = scaling();
        let x = [1.7, 2.4];
        let (_, log_jacobian) = s.apply(&x).unwrap();
        let h = 1e-3;
        let mut expected = 0.0;
        for k in 0..2 {
            let (mut up, mut down) = (x, x);
            up[k] += h;
            down[k] -= h;
            let derivative = (s.apply(&up).unwrap().0[k] as f64 - s.apply(&down).unwrap().0[k] as f64) / (2.0 * h);
            expected += derivative.abs().ln();
        }
        // f32 outputs limit the finite difference to a few digits.
        assert!((log_jacobian - expected).abs() < 1e-2, "{log_jacobian} against {expected}");
    }

    #[test]
    fn sideband_values_are_standardised_and_far_values_have_no_image() {
        let s = scaling();
        let features: Vec<Vec<f64>> = (0..50).map(|i| vec![i as f64 * 0.1, 2.0 + (i as f64 * 0.37).sin()]).collect();
        let ys: Vec<Vec<f32>> = features.iter().map(|x| s.apply(x).unwrap().0).collect();
        let mean: f32 = ys.iter().map(|y| y[0]).sum::<f32>() / 50.0;
        let var: f32 = ys.iter().map(|y| (y[0] - mean).powi(2)).sum::<f32>() / 50.0;
        assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "{mean} {var}");
        assert!(s.apply(&[100.0, 2.0]).is_none());
        assert!(Scaling::fit(&[vec![1.0], vec![1.0]], &[3.0, 3.1], true).is_none());
        assert!((s.context(3.49) as f64).abs() < 0.1);
    }

    #[test]
    fn inverting_gives_back_the_features_and_the_mass() {
        let s = scaling();
        let x = [1.7, 2.4];
        let back = s.invert(&s.apply(&x).unwrap().0);
        assert!((back[0] - 1.7).abs() < 1e-5 && (back[1] - 2.4).abs() < 1e-5, "{back:?}");
        assert!((s.m_jj_of(s.context(3.61)) - 3.61).abs() < 1e-5);
    }

    /// A resonant variable that is not a positive mass is standardised as it is, and its Jacobian is the
    /// constant 1 / spread.
    #[test]
    fn a_linear_context_round_trips_and_has_a_constant_jacobian() {
        let features: Vec<Vec<f64>> = (0..50).map(|i| vec![(i as f64 * 0.37).sin()]).collect();
        let m: Vec<f64> = (0..50).map(|i| -1.0 + i as f64 * 0.04).collect();
        let s = Scaling::fit(&features, &m, false).unwrap();
        assert!((s.m_jj_of(s.context(-0.3)) + 0.3).abs() < 1e-6);
        let h = 1e-3;
        let derivative = (s.context(0.2 + h) - s.context(0.2 - h)) as f64 / (2.0 * h);
        assert!((s.context_log_jacobian(0.2) - derivative.ln()).abs() < 1e-2);
        assert_eq!(s.context_log_jacobian(0.2), s.context_log_jacobian(-0.7));
    }
}
