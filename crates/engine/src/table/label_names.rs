//! Which column of a visitor's table is probably the answer (the label), and which of its two values
//! marks the anomalies. A wrong guess is costly: a label taken as a feature lets the network learn the
//! answer and the page says there is no label. So the names come from what public anomaly-detection
//! tables actually call their label, and the test below keeps a table of them with their sources.
//!
//! Names are compared after folding case and dropping `_`, `-`, `.`, `/` and spaces, so `is_anomaly`,
//! `isAnomaly` and `Is Anomaly` are one name. Only a column with exactly two values can be the label;
//! the caller checks that.

/// Folded names that mean "this column is the label".
const LABEL_NAMES: [&str; 35] = [
    // Generic.
    "label", "labels", "class", "target", "y", "truth", "groundtruth", "gt", "outcome",
    // Anomaly detection (ODDS and ADBench tables, NAB, Yahoo S5, PyOD examples).
    "anomaly", "anomalies", "isanomaly", "anomalous", "isanomalous", "anomalylabel", "outlier",
    "outliers", "isoutlier", "outlierlabel",
    // Fraud, intrusion and fault tables (Kaggle credit-card, IEEE-CIS, KDD Cup 99, SWaT, UNSW-NB15).
    "fraud", "isfraud", "fraudulent", "attack", "isattack", "normalattack", "malicious", "fault",
    "failure",
    // Medical tables scored as anomaly detection (WDBC's diagnosis M/B).
    "diagnosis",
    // Collider physics (LHC Olympics R&D, toy dijet events).
    "issignal", "signal", "sig", "signalflag", "truthlabel", "issig",
];

/// Value names that mark the anomalous (signal) side of a label.
const SIGNAL_WORDS: [&str; 14] = [
    "sig", "signal", "s", "anomaly", "anomalous", "outlier", "fraud", "attack", "abnormal", "malignant",
    "m", "true", "yes", "positive",
];
/// Value names that mark the normal (background) side of a label.
const BACKGROUND_WORDS: [&str; 14] = [
    "bkg", "background", "b", "normal", "inlier", "benign", "legit", "legitimate", "clean", "false", "no",
    "negative", "ok", "nominal",
];

/// A header or value folded for comparison: lower case, without `_`, `-`, `.`, `/` or blanks.
pub(crate) fn folded(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | '/' | ' ' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a column's header names a label.
pub fn is_label_name(name: &str) -> bool {
    LABEL_NAMES.contains(&folded(name).as_str())
}

/// Which of a label's two values (0 or 1, in the order the column summary gives them) marks signal:
/// a value named like signal, or the other one when one is named like background; otherwise the second
/// (numbers come in ascending order, so 0/1 gives 1).
pub fn signal_side(values: &[String; 2]) -> usize {
    let word = |v: &str| folded(v);
    let is_signal = |v: &str| SIGNAL_WORDS.contains(&word(v).as_str());
    let is_background = |v: &str| BACKGROUND_WORDS.contains(&word(v).as_str());
    let first_looks_signal = is_signal(&values[0]) && !is_signal(&values[1]);
    let second_looks_background = is_background(&values[1]) && !is_background(&values[0]);
    if first_looks_signal || second_looks_background {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Label headers as public tables spell them, with where each is used.
    const REAL_LABEL_HEADERS: [(&str, &str); 24] = [
        ("label", "ADBench tables here, LHC Olympics R&D, NAB"),
        ("Class", "Kaggle credit-card fraud"),
        ("isFraud", "IEEE-CIS fraud detection"),
        ("is_anomaly", "Yahoo S5 anomaly benchmark"),
        ("anomaly", "NAB-style exports, many tutorials"),
        ("y", "ODDS .mat tables, PyOD examples"),
        ("outlier", "ELKI-style exports"),
        ("is_outlier", "generated outlier sets"),
        ("target", "scikit-learn's Bunch tables"),
        ("Outcome", "Pima diabetes (ADBench 29)"),
        ("diagnosis", "Wisconsin breast cancer (ADBench 43)"),
        ("Normal/Attack", "SWaT water-treatment logs"),
        ("attack", "intrusion tables"),
        ("Label", "CIC-IDS intrusion tables"),
        ("ground_truth", "hand-labelled exports"),
        ("is_signal", "toy dijet events here"),
        ("signal", "collider exports"),
        ("truth", "collider exports"),
        ("fraud", "fraud tables"),
        ("is-anomaly", "hyphenated exports"),
        ("Is Anomaly", "spreadsheet exports"),
        (" LABEL ", "padded headers"),
        ("malicious", "URL and malware tables"),
        ("Anomaly_Label", "sensor exports"),
    ];

    #[test]
    fn every_real_world_label_header_is_recognised() {
        for (name, source) in REAL_LABEL_HEADERS {
            assert!(is_label_name(name), "{name:?} ({source}) was not recognised as a label");
        }
    }

    #[test]
    fn feature_headers_are_not_labels() {
        for name in ["x1", "mass", "mjj", "pt", "column 3", "", "V14", "Amount", "classification_score", "yy"] {
            assert!(!is_label_name(name), "{name:?} was taken for a label");
        }
    }

    #[test]
    fn the_signal_side_follows_the_value_names() {
        let pair = |a: &str, b: &str| [a.to_string(), b.to_string()];
        assert_eq!(signal_side(&pair("0", "1")), 1);
        assert_eq!(signal_side(&pair("sig", "bkg")), 0);
        assert_eq!(signal_side(&pair("bkg", "sig")), 1);
        assert_eq!(signal_side(&pair("M", "B")), 0, "WDBC: malignant is the anomaly");
        assert_eq!(signal_side(&pair("Attack", "Normal")), 0);
        assert_eq!(signal_side(&pair("Normal", "Attack")), 1);
        assert_eq!(signal_side(&pair("outlier", "inlier")), 0);
        assert_eq!(signal_side(&pair("cat", "normal")), 0, "the value that is not normal");
        assert_eq!(signal_side(&pair("cat", "dog")), 1, "no hint: the second value");
    }
}
