//! PCA reconstruction error: the linear autoencoder. The training rows' main directions of variation
//! (the leading eigenvectors of their covariance) form a subspace; a row's score is its squared
//! distance from it, Σ (x − reconstruction)². The features come in standardised (`table::prepare`), so
//! no feature dominates by its units alone.

use serde::{Deserialize, Serialize};

use serde_json::{json, Value};

use super::eigen::symmetric_eigen;
use super::saved::{check, count, TensorReader, TensorWriter};
use super::{BaselineError, Contribution, Rows};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pca {
    width: usize,
    mean: Vec<f64>,
    /// The kept components, one per row of `width` values.
    components: Vec<f64>,
    /// Every component's share of the variance, largest first (kept or not), for the page.
    pub explained_variance_ratio: Vec<f64>,
}

impl Pca {
    /// Keeps `components` components if given, else the fewest whose explained variance exceeds the
    /// fraction `variance` (as scikit-learn's `PCA(n_components=0.9)`), but never all of them.
    pub fn fit(train: Rows, variance: f64, components: Option<usize>) -> Result<Self, BaselineError> {
        let (n, width) = (train.len(), train.width);
        if n < 2 {
            return Err(BaselineError::TooFewRows { method: "PCA", needed: 2, rows: n });
        }
        if width < 2 {
            return Err(BaselineError::TooFewFeatures { method: "PCA", needed: 2, features: width });
        }
        if let Some(asked) = components {
            if asked >= width || asked == 0 {
                return Err(BaselineError::TooManyComponents { asked, features: width });
            }
        }
        let mut mean = vec![0.0f64; width];
        for r in 0..n {
            for (m, &v) in mean.iter_mut().zip(train.row(r)) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let covariance = covariance(train, &mean);
        let (values, vectors) = symmetric_eigen(&covariance, width);
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        if total <= 0.0 {
            return Err(BaselineError::AllConstant { method: "PCA" });
        }
        let explained_variance_ratio: Vec<f64> = values.iter().map(|v| v.max(0.0) / total).collect();
        let keep = match components {
            Some(k) => k,
            None => {
                let mut cumulative = 0.0;
                let below = explained_variance_ratio
                    .iter()
                    .take_while(|&&r| {
                        cumulative += r;
                        cumulative <= variance
                    })
                    .count();
                // All components would rebuild every row exactly; keep one fewer (`kept_variance` says
                // how much they explain).
                (below + 1).min(width - 1)
            }
        };
        Ok(Self { width, mean, components: vectors[..keep * width].to_vec(), explained_variance_ratio })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn kept_components(&self) -> usize {
        self.components.len() / self.width
    }

    /// The share of the variance the kept components explain.
    pub fn kept_variance(&self) -> f64 {
        self.explained_variance_ratio[..self.kept_components()].iter().sum()
    }

    /// Each feature's residual (row − mean − its projection on the kept components), squared.
    fn squared_residuals(&self, row: &[f32], centred: &mut Vec<f64>) {
        centred.clear();
        centred.extend(row.iter().zip(&self.mean).map(|(&v, m)| v as f64 - m));
        let mut residual = centred.clone();
        for component in self.components.chunks_exact(self.width) {
            let along: f64 = component.iter().zip(centred.iter()).map(|(c, x)| c * x).sum();
            for (r, c) in residual.iter_mut().zip(component) {
                *r -= along * c;
            }
        }
        centred.clear();
        centred.extend(residual.iter().map(|r| r * r));
    }

    pub fn score_into(&self, rows: Rows, out: &mut [f32]) {
        let mut squares = Vec::with_capacity(self.width);
        for (i, score) in out.iter_mut().enumerate() {
            self.squared_residuals(rows.row(i), &mut squares);
            *score = squares.iter().sum::<f64>() as f32;
        }
    }

    pub(super) fn save(&self, prefix: &str, out: &mut TensorWriter) -> Value {
        let kept = self.kept_components();
        out.f64s(format!("{prefix}mean"), &[self.width], &self.mean);
        out.f64s(format!("{prefix}components"), &[kept, self.width], &self.components);
        out.f64s(format!("{prefix}explained_variance_ratio"), &[self.width], &self.explained_variance_ratio);
        json!({ "components": kept })
    }

    pub(super) fn load(meta: &Value, prefix: &str, tensors: &TensorReader, width: usize) -> Result<Self, String> {
        let kept = count(meta, "components")?;
        check(kept >= 1 && kept <= width, || format!("PCA keeps {kept} components of {width} features"))?;
        Ok(Self {
            width,
            mean: tensors.f64s(&format!("{prefix}mean"), &[width])?,
            components: tensors.f64s(&format!("{prefix}components"), &[kept, width])?,
            explained_variance_ratio: tensors.f64s(&format!("{prefix}explained_variance_ratio"), &[width])?,
        })
    }

    /// Each feature's squared residual: the parts add up to the score.
    pub fn explain(&self, row: &[f32]) -> Vec<Contribution> {
        let mut squares = Vec::new();
        self.squared_residuals(row, &mut squares);
        squares.into_iter().enumerate().map(|(feature, value)| Contribution { feature, value }).collect()
    }
}

/// The sample covariance (n − 1 in the denominator) of the rows around `mean`, row-major.
fn covariance(train: Rows, mean: &[f64]) -> Vec<f64> {
    let (n, width) = (train.len(), train.width);
    let mut sums = vec![0.0f64; width * width];
    let mut centred = vec![0.0f64; width];
    for r in 0..n {
        for ((c, &v), m) in centred.iter_mut().zip(train.row(r)).zip(mean) {
            *c = v as f64 - m;
        }
        for i in 0..width {
            let xi = centred[i];
            // The upper triangle only; mirrored below.
            for (s, &xj) in sums[i * width + i..(i + 1) * width].iter_mut().zip(&centred[i..]) {
                *s += xi * xj;
            }
        }
    }
    for i in 0..width {
        for j in i..width {
            let value = sums[i * width + j] / (n - 1) as f64;
            sums[i * width + j] = value;
            sums[j * width + i] = value;
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    /// Rows on the plane spanned by (1, 1, 0)/√2 and (0, 0, 1), plus tiny noise along (1, −1, 0)/√2:
    /// two components explain nearly everything, and a row off the plane scores its squared distance.
    #[test]
    fn recovers_a_known_basis() {
        let mut rng = SeededRng::new(2);
        let mut values = Vec::new();
        for _ in 0..2000 {
            let (a, b, noise) = (3.0 * rng.normal(), 2.0 * rng.normal(), 0.01 * rng.normal());
            values.extend([a + noise, a - noise, b]);
        }
        let pca = Pca::fit(Rows::new(&values, 3), 0.9, None).unwrap();
        assert_eq!(pca.kept_components(), 2);
        assert!(pca.kept_variance() > 0.9999);
        let first = &pca.components[..3];
        assert!((first[0].abs() - 0.5f64.sqrt()).abs() < 1e-3 && first[2].abs() < 0.05, "{first:?}");
        // (1, −1, 0) is √2 from the plane: squared distance 2 (the mean is nearly 0).
        let off = [1.0f32, -1.0, 0.0];
        let mut score = [0.0f32];
        pca.score_into(Rows::new(&off, 3), &mut score);
        assert!((score[0] - 2.0).abs() < 0.02, "{}", score[0]);
        let parts = pca.explain(&off);
        assert!((parts.iter().map(|c| c.value).sum::<f64>() - score[0] as f64).abs() < 1e-5);
    }

    #[test]
    fn too_many_components_are_refused() {
        let values = crate::baselines::test_data::normal_rows(50, 3, 1);
        let error = Pca::fit(Rows::new(&values, 3), 0.9, Some(4)).unwrap_err();
        assert_eq!(error.to_string(), "PCA cannot keep 4 components of 3 features: with as many components as features every row is rebuilt exactly. Choose between 1 and 2.");
        // Uncorrelated features need all three for 90 % of the variance: the rule keeps two.
        assert_eq!(Pca::fit(Rows::new(&values, 3), 0.9, None).unwrap().kept_components(), 2);
        // One feature has no component to leave out.
        let error = Pca::fit(Rows::new(&values[..50], 1), 0.9, None).unwrap_err();
        assert_eq!(error.to_string(), "PCA needs at least 2 features; this table has 1.");
    }
}
