//! The setup in the address bar: read from the URL fragment when the page opens (or when the visitor edits
//! the fragment), and written back with `history.replaceState` whenever a setting changes, so the address
//! is always a link to what is on screen without adding a history entry per change. The codec itself, with
//! all its validation, is the engine's `share` module.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use super::state::{Playground, View};
use anomaly_state::link::{decode, encode, SharedSetup};
use anomaly_state::hunt::HuntChoice;
use anomaly_state::page::{LinkView, PagePart};
use anomaly_state::tutorials::TutorialStep;

fn current_fragment() -> Option<String> {
    web_sys::window()?.location().hash().ok().filter(|h| h.len() > 1)
}

/// Applies a fragment to the page's settings; problems with it become the page's notice.
fn apply_fragment(state: Playground, fragment: &str) {
    let decoded = decode(fragment);
    apply_setup(state, &decoded.setup);
    let said: Vec<String> = decoded.summary().into_iter().chain(decoded.slow_settings_note()).collect();
    if !said.is_empty() {
        // Said where the visitor lands: the table view has its own notice line.
        match decoded.setup.view {
            LinkView::Table if state.view.get_untracked() == View::Table => state.table.notice.set(Some(said.join(" "))),
            LinkView::Hunt if state.view.get_untracked() == View::Hunt => state.hunt.notice.set(Some(said.join(" "))),
            LinkView::Jets if state.view.get_untracked() == View::Jets => state.jets.notice.set(Some(said.join(" "))),
            LinkView::Events if state.view.get_untracked() == View::Events => state.events.notice.set(Some(said.join(" "))),
            _ => state.notice.set(Some(said.join(" "))),
        }
    }
}

/// Puts a whole setup on the page, as opening its link would.
pub fn apply_setup(state: Playground, setup: &SharedSetup) {
    state.unreadable.set(Vec::new());
    state.set_train_settings(setup.digits.clone());
    state.awareness.set(setup.awareness.clone());
    state.view.set(match setup.view {
        LinkView::Digits => View::Digits,
        LinkView::Table => View::Table,
        LinkView::Hunt => View::Hunt,
        LinkView::Jets => View::Jets,
        LinkView::Events => View::Events,
    });
    state.table.simulation.set(setup.simulation);
    state.hunt.signal_events.set(setup.hunt.signal_events);
    state.hunt.seed.set(setup.hunt.seed);
    state.jets.choice.set(setup.jets);
    state.events.choice.set(setup.events);
    state.hidden.set(setup.hidden.clone());
    state.embedded.set(setup.embed);
    // A setup without a thread count (a tutorial step's) leaves the visitor's choice alone.
    if setup.threads.is_some() {
        state.threads.set(setup.threads);
    }
    if setup.view.hidden_by().is_some_and(|part| setup.hidden.contains(&part)) {
        state.view.set(View::Digits); // a hidden tab cannot be the one shown
    }
    state.tutorial.set(setup.tutorial);
    // A table part waits for its file; a link without one leaves the loaded file's choices alone.
    if let Some(table) = &setup.table {
        state.table.linked.set(Some(table.clone()));
        // The methods to compare do not depend on the file: they apply at once.
        state.table.compare.choice.set(table.compare.clone());
        if let Some(aware) = &table.awareness {
            state.table.awareness.apply_link_numbers(aware);
        }
    }
}

/// The setup on screen, as a link carries it (tracked: an effect that calls this reruns on any change).
fn current_setup(state: Playground) -> SharedSetup {
    SharedSetup {
        digits: state.train_settings(),
        awareness: state.awareness.get(),
        view: link_view(state.view.get()),
        hunt: HuntChoice { signal_events: state.hunt.signal_events.get(), seed: state.hunt.seed.get() },
        jets: state.jets.choice.get(),
        events: state.events.choice.get(),
        simulation: state.table.simulation.get(),
        hidden: state.hidden.get(),
        tutorial: state.tutorial.get(),
        table: state.table.shared(),
        embed: state.embedded.get(),
        threads: state.threads.get(),
    }
}

fn link_view(view: View) -> LinkView {
    match view {
        View::Digits => LinkView::Digits,
        View::Table => LinkView::Table,
        View::Hunt => LinkView::Hunt,
        View::Jets => LinkView::Jets,
        View::Events => LinkView::Events,
    }
}

/// The page's address without its fragment.
fn base_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .map(|href| href.split('#').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// The shareable address of the current setup.
pub fn share_url(state: Playground) -> String {
    format!("{}#{}", base_url(), encode(&current_setup(state)))
}

/// The same setup on the full page (for the embedded page's way out).
pub fn full_page_url(state: Playground) -> String {
    let setup = SharedSetup { embed: false, ..current_setup(state) };
    format!("{}#{}", base_url(), encode(&setup))
}

/// The iframe that embeds this setup in a course page or slide.
fn embed_snippet(state: Playground) -> String {
    let setup = SharedSetup { embed: true, ..current_setup(state) };
    let src = format!("{}#{}", base_url(), encode(&setup)).replace('&', "&amp;").replace('"', "&quot;");
    format!("<iframe src=\"{src}\" title=\"Anomaly Playground\" width=\"800\" height=\"600\" style=\"border:0; max-width:100%\"></iframe>")
}

/// The address of a tutorial step with its own settings (and this page's classroom hiding).
pub fn step_link(state: Playground, at: TutorialStep) -> String {
    let mut setup = at.setup();
    setup.hidden = state.hidden.get();
    format!("{}#{}", base_url(), encode(&setup))
}

pub fn sync_with_address_bar(state: Playground) {
    if let Some(fragment) = current_fragment() {
        apply_fragment(state, &fragment);
    }
    // A hand-edited fragment in the same tab is read like a fresh link.
    if let Some(window) = web_sys::window() {
        let on_hash_change = Closure::<dyn FnMut()>::new(move || {
            if let Some(fragment) = current_fragment() {
                let ours = untrack(|| encode(&current_setup(state)));
                if fragment.trim_start_matches('#') != ours {
                    apply_fragment(state, &fragment);
                }
            }
        });
        let _ = window.add_event_listener_with_callback("hashchange", on_hash_change.as_ref().unchecked_ref());
        on_hash_change.forget(); // lives as long as the page
    }
    Effect::new(move |_| {
        let fragment = format!("#{}", encode(&current_setup(state)));
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&fragment));
        }
    });
}

/// The link to this setup, in a field that can be selected, with a Copy button. Each view has one;
/// `prefix` keeps their element ids apart.
#[component]
pub fn SharePanel(#[prop(optional)] prefix: &'static str) -> impl IntoView {
    let state = expect_context::<Playground>();
    let copied = RwSignal::new(None::<String>);
    let link = move || share_url(state);
    let copy = move |_| {
        let url = link();
        match web_sys::window().map(|w| w.navigator().clipboard()) {
            Some(clipboard) => {
                let promise = clipboard.write_text(&url);
                wasm_bindgen_futures::spawn_local(async move {
                    let message = match wasm_bindgen_futures::JsFuture::from(promise).await {
                        Ok(_) => "Link copied.".to_string(),
                        Err(_) => "The browser did not allow copying: select the link and copy it by hand.".to_string(),
                    };
                    copied.set(Some(message));
                });
            }
            None => copied.set(Some("Select the link and copy it by hand.".into())),
        }
    };
    view! {
        <div class="share">
            <label for=format!("{prefix}share-link")>"Link to this setup"</label>
            <div class="share-row">
                <input id=format!("{prefix}share-link") type="text" readonly prop:value=link
                    on:focus=|ev| { event_target::<web_sys::HtmlInputElement>(&ev).select(); }/>
                <button type="button" id=format!("{prefix}copy-link") on:click=copy>"Copy"</button>
            </div>
            <p class="hint" role="status" aria-live="polite">{move || copied.get()}</p>
            <details class="classroom" id=format!("{prefix}classroom")>
                <summary>"Classroom mode"</summary>
                <p class="hint">"Hide parts of the page for everyone who opens the link (they are hidden here too, so you see what your class will see). Untick to bring them back."</p>
                {PagePart::ALL.into_iter().map(|part| {
                    let id = format!("{prefix}hide-{}", part.key());
                    let label_for = id.clone();
                    view! {
                        <label class="check" for=label_for>
                            <input type="checkbox" id=id prop:checked=move || state.hides(part)
                                on:change=move |ev| {
                                    let on = event_target::<web_sys::HtmlInputElement>(&ev).checked();
                                    state.hidden.update(|h| {
                                        h.retain(|&p| p != part);
                                        if on {
                                            h.push(part);
                                            h.sort_unstable();
                                        }
                                    });
                                    let shown = link_view(state.view.get_untracked());
                                    if on && shown.hidden_by() == Some(part) {
                                        state.view.set(View::Digits); // the tab on screen was just hidden
                                    }
                                }/>
                            {format!("Hide {}", part.label())}
                        </label>
                    }
                }).collect_view()}
            </details>
            <details class="classroom" id=format!("{prefix}embed")>
                <summary>"Embed in a course page or slide"</summary>
                <p class="hint">"Paste this into a web page: it shows this view only, compactly, with a link to the full playground. The classroom choices above apply to it too."</p>
                <label for=format!("{prefix}embed-code")>"Code to paste"</label>
                <textarea id=format!("{prefix}embed-code") readonly rows="4" prop:value=move || embed_snippet(state)
                    on:focus=|ev| { event_target::<web_sys::HtmlTextAreaElement>(&ev).select(); }></textarea>
            </details>
        </div>
    }
}
