//! "Events as objects": AnomalyCLR (Dillon et al., arXiv:2301.04660) on toy collision events. A small
//! transformer learns to keep an event close to its physically changed copies and away from copies made
//! to look like new physics; an autoencoder on those representations then flags signals, beside the same
//! autoencoder on the raw objects. The worker runs the study; these components render
//! [`state::EventsState`] and send the visitor's choices.

pub mod state;

use leptos::prelude::*;

use self::state::{progress_sentence, verdict, StudyPhase};
use super::loss::redraw;
use super::state::{Playground, View};
use super::table::event_target;
use super::thousands;
use super::worker_link::{send, send_file};
use crate::plots::charts::{roc_curves, EVENT_CLASSES};
use crate::plots::events::{event_display, representation_map, similarity_histograms, OBJECT_KEY};
use crate::plots::palette::css;
use crate::protocol::{Command, EventsCommand, FilePurpose, StepUnit};
use anomaly_engine::objects::clr::Variant;
use anomaly_engine::objects::encoder::EncoderKind;
use anomaly_engine::objects::panels::{EventDisplay, EFFICIENCY};
use anomaly_state::events::{EventChoice, EPOCHS, SEEDS, TEMPERATURES, TEST_EVENTS, TRAIN_SLIDER};

#[component]
pub fn EventsSection() -> impl IntoView {
    let state = expect_context::<Playground>();
    view! {
        <div class="layout events-view" id="events-view" hidden=move || state.view.get() != View::Events>
            <section class="controls" aria-labelledby="events-controls-title">
                <h2 id="events-controls-title">"Events as objects: AnomalyCLR"</h2>
                <p class="hint">
                    "A collision event is a list of objects: electrons, muons, jets and the missing energy the invisible particles carried off, "
                    "each with its momentum pT and its direction (η, φ). A small transformer learns a summary of each event without ever seeing a signal. "
                    "The events here are a toy built from simple formulas in the style of a public CMS data challenge, not a detector simulation. "
                    "Method: Dillon, Feiden, Favaro, Modak & Plehn, \"Anomalies, Representations, and Self-Supervision\", arXiv:2301.04660."
                </p>
                <EventsControls/>
                <EventsStatus/>
            </section>
            <section class="results" id="events-results" aria-labelledby="events-results-title" tabindex="-1">
                <h2 id="events-results-title">"What the encoder learned"</h2>
                <div class="panels">
                    <DisplaysPanel/>
                    <SimilarityPanel/>
                    <AucPanel/>
                    <RocPanel/>
                    <MapPanel/>
                </div>
            </section>
        </div>
    }
}

#[component]
fn EventsControls() -> impl IntoView {
    let state = expect_context::<Playground>();
    let events = state.events;
    let busy = move || matches!(events.phase.get(), StudyPhase::Starting | StudyPhase::Running);
    let listening = move || state.worker_listening.get();
    let start = move |_| {
        let choice = events.choice.get_untracked();
        if let Some((_, problem)) = choice.problems().into_iter().next() {
            return events.notice.set(Some(format!("The study cannot start: {problem}.")));
        }
        events.request.begin(events.phase, StudyPhase::Starting);
        let from_file = events.use_file.get_untracked() && events.file.with_untracked(Option::is_some);
        send(state, &Command::Events(EventsCommand::Start { settings: choice.settings(), from_file }));
    };
    let open = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            send_file(state, FilePurpose::ObjectEvents, &file);
        }
        input.set_value("");
    };
    let download = move |_| send(state, &Command::Events(EventsCommand::DownloadToy { settings: events.choice.get_untracked().settings() }));
    let source_text = move || match events.file.get() {
        Some(f) => format!(
            "\"{}\": {} background and {} signal events ({}). Half the background is learned from, the other half and the signal judge.",
            f.name,
            thousands(f.background),
            thousands(f.signal),
            f.kinds.join(", ")
        ),
        None => "Your own file: a CSV with one row an event, columns such as met_pt, met_phi, e1_pt, e1_eta, e1_phi … j10_phi (0 for an empty slot), is_signal (1 or 0), and optionally process naming each signal's kind. The toy's download is an example.".to_string(),
    };
    let pause = move |_| send(state, &Command::Events(EventsCommand::Pause));
    let resume = move |_| {
        events.request.begin(events.phase, StudyPhase::Running);
        send(state, &Command::Events(EventsCommand::Resume));
    };
    let step = move |_| send(state, &Command::Events(EventsCommand::Step { unit: StepUnit::Epoch }));
    let (t_low, t_high, t_step) = TRAIN_SLIDER;
    let on_train = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Ok(n) = input.value().parse::<usize>() {
            events.choice.update(|c| c.train_events = n.clamp(t_low, t_high));
        }
    };
    let on_seed = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        match input.value().trim().parse::<u64>() {
            Ok(seed) if SEEDS.contains(&seed) => {
                events.choice.update(|c| c.seed = seed);
                events.notice.set(None);
            }
            _ => {
                input.set_value(&events.choice.get_untracked().seed.to_string());
                events.notice.set(Some("The seed must be a whole number from 1 to 1,000,000; the study keeps the last good one.".into()));
            }
        }
    };
    let (cold, hot) = TEMPERATURES;
    let on_temperature = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        match input.value().trim().parse::<f64>() {
            Ok(t) if (cold..=hot).contains(&t) => {
                events.choice.update(|c| c.temperature = t);
                events.notice.set(None);
            }
            _ => {
                let kept = events.choice.get_untracked().temperature;
                input.set_value(&kept.to_string());
                events.notice.set(Some(format!("The temperature must be a number from {cold} to {hot}; the study keeps the last good one ({kept}).")));
            }
        }
    };
    let loss_option = move |variant: Variant, key: &'static str, label: &'static str, hint: &'static str| {
        let id = format!("events-loss-{key}");
        view! {
            <div class="choice">
                <input type="radio" name="events-loss" id=id.clone() prop:checked=move || events.choice.get().variant == variant
                    on:change=move |_| events.choice.update(|c| c.variant = variant)/>
                <label for=id>{label}<span class="hint">{hint}</span></label>
            </div>
        }
    };
    let encoder_option = move |kind: EncoderKind, key: &'static str, label: &'static str| {
        let id = format!("events-encoder-{key}");
        view! {
            <div class="choice">
                <input type="radio" name="events-encoder" id=id.clone() prop:checked=move || events.choice.get().encoder == kind
                    on:change=move |_| events.choice.update(|c| c.encoder = kind)/>
                <label for=id>{label}</label>
            </div>
        }
    };
    let physical_only = move || events.choice.get().variant == Variant::PhysicalOnly;
    let plan_text = move || {
        let choice = events.choice.get();
        let steps = choice.train_events.div_ceil(256) * EPOCHS;
        if events.use_file.get() && events.file.with(Option::is_some) {
            return format!("{EPOCHS} epochs of the encoder on half your file's background; the seed picks the halves. The slider applies to the toy.");
        }
        format!(
            "{} background events to learn from, {EPOCHS} epochs ({steps} steps of 256 events, each seen three ways); then {} test events of the background and of each signal. The default takes about a minute on one core; the time grows with the events.",
            thousands(choice.train_events),
            thousands(TEST_EVENTS)
        )
    };
    view! {
        <form class="settings" on:submit=|ev| ev.prevent_default() novalidate>
            <fieldset disabled=busy>
                <legend>"Events"</legend>
                <div class="choice">
                    <input type="radio" name="events-source" id="events-source-toy" prop:checked=move || !events.use_file.get() on:change=move |_| events.use_file.set(false)/>
                    <label for="events-source-toy">"The toy (four signals hidden among Standard Model processes)"</label>
                </div>
                <div class="choice">
                    <input type="radio" name="events-source" id="events-source-file" disabled=move || events.file.with(Option::is_none)
                        prop:checked=move || events.use_file.get() on:change=move |_| events.use_file.set(true)/>
                    <label for="events-source-file">"Your file"</label>
                </div>
                <p class="hint" id="events-file-text">{source_text}</p>
                <div class="run-buttons">
                    <label class="file-button">
                        <input type="file" id="events-file" accept=".csv,text/csv" disabled=move || busy() || !listening() on:change=open aria-describedby="events-file-text"/>
                        <span>"Open a CSV of events"</span>
                    </label>
                    <button type="button" id="events-download-toy" disabled=move || !listening() on:click=download>"Download the toy's events (CSV)"</button>
                </div>
            </fieldset>
            <fieldset disabled=busy>
                <legend>"What the encoder learns from"</legend>
                {loss_option(Variant::AnomalyClr, "clr", "AnomalyCLR", " Pull each event towards its physical copy, push it away from its anomalous copy and from other events.")}
                {loss_option(Variant::AnomalyClrPlus, "plus", "AnomalyCLR+", " The same without pushing other events away.")}
                {loss_option(Variant::PhysicalOnly, "physical", "Physical copies only", " Plain contrastive learning: no anomalous copies (the paper's comparison).")}
                <label for="events-temp">"Temperature τ (0.02–1)"</label>
                <input type="number" id="events-temp" min=cold max=hot step="0.01" inputmode="decimal" prop:value=move || events.choice.get().temperature.to_string()
                    on:change=on_temperature aria-describedby="events-temp-hint"/>
                <p class="hint" id="events-temp-hint">"How sharply the loss tells similar from dissimilar: smaller is stricter. The paper uses 0.1."</p>
            </fieldset>
            <fieldset disabled=move || busy() || physical_only()>
                <legend>"Anomalous copies"</legend>
                <div class="choice">
                    <input type="checkbox" id="events-add" prop:checked=move || events.choice.get().add_objects
                        on:change=move |ev| { let input: web_sys::HtmlInputElement = event_target(&ev); events.choice.update(|c| c.add_objects = input.checked()) }/>
                    <label for="events-add">"Add objects"<span class="hint">" Extra leptons or jets, the missing energy balancing them."</span></label>
                </div>
                <div class="choice">
                    <input type="checkbox" id="events-split" prop:checked=move || events.choice.get().split
                        on:change=move |ev| { let input: web_sys::HtmlInputElement = event_target(&ev); events.choice.update(|c| c.split = input.checked()) }/>
                    <label for="events-split">"Split objects"<span class="hint">" One object becomes two in the same direction, sharing its pT."</span></label>
                </div>
                <div class="choice">
                    <input type="checkbox" id="events-scale" prop:checked=move || events.choice.get().scale
                        on:change=move |ev| { let input: web_sys::HtmlInputElement = event_target(&ev); events.choice.update(|c| c.scale = input.checked()) }/>
                    <label for="events-scale">"Scale momenta"<span class="hint">" The missing energy, or every pT, one to five times larger. Off in the paper's runs."</span></label>
                </div>
            </fieldset>
            <fieldset disabled=busy>
                <legend>"The encoder and the study"</legend>
                {encoder_option(EncoderKind::Transformer, "transformer", "Transformer (2 attention layers, 4 heads, width 32)")}
                {encoder_option(EncoderKind::DeepSets, "deepsets", "DeepSets (each object alone, then summed: cheaper)")}
                <label for="events-train">"Background events to learn from"</label>
                <input type="range" id="events-train" min=t_low max=t_high step=t_step prop:value=move || events.choice.get().train_events.to_string()
                    on:input=on_train aria-describedby="events-plan"/>
                <p class="hint" id="events-plan">{plan_text}</p>
                <label for="events-seed">"Seed (1–1,000,000)"</label>
                <input type="number" id="events-seed" min="1" max="1000000" inputmode="numeric" prop:value=move || events.choice.get().seed.to_string() on:change=on_seed/>
            </fieldset>
        </form>
        <div class="buttons">
            <button type="button" id="events-start" class="primary" disabled=move || busy() || !listening() on:click=start>
                {move || if events.intro.with(Option::is_some) { "Start a new study" } else { "Train the encoder" }}
            </button>
            <button type="button" id="events-pause" disabled=move || events.phase.get() != StudyPhase::Running on:click=pause>"Pause"</button>
            <button type="button" id="events-resume" disabled=move || events.phase.get() != StudyPhase::Paused on:click=resume>"Resume"</button>
            <button type="button" id="events-step" disabled=move || events.phase.get() != StudyPhase::Paused on:click=step>"Step one epoch"</button>
        </div>
    }
}

#[component]
fn EventsStatus() -> impl IntoView {
    let state = expect_context::<Playground>();
    let events = state.events;
    let phases = move || events.phases.with(Vec::len);
    let text = move || match events.phase.get() {
        StudyPhase::Idle if !state.worker_listening.get() => "Starting the worker that trains the models…".to_string(),
        StudyPhase::Idle => "Press the button: the encoder learns from background events alone, then two autoencoders learn the background, one on the raw objects and one on the encoder's summaries.".to_string(),
        StudyPhase::Starting => "Making the events…".to_string(),
        StudyPhase::Finished => format!("The study is done ({:.0} s).", events.seconds.get().unwrap_or(0.0)),
        phase => {
            let epochs_done = events.curves.progress.with(|p| p.as_ref().map(|p| p.epochs_done));
            let sentence = events.run.with(|r| progress_sentence(r.as_ref(), phases(), epochs_done));
            if phase == StudyPhase::Paused { format!("Paused. {sentence}") } else { sentence }
        }
    };
    let bar = move || {
        let run = events.run.get()?;
        let within = events.curves.progress.with(|p| p.as_ref().map_or(0.0, |p| p.total_steps as f64 / (p.epochs * p.steps_per_epoch).max(1) as f64));
        // The encoder is most of the time: it counts for four fifths of the bar.
        let (start, share) = match run.index { 0 => (0.0, 0.8), 1 => (0.8, 0.1), _ => (0.9, 0.1) };
        Some((start + share * within.min(1.0)).min(1.0))
    };
    view! {
        <div class="status" role="status" aria-live="polite">
            <p id="events-status">{text}</p>
            {move || bar().map(|f| view! { <progress id="events-progress" max="1" value=f.to_string() aria-label="The study's progress"></progress> })}
        </div>
        <p class="notice" id="events-notice" role="alert" hidden=move || events.notice.with(Option::is_none)>{move || events.notice.get()}</p>
    }
}

/// An event display on a canvas with its caption; the description is the canvas's text alternative.
fn display_figure(display: EventDisplay) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let description = display.description();
    let title = display.title.clone();
    redraw(canvas, "event display", move |c| event_display(c, &display));
    view! {
        <figure class="event-figure">
            <canvas node_ref=canvas class="chart small" role="img" aria-label=description></canvas>
            <figcaption>{title}</figcaption>
        </figure>
    }
}

#[component]
fn DisplaysPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let events = state.events;
    let copies = move || events.intro.with(|i| i.as_ref().map(|i| vec![i.original.clone(), i.physical.clone(), i.added.clone(), i.split.clone()]).unwrap_or_default());
    let signals = move || events.intro.with(|i| i.as_ref().map(|i| i.signals.clone()).unwrap_or_default());
    let caption = move || {
        events.intro.with(|intro| match intro {
            Some(intro) => format!(
                "Each object at its direction: η (up the beam) and φ (around it); a bigger marker is a harder object. The encoder has {} trainable numbers and learns from {} events; the paper's transformer is larger and learned from millions of events on a GPU.",
                thousands(intro.parameters),
                thousands(intro.train_events)
            ),
            None => "An event beside its copies, and an event of each signal, appear here when the study starts.".to_string(),
        })
    };
    view! {
        <figure class="panel wide" id="events-displays">
            <h3>"An event, its copies, and four kinds of new physics"</h3>
            <p class="object-key" aria-hidden="true">
                {OBJECT_KEY.into_iter().map(|(symbol, colour, name)| view! { <span><span style=format!("color: {}", css(colour))>{symbol}</span>" "{name}</span> }).collect_view()}
            </p>
            <div class="event-multiples">{move || copies().into_iter().map(display_figure).collect_view()}</div>
            <p class="explain">"A physical copy is the same event seen differently (turned about the beam, soft objects nudged, jet energies smeared): the encoder should find it the same. An anomalous copy has objects added or split: the encoder should find it different, because new physics often looks like that."</p>
            <div class="event-multiples">{move || signals().into_iter().map(display_figure).collect_view()}</div>
            <figcaption id="events-displays-caption">{caption}</figcaption>
        </figure>
    }
}

#[component]
fn SimilarityPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let events = state.events;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "similarity histograms", move |c| events.similarities.with(|s| s.last().map_or(Ok(()), |s| similarity_histograms(c, s))));
    let caption = move || {
        events.similarities.with(|all| match (all.first(), all.last()) {
            (Some(first), Some(last)) if last.epoch > 0 => format!(
                "Mean similarity of 256 background events to their physical copy: {:.2} before training, {:.2} after epoch {}; to their anomalous copy: {:.2}, then {:.2}. Training pulls the first towards 1 and pushes the second down.",
                first.mean_physical, last.mean_physical, last.epoch, first.mean_anomalous, last.mean_anomalous
            ),
            (Some(first), _) => format!(
                "Before training, 256 background events are about as similar to their physical copy ({:.2}) as to their anomalous copy ({:.2}): the untrained encoder cannot tell them apart.",
                first.mean_physical, first.mean_anomalous
            ),
            _ => "How similar the encoder finds each event to its two copies appears here, before training and after each epoch.".to_string(),
        })
    };
    view! {
        <figure class="panel" id="events-similarity">
            <h3>"Pulling together, pushing apart"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id="events-similarity-caption">{caption}</figcaption>
        </figure>
    }
}

fn rejection_cell(value: f64) -> String {
    if value >= 100.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

#[component]
fn AucPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let events = state.events;
    let switched_off = move || {
        events.result_choice.get().map(|c| {
            let mut off = Vec::new();
            if c.variant == Variant::PhysicalOnly {
                off.push("the anomalous copies (physical copies only)");
            } else {
                if !c.add_objects {
                    off.push("adding objects");
                }
                if !c.split {
                    off.push("splitting objects");
                }
            }
            let mut text = if off.is_empty() { String::new() } else { format!(" This encoder trained without {}.", off.join(" or ")) };
            if c.scale && c.variant != Variant::PhysicalOnly {
                text += " Scaling the momenta was on.";
            }
            if c.temperature != EventChoice::default().temperature {
                text += &format!(" Its temperature was {} (the paper's is 0.1).", c.temperature);
            }
            text
        })
    };
    let text = move || {
        events.result.with(|r| match r {
            Some(result) => verdict(&result.signals, events.intro.with(|i| i.as_ref().is_none_or(|i| i.source == "the toy"))) + &switched_off().unwrap_or_default(),
            None => "The AUC and the background rejection of both autoencoders on each signal appear here when the study is done.".to_string(),
        })
    };
    view! {
        <figure class="panel" id="events-auc">
            <h3>"Raw objects against representations"</h3>
            <table class="auc-table" id="events-auc-table" hidden=move || events.result.with(Option::is_none)>
                <caption>{format!("AUC (0.5 is a blind guess) and 1/ε_B, how many background events there are for each one kept when {:.0} % of the signal is kept", EFFICIENCY * 100.0)}</caption>
                <thead>
                    <tr><th scope="col" rowspan="2">"signal"</th><th scope="colgroup" colspan="2">"AUC"</th><th scope="colgroup" colspan="2">"1/ε_B"</th></tr>
                    <tr><th scope="col">"raw"</th><th scope="col">"CLR"</th><th scope="col">"raw"</th><th scope="col">"CLR"</th></tr>
                </thead>
                <tbody>
                    {move || events.result.get().map(|r| r.signals.into_iter().map(|s| view! {
                        <tr><th scope="row">{s.name}</th><td>{format!("{:.3}", s.auc_raw)}</td><td>{format!("{:.3}", s.auc_clr)}</td>
                        <td>{rejection_cell(s.inv_eps_b_raw)}</td><td>{rejection_cell(s.inv_eps_b_clr)}</td></tr>
                    }).collect_view())}
                </tbody>
            </table>
            <p id="events-verdict">{text}</p>
            <p class="explain">"Both columns use the same small autoencoder trained on background only; its reconstruction error is the anomaly score. The only difference is what it reads: the 76 raw numbers of an event's objects, or the encoder's 32-number summary. Our measurement over five seeds is in the README: on this toy the representation wins on three of the four signals, not on LQ → bτ."</p>
        </figure>
    }
}

#[component]
fn RocPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let events = state.events;
    // The signal chosen by its key; the first one until the visitor picks another.
    let chosen = RwSignal::new(None::<String>);
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let shown = move || {
        let key = chosen.get();
        events.result.with(|r| r.as_ref().and_then(|r| r.signals.iter().find(|s| Some(&s.key) == key.as_ref()).or(r.signals.first()).cloned()))
    };
    redraw(canvas, "events ROC curves", move |c| {
        let Some(s) = shown() else { return Ok(()) };
        roc_curves(c, &[(&s.roc_raw, format!("raw objects (AUC {:.3})", s.auc_raw)), (&s.roc_clr, format!("AnomalyCLR (AUC {:.3})", s.auc_clr))], &EVENT_CLASSES)
    });
    let caption = move || match shown() {
        Some(s) => format!("ROC curves for {}: the autoencoder on raw objects (solid blue, AUC {:.3}) and on the representations (dashed vermillion, AUC {:.3}).", s.name, s.auc_raw, s.auc_clr),
        None => "Each signal's ROC curves appear here when the study is done.".to_string(),
    };
    let choices = move || events.result.with(|r| r.as_ref().map(|r| r.signals.iter().map(|s| (s.key.clone(), s.name.clone())).collect::<Vec<_>>()).unwrap_or_default());
    let choose = move |(key, name): (String, String)| {
        let id = format!("events-roc-{key}");
        let (mine, picked) = (key.clone(), key.clone());
        view! {
            <input type="radio" name="events-roc-signal" id=id.clone() prop:checked=move || shown().is_some_and(|s| s.key == mine) on:change=move |_| chosen.set(Some(picked.clone()))/>
            <label for=id>{name}</label>
        }
    };
    view! {
        <figure class="panel" id="events-roc">
            <h3>"Threshold by threshold"</h3>
            <div class="choice-row" role="radiogroup" aria-label="Which signal">{move || choices().into_iter().map(choose).collect_view()}</div>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id="events-roc-caption">{caption}</figcaption>
        </figure>
    }
}

#[component]
fn MapPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let events = state.events;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "representation map", move |c| {
        events.result.with(|r| r.as_ref().map_or(Ok(()), |r| representation_map(c, &r.map, &r.signals.iter().map(|s| s.name.clone()).collect::<Vec<_>>())))
    });
    let caption = move || {
        events.result.with(|r| match r {
            Some(r) => format!(
                "150 test events of the background (grey dots) and of each signal at their summary's two main directions, which hold {:.0} % and {:.0} % of its spread. Signals that sit apart from the grey cloud are the ones an autoencoder on the summaries can find.",
                r.map.explained[0] * 100.0,
                r.map.explained[1] * 100.0
            ),
            None => "The representation space, squashed to its two main directions, appears here when the study is done.".to_string(),
        })
    };
    view! {
        <figure class="panel" id="events-map">
            <h3>"The representation space"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id="events-map-caption">{caption}</figcaption>
        </figure>
    }
}
