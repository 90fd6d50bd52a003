//! Self-contained HTML for simulations (inline CSS and SVG, no network): one line chart per
//! metric, one line per strategy with its 5-95 % replicate band, closed forms dashed.
use std::fmt::Write;

use tailwatch_sim::SimReport;
use tailwatch_sim::summary::{Series, Statistic};

const COLORS: &[&str] =
    &["#3b6ea8", "#d0782a", "#4c9a52", "#b04a5a", "#7b61a8", "#8a6d3b", "#2f8f9d", "#666666"];
const WIDTH: f64 = 500.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 34.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn tick_label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-2 {
        format!("{v:.1e}")
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Up to ~6 round tick values covering [lo, hi].
fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| span / s <= 6.0)
        .unwrap_or(magnitude * 10.0);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

struct Curve<'a> {
    color: &'a str,
    values: Vec<Option<f64>>,
    dashed: bool,
    label: String,
}

struct Band<'a> {
    color: &'a str,
    lower: Vec<Option<f64>>,
    upper: Vec<Option<f64>>,
}

fn chart(curves: &[Curve], bands: &[Band], generations: usize) -> String {
    let all = curves
        .iter()
        .flat_map(|c| c.values.iter())
        .chain(bands.iter().flat_map(|b| b.lower.iter().chain(b.upper.iter())))
        .flatten()
        .copied()
        .filter(|v| v.is_finite());
    let (mut lo, mut hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return "<p class=\"muted\">no finite values</p>".into();
    }
    let log = lo > 0.0 && hi / lo > 50.0;
    let t = |v: f64| if log { v.log10() } else { v };
    if hi == lo {
        lo -= 0.5_f64.max(lo.abs() * 0.1);
        hi += 0.5_f64.max(hi.abs() * 0.1);
    }
    let (ylo, yhi) = (t(lo), t(hi));
    let pad = (yhi - ylo) * 0.05;
    let (ylo, yhi) = (ylo - pad, yhi + pad);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let xmax = generations.max(1) as f64;
    let px = |g: f64| LEFT + g / xmax * plot_w;
    let py = |v: f64| TOP + (1.0 - (t(v) - ylo) / (yhi - ylo)) * plot_h;
    let mut svg = format!(r#"<svg width="{WIDTH}" height="{HEIGHT}" role="img" class="chart">"#);
    // axes and grid
    let y_ticks: Vec<f64> = if log {
        let (a, b) = (ylo.ceil() as i32, yhi.floor() as i32);
        let stride = ((b - a) / 6 + 1).max(1);
        (a..=b).step_by(stride as usize).map(|e| 10f64.powi(e)).collect()
    } else {
        nice_ticks(ylo, yhi)
    };
    for v in y_ticks {
        let y = py(v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end" class="t">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            tick_label(v)
        );
    }
    for g in nice_ticks(0.0, xmax) {
        let x = px(g);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{}" stroke="#f3f3f3"/><text x="{x:.1}" y="{}" text-anchor="middle" class="t">{}</text>"##,
            HEIGHT - BOTTOM,
            HEIGHT - BOTTOM + 14.0,
            tick_label(g)
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{}" text-anchor="middle" class="t">generation{}</text><rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#bbb"/>"##,
        LEFT + plot_w / 2.0,
        HEIGHT - 4.0,
        if log { " · log y" } else { "" }
    );
    for band in bands {
        let upper: Vec<(usize, f64)> = band
            .upper
            .iter()
            .enumerate()
            .filter_map(|(g, v)| v.filter(|v| v.is_finite() && (!log || *v > 0.0)).map(|v| (g, v)))
            .collect();
        let lower: Vec<(usize, f64)> = band
            .lower
            .iter()
            .enumerate()
            .filter_map(|(g, v)| v.filter(|v| v.is_finite() && (!log || *v > 0.0)).map(|v| (g, v)))
            .collect();
        if upper.len() < 2 || upper.len() != lower.len() {
            continue;
        }
        let mut d = String::new();
        for (i, (g, v)) in upper.iter().enumerate() {
            let _ = write!(d, "{}{:.1},{:.1} ", if i == 0 { "M" } else { "L" }, px(*g as f64), py(*v));
        }
        for (g, v) in lower.iter().rev() {
            let _ = write!(d, "L{:.1},{:.1} ", px(*g as f64), py(*v));
        }
        let _ = write!(svg, r#"<path d="{d}Z" fill="{}" fill-opacity="0.12" stroke="none"/>"#, band.color);
    }
    for curve in curves {
        let mut d = String::new();
        let mut pen_down = false;
        for (g, v) in curve.values.iter().enumerate() {
            match v.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
                Some(v) => {
                    let _ =
                        write!(d, "{}{:.1},{:.1} ", if pen_down { "L" } else { "M" }, px(g as f64), py(v));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let dash = if curve.dashed { r#" stroke-dasharray="5 4""# } else { "" };
        let _ = write!(
            svg,
            r#"<path d="{d}" fill="none" stroke="{}" stroke-width="{}"{dash}><title>{}</title></path>"#,
            curve.color,
            if curve.dashed { 1.5 } else { 2.0 },
            escape(&curve.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

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
            chart(&curves, &bands, report.generations)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let t = nice_ticks(0.13, 0.98);
        assert!(t.first().unwrap() >= &0.13 && t.last().unwrap() <= &0.98 && t.len() >= 3, "{t:?}");
    }
}
