//! Colour-blind-safe colours.
//!
//! Digit classes use Paul Tol's "muted" scheme (nine colours designed to stay distinct for the common
//! colour-vision deficiencies) plus a dark grey; normal vs anomalous uses the Okabe–Ito blue and
//! vermillion pair. Every plot also marks the classes by glyph or line style.

use plotters::style::RGBColor;

pub const DIGIT_COLOURS: [RGBColor; 10] = [
    RGBColor(0x33, 0x22, 0x88), // indigo
    RGBColor(0x88, 0xCC, 0xEE), // cyan
    RGBColor(0x44, 0xAA, 0x99), // teal
    RGBColor(0x11, 0x77, 0x33), // green
    RGBColor(0x99, 0x99, 0x33), // olive
    RGBColor(0xDD, 0xCC, 0x77), // sand
    RGBColor(0xCC, 0x66, 0x77), // rose
    RGBColor(0x88, 0x22, 0x55), // wine
    RGBColor(0xAA, 0x44, 0x99), // purple
    RGBColor(0x55, 0x55, 0x55), // dark grey
];

pub const NORMAL: RGBColor = RGBColor(0x00, 0x72, 0xB2); // Okabe–Ito blue
pub const ANOMALOUS: RGBColor = RGBColor(0xD5, 0x5E, 0x00); // Okabe–Ito vermillion
pub const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73); // Okabe–Ito bluish green
pub const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7); // Okabe–Ito reddish purple
pub const TEXT: RGBColor = RGBColor(0x1F, 0x23, 0x28);
pub const GRID: RGBColor = RGBColor(0xE3, 0xE6, 0xEA);
pub const BLIND_GUESS: RGBColor = RGBColor(0x80, 0x80, 0x80);
pub const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9); // Okabe–Ito sky blue
pub const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00); // Okabe–Ito orange

/// Curves that share a chart, in order: a colour and whether the line is dashed. Neighbours differ in
/// both, so the curves stay apart in grey print and for any colour vision.
pub const SERIES: [(RGBColor, bool); 7] =
    [(TEXT, true), (NORMAL, false), (ANOMALOUS, true), (GREEN, false), (PURPLE, true), (SKY, false), (ORANGE, true)];

pub fn css(colour: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}
