//! The Events view's AnomalyCLR study in the worker: make the events, then train the encoder and the two
//! scoring autoencoders in chunks, telling the page after every chunk, after each of the encoder's epochs
//! how similar it finds events to their copies, and at the end what each signal's scores show. Pause,
//! resume and step land between chunks.

use std::cell::RefCell;
use std::rc::Rc;

use anomaly_engine::objects::clr::{ClrSettings, ClrTraining};
use anomaly_engine::objects::study::{Phase, Study, StudyData, StudySettings};
use anomaly_engine::objects::table::{read_events, study_data};
use anomaly_engine::objects::toy::background;
use anomaly_engine::objects::{to_csv, Event as ObjectEvent};
use anomaly_engine::table::parse::parse_bytes;

use super::meter::Meter;
use super::run_loop::{train_chunk, Stop, StopAt};
use super::sequence::{self, Control, Driver, Sequence};
use super::{now_ms, post, CHUNK_MILLISECONDS};
use crate::protocol::{Event, EventsCommand, EventsEvent, RunEvent, RunOf, StepUnit};

/// The study in progress, and the events of the file opened last (its name, and each row as an
/// event with whether it is signal and its kind), which a study on "your file" starts from.
#[derive(Default)]
pub(crate) struct EventsWorker {
    driver: sequence::Shared<Running>,
    file: RefCell<Option<(String, Vec<(ObjectEvent, bool, String)>)>>,
}

pub(crate) type Shared = Rc<EventsWorker>;

/// A file of events larger than this is refused before it is read: the view learns from at most
/// 50,000 events, which take a few MB of CSV.
const MAX_FILE_BYTES: f64 = 200.0 * 1024.0 * 1024.0;

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
        EventsCommand::Start { settings, from_file } => {
            let data = if from_file {
                match state.file.borrow().as_ref() {
                    Some((name, events)) => study_data(events.clone(), settings.seed, name).map_err(|err| format!("\"{name}\" cannot be used: {err}.")),
                    None => Err("There is no file of events to learn from: open one first, or choose the toy.".to_string()),
                }
            } else {
                Ok(StudyData::toy(&settings))
            };
            match data.and_then(|data| start(&settings, data)) {
                Ok(running) => Driver::start(&state.driver, running),
                Err(message) => say(EventsEvent::Failed { message }),
            }
        }
        EventsCommand::DownloadToy { settings } => {
            let data = StudyData::toy(&settings);
            let mut events = data.train;
            events.extend(data.test_background);
            events.extend(data.test_signals.into_iter().flat_map(|g| g.events));
            let name = format!("toy-object-events-seed{}-{}.csv", settings.seed, events.len());
            super::tables::hand_over_as(&[&to_csv(&events)], &name, "text/csv");
        }
        EventsCommand::Benchmark { steps } => say(benchmark(steps)),
        EventsCommand::Pause => {
            state.driver.borrow_mut().pause();
            say_run(RunEvent::Paused);
        }
        EventsCommand::Resume => go_on(state, None),
        EventsCommand::Step { unit } => go_on(state, Some(unit)),
    }
}

fn go_on(state: &Shared, step: Option<StepUnit>) {
    if !Driver::resume(&state.driver, step) {
        say(EventsEvent::Failed { message: "There is no study to go on with: start one first.".into() });
    }
}

/// Reads a visitor's file of events and keeps it for a study; says what it holds, or why it cannot be
/// used (the file read before stays).
pub(crate) fn open_file(state: &Shared, file: web_sys::File) {
    let name = file.name();
    let refuse = |reason: String| say(EventsEvent::FileRefused { message: format!("\"{name}\" could not be used, so nothing changed: {reason}.") });
    if file.size() > MAX_FILE_BYTES {
        return refuse(format!("it is {:.0} MB; the view learns from at most 50,000 events, a few MB of CSV, so save a part of it", file.size() / 1048576.0));
    }
    let source = super::source::Source::File(file);
    let bytes = match source.read(0, source.len()) {
        Ok(bytes) => bytes,
        Err(reason) => return refuse(reason),
    };
    match accept_file(&bytes) {
        Ok(events) => {
            let signal: Vec<&(ObjectEvent, bool, String)> = events.iter().filter(|e| e.1).collect();
            let mut kinds: Vec<String> = Vec::new();
            for (_, _, kind) in &signal {
                if !kinds.contains(kind) {
                    kinds.push(kind.clone());
                }
            }
            say(EventsEvent::FileRead { name: name.clone(), background: events.len() - signal.len(), signal: signal.len(), kinds });
            *state.file.borrow_mut() = Some((name, events));
        }
        Err(reason) => refuse(reason),
    }
}

/// A file's rows as events, when the view can learn from them (enough background and signal).
fn accept_file(bytes: &[u8]) -> Result<Vec<(ObjectEvent, bool, String)>, String> {
    let table = parse_bytes(bytes, 1 << 20).map_err(|err| err.to_string())?;
    let events = read_events(&table).map_err(|err| err.to_string())?;
    study_data(events.clone(), 1, "").map_err(|err| err.to_string())?;
    Ok(events)
}

fn start(settings: &StudySettings, data: StudyData) -> Result<Running, String> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(format!("The study's settings cannot be used: {}.", problems.join("; ")));
    }
    let started_ms = now_ms();
    let study = Study::start_on(settings, data).map_err(|err| format!("The study could not start: {err}."))?;
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
        handle(&state, EventsCommand::Start { settings: small(), from_file: false });
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
        handle(&state, EventsCommand::Start { settings: small(), from_file: false });
        handle(&state, EventsCommand::Pause);
        host.run_until_idle();
        host.take_events();
        handle(&state, EventsCommand::Step { unit: StepUnit::Batch });
        host.run_until_idle();
        assert_eq!(state.driver.borrow_mut().run.as_mut().unwrap().study.training().unwrap().steps_done(), 1);
        assert_eq!(told(&host).last().map(String::as_str), Some("Paused"));
        handle(&state, EventsCommand::Resume);
        host.run_until_idle();
        assert!(told(&host).last().is_some_and(|n| n.starts_with("Finished")));
    }

    #[test]
    fn no_anomalous_copies_get_a_sentence_and_nothing_starts() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, EventsCommand::Start { settings: StudySettings { anomalies: AnomalyKinds::NONE, ..small() }, from_file: false });
        host.run_until_idle();
        let names = told(&host);
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with("Failed: The study's settings cannot be used: switch on at least one anomalous augmentation"), "{names:?}");
        assert!(state.driver.borrow().run.is_none());
    }

    #[test]
    fn a_file_of_events_trains_like_the_toy_and_names_its_own_kinds() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, EventsCommand::Start { settings: small(), from_file: true });
        host.run_until_idle();
        assert_eq!(told(&host), ["Failed: There is no file of events to learn from: open one first, or choose the toy."]);
        let mut events = background(600, 9);
        events.extend(anomaly_engine::objects::toy::generate(anomaly_engine::objects::Process::HpmTauNu, 40, 9));
        let read = accept_file(&to_csv(&events)).unwrap();
        *state.file.borrow_mut() = Some(("mine.csv".into(), read));
        handle(&state, EventsCommand::Start { settings: small(), from_file: true });
        host.run_until_idle();
        let finished = host.told(|event| match event {
            Event::Events(event) => match *event {
                EventsEvent::Finished { result, .. } => Some(result.signals.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(",")),
                _ => None,
            },
            _ => None,
        });
        assert_eq!(finished, ["hpm_taunu"], "the signal is named by the file's process column");
        let refused = accept_file(b"x,y,is_signal\n1,2,0\n").unwrap_err();
        assert!(refused.starts_with("it has none of the object columns the Events view reads"), "{refused}");
    }
}
