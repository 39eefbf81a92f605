//! Consolidation pages: staff publish the consolidated text of a consultation and move a
//! consultation to a newer version (rebase); authors accept a proposed rebase; anyone
//! reads "who wrote this" for a consolidated version. The rules are in
//! `service::consolidation`.

use super::auth::{self, CsrfToken, HasRole, SignedIn, Staff};
use super::consultations::{find_amendment, service_error};
use super::errors::AppError;
use super::{AppState, Ctx};
use crate::service::consolidation as svc;
use crate::service::consultation::display_number;
use crate::store;
use crate::text::{render, UnitKind};
use rocket::form::{Form, FromForm};
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
    csrf: &'r str,
    #[field(default = "")]
    version: &'r str,
}

/// Staff publish the consolidated text (a new version of the bill).
#[post("/consultations/<id>/consolidate", data = "<form>")]
async fn consolidate(
    app: &State<AppState>,
    ctx: Ctx,
    staff: HasRole<Staff>,
    csrf: CsrfToken,
    id: i64,
    form: Form<auth::CsrfForm<'_>>,
) -> Result<Redirect, AppError> {
    let lang = ctx.lang;
    auth::check_form(lang, &csrf, form.csrf)?;
    super::blocking(app, lang, move |app| {
        let number = svc::consolidate(app.reader.store(), &staff.0, id)
            .map_err(|e| service_error(lang, e))?;
        let mut conn = app.reader.store().conn().map_err(AppError::store(lang))?;
        let c = store::consultations::by_id(&mut conn, id)
            .map_err(AppError::store(lang))?
            .ok_or_else(|| AppError::not_found(lang, lang.tr().get("err_not_found").into()))?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)
            .map_err(AppError::store(lang))?
            .ok_or_else(|| AppError::not_found(lang, lang.tr().get("err_not_found").into()))?;
        Ok(Redirect::to(format!(
            "/bills/{}/versions/{number}/provenance",
            bill.slug
        )))
    })
    .await
}

/// Staff move a consultation to a newer version; pending amendments follow.
#[post("/consultations/<id>/rebase", data = "<form>")]
async fn rebase(
    app: &State<AppState>,
    ctx: Ctx,
    staff: HasRole<Staff>,
    csrf: CsrfToken,
    id: i64,
    form: Form<RebaseForm<'_>>,
) -> Result<Redirect, AppError> {
    let lang = ctx.lang;
    auth::check_form(lang, &csrf, form.csrf)?;
    let version: i32 = form.version.trim().parse().unwrap_or(-1);
    super::blocking(app, lang, move |app| {
        svc::rebase(app.reader.store(), &staff.0, id, version)
            .map_err(|e| service_error(lang, e))?;
        Ok(Redirect::to(format!("/consultations/{id}")))
    })
    .await
}

/// The author accepts the rebase proposed for their amendment.
#[post("/bills/<slug>/amendments/<number>/accept-rebase", data = "<form>")]
async fn accept_rebase(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    slug: &str,
    number: i32,
    form: Form<auth::CsrfForm<'_>>,
) -> Result<Redirect, AppError> {
    let lang = ctx.lang;
    auth::check_form(lang, &csrf, form.csrf)?;
    let slug = slug.to_string();
    super::blocking(app, lang, move |app| {
        let (_, a) = find_amendment(app, lang, &slug, number)?;
        if !svc::accept_rebase(app.reader.store(), &me.0, a.id)
            .map_err(|e| service_error(lang, e))?
        {
            return Err(AppError::new(
                Status::Conflict,
                lang,
                lang.tr().get("err_no_rebase").into(),
            ));
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
    super::blocking(app, lang, move |app| {
        let t = lang.tr();
        let nf = || AppError::not_found(lang, t.get("err_not_found").into());
        let mut conn = app.reader.store().conn().map_err(AppError::store(lang))?;
        let bill = store::bills::by_slug(&mut conn, &slug)
            .map_err(AppError::store(lang))?
            .ok_or_else(nf)?;
        let v = store::versions::by_number(&mut conn, bill.id, n)
            .map_err(AppError::store(lang))?
            .ok_or_else(nf)?;
        let cons = store::consolidations::for_version(&mut conn, v.meta.id)
            .map_err(AppError::store(lang))?
            .ok_or_else(nf)?;
        let consultation = store::consultations::by_id(&mut conn, cons.consultation_id)
            .map_err(AppError::store(lang))?
            .ok_or_else(nf)?;
        let spans =
            store::consolidations::spans(&mut conn, v.meta.id).map_err(AppError::store(lang))?;
        let units =
            store::units::for_version(&mut conn, v.meta.id).map_err(AppError::store(lang))?;
        // The amendments, once each.
        let mut amendments: HashMap<i64, store::amendments::Amendment> = HashMap::new();
        for s in &spans {
            if !amendments.contains_key(&s.amendment_id) {
                if let Some(a) = store::amendments::by_id(&mut conn, s.amendment_id)
                    .map_err(AppError::store(lang))?
                {
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
