//! The training worker: it loads the digits, owns the experiment, and trains in short chunks.
//!
//! A worker runs one task at a time, so a Pause message can only be read between tasks. Training therefore
//! runs in chunks of about [`CHUNK_MILLISECONDS`], yielding to the event loop after each, which keeps
//! every command answered within a fraction of a second. The page never computes anything itself.

mod backend;
mod meter;
mod run_loop;
mod session;
mod source;
mod tables;

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{Command, Event, FilePurpose, RunEvent, FILE_MESSAGE_KEY};
use anomaly_engine::data::DigitSet;
use session::{Session, WorkerState};

/// Where the page's build puts the digit file, relative to the worker script.
const DIGITS_URL: &str = "./data/digits.bin";
pub(crate) const CHUNK_MILLISECONDS: f64 = 40.0;

pub(crate) fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// The worker's surroundings: its clock and where its events go. In the browser (the default) these are
/// `performance.now()` and `postMessage`; native tests install a fake clock and a recorder with
/// [`set_host`], so the worker's state machine runs under `cargo test`.
pub(crate) trait Host {
    fn now_ms(&self) -> f64;
    fn post(&self, event: &Event);
}

thread_local! {
    static HOST: RefCell<Option<Rc<dyn Host>>> = const { RefCell::new(None) };
}

/// Replaces the browser as the worker's clock and event sink (for native tests).
#[cfg(test)]
pub(crate) fn set_host(host: Rc<dyn Host>) {
    HOST.with_borrow_mut(|h| *h = Some(host));
}

fn host() -> Option<Rc<dyn Host>> {
    HOST.with_borrow(|h| h.clone())
}

pub(crate) fn now_ms() -> f64 {
    match host() {
        Some(host) => host.now_ms(),
        None => scope().performance().map_or_else(js_sys::Date::now, |p| p.now()),
    }
}

pub(crate) fn post(event: &Event) {
    if let Some(host) = host() {
        return host.post(event);
    }
    match serde_wasm_bindgen::to_value(event) {
        Ok(value) => {
            if let Err(err) = scope().post_message(&value) {
                web_sys::console::error_2(&"worker: could not post an event".into(), &err);
            }
        }
        Err(err) => web_sys::console::error_1(&format!("worker: could not encode an event: {err}").into()),
    }
}

/// Starts the worker: answers commands and loads the digits in the background.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        // Tell the page in words before the instance traps; it will offer to start a new worker.
        web_sys::console::error_1(&format!("worker panicked: {info}").into());
        post(&Event::Crashed { message: info.to_string() });
    }));
    let state = Rc::new(RefCell::new(WorkerState::default()));
    let tables: tables::Shared = Rc::default();
    let handler_state = state.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some((purpose, file)) = file_message(&event.data()) {
            return tables::load_file(&tables, purpose, file);
        }
        match serde_wasm_bindgen::from_value::<Command>(event.data()) {
            Ok(Command::Table(command)) => tables::handle(&tables, command),
            Ok(command) => handle(&handler_state, command),
            Err(err) => post(&Event::failed(format!("The worker received a message it does not understand: {err}"))),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // lives as long as the worker
    backend::start();
    spawn_local(load_digits(state));
}

/// `{ file: File, purpose: "events" | "background" }` from the page (see [`FILE_MESSAGE_KEY`]).
fn file_message(data: &JsValue) -> Option<(FilePurpose, web_sys::File)> {
    let file = js_sys::Reflect::get(data, &FILE_MESSAGE_KEY.into()).ok()?.dyn_into::<web_sys::File>().ok()?;
    let purpose = js_sys::Reflect::get(data, &"purpose".into()).ok()?.as_string();
    let purpose = [FilePurpose::Background, FilePurpose::Model]
        .into_iter()
        .find(|p| purpose.as_deref() == Some(p.as_str()))
        .unwrap_or(FilePurpose::Events);
    Some((purpose, file))
}

async fn load_digits(state: Rc<RefCell<WorkerState>>) {
    match fetch_digits().await {
        Ok(digits) => {
            post(&Event::DataReady { digits: digits.len() });
            post(&Event::FamilyThumbnails(session::thumbnails(&digits)));
            state.borrow_mut().digits = Some(Rc::new(digits));
        }
        Err(reason) => post(&Event::DataFailed {
            message: format!(
                "The handwritten digits could not be loaded: {reason}. Reload the page to try again; if this keeps \
                 happening, the site was published without its data file."
            ),
        }),
    }
}

async fn fetch_digits() -> Result<DigitSet, String> {
    let describe = |err: JsValue| err.as_string().or_else(|| js_sys::JSON::stringify(&err).ok().map(String::from)).unwrap_or_default();
    let response: web_sys::Response = JsFuture::from(scope().fetch_with_str(DIGITS_URL))
        .await
        .map_err(|e| format!("the network request failed ({})", describe(e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("the server answered {} for {DIGITS_URL}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(describe)?).await.map_err(describe)?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    DigitSet::decode(&bytes).map_err(|e| e.to_string())
}

fn handle(state: &Rc<RefCell<WorkerState>>, command: Command) {
    let mut st = state.borrow_mut();
    match command {
        Command::Train { settings } => {
            if st.start_or_resume(&settings, None) {
                let generation = st.generation;
                drop(st);
                spawn_local(run(state.clone(), generation));
            }
        }
        Command::Step { settings, unit } => {
            if st.start_or_resume(&settings, Some(unit)) {
                let generation = st.generation;
                drop(st);
                spawn_local(run(state.clone(), generation));
            }
        }
        Command::Pause => {
            st.generation += 1; // any running loop stops at its next check
            post(&Event::digits(RunEvent::Paused));
            if let Some(session) = st.session.as_mut().filter(|s| s.running) {
                session.running = false;
                session.post_evaluation(); // show the model as it is at the pause
                drop(st);
                let state = state.clone();
                spawn_local(async move { session::evaluate_pending(&state).await });
            }
        }
        Command::FineTune { settings, control } => {
            let digits = st.digits.clone();
            let started = match (st.session.as_mut(), digits) {
                (Some(session), Some(digits)) => session.start_fine_tuning(&digits, &settings, control),
                _ => {
                    post(&Event::failed("Train a model first (stage 1); then fine-tune it."));
                    false
                }
            };
            if started {
                st.generation += 1;
                let generation = st.generation;
                drop(st);
                spawn_local(run(state.clone(), generation));
            }
        }
        Command::Reset => {
            st.session = None;
            st.generation += 1;
            post(&Event::ResetDone);
        }
        Command::Table(_) => {} // routed to the table worker before this match
        Command::UseBackend(choice) => backend::choose(choice),
        Command::BenchmarkDigitScoring { backend } => {
            let digits = st.digits.clone();
            drop(st);
            match digits {
                Some(digits) => spawn_local(async move { post(&backend::benchmark_digits(&digits, backend).await) }),
                None => post(&Event::failed("The digits are still loading; try again in a moment.")),
            }
        }
        Command::Benchmark { steps } => {
            let digits = st.digits.clone();
            drop(st);
            match digits {
                Some(digits) => post(&Session::benchmark(&digits, steps)),
                None => post(&Event::failed("The digits are still loading; try again in a moment.")),
            }
        }
    }
}

/// Trains chunk after chunk until paused, finished, diverged, or superseded by a newer run.
async fn run(state: Rc<RefCell<WorkerState>>, generation: u64) {
    loop {
        {
            let mut st = state.borrow_mut();
            if st.generation != generation {
                return;
            }
            let Some(session) = st.session.as_mut() else { return };
            if !session.running {
                return;
            }
            session.train_for(CHUNK_MILLISECONDS);
        }
        // Scoring the test digits (maybe on the GPU) is awaited here, between chunks of training.
        session::evaluate_pending(&state).await;
        {
            let st = state.borrow();
            if st.generation != generation || !st.session.as_ref().is_some_and(|s| s.running) {
                return;
            }
        }
        yield_to_event_loop().await;
    }
}

/// Lets queued messages (such as Pause) run before the next chunk.
pub(crate) async fn yield_to_event_loop() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = JsFuture::from(promise).await;
}
