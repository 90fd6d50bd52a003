//! Saved `score --json` reports, as `compare` takes them for a side (`report_of_json`, then
//! `check_report` under the built-in rules). Any text is a report, not one, or refused, never a
//! panic. A report that passes writes back as a report, and compares with itself as `ok`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tailwatch::comparing::{check_report, report_of_json};
use tailwatch_metrics::compare::{Verdict, compare, default_rules};

fuzz_target!(|data: &[u8]| {
    let Ok(Some(report)) = report_of_json(data) else { return };
    let rules = default_rules();
    if check_report(&report, Path::new("<fuzz>"), &rules).is_err() {
        return;
    }
    let written = serde_json::to_string(&report).expect("a report serializes");
    let again = report_of_json(written.as_bytes()).expect("a written report reads back").expect("a report");
    assert_eq!((again.n_docs, again.metrics.len()), (report.n_docs, report.metrics.len()));
    let comparison = compare(&report.metrics, &report.metrics, &rules);
    assert_eq!(comparison.verdict, Verdict::Ok, "a report collapsed against itself: {comparison:?}");
});
