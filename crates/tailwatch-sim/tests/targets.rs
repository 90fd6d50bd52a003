//! The ten reproduction targets of ../shared/docs/science.md, with fixed seeds.
//!
//! Means are checked within 4 standard errors computed from the run itself; medians against a
//! distribution-free order-statistic interval of the same width (ranks R/2 ± 2·sqrt(R), i.e.
//! ±4 SE of the empirical CDF at the median). Replicate counts are the targets' where that
//! runs in seconds; where it is smaller, the tolerance is that run's own SE, never widened.
use tailwatch_sim::closed_form::{h2, hutter_test_error};
use tailwatch_sim::spec::{
    CategoricalSpec, GaussianSpec, GmmSpec, MeanSpec, MvGaussianSpec, PoissonSpec, RegressionSpec, ZipfSpec,
};
use tailwatch_sim::{Estimator, ModelSpec, SimSpec, Strategy, Trajectories, trajectories};

fn spec(model: ModelSpec, generations: usize, replicates: usize, seed: u64) -> SimSpec {
    SimSpec { model, strategies: vec![Strategy::Replace], generations, replicates, seed }
}

fn run(spec: &SimSpec, strategy: Strategy) -> Trajectories {
    trajectories(spec, strategy).unwrap()
}

fn mean_se(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Assert that the replicate mean of `values` is within 4 SE of `expected`.
fn assert_mean(values: &[f64], expected: f64, what: &str) -> (f64, f64) {
    let (mean, se) = mean_se(values);
    assert!(
        (mean - expected).abs() <= 4.0 * se,
        "{what}: mean {mean:.6} vs expected {expected:.6} (|diff| {:.2e} > 4 SE = {:.2e}, R = {})",
        (mean - expected).abs(),
        4.0 * se,
        values.len()
    );
    (mean, se)
}

/// Assert that `expected` lies within the order-statistic interval around the sample median.
fn assert_median(values: &[f64], expected: f64, what: &str) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let r = v.len() as f64;
    let half = 2.0 * r.sqrt();
    let lo = v[((r / 2.0 - half).floor().max(0.0)) as usize];
    let hi = v[((r / 2.0 + half).ceil() as usize).min(v.len() - 1)];
    let median = v[v.len() / 2];
    assert!(
        lo <= expected && expected <= hi,
        "{what}: median {median:.6}, interval [{lo:.6}, {hi:.6}] misses {expected:.6}"
    );
    median
}

fn column(t: &Trajectories, generation: usize, metric: usize) -> Vec<f64> {
    t.column(generation, metric)
}

fn gaussian(estimator: Estimator) -> ModelSpec {
    ModelSpec::Gaussian(GaussianSpec { samples: 100, estimator, mean: 0.0, std: 1.0 })
}

// gaussian metrics: 0 variance, 1 std, 2 log_variance_ratio, 3 mean_drift_sq, 4 w2_sq

#[test]
fn target_1_gaussian_replace_mle() {
    let t = run(&spec(gaussian(Estimator::Mle), 100, 20_000, 1), Strategy::Replace);
    assert_mean(&column(&t, 100, 0), 0.99f64.powi(100), "E[σ²_100]");
    assert_mean(&column(&t, 50, 0), 0.99f64.powi(50), "E[σ²_50]");
    assert_mean(&column(&t, 100, 3), 1.0 - 0.99f64.powi(100), "E[(μ_100 − μ_0)²]");
    let median = assert_median(&column(&t, 100, 0), 0.1328, "median σ²_100");
    assert!((median / 0.1328 - 1.0).abs() < 0.03, "median σ²_100 {median} not within 3 % of 0.1328");
    let c4 = tailwatch_sim::closed_form::c4(100);
    let w2 = 2.0 * (1.0 - (c4 * 0.99f64.sqrt()).powi(100));
    let (mean, _) = assert_mean(&column(&t, 100, 4), w2, "E[W2²]");
    assert!((mean - 1.064).abs() < 0.03, "E[W2²] {mean} far from the reference run's 1.064");
}

#[test]
fn target_2_gaussian_replace_unbiased() {
    let t = run(&spec(gaussian(Estimator::Unbiased), 100, 20_000, 2), Strategy::Replace);
    let (drift, _) = assert_mean(&column(&t, 100, 3), 1.0, "E[(μ_100 − μ_0)²] = n/M");
    assert!((drift - 1.0).abs() < 0.03, "drift {drift} not within 3 %");
    let median = assert_median(&column(&t, 100, 0), 0.3629, "median σ²_100");
    assert!((median / 0.3629 - 1.0).abs() < 0.03, "median {median} not within 3 % of 0.3629");
    let log_step = tailwatch_sim::closed_form::expected_log_chi2(99.0, 99.0);
    assert_mean(&column(&t, 100, 2), 100.0 * log_step, "E[ln σ²_100]");
}

#[test]
fn target_3_multivariate_collapse() {
    let model = ModelSpec::MvGaussian(MvGaussianSpec { samples: 100, dim: 10, estimator: Estimator::Mle });
    let t = run(&spec(model, 20, 4_000, 3), Strategy::Replace);
    let (log_det, _) = assert_mean(&column(&t, 20, 0), -13.53, "E[log det Σ_20]");
    assert!((log_det + 13.534).abs() < 0.15);
    assert_mean(&column(&t, 20, 1), 0.99f64.powi(20), "E[tr Σ_20]/d");
    assert_mean(&column(&t, 20, 2), 10.0 * (1.0 - 0.99f64.powi(20)), "E‖μ_20‖²");
}

#[test]
fn target_4a_mean_replace_linear_accumulate_bounded() {
    let model = ModelSpec::Mean(MeanSpec { samples: 50, sigma: 1.0 });
    let s = spec(model, 50, 20_000, 4);
    let replace = run(&s, Strategy::Replace);
    let accumulate = run(&s, Strategy::Accumulate);
    for n in [1usize, 2, 5, 10, 50] {
        let scaled = |t: &Trajectories| column(t, n, 0).iter().map(|v| 50.0 * v).collect::<Vec<_>>();
        assert_mean(&scaled(&replace), n as f64, &format!("replace M·Var(μ_{n})"));
        assert_mean(&scaled(&accumulate), h2(n), &format!("accumulate M·Var(μ_{n})"));
    }
}

#[test]
fn target_4b_regression_replace_linear_accumulate_bounded() {
    let model = ModelSpec::Regression(RegressionSpec { samples: 100, dim: 10, noise_variance: 1.0 });
    let s = spec(model, 20, 3_000, 5);
    let unit = 10.0 / 89.0;
    let replace = run(&s, Strategy::Replace);
    let (r10, _) = assert_mean(&column(&replace, 10, 0), 10.0 * unit, "replace test error n=10");
    assert!((r10 / 1.124 - 1.0).abs() < 0.06);
    let accumulate = run(&s, Strategy::Accumulate);
    assert_mean(&column(&accumulate, 10, 0), h2(10) * unit, "accumulate n=10");
    assert_mean(&column(&accumulate, 20, 0), h2(20) * unit, "accumulate n=20");
    for n in 1..=20 {
        let (mean, se) = mean_se(&column(&accumulate, n, 0));
        assert!(
            mean - 4.0 * se < std::f64::consts::PI.powi(2) / 6.0 * unit,
            "accumulate n={n}: {mean} above the π²/6 bound"
        );
    }
}

#[test]
fn target_5_categorical_drift_and_absorption() {
    let model = ModelSpec::Categorical(CategoricalSpec { samples: 100, categories: 10 });
    let t = run(&spec(model, 200, 20_000, 6), Strategy::Replace);
    // metrics: 0 surviving, 1 lost_mass, 2 gini_simpson, 3 entropy, 4 fixed, 5 tv_to_truth
    assert_mean(&column(&t, 100, 2), 0.9 * 0.99f64.powi(100), "E[GS_100]");
    assert_mean(&column(&t, 200, 2), 0.9 * 0.99f64.powi(200), "E[GS_200]");
    for (r, row) in t.values.iter().enumerate() {
        for g in 1..=200 {
            assert!(
                row[g * t.n_metrics] <= row[(g - 1) * t.n_metrics],
                "replicate {r}: a lost category returned at generation {g}"
            );
        }
    }
    let (fixed_100, _) = mean_se(&column(&t, 100, 4));
    let (fixed_200, _) = mean_se(&column(&t, 200, 4));
    assert!((fixed_100 - 0.19).abs() < 0.03, "P(fixed at 100) = {fixed_100}, reference run 0.19");
    assert!((fixed_200 - 0.65).abs() < 0.03, "P(fixed at 200) = {fixed_200}, reference run 0.65");
}

#[test]
fn target_6_poisson_survival() {
    let model = ModelSpec::Poisson(PoissonSpec { samples: 10, lambda: 1.0 });
    let t = run(&spec(model, 50, 100_000, 7), Strategy::Replace);
    for (k, expected) in [(5, 0.9559), (10, 0.8214), (20, 0.6001), (50, 0.3187)] {
        assert_mean(&column(&t, k, 0), expected, &format!("Pr(λ_{k} > 0)"));
    }
}

#[test]
fn target_7_zipf_tail_loss() {
    let model = ModelSpec::Zipf(ZipfSpec { samples: 10_000, symbols: 20_000, exponent: 2.0 });
    let t = run(&spec(model, 50, 400, 8), Strategy::Replace);
    for (k, lost, surviving) in [(1, 0.00688, 137.0), (10, 0.0166, 56.8), (50, 0.0352, 26.6)] {
        let (m_lost, _) = mean_se(&column(&t, k, 1));
        let (m_surv, _) = mean_se(&column(&t, k, 0));
        assert!((m_lost / lost - 1.0).abs() < 0.05, "lost mass at k={k}: {m_lost} vs {lost}");
        assert!((m_surv / surviving - 1.0).abs() < 0.05, "surviving at k={k}: {m_surv} vs {surviving}");
    }
}

#[test]
fn target_8_hutter_scaling_law_cut_and_mix() {
    let items = 10_000_000;
    let close = |got: f64, want: f64, what: &str| {
        assert!((got / want - 1.0).abs() < 0.03, "{what}: {got:.3e} vs {want:.3e}");
    };
    close(hutter_test_error(2.0, items, 1e4, None), 0.00691, "clean E(1e4)");
    close(hutter_test_error(2.0, items, 1e6, None), 0.00069, "clean E(1e6)");
    let floor: f64 = {
        let total: f64 = (1..=items).map(|i| (i as f64).powi(-2)).sum();
        (1001..=items).map(|i| (i as f64).powi(-2)).sum::<f64>() / total
    };
    close(floor, 0.00061, "tail mass beyond k = 1000");
    close(hutter_test_error(2.0, items, 1e6, Some((1000, 0.0))), 0.00079, "cut E(1e6)");
    for (t, want) in [(1e6, 7.8e-4), (1e7, 5.0e-4), (1e8, 2.2e-4), (1e9, 6.9e-5)] {
        close(hutter_test_error(2.0, items, t, Some((1000, 0.1))), want, &format!("mixed π = 0.1, E({t:e})"));
    }
    // sampling version of the clean law: the zipf model's lost mass after one generation
    let model = ModelSpec::Zipf(ZipfSpec { samples: 10_000, symbols: 100_000, exponent: 2.0 });
    let t = run(&spec(model, 1, 2_000, 9), Strategy::Replace);
    assert_mean(
        &column(&t, 1, 1),
        hutter_test_error(2.0, 100_000, 1e4, None),
        "sampled lost mass at T = 1e4",
    );
}

/// Per-replicate time average of a metric over generations `from..=to` (the stationary regime).
fn stationary(t: &Trajectories, metric: usize, from: usize, to: usize) -> Vec<f64> {
    t.values
        .iter()
        .map(|row| (from..=to).map(|g| row[g * t.n_metrics + metric]).sum::<f64>() / (to - from + 1) as f64)
        .collect()
}

#[test]
fn target_9_fresh_data_and_golden_ratio_weighting() {
    // (n_real, n_synthetic, stationary Var, replicates, generations): averaged over the last
    // half of the generations, long enough for ρ^(2g) to vanish
    for (n_real, n_synth, expected, replicates, generations) in [
        (100, 0, 0.01000, 4_000, 60),
        (100, 100, 0.00667, 4_000, 60),
        (100, 900, 0.00526, 1_000, 120),
        (10, 990, 0.0503, 1_000, 500),
    ] {
        let samples = n_real + n_synth;
        let model = ModelSpec::Mean(MeanSpec { samples, sigma: 1.0 });
        let share = n_real as f64 / samples as f64;
        let t = run(&spec(model, generations, replicates, 10), Strategy::Fresh(share));
        let rho = n_synth as f64 / samples as f64;
        let exact = |g: usize| (0..g).map(|i| rho.powi(2 * i as i32)).sum::<f64>() / samples as f64;
        let from = generations / 2 + 1;
        let want = (from..=generations).map(exact).sum::<f64>() / (generations - from + 1) as f64;
        assert!((want / expected - 1.0).abs() < 0.01, "closed form {want} vs science.md {expected}");
        assert_mean(
            &stationary(&t, 0, from, generations),
            want,
            &format!("fresh ({n_real}, {n_synth}) stationary Var"),
        );
    }
    // golden-ratio weighting: n real + n synthetic, weight w on the real mean
    let n = 100;
    let model = ModelSpec::Mean(MeanSpec { samples: n, sigma: 1.0 });
    let s = spec(model, 80, 4_000, 11);
    let theory = |w: f64| (w * w + (1.0 - w) * (1.0 - w)) / (1.0 - (1.0 - w) * (1.0 - w));
    for (w, value) in [(0.618, 0.618), (0.5, 0.667), (1.0, 1.0)] {
        assert!((theory(w) - value).abs() < 1e-3);
        let t = run(&s, Strategy::Weighted(w));
        let scaled: Vec<f64> = stationary(&t, 0, 41, 80).iter().map(|v| v * n as f64).collect();
        let step = |g: usize| {
            (0..g).map(|i| (1.0 - w).powi(2 * i as i32)).sum::<f64>() * (w * w + (1.0 - w).powi(2))
        };
        let want = (41..=80).map(step).sum::<f64>() / 40.0;
        assert_mean(&scaled, want, &format!("weighted w = {w}: n·Var"));
    }
    let grid: Vec<f64> = (1..=100).map(|i| i as f64 / 100.0).collect();
    let argmin = grid.iter().copied().min_by(|a, b| theory(*a).total_cmp(&theory(*b))).unwrap();
    assert!((0.60..=0.64).contains(&argmin), "closed-form argmin {argmin}");
    // MLE variance re-estimation stays near 1 with fresh data, collapses without
    let g =
        ModelSpec::Gaussian(GaussianSpec { samples: 200, estimator: Estimator::Mle, mean: 0.0, std: 1.0 });
    let s = spec(g, 150, 2_000, 12);
    let fresh = run(&s, Strategy::Fresh(0.5));
    let (var, se) = mean_se(&stationary(&fresh, 0, 101, 150));
    assert!(var - 4.0 * se > 0.95 && var < 1.0 + 4.0 * se, "fresh (100, 100) stationary E[s²] = {var}");
    assert!((var - 0.994).abs() < 4.0 * se + 0.002, "fresh E[s²] {var} vs reference run 0.994");
    let replace = run(&s, Strategy::Replace);
    assert_mean(&column(&replace, 150, 0), (199.0f64 / 200.0).powi(150), "replace E[s²_150]");
}

/// The paper reports single runs; one run's final log std has a spread of about ±0.3 in
/// log10, so the pass criterion is applied to the median of 4 seeded replicates, and the
/// monotone decline to every replicate.
#[test]
fn target_10_gmm_components_collapse() {
    let model = ModelSpec::Gmm(GmmSpec {
        samples: 1000,
        components: 2,
        dim: 2,
        tolerance: 1e-5,
        max_iterations: 2000,
    });
    let t = run(&spec(model, 2000, 4, 13), Strategy::Replace);
    let mut finals = Vec::new();
    for row in &t.values {
        let std_at = |g: usize| row[g * t.n_metrics];
        assert!((0.8..1.0).contains(&std_at(1)), "first fit component std {} (paper: 0.90, 0.89)", std_at(1));
        finals.push(std_at(2000).log10());
        let window = |a: usize, b: usize| (a..=b).map(|g| std_at(g).ln()).sum::<f64>() / (b - a + 1) as f64;
        let smoothed = [window(1, 100), window(300, 400), window(900, 1000), window(1900, 2000)];
        assert!(smoothed.windows(2).all(|w| w[1] < w[0]), "smoothed log std not decreasing: {smoothed:?}");
        // the L2 distance to the truth rises by orders of magnitude
        let l2 = |g: usize| row[g * t.n_metrics + 2];
        assert!(l2(2000) > 100.0 * l2(1), "L2 {} → {}", l2(1), l2(2000));
    }
    finals.sort_by(f64::total_cmp);
    let median = (finals[1] + finals[2]) / 2.0;
    assert!((-2.5..=-1.3).contains(&median), "median log10 final component std {median} ({finals:?})");
}

#[test]
fn results_do_not_depend_on_thread_count() {
    // accumulate-subsample draws every sample; the other strategies draw sufficient statistics
    for strategy in [
        Strategy::AccumulateSubsample,
        Strategy::Replace,
        Strategy::Accumulate,
        Strategy::Fresh(0.1),
        Strategy::Weighted(0.618),
    ] {
        let s = spec(gaussian(Estimator::Mle), 20, 64, 21);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| run(&s, strategy))
        };
        assert_eq!(on(1).values, on(2).values, "{strategy}");
    }
}
