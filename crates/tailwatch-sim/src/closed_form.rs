//! Closed forms of the collapse papers, used as overlays and as test targets (science.md).
use statrs::function::gamma::{digamma, ln_gamma};

/// H2(n) = Σ_{i=1..n} 1/i², the accumulate factor of Gerstgrasser et al. / Dey & Donoho
/// (→ π²/6 ≈ 1.6449).
pub fn h2(n: usize) -> f64 {
    (1..=n).map(|i| 1.0 / (i as f64 * i as f64)).sum()
}

/// Suresh et al.'s survival factors g_1 = 1, g_k = 1 − e^{−g_{k−1}} (≈ 2/k), for k = 0..=n
/// (g_0 is unused and set to infinity: nothing is lost before the first resampling).
pub fn survival_factors(n: usize) -> Vec<f64> {
    let mut g = vec![f64::INFINITY; n + 1];
    if n >= 1 {
        g[1] = 1.0;
    }
    for k in 2..=n {
        g[k] = 1.0 - (-g[k - 1]).exp();
    }
    g
}

/// c4(M) = sqrt(2/(M−1)) · Γ(M/2) / Γ((M−1)/2): E\[s\] = c4·σ for the unbiased sample std.
pub fn c4(m: usize) -> f64 {
    let m = m as f64;
    (2.0 / (m - 1.0)).sqrt() * (ln_gamma(m / 2.0) - ln_gamma((m - 1.0) / 2.0)).exp()
}

/// E[ln(χ²_{M−i} / divisor)] = ψ((M−i)/2) + ln 2 − ln(divisor): the expected log shrinkage of
/// one variance direction per generation.
pub fn expected_log_chi2(dof: f64, divisor: f64) -> f64 {
    digamma(dof / 2.0) + std::f64::consts::LN_2 - divisor.ln()
}

/// The Hutter "memorisation" learner of Dohmatob et al. 2024 (A Tale of Tails): items follow
/// p_i ∝ i^(−β) over `items` items; the learner knows item i iff it saw it among T training
/// samples; the test error is the true mass of unseen items. With Poissonized counts it is
/// exactly Σ_i p_i·exp(−T·q_i), where q is the training distribution:
/// - clean: q = p (E ≈ C(β)·T^(−(1−1/β)), C(2) = 0.691);
/// - tail cut at rank k (`cut = Some((k, 0.0))`): q = p restricted to i ≤ k and renormalised,
///   so the error stalls at the cut mass Σ_{i>k} p_i;
/// - mixed (`cut = Some((k, π))`): q = π·p + (1 − π)·p_cut: clean law until T ≈ k^β, a plateau
///   near the cut mass, then recovery along (π·T)^(−(1−1/β)) ("grokking").
///
/// Cost O(items) per call.
pub fn hutter_test_error(beta: f64, items: usize, t: f64, cut: Option<(usize, f64)>) -> f64 {
    let weights: Vec<f64> = (1..=items).map(|i| (i as f64).powf(-beta)).collect();
    let total: f64 = weights.iter().sum();
    let (k, pi) = cut.unwrap_or((items, 1.0));
    let head: f64 = weights[..k.min(items)].iter().sum::<f64>() / total;
    let mut error = 0.0;
    for (i, w) in weights.iter().enumerate() {
        let p = w / total;
        let p_cut = if i < k { p / head } else { 0.0 };
        let q = pi * p + (1.0 - pi) * p_cut;
        error += p * (-t * q).exp();
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((h2(2) - 1.25).abs() < 1e-15);
        assert!((h2(50) - 1.625_132_733).abs() < 1e-8);
        let g = survival_factors(50);
        // Pr(λ_k > 0) = 1 − exp(−10 g_k): science.md target 6
        let alive = |k: usize| 1.0 - (-10.0 * g[k]).exp();
        assert!((alive(5) - 0.9559).abs() < 5e-5, "{}", alive(5));
        assert!((alive(10) - 0.8214).abs() < 5e-5);
        assert!((alive(20) - 0.6001).abs() < 5e-5);
        assert!((alive(50) - 0.3187).abs() < 5e-5);
        assert!((c4(10) - 0.972_659_274).abs() < 1e-8);
        // median σ²_100 under MLE replace, M = 100: 0.1328 (target 1)
        let median = (100.0 * expected_log_chi2(99.0, 100.0)).exp();
        assert!((median - 0.1328).abs() < 5e-5, "{median}");
    }
}
