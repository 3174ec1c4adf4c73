//! The guided tutorials: a list to start one from, and a card for the current step with Back, Next, and
//! "Show me", which brings the part of the page the step talks about into view and puts the keyboard on
//! it. The steps themselves (text, setups, sources) are the engine's `tutorials` module; a step's setup is
//! applied like an opened link, so the address bar is always a link to the step on screen.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::link::{apply_setup, step_link};
use super::state::{Playground, View};
use anomaly_state::page::PagePart;
use anomaly_state::tutorials::{TutorialStep, TUTORIALS};

const STEP_HEADING: &str = "tutorial-step-title";

/// Opens a step: its setup replaces the settings (classroom hiding stays as it was) and the keyboard
/// lands on its heading, so a screen reader reads the new step from the top.
fn go_to(state: Playground, at: TutorialStep) {
    let mut setup = at.setup();
    setup.hidden = state.hidden.get_untracked();
    apply_setup(state, &setup);
    after_render(|| focus_by_id(STEP_HEADING));
}

/// Leaves the tutorial, putting the keyboard back on the button that starts it.
fn close(state: Playground, at: TutorialStep) {
    state.tutorial.set(None);
    let start = start_button_id(at.tutorial);
    after_render(move || focus_by_id(&start));
}

fn start_button_id(tutorial: usize) -> String {
    format!("tutorial-start-{}", TUTORIALS[tutorial].key)
}

/// Runs `f` once the page has redrawn (leptos applies signal changes to the DOM asynchronously).
fn after_render(f: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else { return };
    let callback = wasm_bindgen::closure::Closure::once_into_js(f);
    let _ = window.request_animation_frame(callback.unchecked_ref());
}

fn element(id: &str) -> Option<web_sys::HtmlElement> {
    web_sys::window()?.document()?.get_element_by_id(id)?.dyn_into().ok()
}

fn focus_by_id(id: &str) {
    if let Some(el) = element(id) {
        let _ = el.focus();
    }
}

fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
        .is_some_and(|m| m.matches())
}

const CLASSROOM_HIDDEN: &str = "That part of the page is hidden by this link (classroom mode), so it cannot be shown.";

/// Results appear only once there is something to show.
fn not_yet(name: &str) -> String {
    let mut sentence = name.to_string();
    sentence[..1].make_ascii_uppercase();
    format!("{sentence} is not on the page yet: it appears once the earlier steps are done.")
}

/// Brings the element into view and focuses it: opens any closed `<details>` around it, makes a
/// figure focusable for the moment, and scrolls without animation when the visitor asked for less motion.
/// The element is outlined while it has the focus, even after a mouse click. Returns a sentence when it
/// cannot be shown or used yet.
fn show_element((id, name): (&str, &str)) -> Option<String> {
    if let Some(previous) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector(".spotlight").ok().flatten()) {
        let _ = previous.class_list().remove_1("spotlight");
    }
    let Some(el) = element(id) else { return Some(not_yet(name)) };
    let mut parent = el.parent_element();
    while let Some(p) = parent {
        if let Some(details) = p.dyn_ref::<web_sys::HtmlDetailsElement>() {
            details.set_open(true);
        }
        parent = p.parent_element();
    }
    if el.get_client_rects().length() == 0 {
        // Hidden: either by a classroom link (those wrappers carry `data-classroom`), or because it is a
        // result that is not there yet.
        if el.closest("[data-classroom][hidden]").ok().flatten().is_some() {
            return Some(CLASSROOM_HIDDEN.into());
        }
        return Some(not_yet(name));
    }
    if el.tab_index() < 0 && !el.has_attribute("tabindex") {
        el.set_tab_index(-1);
    }
    let _ = el.class_list().add_1("spotlight");
    let options = web_sys::ScrollIntoViewOptions::new();
    options.set_block(web_sys::ScrollLogicalPosition::Center);
    options.set_behavior(if prefers_reduced_motion() { web_sys::ScrollBehavior::Instant } else { web_sys::ScrollBehavior::Smooth });
    el.scroll_into_view_with_scroll_into_view_options(&options);
    if el.matches(":disabled").unwrap_or(false) {
        // A disabled button cannot take the focus; say why rather than leave the keyboard nowhere.
        return Some("It is outlined on the page, but cannot be pressed yet: do the earlier steps first.".into());
    }
    let focus = web_sys::FocusOptions::new();
    focus.set_prevent_scroll(true);
    let _ = el.focus_with_options(&focus);
    None
}

#[component]
pub fn TutorialSection() -> impl IntoView {
    let state = expect_context::<Playground>();
    view! {
        <section class="tutorials" id="tutorials" aria-labelledby="tutorials-title">
            {move || match state.tutorial.get() {
                None => view! { <TutorialList/> }.into_any(),
                Some(at) => view! { <StepCard at/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn TutorialList() -> impl IntoView {
    let state = expect_context::<Playground>();
    view! {
        <h2 id="tutorials-title">"Learn step by step"</h2>
        <ol class="tutorial-list">
            {TUTORIALS.iter().enumerate().map(|(tutorial, t)| view! {
                <li>
                    <button type="button" id=start_button_id(tutorial) class="tutorial-start"
                        on:click=move |_| go_to(state, TutorialStep { tutorial, step: 0 })>
                        {t.title}
                    </button>
                    <span class="tutorial-summary">{format!("{} {} steps.", t.summary, t.steps.len())}</span>
                </li>
            }).collect_view()}
        </ol>
    }
}

#[component]
fn StepCard(at: TutorialStep) -> impl IntoView {
    let state = expect_context::<Playground>();
    let tutorial = at.tutorial();
    let step = at.content();
    let why_not = RwSignal::new(None::<String>);
    let show = move |_| {
        // The step's part of the page may be in another view: switch first, look after the redraw.
        let inside = |view: &str| element(view).zip(element(step.show.0)).is_some_and(|(view, el)| view.contains(Some(&el)));
        let (view, part) = if inside("table-view") {
            (View::Table, Some(PagePart::TableView))
        } else if inside("hunt-view") {
            (View::Hunt, Some(PagePart::HuntView))
        } else if inside("jets-view") {
            (View::Jets, Some(PagePart::JetsView))
        } else if inside("events-view") {
            (View::Events, Some(PagePart::EventsView))
        } else {
            (View::Digits, None)
        };
        if part.is_some_and(|part| state.hides(part)) {
            why_not.set(Some(CLASSROOM_HIDDEN.into()));
            return;
        }
        state.view.set(view);
        after_render(move || why_not.set(show_element(step.show)));
    };
    let next = move |_| match at.next() {
        Some(next) => go_to(state, next),
        None => close(state, at),
    };
    let back = move |_| {
        if let Some(previous) = at.previous() {
            go_to(state, previous);
        }
    };
    let link = move || step_link(state, at);
    // The way back is offered only once the card has scrolled out of view above.
    let card_above = RwSignal::new(false);
    let watch = window_event_listener(leptos::ev::scroll, move |_| {
        card_above.set(element("tutorials").is_some_and(|card| card.get_bounding_client_rect().bottom() < 0.0));
    });
    on_cleanup(move || watch.remove());
    view! {
        <h2 id="tutorials-title" class="tutorial-kicker">
            {format!("Tutorial {} of {}: {}", at.tutorial + 1, TUTORIALS.len(), tutorial.title)}
        </h2>
        <ol class="step-dots" aria-label=format!("Step {} of {}", at.step + 1, tutorial.steps.len())>
            {(0..tutorial.steps.len()).map(|i| view! {
                <li class:done=i < at.step class:current=i == at.step aria-current=(i == at.step).then_some("step")>
                    <span class="visually-hidden">{format!("Step {}", i + 1)}</span>
                </li>
            }).collect_view()}
        </ol>
        <h3 id=STEP_HEADING tabindex="-1">{format!("Step {} of {}: {}", at.step + 1, tutorial.steps.len(), step.title)}</h3>
        <p class="tutorial-explain">{step.explain}</p>
        <p class="tutorial-try"><strong>"Try this: "</strong>{step.try_this}</p>
        <p class="tutorial-expect"><strong>"What you should see: "</strong>{step.expect}</p>
        <div class="run-buttons tutorial-nav" role="group" aria-label="Tutorial">
            <button type="button" id="tutorial-show" aria-controls=step.show.0 on:click=show>{format!("Show me {}", step.show.1)}</button>
            <button type="button" id="tutorial-back" disabled=at.previous().is_none() on:click=back>"Back"</button>
            <button type="button" id="tutorial-next" class="primary" on:click=next>
                {if at.is_last() { "Finish" } else { "Next step" }}
            </button>
            <button type="button" id="tutorial-close" on:click=move |_| close(state, at)>"Close the tutorial"</button>
        </div>
        <p class="hint" id="tutorial-show-note" role="status">
            {move || why_not.get()}
        </p>
        <p class="learn-more"><strong>"Learn more: "</strong>{tutorial.learn_more}</p>
        <p class="hint"><a id="tutorial-link" href=link>"Link to this step"</a>" (it opens this step with its settings)."</p>
        // After "Show me" the card is often far above; this keeps the way back one press away.
        <button type="button" id="tutorial-return" class="tutorial-return" hidden=move || !card_above.get()
            on:click=move |_| {
                if let Some(card) = element("tutorials") {
                    card.scroll_into_view();
                }
                focus_by_id(STEP_HEADING);
            }>
            {format!("↑ Back to tutorial step {}", at.step + 1)}
        </button>
    }
}
