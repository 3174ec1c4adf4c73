//! "Score your own events": load a table (or the toy collider events), choose what each column is for,
//! train on it, and score every row. The worker does the work; these components render
//! [`state::TableState`] and send the visitor's choices.

mod awareness;
mod compare;
mod overview;
mod results;
mod source;
pub mod state;
mod training;

use leptos::prelude::*;

use super::state::{Playground, View};

#[component]
pub fn TableSection() -> impl IntoView {
    let state = expect_context::<Playground>();
    view! {
        <div class="layout table-view" id="table-view" hidden=move || state.view.get() != View::Table>
            <section class="controls" aria-labelledby="table-controls-title">
                <h2 id="table-controls-title">"Your events"</h2>
                <source::DataSource/>
                <training::TrainingChoices/>
                <training::SavedModel/>
            </section>
            <section class="results" id="table-results" aria-labelledby="table-results-title" tabindex="-1">
                <h2 id="table-results-title">"The table and its scores"</h2>
                <overview::FileOverview/>
                <results::TableResultsPanels/>
                <awareness::AwarenessPanel/>
                <compare::ComparePanel/>
            </section>
        </div>
    }
}

/// The element behind an input event, cast to the type the handler expects.
pub(crate) fn event_target<T: wasm_bindgen::JsCast>(ev: &leptos::ev::Event) -> T {
    wasm_bindgen::JsCast::unchecked_into(ev.target().expect("an input event has a target"))
}

/// Percent with one decimal, for fractions shown to the visitor.
pub(crate) fn percent(fraction: f64) -> String {
    format!("{:.1}%", 100.0 * fraction)
}
