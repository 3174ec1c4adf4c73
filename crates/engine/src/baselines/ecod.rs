//! ECOD (Li, Zhao, Hu, Botta, Ionescu, Chen 2022, arXiv:2201.00382): how far out in its own tail a row
//! is on each feature, from the training rows' empirical distribution, with no parameters to choose.
//!
//! A feature's tail score is −ln of the share of training rows at or below the value (left tail) or
//! at or above it (right tail); the feature counts with the larger of the two, and the row's score is
//! their sum. That is PyOD's aggregation today (a per-feature maximum); the paper takes the maximum of
//! three sums instead (left, right, and the tail the feature's skewness points to). Features with zero
//! skewness add both tails, as PyOD does.

use serde::{Deserialize, Serialize};

use serde_json::{json, Value};

use super::saved::{check, count, TensorReader, TensorWriter};
use super::{BaselineError, Contribution, Rows, SelfIndex};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ecod {
    width: usize,
    rows: usize,
    /// Each feature's training values, sorted: `sorted[feature * rows..][..rows]`.
    sorted: Vec<f32>,
    /// The sign of each feature's skewness (−1, 0 or 1).
    skew_sign: Vec<i8>,
    /// ln c for c = 0..=rows + 1 (ln 0 unused), so that scoring takes no logarithm.
    #[serde(skip)]
    ln: std::sync::OnceLock<Vec<f64>>,
    /// Each training row's tail score on each feature (`row * width + feature`), worked out from the
    /// sort: scoring the training rows themselves (fit on all rows, score all rows) then needs no search.
    #[serde(skip)]
    training_tails: Vec<f32>,
}

impl Ecod {
    pub fn fit(train: Rows) -> Result<Self, BaselineError> {
        let n = train.len();
        if n < 2 {
            return Err(BaselineError::TooFewRows { method: "ECOD", needed: 2, rows: n });
        }
        let width = train.width;
        let mut sorted = Vec::with_capacity(n * width);
        let mut skew_sign = Vec::with_capacity(width);
        // Each training row's counts at or below and at or above its own value, per feature.
        let (mut below, mut above) = (vec![0u32; n * width], vec![0u32; n * width]);
        let mut column: Vec<(f32, u32)> = Vec::with_capacity(n);
        for feature in 0..width {
            column.clear();
            column.extend((0..n).map(|r| (train.row(r)[feature], r as u32)));
            let values: Vec<f32> = column.iter().map(|c| c.0).collect();
            skew_sign.push(skewness_sign(&values));
            column.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            // A run of equal values shares its counts: all rows up to the run's end are at or below,
            // all from its start on are at or above.
            let mut start = 0;
            while start < n {
                let mut end = start + 1;
                while end < n && column[end].0 == column[start].0 {
                    end += 1;
                }
                for &(_, r) in &column[start..end] {
                    below[r as usize * width + feature] = end as u32;
                    above[r as usize * width + feature] = (n - start) as u32;
                }
                start = end;
            }
            sorted.extend(column.iter().map(|c| c.0));
        }
        if (0..width).all(|f| sorted[f * n] == sorted[f * n + n - 1]) {
            return Err(BaselineError::AllConstant { method: "ECOD" });
        }
        let mut ecod = Self { width, rows: n, sorted, skew_sign, ln: std::sync::OnceLock::new(), training_tails: Vec::new() };
        ecod.training_tails = (0..n * width).map(|k| ecod.tails_of_counts(k % width, below[k] as usize, above[k] as usize, 0) as f32).collect();
        Ok(ecod)
    }

    /// A feature's tail score from the counts at or below and at or above a value, `extra` (0 or 1)
    /// added to each count and to the number of rows.
    fn tails_of_counts(&self, feature: usize, at_or_below: usize, at_or_above: usize, extra: usize) -> f64 {
        let ln = self.ln.get_or_init(|| (0..=self.rows + 1).map(|c| (c as f64).ln()).collect());
        let ln_n = ln[self.rows + extra];
        // −ln(count / n); a count of 0 (a new row beyond every training value) counts as the row itself.
        let left = ln_n - ln[at_or_below + extra];
        let right = ln_n - ln[at_or_above + extra];
        if self.skew_sign[feature] == 0 { left + right } else { left.max(right) }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// The tail score of `value` on `feature`. A training row counts itself, as in the empirical
    /// distribution of the rows it was fitted on; any other row is counted as if it joined them, so
    /// that a value beyond every training row still gets a finite score.
    pub fn tail_score(&self, feature: usize, value: f32, is_training_row: bool) -> f64 {
        let column = &self.sorted[feature * self.rows..(feature + 1) * self.rows];
        let at_or_below = column.partition_point(|&v| v <= value);
        let at_or_above = self.rows - column.partition_point(|&v| v < value);
        self.tails_of_counts(feature, at_or_below, at_or_above, usize::from(!is_training_row))
    }

    /// Training row `t`'s tail scores, if they were worked out at fitting (not after loading a model).
    fn training_row_tails(&self, t: usize) -> Option<&[f32]> {
        self.training_tails.get(t * self.width..(t + 1) * self.width)
    }

    pub fn score_into(&self, rows: Rows, self_index: SelfIndex, out: &mut [f32]) {
        for (i, score) in out.iter_mut().enumerate() {
            let total = match self_index(i).and_then(|t| self.training_row_tails(t)) {
                Some(tails) => tails.iter().map(|&t| t as f64).sum::<f64>(),
                None => {
                    let (training, row) = (self_index(i).is_some(), rows.row(i));
                    // Each tail rounded as the fitted tails are, so a loaded model scores its training
                    // rows exactly as the fitted one did.
                    (0..self.width).map(|f| self.tail_score(f, row[f], training) as f32 as f64).sum::<f64>()
                }
            };
            *score = total as f32;
        }
    }

    /// The sorted columns and the skewness signs; the training rows' tails are worked out again from
    /// them (the same numbers, see `score_into`).
    pub(super) fn save(&self, prefix: &str, out: &mut TensorWriter) -> Value {
        out.f32s(format!("{prefix}sorted"), &[self.width, self.rows], &self.sorted);
        out.i8s(format!("{prefix}skew_sign"), &[self.width], &self.skew_sign);
        json!({ "rows": self.rows })
    }

    pub(super) fn load(meta: &Value, prefix: &str, tensors: &TensorReader, width: usize) -> Result<Self, String> {
        let rows = count(meta, "rows")?;
        check(rows >= 2, || format!("ECOD was fitted on {rows} rows"))?;
        let sorted = tensors.f32s(&format!("{prefix}sorted"), &[width, rows])?;
        check(sorted.chunks_exact(rows).all(|c| c.windows(2).all(|w| w[0] <= w[1])), || "ECOD's columns are not sorted".into())?;
        let skew_sign = tensors.i8s(&format!("{prefix}skew_sign"), &[width])?;
        check(skew_sign.iter().all(|s| (-1..=1).contains(s)), || "ECOD's skewness signs are not -1, 0 or 1".into())?;
        Ok(Self { width, rows, sorted, skew_sign, ln: std::sync::OnceLock::new(), training_tails: Vec::new() })
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
        let row = [10.0f32, 100.0]; // training row 9
        let parts = ecod.explain(&row, Some(9));
        let mut score = [0.0f32];
        ecod.score_into(Rows::new(&row, 2), &|_| Some(9), &mut score);
        let sum: f64 = parts.iter().map(|c| c.value).sum();
        assert!((sum - score[0] as f64).abs() < 1e-5);
    }

    /// The tails worked out from the sort are the ones the search finds, ties included.
    #[test]
    fn training_rows_tails_from_the_sort_match_the_search() {
        let values: Vec<f32> = crate::baselines::test_data::normal_rows(500, 3, 8).iter().map(|v| (v * 4.0).round()).collect();
        let ecod = Ecod::fit(Rows::new(&values, 3)).unwrap();
        for t in 0..500 {
            for f in 0..3 {
                let searched = ecod.tail_score(f, values[t * 3 + f], true);
                assert!((ecod.training_row_tails(t).unwrap()[f] as f64 - searched).abs() < 1e-5, "row {t} feature {f}");
            }
        }
    }

    #[test]
    fn constant_features_are_refused() {
        let values = [1.0f32; 10];
        assert!(matches!(Ecod::fit(Rows::new(&values, 2)), Err(BaselineError::AllConstant { .. })));
    }
}
