//! The watch dashboard's trend chart: a metric over model versions, with the baseline band and
//! value at each version's size, rule thresholds, alert markers and a legend.
use std::fmt::Write;

use crate::escape;

/// One version on a trend chart.
pub struct TrendPoint<'a> {
    /// The version's name.
    pub version: &'a str,
    /// The metric's value (`None`: not defined for this version).
    pub value: Option<f64>,
    /// Documents in the version.
    pub n_docs: u64,
    /// Whether it breached a rule while an alert was open.
    pub alerted: bool,
    /// The baseline's value read at this version's size.
    pub baseline: Option<f64>,
    /// The baseline band (low, high) at this version's size.
    pub band: Option<(f64, f64)>,
}

/// A rule's threshold at each version's size.
pub struct ThresholdLine {
    /// The rule, for the legend (`#3 distinct_2`, or its name).
    pub label: String,
    /// Per point (`None`: not evaluable there).
    pub values: Vec<Option<f64>>,
}

/// A metric over versions and what it is judged against.
pub struct Trend<'a> {
    /// The metric id.
    pub metric: &'a str,
    /// The heading (the metric id with its collapse arrow).
    pub title: String,
    /// The versions, in order.
    pub points: Vec<TrendPoint<'a>>,
    /// How the band is made, for the legend (`baseline ± 3σ of 5 chunks`).
    pub band_label: String,
    /// Rule thresholds on this metric.
    pub thresholds: Vec<ThresholdLine>,
}

/// A value with 4 decimals, in scientific notation when very large or small; `–` for none.
pub fn format_short(value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(v) if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// The trend chart of `trend` as an SVG in a `div.chart`.
pub fn trend_chart(trend: &Trend) -> String {
    let metric = trend.metric;
    let fmt = format_short;
    let (w, h, left, right, top, bottom) = (520.0, 220.0, 56.0, 12.0, 12.0, 40.0);
    let points = &trend.points;
    let values: Vec<Option<f64>> = points.iter().map(|p| p.value).collect();
    let thresholds = &trend.thresholds;
    let mut all: Vec<f64> = values.iter().flatten().copied().collect();
    all.extend(points.iter().flat_map(|p| p.band.map(|b| [b.0, b.1])).flatten());
    all.extend(points.iter().filter_map(|p| p.baseline));
    all.extend(thresholds.iter().flat_map(|t| t.values.iter().flatten()));
    let title = &trend.title;
    let mut svg = format!(
        "<div class=chart data-metric=\"{}\"><h3>{}</h3><svg class=trend width={w} height={h} viewBox=\"0 0 {w} {h}\" role=img aria-label=\"{} by version\">",
        escape(metric),
        escape(title),
        escape(metric)
    );
    if all.is_empty() {
        svg.push_str("<text x=20 y=100 class=muted>no values yet</text></svg></div>");
        return svg;
    }
    let (mut lo, mut hi) =
        all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if hi - lo < 1e-12 {
        let spread = (0.05 * lo.abs()).max(0.01);
        lo -= spread;
        hi += spread;
    }
    let pad = 0.08 * (hi - lo);
    let (mut lo, hi) = (lo - pad, hi + pad);
    if all.iter().all(|v| *v >= 0.0) {
        // non-negative metrics keep a non-negative axis
        lo = lo.max(0.0);
    }
    let n = points.len().max(1);
    let x = |i: usize| left + (w - left - right) * if n == 1 { 0.5 } else { i as f64 / (n - 1) as f64 };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v - lo) / (hi - lo));
    let _ = write!(
        svg,
        "<line x1={left} y1={} x2={} y2={} stroke=#9aa3af /><line x1={left} y1={top} x2={left} y2={} stroke=#9aa3af />",
        h - bottom,
        w - right,
        h - bottom,
        h - bottom
    );
    // round tick values over the plotted range
    for v in crate::axis::nice_ticks(lo, hi) {
        let _ = write!(
            svg,
            "<text x=4 y={:.1} font-size=10 fill=#6b7280>{}</text><line x1={left} x2={} y1={:.1} y2={:.1} stroke=#eef0f3 />",
            y(v) + 3.0,
            escape(&crate::axis::tick_label(v)),
            w - right,
            y(v),
            y(v)
        );
    }
    // the band, the baseline and the thresholds follow the versions' sizes: one path per run
    // of consecutive versions that have them (a lone version gets a short mark)
    let half = 8.0;
    for run in runs(&points.iter().map(|p| p.band).collect::<Vec<_>>()) {
        let upper = run.iter().map(|(i, b)| (x(*i), y(b.1)));
        let lower = run.iter().rev().map(|(i, b)| (x(*i), y(b.0)));
        let mut outline: Vec<(f64, f64)> = upper.chain(lower).collect();
        if run.len() == 1 {
            let (i, b) = run[0];
            outline = vec![
                (x(i) - half, y(b.1)),
                (x(i) + half, y(b.1)),
                (x(i) + half, y(b.0)),
                (x(i) - half, y(b.0)),
            ];
        }
        let d: Vec<String> = outline.iter().map(|(px, py)| format!("{px:.1},{py:.1}")).collect();
        let _ = write!(
            svg,
            "<path class=baseline-band d=\"M{}Z\" fill=#2456c7 fill-opacity=0.12 stroke=none><title>{}</title></path>",
            d.join(" L"),
            escape(&trend.band_label)
        );
    }
    let dashed = |svg: &mut String, class: &str, color: &str, dash: &str, at: &[Option<f64>], title: &str| {
        for run in runs(at) {
            let coords: Vec<(f64, f64)> = if run.len() == 1 {
                let (i, v) = run[0];
                vec![(x(i) - half, y(v)), (x(i) + half, y(v))]
            } else {
                run.iter().map(|(i, v)| (x(*i), y(*v))).collect()
            };
            let d: Vec<String> = coords.iter().map(|(px, py)| format!("{px:.1},{py:.1}")).collect();
            let _ = write!(
                svg,
                "<polyline class={class} fill=none stroke={color} stroke-dasharray=\"{dash}\" points=\"{}\"><title>{}</title></polyline>",
                d.join(" "),
                escape(title)
            );
        }
    };
    let baselines: Vec<Option<f64>> = points.iter().map(|p| p.baseline).collect();
    dashed(&mut svg, "baseline-value", "#2456c7", "5 4", &baselines, "baseline at each version's size");
    for t in thresholds {
        dashed(&mut svg, "threshold", "#a11d16", "2 3", &t.values, &format!("rule {}", t.label));
    }
    let path: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
        .collect();
    if path.len() > 1 {
        let _ =
            write!(svg, "<polyline fill=none stroke=#1d2330 stroke-width=2 points=\"{}\" />", path.join(" "));
    }
    for (i, (point, value)) in points.iter().zip(&values).enumerate() {
        let (version, alerted) = (point.version, point.alerted);
        if let Some(v) = value {
            let band = point.band.map(|(l, h)| format!(" data-band=\"{l} {h}\"")).unwrap_or_default();
            let _ = write!(
                svg,
                "<circle class=\"point{}\" data-version=\"{}\" data-value=\"{v}\"{band} cx={:.1} cy={:.1} r={} fill={}><title>{} = {} ({} docs){}</title></circle>",
                if alerted { " alert-marker" } else { "" },
                escape(version),
                x(i),
                y(*v),
                if alerted { 6.0 } else { 3.5 },
                if alerted { "#d62d20" } else { "#1d2330" },
                escape(version),
                escape(&fmt(Some(*v))),
                point.n_docs,
                if alerted { " · alert" } else { "" }
            );
        }
        let label: String = version.chars().take(18).collect();
        let _ = write!(
            svg,
            "<text x={:.1} y={} font-size=10 text-anchor=middle fill=#4b5360>{}</text>",
            x(i),
            h - bottom + 14.0,
            escape(&label)
        );
    }
    svg.push_str("</svg>");
    svg.push_str(&legend(trend));
    svg.push_str("</div>");
    svg
}

/// The legend under a chart: what each mark is.
fn legend(trend: &Trend) -> String {
    let mut items = vec![
        "<span class=legend-value><svg width=18 height=10><line x1=0 y1=5 x2=18 y2=5 stroke=#1d2330 stroke-width=2 /></svg>value of each version</span>".to_string(),
    ];
    if trend.points.iter().any(|p| p.band.is_some()) {
        items.push(format!(
            "<span class=legend-band><svg width=18 height=10><rect width=18 height=10 fill=#2456c7 fill-opacity=0.12 /></svg>{}</span>",
            escape(&trend.band_label)
        ));
    }
    if trend.points.iter().any(|p| p.baseline.is_some()) {
        items.push("<span class=legend-baseline><svg width=18 height=10><line x1=0 y1=5 x2=18 y2=5 stroke=#2456c7 stroke-dasharray=\"5 4\" /></svg>baseline at each version's size</span>".to_string());
    }
    for t in &trend.thresholds {
        items.push(format!(
            "<span class=legend-threshold><svg width=18 height=10><line x1=0 y1=5 x2=18 y2=5 stroke=#a11d16 stroke-dasharray=\"2 3\" /></svg>rule {}</span>",
            escape(&t.label)
        ));
    }
    if trend.points.iter().any(|p| p.alerted) {
        items.push("<span class=legend-alert><svg width=12 height=12><circle cx=6 cy=6 r=5 fill=#d62d20 /></svg>breached a rule (alert)</span>".to_string());
    }
    format!("<div class=legend>{}</div>", items.join(" "))
}

/// The maximal runs of consecutive indices whose value is present, with the values.
fn runs<T: Copy>(values: &[Option<T>]) -> Vec<Vec<(usize, T)>> {
    let mut out: Vec<Vec<(usize, T)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((i, *v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(version: &str, value: Option<f64>, alerted: bool) -> TrendPoint<'_> {
        TrendPoint { version, value, n_docs: 10, alerted, baseline: Some(0.5), band: Some((0.47, 0.52)) }
    }

    #[test]
    fn draws_band_baseline_thresholds_alerts_and_a_legend() {
        let mut lone = point("v4", Some(0.49), false);
        lone.band = None;
        let trend = Trend {
            metric: "distinct_2",
            title: "↓ distinct_2".into(),
            points: vec![
                point("v1", Some(0.5), false),
                point("v2<b>", Some(0.42), true),
                point("v3", None, false),
                lone,
                point("v5", Some(0.51), false),
            ],
            band_label: "baseline ± 3σ at each version's size (5 chunks)".into(),
            thresholds: vec![ThresholdLine {
                label: "floor <x>".into(),
                values: vec![Some(0.45), Some(0.44), None, None, Some(0.46)],
            }],
        };
        let svg = trend_chart(&trend);
        // bands: v1-v3 (v3 has a band, no value), then v5 alone; v4 has none
        assert_eq!(svg.matches("class=baseline-band").count(), 2);
        assert!(svg.contains("baseline ± 3σ at each version&#39;s size (5 chunks)"), "{svg}");
        assert_eq!(svg.matches("class=baseline-value").count(), 1);
        assert_eq!(svg.matches("class=threshold").count(), 2);
        assert!(svg.contains("rule floor &lt;x&gt;"));
        assert_eq!(svg.matches("alert-marker").count(), 1);
        assert!(svg.contains("data-version=\"v2&lt;b&gt;\""), "versions are escaped");
        assert!(svg.contains("data-value=\"0.5\" data-band=\"0.47 0.52\""));
        assert!(!svg.contains("<b>") && !svg.contains("<x>"));
        // four points with values: one line between them; the undefined one has a label only
        assert_eq!(svg.matches("<circle").count(), 4 + 1, "and the legend's alert dot");
        assert_eq!(svg.matches("class=legend-").count(), 5);
    }

    #[test]
    fn runs_split_at_gaps() {
        assert_eq!(runs(&[Some(1), None, Some(2), Some(3)]), vec![vec![(0, 1)], vec![(2, 2), (3, 3)]]);
        assert!(runs::<u8>(&[None, None]).is_empty());
    }

    #[test]
    fn an_empty_trend_says_so() {
        let trend = Trend {
            metric: "rep_4",
            title: "rep_4".into(),
            points: vec![],
            band_label: String::new(),
            thresholds: vec![],
        };
        assert!(trend_chart(&trend).contains("no values yet"));
        assert_eq!(format_short(None), "–");
        assert_eq!(format_short(Some(2e5)), "2.000e5");
        assert_eq!(format_short(Some(0.25)), "0.2500");
    }
}
