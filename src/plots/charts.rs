//! The line and point charts every view shares (loss curve, latent space, score histograms, ROC and SIC
//! curves) and the house style other chart files draw with (`open`, `key_strip`, `draw_axes`).

use plotters::coord::ranged1d::ValueFormatter;
use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf32;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use super::canvas::{fit_to_screen, CanvasSize};
use super::palette::{ANOMALOUS, BLIND_GUESS, DIGIT_COLOURS, GRID, NORMAL, TEXT};
use anomaly_engine::evaluate::LatentPoint;
use anomaly_engine::metrics::{Histogram, Roc};

pub(super) type Area = DrawingArea<CanvasBackend, Shift>;

/// What the two classes are called on a chart.
pub struct ClassNames {
    pub normal: &'static str,
    pub anomalous: &'static str,
    /// The ROC's axes: the normal rows flagged, the anomalies found.
    pub flagged: &'static str,
    pub found: &'static str,
}

pub const DIGIT_CLASSES: ClassNames = ClassNames {
    normal: "normal digits",
    anomalous: "anomalies",
    flagged: "normal digits flagged (false-positive rate)",
    found: "anomalies found (true-positive rate)",
};

pub const EVENT_CLASSES: ClassNames = ClassNames {
    normal: "background",
    anomalous: "signal",
    flagged: "background kept (ε_B)",
    found: "signal kept (ε_S)",
};
pub(super) type DrawResult = Result<(), String>;

pub(super) fn open(canvas: &HtmlCanvasElement) -> Result<(Area, CanvasSize), String> {
    let size = fit_to_screen(canvas);
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("the canvas has no 2D context")?;
    let area = backend.into_drawing_area();
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    Ok((area, size))
}

fn font(size: &CanvasSize, points: f64) -> TextStyle<'static> {
    ("sans-serif", points * size.scale).into_font().color(&TEXT)
}

pub(super) fn px(size: &CanvasSize, css_pixels: f64) -> u32 {
    (css_pixels * size.scale).round() as u32
}

/// How many tick labels fit along the x axis: one per 50 CSS pixels of chart, at most plotters' usual
/// ten. On a phone, ten labels such as "12.0" ran into each other.
fn x_label_count(size: &CanvasSize) -> usize {
    ((size.width as f64 / size.scale / 50.0) as usize).clamp(3, 10)
}

/// A tick label with as many decimals as ticks `step` apart need, and no more: "300", not "300.0";
/// "0.25" for a table's small scores.
fn tick_label(value: f32, step: f32) -> String {
    let decimals = if step > 0.0 && step.is_finite() { (-step.log10().floor()).clamp(0.0, 4.0) as usize } else { 2 };
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// The playground's mesh: grid, label fonts, and one x label per 50 CSS px. Callers add axis names and
/// formatters, then draw.
pub(super) fn styled_mesh<'a, 'b, X, Y>(
    chart: &'b mut ChartContext<'a, CanvasBackend, Cartesian2d<X, Y>>,
    size: &CanvasSize,
) -> MeshStyle<'a, 'b, X, Y, CanvasBackend>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(x_label_count(size)).light_line_style(GRID).label_style(font(size, 11.0)).axis_desc_style(font(size, 12.0));
    mesh
}

/// As [`draw_axes`], for a chart of f32 values, with short tick labels ([`tick_label`]).
pub(super) fn draw_f32_axes(
    chart: &mut ChartContext<'_, CanvasBackend, Cartesian2d<RangedCoordf32, RangedCoordf32>>,
    size: &CanvasSize,
    x_desc: impl Into<String>,
    y_desc: impl Into<String>,
) -> DrawResult {
    let (x, y) = (chart.x_range(), chart.y_range());
    let (x_step, y_step) = ((x.end - x.start) / x_label_count(size) as f32, (y.end - y.start) / Y_LABELS as f32);
    styled_mesh(chart, size)
        .y_labels(Y_LABELS)
        .x_label_formatter(&|v| tick_label(*v, x_step))
        .y_label_formatter(&|v| tick_label(*v, y_step))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| e.to_string())
}

/// Tick labels on a y axis (plotters' default too).
const Y_LABELS: usize = 10;

/// Grid, tick labels and axis names in the playground's style.
pub(super) fn draw_axes<X, Y>(
    chart: &mut ChartContext<'_, CanvasBackend, Cartesian2d<X, Y>>,
    size: &CanvasSize,
    x_desc: impl Into<String>,
    y_desc: impl Into<String>,
) -> DrawResult
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    styled_mesh(chart, size).x_desc(x_desc).y_desc(y_desc).draw().map_err(|e| e.to_string())
}

/// A chart under a key strip, in the house style: thin margins (none above, where the key sits), the x
/// axis's labels below and `y_labels` CSS pixels for the y axis's on the left.
pub(super) fn keyed_chart<'a, 'b>(area: &'a Area, size: &CanvasSize, y_labels: f64) -> ChartBuilder<'a, 'b, CanvasBackend> {
    let mut builder = ChartBuilder::on(area);
    builder.margin(px(size, 10.0)).margin_top(px(size, 2.0)).x_label_area_size(px(size, 34.0)).y_label_area_size(px(size, y_labels));
    builder
}

/// How a series looks in a chart's key.
#[derive(Clone, Copy)]
pub(super) enum Mark {
    Line(ShapeStyle),
    /// A short dash, for a dashed series.
    Dash(ShapeStyle),
    Dot(ShapeStyle),
    Bar(ShapeStyle),
    Triangle(ShapeStyle),
}

/// Draws the key as rows of entries in a strip above the plot, so it never covers a data point, and
/// returns the area left for the chart. Entries wrap onto a second row when the canvas is narrow.
pub(super) fn key_strip(area: Area, size: &CanvasSize, entries: &[(String, Mark)]) -> Result<Area, String> {
    let style = font(size, 11.0);
    let (width, _) = area.dim_in_pixel();
    let (gap, mark_width, row_height) = (px(size, 14.0) as i32, px(size, 20.0) as i32, px(size, 18.0) as i32);
    let left = px(size, 10.0) as i32;
    // Lay the entries out first, to know how many rows the strip needs.
    let mut placed = Vec::with_capacity(entries.len());
    let (mut x, mut row) = (left, 0);
    for (label, mark) in entries {
        let text_width = area.estimate_text_size(label, &style).map_err(|e| e.to_string())?.0 as i32;
        let entry_width = mark_width + px(size, 4.0) as i32 + text_width;
        if x > left && x + entry_width > width as i32 - left {
            (x, row) = (left, row + 1);
        }
        placed.push((x, row, label, *mark));
        x += entry_width + gap;
    }
    let strip_height = (row + 1) * row_height + px(size, 6.0) as i32;
    let (strip, rest) = area.split_vertically(strip_height as u32);
    for (x, row, label, mark) in placed {
        let y = px(size, 4.0) as i32 + row * row_height + row_height / 2;
        let (start, end) = ((x, y), (x + mark_width, y));
        let drawn = match mark {
            Mark::Line(s) => strip.draw(&PathElement::new(vec![start, end], s)),
            Mark::Dash(s) => strip.draw(&PathElement::new(vec![start, (x + mark_width / 3, y)], s))
                .and_then(|_| strip.draw(&PathElement::new(vec![(x + 2 * mark_width / 3, y), end], s))),
            Mark::Dot(s) => strip.draw(&Circle::new((x + mark_width / 2, y), px(size, 4.0), s)),
            Mark::Bar(s) => strip.draw(&Rectangle::new([(x + 2, y - row_height / 3), (x + mark_width - 2, y + row_height / 3)], s)),
            Mark::Triangle(s) => strip.draw(&TriangleMarker::new((x + mark_width / 2, y), px(size, 5.0) as i32, s)),
        };
        drawn.map_err(|e| e.to_string())?;
        let text = style.pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
        strip.draw(&Text::new(label.clone(), (x + mark_width + px(size, 4.0) as i32, y), text)).map_err(|e| e.to_string())?;
    }
    Ok(rest)
}

/// Training loss per step (thin line) and validation loss per epoch (dashed with dots).
/// `per` names what one loss value is averaged over ("digit", "row").
pub fn loss_curve(canvas: &HtmlCanvasElement, step_losses: &[f32], steps_per_epoch: usize, validation: &[(usize, f32)], per: &str) -> DrawResult {
    let (area, size) = open(canvas)?;
    if step_losses.is_empty() {
        return area.present().map_err(|e| e.to_string());
    }
    let per_epoch = steps_per_epoch.max(1) as f32;
    let train: Vec<(f32, f32)> = step_losses.iter().enumerate().map(|(i, &l)| ((i + 1) as f32 / per_epoch, l)).collect();
    let validation: Vec<(f32, f32)> = validation.iter().map(|&(e, l)| (e as f32, l)).collect();
    let values = train.iter().chain(&validation).map(|p| p.1).filter(|v| v.is_finite());
    let (low, high) = values.fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((high - low) * 0.05).max(0.5);
    let x_max = train.last().map_or(1.0, |p| p.0).max(validation.last().map_or(0.0, |p| p.0)).max(1.0);
    let thin = ShapeStyle::from(&NORMAL).stroke_width(px(&size, 1.5));
    let style = ShapeStyle::from(&ANOMALOUS).stroke_width(px(&size, 2.0));
    let mut key = vec![("training (each step)".to_string(), Mark::Line(thin))];
    if !validation.is_empty() {
        key.push(("validation (each epoch)".to_string(), Mark::Dot(style.filled())));
    }
    let area = key_strip(area, &size, &key)?;
    let mut chart = keyed_chart(&area, &size, 48.0)
        .build_cartesian_2d(0f32..x_max, (low - pad)..(high + pad))
        .map_err(|e| e.to_string())?;
    draw_f32_axes(&mut chart, &size, "epoch", format!("loss per {per}"))?;
    chart.draw_series(LineSeries::new(train, thin)).map_err(|e| e.to_string())?;
    if !validation.is_empty() {
        chart
            .draw_series(DashedLineSeries::new(validation.clone(), px(&size, 6.0), px(&size, 4.0), style))
            .map_err(|e| e.to_string())?;
        let radius = px(&size, 4.0);
        chart.draw_series(validation.iter().map(|&p| Circle::new(p, radius, style.filled()))).map_err(|e| e.to_string())?;
    }
    area.present().map_err(|e| e.to_string())
}

/// Test digits at their latent means, projected on the two principal axes; each point is drawn as its
/// digit, in that digit's colour, so the classes read without colour too.
pub fn latent_scatter(canvas: &HtmlCanvasElement, points: &[LatentPoint], explained: [f32; 2]) -> DrawResult {
    let (area, size) = open(canvas)?;
    if points.is_empty() {
        return area.present().map_err(|e| e.to_string());
    }
    let bound = |f: fn(&LatentPoint) -> f32| {
        let (lo, hi) = points.iter().map(f).fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.05).max(1e-3);
        (lo - pad)..(hi + pad)
    };
    let mut chart = ChartBuilder::on(&area)
        .margin(px(&size, 10.0))
        .x_label_area_size(px(&size, 34.0))
        .y_label_area_size(px(&size, 44.0))
        .build_cartesian_2d(bound(|p| p.x), bound(|p| p.y))
        .map_err(|e| e.to_string())?;
    draw_f32_axes(&mut chart, &size, format!("principal axis 1 ({:.0}% of variance)", explained[0] * 100.0), format!("axis 2 ({:.0}%)", explained[1] * 100.0))?;
    let glyph = ("sans-serif", 11.0 * size.scale).into_font().style(FontStyle::Bold);
    chart
        .draw_series(points.iter().map(|p| {
            let style = glyph.clone().color(&DIGIT_COLOURS[p.digit as usize % 10]).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ));
            Text::new(p.digit.to_string(), (p.x, p.y), style)
        }))
        .map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// Histograms of the anomaly score: the normal class filled, the anomalous class as an outline, each as
/// the share of its own examples per bin. With `log_axis` the bins are in log10 of the score (the axis
/// is labelled in scores). `threshold`, a score, is drawn as a vertical line when it lies on the axis.
pub fn score_histograms(
    canvas: &HtmlCanvasElement,
    normal: &Histogram,
    anomalous: Option<&Histogram>,
    names: &ClassNames,
    log_axis: bool,
    threshold: Option<f32>,
) -> DrawResult {
    let (area, size) = open(canvas)?;
    let bins = normal.counts.len();
    let width = (normal.high - normal.low) / bins as f32;
    // Each class as the percentage of its own digits in each bin, so classes of different sizes compare.
    let share = |h: &Histogram| -> Vec<f32> {
        let total = h.counts.iter().sum::<u32>().max(1) as f32;
        h.counts.iter().map(|&c| 100.0 * c as f32 / total).collect()
    };
    let normal_share = share(normal);
    let anomalous_share = anomalous.map(share).unwrap_or_default();
    let top = normal_share.iter().chain(&anomalous_share).fold(0f32, |m, &v| m.max(v)).max(1.0) * 1.1;
    let filled = NORMAL.mix(0.45).filled();
    let outline = ShapeStyle::from(&ANOMALOUS).stroke_width(px(&size, 2.0));
    let cut = ShapeStyle::from(&TEXT).stroke_width(px(&size, 1.5));
    let mut key = vec![(if anomalous.is_some() { format!("{} (filled)", names.normal) } else { "all rows".to_string() }, Mark::Bar(filled))];
    if anomalous.is_some() {
        key.push((format!("{} (outline)", names.anomalous), Mark::Line(outline)));
    }
    let threshold_at = threshold.map(|t| if log_axis { t.log10() } else { t }).filter(|x| (normal.low..=normal.high).contains(x));
    if threshold_at.is_some() {
        key.push(("threshold (dashed)".to_string(), Mark::Dash(cut)));
    }
    let area = key_strip(area, &size, &key)?;
    // A wider right margin, so the last score label is not cut at the edge.
    let mut chart = ChartBuilder::on(&area)
        .margin(px(&size, 10.0))
        .margin_top(px(&size, 2.0))
        .margin_right(px(&size, 18.0))
        .x_label_area_size(px(&size, 34.0))
        .y_label_area_size(px(&size, 44.0))
        .build_cartesian_2d(normal.low..normal.high, 0f32..top)
        .map_err(|e| e.to_string())?;
    let step = (normal.high - normal.low) / x_label_count(&size) as f32;
    let score_label = |v: &f32| if log_axis { significant(10f32.powf(*v)) } else { tick_label(*v, step) };
    styled_mesh(&mut chart, &size)
        .x_label_formatter(&score_label)
        .x_desc(if log_axis { "anomaly score, log scale" } else { "anomaly score (reconstruction error)" })
        .y_desc("share of each class (%)")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(|e| e.to_string())?;
    let x_of = |i: usize| normal.low + i as f32 * width;
    chart
        .draw_series(normal_share.iter().enumerate().map(|(i, &d)| Rectangle::new([(x_of(i), 0.0), (x_of(i + 1), d)], filled)))
        .map_err(|e| e.to_string())?;
    if anomalous.is_some() {
        let steps: Vec<(f32, f32)> = anomalous_share.iter().enumerate().flat_map(|(i, &d)| [(x_of(i), d), (x_of(i + 1), d)]).collect();
        chart.draw_series(LineSeries::new(steps, outline)).map_err(|e| e.to_string())?;
    }
    if let Some(x) = threshold_at {
        chart
            .draw_series(DashedLineSeries::new(vec![(x, 0.0), (x, top)], px(&size, 5.0), px(&size, 4.0), cut))
            .map_err(|e| e.to_string())?;
    }
    area.present().map_err(|e| e.to_string())
}

/// A score with three significant digits and no exponent for everyday sizes: "0.0123", "4.56", "789", "12300";
/// from a million on, an exponent: "3.40e38" (an unbroken row of digits would push a phone's page sideways).
pub fn significant(value: f32) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    if value.abs() >= 1e6 {
        return format!("{value:.2e}");
    }
    let decimals = (2 - value.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let rounded = format!("{value:.decimals$}");
    if rounded.contains('.') { rounded.trim_end_matches('0').trim_end_matches('.').to_string() } else { rounded }
}

/// The ROC curve (anomalies found vs normal digits flagged) with the diagonal of a blind guess.
pub fn roc_curve(canvas: &HtmlCanvasElement, roc: &Roc, names: &ClassNames) -> DrawResult {
    roc_curves(canvas, &[(roc, format!("this model (AUC {:.3})", roc.auc))], names)
}

/// Several ROC curves on one chart: the first solid blue, the second dashed vermillion.
pub fn roc_curves(canvas: &HtmlCanvasElement, curves: &[(&Roc, String)], names: &ClassNames) -> DrawResult {
    let (area, size) = open(canvas)?;
    let guess = ShapeStyle::from(&BLIND_GUESS).stroke_width(px(&size, 1.0));
    let first = ShapeStyle::from(&NORMAL).stroke_width(px(&size, 2.5));
    let second = ShapeStyle::from(&ANOMALOUS).stroke_width(px(&size, 2.5));
    let mut key = vec![("blind guess (AUC 0.5)".to_string(), Mark::Dash(guess))];
    for (k, (_, label)) in curves.iter().enumerate() {
        key.push((label.clone(), if k == 0 { Mark::Line(first) } else { Mark::Dash(second) }));
    }
    let area = key_strip(area, &size, &key)?;
    let mut chart = keyed_chart(&area, &size, 44.0)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, names.flagged, names.found)?;
    chart
        .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], px(&size, 5.0), px(&size, 5.0), guess))
        .map_err(|e| e.to_string())?;
    for (k, (roc, _)) in curves.iter().enumerate() {
        let points: Vec<(f64, f64)> = roc.false_positive_rate.iter().copied().zip(roc.true_positive_rate.iter().copied()).collect();
        if k == 0 {
            chart.draw_series(LineSeries::new(points, first)).map_err(|e| e.to_string())?;
        } else {
            let (dash, gap) = (px(&size, 7.0), px(&size, 4.0));
            chart.draw_series(DashedLineSeries::new(points, dash, gap, second)).map_err(|e| e.to_string())?;
        }
    }
    area.present().map_err(|e| e.to_string())
}

/// The significance improvement ε_S/√ε_B against the signal kept, with its maximum marked and the line
/// SIC = 1 (a cut that does not help) dashed.
pub fn sic_curve(canvas: &HtmlCanvasElement, curve: &[(f64, f64)], max: (f64, f64)) -> DrawResult {
    let (area, size) = open(canvas)?;
    let top = curve.iter().fold(1.0f64, |m, p| m.max(p.1)) * 1.1;
    let guess = ShapeStyle::from(&BLIND_GUESS).stroke_width(px(&size, 1.0));
    let style = ShapeStyle::from(&NORMAL).stroke_width(px(&size, 2.5));
    let marker = ShapeStyle::from(&ANOMALOUS).filled();
    let key = [
        ("no improvement (SIC 1)".to_string(), Mark::Dash(guess)),
        (format!("this model (max {:.2})", max.1), Mark::Line(style)),
        ("maximum (triangle)".to_string(), Mark::Triangle(marker)),
    ];
    let area = key_strip(area, &size, &key)?;
    let mut chart = keyed_chart(&area, &size, 44.0)
        .build_cartesian_2d(0f64..1f64, 0f64..top)
        .map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, "signal kept (ε_S)", "SIC = ε_S / √ε_B")?;
    chart
        .draw_series(DashedLineSeries::new(vec![(0.0, 1.0), (1.0, 1.0)], px(&size, 5.0), px(&size, 5.0), guess))
        .map_err(|e| e.to_string())?;
    chart.draw_series(LineSeries::new(curve.iter().copied(), style)).map_err(|e| e.to_string())?;
    chart
        .draw_series(std::iter::once(TriangleMarker::new(max, px(&size, 7.0) as i32, marker)))
        .map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}
