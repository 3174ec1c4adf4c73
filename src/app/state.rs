//! The page's state: plain values in signals, changed only by the visitor's edits and the worker's events.

use leptos::prelude::*;

use super::run_view::{apply_run_event, Request, RunCurves, RunView};
use super::hunt::state::HuntState;
use super::events::state::EventsState;
use super::jets::state::JetState;
use super::table::state::{TableState, TABLE_FIELD};
use crate::protocol::{Backend, BackendStatus, Event, FamilyThumbnail, RunOf};
pub use super::worker_link::{SingleReason, WorkerBuild};
use anomaly_engine::awareness::{AwarenessSettings, FamilyAuc, FamilyDetail};
use anomaly_state::page::PagePart;
use anomaly_state::tutorials::TutorialStep;
use anomaly_engine::settings::ModelSettings;
use anomaly_engine::{Evaluation, SettingProblem, TrainSettings};

/// Prefix of the ids of the Anomaly Awareness form's fields.
pub const AWARENESS_FIELD: &str = "aa_";

#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    LoadingData,
    DataFailed(String),
    Ready,
    Training,
    /// Stage 2: fine-tuning with labelled anomalies.
    FineTuning,
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

/// Stage 2 as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FineTuneView {
    pub before: Vec<FamilyAuc>,
    pub margin: f32,
    pub labelled: usize,
    pub step: usize,
    pub total_steps: usize,
    pub lambda: f32,
    pub results: Option<Vec<FamilyAuc>>,
    pub details: Vec<FamilyDetail>,
    /// Where the evaluation images were scored, with the stage-1 model and with the fine-tuned one.
    pub before_on: Backend,
    pub after_on: Option<Backend>,
    /// The settings the run used: a control compares with a run of the same settings only.
    pub settings: AwarenessSettings,
}

/// Shared through context; every field is a signal, so the struct is `Copy`.
#[derive(Clone, Copy)]
pub struct Playground {
    /// Stage 1's settings, in their parts: which digits are normal, and the model with its training.
    pub normal_digits: RwSignal<Vec<u8>>,
    pub model: RwSignal<ModelSettings>,
    /// Inputs whose text is not a number at all (range problems come from `TrainSettings::problems`).
    pub unreadable: RwSignal<Vec<SettingProblem>>,
    pub phase: RwSignal<Phase>,
    /// The phase before the visitor's latest request, until the worker takes it up.
    pub request: Request<Phase>,
    /// The latest sentence about something that went wrong but did not stop the page.
    pub notice: RwSignal<Option<String>>,
    pub digits_loaded: RwSignal<usize>,
    /// The worker has said it hears commands (see `Event::Listening`).
    pub worker_listening: RwSignal<bool>,
    pub run: RwSignal<Option<RunInfo>>,
    pub curves: RunCurves,
    pub evaluation: RwSignal<Option<Evaluation>>,
    pub awareness: RwSignal<AwarenessSettings>,
    pub thumbnails: RwSignal<Vec<FamilyThumbnail>>,
    /// Whether Fashion-MNIST is loaded (its classes are then families of Anomaly Awareness), or why not.
    pub fashion: RwSignal<FashionStatus>,
    pub fine_tune: RwSignal<Option<FineTuneView>>,
    /// The latest control run: the same fine-tuning without the labelled anomalies.
    pub control_run: RwSignal<Option<FineTuneView>>,
    /// Whether the stage-2 run under way (or last started) is the control.
    pub running_control: RwSignal<bool>,
    /// Bumped when the window is resized, so canvases redraw at their new size.
    pub layout: RwSignal<u32>,
    /// The "score your own events" view.
    pub table: TableState,
    /// The "resonance hunt" view.
    pub hunt: HuntState,
    /// The "jet images" view.
    pub jets: JetState,
    /// The "events as objects" view (AnomalyCLR).
    pub events: EventsState,
    pub view: RwSignal<View>,
    /// Where scoring runs (WebGPU or the CPU) and why, as the worker reports it.
    pub backend: RwSignal<Option<BackendStatus>>,
    /// The worker build that runs and why (set when the worker starts).
    pub build: RwSignal<WorkerBuild>,
    /// The visitor's thread count; `None` for all the threaded build has.
    pub threads: RwSignal<Option<usize>>,
    /// Where the latest evaluation of the test digits was scored.
    pub evaluated_on: RwSignal<Option<Backend>>,
    /// Classroom mode: parts of the page the link hides.
    pub hidden: RwSignal<Vec<PagePart>>,
    /// Embed mode (`embed=1`): the compact page of an iframe.
    pub embedded: RwSignal<bool>,
    /// What the last opened session file was, said under its button.
    pub opened_session: RwSignal<Option<String>>,
    /// The tutorial step on screen, if a tutorial is open.
    pub tutorial: RwSignal<Option<TutorialStep>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FashionStatus {
    /// Not asked for yet: it is fetched only when a visitor wants its families.
    NotLoaded,
    Loading,
    /// Loaded, with this many pictures.
    Ready(usize),
    /// Why it could not be loaded, as a sentence for the visitor.
    Missing(String),
}

/// Which of the page's views is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Digits,
    Table,
    Hunt,
    Jets,
    Events,
}

impl Playground {
    /// Whether a classroom link hides this part of the page (tracked).
    pub fn hides(&self, part: PagePart) -> bool {
        self.hidden.with(|h| h.contains(&part))
    }

    pub fn new() -> Self {
        Self {
            normal_digits: RwSignal::new(TrainSettings::default().normal_digits),
            model: RwSignal::new(ModelSettings::default()),
            unreadable: RwSignal::new(Vec::new()),
            phase: RwSignal::new(Phase::LoadingData),
            request: Request::new(),
            notice: RwSignal::new(None),
            digits_loaded: RwSignal::new(0),
            worker_listening: RwSignal::new(false),
            run: RwSignal::new(None),
            curves: RunCurves::new(),
            evaluation: RwSignal::new(None),
            awareness: RwSignal::new(AwarenessSettings::default()),
            thumbnails: RwSignal::new(Vec::new()),
            fashion: RwSignal::new(FashionStatus::NotLoaded),
            fine_tune: RwSignal::new(None),
            control_run: RwSignal::new(None),
            running_control: RwSignal::new(false),
            layout: RwSignal::new(0),
            table: TableState::new(),
            hunt: HuntState::new(),
            jets: JetState::new(),
            events: EventsState::new(),
            view: RwSignal::new(View::Digits),
            backend: RwSignal::new(None),
            build: RwSignal::new(WorkerBuild::Single(SingleReason::NotIsolated)),
            threads: RwSignal::new(None),
            evaluated_on: RwSignal::new(None),
            hidden: RwSignal::new(Vec::new()),
            embedded: RwSignal::new(false),
            opened_session: RwSignal::new(None),
            tutorial: RwSignal::new(None),
        }
    }

    /// Stage 1's settings as the worker takes them (tracked).
    pub fn train_settings(&self) -> TrainSettings {
        TrainSettings { normal_digits: self.normal_digits.get(), model: self.model.get() }
    }

    pub fn train_settings_untracked(&self) -> TrainSettings {
        TrainSettings { normal_digits: self.normal_digits.get_untracked(), model: self.model.get_untracked() }
    }

    /// Puts a whole set of stage-1 settings on the page.
    pub fn set_train_settings(&self, settings: TrainSettings) {
        self.normal_digits.set(settings.normal_digits);
        self.model.set(settings.model);
    }

    /// Problems with the stage-1 settings: unreadable inputs first, then out-of-range values.
    pub fn problems(&self) -> Vec<SettingProblem> {
        let mut problems: Vec<SettingProblem> = self
            .unreadable
            .get()
            .into_iter()
            .filter(|p| !p.field.starts_with(AWARENESS_FIELD) && !p.field.starts_with(TABLE_FIELD))
            .collect();
        problems.extend(self.train_settings().problems());
        problems
    }

    /// Problems with the stage-2 settings; their fields carry the `aa_` prefix of the awareness form.
    pub fn awareness_problems(&self) -> Vec<SettingProblem> {
        let mut problems: Vec<SettingProblem> = self.unreadable.get().into_iter().filter(|p| p.field.starts_with(AWARENESS_FIELD)).collect();
        let settings = self.train_settings();
        problems.extend(self.awareness.with(|a| a.problems(&settings)).into_iter().map(|p| SettingProblem {
            field: format!("{AWARENESS_FIELD}{}", p.field),
            message: p.message,
        }));
        problems
    }

    /// Problems with the table view's model settings (fields prefixed [`TABLE_FIELD`]).
    pub fn table_problems(&self) -> Vec<SettingProblem> {
        let mut problems: Vec<SettingProblem> = self.unreadable.get().into_iter().filter(|p| p.field.starts_with(TABLE_FIELD)).collect();
        problems.extend(self.table.model_problems());
        problems
    }

    pub fn all_problems(&self) -> Vec<SettingProblem> {
        let mut problems = self.problems();
        problems.extend(self.awareness_problems());
        problems.extend(self.table_problems());
        problems
    }

    pub fn clear_run(&self) {
        self.run.set(None);
        self.curves.clear();
        self.evaluation.set(None);
        self.fine_tune.set(None);
        self.control_run.set(None);
    }

    /// The control run's results, if it used the same settings as the anomaly-aware run on screen (both
    /// start from the same stage-1 model: a new stage 1 clears both).
    pub fn matching_control(&self) -> Option<Vec<FamilyAuc>> {
        let settings = self.fine_tune.with(|f| f.as_ref().map(|f| f.settings.clone()))?;
        self.control_run.with(|c| c.as_ref().filter(|c| c.settings == settings).and_then(|c| c.results.clone()))
    }

    /// How the page changes when the worker says something.
    pub fn apply(&self, event: Event) {
        match event {
            Event::DataReady { digits } => {
                self.digits_loaded.set(digits);
                self.phase.set(Phase::Ready);
            }
            Event::DataFailed { message } => self.phase.set(Phase::DataFailed(message)),
            Event::SessionOpened { file_name, settings, awareness } => {
                // The form shows what the session ran with; its run follows as the events of a run.
                let stage2 = if awareness.is_some() { ", with its Anomaly Awareness fine-tuning" } else { "" };
                self.set_train_settings(settings);
                if let Some(awareness) = awareness {
                    self.awareness.set(awareness);
                }
                self.fine_tune.set(None);
                self.control_run.set(None);
                self.notice.set(None);
                self.opened_session.set(Some(format!("Opened \"{file_name}\": the trained network{stage2}, as it was saved; nothing was trained here.")));
            }
            Event::RunStarted { settings, train_rows, steps_per_epoch } => {
                self.request.accepted();
                self.clear_run();
                self.run.set(Some(RunInfo { settings, train_rows, steps_per_epoch }));
            }
            Event::Run { of: RunOf::Digits, event } => apply_run_event(self, event),
            Event::Run { of: RunOf::Table, event } => self.table.apply_run(event),
            Event::Run { of: RunOf::Hunt, event } => self.hunt.apply_run(event),
            Event::Hunt(event) => self.hunt.apply(*event),
            Event::Run { of: RunOf::Jets, event } => self.jets.apply_run(event),
            Event::Jets(event) => self.jets.apply(*event),
            Event::Run { of: RunOf::Events, event } => self.events.apply_run(event),
            Event::Events(event) => self.events.apply(*event),
            Event::Evaluated { evaluation, backend } => {
                self.evaluation.set(Some(*evaluation));
                self.evaluated_on.set(Some(backend));
            }
            Event::Backend(status) => self.backend.set(Some(status)),
            Event::Listening => self.worker_listening.set(true),
            Event::DigitScoringBenchmark { .. } => {} // for `make bench`, which reads the message itself
            Event::Finished => self.phase.set(Phase::Finished),
            Event::Crashed { message } => self.phase.set(Phase::WorkerDied(message)),
            Event::ResetDone => {
                self.clear_run();
                self.opened_session.set(None);
                self.phase.set(Phase::Ready);
            }
            Event::FamilyThumbnails(thumbnails) => self.thumbnails.update(|t| {
                // Fashion-MNIST's entry may have come first; the synthetic families go before it.
                t.retain(|thumb| thumb.family.needs_fashion());
                t.splice(0..0, thumbnails);
            }),
            Event::FashionReady { images, thumbnail } => {
                // A restarted worker says it again: one Fashion-MNIST entry, at the end.
                self.thumbnails.update(|t| {
                    t.retain(|thumb| !thumb.family.needs_fashion());
                    t.push(thumbnail);
                });
                self.fashion.set(FashionStatus::Ready(images));
            }
            Event::FashionMissing { message } => self.fashion.set(FashionStatus::Missing(message)),
            Event::FineTuneStarted { before, margin, labelled, total_steps, backend, settings, control } => {
                self.request.accepted();
                let view = FineTuneView {
                    before,
                    margin,
                    labelled,
                    step: 0,
                    total_steps,
                    lambda: 0.0,
                    results: None,
                    details: Vec::new(),
                    before_on: backend,
                    after_on: None,
                    settings,
                };
                self.running_control.set(control);
                if control {
                    self.control_run.set(Some(view));
                } else {
                    self.fine_tune.set(Some(view));
                }
            }
            Event::FineTuneProgress { step, total_steps, lambda, .. } => {
                self.request.accepted();
                self.stage2_view().update(|view| {
                    if let Some(view) = view {
                        (view.step, view.total_steps, view.lambda) = (step, total_steps, lambda);
                    }
                })
            }
            Event::FineTuneFinished { results, details, backend, control } => {
                let target = if control { self.control_run } else { self.fine_tune };
                target.update(|view| {
                    if let Some(view) = view {
                        view.after_on = Some(backend);
                        view.step = view.total_steps;
                        view.results = Some(results);
                        view.details = details;
                    }
                })
            }
            Event::Table(event) => self.table.apply(*event),
            // Only `make bench` asks for a benchmark, from its own page.
            Event::BenchmarkResult { .. } => {}
        }
    }
}

impl RunView for Playground {
    fn curves(&self) -> RunCurves {
        self.curves
    }

    fn accepted(&self) {
        self.request.accepted();
    }

    fn paused(&self) {
        if matches!(self.phase.get_untracked(), Phase::Training | Phase::FineTuning) {
            self.phase.set(Phase::Paused);
        }
    }

    fn diverged(&self, message: String) {
        self.phase.set(Phase::Diverged(message));
    }

    fn failed(&self, message: String) {
        self.notice.set(Some(message));
        if let Some(before) = self.request.refused() {
            self.phase.set(before);
        } else if matches!(self.phase.get_untracked(), Phase::Training | Phase::FineTuning) {
            self.phase.set(Phase::Paused);
        }
    }
}

impl Playground {
    /// A stage-2 run paused midway, if the pause caught one: whether it is the control, its step and
    /// its total steps. Its half-tuned weights are the network's until something else runs.
    pub fn paused_stage2(&self) -> Option<(bool, usize, usize)> {
        if self.phase.get() != Phase::Paused {
            return None;
        }
        let control = self.running_control.get();
        let view = if control { self.control_run } else { self.fine_tune };
        view.with(|v| v.as_ref().filter(|v| v.results.is_none()).map(|v| (control, v.step, v.total_steps)))
    }

    /// Whether Fine-tune (or, for `control`, the control button) carries on the paused run instead of
    /// starting anew: the worker does so for a run of the same kind and settings.
    pub fn can_resume_stage2(&self, control: bool) -> bool {
        let view = if control { self.control_run } else { self.fine_tune };
        self.paused_stage2().is_some_and(|(c, _, _)| c == control)
            && view.with(|v| v.as_ref().is_some_and(|v| self.awareness.with(|a| *a == v.settings)))
    }

    /// Whether stage 1 has run all its epochs (the worker then trains a new run, not the same one).
    pub fn stage1_finished(&self) -> bool {
        self.curves.progress.with(|p| p.as_ref().is_some_and(|p| p.epochs_done >= p.epochs))
    }

    /// The view of the stage-2 run under way: the control's or the anomaly-aware one's.
    fn stage2_view(&self) -> RwSignal<Option<FineTuneView>> {
        if self.running_control.get_untracked() {
            self.control_run
        } else {
            self.fine_tune
        }
    }
}

impl Default for Playground {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::Owner;

    use super::*;
    use crate::app::run_view::EpochLoss;
    use crate::protocol::{Progress, RunEvent};
    use anomaly_engine::data::anomalies::AnomalyFamily;

    fn progress(epochs_done: usize, step_in_epoch: usize, losses: &[f32]) -> Event {
        Event::digits(RunEvent::Progress(Progress {
            epochs_done,
            epochs: 2,
            step_in_epoch,
            steps_per_epoch: 3,
            total_steps: epochs_done * 3 + step_in_epoch,
            recent_losses: losses.to_vec(),
            samples_per_second: 100.0,
            seconds_left: 1.0,
        }))
    }

    /// The events of a two-epoch run of three steps an epoch, as the worker sends them.
    fn stage1_run() -> Vec<Event> {
        vec![
            Event::RunStarted { settings: TrainSettings::default(), train_rows: 150, steps_per_epoch: 3 },
            progress(0, 2, &[9.0, 8.0]),
            progress(1, 0, &[7.0]),
            Event::digits(RunEvent::EpochEnded { epoch: 1, train_loss: 8.0, validation_loss: Some(7.5) }),
            progress(1, 3, &[6.0, 5.0, 4.0]),
            Event::digits(RunEvent::EpochEnded { epoch: 2, train_loss: 5.0, validation_loss: Some(4.5) }),
            Event::Finished,
        ]
    }

    /// Applies `events` to a fresh page in training, and reads back what the page shows of them.
    fn shown_after(events: Vec<Event>) -> (Phase, Vec<f32>, Vec<EpochLoss>, Option<usize>, Option<usize>) {
        Owner::new().with(|| {
            let page = Playground::new();
            page.phase.set(Phase::Training);
            for event in events {
                page.apply(event);
            }
            let run_rows = page.run.get().map(|r| r.train_rows);
            let curves = page.curves;
            (page.phase.get(), curves.step_losses.get(), curves.epochs.get(), curves.progress.get().map(|p| p.total_steps), run_rows)
        })
    }

    #[test]
    fn a_runs_events_build_its_loss_curve_epochs_and_end() {
        let (phase, losses, epochs, steps, run_rows) = shown_after(stage1_run());
        assert_eq!(phase, Phase::Finished);
        assert_eq!(losses, vec![9.0, 8.0, 7.0, 6.0, 5.0, 4.0]);
        assert_eq!(epochs.iter().map(|e| (e.epoch, e.train, e.validation)).collect::<Vec<_>>(), vec![(1, 8.0, Some(7.5)), (2, 5.0, Some(4.5))]);
        assert_eq!((steps, run_rows), (Some(6), Some(150)));
    }

    #[test]
    fn a_dropped_or_reordered_event_shows_on_the_page() {
        let full = shown_after(stage1_run());
        for dropped in 0..stage1_run().len() {
            let mut events = stage1_run();
            events.remove(dropped);
            assert_ne!(shown_after(events), full, "dropping event {dropped} changed nothing on the page");
        }
        // A run's start arriving after its first progress wipes that progress from the loss curve.
        let mut late_start = stage1_run();
        late_start.swap(0, 1);
        assert_ne!(shown_after(late_start).1, full.1);
        // A "Paused" that arrives after "Finished" leaves the run finished.
        let mut paused_late = stage1_run();
        paused_late.push(Event::digits(RunEvent::Paused));
        assert_eq!(shown_after(paused_late).0, Phase::Finished);
    }

    /// A request the worker refuses before taking it up puts the page back where it was; a failure in a
    /// run it took up leaves that run paused.
    #[test]
    fn a_refused_request_goes_back_and_a_failure_midway_pauses() {
        Owner::new().with(|| {
            let page = Playground::new();
            page.phase.set(Phase::Ready);
            page.request.begin(page.phase, Phase::Training);
            page.apply(Event::failed("The digits are still loading; try again in a moment."));
            assert_eq!(page.phase.get_untracked(), Phase::Ready);
            assert!(page.notice.get_untracked().is_some_and(|n| n.contains("still loading")));

            for event in stage1_run() {
                page.apply(event);
            }
            page.request.begin(page.phase, Phase::FineTuning);
            page.apply(Event::failed("Pick at least one anomaly family to show the network."));
            assert_eq!(page.phase.get_untracked(), Phase::Finished);

            page.request.begin(page.phase, Phase::Training);
            page.apply(progress(0, 1, &[3.0]));
            page.apply(Event::failed("Training stopped: out of memory."));
            assert_eq!(page.phase.get_untracked(), Phase::Paused);
        })
    }

    fn family(name: &str, shown: bool, before: f64, after: Option<f64>) -> FamilyAuc {
        FamilyAuc { family: AnomalyFamily::Noise, name: name.into(), shown, count: 10, before, after }
    }

    fn stage2_started(control: bool) -> Event {
        Event::FineTuneStarted {
            before: vec![family("noisy", true, 0.8, None), family("digit 9", false, 0.6, None)],
            margin: 3.0,
            labelled: 40,
            total_steps: 10,
            backend: Backend::Cpu,
            settings: AwarenessSettings::default(),
            control,
        }
    }

    fn stage2_finished(control: bool, gain: f64) -> Event {
        Event::FineTuneFinished {
            results: vec![family("noisy", true, 0.8, Some(0.8 + gain)), family("digit 9", false, 0.6, Some(0.6 + gain))],
            details: Vec::new(),
            backend: Backend::WebGpu,
            control,
        }
    }

    /// The fine-tuned run's and the control's results as the page pairs them.
    fn awareness_after(events: Vec<Event>) -> (Option<Vec<FamilyAuc>>, Option<Vec<FamilyAuc>>) {
        Owner::new().with(|| {
            let page = Playground::new();
            page.phase.set(Phase::FineTuning);
            for event in events {
                page.apply(event);
            }
            (page.fine_tune.with(|f| f.as_ref().and_then(|f| f.results.clone())), page.matching_control())
        })
    }

    #[test]
    fn a_control_run_is_kept_apart_from_the_run_it_controls() {
        let events = || {
            vec![
                stage2_started(false),
                Event::FineTuneProgress { step: 5, total_steps: 10, lambda: 2.0, loss: 1.0 },
                stage2_finished(false, 0.2),
                stage2_started(true),
                stage2_finished(true, 0.05),
            ]
        };
        let (aware, control) = awareness_after(events());
        assert_eq!(aware.unwrap()[1].after, Some(0.8));
        assert_eq!(control.unwrap()[1].after, Some(0.65));
        // A control's results arriving before the control started are lost, and the page shows none.
        let mut early = events();
        early.swap(3, 4);
        assert_eq!(awareness_after(early).1, None);
        // Without the anomaly-aware run's start, its results have nowhere to go.
        let mut dropped = events();
        dropped.remove(0);
        assert_eq!(awareness_after(dropped), (None, None));
    }
}
