//! What the scores say: the loss while training; then the score histogram with a threshold, the most
//! anomalous rows, and, when a label column exists, the ROC curve, the SIC curve and their figures.

use leptos::prelude::*;

use super::percent;
use super::state::TablePhase;
use crate::app::loss::{redraw, table_loss_sentence, LossFigure};
use crate::app::state::Playground;
use crate::app::{count_of, thousands};
use crate::app::worker_link::send;
use crate::app::score_figures::{HistogramFigure, RocFigure};
use crate::plots::charts::{sic_curve, significant, EVENT_CLASSES};
use crate::protocol::{Command, TableCommand};
use anomaly_engine::sic::MIN_BACKGROUND_ROWS;
use anomaly_engine::table::prepare::TrainOn;

#[component]
pub fn TableResultsPanels() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let started = move || table.summary.with(Option::is_some);
    let scored = move || table.results.with(Option::is_some);
    let labelled = move || table.results.with(|r| r.as_ref().is_some_and(|r| r.roc.is_some()));
    let steps_per_epoch = Signal::derive(move || table.summary.with(|s| s.as_ref().map_or(1, |s| s.steps_per_epoch)));
    let roc = Signal::derive(move || table.results.with(|r| r.as_ref().and_then(|r| r.roc.clone())));
    let roc_sentence = Signal::derive(move || {
        roc.with(|roc| roc.as_ref().map_or_else(String::new, |roc| format!("ROC curve of signal kept against background kept, AUC {:.3}.", roc.auc)))
    });
    view! {
        <div class="panels" hidden=move || !started()>
            <LossFigure curves=table.curves steps_per_epoch id="table-loss-panel" unit="row" summary=table_loss_sentence/>
            <ScoreHistogram/>
            <RocFigure roc classes=&EVENT_CLASSES id="table-roc-panel" auc_id="table-auc" description=roc_sentence hidden=Signal::derive(move || !labelled())/>
            <div class="panel" hidden=move || !labelled()><TableSic/></div>
        </div>
        <div hidden=move || !scored()>
            <Figures/>
            <TopRows/>
            <Download/>
        </div>
    }
}

/// Positions of the threshold slider: its two ends are exactly the lowest and the highest score, so it can
/// select every row and only the top one.
const SLIDER_STEPS: f32 = 1000.0;

/// The score at a slider position, on a linear or a log scale over `(lowest, highest)`.
fn score_at(position: f32, (low, high): (f32, f32), log: bool) -> f32 {
    let t = (position / SLIDER_STEPS).clamp(0.0, 1.0);
    match t {
        0.0 => low,
        1.0 => high,
        _ if log => 10f32.powf(low.log10() + t * (high.log10() - low.log10())),
        _ => low + t * (high - low),
    }
}

/// The slider position of a score, the inverse of [`score_at`].
fn position_of(score: f32, (low, high): (f32, f32), log: bool) -> f32 {
    let t = if log { (score.log10() - low.log10()) / (high.log10() - low.log10()) } else { (score - low) / (high - low) };
    if t.is_finite() { (t.clamp(0.0, 1.0) * SLIDER_STEPS).round() } else { SLIDER_STEPS }
}

#[component]
fn ScoreHistogram() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let log_scale = RwSignal::new(false);
    let can_log = move || table.results.with(|r| r.as_ref().is_some_and(|r| r.log_histograms.is_some()));
    let log = move || log_scale.get() && can_log();
    let histograms = Signal::derive(move || {
        table.results.with(|r| {
            let r = r.as_ref()?;
            match (&r.log_histograms, log()) {
                (Some(logs), true) => Some(logs.clone()),
                _ => Some((r.background_histogram.clone(), r.signal_histogram.clone())),
            }
        })
    });
    let extent = move || table.results.with(|r| r.as_ref().map(|r| r.score_extent));
    let threshold = Signal::derive(move || table.counts.with(|c| c.as_ref().map(|c| c.threshold)));
    let slider_value = move || {
        let (extent, start) = table.results.with(|r| r.as_ref().map(|r| (r.score_extent, r.score_range.1)))?;
        Some(position_of(threshold.get().unwrap_or(start), extent, log()).to_string())
    };
    let on_slide = move |ev| {
        let (Ok(position), Some(extent)) = (event_target_value(&ev).parse::<f32>(), extent()) else { return };
        let value = score_at(position, extent, log());
        send(state, &Command::Table(TableCommand::Threshold { value }));
    };
    let counts = move || {
        table.counts.get().map(|c| {
            let mut text = format!(
                "Score ≥ {}: {} of {} ({}) selected.",
                significant(c.threshold), thousands(c.selected), count_of(c.scored, "row"), percent(c.selected as f64 / c.scored.max(1) as f64)
            );
            if let (Some(s), Some(b), Some(r)) = (c.signal_selected, c.background_selected, table.results.get()) {
                text += &format!(
                    " Signal kept: {} of {} (ε_S = {}); background kept: {} of {} (ε_B = {}).",
                    thousands(s), thousands(r.signal_rows), percent(s as f64 / r.signal_rows.max(1) as f64),
                    thousands(b), thousands(r.background_rows), percent(b as f64 / r.background_rows.max(1) as f64)
                );
            }
            text
        })
    };
    let description = Signal::derive(move || table.results.with(|r| {
        let Some(r) = r else { return "The score histogram appears once every row is scored.".to_string() };
        let rows = match r.signal_histogram {
            Some(_) => format!("Histogram of anomaly scores for {} background rows (filled) and {} signal rows (outline).", thousands(r.background_rows), thousands(r.signal_rows)),
            None => format!("Histogram of the anomaly scores of all {} scored rows.", thousands(r.scored_rows)),
        };
        let (lowest, highest) = (significant(r.score_extent.0), significant(r.score_extent.1));
        let axis = if log() {
            format!(" Scores run from {lowest} to {highest}, all on the log axis.")
        } else {
            let (below, above) = r.beyond_axis;
            let rows = |n: usize| count_of(n, "row");
            let beyond = match (below, above) {
                (0, 0) => String::new(),
                (0, a) => format!("; the last bin also counts the {} above it", rows(a)),
                (b, 0) => format!("; the first bin also counts the {} below it", rows(b)),
                (b, a) => format!("; the end bins also count the {} below and the {} above it", rows(b), rows(a)),
            };
            format!(" Scores run from {lowest} to {highest}; the axis shows {} to {}{beyond}.", significant(r.score_range.0), significant(r.score_range.1))
        };
        rows + &axis
    }));
    view! {
        <HistogramFigure histograms classes=&EVENT_CLASSES id="table-histogram-panel" description log_axis=Signal::derive(log) threshold
            explain="The autoencoder's score is the reconstruction error ½ Σ (x − x̂)² of the standardised features: how badly the model redraws a row; rows unlike those it trained on score high. ANODE's is ln p_SR − ln p_B and R-ANODE's ln p_S − ln p_B − ln p_B(m): how much likelier the row is under the window's (or the signal's) flow than under the background's.">
            <label class="check">
                <input type="checkbox" id="histogram-log" prop:checked=move || log_scale.get() disabled=move || !can_log()
                    on:change=move |ev| log_scale.set(event_target_checked(&ev))/>
                {move || if can_log() { "Log scale: every score on the axis and the slider, for long tails" } else { "Log scale (needs every score above zero)" }}
            </label>
            {move || extent().is_some().then(|| view! {
                <div class="threshold">
                    <label for="threshold">{move || if log() { "Threshold: select rows with a score at least (log steps, from the lowest score to the highest)" } else { "Threshold: select rows with a score at least (from the lowest score to the highest)" }}</label>
                    <input type="range" id="threshold" min="0" max=SLIDER_STEPS.to_string() step="1" prop:value=move || slider_value().unwrap_or_default()
                        aria-valuetext=move || threshold.get().map(significant) on:input=on_slide/>
                </div>
            })}
            <p id="threshold-counts" role="status" aria-live="polite">{counts}</p>
        </HistogramFigure>
    }
}

#[component]
fn TableSic() -> impl IntoView {
    let table = expect_context::<Playground>().table;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "SIC curve", move |c| {
        table.results.with(|r| match r.as_ref().and_then(|r| r.sic.as_ref()) {
            Some(sic) => sic_curve(c, &sic.curve, (sic.max_sic_signal_efficiency, sic.max_sic)),
            None => Ok(()),
        })
    });
    let max = move || table.results.with(|r| r.as_ref().and_then(|r| r.sic.as_ref()).map(|s| format!("{:.2}", s.max_sic)));
    let description = move || table.results.with(|r| r.as_ref().and_then(|r| r.sic.as_ref()).map_or_else(String::new, |s| format!(
        "SIC curve: the significance improvement ε_S/√ε_B against the signal kept. Its maximum is {:.2}, at ε_S = {} and ε_B = {}.",
        s.max_sic, percent(s.max_sic_signal_efficiency), percent(s.max_sic_background_efficiency)
    )));
    view! {
        <figure id="table-sic-panel">
            <h3>"SIC curve " <span class="auc">"max " <output id="table-max-sic">{move || max().unwrap_or_else(|| "–".into())}</output></span></h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=description></canvas>
            <figcaption>{description}</figcaption>
            <p class="explain">{format!(
                "A cut on the score multiplies the significance S/√B of a signal by SIC = ε_S/√ε_B. Working points keeping fewer than {MIN_BACKGROUND_ROWS} background rows are left out: there the SIC is noise."
            )}</p>
        </figure>
    }
}

#[component]
fn Figures() -> impl IntoView {
    let table = expect_context::<Playground>().table;
    let figures = move || {
        let results = table.results.get()?;
        let (roc, sic) = (results.roc.as_ref()?, results.sic.as_ref()?);
        let rejection = match sic.rejection_at_30 {
            Some(r) => format!("{r:.1}"),
            None => format!("above {} (no background row passes)", thousands(sic.background_rows)),
        };
        let trained_on_all = table.summary.with(|s| s.as_ref().is_some_and(|s| s.trained_on == TrainOn::AllRows));
        let resonant = table.summary.with(|s| s.as_ref().is_some_and(|s| s.resonance.is_some()));
        Some(view! {
            <dl class="figures" id="table-figures">
                <dt>"AUC"</dt><dd id="figure-auc">{format!("{:.3}", roc.auc)}</dd>
                <dt>"Max SIC"</dt><dd id="figure-max-sic">{format!("{:.2} (at ε_S = {}, ε_B = {})", sic.max_sic, percent(sic.max_sic_signal_efficiency), percent(sic.max_sic_background_efficiency))}</dd>
                <dt>"1/ε_B at ε_S = 30%"</dt><dd id="figure-rejection">{rejection}</dd>
                <dt>"Rows with a label"</dt><dd>{format!("{} signal, {} background", thousands(results.signal_rows), thousands(results.background_rows))}</dd>
            </dl>
            {(roc.auc < 0.5).then(|| view! {
                <p class="notice" id="auc-below-half">
                    {if resonant {
                        "The AUC is below 0.5: in the window the method found the background's shape less well than the signal's. With a small signal share the ratio of two densities is noisy; try more epochs, more sideband rows, or another seed, and compare R-ANODE with ANODE."
                    } else if trained_on_all {
                        "The AUC is below 0.5: the signal looks more ordinary to the model than the background does. Trained on all rows, an autoencoder also learns to redraw a signal that is common enough among them, and then it no longer stands out. Try training on the background rows only, or a smaller signal share."
                    } else {
                        "The AUC is below 0.5: the signal looks more ordinary to the model than the background does. A reconstruction error measures how unusual a row is for the model, which is not always what makes it signal."
                    }}
                </p>
            })}
        })
    };
    let note = move || table.results.with(|r| r.as_ref().and_then(|r| r.metrics_note.clone()));
    view! {
        <section class="panel wide" aria-labelledby="figures-title">
            <h3 id="figures-title">"Figures of merit"</h3>
            <ResonanceFigures/>
            {figures}
            {move || note().map(|n| view! { <p class="notice">{n}</p> })}
            {move || table.results.with(|r| r.as_ref().is_some_and(|r| r.roc.is_none() && r.metrics_note.is_none())).then(|| view! {
                <p>"Without a label column there is no ROC or SIC: the scores rank the rows, and the table below shows the most unusual ones."</p>
            })}
        </section>
    }
}

/// A resonance search's own figures: where the rows went, and R-ANODE's learned signal share against the
/// label's, when there is one.
#[component]
fn ResonanceFigures() -> impl IntoView {
    let table = expect_context::<Playground>().table;
    move || {
        let r = table.summary.get()?.resonance?;
        let learned_w = table.results.with(|res| res.as_ref().and_then(|res| res.learned_w));
        let beyond = table.results.with(|res| res.as_ref().map_or(0, |res| res.beyond_sidebands));
        let (low, high) = r.window;
        Some(view! {
            <p id="resonance-figures">{format!(
                "{} scored the {} rows with {} from {low} to {high} (the signal region); the {} rows outside it (the sidebands) taught the background flow and have no score{}.",
                r.method.name(), thousands(r.region_rows), r.resonant, thousands(r.sideband_rows),
                if r.missing_resonant > 0 { format!(", nor have the {} rows with no value of {}", thousands(r.missing_resonant), r.resonant) } else { String::new() },
            )}</p>
            {(beyond > 0).then(|| view! {
                <p id="beyond-sidebands">{format!(
                    "{} in the window lie beyond the sidebands' range of some feature, where the background flow has no density: they get the largest score a float holds ({}) and rank first.",
                    count_of(beyond, "row"), significant(f32::MAX),
                )}</p>
            })}
            {learned_w.map(|w| view! {
                <p id="learned-w">{match r.labelled_signal_share {
                    Some(truth) => format!(
                        "R-ANODE's learned signal share in the window: w = {}; the label says {}{}.",
                        significant(w as f32), significant(truth as f32),
                        if truth > 0.0 && (w / truth > 2.0 || w / truth < 0.5) { " (off by more than a factor of 2)" } else { "" },
                    ),
                    None => format!("R-ANODE's learned signal share in the window: w = {}.", significant(w as f32)),
                }}</p>
            })}
        })
    }
}

#[component]
fn TopRows() -> impl IntoView {
    let table = expect_context::<Playground>().table;
    let names = move || table.info.with(|i| i.as_ref().map(|i| i.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>()).unwrap_or_default());
    view! {
        <section class="panel wide" aria-labelledby="top-title">
            <h3 id="top-title">"The most anomalous rows"</h3>
            <div class="table-scroll" tabindex="0" role="region" aria-label="The most anomalous rows, in a table that scrolls sideways">
                <table class="data" id="top-rows">
                    <thead><tr>
                        <th scope="col">"Rank"</th><th scope="col">"Line"</th><th scope="col">"Score"</th>
                        {move || names().into_iter().map(|n| view! { <th scope="col">{n}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {move || table.top_rows.get().into_iter().map(|row| view! {
                            <tr>
                                <th scope="row">{row.rank}</th><td class="num">{row.line}</td><td class="num">{if row.score.abs() >= 1e6 { significant(row.score) } else { format!("{:.4}", row.score) }}</td>
                                {row.cells.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// What the compared methods add to the download.
pub(super) const COMPARED_COLUMNS: &str = "Each compared method adds more columns: <method>_score for every row, and <method>_top_features for its 20 most anomalous rows (the features with the largest parts in the score, as name:part;…; LOF has none).";

#[component]
fn Download() -> impl IntoView {
    let state = expect_context::<Playground>();
    let table = state.table;
    let busy = move || table.downloading.get().is_some() || table.phase.get() != TablePhase::Done;
    let start = move |_| {
        table.downloading.set(Some(0.0));
        send(state, &Command::Table(TableCommand::Download));
    };
    view! {
        <section class="panel wide" aria-labelledby="download-title">
            <h3 id="download-title">"Download the scores"</h3>
            <p>"Your file, every line unchanged, with two columns added: " <code>"anomaly_score"</code> " and " <code>"rank"</code>
               " (1 = most anomalous). Rows that could not be scored have both empty. Text cells that a spreadsheet would run as a formula get a leading apostrophe."</p>
            <p hidden=move || table.compare.summary.with(Option::is_none)>{COMPARED_COLUMNS}</p>
            {move || table.info.with(|i| i.as_ref().is_some_and(|i| !i.has_header)).then(|| view! {
                <p class="notice" id="download-no-header">"This file has no header row, so the download has none either: the anomaly score and the rank follow the file's own columns, then each compared method's two columns."</p>
            })}
            <button type="button" id="download-scores" class="primary" disabled=busy on:click=start>"Download the scored file"</button>
            {move || table.downloading.get().map(|f| view! {
                <p role="status" id="download-status">{format!("Writing the file: {}", percent(f))}</p>
            })}
            <div hidden=move || table.summary.with(|s| s.as_ref().is_some_and(|s| s.resonance.is_some()))>
            <h3 id="model-title">"Keep the model"</h3>
            <p>"The trained network as a " <code>".safetensors"</code> " file, with the feature names, the log and standardisation of each feature and the score's definition in its metadata. "
               "Load it here again later, or score a file of any size outside the browser with the playground's source code: "
               <code>"cargo run --release -p anomaly-engine --bin anomaly-score -- model.safetensors events.csv > scored.csv"</code>
               " writes the same file as the download above (scored on the CPU; WebGPU's scores agree to about one part in a million). It also reads in Python with numpy (see the README)."</p>
            <button type="button" id="download-model" disabled=busy
                on:click=move |_| send(state, &Command::Table(TableCommand::DownloadModel))>"Download the model"</button>
            <p>"Or as " <code>"ONNX"</code> " (opset 13): one graph from the raw feature columns, in the order its metadata names them, to the anomaly score, with the log, the standardisation and the missing-value policy inside, for ONNX Runtime, ROOT's TMVA SOFIE or any other runtime. It holds the autoencoder only."</p>
            <button type="button" id="download-onnx" disabled=busy
                on:click=move |_| send(state, &Command::Table(TableCommand::DownloadOnnx))>"Download as ONNX"</button>
            </div>
        </section>
    }
}
