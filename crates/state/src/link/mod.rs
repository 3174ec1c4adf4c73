//! The share-link codec: a whole setup as readable `key=value` pairs in the URL fragment, the way
//! TensorFlow Playground does it, so that a teacher can read and edit a link by hand.
//!
//! `#v=1&normal=0&hidden=256&latent=16&beta=1&lr=0.001&batch=64&epochs=5&seed=1&kl=0&aa.shown=noisy,blobs`
//!
//! Classroom links add `&hide=settings,awareness` (see [`PagePart`]): those parts of the page are hidden for
//! whoever opens the link; the Share panel offers them as check boxes. `&embed=1` asks for the compact page
//! of an iframe in a course page or slide: the chosen view only, with a link to the full playground. A link to a tutorial step adds
//! `&tut=vae.2` (the tutorial's key and the step counted from one; see [`crate::tutorials`]). A loaded
//! table's choices travel as `table.*` pairs ([`table`]).
//!
//! Decoding never fails and never trusts the text: every value is parsed and range-checked, anything
//! unknown, malformed or out of range is listed as a [`LinkProblem`] and replaced by its default. The
//! fragment is data only; nothing here produces markup or code. Version 1 is the current version; a link
//! without `v` is read as version 1, and a link from a newer version is read as far as we understand it.

pub mod table;

use anomaly_engine::awareness::{AwarenessSettings, AWARENESS_SETTINGS};
use anomaly_engine::data::anomalies::{AnomalyFamily, SYNTHETIC};
use anomaly_engine::table::dijet::Simulation;
use anomaly_engine::settings::MODEL_SETTINGS;
use anomaly_engine::TrainSettings;

use crate::hunt::HuntChoice;
use crate::events::EventChoice;
use crate::jets::JetChoice;
use crate::page::{LinkView, PagePart};
use crate::tutorials::{TutorialStep, TUTORIALS};
use table::SharedTable;

pub const LINK_VERSION: u32 = 1;
/// Longer fragments are not parsed at all: no real setup comes near this.
pub const MAX_FRAGMENT_CHARS: usize = 4096;
/// Values are cut to this many characters when quoted back in a problem message.
const QUOTE_CHARS: usize = 40;
/// A hostile link can hold hundreds of problems; the notice spells out this many and counts the rest.
const PROBLEMS_SHOWN: usize = 5;
/// Lists of unknown names (keys, `hide=` parts) name this many and count the rest.
const NAMES_SHOWN: usize = 5;
/// Legal settings past which training takes minutes on a phone: a link that asks for them says so.
const SLOW_BATCH: usize = 8;
const SLOW_HIDDEN_UNITS: usize = 512;
const SLOW_EPOCHS: usize = 50;
const SLOW_SAMPLE_ROWS: usize = 200_000;

/// Everything a link carries.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SharedSetup {
    pub digits: TrainSettings,
    pub awareness: AwarenessSettings,
    /// Which view the page opens on.
    pub view: LinkView,
    /// The toy collider events of the table view (a visitor's own file never travels in a link).
    pub simulation: Simulation,
    /// Classroom mode: parts of the page this link hides (sorted, no repeats).
    pub hidden: Vec<PagePart>,
    /// The tutorial step the page opens on, if any.
    pub tutorial: Option<TutorialStep>,
    /// What the visitor chose about a loaded table (never its data), restored when a file with the same
    /// header is loaded.
    pub table: Option<SharedTable>,
    /// The resonance hunt's signal count and seed.
    pub hunt: HuntChoice,
    /// The jet-image study's model, κ, training jets and seed.
    pub jets: JetChoice,
    /// The Events view's loss, augmentations, encoder, training events and seed.
    pub events: EventChoice,
    /// Embed mode: the compact page for an iframe (no page header, the chosen view only).
    pub embed: bool,
    /// How many CPU threads the threaded build may use; `None` for all it has (README, "Every core").
    pub threads: Option<usize>,
}

/// The most threads a link may ask for: the threaded build's largest pool.
pub const MAX_THREADS: usize = 16;

/// One part of a link that was not used, said so a visitor knows what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkProblem {
    pub key: String,
    pub message: String,
}

/// The result of reading a link: the setup to use, and what was ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedLink {
    pub setup: SharedSetup,
    pub problems: Vec<LinkProblem>,
}

impl DecodedLink {
    /// One sentence listing every problem, or `None` when the link was read in full.
    pub fn summary(&self) -> Option<String> {
        if self.problems.is_empty() {
            return None;
        }
        let mut parts: Vec<&str> = Vec::new();
        for problem in &self.problems {
            if !parts.contains(&problem.message.as_str()) {
                parts.push(&problem.message);
            }
        }
        let more = parts.len().saturating_sub(PROBLEMS_SHOWN);
        parts.truncate(PROBLEMS_SHOWN);
        let tail = match more {
            0 => String::new(),
            1 => "; and one more problem".to_string(),
            n => format!("; and {n} more problems"),
        };
        Some(format!("Parts of this link could not be used, so defaults were taken: {}{tail}.", parts.join("; ")))
    }
}

impl DecodedLink {
    /// A sentence when the link asks for settings that are allowed but slow (a batch of one, a thousand
    /// hidden units, a million-row sample), so a visitor hears it before pressing Train, not after.
    pub fn slow_settings_note(&self) -> Option<String> {
        let mut slow = Vec::new();
        let mut check = |model: &anomaly_engine::settings::ModelSettings, whose: &str| {
            if model.optimiser.batch_size <= SLOW_BATCH {
                slow.push(format!("batch {}{whose}", model.optimiser.batch_size));
            }
            if model.vae.hidden_units >= SLOW_HIDDEN_UNITS {
                slow.push(format!("{} hidden units{whose}", model.vae.hidden_units));
            }
            if model.optimiser.epochs >= SLOW_EPOCHS {
                slow.push(format!("{} epochs{whose}", model.optimiser.epochs));
            }
        };
        check(&self.setup.digits.model, "");
        if let Some(table) = &self.setup.table {
            check(&table.setup.model, " for the table");
            if table.setup.max_training_rows >= SLOW_SAMPLE_ROWS {
                slow.push(format!("a training sample of up to {} rows", table.setup.max_training_rows));
            }
        }
        (!slow.is_empty()).then(|| {
            format!(
                "This link asks for slow settings ({}): training can take many minutes, longer on a phone or an old laptop. Lower them in the settings to go faster.",
                slow.join(", ")
            )
        })
    }
}

fn family_key(family: AnomalyFamily) -> String {
    match family {
        AnomalyFamily::HeldOutDigit(d) => format!("digit{d}"),
        AnomalyFamily::Fashion(c) => format!("fashion{c}"),
        other => other.name(),
    }
}

fn family_from_key(key: &str) -> Option<AnomalyFamily> {
    if let Some(d) = key.strip_prefix("digit") {
        return d.parse::<u8>().ok().filter(|&d| d <= 9).map(AnomalyFamily::HeldOutDigit);
    }
    if let Some(c) = key.strip_prefix("fashion") {
        return c.parse::<u8>().ok().filter(|&c| c <= 9).map(AnomalyFamily::Fashion);
    }
    SYNTHETIC.iter().copied().find(|f| f.name() == key)
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

/// The fragment for a setup (without the leading `#`). Settings at their defaults are still written, so a
/// link keeps meaning the same setup if a later version changes a default.
pub fn encode(setup: &SharedSetup) -> String {
    let d = &setup.digits;
    let a = &setup.awareness;
    let mut pairs = vec![("v".to_string(), LINK_VERSION.to_string()), ("normal".to_string(), join(&d.normal_digits))];
    pairs.extend(MODEL_SETTINGS.iter().map(|s| (s.link_key.to_string(), (s.get)(&d.model))));
    pairs.push(("kl".into(), (d.model.vae.score_with_kl as u8).to_string()));
    pairs.push(("aa.shown".into(), a.shown.iter().map(|&f| family_key(f)).collect::<Vec<_>>().join(",")));
    pairs.extend(AWARENESS_SETTINGS.iter().map(|s| (format!("aa.{}", s.link_key), (s.get)(a))));
    pairs.extend([
        ("view".to_string(), setup.view.key().to_string()),
        ("sim.rows".into(), setup.simulation.rows.to_string()),
        ("sim.signal".into(), setup.simulation.signal_fraction.to_string()),
        ("sim.seed".into(), setup.simulation.seed.to_string()),
    ]);
    // The several-signals toy only when chosen, so every other link reads as before.
    if setup.simulation.several_signals {
        pairs.push(("sim.toy".into(), "signals".into()));
    }
    // The hunt's pairs only when it is on screen or changed, so every other link reads as before.
    if setup.view == LinkView::Hunt || setup.hunt != HuntChoice::default() {
        pairs.push(("hunt.signal".into(), setup.hunt.signal_events.to_string()));
        pairs.push(("hunt.seed".into(), setup.hunt.seed.to_string()));
    }
    if setup.view == LinkView::Jets || setup.jets != JetChoice::default() {
        pairs.extend(setup.jets.pairs().map(|(k, v)| (k.to_string(), v)));
    }
    if setup.view == LinkView::Events || setup.events != EventChoice::default() {
        pairs.extend(setup.events.pairs().map(|(k, v)| (k.to_string(), v)));
    }
    let mut link = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    // Only classroom links say what they hide, so every other link reads as before.
    if !setup.hidden.is_empty() {
        link += &format!("&hide={}", setup.hidden.iter().map(|p| p.key()).collect::<Vec<_>>().join(","));
    }
    if let Some(table) = &setup.table {
        for (key, value) in table.pairs() {
            link += &format!("&{key}={value}");
        }
    }
    if let Some(step) = setup.tutorial {
        link += &format!("&tut={}", step.key());
    }
    // A thread count only when chosen, so every other link reads as before.
    if let Some(threads) = setup.threads {
        link += &format!("&threads={threads}");
    }
    // Only embedded pages say so, so every other link reads as before.
    if setup.embed {
        link += "&embed=1";
    }
    link
}

/// `"a", "b" and 3 more`: each name quoted once, in the order first seen, at most [`NAMES_SHOWN`] of them.
fn name_list(names: &[&str]) -> String {
    let mut distinct: Vec<&str> = Vec::new();
    for name in names {
        if !distinct.contains(name) {
            distinct.push(name);
        }
    }
    let shown: Vec<String> = distinct.iter().take(NAMES_SHOWN).map(|n| quote(n)).collect();
    match distinct.len().saturating_sub(NAMES_SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

pub(crate) fn quote(value: &str) -> String {
    let shown: String = value.chars().filter(|c| !c.is_control()).take(QUOTE_CHARS).collect();
    if value.chars().count() > QUOTE_CHARS { format!("\"{shown}…\"") } else { format!("\"{shown}\"") }
}

/// Reads a fragment (with or without the leading `#`). See the module documentation for the rules.
pub fn decode(fragment: &str) -> DecodedLink {
    let mut setup = SharedSetup::default();
    let mut problems = Vec::new();
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if fragment.chars().count() > MAX_FRAGMENT_CHARS {
        problems.push(LinkProblem {
            key: String::new(),
            message: format!("the link is longer than {MAX_FRAGMENT_CHARS} characters and was not read"),
        });
        return DecodedLink { setup, problems };
    }
    let mut problem = |key: &str, message: String| problems.push(LinkProblem { key: key.into(), message });
    let mut table_pairs = Vec::new();
    let mut unknown_keys = Vec::new();
    for pair in fragment.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key.starts_with("table.") {
            table_pairs.push((key, value)); // read together below: they only mean something as a whole
            continue;
        }
        let bad = |what: &str| format!("{key}={} is not {what}", quote(value));
        let model_setting = MODEL_SETTINGS.iter().find(|s| s.link_key == key);
        let awareness_setting = key.strip_prefix("aa.").and_then(|k| AWARENESS_SETTINGS.iter().find(|s| s.link_key == k));
        let d = &mut setup.digits;
        let a = &mut setup.awareness;
        let ok = match key {
            _ if model_setting.is_some() => model_setting.is_some_and(|s| (s.set)(&mut d.model, value).is_ok()),
            _ if awareness_setting.is_some() => awareness_setting.is_some_and(|s| (s.set)(a, value).is_ok()),
            "v" => match value.parse::<u32>() {
                Ok(v) if v <= LINK_VERSION => true,
                Ok(v) => {
                    problem(key, format!("the link was made by a newer version of the playground (v{v}); what this version knows of it was used"));
                    true
                }
                Err(_) => false,
            },
            "normal" => parse_digits(value).map(|v| d.normal_digits = v).is_some(),
            "kl" => match value {
                "0" | "1" => {
                    d.model.vae.score_with_kl = value == "1";
                    true
                }
                _ => false,
            },
            "aa.shown" => value
                .split(',')
                .filter(|s| !s.is_empty())
                .map(family_from_key)
                .collect::<Option<Vec<_>>>()
                .map(|v| a.shown = v)
                .is_some(),
            "view" => LinkView::from_key(value).map(|v| setup.view = v).is_some(),
            "embed" => match value {
                "0" | "1" => {
                    setup.embed = value == "1";
                    true
                }
                _ => false,
            },
            "threads" => match value.parse::<usize>() {
                Ok(n) if (1..=MAX_THREADS).contains(&n) => {
                    setup.threads = Some(n);
                    true
                }
                _ if value == "auto" => {
                    setup.threads = None;
                    true
                }
                _ => {
                    problem(key, format!("threads={} is not a thread count (auto, or 1 to {MAX_THREADS}), so all threads are used", quote(value)));
                    continue;
                }
            },
            "sim.rows" => value.parse().map(|v| setup.simulation.rows = v).is_ok(),
            "sim.signal" => value.parse().map(|v| setup.simulation.signal_fraction = v).is_ok(),
            "sim.seed" => value.parse().map(|v| setup.simulation.seed = v).is_ok(),
            "sim.toy" => match value {
                "signals" => {
                    setup.simulation.several_signals = true;
                    true
                }
                "dijet" => {
                    setup.simulation.several_signals = false;
                    true
                }
                _ => false,
            },
            "hunt.signal" => value.parse().map(|v| setup.hunt.signal_events = v).is_ok(),
            "hunt.seed" => value.parse().map(|v| setup.hunt.seed = v).is_ok(),
            _ if key.starts_with("jets.") && setup.jets.pairs().iter().any(|(k, _)| *k == key) => setup.jets.read(key, value),
            _ if key.starts_with("events.") && setup.events.pairs().iter().any(|(k, _)| *k == key) => setup.events.read(key, value),
            "tut" => match TutorialStep::from_key(value) {
                Some(step) => {
                    setup.tutorial = Some(step);
                    true
                }
                None => {
                    let names: Vec<String> = TUTORIALS.iter().map(|t| format!("{}.1–{}", t.key, t.steps.len())).collect();
                    problem(key, format!("tut={} is not a tutorial step (there are {}), so no tutorial was opened", quote(value), names.join(", ")));
                    continue;
                }
            },
            "hide" => {
                // Known parts are hidden; unknown names are listed, and the rest of the list still counts.
                let (known, unknown): (Vec<_>, Vec<_>) =
                    value.split(',').filter(|s| !s.is_empty()).map(|k| (k, PagePart::from_key(k))).partition(|(_, p)| p.is_some());
                setup.hidden = known.into_iter().filter_map(|(_, p)| p).collect();
                setup.hidden.sort_unstable();
                setup.hidden.dedup();
                if !unknown.is_empty() {
                    let names: Vec<&str> = unknown.iter().map(|(k, _)| *k).collect();
                    let parts: Vec<&str> = PagePart::ALL.iter().map(|p| p.key()).collect();
                    problem(key, format!("hide= names {} that the page does not have (it can hide {})", name_list(&names), parts.join(", ")));
                }
                true
            }
            _ => {
                unknown_keys.push(key);
                continue;
            }
        };
        if !ok {
            problem(key, bad("a value this setting can take"));
        }
    }
    match unknown_keys.len() {
        0 => {}
        1 => problem(unknown_keys[0], format!("{} is not a setting this playground knows", quote(unknown_keys[0]))),
        _ => problem(unknown_keys[0], format!("{} are not settings this playground knows", name_list(&unknown_keys))),
    }
    if !table_pairs.is_empty() {
        let (table, table_problems) = SharedTable::decode(&table_pairs);
        setup.table = table;
        problems.extend(table_problems.into_iter().map(|(key, message)| LinkProblem { key, message }));
    }
    if setup.view.hidden_by().is_some_and(|part| setup.hidden.contains(&part)) {
        let message = format!("view={} asks for a view this link also hides, so the digits open instead", setup.view.key());
        setup.view = LinkView::Digits;
        problems.push(LinkProblem { key: "view".into(), message });
    }
    // Values that parsed but are out of range go back to their defaults, field by field.
    let defaults = SharedSetup::default();
    for range_problem in setup.digits.problems() {
        setup.digits.reset_field(&range_problem.field, &defaults.digits);
        problems.push(LinkProblem { key: range_problem.field.clone(), message: range_problem.message.trim_end_matches('.').to_string() });
    }
    for range_problem in setup.awareness.problems(&setup.digits) {
        setup.awareness.reset_field(&range_problem.field, &defaults.awareness, &setup.digits);
        problems.push(LinkProblem { key: format!("aa.{}", range_problem.field), message: range_problem.message.trim_end_matches('.').to_string() });
    }
    for (key, message) in setup.hunt.problems() {
        let default = HuntChoice::default();
        if key == "hunt.signal" {
            setup.hunt.signal_events = default.signal_events;
        } else {
            setup.hunt.seed = default.seed;
        }
        problems.push(LinkProblem { key: key.into(), message });
    }
    for (key, message) in setup.jets.problems() {
        setup.jets.reset(key);
        problems.push(LinkProblem { key: key.into(), message });
    }
    for (key, message) in setup.events.problems() {
        setup.events.reset(key);
        problems.push(LinkProblem { key: key.into(), message });
    }
    for (field, message) in setup.simulation.problems() {
        let default = Simulation::default();
        match field {
            "rows" => setup.simulation.rows = default.rows,
            "signal_fraction" => setup.simulation.signal_fraction = default.signal_fraction,
            _ => setup.simulation.seed = default.seed,
        }
        problems.push(LinkProblem { key: format!("sim.{field}"), message });
    }
    DecodedLink { setup, problems }
}

fn parse_digits(value: &str) -> Option<Vec<u8>> {
    let mut digits: Vec<u8> = value.split(',').filter(|s| !s.is_empty()).map(|s| s.parse::<u8>().ok().filter(|&d| d <= 9)).collect::<Option<_>>()?;
    digits.sort_unstable();
    digits.dedup();
    Some(digits)
}

impl TutorialStep {
    /// The whole setup of this step, with the step itself in it. It lives beside the codec because a step's
    /// setup is written as a link, so the tutorials need not know how links are read.
    pub fn setup(self) -> SharedSetup {
        let mut setup = decode(self.content().setup).setup;
        setup.tutorial = Some(self);
        setup
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomaly_engine::rng::SeededRng;
    use anomaly_engine::settings::{ModelSettings, OptimiserSettings, VaeSettings};
    use anomaly_engine::objects::clr::Variant;
    use anomaly_engine::objects::encoder::EncoderKind;

    fn random_valid_setup(rng: &mut SeededRng) -> SharedSetup {
        let mut normal: Vec<u8> = (0..10).filter(|_| rng.uniform() < 0.4).collect();
        if normal.is_empty() || normal.len() == 10 {
            normal = vec![rng.below(10) as u8];
        }
        let anomalous: Vec<u8> = (0..10).filter(|d| !normal.contains(d)).collect();
        let view = LinkView::ALL[rng.below(LinkView::ALL.len())];
        let mut shown: Vec<AnomalyFamily> = SYNTHETIC.iter().copied().filter(|_| rng.uniform() < 0.4).collect();
        if rng.uniform() < 0.5 {
            shown.push(AnomalyFamily::HeldOutDigit(anomalous[rng.below(anomalous.len())]));
        }
        if rng.uniform() < 0.3 {
            shown.push(AnomalyFamily::Fashion(rng.below(10) as u8));
        }
        if shown.is_empty() {
            shown.push(AnomalyFamily::Blobs);
        }
        // At least one labelled anomaly per shown family (see `AwarenessSettings::problems`).
        let labelled_anomalies = shown.len() + rng.below(1001 - shown.len());
        // Values chosen to be exactly representable in their decimal form, as the form would produce.
        SharedSetup {
            digits: {
                let (hidden_units, latent_dims, beta) = (8 + rng.below(1017), 2 + rng.below(63), rng.below(101) as f32 / 10.0);
                let optimiser = OptimiserSettings {
                    learning_rate: [1e-5, 1e-4, 3e-4, 1e-3, 0.01, 0.5, 1.0][rng.below(7)],
                    batch_size: 1 + rng.below(1024),
                    epochs: 1 + rng.below(200),
                    seed: rng.next_u64() >> 32,
                };
                let vae = VaeSettings { hidden_units, latent_dims, beta, score_with_kl: rng.uniform() < 0.5 };
                TrainSettings { normal_digits: normal, model: ModelSettings { vae, optimiser } }
            },
            awareness: AwarenessSettings {
                shown,
                labelled_anomalies,
                lambda_max: rng.below(201) as f32 / 10.0,
                margin_factor: 1.0 + rng.below(91) as f32 / 10.0,
                ramp_fraction: rng.below(11) as f32 / 10.0,
                epochs: 1 + rng.below(50),
                learning_rate: [1e-6, 1e-4, 1e-3, 0.1][rng.below(4)],
            },
            view,
            simulation: Simulation {
                rows: 100 + rng.below(999_901),
                signal_fraction: rng.below(501) as f64 / 1000.0,
                seed: rng.next_u64() >> 32,
                several_signals: rng.uniform() < 0.5,
            },
            // A link never both opens and hides a view (decoding says so and opens the digits).
            hidden: PagePart::ALL.into_iter().filter(|&p| rng.uniform() < 0.3 && view.hidden_by() != Some(p)).collect(),
            hunt: HuntChoice { signal_events: rng.below(61) * 50, seed: 1 + rng.below(1_000_000) as u64 },
            jets: JetChoice {
                model: crate::jets::JetModel::ALL[rng.below(2)],
                kappa: (1 + rng.below(40)) as f64 / 20.0,
                train_jets: (1 + rng.below(10)) * 1_000,
                seed: 1 + rng.below(1_000_000) as u64,
            },
            events: EventChoice {
                variant: [Variant::AnomalyClr, Variant::AnomalyClrPlus, Variant::PhysicalOnly][rng.below(3)],
                add_objects: rng.uniform() < 0.5,
                split: true,
                scale: rng.uniform() < 0.3,
                temperature: (1 + rng.below(50)) as f64 / 50.0,
                encoder: if rng.uniform() < 0.5 { EncoderKind::Transformer } else { EncoderKind::DeepSets },
                train_events: (2 + rng.below(19)) * 1_000,
                seed: 1 + rng.below(1_000_000) as u64,
            },
            table: (rng.uniform() < 0.5).then(|| random_table(rng)),
            embed: rng.uniform() < 0.3,
            threads: (rng.uniform() < 0.3).then(|| 1 + rng.below(MAX_THREADS)),
            tutorial: if rng.uniform() < 0.5 {
                let tutorial = rng.below(TUTORIALS.len());
                Some(TutorialStep { tutorial, step: rng.below(TUTORIALS[tutorial].steps.len()) })
            } else {
                None
            },
        }
    }

    fn random_table(rng: &mut SeededRng) -> SharedTable {
        use anomaly_engine::table::prepare::{ColumnChoice, MissingPolicy, Role, TableSetup, TrainOn};
        let choices = (0..1 + rng.below(40))
            .map(|_| match rng.below(4) {
                0 => ColumnChoice { role: Role::Feature, log: true },
                1 => ColumnChoice { role: Role::Label, log: false },
                2 => ColumnChoice { role: Role::Ignored, log: false },
                _ => ColumnChoice { role: Role::Feature, log: false },
            })
            .collect();
        let mut setup = TableSetup::with_choices(choices);
        setup.signal_value = rng.below(2);
        setup.missing = if rng.uniform() < 0.5 { MissingPolicy::Impute } else { MissingPolicy::DropRow };
        setup.train_on = [TrainOn::AllRows, TrainOn::BackgroundRows, TrainOn::OtherFile][rng.below(3)];
        setup.validation_fraction = rng.below(51) as f64 / 100.0;
        setup.max_training_rows = 10 + rng.below(999_991);
        setup.model.vae.hidden_units = 8 + rng.below(1017);
        setup.model.vae.latent_dims = 2 + rng.below(63);
        setup.model.vae.beta = rng.below(101) as f32 / 10.0;
        setup.model.optimiser.epochs = 1 + rng.below(200);
        setup.model.optimiser.seed = rng.next_u64() >> 32;
        setup.model.vae.score_with_kl = rng.uniform() < 0.5;
        let mut compare = anomaly_engine::table::compare::ComparisonChoice::default();
        if rng.uniform() < 0.5 {
            compare.methods.retain(|_| rng.uniform() < 0.5);
            compare.settings.knn_k = 1 + rng.below(100);
            compare.settings.lof_k = 1 + rng.below(100);
            compare.settings.pca_variance = (10 + rng.below(90)) as f64 / 100.0;
            compare.settings.seed = rng.next_u64() >> 32;
        }
        let awareness = (rng.uniform() < 0.5).then(|| table::SharedAwareness {
            column: rng.below(setup.choices.len()),
            shown: {
                let mut shown: Vec<usize> = (0..rng.below(4)).map(|_| rng.below(6)).collect();
                shown.sort_unstable();
                shown.dedup();
                shown
            },
            labelled_rows: 1 + rng.below(10_000),
            epochs: 1 + rng.below(50),
            lambda_max: rng.below(41) as f32 / 2.0,
        });
        SharedTable { header: rng.next_u64(), setup, compare, awareness }
    }

    #[test]
    fn every_valid_setup_round_trips() {
        let mut rng = SeededRng::new(2026);
        for _ in 0..2000 {
            let setup = random_valid_setup(&mut rng);
            assert!(setup.digits.problems().is_empty() && setup.awareness.problems(&setup.digits).is_empty());
            let link = encode(&setup);
            let decoded = decode(&link);
            assert_eq!(decoded.problems, vec![], "{link}");
            assert_eq!(decoded.setup, setup, "{link}");
            assert_eq!(decode(&format!("#{link}")).setup, setup, "a leading # is accepted");
        }
    }

    #[test]
    fn a_thread_count_travels_only_when_chosen_and_a_bad_one_is_said() {
        assert!(!encode(&SharedSetup::default()).contains("threads="), "ordinary links do not mention threads");
        let decoded = decode("v=1&threads=2");
        assert_eq!((decoded.setup.threads, decoded.problems.len()), (Some(2), 0));
        assert!(encode(&decoded.setup).ends_with("&threads=2"));
        assert_eq!(decode("threads=auto").setup.threads, None);
        for bad in ["0", "17", "two", "-1"] {
            let decoded = decode(&format!("threads={bad}"));
            assert_eq!(decoded.setup.threads, None, "{bad}");
            assert_eq!(
                decoded.problems[0].message,
                format!("threads=\"{bad}\" is not a thread count (auto, or 1 to 16), so all threads are used")
            );
        }
    }

    #[test]
    fn embed_mode_travels_only_when_asked_for_and_keeps_the_classroom_hiding() {
        let decoded = decode("v=1&view=table&hide=awareness&embed=1");
        assert!(decoded.setup.embed && decoded.problems.is_empty());
        assert_eq!((decoded.setup.view, decoded.setup.hidden.clone()), (LinkView::Table, vec![PagePart::Awareness]));
        assert!(encode(&decoded.setup).ends_with("&hide=awareness&embed=1"));
        assert!(!encode(&SharedSetup::default()).contains("embed"), "ordinary links do not mention it");
        let bad = decode("embed=yes");
        assert!(!bad.setup.embed);
        assert_eq!(bad.problems[0].key, "embed");
        assert!(!decode("embed=0").setup.embed && decode("embed=0").problems.is_empty());
    }

    #[test]
    fn classroom_links_hide_known_parts_and_name_unknown_ones() {
        let decoded = decode("v=1&normal=3&hide=awareness,settings,settings,teacher-notes,<b>");
        assert_eq!(decoded.setup.hidden, vec![PagePart::ModelSettings, PagePart::Awareness]);
        assert_eq!(decoded.setup.digits.normal_digits, vec![3]);
        assert_eq!(
            decoded.summary().unwrap(),
            "Parts of this link could not be used, so defaults were taken: hide= names \"teacher-notes\", \"<b>\" that the page does not have (it can hide normal, settings, awareness, latent, table, backend, hunt, jets, events)."
        );
        assert!(!encode(&SharedSetup::default()).contains("hide="), "ordinary links do not mention hiding");
        assert!(decode("hide=").setup.hidden.is_empty() && decode("hide=").problems.is_empty());
    }

    #[test]
    fn a_link_reads_like_the_settings() {
        let link = encode(&SharedSetup::default());
        assert!(link.starts_with("v=1&normal=0&hidden=256&latent=16&beta=1&lr=0.001&batch=64&epochs=5&seed=1&kl=0&aa.shown=noisy,blobs"), "{link}");
    }

    #[test]
    fn links_written_by_earlier_builds_read_the_same() {
        // Exactly as the first builds with links wrote them (before classroom, tutorial and table keys).
        let first = "v=1&normal=3,5&hidden=128&latent=8&beta=0.5&lr=0.0003&batch=32&epochs=7&seed=9&kl=1&aa.shown=noisy,digit7&aa.labelled=20&aa.lambda=2&aa.margin=4&aa.ramp=0.25&aa.epochs=3&aa.lr=0.0001";
        let with_table_view = format!("{first}&view=table&sim.rows=20000&sim.signal=0.05&sim.seed=4");
        for link in [first.to_string(), with_table_view.clone()] {
            let decoded = decode(&link);
            assert_eq!(decoded.problems, vec![], "{link}");
            let d = &decoded.setup.digits;
            assert_eq!((d.normal_digits.clone(), d.model.vae.hidden_units, d.model.vae.latent_dims, d.model.optimiser.epochs, d.model.optimiser.seed, d.model.vae.score_with_kl), (vec![3, 5], 128, 8, 7, 9, true));
            assert_eq!(decoded.setup.awareness.shown, vec![AnomalyFamily::Noise, AnomalyFamily::HeldOutDigit(7)]);
            assert_eq!((decoded.setup.awareness.labelled_anomalies, decoded.setup.awareness.ramp_fraction), (20, 0.25));
            assert!(decoded.setup.hidden.is_empty() && decoded.setup.tutorial.is_none() && decoded.setup.table.is_none());
            assert!(encode(&decoded.setup).starts_with(&link), "today's link for the same setup extends the old one");
        }
        let table = decode(&with_table_view).setup;
        assert_eq!((table.view, table.simulation.rows, table.simulation.signal_fraction, table.simulation.seed), (LinkView::Table, 20000, 0.05, 4));
    }

    /// A link for a full setup (table part, classroom parts, tutorial step) as written by the build before
    /// the settings were described once (commit 25a5c9f). Today's build reads it whole and writes it again
    /// to the letter.
    #[test]
    fn a_full_link_from_before_the_settings_descriptions_reads_the_same_and_is_written_the_same() {
        let link = "v=1&normal=1,4&hidden=256&latent=16&beta=2.5&lr=0.0005&batch=64&epochs=5&seed=1&kl=0&aa.shown=blurred,digit9\
            &aa.labelled=80&aa.lambda=6.5&aa.margin=2&aa.ramp=0.75&aa.epochs=6&aa.lr=0.002&view=table&sim.rows=50000&sim.signal=0.01\
            &sim.seed=1&hide=awareness,latent&table.header=0123456789abcdef&table.roles=Ffil&table.signal=1&table.missing=impute\
            &table.train=background&table.val=0.2&table.sample=50000&table.hidden=48&table.latent=3&table.beta=0.25&table.lr=0.002\
            &table.batch=128&table.epochs=12&table.seed=21&table.kl=1&tut=vae.2";
        let decoded = decode(link);
        assert_eq!(decoded.problems, vec![]);
        let setup = &decoded.setup;
        let d = &setup.digits;
        assert_eq!((d.normal_digits.clone(), d.model.vae.beta, d.model.optimiser.learning_rate, d.model.vae.hidden_units), (vec![1, 4], 2.5, 0.0005, 256));
        let a = &setup.awareness;
        assert_eq!(a.shown, vec![AnomalyFamily::Blurred, AnomalyFamily::HeldOutDigit(9)]);
        assert_eq!((a.labelled_anomalies, a.lambda_max, a.margin_factor, a.ramp_fraction, a.epochs, a.learning_rate), (80, 6.5, 2.0, 0.75, 6, 0.002));
        assert_eq!((setup.view, setup.hidden.clone()), (LinkView::Table, vec![PagePart::Awareness, PagePart::Latent]));
        assert_eq!(setup.tutorial.map(|t| t.key()), Some("vae.2".to_string()));
        let table = setup.table.as_ref().expect("the table part");
        assert_eq!(table.header, 0x0123_4567_89ab_cdef);
        let m = &table.setup.model;
        assert_eq!((m.vae.hidden_units, m.vae.latent_dims, m.vae.beta, m.optimiser.learning_rate, m.optimiser.batch_size, m.optimiser.epochs, m.optimiser.seed, m.vae.score_with_kl), (48, 3, 0.25, 0.002, 128, 12, 21, true));
        assert_eq!(encode(setup), link);
    }

    #[test]
    fn version_one_links_without_a_version_still_work() {
        let decoded = decode("normal=3,1&epochs=7");
        assert_eq!(decoded.problems, vec![]);
        assert_eq!(decoded.setup.digits.normal_digits, vec![1, 3]);
        assert_eq!(decoded.setup.digits.model.optimiser.epochs, 7);
        assert_eq!(decoded.setup.digits.model.vae.hidden_units, TrainSettings::default().model.vae.hidden_units);
    }

    #[test]
    fn hostile_and_hand_edited_links_give_defaults_and_one_sentence() {
        let cases: &[(&str, &str)] = &[
            ("epochs=ten", "epochs=\"ten\" is not a value this setting can take"),
            ("hidden=", "hidden=\"\" is not a value this setting can take"),
            ("hidden=99999999", "Hidden units must be between 8 and 1024"),
            ("normal=<script>alert(1)</script>", "normal=\"<script>alert(1)</script>\" is not a value"),
            ("colour=blue", "\"colour\" is not a setting this playground knows"),
            ("lr=NaN", "The learning rate must be between"),
            ("kl=yes", "kl=\"yes\" is not a value"),
            ("aa.shown=digit0", "A normal digit cannot be shown"),
            ("aa.shown=unicorns", "aa.shown=\"unicorns\" is not a value"),
            ("aa.shown=fashion10", "aa.shown=\"fashion10\" is not a value"),
            ("v=9&epochs=3", "newer version of the playground (v9)"),
            ("normal=0,1,2,3,4,5,6,7,8,9", "Leave at least one digit out"),
            ("view=<b>table</b>", "view=\"<b>table</b>\" is not a value"),
            ("sim.rows=5", "simulated events must be between 100 and 1000000"),
            ("sim.signal=0.9", "signal share must be between 0 and 0.5"),
            ("sim.signal=-inf", "signal share must be between"),
            ("tut=vae.99", "tut=\"vae.99\" is not a tutorial step (there are anomaly.1–5, vae.1–5, awareness.1–6, physics.1–4, resonance.1–5, jets.1–5, baselines.1–5, events.1–5)"),
            ("tut=<img src=x>", "tut=\"<img src=x>\" is not a tutorial step"),
            ("table.header=0123456789abcdef&table.roles=ff&table.epochs=0", "in the table's settings, epochs must be between"),
            ("view=table&hide=table", "view=table asks for a view this link also hides"),
            ("view=hunt&hide=hunt", "view=hunt asks for a view this link also hides"),
            ("hunt.signal=99999", "hunt.signal must be between 0 and 3000"),
            ("hunt.seed=x", "hunt.seed=\"x\" is not a value"),
            ("jets.kappa=0", "jets.kappa must be above 0 and at most 2"),
            ("jets.kappa=-1", "jets.kappa must be above 0"),
            ("jets.model=resnet", "jets.model=\"resnet\" is not a value"),
            ("jets.train=1e9", "jets.train=\"1e9\" is not a value"),
            ("jets.train=99", "jets.train must be between 1000 and 10000"),
            ("jets.colour=red", "\"jets.colour\" is not a setting"),
            ("view=jets&hide=jets", "view=jets asks for a view this link also hides"),
            ("events.train=10", "events.train must be between 2000 and 20000"),
            ("events.loss=simclr", "events.loss=\"simclr\" is not a value"),
            ("events.add=off&events.split=off", "events.add, events.split and events.scale are all off"),
            ("events.temp=5", "events.temp must be between 0.02 and 1"),
            ("events.seed=0", "events.seed must be between 1 and 1000000"),
        ];
        for (fragment, expected) in cases {
            let decoded = decode(fragment);
            let summary = decoded.summary().unwrap_or_default();
            assert!(summary.contains(expected), "{fragment}: {summary}");
            assert!(summary.starts_with("Parts of this link could not be used"), "{summary}");
            // Whatever went wrong, the setup is one the playground can run.
            assert!(decoded.setup.digits.problems().is_empty(), "{fragment}");
            assert!(decoded.setup.awareness.problems(&decoded.setup.digits).is_empty(), "{fragment}");
            assert!(decoded.setup.simulation.problems().is_empty(), "{fragment}");
        }
        assert_eq!(decode("v=9&epochs=3").setup.digits.model.optimiser.epochs, 3, "a newer link is read as far as understood");
        assert_eq!(decode("epochs=ten&seed=5").setup.digits.model.optimiser.seed, 5, "good parts of a bad link are kept");
    }

    #[test]
    fn a_hostile_link_gets_a_short_notice_without_repeats() {
        let many_keys: String = (0..400).map(|i| format!("junk{i}=1&")).collect();
        let summary = decode(&many_keys).summary().unwrap();
        assert!(summary.contains("\"junk0\", \"junk1\", \"junk2\", \"junk3\", \"junk4\" and 395 more are not settings"), "{summary}");
        assert!(summary.len() < 400, "{} characters: {summary}", summary.len());
        let repeated_hide = format!("hide={}", "nope,".repeat(300));
        let summary = decode(&repeated_hide).summary().unwrap();
        assert_eq!(summary.matches("nope").count(), 1, "{summary}");
        let repeated_problem = "epochs=x&".repeat(50);
        let summary = decode(&repeated_problem).summary().unwrap();
        assert_eq!(summary.matches("epochs=").count(), 1, "{summary}");
        // Every kind of problem at once, each as long as it can be: still a notice, not a page.
        let mut worst = String::new();
        for setting in MODEL_SETTINGS.iter() {
            worst += &format!("{}={}&", setting.link_key, "x".repeat(60));
        }
        worst += &format!("hide={}&", (0..40).map(|i| format!("{i}{}", "y".repeat(60))).collect::<Vec<_>>().join(","));
        let summary = decode(&worst).summary().unwrap();
        assert!(summary.len() < 1200, "{} characters: {summary}", summary.len());
        assert!(summary.ends_with("more problems."), "{summary}");
    }

    #[test]
    fn slow_but_legal_settings_are_said_before_training() {
        assert_eq!(decode(&encode(&SharedSetup::default())).slow_settings_note(), None);
        let decoded = decode("batch=1&hidden=1024&table.header=0123456789abcdef&table.roles=ff&table.sample=1000000");
        assert_eq!(decoded.problems, vec![], "these are legal");
        let note = decoded.slow_settings_note().unwrap();
        assert!(note.starts_with("This link asks for slow settings (batch 1, 1024 hidden units, a training sample of up to 1000000 rows)"), "{note}");
    }

    #[test]
    fn huge_and_truncated_links_never_panic() {
        let huge = "seed=1&".repeat(1000);
        let decoded = decode(&huge);
        assert_eq!(decoded.setup, SharedSetup::default());
        assert!(decoded.summary().unwrap().contains("longer than 4096"));
        let link = encode(&SharedSetup::default());
        for cut in 0..link.len() {
            let decoded = decode(&link[..cut]);
            assert!(decoded.setup.digits.problems().is_empty());
        }
        let long_value = format!("hidden={}", "9".repeat(300));
        assert!(decode(&long_value).summary().unwrap().contains("…\""), "long values are cut when quoted");
    }
}
