//! The worker's side of Anomaly Awareness on a table (`anomaly_engine::table::awareness`): the control
//! run first (the same steps without the labelled rows, then the stage-1 weights back), then the
//! fine-tuning with them, whose weights the table's run keeps; then every row is scored again with the
//! fine-tuned model. Steps go in slices of about [`super::CHUNK_MILLISECONDS`], so that Cancel lands at
//! once; Cancel, a failure or a new training puts the stage-1 weights back and keeps earlier results.

use anomaly_engine::table::awareness::{anomaly_kinds, summarise, KindResult, Protocol, TableAwareness, TableAwarenessSettings};
use anomaly_engine::table::prepare::TableSetup;

use super::tables::Shared;
use super::{now_ms, post, spawn, yield_to_event_loop, CHUNK_MILLISECONDS};
use crate::protocol::{Event, TableEvent};

#[derive(Default)]
pub struct AwarenessState {
    running: Option<Running>,
    /// Bumped by Cancel and each new fine-tuning, so an older loop stops.
    generation: u64,
}

struct Running {
    settings: TableAwarenessSettings,
    stage: Stage,
    /// The table run's generation when this started: a new training makes this one moot.
    run_generation: u64,
}

enum Stage {
    /// The control runs; the fine-tuning waits, prepared from the same stage-1 weights.
    Control { control: Box<TableAwareness>, aware: Box<TableAwareness> },
    /// The control's results are in; the fine-tuning with the labelled rows runs.
    Aware { aware: Box<TableAwareness>, control: Vec<KindResult> },
    /// Only while a stage is being swapped for the next.
    Done,
}

impl Stage {
    fn running(&self) -> Option<&TableAwareness> {
        match self {
            Stage::Control { control, .. } => Some(control),
            Stage::Aware { aware, .. } => Some(aware),
            Stage::Done => None,
        }
    }
}

impl AwarenessState {
    /// A new file: a fine-tuning in progress described the rows of the one before.
    pub fn forget(&mut self) {
        self.stop();
    }

    /// Stops a fine-tuning in progress with the stage-1 weights put back; true if one was running.
    pub fn stop(&mut self) -> bool {
        self.generation += 1;
        match self.running.take() {
            Some(running) => {
                if let Some(stage2) = running.stage.running() {
                    let _ = stage2.restore_stage1();
                }
                true
            }
            None => false,
        }
    }
}

fn say(event: TableEvent) {
    post(&Event::Table(Box::new(event)));
}

/// The anomaly kinds of `column` among the anomalous rows, for the page's checkboxes.
pub fn kinds(state: &Shared, setup: &TableSetup, column: usize) {
    let st = state.borrow();
    let Some(events) = st.events.as_ref() else { return };
    let kinds = if column < events.table.columns.len() { anomaly_kinds(&events.table, setup, column) } else { Vec::new() };
    say(TableEvent::AwarenessKinds { column, kinds });
}

pub fn start(state: &Shared, settings: TableAwarenessSettings) {
    let mut st = state.borrow_mut();
    // One at a time: an earlier fine-tuning puts stage 1 back first, so the new one starts from it.
    st.awareness.stop();
    let run_generation = st.run_generation();
    let prepared = {
        let Some(events) = st.events.as_ref() else {
            return say(TableEvent::FineTuneFailed { message: "Load a file (or the simulated events) first.".into() });
        };
        let Some(run) = st.finished_run() else {
            return say(TableEvent::FineTuneFailed { message: "Train and score the autoencoder first; stage 2 fine-tunes the trained model.".into() });
        };
        let background = st.background_for(&run.setup);
        let prepare = || TableAwareness::new(&events.table, run, background.as_deref(), &settings, Protocol::UnseenKinds);
        prepare().and_then(|control| Ok((control.without_anomalies(), prepare()?)))
    };
    match prepared {
        Ok((control, aware)) => {
            st.awareness.generation += 1;
            let generation = st.awareness.generation;
            let stage = Stage::Control { control: Box::new(control), aware: Box::new(aware) };
            st.awareness.running = Some(Running { settings, stage, run_generation });
            drop(st);
            spawn(run(state.clone(), generation));
        }
        Err(message) => say(TableEvent::FineTuneFailed { message }),
    }
}

pub fn cancel(state: &Shared) {
    if state.borrow_mut().awareness.stop() {
        say(TableEvent::FineTuneFailed { message: "The fine-tuning was cancelled; the model is the one trained before it.".into() });
    }
}

async fn run(state: Shared, generation: u64) {
    loop {
        let outcome = {
            let mut st = state.borrow_mut();
            if st.awareness.generation != generation {
                return;
            }
            let current = st.run_generation();
            let Some(running) = st.awareness.running.as_mut() else { return };
            if running.run_generation != current {
                st.awareness.stop();
                return;
            }
            step(running)
        };
        match outcome {
            Ok(false) => yield_to_event_loop().await,
            Ok(true) => return finish(&state),
            Err(message) => {
                state.borrow_mut().awareness.stop();
                return say(TableEvent::FineTuneFailed { message: format!("The fine-tuning stopped: {message}. The model is the one trained before it.") });
            }
        }
    }
}

/// Steps for a slice of time; true once the fine-tuning with the labelled rows is done.
fn step(running: &mut Running) -> Result<bool, String> {
    let start = now_ms();
    loop {
        if matches!(&running.stage, Stage::Control { control, .. } if control.is_finished()) {
            running.stage = after_control(std::mem::replace(&mut running.stage, Stage::Done))?;
        }
        let (stage2, control) = match &mut running.stage {
            Stage::Control { control, .. } => (control, true),
            Stage::Aware { aware, .. } => (aware, false),
            Stage::Done => return Ok(true),
        };
        if !control && stage2.is_finished() {
            return Ok(true);
        }
        stage2.step().map_err(|e| e.to_string())?;
        if now_ms() - start > CHUNK_MILLISECONDS {
            let done = stage2.steps_done() as f64 / stage2.total_steps().max(1) as f64;
            let fraction = if control { 0.5 * done } else { 0.5 + 0.5 * done };
            let what = if control { "The control run (no labelled rows)" } else { "Fine-tuning with the labelled rows" };
            say(TableEvent::FineTuneProgress { stage: what.into(), fraction });
            return Ok(false);
        }
    }
}

/// The control is done: its results, the stage-1 weights back, and the fine-tuning's turn.
fn after_control(stage: Stage) -> Result<Stage, String> {
    match stage {
        Stage::Control { control, aware } => {
            let results = control.results().map_err(|e| e.to_string())?;
            control.restore_stage1().map_err(|e| e.to_string())?;
            Ok(Stage::Aware { aware, control: results })
        }
        other => Ok(other),
    }
}

/// Reads the results, keeps the fine-tuned weights and scores every row again with them.
fn finish(state: &Shared) {
    let summary = {
        let mut st = state.borrow_mut();
        let Some(running) = st.awareness.running.take() else { return };
        let Stage::Aware { aware, control } = running.stage else { return };
        match aware.results() {
            Ok(with) => summarise(&running.settings, aware.labelled_rows(), aware.margin(), &with, &control),
            Err(e) => {
                let _ = aware.restore_stage1();
                return say(TableEvent::FineTuneFailed { message: format!("The results could not be read: {e}. The model is the one trained before it.") });
            }
        }
    };
    state.borrow_mut().fine_tuned(summary.settings.clone());
    say(TableEvent::FineTuned { summary: Box::new(summary) });
    super::tables::rescore(state);
}
