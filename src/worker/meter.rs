//! The bookkeeping behind a progress bar, shared by the digits' and the tables' training loops: steps
//! and rows trained, time spent, the epoch's mean loss, and the step losses not yet sent to the page.

use anomaly_engine::train::Training;
use anomaly_engine::StepReport;

use crate::protocol::Progress;

#[derive(Default)]
pub struct Meter {
    rows_trained: usize,
    training_ms: f64,
    total_steps: usize,
    epoch_loss_sum: f64,
    epoch_rows: usize,
    recent_losses: Vec<f32>,
}

impl Meter {
    /// Counts one step that took `milliseconds`.
    pub fn record(&mut self, report: &StepReport, milliseconds: f64) {
        self.training_ms += milliseconds;
        self.total_steps += 1;
        self.rows_trained += report.rows;
        self.epoch_loss_sum += report.loss as f64 * report.rows as f64;
        self.epoch_rows += report.rows;
        self.recent_losses.push(report.loss);
    }

    /// Counts time spent on a step that failed (so throughput stays honest).
    pub fn add_time(&mut self, milliseconds: f64) {
        self.training_ms += milliseconds;
    }

    /// The mean training loss over the epoch that just ended, and a fresh start for the next.
    pub fn end_epoch(&mut self) -> f32 {
        let mean = (self.epoch_loss_sum / self.epoch_rows.max(1) as f64) as f32;
        (self.epoch_loss_sum, self.epoch_rows) = (0.0, 0);
        mean
    }

    /// Where the run is, with the step losses since the previous call. Any method's run will do.
    pub fn progress(&mut self, run: &dyn Training) -> Progress {
        let per_second = if self.training_ms > 0.0 { self.rows_trained as f64 / (self.training_ms / 1000.0) } else { 0.0 };
        let steps_left = (run.epochs() - run.epochs_done().min(run.epochs())) * run.steps_per_epoch()
            - run.step_in_epoch().min(run.steps_per_epoch());
        let seconds_left = if per_second > 0.0 { steps_left as f64 * run.batch_size() as f64 / per_second } else { 0.0 };
        Progress {
            epochs_done: run.epochs_done(),
            epochs: run.epochs(),
            step_in_epoch: run.step_in_epoch(),
            steps_per_epoch: run.steps_per_epoch(),
            total_steps: self.total_steps,
            recent_losses: std::mem::take(&mut self.recent_losses),
            samples_per_second: per_second,
            seconds_left,
        }
    }
}
