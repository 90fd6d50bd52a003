//! A frozen reference distribution (a corpus, a profile or a word-frequency table) and the
//! metrics that measure a corpus against it.
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use crate::lexical::MetricValues;
use crate::numeric::fsum;
use crate::profile::Profile;
use crate::{Error, Result};

/// The ids [`Reference::metrics`] computes.
pub const REFERENCE_IDS: &[&str] = &[
    "kl_to_reference",
    "js_to_reference",
    "vocab_coverage",
    "tail_coverage",
    "tail_mass_coverage",
    "psi_doc_length",
    "wasserstein_doc_length",
];

/// Default share of the reference's token mass that defines its tail.
pub const DEFAULT_TAIL_MASS: f64 = 0.1;
/// Default weight of the uniform distribution mixed into the reference for KL.
pub const DEFAULT_SMOOTHING: f64 = 1e-4;

/// A reference distribution.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Where it came from.
    pub source: String,
    /// `corpus`, `profile` or `frequencies`.
    pub kind: &'static str,
    weights: HashMap<String, f64>,
    total: f64,
    doc_lengths: Option<BTreeMap<u64, u64>>,
}

/// How reference metrics are computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReferenceOptions {
    /// The tail is the set of rarest reference types holding at most this share of its mass.
    pub tail_mass: f64,
    /// KL smoothing: the reference is mixed with the uniform distribution over the union
    /// vocabulary with this weight, so KL stays finite.
    pub smoothing: f64,
}

impl Default for ReferenceOptions {
    fn default() -> Self {
        Self { tail_mass: DEFAULT_TAIL_MASS, smoothing: DEFAULT_SMOOTHING }
    }
}

/// What the report says about the reference.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceInfo {
    /// Where it came from.
    pub source: String,
    /// `corpus`, `profile` or `frequencies`.
    pub kind: &'static str,
    /// Number of types.
    pub types: usize,
    /// Tail definition: share of reference mass.
    pub tail_mass: f64,
    /// Types in the tail.
    pub tail_types: usize,
    /// Highest reference frequency (share) inside the tail.
    pub tail_max_share: Option<f64>,
    /// KL smoothing weight.
    pub smoothing: f64,
}

impl Reference {
    /// A reference from a profile (of a corpus or a `.twp` file).
    pub fn from_profile(profile: &Profile, source: &str, kind: &'static str) -> Self {
        let weights: HashMap<String, f64> =
            profile.token_stats().map(|(t, s)| (t.to_string(), s.count as f64)).collect();
        Self {
            source: source.to_string(),
            kind,
            total: profile.n_tokens() as f64,
            weights,
            doc_lengths: Some(profile.doc_lengths().clone()),
        }
    }

    /// A reference from a word-frequency table: `word<TAB>count-or-frequency`, optionally with a
    /// header row (then the column named `count`, `frequency`, `freq` or `probability` is used;
    /// without one, the second column). With `lowercase`, words are lowercased and merged.
    pub fn from_frequency_table(reader: impl BufRead, path: &Path, lowercase: bool) -> Result<Self> {
        let mut weights: HashMap<String, f64> = HashMap::new();
        let mut column = 1usize;
        let err = |line: u64, message: String| Error::Reference { path: path.to_path_buf(), line, message };
        for (i, line) in reader.lines().enumerate() {
            let n = i as u64 + 1;
            let line = line.map_err(|e| err(n, format!("cannot read: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if n == 1 {
                let header = fields.iter().position(|f| {
                    matches!(
                        f.trim().to_ascii_lowercase().as_str(),
                        "count" | "frequency" | "freq" | "probability"
                    )
                });
                if let Some(h) = header {
                    column = h;
                    continue;
                }
                if fields.get(1).is_some_and(|f| f.trim().parse::<f64>().is_err()) {
                    return Err(err(1, "header row has no `count` or `frequency` column".into()));
                }
            }
            let word = fields[0];
            if word.is_empty() {
                return Err(err(n, "empty word in column 1".into()));
            }
            let raw = fields.get(column).ok_or_else(|| err(n, format!("missing column {}", column + 1)))?;
            let value: f64 = raw
                .trim()
                .parse()
                .map_err(|_| err(n, format!("column {} is not a number: `{raw}`", column + 1)))?;
            if !value.is_finite() || value < 0.0 {
                return Err(err(
                    n,
                    format!("column {} must be a finite non-negative number, found `{raw}`", column + 1),
                ));
            }
            let key = if lowercase { word.to_lowercase() } else { word.to_string() };
            let weight = weights.entry(key).or_default();
            *weight += value;
            if !weight.is_finite() {
                return Err(err(n, format!("the counts of `{word}` add up past what a number holds")));
            }
        }
        let total = fsum(weights.values().copied());
        if !total.is_finite() {
            return Err(err(0, "the counts add up past what a number holds".into()));
        }
        if total <= 0.0 {
            return Err(err(0, "the table holds no positive frequency".into()));
        }
        Ok(Self {
            source: path.display().to_string(),
            kind: "frequencies",
            weights,
            total,
            doc_lengths: None,
        })
    }

    /// Number of types with positive weight.
    pub fn types(&self) -> usize {
        self.weights.values().filter(|w| **w > 0.0).count()
    }

    /// Every type with positive weight (for item catalogs).
    pub fn vocabulary(&self) -> Vec<String> {
        let mut v: Vec<String> =
            self.weights.iter().filter(|(_, w)| **w > 0.0).map(|(t, _)| t.clone()).collect();
        v.sort();
        v
    }

    /// The tail: rarest types whose weights sum to at most `tail_mass` of the total. Whole
    /// frequency levels are taken, so ties never split; when the rarest level alone holds more
    /// (a small reference, where most words are seen once), the tail is that level.
    pub fn tail(&self, tail_mass: f64) -> Vec<(&str, f64)> {
        let mut entries: Vec<(&str, f64)> =
            self.weights.iter().filter(|(_, w)| **w > 0.0).map(|(t, w)| (t.as_str(), *w)).collect();
        entries.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
        let budget = tail_mass * self.total;
        let mut cumulative = 0.0;
        let mut end = 0;
        let mut i = 0;
        while i < entries.len() {
            let level = entries[i].1;
            let mut j = i;
            let mut level_mass = 0.0;
            while j < entries.len() && entries[j].1 == level {
                level_mass += entries[j].1;
                j += 1;
            }
            if end > 0 && cumulative + level_mass > budget * (1.0 + 1e-12) {
                break;
            }
            cumulative += level_mass;
            end = j;
            i = j;
        }
        entries.truncate(end);
        entries
    }

    /// Reference metrics of `profile`; adds the reference description.
    pub fn metrics(&self, profile: &Profile, options: ReferenceOptions) -> (MetricValues, ReferenceInfo) {
        let mut out = MetricValues::default();
        let n = profile.n_tokens() as f64;
        let shared: usize =
            profile.token_stats().filter(|(t, _)| self.weights.get(*t).is_some_and(|w| *w > 0.0)).count();
        let ref_types = self.types();
        let union = (profile.n_types() + ref_types - shared) as f64;

        if n > 0.0 {
            let eps = options.smoothing;
            let kl = fsum(profile.token_stats().map(|(t, s)| {
                let p = s.count as f64 / n;
                let q = self.weights.get(t).copied().unwrap_or(0.0) / self.total;
                let q_smoothed = (1.0 - eps) * q + eps / union;
                p * (p / q_smoothed).log2()
            }));
            out.set("kl_to_reference", Some(kl.max(0.0)));
            // JS: terms over the candidate's types, plus reference-only mass (each contributes q/2).
            // Every sum is exact (fsum), so the value does not depend on the order the profile
            // holds its types in (which follows the documents' and the workers' order).
            let mut seen = Vec::with_capacity(profile.n_types());
            let mut terms: Vec<f64> = profile
                .token_stats()
                .map(|(t, s)| {
                    let p = s.count as f64 / n;
                    let q = self.weights.get(t).copied().unwrap_or(0.0) / self.total;
                    seen.push(q);
                    let m = (p + q) / 2.0;
                    let mut term = 0.5 * p * (p / m).log2();
                    if q > 0.0 {
                        term += 0.5 * q * (q / m).log2();
                    }
                    term
                })
                .collect();
            terms.push(0.5 * (1.0 - fsum(seen)).max(0.0));
            out.set("js_to_reference", Some(fsum(terms).clamp(0.0, 1.0)));
        } else {
            out.set("kl_to_reference", None);
            out.set("js_to_reference", None);
        }
        out.set("vocab_coverage", (ref_types > 0).then(|| shared as f64 / ref_types as f64));
        let tail = self.tail(options.tail_mass);
        let tail_total = fsum(tail.iter().map(|(_, w)| *w));
        let present: Vec<f64> =
            tail.iter().filter(|(t, _)| profile.token(t).is_some()).map(|(_, w)| *w).collect();
        out.set("tail_coverage", (!tail.is_empty()).then(|| present.len() as f64 / tail.len() as f64));
        out.set("tail_mass_coverage", (tail_total > 0.0).then(|| fsum(present) / tail_total));
        if tail_total > options.tail_mass * self.total * (1.0 + 1e-12) {
            out.notes.push(format!(
                "the reference's rarest frequency level alone holds {:.1} % of its mass, more than the tail mass {}: the tail is that level",
                100.0 * tail_total / self.total,
                options.tail_mass
            ));
        }
        match &self.doc_lengths {
            Some(reference) if profile.n_docs() > 0 => {
                out.set("psi_doc_length", psi_on_reference_deciles(reference, profile.doc_lengths()));
                out.set("wasserstein_doc_length", wasserstein_1(reference, profile.doc_lengths()));
            }
            _ => {
                out.set("psi_doc_length", None);
                out.set("wasserstein_doc_length", None);
            }
        }
        let info = ReferenceInfo {
            source: self.source.clone(),
            kind: self.kind,
            types: ref_types,
            tail_mass: options.tail_mass,
            tail_types: tail.len(),
            tail_max_share: tail.last().map(|(_, w)| w / self.total),
            smoothing: options.smoothing,
        };
        (out, info)
    }
}

fn quantile(hist: &BTreeMap<u64, u64>, q: f64) -> u64 {
    let total: u64 = hist.values().sum();
    let target = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (&value, &count) in hist {
        seen += count;
        if seen >= target {
            return value;
        }
    }
    hist.keys().next_back().copied().unwrap_or(0)
}

/// PSI = Σ (c − r)·ln(c/r) over bins cut at the reference's length deciles; empty bins get a
/// share of 1e-4 (Evidently's convention). Range `[0, ∞)`; > 0.25 is a major shift.
pub fn psi_on_reference_deciles(reference: &BTreeMap<u64, u64>, current: &BTreeMap<u64, u64>) -> Option<f64> {
    let (rt, ct): (u64, u64) = (reference.values().sum(), current.values().sum());
    if rt == 0 || ct == 0 {
        return None;
    }
    let mut edges: Vec<u64> = (1..10).map(|d| quantile(reference, f64::from(d) / 10.0)).collect();
    edges.dedup();
    let bin_shares = |hist: &BTreeMap<u64, u64>, total: u64| {
        let mut bins = vec![0u64; edges.len() + 1];
        for (&v, &c) in hist {
            bins[edges.partition_point(|&e| e < v)] += c;
        }
        bins.into_iter().map(|c| (c as f64 / total as f64).max(1e-4)).collect::<Vec<_>>()
    };
    let (r, c) = (bin_shares(reference, rt), bin_shares(current, ct));
    Some(fsum(r.iter().zip(&c).map(|(r, c)| (c - r) * (c / r).ln())))
}

/// Wasserstein-1 distance between two length histograms: ∫ |F_a − F_b|.
pub fn wasserstein_1(a: &BTreeMap<u64, u64>, b: &BTreeMap<u64, u64>) -> Option<f64> {
    let (at, bt): (u64, u64) = (a.values().sum(), b.values().sum());
    if at == 0 || bt == 0 {
        return None;
    }
    let mut points: Vec<u64> = a.keys().chain(b.keys()).copied().collect();
    points.sort_unstable();
    points.dedup();
    let (mut fa, mut fb) = (0u64, 0u64);
    let mut terms = Vec::with_capacity(points.len());
    for w in points.windows(2) {
        fa += a.get(&w[0]).copied().unwrap_or(0);
        fb += b.get(&w[0]).copied().unwrap_or(0);
        let gap = (w[1] - w[0]) as f64;
        terms.push((fa as f64 / at as f64 - fb as f64 / bt as f64).abs() * gap);
    }
    Some(fsum(terms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_takes_whole_levels() {
        let table = "word\tcount\na\t80\nb\t10\nc\t5\nd\t5\n";
        let r = Reference::from_frequency_table(table.as_bytes(), Path::new("t.tsv"), false).unwrap();
        let tail: Vec<&str> = r.tail(0.1).into_iter().map(|(t, _)| t).collect();
        assert_eq!(tail, ["c", "d"]);
        // the rarest level alone holds more than 5 %: it is the tail, whole
        let rarest: Vec<&str> = r.tail(0.05).into_iter().map(|(t, _)| t).collect();
        assert_eq!(rarest, ["c", "d"]);
        let levels: Vec<&str> = r.tail(0.2).into_iter().map(|(t, _)| t).collect();
        assert_eq!(levels, ["c", "d", "b"]);
    }

    #[test]
    fn bad_tables_name_the_line() {
        let huge = format!("a\t{max}\nb\t{max}\n", max = f64::MAX);
        let twice = format!("a\t{max}\na\t{max}\n", max = f64::MAX);
        for (text, line) in [
            ("a\t1\nb\tx\n", 2),
            ("a\t1\nb\t-3\n", 2),
            ("a\tNaN\n", 1),
            ("a\n", 1),
            (twice.as_str(), 2),
            (huge.as_str(), 0),
        ] {
            let e = Reference::from_frequency_table(text.as_bytes(), Path::new("t.tsv"), false).unwrap_err();
            assert!(matches!(e, Error::Reference { line: l, .. } if l == line), "{text:?}: {e}");
        }
    }

    #[test]
    fn wasserstein_of_shift() {
        let a: BTreeMap<u64, u64> = [(1, 1), (2, 1)].into();
        let b: BTreeMap<u64, u64> = [(3, 1), (4, 1)].into();
        assert_eq!(wasserstein_1(&a, &b), Some(2.0));
        assert_eq!(psi_on_reference_deciles(&a, &a), Some(0.0));
    }

    /// Reference metrics are bit-identical whatever order the profile holds its types in: a
    /// profile of the same documents in another order (other types first) gives the same bits.
    #[test]
    fn reference_metrics_do_not_depend_on_type_order() {
        use crate::{ProfileBuilder, ProfileConfig};
        use tailwatch_core::{Tokenizer, TokenizerSpec};
        let tokenizer = Tokenizer::from_spec(&TokenizerSpec::words()).unwrap();
        let docs: Vec<String> =
            (0..300).map(|i| format!("w{} w{} x{} y{}", i % 97, i * 7 % 131, i % 13, i * 11 % 173)).collect();
        let profile = |order: &mut dyn Iterator<Item = &String>| {
            let mut b = ProfileBuilder::new(&tokenizer, ProfileConfig::new(TokenizerSpec::words()));
            for d in order {
                b.observe(d).unwrap();
            }
            b.finish()
        };
        let forward = profile(&mut docs.iter());
        let backward = profile(&mut docs.iter().rev());
        let reference_docs: Vec<String> =
            (0..200).map(|i| format!("w{} x{} z{}", i % 89, i % 7, i % 31)).collect();
        let reference = Reference::from_profile(&profile(&mut reference_docs.iter()), "r", "profile");
        let (a, _) = reference.metrics(&forward, ReferenceOptions::default());
        let (b, _) = reference.metrics(&backward, ReferenceOptions::default());
        for id in ["js_to_reference", "kl_to_reference", "tail_coverage", "tail_mass_coverage"] {
            let bits = |v: &MetricValues| v.values[id].map(f64::to_bits);
            assert_eq!(bits(&a), bits(&b), "{id}");
        }
    }
}
