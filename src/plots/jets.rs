//! The jet-image view's pictures: images on a log colour scale, one jet's particles through the
//! preprocessing, and reconstruction error against an image's complexity.

use plotters::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::charts::{draw_axes, key_strip, keyed_chart, open, px, ClassNames, DrawResult, Mark};
use super::palette::{ANOMALOUS, NORMAL};
use anomaly_engine::jets::image::{EXTENT, SIDE};
use anomaly_engine::jets::panels::ComplexityPoint;
use anomaly_engine::jets::particles::JetClass;

/// The faintest intensity the colour scale shows (a jet's softest particles carry about 10⁻⁴ of its pT);
/// anything fainter, and empty pixels, is white.
pub const LOG_FLOOR: f32 = 1e-4;

/// Stops of the colour scale from faint to bright: a sequential scale in the spirit of viridis, which
/// stays ordered for every common colour-vision deficiency and in greyscale.
const SCALE: [[u8; 3]; 5] = [[0x44, 0x01, 0x54], [0x3b, 0x52, 0x8b], [0x21, 0x91, 0x8c], [0x5e, 0xc9, 0x62], [0xfd, 0xe7, 0x25]];

/// The colour of an intensity on the log scale from [`LOG_FLOOR`] to 1; None (white) below the floor.
pub fn log_colour(value: f32) -> Option<[u8; 3]> {
    if !(value >= LOG_FLOOR) {
        return None;
    }
    let t = ((value.log10() - LOG_FLOOR.log10()) / -LOG_FLOOR.log10()).clamp(0.0, 1.0) * (SCALE.len() - 1) as f32;
    let k = (t as usize).min(SCALE.len() - 2);
    let f = t - k as f32;
    let mix = |c: usize| (SCALE[k][c] as f32 + f * (SCALE[k + 1][c] as f32 - SCALE[k][c] as f32)).round() as u8;
    Some([mix(0), mix(1), mix(2)])
}

/// The colour scale as a CSS gradient, for the key beside the images.
pub fn scale_gradient() -> String {
    let stops: Vec<String> = SCALE.iter().map(|c| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])).collect();
    format!("linear-gradient(to right, {})", stops.join(", "))
}

/// Draws a 40 × 40 jet image (intensities, row by row) pixel by pixel on the log colour scale; CSS scales
/// the canvas up without smoothing.
pub fn jet_image(canvas: &HtmlCanvasElement, pixels: &[f32]) {
    canvas.set_width(SIDE as u32);
    canvas.set_height(SIDE as u32);
    let Some(context) = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok()) else { return };
    let mut rgba = Vec::with_capacity(SIDE * SIDE * 4);
    for k in 0..SIDE * SIDE {
        let [r, g, b] = pixels.get(k).copied().and_then(log_colour).unwrap_or([255, 255, 255]);
        rgba.extend([r, g, b, 255]);
    }
    if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), SIDE as u32, SIDE as u32) {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}

/// A jet's particles at (Δη, Δφ), each a disc whose area follows its share of the jet's pT, within the
/// image's window (a dashed square) or wider when a step leaves particles outside it.
pub fn jet_particles(canvas: &HtmlCanvasElement, particles: &[(f32, f32, f32)]) -> DrawResult {
    let (area, size) = open(canvas)?;
    let reach = particles.iter().fold(EXTENT as f32, |m, &(_, eta, phi)| m.max(eta.abs()).max(phi.abs())) * 1.05;
    let mut chart = keyed_chart(&area, &size, 36.0).build_cartesian_2d(-reach..reach, -reach..reach).map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, "Δη", "Δφ")?;
    let window = EXTENT as f32;
    let edge = ShapeStyle::from(&RGBColor(0x80, 0x80, 0x80)).stroke_width(px(&size, 1.0));
    let corners = vec![(-window, -window), (window, -window), (window, window), (-window, window), (-window, -window)];
    chart.draw_series(DashedLineSeries::new(corners, px(&size, 4.0), px(&size, 3.0), edge)).map_err(|e| e.to_string())?;
    let fill = NORMAL.mix(0.55).filled();
    let largest = px(&size, 14.0) as f32;
    chart
        .draw_series(particles.iter().map(|&(z, eta, phi)| Circle::new((eta, phi), (largest * z.max(0.0).sqrt()).max(px(&size, 1.5) as f32) as u32, fill)))
        .map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// Which complexity measure a scatter puts on its x axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Complexity {
    LitPixels,
    Concentration,
}

impl Complexity {
    pub fn of(self, point: &ComplexityPoint) -> f32 {
        match self {
            Complexity::LitPixels => point.lit as f32,
            Complexity::Concentration => point.concentration,
        }
    }

    pub fn axis(self) -> &'static str {
        match self {
            Complexity::LitPixels => "lit pixels",
            Complexity::Concentration => "concentration Σp² (1 = one pixel)",
        }
    }
}

/// Reconstruction error against a complexity measure, QCD jets as blue dots and top jets as vermillion
/// triangles whichever class the model was trained on.
pub fn complexity_scatter(canvas: &HtmlCanvasElement, points: &[ComplexityPoint], trained_on: JetClass, measure: Complexity) -> DrawResult {
    let (area, size) = open(canvas)?;
    if points.is_empty() {
        return area.present().map_err(|e| e.to_string());
    }
    let class_of = |p: &ComplexityPoint| if p.trained_class { trained_on } else { trained_on.other() };
    let dot = NORMAL.mix(0.6).filled();
    let triangle = ANOMALOUS.mix(0.7).filled();
    let key = [("QCD jets".to_string(), Mark::Dot(dot)), ("top jets".to_string(), Mark::Triangle(triangle))];
    let area = key_strip(area, &size, &key)?;
    let x_high = points.iter().map(|p| measure.of(p)).fold(0.0f32, f32::max) * 1.05;
    let mut errors: Vec<f32> = points.iter().map(|p| p.error).filter(|e| e.is_finite()).collect();
    errors.sort_by(f32::total_cmp);
    // The top 1% of errors would squash the rest into a line; they are drawn at the top edge.
    let y_high = errors.get(errors.len().saturating_sub(1) * 99 / 100).copied().unwrap_or(1.0).max(1e-6) * 1.05;
    let mut chart = keyed_chart(&area, &size, 44.0).build_cartesian_2d(0f32..x_high.max(1e-6), 0f32..y_high).map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, measure.axis(), "reconstruction error")?;
    let at = |p: &ComplexityPoint| (measure.of(p), p.error.min(y_high));
    let radius = px(&size, 2.5);
    chart
        .draw_series(points.iter().filter(|p| class_of(p) == JetClass::Qcd).map(|p| Circle::new(at(p), radius, dot)))
        .map_err(|e| e.to_string())?;
    let size_triangle = px(&size, 3.5) as i32;
    chart
        .draw_series(points.iter().filter(|p| class_of(p) == JetClass::Top).map(|p| TriangleMarker::new(at(p), size_triangle, triangle)))
        .map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// The ROC chart's axes when both directions share it: the trained class flagged, the other found.
pub const DIRECTIONS: ClassNames = ClassNames {
    normal: "the class trained on",
    anomalous: "the other class",
    flagged: "jets of the trained class flagged",
    found: "jets of the other class found",
};
