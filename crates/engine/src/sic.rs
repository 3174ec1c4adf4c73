//! The figures of merit physicists quote for a tagger, beyond the ROC curve (SCIENCE.md): the
//! significance improvement characteristic SIC = ε_S / √ε_B, which says by how much a cut on the score
//! multiplies the significance S/√B of a signal, and the background rejection 1/ε_B at a fixed signal
//! efficiency.
//!
//! Computed exactly from the sorted scores, one working point per distinct score (a cut keeps every row
//! with score ≥ the threshold), as in [`crate::metrics::roc_curve`].

use serde::{Deserialize, Serialize};

use crate::metrics::{rank, MetricError, Ranked};

/// Working points keeping fewer background rows than this are left out of the maximum SIC: with one or two
/// background rows left, ε_B (and so the SIC) is noise.
pub const MIN_BACKGROUND_ROWS: usize = 10;
/// The signal efficiency at which the background rejection is quoted.
pub const REJECTION_SIGNAL_EFFICIENCY: f64 = 0.3;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SicFigures {
    /// (ε_S, SIC) at each working point that keeps at least [`MIN_BACKGROUND_ROWS`] background rows
    /// (or the number given to [`sic_figures_keeping`]).
    pub curve: Vec<(f64, f64)>,
    pub max_sic: f64,
    pub max_sic_signal_efficiency: f64,
    pub max_sic_background_efficiency: f64,
    /// 1/ε_B at the tightest cut that keeps at least 30% of the signal; None when no background passes
    /// that cut (the rejection is then above the number of background rows).
    pub rejection_at_30: Option<f64>,
    /// ε_S actually reached at that cut (ties can carry it past 0.3).
    pub rejection_signal_efficiency: f64,
    pub signal_rows: usize,
    pub background_rows: usize,
}

pub fn sic_figures(scores: &[f32], is_signal: &[bool]) -> Result<SicFigures, MetricError> {
    sic_figures_keeping(scores, is_signal, MIN_BACKGROUND_ROWS)
}

/// The same, counting in the curve and its maximum only the working points that keep at least
/// `min_background_rows` background rows (resonant searches quote max SIC with 25).
pub fn sic_figures_keeping(scores: &[f32], is_signal: &[bool], min_background_rows: usize) -> Result<SicFigures, MetricError> {
    let Ranked { order, positives: signal, negatives: background } = rank(scores, is_signal)?;
    let min_background = min_background_rows.min(background);
    let mut figures = SicFigures {
        curve: Vec::new(),
        max_sic: 0.0,
        max_sic_signal_efficiency: 0.0,
        max_sic_background_efficiency: 0.0,
        rejection_at_30: None,
        rejection_signal_efficiency: 0.0,
        signal_rows: signal,
        background_rows: background,
    };
    let mut rejection_found = false;
    let (mut s, mut b) = (0usize, 0usize);
    let mut i = 0;
    while i < order.len() {
        let threshold = scores[order[i]];
        while i < order.len() && scores[order[i]] == threshold {
            if is_signal[order[i]] { s += 1 } else { b += 1 }
            i += 1;
        }
        let eps_s = s as f64 / signal as f64;
        let eps_b = b as f64 / background as f64;
        if !rejection_found && eps_s >= REJECTION_SIGNAL_EFFICIENCY {
            rejection_found = true;
            figures.rejection_signal_efficiency = eps_s;
            figures.rejection_at_30 = (b > 0).then(|| 1.0 / eps_b);
        }
        if b >= min_background {
            let sic = eps_s / eps_b.sqrt();
            figures.curve.push((eps_s, sic));
            if sic > figures.max_sic {
                figures.max_sic = sic;
                figures.max_sic_signal_efficiency = eps_s;
                figures.max_sic_background_efficiency = eps_b;
            }
        }
    }
    Ok(figures)
}

impl SicFigures {
    /// At most `max_points` curve points for drawing; the maximum was taken over all of them.
    pub fn thinned(&self, max_points: usize) -> SicFigures {
        let n = self.curve.len();
        let mut thin = self.clone();
        if n > max_points && max_points >= 2 {
            thin.curve = (0..max_points).map(|k| self.curve[k * (n - 1) / (max_points - 1)]).collect();
        }
        thin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_case() {
        // 2 signal, 20 background. Scores: signal 10 and 5; background 9 (one row), 4 (19 rows).
        let mut scores = vec![10.0, 5.0, 9.0];
        scores.extend([4.0; 19]);
        let mut labels = vec![true, true, false];
        labels.extend([false; 19]);
        let f = sic_figures(&scores, &labels).unwrap();
        // Cuts: ≥10 keeps (s 1, b 0); ≥9 (1, 1); ≥5 (2, 1); ≥4 (2, 20). Only the last keeps ≥ 10 background
        // rows: ε_S = 1, ε_B = 1, SIC = 1.
        assert_eq!(f.curve, vec![(1.0, 1.0)]);
        assert_eq!(f.max_sic, 1.0);
        // ε_S ≥ 0.3 first at the cut ≥ 10, which keeps no background: the rejection is unbounded here.
        assert_eq!((f.rejection_at_30, f.rejection_signal_efficiency), (None, 0.5));
    }

    #[test]
    fn sic_and_rejection_against_hand_arithmetic() {
        // 10 signal rows scored 100..109; 100 background rows scored 0..99, so the cut ≥ 90 keeps all the
        // signal and 10 background rows: ε_S = 1, ε_B = 0.1, SIC = 1/√0.1.
        let mut scores: Vec<f32> = (0..10).map(|i| 100.0 + i as f32).collect();
        scores.extend((0..100).map(|i| i as f32));
        let labels: Vec<bool> = (0..110).map(|i| i < 10).collect();
        let f = sic_figures(&scores, &labels).unwrap();
        assert!((f.max_sic - 1.0 / 0.1f64.sqrt()).abs() < 1e-12);
        assert_eq!((f.max_sic_signal_efficiency, f.max_sic_background_efficiency), (1.0, 0.1));
        assert_eq!(f.rejection_at_30, None, "ε_S reaches 0.3 before any background passes");

        // A smaller case where a background row passes before ε_S reaches 0.3.
        let scores = [9.0, 8.0, 5.5, 7.0, 1.0, 0.5, 0.2];
        let labels = [true, true, false, true, false, false, true];
        // signal: 9, 8, 7, 0.2 (4 rows); background: 5.5, 1, 0.5 (3 rows).
        // Cuts: ≥9 (1/4), ≥8 (2/4 ≥ 0.3, background 0) → rejection None.
        assert_eq!(sic_figures(&scores, &labels).unwrap().rejection_at_30, None);
        let labels = [false, true, true, true, false, false, true];
        // Now 9 is background: the cut ≥ 8 keeps signal 1/4 < 0.3 and 1 background; ≥ 7 keeps 2/4 and 1
        // background of 3: 1/ε_B = 3.
        let f = sic_figures(&scores, &labels).unwrap();
        assert_eq!((f.rejection_at_30, f.rejection_signal_efficiency), (Some(3.0), 0.5));
    }

    #[test]
    fn one_class_or_bad_scores_are_errors() {
        assert!(sic_figures(&[1.0, 2.0], &[true, true]).is_err());
        assert!(sic_figures(&[1.0, f32::INFINITY], &[true, false]).is_err());
    }
}
