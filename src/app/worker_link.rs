//! The page's end of the worker: start it, send it commands, hand its events to the state, and notice
//! when it dies.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use super::state::{Phase, Playground};
use crate::protocol::{BackendChoice, Command, Event, FilePurpose, DOWNLOAD_MESSAGE_KEY, FILE_MESSAGE_KEY};

/// Trunk's loader for the worker binary; a classic worker, because the loader uses `importScripts`.
const WORKER_SCRIPT: &str = "./worker_loader.js";

struct Link {
    worker: Worker,
    /// Messages sent before the worker said it listens: posted then, because the worker drops a
    /// message that arrives before its handler is set.
    waiting: Option<Vec<JsValue>>,
    // Kept so the handlers live exactly as long as this worker.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

thread_local! {
    static LINK: RefCell<Option<Link>> = const { RefCell::new(None) };
}

/// Starts a worker (ending any previous one) and routes its events into `state`.
pub fn start_worker(state: Playground) {
    stop_worker();
    state.phase.set(Phase::LoadingData);
    state.worker_listening.set(false);
    let worker = match Worker::new(WORKER_SCRIPT) {
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
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |error: ErrorEvent| {
        error.prevent_default();
        state.phase.set(Phase::WorkerDied(error.message()));
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    LINK.with(|link| *link.borrow_mut() = Some(Link { worker, waiting: Some(Vec::new()), _on_message: on_message, _on_error: on_error }));
    // A new worker after a crash starts on automatic: tell it what the visitor chose before.
    if let Some(choice) = state.backend.with_untracked(|b| b.as_ref().map(|b| b.choice)).filter(|&c| c != BackendChoice::Automatic) {
        send(state, &Command::UseBackend(choice));
    }
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
