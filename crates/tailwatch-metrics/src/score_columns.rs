//! Mergeable statistics of one per-record numeric column (reward, judge score, pass flag, …).
//!
//! A [`ScoreColumn`] summarizes the values of one field that users attach to generated answers.
//! Like the rest of a profile it merges exactly: merging shard columns in any order and any
//! grouping gives a column equal to one pass over all values, down to its serialized bytes.
//! That is why every part of it is a multiset function of the values:
//!
//! - **counts** of finite values, of missing (absent or null) values, and of non-finite ones
//!   (NaN, ±∞; the caller decides whether those are errors, the column only counts them), and
//!   exact counts of values equal to `0` and to `1` (so a pass/fail column's rate is exact);
//! - an **exact sum**: a fixed-point superaccumulator of 34 64-bit limbs in units of 2⁻¹⁰⁷⁴
//!   (every finite `f64` is an integer multiple of that), wide enough for 2⁶⁴ values of
//!   magnitude up to `f64::MAX` (a Kulisch long accumulator; cf. Neal, "Fast exact summation
//!   using small and large superaccumulators", 2015). Integer addition is associative, so the
//!   sum, and the mean rounded from it once, never depend on order. `numeric::fsum` is exact
//!   too, but it needs all values at once: its partials are not a canonical mergeable state;
//! - exact **min** and **max** (`-0.0` orders below `+0.0`, so even signed zeros are
//!   order-independent);
//! - a **DDSketch-style quantile histogram**: a positive store, a negative store (keyed by `|x|`)
//!   and a near-zero bucket for `|x| < f64::MIN_POSITIVE` (zeros and subnormals), each store a
//!   `BTreeMap<i32, u64>` of bucket counts, so merging adds counts and serialization is
//!   canonical.
//!
//! **Buckets.** A bucket is an octave `[2ᵉ, 2ᵉ⁺¹)` split into 128 equal parts: its key is the
//! exponent and top 7 mantissa bits of the value's bits (`bits >> 45`), offset so that `1.0`
//! has key 0. The representative of a bucket `[a, b)` is `2ab/(a+b)`, within a relative
//! `(b−a)/(b+a) ≤ 1/257 ≈ 0.0039` of every value in it, below [`ALPHA`] `= 0.005`. DDSketch's
//! logarithmic mapping needs 69 buckets an octave at that α, not 128, but it calls `ln`, whose
//! last bit differs between libm builds: a value near a boundary could land in different
//! buckets on two machines and break bit-identical merges of shards profiled on both. The bit
//! mapping is integer-exact.
//!
//! **The bucket cap.** Each store keeps at most [`MAX_BUCKETS`] `= 4096` occupied buckets. Past
//! that, the positive store folds its lowest buckets into the lowest of its 4096 highest ones,
//! and the negative store folds its most negative buckets (largest `|x|`) into the most negative
//! of the 4096 nearest zero. So the lowest values of each store lose resolution and the upper
//! quantiles keep theirs. This stays exact under merging, in any order. Take a positive
//! store (the negative one is its mirror image) and let `t` be the 4096th highest key of its key
//! set `K`: the folded state of `K` keeps the keys above `t` exactly and puts all mass at or
//! below `t` on `t`. The union's `t` is at least each shard's, because a shard's top 4096 keys
//! are in the union. So what a shard folded lies at or below the union's `t` and is folded
//! there again, while every key above it was kept by every shard that held it. Folding each
//! shard and then the union therefore equals folding the union of the values. Adding one
//! value is merging a one-value column, so the streaming state is the folded state of all
//! values.
//!
//! **Quantiles.** With the `n` finite values sorted as `x₍₀₎ ≤ … ≤ x₍ₙ₋₁₎`, quantile `q ∈ [0, 1]`
//! is the lower order statistic `x₍ᵣ₎` with `r = ⌊q·(n−1)⌋` (numpy's `method="lower"`). Ranks
//! `0` and `n−1` return the exact min and max; others return the representative of the bucket
//! holding rank `r`, clamped to `[min, max]`: within a relative `1/257` of `x₍ᵣ₎` when
//! `|x₍ᵣ₎| ≥ f64::MIN_POSITIVE` and its bucket is not a folded one, within `f64::MIN_POSITIVE`
//! absolutely in the near-zero bucket. Source: Masson, Rim & Lee, "DDSketch: a fast and
//! fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019.
//!
//! **Why not a crate.** `sketches-ddsketch` (0.4.2) keys values with `ln` (above), keeps its sum
//! as an `f64` added in arrival order, stores bins in a dense `Vec` whose offset and length
//! depend on how it grew, and maps everything below `1e-9` to one key: its state, and so its
//! serde bytes, depend on insertion and merge order.
//!
//! # Metrics
//!
//! Ids derive from the field name through [`sanitize_field`]: `reward` gives `score_reward_*`,
//! `judge.overall` gives `score_judge_overall_*`. None is emitted for a column with no finite
//! value. Collapse: neither way by itself (a score's meaning, and so which way is worse, is the
//! user's: rules give it). Cost: `add` O(log B), `merge` O(B log B), each quantile O(B), memory
//! O(B) with B ≤ 2·4096 + 1 buckets, plus the 272-byte sum.
//!
//! | id | formula | range |
//! |---|---|---|
//! | `score_<f>_mean` | `Σx / n`, the exact sum rounded once to nearest (ties to even) | `[min, max]` |
//! | `score_<f>_p10` | lower order statistic at `q = 0.1`, estimated as above | `[min, max]` |
//! | `score_<f>_p50` | the same at `q = 0.5` (lower median) | `[min, max]` |
//! | `score_<f>_p90` | the same at `q = 0.9` | `[min, max]` |
//! | `score_<f>_min` | smallest finite value, exact | finite `f64` |
//! | `score_<f>_max` | largest finite value, exact | finite `f64` |
//! | `score_<f>_rate` | share of values equal to `1`, only when every value is `0` or `1` | `[0, 1]` |
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The relative accuracy the quantile sketch guarantees (its buckets give `1/257 ≈ 0.0039`).
pub const ALPHA: f64 = 0.005;

/// The most occupied buckets a store (positive or negative) keeps before folding its lowest.
pub const MAX_BUCKETS: usize = 4096;

/// The metric suffixes, in the order [`metric_ids`] and [`ScoreColumn::metrics`] give them.
const SUFFIXES: [&str; 7] = ["mean", "p10", "p50", "p90", "min", "max", "rate"];

/// Mantissa bits in a bucket key: 2⁷ = 128 buckets per octave.
const SUB_BITS: u32 = 7;
/// `bits >> 45` of `1.0`, subtracted so that `1.0` has key 0.
const KEY_OFFSET: i32 = 1023 << SUB_BITS;
/// The key of `f64::MIN_POSITIVE`.
const KEY_MIN: i32 = (1 << SUB_BITS) - KEY_OFFSET;
/// The key of `f64::MAX`.
const KEY_MAX: i32 = (2047 << SUB_BITS) - 1 - KEY_OFFSET;

/// What can go wrong with a score column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScoreColumnError {
    /// A merge would overflow a count; nothing was changed.
    #[error("merging would overflow the count of {counter} (more than 2^64 - 1)")]
    Overflow {
        /// Which count: `values`, `missing values`, `non-finite values`, `zeros`, `ones`, or a
        /// bucket store.
        counter: &'static str,
    },
    /// A field name has no ASCII letter or digit to name its metrics by.
    #[error("the field name `{field}` has no ASCII letter or digit to name its metrics by")]
    EmptyFieldName {
        /// The name given.
        field: String,
    },
}

/// A score column's count, mean and sample variance ([`ScoreColumn::moments`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ColumnMoments {
    /// Values.
    pub count: u64,
    /// Their mean (exact, rounded once).
    pub mean: f64,
    /// Their sample variance (n − 1 in the denominator).
    pub variance: f64,
}

/// Mergeable statistics of one numeric field over many records: counts, exact sum, min and max,
/// and a quantile sketch. See the [module docs](self) for formulas and guarantees.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreColumn {
    /// Finite values added.
    count: u64,
    /// Records without the field (absent or null).
    missing: u64,
    /// NaN or infinite values.
    non_finite: u64,
    /// Finite values equal to 0 (either sign).
    zeros: u64,
    /// Finite values equal to 1.
    ones: u64,
    /// The exact sum of the finite values.
    sum: ExactSum,
    /// The smallest finite value (by `total_cmp`), `None` when `count == 0`.
    min: Option<f64>,
    /// The largest finite value (by `total_cmp`), `None` when `count == 0`.
    max: Option<f64>,
    /// Values with `|x| < f64::MIN_POSITIVE`.
    near_zero: u64,
    /// Bucket counts of positive values by key; no zero counts.
    positive: BTreeMap<i32, u64>,
    /// Bucket counts of negative values by the key of `|x|`; no zero counts.
    negative: BTreeMap<i32, u64>,
}

impl ScoreColumn {
    /// An empty column.
    pub fn new() -> ScoreColumn {
        ScoreColumn::default()
    }

    /// Add one finite value. A NaN or infinite one is counted as by
    /// [`add_non_finite`](Self::add_non_finite), so the column stays consistent.
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            self.add_non_finite();
            return;
        }
        self.count += 1;
        self.sum.add_f64(value);
        self.min = Some(self.min.map_or(value, |m| if value.total_cmp(&m).is_lt() { value } else { m }));
        self.max = Some(self.max.map_or(value, |m| if value.total_cmp(&m).is_gt() { value } else { m }));
        if value == 0.0 {
            self.zeros += 1;
        } else if value == 1.0 {
            self.ones += 1;
        }
        let magnitude = value.abs();
        if magnitude < f64::MIN_POSITIVE {
            self.near_zero += 1;
        } else if value > 0.0 {
            *self.positive.entry(key(magnitude)).or_default() += 1;
            fold(&mut self.positive, Edge::Lowest);
        } else {
            *self.negative.entry(key(magnitude)).or_default() += 1;
            fold(&mut self.negative, Edge::Highest);
        }
    }

    /// Count a record that lacks the field or holds null.
    pub fn add_missing(&mut self) {
        self.missing += 1;
    }

    /// Count a NaN or infinite value (kept out of every statistic but this count).
    pub fn add_non_finite(&mut self) {
        self.non_finite += 1;
    }

    /// Merge another column into this one: afterwards it is the column of both value lists.
    /// Exact, associative and commutative. A count that would pass `u64::MAX` is an error, and
    /// then nothing is changed. Cost: O(B log B) in the buckets `B`.
    pub fn merge(&mut self, other: &ScoreColumn) -> Result<(), ScoreColumnError> {
        let add = |a: u64, b: u64, counter| a.checked_add(b).ok_or(ScoreColumnError::Overflow { counter });
        let count = add(self.count, other.count, "values")?;
        let missing = add(self.missing, other.missing, "missing values")?;
        let non_finite = add(self.non_finite, other.non_finite, "non-finite values")?;
        let zeros = add(self.zeros, other.zeros, "zeros")?;
        let ones = add(self.ones, other.ones, "ones")?;
        let near_zero = add(self.near_zero, other.near_zero, "near-zero bucket")?;
        // Every bucket and every fold is a part of its store's total, so checking the totals
        // checks them all.
        for (mine, theirs, counter) in [
            (&self.positive, &other.positive, "positive buckets"),
            (&self.negative, &other.negative, "negative buckets"),
        ] {
            let total = store_total(mine).zip(store_total(theirs)).and_then(|(a, b)| a.checked_add(b));
            if total.is_none() {
                return Err(ScoreColumnError::Overflow { counter });
            }
        }
        (self.count, self.missing, self.non_finite, self.zeros, self.ones, self.near_zero) =
            (count, missing, non_finite, zeros, ones, near_zero);
        self.sum.add(&other.sum);
        self.min = extreme(self.min, other.min, Ordering::Less);
        self.max = extreme(self.max, other.max, Ordering::Greater);
        for (store, theirs, edge) in [
            (&mut self.positive, &other.positive, Edge::Lowest),
            (&mut self.negative, &other.negative, Edge::Highest),
        ] {
            for (&k, &c) in theirs {
                *store.entry(k).or_default() += c;
            }
            fold(store, edge);
        }
        Ok(())
    }

    /// Finite values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Records counted as missing (absent or null).
    pub fn missing(&self) -> u64 {
        self.missing
    }

    /// NaN or infinite values counted.
    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    /// The smallest finite value, exact; `None` without one.
    pub fn min(&self) -> Option<f64> {
        self.min
    }

    /// The largest finite value, exact; `None` without one.
    pub fn max(&self) -> Option<f64> {
        self.max
    }

    /// The exact sum of the finite values rounded once to the nearest `f64` (ties to even; ±∞
    /// past `f64::MAX`, `+0.0` when it is exactly zero). Cost: O(1) (34 limbs).
    pub fn sum(&self) -> f64 {
        self.sum.quotient(1)
    }

    /// The mean `Σx / n`: the exact rational rounded once to the nearest `f64` (ties to even),
    /// so it is bit-identical whatever the order of values and merges; `None` without values.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum.quotient(self.count))
    }

    /// The lower order statistic at `q` (see the [module docs](self)): exact at ranks `0` and
    /// `n−1` (so at `q = 0` and `q = 1`), else within a relative `1/257` (< [`ALPHA`]) unless it
    /// lies in a folded bucket. `None` without values or with `q` outside `[0, 1]`. Cost: O(B).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if !(0.0..=1.0).contains(&q) || self.count == 0 {
            return None;
        }
        let (min, max) = (self.min?, self.max?);
        let last = self.count - 1;
        // `as` saturates, and `q·last ≤ last` up to rounding: the `min` keeps the rank in range.
        let rank = ((q * last as f64).floor() as u64).min(last);
        if rank == 0 {
            return Some(min);
        }
        if rank == last {
            return Some(max);
        }
        Some(self.value_at_rank(rank).max(min).min(max))
    }

    /// The count, mean and sample variance of the values (what a test of two columns' means
    /// reads); `None` under two values. The variance is exact for a 0/1 column; otherwise each
    /// value counts at its sketch bucket's representative (within a relative 1/257), so it is
    /// within about 0.8 % of the values' (more where buckets were folded). O(B).
    pub fn moments(&self) -> Option<ColumnMoments> {
        if self.count < 2 {
            return None;
        }
        let mean = self.mean()?;
        let n = self.count as f64;
        let variance = if self.is_binary() {
            let p = self.ones as f64 / n;
            p * (1.0 - p) * n / (n - 1.0)
        } else {
            let square = |k: i32, c: u64, sign: f64| (sign * bucket_value(k) - mean).powi(2) * c as f64;
            let positive = self.positive.iter().map(|(k, c)| square(*k, *c, 1.0));
            let negative = self.negative.iter().map(|(k, c)| square(*k, *c, -1.0));
            let near_zero = std::iter::once(mean * mean * self.near_zero as f64);
            let terms = positive.chain(negative).chain(near_zero);
            crate::numeric::fsum(terms) / (n - 1.0)
        };
        Some(ColumnMoments { count: self.count, mean, variance })
    }

    /// Whether there is at least one finite value and every one is `0` or `1`.
    pub fn is_binary(&self) -> bool {
        self.count > 0 && self.zeros.checked_add(self.ones) == Some(self.count)
    }

    /// The share of ones when the column [`is_binary`](Self::is_binary), exactly rounded (it is
    /// the mean); `None` otherwise.
    pub fn rate(&self) -> Option<f64> {
        if self.is_binary() { self.mean() } else { None }
    }

    /// Occupied buckets of the quantile sketch (at most `2·MAX_BUCKETS + 1`): its memory.
    pub fn buckets(&self) -> usize {
        self.positive.len() + self.negative.len() + usize::from(self.near_zero > 0)
    }

    /// The metrics of this column named for `field` (ids as in the [module docs](self)), in the
    /// order of [`metric_ids`]; those without a value (all, without values; `rate`, unless the
    /// column is binary) are left out.
    pub fn metrics(&self, field: &str) -> Result<Vec<(String, f64)>, ScoreColumnError> {
        let ids = metric_ids(field)?;
        let values = [
            self.mean(),
            self.quantile(0.1),
            self.quantile(0.5),
            self.quantile(0.9),
            self.min,
            self.max,
            self.rate(),
        ];
        Ok(ids.into_iter().zip(values).filter_map(|(id, v)| Some((id, v?))).collect())
    }

    /// Whether a decoded column's parts agree as a column built from values has them: else why
    /// not. Cost: O(B).
    pub fn check_consistent(&self) -> Result<(), String> {
        let n = self.count;
        let (Some(min), Some(max)) = (self.min, self.max) else {
            let empty = n == 0
                && self.min.is_none()
                && self.max.is_none()
                && self.zeros == 0
                && self.ones == 0
                && self.near_zero == 0
                && self.positive.is_empty()
                && self.negative.is_empty()
                && self.sum == ExactSum::default();
            return if empty {
                Ok(())
            } else {
                Err("it has values but no min and max, or the reverse".into())
            };
        };
        if n == 0 {
            return Err("it has a min and max but no values".into());
        }
        if !min.is_finite() || !max.is_finite() || min.total_cmp(&max).is_gt() {
            return Err(format!("its min {min} and max {max} cannot be"));
        }
        for (store, name) in [(&self.positive, "positive"), (&self.negative, "negative")] {
            if store.len() > MAX_BUCKETS {
                return Err(format!(
                    "its {name} store holds {} buckets, more than {MAX_BUCKETS}",
                    store.len()
                ));
            }
            if let Some((k, c)) = store.iter().find(|&(&k, &c)| c == 0 || !(KEY_MIN..=KEY_MAX).contains(&k)) {
                return Err(format!("its {name} bucket {k} with count {c} cannot be"));
            }
        }
        let buckets = store_total(&self.positive)
            .zip(store_total(&self.negative))
            .and_then(|(p, m)| p.checked_add(m)?.checked_add(self.near_zero));
        if buckets != Some(n) {
            return Err(format!("its bucket counts do not add up to its {n} values"));
        }
        if self.zeros.checked_add(self.ones).is_none_or(|z| z > n) || self.zeros > self.near_zero {
            return Err(format!(
                "its {} zeros and {} ones cannot be among its {n} values",
                self.zeros, self.ones
            ));
        }
        if self.ones > 0 {
            let first = self.positive.first_key_value();
            let holder = match self.positive.get(&0) {
                Some(&c) => Some(c),
                None if self.positive.len() == MAX_BUCKETS => first.filter(|(k, _)| **k > 0).map(|(_, c)| *c),
                None => None,
            };
            if holder.is_none_or(|c| c < self.ones) || min > 1.0 || max < 1.0 {
                return Err(format!("its {} ones are not in its buckets or range", self.ones));
            }
        }
        if self.zeros > 0 && (min > 0.0 || max < 0.0) {
            return Err(format!("its {} zeros are outside its range", self.zeros));
        }
        // The extremes lie in the outermost occupied buckets; only a folded one may hold a min
        // below its own range.
        let lowest = match (self.negative.last_key_value(), self.near_zero, self.positive.first_key_value()) {
            (Some((&k, _)), _, _) => (-rank_of_key(k), self.negative.len() == MAX_BUCKETS),
            (None, z, _) if z > 0 => (0, false),
            (None, _, Some((&k, _))) => (rank_of_key(k), self.positive.len() == MAX_BUCKETS),
            (None, _, None) => return Err(format!("its buckets are empty but it has {n} values")),
        };
        let highest = match (self.positive.last_key_value(), self.near_zero, self.negative.first_key_value())
        {
            (Some((&k, _)), _, _) => rank_of_key(k),
            (None, z, _) if z > 0 => 0,
            (None, _, Some((&k, _))) => -rank_of_key(k),
            (None, _, None) => return Err(format!("its buckets are empty but it has {n} values")),
        };
        let at_min = position(min);
        let min_ok = match lowest {
            (l, false) => at_min == l,
            (l, true) => at_min <= l && at_min.signum() == l.signum(),
        };
        if !min_ok || position(max) != highest {
            return Err(format!("its min {min} or max {max} is not in its outermost buckets"));
        }
        if self.sum.cmp(&ExactSum::product(min, n)).is_lt()
            || self.sum.cmp(&ExactSum::product(max, n)).is_gt()
        {
            return Err(format!("its sum is outside {n} times its min and max"));
        }
        if self.is_binary() && self.sum != ExactSum::product(1.0, self.ones) {
            return Err(format!("its sum is not its {} ones", self.ones));
        }
        Ok(())
    }

    /// The representative of the bucket holding the value of 0-based rank `rank`, walking from
    /// the most negative bucket up.
    fn value_at_rank(&self, rank: u64) -> f64 {
        let mut seen = 0u64;
        for (&k, &c) in self.negative.iter().rev() {
            seen = seen.saturating_add(c);
            if seen > rank {
                return -bucket_value(k);
            }
        }
        seen = seen.saturating_add(self.near_zero);
        if seen > rank {
            return 0.0;
        }
        for (&k, &c) in &self.positive {
            seen = seen.saturating_add(c);
            if seen > rank {
                return bucket_value(k);
            }
        }
        // Only an inconsistent column gets here; the caller clamps to `[min, max]`.
        f64::INFINITY
    }
}

/// The ids of every metric a column of `field` may emit, in order: `score_<f>_mean`, `_p10`,
/// `_p50`, `_p90`, `_min`, `_max`, `_rate` (`rate` only for binary columns), with `<f>` the
/// [`sanitize_field`] name.
pub fn metric_ids(field: &str) -> Result<Vec<String>, ScoreColumnError> {
    let name = sanitize_field(field)?;
    Ok(SUFFIXES.iter().map(|s| format!("score_{name}_{s}")).collect())
}

/// A field name as snake-case ASCII for metric ids: ASCII letters lowercased, digits kept, every
/// other character (spaces, dots, dashes, non-ASCII) an `_`, runs of `_` collapsed to one and
/// trimmed at both ends (`Reward Score` → `reward_score`, `judge.overall` → `judge_overall`).
/// There is no camel-case splitting, and distinct names can meet (`a.b`, `a_b`): a caller
/// profiling several fields should refuse two that do. An error when nothing is left.
pub fn sanitize_field(field: &str) -> Result<String, ScoreColumnError> {
    let mut out = String::with_capacity(field.len());
    for c in field.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    if out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        return Err(ScoreColumnError::EmptyFieldName { field: field.to_string() });
    }
    Ok(out)
}

/// Which end of a store folds past the cap.
#[derive(Clone, Copy)]
enum Edge {
    /// The positive store: its smallest keys (smallest values).
    Lowest,
    /// The negative store: its largest keys (most negative values).
    Highest,
}

/// Fold a store's `edge` buckets until it holds at most [`MAX_BUCKETS`]: each folded bucket's
/// count moves onto its neighbour. Called after every insertion, this leaves the folded state
/// of the module docs, which does not depend on the order keys came in.
fn fold(store: &mut BTreeMap<i32, u64>, edge: Edge) {
    while store.len() > MAX_BUCKETS {
        let moved = match edge {
            Edge::Lowest => store.pop_first(),
            Edge::Highest => store.pop_last(),
        };
        let target = match edge {
            Edge::Lowest => store.first_entry(),
            Edge::Highest => store.last_entry(),
        };
        if let (Some((_, c)), Some(mut target)) = (moved, target) {
            *target.get_mut() += c;
        }
    }
}

/// The total count of a store; `None` if it passes `u64::MAX`.
fn store_total(store: &BTreeMap<i32, u64>) -> Option<u64> {
    store.values().try_fold(0u64, |acc, &c| acc.checked_add(c))
}

/// The smaller (`Less`) or larger (`Greater`) of two optional extremes by `total_cmp`.
fn extreme(a: Option<f64>, b: Option<f64>, keep: Ordering) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.total_cmp(&a) == keep { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The bucket key of a magnitude `≥ f64::MIN_POSITIVE`: its exponent and top 7 mantissa bits.
fn key(magnitude: f64) -> i32 {
    // A finite f64's bits >> 45 are below 2^19: the cast is exact.
    (magnitude.to_bits() >> (52 - SUB_BITS)) as i32 - KEY_OFFSET
}

/// The representative of bucket `k`, `[a, b)`: `2ab/(a+b)`, within `(b−a)/(b+a) ≤ 1/257` of
/// every value in it. Computed on the mantissa grid so that the top bucket (`b = 2¹⁰²⁴`) does
/// not overflow.
fn bucket_value(k: i32) -> f64 {
    let bits = (k + KEY_OFFSET) as u32;
    let (field, sub) = (bits >> SUB_BITS, bits & ((1 << SUB_BITS) - 1));
    // In units of 2^(exponent − 7): a = 128 + sub, b = a + 1; one rounding, r in [128, 256).
    let a = f64::from(128 + sub);
    let r = 2.0 * a * (a + 1.0) / (2.0 * a + 1.0);
    // field is in 1..=2046, so the scale 2^(field − 1030) is at least 2^−1029: exact, and the
    // product is a normal number, so scaling by it is exact.
    r * pow2(field as i32 - 1023 - SUB_BITS as i32)
}

/// `2^e` exactly, for `e` in `[-1074, 1023]`.
fn pow2(e: i32) -> f64 {
    if e >= -1022 { f64::from_bits(((e + 1023) as u64) << 52) } else { f64::from_bits(1u64 << (e + 1074)) }
}

/// The 1-based rank of a key among all keys, so that bucket positions order as values do.
fn rank_of_key(k: i32) -> i64 {
    i64::from(k) - i64::from(KEY_MIN) + 1
}

/// Where a value's bucket lies on the line: negative for the negative store (more negative for
/// larger `|x|`), 0 for the near-zero bucket, positive for the positive store.
fn position(x: f64) -> i64 {
    let magnitude = x.abs();
    if magnitude < f64::MIN_POSITIVE {
        0
    } else if x > 0.0 {
        rank_of_key(key(magnitude))
    } else {
        -rank_of_key(key(magnitude))
    }
}

/// Limbs of the exact sum: 2⁶⁴ values below 2¹⁰²⁴ sum below 2¹⁰⁸⁸, that is 2²¹⁶² units of
/// 2⁻¹⁰⁷⁴; with a sign bit that fits in 34·64 = 2176 bits.
const LIMBS: usize = 34;

/// An exact sum of finite `f64`s: a two's-complement integer of [`LIMBS`] little-endian limbs in
/// units of 2⁻¹⁰⁷⁴. Serialized as sign and magnitude with the zero limbs at both ends left out,
/// so every value has one encoding (decoding refuses any other).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SumWire", into = "SumWire")]
struct ExactSum([u64; LIMBS]);

/// The serialized form of [`ExactSum`].
#[derive(Serialize, Deserialize)]
struct SumWire {
    /// Whether the sum is below zero (never for zero).
    negative: bool,
    /// The index of the first limb of `limbs`.
    low: u32,
    /// The nonzero span of the magnitude's limbs, little-endian; first and last are nonzero.
    limbs: Vec<u64>,
}

impl Default for ExactSum {
    fn default() -> ExactSum {
        ExactSum([0; LIMBS])
    }
}

impl ExactSum {
    /// Add a finite value.
    fn add_f64(&mut self, x: f64) {
        let (mantissa, shift) = decompose(x);
        let (start, words) = positioned(u128::from(mantissa), shift);
        if x.is_sign_negative() { self.sub_words(start, words) } else { self.add_words(start, words) }
    }

    /// Add another sum (wrapping, which consistent columns never reach).
    fn add(&mut self, other: &ExactSum) {
        let mut carry = false;
        for (a, &b) in self.0.iter_mut().zip(&other.0) {
            let (s, c1) = a.overflowing_add(b);
            let (s, c2) = s.overflowing_add(u64::from(carry));
            *a = s;
            carry = c1 || c2;
        }
    }

    /// `x · n` exactly, for the consistency bounds.
    fn product(x: f64, n: u64) -> ExactSum {
        let (mantissa, shift) = decompose(x);
        let (start, words) = positioned(u128::from(mantissa) * u128::from(n), shift);
        let mut out = ExactSum::default();
        if x.is_sign_negative() {
            out.sub_words(start, words)
        } else {
            out.add_words(start, words)
        }
        out
    }

    fn add_words(&mut self, start: usize, words: [u64; 3]) {
        let mut carry = false;
        let mut i = start;
        for w in words {
            if i == LIMBS {
                return;
            }
            let (s, c1) = self.0[i].overflowing_add(w);
            let (s, c2) = s.overflowing_add(u64::from(carry));
            self.0[i] = s;
            carry = c1 || c2;
            i += 1;
        }
        while carry && i < LIMBS {
            (self.0[i], carry) = self.0[i].overflowing_add(1);
            i += 1;
        }
    }

    fn sub_words(&mut self, start: usize, words: [u64; 3]) {
        let mut borrow = false;
        let mut i = start;
        for w in words {
            if i == LIMBS {
                return;
            }
            let (s, b1) = self.0[i].overflowing_sub(w);
            let (s, b2) = s.overflowing_sub(u64::from(borrow));
            self.0[i] = s;
            borrow = b1 || b2;
            i += 1;
        }
        while borrow && i < LIMBS {
            (self.0[i], borrow) = self.0[i].overflowing_sub(1);
            i += 1;
        }
    }

    fn is_negative(&self) -> bool {
        self.0[LIMBS - 1] >> 63 == 1
    }

    /// Sign and magnitude.
    fn magnitude(&self) -> (bool, [u64; LIMBS]) {
        let negative = self.is_negative();
        let mut limbs = self.0;
        if negative {
            negate(&mut limbs);
        }
        (negative, limbs)
    }

    /// `self / n` rounded once to the nearest `f64`, ties to even (`n ≥ 1`).
    fn quotient(&self, n: u64) -> f64 {
        let (negative, magnitude) = self.magnitude();
        let n = u128::from(n.max(1));
        let mut q = [0u64; LIMBS];
        let mut rem = 0u128;
        for i in (0..LIMBS).rev() {
            let cur = (rem << 64) | u128::from(magnitude[i]);
            q[i] = (cur / n) as u64;
            rem = cur % n;
        }
        let len = bit_length(&q);
        // The result is m · 2^(s − 1074) with a 53-bit m, rounded on the bits below it and the
        // remainder; below 2^53 units every integer is an f64 (subnormals included).
        let (mut m, s, round_up) = if len <= 53 {
            let twice = rem * 2;
            (q[0], 0, twice > n || (twice == n && q[0] & 1 == 1))
        } else {
            let s = len - 53;
            let m = bits_from(&q, s) & ((1 << 53) - 1);
            let rest = rem != 0 || any_below(&q, s - 1);
            (m, s, bit(&q, s - 1) && (rest || m & 1 == 1))
        };
        m += u64::from(round_up);
        // m carries the hidden bit at 2^52, so adding it to the shifted exponent gives the
        // biased exponent and mantissa at once (m = 2^53 after rounding up carries into it).
        let bits = ((s as u64) << 52) + m;
        let value = if bits >= f64::INFINITY.to_bits() { f64::INFINITY } else { f64::from_bits(bits) };
        if negative { -value } else { value }
    }
}

impl PartialOrd for ExactSum {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ExactSum {
    /// Signed comparison of the two's-complement values.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.0[LIMBS - 1] as i64)
            .cmp(&(other.0[LIMBS - 1] as i64))
            .then_with(|| self.0[..LIMBS - 1].iter().rev().cmp(other.0[..LIMBS - 1].iter().rev()))
    }
}

impl From<ExactSum> for SumWire {
    fn from(sum: ExactSum) -> SumWire {
        let (negative, magnitude) = sum.magnitude();
        match (magnitude.iter().position(|&l| l != 0), magnitude.iter().rposition(|&l| l != 0)) {
            (Some(low), Some(high)) => {
                SumWire { negative, low: low as u32, limbs: magnitude[low..=high].to_vec() }
            }
            _ => SumWire { negative: false, low: 0, limbs: Vec::new() },
        }
    }
}

impl TryFrom<SumWire> for ExactSum {
    type Error = &'static str;

    fn try_from(wire: SumWire) -> Result<ExactSum, &'static str> {
        let SumWire { negative, low, limbs } = wire;
        if limbs.is_empty() {
            return if negative || low != 0 {
                Err("a zero sum has one encoding")
            } else {
                Ok(ExactSum::default())
            };
        }
        if limbs.first() == Some(&0) || limbs.last() == Some(&0) {
            return Err("a sum's limbs must not start or end with zero");
        }
        let low = low as usize;
        if low.checked_add(limbs.len()).is_none_or(|end| end > LIMBS) {
            return Err("a sum's limbs do not fit its accumulator");
        }
        let mut out = [0u64; LIMBS];
        out[low..low + limbs.len()].copy_from_slice(&limbs);
        if out[LIMBS - 1] >> 63 == 1 {
            return Err("a sum's magnitude does not fit its accumulator");
        }
        if negative {
            negate(&mut out);
        }
        Ok(ExactSum(out))
    }
}

/// A finite `f64`'s magnitude as `mantissa · 2^(shift − 1074)`.
fn decompose(x: f64) -> (u64, u32) {
    let bits = x.to_bits();
    let field = ((bits >> 52) & 0x7ff) as u32;
    let fraction = bits & ((1 << 52) - 1);
    if field == 0 { (fraction, 0) } else { (fraction | 1 << 52, field - 1) }
}

/// `v · 2^shift` as three limbs starting at limb `shift / 64` (`v` below 2¹¹⁷).
fn positioned(v: u128, shift: u32) -> (usize, [u64; 3]) {
    let (lo, hi) = (v as u64, (v >> 64) as u64);
    let off = shift % 64;
    let words =
        if off == 0 { [lo, hi, 0] } else { [lo << off, (hi << off) | (lo >> (64 - off)), hi >> (64 - off)] };
    ((shift / 64) as usize, words)
}

/// Two's-complement negation in place.
fn negate(limbs: &mut [u64; LIMBS]) {
    let mut carry = true;
    for l in limbs.iter_mut() {
        (*l, carry) = (!*l).overflowing_add(u64::from(carry));
    }
}

fn bit_length(limbs: &[u64; LIMBS]) -> u32 {
    limbs.iter().rposition(|&l| l != 0).map_or(0, |i| i as u32 * 64 + 64 - limbs[i].leading_zeros())
}

fn bit(limbs: &[u64; LIMBS], i: u32) -> bool {
    (limbs[(i / 64) as usize] >> (i % 64)) & 1 == 1
}

/// Whether any bit below position `i` is set.
fn any_below(limbs: &[u64; LIMBS], i: u32) -> bool {
    let (whole, part) = ((i / 64) as usize, i % 64);
    limbs[..whole].iter().any(|&l| l != 0) || (part > 0 && limbs[whole] & ((1 << part) - 1) != 0)
}

/// The 64 bits from position `s` up.
fn bits_from(limbs: &[u64; LIMBS], s: u32) -> u64 {
    let (i, off) = ((s / 64) as usize, s % 64);
    let mut out = limbs[i] >> off;
    if off > 0 && i + 1 < LIMBS {
        out |= limbs[i + 1] << (64 - off);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moments: exact for 0/1 columns, within the sketch's error otherwise, merge-invariant.
    #[test]
    fn moments_follow_the_values() {
        let mut column = ScoreColumn::new();
        for v in 1..=100 {
            column.add(f64::from(v));
        }
        column.add(-3.0);
        column.add(0.0);
        let values: Vec<f64> = (1..=100).map(f64::from).chain([-3.0, 0.0]).collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let m = column.moments().unwrap();
        assert_eq!((m.count, m.mean), (102, mean));
        assert!((m.variance / variance - 1.0).abs() < 0.008, "{} vs {variance}", m.variance);
        let mut binary = ScoreColumn::new();
        for v in [1.0, 0.0, 1.0, 1.0] {
            binary.add(v);
        }
        assert_eq!(binary.moments().unwrap().variance, 0.75 * 0.25 * 4.0 / 3.0);
        let mut one = ScoreColumn::new();
        one.add(2.0);
        assert_eq!(one.moments(), None);
    }

    fn column(values: &[f64]) -> ScoreColumn {
        let mut c = ScoreColumn::new();
        for &v in values {
            c.add(v);
        }
        c
    }

    /// The lower bound of bucket `k` (`+∞` past the top).
    fn lower(k: i32) -> f64 {
        f64::from_bits(((k + KEY_OFFSET) as u64) << 45)
    }

    #[test]
    fn keys_follow_the_bits() {
        for (x, k) in [
            (1.0, 0),
            (1.0 + 1.0 / 128.0, 1),
            (2.0, 128),
            (0.5, -128),
            (f64::MIN_POSITIVE, KEY_MIN),
            (f64::MAX, KEY_MAX),
            (1.0 - f64::EPSILON / 2.0, -1),
        ] {
            assert_eq!(key(x), k, "{x}");
        }
        assert_eq!(lower(KEY_MAX + 1), f64::INFINITY);
    }

    #[test]
    fn every_bucket_value_is_within_1_257_of_its_range() {
        let bound = 1.0 / 257.0 + 1e-15;
        let keys = (KEY_MIN..KEY_MIN + 300).chain(-300..300).chain(KEY_MAX - 300..=KEY_MAX);
        for k in keys {
            let (a, b) = (lower(k), lower(k + 1));
            let v = bucket_value(k);
            assert!(a <= v && v < b, "bucket {k}: {v} outside [{a}, {b})");
            assert_eq!(key(v), k);
            // The worst values are the ends: a, and the largest f64 below b.
            let top = f64::from_bits(b.to_bits() - 1);
            assert!((v - a) / a <= bound && (top - v) / top <= bound, "bucket {k}");
        }
        const { assert!(1.0 / 257.0 < ALPHA) };
    }

    #[test]
    fn quotients_round_once_to_nearest_even() {
        let tiny = f64::from_bits(1);
        let cases: &[(&[f64], f64)] = &[
            (&[1.0, 2.0], 1.5),
            (&[1.0, 1.0, 0.0], 2.0 / 3.0),
            (&[1e308, 1.0, -1e308], 1.0 / 3.0),
            (&[f64::MAX, f64::MAX, f64::MAX], f64::MAX),
            (&[f64::MAX, f64::MAX, -f64::MAX], f64::MAX / 3.0),
            (&[tiny], tiny),
            (&[tiny, 0.0], 0.0),                       // half a unit ties to even: 0
            (&[tiny, tiny, tiny, 0.0, 0.0, 0.0], 0.0), // ditto
            (&[tiny, tiny, tiny, 0.0], tiny),          // 0.75 units
            (&[-tiny, -tiny, -tiny, 0.0], -tiny),
            (&[3.0 * tiny, 0.0], 2.0 * tiny), // 1.5 units: even 2
            (&[f64::MIN_POSITIVE, 0.0], f64::MIN_POSITIVE / 2.0),
            (&[-0.1, -0.2, -0.3], -0.2),
            (&[0.1, 0.2], (0.1f64 + 0.2) / 2.0),
        ];
        for &(values, want) in cases {
            let mean = column(values).mean().unwrap();
            assert_eq!(mean.to_bits(), want.to_bits(), "{values:?}: {mean:e}, want {want:e}");
        }
        assert_eq!(column(&[f64::MAX, f64::MAX]).sum(), f64::INFINITY);
        assert_eq!(column(&[-f64::MAX, -f64::MAX]).sum(), f64::NEG_INFINITY);
        assert_eq!(column(&[0.5, -0.5]).sum().to_bits(), 0.0f64.to_bits());
        // Halfway between two f64s near 1: 1 + 2^-53 rounds to even (1), 1 + 3·2^-53 up.
        let h = f64::EPSILON / 2.0;
        assert_eq!(column(&[1.0, h]).sum(), 1.0);
        assert_eq!(column(&[1.0, h, h, h]).sum(), 1.0 + 2.0 * f64::EPSILON);
        assert_eq!(column(&[1.0, h, h / 1024.0]).sum(), 1.0 + f64::EPSILON);
        // A half past the kept bits with a remainder below them rounds up, not to even.
        assert_eq!(column(&[3.0, 3.0 * h, tiny]).mean(), Some(1.0 + f64::EPSILON));
        assert_eq!(column(&[3.0, 3.0 * h, 0.0]).mean(), Some(1.0));
    }

    #[test]
    fn signed_zeros_merge_the_same_either_way() {
        let (plus, minus) = (column(&[0.0]), column(&[-0.0]));
        let mut a = plus.clone();
        a.merge(&minus).unwrap();
        let mut b = minus.clone();
        b.merge(&plus).unwrap();
        let one_pass = column(&[0.0, -0.0]);
        for c in [&a, &b] {
            assert_eq!(postcard::to_allocvec(c).unwrap(), postcard::to_allocvec(&one_pass).unwrap());
        }
        assert_eq!(a.min.map(f64::to_bits), Some((-0.0f64).to_bits()));
        assert_eq!(a.max.map(f64::to_bits), Some(0.0f64.to_bits()));
        assert_eq!((a.zeros, a.near_zero, a.mean()), (2, 2, Some(0.0)));
        assert!(a.is_binary());
    }

    #[test]
    fn exact_sums_order_and_multiply() {
        let mut sums: Vec<ExactSum> = [-f64::MAX, -1.0, -f64::from_bits(1), 0.0, 1e-300, 1.0, f64::MAX]
            .iter()
            .map(|&x| ExactSum::product(x, 1))
            .collect();
        let sorted = sums.clone();
        sums.reverse();
        sums.sort();
        assert_eq!(sums, sorted);
        let mut three = ExactSum::default();
        for _ in 0..3 {
            three.add_f64(-f64::MAX);
        }
        assert_eq!(three, ExactSum::product(-f64::MAX, 3));
        assert_eq!(ExactSum::product(-0.0, 5), ExactSum::default());
        assert_eq!(ExactSum::product(f64::MAX, u64::MAX).quotient(u64::MAX), f64::MAX);
    }

    #[test]
    fn sum_wire_encodings_are_canonical() {
        let decode = |json: &str| serde_json::from_str::<ExactSum>(json);
        let one = serde_json::to_string(&ExactSum::product(-1.0, 1)).unwrap();
        assert_eq!(one, r#"{"negative":true,"low":16,"limbs":[1125899906842624]}"#);
        assert_eq!(decode(&one).unwrap(), ExactSum::product(-1.0, 1));
        assert_eq!(
            serde_json::to_string(&ExactSum::default()).unwrap(),
            r#"{"negative":false,"low":0,"limbs":[]}"#
        );
        for bad in [
            r#"{"negative":true,"low":0,"limbs":[]}"#,
            r#"{"negative":false,"low":3,"limbs":[]}"#,
            r#"{"negative":false,"low":16,"limbs":[1125899906842624,0]}"#,
            r#"{"negative":false,"low":15,"limbs":[0,1125899906842624]}"#,
            r#"{"negative":false,"low":33,"limbs":[1,1]}"#,
            r#"{"negative":false,"low":4294967295,"limbs":[1]}"#,
            r#"{"negative":false,"low":33,"limbs":[9223372036854775808]}"#,
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    /// The folded state of the module docs, computed from the whole multiset of keys.
    fn reference_fold(mut all: BTreeMap<i32, u64>, edge: Edge) -> BTreeMap<i32, u64> {
        if all.len() <= MAX_BUCKETS {
            return all;
        }
        let t = match edge {
            Edge::Lowest => *all.keys().rev().nth(MAX_BUCKETS - 1).unwrap(),
            Edge::Highest => *all.keys().nth(MAX_BUCKETS - 1).unwrap(),
        };
        let folded: Vec<i32> = match edge {
            Edge::Lowest => all.range(..t).map(|(&k, _)| k).collect(),
            Edge::Highest => all.range(t + 1..).map(|(&k, _)| k).collect(),
        };
        for k in folded {
            let c = all.remove(&k).unwrap();
            *all.get_mut(&t).unwrap() += c;
        }
        all
    }

    #[test]
    fn the_cap_folds_to_the_reference_in_any_order() {
        // 6,000 distinct keys each side, shuffled by a fixed LCG, some repeated.
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 33
        };
        let mut values: Vec<f64> = (0..6000).flat_map(|i| [lower(i - 3000), -lower(i - 2500)]).collect();
        for _ in 0..3000 {
            let i = next() as usize % values.len();
            values.push(values[i] * 1.001);
        }
        for i in (1..values.len()).rev() {
            values.swap(i, next() as usize % (i + 1));
        }
        let one_pass = column(&values);
        let (mut pos, mut neg) = (BTreeMap::new(), BTreeMap::new());
        for &v in &values {
            let store = if v > 0.0 { &mut pos } else { &mut neg };
            *store.entry(key(v.abs())).or_insert(0u64) += 1;
        }
        assert!(pos.len() > MAX_BUCKETS && neg.len() > MAX_BUCKETS);
        assert_eq!(one_pass.positive, reference_fold(pos, Edge::Lowest));
        assert_eq!(one_pass.negative, reference_fold(neg, Edge::Highest));
        assert_eq!(one_pass.check_consistent(), Ok(()));
        // Shards by a stride, merged forwards and backwards.
        let shards: Vec<ScoreColumn> =
            (0..7).map(|s| column(&values.iter().skip(s).step_by(7).copied().collect::<Vec<_>>())).collect();
        for order in [shards.iter().collect::<Vec<_>>(), shards.iter().rev().collect()] {
            let mut merged = ScoreColumn::new();
            for s in order {
                merged.merge(s).unwrap();
            }
            assert_eq!(postcard::to_allocvec(&merged).unwrap(), postcard::to_allocvec(&one_pass).unwrap());
        }
    }

    #[test]
    fn merge_refuses_overflow_and_changes_nothing() {
        let mut full = ScoreColumn {
            count: u64::MAX,
            zeros: u64::MAX,
            near_zero: u64::MAX,
            min: Some(0.0),
            max: Some(0.0),
            ..ScoreColumn::default()
        };
        assert_eq!(full.check_consistent(), Ok(()));
        let before = full.clone();
        assert_eq!(full.merge(&column(&[0.0])), Err(ScoreColumnError::Overflow { counter: "values" }));
        assert_eq!(full, before);
        let mut lost = ScoreColumn { missing: u64::MAX, ..ScoreColumn::default() };
        let mut one = ScoreColumn::new();
        one.add_missing();
        assert_eq!(lost.merge(&one), Err(ScoreColumnError::Overflow { counter: "missing values" }));
        assert_eq!(lost.missing(), u64::MAX);
        // A store whose counts pass u64::MAX together, with consistent-looking totals elsewhere.
        let big = ScoreColumn { positive: BTreeMap::from([(0, u64::MAX)]), ..ScoreColumn::default() };
        let mut again = big.clone();
        assert_eq!(again.merge(&big), Err(ScoreColumnError::Overflow { counter: "positive buckets" }));
        assert_eq!(again, big);
    }

    #[test]
    fn crafted_states_are_refused() {
        let good = column(&[-3.0, 0.0, 1.0, 1.0, 2.5, 1e-310]);
        assert_eq!(good.check_consistent(), Ok(()));
        assert_eq!(ScoreColumn::new().check_consistent(), Ok(()));
        let full = column(&(0..5000).map(lower).collect::<Vec<_>>());
        assert_eq!(full.check_consistent(), Ok(()));
        type Craft = fn(&mut ScoreColumn);
        let crafts: &[(&str, Craft)] = &[
            ("count up", |c| c.count += 1),
            ("count down", |c| c.count -= 1),
            ("no min", |c| c.min = None),
            ("min above max", |c| (c.min, c.max) = (c.max, c.min)),
            ("min not finite", |c| c.min = Some(f64::NEG_INFINITY)),
            ("min too low", |c| c.min = Some(-4.0)),
            ("min too high", |c| c.min = Some(-2.9)),
            ("max off", |c| c.max = Some(2.0)),
            ("zeros", |c| c.zeros = 3),
            ("ones", |c| c.ones = 3),
            ("ones moved", |c| {
                c.positive.remove(&0);
                c.positive.insert(1, 2);
            }),
            ("zero bucket", |c| {
                c.positive.insert(5, 0);
            }),
            ("key out of range", |c| {
                let n = c.negative.remove(&key(3.0)).unwrap();
                c.negative.insert(KEY_MAX + 1, n);
            }),
            ("near zero", |c| c.near_zero += 1),
            ("sum", |c| c.sum.add_f64(100.0)),
            ("sum low", |c| c.sum.add_f64(-100.0)),
            ("empty with sum", |c| *c = ScoreColumn { sum: ExactSum::product(1.0, 1), ..ScoreColumn::new() }),
            ("empty with min", |c| *c = ScoreColumn { min: Some(1.0), max: Some(1.0), ..ScoreColumn::new() }),
            ("binary sum", |c| {
                *c = ScoreColumn { sum: ExactSum::product(0.5, 2), ..column(&[0.0, 1.0, 1.0]) }
            }),
        ];
        for (what, craft) in crafts {
            let mut c = good.clone();
            craft(&mut c);
            assert!(c.check_consistent().is_err(), "{what} passed: {c:?}");
        }
        let mut over = full.clone();
        over.positive.insert(KEY_MAX, 1);
        over.count += 1;
        over.max = Some(f64::MAX);
        assert!(over.check_consistent().unwrap_err().contains("more than 4096"));
        // A folded store may hold a min below its lowest bucket, but not above.
        assert!(full.min.unwrap() < lower(*full.positive.first_key_value().unwrap().0));
        let mut high = full.clone();
        high.min = Some(lower(*full.positive.first_key_value().unwrap().0 + 1));
        assert!(high.check_consistent().is_err());
    }
}
