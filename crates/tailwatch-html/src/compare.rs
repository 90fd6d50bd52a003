//! The page of `compare --html`: the verdict, each check's change with its interval and
//! p-values, a chart per check of both sides' block values, and why (grown n-grams, lost words,
//! repeated outputs, near-duplicates).
use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;
use tailwatch_metrics::catalog::metric_info;
use tailwatch_metrics::compare::{CheckStatus, Comparison};
use tailwatch_metrics::report::ScoreReport;

use crate::axis::{nice_ticks, tick_label};
use crate::{COLORS, escape, format_value};

/// What a comparison page shows.
pub struct CompareView<'a> {
    /// The checks and the verdict.
    pub comparison: &'a Comparison,
    /// The baseline's report (its inputs and size).
    pub baseline: &'a ScoreReport,
    /// The candidate's report.
    pub candidate: &'a ScoreReport,
    /// Per checked metric: the metric on each of the baseline's and the candidate's blocks.
    pub blocks: &'a BTreeMap<String, [Vec<f64>; 2]>,
    /// The explanation, as `compare --json` prints it (`grown_ngrams`, `lost_words`,
    /// `repeated_outputs`, `near_duplicates`); it is built above this crate, so it comes as JSON.
    pub explanation: Option<&'a Value>,
    /// The comparison's notes.
    pub notes: &'a [String],
    /// Confidence of the intervals.
    pub confidence: f64,
}

const STYLE: &str = r#"<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
.verdict{display:inline-block;padding:.3rem .8rem;border-radius:4px;font-weight:bold;font-size:1.1rem}
.verdict.collapse{background:#fde2e1;color:#a11d16}.verdict.ok{background:#dcf5e3;color:#176b34}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child,td.text{text-align:left}.breach{color:#a11d16;font-weight:bold}.muted{color:#777;font-size:.85rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1rem}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:.6rem .8rem}.card h3{font-size:.95rem;margin:.1rem 0}
.card p{font-size:.8rem;color:#555;margin:.2rem 0 .4rem}
</style>"#;

/// The page.
pub fn render(view: &CompareView) -> String {
    let c = view.comparison;
    let mut html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tailwatch compare: {}</title>{STYLE}</head><body>"#,
        escape(c.verdict.as_str())
    );
    let _ = write!(
        html,
        "<h1>tailwatch compare</h1><p><span id=verdict class=\"verdict {0}\">{0}</span></p>",
        escape(c.verdict.as_str())
    );
    html.push_str("<table id=sides><tr><th>side</th><th>inputs</th><th>docs</th><th>tokens</th></tr>");
    for (name, r) in [("baseline", view.baseline), ("candidate", view.candidate)] {
        let _ = write!(
            html,
            "<tr><td>{name}</td><td class=text>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.inputs.join(", ")),
            r.n_docs,
            r.n_tokens
        );
    }
    html.push_str("</table>");
    if let Some(docs) = c.checks.iter().find_map(|c| c.docs) {
        let _ = write!(html, "<p class=muted>checks at {docs} documents per side</p>");
    }
    let _ = write!(
        html,
        "<h2>Checks</h2><table id=checks><tr><th>metric</th><th>baseline</th><th>candidate</th><th>change</th><th>{:.0} % interval</th><th>rule</th><th>p</th><th>q</th><th>result</th></tr>",
        view.confidence * 100.0
    );
    for check in &c.checks {
        let arrow = metric_info(&check.metric).map_or("", |m| m.collapse.arrow());
        let interval = check.interval.map_or_else(|| "-".into(), |[lo, hi]| format!("[{lo:+.4}, {hi:+.4}]"));
        let number = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.3}"));
        let _ = write!(
            html,
            "<tr class=check data-metric=\"{}\"><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            escape(&check.metric),
            arrow,
            escape(&check.metric),
            format_value(check.baseline),
            format_value(check.candidate),
            escape(&check.change_label()),
            interval,
            escape(&check.rule_label()),
            number(check.p_value),
            number(check.q_value),
            if check.status == CheckStatus::Breach { "breach" } else { "" },
            escape(check.result_label())
        );
    }
    html.push_str("</table>");
    if !view.blocks.is_empty() {
        html.push_str("<h2>Each side's blocks</h2><p class=muted>Each side's documents are dealt into blocks; a dot is one block's value, a bar each side's value at the matched size (a block holds a tenth of the documents, so metrics that move with size sit apart from the bar). The permutation test reassigns the blocks between the sides.</p><div class=grid>");
        for check in c.checks.iter() {
            if let Some(blocks) = view.blocks.get(&check.metric) {
                html.push_str(&block_chart(&check.metric, blocks, [check.baseline, check.candidate]));
            }
        }
        html.push_str("</div>");
    }
    if let Some(why) = view.explanation {
        html.push_str(&explanation(why));
    }
    for note in view.notes {
        let _ = write!(html, "<p class=muted>note: {}</p>", escape(note));
    }
    html.push_str("</body></html>");
    html
}

/// A strip chart: the baseline's blocks on one row, the candidate's on another, each side's
/// value as a bar; the axis spans the values (it does not start at zero).
fn block_chart(metric: &str, blocks: &[Vec<f64>; 2], values: [Option<f64>; 2]) -> String {
    let (w, left, right, row) = (500.0, 80.0, 16.0, 34.0);
    let all: Vec<f64> = blocks.iter().flatten().copied().chain(values.iter().flatten().copied()).collect();
    let (mut lo, mut hi) =
        all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return String::new();
    }
    if hi - lo < 1e-12 {
        let spread = (0.05 * lo.abs()).max(0.01);
        (lo, hi) = (lo - spread, hi + spread);
    }
    let pad = 0.06 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| left + (w - left - right) * (v - lo) / (hi - lo);
    let h = 2.0 * row + 36.0;
    let mut svg = format!(
        "<div class=card data-metric=\"{0}\"><h3>{1} {0}</h3><svg class=blocks width={w} height={h} viewBox=\"0 0 {w} {h}\" role=img aria-label=\"{0}: each side's blocks\">",
        escape(metric),
        metric_info(metric).map_or("", |m| m.collapse.arrow())
    );
    for (side, (name, color)) in [("baseline", COLORS[0]), ("candidate", COLORS[1])].iter().enumerate() {
        let y = 14.0 + row * side as f64 + row / 2.0;
        let _ = write!(svg, "<text x=4 y={:.1} font-size=12 fill=#333>{name}</text>", y + 4.0);
        for v in &blocks[side] {
            let _ = write!(
                svg,
                "<circle class=\"block {name}\" cx={:.1} cy={y:.1} r=4 fill={color} fill-opacity=0.6><title>{name} block: {}</title></circle>",
                x(*v),
                escape(&format_value(Some(*v)))
            );
        }
        if let Some(v) = values[side] {
            let _ = write!(
                svg,
                "<line class=\"value {name}\" x1={0:.1} x2={0:.1} y1={1:.1} y2={2:.1} stroke={color} stroke-width=3><title>{name}: {3}</title></line>",
                x(v),
                y - 12.0,
                y + 12.0,
                escape(&format_value(Some(v)))
            );
        }
    }
    let axis_y = 14.0 + 2.0 * row;
    let _ = write!(svg, "<line x1={left} x2={} y1={axis_y} y2={axis_y} stroke=#9aa3af />", w - right);
    for t in nice_ticks(lo, hi) {
        let _ = write!(
            svg,
            "<line x1={0:.1} x2={0:.1} y1={axis_y} y2={1} stroke=#9aa3af /><text x={0:.1} y={2} font-size=10 text-anchor=middle fill=#6b7280>{3}</text>",
            x(t),
            axis_y + 4.0,
            axis_y + 16.0,
            escape(&tick_label(t))
        );
    }
    svg.push_str("</svg></div>");
    svg
}

/// The explanation's four lists as tables.
fn explanation(why: &Value) -> String {
    let list = |key: &str| why[key].as_array().map(Vec::as_slice).unwrap_or_default();
    let text = |v: &Value| escape(v.as_str().unwrap_or(""));
    let number = |v: &Value| v.as_f64().map_or_else(|| "-".into(), |x| format!("{x}"));
    let share = |v: &Value| v.as_f64().map_or_else(|| "-".into(), |x| format!("{:.2} %", 100.0 * x));
    let mut html = String::from("<h2 id=why>Why</h2>");
    let empty = ["grown_ngrams", "lost_words", "repeated_outputs", "near_duplicates", "top_openings"]
        .iter()
        .all(|k| list(k).is_empty());
    if empty {
        html.push_str("<p class=muted>Nothing changed beyond chance: no n-gram grew, no word was lost, no output repeats.</p>");
        return html;
    }
    // each list: its key, heading, table id, column headers, and its cells (`true`: text, left)
    type Cells = Vec<(String, bool)>;
    type Section<'s> = (&'s str, &'s str, &'s str, &'s [&'s str], &'s dyn Fn(&Value) -> Cells);
    let fixed =
        |v: &Value, decimals: usize| v.as_f64().map_or_else(|| "-".into(), |x| format!("{x:.decimals$}"));
    let sections: [Section; 5] = [
        (
            "grown_ngrams",
            "n-grams that grew",
            "grown",
            &["trigram", "baseline", "share", "candidate", "share"],
            &|g| {
                vec![
                    (text(&g["ngram"]), false),
                    (number(&g["baseline_count"]), false),
                    (share(&g["baseline_share"]), false),
                    (number(&g["candidate_count"]), false),
                    (share(&g["candidate_share"]), false),
                ]
            },
        ),
        (
            "lost_words",
            "Baseline words the candidate never uses",
            "lost",
            &["word", "in the baseline", "expected in the candidate"],
            &|l| {
                vec![
                    (text(&l["word"]), false),
                    (number(&l["baseline_count"]), false),
                    (fixed(&l["expected"], 1), false),
                ]
            },
        ),
        (
            "repeated_outputs",
            "Repeated candidate outputs",
            "repeated",
            &["output", "copies in the candidate", "in the baseline"],
            &|r| {
                vec![
                    (text(&r["text"]), true),
                    (number(&r["candidate_count"]), false),
                    (number(&r["baseline_count"]), false),
                ]
            },
        ),
        (
            "top_openings",
            "Most common candidate openings",
            "openings",
            &["opening (5 tokens)", "candidate documents", "share", "baseline documents"],
            &|o| {
                vec![
                    (text(&o["opening"]), true),
                    (number(&o["candidate_count"]), false),
                    (share(&o["candidate_share"]), false),
                    (number(&o["baseline_count"]), false),
                ]
            },
        ),
        (
            "near_duplicates",
            "Closest near-duplicate candidate pairs",
            "near",
            &["first", "second", "Jaccard"],
            &|n| {
                vec![(text(&n["first"]), true), (text(&n["second"]), true), (fixed(&n["jaccard"], 3), false)]
            },
        ),
    ];
    for (key, title, id, headers, cells) in sections {
        if list(key).is_empty() {
            continue;
        }
        let _ = write!(html, "<h3>{title}</h3><table id={id}><tr>");
        for header in headers {
            let _ = write!(html, "<th>{header}</th>");
        }
        html.push_str("</tr>");
        for row in list(key) {
            html.push_str("<tr>");
            for (cell, is_text) in cells(row) {
                let _ = write!(html, "{}{cell}</td>", if is_text { "<td class=text>" } else { "<td>" });
            }
            html.push_str("</tr>");
        }
        html.push_str("</table>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_charts_span_the_values_and_escape() {
        let svg = block_chart("distinct_2", &[vec![0.61, 0.63], vec![0.41, 0.43]], [Some(0.62), Some(0.42)]);
        assert_eq!(svg.matches("class=\"block baseline\"").count(), 2);
        assert_eq!(svg.matches("class=\"block candidate\"").count(), 2);
        assert_eq!(svg.matches("class=\"value ").count(), 2);
        // the axis spans about 0.4 to 0.64, not 0
        assert!(!svg.contains(">0</text>"), "{svg}");
        let why = serde_json::json!({"grown_ngrams": [{"ngram": "<b>x</b>", "baseline_count": 0, "candidate_count": 5, "baseline_share": 0.0, "candidate_share": 0.1}], "lost_words": [], "repeated_outputs": [], "near_duplicates": []});
        let html = explanation(&why);
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;") && !html.contains("<b>"));
        let nothing = serde_json::json!({"grown_ngrams": [], "lost_words": [], "repeated_outputs": [], "near_duplicates": []});
        assert!(explanation(&nothing).contains("Nothing changed beyond chance"));
    }
}
