//! The settings form and the run buttons. The form refuses values outside the engine's ranges, says
//! which and why next to the field, and disables training until they are fixed.

use leptos::prelude::*;

use anomaly_state::page::PagePart;

use super::state::{Phase, Playground};
use super::worker_link::{send, send_file, start_worker};
use crate::protocol::{Command, FilePurpose, StepUnit};
use anomaly_engine::settings::{NumberSetting, MODEL_SETTINGS};
use anomaly_engine::settings::ModelSettings;
use anomaly_engine::SettingProblem;

#[component]
pub fn SettingsForm() -> impl IntoView {
    let state = expect_context::<Playground>();
    let locked = move || matches!(state.phase.get(), Phase::Training | Phase::FineTuning);
    view! {
        <form class="settings" on:submit=|ev| ev.prevent_default() novalidate>
            <fieldset class="digit-picker" disabled=locked data-classroom="normal" hidden=move || state.hides(PagePart::NormalDigits)>
                <legend>"Normal digits (the network trains on these; all others are anomalies)"</legend>
                <div class="digit-toggles">
                    {(0..10u8).map(|digit| view! { <DigitToggle digit/> }).collect_view()}
                </div>
                <FieldError field="normal_digits"/>
            </fieldset>
            <fieldset class="model-settings" disabled=locked data-classroom="settings" hidden=move || state.hides(PagePart::ModelSettings)>
                <legend>"Model and training"</legend>
                <ModelFields target=state.model prefix=""/>
                <label class="check">
                    <input type="checkbox" id="score_with_kl"
                        prop:checked=move || state.model.with(|m| m.vae.score_with_kl)
                        on:change=move |ev| state.model.update(|m| m.vae.score_with_kl = event_target_checked(&ev))/>
                    "Add the KL term to the anomaly score"
                </label>
            </fieldset>
        </form>
    }
}

/// The VAE's size and training settings, bound to `target`. Field ids are `prefix` + the setting's field:
/// the digits' form uses the bare names (which are also the engine's problem fields), the table form
/// prefixes them, so each form's problems stay its own.
#[component]
pub fn ModelFields(target: RwSignal<ModelSettings>, prefix: &'static str) -> impl IntoView {
    view! { <NumberFields target settings=&MODEL_SETTINGS prefix/> }
}

/// One number field for each of `settings`, bound to `target`, with ids `prefix` + the setting's field.
#[component]
pub fn NumberFields<T>(target: RwSignal<T>, settings: &'static [NumberSetting<T>], prefix: &'static str) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    settings
        .iter()
        .map(|setting| {
            view! {
                <NumberField target field=format!("{prefix}{}", setting.field) label=setting.label range=setting.range_text()
                    get=setting.get set=setting.set/>
            }
        })
        .collect_view()
}

#[component]
fn DigitToggle(digit: u8) -> impl IntoView {
    let state = expect_context::<Playground>();
    let id = format!("normal-{digit}");
    let checked = move || state.normal_digits.with(|normal| normal.contains(&digit));
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        state.normal_digits.update(|normal| {
            normal.retain(|&d| d != digit);
            if on {
                normal.push(digit);
                normal.sort_unstable();
            }
        });
    };
    view! {
        <input type="checkbox" class="digit-toggle" id=id.clone() prop:checked=checked on:change=toggle
            aria-describedby="normal_digits-error"/>
        <label for=id>{digit.to_string()}</label>
    }
}

/// A number input bound to one setting of `target`. Text that is not a number, or a number out of
/// range, is reported under the field and blocks the action it belongs to; the last valid value is kept.
#[component]
pub fn NumberField<T>(
    target: RwSignal<T>,
    #[prop(into)] field: String,
    label: &'static str,
    range: String,
    get: fn(&T) -> String,
    set: fn(&mut T, &str) -> Result<(), ()>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let state = expect_context::<Playground>();
    let error_id = format!("{field}-error");
    let invalid = {
        let field = field.clone();
        move || state.all_problems().iter().any(|p| p.field == field)
    };
    let range_shown = format!(" ({range})");
    // Only this field's own value may rewrite its text; otherwise editing another field would replace
    // text the visitor is still correcting here.
    let shown = Memo::new(move |_| target.with(get));
    let on_input = {
        let field = field.clone();
        move |ev| {
            let text = event_target_value(&ev);
            let mut candidate = target.get_untracked();
            let parsed = set(&mut candidate, text.trim());
            state.unreadable.update(|problems| {
                problems.retain(|p| p.field != field);
                if parsed.is_err() {
                    problems.push(SettingProblem { field: field.clone(), message: format!("{label}: \"{text}\" is not a number ({range}).") });
                }
            });
            if parsed.is_ok() {
                target.set(candidate);
            }
        }
    };
    view! {
        <div class="field">
            <label for=field.clone()>{label}<span class="range">{range_shown}</span></label>
            <input type="text" inputmode="decimal" id=field.clone() name=field.clone()
                prop:value=shown
                aria-invalid=move || invalid().to_string()
                aria-describedby=error_id
                on:change=on_input/>
            <FieldError field/>
        </div>
    }
}

#[component]
pub fn FieldError(#[prop(into)] field: String) -> impl IntoView {
    let state = expect_context::<Playground>();
    let id = format!("{field}-error");
    let messages = move || state.all_problems().into_iter().filter(|p| p.field == field).map(|p| p.message).collect::<Vec<_>>();
    view! {
        <p class="field-error" id=id aria-live="polite">
            {move || messages().join(" ")}
        </p>
    }
}

#[component]
pub fn RunButtons() -> impl IntoView {
    let state = expect_context::<Playground>();
    let phase = move || state.phase.get();
    let ready = move || matches!(phase(), Phase::Ready | Phase::Paused | Phase::Finished | Phase::Diverged(_));
    let valid = move || state.problems().is_empty();
    let same_run = move || state.run.with(|r| r.as_ref().is_some_and(|r| r.settings == state.train_settings()));
    let train_label = move || match phase() {
        // A paused stage 2 on a finished stage 1: the worker would train a new stage-1 run.
        Phase::Paused if same_run() && !state.stage1_finished() => "Resume",
        Phase::Paused if state.stage1_finished() => "Train again",
        Phase::Finished | Phase::Diverged(_) => "Train again",
        _ => "Train",
    };
    let train = move |_| {
        state.notice.set(None);
        state.opened_session.set(None);
        state.request.begin(state.phase, Phase::Training);
        send(state, &Command::Train { settings: state.train_settings_untracked() });
    };
    let step = move |unit| {
        state.notice.set(None);
        state.opened_session.set(None);
        state.request.begin(state.phase, Phase::Training);
        send(state, &Command::Step { settings: state.train_settings_untracked(), unit });
    };
    view! {
        <div class="run-buttons" role="group" aria-label="Training">
            <button type="button" id="train" class="primary" disabled=move || !(ready() && valid()) on:click=train>
                {train_label}
            </button>
            <button type="button" id="pause" disabled=move || !matches!(phase(), Phase::Training | Phase::FineTuning) on:click=move |_| send(state, &Command::Pause)>
                "Pause"
            </button>
            <button type="button" id="step-batch" disabled=move || !(ready() && valid()) on:click=move |_| step(StepUnit::Batch)>
                "Step one batch"
            </button>
            <button type="button" id="step-epoch" disabled=move || !(ready() && valid()) on:click=move |_| step(StepUnit::Epoch)>
                "Step one epoch"
            </button>
            <button type="button" id="reset" disabled=move || state.run.with(Option::is_none) || matches!(phase(), Phase::LoadingData | Phase::WorkerDied(_))
                on:click=move |_| send(state, &Command::Reset)>
                "Reset"
            </button>
            {move || matches!(phase(), Phase::WorkerDied(_)).then(|| view! {
                <button type="button" id="restart-worker" class="primary" on:click=move |_| start_worker(state)>
                    "Start a new worker"
                </button>
            })}
        </div>
    }
}

/// Saving the whole session (settings, trained network, Anomaly Awareness) in one file, and opening one:
/// a teacher prepares a trained network, and the class opens it without training.
#[component]
pub fn SessionFiles() -> impl IntoView {
    let state = expect_context::<Playground>();
    let phase = move || state.phase.get();
    let can_save = move || phase() == Phase::Finished && state.run.with(Option::is_some);
    let can_open = move || matches!(phase(), Phase::Ready | Phase::Paused | Phase::Finished | Phase::Diverged(_));
    let open = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            state.notice.set(None);
            send_file(state, FilePurpose::Session, &file);
        }
        input.set_value("");
    };
    view! {
        <div class="session-files" role="group" aria-labelledby="session-files-title">
            <p class="group-title" id="session-files-title">"Session file"</p>
            <div class="run-buttons">
                <button type="button" id="save-session" disabled=move || !can_save() on:click=move |_| send(state, &Command::SaveSession)>
                    "Save this session"
                </button>
                <label class="file-button">
                    <input type="file" id="open-session" accept=".safetensors" disabled=move || !can_open() on:change=open/>
                    <span>"Open a session"</span>
                </label>
                <button type="button" id="download-digits-onnx" disabled=move || !can_save() on:click=move |_| send(state, &Command::DownloadDigitsOnnx)>
                    "Download as ONNX"
                </button>
            </div>
            <p class="hint">"One file with the settings and the trained network, Anomaly Awareness included when it ran: opening it shows the same results without training. ONNX: the network as it scores now (the fine-tuned one after Anomaly Awareness), 784 pixel intensities in, the anomaly score out, for ONNX Runtime or ROOT's SOFIE."</p>
            {move || state.opened_session.get().map(|note| view! { <p class="hint" id="session-opened" role="status">{note}</p> })}
        </div>
    }
}
