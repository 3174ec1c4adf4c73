//! The page's jet-image study: one set of jets, then a plan of directions, each a training class at
//! an intensity exponent κ (every κ is trained both ways round, QCD first). The caller steps
//! [`Study::training`] (the worker, in chunks) and calls [`Study::advance`], which scores a finished run
//! and starts the next, until [`Study::is_done`].

use super::experiment::{DirectionResult, JetData, JetError, JetRun, JetSettings};
use super::panels::DirectionPanel;
use super::particles::JetClass;
use crate::models::{Architecture, ImageAutoencoder};
use crate::train::Training;

/// Bounds a visitor's settings are held to: enough jets for an AUC to mean something, few enough that a
/// phone keeps them in memory (a dense training row is 6.4 kB).
pub const MIN_JETS: usize = 200;
pub const MAX_TRAIN_JETS: usize = 50_000;
pub const MAX_TEST_JETS: usize = 20_000;
pub const MAX_KAPPAS: usize = 6;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudySettings {
    /// Training jets of each class.
    pub train_jets: usize,
    /// Test jets of each class.
    pub test_jets: usize,
    pub architecture: Architecture,
    /// Each κ trains both directions.
    pub kappas: Vec<f64>,
    pub epochs: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

impl Default for StudySettings {
    fn default() -> Self {
        Self { train_jets: 5_000, test_jets: 2_000, architecture: Architecture::DENSE, kappas: vec![1.0, 0.1], epochs: 10, learning_rate: 1e-3, seed: 1 }
    }
}

impl StudySettings {
    /// Every reason these settings cannot be used, as sentences a visitor can act on.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(MIN_JETS..=MAX_TRAIN_JETS).contains(&self.train_jets) {
            problems.push(format!("the training jets per class must be between {MIN_JETS} and {MAX_TRAIN_JETS}, not {}", self.train_jets));
        }
        if !(MIN_JETS..=MAX_TEST_JETS).contains(&self.test_jets) {
            problems.push(format!("the test jets per class must be between {MIN_JETS} and {MAX_TEST_JETS}, not {}", self.test_jets));
        }
        if self.kappas.is_empty() || self.kappas.len() > MAX_KAPPAS {
            problems.push(format!("choose between 1 and {MAX_KAPPAS} values of κ"));
        }
        for &kappa in &self.kappas {
            if let Err(err) = (JetSettings { kappa, ..JetSettings::default() }).check() {
                problems.push(err.to_string());
            }
        }
        if self.epochs == 0 {
            problems.push("train for at least one epoch".to_string());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            problems.push(format!("the learning rate must be above 0 and at most 1, not {}", self.learning_rate));
        }
        if let Some(problem) = (crate::models::ImageShape { side: super::image::SIDE, architecture: self.architecture }).problem() {
            problems.push(problem);
        }
        problems
    }

    fn run_settings(&self, kappa: f64) -> JetSettings {
        JetSettings { architecture: self.architecture, kappa, epochs: self.epochs, learning_rate: self.learning_rate, seed: self.seed, ..JetSettings::default() }
    }

    /// Every direction in the order it trains.
    pub fn plan(&self) -> Vec<(JetClass, f64)> {
        self.kappas.iter().flat_map(|&kappa| [(JetClass::Qcd, kappa), (JetClass::Top, kappa)]).collect()
    }
}

/// The name of a direction, as the page lists it.
pub fn direction_name(class: JetClass, kappa: f64) -> String {
    format!("trained on {} jets, κ = {kappa}", class.name())
}

/// One row of the AUC table: a κ, and the AUC of each direction once it has run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AucRow {
    pub kappa: f64,
    pub qcd_trained_tags_top: Option<f64>,
    pub top_trained_tags_qcd: Option<f64>,
}

impl AucRow {
    /// The weaker direction, once both have run: what a setting is judged by.
    pub fn weaker(&self) -> Option<f64> {
        Some(self.qcd_trained_tags_top?.min(self.top_trained_tags_qcd?))
    }
}

pub struct Study {
    pub settings: StudySettings,
    pub data: JetData,
    /// Directions still to start, the next one last.
    waiting: Vec<(JetClass, f64)>,
    current: Option<JetRun>,
    pub results: Vec<DirectionResult>,
}

impl Study {
    /// Generates the jets and starts the first direction.
    pub fn start(settings: &StudySettings) -> Result<Self, JetError> {
        let problems = settings.problems();
        if let Some(first) = problems.first() {
            return Err(JetError::Settings(first.clone()));
        }
        let data = JetData::generate(settings.train_jets, settings.test_jets, settings.seed)?;
        let mut study = Self { settings: settings.clone(), data, waiting: settings.plan().into_iter().rev().collect(), current: None, results: Vec::new() };
        study.start_next()?;
        Ok(study)
    }

    fn start_next(&mut self) -> Result<(), JetError> {
        self.current = match self.waiting.pop() {
            Some((class, kappa)) => Some(JetRun::begin(&self.data, class, &self.settings.run_settings(kappa))?),
            None => None,
        };
        Ok(())
    }

    /// The names of every direction, in the order they train.
    pub fn run_names(&self) -> Vec<String> {
        self.settings.plan().into_iter().map(|(class, kappa)| direction_name(class, kappa)).collect()
    }

    /// The run being trained, None once the study is done.
    pub fn training(&mut self) -> Option<&mut dyn Training> {
        self.current.as_mut().map(|run| run.training() as &mut dyn Training)
    }

    /// The run being trained.
    pub fn current(&self) -> Option<&JetRun> {
        self.current.as_ref()
    }

    pub fn current_model(&self) -> Option<&ImageAutoencoder> {
        self.current.as_ref().map(JetRun::model)
    }

    pub fn is_done(&self) -> bool {
        self.current.is_none()
    }

    /// When the run in progress has finished: scores it, starts the next one and returns what it found.
    /// None while the run still has steps to take (or when the study is done).
    pub fn advance(&mut self) -> Result<Option<&DirectionResult>, JetError> {
        if self.current.as_mut().is_none_or(|run| !run.training().is_finished()) {
            return Ok(None);
        }
        self.conclude()
    }

    /// Ends the run in progress now, finished or not (after a diverging step it keeps its last good
    /// weights), scores it and starts the next.
    pub fn conclude(&mut self) -> Result<Option<&DirectionResult>, JetError> {
        let Some(run) = self.current.take() else { return Ok(None) };
        let result = run.conclude_on(&self.data)?;
        self.results.push(result);
        self.start_next()?;
        Ok(self.results.last())
    }

    /// Like [`Study::conclude`], and also what the page shows of the run (its reconstructions need the
    /// model, which ends with the run).
    pub fn conclude_with_panel(&mut self) -> Result<Option<DirectionPanel>, JetError> {
        let Some(run) = self.current.take() else { return Ok(None) };
        let result = run.conclude_on(&self.data)?;
        let panel = DirectionPanel::of(&run, &result, &self.data)?;
        drop(run);
        self.results.push(result);
        self.start_next()?;
        Ok(Some(panel))
    }

    /// The AUC table so far: a row per κ in the plan's order.
    pub fn auc_table(&self) -> Vec<AucRow> {
        let auc = |class: JetClass, kappa: f64| self.results.iter().find(|r| r.trained_on == class && r.kappa == kappa).map(DirectionResult::auc);
        self.settings
            .kappas
            .iter()
            .map(|&kappa| AucRow { kappa, qcd_trained_tags_top: auc(JetClass::Qcd, kappa), top_trained_tags_qcd: auc(JetClass::Top, kappa) })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> StudySettings {
        StudySettings { train_jets: 200, test_jets: 200, architecture: Architecture::Dense { hidden: 8, latent: 4 }, kappas: vec![1.0, 0.25], epochs: 1, ..StudySettings::default() }
    }

    #[test]
    fn a_study_trains_each_direction_in_order_and_fills_the_auc_table() {
        let mut study = Study::start(&quick()).unwrap();
        assert_eq!(study.run_names(), ["trained on QCD jets, κ = 1", "trained on top jets, κ = 1", "trained on QCD jets, κ = 0.25", "trained on top jets, κ = 0.25"]);
        let mut finished = Vec::new();
        while let Some(training) = study.training() {
            training.step().unwrap();
            if let Some(result) = study.advance().unwrap() {
                finished.push((result.trained_on, result.kappa));
            }
        }
        assert_eq!(finished, quick().plan());
        let table = study.auc_table();
        assert_eq!(table.len(), 2);
        assert!(table.iter().all(|row| row.weaker().is_some_and(|auc| (0.0..=1.0).contains(&auc))));
        assert!(study.advance().unwrap().is_none());
    }

    #[test]
    fn a_concluded_run_comes_with_its_panel() {
        let mut study = Study::start(&StudySettings { kappas: vec![0.5], ..quick() }).unwrap();
        while !study.training().unwrap().is_finished() {
            study.training().unwrap().step().unwrap();
        }
        let panel = study.conclude_with_panel().unwrap().unwrap();
        let result = &study.results[0];
        assert_eq!((panel.trained_on, panel.kappa, panel.auc), (JetClass::Qcd, 0.5, result.auc()));
        assert_eq!(panel.complexity.len(), 400, "every test jet of both classes (200 each)");
        assert_eq!(panel.examples.iter().map(|e| e.class).collect::<Vec<_>>(), [JetClass::Qcd, JetClass::Top]);
        let first = &panel.examples[0];
        assert_eq!((first.input.len(), first.output.len(), first.error), (1600, 1600, result.scores_trained[0]));
        assert!((first.input.iter().sum::<f32>() - 1.0).abs() < 1e-4, "the input as the model saw it, intensities summing to one");
        let mean = result.scores_other.iter().map(|&s| s as f64).sum::<f64>() / 200.0;
        assert!((panel.mean_error[1] - mean).abs() < 1e-9);
        assert!(panel.lit_correlation.iter().chain(&panel.concentration_correlation).all(|r| (-1.0..=1.0).contains(r)));
        assert_eq!(study.current().unwrap().trained_on, JetClass::Top, "the next direction started");
    }

    #[test]
    fn bad_settings_are_named_one_sentence_each() {
        let bad = StudySettings { train_jets: 10, kappas: vec![0.0, 1.0], epochs: 0, learning_rate: -1.0, ..StudySettings::default() };
        let problems = bad.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[1].contains("κ must be a number above 0"), "{problems:?}");
        assert!(matches!(Study::start(&bad), Err(JetError::Settings(_))));
        assert!(StudySettings { kappas: vec![], ..StudySettings::default() }.problems()[0].contains("values of κ"));
        assert!(StudySettings::default().problems().is_empty());
    }

    #[test]
    fn concluding_early_keeps_the_partial_run_and_moves_on() {
        let mut study = Study::start(&quick()).unwrap();
        study.training().unwrap().step().unwrap();
        let result = study.conclude().unwrap().unwrap().clone();
        assert_eq!((result.trained_on, result.kappa), (JetClass::Qcd, 1.0));
        assert_eq!(study.current().unwrap().trained_on, JetClass::Top);
        assert_eq!(study.auc_table()[0].top_trained_tags_qcd, None);
    }
}
