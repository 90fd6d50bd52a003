//! `mvgaussian`: N(0, I_d) with mean and covariance refitted; the determinant collapses
//! (Shumailov et al. 2024; Kazdan et al. 2024 track log det and trace ratios).
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::Strategy;
use crate::closed_form::expected_log_chi2;
use crate::family::Family;
use crate::rng::SimRng;
use crate::spec::{Estimator, MvGaussianSpec};
use crate::summary::{Expectation, MetricInfo, Statistic, sim_metric};

/// Running mean and scatter matrix (Chan's parallel update), plus raw points when needed.
#[derive(Debug, Clone)]
pub(crate) struct Scatter {
    n: f64,
    mean: DVector<f64>,
    m2: DMatrix<f64>,
    raw: Option<Vec<DVector<f64>>>,
}

impl Scatter {
    pub(crate) fn new(dim: usize, keep_raw: bool) -> Self {
        Scatter {
            n: 0.0,
            mean: DVector::zeros(dim),
            m2: DMatrix::zeros(dim, dim),
            raw: keep_raw.then(Vec::new),
        }
    }

    pub(crate) fn push(&mut self, x: DVector<f64>) {
        self.n += 1.0;
        let delta = &x - &self.mean;
        self.mean += &delta / self.n;
        let delta2 = &x - &self.mean;
        self.m2.ger(1.0, &delta, &delta2, 1.0);
        if let Some(raw) = &mut self.raw {
            raw.push(x);
        }
    }

    fn combine(&mut self, other: Scatter) {
        if other.n == 0.0 {
            return;
        }
        let n = self.n + other.n;
        let delta = &other.mean - &self.mean;
        self.m2 += &other.m2;
        self.m2.ger(self.n * other.n / n, &delta, &delta, 1.0);
        self.mean += &delta * (other.n / n);
        self.n = n;
        if let (Some(mine), Some(theirs)) = (&mut self.raw, other.raw) {
            mine.extend(theirs);
        }
    }

    /// The MLE covariance (divide by n).
    fn covariance(&self) -> DMatrix<f64> {
        &self.m2 / self.n
    }
}

/// A fitted multivariate normal with the Cholesky factor used for sampling.
#[derive(Debug, Clone)]
pub(crate) struct MvNormal {
    mean: DVector<f64>,
    cov: DMatrix<f64>,
    chol: DMatrix<f64>,
}

/// Lower Cholesky factor; adds the smallest diagonal jitter that makes `cov` positive definite.
pub(crate) fn cholesky(cov: &DMatrix<f64>) -> DMatrix<f64> {
    let mut jitter = 0.0;
    loop {
        let mut m = cov.clone();
        if jitter > 0.0 {
            for i in 0..m.nrows() {
                m[(i, i)] += jitter;
            }
        }
        if let Some(c) = m.cholesky() {
            return c.l();
        }
        let scale = cov.diagonal().iter().fold(0.0f64, |a, &b| a.max(b.abs())).max(f64::MIN_POSITIVE);
        jitter = if jitter == 0.0 { scale * 1e-12 } else { jitter * 10.0 };
    }
}

impl MvNormal {
    fn new(mean: DVector<f64>, cov: DMatrix<f64>) -> Self {
        let chol = cholesky(&cov);
        MvNormal { mean, cov, chol }
    }
}

/// The `mvgaussian` model.
pub(crate) struct MvGaussian {
    pub spec: MvGaussianSpec,
}

const METRICS: &[MetricInfo] = &[
    sim_metric!(
        "log_det_ratio",
        Lower,
        "(-inf,inf)",
        "ln det Σ_k − ln det Σ_0 (volume of the fitted spread)"
    ),
    sim_metric!("trace_ratio", Lower, "[0,inf)", "tr Σ_k / tr Σ_0"),
    sim_metric!("mean_drift_sq", Higher, "[0,inf)", "‖μ_k − μ_0‖²"),
    sim_metric!(
        "w2_sq",
        Higher,
        "[0,inf)",
        "squared 2-Wasserstein distance to N(0, I): ‖Δμ‖² + Σ (√λ_i − 1)²"
    ),
];

impl MvGaussian {
    fn divisor(&self, n: f64) -> f64 {
        match self.spec.estimator {
            Estimator::Mle => n,
            Estimator::Unbiased => n - 1.0,
        }
    }
}

impl Family for MvGaussian {
    type Params = MvNormal;
    type Data = Scatter;

    fn metrics(&self) -> &'static [MetricInfo] {
        METRICS
    }
    fn truth(&self, _rng: &mut SimRng) -> MvNormal {
        MvNormal::new(DVector::zeros(self.spec.dim), DMatrix::identity(self.spec.dim, self.spec.dim))
    }
    fn empty(&self, keep_raw: bool) -> Scatter {
        Scatter::new(self.spec.dim, keep_raw)
    }
    fn draw_into(&self, p: &MvNormal, n: usize, _slot: usize, data: &mut Scatter, rng: &mut SimRng) {
        let d = self.spec.dim;
        for _ in 0..n {
            let z = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
            data.push(&p.mean + &p.chol * z);
        }
    }
    fn append(&self, into: &mut Scatter, from: Scatter) {
        into.combine(from);
    }
    fn subsample(&self, pool: &Scatter, n: usize, rng: &mut SimRng) -> Scatter {
        let raw = pool.raw.as_ref().expect("subsampling needs raw points");
        let mut out = Scatter::new(self.spec.dim, false);
        for i in rand::seq::index::sample(rng, raw.len(), n.min(raw.len())) {
            out.push(raw[i].clone());
        }
        out
    }
    fn fit(&self, data: &Scatter, _previous: &MvNormal, _rng: &mut SimRng) -> MvNormal {
        MvNormal::new(data.mean.clone(), &data.m2 / self.divisor(data.n))
    }
    fn fit_weighted(
        &self,
        real: &Scatter,
        synthetic: &Scatter,
        w: f64,
        _: &MvNormal,
        _: &mut SimRng,
    ) -> MvNormal {
        let mean = &real.mean * w + &synthetic.mean * (1.0 - w);
        let dr = &real.mean - &mean;
        let ds = &synthetic.mean - &mean;
        let mut cov = real.covariance() * w + synthetic.covariance() * (1.0 - w);
        cov.ger(w, &dr, &dr, 1.0);
        cov.ger(1.0 - w, &ds, &ds, 1.0);
        if self.spec.estimator == Estimator::Unbiased {
            cov /= 1.0 - (w * w / real.n + (1.0 - w) * (1.0 - w) / synthetic.n);
        }
        MvNormal::new(mean, cov)
    }
    fn measure(&self, p: &MvNormal, truth: &MvNormal, out: &mut [f64]) {
        let log_det = |l: &DMatrix<f64>| 2.0 * l.diagonal().iter().map(|v| v.ln()).sum::<f64>();
        out[0] = log_det(&p.chol) - log_det(&truth.chol);
        out[1] = p.cov.trace() / truth.cov.trace();
        let drift = (&p.mean - &truth.mean).norm_squared();
        out[2] = drift;
        let eigen = p.cov.clone().symmetric_eigen();
        out[3] = drift + eigen.eigenvalues.iter().map(|&l| (l.max(0.0).sqrt() - 1.0).powi(2)).sum::<f64>();
    }
    fn expectations(&self, strategy: Strategy, generations: usize) -> Vec<(&'static str, Expectation)> {
        if strategy != Strategy::Replace {
            return Vec::new();
        }
        let m = self.spec.samples as f64;
        let d = self.spec.dim as f64;
        let divisor = self.divisor(m);
        let step: f64 = (1..=self.spec.dim).map(|i| expected_log_chi2(m - i as f64, divisor)).sum();
        let curve = |f: &dyn Fn(f64) -> f64| (0..=generations).map(|n| Some(f(n as f64))).collect();
        let exact = |source: &str, values| Expectation {
            statistic: Statistic::Mean,
            exact: true,
            source: source.into(),
            values,
        };
        let a = (m - 1.0) / m;
        let mut out = vec![(
            "log_det_ratio",
            exact(
                "n·Σ_{i=1..d} (ψ((M−i)/2) + ln 2 − ln divisor) (Wishart log-determinant)",
                curve(&|n| n * step),
            ),
        )];
        match self.spec.estimator {
            Estimator::Mle => {
                out.push(("trace_ratio", exact("((M−1)/M)^n", curve(&|n| a.powf(n)))));
                out.push(("mean_drift_sq", exact("d·(1 − ((M−1)/M)^n)", curve(&|n| d * (1.0 - a.powf(n))))));
            }
            Estimator::Unbiased => {
                out.push(("trace_ratio", exact("1 (martingale)", curve(&|_| 1.0))));
                out.push(("mean_drift_sq", exact("d·n/M", curve(&|n| d * n / m))));
            }
        }
        out
    }
}
