//! Toy jets of pT = 600 GeV as particles (pT share, Δη, Δφ from the jet's direction).
//!
//! A jet is made of prongs. A prong of pT share z is a hard core carrying (1 − f)·z, f ~ U(0.05, 0.35),
//! and a Poisson number of soft particles sharing f·z with Exp(1) weights, at angles from the prong's
//! axis log-uniform on [0.005, θ_max] with a uniform azimuth.
//! - QCD: one prong, split with probability 0.6 (the softer daughter takes a share log-uniform on
//!   [0.05, 0.5] of its parent, at an opening angle log-uniform on [0.03, 0.8], with the parent's pT
//!   centroid kept), and then with probability 0.2 once more (the hardest prong again). A jet's soft
//!   count is U(25, 50), each prong's Poisson mean that times max(z, 0.3); θ_max is 0.8 for the hardest
//!   prong and 0.3 for the others.
//! - Top: t(173) → b(4.8) W(80.4), W → q q̄, each decay isotropic in its rest frame, boosted to
//!   pT = 600 GeV; each parton a prong with a Poisson mean of U(12, 22) soft particles, θ_max = 0.3.

use crate::kinematics::{boost, four_vector, isotropic, log_uniform, poisson, two_body_momentum, uniform};
use crate::rng::SeededRng;

pub const JET_PT: f64 = 600.0;
const TOP_MASS: f64 = 173.0;
const W_MASS: f64 = 80.4;
const B_MASS: f64 = 4.8;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Particle {
    /// The particle's share of the jet's pT.
    pub z: f64,
    pub eta: f64,
    pub phi: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Jet {
    pub particles: Vec<Particle>,
    pub top: bool,
}

/// The class a jet is drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum JetClass {
    Qcd,
    Top,
}

impl JetClass {
    pub fn name(self) -> &'static str {
        match self {
            JetClass::Qcd => "QCD",
            JetClass::Top => "top",
        }
    }

    pub fn other(self) -> Self {
        match self {
            JetClass::Qcd => JetClass::Top,
            JetClass::Top => JetClass::Qcd,
        }
    }
}

impl Jet {
    /// m² = pT² Σ_{i<j} z_i z_j ΔR_ij² (massless particles, small angles), which with Σ z = 1 equals
    /// pT² Σ_i z_i |r_i − r̄|², in GeV.
    pub fn mass(&self) -> f64 {
        let total: f64 = self.particles.iter().map(|p| p.z).sum();
        let (eta, phi) = self.particles.iter().fold((0.0, 0.0), |(e, f), p| (e + p.z * p.eta, f + p.z * p.phi));
        let (eta, phi) = (eta / total, phi / total);
        let spread: f64 = self.particles.iter().map(|p| p.z * ((p.eta - eta).powi(2) + (p.phi - phi).powi(2))).sum();
        JET_PT * (spread * total).max(0.0).sqrt() / total
    }
}

/// A prong before it is turned into particles.
#[derive(Clone, Copy, Debug)]
struct Prong {
    z: f64,
    eta: f64,
    phi: f64,
}

/// One jet of `class`.
pub fn jet(class: JetClass, rng: &mut SeededRng) -> Jet {
    match class {
        JetClass::Qcd => qcd_jet(rng),
        JetClass::Top => top_jet(rng),
    }
}

/// `count` jets of `class` from the seeded stream named after the class.
pub fn jets(class: JetClass, count: usize, seed: u64) -> Vec<Jet> {
    let mut rng = SeededRng::derive(seed, match class {
        JetClass::Qcd => "jets-qcd",
        JetClass::Top => "jets-top",
    });
    (0..count).map(|_| jet(class, &mut rng)).collect()
}

fn qcd_jet(rng: &mut SeededRng) -> Jet {
    let mut prongs = vec![Prong { z: 1.0, eta: 0.0, phi: 0.0 }];
    if rng.uniform_f64() < 0.6 {
        split_hardest(&mut prongs, rng);
        if rng.uniform_f64() < 0.2 {
            split_hardest(&mut prongs, rng);
        }
    }
    let soft_per_jet = uniform(rng, 25.0, 50.0);
    let hardest = hardest(&prongs);
    let mut particles = Vec::new();
    for (i, prong) in prongs.iter().enumerate() {
        let theta_max = if i == hardest { 0.8 } else { 0.3 };
        add_prong(&mut particles, prong, soft_per_jet * prong.z.max(0.3), theta_max, rng);
    }
    Jet { particles, top: false }
}

fn hardest(prongs: &[Prong]) -> usize {
    prongs.iter().enumerate().max_by(|a, b| a.1.z.total_cmp(&b.1.z)).map_or(0, |(i, _)| i)
}

/// Splits the hardest prong in two about its own pT centroid.
fn split_hardest(prongs: &mut Vec<Prong>, rng: &mut SeededRng) {
    let i = hardest(prongs);
    let parent = prongs[i];
    let share = log_uniform(rng, 0.05, 0.5);
    let angle = log_uniform(rng, 0.03, 0.8);
    let azimuth = std::f64::consts::TAU * rng.uniform_f64();
    let (dx, dy) = (angle * azimuth.cos(), angle * azimuth.sin());
    prongs[i] = Prong { z: parent.z * (1.0 - share), eta: parent.eta - share * dx, phi: parent.phi - share * dy };
    prongs.push(Prong { z: parent.z * share, eta: parent.eta + (1.0 - share) * dx, phi: parent.phi + (1.0 - share) * dy });
}

fn top_jet(rng: &mut SeededRng) -> Jet {
    // The decay in the top's rest frame, then the W's.
    let b_momentum = two_body_momentum(TOP_MASS, B_MASS, W_MASS);
    let direction = isotropic(rng);
    let b = four_vector(B_MASS, b_momentum, direction);
    let w = four_vector(W_MASS, b_momentum, direction.map(|c| -c));
    let q_direction = isotropic(rng);
    let q_rest = four_vector(0.0, W_MASS / 2.0, q_direction);
    let qbar_rest = four_vector(0.0, W_MASS / 2.0, q_direction.map(|c| -c));
    let w_velocity = [w[1] / w[0], w[2] / w[0], w[3] / w[0]];
    let partons = [b, boost(q_rest, w_velocity), boost(qbar_rest, w_velocity)];
    // The top moves along x (η = 0, φ = 0) with pT = 600 GeV.
    let energy = (JET_PT * JET_PT + TOP_MASS * TOP_MASS).sqrt();
    let top_velocity = [JET_PT / energy, 0.0, 0.0];
    let lab: Vec<[f64; 4]> = partons.iter().map(|&p| boost(p, top_velocity)).collect();
    let pts: Vec<f64> = lab.iter().map(|p| p[1].hypot(p[2])).collect();
    let total: f64 = pts.iter().sum();
    let mut particles = Vec::new();
    for (p, pt) in lab.iter().zip(&pts) {
        let prong = Prong { z: pt / total, eta: (p[3] / pt).asinh(), phi: p[2].atan2(p[1]) };
        add_prong(&mut particles, &prong, uniform(rng, 12.0, 22.0), 0.3, rng);
    }
    Jet { particles, top: true }
}

/// A prong's core and soft particles, with `soft_mean` soft particles on average.
fn add_prong(particles: &mut Vec<Particle>, prong: &Prong, soft_mean: f64, theta_max: f64, rng: &mut SeededRng) {
    let soft_share = uniform(rng, 0.05, 0.35);
    let count = poisson(rng, soft_mean);
    if count == 0 {
        particles.push(Particle { z: prong.z, eta: prong.eta, phi: prong.phi });
        return;
    }
    particles.push(Particle { z: (1.0 - soft_share) * prong.z, eta: prong.eta, phi: prong.phi });
    let weights: Vec<f64> = (0..count).map(|_| -(1.0 - rng.uniform_f64()).ln()).collect();
    let sum: f64 = weights.iter().sum();
    for weight in weights {
        let angle = log_uniform(rng, 0.005, theta_max);
        let azimuth = std::f64::consts::TAU * rng.uniform_f64();
        particles.push(Particle { z: soft_share * prong.z * weight / sum, eta: prong.eta + angle * azimuth.cos(), phi: prong.phi + angle * azimuth.sin() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentile(values: &mut [f64], q: f64) -> f64 {
        values.sort_by(f64::total_cmp);
        values[((values.len() - 1) as f64 * q).round() as usize]
    }

    #[test]
    fn a_boost_keeps_the_invariant_mass() {
        let p = four_vector(80.4, 120.0, [0.6, 0.0, 0.8]);
        let b = boost(p, [0.5, 0.3, -0.2]);
        let mass2 = b[0] * b[0] - b[1] * b[1] - b[2] * b[2] - b[3] * b[3];
        assert!((mass2.sqrt() - 80.4).abs() < 1e-9, "{}", mass2.sqrt());
    }

    #[test]
    fn every_jet_carries_its_whole_pt() {
        for class in [JetClass::Qcd, JetClass::Top] {
            for jet in jets(class, 200, 3) {
                let total: f64 = jet.particles.iter().map(|p| p.z).sum();
                assert!((total - 1.0).abs() < 1e-9, "{class:?}: {total}");
            }
        }
    }

    /// SCIENCE.md's calibration: QCD jet-mass 10/50/90 % points about 42/72/128 GeV.
    #[test]
    fn qcd_jet_masses_match_the_calibration() {
        let mut masses: Vec<f64> = jets(JetClass::Qcd, 20_000, 1).iter().map(Jet::mass).collect();
        let points = [0.1, 0.5, 0.9].map(|q| percentile(&mut masses, q));
        println!("QCD mass 10/50/90 %: {points:?}");
        for (found, expected) in points.iter().zip([42.0, 72.0, 128.0]) {
            assert!((found - expected).abs() < 0.12 * expected, "{points:?}");
        }
    }

    /// Top jets' masses peak near the top mass.
    #[test]
    fn top_jet_masses_peak_near_173_gev() {
        let masses: Vec<f64> = jets(JetClass::Top, 20_000, 1).iter().map(Jet::mass).collect();
        let mut counts = [0usize; 60];
        for m in &masses {
            if (0.0..300.0).contains(m) {
                counts[(m / 5.0) as usize] += 1;
            }
        }
        let peak = counts.iter().enumerate().max_by_key(|(_, c)| **c).unwrap().0 as f64 * 5.0 + 2.5;
        let mut sorted = masses.clone();
        println!("top mass peak {peak} GeV, median {}", percentile(&mut sorted, 0.5));
        assert!((peak - 173.0).abs() < 15.0, "the top mass peaks at {peak} GeV");
    }
}
