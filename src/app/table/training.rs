//! How to train on the table: missing values, which rows to learn from, the model, and the Train and
//! Pause buttons with the run's status.

use leptos::prelude::*;

use super::percent;
use super::event_target;
use super::state::{TablePhase, TABLE_FIELD};
use crate::app::controls::{ModelFields, NumberField};
use crate::app::state::Playground;
use crate::app::{count_of, thousands};
use crate::app::worker_link::{send, send_file};
use crate::protocol::{Command, FilePurpose, TableCommand};
use anomaly_engine::table::prepare::{MissingPolicy, TableMethod, TrainOn, MAX_TRAINING_ROWS};

#[component]
pub fn TrainingChoices() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let has_file = move || table.info.with(Option::is_some);
    let locked = move || matches!(table.phase.get(), TablePhase::Training | TablePhase::Scoring(_));
    let missing = move || table.setup.with(|s| s.as_ref().map_or(MissingPolicy::DropRow, |s| s.missing));
    let train_on = move || table.setup.with(|s| s.as_ref().map_or(TrainOn::AllRows, |s| s.train_on));
    let has_label = move || table.setup.with(|s| s.as_ref().is_some_and(|s| s.label_column().is_some()));
    let set_missing = move |policy| table.setup.update(|s| if let Some(s) = s { s.missing = policy });
    let set_train_on = move |on| table.setup.update(|s| if let Some(s) = s { s.train_on = on });
    let method = move || table.setup.with(|s| s.as_ref().map_or(TableMethod::Autoencoder, |s| s.method));
    // A memo, so that the window's fields are rebuilt only when the method changes kind, never while the
    // visitor types in them (each keystroke changes the setup).
    let resonant = Memo::new(move |_| method().is_resonant());
    let set_method = move |m| table.setup.update(|s| if let Some(s) = s { s.method = m });
    let pick_background = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            send_file(state, FilePurpose::Background, &file);
        }
        input.set_value("");
    };
    view! {
        <form class="settings" on:submit=|ev| ev.prevent_default() novalidate hidden=move || !has_file()>
            <fieldset disabled=locked>
                <legend>"Method"</legend>
                <label class="check"><input type="radio" name="table-method" id="method-autoencoder" prop:checked=move || method() == TableMethod::Autoencoder
                    on:change=move |_| set_method(TableMethod::Autoencoder)/>"Autoencoder: anything unlike the training rows"</label>
                <label class="check"><input type="radio" name="table-method" id="method-anode" prop:checked=move || method() == TableMethod::Anode
                    on:change=move |_| set_method(TableMethod::Anode)/>"ANODE: a bump along a resonant column"</label>
                <label class="check"><input type="radio" name="table-method" id="method-ranode" prop:checked=move || method() == TableMethod::Ranode
                    on:change=move |_| set_method(TableMethod::Ranode)/>"R-ANODE: a bump along a resonant column, fitting only what the background does not explain"</label>
                {move || resonant.get().then(|| view! {
                    <p class="explain" id="resonant-help">"The background flow learns the features in the sidebands (rows outside the window) as a function of the resonant variable, then interpolates into the window. There ANODE compares a second flow of the window's rows with it; R-ANODE fits a small flow to the part it does not explain, and learns the signal's share w. Only the window's rows are scored. Unlike the paper, our R-ANODE on a table starts its signal flow from a flow of every row in the window and lets w move ten times faster: a short fit started at random never finds a signal far from the background's bulk. The paper's version, on a toy with the truth to compare: the \"Hunt a resonance\" view."</p>
                    <NumberField target=table.setup field="table_sr_low" label="Signal region from" range="any number below the high end".to_string()
                        get=|s| s.as_ref().and_then(|s| s.signal_region).map_or(String::new(), |w| w.0.to_string())
                        set=|s, v| {
                            let v: f64 = v.parse().map_err(|_| ())?;
                            if !v.is_finite() { return Err(()) }
                            if let Some(s) = s { s.signal_region = Some((v, s.signal_region.map_or(v, |w| w.1))); }
                            Ok(())
                        }/>
                    <NumberField target=table.setup field="table_sr_high" label="to" range="any number above the low end".to_string()
                        get=|s| s.as_ref().and_then(|s| s.signal_region).map_or(String::new(), |w| w.1.to_string())
                        set=|s, v| {
                            let v: f64 = v.parse().map_err(|_| ())?;
                            if !v.is_finite() { return Err(()) }
                            if let Some(s) = s { s.signal_region = Some((s.signal_region.map_or(v, |w| w.0), v)); }
                            Ok(())
                        }/>
                })}
            </fieldset>
            <fieldset disabled=locked>
                <legend>"Missing values"</legend>
                <label class="check"><input type="radio" name="missing" id="missing-drop" prop:checked=move || missing() == MissingPolicy::DropRow
                    on:change=move |_| set_missing(MissingPolicy::DropRow)/>"Drop rows with a missing feature (they get no score)"</label>
                <label class="check"><input type="radio" name="missing" id="missing-impute" prop:checked=move || missing() == MissingPolicy::Impute
                    on:change=move |_| set_missing(MissingPolicy::Impute)/>"Fill them with the training mean"</label>
            </fieldset>
            <fieldset disabled=locked>
                <legend>"Train on"</legend>
                {move || resonant.get().then(|| view! {
                    <p class="explain" id="train-on-sidebands">"ANODE and R-ANODE learn the background from this file's sidebands, with or without a label; the label, if any, only scores them."</p>
                })}
                <div hidden=move || resonant.get()>
                <label class="check"><input type="radio" name="train-on" id="train-all" prop:checked=move || train_on() == TrainOn::AllRows
                    on:change=move |_| set_train_on(TrainOn::AllRows)/>"All rows (unsupervised: signal included, if any)"</label>
                <label class="check"><input type="radio" name="train-on" id="train-background" disabled=move || !has_label()
                    prop:checked=move || train_on() == TrainOn::BackgroundRows
                    on:change=move |_| set_train_on(TrainOn::BackgroundRows)/>"Only rows the label calls background"</label>
                <label class="check"><input type="radio" name="train-on" id="train-other" prop:checked=move || train_on() == TrainOn::OtherFile
                    on:change=move |_| set_train_on(TrainOn::OtherFile)/>"A separate background file"</label>
                {move || (train_on() == TrainOn::OtherFile).then(|| view! {
                    <label class="file-button">
                        <input type="file" id="background-file" accept=".csv,.tsv,.txt,text/csv" on:change=pick_background/>
                        <span>{move || table.background.with(|b| match b {
                            Some(b) => format!("Background: {} ({}). Choose another…", b.file_name, count_of(b.rows, "row")),
                            None => "Choose the background file…".to_string(),
                        })}</span>
                    </label>
                })}
                </div>
                <NumberField target=table.setup field="table_validation" label="Validation share" range="0–0.5".to_string()
                    get=|s| s.as_ref().map_or(String::new(), |s| s.validation_fraction.to_string())
                    set=|s, v| { if let Some(s) = s { s.validation_fraction = v.parse().map_err(|_| ())?; } Ok(()) }/>
                <NumberField target=table.setup field="table_sample" label="Training sample (rows)" range=format!("{}–{}", MAX_TRAINING_ROWS.0, thousands(MAX_TRAINING_ROWS.1))
                    get=|s| s.as_ref().map_or(String::new(), |s| s.max_training_rows.to_string())
                    set=|s, v| { if let Some(s) = s { s.max_training_rows = v.parse().map_err(|_| ())?; } Ok(()) }/>
            </fieldset>
            <fieldset disabled=locked>
                <legend>{move || if resonant.get() {
                    "Model: masked autoregressive flows (4 blocks of 64 units; R-ANODE's signal flow 32)"
                } else {
                    "Model: a VAE with squared-error reconstruction"
                }}</legend>
                {move || resonant.get().then(|| view! {
                    <p class="explain" id="flow-settings-help">"The flows use the epochs (each fit trains this many), the batch size and the seed below, with their own learning rates (10⁻³, R-ANODE's 3·10⁻³); the VAE's other settings do not apply."</p>
                })}
                <ModelFields target=table.model prefix=TABLE_FIELD/>
                <label class="check" hidden=move || resonant.get()>
                    <input type="checkbox" id="table_score_with_kl"
                        prop:checked=move || table.model.with(|m| m.vae.score_with_kl)
                        on:change=move |ev| table.model.update(|m| m.vae.score_with_kl = event_target_checked(&ev))/>
                    "Add the KL term to the anomaly score"
                </label>
            </fieldset>
        </form>
        <TrainButtons/>
        <TableStatus/>
        <crate::app::link::SharePanel prefix="table-"/>
        <p class="hint">"The link carries the view, the simulated events' settings, and the column roles and model settings of the loaded table with a fingerprint of its header. The file itself never travels in a link: whoever opens it loads their own, and the roles come back if its header is the same."</p>
    }
}

#[component]
fn TrainButtons() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let phase = move || table.phase.get();
    let problems = move || {
        let mut problems: Vec<String> = state.table_problems().into_iter().map(|p| p.message).collect();
        let roles = table.info.with(|info| {
            let info = info.as_ref()?;
            table.setup.with(|s| s.as_ref().map(|s| s.problems_for(&info.columns)))
        });
        problems.extend(roles.unwrap_or_default());
        if table.setup.with(|s| s.as_ref().is_some_and(|s| s.train_on == TrainOn::OtherFile && !s.method.is_resonant())) && table.background.with(Option::is_none) {
            problems.push("Choose the background file to train on.".into());
        }
        problems
    };
    let ready = move || table.info.with(Option::is_some) && !matches!(phase(), TablePhase::Training | TablePhase::Scoring(_));
    let label = move || match phase() {
        TablePhase::Paused => "Resume",
        TablePhase::Done => "Train again",
        _ => "Train and score",
    };
    let train = move |_| {
        let Some(setup) = table.full_setup() else { return };
        table.notice.set(None);
        table.request.begin(table.phase, TablePhase::Training);
        send(state, &Command::Table(TableCommand::Train { setup }));
    };
    view! {
        <div class="run-buttons" role="group" aria-label="Training on the table">
            <button type="button" id="table-train" class="primary" disabled=move || !ready() || !problems().is_empty() on:click=train>{label}</button>
            <button type="button" id="table-pause" disabled=move || phase() != TablePhase::Training
                on:click=move |_| send(state, &Command::Table(TableCommand::Pause))>"Pause"</button>
            // Same weights, every row scored again: switch between WebGPU and the CPU and compare.
            {move || (phase() == TablePhase::Done && table.summary.with(|s| s.as_ref().is_some_and(|s| s.resonance.is_none()))).then(|| view! {
                <button type="button" id="table-rescore" title="Score every row again with the same trained model, on the backend chosen above"
                    on:click=move |_| {
                        table.notice.set(None);
                        table.request.begin(table.phase, TablePhase::Scoring(0.0));
                        send(state, &Command::Table(TableCommand::Rescore));
                    }>"Score again"</button>
            })}
            // The comparison sits under the results, far down for a wide table: this takes the visitor there.
            <button type="button" id="to-compare" disabled=move || !ready() on:click=move |_| go_to_comparison()>"Compare classical methods ↓"</button>
        </div>
        <ul class="problems" id="table-problems" aria-live="polite">
            {move || if table.info.with(Option::is_some) {
                problems().into_iter().filter(|p| !p.is_empty()).map(|p| view! { <li>{p}</li> }).collect_view().into_any()
            } else {
                ().into_any()
            }}
        </ul>
    }
}

#[component]
fn TableStatus() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let sentence = move || {
        let progress = table.curves.progress.get();
        match table.phase.get() {
            TablePhase::Idle => table.info.with(|i| if i.is_some() { "Choose the column roles, then train.".to_string() } else { String::new() }),
            TablePhase::Training => match progress {
                Some(p) => format!(
                    "Training: epoch {} of {}, {} rows per second, about {:.0} s left.",
                    (p.epochs_done + 1).min(p.epochs), p.epochs, thousands(p.samples_per_second as usize), p.seconds_left
                ),
                None => "Starting…".into(),
            },
            TablePhase::Paused => "Paused. Resume to go on training, or change the settings and train again.".into(),
            TablePhase::Scoring(fraction) => format!("Scoring every row: {} done.", percent(fraction)),
            TablePhase::Done => table.results.with(|r| r.as_ref().map_or(String::new(), |r| {
                format!("Done: {} scored{}{}.", count_of(r.scored_rows, "row"),
                    table.scored_on.get().map_or(String::new(), |b| format!(" on {}", crate::app::compute::backend_name(b))),
                    match (r.unscored_rows, table.summary.with(|s| s.as_ref().is_some_and(|s| s.resonance.is_some()))) {
                        (0, _) => String::new(),
                        (n, true) => format!(", {} outside the signal region or missing a value", thousands(n)),
                        (n, false) => format!(", {} left unscored (missing features)", thousands(n)),
                    })
            })),
        }
    };
    let bar = move || match (table.phase.get(), table.curves.progress.get()) {
        (TablePhase::Training, Some(p)) if p.epochs > 0 => {
            Some((p.epochs_done as f64 + p.step_in_epoch as f64 / p.steps_per_epoch.max(1) as f64) / p.epochs as f64)
        }
        (TablePhase::Scoring(f), _) => Some(f),
        _ => None,
    };
    let trained_on = move || table.summary.get().map(|s| {
        if s.loaded_model {
            return format!("Scored with the saved model, not trained here; {}.", feature_list(&s.features));
        }
        if let Some(r) = &s.resonance {
            let sample = |used: usize, all: usize| if used < all { format!("a random sample of {} of the {}", thousands(used), thousands(all)) } else { thousands(all) };
            return format!(
                "The background flow learns from {} sideband rows ({} outside {}–{}), then {} from {} rows in the signal region; {}, conditioned on {}{}. Each fit holds out the validation share to keep its best epoch.",
                sample(r.sideband_sample, r.sideband_rows), r.resonant, r.window.0, r.window.1, r.method.name(),
                sample(r.region_sample, r.region_rows), feature_list(&s.features), r.resonant,
                if r.log_mass { " (through its log, as every value is positive)" } else { "" },
            );
        }
        let source = match s.trained_on {
            TrainOn::AllRows => "all rows",
            TrainOn::BackgroundRows => "the rows labelled background",
            TrainOn::OtherFile => "the background file",
        };
        let sample = if s.train_rows < s.eligible_rows.saturating_sub(s.validation_rows) {
            format!("a random sample of {} of the {} eligible rows", thousands(s.train_rows), thousands(s.eligible_rows))
        } else {
            count_of(s.train_rows, "row")
        };
        let mut text = format!("Trained on {sample} from {source} ({} held out for validation); {}.",
            thousands(s.validation_rows), feature_list(&s.features));
        if s.dropped_missing > 0 {
            text += &format!(" {} with a missing feature left out.", count_of(s.dropped_missing, "row"));
        }
        if s.imputed > 0 {
            text += &format!(" {} with a missing feature filled with the training mean.", count_of(s.imputed, "row"));
        }
        text
    });
    view! {
        <div class="status" aria-live="polite">
            <p id="table-status">{sentence}</p>
            {move || bar().map(|f| view! { <progress max="1" value=f.to_string() aria-label="Progress"></progress> })}
            <p class="hint" id="table-trained-on">{trained_on}</p>
        </div>
        {move || table.diverged.get().map(|m| view! { <p class="notice problem" id="table-diverged" role="alert">{m}" The scores below use those last good weights."</p> })}
        {move || table.notice.get().map(|m| view! { <p class="notice problem" id="table-notice" role="alert">{m}</p> })}
    }
}

/// Scoring with a model saved earlier from this page, instead of training one.
#[component]
pub fn SavedModel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let busy = move || matches!(table.phase.get(), TablePhase::Training | TablePhase::Scoring(_));
    let pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            send_file(state, FilePurpose::Model, &file);
        }
        input.set_value("");
    };
    let score = move |_| {
        let Some(setup) = table.full_setup() else { return };
        table.notice.set(None);
        table.request.begin(table.phase, TablePhase::Scoring(0.0));
        send(state, &Command::Table(TableCommand::ScoreWithModel { setup }));
    };
    view! {
        <section class="saved-model" aria-labelledby="saved-model-title" hidden=move || table.info.with(Option::is_none)>
            <h3 id="saved-model-title">"Or score with a saved model"</h3>
            <p class="explain">"A " <code>".safetensors"</code> " file saved from this page after training (\"Download the model\"). Its features are found in this file by name; the label chosen above is used for the figures of merit."</p>
            <label for="model-file">"Model file"</label>
            <input type="file" id="model-file" accept=".safetensors" disabled=busy on:change=pick/>
            {move || table.model_problem.get().map(|p| view! { <p class="notice problem" id="model-problem" role="alert">{p}</p> })}
            {move || table.saved_model.get().map(|m| view! {
                <p id="model-summary">{format!(
                    "{}: a VAE {}-{}-{} trained for {} epochs; {}{}.",
                    m.file_name, m.features.len(), m.hidden, m.latent, m.epochs, feature_list(&m.features),
                    if m.score_with_kl { "; its score adds the KL term" } else { "" }
                )}</p>
                {(!m.baselines.is_empty()).then(|| view! {
                    <p id="model-baselines" class="explain">{format!(
                        "It also holds the classical methods of a comparison ({}). Scoring with this model scores with them too, without fitting them again: their figures appear under “Would a simple method do?”. The native anomaly-score program (README) writes their scores as well.",
                        m.baselines.join(", ")
                    )}</p>
                })}
                <button type="button" id="score-with-model" disabled=busy on:click=score>"Score with this model"</button>
            })}
        </section>
    }
}

/// Features named in a sentence: all of a few, or the first few and a count, so that a file with hundreds
/// of columns does not push the buttons off the screen. The column roles table lists every one.
fn feature_list(features: &[String]) -> String {
    const NAMED: usize = 6;
    match features.len() {
        1 => format!("1 feature: {}", features[0]),
        n if n <= NAMED + 1 => format!("{n} features: {}", features.join(", ")),
        n => format!("{n} features: {} and {} more", features[..NAMED].join(", "), n - NAMED),
    }
}

/// Scrolls to the comparison with the classical methods and puts the keyboard on its button.
fn go_to_comparison() {
    use wasm_bindgen::JsCast;
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(panel) = document.as_ref().and_then(|d| d.get_element_by_id("compare-panel")) {
        panel.scroll_into_view();
    }
    if let Some(button) = document.and_then(|d| d.get_element_by_id("cmp-run")).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = button.focus();
    }
}
