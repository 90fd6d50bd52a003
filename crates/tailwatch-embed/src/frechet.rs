//! The Fréchet distance between Gaussians fitted to two sets of embeddings (FID with Inception
//! features, FD-DINOv2 with DINOv2's): `fd`.
//!
//! * **Formula:** FD = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½, where tr (Σ₁^½ Σ₂ Σ₁^½)^½
//!   = Σᵢ √λᵢ over the eigenvalues of the symmetric Σ₁^½ Σ₂ Σ₁^½, which has the spectrum of
//!   Σ₁Σ₂: the trace of pytorch-fid's `sqrtm(Σ₁·Σ₂)` (`calculate_frechet_distance`) and of
//!   torch-fidelity's Σ Re √eig(Σ₁Σ₂), by symmetric eigen-decompositions, which neither fail
//!   nor go complex on rank-deficient covariances (mseitzer/pytorch-fid#117). Eigenvalues
//!   below zero are rounding noise and count as 0, which is torch-fidelity's real part.
//! * **Range:** [0, ∞); 0 for identical statistics. **Collapse:** up (the generated
//!   distribution moves away from the reference, or narrows: a smaller Σ raises FD too).
//! * **Size:** biased in n (it falls as n grows): compare at equal n.
//! * **Cost:** two d × d symmetric eigen-decompositions and two products, O(d³); the
//!   statistics are [`crate::Moments`] (mergeable).
//! * **Source:** Heusel et al. 2017 (FID); Dowson & Landau 1982 for the Gaussian formula.
use faer::{Mat, Side};

use crate::{Error, Result};

/// A mean vector and a covariance matrix (d × d, row-major, symmetric).
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    mean: Vec<f64>,
    covariance: Vec<f64>,
}

impl Gaussian {
    /// The Gaussian of `mean` (d values) and `covariance` (d × d, row-major): an error unless
    /// the covariance is d × d, every value finite, and it is symmetric to 1e-6 of its largest
    /// entry (statistics saved as f32 are symmetric to about 1e-7); it is made exactly symmetric.
    pub fn new(mean: Vec<f64>, covariance: Vec<f64>) -> Result<Self> {
        let d = mean.len();
        let invalid = |message: String| Error::InvalidStatistics { message };
        if d == 0 {
            return Err(invalid("the mean is empty".into()));
        }
        if covariance.len() != d * d {
            return Err(invalid(format!(
                "a mean of {d} values needs a {d} × {d} covariance ({} values); it has {}",
                d * d,
                covariance.len()
            )));
        }
        if let Some(k) = mean.iter().chain(&covariance).position(|v| !v.is_finite()) {
            let what = if k < d {
                format!("mean[{k}]")
            } else {
                format!("covariance[{}, {}]", (k - d) / d, (k - d) % d)
            };
            return Err(invalid(format!("{what} is not a finite value")));
        }
        let largest = covariance.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut symmetric = covariance;
        for i in 0..d {
            for j in i + 1..d {
                let (a, b) = (symmetric[i * d + j], symmetric[j * d + i]);
                if (a - b).abs() > 1e-6 * largest {
                    return Err(invalid(format!(
                        "the covariance is not symmetric: [{i}, {j}] = {a}, [{j}, {i}] = {b}"
                    )));
                }
                let mid = 0.5 * (a + b);
                (symmetric[i * d + j], symmetric[j * d + i]) = (mid, mid);
            }
        }
        Ok(Self { mean, covariance: symmetric })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The mean vector.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The covariance, d × d, row-major.
    pub fn covariance(&self) -> &[f64] {
        &self.covariance
    }

    fn matrix(&self) -> Mat<f64> {
        let d = self.dim();
        Mat::from_fn(d, d, |i, j| self.covariance[i * d + j])
    }
}

/// The Fréchet distance between `a` and `b` (see the module documentation).
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> Result<f64> {
    let d = a.dim();
    if b.dim() != d {
        return Err(Error::DimensionMismatch { left: d, right: b.dim() });
    }
    let no_convergence = |_| Error::NoConvergence { dim: d };
    let (sigma_a, sigma_b) = (a.matrix(), b.matrix());
    // Σ₁^½ = U diag(√s) Uᵀ = V Vᵀ with V = U diag(s^¼) (s clamped at 0)
    let eigen = sigma_a.self_adjoint_eigen(Side::Lower).map_err(no_convergence)?;
    let (s, u) = (eigen.S(), eigen.U());
    let scaled = Mat::<f64>::from_fn(d, d, |i, k| u[(i, k)] * s[k].max(0.0).sqrt().sqrt());
    let root_a = &scaled * scaled.transpose();
    let product = &root_a * &sigma_b * &root_a;
    let symmetric = Mat::<f64>::from_fn(d, d, |i, j| 0.5 * (product[(i, j)] + product[(j, i)]));
    let eigenvalues = symmetric.self_adjoint_eigenvalues(Side::Lower).map_err(no_convergence)?;
    let trace_root: f64 = eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).sum();
    let mean_term: f64 = a.mean.iter().zip(&b.mean).map(|(x, y)| (x - y) * (x - y)).sum();
    let trace = |g: &Gaussian| (0..d).map(|i| g.covariance[i * d + i]).sum::<f64>();
    Ok(mean_term + trace(a) + trace(b) - 2.0 * trace_root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(mean: &[f64], covariance: &[f64]) -> Gaussian {
        Gaussian::new(mean.to_vec(), covariance.to_vec()).unwrap()
    }

    fn diagonal(values: &[f64]) -> Vec<f64> {
        let d = values.len();
        (0..d * d).map(|k| if k / d == k % d { values[k / d] } else { 0.0 }).collect()
    }

    #[test]
    fn diagonal_covariances_give_the_closed_form() {
        // FD = Σ (μa − μb)² + Σ (√σa − √σb)²
        let (va, vb) = ([4.0, 1.0, 9.0, 0.25], [1.0, 1.0, 16.0, 1.0]);
        let a = gaussian(&[0.0, 1.0, 2.0, 3.0], &diagonal(&va));
        let b = gaussian(&[1.0, 1.0, 0.0, 3.5], &diagonal(&vb));
        let want = (1.0 + 0.0 + 4.0 + 0.25) + (1.0 + 0.0 + 1.0 + 0.25);
        let fd = frechet_distance(&a, &b).unwrap();
        assert!((fd - want).abs() < 1e-12, "{fd} against {want}");
        assert!(frechet_distance(&a, &a).unwrap().abs() < 1e-12);
    }

    #[test]
    fn non_commuting_covariances_give_the_closed_form() {
        // 2 × 2: tr √(AB) = √(tr AB + 2 √det AB); A = [[2, 1], [1, 2]], B = diag(1, 3):
        // tr AB = 8, det AB = 9, so FD = tr A + tr B − 2 √14 with equal means
        let a = gaussian(&[0.0, 0.0], &[2.0, 1.0, 1.0, 2.0]);
        let b = gaussian(&[0.0, 0.0], &diagonal(&[1.0, 3.0]));
        let want = 8.0 - 2.0 * 14f64.sqrt();
        assert!((frechet_distance(&a, &b).unwrap() - want).abs() < 1e-12);
        assert!((frechet_distance(&b, &a).unwrap() - want).abs() < 1e-12);
    }

    #[test]
    fn rank_deficient_covariances_need_no_offset() {
        // rank 1 against rank 1, orthogonal: Σ₁Σ₂ = 0, so FD = tr Σ₁ + tr Σ₂
        let a = gaussian(&[0.0, 0.0], &[1.0, 0.0, 0.0, 0.0]);
        let b = gaussian(&[0.0, 0.0], &[0.0, 0.0, 0.0, 4.0]);
        assert!((frechet_distance(&a, &b).unwrap() - 5.0).abs() < 1e-12);
    }

    #[test]
    fn malformed_statistics_are_errors() {
        let message =
            |mean: &[f64], cov: &[f64]| Gaussian::new(mean.to_vec(), cov.to_vec()).unwrap_err().to_string();
        assert!(message(&[0.0, 0.0], &[1.0, 0.0, 0.0]).contains("2 × 2 covariance"));
        assert!(message(&[0.0, f64::NAN], &diagonal(&[1.0, 1.0])).contains("mean[1] is not a finite value"));
        assert!(message(&[0.0, 0.0], &[1.0, 0.5, 0.0, 1.0]).contains("not symmetric"));
        let (a, b) = (gaussian(&[0.0], &[1.0]), gaussian(&[0.0, 0.0], &diagonal(&[1.0, 1.0])));
        assert!(matches!(frechet_distance(&a, &b), Err(Error::DimensionMismatch { left: 1, right: 2 })));
    }
}
