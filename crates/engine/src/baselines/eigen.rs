//! Eigenvalues and eigenvectors of a real symmetric matrix: Householder reduction to tridiagonal form,
//! then the QL algorithm with implicit shifts (the classical EISPACK route, O(n³), stable). PCA needs it
//! for the covariance matrix; written here rather than pulling a linear-algebra crate into the page.

/// Eigen-pairs of the symmetric `n × n` matrix `a` (row-major), largest eigenvalue first; vector `i`
/// is `vectors[i * n..][..n]`, of unit length.
pub(crate) fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(a.len(), n * n);
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let mut v = a.to_vec();
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n];
    tridiagonalise(&mut v, &mut d, &mut e, n);
    diagonalise(&mut v, &mut d, &mut e, n);
    // Columns of v are the eigenvectors; hand them back as rows, largest eigenvalue first.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| d[y].total_cmp(&d[x]));
    let values = order.iter().map(|&i| d[i]).collect();
    let mut vectors = vec![0.0; n * n];
    for (row, &i) in order.iter().enumerate() {
        for k in 0..n {
            vectors[row * n + k] = v[k * n + i];
        }
    }
    (values, vectors)
}

/// Householder reduction of the symmetric matrix in `v` to a tridiagonal one (diagonal `d`,
/// sub-diagonal `e[1..]`), leaving the accumulated orthogonal transformation in `v`.
fn tridiagonalise(v: &mut [f64], d: &mut [f64], e: &mut [f64], n: usize) {
    let at = |r: usize, c: usize| r * n + c;
    for j in 0..n {
        d[j] = v[at(n - 1, j)];
    }
    for i in (1..n).rev() {
        let scale: f64 = d[..i].iter().map(|x| x.abs()).sum();
        let mut h = 0.0;
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
                v[at(j, i)] = 0.0;
            }
        } else {
            for k in 0..i {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            let f = d[i - 1];
            let g = if f > 0.0 { -h.sqrt() } else { h.sqrt() };
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            e[..i].fill(0.0);
            for j in 0..i {
                let f = d[j];
                v[at(j, i)] = f;
                let mut g = e[j] + v[at(j, j)] * f;
                for k in j + 1..i {
                    g += v[at(k, j)] * d[k];
                    e[k] += v[at(k, j)] * f;
                }
                e[j] = g;
            }
            let mut f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                let (f, g) = (d[j], e[j]);
                for k in j..i {
                    v[at(k, j)] -= f * e[k] + g * d[k];
                }
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
            }
        }
        d[i] = h;
    }
    // Accumulate the transformations.
    for i in 0..n - 1 {
        v[at(n - 1, i)] = v[at(i, i)];
        v[at(i, i)] = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = v[at(k, i + 1)] / h;
            }
            for j in 0..=i {
                let mut g = 0.0;
                for k in 0..=i {
                    g += v[at(k, i + 1)] * v[at(k, j)];
                }
                for k in 0..=i {
                    v[at(k, j)] -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            v[at(k, i + 1)] = 0.0;
        }
    }
    for j in 0..n {
        d[j] = v[at(n - 1, j)];
        v[at(n - 1, j)] = 0.0;
    }
    v[at(n - 1, n - 1)] = 1.0;
    e[0] = 0.0;
}

/// The QL algorithm with implicit shifts on the tridiagonal matrix (`d`, `e`), rotating `v` along.
fn diagonalise(v: &mut [f64], d: &mut [f64], e: &mut [f64], n: usize) {
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let mut f = 0.0;
    let mut largest = 0.0f64;
    let eps = f64::EPSILON;
    for l in 0..n {
        largest = largest.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n - 1 && e[m].abs() > eps * largest {
            m += 1;
        }
        if m > l {
            for _ in 0..64 {
                let g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let h = g - d[l];
                for x in &mut d[l + 2..n] {
                    *x -= h;
                }
                f += h;
                p = d[m];
                let (mut c, mut c2, mut c3) = (1.0, 1.0, 1.0);
                let el1 = e[l + 1];
                let (mut s, mut s2) = (0.0, 0.0);
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    let g = c * e[i];
                    let h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    for k in 0..n {
                        let row = k * n;
                        let h = v[row + i + 1];
                        v[row + i + 1] = s * v[row + i] + c * h;
                        v[row + i] = c * v[row + i] - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * largest {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(a: &[f64], n: usize) {
        let (values, vectors) = symmetric_eigen(a, n);
        for i in 0..n {
            let x = &vectors[i * n..][..n];
            let norm: f64 = x.iter().map(|v| v * v).sum();
            assert!((norm - 1.0).abs() < 1e-10);
            for r in 0..n {
                let ax: f64 = (0..n).map(|c| a[r * n + c] * x[c]).sum();
                assert!((ax - values[i] * x[r]).abs() < 1e-9, "A x ≠ λ x for pair {i}");
            }
            if i > 0 {
                assert!(values[i - 1] >= values[i]);
            }
        }
    }

    #[test]
    fn a_known_two_by_two() {
        let (values, _) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((values[0] - 3.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn random_symmetric_matrices() {
        let mut rng = crate::rng::SeededRng::new(5);
        for n in [1usize, 3, 7, 20] {
            let mut a = vec![0.0; n * n];
            for r in 0..n {
                for c in 0..=r {
                    let x = rng.normal_f64();
                    a[r * n + c] = x;
                    a[c * n + r] = x;
                }
            }
            check(&a, n);
        }
        // A diagonal matrix with repeated values.
        check(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 4.0], 3);
    }
}
