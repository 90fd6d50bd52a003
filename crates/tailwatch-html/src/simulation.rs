//! Self-contained HTML for simulations (inline CSS and SVG, no network): one line chart per
//! metric, one line per strategy with its 5-95 % replicate band, closed forms dashed.
use std::fmt::Write;

use tailwatch_sim::SimReport;
use tailwatch_sim::summary::{Series, Statistic};

use crate::chart::{Band, Curve, generations_chart};
use crate::{COLORS, escape};

const STYLE: &str = r#"<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1120px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1rem}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:.6rem .8rem}.card h3{font-size:.95rem;margin:.1rem 0}
.card p{font-size:.8rem;color:#555;margin:.2rem 0 .4rem}.t{font-size:11px;fill:#555}.muted{color:#777;font-size:.85rem}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}.sw{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:.3rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}
code{background:#f5f5f5;padding:0 .2rem}
</style>"#;

fn expected_curve(series: &Series) -> Option<&tailwatch_sim::summary::Expectation> {
    series.expected.iter().find(|e| e.statistic == Statistic::Mean).or_else(|| series.expected.first())
}

/// One section per report: a legend and one chart per metric.
fn section(html: &mut String, report: &SimReport) {
    let samples = report.parameters.samples().map_or_else(|| "corpus-sized".to_string(), |s| s.to_string());
    let params = serde_json::to_string(&report.parameters).unwrap_or_default();
    let _ = write!(
        html,
        "<h2>{}</h2><p class=\"muted\">{} samples per generation · {} generations · {} replicate(s) · seed {} · {:.1} s · parameters <code>{}</code></p><div class=\"legend\">",
        escape(&report.model),
        escape(&samples),
        report.generations,
        report.replicates,
        report.seed,
        report.elapsed_s,
        escape(&params)
    );
    for (i, s) in report.strategies.iter().enumerate() {
        let _ = write!(
            html,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
            COLORS[i % COLORS.len()],
            escape(&s.strategy.to_string())
        );
    }
    html.push_str(
        "<span class=\"muted\">solid: mean over replicates · shaded: 5–95 % of replicates · dashed: closed form</span></div><div class=\"grid\">",
    );
    for info in &report.metrics {
        let mut curves = Vec::new();
        let mut bands = Vec::new();
        let mut sources = Vec::new();
        for (i, s) in report.strategies.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let Some(series) = s.metrics.get(info.id) else { continue };
            if report.replicates > 1 {
                bands.push(Band { color, lower: series.q05.clone(), upper: series.q95.clone() });
            }
            curves.push(Curve {
                color,
                values: series.mean.clone(),
                dashed: false,
                label: format!("{} mean", s.strategy),
            });
            if let Some(e) = expected_curve(series) {
                curves.push(Curve {
                    color,
                    values: e.values.clone(),
                    dashed: true,
                    label: format!("{} closed form ({:?}): {}", s.strategy, e.statistic, e.source),
                });
                sources.push(format!("{}: {}", s.strategy, e.source));
            }
        }
        let _ = write!(
            html,
            "<div class=\"card\"><h3>{} {}</h3><p>{}</p>{}",
            info.collapse.arrow(),
            escape(info.id),
            escape(info.definition),
            generations_chart(&curves, &bands, report.generations)
        );
        for s in sources {
            let _ = write!(html, "<p>closed form, {}</p>", escape(&s));
        }
        html.push_str("</div>");
    }
    html.push_str("</div>");
    for n in &report.notes {
        let _ = write!(html, "<p class=\"muted\">note: {}</p>", escape(n));
    }
}

/// The whole page; `intro` is raw HTML placed after the title (may be empty).
pub fn render_with_intro(reports: &[SimReport], title: &str, intro: &str) -> String {
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>{STYLE}</head><body><h1>{}</h1><p class=\"muted\">tailwatch {} · ↓ lower means collapse · ↑ higher means collapse</p>",
        escape(title),
        escape(title),
        escape(tailwatch_core::VERSION)
    );
    html.push_str(intro);
    for report in reports {
        section(&mut html, report);
    }
    html.push_str("</body></html>\n");
    html
}

/// The page for one or more simulations.
pub fn render(reports: &[SimReport], title: &str) -> String {
    render_with_intro(reports, title, "")
}
