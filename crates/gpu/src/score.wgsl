// Per-row anomaly score of the VAE, the same formulas as the engine's CPU path:
//  * pixels (Bernoulli): binary cross-entropy between x and the decoder's logits l, summed over the row,
//    in the overflow-free form max(l, 0) − x·l + ln(1 + e^{−|l|});
//  * standardised features (Gaussian): ½ Σ (x − x̂)², where the decoder's output is x̂ itself;
// plus the KL term −½ Σ (1 + log σ² − μ² − σ²) when asked.
//
// One invocation per row, no barriers. x has `features` values per row; the decoder's output and the
// latent buffers are padded to whole vec4s (out_stride and latent_stride floats per row).

struct Dims {
    rows: u32,
    features: u32,
    out_stride: u32,
    latent: u32,
    latent_stride: u32,
    with_kl: u32,
    gaussian: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> log_variance: array<f32>;
@group(0) @binding(5) var<storage, read_write> scores: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    // Rows beyond 65535 workgroups use the second dispatch dimension.
    let row = gid.x + gid.y * 65535u * 64u;
    if (row >= dims.rows) {
        return;
    }
    let xs = row * dims.features;
    let os = row * dims.out_stride;
    var sum = 0.0;
    if (dims.gaussian == 1u) {
        for (var k = 0u; k < dims.features; k = k + 1u) {
            let d = x[xs + k] - out[os + k];
            sum = sum + d * d;
        }
        sum = 0.5 * sum;
    } else {
        for (var k = 0u; k < dims.features; k = k + 1u) {
            let l = out[os + k];
            sum = sum + max(l, 0.0) - x[xs + k] * l + log(1.0 + exp(-abs(l)));
        }
    }
    if (dims.with_kl == 1u) {
        let ls = row * dims.latent_stride;
        var kl = 0.0;
        for (var k = 0u; k < dims.latent; k = k + 1u) {
            let m = mean[ls + k];
            let lv = log_variance[ls + k];
            kl = kl + 1.0 + lv - m * m - exp(lv);
        }
        sum = sum - 0.5 * kl;
    }
    scores[row] = sum;
}
