//! Server-rendered SVG charts (DESIGN §9): no script, readable without colour (values
//! written on the bars), with a title for assistive technology; every chart has the same
//! numbers in a table beside it on the page.

use crate::text::render::escape as esc;
use std::fmt::Write;

const WIDTH: u32 = 480;
const BAR: u32 = 22;
const GAP: u32 = 8;
const LABEL: u32 = 150;
/// Patterns of grey and blue that stay distinct when printed in black and white.
const FILLS: [&str; 4] = ["#1d4f91", "#5b8fd1", "#9bbbe6", "#d5e3f5"];

/// Horizontal bars, one per `(label, value)`.
pub fn bars(title: &str, rows: &[(String, u64)], unit: &str) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = rows.len() as u32 * (BAR + GAP) + GAP;
    let span = WIDTH - LABEL - 60;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = GAP + i as u32 * (BAR + GAP);
        let w = (*value as f64 / max as f64 * f64::from(span)).round() as u32;
        let _ = write!(
            s,
            r#"<text x="{lx}" y="{ty}" text-anchor="end" font-size="13">{l}</text><rect x="{LABEL}" y="{y}" width="{w}" height="{BAR}" fill="{fill}"><title>{l}: {value} {u}</title></rect><text x="{vx}" y="{ty}" font-size="13">{value}</text>"#,
            lx = LABEL - 6,
            ty = y + BAR - 6,
            l = esc(label),
            fill = FILLS[0],
            u = esc(unit),
            vx = LABEL + w + 6,
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal stacked bars: one bar per row label, one segment per series.
pub fn stacked(title: &str, rows: &[&str], series: &[String], values: &[Vec<u64>]) -> String {
    let max = values
        .iter()
        .map(|v| v.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let legend = 24;
    let height = rows.len() as u32 * (BAR + GAP) + GAP + legend;
    let span = WIDTH - LABEL - 60;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    for (k, name) in series.iter().enumerate() {
        let x = 10 + k as u32 * 110;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="4" width="14" height="14" fill="{f}"/><text x="{tx}" y="16" font-size="12">{n}</text>"#,
            f = FILLS[k % FILLS.len()],
            tx = x + 18,
            n = esc(name)
        );
    }
    for (i, (label, v)) in rows.iter().zip(values).enumerate() {
        let y = legend + GAP + i as u32 * (BAR + GAP);
        let _ = write!(
            s,
            r#"<text x="{lx}" y="{ty}" text-anchor="end" font-size="13">{l}</text>"#,
            lx = LABEL - 6,
            ty = y + BAR - 6,
            l = esc(label)
        );
        let mut x = LABEL;
        for (k, n) in v.iter().enumerate() {
            let w = (*n as f64 / max as f64 * f64::from(span)).round() as u32;
            if w > 0 {
                let _ = write!(
                    s,
                    r#"<rect x="{x}" y="{y}" width="{w}" height="{BAR}" fill="{f}"><title>{l}, {sname}: {n}</title></rect>"#,
                    f = FILLS[k % FILLS.len()],
                    l = esc(label),
                    sname = esc(series.get(k).map_or("", String::as_str)),
                );
            }
            x += w;
        }
        let _ = write!(
            s,
            r#"<text x="{vx}" y="{ty}" font-size="13">{total}</text>"#,
            vx = x + 6,
            ty = y + BAR - 6,
            total = v.iter().sum::<u64>()
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale_to_the_largest_value() {
        let svg = bars(
            "<script>",
            &[("a&b".into(), 10), ("c".into(), 5)],
            "ballots",
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;") && svg.contains("a&amp;b"));
        assert!(svg.contains(&format!(r#"width="{}""#, WIDTH - LABEL - 60)));
        assert!(svg.contains(&format!(r#"width="{}""#, (WIDTH - LABEL - 60) / 2)));
        let st = stacked("t", &["x"], &["l0".into(), "l1".into()], &[vec![1, 3]]);
        assert!(st.contains(">4</text>"), "the total is written: {st}");
    }
}
