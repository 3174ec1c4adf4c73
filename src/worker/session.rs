//! One training run as the worker sees it: the engine's experiment plus the bookkeeping behind the
//! progress bar (throughput, time left) and the messages the page needs.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use anomaly_engine::awareness::{AwarenessRun, AwarenessSettings};
use anomaly_engine::digit_session::{DigitSession, EpochLoss, SavedAwareness};
use anomaly_engine::models::VaeWeights;
use anomaly_engine::data::anomalies::SYNTHETIC;
use anomaly_engine::data::DigitSet;
use anomaly_engine::evaluate::DigitExperiment;
use anomaly_engine::models::ScoringModel;
use anomaly_engine::train::{TrainData, TrainError, Trainer};
use anomaly_engine::settings::ModelSettings;
use anomaly_engine::TrainSettings;

use super::backend::ModelScorer;
use super::meter::Meter;
use super::run_loop::{train_chunk, EpochLosses, Stop, StopAt};
use super::{now_ms, post};
use crate::protocol::{Backend, Event, FamilyThumbnail, RunEvent, StepUnit};

thread_local! {
    static NEXT_SERIAL: Cell<u64> = const { Cell::new(0) };
}

/// Scores what the session asked for (the test digits for every evaluation, and the Anomaly Awareness
/// evaluation images before and after fine-tuning) through the backend seam, and posts the summaries
/// (then any events that waited for them). An evaluation whose run was paused, resumed or replaced
/// meanwhile is not posted; the newer one is.
pub async fn evaluate_pending(state: &Rc<RefCell<WorkerState>>) {
    loop {
        let Some(job) = state.borrow_mut().next_scoring_job() else { return };
        let mut scorer = ModelScorer::new(&job.model).await;
        let scores = scorer.score(&job.pixels).await;
        state.borrow_mut().accept_scores(job, &scores, scorer.backend());
    }
}

#[derive(Default)]
pub struct WorkerState {
    pub digits: Option<Rc<DigitSet>>,
    /// Fashion-MNIST, once loaded (absent when the site was built without it).
    pub fashion: Option<Rc<DigitSet>>,
    pub session: Option<Session>,
    /// Bumped whenever a run starts, pauses or resets, so that an older training loop knows to stop.
    pub generation: u64,
}

pub struct Session {
    experiment: DigitExperiment,
    pub running: bool,
    stop_after: Option<StepUnit>,
    meter: Meter,
    ended: bool,
    /// Stage 2 (Anomaly Awareness), while it runs or after it ran; the trainer's model then holds the
    /// fine-tuned weights and this run holds the stage-1 weights to go back to.
    stage2: Option<AwarenessRun>,
    fine_tuning: bool,
    /// Tells stage-2 runs apart, so that scores asked for by an earlier one are dropped.
    stage2_serial: u64,
    /// The stage-2 evaluation images are to be scored (through the backend seam, like the test digits)
    /// with the current model: before fine-tuning (`Some(false)`) or after (`Some(true)`).
    stage2_scores_due: Option<bool>,
    /// When the test digits were last scored; a full evaluation costs several epochs of a small run, so
    /// mid-run epochs are evaluated at most every [`EVALUATION_INTERVAL_MS`].
    last_evaluation_ms: f64,
    /// The test digits are scored through the backend seam, which may be the GPU and so is awaited
    /// outside the session (see [`evaluate_pending`]). Until that evaluation is posted, later events
    /// wait here, so that the page still sees "evaluated" before "finished" or "paused".
    evaluation_due: bool,
    /// A scoring job (the test digits or stage 2's images) is out at the backend; one at a time.
    scoring: bool,
    deferred: Vec<Event>,
    /// Tells sessions apart, so that an evaluation finishing after a reset is dropped.
    serial: u64,
    /// Stage 1's loss of every epoch, for a saved session.
    losses: Vec<EpochLoss>,
    /// The weights each finished stage-2 run left (the anomaly-aware run's and the control's, with the
    /// same settings), for a saved session.
    finished_awareness: Option<SavedAwareness>,
    /// Stage-2 runs of an opened session still to be shown, each as a run that had finished.
    restoring: Option<Restore>,
}

/// An opened session's stage-2 runs, put back one after the other: each is prepared from the stage-1
/// weights and scored before, then given its saved weights, counted as finished and scored after.
struct Restore {
    digits: Rc<DigitSet>,
    fashion: Option<Rc<DigitSet>>,
    settings: AwarenessSettings,
    /// (control, weights), in the order to show them.
    queue: Vec<(bool, VaeWeights)>,
    /// The weights of the run being shown, once its "before" scores are in.
    current: Option<VaeWeights>,
}

/// What [`evaluate_pending`] scores while the session is not borrowed.
pub struct ScoringJob {
    model: ScoringModel,
    pixels: Arc<[f32]>,
    serial: u64,
    generation: u64,
    purpose: Purpose,
}

enum Purpose {
    /// The test digits, for the digit view.
    Evaluation,
    /// Stage 2's evaluation images, for stage-2 run `run`, before or `after` fine-tuning.
    Stage2 { run: u64, after: bool },
}

const EVALUATION_INTERVAL_MS: f64 = 2000.0;

impl WorkerState {
    /// What the session wants scored next, if anything (see [`evaluate_pending`]).
    pub fn next_scoring_job(&mut self) -> Option<ScoringJob> {
        let generation = self.generation;
        self.session.as_mut().and_then(|s| s.scoring_job(generation))
    }

    /// Takes the scores of `job` (from whichever backend): posts its summaries, or drops them when the
    /// run was paused, resumed or replaced meanwhile, then any events that waited for them.
    pub fn accept_scores(&mut self, job: ScoringJob, scores: &[f32], backend: Backend) {
        let current = self.generation == job.generation;
        let Some(session) = self.session.as_mut().filter(|s| s.serial == job.serial) else { return };
        match job.purpose {
            Purpose::Evaluation => session.finish_evaluation(current.then_some((scores, backend))),
            Purpose::Stage2 { run, after } => session.finish_stage2_scoring(run, after, scores, backend),
        }
    }

    /// Resumes the paused run if it has these settings, otherwise starts a new one. Returns whether a
    /// training loop should be started.
    pub fn start_or_resume(&mut self, settings: &TrainSettings, stop_after: Option<StepUnit>) -> bool {
        let Some(digits) = self.digits.clone() else {
            post(&Event::failed("The digits are still loading; try again in a moment."));
            return false;
        };
        if let Some(problem) = settings.problems().first() {
            post(&Event::failed(problem.message.clone()));
            return false;
        }
        let resumable = self.session.as_ref().is_some_and(|s| !s.ended && s.experiment.settings() == settings);
        if !resumable {
            match DigitExperiment::new(&digits, settings) {
                Ok(experiment) => {
                    post(&Event::RunStarted {
                        settings: settings.clone(),
                        train_rows: experiment.trainer.train_rows(),
                        steps_per_epoch: experiment.trainer.steps_per_epoch(),
                    });
                    self.session = Some(Session::new(experiment));
                }
                Err(err) => {
                    post(&Event::failed(format!("Training could not start: {err}.")));
                    return false;
                }
            }
        }
        let session = self.session.as_mut().expect("a session was just ensured");
        session.leave_stage2();
        session.running = true;
        session.stop_after = stop_after;
        self.generation += 1;
        true
    }
}

impl WorkerState {
    /// Puts an opened session on the page as if it had just run: its run with the saved stage-1 weights,
    /// the losses of its epochs, each finished stage-2 run with its saved weights, the evaluation and
    /// "finished". Returns whether scoring is due (the caller runs [`evaluate_pending`]).
    pub fn open_session(&mut self, file_name: String, saved: DigitSession) -> bool {
        let Some(digits) = self.digits.clone() else {
            post(&Event::failed("The digits are still loading; open the session in a moment."));
            return false;
        };
        let mut experiment = match DigitExperiment::new(&digits, &saved.settings) {
            Ok(experiment) => experiment,
            Err(err) => {
                post(&Event::failed(format!("The session could not be opened: {err}.")));
                return false;
            }
        };
        if let Err(err) = experiment.trainer.load_trained(&saved.stage1) {
            post(&Event::failed(format!("The session could not be opened: {err}.")));
            return false;
        }
        self.generation += 1; // any run in progress stops
        post(&Event::SessionOpened { file_name, settings: saved.settings.clone(), awareness: saved.awareness.as_ref().map(|a| a.settings.clone()) });
        post(&Event::RunStarted {
            settings: saved.settings.clone(),
            train_rows: experiment.trainer.train_rows(),
            steps_per_epoch: experiment.trainer.steps_per_epoch(),
        });
        let mut session = Session::new(experiment);
        session.ended = true;
        for loss in &saved.losses {
            post(&Event::digits(RunEvent::EpochEnded { epoch: loss.epoch, train_loss: loss.train_loss, validation_loss: loss.validation_loss }));
        }
        session.losses = saved.losses;
        let queue: Vec<(bool, VaeWeights)> = saved
            .awareness
            .as_ref()
            .map(|a| [(false, a.aware.clone()), (true, a.control.clone())].into_iter().filter_map(|(control, w)| w.map(|w| (control, w))).collect())
            .unwrap_or_default();
        if let (Some(awareness), false) = (&saved.awareness, queue.is_empty()) {
            session.restoring = Some(Restore { digits, fashion: self.fashion.clone(), settings: awareness.settings.clone(), queue, current: None });
            session.restore_next();
        } else {
            session.post_evaluation();
            session.say(Event::Finished);
        }
        self.session = Some(session);
        true
    }
}

impl Session {
    fn new(experiment: DigitExperiment) -> Self {
        Self {
            experiment,
            running: false,
            stop_after: None,
            meter: Meter::default(),
            ended: false,
            last_evaluation_ms: f64::NEG_INFINITY,
            stage2: None,
            fine_tuning: false,
            stage2_serial: 0,
            stage2_scores_due: None,
            evaluation_due: false,
            scoring: false,
            deferred: Vec::new(),
            serial: NEXT_SERIAL.with(|next| next.replace(next.get() + 1)),
            losses: Vec::new(),
            finished_awareness: None,
            restoring: None,
        }
    }

    /// Whether scores are due or being computed, so that later events must wait for their summaries.
    fn scoring_pending(&self) -> bool {
        self.evaluation_due || self.stage2_scores_due.is_some() || self.scoring
    }

    /// Posts `event` now, or after the pending evaluation so that the page sees them in order.
    fn say(&mut self, event: Event) {
        if self.scoring_pending() {
            self.deferred.push(event);
        } else {
            post(&event);
        }
    }

    /// Trains for about `budget_ms`, then reports progress. Stops early at an epoch's end (to evaluate),
    /// at the requested step, at the end of the run, or when the loss diverges.
    pub fn train_for(&mut self, budget_ms: f64) {
        if self.fine_tuning {
            return self.fine_tune_for(budget_ms);
        }
        let stop_at = StopAt { step: self.stop_after, epoch_end: true };
        let end = train_chunk(self.experiment.trainer.run_mut(), &mut self.meter, &now_ms, budget_ms, stop_at);
        let mut evaluated = false;
        for losses in end.epochs {
            evaluated = self.end_epoch(losses); // one at most: the chunk stops at every epoch's end
        }
        match end.stop {
            Stop::BudgetSpent => self.post_progress(),
            Stop::EpochEnded => {} // end_epoch has reported; the next chunk starts the next epoch
            Stop::Finished | Stop::StepDone => {
                self.running = false;
                self.post_progress();
                if !evaluated {
                    self.post_evaluation();
                }
                if end.stop == Stop::Finished {
                    self.ended = true;
                    self.say(Event::Finished);
                } else {
                    self.say(Event::digits(RunEvent::Paused));
                }
            }
            Stop::Diverged(err) => {
                self.stop_for_good();
                self.post_evaluation(); // of the last good weights, before the page says "stopped"
                self.say(Event::digits(RunEvent::Diverged { message: err.to_string() }));
            }
            Stop::Failed(err) => {
                self.stop_for_good();
                self.say(Event::failed(format!("Training stopped: {err}.")));
            }
        }
    }

    /// Ends the run after a failed step: it takes no more steps, and the page gets its last progress.
    fn stop_for_good(&mut self) {
        self.running = false;
        self.ended = true;
        self.post_progress();
    }

    /// Reports the epoch's losses; returns whether the test digits were evaluated too.
    fn end_epoch(&mut self, losses: EpochLosses) -> bool {
        let validation_loss = match losses.validation_loss {
            Ok(loss) => loss,
            Err(err) => {
                post(&Event::failed(format!("The validation loss could not be computed: {err}.")));
                None
            }
        };
        self.post_progress();
        self.losses.push(EpochLoss { epoch: losses.epoch, train_loss: losses.train_loss, validation_loss });
        self.say(Event::digits(RunEvent::EpochEnded { epoch: losses.epoch, train_loss: losses.train_loss, validation_loss }));
        let due = now_ms() - self.last_evaluation_ms >= EVALUATION_INTERVAL_MS;
        if due {
            self.post_evaluation();
        }
        due
    }

    /// Asks for the test digits to be scored with the current weights and summarised for the page; the
    /// training loop (or the Pause handler) then runs [`evaluate_pending`].
    pub fn post_evaluation(&mut self) {
        self.last_evaluation_ms = now_ms();
        self.evaluation_due = true;
    }

    /// The next scoring to do, if any: stage 2's images first, so that the fine-tuning results reach the
    /// page before the digit view's evaluation of the same model.
    fn scoring_job(&mut self, generation: u64) -> Option<ScoringJob> {
        if self.scoring {
            return None;
        }
        let (purpose, pixels, what) = match (self.stage2_scores_due.take(), &self.stage2) {
            (Some(after), Some(run)) => (Purpose::Stage2 { run: self.stage2_serial, after }, Arc::from(run.evaluation_pixels()), "The anomalies"),
            _ if std::mem::take(&mut self.evaluation_due) => (Purpose::Evaluation, self.experiment.test_pixels(), "The test digits"),
            _ => return None,
        };
        match self.experiment.trainer.model().scoring_model(self.experiment.trainer.settings().vae.score_with_kl) {
            Ok(model) => {
                self.scoring = true;
                Some(ScoringJob { model, pixels, serial: self.serial, generation, purpose })
            }
            Err(err) => {
                post(&Event::failed(format!("{what} could not be scored: {err}.")));
                self.flush_deferred();
                None
            }
        }
    }

    fn finish_evaluation(&mut self, scores: Option<(&[f32], Backend)>) {
        self.scoring = false;
        if let Some((scores, backend)) = scores {
            match self.experiment.evaluate_scores(scores) {
                Ok(evaluation) => post(&Event::Evaluated { evaluation: Box::new(evaluation), backend }),
                Err(err) => post(&Event::failed(format!("The test digits could not be scored: {err}."))),
            }
        }
        self.flush_deferred();
    }

    fn flush_deferred(&mut self) {
        if !self.scoring_pending() {
            for event in std::mem::take(&mut self.deferred) {
                post(&event);
            }
        }
    }

    fn post_progress(&mut self) {
        let progress = Event::digits(RunEvent::Progress(self.meter.progress(self.experiment.trainer.run())));
        self.say(progress);
    }

    /// Goes back to the stage-1 weights if stage 2 changed them.
    fn leave_stage2(&mut self) {
        if let Some(stage2) = self.stage2.take() {
            if let Err(err) = stage2.restore_stage1() {
                post(&Event::failed(format!("The stage-1 weights could not be restored: {err}.")));
            }
        }
        self.fine_tuning = false;
        // Scores still to come for the run left behind are dropped when they arrive (its serial is gone).
        self.stage2_scores_due = None;
        self.flush_deferred();
    }

    /// Prepares stage 2 from the stage-1 weights (its control run, without the labelled anomalies, if
    /// `control`); returns whether a loop should run it. The loop first scores the evaluation images
    /// with the stage-1 model (see [`Self::finish_stage2_scoring`]).
    pub fn start_fine_tuning(&mut self, digits: &DigitSet, fashion: Option<&DigitSet>, settings: &AwarenessSettings, control: bool) -> bool {
        // A paused run of the same kind and settings carries on from its step: its optimiser and random
        // streams are where they stopped, so it ends exactly as a run that was never paused.
        let paused = self.stage2.as_ref().is_some_and(|run| {
            !self.running && run.is_ready() && !run.is_finished() && run.is_control() == control && run.settings() == settings
        });
        if paused && self.stage2_scores_due.is_none() {
            self.fine_tuning = true;
            self.running = true;
            return true;
        }
        self.leave_stage2();
        match AwarenessRun::prepare_with(digits, fashion, &self.experiment, settings) {
            Ok(run) => {
                self.stage2 = Some(if control { run.without_anomalies() } else { run });
                self.stage2_serial += 1;
                self.stage2_scores_due = Some(false);
                self.fine_tuning = true;
                self.running = true;
                true
            }
            Err(err) => {
                post(&Event::failed(format!("Fine-tuning could not start: {err}")));
                false
            }
        }
    }

    /// Takes the scores of stage 2's evaluation images: before fine-tuning, the table's "before" column
    /// (fine-tuning starts at the next chunk); after it, the results.
    fn finish_stage2_scoring(&mut self, run_serial: u64, after: bool, scores: &[f32], backend: Backend) {
        self.scoring = false;
        let model = self.experiment.trainer.model();
        let run = self.stage2.as_mut().filter(|_| self.stage2_serial == run_serial);
        match (run, after) {
            (None, _) => {} // a run left behind
            (Some(run), false) => match run.set_before(model, scores).and_then(|()| run.results_from(None)) {
                Ok(before) => {
                    post(&Event::FineTuneStarted {
                        before,
                        margin: run.margin(),
                        labelled: run.labelled_count(),
                        total_steps: run.total_steps(),
                        backend,
                        settings: run.settings().clone(),
                        control: run.is_control(),
                    });
                    // An opened session's run: its saved weights stand for the steps it took.
                    if let Some(weights) = self.restoring.as_mut().and_then(|r| r.current.take()) {
                        run.mark_finished();
                        match self.experiment.trainer.load_trained(&weights) {
                            Ok(()) => self.stage2_scores_due = Some(true),
                            Err(err) => {
                                post(&Event::failed(format!("The session's fine-tuned weights could not be used: {err}.")));
                                self.restoring = None;
                            }
                        }
                    }
                }
                Err(err) => {
                    post(&Event::failed(format!("Fine-tuning could not start: {err}.")));
                    self.running = false;
                    self.fine_tuning = false;
                    self.stage2 = None; // no step was taken: the model still holds the stage-1 weights
                }
            },
            (Some(run), true) => {
                // The close-up shows the anomaly-aware run only, so a control's curves and redrawings
                // are not computed.
                let details = |run: &AwarenessRun| if run.is_control() { Ok(Vec::new()) } else { run.details_from(model, scores) };
                let finished = match run.results_from(Some(scores)).and_then(|results| Ok((results, details(run)?))) {
                    Ok((results, details)) => Event::FineTuneFinished { results, details, backend, control: run.is_control() },
                    Err(err) => Event::failed(format!("The fine-tuned model could not be evaluated: {err}.")),
                };
                post(&finished);
                self.keep_finished_stage2();
                if self.restoring.is_some() {
                    self.restore_next();
                }
            }
        }
        self.flush_deferred();
    }

    /// Keeps the weights a stage-2 run finished with, beside those of the other kind of run with the same
    /// settings (a run with other settings starts the record afresh).
    fn keep_finished_stage2(&mut self) {
        let Some(run) = self.stage2.as_ref() else { return };
        let Ok(weights) = self.experiment.trainer.model().weights() else { return };
        let settings = run.settings().clone();
        let kept = self.finished_awareness.get_or_insert_with(|| SavedAwareness { settings: settings.clone(), aware: None, control: None });
        if kept.settings != settings {
            *kept = SavedAwareness { settings, aware: None, control: None };
        }
        *(if run.is_control() { &mut kept.control } else { &mut kept.aware }) = Some(weights);
    }

    /// Shows the next stage-2 run of an opened session, or, when none is left, the digit view's
    /// evaluation of the model as the last run left it, then "finished".
    fn restore_next(&mut self) {
        let Some(restore) = self.restoring.as_mut() else { return };
        let Some((control, weights)) = (!restore.queue.is_empty()).then(|| restore.queue.remove(0)) else {
            self.restoring = None;
            self.post_evaluation();
            self.say(Event::Finished);
            return;
        };
        let (digits, fashion, settings) = (restore.digits.clone(), restore.fashion.clone(), restore.settings.clone());
        restore.current = Some(weights);
        self.leave_stage2();
        match AwarenessRun::prepare_with(&digits, fashion.as_deref(), &self.experiment, &settings) {
            Ok(run) => {
                self.stage2 = Some(if control { run.without_anomalies() } else { run });
                self.stage2_serial += 1;
                self.stage2_scores_due = Some(false);
            }
            Err(err) => {
                post(&Event::failed(format!("The session's Anomaly Awareness could not be shown: {err}")));
                self.restoring = None;
                self.post_evaluation();
                self.say(Event::Finished);
            }
        }
    }

    pub fn settings(&self) -> &TrainSettings {
        self.experiment.settings()
    }

    /// Stage 1 has ended and nothing trains, restores or scores: the weights are what the page shows.
    fn at_rest(&self) -> bool {
        !self.running && self.ended && self.restoring.is_none() && !self.scoring_pending()
    }

    /// The network as it scores the digit view now (the last fine-tuning's, after stage 2) as ONNX.
    pub fn onnx(&self) -> Result<Vec<u8>, String> {
        if !self.at_rest() {
            return Err("Let the training finish first; then the network can be downloaded.".into());
        }
        let weights = self.experiment.trainer.model().weights().map_err(|e| format!("The weights could not be read: {e}."))?;
        Ok(anomaly_engine::table::onnx::export_digits(&weights, self.experiment.settings().model.vae.score_with_kl))
    }

    /// The finished session as a file: its settings, the stage-1 weights, the loss of each epoch and the
    /// weights of each finished stage-2 run.
    pub fn saved(&mut self) -> Result<DigitSession, String> {
        if !self.at_rest() {
            return Err("Let the training finish first; then the session can be saved.".into());
        }
        let model_weights = |s: &Self| s.experiment.trainer.model().weights().map_err(|e| format!("The weights could not be read: {e}."));
        // With a stage-2 run on top, stage 1's weights are the run's starting point: read them there and
        // put the run's weights back.
        let stage1 = match self.stage2.as_ref() {
            Some(run) => {
                let now = model_weights(self)?;
                run.restore_stage1().map_err(|e| format!("The stage-1 weights could not be read: {e}."))?;
                let stage1 = model_weights(self)?;
                self.experiment.trainer.load_trained(&now).map_err(|e| format!("The weights could not be put back: {e}."))?;
                stage1
            }
            None => model_weights(self)?,
        };
        Ok(DigitSession {
            settings: self.experiment.settings().clone(),
            stage1,
            losses: self.losses.clone(),
            awareness: self.finished_awareness.clone(),
        })
    }

    fn fine_tune_for(&mut self, budget_ms: f64) {
        let Some(run) = self.stage2.as_mut() else {
            self.running = false;
            return;
        };
        if !run.is_ready() {
            return; // the stage-1 scores come first (`evaluate_pending`, after this chunk)
        }
        // Stage 2 reports its own progress (step, λ), so its steps are counted apart from stage 1's.
        let end = train_chunk(run.training(), &mut Meter::default(), &now_ms, budget_ms, StopAt { step: None, epoch_end: false });
        if let Stop::Diverged(err) | Stop::Failed(err) = end.stop {
            self.running = false;
            self.fine_tuning = false;
            self.stage2 = None; // its stage-1 weights are already back in the model
            self.post_evaluation();
            let at = match err {
                TrainError::Diverged { epoch, step, loss } => format!("at epoch {epoch}, step {step} (the loss became {loss})"),
                other => format!("({other})"),
            };
            self.say(Event::digits(RunEvent::Diverged {
                message: format!(
                    "fine-tuning diverged {at}. The stage-1 weights are back, so you can fine-tune again: \
                     try a smaller λ max, margin or fine-tuning learning rate."
                ),
            }));
            return;
        }
        if let Some(report) = end.last {
            let step = run.training().steps_done();
            let total_steps = run.training().total_steps();
            // The λ of the step just taken.
            post(&Event::FineTuneProgress { step, total_steps, lambda: run.lambda_at(step - 1), loss: report.loss });
        }
        if end.stop == Stop::Finished {
            self.running = false;
            self.fine_tuning = false;
            // The results are posted when stage 2's images are scored, then the digit view's evaluation;
            // "finished" waits for both.
            self.stage2_scores_due = Some(true);
            self.post_evaluation();
            self.say(Event::Finished);
        }
    }

    /// Times the benchmark model of `make bench` (784-256-16, batch 64, Adam) on the real digits.
    pub fn benchmark(digits: &DigitSet, steps: usize) -> Event {
        let settings = ModelSettings::default();
        let rows: Vec<usize> = (0..digits.len()).collect();
        let data = TrainData {
            features: anomaly_engine::data::IMAGE_PIXELS,
            likelihood: anomaly_engine::models::Likelihood::Bernoulli,
            train: digits.gather_f32(&rows),
            validation: vec![],
        };
        let mut trainer = match Trainer::new(&settings, data) {
            Ok(trainer) => trainer,
            Err(err) => return Event::failed(format!("The benchmark could not start: {err}.")),
        };
        for _ in 0..3 {
            if let Err(err) = trainer.step() {
                return Event::failed(format!("The benchmark failed: {err}."));
            }
        }
        let started = now_ms();
        for _ in 0..steps {
            if let Err(err) = trainer.step() {
                return Event::failed(format!("The benchmark failed: {err}."));
            }
        }
        Event::BenchmarkResult { steps, milliseconds_per_step: (now_ms() - started) / steps.max(1) as f64 }
    }
}

/// One picture of each Fashion-MNIST class, as one entry of the page's gallery.
pub fn fashion_thumbnail(fashion: &DigitSet) -> FamilyThumbnail {
    let firsts: Vec<usize> = (0..10u8).filter_map(|c| (0..fashion.len()).find(|&i| fashion.label(i) == c)).collect();
    FamilyThumbnail {
        family: anomaly_engine::data::anomalies::AnomalyFamily::Fashion(0),
        name: "Fashion-MNIST".into(),
        description: format!("real pictures of clothing, one of each class: {}", anomaly_engine::data::idx::FASHION_CLASSES.join(", ")),
        images: firsts.iter().map(|&i| fashion.image_bytes(i).to_vec()).collect(),
    }
}

/// Six examples of each synthetic family, made from one real digit of each of the classes 0–5.
pub fn thumbnails(digits: &DigitSet) -> Vec<FamilyThumbnail> {
    let firsts: Vec<usize> = (0..6u8).filter_map(|d| (0..digits.len()).find(|&i| digits.label(i) == d)).collect();
    let base = digits.gather_f32(&firsts);
    SYNTHETIC
        .iter()
        .map(|&family| {
            let pixels = family.synthesise(&base, 6, 1);
            FamilyThumbnail {
                family,
                name: family.name(),
                description: family.description(),
                images: pixels
                    .chunks(anomaly_engine::data::IMAGE_PIXELS)
                    .map(|image| image.iter().map(|&p| (p * 255.0).round() as u8).collect())
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::worker::set_host;
    use crate::worker::test_host::TestHost;
    use anomaly_engine::inference::CpuScorer;
    use anomaly_engine::rng::SeededRng;
    use anomaly_engine::settings::{OptimiserSettings, VaeSettings};
    use anomaly_engine::train::Training;

    /// 30 noisy images of each digit, each class its own blob of bright pixels.
    pub(crate) fn digits() -> Rc<DigitSet> {
        let mut rng = SeededRng::new(5);
        let labels: Vec<u8> = (0..300).map(|i| (i % 10) as u8).collect();
        let pixels = labels
            .iter()
            .flat_map(|&d| {
                let values: Vec<u8> = (0..784).map(|p| if p / 78 == d as usize { 200 + (rng.below(50) as u8) } else { rng.below(30) as u8 }).collect();
                values
            })
            .collect();
        Rc::new(DigitSet::new(labels, pixels).unwrap())
    }

    pub(crate) fn settings(epochs: usize) -> TrainSettings {
        TrainSettings { normal_digits: vec![0, 1, 2], model: ModelSettings { vae: VaeSettings { hidden_units: 16, latent_dims: 2, ..Default::default() }, optimiser: OptimiserSettings { batch_size: 16, epochs, ..Default::default() } } }
    }

    /// What the page would be told, without the progress messages in between.
    /// Mini-batches the current run has trained.
    pub(crate) fn steps_done(state: &WorkerState) -> usize {
        state.session.as_ref().expect("a run").experiment.trainer.run().steps_done()
    }

    pub(crate) fn told(recorder: &TestHost) -> Vec<String> {
        let names = recorder.events.borrow().iter().filter(|e| !matches!(e, Event::Run { event: RunEvent::Progress(_), .. })).map(event_name).collect();
        recorder.events.borrow_mut().clear();
        names
    }

    fn event_name(event: &Event) -> String {
        match event {
            Event::RunStarted { .. } => "RunStarted".into(),
            Event::Run { event: RunEvent::EpochEnded { epoch, .. }, .. } => format!("EpochEnded {epoch}"),
            Event::Evaluated { .. } => "Evaluated".into(),
            Event::Finished => "Finished".into(),
            Event::Run { event: RunEvent::Paused, .. } => "Paused".into(),
            Event::FineTuneStarted { control, .. } => format!("FineTuneStarted{}", if *control { " (control)" } else { "" }),
            Event::FineTuneProgress { step, total_steps, .. } => format!("FineTuneProgress {step}/{total_steps}"),
            Event::FineTuneFinished { .. } => "FineTuneFinished".into(),
            other => format!("{other:?}").chars().take(60).collect(),
        }
    }

    /// Trains as the worker's run loop does, scoring what the session asks for on the CPU between chunks,
    /// until the run stops.
    fn run_to_a_stop(state: &mut WorkerState) {
        while state.session.as_ref().is_some_and(|s| s.running) {
            state.session.as_mut().unwrap().train_for(40.0);
            score_pending(state);
        }
    }

    fn score_pending(state: &mut WorkerState) {
        while let Some(job) = state.next_scoring_job() {
            let scores = cpu_scores(&job);
            state.accept_scores(job, &scores, Backend::Cpu);
        }
    }

    /// What the backend seam would give for `job` on the CPU.
    fn cpu_scores(job: &ScoringJob) -> Vec<f32> {
        let scorer = CpuScorer::for_model(&job.model);
        let mut scores = vec![0f32; job.pixels.len() / scorer.features()];
        scorer.score(&job.pixels, &mut scores);
        scores
    }

    fn worker(recorder: &Rc<TestHost>) -> WorkerState {
        set_host(recorder.clone());
        WorkerState { digits: Some(digits()), ..Default::default() }
    }

    #[test]
    fn a_run_reports_each_epoch_and_says_finished_only_after_its_last_evaluation() {
        let recorder = Rc::new(TestHost::default());
        let mut state = worker(&recorder);
        assert!(state.start_or_resume(&settings(3), None));
        run_to_a_stop(&mut state);
        // The first epoch is evaluated at once; later ones wait for the evaluation interval (the clock
        // stands still here), and the end of the run is always evaluated before "finished".
        assert_eq!(told(&recorder), ["RunStarted", "EpochEnded 1", "Evaluated", "EpochEnded 2", "EpochEnded 3", "Evaluated", "Finished"]);
    }

    #[test]
    fn an_epoch_is_evaluated_again_once_the_interval_has_passed() {
        let recorder = Rc::new(TestHost::default());
        let mut state = worker(&recorder);
        assert!(state.start_or_resume(&settings(2), None));
        let session = state.session.as_mut().unwrap();
        session.train_for(40.0);
        score_pending(&mut state);
        recorder.clock.set(EVALUATION_INTERVAL_MS);
        run_to_a_stop(&mut state);
        // The last epoch's own evaluation serves as the run's: it is not scored twice.
        assert_eq!(told(&recorder), ["RunStarted", "EpochEnded 1", "Evaluated", "EpochEnded 2", "Evaluated", "Finished"]);
    }

    #[test]
    fn stepping_one_batch_pauses_after_its_evaluation_and_the_same_settings_resume_the_run() {
        let recorder = Rc::new(TestHost::default());
        let mut state = worker(&recorder);
        assert!(state.start_or_resume(&settings(2), Some(StepUnit::Batch)));
        run_to_a_stop(&mut state);
        assert_eq!(told(&recorder), ["RunStarted", "Evaluated", "Paused"]);
        let steps = |state: &WorkerState| steps_done(state);
        assert_eq!(steps(&state), 1);
        // The same settings carry on the run (no new start); other settings start a new one.
        assert!(state.start_or_resume(&settings(2), Some(StepUnit::Epoch)));
        run_to_a_stop(&mut state);
        assert_eq!(told(&recorder), ["EpochEnded 1", "Evaluated", "Paused"]);
        assert!(state.start_or_resume(&settings(3), Some(StepUnit::Batch)));
        assert_eq!(told(&recorder), ["RunStarted"]);
        assert_eq!(steps(&state), 0);
    }

    #[test]
    fn an_evaluation_of_a_superseded_run_is_dropped_and_what_waited_for_it_still_comes() {
        let recorder = Rc::new(TestHost::default());
        let mut state = worker(&recorder);
        assert!(state.start_or_resume(&settings(1), None));
        state.session.as_mut().unwrap().train_for(40.0);
        let job = state.next_scoring_job().expect("the run's end is evaluated");
        state.generation += 1; // as a Pause or a new run does while the scores are computed
        let scores = cpu_scores(&job);
        state.accept_scores(job, &scores, Backend::Cpu);
        assert_eq!(told(&recorder), ["RunStarted", "EpochEnded 1", "Finished"]);
    }

    #[test]
    fn fine_tuning_starts_after_its_before_scores_and_finishes_after_its_results_and_the_evaluation() {
        let recorder = Rc::new(TestHost::default());
        let mut state = worker(&recorder);
        assert!(state.start_or_resume(&settings(1), None));
        run_to_a_stop(&mut state);
        told(&recorder);
        let digits = state.digits.clone().unwrap();
        let awareness = AwarenessSettings { shown: vec![anomaly_engine::data::anomalies::AnomalyFamily::Blobs], labelled_anomalies: 6, epochs: 1, ..Default::default() };
        for control in [false, true] {
            assert!(state.session.as_mut().unwrap().start_fine_tuning(&digits, None, &awareness, control));
            run_to_a_stop(&mut state);
            let total = state.session.as_ref().unwrap().stage2.as_ref().unwrap().total_steps();
            let started = if control { "FineTuneStarted (control)" } else { "FineTuneStarted" };
            // No step before the "before" column is in; the whole run fits one chunk on this clock.
            assert_eq!(
                told(&recorder),
                [started.to_string(), format!("FineTuneProgress {total}/{total}"), "FineTuneFinished".into(), "Evaluated".into(), "Finished".into()]
            );
        }
    }

    /// Every event with a number the page shows, in order, as text: a restored session must tell the page
    /// exactly what the run it saved told it.
    fn shown_numbers(recorder: &TestHost) -> Vec<String> {
        let shown = recorder
            .events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Run { event: RunEvent::EpochEnded { epoch, train_loss, validation_loss }, .. } => Some(format!("epoch {epoch}: {train_loss} {validation_loss:?}")),
                Event::Evaluated { evaluation, .. } => Some(format!("AUC {}", evaluation.auc)),
                Event::FineTuneStarted { before, control, .. } => Some(format!("before (control {control}): {before:?}")),
                Event::FineTuneFinished { results, control, .. } => Some(format!("after (control {control}): {results:?}")),
                _ => None,
            })
            .collect();
        recorder.events.borrow_mut().clear();
        shown
    }

    #[test]
    fn a_saved_session_opens_without_training_and_shows_the_same_numbers() {
        let recorder = Rc::new(TestHost::default());
        let mut state = worker(&recorder);
        assert!(state.start_or_resume(&settings(2), None));
        run_to_a_stop(&mut state);
        let digits = state.digits.clone().unwrap();
        let awareness = AwarenessSettings { shown: vec![anomaly_engine::data::anomalies::AnomalyFamily::Blobs], labelled_anomalies: 6, epochs: 1, ..Default::default() };
        for control in [false, true] {
            assert!(state.session.as_mut().unwrap().start_fine_tuning(&digits, None, &awareness, control));
            run_to_a_stop(&mut state);
        }
        // What the page saw, without the mid-run evaluations and the "before" columns taken before training.
        let trained = shown_numbers(&recorder);
        let saved = state.session.as_mut().unwrap().saved().unwrap();
        let bytes = saved.to_bytes();
        assert!(saved.awareness.as_ref().is_some_and(|a| a.aware.is_some() && a.control.is_some()));

        let recorder = Rc::new(TestHost::default());
        let mut opened = worker(&recorder);
        assert!(opened.open_session("class.safetensors".into(), DigitSession::from_bytes(&bytes).unwrap()));
        score_pending(&mut opened);
        let trained_here = recorder.events.borrow().iter().any(|e| matches!(e, Event::FineTuneProgress { .. } | Event::Run { event: RunEvent::Progress(_), .. }));
        assert!(!trained_here, "nothing was trained");
        let names: Vec<String> = recorder.events.borrow().iter().map(event_name).collect();
        assert!(names[0].starts_with("SessionOpened { file_name: \"class.safetensors\""), "{}", names[0]);
        assert_eq!(names[1], "RunStarted");
        assert_eq!(&names[2..], ["EpochEnded 1", "EpochEnded 2", "FineTuneStarted", "FineTuneFinished", "FineTuneStarted (control)", "FineTuneFinished", "Evaluated", "Finished"]);
        let restored = shown_numbers(&recorder);
        // The trained run was evaluated after its first epoch, after stage 1 and after each stage-2 run; the
        // opened one is evaluated once, at the end, with the model the last run left: the trained run's last.
        let last_auc = trained.iter().rev().find(|l| l.starts_with("AUC")).cloned().unwrap();
        let mut expected: Vec<String> = trained.into_iter().filter(|l| !l.starts_with("AUC")).collect();
        expected.push(last_auc);
        assert_eq!(restored, expected);
        // And it can be saved again, the same session.
        let again = opened.session.as_mut().unwrap().saved().unwrap();
        assert!(again.settings == saved.settings && again.losses == saved.losses, "settings and losses");
        assert!(again.stage1 == saved.stage1, "stage 1");
        assert!(again.awareness == saved.awareness, "awareness");
    }
}
