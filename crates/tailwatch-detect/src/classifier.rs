//! L2-regularised logistic regression on standardised features, fitted by damped Newton (IRLS).
//!
//! # Standardisation
//!
//! `z_j = (x_j - μ_j) / σ_j` with `μ_j`, `σ_j` the training mean and population standard deviation of
//! feature `j`; a constant feature (`σ_j < 1e-12`) gets `σ_j = 1` (so `z_j = 0` on the training set).
//!
//! # Objective
//!
//! With labels `y_i ∈ {0, 1}` (1 = machine), logits `η_i = w·z_i + b`, `p_i = σ(η_i)` and sample weights
//! `s_i` (by default class-balanced: each class carries half of the total weight, `s_i = 1 / (2 n_c)`),
//!
//! ```text
//! L(w, b) = Σ_i s_i [ softplus(η_i) - y_i η_i ] / Σ_i s_i  +  (λ/2) ‖w‖²
//! ```
//!
//! (the bias is not penalised). `L` is strictly convex in `w`; Newton steps solve
//! `(Zᵀ S W Z / Σs + λ I') Δ = -∇L` (`W = diag p(1-p)`, `I'` the identity without the bias entry, plus
//! `1e-10` on the whole diagonal) by Cholesky, followed by a backtracking line search (halve the step
//! until `L` decreases by at least `1e-4 · step · ∇L·Δ`, Armijo); a failed factorisation falls back to
//! the gradient direction. It stops when `‖∇L‖∞ < tolerance` or after `max_iterations` steps. Every
//! operation runs in a fixed order, so training is deterministic.
use serde::{Deserialize, Serialize};

use crate::{DetectError, Result};

/// Settings of the logistic-regression fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticOptions {
    /// L2 penalty `λ` on the standardised weights (`≥ 0`).
    pub lambda: f64,
    /// Most Newton steps.
    pub max_iterations: usize,
    /// Stop once the largest absolute gradient entry is below this.
    pub tolerance: f64,
    /// Weight the classes equally (each carries half the total weight) instead of each text equally.
    pub balance_classes: bool,
}

impl Default for LogisticOptions {
    /// `λ = 1e-3`, at most 100 Newton steps, tolerance `1e-9`, balanced classes.
    fn default() -> Self {
        Self { lambda: 1e-3, max_iterations: 100, tolerance: 1e-9, balance_classes: true }
    }
}

impl LogisticOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(DetectError::invalid("lambda", "finite and >= 0", self.lambda));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(DetectError::invalid("tolerance", "finite and > 0", self.tolerance));
        }
        if self.max_iterations == 0 {
            return Err(DetectError::invalid("max_iterations", ">= 1", self.max_iterations));
        }
        Ok(())
    }
}

/// Per-feature mean and standard deviation of the training set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Standardizer {
    pub means: Vec<f64>,
    pub stds: Vec<f64>,
}

impl Standardizer {
    pub fn fit(rows: &[Vec<f64>], dimension: usize) -> Self {
        let n = rows.len().max(1) as f64;
        let mut means = vec![0.0; dimension];
        for row in rows {
            for (m, x) in means.iter_mut().zip(row) {
                *m += x;
            }
        }
        means.iter_mut().for_each(|m| *m /= n);
        let mut stds = vec![0.0; dimension];
        for row in rows {
            for ((s, x), m) in stds.iter_mut().zip(row).zip(&means) {
                *s += (x - m) * (x - m);
            }
        }
        for s in &mut stds {
            *s = (*s / n).sqrt();
            if *s < 1e-12 {
                *s = 1.0;
            }
        }
        Self { means, stds }
    }

    pub fn apply(&self, row: &[f64]) -> Vec<f64> {
        row.iter().zip(&self.means).zip(&self.stds).map(|((x, m), s)| (x - m) / s).collect()
    }
}

/// Result of [`fit_logistic`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogisticFit {
    pub weights: Vec<f64>,
    pub bias: f64,
    pub iterations: usize,
    pub gradient_norm: f64,
    pub converged: bool,
}

/// `ln(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() }
}

/// The logistic function `1 / (1 + e^-x)` without overflow.
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `w·z + b`, summed in index order.
pub(crate) fn linear(weights: &[f64], bias: f64, z: &[f64]) -> f64 {
    weights.iter().zip(z).fold(bias, |acc, (w, x)| acc + w * x)
}

struct Problem<'a> {
    z: &'a [Vec<f64>],
    y: &'a [bool],
    s: Vec<f64>,
    total_weight: f64,
    lambda: f64,
}

impl Problem<'_> {
    /// Parameters `theta = (w, b)`: the bias is the last entry.
    fn loss(&self, theta: &[f64]) -> f64 {
        let (w, b) = theta.split_at(theta.len() - 1);
        let data: f64 = self
            .z
            .iter()
            .zip(self.y)
            .zip(&self.s)
            .map(|((z, &y), s)| {
                let eta = linear(w, b[0], z);
                s * (softplus(eta) - if y { eta } else { 0.0 })
            })
            .sum();
        data / self.total_weight + 0.5 * self.lambda * w.iter().map(|x| x * x).sum::<f64>()
    }

    fn gradient_and_hessian(&self, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let k = theta.len();
        let (w, b) = theta.split_at(k - 1);
        let mut gradient = vec![0.0; k];
        let mut hessian = vec![0.0; k * k];
        let mut extended = vec![0.0; k];
        for ((z, &y), s) in self.z.iter().zip(self.y).zip(&self.s) {
            let p = sigmoid(linear(w, b[0], z));
            let residual = s * (p - if y { 1.0 } else { 0.0 }) / self.total_weight;
            let curvature = s * p * (1.0 - p) / self.total_weight;
            extended[..k - 1].copy_from_slice(z);
            extended[k - 1] = 1.0;
            for a in 0..k {
                gradient[a] += residual * extended[a];
                let scaled = curvature * extended[a];
                for c in 0..=a {
                    hessian[a * k + c] += scaled * extended[c];
                }
            }
        }
        for a in 0..k {
            for c in 0..a {
                hessian[c * k + a] = hessian[a * k + c];
            }
            hessian[a * k + a] += 1e-10;
        }
        for a in 0..k - 1 {
            gradient[a] += self.lambda * w[a];
            hessian[a * k + a] += self.lambda;
        }
        (gradient, hessian)
    }
}

/// Solve `A x = b` for symmetric positive definite `A` (row-major `k × k`) by Cholesky; `None` if
/// `A` is not numerically positive definite.
fn cholesky_solve(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let k = b.len();
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|m| l[i * k + m] * l[j * k + m]).sum();
            if i == j {
                let d = a[i * k + i] - sum;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i * k + i] = d.sqrt();
            } else {
                l[i * k + j] = (a[i * k + j] - sum) / l[j * k + j];
            }
        }
    }
    let mut y = vec![0.0; k];
    for i in 0..k {
        let sum: f64 = (0..i).map(|m| l[i * k + m] * y[m]).sum();
        y[i] = (b[i] - sum) / l[i * k + i];
    }
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let sum: f64 = (i + 1..k).map(|m| l[m * k + i] * x[m]).sum();
        x[i] = (y[i] - sum) / l[i * k + i];
    }
    Some(x)
}

/// Fit the logistic regression of the module documentation on standardised rows `z` and labels `y`.
pub(crate) fn fit_logistic(z: &[Vec<f64>], y: &[bool], options: &LogisticOptions) -> Result<LogisticFit> {
    options.validate()?;
    let positives = y.iter().filter(|&&l| l).count();
    let negatives = y.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(DetectError::MissingClass { what: "training", positives, negatives });
    }
    let dimension = z.first().map_or(0, Vec::len);
    let s: Vec<f64> = y
        .iter()
        .map(|&label| {
            if options.balance_classes { 0.5 / if label { positives } else { negatives } as f64 } else { 1.0 }
        })
        .collect();
    let total_weight = s.iter().sum();
    let problem = Problem { z, y, s, total_weight, lambda: options.lambda };
    let mut theta = vec![0.0; dimension + 1];
    let mut loss = problem.loss(&theta);
    let mut gradient_norm = f64::INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < options.max_iterations {
        let (gradient, hessian) = problem.gradient_and_hessian(&theta);
        gradient_norm = gradient.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
        if gradient_norm < options.tolerance {
            converged = true;
            break;
        }
        iterations += 1;
        let negative_gradient: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let direction = cholesky_solve(&hessian, &negative_gradient).unwrap_or(negative_gradient);
        let slope: f64 = gradient.iter().zip(&direction).map(|(g, d)| g * d).sum();
        let mut step = 1.0;
        let mut improved = false;
        for _ in 0..60 {
            let candidate: Vec<f64> = theta.iter().zip(&direction).map(|(t, d)| t + step * d).collect();
            let candidate_loss = problem.loss(&candidate);
            if candidate_loss <= loss + 1e-4 * step * slope {
                theta = candidate;
                loss = candidate_loss;
                improved = true;
                break;
            }
            step *= 0.5;
        }
        if !improved {
            // No decrease is possible at floating-point resolution: the minimum is reached.
            converged = gradient_norm < options.tolerance.sqrt();
            break;
        }
    }
    if !converged && iterations == options.max_iterations {
        let (gradient, _) = problem.gradient_and_hessian(&theta);
        gradient_norm = gradient.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
        converged = gradient_norm < options.tolerance;
    }
    let bias = theta.pop().unwrap_or(0.0);
    Ok(LogisticFit { weights: theta, bias, iterations, gradient_norm, converged })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_small_system() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&a, &[2.0, 1.0]).unwrap();
        assert!((4.0 * x[0] + 2.0 * x[1] - 2.0).abs() < 1e-12);
        assert!((2.0 * x[0] + 3.0 * x[1] - 1.0).abs() < 1e-12);
        assert!(cholesky_solve(&[0.0, 0.0, 0.0, 0.0], &[1.0, 1.0]).is_none());
    }

    #[test]
    fn stable_sigmoid_and_softplus() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(1000.0) == 1.0 && sigmoid(-1000.0) == 0.0);
        assert!((softplus(0.0) - 2f64.ln()).abs() < 1e-15);
        assert!((softplus(800.0) - 800.0).abs() < 1e-12);
        assert!(softplus(-800.0) >= 0.0);
    }

    #[test]
    fn gradient_vanishes_at_the_optimum() {
        // One informative feature with overlap: a finite, unique optimum.
        let z: Vec<Vec<f64>> = (0..40).map(|i| vec![f64::from(i % 10) - 4.5, f64::from(i % 3)]).collect();
        let y: Vec<bool> = (0..40).map(|i| (i % 10) + (i % 4) > 6).collect();
        let options = LogisticOptions { lambda: 0.01, ..LogisticOptions::default() };
        let fit = fit_logistic(&z, &y, &options).unwrap();
        assert!(fit.converged, "{fit:?}");
        assert!(fit.gradient_norm < 1e-9);
        assert!(fit.weights[0] > 0.5, "{fit:?}");
        // Separable data still converges thanks to the penalty.
        let separable: Vec<bool> = z.iter().map(|row| row[0] > 0.0).collect();
        let fit = fit_logistic(&z, &separable, &options).unwrap();
        assert!(fit.converged && fit.weights[0].is_finite());
        assert!(fit_logistic(&z, &[true; 40], &options).is_err());
        let bad = LogisticOptions { lambda: -1.0, ..options };
        assert!(fit_logistic(&z, &y, &bad).is_err());
    }

    #[test]
    fn standardizer_handles_constant_features() {
        let rows = vec![vec![1.0, 5.0], vec![3.0, 5.0]];
        let standardizer = Standardizer::fit(&rows, 2);
        assert_eq!(standardizer.means, vec![2.0, 5.0]);
        assert_eq!(standardizer.stds, vec![1.0, 1.0]);
        assert_eq!(standardizer.apply(&[3.0, 7.0]), vec![1.0, 2.0]);
    }
}
