//! Data policies between generations: what each generation's model is trained on.
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::{Error, Result};

/// How the training data of generation k ≥ 1 is assembled from real data (drawn from the true
/// distribution, generation 0) and synthetic data (drawn from the model of generation k − 1),
/// with M = samples per generation. Generation 1 is always fitted on M real samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// M synthetic samples from the previous model only (Shumailov et al.'s fully synthetic loop).
    Replace,
    /// The real data of generation 1 plus every synthetic batch so far: k·M samples at
    /// generation k (Gerstgrasser et al.).
    Accumulate,
    /// Accumulate, but fit on a uniformly random subset of M samples of the pool
    /// (Kazdan et al.'s Accumulate-Subsample).
    AccumulateSubsample,
    /// round(share·M) fresh real samples plus the rest synthetic, every generation
    /// (Alemohammad et al.'s fresh-data loop).
    Fresh(f64),
    /// M fresh real and M synthetic samples, fitted with total weight `w` on the real ones
    /// (He et al.'s weighting; w = 0.618 is the golden-ratio optimum for mean estimation).
    Weighted(f64),
}

impl Strategy {
    /// Parse a comma-separated list such as `replace,accumulate,fresh:0.1`.
    pub fn parse_list(text: &str) -> Result<Vec<Strategy>> {
        text.split(',').map(|s| s.trim().parse()).collect()
    }
}

fn share(text: &str, whole: &str, name: &'static str) -> Result<f64> {
    let value: f64 = text.trim().parse().map_err(|_| Error::UnknownStrategy(whole.to_string()))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(Error::invalid(name, "a number in [0, 1]", whole));
    }
    Ok(value)
}

impl FromStr for Strategy {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let lower = text.trim().to_ascii_lowercase();
        match lower.as_str() {
            "replace" => return Ok(Strategy::Replace),
            "accumulate" => return Ok(Strategy::Accumulate),
            "accumulate-subsample" => return Ok(Strategy::AccumulateSubsample),
            _ => {}
        }
        if let Some(rest) = lower.strip_prefix("fresh:") {
            return Ok(Strategy::Fresh(share(rest, text, "the share of fresh:<share>")?));
        }
        if let Some(rest) = lower.strip_prefix("weighted:") {
            return Ok(Strategy::Weighted(share(rest, text, "the weight of weighted:<w>")?));
        }
        Err(Error::UnknownStrategy(text.to_string()))
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Replace => f.write_str("replace"),
            Strategy::Accumulate => f.write_str("accumulate"),
            Strategy::AccumulateSubsample => f.write_str("accumulate-subsample"),
            Strategy::Fresh(s) => write!(f, "fresh:{s}"),
            Strategy::Weighted(w) => write!(f, "weighted:{w}"),
        }
    }
}

impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_round_trips() {
        let list = Strategy::parse_list("replace, accumulate,accumulate-subsample,fresh:0.1,weighted:0.618")
            .unwrap();
        assert_eq!(
            list,
            vec![
                Strategy::Replace,
                Strategy::Accumulate,
                Strategy::AccumulateSubsample,
                Strategy::Fresh(0.1),
                Strategy::Weighted(0.618)
            ]
        );
        for s in list {
            assert_eq!(s.to_string().parse::<Strategy>().unwrap(), s);
        }
    }

    #[test]
    fn rejects_bad_strategies() {
        assert!(matches!("mix".parse::<Strategy>(), Err(Error::UnknownStrategy(_))));
        assert!(matches!("fresh:abc".parse::<Strategy>(), Err(Error::UnknownStrategy(_))));
        assert!(matches!("fresh:1.5".parse::<Strategy>(), Err(Error::InvalidParameter { .. })));
        assert!(matches!("weighted:-0.1".parse::<Strategy>(), Err(Error::InvalidParameter { .. })));
        assert!(matches!("fresh:NaN".parse::<Strategy>(), Err(Error::InvalidParameter { .. })));
    }
}
