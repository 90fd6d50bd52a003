//! Collapse rules (a TOML file) and the comparison of a candidate against a baseline.
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::{Direction, direction_words, metric_info};
use crate::{Error, Result};

/// One rule: `metric` breaches when it moves in `direction` by more than the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Metric id.
    pub metric: String,
    /// Collapse direction (`decrease` or `increase`); defaults to the metric's catalog direction.
    #[serde(default, with = "direction_words::change::option")]
    pub direction: Option<Direction>,
    /// Relative threshold: |change| / |baseline| (0.1 = 10 %).
    pub relative: Option<f64>,
    /// Absolute threshold in the metric's units.
    pub absolute: Option<f64>,
    /// Why this rule exists (shown in reports).
    pub reason: Option<String>,
    /// Significance level: with evidence (matched sizes and a p-value), the check breaches only
    /// when its Benjamini-Hochberg-adjusted p-value is at most this (default [`DEFAULT_ALPHA`]).
    pub alpha: Option<f64>,
    /// Fewest documents per side (at the matched size) for a verdict; below it the check says
    /// `insufficient data` (default [`DEFAULT_MIN_DOCS`]).
    pub min_docs: Option<u64>,
}

/// The default significance level of a rule.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// The default fewest documents per side for a verdict.
pub const DEFAULT_MIN_DOCS: u64 = 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<Rule>,
}

/// The default rules and the reason for each (also in docs/RULES.md).
pub const DEFAULT_RULES: &str = r#"
[[rule]]
metric = "distinct_2"
relative = 0.10
reason = "bigram diversity is the first thing to fall when a model starts reusing phrasings; sampling noise at 1k+ docs is a few percent"

[[rule]]
metric = "entropy_1"
relative = 0.05
reason = "unigram entropy is stable between samples of one model; a 5 % drop means probability mass is concentrating on fewer words"

[[rule]]
metric = "self_bleu_4"
relative = 0.10
reason = "outputs growing more alike one another (mode collapse) raise self-BLEU; 10 % is well above sampling noise at 1000 sampled docs"

[[rule]]
metric = "js_to_reference"
absolute = 0.05
reason = "drift of the word distribution away from the human reference; 0.05 bits is a clear move for same-domain text"

[[rule]]
metric = "tail_coverage"
relative = 0.10
reason = "losing the reference's rare words is the signature of model collapse (Shumailov et al. 2024)"

[[rule]]
metric = "duplicate_rate"
absolute = 0.05
reason = "verbatim repeated outputs; 5 points more of the corpus being duplicates is never sampling noise"

[[rule]]
metric = "compression_ratio"
relative = 0.10
reason = "repetitive text compresses better; a 10 % rise flags templated output"

[[rule]]
metric = "collapsed_group_share"
absolute = 0.05
reason = "prompts whose answers are all one answer (mode collapse per prompt, NoveltyBench); 5 more points of such prompts is a clear loss of alternatives (only for answers grouped by prompt)"
"#;

/// Parse rules from TOML text; `path` names the file in errors.
pub fn parse_rules(text: &str, path: &Path) -> Result<Vec<Rule>> {
    let err = |message: String| Error::Rules { path: path.to_path_buf(), message };
    let file: RulesFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
    for rule in &file.rule {
        if metric_info(&rule.metric).is_none() {
            return Err(err(format!("unknown metric `{}`", rule.metric)));
        }
        match (rule.relative, rule.absolute) {
            (None, None) => {
                return Err(err(format!("rule for `{}` needs `relative` or `absolute`", rule.metric)));
            }
            (Some(_), Some(_)) => {
                return Err(err(format!(
                    "rule for `{}` sets both `relative` and `absolute`; a rule has one threshold (write two rules for both)",
                    rule.metric
                )));
            }
            (r, a) => {
                for t in [r, a].into_iter().flatten() {
                    if !t.is_finite() || t < 0.0 {
                        return Err(err(format!(
                            "threshold for `{}` must be a non-negative number",
                            rule.metric
                        )));
                    }
                }
            }
        }
        if let Some(alpha) = rule.alpha
            && !(alpha > 0.0 && alpha < 1.0)
        {
            return Err(err(format!("`alpha` for `{}` must be in (0, 1)", rule.metric)));
        }
        if rule.direction.is_none()
            && metric_info(&rule.metric).is_some_and(|m| m.collapse == Direction::Neither)
        {
            return Err(err(format!("rule for `{}` needs a `direction`", rule.metric)));
        }
    }
    Ok(file.rule)
}

/// The built-in rules.
pub fn default_rules() -> Vec<Rule> {
    parse_rules(DEFAULT_RULES, Path::new("<built-in>")).expect("built-in rules parse")
}

/// The outcome of one rule.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Metric id.
    pub metric: String,
    /// Baseline value.
    pub baseline: Option<f64>,
    /// Candidate value.
    pub candidate: Option<f64>,
    /// candidate − baseline.
    pub change: Option<f64>,
    /// (candidate − baseline) / |baseline|.
    pub relative_change: Option<f64>,
    /// The threshold that was applied.
    pub threshold: f64,
    /// Whether the threshold is relative to the baseline or absolute.
    pub threshold_kind: ThresholdKind,
    /// The collapse direction (`decrease` or `increase`).
    #[serde(with = "direction_words::change")]
    pub direction: Direction,
    /// Whether the check breached: the candidate moved past the threshold in the collapse
    /// direction and, with evidence, the move is significant and there are enough documents.
    pub breached: bool,
    /// What the check concluded.
    pub status: CheckStatus,
    /// Documents per side the values were computed at (with evidence: the matched size).
    pub docs: Option<u64>,
    /// One-sided permutation p-value of a move in the collapse direction (with evidence).
    pub p_value: Option<f64>,
    /// The p-value adjusted over the comparison's checks (Benjamini-Hochberg).
    pub q_value: Option<f64>,
    /// Interval of `change` at the comparison's confidence (with evidence).
    pub interval: Option<[f64; 2]>,
    /// The significance level applied.
    pub alpha: f64,
    /// Whether the candidate moved in the collapse direction at all.
    pub worse: bool,
    /// Why the rule exists, or why it was skipped.
    pub reason: Option<String>,
}

impl Check {
    /// The change as reports print it: `-7.1%` for a relative rule, `+0.0500` for an absolute
    /// one, `-` when undefined.
    pub fn change_label(&self) -> String {
        match (self.relative_change, self.change, self.threshold_kind) {
            (Some(r), _, ThresholdKind::Relative) => format!("{:+.1}%", r * 100.0),
            (_, Some(d), _) => format!("{d:+.4}"),
            _ => "-".into(),
        }
    }

    /// The rule as reports print it: `drop > 10%`, `rise > 0.05`.
    pub fn rule_label(&self) -> String {
        let arrow = if self.direction == Direction::Lower { "drop" } else { "rise" };
        if self.threshold_kind == ThresholdKind::Relative {
            format!("{arrow} > {:.0}%", self.threshold * 100.0)
        } else {
            format!("{arrow} > {}", self.threshold)
        }
    }

    /// What the check concluded, in words: `BREACH`, `worse, within rule`, `ok`, ...
    pub fn result_label(&self) -> &'static str {
        match self.status {
            CheckStatus::Skipped => "skipped",
            CheckStatus::Breach => "BREACH",
            CheckStatus::NotSignificant => "past rule, not significant",
            CheckStatus::InsufficientData => "insufficient data",
            CheckStatus::Ok if self.worse => "worse, within rule",
            CheckStatus::Ok => "ok",
        }
    }
}

/// What one check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckStatus {
    /// Within the rule.
    #[serde(rename = "ok")]
    Ok,
    /// Past the threshold in the collapse direction, significantly.
    #[serde(rename = "breach")]
    Breach,
    /// Past the threshold, but the move could be sampling noise at these sizes.
    #[serde(rename = "not significant")]
    NotSignificant,
    /// Too few documents for a verdict.
    #[serde(rename = "insufficient data")]
    InsufficientData,
    /// The metric is not available on both sides.
    #[serde(rename = "skipped")]
    Skipped,
}

impl CheckStatus {
    /// The status's words, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Breach => "breach",
            CheckStatus::NotSignificant => "not significant",
            CheckStatus::InsufficientData => "insufficient data",
            CheckStatus::Skipped => "skipped",
        }
    }
}

/// What backs a check besides the two values: the matched size, a p-value, an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Documents per side the values were computed at.
    pub docs: u64,
    /// One-sided p-value of a move in the collapse direction.
    pub p_value: Option<f64>,
    /// Interval of the change.
    pub interval: Option<[f64; 2]>,
}

/// Benjamini-Hochberg adjusted p-values (q-values), in the order given; `None` stays `None`
/// and does not count among the tests.
pub fn benjamini_hochberg(p_values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut ranked: Vec<(usize, f64)> =
        p_values.iter().enumerate().filter_map(|(i, p)| p.map(|p| (i, p))).collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let m = ranked.len() as f64;
    let mut q = vec![None; p_values.len()];
    let mut running = 1.0f64;
    for (rank, &(i, p)) in ranked.iter().enumerate().rev() {
        running = running.min(p * m / (rank + 1) as f64);
        q[i] = Some(running.min(1.0));
    }
    q
}

/// How a rule's threshold applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdKind {
    /// |change| / |baseline| (0.1 = 10 %).
    Relative,
    /// |change| in the metric's units.
    Absolute,
}

/// What a comparison concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No rule breached.
    Ok,
    /// At least one rule breached: the candidate collapsed.
    Collapse,
}

impl Verdict {
    /// The verdict's word, as in JSON: `ok` or `collapse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Collapse => "collapse",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// `ok` or `collapse`.
    pub verdict: Verdict,
    /// One entry per rule.
    pub checks: Vec<Check>,
}

/// Apply `rules` to two metric maps: a check breaches when its threshold is passed.
pub fn compare(
    baseline: &BTreeMap<String, Option<f64>>,
    candidate: &BTreeMap<String, Option<f64>>,
    rules: &[Rule],
) -> Comparison {
    compare_with_evidence(baseline, candidate, &BTreeMap::new(), rules)
}

/// Apply `rules` to two metric maps computed at matched sizes, with `evidence` per metric id:
/// a check with evidence breaches only when its threshold is passed, its Benjamini-Hochberg
/// q-value (over the checks of this comparison that have p-values) is at most the rule's
/// alpha, and both sides had at least the rule's `min_docs` documents.
pub fn compare_with_evidence(
    baseline: &BTreeMap<String, Option<f64>>,
    candidate: &BTreeMap<String, Option<f64>>,
    evidence: &BTreeMap<String, Evidence>,
    rules: &[Rule],
) -> Comparison {
    let mut checks = Vec::new();
    for rule in rules {
        let direction =
            rule.direction.unwrap_or_else(|| match metric_info(&rule.metric).map(|m| m.collapse) {
                Some(Direction::Lower) => Direction::Lower,
                _ => Direction::Higher,
            });
        let b = baseline.get(&rule.metric).copied().flatten();
        let c = candidate.get(&rule.metric).copied().flatten();
        let (threshold, threshold_kind) = match (rule.relative, rule.absolute) {
            (Some(r), _) => (r, ThresholdKind::Relative),
            (None, Some(a)) => (a, ThresholdKind::Absolute),
            (None, None) => unreachable!("validated"),
        };
        let (change, relative_change, worse, breached) = match (b, c) {
            (Some(b), Some(c)) => {
                let change = c - b;
                let signed = if direction == Direction::Lower { -change } else { change };
                let relative = (b != 0.0).then(|| change / b.abs());
                // Relative to a zero baseline any move in the collapse direction breaches.
                let breached = match (threshold_kind, relative) {
                    (ThresholdKind::Relative, Some(_)) => signed / b.abs() > threshold,
                    (ThresholdKind::Relative, None) => signed > 0.0,
                    (ThresholdKind::Absolute, _) => signed > threshold,
                };
                (Some(change), relative, signed > 0.0, breached)
            }
            _ => (None, None, false, false),
        };
        let found = evidence.get(&rule.metric);
        let reason = if b.is_none() || c.is_none() {
            Some(format!("skipped: `{}` is not available on both sides", rule.metric))
        } else {
            rule.reason.clone()
        };
        checks.push(Check {
            metric: rule.metric.clone(),
            baseline: b,
            candidate: c,
            change,
            relative_change,
            threshold,
            threshold_kind,
            direction,
            breached,
            status: if b.is_none() || c.is_none() {
                CheckStatus::Skipped
            } else if breached {
                CheckStatus::Breach
            } else {
                CheckStatus::Ok
            },
            docs: found.map(|e| e.docs),
            p_value: found.and_then(|e| e.p_value),
            q_value: None,
            interval: found.and_then(|e| e.interval),
            alpha: rule.alpha.unwrap_or(DEFAULT_ALPHA),
            worse,
            reason,
        });
    }
    // every check with values and evidence counts among the tests; one without a p-value (not
    // tested: it was within its threshold) counts as p = 1, which only makes the others' q larger
    let tests: Vec<Option<f64>> = checks
        .iter()
        .map(|c| {
            (c.status != CheckStatus::Skipped && evidence.contains_key(&c.metric))
                .then(|| c.p_value.unwrap_or(1.0))
        })
        .collect();
    let q_values = benjamini_hochberg(&tests);
    for ((check, q), rule) in checks.iter_mut().zip(q_values).zip(rules) {
        check.q_value = q.filter(|_| check.p_value.is_some());
        let Some(found) = evidence.get(&check.metric) else { continue };
        if check.status == CheckStatus::Skipped {
            continue;
        }
        if found.docs < rule.min_docs.unwrap_or(DEFAULT_MIN_DOCS) {
            check.status = CheckStatus::InsufficientData;
            check.breached = false;
        } else if check.breached && q.is_none_or(|q| q > check.alpha) {
            check.status = CheckStatus::NotSignificant;
            check.breached = false;
        }
    }
    let verdict = if checks.iter().any(|c| c.breached) { Verdict::Collapse } else { Verdict::Ok };
    Comparison { verdict, checks }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, Option<f64>> {
        pairs.iter().map(|(k, v)| (k.to_string(), Some(*v))).collect()
    }

    #[test]
    fn defaults_parse_and_breach() {
        let rules = default_rules();
        let b = map(&[("distinct_2", 0.70), ("js_to_reference", 0.10), ("self_bleu_4", 0.30)]);
        let c = map(&[("distinct_2", 0.60), ("js_to_reference", 0.12), ("self_bleu_4", 0.25)]);
        let cmp = compare(&b, &c, &rules);
        let get = |m: &str| cmp.checks.iter().find(|c| c.metric == m).unwrap();
        assert!(get("distinct_2").breached);
        assert!(!get("js_to_reference").breached && get("js_to_reference").worse);
        assert!(!get("self_bleu_4").breached && !get("self_bleu_4").worse);
        assert!(get("tail_coverage").reason.as_deref().unwrap().starts_with("skipped"));
        assert_eq!(cmp.verdict, Verdict::Collapse);
    }

    #[test]
    fn benjamini_hochberg_matches_the_textbook_example() {
        // p-values 0.01, 0.04, 0.03, 0.005 (and one undefined): sorted 0.005, 0.01, 0.03, 0.04
        // give 0.02, 0.02, 0.04, 0.04 after the step-up minimum
        let q = benjamini_hochberg(&[Some(0.01), Some(0.04), None, Some(0.03), Some(0.005)]);
        let q: Vec<Option<f64>> = q.into_iter().map(|q| q.map(|q| (q * 1e9).round() / 1e9)).collect();
        assert_eq!(q, vec![Some(0.02), Some(0.04), None, Some(0.04), Some(0.02)]);
        assert_eq!(benjamini_hochberg(&[Some(0.9), Some(0.95)]), vec![Some(0.95), Some(0.95)]);
    }

    #[test]
    fn evidence_gates_a_breach_on_significance_and_size() {
        let rules = default_rules();
        let b = map(&[("distinct_2", 0.70), ("self_bleu_4", 0.30), ("entropy_1", 9.0)]);
        let c = map(&[("distinct_2", 0.50), ("self_bleu_4", 0.50), ("entropy_1", 9.0)]);
        let evidence = |docs, p| Evidence { docs, p_value: Some(p), interval: Some([-0.3, -0.1]) };
        let mut found = BTreeMap::new();
        found.insert("distinct_2".to_string(), evidence(100, 0.001));
        found.insert("self_bleu_4".to_string(), evidence(100, 0.30));
        found.insert("entropy_1".to_string(), evidence(100, 0.9));
        let cmp = compare_with_evidence(&b, &c, &found, &rules);
        let get = |cmp: &Comparison, m: &str| cmp.checks.iter().find(|c| c.metric == m).unwrap().clone();
        assert_eq!(get(&cmp, "distinct_2").status, CheckStatus::Breach);
        assert_eq!(get(&cmp, "self_bleu_4").status, CheckStatus::NotSignificant);
        assert!(!get(&cmp, "self_bleu_4").breached);
        assert_eq!(get(&cmp, "entropy_1").status, CheckStatus::Ok);
        assert_eq!(get(&cmp, "tail_coverage").status, CheckStatus::Skipped);
        assert_eq!(cmp.verdict, Verdict::Collapse);
        found.insert("distinct_2".to_string(), evidence(10, 0.001));
        let small = compare_with_evidence(&b, &c, &found, &rules);
        assert_eq!(get(&small, "distinct_2").status, CheckStatus::InsufficientData);
        assert_eq!(small.verdict, Verdict::Ok);
    }

    #[test]
    fn bad_rules_are_rejected() {
        for text in [
            "[[rule]]\nmetric = \"nope\"\nrelative = 0.1",
            "[[rule]]\nmetric = \"distinct_2\"",
            "[[rule]]\nmetric = \"distinct_2\"\nrelative = -1",
            "[[rule]]\nmetric = \"distinct_2\"\nrelativ = 0.1",
            "[[rule]]\nmetric = \"mean_doc_tokens\"\nabsolute = 1",
            "[[rule]]\nmetric = \"distinct_2\"\nrelative = 0.1\nalpha = 1.5",
        ] {
            assert!(parse_rules(text, Path::new("r.toml")).is_err(), "{text}");
        }
    }
}
