//! Where scoring runs: WebGPU when the browser offers it, otherwise the CPU, with the visitor free to
//! choose. Both give the same scores (to float rounding); the page says which one was used and, when
//! WebGPU is missing or failed, why, in one sentence.

use leptos::prelude::*;

use super::state::Playground;
use super::worker_link::send;
use crate::protocol::{Backend, BackendChoice, Command};

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
        </div>
    }
}
