//! One training epoch of the resonance hunt's background flow, ours against the authors' stack (PyTorch
//! on the CPU, one thread, the same architecture, batch and rows) in the same run. Writes the training
//! rows for the peer, runs it, prints both times and their ratio, and writes `epoch_speed_ratio_vs_pytorch`
//! (PyTorch's seconds over ours: above 1 means ours is faster) into the resonance bench's JSON.
//!
//! `RAYON_NUM_THREADS=1 cargo run --release -p anomaly-engine --example flow_epoch_speed -- \
//!     BACKGROUND_EVENTS EPOCHS PYTHON PEER_SCRIPT JSON`
//! (`make bench-science` runs it with the peer in its own virtual environment.)

use std::io::Write;
use std::time::Instant;

use anomaly_engine::resonance::background::{BackgroundModel, FlowFit, ResonantRows};
use anomaly_engine::resonance::preprocess::Scaling;
use anomaly_engine::resonance::rnd_v2;
use anomaly_engine::flows::MafConfig;
use anomaly_engine::train::{Schedule, Training};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, events, epochs, python, script, json] = args.as_slice() else {
        panic!("usage: flow_epoch_speed BACKGROUND_EVENTS EPOCHS PYTHON PEER_SCRIPT JSON");
    };
    let (events, epochs): (usize, usize) = (events.parse().expect("a count"), epochs.parse().expect("a count"));
    let mut sidebands = ResonantRows::default();
    for e in rnd_v2::generate(events, 0, 1).iter().filter(|e| !e.in_signal_region()) {
        sidebands.push(e.x.to_vec(), e.m_jj);
    }
    // The flow's rows exactly as the background flow trains on them, for the peer.
    let scaling = Scaling::fit(&sidebands.features, &sidebands.m_jj, true).expect("the sidebands vary");
    let prepared = scaling.prepare(&sidebands);
    let rows_file = std::env::temp_dir().join("flow_epoch_rows.f32");
    let mut bytes = Vec::with_capacity(prepared.len() * 5 * 4);
    for k in (0..prepared.len()).filter(|&k| prepared.log_jacobian[k].is_some()) {
        for v in prepared.y[k * 4..k * 4 + 4].iter().chain([&prepared.context[k]]) {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::File::create(&rows_file).and_then(|mut f| f.write_all(&bytes)).expect("the rows file is written");

    // Ours: the background flow's fit, without validation rows (the peer has none either).
    let fit = FlowFit {
        config: MafConfig { features: 4, context: 1, blocks: 4, hidden: 64, hidden_layers: 2, max_log_scale: 3.0 },
        schedule: Schedule {
            batch_size: 256,
            epochs,
            learning_rate: 1e-3,
            seed: 1,
            streams: ("flow", "flow-noise"),
            weight_decay: 1e-5,
            max_gradient_norm: Some(5.0),
            final_learning_rate: None,
        },
        validation_fraction: 0.0,
    };
    let mut fitting = BackgroundModel::begin(&sidebands, &fit, true).expect("the fit starts");
    let mut ours = f64::INFINITY;
    while !fitting.is_finished() {
        let start = Instant::now();
        loop {
            if fitting.step().expect("a step trains").epoch_finished {
                break;
            }
        }
        ours = ours.min(start.elapsed().as_secs_f64());
    }
    let rows = fitting.train_rows();

    let output = std::process::Command::new(python).arg(script).arg(&rows_file).arg(epochs.to_string()).env("OMP_NUM_THREADS", "1").output().expect("the peer runs");
    assert!(output.status.success(), "the peer failed: {}", String::from_utf8_lossy(&output.stderr));
    let peer: serde_json::Value = serde_json::from_slice(output.stdout.trim_ascii()).expect("the peer prints JSON");
    let theirs = peer["seconds_per_epoch"].as_f64().expect("the peer's time");
    let ratio = theirs / ours;
    println!(
        "background flow, one epoch of {rows} rows, batch 256, one thread: ours {ours:.2} s, PyTorch {} {theirs:.2} s; ratio {ratio:.2} (above 1: ours is faster)",
        peer["torch"].as_str().unwrap_or("?")
    );
    let mut bench: serde_json::Value = std::fs::read(json).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_else(|| serde_json::json!({}));
    bench["epoch_speed_ratio_vs_pytorch"] = serde_json::json!(ratio);
    bench["epoch_seconds"] = serde_json::json!({ "ours": ours, "pytorch": theirs, "rows": rows, "torch": peer["torch"], "threads": 1 });
    std::fs::write(json, serde_json::to_vec_pretty(&bench).expect("JSON")).expect("the bench file is written");
    let _ = std::fs::remove_file(rows_file);
}
