//! Canvas plots. Each function draws one figure from plain data; none of them knows about signals or the
//! worker. Colours come from [`palette`], chosen to stay distinguishable with colour-vision deficiencies,
//! and every figure also encodes its meaning in shape, line style or text, never in colour alone.

pub mod canvas;
pub mod charts;
pub mod compare;
pub mod digits;
pub mod events;
pub mod jets;
pub mod palette;
pub mod resonance;
