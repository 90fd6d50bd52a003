//! `poisson`: λ refitted as the sample mean, a critical Galton-Watson process that dies out
//! (Suresh et al. 2024: Pr(λ_k > 0) = 1 − exp(−n λ0 g_k) exactly).
use rand::RngExt;
use rand_distr::Poisson as PoissonDistribution;

use crate::Strategy;
use crate::closed_form::survival_factors;
use crate::family::Family;
use crate::rng::SimRng;
use crate::spec::PoissonSpec;
use crate::summary::{Expectation, MetricInfo, Statistic, sim_metric};

/// Count and sum of draws, plus the draws when a strategy subsamples.
pub(crate) struct Draws {
    n: u64,
    sum: u64,
    raw: Option<Vec<u64>>,
}

/// The `poisson` model.
pub(crate) struct Poisson {
    pub spec: PoissonSpec,
}

const METRICS: &[MetricInfo] = &[
    sim_metric!("alive", Lower, "{0,1}", "1 while λ_k > 0 (its mean is Pr(λ_k > 0))"),
    sim_metric!("lambda", Neither, "[0,inf)", "fitted rate λ_k (a martingale: E = λ0)"),
];

impl Family for Poisson {
    type Params = f64;
    type Data = Draws;

    fn metrics(&self) -> &'static [MetricInfo] {
        METRICS
    }
    fn truth(&self, _rng: &mut SimRng) -> f64 {
        self.spec.lambda
    }
    fn empty(&self, keep_raw: bool) -> Draws {
        Draws { n: 0, sum: 0, raw: keep_raw.then(Vec::new) }
    }
    fn draw_into(&self, lambda: &f64, n: usize, _slot: usize, data: &mut Draws, rng: &mut SimRng) {
        let distribution =
            (*lambda > 0.0).then(|| PoissonDistribution::new(*lambda).expect("validated rate"));
        for _ in 0..n {
            let x = distribution.as_ref().map_or(0, |d| rng.sample(d) as u64);
            data.n += 1;
            data.sum += x;
            if let Some(raw) = &mut data.raw {
                raw.push(x);
            }
        }
    }
    fn append(&self, into: &mut Draws, from: Draws) {
        into.n += from.n;
        into.sum += from.sum;
        if let (Some(mine), Some(theirs)) = (&mut into.raw, from.raw) {
            mine.extend(theirs);
        }
    }
    fn subsample(&self, pool: &Draws, n: usize, rng: &mut SimRng) -> Draws {
        let raw = pool.raw.as_ref().expect("subsampling needs raw draws");
        let mut out = self.empty(false);
        for i in rand::seq::index::sample(rng, raw.len(), n.min(raw.len())) {
            out.n += 1;
            out.sum += raw[i];
        }
        out
    }
    fn fit(&self, data: &Draws, _previous: &f64, _rng: &mut SimRng) -> f64 {
        data.sum as f64 / data.n as f64
    }
    fn fit_weighted(&self, real: &Draws, synthetic: &Draws, w: f64, _: &f64, _: &mut SimRng) -> f64 {
        w * real.sum as f64 / real.n as f64 + (1.0 - w) * synthetic.sum as f64 / synthetic.n as f64
    }
    fn measure(&self, lambda: &f64, _truth: &f64, out: &mut [f64]) {
        out[0] = if *lambda > 0.0 { 1.0 } else { 0.0 };
        out[1] = *lambda;
    }
    fn expectations(&self, strategy: Strategy, generations: usize) -> Vec<(&'static str, Expectation)> {
        let mut out = vec![(
            "lambda",
            Expectation {
                statistic: Statistic::Mean,
                exact: true,
                source: "λ0: every strategy refits an unbiased mean".into(),
                values: vec![Some(self.spec.lambda); generations + 1],
            },
        )];
        if strategy == Strategy::Replace {
            let g = survival_factors(generations);
            let n = self.spec.samples as f64;
            out.push((
                "alive",
                Expectation {
                    statistic: Statistic::Mean,
                    exact: true,
                    source: "1 − exp(−n·λ0·g_k), g_1 = 1, g_k = 1 − e^(−g_(k−1)) (Suresh et al. 2024)".into(),
                    values: g.iter().map(|&gk| Some(1.0 - (-n * self.spec.lambda * gk).exp())).collect(),
                },
            ));
        }
        out
    }
}
