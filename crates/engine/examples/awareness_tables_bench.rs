//! Anomaly Awareness on tables (`table::awareness`), the two benchmarks of its issue:
//!
//! - the several-signals toy (`table::signals`), kind A shown and B, C, D unseen, over seeds and numbers of
//!   labelled rows: the mean AUC change on the unseen kinds with the labelled rows and in the control
//!   (the same steps without them), and how many shown kinds lost AUC;
//! - ADBench's semi-supervised protocol on the shared tables: the page's autoencoder trained on every row
//!   (unsupervised), then fine-tuned with 1 % and 5 % of the anomalies labelled (at least one), judged on
//!   every row but the labelled ones; beside it the best classical method's mean AUC in the unsupervised
//!   protocol, read from `make bench`'s `baselines.json` when it is there.
//!
//! `cargo run --release -p anomaly-engine --example awareness_tables_bench -- ADBENCH_DIR SEEDS LABELLED,… OUT.json [MAX_ROWS] [BASELINES.json]`

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anomaly_engine::metrics::roc_curve;
use anomaly_engine::rng::SeededRng;
use anomaly_engine::table::awareness::{mean_unseen_change, KindResult, Protocol, TableAwareness, TableAwarenessSettings};
use anomaly_engine::table::column::NO_LABEL;
use anomaly_engine::table::prepare::{ColumnChoice, Role, TableSetup, TrainOn};
use anomaly_engine::table::run::TableRun;
use anomaly_engine::table::{parse_bytes, signals, Table};
use serde_json::{json, Value};

const TOY_ROWS: usize = 30_000;
const TOY_SIGNAL_FRACTION: f64 = 0.04;
const TOY_EPOCHS: usize = 10;

fn train(table: &Table, setup: &TableSetup) -> Result<TableRun, String> {
    let mut run = TableRun::new(table, setup, None)?;
    while !run.training().is_finished() {
        run.step().map_err(|e| e.to_string())?;
    }
    Ok(run)
}

/// Fine-tunes (or, for the control, takes the same steps without the labelled rows), reads the results
/// and puts stage 1 back.
fn stage2(table: &Table, run: &TableRun, settings: &TableAwarenessSettings, protocol: Protocol, control: bool) -> Result<(Vec<KindResult>, usize), String> {
    let mut aware = TableAwareness::new(table, run, None, settings, protocol)?;
    if control {
        aware = aware.without_anomalies();
    }
    while !aware.is_finished() {
        if let Err(e) = aware.step() {
            aware.restore_stage1().map_err(|e| e.to_string())?;
            return Err(e.to_string());
        }
    }
    let results = aware.results().map_err(|e| e.to_string());
    aware.restore_stage1().map_err(|e| e.to_string())?;
    Ok((results?, aware.labelled_rows()))
}

/// One number of labelled rows over the seeds: each seed's unseen-kind and control changes, how many
/// shown kinds lost AUC, and each run's kinds.
struct CountRuns {
    labelled: usize,
    unseen: Vec<f64>,
    control: Vec<f64>,
    losses: usize,
    detail: Vec<Value>,
}

fn toy(seeds: u64, labelled: &[usize]) -> Value {
    let mut by_count: Vec<CountRuns> =
        labelled.iter().map(|&labelled| CountRuns { labelled, unseen: Vec::new(), control: Vec::new(), losses: 0, detail: Vec::new() }).collect();
    for seed in 1..=seeds {
        let table = parse_bytes(&signals::to_csv(&signals::generate(TOY_ROWS, TOY_SIGNAL_FRACTION, seed)), 1 << 20).expect("the toy parses");
        let mut setup = TableSetup::suggested(&table);
        setup.model.optimiser.epochs = TOY_EPOCHS;
        setup.model.optimiser.seed = seed;
        let run = train(&table, &setup).expect("stage 1 trains");
        let kind_column = table.column_names().iter().position(|n| n == "signal_type").expect("the toy names its kinds");
        for CountRuns { labelled: n, unseen, control, losses, detail } in by_count.iter_mut() {
            let settings = TableAwarenessSettings { labelled_rows: *n, ..TableAwarenessSettings::new(kind_column, vec!["A".into()]) };
            let (with, _) = stage2(&table, &run, &settings, Protocol::UnseenKinds, false).expect("stage 2 runs");
            let (without, _) = stage2(&table, &run, &settings, Protocol::UnseenKinds, true).expect("the control runs");
            let (u, c) = (mean_unseen_change(&with).unwrap(), mean_unseen_change(&without).unwrap());
            let lost = with.iter().filter(|r| r.shown && r.after.auc < r.before.auc).count();
            println!("toy seed {seed} labelled {n:>3}: unseen {u:+.4}, control {c:+.4}, own share {:+.4}, shown kinds losing AUC {lost}", u - c);
            for (w, o) in with.iter().zip(&without) {
                println!(
                    "    {} {:<6} AUC {:.3} → {:.3} (control {:.3}); max SIC {:.1} → {:.1}",
                    w.kind,
                    if w.shown { "shown" } else { "unseen" },
                    w.before.auc,
                    w.after.auc,
                    o.after.auc,
                    w.before.max_sic,
                    w.after.max_sic
                );
            }
            unseen.push(u);
            control.push(c);
            *losses += lost;
            detail.push(json!({
                "seed": seed,
                "kinds": with.iter().zip(&without).map(|(w, o)| json!({
                    "kind": w.kind, "shown": w.shown, "rows": w.rows,
                    "auc_before": w.before.auc, "auc_after": w.after.auc, "auc_control": o.after.auc,
                    "max_sic_before": w.before.max_sic, "max_sic_after": w.after.max_sic, "max_sic_control": o.after.max_sic,
                    "rejection_at_30_before": w.before.rejection_at_30, "rejection_at_30_after": w.after.rejection_at_30,
                })).collect::<Vec<_>>(),
            }));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let mut out = serde_json::Map::new();
    for CountRuns { labelled: n, unseen, control, losses, detail } in by_count {
        let shares: Vec<f64> = unseen.iter().zip(&control).map(|(u, c)| u - c).collect();
        println!("toy labelled {n:>3}: mean unseen change {:+.4}, control {:+.4}, own share {:+.4}; shown kinds losing AUC {losses}", mean(&unseen), mean(&control), mean(&shares));
        out.insert(
            n.to_string(),
            json!({"unseen_change": unseen, "control_change": control, "own_share_mean": mean(&shares), "shown_losses": losses, "per_seed": detail}),
        );
    }
    Value::Object(out)
}

/// Every row of an ADBench table (or a seeded sample of `max_rows`), as the CSV the page reads.
fn adbench_table(path: &Path, max_rows: usize) -> Result<Table, String> {
    let output = Command::new("gzip").arg("-dc").arg(path).output().map_err(|e| e.to_string())?;
    let text = String::from_utf8(output.stdout).map_err(|e| e.to_string())?;
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let header = lines.remove(0);
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    if lines.len() > max_rows {
        SeededRng::derive(0, &name).shuffle(&mut lines);
        lines.truncate(max_rows);
    }
    let csv = std::iter::once(header).chain(lines).collect::<Vec<_>>().join("\n");
    parse_bytes(csv.as_bytes(), 1 << 20).map_err(|e| e.to_string())
}

fn adbench(folder: &Path, max_rows: usize) -> Value {
    let mut paths: Vec<_> = std::fs::read_dir(folder).expect("the ADBench folder").filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".csv.gz")).collect();
    paths.sort();
    let mut rows = Vec::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().trim_end_matches(".csv.gz").to_string();
        let start = Instant::now();
        let outcome = (|| -> Result<(f64, f64, f64, f64, usize, usize), String> {
            let table = adbench_table(&path, max_rows)?;
            let mut setup = TableSetup::suggested(&table);
            setup.choices = table.columns.iter().map(|c| ColumnChoice { role: if c.summary.name == "label" { Role::Label } else { Role::Feature }, log: false }).collect();
            setup.train_on = TrainOn::AllRows;
            setup.max_training_rows = 1_000_000;
            let mut run = train(&table, &setup)?;
            while !run.scoring_done() {
                run.score_next(&table, 4096).map_err(|e| e.to_string())?;
            }
            let labels = setup.labels(&table).ok_or("no label")?;
            let (s, y): (Vec<f32>, Vec<bool>) = (0..table.rows()).filter(|&r| labels[r] != NO_LABEL && run.scores[r].is_finite()).map(|r| (run.scores[r], labels[r] == 1)).unzip();
            let unsupervised = roc_curve(&s, &y).map_err(|e| e.to_string())?.auc;
            let label_column = setup.label_column().ok_or("no label")?;
            let anomalies = y.iter().filter(|&&a| a).count();
            let mut fine_tuned = Vec::new();
            for share in [0.01, 0.05] {
                let n = ((share * anomalies as f64).round() as usize).max(1);
                let kinds = anomaly_kinds_of(&table, &setup, label_column);
                let settings = TableAwarenessSettings { labelled_rows: n, ..TableAwarenessSettings::new(label_column, kinds) };
                let (results, _) = stage2(&table, &run, &settings, Protocol::SemiSupervised, false)?;
                fine_tuned.push((results[0].after.auc, n, results[0].before.auc));
            }
            Ok((unsupervised, fine_tuned[0].2, fine_tuned[0].0, fine_tuned[1].0, fine_tuned[0].1, fine_tuned[1].1))
        })();
        let seconds = start.elapsed().as_secs_f64();
        match outcome {
            Ok((u, before, one, five, n1, n5)) => {
                println!("{name:<28} unsupervised {u:.3} ({before:.3} without the 1 % rows)  1 % ({n1:>4} rows) {one:.3}  5 % ({n5:>4} rows) {five:.3}  {seconds:.0} s");
                rows.push(json!({
                    "table": name, "vae_unsupervised": u, "vae_unsupervised_without_labelled_1pct": before,
                    "vae_finetuned_1pct": one, "vae_finetuned_5pct": five, "labelled_1pct": n1, "labelled_5pct": n5,
                }));
            }
            Err(e) => {
                println!("{name:<28} not run: {e}");
                rows.push(json!({"table": name, "error": e}));
            }
        }
    }
    let mean = |key: &str| {
        let v: Vec<f64> = rows.iter().filter_map(|r| r[key].as_f64()).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    json!({
        "vae_unsupervised": mean("vae_unsupervised"),
        "vae_finetuned_1pct": mean("vae_finetuned_1pct"),
        "vae_finetuned_5pct": mean("vae_finetuned_5pct"),
        "tables": rows.iter().filter(|r| r.get("error").is_none()).count(),
        "per_table": rows,
    })
}

fn anomaly_kinds_of(table: &Table, setup: &TableSetup, column: usize) -> Vec<String> {
    anomaly_engine::table::awareness::anomaly_kinds(table, setup, column)
}

/// The best classical method and its mean AUC in `make bench`'s unsupervised protocol, if it has run.
fn best_baseline(path: Option<&str>) -> Option<(&'static str, f64)> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path?).ok()?).ok()?;
    ["iforest", "pca", "knn", "ecod", "lof"]
        .into_iter()
        .filter_map(|m| json["baselines"][m]["mean_auc"].as_f64().map(|auc| (m, auc)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let folder = Path::new(args.first().map(String::as_str).unwrap_or("../shared/datasets/adbench"));
    let seeds: u64 = args.get(1).map_or(5, |s| s.parse().expect("SEEDS is a count"));
    let labelled: Vec<usize> = args.get(2).map_or("10,40,160", String::as_str).split(',').map(|n| n.parse().expect("a count")).collect();
    let out = args.get(3).map_or("benches/artifacts/awareness_tables.json", String::as_str);
    let max_rows: usize = args.get(4).map_or(20_000, |s| s.parse().expect("MAX_ROWS is a count"));
    let toy = toy(seeds, &labelled);
    let mut adbench = adbench(folder, max_rows);
    let best = best_baseline(args.get(5).map(String::as_str));
    adbench["best_baseline"] = json!(best.map(|b| b.1));
    adbench["best_baseline_method"] = json!(best.map(|b| b.0));
    adbench["best_baseline_protocol"] = json!("unsupervised, from make bench's baselines.json");
    println!(
        "ADBench: unsupervised VAE {:?}, fine-tuned 1 % {:?}, 5 % {:?}; best baseline {:?}",
        adbench["vae_unsupervised"].as_f64(),
        adbench["vae_finetuned_1pct"].as_f64(),
        adbench["vae_finetuned_5pct"].as_f64(),
        best
    );
    let report = json!({"toy": toy, "adbench": adbench, "toy_setup": {
        "rows": TOY_ROWS, "signal_fraction": TOY_SIGNAL_FRACTION, "stage1_epochs": TOY_EPOCHS, "shown": ["A"], "unseen": ["B", "C", "D"],
    }});
    if let Some(parent) = Path::new(out).parent() {
        std::fs::create_dir_all(parent).expect("the output folder");
    }
    std::fs::write(out, serde_json::to_string_pretty(&report).unwrap()).expect("the report is written");
    println!("wrote {out}");
}
