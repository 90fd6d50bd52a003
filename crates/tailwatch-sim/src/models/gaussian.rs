//! One-dimensional Gaussian models: `gaussian` (mean and variance refitted) and `mean`
//! (known-σ mean estimation), with their closed forms (Shumailov et al. 2024; Gerstgrasser
//! et al. 2024; Dey & Donoho 2024; Alemohammad et al. 2024; He et al. 2025).
use rand::RngExt;
use rand_distr::{ChiSquared, StandardNormal};

use crate::Strategy;
use crate::closed_form::{c4, expected_log_chi2, h2};
use crate::family::{Family, fresh_real};
use crate::rng::SimRng;
use crate::spec::{Estimator, GaussianSpec, MeanSpec};
use crate::summary::{Expectation, MetricInfo, Statistic, sim_metric};

/// Running moments (Welford/Chan), plus the raw values when a strategy needs to subsample.
#[derive(Debug, Clone, Default)]
pub(crate) struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
    raw: Option<Vec<f64>>,
}

impl Moments {
    fn new(keep_raw: bool) -> Self {
        Moments { raw: keep_raw.then(Vec::new), ..Moments::default() }
    }

    fn push(&mut self, x: f64) {
        self.n += 1.0;
        let delta = x - self.mean;
        self.mean += delta / self.n;
        self.m2 += delta * (x - self.mean);
        if let Some(raw) = &mut self.raw {
            raw.push(x);
        }
    }

    fn combine(&mut self, other: Moments) {
        if other.n == 0.0 {
            return;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        self.mean += delta * other.n / n;
        self.m2 += other.m2 + delta * delta * self.n * other.n / n;
        self.n = n;
        if let (Some(mine), Some(theirs)) = (&mut self.raw, other.raw) {
            mine.extend(theirs);
        }
    }

    fn subsample(&self, n: usize, rng: &mut SimRng) -> Moments {
        let raw = self.raw.as_ref().expect("subsampling needs raw samples");
        let mut out = Moments::new(false);
        for i in rand::seq::index::sample(rng, raw.len(), n.min(raw.len())) {
            out.push(raw[i]);
        }
        out
    }
}

/// (mean, variance) of a normal distribution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Normal {
    mean: f64,
    variance: f64,
}

/// Add n draws from `p` to `data`.
///
/// Without raw samples only the sufficient statistics are drawn, which is exact in
/// distribution: for n iid N(μ, σ²) values the sample mean is N(μ, σ²/n), the sum of squared
/// deviations is σ²·χ²(n − 1), and the two are independent (Cochran's theorem). One normal and
/// one chi-square draw thus replace n normals, and every metric is a function of the fitted
/// (mean, variance) alone. With raw samples (`accumulate-subsample` draws its subsets from
/// them) every value is drawn and summarised as a batch (two-pass mean and squared deviations).
fn draw(p: &Normal, n: usize, data: &mut Moments, rng: &mut SimRng) {
    if n == 0 {
        return;
    }
    let variance = p.variance.max(0.0);
    let sd = variance.sqrt();
    let batch = if data.raw.is_some() {
        let values: Vec<f64> = (0..n).map(|_| p.mean + sd * rng.sample::<f64, _>(StandardNormal)).collect();
        let mean = values.iter().sum::<f64>() / n as f64;
        let m2 = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>();
        Moments { n: n as f64, mean, m2, raw: Some(values) }
    } else {
        let count = n as f64;
        let mean = p.mean + sd / count.sqrt() * rng.sample::<f64, _>(StandardNormal);
        // a single value deviates from its own mean by exactly 0
        let m2 = if n > 1 {
            let chi2 = ChiSquared::new(count - 1.0).expect("n − 1 ≥ 1 degrees of freedom");
            variance * rng.sample(chi2)
        } else {
            0.0
        };
        Moments { n: count, mean, m2, raw: None }
    };
    data.combine(batch);
}

/// Weighted mean and MLE variance of two groups with total weights w and 1 − w, and the sum of
/// squared normalized per-sample weights (for the reliability-weights unbiased correction).
fn weighted_moments(real: &Moments, synthetic: &Moments, w: f64) -> (f64, f64, f64) {
    let (wr, ws) = if synthetic.n == 0.0 {
        (1.0, 0.0)
    } else if real.n == 0.0 {
        (0.0, 1.0)
    } else {
        (w, 1.0 - w)
    };
    let mean = wr * real.mean + ws * synthetic.mean;
    let group_var = |m: &Moments| if m.n > 0.0 { m.m2 / m.n } else { 0.0 };
    let var = wr * (group_var(real) + (real.mean - mean).powi(2))
        + ws * (group_var(synthetic) + (synthetic.mean - mean).powi(2));
    let sum_sq_weights = if real.n > 0.0 { wr * wr / real.n } else { 0.0 }
        + if synthetic.n > 0.0 { ws * ws / synthetic.n } else { 0.0 };
    (mean, var, sum_sq_weights)
}

/// What distinguishes the 1-D normal models; the shared [`Family`] plumbing is [`Normal1d`].
pub(crate) trait NormalModel: Sync {
    /// The metrics, in order.
    fn metrics(&self) -> &'static [MetricInfo];
    /// Generation 0.
    fn truth(&self) -> Normal;
    /// The refitted variance, given the (weighted) MLE variance of the training data and the
    /// sum of its squared normalized sample weights (1/n when unweighted).
    fn variance(&self, mle: f64, sum_sq_weights: f64, previous: &Normal) -> f64;
    /// Write the metrics of `p`.
    fn measure(&self, p: &Normal, truth: &Normal, out: &mut [f64]);
    /// Closed forms, by metric id.
    fn closed_forms(&self, _strategy: Strategy, _generations: usize) -> Vec<(&'static str, Expectation)> {
        Vec::new()
    }
}

/// A [`NormalModel`] as a simulator [`Family`]: normal draws summarised as running moments.
pub(crate) struct Normal1d<M>(pub M);

impl<M: NormalModel> Family for Normal1d<M> {
    type Params = Normal;
    type Data = Moments;

    fn metrics(&self) -> &'static [MetricInfo] {
        self.0.metrics()
    }
    fn truth(&self, _rng: &mut SimRng) -> Normal {
        self.0.truth()
    }
    fn empty(&self, keep_raw: bool) -> Moments {
        Moments::new(keep_raw)
    }
    fn draw_into(&self, p: &Normal, n: usize, _slot: usize, data: &mut Moments, rng: &mut SimRng) {
        draw(p, n, data, rng);
    }
    fn append(&self, into: &mut Moments, from: Moments) {
        into.combine(from);
    }
    fn subsample(&self, pool: &Moments, n: usize, rng: &mut SimRng) -> Moments {
        pool.subsample(n, rng)
    }
    fn fit(&self, data: &Moments, previous: &Normal, _rng: &mut SimRng) -> Normal {
        Normal { mean: data.mean, variance: self.0.variance(data.m2 / data.n, 1.0 / data.n, previous) }
    }
    fn fit_weighted(
        &self,
        real: &Moments,
        synthetic: &Moments,
        w: f64,
        previous: &Normal,
        _: &mut SimRng,
    ) -> Normal {
        let (mean, mle, sum_sq) = weighted_moments(real, synthetic, w);
        Normal { mean, variance: self.0.variance(mle, sum_sq, previous) }
    }
    fn measure(&self, p: &Normal, truth: &Normal, out: &mut [f64]) {
        self.0.measure(p, truth, out);
    }
    fn expectations(&self, strategy: Strategy, generations: usize) -> Vec<(&'static str, Expectation)> {
        self.0.closed_forms(strategy, generations)
    }
}

/// The `gaussian` model: 1-D N(μ, σ²), refitting mean and variance (MLE or unbiased).
pub(crate) struct Gaussian {
    pub spec: GaussianSpec,
}

const GAUSSIAN_METRICS: &[MetricInfo] = &[
    sim_metric!("variance", Lower, "[0,inf)", "fitted variance σ²_k"),
    sim_metric!("std", Lower, "[0,inf)", "fitted standard deviation σ_k"),
    sim_metric!(
        "log_variance_ratio",
        Lower,
        "(-inf,inf)",
        "ln(σ²_k / σ²_0): heavy-tail-free view of the shrinkage"
    ),
    sim_metric!("mean_drift_sq", Higher, "[0,inf)", "(μ_k − μ_0)²"),
    sim_metric!(
        "w2_sq",
        Higher,
        "[0,inf)",
        "squared 2-Wasserstein distance to generation 0: (μ_k − μ_0)² + (σ_k − σ_0)²"
    ),
];

impl NormalModel for Gaussian {
    fn metrics(&self) -> &'static [MetricInfo] {
        GAUSSIAN_METRICS
    }
    fn truth(&self) -> Normal {
        Normal { mean: self.spec.mean, variance: self.spec.std * self.spec.std }
    }
    fn variance(&self, mle: f64, sum_sq_weights: f64, _previous: &Normal) -> f64 {
        match self.spec.estimator {
            Estimator::Mle => mle,
            Estimator::Unbiased => mle / (1.0 - sum_sq_weights),
        }
    }
    fn measure(&self, p: &Normal, truth: &Normal, out: &mut [f64]) {
        let drift = (p.mean - truth.mean).powi(2);
        let sd = p.variance.sqrt();
        out[0] = p.variance;
        out[1] = sd;
        out[2] = (p.variance / truth.variance).ln();
        out[3] = drift;
        out[4] = drift + (sd - truth.variance.sqrt()).powi(2);
    }
    fn closed_forms(&self, strategy: Strategy, generations: usize) -> Vec<(&'static str, Expectation)> {
        self.replace_closed_forms(strategy, generations)
    }
}

fn curve(generations: usize, f: impl Fn(f64) -> f64) -> Vec<Option<f64>> {
    (0..=generations).map(|n| Some(f(n as f64))).collect()
}

impl Gaussian {
    /// Closed forms under `replace` (science.md §1.3, targets 1 and 2).
    fn replace_closed_forms(
        &self,
        strategy: Strategy,
        generations: usize,
    ) -> Vec<(&'static str, Expectation)> {
        if strategy != Strategy::Replace {
            return Vec::new();
        }
        let m = self.spec.samples as f64;
        let s2 = self.spec.std * self.spec.std;
        let a = (m - 1.0) / m;
        let (divisor, std_factor, name) = match self.spec.estimator {
            Estimator::Mle => (m, c4(self.spec.samples) * a.sqrt(), "MLE"),
            Estimator::Unbiased => (m - 1.0, c4(self.spec.samples), "unbiased"),
        };
        let log_step = expected_log_chi2(m - 1.0, divisor);
        let exact =
            |statistic, source: String, values| Expectation { statistic, exact: true, source, values };
        let mut out = vec![
            (
                "log_variance_ratio",
                exact(
                    Statistic::Mean,
                    format!(
                        "n·(ψ((M−1)/2) + ln 2 − ln {}) ({name} refit; Shumailov et al. 2024)",
                        if divisor == m { "M" } else { "(M−1)" }
                    ),
                    curve(generations, |n| n * log_step),
                ),
            ),
            (
                "variance",
                Expectation {
                    statistic: Statistic::Median,
                    exact: false,
                    source: "median ≈ σ0²·exp(E[ln σ²_n/σ0²]) (log-normal approximation)".into(),
                    values: curve(generations, |n| s2 * (n * log_step).exp()),
                },
            ),
            (
                "std",
                exact(
                    Statistic::Mean,
                    format!("σ0·({})^n", if divisor == m { "c4(M)·sqrt((M−1)/M)" } else { "c4(M)" }),
                    curve(generations, |n| self.spec.std * std_factor.powf(n)),
                ),
            ),
        ];
        match self.spec.estimator {
            Estimator::Mle => {
                out.push((
                    "variance",
                    exact(Statistic::Mean, "σ0²·((M−1)/M)^n".into(), curve(generations, |n| s2 * a.powf(n))),
                ));
                out.push((
                    "mean_drift_sq",
                    exact(
                        Statistic::Mean,
                        "σ0²·(1 − ((M−1)/M)^n)".into(),
                        curve(generations, |n| s2 * (1.0 - a.powf(n))),
                    ),
                ));
                out.push((
                    "w2_sq",
                    exact(
                        Statistic::Mean,
                        "2σ0²·(1 − (c4(M)·sqrt((M−1)/M))^n)".into(),
                        curve(generations, |n| 2.0 * s2 * (1.0 - std_factor.powf(n))),
                    ),
                ));
            }
            Estimator::Unbiased => {
                out.push((
                    "variance",
                    exact(Statistic::Mean, "σ0² (martingale)".into(), curve(generations, |_| s2)),
                ));
                out.push((
                    "mean_drift_sq",
                    exact(Statistic::Mean, "σ0²·n/M".into(), curve(generations, |n| s2 * n / m)),
                ));
                out.push((
                    "w2_sq",
                    exact(
                        Statistic::Mean,
                        "σ0²·(n/M + 2 − 2·c4(M)^n)".into(),
                        curve(generations, |n| s2 * (n / m + 2.0 - 2.0 * std_factor.powf(n))),
                    ),
                ));
            }
        }
        out
    }
}

/// The `mean` model: estimate the mean of N(μ0, σ²) with σ known.
pub(crate) struct MeanEstimation {
    pub spec: MeanSpec,
}

const MEAN_METRICS: &[MetricInfo] = &[
    sim_metric!("sq_error", Higher, "[0,inf)", "(μ_k − μ_0)²; its mean is Var(μ_k)"),
    sim_metric!("mean", Neither, "(-inf,inf)", "fitted mean μ_k"),
];

impl NormalModel for MeanEstimation {
    fn metrics(&self) -> &'static [MetricInfo] {
        MEAN_METRICS
    }
    fn truth(&self) -> Normal {
        Normal { mean: 0.0, variance: self.spec.sigma * self.spec.sigma }
    }
    fn variance(&self, _mle: f64, _sum_sq_weights: f64, previous: &Normal) -> f64 {
        previous.variance
    }
    fn measure(&self, p: &Normal, truth: &Normal, out: &mut [f64]) {
        out[0] = (p.mean - truth.mean).powi(2);
        out[1] = p.mean;
    }
    fn closed_forms(&self, strategy: Strategy, generations: usize) -> Vec<(&'static str, Expectation)> {
        self.var_closed_forms(strategy, generations)
    }
}

impl MeanEstimation {
    /// Closed forms of Var(μ_n) (science.md targets 4a and 9).
    fn var_closed_forms(&self, strategy: Strategy, generations: usize) -> Vec<(&'static str, Expectation)> {
        let m = self.spec.samples as f64;
        let unit = self.spec.sigma * self.spec.sigma / m;
        // Var_n = step · Σ_{i<n} ρ^{2i} for the AR(1) error recursion e_n = ρ e_{n−1} + noise.
        let ar1 = |rho: f64, step: f64| {
            curve(generations, move |n| step * (0..n as usize).map(|i| rho.powi(2 * i as i32)).sum::<f64>())
        };
        let (source, values) = match strategy {
            Strategy::Replace => (
                "σ²·n/M (linear growth; Gerstgrasser et al. 2024)".to_string(),
                curve(generations, |n| unit * n),
            ),
            Strategy::Accumulate => (
                "σ²/M·H2(n), H2(n) = Σ 1/i² → π²/6 (Gerstgrasser et al.; Dey & Donoho 2024)".to_string(),
                curve(generations, |n| unit * h2(n as usize)),
            ),
            Strategy::Fresh(share) => {
                let real = fresh_real(share, self.spec.samples) as f64;
                let rho = (m - real) / m;
                (
                    format!(
                        "σ²/N·Σ_{{i<n}} ρ^(2i), ρ = {rho} synthetic share (fresh-data loop; stationary σ²/(N(1−ρ²)))"
                    ),
                    ar1(rho, unit),
                )
            }
            Strategy::Weighted(w) => (
                "σ²/M·(w² + (1−w)²)·Σ_{i<n} (1−w)^(2i) (stationary minimum at w = 0.618; He et al. 2025)"
                    .to_string(),
                ar1(1.0 - w, unit * (w * w + (1.0 - w) * (1.0 - w))),
            ),
            Strategy::AccumulateSubsample => return Vec::new(),
        };
        vec![("sq_error", Expectation { statistic: Statistic::Mean, exact: true, source, values })]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::replicate_rng;

    /// Every generation's fitted model under `replace` from N(0, 1), one row per replicate;
    /// `raw` draws every sample (the `accumulate-subsample` path), otherwise only the
    /// sufficient statistics are drawn.
    fn replace_fits(
        estimator: Estimator,
        m: usize,
        generations: usize,
        replicates: usize,
        raw: bool,
        seed: u64,
    ) -> Vec<Vec<Normal>> {
        let spec = GaussianSpec { samples: m, estimator, mean: 0.0, std: 1.0 };
        let family = Normal1d(Gaussian { spec });
        (0..replicates)
            .map(|r| {
                let mut rng = replicate_rng(seed, r as u64);
                let mut p = family.truth(&mut rng);
                let mut row = vec![p];
                for _ in 0..generations {
                    let mut data = family.empty(raw);
                    family.draw_into(&p, m, 0, &mut data, &mut rng);
                    p = family.fit(&data, &p, &mut rng);
                    row.push(p);
                }
                row
            })
            .collect()
    }

    fn mean_se(values: impl Iterator<Item = f64>) -> (f64, f64) {
        let values: Vec<f64> = values.collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }

    #[test]
    fn sufficient_statistics_reproduce_the_closed_forms() {
        // (estimator, M, generation, closed-form E[σ²_n], E[μ_n²]); M = 2 draws χ²(1), and the
        // generations keep ln σ²_n's spread below target 1's (1.4), where 4 SE is a fair test
        let a = |m: f64| (m - 1.0) / m;
        let cases = [
            (Estimator::Mle, 2, 1, a(2.0), 1.0 - a(2.0)),
            (Estimator::Mle, 10, 5, a(10.0).powi(5), 1.0 - a(10.0).powi(5)),
            (Estimator::Mle, 100, 50, a(100.0).powi(50), 1.0 - a(100.0).powi(50)),
            (Estimator::Unbiased, 3, 1, 1.0, 1.0 / 3.0),
            (Estimator::Unbiased, 10, 5, 1.0, 0.5),
            (Estimator::Unbiased, 100, 50, 1.0, 0.5),
        ];
        for (i, (estimator, m, n, variance, drift)) in cases.into_iter().enumerate() {
            let fits = replace_fits(estimator, m, n, 20_000, false, 100 + i as u64);
            let (got, se) = mean_se(fits.iter().map(|row| row[n].variance));
            assert!(
                (got - variance).abs() <= 4.0 * se,
                "{estimator:?} M = {m}: E[σ²_{n}] {got} ± {se} vs {variance}"
            );
            let (got, se) = mean_se(fits.iter().map(|row| row[n].mean.powi(2)));
            assert!(
                (got - drift).abs() <= 4.0 * se,
                "{estimator:?} M = {m}: E[μ_{n}²] {got} ± {se} vs {drift}"
            );
        }
    }

    /// Two-sample Kolmogorov-Smirnov statistic sup |F_a − F_b|.
    fn ks_statistic(mut a: Vec<f64>, mut b: Vec<f64>) -> f64 {
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let (mut i, mut j, mut d) = (0, 0, 0.0f64);
        while i < a.len() && j < b.len() {
            let x = a[i].min(b[j]);
            while i < a.len() && a[i] <= x {
                i += 1;
            }
            while j < b.len() && b[j] <= x {
                j += 1;
            }
            d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
        }
        d
    }

    type Metric = fn(&Normal) -> f64;

    #[test]
    fn sufficient_statistics_match_drawing_every_sample() {
        let (m, generations, replicates) = (10, 5, 20_000);
        let samples = replace_fits(Estimator::Mle, m, generations, replicates, true, 1);
        let fast = replace_fits(Estimator::Mle, m, generations, replicates, false, 2);
        // two-sample KS critical value at α = 1e-4: sqrt(−ln(α/2)/2)·sqrt(2/R)
        let ks_limit = (-(0.5e-4f64).ln() / 2.0).sqrt() * (2.0 / replicates as f64).sqrt();
        let metrics: [(&str, Metric); 3] =
            [("σ²", |p| p.variance), ("μ²", |p| p.mean * p.mean), ("ln σ²", |p| p.variance.ln())];
        for g in 1..=generations {
            for (name, metric) in metrics {
                let column =
                    |fits: &[Vec<Normal>]| fits.iter().map(|row| metric(&row[g])).collect::<Vec<_>>();
                let (a, b) = (column(&samples), column(&fast));
                let (mean_a, se_a) = mean_se(a.iter().copied());
                let (mean_b, se_b) = mean_se(b.iter().copied());
                let se = se_a.hypot(se_b);
                assert!(
                    (mean_a - mean_b).abs() <= 4.0 * se,
                    "generation {g} {name}: every sample {mean_a} vs sufficient statistics {mean_b} (4 SE = {})",
                    4.0 * se
                );
                let d = ks_statistic(a, b);
                assert!(d <= ks_limit, "generation {g} {name}: KS distance {d} > {ks_limit}");
            }
        }
    }
}
