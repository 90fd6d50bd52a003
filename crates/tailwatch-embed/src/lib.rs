//! Collapse and fidelity metrics on embedding vectors of any modality (images, audio, text):
//! mergeable moments and the Fréchet distance so far (issue 19 names the rest).
#![deny(missing_docs)]

mod error;
pub mod frechet;
pub mod moments;

pub use error::{Error, Result};
pub use frechet::{Gaussian, frechet_distance};
pub use moments::Moments;
