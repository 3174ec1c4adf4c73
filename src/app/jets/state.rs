//! The jet-image study as the page holds it: the visitor's choices, and what the worker has said about
//! the study so far. Every panel renders from here.

use leptos::prelude::*;

use crate::app::run_view::{apply_run_event, Request, RunCurves, RunView};
use crate::protocol::{JetEvent, RunEvent};
use anomaly_engine::jets::panels::{DirectionPanel, StudyIntro};
use anomaly_engine::jets::study::AucRow;
use anomaly_state::jets::JetChoice;

#[derive(Clone, Debug, PartialEq)]
pub enum JetPhase {
    Idle,
    /// Asked for; the worker has not answered yet.
    Starting,
    Running,
    Paused,
    Finished,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunInProgress {
    pub index: usize,
    pub name: String,
    pub epochs: usize,
}

#[derive(Clone, Copy)]
pub struct JetState {
    pub choice: RwSignal<JetChoice>,
    pub phase: RwSignal<JetPhase>,
    pub request: Request<JetPhase>,
    /// The latest sentence about something that went wrong; the study's results stay.
    pub notice: RwSignal<Option<String>>,
    pub intro: RwSignal<Option<StudyIntro>>,
    /// Every direction's name, in the order they train.
    pub runs: RwSignal<Vec<String>>,
    pub run: RwSignal<Option<RunInProgress>>,
    /// The direction in progress's loss and progress.
    pub curves: RunCurves,
    /// Each finished direction, in the order they finished.
    pub panels: RwSignal<Vec<DirectionPanel>>,
    pub table: RwSignal<Vec<AucRow>>,
    /// Which finished direction the reconstruction and complexity panels show (None: the latest).
    pub shown: RwSignal<Option<usize>>,
    pub seconds: RwSignal<Option<f64>>,
}

impl JetState {
    pub fn new() -> Self {
        Self {
            choice: RwSignal::new(JetChoice::default()),
            phase: RwSignal::new(JetPhase::Idle),
            request: Request::new(),
            notice: RwSignal::new(None),
            intro: RwSignal::new(None),
            runs: RwSignal::new(Vec::new()),
            run: RwSignal::new(None),
            curves: RunCurves::new(),
            panels: RwSignal::new(Vec::new()),
            table: RwSignal::new(Vec::new()),
            shown: RwSignal::new(None),
            seconds: RwSignal::new(None),
        }
    }

    pub fn apply_run(&self, event: RunEvent) {
        apply_run_event(self, event);
    }

    pub fn apply(&self, event: JetEvent) {
        match event {
            JetEvent::Started { intro, runs } => {
                self.request.accepted();
                self.notice.set(None);
                self.run.set(None);
                self.curves.clear();
                self.panels.set(Vec::new());
                self.table.set(Vec::new());
                self.shown.set(None);
                self.seconds.set(None);
                self.intro.set(Some(intro));
                self.runs.set(runs);
                self.phase.set(JetPhase::Running);
            }
            JetEvent::RunStarted { index, name, epochs } => {
                self.curves.clear();
                self.run.set(Some(RunInProgress { index, name, epochs }));
            }
            JetEvent::RunFinished { panel, table, .. } => {
                self.panels.update(|p| p.push(panel));
                self.table.set(table);
            }
            JetEvent::Finished { seconds } => {
                self.seconds.set(Some(seconds));
                self.run.set(None);
                self.phase.set(JetPhase::Finished);
            }
            JetEvent::Failed { message } => self.failed(message),
            JetEvent::BenchmarkResult { .. } => {} // for `make bench`, which reads the message itself
        }
    }

    /// The finished direction the detail panels show (tracked).
    pub fn shown_panel(&self) -> Option<DirectionPanel> {
        let shown = self.shown.get();
        self.panels.with(|p| shown.and_then(|i| p.get(i)).or(p.last()).cloned())
    }
}

impl Default for JetState {
    fn default() -> Self {
        Self::new()
    }
}

impl RunView for JetState {
    fn curves(&self) -> RunCurves {
        self.curves
    }

    fn accepted(&self) {
        self.request.accepted();
        if matches!(self.phase.get_untracked(), JetPhase::Starting | JetPhase::Paused) {
            self.phase.set(JetPhase::Running);
        }
    }

    fn paused(&self) {
        if self.phase.get_untracked() != JetPhase::Finished && self.intro.with_untracked(Option::is_some) {
            self.phase.set(JetPhase::Paused);
        }
    }

    fn diverged(&self, message: String) {
        self.notice.set(Some(message));
    }

    fn failed(&self, message: String) {
        self.notice.set(Some(message));
        let before = self.request.refused().unwrap_or(JetPhase::Paused);
        self.phase.set(if self.intro.with_untracked(Option::is_some) || before == JetPhase::Idle { before } else { JetPhase::Idle });
    }
}

/// Where the study is, in words: the direction, its epoch, and how many there are.
pub fn progress_sentence(run: Option<&RunInProgress>, runs: usize, epochs_done: Option<usize>) -> String {
    match run {
        Some(run) => format!(
            "Model {} of {runs}: {}, epoch {} of {}.",
            run.index + 1,
            run.name,
            epochs_done.map_or(1, |e| (e + 1).min(run.epochs)),
            run.epochs
        ),
        None => String::new(),
    }
}

/// What the AUC table says about the weaker direction: which κ judges best on both, and whether the
/// inverted task failed at κ = 1.
pub fn table_verdict(rows: &[AucRow]) -> Option<String> {
    let reference = rows.iter().find(|r| r.kappa == 1.0)?;
    let (qcd, top) = (reference.qcd_trained_tags_top?, reference.top_trained_tags_qcd?);
    let mut text = if top < 0.5 {
        format!("At κ = 1 the QCD-trained model tags tops (AUC {qcd:.2}) but the top-trained one ranks QCD jets as more normal than tops (AUC {top:.2}, below the 0.5 of a blind guess): the inverted task fails.")
    } else {
        format!("At κ = 1 the QCD-trained model tags tops with AUC {qcd:.2} and the top-trained one tags QCD with AUC {top:.2}: here the inverted task does not fail, unlike in the paper.")
    };
    let best = rows.iter().filter_map(|r| Some((r.kappa, r.weaker()?))).max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((kappa, weaker)) = best.filter(|&(kappa, _)| kappa != 1.0) {
        let gain = weaker - qcd.min(top);
        text += &format!(" Judged by the weaker direction, κ = {kappa} does best ({weaker:.2}, {gain:+.2} on κ = 1).");
    } else if rows.len() > 1 && rows.iter().all(|r| r.weaker().is_some()) {
        text += " Judged by the weaker direction, κ = 1 is still the best setting here.";
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_sentence_names_the_direction_and_its_epoch() {
        let run = RunInProgress { index: 1, name: "trained on top jets, κ = 1".into(), epochs: 10 };
        assert_eq!(progress_sentence(Some(&run), 4, Some(3)), "Model 2 of 4: trained on top jets, κ = 1, epoch 4 of 10.");
        assert_eq!(progress_sentence(None, 4, None), "");
    }

    #[test]
    fn the_verdict_names_the_failure_and_the_best_kappa() {
        let row = |kappa, qcd, top| AucRow { kappa, qcd_trained_tags_top: Some(qcd), top_trained_tags_qcd: top };
        let rows = [row(1.0, 0.95, Some(0.17)), row(0.1, 0.78, Some(0.56))];
        let verdict = table_verdict(&rows).unwrap();
        assert!(verdict.contains("(AUC 0.17, below the 0.5 of a blind guess): the inverted task fails."), "{verdict}");
        assert!(verdict.ends_with("κ = 0.1 does best (0.56, +0.39 on κ = 1)."), "{verdict}");
        let conv = [row(1.0, 0.84, Some(0.75)), row(0.1, 0.61, Some(0.65))];
        let verdict = table_verdict(&conv).unwrap();
        assert!(verdict.contains("does not fail, unlike in the paper") && verdict.ends_with("κ = 1 is still the best setting here."), "{verdict}");
        assert_eq!(table_verdict(&[row(1.0, 0.9, None)]), None, "not until both directions at κ = 1 have run");
    }
}
