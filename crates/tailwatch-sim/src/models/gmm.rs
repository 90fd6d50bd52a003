//! `gmm`: data from N(0, I_d); a k-component full-covariance Gaussian mixture refitted by EM
//! on its own samples. Components shrink to points (Shumailov et al. 2024, GMM experiment).
//!
//! EM follows scikit-learn's `GaussianMixture(covariance_type="full")`: stop when the mean
//! log-likelihood improves by less than `tolerance`, add `reg_covar = 1e-6` to each
//! covariance diagonal, and start every generation afresh from k-means (`init_params="kmeans"`,
//! k-means++ seeding), as the paper's notebook does. (A warm start from the previous mixture
//! lets the component weights drift like Wright-Fisher frequencies; a dominant component then
//! sees more samples and collapses more slowly than in the paper.)
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::family::Family;
use crate::models::mvgaussian::cholesky;
use crate::rng::SimRng;
use crate::spec::GmmSpec;
use crate::summary::{MetricInfo, sim_metric};

const REG_COVAR: f64 = 1e-6;
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// A Gaussian mixture with the Cholesky factors of its covariances.
#[derive(Debug, Clone)]
pub(crate) struct Mixture {
    weights: Vec<f64>,
    means: Vec<DVector<f64>>,
    covs: Vec<DMatrix<f64>>,
    chols: Vec<DMatrix<f64>>,
}

impl Mixture {
    fn new(weights: Vec<f64>, means: Vec<DVector<f64>>, covs: Vec<DMatrix<f64>>) -> Self {
        let chols = covs.iter().map(cholesky).collect();
        Mixture { weights, means, covs, chols }
    }

    fn components(&self) -> usize {
        self.weights.len()
    }
}

/// Points, row-major, with optional per-point weights (weighted fits).
#[derive(Debug, Clone, Default)]
pub(crate) struct Points {
    values: Vec<f64>,
    weights: Option<Vec<f64>>,
}

/// The `gmm` model.
pub(crate) struct Gmm {
    pub spec: GmmSpec,
}

const METRICS: &[MetricInfo] = &[
    sim_metric!(
        "component_std",
        Lower,
        "[0,inf)",
        "mean over components of sqrt(tr Σ_j / d): the spread of each mode"
    ),
    sim_metric!("pooled_std", Lower, "[0,inf)", "sqrt(tr Cov(mixture) / d): the overall spread"),
    sim_metric!(
        "l2_to_truth",
        Higher,
        "[0,inf)",
        "L2 distance ‖f_k − N(0, I)‖₂ between densities (closed form)"
    ),
];

/// Solve L y = v in place (L lower triangular) and return ‖y‖².
fn mahalanobis_sq(l: &DMatrix<f64>, v: &mut [f64]) -> f64 {
    let d = v.len();
    let mut total = 0.0;
    for i in 0..d {
        let mut s = v[i];
        for j in 0..i {
            s -= l[(i, j)] * v[j];
        }
        v[i] = s / l[(i, i)];
        total += v[i] * v[i];
    }
    total
}

fn log_det(l: &DMatrix<f64>) -> f64 {
    2.0 * l.diagonal().iter().map(|v| v.ln()).sum::<f64>()
}

/// ∫ N(x; a, A) N(x; b, B) dx = N(a; b, A + B).
fn overlap(a: &DVector<f64>, ca: &DMatrix<f64>, b: &DVector<f64>, cb: &DMatrix<f64>) -> f64 {
    let sum = ca + cb;
    let l = cholesky(&sum);
    let mut diff: Vec<f64> = (a - b).iter().copied().collect();
    let q = mahalanobis_sq(&l, &mut diff);
    (-0.5 * (q + log_det(&l) + a.len() as f64 * LN_2PI)).exp()
}

impl Gmm {
    fn point<'a>(&self, points: &'a Points, i: usize) -> &'a [f64] {
        &points.values[i * self.spec.dim..(i + 1) * self.spec.dim]
    }

    /// scikit-learn's `init_params="kmeans"`: k-means++ seeding, Lloyd iterations until the
    /// labels settle, then the mixture whose responsibilities are those hard labels.
    fn kmeans_init(&self, points: &Points, rng: &mut SimRng) -> Mixture {
        let (d, k) = (self.spec.dim, self.spec.components);
        let n = points.values.len() / d;
        let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
        // k-means++ seeding
        let mut centers: Vec<Vec<f64>> = vec![self.point(points, rng.random_range(0..n)).to_vec()];
        let mut nearest: Vec<f64> = (0..n).map(|i| dist(self.point(points, i), &centers[0])).collect();
        while centers.len() < k.min(n) {
            let total: f64 = nearest.iter().sum();
            let pick = if total > 0.0 {
                let mut u = rng.random::<f64>() * total;
                let mut chosen = n - 1;
                for (i, w) in nearest.iter().enumerate() {
                    if u < *w {
                        chosen = i;
                        break;
                    }
                    u -= w;
                }
                chosen
            } else {
                rng.random_range(0..n)
            };
            let center = self.point(points, pick).to_vec();
            for (i, best) in nearest.iter_mut().enumerate() {
                *best = best.min(dist(self.point(points, i), &center));
            }
            centers.push(center);
        }
        let k = centers.len();
        // Lloyd iterations
        let mut labels = vec![usize::MAX; n];
        for _ in 0..300 {
            let mut changed = false;
            for (i, label) in labels.iter_mut().enumerate() {
                let x = self.point(points, i);
                let best = (0..k)
                    .min_by(|&a, &b| dist(x, &centers[a]).total_cmp(&dist(x, &centers[b])))
                    .expect("k ≥ 1");
                if *label != best {
                    *label = best;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
            let mut sums = vec![vec![0.0; d]; k];
            let mut counts = vec![0usize; k];
            for (i, &label) in labels.iter().enumerate() {
                counts[label] += 1;
                for (s, x) in sums[label].iter_mut().zip(self.point(points, i)) {
                    *s += x;
                }
            }
            for j in 0..k {
                if counts[j] > 0 {
                    centers[j] = sums[j].iter().map(|s| s / counts[j] as f64).collect();
                }
            }
        }
        // the mixture of the hard labels (one M-step)
        let mut weights = vec![0.0f64; k];
        let mut means = vec![DVector::zeros(d); k];
        let mut covs = vec![DMatrix::zeros(d, d); k];
        for (i, &label) in labels.iter().enumerate() {
            weights[label] += 1.0;
            means[label] += DVector::from_column_slice(self.point(points, i));
        }
        for j in 0..k {
            means[j] /= weights[j].max(1.0);
        }
        for (i, &label) in labels.iter().enumerate() {
            let x = DVector::from_column_slice(self.point(points, i)) - &means[label];
            covs[label].ger(1.0, &x, &x, 1.0);
        }
        for j in 0..k {
            covs[j] /= weights[j].max(1.0);
            for a in 0..d {
                covs[j][(a, a)] += REG_COVAR;
            }
        }
        let weights = weights.iter().map(|w| (w / n as f64).max(f64::MIN_POSITIVE)).collect();
        Mixture::new(weights, means, covs)
    }

    /// EM from `init` until the mean log-likelihood gains less than the tolerance.
    fn em(&self, points: &Points, mut mixture: Mixture) -> Mixture {
        let d = self.spec.dim;
        let n = points.values.len() / d;
        let k = mixture.components();
        let point_weight = |i: usize| points.weights.as_ref().map_or(1.0, |w| w[i]);
        let total_weight: f64 = (0..n).map(point_weight).sum();
        let mut resp = vec![0.0; n * k];
        let mut scratch = vec![0.0; d];
        let mut logp = vec![0.0; k];
        let mut previous_ll = f64::NEG_INFINITY;
        for _ in 0..self.spec.max_iterations {
            // E-step
            let norms: Vec<f64> = (0..k)
                .map(|j| {
                    mixture.weights[j].max(f64::MIN_POSITIVE).ln()
                        - 0.5 * (d as f64 * LN_2PI + log_det(&mixture.chols[j]))
                })
                .collect();
            let mut ll = 0.0;
            for i in 0..n {
                let x = self.point(points, i);
                for j in 0..k {
                    for (s, (xv, mv)) in scratch.iter_mut().zip(x.iter().zip(mixture.means[j].iter())) {
                        *s = xv - mv;
                    }
                    logp[j] = norms[j] - 0.5 * mahalanobis_sq(&mixture.chols[j], &mut scratch);
                }
                let max = logp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + logp.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
                ll += point_weight(i) * lse;
                for j in 0..k {
                    resp[i * k + j] = point_weight(i) * (logp[j] - lse).exp();
                }
            }
            ll /= total_weight;
            // M-step (two passes: means, then centered covariances)
            let mut weights = vec![0.0; k];
            let mut means = vec![DVector::zeros(d); k];
            for i in 0..n {
                let x = self.point(points, i);
                for j in 0..k {
                    let r = resp[i * k + j];
                    weights[j] += r;
                    for (m, xv) in means[j].iter_mut().zip(x) {
                        *m += r * xv;
                    }
                }
            }
            let mut covs = vec![DMatrix::zeros(d, d); k];
            for j in 0..k {
                if weights[j] > 1e-12 * total_weight {
                    means[j] /= weights[j];
                } else {
                    means[j].clone_from(&mixture.means[j]);
                }
            }
            for i in 0..n {
                let x = self.point(points, i);
                for j in 0..k {
                    let r = resp[i * k + j];
                    for a in 0..d {
                        let da = x[a] - means[j][a];
                        for b in 0..=a {
                            covs[j][(a, b)] += r * da * (x[b] - means[j][b]);
                        }
                    }
                }
            }
            for j in 0..k {
                if weights[j] > 1e-12 * total_weight {
                    covs[j] /= weights[j];
                    for a in 0..d {
                        for b in 0..a {
                            covs[j][(b, a)] = covs[j][(a, b)];
                        }
                        covs[j][(a, a)] += REG_COVAR;
                    }
                } else {
                    covs[j].clone_from(&mixture.covs[j]);
                }
            }
            let weights = weights.iter().map(|w| w / total_weight).collect();
            mixture = Mixture::new(weights, means, covs);
            if (ll - previous_ll).abs() < self.spec.tolerance {
                break;
            }
            previous_ll = ll;
        }
        mixture
    }

    fn refit(&self, points: &Points, rng: &mut SimRng) -> Mixture {
        let init = self.kmeans_init(points, rng);
        self.em(points, init)
    }
}

impl Family for Gmm {
    type Params = Mixture;
    type Data = Points;

    fn metrics(&self) -> &'static [MetricInfo] {
        METRICS
    }
    fn truth(&self, _rng: &mut SimRng) -> Mixture {
        let d = self.spec.dim;
        Mixture::new(vec![1.0], vec![DVector::zeros(d)], vec![DMatrix::identity(d, d)])
    }
    fn empty(&self, _keep_raw: bool) -> Points {
        Points::default()
    }
    fn draw_into(&self, p: &Mixture, n: usize, _slot: usize, data: &mut Points, rng: &mut SimRng) {
        let d = self.spec.dim;
        let mut z = DVector::zeros(d);
        for _ in 0..n {
            let u: f64 = rng.random();
            let mut j = 0;
            let mut acc = p.weights[0];
            while u >= acc && j + 1 < p.components() {
                j += 1;
                acc += p.weights[j];
            }
            for v in z.iter_mut() {
                *v = rng.sample(StandardNormal);
            }
            let x = &p.means[j] + &p.chols[j] * &z;
            data.values.extend(x.iter());
        }
    }
    fn append(&self, into: &mut Points, from: Points) {
        into.values.extend(from.values);
    }
    fn subsample(&self, pool: &Points, n: usize, rng: &mut SimRng) -> Points {
        let d = self.spec.dim;
        let total = pool.values.len() / d;
        let mut out = Points::default();
        for i in rand::seq::index::sample(rng, total, n.min(total)) {
            out.values.extend_from_slice(self.point(pool, i));
        }
        out
    }
    fn fit(&self, data: &Points, _previous: &Mixture, rng: &mut SimRng) -> Mixture {
        self.refit(data, rng)
    }
    fn fit_weighted(
        &self,
        real: &Points,
        synthetic: &Points,
        w: f64,
        _: &Mixture,
        rng: &mut SimRng,
    ) -> Mixture {
        let d = self.spec.dim;
        let (nr, ns) = (real.values.len() / d, synthetic.values.len() / d);
        let mut weights = vec![w * (nr + ns) as f64 / nr as f64; nr];
        weights.extend(std::iter::repeat_n((1.0 - w) * (nr + ns) as f64 / ns as f64, ns));
        let mut values = real.values.clone();
        values.extend_from_slice(&synthetic.values);
        self.refit(&Points { values, weights: Some(weights) }, rng)
    }
    fn measure(&self, p: &Mixture, truth: &Mixture, out: &mut [f64]) {
        let d = self.spec.dim as f64;
        out[0] = p.covs.iter().map(|c| (c.trace() / d).sqrt()).sum::<f64>() / p.components() as f64;
        let mut mean = DVector::zeros(self.spec.dim);
        for (w, m) in p.weights.iter().zip(&p.means) {
            mean += m * *w;
        }
        let mut second = 0.0;
        for ((w, m), c) in p.weights.iter().zip(&p.means).zip(&p.covs) {
            second += w * (c.trace() + m.norm_squared());
        }
        out[1] = ((second - mean.norm_squared()).max(0.0) / d).sqrt();
        let mut l2 = 0.0;
        for a in 0..p.components() {
            for b in 0..p.components() {
                l2 += p.weights[a] * p.weights[b] * overlap(&p.means[a], &p.covs[a], &p.means[b], &p.covs[b]);
            }
            l2 -= 2.0 * p.weights[a] * overlap(&p.means[a], &p.covs[a], &truth.means[0], &truth.covs[0]);
        }
        l2 += overlap(&truth.means[0], &truth.covs[0], &truth.means[0], &truth.covs[0]);
        out[2] = l2.max(0.0).sqrt();
    }
}
