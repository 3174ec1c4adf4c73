//! Random draws and relativistic kinematics shared by the toy generators (jets, object-list events):
//! four-vectors are (E, px, py, pz) in GeV.

use crate::rng::SeededRng;

pub(crate) fn uniform(rng: &mut SeededRng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.uniform_f64()
}

pub(crate) fn log_uniform(rng: &mut SeededRng, low: f64, high: f64) -> f64 {
    (low.ln() + (high / low).ln() * rng.uniform_f64()).exp()
}

/// Knuth's method: fine for the small means here.
pub(crate) fn poisson(rng: &mut SeededRng, mean: f64) -> usize {
    let limit = (-mean).exp();
    let (mut count, mut product) = (0, rng.uniform_f64());
    while product > limit {
        count += 1;
        product *= rng.uniform_f64();
    }
    count
}

/// A unit vector uniform on the sphere.
pub(crate) fn isotropic(rng: &mut SeededRng) -> [f64; 3] {
    let cos_theta = 2.0 * rng.uniform_f64() - 1.0;
    let sin_theta = (1.0 - cos_theta * cos_theta).sqrt();
    let azimuth = std::f64::consts::TAU * rng.uniform_f64();
    [sin_theta * azimuth.cos(), sin_theta * azimuth.sin(), cos_theta]
}

/// The momentum of either daughter of a two-body decay at rest.
pub(crate) fn two_body_momentum(parent: f64, a: f64, b: f64) -> f64 {
    ((parent * parent - (a + b).powi(2)) * (parent * parent - (a - b).powi(2))).max(0.0).sqrt() / (2.0 * parent)
}

/// (E, px, py, pz) of a particle of `mass` moving with `momentum` along `direction`.
pub(crate) fn four_vector(mass: f64, momentum: f64, direction: [f64; 3]) -> [f64; 4] {
    [(mass * mass + momentum * momentum).sqrt(), momentum * direction[0], momentum * direction[1], momentum * direction[2]]
}

/// `p` seen from a frame moving with `-velocity` (i.e. `p` boosted by `velocity`, in units of c).
pub(crate) fn boost(p: [f64; 4], velocity: [f64; 3]) -> [f64; 4] {
    let beta2: f64 = velocity.iter().map(|v| v * v).sum();
    if beta2 <= 0.0 {
        return p;
    }
    let gamma = 1.0 / (1.0 - beta2).sqrt();
    let along = velocity[0] * p[1] + velocity[1] * p[2] + velocity[2] * p[3];
    let energy = gamma * (p[0] + along);
    let factor = (gamma - 1.0) * along / beta2 + gamma * p[0];
    [energy, p[1] + factor * velocity[0], p[2] + factor * velocity[1], p[3] + factor * velocity[2]]
}


/// An exponential draw of mean `mean`.
pub(crate) fn exponential(rng: &mut SeededRng, mean: f64) -> f64 {
    -mean * (1.0 - rng.uniform_f64()).ln()
}

/// A Breit–Wigner (Cauchy) draw of peak `mass` and full width `width`, kept within `low..high`.
pub(crate) fn breit_wigner(rng: &mut SeededRng, mass: f64, width: f64, low: f64, high: f64) -> f64 {
    loop {
        let m = mass + 0.5 * width * (std::f64::consts::PI * (rng.uniform_f64() - 0.5)).tan();
        if (low..high).contains(&m) {
            return m;
        }
    }
}

/// The transverse momentum, pseudorapidity and azimuth of a four-vector.
pub(crate) fn pt_eta_phi(p: [f64; 4]) -> (f64, f64, f64) {
    let pt = p[1].hypot(p[2]);
    let eta = if pt > 0.0 { (p[3] / pt).asinh() } else { 0.0 };
    (pt, eta, p[2].atan2(p[1]))
}

/// A particle of `mass` with transverse momentum `pt`, rapidity `rapidity` and azimuth `phi`.
pub(crate) fn from_pt_rapidity(mass: f64, pt: f64, rapidity: f64, phi: f64) -> [f64; 4] {
    let mt = (mass * mass + pt * pt).sqrt();
    [mt * rapidity.cosh(), pt * phi.cos(), pt * phi.sin(), mt * rapidity.sinh()]
}

/// The invariant mass of a sum of four-vectors.
#[cfg(test)]
pub(crate) fn invariant_mass(parts: &[[f64; 4]]) -> f64 {
    let s = parts.iter().fold([0.0; 4], |a, p| [a[0] + p[0], a[1] + p[1], a[2] + p[2], a[3] + p[3]]);
    (s[0] * s[0] - s[1] * s[1] - s[2] * s[2] - s[3] * s[3]).max(0.0).sqrt()
}

/// The two daughters (masses `a`, `b`) of `parent` (of mass `mass`), decayed isotropically at rest and
/// boosted to the lab.
pub(crate) fn decay(rng: &mut SeededRng, parent: [f64; 4], mass: f64, a: f64, b: f64) -> ([f64; 4], [f64; 4]) {
    let momentum = two_body_momentum(mass, a, b);
    let direction = isotropic(rng);
    let first = four_vector(a, momentum, direction);
    let second = four_vector(b, momentum, direction.map(|c| -c));
    let velocity = [parent[1] / parent[0], parent[2] / parent[0], parent[3] / parent[0]];
    (boost(first, velocity), boost(second, velocity))
}
