//! One dense layer of the fused scorer: `out = bias + Σ_i input[i] · W[i]`, optionally ReLU'd, for a batch
//! of rows, in groups of a few rows.
//!
//! Outputs go in tiles of a few SIMD vectors ([`Shape`]): for each group of R rows, R × V accumulators
//! stay in registers for the whole loop over inputs. The weights are stored tile by tile: the weights of
//! one tile are one contiguous run of `inputs × width` values, read front to back. The loop over inputs runs only over the `active` ones, those not zero in every row of
//! the group. Skipping an input that is zero skips adding `0 · w`, which changes no sum, so it changes no
//! score; on digits it skips most of the work (blank pixels, and the hidden units ReLU switched off).

use crate::models::DenseWeights;

/// f32 lanes in one SIMD vector (wasm `simd128`, SSE).
pub const LANES: usize = 4;
/// How a layer's work is cut: R rows share each load of a weight vector, and tiles are V vectors of
/// outputs wide. R × V accumulators plus R inputs and one weight must fit in the 16 SIMD registers of
/// x86-64, which is what wasm runs on in most browsers, so R × V is 8.
///
/// Groups of fewer rows skip more inputs (an input is skipped only when it is zero in every row of the
/// group) but use each weight loaded fewer times. Wide layers (many outputs) gain from skipping, so they
/// take groups of two. Narrow layers take groups of four: in pairs, a narrow layer would look for zeros
/// that are rarely there, and its last tile (one vector) would keep only two chains of additions going
/// (the README's benchmark section has the measurements behind this choice).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// 4 rows × 2 vectors.
    Narrow,
    /// 2 rows × 4 vectors.
    Wide,
}

impl Shape {
    /// Layers with at least this many outputs (two whole tiles of [`Shape::Wide`]) are wide.
    const WIDE_FROM: usize = 32;

    fn rows(self) -> usize {
        match self {
            Shape::Narrow => 4,
            Shape::Wide => 2,
        }
    }

    fn tile_vectors(self) -> usize {
        match self {
            Shape::Narrow => 2,
            Shape::Wide => 4,
        }
    }
}

/// Every group size of [`Shape`] divides this: a batch's rows are padded to a multiple of it.
pub const GROUP_ROWS_LCM: usize = 4;

#[derive(Clone, Debug)]
pub struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    /// `outputs` rounded up to whole vectors: the row stride of this layer's output buffer.
    pub padded: usize,
    shape: Shape,
    /// Tile after tile, the tile of outputs `o0 .. o0 + width` as `inputs × width` values from
    /// `o0 · inputs` on.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Dense {
    pub fn new(layer: &DenseWeights) -> Self {
        let padded = layer.outputs.div_ceil(LANES) * LANES;
        let shape = if layer.outputs >= Shape::WIDE_FROM { Shape::Wide } else { Shape::Narrow };
        let (transposed, bias) = layer.transposed_padded(padded);
        let mut weight = Vec::with_capacity(transposed.len());
        let tile = shape.tile_vectors() * LANES;
        for o0 in (0..padded).step_by(tile) {
            let width = (padded - o0).min(tile);
            for i in 0..layer.inputs {
                weight.extend_from_slice(&transposed[i * padded + o0..][..width]);
            }
        }
        Self { inputs: layer.inputs, outputs: layer.outputs, padded, shape, weight, bias }
    }

    /// Rows per group: [`Active::find`] must group the rows of this layer's input the same way.
    pub fn group_rows(&self) -> usize {
        self.shape.rows()
    }

    /// For `active.groups()` groups of [`Self::group_rows`] rows of `input` (rows `in_stride` apart,
    /// groups one after the other), writes this layer's outputs [`Self::padded`] apart into `out`.
    /// Padding outputs come out as zero. Each group's sum runs over its own active inputs only (see [`Active`]).
    ///
    /// The loop over tiles of outputs is the outer one: one tile of weights (`inputs × 4·V` values) is
    /// read from memory once and then used by every group while it sits in the nearest cache. The digit
    /// model's weights (1.6 MB) fit in no core's fast cache, and reading them once per group instead
    /// made scoring wait on memory.
    pub fn forward(&self, input: &[f32], in_stride: usize, active: &Active, out: &mut [f32], relu: bool) {
        assert_eq!(active.group_rows, self.group_rows(), "inputs grouped as this layer groups them");
        match self.shape {
            Shape::Narrow => self.forward_in::<4, 2>(input, in_stride, active, out, relu),
            Shape::Wide => self.forward_in::<2, 4>(input, in_stride, active, out, relu),
        }
    }

    #[inline(always)]
    fn forward_in<const ROWS: usize, const TILE_VECTORS: usize>(&self, input: &[f32], in_stride: usize, active: &Active, out: &mut [f32], relu: bool) {
        let groups = active.groups();
        assert!(groups == 0 || input.len() >= (groups * ROWS - 1) * in_stride + self.inputs);
        assert!(out.len() >= groups * ROWS * self.padded);
        assert!(active.indices.iter().all(|&i| (i as usize) < self.inputs));
        assert!(self.weight.len() >= self.inputs * self.padded && self.bias.len() >= self.padded);
        let whole = self.padded / (TILE_VECTORS * LANES) * (TILE_VECTORS * LANES);
        let block = |g: usize| Block {
            dense: self,
            input: &input[g * ROWS * in_stride..],
            in_stride,
            active: active.of(g),
            every_input: active.every_input,
            relu,
        };
        for o0 in (0..whole).step_by(TILE_VECTORS * LANES) {
            for g in 0..groups {
                block(g).tile::<ROWS, TILE_VECTORS>(o0, &mut out[g * ROWS * self.padded..]);
            }
        }
        // The last, narrower tile, so that no layer pays for more than 3 padding outputs.
        const { assert!(TILE_VECTORS <= 8, "the last tile is matched on 1 to 7 vectors") };
        for g in 0..groups {
            let (layer, out) = (block(g), &mut out[g * ROWS * self.padded..]);
            match (self.padded - whole) / LANES {
                0 => {}
                1 => layer.tile::<ROWS, 1>(whole, out),
                2 => layer.tile::<ROWS, 2>(whole, out),
                3 => layer.tile::<ROWS, 3>(whole, out),
                4 => layer.tile::<ROWS, 4>(whole, out),
                5 => layer.tile::<ROWS, 5>(whole, out),
                6 => layer.tile::<ROWS, 6>(whole, out),
                _ => layer.tile::<ROWS, 7>(whole, out),
            }
        }
    }
}

/// For each group of rows, the inputs that are not zero in at least one of its rows: the only
/// ones whose weights the group needs. A NaN is not zero, so it still reaches the sum and the score.
#[derive(Debug, Default)]
pub struct Active {
    indices: Vec<u32>,
    /// Group g's inputs are `indices[ends[g - 1] .. ends[g]]`, unless `every_input` is set.
    ends: Vec<usize>,
    /// Set when looking for zeros was not worth it: every group then uses all of `indices`.
    every_input: bool,
    groups: usize,
    group_rows: usize,
}

impl Active {
    /// Finds the active inputs among the first `inputs` of each of the `rows` rows of `input` (rows
    /// `in_stride` apart), for the groups of rows of the layer `consumer` that reads them (its group
    /// size must divide `rows`).
    ///
    /// Looking is a pass over every input of every row, which costs as much as a layer with few outputs
    /// spends on an input, so a [`Shape::Narrow`] layer never looks: an input is rarely zero in all four
    /// rows of its groups, and skipping one would save only a few multiplications, while looking costs
    /// about as much as the layer's own work on that input. For a wide layer, when the first group could skip
    /// fewer than one input in eight (a table of measured values, which are rarely exactly zero), the
    /// rest of the batch does not look either.
    pub fn find(&mut self, input: &[f32], in_stride: usize, inputs: usize, rows: usize, consumer: &Dense) {
        let group_rows = consumer.group_rows();
        assert!(rows.is_multiple_of(group_rows), "whole groups");
        self.indices.clear();
        self.ends.clear();
        self.groups = rows / group_rows;
        self.group_rows = group_rows;
        self.every_input = consumer.shape == Shape::Narrow;
        if self.every_input {
            self.indices.extend(0..inputs as u32);
            return;
        }
        for g in 0..self.groups {
            let first = g * group_rows * in_stride;
            for i in 0..inputs {
                if (0..group_rows).any(|r| input[first + r * in_stride + i] != 0.0) {
                    self.indices.push(i as u32);
                }
            }
            self.ends.push(self.indices.len());
            if g == 0 && inputs - self.indices.len() < inputs.div_ceil(8) {
                self.every_input = true;
                self.indices.clear();
                self.indices.extend(0..inputs as u32);
                return;
            }
        }
    }

    fn groups(&self) -> usize {
        self.groups
    }

    fn of(&self, g: usize) -> &[u32] {
        if self.every_input {
            return &self.indices;
        }
        let start = if g == 0 { 0 } else { self.ends[g - 1] };
        &self.indices[start..self.ends[g]]
    }
}

/// One call of [`Dense::forward`]: the layer and the block's inputs.
struct Block<'a> {
    dense: &'a Dense,
    input: &'a [f32],
    in_stride: usize,
    active: &'a [u32],
    /// `active` is every input in order: the SIMD loop then counts instead of reading indices.
    #[cfg_attr(not(all(target_arch = "wasm32", target_feature = "simd128")), allow(dead_code))]
    every_input: bool,
    relu: bool,
}

impl Block<'_> {
    /// Outputs `o0 .. o0 + 4·V` of every row. In the browser the loop is explicit SIMD, so its speed
    /// does not depend on the optimiser (the page is built for size); elsewhere the portable loop does
    /// the same arithmetic in the same order, so the scores are bit for bit the same.
    #[inline(always)]
    fn tile<const R: usize, const V: usize>(&self, o0: usize, out: &mut [f32]) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        return self.tile_simd::<R, V>(o0, out);
        #[allow(unreachable_code)]
        self.tile_portable::<R, V>(o0, out)
    }

    #[allow(dead_code)]
    fn tile_portable<const R: usize, const V: usize>(&self, o0: usize, out: &mut [f32]) {
        let Dense { padded, weight, bias, .. } = self.dense;
        let vector = |values: &[f32], at: usize| -> [f32; LANES] { values[at..at + LANES].try_into().expect("4 lanes") };
        let mut acc = [std::array::from_fn::<_, V, _>(|v| vector(bias, o0 + LANES * v)); R];
        for &i in self.active {
            let i = i as usize;
            let w: [[f32; LANES]; V] = std::array::from_fn(|v| vector(weight, o0 * self.dense.inputs + i * LANES * V + LANES * v));
            for (r, row) in acc.iter_mut().enumerate() {
                let x = self.input[r * self.in_stride + i];
                for (a, wv) in row.iter_mut().zip(&w) {
                    for (lane, &wj) in a.iter_mut().zip(wv) {
                        *lane += x * wj;
                    }
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (v, a) in row.iter().enumerate() {
                let target = &mut out[r * padded + o0 + LANES * v..][..LANES];
                for (t, &value) in target.iter_mut().zip(a) {
                    *t = if self.relu { value.max(0.0) } else { value };
                }
            }
        }
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    fn tile_simd<const R: usize, const V: usize>(&self, o0: usize, out: &mut [f32]) {
        use core::arch::wasm32::*;
        /// Four f32s from `values[at..]` as one vector (bounds-checked, then one 16-byte load).
        #[inline(always)]
        fn load(values: &[f32], at: usize) -> v128 {
            let v = &values[at..at + LANES];
            // SAFETY: `v` holds 4 f32s; v128_load allows unaligned addresses.
            unsafe { v128_load(v.as_ptr() as *const v128) }
        }
        let Dense { padded, weight, bias, .. } = self.dense;
        let mut acc = [std::array::from_fn::<_, V, _>(|v| load(bias, o0 + LANES * v)); R];
        // The loop below is the whole cost of scoring, and a bounds check per load would double its
        // instructions: `forward` has checked every index it can form (every active input is inside every
        // row, and the tile was sliced to its `inputs × 4·V` weights), so it reads through raw pointers.
        let rows: [*const f32; R] = std::array::from_fn(|r| self.input[r * self.in_stride..].as_ptr());
        let tile = weight[o0 * self.dense.inputs..][..self.dense.inputs * LANES * V].as_ptr();
        let mut step = |i: usize| {
            // SAFETY: i < inputs, so row r's input i and the tile's weights i·4V .. (i + 1)·4V are in
            // bounds (the tile was sliced to inputs·4V above).
            let x: [v128; R] = std::array::from_fn(|r| unsafe { v128_load32_splat(rows[r].add(i) as *const u32) });
            let w = unsafe { tile.add(i * LANES * V) };
            // Each weight vector is loaded just before its use, so that only R·V accumulators, R inputs
            // and one weight are live: V8 then keeps them all in registers.
            for v in 0..V {
                // SAFETY: as above; v128_load allows unaligned addresses.
                let wv = unsafe { v128_load(w.add(LANES * v) as *const v128) };
                for r in 0..R {
                    acc[r][v] = f32x4_add(acc[r][v], f32x4_mul(x[r], wv));
                }
            }
        };
        // Counting saves reading an index and scaling it for every input (about a tenth of the
        // table model's time in V8).
        if self.every_input {
            for i in 0..self.dense.inputs {
                step(i);
            }
        } else {
            for &i in self.active {
                step(i as usize);
            }
        }
        let zero = f32x4_splat(0.0);
        for (r, row) in acc.iter().enumerate() {
            for (v, &a) in row.iter().enumerate() {
                // pmax(0, a) is `0 < a ? a : 0`: `a.max(0.0)` for every a, NaN included (both give 0).
                let value = if self.relu { f32x4_pmax(zero, a) } else { a };
                let target = &mut out[r * padded + o0 + LANES * v..][..LANES];
                // SAFETY: `target` holds 4 f32s; v128_store allows unaligned addresses.
                unsafe { v128_store(target.as_mut_ptr() as *mut v128, value) };
            }
        }
    }
}
