//! Green-list watermark z-test (Kirchenbauer et al. 2023, "A Watermark for Large Language Models").
//!
//! # Scheme (self-hash, "LeftHash"-style with context width 1)
//!
//! A token `t` that follows token `p` is *green* iff
//!
//! ```text
//! h = xxh3_64( key.to_le_bytes() ‖ p.to_le_bytes() ‖ t.to_le_bytes() )   (8 + 4 + 4 bytes, seed 0)
//! green(p, t)  ⇔  h < ⌊γ · 2^64⌋
//! ```
//!
//! so for every previous token each vocabulary entry is green independently with probability `γ`
//! (the green list is seeded by the previous token and the secret `key`, as in the paper's
//! Algorithm 2, but it is not a fixed-size list of exactly `γ|V|` ids). This detects text from
//! generators that bias their logits with **this** hashing scheme (for example
//! [`sample_watermarked`]); it is *not* bit-compatible with the reference implementation
//! `lm-watermarking`, whose green lists come from `torch.randperm` seeded by `hash_key · prev`, and
//! it returns `z ≈ 0` on text watermarked by that implementation.
//!
//! # Test
//!
//! Over the `T` scored tokens (every token but the first; with `ignore_repeated_ngrams` only the
//! first occurrence of each `(previous, token)` pair, as `lm-watermarking`'s option of that name),
//! `G` of them green:
//!
//! ```text
//! z = (G - γT) / sqrt(T γ (1 - γ)),      p = P(N(0,1) > z) = erfc(z / √2) / 2
//! ```
//!
//! Under the null hypothesis (text written without knowledge of the key) each scored token is green
//! with probability `γ` independently, so `z` is approximately standard normal; the paper flags
//! `z > 4`. With `T = 0` the result is `z = 0`, `p = 1`. Inputs are token ids: the caller tokenizes
//! with the generator's own tokenizer (e.g. a HuggingFace `tokenizer.json`).
use std::collections::HashSet;

use rand::{Rng, RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::{DetectError, Result};

/// Default green-list fraction `γ`.
pub const DEFAULT_GAMMA: f64 = 0.25;

/// Default key: `lm-watermarking`'s default `hash_key` (the prime 15485863), reused as a seed only.
pub const DEFAULT_KEY: u64 = 15_485_863;

/// Parameters shared by the generator and the detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WatermarkConfig {
    /// Expected share of green tokens, in `(0, 1)`.
    pub gamma: f64,
    /// Secret key mixed into every hash.
    pub key: u64,
    /// Score each `(previous, token)` pair only once (default `true`).
    pub ignore_repeated_ngrams: bool,
}

impl Default for WatermarkConfig {
    /// `γ = 0.25`, [`DEFAULT_KEY`], repeated pairs ignored.
    fn default() -> Self {
        Self { gamma: DEFAULT_GAMMA, key: DEFAULT_KEY, ignore_repeated_ngrams: true }
    }
}

impl WatermarkConfig {
    fn validate(&self) -> Result<()> {
        if self.gamma > 0.0 && self.gamma < 1.0 {
            Ok(())
        } else {
            Err(DetectError::invalid("gamma", "in (0, 1)", self.gamma))
        }
    }

    fn threshold(&self) -> u128 {
        // γ · 2^64 is exact in f64 (a power-of-two scaling); the cast floors.
        (self.gamma * 18_446_744_073_709_551_616.0) as u128
    }

    /// Whether `token` is green after `previous` (see the module documentation).
    pub fn is_green(&self, previous: u32, token: u32) -> bool {
        let mut bytes = [0_u8; 16];
        bytes[..8].copy_from_slice(&self.key.to_le_bytes());
        bytes[8..12].copy_from_slice(&previous.to_le_bytes());
        bytes[12..].copy_from_slice(&token.to_le_bytes());
        u128::from(xxh3_64(&bytes)) < self.threshold()
    }
}

/// Result of [`watermark_score`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WatermarkScore {
    /// Scored tokens `T`.
    pub scored: usize,
    /// Green tokens among them, `G`.
    pub green: usize,
    /// The z statistic (0 when `T = 0`).
    pub z: f64,
    /// One-sided p-value `P(N(0,1) > z)`.
    pub p_value: f64,
}

/// The watermark z-test of `ids` (see the module documentation). Errors when `γ ∉ (0, 1)`.
pub fn watermark_score(ids: &[u32], config: &WatermarkConfig) -> Result<WatermarkScore> {
    config.validate()?;
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    let (mut scored, mut green) = (0_usize, 0_usize);
    for pair in ids.windows(2) {
        if config.ignore_repeated_ngrams && !seen.insert((pair[0], pair[1])) {
            continue;
        }
        scored += 1;
        if config.is_green(pair[0], pair[1]) {
            green += 1;
        }
    }
    if scored == 0 {
        return Ok(WatermarkScore { scored, green, z: 0.0, p_value: 1.0 });
    }
    let (t, g, gamma) = (scored as f64, green as f64, config.gamma);
    let z = (g - gamma * t) / (t * gamma * (1.0 - gamma)).sqrt();
    Ok(WatermarkScore { scored, green, z, p_value: 0.5 * erfc(z / std::f64::consts::SQRT_2) })
}

/// Complementary error function, Numerical Recipes' Chebyshev fit `erfcc` (Press et al. 1992,
/// §6.2): fractional error below `1.2e-7` everywhere.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let value = t * poly.exp();
    if x >= 0.0 { value } else { 2.0 - value }
}

/// Generator side, for tests and demonstrations: draw the next token from the toy distribution
/// `P(i) ∝ weights[i] · e^{δ · green(previous, i)}`, i.e. the paper's soft watermark (add `δ` to the
/// logits `ln weights[i]` of the green list) on a logit-free sampler. `δ = 0` samples unwatermarked.
///
/// Errors when `weights` is empty, holds a negative or non-finite weight or sums to 0, when `δ` is
/// not finite, or when `γ ∉ (0, 1)`.
pub fn sample_watermarked<R: Rng + ?Sized>(
    weights: &[f64],
    previous: u32,
    config: &WatermarkConfig,
    delta: f64,
    rng: &mut R,
) -> Result<u32> {
    config.validate()?;
    if !delta.is_finite() {
        return Err(DetectError::invalid("delta", "finite", delta));
    }
    if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        return Err(DetectError::invalid("weights", "finite and >= 0", bad));
    }
    let boost = delta.exp();
    let biased: Vec<f64> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| if config.is_green(previous, i as u32) { w * boost } else { w })
        .collect();
    let total: f64 = biased.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return Err(DetectError::invalid("weights", "a finite positive sum", total));
    }
    let mut draw = rng.random::<f64>() * total;
    for (i, &w) in biased.iter().enumerate() {
        if draw < w {
            return Ok(i as u32);
        }
        draw -= w;
    }
    // Rounding left `draw` past the end: take the last id with positive weight.
    Ok(biased.iter().rposition(|&w| w > 0.0).unwrap_or(0) as u32)
}

/// A toy token sequence of `length` ids over a Zipf(1) vocabulary of `vocab_size` ids
/// (`weight(i) = 1 / (i + 1)`), every token after the first drawn by [`sample_watermarked`] with
/// bias `delta` (0 = unwatermarked), from a PCG-64 MCG stream seeded with `seed`.
pub fn generate_toy(
    config: &WatermarkConfig,
    delta: f64,
    vocab_size: usize,
    length: usize,
    seed: u64,
) -> Result<Vec<u32>> {
    if vocab_size == 0 || vocab_size > u32::MAX as usize {
        return Err(DetectError::invalid("vocab_size", "in 1..=u32::MAX", vocab_size));
    }
    let weights: Vec<f64> = (0..vocab_size).map(|i| 1.0 / (i as f64 + 1.0)).collect();
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let mut ids = Vec::with_capacity(length);
    for _ in 0..length {
        let id = match ids.last() {
            Some(&previous) => sample_watermarked(&weights, previous, config, delta, &mut rng)?,
            None => sample_watermarked(&weights, 0, config, 0.0, &mut rng)?,
        };
        ids.push(id);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermarked_sequences_are_detected_and_plain_ones_are_not() {
        let config = WatermarkConfig::default();
        for seed in 0..8 {
            let marked = generate_toy(&config, 2.0, 1000, 200, seed).unwrap();
            let score = watermark_score(&marked, &config).unwrap();
            assert!(score.z > 4.0, "seed {seed}: {score:?}");
            assert!(score.p_value < 3.2e-5, "seed {seed}: {score:?}");
            let plain = generate_toy(&config, 0.0, 1000, 200, seed + 100).unwrap();
            let score = watermark_score(&plain, &config).unwrap();
            assert!(score.z.abs() < 4.0, "seed {seed}: {score:?}");
            // The wrong key sees no watermark.
            let other = WatermarkConfig { key: 7, ..config };
            let score = watermark_score(&marked, &other).unwrap();
            assert!(score.z.abs() < 4.0, "seed {seed}: {score:?}");
        }
    }

    #[test]
    fn green_share_is_gamma_for_random_pairs() {
        for gamma in [0.1, 0.25, 0.5, 0.9] {
            let config = WatermarkConfig { gamma, ..WatermarkConfig::default() };
            let n = 200_000_u32;
            let green = (0..n).filter(|&i| config.is_green(i / 7, i.wrapping_mul(2_654_435_761))).count();
            let share = green as f64 / f64::from(n);
            let se = (gamma * (1.0 - gamma) / f64::from(n)).sqrt();
            assert!((share - gamma).abs() < 5.0 * se, "gamma {gamma}: {share}");
        }
    }

    #[test]
    fn z_formula_and_repeated_pairs() {
        let config = WatermarkConfig { ignore_repeated_ngrams: false, ..WatermarkConfig::default() };
        // Find a green and a red successor of token 5.
        let green = (0..).find(|&t| config.is_green(5, t)).unwrap();
        let red = (0..).find(|&t| !config.is_green(5, t)).unwrap();
        let ids = [5, green, 5, green, 5, red];
        let keep = watermark_score(&ids, &config).unwrap();
        // 5 pairs: (5,g) twice, (5,r), and (g,5) twice.
        assert_eq!(keep.scored, 5);
        let g = keep.green as f64;
        let expected = (g - 0.25 * 5.0) / (5.0 * 0.25 * 0.75_f64).sqrt();
        assert!((keep.z - expected).abs() < 1e-12);
        let unique = watermark_score(&ids, &WatermarkConfig::default()).unwrap();
        assert_eq!(unique.scored, 3, "(5,g), (g,5), (5,r)");
        // Hand-computed: T = 16, G = 10, γ = 0.25: z = (10 - 4) / sqrt(3) = 3.4641.
        let (t, g, gamma) = (16.0_f64, 10.0, 0.25);
        assert!(((g - gamma * t) / (t * gamma * (1.0 - gamma)).sqrt() - 3.464_101_615).abs() < 1e-9);
    }

    #[test]
    fn edge_cases_and_errors() {
        let config = WatermarkConfig::default();
        for ids in [&[][..], &[3][..]] {
            let score = watermark_score(ids, &config).unwrap();
            assert_eq!((score.scored, score.z, score.p_value), (0, 0.0, 1.0));
        }
        for gamma in [0.0, 1.0, -0.5, f64::NAN] {
            let bad = WatermarkConfig { gamma, ..config };
            assert!(watermark_score(&[1, 2, 3], &bad).is_err());
        }
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
        assert!(sample_watermarked(&[], 0, &config, 1.0, &mut rng).is_err());
        assert!(sample_watermarked(&[1.0, -1.0], 0, &config, 1.0, &mut rng).is_err());
        assert!(sample_watermarked(&[0.0, 0.0], 0, &config, 1.0, &mut rng).is_err());
        assert!(sample_watermarked(&[1.0], 0, &config, f64::INFINITY, &mut rng).is_err());
        assert_eq!(sample_watermarked(&[0.0, 2.0], 0, &config, 1.0, &mut rng).unwrap(), 1);
        assert!(generate_toy(&config, 1.0, 0, 10, 1).is_err());
        assert_eq!(generate_toy(&config, 1.0, 10, 0, 1).unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn erfc_matches_reference_values() {
        // erfc(0) = 1, erfc(1) = 0.157299207, erfc(2) = 0.004677735, erfc(-1) = 1.842700793.
        for (x, want) in [
            (0.0, 1.0),
            (1.0, 0.157_299_207_050_285),
            (2.0, 0.004_677_734_981_047_266),
            (-1.0, 1.842_700_792_949_715),
        ] {
            assert!((erfc(x) - want).abs() <= 1.2e-7 * want, "erfc({x}) = {}", erfc(x));
        }
        // p-value at z = 4: 3.167e-5.
        assert!((0.5 * erfc(4.0 / std::f64::consts::SQRT_2) - 3.167_124e-5).abs() < 1e-10);
    }
}
