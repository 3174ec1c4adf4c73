//! The paper's preprocessing of a jet into a 40 × 40 image over (Δη, Δφ) ∈ (−0.8, 0.8)²: shares
//! normalised to sum 1, centred on the pT centroid, the principal axis of the pT-weighted second moments
//! turned vertical, flipped so that the heavier half is on the right and on top, pixelated, and the
//! pixels inside renormalised to sum 1. An image is kept sparse: a jet lights a few dozen pixels.

use super::particles::{Jet, Particle};

pub const SIDE: usize = 40;
pub const PIXELS: usize = SIDE * SIDE;
/// The image covers (−EXTENT, EXTENT) in both Δη and Δφ.
pub const EXTENT: f64 = 0.8;

/// An image's lit pixels: (row · SIDE + column, intensity), by index, intensities summing to 1. Row 0 is
/// the top (the largest Δφ), column 0 the left (the smallest Δη).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SparseImage {
    pub pixels: Vec<(u16, f32)>,
}

impl SparseImage {
    pub fn lit(&self) -> usize {
        self.pixels.len()
    }

    /// The image with every intensity p turned into p^κ / Σ p^κ (κ < 1 brings the soft pixels up).
    pub fn rescaled(&self, kappa: f64) -> SparseImage {
        let powered: Vec<f64> = self.pixels.iter().map(|&(_, p)| (p as f64).powf(kappa)).collect();
        let sum: f64 = powered.iter().sum();
        SparseImage { pixels: self.pixels.iter().zip(powered).map(|(&(i, _), p)| (i, (p / sum) as f32)).collect() }
    }

    /// Writes the image into `out` (PIXELS long, zeros elsewhere), each intensity times `scale`.
    pub fn write_dense(&self, out: &mut [f32], scale: f32) {
        out.fill(0.0);
        for &(i, p) in &self.pixels {
            out[i as usize] = p * scale;
        }
    }

    pub fn dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; PIXELS];
        self.write_dense(&mut out, 1.0);
        out
    }
}

/// The particles shifted so that the pT centroid is at the origin, shares normalised to sum 1.
pub fn centred(particles: &[Particle]) -> Vec<Particle> {
    let total: f64 = particles.iter().map(|p| p.z).sum();
    let (eta, phi) = particles.iter().fold((0.0, 0.0), |(e, f), p| (e + p.z * p.eta, f + p.z * p.phi));
    let (eta, phi) = (eta / total, phi / total);
    particles.iter().map(|p| Particle { z: p.z / total, eta: p.eta - eta, phi: p.phi - phi }).collect()
}

/// Centred particles turned so that the principal axis of their pT-weighted second moments is vertical
/// (along Δφ).
pub fn rotated(particles: &[Particle]) -> Vec<Particle> {
    let (mut see, mut sef, mut sff) = (0.0, 0.0, 0.0);
    for p in particles {
        see += p.z * p.eta * p.eta;
        sef += p.z * p.eta * p.phi;
        sff += p.z * p.phi * p.phi;
    }
    // The angle of the major axis from the η axis; turning by π/2 − angle makes it vertical.
    let angle = 0.5 * (2.0 * sef).atan2(see - sff);
    let turn = std::f64::consts::FRAC_PI_2 - angle;
    let (sin, cos) = turn.sin_cos();
    particles.iter().map(|p| Particle { z: p.z, eta: cos * p.eta - sin * p.phi, phi: sin * p.eta + cos * p.phi }).collect()
}

/// Rotated particles mirrored so that more pT lies at positive Δη (right) and positive Δφ (top).
pub fn flipped(particles: &[Particle]) -> Vec<Particle> {
    let right: f64 = particles.iter().filter(|p| p.eta > 0.0).map(|p| p.z).sum();
    let left: f64 = particles.iter().filter(|p| p.eta < 0.0).map(|p| p.z).sum();
    let top: f64 = particles.iter().filter(|p| p.phi > 0.0).map(|p| p.z).sum();
    let bottom: f64 = particles.iter().filter(|p| p.phi < 0.0).map(|p| p.z).sum();
    let (sx, sy) = (if left > right { -1.0 } else { 1.0 }, if bottom > top { -1.0 } else { 1.0 });
    particles.iter().map(|p| Particle { z: p.z, eta: sx * p.eta, phi: sy * p.phi }).collect()
}

/// Sums the particles' shares into pixels (those outside the image are dropped) and renormalises.
pub fn pixelated(particles: &[Particle]) -> SparseImage {
    let width = 2.0 * EXTENT / SIDE as f64;
    let mut lit: Vec<(u16, f64)> = particles
        .iter()
        .filter_map(|p| {
            let column = ((p.eta + EXTENT) / width).floor();
            let row = ((EXTENT - p.phi) / width).floor();
            let inside = (0.0..SIDE as f64).contains(&column) && (0.0..SIDE as f64).contains(&row);
            inside.then(|| ((row as usize * SIDE + column as usize) as u16, p.z))
        })
        .collect();
    lit.sort_by_key(|&(i, _)| i);
    let mut pixels: Vec<(u16, f64)> = Vec::with_capacity(lit.len());
    for (i, z) in lit {
        match pixels.last_mut() {
            Some((last, sum)) if *last == i => *sum += z,
            _ => pixels.push((i, z)),
        }
    }
    let total: f64 = pixels.iter().map(|p| p.1).sum();
    SparseImage { pixels: pixels.into_iter().filter(|p| p.1 > 0.0).map(|(i, z)| (i, (z / total) as f32)).collect() }
}

/// The whole preprocessing of one jet.
pub fn image(jet: &Jet) -> SparseImage {
    pixelated(&flipped(&rotated(&centred(&jet.particles))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jets::particles::{jets, JetClass};

    fn moments(particles: &[Particle]) -> (f64, f64, f64, f64, f64) {
        particles.iter().fold((0.0, 0.0, 0.0, 0.0, 0.0), |(e, f, ee, ef, ff), p| {
            (e + p.z * p.eta, f + p.z * p.phi, ee + p.z * p.eta * p.eta, ef + p.z * p.eta * p.phi, ff + p.z * p.phi * p.phi)
        })
    }

    #[test]
    fn each_step_does_what_it_says() {
        for jet in jets(JetClass::Top, 50, 2).iter().chain(&jets(JetClass::Qcd, 50, 2)) {
            let centred = centred(&jet.particles);
            let (e, f, ..) = moments(&centred);
            assert!(e.abs() < 1e-12 && f.abs() < 1e-12, "centroid ({e}, {f})");
            let rotated = rotated(&centred);
            let (_, _, ee, ef, ff) = moments(&rotated);
            assert!(ef.abs() < 1e-9 && ff >= ee, "moments {ee} {ef} {ff}: the long axis is vertical");
            let flipped = flipped(&rotated);
            let right: f64 = flipped.iter().filter(|p| p.eta > 0.0).map(|p| p.z).sum();
            let top: f64 = flipped.iter().filter(|p| p.phi > 0.0).map(|p| p.z).sum();
            assert!(right >= 1.0 - right - 1e-12 - flipped.iter().filter(|p| p.eta == 0.0).map(|p| p.z).sum::<f64>());
            assert!(top >= 1.0 - top - 1e-12 - flipped.iter().filter(|p| p.phi == 0.0).map(|p| p.z).sum::<f64>());
            let image = pixelated(&flipped);
            let sum: f32 = image.pixels.iter().map(|p| p.1).sum();
            assert!((sum - 1.0).abs() < 1e-5, "pixels sum to {sum}");
            assert!(image.pixels.windows(2).all(|w| w[0].0 < w[1].0), "pixels are sorted and merged");
        }
    }

    #[test]
    fn a_single_particle_lands_in_its_pixel() {
        let image = pixelated(&[Particle { z: 1.0, eta: 0.01, phi: 0.01 }]);
        // Δη = 0.01 is column 20, Δφ = 0.01 is row 19 (row 0 at the top).
        assert_eq!(image.pixels, vec![(19 * 40 + 20, 1.0)]);
    }

    #[test]
    fn jets_light_a_few_dozen_pixels() {
        for class in [JetClass::Qcd, JetClass::Top] {
            let lit: Vec<usize> = jets(class, 500, 4).iter().map(|j| image(j).lit()).collect();
            let mean = lit.iter().sum::<usize>() as f64 / lit.len() as f64;
            println!("{class:?}: {mean:.1} lit pixels on average");
            assert!((10.0..80.0).contains(&mean), "{class:?}: {mean}");
        }
    }

    #[test]
    fn rescaling_keeps_the_sum_and_flattens_the_intensities() {
        let image = image(&jets(JetClass::Qcd, 1, 5)[0]);
        let flat = image.rescaled(0.25);
        let sum: f32 = flat.pixels.iter().map(|p| p.1).sum();
        assert!((sum - 1.0).abs() < 1e-5);
        let max = |im: &SparseImage| im.pixels.iter().map(|p| p.1).fold(0.0f32, f32::max);
        assert!(max(&flat) < max(&image));
        assert_eq!(image.rescaled(1.0).pixels.len(), image.lit());
    }
}
