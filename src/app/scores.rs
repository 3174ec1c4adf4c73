//! How well the score separates normal digits from anomalies: ROC curve, score histograms, and the AUC
//! of each anomalous digit on its own.

use leptos::prelude::*;

use super::score_figures::{HistogramFigure, RocFigure};
use super::state::Playground;
use crate::plots::charts::DIGIT_CLASSES;

#[component]
pub fn RocPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let roc = Signal::derive(move || state.evaluation.with(|e| e.as_ref().map(|e| e.roc.clone())));
    let description = Signal::derive(move || {
        state.evaluation.with(|e| match e {
            Some(e) => {
                let at = |fpr: f64| {
                    let roc = &e.roc;
                    let i = roc.false_positive_rate.iter().rposition(|&f| f <= fpr).unwrap_or(0);
                    roc.true_positive_rate[i] * 100.0
                };
                let on = state.evaluated_on.get().map_or(String::new(), |b| format!(" (test digits scored on {})", crate::app::compute::backend_name(b)));
                format!(
                    "ROC curve with AUC {:.3}{on}. Flagging 1% of normal test digits finds {:.0}% of the anomalies; flagging 10% finds {:.0}%.",
                    e.auc, at(0.01), at(0.10)
                )
            }
            None => "The ROC curve appears after the first epoch.".into(),
        })
    });
    view! {
        <RocFigure roc classes=&DIGIT_CLASSES id="roc-panel" auc_id="auc-value" description
            explain="Slide a threshold on the score from high to low: each point is how many anomalies are caught for how many normal digits wrongly flagged. AUC 1 is perfect, 0.5 is a blind guess."/>
    }
}

#[component]
pub fn HistogramPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let histograms = Signal::derive(move || state.evaluation.with(|e| e.as_ref().map(|e| (e.normal_scores.clone(), Some(e.anomalous_scores.clone())))));
    let description = Signal::derive(move || {
        state.evaluation.with(|e| match e {
            Some(e) => {
                let mean = |name: bool| {
                    let rows: Vec<_> = e.per_digit.iter().filter(|d| d.is_anomaly == name).collect();
                    let n: usize = rows.iter().map(|d| d.count).sum();
                    rows.iter().map(|d| d.mean_score as f64 * d.count as f64).sum::<f64>() / n.max(1) as f64
                };
                format!(
                    "Score histograms of {} normal and {} anomalous test digits. Mean score: normal {:.1}, anomalous {:.1}.",
                    e.test_normal, e.test_anomalous, mean(false), mean(true)
                )
            }
            None => "The score histograms appear after the first epoch.".into(),
        })
    });
    view! {
        <HistogramFigure histograms classes=&DIGIT_CLASSES id="histogram-panel" description
            explain="The further apart the two shapes, the easier anomalies are to pick out. Where they overlap, no threshold separates them."/>
    }
}

#[component]
pub fn AucTable() -> impl IntoView {
    let state = expect_context::<Playground>();
    let rows = move || state.evaluation.with(|e| e.as_ref().map(|e| e.per_digit.clone()).unwrap_or_default());
    view! {
        <section class="panel" id="auc-table-panel" aria-labelledby="auc-table-title">
            <h3 id="auc-table-title">"Each digit on its own"</h3>
            <table id="auc-table">
                <caption class="visually-hidden">"Mean anomaly score of each digit in the test set, and for each anomalous digit its AUC against the normal digits"</caption>
                <thead><tr><th scope="col">"Digit"</th><th scope="col">"Role"</th><th scope="col">"Test digits"</th><th scope="col">"Mean score"</th><th scope="col">"AUC vs normal"</th></tr></thead>
                <tbody>
                    {move || rows().into_iter().map(|d| view! {
                        <tr class:anomaly=d.is_anomaly>
                            <th scope="row">{d.digit.to_string()}</th>
                            <td>{if d.is_anomaly { "anomaly" } else { "normal" }}</td>
                            <td>{d.count.to_string()}</td>
                            <td>{format!("{:.1}", d.mean_score)}</td>
                            <td>{d.auc.map_or("–".to_string(), |a| format!("{a:.3}"))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="explain">"Some anomalies are harder than others: a digit that looks like a normal one scores lower."</p>
        </section>
    }
}
