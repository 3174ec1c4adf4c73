//! Toy events as object lists, in the spirit of the CMS ADC2021 challenge: a Standard Model background of
//! W → ℓν (59.2 %), QCD multijet (33.8 %), Z → ℓℓ (6.7 %) and tt̄ (0.3 %), and four signals, A → 4ℓ,
//! LQ → bτ, h⁰ → ττ and h± → τν (SCIENCE.md, "Object-list events"). A toy, not a simulation: parents are
//! drawn with simple spectra, decayed isotropically, and their visible products kept within the
//! challenge's acceptance (electrons |η| < 3, muons |η| < 2.1, jets |η| < 4; leptons pT > 3 GeV, jets
//! pT > 15 GeV); an event is kept only if a lepton has pT > 23 GeV (the trigger), otherwise drawn again.
//!
//! Where the specification leaves a choice open, this is what the toy does:
//! - single resonances (W, Z, A, h⁰, h±) have pT ~ Exp(12 GeV) for W and Z, Exp(20 GeV) for the signals,
//!   rapidity ~ N(0, 2.2) (W, Z) or N(0, 2.0) (signals), and Poisson(0.8) recoiling jets of pT 15 + Exp(25)
//!   GeV at the opposite azimuth ± N(0, 0.5), η ~ N(0, 1.8);
//! - pairs (tt̄, LQ LQ̄) come from a system of mass 2m + Exp(150 GeV) (tt̄) or 2m + Exp(60 GeV) (LQ),
//!   pT ~ Exp(30 GeV) or Exp(20 GeV), rapidity ~ N(0, 1.5);
//! - QCD: the leading pair back to back, both of pT 25 + Exp(40) GeV, further jets 15 + Exp(25) GeV, jet
//!   η ~ N(0, 1.8); the non-isolated lepton takes its share f of one jet's pT (the jet keeps 1 − f), at
//!   ΔR < 0.4 from it; the MET is noise, N(0, 10 GeV) per component;
//! - W decays to e ν or μ ν (half each), in tt̄ to e, μ (1/9 each), τ (1/9) or two jets (2/3);
//! - τ leptons are massless; the MET is the sum of the neutrinos' pT plus noise of σ = 0.5·√H_T per
//!   component, H_T the scalar sum of the kept objects' pT;
//! - the detector finds a lepton with an efficiency rising from 50 % at 3 GeV to 95 % from 30 GeV on
//!   (soft leptons are often lost), and any jet holds, with probability 0.15, a soft non-isolated lepton
//!   from a heavy-flavour decay (a share U(0.05, 0.3) of the jet's pT, within ΔR < 0.4), so that leptons
//!   alone do not give a signal away. Without these two, a classifier told the signals from the
//!   background almost perfectly (A → 4ℓ at AUC 0.999), against the specification's 0.80–0.98.

use super::{Event, Object, Process, ELECTRONS, JETS, MUONS, SLOTS};
use crate::kinematics::{breit_wigner, decay, exponential, from_pt_rapidity, poisson, pt_eta_phi, uniform};
use crate::rng::SeededRng;
use std::f64::consts::{PI, TAU};

/// The background mix, as the challenge's sample has it (arXiv:2107.02157).
pub const BACKGROUND_MIX: [(Process, f64); 4] = [(Process::W, 0.592), (Process::Qcd, 0.338), (Process::Z, 0.067), (Process::TTbar, 0.003)];
/// A lepton above this pT fires the trigger.
pub const TRIGGER_PT: f64 = 23.0;
const W_MASS: f64 = 80.4;
const TOP_MASS: f64 = 172.5;
const B_MASS: f64 = 4.8;
/// A rejection loop that never ends would be a bug: no process here keeps fewer than 1 event in 1,000.
const MAX_TRIES: usize = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Electron,
    Muon,
    Jet,
}

/// What a process produced before the detector: visible particles and the neutrinos' summed momentum.
#[derive(Default)]
struct Truth {
    visible: Vec<(Kind, [f64; 4])>,
    invisible: [f64; 2],
    /// QCD's MET is noise of its own (N(0, 10 GeV) a component) rather than the H_T-scaled noise.
    qcd_met: bool,
}

impl Truth {
    fn see(&mut self, kind: Kind, p: [f64; 4]) {
        self.visible.push((kind, p));
    }

    fn miss(&mut self, p: [f64; 4]) {
        self.invisible[0] += p[1];
        self.invisible[1] += p[2];
    }
}

/// `count` events of `process`, reproducibly from `seed`.
pub fn generate(process: Process, count: usize, seed: u64) -> Vec<Event> {
    let mut rng = SeededRng::derive(seed, process.key());
    (0..count).map(|_| one(process, &mut rng)).collect()
}

/// `count` background events in the challenge's mix (each event's process drawn by its share).
pub fn background(count: usize, seed: u64) -> Vec<Event> {
    let mut rng = SeededRng::derive(seed, "background");
    (0..count)
        .map(|_| {
            let mut u = rng.uniform_f64();
            let process = BACKGROUND_MIX.iter().find(|(_, share)| {
                u -= share;
                u < 0.0
            });
            one(process.map_or(Process::W, |(p, _)| *p), &mut rng)
        })
        .collect()
}

fn one(process: Process, rng: &mut SeededRng) -> Event {
    for _ in 0..MAX_TRIES {
        let mut truth = Truth::default();
        match process {
            Process::W => w_lnu(rng, &mut truth),
            Process::Qcd => qcd(rng, &mut truth),
            Process::Z => z_ll(rng, &mut truth),
            Process::TTbar => ttbar(rng, &mut truth),
            Process::A4l => a_4l(rng, &mut truth),
            Process::LqBtau => lq_btau(rng, &mut truth),
            Process::H0TauTau => h0_tautau(rng, &mut truth),
            Process::HpmTauNu => hpm_taunu(rng, &mut truth),
        }
        if let Some(event) = detect(truth, process, rng) {
            return event;
        }
    }
    panic!("no {process:?} event passed the trigger in {MAX_TRIES} tries");
}

/// The detector: acceptance, the MET, the trigger, and the slots (pT-ordered within a type).
fn detect(mut truth: Truth, process: Process, rng: &mut SeededRng) -> Option<Event> {
    heavy_flavour_leptons(&mut truth, rng);
    let mut accepted: Vec<(Kind, f64, f64, f64)> = truth
        .visible
        .iter()
        .map(|&(kind, p)| {
            let (pt, eta, phi) = pt_eta_phi(p);
            (kind, pt, eta, phi)
        })
        .filter(|&(kind, pt, eta, _)| match kind {
            Kind::Electron => eta.abs() < 3.0 && pt > 3.0,
            Kind::Muon => eta.abs() < 2.1 && pt > 3.0,
            Kind::Jet => eta.abs() < 4.0 && pt > 15.0,
        })
        .collect();
    accepted.retain(|&(kind, pt, _, _)| kind == Kind::Jet || rng.uniform_f64() < lepton_efficiency(pt));
    if !accepted.iter().any(|&(kind, pt, _, _)| kind != Kind::Jet && pt > TRIGGER_PT) {
        return None;
    }
    let ht: f64 = accepted.iter().map(|a| a.1).sum();
    let sigma = if truth.qcd_met { 10.0 } else { 0.5 * ht.sqrt() };
    let met = [truth.invisible[0] + sigma * rng.normal_f64(), truth.invisible[1] + sigma * rng.normal_f64()];
    let mut slots = [Object::default(); SLOTS];
    slots[0] = Object { pt: met[0].hypot(met[1]) as f32, eta: 0.0, phi: met[1].atan2(met[0]) as f32 };
    for (kind, range) in [(Kind::Electron, ELECTRONS), (Kind::Muon, MUONS), (Kind::Jet, JETS)] {
        let mut of_kind: Vec<&(Kind, f64, f64, f64)> = accepted.iter().filter(|a| a.0 == kind).collect();
        of_kind.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (slot, &&(_, pt, eta, phi)) in range.zip(of_kind.iter()) {
            slots[slot] = Object { pt: pt as f32, eta: eta as f32, phi: phi as f32 };
        }
    }
    Some(Event { slots, process: Some(process) })
}

/// The chance that the detector finds a lepton of this pT: 50 % at 3 GeV, rising to 95 % from 30 GeV on.
fn lepton_efficiency(pt: f64) -> f64 {
    0.5 + 0.45 * ((pt - 3.0) / 27.0).clamp(0.0, 1.0)
}

/// Each jet holds a soft non-isolated lepton with probability 0.15 (a heavy-flavour decay): a share
/// U(0.05, 0.3) of its pT, within ΔR < 0.4, the jet keeping the rest.
fn heavy_flavour_leptons(truth: &mut Truth, rng: &mut SeededRng) {
    let jets: Vec<usize> = (0..truth.visible.len()).filter(|&i| truth.visible[i].0 == Kind::Jet).collect();
    for i in jets {
        if rng.uniform_f64() >= 0.15 {
            continue;
        }
        let (pt, eta, phi) = pt_eta_phi(truth.visible[i].1);
        let share = uniform(rng, 0.05, 0.3);
        let (r, angle) = (0.4 * rng.uniform_f64().sqrt(), TAU * rng.uniform_f64());
        truth.visible[i].1 = massless((1.0 - share) * pt, eta, phi);
        let flavour = lepton(rng);
        truth.see(flavour, massless(share * pt, eta + r * angle.cos(), phi + r * angle.sin()));
    }
}

fn lepton(rng: &mut SeededRng) -> Kind {
    if rng.uniform_f64() < 0.5 { Kind::Electron } else { Kind::Muon }
}

fn massless(pt: f64, eta: f64, phi: f64) -> [f64; 4] {
    from_pt_rapidity(0.0, pt, eta, phi)
}

/// A parent of `mass` with pT ~ Exp(`pt_mean`), rapidity ~ N(0, `rapidity_sigma`), azimuth uniform.
fn produced(rng: &mut SeededRng, mass: f64, pt_mean: f64, rapidity_sigma: f64) -> [f64; 4] {
    let pt = exponential(rng, pt_mean);
    let rapidity = rapidity_sigma * rng.normal_f64();
    from_pt_rapidity(mass, pt, rapidity, TAU * rng.uniform_f64())
}

/// Poisson(0.8) jets recoiling against a parent at azimuth `phi`.
fn recoil_jets(rng: &mut SeededRng, truth: &mut Truth, phi: f64) {
    for _ in 0..poisson(rng, 0.8) {
        let pt = 15.0 + exponential(rng, 25.0);
        truth.see(Kind::Jet, massless(pt, 1.8 * rng.normal_f64(), phi + PI + 0.5 * rng.normal_f64()));
    }
}

fn azimuth(p: [f64; 4]) -> f64 {
    p[2].atan2(p[1])
}

fn w_lnu(rng: &mut SeededRng, truth: &mut Truth) {
    let mass = breit_wigner(rng, W_MASS, 2.1, 50.0, 110.0);
    let w = produced(rng, mass, 12.0, 2.2);
    let (l, nu) = decay(rng, w, mass, 0.0, 0.0);
    let flavour = lepton(rng);
    truth.see(flavour, l);
    truth.miss(nu);
    recoil_jets(rng, truth, azimuth(w));
}

fn z_ll(rng: &mut SeededRng, truth: &mut Truth) {
    let mass = breit_wigner(rng, 91.19, 2.5, 60.0, 120.0);
    let z = produced(rng, mass, 12.0, 2.2);
    let (a, b) = decay(rng, z, mass, 0.0, 0.0);
    let flavour = lepton(rng);
    truth.see(flavour, a);
    truth.see(flavour, b);
    recoil_jets(rng, truth, azimuth(z));
}

fn qcd(rng: &mut SeededRng, truth: &mut Truth) {
    truth.qcd_met = true;
    let pt = 25.0 + exponential(rng, 40.0);
    let phi = TAU * rng.uniform_f64();
    let mut jets = vec![(pt, 1.8 * rng.normal_f64(), phi), (pt, 1.8 * rng.normal_f64(), phi + PI)];
    for _ in 0..poisson(rng, 1.2) {
        jets.push((15.0 + exponential(rng, 25.0), 1.8 * rng.normal_f64(), TAU * rng.uniform_f64()));
    }
    // The non-isolated lepton: a share of one jet's pT, within ΔR < 0.4 of it.
    let host = rng.below(jets.len());
    let share = uniform(rng, 0.2, 0.9);
    let (r, angle) = (0.4 * rng.uniform_f64().sqrt(), TAU * rng.uniform_f64());
    let (host_pt, host_eta, host_phi) = jets[host];
    let flavour = lepton(rng);
    truth.see(flavour, massless(share * host_pt, host_eta + r * angle.cos(), host_phi + r * angle.sin()));
    jets[host].0 = (1.0 - share) * host_pt;
    for (pt, eta, phi) in jets {
        truth.see(Kind::Jet, massless(pt, eta, phi));
    }
}

fn ttbar(rng: &mut SeededRng, truth: &mut Truth) {
    let mass = 2.0 * TOP_MASS + exponential(rng, 150.0);
    let system = produced(rng, mass, 30.0, 1.5);
    let (t1, t2) = decay(rng, system, mass, TOP_MASS, TOP_MASS);
    for top in [t1, t2] {
        let w_mass = breit_wigner(rng, W_MASS, 2.1, 60.0, 100.0);
        let (b, w) = decay(rng, top, TOP_MASS, B_MASS, w_mass);
        truth.see(Kind::Jet, b);
        let (first, second) = decay(rng, w, w_mass, 0.0, 0.0);
        match rng.below(9) {
            0 => {
                truth.see(Kind::Electron, first);
                truth.miss(second);
            }
            1 => {
                truth.see(Kind::Muon, first);
                truth.miss(second);
            }
            2 => {
                tau(rng, truth, first);
                truth.miss(second);
            }
            _ => {
                truth.see(Kind::Jet, first);
                truth.see(Kind::Jet, second);
            }
        }
    }
}

fn a_4l(rng: &mut SeededRng, truth: &mut Truth) {
    const MASS: f64 = 50.0;
    let a = produced(rng, MASS, 20.0, 2.0);
    let m1 = uniform(rng, 12.0, 38.0);
    let m2 = uniform(rng, 4.0, MASS - m1);
    let (z1, z2) = decay(rng, a, MASS, m1, m2);
    for (z, m) in [(z1, m1), (z2, m2)] {
        let (l1, l2) = decay(rng, z, m, 0.0, 0.0);
        let flavour = lepton(rng);
        truth.see(flavour, l1);
        truth.see(flavour, l2);
    }
    recoil_jets(rng, truth, azimuth(a));
}

fn h0_tautau(rng: &mut SeededRng, truth: &mut Truth) {
    const MASS: f64 = 60.0;
    let h = produced(rng, MASS, 20.0, 2.0);
    let (t1, t2) = decay(rng, h, MASS, 0.0, 0.0);
    tau(rng, truth, t1);
    tau(rng, truth, t2);
    recoil_jets(rng, truth, azimuth(h));
}

fn hpm_taunu(rng: &mut SeededRng, truth: &mut Truth) {
    const MASS: f64 = 60.0;
    let h = produced(rng, MASS, 20.0, 2.0);
    let (t, nu) = decay(rng, h, MASS, 0.0, 0.0);
    tau(rng, truth, t);
    truth.miss(nu);
    recoil_jets(rng, truth, azimuth(h));
}

fn lq_btau(rng: &mut SeededRng, truth: &mut Truth) {
    const MASS: f64 = 80.0;
    let pair_mass = 2.0 * MASS + exponential(rng, 60.0);
    let system = produced(rng, pair_mass, 20.0, 1.5);
    let (lq1, lq2) = decay(rng, system, pair_mass, MASS, MASS);
    for lq in [lq1, lq2] {
        let (b, t) = decay(rng, lq, MASS, B_MASS, 0.0);
        truth.see(Kind::Jet, b);
        tau(rng, truth, t);
    }
}

/// A τ's decay, collinear: 35 % to an electron or muon (half each) carrying a fraction x of its momentum,
/// x drawn from (5 − 9x² + 4x³)/3, else to a jet carrying x ~ U(0, 1); the neutrinos take the rest.
fn tau(rng: &mut SeededRng, truth: &mut Truth, p: [f64; 4]) {
    let (kind, x) = if rng.uniform_f64() < 0.35 {
        let flavour = lepton(rng);
        let x = loop {
            let (x, y) = (rng.uniform_f64(), 5.0 / 3.0 * rng.uniform_f64());
            if y < (5.0 - 9.0 * x * x + 4.0 * x * x * x) / 3.0 {
                break x;
            }
        };
        (flavour, x)
    } else {
        (Kind::Jet, rng.uniform_f64())
    };
    truth.see(kind, p.map(|c| c * x));
    truth.miss(p.map(|c| c * (1.0 - x)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinematics::invariant_mass;
    use crate::objects::{to_csv, ObjectType, FEATURES_PER_SLOT};

    fn median(mut values: Vec<f64>) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    fn p4(o: &Object) -> [f64; 4] {
        massless(o.pt as f64, o.eta as f64, o.phi as f64)
    }

    /// The kept leptons of an event, as (type, object).
    fn leptons(event: &Event) -> Vec<(ObjectType, Object)> {
        event.objects().filter(|(s, _)| ELECTRONS.contains(s) || MUONS.contains(s)).map(|(s, o)| (ObjectType::of_slot(s), *o)).collect()
    }

    #[test]
    fn every_event_is_triggered_within_acceptance_and_ordered_and_the_same_seed_gives_the_same_events() {
        for process in Process::BACKGROUND.into_iter().chain(Process::SIGNALS) {
            let events = generate(process, 300, 7);
            assert_eq!(events, generate(process, 300, 7));
            for event in &events {
                assert!(leptons(event).iter().any(|(_, l)| l.pt as f64 > TRIGGER_PT), "{process:?}: no trigger lepton");
                for (slot, object) in event.objects().skip_while(|(s, _)| *s == 0) {
                    let (max_eta, min_pt) = match ObjectType::of_slot(slot) {
                        ObjectType::Electron => (3.0, 3.0),
                        ObjectType::Muon => (2.1, 3.0),
                        _ => (4.0, 15.0),
                    };
                    assert!(object.eta.abs() < max_eta && object.pt > min_pt, "{process:?} slot {slot}: {object:?}");
                }
                for range in [ELECTRONS, MUONS, JETS] {
                    let pts: Vec<f32> = event.slots[range].iter().map(|o| o.pt).collect();
                    assert!(pts.windows(2).all(|w| w[0] >= w[1]), "{process:?}: not ordered by pT, or a gap: {pts:?}");
                }
                assert!(event.features().iter().all(|v| v.is_finite()));
            }
        }
    }

    #[test]
    fn the_resonances_sit_where_they_should() {
        // Z → ℓℓ: the two leading same-flavour leptons' mass peaks at 91 GeV.
        let z: Vec<f64> = generate(Process::Z, 2000, 1)
            .iter()
            .filter_map(|e| {
                let l = leptons(e);
                (l.len() >= 2 && l[0].0 == l[1].0).then(|| invariant_mass(&[p4(&l[0].1), p4(&l[1].1)]))
            })
            .collect();
        assert!((88.0..94.0).contains(&median(z.clone())), "Z mass median {}", median(z));
        // W → ℓν: the transverse mass of the lepton and the MET has its Jacobian edge near 80 GeV.
        let mt: Vec<f64> = generate(Process::W, 2000, 1)
            .iter()
            .map(|e| {
                let (l, met) = (leptons(e)[0].1, e.slots[0]);
                (2.0 * l.pt as f64 * met.pt as f64 * (1.0 - ((l.phi - met.phi) as f64).cos())).sqrt()
            })
            .collect();
        let below_edge = mt.iter().filter(|&&m| m < 90.0).count() as f64 / mt.len() as f64;
        assert!((50.0..85.0).contains(&median(mt.clone())) && below_edge > 0.85, "W transverse mass median {}, {below_edge} below 90", median(mt));
        // A → 4ℓ: four kept leptons weigh at most the A's 50 GeV, unless a lepton from a jet's heavy-flavour
        // decay is among them.
        let masses: Vec<f64> = generate(Process::A4l, 2000, 1)
            .iter()
            .map(leptons)
            .filter(|l| l.len() == 4)
            .map(|l| invariant_mass(&l.iter().map(|(_, o)| p4(o)).collect::<Vec<_>>()))
            .collect();
        let within = masses.iter().filter(|&&m| m < 50.5).count() as f64 / masses.len() as f64;
        assert!(masses.len() > 100 && within > 0.8, "{} events with four leptons, {within} of them within 50 GeV", masses.len());
    }

    #[test]
    fn the_background_mix_has_the_challenge_shares_and_the_csv_names_every_slot() {
        let events = background(20_000, 3);
        for (process, share) in BACKGROUND_MIX {
            let got = events.iter().filter(|e| e.process == Some(process)).count() as f64 / events.len() as f64;
            assert!((got - share).abs() < 0.012, "{process:?}: {got} of the events, not {share}");
        }
        let csv = String::from_utf8(to_csv(&events[..5])).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[0].starts_with("met_pt,met_eta,met_phi,e1_pt,") && lines[0].ends_with(",j10_phi,process,is_signal"), "{}", lines[0]);
        assert_eq!(lines[0].split(',').count(), SLOTS * 3 + 2);
        assert!(lines[1..].iter().all(|l| l.split(',').count() == SLOTS * 3 + 2 && l.ends_with(",0")));
        assert_eq!(events[0].features().len(), SLOTS * FEATURES_PER_SLOT);
    }
}
