//! Writes a trained table model and a large file of events to score with it, for the scoring-at-scale
//! benchmark (`make bench`, benches/dask_throughput.py):
//! `cargo run --release -p anomaly-engine --example table_model -- ROWS OUT_FOLDER`
//! gives OUT_FOLDER/events.csv (ROWS toy dijet events, seed 7) and OUT_FOLDER/model.safetensors (the page's
//! suggested autoencoder, trained as the page would on the first 20,000 of them).
use anomaly_engine::table::prepare::TableSetup;
use anomaly_engine::table::run::TableRun;
use anomaly_engine::table::{dijet, parse_bytes};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rows, folder] = args.as_slice() else { panic!("usage: table_model ROWS OUT_FOLDER") };
    let rows: usize = rows.parse().expect("ROWS is a number");
    std::fs::create_dir_all(folder).unwrap();
    let events = dijet::to_csv(&dijet::generate(rows, 0.01, 7));
    let training = dijet::to_csv(&dijet::generate(rows.min(20_000), 0.01, 7));
    let table = parse_bytes(&training, 1 << 16).unwrap();
    let setup = TableSetup::suggested(&table);
    let mut run = TableRun::new(&table, &setup, None).unwrap();
    while !run.training().is_finished() {
        run.step().unwrap();
    }
    run.score_next(&table, table.rows()).unwrap();
    std::fs::write(format!("{folder}/events.csv"), events).unwrap();
    std::fs::write(format!("{folder}/model.safetensors"), run.model_file().unwrap().to_bytes()).unwrap();
    eprintln!("wrote {rows} events and a model trained on {} of them to {folder}", table.rows());
}
