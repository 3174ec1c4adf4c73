//! The worker's side of "score your own events": load a file in chunks, train on it, score every row,
//! and write the scored file, each in slices of about [`super::CHUNK_MILLISECONDS`] so that Cancel and
//! Pause are answered at once and progress keeps flowing.
//!
//! A file that fails to load never replaces the one loaded before, and nothing here sends anything over
//! the network: the bytes go from the visitor's disk to this worker and back to a download.

use std::cell::RefCell;
use std::rc::Rc;

use anomaly_engine::models::ScoringModel;
use anomaly_engine::table::compare::{download_cells, download_column_names};
use anomaly_engine::table::export::{ranks, ScoredCsv};
use anomaly_engine::table::model_file::ModelFile;
use anomaly_engine::table::saved_baselines::SavedBaselines;
use anomaly_engine::table::parse::{split_record, trim_line_ends};
use anomaly_engine::table::prepare::{TableSetup, TrainOn};
use anomaly_engine::table::run::{TableRun, NO_MODEL_FILE};
use anomaly_engine::table::{check_size, dijet, onnx, signals, Table, TableParser};
use wasm_bindgen::prelude::*;

use super::backend::ModelScorer;
use super::meter::Meter;
use super::run_loop::{train_chunk, EpochLosses, Stop, StopAt};
use super::source::Source;
use super::{now_ms, post, scope, spawn, yield_to_event_loop, CHUNK_MILLISECONDS};
use crate::protocol::{Backend, BackendChoice, Event, FilePurpose, ModelInfo, RunEvent, TableCommand, TableEvent, TableInfo, TopRow, DOWNLOAD_MESSAGE_KEY};

/// Bytes read from the file per slice (few in tests, so that a small file takes several slices).
const READ_CHUNK: u64 = if cfg!(test) { 16 << 10 } else { 4 << 20 };
/// Output bytes collected before they are handed to the browser as one part of the download.
const DOWNLOAD_PART: usize = 4 << 20;
const PREVIEW_ROWS: usize = 5;
/// A model file larger than this is not one of ours (they are a few MB at most).
const MAX_MODEL_BYTES: u64 = 256 << 20;

pub(super) struct Loaded {
    pub(super) table: Rc<Table>,
    source: Source,
    name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunPhase {
    Training,
    Paused,
    Scoring,
    Done,
}

struct Run {
    run: TableRun,
    phase: RunPhase,
    meter: Meter,
    /// The trained weights on the scoring backend, made when scoring starts.
    scorer: Option<ModelScorer>,
    /// The classical methods of the model file this run scores with: compared once its scores are in.
    saved_baselines: Option<SavedBaselines>,
}

#[derive(Default)]
pub struct Tables {
    pub(super) events: Option<Loaded>,
    pub(super) background: Option<Loaded>,
    run: Option<Run>,
    /// A model file read from the visitor's disk, to score with instead of training.
    model: Option<ModelFile>,
    /// Bumped by Cancel and by each new load, so an older load loop stops.
    load_generation: u64,
    /// Bumped by Pause, Train and each new load, so an older training loop stops.
    run_generation: u64,
    /// The classical methods beside the autoencoder (`compare.rs`).
    pub(super) compare: super::compare::CompareState,
    /// Anomaly Awareness on the trained autoencoder (`table_awareness.rs`).
    pub(super) awareness: super::table_awareness::AwarenessState,
}

pub type Shared = Rc<RefCell<Tables>>;

fn say(event: TableEvent) {
    post(&Event::Table(Box::new(event)));
}

fn failed(message: impl Into<String>) {
    post(&Event::table(RunEvent::Failed { message: message.into() }));
}

pub fn handle(state: &Shared, command: TableCommand) {
    match command {
        TableCommand::Simulate { rows, signal_fraction, seed, several_signals } => {
            let rows = rows.clamp(dijet::MIN_ROWS, dijet::MAX_ROWS);
            let (bytes, name) = if several_signals {
                (signals::to_csv(&signals::generate(rows, signal_fraction, seed)), format!("toy-signals-{rows}-events.csv"))
            } else {
                (dijet::to_csv(&dijet::generate(rows, signal_fraction, seed)), format!("toy-dijet-{rows}-events.csv"))
            };
            start_load(state, FilePurpose::Events, Source::Bytes(Rc::new(bytes)), name);
        }
        TableCommand::CancelLoad => state.borrow_mut().load_generation += 1,
        TableCommand::Train { setup } => train(state, setup),
        TableCommand::Rescore => rescore(state),
        TableCommand::ScoreWithModel { setup } => score_with_model(state, setup),
        TableCommand::Pause => {
            let mut st = state.borrow_mut();
            st.run_generation += 1;
            if let Some(run) = st.run.as_mut().filter(|r| r.phase == RunPhase::Training) {
                run.phase = RunPhase::Paused;
            }
            post(&Event::table(RunEvent::Paused));
        }
        TableCommand::Threshold { value } => {
            let st = state.borrow();
            match st.run.as_ref().filter(|r| r.phase == RunPhase::Done) {
                Some(run) => say(TableEvent::ThresholdCounts(run.run.count_above(value))),
                None => failed("Score the rows first; then the threshold counts them."),
            }
        }
        TableCommand::Download => spawn(download(state.clone())),
        TableCommand::BenchmarkScoring { backend } => spawn(benchmark_scoring(state.clone(), backend)),
        TableCommand::DownloadModel => match state.borrow().saved_model() {
            Ok((stem, model)) => hand_over_as(&[model.to_bytes().as_slice()], &format!("{stem}-model.safetensors"), "application/octet-stream"),
            Err(message) => failed(message),
        },
        TableCommand::DownloadOnnx => match state.borrow().saved_model() {
            Ok((stem, model)) => hand_over_as(&[onnx::export(&model).as_slice()], &format!("{stem}-model.onnx"), "application/octet-stream"),
            Err(message) => failed(message),
        },
        TableCommand::Compare { setup, choice } => super::compare::start(state, setup, choice),
        TableCommand::CancelCompare => super::compare::cancel(state),
        TableCommand::AwarenessKinds { setup, column } => super::table_awareness::kinds(state, &setup, column),
        TableCommand::FineTune { settings } => super::table_awareness::start(state, settings),
        TableCommand::CancelFineTune => super::table_awareness::cancel(state),
        TableCommand::DownloadSample => {
            let st = state.borrow();
            match st.events.as_ref().map(|l| (&l.source, &l.name)) {
                Some((Source::Bytes(bytes), name)) => hand_over(&[bytes.as_slice()], name),
                _ => failed("There is no simulated sample loaded to download."),
            }
        }
    }
}

/// A `File` from the page: check its size at once, then parse it in slices.
pub fn load_file(state: &Shared, purpose: FilePurpose, file: web_sys::File) {
    let name = file.name();
    if purpose == FilePurpose::Model {
        return load_model(state, Source::File(file), name);
    }
    start_load(state, purpose, Source::File(file), name);
}

fn start_load(state: &Shared, purpose: FilePurpose, source: Source, name: String) {
    let generation = {
        let mut st = state.borrow_mut();
        st.load_generation += 1;
        st.load_generation
    };
    spawn(load(state.clone(), purpose, source, name, generation));
}

async fn load(state: Shared, purpose: FilePurpose, source: Source, name: String, generation: u64) {
    let total_bytes = source.len();
    let refuse = |message: String| say(TableEvent::LoadFailed { purpose, message });
    if let Err(err) = check_size(total_bytes) {
        return refuse(err.to_string());
    }
    let mut parser = TableParser::new();
    let mut reader = source.in_order(0, total_bytes);
    let mut bytes = Vec::new();
    let mut offset = 0;
    while offset < total_bytes {
        if state.borrow().load_generation != generation {
            return say(TableEvent::LoadCancelled { purpose });
        }
        let end = (offset + READ_CHUNK).min(total_bytes);
        if let Err(reason) = reader.read(end - offset, &mut bytes).await {
            return refuse(format!("Reading \"{name}\" stopped: {reason}."));
        }
        if let Err(err) = parser.feed(&bytes) {
            return refuse(err.to_string());
        }
        offset = end;
        say(TableEvent::LoadProgress { purpose, bytes_read: offset, total_bytes });
        yield_to_event_loop().await;
    }
    if state.borrow().load_generation != generation {
        return say(TableEvent::LoadCancelled { purpose });
    }
    let table = match parser.finish() {
        Ok(table) => table,
        Err(err) => return refuse(err.to_string()),
    };
    let info = describe(&table, &source, &name, purpose);
    let mut st = state.borrow_mut();
    let loaded = Some(Loaded { table: Rc::new(table), source, name });
    match purpose {
        FilePurpose::Events => st.events = loaded,
        FilePurpose::Background => st.background = loaded,
        FilePurpose::Model | FilePurpose::Session | FilePurpose::ObjectEvents => {} // read by `load_model`, the digit session and the Events view
    }
    // A model trained for other data would score the wrong columns.
    st.run = None;
    st.run_generation += 1;
    st.compare.forget();
    st.awareness.forget();
    drop(st);
    say(TableEvent::Loaded(info));
}

fn describe(table: &Table, source: &Source, name: &str, purpose: FilePurpose) -> TableInfo {
    let shown = table.rows().min(PREVIEW_ROWS);
    let preview = match source.read(table.row_starts[0], table.row_starts[shown]) {
        Ok(bytes) => (0..shown)
            .map(|row| {
                let (a, b) = table.row_span(row);
                let base = table.row_starts[0];
                split_record(trim_line_ends(&bytes[(a - base) as usize..(b - base) as usize]), &table.dialect)
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    TableInfo {
        purpose,
        file_name: name.to_string(),
        bytes: source.len(),
        rows: table.rows(),
        delimiter: table.dialect.delimiter_name().to_string(),
        has_header: table.dialect.has_header,
        columns: table.columns.iter().map(|c| c.summary.clone()).collect(),
        preview,
        notes: table.notes.clone(),
        suggested: TableSetup::suggested(table),
        simulated: matches!(source, Source::Bytes(_)),
    }
}

fn train(state: &Shared, setup: TableSetup) {
    let mut st = state.borrow_mut();
    let Some(events) = st.events.as_ref() else {
        return failed("Load a file (or the simulated events) first.");
    };
    let resumable = st.run.as_ref().is_some_and(|r| r.phase == RunPhase::Paused && r.run.setup == setup);
    if !resumable {
        let background = match (setup.train_on, st.background.as_ref()) {
            (TrainOn::OtherFile, Some(b)) => Some(b.table.clone()),
            _ => None,
        };
        match TableRun::new(&events.table, &setup, background.as_deref()) {
            Ok(run) => {
                say(TableEvent::TrainStarted { summary: run.summary.clone(), epochs: run.training().epochs() });
                st.run = Some(Run { run, phase: RunPhase::Training, meter: Meter::default(), scorer: None, saved_baselines: None });
            }
            Err(message) => return failed(message),
        }
    }
    if let Some(run) = st.run.as_mut() {
        run.phase = RunPhase::Training;
    }
    st.run_generation += 1;
    let generation = st.run_generation;
    drop(st);
    spawn(run_loop(state.clone(), generation));
}

/// Reads a model file (a few MB at most) in one go and keeps it for [`score_with_model`].
fn load_model(state: &Shared, source: Source, name: String) {
    let refuse = |message: String| say(TableEvent::LoadFailed { purpose: FilePurpose::Model, message });
    if source.len() > MAX_MODEL_BYTES {
        return refuse(format!("\"{name}\" is {} MB, far larger than any model this page saves; choose the .safetensors file it gave you.", source.len() >> 20));
    }
    let bytes = match source.read(0, source.len()) {
        Ok(bytes) => bytes,
        Err(reason) => return refuse(format!("\"{name}\" could not be read: {reason}.")),
    };
    match ModelFile::from_bytes(&bytes) {
        Ok(model) => {
            say(TableEvent::ModelLoaded(ModelInfo {
                file_name: name,
                features: model.feature_names().iter().map(|f| f.to_string()).collect(),
                hidden: model.weights.hidden(),
                latent: model.weights.encoder_mean.outputs,
                epochs: model.settings.optimiser.epochs,
                score_with_kl: model.score_with_kl,
                baselines: model.baselines.as_ref().map_or_else(Vec::new, |b| b.methods.iter().map(|m| m.kind().name().to_string()).collect()),
            }));
            state.borrow_mut().model = Some(model);
        }
        Err(err) => refuse(format!("\"{name}\" is not a model this page can use: {err}.")),
    }
}

/// Scores every row of the loaded events with the loaded model file, without training.
fn score_with_model(state: &Shared, setup: TableSetup) {
    let mut st = state.borrow_mut();
    let (Some(events), Some(model)) = (st.events.as_ref(), st.model.as_ref()) else {
        return failed("Load the events to score and a model file first.");
    };
    match TableRun::from_model(&events.table, &setup, model) {
        Ok(run) => {
            say(TableEvent::TrainStarted { summary: run.summary.clone(), epochs: 0 });
            say(TableEvent::Scoring { fraction: 0.0 });
            let saved_baselines = model.baselines.clone();
            st.run = Some(Run { run, phase: RunPhase::Scoring, meter: Meter::default(), scorer: None, saved_baselines });
        }
        Err(message) => return failed(message),
    }
    st.run_generation += 1;
    let generation = st.run_generation;
    drop(st);
    spawn(run_loop(state.clone(), generation));
}

/// Scores every row again with the trained weights, on whichever backend is chosen now.
pub(super) fn rescore(state: &Shared) {
    let mut st = state.borrow_mut();
    let Some(run) = st.run.as_mut().filter(|r| r.phase == RunPhase::Done) else {
        return failed("Train and score first; then the rows can be scored again.");
    };
    run.run.restart_scoring();
    run.scorer = None;
    run.phase = RunPhase::Scoring;
    say(TableEvent::Scoring { fraction: 0.0 });
    st.run_generation += 1;
    let generation = st.run_generation;
    drop(st);
    spawn(run_loop(state.clone(), generation));
}

async fn run_loop(state: Shared, generation: u64) {
    loop {
        let scoring = {
            let mut st = state.borrow_mut();
            if st.run_generation != generation {
                return;
            }
            let Some(run) = st.run.as_mut() else { return };
            match run.phase {
                RunPhase::Training => {
                    run.train_for(CHUNK_MILLISECONDS);
                    false
                }
                RunPhase::Scoring => true,
                RunPhase::Paused | RunPhase::Done => return,
            }
        };
        if scoring && is_resonant(&state) {
            score_on_cpu(&state);
            yield_to_event_loop().await;
        } else if scoring {
            score_next_batch(&state, generation).await;
        } else {
            yield_to_event_loop().await;
        }
    }
}

fn is_resonant(state: &Shared) -> bool {
    state.borrow().run.as_ref().is_some_and(|r| r.run.setup.method.is_resonant())
}

/// Table rows a resonance search scores per slice (only its signal-region rows among them cost anything).
const RESONANT_SCORE_ROWS: usize = 16_384;

/// Scores the next slice of a resonance search's rows: its densities run on the CPU, here.
fn score_on_cpu(state: &Shared) {
    let mut st = state.borrow_mut();
    let Tables { events, run, .. } = &mut *st;
    let (Some(events), Some(run)) = (events.as_ref(), run.as_mut()) else { return };
    if let Err(err) = run.run.score_next(&events.table, RESONANT_SCORE_ROWS) {
        run.phase = RunPhase::Paused;
        return failed(format!("Scoring stopped: {err}."));
    }
    if run.run.scoring_done() {
        run.finish_scoring(&events.table, &events.source, Backend::Cpu);
        drop(st);
        compare_saved_baselines(state);
    } else {
        say(TableEvent::Scoring { fraction: run.run.scored_fraction() });
    }
}

/// Rows handed to the scoring backend at a time: a few MB of features, so that progress keeps coming.
const SCORE_BATCH_ROWS: usize = 65_536;

/// Scores the next batch of rows through the backend seam (the GPU or the CPU), then stores the scores,
/// unless the run was paused or replaced meanwhile.
async fn score_next_batch(state: &Shared, generation: u64) {
    let (batch, scorer, model) = {
        let mut st = state.borrow_mut();
        let Tables { events, run, .. } = &mut *st;
        let (Some(events), Some(run)) = (events.as_ref(), run.as_mut()) else { return };
        let batch = run.run.next_batch(&events.table, SCORE_BATCH_ROWS);
        let scorer = run.scorer.take();
        let model = if scorer.is_none() { Some(run.run.scoring_model()) } else { None };
        (batch, scorer, model)
    };
    let mut scorer = match (scorer, model) {
        (Some(scorer), _) => scorer,
        (None, Some(Ok(model))) => ModelScorer::new(&model).await,
        (None, _) => {
            if let Some(run) = state.borrow_mut().run.as_mut() {
                run.phase = RunPhase::Paused;
            }
            return failed("Scoring stopped: the trained weights could not be read.");
        }
    };
    let scores = scorer.score(&batch.rows).await;
    let mut st = state.borrow_mut();
    if st.run_generation != generation {
        return;
    }
    let Tables { events, run, .. } = &mut *st;
    let (Some(events), Some(run)) = (events.as_ref(), run.as_mut()) else { return };
    run.run.accept(&batch, &scores);
    let backend = scorer.backend();
    run.scorer = Some(scorer);
    if run.run.scoring_done() {
        run.finish_scoring(&events.table, &events.source, backend);
        drop(st);
        compare_saved_baselines(state);
    } else {
        say(TableEvent::Scoring { fraction: run.run.scored_fraction() });
    }
}

/// A model file's classical methods score the same rows once its autoencoder has: the comparison panel
/// shows them beside it, as on the day they were fitted, without fitting them again.
fn compare_saved_baselines(state: &Shared) {
    let saved = state.borrow_mut().run.as_mut().and_then(|run| run.saved_baselines.take().map(|saved| (run.run.setup.clone(), saved)));
    if let Some((setup, saved)) = saved {
        super::compare::start_saved(state, setup, &saved);
    }
}

impl Tables {
    /// The autoencoder's scores of every row, when a run with these feature columns has finished scoring.
    pub(super) fn autoencoder_scores(&self, setup: &TableSetup) -> Option<Vec<f32>> {
        let run = self.run.as_ref().filter(|r| r.phase == RunPhase::Done)?;
        let same_rows = run.run.setup.feature_columns() == setup.feature_columns()
            && run.run.setup.train_on == setup.train_on
            && !run.run.setup.method.is_resonant();
        same_rows.then(|| run.run.scores.clone())
    }

    /// The trained model as a model file, with the events file's name stem; or why it cannot be saved.
    fn saved_model(&self) -> Result<(String, ModelFile), String> {
        let (Some(events), Some(run)) = (self.events.as_ref(), self.run.as_ref().filter(|r| r.phase == RunPhase::Done)) else {
            return Err("Train and score first; then the model can be saved.".into());
        };
        if run.run.setup.method.is_resonant() {
            return Err(format!("{NO_MODEL_FILE}."));
        }
        let mut model = run.run.model_file().map_err(|err| format!("The model could not be saved: {err}."))?;
        // A finished comparison of this file travels with the autoencoder, so the native scorer writes
        // its columns too (`CompareState::forget` drops it with the file); the ONNX graph leaves it out.
        model.baselines = self.compare.finished.as_ref().and_then(|c| c.saved_baselines());
        Ok((stem(&events.name).to_string(), model))
    }

    pub(super) fn run_generation(&self) -> u64 {
        self.run_generation
    }

    /// The trained and scored autoencoder's run, if there is one.
    pub(super) fn finished_run(&self) -> Option<&TableRun> {
        self.run.as_ref().filter(|r| r.phase == RunPhase::Done && r.run.trainer().is_some()).map(|r| &r.run)
    }

    /// The separate background file, when `setup` trains on one.
    pub(super) fn background_for(&self, setup: &TableSetup) -> Option<Rc<Table>> {
        match (setup.train_on, self.background.as_ref()) {
            (TrainOn::OtherFile, Some(b)) => Some(b.table.clone()),
            _ => None,
        }
    }

    /// Records that the run's model was fine-tuned with `settings` (the model file says so).
    pub(super) fn fine_tuned(&mut self, settings: anomaly_engine::table::awareness::TableAwarenessSettings) {
        if let Some(run) = self.run.as_mut() {
            run.run.fine_tuned.push(settings);
        }
    }

    /// The finished autoencoder's per-feature parts of a row's score.
    pub(super) fn autoencoder_parts(&self, table: &Table, row: usize) -> Option<Vec<anomaly_engine::baselines::Contribution>> {
        self.run.as_ref().filter(|r| r.phase == RunPhase::Done)?.run.feature_parts(table, row)
    }
}

impl Run {
    fn train_for(&mut self, budget_ms: f64) {
        let end = train_chunk(self.run.training_mut(), &mut self.meter, &now_ms, budget_ms, StopAt { step: None, epoch_end: false });
        for losses in end.epochs {
            self.end_epoch(losses);
        }
        // A resonance search's fit that diverged has kept its best epoch and handed over to the next.
        for note in self.run.resonant_search().map(|s| s.take_notes()).unwrap_or_default() {
            post(&Event::table(RunEvent::Diverged { message: note }));
        }
        match end.stop {
            Stop::BudgetSpent | Stop::StepDone => self.post_progress(),
            Stop::EpochEnded => {} // end_epoch has reported; the next chunk goes on
            Stop::Finished => {
                self.post_progress();
                self.phase = RunPhase::Scoring;
            }
            Stop::Diverged(err) => {
                // Score with the last good weights, so the visitor still sees what they give.
                self.post_progress();
                post(&Event::table(RunEvent::Diverged { message: err.to_string() }));
                self.phase = RunPhase::Scoring;
            }
            Stop::Failed(other) => {
                self.phase = RunPhase::Paused;
                failed(format!("Training stopped: {other}."));
            }
        }
    }

    fn end_epoch(&mut self, losses: EpochLosses) {
        self.post_progress();
        post(&Event::table(RunEvent::EpochEnded { epoch: losses.epoch, train_loss: losses.train_loss, validation_loss: losses.validation_loss.ok().flatten() }));
    }

    fn post_progress(&mut self) {
        post(&Event::table(RunEvent::Progress(self.meter.progress(self.run.training()))));
    }

    fn finish_scoring(&mut self, table: &Table, source: &Source, backend: Backend) {
        let results = self.run.results();
        let top_rows = results
            .top_rows
            .iter()
            .enumerate()
            .map(|(i, &row)| {
                let (a, b) = table.row_span(row);
                let cells = source.read(a, b).map(|raw| split_record(trim_line_ends(&raw), &table.dialect)).unwrap_or_default();
                TopRow { rank: i + 1, line: table.row_lines[row], score: self.run.scores[row], cells }
            })
            .collect();
        self.phase = RunPhase::Done;
        say(TableEvent::Scored { results, top_rows, backend });
    }
}

/// Scores every row again on the backend given, timed after a warm-up batch that compiles the kernels,
/// then restores the results (the scores are the same to float rounding). Used by `make bench`, which
/// gets two times: the whole pass, and the part spent in the model on rows already prepared (the part
/// TensorFlow.js's `predict` is compared with, as it is handed prepared rows).
async fn benchmark_scoring(state: Shared, choice: BackendChoice) {
    let prepared = {
        let st = state.borrow();
        match (st.events.as_ref(), st.run.as_ref().filter(|r| r.phase == RunPhase::Done)) {
            (Some(events), Some(run)) => Some((events.table.clone(), run.run.scoring_model())),
            _ => None,
        }
    };
    let (table, model) = match prepared {
        Some((table, Ok(model))) => (table, model),
        Some((_, Err(err))) => return failed(format!("The weights could not be read: {err}.")),
        None => return failed("Train and score first; then the scoring can be timed."),
    };
    let mut scorer = ModelScorer::on(choice, &model).await;
    let next = |rows: usize| state.borrow().run.as_ref().map(|r| r.run.next_batch(&table, rows));
    if let Some(warm_up) = next(1024) {
        let _ = scorer.score(&warm_up.rows).await;
    }
    if let Some(run) = state.borrow_mut().run.as_mut() {
        run.run.restart_scoring();
    }
    let start = now_ms();
    let mut model_milliseconds = 0.0;
    loop {
        let Some(batch) = next(SCORE_BATCH_ROWS).filter(|b| !b.keep.is_empty()) else { break };
        let model_start = now_ms();
        let scores = scorer.score(&batch.rows).await;
        model_milliseconds += now_ms() - model_start;
        let mut st = state.borrow_mut();
        let Some(run) = st.run.as_mut() else { return };
        run.run.accept(&batch, &scores);
    }
    let milliseconds = now_ms() - start;
    if let Some(run) = state.borrow_mut().run.as_mut() {
        run.run.results();
    }
    // TensorFlow.js scores the same weights in `make bench`.
    let ScoringModel::Vae { weights, .. } = model;
    say(TableEvent::ScoringBenchmark { rows: table.rows(), milliseconds, model_milliseconds, backend: scorer.backend(), weights });
}

/// Writes the scored file part by part: the original bytes of each row, re-read from the source, then
/// the score and rank. Each part becomes a `Blob` as soon as it is written, so the browser keeps the
/// bytes (in its blob store, which may spill to disk) and neither the worker nor the JS heap holds a
/// second copy of the file; the parts then become one `Blob` that the page offers as a download.
async fn download(state: Shared) {
    let prepared = {
        let st = state.borrow();
        let scores = st.run.as_ref().filter(|r| r.phase == RunPhase::Done).map(|run| run.run.scores.clone());
        // The classical methods' columns, when a comparison of this file has finished.
        let compared = st.events.as_ref().and_then(|e| st.compare.finished.as_ref().map(|c| c.download_columns(&e.table))).unwrap_or_default();
        match st.events.as_ref() {
            Some(events) if scores.is_some() || !compared.is_empty() => {
                Some((events.table.clone(), events.source.clone(), events.name.clone(), scores, compared))
            }
            _ => None,
        }
    };
    let Some((table, source, name, scores, compared)) = prepared else {
        return failed("Score the rows first (train the autoencoder, or compare methods); then the scored file can be downloaded.");
    };
    let ranks = scores.as_deref().map(ranks).unwrap_or_default();
    let mut writer = ScoredCsv::new(&table).with_extra_columns(&download_column_names(&compared));
    if scores.is_none() {
        writer = writer.without_score_and_rank();
    }
    let header = match table.header_span {
        Some((a, b)) => match source.read(a, b) {
            Ok(raw) => Some(raw),
            Err(reason) => return failed(format!("The download stopped: {reason}.")),
        },
        None => None,
    };
    let mut out = writer.start(header.as_deref());
    let parts = js_sys::Array::new();
    let rows = table.rows();
    let mut reader = source.in_order(table.row_starts[0], table.row_starts[rows]);
    let mut bytes = Vec::new();
    let mut row = 0;
    while row < rows {
        let chunk_start = now_ms();
        while row < rows && now_ms() - chunk_start < CHUNK_MILLISECONDS {
            // A block of whole rows, about READ_CHUNK bytes, read in one go.
            let first = row;
            let base = table.row_starts[first];
            let mut last = first + 1;
            while last < rows && table.row_starts[last + 1] - base < READ_CHUNK {
                last += 1;
            }
            if let Err(reason) = reader.read(table.row_starts[last] - base, &mut bytes).await {
                return failed(format!("The download stopped: {reason}."));
            }
            for r in first..last {
                let (a, b) = table.row_span(r);
                let (score, rank) = scores.as_ref().map_or((f32::NAN, 0), |s| (s[r], ranks[r]));
                writer.push_row_with(&mut out, &bytes[(a - base) as usize..(b - base) as usize], score, rank, download_cells(&compared, r));
            }
            if out.len() >= DOWNLOAD_PART {
                match part_blob(&out) {
                    Some(part) => parts.push(&part),
                    None => return failed(SHORT_OF_MEMORY),
                };
                out.clear();
            }
            row = last;
        }
        say(TableEvent::DownloadProgress { fraction: row as f64 / rows.max(1) as f64 });
        yield_to_event_loop().await;
    }
    match part_blob(&out) {
        Some(part) => parts.push(&part),
        None => return failed(SHORT_OF_MEMORY),
    };
    hand_over_parts(&parts, &format!("{}-scored.csv", stem(&name)), "text/csv");
}

const SHORT_OF_MEMORY: &str = "The browser could not assemble the download (is the tab short of memory?).";

/// One part of a download as a `Blob`. The browser copies the bytes straight out of the worker's
/// memory, with no JS-heap copy in between, except in the threaded build: a Blob refuses a view of
/// shared memory, so there the bytes are copied out first.
fn part_blob(bytes: &[u8]) -> Option<web_sys::Blob> {
    let view = if cfg!(target_feature = "atomics") {
        js_sys::Uint8Array::from(bytes)
    } else {
        // SAFETY: the view is read by the Blob constructor at once; nothing allocates in between, so
        // the worker's memory cannot grow and detach it.
        unsafe { js_sys::Uint8Array::view(bytes) }
    };
    let parts = js_sys::Array::of1(&view);
    web_sys::Blob::new_with_u8_array_sequence(&parts).ok()
}

/// The file's name without its `.csv`, to name what is saved from it.
fn stem(name: &str) -> &str {
    name.strip_suffix(".csv").or_else(|| name.strip_suffix(".CSV")).unwrap_or(name)
}

fn hand_over(chunks: &[&[u8]], name: &str) {
    hand_over_as(chunks, name, "text/csv");
}

pub(crate) fn hand_over_as(chunks: &[&[u8]], name: &str, mime: &str) {
    let parts = js_sys::Array::new();
    for chunk in chunks {
        parts.push(&js_sys::Uint8Array::from(*chunk));
    }
    hand_over_parts(&parts, name, mime);
}

/// Posts `{ download: Blob, name }` to the page, which saves it through a link.
fn hand_over_parts(parts: &js_sys::Array, name: &str, mime: &str) {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = match web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &options) {
        Ok(blob) => blob,
        Err(_) => return failed(SHORT_OF_MEMORY),
    };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &DOWNLOAD_MESSAGE_KEY.into(), &blob);
    let _ = js_sys::Reflect::set(&message, &"name".into(), &JsValue::from_str(name));
    if scope().post_message(&message).is_err() {
        failed("The download could not be handed to the page.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::backend;
    use crate::worker::test_host::{variant_name, TestHost};
    use anomaly_engine::settings::{ModelSettings, OptimiserSettings, VaeSettings};

    /// A worker for tables with nothing loaded, scoring on the CPU, whose clock moves 1 ms per reading
    /// (so a slice of training, 40 ms, is a few dozen steps).
    fn worker() -> (Rc<TestHost>, Shared) {
        let host = TestHost::install(1.0);
        backend::choose(BackendChoice::Cpu);
        host.take_events();
        (host, Shared::default())
    }

    /// What the page was told since the last call, by name: progress left out (how often it comes depends
    /// on the clock) and a run of the same slice message said once.
    fn told(host: &TestHost) -> Vec<String> {
        host.told(|event| {
            Some(match event {
                Event::Run { event: RunEvent::Progress(_), .. } => return None,
                Event::Run { of, event } => {
                    assert_eq!(of, crate::protocol::RunOf::Table, "a table run spoke for the digit view");
                    match event {
                        RunEvent::EpochEnded { epoch, .. } => format!("EpochEnded {epoch}"),
                        RunEvent::Failed { message } => format!("Failed: {message}"),
                        other => variant_name(&other),
                    }
                }
                Event::Table(event) => match *event {
                    TableEvent::Loaded(info) => format!("Loaded {}", info.file_name),
                    TableEvent::ModelLoaded(info) => format!("ModelLoaded {}", info.file_name),
                    TableEvent::TrainStarted { epochs, .. } => format!("TrainStarted ({epochs} epochs)"),
                    other => variant_name(&other),
                },
                other => panic!("a table run posted {other:?}"),
            })
        })
    }

    /// The toy events, `rows` of them (2,000 are about 180 kB: a dozen slices).
    fn simulate(state: &Shared, rows: usize, seed: u64) {
        handle(state, TableCommand::Simulate { rows, signal_fraction: 0.1, seed, several_signals: false });
    }

    /// The setup the page suggests for the loaded events, with a small, quick model.
    fn setup(state: &Shared, epochs: usize) -> TableSetup {
        let st = state.borrow();
        let mut setup = TableSetup::suggested(&st.events.as_ref().expect("events are loaded").table);
        setup.model = ModelSettings {
            vae: VaeSettings { hidden_units: 8, latent_dims: 2, ..Default::default() },
            optimiser: OptimiserSettings { batch_size: 64, epochs, ..Default::default() },
        };
        setup
    }

    fn scores(state: &Shared) -> Vec<f32> {
        state.borrow().run.as_ref().expect("a run").run.scores.clone()
    }

    fn steps_done(state: &Shared) -> usize {
        state.borrow().run.as_ref().expect("a run").run.training().steps_done()
    }

    fn loaded_with_results(epochs: usize) -> (Rc<TestHost>, Shared, TableSetup) {
        let (host, state) = worker();
        simulate(&state, 2000, 3);
        host.run_until_idle();
        let setup = setup(&state, epochs);
        handle(&state, TableCommand::Train { setup: setup.clone() });
        host.run_until_idle();
        told(&host);
        (host, state, setup)
    }

    #[test]
    fn a_file_loads_in_slices_then_trains_epoch_by_epoch_and_is_scored_last() {
        let (host, state) = worker();
        simulate(&state, 2000, 3);
        host.run_until_idle();
        assert_eq!(told(&host), ["LoadProgress", "Loaded toy-dijet-2000-events.csv"]);
        handle(&state, TableCommand::Train { setup: setup(&state, 3) });
        host.run_until_idle();
        assert_eq!(told(&host), ["TrainStarted (3 epochs)", "EpochEnded 1", "EpochEnded 2", "EpochEnded 3", "Scored"]);
        handle(&state, TableCommand::Threshold { value: 0.0 });
        assert_eq!(told(&host), ["ThresholdCounts"]);
    }

    #[test]
    fn nothing_to_train_or_count_is_a_sentence_not_a_state() {
        let (host, state) = worker();
        handle(&state, TableCommand::Rescore);
        handle(&state, TableCommand::Threshold { value: 1.0 });
        handle(&state, TableCommand::DownloadModel);
        assert_eq!(
            told(&host),
            [
                "Failed: Train and score first; then the rows can be scored again.",
                "Failed: Score the rows first; then the threshold counts them.",
                "Failed: Train and score first; then the model can be saved.",
            ]
        );
        assert!(state.borrow().run.is_none());
    }

    #[test]
    fn cancel_stops_a_load_between_slices_and_the_file_before_stays() {
        let (host, state, setup) = loaded_with_results(1);
        simulate(&state, 4000, 4);
        host.turn(); // the first slice is read
        handle(&state, TableCommand::CancelLoad);
        host.run_until_idle();
        let read: Vec<(u64, u64)> = host
            .events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Table(event) => match **event {
                    TableEvent::LoadProgress { bytes_read, total_bytes, .. } => Some((bytes_read, total_bytes)),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(read.len(), 1, "reading stops at the next slice");
        assert!(read[0].0 < read[0].1);
        assert_eq!(told(&host), ["LoadProgress", "LoadCancelled"]);
        assert_eq!(state.borrow().events.as_ref().unwrap().name, "toy-dijet-2000-events.csv");
        // The results of the file before are still there to count.
        handle(&state, TableCommand::Threshold { value: 0.0 });
        assert_eq!(told(&host), ["ThresholdCounts"]);
        handle(&state, TableCommand::Train { setup });
        host.run_until_idle();
        assert_eq!(told(&host), ["TrainStarted (1 epochs)", "EpochEnded 1", "Scored"]);
    }

    #[test]
    fn a_file_that_cannot_be_read_leaves_the_file_before_and_its_results() {
        let (host, state, _) = loaded_with_results(1);
        let before = scores(&state);
        let broken = Rc::new(b"a,b\n1,2\n\"never closed,3\n".to_vec());
        start_load(&state, FilePurpose::Events, Source::Bytes(broken), "broken.csv".into());
        host.run_until_idle();
        assert_eq!(told(&host), ["LoadProgress", "LoadFailed"]);
        assert_eq!(state.borrow().events.as_ref().unwrap().name, "toy-dijet-2000-events.csv");
        assert_eq!(scores(&state), before);
        handle(&state, TableCommand::Threshold { value: 0.0 });
        assert_eq!(told(&host), ["ThresholdCounts"]);
    }

    #[test]
    fn pause_stops_training_between_slices_and_the_same_setup_carries_on() {
        let (host, state) = worker();
        simulate(&state, 2000, 3);
        host.run_until_idle();
        told(&host);
        let setup = setup(&state, 2);
        handle(&state, TableCommand::Train { setup: setup.clone() });
        host.turn(); // one slice of training
        handle(&state, TableCommand::Pause);
        host.run_until_idle();
        assert_eq!(told(&host), ["TrainStarted (2 epochs)", "Paused"]);
        let paused_at = steps_done(&state);
        assert!(paused_at > 0, "the slice trained");
        handle(&state, TableCommand::Threshold { value: 0.0 });
        assert_eq!(told(&host), ["Failed: Score the rows first; then the threshold counts them."]);
        // The same setup resumes where it stopped: no new start.
        handle(&state, TableCommand::Train { setup: setup.clone() });
        host.turn();
        assert!(steps_done(&state) > paused_at);
        host.run_until_idle();
        assert_eq!(told(&host), ["EpochEnded 1", "EpochEnded 2", "Scored"]);
        // Once scored, Train starts again from scratch.
        handle(&state, TableCommand::Train { setup });
        host.run_until_idle();
        assert_eq!(told(&host), ["TrainStarted (2 epochs)", "EpochEnded 1", "EpochEnded 2", "Scored"]);
    }

    #[test]
    fn a_new_file_stops_the_run_on_the_old_one() {
        let (host, state) = worker();
        simulate(&state, 2000, 3);
        host.run_until_idle();
        handle(&state, TableCommand::Train { setup: setup(&state, 5) });
        host.turn();
        simulate(&state, 1000, 4);
        host.run_until_idle();
        let told = told(&host);
        assert_eq!(told.last().unwrap(), "Loaded toy-dijet-1000-events.csv");
        assert!(!told.iter().any(|name| name == "Scored" || name.starts_with("EpochEnded 5")), "the old run went on: {told:?}");
        assert!(state.borrow().run.is_none());
    }

    #[test]
    fn a_saved_model_and_a_rescore_give_the_trained_scores_exactly() {
        let (host, state, setup) = loaded_with_results(2);
        let trained = scores(&state);
        handle(&state, TableCommand::Rescore);
        host.run_until_idle();
        assert_eq!(told(&host), ["Scoring", "Scored"]);
        assert_eq!(scores(&state), trained);

        let bytes = state.borrow().run.as_ref().unwrap().run.model_file().unwrap().to_bytes();
        load_model(&state, Source::Bytes(Rc::new(bytes)), "toy-model.safetensors".into());
        handle(&state, TableCommand::ScoreWithModel { setup });
        host.run_until_idle();
        assert_eq!(told(&host), ["ModelLoaded toy-model.safetensors", "TrainStarted (0 epochs)", "Scoring", "Scored"]);
        assert_eq!(scores(&state).iter().map(|s| s.to_bits()).collect::<Vec<_>>(), trained.iter().map(|s| s.to_bits()).collect::<Vec<_>>());
    }

    #[test]
    fn a_file_that_is_not_a_model_is_refused_and_the_run_stays() {
        let (host, state, _) = loaded_with_results(1);
        load_model(&state, Source::Bytes(Rc::new(b"label,x\n1,2\n".to_vec())), "events.csv".into());
        assert_eq!(told(&host), ["LoadFailed"]);
        assert!(state.borrow().model.is_none());
        handle(&state, TableCommand::Threshold { value: 0.0 });
        assert_eq!(told(&host), ["ThresholdCounts"]);
    }

    /// ANODE and R-ANODE run through the same loop: the background flow's epochs, then the method's, then
    /// the signal region's rows are scored on the CPU (the sidebands stay empty); there is no model file.
    #[test]
    fn a_resonance_search_trains_both_fits_and_scores_only_the_signal_region() {
        use anomaly_engine::table::prepare::{Role, TableMethod};
        let (host, state) = worker();
        simulate(&state, 4000, 3);
        host.run_until_idle();
        told(&host);
        let mut setup = setup(&state, 2);
        setup.choices[0].role = Role::Resonant;
        setup.method = TableMethod::Ranode;
        setup.signal_region = Some((3.3, 3.7));
        handle(&state, TableCommand::Train { setup });
        host.run_until_idle();
        // Two background epochs, then R-ANODE's warm start and fit, stretched to at least 600 steps.
        let epochs = state.borrow().run.as_ref().unwrap().run.summary.resonance.as_ref().unwrap().fits.iter().map(|f| f.1).sum::<usize>();
        assert!(epochs > 4, "{epochs}");
        let expected: Vec<String> = std::iter::once(format!("TrainStarted ({epochs} epochs)"))
            .chain((1..=epochs).map(|e| format!("EpochEnded {e}")))
            .chain(std::iter::once("Scored".to_string()))
            .collect();
        assert_eq!(told(&host), expected);
        let (scored, in_region) = {
            let st = state.borrow();
            let table = &st.events.as_ref().unwrap().table;
            let scores = &st.run.as_ref().unwrap().run.scores;
            let in_region: Vec<bool> = (0..table.rows()).map(|r| (3.3f32..3.7).contains(&table.columns[0].number(r))).collect();
            (scores.iter().map(|s| s.is_finite()).collect::<Vec<_>>(), in_region)
        };
        assert_eq!(scored, in_region);
        handle(&state, TableCommand::DownloadModel);
        assert_eq!(told(&host), [format!("Failed: {NO_MODEL_FILE}.")]);
    }
}
