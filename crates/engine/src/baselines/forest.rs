//! Isolation Forest (Liu, Ting, Zhou 2008). Each tree is grown on a random sub-sample of the training
//! rows by cutting on a random feature at a random value between that feature's smallest and largest
//! value in the node, until a row stands alone or the depth reaches ⌈log₂ sub-sample⌉. An anomaly is
//! cut off in few steps. A row's path length is the depth of its leaf plus c(rows left in the leaf),
//! the expected depth of a random tree on them, and its score 2^(−mean path / c(sub-sample)), in (0, 1].
//! The choices follow scikit-learn's `IsolationForest` (100 trees, sub-samples of 256 without
//! replacement, the threshold drawn uniformly between the node's extremes).

use serde::{Deserialize, Serialize};

use serde_json::{json, Value};

use super::saved::{check, count, TensorReader, TensorWriter};
use super::{BaselineError, Contribution, Rows};
use crate::rng::SeededRng;

/// A node of a tree: a cut, or a leaf with its path length, depth + c(training rows it held), worked
/// out once when the tree is grown (a logarithm per row and tree would be most of the scoring time).
/// How a saved forest marks a leaf in its `feature` tensor.
const LEAF: u32 = u32::MAX;

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Node {
    Cut { feature: u32, threshold: f32, left: u32, right: u32 },
    Leaf { path_length: f32 },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Tree {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IsolationForest {
    width: usize,
    subsample: usize,
    trees: Vec<Tree>,
}

/// The average path length of an unsuccessful search in a binary search tree of `n` rows:
/// c(n) = 2 H(n − 1) − 2 (n − 1) / n with H(i) ≈ ln i + γ; c(1) = 0 and c(2) = 1.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
        }
    }
}

impl IsolationForest {
    pub fn fit(train: Rows, trees: usize, subsample: usize, seed: u64) -> Result<Self, BaselineError> {
        let n = train.len();
        if n < 2 {
            return Err(BaselineError::TooFewRows { method: "Isolation Forest", needed: 2, rows: n });
        }
        let subsample = subsample.clamp(2, n);
        let max_depth = (subsample as f64).log2().ceil() as usize;
        let mut rng = SeededRng::derive(seed, "isolation forest");
        let mut grown = Vec::with_capacity(trees);
        for _ in 0..trees.max(1) {
            let mut rows = super::sample_indices(n, subsample, rng.next_u64(), "isolation forest sub-sample");
            let mut nodes = Vec::new();
            grow(train, &mut rows, 0, max_depth, &mut rng, &mut nodes);
            grown.push(Tree { nodes });
        }
        Ok(Self { width: train.width, subsample, trees: grown })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// The mean path length of `row` over the trees.
    pub fn mean_path_length(&self, row: &[f32]) -> f64 {
        self.trees.iter().map(|tree| tree.path(row, |_| {}).0).sum::<f64>() / self.trees.len() as f64
    }

    pub fn score_into(&self, rows: Rows, out: &mut [f32]) {
        let norm = average_path_length(self.subsample);
        for (i, score) in out.iter_mut().enumerate() {
            *score = (2f64).powf(-self.mean_path_length(rows.row(i)) / norm) as f32;
        }
    }

    /// The trees' nodes one after another: `feature` (`u32::MAX` for a leaf), `value` (the threshold of a
    /// cut, the path length of a leaf), the children's indices within their tree, and where each tree starts.
    pub(super) fn save(&self, prefix: &str, out: &mut TensorWriter) -> Value {
        let (mut feature, mut value, mut left, mut right, mut starts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), vec![0u32]);
        for tree in &self.trees {
            for node in &tree.nodes {
                let (f, v, l, r) = match *node {
                    Node::Cut { feature, threshold, left, right } => (feature, threshold, left, right),
                    Node::Leaf { path_length } => (LEAF, path_length, 0, 0),
                };
                feature.push(f);
                value.push(v);
                left.push(l);
                right.push(r);
            }
            starts.push(feature.len() as u32);
        }
        let nodes = feature.len();
        out.u32s(format!("{prefix}feature"), &[nodes], &feature);
        out.f32s(format!("{prefix}value"), &[nodes], &value);
        out.u32s(format!("{prefix}left"), &[nodes], &left);
        out.u32s(format!("{prefix}right"), &[nodes], &right);
        out.u32s(format!("{prefix}tree_start"), &[self.trees.len() + 1], &starts);
        json!({ "subsample": self.subsample, "trees": self.trees.len(), "nodes": nodes })
    }

    pub(super) fn load(meta: &Value, prefix: &str, tensors: &TensorReader, width: usize) -> Result<Self, String> {
        let (subsample, trees, nodes) = (count(meta, "subsample")?, count(meta, "trees")?, count(meta, "nodes")?);
        check(subsample >= 2 && trees >= 1, || format!("the forest has {trees} trees of {subsample} rows"))?;
        let feature = tensors.u32s(&format!("{prefix}feature"), &[nodes])?;
        let value = tensors.f32s(&format!("{prefix}value"), &[nodes])?;
        let left = tensors.u32s(&format!("{prefix}left"), &[nodes])?;
        let right = tensors.u32s(&format!("{prefix}right"), &[nodes])?;
        let starts = tensors.u32s(&format!("{prefix}tree_start"), &[trees + 1])?;
        check(starts[0] == 0 && starts[trees] as usize == nodes && starts.windows(2).all(|w| w[0] < w[1]), || "the forest's trees do not split its nodes".into())?;
        let mut grown = Vec::with_capacity(trees);
        for bounds in starts.windows(2) {
            let (start, end) = (bounds[0] as usize, bounds[1] as usize);
            let size = (end - start) as u32;
            let nodes = (start..end)
                .map(|i| {
                    let at = (i - start) as u32;
                    if feature[i] == LEAF {
                        return Ok(Node::Leaf { path_length: value[i] });
                    }
                    // Children come after their parent, so every path ends at a leaf.
                    check((feature[i] as usize) < width && left[i] > at && right[i] > at && left[i] < size && right[i] < size, || {
                        format!("the forest's node {i} cuts on a feature or leads to a node that does not exist")
                    })?;
                    Ok(Node::Cut { feature: feature[i], threshold: value[i], left: left[i], right: right[i] })
                })
                .collect::<Result<Vec<_>, String>>()?;
            grown.push(Tree { nodes });
        }
        Ok(Self { width, subsample, trees: grown })
    }

    /// The features cut on along the row's paths in the tenth of the trees (at least one) that isolate
    /// it fastest, each as its share of those cuts.
    pub fn explain(&self, row: &[f32]) -> Vec<Contribution> {
        let mut paths: Vec<(f64, Vec<u32>)> = self
            .trees
            .iter()
            .map(|tree| {
                let mut features = Vec::new();
                let (length, _) = tree.path(row, |f| features.push(f));
                (length, features)
            })
            .collect();
        paths.sort_by(|a, b| a.0.total_cmp(&b.0));
        let shortest = &paths[..(paths.len() / 10).max(1)];
        let mut counts = vec![0usize; self.width];
        for (_, features) in shortest {
            for &f in features {
                counts[f as usize] += 1;
            }
        }
        let total = counts.iter().sum::<usize>().max(1) as f64;
        counts.iter().enumerate().map(|(feature, &c)| Contribution { feature, value: c as f64 / total }).collect()
    }
}

impl Tree {
    /// The path length of `row` (depth + c(leaf rows)) and its depth; `cut` sees each feature cut on.
    fn path(&self, row: &[f32], mut cut: impl FnMut(u32)) -> (f64, usize) {
        let (mut node, mut depth) = (0usize, 0usize);
        loop {
            match self.nodes[node] {
                Node::Cut { feature, threshold, left, right } => {
                    cut(feature);
                    node = if row[feature as usize] <= threshold { left as usize } else { right as usize };
                    depth += 1;
                }
                Node::Leaf { path_length } => return (path_length as f64, depth),
            }
        }
    }
}

/// Grows the subtree of `rows` at `depth`, appending its nodes; returns its root's index.
fn grow(train: Rows, rows: &mut [usize], depth: usize, max_depth: usize, rng: &mut SeededRng, nodes: &mut Vec<Node>) -> u32 {
    let at = nodes.len() as u32;
    nodes.push(Node::Leaf { path_length: (depth as f64 + average_path_length(rows.len())) as f32 });
    if rows.len() < 2 || depth >= max_depth {
        return at;
    }
    // A random feature that is not constant here: draw among those left until one varies.
    let mut candidates: Vec<usize> = (0..train.width).collect();
    let (feature, low, high) = loop {
        if candidates.is_empty() {
            return at; // every feature is constant on these rows: they cannot be told apart
        }
        let feature = candidates.swap_remove(rng.below(candidates.len()));
        let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
        for &r in rows.iter() {
            let v = train.row(r)[feature];
            low = low.min(v);
            high = high.max(v);
        }
        if high > low {
            break (feature, low, high);
        }
    };
    let mut threshold = low + rng.uniform_f64() as f32 * (high - low);
    if threshold >= high {
        threshold = low; // rounding must not send every row left
    }
    let mut split = 0;
    for i in 0..rows.len() {
        if train.row(rows[i])[feature] <= threshold {
            rows.swap(i, split);
            split += 1;
        }
    }
    let (left_rows, right_rows) = rows.split_at_mut(split);
    let left = grow(train, left_rows, depth + 1, max_depth, rng, nodes);
    let right = grow(train, right_rows, depth + 1, max_depth, rng, nodes);
    nodes[at as usize] = Node::Cut { feature: feature as u32, threshold, left, right };
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::test_data::normal_rows;

    #[test]
    fn average_path_length_matches_the_formula() {
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        // c(256) = 2 (ln 255 + γ) − 2 · 255 / 256 ≈ 10.2447
        assert!((average_path_length(256) - 10.244_7).abs() < 1e-3);
    }

    /// Two rows: one cut separates them, each leaf holds one row, so every path is 1 and the score
    /// 2^(−1 / c(2)) = ½.
    #[test]
    fn two_rows_are_one_cut_apart() {
        let values = [0.0f32, 5.0, 1.0, 7.0];
        let forest = IsolationForest::fit(Rows::new(&values, 2), 10, 256, 3).unwrap();
        for tree in &forest.trees {
            assert_eq!(tree.nodes.len(), 3);
        }
        assert_eq!(forest.mean_path_length(&[0.0, 5.0]), 1.0);
        let scores = IsolationForest::score_rows(&forest, &values);
        assert_eq!(scores, vec![0.5, 0.5]);
    }

    /// A point far from a normal cloud is isolated sooner than the cloud's centre, and the feature it
    /// stands out on is the one the explanation names.
    #[test]
    fn an_outlier_has_a_short_path_and_its_feature_is_named() {
        let values = normal_rows(1000, 3, 1);
        let forest = IsolationForest::fit(Rows::new(&values, 3), 100, 256, 7).unwrap();
        let outlier = [0.0f32, 8.0, 0.0];
        let centre = [0.0f32, 0.0, 0.0];
        assert!(forest.mean_path_length(&outlier) < forest.mean_path_length(&centre) - 3.0);
        let parts = forest.explain(&outlier);
        let best = parts.iter().max_by(|a, b| a.value.total_cmp(&b.value)).unwrap();
        assert_eq!(best.feature, 1);
        assert!((parts.iter().map(|c| c.value).sum::<f64>() - 1.0).abs() < 1e-12);
        // Depth is capped at ⌈log₂ 256⌉ = 8.
        assert!(forest.trees.iter().all(|t| t.path(&centre, |_| {}).1 <= 8));
    }

    impl IsolationForest {
        fn score_rows(&self, values: &[f32]) -> Vec<f32> {
            let rows = Rows::new(values, self.width);
            let mut out = vec![0.0; rows.len()];
            self.score_into(rows, &mut out);
            out
        }
    }
}
