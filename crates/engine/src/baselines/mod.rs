//! Classical anomaly detectors beside the deep ones: PCA reconstruction error, Isolation Forest, kNN
//! distance, ECOD and LOF. Each is fitted on training rows and scores any rows; each can say which
//! features made a row's score (`explain`).
//!
//! They take the same standardised features the autoencoder sees (`table::prepare`), as `Rows`: a
//! row-major block of `f32`. Fitting is quick for all of them but LOF, whose training rows need their
//! own neighbourhoods; scoring is where the time goes, so a caller scores in slices (`score_into` takes
//! any block of rows) and can stop between them.

mod eigen;
pub mod ecod;
pub mod forest;
pub mod knn;
pub mod lof;
mod neighbours;
pub mod pca;
mod ranges;
pub mod saved;

use serde::{Deserialize, Serialize};

pub use ranges::FeatureRanges;

/// A row-major block of rows, `width` values each.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    pub values: &'a [f32],
    pub width: usize,
}

impl<'a> Rows<'a> {
    pub fn new(values: &'a [f32], width: usize) -> Self {
        assert!(width > 0 && values.len() % width == 0, "{} values do not make rows of {width}", values.len());
        Self { values, width }
    }

    pub fn len(&self) -> usize {
        self.values.len() / self.width
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn row(&self, index: usize) -> &'a [f32] {
        &self.values[index * self.width..(index + 1) * self.width]
    }

    /// Rows `start..end` as a block of their own.
    pub fn slice(&self, start: usize, end: usize) -> Rows<'a> {
        Rows { values: &self.values[start * self.width..end * self.width], width: self.width }
    }
}

/// The detectors a visitor can tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BaselineKind {
    Pca,
    IsolationForest,
    Knn,
    Ecod,
    Lof,
}

impl BaselineKind {
    pub const ALL: [BaselineKind; 5] =
        [BaselineKind::Pca, BaselineKind::IsolationForest, BaselineKind::Knn, BaselineKind::Ecod, BaselineKind::Lof];

    pub fn name(self) -> &'static str {
        match self {
            BaselineKind::Pca => "PCA reconstruction error",
            BaselineKind::IsolationForest => "Isolation Forest",
            BaselineKind::Knn => "kNN distance",
            BaselineKind::Ecod => "ECOD",
            BaselineKind::Lof => "LOF",
        }
    }

    /// The short name used in links, model files and download columns.
    pub fn key(self) -> &'static str {
        match self {
            BaselineKind::Pca => "pca",
            BaselineKind::IsolationForest => "iforest",
            BaselineKind::Knn => "knn",
            BaselineKind::Ecod => "ecod",
            BaselineKind::Lof => "lof",
        }
    }

    /// Whether the method says which features made a row's score (all but LOF).
    pub fn explains(self) -> bool {
        self != BaselineKind::Lof
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.key() == key)
    }
}

/// Every detector's settings. Defaults follow the references a practitioner knows: scikit-learn's
/// `IsolationForest` (100 trees of 256 rows), PyOD's kNN (k = 5, distance to the k-th), scikit-learn's
/// `LocalOutlierFactor` (20 neighbours); PCA keeps the components that explain 90 % of the variance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineSettings {
    /// Keep the fewest components whose explained variance exceeds this fraction...
    pub pca_variance: f64,
    /// ...unless a number of components is given.
    pub pca_components: Option<usize>,
    pub forest_trees: usize,
    pub forest_subsample: usize,
    pub knn_k: usize,
    pub lof_k: usize,
    /// kNN and LOF compare with at most this many training rows; beyond it, a seeded sample of them.
    pub neighbour_rows: usize,
    pub seed: u64,
}

impl Default for BaselineSettings {
    fn default() -> Self {
        Self {
            pca_variance: 0.9,
            pca_components: None,
            forest_trees: 100,
            forest_subsample: 256,
            knn_k: 5,
            lof_k: 20,
            neighbour_rows: knn::EXACT_LIMIT,
            seed: 0,
        }
    }
}

/// Why a detector cannot run on this table, as one sentence for the page.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BaselineError {
    #[error("{method} needs at least {needed} training rows; there are {rows}.")]
    TooFewRows { method: &'static str, needed: usize, rows: usize },
    #[error("PCA cannot keep {asked} components of {features} features: with as many components as features every row is rebuilt exactly. Choose between 1 and {most}.", most = features.saturating_sub(1))]
    TooManyComponents { asked: usize, features: usize },
    #[error("{method} needs at least {needed} features; this table has {features}.")]
    TooFewFeatures { method: &'static str, needed: usize, features: usize },
    #[error("Every feature is constant on the training rows, so {method} has nothing to compare.")]
    AllConstant { method: &'static str },
    #[error("{method} needs k between 1 and {most} (one less than the training rows); it was {k}.")]
    BadNeighbours { method: &'static str, k: usize, most: usize },
    #[error("A training value is not a finite number (row {row}, feature {feature}).")]
    NotFinite { row: usize, feature: usize },
}

/// A fitted detector of any kind.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Baseline {
    Pca(pca::Pca),
    IsolationForest(forest::IsolationForest),
    Knn(knn::Knn),
    Ecod(ecod::Ecod),
    Lof(lof::Lof),
}

/// Which training row a scored row is, if it is one: kNN and LOF leave a row out of its own
/// neighbourhood, as scikit-learn and PyOD do for their training rows.
pub type SelfIndex<'a> = &'a (dyn Fn(usize) -> Option<usize> + Sync);

/// Rows below this are scored on one thread: a part must outweigh a thread's wake-up.
const MIN_ROWS_PER_THREAD: usize = 512;

/// One feature's part in a row's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub feature: usize,
    pub value: f64,
}

impl Baseline {
    pub fn kind(&self) -> BaselineKind {
        match self {
            Baseline::Pca(_) => BaselineKind::Pca,
            Baseline::IsolationForest(_) => BaselineKind::IsolationForest,
            Baseline::Knn(_) => BaselineKind::Knn,
            Baseline::Ecod(_) => BaselineKind::Ecod,
            Baseline::Lof(_) => BaselineKind::Lof,
        }
    }

    /// Fits the detector of `kind` on `train` (LOF in one go; the worker steps `lof::LofFitting`).
    pub fn fit(kind: BaselineKind, train: Rows, settings: &BaselineSettings) -> Result<Baseline, BaselineError> {
        check_finite(train)?;
        Ok(match kind {
            BaselineKind::Pca => Baseline::Pca(pca::Pca::fit(train, settings.pca_variance, settings.pca_components)?),
            BaselineKind::IsolationForest => Baseline::IsolationForest(forest::IsolationForest::fit(
                train,
                settings.forest_trees,
                settings.forest_subsample,
                settings.seed,
            )?),
            BaselineKind::Knn => Baseline::Knn(knn::Knn::fit(train, settings.knn_k, settings.neighbour_rows, settings.seed)?),
            BaselineKind::Ecod => Baseline::Ecod(ecod::Ecod::fit(train)?),
            BaselineKind::Lof => {
                let mut fitting = lof::LofFitting::new(train, settings.lof_k, settings.neighbour_rows, settings.seed)?;
                loop {
                    if let Some(lof) = fitting.step(usize::MAX) {
                        break Baseline::Lof(lof);
                    }
                }
            }
        })
    }

    pub fn width(&self) -> usize {
        match self {
            Baseline::Pca(m) => m.width(),
            Baseline::IsolationForest(m) => m.width(),
            Baseline::Knn(m) => m.width(),
            Baseline::Ecod(m) => m.width(),
            Baseline::Lof(m) => m.width(),
        }
    }

    /// One score per row of `rows` into `out` (larger = more anomalous). `self_index(i)` names the
    /// training row that row `i` is, if any. Every detector scores a row on its own, so the rows of the
    /// slow ones are split over the engine's threads (`crate::parallel`) without changing any score.
    pub fn score_into(&self, rows: Rows, self_index: SelfIndex, out: &mut [f32]) {
        assert_eq!(rows.width, self.width(), "rows of {} values for a detector of {}", rows.width, self.width());
        assert_eq!(rows.len(), out.len());
        // PCA and ECOD take well under a microsecond a row: waking a thread would cost more than it saves.
        let heavy = matches!(self, Baseline::IsolationForest(_) | Baseline::Knn(_) | Baseline::Lof(_));
        let parts = if heavy { crate::parallel::threads().min(rows.len() / MIN_ROWS_PER_THREAD) } else { 1 };
        let mut pieces = Vec::with_capacity(parts.max(1));
        let mut rest = out;
        for range in crate::parallel::split(rows.len(), parts) {
            let (piece, later) = std::mem::take(&mut rest).split_at_mut(range.len());
            pieces.push((range, piece));
            rest = later;
        }
        crate::parallel::map_parts(pieces, |(range, out)| {
            self.score_on_this_thread(rows.slice(range.start, range.end), &|i| self_index(range.start + i), out)
        });
    }

    fn score_on_this_thread(&self, rows: Rows, self_index: SelfIndex, out: &mut [f32]) {
        match self {
            Baseline::Pca(m) => m.score_into(rows, out),
            Baseline::IsolationForest(m) => m.score_into(rows, out),
            Baseline::Knn(m) => m.score_into(rows, self_index, out),
            Baseline::Ecod(m) => m.score_into(rows, self_index, out),
            Baseline::Lof(m) => m.score_into(rows, self_index, out),
        }
    }

    /// Scores rows that are none of the training rows.
    pub fn score(&self, rows: Rows) -> Vec<f32> {
        let mut out = vec![0.0; rows.len()];
        self.score_into(rows, &|_| None, &mut out);
        out
    }

    /// Each feature's part in `row`'s score, largest first; `None` for a detector without one (LOF).
    /// What the values mean differs by method (`explanation_meaning`).
    pub fn explain(&self, row: &[f32], self_index: Option<usize>) -> Option<Vec<Contribution>> {
        let mut parts = match self {
            Baseline::Pca(m) => m.explain(row),
            Baseline::IsolationForest(m) => m.explain(row),
            Baseline::Knn(m) => m.explain(row, self_index),
            Baseline::Ecod(m) => m.explain(row, self_index),
            Baseline::Lof(_) => return None,
        };
        parts.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.feature.cmp(&b.feature)));
        Some(parts)
    }
}

impl BaselineKind {
    /// What an explanation's numbers are, and what they are not, in a sentence for the page.
    pub fn explanation_meaning(self) -> &'static str {
        match self {
            BaselineKind::Pca => "Each feature's part of the squared reconstruction error (in standard deviations²); they add up to the score. A large part means the row's value there does not fit the pattern the main components describe, not that the value itself is extreme.",
            BaselineKind::IsolationForest => "How often each feature was split on along the row's shortest isolation paths (the tenth of the trees that isolated it fastest), as shares. It says where the forest cut the row off, not by how much the value differs.",
            BaselineKind::Knn => "Each feature's part of the distance to the row's k-th nearest training row (the squared difference divided by the distance); they add up to the score. Only that one neighbour is compared.",
            BaselineKind::Ecod => "Each feature's tail score, −log of the share of training rows at least as far out on the row's side; they add up to the score. Features are judged one at a time, so an unusual combination of ordinary values is not seen.",
            BaselineKind::Lof => "LOF compares local densities and has no per-feature explanation.",
        }
    }
}

fn check_finite(rows: Rows) -> Result<(), BaselineError> {
    match rows.values.iter().position(|v| !v.is_finite()) {
        Some(at) => Err(BaselineError::NotFinite { row: at / rows.width, feature: at % rows.width }),
        None => Ok(()),
    }
}

/// The indices of a seeded sample of `keep` of `n` rows (all of them, in order, when `n <= keep`).
pub(crate) fn sample_indices(n: usize, keep: usize, seed: u64, purpose: &str) -> Vec<usize> {
    if n <= keep {
        return (0..n).collect();
    }
    let mut rng = crate::rng::SeededRng::derive(seed, purpose);
    let mut indices = if keep * 8 < n {
        // Floyd's sampling: `keep` draws, no list of all `n` (a forest samples 256 rows a tree).
        let mut chosen = std::collections::HashSet::with_capacity(keep);
        let mut indices = Vec::with_capacity(keep);
        for j in n - keep..n {
            let t = rng.below(j + 1);
            let pick = if chosen.insert(t) { t } else { chosen.insert(j); j };
            indices.push(pick);
        }
        indices
    } else {
        // A partial Fisher–Yates shuffle: the first `keep` places.
        let mut indices: Vec<usize> = (0..n).collect();
        for i in 0..keep {
            let j = i + rng.below(n - i);
            indices.swap(i, j);
        }
        indices.truncate(keep);
        indices
    };
    indices.sort_unstable();
    indices
}

#[cfg(test)]
mod tests {
    use super::test_data::normal_rows;
    use super::*;

    /// Scores from several threads are the one thread's, bit for bit, for every detector, for training
    /// rows (left out of their own neighbourhoods) and new rows alike; LOF's fit is split too.
    #[test]
    fn threads_change_no_score() {
        for width in [3, neighbours::TREE_MAX_FEATURES + 2] {
            let (train, test) = (normal_rows(1_400, width, 1), normal_rows(1_100, width, 2));
            let settings = BaselineSettings { lof_k: 10, ..Default::default() };
            for kind in BaselineKind::ALL {
                let score = |threads: usize| {
                    crate::parallel::set_threads(threads);
                    let model = Baseline::fit(kind, Rows::new(&train, width), &settings).unwrap();
                    let mut own = vec![0.0; 1_400];
                    model.score_into(Rows::new(&train, width), &|i| Some(i), &mut own);
                    let new = model.score(Rows::new(&test, width));
                    crate::parallel::set_threads(1);
                    (own, new)
                };
                let one = score(1);
                for threads in [2, 3] {
                    let many = score(threads);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&one.0), bits(&many.0), "{kind:?}, {width} features, {threads} threads, training rows");
                    assert_eq!(bits(&one.1), bits(&many.1), "{kind:?}, {width} features, {threads} threads, new rows");
                }
            }
        }
    }

    #[test]
    fn samples_are_distinct_sorted_seeded_and_cover_the_rows() {
        for (n, keep) in [(10usize, 10usize), (100, 40), (100_000, 256)] {
            let a = sample_indices(n, keep, 3, "test");
            assert_eq!(a.len(), keep);
            assert!(a.windows(2).all(|w| w[0] < w[1]) && *a.last().unwrap() < n);
            assert_eq!(a, sample_indices(n, keep, 3, "test"));
            if keep < n {
                assert_ne!(a, sample_indices(n, keep, 4, "test"), "another seed, another sample");
            }
        }
        // Every row is drawn about equally often by the sparse route.
        let mut counts = vec![0usize; 1000];
        for seed in 0..2000 {
            for i in sample_indices(1000, 100, seed, "even") {
                counts[i] += 1;
            }
        }
        let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*lo > 130 && *hi < 280, "{lo}..{hi} (200 expected)");
    }
}

#[cfg(test)]
pub(crate) mod test_data {
    use crate::rng::SeededRng;

    /// `n` rows of `width` standard normals, seeded.
    pub fn normal_rows(n: usize, width: usize, seed: u64) -> Vec<f32> {
        let mut rng = SeededRng::new(seed);
        (0..n * width).map(|_| rng.normal()).collect()
    }
}
