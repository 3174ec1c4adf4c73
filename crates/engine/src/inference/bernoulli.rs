//! The Bernoulli reconstruction error of one row of pixels, Σ_j max(l_j, 0) − x_j·l_j + ln(1 + e^(−|l_j|)),
//! the binary cross-entropy of pixel x_j against the logit l_j, four pixels at a time.
//!
//! libm's `expf` and `log1pf` are one pixel at a time and were a third of the cost of scoring a digit,
//! so `exp` and `log1p` are written here as polynomials that vectorise. In the browser the four lanes are
//! explicit wasm SIMD; elsewhere they are a portable loop doing the same operations in the same order, so
//! the page and the native scorer still agree to the last bit. Both polynomials are accurate to about
//! one part in 10⁷, far inside the 10⁻⁴ the scores are tested to.

const LANES: usize = 4;
/// Below this, e^x is under f32's smallest normal number; `ln(1 + e^x)` is then below 10⁻³⁷ anyway.
const EXP_FLOOR: f32 = -87.0;
/// ln 2 in two parts, so that `x − n·ln 2` loses nothing for the |n| ≤ 126 used here: the first part has
/// few enough mantissa bits that `n · LN2_HIGH` is exact.
const LN2_HIGH: f32 = 0.693_359_4;
const LN2_LOW: f32 = -2.121_944_4e-4;

/// e^x for x in [EXP_FLOOR, 0]: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r from its Taylor series to r⁷
/// (the next term is below 10⁻⁸), and 2ⁿ written straight into the exponent bits.
#[inline(always)]
fn exp_non_positive(x: f32) -> f32 {
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = (x - n * LN2_HIGH) - n * LN2_LOW;
    let p = taylor_exp(r);
    p * f32::from_bits((((n as i32) + 127) << 23) as u32)
}

/// e^r's Taylor coefficients from r⁷ down to r⁰, for Horner's rule.
const EXP_SERIES: [f32; 8] = [1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0];
/// atanh(s)/s as a series in z = s², coefficients from z⁷ down to z⁰.
const ATANH_SERIES: [f32; 8] = [1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0];

#[inline(always)]
fn taylor_exp(r: f32) -> f32 {
    let mut p = EXP_SERIES[0];
    for c in &EXP_SERIES[1..] {
        p = p * r + c;
    }
    p
}

/// ln(1 + t) for t in (0, 1] as 2·atanh(s) with s = t / (2 + t) ≤ 1/3: the odd series of atanh to s¹⁵
/// (the next term is below 10⁻⁸), without the rounding of forming 1 + t first.
#[inline(always)]
fn log1p_unit(t: f32) -> f32 {
    let s = t / (2.0 + t);
    let z = s * s;
    let p = atanh_series(z);
    2.0 * s * p
}

#[inline(always)]
fn atanh_series(z: f32) -> f32 {
    let mut p = ATANH_SERIES[0];
    for c in &ATANH_SERIES[1..] {
        p = p * z + c;
    }
    p
}

/// One pixel's term. `if EXP_FLOOR < x` (rather than `max`) sends a NaN logit to the floor exactly as
/// wasm's `pmax` does; the NaN still reaches the score through `x · l`.
#[inline(always)]
fn pixel(x: f32, l: f32) -> f32 {
    let negative = -l.abs();
    let clamped = if EXP_FLOOR < negative { negative } else { EXP_FLOOR };
    (l.max(0.0) - x * l) + log1p_unit(exp_non_positive(clamped))
}

/// The error of one row: `pixels` and `logits` of the same length.
pub fn row_error(pixels: &[f32], logits: &[f32]) -> f32 {
    assert_eq!(pixels.len(), logits.len());
    let whole = pixels.len() / LANES * LANES;
    let lanes = lane_sums(&pixels[..whole], &logits[..whole]);
    let mut error = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (&x, &l) in pixels[whole..].iter().zip(&logits[whole..]) {
        error += pixel(x, l);
    }
    error
}

/// Per-lane sums over a whole number of groups of [`LANES`] pixels.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn lane_sums(pixels: &[f32], logits: &[f32]) -> [f32; LANES] {
    let mut sums = [0f32; LANES];
    for (xs, ls) in pixels.chunks_exact(LANES).zip(logits.chunks_exact(LANES)) {
        for lane in 0..LANES {
            sums[lane] += pixel(xs[lane], ls[lane]);
        }
    }
    sums
}

/// [`lane_sums`] in explicit wasm SIMD, operation for operation the same as [`pixel`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn lane_sums(pixels: &[f32], logits: &[f32]) -> [f32; LANES] {
    use core::arch::wasm32::*;
    let splat = f32x4_splat;
    let mut sums = splat(0.0);
    for (xs, ls) in pixels.chunks_exact(LANES).zip(logits.chunks_exact(LANES)) {
        // SAFETY: each chunk holds 4 f32s; v128_load allows unaligned addresses.
        let (x, l) = unsafe { (v128_load(xs.as_ptr() as *const v128), v128_load(ls.as_ptr() as *const v128)) };
        let negative = f32x4_neg(f32x4_abs(l));
        let clamped = f32x4_pmax(splat(EXP_FLOOR), negative);
        // e^clamped, as in exp_non_positive
        let n = f32x4_floor(f32x4_add(f32x4_mul(clamped, splat(std::f32::consts::LOG2_E)), splat(0.5)));
        let r = f32x4_sub(f32x4_sub(clamped, f32x4_mul(n, splat(LN2_HIGH))), f32x4_mul(n, splat(LN2_LOW)));
        let mut p = splat(EXP_SERIES[0]);
        for &c in &EXP_SERIES[1..] {
            p = f32x4_add(f32x4_mul(p, r), splat(c));
        }
        let scale = i32x4_shl(i32x4_add(i32x4_trunc_sat_f32x4(n), i32x4_splat(127)), 23);
        let t = f32x4_mul(p, scale);
        // ln(1 + t), as in log1p_unit
        let s = f32x4_div(t, f32x4_add(splat(2.0), t));
        let z = f32x4_mul(s, s);
        let mut q = splat(ATANH_SERIES[0]);
        for &c in &ATANH_SERIES[1..] {
            q = f32x4_add(f32x4_mul(q, z), splat(c));
        }
        let softplus = f32x4_mul(f32x4_mul(splat(2.0), s), q);
        let linear = f32x4_sub(f32x4_pmax(splat(0.0), l), f32x4_mul(x, l));
        sums = f32x4_add(sums, f32x4_add(linear, softplus));
    }
    [f32x4_extract_lane::<0>(sums), f32x4_extract_lane::<1>(sums), f32x4_extract_lane::<2>(sums), f32x4_extract_lane::<3>(sums)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: libm, one pixel at a time, in f64 so that it is the exact value to f32's eyes.
    fn exact(x: f32, l: f32) -> f64 {
        let (x, l) = (x as f64, l as f64);
        l.max(0.0) - x * l + (-l.abs()).exp().ln_1p()
    }

    #[test]
    fn each_pixel_matches_the_exact_cross_entropy() {
        let mut worst = 0f64;
        for k in -20_000..=20_000 {
            let l = k as f32 * 0.01; // logits from −200 to 200, through 0
            for x in [0.0, 0.25, 1.0] {
                let want = exact(x, l);
                let got = pixel(x, l) as f64;
                worst = worst.max((got - want).abs() / want.abs().max(1e-30));
            }
        }
        assert!(worst < 1e-6, "largest relative error {worst:e}");
    }

    #[test]
    fn tiny_softplus_keeps_its_value_instead_of_rounding_to_zero() {
        let got = pixel(0.0, -30.0) as f64;
        assert!((got - exact(0.0, -30.0)).abs() < 1e-6 * exact(0.0, -30.0), "{got:e}");
    }

    #[test]
    fn a_row_sums_its_pixels_and_its_tail() {
        let pixels: Vec<f32> = (0..11).map(|i| (i % 3) as f32 / 2.0).collect();
        let logits: Vec<f32> = (0..11).map(|i| i as f32 - 5.5).collect();
        let want: f64 = pixels.iter().zip(&logits).map(|(&x, &l)| exact(x, l)).sum();
        assert!((row_error(&pixels, &logits) as f64 - want).abs() < 1e-5 * want);
    }

    #[test]
    fn a_nan_logit_gives_a_nan_error() {
        assert!(row_error(&[0.5; 4], &[0.0, f32::NAN, 1.0, 2.0]).is_nan());
    }
}
