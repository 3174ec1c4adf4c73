//! The training worker: it loads the digits, owns the experiment, and trains in short chunks.
//!
//! A worker runs one task at a time, so a Pause message can only be read between tasks. Training therefore
//! runs in chunks of about [`CHUNK_MILLISECONDS`], yielding to the event loop after each, which keeps
//! every command answered within a fraction of a second. The page never computes anything itself.

mod backend;
mod compare;
mod hunt;
mod events;
mod jets;
mod meter;
mod run_loop;
mod sequence;
mod session;
mod source;
mod table_awareness;
mod tables;
mod threads;

#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub use threads::{init_thread_pool, start_threaded};
#[cfg(test)]
mod test_host;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{Command, Event, FilePurpose, RunEvent, FILE_MESSAGE_KEY};
use anomaly_engine::data::DigitSet;
use anomaly_engine::digit_session::DigitSession;
use session::{Session, WorkerState};

/// Where the page's build puts the digit file, relative to the worker script: the single-threaded build
/// sits beside the page, the threaded one in `threads/`.
const DIGITS_URL: &str = if cfg!(feature = "threads") { "../data/digits.bin" } else { "./data/digits.bin" };
/// Fashion-MNIST, converted at setup like the digits (`make data`).
const FASHION_URL: &str = if cfg!(feature = "threads") { "../data/fashion.bin" } else { "./data/fashion.bin" };
pub(crate) const CHUNK_MILLISECONDS: f64 = 40.0;

pub(crate) fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Work the worker carries on between messages: a training loop, a file being read, a scoring pass.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()>>>;

/// The worker's surroundings: its clock, where its events go, and what runs its tasks. In the browser
/// (the default) these are `performance.now()`, `postMessage` and the event loop; native tests install a
/// fake clock, a recorder and a task queue they turn by hand with [`set_host`], so the worker's state
/// machines run under `cargo test`.
pub(crate) trait Host {
    fn now_ms(&self) -> f64;
    fn post(&self, event: &Event);
    fn spawn(&self, task: Task);
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

/// Runs `task` alongside the worker's message handling.
pub(crate) fn spawn(task: impl Future<Output = ()> + 'static) {
    match host() {
        Some(host) => host.spawn(Box::pin(task)),
        None => spawn_local(task),
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
    let hunts: hunt::Shared = Rc::default();
    let studies: jets::Shared = Rc::default();
    let object_studies: events::Shared = Rc::default();
    let handler_state = state.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some((purpose, file)) = file_message(&event.data()) {
            if purpose == FilePurpose::Session {
                return open_session_file(&handler_state, file);
            }
            if purpose == FilePurpose::ObjectEvents {
                return events::open_file(&object_studies, file);
            }
            return tables::load_file(&tables, purpose, file);
        }
        match serde_wasm_bindgen::from_value::<Command>(event.data()) {
            Ok(Command::Table(command)) => tables::handle(&tables, command),
            Ok(Command::Hunt(command)) => hunt::handle(&hunts, command),
            Ok(Command::Jets(command)) => jets::handle(&studies, command),
            Ok(Command::Events(command)) => events::handle(&object_studies, command),
            Ok(command) => handle(&handler_state, command),
            Err(err) => post(&Event::failed(format!("The worker received a message it does not understand: {err}"))),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // lives as long as the worker
    // From here on the worker hears commands: a message posted before this point had no listener.
    post(&Event::Listening);
    backend::start();
    spawn_local(load_digits(state));
}

/// `{ file: File, purpose: "events" | "background" }` from the page (see [`FILE_MESSAGE_KEY`]).
fn file_message(data: &JsValue) -> Option<(FilePurpose, web_sys::File)> {
    let file = js_sys::Reflect::get(data, &FILE_MESSAGE_KEY.into()).ok()?.dyn_into::<web_sys::File>().ok()?;
    let purpose = js_sys::Reflect::get(data, &"purpose".into()).ok()?.as_string();
    let purpose = [FilePurpose::Background, FilePurpose::Model, FilePurpose::Session, FilePurpose::ObjectEvents]
        .into_iter()
        .find(|p| purpose.as_deref() == Some(p.as_str()))
        .unwrap_or(FilePurpose::Events);
    Some((purpose, file))
}

/// `digits-normal-01`: what the files of a digits run are called.
fn file_stem(normal_digits: &[u8]) -> String {
    format!("digits-normal-{}", normal_digits.iter().map(u8::to_string).collect::<String>())
}

/// A session file is a few MB; a larger one is refused before it is read.
const MAX_SESSION_BYTES: f64 = 64.0 * 1024.0 * 1024.0;

/// Reads a saved digits session and puts it on the page without training. A file that cannot be used
/// gets one sentence, and the page keeps what it had.
fn open_session_file(state: &Rc<RefCell<WorkerState>>, file: web_sys::File) {
    let name = file.name();
    let refuse = |reason: String| post(&Event::failed(format!("\"{name}\" could not be opened, so nothing was changed: {reason}.")));
    if file.size() > MAX_SESSION_BYTES {
        return refuse(format!("it is {:.0} MB, far larger than any session this page saves; choose the .safetensors file \"Save this session\" gave you", file.size() / 1048576.0));
    }
    let source = source::Source::File(file);
    let bytes = match source.read(0, source.len()) {
        Ok(bytes) => bytes,
        Err(reason) => return refuse(reason),
    };
    let saved = match DigitSession::from_bytes(&bytes) {
        Ok(saved) => saved,
        Err(err) => return refuse(err.to_string()),
    };
    // Fashion-MNIST first, when the saved fine-tuning showed its pictures.
    let needs_fashion = saved.awareness.as_ref().is_some_and(|a| a.settings.shown.iter().any(|f| f.needs_fashion()));
    let state = state.clone();
    spawn(async move {
        if needs_fashion && state.borrow().fashion.is_none() {
            load_fashion(state.clone()).await;
        }
        if state.borrow_mut().open_session(name, saved) {
            session::evaluate_pending(&state).await;
        }
    });
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

/// Fashion-MNIST is optional: without it the fashion families are left out and everything else works.
async fn load_fashion(state: Rc<RefCell<WorkerState>>) {
    let loaded = state.borrow().fashion.clone();
    if let Some(fashion) = loaded {
        return post(&Event::FashionReady { images: fashion.len(), thumbnail: session::fashion_thumbnail(&fashion) });
    }
    match fetch_image_set(FASHION_URL).await {
        Ok(fashion) => {
            post(&Event::FashionReady { images: fashion.len(), thumbnail: session::fashion_thumbnail(&fashion) });
            state.borrow_mut().fashion = Some(Rc::new(fashion));
        }
        Err(reason) => post(&Event::FashionMissing {
            message: format!(
                "Fashion-MNIST could not be loaded ({reason}), so its pictures are left out of Anomaly Awareness; everything else works. \
                 Whoever runs the site can add it with `make data` (it needs Debian's dataset-fashion-mnist package)."
            ),
        }),
    }
}

async fn fetch_digits() -> Result<DigitSet, String> {
    fetch_image_set(DIGITS_URL).await
}

/// A file in the digit set's format, fetched and checked.
async fn fetch_image_set(url: &str) -> Result<DigitSet, String> {
    let describe = |err: JsValue| err.as_string().or_else(|| js_sys::JSON::stringify(&err).ok().map(String::from)).unwrap_or_default();
    let response: web_sys::Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|e| format!("the network request failed ({})", describe(e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("the server answered {} for {url}", response.status()));
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
                spawn(run(state.clone(), generation));
            }
        }
        Command::Step { settings, unit } => {
            if st.start_or_resume(&settings, Some(unit)) {
                let generation = st.generation;
                drop(st);
                spawn(run(state.clone(), generation));
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
                spawn(async move { session::evaluate_pending(&state).await });
            }
        }
        Command::FineTune { settings, control } => {
            let (digits, fashion) = (st.digits.clone(), st.fashion.clone());
            let started = match (st.session.as_mut(), digits) {
                (Some(session), Some(digits)) => session.start_fine_tuning(&digits, fashion.as_deref(), &settings, control),
                _ => {
                    post(&Event::failed("Train a model first (stage 1); then fine-tune it."));
                    false
                }
            };
            if started {
                st.generation += 1;
                let generation = st.generation;
                drop(st);
                spawn(run(state.clone(), generation));
            }
        }
        Command::Reset => {
            st.session = None;
            st.generation += 1;
            post(&Event::ResetDone);
        }
        Command::SaveSession => match st.session.as_mut().map(Session::saved) {
            Some(Ok(saved)) => {
                let name = format!("{}-session.safetensors", file_stem(&saved.settings.normal_digits));
                tables::hand_over_as(&[saved.to_bytes().as_slice()], &name, "application/octet-stream");
            }
            Some(Err(message)) => post(&Event::failed(message)),
            None => post(&Event::failed("Train a model first; then the session can be saved.")),
        },
        Command::DownloadDigitsOnnx => match st.session.as_ref().map(|s| (s.onnx(), file_stem(&s.settings().normal_digits))) {
            Some((Ok(onnx), stem)) => tables::hand_over_as(&[onnx.as_slice()], &format!("{stem}-model.onnx"), "application/octet-stream"),
            Some((Err(message), _)) => post(&Event::failed(message)),
            None => post(&Event::failed("Train a model first; then the network can be downloaded.")),
        },
        Command::LoadFashion => {
            drop(st);
            spawn(load_fashion(state.clone()));
        }
        Command::Table(_) | Command::Hunt(_) | Command::Jets(_) | Command::Events(_) => {} // routed to their workers before this match
        Command::UseBackend(choice) => backend::choose(choice),
        Command::UseThreads(choice) => threads::choose(choice),
        Command::BenchmarkDigitScoring { backend } => {
            let digits = st.digits.clone();
            drop(st);
            match digits {
                Some(digits) => spawn(async move { post(&backend::benchmark_digits(&digits, backend).await) }),
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
    if host().is_some() {
        return YieldOnce(false).await;
    }
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = JsFuture::from(promise).await;
}

/// Pending once, then ready: under a test host, this hands the turn to the other tasks and to the
/// test's next command, as `setTimeout(0)` does in the browser.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Backend, BackendChoice};
    use session::tests::{digits, settings, told};
    use test_host::TestHost;

    /// A worker with the digits loaded, scoring on the CPU, whose clock moves 1 ms per reading (so a
    /// chunk of training, 40 ms, is a few dozen steps).
    fn worker() -> (Rc<TestHost>, Rc<RefCell<WorkerState>>) {
        let host = TestHost::install(1.0);
        backend::choose(BackendChoice::Cpu);
        host.take_events();
        (host, Rc::new(RefCell::new(WorkerState { digits: Some(digits()), ..Default::default() })))
    }

    fn steps_done(state: &Rc<RefCell<WorkerState>>) -> usize {
        session::tests::steps_done(&state.borrow())
    }

    #[test]
    fn pause_stops_the_run_between_chunks_shows_the_model_as_it_is_and_train_carries_on() {
        let (host, state) = worker();
        handle(&state, Command::Train { settings: settings(3) });
        host.turn();
        handle(&state, Command::Pause);
        host.run_until_idle();
        let paused = told(&host);
        assert_eq!(paused.first().map(String::as_str), Some("RunStarted"));
        // Paused at once, then the evaluation of the weights as they are; no step after the pause.
        assert_eq!(paused[paused.len() - 2..], ["Paused", "Evaluated"], "{paused:?}");
        assert!(!paused.iter().any(|e| e == "Finished"));
        let at_pause = steps_done(&state);
        assert!(at_pause > 0);
        host.run_until_idle();
        assert_eq!(steps_done(&state), at_pause);

        handle(&state, Command::Train { settings: settings(3) });
        host.run_until_idle();
        let resumed = told(&host);
        assert!(!resumed.iter().any(|e| e == "RunStarted"), "the same settings resume: {resumed:?}");
        assert_eq!(resumed[resumed.len() - 3..], ["EpochEnded 3", "Evaluated", "Finished"], "{resumed:?}");
    }

    #[test]
    fn reset_during_a_run_stops_it_and_nothing_of_it_comes_after() {
        let (host, state) = worker();
        handle(&state, Command::Train { settings: settings(3) });
        host.turn();
        handle(&state, Command::Reset);
        host.run_until_idle();
        let told = told(&host);
        let reset = told.iter().position(|e| e.starts_with("ResetDone")).expect("ResetDone");
        assert_eq!(reset, told.len() - 1, "events after the reset: {told:?}");
        assert!(state.borrow().session.is_none());
        handle(&state, Command::FineTune { settings: Default::default(), control: false });
        assert_eq!(
            host.take_events(),
            [Event::failed("Train a model first (stage 1); then fine-tune it.")]
        );
    }

    #[test]
    fn choosing_a_backend_midway_is_answered_at_once_and_the_run_goes_on_to_the_end() {
        let (host, state) = worker();
        handle(&state, Command::Train { settings: settings(2) });
        host.turn();
        handle(&state, Command::UseBackend(BackendChoice::Cpu));
        host.run_until_idle();
        let events = host.take_events();
        let status = events.iter().position(|e| matches!(e, Event::Backend(status) if status.active == Some(Backend::Cpu)));
        let finished = events.iter().position(|e| *e == Event::Finished);
        assert!(status.is_some() && finished.is_some() && status < finished, "{events:?}");
        assert!(events.iter().all(|e| !matches!(e, Event::Evaluated { backend, .. } if *backend != Backend::Cpu)));
    }

    #[test]
    fn a_refused_start_leaves_no_task_running() {
        let (host, state) = worker();
        let mut bad = settings(2);
        bad.model.vae.latent_dims = 0;
        handle(&state, Command::Train { settings: bad });
        assert!(!host.turn(), "a task was started for settings that were refused");
        let told = host.take_events();
        assert!(matches!(told.as_slice(), [Event::Run { event: RunEvent::Failed { .. }, .. }]), "{told:?}");
    }
}
