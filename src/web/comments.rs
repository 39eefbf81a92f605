//! Comments: the consultation's article page (the text and its comments, with the
//! forms to comment, reply and answer), the comment threads of the amendment page, the
//! forms' targets, and the JSON read endpoint. The rules are in `service::comments`.

use super::auth::{CsrfToken, HasRole, SignedIn, Staff};
use super::conditional::{CachedPage, IfNoneMatch};
use super::csrf::Form;
use super::errors::{ApiError, AppError};
use super::{view, AppState, Ctx};
use crate::domain::ids::{AmendmentId, CommentId, ConsultationId};
use crate::domain::moderation::Rule;
use crate::domain::time::Timestamp;
use crate::service::comments::{self as svc, CommentKind, NewComment, Target};
use crate::service::consultation::{display_number, ConsultationError, Disclosure};
use crate::service::identity::SessionInfo;
use crate::service::moderation::Kind;
use crate::store::{self, comments::Comment};
use crate::text::UnitKind;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde::Serialize;

pub fn routes() -> Vec<Route> {
    routes![article_page, comment, answer]
}

pub fn api_routes() -> Vec<Route> {
    routes![api_comments]
}

pub(super) use super::view::comment::Draft;

/// An article of a consultation's current version, with its comments.
#[get("/consultations/<id>/articles/<wid>")]
async fn article_page(
    app: &State<AppState>,
    ctx: Ctx,
    csrf: Option<CsrfToken>,
    inm: IfNoneMatch,
    id: ConsultationId,
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
    id: ConsultationId,
    wid: &str,
    draft: Option<&Draft>,
) -> Result<String, AppError> {
    app.page(
        ctx,
        &view::comment::article(app, ctx, csrf, id, wid, draft)?,
    )
}

#[derive(FromForm)]
struct CommentForm<'r> {
    // Defaults, so that a truncated form gets the page's own message, not a 422.
    #[field(default = "")]
    token: &'r str,
    #[field(default = "")]
    unit: &'r str,
    // 0 (the form's default) is "no amendment", "no parent": ids start at 1.
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
    id: ConsultationId,
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
                            Target::Amendment(AmendmentId::new(amendment))
                        } else {
                            Target::Unit(&unit)
                        },
                        parent: (parent > 0).then(|| CommentId::new(parent)),
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
    id: ConsultationId,
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
    id: ConsultationId,
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
    id: ConsultationId,
    addr: super::ratelimit::ClientAddr,
    form: Form<CommentForm<'_>>,
) -> Result<Written, AppError> {
    write(app, ctx, csrf, staff.0, id, form, true, addr).await
}

/// The comments of the JSON API (docs/api.md), on an article or on an amendment. Fields
/// in alphabetical order, as the API has always written them.
#[derive(Serialize)]
struct ApiComments {
    #[serde(skip_serializing_if = "Option::is_none")]
    amendment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    article: Option<String>,
    bill: String,
    comments: Vec<ApiComment>,
    consultation: ConsultationId,
}

/// A comment; a top comment has its quote, version and replies too.
#[derive(Serialize)]
struct ApiComment {
    author: String,
    /// '' when hidden by moderation.
    body: String,
    created_at: Timestamp,
    disclosure: Disclosure,
    #[serde(skip_serializing_if = "Option::is_none")]
    earlier_version: Option<bool>,
    hidden: Option<ApiHidden>,
    id: CommentId,
    kind: CommentKind,
    level: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    quote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replies: Option<Vec<ApiComment>>,
    unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i32>,
}

/// Why a comment is hidden: the moderation's rule and public reason.
#[derive(Serialize)]
struct ApiHidden {
    reason: String,
    rule: Rule,
}

/// The comments on an article (`?article=WID`) or on an amendment (`?amendment=N`, its
/// number in the bill) of a consultation, threads oldest first (docs/api.md).
#[get("/consultations/<id>/comments?<article>&<amendment>")]
async fn api_comments(
    app: &State<AppState>,
    id: ConsultationId,
    article: Option<&str>,
    amendment: Option<i32>,
) -> Result<Json<ApiComments>, ApiError> {
    let article = article.map(str::to_string);
    super::run_blocking(app, move |app| {
        let nf = || ApiError::new(Status::NotFound, "not_found", "no such consultation");
        let mut conn = app.reader.store().conn()?;
        let c = store::consultations::by_id(&mut conn, id)?.ok_or_else(nf)?;
        let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or_else(nf)?;
        let (threads, subject) = match (article, amendment) {
            (Some(w), None) => {
                let (_, v) = crate::service::amendments::cached_version(
                    &app.reader,
                    &bill.slug,
                    c.version_id,
                )?;
                let threads =
                    svc::for_article_in(app.reader.store(), &c, &w, &v.markdown, &v.units)?;
                (threads, (None, Some(w)))
            }
            (None, Some(n)) => {
                let a = store::amendments::by_number(&mut conn, bill.id, n)?
                    .filter(|a| a.consultation_id == c.id)
                    .ok_or_else(|| {
                        ApiError::new(Status::NotFound, "not_found", "no such amendment")
                    })?;
                (
                    svc::for_amendment(app.reader.store(), &a)?,
                    (Some(display_number(&bill.slug, a.number)), None),
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
            let mut conn = app.reader.store().conn()?;
            crate::service::moderation::hidden_in(&mut conn, c.id)?
        };
        let one = |c: &Comment| {
            let h = hidden.get(&(Kind::Comment, c.id.get()));
            ApiComment {
                author: c.author_label.clone(),
                body: if h.is_some() {
                    String::new()
                } else {
                    c.body.clone()
                },
                created_at: c.created_at,
                disclosure: c.disclosure,
                earlier_version: None,
                hidden: h.map(|h| ApiHidden {
                    reason: h.reason.clone(),
                    rule: h.rule,
                }),
                id: c.id,
                kind: c.kind,
                level: c.author_level,
                quote: None,
                replies: None,
                unit: c.unit_wid.clone(),
                version: None,
            }
        };
        let comments = threads
            .iter()
            .map(|th| ApiComment {
                quote: Some(th.top.quote.clone()),
                version: Some(th.made_on),
                earlier_version: Some(th.earlier.is_some()),
                replies: Some(th.replies.iter().map(one).collect()),
                ..one(&th.top)
            })
            .collect();
        let (amendment, article) = subject;
        Ok(Json(ApiComments {
            amendment,
            article,
            bill: bill.slug,
            comments,
            consultation: c.id,
        }))
    })
    .await?
}
