//! Where scoring runs: WebGPU when the browser offers it, otherwise the CPU, with the visitor free to
//! choose. Both give the same scores (to float rounding); the page says which one was used and, when
//! WebGPU is missing or failed, why, in one sentence.

use leptos::prelude::*;

use super::state::{Playground, SingleReason, WorkerBuild};
use super::worker_link::send;
use crate::protocol::{Backend, BackendChoice, Command, ThreadStatus};

pub fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::WebGpu => "WebGPU",
        Backend::Cpu => "the CPU",
    }
}

#[component]
pub fn ComputeBar() -> impl IntoView {
    let state = expect_context::<Playground>();
    let choice = move || state.backend.with(|b| b.as_ref().map(|b| b.choice).unwrap_or_default());
    let sentence = move || {
        let Some(status) = state.backend.get() else { return "Finding out whether this browser offers WebGPU…".to_string() };
        match (status.active, status.adapter) {
            (None, _) => "Setting up WebGPU…".into(),
            (Some(Backend::WebGpu), Some(adapter)) => format!("Scoring runs on WebGPU ({adapter})."),
            (Some(Backend::WebGpu), None) => "Scoring runs on WebGPU.".into(),
            (Some(Backend::Cpu), _) if status.choice == BackendChoice::Cpu => "Scoring runs on the CPU, as chosen.".into(),
            (Some(Backend::Cpu), _) => "Scoring runs on the CPU.".into(),
        }
    };
    let note = move || state.backend.with(|b| b.as_ref().and_then(|b| b.note.clone()));
    let on_change = move |ev: leptos::ev::Event| {
        let choice = match event_target_value(&ev).as_str() {
            "webgpu" => BackendChoice::WebGpu,
            "cpu" => BackendChoice::Cpu,
            _ => BackendChoice::Automatic,
        };
        send(state, &Command::UseBackend(choice));
    };
    view! {
        <div class="compute-bar">
            <label for="backend-choice">"Score on"</label>
            <select id="backend-choice" on:change=on_change
                prop:value=move || match choice() {
                    BackendChoice::Automatic => "auto",
                    BackendChoice::WebGpu => "webgpu",
                    BackendChoice::Cpu => "cpu",
                }>
                <option value="auto">"WebGPU if available, else CPU"</option>
                <option value="webgpu">"WebGPU"</option>
                <option value="cpu">"CPU"</option>
            </select>
            <p id="backend-status" role="status" aria-live="polite">{sentence}</p>
            {move || note().map(|note| view! { <p id="backend-note" class="notice">{note}</p> })}
            <ThreadChoice/>
        </div>
    }
}

/// The threads training and scoring use: the choice (in the threaded build) and one sentence on which
/// build runs and why.
#[component]
fn ThreadChoice() -> impl IntoView {
    let state = expect_context::<Playground>();
    let pool = move || match state.build.get() {
        WorkerBuild::Threaded { pool } => pool,
        WorkerBuild::Single(_) => 1,
    };
    // Fewer threads than the pool has, in powers of two ("All" is the pool).
    let counts = move || std::iter::successors(Some(1usize), |n| Some(n * 2)).take_while(|&n| n < pool()).collect::<Vec<_>>();
    let on_change = move |ev: leptos::ev::Event| {
        state.threads.set(event_target_value(&ev).parse::<usize>().ok().filter(|&n| n >= 1));
    };
    let used = move || state.backend.with(|b| b.as_ref().map(|b| b.threads));
    // Once the service worker answers this page, the next load is isolated (www/sw.js).
    let offline = use_context::<super::offline::Offline>();
    let build = move || match state.build.get() {
        WorkerBuild::Single(SingleReason::NotIsolated) if offline.is_some_and(|o| o.kept.get()) => WorkerBuild::Single(SingleReason::ReloadWouldIsolate),
        build => build,
    };
    let reload = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    };
    view! {
        <div class="threads-row">
        <label for="threads-choice">"Threads"</label>
        <select id="threads-choice" on:change=on_change disabled=move || pool() < 2
            prop:value=move || state.threads.get().map(|n| n.to_string()).unwrap_or_else(|| "auto".into())>
            <option value="auto">{move || format!("All ({})", pool())}</option>
            {move || counts().into_iter().map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
        </select>
        <p id="threads-status" role="status" aria-live="polite">{move || threads_sentence(&build(), used())}</p>
        {move || (build() == WorkerBuild::Single(SingleReason::ReloadWouldIsolate)).then(|| view! {
            <button type="button" id="reload-for-threads" on:click=reload>"Reload to use every core"</button>
        })}
        </div>
    }
}

fn threads_sentence(build: &WorkerBuild, status: Option<ThreadStatus>) -> String {
    match build {
        WorkerBuild::Threaded { pool } => match status.filter(|s| s.pool > 0) {
            Some(ThreadStatus { used, .. }) if used < *pool => format!("Training and scoring use {used} of {pool} threads, as chosen (the threaded build)."),
            Some(_) => format!("Training and scoring use all {pool} threads of this device (the threaded build: this page is cross-origin isolated)."),
            None => format!("Starting the threaded build on {pool} threads…"),
        },
        WorkerBuild::Single(reason) => {
            let why = match reason {
                SingleReason::ReloadWouldIsolate => "this visit is not cross-origin isolated; reload the page to use every core (the playground's service worker makes the next visit isolated).".to_string(),
                SingleReason::Embedded => "an embedded page can share memory between threads only when the page around it is cross-origin isolated and allows it.".to_string(),
                SingleReason::NotIsolated => "this host does not make the page cross-origin isolated, which threads need (README, \"Every core\").".to_string(),
                SingleReason::OneCore => "the browser reports one core.".to_string(),
                SingleReason::ThreadedFailed(why) => format!("the threaded build did not start ({why})."),
            };
            format!("Training and scoring use one thread (the single-threaded build): {why}")
        }
    }
}
