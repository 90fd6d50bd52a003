//! The watch dashboard's trend chart: a metric over model versions, with the baseline band and
//! value, rule thresholds and alert markers.
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
    /// Whether an alert was opened on it.
    pub alerted: bool,
}

/// A metric over versions and what it is judged against.
pub struct Trend<'a> {
    /// The metric id.
    pub metric: &'a str,
    /// The heading (the metric id with its collapse arrow).
    pub title: String,
    /// The versions, in order.
    pub points: Vec<TrendPoint<'a>>,
    /// The baseline's value.
    pub baseline: Option<f64>,
    /// The baseline band (low, high) and the number of chunks it comes from.
    pub band: Option<(f64, f64, usize)>,
    /// Rule thresholds on this metric.
    pub thresholds: Vec<f64>,
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
    let band = trend.band;
    let thresholds = &trend.thresholds;
    let mut all: Vec<f64> = values.iter().flatten().copied().collect();
    all.extend(band.iter().flat_map(|b| [b.0, b.1]));
    all.extend(trend.baseline);
    all.extend(thresholds);
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
    let (data_lo, data_hi) = (lo, hi);
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
    let ticks = if data_hi - data_lo < 1e-12 {
        vec![data_lo]
    } else {
        vec![data_lo, (data_lo + data_hi) / 2.0, data_hi]
    };
    for v in ticks {
        let _ = write!(
            svg,
            "<text x=4 y={:.1} font-size=10 fill=#6b7280>{}</text>",
            y(v) + 3.0,
            escape(&fmt(Some(v)))
        );
    }
    if let Some((b0, b1, chunks)) = band {
        let _ = write!(
            svg,
            "<rect class=baseline-band x={left} y={:.1} width={} height={:.1} fill=#2456c7 fill-opacity=0.12><title>baseline mean ± 3σ of {} chunks</title></rect>",
            y(b1),
            w - left - right,
            (y(b0) - y(b1)).max(1.0),
            chunks
        );
    }
    if let Some(b) = trend.baseline {
        let _ = write!(
            svg,
            "<line class=baseline-value x1={left} x2={} y1={:.1} y2={:.1} stroke=#2456c7 stroke-dasharray=\"5 4\"><title>baseline {}</title></line>",
            w - right,
            y(b),
            y(b),
            escape(&fmt(Some(b)))
        );
    }
    for t in thresholds {
        let _ = write!(
            svg,
            "<line class=threshold x1={left} x2={} y1={:.1} y2={:.1} stroke=#a11d16 stroke-dasharray=\"2 3\"><title>rule threshold {}</title></line>",
            w - right,
            y(*t),
            y(*t),
            escape(&fmt(Some(*t)))
        );
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
            let _ = write!(
                svg,
                "<circle class=\"point{}\" data-version=\"{}\" cx={:.1} cy={:.1} r={} fill={}><title>{} = {} ({} docs){}</title></circle>",
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
        let label: String = version.chars().take(12).collect();
        let _ = write!(
            svg,
            "<text x={:.1} y={} font-size=10 text-anchor=middle fill=#4b5360>{}</text>",
            x(i),
            h - bottom + 14.0,
            escape(&label)
        );
    }
    svg.push_str("</svg></div>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(version: &str, value: Option<f64>, alerted: bool) -> TrendPoint<'_> {
        TrendPoint { version, value, n_docs: 10, alerted }
    }

    #[test]
    fn draws_band_baseline_thresholds_and_alerts() {
        let trend = Trend {
            metric: "distinct_2",
            title: "↓ distinct_2".into(),
            points: vec![
                point("v1", Some(0.5), false),
                point("v2<b>", Some(0.42), true),
                point("v3", None, false),
            ],
            baseline: Some(0.5),
            band: Some((0.47, 0.52, 5)),
            thresholds: vec![0.45],
        };
        let svg = trend_chart(&trend);
        assert!(svg.contains("baseline mean ± 3σ of 5 chunks"));
        assert!(svg.contains("class=baseline-value"));
        assert!(svg.contains("rule threshold 0.4500"));
        assert_eq!(svg.matches("alert-marker").count(), 1);
        assert!(svg.contains("data-version=\"v2&lt;b&gt;\""), "versions are escaped");
        assert!(!svg.contains("<b>"));
        // two points with values: one line between them; the undefined one has a label only
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("<polyline").count(), 1);
    }

    #[test]
    fn an_empty_trend_says_so() {
        let trend = Trend {
            metric: "rep_4",
            title: "rep_4".into(),
            points: vec![],
            baseline: None,
            band: None,
            thresholds: vec![],
        };
        assert!(trend_chart(&trend).contains("no values yet"));
        assert_eq!(format_short(None), "–");
        assert_eq!(format_short(Some(2e5)), "2.000e5");
        assert_eq!(format_short(Some(0.25)), "0.2500");
    }
}
