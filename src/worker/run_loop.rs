//! The worker's one chunked training loop, for every run whatever its method or view: train for about a
//! chunk's time budget, then say which epochs ended and why the chunk ended, so that each view reacts in
//! its own way (the digit view stops at an epoch's end to evaluate, the table view scores every row when
//! the run finishes).
//!
//! The clock is passed in, so the loop runs natively in `cargo test` as it runs in the worker.

use anomaly_engine::train::Training;
use anomaly_engine::{StepReport, TrainError};

use super::meter::Meter;
use crate::protocol::StepUnit;

/// The losses of an epoch that ended in this chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLosses {
    pub epoch: usize,
    /// The mean training loss over the epoch.
    pub train_loss: f32,
    /// The loss on the validation rows; an error when it could not be computed.
    pub validation_loss: Result<Option<f32>, TrainError>,
}

/// Why a chunk ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// The time budget ran out; the run goes on in the next chunk.
    BudgetSpent,
    /// An epoch ended and [`StopAt::epoch_end`] asked to stop there; the run goes on in the next chunk.
    EpochEnded,
    /// The run took its last step.
    Finished,
    /// The batch or epoch the visitor asked to step through is done.
    StepDone,
    /// A loss was not a finite number; the run has put weights back and takes no more steps.
    Diverged(TrainError),
    /// A step failed for another reason.
    Failed(TrainError),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChunkEnd {
    /// Every epoch that ended in this chunk, in order (an epoch that ends with the run is among them).
    pub epochs: Vec<EpochLosses>,
    /// The chunk's last step that trained, if any.
    pub last: Option<StepReport>,
    pub stop: Stop,
}

/// Where a chunk stops before its budget is spent, besides the run's end and a failed step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StopAt {
    /// The batch or epoch the visitor asked to step through.
    pub step: Option<StepUnit>,
    /// Every epoch's end.
    pub epoch_end: bool,
}

/// Trains `run` until `budget_ms` of `clock` have passed, the run finishes, a step fails, or it reaches
/// what `stop_at` names. Every step is counted in `meter`. A run already finished takes no step.
pub fn train_chunk(run: &mut dyn Training, meter: &mut Meter, clock: &dyn Fn() -> f64, budget_ms: f64, stop_at: StopAt) -> ChunkEnd {
    let mut epochs = Vec::new();
    let mut last = None;
    if run.is_finished() {
        return ChunkEnd { epochs, last, stop: Stop::Finished };
    }
    let chunk_start = clock();
    while clock() - chunk_start < budget_ms {
        let step_start = clock();
        let result = run.step();
        let spent = clock() - step_start;
        let report = match result {
            Ok(report) => report,
            Err(err) => {
                meter.add_time(spent);
                let stop = match err {
                    TrainError::Diverged { .. } => Stop::Diverged(err),
                    other => Stop::Failed(other),
                };
                return ChunkEnd { epochs, last, stop };
            }
        };
        meter.record(&report, spent);
        if report.epoch_finished {
            epochs.push(EpochLosses { epoch: report.epochs_done, train_loss: meter.end_epoch(), validation_loss: run.validation_loss() });
        }
        let step_done = match stop_at.step {
            Some(StepUnit::Batch) => true,
            Some(StepUnit::Epoch) => report.epoch_finished,
            None => false,
        };
        let stop = if run.is_finished() {
            Stop::Finished
        } else if step_done {
            Stop::StepDone
        } else if report.epoch_finished && stop_at.epoch_end {
            Stop::EpochEnded
        } else {
            last = Some(report);
            continue;
        };
        return ChunkEnd { epochs, last: Some(report), stop };
    }
    ChunkEnd { epochs, last, stop: Stop::BudgetSpent }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A run of `epochs` epochs of `steps` steps each; each step takes 1 ms of the fake clock and has a
    /// loss of its step number. The step numbered `diverge_at` fails.
    struct Scripted<'a> {
        steps: usize,
        epochs: usize,
        taken: usize,
        diverge_at: Option<usize>,
        clock: &'a Cell<f64>,
    }

    impl Training for Scripted<'_> {
        fn step(&mut self) -> Result<StepReport, TrainError> {
            self.clock.set(self.clock.get() + 1.0);
            if Some(self.taken) == self.diverge_at {
                return Err(TrainError::Diverged { epoch: self.epochs_done() + 1, step: self.step_in_epoch() + 1, loss: f32::NAN });
            }
            self.taken += 1;
            Ok(StepReport {
                epochs_done: self.epochs_done(),
                step_in_epoch: self.step_in_epoch(),
                steps_per_epoch: self.steps,
                rows: 10,
                loss: self.taken as f32,
                epoch_finished: self.taken % self.steps == 0,
            })
        }
        fn is_finished(&self) -> bool {
            self.taken >= self.steps * self.epochs
        }
        fn epochs(&self) -> usize {
            self.epochs
        }
        fn batch_size(&self) -> usize {
            10
        }
        fn epochs_done(&self) -> usize {
            self.taken / self.steps
        }
        fn step_in_epoch(&self) -> usize {
            self.taken % self.steps
        }
        fn steps_per_epoch(&self) -> usize {
            self.steps
        }
        fn train_rows(&self) -> usize {
            10 * self.steps
        }
        fn validation_loss(&self) -> Result<Option<f32>, TrainError> {
            Ok(Some(-(self.epochs_done() as f32)))
        }
    }

    const EVERY_EPOCH: StopAt = StopAt { step: None, epoch_end: true };

    fn scripted(clock: &Cell<f64>, steps: usize, epochs: usize) -> Scripted<'_> {
        Scripted { steps, epochs, taken: 0, diverge_at: None, clock }
    }

    #[test]
    fn a_chunk_ends_when_its_budget_is_spent_and_the_next_goes_on() {
        let clock = Cell::new(0.0);
        let mut run = scripted(&clock, 100, 1);
        let mut meter = Meter::default();
        let end = train_chunk(&mut run, &mut meter, &|| clock.get(), 5.0, EVERY_EPOCH);
        assert_eq!((end.epochs, end.stop), (vec![], Stop::BudgetSpent));
        assert_eq!(end.last.map(|r| r.loss), Some(5.0), "the last step's report comes back");
        assert_eq!(run.taken, 5);
        train_chunk(&mut run, &mut meter, &|| clock.get(), 5.0, EVERY_EPOCH);
        assert_eq!(run.taken, 10);
        let progress = meter.progress(&run);
        assert_eq!((progress.step_in_epoch, progress.recent_losses.len()), (10, 10));
    }

    #[test]
    fn every_epoch_end_stops_the_chunk_with_the_epochs_losses_in_order() {
        let clock = Cell::new(0.0);
        let mut run = scripted(&clock, 3, 3);
        let mut meter = Meter::default();
        let mut ends = Vec::new();
        loop {
            let end = train_chunk(&mut run, &mut meter, &|| clock.get(), 1000.0, EVERY_EPOCH);
            assert_eq!(end.epochs.len(), 1);
            let last = end.stop == Stop::Finished;
            ends.push(end);
            if last {
                break;
            }
        }
        let epochs: Vec<(usize, f32, Option<f32>)> =
            ends.iter().map(|e| (e.epochs[0].epoch, e.epochs[0].train_loss, e.epochs[0].validation_loss.clone().unwrap())).collect();
        // Losses 1, 2, 3 then 4, 5, 6 then 7, 8, 9: each epoch's mean, each epoch once, in order.
        assert_eq!(epochs, vec![(1, 2.0, Some(-1.0)), (2, 5.0, Some(-2.0)), (3, 8.0, Some(-3.0))]);
        let stops: Vec<Stop> = ends.into_iter().map(|e| e.stop).collect();
        // The last epoch's end is also the run's: it is reported with the finish, not instead of it.
        assert_eq!(stops, vec![Stop::EpochEnded, Stop::EpochEnded, Stop::Finished]);
    }

    #[test]
    fn a_chunk_that_need_not_stop_at_epoch_ends_reports_each_one_it_passed() {
        let clock = Cell::new(0.0);
        let mut run = scripted(&clock, 2, 10);
        let mut meter = Meter::default();
        let through = StopAt { step: None, epoch_end: false };
        let end = train_chunk(&mut run, &mut meter, &|| clock.get(), 7.0, through);
        assert_eq!(end.stop, Stop::BudgetSpent);
        assert_eq!(end.epochs.iter().map(|e| (e.epoch, e.train_loss)).collect::<Vec<_>>(), vec![(1, 1.5), (2, 3.5), (3, 5.5)]);
        let rest = train_chunk(&mut run, &mut meter, &|| clock.get(), 1000.0, through);
        assert_eq!(rest.stop, Stop::Finished);
        assert_eq!(rest.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(), (4..=10).collect::<Vec<_>>());
    }

    #[test]
    fn stepping_one_batch_or_one_epoch_stops_there() {
        let clock = Cell::new(0.0);
        let mut run = scripted(&clock, 4, 2);
        let mut meter = Meter::default();
        let step = |unit| StopAt { step: Some(unit), epoch_end: true };
        let batch = train_chunk(&mut run, &mut meter, &|| clock.get(), 1000.0, step(StepUnit::Batch));
        assert_eq!((batch.stop, run.taken), (Stop::StepDone, 1));
        let epoch = train_chunk(&mut run, &mut meter, &|| clock.get(), 1000.0, step(StepUnit::Epoch));
        assert_eq!((epoch.stop, run.taken), (Stop::StepDone, 4));
        assert_eq!(epoch.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(), vec![1]);
        let last = train_chunk(&mut run, &mut meter, &|| clock.get(), 1000.0, step(StepUnit::Epoch));
        assert_eq!((last.stop, run.taken), (Stop::Finished, 8));
        // A finished run takes no further step.
        let after = train_chunk(&mut run, &mut meter, &|| clock.get(), 1000.0, step(StepUnit::Batch));
        assert_eq!((after.stop, after.last, run.taken), (Stop::Finished, None, 8));
    }

    #[test]
    fn a_diverging_step_ends_the_chunk_and_its_time_still_counts() {
        let clock = Cell::new(0.0);
        let mut run = Scripted { diverge_at: Some(2), ..scripted(&clock, 10, 1) };
        let mut meter = Meter::default();
        let end = train_chunk(&mut run, &mut meter, &|| clock.get(), 1000.0, EVERY_EPOCH);
        assert!(matches!(end.stop, Stop::Diverged(TrainError::Diverged { epoch: 1, step: 3, .. })), "{end:?}");
        assert_eq!(end.epochs, vec![]);
        let progress = meter.progress(&run);
        assert_eq!(progress.total_steps, 2, "the failed step is not counted as taken");
        // Two good steps of 10 rows in 3 ms, the failed step's millisecond included.
        assert!((progress.samples_per_second - 20.0 / 0.003).abs() < 1e-6, "{}", progress.samples_per_second);
    }
}
