//! The classical methods of a finished comparison (`compare`), as a model file carries them beside the
//! autoencoder: each fitted detector, the standardisation of its features (which may differ from the
//! autoencoder's if the visitor changed the columns in between), and, when the detectors were fitted on
//! rows of the scored file itself, which rows those were.
//!
//! That last part matters because kNN, LOF and ECOD score a training row differently from a new row (a
//! training row leaves itself out of its own neighbourhood, and counts itself once in the empirical
//! distribution). The page knows which rows it trained on; the native scorer learns it from the file:
//! the row numbers, and a fingerprint of those rows' standardised values, so that another file (or an
//! edited one) is scored as new rows rather than mistaken for the training file.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::prepare::Preprocessing;
use crate::baselines::saved::{TensorReader, TensorWriter};
use crate::baselines::{Baseline, BaselineSettings};

/// The metadata key of the saved methods, and the name of the training rows' tensor.
pub const METADATA_KEY: &str = "baselines";
const TRAINING_ROWS_TENSOR: &str = "baselines.training_rows";

#[derive(Clone, Debug)]
pub struct SavedBaselines {
    /// In the order the page ran them (and the download's columns follow).
    pub methods: Vec<Baseline>,
    pub settings: BaselineSettings,
    pub preprocessing: Preprocessing,
    pub training_rows: Option<TrainingRowsRecord>,
}

/// Which rows of the scored file the methods were fitted on.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingRowsRecord {
    /// Each training row's row number in the file (0 = the first row after the header), in training order.
    pub rows: Vec<u32>,
    /// [`fingerprint`] of those rows' standardised values, in training order.
    pub fingerprint: u64,
}

/// The numbers of the metadata entry; arrays are tensors.
#[derive(Serialize, Deserialize)]
struct Metadata {
    methods: Vec<Value>,
    settings: BaselineSettings,
    preprocessing: Preprocessing,
    /// Hexadecimal, since JSON numbers do not carry 64 bits.
    training_rows_fingerprint: Option<String>,
    training_rows: Option<usize>,
}

/// A 64-bit FNV-1a hash of each row's `f32` bits, folded in order the same way.
pub fn fingerprint<'a>(rows: impl IntoIterator<Item = &'a [f32]>) -> u64 {
    fold(rows.into_iter().map(row_hash))
}

pub fn row_hash(row: &[f32]) -> u64 {
    fold(row.iter().map(|v| v.to_bits() as u64))
}

pub fn fold(words: impl IntoIterator<Item = u64>) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for word in words {
        for byte in word.to_le_bytes() {
            hash = (hash ^ byte as u64).wrapping_mul(PRIME);
        }
    }
    hash
}

impl SavedBaselines {
    pub fn feature_names(&self) -> Vec<&str> {
        self.preprocessing.features.iter().map(|f| f.name.as_str()).collect()
    }

    /// The metadata entry's JSON; the arrays go to `out`.
    pub fn save(&self, out: &mut TensorWriter) -> String {
        let mut methods = Vec::new();
        for (i, method) in self.methods.iter().enumerate() {
            // One of each kind: a second would overwrite the first's tensors.
            if self.methods[..i].iter().all(|m| m.kind() != method.kind()) {
                methods.push(method.save(out));
            }
        }
        if let Some(record) = &self.training_rows {
            out.u32s(TRAINING_ROWS_TENSOR, &[record.rows.len()], &record.rows);
        }
        let metadata = Metadata {
            methods,
            settings: self.settings.clone(),
            preprocessing: self.preprocessing.clone(),
            training_rows_fingerprint: self.training_rows.as_ref().map(|r| format!("{:016x}", r.fingerprint)),
            training_rows: self.training_rows.as_ref().map(|r| r.rows.len()),
        };
        serde_json::to_string(&metadata).expect("plain data serialises")
    }

    /// The methods from the metadata entry `text` and the file's tensors, or why they cannot be read.
    pub fn load(text: &str, tensors: &TensorReader) -> Result<Self, String> {
        let metadata: Metadata = serde_json::from_str(text).map_err(|e| format!("\"{METADATA_KEY}\": {e}"))?;
        let width = metadata.preprocessing.features.len();
        if width == 0 || metadata.preprocessing.features.iter().any(|f| !f.mean.is_finite() || !(f.std.is_finite() && f.std > 0.0)) {
            return Err("the classical methods' features are not usable numbers".into());
        }
        if metadata.methods.is_empty() {
            return Err("its \"baselines\" entry holds no method".into());
        }
        let methods = metadata.methods.iter().map(|meta| Baseline::load(meta, tensors, width)).collect::<Result<Vec<_>, _>>()?;
        let training_rows = match (metadata.training_rows, metadata.training_rows_fingerprint) {
            (Some(n), Some(hex)) => {
                let fingerprint = u64::from_str_radix(&hex, 16).map_err(|_| "the training rows' fingerprint is not a hexadecimal number".to_string())?;
                let rows = tensors.u32s(TRAINING_ROWS_TENSOR, &[n])?;
                let mut seen = rows.clone();
                seen.sort_unstable();
                if seen.windows(2).any(|w| w[0] == w[1]) {
                    return Err("a training row is listed twice".into());
                }
                Some(TrainingRowsRecord { rows, fingerprint })
            }
            (None, None) => None,
            _ => return Err("the training rows are recorded without their fingerprint".into()),
        };
        Ok(Self { methods, settings: metadata.settings, preprocessing: metadata.preprocessing, training_rows })
    }

    /// Each listed file row's place among the training rows.
    pub fn training_places(&self) -> HashMap<usize, usize> {
        self.training_rows.as_ref().map_or_else(HashMap::new, |r| r.rows.iter().enumerate().map(|(place, &row)| (row as usize, place)).collect())
    }
}

/// Two saved sets are the same when they would write the same file.
impl PartialEq for SavedBaselines {
    fn eq(&self, other: &Self) -> bool {
        let (mut a, mut b) = (TensorWriter::default(), TensorWriter::default());
        let same_tensors = |a: &TensorWriter, b: &TensorWriter| {
            a.tensors.len() == b.tensors.len()
                && a.tensors.iter().zip(&b.tensors).all(|(x, y)| x.name == y.name && x.dtype == y.dtype && x.shape == y.shape && x.bytes == y.bytes)
        };
        self.save(&mut a) == other.save(&mut b) && same_tensors(&a, &b)
    }
}
