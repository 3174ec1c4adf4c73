//! Digits as pictures: an original and its reconstruction, drawn pixel by pixel without smoothing.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use anomaly_engine::data::IMAGE_SIDE;

/// Draws a 28 × 28 digit (bytes, 0 = background) as dark ink on white, filling the canvas.
pub fn draw_digit(canvas: &HtmlCanvasElement, pixels: &[u8]) {
    canvas.set_width(IMAGE_SIDE as u32);
    canvas.set_height(IMAGE_SIDE as u32);
    let Some(context) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let mut rgba = Vec::with_capacity(pixels.len() * 4);
    for &ink in pixels {
        let shade = 255 - ink;
        rgba.extend([shade, shade, shade, 255]);
    }
    if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), IMAGE_SIDE as u32, IMAGE_SIDE as u32) {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}
