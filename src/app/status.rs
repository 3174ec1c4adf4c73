//! What is happening now: one sentence in a polite live region, the progress bar, and any notice.

use leptos::prelude::*;

use super::state::{Phase, Playground};
use super::thousands;

#[component]
pub fn StatusPanel() -> impl IntoView {
    let state = expect_context::<Playground>();
    let sentence = move || match state.phase.get() {
        Phase::LoadingData => "Loading the handwritten digits…".to_string(),
        Phase::DataFailed(message) => message,
        Phase::Ready => match state.run.get() {
            Some(_) => "Ready.".into(),
            None => format!("{} digits loaded. Pick the normal digits and press Train.", thousands(state.digits_loaded.get())),
        },
        Phase::Training => "Training…".into(),
        Phase::FineTuning if state.running_control.get() => "Control run: fine-tuning without the labelled anomalies…".into(),
        Phase::FineTuning => "Fine-tuning with labelled anomalies…".into(),
        Phase::Paused => match state.paused_stage2() {
            Some((control, step, total)) => {
                let next = match (state.can_resume_stage2(control), control) {
                    (true, true) => "Press \"Resume the control\" to carry on, or train a new run.",
                    (true, false) => "Press \"Resume fine-tuning\" to carry on, or train a new run.",
                    (false, _) => "The fine-tuning settings have changed, so stage 2 will start again from the stage-1 model.",
                };
                let what = if control { "The control run" } else { "Fine-tuning" };
                format!("{what} paused at step {step} of {total}; the network holds its weights from that step. {next}")
            }
            None => "Paused. Resume, step, or change the settings and train a new run.".into(),
        },
        Phase::Finished => match state.evaluation.with(|e| e.as_ref().map(|e| e.auc)) {
            Some(auc) => format!("Finished. On the test digits the AUC is {auc:.3}."),
            None => "Finished.".into(),
        },
        Phase::Diverged(message) => format!("Stopped: {message}"),
        Phase::WorkerDied(detail) => format!(
            "The training worker stopped unexpectedly ({detail}). Your charts are kept; start a new worker to train again."
        ),
    };
    let is_problem = move || matches!(state.phase.get(), Phase::DataFailed(_) | Phase::Diverged(_) | Phase::WorkerDied(_));
    view! {
        <div class="status">
            <p id="status" class="status-sentence" class:problem=is_problem role="status" aria-live="polite">{sentence}</p>
            <ProgressBar/>
            {move || state.notice.get().map(|notice| view! {
                <p id="notice" class="notice problem" role="alert">{notice}</p>
            })}
        </div>
    }
}

#[component]
fn ProgressBar() -> impl IntoView {
    let state = expect_context::<Playground>();
    let numbers = move || {
        state.curves.progress.get().map(|p| {
            let total = (p.epochs * p.steps_per_epoch).max(1);
            let done = (p.epochs_done * p.steps_per_epoch + p.step_in_epoch).min(total);
            // Right after an epoch ends, show it as complete ("epoch 2 · step 11 of 11"), not as the next one.
            let (epoch_shown, step_shown) = if p.step_in_epoch == 0 && p.epochs_done > 0 {
                (p.epochs_done, p.steps_per_epoch)
            } else {
                (p.epochs_done + 1, p.step_in_epoch)
            };
            let text = format!(
                "Epoch {epoch_shown} of {} · step {step_shown} of {} · {} digits/s · {}",
                p.epochs,
                p.steps_per_epoch,
                thousands(p.samples_per_second.round() as usize),
                time_left(p.seconds_left),
            );
            (done, total, text)
        })
    };
    view! {
        <div class="progress" aria-hidden=move || numbers().is_none().to_string()>
            <progress id="progress" max=move || numbers().map_or(1, |n| n.1) value=move || numbers().map_or(0, |n| n.0)
                aria-label="Training progress" aria-valuetext=move || numbers().map(|n| n.2).unwrap_or_default()></progress>
            <p id="progress-text" class="progress-text">{move || numbers().map(|n| n.2).unwrap_or_default()}</p>
        </div>
    }
}

fn time_left(seconds: f64) -> String {
    if seconds < 1.0 {
        "less than a second left".into()
    } else if seconds < 90.0 {
        format!("about {} s left", seconds.round())
    } else {
        format!("about {} min left", (seconds / 60.0).round())
    }
}
