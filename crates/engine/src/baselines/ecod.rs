//! ECOD (Li, Zhao, Hu, Botta, Ionescu, Chen 2022, arXiv:2201.00382): how far out in its own tail a row
//! is on each feature, from the training rows' empirical distribution, with no parameters to choose.
//!
//! A feature's tail score is −ln of the share of training rows at or below the value (left tail) or
//! at or above it (right tail); the feature counts with the larger of the two, and the row's score is
//! their sum. That is PyOD's aggregation today (a per-feature maximum); the paper takes the maximum of
//! three sums instead (left, right, and the tail the feature's skewness points to). Features with zero
//! skewness add both tails, as PyOD does.

use serde::{Deserialize, Serialize};

use super::{BaselineError, Contribution, Rows, SelfIndex};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ecod {
    width: usize,
    rows: usize,
    /// Each feature's training values, sorted: `sorted[feature * rows..][..rows]`.
    sorted: Vec<f32>,
    /// The sign of each feature's skewness (−1, 0 or 1).
    skew_sign: Vec<i8>,
}

impl Ecod {
    pub fn fit(train: Rows) -> Result<Self, BaselineError> {
        let n = train.len();
        if n < 2 {
            return Err(BaselineError::TooFewRows { method: "ECOD", needed: 2, rows: n });
        }
        let mut sorted = Vec::with_capacity(n * train.width);
        let mut skew_sign = Vec::with_capacity(train.width);
        let mut column = Vec::with_capacity(n);
        for feature in 0..train.width {
            column.clear();
            column.extend((0..n).map(|r| train.row(r)[feature]));
            skew_sign.push(skewness_sign(&column));
            column.sort_unstable_by(f32::total_cmp);
            sorted.extend_from_slice(&column);
        }
        if (0..train.width).all(|f| sorted[f * n] == sorted[f * n + n - 1]) {
            return Err(BaselineError::AllConstant { method: "ECOD" });
        }
        Ok(Self { width: train.width, rows: n, sorted, skew_sign })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// The tail score of `value` on `feature`. A training row counts itself, as in the empirical
    /// distribution of the rows it was fitted on; any other row is counted as if it joined them, so
    /// that a value beyond every training row still gets a finite score.
    pub fn tail_score(&self, feature: usize, value: f32, is_training_row: bool) -> f64 {
        let column = &self.sorted[feature * self.rows..(feature + 1) * self.rows];
        let at_or_below = column.partition_point(|&v| v <= value) as f64;
        let at_or_above = (self.rows - column.partition_point(|&v| v < value)) as f64;
        let (extra, n) = if is_training_row { (0.0, self.rows as f64) } else { (1.0, self.rows as f64 + 1.0) };
        let left = -((at_or_below + extra) / n).ln();
        let right = -((at_or_above + extra) / n).ln();
        if self.skew_sign[feature] == 0 { left + right } else { left.max(right) }
    }

    pub fn score_into(&self, rows: Rows, self_index: SelfIndex, out: &mut [f32]) {
        for (i, score) in out.iter_mut().enumerate() {
            let training = self_index(i).is_some();
            let row = rows.row(i);
            *score = (0..self.width).map(|f| self.tail_score(f, row[f], training)).sum::<f64>() as f32;
        }
    }

    pub fn explain(&self, row: &[f32], self_index: Option<usize>) -> Vec<Contribution> {
        (0..self.width)
            .map(|feature| Contribution { feature, value: self.tail_score(feature, row[feature], self_index.is_some()) })
            .collect()
    }
}

/// The sign of the sample skewness m₃ / m₂^{3/2}; zero for a constant feature.
fn skewness_sign(values: &[f32]) -> i8 {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let (mut m2, mut m3) = (0.0, 0.0);
    for &v in values {
        let d = v as f64 - mean;
        m2 += d * d;
        m3 += d * d * d;
    }
    if m2 == 0.0 || m3 == 0.0 {
        0
    } else if m3 > 0.0 {
        1
    } else {
        -1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten values 1..10 on one feature (skewness 0: both tails add up), and a skewed second feature.
    #[test]
    fn tails_of_a_known_sample() {
        let mut values = Vec::new();
        for i in 1..=10 {
            values.push(i as f32);
            values.push(if i == 10 { 100.0 } else { i as f32 });
        }
        let ecod = Ecod::fit(Rows::new(&values, 2)).unwrap();
        assert_eq!(ecod.skew_sign, vec![0, 1]);
        // Training row 1 (value 1): 1 of 10 at or below, 10 of 10 at or above.
        let expected = -(0.1f64).ln() + -(1.0f64).ln();
        assert!((ecod.tail_score(0, 1.0, true) - expected).abs() < 1e-12);
        // The skewed feature's 100: right tail 1/10 beats the left tail 10/10.
        assert!((ecod.tail_score(1, 100.0, true) - (10f64).ln()).abs() < 1e-12);
        // A new row beyond every training value: (0 + 1) / 11 in its tail.
        assert!((ecod.tail_score(1, 1000.0, false) - (11f64).ln()).abs() < 1e-12);
        // The explanation's parts add up to the score.
        let row = [3.0f32, 100.0];
        let parts = ecod.explain(&row, Some(9));
        let mut score = [0.0f32];
        ecod.score_into(Rows::new(&row, 2), &|_| Some(9), &mut score);
        let sum: f64 = parts.iter().map(|c| c.value).sum();
        assert!((sum - score[0] as f64).abs() < 1e-5);
    }

    #[test]
    fn constant_features_are_refused() {
        let values = [1.0f32; 10];
        assert!(matches!(Ecod::fit(Rows::new(&values, 2)), Err(BaselineError::AllConstant { .. })));
    }
}
