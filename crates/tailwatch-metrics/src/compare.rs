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
}

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
    /// Whether the candidate moved past the threshold in the collapse direction.
    pub breached: bool,
    /// Whether the candidate moved in the collapse direction at all.
    pub worse: bool,
    /// Why the rule exists, or why it was skipped.
    pub reason: Option<String>,
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

/// Apply `rules` to two metric maps.
pub fn compare(
    baseline: &BTreeMap<String, Option<f64>>,
    candidate: &BTreeMap<String, Option<f64>>,
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
            worse,
            reason,
        });
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
    fn bad_rules_are_rejected() {
        for text in [
            "[[rule]]\nmetric = \"nope\"\nrelative = 0.1",
            "[[rule]]\nmetric = \"distinct_2\"",
            "[[rule]]\nmetric = \"distinct_2\"\nrelative = -1",
            "[[rule]]\nmetric = \"distinct_2\"\nrelativ = 0.1",
            "[[rule]]\nmetric = \"mean_doc_tokens\"\nabsolute = 1",
        ] {
            assert!(parse_rules(text, Path::new("r.toml")).is_err(), "{text}");
        }
    }
}
