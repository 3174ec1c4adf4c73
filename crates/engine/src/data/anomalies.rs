//! Families of anomalies for the digit playground (SCIENCE.md, section 1).
//!
//! We only have MNIST digits, so besides held-out digit classes the anomalies are synthetic: corruptions
//! made from real digits (noise, inversion, rotation, blur, occlusion) and pictures drawn from scratch
//! (scribbled strokes, blobs). Every family is seeded: the same seed gives the same images. Pixels are
//! intensities in [0, 1] like the digits. When Fashion-MNIST is installed, each of its ten classes of
//! clothing pictures is a family too, as in the Anomaly Awareness papers.

use serde::{Deserialize, Serialize};

use super::idx::FASHION_CLASSES;
use super::mnist::{IMAGE_PIXELS, IMAGE_SIDE};
use crate::rng::SeededRng;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnomalyFamily {
    /// Real digits of a class the network never trained on.
    HeldOutDigit(u8),
    /// Real Fashion-MNIST pictures of one class of clothing (by label, 0–9).
    Fashion(u8),
    Noise,
    Inverted,
    Rotated,
    Blurred,
    Occluded,
    Scribbles,
    Blobs,
}

/// The synthetic families, in the order the page lists them.
pub const SYNTHETIC: [AnomalyFamily; 7] = [
    AnomalyFamily::Noise,
    AnomalyFamily::Inverted,
    AnomalyFamily::Rotated,
    AnomalyFamily::Blurred,
    AnomalyFamily::Occluded,
    AnomalyFamily::Scribbles,
    AnomalyFamily::Blobs,
];

impl AnomalyFamily {
    pub fn name(self) -> String {
        match self {
            AnomalyFamily::HeldOutDigit(d) => format!("digit {d}"),
            AnomalyFamily::Fashion(c) => format!("fashion: {}", fashion_class(c)),
            AnomalyFamily::Noise => "noisy".into(),
            AnomalyFamily::Inverted => "inverted".into(),
            AnomalyFamily::Rotated => "rotated".into(),
            AnomalyFamily::Blurred => "blurred".into(),
            AnomalyFamily::Occluded => "occluded".into(),
            AnomalyFamily::Scribbles => "scribbles".into(),
            AnomalyFamily::Blobs => "blobs".into(),
        }
    }

    pub fn description(self) -> String {
        match self {
            AnomalyFamily::HeldOutDigit(d) => format!("real handwritten {d}s, a digit the network never trained on"),
            AnomalyFamily::Fashion(c) => format!("real Fashion-MNIST pictures of clothing: {}", fashion_class(c)),
            AnomalyFamily::Noise => "normal digits with strong random noise on every pixel".into(),
            AnomalyFamily::Inverted => "normal digits with ink and paper swapped".into(),
            AnomalyFamily::Rotated => "normal digits turned on their side (60° to 120° either way)".into(),
            AnomalyFamily::Blurred => "normal digits smeared by a Gaussian blur".into(),
            AnomalyFamily::Occluded => "normal digits with a solid block painted over part of them".into(),
            AnomalyFamily::Scribbles => "random pen strokes drawn from scratch".into(),
            AnomalyFamily::Blobs => "a few soft round blobs drawn from scratch".into(),
        }
    }

    /// Whether the family is made from normal digits (and so needs some to start from).
    pub fn needs_base_digits(self) -> bool {
        !matches!(self, AnomalyFamily::HeldOutDigit(_) | AnomalyFamily::Fashion(_) | AnomalyFamily::Scribbles | AnomalyFamily::Blobs)
    }

    /// Whether the family's images come from the Fashion-MNIST file.
    pub fn needs_fashion(self) -> bool {
        matches!(self, AnomalyFamily::Fashion(_))
    }

    /// Makes `count` images of this family from `base` (row-major normal digits, cycled through) and
    /// `seed`. Held-out digits and Fashion-MNIST classes are not generated here: they are real images the
    /// caller selects.
    pub fn synthesise(self, base: &[f32], count: usize, seed: u64) -> Vec<f32> {
        let mut rng = SeededRng::derive(seed, &format!("anomaly-{}", self.name()));
        let base_rows = base.len() / IMAGE_PIXELS;
        let mut out = Vec::with_capacity(count * IMAGE_PIXELS);
        for i in 0..count {
            let digit = if base_rows > 0 {
                &base[(i % base_rows) * IMAGE_PIXELS..(i % base_rows + 1) * IMAGE_PIXELS]
            } else {
                &[][..]
            };
            let image = match self {
                AnomalyFamily::HeldOutDigit(_) | AnomalyFamily::Fashion(_) => digit.to_vec(),
                AnomalyFamily::Noise => digit.iter().map(|&p| p + 0.4 * rng.normal()).collect(),
                AnomalyFamily::Inverted => digit.iter().map(|&p| 1.0 - p).collect(),
                AnomalyFamily::Rotated => {
                    let side = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
                    rotate(digit, side * (60.0 + 60.0 * rng.uniform()).to_radians())
                }
                AnomalyFamily::Blurred => blur(digit, 1.6),
                AnomalyFamily::Occluded => occlude(digit, &mut rng),
                AnomalyFamily::Scribbles => scribbles(&mut rng),
                AnomalyFamily::Blobs => blobs(&mut rng),
            };
            out.extend(image.into_iter().map(|p| p.clamp(0.0, 1.0)));
        }
        out
    }
}

/// The Fashion-MNIST classes, in label order.
pub fn fashion_families() -> impl Iterator<Item = AnomalyFamily> {
    (0..FASHION_CLASSES.len() as u8).map(AnomalyFamily::Fashion)
}

fn fashion_class(label: u8) -> &'static str {
    FASHION_CLASSES.get(label as usize).copied().unwrap_or("unknown class")
}

fn at(image: &[f32], row: isize, col: isize) -> f32 {
    if (0..IMAGE_SIDE as isize).contains(&row) && (0..IMAGE_SIDE as isize).contains(&col) {
        image[row as usize * IMAGE_SIDE + col as usize]
    } else {
        0.0
    }
}

/// Rotation about the centre with bilinear sampling.
fn rotate(image: &[f32], angle: f32) -> Vec<f32> {
    let (sin, cos) = angle.sin_cos();
    let centre = (IMAGE_SIDE as f32 - 1.0) / 2.0;
    let mut out = vec![0.0; IMAGE_PIXELS];
    for row in 0..IMAGE_SIDE {
        for col in 0..IMAGE_SIDE {
            let (y, x) = (row as f32 - centre, col as f32 - centre);
            let (src_y, src_x) = (cos * y - sin * x + centre, sin * y + cos * x + centre);
            let (y0, x0) = (src_y.floor(), src_x.floor());
            let (fy, fx) = (src_y - y0, src_x - x0);
            let (y0, x0) = (y0 as isize, x0 as isize);
            out[row * IMAGE_SIDE + col] = at(image, y0, x0) * (1.0 - fy) * (1.0 - fx)
                + at(image, y0, x0 + 1) * (1.0 - fy) * fx
                + at(image, y0 + 1, x0) * fy * (1.0 - fx)
                + at(image, y0 + 1, x0 + 1) * fy * fx;
        }
    }
    out
}

/// Separable Gaussian blur.
fn blur(image: &[f32], sigma: f32) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius).map(|k| (-(k * k) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let total: f32 = kernel.iter().sum();
    let pass = |src: &[f32], horizontal: bool| -> Vec<f32> {
        let mut out = vec![0.0; IMAGE_PIXELS];
        for row in 0..IMAGE_SIDE as isize {
            for col in 0..IMAGE_SIDE as isize {
                let sum: f32 = (-radius..=radius)
                    .zip(&kernel)
                    .map(|(k, w)| w * if horizontal { at(src, row, col + k) } else { at(src, row + k, col) })
                    .sum();
                out[row as usize * IMAGE_SIDE + col as usize] = sum / total;
            }
        }
        out
    };
    pass(&pass(image, true), false)
}

/// A solid 10 × 10 block of ink somewhere over the digit's centre region.
fn occlude(image: &[f32], rng: &mut SeededRng) -> Vec<f32> {
    let mut out = image.to_vec();
    let (top, left) = (4 + rng.below(10), 4 + rng.below(10));
    for row in top..top + 10 {
        for col in left..left + 10 {
            out[row * IMAGE_SIDE + col] = 1.0;
        }
    }
    out
}

/// Ink laid along a segment with a soft edge (distance-based), so strokes look drawn, not pixelated.
fn stroke(image: &mut [f32], from: (f32, f32), to: (f32, f32), width: f32) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let length2 = (dx * dx + dy * dy).max(1e-6);
    for row in 0..IMAGE_SIDE {
        for col in 0..IMAGE_SIDE {
            let (px, py) = (col as f32, row as f32);
            let t = (((px - from.0) * dx + (py - from.1) * dy) / length2).clamp(0.0, 1.0);
            let (cx, cy) = (from.0 + t * dx, from.1 + t * dy);
            let distance = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
            let ink = (1.0 - (distance - width / 2.0).max(0.0)).clamp(0.0, 1.0);
            let pixel = &mut image[row * IMAGE_SIDE + col];
            *pixel = pixel.max(ink);
        }
    }
}

fn scribbles(rng: &mut SeededRng) -> Vec<f32> {
    let mut image = vec![0.0; IMAGE_PIXELS];
    for _ in 0..2 + rng.below(2) {
        let mut point = (4.0 + 20.0 * rng.uniform(), 4.0 + 20.0 * rng.uniform());
        for _ in 0..4 + rng.below(4) {
            let next = ((point.0 + 12.0 * (rng.uniform() - 0.5)).clamp(3.0, 24.0), (point.1 + 12.0 * (rng.uniform() - 0.5)).clamp(3.0, 24.0));
            stroke(&mut image, point, next, 1.6);
            point = next;
        }
    }
    image
}

fn blobs(rng: &mut SeededRng) -> Vec<f32> {
    let mut image = vec![0.0f32; IMAGE_PIXELS];
    for _ in 0..2 + rng.below(3) {
        let (cx, cy) = (6.0 + 16.0 * rng.uniform(), 6.0 + 16.0 * rng.uniform());
        let radius = 2.0 + 3.0 * rng.uniform();
        for row in 0..IMAGE_SIDE {
            for col in 0..IMAGE_SIDE {
                let d2 = (col as f32 - cx).powi(2) + (row as f32 - cy).powi(2);
                image[row * IMAGE_SIDE + col] += 1.2 * (-d2 / (2.0 * radius * radius)).exp();
            }
        }
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<f32> {
        // A vertical bar, like a 1.
        (0..IMAGE_PIXELS).map(|p| if (12..16).contains(&(p % IMAGE_SIDE)) && (4..24).contains(&(p / IMAGE_SIDE)) { 1.0 } else { 0.0 }).collect()
    }

    #[test]
    fn every_family_is_seeded_and_stays_in_pixel_range() {
        for family in SYNTHETIC {
            let a = family.synthesise(&base(), 5, 11);
            let b = family.synthesise(&base(), 5, 11);
            assert_eq!(a.len(), 5 * IMAGE_PIXELS, "{family:?}");
            assert_eq!(a, b, "{family:?} is not deterministic");
            assert!(a.iter().all(|p| (0.0..=1.0).contains(p)), "{family:?} leaves [0, 1]");
            assert!(a.iter().any(|&p| p > 0.5), "{family:?} draws nothing");
            assert!(!family.name().is_empty() && !family.description().is_empty());
        }
    }

    #[test]
    fn random_families_change_with_the_seed() {
        for family in [AnomalyFamily::Noise, AnomalyFamily::Rotated, AnomalyFamily::Occluded, AnomalyFamily::Scribbles, AnomalyFamily::Blobs] {
            assert_ne!(family.synthesise(&base(), 3, 1), family.synthesise(&base(), 3, 2), "{family:?}");
        }
    }

    #[test]
    fn corruptions_do_what_they_say() {
        let digit = base();
        let inverted = AnomalyFamily::Inverted.synthesise(&digit, 1, 0);
        assert!(digit.iter().zip(&inverted).all(|(a, b)| (a + b - 1.0).abs() < 1e-6));
        // A vertical bar turned on its side is mostly horizontal: more ink in the middle row than before.
        let rotated = AnomalyFamily::Rotated.synthesise(&digit, 1, 0);
        let middle_row = |img: &[f32]| img[14 * IMAGE_SIDE..15 * IMAGE_SIDE].iter().sum::<f32>();
        assert!(middle_row(&rotated) > 2.0 * middle_row(&digit));
        // Blur keeps the ink roughly but spreads it: fewer fully inked pixels.
        let blurred = AnomalyFamily::Blurred.synthesise(&digit, 1, 0);
        assert!(blurred.iter().filter(|&&p| p > 0.99).count() < digit.iter().filter(|&&p| p > 0.99).count());
        let occluded = AnomalyFamily::Occluded.synthesise(&digit, 1, 0);
        assert!(occluded.iter().filter(|&&p| p == 1.0).count() >= 100);
    }
}
