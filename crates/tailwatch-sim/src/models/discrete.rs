//! `categorical` and `zipf`: a distribution over K symbols refitted by its frequencies. Lost
//! symbols never return (Wright-Fisher drift; Shumailov et al. 2024 §discrete; Dohmatob et al.
//! 2024 tail cutting).
use rand::RngExt;
use rand_distr::{Binomial, Hypergeometric};

use crate::Strategy;
use crate::closed_form::survival_factors;
use crate::family::Family;
use crate::rng::SimRng;
use crate::spec::{CategoricalSpec, ZipfSpec};
use crate::summary::{Expectation, MetricInfo, Statistic, sim_metric};

/// Symbol counts, sorted by symbol, zero counts omitted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counts {
    entries: Vec<(u32, u64)>,
    total: u64,
}

impl Counts {
    fn merge(&mut self, other: &Counts) {
        let mut merged = Vec::with_capacity(self.entries.len() + other.entries.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.entries, &other.entries);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i].0 < b[j].0) {
                merged.push(a[i]);
                i += 1;
            } else if i == a.len() || b[j].0 < a[i].0 {
                merged.push(b[j]);
                j += 1;
            } else {
                merged.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
        self.entries = merged;
        self.total += other.total;
    }

    fn frequencies(&self) -> Vec<(u32, f64)> {
        let total = self.total as f64;
        self.entries.iter().map(|&(s, c)| (s, c as f64 / total)).collect()
    }
}

/// The fitted distribution: (symbol, probability) for every symbol with positive probability.
pub(crate) type Support = Vec<(u32, f64)>;

/// A distribution over K symbols: categorical (uniform) or truncated Zipf.
pub(crate) struct Discrete {
    truth: Support,
    zipf: bool,
    samples: usize,
}

const METRICS: &[MetricInfo] = &[
    sim_metric!("surviving", Lower, "[1,K]", "symbols with positive fitted probability"),
    sim_metric!(
        "lost_mass",
        Higher,
        "[0,1]",
        "true probability mass of the symbols the model lost (the tail it forgot)"
    ),
    sim_metric!("gini_simpson", Lower, "[0,1)", "1 − Σ p̂² (heterozygosity)"),
    sim_metric!("entropy", Lower, "[0,log2 K]", "Shannon entropy of p̂ in bits"),
    sim_metric!("fixed", Higher, "{0,1}", "1 when a single symbol is left (its mean is Pr(fixation))"),
    sim_metric!("tv_to_truth", Higher, "[0,1]", "total variation distance ½Σ|p̂ − p0|"),
];

impl Discrete {
    /// K equally likely categories.
    pub fn categorical(spec: &CategoricalSpec) -> Self {
        let p = 1.0 / spec.categories as f64;
        Discrete {
            truth: (0..spec.categories as u32).map(|s| (s, p)).collect(),
            zipf: false,
            samples: spec.samples,
        }
    }

    /// p_i ∝ i^(−β), i = 1..=K.
    pub fn zipf(spec: &ZipfSpec) -> Self {
        let weights: Vec<f64> = (1..=spec.symbols).map(|i| (i as f64).powf(-spec.exponent)).collect();
        let total: f64 = weights.iter().sum();
        let truth = weights.iter().enumerate().map(|(i, w)| (i as u32, w / total)).collect();
        Discrete { truth, zipf: true, samples: spec.samples }
    }
}

impl Family for Discrete {
    type Params = Support;
    type Data = Counts;

    fn metrics(&self) -> &'static [MetricInfo] {
        METRICS
    }
    fn truth(&self, _rng: &mut SimRng) -> Support {
        self.truth.clone()
    }
    fn empty(&self, _keep_raw: bool) -> Counts {
        Counts::default()
    }
    /// A multinomial draw as a chain of conditional binomials: O(support), not O(n).
    fn draw_into(&self, support: &Support, n: usize, _slot: usize, data: &mut Counts, rng: &mut SimRng) {
        let mut drawn = Counts { entries: Vec::new(), total: n as u64 };
        let mut remaining = n as u64;
        let mut mass_left = 1.0;
        for (i, &(symbol, p)) in support.iter().enumerate() {
            if remaining == 0 {
                break;
            }
            let x = if i + 1 == support.len() {
                remaining
            } else {
                let q = (p / mass_left).clamp(0.0, 1.0);
                rng.sample(Binomial::new(remaining, q).expect("probability in [0, 1]"))
            };
            if x > 0 {
                drawn.entries.push((symbol, x));
            }
            remaining -= x;
            mass_left -= p;
        }
        data.merge(&drawn);
    }
    fn append(&self, into: &mut Counts, from: Counts) {
        into.merge(&from);
    }
    /// A uniform subset without replacement: a chain of hypergeometric draws.
    fn subsample(&self, pool: &Counts, n: usize, rng: &mut SimRng) -> Counts {
        let mut left_total = pool.total;
        let mut need = (n as u64).min(pool.total);
        let mut out = Counts { entries: Vec::new(), total: need };
        for &(symbol, count) in &pool.entries {
            if need == 0 {
                break;
            }
            let x = rng.sample(Hypergeometric::new(left_total, count, need).expect("valid hypergeometric"));
            if x > 0 {
                out.entries.push((symbol, x));
            }
            left_total -= count;
            need -= x;
        }
        out
    }
    fn fit(&self, data: &Counts, _previous: &Support, _rng: &mut SimRng) -> Support {
        data.frequencies()
    }
    fn fit_weighted(
        &self,
        real: &Counts,
        synthetic: &Counts,
        w: f64,
        _: &Support,
        _: &mut SimRng,
    ) -> Support {
        let mut out: Support = Vec::new();
        let (a, b) = (real.frequencies(), synthetic.frequencies());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i].0 < b[j].0) {
                out.push((a[i].0, w * a[i].1));
                i += 1;
            } else if i == a.len() || b[j].0 < a[i].0 {
                out.push((b[j].0, (1.0 - w) * b[j].1));
                j += 1;
            } else {
                out.push((a[i].0, w * a[i].1 + (1.0 - w) * b[j].1));
                i += 1;
                j += 1;
            }
        }
        out.retain(|e| e.1 > 0.0);
        out
    }
    fn measure(&self, support: &Support, truth: &Support, out: &mut [f64]) {
        // true mass of the symbols missing from the support (summed directly: no cancellation)
        let mut lost = 0.0;
        let mut kept = support.iter().map(|e| e.0).peekable();
        for &(symbol, p) in truth {
            if kept.peek() == Some(&symbol) {
                kept.next();
            } else {
                lost += p;
            }
        }
        let tv_kept: f64 = support.iter().map(|&(s, p)| (p - truth[s as usize].1).abs()).sum();
        out[0] = support.len() as f64;
        out[1] = lost;
        out[2] = 1.0 - support.iter().map(|e| e.1 * e.1).sum::<f64>();
        out[3] = -support.iter().filter(|e| e.1 > 0.0).map(|e| e.1 * e.1.log2()).sum::<f64>();
        out[4] = if support.len() == 1 { 1.0 } else { 0.0 };
        out[5] = 0.5 * (tv_kept + lost);
    }
    fn expectations(&self, strategy: Strategy, generations: usize) -> Vec<(&'static str, Expectation)> {
        if strategy != Strategy::Replace {
            return Vec::new();
        }
        self.closed_forms(generations)
    }
}

impl Discrete {
    /// Closed forms under `replace` (science.md targets 5 and 7).
    fn closed_forms(&self, generations: usize) -> Vec<(&'static str, Expectation)> {
        let m = self.samples as f64;
        let gs0 = 1.0 - self.truth.iter().map(|e| e.1 * e.1).sum::<f64>();
        let g = survival_factors(generations);
        let approx = |source: &str, f: &dyn Fn(f64) -> f64| Expectation {
            statistic: Statistic::Mean,
            exact: false,
            source: source.into(),
            values: g.iter().map(|&gk| Some(f(gk))).collect(),
        };
        let truth = &self.truth;
        let mut out = vec![(
            "gini_simpson",
            Expectation {
                statistic: Statistic::Mean,
                exact: true,
                source: "GS0·(1 − 1/M)^t (Wright-Fisher heterozygosity)".into(),
                values: (0..=generations).map(|t| Some(gs0 * (1.0 - 1.0 / m).powi(t as i32))).collect(),
            },
        )];
        if self.zipf {
            out.push((
                "lost_mass",
                approx(
                    "Σ p_i·exp(−M·p_i·g_k) (Poissonized; Dohmatob et al. 2024, Suresh et al. 2024)",
                    &|gk| truth.iter().map(|&(_, p)| p * (-m * p * gk).exp()).sum(),
                ),
            ));
            out.push((
                "surviving",
                approx(
                    "Σ (1 − exp(−M·p_i·g_k)) (Poissonized lower bracket; Suresh et al. 2024)",
                    &|gk| truth.iter().map(|&(_, p)| 1.0 - (-m * p * gk).exp()).sum(),
                ),
            ));
        }
        out
    }
}
