//! The resonance hunt on R&D v2, natively: the background flow on the sidebands, then ANODE and R-ANODE
//! (w learned and w fixed at the truth) on the signal region, each scored on an independent test set
//! against the optimal tagger, a supervised classifier and the idealized anomaly detector (signal-region
//! data against a perfect background sample three times its size). Max SIC counts only cuts that keep at least 25 test background events.
//! `cargo run --release -p anomaly-engine --example ranode_toy -- [background] [signal] [seed] [background epochs] [signal-region epochs]`
use anomaly_engine::flows::MafConfig;
use anomaly_engine::metrics::roc_curve;
use anomaly_engine::resonance::anode::{Anode, Ranode, SignalFraction};
use anomaly_engine::resonance::background::{BackgroundModel, FlowFit, ResonantRows};
use anomaly_engine::resonance::classifier::TrainedClassifier;
use anomaly_engine::resonance::rnd_v2::{self, Event};
use anomaly_engine::rng::SeededRng;
use anomaly_engine::sic::sic_figures_keeping;
use anomaly_engine::train::Schedule;
use std::time::Instant;

fn rows(events: &[&Event]) -> ResonantRows {
    let mut rows = ResonantRows::default();
    for e in events {
        rows.push(e.x.to_vec(), e.m_jj);
    }
    rows
}

/// `count` signal-region events of one kind.
fn signal_region_sample(count: usize, signal: bool, rng: &mut SeededRng) -> Vec<Event> {
    let draw = if signal { rnd_v2::signal_event } else { rnd_v2::background_event };
    std::iter::repeat_with(|| draw(rng)).filter(|e| e.in_signal_region()).take(count).collect()
}

fn fit(config: MafConfig, epochs: usize, learning_rate: f64, seed: u64) -> FlowFit {
    FlowFit {
        config,
        schedule: Schedule {
            batch_size: 256,
            epochs,
            learning_rate,
            seed,
            streams: ("flow", "flow-noise"),
            weight_decay: 1e-5,
            max_gradient_norm: Some(5.0),
            final_learning_rate: Some(learning_rate / 100.0),
        },
        validation_fraction: 0.2,
    }
}

fn main() {
    let arg = |k: usize, default: usize| std::env::args().nth(k).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (background_events, signal_events, seed, background_epochs, region_epochs) = (arg(1, 200_000), arg(2, 500), arg(3, 1) as u64, arg(4, 20), arg(5, 30));
    let start = Instant::now();
    let data = rnd_v2::generate(background_events, signal_events, seed);
    let (sidebands, region): (Vec<&Event>, Vec<&Event>) = data.iter().partition(|e| !e.in_signal_region());
    let injected = region.iter().filter(|e| e.signal).count();
    let true_w = injected as f64 / region.len() as f64;
    // An independent test set of the signal region.
    let mut rng = SeededRng::derive(seed, "ranode-test");
    let mut test: Vec<Event> = Vec::new();
    let (mut b, mut s) = (0, 0);
    while b < 60_000 || s < 20_000 {
        let e = if b < 60_000 { rnd_v2::background_event(&mut rng) } else { rnd_v2::signal_event(&mut rng) };
        if e.in_signal_region() {
            if e.signal { s += 1 } else { b += 1 }
            test.push(e);
        }
    }
    let test_refs: Vec<&Event> = test.iter().collect();
    let test_rows = rows(&test_refs);
    let is_signal: Vec<bool> = test.iter().map(|e| e.signal).collect();
    println!("{} background + {signal_events} signal events; signal region: {} events, {injected} of them signal (w = {true_w:.5})", background_events, region.len());

    let conditional = MafConfig { features: 4, context: 1, blocks: 4, hidden: 64, hidden_layers: 2, max_log_scale: 3.0 };
    let background = BackgroundModel::train(&rows(&sidebands), &fit(conditional, background_epochs, 1e-3, seed), |_| {}).unwrap();
    println!("background flow trained ({:.0} s)", start.elapsed().as_secs_f64());
    let closure: f64 = {
        let test_background: Vec<&Event> = test.iter().filter(|e| !e.signal).collect();
        let tb = rows(&test_background);
        let model = background.log_density(&tb).unwrap();
        test_background.iter().zip(&model).map(|(e, m)| rnd_v2::log_background_density(e.m_jj, &e.x) - m).sum::<f64>() / model.len() as f64
    };
    println!("closure gap in the signal region: {closure:.4} nats");

    let region_rows = rows(&region);
    let report = |name: &str, scores: Vec<f64>| {
        let scores: Vec<f32> = scores.iter().map(|&v| v.clamp(-1e30, 1e30) as f32).collect();
        let sic = sic_figures_keeping(&scores, &is_signal, 25).unwrap();
        let auc = roc_curve(&scores, &is_signal).unwrap().auc;
        println!("{name:<28} max SIC {:>6.2} (ε_S {:.3})  AUC {auc:.3}  ({:.0} s)", sic.max_sic, sic.max_sic_signal_efficiency, start.elapsed().as_secs_f64());
    };
    report("optimal (true densities)", test.iter().map(rnd_v2::optimal_score).collect());
    // The classifiers see the background flow's scaled features.
    let scaled = |events: &[&Event]| -> Vec<f32> { background.scaling().prepare(&rows(events)).y };
    let test_scaled = scaled(&test_refs);
    let classifier_fit = fit(MafConfig { hidden: 64, ..conditional }, region_epochs, 1e-3, seed + 3);
    let mut references = SeededRng::derive(seed, "ranode-references");
    let (labelled_signal, labelled_background) = (signal_region_sample(20_000, true, &mut references), signal_region_sample(60_000, false, &mut references));
    let supervised = TrainedClassifier::train(
        &scaled(&labelled_signal.iter().collect::<Vec<_>>()),
        &scaled(&labelled_background.iter().collect::<Vec<_>>()),
        4,
        &classifier_fit,
        |_| {},
    )
    .unwrap();
    report("supervised", supervised.scores(&test_scaled).unwrap().into_iter().map(f64::from).collect());
    let perfect_background = signal_region_sample(3 * region.len(), false, &mut references);
    let idealized = TrainedClassifier::train(&scaled(&region), &scaled(&perfect_background.iter().collect::<Vec<_>>()), 4, &classifier_fit, |_| {}).unwrap();
    report("idealized anomaly detector", idealized.scores(&test_scaled).unwrap().into_iter().map(f64::from).collect());
    let anode = Anode::train(&background, &region_rows, &fit(conditional, region_epochs, 1e-3, seed + 1), |_| {}).unwrap();
    report("ANODE", anode.scores(&background, &test_rows).unwrap());
    let signal_flow = MafConfig { features: 5, context: 0, blocks: 4, hidden: 32, hidden_layers: 2, max_log_scale: 3.0 };
    for (name, fraction) in [("R-ANODE, w learned", SignalFraction::Learned(0.01)), ("R-ANODE, w fixed at the truth", SignalFraction::Fixed(true_w))] {
        let ranode = Ranode::train(&background, &region_rows, &fit(signal_flow, region_epochs, 3e-3, seed + 2), fraction, |_| {}).unwrap();
        report(name, ranode.scores(&background, &test_rows).unwrap());
        println!("  w = {:.5} (truth {true_w:.5})", ranode.w().unwrap());
    }
}
