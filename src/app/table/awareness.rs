//! "Show it a few anomalies": Anomaly Awareness on the visitor's table. Choose the column that names the
//! anomaly kinds (or the label itself), tick the kinds to show, and fine-tune the trained autoencoder
//! with a few of their rows; a control run takes the same steps without them. The table shows each
//! kind's figures before, after and in the control, and one sentence says what the labelled rows did.

use leptos::prelude::*;

use super::state::TablePhase;
use crate::app::state::Playground;
use crate::app::worker_link::send;
use crate::app::thousands;
use crate::protocol::{Command, TableCommand};
use anomaly_engine::table::awareness::{AwarenessSummary, KindFigures};
use anomaly_engine::table::prepare::Role;

#[component]
pub fn AwarenessPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let aware = table.awareness;
    let done = move || table.phase.get() == TablePhase::Done;
    let labelled = move || table.setup.with(|s| s.as_ref().is_some_and(|s| s.label_column().is_some()));
    let autoencoder = move || table.setup.with(|s| s.as_ref().is_some_and(|s| !s.method.is_resonant()));
    let running = move || aware.progress.with(Option::is_some);
    // The columns that can name kinds: the label, and every column the model does not read.
    let candidates = move || -> Vec<(usize, String)> {
        let names: Vec<String> = table.info.with(|i| i.as_ref().map(|i| i.columns.iter().map(|c| c.name.clone()).collect()).unwrap_or_default());
        table.setup.with(|s| {
            s.as_ref().map_or_else(Vec::new, |s| {
                s.choices.iter().enumerate().filter(|(_, c)| matches!(c.role, Role::Label | Role::Ignored)).map(|(k, _)| (k, names.get(k).cloned().unwrap_or_default())).collect()
            })
        })
    };
    // A column named like a kind, else the label: asked for its kinds whenever the choice changes.
    Effect::new(move |_| {
        if !(done() && labelled()) {
            return;
        }
        let column = aware.column.get().or_else(|| {
            let candidates = candidates();
            candidates.iter().find(|(_, n)| n.to_lowercase().contains("type") || n.to_lowercase().contains("kind")).or_else(|| candidates.first()).map(|c| c.0)
        });
        if let (Some(column), Some(setup)) = (column, table.full_setup()) {
            if aware.column.get_untracked() != Some(column) {
                aware.column.set(Some(column));
            }
            send(state, &Command::Table(TableCommand::AwarenessKinds { setup, column }));
        }
    });
    let run = move |_| {
        let Some(settings) = aware.settings() else { return };
        aware.requested();
        send(state, &Command::Table(TableCommand::FineTune { settings }));
    };
    let cancel = move |_| send(state, &Command::Table(TableCommand::CancelFineTune));
    let choose_column = move |ev: leptos::ev::Event| {
        if let Ok(k) = event_target_value(&ev).parse::<usize>() {
            aware.column.set(Some(k));
            aware.shown.set(Vec::new());
            aware.kinds.set(None);
            aware.touched.set(true);
        }
    };
    let nothing_shown = move || aware.shown.with(Vec::is_empty);
    let number = |ev: &leptos::ev::Event| event_target_value(ev).trim().parse::<f64>().ok();
    view! {
        <section class="panel awareness-table" id="aa-table-panel" aria-labelledby="aa-table-title" hidden=move || !(done() && labelled() && autoencoder())>
            <h3 id="aa-table-title">"Show it a few anomalies (Anomaly Awareness)"</h3>
            <p class="explain">"Fine-tune the trained autoencoder with a few labelled rows of the kinds you tick, so that they reconstruct badly (the loss subtracts λ·min(error, margin) for them, λ rising from 0), and see whether kinds you did not show are found better too. A control run takes the same steps without the labelled rows: what it gains comes from training longer, not from the anomalies. The model then kept is the fine-tuned one, and every row is scored again with it."</p>
            <div class="settings-row">
                <label for="aa-kind-column">"Kinds from the column"</label>
                <select id="aa-kind-column" on:change=choose_column>
                    {move || candidates().into_iter().map(|(k, name)| view! {
                        <option value=k.to_string() selected=move || aware.column.get() == Some(k)>{name}</option>
                    }).collect_view()}
                </select>
            </div>
            <fieldset class="aa-kinds">
                <legend>"Kinds to show (the others stay unseen)"</legend>
                {move || aware.kinds.get().map(|kinds| kinds.into_iter().map(|kind| {
                    let id = format!("aa-kind-{}", kind.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>());
                    let (k1, k2) = (kind.clone(), kind.clone());
                    view! {
                        <label class="check">
                            <input type="checkbox" id=id prop:checked=move || aware.shown.with(|s| s.contains(&k1))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let kind = k2.clone();
                                    aware.shown.update(|s| { s.retain(|k| *k != kind); if on { s.push(kind); s.sort(); } });
                                    aware.touched.set(true);
                                }/>
                            {kind}
                        </label>
                    }
                }).collect_view())}
            </fieldset>
            <div class="settings-row">
                <label for="aa-labelled">"Labelled rows"</label>
                <input type="number" id="aa-labelled" min="1" max="10000" step="1" prop:value=move || aware.labelled_rows.get().to_string()
                    on:change=move |ev| if let Some(v) = number(&ev) { aware.labelled_rows.set(v.clamp(1.0, 10_000.0) as usize); aware.touched.set(true); }/>
                <label for="aa-epochs">"Fine-tuning epochs"</label>
                <input type="number" id="aa-epochs" min="1" max="50" step="1" prop:value=move || aware.epochs.get().to_string()
                    on:change=move |ev| if let Some(v) = number(&ev) { aware.epochs.set(v.clamp(1.0, 50.0) as usize); aware.touched.set(true); }/>
                <label for="aa-lambda">"λ at most"</label>
                <input type="number" id="aa-lambda" min="0" max="20" step="0.5" prop:value=move || aware.lambda_max.get().to_string()
                    on:change=move |ev| if let Some(v) = number(&ev) { aware.lambda_max.set(v.clamp(0.0, 20.0) as f32); aware.touched.set(true); }/>
            </div>
            <div class="actions">
                <button id="aa-table-run" class="primary" on:click=run disabled=move || running() || nothing_shown()>"Fine-tune with these anomalies"</button>
                <button id="aa-table-cancel" on:click=cancel hidden=move || !running()>"Cancel"</button>
            </div>
            <div role="status" aria-live="polite">
                {move || aware.progress.get().map(|(stage, fraction)| view! {
                    <p id="aa-table-progress">{format!("{}… {:.0}% done.", if stage.is_empty() { "Starting".to_string() } else { stage }, 100.0 * fraction)}</p>
                    <progress max="1" aria-label="Fine-tuning progress" value=fraction></progress>
                })}
            </div>
            {move || aware.problem.get().map(|p| view! { <p class="notice" id="aa-table-problem" role="alert">{p}</p> })}
            {move || aware.summary.get().map(|s| view! { <AwarenessResults summary=s/> })}
        </section>
    }
}

fn auc(f: &KindFigures) -> String {
    format!("{:.3}", f.auc)
}

fn rejection(f: &KindFigures) -> String {
    f.rejection_at_30.map_or_else(|| "–".into(), |r| if r.is_finite() { thousands(r.round() as usize) } else { "∞".into() })
}

#[component]
fn AwarenessResults(summary: AwarenessSummary) -> impl IntoView {
    view! {
        <div id="aa-table-results">
            <p id="aa-table-sentence" class="verdict">{summary.sentence.clone()}</p>
            <p class="hint" id="aa-table-note">{format!(
                "Each kind is judged against background rows the autoencoder did not train on; the {} labelled rows of the shown kinds are left out of their judging. The margin, {:.3}, is {} × the training rows' mean reconstruction error after training: a labelled row's error counts up to it and no further.",
                summary.labelled_rows, summary.margin, summary.settings.margin_factor
            )}</p>
            <div class="table-scroll">
            <table id="aa-table-kinds" class="figures-table">
                <caption>"Each kind before and after fine-tuning, and in the control run"</caption>
                <thead><tr>
                    <th scope="col">"Kind"</th><th scope="col">"Rows"</th>
                    <th scope="col">"AUC before"</th><th scope="col">"after"</th><th scope="col">"control"</th>
                    <th scope="col">"max SIC before"</th><th scope="col">"after"</th>
                    <th scope="col">"1/ε_B at 30 % before"</th><th scope="col">"after"</th>
                </tr></thead>
                <tbody>
                    {summary.kinds.into_iter().map(|k| view! {
                        <tr data-kind=k.kind.clone()>
                            <th scope="row">{format!("{} ({})", k.kind, if k.shown { "shown" } else { "unseen" })}</th>
                            <td>{thousands(k.rows)}</td>
                            <td>{auc(&k.before)}</td><td>{auc(&k.after)}</td><td>{auc(&k.control)}</td>
                            <td>{format!("{:.1}", k.before.max_sic)}</td><td>{format!("{:.1}", k.after.max_sic)}</td>
                            <td>{rejection(&k.before)}</td><td>{rejection(&k.after)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </div>
    }
}
