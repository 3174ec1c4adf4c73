//! The masked autoregressive flow: its log-density is a normalised density given by the change of
//! variables, sampling inverts it, every parameter learns, and a fitted flow's samples have the data's
//! moments.

use anomaly_engine::flows::{Maf, MafConfig};
use anomaly_engine::method::parameters_without_gradient;
use anomaly_engine::models::init::seeded_init;
use anomaly_engine::rng::SeededRng;
use anomaly_engine::train::{Rollback, Schedule, TrainData, TrainLoop, Training};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};

fn flow(config: MafConfig, seed: u64) -> (Maf, VarMap) {
    let varmap = VarMap::new();
    let maf = Maf::new(config, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
    seeded_init(&varmap, seed).unwrap();
    (maf, varmap)
}

fn named_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let mut vars: Vec<(String, Var)> = varmap.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

fn rows(values: Vec<f32>, columns: usize) -> Tensor {
    let n = values.len() / columns;
    Tensor::from_vec(values, (n, columns), &Device::Cpu).unwrap()
}

fn random_rows(n: usize, columns: usize, seed: u64) -> Tensor {
    let mut rng = SeededRng::new(seed);
    rows((0..n * columns).map(|_| rng.normal()).collect(), columns)
}

fn two_d(hidden: usize) -> MafConfig {
    MafConfig { features: 2, context: 0, blocks: 3, hidden, hidden_layers: 2, max_log_scale: 2.0 }
}

/// A randomly initialised flow in two dimensions integrates to one over the plane.
#[test]
fn the_density_integrates_to_one() {
    let (maf, _) = flow(two_d(16), 3);
    let (n, half_width) = (400, 12.0f32);
    let h = 2.0 * half_width / n as f32;
    let grid: Vec<f32> = (0..n * n)
        .flat_map(|k| [-half_width + (k / n) as f32 * h + h / 2.0, -half_width + (k % n) as f32 * h + h / 2.0])
        .collect();
    let density = maf.log_density(&rows(grid, 2), None).unwrap().exp().unwrap();
    let total = density.sum_all().unwrap().to_scalar::<f32>().unwrap() * h * h;
    assert!((total - 1.0).abs() < 5e-3, "{total}");
}

/// ln p(x) = ln N(z; 0, I) + ln |det ∂z/∂x|, with the determinant from finite differences of the map.
#[test]
fn the_log_density_is_the_change_of_variables() {
    let config = MafConfig { features: 3, context: 1, blocks: 2, hidden: 8, hidden_layers: 1, max_log_scale: 2.0 };
    let (maf, _) = flow(config, 5);
    let context = rows(vec![0.7], 1);
    let point = [0.3f32, -0.8, 1.1];
    let z_of = |p: [f32; 3]| -> Vec<f32> {
        let (z, _) = maf.transform(&rows(p.to_vec(), 3), Some(&context)).unwrap();
        z.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    };
    let eps = 1e-2f32;
    let mut jacobian = [[0f64; 3]; 3];
    for j in 0..3 {
        let (mut up, mut down) = (point, point);
        up[j] += eps;
        down[j] -= eps;
        let (zu, zd) = (z_of(up), z_of(down));
        for i in 0..3 {
            jacobian[i][j] = ((zu[i] - zd[i]) / (2.0 * eps)) as f64;
        }
    }
    let j = jacobian;
    let det = j[0][0] * (j[1][1] * j[2][2] - j[1][2] * j[2][1]) - j[0][1] * (j[1][0] * j[2][2] - j[1][2] * j[2][0])
        + j[0][2] * (j[1][0] * j[2][1] - j[1][1] * j[2][0]);
    let z = z_of(point);
    let expected = -0.5 * z.iter().map(|v| (v * v) as f64).sum::<f64>() - 1.5 * (2.0 * std::f64::consts::PI).ln() + det.abs().ln();
    let got = maf.log_density(&rows(point.to_vec(), 3), Some(&context)).unwrap().to_vec1::<f32>().unwrap()[0] as f64;
    assert!((got - expected).abs() < 2e-3, "{got} against {expected}");
}

/// With every weight zero, each feature is N(μ_i, e^(2α_i)) for the output biases: the log-density is that
/// of independent normals.
#[test]
fn a_flow_of_biases_alone_is_a_product_of_normals() {
    let config = MafConfig { features: 2, context: 0, blocks: 1, hidden: 4, hidden_layers: 1, max_log_scale: 3.0 };
    let (maf, varmap) = flow(config, 1);
    for (name, var) in named_vars(&varmap) {
        let zeros = var.zeros_like().unwrap();
        var.set(&zeros).unwrap();
        if name == "block0.output.bias" {
            // Shifts (μ₁, μ₂), then raw log-scales; α = 3·tanh(a/3).
            var.set(&Tensor::new(&[0.5f32, -1.0, 0.3, -0.6], &Device::Cpu).unwrap()).unwrap();
        }
    }
    let alpha = |a: f64| 3.0 * (a / 3.0).tanh();
    let log_normal = |x: f64, mean: f64, log_sigma: f64| -0.5 * ((x - mean) / log_sigma.exp()).powi(2) - log_sigma - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let x = [1.2f64, 0.4];
    let expected = log_normal(x[0], 0.5, alpha(0.3)) + log_normal(x[1], -1.0, alpha(-0.6));
    let got = maf.log_density(&rows(vec![x[0] as f32, x[1] as f32], 2), None).unwrap().to_vec1::<f32>().unwrap()[0] as f64;
    assert!((got - expected).abs() < 1e-5, "{got} against {expected}");
}

#[test]
fn sampling_inverts_the_flow() {
    let config = MafConfig { features: 4, context: 1, blocks: 4, hidden: 16, hidden_layers: 2, max_log_scale: 2.0 };
    let (maf, _) = flow(config, 7);
    let z = random_rows(50, 4, 2);
    let context = random_rows(50, 1, 3);
    let x = maf.inverse(&z, Some(&context)).unwrap();
    let (back, _) = maf.transform(&x, Some(&context)).unwrap();
    let gap = (back - &z).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    assert!(gap < 1e-4, "{gap}");
}

#[test]
fn every_parameter_receives_a_gradient() {
    let config = MafConfig { features: 4, context: 1, blocks: 3, hidden: 16, hidden_layers: 2, max_log_scale: 2.0 };
    let (maf, varmap) = flow(config, 9);
    let batch = random_rows(64, 5, 4);
    let missing = parameters_without_gradient(&maf, &named_vars(&varmap), &batch, 1).unwrap();
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn the_context_changes_the_density() {
    let config = MafConfig { features: 2, context: 1, blocks: 2, hidden: 8, hidden_layers: 2, max_log_scale: 2.0 };
    let (maf, _) = flow(config, 2);
    let x = rows(vec![0.2, -0.4], 2);
    let at = |c: f32| maf.log_density(&x, Some(&rows(vec![c], 1))).unwrap().to_vec1::<f32>().unwrap()[0];
    assert!((at(-1.0) - at(1.0)).abs() > 1e-3);
}

/// Means, spreads and correlation of two-dimensional points.
fn moments(points: &[[f64; 2]], weights: Option<&[f64]>) -> ([f64; 2], [f64; 2], f64) {
    let w = |k: usize| weights.map_or(1.0, |w| w[k]);
    let total: f64 = (0..points.len()).map(w).sum();
    let mean = [0, 1].map(|i| points.iter().enumerate().map(|(k, p)| w(k) * p[i]).sum::<f64>() / total);
    let cov = |i: usize, j: usize| points.iter().enumerate().map(|(k, p)| w(k) * (p[i] - mean[i]) * (p[j] - mean[j])).sum::<f64>() / total;
    (mean, [cov(0, 0).sqrt(), cov(1, 1).sqrt()], cov(0, 1) / (cov(0, 0) * cov(1, 1)).sqrt())
}

/// Fitted by the training loop (AdamW, gradient-norm clipping) to a correlated, shifted two-dimensional
/// normal, the flow learns the data's moments roughly, and its samples have its own density's moments
/// (computed on a grid) closely: sampling and the density are the same distribution.
#[test]
fn a_fitted_flow_samples_with_the_moments_of_its_density() {
    let mut rng = SeededRng::new(21);
    let data: Vec<f32> = (0..4000)
        .flat_map(|_| {
            let (a, b) = (rng.normal(), rng.normal());
            [1.0 + 0.5 * a, -2.0 + 0.8 * (0.8 * a + 0.6 * b)]
        })
        .collect();
    let (maf, varmap) = flow(two_d(32), 4);
    let vars: Vec<Var> = named_vars(&varmap).into_iter().map(|(_, v)| v).collect();
    let train = TrainData { features: 2, likelihood: Default::default(), train: data.clone(), validation: vec![] };
    let schedule = Schedule {
        batch_size: 128,
        epochs: 25,
        learning_rate: 2e-3,
        seed: 1,
        streams: ("flow-batches", "flow-noise"),
        weight_decay: 1e-4,
        max_gradient_norm: Some(5.0),
        final_learning_rate: None,
    };
    let mut run = TrainLoop::new(maf.clone(), vars, train, schedule, Rollback::LastStep).unwrap();
    while !run.is_finished() {
        run.step().unwrap();
    }

    let (n, low, high) = (300, [-2.0f32, -6.0], [4.0f32, 2.0]);
    let cell = [0, 1].map(|i| (high[i] - low[i]) / n as f32);
    let grid: Vec<[f64; 2]> = (0..n * n)
        .map(|k| [0, 1].map(|i| (low[i] + ((if i == 0 { k / n } else { k % n }) as f32 + 0.5) * cell[i]) as f64))
        .collect();
    let flat: Vec<f32> = grid.iter().flat_map(|p| [p[0] as f32, p[1] as f32]).collect();
    let density: Vec<f64> = maf.log_density(&rows(flat, 2), None).unwrap().exp().unwrap().to_vec1::<f32>().unwrap().into_iter().map(f64::from).collect();
    let mass: f64 = density.iter().sum::<f64>() * (cell[0] * cell[1]) as f64;
    assert!((mass - 1.0).abs() < 0.01, "the fitted density's mass on the grid: {mass}");
    let (density_mean, density_spread, density_correlation) = moments(&grid, Some(&density));

    let samples: Vec<[f64; 2]> = maf.sample(20_000, None, &mut SeededRng::new(5)).unwrap().to_vec2::<f32>().unwrap().iter().map(|p| [p[0] as f64, p[1] as f64]).collect();
    let (sample_mean, sample_spread, sample_correlation) = moments(&samples, None);
    let data_points: Vec<[f64; 2]> = data.chunks(2).map(|p| [p[0] as f64, p[1] as f64]).collect();
    let (data_mean, data_spread, data_correlation) = moments(&data_points, None);
    for i in 0..2 {
        assert!((density_mean[i] - sample_mean[i]).abs() < 0.02, "mean {i}: density {density_mean:?}, samples {sample_mean:?}");
        assert!((density_spread[i] / sample_spread[i] - 1.0).abs() < 0.03, "spread {i}: density {density_spread:?}, samples {sample_spread:?}");
        assert!((data_mean[i] - sample_mean[i]).abs() < 0.15 * data_spread[i], "mean {i}: data {data_mean:?}, samples {sample_mean:?}");
        assert!((data_spread[i] / sample_spread[i] - 1.0).abs() < 0.1, "spread {i}: data {data_spread:?}, samples {sample_spread:?}");
    }
    assert!((density_correlation - sample_correlation).abs() < 0.02, "correlation: density {density_correlation}, samples {sample_correlation}");
    assert!((data_correlation - sample_correlation).abs() < 0.06, "correlation: data {data_correlation}, samples {sample_correlation}");
}
