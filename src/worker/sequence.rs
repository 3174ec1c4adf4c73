//! What the resonance hunt and the jet study share in the worker: a sequence of fits trained one after
//! another in chunks, which Pause, Resume and Step stop and restart between chunks. Each keeps its own
//! `Running` (what it trains and what it says); this module keeps the switches and the loop.

use std::cell::RefCell;
use std::rc::Rc;

use super::{spawn, yield_to_event_loop};
use crate::protocol::StepUnit;

/// A sequence of fits in progress.
pub(crate) trait Sequence: 'static {
    fn is_done(&self) -> bool;
    /// Trains one chunk and says what happened; sets `paused` where the sequence should wait for the
    /// visitor (a step done, a failure).
    fn chunk(&mut self, control: &mut Control);
}

/// Whether the sequence waits, and the one batch or epoch a Step asked for.
#[derive(Default)]
pub(crate) struct Control {
    pub step: Option<StepUnit>,
    pub paused: bool,
}

pub(crate) struct Driver<R> {
    pub run: Option<R>,
    pub control: Control,
    /// Bumped by every command that stops or replaces a run, so a loop of an older one ends.
    generation: u64,
}

impl<R> Default for Driver<R> {
    fn default() -> Self {
        Self { run: None, control: Control::default(), generation: 0 }
    }
}

pub(crate) type Shared<R> = Rc<RefCell<Driver<R>>>;

impl<R: Sequence> Driver<R> {
    fn active(&mut self) -> Option<&mut R> {
        self.run.as_mut().filter(|r| !r.is_done())
    }

    /// A new sequence replaces any other; it trains until told otherwise.
    pub fn start(state: &Shared<R>, run: R) {
        let mut driver = state.borrow_mut();
        driver.run = Some(run);
        driver.control = Control::default();
        Self::spawn_loop(state, driver);
    }

    /// Stops the loop after its chunk (the run stays, paused).
    pub fn pause(&mut self) {
        self.generation += 1;
        if self.active().is_some() {
            self.control.paused = true;
        }
    }

    /// Goes on, to the end or for one batch or epoch; false when there is nothing to go on with.
    pub fn resume(state: &Shared<R>, step: Option<StepUnit>) -> bool {
        let mut driver = state.borrow_mut();
        if driver.active().is_none() {
            return false;
        }
        driver.control = Control { step, paused: false };
        Self::spawn_loop(state, driver);
        true
    }

    fn spawn_loop(state: &Shared<R>, mut driver: std::cell::RefMut<'_, Self>) {
        driver.generation += 1;
        let generation = driver.generation;
        drop(driver);
        spawn(run_loop(state.clone(), generation));
    }
}

async fn run_loop<R: Sequence>(state: Shared<R>, generation: u64) {
    loop {
        {
            let mut driver = state.borrow_mut();
            let Driver { run, control, generation: current } = &mut *driver;
            if *current != generation || control.paused {
                return;
            }
            match run.as_mut().filter(|r| !r.is_done()) {
                Some(run) => run.chunk(control),
                None => return,
            }
        }
        yield_to_event_loop().await;
    }
}
