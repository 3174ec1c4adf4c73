//! The table view's state: plain values in signals, changed by the visitor's choices and the worker's
//! table events only.

use leptos::prelude::*;

use crate::app::run_view::RunCurves;
use crate::protocol::{Backend, FilePurpose, ModelInfo, TableEvent, TableInfo, TopRow};
use anomaly_engine::table::dijet::Simulation;
use anomaly_engine::table::prepare::TableSetup;
use anomaly_state::link::table::{header_fingerprint, SharedTable};
use anomaly_engine::table::run::{TableResults, ThresholdCounts, TrainingSummary};
use anomaly_engine::{SettingProblem, TrainSettings};

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
    pub model: RwSignal<TrainSettings>,
    pub simulation: RwSignal<Simulation>,
    /// (purpose, bytes read, total bytes) while a file loads.
    pub loading: RwSignal<Option<(FilePurpose, u64, u64)>>,
    /// Why the latest file could not be used (what was loaded before is still there).
    pub load_problem: RwSignal<Option<String>>,
    pub phase: RwSignal<TablePhase>,
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
}

impl TableState {
    pub fn new() -> Self {
        Self {
            info: RwSignal::new(None),
            background: RwSignal::new(None),
            setup: RwSignal::new(None),
            model: RwSignal::new(TrainSettings::default()),
            simulation: RwSignal::new(Simulation::default()),
            loading: RwSignal::new(None),
            load_problem: RwSignal::new(None),
            phase: RwSignal::new(TablePhase::Idle),
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
            (Some(header), Some(setup)) => Some(SharedTable { header, setup }),
            _ => self.linked.get(),
        }
    }

    /// Problems that block training, as field-tagged messages (the model's fields carry [`TABLE_FIELD`]).
    pub fn model_problems(&self) -> Vec<SettingProblem> {
        self.model
            .with(TrainSettings::problems)
            .into_iter()
            .filter(|p| p.field != "normal_digits")
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
                        let linked = self.linked.get_untracked().map(|linked| linked.restore(&info.columns));
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
                        self.linked.set(None); // from now on the loaded file's choices are the link's
                        self.model.set(setup.model.clone());
                        self.setup.set(Some(setup));
                        self.info.set(Some(info));
                    }
                    FilePurpose::Background => self.background.set(Some(info)),
                    FilePurpose::Model => {} // models arrive as `ModelLoaded`
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
                self.clear_results();
                self.summary.set(Some(summary));
                self.phase.set(TablePhase::Training);
            }
            TableEvent::Progress(progress) => self.curves.advance(progress),
            TableEvent::EpochEnded { epoch, train_loss, validation_loss } => self.curves.end_epoch(epoch, train_loss, validation_loss),
            TableEvent::Paused => {
                if self.phase.get_untracked() == TablePhase::Training {
                    self.phase.set(TablePhase::Paused);
                }
            }
            TableEvent::Scoring { fraction } => self.phase.set(TablePhase::Scoring(fraction)),
            TableEvent::Scored { results, top_rows, backend } => {
                self.scored_on.set(Some(backend));
                self.counts.set(None);
                self.results.set(Some(results));
                self.top_rows.set(top_rows);
                self.phase.set(TablePhase::Done);
            }
            TableEvent::Diverged { message } => self.diverged.set(Some(message)),
            TableEvent::Failed { message } => {
                self.notice.set(Some(message));
                if matches!(self.phase.get_untracked(), TablePhase::Training | TablePhase::Scoring(_)) {
                    // A run that never started leaves nothing to resume.
                    let started = self.summary.with_untracked(Option::is_some);
                    self.phase.set(if started { TablePhase::Paused } else { TablePhase::Idle });
                }
            }
            TableEvent::ThresholdCounts(counts) => self.counts.set(Some(counts)),
            TableEvent::DownloadProgress { fraction } => self.downloading.set(Some(fraction)),
            // Only `make bench` asks for this, from its own page.
            TableEvent::ScoringBenchmark { .. } => {}
        }
    }
}

impl Default for TableState {
    fn default() -> Self {
        Self::new()
    }
}
