//! kNN distance (Ramaswamy, Rastogi, Shim 2000): a row's score is its distance to its k-th nearest
//! training row, so a row far from every crowd scores high. A training row leaves itself out, as PyOD's
//! `KNN` (k = 5, "largest") does for the rows it was fitted on.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use serde_json::{json, Value};

use super::neighbours::NeighbourIndex;
use super::saved::{check, check_kept, count, TensorReader, TensorWriter};
use super::{BaselineError, Contribution, Rows, SelfIndex};

/// kNN and LOF compare with every training row up to this many; beyond it, with a seeded sample of this
/// many. At 20,000 training rows of 10 features, scoring 100,000 rows takes about 20 s in a browser.
pub const EXACT_LIMIT: usize = 20_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Knn {
    width: usize,
    k: usize,
    /// The training rows compared with (all, or the seeded sample).
    train: Vec<f32>,
    /// For each kept row, its index among the rows given to `fit`, so a training row can leave itself out.
    kept: Vec<u32>,
    /// How many training rows were given, to say on the page when only a sample is kept.
    pub rows_given: usize,
    /// The search structure over `train`, built when first needed (and again after loading).
    #[serde(skip)]
    index: OnceLock<NeighbourIndex>,
}

impl Knn {
    pub fn fit(train: Rows, k: usize, limit: usize, seed: u64) -> Result<Self, BaselineError> {
        let (values, kept) = keep_rows(train, limit, seed);
        let n = kept.len();
        if n < 2 {
            return Err(BaselineError::TooFewRows { method: "kNN", needed: 2, rows: n });
        }
        if k == 0 || k >= n {
            return Err(BaselineError::BadNeighbours { method: "kNN", k, most: n - 1 });
        }
        // The search structure is built here, as scikit-learn's fit builds its tree, so that scoring on
        // several threads does not wait for one of them to build it.
        let index = OnceLock::from(NeighbourIndex::new(&values, train.width));
        Ok(Self { width: train.width, k, train: values, kept, rows_given: train.len(), index })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn is_sampled(&self) -> bool {
        self.kept.len() < self.rows_given
    }

    /// Where training row `given` sits among the kept rows, if it was kept.
    fn kept_position(&self, given: Option<usize>) -> Option<usize> {
        let given = given? as u32;
        self.kept.binary_search(&given).ok()
    }

    fn index(&self) -> &NeighbourIndex {
        self.index.get_or_init(|| NeighbourIndex::new(&self.train, self.width))
    }

    pub fn score_into(&self, rows: Rows, self_index: SelfIndex, out: &mut [f32]) {
        let k = self.k;
        self.index().search(rows, k, &|i| self.kept_position(self_index(i)), |i, found| out[i] = found[k - 1].0.sqrt());
    }

    pub(super) fn save(&self, prefix: &str, out: &mut TensorWriter) -> Value {
        let n = self.kept.len();
        out.f32s(format!("{prefix}train"), &[n, self.width], &self.train);
        out.u32s(format!("{prefix}kept"), &[n], &self.kept);
        json!({ "k": self.k, "rows": n, "rows_given": self.rows_given })
    }

    pub(super) fn load(meta: &Value, prefix: &str, tensors: &TensorReader, width: usize) -> Result<Self, String> {
        let (k, n, rows_given) = (count(meta, "k")?, count(meta, "rows")?, count(meta, "rows_given")?);
        check(n >= 2 && k >= 1 && k < n, || format!("kNN keeps {n} rows for k = {k}"))?;
        let kept = tensors.u32s(&format!("{prefix}kept"), &[n])?;
        check_kept("kNN", &kept, rows_given)?;
        let train = tensors.f32s(&format!("{prefix}train"), &[n, width])?;
        Ok(Self { width, k, train, kept, rows_given, index: OnceLock::new() })
    }

    /// Each feature's (row − neighbour)² / distance for the k-th nearest neighbour: the parts add up to
    /// the distance.
    pub fn explain(&self, row: &[f32], self_index: Option<usize>) -> Vec<Contribution> {
        let mut kth = 0;
        let skip = self.kept_position(self_index);
        self.index().search(Rows::new(row, self.width), self.k, &|_| skip, |_, found| kth = found[self.k - 1].1 as usize);
        let neighbour = &self.train[kth * self.width..][..self.width];
        let squares: Vec<f64> = row.iter().zip(neighbour).map(|(&a, &b)| ((a - b) as f64).powi(2)).collect();
        let distance = squares.iter().sum::<f64>().sqrt();
        squares
            .iter()
            .enumerate()
            .map(|(feature, &s)| Contribution { feature, value: if distance > 0.0 { s / distance } else { 0.0 } })
            .collect()
    }
}

/// The rows kNN and LOF keep: all of them up to `limit`, else a seeded sample; with their indices.
pub(crate) fn keep_rows(train: Rows, limit: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let kept = super::sample_indices(train.len(), limit.max(2), seed, "neighbour rows");
    let mut values = Vec::with_capacity(kept.len() * train.width);
    for &r in &kept {
        values.extend_from_slice(train.row(r));
    }
    (values, kept.into_iter().map(|r| r as u32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_to_the_kth_neighbour() {
        // Points 0, 1, 2, 3 and 10 on a line, k = 2.
        let values = [0.0f32, 1.0, 2.0, 3.0, 10.0];
        let knn = Knn::fit(Rows::new(&values, 1), 2, EXACT_LIMIT, 0).unwrap();
        let mut scores = [0.0f32; 5];
        knn.score_into(Rows::new(&values, 1), &|i| Some(i), &mut scores);
        // Leaving itself out: 0 → {1, 2}: 2; 1 → {0, 2}: 1; 2 → {1, 3}: 1; 3 → {2, 1}: 2; 10 → {3, 2}: 8.
        assert_eq!(scores, [2.0, 1.0, 1.0, 2.0, 8.0]);
        // A new row counts every training row.
        assert_eq!(knn.score(Rows::new(&[1.0], 1)), vec![1.0]);
        // A row so far out that its squared distances overflow still finds its k neighbours.
        assert_eq!(knn.score(Rows::new(&[3.0e38], 1)), vec![f32::INFINITY]);
    }

    #[test]
    fn explanation_adds_up_to_the_distance() {
        let values = [0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 5.0, 5.0];
        let knn = Knn::fit(Rows::new(&values, 2), 1, EXACT_LIMIT, 0).unwrap();
        let row = [3.0f32, 1.0];
        let parts = knn.explain(&row, None);
        let score = knn.score(Rows::new(&row, 2))[0] as f64;
        assert!((parts.iter().map(|c| c.value).sum::<f64>() - score).abs() < 1e-6);
        assert!(parts[0].value > parts[1].value);
    }

    #[test]
    fn too_large_k_is_refused_in_a_sentence() {
        let values = [0.0f32, 1.0, 2.0];
        let error = Knn::fit(Rows::new(&values, 1), 5, EXACT_LIMIT, 0).unwrap_err();
        assert_eq!(error.to_string(), "kNN needs k between 1 and 2 (one less than the training rows); it was 5.");
    }

    #[test]
    fn a_large_training_set_is_sampled_with_the_seed() {
        let values: Vec<f32> = (0..100).map(|v| v as f32).collect();
        let a = Knn::fit(Rows::new(&values, 1), 3, 40, 9).unwrap();
        let b = Knn::fit(Rows::new(&values, 1), 3, 40, 9).unwrap();
        assert!(a.is_sampled() && a.kept.len() == 40);
        assert_eq!(a.kept, b.kept);
    }

    impl Knn {
        fn score(&self, rows: Rows) -> Vec<f32> {
            let mut out = vec![0.0; rows.len()];
            self.score_into(rows, &|_| None, &mut out);
            out
        }
    }
}
