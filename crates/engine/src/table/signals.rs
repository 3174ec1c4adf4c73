//! Toy collider events with several kinds of signal (issue "Anomaly Awareness on your own table"): the
//! dijet toy's QCD background (`dijet`), and four resonances of different shapes, so that one or two can
//! be shown to the fine-tuning and the others kept unseen, as the Anomaly Awareness paper kept LHC
//! Olympics black boxes unseen. It is a toy: simple formulas that look like the real distributions.
//!
//! Columns, masses in TeV: `m_jj`, `m_j1` (the lighter jet's mass), `delta_m_j`, `tau21_j1`, `tau21_j2`,
//! `tau32_j1`, `tau32_j2` (N-subjettiness ratios: low τ21 means two prongs, low τ32 three), `signal_type`
//! (`background` or the kind's letter) and `label` (1 for any signal).
//!
//! The kinds (jet masses are each kind's centre, 8 % wide; m_jj peaks are 5 % wide):
//! - A: W′ (3.5 TeV) → X (250 GeV) Y (80 GeV), both two-pronged;
//! - B: W′ (4.5 TeV) → X (150 GeV) Y (150 GeV), two-pronged jets of equal mass;
//! - C: Z′ (3.0 TeV) → two three-pronged jets (200 and 120 GeV): lower τ32, τ21 a little below QCD's;
//! - D: W′ (4.0 TeV) → one two-pronged jet (300 GeV) and a QCD jet: only one jet is unusual.
//!
//! Every signal jet's substructure is only half way from a QCD jet's to a clean resonance's (`CLARITY`),
//! and the masses sit inside the QCD jets' spread, so no kind is trivial for an autoencoder trained on
//! the events: calibrated so that the page's autoencoder gives each kind an AUC between about 0.8 and 0.99
//! (a cleaner first version, with the dijet toy's 500 GeV jets, gave every kind 0.99 to 1.00 and left
//! fine-tuning nothing to show).

use super::dijet::{background_mjj, gaussian, MJJ_MIN};
use crate::rng::SeededRng;

pub const HEADER: &str = "m_jj,m_j1,delta_m_j,tau21_j1,tau21_j2,tau32_j1,tau32_j2,signal_type,label";
pub const KINDS: [&str; 4] = ["A", "B", "C", "D"];
pub const BACKGROUND: &str = "background";
/// Each kind's resonance mass (m_jj), TeV.
const KIND_MJJ: [f64; 4] = [3.5, 4.5, 3.0, 4.0];
/// How clean the signal jets' substructure is (see `resonance_jet`).
const CLARITY: f64 = 0.5;

/// One jet: its mass, τ21 and τ32.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Jet {
    mass: f64,
    tau21: f64,
    tau32: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    pub m_jj: f64,
    pub m_j1: f64,
    pub delta_m_j: f64,
    pub tau21: [f64; 2],
    pub tau32: [f64; 2],
    /// Index into [`KINDS`], or None for background.
    pub kind: Option<usize>,
}

/// `rows` events of which round(`signal_fraction` × rows) are signal, shared evenly between the kinds
/// (the first kinds taking one more), at seeded positions.
pub fn generate(rows: usize, signal_fraction: f64, seed: u64) -> Vec<Event> {
    let signal_rows = (signal_fraction.clamp(0.0, 0.5) * rows as f64).round() as usize;
    let mut kinds: Vec<Option<usize>> = (0..rows).map(|i| (i < signal_rows).then_some(i % KINDS.len())).collect();
    SeededRng::derive(seed, "signals-positions").shuffle(&mut kinds);
    let mut rng = SeededRng::derive(seed, "signals-events");
    kinds.into_iter().map(|kind| event(&mut rng, kind)).collect()
}

pub fn to_csv(events: &[Event]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(events.len() * 60 + HEADER.len() + 1);
    out.extend_from_slice(HEADER.as_bytes());
    out.push(b'\n');
    for e in events {
        let _ = writeln!(
            out,
            "{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{}",
            e.m_jj,
            e.m_j1,
            e.delta_m_j,
            e.tau21[0],
            e.tau21[1],
            e.tau32[0],
            e.tau32[1],
            e.kind.map_or(BACKGROUND, |k| KINDS[k]),
            u8::from(e.kind.is_some())
        );
    }
    out
}

fn tau(rng: &mut SeededRng, mean: f64, sigma: f64) -> f64 {
    gaussian(rng, mean, sigma).clamp(0.05, 1.0)
}

/// A QCD jet: mass log-normal around 70 GeV, one prong (τ21 high), τ32 broad and high.
fn qcd_jet(rng: &mut SeededRng) -> Jet {
    Jet { mass: gaussian(rng, 0.07f64.ln(), 0.6).exp().clamp(0.005, 0.9), tau21: tau(rng, 0.68, 0.13), tau32: tau(rng, 0.78, 0.1) }
}

/// A jet from a resonance of `prongs` prongs around `mass`, its substructure `clarity` of the way from a
/// QCD jet's τ values towards a clean resonance's (0 = like QCD, 1 = clean): real taggers see prongs
/// smeared by radiation and pile-up, so the kinds overlap the background and none is trivial to find.
fn resonance_jet(rng: &mut SeededRng, mass: f64, prongs: u8, clarity: f64) -> Jet {
    let mass = gaussian(rng, mass, 0.08 * mass).max(0.01);
    let between = |qcd: f64, clean: f64| qcd + clarity * (clean - qcd);
    match prongs {
        2 => Jet { mass, tau21: tau(rng, between(0.68, 0.3), 0.12), tau32: tau(rng, 0.78, 0.1) },
        _ => Jet { mass, tau21: tau(rng, between(0.68, 0.55), 0.12), tau32: tau(rng, between(0.78, 0.42), 0.1) },
    }
}

fn event(rng: &mut SeededRng, kind: Option<usize>) -> Event {
    let peak = |rng: &mut SeededRng, mass: f64| gaussian(rng, mass, 0.05 * mass).max(MJJ_MIN);
    let (m_jj, a, b) = match kind {
        None => (background_mjj(rng), qcd_jet(rng), qcd_jet(rng)),
        Some(0) => (peak(rng, KIND_MJJ[0]), resonance_jet(rng, 0.25, 2, CLARITY), resonance_jet(rng, 0.08, 2, CLARITY)),
        Some(1) => (peak(rng, KIND_MJJ[1]), resonance_jet(rng, 0.15, 2, CLARITY), resonance_jet(rng, 0.15, 2, CLARITY)),
        Some(2) => (peak(rng, KIND_MJJ[2]), resonance_jet(rng, 0.2, 3, CLARITY), resonance_jet(rng, 0.12, 3, CLARITY)),
        Some(_) => (peak(rng, KIND_MJJ[3]), resonance_jet(rng, 0.3, 2, CLARITY), qcd_jet(rng)),
    };
    let (light, heavy) = if a.mass <= b.mass { (a, b) } else { (b, a) };
    Event {
        m_jj,
        m_j1: light.mass,
        delta_m_j: heavy.mass - light.mass,
        tau21: [light.tau21, heavy.tau21],
        tau32: [light.tau32, heavy.tau32],
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::parse_bytes;

    #[test]
    fn seeded_even_kinds_and_the_documented_columns() {
        assert_eq!(generate(800, 0.1, 3), generate(800, 0.1, 3));
        let events = generate(10_000, 0.08, 1);
        for k in 0..KINDS.len() {
            assert_eq!(events.iter().filter(|e| e.kind == Some(k)).count(), 200);
        }
        let table = parse_bytes(&to_csv(&events[..50]), 1 << 16).unwrap();
        assert_eq!(table.column_names().join(","), HEADER);
        assert_eq!(table.rows(), 50);
    }

    /// Each kind differs from the background where its description says, and the kinds differ from
    /// each other, so that showing one does not simply show the others.
    #[test]
    fn each_kind_has_its_shape() {
        let events = generate(40_000, 0.2, 2);
        let mean = |kind: Option<usize>, f: fn(&Event) -> f64| {
            let v: Vec<f64> = events.iter().filter(|e| e.kind == kind).map(f).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let heavy_mass = |e: &Event| e.m_j1 + e.delta_m_j;
        let (heavy_tau21, heavy_tau32) = (|e: &Event| e.tau21[1], |e: &Event| e.tau32[1]);
        for (kind, mjj) in [(0, 3.5), (1, 4.5), (2, 3.0), (3, 4.0)] {
            assert!((mean(Some(kind), |e| e.m_jj) - mjj).abs() < 0.03, "kind {kind}'s peak");
        }
        assert!((mean(Some(0), heavy_mass) - 0.25).abs() < 0.01 && (mean(Some(0), |e| e.m_j1) - 0.08).abs() < 0.01);
        assert!(mean(Some(1), |e| e.delta_m_j) < 0.03, "B's jets have equal masses");
        assert!(mean(Some(2), heavy_tau32) < 0.65 && mean(None, heavy_tau32) > 0.75, "C is three-pronged");
        assert!(mean(Some(2), heavy_tau21) > mean(Some(0), heavy_tau21) + 0.05 && mean(Some(2), heavy_tau21) < mean(None, heavy_tau21), "C's τ21 lies between a two-pronged jet's and QCD's");
        assert!(mean(Some(0), heavy_tau21) < 0.55 && mean(None, heavy_tau21) > 0.65, "A's jets are two-pronged");
        // D: the lighter jet is the QCD one, the heavier the two-pronged resonance.
        assert!(mean(Some(3), |e| e.tau21[0]) > 0.6 && mean(Some(3), heavy_tau21) < 0.55, "D has one unusual jet");
        assert!((mean(Some(3), heavy_mass) - 0.3).abs() < 0.015);
    }
}
