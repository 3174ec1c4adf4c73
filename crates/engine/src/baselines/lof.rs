//! LOF, the local outlier factor (Breunig, Kriegel, Ng, Sander 2000): how much sparser a row's
//! neighbourhood is than its neighbours' neighbourhoods. The reachability distance of p from o is
//! max(d(p, o), k-distance of o); p's local reachability density is 1 / (mean reachability distance from
//! its k neighbours); its LOF is its neighbours' mean density over its own. About 1 inside a cluster,
//! well above 1 for a row on its own. As scikit-learn's `LocalOutlierFactor` (20 neighbours, 10⁻¹⁰ added
//! to the mean reachability distance so duplicated rows do not divide by zero).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use serde_json::{json, Value};

use super::knn::keep_rows;
use super::saved::{check, check_kept, count, TensorReader, TensorWriter};
use super::neighbours::NeighbourIndex;
use super::{BaselineError, Rows, SelfIndex, MIN_ROWS_PER_THREAD};
use crate::parallel;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Lof {
    width: usize,
    k: usize,
    train: Vec<f32>,
    kept: Vec<u32>,
    /// Each kept row's distance to its k-th neighbour, and its local reachability density.
    k_distance: Vec<f32>,
    density: Vec<f32>,
    pub rows_given: usize,
    #[serde(skip)]
    index: OnceLock<NeighbourIndex>,
    /// Each kept row's neighbours from the fit (`row * k ..`, indices and distances), so scoring the
    /// training rows themselves (fit on all rows, score all rows) does not search for them again.
    #[serde(skip)]
    fitted_neighbours: Vec<u32>,
    #[serde(skip)]
    fitted_distances: Vec<f32>,
}

/// LOF's fit in slices: each kept training row needs its own k neighbours first.
pub struct LofFitting {
    width: usize,
    k: usize,
    train: Vec<f32>,
    kept: Vec<u32>,
    rows_given: usize,
    /// Per kept row, its neighbours' indices and distances (k each), filled row by row.
    neighbour_index: Vec<u32>,
    neighbour_distance: Vec<f32>,
    index: NeighbourIndex,
}

impl LofFitting {
    pub fn new(train: Rows, k: usize, limit: usize, seed: u64) -> Result<Self, BaselineError> {
        let (values, kept) = keep_rows(train, limit, seed);
        let n = kept.len();
        if n < 3 {
            return Err(BaselineError::TooFewRows { method: "LOF", needed: 3, rows: n });
        }
        if k == 0 || k >= n {
            return Err(BaselineError::BadNeighbours { method: "LOF", k, most: n - 1 });
        }
        Ok(Self {
            width: train.width,
            k,
            index: NeighbourIndex::new(&values, train.width),
            train: values,
            kept,
            rows_given: train.len(),
            neighbour_index: Vec::with_capacity(n * k),
            neighbour_distance: Vec::with_capacity(n * k),
        })
    }

    /// The share of the fit done.
    pub fn progress(&self) -> f64 {
        self.neighbour_index.len() as f64 / (self.kept.len() * self.k) as f64
    }

    /// Finds the neighbours of up to `max_rows` more training rows; the fitted LOF once all have them.
    pub fn step(&mut self, max_rows: usize) -> Option<Lof> {
        let n = self.kept.len();
        let train = Rows::new(&self.train, self.width);
        let start = self.neighbour_index.len() / self.k;
        let end = n.min(start.saturating_add(max_rows));
        // Each row's search is its own: the rows are split over the engine's threads and put back in order.
        let (index, k) = (&self.index, self.k);
        let parts = parallel::threads().min((end - start) / MIN_ROWS_PER_THREAD);
        let found = parallel::map_parts(parallel::split(end - start, parts), |range| {
            let (from, to) = (start + range.start, start + range.end);
            let (mut indices, mut distances) = (Vec::with_capacity((to - from) * k), Vec::with_capacity((to - from) * k));
            index.search(train.slice(from, to), k, &|i| Some(from + i), |_, found| {
                indices.extend(found.iter().map(|n| n.1));
                distances.extend(found.iter().map(|n| n.0.sqrt()));
            });
            (indices, distances)
        });
        for (indices, distances) in found {
            self.neighbour_index.extend_from_slice(&indices);
            self.neighbour_distance.extend_from_slice(&distances);
        }
        if self.neighbour_index.len() < n * self.k {
            return None;
        }
        let k = self.k;
        let k_distance: Vec<f32> = (0..n).map(|r| self.neighbour_distance[r * k + k - 1]).collect();
        let density = (0..n)
            .map(|r| {
                let reach: f64 = (0..k)
                    .map(|j| {
                        let o = self.neighbour_index[r * k + j] as usize;
                        self.neighbour_distance[r * k + j].max(k_distance[o]) as f64
                    })
                    .sum();
                (1.0 / (reach / k as f64 + 1e-10)) as f32
            })
            .collect();
        Some(Lof {
            width: self.width,
            k,
            train: std::mem::take(&mut self.train),
            kept: std::mem::take(&mut self.kept),
            k_distance,
            density,
            rows_given: self.rows_given,
            index: OnceLock::from(self.index.clone()),
            fitted_neighbours: std::mem::take(&mut self.neighbour_index),
            fitted_distances: std::mem::take(&mut self.neighbour_distance),
        })
    }
}

impl Lof {
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn is_sampled(&self) -> bool {
        self.kept.len() < self.rows_given
    }

    pub fn score_into(&self, rows: Rows, self_index: SelfIndex, out: &mut [f32]) {
        let kept_position = |i| self_index(i).and_then(|given| self.kept.binary_search(&(given as u32)).ok());
        // Kept training rows have their neighbours from the fit; the others are searched for.
        let mut searched = Vec::new();
        for (i, score) in out.iter_mut().enumerate() {
            match kept_position(i).filter(|_| !self.fitted_neighbours.is_empty()) {
                Some(p) => {
                    let (indices, distances) = (&self.fitted_neighbours[p * self.k..][..self.k], &self.fitted_distances[p * self.k..][..self.k]);
                    *score = self.factor(indices.iter().zip(distances).map(|(&o, &d)| (d, o)));
                }
                None => searched.push(i),
            }
        }
        if searched.is_empty() {
            return;
        }
        let mut block = Vec::with_capacity(searched.len() * self.width);
        for &i in &searched {
            block.extend_from_slice(rows.row(i));
        }
        let index = self.index.get_or_init(|| NeighbourIndex::new(&self.train, self.width));
        index.search(Rows::new(&block, self.width), self.k, &|j| kept_position(searched[j]), |j, found| {
            out[searched[j]] = self.factor(found.iter().map(|&(d2, o)| (d2.sqrt(), o)));
        });
    }

    /// The kept rows with their k-distances and densities; the fit's neighbourhoods are not saved (a
    /// training row's search gives the same ones, as a test checks).
    pub(super) fn save(&self, prefix: &str, out: &mut TensorWriter) -> Value {
        let n = self.kept.len();
        out.f32s(format!("{prefix}train"), &[n, self.width], &self.train);
        out.u32s(format!("{prefix}kept"), &[n], &self.kept);
        out.f32s(format!("{prefix}k_distance"), &[n], &self.k_distance);
        out.f32s(format!("{prefix}density"), &[n], &self.density);
        json!({ "k": self.k, "rows": n, "rows_given": self.rows_given })
    }

    pub(super) fn load(meta: &Value, prefix: &str, tensors: &TensorReader, width: usize) -> Result<Self, String> {
        let (k, n, rows_given) = (count(meta, "k")?, count(meta, "rows")?, count(meta, "rows_given")?);
        check(n >= 2 && k >= 1 && k < n, || format!("LOF keeps {n} rows for k = {k}"))?;
        let kept = tensors.u32s(&format!("{prefix}kept"), &[n])?;
        check_kept("LOF", &kept, rows_given)?;
        let k_distance = tensors.f32s(&format!("{prefix}k_distance"), &[n])?;
        let density = tensors.f32s(&format!("{prefix}density"), &[n])?;
        check(k_distance.iter().all(|&d| d >= 0.0) && density.iter().all(|&d| d > 0.0), || "LOF's distances or densities are negative".into())?;
        Ok(Self {
            width,
            k,
            train: tensors.f32s(&format!("{prefix}train"), &[n, width])?,
            kept,
            k_distance,
            density,
            rows_given,
            index: OnceLock::new(),
            fitted_neighbours: Vec::new(),
            fitted_distances: Vec::new(),
        })
    }

    /// The LOF of a row from its neighbours (distance, index among the kept rows).
    fn factor(&self, neighbours: impl Iterator<Item = (f32, u32)>) -> f32 {
        let (mut reach, mut neighbour_density, mut k) = (0.0f64, 0.0f64, 0usize);
        for (distance, o) in neighbours {
            reach += distance.max(self.k_distance[o as usize]) as f64;
            neighbour_density += self.density[o as usize] as f64;
            k += 1;
        }
        let k = k as f64;
        let own_density = 1.0 / (reach / k + 1e-10);
        ((neighbour_density / k) / own_density) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::test_data::normal_rows;

    /// A regular grid has LOF 1 everywhere inside it; a lone point far off has a large one.
    #[test]
    fn grid_inside_is_one_and_a_lone_point_is_large() {
        let mut values = Vec::new();
        for i in 0..10 {
            for j in 0..10 {
                values.extend([i as f32, j as f32]);
            }
        }
        let n = values.len() / 2;
        let lof = match super::super::Baseline::fit(super::super::BaselineKind::Lof, Rows::new(&values, 2), &super::super::BaselineSettings { lof_k: 4, ..Default::default() }).unwrap() {
            super::super::Baseline::Lof(lof) => lof,
            _ => unreachable!(),
        };
        let mut scores = vec![0.0f32; n];
        lof.score_into(Rows::new(&values, 2), &|i| Some(i), &mut scores);
        // A point well inside (5, 5): its 4 neighbours at distance 1, all with k-distance 1.
        assert!((scores[55] - 1.0).abs() < 1e-6, "{}", scores[55]);
        let far = [30.0f32, 30.0];
        let mut far_score = [0.0f32];
        lof.score_into(Rows::new(&far, 2), &|_| None, &mut far_score);
        assert!(far_score[0] > 10.0, "{}", far_score[0]);
    }

    /// Training rows scored from the fit's neighbourhoods get exactly the scores a search gives.
    #[test]
    fn training_rows_from_the_fit_score_as_a_search_does() {
        let values = normal_rows(400, 4, 6);
        let rows = Rows::new(&values, 4);
        let lof = LofFitting::new(rows, 10, 1000, 0).unwrap().step(usize::MAX).unwrap();
        let mut stored = vec![0.0f32; 400];
        lof.score_into(rows, &|i| Some(i), &mut stored);
        let mut searching = lof.clone();
        searching.fitted_neighbours.clear();
        let mut searched = vec![0.0f32; 400];
        searching.score_into(rows, &|i| Some(i), &mut searched);
        assert_eq!(stored, searched);
    }

    #[test]
    fn stepping_in_slices_gives_the_same_fit() {
        let values = normal_rows(300, 3, 4);
        let rows = Rows::new(&values, 3);
        let whole = LofFitting::new(rows, 20, 1000, 0).unwrap().step(usize::MAX).unwrap();
        let mut fitting = LofFitting::new(rows, 20, 1000, 0).unwrap();
        let sliced = loop {
            if let Some(lof) = fitting.step(7) {
                break lof;
            }
            assert!(fitting.progress() < 1.0);
        };
        assert_eq!(whole.density, sliced.density);
    }
}
