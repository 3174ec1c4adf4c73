//! The jet-image study in the worker: make the jets, then train each direction (a class at a κ) in
//! chunks, telling the page after every chunk, and after each direction what it found. Pause, resume and
//! step land between chunks.

use anomaly_engine::jets::experiment::{JetData, JetRun, JetSettings};
use anomaly_engine::jets::panels::StudyIntro;
use anomaly_engine::jets::particles::JetClass;
use anomaly_engine::jets::study::{Study, StudySettings};
use anomaly_engine::models::Architecture;
use anomaly_engine::train::Training;

use super::meter::Meter;
use super::run_loop::{train_chunk, Stop, StopAt};
use super::sequence::{self, Control, Driver, Sequence};
use super::{now_ms, post, CHUNK_MILLISECONDS};
use crate::protocol::{Event, JetCommand, JetEvent, RunEvent, RunOf, StepUnit};

pub(crate) type Shared = sequence::Shared<Running>;

pub(crate) struct Running {
    study: Study,
    meter: Meter,
    run_index: usize,
    started_ms: f64,
}

fn say(event: JetEvent) {
    post(&Event::Jets(Box::new(event)));
}

fn say_run(event: RunEvent) {
    post(&Event::Run { of: RunOf::Jets, event });
}

pub(crate) fn handle(state: &Shared, command: JetCommand) {
    match command {
        JetCommand::Start { settings } => match start(&settings) {
            Ok(running) => Driver::start(state, running),
            Err(message) => say(JetEvent::Failed { message }),
        },
        JetCommand::Benchmark { steps } => say(benchmark(steps)),
        JetCommand::Pause => {
            state.borrow_mut().pause();
            say_run(RunEvent::Paused);
        }
        JetCommand::Resume => go_on(state, None),
        JetCommand::Step { unit } => go_on(state, Some(unit)),
    }
}

fn go_on(state: &Shared, step: Option<StepUnit>) {
    if !Driver::resume(state, step) {
        say(JetEvent::Failed { message: "There is no study to go on with: start one first.".into() });
    }
}

fn start(settings: &StudySettings) -> Result<Running, String> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(format!("The study's settings cannot be used: {}.", problems.join("; ")));
    }
    let started_ms = now_ms();
    let study = Study::start(settings).map_err(|err| format!("The study could not start: {err}."))?;
    say(JetEvent::Started { intro: StudyIntro::of(&study.data, &settings.kappas, settings.seed), runs: study.run_names() });
    let mut running = Running { study, meter: Meter::default(), run_index: 0, started_ms };
    running.announce_run();
    Ok(running)
}

/// Times `steps` training steps of the convolutional autoencoder on toy jets (batch 64, 40 × 40), after
/// three untimed ones.
fn benchmark(steps: usize) -> JetEvent {
    let settings = JetSettings { architecture: Architecture::CONV, epochs: 1, ..JetSettings::default() };
    let run = JetData::generate(settings.batch_size * (steps + 3), 1, 1).and_then(|data| JetRun::begin(&data, JetClass::Qcd, &settings));
    let mut run = match run {
        Ok(run) => run,
        Err(err) => return JetEvent::Failed { message: format!("The benchmark could not start: {err}.") },
    };
    let mut started = 0.0;
    for step in 0..steps + 3 {
        if step == 3 {
            started = now_ms();
        }
        if let Err(err) = run.training().step() {
            return JetEvent::Failed { message: format!("The benchmark failed: {err}.") };
        }
    }
    JetEvent::BenchmarkResult { steps, milliseconds_per_step: (now_ms() - started) / steps.max(1) as f64 }
}

impl Sequence for Running {
    fn is_done(&self) -> bool {
        self.study.is_done()
    }

    /// Trains the direction in progress for one chunk and says what happened.
    fn chunk(&mut self, control: &mut Control) {
        let Some(training) = self.study.training() else { return };
        let end = train_chunk(training, &mut self.meter, &now_ms, CHUNK_MILLISECONDS, StopAt { step: control.step, epoch_end: false });
        say_run(RunEvent::Progress(self.meter.progress(self.study.training().expect("a direction is in progress"))));
        for epoch in end.epochs {
            say_run(RunEvent::EpochEnded { epoch: epoch.epoch, train_loss: epoch.train_loss, validation_loss: epoch.validation_loss.ok().flatten() });
        }
        match end.stop {
            Stop::BudgetSpent | Stop::EpochEnded => {}
            Stop::StepDone => {
                control.paused = true;
                say_run(RunEvent::Paused);
            }
            Stop::Finished => {
                self.conclude_run(control);
                // A step that ends a direction ends there too: the next one waits for the visitor.
                if control.step.is_some() && !self.study.is_done() {
                    control.paused = true;
                    say_run(RunEvent::Paused);
                }
            }
            Stop::Diverged(err) => {
                let name = self.study.run_names()[self.run_index].clone();
                say_run(RunEvent::Diverged {
                    message: format!("The autoencoder {name} stopped learning ({err}). Its last good weights are scored and the study goes on; another seed may train more smoothly."),
                });
                self.conclude_run(control);
            }
            Stop::Failed(err) => {
                control.paused = true;
                say_run(RunEvent::Failed { message: format!("Training stopped: {err}.") });
            }
        }
    }

}

impl Running {
    /// Scores the direction just ended, tells the page, and starts the next one (or ends the study).
    fn conclude_run(&mut self, control: &mut Control) {
        match self.study.conclude_with_panel() {
            Ok(Some(panel)) => say(JetEvent::RunFinished { index: self.run_index, panel, table: self.study.auc_table() }),
            Ok(None) => {}
            Err(err) => {
                control.paused = true;
                return say_run(RunEvent::Failed { message: format!("The study stopped: {err}.") });
            }
        }
        if self.study.is_done() {
            say(JetEvent::Finished { seconds: (now_ms() - self.started_ms) / 1000.0 });
        } else {
            self.run_index += 1;
            self.meter = Meter::default();
            self.announce_run();
        }
    }

    fn announce_run(&mut self) {
        let name = self.study.run_names()[self.run_index].clone();
        let epochs = self.study.training().map_or(0, |t| t.epochs());
        say(JetEvent::RunStarted { index: self.run_index, name, epochs });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::test_host::{variant_name, TestHost};

    fn small() -> StudySettings {
        StudySettings { train_jets: 200, test_jets: 200, architecture: Architecture::Dense { hidden: 8, latent: 4 }, kappas: vec![1.0, 0.25], epochs: 1, ..StudySettings::default() }
    }

    /// What the page was told, by name, progress left out.
    fn told(host: &TestHost) -> Vec<String> {
        host.told(|event| {
            Some(match event {
                Event::Run { event: RunEvent::Progress(_), .. } => return None,
                Event::Run { of, event } => {
                    assert_eq!(of, RunOf::Jets);
                    variant_name(&event)
                }
                Event::Jets(event) => match *event {
                    JetEvent::RunStarted { name, .. } => format!("RunStarted {name}"),
                    JetEvent::RunFinished { index, table, .. } => format!("RunFinished {index} ({} rows)", table.len()),
                    JetEvent::Failed { message } => format!("Failed: {message}"),
                    other => variant_name(&other),
                },
                other => panic!("the study posted {other:?}"),
            })
        })
    }

    #[test]
    fn a_study_trains_every_direction_in_chunks_and_tells_the_page_each_result() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, JetCommand::Start { settings: small() });
        host.run_until_idle();
        let names: Vec<String> = told(&host).into_iter().filter(|n| n != "EpochEnded").collect();
        assert_eq!(
            names,
            [
                "Started",
                "RunStarted trained on QCD jets, κ = 1",
                "RunFinished 0 (2 rows)",
                "RunStarted trained on top jets, κ = 1",
                "RunFinished 1 (2 rows)",
                "RunStarted trained on QCD jets, κ = 0.25",
                "RunFinished 2 (2 rows)",
                "RunStarted trained on top jets, κ = 0.25",
                "RunFinished 3 (2 rows)",
                "Finished",
            ]
        );
    }

    #[test]
    fn pause_stops_between_chunks_and_a_step_ending_a_direction_waits_before_the_next() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, JetCommand::Start { settings: small() });
        handle(&state, JetCommand::Pause);
        host.run_until_idle();
        host.take_events();
        handle(&state, JetCommand::Step { unit: StepUnit::Batch });
        host.run_until_idle();
        assert_eq!(state.borrow_mut().run.as_mut().unwrap().study.training().unwrap().steps_done(), 1);
        assert_eq!(told(&host).last().map(String::as_str), Some("Paused"));
        host.take_events();
        handle(&state, JetCommand::Step { unit: StepUnit::Epoch });
        host.run_until_idle();
        let names = told(&host);
        assert!(names.contains(&"RunFinished 0 (2 rows)".to_string()), "{names:?}");
        assert_eq!(names.last().map(String::as_str), Some("Paused"), "{names:?}");
        let mut st = state.borrow_mut();
        let run = st.run.as_mut().unwrap();
        assert_eq!((run.run_index, run.study.training().unwrap().steps_done()), (1, 0), "the top-trained direction has not started training");
        drop(st);
        handle(&state, JetCommand::Resume);
        host.run_until_idle();
        assert_eq!(told(&host).last().map(String::as_str), Some("Finished"));
    }

    #[test]
    fn a_kappa_of_zero_gets_a_sentence_and_nothing_starts() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, JetCommand::Start { settings: StudySettings { kappas: vec![1.0, 0.0], ..small() } });
        host.run_until_idle();
        let names = told(&host);
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with("Failed: The study's settings cannot be used: κ must be a number above 0"), "{names:?}");
        assert!(state.borrow().run.is_none());
        handle(&state, JetCommand::Resume);
        assert_eq!(told(&host), ["Failed: There is no study to go on with: start one first."]);
    }
}
