//! The latent space: where the encoder puts each test digit, seen along its two main directions.

use leptos::prelude::*;

use super::state::Playground;
use crate::plots::charts::latent_scatter;
use crate::plots::palette::{css, DIGIT_COLOURS};

#[component]
pub fn LatentPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        state.layout.track();
        state.evaluation.with(|evaluation| {
            if let (Some(canvas), Some(e)) = (canvas.get(), evaluation) {
                if let Err(err) = latent_scatter(&canvas, &e.latent, e.latent_explained) {
                    web_sys::console::warn_1(&format!("latent scatter: {err}").into());
                }
            }
        });
    });
    let description = move || {
        state.evaluation.with(|e| match e {
            Some(e) => format!(
                "Latent space of {} test digits, each drawn as its digit, projected on the two directions that explain {:.0}% and {:.0}% of its spread.",
                e.latent.len(), e.latent_explained[0] * 100.0, e.latent_explained[1] * 100.0
            ),
            None => "The latent space appears after the first epoch.".into(),
        })
    };
    view! {
        <figure class="panel wide" id="latent-panel" data-classroom="latent" hidden=move || state.hides(anomaly_state::page::PagePart::Latent)>
            <h3>"Latent space"</h3>
            <canvas node_ref=canvas class="chart tall" role="img" aria-label=description></canvas>
            <figcaption>{description}</figcaption>
            <ul class="legend" aria-label="Digit colours">
                {(0..10usize).map(|d| view! {
                    <li><span class="swatch" style=format!("background:{}", css(DIGIT_COLOURS[d]))></span>{d.to_string()}</li>
                }).collect_view()}
            </ul>
            <p class="explain">"The encoder squeezes each digit into a few numbers. Digits it knows cluster tightly; unfamiliar ones land elsewhere."</p>
        </figure>
    }
}
