//! The resonance hunt in the worker: generate the toy, then train each fit of the hunt in chunks
//! (background flow, ANODE, R-ANODE, the idealized reference), telling the page after every chunk, and
//! after each fit the figures it gives. Pause, resume and step land between chunks.

use anomaly_engine::resonance::hunt::{Finished, Hunt, HuntSettings, Scored, Tagger};
use anomaly_engine::resonance::panels::{self, AfterCut};
use anomaly_engine::resonance::rnd_v2;

use super::meter::Meter;
use super::run_loop::{train_chunk, Stop, StopAt};
use super::sequence::{self, Control, Driver, Sequence};
use super::{now_ms, post, CHUNK_MILLISECONDS};
use crate::protocol::{Event, HuntCommand, HuntEvent, RunEvent, RunOf, StepUnit, TaggerCurve};

/// The taggers the page trains after the background flow, in order.
pub const PAGE_PLAN: [Tagger; 3] = [Tagger::Anode, Tagger::RanodeLearned, Tagger::Idealized];
/// Events drawn from the signal flow for the samples panel.
const SAMPLES: usize = 2_000;
/// The background efficiency of the cut whose spectrum the page shows.
const CUT_EFFICIENCY: f64 = 0.01;
/// Points of a SIC curve sent to the page.
const CURVE_POINTS: usize = 200;

pub(crate) type Shared = sequence::Shared<Running>;

pub(crate) struct Running {
    hunt: Hunt,
    meter: Meter,
    fit_index: usize,
    started_ms: f64,
    /// R-ANODE's scores on the test set, for the cut.
    ranode_scores: Option<Vec<f64>>,
}

fn say(event: HuntEvent) {
    post(&Event::Hunt(Box::new(event)));
}

fn say_run(event: RunEvent) {
    post(&Event::Run { of: RunOf::Hunt, event });
}

pub(crate) fn handle(state: &Shared, command: HuntCommand) {
    match command {
        HuntCommand::Start { settings } => match start(&settings) {
            Ok(running) => Driver::start(state, running),
            Err(message) => say(HuntEvent::Failed { message }),
        },
        HuntCommand::Pause => {
            state.borrow_mut().pause();
            say_run(RunEvent::Paused);
        }
        HuntCommand::Resume => go_on(state, None),
        HuntCommand::Step { unit } => go_on(state, Some(unit)),
    }
}

fn go_on(state: &Shared, step: Option<StepUnit>) {
    if !Driver::resume(state, step) {
        say(HuntEvent::Failed { message: "There is no hunt to go on with: start one first.".into() });
    }
}

fn start(settings: &HuntSettings) -> Result<Running, String> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(format!("The hunt's settings cannot be used: {}.", problems.join("; ")));
    }
    let started_ms = now_ms();
    let hunt = Hunt::start(settings, &PAGE_PLAN).map_err(|err| format!("The hunt could not start: {err}."))?;
    let data = &hunt.data;
    let optimal = curve("optimal (true densities)", data.figures(&data.test.iter().map(rnd_v2::optimal_score).collect::<Vec<_>>()));
    say(HuntEvent::Started {
        spectrum: panels::spectrum(data),
        signal_region_events: data.region.len(),
        injected: data.injected,
        true_w: data.true_w,
        optimal,
        fits: hunt.fit_names(),
    });
    let mut running = Running { hunt, meter: Meter::default(), fit_index: 0, started_ms, ranode_scores: None };
    running.announce_fit();
    Ok(running)
}

fn curve(name: &str, (figures, sic): (anomaly_engine::resonance::hunt::Figures, anomaly_engine::sic::SicFigures)) -> TaggerCurve {
    TaggerCurve { name: name.into(), figures, curve: sic.thinned(CURVE_POINTS).curve }
}

impl Sequence for Running {
    fn is_done(&self) -> bool {
        self.hunt.is_done()
    }

    /// Trains the fit in progress for one chunk and says what happened.
    fn chunk(&mut self, control: &mut Control) {
        let Some(training) = self.hunt.training() else { return };
        let end = train_chunk(training, &mut self.meter, &now_ms, CHUNK_MILLISECONDS, StopAt { step: control.step, epoch_end: false });
        say_run(RunEvent::Progress(self.meter.progress(self.hunt.training().expect("a fit is in progress"))));
        for epoch in end.epochs {
            say_run(RunEvent::EpochEnded { epoch: epoch.epoch, train_loss: epoch.train_loss, validation_loss: epoch.validation_loss.ok().flatten() });
            if let Some(w) = self.hunt.current_w() {
                say(HuntEvent::SignalFraction { epoch: epoch.epoch, w });
            }
        }
        match end.stop {
            Stop::BudgetSpent | Stop::EpochEnded => {}
            Stop::StepDone => {
                control.paused = true;
                say_run(RunEvent::Paused);
            }
            Stop::Finished => {
                self.conclude_fit(control);
                // A step that ends a fit ends there too: the next fit waits for the visitor.
                if control.step.is_some() && !self.hunt.is_done() {
                    control.paused = true;
                    say_run(RunEvent::Paused);
                }
            }
            Stop::Diverged(err) => {
                let name = self.hunt.fit_names()[self.fit_index].clone();
                say_run(RunEvent::Diverged {
                    message: format!("The {name} stopped learning ({err}). Its best weights so far are kept and the hunt goes on; a smaller signal count or another seed may train more smoothly."),
                });
                self.conclude_fit(control);
            }
            Stop::Failed(err) => {
                control.paused = true;
                say_run(RunEvent::Failed { message: format!("Training stopped: {err}.") });
            }
        }
    }

}

impl Running {
    /// Scores the fit just ended, tells the page, and starts the next one (or ends the hunt).
    fn conclude_fit(&mut self, control: &mut Control) {
        match self.hunt.conclude() {
            Ok(Some(Finished::Background(closure))) => {
                let features = panels::closure_panel(&self.hunt, self.hunt.settings.seed).unwrap_or_default();
                say(HuntEvent::Closure { gap_nats: closure.gap_nats, standard_error: closure.standard_error, features });
            }
            Ok(Some(Finished::Tagger(tagger, Scored { figures, sic, test_scores }))) => {
                say(HuntEvent::Tagger(curve(tagger.name(), (figures, sic))));
                if tagger == Tagger::RanodeLearned {
                    if let Ok(Some((drawn, truth))) = panels::signal_samples(&self.hunt, SAMPLES, self.hunt.settings.seed) {
                        say(HuntEvent::Samples { drawn, truth });
                    }
                    self.ranode_scores = Some(test_scores);
                }
            }
            Ok(None) => {}
            Err(err) => {
                control.paused = true;
                return say_run(RunEvent::Failed { message: format!("The hunt stopped: {err}.") });
            }
        }
        if self.hunt.is_done() {
            if let Some(cut) = self.after_cut() {
                say(HuntEvent::AfterCut(cut));
            }
            say(HuntEvent::Finished { seconds: (now_ms() - self.started_ms) / 1000.0 });
        } else {
            self.fit_index += 1;
            self.meter = Meter::default();
            self.announce_fit();
        }
    }

    fn after_cut(&self) -> Option<AfterCut> {
        panels::after_cut(&self.hunt, self.ranode_scores.as_deref()?, CUT_EFFICIENCY).ok().flatten()
    }

    fn announce_fit(&mut self) {
        let name = self.hunt.fit_names()[self.fit_index].clone();
        let epochs = self.hunt.training().map_or(0, |t| t.epochs());
        say(HuntEvent::FitStarted { index: self.fit_index, name, epochs });
        if let Some(w) = self.hunt.current_w() {
            say(HuntEvent::SignalFraction { epoch: 0, w });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::test_host::{variant_name, TestHost};

    fn small() -> HuntSettings {
        HuntSettings { background_events: 20_000, signal_events: 300, seed: 2, background_epochs: 1, region_epochs: 1, test_background: 1_000, test_signal: 1_000 }
    }

    /// What the page was told, by name, progress left out.
    fn told(host: &TestHost) -> Vec<String> {
        host.told(|event| {
            Some(match event {
                Event::Run { event: RunEvent::Progress(_), .. } => return None,
                Event::Run { of, event } => {
                    assert_eq!(of, RunOf::Hunt);
                    variant_name(&event)
                }
                Event::Hunt(event) => match *event {
                    HuntEvent::FitStarted { name, .. } => format!("FitStarted {name}"),
                    HuntEvent::Tagger(curve) => format!("Tagger {}", curve.name),
                    HuntEvent::Failed { message } => format!("Failed: {message}"),
                    other => variant_name(&other),
                },
                other => panic!("the hunt posted {other:?}"),
            })
        })
    }

    #[test]
    fn a_hunt_trains_every_fit_in_chunks_and_tells_the_page_each_result() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, HuntCommand::Start { settings: small() });
        host.run_until_idle();
        let names = told(&host);
        let expected_order = [
            "Started",
            "FitStarted background flow",
            "Closure",
            "FitStarted ANODE",
            "Tagger ANODE",
            "FitStarted R-ANODE, w learned",
            "Tagger R-ANODE, w learned",
            "Samples",
            "FitStarted idealized",
            "Tagger idealized",
            "AfterCut",
            "Finished",
        ];
        let positions: Vec<usize> =
            expected_order.iter().map(|e| names.iter().position(|n| n == e).unwrap_or_else(|| panic!("{e} was not said: {names:?}"))).collect();
        assert!(positions.windows(2).all(|p| p[0] < p[1]), "out of order: {names:?}");
        assert!(names.contains(&"SignalFraction".to_string()));
    }

    #[test]
    fn pause_stops_between_chunks_and_resume_goes_on_where_it_was() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, HuntCommand::Start { settings: small() });
        host.turn();
        host.turn();
        handle(&state, HuntCommand::Pause);
        host.run_until_idle();
        let before = state.borrow_mut().run.as_mut().unwrap().hunt.training().unwrap().steps_done();
        assert!(told(&host).contains(&"Paused".to_string()));
        handle(&state, HuntCommand::Step { unit: StepUnit::Batch });
        host.run_until_idle();
        let after = state.borrow_mut().run.as_mut().unwrap().hunt.training().unwrap().steps_done();
        assert_eq!(after, before + 1, "one batch, then paused again");
        handle(&state, HuntCommand::Resume);
        host.run_until_idle();
        assert!(told(&host).contains(&"Finished".to_string()));
    }

    #[test]
    fn a_step_that_ends_a_fit_pauses_before_the_next_one() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, HuntCommand::Start { settings: small() });
        handle(&state, HuntCommand::Pause);
        host.run_until_idle();
        host.take_events();
        // The background flow has one epoch: stepping it ends the fit.
        handle(&state, HuntCommand::Step { unit: StepUnit::Epoch });
        host.run_until_idle();
        let names = told(&host);
        assert_eq!(names.iter().filter(|n| n.starts_with("FitStarted")).collect::<Vec<_>>(), ["FitStarted ANODE"], "{names:?}");
        assert_eq!(names.last().map(String::as_str), Some("Paused"), "{names:?}");
        let mut st = state.borrow_mut();
        let run = st.run.as_mut().unwrap();
        assert_eq!((run.fit_index, run.hunt.training().unwrap().steps_done()), (1, 0), "ANODE has not started training");
    }

    #[test]
    fn settings_out_of_range_get_a_sentence_and_nothing_starts() {
        let host = TestHost::install(1.0);
        let state = Shared::default();
        handle(&state, HuntCommand::Start { settings: HuntSettings { background_events: 5, ..small() } });
        host.run_until_idle();
        let names = told(&host);
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with("Failed: The hunt's settings cannot be used: The background events must be between 20000"), "{names:?}");
        assert!(state.borrow().run.is_none());
        handle(&state, HuntCommand::Resume);
        assert_eq!(told(&host), ["Failed: There is no hunt to go on with: start one first."]);
    }
}
