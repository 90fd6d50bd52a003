//! A self-contained HTML report (inline CSS and SVG, no network): one bar chart per metric with
//! one bar per input, grouped by family, and the full table.
use std::fmt::Write;

use tailwatch_metrics::report::ScoreReport;

use crate::chart::bars;
use crate::{escape, format_value};

/// The page for one or more score reports (one bar per report in each metric's chart).
pub fn render(reports: &[ScoreReport]) -> String {
    let names: Vec<String> = reports.iter().map(|r| r.inputs.join(" + ")).collect();
    let mut html = String::new();
    html.push_str(r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tailwatch report</title><style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1rem}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:.6rem .8rem}.card h3{font-size:.95rem;margin:.1rem 0}
.card p{font-size:.8rem;color:#555;margin:.2rem 0 .4rem}.l{font-size:12px;fill:#333}.v{font-size:12px;fill:#111}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}#metrics th{max-width:14rem;word-break:break-all}.dir{color:#a33;font-weight:bold}.muted{color:#777;font-size:.85rem}
</style></head><body>"#);
    let _ = write!(
        html,
        "<h1>tailwatch report</h1><p class=\"muted\">tailwatch {} · ",
        escape(tailwatch_core::VERSION)
    );
    if let Some(r) = reports.first() {
        let _ = write!(
            html,
            "tokenizer <code>{}</code> · sample {} (seed {}) · zlib {}{}</p>",
            escape(&r.tokenizer),
            escape(&r.sample.size),
            r.sample.seed,
            escape(&r.zlib_version),
            r.compat.as_deref().map(|c| format!(" · compat <code>{}</code>", escape(c))).unwrap_or_default()
        );
    }
    html.push_str("<table><tr><th>input</th><th>docs</th><th>tokens</th><th>reference</th></tr>");
    for (r, name) in reports.iter().zip(&names) {
        let reference = r.reference.as_ref().and_then(|v| v["source"].as_str()).unwrap_or("-");
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            r.n_docs,
            r.n_tokens,
            escape(reference)
        );
    }
    html.push_str(
        "</table><p class=\"muted\">↓ lower means collapse · ↑ higher means collapse · ~ approximate</p>",
    );
    for (family, present) in tailwatch_metrics::report::metrics_by_family(reports) {
        let _ = write!(html, "<h2>{}</h2><div class=\"grid\">", escape(family.title()));
        for m in present {
            let values: Vec<Option<f64>> =
                reports.iter().map(|r| r.metrics.get(&m.id).copied().flatten()).collect();
            let approx = reports.iter().any(|r| r.approximate.contains(&m.id));
            let _ = write!(
                html,
                "<div class=\"card\"><h3><span class=\"dir\">{}</span> {}{}</h3><p>{} · range {}</p>{}</div>",
                m.info.collapse.arrow(),
                escape(&m.id),
                if approx { " ~" } else { "" },
                escape(m.info.definition),
                escape(m.info.range),
                bars(&values, &names)
            );
        }
        html.push_str("</div>");
    }
    html.push_str(&metrics_table(reports, &names));
    html.push_str(&worst_groups(reports, &names));
    let notes: Vec<&String> = reports.iter().flat_map(|r| &r.notes).collect();
    if !notes.is_empty() {
        html.push_str("<h2>Notes</h2><ul>");
        for n in notes {
            let _ = write!(html, "<li>{}</li>", escape(n));
        }
        html.push_str("</ul>");
    }
    html.push_str("</body></html>\n");
    html
}

/// Every metric of every report, with each later report's change against the first.
/// Prompts listed per input in the worst-groups table.
const WORST_GROUPS: usize = 10;

/// Each input's most collapsed prompts (answers grouped by prompt): fewest classes first.
fn worst_groups(reports: &[ScoreReport], names: &[String]) -> String {
    let mut html = String::new();
    for (report, name) in reports.iter().zip(names) {
        let Some(groups) = &report.groups else { continue };
        let _ = write!(
            html,
            "<h2>Most collapsed prompts: {}</h2><p class=\"muted\">{} groups by {}, rule {}, {:.1} answers per prompt on average</p><table class=worst><tr><th>prompt</th><th>answers</th><th>classes</th><th>self-BLEU-4</th></tr>",
            escape(name),
            groups.groups,
            escape(&groups.by),
            escape(&groups.equivalence),
            groups.mean_answers
        );
        for row in groups.rows.iter().filter(|r| r.scored >= 2).take(WORST_GROUPS) {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&row.group),
                row.answers,
                row.distinct_at_k,
                escape(&format_value(row.self_bleu))
            );
        }
        html.push_str("</table>");
    }
    html
}

fn metrics_table(reports: &[ScoreReport], names: &[String]) -> String {
    let mut html = String::from("<h2>All metrics</h2><table id=metrics><tr><th>metric</th>");
    for (i, name) in names.iter().enumerate() {
        let _ = write!(html, "<th>{}</th>", escape(name));
        if i > 0 {
            html.push_str("<th>change vs first</th>");
        }
    }
    html.push_str("</tr>");
    for (_, present) in tailwatch_metrics::report::metrics_by_family(reports) {
        for m in present {
            let value = |r: &ScoreReport| r.metrics.get(&m.id).copied().flatten();
            let first = reports.first().and_then(value);
            let _ = write!(
                html,
                "<tr data-metric=\"{}\"><td>{} {}</td>",
                escape(&m.id),
                m.info.collapse.arrow(),
                escape(&m.id)
            );
            for (i, r) in reports.iter().enumerate() {
                let _ = write!(html, "<td>{}</td>", escape(&format_value(value(r))));
                if i > 0 {
                    let change = match (first, value(r)) {
                        (Some(a), Some(b)) if a != 0.0 => format!("{:+.1} %", 100.0 * (b - a) / a.abs()),
                        (Some(a), Some(b)) => format!("{:+.4}", b - a),
                        _ => "-".into(),
                    };
                    let _ = write!(html, "<td class=change>{change}</td>");
                }
            }
            html.push_str("</tr>");
        }
    }
    html.push_str("</table>");
    html
}
