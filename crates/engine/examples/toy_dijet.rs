//! Trains the tabular VAE on the toy dijet events and prints the figures of merit, for exploring settings:
//! `cargo run --release -p anomaly-engine --example toy_dijet -- [rows] [signal fraction] [log: 0/1] [epochs] [latent] [train_on: all/bkg]`
use anomaly_engine::table::prepare::{TableSetup, TrainOn};
use anomaly_engine::table::run::TableRun;
use anomaly_engine::table::{dijet, parse_bytes};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let rows: usize = arg(0, "20000").parse().unwrap();
    let fraction: f64 = arg(1, "0.01").parse().unwrap();
    let csv = dijet::to_csv(&dijet::generate(rows, fraction, 1));
    let table = parse_bytes(&csv, 1 << 20).unwrap();
    let mut setup = TableSetup::suggested(&table);
    if arg(2, "1") == "0" {
        setup.choices.iter_mut().for_each(|c| c.log = false);
    }
    setup.model.optimiser.epochs = arg(3, "20").parse().unwrap();
    setup.model.vae.latent_dims = arg(4, "2").parse().unwrap();
    if arg(5, "all") == "bkg" {
        setup.train_on = TrainOn::BackgroundRows;
    }
    println!("logs: {:?}", setup.choices.iter().map(|c| c.log).collect::<Vec<_>>());
    let mut run = TableRun::new(&table, &setup, None).unwrap();
    while !run.training().is_finished() {
        run.step().unwrap();
    }
    while !run.scoring_done() {
        run.score_next(&table, 10_000).unwrap();
    }
    let labels = run.labels.clone().unwrap();
    for class in [0u8, 1] {
        let rows: Vec<usize> = (0..table.rows()).filter(|&r| labels[r] == class).collect();
        let mean_score = rows.iter().map(|&r| run.scores[r] as f64).sum::<f64>() / rows.len() as f64;
        let mut mean_x = vec![0f64; 5];
        let mut slot = vec![0f32; 5];
        for &r in &rows {
            run.preprocessing.transform_row(&table, &[0, 1, 2, 3, 4], r, &mut slot);
            for (mean, x) in mean_x.iter_mut().zip(&slot) {
                *mean += *x as f64 / rows.len() as f64;
            }
        }
        println!("class {class}: mean score {mean_score:.3}, mean standardised features {mean_x:.2?}");
    }
    let results = run.results();
    let sic = results.sic.unwrap();
    println!(
        "rows {rows}, signal fraction {fraction}: AUC {:.3}, max SIC {:.2} at eps_S {:.3}, 1/eps_B at eps_S=0.3: {:?}",
        results.roc.unwrap().auc,
        sic.max_sic,
        sic.max_sic_signal_efficiency,
        sic.rejection_at_30
    );
}
