//! The comparison of methods on one table: their ROC curves on one chart, each in its own colour and
//! line style (the SIC curves use `resonance::sic_curves`, in the same styles).

use anomaly_engine::metrics::Roc;
use plotters::prelude::*;
use web_sys::HtmlCanvasElement;

use super::charts::{draw_axes, key_strip, keyed_chart, open, px, ClassNames, DrawResult, Mark};
use super::palette::{BLIND_GUESS, SERIES};

/// Each method's ROC curve, labelled, with the diagonal of a blind guess.
pub fn roc_overlay(canvas: &HtmlCanvasElement, curves: &[(String, &Roc)], names: &ClassNames) -> DrawResult {
    let (area, size) = open(canvas)?;
    let guess = ShapeStyle::from(&BLIND_GUESS).stroke_width(px(&size, 1.0));
    let styles: Vec<(ShapeStyle, bool)> =
        SERIES.iter().map(|&(c, dashed)| (ShapeStyle::from(&c).stroke_width(px(&size, if dashed { 2.0 } else { 2.5 })), dashed)).collect();
    let mut key = vec![("blind guess".to_string(), Mark::Dash(guess))];
    for (k, (label, _)) in curves.iter().enumerate() {
        let (style, dashed) = styles[k % styles.len()];
        key.push((label.clone(), if dashed { Mark::Dash(style) } else { Mark::Line(style) }));
    }
    let area = key_strip(area, &size, &key)?;
    let mut chart = keyed_chart(&area, &size, 44.0).build_cartesian_2d(0f64..1f64, 0f64..1f64).map_err(|e| e.to_string())?;
    draw_axes(&mut chart, &size, names.flagged, names.found)?;
    chart
        .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], px(&size, 5.0), px(&size, 5.0), guess))
        .map_err(|e| e.to_string())?;
    for (k, (_, roc)) in curves.iter().enumerate() {
        let (style, dashed) = styles[k % styles.len()];
        let points: Vec<(f64, f64)> = roc.false_positive_rate.iter().copied().zip(roc.true_positive_rate.iter().copied()).collect();
        if dashed {
            chart.draw_series(DashedLineSeries::new(points, px(&size, 7.0), px(&size, 4.0), style)).map_err(|e| e.to_string())?;
        } else {
            chart.draw_series(LineSeries::new(points, style)).map_err(|e| e.to_string())?;
        }
    }
    area.present().map_err(|e| e.to_string())
}
