//! The page's state: plain values in signals, changed only by the visitor's edits and the worker's events.

use leptos::prelude::*;

use crate::protocol::{Event, Progress};
use anomaly_engine::{Evaluation, SettingProblem, TrainSettings};

#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    LoadingData,
    DataFailed(String),
    Ready,
    Training,
    Paused,
    Finished,
    Diverged(String),
    WorkerDied(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    pub settings: TrainSettings,
    pub train_rows: usize,
    pub steps_per_epoch: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochLoss {
    pub epoch: usize,
    pub train: f32,
    pub validation: Option<f32>,
}

/// Shared through context; every field is a signal, so the struct is `Copy`.
#[derive(Clone, Copy)]
pub struct Playground {
    pub settings: RwSignal<TrainSettings>,
    /// Inputs whose text is not a number at all (range problems come from `TrainSettings::problems`).
    pub unreadable: RwSignal<Vec<SettingProblem>>,
    pub phase: RwSignal<Phase>,
    /// The latest sentence about something that went wrong but did not stop the page.
    pub notice: RwSignal<Option<String>>,
    pub digits_loaded: RwSignal<usize>,
    pub run: RwSignal<Option<RunInfo>>,
    pub progress: RwSignal<Option<Progress>>,
    pub step_losses: RwSignal<Vec<f32>>,
    pub epochs: RwSignal<Vec<EpochLoss>>,
    pub evaluation: RwSignal<Option<Evaluation>>,
    /// Bumped when the window is resized, so canvases redraw at their new size.
    pub layout: RwSignal<u32>,
}

impl Playground {
    pub fn new() -> Self {
        Self {
            settings: RwSignal::new(TrainSettings::default()),
            unreadable: RwSignal::new(Vec::new()),
            phase: RwSignal::new(Phase::LoadingData),
            notice: RwSignal::new(None),
            digits_loaded: RwSignal::new(0),
            run: RwSignal::new(None),
            progress: RwSignal::new(None),
            step_losses: RwSignal::new(Vec::new()),
            epochs: RwSignal::new(Vec::new()),
            evaluation: RwSignal::new(None),
            layout: RwSignal::new(0),
        }
    }

    /// All problems with the form as it stands: unreadable inputs first, then out-of-range values.
    pub fn problems(&self) -> Vec<SettingProblem> {
        let mut problems = self.unreadable.get();
        problems.extend(self.settings.with(TrainSettings::problems));
        problems
    }

    pub fn clear_run(&self) {
        self.run.set(None);
        self.progress.set(None);
        self.step_losses.set(Vec::new());
        self.epochs.set(Vec::new());
        self.evaluation.set(None);
    }

    /// How the page changes when the worker says something.
    pub fn apply(&self, event: Event) {
        match event {
            Event::DataReady { digits } => {
                self.digits_loaded.set(digits);
                self.phase.set(Phase::Ready);
            }
            Event::DataFailed { message } => self.phase.set(Phase::DataFailed(message)),
            Event::RunStarted { settings, train_rows, steps_per_epoch } => {
                self.clear_run();
                self.run.set(Some(RunInfo { settings, train_rows, steps_per_epoch }));
            }
            Event::Progress(progress) => {
                self.step_losses.update(|losses| losses.extend(&progress.recent_losses));
                self.progress.set(Some(progress));
            }
            Event::EpochEnded { epoch, train_loss, validation_loss } => {
                self.epochs.update(|e| e.push(EpochLoss { epoch, train: train_loss, validation: validation_loss }))
            }
            Event::Evaluated(evaluation) => self.evaluation.set(Some(*evaluation)),
            Event::Paused => {
                if self.phase.get_untracked() == Phase::Training {
                    self.phase.set(Phase::Paused);
                }
            }
            Event::Finished => self.phase.set(Phase::Finished),
            Event::Diverged { message } => self.phase.set(Phase::Diverged(message)),
            Event::Crashed { message } => self.phase.set(Phase::WorkerDied(message)),
            Event::Failed { message } => {
                self.notice.set(Some(message));
                if self.phase.get_untracked() == Phase::Training {
                    self.phase.set(Phase::Paused);
                }
            }
            Event::ResetDone => {
                self.clear_run();
                self.phase.set(Phase::Ready);
            }
            // Only `make bench` asks for a benchmark, from its own page.
            Event::BenchmarkResult { .. } => {}
        }
    }
}

impl Default for Playground {
    fn default() -> Self {
        Self::new()
    }
}
