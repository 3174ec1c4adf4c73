//! Figures of merit: the ROC curve and its area, computed exactly from sorted scores, and histograms.
//!
//! Convention: a larger score means more anomalous; anomalies are the positive class, so the true-positive
//! rate is the signal efficiency ε_S and the false-positive rate the background efficiency ε_B.

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum MetricError {
    #[error("scores and labels have different lengths ({scores} and {labels})")]
    LengthMismatch { scores: usize, labels: usize },
    #[error("a ROC curve needs both normal and anomalous examples ({normal} normal, {anomalous} anomalous)")]
    OneClassOnly { normal: usize, anomalous: usize },
    #[error("score {index} is not a finite number")]
    NonFiniteScore { index: usize },
}

/// A ROC curve as (ε_B, ε_S) points from (0, 0) to (1, 1), one point per distinct score threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Roc {
    pub false_positive_rate: Vec<f64>,
    pub true_positive_rate: Vec<f64>,
    pub auc: f64,
}

/// The exact ROC curve. Tied scores form one threshold, so a tie between a normal and an anomalous
/// example contributes a diagonal step worth half, which makes the AUC equal the Mann–Whitney statistic
/// P(score_anomalous > score_normal) + ½ P(equal).
pub fn roc_curve(scores: &[f32], is_anomaly: &[bool]) -> Result<Roc, MetricError> {
    let Ranked { order, positives, negatives } = rank(scores, is_anomaly)?;

    let (mut tp, mut fp) = (0u64, 0u64);
    let mut fpr = vec![0.0];
    let mut tpr = vec![0.0];
    let mut area_twice = 0u128; // sum of fp_step * (2·tp_before + tp_step), in integer counts: exact.
    let mut i = 0;
    while i < order.len() {
        let threshold = scores[order[i]];
        let (mut tp_step, mut fp_step) = (0u64, 0u64);
        while i < order.len() && scores[order[i]] == threshold {
            if is_anomaly[order[i]] { tp_step += 1 } else { fp_step += 1 }
            i += 1;
        }
        area_twice += fp_step as u128 * (2 * tp as u128 + tp_step as u128);
        tp += tp_step;
        fp += fp_step;
        fpr.push(fp as f64 / negatives as f64);
        tpr.push(tp as f64 / positives as f64);
    }
    let auc = area_twice as f64 / (2.0 * positives as f64 * negatives as f64);
    Ok(Roc { false_positive_rate: fpr, true_positive_rate: tpr, auc })
}

/// A labelled sample checked and ordered for sweeping a threshold from the highest score down.
pub(crate) struct Ranked {
    /// Indices, highest score first.
    pub order: Vec<usize>,
    pub positives: usize,
    pub negatives: usize,
}

/// Checks that scores and labels match, scores are finite and both classes are present, then orders
/// the indices by descending score.
pub(crate) fn rank(scores: &[f32], is_positive: &[bool]) -> Result<Ranked, MetricError> {
    if scores.len() != is_positive.len() {
        return Err(MetricError::LengthMismatch { scores: scores.len(), labels: is_positive.len() });
    }
    if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
        return Err(MetricError::NonFiniteScore { index });
    }
    let positives = is_positive.iter().filter(|&&a| a).count();
    let negatives = scores.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricError::OneClassOnly { normal: negatives, anomalous: positives });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    Ok(Ranked { order, positives, negatives })
}

/// The ROC curve of anomalous scores against normal scores (the two classes given separately).
pub fn roc_of(normal: &[f32], anomalous: &[f32]) -> Result<Roc, MetricError> {
    let scores = [normal, anomalous].concat();
    let labels: Vec<bool> = (0..scores.len()).map(|i| i >= normal.len()).collect();
    roc_curve(&scores, &labels)
}

impl Roc {
    /// At most `max_points` points for drawing, always keeping both ends. The AUC is unchanged: it was
    /// computed from every point.
    pub fn thinned(&self, max_points: usize) -> Roc {
        let n = self.false_positive_rate.len();
        if n <= max_points || max_points < 2 {
            return self.clone();
        }
        let pick: Vec<usize> = (0..max_points).map(|k| k * (n - 1) / (max_points - 1)).collect();
        Roc {
            false_positive_rate: pick.iter().map(|&k| self.false_positive_rate[k]).collect(),
            true_positive_rate: pick.iter().map(|&k| self.true_positive_rate[k]).collect(),
            auc: self.auc,
        }
    }
}

/// Counts of values in equal-width bins over [low, high]; values outside are clamped into the end bins
/// so that no example disappears from the picture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub low: f32,
    pub high: f32,
    pub counts: Vec<u32>,
}

impl Histogram {
    pub fn new(values: &[f32], low: f32, high: f32, bins: usize) -> Self {
        let mut counts = vec![0u32; bins.max(1)];
        let width = (high - low).max(f32::MIN_POSITIVE);
        for &v in values.iter().filter(|v| v.is_finite()) {
            let bin = (((v - low) / width) * counts.len() as f32).floor();
            let bin = (bin.max(0.0) as usize).min(counts.len() - 1);
            counts[bin] += 1;
        }
        Self { low, high, counts }
    }
}

/// The range that holds the central part of all values (the 0.5th to 99.5th percentile), so one extreme
/// score does not squash every bar into one bin.
pub fn robust_range(values: &[f32]) -> (f32, f32) {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return (0.0, 1.0);
    }
    sorted.sort_unstable_by(f32::total_cmp);
    let at = |q: f32| sorted[((sorted.len() - 1) as f32 * q).round() as usize];
    let (low, high) = (at(0.005), at(0.995));
    if high > low { (low, high) } else { (low - 0.5, low + 0.5) }
}

/// Average precision: the precision at each distinct score threshold, weighted by the recall it adds,
/// Σ (Rₙ − Rₙ₋₁) Pₙ (scikit-learn's `average_precision_score`; no interpolation). Tied scores are one
/// threshold.
pub fn average_precision(scores: &[f32], is_anomaly: &[bool]) -> Result<f64, MetricError> {
    let Ranked { order, positives, .. } = rank(scores, is_anomaly)?;
    let (mut tp, mut seen, mut total) = (0usize, 0usize, 0.0f64);
    let mut i = 0;
    while i < order.len() {
        let threshold = scores[order[i]];
        let mut tp_step = 0;
        while i < order.len() && scores[order[i]] == threshold {
            tp_step += is_anomaly[order[i]] as usize;
            seen += 1;
            i += 1;
        }
        tp += tp_step;
        total += tp_step as f64 / positives as f64 * (tp as f64 / seen as f64);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_separation_gives_auc_one() {
        let roc = roc_curve(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]).unwrap();
        assert_eq!(roc.auc, 1.0);
        assert_eq!(roc.false_positive_rate, vec![0.0, 0.0, 0.0, 0.5, 1.0]);
        assert_eq!(roc.true_positive_rate, vec![0.0, 0.5, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn reversed_scores_give_auc_zero() {
        assert_eq!(roc_curve(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]).unwrap().auc, 0.0);
    }

    #[test]
    fn hand_computed_case_with_a_swap() {
        // anomalies 0.9, 0.4; normals 0.5, 0.1. Pairs (a > n): (0.9,0.5) (0.9,0.1) (0.4,0.1) yes, (0.4,0.5) no → 3/4.
        assert_eq!(roc_curve(&[0.9, 0.5, 0.4, 0.1], &[true, false, true, false]).unwrap().auc, 0.75);
    }

    #[test]
    fn ties_count_half_and_form_one_diagonal_step() {
        // All scores tied: a blind classifier, AUC exactly one half, and the curve is one diagonal step.
        let roc = roc_curve(&[1.0; 4], &[true, false, true, false]).unwrap();
        assert_eq!(roc.auc, 0.5);
        assert_eq!(roc.false_positive_rate, vec![0.0, 1.0]);
        assert_eq!(roc.true_positive_rate, vec![0.0, 1.0]);
        // anomalies 2, 1; normals 1, 0. Pairs: (2,1) 1, (2,0) 1, (1,1) ½, (1,0) 1 → 3.5/4.
        assert_eq!(roc_curve(&[2.0, 1.0, 1.0, 0.0], &[true, true, false, false]).unwrap().auc, 0.875);
    }

    #[test]
    fn auc_is_independent_of_input_order() {
        let scores = [0.3, 0.7, 0.7, 0.1, 0.9, 0.5, 0.5, 0.2];
        let labels = [false, true, false, false, true, true, false, true];
        let auc = roc_curve(&scores, &labels).unwrap().auc;
        let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(labels).collect();
        pairs.reverse();
        let (s, l): (Vec<f32>, Vec<bool>) = pairs.into_iter().unzip();
        assert_eq!(roc_curve(&s, &l).unwrap().auc, auc);
        // Brute-force Mann–Whitney for the same data.
        let (mut wins, mut total) = (0.0, 0.0);
        for (a, _) in scores.iter().zip(labels).filter(|(_, l)| *l) {
            for (n, _) in scores.iter().zip(labels).filter(|(_, l)| !*l) {
                total += 1.0;
                wins += if a > n { 1.0 } else if a == n { 0.5 } else { 0.0 };
            }
        }
        assert_eq!(auc, wins / total);
    }

    #[test]
    fn bad_inputs_are_errors_not_numbers() {
        assert_eq!(roc_curve(&[1.0, 2.0], &[true, true]), Err(MetricError::OneClassOnly { normal: 0, anomalous: 2 }));
        assert_eq!(roc_curve(&[1.0], &[true, false]), Err(MetricError::LengthMismatch { scores: 1, labels: 2 }));
        assert_eq!(roc_curve(&[1.0, f32::NAN], &[true, false]), Err(MetricError::NonFiniteScore { index: 1 }));
    }

    #[test]
    fn roc_of_two_classes_matches_the_labelled_form() {
        let roc = roc_of(&[0.5, 0.1], &[0.9, 0.4]).unwrap();
        assert_eq!(roc, roc_curve(&[0.5, 0.1, 0.9, 0.4], &[false, false, true, true]).unwrap());
        assert_eq!(roc.auc, 0.75);
    }

    #[test]
    fn thinning_keeps_ends_and_auc() {
        let scores: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let labels: Vec<bool> = (0..1000).map(|i| i % 3 == 0).collect();
        let roc = roc_curve(&scores, &labels).unwrap();
        let thin = roc.thinned(50);
        assert_eq!(thin.false_positive_rate.len(), 50);
        assert_eq!((thin.false_positive_rate[0], *thin.true_positive_rate.last().unwrap()), (0.0, 1.0));
        assert_eq!(thin.auc, roc.auc);
    }

    #[test]
    fn histogram_counts_every_value_once() {
        let h = Histogram::new(&[0.0, 0.1, 0.5, 0.99, 1.0, 7.0, -3.0], 0.0, 1.0, 4);
        assert_eq!(h.counts, vec![3, 0, 1, 3]);
        assert_eq!(h.counts.iter().sum::<u32>(), 7);
    }

    #[test]
    fn average_precision_by_hand() {
        // Ranked: A(0.9) N(0.8) A(0.7) N(0.1): precision 1 at recall ½, then ⅔ at recall 1.
        let ap = average_precision(&[0.9, 0.8, 0.7, 0.1], &[true, false, true, false]).unwrap();
        assert!((ap - (0.5 * 1.0 + 0.5 * 2.0 / 3.0)).abs() < 1e-12);
        // A tie between an anomaly and a normal row is one threshold at precision ½.
        let tied = average_precision(&[0.5, 0.5], &[true, false]).unwrap();
        assert!((tied - 0.5).abs() < 1e-12);
    }
}
