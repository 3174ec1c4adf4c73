//! The only things that cross between the page and the training worker.
//!
//! Messages are plain serde values (converted with `serde-wasm-bindgen`). Progress travels as small
//! summaries; whole tensors never cross.

use anomaly_engine::awareness::{AwarenessSettings, FamilyAuc, FamilyDetail};
use anomaly_engine::data::anomalies::AnomalyFamily;
use anomaly_engine::{Evaluation, TrainSettings};
use serde::{Deserialize, Serialize};

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Start training with these settings, or resume a paused run that has the same settings.
    Train { settings: TrainSettings },
    /// Stop after the current chunk of steps; the model and its history are kept.
    Pause,
    /// Train one mini-batch or one epoch, then pause.
    Step { settings: TrainSettings, unit: StepUnit },
    /// Stage 2 (Anomaly Awareness): fine-tune the trained model with a few labelled anomalies. Always
    /// starts from the stage-1 weights, so it can be retried with other settings.
    FineTune { settings: AwarenessSettings },
    /// Forget the model and its history.
    Reset,
    /// Train `steps` mini-batches of the benchmark model and report the time per step (used by `make bench`).
    Benchmark { steps: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepUnit {
    Batch,
    Epoch,
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The digits are loaded and training can start.
    DataReady { digits: usize },
    /// The digit file could not be loaded; nothing can be trained.
    DataFailed { message: String },
    /// A run started from scratch with these settings (history on the page should be cleared).
    RunStarted { settings: TrainSettings, train_rows: usize, steps_per_epoch: usize },
    Progress(Progress),
    EpochEnded { epoch: usize, train_loss: f32, validation_loss: Option<f32> },
    Evaluated(Box<Evaluation>),
    Paused,
    Finished,
    /// The loss stopped being a finite number; the last good weights are kept.
    Diverged { message: String },
    /// The worker hit a bug and cannot go on; the page offers to start a new one.
    Crashed { message: String },
    /// Anything else that went wrong, said as a sentence for the visitor.
    Failed { message: String },
    ResetDone,
    /// A few examples of each synthetic anomaly family, for the page's thumbnails.
    FamilyThumbnails(Vec<FamilyThumbnail>),
    /// Stage 2 started: the AUC of every family before fine-tuning.
    FineTuneStarted { before: Vec<FamilyAuc>, margin: f32, labelled: usize, total_steps: usize },
    FineTuneProgress { step: usize, total_steps: usize, lambda: f32, loss: f32 },
    FineTuneFinished { results: Vec<FamilyAuc>, details: Vec<FamilyDetail> },
    BenchmarkResult { steps: usize, milliseconds_per_step: f64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub epochs_done: usize,
    pub epochs: usize,
    pub step_in_epoch: usize,
    pub steps_per_epoch: usize,
    pub total_steps: usize,
    /// Per-step training losses since the previous progress message (for the loss curve).
    pub recent_losses: Vec<f32>,
    pub samples_per_second: f64,
    pub seconds_left: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyThumbnail {
    pub family: AnomalyFamily,
    pub name: String,
    pub description: String,
    /// 28 × 28 intensities × 255 each.
    pub images: Vec<Vec<u8>>,
}
