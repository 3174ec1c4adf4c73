//! Trains the digit VAE natively on the packed digits and prints the loss per epoch and the test AUC.
//! `cargo run --release -p anomaly-engine --example train_digits -- www/data/digits.bin [normal digits] [epochs]`

use anomaly_engine::data::DigitSet;
use anomaly_engine::evaluate::DigitExperiment;
use anomaly_engine::TrainSettings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map(String::as_str).unwrap_or("www/data/digits.bin");
    let normal: Vec<u8> = args.get(2).map_or(vec![0], |s| s.bytes().map(|b| b - b'0').collect());
    let epochs = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let digits = DigitSet::decode(&std::fs::read(path)?)?;
    let mut settings = TrainSettings { normal_digits: normal, ..Default::default() };
    settings.model.optimiser.epochs = epochs;
    let mut experiment = DigitExperiment::new(&digits, &settings)?;
    let started = std::time::Instant::now();
    let mut steps = 0;
    while !experiment.trainer.is_finished() {
        let report = experiment.trainer.step()?;
        steps += 1;
        if report.epoch_finished {
            println!("epoch {} train loss {:.2} validation loss {:.2?}", report.epochs_done, report.loss, experiment.trainer.validation_loss()?);
        }
    }
    let per_step = started.elapsed().as_secs_f64() * 1000.0 / steps as f64;
    let eval = experiment.evaluate()?;
    println!("{steps} steps, {per_step:.2} ms per step (includes validation); test AUC {:.4}", eval.auc);
    for d in &eval.per_digit {
        println!("  digit {} anomaly={} n={} mean score {:.1} AUC {:?}", d.digit, d.is_anomaly, d.count, d.mean_score, d.auc.map(|a| (a * 1000.0).round() / 1000.0));
    }
    Ok(())
}
