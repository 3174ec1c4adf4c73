//! The background flow of the resonance search, on the R&D v2 toy: trained on sidebands only, it
//! interpolates into the signal region, where its closure gap (ln p_true − ln p_model, averaged over
//! signal-region background) shrinks as it trains. Long fits and their numbers: `make bench-science`.

use anomaly_engine::flows::MafConfig;
use anomaly_engine::resonance::background::{BackgroundModel, FlowFit, ResonantRows};
use anomaly_engine::resonance::hunt::closure;
use anomaly_engine::resonance::rnd_v2;
use anomaly_engine::train::Schedule;

fn split(events: &[rnd_v2::Event]) -> (ResonantRows, ResonantRows) {
    let (mut sidebands, mut signal_region) = (ResonantRows::default(), ResonantRows::default());
    for e in events {
        let rows = if e.in_signal_region() { &mut signal_region } else { &mut sidebands };
        rows.push(e.x.to_vec(), e.m_jj);
    }
    (sidebands, signal_region)
}

fn closure_gap(model: &BackgroundModel, rows: &ResonantRows) -> f64 {
    closure(model, rows).unwrap().gap_nats
}

#[test]
fn the_sideband_flow_closes_in_the_signal_region_as_it_trains() {
    let (sidebands, signal_region) = split(&rnd_v2::generate(12_000, 0, 3));
    let fit = |epochs: usize| FlowFit {
        config: MafConfig { features: 4, context: 1, blocks: 2, hidden: 16, hidden_layers: 1, max_log_scale: 3.0 },
        schedule: Schedule {
            batch_size: 128,
            epochs,
            learning_rate: 3e-3,
            seed: 2,
            streams: ("background", "background-noise"),
            weight_decay: 0.0,
            max_gradient_norm: Some(5.0),
            final_learning_rate: Some(1e-4),
        },
        validation_fraction: 0.2,
    };
    let mut reports = Vec::new();
    let trained = BackgroundModel::train(&sidebands, &fit(8), true, |r| reports.push(r)).unwrap();
    let barely = BackgroundModel::train(&sidebands, &fit(1), true, |_| {}).unwrap();
    assert_eq!(reports.len(), 8);
    assert!(reports.iter().all(|r| r.validation_loss.is_some_and(f32::is_finite)));
    let (gap, early_gap) = (closure_gap(&trained, &signal_region), closure_gap(&barely, &signal_region));
    // A gap is a KL divergence in expectation: it cannot be much below zero.
    assert!(gap > -0.05 && gap < early_gap && gap < 0.3, "closure gap {gap} nats after 8 epochs, {early_gap} after 1");
    // Every signal-region event has a finite density (the sidebands' range is widened to hold them).
    assert!(trained.log_density(&signal_region).unwrap().iter().all(|v| v.is_finite()));
}

#[test]
fn too_few_sideband_events_are_refused() {
    let mut rows = ResonantRows::default();
    rows.push(vec![0.1, 0.2, 0.5, 0.5], 3.0);
    let fit = FlowFit { config: MafConfig::default(), schedule: Schedule::default(), validation_fraction: 0.0 };
    assert!(BackgroundModel::train(&rows, &fit, true, |_| {}).is_err());
}
