//! The loaded file at a glance: its first rows, and per column its type, range, mean and missing count,
//! with the role the visitor gives it (feature, label, ignored, or the resonant variable of a resonance
//! search) and an optional log transform.

use leptos::prelude::*;

use crate::app::state::Playground;
use crate::app::{count_of, thousands};
use crate::protocol::TableInfo;
use anomaly_engine::table::error::human_bytes;
use anomaly_engine::table::prepare::{suggested_signal_region, ColumnChoice, Role, TableMethod};
use anomaly_engine::table::ColumnSummary;

#[component]
pub fn FileOverview() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    move || match table.info.get() {
        None => view! {
            <p class="empty-state" id="table-empty">"Load a CSV file or the simulated events to see its columns here."</p>
        }
        .into_any(),
        Some(info) => view! {
            <section class="panel wide" id="file-overview" aria-labelledby="file-title">
                <h3 id="file-title">{info.file_name.clone()}</h3>
                <p id="file-summary">{summary(&info)}</p>
                {info.simulated.then(|| view! {
                    <p class="toy-label" id="toy-label">"Toy simulation: simple formulas shaped like LHC dijet events, not real collisions. "
                        <button type="button" id="download-sample" class="link-button"
                            on:click=move |_| crate::app::worker_link::send(state, &crate::protocol::Command::Table(crate::protocol::TableCommand::DownloadSample))>
                            "Download this sample as CSV"
                        </button>
                        " to see the expected format."
                    </p>
                })}
                {info.notes.iter().map(|note| view! { <p class="note">{note.clone()}</p> }).collect_view()}
                <Preview info=info.clone()/>
                <RolesTable info/>
            </section>
        }
        .into_any(),
    }
}

fn summary(info: &TableInfo) -> String {
    format!(
        "{} × {}, {}, {}-separated, {}.",
        count_of(info.rows, "row"),
        count_of(info.columns.len(), "column"),
        human_bytes(info.bytes),
        info.delimiter,
        if info.has_header { "with a header row" } else { "no header row (columns are numbered)" }
    )
}

#[component]
fn Preview(info: TableInfo) -> impl IntoView {
    let names: Vec<String> = info.columns.iter().map(|c| c.name.clone()).collect();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-labelledby="preview-caption">
            <table class="data" id="preview">
                <caption id="preview-caption">{match info.preview.len() {
                    1 => "The first row, as written in the file".to_string(),
                    n => format!("The first {n} rows, as written in the file"),
                }}</caption>
                <thead><tr>{names.into_iter().map(|n| view! { <th scope="col">{n}</th> }).collect_view()}</tr></thead>
                <tbody>
                    {info.preview.into_iter().map(|row| view! {
                        <tr>{row.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn RolesTable(info: TableInfo) -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let columns = info.columns.clone();
    let label_values = move || {
        table.setup.with(|s| {
            let setup = s.as_ref()?;
            let label = setup.label_column()?;
            columns.get(label)?.two_values.clone().map(|values| (values, setup.signal_value))
        })
    };
    view! {
        // The choices come first, so they stay in view however wide the statistics make the table.
        <p class="explain" id="roles-help">"Numbers are features by default; a two-valued column named like a label (label, class, anomaly, is_signal…) is the label. Mark a column such as m_jj \"resonant\" to hunt for a bump in it with ANODE or R-ANODE."</p>
        <div class="table-scroll" tabindex="0" role="region" aria-labelledby="roles-caption" aria-describedby="roles-help">
            <table class="data roles" id="column-roles">
                <caption id="roles-caption">"What each column is for"</caption>
                <thead><tr>
                    <th scope="col">"Column"</th><th scope="col">"Role"</th><th scope="col">"Log"</th><th scope="col">"Type"</th>
                    <th scope="col">"Min"</th><th scope="col">"Max"</th><th scope="col">"Mean"</th><th scope="col">"Missing"</th>
                </tr></thead>
                <tbody>
                    {info.columns.iter().cloned().enumerate().map(|(k, column)| view! { <RoleRow k column/> }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || label_values().map(|(values, signal)| view! {
            <div class="field inline">
                <label for="signal-value">"Which label value marks signal?"</label>
                <select id="signal-value" on:change=move |ev| {
                    let chosen = event_target_value(&ev).parse().unwrap_or(1);
                    table.setup.update(|s| if let Some(s) = s { s.signal_value = chosen });
                }>
                    <option value="0" selected=signal == 0>{values[0].clone()}</option>
                    <option value="1" selected=signal == 1>{values[1].clone()}</option>
                </select>
            </div>
        })}
    }
}

#[component]
fn RoleRow(k: usize, column: ColumnSummary) -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let choice = move || table.setup.with(|s| s.as_ref().and_then(|s| s.choices.get(k).copied()));
    let window = suggested_signal_region(&column);
    let set_choice = move |update: &dyn Fn(&mut ColumnChoice)| {
        table.setup.update(|s| {
            if let Some(setup) = s {
                if let Some(c) = setup.choices.get_mut(k) {
                    update(c);
                }
                // One label and one resonant variable at most: choosing a new one turns the old one
                // into an ignored column.
                let role = setup.choices[k].role;
                if matches!(role, Role::Label | Role::Resonant) {
                    for (j, other) in setup.choices.iter_mut().enumerate() {
                        if j != k && other.role == role {
                            other.role = Role::Ignored;
                        }
                    }
                }
                // A resonant variable is for a resonance search: start one, with a window to move.
                if role == Role::Resonant {
                    setup.choices[k].log = false;
                    if !setup.method.is_resonant() {
                        setup.method = TableMethod::Ranode;
                    }
                    if setup.signal_region.is_none() {
                        setup.signal_region = window;
                    }
                }
            }
        })
    };
    let number = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.4}"));
    let kind = describe_type(&column);
    let missing = missing_text(&column);
    let role_id = format!("role-{k}");
    let log_id = format!("log-{k}");
    let name = column.name.clone();
    let can_label = column.two_values.is_some();
    let can_feature = column.numeric && column.present > 0;
    let can_log = column.all_positive;
    view! {
        <tr>
            <th scope="row">{column.name.clone()}</th>
            <td>
                <select id=role_id aria-label=format!("Role of column {name}") on:change=move |ev| {
                    let role = match event_target_value(&ev).as_str() {
                        "feature" => Role::Feature,
                        "label" => Role::Label,
                        "resonant" => Role::Resonant,
                        _ => Role::Ignored,
                    };
                    set_choice(&|c| c.role = role);
                }>
                    <option value="feature" disabled=!can_feature selected=move || choice().is_some_and(|c| c.role == Role::Feature)>"feature"</option>
                    <option value="label" disabled=!can_label selected=move || choice().is_some_and(|c| c.role == Role::Label)>"label"</option>
                    <option value="ignored" selected=move || choice().is_some_and(|c| c.role == Role::Ignored)>"ignored"</option>
                    <option value="resonant" disabled=!can_feature selected=move || choice().is_some_and(|c| c.role == Role::Resonant)>"resonant"</option>
                </select>
            </td>
            <td>
                <input type="checkbox" id=log_id aria-label=format!("Log-transform column {}", column.name)
                    disabled=move || !can_log || choice().is_none_or(|c| c.role != Role::Feature)
                    prop:checked=move || choice().is_some_and(|c| c.log)
                    on:change=move |ev| { let on = event_target_checked(&ev); set_choice(&|c| c.log = on); }/>
            </td>
            <td>{kind}</td>
            <td class="num">{number(column.min)}</td>
            <td class="num">{number(column.max)}</td>
            <td class="num">{number(column.mean)}</td>
            <td class="num">{missing}</td>
        </tr>
    }
}

fn describe_type(c: &ColumnSummary) -> String {
    if c.numeric && c.identifier_like {
        return "number (an ID? whole numbers that never repeat)".into();
    }
    match (c.numeric, c.constant, c.two_values.is_some()) {
        (true, true, _) => "number (constant)".into(),
        (true, false, true) => "number (two values)".into(),
        (true, false, false) => "number".into(),
        (false, _, true) => "text (two values)".into(),
        (false, _, false) => "text".into(),
    }
}

/// Missing cells, with what counts as missing spelled out when it is not just empty cells.
fn missing_text(c: &ColumnSummary) -> String {
    let total = c.missing + c.non_finite + c.not_numbers;
    let mut text = thousands(total);
    if c.non_finite > 0 {
        text += &format!(" ({} NaN or ±inf)", thousands(c.non_finite));
    }
    if let Some(first) = &c.first_not_number {
        text += &format!(" ({} not numbers, first on line {}: \"{}\")", thousands(c.not_numbers), first.line, first.text);
    }
    text
}
