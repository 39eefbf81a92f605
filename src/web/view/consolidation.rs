//! "Who wrote this": the changed passages of a consolidated version, each changed span
//! marked and linked to the amendment (and revision) that wrote it. The rules are in
//! `service::consolidation`.

use super::{BillRef, Page};
use crate::domain::ids::{AmendmentId, ConsultationId};
use crate::service::consultation::display_number;
use crate::store;
use crate::store::amendments::Amendment;
use crate::text::{render, UnitKind};
use crate::web::errors::AppError;
use crate::web::i18n::Translations;
use crate::web::{App, Ctx};
use serde::Serialize;
use std::collections::HashMap;

/// `/bills/<slug>/versions/<n>/provenance`.
#[derive(Serialize)]
pub struct Provenance {
    bill: BillRef,
    /// The consolidated version's number.
    version: i32,
    /// The consultation it consolidates.
    consultation: ConsultationRef,
    passages: Vec<Passage>,
    contributors: Vec<Contributor>,
}

#[derive(Serialize)]
struct ConsultationRef {
    id: ConsultationId,
    title: String,
}

/// An article (or a span outside articles) holding changes.
#[derive(Serialize)]
struct Passage {
    /// Escaped text, with `<mark>`s and links to the amendments.
    html: String,
}

/// An amendment that wrote part of the text.
#[derive(Serialize)]
struct Contributor {
    number: String,
    href: String,
    author: String,
    /// How many spans it wrote.
    spans: usize,
}

impl Page for Provenance {
    const TEMPLATE: &'static str = "provenance";
    fn title(&self, t: &Translations) -> String {
        t.fmt("provenance_title", &[("version", &self.version)])
    }
}

pub fn provenance(app: &App, ctx: &Ctx, slug: &str, n: i32) -> Result<Provenance, AppError> {
    let t = ctx.lang.tr();
    let nf = AppError::not_found;
    let mut conn = app.reader.store().conn()?;
    let bill = store::bills::by_slug(&mut conn, slug)?.ok_or_else(nf)?;
    let v = store::versions::by_number(&mut conn, bill.id, n)?.ok_or_else(nf)?;
    let cons = store::consolidations::for_version(&mut conn, v.meta.id)?.ok_or_else(nf)?;
    let consultation =
        store::consultations::by_id(&mut conn, cons.consultation_id)?.ok_or_else(nf)?;
    let spans = store::consolidations::spans(&mut conn, v.meta.id)?;
    let units = store::units::for_version(&mut conn, v.meta.id)?;
    // The amendments, once each.
    let mut amendments: HashMap<AmendmentId, Amendment> = HashMap::new();
    for s in &spans {
        if !amendments.contains_key(&s.amendment_id) {
            if let Some(a) = store::amendments::by_id(&mut conn, s.amendment_id)? {
                amendments.insert(a.id, a);
            }
        }
    }
    drop(conn);
    let md = &v.markdown;
    let articles: Vec<&crate::text::Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Article)
        .collect();
    // Passages: the articles holding a span (or the span itself), merged.
    let mut holders: Vec<(usize, usize)> = spans
        .iter()
        .map(|s| {
            let (s0, s1) = (s.start_byte as usize, s.end_byte as usize);
            let holder = articles.iter().rev().find(|u| u.start <= s0 && s1 <= u.end);
            match holder {
                Some(u) => (u.start, u.end),
                None => (s0, s1),
            }
        })
        .collect();
    holders.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for p in holders {
        match merged.last_mut() {
            Some(last) if p.0 <= last.1 => last.1 = last.1.max(p.1),
            _ => merged.push(p),
        }
    }
    let link = |a: &Amendment, rev: i32, deleted: bool| -> String {
        let number = display_number(&bill.slug, a.number);
        let label = if deleted {
            t.fmt("prov_deleted", &[("number", &number), ("revision", &rev)])
        } else {
            t.fmt("prov_written", &[("number", &number), ("revision", &rev)])
        };
        format!(
            "<a class=\"prov-link\" href=\"/bills/{}/amendments/{}\">{}</a>",
            render::escape(&bill.slug),
            a.number,
            render::escape(&label)
        )
    };
    let mut passages = Vec::new();
    for (p0, p1) in merged {
        let mut html = String::new();
        let mut pos = p0;
        for s in spans
            .iter()
            .filter(|s| p0 <= s.start_byte as usize && s.end_byte as usize <= p1)
        {
            let (s0, s1) = (s.start_byte as usize, s.end_byte as usize);
            if s0 < pos {
                continue;
            }
            render::escape_into(&mut html, &md[pos..s0]);
            let Some(a) = amendments.get(&s.amendment_id) else {
                continue;
            };
            if s0 == s1 {
                html.push_str(&link(a, s.revision, true));
            } else {
                html.push_str("<mark>");
                render::escape_into(&mut html, &md[s0..s1]);
                html.push_str("</mark>");
                html.push_str(&link(a, s.revision, false));
            }
            pos = s1;
        }
        render::escape_into(&mut html, &md[pos..p1]);
        passages.push(Passage { html });
    }
    let mut contributors: Vec<&Amendment> = amendments.values().collect();
    contributors.sort_by_key(|a| a.number);
    let contributors = contributors
        .iter()
        .map(|a| Contributor {
            number: display_number(&bill.slug, a.number),
            href: format!("/bills/{}/amendments/{}", bill.slug, a.number),
            author: a.author_label.clone(),
            spans: spans.iter().filter(|s| s.amendment_id == a.id).count(),
        })
        .collect();
    Ok(Provenance {
        bill: BillRef::of(&bill),
        version: n,
        consultation: ConsultationRef {
            id: consultation.id,
            title: consultation.title,
        },
        passages,
        contributors,
    })
}
