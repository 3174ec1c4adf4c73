//! "Would a simple method do?": tick classical methods, run them on the rows the autoencoder trains on,
//! and read them side by side (figures of merit, ROC and SIC curves, or without a label the histograms
//! and how far the methods' top rows agree), then why each one's top rows scored high.

use leptos::prelude::*;

use super::state::TablePhase;
use crate::app::loss::redraw;
use crate::app::state::Playground;
use crate::app::worker_link::send;
use crate::app::thousands;
use crate::plots::charts::{score_histograms, significant, EVENT_CLASSES};
use crate::plots::compare::roc_overlay;
use crate::plots::resonance::sic_curves;
use crate::protocol::{Command, TableCommand};
use anomaly_engine::baselines::BaselineKind;
use anomaly_engine::table::compare::{ComparisonSummary, FittedOn, MethodSummary, AGREEMENT_ROWS};

#[component]
pub fn ComparePanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let compare = table.compare;
    let loaded = move || table.info.with(Option::is_some);
    let running = move || compare.progress.with(Option::is_some);
    let busy = move || matches!(table.phase.get(), TablePhase::Training | TablePhase::Scoring(_));
    let nothing_ticked = move || compare.choice.with(|c| c.methods.is_empty());
    let run = move |_| {
        let Some(setup) = table.full_setup() else { return };
        compare.requested();
        send(state, &Command::Table(TableCommand::Compare { setup, choice: compare.choice.get_untracked() }));
    };
    let cancel = move |_| send(state, &Command::Table(TableCommand::CancelCompare));
    let progress_text = move || {
        compare.progress.get().map(|(method, fraction)| {
            let what = if method.is_empty() { "Starting".to_string() } else { method };
            format!("{what}… {:.0}% of the comparison done.", 100.0 * fraction)
        })
    };
    view! {
        <section class="panel compare" id="compare-panel" aria-labelledby="compare-title" hidden=move || !loaded()>
            <h3 id="compare-title">"Would a simple method do?"</h3>
            <p class="explain">"Classical detectors, fitted on the same rows the autoencoder trains on (the choice under “Train on”) and scoring every row. ADBench found that no method wins on every table; here you can see which wins on yours. They run in the background; the page stays usable."</p>
            <MethodChoices/>
            <div class="actions">
                <button id="cmp-run" class="primary" on:click=run disabled=move || running() || nothing_ticked() || busy()>"Compare methods"</button>
                <button id="cmp-cancel" on:click=cancel hidden=move || !running()>"Cancel"</button>
            </div>
            <p class="hint" hidden=move || !busy()>"The autoencoder is training; compare when it is done, so both use the computer in turn."</p>
            <div role="status" aria-live="polite">
                {move || progress_text().map(|text| view! {
                    <p id="cmp-progress">{text}</p>
                    <progress max="1" aria-label="Comparison progress" value=move || compare.progress.get().map_or(0.0, |p| p.1)></progress>
                })}
            </div>
            {move || compare.problem.get().map(|p| view! { <p class="notice" id="cmp-problem" role="alert">{p}</p> })}
            <CompareResults/>
        </section>
    }
}

/// The methods to tick and their few settings.
#[component]
fn MethodChoices() -> impl IntoView {
    let compare = expect_context::<Playground>().table.compare;
    let ticked = move |kind: BaselineKind| compare.choice.with(|c| c.methods.contains(&kind));
    let toggle = move |kind: BaselineKind, on: bool| {
        compare.choice.update(|c| {
            c.methods.retain(|&k| k != kind);
            if on {
                c.methods.push(kind);
                // Keep the page's order, whatever the order of the clicks.
                c.methods.sort_by_key(|k| BaselineKind::ALL.iter().position(|a| a == k));
            }
        })
    };
    let number = move |ev: &leptos::ev::Event| event_target_value(ev).trim().parse::<f64>().ok();
    view! {
        <fieldset class="compare-methods">
            <legend>"Methods"</legend>
            {BaselineKind::ALL.into_iter().map(|kind| view! {
                <label class="check">
                    <input type="checkbox" id=format!("cmp-{}", kind.key()) prop:checked=move || ticked(kind)
                        on:change=move |ev| toggle(kind, event_target_checked(&ev))/>
                    {kind.name()}
                </label>
            }).collect_view()}
            <div class="settings-row">
                <label for="cmp-knn-k">"kNN: k"</label>
                <input type="number" id="cmp-knn-k" min="1" max="100" step="1" prop:value=move || compare.choice.with(|c| c.settings.knn_k.to_string())
                    on:change=move |ev| if let Some(k) = number(&ev) { compare.choice.update(|c| c.settings.knn_k = k.clamp(1.0, 100.0) as usize) }/>
                <label for="cmp-lof-k">"LOF: neighbours"</label>
                <input type="number" id="cmp-lof-k" min="1" max="100" step="1" prop:value=move || compare.choice.with(|c| c.settings.lof_k.to_string())
                    on:change=move |ev| if let Some(k) = number(&ev) { compare.choice.update(|c| c.settings.lof_k = k.clamp(1.0, 100.0) as usize) }/>
                <label for="cmp-pca-variance">"PCA: variance kept (%)"</label>
                <input type="number" id="cmp-pca-variance" min="10" max="99" step="1"
                    prop:value=move || compare.choice.with(|c| format!("{:.0}", 100.0 * c.settings.pca_variance))
                    on:change=move |ev| if let Some(v) = number(&ev) { compare.choice.update(|c| c.settings.pca_variance = v.clamp(10.0, 99.0) / 100.0) }/>
                <label for="cmp-seed">"Seed"</label>
                <input type="number" id="cmp-seed" min="0" step="1" prop:value=move || compare.choice.with(|c| c.settings.seed.to_string())
                    on:change=move |ev| if let Some(s) = number(&ev) { compare.choice.update(|c| c.settings.seed = s.max(0.0) as u64) }/>
            </div>
            <p class="explain">"Isolation Forest grows 100 random trees on samples of 256 rows and scores how quickly a row is cut off. kNN scores the distance to the k-th nearest training row, LOF how much sparser a row’s neighbourhood is than its neighbours’. PCA scores how far a row lies from the main directions of the training rows (a linear autoencoder), ECOD how far out in each feature’s tail it is. kNN and LOF compare with at most 20,000 training rows (a seeded sample beyond that, said below)."</p>
        </fieldset>
    }
}

fn figure(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}"))
}

fn milliseconds(ms: Option<f64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms < 1.0 => "< 1 ms".into(),
        Some(ms) if ms < 1000.0 => format!("{ms:.0} ms"),
        Some(ms) => format!("{:.1} s", ms / 1000.0),
    }
}

#[component]
fn CompareResults() -> impl IntoView {
    let compare = expect_context::<Playground>().table.compare;
    let summary = move || compare.summary.get();
    let none = move || compare.summary.with(Option::is_none);
    // The two wrappers are always on the page (hidden until there is a result), so a tutorial can point
    // at them before the first comparison.
    view! {
        <div id="cmp-results" hidden=none>
            {move || summary().map(|s| {
                let labelled = s.labelled;
                view! {
                    <p class="verdict" id="cmp-verdict">{s.verdict.clone()}</p>
                    <p class="explain" id="cmp-fitted-on">{fitted_on_sentence(&s)}
                        {(!s.methods.iter().any(|m| m.key == "vae")).then_some(" Train and score the autoencoder first to see it in the same table.")}</p>
                    <MethodTable summary=s.clone()/>
                    {if labelled { view! { <CompareCurves summary=s.clone()/> }.into_any() } else { view! { <Unlabelled summary=s/> }.into_any() }}
                }
            })}
        </div>
        <div id="cmp-why" hidden=none>
            {move || summary().map(|s| view! { <Explanations summary=s/><CompareDownload/> })}
        </div>
    }
}

/// On which rows the methods were fitted: here, or (read from a model file) on this file or another.
fn fitted_on_sentence(summary: &ComparisonSummary) -> String {
    let rows = thousands(summary.training_rows);
    match summary.fitted_on {
        FittedOn::ThisRun => format!("All trained on the same {rows} rows."),
        FittedOn::ModelFileSameRows => format!(
            "The classical methods come from the model file, fitted on {rows} rows of this file and not fitted again (so there is no fit time); they score these rows as on the day they were fitted."
        ),
        FittedOn::ModelFileOtherRows => format!(
            "The classical methods come from the model file, fitted on {} and not fitted again (so there is no fit time); every row here is new to them.",
            if summary.training_rows == 0 { "the rows of another file".to_string() } else { format!("{rows} rows of another file") }
        ),
    }
}

#[component]
fn MethodTable(summary: ComparisonSummary) -> impl IntoView {
    let labelled = summary.labelled;
    let preparing: Vec<f64> = summary.methods.iter().filter_map(|m| m.prepare_ms).collect();
    let prepare_note = (!preparing.is_empty()).then(|| format!(
        " Fit and score are each method's own work; reading and standardising the rows from the file took {} more per method.",
        match preparing.iter().sum::<f64>() / preparing.len() as f64 {
            ms if ms < 1.0 => "under 1 ms".to_string(),
            ms => format!("about {}", milliseconds(Some(ms))),
        }
    ));
    let rows = summary.methods.into_iter().map(|m| {
        let cells = if let Some(error) = &m.error {
            view! { <td colspan=if labelled { 6 } else { 2 } class="cannot">{format!("Could not run: {error}")}</td> }.into_any()
        } else if labelled {
            view! {
                <td>{figure(m.auc, 3)}</td>
                <td>{figure(m.average_precision, 3)}</td>
                <td>{figure(m.max_sic, 2)}</td>
                <td>{match (m.rejection_at_30, m.sic.as_ref()) {
                    // Large rejections as whole numbers with separators, like the "> 5,940" beside them.
                    (Some(r), _) if (10.0 * r).round() >= 1000.0 => thousands(r.round() as usize),
                    (Some(r), _) => format!("{r:.1}"),
                    // No background row passes the cut: the rejection is beyond what the rows can tell.
                    (None, Some(sic)) => format!("> {}", thousands(sic.background_rows)),
                    (None, None) => "–".into(),
                }}</td>
                <td>{milliseconds(m.fit_ms)}</td>
                <td>{milliseconds(m.score_ms)}</td>
            }.into_any()
        } else {
            view! { <td>{milliseconds(m.fit_ms)}</td><td>{milliseconds(m.score_ms)}</td> }.into_any()
        };
        view! {
            <tr data-method=m.key.clone()>
                <th scope="row">{m.name.clone()}{m.note.clone().map(|n| view! { <span class="note">{format!(" {n}")}</span> })}</th>
                {cells}
            </tr>
        }
    }).collect_view();
    view! {
        <div class="table-scroll">
            <table id="cmp-table" class="figures-table">
                <caption>"Each method on this table"{if labelled { " (figures of merit against the label column)." } else { "." }}{prepare_note}</caption>
                <thead><tr>
                    <th scope="col">"Method"</th>
                    {labelled.then(|| view! {
                        <th scope="col">"AUC"</th><th scope="col">"Average precision"</th><th scope="col">"Max SIC"</th>
                        <th scope="col">"1/ε_B at ε_S = 30 %"</th>
                    })}
                    <th scope="col">"Fit"</th><th scope="col">"Score"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The methods that have a ROC curve, with their labels.
fn judged(summary: &ComparisonSummary) -> Vec<&MethodSummary> {
    summary.methods.iter().filter(|m| m.roc.is_some()).collect()
}

#[component]
fn CompareCurves(summary: ComparisonSummary) -> impl IntoView {
    let roc_canvas = NodeRef::<leptos::html::Canvas>::new();
    let sic_canvas = NodeRef::<leptos::html::Canvas>::new();
    let for_roc = summary.clone();
    redraw(roc_canvas, "comparison ROC", move |c| {
        let curves: Vec<(String, &anomaly_engine::metrics::Roc)> =
            judged(&for_roc).into_iter().map(|m| (format!("{} ({:.3})", m.name, m.auc.unwrap_or(0.0)), m.roc.as_ref().unwrap())).collect();
        roc_overlay(c, &curves, &EVENT_CLASSES)
    });
    let for_sic = summary.clone();
    redraw(sic_canvas, "comparison SIC", move |c| {
        let curves: Vec<(String, &[(f64, f64)])> = for_sic
            .methods
            .iter()
            .filter_map(|m| m.sic.as_ref().map(|s| (format!("{} (max {:.2})", m.name, s.max_sic), s.curve.as_slice())))
            .collect();
        sic_curves(c, &curves)
    });
    let roc_text = format!(
        "ROC curves of the methods on one chart: {}.",
        judged(&summary).iter().map(|m| format!("{} AUC {:.3}", m.name, m.auc.unwrap_or(0.0))).collect::<Vec<_>>().join(", ")
    );
    let sic_text = format!(
        "SIC curves, ε_S/√ε_B against the signal kept: {}.",
        summary.methods.iter().filter_map(|m| m.max_sic.map(|s| format!("{} max {s:.2}", m.name))).collect::<Vec<_>>().join(", ")
    );
    view! {
        <div class="panels">
            <figure class="panel" id="cmp-roc-panel">
                <h3>"ROC curves"</h3>
                <canvas node_ref=roc_canvas class="chart tall" role="img" aria-label=roc_text.clone()></canvas>
                <figcaption>{roc_text}</figcaption>
            </figure>
            <figure class="panel" id="cmp-sic-panel">
                <h3>"SIC curves"</h3>
                <canvas node_ref=sic_canvas class="chart tall" role="img" aria-label=sic_text.clone()></canvas>
                <figcaption>{sic_text}</figcaption>
            </figure>
        </div>
    }
}

/// Without a label: each method's score histogram, and how many top rows each pair shares.
#[component]
fn Unlabelled(summary: ComparisonSummary) -> impl IntoView {
    let ran: Vec<(usize, MethodSummary)> = summary.methods.iter().cloned().enumerate().filter(|(_, m)| m.error.is_none()).collect();
    let histograms = ran.iter().map(|(_, m)| {
        let canvas = NodeRef::<leptos::html::Canvas>::new();
        let histogram = m.histogram.clone();
        redraw(canvas, "comparison histogram", move |c| match &histogram {
            Some(h) => score_histograms(c, h, None, &EVENT_CLASSES, false, None),
            None => Ok(()),
        });
        let text = m.histogram.as_ref().map_or_else(String::new, |h| format!(
            "Histogram of {}'s scores of every row, from {} to {} (the central 99 %).", m.name, significant(h.low), significant(h.high)
        ));
        view! {
            <figure class="panel small">
                <h4>{m.name.clone()}</h4>
                <canvas node_ref=canvas class="chart" role="img" aria-label=text.clone()></canvas>
                <figcaption>{text}</figcaption>
            </figure>
        }
    }).collect_view();
    let head = ran.iter().map(|(_, m)| view! { <th scope="col">{m.name.clone()}</th> }).collect_view();
    let body = ran.iter().map(|(i, m)| {
        let cells = ran.iter().map(|(j, _)| {
            let share = summary.agreement.get(*i).and_then(|r| r.get(*j)).copied().unwrap_or(0.0);
            view! { <td>{format!("{:.0} %", 100.0 * share)}</td> }
        }).collect_view();
        view! { <tr><th scope="row">{m.name.clone()}</th>{cells}</tr> }
    }).collect_view();
    view! {
        <div class="panels">{histograms}</div>
        <div class="table-scroll">
            <table id="cmp-agreement" class="figures-table">
                <caption>{format!("Share of their top {AGREEMENT_ROWS} rows two methods have in common")}</caption>
                <thead><tr><th scope="col">"Method"</th>{head}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

/// Explained rows shown at once; the rest open on request.
const SHOWN_ROWS: usize = 5;

/// Why each method's top rows scored high: per row, the features with the largest parts, as bars, with
/// the row's value beside the training rows' typical range.
#[component]
fn Explanations(summary: ComparisonSummary) -> impl IntoView {
    let compare = expect_context::<Playground>().table.compare;
    let explained: Vec<MethodSummary> = summary.methods.iter().filter(|m| m.error.is_none()).cloned().collect();
    let Some(first) = explained.first().map(|m| m.key.clone()) else { return ().into_any() };
    let chosen = RwSignal::new(first);
    let options = explained.iter().map(|m| view! { <option value=m.key.clone()>{m.name.clone()}</option> }).collect_view();
    let features = summary.features.clone();
    let ranges = summary.ranges.clone();
    // Methods from a model file fitted on another file have no training rows here: this file's rows stand in.
    let range_of = if summary.fitted_on == FittedOn::ModelFileOtherRows { "this file's rows" } else { "training rows" };
    let method = move || explained.iter().find(|m| m.key == chosen.get()).cloned();
    view! {
        <div class="explanations" id="cmp-explanations">
            <h4>"Why is this row anomalous?"</h4>
            <label for="cmp-explain-method">"Explain the top rows of "</label>
            <select id="cmp-explain-method" on:change=move |ev| chosen.set(event_target_value(&ev))>{options}</select>
            {move || method().map(|m| {
                let meaning = m.explanation_meaning.clone().unwrap_or_else(|| "This method has no per-feature explanation.".into());
                let explain_row = |row: &anomaly_engine::table::compare::ExplainedRow| {
                    let line = compare.line_of(row.row).map_or_else(String::new, |l| format!(", line {l}"));
                    let largest = row.features.iter().map(|f| f.part).fold(0.0f64, f64::max);
                    let bars = row.features.iter().filter(|f| f.part > 0.0).map(|f| {
                        let name = features.get(f.feature).cloned().unwrap_or_default();
                        let width = if largest > 0.0 { 100.0 * f.part / largest } else { 0.0 };
                        let range = format!(
                            "value {}; {range_of}: 5–95 % from {} to {}",
                            significant(f.value), significant(ranges.low[f.feature]), significant(ranges.high[f.feature])
                        );
                        let outside = f.value < ranges.low[f.feature] || f.value > ranges.high[f.feature];
                        view! {
                            <li>
                                <span class="part-name">{name}</span>
                                <span class="part-bar" style=format!("width: {width:.0}%") aria-hidden="true"></span>
                                <span class="part-value">{significant(f.part as f32)}</span>
                                <span class="part-range" class:outside=outside>{range}{outside.then_some(" (outside)")}</span>
                            </li>
                        }
                    }).collect_view();
                    view! {
                        <li class="explained-row">
                            <p>{format!("Row {}{line}: score {}", row.row + 1, significant(row.score))}</p>
                            {if row.features.is_empty() { view! { <p class="hint">"No per-feature parts for this method."</p> }.into_any() }
                             else { view! { <ul class="parts">{bars}</ul> }.into_any() }}
                        </li>
                    }
                };
                let first = m.top_rows.iter().take(SHOWN_ROWS).map(explain_row).collect_view();
                let more = m.top_rows.iter().skip(SHOWN_ROWS).map(explain_row).collect_view();
                let more_count = m.top_rows.len().saturating_sub(SHOWN_ROWS);
                view! {
                    <p class="explain" id="cmp-explain-meaning">{meaning}</p>
                    <ol class="explained-rows">{first}</ol>
                    {(more_count > 0).then(|| view! {
                        <details>
                            <summary>{format!("The next {more_count} rows")}</summary>
                            <ol class="explained-rows" start=SHOWN_ROWS + 1>{more}</ol>
                        </details>
                    })}
                }
            })}
        </div>
    }.into_any()
}

/// The file with every compared method's columns (and the autoencoder's, if it scored the rows).
#[component]
fn CompareDownload() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let start = move |_| {
        table.downloading.set(Some(0.0));
        send(state, &Command::Table(TableCommand::Download));
    };
    view! {
        <h4>"Download"</h4>
        <p class="explain">{super::results::COMPARED_COLUMNS}" With the autoencoder scored too, its anomaly_score and rank come first."</p>
        <button type="button" id="cmp-download" disabled=move || table.downloading.get().is_some() on:click=start>"Download the file with these scores"</button>
    }
}
