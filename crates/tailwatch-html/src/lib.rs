//! tailwatch-html: self-contained HTML (inline CSS and SVG, no network) for every front end:
//! escaping, axes and charts, and the pages of `score --html`, `compare --html`, `simulate --html`
//! and `demo`.
//! The watch server's dashboard escapes with [`escape`] and draws its trend charts with
//! [`trend::trend_chart`].
pub mod axis;
pub mod chart;
pub mod compare;
pub mod score;
pub mod simulation;
pub mod trend;

pub use tailwatch_metrics::report::format_value;

/// The series colors, in order.
pub const COLORS: &[&str] =
    &["#3b6ea8", "#d0782a", "#4c9a52", "#b04a5a", "#7b61a8", "#8a6d3b", "#2f8f9d", "#666666"];

/// `text` safe inside an element or a quoted attribute (`&`, `<`, `>`, `"` and `'`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_covers_elements_and_both_quotes() {
        assert_eq!(
            super::escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
