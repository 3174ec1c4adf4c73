//! A whole digits session as a file, so a teacher can prepare a trained network for a class: the settings,
//! the stage-1 weights, the loss of every epoch, and, when Anomaly Awareness ran to its end, its settings
//! and the weights its runs left (the anomaly-aware run's and the control's, each if it ran). Opening it restores the run without training; the evaluation (AUCs,
//! curves, pictures) is recomputed from the weights, which gives the same numbers on the same build.
//!
//! The file is a model file (`table::model_file`'s safetensors format, `format` and `method` keys) whose
//! `content` key says "digits-session": stage 1's layers are tensors `stage1.<layer>.weight`/`.bias`, stage
//! 2's `aware.<layer>…` and `control.<layer>…`. A table reader refuses it with a sentence naming the right place, and this
//! reader refuses a table model the same way.

use std::collections::HashMap;

use safetensors::tensor::{SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::awareness::AwarenessSettings;
use crate::baselines::saved::TensorWriter;
use crate::data::IMAGE_PIXELS;
use crate::models::{Likelihood, VaeWeights};
use crate::table::model_file::{read_vae, write_vae, Architecture, ModelFileError, FORMAT, METHOD};
use crate::TrainSettings;

/// The value of the `content` metadata key of a session file.
pub const CONTENT: &str = "digits-session";
const VERSION: &str = "1";
/// A session's weights are a few MB (784 inputs, at most 1,024 hidden units); anything far larger is not one.
const MAX_FILE_BYTES: usize = 64 << 20;
/// More epochs than the settings allow cannot be a real run's record.
const MAX_EPOCHS: usize = 10_000;

/// The loss of one epoch of stage 1, as the loss panel draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLoss {
    pub epoch: usize,
    pub train_loss: f32,
    pub validation_loss: Option<f32>,
}

/// Anomaly Awareness as it ran: its settings, and the weights each finished run left (with the labelled
/// anomalies, and the control without them, which the page compares with the same settings only).
#[derive(Clone, Debug, PartialEq)]
pub struct SavedAwareness {
    pub settings: AwarenessSettings,
    pub aware: Option<VaeWeights>,
    pub control: Option<VaeWeights>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DigitSession {
    pub settings: TrainSettings,
    pub stage1: VaeWeights,
    pub losses: Vec<EpochLoss>,
    pub awareness: Option<SavedAwareness>,
}

#[derive(Serialize, Deserialize)]
struct AwarenessRecord {
    settings: AwarenessSettings,
    aware: bool,
    control: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SessionFileError {
    #[error("{0}")]
    File(#[from] ModelFileError),
    #[error("this is a model of a table, not a digits session: open it in \"Score your own events\" with \"Score with a saved model\"")]
    TableModel,
    #[error("this session file does not fit its own settings: {0}")]
    Mismatch(String),
}

impl DigitSession {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut tensors = TensorWriter::default();
        write_vae(&mut tensors, "stage1.", &self.stage1);
        if let Some(awareness) = &self.awareness {
            for (prefix, weights) in [("aware.", &awareness.aware), ("control.", &awareness.control)] {
                if let Some(weights) = weights {
                    write_vae(&mut tensors, prefix, weights);
                }
            }
        }
        let architecture = Architecture {
            inputs: self.stage1.inputs(),
            hidden: self.stage1.hidden(),
            latent: self.stage1.encoder_mean.outputs,
            activation: "relu".into(),
            likelihood: Likelihood::Bernoulli,
        };
        let mut metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("format_version".to_string(), VERSION.to_string()),
            ("method".to_string(), METHOD.to_string()),
            ("content".to_string(), CONTENT.to_string()),
            ("architecture".to_string(), json(&architecture)),
            ("training".to_string(), json(&self.settings)),
            ("losses".to_string(), json(&self.losses)),
        ]);
        if let Some(a) = &self.awareness {
            let record = AwarenessRecord { settings: a.settings.clone(), aware: a.aware.is_some(), control: a.control.is_some() };
            metadata.insert("awareness".to_string(), json(&record));
        }
        let views = tensors.tensors.iter().map(|t| (t.name.clone(), TensorView::new(t.dtype, t.shape.clone(), &t.bytes).expect("the shape matches the data")));
        safetensors::serialize(views, Some(metadata)).expect("serialising tensors of matching shapes cannot fail")
    }

    /// Reads a session file; every value is checked before use, and nothing is allocated beyond what the
    /// file itself holds.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionFileError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(ModelFileError::TooLarge(bytes.len()).into());
        }
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| ModelFileError::NotSafetensors(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        if metadata.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(ModelFileError::NotOurs.into());
        }
        if metadata.get("content").map(String::as_str) != Some(CONTENT) {
            return Err(SessionFileError::TableModel);
        }
        match metadata.get("format_version") {
            Some(v) if v == VERSION => {}
            other => return Err(ModelFileError::Version(other.cloned().unwrap_or_else(|| "(none)".into())).into()),
        }
        match metadata.get("method") {
            Some(method) if method == METHOD => {}
            other => return Err(ModelFileError::Method(other.cloned().unwrap_or_default().chars().take(40).collect()).into()),
        }
        let field = |key: &str| metadata.get(key).ok_or_else(|| ModelFileError::Damaged(format!("its metadata has no \"{key}\"")));
        fn parse<T: serde::de::DeserializeOwned>(key: &str, text: &str) -> Result<T, ModelFileError> {
            serde_json::from_str(text).map_err(|e| ModelFileError::Damaged(format!("\"{key}\": {}", e.to_string().chars().take(120).collect::<String>())))
        }
        let architecture: Architecture = parse("architecture", field("architecture")?)?;
        let settings: TrainSettings = parse("training", field("training")?)?;
        let losses: Vec<EpochLoss> = parse("losses", field("losses")?)?;
        let awareness: Option<AwarenessRecord> = metadata.get("awareness").map(|text| parse("awareness", text)).transpose()?;

        if let Some(problem) = settings.problems().first() {
            return Err(SessionFileError::Mismatch(problem.message.clone()));
        }
        let vae = &settings.model.vae;
        if (architecture.inputs, architecture.hidden, architecture.latent) != (IMAGE_PIXELS, vae.hidden_units, vae.latent_dims)
            || architecture.likelihood != Likelihood::Bernoulli
        {
            return Err(SessionFileError::Mismatch(format!(
                "its network is {}-{}-{} but its settings ask for {IMAGE_PIXELS}-{}-{} on digit pictures",
                architecture.inputs, architecture.hidden, architecture.latent, vae.hidden_units, vae.latent_dims
            )));
        }
        if losses.len() > MAX_EPOCHS.min(settings.model.optimiser.epochs)
            || losses.iter().enumerate().any(|(i, l)| l.epoch != i + 1 || !l.train_loss.is_finite() || l.validation_loss.is_some_and(|v| !v.is_finite()))
        {
            return Err(SessionFileError::Mismatch("its losses are not one finite number per epoch of its run".into()));
        }
        if let Some(record) = &awareness {
            if let Some(problem) = record.settings.problems(&settings).first() {
                return Err(SessionFileError::Mismatch(format!("its Anomaly Awareness settings: {}", problem.message)));
            }
        }
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| ModelFileError::Damaged(e.to_string()))?;
        let (inputs, hidden, latent) = (architecture.inputs, architecture.hidden, architecture.latent);
        let stage1 = read_vae(&tensors, "stage1.", inputs, hidden, latent)?;
        let read = |wanted: bool, prefix: &str| wanted.then(|| read_vae(&tensors, prefix, inputs, hidden, latent)).transpose();
        let awareness = match awareness {
            Some(record) => Some(SavedAwareness { aware: read(record.aware, "aware.")?, control: read(record.control, "control.")?, settings: record.settings }),
            None => None,
        };
        Ok(Self { settings, stage1, losses, awareness })
    }
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::DenseWeights;
    use crate::rng::SeededRng;
    use crate::table::model_file::ModelFile;

    fn weights(hidden: usize, latent: usize, seed: u64) -> VaeWeights {
        let mut rng = SeededRng::new(seed);
        let mut layer = |inputs: usize, outputs: usize| DenseWeights {
            inputs,
            outputs,
            weight: (0..inputs * outputs).map(|_| rng.normal() * 0.1).collect(),
            bias: (0..outputs).map(|_| rng.normal() * 0.1).collect(),
        };
        VaeWeights {
            encoder_hidden: layer(IMAGE_PIXELS, hidden),
            encoder_mean: layer(hidden, latent),
            encoder_log_variance: layer(hidden, latent),
            decoder_hidden: layer(latent, hidden),
            decoder_output: layer(hidden, IMAGE_PIXELS),
        }
    }

    fn session(with_stage2: bool) -> DigitSession {
        let mut settings = TrainSettings::default();
        settings.model.vae.hidden_units = 32;
        settings.model.vae.latent_dims = 4;
        settings.model.optimiser.epochs = 2;
        DigitSession {
            stage1: weights(32, 4, 1),
            losses: vec![
                EpochLoss { epoch: 1, train_loss: 180.5, validation_loss: Some(170.25) },
                EpochLoss { epoch: 2, train_loss: 150.0, validation_loss: None },
            ],
            awareness: with_stage2.then(|| SavedAwareness { settings: AwarenessSettings::default(), aware: Some(weights(32, 4, 3)), control: Some(weights(32, 4, 2)) }),
            settings,
        }
    }

    /// Writes the smallest real session (8 hidden units, 2 latent, stage 1 only) where the fuzz corpus
    /// keeps it: `KEEP_SESSION_CORPUS=1 cargo test -p anomaly-engine --lib digit_session`.
    #[test]
    fn the_fuzz_corpus_holds_a_small_real_session() {
        let mut settings = TrainSettings::default();
        settings.model.vae.hidden_units = 8;
        settings.model.vae.latent_dims = 2;
        settings.model.optimiser.epochs = 1;
        let small = DigitSession { settings, stage1: weights(8, 2, 4), losses: vec![EpochLoss { epoch: 1, train_loss: 200.0, validation_loss: Some(199.5) }], awareness: None };
        let bytes = small.to_bytes();
        assert!(bytes.len() < 64 << 10, "the fuzzers take inputs up to 64 kB ({} bytes)", bytes.len());
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fuzz-corpus/model_file/small-digits-session.safetensors");
        if std::env::var_os("KEEP_SESSION_CORPUS").is_some() {
            std::fs::write(path, &bytes).unwrap();
        }
        // The kept file is a session this build reads (its bytes may differ: metadata order is free).
        assert!(DigitSession::from_bytes(&std::fs::read(path).unwrap()).is_ok());
    }

    #[test]
    fn a_session_reads_back_identical_with_and_without_stage_2() {
        for with_stage2 in [false, true] {
            let saved = session(with_stage2);
            assert_eq!(DigitSession::from_bytes(&saved.to_bytes()).unwrap(), saved);
        }
    }

    #[test]
    fn each_reader_sends_the_other_kind_of_file_to_its_place() {
        let bytes = session(true).to_bytes();
        assert_eq!(ModelFile::from_bytes(&bytes), Err(ModelFileError::DigitSession));
        // A table model's metadata, without the session's `content`.
        let table_like = {
            let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
            let mut metadata = header.metadata().clone().unwrap();
            metadata.remove("content");
            let tensors = SafeTensors::deserialize(&bytes).unwrap();
            let views: Vec<(String, TensorView)> = tensors.tensors().into_iter().collect();
            safetensors::serialize(views, Some(metadata)).unwrap()
        };
        assert_eq!(DigitSession::from_bytes(&table_like), Err(SessionFileError::TableModel));
    }

    /// Rewrites one metadata value of a saved session.
    fn with_metadata(bytes: &[u8], key: &str, value: &str) -> Vec<u8> {
        let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
        let mut metadata = header.metadata().clone().unwrap();
        metadata.insert(key.into(), value.into());
        let tensors = SafeTensors::deserialize(bytes).unwrap();
        let views: Vec<(String, TensorView)> = tensors.tensors().into_iter().collect();
        safetensors::serialize(views, Some(metadata)).unwrap()
    }

    #[test]
    fn damaged_foreign_and_hostile_files_are_refused_with_a_sentence() {
        let bytes = session(true).to_bytes();
        let refused = |bytes: &[u8]| DigitSession::from_bytes(bytes).unwrap_err().to_string();
        assert!(refused(b"not a session").starts_with("this is not a safetensors file"));
        // Cut short: the header no longer covers the file.
        assert!(refused(&bytes[..bytes.len() - 100]).contains("file not fully covered"), "{}", refused(&bytes[..bytes.len() - 100]));
        // A billion hidden units claimed: refused from the metadata, before any tensor is read.
        let huge = with_metadata(&bytes, "architecture", r#"{"inputs":784,"hidden":1000000000,"latent":4,"activation":"relu","likelihood":"Bernoulli"}"#);
        assert_eq!(refused(&huge), "this session file does not fit its own settings: its network is 784-1000000000-4 but its settings ask for 784-32-4 on digit pictures");
        let training = r#"{"normal_digits":[0],"hidden_units":1000000000,"latent_dims":4,"beta":1.0,"score_with_kl":false,"learning_rate":0.001,"batch_size":64,"epochs":2,"seed":1}"#;
        assert!(refused(&with_metadata(&huge, "training", training)).starts_with("this session file does not fit its own settings: "));
        assert_eq!(refused(&with_metadata(&bytes, "losses", "[{\"epoch\":3,\"train_loss\":1.0,\"validation_loss\":null}]")),
            "this session file does not fit its own settings: its losses are not one finite number per epoch of its run");
        assert!(refused(&with_metadata(&bytes, "format_version", "7")).contains("version 7"));
        assert!(refused(&with_metadata(&bytes, "awareness", "{not json")).starts_with("the model file is damaged: \"awareness\""));
        // A NaN weight.
        let mut poisoned = session(false);
        poisoned.stage1.decoder_output.bias[3] = f32::NAN;
        assert!(refused(&poisoned.to_bytes()).contains("is not a finite number"));
    }
}
