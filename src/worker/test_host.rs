//! The browser, as native tests see it: a clock that moves only as the test says, a recorder of every
//! event the worker posts, and a queue of the worker's tasks that the test turns by hand, so that it can
//! send a command between two slices of work just as a visitor's click lands between two tasks.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{set_host, Host, Task};
use crate::protocol::Event;

/// More turns than any test's work needs: reaching it means a task never ends.
const MAX_TURNS: usize = 1_000;

#[derive(Default)]
pub struct TestHost {
    pub clock: Cell<f64>,
    /// How far the clock moves each time the worker reads it (0: it stands still, so a slice of
    /// training never runs out of time).
    pub tick: Cell<f64>,
    pub events: RefCell<Vec<Event>>,
    tasks: RefCell<VecDeque<Task>>,
}

impl Host for TestHost {
    fn now_ms(&self) -> f64 {
        let now = self.clock.get();
        self.clock.set(now + self.tick.get());
        now
    }

    fn post(&self, event: &Event) {
        self.events.borrow_mut().push(event.clone());
    }

    fn spawn(&self, task: Task) {
        self.tasks.borrow_mut().push_back(task);
    }
}

impl TestHost {
    /// A host for this test's thread, whose clock moves `tick` milliseconds at each reading.
    pub fn install(tick: f64) -> Rc<Self> {
        let host = Rc::new(TestHost { tick: Cell::new(tick), ..Default::default() });
        set_host(host.clone());
        host
    }

    /// Polls each queued task once, as the event loop does between messages; tasks spawned meanwhile wait
    /// for the next turn. Says whether any task is left.
    pub fn turn(&self) -> bool {
        let queued = self.tasks.borrow().len();
        let mut context = Context::from_waker(Waker::noop());
        for _ in 0..queued {
            let Some(mut task) = self.tasks.borrow_mut().pop_front() else { break };
            if task.as_mut().poll(&mut context) == Poll::Pending {
                self.tasks.borrow_mut().push_back(task);
            }
        }
        !self.tasks.borrow().is_empty()
    }

    /// Turns until every task has ended.
    pub fn run_until_idle(&self) {
        for _ in 0..MAX_TURNS {
            if !self.turn() {
                return;
            }
        }
        panic!("the worker's tasks did not end within {MAX_TURNS} turns");
    }

    /// Every event posted since the last call.
    pub fn take_events(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.borrow_mut())
    }

    /// What the page was told since the last call, each event by the name `name` gives it (None leaves it
    /// out), a run of the same name said once.
    pub fn told(&self, name: impl Fn(Event) -> Option<String>) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in self.take_events().into_iter().filter_map(name) {
            if names.last() != Some(&name) {
                names.push(name);
            }
        }
        names
    }
}

/// The name of an enum value's variant, as its debug text starts: "Paused", "Closure".
pub fn variant_name(value: &impl std::fmt::Debug) -> String {
    format!("{value:?}").split([' ', '{', '(']).next().unwrap_or_default().to_string()
}
