//! Alert rules as pure functions: thresholds (fixed, relative, adaptive) and hysteresis.
use tailwatch_metrics::catalog::{Direction, metric_info};
use tailwatch_metrics::lexical::SAMPLE_METRICS;
use tailwatch_metrics::{Profile, SampleSize};

use crate::error::RuleError;
use crate::types::{Metrics, Rule, RuleKind, RuleSpec, SizeLevel};

/// Defaults of a rule's optional settings (applied when a rule is created and when one is read).
pub const DEFAULT_K: f64 = 3.0;
/// Default `min_docs`.
pub const DEFAULT_MIN_DOCS: u64 = 1;
/// Default `open_after` and `resolve_after`.
pub const DEFAULT_HYSTERESIS: u32 = 1;

/// Check a client's rule and fill in the defaults.
pub fn validate(spec: &RuleSpec) -> Result<RuleSpec, RuleError> {
    let info =
        metric_info(&spec.metric).ok_or_else(|| RuleError::UnknownMetric { id: spec.metric.clone() })?;
    let direction = spec.direction.unwrap_or(match info.collapse {
        Direction::Lower => Direction::Lower,
        Direction::Higher | Direction::Neither => Direction::Higher,
    });
    let finite = |field: &'static str, v: Option<f64>| -> Result<(), RuleError> {
        match v {
            Some(x) if !x.is_finite() => Err(RuleError::NotFinite { field }),
            _ => Ok(()),
        }
    };
    finite("threshold", spec.threshold)?;
    finite("k", spec.k)?;
    match spec.kind {
        RuleKind::Fixed if spec.threshold.is_none() => {
            return Err(RuleError::NoThreshold { kind: RuleKind::Fixed });
        }
        RuleKind::Relative => match spec.threshold {
            None => {
                return Err(RuleError::NoThreshold { kind: RuleKind::Relative });
            }
            Some(t) if t < 0.0 => {
                return Err(RuleError::NegativeRelative);
            }
            _ => {}
        },
        RuleKind::Adaptive => {
            if spec.k.is_some_and(|k| k <= 0.0) {
                return Err(RuleError::NonPositiveK);
            }
        }
        RuleKind::Fixed => {}
    }
    for (name, value) in [("open_after", spec.open_after), ("resolve_after", spec.resolve_after)] {
        if value == Some(0) {
            return Err(RuleError::ZeroHysteresis { field: name });
        }
    }
    match spec.model.as_deref() {
        None => return Err(RuleError::NoModel),
        Some(EVERY_MODEL) => {}
        Some(model) => check_name("model", model)?,
    }
    if let Some(cohort) = &spec.cohort {
        check_name("cohort", cohort)?;
    }
    if let Some(name) = &spec.name {
        check_name("name", name)?;
    }
    Ok(RuleSpec {
        direction: Some(direction),
        k: Some(spec.k.unwrap_or(DEFAULT_K)),
        min_docs: Some(spec.min_docs.unwrap_or(DEFAULT_MIN_DOCS)),
        open_after: Some(spec.open_after.unwrap_or(DEFAULT_HYSTERESIS)),
        resolve_after: Some(spec.resolve_after.unwrap_or(DEFAULT_HYSTERESIS)),
        enabled: Some(spec.enabled.unwrap_or(true)),
        ..spec.clone()
    })
}

/// A rule's `model` that watches every model.
pub const EVERY_MODEL: &str = "*";

/// Whether a rule's `model` (absent: a rule stored by an older server) watches `model`.
pub fn watches(rule_model: Option<&str>, model: &str) -> bool {
    rule_model.is_none_or(|m| m == EVERY_MODEL || m == model)
}

/// Model, version, cohort, window and rule names: 1-200 bytes of printable characters, no `/`,
/// not `*`, `.` or `..` (path-like), no Unicode format characters (category Cf: U+202E and the
/// other bidirectional controls, zero-width spaces, U+FEFF), which display a name as another.
pub fn check_name(field: &'static str, value: &str) -> Result<(), RuleError> {
    use unicode_categories::UnicodeCategories as _;
    if value.is_empty() || value.len() > 200 {
        return Err(RuleError::NameLength { field });
    }
    if matches!(value, "*" | "." | "..")
        || value.chars().any(|c| c.is_control() || c == '/' || c.is_other_format())
    {
        return Err(RuleError::NameForbidden { field, value: value.escape_debug().to_string() });
    }
    Ok(())
}

/// What the baseline offers a rule: its value at several sizes (the mean over its chunks, over
/// merged pairs of chunks, ..., and the whole baseline) and the spread at each.
#[derive(Debug, Clone, Default)]
pub struct BaselineValues {
    /// The metric on the whole baseline profile.
    pub value: Option<f64>,
    /// Documents of the whole baseline.
    pub docs: u64,
    /// Per level, smallest first: mean documents per group and the metric on each group where
    /// it is defined (level 0: the chunks).
    pub levels: Vec<(f64, Vec<f64>)>,
    /// For a metric of the document sample: the sample's size, past which the metric no longer
    /// depends on the number of documents.
    pub sample_cap: Option<f64>,
    /// How the metric's standard deviation falls with size (sd ∝ size^(-β)).
    pub spread_exponent: f64,
    /// Why the baseline cannot judge this metric at any size (a reference metric of a baseline
    /// that is its own reference).
    pub unjudged: Option<String>,
}

/// Metrics that are means over documents: their spread falls as 1 / √size.
const PER_DOCUMENT_MEANS: &[&str] = &["mean_doc_tokens", "rep_2", "rep_3", "rep_4"];

/// How far past the sizes it was measured at a baseline is read: from a chunk's size / 1.25 to
/// the whole baseline's × 1.25. Beyond, relative and adaptive rules are not evaluated: metrics
/// such as distinct-n and entropy bend in log size, and a straight line carried further gave
/// false alarms on versions of the baseline's own corpus.
pub const EXTRAPOLATION: f64 = 1.25;

impl BaselineValues {
    /// The values of `metric` in a baseline: its profile, its metrics and its levels, and for
    /// a reference metric the levels of its chunks outside the held-out reference (`held_out`).
    ///
    /// A reference metric is read on the held-out levels alone: the whole baseline against a
    /// reference inside it is no value an independent version could have (it covers all of its
    /// own tail), so without held-out levels (a live baseline, a reference of one profile, one
    /// stored before schema 3) the metric is not judged, and says why.
    pub fn of(
        metric: &str,
        profile: &Profile,
        whole: &Metrics,
        levels: &[SizeLevel],
        held_out: Option<&[SizeLevel]>,
    ) -> Self {
        let sample_cap = match profile.config().sample {
            SampleSize::Docs(k) if SAMPLE_METRICS.contains(&metric) => Some(k as f64),
            _ => None,
        };
        let read = |levels: &[SizeLevel]| -> Vec<(f64, Vec<f64>)> {
            levels
                .iter()
                .map(|l| (l.docs, l.groups.iter().filter_map(|g| g.get(metric).copied().flatten()).collect()))
                .collect()
        };
        let spread_exponent = if PER_DOCUMENT_MEANS.contains(&metric) { 0.5 } else { 0.0 };
        if tailwatch_metrics::reference::REFERENCE_IDS.contains(&metric) {
            let Some(held) = held_out.filter(|h| !h.is_empty()) else {
                return BaselineValues {
                    unjudged: Some(format!(
                        "the baseline is its own reference, so `{metric}` cannot be judged against it: freeze a version baseline of two pushes or more, or upload the reference as JSONL, and half of it is held out as the reference"
                    )),
                    ..BaselineValues::default()
                };
            };
            let docs = held.last().map_or(0, |l| l.docs.round() as u64);
            return BaselineValues {
                sample_cap,
                spread_exponent,
                value: None,
                docs,
                levels: read(held),
                unjudged: None,
            };
        }
        Self::of_version(metric, profile, whole, levels)
    }

    /// The values of `metric` in a version measured against a reference outside it (every
    /// metric, the reference metrics too, read on its levels and its whole).
    pub fn of_version(metric: &str, profile: &Profile, whole: &Metrics, levels: &[SizeLevel]) -> Self {
        let sample_cap = match profile.config().sample {
            SampleSize::Docs(k) if SAMPLE_METRICS.contains(&metric) => Some(k as f64),
            _ => None,
        };
        BaselineValues {
            sample_cap,
            spread_exponent: if PER_DOCUMENT_MEANS.contains(&metric) { 0.5 } else { 0.0 },
            value: whole.get(metric).copied().flatten(),
            docs: profile.n_docs(),
            levels: levels
                .iter()
                .map(|l| (l.docs, l.groups.iter().filter_map(|g| g.get(metric).copied().flatten()).collect()))
                .collect(),
            unjudged: None,
        }
    }

    /// The metric on each chunk.
    pub fn chunks(&self) -> &[f64] {
        self.levels.first().map_or(&[], |l| l.1.as_slice())
    }

    /// Mean documents per chunk (0 without chunks).
    pub fn chunk_docs(&self) -> f64 {
        self.levels.first().map_or(0.0, |l| l.0)
    }

    /// The baseline's value at `n` documents and the standard deviation of the difference
    /// between it and a value over `n` documents from the baseline's distribution (with a level
    /// of at least two groups); `None` when `n` is out of the sizes the baseline can be read at.
    ///
    /// Why: distinct-n, self-BLEU and coverage move with the number of documents they are
    /// computed over, so a version is judged against the baseline at the version's own size.
    /// The value is read on the broken line through (size, mean value) of each level and
    /// (baseline size, whole baseline) in log size; the spread is the chunks' (see below). A
    /// version the size of the baseline (the baseline's own files pushed again) is judged
    /// against the whole baseline's value, a version the size of a chunk against the chunks'
    /// mean ± their spread.
    pub fn at_size(&self, n: u64) -> Option<(f64, Option<f64>)> {
        // a sample metric is read at the number of documents it was computed over
        let size = |docs: f64| docs.min(self.sample_cap.unwrap_or(f64::INFINITY));
        let mut curve: Vec<(f64, f64)> = self
            .levels
            .iter()
            .filter(|(docs, values)| *docs >= 1.0 && !values.is_empty())
            .map(|(docs, values)| (size(*docs).ln(), values.iter().sum::<f64>() / values.len() as f64))
            .collect();
        if let Some(whole) = self.value {
            curve.push((size(self.docs.max(1) as f64).ln(), whole));
        }
        curve.sort_by(|a, b| a.0.total_cmp(&b.0));
        // sizes within 1 % are one size: the later (the whole baseline) stands
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(curve.len());
        for point in curve {
            match points.last_mut() {
                Some(last) if point.0 - last.0 < 0.01 => *last = point,
                _ => points.push(point),
            }
        }
        let (first, last) = (points.first()?.0, points.last()?.0);
        let at = size(n.max(1) as f64).ln();
        if at < first - EXTRAPOLATION.ln() - 1e-9 || at > last + EXTRAPOLATION.ln() + 1e-9 {
            return None;
        }
        let center = if points.len() == 1 {
            points[0].1
        } else {
            // the segment holding `at`, or the end segment it extends
            let i = points.iter().skip(1).position(|p| at <= p.0).unwrap_or(points.len() - 2);
            let ((x0, y0), (x1, y1)) = (points[i], points[i + 1]);
            y0 + (y1 - y0) * (at - x0) / (x1 - x0)
        };
        // the spread: the chunks' standard deviation, carried to other sizes as size^(-β). For
        // means over documents β = 1/2; distinct-n, entropy and self-BLEU spread about as much
        // at 1,000 documents as at 260 (sd 0.0055 vs 0.0064 for distinct_2 of news sentences),
        // so for them β = 0. The difference from the baseline adds the baseline's own spread:
        // the chunks' mean's (σ² / chunks) at a chunk's size, the whole baseline's at its size,
        // in between as the value is read.
        let sd = (|| {
            let (chunk_docs, chunks) = self.levels.first().filter(|l| l.0 >= 1.0)?;
            let (_, sd) = mean_sd(chunks)?;
            let small = size(*chunk_docs);
            let scale = |docs: f64| (small / docs).powf(self.spread_exponent);
            let whole = size(self.docs.max(1) as f64);
            let own_small = sd * sd / chunks.len() as f64;
            let own_whole = (sd * scale(whole)).powi(2);
            let weight = if whole > small * 1.01 {
                ((at - small.ln()) / (whole.ln() - small.ln())).clamp(0.0, 1.0)
            } else {
                1.0
            };
            let own = own_small + (own_whole - own_small) * weight;
            Some(((sd * scale(at.exp())).powi(2) + own).sqrt())
        })();
        Some((center, sd))
    }
}

/// The threshold a rule applies to a value over `n_docs` documents, or why it cannot be
/// evaluated.
pub fn threshold(rule: &Rule, baseline: Option<&BaselineValues>, n_docs: u64) -> Result<f64, String> {
    let sign = if rule.direction == Direction::Lower { -1.0 } else { 1.0 };
    if rule.kind != RuleKind::Fixed
        && let Some(reason) = baseline.and_then(|b| b.unjudged.clone())
    {
        return Err(reason);
    }
    match rule.kind {
        RuleKind::Fixed => rule.threshold.ok_or_else(|| "fixed rule without threshold".to_string()),
        RuleKind::Relative => {
            let baseline =
                baseline.filter(|b| b.value.is_some() || !b.chunks().is_empty()).ok_or_else(|| {
                    format!("no baseline value of `{}` (set a baseline for the model)", rule.metric)
                })?;
            let (b, _) = baseline.at_size(n_docs).ok_or_else(|| out_of_range(baseline, n_docs))?;
            Ok(b + sign * rule.threshold.unwrap_or(0.0) * b.abs())
        }
        RuleKind::Adaptive => {
            let chunks = baseline.map_or(0, |b| b.chunks().len());
            let lacking = || {
                format!(
                    "adaptive thresholds need a baseline with ≥ 2 chunks holding `{}`; it has {chunks}",
                    rule.metric
                )
            };
            let baseline = baseline.filter(|b| b.chunks().len() >= 2).ok_or_else(lacking)?;
            match baseline.at_size(n_docs) {
                Some((center, Some(sd))) => Ok(center + sign * rule.k * sd),
                Some((_, None)) => Err(lacking()),
                None => Err(out_of_range(baseline, n_docs)),
            }
        }
    }
}

/// Why a baseline cannot be read at `n` documents.
fn out_of_range(baseline: &BaselineValues, n: u64) -> String {
    let smallest = baseline.levels.first().map_or(baseline.docs as f64, |l| l.0.min(baseline.docs as f64));
    format!(
        "the version holds {n} documents; the baseline can judge {:.0} to {:.0} (its chunks' size / {EXTRAPOLATION} to its own × {EXTRAPOLATION}): push a baseline of about the version's size",
        smallest / EXTRAPOLATION,
        baseline.docs as f64 * EXTRAPOLATION
    )
}

/// The baseline band at `n_docs` documents: its value ± `k` standard deviations.
pub fn band(baseline: &BaselineValues, n_docs: u64, k: f64) -> Option<(f64, f64)> {
    match baseline.at_size(n_docs)? {
        (center, Some(sd)) => Some((center - k * sd, center + k * sd)),
        _ => None,
    }
}

/// Mean and sample standard deviation (n − 1) of at least two values.
pub fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((mean, var.sqrt()))
}

/// Whether `value` is past `threshold` in the rule's direction.
pub fn breaches(direction: Direction, value: f64, threshold: f64) -> bool {
    if direction == Direction::Lower { value < threshold } else { value > threshold }
}

/// Hysteresis counters of one (rule, model, cohort scope).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hysteresis {
    /// Consecutive breaching evaluations.
    pub breaches: u32,
    /// Consecutive clean evaluations.
    pub clears: u32,
}

/// What an evaluation does to the alert of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Nothing changes.
    Stay,
    /// Open a new alert.
    Open,
    /// Resolve the active alert.
    Resolve,
}

/// Advance the counters by one evaluation and say what happens to the alert.
pub fn step(state: Hysteresis, breached: bool, alert_active: bool, rule: &Rule) -> (Hysteresis, Transition) {
    if breached {
        let next = Hysteresis { breaches: state.breaches.saturating_add(1), clears: 0 };
        let open = !alert_active && next.breaches >= rule.open_after;
        (next, if open { Transition::Open } else { Transition::Stay })
    } else {
        let next = Hysteresis { breaches: 0, clears: state.clears.saturating_add(1) };
        let resolve = alert_active && next.clears >= rule.resolve_after;
        (next, if resolve { Transition::Resolve } else { Transition::Stay })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: RuleKind, direction: Direction, threshold: Option<f64>) -> Rule {
        Rule {
            id: 1,
            name: None,
            model: None,
            cohort: None,
            metric: "distinct_2".into(),
            direction,
            kind,
            threshold,
            k: 3.0,
            min_docs: 1,
            open_after: 2,
            resolve_after: 3,
            enabled: true,
            created_at: String::new(),
        }
    }

    /// Names refuse what displays one name as another or reads as a path, and rule names are
    /// bounded like the others.
    #[test]
    fn names_refuse_paths_format_characters_and_length() {
        for good in ["chat", "chat v2", "模型", "2026-12-03", "a.b", "..."] {
            assert!(check_name("model", good).is_ok(), "{good}");
        }
        for bad in [".", "..", "*", "a/b", "a\u{202e}b", "\u{200b}", "\u{feff}x", "x\u{2066}", "a\nb", ""] {
            assert!(check_name("model", bad).is_err(), "{bad:?}");
        }
        let long = "n".repeat(201);
        assert!(matches!(check_name("name", &long), Err(RuleError::NameLength { field: "name" })));
        let mut spec: RuleSpec = serde_json::from_str(
            r#"{"model": "m", "metric": "distinct_2", "kind": "fixed", "threshold": 0.5}"#,
        )
        .unwrap();
        spec.name = Some(long);
        assert!(matches!(validate(&spec), Err(RuleError::NameLength { field: "name" })));
        spec.name = Some("diversity \u{202e}".into());
        assert!(matches!(validate(&spec), Err(RuleError::NameForbidden { field: "name", .. })));
    }

    /// A reference metric is read on the held-out levels alone; without them (the baseline its
    /// own reference) relative and adaptive rules say why they cannot judge, fixed ones still do.
    #[test]
    fn reference_metrics_read_held_out_levels_only() {
        let profile =
            Profile::new(tailwatch_metrics::ProfileConfig::new(tailwatch_core::TokenizerSpec::words()));
        let metrics = |v: f64| Metrics::from([("tail_coverage".to_string(), Some(v))]);
        // the whole baseline against itself: coverage 1, no value a version could have
        let whole = metrics(1.0);
        let levels = vec![SizeLevel { docs: 100.0, groups: vec![metrics(0.9), metrics(0.95)] }];
        let own = BaselineValues::of("tail_coverage", &profile, &whole, &levels, None);
        let mut relative = rule(RuleKind::Relative, Direction::Lower, Some(0.1));
        relative.metric = "tail_coverage".into();
        let reason = threshold(&relative, Some(&own), 100).unwrap_err();
        assert!(reason.contains("its own reference"), "{reason}");
        let mut fixed = rule(RuleKind::Fixed, Direction::Lower, Some(0.5));
        fixed.metric = "tail_coverage".into();
        assert_eq!(threshold(&fixed, Some(&own), 100), Ok(0.5));

        let held = vec![
            SizeLevel { docs: 100.0, groups: vec![metrics(0.5), metrics(0.6)] },
            SizeLevel { docs: 200.0, groups: vec![metrics(0.7)] },
        ];
        let read = BaselineValues::of("tail_coverage", &profile, &whole, &levels, Some(&held));
        assert_eq!((read.value, read.docs, read.unjudged.as_deref()), (None, 200, None));
        let (center, _) = read.at_size(200).unwrap();
        assert!((center - 0.7).abs() < 1e-12, "{center}");
        assert!(read.at_size(251).is_none(), "past the held-out side × 1.25");
        // other metrics read the whole baseline as before
        let d2 = BaselineValues::of("distinct_2", &profile, &whole, &levels, Some(&held));
        assert!(d2.unjudged.is_none() && d2.levels.len() == 1);
    }

    #[test]
    fn thresholds_of_each_kind() {
        // 3 chunks of 100 documents (mean 0.8, sd 0.1); the whole 300 documents: 0.74
        let base = BaselineValues {
            value: Some(0.74),
            docs: 300,
            levels: vec![(100.0, vec![0.7, 0.8, 0.9])],
            sample_cap: None,
            spread_exponent: 0.5,
            unjudged: None,
        };
        let fixed = rule(RuleKind::Fixed, Direction::Lower, Some(0.5));
        assert_eq!(threshold(&fixed, None, 100), Ok(0.5));
        let relative = rule(RuleKind::Relative, Direction::Lower, Some(0.1));
        // at the baseline's size: the whole baseline's value
        assert!((threshold(&relative, Some(&base), 300).unwrap() - 0.74 * 0.9).abs() < 1e-12);
        // at a chunk's size: the chunks' mean
        assert!((threshold(&relative, Some(&base), 100).unwrap() - 0.72).abs() < 1e-12);
        assert!(threshold(&relative, None, 100).is_err());
        let adaptive = rule(RuleKind::Adaptive, Direction::Higher, None);
        // at a chunk's size: mean 0.8, sd 0.1 per 100 documents → 0.8 + 3 · 0.1 · √(1 + 100/300)
        let expected = 0.8 + 3.0 * 0.1 * (1.0f64 + 1.0 / 3.0).sqrt();
        assert!((threshold(&adaptive, Some(&base), 100).unwrap() - expected).abs() < 1e-12);
        // at the baseline's size: 0.74 + 3 · 0.1 · √(100/300 + 100/300)
        let expected = 0.74 + 3.0 * 0.1 * (2.0f64 / 3.0).sqrt();
        assert!((threshold(&adaptive, Some(&base), 300).unwrap() - expected).abs() < 1e-12);
        // far past the baseline's size: not evaluated, and why
        assert!(threshold(&adaptive, Some(&base), 1000).unwrap_err().contains("80 to 375"));
        let one_chunk = BaselineValues {
            value: Some(0.8),
            docs: 100,
            levels: vec![(100.0, vec![0.8])],
            sample_cap: None,
            spread_exponent: 0.5,
            unjudged: None,
        };
        assert!(threshold(&adaptive, Some(&one_chunk), 100).unwrap_err().contains("≥ 2 chunks"));
        // one chunk the size of the baseline: read at that size
        assert!((threshold(&relative, Some(&one_chunk), 110).unwrap() - 0.72).abs() < 1e-12);
        assert!(threshold(&relative, Some(&one_chunk), 5000).is_err());
    }

    #[test]
    fn the_baseline_is_read_at_the_version_size_in_log_size() {
        let base = BaselineValues {
            value: Some(0.5),
            docs: 1000,
            levels: vec![(100.0, vec![0.6, 0.8])],
            sample_cap: None,
            spread_exponent: 0.5,
            unjudged: None,
        };
        // halfway between 100 and 1000 in log size: √(100 · 1000)
        let (center, sd) = base.at_size(316).unwrap();
        assert!((center - 0.6).abs() < 1e-3, "{center}");
        // own spread halfway from the chunks' mean (σ² / 2) to the whole (σ² · 100 / 1000)
        assert!((sd.unwrap() - 0.1414 * (100.0f64 / 316.0 + (0.5 + 0.1) / 2.0).sqrt()).abs() < 1e-3);
        // up to 1.25x past the measured sizes, not beyond
        assert!(base.at_size(1250).is_some() && base.at_size(80).is_some());
        assert!(base.at_size(1300).is_none() && base.at_size(70).is_none());
        assert_eq!(band(&base, 1000, 3.0).map(|b| (b.0 + b.1) / 2.0), Some(0.5));
        // with a level of merged pairs the line bends there, and its spread is used near it
        let levels = BaselineValues {
            value: Some(0.5),
            docs: 800,
            levels: vec![
                (100.0, vec![0.6, 0.8, 0.7, 0.7]),
                (200.0, vec![0.64, 0.66]),
                (400.0, vec![0.6, 0.62]),
            ],
            sample_cap: None,
            spread_exponent: 0.5,
            unjudged: None,
        };
        assert!((levels.at_size(200).unwrap().0 - 0.65).abs() < 1e-12);
        assert!((levels.at_size(400).unwrap().0 - 0.61).abs() < 1e-12);
        assert!((levels.at_size(800).unwrap().0 - 0.5).abs() < 1e-12);
        // the spread is the chunks' carried to 400 documents, plus the baseline's own at 400
        // (halfway in log size from the chunks' mean at 100 to the whole at 800)
        let sd = mean_sd(&[0.6, 0.8, 0.7, 0.7]).unwrap().1;
        let own = sd * sd / 4.0 + (sd * sd / 8.0 - sd * sd / 4.0) * (2.0 / 3.0);
        assert!((levels.at_size(400).unwrap().1.unwrap() - (sd * sd / 4.0 + own).sqrt()).abs() < 1e-12);
        // β = 0: the same spread at every size
        let flat = BaselineValues { spread_exponent: 0.0, ..levels.clone() };
        let sd_100 = flat.at_size(100).unwrap().1.unwrap();
        assert!((sd_100 - (sd * sd * (1.0 + 0.25)).sqrt()).abs() < 1e-12);
        assert!((flat.at_size(800).unwrap().1.unwrap() - sd * 2f64.sqrt()).abs() < 1e-12);
        // no level, no whole value: nothing to read
        assert!(BaselineValues::default().at_size(10).is_none());
        // a sample metric past the sample's size: read at the sample's size, the whole baseline's
        let sampled = BaselineValues { sample_cap: Some(400.0), ..levels };
        assert!((sampled.at_size(600).unwrap().0 - 0.5).abs() < 1e-12);
        assert!((sampled.at_size(200).unwrap().0 - 0.65).abs() < 1e-12);
    }

    #[test]
    fn hysteresis_opens_after_n_breaches_and_resolves_after_m_clears() {
        let r = rule(RuleKind::Fixed, Direction::Lower, Some(0.5));
        let mut state = Hysteresis::default();
        let mut active = false;
        let mut log = Vec::new();
        for breached in [true, false, true, true, true, false, false, true, false, false, false] {
            let (next, t) = step(state, breached, active, &r);
            state = next;
            match t {
                Transition::Open => active = true,
                Transition::Resolve => active = false,
                Transition::Stay => {}
            }
            log.push(t);
        }
        use Transition::*;
        assert_eq!(log, vec![Stay, Stay, Stay, Open, Stay, Stay, Stay, Stay, Stay, Stay, Resolve]);
    }

    #[test]
    fn validation_names_the_field() {
        let spec: RuleSpec =
            serde_json::from_str(r#"{"model": "*", "metric": "nope", "kind": "fixed", "threshold": 1}"#)
                .unwrap();
        assert!(validate(&spec).unwrap_err().to_string().contains("field `metric`"));
        let spec: RuleSpec =
            serde_json::from_str(r#"{"model": "m", "metric": "distinct_2", "kind": "relative"}"#).unwrap();
        assert!(validate(&spec).unwrap_err().to_string().contains("field `threshold`"));
        let spec: RuleSpec =
            serde_json::from_str(r#"{"metric": "distinct_2", "kind": "fixed", "threshold": 1}"#).unwrap();
        assert!(validate(&spec).unwrap_err().to_string().contains("field `model` is required"));
        let spec: RuleSpec =
            serde_json::from_str(r#"{"model": "*", "metric": "distinct_2", "kind": "adaptive"}"#).unwrap();
        let filled = validate(&spec).unwrap();
        assert_eq!(filled.direction, Some(Direction::Lower));
        assert_eq!(filled.k, Some(3.0));
    }

    #[test]
    fn a_rule_watches_its_model_or_every_model() {
        assert!(watches(Some("*"), "chat"));
        assert!(watches(Some("chat"), "chat"));
        assert!(!watches(Some("chat"), "code"));
        // stored by an older server, without a model
        assert!(watches(None, "chat"));
    }
}
