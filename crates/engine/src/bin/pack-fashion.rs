//! Converts Fashion-MNIST from the IDX files of Debian's `dataset-fashion-mnist` (unzipped) into the
//! playground's digit-file format, labels 0–9 being the ten clothing classes (`data::idx::FASHION_CLASSES`).
//!
//! Usage: `pack-fashion <images IDX file> <labels IDX file> <output file>`. Run by `make data`, never by hand.

use std::process::ExitCode;

use anomaly_engine::data::{idx, DigitSet};

fn pack(images: &str, labels: &str, output: &str) -> Result<usize, String> {
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"));
    let pixels = idx::images(&read(images)?).map_err(|e| format!("{images}: {e}"))?;
    let labels = idx::labels(&read(labels)?).map_err(|e| format!("{labels}: {e}"))?;
    let set = DigitSet::new(labels, pixels).map_err(|e| e.to_string())?;
    let bytes = set.encode_checked().map_err(|e| format!("the packed file does not read back: {e}"))?;
    std::fs::write(output, &bytes).map_err(|e| format!("cannot write {output}: {e}"))?;
    Ok(set.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: pack-fashion <images IDX file> <labels IDX file> <output file>");
        return ExitCode::from(2);
    }
    match pack(&args[1], &args[2], &args[3]) {
        Ok(count) => {
            println!("packed {count} Fashion-MNIST images into {}", args[3]);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("pack-fashion: {message}");
            ExitCode::FAILURE
        }
    }
}
