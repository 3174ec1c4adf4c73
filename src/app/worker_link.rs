//! The page's end of the worker: start it, send it commands, hand its events to the state, and notice
//! when it dies.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

use super::state::{Phase, Playground};
use crate::protocol::{BackendChoice, Command, Event, FilePurpose, DOWNLOAD_MESSAGE_KEY, FILE_MESSAGE_KEY};
use anomaly_state::link::MAX_THREADS;

/// Trunk's loader for the single-threaded worker; a classic worker, because the loader uses `importScripts`.
const WORKER_SCRIPT: &str = "./worker_loader.js";
/// The threaded build's loader (`www/threads/start.js`), a module worker; `?pool=N`: N threads compute.
const THREADED_WORKER_SCRIPT: &str = "./threads/start.js";

/// Which build of the worker runs (README, "Every core").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerBuild {
    /// The threaded build, with a pool of this many threads.
    Threaded { pool: usize },
    Single(SingleReason),
}

/// Why the single-threaded build runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SingleReason {
    /// The page is not cross-origin isolated, but the playground's service worker now answers it, and
    /// its answers carry the isolation headers: the next load can share memory.
    ReloadWouldIsolate,
    /// An embedded page is isolated only when the page around it is, and allows it.
    Embedded,
    /// The host sends no isolation headers, and no service worker adds them (yet).
    NotIsolated,
    /// The browser reports a single core.
    OneCore,
    /// The threaded build failed to start; the reason as the browser gave it.
    ThreadedFailed(String),
}

/// The build this page can run: threads need shared memory, which browsers give only to cross-origin
/// isolated pages.
fn possible_build() -> WorkerBuild {
    let Some(window) = web_sys::window() else { return WorkerBuild::Single(SingleReason::NotIsolated) };
    let isolated = js_sys::Reflect::get(&window, &"crossOriginIsolated".into()).ok().and_then(|v| v.as_bool()) == Some(true);
    let cores = window.navigator().hardware_concurrency() as usize;
    if isolated {
        return match cores {
            0 | 1 => WorkerBuild::Single(SingleReason::OneCore),
            cores => WorkerBuild::Threaded { pool: cores.min(MAX_THREADS) },
        };
    }
    // Whether a reload would be isolated depends on the service worker, which the page learns later
    // (`compute.rs` turns NotIsolated into ReloadWouldIsolate once the offline copy answers the page).
    let framed = window.top().ok().flatten().is_some_and(|top| !js_sys::Object::is(&top, &window));
    WorkerBuild::Single(if framed { SingleReason::Embedded } else { SingleReason::NotIsolated })
}

fn new_worker(build: &WorkerBuild) -> Result<Worker, JsValue> {
    match build {
        WorkerBuild::Threaded { pool } => {
            let options = WorkerOptions::new();
            options.set_type(WorkerType::Module);
            Worker::new_with_options(&format!("{THREADED_WORKER_SCRIPT}?pool={pool}"), &options)
        }
        WorkerBuild::Single(_) => Worker::new(WORKER_SCRIPT),
    }
}

struct Link {
    worker: Worker,
    /// Messages sent before the worker said it listens: posted then, because the worker drops a
    /// message that arrives before its handler is set.
    waiting: Option<Vec<JsValue>>,
    // Kept so the handlers live exactly as long as this worker.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

thread_local! {
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
}

/// Starts a worker (ending any previous one), the threaded build when the page can run it, and routes its
/// events into `state`.
pub fn start_worker(state: Playground) {
    start_build(state, possible_build());
}

fn start_build(state: Playground, build: WorkerBuild) {
    stop_worker();
    state.phase.set(Phase::LoadingData);
    state.worker_listening.set(false);
    state.build.set(build.clone());
    let worker = match new_worker(&build) {
        Ok(worker) => worker,
        Err(err) => {
            let detail = err.as_string().unwrap_or_else(|| "no detail".into());
            state.phase.set(Phase::WorkerDied(format!("the browser refused to start it ({detail})")));
            return;
        }
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
        if let Some((blob, name)) = download_message(&message.data()) {
            state.table.downloading.set(None);
            return save_blob(state, &blob, &name);
        }
        match serde_wasm_bindgen::from_value::<Event>(message.data()) {
            Ok(Event::Listening) => {
                post_waiting(state);
                state.apply(Event::Listening);
            }
            Ok(event) => state.apply(event),
            Err(err) => state.notice.set(Some(format!("The page could not read a message from the worker: {err}."))),
        }
    });
    // A module worker that fails to load fires a plain `Event`, not an `ErrorEvent`: read it as either.
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |error: web_sys::Event| {
        error.prevent_default();
        let message = error.dyn_ref::<ErrorEvent>().map(ErrorEvent::message).filter(|m| !m.is_empty());
        let threaded = matches!(state.build.get_untracked(), WorkerBuild::Threaded { .. });
        if threaded && !state.worker_listening.get_untracked() {
            // The threaded build never started: the single-threaded one always can.
            let reason = message.unwrap_or_else(|| "its files did not load".into());
            return start_build(state, WorkerBuild::Single(SingleReason::ThreadedFailed(reason)));
        }
        state.phase.set(Phase::WorkerDied(message.unwrap_or_else(|| "no detail".into())));
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    LINK.with(|link| *link.borrow_mut() = Some(Link { worker, waiting: Some(Vec::new()), _on_message: on_message, _on_error: on_error }));
    // A new worker after a crash starts on automatic: tell it what the visitor chose before.
    if let Some(choice) = state.backend.with_untracked(|b| b.as_ref().map(|b| b.choice)).filter(|&c| c != BackendChoice::Automatic) {
        send(state, &Command::UseBackend(choice));
    }
    if let Some(threads) = state.threads.get_untracked() {
        send(state, &Command::UseThreads(threads));
    }
}

/// Tells the worker each new thread choice (the page's choice or a link's).
pub fn follow_thread_choice(state: Playground) {
    Effect::watch(
        move || state.threads.get(),
        move |threads, _, _| send(state, &Command::UseThreads(threads.unwrap_or(0))),
        false,
    );
}

fn stop_worker() {
    LINK.with(|link| {
        if let Some(old) = link.borrow_mut().take() {
            old.worker.terminate();
        }
    });
}

/// Sends a command; if there is no worker, says so instead of failing silently.
pub fn send(state: Playground, command: &Command) {
    match serde_wasm_bindgen::to_value(command) {
        Ok(value) => post(state, value),
        Err(err) => state.phase.set(Phase::WorkerDied(err.to_string())),
    }
}

/// Posts a message now, or keeps it until the worker listens.
fn post(state: Playground, message: JsValue) {
    let sent = LINK.with(|link| {
        let mut link = link.borrow_mut();
        let Some(link) = link.as_mut() else { return Err("there is no worker".to_string()) };
        match link.waiting.as_mut() {
            Some(waiting) => Ok(waiting.push(message)),
            None => link.worker.post_message(&message).map_err(|e| e.as_string().unwrap_or_else(|| "the browser refused".into())),
        }
    });
    if let Err(reason) = sent {
        state.phase.set(Phase::WorkerDied(reason));
    }
}

/// The worker listens: posts, in order, what was sent before.
fn post_waiting(state: Playground) {
    let waiting = LINK.with(|link| link.borrow_mut().as_mut().and_then(|link| link.waiting.take())).unwrap_or_default();
    for message in waiting {
        post(state, message);
    }
}

/// Hands a visitor's file to the worker: the browser passes a reference, so nothing is copied here and
/// nothing leaves the machine.
pub fn send_file(state: Playground, purpose: FilePurpose, file: &web_sys::File) {
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &FILE_MESSAGE_KEY.into(), file);
    let _ = js_sys::Reflect::set(&message, &"purpose".into(), &purpose.as_str().into());
    post(state, message.into());
}

fn download_message(data: &JsValue) -> Option<(web_sys::Blob, String)> {
    let blob = js_sys::Reflect::get(data, &DOWNLOAD_MESSAGE_KEY.into()).ok()?.dyn_into::<web_sys::Blob>().ok()?;
    let name = js_sys::Reflect::get(data, &"name".into()).ok()?.as_string()?;
    Some((blob, name))
}

/// Saves a blob through a temporary link with a `download` name: a local object URL, no network.
fn save_blob(state: Playground, blob: &web_sys::Blob, name: &str) {
    let saved = (|| -> Result<(), JsValue> {
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let url = web_sys::Url::create_object_url_with_blob(blob)?;
        let link: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
        link.set_href(&url);
        link.set_download(name);
        link.click();
        // Give the browser time to start reading the blob before the URL is released.
        let release = Closure::once_into_js(move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(release.unchecked_ref(), 60_000);
        }
        Ok(())
    })();
    if saved.is_err() {
        state.table.notice.set(Some("The browser did not start the download; try the button again.".into()));
    }
}
