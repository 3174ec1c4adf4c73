//! AnomalyCLR's augmentations of an event (SCIENCE.md, "Object-list events", after the authors' code).
//!
//! Physical ones, which leave an event what it was: one azimuthal rotation of the whole event; a small
//! η/φ smearing of soft objects, σ = 0.028/(1 + e^((pT − 25)/0.1)) (objects above 25 GeV do not move; one
//! smeared out of its acceptance is dropped); and a jet-energy smearing, σ = √(0.052·pT² + 1.502·pT) GeV
//! (a jet smeared below zero is dropped).
//!
//! Anomalous ones, which make an event look like new physics, one per event, either with equal chance:
//! extra objects (for each type, a number uniform from none to the free slots, pT uniform between the
//! type's threshold and the event's largest pT, η uniform within the acceptance, φ uniform; the MET takes
//! the recoil so the event stays balanced), or collinear splits (for each type, as many of its objects as
//! there are free slots split in two along their direction, a share U(0, 1) each, the total pT kept; the
//! event's leading lepton is never split below the 23 GeV trigger). A third kind, off by default as in
//! the authors' code, scales the MET or every pT by U(1, 5).

use std::f32::consts::PI;

use super::{Event, Object, ObjectType, ELECTRONS, JETS, MUONS};
use crate::rng::SeededRng;

/// The acceptance in |η| and the pT threshold of a type.
fn acceptance(kind: ObjectType) -> (f32, f32) {
    match kind {
        ObjectType::Electron => (3.0, 3.0),
        ObjectType::Muon => (2.1, 3.0),
        ObjectType::Jet => (4.0, 15.0),
        ObjectType::Met => (f32::INFINITY, 0.0),
    }
}

fn wrap(phi: f32) -> f32 {
    (phi + PI).rem_euclid(2.0 * PI) - PI
}

/// The whole event turned by `angle` about the beam.
pub fn rotate(event: &Event, angle: f32) -> Event {
    let mut out = event.clone();
    for object in out.slots.iter_mut().filter(|o| !o.is_empty()) {
        object.phi = wrap(object.phi + angle);
    }
    out
}

/// A physically augmented copy: rotated by a uniform angle, soft objects smeared in η and φ, jets in pT.
pub fn physical(event: &Event, rng: &mut SeededRng) -> Event {
    let mut out = rotate(event, (2.0 * rng.uniform() - 1.0) * PI);
    for (slot, object) in out.slots.iter_mut().enumerate().skip(1) {
        if object.is_empty() {
            continue;
        }
        let sigma = 0.028 / (1.0 + ((object.pt - 25.0) / 0.1).min(80.0).exp());
        object.eta += sigma * rng.normal();
        object.phi = wrap(object.phi + sigma * rng.normal());
        if JETS.contains(&slot) {
            object.pt += (0.052 * object.pt * object.pt + 1.502 * object.pt).sqrt() * rng.normal();
        }
        let (max_eta, _) = acceptance(ObjectType::of_slot(slot));
        if object.eta.abs() >= max_eta || object.pt <= 0.0 {
            *object = Object::default();
        }
    }
    out
}

/// Which anomalous augmentations a run draws from. Adding objects and splitting them are on by default,
/// as in the authors' runs; scaling the MET or every pT is their third kind, off by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnomalyKinds {
    pub add_objects: bool,
    pub split: bool,
    pub scale: bool,
}

impl AnomalyKinds {
    pub const DEFAULT: AnomalyKinds = AnomalyKinds { add_objects: true, split: true, scale: false };
    pub const NONE: AnomalyKinds = AnomalyKinds { add_objects: false, split: false, scale: false };

    pub fn any(self) -> bool {
        self.add_objects || self.split || self.scale
    }
}

/// An anomalously augmented copy: extra objects or collinear splits, either with equal chance.
pub fn anomalous(event: &Event, rng: &mut SeededRng) -> Event {
    anomalous_of(event, rng, AnomalyKinds::DEFAULT)
}

/// An anomalously augmented copy drawn, with equal chance, from the kinds switched on (with none, the
/// event itself).
pub fn anomalous_of(event: &Event, rng: &mut SeededRng, kinds: AnomalyKinds) -> Event {
    let on: Vec<fn(&Event, &mut SeededRng) -> Event> = [(kinds.add_objects, add_objects as fn(&Event, &mut SeededRng) -> Event), (kinds.split, split_objects), (kinds.scale, scale_momenta)]
        .into_iter()
        .filter_map(|(switched_on, make)| switched_on.then_some(make))
        .collect();
    match on.len() {
        0 => event.clone(),
        1 => on[0](event, rng),
        n => {
            // One uniform draw picks the kind (with two kinds, below one half picks the first).
            let pick = ((rng.uniform() * n as f32) as usize).min(n - 1);
            on[pick](event, rng)
        }
    }
}

/// The MET alone, or every object's pT, the MET's included, scaled by one factor U(1, 5): an event
/// with far more energy, or far more missing energy, than its kind makes. Directions are kept, so
/// every object stays in its acceptance and above its threshold.
pub fn scale_momenta(event: &Event, rng: &mut SeededRng) -> Event {
    let mut out = event.clone();
    let only_met = rng.uniform() < 0.5;
    let factor = 1.0 + 4.0 * rng.uniform();
    for (slot, object) in out.slots.iter_mut().enumerate() {
        if slot == 0 || !only_met {
            object.pt *= factor;
        }
    }
    out
}

/// Extra objects in free slots, the MET taking their recoil.
pub fn add_objects(event: &Event, rng: &mut SeededRng) -> Event {
    let mut out = event.clone();
    let largest = event.slots.iter().map(|o| o.pt).fold(0.0, f32::max);
    let (mut met_x, mut met_y) = (event.slots[0].pt * event.slots[0].phi.cos(), event.slots[0].pt * event.slots[0].phi.sin());
    for range in [ELECTRONS, MUONS, JETS] {
        let (max_eta, threshold) = acceptance(ObjectType::of_slot(range.start));
        let free: Vec<usize> = range.filter(|&s| out.slots[s].is_empty()).collect();
        let count = rng.below(free.len() + 1);
        for &slot in &free[..count] {
            let pt = threshold + (largest - threshold).max(0.0) * rng.uniform();
            let object = Object { pt, eta: (2.0 * rng.uniform() - 1.0) * max_eta, phi: (2.0 * rng.uniform() - 1.0) * PI };
            met_x -= pt * object.phi.cos();
            met_y -= pt * object.phi.sin();
            out.slots[slot] = object;
        }
    }
    out.slots[0] = Object { pt: met_x.hypot(met_y), eta: 0.0, phi: met_y.atan2(met_x) };
    out
}

/// Objects split in two along their own direction, into the free slots of their type.
pub fn split_objects(event: &Event, rng: &mut SeededRng) -> Event {
    let mut out = event.clone();
    // The event's leading lepton keeps at least the trigger's 23 GeV.
    let leading_lepton = ELECTRONS.chain(MUONS).filter(|&s| !event.slots[s].is_empty()).max_by(|&a, &b| event.slots[a].pt.total_cmp(&event.slots[b].pt));
    for range in [ELECTRONS, MUONS, JETS] {
        let present: Vec<usize> = range.clone().filter(|&s| !out.slots[s].is_empty()).collect();
        let free: Vec<usize> = range.filter(|&s| out.slots[s].is_empty()).collect();
        for (&from, &to) in present.iter().zip(&free) {
            let parent = out.slots[from];
            let mut share = rng.uniform();
            if Some(from) == leading_lepton {
                let keep = (super::toy::TRIGGER_PT as f32 / parent.pt).min(1.0);
                share = keep + (1.0 - keep) * share;
            }
            out.slots[from] = Object { pt: parent.pt * share, ..parent };
            out.slots[to] = Object { pt: parent.pt * (1.0 - share), ..parent };
            if out.slots[to].pt <= 0.0 {
                out.slots[to] = Object::default();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::toy::{background, TRIGGER_PT};

    fn total_pt(event: &Event, range: std::ops::Range<usize>) -> f32 {
        event.slots[range].iter().map(|o| o.pt).sum()
    }

    fn count(event: &Event) -> usize {
        event.objects().count()
    }

    #[test]
    fn a_rotation_turns_every_object_and_changes_nothing_else() {
        for event in background(200, 1) {
            let turned = rotate(&event, 1.3);
            for (a, b) in event.slots.iter().zip(&turned.slots) {
                assert_eq!((a.pt, a.eta), (b.pt, b.eta));
                if !a.is_empty() {
                    assert!((wrap(b.phi - a.phi) - 1.3).abs() < 1e-5 && b.phi.abs() <= PI);
                }
            }
        }
    }

    #[test]
    fn physical_copies_move_soft_objects_a_little_and_hard_ones_only_in_jet_energy() {
        let mut rng = SeededRng::new(4);
        for event in background(300, 2) {
            let copy = physical(&event, &mut rng);
            assert!(count(&copy) <= count(&event));
            assert_eq!(copy.slots[0].pt, event.slots[0].pt, "the MET only turns");
            // Leptons keep their pT; the hard ones keep their η (angles up to the common turn).
            for slot in ELECTRONS.chain(MUONS).filter(|&s| !copy.slots[s].is_empty()) {
                assert_eq!(copy.slots[slot].pt, event.slots[slot].pt);
                if event.slots[slot].pt > 26.0 {
                    assert!((copy.slots[slot].eta - event.slots[slot].eta).abs() < 1e-6);
                }
                assert!((copy.slots[slot].eta - event.slots[slot].eta).abs() < 0.2);
            }
        }
    }

    #[test]
    fn anomalous_copies_add_objects_within_acceptance_or_split_them_keeping_the_pt() {
        let mut rng = SeededRng::new(5);
        for event in background(300, 3) {
            let added = add_objects(&event, &mut rng);
            assert!(count(&added) >= count(&event));
            let largest = event.slots.iter().map(|o| o.pt).fold(0.0, f32::max);
            for (slot, object) in added.objects().filter(|(s, _)| *s > 0 && event.slots[*s].is_empty()) {
                let (max_eta, threshold) = acceptance(ObjectType::of_slot(slot));
                assert!(object.eta.abs() <= max_eta && object.pt >= threshold && object.pt <= largest.max(threshold));
            }
            // The event stays balanced: the MET's change is minus the added objects' pT.
            let vector = |e: &Event| e.objects().fold((0.0f32, 0.0f32), |(x, y), (_, o)| (x + o.pt * o.phi.cos(), y + o.pt * o.phi.sin()));
            let (before, after) = (vector(&event), vector(&added));
            assert!((before.0 - after.0).abs() < 1e-2 * (1.0 + before.0.abs()) && (before.1 - after.1).abs() < 1e-2 * (1.0 + before.1.abs()), "{before:?} {after:?}");

            let split = split_objects(&event, &mut rng);
            for range in [ELECTRONS, MUONS, JETS] {
                let (a, b) = (total_pt(&event, range.clone()), total_pt(&split, range));
                assert!((a - b).abs() <= 1e-4 * a.max(1.0), "the total pT changed: {a} to {b}");
            }
            let leptons = |e: &Event| ELECTRONS.chain(MUONS).map(|s| e.slots[s].pt).fold(0.0, f32::max);
            assert!(leptons(&split) >= TRIGGER_PT as f32 - 1e-3, "the trigger lepton was split below 23 GeV");
        }
    }

    #[test]
    fn scaled_copies_multiply_the_met_or_every_pt_by_one_factor_and_keep_directions() {
        let mut rng = SeededRng::new(6);
        let (mut met_only, mut all) = (0, 0);
        for event in background(300, 4) {
            let scaled = scale_momenta(&event, &mut rng);
            let factor = scaled.slots[0].pt / event.slots[0].pt;
            assert!((1.0..=5.0 + 1e-4).contains(&factor), "{factor}");
            let others_scaled = event.objects().filter(|(s, _)| *s > 0).all(|(s, o)| (scaled.slots[s].pt - o.pt * factor).abs() <= 1e-3 * o.pt * factor);
            let others_kept = event.objects().filter(|(s, _)| *s > 0).all(|(s, o)| scaled.slots[s].pt == o.pt);
            assert!(others_scaled || others_kept);
            if others_kept { met_only += 1 } else { all += 1 }
            for (a, b) in event.slots.iter().zip(&scaled.slots) {
                assert_eq!((a.eta, a.phi), (b.eta, b.phi));
            }
        }
        assert!(met_only > 100 && all > 100, "{met_only} {all}");
    }

    #[test]
    fn an_anomalous_copy_comes_only_from_the_kinds_switched_on() {
        let events = background(200, 5);
        let mut rng = SeededRng::new(7);
        let only_scale = AnomalyKinds { scale: true, ..AnomalyKinds::NONE };
        for event in &events {
            let copy = anomalous_of(event, &mut rng, only_scale);
            assert_eq!(copy.objects().count(), event.objects().count(), "scaling neither adds nor splits");
            assert!(copy.slots[0].pt >= event.slots[0].pt);
            assert_eq!(anomalous_of(event, &mut rng, AnomalyKinds::NONE), *event);
        }
        // With all three on, each kind turns up: some copies gain objects, some keep their count.
        let all = AnomalyKinds { scale: true, ..AnomalyKinds::DEFAULT };
        let grown = events.iter().filter(|e| anomalous_of(e, &mut rng, all).objects().count() > e.objects().count()).count();
        assert!(grown > 50 && grown < 190, "{grown}");
    }
}
