//! "R&D v2": toy dijet events for a resonance search (SCIENCE.md, "R&D v2"), in the style of the LHC
//! Olympics 2020 R&D sample but built only from closed-form laws, so that the true background density
//! p_B(x | m), the true signal density p_S(x | m) and both m_jj spectra are known exactly. That gives
//! the optimal (Neyman–Pearson) tagger and an exact closure test of any learned background model. It is
//! a toy, not a simulation of a detector, and the page says so.
//!
//! Masses in TeV. An event is m = m_jj and x = (m_j1, Δm_j, τ21 of the lighter jet, τ21 of the heavier),
//! where m_j1 is the lighter jet's mass and Δm_j = heavier − lighter. Background jet masses scale with
//! m_jj, so a background model must be conditioned on it. The signal is W′ (3.5 TeV) → X (500 GeV)
//! Y (100 GeV), each jet sometimes losing a prong. Today's simpler toy (`table::dijet`) stays as it is.

use crate::rng::SeededRng;
use crate::special::{log_normal_pdf, normal_mass};

/// The signal region in m_jj; the sidebands are the rest of [`MJJ_MIN`, `MJJ_MAX`].
pub const SIGNAL_REGION: (f64, f64) = (3.3, 3.7);
pub const MJJ_MIN: f64 = 2.6;
pub const MJJ_MAX: f64 = 8.0;
pub const FEATURES: [&str; 4] = ["m_j1", "delta_m_j", "tau21_j1", "tau21_j2"];
pub const HEADER: &str = "m_jj,m_j1,delta_m_j,tau21_j1,tau21_j2,label";

/// The background spectrum: with y = m_jj/√s, density ∝ (1 − y)^8 / y^4.
const SQRT_S: f64 = 13.0;
const SPECTRUM_POWER_OF_ONE_MINUS_Y: i32 = 8;
const SPECTRUM_POWER_OF_Y: i32 = 4;

/// Background jets: ln(m_j / (m_jj/2)) is a two-normal mixture (weight, mean, sigma), kept between a
/// jet mass of 5 GeV and 0.9·m_jj/2.
const QCD_LOG_RATIO: [(f64, f64, f64); 2] = [(0.8, -3.101_092_789_211_817, 0.60), (0.2, -2.407_945_608_651_872, 0.70)];
const JET_MASS_MIN: f64 = 0.005;
const JET_MASS_MAX_SHARE: f64 = 0.9;
/// τ21 is a normal kept inside this range; for background jets its mean falls with ln r.
const TAU_RANGE: (f64, f64) = (0.05, 0.98);
const QCD_TAU_SIGMA: f64 = 0.12;

/// The signal: m_jj from 70 % N(3.5, 0.12) and 30 % 3.5 − Exp(mean 0.30), kept in [MJJ_MIN, MJJ_MAX].
const SIGNAL_MJJ: f64 = 3.5;
const SIGNAL_MJJ_CORE: (f64, f64) = (0.7, 0.12);
const SIGNAL_MJJ_TAIL_MEAN: f64 = 0.30;
/// The decay products (mass mean, mass sigma, τ21 mean), τ21's sigma, and the chance that a jet loses a
/// prong: then its mass is N(0.6·m, 0.17·m) for its particle's mass m and its τ21 follows the QCD law.
const X: Particle = Particle { mass: 0.500, mass_sigma: 0.070, tau_mean: 0.48 };
const Y: Particle = Particle { mass: 0.100, mass_sigma: 0.020, tau_mean: 0.45 };
const SIGNAL_TAU_SIGMA: f64 = 0.17;
const LOST_PRONG: f64 = 0.35;
const LOST_PRONG_MASS: (f64, f64) = (0.6, 0.17);

struct Particle {
    mass: f64,
    mass_sigma: f64,
    tau_mean: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    pub m_jj: f64,
    /// m_j1, Δm_j, τ21 of the lighter jet, τ21 of the heavier ([`FEATURES`]).
    pub x: [f64; 4],
    pub signal: bool,
}

impl Event {
    pub fn in_signal_region(&self) -> bool {
        in_signal_region(self.m_jj)
    }
}

pub fn in_signal_region(m_jj: f64) -> bool {
    (SIGNAL_REGION.0..SIGNAL_REGION.1).contains(&m_jj)
}

/// `background` background events and `signal` signal events, in a seeded random order.
pub fn generate(background: usize, signal: usize, seed: u64) -> Vec<Event> {
    let mut is_signal: Vec<bool> = (0..background + signal).map(|i| i < signal).collect();
    SeededRng::derive(seed, "rnd-v2-positions").shuffle(&mut is_signal);
    let mut rng = SeededRng::derive(seed, "rnd-v2-events");
    is_signal.into_iter().map(|s| if s { signal_event(&mut rng) } else { background_event(&mut rng) }).collect()
}

pub fn background_event(rng: &mut SeededRng) -> Event {
    let m_jj = background_mjj(rng);
    let (a, b) = (qcd_jet(rng, m_jj), qcd_jet(rng, m_jj));
    ordered(m_jj, a, b, false)
}

pub fn signal_event(rng: &mut SeededRng) -> Event {
    let m_jj = loop {
        let m = if rng.uniform_f64() < SIGNAL_MJJ_CORE.0 {
            SIGNAL_MJJ + SIGNAL_MJJ_CORE.1 * rng.normal_f64()
        } else {
            SIGNAL_MJJ + SIGNAL_MJJ_TAIL_MEAN * (1.0 - rng.uniform_f64()).ln()
        };
        if (MJJ_MIN..=MJJ_MAX).contains(&m) {
            break m;
        }
    };
    let (x, y) = (decay_jet(rng, &X, m_jj), decay_jet(rng, &Y, m_jj));
    ordered(m_jj, x, y, true)
}

/// ln p_B(m_jj), the background's m_jj density on [MJJ_MIN, MJJ_MAX].
pub fn log_background_mjj(m_jj: f64) -> f64 {
    if !(MJJ_MIN..=MJJ_MAX).contains(&m_jj) {
        return f64::NEG_INFINITY;
    }
    let y = m_jj / SQRT_S;
    SPECTRUM_POWER_OF_ONE_MINUS_Y as f64 * (1.0 - y).ln() - SPECTRUM_POWER_OF_Y as f64 * y.ln() - (SQRT_S * spectrum_integral()).ln()
}

/// ln p_S(m_jj), the signal's m_jj density on [MJJ_MIN, MJJ_MAX].
pub fn log_signal_mjj(m_jj: f64) -> f64 {
    if !(MJJ_MIN..=MJJ_MAX).contains(&m_jj) {
        return f64::NEG_INFINITY;
    }
    let (core, sigma) = SIGNAL_MJJ_CORE;
    let tail = 1.0 - core;
    let mut density = core * log_normal_pdf(m_jj, SIGNAL_MJJ, sigma).exp();
    if m_jj <= SIGNAL_MJJ {
        density += tail * (-(SIGNAL_MJJ - m_jj) / SIGNAL_MJJ_TAIL_MEAN).exp() / SIGNAL_MJJ_TAIL_MEAN;
    }
    let kept = core * normal_mass(MJJ_MIN, MJJ_MAX, SIGNAL_MJJ, sigma)
        + tail * (1.0 - (-(SIGNAL_MJJ - MJJ_MIN) / SIGNAL_MJJ_TAIL_MEAN).exp());
    (density / kept).ln()
}

/// ln p_B(x | m_jj): the two jets are independent draws, ordered by mass, so the density is twice the
/// product of the jet densities.
pub fn log_background_density(m_jj: f64, x: &[f64; 4]) -> f64 {
    let Some((light, heavy)) = jets_of(x) else { return f64::NEG_INFINITY };
    2f64.ln() + log_qcd_jet(m_jj, light) + log_qcd_jet(m_jj, heavy)
}

/// ln p_S(x | m_jj): X and Y jets, either of which can be the lighter.
pub fn log_signal_density(m_jj: f64, x: &[f64; 4]) -> f64 {
    let Some((light, heavy)) = jets_of(x) else { return f64::NEG_INFINITY };
    let x_light = log_decay_jet(&X, m_jj, light) + log_decay_jet(&Y, m_jj, heavy);
    let y_light = log_decay_jet(&Y, m_jj, light) + log_decay_jet(&X, m_jj, heavy);
    log_add(x_light, y_light)
}

/// The optimal tagger's score for an event of the signal region: ln p_S(x, m) − ln p_B(x, m).
pub fn optimal_score(e: &Event) -> f64 {
    log_signal_mjj(e.m_jj) + log_signal_density(e.m_jj, &e.x) - log_background_mjj(e.m_jj) - log_background_density(e.m_jj, &e.x)
}

/// The events as CSV with [`HEADER`] (label 1 = signal), for the table view or elsewhere.
pub fn to_csv(events: &[Event]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(events.len() * 44 + HEADER.len() + 1);
    out.extend_from_slice(HEADER.as_bytes());
    out.push(b'\n');
    for e in events {
        let [m1, dm, t1, t2] = e.x;
        let _ = writeln!(out, "{:.5},{:.5},{:.5},{:.5},{:.5},{}", e.m_jj, m1, dm, t1, t2, u8::from(e.signal));
    }
    out
}

/// A jet: (mass, τ21).
type Jet = (f64, f64);

fn ordered(m_jj: f64, a: Jet, b: Jet, signal: bool) -> Event {
    let (light, heavy) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    Event { m_jj, x: [light.0, heavy.0 - light.0, light.1, heavy.1], signal }
}

fn jets_of(x: &[f64; 4]) -> Option<(Jet, Jet)> {
    let [m1, dm, t1, t2] = *x;
    (dm >= 0.0).then_some(((m1, t1), (m1 + dm, t2)))
}

/// ∫ (1 − y)^8 / y^4 dy over the m_jj range, in closed form: expand (1 − y)^8 by the binomial theorem
/// and integrate each power of y.
fn spectrum_integral() -> f64 {
    let (lo, hi) = (MJJ_MIN / SQRT_S, MJJ_MAX / SQRT_S);
    let mut total = 0.0;
    let mut binomial = 1.0;
    for k in 0..=SPECTRUM_POWER_OF_ONE_MINUS_Y {
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        let power = k - SPECTRUM_POWER_OF_Y; // ∫ y^power dy
        let integral = if power == -1 { (hi / lo).ln() } else { (hi.powi(power + 1) - lo.powi(power + 1)) / (power + 1) as f64 };
        total += sign * binomial * integral;
        binomial = binomial * (SPECTRUM_POWER_OF_ONE_MINUS_Y - k) as f64 / (k + 1) as f64;
    }
    total
}

/// m_jj of a background event: y from y^−4 by inverting its integral, kept with probability
/// ((1 − y)/(1 − y_min))^8.
fn background_mjj(rng: &mut SeededRng) -> f64 {
    let (lo, hi) = (MJJ_MIN / SQRT_S, MJJ_MAX / SQRT_S);
    let p = 1.0 - SPECTRUM_POWER_OF_Y as f64;
    loop {
        let y = (lo.powf(p) + rng.uniform_f64() * (hi.powf(p) - lo.powf(p))).powf(1.0 / p);
        if rng.uniform_f64() < ((1.0 - y) / (1.0 - lo)).powi(SPECTRUM_POWER_OF_ONE_MINUS_Y) {
            return y * SQRT_S;
        }
    }
}

/// The allowed range of ln r = ln(m_j / (m_jj/2)) for a background jet.
fn log_ratio_range(m_jj: f64) -> (f64, f64) {
    ((JET_MASS_MIN / (m_jj / 2.0)).ln(), JET_MASS_MAX_SHARE.ln())
}

fn qcd_jet(rng: &mut SeededRng, m_jj: f64) -> Jet {
    let (low, high) = log_ratio_range(m_jj);
    let log_ratio = loop {
        let (_, mean, sigma) = if rng.uniform_f64() < QCD_LOG_RATIO[0].0 { QCD_LOG_RATIO[0] } else { QCD_LOG_RATIO[1] };
        let u = mean + sigma * rng.normal_f64();
        if (low..=high).contains(&u) {
            break u;
        }
    };
    let mass = (m_jj / 2.0) * log_ratio.exp();
    (mass, truncated_normal(rng, qcd_tau_mean(log_ratio), QCD_TAU_SIGMA))
}

/// The background jet's τ21 mean: lower (more two-pronged) for heavier jets.
fn qcd_tau_mean(log_ratio: f64) -> f64 {
    0.70 - 0.08 * (log_ratio - QCD_LOG_RATIO[0].1) / 0.55
}

fn log_qcd_jet(m_jj: f64, (mass, tau): Jet) -> f64 {
    let (low, high) = log_ratio_range(m_jj);
    if mass <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let u = (mass / (m_jj / 2.0)).ln();
    if !(low..=high).contains(&u) {
        return f64::NEG_INFINITY;
    }
    let mut density = 0.0;
    let mut kept = 0.0;
    for (weight, mean, sigma) in QCD_LOG_RATIO {
        density += weight * log_normal_pdf(u, mean, sigma).exp();
        kept += weight * normal_mass(low, high, mean, sigma);
    }
    // From ln r to m_j: d(ln r)/d(m_j) = 1/m_j.
    (density / kept).ln() - mass.ln() + log_truncated_normal(tau, qcd_tau_mean(u), QCD_TAU_SIGMA)
}

fn decay_jet(rng: &mut SeededRng, particle: &Particle, m_jj: f64) -> Jet {
    let lost = rng.uniform_f64() < LOST_PRONG;
    let (mean, sigma) = decay_mass(particle, lost);
    let mass = loop {
        let m = mean + sigma * rng.normal_f64();
        if m >= JET_MASS_MIN {
            break m;
        }
    };
    let tau = if lost {
        truncated_normal(rng, qcd_tau_mean((mass / (m_jj / 2.0)).ln()), QCD_TAU_SIGMA)
    } else {
        truncated_normal(rng, particle.tau_mean, SIGNAL_TAU_SIGMA)
    };
    (mass, tau)
}

fn decay_mass(particle: &Particle, lost: bool) -> (f64, f64) {
    if lost {
        (LOST_PRONG_MASS.0 * particle.mass, LOST_PRONG_MASS.1 * particle.mass)
    } else {
        (particle.mass, particle.mass_sigma)
    }
}

fn log_decay_jet(particle: &Particle, m_jj: f64, (mass, tau): Jet) -> f64 {
    if mass < JET_MASS_MIN {
        return f64::NEG_INFINITY;
    }
    let log_mass = |lost: bool| {
        let (mean, sigma) = decay_mass(particle, lost);
        log_normal_pdf(mass, mean, sigma) - normal_mass(JET_MASS_MIN, f64::INFINITY, mean, sigma).ln()
    };
    let intact = (1.0 - LOST_PRONG).ln() + log_mass(false) + log_truncated_normal(tau, particle.tau_mean, SIGNAL_TAU_SIGMA);
    let lost = LOST_PRONG.ln() + log_mass(true) + log_truncated_normal(tau, qcd_tau_mean((mass / (m_jj / 2.0)).ln()), QCD_TAU_SIGMA);
    log_add(intact, lost)
}

/// A normal kept inside [`TAU_RANGE`] (drawn again until it falls there).
fn truncated_normal(rng: &mut SeededRng, mean: f64, sigma: f64) -> f64 {
    loop {
        let v = mean + sigma * rng.normal_f64();
        if (TAU_RANGE.0..=TAU_RANGE.1).contains(&v) {
            return v;
        }
    }
}

fn log_truncated_normal(v: f64, mean: f64, sigma: f64) -> f64 {
    if !(TAU_RANGE.0..=TAU_RANGE.1).contains(&v) {
        return f64::NEG_INFINITY;
    }
    log_normal_pdf(v, mean, sigma) - normal_mass(TAU_RANGE.0, TAU_RANGE.1, mean, sigma).ln()
}

/// ln(e^a + e^b) without overflow or underflow.
fn log_add(a: f64, b: f64) -> f64 {
    let high = a.max(b);
    if high == f64::NEG_INFINITY {
        return high;
    }
    high + ((a - high).exp() + (b - high).exp()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ∫∫ of a jet density over (ln mass, τ) on a grid, and the chi-square of a sample's counts in
    /// `bins × bins` cells against it (per degree of freedom).
    fn jet_check(density: impl Fn(Jet) -> f64, mut draw: impl FnMut() -> Jet, log_mass: (f64, f64)) -> (f64, f64) {
        const BINS: usize = 12;
        const SUB: usize = 40;
        let (u_lo, u_hi) = log_mass;
        let (t_lo, t_hi) = TAU_RANGE;
        let (du, dt) = ((u_hi - u_lo) / (BINS * SUB) as f64, (t_hi - t_lo) / (BINS * SUB) as f64);
        let mut expected = vec![0.0; BINS * BINS];
        for i in 0..BINS * SUB {
            let u = u_lo + (i as f64 + 0.5) * du;
            for j in 0..BINS * SUB {
                let t = t_lo + (j as f64 + 0.5) * dt;
                // p(m, τ) dm dτ with dm = m du.
                expected[(i / SUB) * BINS + j / SUB] += density((u.exp(), t)).exp() * u.exp() * du * dt;
            }
        }
        let total: f64 = expected.iter().sum();
        let samples = 60_000;
        let mut counts = vec![0.0; BINS * BINS];
        for _ in 0..samples {
            let (m, t) = draw();
            let i = (((m.ln() - u_lo) / (u_hi - u_lo) * BINS as f64) as usize).min(BINS - 1);
            let j = (((t - t_lo) / (t_hi - t_lo) * BINS as f64) as usize).min(BINS - 1);
            counts[i * BINS + j] += 1.0;
        }
        let (mut chi2, mut dof) = (0.0, 0.0);
        for (n, p) in counts.iter().zip(&expected) {
            let e = p * samples as f64;
            if e > 5.0 {
                chi2 += (n - e) * (n - e) / e;
                dof += 1.0;
            }
        }
        (total, chi2 / dof)
    }

    #[test]
    fn each_jet_law_is_normalised_and_is_what_its_sampler_draws() {
        let mut rng = SeededRng::new(5);
        for m_jj in [2.8, 3.5, 6.0] {
            let (low, high) = log_ratio_range(m_jj);
            let half = (m_jj / 2.0f64).ln();
            let mut r = rng.clone();
            let (total, chi2) = jet_check(|j| log_qcd_jet(m_jj, j), || qcd_jet(&mut r, m_jj), (low + half, high + half));
            assert!((total - 1.0).abs() < 2e-3, "QCD jet at m_jj {m_jj}: integral {total}");
            assert!(chi2 < 1.6, "QCD jet at m_jj {m_jj}: chi²/dof {chi2}");
            for (name, particle) in [("X", &X), ("Y", &Y)] {
                let mut r = rng.clone();
                let (total, chi2) = jet_check(|j| log_decay_jet(particle, m_jj, j), || decay_jet(&mut r, particle, m_jj), (JET_MASS_MIN.ln(), 0.0));
                assert!((total - 1.0).abs() < 2e-3, "{name} jet at m_jj {m_jj}: integral {total}");
                assert!(chi2 < 1.6, "{name} jet at m_jj {m_jj}: chi²/dof {chi2}");
            }
            rng.next_u64();
        }
    }

    #[test]
    fn both_spectra_are_normalised_and_are_what_their_samplers_draw() {
        // Cells of 0.1 GeV, so that the signal's step at 3.5 TeV and every window edge fall on a cell edge.
        let steps = 54_000;
        let h = (MJJ_MAX - MJJ_MIN) / steps as f64;
        let integral = |log_density: fn(f64) -> f64, lo: f64, hi: f64| -> f64 {
            (0..steps).map(|i| MJJ_MIN + (i as f64 + 0.5) * h).filter(|m| (lo..hi).contains(m)).map(|m| log_density(m).exp() * h).sum()
        };
        let mut rng = SeededRng::new(8);
        for (name, log_density, draw) in [
            ("background", log_background_mjj as fn(f64) -> f64, background_event as fn(&mut SeededRng) -> Event),
            ("signal", log_signal_mjj, signal_event),
        ] {
            let whole = integral(log_density, MJJ_MIN, MJJ_MAX);
            assert!((whole - 1.0).abs() < 1e-6, "{name}: {whole}");
            let draws: Vec<f64> = (0..40_000).map(|_| draw(&mut rng).m_jj).collect();
            for (lo, hi) in [(2.6, 3.0), (3.0, 3.3), (3.3, 3.7), (3.7, 4.5), (4.5, 8.0)] {
                let p = integral(log_density, lo, hi);
                let seen = draws.iter().filter(|m| (lo..hi).contains(*m)).count() as f64 / draws.len() as f64;
                let sigma = (p * (1.0 - p) / draws.len() as f64).sqrt();
                assert!((seen - p).abs() < 4.0 * sigma + 1e-9, "{name} in {lo}..{hi}: {seen} against {p}");
            }
        }
    }

    #[test]
    fn densities_of_impossible_events_are_zero() {
        assert_eq!(log_background_density(3.5, &[0.1, -0.01, 0.5, 0.5]), f64::NEG_INFINITY);
        assert_eq!(log_background_density(3.5, &[0.1, 0.2, 0.01, 0.5]), f64::NEG_INFINITY);
        assert_eq!(log_background_density(3.5, &[0.001, 0.2, 0.5, 0.5]), f64::NEG_INFINITY);
        assert_eq!(log_signal_density(3.5, &[0.1, 0.4, 0.5, 0.99]), f64::NEG_INFINITY);
        assert_eq!(log_background_mjj(2.0), f64::NEG_INFINITY);
        assert_eq!(log_signal_mjj(9.0), f64::NEG_INFINITY);
        assert!(log_signal_density(3.5, &[0.1, 0.4, 0.45, 0.45]).is_finite());
    }
}
