//! Where the table comes from: a file (picker or drag-and-drop) or the built-in toy collider events.

use leptos::prelude::*;

use super::event_target;
use crate::app::controls::NumberField;
use crate::app::state::Playground;
use crate::app::worker_link::{send, send_file};
use crate::app::{thousands, Phase};
use crate::protocol::{Command, FilePurpose, TableCommand};
use anomaly_engine::table::dijet::{Simulation, MAX_ROWS, MAX_SIGNAL_FRACTION, MIN_ROWS};
use anomaly_engine::table::error::human_bytes;

#[component]
pub fn DataSource() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let dragging = RwSignal::new(false);
    let worker_ready = move || !matches!(state.phase.get(), Phase::LoadingData | Phase::WorkerDied(_));
    let busy = move || table.loading.get().is_some() || !worker_ready();
    let pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            send_file(state, FilePurpose::Events, &file);
            table.loading.set(Some((FilePurpose::Events, 0, file.size() as u64)));
        }
        input.set_value(""); // choosing the same file again must load it again
    };
    let drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let file = ev.data_transfer().and_then(|d| d.files()).and_then(|files| files.get(0));
        match file {
            Some(file) => {
                send_file(state, FilePurpose::Events, &file);
                table.loading.set(Some((FilePurpose::Events, 0, file.size() as u64)));
            }
            None => table.load_problem.set(Some("That was not a file. Drop a CSV file from your computer here.".into())),
        }
    };
    let simulate = move |_| {
        let Simulation { rows, signal_fraction, seed, several_signals } = table.simulation.get_untracked();
        table.loading.set(Some((FilePurpose::Events, 0, 0)));
        send(state, &Command::Table(TableCommand::Simulate { rows, signal_fraction, seed, several_signals }));
    };
    let simulation_valid = move || table.simulation.with(|s| s.problems().is_empty())
        && !state.unreadable.with(|u| u.iter().any(|p| p.field.starts_with("table_sim_")));
    view! {
        <div class="drop-zone" class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=drop>
            <p>"Drop a CSV file here, or"</p>
            <label class="file-button">
                <input type="file" id="table-file" accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values" on:change=pick disabled=busy/>
                <span>"Choose a file…"</span>
            </label>
            <p class="hint">"Comma, semicolon or tab separated; a header row is recognised. The file stays on your computer: it is read by this page and never uploaded."</p>
        </div>
        {move || table.info.with(Option::is_none).then(|| table.linked.get()).flatten().map(|linked| view! {
            <p id="link-file-note" class="notice">
                {format!(
                    "This link carries the column roles and settings for a file of {} columns, but never the file itself: load your file, and if it has the same header they are restored.",
                    linked.setup.choices.len()
                )}
            </p>
        })}
        {move || table.link_note.get().map(|note| view! { <p id="link-restored" class="hint" role="status">{note}</p> })}
        <LoadProgress/>
        {move || table.load_problem.get().map(|message| view! {
            <p id="table-load-problem" class="notice problem" role="alert">{message}</p>
        })}
        <details class="simulate" open=true>
            <summary>"No file? Try simulated collider events"</summary>
            <p class="hint">
                "A toy simulation in the style of the LHC Olympics 2020 dijet sample: QCD background and a hidden W′ → XY resonance at 3.5 TeV. "
                "The shapes are simple formulas, not a detector simulation."
            </p>
            <form on:submit=|ev| ev.prevent_default() novalidate>
                <NumberField target=table.simulation field="table_sim_rows" label="Events" range=format!("{MIN_ROWS}–{}", thousands(MAX_ROWS))
                    get=|s| s.rows.to_string() set=|s, v| { s.rows = v.parse().map_err(|_| ())?; Ok(()) }/>
                <NumberField target=table.simulation field="table_sim_fraction" label="Signal share" range=format!("0–{MAX_SIGNAL_FRACTION}")
                    get=|s| s.signal_fraction.to_string() set=|s, v| { s.signal_fraction = v.parse().map_err(|_| ())?; Ok(()) }/>
                <NumberField target=table.simulation field="table_sim_seed" label="Seed" range="0–4294967295".to_string()
                    get=|s| s.seed.to_string() set=|s, v| { s.seed = v.parse().map_err(|_| ())?; Ok(()) }/>
                <label class="check" for="table_sim_signals">
                    <input type="checkbox" id="table_sim_signals" prop:checked=move || table.simulation.with(|s| s.several_signals)
                        on:change=move |ev| table.simulation.update(|s| s.several_signals = event_target_checked(&ev))/>
                    "Four kinds of signal (A–D, with a signal_type column), to try Anomaly Awareness: show some kinds and see whether the others are found better"
                </label>
                {move || (!simulation_valid()).then(|| view! {
                    <p class="field-error" id="simulate-problem">{format!("Events must be {MIN_ROWS} to {} and the signal share 0 to {MAX_SIGNAL_FRACTION}.", thousands(MAX_ROWS))}</p>
                })}
                <button type="button" id="simulate" class="primary" disabled=move || busy() || !simulation_valid() on:click=simulate>
                    "Try with simulated collider events"
                </button>
            </form>
        </details>
    }
}

#[component]
fn LoadProgress() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let cancel = move |_| send(state, &Command::Table(TableCommand::CancelLoad));
    move || {
        table.loading.get().map(|(_, read, total)| {
            let fraction = if total > 0 { read as f64 / total as f64 } else { 0.0 };
            let text = if total > 0 {
                format!("Reading the file: {} of {}", human_bytes(read), human_bytes(total))
            } else {
                "Making the events…".to_string()
            };
            view! {
                <div class="load-progress" role="status" aria-live="polite">
                    <p id="load-status">{text}</p>
                    <progress max="1" value=fraction.to_string() aria-label="Loading the file"></progress>
                    <button type="button" id="cancel-load" on:click=cancel>"Cancel"</button>
                </div>
            }
        })
    }
}
