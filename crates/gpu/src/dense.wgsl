// Fused dense layer: y = act(x · W + b), without workgroup memory or barriers.
//
// Each invocation computes a block of 4 rows × 4 outputs in registers: per input k it loads one vec4 of
// weights and one value of each of its 4 rows, and does 4 vec4 multiply-adds. No barriers means no
// stalls on software adapters (SwiftShader, lavapipe), which run invocations as SIMD lanes of CPU
// threads, and on GPUs the vec4 loads of W are shared by the 64 invocations of a workgroup through the
// cache.
//
// Layouts: x is rows × in_stride (only the first `inputs` values of a row are read); W is transposed and
// padded on upload to inputs × out_vecs vec4s, b to out_vecs vec4s (padding is zero, so padding outputs
// come out as zero); y is rows × out_vecs vec4s. act: 0 none, 1 ReLU.

struct Dims {
    rows: u32,
    inputs: u32,
    in_stride: u32,
    out_vecs: u32,
    activation: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r0 = gid.x * 4u;
    let c = gid.y;
    if (r0 >= dims.rows || c >= dims.out_vecs) {
        return;
    }
    // Rows past the end repeat the last row (their results are not written).
    let last = dims.rows - 1u;
    let x0 = r0 * dims.in_stride;
    let x1 = min(r0 + 1u, last) * dims.in_stride;
    let x2 = min(r0 + 2u, last) * dims.in_stride;
    let x3 = min(r0 + 3u, last) * dims.in_stride;
    var a0 = b[c];
    var a1 = a0;
    var a2 = a0;
    var a3 = a0;
    for (var k = 0u; k < dims.inputs; k = k + 1u) {
        let wk = w[k * dims.out_vecs + c];
        a0 = a0 + x[x0 + k] * wk;
        a1 = a1 + x[x1 + k] * wk;
        a2 = a2 + x[x2 + k] * wk;
        a3 = a3 + x[x3 + k] * wk;
    }
    if (dims.activation == 1u) {
        let zero = vec4<f32>(0.0);
        a0 = max(a0, zero);
        a1 = max(a1, zero);
        a2 = max(a2, zero);
        a3 = max(a3, zero);
    }
    y[r0 * dims.out_vecs + c] = a0;
    if (r0 + 1u < dims.rows) { y[(r0 + 1u) * dims.out_vecs + c] = a1; }
    if (r0 + 2u < dims.rows) { y[(r0 + 2u) * dims.out_vecs + c] = a2; }
    if (r0 + 3u < dims.rows) { y[(r0 + 3u) * dims.out_vecs + c] = a3; }
}
