//! The training rows' typical range of each feature, drawn behind a row's value in an explanation.

use serde::{Deserialize, Serialize};

use super::Rows;

/// Each feature's 5th, 50th and 95th percentile over the training rows (at most 20,000 of them, seeded,
/// which moves a percentile by well under a percent of the range).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureRanges {
    pub low: Vec<f32>,
    pub median: Vec<f32>,
    pub high: Vec<f32>,
}

impl FeatureRanges {
    pub fn of(train: Rows, seed: u64) -> Self {
        let rows = super::sample_indices(train.len(), 20_000, seed, "feature ranges");
        let mut column = Vec::with_capacity(rows.len());
        let (mut low, mut median, mut high) = (Vec::new(), Vec::new(), Vec::new());
        for feature in 0..train.width {
            column.clear();
            column.extend(rows.iter().map(|&r| train.row(r)[feature]));
            column.sort_unstable_by(f32::total_cmp);
            low.push(percentile(&column, 0.05));
            median.push(percentile(&column, 0.5));
            high.push(percentile(&column, 0.95));
        }
        Self { low, median, high }
    }
}

/// Linear interpolation between the closest ranks of sorted values (numpy's default).
fn percentile(sorted: &[f32], q: f64) -> f32 {
    if sorted.is_empty() {
        return f32::NAN;
    }
    let at = q * (sorted.len() - 1) as f64;
    let below = at.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let t = (at - below as f64) as f32;
    sorted[below] + t * (sorted[above] - sorted[below])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_zero_to_hundred() {
        let values: Vec<f32> = (0..=100).map(|v| v as f32).collect();
        let ranges = FeatureRanges::of(Rows::new(&values, 1), 0);
        assert_eq!((ranges.low[0], ranges.median[0], ranges.high[0]), (5.0, 50.0, 95.0));
    }
}
