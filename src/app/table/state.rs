//! The table view's state: plain values in signals, changed by the visitor's choices and the worker's
//! table events only.

use leptos::prelude::*;

use crate::app::run_view::{apply_run_event, Request, RunCurves, RunView};
use crate::protocol::{Backend, FilePurpose, ModelInfo, RunEvent, TableEvent, TableInfo, TopRow};
use anomaly_engine::table::dijet::Simulation;
use anomaly_engine::table::awareness::{AwarenessSummary, TableAwarenessSettings};
use anomaly_engine::table::compare::{ComparisonChoice, ComparisonSummary};
use anomaly_engine::table::prepare::TableSetup;
use anomaly_state::link::table::{header_fingerprint, SharedAwareness, SharedTable};
use anomaly_engine::table::run::{TableResults, ThresholdCounts, TrainingSummary};
use anomaly_engine::settings::ModelSettings;
use anomaly_engine::SettingProblem;

/// Prefix of the table form's field ids, so its problems never block the digits' form.
pub const TABLE_FIELD: &str = "table_";

#[derive(Clone, Debug, PartialEq)]
pub enum TablePhase {
    /// Nothing trained since the current file was loaded.
    Idle,
    Training,
    Paused,
    Scoring(f64),
    Done,
}

#[derive(Clone, Copy)]
pub struct TableState {
    pub info: RwSignal<Option<TableInfo>>,
    pub background: RwSignal<Option<TableInfo>>,
    /// Column roles and data choices; the model's settings live in `model`.
    pub setup: RwSignal<Option<TableSetup>>,
    pub model: RwSignal<ModelSettings>,
    pub simulation: RwSignal<Simulation>,
    /// (purpose, bytes read, total bytes) while a file loads.
    pub loading: RwSignal<Option<(FilePurpose, u64, u64)>>,
    /// Why the latest file could not be used (what was loaded before is still there).
    pub load_problem: RwSignal<Option<String>>,
    pub phase: RwSignal<TablePhase>,
    /// The phase before the visitor's latest request, until the worker takes it up.
    pub request: Request<TablePhase>,
    pub summary: RwSignal<Option<TrainingSummary>>,
    pub curves: RunCurves,
    pub results: RwSignal<Option<TableResults>>,
    pub top_rows: RwSignal<Vec<TopRow>>,
    pub counts: RwSignal<Option<ThresholdCounts>>,
    pub notice: RwSignal<Option<String>>,
    pub diverged: RwSignal<Option<String>>,
    pub downloading: RwSignal<Option<f64>>,
    /// Where the latest scores were computed.
    pub scored_on: RwSignal<Option<Backend>>,
    /// A saved model read back from a file, ready to score the loaded events.
    pub saved_model: RwSignal<Option<ModelInfo>>,
    /// Why the latest model file could not be used (a model read before stays).
    pub model_problem: RwSignal<Option<String>>,
    /// The column roles and settings an opened link carries, waiting for the file they were made for.
    pub linked: RwSignal<Option<SharedTable>>,
    /// What became of them when a file was loaded (restored, or why not).
    pub link_note: RwSignal<Option<String>>,
    /// The classical methods beside the autoencoder (`compare.rs`).
    pub compare: CompareView,
    /// Anomaly Awareness on the trained autoencoder (`awareness.rs`).
    pub awareness: AwarenessView,
}

/// Stage 2 on the table: the visitor's choices, progress, and the last results.
#[derive(Clone, Copy)]
pub struct AwarenessView {
    /// The column whose values name the kinds.
    pub column: RwSignal<Option<usize>>,
    /// The kinds that column names among the anomalous rows (for that column).
    pub kinds: RwSignal<Option<Vec<String>>>,
    pub shown: RwSignal<Vec<String>>,
    pub labelled_rows: RwSignal<usize>,
    pub epochs: RwSignal<usize>,
    pub lambda_max: RwSignal<f32>,
    pub progress: RwSignal<Option<(String, f64)>>,
    pub summary: RwSignal<Option<AwarenessSummary>>,
    pub problem: RwSignal<Option<String>>,
    /// True once the visitor (or a link) chose something here: only then does the link carry it.
    pub touched: RwSignal<bool>,
    /// A link's shown kinds, as positions among the column's kinds, until those kinds arrive.
    pub linked_shown: RwSignal<Option<Vec<usize>>>,
    /// The column whose first kind was ticked by default: once per column, so a visitor who unticks
    /// every kind is not overruled when the kinds are sent again.
    pub defaulted: RwSignal<Option<usize>>,
}

impl AwarenessView {
    fn new() -> Self {
        let defaults = TableAwarenessSettings::new(0, Vec::new());
        Self {
            column: RwSignal::new(None),
            kinds: RwSignal::new(None),
            shown: RwSignal::new(Vec::new()),
            labelled_rows: RwSignal::new(defaults.labelled_rows),
            epochs: RwSignal::new(defaults.epochs),
            lambda_max: RwSignal::new(defaults.lambda_max),
            progress: RwSignal::new(None),
            summary: RwSignal::new(None),
            problem: RwSignal::new(None),
            touched: RwSignal::new(false),
            linked_shown: RwSignal::new(None),
            defaulted: RwSignal::new(None),
        }
    }

    /// A new file: its kinds, results and problems belong to the file before.
    fn clear(&self) {
        self.column.set(None);
        self.kinds.set(None);
        self.shown.set(Vec::new());
        self.progress.set(None);
        self.summary.set(None);
        self.problem.set(None);
        self.touched.set(false);
        self.linked_shown.set(None);
        self.defaulted.set(None);
    }

    /// The numbers of a link's stage 2, at once; its column and kinds once its file is loaded.
    pub fn apply_link_numbers(&self, linked: &SharedAwareness) {
        self.labelled_rows.set(linked.labelled_rows);
        self.epochs.set(linked.epochs);
        self.lambda_max.set(linked.lambda_max);
    }

    /// The choices as a link carries them (tracked), once the visitor made some.
    pub fn shared(&self) -> Option<SharedAwareness> {
        if !self.touched.get() {
            return None;
        }
        let column = self.column.get()?;
        let kinds = self.kinds.get().unwrap_or_default();
        let shown = self.shown.with(|shown| kinds.iter().enumerate().filter(|(_, k)| shown.contains(k)).map(|(i, _)| i).collect());
        Some(SharedAwareness { column, shown, labelled_rows: self.labelled_rows.get(), epochs: self.epochs.get(), lambda_max: self.lambda_max.get() })
    }

    /// The settings to fine-tune with, once a column is chosen.
    pub fn settings(&self) -> Option<TableAwarenessSettings> {
        let column = self.column.get_untracked()?;
        Some(TableAwarenessSettings {
            labelled_rows: self.labelled_rows.get_untracked(),
            epochs: self.epochs.get_untracked(),
            lambda_max: self.lambda_max.get_untracked(),
            ..TableAwarenessSettings::new(column, self.shown.get_untracked())
        })
    }

    pub fn requested(&self) {
        self.problem.set(None);
        self.progress.set(Some((String::new(), 0.0)));
    }
}

/// The comparison with the classical methods: what is ticked, how far it got, what it found.
#[derive(Clone, Copy)]
pub struct CompareView {
    pub choice: RwSignal<ComparisonChoice>,
    /// (method being worked on, share of all the work done) while it runs.
    pub progress: RwSignal<Option<(String, f64)>>,
    /// The last finished comparison (kept through a cancel or a failure).
    pub summary: RwSignal<Option<ComparisonSummary>>,
    /// The file's line number of each explained row.
    pub row_lines: RwSignal<Vec<(usize, u64)>>,
    /// Why the latest comparison did not finish.
    pub problem: RwSignal<Option<String>>,
}

impl CompareView {
    fn new() -> Self {
        Self {
            choice: RwSignal::new(ComparisonChoice::default()),
            progress: RwSignal::new(None),
            summary: RwSignal::new(None),
            row_lines: RwSignal::new(Vec::new()),
            problem: RwSignal::new(None),
        }
    }

    fn clear(&self) {
        self.progress.set(None);
        self.summary.set(None);
        self.row_lines.set(Vec::new());
        self.problem.set(None);
    }

    /// The line number of a row in the file, if it is known.
    pub fn line_of(&self, row: usize) -> Option<u64> {
        self.row_lines.with(|lines| lines.binary_search_by_key(&row, |&(r, _)| r).ok().map(|i| lines[i].1))
    }

    /// A request the worker will answer: the old problem goes, progress shows at once.
    pub fn requested(&self) {
        self.problem.set(None);
        self.progress.set(Some((String::new(), 0.0)));
    }
}

impl TableState {
    pub fn new() -> Self {
        Self {
            info: RwSignal::new(None),
            background: RwSignal::new(None),
            setup: RwSignal::new(None),
            model: RwSignal::new(ModelSettings::default()),
            simulation: RwSignal::new(Simulation::default()),
            loading: RwSignal::new(None),
            load_problem: RwSignal::new(None),
            phase: RwSignal::new(TablePhase::Idle),
            request: Request::new(),
            summary: RwSignal::new(None),
            curves: RunCurves::new(),
            results: RwSignal::new(None),
            top_rows: RwSignal::new(Vec::new()),
            counts: RwSignal::new(None),
            notice: RwSignal::new(None),
            diverged: RwSignal::new(None),
            downloading: RwSignal::new(None),
            scored_on: RwSignal::new(None),
            saved_model: RwSignal::new(None),
            model_problem: RwSignal::new(None),
            linked: RwSignal::new(None),
            link_note: RwSignal::new(None),
            compare: CompareView::new(),
            awareness: AwarenessView::new(),
        }
    }

    /// The choices to train with: roles from `setup`, model settings from `model`.
    pub fn full_setup(&self) -> Option<TableSetup> {
        let mut setup = self.setup.get()?;
        setup.model = self.model.get();
        Some(setup)
    }

    /// The loaded table's choices as a link carries them (tracked); before a file is loaded, those of the
    /// link the page was opened with, so the address keeps them.
    pub fn shared(&self) -> Option<SharedTable> {
        let from_file = self.info.with(|info| {
            info.as_ref().map(|info| header_fingerprint(info.columns.iter().map(|c| c.name.as_str())))
        });
        match (from_file, self.full_setup()) {
            (Some(header), Some(setup)) => Some(SharedTable { header, setup, compare: self.compare.choice.get(), awareness: self.awareness.shared() }),
            _ => self.linked.get(),
        }
    }

    /// Problems that block training, as field-tagged messages (the model's fields carry [`TABLE_FIELD`]).
    pub fn model_problems(&self) -> Vec<SettingProblem> {
        self.model
            .with(ModelSettings::problems)
            .into_iter()
            .map(|p| SettingProblem { field: format!("{TABLE_FIELD}{}", p.field), message: p.message })
            .collect()
    }

    fn clear_results(&self) {
        self.summary.set(None);
        self.curves.clear();
        self.results.set(None);
        self.top_rows.set(Vec::new());
        self.counts.set(None);
        self.diverged.set(None);
    }

    pub fn apply(&self, event: TableEvent) {
        match event {
            TableEvent::LoadProgress { purpose, bytes_read, total_bytes } => {
                self.loading.set(Some((purpose, bytes_read, total_bytes)))
            }
            TableEvent::Loaded(info) => {
                self.loading.set(None);
                self.load_problem.set(None);
                self.notice.set(None);
                self.clear_results();
                self.phase.set(TablePhase::Idle);
                match info.purpose {
                    FilePurpose::Events => {
                        // The roles of an opened link win if this is the file it was made for.
                        let link = self.linked.get_untracked();
                        let linked = link.as_ref().map(|linked| linked.restore(&info.columns));
                        let restored = matches!(linked, Some(Ok(_)));
                        let setup = match linked {
                            Some(Ok(setup)) => {
                                self.link_note.set(Some("The column roles and settings from the link were restored for this file.".into()));
                                setup
                            }
                            Some(Err(why)) => {
                                self.link_note.set(Some(why));
                                info.suggested.clone()
                            }
                            None => {
                                self.link_note.set(None);
                                info.suggested.clone()
                            }
                        };
                        self.compare.clear(); // it compared the rows of the file before
                        self.awareness.clear();
                        // Stage 2's column and kinds from the link, if its roles were restored.
                        if let Some(aware) = link.as_ref().and_then(|l| l.awareness.as_ref()).filter(|_| restored) {
                            self.awareness.column.set(Some(aware.column));
                            self.awareness.linked_shown.set(Some(aware.shown.clone()));
                            self.awareness.touched.set(true);
                        }
                        self.linked.set(None); // from now on the loaded file's choices are the link's
                        self.model.set(setup.model.clone());
                        self.setup.set(Some(setup));
                        self.info.set(Some(info));
                    }
                    FilePurpose::Background => self.background.set(Some(info)),
                    FilePurpose::Model | FilePurpose::Session | FilePurpose::ObjectEvents => {} // models arrive as `ModelLoaded`; sessions are the digits'
                }
            }
            TableEvent::LoadFailed { purpose: FilePurpose::Model, message } => self.model_problem.set(Some(message)),
            TableEvent::LoadFailed { message, .. } => {
                self.loading.set(None);
                self.load_problem.set(Some(message));
            }
            TableEvent::ModelLoaded(info) => {
                self.model_problem.set(None);
                self.saved_model.set(Some(info));
            }
            TableEvent::LoadCancelled { .. } => {
                self.loading.set(None);
                self.load_problem.set(Some("Loading was cancelled; what was loaded before is still here.".into()));
            }
            TableEvent::TrainStarted { summary, .. } => {
                self.request.accepted();
                self.clear_results();
                self.summary.set(Some(summary));
                self.phase.set(TablePhase::Training);
            }
            TableEvent::Scoring { fraction } => {
                self.request.accepted();
                self.phase.set(TablePhase::Scoring(fraction));
            }
            TableEvent::Scored { results, top_rows, backend } => {
                self.scored_on.set(Some(backend));
                self.counts.set(None);
                self.results.set(Some(results));
                self.top_rows.set(top_rows);
                self.phase.set(TablePhase::Done);
            }
            TableEvent::ThresholdCounts(counts) => self.counts.set(Some(counts)),
            TableEvent::DownloadProgress { fraction } => self.downloading.set(Some(fraction)),
            // Only `make bench` asks for this, from its own page.
            TableEvent::ScoringBenchmark { .. } => {}
            TableEvent::CompareProgress { method, fraction } => self.compare.progress.set(Some((method, fraction))),
            TableEvent::Compared { summary, row_lines } => {
                self.compare.progress.set(None);
                self.compare.problem.set(None);
                self.compare.row_lines.set(row_lines);
                self.compare.summary.set(Some(*summary));
            }
            TableEvent::CompareCancelled => {
                self.compare.progress.set(None);
                let kept = if self.compare.summary.with_untracked(Option::is_some) { " The last finished comparison is still shown." } else { "" };
                self.compare.problem.set(Some(format!("The comparison was cancelled.{kept}")));
            }
            TableEvent::CompareFailed { message } => {
                self.compare.progress.set(None);
                self.compare.problem.set(Some(message));
            }
            TableEvent::AwarenessKinds { column, kinds } => {
                if self.awareness.column.get_untracked() == Some(column) {
                    if let Some(positions) = self.awareness.linked_shown.get_untracked() {
                        // A link names kinds by their positions.
                        self.awareness.shown.set(positions.iter().filter_map(|&i| kinds.get(i).cloned()).collect());
                        self.awareness.linked_shown.set(None);
                    } else if self.awareness.defaulted.get_untracked() != Some(column) {
                        // The first kind is shown by default, the others stay unseen.
                        if self.awareness.shown.with_untracked(|s| s.iter().all(|k| !kinds.contains(k))) {
                            self.awareness.shown.set(kinds.first().cloned().into_iter().collect());
                        }
                        self.awareness.defaulted.set(Some(column));
                    }
                    self.awareness.kinds.set(Some(kinds));
                }
            }
            TableEvent::FineTuneProgress { stage, fraction } => self.awareness.progress.set(Some((stage, fraction))),
            TableEvent::FineTuned { summary } => {
                self.awareness.progress.set(None);
                self.awareness.problem.set(None);
                self.awareness.summary.set(Some(*summary));
            }
            TableEvent::FineTuneFailed { message } => {
                self.awareness.progress.set(None);
                self.awareness.problem.set(Some(message));
            }
        }
    }
}

impl RunView for TableState {
    fn curves(&self) -> RunCurves {
        self.curves
    }

    fn accepted(&self) {
        self.request.accepted();
    }

    fn paused(&self) {
        if self.phase.get_untracked() == TablePhase::Training {
            self.phase.set(TablePhase::Paused);
        }
    }

    /// The worker scores with the last good weights next, so the phase follows its scoring events.
    fn diverged(&self, message: String) {
        self.diverged.set(Some(message));
    }

    fn failed(&self, message: String) {
        self.notice.set(Some(message));
        if let Some(before) = self.request.refused() {
            self.phase.set(before);
        } else if matches!(self.phase.get_untracked(), TablePhase::Training | TablePhase::Scoring(_)) {
            // A run that stops midway keeps its model, and can be resumed.
            self.phase.set(TablePhase::Paused);
        }
    }
}

impl TableState {
    pub fn apply_run(&self, event: RunEvent) {
        apply_run_event(self, event);
    }
}

impl Default for TableState {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use leptos::prelude::Owner;

    use super::*;
    use crate::protocol::Progress;
    use anomaly_engine::metrics::Histogram;
    use anomaly_engine::table::prepare::TrainOn;

    fn summary(loaded_model: bool) -> TrainingSummary {
        TrainingSummary {
            loaded_model,
            features: vec!["a".into(), "b".into()],
            train_rows: 80,
            validation_rows: 20,
            eligible_rows: 100,
            dropped_missing: 0,
            imputed: 0,
            steps_per_epoch: 2,
            trained_on: TrainOn::AllRows,
            resonance: None,
        }
    }

    fn results(scored_rows: usize) -> TableResults {
        TableResults {
            scored_rows,
            unscored_rows: 0,
            score_range: (0.0, 1.0),
            score_extent: (0.2, 0.4),
            beyond_axis: (0, 0),
            log_histograms: None,
            background_histogram: Histogram::new(&[0.2, 0.4], 0.0, 1.0, 4),
            signal_histogram: None,
            roc: None,
            sic: None,
            signal_rows: 0,
            background_rows: scored_rows,
            metrics_note: None,
            top_rows: vec![1, 0],
            learned_w: None,
            beyond_sidebands: 0,
        }
    }

    fn progress(total_steps: usize, losses: &[f32]) -> RunEvent {
        RunEvent::Progress(Progress {
            epochs_done: total_steps / 2,
            epochs: 2,
            step_in_epoch: total_steps % 2,
            steps_per_epoch: 2,
            total_steps,
            recent_losses: losses.to_vec(),
            samples_per_second: 50.0,
            seconds_left: 0.5,
        })
    }

    enum Step {
        Table(TableEvent),
        Run(RunEvent),
    }

    /// A table run of two epochs, trained and scored, as the worker reports it.
    fn trained_and_scored() -> Vec<Step> {
        vec![
            Step::Table(TableEvent::TrainStarted { summary: summary(false), epochs: 2 }),
            Step::Run(progress(1, &[3.0])),
            Step::Run(progress(2, &[2.0])),
            Step::Run(RunEvent::EpochEnded { epoch: 1, train_loss: 2.0, validation_loss: Some(2.5) }),
            Step::Run(progress(4, &[1.5, 1.0])),
            Step::Run(RunEvent::EpochEnded { epoch: 2, train_loss: 1.0, validation_loss: Some(1.2) }),
            Step::Table(TableEvent::Scoring { fraction: 0.5 }),
            Step::Table(TableEvent::Scored { results: results(100), top_rows: Vec::new(), backend: Backend::Cpu }),
        ]
    }

    type Shown = (TablePhase, Vec<f32>, usize, Option<usize>, Option<String>, Option<usize>);

    /// Applies the steps and returns the phase after each: what the status line showed along the way.
    fn apply(table: &TableState, steps: Vec<Step>) -> Vec<TablePhase> {
        steps
            .into_iter()
            .map(|step| {
                match step {
                    Step::Table(event) => table.apply(event),
                    Step::Run(event) => table.apply_run(event),
                }
                table.phase.get_untracked()
            })
            .collect()
    }

    fn shown(table: &TableState) -> Shown {
        (
            table.phase.get_untracked(),
            table.curves.step_losses.get_untracked(),
            table.curves.epochs.with_untracked(Vec::len),
            table.results.with_untracked(|r| r.as_ref().map(|r| r.scored_rows)),
            table.notice.get_untracked(),
            table.summary.with_untracked(|s| s.as_ref().map(|s| s.train_rows)),
        )
    }

    /// The visitor presses "Train and score" on a fresh file, then the worker's events arrive: what the
    /// page shows at the end, and its phases along the way.
    fn after_training(steps: Vec<Step>) -> (Shown, Vec<TablePhase>) {
        Owner::new().with(|| {
            let table = TableState::new();
            table.request.begin(table.phase, TablePhase::Training);
            let phases = apply(&table, steps);
            (shown(&table), phases)
        })
    }

    #[test]
    fn a_table_runs_events_end_in_scored_results() {
        let ((phase, losses, epochs, scored, notice, train_rows), phases) = after_training(trained_and_scored());
        assert!(phases[..6].iter().all(|p| *p == TablePhase::Training), "{phases:?}");
        assert_eq!(phases[6..], [TablePhase::Scoring(0.5), TablePhase::Done]);
        assert_eq!((phase, epochs, scored, notice, train_rows), (TablePhase::Done, 2, Some(100), None, Some(80)));
        assert_eq!(losses, vec![3.0, 2.0, 1.5, 1.0]);
    }

    #[test]
    fn a_dropped_or_reordered_table_event_shows_on_the_page() {
        let full = after_training(trained_and_scored());
        for dropped in 0..trained_and_scored().len() {
            let mut steps = trained_and_scored();
            steps.remove(dropped);
            assert_ne!(after_training(steps), full, "dropping event {dropped} changed nothing on the page");
        }
        // The run's start after its first progress wipes that progress.
        let mut late_start = trained_and_scored();
        late_start.swap(0, 1);
        assert_ne!(after_training(late_start).0 .1, full.0 .1);
        // Scoring reported after the results puts the page back to scoring.
        let mut late_scoring = trained_and_scored();
        late_scoring.swap(6, 7);
        assert_ne!(after_training(late_scoring).0 .0, full.0 .0);
    }

    /// A saved model that does not fit the loaded file is refused: the finished run on screen stays
    /// finished, with its results (not "Paused", which would offer to resume it).
    #[test]
    fn a_refused_model_leaves_a_finished_run_finished() {
        Owner::new().with(|| {
            let table = TableState::new();
            table.request.begin(table.phase, TablePhase::Training);
            apply(&table, trained_and_scored());
            table.request.begin(table.phase, TablePhase::Scoring(0.0));
            let refusal = "This file has no column named \"c\", which the model was trained on (its features: a, b, c).";
            table.apply_run(RunEvent::Failed { message: refusal.into() });
            let (phase, _, epochs, scored, notice, _) = shown(&table);
            assert_eq!((phase, epochs, scored), (TablePhase::Done, 2, Some(100)));
            assert_eq!(notice.as_deref(), Some(refusal));
            // "Score again" refused the same way also comes back to the finished run.
            table.request.begin(table.phase, TablePhase::Scoring(0.0));
            table.apply_run(RunEvent::Failed { message: "no".into() });
            assert_eq!(table.phase.get_untracked(), TablePhase::Done);
        })
    }

    /// A request the worker took up and that then stopped midway leaves the run paused (resumable);
    /// one refused at once on a fresh file leaves the page idle.
    #[test]
    fn a_failure_midway_pauses_and_a_refusal_goes_back() {
        Owner::new().with(|| {
            let table = TableState::new();
            table.request.begin(table.phase, TablePhase::Training);
            table.apply(TableEvent::TrainStarted { summary: summary(false), epochs: 2 });
            table.apply_run(progress(1, &[3.0]));
            table.apply_run(RunEvent::Failed { message: "Training stopped: out of memory.".into() });
            assert_eq!(table.phase.get_untracked(), TablePhase::Paused);

            let fresh = TableState::new();
            fresh.request.begin(fresh.phase, TablePhase::Training);
            fresh.apply_run(RunEvent::Failed { message: "Pick at least one feature.".into() });
            assert_eq!(fresh.phase.get_untracked(), TablePhase::Idle);
        })
    }

    /// Pausing, resuming (no new start: progress carries on) and a divergence, which the worker follows
    /// by scoring with the last good weights.
    #[test]
    fn pause_resume_and_divergence() {
        Owner::new().with(|| {
            let table = TableState::new();
            table.request.begin(table.phase, TablePhase::Training);
            table.apply(TableEvent::TrainStarted { summary: summary(false), epochs: 2 });
            table.apply_run(progress(1, &[3.0]));
            table.apply_run(RunEvent::Paused);
            assert_eq!(table.phase.get_untracked(), TablePhase::Paused);
            table.request.begin(table.phase, TablePhase::Training);
            table.apply_run(progress(2, &[2.0]));
            table.apply_run(RunEvent::Diverged { message: "the loss became NaN".into() });
            table.apply(TableEvent::Scoring { fraction: 0.0 });
            table.apply(TableEvent::Scored { results: results(10), top_rows: Vec::new(), backend: Backend::Cpu });
            assert_eq!(table.phase.get_untracked(), TablePhase::Done);
            assert_eq!(table.diverged.get_untracked().as_deref(), Some("the loss became NaN"));
            assert_eq!(table.curves.step_losses.get_untracked(), vec![3.0, 2.0]);
            // A late "Paused" (the pause crossed the end of the run) leaves the results alone.
            table.apply_run(RunEvent::Paused);
            assert_eq!(table.phase.get_untracked(), TablePhase::Done);
        })
    }
}
