//! Sizing a canvas for the screen it is on.
//!
//! A canvas has a CSS size (how large it looks) and a bitmap size (how many pixels it holds). On a
//! high-density screen the bitmap must be `devicePixelRatio` times larger or the figure looks blurred,
//! so every plot draws in device pixels and scales its fonts and line widths by the same factor.

use web_sys::HtmlCanvasElement;

/// The canvas's size in device pixels and the device-pixel ratio to scale text and lines by.
pub struct CanvasSize {
    pub width: u32,
    pub height: u32,
    pub scale: f64,
}

pub fn fit_to_screen(canvas: &HtmlCanvasElement) -> CanvasSize {
    let scale = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).clamp(1.0, 4.0);
    let css_width = canvas.client_width().max(200) as f64;
    let css_height = canvas.client_height().max(150) as f64;
    let width = (css_width * scale).round() as u32;
    let height = (css_height * scale).round() as u32;
    if canvas.width() != width {
        canvas.set_width(width);
    }
    if canvas.height() != height {
        canvas.set_height(height);
    }
    CanvasSize { width, height, scale }
}
