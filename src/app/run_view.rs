//! What the view of every training run shares, whichever view runs it (digits, a table), so that the run
//! states of the views depend on this module and never on each other.

use leptos::prelude::*;

use crate::protocol::Progress;

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
