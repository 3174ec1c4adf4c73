//! The resonance hunt's charts: the m_jj spectrum (log scale, the signal region shaded), a feature's
//! closure, the learned signal fraction against epoch, several SIC curves on one chart, and jet masses
//! as points. Every series differs by line style or glyph as well as colour.

use plotters::prelude::*;
use web_sys::HtmlCanvasElement;

use super::charts::{draw_axes, key_strip, keyed_chart, open, px, significant, styled_mesh, DrawResult, Mark};
use super::palette::{ANOMALOUS, BLIND_GUESS, NORMAL, SERIES, TEXT};
use anomaly_engine::resonance::panels::{FeatureClosure, JetMasses, MassHistogram};

const BAND: RGBColor = RGBColor(0xF0, 0xE4, 0x42); // Okabe–Ito yellow, as a pale band

/// Bars of `histogram.all` on a log axis, the signal region shaded; with `reveal`, the injected signal's
/// counts outlined on the same bins. `compare` adds a second histogram as an outline (the spectrum
/// before a cut, say), named by its label.
pub fn mass_spectrum(
    canvas: &HtmlCanvasElement,
    histogram: &MassHistogram,
    label: &str,
    region: (f64, f64),
    reveal: bool,
    compare: Option<(&MassHistogram, &str)>,
) -> DrawResult {
    let (area, size) = open(canvas)?;
    let bars = ShapeStyle::from(&NORMAL.mix(0.55)).filled();
    let signal = ShapeStyle::from(&ANOMALOUS).stroke_width(px(&size, 2.0));
    let outline = ShapeStyle::from(&BLIND_GUESS).stroke_width(px(&size, 1.5));
    let mut key = vec![(label.to_string(), Mark::Bar(bars)), ("signal region".to_string(), Mark::Bar(ShapeStyle::from(&BAND.mix(0.35)).filled()))];
    if let Some((_, name)) = compare {
        key.push((name.to_string(), Mark::Dash(outline)));
    }
    if reveal {
        key.push(("injected signal (the truth)".to_string(), Mark::Line(signal)));
    }
    let area = key_strip(area, &size, &key)?;
    let top = histogram.all.iter().chain(compare.iter().flat_map(|(h, _)| h.all.iter())).copied().max().unwrap_or(1).max(1) as f64 * 2.0;
    let mut chart = keyed_chart(&area, &size, 48.0)
        .build_cartesian_2d(histogram.low..histogram.high, (0.5f64..top).log_scale())
        .map_err(|e| e.to_string())?;
    styled_mesh(&mut chart, &size)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_desc("dijet mass m_jj (TeV)")
        .y_desc("events per bin")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(std::iter::once(Rectangle::new([(region.0, 0.5), (region.1, top)], ShapeStyle::from(&BAND.mix(0.35)).filled())))
        .map_err(|e| e.to_string())?;
    let width = (histogram.high - histogram.low) / histogram.all.len().max(1) as f64;
    let edge = |k: usize| histogram.low + k as f64 * width;
    chart
        .draw_series(histogram.all.iter().enumerate().filter(|(_, &c)| c > 0).map(|(k, &c)| Rectangle::new([(edge(k), 0.5), (edge(k + 1), c as f64)], bars)))
        .map_err(|e| e.to_string())?;
    if let Some((before, _)) = compare {
        chart.draw_series(LineSeries::new(steps(before.low, width, &before.all), outline)).map_err(|e| e.to_string())?;
    }
    if reveal {
        chart.draw_series(LineSeries::new(steps(histogram.low, width, &histogram.signal), signal)).map_err(|e| e.to_string())?;
    }
    area.present().map_err(|e| e.to_string())
}

/// A histogram's outline as a path of steps (counts below the log axis sit on its floor).
fn steps(low: f64, width: f64, counts: &[u32]) -> Vec<(f64, f64)> {
    let mut path = Vec::with_capacity(2 * counts.len());
    for (k, &c) in counts.iter().enumerate() {
        let y = (c as f64).max(0.5);
        path.push((low + k as f64 * width, y));
        path.push((low + (k + 1) as f64 * width, y));
    }
    path
}

/// One feature in the signal region: the data as dots, the background model as a line, the true
/// background dashed (shares of events per bin).
pub fn feature_closure(canvas: &HtmlCanvasElement, closure: &FeatureClosure, unit: &str) -> DrawResult {
    let (area, size) = open(canvas)?;
    let data = ShapeStyle::from(&TEXT).filled();
    let model = ShapeStyle::from(&NORMAL).stroke_width(px(&size, 2.0));
    let truth = ShapeStyle::from(&ANOMALOUS).stroke_width(px(&size, 2.0));
    let key = [
        ("signal-region data".to_string(), Mark::Dot(data)),
        ("sideband model".to_string(), Mark::Line(model)),
        ("true background".to_string(), Mark::Dash(truth)),
    ];
    let area = key_strip(area, &size, &key)?;
    let top = closure.data.iter().chain(&closure.model).chain(&closure.truth).fold(0.0f64, |m, &v| m.max(v)).max(1e-6) * 1.15;
    let mut chart = keyed_chart(&area, &size, 48.0)
        .build_cartesian_2d(closure.low..closure.high, 0f64..top)
        .map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, format!("{} {unit}", closure.feature), "share of events")?;
    let width = (closure.high - closure.low) / closure.data.len().max(1) as f64;
    let centre = |k: usize| closure.low + (k as f64 + 0.5) * width;
    let line = |shares: &[f64]| -> Vec<(f64, f64)> { shares.iter().enumerate().map(|(k, &v)| (centre(k), v)).collect() };
    chart.draw_series(LineSeries::new(line(&closure.model), model)).map_err(|e| e.to_string())?;
    chart.draw_series(DashedLineSeries::new(line(&closure.truth), px(&size, 6.0), px(&size, 4.0), truth)).map_err(|e| e.to_string())?;
    chart
        .draw_series(closure.data.iter().enumerate().map(|(k, &v)| Circle::new((centre(k), v), px(&size, 3.0), data)))
        .map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// R-ANODE's learned w after each epoch (log axis) with the true w dashed.
pub fn signal_fraction(canvas: &HtmlCanvasElement, points: &[(usize, f64)], true_w: f64) -> DrawResult {
    let (area, size) = open(canvas)?;
    let learned = ShapeStyle::from(&NORMAL).stroke_width(px(&size, 2.5));
    let truth = ShapeStyle::from(&ANOMALOUS).stroke_width(px(&size, 2.0));
    let key = [("learned w".to_string(), Mark::Line(learned)), (format!("true w = {:.2}%", 100.0 * true_w), Mark::Dash(truth))];
    let area = key_strip(area, &size, &key)?;
    let values = points.iter().map(|p| p.1).chain([true_w]).filter(|v| *v > 0.0);
    let (low, high) = values.fold((1.0f64, 1e-6f64), |(l, h), v| (l.min(v), h.max(v)));
    let (low, high) = ((low / 2.0).max(1e-6), (high * 2.0).min(1.0));
    let last = points.last().map_or(1, |p| p.0).max(1) as f64;
    let mut chart = keyed_chart(&area, &size, 56.0)
        .build_cartesian_2d(0f64..last, (low..high).log_scale())
        .map_err(|e| e.to_string())?;
    styled_mesh(&mut chart, &size)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{}%", significant((100.0 * v) as f32)))
        .x_desc("epoch")
        .y_desc("signal fraction w")
        .draw()
        .map_err(|e| e.to_string())?;
    if true_w > 0.0 {
        chart
            .draw_series(DashedLineSeries::new(vec![(0.0, true_w), (last, true_w)], px(&size, 6.0), px(&size, 4.0), truth))
            .map_err(|e| e.to_string())?;
    }
    chart.draw_series(LineSeries::new(points.iter().map(|&(e, w)| (e as f64, w.max(low))), learned)).map_err(|e| e.to_string())?;
    chart.draw_series(points.iter().map(|&(e, w)| Circle::new((e as f64, w.max(low)), px(&size, 3.0), learned.filled()))).map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// Several SIC curves against the signal kept, in the [`SERIES`] styles; SIC = 1 is grey.
pub fn sic_curves(canvas: &HtmlCanvasElement, curves: &[(String, &[(f64, f64)])]) -> DrawResult {
    let (area, size) = open(canvas)?;
    let guess = ShapeStyle::from(&BLIND_GUESS).stroke_width(px(&size, 1.0));
    let styles: Vec<(ShapeStyle, bool)> =
        SERIES.iter().map(|&(c, dashed)| (ShapeStyle::from(&c).stroke_width(px(&size, if dashed { 2.0 } else { 2.5 })), dashed)).collect();
    let mut key = vec![("no gain (SIC 1)".to_string(), Mark::Dash(guess))];
    for (k, (label, _)) in curves.iter().enumerate() {
        let (style, dashed) = styles[k % styles.len()];
        key.push((label.clone(), if dashed { Mark::Dash(style) } else { Mark::Line(style) }));
    }
    let area = key_strip(area, &size, &key)?;
    let top = curves.iter().flat_map(|(_, c)| c.iter()).fold(2.0f64, |m, p| m.max(p.1)) * 1.1;
    let mut chart = keyed_chart(&area, &size, 44.0)
        .build_cartesian_2d(0f64..1f64, 0f64..top)
        .map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, "signal kept (ε_S)", "SIC = ε_S / √ε_B")?;
    chart.draw_series(DashedLineSeries::new(vec![(0.0, 1.0), (1.0, 1.0)], px(&size, 5.0), px(&size, 5.0), guess)).map_err(|e| e.to_string())?;
    for (k, (_, curve)) in curves.iter().enumerate() {
        let (style, dashed) = styles[k % styles.len()];
        let points = curve.iter().copied();
        if dashed {
            chart.draw_series(DashedLineSeries::new(points, px(&size, 7.0), px(&size, 4.0), style)).map_err(|e| e.to_string())?;
        } else {
            chart.draw_series(LineSeries::new(points, style)).map_err(|e| e.to_string())?;
        }
    }
    area.present().map_err(|e| e.to_string())
}

/// The heavier jet's mass against the lighter's (GeV): the signal flow's samples as blue dots and, with
/// `reveal`, true signal events as vermillion triangles.
pub fn jet_masses(canvas: &HtmlCanvasElement, drawn: &JetMasses, truth: &JetMasses, reveal: bool) -> DrawResult {
    let (area, size) = open(canvas)?;
    let dots = ShapeStyle::from(&NORMAL.mix(0.45)).filled();
    let crosses = ShapeStyle::from(&ANOMALOUS).stroke_width(px(&size, 1.0));
    let mut key = vec![("drawn from the signal flow".to_string(), Mark::Dot(dots))];
    if reveal {
        key.push(("true signal events".to_string(), Mark::Triangle(crosses)));
    }
    let area = key_strip(area, &size, &key)?;
    let mut chart = keyed_chart(&area, &size, 48.0)
        .build_cartesian_2d(0f32..800f32, 0f32..1000f32)
        .map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, "lighter jet's mass (GeV)", "heavier jet's mass (GeV)")?;
    let r = px(&size, 2.0);
    chart
        .draw_series(drawn.lighter.iter().zip(&drawn.heavier).map(|(&x, &y)| Circle::new((x, y), r, dots)))
        .map_err(|e| e.to_string())?;
    if reveal {
        chart
            .draw_series(truth.lighter.iter().zip(&truth.heavier).take(400).map(|(&x, &y)| TriangleMarker::new((x, y), r as i32 + 2, crosses)))
            .map_err(|e| e.to_string())?;
    }
    area.present().map_err(|e| e.to_string())
}
