//! The classical baselines against the implementations practitioners run (scikit-learn, PyOD) on the
//! ADBench tables, in ADBench's two protocols, in the same run:
//!
//! - unsupervised: fit on every row, score every row (kNN and LOF leave a row out of its own neighbours,
//!   as the references do for their training rows);
//! - semi-supervised: a seeded 70 / 30 split; fit on the label-0 rows of the 70 %, score the 30 %.
//!
//! Both sides get the same rows, standardised with the training rows' mean and standard deviation (what
//! the page's table preparation does). A table above `MAX_ROWS` rows is first cut to a seeded sample of
//! that many, the same for both. Fidelity: AUC per method and table, ours against the reference (the
//! forest over SEEDS seeds on both sides); speed: fit + score seconds, the reference's over ours, both
//! native and on one thread (the browser's wasm timing is `make bench`'s).
//!
//! `cargo run --release -p anomaly-engine --example baselines_bench -- ADBENCH_DIR PYTHON PEER_SCRIPT JSON [SEEDS] [MAX_ROWS]`
//! (with `BASELINES_CASES=DIR`, the cases stay in DIR for `benches/baselines-browser.mjs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anomaly_engine::baselines::{Baseline, BaselineKind, BaselineSettings, Rows};
use anomaly_engine::metrics::{average_precision, roc_curve};
use anomaly_engine::rng::SeededRng;
use serde_json::{json, Value};

const METHODS: [BaselineKind; 5] =
    [BaselineKind::IsolationForest, BaselineKind::Pca, BaselineKind::Knn, BaselineKind::Ecod, BaselineKind::Lof];

struct Table {
    name: String,
    width: usize,
    values: Vec<f32>,
    labels: Vec<bool>,
}

fn read_table(path: &Path) -> Table {
    let output = Command::new("gzip").arg("-dc").arg(path).output().expect("gzip runs");
    let text = String::from_utf8(output.stdout).expect("the table is text");
    let mut lines = text.lines();
    let width = lines.next().expect("a header").split(',').count() - 1;
    let (mut values, mut labels) = (Vec::new(), Vec::new());
    for line in lines.filter(|l| !l.is_empty()) {
        let mut fields = line.split(',');
        for _ in 0..width {
            values.push(fields.next().expect("a value").trim().parse::<f32>().expect("a number"));
        }
        labels.push(fields.next().expect("a label").trim().parse::<f64>().expect("a label") > 0.5);
    }
    let name = path.file_name().unwrap().to_string_lossy().trim_end_matches(".csv.gz").to_string();
    Table { name, width, values, labels }
}

fn pick(table: &Table, rows: &[usize]) -> (Vec<f32>, Vec<bool>) {
    let mut values = Vec::with_capacity(rows.len() * table.width);
    for &r in rows {
        values.extend_from_slice(&table.values[r * table.width..(r + 1) * table.width]);
    }
    (values, rows.iter().map(|&r| table.labels[r]).collect())
}

/// Standardises both blocks with the training block's mean and standard deviation (1 for a constant).
fn standardise(train: &mut [f32], test: &mut [f32], width: usize) {
    let n = train.len() / width;
    for f in 0..width {
        let mean = (0..n).map(|r| train[r * width + f] as f64).sum::<f64>() / n as f64;
        let var = (0..n).map(|r| (train[r * width + f] as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        let std = if var > 0.0 { var.sqrt() } else { 1.0 };
        for block in [&mut *train, &mut *test] {
            for r in 0..block.len() / width {
                block[r * width + f] = ((block[r * width + f] as f64 - mean) / std) as f32;
            }
        }
    }
}

struct Case {
    name: String,
    table: String,
    protocol: &'static str,
    width: usize,
    train: Vec<f32>,
    test: Vec<f32>,
    labels: Vec<bool>,
}

fn cases_of(table: &Table, max_rows: usize) -> Vec<Case> {
    let n = table.labels.len();
    let mut rng = SeededRng::derive(0, &table.name);
    let mut rows: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut rows);
    rows.truncate(max_rows);
    rows.sort_unstable();
    let (values, labels) = pick(table, &rows);
    let mut cases = Vec::new();
    // Unsupervised: train on all, score all.
    let (mut train, mut test) = (values.clone(), values.clone());
    standardise(&mut train, &mut test, table.width);
    cases.push(Case { name: format!("{}__unsupervised", table.name), table: table.name.clone(), protocol: "unsupervised", width: table.width, train, test, labels: labels.clone() });
    // Semi-supervised: 70 / 30, train on the label-0 rows of the 70 %.
    let mut order: Vec<usize> = (0..labels.len()).collect();
    SeededRng::derive(1, &table.name).shuffle(&mut order);
    let cut = labels.len() * 7 / 10;
    let (train_part, test_part) = order.split_at(cut);
    let mut train = Vec::new();
    for &r in train_part.iter().filter(|&&r| !labels[r]) {
        train.extend_from_slice(&values[r * table.width..(r + 1) * table.width]);
    }
    let mut test = Vec::new();
    let mut test_labels = Vec::new();
    for &r in test_part {
        test.extend_from_slice(&values[r * table.width..(r + 1) * table.width]);
        test_labels.push(labels[r]);
    }
    standardise(&mut train, &mut test, table.width);
    cases.push(Case { name: format!("{}__semi", table.name), table: table.name.clone(), protocol: "semi-supervised", width: table.width, train, test, labels: test_labels });
    cases
}

fn write_f32(path: &Path, values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("a case file is written");
}

/// The rows as CSV (`x1,…,xN[,label]`), each value printed so that it parses back to the same f32.
fn write_csv(path: &Path, values: &[f32], width: usize, labels: Option<&[bool]>) {
    let mut text = (1..=width).map(|k| format!("x{k}")).collect::<Vec<_>>().join(",");
    text += if labels.is_some() { ",label\n" } else { "\n" };
    for (r, row) in values.chunks_exact(width).enumerate() {
        let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        text += &cells.join(",");
        if let Some(labels) = labels {
            text += if labels[r] { ",1" } else { ",0" };
        }
        text.push('\n');
    }
    std::fs::write(path, text).expect("a case file is written");
}

/// One method's result on one case: AUC and AP per seed, and seconds per seed.
#[derive(Default, Clone)]
struct Outcome {
    auc: Vec<f64>,
    ap: Vec<f64>,
    seconds: Vec<f64>,
    error: Option<String>,
}

impl Outcome {
    fn mean(values: &[f64]) -> Option<f64> {
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }
    fn push_scores(&mut self, scores: &[f32], labels: &[bool], seconds: f64) {
        match roc_curve(scores, labels) {
            Ok(roc) => {
                self.auc.push(roc.auc);
                self.ap.push(average_precision(scores, labels).unwrap());
                self.seconds.push(seconds);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }
}

fn ours(case: &Case, kind: BaselineKind, seeds: usize) -> Outcome {
    let mut outcome = Outcome::default();
    let train = Rows::new(&case.train, case.width);
    let test = Rows::new(&case.test, case.width);
    let same = case.protocol == "unsupervised";
    let runs = if kind == BaselineKind::IsolationForest { seeds } else { 1 };
    for seed in 0..runs {
        let settings = BaselineSettings { seed: seed as u64, neighbour_rows: usize::MAX, ..Default::default() };
        let start = Instant::now();
        match Baseline::fit(kind, train, &settings) {
            Ok(model) => {
                let mut scores = vec![0.0f32; test.len()];
                if same {
                    model.score_into(test, &|i| Some(i), &mut scores);
                } else {
                    model.score_into(test, &|_| None, &mut scores);
                }
                outcome.push_scores(&scores, &case.labels, start.elapsed().as_secs_f64());
            }
            Err(e) => outcome.error = Some(e.to_string()),
        }
    }
    outcome
}

fn reference(case: &Case, folder: &Path, key: &str) -> Outcome {
    let parsed: Value = serde_json::from_str(&std::fs::read_to_string(folder.join("reference.json")).expect("the peer wrote its results")).unwrap();
    let mut outcome = Outcome::default();
    let Some(result) = parsed.get(key) else { outcome.error = Some("not run".into()); return outcome };
    if let Some(error) = result.get("error") {
        outcome.error = Some(error.as_str().unwrap_or("failed").to_string());
        return outcome;
    }
    let fits = result["fit_seconds"].as_array().unwrap();
    let scores_of = result["scores"].as_array().unwrap();
    for (i, scores) in scores_of.iter().enumerate() {
        let scores: Vec<f32> = scores.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let seconds = fits[i].as_f64().unwrap() + result["score_seconds"][i].as_f64().unwrap();
        outcome.push_scores(&scores, &case.labels, seconds);
    }
    outcome
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let m = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[m] } else { (values[m - 1] + values[m]) / 2.0 })
}

/// Ranks (1 = best AUC, ties share the mean rank) of the methods that ran on a case.
fn ranks(aucs: &[(&'static str, f64)]) -> BTreeMap<&'static str, f64> {
    let mut out = BTreeMap::new();
    for &(key, auc) in aucs {
        let better = aucs.iter().filter(|(_, a)| *a > auc).count() as f64;
        let equal = aucs.iter().filter(|(_, a)| *a == auc).count() as f64;
        out.insert(key, better + (equal + 1.0) / 2.0);
    }
    out
}

/// The page's autoencoder with its default settings (5 epochs, batches of 64, a tenth of the rows for
/// validation), trained on the case's training rows exactly as the page trains on a table (reading the
/// case's CSV files back), scoring its test rows.
fn vae(case: &Case, folder: &Path) -> Outcome {
    use anomaly_engine::table::prepare::{ColumnChoice, Role, TableSetup, TrainOn};
    use anomaly_engine::table::{parse_bytes, run::TableRun};
    let mut outcome = Outcome::default();
    let read = |name: &str| parse_bytes(&std::fs::read(folder.join(name)).expect("the case file"), 1 << 20);
    // A table the page cannot read (more columns than its limit) is one the autoencoder cannot learn there.
    let (test, background) = match (read("test.csv"), (case.protocol != "unsupervised").then(|| read("train.csv")).transpose()) {
        (Ok(test), Ok(background)) => (test, background),
        (Err(e), _) | (_, Err(e)) => {
            outcome.error = Some(e.to_string());
            return outcome;
        }
    };
    let mut setup = TableSetup::suggested(&test);
    setup.choices = test
        .columns
        .iter()
        .map(|c| ColumnChoice { role: if c.summary.name == "label" { Role::Label } else { Role::Feature }, log: false })
        .collect();
    setup.train_on = if background.is_some() { TrainOn::OtherFile } else { TrainOn::AllRows };
    setup.max_training_rows = 1_000_000;
    let start = Instant::now();
    let mut run = match TableRun::new(&test, &setup, background.as_ref()) {
        Ok(run) => run,
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    };
    while !run.training().is_finished() {
        if let Err(e) = run.step() {
            outcome.error = Some(e.to_string());
            return outcome;
        }
    }
    while !run.scoring_done() {
        if let Err(e) = run.score_next(&test, 4096) {
            outcome.error = Some(e.to_string());
            return outcome;
        }
    }
    outcome.push_scores(&run.scores, &case.labels, start.elapsed().as_secs_f64());
    outcome
}

fn summary(cases: &[Case], results: &BTreeMap<(String, &'static str), (Outcome, Outcome)>, protocol: &str) -> Value {
    let mut per_method = serde_json::Map::new();
    let mut rank_sums: BTreeMap<&'static str, (f64, usize)> = BTreeMap::new();
    for case in cases.iter().filter(|c| c.protocol == protocol) {
        let aucs: Vec<(&'static str, f64)> = METHODS
            .iter()
            .map(|k| k.key())
            .chain(["vae"])
            .filter_map(|k| results.get(&(case.name.clone(), k)).and_then(|r| Outcome::mean(&r.0.auc)).map(|a| (k, a)))
            .collect();
        for (key, rank) in ranks(&aucs) {
            let entry = rank_sums.entry(key).or_default();
            entry.0 += rank;
            entry.1 += 1;
        }
    }
    for kind in METHODS {
        let (mut ours_aucs, mut reference_aucs, mut diffs, mut ratios, mut tables) = (vec![], vec![], vec![], vec![], vec![]);
        for case in cases.iter().filter(|c| c.protocol == protocol) {
            let (ours, reference) = &results[&(case.name.clone(), kind.key())];
            let row = json!({
                "table": case.table,
                "auc": Outcome::mean(&ours.auc), "auc_reference": Outcome::mean(&reference.auc),
                "ap": Outcome::mean(&ours.ap), "ap_reference": Outcome::mean(&reference.ap),
                "seconds": Outcome::mean(&ours.seconds), "seconds_reference": Outcome::mean(&reference.seconds),
                "error": ours.error, "error_reference": reference.error,
            });
            tables.push(row);
            if let (Some(a), Some(b)) = (Outcome::mean(&ours.auc), Outcome::mean(&reference.auc)) {
                ours_aucs.push(a);
                reference_aucs.push(b);
                diffs.push((a - b).abs());
                ratios.push(Outcome::mean(&reference.seconds).unwrap() / Outcome::mean(&ours.seconds).unwrap().max(1e-9));
            }
        }
        let rank = rank_sums.get(kind.key()).map(|(s, n)| s / *n as f64);
        per_method.insert(kind.key().to_string(), json!({
            "mean_auc": Outcome::mean(&ours_aucs),
            "mean_auc_reference": Outcome::mean(&reference_aucs),
            "max_abs_auc_diff": diffs.iter().cloned().fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d)))),
            "median_speed_ratio": median(ratios),
            "mean_rank": rank,
            "tables_compared": ours_aucs.len(),
            "per_table": tables,
        }));
    }
    // The autoencoder has no reference implementation: its AUC and rank only.
    let vae_rows: Vec<(String, Option<f64>, Option<String>)> = cases
        .iter()
        .filter(|c| c.protocol == protocol)
        .filter_map(|c| results.get(&(c.name.clone(), "vae")).map(|(o, _)| (c.table.clone(), Outcome::mean(&o.auc), o.error.clone())))
        .collect();
    let vae_aucs: Vec<f64> = vae_rows.iter().filter_map(|r| r.1).collect();
    per_method.insert("vae".into(), json!({
        "mean_auc": Outcome::mean(&vae_aucs),
        "mean_auc_reference": null, "max_abs_auc_diff": null, "median_speed_ratio": null,
        "mean_rank": rank_sums.get("vae").map(|(s, n)| s / *n as f64),
        "tables_compared": vae_aucs.len(),
        "per_table": vae_rows.iter().map(|(t, a, e)| json!({"table": t, "auc": a, "error": e})).collect::<Vec<_>>(),
    }));
    Value::Object(per_method)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, python, script, json_path) = match args.as_slice() {
        [_, d, p, s, j, ..] => (PathBuf::from(d), p.clone(), s.clone(), PathBuf::from(j)),
        _ => panic!("usage: baselines_bench ADBENCH_DIR PYTHON PEER_SCRIPT JSON [SEEDS] [MAX_ROWS]"),
    };
    let seeds: usize = args.get(5).map_or(5, |s| s.parse().expect("a seed count"));
    let max_rows: usize = args.get(6).map_or(20_000, |s| s.parse().expect("a row count"));
    let only: Option<String> = std::env::var("BASELINES_ONLY").ok();

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("the ADBench folder").filter_map(|e| e.ok()).map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
        .filter(|p| only.as_ref().is_none_or(|o| o.split(',').any(|name| p.to_string_lossy().contains(name))))
        .collect();
    files.sort_by_key(|p| {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        name.split('_').next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(0)
    });
    // Each case's rows, for the reference script and for the browser's run (`benches/baselines-browser.mjs`).
    let root = std::env::var_os("BASELINES_CASES").map_or_else(|| std::env::temp_dir().join("baselines_bench"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&root);
    let mut cases = Vec::new();
    for file in &files {
        let table = read_table(file);
        eprintln!("{}: {} rows of {} features", table.name, table.labels.len(), table.width);
        for case in cases_of(&table, max_rows) {
            let folder = root.join(&case.name);
            std::fs::create_dir_all(&folder).unwrap();
            write_f32(&folder.join("train.f32"), &case.train);
            write_f32(&folder.join("test.f32"), &case.test);
            write_csv(&folder.join("train.csv"), &case.train, case.width, None);
            write_csv(&folder.join("test.csv"), &case.test, case.width, Some(&case.labels));
            let meta = json!({"width": case.width, "protocol": case.protocol, "seeds": seeds,
                "pca_variance": BaselineSettings::default().pca_variance, "knn_k": 5, "lof_k": 20});
            std::fs::write(folder.join("case.json"), meta.to_string()).unwrap();
            cases.push(case);
        }
    }
    let status = Command::new(&python)
        .arg(&script)
        .arg(&root)
        .envs([("OMP_NUM_THREADS", "1"), ("OPENBLAS_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1"), ("NUMBA_NUM_THREADS", "1")])
        .status()
        .expect("the reference script runs");
    assert!(status.success(), "the reference script failed");

    let mut results = BTreeMap::new();
    for case in &cases {
        let folder = root.join(&case.name);
        for kind in METHODS {
            let ours = ours(case, kind, seeds);
            let reference = reference(case, &folder, kind.key());
            println!(
                "{:<24} {:<15} {:<8} AUC {:>6} vs {:>6}   {:>8} s vs {:>8} s {}",
                case.table,
                case.protocol,
                kind.key(),
                Outcome::mean(&ours.auc).map_or("-".into(), |a| format!("{a:.3}")),
                Outcome::mean(&reference.auc).map_or("-".into(), |a| format!("{a:.3}")),
                Outcome::mean(&ours.seconds).map_or("-".into(), |s| format!("{s:.4}")),
                Outcome::mean(&reference.seconds).map_or("-".into(), |s| format!("{s:.4}")),
                ours.error.clone().or(reference.error.clone()).unwrap_or_default(),
            );
            results.insert((case.name.clone(), kind.key()), (ours, reference));
        }
        let autoencoder = vae(case, &folder);
        println!(
            "{:<24} {:<15} vae      AUC {:>6}             {:>8} s {}",
            case.table,
            case.protocol,
            Outcome::mean(&autoencoder.auc).map_or("-".into(), |a| format!("{a:.3}")),
            Outcome::mean(&autoencoder.seconds).map_or("-".into(), |s| format!("{s:.2}")),
            autoencoder.error.clone().unwrap_or_default(),
        );
        results.insert((case.name.clone(), "vae"), (autoencoder, Outcome::default()));
    }
    // PyOD's ECOD scores new rows with the empirical distributions of the training and the new rows
    // together; ours judges new rows against the training rows alone. The same transductive reading with
    // our code shows that the semi-supervised gap is that choice and nothing else.
    let mut transductive = Vec::new();
    for case in cases.iter().filter(|c| c.protocol == "semi-supervised") {
        let both = [case.train.as_slice(), case.test.as_slice()].concat();
        let Ok(model) = Baseline::fit(BaselineKind::Ecod, Rows::new(&both, case.width), &BaselineSettings::default()) else { continue };
        let offset = case.train.len() / case.width;
        let mut scores = vec![0.0f32; case.labels.len()];
        model.score_into(Rows::new(&case.test, case.width), &|i| Some(offset + i), &mut scores);
        let Ok(roc) = roc_curve(&scores, &case.labels) else { continue };
        if let Some(reference) = Outcome::mean(&results[&(case.name.clone(), "ecod")].1.auc) {
            transductive.push((roc.auc - reference).abs());
        }
    }
    let transductive_max = transductive.iter().cloned().fold(0.0f64, f64::max);
    println!("ECOD read as PyOD reads new rows (semi-supervised): max |AUC − PyOD's| over {} tables = {transductive_max:.4}", transductive.len());

    let unsupervised = summary(&cases, &results, "unsupervised");
    let semi = summary(&cases, &results, "semi-supervised");
    println!("\nmethod   protocol         mean AUC  reference  max |diff|  median speed ratio (reference s / ours)  mean rank");
    for (protocol, summary) in [("unsupervised", &unsupervised), ("semi-supervised", &semi)] {
        for key in METHODS.iter().map(|k| k.key()).chain(["vae"]) {
            let s = &summary[key];
            let f = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.3}"));
            println!("{:<8} {:<16} {:>8} {:>10} {:>11} {:>12} {:>40}", key, protocol, f(&s["mean_auc"]), f(&s["mean_auc_reference"]), f(&s["max_abs_auc_diff"]), f(&s["median_speed_ratio"]), f(&s["mean_rank"]));
        }
    }
    let mut headline = serde_json::Map::new();
    for kind in METHODS {
        let s = &unsupervised[kind.key()];
        headline.insert(kind.key().into(), json!({
            "mean_auc": s["mean_auc"], "mean_auc_reference": s["mean_auc_reference"],
            "max_abs_auc_diff": s["max_abs_auc_diff"], "median_speed_ratio": s["median_speed_ratio"], "mean_rank": s["mean_rank"],
        }));
    }
    headline.insert("vae".into(), json!({
        "mean_auc": unsupervised["vae"]["mean_auc"], "mean_auc_reference": null, "max_abs_auc_diff": null,
        "median_speed_ratio": null, "mean_rank": unsupervised["vae"]["mean_rank"],
    }));
    let document = json!({
        "headline_protocol": "unsupervised",
        "speed_measured": "native, one thread (ours) against scikit-learn / PyOD natively, one thread",
        "max_rows_per_table": max_rows,
        "forest_seeds": seeds,
        "tables": files.len(),
        "baselines": headline,
        "unsupervised": unsupervised,
        "semi_supervised": semi,
        "ecod_semi_supervised_read_as_pyod_max_abs_auc_diff": transductive_max,
    });
    let mut whole: Value = std::fs::read_to_string(&json_path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(json!({}));
    if let Value::Object(map) = document {
        for (k, v) in map {
            whole[k] = v;
        }
    }
    if let Some(parent) = json_path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&json_path, serde_json::to_string_pretty(&whole).unwrap()).unwrap();
    eprintln!("written {}", json_path.display());
}
