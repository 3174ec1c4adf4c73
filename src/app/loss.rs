//! The loss curve, with a sentence that says what it shows.

use leptos::prelude::*;

use super::state::Playground;
use crate::plots::charts::loss_curve;

#[component]
pub fn LossPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        state.layout.track();
        let losses = state.curves.step_losses.get();
        let per_epoch = state.run.with(|r| r.as_ref().map_or(1, |r| r.steps_per_epoch));
        let validation: Vec<(usize, f32)> =
            state.curves.epochs.with(|e| e.iter().filter_map(|e| e.validation.map(|v| (e.epoch, v))).collect());
        if let Some(canvas) = canvas.get() {
            if let Err(err) = loss_curve(&canvas, &losses, per_epoch, &validation, "digit") {
                web_sys::console::warn_1(&format!("loss curve: {err}").into());
            }
        }
    });
    let summary = move || {
        state.curves.epochs.with(|epochs| match (epochs.first(), epochs.last()) {
            (Some(first), Some(last)) if epochs.len() > 1 => {
                let (a, b) = (first.validation.unwrap_or(first.train), last.validation.unwrap_or(last.train));
                let verb = if b < a { "fell" } else { "did not fall" };
                format!("The validation loss {verb} from {a:.1} after epoch {} to {b:.1} after epoch {}.", first.epoch, last.epoch)
            }
            (Some(only), _) => format!("After epoch {} the validation loss is {:.1}.", only.epoch, only.validation.unwrap_or(only.train)),
            _ => state.curves.step_losses.with(|l| match l.last() {
                Some(last) => format!("Training loss after {} steps: {last:.1}.", l.len()),
                None => "No training yet: the loss will appear here.".into(),
            }),
        })
    };
    view! {
        <figure class="panel" id="loss-panel">
            <h3>"Loss"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=summary></canvas>
            <figcaption id="loss-summary">{summary}</figcaption>
            <p class="explain">"How badly the network redraws the normal digits it trains on (lower is better). If the validation loss stops falling while the training loss keeps falling, the network is memorising."</p>
        </figure>
    }
}
