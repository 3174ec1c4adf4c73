//! A two-dimensional view of the latent space: the first two principal components of the latent means.
//!
//! With 16 latent dimensions, plotting two raw coordinates hides most of the structure; the two directions
//! of largest variance show it best. Found by power iteration on the small (latent × latent) covariance.

/// Projects row-major `points` (`dims` values per row) onto their two principal components.
/// Returns the projected (x, y) pairs and the fraction of the total variance each axis explains.
pub fn principal_plane(points: &[f32], dims: usize) -> (Vec<(f32, f32)>, [f32; 2]) {
    let n = if dims == 0 { 0 } else { points.len() / dims };
    if n == 0 {
        return (Vec::new(), [0.0, 0.0]);
    }
    let mut mean = vec![0.0f64; dims];
    for row in points.chunks(dims) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64 / n as f64;
        }
    }
    let mut covariance = vec![0.0f64; dims * dims];
    for row in points.chunks(dims) {
        for i in 0..dims {
            let di = row[i] as f64 - mean[i];
            for j in 0..dims {
                covariance[i * dims + j] += di * (row[j] as f64 - mean[j]) / n as f64;
            }
        }
    }
    let total_variance: f64 = (0..dims).map(|i| covariance[i * dims + i]).sum();
    let mut axes: Vec<Vec<f64>> = Vec::new();
    let mut explained = [0.0f32; 2];
    for (k, share) in explained.iter_mut().enumerate().take(dims.min(2)) {
        // Deterministic start that is not orthogonal to any axis in practice.
        let mut v: Vec<f64> = (0..dims).map(|i| 1.0 + 0.1 * ((i + 3 * k) % 7) as f64).collect();
        let mut eigenvalue = 0.0;
        for _ in 0..200 {
            let mut next: Vec<f64> = (0..dims).map(|i| (0..dims).map(|j| covariance[i * dims + j] * v[j]).sum()).collect();
            // Remove the components along axes already found (deflation by projection).
            for axis in &axes {
                let dot: f64 = next.iter().zip(axis).map(|(a, b)| a * b).sum();
                for (x, a) in next.iter_mut().zip(axis) {
                    *x -= dot * a;
                }
            }
            let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm < 1e-30 {
                break;
            }
            eigenvalue = norm;
            v = next.into_iter().map(|x| x / norm).collect();
        }
        *share = if total_variance > 0.0 { (eigenvalue / total_variance) as f32 } else { 0.0 };
        axes.push(v);
    }
    let project = |row: &[f32], axis: Option<&Vec<f64>>| -> f32 {
        axis.map_or(0.0, |a| row.iter().zip(&mean).zip(a).map(|((&x, m), a)| (x as f64 - m) * a).sum::<f64>() as f32)
    };
    let projected = points.chunks(dims).map(|row| (project(row, axes.first()), project(row, axes.get(1)))).collect();
    (projected, explained)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_direction_of_largest_spread() {
        // Points spread along (1, 1, 0) strongly and along (0, 0, 1) weakly.
        let mut points = Vec::new();
        for i in 0..100 {
            let t = i as f32 / 10.0 - 5.0;
            let s = if i % 2 == 0 { 0.5 } else { -0.5 };
            points.extend([t, t, s]);
        }
        let (projected, explained) = principal_plane(&points, 3);
        assert_eq!(projected.len(), 100);
        assert!(explained[0] > 0.95, "{explained:?}");
        assert!(explained[0] + explained[1] > 0.999, "{explained:?}");
        // The first coordinate follows t − mean(t) = t + 0.05 (up to sign), along a unit vector: × √2.
        let ratio = projected[99].0 / (4.95 * 2f32.sqrt());
        assert!((ratio.abs() - 1.0).abs() < 1e-3, "{ratio}");
    }
}
