//! What the Events view draws, computed in the engine so the worker only posts it: events in the η–φ
//! plane beside their copies, how similar the encoder finds an event to its physical and to its
//! anomalous copy, and, once both autoencoders have trained, each signal's ROC curve and figures with the
//! representation space projected to its two principal axes.

use super::augment::{add_objects, physical, split_objects};
use super::clr::{represent, RowScorer};
use super::encoder::Encoder;
use super::study::{raw_rows, Probe, Study, TestGroup};
use super::{Event, ObjectType};
use crate::metrics::{roc_curve, Histogram, Roc};
use crate::projection::principal_plane;
use crate::rng::SeededRng;

/// Bins of a similarity histogram over [−1, 1].
pub const SIMILARITY_BINS: usize = 40;
/// Points of a ROC curve sent to the page.
pub const ROC_POINTS: usize = 200;
/// Test events of each class in the representation map.
pub const MAP_POINTS: usize = 150;
/// The signal efficiency at which the background rejection 1/ε_B is quoted.
pub const EFFICIENCY: f64 = 0.3;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DisplayObject {
    pub kind: ObjectType,
    pub pt: f32,
    pub eta: f32,
    pub phi: f32,
}

/// One event as the event display draws it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EventDisplay {
    pub title: String,
    /// What kind of event it is ("W → ℓν", "a background event of your file").
    pub kind: String,
    pub objects: Vec<DisplayObject>,
}

impl EventDisplay {
    pub fn of(event: &Event, title: impl Into<String>) -> Self {
        let objects = event.objects().map(|(slot, o)| DisplayObject { kind: ObjectType::of_slot(slot), pt: o.pt, eta: o.eta, phi: o.phi }).collect();
        let kind = event.process.map_or_else(|| "from your file".to_string(), |p| p.name().to_string());
        Self { title: title.into(), kind, objects }
    }

    /// A sentence for a screen reader: the objects, hardest first.
    pub fn description(&self) -> String {
        let mut objects = self.objects.clone();
        objects.sort_by(|a, b| b.pt.total_cmp(&a.pt));
        let listed: Vec<String> = objects
            .iter()
            .map(|o| match o.kind {
                ObjectType::Met => format!("missing energy {:.0} GeV at φ {:.1}", o.pt, o.phi),
                kind => format!("{} {:.0} GeV at η {:.1}, φ {:.1}", type_name(kind), o.pt, o.eta, o.phi),
            })
            .collect();
        format!("{} ({}): {}.", self.title, self.kind, listed.join("; "))
    }
}

pub fn type_name(kind: ObjectType) -> &'static str {
    match kind {
        ObjectType::Met => "missing energy",
        ObjectType::Electron => "electron",
        ObjectType::Muon => "muon",
        ObjectType::Jet => "jet",
    }
}

/// What the view shows before training: an event beside its physical copy and its two kinds of
/// anomalous copy, an event of each signal, and the sizes of the study.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyIntro {
    pub original: EventDisplay,
    pub physical: EventDisplay,
    pub added: EventDisplay,
    pub split: EventDisplay,
    pub signals: Vec<EventDisplay>,
    pub parameters: usize,
    pub train_events: usize,
    pub test_events: usize,
    /// Where the events come from: "the toy", or the visitor's file's name.
    pub source: String,
}

impl StudyIntro {
    pub fn of(study: &Study) -> Self {
        // The busiest of the first probe events shows the copies best.
        let event = study.probe.events.iter().take(20).max_by_key(|e| e.objects().count()).expect("the probe has events");
        let mut rng = SeededRng::derive(study.settings.seed, "clr-display");
        Self {
            original: EventDisplay::of(event, "An event"),
            physical: EventDisplay::of(&physical(event, &mut rng), "Physical copy: turned, smeared"),
            added: EventDisplay::of(&add_objects(event, &mut rng), "Anomalous copy: objects added"),
            split: EventDisplay::of(&split_objects(event, &mut rng), "Anomalous copy: objects split"),
            signals: study.test_signals.iter().map(|group| EventDisplay::of(&group.events[0], group.name.clone())).collect(),
            parameters: study.parameters(),
            train_events: study.train.len(),
            test_events: study.test_background.len(),
            source: study.source.clone(),
        }
    }
}

/// The cosine similarity of each probe event's representation to its physical copy's and to its
/// anomalous copy's: training should pull the first towards 1 and push the second down.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Similarities {
    pub epoch: usize,
    pub physical: Histogram,
    pub anomalous: Histogram,
    pub mean_physical: f64,
    pub mean_anomalous: f64,
}

impl Similarities {
    pub fn of(encoder: &Encoder, probe: &Probe, epoch: usize) -> candle_core::Result<Self> {
        let z = represent(encoder, &probe.events)?;
        let cosines = |copies: &[Event]| -> candle_core::Result<Vec<f32>> {
            let zc = represent(encoder, copies)?;
            let width = encoder.config().output;
            Ok(z.chunks(width).zip(zc.chunks(width)).map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum()).collect())
        };
        let (physical, anomalous) = (cosines(&probe.physical)?, cosines(&probe.anomalous)?);
        let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len().max(1) as f64;
        Ok(Self {
            epoch,
            mean_physical: mean(&physical),
            mean_anomalous: mean(&anomalous),
            physical: Histogram::new(&physical, -1.0, 1.0, SIMILARITY_BINS),
            anomalous: Histogram::new(&anomalous, -1.0, 1.0, SIMILARITY_BINS),
        })
    }
}

/// The ROC curve of signal scores against background scores, and 1/ε_B at ε_S = 30 % (at most the
/// number of background events, when none passes).
pub fn rejection(signal: &[f32], background: &[f32]) -> Result<(Roc, f64), crate::metrics::MetricError> {
    let mut scores = signal.to_vec();
    scores.extend_from_slice(background);
    let labels: Vec<bool> = (0..scores.len()).map(|i| i < signal.len()).collect();
    let roc = roc_curve(&scores, &labels)?;
    let at = roc.true_positive_rate.iter().position(|&t| t >= EFFICIENCY).unwrap_or(roc.true_positive_rate.len() - 1);
    let inverse = 1.0 / roc.false_positive_rate[at].max(1.0 / background.len() as f64);
    Ok((roc, inverse))
}

/// One signal's comparison: the autoencoder on raw objects against the one on representations.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SignalFigures {
    pub name: String,
    pub key: String,
    pub auc_raw: f64,
    pub auc_clr: f64,
    pub inv_eps_b_raw: f64,
    pub inv_eps_b_clr: f64,
    pub roc_raw: Roc,
    pub roc_clr: Roc,
}

/// Test events in the representation space's two principal axes, with their group: 0 the background,
/// k the k-th kind of signal.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RepresentationMap {
    pub points: Vec<(f32, f32, usize)>,
    /// The share of the variance along each axis.
    pub explained: [f32; 2],
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyResult {
    pub signals: Vec<SignalFigures>,
    pub map: RepresentationMap,
}

impl StudyResult {
    pub fn of(study: &Study, encoder: &Encoder, raw: &RowScorer, clr: &RowScorer) -> Result<Self, super::study::StudyError> {
        let background_z = represent(encoder, &study.test_background)?;
        let background_raw = raw.scores(&raw_rows(&study.test_background))?;
        let background_clr = clr.scores(&background_z)?;
        let width = encoder.config().output;
        let mut map_rows: Vec<f32> = background_z[..MAP_POINTS.min(study.test_background.len()) * width].to_vec();
        let mut map_labels: Vec<usize> = vec![0; MAP_POINTS.min(study.test_background.len())];
        let mut signals = Vec::new();
        for (group, TestGroup { name, key, events }) in study.test_signals.iter().enumerate() {
            let z = represent(encoder, events)?;
            let metric = |err: crate::metrics::MetricError| super::study::StudyError::Settings(format!("the scores could not be ranked: {err}"));
            let (roc_raw, inv_eps_b_raw) = rejection(&raw.scores(&raw_rows(events))?, &background_raw).map_err(metric)?;
            let (roc_clr, inv_eps_b_clr) = rejection(&clr.scores(&z)?, &background_clr).map_err(metric)?;
            map_rows.extend_from_slice(&z[..MAP_POINTS.min(events.len()) * width]);
            map_labels.extend(std::iter::repeat_n(group + 1, MAP_POINTS.min(events.len())));
            signals.push(SignalFigures {
                name: name.clone(),
                key: key.clone(),
                auc_raw: roc_raw.auc,
                auc_clr: roc_clr.auc,
                inv_eps_b_raw,
                inv_eps_b_clr,
                roc_raw: roc_raw.thinned(ROC_POINTS),
                roc_clr: roc_clr.thinned(ROC_POINTS),
            });
        }
        let (plane, explained) = principal_plane(&map_rows, width);
        let points = plane.into_iter().zip(map_labels).map(|((x, y), p)| (x, y, p)).collect();
        Ok(Self { signals, map: RepresentationMap { points, explained } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::toy::generate;
    use crate::objects::Process;

    #[test]
    fn rejection_at_thirty_percent_is_read_from_the_exact_curve() {
        // Signal scores 0 … 9; background scores −2.95 … 6.95.
        let signal: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let background: Vec<f32> = (0..100).map(|i| i as f32 * 0.1 - 2.95).collect();
        let (roc, inverse) = rejection(&signal, &background).unwrap();
        // ε_S = 30 % (9, 8, 7) at a threshold of 7: no background event is that high, so 1/ε_B is capped at 100.
        assert_eq!(inverse, 100.0);
        assert!(roc.auc > 0.5 && roc.auc < 1.0);
    }

    #[test]
    fn a_display_lists_every_object_and_describes_it() {
        let event = &generate(Process::A4l, 1, 3)[0];
        let display = EventDisplay::of(event, "An event");
        assert_eq!(display.objects.len(), event.objects().count());
        assert!(display.objects.iter().filter(|o| matches!(o.kind, ObjectType::Electron | ObjectType::Muon)).count() >= 2);
        let text = display.description();
        assert!(text.starts_with("An event (A → 4ℓ): ") && text.contains("missing energy"), "{text}");
    }
}
