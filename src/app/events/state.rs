//! The Events view's study as the page holds it: the visitor's choices, and what the worker has said so
//! far. Every panel renders from here. Its phases and run lines are the jet study's.

use leptos::prelude::*;

pub use crate::app::jets::state::{JetPhase as StudyPhase, RunInProgress};
use crate::app::run_view::{apply_run_event, Request, RunCurves, RunView};
use crate::protocol::{EventsEvent, RunEvent};
use anomaly_engine::objects::panels::{Similarities, SignalFigures, StudyIntro, StudyResult};
use anomaly_state::events::EventChoice;

/// A visitor's file of events, as the worker read it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileSummary {
    pub name: String,
    pub background: usize,
    pub signal: usize,
    pub kinds: Vec<String>,
}

#[derive(Clone, Copy)]
pub struct EventsState {
    pub choice: RwSignal<EventChoice>,
    pub phase: RwSignal<StudyPhase>,
    pub request: Request<StudyPhase>,
    /// The latest sentence about something that went wrong; the study's results stay.
    pub notice: RwSignal<Option<String>>,
    pub intro: RwSignal<Option<StudyIntro>>,
    pub phases: RwSignal<Vec<String>>,
    pub run: RwSignal<Option<RunInProgress>>,
    /// The fit in progress's loss and progress.
    pub curves: RunCurves,
    /// Before training and after each of the encoder's epochs.
    pub similarities: RwSignal<Vec<Similarities>>,
    pub result: RwSignal<Option<StudyResult>>,
    /// The choice the shown result was trained with (the table says what was switched off).
    pub result_choice: RwSignal<Option<EventChoice>>,
    pub seconds: RwSignal<Option<f64>>,
    /// The file of events read last, and whether the next study learns from it (not from the toy).
    pub file: RwSignal<Option<FileSummary>>,
    pub use_file: RwSignal<bool>,
}

impl EventsState {
    pub fn new() -> Self {
        Self {
            choice: RwSignal::new(EventChoice::default()),
            phase: RwSignal::new(StudyPhase::Idle),
            request: Request::new(),
            notice: RwSignal::new(None),
            intro: RwSignal::new(None),
            phases: RwSignal::new(Vec::new()),
            run: RwSignal::new(None),
            curves: RunCurves::new(),
            similarities: RwSignal::new(Vec::new()),
            result: RwSignal::new(None),
            result_choice: RwSignal::new(None),
            seconds: RwSignal::new(None),
            file: RwSignal::new(None),
            use_file: RwSignal::new(false),
        }
    }

    pub fn apply_run(&self, event: RunEvent) {
        apply_run_event(self, event);
    }

    pub fn apply(&self, event: EventsEvent) {
        match event {
            EventsEvent::Started { intro, phases } => {
                self.request.accepted();
                self.notice.set(None);
                self.run.set(None);
                self.curves.clear();
                self.similarities.set(Vec::new());
                self.seconds.set(None);
                self.intro.set(Some(intro));
                self.phases.set(phases);
                self.phase.set(StudyPhase::Running);
            }
            EventsEvent::PhaseStarted { index, name, epochs } => {
                self.curves.clear();
                self.run.set(Some(RunInProgress { index, name, epochs }));
            }
            EventsEvent::Similarities(similarities) => self.similarities.update(|s| s.push(similarities)),
            EventsEvent::Finished { result, seconds } => {
                self.result.set(Some(result));
                self.result_choice.set(Some(self.choice.get_untracked()));
                self.seconds.set(Some(seconds));
                self.run.set(None);
                self.phase.set(StudyPhase::Finished);
            }
            EventsEvent::FileRead { name, background, signal, kinds } => {
                self.notice.set(None);
                self.file.set(Some(FileSummary { name, background, signal, kinds }));
                self.use_file.set(true);
            }
            EventsEvent::FileRefused { message } => self.notice.set(Some(message)),
            EventsEvent::Failed { message } => self.failed(message),
            EventsEvent::BenchmarkResult { .. } => {} // for `make bench`, which reads the message itself
        }
    }
}

impl Default for EventsState {
    fn default() -> Self {
        Self::new()
    }
}

impl RunView for EventsState {
    fn curves(&self) -> RunCurves {
        self.curves
    }

    fn accepted(&self) {
        self.request.accepted();
        if matches!(self.phase.get_untracked(), StudyPhase::Starting | StudyPhase::Paused) {
            self.phase.set(StudyPhase::Running);
        }
    }

    fn paused(&self) {
        if self.phase.get_untracked() != StudyPhase::Finished && self.intro.with_untracked(Option::is_some) {
            self.phase.set(StudyPhase::Paused);
        }
    }

    fn diverged(&self, message: String) {
        self.notice.set(Some(message));
    }

    fn failed(&self, message: String) {
        self.notice.set(Some(message));
        let before = self.request.refused().unwrap_or(StudyPhase::Paused);
        self.phase.set(if self.intro.with_untracked(Option::is_some) || before == StudyPhase::Idle { before } else { StudyPhase::Idle });
    }
}

/// What the comparison says: on how many signals the representation beats the raw objects, and, on the
/// toy, the paper's claim beside it.
pub fn verdict(signals: &[SignalFigures], toy: bool) -> String {
    let better: Vec<&str> = signals.iter().filter(|s| s.auc_clr > s.auc_raw).map(|s| s.name.as_str()).collect();
    let worse: Vec<&str> = signals.iter().filter(|s| s.auc_clr <= s.auc_raw).map(|s| s.name.as_str()).collect();
    let mut text = format!("The autoencoder on the representations has the higher AUC on {} of {} signals", better.len(), signals.len());
    if better.is_empty() {
        text += ".";
    } else {
        text += &format!(" ({}).", better.join(", "));
    }
    if !toy {
        return text;
    }
    if worse.is_empty() {
        text += " The paper found the same for all four.";
    } else {
        text += &format!(" Not on {}: the paper found the representation better on all four, so here the toy and the small encoder differ from it.", worse.join(", "));
    }
    text
}

/// Where the study is, in words.
pub fn progress_sentence(run: Option<&RunInProgress>, phases: usize, epochs_done: Option<usize>) -> String {
    match run {
        Some(run) => format!(
            "Step {} of {phases}: training {}, epoch {} of {}.",
            run.index + 1,
            run.name,
            epochs_done.map_or(1, |e| (e + 1).min(run.epochs)),
            run.epochs
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_engine::metrics::Roc;
    use anomaly_engine::objects::Process;

    fn figures(signal: Process, auc_raw: f64, auc_clr: f64) -> SignalFigures {
        let roc = Roc { false_positive_rate: vec![0.0, 1.0], true_positive_rate: vec![0.0, 1.0], auc: 0.5 };
        SignalFigures { name: signal.name().to_string(), key: signal.key().to_string(), auc_raw, auc_clr, inv_eps_b_raw: 2.0, inv_eps_b_clr: 3.0, roc_raw: roc.clone(), roc_clr: roc }
    }

    #[test]
    fn the_verdict_counts_the_signals_and_says_where_the_paper_differs() {
        let mixed = [figures(Process::A4l, 0.85, 0.88), figures(Process::LqBtau, 0.68, 0.62)];
        assert_eq!(
            verdict(&mixed, true),
            "The autoencoder on the representations has the higher AUC on 1 of 2 signals (A → 4ℓ). Not on LQ → bτ: the paper found the representation better on all four, so here the toy and the small encoder differ from it."
        );
        assert!(verdict(&[figures(Process::A4l, 0.5, 0.9)], true).ends_with("The paper found the same for all four."));
        assert!(verdict(&mixed, false).ends_with("(A → 4ℓ)."), "a visitor's file is not compared with the paper");
    }
}
