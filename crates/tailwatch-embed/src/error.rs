//! Errors of the embedding metrics: data, never flags.

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong computing an embedding metric.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two sets of vectors (or their statistics) of different dimensions.
    #[error("vectors of dimension {left} cannot be compared with vectors of dimension {right}")]
    DimensionMismatch {
        /// The first side's dimension.
        left: usize,
        /// The second side's dimension.
        right: usize,
    },
    /// A covariance needs two vectors at least.
    #[error("a covariance needs at least 2 vectors; there are {n}")]
    TooFewVectors {
        /// How many there are.
        n: u64,
    },
    /// A statistic is malformed: a covariance that is not d × d or not symmetric, a value that
    /// is not finite.
    #[error("invalid statistics: {message}")]
    InvalidStatistics {
        /// What is wrong.
        message: String,
    },
    /// The eigen-decomposition did not converge.
    #[error("the eigen-decomposition of a {dim} × {dim} covariance did not converge")]
    NoConvergence {
        /// The matrix's dimension.
        dim: usize,
    },
}
