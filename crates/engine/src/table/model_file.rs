//! A trained table model as a file: the VAE's weights as safetensors, and in the file's metadata
//! everything needed to score a row exactly as the page does (feature names, the log and standardisation
//! of each feature, the missing-value policy, the likelihood, whether the KL term is added) plus the
//! training settings, for the record. Python reads it with `safetensors` and numpy (README).
//!
//! A file may also carry the classical methods of a finished comparison (`saved_baselines`): their
//! arrays as tensors named `baselines.<method>.…`, their numbers under the `baselines` metadata key.
//! Such a file is format version 2, so that a build that reads only version 1 refuses it rather than
//! scoring without them.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use super::prepare::Preprocessing;
use super::awareness::TableAwarenessSettings;
use super::saved_baselines::{self, SavedBaselines};
use crate::baselines::saved::{TensorReader, TensorWriter};
use crate::models::{DenseWeights, Likelihood, ScoringModel, VaeWeights};
use crate::settings::ModelSettings;

/// The value of the `format` metadata key; files without it are not ours.
pub const FORMAT: &str = "anomaly-playground-vae";
/// Files with the classical methods are version 2; files with the autoencoder alone stay version 1.
pub const FORMAT_VERSION: u32 = 2;
const AUTOENCODER_ONLY_VERSION: u32 = 1;
/// The value of the `method` metadata key: which method's weights the file holds. Files written before the
/// key existed hold a VAE, so a file without it is read as one.
pub const METHOD: &str = "vae";
/// Model files are small (a few MB at most); anything far larger is not one.
const MAX_FILE_BYTES: usize = 256 << 20;

const LAYERS: [&str; 5] = ["encoder_hidden", "encoder_mean", "encoder_log_variance", "decoder_hidden", "decoder_output"];

/// Written into the metadata so that a reader of the file knows what the score is without our code.
const SCORE_DEFINITION: &str = "Each feature is log-transformed if `preprocessing` says so, then standardised as (x - mean) / std. \
h = relu(encoder_hidden(x)); mu = encoder_mean(h); x_hat = decoder_output(relu(decoder_hidden(mu))). \
anomaly_score = 0.5 * sum((x - x_hat)^2), plus, if score_with_kl, -0.5 * sum(1 + log_var - mu^2 - exp(log_var)) \
with log_var = encoder_log_variance(h). Every layer computes x @ weight.T + bias (weight is outputs x inputs).";

#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile {
    pub weights: VaeWeights,
    pub likelihood: Likelihood,
    pub score_with_kl: bool,
    pub preprocessing: Preprocessing,
    pub settings: ModelSettings,
    /// The classical methods of a comparison on the same file, if one had finished.
    pub baselines: Option<SavedBaselines>,
    /// The Anomaly Awareness fine-tunings the autoencoder had after training, in order (the
    /// `fine_tuned` metadata key, written when there was one).
    pub fine_tuned: Vec<TableAwarenessSettings>,
}

/// What the metadata's `architecture` value holds.
#[derive(Serialize, Deserialize)]
pub(crate) struct Architecture {
    pub inputs: usize,
    pub hidden: usize,
    pub latent: usize,
    pub activation: String,
    pub likelihood: Likelihood,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelFileError {
    #[error("this is not a safetensors file ({})", short(.0))]
    NotSafetensors(String),
    #[error("this safetensors file is not an Anomaly Playground model (its metadata has no format \"{FORMAT}\")")]
    NotOurs,
    #[error("this model file has format version {}, but this build reads versions {AUTOENCODER_ONLY_VERSION} and {FORMAT_VERSION}; use the build that wrote it", short(.0))]
    Version(String),
    #[error("the model file is damaged: {}", short(.0))]
    Damaged(String),
    #[error("the model file is {0} bytes; a model file is at most {MAX_FILE_BYTES} bytes")]
    TooLarge(usize),
    #[error("this is a saved digits session, not a model of a table: open it in \"Handwritten digits\" with \"Open a session\"")]
    DigitSession,
    #[error("this model file holds a model of the method \"{}\", which this build cannot score; only \"{METHOD}\" models can be read here. Use the build that wrote it", short(.0))]
    Method(String),
}

impl ModelFile {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut tensors = TensorWriter::default();
        write_vae(&mut tensors, "", &self.weights);
        let baselines = self.baselines.as_ref().map(|b| b.save(&mut tensors));
        let architecture = Architecture {
            inputs: self.weights.inputs(),
            hidden: self.weights.hidden(),
            latent: self.weights.encoder_mean.outputs,
            activation: "relu".into(),
            likelihood: self.likelihood,
        };
        let version = if baselines.is_some() { FORMAT_VERSION } else { AUTOENCODER_ONLY_VERSION };
        let mut metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("format_version".to_string(), version.to_string()),
            ("method".to_string(), METHOD.to_string()),
            ("architecture".to_string(), json(&architecture)),
            ("feature_names".to_string(), json(&self.preprocessing.features.iter().map(|f| f.name.clone()).collect::<Vec<_>>())),
            ("preprocessing".to_string(), json(&self.preprocessing)),
            ("score_with_kl".to_string(), self.score_with_kl.to_string()),
            ("score".to_string(), SCORE_DEFINITION.to_string()),
            ("training".to_string(), json(&self.settings)),
        ]);
        if !self.fine_tuned.is_empty() {
            metadata.insert("fine_tuned".to_string(), json(&self.fine_tuned));
        }
        if let Some(baselines) = baselines {
            metadata.insert(saved_baselines::METADATA_KEY.to_string(), baselines);
        }
        let views = tensors.tensors.iter().map(|t| {
            (t.name.clone(), TensorView::new(t.dtype, t.shape.clone(), &t.bytes).expect("the shape matches the data"))
        });
        safetensors::serialize(views, Some(metadata)).expect("serialising tensors of matching shapes cannot fail")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelFileError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(ModelFileError::TooLarge(bytes.len()));
        }
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| ModelFileError::NotSafetensors(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        if metadata.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(ModelFileError::NotOurs);
        }
        if metadata.get("content").map(String::as_str) == Some(crate::digit_session::CONTENT) {
            return Err(ModelFileError::DigitSession);
        }
        let version = match metadata.get("format_version") {
            Some(v) if v == &AUTOENCODER_ONLY_VERSION.to_string() => AUTOENCODER_ONLY_VERSION,
            Some(v) if v == &FORMAT_VERSION.to_string() => FORMAT_VERSION,
            Some(v) => return Err(ModelFileError::Version(v.clone())),
            None => return Err(ModelFileError::Version("(none)".into())),
        };
        match metadata.get("method") {
            None => {}
            Some(method) if method == METHOD => {}
            Some(other) => return Err(ModelFileError::Method(other.chars().take(40).collect())),
        }
        let field = |key: &str| metadata.get(key).ok_or_else(|| ModelFileError::Damaged(format!("its metadata has no \"{key}\"")));
        let parse = |key: &str| -> Result<serde_json::Value, ModelFileError> {
            serde_json::from_str(field(key)?).map_err(|e| ModelFileError::Damaged(format!("\"{key}\" is not valid JSON ({e})")))
        };
        let architecture: Architecture =
            serde_json::from_value(parse("architecture")?).map_err(|e| ModelFileError::Damaged(format!("\"architecture\": {e}")))?;
        let preprocessing: Preprocessing =
            serde_json::from_value(parse("preprocessing")?).map_err(|e| ModelFileError::Damaged(format!("\"preprocessing\": {e}")))?;
        let settings: ModelSettings =
            serde_json::from_value(parse("training")?).map_err(|e| ModelFileError::Damaged(format!("\"training\": {e}")))?;
        let score_with_kl = match field("score_with_kl")?.as_str() {
            "true" => true,
            "false" => false,
            other => return Err(ModelFileError::Damaged(format!("\"score_with_kl\" is {other:?}, not true or false"))),
        };
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| ModelFileError::Damaged(e.to_string()))?;
        let inputs = architecture.inputs;
        let weights = read_vae(&tensors, "", inputs, architecture.hidden, architecture.latent)?;
        if preprocessing.features.len() != inputs {
            return Err(ModelFileError::Damaged(format!(
                "it describes {} features but the network takes {inputs}",
                preprocessing.features.len()
            )));
        }
        if preprocessing.features.iter().any(|f| !f.mean.is_finite() || !(f.std.is_finite() && f.std > 0.0)) {
            return Err(ModelFileError::Damaged("a feature's mean or standard deviation is not a usable number".into()));
        }
        let baselines = match (version, metadata.get(saved_baselines::METADATA_KEY)) {
            (FORMAT_VERSION, Some(text)) => Some(
                SavedBaselines::load(text, &TensorReader { tensors: &tensors })
                    .map_err(|e| ModelFileError::Damaged(format!("its classical methods cannot be read: {e}")))?,
            ),
            (FORMAT_VERSION, None) => return Err(ModelFileError::Damaged("a version 2 file has no \"baselines\" entry".into())),
            _ => None,
        };
        let fine_tuned = match metadata.get("fine_tuned") {
            Some(text) => serde_json::from_str(text).map_err(|e| ModelFileError::Damaged(format!("\"fine_tuned\": {e}")))?,
            None => Vec::new(),
        };
        Ok(Self { weights, likelihood: architecture.likelihood, score_with_kl, preprocessing, settings, baselines, fine_tuned })
    }

    /// The model as the scorers take it.
    pub fn scoring_model(&self) -> ScoringModel {
        ScoringModel::Vae { weights: self.weights.clone(), likelihood: self.likelihood, with_kl: self.score_with_kl }
    }

    /// The feature names, in the order the network takes them.
    pub fn feature_names(&self) -> Vec<&str> {
        self.preprocessing.features.iter().map(|f| f.name.as_str()).collect()
    }
}

/// Writes a VAE's five layers as tensors `<prefix><layer>.weight` (outputs × inputs) and `.bias`.
pub(crate) fn write_vae(tensors: &mut TensorWriter, prefix: &str, weights: &VaeWeights) {
    let layers = [&weights.encoder_hidden, &weights.encoder_mean, &weights.encoder_log_variance, &weights.decoder_hidden, &weights.decoder_output];
    for (name, layer) in LAYERS.iter().zip(layers) {
        tensors.f32s(format!("{prefix}{name}.weight"), &[layer.outputs, layer.inputs], &layer.weight);
        tensors.f32s(format!("{prefix}{name}.bias"), &[layer.outputs], &layer.bias);
    }
}

/// Reads the layers [`write_vae`] wrote, each checked against the architecture (F32, its shape, finite
/// values) before its values are copied, so a file cannot make us allocate more than it holds.
pub(crate) fn read_vae(tensors: &SafeTensors, prefix: &str, inputs: usize, hidden: usize, latent: usize) -> Result<VaeWeights, ModelFileError> {
    let shapes = [(inputs, hidden), (hidden, latent), (hidden, latent), (latent, hidden), (hidden, inputs)];
    let mut layers = Vec::with_capacity(5);
    for (name, (layer_inputs, outputs)) in LAYERS.iter().zip(shapes) {
        let read = |suffix: &str, shape: Vec<usize>| -> Result<Vec<f32>, ModelFileError> {
            let key = format!("{prefix}{name}.{suffix}");
            let view = tensors.tensor(&key).map_err(|_| ModelFileError::Damaged(format!("the tensor \"{key}\" is missing")))?;
            if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
                return Err(ModelFileError::Damaged(format!(
                    "the tensor \"{key}\" is {:?} {:?}; the architecture needs F32 {shape:?}",
                    view.dtype(),
                    view.shape()
                )));
            }
            let values: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            if values.iter().any(|v| !v.is_finite()) {
                return Err(ModelFileError::Damaged(format!("the tensor \"{key}\" holds a value that is not a finite number")));
            }
            Ok(values)
        };
        layers.push(DenseWeights { inputs: layer_inputs, outputs, weight: read("weight", vec![outputs, layer_inputs])?, bias: read("bias", vec![outputs])? });
    }
    let mut layers = layers.into_iter();
    let mut next = || layers.next().expect("five layers were read");
    Ok(VaeWeights { encoder_hidden: next(), encoder_mean: next(), encoder_log_variance: next(), decoder_hidden: next(), decoder_output: next() })
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

/// A reader's detail cut to a readable length: a damaged file's JSON can quote kilobytes of itself.
fn short(detail: &str) -> String {
    super::error::cut_for_a_sentence(detail, 160)
}
