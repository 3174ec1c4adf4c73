//! The jet-image science bench (`make bench-science`): the inverted-task experiment of Finke et al. over
//! seeds, κ values and both autoencoders, printing each direction's median AUC and writing the per-seed
//! AUCs to a JSON file. The best κ of an autoencoder is the one whose weaker direction has the highest
//! median AUC: a setting is judged on both directions at once.
//! `cargo run --release -p anomaly-engine --example jets_bench -- <seeds> <out.json> [dense κs] [conv κs]`
//! (κs comma-separated; defaults 1,0.5,0.25,0.1,0.05 and 1,0.25,0.1).
use anomaly_engine::jets::experiment::{run_direction, JetData, JetSettings};
use anomaly_engine::jets::particles::JetClass;
use anomaly_engine::models::Architecture;
use serde_json::{json, Map, Value};

/// Training jets per class and epochs: the dense autoencoder trains four models in about half a minute on
/// one core; the convolutional one is about twenty times slower per jet on the CPU, so it sees fewer.
const DENSE_RUN: (usize, usize) = (10_000, 10);
const CONV_RUN: (usize, usize) = (5_000, 10);
const TEST_JETS: usize = 5_000;

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

fn kappas(arg: Option<&String>, default: &str) -> Vec<f64> {
    arg.map_or(default, String::as_str).split(',').filter_map(|k| k.parse().ok()).collect()
}

/// Per κ, the per-seed AUCs of both directions.
struct Grid {
    kappas: Vec<f64>,
    qcd_trained_tags_top: Vec<Vec<f64>>,
    top_trained_tags_qcd: Vec<Vec<f64>>,
}

impl Grid {
    fn weaker(&self, k: usize) -> f64 {
        median(&self.qcd_trained_tags_top[k]).min(median(&self.top_trained_tags_qcd[k]))
    }

    fn best(&self) -> usize {
        (0..self.kappas.len()).max_by(|&a, &b| self.weaker(a).total_cmp(&self.weaker(b))).expect("at least one κ")
    }

    fn json(&self) -> Value {
        let mut by_kappa = Map::new();
        for (k, kappa) in self.kappas.iter().enumerate() {
            by_kappa.insert(
                format!("{kappa}"),
                json!({"qcd_trained_tags_top": self.qcd_trained_tags_top[k], "top_trained_tags_qcd": self.top_trained_tags_qcd[k]}),
            );
        }
        json!({"kappa": by_kappa, "best_kappa": self.kappas[self.best()]})
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let out = args.get(2).map_or("benches/artifacts/jets.json", String::as_str).to_string();
    let plans = [
        (Architecture::DENSE, DENSE_RUN, kappas(args.get(3), "1,0.5,0.25,0.1,0.05")),
        (Architecture::CONV, CONV_RUN, kappas(args.get(4), "1,0.25,0.1")),
    ];
    let mut grids: Vec<Grid> = plans
        .iter()
        .map(|(_, _, kappas)| Grid {
            kappas: kappas.clone(),
            qcd_trained_tags_top: vec![Vec::new(); kappas.len()],
            top_trained_tags_qcd: vec![Vec::new(); kappas.len()],
        })
        .collect();
    for seed in 1..=seeds {
        let data = JetData::generate(DENSE_RUN.0.max(CONV_RUN.0), TEST_JETS, seed).expect("jets");
        for ((architecture, (train, epochs), kappas), grid) in plans.iter().zip(&mut grids) {
            let mut subset = data.clone();
            subset.qcd.train.truncate(*train);
            subset.top.train.truncate(*train);
            for (k, &kappa) in kappas.iter().enumerate() {
                let started = std::time::Instant::now();
                let settings = JetSettings { architecture: *architecture, kappa, epochs: *epochs, seed, ..JetSettings::default() };
                let qcd = run_direction(&subset, JetClass::Qcd, &settings).expect("QCD-trained run").auc();
                let top = run_direction(&subset, JetClass::Top, &settings).expect("top-trained run").auc();
                println!(
                    "seed {seed}, {}, κ = {kappa}: QCD-trained tags top {qcd:.3}, top-trained tags QCD {top:.3} ({:.0} s)",
                    architecture.name(),
                    started.elapsed().as_secs_f64()
                );
                grid.qcd_trained_tags_top[k].push(qcd);
                grid.top_trained_tags_qcd[k].push(top);
            }
        }
    }
    let mut report = Map::new();
    for ((architecture, (train, epochs), _), grid) in plans.iter().zip(&grids) {
        let name = architecture.name();
        println!("{name} autoencoder ({train} training jets per class, {epochs} epochs), median AUC over {seeds} seeds:");
        println!("  κ        QCD-trained tags top   top-trained tags QCD   weaker direction");
        for (k, kappa) in grid.kappas.iter().enumerate() {
            println!(
                "  {kappa:<8} {:<22.3} {:<22.3} {:.3}",
                median(&grid.qcd_trained_tags_top[k]),
                median(&grid.top_trained_tags_qcd[k]),
                grid.weaker(k)
            );
        }
        if let Some(one) = grid.kappas.iter().position(|&k| k == 1.0) {
            let best = grid.best();
            let (qcd, top) = (median(&grid.qcd_trained_tags_top[one]), median(&grid.top_trained_tags_qcd[one]));
            println!("  κ = 1: QCD-trained tags top {qcd:.3} (target ≥ 0.85), top-trained tags QCD {top:.3} (target ≤ 0.35)");
            println!(
                "  best κ = {}: weaker direction {:.3} (target ≥ 0.5), {:+.3} over κ = 1 (target ≥ +0.3)",
                grid.kappas[best],
                grid.weaker(best),
                grid.weaker(best) - grid.weaker(one)
            );
        }
        report.insert(name.to_string(), grid.json());
    }
    report.insert("best_kappa".to_string(), grids[0].json()["best_kappa"].clone());
    report.insert("training_jets_per_class".to_string(), json!({"dense": DENSE_RUN.0, "conv": CONV_RUN.0}));
    report.insert("test_jets_per_class".to_string(), json!(TEST_JETS));
    report.insert("seeds".to_string(), json!(seeds));
    std::fs::write(&out, serde_json::to_string_pretty(&Value::Object(report)).expect("json") + "\n").expect("write the report");
    println!("wrote {out}");
}
