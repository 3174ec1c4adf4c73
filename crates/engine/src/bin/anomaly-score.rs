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
//! Given a digits session (the digit view's "Save this session"), it writes one of its networks:
//! `--onnx session.safetensors stage1|aware|control` (stage 1 by default), as the digit view's
//! "Download as ONNX" gives the network on screen.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anomaly_engine::digit_session::DigitSession;
use anomaly_engine::table::model_file::{ModelFile, ModelFileError};
use anomaly_engine::table::score_file::score_csv;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [flag, model_path] if flag == "--onnx" => to_onnx(model_path, None),
        [flag, model_path, network] if flag == "--onnx" => to_onnx(model_path, Some(network)),
        [model_path, csv_path] => run(model_path, csv_path),
        _ => {
            eprintln!("usage: anomaly-score MODEL.safetensors EVENTS.csv > SCORED.csv\n       anomaly-score --onnx MODEL.safetensors > MODEL.onnx\n       anomaly-score --onnx SESSION.safetensors [stage1|aware|control] > MODEL.onnx");
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

/// The model file's autoencoder as ONNX, on standard output; for a digits session, the `network` asked
/// for (stage 1 by default).
fn to_onnx(model_path: &str, network: Option<&str>) -> Result<String, String> {
    let bytes = std::fs::read(model_path).map_err(|e| format!("{model_path} could not be read: {e}"))?;
    let (onnx, what) = match ModelFile::from_bytes(&bytes) {
        Ok(model) if network.is_none() => (anomaly_engine::table::onnx::export(&model), "autoencoder".to_string()),
        Ok(_) => return Err(format!("{model_path} is a table's model, which holds one network; leave out \"{}\"", network.unwrap_or_default())),
        Err(ModelFileError::DigitSession) => {
            let session = DigitSession::from_bytes(&bytes).map_err(|e| format!("{model_path}: {e}"))?;
            let awareness = session.awareness.as_ref();
            let weights = match network.unwrap_or("stage1") {
                "stage1" => Some(&session.stage1),
                "aware" => awareness.and_then(|a| a.aware.as_ref()),
                "control" => awareness.and_then(|a| a.control.as_ref()),
                other => return Err(format!("\"{other}\" is not a network of a session: stage1, aware or control")),
            }
            .ok_or_else(|| format!("{model_path} holds no \"{}\" network (that fine-tuning did not run)", network.unwrap_or_default()))?;
            let with_kl = session.settings.model.vae.score_with_kl;
            (anomaly_engine::table::onnx::export_digits(weights, with_kl), format!("digits session's {} network", network.unwrap_or("stage1")))
        }
        Err(e) => return Err(format!("{model_path}: {e}")),
    };
    std::io::stdout().lock().write_all(&onnx).map_err(|e| format!("writing the output failed: {e}"))?;
    Ok(format!("wrote {model_path}'s {what} as ONNX ({} bytes)", onnx.len()))
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
