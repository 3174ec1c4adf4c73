//! A small resonance hunt end to end (`resonance::hunt`): every tagger is trained and scored, the
//! numbers are finite, and none beats the optimal tagger's AUC. The hunts of the README and of
//! `make bench-science` are the same function at full size.

use anomaly_engine::resonance::hunt::{hunt, HuntSettings};

#[test]
fn a_small_hunt_runs_every_tagger_and_none_beats_the_optimum() {
    let settings = HuntSettings {
        background_events: 20_000,
        signal_events: 400,
        seed: 2,
        background_epochs: 2,
        region_epochs: 2,
        test_background: 4_000,
        test_signal: 1_000,
    };
    let mut done = Vec::new();
    let r = hunt(&settings, |step| done.push(step.to_string())).unwrap();
    assert_eq!(done, ["background flow", "supervised", "idealized", "ANODE", "R-ANODE, w learned", "R-ANODE, w fixed"]);
    assert!(r.injected_in_signal_region > 0 && r.injected_in_signal_region < 400);
    assert!((r.true_w - r.injected_in_signal_region as f64 / r.signal_region_events as f64).abs() < 1e-12);
    assert!(r.closure_gap_nats.is_finite(), "{r:?}");
    assert!(r.outside_range < 20, "{} test events outside the sidebands' range", r.outside_range);
    assert!(r.learned_w > 0.0 && r.learned_w < 1.0, "{}", r.learned_w);
    for (name, f) in [("supervised", r.supervised), ("idealized", r.idealized), ("ANODE", r.anode), ("R-ANODE learned", r.ranode_learned), ("R-ANODE fixed", r.ranode_fixed)] {
        assert!(f.max_sic.is_finite() && f.max_sic >= 0.0, "{name}: {f:?}");
        assert!(f.auc <= r.optimal.auc + 0.01, "{name} beat the optimal tagger: {} against {}", f.auc, r.optimal.auc);
    }
    assert!(r.optimal.auc > 0.95, "{:?}", r.optimal);
}
