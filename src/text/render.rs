//! Sanitized HTML for bill text. Markdown goes through pulldown-cmark with raw HTML
//! turned into plain text, then through ammonia, so neither a bill nor a user can
//! inject markup; every unit gets an anchor so it can be linked to.

use super::diff::{DiffOp, DiffTag};
use super::units::{Unit, UnitKind};
use pulldown_cmark::{html, Event, Options, Parser};
use std::fmt::Write;
use std::sync::OnceLock;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text);
    out
}

pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.link_rel(Some("noopener noreferrer nofollow"));
        b
    })
}

/// One block of markdown as sanitized HTML.
pub fn markdown_block(text: &str) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        // Raw HTML is shown as text, never interpreted.
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        other => other,
    });
    let mut raw = String::with_capacity(text.len() + 16);
    html::push_html(&mut raw, parser);
    sanitizer().clean(&raw).to_string()
}

/// What the renderer needs from the page: where articles live, and accessible labels.
pub trait Links {
    fn article_href(&self, article: &Unit) -> String;
    /// Accessible name of the link to paragraph number `n` (1-based) of its parent.
    fn para_label(&self, n: usize) -> String;
}

fn heading_level(depth: u8, base: u8) -> u8 {
    (depth.max(1) + base - 1).clamp(1, 6)
}

/// Renders units `units[range]` of a version (headings with ids, paragraphs with ids and
/// a self-link). `base` is the HTML heading level given to depth-1 headings.
pub fn render_units(
    md: &str,
    units: &[Unit],
    range: std::ops::Range<usize>,
    base: u8,
    links: &dyn Links,
) -> String {
    let mut out = String::with_capacity(md.len() * 2);
    let mut para_n: Option<(Option<usize>, usize)> = None;
    for u in &units[range] {
        match u.kind {
            UnitKind::Division => {
                let h = heading_level(u.depth, base);
                let _ = write!(out, "<h{h} id=\"{}\" class=\"division\">", escape(&u.eid));
                escape_into(&mut out, u.heading.as_deref().unwrap_or(""));
                let _ = writeln!(out, "</h{h}>");
            }
            UnitKind::Article => {
                let h = heading_level(u.depth, base);
                let _ = write!(
                    out,
                    "<h{h} id=\"{}\" class=\"article-heading\"><a class=\"article-link\" href=\"{}\">",
                    escape(&u.eid),
                    escape(&links.article_href(u))
                );
                escape_into(&mut out, u.heading.as_deref().unwrap_or(""));
                let _ = writeln!(out, "</a></h{h}>");
            }
            UnitKind::Paragraph => {
                let n = match para_n {
                    Some((p, n)) if p == u.parent => n + 1,
                    _ => 1,
                };
                para_n = Some((u.parent, n));
                render_paragraph(&mut out, md, u, n, links);
            }
        }
    }
    out
}

pub fn render_paragraph(out: &mut String, md: &str, u: &Unit, n: usize, links: &dyn Links) {
    let eid = escape(&u.eid);
    let _ = write!(
        out,
        "<div class=\"para\" id=\"{eid}\"><a class=\"para-link\" href=\"#{eid}\" aria-label=\"{}\">¶</a>",
        escape(&links.para_label(n))
    );
    out.push_str(&markdown_block(u.text(md)));
    out.push_str("</div>\n");
}

/// A word diff as HTML: kept text plain, deletions in `<del>`, insertions in `<ins>`;
/// blank lines become paragraph breaks.
pub fn diff_html(ops: &[DiffOp]) -> String {
    let mut out = String::new();
    for op in ops {
        let (open, close) = match op.tag {
            DiffTag::Equal => ("", ""),
            DiffTag::Delete => ("<del>", "</del>"),
            DiffTag::Insert => ("<ins>", "</ins>"),
        };
        out.push_str(open);
        let mut first = true;
        for line in op.text.split('\n') {
            if !first {
                out.push_str("<br>");
            }
            first = false;
            escape_into(&mut out, line);
        }
        out.push_str(close);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse::parse;

    struct L;
    impl Links for L {
        fn article_href(&self, a: &Unit) -> String {
            format!("/a/{}", a.eid)
        }
        fn para_label(&self, n: usize) -> String {
            format!("alinéa {n}")
        }
    }

    #[test]
    fn raw_html_and_scripts_are_neutralised() {
        let html = markdown_block("<script>alert(1)</script> <b onclick=x>gras</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let html =
            markdown_block("Voir [le lien](javascript:alert(2)) et <img src=x onerror=alert(3)>.");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("le lien"), "{html}");
    }

    #[test]
    fn anchors_for_every_unit() {
        let md = "# Titre Ier\n\n########## Article 1er\n\nAlinéa *un*.\n\nAlinéa \"deux\".\n";
        let p = parse(md);
        let html = render_units(md, &p.units, 0..p.units.len(), 2, &L);
        assert!(html.contains("<h2 id=\"titre_ier\" class=\"division\">Titre Ier</h2>"));
        assert!(html.contains("<h6 id=\"art_1er\" class=\"article-heading\"><a class=\"article-link\" href=\"/a/art_1er\">Article 1er</a></h6>"));
        assert!(html.contains("id=\"art_1er__para_2\""));
        assert!(html.contains("aria-label=\"alinéa 2\""));
        assert!(html.contains("<em>un</em>"));
    }

    #[test]
    fn diff_markup() {
        let ops = crate::text::word_diff("trois mois", "six mois");
        assert_eq!(diff_html(&ops), "<del>trois</del><ins>six</ins> mois");
    }
}
