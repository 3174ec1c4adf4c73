//! Offline use: registers the service worker (`www/sw.js`), says when the page is kept for offline use,
//! and offers a reload when a new build has installed beside the running one, instead of mixing versions.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use super::state::{Phase, Playground};
use web_sys::{ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

/// What the page knows about its offline copy.
#[derive(Clone, Copy)]
pub struct Offline {
    /// A service worker of this build controls the page: a second visit works without a network.
    pub kept: RwSignal<bool>,
    /// A newer build is installed and waits for the visitor to reload.
    /// (A browser handle, so the signal lives on this thread only.)
    pub update_waiting: RwSignal<Option<ServiceWorker>, LocalStorage>,
}

impl Offline {
    /// Registers the service worker once the page works (the worker has loaded the digits), so that its
    /// copying never competes with the first load on a slow network; its requests are conditional, so a
    /// host that answers "not modified" sends nothing twice.
    pub fn start(state: Playground) -> Self {
        let offline = Offline { kept: RwSignal::new(false), update_waiting: RwSignal::new_local(None) };
        let registered = StoredValue::new(false);
        Effect::new(move || {
            let working = !matches!(state.phase.get(), Phase::LoadingData | Phase::DataFailed(_) | Phase::WorkerDied(_));
            if working && !registered.get_value() {
                registered.set_value(true);
                if let Some(container) = container() {
                    wasm_bindgen_futures::spawn_local(register(container, offline));
                }
            }
        });
        offline
    }
}

/// The browser's service workers, if it offers them here (only secure pages, such as https or localhost).
fn container() -> Option<ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    let has = js_sys::Reflect::get(&navigator, &JsValue::from_str("serviceWorker")).ok()?;
    (!has.is_undefined()).then(|| navigator.service_worker())
}

async fn register(container: ServiceWorkerContainer, offline: Offline) {
    // Without a service worker the page works as before, online only; nothing to tell the visitor.
    let Ok(registration) = JsFuture::from(container.register("./sw.js")).await else { return };
    // A browser told to block service workers resolves with nothing.
    let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() else { return };
    // A newer build already waiting (installed on an earlier load that was not reloaded).
    if container.controller().is_some() {
        if let Some(waiting) = registration.waiting() {
            offline.update_waiting.set(Some(waiting));
        }
    }
    let on_update_found = Closure::<dyn FnMut()>::new({
        let registration = registration.clone();
        let container = container.clone();
        move || watch_installing(&registration, &container, offline)
    });
    registration.set_onupdatefound(Some(on_update_found.as_ref().unchecked_ref()));
    on_update_found.forget(); // lives as long as the page
    let on_controller_change = Closure::<dyn FnMut()>::new(move || {
        // The visitor asked for the new build: load it, whole.
        if offline.update_waiting.get_untracked().is_some() {
            if let Some(window) = web_sys::window() {
                let _ = window.location().reload();
            }
        }
    });
    container.set_oncontrollerchange(Some(on_controller_change.as_ref().unchecked_ref()));
    on_controller_change.forget();
    if JsFuture::from(container.ready().unwrap_or_else(|_| js_sys::Promise::resolve(&JsValue::NULL))).await.is_ok() {
        offline.kept.set(true);
    }
}

/// A build being installed: once installed, it is an update if an older build runs this page.
fn watch_installing(registration: &ServiceWorkerRegistration, container: &ServiceWorkerContainer, offline: Offline) {
    let Some(installing) = registration.installing() else { return };
    let worker = installing.clone();
    let container = container.clone();
    let on_state_change = Closure::<dyn FnMut()>::new(move || {
        if worker.state() == ServiceWorkerState::Installed && container.controller().is_some() {
            offline.update_waiting.set(Some(worker.clone()));
        }
    });
    installing.set_onstatechange(Some(on_state_change.as_ref().unchecked_ref()));
    on_state_change.forget();
}

/// "A new version is ready": the one place a visitor learns of a new build, with the button that loads it.
#[component]
pub fn UpdateNotice() -> impl IntoView {
    let offline = expect_context::<Offline>();
    view! {
        <div class="update-notice" id="update-notice" role="status" hidden=move || offline.update_waiting.with(Option::is_none)>
            "A new version of the playground is ready. This page keeps working as it is until you reload; a run in progress would be lost. "
            <button type="button" id="update-reload" on:click=move |_| {
                if let Some(waiting) = offline.update_waiting.get_untracked() {
                    let _ = waiting.post_message(&JsValue::from_str("skip-waiting"));
                }
            }>"Reload with the new version"</button>
        </div>
    }
}

/// The footer's sentence about offline use, once it is true.
#[component]
pub fn OfflineNote() -> impl IntoView {
    let offline = expect_context::<Offline>();
    view! {
        <p id="offline-note" hidden=move || !offline.kept.get()>
            "This page is now kept in your browser: it opens and works without a network, and can be installed as an app from the browser's menu."
        </p>
    }
}
