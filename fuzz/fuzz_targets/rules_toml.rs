//! Collapse rules (`--rules` TOML): any text is rules or an `Err`, never a panic; parsed rules
//! hold only known metrics with finite, non-negative thresholds.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tailwatch_metrics::catalog::metric_info;
use tailwatch_metrics::compare::parse_rules;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(rules) = parse_rules(text, Path::new("<fuzz>")) {
        for rule in &rules {
            assert!(metric_info(&rule.metric).is_some(), "{rule:?}");
            for t in [rule.relative, rule.absolute].into_iter().flatten() {
                assert!(t.is_finite() && t >= 0.0, "{rule:?}");
            }
        }
    }
});
