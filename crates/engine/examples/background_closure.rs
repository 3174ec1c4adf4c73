//! Trains the background flow on R&D v2 sidebands and prints, after each epoch, its closure gap in the
//! signal region (mean of ln p_true − ln p_model over signal-region background, in nats):
//! `cargo run --release -p anomaly-engine --example background_closure -- [background events] [epochs] [blocks] [hidden] [seed]`
use anomaly_engine::flows::MafConfig;
use anomaly_engine::resonance::background::{BackgroundModel, FlowFit, ResonantRows};
use anomaly_engine::resonance::hunt::closure;
use anomaly_engine::resonance::rnd_v2;
use anomaly_engine::train::Schedule;
use std::time::Instant;

fn main() {
    let arg = |k: usize, default: usize| std::env::args().nth(k).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (events, epochs, blocks, hidden, seed) = (arg(1, 200_000), arg(2, 20), arg(3, 4), arg(4, 64), arg(5, 1) as u64);
    let all = rnd_v2::generate(events, 0, seed);
    let (mut sidebands, mut test) = (ResonantRows::default(), ResonantRows::default());
    for e in &all {
        if e.in_signal_region() { test.push(e.x.to_vec(), e.m_jj) } else { sidebands.push(e.x.to_vec(), e.m_jj) }
    }
    let fit = FlowFit {
        config: MafConfig { features: 4, context: 1, blocks, hidden, hidden_layers: 2, max_log_scale: 3.0 },
        schedule: Schedule { batch_size: 256, epochs, learning_rate: 1e-3, seed, streams: ("background", "background-noise"), weight_decay: 1e-5, max_gradient_norm: Some(5.0), final_learning_rate: Some(1e-5) },
        validation_fraction: 0.2,
    };
    println!("{} sideband events, {} signal-region background events", sidebands.len(), test.len());
    let start = Instant::now();
    let model = BackgroundModel::train(&sidebands, &fit, true, |r| {
        println!("epoch {:>3}: train {:.4}, validation {:.4}  ({:.0} s)", r.epoch, r.train_loss, r.validation_loss.unwrap_or(f32::NAN), start.elapsed().as_secs_f64());
    })
    .unwrap();
    let c = closure(&model, &test).unwrap();
    println!(
        "closure gap in the signal region: {:.4} ± {:.4} nats ({} events outside the sidebands' range)",
        c.gap_nats, c.standard_error, c.outside_range
    );
}
