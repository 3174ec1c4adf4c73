//! Stage 2, Anomaly Awareness: the families of anomalies, the fine-tuning settings, and the AUC of every
//! family before and after, shown or never shown.

use leptos::prelude::*;

use super::awareness_summary::{compare_with_control, largest_gain, scored_on, summarise};
use super::compute::backend_name;
use super::controls::{FieldError, NumberFields};
use super::state::{FashionStatus, Phase, Playground, AWARENESS_FIELD};
use super::worker_link::send;
use crate::plots::charts::{roc_curves, score_histograms, DIGIT_CLASSES};
use crate::plots::digits::draw_digit;
use crate::protocol::Command;
use anomaly_engine::awareness::{mean_unseen_change, RedrawnExample, AWARENESS_SETTINGS};
use anomaly_engine::data::anomalies::{fashion_families, AnomalyFamily, SYNTHETIC};
use anomaly_state::presets::awareness_preset;

#[component]
pub fn AwarenessSection() -> impl IntoView {
    let state = expect_context::<Playground>();
    let phase = move || state.phase.get();
    let can_fine_tune = move || {
        matches!(phase(), Phase::Paused | Phase::Finished) && state.run.with(Option::is_some) && state.awareness_problems().is_empty()
    };
    let why_not = move || match phase() {
        _ if state.run.with(Option::is_none) => Some("Train a model first (stage 1), then fine-tune it here.".to_string()),
        Phase::Training | Phase::FineTuning => Some("Wait for training to finish or pause it.".into()),
        Phase::Diverged(_) if state.fine_tune.with(Option::is_none) => Some("Stage 1 diverged: train a model that works first.".into()),
        _ => None,
    };
    let use_preset = move |_| {
        let (digits, awareness) = awareness_preset();
        state.unreadable.set(Vec::new());
        state.set_train_settings(digits);
        state.awareness.set(awareness);
    };
    let start = move |control: bool| {
        state.notice.set(None);
        state.request.begin(state.phase, Phase::FineTuning);
        state.running_control.set(control);
        send(state, &Command::FineTune { settings: state.awareness.get_untracked(), control });
    };
    let progress = move || {
        if state.running_control.get() {
            return state.control_run.with(|c| {
                c.as_ref().map(|c| format!("Control run, without the labelled anomalies: step {} of {}", c.step, c.total_steps))
            });
        }
        state.fine_tune.with(|f| {
            f.as_ref().map(|f| {
                format!(
                    "Fine-tuning step {} of {} · λ = {:.2} · {} labelled anomalies · margin m = {:.0}",
                    f.step, f.total_steps, f.lambda, f.labelled, f.margin
                )
            })
        })
    };
    view! {
        <section class="awareness" id="awareness" aria-labelledby="awareness-title">
            <h2 id="awareness-title">"Anomaly Awareness: what a few labelled anomalies teach"</h2>
            <p class="lead">
                "A network trained only on normal digits (stage 1) is fine-tuned with a small labelled sample of anomalies of some kinds (stage 2), "
                "so that it learns to redraw them badly. The question physicists care about: does it then also flag kinds of anomaly it was never shown?"
            </p>
            <p class="formula">
                "Stage 2 loss: normal digits keep the VAE loss L(x) = E(x) + β·KL; a labelled anomaly gets L(x) − λ·min(E(x), m), with E the reconstruction error and λ ramped from 0 to λ"<sub>"max"</sub>". "
                "The paper subtracts λ·E(x), which has no lower bound; we clip the error at a margin m (a multiple of the normal digits' mean error), so the loss never falls below −λ·m."
            </p>
            <div class="aa-grid">
                <form class="aa-settings" on:submit=|ev| ev.prevent_default() novalidate>
                    <ShownFamilies/>
                    <fieldset disabled=move || matches!(phase(), Phase::Training | Phase::FineTuning)>
                        <legend>"Fine-tuning"</legend>
                        <NumberFields target=state.awareness settings=&AWARENESS_SETTINGS prefix=AWARENESS_FIELD/>
                    </fieldset>
                    <div class="run-buttons">
                        <button type="button" id="aa-preset" on:click=use_preset disabled=move || matches!(phase(), Phase::Training | Phase::FineTuning)>
                            "Use the preset"
                        </button>
                        <button type="button" id="fine-tune" class="primary" disabled=move || !can_fine_tune() on:click=move |_| start(false)>
                            {move || if state.can_resume_stage2(false) { "Resume fine-tuning" } else { "Fine-tune" }}
                        </button>
                        <button type="button" id="fine-tune-control" disabled=move || !can_fine_tune() on:click=move |_| start(true)>
                            {move || if state.can_resume_stage2(true) { "Resume the control" } else { "Control: same, without anomalies" }}
                        </button>
                    </div>
                    <p class="hint">
                        "The preset: normal digits 0–6; shown: noisy, blobs, occluded and the digit 7, 40 labelled examples of each "
                        "(one for every 30 normal training digits). Press Train, then Fine-tune. "
                        "With fewer the unseen kinds gain less: try 40 in all, or 5."
                    </p>
                    <p class="hint">
                        "The control runs the same fine-tuning steps on the same normal digits but leaves the labelled anomalies out. "
                        "Training longer can help on its own; what fine-tuning gains beyond the control is the anomalies' doing."
                    </p>
                    <p id="aa-why-not" class="hint">{why_not}</p>
                    <p id="aa-progress" class="progress-text" role="status" aria-live="polite">{progress}</p>
                </form>
                <FamilyGallery/>
            </div>
            <AwarenessResults/>
            <FamilyCloseUp/>
        </section>
    }
}

#[component]
fn ShownFamilies() -> impl IntoView {
    let state = expect_context::<Playground>();
    let families = move || {
        let mut families: Vec<AnomalyFamily> =
            (0..10u8).filter(|&d| state.normal_digits.with(|normal| !normal.contains(&d))).map(AnomalyFamily::HeldOutDigit).collect();
        families.extend(SYNTHETIC);
        if matches!(state.fashion.get(), FashionStatus::Ready(_)) {
            families.extend(fashion_families());
        }
        families
    };
    let fashion_note = move || match state.fashion.get() {
        FashionStatus::Missing(message) => Some(message),
        _ => None,
    };
    let load_fashion = move || {
        if state.fashion.get_untracked() == FashionStatus::NotLoaded {
            state.fashion.set(FashionStatus::Loading);
            send(state, &Command::LoadFashion);
        }
    };
    // A link that shows a fashion family fetches the pictures by itself, once the worker listens.
    Effect::new(move |_| {
        let wanted = state.awareness.with(|a| a.shown.iter().any(|f| f.needs_fashion()));
        if wanted && state.worker_listening.get() {
            load_fashion();
        }
    });
    view! {
        <fieldset class="shown-families" disabled=move || matches!(state.phase.get(), Phase::Training | Phase::FineTuning)>
            <legend>"Anomalies to show the network (the others stay unseen)"</legend>
            <div class="family-checks">
                {move || families().into_iter().map(|family| {
                    let id = format!("aa-shown-{}", family.name().replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
                    let label_for = id.clone();
                    let checked = move || state.awareness.with(|a| a.shown.contains(&family));
                    let toggle = move |ev| {
                        let on = event_target_checked(&ev);
                        state.awareness.update(|a| {
                            a.shown.retain(|f| *f != family);
                            if on {
                                a.shown.push(family);
                            }
                        });
                    };
                    view! {
                        <label class="check" for=label_for>
                            <input type="checkbox" id=id prop:checked=checked on:change=toggle aria-describedby="aa_shown-error"/>
                            {family.name()}
                        </label>
                    }
                }).collect_view()}
            </div>
            <FieldError field="aa_shown"/>
            <p class="hint" id="aa-fashion-note" hidden=move || fashion_note().is_none()>{fashion_note}</p>
            {move || match state.fashion.get() {
                FashionStatus::NotLoaded => Some(view! {
                    <button type="button" id="aa-load-fashion" disabled=move || !state.worker_listening.get() on:click=move |_| load_fashion()>
                        "Add Fashion-MNIST's ten classes of clothing (a 4.4 MB download)"
                    </button>
                }.into_any()),
                FashionStatus::Loading => Some(view! { <p class="hint" id="aa-fashion-loading" role="status">"Fetching Fashion-MNIST…"</p> }.into_any()),
                _ => None,
            }}
        </fieldset>
    }
}

#[component]
fn FamilyGallery() -> impl IntoView {
    let state = expect_context::<Playground>();
    view! {
        <ul class="family-gallery" aria-label="Examples of each anomaly family">
            {move || state.thumbnails.get().into_iter().map(|thumb| {
                let title = thumb.name.clone();
                view! {
                    <li>
                        <strong>{thumb.name.clone()}</strong>" — "{thumb.description.clone()}
                        <div class="thumbs">
                            {thumb.images.into_iter().enumerate().map(|(i, image)| {
                                let canvas = NodeRef::<leptos::html::Canvas>::new();
                                Effect::new(move |_| if let Some(c) = canvas.get() { draw_digit(&c, &image) });
                                view! { <canvas node_ref=canvas class="thumb" role="img" aria-label=format!("{title} example {}", i + 1)></canvas> }
                            }).collect_view()}
                        </div>
                    </li>
                }
            }).collect_view()}
            <li><strong>"held-out digits"</strong>" — real handwritten digits of the classes you did not pick as normal"</li>
        </ul>
    }
}

#[component]
fn AwarenessResults() -> impl IntoView {
    let state = expect_context::<Playground>();
    let rows = move || {
        state.fine_tune.with(|f| match f {
            Some(f) => match &f.results {
                Some(after) => after.clone(),
                None => f.before.clone(),
            },
            None => Vec::new(),
        })
    };
    let control = move || state.matching_control();
    let summary = move || {
        let control = control();
        state.fine_tune.with(|f| {
            let f = f.as_ref()?;
            let results = f.results.as_ref()?;
            let against_control = control.as_deref().map(|c| compare_with_control(results, c)).unwrap_or_default();
            // The control starts from the same stage-1 scores, but the visitor may have switched backends
            // before running it.
            let control_on = control.as_ref().and_then(|_| state.control_run.with(|c| c.as_ref().and_then(|c| c.after_on)));
            let after_on = f.after_on?;
            let backends = match control_on.filter(|&on| on != after_on) {
                Some(on) => format!(
                    "{} The control's scores after fine-tuning were computed on {}.",
                    scored_on("Every score of the anomaly-aware run", f.before_on, after_on),
                    backend_name(on)
                ),
                None => scored_on("Every score here", f.before_on, after_on),
            };
            let paragraphs = [summarise(results), largest_gain(results), against_control, backends];
            Some(paragraphs.into_iter().filter(|p| !p.is_empty()).map(|p| view! { <p>{p}</p> }).collect_view())
        })
    };
    // A control without an anomaly-aware run of the same settings to stand beside, and which weights
    // the network holds after a control run (the digit view above shows that network).
    let control_note = move || {
        let finished = state.control_run.with(|c| c.as_ref().and_then(|c| c.results.as_ref().map(|r| mean_unseen_change(r))))?;
        let mut text = String::new();
        if control().is_none() {
            text.push_str(&format!(
                "Control run: without the labelled anomalies, the families never shown changed by {:+.3} on average. Fine-tune with the same settings to compare. ",
                finished.unwrap_or(0.0)
            ));
        }
        if state.running_control.get() {
            text.push_str("The network above now holds the control run's weights; Fine-tune to go back to the anomaly-aware ones.");
        }
        (!text.is_empty()).then_some(text)
    };
    let control_after = move |name: &str| {
        control().and_then(|c| c.into_iter().find(|r| r.name == name)).and_then(|r| r.after).map_or("…".to_string(), |a| format!("{a:.3}"))
    };
    view! {
        // The title sits outside the sideways-scrolling box, so that on a phone it wraps to the screen
        // instead of being as wide as the table.
        <div class="aa-results">
            <p class="aa-table-title" id="aa-table-caption">"AUC of each anomaly family against the normal test digits, before and after fine-tuning"</p>
            <div class="table-scroll" tabindex="0" role="region" aria-labelledby="aa-table-caption">
            <table id="aa-table" aria-labelledby="aa-table-caption">
                <thead><tr>
                    // The test examples' count comes last: on a phone it is the column left off-screen.
                    <th scope="col">"Family"</th><th scope="col">"In fine-tuning"</th>
                    <th scope="col">"AUC before"</th><th scope="col">"AUC after"</th><th scope="col">"Change"</th>
                    <Show when=move || control().is_some()><th scope="col">"After, control"</th></Show>
                    <th scope="col">"Test examples"</th>
                </tr></thead>
                <tbody>
                    {move || rows().into_iter().map(|r| {
                        let change = r.after.map(|a| a - r.before);
                        let class = match change {
                            Some(c) if c > 0.0005 => "better",
                            Some(c) if c < -0.0005 => "worse",
                            _ => "",
                        };
                        view! {
                            <tr class=class>
                                <th scope="row">{r.name.clone()}</th>
                                <td class="role">{if r.shown { "shown" } else { "unseen" }}</td>
                                <td class="before">{format!("{:.3}", r.before)}</td>
                                <td class="after">{r.after.map_or("…".to_string(), |a| format!("{a:.3}"))}</td>
                                <td class="change">{change.map_or(String::new(), |c| format!("{} {:+.3}", if c > 0.0005 { "▲" } else if c < -0.0005 { "▼" } else { "=" }, c))}</td>
                                {let name = r.name.clone(); move || control().is_some().then(|| view! { <td class="control">{control_after(&name)}</td> })}
                                <td>{r.count.to_string()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
            // One finding per paragraph: the headline, whether it rests on one family, the control, the backend.
            <div id="aa-summary">{summary}</div>
            <p id="aa-control-note" class="hint">{control_note}</p>
        </div>
    }
}

/// One family up close: ROC before and after on one chart, score histograms before and after, and a few
/// examples redrawn by the stage-1 and the fine-tuned network.
#[component]
fn FamilyCloseUp() -> impl IntoView {
    let state = expect_context::<Playground>();
    let selected = RwSignal::new(0usize);
    let details = move || state.fine_tune.with(|f| f.as_ref().map(|f| f.details.clone()).unwrap_or_default());
    let current = move || details().get(selected.get()).cloned();
    let roc_canvas = NodeRef::<leptos::html::Canvas>::new();
    let before_canvas = NodeRef::<leptos::html::Canvas>::new();
    let after_canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        state.layout.track();
        let Some(d) = current() else { return };
        if let Some(c) = roc_canvas.get() {
            let curves = [
                (&d.roc_after, format!("after fine-tuning (AUC {:.3})", d.roc_after.auc)),
                (&d.roc_before, format!("before (AUC {:.3})", d.roc_before.auc)),
            ];
            if let Err(err) = roc_curves(&c, &curves, &DIGIT_CLASSES) {
                web_sys::console::warn_1(&format!("ROC before/after: {err}").into());
            }
        }
        for (canvas, normal, family) in [(before_canvas, &d.normal_before, &d.family_before), (after_canvas, &d.normal_after, &d.family_after)] {
            if let Some(c) = canvas.get() {
                if let Err(err) = score_histograms(&c, normal, Some(family), &DIGIT_CLASSES, false, None) {
                    web_sys::console::warn_1(&format!("family histogram: {err}").into());
                }
            }
        }
    });
    let describe = move || {
        current().map(|d| {
            format!(
                "{}: AUC {:.3} before fine-tuning and {:.3} after, against the normal test digits.",
                d.name, d.roc_before.auc, d.roc_after.auc
            )
        })
    };
    view! {
        <Show when=move || !details().is_empty()>
            <div class="close-up" id="aa-close-up">
                <h3>
                    <label for="aa-family">"A closer look at one family"</label>
                    <select id="aa-family" on:change=move |ev| selected.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {move || details().into_iter().enumerate().map(|(i, d)| view! {
                            <option value=i.to_string() selected=move || selected.get() == i>{d.name}</option>
                        }).collect_view()}
                    </select>
                </h3>
                <p id="aa-close-up-summary">{describe}</p>
                <div class="panels">
                    <figure class="panel">
                        <h4>"ROC curve, before and after"</h4>
                        <canvas node_ref=roc_canvas class="chart" role="img" aria-label=move || describe().unwrap_or_default()></canvas>
                    </figure>
                    <figure class="panel">
                        <h4>"Scores before fine-tuning"</h4>
                        <canvas node_ref=before_canvas class="chart" role="img"
                            aria-label=move || current().map(|d| format!("Score histograms of normal digits and {} before fine-tuning", d.name)).unwrap_or_default()></canvas>
                    </figure>
                    <figure class="panel">
                        <h4>"Scores after fine-tuning"</h4>
                        <canvas node_ref=after_canvas class="chart" role="img"
                            aria-label=move || current().map(|d| format!("Score histograms of normal digits and {} after fine-tuning", d.name)).unwrap_or_default()></canvas>
                    </figure>
                </div>
                <p class="explain">"Both histograms share one axis. Their end bins also count the few scores beyond it (the lowest and highest half percent of all four sets), so no example is left out."</p>
                <figure class="panel aa-redrawn">
                    <h4>"Redrawn before and after"</h4>
                    <ul class="reconstructions">
                        {move || current().map(|d| d.examples.into_iter().map(|example| view! { <RedrawnTriple example/> }).collect_view())}
                    </ul>
                    <p class="explain">"Top: the anomaly. Middle: redrawn by the stage-1 network. Bottom: redrawn after fine-tuning. A worse redrawing means a higher score."</p>
                </figure>
            </div>
        </Show>
    }
}

#[component]
fn RedrawnTriple(example: RedrawnExample) -> impl IntoView {
    let canvases = [NodeRef::<leptos::html::Canvas>::new(), NodeRef::<leptos::html::Canvas>::new(), NodeRef::<leptos::html::Canvas>::new()];
    let images = [example.original, example.before, example.after];
    Effect::new(move |_| {
        for (canvas, image) in canvases.iter().zip(&images) {
            if let Some(c) = canvas.get() {
                draw_digit(&c, image);
            }
        }
    });
    view! {
        <li class="pair anomaly">
            <canvas node_ref=canvases[0] class="digit" role="img" aria-label="the anomaly"></canvas>
            <canvas node_ref=canvases[1] class="digit" role="img" aria-label="redrawn before fine-tuning"></canvas>
            <canvas node_ref=canvases[2] class="digit" role="img" aria-label="redrawn after fine-tuning"></canvas>
        </li>
    }
}
