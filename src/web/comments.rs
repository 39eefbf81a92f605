//! Comments: the consultation's article page (the text and its comments, with the
//! forms to comment, reply and answer), the comment threads of the amendment page, the
//! forms' targets, and the JSON read endpoint. The rules are in `service::comments`.

use super::auth::{CsrfToken, HasRole, SignedIn, Staff};
use super::conditional::{CachedPage, IfNoneMatch};
use super::csrf::Form;
use super::errors::{ApiError, AppError};
use super::fragments::PageLinks;
use super::i18n::Lang;
use super::{AppState, Ctx};
use crate::service::comments::{self as svc, NewComment, Target, Thread};
use crate::service::consultation::{
    author_label, display_number, ConsultationError, Disclosure, Phase,
};
use crate::service::identity::SessionInfo;
use crate::service::moderation::Kind;
use crate::store::{self, comments::Comment, consultations::Consultation};
use crate::text::{render, UnitKind};
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub fn routes() -> Vec<Route> {
    routes![article_page, comment, answer]
}

pub fn api_routes() -> Vec<Route> {
    routes![api_comments]
}

fn shown_time(at: &str) -> String {
    at.replace('T', " ").trim_end_matches('Z').to_string()
}

fn token() -> Result<String, AppError> {
    crate::service::identity::random_token().map_err(|e| AppError::internal(e.to_string()))
}

fn comment_json(c: &Comment, view: &ModerationView) -> Value {
    let hidden = view
        .hidden
        .get(&(Kind::Comment, c.id))
        .map(|h| super::moderation::hidden_json(view.lang, h, view.signed_in, &c.body));
    json!({
        "hidden": hidden,
        "can_report": view.can_report && c.author_id != view.viewer_id,
        "id": c.id,
        "author": c.author_label,
        "pseudonymous": c.disclosure == Disclosure::Pseudonym,
        "level": c.author_level,
        "answer": c.kind == svc::CommentKind::Answer,
        "created_at": c.created_at,
        "created_at_shown": shown_time(&c.created_at),
        "body_html": if hidden.is_some() { String::new() } else { render::markdown_block(&c.body) },
    })
}

/// What moderation changes in how comments are shown to this viewer.
pub(super) struct ModerationView {
    lang: Lang,
    pub hidden: HashMap<(Kind, i64), crate::service::moderation::Hidden>,
    signed_in: bool,
    can_report: bool,
    viewer_id: i64,
}

impl ModerationView {
    pub(super) fn load(
        app: &super::App,
        ctx: &Ctx,
        csrf: Option<&CsrfToken>,
        consultation_id: i64,
    ) -> Result<Self, AppError> {
        let mut conn = app.reader.store().conn()?;
        let hidden = crate::service::moderation::hidden_in(&mut conn, consultation_id)?;
        Ok(ModerationView {
            lang: ctx.lang,
            hidden,
            signed_in: ctx.viewer.is_some(),
            can_report: ctx.viewer.is_some() && csrf.is_some(),
            viewer_id: ctx.viewer.as_ref().map_or(0, |v| v.account.id),
        })
    }
}

/// What the form of a new top comment targets.
pub(super) enum FormTarget<'a> {
    /// The article (and its paragraphs, given as their wids).
    Article {
        wid: &'a str,
        paragraphs: Vec<String>,
        /// A refused comment comes back: show its form, with what was typed, even to
        /// someone who may not comment now (below the level, voting opened).
        keep: bool,
    },
    Amendment(i64),
}

/// The data of the `comments` partial: the threads, and the forms the viewer may use.
#[allow(clippy::too_many_arguments)]
pub(super) fn comments_json(
    app: &super::App,
    ctx: &Ctx,
    csrf: Option<&CsrfToken>,
    c: &Consultation,
    bill_slug: &str,
    threads: &[Thread],
    target: FormTarget<'_>,
    view: &ModerationView,
) -> Result<Value, AppError> {
    let lang = ctx.lang;
    let t = lang.tr();
    let viewer = ctx.viewer.as_ref();
    let can_comment = viewer.is_some_and(|v| svc::may_comment(c, v)) && csrf.is_some();
    let can_answer = viewer.is_some_and(|v| svc::may_answer(c, v)) && csrf.is_some();
    let count: usize = threads.iter().map(|th| 1 + th.replies.len()).sum();
    let mut items = Vec::with_capacity(threads.len());
    for th in threads {
        let mut item = comment_json(&th.top, view);
        item["quote"] = json!(th.top.quote);
        item["paragraph"] = json!(th
            .paragraph
            .map(|n| t.fmt("comment_paragraph", &[("n", &n)])));
        item["earlier"] = json!(th
            .earlier
            .map(|n| t.fmt("on_earlier_version", &[("n", &n)])));
        item["replies"] = json!(th
            .replies
            .iter()
            .map(|r| comment_json(r, view))
            .collect::<Vec<_>>());
        item["reply_token"] = json!(if can_comment { Some(token()?) } else { None });
        item["answer_token"] = json!(if can_answer { Some(token()?) } else { None });
        items.push(item);
    }
    let mut data = json!({
        "consultation": c.id,
        "count": count,
        "threads": items,
        "csrf": csrf.map(|c| c.0.clone()),
        "form": null,
        "refusal": null,
        "signin_href": null,
        "answer_form": null,
        "reasons": super::moderation::reasons_json(lang),
    });
    let keep = matches!(target, FormTarget::Article { keep: true, .. }) && csrf.is_some();
    if let (true, Some(me)) = (can_comment || keep, viewer) {
        let mut form = json!({
            "token": token()?,
            "name_label": author_label(&app.pseudonym_key, me, bill_slug, Disclosure::Name),
            "pseudonym_label": author_label(&app.pseudonym_key, me, bill_slug, Disclosure::Pseudonym),
            "level": me.level().get(),
            "units": null,
            "amendment": null,
            "legend": null,
            "error": null,
            "error_href": null,
            "error_link": null,
            "quote": "",
            "body": "",
        });
        match &target {
            FormTarget::Article {
                wid, paragraphs, ..
            } => {
                let mut units = vec![
                    json!({"wid": wid, "name": t.get("comment_whole_article"), "selected": false}),
                ];
                units.extend(paragraphs.iter().enumerate().map(|(i, p)| {
                    json!({"wid": p, "name": t.fmt("comment_paragraph", &[("n", &(i + 1))]), "selected": false})
                }));
                form["units"] = json!(units);
                form["legend"] = json!(t.get("comment_new"));
            }
            FormTarget::Amendment(id) => {
                form["amendment"] = json!(id);
                form["legend"] = json!(t.get("comment_new_amendment"));
            }
        }
        data["form"] = form;
    } else if viewer.is_none() {
        if c.phase == Phase::Amendments {
            data["refusal"] = json!(t.get("comments_signin"));
            data["signin_href"] = json!(format!(
                "/signin?level={}&next={}",
                c.level_comment,
                super::url_encode(&ctx.path)
            ));
        }
    } else if c.phase != Phase::Amendments {
        data["refusal"] = json!(t.get("comments_closed"));
    } else if let Some(me) = viewer {
        data["refusal"] = json!(t.fmt(
            "comments_level",
            &[("level", &c.level_comment), ("got", &me.level().get())]
        ));
        data["signin_href"] = json!(format!(
            "/signin?level={}&next={}",
            c.level_comment,
            super::url_encode(&ctx.path)
        ));
    }
    if let (true, FormTarget::Amendment(id)) = (can_answer, &target) {
        data["answer_form"] = json!({"token": token()?, "amendment": id});
    }
    Ok(data)
}

/// What a refused comment form brings back: the reason and the input.
pub(super) struct Draft {
    pub error: String,
    /// A way forward after the message (signing in again at a higher level, appealing
    /// a suspension): (address, label).
    pub link: Option<(String, String)>,
    pub unit: String,
    pub quote: String,
    pub body: String,
    pub token: String,
}

/// An article of a consultation's current version, with its comments.
#[get("/consultations/<id>/articles/<wid>")]
async fn article_page(
    app: &State<AppState>,
    ctx: Ctx,
    csrf: Option<CsrfToken>,
    inm: IfNoneMatch,
    id: i64,
    wid: &str,
) -> Result<CachedPage, AppError> {
    let wid = wid.to_string();
    super::live::page(app, ctx, csrf, inm, move |app, ctx, csrf| {
        article_html(app, ctx, csrf, id, &wid, None)
    })
    .await
}

fn article_html(
    app: &super::App,
    ctx: &Ctx,
    csrf: Option<&CsrfToken>,
    id: i64,
    wid: &str,
    draft: Option<&Draft>,
) -> Result<String, AppError> {
    let lang = ctx.lang;
    let wid = wid.to_string();
    {
        let t = lang.tr();
        let nf = || AppError::not_found();
        let mut conn = app.reader.store().conn()?;
        let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(nf)?;
        let slug = store::bills::by_id(&mut conn, c.bill_id)?
            .ok_or_else(nf)?
            .slug;
        drop(conn);
        // The version's text and units from the reader's cache, never from the database
        // on each request (docs/performance.md, issue 4).
        let (bill, loaded) =
            crate::service::amendments::cached_version(&app.reader, &slug, c.version_id)?;
        let idx = loaded
            .unit_index(&wid)
            .filter(|&i| loaded.units[i].kind == UnitKind::Article)
            .ok_or_else(nf)?;
        let end = loaded.units[idx + 1..]
            .iter()
            .position(|u| u.kind != UnitKind::Paragraph || u.parent != Some(idx))
            .map_or(loaded.units.len(), |p| idx + 1 + p);
        let links = PageLinks {
            slug: &bill.slug,
            tr: t,
        };
        let text_html =
            render::render_units(&loaded.markdown, &loaded.units, idx + 1..end, 2, &links);
        let paragraphs: Vec<String> = loaded.units[idx + 1..end]
            .iter()
            .map(|u| u.wid.clone())
            .collect();
        let threads = svc::for_article_in(
            app.reader.store(),
            &c,
            &wid,
            &loaded.markdown,
            &loaded.units,
        )?;
        let heading = loaded.units[idx].heading.clone().unwrap_or_default();
        let mut comments = comments_json(
            app,
            ctx,
            csrf,
            &c,
            &bill.slug,
            &threads,
            FormTarget::Article {
                wid: &wid,
                paragraphs,
                keep: draft.is_some(),
            },
            &ModerationView::load(app, ctx, csrf, c.id)?,
        )?;
        if let (Some(d), Some(form)) = (draft, comments.get_mut("form")) {
            if form.is_object() {
                form["error"] = json!(d.error);
                if let Some((href, label)) = &d.link {
                    form["error_href"] = json!(href);
                    form["error_link"] = json!(label);
                }
                form["quote"] = json!(d.quote);
                form["body"] = json!(d.body);
                form["token"] = json!(d.token);
                if let Some(units) = form["units"].as_array_mut() {
                    for u in units {
                        u["selected"] = json!(u["wid"] == d.unit.as_str());
                    }
                }
            }
        }
        let mut data = Map::new();
        data.insert("consultation".into(), json!({"id": c.id, "title": c.title}));
        data.insert(
            "bill".into(),
            json!({"slug": bill.slug, "title": bill.meta.title, "language": bill.meta.language,
                   "version": loaded.meta.number}),
        );
        data.insert("wid".into(), json!(wid));
        data.insert("heading".into(), json!(heading));
        data.insert("text_html".into(), json!(text_html));
        data.insert(
            "amend_href".into(),
            json!((c.phase == Phase::Amendments)
                .then(|| format!("/consultations/{}/articles/{}/amend", c.id, wid))),
        );
        data.insert("comments".into(), comments);
        let title = t.fmt("article_comments_title", &[("heading", &heading)]);
        app.render("consultation_article", ctx, &title, data)
    }
}

#[derive(FromForm)]
struct CommentForm<'r> {
    // Defaults, so that a truncated form gets the page's own message, not a 422.
    #[field(default = "")]
    token: &'r str,
    #[field(default = "")]
    unit: &'r str,
    #[field(default = 0)]
    amendment: i64,
    #[field(default = 0)]
    parent: i64,
    #[field(default = "")]
    quote: &'r str,
    #[field(default = "")]
    body: &'r str,
    #[field(default = "name")]
    disclosure: &'r str,
}

/// Where a comment is shown: its article page or its amendment page, at the comment.
fn comment_href(app: &super::App, c: &Comment) -> Result<String, AppError> {
    let anchor = c.parent_id.unwrap_or(c.id);
    match c.amendment_id {
        None => Ok(format!(
            "/consultations/{}/articles/{}#comment-{anchor}",
            c.consultation_id, c.article_wid
        )),
        Some(a) => {
            let mut conn = app.reader.store().conn()?;
            let nf = || AppError::not_found();
            let a = store::amendments::by_id(&mut conn, a)?.ok_or_else(nf)?;
            let bill = store::bills::by_id(&mut conn, a.bill_id)?.ok_or_else(nf)?;
            Ok(format!(
                "/bills/{}/amendments/{}#comment-{anchor}",
                bill.slug, a.number
            ))
        }
    }
}

/// A redirect to the new comment, or, for a refused comment on the text, the article
/// page again with the reason next to the form and the input kept, with the refusal's
/// status (422 for bad input, 403, 409, 429 with `Retry-After`…).
type Written = Result<Redirect, Refused>;

pub(super) struct Refused {
    status: Status,
    html: String,
    retry_after: Option<i64>,
}

impl<'r> rocket::response::Responder<'r, 'static> for Refused {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let mut res = rocket::Response::build_from(RawHtml(self.html).respond_to(req)?);
        res.status(self.status);
        if let Some(secs) = self.retry_after {
            res.raw_header("Retry-After", secs.max(1).to_string());
        }
        res.ok()
    }
}

#[allow(clippy::too_many_arguments)]
async fn write(
    app: &State<AppState>,
    ctx: Ctx,
    csrf: CsrfToken,
    me: SessionInfo,
    id: i64,
    form: Form<CommentForm<'_>>,
    is_answer: bool,
    addr: super::ratelimit::ClientAddr,
) -> Result<Written, AppError> {
    let take = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let token = take(form.token, 65);
    let unit = take(form.unit, 64);
    let quote = take(form.quote, crate::domain::comment::MAX_QUOTE_BYTES * 2 + 1);
    let body = take(form.body, crate::domain::comment::MAX_BODY_BYTES + 1);
    let disclosure = Disclosure::parse(form.disclosure).unwrap_or(Disclosure::Name);
    let (amendment, parent) = (form.amendment, form.parent);
    super::blocking(app, move |app| {
        let made =
            super::ratelimit::check(app, super::ratelimit::Action::Post, me.account.id, &addr)
                .and_then(|()| {
                    let new = NewComment {
                        consultation_id: id,
                        target: if amendment > 0 {
                            Target::Amendment(amendment)
                        } else {
                            Target::Unit(&unit)
                        },
                        parent: (parent > 0).then_some(parent),
                        quote: &quote,
                        body: &body,
                        disclosure,
                        form_token: &token,
                    };
                    let store = app.reader.store();
                    let made = if is_answer {
                        svc::answer(store, &app.pseudonym_key, &me, &new)
                    } else {
                        svc::post(store, &app.pseudonym_key, &me, &new)
                    };
                    made.map_err(|e| match e {
                        // Bad input is the form's to fix: 422, its own message.
                        ConsultationError::Invalid { reason, .. } => {
                            AppError::key(Status::UnprocessableEntity, reason)
                        }
                        // Below the level: the way forward is signing in again at that level,
                        // back to this article.
                        ConsultationError::Level { needed, have } if amendment <= 0 => {
                            let article = store.conn().ok().and_then(|mut conn| {
                                article_of(&mut conn, id, &unit).ok().flatten()
                            });
                            let back = article.map(|a| format!("/consultations/{id}/articles/{a}"));
                            match back {
                                Some(back) => AppError::level(needed, have).step_up_from(&back),
                                None => AppError::level(needed, have),
                            }
                        }
                        e => AppError::from(e),
                    })
                });
        let refusal = match made {
            Ok(made) => return Ok(Ok(Redirect::to(comment_href(app, &made)?))),
            Err(e) => e,
        };
        // Only a comment on the text comes from the form the page shows again; other
        // refusals, and server errors, are the error page.
        if is_answer || amendment > 0 || parent > 0 || refusal.status.code >= 500 {
            return Err(refusal);
        }
        let article = {
            let mut conn = app.reader.store().conn()?;
            article_of(&mut conn, id, &unit)?
        };
        let Some(article) = article else {
            return Err(refusal);
        };
        let draft = Draft {
            error: refusal.message(ctx.lang),
            link: refusal.link(ctx.lang),
            unit: unit.clone(),
            quote: quote.clone(),
            body: body.clone(),
            token: token.clone(),
        };
        let html = article_html(app, &ctx, Some(&csrf), id, &article, Some(&draft))?;
        Ok(Err(Refused {
            status: refusal.status,
            html,
            retry_after: refusal.retry_after,
        }))
    })
    .await
}

/// The article a unit of a consultation's current version belongs to.
fn article_of(
    conn: &mut store::DbConnection,
    id: i64,
    unit: &str,
) -> Result<Option<String>, store::StoreError> {
    let Some(c) = store::consultations::by_id(conn, id)? else {
        return Ok(None);
    };
    let units = store::units::for_version(conn, c.version_id)?;
    Ok(units
        .iter()
        .find(|u| u.wid == unit)
        .and_then(|u| match u.kind {
            UnitKind::Article => Some(u.wid.clone()),
            UnitKind::Paragraph => u.parent.and_then(|p| units.get(p)).map(|a| a.wid.clone()),
            UnitKind::Division => None,
        }))
}

/// A person comments on a unit or an amendment, or replies to a comment.
#[post("/consultations/<id>/comments", format = "form", data = "<form>")]
async fn comment(
    app: &State<AppState>,
    ctx: Ctx,
    me: SignedIn,
    csrf: CsrfToken,
    id: i64,
    addr: super::ratelimit::ClientAddr,
    form: Form<CommentForm<'_>>,
) -> Result<Written, AppError> {
    write(app, ctx, csrf, me.0, id, form, false, addr).await
}

/// Staff answer a comment or an amendment publicly, as the institution.
#[post("/consultations/<id>/answers", format = "form", data = "<form>")]
async fn answer(
    app: &State<AppState>,
    ctx: Ctx,
    staff: HasRole<Staff>,
    csrf: CsrfToken,
    id: i64,
    addr: super::ratelimit::ClientAddr,
    form: Form<CommentForm<'_>>,
) -> Result<Written, AppError> {
    write(app, ctx, csrf, staff.0, id, form, true, addr).await
}

/// The comments on an article (`?article=WID`) or on an amendment (`?amendment=N`, its
/// number in the bill) of a consultation, threads oldest first (docs/api.md).
#[get("/consultations/<id>/comments?<article>&<amendment>")]
async fn api_comments(
    app: &State<AppState>,
    id: i64,
    article: Option<&str>,
    amendment: Option<i32>,
) -> Result<Json<Value>, ApiError> {
    let article = article.map(str::to_string);
    super::run_blocking(app, move |app| {
        let nf = || ApiError::new(Status::NotFound, "not_found", "no such consultation");
        let store_err = |e: store::StoreError| {
            ApiError::new(Status::InternalServerError, "internal", e.to_string())
        };
        let svc_err = |e: crate::service::consultation::ConsultationError| match e {
            crate::service::consultation::ConsultationError::NotFound => nf(),
            e => ApiError::new(Status::InternalServerError, "internal", e.to_string()),
        };
        let mut conn = app.reader.store().conn().map_err(store_err)?;
        let c = store::consultations::by_id(&mut conn, id)
            .map_err(store_err)?
            .ok_or_else(nf)?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)
            .map_err(store_err)?
            .ok_or_else(nf)?;
        let (threads, subject) = match (article, amendment) {
            (Some(w), None) => {
                let (_, v) = crate::service::amendments::cached_version(
                    &app.reader,
                    &bill.slug,
                    c.version_id,
                )
                .map_err(svc_err)?;
                (
                    svc::for_article_in(app.reader.store(), &c, &w, &v.markdown, &v.units)
                        .map_err(svc_err)?,
                    json!({"article": w}),
                )
            }
            (None, Some(n)) => {
                let a = store::amendments::by_number(&mut conn, bill.id, n)
                    .map_err(store_err)?
                    .filter(|a| a.consultation_id == c.id)
                    .ok_or_else(|| {
                        ApiError::new(Status::NotFound, "not_found", "no such amendment")
                    })?;
                (
                    svc::for_amendment(app.reader.store(), &a).map_err(svc_err)?,
                    json!({"amendment": display_number(&bill.slug, a.number)}),
                )
            }
            _ => {
                return Err(ApiError::new(
                    Status::BadRequest,
                    "bad_request",
                    "give either article=WID or amendment=NUMBER",
                ))
            }
        };
        // Hidden comments are published without their text, with the moderation's
        // rule and public reason instead.
        let hidden = {
            let mut conn = app.reader.store().conn().map_err(store_err)?;
            crate::service::moderation::hidden_in(&mut conn, c.id).map_err(store_err)?
        };
        let one = |c: &Comment| {
            let h = hidden.get(&(Kind::Comment, c.id));
            json!({
                "id": c.id,
                "unit": c.unit_wid,
                "kind": c.kind,
                "author": c.author_label,
                "disclosure": c.disclosure,
                "level": c.author_level,
                "body": if h.is_some() { "" } else { c.body.as_str() },
                "hidden": h.map(|h| json!({"rule": h.rule, "reason": h.reason})),
                "created_at": c.created_at,
            })
        };
        let list: Vec<Value> = threads
            .iter()
            .map(|th| {
                let mut v = one(&th.top);
                v["quote"] = json!(th.top.quote);
                v["version"] = json!(th.made_on);
                v["earlier_version"] = json!(th.earlier.is_some());
                v["replies"] = json!(th.replies.iter().map(one).collect::<Vec<_>>());
                v
            })
            .collect();
        let mut out = json!({"consultation": c.id, "bill": bill.slug, "comments": list});
        if let (Some(o), Some(s)) = (out.as_object_mut(), subject.as_object()) {
            o.extend(s.clone());
        }
        Ok(Json(out))
    })
    .await
    .map_err(|_| ApiError::new(Status::InternalServerError, "internal", "worker failed"))?
}
