//! "Jet images": the inverted task of Finke et al. (arXiv:2104.09051) on toy jets. An autoencoder trained
//! on QCD jets tags top jets; trained on top jets it fails to tag QCD jets, because its error follows how
//! complex an image is. The worker runs the study; these components render [`state::JetState`] and send
//! the visitor's choices.

pub mod state;

use leptos::prelude::*;

use self::state::{progress_sentence, table_verdict, JetPhase};
use super::loss::redraw;
use super::state::{Playground, View};
use super::table::event_target;
use super::thousands;
use super::worker_link::send;
use crate::plots::charts::roc_curves;
use crate::plots::jets::{complexity_scatter, jet_image, jet_particles, scale_gradient, Complexity, DIRECTIONS, LOG_FLOOR};
use crate::protocol::{Command, JetCommand, StepUnit};
use anomaly_engine::jets::panels::{DirectionPanel, PreprocessingSteps};
use anomaly_engine::jets::particles::JetClass;
use anomaly_state::jets::{JetModel, KAPPA_SLIDER, SEEDS, TEST_JETS, TRAIN_SLIDER};

#[component]
pub fn JetSection() -> impl IntoView {
    let state = expect_context::<Playground>();
    view! {
        <div class="layout jets-view" id="jets-view" hidden=move || state.view.get() != View::Jets>
            <section class="controls" aria-labelledby="jets-controls-title">
                <h2 id="jets-controls-title">"Jet images: the inverted task"</h2>
                <p class="hint">
                    "A jet is a spray of particles from one quark or gluon, or from a heavy particle such as a top quark decaying to three. "
                    "Drawn as a 40 × 40 picture of where its energy landed, it can be fed to an autoencoder like a digit. "
                    "The jets here are a toy (built from simple formulas), not a detector simulation."
                </p>
                <JetControls/>
                <JetStatus/>
            </section>
            <section class="results" id="jets-results" aria-labelledby="jets-results-title" tabindex="-1">
                <h2 id="jets-results-title">"What the autoencoders found"</h2>
                <div class="panels">
                    <ImagesPanel/>
                    <StepsPanel/>
                    <AucPanel/>
                    <DirectionChoice/>
                    <RocPanel/>
                    <ReconstructionPanel/>
                    <ComplexityPanel/>
                </div>
            </section>
        </div>
    }
}

#[component]
fn JetControls() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let busy = move || matches!(jets.phase.get(), JetPhase::Starting | JetPhase::Running);
    let listening = move || state.worker_listening.get();
    let start = move |_| {
        let choice = jets.choice.get_untracked();
        jets.request.begin(jets.phase, JetPhase::Starting);
        send(state, &Command::Jets(JetCommand::Start { settings: choice.settings() }));
    };
    let pause = move |_| send(state, &Command::Jets(JetCommand::Pause));
    let resume = move |_| {
        jets.request.begin(jets.phase, JetPhase::Running);
        send(state, &Command::Jets(JetCommand::Resume));
    };
    let step = move |_| send(state, &Command::Jets(JetCommand::Step { unit: StepUnit::Epoch }));
    let (k_low, k_high, k_step) = KAPPA_SLIDER;
    let on_kappa = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Ok(kappa) = input.value().parse::<f64>() {
            // The slider's steps are hundredths; rounding keeps 0.15 from reading 0.15000000000000002.
            jets.choice.update(|c| c.kappa = ((kappa * 100.0).round() / 100.0).clamp(k_low, k_high));
        }
    };
    let (t_low, t_high, t_step) = TRAIN_SLIDER;
    let on_train = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Ok(n) = input.value().parse::<usize>() {
            jets.choice.update(|c| c.train_jets = n.clamp(t_low, t_high));
        }
    };
    let on_seed = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        match input.value().trim().parse::<u64>() {
            Ok(seed) if SEEDS.contains(&seed) => {
                jets.choice.update(|c| c.seed = seed);
                jets.notice.set(None);
            }
            _ => jets.notice.set(Some("The seed must be a whole number from 1 to 1,000,000; the study keeps the last good one.".into())),
        }
    };
    let model_option = move |model: JetModel, label: &'static str, hint: &'static str| {
        let id = format!("jets-model-{}", model.key());
        view! {
            <div class="choice">
                <input type="radio" name="jets-model" id=id.clone() prop:checked=move || jets.choice.get().model == model
                    on:change=move |_| jets.choice.update(|c| c.model = model)/>
                <label for=id>{label}<span class="hint">{hint}</span></label>
            </div>
        }
    };
    let kappa_text = move || {
        let kappa = jets.choice.get().kappa;
        let effect = if kappa < 1.0 {
            "below 1 lifts the soft pixels, so an image's many faint particles count more"
        } else if kappa > 1.0 {
            "above 1 sharpens the hardest pixels further"
        } else {
            "κ = 1 leaves the images as they are, so only κ = 1 trains"
        };
        format!("κ = {kappa:.2}: {effect}. Each pixel p becomes p^κ / Σ p^κ, and κ = 1 always trains too, for comparison.")
    };
    let plan_text = move || {
        let choice = jets.choice.get();
        let models = 2 * choice.kappas().len();
        format!(
            "{} training and {} test jets of each class; {models} autoencoders of {} epochs each, one after the other.",
            thousands(choice.train_jets),
            thousands(TEST_JETS),
            choice.model.epochs()
        )
    };
    view! {
        <form class="settings" on:submit=|ev| ev.prevent_default() novalidate>
            <fieldset disabled=busy>
                <legend>"The autoencoder"</legend>
                {model_option(JetModel::Dense, "Dense (1600-128-32-128-1600)", " Trains the whole study in under a minute.")}
                {model_option(JetModel::Conv, "Convolutional (3 × 3 convolutions, pooling, a dense bottleneck)", " About ten times slower per jet: a minute or more.")}
            </fieldset>
            <fieldset disabled=busy>
                <legend>"The study"</legend>
                <label for="jets-kappa">"Intensity exponent κ"</label>
                <input type="range" id="jets-kappa" min=k_low max=k_high step=k_step prop:value=move || jets.choice.get().kappa.to_string()
                    on:input=on_kappa aria-describedby="jets-kappa-text"/>
                <p class="hint" id="jets-kappa-text">{kappa_text}</p>
                <label for="jets-train">"Training jets of each class"</label>
                <input type="range" id="jets-train" min=t_low max=t_high step=t_step prop:value=move || jets.choice.get().train_jets.to_string()
                    on:input=on_train aria-describedby="jets-plan"/>
                <p class="hint" id="jets-plan">{plan_text}</p>
                <label for="jets-seed">"Seed (1–1,000,000)"</label>
                <input type="number" id="jets-seed" min="1" max="1000000" inputmode="numeric" prop:value=move || jets.choice.get().seed.to_string() on:change=on_seed/>
            </fieldset>
        </form>
        <div class="buttons">
            <button type="button" id="jets-start" class="primary" disabled=move || busy() || !listening() on:click=start>
                {move || if jets.intro.with(Option::is_some) { "Start a new study" } else { "Train both directions" }}
            </button>
            <button type="button" id="jets-pause" disabled=move || jets.phase.get() != JetPhase::Running on:click=pause>"Pause"</button>
            <button type="button" id="jets-resume" disabled=move || jets.phase.get() != JetPhase::Paused on:click=resume>"Resume"</button>
            <button type="button" id="jets-step" disabled=move || jets.phase.get() != JetPhase::Paused on:click=step>"Step one epoch"</button>
        </div>
    }
}

#[component]
fn JetStatus() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let runs = move || jets.runs.with(Vec::len);
    let text = move || match jets.phase.get() {
        JetPhase::Idle if !state.worker_listening.get() => "Starting the worker that trains the models…".to_string(),
        JetPhase::Idle => "Choose κ and press the button: an autoencoder learns QCD jets, another learns top jets, and each tries to spot the other class.".to_string(),
        JetPhase::Starting => "Making the jets…".to_string(),
        JetPhase::Finished => format!("The study is done ({:.0} s).", jets.seconds.get().unwrap_or(0.0)),
        phase => {
            let epochs_done = jets.curves.progress.with(|p| p.as_ref().map(|p| p.epochs_done));
            let sentence = jets.run.with(|r| progress_sentence(r.as_ref(), runs(), epochs_done));
            if phase == JetPhase::Paused { format!("Paused. {sentence}") } else { sentence }
        }
    };
    let bar = move || {
        let run = jets.run.get()?;
        let within = jets.curves.progress.with(|p| p.as_ref().map_or(0.0, |p| p.total_steps as f64 / (p.epochs * p.steps_per_epoch).max(1) as f64));
        Some(((run.index as f64 + within.min(1.0)) / runs().max(1) as f64).min(1.0))
    };
    view! {
        <div class="status" role="status" aria-live="polite">
            <p id="jets-status">{text}</p>
            {move || bar().map(|f| view! { <progress id="jets-progress" max="1" value=f.to_string() aria-label="The study's progress"></progress> })}
        </div>
        <p class="notice" id="jets-notice" role="alert" hidden=move || jets.notice.with(Option::is_none)>{move || jets.notice.get()}</p>
    }
}

/// A jet image on a canvas with its caption; `label` is also the canvas's text alternative.
fn image_figure(pixels: Signal<Option<Vec<f32>>>, label: Signal<String>) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "jet image", move |c| {
        pixels.with(|p| if let Some(p) = p { jet_image(c, p) });
        Ok(())
    });
    view! {
        <figure class="jet-figure">
            <canvas node_ref=canvas class="jet-image" role="img" aria-label=label></canvas>
            <figcaption>{label}</figcaption>
        </figure>
    }
}

#[component]
fn ColourKey() -> impl IntoView {
    view! {
        <div class="colour-key" aria-hidden="true">
            <span>{format!("{LOG_FLOOR:.0e}")}</span><span class="gradient" style=format!("background: {}", scale_gradient())></span><span>"1"</span>
        </div>
        <p class="hint">"Colour: the share of the jet's transverse momentum in a pixel, on a log scale from 1 in 10,000 (dark purple) to all of it (yellow); white is empty."</p>
    }
}

#[component]
fn ImagesPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let figures = move || {
        jets.intro.with(|intro| {
            let Some(intro) = intro else { return Vec::new() };
            let mut figures = Vec::new();
            for example in &intro.examples {
                let label = format!("One {} jet (mass {:.0} GeV): {} lit pixels.", example.class.name(), example.mass, example.image.lit());
                figures.push((example.image.dense(), label));
            }
            for average in &intro.averages {
                let label = format!("The average of {} {} jets at κ = {}.", thousands(intro.train_jets), average.class.name(), average.kappa);
                figures.push((average.image.clone(), label));
            }
            figures
        })
    };
    let caption = move || {
        jets.intro.with(|intro| match intro {
            Some(intro) => format!(
                "A QCD jet lights {:.0} pixels on average and a top jet {:.0}, but a QCD jet puts most of its energy in one pixel, while a top jet spreads it over three prongs.",
                intro.mean_lit[0], intro.mean_lit[1]
            ),
            None => "Example and average images of each class appear here when the study starts.".to_string(),
        })
    };
    view! {
        <figure class="panel wide" id="jets-images">
            <h3>"What a jet image is"</h3>
            <ColourKey/>
            <div class="jet-gallery">
                {move || figures().into_iter().map(|(pixels, label)| image_figure(Signal::derive(move || Some(pixels.clone())), Signal::derive(move || label.clone()))).collect_view()}
            </div>
            <figcaption id="jets-images-caption">{caption}</figcaption>
        </figure>
    }
}

#[component]
fn StepsPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let class = RwSignal::new(JetClass::Top);
    let steps = move || jets.intro.with(|i| i.as_ref().and_then(|i| i.examples.iter().find(|e| e.class == class.get()).cloned()));
    let canvases: [NodeRef<leptos::html::Canvas>; 4] = std::array::from_fn(|_| NodeRef::new());
    for (k, canvas) in canvases.iter().enumerate() {
        redraw(*canvas, "preprocessing step", move |c| steps().map_or(Ok(()), |s| jet_particles(c, &s.particles[k])));
    }
    let image = Signal::derive(move || steps().map(|s| s.image.dense()));
    let image_label = Signal::derive(move || format!("5. {}: the image the autoencoder sees.", PreprocessingSteps::STEP_NAMES[4]));
    let choose = move |value: JetClass| {
        let id = format!("jets-steps-{}", value.name().to_lowercase());
        view! {
            <input type="radio" name="jets-steps-class" id=id.clone() prop:checked=move || class.get() == value on:change=move |_| class.set(value)/>
            <label for=id>{format!("a {} jet", value.name())}</label>
        }
    };
    view! {
        <figure class="panel wide" id="jets-steps">
            <h3>"From particles to a picture, step by step"</h3>
            <div class="choice-row" role="radiogroup" aria-label="Which jet to follow">{choose(JetClass::Top)}{choose(JetClass::Qcd)}</div>
            <div class="small-multiples">
                {canvases.into_iter().enumerate().map(|(k, canvas)| {
                    let label = move || match steps() {
                        Some(s) => format!("{}. {}: {} particles of a {} jet; disc area follows each particle's share of the jet's momentum.", k + 1, PreprocessingSteps::STEP_NAMES[k], s.particles[k].len(), s.class.name()),
                        None => format!("{}. {}: drawn when the study starts.", k + 1, PreprocessingSteps::STEP_NAMES[k]),
                    };
                    view! { <figure><canvas node_ref=canvas class="chart small" role="img" aria-label=label></canvas><figcaption>{label}</figcaption></figure> }
                }).collect_view()}
                {image_figure(image, image_label)}
            </div>
            <p class="explain">"Every jet is moved so its momentum-weighted centre sits in the middle, turned so its main axis points up, and flipped so its heavier half is on the right and on top. Then its momentum is binned in 40 × 40 pixels over (−0.8, 0.8) in η and φ, and the pixels are scaled to sum to 1. Afterwards, jets differ only in their shape."</p>
        </figure>
    }
}

fn auc_cell(auc: Option<f64>) -> String {
    auc.map_or("…".to_string(), |a| format!("{a:.3}"))
}

#[component]
fn AucPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let verdict = move || jets.table.with(|rows| table_verdict(rows)).unwrap_or_else(|| "The AUC of each direction appears here as its model finishes.".to_string());
    view! {
        <figure class="panel wide" id="jets-auc">
            <h3>"Judge both directions"</h3>
            <table class="auc-table" id="jets-auc-table" hidden=move || jets.table.with(Vec::is_empty)>
                <caption>"AUC of telling the other class from the class trained on (0.5 is a blind guess; below 0.5 the model ranks the other class as more normal)"</caption>
                <thead><tr><th scope="col">"κ"</th><th scope="col">"trained on QCD, tags top"</th><th scope="col">"trained on top, tags QCD"</th><th scope="col">"weaker direction"</th></tr></thead>
                <tbody>
                    {move || jets.table.get().into_iter().map(|row| view! {
                        <tr><th scope="row">{row.kappa.to_string()}</th><td>{auc_cell(row.qcd_trained_tags_top)}</td>
                        <td>{auc_cell(row.top_trained_tags_qcd)}</td><td>{auc_cell(row.weaker())}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p id="jets-verdict">{verdict}</p>
            <p class="explain">"A good anomaly detector should find the other class whichever class it learned. Finke et al. (arXiv:2104.09051) found that an autoencoder trained on QCD jets finds tops, but one trained on tops does not find QCD jets: it reconstructs the simpler QCD images even better than the tops it learned. So a setting is judged by its weaker direction. With the dense autoencoder our toy shows the same; our small convolutional one does not fail at κ = 1, unlike the paper's (the README has the numbers)."</p>
        </figure>
    }
}

#[component]
fn DirectionChoice() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let on_change = move |ev: leptos::ev::Event| {
        let select: web_sys::HtmlSelectElement = event_target(&ev);
        jets.shown.set(select.value().parse::<usize>().ok());
    };
    view! {
        <div class="panel wide direction-choice" hidden=move || jets.panels.with(Vec::is_empty)>
            <label for="jets-shown">"Show the details of the model "</label>
            <select id="jets-shown" on:change=on_change>
                <option value="latest" selected=move || jets.shown.get().is_none()>"latest finished"</option>
                {move || jets.panels.with(|p| p.iter().enumerate().map(|(i, panel)| {
                    let name = anomaly_engine::jets::study::direction_name(panel.trained_on, panel.kappa);
                    view! { <option value=i.to_string() selected=move || jets.shown.get() == Some(i)>{name}</option> }
                }).collect_view())}
            </select>
        </div>
    }
}

/// The two directions at the κ of the panel shown, QCD-trained first.
fn directions_at(panels: &[DirectionPanel], kappa: f64) -> Vec<DirectionPanel> {
    let mut at: Vec<DirectionPanel> = panels.iter().filter(|p| p.kappa == kappa).cloned().collect();
    at.sort_by_key(|p| p.trained_on != JetClass::Qcd);
    at
}

#[component]
fn RocPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let shown = move || jets.shown_panel().map(|p| jets.panels.with(|all| directions_at(all, p.kappa)));
    redraw(canvas, "jet ROC curves", move |c| {
        let Some(panels) = shown() else { return Ok(()) };
        let curves: Vec<_> = panels.iter().map(|p| (&p.roc, format!("trained on {}, tags {} (AUC {:.3})", p.trained_on.name(), p.trained_on.other().name(), p.auc))).collect();
        roc_curves(c, &curves, &DIRECTIONS)
    });
    let caption = move || match shown() {
        Some(panels) => {
            let parts: Vec<String> = panels.iter().map(|p| format!("trained on {} jets, the other class is found with AUC {:.3}", p.trained_on.name(), p.auc)).collect();
            format!("ROC curves at κ = {}: {}. A curve under the diagonal means the model finds the other class more normal than its own.", panels[0].kappa, parts.join("; "))
        }
        None => "The ROC curves of both directions appear here as their models finish.".to_string(),
    };
    view! {
        <figure class="panel" id="jets-roc">
            <h3>"Both directions, threshold by threshold"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id="jets-roc-caption">{caption}</figcaption>
        </figure>
    }
}

#[component]
fn ReconstructionPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let pairs = move || {
        jets.shown_panel().map_or_else(Vec::new, |panel| {
            panel
                .examples
                .iter()
                .map(|e| {
                    let whose = if e.class == panel.trained_on { "the class it learned" } else { "the other class" };
                    (
                        e.input.clone(),
                        format!("A {} test jet ({whose}) as the model saw it at κ = {}.", e.class.name(), panel.kappa),
                        e.output.clone(),
                        format!("Its reconstruction: error {:.3}.", e.error),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let caption = move || match jets.shown_panel() {
        Some(p) => format!(
            "The model {}: mean reconstruction error {:.3} on its own class's test jets and {:.3} on the other class's. An anomaly detector needs the second to be larger.",
            anomaly_engine::jets::study::direction_name(p.trained_on, p.kappa),
            p.mean_error[0],
            p.mean_error[1]
        ),
        None => "Inputs beside their reconstructions appear here as each model finishes.".to_string(),
    };
    view! {
        <figure class="panel" id="jets-reconstructions">
            <h3>"Inputs beside reconstructions"</h3>
            <div class="jet-gallery">
                {move || pairs().into_iter().map(|(input, input_label, output, output_label)| view! {
                    {image_figure(Signal::derive(move || Some(input.clone())), Signal::derive(move || input_label.clone()))}
                    {image_figure(Signal::derive(move || Some(output.clone())), Signal::derive(move || output_label.clone()))}
                }).collect_view()}
            </div>
            <figcaption id="jets-reconstructions-caption">{caption}</figcaption>
            <p class="explain">"The log colour scale shows even a ten-thousandth of the jet's momentum, so the model's tiny outputs on pixels that should be empty show up as a faint speckle around the jet."</p>
        </figure>
    }
}

#[component]
fn ComplexityPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let jets = state.jets;
    let measures = [Complexity::LitPixels, Complexity::Concentration];
    let canvases: [NodeRef<leptos::html::Canvas>; 2] = std::array::from_fn(|_| NodeRef::new());
    for (canvas, measure) in canvases.iter().zip(measures) {
        redraw(*canvas, "error against complexity", move |c| jets.shown_panel().map_or(Ok(()), |p| complexity_scatter(c, &p.complexity, p.trained_on, measure)));
    }
    let caption = move || match jets.shown_panel() {
        Some(p) => {
            let (trained, other) = (p.trained_on.name(), p.trained_on.other().name());
            format!(
                "{} test jets of each class, model {}. Correlation of the error with lit pixels: {:+.2} within {trained} jets, {:+.2} within {other} jets; with concentration: {:+.2} and {:+.2}. {}",
                thousands(p.complexity.len() / 2),
                anomaly_engine::jets::study::direction_name(p.trained_on, p.kappa),
                p.lit_correlation[0],
                p.lit_correlation[1],
                p.concentration_correlation[0],
                p.concentration_correlation[1],
                if p.concentration_correlation.iter().map(|r| r.abs()).sum::<f64>() > p.lit_correlation.iter().map(|r| r.abs()).sum::<f64>() {
                    "In this toy the error follows how concentrated an image is more closely than how many pixels it lights."
                } else {
                    "Here the error follows the number of lit pixels more closely than concentration."
                }
            )
        }
        None => "Reconstruction error against two measures of an image's complexity appears here as each model finishes.".to_string(),
    };
    view! {
        <figure class="panel wide" id="jets-complexity">
            <h3>"The error follows complexity, not strangeness"</h3>
            <div class="small-multiples">
                {canvases.into_iter().zip(measures).map(|(canvas, measure)| {
                    let label = move || format!("Reconstruction error against {}, QCD jets as blue dots, top jets as orange triangles.", measure.axis());
                    view! { <canvas node_ref=canvas class="chart" role="img" aria-label=label></canvas> }
                }).collect_view()}
            </div>
            <figcaption id="jets-complexity-caption">{caption}</figcaption>
            <p class="explain">"The paper's explanation of the failure: an autoencoder reconstructs simple images well whatever it was trained on, so its error measures complexity. A QCD jet, one hard pixel and a faint spray, is simple; a top jet with three prongs is not. Rescaling with κ < 1 lifts the faint pixels and changes what counts as simple."</p>
        </figure>
    }
}
