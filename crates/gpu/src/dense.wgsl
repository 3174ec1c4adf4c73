// Fused dense layer: y = act(x · Wᵀ + b), tiled through workgroup memory.
// x: rows × inputs, W: outputs × inputs (candle's layout), y: rows × outputs. act: 0 none, 1 ReLU.

struct Dims {
    rows: u32,
    inputs: u32,
    outputs: u32,
    activation: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TILE: u32 = 16u;
var<workgroup> x_tile: array<array<f32, 16>, 16>;
var<workgroup> w_tile: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    var acc = 0.0;
    let tiles = (dims.inputs + TILE - 1u) / TILE;
    for (var t = 0u; t < tiles; t = t + 1u) {
        // Each thread loads one element of the x tile and one of the Wᵀ tile; out of range loads are zero.
        let kx = t * TILE + lid.x;
        var xv = 0.0;
        if (row < dims.rows && kx < dims.inputs) {
            xv = x[row * dims.inputs + kx];
        }
        x_tile[lid.y][lid.x] = xv;
        let kw = t * TILE + lid.y;
        var wv = 0.0;
        if (col < dims.outputs && kw < dims.inputs) {
            wv = w[col * dims.inputs + kw];
        }
        w_tile[lid.y][lid.x] = wv;
        workgroupBarrier();
        for (var k = 0u; k < TILE; k = k + 1u) {
            acc = acc + x_tile[lid.y][k] * w_tile[k][lid.x];
        }
        workgroupBarrier();
    }
    if (row < dims.rows && col < dims.outputs) {
        var v = acc + b[col];
        if (dims.activation == 1u) {
            v = max(v, 0.0);
        }
        y[row * dims.outputs + col] = v;
    }
}
