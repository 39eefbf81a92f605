//! Consolidation pages: staff publish the consolidated text of a consultation and move a
//! consultation to a newer version (rebase); authors accept a proposed rebase; anyone
//! reads "who wrote this" for a consolidated version. The rules are in
//! `service::consolidation`.

use super::auth::{HasRole, SignedIn, Staff};
use super::consultations::find_amendment;
use super::csrf::{Form, NoFields};
use super::errors::AppError;
use super::{AppState, Ctx};
use crate::service::consolidation as svc;
use crate::service::consultation::display_number;
use crate::store;
use crate::text::{render, UnitKind};
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub fn routes() -> Vec<Route> {
    routes![provenance, consolidate, rebase, accept_rebase]
}

#[derive(FromForm)]
struct RebaseForm<'r> {
    #[field(default = "")]
    version: &'r str,
}

/// Staff publish the consolidated text (a new version of the bill).
#[post("/consultations/<id>/consolidate", format = "form", data = "<_csrf>")]
async fn consolidate(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: i64,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    super::blocking(app, move |app| {
        let number = svc::consolidate(app.reader.store(), &staff.0, id)?;
        let mut conn = app.reader.store().conn()?;
        let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(AppError::not_found)?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or_else(AppError::not_found)?;
        Ok(Redirect::to(format!(
            "/bills/{}/versions/{number}/provenance",
            bill.slug
        )))
    })
    .await
}

/// Staff move a consultation to a newer version; pending amendments follow.
#[post("/consultations/<id>/rebase", format = "form", data = "<form>")]
async fn rebase(
    app: &State<AppState>,
    staff: HasRole<Staff>,
    id: i64,
    form: Form<RebaseForm<'_>>,
) -> Result<Redirect, AppError> {
    let version: i32 = form.version.trim().parse().unwrap_or(-1);
    super::blocking(app, move |app| {
        svc::rebase(app.reader.store(), &staff.0, id, version)?;
        Ok(Redirect::to(format!("/consultations/{id}")))
    })
    .await
}

/// The author accepts the rebase proposed for their amendment.
#[post(
    "/bills/<slug>/amendments/<number>/accept-rebase",
    format = "form",
    data = "<_csrf>"
)]
async fn accept_rebase(
    app: &State<AppState>,
    me: SignedIn,
    slug: &str,
    number: i32,
    _csrf: Form<NoFields>,
) -> Result<Redirect, AppError> {
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let (_, a) = find_amendment(app, &slug, number)?;
        if !svc::accept_rebase(app.reader.store(), &me.0, a.id)? {
            return Err(AppError::key(Status::Conflict, "err_no_rebase"));
        }
        Ok(Redirect::to(format!("/bills/{slug}/amendments/{number}")))
    })
    .await
}

/// "Who wrote this": the changed passages of a consolidated version, each changed span
/// marked and linked to the amendment (and revision) that wrote it.
#[get("/bills/<slug>/versions/<n>/provenance")]
async fn provenance(
    app: &State<AppState>,
    ctx: Ctx,
    slug: &str,
    n: i32,
) -> Result<RawHtml<String>, AppError> {
    let lang = ctx.lang;
    let slug = slug.to_string();
    super::blocking(app, move |app| {
        let t = lang.tr();
        let nf = || AppError::not_found();
        let mut conn = app.reader.store().conn()?;
        let bill = store::bills::by_slug(&mut conn, &slug)?.ok_or_else(nf)?;
        let v = store::versions::by_number(&mut conn, bill.id, n)?.ok_or_else(nf)?;
        let cons = store::consolidations::for_version(&mut conn, v.meta.id)?.ok_or_else(nf)?;
        let consultation =
            store::consultations::by_id(&mut conn, cons.consultation_id)?.ok_or_else(nf)?;
        let spans = store::consolidations::spans(&mut conn, v.meta.id)?;
        let units = store::units::for_version(&mut conn, v.meta.id)?;
        // The amendments, once each.
        let mut amendments: HashMap<i64, store::amendments::Amendment> = HashMap::new();
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
        let mut passages: Vec<(usize, usize)> = spans
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
        passages.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for p in passages {
            match merged.last_mut() {
                Some(last) if p.0 <= last.1 => last.1 = last.1.max(p.1),
                _ => merged.push(p),
            }
        }
        let link = |a: &store::amendments::Amendment, rev: i32, deleted: bool| -> String {
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
        let mut out_passages: Vec<Value> = Vec::new();
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
            out_passages.push(json!({"html": html}));
        }
        let mut contributors: Vec<&store::amendments::Amendment> = amendments.values().collect();
        contributors.sort_by_key(|a| a.number);
        let contributors: Vec<Value> = contributors
            .iter()
            .map(|a| {
                json!({
                    "number": display_number(&bill.slug, a.number),
                    "href": format!("/bills/{}/amendments/{}", bill.slug, a.number),
                    "author": a.author_label,
                    "spans": spans.iter().filter(|s| s.amendment_id == a.id).count(),
                })
            })
            .collect();
        let mut data = Map::new();
        data.insert(
            "bill".into(),
            json!({"slug": bill.slug, "title": bill.meta.title}),
        );
        data.insert("version".into(), json!(n));
        data.insert(
            "consultation".into(),
            json!({"id": consultation.id, "title": consultation.title}),
        );
        data.insert("passages".into(), json!(out_passages));
        data.insert("contributors".into(), json!(contributors));
        let title = t.fmt("provenance_title", &[("version", &n)]);
        app.render("provenance", &ctx, &title, data).map(RawHtml)
    })
    .await
}
