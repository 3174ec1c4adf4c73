//! The resonance hunt as the page holds it: the visitor's choices, and what the worker has said about the
//! hunt so far. Every panel renders from here.

use leptos::prelude::*;

use crate::app::run_view::{apply_run_event, Request, RunCurves, RunView};
use crate::protocol::{HuntEvent, RunEvent, TaggerCurve};
use anomaly_engine::resonance::hunt::HuntSettings;
use anomaly_state::hunt::HuntChoice;
use anomaly_engine::resonance::panels::{AfterCut, FeatureClosure, JetMasses, MassHistogram};

#[derive(Clone, Debug, PartialEq)]
pub enum HuntPhase {
    Idle,
    /// Asked for; the worker has not answered yet.
    Starting,
    Running,
    Paused,
    Finished,
}

/// What the worker said when the data were ready.
#[derive(Clone, Debug, PartialEq)]
pub struct HuntStart {
    pub spectrum: MassHistogram,
    pub signal_region_events: usize,
    pub injected: usize,
    pub true_w: f64,
    pub optimal: TaggerCurve,
    pub fits: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FitInProgress {
    pub index: usize,
    pub name: String,
    pub epochs: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClosureView {
    pub gap_nats: f64,
    pub standard_error: f64,
    pub features: Vec<FeatureClosure>,
}

#[derive(Clone, Copy)]
pub struct HuntState {
    pub signal_events: RwSignal<usize>,
    pub seed: RwSignal<u64>,
    pub phase: RwSignal<HuntPhase>,
    pub request: Request<HuntPhase>,
    /// The latest sentence about something that went wrong; the hunt's results stay.
    pub notice: RwSignal<Option<String>>,
    pub started: RwSignal<Option<HuntStart>>,
    pub fit: RwSignal<Option<FitInProgress>>,
    /// The fit in progress's loss and progress.
    pub curves: RunCurves,
    /// R-ANODE's learned w after each epoch.
    pub fractions: RwSignal<Vec<(usize, f64)>>,
    pub closure: RwSignal<Option<ClosureView>>,
    pub taggers: RwSignal<Vec<TaggerCurve>>,
    pub samples: RwSignal<Option<(JetMasses, JetMasses)>>,
    pub after_cut: RwSignal<Option<AfterCut>>,
    /// Show where the injected signal really is.
    pub reveal: RwSignal<bool>,
    pub seconds: RwSignal<Option<f64>>,
}

impl HuntState {
    pub fn new() -> Self {
        Self {
            signal_events: RwSignal::new(HuntChoice::default().signal_events),
            seed: RwSignal::new(HuntChoice::default().seed),
            phase: RwSignal::new(HuntPhase::Idle),
            request: Request::new(),
            notice: RwSignal::new(None),
            started: RwSignal::new(None),
            fit: RwSignal::new(None),
            curves: RunCurves::new(),
            fractions: RwSignal::new(Vec::new()),
            closure: RwSignal::new(None),
            taggers: RwSignal::new(Vec::new()),
            samples: RwSignal::new(None),
            after_cut: RwSignal::new(None),
            reveal: RwSignal::new(false),
            seconds: RwSignal::new(None),
        }
    }

    pub fn settings(&self) -> HuntSettings {
        HuntChoice { signal_events: self.signal_events.get_untracked(), seed: self.seed.get_untracked() }.settings()
    }

    pub fn apply_run(&self, event: RunEvent) {
        apply_run_event(self, event);
    }

    pub fn apply(&self, event: HuntEvent) {
        match event {
            HuntEvent::Started { spectrum, signal_region_events, injected, true_w, optimal, fits } => {
                self.request.accepted();
                self.notice.set(None);
                self.fit.set(None);
                self.curves.clear();
                self.fractions.set(Vec::new());
                self.closure.set(None);
                self.taggers.set(Vec::new());
                self.samples.set(None);
                self.after_cut.set(None);
                self.seconds.set(None);
                self.started.set(Some(HuntStart { spectrum, signal_region_events, injected, true_w, optimal, fits }));
                self.phase.set(HuntPhase::Running);
            }
            HuntEvent::FitStarted { index, name, epochs } => {
                self.curves.clear();
                self.fit.set(Some(FitInProgress { index, name, epochs }));
            }
            HuntEvent::SignalFraction { epoch, w } => self.fractions.update(|f| f.push((epoch, w))),
            HuntEvent::Closure { gap_nats, standard_error, features } => self.closure.set(Some(ClosureView { gap_nats, standard_error, features })),
            HuntEvent::Tagger(curve) => self.taggers.update(|t| t.push(curve)),
            HuntEvent::Samples { drawn, truth } => self.samples.set(Some((drawn, truth))),
            HuntEvent::AfterCut(cut) => self.after_cut.set(Some(cut)),
            HuntEvent::Finished { seconds } => {
                self.seconds.set(Some(seconds));
                self.fit.set(None);
                self.phase.set(HuntPhase::Finished);
            }
            HuntEvent::Failed { message } => self.failed(message),
        }
    }
}

impl Default for HuntState {
    fn default() -> Self {
        Self::new()
    }
}

impl RunView for HuntState {
    fn curves(&self) -> RunCurves {
        self.curves
    }

    fn accepted(&self) {
        self.request.accepted();
        if matches!(self.phase.get_untracked(), HuntPhase::Starting | HuntPhase::Paused) {
            self.phase.set(HuntPhase::Running);
        }
    }

    fn paused(&self) {
        if self.phase.get_untracked() != HuntPhase::Finished && self.started.with_untracked(Option::is_some) {
            self.phase.set(HuntPhase::Paused);
        }
    }

    fn diverged(&self, message: String) {
        self.notice.set(Some(message));
    }

    fn failed(&self, message: String) {
        self.notice.set(Some(message));
        let before = self.request.refused().unwrap_or(HuntPhase::Paused);
        self.phase.set(if self.started.with_untracked(Option::is_some) || before == HuntPhase::Idle { before } else { HuntPhase::Idle });
    }
}

/// Where the hunt is, in words: the fit, its epoch, and what is left.
pub fn progress_sentence(fit: Option<&FitInProgress>, fits: usize, epochs_done: Option<usize>) -> String {
    match fit {
        Some(fit) => format!(
            "Fit {} of {fits}: the {}, epoch {} of {}.",
            fit.index + 1,
            fit.name,
            epochs_done.map_or(1, |e| (e + 1).min(fit.epochs)),
            fit.epochs
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_sentence_names_the_fit_and_its_epoch() {
        let fit = FitInProgress { index: 1, name: "ANODE".into(), epochs: 12 };
        assert_eq!(progress_sentence(Some(&fit), 4, Some(3)), "Fit 2 of 4: the ANODE, epoch 4 of 12.");
        assert_eq!(progress_sentence(Some(&fit), 4, Some(12)), "Fit 2 of 4: the ANODE, epoch 12 of 12.");
        assert_eq!(progress_sentence(None, 4, None), "");
    }
}
