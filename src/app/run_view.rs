//! What the view of every training run shares, whichever view runs it (digits, a table), so that the run
//! states of the views depend on this module and never on each other.

use leptos::prelude::*;

use crate::protocol::{Progress, RunEvent};

/// The losses after one epoch: the training loss of its last step, and the validation loss when there are
/// validation rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochLoss {
    pub epoch: usize,
    pub train: f32,
    pub validation: Option<f32>,
}

/// A run's progress and loss curves as the worker reports them: the same for every view and method.
#[derive(Clone, Copy)]
pub struct RunCurves {
    pub progress: RwSignal<Option<Progress>>,
    /// Every step's training loss so far.
    pub step_losses: RwSignal<Vec<f32>>,
    pub epochs: RwSignal<Vec<EpochLoss>>,
}

impl RunCurves {
    pub fn new() -> Self {
        Self { progress: RwSignal::new(None), step_losses: RwSignal::new(Vec::new()), epochs: RwSignal::new(Vec::new()) }
    }

    /// Forgets the run: a new one starts.
    pub fn clear(&self) {
        self.progress.set(None);
        self.step_losses.set(Vec::new());
        self.epochs.set(Vec::new());
    }

    /// A progress report: where the run is, and the step losses since the previous report.
    pub fn advance(&self, progress: Progress) {
        self.step_losses.update(|losses| losses.extend(&progress.recent_losses));
        self.progress.set(Some(progress));
    }

    pub fn end_epoch(&self, epoch: usize, train: f32, validation: Option<f32>) {
        self.epochs.update(|e| e.push(EpochLoss { epoch, train, validation }));
    }
}

impl Default for RunCurves {
    fn default() -> Self {
        Self::new()
    }
}

/// How a view's run reacts to the events every run sends ([`RunEvent`]). Each view keeps its own phases
/// (the digits add fine-tuning, the table adds scoring); these hooks map the shared events onto them, and
/// [`apply_run_event`] is the one reducer that calls them.
pub trait RunView {
    fn curves(&self) -> RunCurves;
    /// The worker took up the visitor's latest request: a run reports progress.
    fn accepted(&self);
    /// Training stopped after a chunk, as asked.
    fn paused(&self);
    /// The loss stopped being finite; the worker kept the last good weights.
    fn diverged(&self, message: String);
    /// A request could not be carried out. The view says so and goes back to where it was before the
    /// request (see [`Request`]); a run that fails midway is left paused.
    fn failed(&self, message: String);
}

pub fn apply_run_event(view: &impl RunView, event: RunEvent) {
    match event {
        RunEvent::Progress(progress) => {
            view.accepted();
            view.curves().advance(progress);
        }
        RunEvent::EpochEnded { epoch, train_loss, validation_loss } => view.curves().end_epoch(epoch, train_loss, validation_loss),
        RunEvent::Paused => view.paused(),
        RunEvent::Diverged { message } => view.diverged(message),
        RunEvent::Failed { message } => view.failed(message),
    }
}

/// The phase a view was in when the visitor asked the worker for something, kept until the worker takes
/// the request up. A refused request (a model file that does not fit, digits still loading) then puts the
/// view back exactly where it was, instead of guessing.
pub struct Request<P: Clone + Send + Sync + 'static> {
    before: RwSignal<Option<P>>,
}

// By hand: a derive would ask `P: Copy`, but only the signal is copied.
impl<P: Clone + Send + Sync + 'static> Clone for Request<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Clone + Send + Sync + 'static> Copy for Request<P> {}

impl<P: Clone + Send + Sync + 'static> Request<P> {
    pub fn new() -> Self {
        Self { before: RwSignal::new(None) }
    }

    /// The visitor asked for something that moves `phase` to `next` at once (the worker's answer follows).
    pub fn begin(&self, phase: RwSignal<P>, next: P) {
        self.before.set(Some(phase.get_untracked()));
        phase.set(next);
    }

    /// The worker took the request up; a later failure is one of the run's own.
    pub fn accepted(&self) {
        self.before.set(None);
    }

    /// The phase before the request, if the worker refused it before taking it up.
    pub fn refused(&self) -> Option<P> {
        let before = self.before.get_untracked();
        self.before.set(None);
        before
    }
}

impl<P: Clone + Send + Sync + 'static> Default for Request<P> {
    fn default() -> Self {
        Self::new()
    }
}
