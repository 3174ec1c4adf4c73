//! The sentences under the Anomaly Awareness table: what fine-tuning changed, what carries the mean, what
//! the control says about it, and where the scores were computed. Plain functions of the results, so
//! they are tested natively.

use super::compute::backend_name;
use crate::protocol::Backend;
use anomaly_engine::awareness::{largest_unseen_gain, mean_unseen_change, mean_unseen_change_except, FamilyAuc};

/// Where the scores behind the table came from (the visitor may switch backends between the two).
pub fn scored_on(every: &str, before: Backend, after: Backend) -> String {
    match (before, after) {
        (b, a) if b == a => format!("{every} was computed on {}.", backend_name(b)),
        (b, a) => format!("Scores before fine-tuning were computed on {}, and after it on {}.", backend_name(b), backend_name(a)),
    }
}

/// How the anomaly-aware run compares with its control: the control's mean change over the unseen
/// families, the anomalies' own share, and the unseen families that gained no more than in the control.
pub fn compare_with_control(results: &[FamilyAuc], control: &[FamilyAuc]) -> String {
    let (Some(with), Some(without)) = (mean_unseen_change(results), mean_unseen_change(control)) else {
        return String::new();
    };
    let mut text = format!(
        "The control, the same steps without the anomalies, changed the unseen families by {without:+.3}: the anomalies' own share is {:+.3}.",
        with - without
    );
    let not_theirs: Vec<&str> = results
        .iter()
        .filter(|r| !r.shown && r.before <= 0.995)
        .filter(|r| {
            let control_after = control.iter().find(|c| c.name == r.name).and_then(|c| c.after);
            matches!((r.after, control_after), (Some(a), Some(c)) if a > r.before + 0.0005 && a <= c + 0.0005)
        })
        .map(|r| r.name.as_str())
        .collect();
    let named = in_words(&not_theirs);
    // The same leave-one-out as the paragraph above, for the control: what the anomalies did for the
    // unseen families other than the one that gained most.
    let mut beyond_largest = None;
    if let Some(gain) = largest_unseen_gain(results) {
        if let Some(control_others) = mean_unseen_change_except(control, Some(&gain.name)) {
            text.push_str(&format!(
                " Leaving out {}, the control changed the other unseen families by {control_others:+.3}, against {:+.3} with the anomalies.",
                gain.name, gain.others
            ));
            beyond_largest = (gain.others <= control_others + 0.0005).then_some(gain.name);
        }
    }
    match (beyond_largest, not_theirs.is_empty()) {
        (Some(name), true) => text.push_str(&format!(" Beyond {name}, the anomalies added nothing on average.")),
        (Some(name), false) => text.push_str(&format!(
            " Beyond {name}, the anomalies added nothing on average: {named} gained as much or more in the control."
        )),
        (None, false) => text.push_str(&format!(
            " {} gained as much or more in the control: that gain comes from training longer, not from the anomalies.",
            capitalise(&named)
        )),
        (None, true) => {}
    }
    text
}

/// Whether the mean over the unseen families rests on one of them (see [`largest_unseen_gain`]).
pub fn largest_gain(results: &[FamilyAuc]) -> String {
    largest_unseen_gain(results).map_or(String::new(), |g| {
        format!(
            "{} gained most of the unseen families ({:+.3}); without it, the others changed by {:+.3} on average.",
            capitalise(&g.name),
            g.change,
            g.others
        )
    })
}

/// "a", "a and b", "a, b and c".
fn in_words(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => only.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| first.to_uppercase().chain(chars).collect())
}

/// The headline sentence, with any family that got worse named and explained.
pub fn summarise(results: &[FamilyAuc]) -> String {
    let mean = |shown: bool, after: bool| {
        let picked: Vec<f64> = results.iter().filter(|r| r.shown == shown).map(|r| if after { r.after.unwrap_or(r.before) } else { r.before }).collect();
        picked.iter().sum::<f64>() / picked.len().max(1) as f64
    };
    let (before, after) = (mean(false, false), mean(false, true));
    let mut text = format!(
        "Mean AUC over the families never shown: {before:.3} before, {after:.3} after ({:+.3}). Over the shown families: {:.3} → {:.3}.",
        after - before,
        mean(true, false),
        mean(true, true)
    );
    let worse: Vec<String> = results
        .iter()
        .filter(|r| r.after.is_some_and(|a| a < r.before - 0.0005))
        .map(|r| format!("{} ({:+.3})", r.name, r.after.unwrap_or(r.before) - r.before))
        .collect();
    if !worse.is_empty() {
        text.push_str(&format!(
            " Worse after fine-tuning: {}. Fine-tuning teaches the network what some anomalies look like; kinds that resemble \
             neither those nor the normal digits need not benefit, and some normal digits may now be redrawn a little worse too.",
            worse.join(", ")
        ));
    }
    let ceiling = results.iter().filter(|r| !r.shown && r.before > 0.995).count();
    if ceiling > 0 {
        text.push_str(&format!(" {ceiling} unseen famil{} already had an AUC near 1 and had no room to improve.", if ceiling == 1 { "y" } else { "ies" }));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_engine::data::anomalies::AnomalyFamily;

    fn row(name: &str, shown: bool, before: f64, after: f64) -> FamilyAuc {
        FamilyAuc { family: AnomalyFamily::Noise, name: name.into(), shown, count: 100, before, after: Some(after) }
    }

    #[test]
    fn the_headline_names_the_means_the_families_that_got_worse_and_those_at_the_ceiling() {
        let results = [row("noisy", true, 0.80, 0.95), row("digit 9", false, 0.60, 0.84), row("rotated", false, 0.90, 0.88), row("inverted", false, 0.999, 0.999)];
        let text = summarise(&results);
        assert!(
            text.starts_with("Mean AUC over the families never shown: 0.833 before, 0.906 after (+0.073). Over the shown families: 0.800 → 0.950."),
            "{text}"
        );
        assert!(text.contains(" Worse after fine-tuning: rotated (-0.020)."), "{text}");
        assert!(text.ends_with(" 1 unseen family already had an AUC near 1 and had no room to improve."), "{text}");
        assert_eq!(
            largest_gain(&results),
            "Digit 9 gained most of the unseen families (+0.240); without it, the others changed by -0.010 on average."
        );
    }

    #[test]
    fn the_control_sentence_separates_what_the_anomalies_did_from_training_longer() {
        let results = [row("noisy", true, 0.80, 0.95), row("digit 9", false, 0.60, 0.84), row("blurred", false, 0.70, 0.73), row("rotated", false, 0.90, 0.89)];
        // The control gains less on digit 9, but as much or more on the others.
        let control = [row("noisy", true, 0.80, 0.82), row("digit 9", false, 0.60, 0.65), row("blurred", false, 0.70, 0.75), row("rotated", false, 0.90, 0.91)];
        let text = compare_with_control(&results, &control);
        assert!(text.starts_with("The control, the same steps without the anomalies, changed the unseen families by +0.037: the anomalies' own share is +0.050."), "{text}");
        assert!(text.contains(" Leaving out digit 9, the control changed the other unseen families by +0.030, against +0.010 with the anomalies."), "{text}");
        assert!(text.ends_with(" Beyond digit 9, the anomalies added nothing on average: blurred gained as much or more in the control."), "{text}");
        // Where the anomalies did more than the control beyond the largest gain, only the families that
        // gained no more than in the control are named.
        let stronger = [row("noisy", true, 0.80, 0.95), row("digit 9", false, 0.60, 0.84), row("blurred", false, 0.70, 0.73), row("rotated", false, 0.90, 0.96)];
        let text = compare_with_control(&stronger, &control);
        assert!(text.ends_with(" Blurred gained as much or more in the control: that gain comes from training longer, not from the anomalies."), "{text}");
        // Without a finished control there is nothing to compare.
        let unfinished: Vec<FamilyAuc> = control.iter().map(|r| FamilyAuc { after: None, ..r.clone() }).collect();
        assert_eq!(compare_with_control(&results, &unfinished), "");
    }

    #[test]
    fn lists_and_backends_read_as_sentences() {
        assert_eq!(in_words(&[]), "");
        assert_eq!(in_words(&["blurred"]), "blurred");
        assert_eq!(in_words(&["blurred", "digit 8"]), "blurred and digit 8");
        assert_eq!(in_words(&["blurred", "digit 8", "scribbles"]), "blurred, digit 8 and scribbles");
        assert_eq!(capitalise("digit 9"), "Digit 9");
        assert_eq!(scored_on("Every score here", Backend::Cpu, Backend::Cpu), "Every score here was computed on the CPU.");
        assert_eq!(
            scored_on("Every score here", Backend::Cpu, Backend::WebGpu),
            "Scores before fine-tuning were computed on the CPU, and after it on WebGPU."
        );
    }
}
