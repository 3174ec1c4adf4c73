//! The Events view's pictures: an event's objects in the η–φ plane, how similar the encoder finds events
//! to their copies, and the representation space with each class its own glyph and colour.

use std::f32::consts::PI;

use plotters::prelude::*;
use web_sys::HtmlCanvasElement;

use super::charts::{draw_axes, draw_f32_axes, key_strip, keyed_chart, open, px, DrawResult, Mark};
use super::palette::{ANOMALOUS, BLIND_GUESS, GREEN, NORMAL, ORANGE, PURPLE, SKY, TEXT};
use anomaly_engine::objects::panels::{EventDisplay, RepresentationMap, Similarities};
use anomaly_engine::objects::ObjectType;

/// An object type's colour and key mark: electrons blue dots, muons green squares, jets vermillion
/// triangles; the missing energy, which has no η, a dashed line across the plane at its φ.
fn object_mark(kind: ObjectType, size: &super::canvas::CanvasSize) -> Mark {
    match kind {
        ObjectType::Electron => Mark::Dot(NORMAL.mix(0.75).filled()),
        ObjectType::Muon => Mark::Bar(GREEN.mix(0.75).filled()),
        ObjectType::Jet => Mark::Triangle(ANOMALOUS.mix(0.75).filled()),
        ObjectType::Met => Mark::Dash(ShapeStyle::from(&TEXT).stroke_width(px(size, 2.0))),
    }
}

/// The event displays' key, for the page to write once above them: (symbol, colour as CSS, name).
pub const OBJECT_KEY: [(&str, RGBColor, &str); 4] =
    [("●", NORMAL, "electron"), ("■", GREEN, "muon"), ("▲", ANOMALOUS, "jet"), ("┆", TEXT, "missing energy, at its φ (it has no η)")];

/// One event in the η–φ plane: each object a marker of its type whose size grows with its pT. The key is
/// the panel's (one for all its displays), not each canvas's.
pub fn event_display(canvas: &HtmlCanvasElement, event: &EventDisplay) -> DrawResult {
    let (area, size) = open(canvas)?;
    let mut chart = keyed_chart(&area, &size, 42.0).margin_top(px(&size, 8.0)).build_cartesian_2d(-PI..PI, -4.2f32..4.2f32).map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, "φ", "η")?;
    let hardest = event.objects.iter().map(|o| o.pt).fold(1.0f32, f32::max);
    let radius = |pt: f32| (px(&size, 3.0) as f32 + px(&size, 10.0) as f32 * (pt / hardest).sqrt()) as i32;
    for object in &event.objects {
        let at = (object.phi, object.eta);
        let drawn = match object_mark(object.kind, &size) {
            Mark::Dot(style) => chart.draw_series(std::iter::once(Circle::new(at, radius(object.pt) as u32, style))).map(|_| ()),
            Mark::Bar(style) => {
                let r = radius(object.pt);
                chart.draw_series(std::iter::once(EmptyElement::at(at) + Rectangle::new([(-r, -r), (r, r)], style))).map(|_| ())
            }
            Mark::Triangle(style) => chart.draw_series(std::iter::once(TriangleMarker::new(at, radius(object.pt) + 2, style))).map(|_| ()),
            Mark::Dash(style) | Mark::Line(style) => chart
                .draw_series(DashedLineSeries::new(vec![(object.phi, -4.2), (object.phi, 4.2)], px(&size, 6.0), px(&size, 4.0), style))
                .map(|_| ()),
        };
        drawn.map_err(|e| e.to_string())?;
    }
    area.present().map_err(|e| e.to_string())
}

/// The similarity of each probe event to its physical copy (filled) and to its anomalous copy
/// (outline), as the share of events in each bin.
pub fn similarity_histograms(canvas: &HtmlCanvasElement, similarities: &Similarities) -> DrawResult {
    let (area, size) = open(canvas)?;
    let share = |counts: &[u32]| -> Vec<f32> {
        let total = counts.iter().sum::<u32>().max(1) as f32;
        counts.iter().map(|&c| 100.0 * c as f32 / total).collect()
    };
    let (physical, anomalous) = (share(&similarities.physical.counts), share(&similarities.anomalous.counts));
    let top = physical.iter().chain(&anomalous).fold(1f32, |m, &v| m.max(v)) * 1.1;
    let filled = NORMAL.mix(0.45).filled();
    let outline = ShapeStyle::from(&ANOMALOUS).stroke_width(px(&size, 2.0));
    let key = [("to its physical copy (filled)".to_string(), Mark::Bar(filled)), ("to its anomalous copy (outline)".to_string(), Mark::Line(outline))];
    let area = key_strip(area, &size, &key)?;
    let (low, high) = (similarities.physical.low, similarities.physical.high);
    let mut chart = keyed_chart(&area, &size, 40.0).build_cartesian_2d(low..high, 0f32..top).map_err(|e| e.to_string())?;
    draw_f32_axes(&mut chart, &size, "cosine similarity of the representations", "share of events (%)")?;
    let width = (high - low) / physical.len().max(1) as f32;
    let x_of = |i: usize| low + i as f32 * width;
    chart.draw_series(physical.iter().enumerate().map(|(i, &d)| Rectangle::new([(x_of(i), 0.0), (x_of(i + 1), d)], filled))).map_err(|e| e.to_string())?;
    let steps: Vec<(f32, f32)> = anomalous.iter().enumerate().flat_map(|(i, &d)| [(x_of(i), d), (x_of(i + 1), d)]).collect();
    chart.draw_series(LineSeries::new(steps, outline)).map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// A group's colour and glyph in the representation map: the background (group 0) small grey dots under
/// the rest, each kind of signal its own colour, the glyphs cycling so neighbours differ in both.
fn class_mark(group: usize) -> Mark {
    const SIGNALS: [RGBColor; 6] = [ANOMALOUS, NORMAL, GREEN, PURPLE, SKY, ORANGE];
    if group == 0 {
        return Mark::Dot(BLIND_GUESS.mix(0.5).filled());
    }
    let style = SIGNALS[(group - 1) % SIGNALS.len()].mix(0.8).filled();
    match (group - 1) % 3 {
        0 => Mark::Triangle(style),
        1 => Mark::Dot(style),
        _ => Mark::Bar(style),
    }
}

/// Test events at their representation's two principal axes; `names` are the signal groups' names.
pub fn representation_map(canvas: &HtmlCanvasElement, map: &RepresentationMap, names: &[String]) -> DrawResult {
    let (area, size) = open(canvas)?;
    if map.points.is_empty() {
        return area.present().map_err(|e| e.to_string());
    }
    let key: Vec<(String, Mark)> = std::iter::once("background").chain(names.iter().map(String::as_str)).enumerate().map(|(g, n)| (n.to_string(), class_mark(g))).collect();
    let area = key_strip(area, &size, &key)?;
    let bound = |f: fn(&(f32, f32, usize)) -> f32| {
        let (lo, hi) = map.points.iter().map(f).fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.05).max(1e-3);
        (lo - pad)..(hi + pad)
    };
    let mut chart = keyed_chart(&area, &size, 44.0).build_cartesian_2d(bound(|p| p.0), bound(|p| p.1)).map_err(|e| e.to_string())?;
    draw_f32_axes(&mut chart, &size, format!("principal axis 1 ({:.0}% of variance)", map.explained[0] * 100.0), format!("axis 2 ({:.0}%)", map.explained[1] * 100.0))?;
    let r = px(&size, 3.0) as i32;
    for group in 0..=names.len() {
        let points = map.points.iter().filter(|p| p.2 == group);
        let drawn = match class_mark(group) {
            Mark::Triangle(style) => chart.draw_series(points.map(|p| TriangleMarker::new((p.0, p.1), r + 1, style))).map(|_| ()),
            Mark::Bar(style) => chart.draw_series(points.map(|p| EmptyElement::at((p.0, p.1)) + Rectangle::new([(-r, -r), (r, r)], style))).map(|_| ()),
            Mark::Dot(style) | Mark::Line(style) | Mark::Dash(style) => chart.draw_series(points.map(|p| Circle::new((p.0, p.1), r as u32, style))).map(|_| ()),
        };
        drawn.map_err(|e| e.to_string())?;
    }
    area.present().map_err(|e| e.to_string())
}
