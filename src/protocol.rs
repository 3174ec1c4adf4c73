//! The only things that cross between the page and the training worker.
//!
//! Messages are plain serde values (converted with `serde-wasm-bindgen`). Progress travels as small
//! summaries; whole tensors never cross.

use anomaly_engine::jets::panels::{DirectionPanel, StudyIntro};
use anomaly_engine::jets::study::{AucRow, StudySettings};
use anomaly_engine::objects::panels::{Similarities, StudyIntro as ObjectStudyIntro, StudyResult};
use anomaly_engine::objects::study::StudySettings as ObjectStudySettings;
use anomaly_engine::resonance::hunt::{Figures, HuntSettings};
use anomaly_engine::resonance::panels::{AfterCut, FeatureClosure, JetMasses, MassHistogram};
use anomaly_engine::awareness::{AwarenessSettings, FamilyAuc, FamilyDetail};
use anomaly_engine::data::anomalies::AnomalyFamily;
use anomaly_engine::models::VaeWeights;
use anomaly_engine::table::awareness::{AwarenessSummary, TableAwarenessSettings};
use anomaly_engine::table::compare::{ComparisonChoice, ComparisonSummary};
use anomaly_engine::table::prepare::TableSetup;
use anomaly_engine::table::run::{TableResults, ThresholdCounts, TrainingSummary};
use anomaly_engine::table::ColumnSummary;
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
    /// starts from the stage-1 weights, so it can be retried with other settings. With `control`, the
    /// same steps leave the anomalies out: what fine-tuning gains without them.
    FineTune {
        settings: AwarenessSettings,
        #[serde(default)]
        control: bool,
    },
    /// Forget the model and its history.
    Reset,
    /// Hand the finished digits session (settings, weights, losses, Anomaly Awareness) to the page as a
    /// file (`anomaly_engine::digit_session`). Opening one travels as a file message with purpose
    /// [`FilePurpose::Session`].
    SaveSession,
    /// Hand the digit network as it is now (the fine-tuned one after stage 2) to the page as an ONNX graph
    /// (`anomaly_engine::table::onnx::export_digits`).
    DownloadDigitsOnnx,
    /// Train `steps` mini-batches of the benchmark model and report the time per step (used by `make bench`).
    Benchmark { steps: usize },
    /// The visitor's own table (a file itself travels beside a message, see [`FILE_MESSAGE_KEY`]).
    Table(TableCommand),
    /// Where scoring should run from now on.
    UseBackend(BackendChoice),
    /// How many of the threaded build's threads to use: 0 for all of them. The single-threaded build
    /// keeps one whatever is asked.
    UseThreads(usize),
    /// Score the 10,000 digits with an untrained digit VAE on this backend and report the time and the
    /// weights (used by `make bench`).
    BenchmarkDigitScoring { backend: BackendChoice },
    /// Fetch Fashion-MNIST (about 4.4 MB gzip), only when a visitor asks for its families: most visits
    /// never need it, and a phone on a slow network should not pay for it.
    LoadFashion,
    /// The resonance hunt.
    Hunt(HuntCommand),
    /// The jet-image study.
    Jets(JetCommand),
    /// The Events view's AnomalyCLR study.
    Events(EventsCommand),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EventsCommand {
    /// Train the encoder and both scoring autoencoders from scratch, on the toy's events or (with
    /// `from_file`) on the file opened last.
    Start { settings: ObjectStudySettings, from_file: bool },
    /// Save the toy's events for these settings as CSV (one row an event, named slot columns).
    DownloadToy { settings: ObjectStudySettings },
    Pause,
    /// Go on with a paused study.
    Resume,
    /// Train one batch or one epoch of the fit in progress, then pause.
    Step { unit: StepUnit },
    /// Time `steps` contrastive training steps (batch 256, three views) of the default transformer
    /// (used by `make bench`).
    Benchmark { steps: usize },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JetCommand {
    /// Generate the jets and train every direction of the study from scratch.
    Start { settings: StudySettings },
    Pause,
    /// Go on with a paused study.
    Resume,
    /// Train one batch or one epoch of the direction in progress, then pause.
    Step { unit: StepUnit },
    /// Train `steps` batches of 64 toy jet images with the convolutional autoencoder and report the
    /// time per step (used by `make bench`).
    Benchmark { steps: usize },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HuntCommand {
    /// Generate the toy data and train every fit of the hunt from scratch.
    Start { settings: HuntSettings },
    Pause,
    /// Go on with a paused hunt.
    Resume,
    /// Train one batch or one epoch of the fit in progress, then pause.
    Step { unit: StepUnit },
}

/// Where the visitor wants scoring to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendChoice {
    /// WebGPU when the browser offers it, otherwise the CPU.
    #[default]
    Automatic,
    WebGpu,
    Cpu,
}

/// Where scoring actually runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    WebGpu,
    Cpu,
}

/// What the page shows about the scoring backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendStatus {
    pub choice: BackendChoice,
    /// None while WebGPU is still being set up.
    pub active: Option<Backend>,
    /// The WebGPU adapter, once one was found.
    pub adapter: Option<String>,
    /// Why WebGPU is not used (or stopped being used), as a sentence for the visitor.
    pub note: Option<String>,
    /// The CPU threads training and scoring use.
    pub threads: ThreadStatus,
}

/// The worker's build and the threads it computes on (README, "Every core").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadStatus {
    /// Threads in the threaded build's pool; 0 in the single-threaded build.
    pub pool: usize,
    /// What the visitor asked for: 0 for all of the pool, else a count.
    pub choice: usize,
    /// Threads the engine splits its work over now (1 in the single-threaded build).
    pub used: usize,
}

/// A message carrying a `File` is a plain object `{ file: File, purpose: "events" | "background" }`
/// rather than a serde value, because a `File` cannot be serialised; the browser hands the worker a
/// reference to it, not a copy.
pub const FILE_MESSAGE_KEY: &str = "file";
/// A message from the worker carrying a finished download: `{ download: Blob, name: "…" }`.
pub const DOWNLOAD_MESSAGE_KEY: &str = "download";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilePurpose {
    /// The rows to score.
    Events,
    /// A separate file of background rows to train on.
    Background,
    /// A model saved earlier (`.safetensors`), to score with instead of training.
    Model,
    /// A digits session saved earlier (`.safetensors`), to restore without training.
    Session,
    /// The Events view's own table of events as object lists.
    ObjectEvents,
}

impl FilePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            FilePurpose::Events => "events",
            FilePurpose::Background => "background",
            FilePurpose::Model => "model",
            FilePurpose::Session => "session",
            FilePurpose::ObjectEvents => "object-events",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TableCommand {
    /// Generate the toy collider events and load them as if they were a file.
    /// The toy events: the dijet toy, or with `several_signals` the toy with four kinds of signal.
    Simulate { rows: usize, signal_fraction: f64, seed: u64, several_signals: bool },
    /// Stop loading a file; whatever was loaded before stays.
    CancelLoad,
    /// Train on the loaded table with these choices (or resume a paused run with the same choices), then
    /// score every row.
    Train { setup: TableSetup },
    Pause,
    /// Score every row again with the same weights, on the backend now chosen.
    Rescore,
    /// Count the rows at or above a score.
    Threshold { value: f32 },
    /// Write the scored file and hand it to the page.
    Download,
    /// Hand the loaded toy events to the page as CSV.
    DownloadSample,
    /// Hand the trained model to the page as a safetensors file (weights, preprocessing, settings).
    DownloadModel,
    /// Hand the trained autoencoder to the page as an ONNX graph (`anomaly_engine::table::onnx`).
    DownloadOnnx,
    /// Score every row with the model file loaded earlier instead of training; the label (if any) is
    /// the one `setup` chooses.
    ScoreWithModel { setup: TableSetup },
    /// Score every row again on this backend and report the time and the model's weights (used by
    /// `make bench`).
    BenchmarkScoring { backend: BackendChoice },
    /// Fit the ticked classical methods on the rows `setup` trains on and score every row with each.
    Compare { setup: TableSetup, choice: ComparisonChoice },
    /// Stop the comparison; the last finished one stays.
    CancelCompare,
    /// The anomaly kinds `column` names among the anomalous rows (answered with `AwarenessKinds`).
    AwarenessKinds { setup: TableSetup, column: usize },
    /// Anomaly Awareness on the trained autoencoder: the control run, then the fine-tuning it keeps.
    FineTune { settings: TableAwarenessSettings },
    /// Stop the fine-tuning; the model trained before it is put back.
    CancelFineTune,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepUnit {
    Batch,
    Epoch,
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The worker is listening for commands (the digits may still be loading). A command sent before it
    /// would find no listener, so the views that need no digits wait for this.
    Listening,
    /// The digits are loaded and training can start.
    DataReady { digits: usize },
    /// The digit file could not be loaded; nothing can be trained.
    DataFailed { message: String },
    /// Fashion-MNIST is loaded (after [`Command::LoadFashion`]): its classes can be shown and evaluated in
    /// Anomaly Awareness.
    FashionReady { images: usize, thumbnail: FamilyThumbnail },
    /// Fashion-MNIST could not be loaded (missing or corrupt); the rest of the page works without it.
    FashionMissing { message: String },
    /// A saved session was read: the page takes its settings (its run follows as RunStarted, the epochs'
    /// losses, the fine-tuning's results, its evaluation and Finished, without training).
    SessionOpened { file_name: String, settings: TrainSettings, awareness: Option<AwarenessSettings> },
    /// A run started from scratch with these settings (history on the page should be cleared).
    RunStarted { settings: TrainSettings, train_rows: usize, steps_per_epoch: usize },
    /// What a run says as it trains: the same for the digit run and the table run.
    Run { of: RunOf, event: RunEvent },
    /// The test digits scored and summarised, and where they were scored.
    Evaluated { evaluation: Box<Evaluation>, backend: Backend },
    Finished,
    /// The worker hit a bug and cannot go on; the page offers to start a new one.
    Crashed { message: String },
    ResetDone,
    /// A few examples of each synthetic anomaly family, for the page's thumbnails.
    FamilyThumbnails(Vec<FamilyThumbnail>),
    /// Stage 2 is ready to run: the AUCs before fine-tuning (the evaluation images scored on `backend`).
    /// `control` marks the control run, without the labelled anomalies.
    FineTuneStarted {
        before: Vec<FamilyAuc>,
        margin: f32,
        labelled: usize,
        total_steps: usize,
        backend: Backend,
        settings: AwarenessSettings,
        control: bool,
    },
    FineTuneProgress { step: usize, total_steps: usize, lambda: f32, loss: f32 },
    FineTuneFinished { results: Vec<FamilyAuc>, details: Vec<FamilyDetail>, backend: Backend, control: bool },
    BenchmarkResult { steps: usize, milliseconds_per_step: f64 },
    Table(Box<TableEvent>),
    Backend(BackendStatus),
    DigitScoringBenchmark { rows: usize, milliseconds: f64, backend: Backend, weights: VaeWeights },
    Hunt(Box<HuntEvent>),
    Jets(Box<JetEvent>),
    Events(Box<EventsEvent>),
}

/// What the Events view's study says as it goes (its fits speak through [`RunOf::Events`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EventsEvent {
    /// The events are made; `phases` names the fits in the order they train.
    Started { intro: ObjectStudyIntro, phases: Vec<String> },
    /// Fit number `index` (from 0) starts.
    PhaseStarted { index: usize, name: String, epochs: usize },
    /// How similar the encoder finds events to their copies, before training (epoch 0) and after
    /// each of its epochs.
    Similarities(Similarities),
    /// Every fit is done and the test events are scored.
    Finished { result: StudyResult, seconds: f64 },
    /// A file of events was read; a study can start on it.
    FileRead { name: String, background: usize, signal: usize, kinds: Vec<String> },
    /// A file could not be used; the one read before (if any) stays.
    FileRefused { message: String },
    BenchmarkResult { steps: usize, milliseconds_per_step: f64 },
    /// The study could not start or go on; what was shown stays.
    Failed { message: String },
}

/// What the jet-image study says as it goes (its training runs speak through [`RunOf::Jets`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JetEvent {
    /// The jets are made; `runs` names every direction in the order it trains.
    Started { intro: StudyIntro, runs: Vec<String> },
    /// Direction number `index` (from 0) starts.
    RunStarted { index: usize, name: String, epochs: usize },
    /// A direction finished and was scored; `table` is the AUC table so far.
    RunFinished { index: usize, panel: DirectionPanel, table: Vec<AucRow> },
    Finished { seconds: f64 },
    BenchmarkResult { steps: usize, milliseconds_per_step: f64 },
    /// The study could not start or go on; what was shown stays.
    Failed { message: String },
}

/// What the resonance hunt says as it goes (its training runs speak through [`RunOf::Hunt`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HuntEvent {
    /// The data are generated; `optimal` is the tagger built from the toy's true densities.
    Started {
        spectrum: MassHistogram,
        signal_region_events: usize,
        injected: usize,
        true_w: f64,
        optimal: TaggerCurve,
        /// The fits the hunt will train, in order.
        fits: Vec<String>,
    },
    /// Fit number `index` (from 0) starts.
    FitStarted { index: usize, name: String, epochs: usize },
    /// R-ANODE's learned signal fraction after an epoch.
    SignalFraction { epoch: usize, w: f64 },
    Closure { gap_nats: f64, standard_error: f64, features: Vec<FeatureClosure> },
    Tagger(TaggerCurve),
    /// Events drawn from R-ANODE's signal flow, and as many true signal events.
    Samples { drawn: JetMasses, truth: JetMasses },
    AfterCut(AfterCut),
    Finished { seconds: f64 },
    /// The hunt could not start or go on; what was shown stays.
    Failed { message: String },
}

/// A tagger's SIC curve and figures on the test set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaggerCurve {
    pub name: String,
    pub figures: Figures,
    /// (ε_S, SIC), thinned for drawing.
    pub curve: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TableEvent {
    LoadProgress { purpose: FilePurpose, bytes_read: u64, total_bytes: u64 },
    Loaded(TableInfo),
    /// The file could not be used; whatever was loaded before is kept.
    LoadFailed { purpose: FilePurpose, message: String },
    LoadCancelled { purpose: FilePurpose },
    /// A model file was read and can score the loaded events.
    ModelLoaded(ModelInfo),
    TrainStarted { summary: TrainingSummary, epochs: usize },
    Scoring { fraction: f64 },
    Scored { results: TableResults, top_rows: Vec<TopRow>, backend: Backend },
    ThresholdCounts(ThresholdCounts),
    DownloadProgress { fraction: f64 },
    /// `milliseconds` for the whole pass: reading and preparing each row from the parsed columns, and
    /// scoring it; `model_milliseconds` for the scoring alone.
    ScoringBenchmark { rows: usize, milliseconds: f64, model_milliseconds: f64, backend: Backend, weights: VaeWeights },
    /// The comparison is working on `method` (its name); `fraction` of all its work is done.
    CompareProgress { method: String, fraction: f64 },
    /// Every ticked method has run (or said why it could not). `row_lines` are the file's line numbers
    /// of the explained rows, by row index.
    Compared { summary: Box<ComparisonSummary>, row_lines: Vec<(usize, u64)> },
    CompareCancelled,
    /// The comparison could not start or stopped; whatever was compared before stays.
    CompareFailed { message: String },
    AwarenessKinds { column: usize, kinds: Vec<String> },
    /// `stage` says which run is working; `fraction` of both runs' steps are done.
    FineTuneProgress { stage: String, fraction: f64 },
    /// Both runs are done; the fine-tuned model is kept and the rows are being scored again.
    FineTuned { summary: Box<AwarenessSummary> },
    /// The fine-tuning could not start, stopped or was cancelled; the model trained before it is back.
    FineTuneFailed { message: String },
}

/// Which view's run a [`RunEvent`] belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunOf {
    Digits,
    Table,
    Hunt,
    Jets,
    Events,
}

/// What any training run says as it goes, whatever it trains; each view reads these with the same
/// reducer (`app::run_view`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RunEvent {
    Progress(Progress),
    EpochEnded { epoch: usize, train_loss: f32, validation_loss: Option<f32> },
    /// Training stopped after a chunk as asked; the model and its history are kept.
    Paused,
    /// The loss stopped being a finite number; the last good weights are kept.
    Diverged { message: String },
    /// A request could not be carried out, said as a sentence for the visitor; what was there stays.
    Failed { message: String },
}

impl Event {
    pub fn digits(event: RunEvent) -> Self {
        Event::Run { of: RunOf::Digits, event }
    }

    pub fn table(event: RunEvent) -> Self {
        Event::Run { of: RunOf::Table, event }
    }

    /// A sentence about the digit view's request that could not be carried out.
    pub fn failed(message: impl Into<String>) -> Self {
        Event::digits(RunEvent::Failed { message: message.into() })
    }
}

/// What the page says about a loaded model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub file_name: String,
    pub features: Vec<String>,
    pub hidden: usize,
    pub latent: usize,
    pub epochs: usize,
    pub score_with_kl: bool,
    /// The classical methods the file also holds (their names), from a comparison on the page.
    pub baselines: Vec<String>,
}

/// What the page needs to show a loaded file and let the visitor choose column roles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    pub purpose: FilePurpose,
    pub file_name: String,
    pub bytes: u64,
    pub rows: usize,
    pub delimiter: String,
    pub has_header: bool,
    pub columns: Vec<ColumnSummary>,
    /// The first rows, cell by cell, as text.
    pub preview: Vec<Vec<String>>,
    pub notes: Vec<String>,
    pub suggested: TableSetup,
    /// True for the built-in toy events (the page labels them as a simulation).
    pub simulated: bool,
}

/// One of the most anomalous rows, with its original cells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopRow {
    pub rank: usize,
    pub line: u64,
    pub score: f32,
    pub cells: Vec<String>,
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
