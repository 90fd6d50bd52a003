//! Alert rules as pure functions: thresholds (fixed, relative, adaptive) and hysteresis.
use tailwatch_metrics::catalog::{Direction, metric_info};

use crate::error::RuleError;
use crate::types::{Rule, RuleKind, RuleSpec};

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

/// Model, version, cohort and window names: 1-200 printable characters, no `/`, not `*`.
pub fn check_name(field: &'static str, value: &str) -> Result<(), RuleError> {
    if value.is_empty() || value.len() > 200 {
        return Err(RuleError::NameLength { field });
    }
    if value == "*" || value.chars().any(|c| c.is_control() || c == '/') {
        return Err(RuleError::NameForbidden { field, value: value.escape_debug().to_string() });
    }
    Ok(())
}

/// What the baseline offers a rule.
#[derive(Debug, Clone, Default)]
pub struct BaselineValues {
    /// The metric on the baseline profile.
    pub value: Option<f64>,
    /// The metric on each baseline chunk.
    pub chunks: Vec<f64>,
}

/// The threshold a rule applies now, or why it cannot be evaluated.
pub fn threshold(rule: &Rule, baseline: Option<&BaselineValues>) -> Result<f64, String> {
    let sign = if rule.direction == Direction::Lower { -1.0 } else { 1.0 };
    match rule.kind {
        RuleKind::Fixed => rule.threshold.ok_or_else(|| "fixed rule without threshold".to_string()),
        RuleKind::Relative => {
            let b = baseline.and_then(|b| b.value).ok_or_else(|| {
                format!("no baseline value of `{}` (set a baseline for the model)", rule.metric)
            })?;
            Ok(b + sign * rule.threshold.unwrap_or(0.0) * b.abs())
        }
        RuleKind::Adaptive => {
            let chunks = baseline.map(|b| b.chunks.as_slice()).unwrap_or(&[]);
            let (mean, sd) = mean_sd(chunks).ok_or_else(|| {
                format!(
                    "adaptive thresholds need a baseline with ≥ 2 chunks holding `{}`; it has {}",
                    rule.metric,
                    chunks.len()
                )
            })?;
            Ok(mean + sign * rule.k * sd)
        }
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

    #[test]
    fn thresholds_of_each_kind() {
        let base = BaselineValues { value: Some(0.8), chunks: vec![0.7, 0.8, 0.9] };
        let fixed = rule(RuleKind::Fixed, Direction::Lower, Some(0.5));
        assert_eq!(threshold(&fixed, None), Ok(0.5));
        let relative = rule(RuleKind::Relative, Direction::Lower, Some(0.1));
        assert!((threshold(&relative, Some(&base)).unwrap() - 0.72).abs() < 1e-12);
        assert!(threshold(&relative, None).is_err());
        let adaptive = rule(RuleKind::Adaptive, Direction::Higher, None);
        // mean 0.8, sd 0.1 → 0.8 + 3 · 0.1
        assert!((threshold(&adaptive, Some(&base)).unwrap() - 1.1).abs() < 1e-12);
        let one_chunk = BaselineValues { value: Some(0.8), chunks: vec![0.8] };
        assert!(threshold(&adaptive, Some(&one_chunk)).unwrap_err().contains("≥ 2 chunks"));
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
