//! A table's setup in a share link. A link never carries a visitor's data, only what they chose about it:
//! the role of each column, the data choices and the model's settings, plus a fingerprint of the header
//! they were made for. Whoever opens the link loads their own file; if its header has the same
//! fingerprint, the choices are restored, otherwise the page says so and suggests roles as usual.
//!
//! `table.header=9f3c…&table.roles=FFffil&table.signal=1&table.missing=drop&table.train=all&…`
//!
//! Roles are one letter a column: `f` feature, `F` feature with a log taken first, `l` label, `i` ignored,
//! `r` the resonant variable. ANODE and R-ANODE add `table.method=anode|ranode` and the signal region,
//! `table.sr.low` and `table.sr.high`. The classical methods to compare, when they are not the default
//! (all five, default settings): `table.cmp=pca,iforest,knn,ecod,lof` (or `none`), `table.cmp.knn` and
//! `table.cmp.lof` (k), `table.cmp.pcavar` (the variance share PCA keeps) and `table.cmp.seed`.
//! Anomaly Awareness on the table, when chosen: `table.aa.col` (the column naming the kinds), `table.aa.shown`
//! (the shown kinds as positions among that column's kinds, sorted: a kind's name is the visitor's data,
//! so the link does not spell it), `table.aa.labelled`, `table.aa.epochs` and `table.aa.lambda`.

use anomaly_engine::baselines::BaselineKind;
use anomaly_engine::table::compare::ComparisonChoice;
use anomaly_engine::table::prepare::{ColumnChoice, MissingPolicy, Role, TableMethod, TableSetup, TrainOn, MAX_TRAINING_ROWS, VALIDATION_FRACTION};
use anomaly_engine::settings::MODEL_SETTINGS;
use anomaly_engine::table::ColumnSummary;
use super::quote;

#[derive(Clone, Debug, PartialEq)]
pub struct SharedTable {
    /// [`header_fingerprint`] of the column names the choices were made for.
    pub header: u64,
    pub setup: TableSetup,
    /// The classical methods ticked for comparison, and their settings.
    pub compare: ComparisonChoice,
    /// Anomaly Awareness's choices on the table, when a kind column was chosen.
    pub awareness: Option<SharedAwareness>,
}

/// Stage 2's choices on a table as a link carries them.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedAwareness {
    pub column: usize,
    /// Positions among the column's anomaly kinds (sorted by name), not the names.
    pub shown: Vec<usize>,
    pub labelled_rows: usize,
    pub epochs: usize,
    pub lambda_max: f32,
}

/// The page's limits on stage 2's numbers, which a link must keep to.
pub const AWARENESS_LABELLED: (usize, usize) = (1, 10_000);
pub const AWARENESS_EPOCHS: (usize, usize) = (1, 50);
pub const AWARENESS_LAMBDA: (f32, f32) = (0.0, 20.0);

/// The range of k a link may give kNN and LOF, and of PCA's variance share: the page's own limits.
pub const NEIGHBOURS: (usize, usize) = (1, 100);
pub const PCA_VARIANCE: (f64, f64) = (0.1, 0.99);

/// FNV-1a (64 bit) of the column names, each followed by a newline: the same names in the same order give
/// the same number, and the link does not spell the names out.
pub fn header_fingerprint<'a>(names: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in names {
        for byte in name.bytes().chain([b'\n']) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

fn role_letter(choice: &ColumnChoice) -> char {
    match (choice.role, choice.log) {
        (Role::Feature, true) => 'F',
        (Role::Feature, false) => 'f',
        (Role::Label, _) => 'l',
        (Role::Ignored, _) => 'i',
        (Role::Resonant, _) => 'r',
    }
}

fn choice_from_letter(letter: char) -> Option<ColumnChoice> {
    Some(match letter {
        'F' => ColumnChoice { role: Role::Feature, log: true },
        'f' => ColumnChoice { role: Role::Feature, log: false },
        'l' => ColumnChoice { role: Role::Label, log: false },
        'i' => ColumnChoice { role: Role::Ignored, log: false },
        'r' => ColumnChoice { role: Role::Resonant, log: false },
        _ => return None,
    })
}

impl SharedTable {
    /// The link pairs, in a fixed order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let s = &self.setup;
        let m = &s.model;
        let choices = [
            ("header", format!("{:016x}", self.header)),
            ("roles", s.choices.iter().map(role_letter).collect()),
            ("signal", s.signal_value.to_string()),
            ("missing", if s.missing == MissingPolicy::Impute { "impute" } else { "drop" }.into()),
            ("train", match s.train_on {
                TrainOn::AllRows => "all",
                TrainOn::BackgroundRows => "background",
                TrainOn::OtherFile => "other",
            }
            .into()),
            ("val", s.validation_fraction.to_string()),
            ("sample", s.max_training_rows.to_string()),
        ];
        let model = MODEL_SETTINGS.iter().map(|setting| (setting.link_key, (setting.get)(m)));
        let kl = [("kl", (m.vae.score_with_kl as u8).to_string())];
        // The method and its window only when they are not the autoencoder's defaults, so older links
        // read the same.
        let method = (s.method != TableMethod::Autoencoder).then(|| ("method", method_word(s.method).to_string()));
        let window = s.signal_region.into_iter().flat_map(|(low, high)| [("sr.low", low.to_string()), ("sr.high", high.to_string())]);
        // The comparison only when it is not the default, so older links read the same.
        let c = &self.compare;
        let compare = (*c != ComparisonChoice::default()).then(|| {
            let methods = if c.methods.is_empty() { "none".to_string() } else { c.methods.iter().map(|m| m.key()).collect::<Vec<_>>().join(",") };
            [
                ("cmp", methods),
                ("cmp.knn", c.settings.knn_k.to_string()),
                ("cmp.lof", c.settings.lof_k.to_string()),
                ("cmp.pcavar", c.settings.pca_variance.to_string()),
                ("cmp.seed", c.settings.seed.to_string()),
            ]
        });
        choices
            .into_iter()
            .chain(model)
            .chain(kl)
            .chain(method)
            .chain(window)
            .chain(compare.into_iter().flatten())
            .chain(self.awareness.iter().flat_map(|a| {
                [
                    ("aa.col", a.column.to_string()),
                    ("aa.shown", a.shown.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(",")),
                    ("aa.labelled", a.labelled_rows.to_string()),
                    ("aa.epochs", a.epochs.to_string()),
                    ("aa.lambda", a.lambda_max.to_string()),
                ]
            }))
            .map(|(key, value)| (format!("table.{key}"), value))
            .collect()
    }

    /// Reads the `table.*` pairs of a link. Without a readable header and roles there is nothing to restore,
    /// so the whole part is dropped; any other bad value falls back to its default. Problems come back as
    /// (key, sentence) for the link's one-sentence summary.
    pub fn decode(pairs: &[(&str, &str)]) -> (Option<Self>, Vec<(String, String)>) {
        let mut problems = Vec::new();
        let value = |key: &str| pairs.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let header = value("table.header").and_then(|v| (v.len() == 16).then(|| u64::from_str_radix(v, 16).ok()).flatten());
        let choices: Option<Vec<ColumnChoice>> =
            value("table.roles").filter(|v| !v.is_empty()).and_then(|v| v.chars().map(choice_from_letter).collect());
        let (Some(header), Some(choices)) = (header, choices) else {
            problems.push((
                "table".to_string(),
                "the table part of the link (table.header and table.roles) could not be read, so a loaded file gets the suggested column roles".to_string(),
            ));
            return (None, problems);
        };
        let mut setup = TableSetup::with_choices(choices);
        let defaults = setup.clone();
        let mut compare = ComparisonChoice::default();
        let default_awareness = anomaly_engine::table::awareness::TableAwarenessSettings::new(0, Vec::new());
        let mut awareness: Option<SharedAwareness> = None;
        let mut aware = |f: &mut dyn FnMut(&mut SharedAwareness)| {
            let a = awareness.get_or_insert_with(|| SharedAwareness {
                column: usize::MAX,
                shown: Vec::new(),
                labelled_rows: default_awareness.labelled_rows,
                epochs: default_awareness.epochs,
                lambda_max: default_awareness.lambda_max,
            });
            f(a);
            true
        };
        let within = |text: &str, (low, high): (usize, usize)| text.parse::<usize>().ok().filter(|v| (low..=high).contains(v));
        let neighbours = |text: &str| text.parse::<usize>().ok().filter(|k| (NEIGHBOURS.0..=NEIGHBOURS.1).contains(k));
        for &(key, text) in pairs {
            let model_setting = key.strip_prefix("table.").and_then(|k| MODEL_SETTINGS.iter().find(|s| s.link_key == k));
            let s = &mut setup;
            let ok = match key {
                _ if model_setting.is_some() => model_setting.is_some_and(|setting| (setting.set)(&mut s.model, text).is_ok()),
                "table.header" | "table.roles" => true,
                "table.signal" => matches!(text, "0" | "1") && text.parse().map(|v| s.signal_value = v).is_ok(),
                "table.missing" => match text {
                    "drop" | "impute" => {
                        s.missing = if text == "impute" { MissingPolicy::Impute } else { MissingPolicy::DropRow };
                        true
                    }
                    _ => false,
                },
                "table.train" => match text {
                    "all" => { s.train_on = TrainOn::AllRows; true }
                    "background" => { s.train_on = TrainOn::BackgroundRows; true }
                    "other" => { s.train_on = TrainOn::OtherFile; true }
                    _ => false,
                },
                "table.method" => match text {
                    "autoencoder" => { s.method = TableMethod::Autoencoder; true }
                    "anode" => { s.method = TableMethod::Anode; true }
                    "ranode" => { s.method = TableMethod::Ranode; true }
                    _ => false,
                },
                "table.sr.low" | "table.sr.high" => match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => {
                        let (mut low, mut high) = s.signal_region.unwrap_or((v, v));
                        if key == "table.sr.low" { low = v } else { high = v }
                        s.signal_region = Some((low, high));
                        true
                    }
                    _ => false,
                },
                "table.cmp" => {
                    let methods: Option<Vec<BaselineKind>> =
                        if text == "none" { Some(Vec::new()) } else { text.split(',').map(BaselineKind::from_key).collect() };
                    match methods {
                        Some(mut methods) => {
                            methods.sort_by_key(|k| BaselineKind::ALL.iter().position(|a| a == k));
                            methods.dedup();
                            compare.methods = methods;
                            true
                        }
                        None => false,
                    }
                }
                "table.cmp.knn" => neighbours(text).map(|k| compare.settings.knn_k = k).is_some(),
                "table.cmp.lof" => neighbours(text).map(|k| compare.settings.lof_k = k).is_some(),
                "table.cmp.pcavar" => text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| (PCA_VARIANCE.0..=PCA_VARIANCE.1).contains(v))
                    .map(|v| compare.settings.pca_variance = v)
                    .is_some(),
                "table.cmp.seed" => text.parse().map(|v| compare.settings.seed = v).is_ok(),
                "table.aa.col" => match text.parse::<usize>() {
                    Ok(column) => aware(&mut |a| a.column = column),
                    Err(_) => false,
                },
                "table.aa.shown" => {
                    let positions: Option<Vec<usize>> = if text.is_empty() { Some(Vec::new()) } else { text.split(',').map(|p| p.parse().ok().filter(|&p: &usize| p < 1000)).collect() };
                    match positions {
                        Some(mut positions) => {
                            positions.sort_unstable();
                            positions.dedup();
                            aware(&mut |a| a.shown = positions.clone())
                        }
                        None => false,
                    }
                }
                "table.aa.labelled" => match within(text, AWARENESS_LABELLED) {
                    Some(n) => aware(&mut |a| a.labelled_rows = n),
                    None => false,
                },
                "table.aa.epochs" => match within(text, AWARENESS_EPOCHS) {
                    Some(n) => aware(&mut |a| a.epochs = n),
                    None => false,
                },
                "table.aa.lambda" => match text.parse::<f32>().ok().filter(|v| (AWARENESS_LAMBDA.0..=AWARENESS_LAMBDA.1).contains(v)) {
                    Some(v) => aware(&mut |a| a.lambda_max = v),
                    None => false,
                },
                "table.val" => text.parse().map(|v| s.validation_fraction = v).is_ok(),
                "table.sample" => text.parse().map(|v| s.max_training_rows = v).is_ok(),
                "table.kl" => match text {
                    "0" | "1" => { s.model.vae.score_with_kl = text == "1"; true }
                    _ => false,
                },
                _ => {
                    problems.push((key.to_string(), format!("{} is not a setting this playground knows", quote(key))));
                    continue;
                }
            };
            if !ok {
                problems.push((key.to_string(), format!("{key}={} is not a value this setting can take", quote(text))));
            }
        }
        // Out-of-range model settings go back to their defaults (the column checks wait for the file).
        for problem in setup.model.problems() {
            if problem.field != "normal_digits" {
                setup.model.reset_field(&problem.field, &defaults.model);
                let message = problem.message.trim_end_matches('.');
                problems.push((format!("table.{}", problem.field), format!("in the table's settings, {}", lowercase_first(message))));
            }
        }
        if !(VALIDATION_FRACTION.0..=VALIDATION_FRACTION.1).contains(&setup.validation_fraction) {
            setup.validation_fraction = defaults.validation_fraction;
            problems.push(("table.val".into(), "the validation share must be between 0 and 0.5".into()));
        }
        if !(MAX_TRAINING_ROWS.0..=MAX_TRAINING_ROWS.1).contains(&setup.max_training_rows) {
            setup.max_training_rows = defaults.max_training_rows;
            problems.push(("table.sample".into(), "the training sample must be between 10 and 1000000 rows".into()));
        }
        // Stage 2's choices need their column; one out of the table's range drops them all.
        if let Some(a) = awareness.as_ref().filter(|a| a.column >= setup.choices.len()) {
            let _ = a;
            awareness = None;
            problems.push(("table.aa.col".into(), "the link's column of anomaly kinds is not a column of its table, so stage 2 starts from its defaults".into()));
        }
        (Some(Self { header, setup, compare, awareness }), problems)
    }

    /// The choices for a loaded file, if it is the file they were made for and they fit it; otherwise the
    /// sentence that says why the suggested roles are used instead.
    pub fn restore(&self, columns: &[ColumnSummary]) -> Result<TableSetup, String> {
        let fingerprint = header_fingerprint(columns.iter().map(|c| c.name.as_str()));
        if columns.len() != self.setup.choices.len() || fingerprint != self.header {
            return Err(format!(
                "This file's columns are not the ones the link was made for (that was a file of {} columns with another header), so the column roles are the suggested ones.",
                self.setup.choices.len()
            ));
        }
        match self.setup.problems_for(columns).first() {
            Some(problem) => Err(format!("The link's column roles do not fit this file ({problem}), so the column roles are the suggested ones.")),
            None => Ok(self.setup.clone()),
        }
    }
}

fn method_word(method: TableMethod) -> &'static str {
    match method {
        TableMethod::Autoencoder => "autoencoder",
        TableMethod::Anode => "anode",
        TableMethod::Ranode => "ranode",
    }
}

/// "Epochs must be …" → "epochs must be …", to follow "in the table's settings, ".
fn lowercase_first(sentence: &str) -> String {
    let mut chars = sentence.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_engine::table::parse_bytes;

    fn summaries(csv: &str) -> Vec<ColumnSummary> {
        parse_bytes(csv.as_bytes(), 1 << 16).unwrap().columns.iter().map(|c| c.summary.clone()).collect()
    }

    const CSV: &str = "m_jj,pt,name,label\n3.1,20,a,0\n3.5,25,b,1\n2.9,30,c,0\n";

    fn shared_for(csv: &str) -> SharedTable {
        let table = parse_bytes(csv.as_bytes(), 1 << 16).unwrap();
        let mut setup = TableSetup::suggested(&table);
        setup.choices[1].log = true;
        setup.model.optimiser.epochs = 7;
        setup.missing = MissingPolicy::Impute;
        SharedTable { header: header_fingerprint(table.columns.iter().map(|c| c.summary.name.as_str())), setup, compare: ComparisonChoice::default(), awareness: None }
    }

    fn decode_link(shared: &SharedTable) -> (Option<SharedTable>, Vec<(String, String)>) {
        let pairs = shared.pairs();
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        SharedTable::decode(&borrowed)
    }

    #[test]
    fn a_table_setup_round_trips_and_is_restored_for_the_same_header() {
        let shared = shared_for(CSV);
        assert_eq!(shared.pairs()[1].1, "fFil");
        let (decoded, problems) = decode_link(&shared);
        assert_eq!(problems, vec![]);
        assert_eq!(decoded.as_ref(), Some(&shared));
        let restored = decoded.unwrap().restore(&summaries(CSV)).unwrap();
        assert_eq!(restored, shared.setup);
    }

    /// Stage 2's choices travel as positions, never the kinds' names; bad values get a sentence each.
    #[test]
    fn stage_two_choices_round_trip_as_positions_and_bad_ones_are_told() {
        let mut shared = shared_for(CSV);
        assert!(!shared.pairs().iter().any(|(k, _)| k.starts_with("table.aa")), "nothing until chosen");
        shared.awareness = Some(SharedAwareness { column: 2, shown: vec![0, 2], labelled_rows: 80, epochs: 6, lambda_max: 2.5 });
        let pairs = shared.pairs();
        assert!(pairs.iter().any(|(k, v)| k == "table.aa.shown" && v == "0,2"));
        let (decoded, problems) = decode_link(&shared);
        assert_eq!((decoded, problems), (Some(shared.clone()), vec![]));
        let mut pairs: Vec<(String, String)> = shared.pairs();
        pairs.extend([("table.aa.labelled", "0"), ("table.aa.epochs", "500"), ("table.aa.lambda", "NaN"), ("table.aa.shown", "1,x")].map(|(k, v)| (k.to_string(), v.to_string())));
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (decoded, problems) = SharedTable::decode(&borrowed);
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().all(|(_, sentence)| sentence.contains("is not a value this setting can take")));
        assert_eq!(decoded.unwrap().awareness, shared.awareness, "the good values stay");
        // A column beyond the table drops stage 2's choices with one sentence.
        let mut pairs = shared.pairs();
        pairs.iter_mut().find(|(k, _)| k == "table.aa.col").unwrap().1 = "9".into();
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (decoded, problems) = SharedTable::decode(&borrowed);
        assert_eq!(decoded.unwrap().awareness, None);
        assert!(problems[0].1.starts_with("the link's column of anomaly kinds is not a column of its table"), "{problems:?}");
    }

    #[test]
    fn another_header_or_roles_that_do_not_fit_are_refused_with_a_sentence() {
        let shared = shared_for(CSV);
        let renamed = CSV.replace("pt,", "pT,");
        assert!(shared.restore(&summaries(&renamed)).unwrap_err().contains("not the ones the link was made for"));
        let fewer = "m_jj,pt\n1,2\n3,4\n";
        assert!(shared.restore(&summaries(fewer)).unwrap_err().contains("4 columns"));
        // Same names, but now `pt` has a zero: the log the link asks for cannot be taken.
        let zero = CSV.replace("2.9,30", "2.9,0");
        assert!(shared.restore(&summaries(&zero)).unwrap_err().contains("cannot be log-transformed"));
    }

    #[test]
    fn hostile_table_parts_give_defaults_and_sentences() {
        let (none, problems) = SharedTable::decode(&[("table.header", "<script>"), ("table.roles", "ff")]);
        assert!(none.is_none());
        assert!(problems[0].1.contains("could not be read"));
        let (none, _) = SharedTable::decode(&[("table.header", "0123456789abcdef"), ("table.roles", "fxq")]);
        assert!(none.is_none(), "unknown role letters");
        let (some, problems) = SharedTable::decode(&[
            ("table.header", "0123456789abcdef"),
            ("table.roles", "ffl"),
            ("table.hidden", "99999"),
            ("table.val", "0.9"),
            ("table.train", "everything"),
            ("table.colour", "blue"),
        ]);
        let setup = some.unwrap().setup;
        let defaults = TableSetup::with_choices(setup.choices.clone());
        assert_eq!(setup.model.vae.hidden_units, defaults.model.vae.hidden_units);
        assert_eq!(setup.validation_fraction, defaults.validation_fraction);
        assert_eq!(setup.train_on, defaults.train_on);
        let text: Vec<String> = problems.into_iter().map(|(_, m)| m).collect();
        assert_eq!(text.len(), 4, "{text:?}");
        assert!(text.iter().any(|m| m.contains("in the table's settings, hidden units must be between")), "{text:?}");
        assert!(text.iter().any(|m| m.contains("\"table.colour\" is not a setting")), "{text:?}");
    }

    #[test]
    fn the_comparison_round_trips_only_when_chosen_and_bad_values_are_sentences() {
        let mut shared = shared_for(CSV);
        assert!(!shared.pairs().iter().any(|(k, _)| k.starts_with("table.cmp")), "the default adds nothing");
        shared.compare.methods = vec![BaselineKind::IsolationForest, BaselineKind::Ecod];
        shared.compare.settings.knn_k = 12;
        shared.compare.settings.pca_variance = 0.75;
        shared.compare.settings.seed = 9;
        assert!(shared.pairs().iter().any(|(k, v)| k == "table.cmp" && v == "iforest,ecod"));
        let (decoded, problems) = decode_link(&shared);
        assert_eq!(problems, vec![]);
        assert_eq!(decoded.unwrap().compare, shared.compare);
        shared.compare.methods.clear();
        assert_eq!(decode_link(&shared).0.unwrap().compare.methods, vec![]);
        let (some, problems) = SharedTable::decode(&[
            ("table.header", "0123456789abcdef"),
            ("table.roles", "ffl"),
            ("table.cmp", "iforest,magic"),
            ("table.cmp.knn", "0"),
            ("table.cmp.lof", "1e9"),
            ("table.cmp.pcavar", "1.5"),
        ]);
        assert_eq!(some.unwrap().compare, ComparisonChoice::default());
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].1.contains("table.cmp=\"iforest,magic\" is not a value"), "{problems:?}");
    }

    #[test]
    fn a_resonance_search_round_trips_and_a_bad_window_is_a_sentence() {
        let mut shared = shared_for(CSV);
        shared.setup.choices[0] = ColumnChoice { role: Role::Resonant, log: false };
        shared.setup.method = TableMethod::Ranode;
        shared.setup.signal_region = Some((-0.5, 3.7));
        assert_eq!(shared.pairs()[1].1, "rFil");
        let (decoded, problems) = decode_link(&shared);
        assert_eq!(problems, vec![]);
        assert_eq!(decoded.as_ref(), Some(&shared));
        assert!(shared.pairs().iter().any(|(k, v)| k == "table.sr.low" && v == "-0.5"));
        // The autoencoder's link has neither key.
        assert!(!shared_for(CSV).pairs().iter().any(|(k, _)| k == "table.method" || k.starts_with("table.sr")));
        let (some, problems) = SharedTable::decode(&[
            ("table.header", "0123456789abcdef"),
            ("table.roles", "rfl"),
            ("table.method", "magic"),
            ("table.sr.low", "NaN"),
        ]);
        let setup = some.unwrap().setup;
        assert_eq!((setup.method, setup.signal_region), (TableMethod::Autoencoder, None));
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
