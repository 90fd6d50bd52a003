//! The recursive-training loop shared by every parametric model: draw, pool, refit, measure.
use rayon::prelude::*;
use tailwatch_core::Reporter;

use crate::Strategy;
use crate::rng::{SimRng, replicate_rng};
use crate::summary::{Expectation, MetricInfo, Trajectories};

/// A family of distributions the simulator can fit and sample.
///
/// `Data` is a training set; families may store sufficient statistics in it instead of raw
/// samples, except when `keep_raw` was asked for (accumulate-subsample draws from the pool).
pub(crate) trait Family: Sync {
    /// Fitted parameters (a model).
    type Params: Clone + Send;
    /// A training set.
    type Data: Send;

    /// The metrics [`Family::measure`] writes, in order.
    fn metrics(&self) -> &'static [MetricInfo];
    /// Generation 0: the true distribution (may draw per-replicate quantities, such as a design
    /// matrix).
    fn truth(&self, rng: &mut SimRng) -> Self::Params;
    /// An empty training set.
    fn empty(&self, keep_raw: bool) -> Self::Data;
    /// Add `n` draws from `params` to `data`; `slot` is the index of the first draw within the
    /// generation (fixed designs use it to pick rows).
    fn draw_into(
        &self,
        params: &Self::Params,
        n: usize,
        slot: usize,
        data: &mut Self::Data,
        rng: &mut SimRng,
    );
    /// Move every sample of `from` into `into`.
    fn append(&self, into: &mut Self::Data, from: Self::Data);
    /// A uniformly random subset of `n` samples (without replacement); needs raw samples.
    fn subsample(&self, pool: &Self::Data, n: usize, rng: &mut SimRng) -> Self::Data;
    /// Fit a model to `data`; `previous` is the last generation's model (a warm start).
    fn fit(&self, data: &Self::Data, previous: &Self::Params, rng: &mut SimRng) -> Self::Params;
    /// Fit with total weight `w` on `real` and `1 - w` on `synthetic`.
    fn fit_weighted(
        &self,
        real: &Self::Data,
        synthetic: &Self::Data,
        w: f64,
        previous: &Self::Params,
        rng: &mut SimRng,
    ) -> Self::Params;
    /// Write this generation's metrics (`truth` is generation 0).
    fn measure(&self, params: &Self::Params, truth: &Self::Params, out: &mut [f64]);
    /// Closed-form curves for `strategy` over generations 0..=`generations`, by metric id.
    fn expectations(&self, _strategy: Strategy, _generations: usize) -> Vec<(&'static str, Expectation)> {
        Vec::new()
    }
}

/// How many real samples `fresh:<share>` puts in a generation of `samples`.
pub(crate) fn fresh_real(share: f64, samples: usize) -> usize {
    ((share * samples as f64).round() as usize).min(samples)
}

/// One replicate: generation 0 is the truth, generation k the k-th refit.
pub(crate) fn trajectory<F: Family>(
    family: &F,
    strategy: Strategy,
    generations: usize,
    samples: usize,
    rng: &mut SimRng,
) -> Vec<f64> {
    let n_metrics = family.metrics().len();
    let mut out = vec![f64::NAN; (generations + 1) * n_metrics];
    let truth = family.truth(rng);
    family.measure(&truth, &truth, &mut out[..n_metrics]);
    let keep_raw = strategy == Strategy::AccumulateSubsample;
    let mut pool = family.empty(keep_raw);
    let mut current = truth.clone();
    for k in 1..=generations {
        let next = match strategy {
            Strategy::Replace => {
                let mut data = family.empty(false);
                family.draw_into(&current, samples, 0, &mut data, rng);
                family.fit(&data, &current, rng)
            }
            Strategy::Accumulate | Strategy::AccumulateSubsample => {
                let mut data = family.empty(keep_raw);
                family.draw_into(&current, samples, 0, &mut data, rng);
                family.append(&mut pool, data);
                if keep_raw {
                    let subset = family.subsample(&pool, samples, rng);
                    family.fit(&subset, &current, rng)
                } else {
                    family.fit(&pool, &current, rng)
                }
            }
            Strategy::Fresh(share) => {
                let real = fresh_real(share, samples);
                let mut data = family.empty(false);
                family.draw_into(&truth, real, 0, &mut data, rng);
                family.draw_into(&current, samples - real, real, &mut data, rng);
                family.fit(&data, &current, rng)
            }
            Strategy::Weighted(w) => {
                let mut real = family.empty(false);
                family.draw_into(&truth, samples, 0, &mut real, rng);
                let mut synthetic = family.empty(false);
                family.draw_into(&current, samples, 0, &mut synthetic, rng);
                family.fit_weighted(&real, &synthetic, w, &current, rng)
            }
        };
        current = next;
        family.measure(&current, &truth, &mut out[k * n_metrics..(k + 1) * n_metrics]);
    }
    out
}

/// Every replicate of one strategy, in parallel; replicate r always uses stream (seed, r).
pub(crate) fn run_replicates<F: Family>(
    family: &F,
    strategy: Strategy,
    generations: usize,
    samples: usize,
    replicates: usize,
    seed: u64,
    reporter: &dyn Reporter,
) -> Trajectories {
    let values = (0..replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = replicate_rng(seed, r as u64);
            let row = trajectory(family, strategy, generations, samples, &mut rng);
            reporter.advance(1);
            row
        })
        .collect();
    Trajectories { n_metrics: family.metrics().len(), n_generations: generations + 1, values }
}
