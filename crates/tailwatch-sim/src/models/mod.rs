//! The simulated model families.
pub(crate) mod discrete;
pub(crate) mod gaussian;
pub(crate) mod gmm;
pub(crate) mod mvgaussian;
pub(crate) mod poisson;
pub(crate) mod regression;
pub(crate) mod text;
