//! The k nearest training rows of a row, by Euclidean distance, exactly. Two ways, chosen by the number
//! of features, as scikit-learn's `NearestNeighbors(algorithm="auto")` chooses:
//!
//! - up to [`TREE_MAX_FEATURES`] features, a k-d tree: median cuts on the widest feature down to small
//!   leaves, and a search that skips every branch farther than the k-th best found so far;
//! - above that, blocks of rows against every training row through one matrix product,
//!   |q − t|² = |q|² + |t|² − 2 q·t (candle's matrix product, SIMD in the browser too); the closest
//!   candidates by that formula are measured again directly, so rounding in the product never decides.

use candle_core::{Device, Tensor};

use super::Rows;

/// A neighbour: its squared distance and its index among the training rows.
pub(crate) type Neighbour = (f32, u32);

/// Up to this many features a k-d tree; beyond it, the matrix product.
pub(crate) const TREE_MAX_FEATURES: usize = 15;
const LEAF_ROWS: usize = 24;
/// Rows scored per matrix product.
const BLOCK_ROWS: usize = 128;
/// Candidates beyond k measured directly after the matrix product.
const RECHECK_MARGIN: usize = 8;

#[derive(Clone, Debug)]
pub(crate) struct NeighbourIndex {
    width: usize,
    rows: usize,
    search: Search,
}

#[derive(Clone, Debug)]
enum Search {
    Tree(KdTree),
    Products { train: Vec<f32>, transposed: Tensor, norms: Vec<f32> },
}

impl NeighbourIndex {
    pub(crate) fn new(train: &[f32], width: usize) -> Self {
        let rows = train.len() / width;
        let search = if width <= TREE_MAX_FEATURES {
            Search::Tree(KdTree::new(train, width))
        } else {
            let norms = train.chunks_exact(width).map(|r| r.iter().map(|v| v * v).sum()).collect();
            let transposed = Tensor::from_slice(train, (rows, width), &Device::Cpu)
                .and_then(|t| t.t()?.contiguous())
                .expect("the training rows make a matrix");
            Search::Products { train: train.to_vec(), transposed, norms }
        };
        Self { width, rows, search }
    }

    /// For each row `i` of `queries`, its `k` nearest training rows, nearest first, leaving out training
    /// row `skip(i)`; `visit(i, neighbours)` receives them.
    pub(crate) fn search(&self, queries: Rows, k: usize, skip: &dyn Fn(usize) -> Option<usize>, mut visit: impl FnMut(usize, &[Neighbour])) {
        assert_eq!(queries.width, self.width);
        let mut found = Vec::with_capacity(k + RECHECK_MARGIN + 1);
        match &self.search {
            Search::Tree(tree) => {
                for i in 0..queries.len() {
                    tree.nearest(queries.row(i), k, skip(i), &mut found);
                    visit(i, &found);
                }
            }
            Search::Products { train, transposed, norms } => {
                for start in (0..queries.len()).step_by(BLOCK_ROWS) {
                    let end = (start + BLOCK_ROWS).min(queries.len());
                    let block = queries.slice(start, end);
                    let products = Tensor::from_slice(block.values, (end - start, self.width), &Device::Cpu)
                        .and_then(|q| q.matmul(transposed))
                        .and_then(|p| p.flatten_all()?.to_vec1::<f32>())
                        .expect("the matrix product runs");
                    for (b, products) in products.chunks_exact(self.rows).enumerate() {
                        let query = block.row(b);
                        let query_norm: f32 = query.iter().map(|v| v * v).sum();
                        // The closest by the formula, then each measured directly.
                        candidates(products, norms, query_norm, k + RECHECK_MARGIN, skip(start + b), &mut found);
                        for candidate in found.iter_mut() {
                            let t = &train[candidate.1 as usize * self.width..][..self.width];
                            candidate.0 = squared_distance(t, query, f32::INFINITY);
                        }
                        found.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                        found.truncate(k);
                        visit(start + b, &found);
                    }
                }
            }
        }
    }
}

/// The `keep` smallest |q|² + |t|² − 2 q·t over the training rows, leaving out `skip`.
fn candidates(products: &[f32], norms: &[f32], query_norm: f32, keep: usize, skip: Option<usize>, found: &mut Vec<Neighbour>) {
    found.clear();
    let mut worst = f32::INFINITY;
    for (index, (&p, &norm)) in products.iter().zip(norms).enumerate() {
        let d = query_norm + norm - 2.0 * p;
        if d < worst || found.len() < keep {
            if Some(index) == skip {
                continue;
            }
            if found.len() == keep {
                found.pop();
            }
            insert(found, (d, index as u32));
            if found.len() == keep {
                worst = found[keep - 1].0;
            }
        }
    }
}

/// Keeps `found` sorted by distance (then index, so ties are broken the same way everywhere).
fn insert(found: &mut Vec<Neighbour>, item: Neighbour) {
    let at = found.partition_point(|&(d, i)| d < item.0 || (d == item.0 && i < item.1));
    found.insert(at, item);
}

/// Σ (a − b)², eight lanes at a time so that the compiler can use SIMD; gives up (returning a value
/// at least `give_up`) once the partial sum passes it, since the row cannot be among the nearest then.
#[inline]
pub(crate) fn squared_distance(a: &[f32], b: &[f32], give_up: f32) -> f32 {
    let mut total = 0.0f32;
    let mut a_chunks = a.chunks_exact(8);
    let mut b_chunks = b.chunks_exact(8);
    for (x, y) in (&mut a_chunks).zip(&mut b_chunks) {
        let mut lanes = [0.0f32; 8];
        for l in 0..8 {
            let d = x[l] - y[l];
            lanes[l] = d * d;
        }
        total += lanes.iter().sum::<f32>();
        if total > give_up {
            return total;
        }
    }
    for (x, y) in a_chunks.remainder().iter().zip(b_chunks.remainder()) {
        let d = x - y;
        total += d * d;
    }
    total
}

/// A k-d tree over the training rows, stored in the tree's order so that a leaf's rows are contiguous.
#[derive(Clone, Debug)]
struct KdTree {
    width: usize,
    /// The rows in tree order, and each one's index among the training rows.
    points: Vec<f32>,
    original: Vec<u32>,
    nodes: Vec<KdNode>,
}

#[derive(Clone, Debug)]
enum KdNode {
    Leaf { start: u32, end: u32 },
    Cut { feature: u32, value: f32, below: u32, above: u32 },
}

impl KdTree {
    fn new(train: &[f32], width: usize) -> Self {
        let rows = train.len() / width;
        let mut order: Vec<u32> = (0..rows as u32).collect();
        let mut nodes = Vec::new();
        build(train, width, &mut order, 0, &mut nodes);
        let mut points = Vec::with_capacity(train.len());
        for &r in &order {
            points.extend_from_slice(&train[r as usize * width..][..width]);
        }
        Self { width, points, original: order, nodes }
    }

    fn nearest(&self, query: &[f32], k: usize, skip: Option<usize>, found: &mut Vec<Neighbour>) {
        found.clear();
        let skip = skip.map(|s| s as u32);
        self.visit(0, query, k, skip, found);
    }

    fn visit(&self, node: usize, query: &[f32], k: usize, skip: Option<u32>, found: &mut Vec<Neighbour>) {
        match self.nodes[node] {
            KdNode::Leaf { start, end } => {
                for at in start as usize..end as usize {
                    let index = self.original[at];
                    if Some(index) == skip {
                        continue;
                    }
                    let worst = if found.len() == k { found[k - 1].0 } else { f32::INFINITY };
                    let d = squared_distance(&self.points[at * self.width..][..self.width], query, worst);
                    // Until k are found every row counts, even one whose distance overflows to infinity.
                    if found.len() < k || d < worst {
                        if found.len() == k {
                            found.pop();
                        }
                        insert(found, (d, index));
                    }
                }
            }
            KdNode::Cut { feature, value, below, above } => {
                let gap = query[feature as usize] - value;
                let (near, far) = if gap <= 0.0 { (below, above) } else { (above, below) };
                self.visit(near as usize, query, k, skip, found);
                let worst = if found.len() == k { found[k - 1].0 } else { f32::INFINITY };
                if found.len() < k || gap * gap < worst {
                    self.visit(far as usize, query, k, skip, found);
                }
            }
        }
    }
}

/// Builds the subtree of the rows in `order` (which starts at `offset` in tree order); returns its index.
fn build(train: &[f32], width: usize, order: &mut [u32], offset: usize, nodes: &mut Vec<KdNode>) -> u32 {
    let at = nodes.len() as u32;
    let leaf = KdNode::Leaf { start: offset as u32, end: (offset + order.len()) as u32 };
    nodes.push(leaf.clone());
    if order.len() <= LEAF_ROWS {
        return at;
    }
    // The feature with the widest spread here.
    let value = |r: u32, f: usize| train[r as usize * width + f];
    let (mut feature, mut spread) = (0, -1.0f32);
    for f in 0..width {
        let (lo, hi) = order.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &r| (lo.min(value(r, f)), hi.max(value(r, f))));
        if hi - lo > spread {
            (feature, spread) = (f, hi - lo);
        }
    }
    if spread <= 0.0 {
        return at; // all these rows are the same point
    }
    let middle = order.len() / 2;
    order.select_nth_unstable_by(middle, |&a, &b| value(a, feature).total_cmp(&value(b, feature)));
    let cut = value(order[middle], feature);
    let (below_rows, above_rows) = order.split_at_mut(middle);
    let below = build(train, width, below_rows, offset, nodes);
    let above = build(train, width, above_rows, offset + middle, nodes);
    nodes[at as usize] = KdNode::Cut { feature: feature as u32, value: cut, below, above };
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::test_data::normal_rows;

    /// The plain answer: every training row measured.
    fn brute(train: &[f32], width: usize, query: &[f32], k: usize, skip: Option<usize>) -> Vec<f32> {
        let mut all: Vec<f32> = train
            .chunks_exact(width)
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, t)| squared_distance(t, query, f32::INFINITY))
            .collect();
        all.sort_by(f32::total_cmp);
        all.truncate(k);
        all
    }

    #[test]
    fn nearest_rows_on_a_line() {
        let train: Vec<f32> = (0..10).map(|v| v as f32).collect();
        let index = NeighbourIndex::new(&train, 1);
        let mut got = Vec::new();
        index.search(Rows::new(&[3.2, 3.0], 1), 3, &|i| (i == 1).then_some(3), |_, found| got.push(found.to_vec()));
        assert_eq!(got[0].iter().map(|n| n.1).collect::<Vec<_>>(), vec![3, 4, 2]);
        assert!((got[0][0].0 - 0.04).abs() < 1e-6);
        // A training row leaves itself out.
        assert_eq!(got[1].iter().map(|n| n.1).collect::<Vec<_>>()[..2], [2, 4]);
    }

    /// Both ways agree with measuring every row, on few features (the tree) and many (the product),
    /// with and without leaving a row out, and with duplicated rows.
    #[test]
    fn tree_and_product_agree_with_every_row_measured() {
        for width in [2usize, 9, 40] {
            let mut train = normal_rows(700, width, width as u64);
            train.extend_from_within(..50 * width); // duplicates
            let queries = normal_rows(60, width, 99);
            let index = NeighbourIndex::new(&train, width);
            assert_eq!(matches!(index.search, Search::Tree(_)), width <= TREE_MAX_FEATURES);
            for (rows, skip) in [(&queries, None), (&train, Some(()))] {
                let block = Rows::new(&rows[..60 * width], width);
                index.search(block, 7, &|i| skip.map(|_| i), |i, found| {
                    let expected = brute(&train, width, block.row(i), 7, skip.map(|_| i));
                    let got: Vec<f32> = found.iter().map(|n| n.0).collect();
                    assert_eq!(got, expected, "width {width}, row {i}");
                });
            }
        }
    }

    #[test]
    fn distance_over_more_than_eight_features() {
        let a: Vec<f32> = (0..19).map(|v| v as f32).collect();
        let b = vec![0.0f32; 19];
        let expected: f32 = (0..19).map(|v| (v * v) as f32).sum();
        assert_eq!(squared_distance(&a, &b, f32::INFINITY), expected);
    }
}
