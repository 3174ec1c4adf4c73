//! Scores a CSV file of any size with a model file saved from the playground, outside the browser:
//!
//!     cargo run --release -p anomaly-engine --bin anomaly-score -- model.safetensors events.csv > scored.csv
//!
//! The output is what the page's "Download the scored file" gives for the same model and file: every line
//! unchanged, with `anomaly_score` and `rank` appended, and, when the model file carries classical
//! methods from the page's comparison, each one's score and top features. The file streams through in
//! bounded memory.
//!
//!     cargo run --release -p anomaly-engine --bin anomaly-score -- --onnx model.safetensors > model.onnx
//!
//! writes the model's autoencoder as the ONNX graph the page's "Download as ONNX" gives (`table::onnx`).
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anomaly_engine::table::model_file::ModelFile;
use anomaly_engine::table::score_file::score_csv;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [flag, model_path] if flag == "--onnx" => to_onnx(model_path),
        [model_path, csv_path] => run(model_path, csv_path),
        _ => {
            eprintln!("usage: anomaly-score MODEL.safetensors EVENTS.csv > SCORED.csv\n       anomaly-score --onnx MODEL.safetensors > MODEL.onnx");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(message) => {
            eprintln!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("anomaly-score: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The model file's autoencoder as ONNX, on standard output.
fn to_onnx(model_path: &str) -> Result<String, String> {
    let bytes = std::fs::read(model_path).map_err(|e| format!("{model_path} could not be read: {e}"))?;
    let model = ModelFile::from_bytes(&bytes).map_err(|e| format!("{model_path}: {e}"))?;
    let onnx = anomaly_engine::table::onnx::export(&model);
    std::io::stdout().lock().write_all(&onnx).map_err(|e| format!("writing the output failed: {e}"))?;
    Ok(format!("wrote {model_path}'s autoencoder as ONNX ({} bytes)", onnx.len()))
}

fn run(model_path: &str, csv_path: &str) -> Result<String, String> {
    let bytes = std::fs::read(model_path).map_err(|e| format!("{model_path} could not be read: {e}"))?;
    let model = ModelFile::from_bytes(&bytes).map_err(|e| format!("{model_path}: {e}"))?;
    let mut input = File::open(csv_path).map_err(|e| format!("{csv_path} could not be opened: {e}"))?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let summary = score_csv(&model, &mut input, &mut out).map_err(|e| format!("{csv_path}: {e}"))?;
    out.flush().map_err(|e| format!("writing the output failed: {e}"))?;
    let mut message = format!(
        "scored {} rows of {csv_path}{}",
        summary.rows,
        if summary.unscored > 0 { format!(" ({} left unscored: a feature is missing)", summary.unscored) } else { String::new() }
    );
    if !summary.baselines.is_empty() {
        message += &format!(" with the autoencoder and {}", summary.baselines.join(", "));
        message += match summary.training_file {
            Some(true) => "; the rows those methods were fitted on are scored as their training rows, as on the page",
            Some(false) => "; this is not the file those methods were fitted on (or it has changed), so every row is scored as a new row and kNN, LOF and ECOD may differ slightly from the page's scores of that file",
            None => "",
        };
    }
    Ok(message)
}
