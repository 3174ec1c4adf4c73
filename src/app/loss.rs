//! The loss curve of any run (the digits' VAE, a table's VAE, and each method to come), with a sentence
//! that says what it shows. The views differ only in their words.

use leptos::prelude::*;

use super::run_view::{EpochLoss, RunCurves};
use super::state::Playground;
use crate::plots::charts::loss_curve;

/// Draws with `draw` whenever what it reads changes, the window is resized or the view is switched (a
/// canvas in a hidden view has no size, so it is drawn again once shown).
pub fn redraw(canvas: NodeRef<leptos::html::Canvas>, name: &'static str, draw: impl Fn(&web_sys::HtmlCanvasElement) -> Result<(), String> + 'static) {
    let state = expect_context::<Playground>();
    Effect::new(move |_| {
        state.layout.track();
        state.view.track();
        if let Some(canvas) = canvas.get() {
            if let Err(err) = draw(&canvas) {
                web_sys::console::warn_1(&format!("{name}: {err}").into());
            }
        }
    });
}

/// A run's loss figure. `id` names the figure; `summary` writes its caption from the epochs' losses and
/// every step's loss; `unit` is what one example is called on the axis ("digit", "row").
#[component]
pub fn LossFigure(
    curves: RunCurves,
    #[prop(into)] steps_per_epoch: Signal<usize>,
    id: &'static str,
    #[prop(optional)] caption_id: Option<&'static str>,
    unit: &'static str,
    summary: fn(&[EpochLoss], &[f32]) -> String,
    #[prop(optional)] explain: Option<&'static str>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    redraw(canvas, "loss curve", move |c| {
        let losses = curves.step_losses.get();
        let validation: Vec<(usize, f32)> = curves.epochs.with(|e| e.iter().filter_map(|e| e.validation.map(|v| (e.epoch, v))).collect());
        loss_curve(c, &losses, steps_per_epoch.get(), &validation, unit)
    });
    let caption = move || curves.epochs.with(|epochs| curves.step_losses.with(|steps| summary(epochs, steps)));
    view! {
        <figure class="panel" id=id>
            <h3>"Loss"</h3>
            <canvas node_ref=canvas class="chart" role="img" aria-label=caption></canvas>
            <figcaption id=caption_id>{caption}</figcaption>
            {explain.map(|text| view! { <p class="explain">{text}</p> })}
        </figure>
    }
}

/// The digit view's caption: where the validation loss went.
pub fn digit_loss_sentence(epochs: &[EpochLoss], steps: &[f32]) -> String {
    match (epochs.first(), epochs.last()) {
        (Some(first), Some(last)) if epochs.len() > 1 => {
            let (a, b) = (first.validation.unwrap_or(first.train), last.validation.unwrap_or(last.train));
            let verb = if b < a { "fell" } else { "did not fall" };
            format!("The validation loss {verb} from {a:.1} after epoch {} to {b:.1} after epoch {}.", first.epoch, last.epoch)
        }
        (Some(only), _) => format!("After epoch {} the validation loss is {:.1}.", only.epoch, only.validation.unwrap_or(only.train)),
        _ => match steps.last() {
            Some(last) => format!("Training loss after {} steps: {last:.1}.", steps.len()),
            None => "No training yet: the loss will appear here.".into(),
        },
    }
}

/// The table view's caption: the validation loss after the first and the latest epoch (three decimals,
/// as standardised rows give small losses).
pub fn table_loss_sentence(epochs: &[EpochLoss], _steps: &[f32]) -> String {
    match (epochs.first(), epochs.last()) {
        (Some(a), Some(b)) if epochs.len() > 1 => format!(
            "Validation loss {:.3} after epoch {} and {:.3} after epoch {}.",
            a.validation.unwrap_or(a.train),
            a.epoch,
            b.validation.unwrap_or(b.train),
            b.epoch
        ),
        _ => "The loss appears as the model trains.".to_string(),
    }
}

/// The digit view's loss figure.
#[component]
pub fn LossPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let steps_per_epoch = Signal::derive(move || state.run.with(|r| r.as_ref().map_or(1, |r| r.steps_per_epoch)));
    view! {
        <LossFigure curves=state.curves steps_per_epoch id="loss-panel" caption_id="loss-summary" unit="digit"
            summary=digit_loss_sentence
            explain="How badly the network redraws the normal digits it trains on (lower is better). If the validation loss stops falling while the training loss keeps falling, the network is memorising."/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(epoch: usize, train: f32, validation: Option<f32>) -> EpochLoss {
        EpochLoss { epoch, train, validation }
    }

    #[test]
    fn the_captions_say_where_the_loss_went() {
        assert_eq!(digit_loss_sentence(&[], &[]), "No training yet: the loss will appear here.");
        assert_eq!(digit_loss_sentence(&[], &[9.0, 8.25]), "Training loss after 2 steps: 8.2.");
        assert_eq!(digit_loss_sentence(&[epoch(1, 8.0, Some(7.5))], &[8.0]), "After epoch 1 the validation loss is 7.5.");
        let two = [epoch(1, 8.0, Some(7.5)), epoch(2, 5.0, None)];
        assert_eq!(digit_loss_sentence(&two, &[]), "The validation loss fell from 7.5 after epoch 1 to 5.0 after epoch 2.");
        let rising = [epoch(1, 8.0, Some(7.5)), epoch(3, 5.0, Some(7.6))];
        assert!(digit_loss_sentence(&rising, &[]).starts_with("The validation loss did not fall"));
        assert_eq!(table_loss_sentence(&[epoch(1, 0.5, None)], &[]), "The loss appears as the model trains.");
        assert_eq!(table_loss_sentence(&two, &[]), "Validation loss 7.500 after epoch 1 and 5.000 after epoch 2.");
    }
}
