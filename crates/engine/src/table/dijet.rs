//! Toy collider events in the style of the LHC Olympics 2020 R&D sample (SCIENCE.md, "Toy data
//! generators"): QCD dijet background, plus a W′ (3.5 TeV) → X (500 GeV) Y (100 GeV) signal with both
//! decaying to two quarks. It is a toy: the shapes are simple formulas chosen to look like the real
//! distributions, not a simulation of a detector, and the page says so.
//!
//! Columns, masses in TeV: `m_jj` (dijet mass), `m_j1` (the lighter jet's mass), `delta_m_j` (heavier
//! minus lighter), `tau21_j1` and `tau21_j2` (N-subjettiness ratios of the lighter and heavier jet; low
//! means two-pronged), and `label` (1 signal, 0 background).

use crate::rng::SeededRng;

pub const HEADER: &str = "m_jj,m_j1,delta_m_j,tau21_j1,tau21_j2,label";
pub const MIN_ROWS: usize = 100;
pub const MAX_ROWS: usize = 1_000_000;
pub const MAX_SIGNAL_FRACTION: f64 = 0.5;

/// What the visitor asks the generator for.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Simulation {
    pub rows: usize,
    pub signal_fraction: f64,
    pub seed: u64,
    /// The toy with four kinds of signal (`table::signals`) instead of this one's single W′.
    #[serde(default)]
    pub several_signals: bool,
}

impl Default for Simulation {
    fn default() -> Self {
        Self { rows: 50_000, signal_fraction: 0.01, seed: 1, several_signals: false }
    }
}

impl Simulation {
    /// Each setting outside its range, as (field, sentence).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !(MIN_ROWS..=MAX_ROWS).contains(&self.rows) {
            problems.push(("rows", format!("The number of simulated events must be between {MIN_ROWS} and {MAX_ROWS}")));
        }
        if !(0.0..=MAX_SIGNAL_FRACTION).contains(&self.signal_fraction) {
            problems.push(("signal_fraction", format!("The signal share must be between 0 and {MAX_SIGNAL_FRACTION}")));
        }
        if self.seed > u32::MAX as u64 {
            problems.push(("seed", format!("The simulation seed must be between 0 and {}", u32::MAX)));
        }
        problems
    }
}

/// LHC collision energy, TeV: the dijet spectrum is written in x = m_jj / √s.
const SQRT_S: f64 = 13.0;
/// The trigger threshold of the R&D sample: no dijet masses below this.
pub(crate) const MJJ_MIN: f64 = 2.6;
const MJJ_MAX: f64 = 8.0;
/// The falling spectrum f(x) ∝ (1 − x)^P1 / x^P2 (the standard dijet fit function).
const P1: f64 = 10.0;
const P2: f64 = 5.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DijetEvent {
    pub m_jj: f64,
    pub m_j1: f64,
    pub delta_m_j: f64,
    pub tau21_j1: f64,
    pub tau21_j2: f64,
    pub signal: bool,
}

/// `rows` events of which exactly round(`signal_fraction` × rows) are signal, at seeded positions.
pub fn generate(rows: usize, signal_fraction: f64, seed: u64) -> Vec<DijetEvent> {
    let rows = rows.min(MAX_ROWS);
    let fraction = signal_fraction.clamp(0.0, MAX_SIGNAL_FRACTION);
    let signal_rows = (fraction * rows as f64).round() as usize;
    let mut is_signal: Vec<bool> = (0..rows).map(|i| i < signal_rows).collect();
    SeededRng::derive(seed, "dijet-positions").shuffle(&mut is_signal);
    let mut rng = SeededRng::derive(seed, "dijet-events");
    is_signal.into_iter().map(|signal| if signal { signal_event(&mut rng) } else { background_event(&mut rng) }).collect()
}

/// The events as CSV text with [`HEADER`], the format a visitor's own file should have.
pub fn to_csv(events: &[DijetEvent]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(events.len() * 40 + HEADER.len() + 1);
    out.extend_from_slice(HEADER.as_bytes());
    out.push(b'\n');
    for e in events {
        let _ = writeln!(
            out,
            "{:.4},{:.4},{:.4},{:.4},{:.4},{}",
            e.m_jj, e.m_j1, e.delta_m_j, e.tau21_j1, e.tau21_j2, u8::from(e.signal)
        );
    }
    out
}

pub(crate) fn gaussian(rng: &mut SeededRng, mean: f64, sigma: f64) -> f64 {
    mean + sigma * rng.normal() as f64
}

fn uniform(rng: &mut SeededRng) -> f64 {
    // 53 random bits: finer than the f32 `uniform`, which matters for the steep power-law inverse below.
    rng.uniform_f64()
}

/// m_jj from the falling spectrum: draw x from x^−P2 by inverting its integral, then keep it with
/// probability ((1 − x) / (1 − x_min))^P1 (rejection sampling).
pub(crate) fn background_mjj(rng: &mut SeededRng) -> f64 {
    let (lo, hi) = (MJJ_MIN / SQRT_S, MJJ_MAX / SQRT_S);
    let power = 1.0 - P2;
    loop {
        let u = uniform(rng);
        let x = (lo.powf(power) + u * (hi.powf(power) - lo.powf(power))).powf(1.0 / power);
        if uniform(rng) < ((1.0 - x) / (1.0 - lo)).powf(P1) {
            return x * SQRT_S;
        }
    }
}

/// QCD jets: masses broad, log-normal around 70 GeV; τ21 broad around 0.68 (one-pronged).
fn background_event(rng: &mut SeededRng) -> DijetEvent {
    let m_jj = background_mjj(rng);
    let mut jet_mass = || (gaussian(rng, 0.07f64.ln(), 0.6)).exp().clamp(0.005, 0.9);
    let (a, b) = (jet_mass(), jet_mass());
    let tau = |rng: &mut SeededRng| gaussian(rng, 0.68, 0.13).clamp(0.05, 1.0);
    let (tau_a, tau_b) = (tau(rng), tau(rng));
    jets(m_jj, (a, tau_a), (b, tau_b), false)
}

/// W′ → X Y: m_jj peaked at 3.5 TeV (3% wide), jet masses at 500 and 100 GeV, τ21 low (two-pronged).
fn signal_event(rng: &mut SeededRng) -> DijetEvent {
    let m_jj = gaussian(rng, 3.5, 0.105).max(MJJ_MIN);
    let x = gaussian(rng, 0.5, 0.025).max(0.01);
    let y = gaussian(rng, 0.1, 0.008).max(0.01);
    let tau = |rng: &mut SeededRng| gaussian(rng, 0.3, 0.08).clamp(0.05, 1.0);
    let (tau_x, tau_y) = (tau(rng), tau(rng));
    jets(m_jj, (x, tau_x), (y, tau_y), true)
}

/// Orders the two jets by mass: j1 is the lighter.
fn jets(m_jj: f64, a: (f64, f64), b: (f64, f64), signal: bool) -> DijetEvent {
    let (light, heavy) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    DijetEvent { m_jj, m_j1: light.0, delta_m_j: heavy.0 - light.0, tau21_j1: light.1, tau21_j2: heavy.1, signal }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_events() {
        assert_eq!(generate(500, 0.1, 3), generate(500, 0.1, 3));
        assert_ne!(generate(500, 0.1, 3), generate(500, 0.1, 4));
    }

    #[test]
    fn the_signal_fraction_is_exactly_what_was_asked() {
        for (rows, fraction, expected) in [(1000, 0.01, 10), (999, 0.1, 100), (50, 0.0, 0), (10, 0.25, 3)] {
            let events = generate(rows, fraction, 1);
            assert_eq!(events.len(), rows);
            assert_eq!(events.iter().filter(|e| e.signal).count(), expected, "{rows} × {fraction}");
        }
    }

    #[test]
    fn distributions_look_like_the_r_and_d_sample() {
        let events = generate(20_000, 0.1, 9);
        let (signal, background): (Vec<&DijetEvent>, Vec<&DijetEvent>) = events.iter().partition(|e| e.signal);
        let mean = |v: &[&DijetEvent], f: fn(&DijetEvent) -> f64| v.iter().map(|e| f(e)).sum::<f64>() / v.len() as f64;
        assert!(background.iter().all(|e| e.m_jj >= MJJ_MIN && e.m_jj <= MJJ_MAX));
        // The spectrum falls: many more events just above threshold than at the signal's mass.
        let low = background.iter().filter(|e| e.m_jj < 3.0).count();
        let high = background.iter().filter(|e| (3.4..3.8).contains(&e.m_jj)).count();
        assert!(low > 3 * high, "{low} vs {high}");
        assert!((mean(&signal, |e| e.m_jj) - 3.5).abs() < 0.02);
        assert!((mean(&signal, |e| e.m_j1) - 0.1).abs() < 0.01);
        assert!((mean(&signal, |e| e.delta_m_j) - 0.4).abs() < 0.02);
        assert!(mean(&signal, |e| e.tau21_j1) < 0.35 && mean(&background, |e| e.tau21_j1) > 0.6);
        assert!(events.iter().all(|e| e.m_j1 > 0.0 && e.delta_m_j >= 0.0));
    }

    #[test]
    fn csv_has_the_documented_header_and_a_line_per_event() {
        let csv = String::from_utf8(to_csv(&generate(3, 0.0, 1))).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines.len(), 4);
        assert!(lines[1].ends_with(",0") && lines[1].split(',').count() == 6);
    }
}
