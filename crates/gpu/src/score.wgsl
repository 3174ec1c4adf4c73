// Per-row anomaly score of the VAE: binary cross-entropy between x and the decoder's logits, summed over
// the row (the same overflow-free form as the engine: max(l, 0) − x·l + ln(1 + e^{−|l|})), plus the KL
// term −½ Σ (1 + log σ² − μ² − σ²) when asked. One workgroup per row, reduced in workgroup memory.

struct Dims {
    rows: u32,
    features: u32,
    latent: u32,
    with_kl: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> log_variance: array<f32>;
@group(0) @binding(5) var<storage, read_write> scores: array<f32>;

const WIDTH: u32 = 64u;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    // Rows beyond 65535 use the second dispatch dimension.
    let row = group.x + group.y * 65535u;
    var sum = 0.0;
    if (row < dims.rows) {
        for (var k = lane; k < dims.features; k = k + WIDTH) {
            let l = logits[row * dims.features + k];
            let t = x[row * dims.features + k];
            sum = sum + max(l, 0.0) - t * l + log(1.0 + exp(-abs(l)));
        }
        if (dims.with_kl == 1u) {
            for (var k = lane; k < dims.latent; k = k + WIDTH) {
                let m = mean[row * dims.latent + k];
                let lv = log_variance[row * dims.latent + k];
                sum = sum - 0.5 * (1.0 + lv - m * m - exp(lv));
            }
        }
    }
    partial[lane] = sum;
    workgroupBarrier();
    for (var stride = WIDTH / 2u; stride > 0u; stride = stride / 2u) {
        if (lane < stride) {
            partial[lane] = partial[lane] + partial[lane + stride];
        }
        workgroupBarrier();
    }
    if (lane == 0u && row < dims.rows) {
        scores[row] = partial[0];
    }
}
