//! "Resonance hunt": a bump hidden in a falling m_jj spectrum, hunted with densities learned in the
//! sidebands (ANODE and R-ANODE) on the R&D v2 toy. The worker runs the hunt; these components render
//! [`state::HuntState`] and send the visitor's choices.

pub mod state;

use leptos::prelude::*;

use self::state::{progress_sentence, HuntPhase};
use anomaly_state::hunt::{PAGE_BACKGROUND_EVENTS, SEEDS, SIGNAL_SLIDER};
use super::loss::redraw;
use super::state::{Playground, View};
use super::table::event_target;
use super::thousands;
use super::worker_link::send;
use crate::plots::resonance::{feature_closure, jet_masses, mass_spectrum, sic_curves, signal_fraction};
use crate::protocol::{Command, HuntCommand, StepUnit};
use anomaly_engine::resonance::rnd_v2::SIGNAL_REGION;

#[component]
pub fn HuntSection() -> impl IntoView {
    let state = expect_context::<Playground>();
    view! {
        <div class="layout hunt-view" id="hunt-view" hidden=move || state.view.get() != View::Hunt>
            <section class="controls" aria-labelledby="hunt-controls-title">
                <h2 id="hunt-controls-title">"Hunt a resonance"</h2>
                <p class="hint">
                    "A new particle decaying to two jets would show up as a small bump in the dijet mass m_jj, hidden under a huge falling background. "
                    "The events here are a toy (\"R&D v2\", built from formulas so that the truth is known exactly), not a detector simulation."
                </p>
                <HuntControls/>
                <HuntStatus/>
            </section>
            <section class="results" id="hunt-results" aria-labelledby="hunt-results-title" tabindex="-1">
                <h2 id="hunt-results-title">"What the hunt found"</h2>
                <div class="panels">
                    <SpectrumPanel/>
                    <ClosurePanel/>
                    <FractionPanel/>
                    <SicPanel/>
                    <SamplesPanel/>
                    <AfterCutPanel/>
                </div>
            </section>
        </div>
    }
}

#[component]
fn HuntControls() -> impl IntoView {
    let state = expect_context::<Playground>();
    let hunt = state.hunt;
    let busy = move || matches!(hunt.phase.get(), HuntPhase::Starting | HuntPhase::Running);
    let listening = move || state.worker_listening.get();
    let start = move |_| {
        hunt.request.begin(hunt.phase, HuntPhase::Starting);
        send(state, &Command::Hunt(HuntCommand::Start { settings: hunt.settings() }));
    };
    let pause = move |_| send(state, &Command::Hunt(HuntCommand::Pause));
    let resume = move |_| {
        hunt.request.begin(hunt.phase, HuntPhase::Running);
        send(state, &Command::Hunt(HuntCommand::Resume));
    };
    let step = move |_| send(state, &Command::Hunt(HuntCommand::Step { unit: StepUnit::Epoch }));
    let (low, high, step_size) = SIGNAL_SLIDER;
    let on_signal = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Ok(n) = input.value().parse::<usize>() {
            hunt.signal_events.set(n.clamp(low, high));
        }
    };
    let on_seed = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        match input.value().trim().parse::<u64>() {
            Ok(seed) if SEEDS.contains(&seed) => {
                hunt.seed.set(seed);
                hunt.notice.set(None);
            }
            _ => hunt.notice.set(Some("The seed must be a whole number from 1 to 1,000,000; the hunt keeps the last good one.".into())),
        }
    };
    let share = move || {
        let n = hunt.signal_events.get();
        let share = n as f64 / (n + PAGE_BACKGROUND_EVENTS) as f64;
        format!("{} signal events in {} background events ({:.2}% of all events)", thousands(n), thousands(PAGE_BACKGROUND_EVENTS), 100.0 * share)
    };
    view! {
        <form class="settings" on:submit=|ev| ev.prevent_default() novalidate>
            <fieldset disabled=busy>
                <legend>"The data"</legend>
                <label for="hunt-signal">"Injected signal events"</label>
                <input type="range" id="hunt-signal" min=low max=high step=step_size prop:value=move || hunt.signal_events.get().to_string()
                    on:input=on_signal aria-describedby="hunt-signal-share"/>
                <p class="hint" id="hunt-signal-share">{share}</p>
                <label for="hunt-seed">"Seed (1–1,000,000)"</label>
                <input type="number" id="hunt-seed" min="1" max="1000000" inputmode="numeric" prop:value=move || hunt.seed.get().to_string() on:change=on_seed/>
            </fieldset>
        </form>
        <div class="buttons">
            <button type="button" id="hunt-start" class="primary" disabled=move || busy() || !listening() on:click=start>
                {move || if hunt.started.with(Option::is_some) { "Start a new hunt" } else { "Start the hunt" }}
            </button>
            <button type="button" id="hunt-pause" disabled=move || hunt.phase.get() != HuntPhase::Running on:click=pause>"Pause"</button>
            <button type="button" id="hunt-resume" disabled=move || hunt.phase.get() != HuntPhase::Paused on:click=resume>"Resume"</button>
            <button type="button" id="hunt-step" disabled=move || hunt.phase.get() != HuntPhase::Paused on:click=step>"Step one epoch"</button>
        </div>
        <label class="check"><input type="checkbox" id="hunt-reveal" prop:checked=move || hunt.reveal.get()
            on:change=move |ev| hunt.reveal.set(event_target::<web_sys::HtmlInputElement>(&ev).checked())/>"Reveal the truth (where the injected signal is)"</label>
    }
}

#[component]
fn HuntStatus() -> impl IntoView {
    let state = expect_context::<Playground>();
    let hunt = state.hunt;
    let fits = move || hunt.started.with(|s| s.as_ref().map_or(0, |s| s.fits.len()));
    let text = move || match hunt.phase.get() {
        HuntPhase::Idle if !state.worker_listening.get() => "Starting the worker that trains the models…".to_string(),
        HuntPhase::Idle => "Choose a signal count and start the hunt. It trains four small models, one after the other.".to_string(),
        HuntPhase::Starting => "Generating the events…".to_string(),
        HuntPhase::Finished => format!("The hunt is done ({:.0} s).", hunt.seconds.get().unwrap_or(0.0)),
        phase => {
            let epochs_done = hunt.curves.progress.with(|p| p.as_ref().map(|p| p.epochs_done));
            let sentence = hunt.fit.with(|f| progress_sentence(f.as_ref(), fits(), epochs_done));
            if phase == HuntPhase::Paused { format!("Paused. {sentence}") } else { sentence }
        }
    };
    let bar = move || {
        let fit = hunt.fit.get()?;
        let within = hunt.curves.progress.with(|p| p.as_ref().map_or(0.0, |p| p.total_steps as f64 / (p.epochs * p.steps_per_epoch).max(1) as f64));
        Some(((fit.index as f64 + within.min(1.0)) / fits().max(1) as f64).min(1.0))
    };
    view! {
        <div class="status" role="status" aria-live="polite">
            <p id="hunt-status">{text}</p>
            {move || bar().map(|f| view! { <progress id="hunt-progress" max="1" value=f.to_string() aria-label="The hunt's progress"></progress> })}
        </div>
        <p class="notice" id="hunt-notice" role="alert" hidden=move || hunt.notice.with(Option::is_none)>{move || hunt.notice.get()}</p>
    }
}

#[component]
fn SpectrumPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let hunt = state.hunt;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "spectrum", move |c| {
        let reveal = hunt.reveal.get();
        hunt.started.with(|s| s.as_ref().map_or(Ok(()), |s| mass_spectrum(c, &s.spectrum, "all events", SIGNAL_REGION, reveal, None)))
    });
    let caption = move || {
        hunt.started.with(|s| match s {
            Some(s) => {
                let mut text = format!(
                    "{} events; {} of them in the signal region ({:.1}–{:.1} TeV, shaded). No bump can be seen by eye.",
                    thousands(s.spectrum.all.iter().map(|&c| c as usize).sum()),
                    thousands(s.signal_region_events),
                    SIGNAL_REGION.0,
                    SIGNAL_REGION.1
                );
                if hunt.reveal.get() {
                    text += &format!(" The truth: {} injected signal events are in the signal region, a share w = {:.2}%.", thousands(s.injected), 100.0 * s.true_w);
                }
                text
            }
            None => "The dijet mass spectrum appears here when the hunt starts.".to_string(),
        })
    };
    view! {
        <figure class="panel" id="hunt-spectrum">
            <h3>"The data: the dijet mass spectrum"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption>{caption}</figcaption>
            <p class="explain">"The signal region is where the new particle (3.5 TeV in this toy) would be; the sidebands on either side hold almost only background, so a model of the background can be learned there and carried into the signal region."</p>
        </figure>
    }
}

const UNITS: [&str; 4] = ["(TeV)", "(TeV)", "", ""];

#[component]
fn ClosurePanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let hunt = state.hunt;
    let canvases: [NodeRef<leptos::html::Canvas>; 4] = std::array::from_fn(|_| NodeRef::new());
    for (k, canvas) in canvases.iter().enumerate() {
        redraw(*canvas, "closure", move |c| hunt.closure.with(|v| v.as_ref().and_then(|v| v.features.get(k)).map_or(Ok(()), |f| feature_closure(c, f, UNITS[k]))));
    }
    let caption = move || {
        hunt.closure.with(|v| match v {
            Some(v) => format!(
                "The background model, trained only on the sidebands, misses the true background density in the signal region by {:.3} ± {:.3} nats per event (0 would be perfect). {}",
                v.gap_nats,
                v.standard_error,
                if v.gap_nats.abs() < 0.02 { "That is a close match." } else { "The gap is above the 0.02 nats a careful search aims for: more events or epochs would close it." }
            ),
            None => "After the first fit, each feature in the signal region for the data, the sideband model and the true background.".to_string(),
        })
    };
    view! {
        <figure class="panel wide" id="hunt-closure">
            <h3>"Learning the background from the sidebands"</h3>
            <div class="small-multiples">
                {canvases.into_iter().enumerate().map(|(k, canvas)| {
                    let label = move || hunt.closure.with(|v| v.as_ref().and_then(|v| v.features.get(k)).map_or_else(
                        || format!("Feature {} of the closure panel: drawn after the background flow is trained.", k + 1),
                        |f| format!("The share of signal-region events against {}: data, sideband model and true background.", f.feature)));
                    view! { <canvas node_ref=canvas class="chart small" role="img" aria-label=label></canvas> }
                }).collect_view()}
            </div>
            <figcaption id="hunt-closure-caption">{caption}</figcaption>
            <p class="explain">"A conditional normalizing flow learns p(features | m_jj) in the sidebands. The features are the lighter jet's mass m_j1, the mass difference Δm_j and the two jets' τ21; the toy's jet masses grow with m_jj, so the model must interpolate into the signal region."</p>
        </figure>
    }
}

#[component]
fn FractionPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let hunt = state.hunt;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let true_w = move || hunt.started.with(|s| s.as_ref().map_or(0.0, |s| s.true_w));
    redraw(canvas, "signal fraction", move |c| {
        let w = true_w();
        hunt.fractions.with(|f| if f.is_empty() { Ok(()) } else { signal_fraction(c, f, w) })
    });
    let caption = move || {
        hunt.fractions.with(|f| match f.last() {
            Some(&(epoch, w)) => {
                let truth = true_w();
                let ratio = if truth > 0.0 { format!(", {:.1}× the truth ({:.2}%)", w / truth, 100.0 * truth) } else { " (no signal was injected)".to_string() };
                format!("After epoch {epoch}, R-ANODE puts w = {:.2}% of the signal-region events in its signal model{ratio}.", 100.0 * w)
            }
            None => "R-ANODE's signal fraction w appears here while it trains.".to_string(),
        })
    };
    view! {
        <figure class="panel" id="hunt-fraction">
            <h3>"R-ANODE's signal fraction"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id="hunt-fraction-caption">{caption}</figcaption>
            <p class="explain">"R-ANODE keeps the background model fixed and fits only what it does not explain: the data as w·(signal) + (1 − w)·(background), learning w as it goes."</p>
        </figure>
    }
}

#[component]
fn SicPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let hunt = state.hunt;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let all = move || {
        let mut curves = hunt.taggers.get();
        if let Some(optimal) = hunt.started.with(|s| s.as_ref().map(|s| s.optimal.clone())) {
            curves.insert(0, optimal);
        }
        curves
    };
    redraw(canvas, "SIC curves", move |c| {
        let curves = all();
        if curves.len() < 2 {
            return Ok(());
        }
        let named: Vec<(String, &[(f64, f64)])> = curves.iter().map(|t| (format!("{} ({:.1})", t.name, t.figures.max_sic), t.curve.as_slice())).collect();
        sic_curves(c, &named)
    });
    let caption = move || {
        let curves = all();
        if curves.len() < 2 {
            return "Each tagger's significance improvement appears here once it is trained.".to_string();
        }
        let best: Vec<String> = curves.iter().map(|t| format!("{} {:.1}", t.name, t.figures.max_sic)).collect();
        format!("The best significance improvement of each tagger on an independent test set: {}.", best.join(", "))
    };
    view! {
        <figure class="panel wide" id="hunt-sic">
            <h3>"How much each tagger sharpens the bump"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id="hunt-sic-caption">{caption}</figcaption>
            <table class="auc-table" id="hunt-taggers" hidden=move || all().len() < 2>
                <caption>"Maximum SIC (cuts keeping at least 25 test background events), the signal kept there, and the AUC"</caption>
                <thead><tr><th scope="col">"Tagger"</th><th scope="col">"max SIC"</th><th scope="col">"ε_S at max"</th><th scope="col">"AUC"</th></tr></thead>
                <tbody>
                    {move || all().into_iter().map(|t| view! {
                        <tr><th scope="row">{t.name.clone()}</th><td>{format!("{:.2}", t.figures.max_sic)}</td>
                        <td>{format!("{:.2}", t.figures.max_sic_signal_efficiency)}</td><td>{format!("{:.3}", t.figures.auc)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="explain">"SIC = ε_S/√ε_B: by how much a cut on the score multiplies the significance of the signal. The optimal tagger uses the toy's true densities, which a real search never has; the idealized detector learns from a perfect background sample, a ceiling for density-ratio methods. The paper (arXiv:2312.11629) found R-ANODE well above ANODE at low signal counts. Ours is not there yet: at the paper's scale (a million background events, 300 signal events) our R-ANODE with w learned failed in 4 of 5 seeds, because its signal model can settle on the few events our background model gets most wrong. The README has the numbers."</p>
        </figure>
    }
}

#[component]
fn SamplesPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let hunt = state.hunt;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "signal samples", move |c| {
        let reveal = hunt.reveal.get();
        hunt.samples.with(|s| s.as_ref().map_or(Ok(()), |(drawn, truth)| jet_masses(c, drawn, truth, reveal)))
    });
    let caption = move || {
        hunt.samples.with(|s| match s {
            Some((drawn, _)) => {
                let near = drawn.lighter.iter().zip(&drawn.heavier).filter(|(&l, &h)| (l - 100.0).abs() < 50.0 && (h - 500.0).abs() < 120.0).count();
                format!(
                    "{} events drawn from R-ANODE's signal model; {:.0}% of them lie near (100, 500) GeV, where the toy's signal jets are.",
                    thousands(drawn.lighter.len()),
                    100.0 * near as f64 / drawn.lighter.len().max(1) as f64
                )
            }
            None => "Events imagined by R-ANODE's signal model appear here once it is trained.".to_string(),
        })
    };
    view! {
        <figure class="panel" id="hunt-samples">
            <h3>"What R-ANODE thinks the signal looks like"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id="hunt-samples-caption">{caption}</figcaption>
            <p class="explain">"A flow can be run backwards to draw new events. In the toy the new particle decays to jets of 100 and 500 GeV, so a signal model that found it draws a blob there."</p>
        </figure>
    }
}

#[component]
fn AfterCutPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let hunt = state.hunt;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "after the cut", move |c| {
        let reveal = hunt.reveal.get();
        hunt.after_cut.with(|a| a.as_ref().map_or(Ok(()), |a| mass_spectrum(c, &a.after, "events passing the cut", SIGNAL_REGION, reveal, Some((&a.before, "all events")))))
    });
    let caption = move || {
        hunt.after_cut.with(|a| match a {
            Some(a) => {
                let (low, high) = SIGNAL_REGION;
                let (before, signal_before) = a.before.counts_within(low, high);
                let (after, _) = a.after.counts_within(low, high);
                let expected = a.background_efficiency * (before - signal_before) as f64;
                format!(
                    "A cut on the R-ANODE score that keeps {:.0}% of the background leaves {} of the signal region's {} events. Background alone would leave about {:.0} (known here because the toy says which events are background), so the other {} or so are the signal the tagger found. Outside the signal region the cut keeps almost nothing: the tagger was trained for this window only (a real search slides the window along m_jj).",
                    100.0 * a.background_efficiency,
                    thousands(after as usize),
                    thousands(before as usize),
                    expected,
                    thousands((after as f64 - expected).max(0.0).round() as usize)
                )
            }
            None => "The spectrum after a cut on the R-ANODE score appears here at the end of the hunt.".to_string(),
        })
    };
    view! {
        <figure class="panel wide" id="hunt-after-cut">
            <h3>"The bump after the cut"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id="hunt-after-cut-caption">{caption}</figcaption>
        </figure>
    }
}
