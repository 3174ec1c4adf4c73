//! Test digits beside the network's reconstruction of them.

use leptos::prelude::*;

use super::state::Playground;
use crate::plots::digits::draw_digit;
use anomaly_engine::evaluate::Reconstruction;

#[component]
pub fn ReconstructionPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let items = move || state.evaluation.with(|e| e.as_ref().map(|e| e.reconstructions.clone()).unwrap_or_default());
    view! {
        <section class="panel wide" id="reconstruction-panel" aria-labelledby="reconstruction-title">
            <h3 id="reconstruction-title">"Digits and how the network redraws them"</h3>
            <ul class="reconstructions">
                {move || items().into_iter().map(|item| view! { <ReconstructionPair item/> }).collect_view()}
            </ul>
            <p class="explain">"Top: a test digit. Bottom: the network's attempt to redraw it from its compressed code. Normal digits come back well; anomalies come back looking like normal digits, which is what gives them a high score."</p>
        </section>
    }
}

#[component]
fn ReconstructionPair(item: Reconstruction) -> impl IntoView {
    let original = NodeRef::<leptos::html::Canvas>::new();
    let rebuilt = NodeRef::<leptos::html::Canvas>::new();
    let (pixels, redrawn) = (item.original.clone(), item.reconstructed.clone());
    Effect::new(move |_| {
        if let (Some(a), Some(b)) = (original.get(), rebuilt.get()) {
            draw_digit(&a, &pixels);
            draw_digit(&b, &redrawn);
        }
    });
    let kind = if item.is_anomaly { "anomaly" } else { "normal" };
    let label = format!("A {kind} {} with score {:.1}", item.digit, item.score);
    view! {
        <li class="pair" class:anomaly=item.is_anomaly>
            <canvas node_ref=original class="digit" role="img" aria-label=format!("{label}: the original")></canvas>
            <canvas node_ref=rebuilt class="digit" role="img" aria-label=format!("{label}: its reconstruction")></canvas>
            <span class="pair-label">{format!("{} · {kind}", item.digit)}<br/>{format!("score {:.0}", item.score)}</span>
        </li>
    }
}
