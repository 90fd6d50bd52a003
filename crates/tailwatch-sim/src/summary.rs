//! Per-generation statistics over replicates (mean, standard error, quantiles) and the report.
use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::Strategy;
use crate::spec::ModelSpec;

pub use tailwatch_metrics::catalog::MetricInfo;

/// A simulator metric of the catalog: `sim_metric!(id, direction, range, definition)`, in
/// [`MetricFamily::Simulation`](tailwatch_metrics::catalog::MetricFamily::Simulation).
macro_rules! sim_metric {
    ($id:expr, $direction:ident, $range:expr, $definition:expr) => {
        $crate::summary::MetricInfo {
            id: $id,
            family: tailwatch_metrics::catalog::MetricFamily::Simulation,
            collapse: tailwatch_metrics::catalog::Direction::$direction,
            range: $range,
            definition: $definition,
        }
    };
}
pub(crate) use sim_metric;

/// A report lists its metrics as `{id, description, collapse}` with the words `up`, `down`,
/// `neither` (the report's format since its first version).
fn serialize_report_metrics<S: serde::Serializer>(
    metrics: &[MetricInfo],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct ReportMetric {
        id: &'static str,
        description: &'static str,
        #[serde(with = "tailwatch_metrics::catalog::direction_words::trend")]
        collapse: tailwatch_metrics::catalog::Direction,
    }
    serializer.collect_seq(metrics.iter().map(|m| ReportMetric {
        id: m.id,
        description: m.definition,
        collapse: m.collapse,
    }))
}

/// Which statistic of the replicates a closed form predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// The expectation (compare with `mean`, within a few `se`).
    Mean,
    /// The median (compare with `median`).
    Median,
}

/// A closed-form expectation for one metric and strategy.
#[derive(Debug, Clone, Serialize)]
pub struct Expectation {
    /// The statistic it predicts.
    pub statistic: Statistic,
    /// Exact, or an approximation (see `source`).
    pub exact: bool,
    /// Formula and paper.
    pub source: String,
    /// One value per generation 0..=N (`null` where undefined).
    pub values: Vec<Option<f64>>,
}

/// One metric over generations, summarised over replicates. Every vector has one entry per
/// generation 0..=N; `null` where no replicate produced a finite value.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Series {
    /// Mean over replicates.
    pub mean: Vec<Option<f64>>,
    /// Standard error of the mean (sample standard deviation / sqrt(R)).
    pub se: Vec<Option<f64>>,
    /// 5 % quantile.
    pub q05: Vec<Option<f64>>,
    /// 25 % quantile.
    pub q25: Vec<Option<f64>>,
    /// Median.
    pub median: Vec<Option<f64>>,
    /// 75 % quantile.
    pub q75: Vec<Option<f64>>,
    /// 95 % quantile.
    pub q95: Vec<Option<f64>>,
    /// Closed forms, where known.
    pub expected: Vec<Expectation>,
}

/// Everything one strategy produced.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyResult {
    /// The strategy.
    pub strategy: Strategy,
    /// Per metric id.
    pub metrics: BTreeMap<String, Series>,
}

/// The result of `tailwatch simulate` (its `--json` document).
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    /// Version of tailwatch that produced it.
    pub tailwatch_version: String,
    /// Model name (`gaussian`, `zipf`, `ngram`, ...).
    pub model: String,
    /// The model's parameters.
    pub parameters: ModelSpec,
    /// Generations after generation 0 (the truth, or the human corpus).
    pub generations: usize,
    /// Independent replicates per strategy.
    pub replicates: usize,
    /// Base seed; replicate r uses its own stream derived from (seed, r).
    pub seed: u64,
    /// The metrics, in display order.
    #[serde(serialize_with = "serialize_report_metrics")]
    pub metrics: Vec<MetricInfo>,
    /// One entry per strategy, in the order given.
    pub strategies: Vec<StrategyResult>,
    /// Wall time of the simulation in seconds.
    pub elapsed_s: f64,
    /// Remarks (approximations, skipped closed forms).
    pub notes: Vec<String>,
}

impl SimReport {
    /// The series of `metric` under the strategy at `index`.
    pub fn series(&self, index: usize, metric: &str) -> Option<&Series> {
        self.strategies.get(index)?.metrics.get(metric)
    }
}

/// Raw replicate values: `values[replicate][generation * n_metrics + metric]`.
#[derive(Debug, Clone)]
pub struct Trajectories {
    /// Metrics per generation.
    pub n_metrics: usize,
    /// Generations including generation 0.
    pub n_generations: usize,
    /// One flat row per replicate.
    pub values: Vec<Vec<f64>>,
}

impl Trajectories {
    /// The finite values of one metric at one generation, across replicates.
    pub fn column(&self, generation: usize, metric: usize) -> Vec<f64> {
        self.values
            .iter()
            .map(|row| row[generation * self.n_metrics + metric])
            .filter(|v| v.is_finite())
            .collect()
    }

    /// Summarise every metric into a [`Series`], one generation per task on the current rayon
    /// pool (the numbers do not depend on the thread count).
    pub fn summarize(&self, metrics: &[MetricInfo]) -> BTreeMap<String, Series> {
        let width = self.n_metrics;
        // A row holds each generation's metrics side by side, so one pass over the rows gathers
        // every metric's column of a generation, into buffers reused across generations.
        let generations: Vec<Vec<Described>> = (0..self.n_generations)
            .into_par_iter()
            .map_init(
                || vec![Vec::with_capacity(self.values.len()); width],
                |columns, g| {
                    columns.iter_mut().for_each(Vec::clear);
                    for row in &self.values {
                        for (column, &v) in columns.iter_mut().zip(&row[g * width..(g + 1) * width]) {
                            if v.is_finite() {
                                column.push(v);
                            }
                        }
                    }
                    columns.iter_mut().map(|column| describe(column)).collect()
                },
            )
            .collect();
        let mut out = BTreeMap::new();
        for (m, info) in metrics.iter().enumerate() {
            let mut series = Series::default();
            for stats in generations.iter().map(|generation| &generation[m]) {
                series.mean.push(stats.mean);
                series.se.push(stats.se);
                series.q05.push(stats.quantiles[0]);
                series.q25.push(stats.quantiles[1]);
                series.median.push(stats.quantiles[2]);
                series.q75.push(stats.quantiles[3]);
                series.q95.push(stats.quantiles[4]);
            }
            out.insert(info.id.to_string(), series);
        }
        out
    }
}

struct Described {
    mean: Option<f64>,
    se: Option<f64>,
    quantiles: [Option<f64>; 5],
}

/// Linear-interpolation quantile of sorted values (numpy's default, type 7).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

fn describe(values: &mut [f64]) -> Described {
    let n = values.len();
    if n == 0 {
        return Described { mean: None, se: None, quantiles: [None; 5] };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let se = (n > 1).then(|| {
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (var / n as f64).sqrt()
    });
    Described { mean: Some(mean), se, quantiles: quantiles(values) }
}

/// The probabilities of [`Series`]' quantiles, ascending.
const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// [`quantile_sorted`] at each of [`QUANTILES`], found by selection instead of a full sort:
/// the same order statistics, in O(n) per quantile (a sort of every column of a 20,000-replicate
/// run took longer than simulating it). Reorders `values`, which must not be empty.
fn quantiles(values: &mut [f64]) -> [Option<f64>; 5] {
    let last = values.len() - 1;
    // values[..from] are all ≤ values[from..]: each rank is selected within what is left
    let mut from = 0;
    QUANTILES.map(|q| {
        let pos = q * last as f64;
        let lo = pos.floor() as usize;
        let hi = pos.ceil() as usize;
        let (_, at_lo, above) = values[from..].select_nth_unstable_by(lo - from, f64::total_cmp);
        let at_lo = *at_lo;
        let at_hi =
            if hi == lo { at_lo } else { above.iter().copied().min_by(f64::total_cmp).unwrap_or(at_lo) };
        from = lo;
        Some(at_lo + (at_hi - at_lo) * (pos - lo as f64))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), Some(2.5));
        assert_eq!(quantile_sorted(&v, 0.05), Some(1.15));
        assert_eq!(quantile_sorted(&[7.0], 0.95), Some(7.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }

    proptest::proptest! {
        #[test]
        fn selected_quantiles_equal_sorted_quantiles(
            mut values in proptest::collection::vec(proptest::prop_oneof![-3.0..3.0f64, proptest::sample::select(vec![-0.0, 0.0, 1.0])], 1..300)
        ) {
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            let want = QUANTILES.map(|q| quantile_sorted(&sorted, q).map(f64::to_bits));
            proptest::prop_assert_eq!(quantiles(&mut values).map(|v| v.map(f64::to_bits)), want);
        }
    }

    #[test]
    fn summary_skips_non_finite_values() {
        let t = Trajectories {
            n_metrics: 1,
            n_generations: 1,
            values: vec![vec![1.0], vec![3.0], vec![f64::NAN], vec![f64::NEG_INFINITY]],
        };
        let info = [sim_metric!("x", Higher, "[0,1]", "")];
        let s = &t.summarize(&info)["x"];
        assert_eq!(s.mean[0], Some(2.0));
        assert_eq!(s.se[0], Some(1.0));
        assert_eq!(s.median[0], Some(2.0));
    }
}
