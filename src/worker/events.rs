//! The Events view's AnomalyCLR study in the worker: make the events, then train the encoder and the two
//! scoring autoencoders in chunks, telling the page after every chunk, after each of the encoder's epochs
//! how similar it finds events to their copies, and at the end what each signal's scores show. Pause,
//! resume and step land between chunks.

use anomaly_engine::objects::clr::{ClrSettings, ClrTraining};
use anomaly_engine::objects::study::{Phase, Study, StudySettings};
use anomaly_engine::objects::toy::background;

use super::meter::Meter;
use super::run_loop::{train_chunk, Stop, StopAt};
use super::sequence::{self, Control, Driver, Sequence};
use super::{now_ms, post, CHUNK_MILLISECONDS};
use crate::protocol::{Event, EventsCommand, EventsEvent, RunEvent, RunOf, StepUnit};

pub(crate) type Shared = sequence::Shared<Running>;

pub(crate) struct Running {
    study: Study,
    meter: Meter,
    started_ms: f64,
}

fn say(event: EventsEvent) {
    post(&Event::Events(Box::new(event)));
}

fn say_run(event: RunEvent) {
    post(&Event::Run { of: RunOf::Events, event });
}

pub(crate) fn handle(state: &Shared, command: EventsCommand) {
    match command {
        EventsCommand::Start { settings } => match start(&settings) {
            Ok(running) => Driver::start(state, running),
            Err(message) => say(EventsEvent::Failed { message }),
        },
        EventsCommand::Benchmark { steps } => say(benchmark(steps)),
        EventsCommand::Pause => {
            state.borrow_mut().pause();
            say_run(RunEvent::Paused);
        }
        EventsCommand::Resume => go_on(state, None),
        EventsCommand::Step { unit } => go_on(state, Some(unit)),
    }
}

fn go_on(state: &Shared, step: Option<StepUnit>) {
    if !Driver::resume(state, step) {
        say(EventsEvent::Failed { message: "There is no study to go on with: start one first.".into() });
    }
}

fn start(settings: &StudySettings) -> Result<Running, String> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(format!("The study's settings cannot be used: {}.", problems.join("; ")));
    }
    let started_ms = now_ms();
    let study = Study::start(settings).map_err(|err| format!("The study could not start: {err}."))?;
    say(EventsEvent::Started { intro: study.intro(), phases: Phase::ALL.iter().map(|p| p.name().to_string()).collect() });
    let mut running = Running { study, meter: Meter::default(), started_ms };
    running.tell_similarities(0);
    running.announce_phase();
    Ok(running)
}

/// Times `steps` contrastive steps of the default transformer (batch 256, three views: the events, their
/// physical and their anomalous copies), after three untimed ones.
fn benchmark(steps: usize) -> EventsEvent {
    let settings = ClrSettings::default();
    let events = background(settings.schedule.batch_size * (steps + 3), 1);
    let mut run = match ClrTraining::new(events, &settings) {
        Ok(run) => run,
        Err(err) => return EventsEvent::Failed { message: format!("The benchmark could not start: {err}.") },
    };
    let mut started = 0.0;
    for step in 0..steps + 3 {
        if step == 3 {
            started = now_ms();
        }
        if let Err(err) = run.training().step() {
            return EventsEvent::Failed { message: format!("The benchmark failed: {err}.") };
        }
    }
    EventsEvent::BenchmarkResult { steps, milliseconds_per_step: (now_ms() - started) / steps.max(1) as f64 }
}

impl Sequence for Running {
    fn is_done(&self) -> bool {
        self.study.is_done()
    }

    /// Trains the fit in progress for one chunk and says what happened.
    fn chunk(&mut self, control: &mut Control) {
        let Some(training) = self.study.training() else { return };
        let end = train_chunk(training, &mut self.meter, &now_ms, CHUNK_MILLISECONDS, StopAt { step: control.step, epoch_end: false });
        say_run(RunEvent::Progress(self.meter.progress(self.study.training().expect("a fit is in progress"))));
        let last_epoch = end.epochs.last().map(|e| e.epoch);
        for epoch in end.epochs {
            say_run(RunEvent::EpochEnded { epoch: epoch.epoch, train_loss: epoch.train_loss, validation_loss: epoch.validation_loss.ok().flatten() });
        }
        if let (Some(epoch), Some(Phase::Encoder)) = (last_epoch, self.study.phase()) {
            self.tell_similarities(epoch);
        }
        match end.stop {
            Stop::BudgetSpent | Stop::EpochEnded => {}
            Stop::StepDone => {
                control.paused = true;
                say_run(RunEvent::Paused);
            }
            Stop::Finished => {
                self.conclude_phase(control);
                // A step that ends a fit ends there too: the next one waits for the visitor.
                if control.step.is_some() && !self.study.is_done() {
                    control.paused = true;
                    say_run(RunEvent::Paused);
                }
            }
            Stop::Diverged(err) => {
                let name = self.study.phase().map_or("the fit", Phase::name);
                say_run(RunEvent::Diverged {
                    message: format!("Training {name} stopped ({err}). Its last good weights are kept and the study goes on; another seed may train more smoothly."),
                });
                self.conclude_phase(control);
            }
            Stop::Failed(err) => {
                control.paused = true;
                say_run(RunEvent::Failed { message: format!("Training stopped: {err}.") });
            }
        }
    }
}

impl Running {
    fn tell_similarities(&self, epoch: usize) {
        match self.study.similarities(epoch) {
            Ok(similarities) => say(EventsEvent::Similarities(similarities)),
            Err(err) => say(EventsEvent::Failed { message: format!("The similarities could not be computed: {err}.") }),
        }
    }

    /// Ends the fit in progress, tells the page, and starts the next one (or scores the test events).
    fn conclude_phase(&mut self, control: &mut Control) {
        if let Err(err) = self.study.conclude() {
            control.paused = true;
            return say_run(RunEvent::Failed { message: format!("The study stopped: {err}.") });
        }
        match &self.study.result {
            Some(result) if self.study.is_done() => say(EventsEvent::Finished { result: result.clone(), seconds: (now_ms() - self.started_ms) / 1000.0 }),
            _ => {
                self.meter = Meter::default();
                self.announce_phase();
            }
        }
    }

    fn announce_phase(&mut self) {
        let Some(phase) = self.study.phase() else { return };
        let index = Phase::ALL.iter().position(|&p| p == phase).unwrap_or(0);
        let epochs = self.study.training().map_or(0, |t| t.epochs());
        say(EventsEvent::PhaseStarted { index, name: phase.name().to_string(), epochs });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::test_host::{variant_name, TestHost};
    use anomaly_engine::objects::augment::AnomalyKinds;
    use anomaly_engine::objects::encoder::EncoderConfig;

    fn small() -> StudySettings {
        StudySettings {
            train_events: 256,
            test_events: 256,
            encoder: EncoderConfig { width: 8, heads: 2, layers: 1, feed_forward: 16, output: 8, ..EncoderConfig::default() },
            epochs: 2,
            scorer_epochs: 1,
            ..StudySettings::default()
        }
    }

    /// What the page was told, by name, progress left out.
    fn told(host: &TestHost) -> Vec<String> {
        host.told(|event| {
            Some(match event {
                Event::Run { event: RunEvent::Progress(_), .. } => return None,
                Event::Run { of, event } => {
                    assert_eq!(of, RunOf::Events);
                    variant_name(&event)
                }
                Event::Events(event) => match *event {
                    EventsEvent::PhaseStarted { name, .. } => format!("PhaseStarted {name}"),
                    EventsEvent::Similarities(s) => format!("Similarities {}", s.epoch),
                    EventsEvent::Finished { result, .. } => format!("Finished ({} signals)", result.signals.len()),
                    EventsEvent::Failed { message } => format!("Failed: {message}"),
                    other => variant_name(&other),
                },
                other => panic!("the study posted {other:?}"),
            })
        })
    }

    #[test]
    fn a_study_trains_its_fits_in_chunks_and_tells_the_page_each_step() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, EventsCommand::Start { settings: small() });
        host.run_until_idle();
        let names: Vec<String> = told(&host).into_iter().filter(|n| n != "EpochEnded").collect();
        assert_eq!(
            names,
            [
                "Started",
                "Similarities 0",
                "PhaseStarted the encoder, learning representations",
                // The test clock lets both epochs run in one chunk: the encoder as it is after them.
                "Similarities 2",
                "PhaseStarted the autoencoder on the raw objects",
                "PhaseStarted the autoencoder on the representations",
                "Finished (4 signals)",
            ]
        );
    }

    #[test]
    fn pause_and_step_land_between_chunks() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, EventsCommand::Start { settings: small() });
        handle(&state, EventsCommand::Pause);
        host.run_until_idle();
        host.take_events();
        handle(&state, EventsCommand::Step { unit: StepUnit::Batch });
        host.run_until_idle();
        assert_eq!(state.borrow_mut().run.as_mut().unwrap().study.training().unwrap().steps_done(), 1);
        assert_eq!(told(&host).last().map(String::as_str), Some("Paused"));
        handle(&state, EventsCommand::Resume);
        host.run_until_idle();
        assert!(told(&host).last().is_some_and(|n| n.starts_with("Finished")));
    }

    #[test]
    fn no_anomalous_copies_get_a_sentence_and_nothing_starts() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, EventsCommand::Start { settings: StudySettings { anomalies: AnomalyKinds { add_objects: false, split: false }, ..small() } });
        host.run_until_idle();
        let names = told(&host);
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with("Failed: The study's settings cannot be used: switch on at least one anomalous augmentation"), "{names:?}");
        assert!(state.borrow().run.is_none());
    }
}
