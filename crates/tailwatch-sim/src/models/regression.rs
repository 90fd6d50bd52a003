//! `regression`: y = X w* + ε on a fixed Gaussian design, OLS refitted on model labels; test
//! error grows linearly under replace and stays below π²/6 units under accumulate
//! (Gerstgrasser et al. 2024; Dohmatob, Feng & Kempe 2024).
use std::sync::Arc;

use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::Strategy;
use crate::closed_form::h2;
use crate::family::Family;
use crate::rng::SimRng;
use crate::spec::RegressionSpec;
use crate::summary::{Expectation, MetricInfo, Statistic, sim_metric};

/// The per-replicate design, fixed across generations.
#[derive(Debug)]
pub(crate) struct Design {
    x: DMatrix<f64>,
    /// (XᵀX)⁻¹Xᵀ: OLS when every row has the same number of labels.
    pseudo_inverse: DMatrix<f64>,
}

/// A fitted (or the true) weight vector on the shared design.
#[derive(Debug, Clone)]
pub(crate) struct Linear {
    design: Arc<Design>,
    w: DVector<f64>,
}

/// Labels per design row: count and sum (sufficient for OLS), plus the raw labels if needed.
#[derive(Debug, Clone)]
pub(crate) struct Labels {
    count: Vec<f64>,
    sum: Vec<f64>,
    raw: Option<Vec<(u32, f64)>>,
}

/// The `regression` model.
pub(crate) struct Regression {
    pub spec: RegressionSpec,
}

const METRICS: &[MetricInfo] = &[sim_metric!(
    "test_error",
    Higher,
    "[0,inf)",
    "excess test error E_x[(xᵀŵ − xᵀw*)²] = ‖ŵ − w*‖² for x ~ N(0, I)"
)];

impl Regression {
    fn labels(&self, keep_raw: bool) -> Labels {
        Labels {
            count: vec![0.0; self.spec.samples],
            sum: vec![0.0; self.spec.samples],
            raw: keep_raw.then(Vec::new),
        }
    }

    /// Weighted least squares: Σ_groups g_w Σ_rows count·x xᵀ β = Σ_groups g_w Σ_rows x·sum.
    fn solve(&self, design: &Design, groups: &[(&Labels, f64)]) -> DVector<f64> {
        let d = self.spec.dim;
        let first = groups[0].0.count[0];
        let uniform = groups.len() == 1 && groups[0].0.count.iter().all(|&c| c == first) && first > 0.0;
        if uniform {
            let mean = DVector::from_iterator(self.spec.samples, groups[0].0.sum.iter().map(|s| s / first));
            return &design.pseudo_inverse * mean;
        }
        let mut a = DMatrix::<f64>::zeros(d, d);
        let mut b = DVector::<f64>::zeros(d);
        for (labels, weight) in groups {
            for row in 0..self.spec.samples {
                let c = labels.count[row] * weight;
                if c == 0.0 {
                    continue;
                }
                let x = design.x.row(row).transpose();
                a.ger(c, &x, &x, 1.0);
                b.axpy(labels.sum[row] * weight, &x, 1.0);
            }
        }
        match a.clone().cholesky() {
            Some(ch) => ch.solve(&b),
            None => a.svd(true, true).solve(&b, 1e-12).expect("SVD solve"),
        }
    }
}

impl Family for Regression {
    type Params = Linear;
    type Data = Labels;

    fn metrics(&self) -> &'static [MetricInfo] {
        METRICS
    }
    fn truth(&self, rng: &mut SimRng) -> Linear {
        let (t, d) = (self.spec.samples, self.spec.dim);
        let x = DMatrix::from_fn(t, d, |_, _| rng.sample::<f64, _>(StandardNormal));
        let xtx = x.transpose() * &x;
        let inverse = xtx
            .clone()
            .try_inverse()
            .unwrap_or_else(|| xtx.pseudo_inverse(1e-12).expect("pseudo-inverse of a symmetric matrix"));
        let pseudo_inverse = inverse * x.transpose();
        Linear { design: Arc::new(Design { x, pseudo_inverse }), w: DVector::from_element(d, 1.0) }
    }
    fn empty(&self, keep_raw: bool) -> Labels {
        self.labels(keep_raw)
    }
    /// Labels for rows slot, slot + 1, ... (cyclically): xᵀw + ε.
    fn draw_into(&self, p: &Linear, n: usize, slot: usize, data: &mut Labels, rng: &mut SimRng) {
        let sigma = self.spec.noise_variance.sqrt();
        let fitted = &p.design.x * &p.w;
        for j in 0..n {
            let row = (slot + j) % self.spec.samples;
            let y = fitted[row] + sigma * rng.sample::<f64, _>(StandardNormal);
            data.count[row] += 1.0;
            data.sum[row] += y;
            if let Some(raw) = &mut data.raw {
                raw.push((row as u32, y));
            }
        }
    }
    fn append(&self, into: &mut Labels, from: Labels) {
        for row in 0..self.spec.samples {
            into.count[row] += from.count[row];
            into.sum[row] += from.sum[row];
        }
        if let (Some(mine), Some(theirs)) = (&mut into.raw, from.raw) {
            mine.extend(theirs);
        }
    }
    fn subsample(&self, pool: &Labels, n: usize, rng: &mut SimRng) -> Labels {
        let raw = pool.raw.as_ref().expect("subsampling needs raw labels");
        let mut out = self.labels(false);
        for i in rand::seq::index::sample(rng, raw.len(), n.min(raw.len())) {
            let (row, y) = raw[i];
            out.count[row as usize] += 1.0;
            out.sum[row as usize] += y;
        }
        out
    }
    fn fit(&self, data: &Labels, previous: &Linear, _rng: &mut SimRng) -> Linear {
        Linear { design: previous.design.clone(), w: self.solve(&previous.design, &[(data, 1.0)]) }
    }
    fn fit_weighted(
        &self,
        real: &Labels,
        synthetic: &Labels,
        w: f64,
        previous: &Linear,
        _: &mut SimRng,
    ) -> Linear {
        let total = |l: &Labels| l.count.iter().sum::<f64>().max(1.0);
        let groups = [(real, w / total(real)), (synthetic, (1.0 - w) / total(synthetic))];
        Linear { design: previous.design.clone(), w: self.solve(&previous.design, &groups) }
    }
    fn measure(&self, p: &Linear, truth: &Linear, out: &mut [f64]) {
        out[0] = (&p.w - &truth.w).norm_squared();
    }
    fn expectations(&self, strategy: Strategy, generations: usize) -> Vec<(&'static str, Expectation)> {
        let (t, d) = (self.spec.samples as f64, self.spec.dim as f64);
        let unit = self.spec.noise_variance * d / (t - d - 1.0);
        let (source, values): (&str, Vec<Option<f64>>) = match strategy {
            Strategy::Replace => (
                "n·σ²d/(T−d−1) (linear growth; Gerstgrasser et al. 2024)",
                (0..=generations).map(|n| Some(unit * n as f64)).collect(),
            ),
            Strategy::Accumulate => (
                "H2(n)·σ²d/(T−d−1) ≤ π²/6 units (Gerstgrasser et al. 2024)",
                (0..=generations).map(|n| Some(unit * h2(n))).collect(),
            ),
            _ => return Vec::new(),
        };
        vec![(
            "test_error",
            Expectation { statistic: Statistic::Mean, exact: true, source: source.into(), values },
        )]
    }
}
