//! One resonance hunt on R&D v2, natively (`resonance::hunt`): prints each tagger's max SIC (cuts keeping
//! at least 25 test background events) and AUC on the independent test set, the learned signal fraction
//! and the background flow's closure gap.
//! `cargo run --release -p anomaly-engine --example ranode_toy -- [background] [signal] [seed] [background epochs] [signal-region epochs]`
use anomaly_engine::resonance::hunt::{hunt, HuntSettings};
use std::time::Instant;

fn main() {
    let defaults = HuntSettings::default();
    let arg = |k: usize, default: usize| std::env::args().nth(k).and_then(|a| a.parse().ok()).unwrap_or(default);
    let settings = HuntSettings {
        background_events: arg(1, defaults.background_events),
        signal_events: arg(2, defaults.signal_events),
        seed: arg(3, defaults.seed as usize) as u64,
        background_epochs: arg(4, defaults.background_epochs),
        region_epochs: arg(5, defaults.region_epochs),
        ..defaults
    };
    let start = Instant::now();
    let r = hunt(&settings, |done| println!("  {done} done ({:.0} s)", start.elapsed().as_secs_f64())).unwrap();
    println!(
        "{} background + {} signal events; signal region: {} events, {} of them signal (w = {:.5}); closure gap {:.4} nats",
        settings.background_events, settings.signal_events, r.signal_region_events, r.injected_in_signal_region, r.true_w, r.closure_gap_nats
    );
    for (name, f) in [
        ("optimal (true densities)", r.optimal),
        ("supervised", r.supervised),
        ("idealized anomaly detector", r.idealized),
        ("ANODE", r.anode),
        ("R-ANODE, w learned", r.ranode_learned),
        ("R-ANODE, w fixed at the truth", r.ranode_fixed),
    ] {
        println!("{name:<30} max SIC {:>6.2} (ε_S {:.3})  AUC {:.3}", f.max_sic, f.max_sic_signal_efficiency, f.auc);
    }
    println!("learned w {:.5} (truth {:.5}); {:.1} s per background epoch; {:.0} s in all", r.learned_w, r.true_w, r.background_epoch_seconds, r.seconds);
}
