//! SVG charts: lines with bands over generations (simulations) and labelled bars (scores).
use std::fmt::Write;

use crate::axis::{nice_ticks, tick_label};
use crate::{COLORS, escape, format_value};

const WIDTH: f64 = 500.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 34.0;

/// A line: one value per generation (`None` breaks it).
pub struct Curve<'a> {
    /// Its color.
    pub color: &'a str,
    /// Values by generation.
    pub values: Vec<Option<f64>>,
    /// Dashed (a closed form) or solid.
    pub dashed: bool,
    /// Its tooltip.
    pub label: String,
}

/// A shaded band between two lines.
pub struct Band<'a> {
    /// Its color.
    pub color: &'a str,
    /// Lower edge by generation.
    pub lower: Vec<Option<f64>>,
    /// Upper edge by generation.
    pub upper: Vec<Option<f64>>,
}

/// An SVG line chart over generations 0..=`generations`: bands first, then curves; a log y
/// axis when every value is positive and they span more than 50x.
pub fn generations_chart(curves: &[Curve], bands: &[Band], generations: usize) -> String {
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

/// A bar label: the last part of a path (the full name is the bar's tooltip), cut to 26
/// characters.
fn bar_label(name: &str) -> String {
    let short = name.rsplit(['/', '\\']).next().filter(|s| !s.is_empty()).unwrap_or(name);
    match short.char_indices().nth(26) {
        Some((end, _)) => format!("{}…", &short[..end]),
        None => short.to_string(),
    }
}

/// Where the bars start: 0, unless every value is positive and they lie within a fifth of the
/// largest, where bars from 0 would look alike; then a round value below the smallest.
fn bar_origin(values: &[f64]) -> f64 {
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if values.len() < 2 || lo <= 0.0 || hi - lo > 0.2 * hi || hi - lo < 1e-12 * hi {
        return 0.0;
    }
    let below = lo - 0.5 * (hi - lo);
    nice_ticks(below, hi).into_iter().take_while(|t| *t <= below + 1e-12 * hi).last().unwrap_or(0.0).max(0.0)
}

/// An SVG bar chart: one labelled bar per value; it scales to its card (a view box), labels are
/// file names, and when the values are close the bars start above 0 (said under the chart).
pub fn bars(values: &[Option<f64>], names: &[String]) -> String {
    let (bar_h, label_w, chart_w, value_w) = (18.0, 170.0, 250.0, 80.0);
    let w = label_w + chart_w + value_w;
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let origin = bar_origin(&present);
    let max = present.iter().fold(0.0f64, |a, b| a.max((b - origin).abs()));
    let note = if origin > 0.0 { 16.0 } else { 0.0 };
    let h = values.len() as f64 * (bar_h + 6.0) + 6.0 + note;
    let mut svg = format!(r#"<svg viewBox="0 0 {w} {h}" width="100%" role="img">"#);
    for (i, (v, name)) in values.iter().zip(names).enumerate() {
        let y = 6.0 + i as f64 * (bar_h + 6.0);
        let color = COLORS[i % COLORS.len()];
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="l"><title>{}</title>{}</text>"#,
            label_w - 8.0,
            y + bar_h - 5.0,
            escape(name),
            escape(&bar_label(name))
        );
        if let Some(v) = v {
            let width = if max > 0.0 { ((v - origin).abs() / max * chart_w).max(1.0) } else { 1.0 };
            let _ = write!(
                svg,
                r#"<rect x="{label_w}" y="{y}" width="{width:.1}" height="{bar_h}" fill="{color}"><title>{}</title></rect><text x="{:.1}" y="{}" class="v">{}</text>"#,
                escape(&format!("{name}: {v}")),
                label_w + width + 6.0,
                y + bar_h - 5.0,
                format_value(Some(*v))
            );
        } else {
            let _ = write!(svg, r#"<text x="{label_w}" y="{}" class="v">undefined</text>"#, y + bar_h - 5.0);
        }
    }
    if origin > 0.0 {
        let _ = write!(
            svg,
            r#"<text x="{label_w}" y="{}" class="l axis-origin">bars start at {} to show the differences</text>"#,
            h - 4.0,
            escape(&tick_label(origin))
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_values_get_bars_that_show_their_differences() {
        let origin = bar_origin(&[0.61, 0.63]);
        assert!(origin > 0.5 && origin < 0.61, "{origin}");
        let svg = bars(&[Some(0.61), Some(0.63)], &["a".into(), "b".into()]);
        assert!(svg.contains("bars start at"));
        assert_eq!(bar_origin(&[0.1, 0.9]), 0.0);
        assert_eq!(bar_origin(&[-0.61, 0.63]), 0.0);
        assert_eq!(bar_origin(&[0.5]), 0.0);
        assert_eq!(bar_label("/data/runs/gen_textgan.txt"), "gen_textgan.txt");
        assert_eq!(bar_label(&"x".repeat(40)).chars().count(), 27);
        let svg = bars(&[Some(1.0)], &["/long/path/to/file.txt".into()]);
        assert!(svg.contains("<title>/long/path/to/file.txt</title>file.txt"));
        assert!(svg.contains("viewBox") && svg.contains("width=\"100%\""));
    }
}
