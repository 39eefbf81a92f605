//! HTML fragments built in code because they are recursive or large: the table of
//! contents, a version's text and a comparison. All text is escaped or sanitized.

use super::i18n::Translations;
use crate::service::consultation::Activity;
use crate::service::reading::Comparison;
use crate::text::diff::{DiffOp, DiffTag, Status};
use crate::text::render::{diff_html, escape, escape_into, render_units, Links};
use crate::text::{Unit, UnitKind};
use std::collections::HashMap;
use std::fmt::Write;

pub struct PageLinks<'a> {
    pub slug: &'a str,
    pub tr: &'a Translations,
}

impl Links for PageLinks<'_> {
    fn article_href(&self, article: &Unit) -> String {
        format!("/bills/{}/articles/{}", self.slug, article.wid)
    }
    fn para_label(&self, n: usize) -> String {
        self.tr.fmt("para_label", &[("n", &n)])
    }
}

/// Nested lists of divisions and articles, linking to anchors of the text. With the
/// activity of the consultations on the version, each article that has amendments or
/// comments says how many, linking to its page in the consultation.
pub fn toc(units: &[Unit], activity: Option<&Activity>, tr: &Translations) -> String {
    let mut out = String::from("<ul>\n");
    let mut open: Vec<u8> = Vec::new();
    for u in units {
        match u.kind {
            UnitKind::Division => {
                while matches!(open.last(), Some(&d) if d >= u.depth) {
                    open.pop();
                    out.push_str("</ul></li>\n");
                }
                let _ = write!(out, "<li><a href=\"#{}\">", escape(&u.eid));
                escape_into(&mut out, u.heading.as_deref().unwrap_or(""));
                out.push_str("</a><ul>\n");
                open.push(u.depth);
            }
            UnitKind::Article => {
                let _ = write!(out, "<li><a href=\"#{}\">", escape(&u.eid));
                escape_into(&mut out, u.heading.as_deref().unwrap_or(""));
                out.push_str("</a>");
                if let Some((id, &(a, c))) =
                    activity.and_then(|act| Some((act.consultation?, act.by_article.get(&u.wid)?)))
                {
                    let _ = write!(
                        out,
                        " <a class=\"activity\" href=\"/consultations/{id}/articles/{}\">",
                        escape(&u.wid)
                    );
                    escape_into(&mut out, &tr.fmt("toc_activity", &[("a", &a), ("c", &c)]));
                    out.push_str("</a>");
                }
                out.push_str("</li>\n");
            }
            UnitKind::Paragraph => {}
        }
    }
    for _ in open {
        out.push_str("</ul></li>\n");
    }
    out.push_str("</ul>\n");
    out
}

/// The whole text of a version.
pub fn text(md: &str, units: &[Unit], links: &PageLinks<'_>) -> String {
    render_units(md, units, 0..units.len(), 2, links)
}

fn heading_level(depth: u8) -> u8 {
    (depth.max(1) + 1).clamp(2, 6)
}

fn status_badge(out: &mut String, status: Status, tr: &Translations) {
    if status != Status::Unchanged {
        let _ = write!(
            out,
            " <span class=\"badge {}\">{}</span>",
            status.as_str(),
            escape(tr.get(&format!("st_{}", status.as_str())))
        );
    }
}

/// Only the kept and deleted runs (old column) or kept and inserted runs (new column).
fn side(ops: &[DiffOp], keep: DiffTag) -> Vec<DiffOp> {
    ops.iter()
        .filter(|o| o.tag == DiffTag::Equal || o.tag == keep)
        .cloned()
        .collect()
}

/// The body of a comparison page, inline or in two columns, optionally only the
/// articles that changed. Returns the HTML and whether anything was shown.
pub fn comparison(
    c: &Comparison,
    columns: bool,
    changed_only: bool,
    tr: &Translations,
) -> (String, bool) {
    let (old, new) = (&c.from, &c.to);
    // Status of every division and article, to decide which paragraphs to show.
    let status_of: HashMap<&str, Status> = c
        .diff
        .changes
        .iter()
        .filter(|ch| ch.kind != UnitKind::Paragraph)
        .map(|ch| (ch.wid.as_str(), ch.status))
        .collect();
    let parent_status = |ch: &crate::text::diff::UnitChange| -> Option<Status> {
        let parent = match (ch.new, ch.old) {
            (Some(j), _) => new.units[j].parent.map(|p| new.units[p].wid.as_str()),
            (None, Some(i)) => old.units[i].parent.map(|p| old.units[p].wid.as_str()),
            _ => None,
        };
        parent.and_then(|w| status_of.get(w).copied())
    };

    let mut out = String::with_capacity(new.markdown.len() * 2);
    let mut shown = false;
    for ch in &c.diff.changes {
        let unit = match (ch.new, ch.old) {
            (Some(j), _) => &new.units[j],
            (None, Some(i)) => &old.units[i],
            _ => continue,
        };
        if changed_only && ch.status == Status::Unchanged {
            let keep = ch.kind == UnitKind::Paragraph
                && unit.parent.is_some()
                && matches!(parent_status(ch), Some(s) if s != Status::Unchanged);
            if !keep {
                continue;
            }
        }
        if ch.status != Status::Unchanged {
            shown = true;
        }
        // Unchanged text carries no operations: show it as it is.
        let kept;
        let ops: &[DiffOp] = if ch.ops.is_empty() {
            let md = if ch.new.is_some() {
                &new.markdown
            } else {
                &old.markdown
            };
            kept = [DiffOp {
                tag: DiffTag::Equal,
                text: crate::text::diff::own_text(md, unit).to_string(),
            }];
            &kept
        } else {
            &ch.ops
        };
        let id = match ch.new {
            Some(_) => format!(" id=\"{}\"", escape(&unit.eid)),
            None => String::new(),
        };
        match ch.kind {
            UnitKind::Division | UnitKind::Article => {
                let h = heading_level(unit.depth);
                let class = if ch.kind == UnitKind::Article {
                    "article-heading"
                } else {
                    "division"
                };
                if columns {
                    out.push_str("<div class=\"diff-row heading-row\">");
                }
                let _ = write!(
                    out,
                    "<h{h}{id} class=\"{class} st-{}\">",
                    ch.status.as_str()
                );
                out.push_str(&diff_html(ops));
                status_badge(&mut out, ch.status, tr);
                let _ = writeln!(out, "</h{h}>");
                if columns {
                    out.push_str("</div>\n");
                }
            }
            UnitKind::Paragraph => {
                if columns {
                    let _ = writeln!(
                        out,
                        "<div class=\"diff-row st-{}\"{id}><div class=\"old\">{}</div><div class=\"new\">{}</div></div>",
                        ch.status.as_str(),
                        diff_html(&side(ops, DiffTag::Delete)),
                        diff_html(&side(ops, DiffTag::Insert)),
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "<p class=\"para st-{}\"{id}>{}</p>",
                        ch.status.as_str(),
                        diff_html(ops)
                    );
                }
            }
        }
    }
    (out, shown)
}
