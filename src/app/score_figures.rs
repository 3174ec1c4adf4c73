//! The score panels every run shares, whatever its method: the score histograms of the normal and the
//! anomalous examples, and the ROC curve with its AUC. Each view passes its own numbers and words.

use anomaly_engine::metrics::{Histogram, Roc};
use leptos::prelude::*;

use super::loss::redraw;
use crate::plots::charts::{roc_curve, score_histograms, ClassNames};

/// A ROC curve with the AUC in its heading. `auc_id` names the AUC's `<output>`; `description` is the
/// caption and the canvas's text alternative.
#[component]
pub fn RocFigure(
    #[prop(into)] roc: Signal<Option<Roc>>,
    classes: &'static ClassNames,
    id: &'static str,
    auc_id: &'static str,
    #[prop(into)] description: Signal<String>,
    #[prop(optional)] explain: Option<&'static str>,
    #[prop(optional, into)] hidden: Signal<bool>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "ROC curve", move |c| roc.with(|roc| roc.as_ref().map_or(Ok(()), |roc| roc_curve(c, roc, classes))));
    let auc = move || roc.with(|roc| roc.as_ref().map_or_else(|| "–".to_string(), |roc| format!("{:.3}", roc.auc)));
    view! {
        <figure class="panel" id=id hidden=hidden>
            <h3>"ROC curve " <span class="auc">"AUC " <output id=auc_id>{auc}</output></span></h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=description></canvas>
            <figcaption>{description}</figcaption>
            {explain.map(|text| view! { <p class="explain">{text}</p> })}
        </figure>
    }
}

/// The normal examples' scores as a filled histogram and, when the rows carry a label, the anomalies'
/// as an outline on the same bins. `children` (a threshold, say) go under the caption. With `log_axis`
/// the histograms' bins are in log10 of the score; `threshold`, a score, is drawn as a line.
#[component]
pub fn HistogramFigure(
    #[prop(into)] histograms: Signal<Option<(Histogram, Option<Histogram>)>>,
    classes: &'static ClassNames,
    id: &'static str,
    #[prop(into)] description: Signal<String>,
    explain: &'static str,
    #[prop(optional, into)] log_axis: Signal<bool>,
    #[prop(optional, into)] threshold: Signal<Option<f32>>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "histogram", move |c| {
        let (log_axis, threshold) = (log_axis.get(), threshold.get());
        histograms.with(|h| {
            h.as_ref().map_or(Ok(()), |(normal, anomalous)| score_histograms(c, normal, anomalous.as_ref(), classes, log_axis, threshold))
        })
    });
    view! {
        <figure class="panel" id=id>
            <h3>"Anomaly scores"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=description></canvas>
            <figcaption>{description}</figcaption>
            {children.map(|children| children())}
            <p class="explain">{explain}{move || (!log_axis.get()).then_some(
                " The end bins also count the few scores beyond the axis (the lowest and highest half percent), so no example is left out.")}</p>
        </figure>
    }
}
