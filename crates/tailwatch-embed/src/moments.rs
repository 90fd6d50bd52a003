//! Mergeable first and second moments of a set of vectors: n, the mean and the co-moment
//! matrix, in f64.
//!
//! M = Σ (x − μ)(x − μ)ᵀ over the vectors; the covariance is M / (n − 1), `np.cov(x,
//! rowvar=False)` with ddof 1, as pytorch-fid, torch-fidelity and clean-fid compute it. Rows are
//! added a block at a time (the block's centred Gram matrix by one matrix product), and two
//! sets merge by Chan, Golub and LeVeque's update: n = n_a + n_b, δ = μ_b − μ_a,
//! μ = μ_a + δ·n_b/n, M = M_a + M_b + δδᵀ·n_a·n_b/n. Any split of the rows into shards, merged
//! in any order, gives the one-pass moments up to rounding (tested to 1e-12 relative).
//! Memory O(d²); adding m rows O(m·d²).
use faer::Mat;
use tailwatch_io::vectors::Vectors;

use crate::{Error, Gaussian, Result};

/// Rows centred and multiplied at a time: bounds the block's memory (rows × d values).
const BLOCK_ROWS: usize = 2048;

/// n, the mean and the co-moment matrix of a set of d-dimensional vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    dim: usize,
    n: u64,
    mean: Vec<f64>,
    /// Σ (x − μ)(x − μ)ᵀ, d × d, row-major.
    comoment: Vec<f64>,
}

impl Moments {
    /// The moments of no vector, of dimension `dim`.
    pub fn new(dim: usize) -> Self {
        Self { dim, n: 0, mean: vec![0.0; dim], comoment: vec![0.0; dim * dim] }
    }

    /// The moments of `vectors`.
    pub fn of(vectors: &Vectors) -> Self {
        let mut moments = Self::new(vectors.dim());
        moments.add(vectors).expect("the same dimension");
        moments
    }

    /// Add `vectors` to the set.
    pub fn add(&mut self, vectors: &Vectors) -> Result<()> {
        self.check_dim(vectors.dim())?;
        let d = self.dim;
        for block in vectors.values().chunks(BLOCK_ROWS * d) {
            let m = block.len() / d;
            let mut mean = vec![0.0; d];
            for row in block.chunks_exact(d) {
                for (s, &x) in mean.iter_mut().zip(row) {
                    *s += x;
                }
            }
            mean.iter_mut().for_each(|s| *s /= m as f64);
            let centred = Mat::<f64>::from_fn(m, d, |i, j| block[i * d + j] - mean[j]);
            let gram = centred.transpose() * &centred;
            let comoment = (0..d * d).map(|k| gram[(k / d, k % d)]).collect();
            self.merge(&Moments { dim: d, n: m as u64, mean, comoment })?;
        }
        Ok(())
    }

    /// Merge `other` into these moments (Chan et al.'s update).
    pub fn merge(&mut self, other: &Moments) -> Result<()> {
        self.check_dim(other.dim)?;
        if other.n == 0 {
            return Ok(());
        }
        if self.n == 0 {
            *self = other.clone();
            return Ok(());
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta: Vec<f64> = other.mean.iter().zip(&self.mean).map(|(b, a)| b - a).collect();
        let weight = na * nb / n;
        for (i, di) in delta.iter().enumerate() {
            for (j, dj) in delta.iter().enumerate() {
                let k = i * self.dim + j;
                self.comoment[k] += other.comoment[k] + di * dj * weight;
            }
        }
        for (m, d) in self.mean.iter_mut().zip(&delta) {
            *m += d * nb / n;
        }
        self.n += other.n;
        Ok(())
    }

    /// The number of vectors.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The dimension of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The mean vector.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The unbiased covariance M / (n − 1), d × d, row-major (n ≥ 2).
    pub fn covariance(&self) -> Result<Vec<f64>> {
        if self.n < 2 {
            return Err(Error::TooFewVectors { n: self.n });
        }
        let scale = 1.0 / (self.n - 1) as f64;
        Ok(self.comoment.iter().map(|m| m * scale).collect())
    }

    /// The Gaussian of this mean and covariance, as FD compares them.
    pub fn gaussian(&self) -> Result<Gaussian> {
        Gaussian::new(self.mean.clone(), self.covariance()?)
    }

    fn check_dim(&self, dim: usize) -> Result<()> {
        if dim == self.dim { Ok(()) } else { Err(Error::DimensionMismatch { left: self.dim, right: dim }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, irregular set of `n` vectors of dimension `d`.
    fn vectors(n: usize, d: usize, seed: u64) -> Vectors {
        let mut state = seed;
        let values = (0..n * d)
            .map(|k| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * (1.0 + (k % d) as f64) + 10.0
            })
            .collect();
        Vectors::from_rows(d, values).unwrap()
    }

    /// `np.cov(x, rowvar=False)` by its two-pass definition.
    fn two_pass_covariance(x: &Vectors) -> Vec<f64> {
        let (n, d) = (x.len(), x.dim());
        let mean: Vec<f64> = (0..d).map(|j| x.rows().map(|r| r[j]).sum::<f64>() / n as f64).collect();
        (0..d * d)
            .map(|k| {
                let (i, j) = (k / d, k % d);
                x.rows().map(|r| (r[i] - mean[i]) * (r[j] - mean[j])).sum::<f64>() / (n - 1) as f64
            })
            .collect()
    }

    fn close(a: &[f64], b: &[f64], relative: f64) -> bool {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= relative * scale)
    }

    #[test]
    fn moments_are_the_mean_and_numpy_covariance() {
        // more rows than one block, and a block boundary not at a round number
        let x = vectors(BLOCK_ROWS + 777, 5, 1);
        let m = Moments::of(&x);
        assert_eq!(m.n(), x.len() as u64);
        let mean: Vec<f64> = (0..5).map(|j| x.rows().map(|r| r[j]).sum::<f64>() / x.len() as f64).collect();
        assert!(close(m.mean(), &mean, 1e-13));
        assert!(close(&m.covariance().unwrap(), &two_pass_covariance(&x), 1e-12));
    }

    #[test]
    fn shards_merge_to_the_one_pass_moments_in_any_order() {
        let x = vectors(1000, 4, 7);
        let whole = Moments::of(&x);
        let shard = |range: std::ops::Range<usize>| {
            Moments::of(&Vectors::from_rows(4, x.values()[range.start * 4..range.end * 4].to_vec()).unwrap())
        };
        let (a, b, c) = (shard(0..1), shard(1..600), shard(600..1000));
        for order in [[&a, &b, &c], [&c, &a, &b], [&b, &c, &a]] {
            let mut merged = Moments::new(4);
            for part in order {
                merged.merge(part).unwrap();
            }
            assert_eq!(merged.n(), 1000);
            assert!(close(merged.mean(), whole.mean(), 1e-13));
            assert!(close(&merged.covariance().unwrap(), &whole.covariance().unwrap(), 1e-12));
        }
    }

    #[test]
    fn mismatches_and_small_sets_are_errors() {
        let mut m = Moments::new(3);
        assert!(matches!(m.add(&vectors(2, 4, 1)), Err(Error::DimensionMismatch { left: 3, right: 4 })));
        m.add(&vectors(1, 3, 1)).unwrap();
        assert!(matches!(m.covariance(), Err(Error::TooFewVectors { n: 1 })));
    }
}
